"""Fake cupy.ElementwiseKernel: CuPy's argument and type rules, the operation evaluated
by NumPy for the few operations gpujit writes (a whitelist; others raise).

What it checks as CuPy 14 does (cupy/_core/_kernel.pyx, ElementwiseKernel.__call__ and
_decide_params_type_core): an array argument of a parameter with a fixed type ("float32 a")
must have exactly that dtype ("Type is mismatched", TypeError: CuPy does not cast arrays);
one type placeholder ("T a, T b") takes one dtype; NumPy arrays are refused (CuPy wraps
every non-cupy argument as a C scalar, which a numpy.ndarray is not); scalars are cast to
the parameter's type (a float64 Python number into a float32 parameter is rounded first);
the arrays must be on the current device.
"""
from __future__ import annotations

import re
from fractions import Fraction

import numpy as _np


def _fma_exact(a, b, c, dtype):
    """a * b + c with one rounding to dtype, element by element (exact rationals: the
    fake's sizes are small). inf / nan: IEEE's a * b + c."""
    a, b, c = _np.broadcast_arrays(*(_np.asarray(v, dtype) for v in (a, b, c)))
    out = _np.empty(a.shape, dtype)
    for i in _np.ndindex(a.shape):
        x, y, z = float(a[i]), float(b[i]), float(c[i])
        if not (_np.isfinite(x) and _np.isfinite(y) and _np.isfinite(z)) or \
                not _np.isfinite(x * y):
            with _np.errstate(all="ignore"):
                out[i] = dtype.type(x) * dtype.type(y) + dtype.type(z) if dtype == _np.float64 \
                    else _np.float32(_np.float64(x) * y + z)
            continue
        exact = Fraction(x) * Fraction(y) + Fraction(z)
        if exact == 0:
            out[i] = x * y + z          # (IEEE's sign of zero)
        else:
            out[i] = _round(exact, dtype)
    return out


def _round(q, dtype):
    """The rational q rounded to nearest (ties to even) in dtype (float32 / float64)."""
    if dtype == _np.float64:
        return float(q)                 # (Fraction.__float__ rounds correctly)
    with _np.errstate(over="ignore"):
        f = _np.float32(float(q))       # (rounded twice: maybe one off; the neighbours)
    if not _np.isfinite(f):
        return f
    cands = [c for c in (_np.nextafter(f, _np.float32(-_np.inf)), f,
                         _np.nextafter(f, _np.float32(_np.inf))) if _np.isfinite(c)]
    return min(cands, key=lambda c: (abs(Fraction(float(c)) - q),
                                     int(_np.float32(c).view(_np.int32)) & 1))


# operations the fake evaluates: "out = f(in, ...)" with f one of these
_FUNCS = {
    "fmaf": lambda a, b, c: _fma_exact(a, b, c, _np.dtype(_np.float32)),
    "fma": lambda a, b, c: _fma_exact(a, b, c, _np.dtype(_np.float64)),
}
_PARAM = re.compile(r"^\s*(?:(const)\s+)?(raw\s+)?(\w+)\s+(\w+)\s*$")
_OP = re.compile(r"^\s*(\w+)\s*=\s*(\w+)\s*\(([\w\s,]*)\)\s*;?\s*$")


def _params(spec):
    out = []
    for p in spec.split(","):
        if not p.strip():
            continue
        m = _PARAM.match(p)
        if m is None:
            raise Exception(f"Syntax error: {p}")
        _, raw, t, name = m.groups()
        try:
            dt = _np.dtype(t)
        except TypeError:
            dt = None                    # a type placeholder
        out.append((name, dt, t, bool(raw)))
    return out


class ElementwiseKernel:
    def __init__(self, in_params, out_params, operation, name="kernel", reduce_dims=True,
                 preamble="", no_return=False, return_tuple=False, **kwargs):
        if not re.match(r"^[A-Za-z_]\w*$", name):
            raise ValueError(f'Invalid kernel name: "{name}"')
        self.in_params, self.out_params = _params(in_params), _params(out_params)
        self.nin, self.nout = len(self.in_params), len(self.out_params)
        self.nargs = self.nin + self.nout
        self.operation, self.name = operation, name
        m = _OP.match(operation)
        if m is None or m.group(2) not in _FUNCS:
            raise NotImplementedError(f"fake cupy: ElementwiseKernel operation {operation!r} "
                                      f"is not one the fake evaluates ({sorted(_FUNCS)})")
        self._target, self._func = m.group(1), _FUNCS[m.group(2)]
        self._args = [a.strip() for a in m.group(3).split(",")]

    def __call__(self, *args, size=-1, stream=None, block_size=128, **kwargs):
        from . import ndarray, _State, _wrap
        if kwargs:
            raise TypeError(f"Wrong arguments {kwargs}")
        if len(args) not in (self.nin, self.nargs):
            raise TypeError(f"Wrong number of arguments for {self.name!r}. It must be either "
                            f"{self.nin} or {self.nargs} (with outputs), but given {len(args)}.")
        for a in args:
            if isinstance(a, ndarray):
                if a._dev != _State.current:
                    raise ValueError(f"The device where the array resides ({a._dev}) is "
                                     f"different from the current device ({_State.current}).")
            elif not isinstance(a, (int, float, complex, bool, _np.generic)):
                raise TypeError(f"Unsupported type {type(a)}")
        ins, outs = args[:self.nin], args[self.nin:]
        types = {}
        for (pname, dt, ctype, _), a in zip(self.out_params, outs):
            if not isinstance(a, ndarray):
                raise TypeError("Output arguments must be cupy.ndarray")
            self._bind(types, pname, dt, ctype, a.dtype)
        for (pname, dt, ctype, _), a in zip(self.in_params, ins):
            if isinstance(a, ndarray):
                self._bind(types, pname, dt, ctype, a.dtype)
        in_types = [dt if dt is not None else types[ctype] for _, dt, ctype, _ in self.in_params]
        out_types = [dt if dt is not None else types[ctype]
                     for _, dt, ctype, _ in self.out_params]
        # scalars become C scalars of their parameter's type (CuPy's PyArray_Pack: an
        # out-of-bounds int raises OverflowError, nan into an integer ValueError); arrays
        # stay as they are
        vals = {}
        for (pname, *_), a, t in zip(self.in_params, ins, in_types):
            vals[pname] = a._a if isinstance(a, ndarray) else _np.array(a, dtype=t)
        shape = _np.broadcast_shapes(*(_np.shape(v) for v in vals.values()),
                                     *(o.shape for o in outs))
        r = self._func(*(vals[n] for n in self._args))
        if outs:
            outs[0]._a[...] = r
            return outs[0]
        return _wrap(_np.ascontiguousarray(_np.broadcast_to(r, shape).astype(out_types[0])))

    @staticmethod
    def _bind(types, pname, dt, ctype, adt):
        if dt is not None:
            if _np.dtype(adt) != dt:
                raise TypeError(f"Type is mismatched. {pname} {adt} {dt}")
        elif ctype in types:
            if _np.dtype(types[ctype]) != _np.dtype(adt):
                raise TypeError(f"Type is mismatched. {pname} {adt} {types[ctype]} {ctype}")
        else:
            types[ctype] = _np.dtype(adt)
