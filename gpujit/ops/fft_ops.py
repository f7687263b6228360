"""torch.fft's transforms: c2c (fft, ifft and their 2-D / n-D forms: a real or complex
input, a complex result), r2c (rfft*, ihfft*: a real input, the non-negative frequencies,
complex) and c2r (irfft*, hfft*: a complex or real input, a real result; a real input is a
complex one with zero imaginary part). The eager bodies are NumPy's / CuPy's `xp.fft`
(pocketfft, in the input's precision: complex64 / float32 stay single), laid out as
PyTorch's results (`_layout`); hfft* is irfft* of the conjugate with the normalization
swapped, ihfft* the conjugate of rfft* likewise. Integer inputs transform in the default
dtype; float16 is PyTorch's CPU error.

The c2r transforms of a real input are real-linear, so their derivative is the adjoint map
(`aten::_gpujit_irfftn_backward`: an rfft along the last transformed dim, the Hermitian
weights, an unnormalized FFT along the others, the real part, the normalization, and the
crop / zero-pad back to the input's sizes), whose own derivative is irfftn again. Of a
complex input, and of the c2c and r2c transforms, the derivatives are PyTorch's
fft_c2r / fft_c2c / fft_r2c backward (complex gradients: ops/complex_autograd.py).
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta, int_list, wrap_dim
from .registry import derivative as _derivative, op

_TAGS = ("no_fuse",)
_KW = dict(tags=_TAGS, method=False, function=False)
_SWAP = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def _check_norm(norm):
    if norm not in (None, "backward", "forward", "ortho"):
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm or "backward"


def _out_dtype(dt):
    """The real dtype of a transform of dt (a complex dt's real one)."""
    if dt is _dt.float16:
        raise RuntimeError("Unsupported dtype Half")
    if dt.is_complex:
        return dt.to_real()
    return dt if dt.is_floating_point else _dt.get_default_dtype()


def _resolve(shape, s, dim, last_default):
    """(s, dims): the output sizes along the transformed dims and those dims (wrapped), as
    torch's fftn argument rules; last_default: the last dim's size when s is not given."""
    nd = len(shape)
    if s is not None:
        s = int_list(s)
    if dim is not None:
        dims = [wrap_dim(d, nd) for d in int_list(dim)]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{nd} dimensions.")
        dims = list(range(nd - len(s), nd))
    else:
        dims = list(range(nd))
    if not dims:
        if last_default is _same:          # (c2c over no dim: the input, as complex)
            return [], []
        raise RuntimeError("irfftn must transform at least one axis")
    if s is None:
        s = [shape[d] for d in dims[:-1]] + [last_default(shape[dims[-1]])]
    else:
        s = [shape[d] if v == -1 else v for d, v in zip(dims[:-1], s[:-1])] + [
            last_default(shape[dims[-1]]) if s[-1] == -1 else s[-1]]
    for v in s:
        if v < 1:
            raise RuntimeError(f"Invalid number of data points ({v}) specified")
    return s, dims


def _last(L):
    return 2 * (L - 1)


def _out_shape(shape, s, dims):
    out = list(shape)
    for d, v in zip(dims, s):
        out[d] = v
    return tuple(out)


def _same(L):
    return L


def _irfftn_body(xp, self, s, dims, norm, conj=False):
    """The transform, laid out as PyTorch's c2r result: the untransformed dims outermost,
    then the other transformed ones, each group in dim order, the last transformed dim
    (the halved one) innermost (irfft(x, dim=0) of a 4x6 x has strides (1, 6)).
    conj: of the input's conjugate (hfft*)."""
    dt = _out_dtype(_dt.from_numpy_dtype(self.dtype))
    x = self.astype(dt.to_complex().np if self.dtype.kind == "c" else dt.np, copy=False)
    if conj and x.dtype.kind == "c":
        x = xp.conj(x)
    r = xp.fft.irfftn(x, s=s, axes=dims, norm=norm).astype(dt.np, copy=False)
    order = [d for d in range(r.ndim) if d not in dims] + sorted(dims[:-1]) + [dims[-1]]
    return _mf.copy_in(xp, r, order)


def _layout(xp, r, self, dims, halved):
    """r laid out as PyTorch's c2c / r2c result: the untransformed dims outermost, in the
    order of the input's strides, then the transformed ones in dim order; rfftn's halved
    dim (the last of dims) innermost (halved "last"), ihfftn's first of the transformed
    (halved "first": its c2c passes over the others come after the r2c one)."""
    st = self.strides
    rest = sorted((d for d in range(r.ndim) if d not in dims), key=lambda d: -abs(st[d]))
    if halved == "last":
        inner = sorted(dims[:-1]) + [dims[-1]]
    elif halved == "first":
        inner = [dims[-1]] + sorted(dims[:-1])
    else:
        inner = sorted(dims)
    return _mf.copy_in(xp, r, rest + inner)


def _c2c_body(xp, self, s, dims, norm, inverse):
    dt = _out_dtype(_dt.from_numpy_dtype(self.dtype)).to_complex()
    x = self.astype(dt.np, copy=False)
    if not dims:
        return x.copy()
    f = xp.fft.ifftn if inverse else xp.fft.fftn
    r = f(x, s=s, axes=dims, norm=norm).astype(dt.np, copy=False)
    return _layout(xp, r, self, dims, None)


def _real_input_check(dt, name):
    """PyTorch's refusal of a complex input to rfft / rfftn / ihfft / ihfftn."""
    if dt.is_complex:
        if name.startswith("ihfft") and name != "ihfft":
            raise RuntimeError(f"Only supports floating-point dtypes, but found: "
                               f"{dt.short_name}")
        what = "a real input tensor" if name in ("rfft", "ihfft") else \
            "a real-valued input tensor"
        raise RuntimeError(f"{name[:-1] + 'n' if name.endswith('2') else name} expects "
                           f"{what}, but got {dt.short_name}")


def _r2c_body(xp, self, s, dims, norm, name, inverse):
    """rfftn (inverse False) or ihfftn: the conjugate of rfftn, the normalization swapped."""
    _real_input_check(_dt.from_numpy_dtype(self.dtype), name)
    dt = _out_dtype(_dt.from_numpy_dtype(self.dtype))
    x = self.astype(dt.np, copy=False)
    r = xp.fft.rfftn(x, s=s, axes=dims, norm=_SWAP[norm] if inverse else norm)
    if inverse:
        r = xp.conj(r)
    r = r.astype(dt.to_complex().np, copy=False)
    return _layout(xp, r, self, dims, "first" if inverse else "last")


def _r2c_shape(shape, s, dims):
    out = list(_out_shape(shape, s, dims))
    out[dims[-1]] = s[-1] // 2 + 1
    return tuple(out)


def _c_meta(self, s, dims):
    return TensorMeta(_out_dtype(self.dtype).to_complex(),
                      _out_shape(tuple(self.shape), s, dims), self.device)


def _r2c_meta(self, s, dims, name):
    _real_input_check(self.dtype, name)
    return TensorMeta(_out_dtype(self.dtype).to_complex(),
                      _r2c_shape(tuple(self.shape), s, dims), self.device)


def _meta(self, s, dims):
    return TensorMeta(_out_dtype(self.dtype), _out_shape(tuple(self.shape), s, dims),
                      self.device)


# ------------------------------------------------------------------ irfft*

def _one(n, dim):
    return None if n is None else [n], [dim]


@op("aten::fft_irfft(Tensor self, SymInt? n=None, int dim=-1, str? norm=None) -> Tensor",
    meta=lambda self, n=None, dim=-1, norm=None: _meta(
        self, *_resolve(tuple(self.shape), *_one(n, dim), _last)), **_KW)
def fft_irfft(xp, self, n=None, dim=-1, norm=None):
    """The inverse of rfft: n real points (2 (L - 1) by default) from L frequencies."""
    s, dims = _resolve(self.shape, *_one(n, dim), _last)
    return _irfftn_body(xp, self, s, dims, _check_norm(norm))


@op("aten::fft_irfft2(Tensor self, SymInt[1]? s=None, int[1] dim=[-2, -1], str? norm=None)"
    " -> Tensor", meta=lambda self, s=None, dim=(-2, -1), norm=None: _meta(
        self, *_resolve(tuple(self.shape), s, dim, _last)), **_KW)
def fft_irfft2(xp, self, s=None, dim=(-2, -1), norm=None):
    s, dims = _resolve(self.shape, s, dim, _last)
    return _irfftn_body(xp, self, s, dims, _check_norm(norm))


@op("aten::fft_irfftn(Tensor self, SymInt[1]? s=None, int[1]? dim=None, str? norm=None)"
    " -> Tensor", meta=lambda self, s=None, dim=None, norm=None: _meta(
        self, *_resolve(tuple(self.shape), s, dim, _last)), **_KW)
def fft_irfftn(xp, self, s=None, dim=None, norm=None):
    s, dims = _resolve(self.shape, s, dim, _last)
    return _irfftn_body(xp, self, s, dims, _check_norm(norm))


# ------------------------------------------------------------------ hfft*: irfft*, norm swapped

@op("aten::fft_hfft(Tensor self, SymInt? n=None, int dim=-1, str? norm=None) -> Tensor",
    meta=lambda self, n=None, dim=-1, norm=None: _meta(
        self, *_resolve(tuple(self.shape), *_one(n, dim), _last)), **_KW)
def fft_hfft(xp, self, n=None, dim=-1, norm=None):
    """The FFT of a Hermitian-symmetric signal given by its first half (real here)."""
    s, dims = _resolve(self.shape, *_one(n, dim), _last)
    return _irfftn_body(xp, self, s, dims, _SWAP[_check_norm(norm)], conj=True)


@op("aten::fft_hfft2(Tensor self, SymInt[1]? s=None, int[1] dim=[-2, -1], str? norm=None)"
    " -> Tensor", meta=lambda self, s=None, dim=(-2, -1), norm=None: _meta(
        self, *_resolve(tuple(self.shape), s, dim, _last)), **_KW)
def fft_hfft2(xp, self, s=None, dim=(-2, -1), norm=None):
    s, dims = _resolve(self.shape, s, dim, _last)
    return _irfftn_body(xp, self, s, dims, _SWAP[_check_norm(norm)], conj=True)


@op("aten::fft_hfftn(Tensor self, SymInt[1]? s=None, int[1]? dim=None, str? norm=None)"
    " -> Tensor", meta=lambda self, s=None, dim=None, norm=None: _meta(
        self, *_resolve(tuple(self.shape), s, dim, _last)), **_KW)
def fft_hfftn(xp, self, s=None, dim=None, norm=None):
    s, dims = _resolve(self.shape, s, dim, _last)
    return _irfftn_body(xp, self, s, dims, _SWAP[_check_norm(norm)], conj=True)


# ------------------------------------------------------------------ fft*, ifft*: c2c

def _schema_of(name):
    """(schema, args): the schema of torch.fft.<name> (1-D: n, dim; 2-D / n-D: s, dim) and
    its (s, dims) arguments as _resolve takes them."""
    if name.endswith(("2", "n")) and name not in ("fft", "ifft"):
        default = "[-2, -1]" if name.endswith("2") else "None"
        opt = "" if name.endswith("2") else "?"
        return (f"aten::fft_{name}(Tensor self, SymInt[1]? s=None, int[1]{opt} dim={default}, "
                f"str? norm=None) -> Tensor"), lambda s, dim: (s, dim)
    return (f"aten::fft_{name}(Tensor self, SymInt? n=None, int dim=-1, str? norm=None) -> "
            f"Tensor"), _one


def _declare(name, meta_of, body_of, doc):
    """The registry op torch.fft.<name>, its parameters named as the schema's."""
    schema, args = _schema_of(name)
    if "SymInt? n" in schema:
        def meta(self, n=None, dim=-1, norm=None):
            return meta_of(self, *_resolve(tuple(self.shape), *args(n, dim), _same))

        def body(xp, self, n=None, dim=-1, norm=None):
            return body_of(xp, self, *_resolve(self.shape, *args(n, dim), _same),
                           _check_norm(norm))
    else:
        two = name.endswith("2")

        def meta(self, s=None, dim=(-2, -1) if two else None, norm=None):
            return meta_of(self, *_resolve(tuple(self.shape), *args(s, dim), _same))

        def body(xp, self, s=None, dim=(-2, -1) if two else None, norm=None):
            return body_of(xp, self, *_resolve(self.shape, *args(s, dim), _same),
                           _check_norm(norm))
    body.__name__ = f"fft_{name}"
    body.__doc__ = doc
    return op(schema, meta=meta, **_KW)(body)


def _declare_c2c(name, inverse):
    _declare(name, _c_meta,
             lambda xp, self, s, dims, norm: _c2c_body(xp, self, s, dims, norm, inverse),
             f"torch.fft.{name}: the {'inverse ' if inverse else ''}discrete Fourier "
             f"transform, a complex result.")


def _declare_r2c(name, inverse):
    _declare(name, lambda self, s, dims: _r2c_meta(self, s, dims, name),
             lambda xp, self, s, dims, norm: _r2c_body(xp, self, s, dims, norm, name, inverse),
             f"torch.fft.{name}: of a real input, the non-negative frequencies"
             + (" of the inverse transform (conjugated)." if inverse else "."))


for _name in ("fft", "fft2", "fftn"):
    _declare_c2c(_name, False)
    _declare_c2c("i" + _name, True)
for _name in ("rfft", "rfft2", "rfftn"):
    _declare_r2c(_name, False)
for _name in ("ihfft", "ihfft2", "ihfftn"):
    _declare_r2c(_name, True)
del _name


# ------------------------------------------------------------------ the adjoint

def _adjoint_meta(gy, self_sizes, s, dim, norm):
    return TensorMeta(gy.dtype, tuple(int_list(self_sizes)), gy.device)


@op("aten::_gpujit_irfftn_backward(Tensor gy, int[] self_sizes, int[] s, int[] dim, "
    "str norm) -> Tensor", meta=_adjoint_meta, **_KW)
def _gpujit_irfftn_backward(xp, gy, self_sizes, s, dim, norm):
    """The adjoint (transpose) of x -> irfftn(x, s, dim, norm) for real x of self_sizes."""
    self_sizes, s, dims = list(int_list(self_sizes)), int_list(s), int_list(dim)
    last, n = dims[-1], s[-1]
    z = xp.fft.rfft(gy, axis=last)            # unnormalized; n // 2 + 1 along last
    m = z.shape[last]
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * z.ndim
    shape[last] = m
    z = z * xp.asarray(w.reshape(shape))
    if len(dims) > 1:
        z = xp.fft.fftn(z, axes=dims[:-1])
    r = z.real
    total = math.prod(s)
    if norm == "backward":
        r = r / total
    elif norm == "ortho":
        r = r / math.sqrt(total)
    idx, pad = [], []
    for d in range(r.ndim):
        have, want = r.shape[d], self_sizes[d]
        idx.append(slice(0, min(have, want)))
        pad.append((0, max(0, want - have)))
    r = r[tuple(idx)]
    if any(p[1] for p in pad):
        r = xp.pad(r, pad)
    return xp.ascontiguousarray(r.astype(gy.dtype))


def _irfftn_grad(grad, self_shape, s, dims, norm, cplx=False):
    """The gradient of irfftn(self, s, dims, norm): of a real self the adjoint map; of a
    complex one PyTorch's fft_c2r_backward: the r2c transform of grad (scaled as the c2r
    was), the entries 1 .. n - (n // 2 + 1) along the last dim doubled (their mirror images
    were read from them), cropped or zero-padded back to self's sizes."""
    from .registry import OPS
    if not cplx:
        return OPS["aten::_gpujit_irfftn_backward"].public(
            grad, list(self_shape), list(s), list(dims), norm)
    g = OPS["aten::fft_rfftn"].public(grad, None, list(dims), _SWAP[norm])
    last, n = dims[-1], s[-1]
    m = g.shape[last]
    if n - m > 0:
        w = [1.0] * m
        w[1:n - m + 1] = [2.0] * (n - m)
        shape = [1] * g.dim()
        shape[last] = m
        g = g * g.new_tensor(w).real.reshape(shape)
    return _fit_to(g, self_shape, dims)


def _fit_to(g, self_shape, dims):
    """g cropped or zero-padded along dims to self's sizes (the forward's n / s padded or
    cropped self)."""
    from .registry import OPS
    for d in dims:
        have, want = g.shape[d], self_shape[d]
        if have > want:
            g = g.narrow(d, 0, want)
        elif have < want:
            g = OPS["aten::constant_pad_nd"].public(
                g, [0, 0] * (g.dim() - 1 - d) + [0, want - have], 0)
    return g


_IS_COMPLEX = {"cplx": lambda self: self.is_complex()}


@_derivative(fft_irfft, wrt=("self",), computes=_IS_COMPLEX)
def _irfft_grad(grad, self_shape, n, dim, norm, cplx):
    s, dims = _resolve(tuple(self_shape), *_one(n, dim), _last)
    return _irfftn_grad(grad, self_shape, s, dims, _check_norm(norm), cplx)


@_derivative(fft_hfft, wrt=("self",), computes=_IS_COMPLEX)
def _hfft_grad(grad, self_shape, n, dim, norm, cplx):
    s, dims = _resolve(tuple(self_shape), *_one(n, dim), _last)
    g = _irfftn_grad(grad, self_shape, s, dims, _SWAP[_check_norm(norm)], cplx)
    return g.conj() if cplx else g          # (hfft is irfft of the conjugate)


@_derivative(fft_irfft2, fft_irfftn, wrt=("self",), computes=_IS_COMPLEX)
def _irfftn_grad_n(grad, self_shape, s, dim, norm, cplx):
    s, dims = _resolve(tuple(self_shape), s, dim, _last)
    return _irfftn_grad(grad, self_shape, s, dims, _check_norm(norm), cplx)


@_derivative(fft_hfft2, fft_hfftn, wrt=("self",), computes=_IS_COMPLEX)
def _hfftn_grad_n(grad, self_shape, s, dim, norm, cplx):
    s, dims = _resolve(tuple(self_shape), s, dim, _last)
    g = _irfftn_grad(grad, self_shape, s, dims, _SWAP[_check_norm(norm)], cplx)
    return g.conj() if cplx else g


def _transform_grad(name, grad, self_shape, s, dim, norm):
    """The gradient of the c2c / r2c transform `name` (PyTorch's fft_c2c / fft_r2c
    backward): the transform's adjoint, the opposite transform with the normalization
    swapped (an r2c's grad first zero-padded to the full last dim: its other half was
    dropped; ihfft's conjugated first: it is the conjugate of an rfft), cropped or
    zero-padded back to self's sizes; a real self's gradient is its real part (autograd
    takes it)."""
    from .registry import OPS
    s, dims = _resolve(tuple(self_shape), s, dim, _same)
    norm = _check_norm(norm)
    base = name.rstrip("2n")
    if base in ("rfft", "ihfft"):
        if base == "ihfft":
            grad, norm = grad.conj(), _SWAP[norm]
        last = dims[-1]
        if s[-1] > grad.shape[last]:
            grad = OPS["aten::constant_pad_nd"].public(
                grad, [0, 0] * (grad.dim() - 1 - last) + [0, s[-1] - grad.shape[last]], 0)
        inverse = True
    else:
        inverse = base == "fft"
    g = OPS["aten::fft_ifftn" if inverse else "aten::fft_fftn"].public(
        grad, None, list(dims), _SWAP[norm])
    return _fit_to(g, self_shape, dims)


def _declare_transform_grad(name):
    if name in ("fft", "ifft", "rfft", "ihfft"):
        def fn(grad, self_shape, n, dim, norm):
            return _transform_grad(name, grad, self_shape, *_one(n, dim), norm)
    else:
        def fn(grad, self_shape, s, dim, norm):
            return _transform_grad(name, grad, self_shape, s, dim, norm)
    _derivative(f"aten::fft_{name}", wrt=("self",))(fn)


for _name in ("fft", "fft2", "fftn", "ifft", "ifft2", "ifftn", "rfft", "rfft2", "rfftn",
              "ihfft", "ihfft2", "ihfftn"):
    _declare_transform_grad(_name)
del _name


@_derivative(_gpujit_irfftn_backward, wrt=("gy",))
def _adjoint_grad(grad, s, dim, norm):
    from .registry import OPS
    return OPS["aten::fft_irfftn"].public(grad, list(s), list(dim), norm)
