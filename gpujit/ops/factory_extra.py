"""Two factories with PyTorch's calling conventions (Python entry points in `PUBLIC`):
logspace and empty_strided.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu
from .kernel_names import not_implemented
from .meta import TensorMeta, int_list
from .registry import op, OPS, scalar_to, _xp_for

PUBLIC = {}


# ------------------------------------------------------------------ logspace / empty_strided

_FACTORY_TAIL = "ScalarType? dtype=None, Layout? layout=None, Device? device=None, " \
                "bool? pin_memory=None) -> Tensor"


def _default(dtype):
    return _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)


@op(f"aten::logspace(Scalar start, Scalar end, int steps, float base=10.0, *, "
    f"{_FACTORY_TAIL}", tags={"factory"}, function=False, method=False,
    meta=lambda start, end, steps, base=10.0, dtype=None, layout=None, device=None,
    pin_memory=None: TensorMeta(_logspace_dtype(start, end, dtype), (steps,), device or _cpu))
def _logspace(xp, start, end, steps, base=10.0, dtype=None, layout=None, device=None,
              pin_memory=None):
    """ATen's CPU logspace: pow(double base, start + step * i), start and end first converted to the dtype (as linspace),
    the first half counted from `start`, the second from `end`; the double result cast to
    the dtype (integers truncated)."""
    from .creation import _truncate
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    npt = _logspace_dtype(start, end, dtype).np
    if npt.kind == "b":
        raise not_implemented("logspace_cpu", xp, "Bool")
    if npt.kind == "c":
        # (ATen's complex kernel, in the complex dtype: pow(base, start + step * i) below
        # halfway, pow(base, end - step * (steps - i - 1)) above, step = (end - start) /
        # (steps - 1); pow as exp(exponent * log(base)))
        expo = OPS["aten::linspace"].impl(xp, start, end, steps, dtype=_dt.from_numpy_dtype(npt))
        return xp.exp(expo * xp.log(npt.type(base))).astype(npt, copy=False)
    if steps <= 1:
        v = _c_pow_ufunc()(float(base), float(start)) if steps else 0.0
        return xp.full(steps, scalar_to(v, npt), dtype=npt)
    s, e = scalar_to(start, npt), scalar_to(end, npt)
    span = float(e - s) if npt.kind == "f" else float(int(e) - int(s))  # in the dtype (C++)
    step = span / (steps - 1)
    half = steps // 2
    up = xp.arange(half, dtype=np.float64)
    down = xp.arange(steps - half - 1, -1, -1, dtype=np.float64)
    # (RangeFactories.cpp is built without FMA contraction, unlike linspace's kernel)
    expo = xp.concatenate([float(s) + step * up, float(e) - step * down])
    if xp is np:       # C's pow (glibc's, correctly rounded), not NumPy's own
        r = _c_pow_ufunc()(float(base), expo).astype(np.float64)
    else:
        r = xp.power(float(base), expo)
    if npt.kind in "iu":
        return _truncate(r, npt, xp)
    # (c10::Half's conversion from double goes through float)
    return (r.astype(np.float32) if npt.itemsize == 2 else r).astype(npt)


def _logspace_dtype(start, end, dtype):
    """dtype, else the default dtype; a complex start or end: the default complex one
    (torch's error for a real dtype, in its logspace words)."""
    if isinstance(start, complex) or isinstance(end, complex):
        if dtype is None:
            return _dt.get_default_complex_dtype()
        dtype = _dt.to_dtype(dtype)
        if not dtype.is_complex:
            raise RuntimeError(f"torch.logspace(): inferred dtype c10::complex<float> can't be "
                               f"safely cast to passed dtype {dtype.short_name}")
    return _default(dtype)


def _c_pow_ufunc():
    if not _C_POW:
        import math
        from .scalar_math import _c_function
        _C_POW.append(np.frompyfunc(_c_function(math.pow, np.power, "pow", 2), 2, 1))
    return _C_POW[0]


_C_POW = []


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False,
             layout=None, out=None, pin_memory=False):
    """torch.logspace: base ** linspace(start, end, steps)."""
    from .registry import _Tensor
    from .creation import _finish, _out_dtype_device, check_pin_memory
    check_pin_memory("logspace", pin_memory)
    vals = [v.item() if isinstance(v, _Tensor) else v for v in (start, end)]
    dtype, device = _out_dtype_device(out, dtype, device, "logspace")
    t = OPS["aten::logspace"].public(vals[0], vals[1], steps, base, dtype=dtype, device=device)
    return _finish(t, requires_grad, out, "logspace")


PUBLIC["logspace"] = logspace


@op(f"aten::empty_strided(SymInt[] size, SymInt[] stride, *, {_FACTORY_TAIL}",
    tags={"factory"}, function=False, method=False,
    meta=lambda size, stride, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_default(dtype), tuple(int_list(size)), device or _cpu))
def _empty_strided(xp, size, stride, dtype=None, layout=None, device=None, pin_memory=None):
    size, stride = int_list(size), int_list(stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(size)}: {size}")
    npdt = _default(dtype).np
    n = 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    from .creation import uninitialized
    buf = uninitialized(xp.zeros(max(n, 1), npdt))
    st = tuple(s * npdt.itemsize for s in stride)
    return xp.lib.stride_tricks.as_strided(buf, tuple(size), st)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """torch.empty_strided: an uninitialized tensor (zeros here) with the given strides."""
    from .creation import _sequence_size, check_pin_memory
    check_pin_memory("empty_strided", pin_memory)
    _sequence_size(size, "empty_strided")
    _sequence_size(stride, "empty_strided", "stride", 2)
    t = OPS["aten::empty_strided"].public(list(size), list(stride), dtype=dtype,
                                      layout=layout, device=device)
    if 0 in t._data.shape and t._data.ndim and not any(stride):
        t._zero_strides = True      # (Tensor.stride() reports them as given)
        # (registry.wrap gave the array PyTorch's strides of a new empty tensor)
        a = t._data
        t._data = _xp_for(t.device).lib.stride_tricks.as_strided(a, a.shape, (0,) * a.ndim)
    return t._factory_requires_grad() if requires_grad else t


PUBLIC["empty_strided"] = empty_strided
