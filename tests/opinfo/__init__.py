"""OpInfo-style test tables: one `OpInfo` per registry op, with sample inputs and an
independent NumPy reference. tests/test_opinfo.py iterates the registry and fails for an op
without an entry here.

Each family module in this package (pointwise.py, reduction.py, ...) defines `OPINFOS`, a
list of OpInfo. Conventions:

- `Sample(*args, **kwargs)`: NumPy arrays among args (also inside lists) become gpujit
  tensors of the same dtype; everything else is passed as is.
- `ref(*args, **kwargs)` receives the same args with arrays as NumPy arrays, floating
  arrays upcast to float64 (the reference is computed in higher precision), and returns
  the expected value (array, tuple/list of arrays, or Python scalar). The result is
  compared with the output dtype's tolerances. `ref=None` with `check=fn` for ops whose
  output is not a function of the inputs (random): `check(sample, result)` asserts.
- The harness also runs each sample with every array argument made non-contiguous, and
  checks the op's meta rule against the real output (dtype, shape, device).
- `ErrorSample(*args, exc=RuntimeError, match="regex", **kwargs)`: must raise.
"""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np


class Sample:
    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        self.rtol = None
        self.atol = None
        self.dtype = None      # expected output dtype (gpujit dtype), when the sample pins it
        self.grad = True       # False: no gradient check of this sample (reason in a comment)

    def tol(self, rtol=None, atol=None):
        self.rtol, self.atol = rtol, atol
        return self

    def no_grad(self):
        self.grad = False
        return self

    def expect_dtype(self, d):
        self.dtype = d
        return self

    def __repr__(self):
        def show(v):
            if isinstance(v, np.ndarray):
                return f"array{list(v.shape)}:{v.dtype}"
            if isinstance(v, (list, tuple)):
                return type(v)(show(x) for x in v)
            return v
        parts = [repr(show(a)) for a in self.args]
        parts += [f"{k}={show(v)!r}" for k, v in self.kwargs.items()]
        return f"Sample({', '.join(parts)})"


class ErrorSample(Sample):
    def __init__(self, *args, exc=RuntimeError, match=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.exc = exc
        self.match = match


class OpInfo:
    def __init__(self, name, *, samples, ref=None, check=None, errors=(), rtol=None,
                 atol=None, noncontiguous=True, meta=True, gpu=True, grad=True):
        self.name = name              # qualified registry name, e.g. 'aten::add.Tensor'
        self.samples = samples        # list of Sample, or a callable returning one
        self.ref = ref
        self.check = check
        self.errors = errors
        self.rtol, self.atol = rtol, atol
        self.noncontiguous = noncontiguous
        self.meta = meta
        self.gpu = gpu
        self.grad = grad            # False: skip gradcheck for this op (the reason in a comment)

    def get_samples(self):
        s = self.samples() if callable(self.samples) else self.samples
        return [_refused_number(self.name, x) or x for x in s]


def _refused_number(name, sample):
    """sample as an ErrorSample (PyTorch's TypeError) when it gives a Python number for
    a Tensor parameter that PyTorch's overloads take no number for (logaddexp(x, 2.5),
    eq(2, x): gpujit.ops.number_operands), else None."""
    if isinstance(sample, ErrorSample):
        return None
    from gpujit.ops import registry
    op = registry.OPS.get(name)
    if op is None:
        return None
    try:
        values = op.bind(sample.args, sample.kwargs)
    except TypeError:
        return None
    for a, v in zip(op.schema.arguments, values):
        if a.type.base == "Tensor" and not a.type.is_list and \
                type(v) in (int, float, bool, complex) and a.name not in op.number_operands:
            e = ErrorSample(*sample.args, exc=TypeError, match="must be Tensor",
                            **sample.kwargs)
            e.refused_number = True
            return e
    return None


def all_opinfos():
    infos = {}
    pkg = importlib.import_module(__name__)
    for m in pkgutil.iter_modules(pkg.__path__):
        mod = importlib.import_module(f"{__name__}.{m.name}")
        for info in getattr(mod, "OPINFOS", ()):
            if info.name in infos:
                raise ValueError(f"two OpInfos for {info.name}")
            infos[info.name] = info
    return infos


# ---------------------------------------------------------------- sample helpers

_rng = np.random.default_rng(1234)


def rand(*shape, dtype=np.float32, low=-2.0, high=2.0):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return _rng.random(shape) > 0.5
    if dtype.kind in "iu":
        lo = max(int(low), np.iinfo(dtype).min)
        hi = min(int(high) + 1, np.iinfo(dtype).max)
        return _rng.integers(lo, max(hi, lo + 1), size=shape).astype(dtype)
    return _rng.uniform(low, high, size=shape).astype(dtype)


def positive(*shape, dtype=np.float32, low=0.1, high=3.0):
    return rand(*shape, dtype=dtype, low=low, high=high)


def make_noncontiguous(a):
    """Same values, non-contiguous layout (every other element of a wider array)."""
    if not isinstance(a, np.ndarray) or a.size <= 1:
        return a
    ax = max(i for i, n in enumerate(a.shape) if n > 1)   # size-1 dims don't break contiguity
    v = np.repeat(a, 2, axis=ax)[(slice(None),) * ax + (slice(None, None, 2),)]
    assert not v.flags.c_contiguous and np.array_equal(v, a, equal_nan=True)
    return v


FLOAT_DTYPES = (np.float16, np.float32, np.float64)
INT_DTYPES = (np.uint8, np.int8, np.int16, np.int32, np.int64)
ALL_DTYPES = (np.bool_,) + INT_DTYPES + FLOAT_DTYPES
