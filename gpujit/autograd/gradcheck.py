"""gradcheck / gradgradcheck: analytical gradients against central finite differences (in
float64), as torch.autograd.gradcheck. A complex input or output counts as its real and
imaginary parts (the real Jacobian: both Wirtinger derivatives checked, as torch's): a
complex input is nudged by eps and by eps j, a complex output's vector-Jacobian products
are taken with cotangents 1 and 1j (PyTorch's gradient dL/dx + i dL/dy of L = Re(conj(v)
out) gives the real part's and the imaginary part's rows)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import grad_mode
from .engine import grad as _grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _outputs(fn, inputs):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and (o.is_floating_point() or
                                                          o.is_complex())]


def _real_parts(a):
    """An array's values as float64, a complex one's as (real, imaginary) pairs."""
    a = np.asarray(a)
    if a.dtype.kind == "c":
        return np.stack([a.real, a.imag], -1).astype(np.float64).ravel()
    return np.array(a, np.float64).ravel()


def _units(a):
    """The nudges of one element: 1, and 1j for a complex array."""
    return (1, 1j) if a.dtype.kind == "c" else (1,)


def _numerical(fn, inputs, i, out_index, eps):
    """d(output out_index)/d(inputs[i]) by central differences: (numel_in, numel_out).
    Elements are nudged through their multi-index (a reshape of a non-contiguous input
    would copy), and outputs are copied (a view op's output shares the input's memory)."""
    a = inputs[i]._data
    cols = []
    with grad_mode.no_grad():
        for k in range(a.size):
            pos = np.unravel_index(k, a.shape)
            orig = a[pos].item()
            for unit in _units(a):
                a[pos] = orig + eps * unit
                plus = _real_parts(_host(_outputs(fn, inputs)[out_index]))
                a[pos] = orig - eps * unit
                minus = _real_parts(_host(_outputs(fn, inputs)[out_index]))
                a[pos] = orig
                cols.append((plus - minus) / (2 * eps))
    if cols:
        return np.stack(cols)
    return np.zeros((0, _real_parts(_host(_outputs(fn, inputs)[out_index])).size))


def _host(t):
    a = t._data
    return a.get() if hasattr(a, "get") else a


def _analytical(fn, inputs, diff, out, n_out):
    """Rows of the Jacobian of one output by vector-Jacobian products with unit vectors."""
    from .. import zeros_like
    jac = {i: np.zeros((inputs[i]._data.size * len(_units(inputs[i]._data)), n_out))
           for i in diff}
    units = _units(out._data)
    for k in range(n_out):
        g = zeros_like(out)
        # (g has out's layout: no reshape)
        g._data[np.unravel_index(k // len(units), g._data.shape)] = units[k % len(units)]
        grads = _grad([out], [inputs[i] for i in diff], [g], retain_graph=True,
                      allow_unused=True)
        for i, gi in zip(diff, grads):
            if gi is not None:
                jac[i][:, k] = _real_parts(_host(gi))
    return jac


def _forward(fn, inputs, diff, oi, n_out):
    """The Jacobian of output oi by forward-mode AD (forward_ad): one unit tangent per
    element of each differentiated input; {input: (numel_in, n_out)}."""
    from .. import zeros_like
    from . import forward_ad as fw
    jac = {i: np.zeros((inputs[i]._data.size * len(_units(inputs[i]._data)), n_out))
           for i in diff}
    for i in diff:
        x = inputs[i]
        units = _units(x._data)
        for k in range(x._data.size * len(units)):
            t = zeros_like(x)
            t._data[np.unravel_index(k // len(units), t._data.shape)] = units[k % len(units)]
            with fw.dual_level():
                args = list(inputs)
                args[i] = fw.make_dual(x.detach(), t)
                out = _outputs(fn, args)[oi]
                tangent = fw.unpack_dual(out).tangent
            if tangent is not None:
                jac[i][k] = _real_parts(_host(tangent))
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False,
              check_forward_ad=False, check_backward_ad=True, **kwargs):
    """True when the gradients autograd computes for func at inputs (reverse mode, and
    forward mode with check_forward_ad) match finite differences; else raises
    GradcheckError (or returns False)."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in diff:
        if inputs[i].dtype.name not in ("float64", "complex128"):
            import warnings
            warnings.warn(f"input {i} is not float64: gradcheck's finite differences are "
                          f"only reliable in double precision")
    outs = _outputs(func, inputs)
    for oi, out in enumerate(outs):
        if not out.requires_grad:
            continue
        n_out = out._data.size * len(_units(out._data))
        modes = []
        if check_backward_ad:
            modes.append(("", _analytical(func, inputs, diff, out, n_out)))
        if check_forward_ad:
            modes.append(("computed with forward mode ",
                          _forward(func, inputs, diff, oi, n_out)))
        for i in diff:
            num = _numerical(func, inputs, i, oi, eps)
            for mode, ana in modes:
                a = ana[i]
                if num.shape != a.shape or not np.allclose(a, num, rtol=rtol, atol=atol):
                    msg = (f"Jacobian {mode}mismatch for output {oi} with respect to input "
                           f"{i},\nnumerical:{num}\nanalytical:{a}\n")
                    if raise_exception:
                        raise GradcheckError(msg)
                    return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **kwargs):
    """gradcheck of the gradient itself (double backward, create_graph=True)."""
    from .. import randn
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = [randn(tuple(o.shape), dtype=o.dtype, device=o.device).requires_grad_()
                        for o in outs]
    grad_outputs = list(grad_outputs)
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    n_in = len(inputs)

    def first_grads(*args):
        # gradcheck's finite differences run under no_grad; the first gradient must be
        # recorded to be differentiated again
        with grad_mode.enable_grad():
            xs, gos = args[:n_in], args[n_in:]
            o = _outputs(func, xs)
            d = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            gs = _grad(o, d, list(gos), create_graph=True, allow_unused=True)
            return tuple(g for g in gs if g is not None)

    del diff
    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
