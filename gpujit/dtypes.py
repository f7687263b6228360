"""dtypes and PyTorch's type promotion.

A `dtype` is an interned object (`gpujit.float32 is gpujit.float32`), so the eager hot path
compares them with `is` and uses them as dict keys. Promotion follows PyTorch
(c10/core/ScalarType.h `promoteTypes` and ATen's `ResultTypeState`), which differs from
NumPy's: int16 + float16 is float16 (NumPy: float32), a float64 0-dim tensor does not widen
a float32 tensor (NumPy 2: it does), an int tensor + 2.5 is the default float dtype
(NumPy: float64).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
    "float64", "bfloat16", "half", "float", "double", "short", "int", "long", "promote_types",
    "result_type", "can_cast", "get_default_dtype", "set_default_dtype", "from_numpy_dtype",
    "to_dtype", "iinfo", "finfo", "complex64", "complex128", "cfloat", "cdouble",
    "complex32", "chalf",
]
__all__ += ["uint16", "uint32", "uint64"]

_builtin_bool, _builtin_int, _builtin_float = bool, int, float

# category: 0 bool, 1 integral, 2 floating, 3 complex (PyTorch's order: a higher category
# wins promotion)
BOOL, INTEGRAL, FLOATING, COMPLEX = 0, 1, 2, 3


class dtype:
    __slots__ = ("name", "np", "category", "itemsize", "is_signed", "_rank", "short_name",
                 "cplx")

    def __init__(self, name, np_dtype, category, rank, short_name):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.is_signed = category != BOOL and name != "uint8"
        self._rank = rank          # order of width inside a category
        self.short_name = short_name   # PyTorch's ScalarType name: Float, Long, ...
        self.cplx = category == COMPLEX   # (the entry points' test: ops/entry_codegen.py)

    @property
    def is_floating_point(self):
        return self.category == FLOATING

    @property
    def is_complex(self):
        return self.category == COMPLEX

    def to_real(self):
        """The real dtype of a complex one (complex64 -> float32); a real dtype itself."""
        return _REAL_OF.get(self, self)

    def to_complex(self):
        """The complex dtype of a floating one (float32 -> complex64), as PyTorch's
        toComplexType; float16's (complex32) is missing: its TypeError."""
        if self.category == COMPLEX:
            return self
        c = _COMPLEX_OF.get(self)
        if c is None:
            if self is float16:
                raise complex32.error()
            raise TypeError(f"{self!r} has no complex counterpart")
        return c

    def __repr__(self):
        return "gpujit." + self.name

    def __reduce__(self):
        return (to_dtype, (self.name,))


bool = dtype("bool", np.bool_, BOOL, 0, "Bool")
uint8 = dtype("uint8", np.uint8, INTEGRAL, 1, "Byte")
int8 = dtype("int8", np.int8, INTEGRAL, 1, "Char")
int16 = dtype("int16", np.int16, INTEGRAL, 2, "Short")
int32 = dtype("int32", np.int32, INTEGRAL, 3, "Int")
int64 = dtype("int64", np.int64, INTEGRAL, 4, "Long")
float16 = dtype("float16", np.float16, FLOATING, 1, "Half")
float32 = dtype("float32", np.float32, FLOATING, 2, "Float")
float64 = dtype("float64", np.float64, FLOATING, 3, "Double")

complex64 = dtype("complex64", np.complex64, COMPLEX, 2, "ComplexFloat")
complex128 = dtype("complex128", np.complex128, COMPLEX, 3, "ComplexDouble")

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
cfloat, cdouble = complex64, complex128

# the real dtypes: every registry op takes these unless it names its own (ops/registry.py).
# The complex ones are outside ALL on purpose: an op refuses them until it opts in
# (dtypes=ALL + COMPLEX_TYPES), so that no op computes a complex tensor as a real one.
ALL = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
INTEGRAL_TYPES = (uint8, int8, int16, int32, int64)
FLOATING_TYPES = (float16, float32, float64)
COMPLEX_TYPES = (complex64, complex128)
EVERY = ALL + COMPLEX_TYPES
_REAL_OF = {complex64: float32, complex128: float64}
_COMPLEX_OF = {float32: complex64, float64: complex128}

# ---- the unsigned integer types of PyTorch's "limited support" (torch.uint16 / uint32 /
# uint64, PyTorch 2.3+): outside ALL, as the complex ones, so that an op takes them only when
# named in ops/unsigned_support.py (PyTorch computes few ops on them: mul, sum, sort, eq,
# bitwise and / or / xor, conversions, views...). They promote with nothing but their own
# dtype and the floating types (c10's promoteTypes: UInt16 + Long is an error).
uint16 = dtype("uint16", np.uint16, INTEGRAL, 2, "UInt16")
uint32 = dtype("uint32", np.uint32, INTEGRAL, 3, "UInt32")
uint64 = dtype("uint64", np.uint64, INTEGRAL, 4, "UInt64")
UNSIGNED_TYPES = (uint16, uint32, uint64)
for _d in UNSIGNED_TYPES:
    _d.is_signed = False
EVERY = EVERY + UNSIGNED_TYPES
# ---- (end of the unsigned types' block)

_BY_NAME = {d.name: d for d in EVERY}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32,
                long=int64, cfloat=complex64, cdouble=complex128)
_FROM_NP = {d.np: d for d in EVERY}

# c10 TypeMeta names of the dtypes, which PyTorch's dtype-mismatch errors print
# ("Expected out tensor to have dtype long int, but got int instead")
CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
             "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
             "uint8": "unsigned char", "bool": "bool",
             "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
CPP_NAMES.update(uint16="short unsigned int", uint32="unsigned int",
                 uint64="long unsigned int")
for _d in EVERY:
    _FROM_NP[_d.np.type] = _d


# bfloat16 (ops/bfloat16_support.py): NumPy has no bfloat16 type, so a bfloat16 tensor's
# array is a float32 one whose values are always bfloat16-exact (the upper 16 bits of each
# float32); the dtype is outside ALL and _FROM_NP: an op takes it only when it opts in, and
# an array alone never says bfloat16 (Tensor._dtype does).
bfloat16 = dtype("bfloat16", np.float32, FLOATING, 1, "BFloat16")
bfloat16.itemsize = 2
_BY_NAME["bfloat16"] = bfloat16
CPP_NAMES["bfloat16"] = "c10::BFloat16"
# (torch.finfo(torch.bfloat16): 8 significand bits, float32's exponent range)
_BF16_FINFO = dict(bits=16, eps=2.0 ** -7, max=(2 - 2.0 ** -7) * 2.0 ** 127,
                   tiny=2.0 ** -126, resolution=0.01)


# ---- float8 (session 47, ops/float8.py): torch.float8_e4m3fn / e5m2 / e4m3fnuz / e5m2fnuz /
# e8m0fnu. NumPy has none: a float8 tensor is an ops.float8.Float8Tensor whose carrier is a
# uint8 array of the bits (so `np` is uint8 and itemsize 1, views, storages and torch.save
# move the bits as they are); outside ALL and _FROM_NP, as bfloat16: an array alone never
# says float8. c10's promoteTypes refuses every mix with another dtype.
FLOAT8_NP_HOOK = [None]     # (set by ops/float8.py)


class _Float8(dtype):
    """A float8 dtype: its `np` is the uint8 carrier's, except when an op's eager body reads
    it to make an array of this dtype (a factory's dtype=, .to(float8)): ops/float8.py's
    hook raises there, and the op's entry point runs the op float8's way."""
    __slots__ = ("_carrier",)

    def _get_np(self):
        hook = FLOAT8_NP_HOOK[0]
        if hook is not None:
            hook(self)
        return self._carrier

    def _set_np(self, value):
        self._carrier = value

    np = property(_get_np, _set_np)


float8_e4m3fn = _Float8("float8_e4m3fn", np.uint8, FLOATING, 0, "Float8_e4m3fn")
float8_e5m2 = _Float8("float8_e5m2", np.uint8, FLOATING, 0, "Float8_e5m2")
float8_e4m3fnuz = _Float8("float8_e4m3fnuz", np.uint8, FLOATING, 0, "Float8_e4m3fnuz")
float8_e5m2fnuz = _Float8("float8_e5m2fnuz", np.uint8, FLOATING, 0, "Float8_e5m2fnuz")
float8_e8m0fnu = _Float8("float8_e8m0fnu", np.uint8, FLOATING, 0, "Float8_e8m0fnu")
float8_e8m0fnu.is_signed = False
FLOAT8_TYPES = (float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu)
_FLOAT8 = frozenset(FLOAT8_TYPES)
for _d in FLOAT8_TYPES:
    _BY_NAME[_d.name] = _d
    CPP_NAMES[_d.name] = "c10::" + _d.short_name
__all__ += [_d.name for _d in FLOAT8_TYPES]
# torch.finfo of each (c10's numeric_limits): eps, max, smallest normal; min is -max
# (e8m0fnu: no sign, its min is its smallest value 2**-127)
_F8_FINFO = {float8_e4m3fn: (2.0 ** -3, 448.0, 2.0 ** -6),
             float8_e5m2: (2.0 ** -2, 57344.0, 2.0 ** -14),
             float8_e4m3fnuz: (2.0 ** -3, 240.0, 2.0 ** -7),
             float8_e5m2fnuz: (2.0 ** -3, 57344.0, 2.0 ** -15),
             float8_e8m0fnu: (1.0, 2.0 ** 127, 2.0 ** -127)}


def _float8_promotion(a, b):
    return RuntimeError(f"Promotion for Float8 Types is not supported, attempted to promote "
                        f"{a.short_name} and {b.short_name}")
# ---- (end of the float8 block)


class MissingDtype:
    """A dtype of PyTorch that gpujit has no tensors of (bfloat16: NumPy has no such type).
    It exists so that programs naming it (`{"float32": torch.float32, "bfloat16":
    torch.bfloat16}[name]`, `torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else ...`)
    run as long as they do not make such tensors; any use as a dtype (a factory's dtype=,
    .to(), finfo, promotion...) raises a TypeError that says so."""
    __slots__ = ("name", "itemsize", "short_name", "_why", "_instead", "is_floating_point",
                 "is_complex")
    is_signed = True

    def __init__(self, name, itemsize, short_name, why, instead="gpujit.float16 or gpujit.float32",
                 is_complex=False):
        self.name, self.itemsize, self.short_name, self._why = name, itemsize, short_name, why
        self._instead = instead
        self.is_complex, self.is_floating_point = is_complex, not is_complex

    def error(self) -> TypeError:
        return TypeError(f"gpujit has no {self.name} tensors ({self._why}): use {self._instead} "
                         f"instead of gpujit.{self.name}")

    def __getattr__(self, name):
        # what code reads of a real dtype (np, category, _rank...): the error above
        if name.startswith("__"):
            raise AttributeError(name)
        raise self.error()

    def to_real(self):
        return self

    def __repr__(self):
        return "gpujit." + self.name

    def __reduce__(self):
        return (_missing_dtype, (self.name,))


complex32 = chalf = MissingDtype("complex32", 4, "ComplexHalf", "NumPy has no complex32 type",
                                 "gpujit.complex64", is_complex=True)
MISSING = {"complex32": complex32, "chalf": complex32}


def _missing_dtype(name):
    return MISSING[name]


# ---- the quantized dtypes (session 47): torch.qint8 / quint8 / qint32 / quint4x2 / quint2x4
# and the qschemes exist, so that quantization code naming them (observers' dtype= and
# qscheme=, `dtype == torch.quint8` tests) runs; quantized tensors are made by
# gpujit/quantized.py only (any other use as a tensor's dtype is MissingDtype's error; fake
# quantization: ops/fake_quantize.py). A quantized dtype passes as a ScalarType argument
# (quantize_per_tensor's, in eager, traced and scripted code: codes 12-14).
class _QuantizedDtype(MissingDtype):
    __slots__ = ()
    cplx = False        # (read by entry points checking a ScalarType argument)

    @property
    def is_signed(self):
        raise RuntimeError("isSignedType not supported for quantized types")

    def error(self) -> TypeError:
        return TypeError(f"gpujit makes {self.name} tensors only with quantize_per_tensor / "
                         f"quantize_per_channel (gpujit/quantized.py: not as a dtype= of a "
                         f"factory or conversion); for "
                         f"values on the quantized grid use {self._instead}")


_Q_WHY = "quantized tensors are made by quantize_per_tensor (gpujit/quantized.py)"
_Q_INSTEAD = "fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine"
qint8, quint8, qint32, quint4x2, quint2x4 = (
    _QuantizedDtype(n, size, short, _Q_WHY, _Q_INSTEAD) for n, size, short in (
        ("qint8", 1, "QInt8"), ("quint8", 1, "QUInt8"), ("qint32", 4, "QInt32"),
        ("quint4x2", 1, "QUInt4x2"), ("quint2x4", 1, "QUInt2x4")))
QUANTIZED_TYPES = (qint8, quint8, qint32, quint4x2, quint2x4)
for _d in QUANTIZED_TYPES:
    _d.is_floating_point = False
    MISSING[_d.name] = _d
__all__ += [_d.name for _d in QUANTIZED_TYPES]


class _TorchNamed:
    """A named constant of torch's module that prints as torch's (torch.strided,
    torch.per_tensor_affine) and pickles as the module's own object of that name."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        # (the module's own objects by name: torch.strided / torch.per_tensor_affine
        # unpickle as themselves)
        return self.name if globals().get(self.name) is self else (type(self), (self.name,))


class qscheme(_TorchNamed):
    """A quantization scheme (torch.qscheme): torch.per_tensor_affine & co."""
    __slots__ = ()


per_tensor_affine, per_channel_affine, per_tensor_symmetric, per_channel_symmetric, \
    per_channel_affine_float_qparams = (
        qscheme(n) for n in ("per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
                             "per_channel_symmetric", "per_channel_affine_float_qparams"))
__all__ += ["qscheme", "per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
            "per_channel_symmetric", "per_channel_affine_float_qparams"]
# ---- (end of the quantized dtypes' block)


def from_numpy_dtype(np_dtype) -> dtype:
    """The gpujit dtype of a NumPy/CuPy dtype; a clear error for one gpujit does not have."""
    try:
        return _FROM_NP[np_dtype]
    except (KeyError, TypeError):
        pass
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"gpujit has no dtype for NumPy dtype {np_dtype!r}; supported: "
            + ", ".join(d.name for d in EVERY)) from None


def to_dtype(spec) -> dtype:
    """Accept a gpujit dtype, its name, a NumPy dtype, or Python's bool/int/float types."""
    if isinstance(spec, dtype):
        return spec
    if isinstance(spec, MissingDtype):
        raise spec.error()
    if spec is _builtin_bool:
        return bool
    if spec is _builtin_int:
        return int64
    if spec is _builtin_float:      # (C's double, as PyTorch's parser: not the default dtype)
        return float64
    if spec is complex:
        return complex128
    if isinstance(spec, str):
        name = spec[6:] if spec.startswith("torch.") else spec
        name = name[7:] if name.startswith("gpujit.") else name
        if name in _BY_NAME:
            return _BY_NAME[name]
        if name in MISSING:
            raise MISSING[name].error()
    mod = type(spec).__module__
    if mod == "torch":  # a torch.dtype, from interop
        return to_dtype(str(spec))
    try:
        return from_numpy_dtype(spec)
    except TypeError:
        raise TypeError(f"{spec!r} is not a dtype gpujit knows; use one of "
                        + ", ".join("gpujit." + d.name for d in EVERY)) from None


def python_type_dtype(spec):
    """The dtype PyTorch's argument parser reads spec as where a torch.dtype is wanted, or
    None: a dtype (float8's subclass, a quantized or missing one: their own errors later),
    Python's bool / int / float / complex (float64 and complex128 whatever the default
    dtype: torch.ones(2, dtype=float) is float64), a torch.dtype from interop. No str, int
    code or NumPy dtype: PyTorch's parser refuses them."""
    if isinstance(spec, (dtype, MissingDtype)):
        return spec
    if spec is _builtin_float or spec is complex or spec is _builtin_bool or \
            spec is _builtin_int:
        return to_dtype(spec)
    if type(spec).__module__ == "torch" and type(spec).__name__ == "dtype":
        return to_dtype(str(spec))
    return None


def dtype_param(spec, where):
    """python_type_dtype(spec), else PyTorch's parser TypeError for a parameter that takes a
    torch.dtype: where is "tensor(): argument 'dtype'" (a str, an int, a NumPy dtype)."""
    d = python_type_dtype(spec)
    if d is None:
        t = type(spec)
        name = t.__name__ if t.__module__ == "builtins" or t.__flags__ & (1 << 9) \
            else f"{t.__module__}.{t.__qualname__}"
        raise TypeError(f"{where} must be torch.dtype, not {name}")
    return d


# TorchScript's ScalarType codes (c10::ScalarType): a graph's dtype argument is an int
# there (`%6 : int = prim::Constant[value=6]()` for float32; `torch.zeros(y, dtype=6)`)
SCALAR_TYPE_CODES = {0: uint8, 1: int8, 2: int16, 3: int32, 4: int64, 5: float16,
                      6: float32, 7: float64, 9: complex64, 10: complex128, 11: bool,
                      15: bfloat16}
SCALAR_TYPE_CODES.update({27: uint16, 28: uint32, 29: uint64})
SCALAR_TYPE_CODES.update({23: float8_e5m2, 24: float8_e4m3fn, 25: float8_e5m2fnuz,     # (float8)
                          26: float8_e4m3fnuz, 44: float8_e8m0fnu})
_CODE_OF = {d: c for c, d in SCALAR_TYPE_CODES.items()}
_SCALAR_TYPE_NAMES = {8: "ComplexHalf",
                      12: "QInt8", 13: "QUInt8", 14: "QInt32"}


def scalar_type_code(d: dtype) -> int:
    """TorchScript's int code of a dtype (float32 is 6): what a scripted ScalarType value
    is to Python, str() and print() in TorchScript."""
    return _CODE_OF[d]


# the quantized dtypes' codes: ScalarType arguments of quantize_per_tensor & co. (a
# quantized dtype passes as one; any op making an array of it refuses, _QuantizedDtype)
_QUANTIZED_CODES = {12: qint8, 13: quint8, 14: qint32}
_CODE_OF.update({d: c for c, d in _QUANTIZED_CODES.items()})


def scalar_type_arg(spec) -> dtype:
    """An op's ScalarType argument: a dtype (to_dtype's forms), or TorchScript's int code
    of one (6 is float32), as graphs and scripted code pass it."""
    if type(spec) is _builtin_int:
        if spec in SCALAR_TYPE_CODES:
            return SCALAR_TYPE_CODES[spec]
        if spec in _QUANTIZED_CODES:
            return _QUANTIZED_CODES[spec]
        name = _SCALAR_TYPE_NAMES.get(spec)
        raise TypeError(f"ScalarType {spec}" + (f" ({name})" if name else "") +
                        " is not a dtype gpujit has; use one of " +
                        ", ".join("gpujit." + d.name for d in EVERY))
    try:
        return to_dtype(spec)
    except TypeError:
        if isinstance(spec, _QuantizedDtype):
            return spec
        raise


_default_float = float32


def get_default_dtype() -> dtype:
    return _default_float


def get_default_complex_dtype() -> dtype:
    """The complex dtype of a Python complex number (torch's: complex64 while the default
    dtype is float32, complex128 under float64)."""
    c = _COMPLEX_OF.get(_default_float)
    if c is None:
        if _default_float is bfloat16:  # (c10 has no complex bfloat16)
            raise RuntimeError("invalid default scalar type for complex")
        raise complex32.error()         # (float16's: complex32)
    return c


def set_default_dtype(d) -> None:
    global _default_float
    if not isinstance(d, dtype):    # (PyTorch's: no str, NumPy dtype or Python float either)
        raise TypeError("invalid dtype object: only floating-point types are supported as "
                        "the default type")
    if d.category != FLOATING:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d
    _RESULT_CACHE.clear()
    for cache in DEFAULT_DTYPE_CACHES:      # the ops' promotion caches (ops.registry)
        cache.clear()


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """PyTorch's promoteTypes for two dtypes (not NumPy's table); torch.promote_types's
    parameter names."""
    a, b = type1, type2
    if a.__class__ is not dtype or b.__class__ is not dtype:    # (float8's is a subclass)
        a = dtype_param(a, "promote_types(): argument 'type1' (position 1)")
        b = dtype_param(b, "promote_types(): argument 'type2' (position 2)")
    if a is b:
        return a
    if a in _FLOAT8 or b in _FLOAT8:
        raise _float8_promotion(a, b)
    if a in QUANTIZED_TYPES or b in QUANTIZED_TYPES:
        # (c10's words; a quantized dtype with itself is itself, above)
        raise RuntimeError(f"promoteTypes with quantized numbers is not handled yet; figure "
                           f"out what the correct rules should be, offending types: "
                           f"{a.short_name} {b.short_name}")
    if a in UNSIGNED_TYPES or b in UNSIGNED_TYPES:
        return _promote_unsigned(a, b)
    if (a is bfloat16 and b is float16) or (a is float16 and b is bfloat16):
        return float32      # (neither holds the other's values)
    ca, cb = a.category, b.category
    if ca != cb:
        if ca < cb:
            a, b, ca, cb = b, a, cb, ca
        if ca == COMPLEX:
            # complex beats the rest, at the wider of the two value types
            # (complex64 + float64 is complex128)
            return a if cb != FLOATING or a._rank >= b._rank else b.to_complex()
        if ca == FLOATING or cb == BOOL:
            return a   # float beats int/bool whatever the width; int beats bool
    if ca >= FLOATING:
        return a if a._rank >= b._rank else b
    # both integral
    if a is uint8 or b is uint8:
        other = b if a is uint8 else a
        return other if other._rank > 1 else int16   # uint8 + int8 -> int16
    return a if a._rank >= b._rank else b


def _promote_unsigned(a, b):
    """c10's promoteTypes for uint16 / uint32 / uint64 with another dtype: a floating one
    wins, anything else is PyTorch's RuntimeError."""
    if a.category == FLOATING:
        return a
    if b.category == FLOATING:
        return b
    raise RuntimeError(f"Promotion for uint16, uint32, uint64 types is not supported, "
                       f"attempted to promote {a.short_name} and {b.short_name}")


def _combine_categories(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    # (c10's combine_categories: a complex operand of a lower priority keeps a floating
    # higher's value type, float32 tensor * 1j is complex64)
    if higher.category == COMPLEX:
        return higher
    if lower.category == COMPLEX:
        return higher.to_complex() if higher.category == FLOATING else lower
    if higher.category == FLOATING:
        return higher
    if higher is bool or lower.category == FLOATING:
        return promote_types(higher, lower)
    return higher


def _scalar_dtype(x):
    t = type(x)
    if t is _builtin_bool or t is np.bool_:
        return bool
    if t is _builtin_float or isinstance(x, (_builtin_float, np.floating)):
        return _default_float
    if isinstance(x, (_builtin_int, np.integer)):
        # (an int in [2**63, 2**64): PyTorch's uint64 Scalar, registry.scalar_kind)
        return uint64 if type(x) is _builtin_int and x >> 63 == 1 else int64
    if isinstance(x, (complex, np.complexfloating)):
        return get_default_complex_dtype()
    raise TypeError(f"expected a Tensor or a number, got {type(x).__name__}")


# operand kinds for the result-type cache
DIM, ZERO_DIM, SCALAR = 0, 1, 2
_RESULT_CACHE: dict = {}
# caches of results that depend on the default dtype (an int tensor's sigmoid is of the
# default float dtype): set_default_dtype empties them
DEFAULT_DTYPE_CACHES: list = []


def result_type_from_kinds(kinds: tuple) -> dtype:
    """kinds: ((dtype, DIM|ZERO_DIM|SCALAR), ...). Cached; this is on the eager hot path."""
    r = _RESULT_CACHE.get(kinds)
    if r is not None:
        return r
    slots = [None, None, None]
    for d, k in kinds:
        cur = slots[k]
        slots[k] = d if cur is None else promote_types(cur, d)
    r = _combine_categories(slots[DIM], _combine_categories(slots[ZERO_DIM], slots[SCALAR]))
    _RESULT_CACHE[kinds] = r
    return r


def operand_kind(x):
    """(dtype, kind) of an operand: a Tensor-like with .dtype/.dim(), or a Python number."""
    d = getattr(x, "_dtype", None)
    if d is not None:
        if x._data.ndim:
            return (d, DIM)
        if getattr(x, "_wrapped_number", False):    # (a number's: registry.wrapped_number)
            return (_scalar_dtype(x._data.item()), SCALAR)
        return (d, ZERO_DIM)
    if isinstance(x, dtype):
        raise TypeError("a dtype is not an operand")
    # a Python scalar: float scalars take the default dtype at promotion time
    return (_scalar_dtype(x), SCALAR)


def result_type(*operands) -> dtype:
    """gpujit.result_type(tensor_or_number, ...) as torch.result_type."""
    if not operands:
        raise TypeError("result_type() needs at least one operand")
    return result_type_from_kinds(tuple(operand_kind(x) for x in operands))


def can_cast(from_: dtype, to: dtype) -> _builtin_bool:
    """torch.can_cast: casting is allowed unless it lowers the category (float->int, int->bool)."""
    return dtype_param(from_, "can_cast(): argument 'from_' (position 1)").category <= \
        dtype_param(to, "can_cast(): argument 'to' (position 2)").category


class iinfo:
    def __init__(self, d):
        d = dtype_param(d, "iinfo(): argument 'type' (position 1)")
        if d.category >= FLOATING:
            raise TypeError(f"iinfo takes an integer dtype, got {d!r}")
        if d is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        info = np.iinfo(d.np)
        self.bits = d.itemsize * 8
        self.min = _builtin_int(info.min)
        self.max = _builtin_int(info.max)
        self.dtype = d.name

    def __repr__(self):
        # (PyTorch prints the bounds as C++'s ostream does a double: 6 significant digits)
        return (f"iinfo(min={_builtin_float(self.min):.6g}, max={_builtin_float(self.max):.6g}, "
                f"dtype={self.dtype})")


class finfo:
    def __init__(self, d=None):
        d = dtype_param(d, "finfo(): argument 'type' (position 1)") if d is not None \
            else _default_float
        if d.category < FLOATING:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        d = d.to_real()     # (torch.finfo(torch.complex64) is float32's)
        if d is bfloat16:
            self.__dict__.update(_BF16_FINFO, min=-_BF16_FINFO["max"], dtype="bfloat16",
                                 smallest_normal=_BF16_FINFO["tiny"])
            return
        if d in _FLOAT8:
            eps, hi, tiny = _F8_FINFO[d]
            self.__dict__.update(bits=8, eps=eps, max=hi, tiny=tiny, smallest_normal=tiny,
                                 min=tiny if d is float8_e8m0fnu else -hi, resolution=1.0,
                                 dtype=d.name)
            return
        info = np.finfo(d.np)
        self.bits = d.itemsize * 8
        self.eps = _builtin_float(info.eps)
        self.max = _builtin_float(info.max)
        self.min = _builtin_float(info.min)
        self.tiny = self.smallest_normal = _builtin_float(info.tiny)
        # (10 ** -digits10 in double, as c10's: NumPy's float16 one is a float16, 0.0010004)
        self.resolution = 10.0 ** -info.precision
        self.dtype = d.name

    def __repr__(self):
        # (as PyTorch's: each value as C++ prints a double, 6 significant digits)
        return (f"finfo(resolution={self.resolution:.6g}, min={self.min:.6g}, "
                f"max={self.max:.6g}, eps={self.eps:.6g}, "
                f"smallest_normal={self.smallest_normal:.6g}, tiny={self.tiny:.6g}, "
                f"dtype={self.dtype})")


# ------------------------------------------------------------------ float -> int
# C leaves a float -> integer conversion of nan, inf or an out-of-range value undefined.
# gpujit gives what NumPy gives on this host everywhere (eager CPU and GPU, fused kernels on
# every target), so that GPU-vs-CPU checks agree; on x86 that is the cvtt instructions'
# "integer indefinite": int64 and int32 get their minimum, narrower types the low bits of
# the int32 result (-1.5 -> uint8 is 255, as PyTorch gives on CPU and CUDA).

def x86_conversion_range(np_dtype):
    """(wide, lo, hi, indefinite) of cvtt's float -> integer np_dtype: a float strictly
    between lo and hi truncates into the wide type (int64 for 8-byte targets, else int32),
    any other (and nan) gives `indefinite`; a narrower target keeps the low bits. Eager
    CuPy (ops/conversion.py) and the fused kernels' `_f2i_<t>` (kernels/prims.py) use it.
    uint8 goes through int64, as c10's static_cast_with_inter_type<uint8_t> converts on
    either device (float64 3000000007.0 is 7; int32's cvtt would give 0)."""
    dt = np.dtype(np_dtype)
    bits = 64 if dt.itemsize == 8 or dt == np.uint8 else 32
    return (np.int64 if bits == 64 else np.int32, -2.0 ** (bits - 1) - 1, 2.0 ** (bits - 1),
            -(1 << (bits - 1)))


def _x86_conversion(v, dtype):
    """What the cvtt instructions give for float v converted to integer dtype."""
    _, lo, hi, indefinite = x86_conversion_range(dtype)
    r = _builtin_int(v) if lo < v < hi else indefinite
    return _builtin_int(np.array(r, np.int64).astype(dtype))


def _host_converts_like_x86():
    import warnings
    probe = [np.nan, np.inf, -np.inf, 1e300, -3e9, 3e9, 70000.2, -200.5, 300.7]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return all([_builtin_int(x) for x in np.array(probe).astype(t)] ==
                   [_x86_conversion(v, np.dtype(t)) for v in probe]
                   for t in (np.int64, np.int32, np.int16, np.int8, np.uint8))


HOST_X86_CONVERSIONS = _host_converts_like_x86()


class layout(_TorchNamed):
    """A tensor's memory layout (torch.layout); gpujit tensors are all `strided`."""
    __slots__ = ()


strided = layout("strided")
# PyTorch's sparse layouts: sparse COO tensors (x.to_sparse(): gpujit/_sparse_coo.py) have
# sparse_coo; a factory given a sparse layout refuses it (ops/sparse_refusals.py)
sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc = (
    layout(n) for n in ("sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc"))
SPARSE_LAYOUTS = (sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)
# torch.nested's jagged layout (gpujit/nested/_jagged.py)
jagged = layout("jagged")
