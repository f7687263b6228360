"""Python-scalar ops: the int / float / bool arithmetic, comparisons and conversions that
scripted graphs compute on (`i + 1`, `x.size(0) // 2`, `if n > 0:`, `int(t)`) and that
constant propagation folds. They take and return Python values, as TorchScript's
`aten::add.int(int a, int b) -> int` does, and are bound neither as gpujit functions nor as
Tensor methods (Python's own operators serve eager code).

This family is imported first (ops.FAMILIES), so each scalar overload comes before the
Tensor overloads of the same name in OVERLOADS. Resolution on IR types
(ir.schema_match.resolve_op) takes the first overload that fits, and the Tensor overloads
of pointwise ops accept numbers for their operands; a scalar overload never accepts a
Tensor, so `aten::add(%i, %j)` on ints resolves to add.int while a call with a Tensor still
resolves to add.Tensor. Within a name the int overload precedes the float one, because a
`float` argument also accepts an int (mixed int/float calls take the float overload).
"""
from __future__ import annotations

import operator

from .meta import wrap_dim
from .registry import op

# qualified name -> the Python expression the op is, over its argument names: the
# executor's generated code writes `i + 1` for aten::add.int instead of calling the impl
PYTHON_FORMS: dict = {}

# every op declared here: its impl returns a Python value (no `.item()` needed)
PYTHON_VALUED: set = set()


def _returns(t):
    """Meta rule of an op whose result is a Python value: its type."""
    def rule(*args):
        return t
    return rule


_META = {"int": _returns(int), "float": _returns(float), "bool": _returns(bool),
         "str": _returns(str)}


def _scalar_op(schema, meta=None, form=None):
    """@op for this family: unbound, meta from the return type, recorded above."""
    name = schema.split("(", 1)[0]
    ret = schema.rsplit("->", 1)[1].strip()
    PYTHON_VALUED.add(name)
    if form is not None:
        PYTHON_FORMS[name] = form
    return op(schema, meta=meta or _META[ret], function=False, method=False)


def _binary(name, fn, arg_type, ret_type, form, convert=None):
    @_scalar_op(f"aten::{name}.{arg_type}({arg_type} a, {arg_type} b) -> {ret_type}",
                form="{a} %s {b}" % form)
    def impl(xp, a, b):
        r = fn(a, b)
        return r if convert is None else convert(r)
    impl.__name__ = f"{name}_{arg_type}"
    impl.__doc__ = f"Python's {form} on {arg_type}s."
    return impl


# ------------------------------------------------------------------ arithmetic
# Python semantics: // and % round toward -inf (as TorchScript's floordiv/remainder do),
# and a zero divisor raises ZeroDivisionError; on ints that is also TorchScript's
# RuntimeError('division by 0').

class IntegerDivisionByZero(ZeroDivisionError, RuntimeError):
    """PyTorch raises RuntimeError for integer division by zero (TorchScript's `a // 0`:
    'division by 0'; a CPU int tensor's: 'ZeroDivisionError'); this is both, so `except
    ZeroDivisionError` and `except RuntimeError` catch it."""


def int_division_by_zero(what="division"):
    """Raise `a // 0` / `a % 0` on ints (the generated code's forms call it as _int_div0)."""
    raise IntegerDivisionByZero(f"{what} by 0")


def _int_floordiv(a, b):
    return a // b if b else int_division_by_zero()


def _int_mod(a, b):
    return a % b if b else int_division_by_zero("modulo")


_ARITH = (("add", operator.add, "+"), ("sub", operator.sub, "-"),
          ("mul", operator.mul, "*"), ("floordiv", operator.floordiv, "//"),
          ("remainder", operator.mod, "%"))
_INT_DIVISION = {"floordiv": (_int_floordiv, "({a} // {b} if {b} else _int_div0())"),
                 "remainder": (_int_mod, "({a} % {b} if {b} else _int_div0('modulo'))")}
# qualified name -> its form for a divisor not known to be non-zero (PYTHON_FORMS holds
# the plain one, for a constant divisor)
GUARDED_FORMS: dict = {}

for _name, _fn, _form in _ARITH:
    if _name in _INT_DIVISION:
        _fn, GUARDED_FORMS[f"aten::{_name}.int"] = _INT_DIVISION[_name]
    globals()[f"{_name}_int"] = _binary(_name, _fn, "int", "int", _form)
for _name, _fn, _form in _ARITH:
    globals()[f"{_name}_float"] = _binary(_name, _fn, "float", "float", _form, float)

div_int = _binary("div", operator.truediv, "int", "float", "/")
div_float = _binary("div", operator.truediv, "float", "float", "/")


@_scalar_op("aten::neg.int(int a) -> int", form="-{a}")
def neg_int(xp, a):
    return -a


@_scalar_op("aten::neg.float(float a) -> float", form="-{a}")
def neg_float(xp, a):
    return -float(a)


# ------------------------------------------------------------------ comparisons

_COMPARE = (("lt", operator.lt, "<"), ("gt", operator.gt, ">"), ("le", operator.le, "<="),
            ("ge", operator.ge, ">="), ("eq", operator.eq, "=="), ("ne", operator.ne, "!="))

for _name, _fn, _form in _COMPARE:
    globals()[f"{_name}_int"] = _binary(_name, _fn, "int", "bool", _form)
for _name, _fn, _form in _COMPARE:
    globals()[f"{_name}_float"] = _binary(_name, _fn, "float", "bool", _form)
for _name, _fn, _form in _COMPARE[4:]:
    globals()[f"{_name}_bool"] = _binary(_name, _fn, "bool", "bool", _form)
    globals()[f"{_name}_str"] = _binary(_name, _fn, "str", "bool", _form)


# on Scalars (what x.item() is in a graph: an int, float or bool known only at run time),
# after the typed overloads, so typed arguments keep their own
def _number_op(name, fn, ret, form):
    meta = _META["bool"] if ret == "bool" else (lambda a, b: type(fn(a, b)))

    @_scalar_op(f"aten::{name}.Scalar_Scalar(Scalar a, Scalar b) -> {ret}", meta=meta,
                form="{a} %s {b}" % form)
    def impl(xp, a, b):
        return fn(a, b)
    impl.__name__ = f"{name}_scalar_scalar"
    impl.__doc__ = f"Python's {form} on numbers whose type is known at run time."
    return impl


for _name, _fn, _form in _COMPARE:
    globals()[f"{_name}_number"] = _number_op(_name, _fn, "bool", _form)
for _name, _fn, _form in _ARITH[:3] + (("div", operator.truediv, "/"),):
    globals()[f"{_name}_number"] = _number_op(_name, _fn, "Scalar", _form)


# ------------------------------------------------------------------ bool logic

@_scalar_op("aten::__not__(bool self) -> bool", form="not {self}")
def not_(xp, self):
    return not self


and_bool = _binary("__and__", operator.and_, "bool", "bool", "&")
or_bool = _binary("__or__", operator.or_, "bool", "bool", "|")
xor_bool = _binary("__xor__", operator.xor, "bool", "bool", "^")
and_int = _binary("__and__", operator.and_, "int", "int", "&")
or_int = _binary("__or__", operator.or_, "int", "int", "|")
xor_int = _binary("__xor__", operator.xor, "int", "int", "^")
lshift_int = _binary("__lshift__", operator.lshift, "int", "int", "<<")
rshift_int = _binary("__rshift__", operator.rshift, "int", "int", ">>")


# ------------------------------------------------------------------ conversions

def _one_element(a, what):
    if a.size != 1:
        raise RuntimeError(f"a Tensor with {a.size} elements cannot be converted to {what} "
                           f"(only one element tensors can be converted to Python scalars)")
    return a.reshape(()).item()


@_scalar_op("aten::Int.Tensor(Tensor a) -> int")
def int_tensor(xp, a):
    return int(_one_element(a, "int"))


@_scalar_op("aten::Int.float(float a) -> int")
def int_float(xp, a):
    return int(a)


@_scalar_op("aten::Int.bool(bool a) -> int")
def int_bool(xp, a):
    return int(a)


@_scalar_op("aten::Int.str(str a) -> int")
def int_str(xp, a):
    return int(a)


@_scalar_op("aten::Float.Tensor(Tensor a) -> float")
def float_tensor(xp, a):
    return float(_one_element(a, "float"))


@_scalar_op("aten::Float.int(int a) -> float")
def float_int(xp, a):
    return float(a)


@_scalar_op("aten::Float.bool(bool a) -> float")
def float_bool(xp, a):
    return float(a)


@_scalar_op("aten::Float.str(str a) -> float")
def float_str(xp, a):
    return float(a)


# a Scalar (what x.item() gives in a graph) to a Python number: after the typed overloads
@_scalar_op("aten::Int.Scalar(Scalar a) -> int")
def int_scalar(xp, a):
    return int(a)


@_scalar_op("aten::Float.Scalar(Scalar a) -> float")
def float_scalar(xp, a):
    return float(a)


@_scalar_op("aten::Bool.Tensor(Tensor a) -> bool")
def bool_tensor(xp, a):
    return bool(_one_element(a, "bool"))


@_scalar_op("aten::Bool.int(int a) -> bool")
def bool_int(xp, a):
    return bool(a)


@_scalar_op("aten::Bool.float(float a) -> bool")
def bool_float(xp, a):
    return bool(a)


# ------------------------------------------------------------------ tensor facts

@_scalar_op("aten::size.int(Tensor self, int dim) -> int")
def size_int(xp, self, dim):
    if self.ndim == 0:
        raise IndexError(f"size(): dimension specified as {dim} but tensor has no "
                         f"dimensions")
    return int(self.shape[wrap_dim(dim, self.ndim)])


def _sizes_meta(self):
    return list(self.shape)     # the sizes, None where the meta does not know one


@_scalar_op("aten::size(Tensor self) -> int[]", meta=_sizes_meta)
def size(xp, self):
    return [int(s) for s in self.shape]


@_scalar_op("aten::stride(Tensor self) -> int[]", meta=lambda self: [None] * len(self.shape))
def stride(xp, self):
    """`x.stride()` in scripted code: element strides, as PyTorch's."""
    return [int(s) // self.itemsize for s in self.strides]


@_scalar_op("aten::stride.int(Tensor self, int dim) -> int")
def stride_int(xp, self, dim):
    if self.ndim == 0:
        raise IndexError(f"stride(): dimension specified as {dim} but tensor has no "
                         f"dimensions")
    return int(self.strides[wrap_dim(dim, self.ndim)]) // self.itemsize


@_scalar_op("aten::is_contiguous(Tensor self) -> bool")
def is_contiguous(xp, self):
    """`x.is_contiguous()` in scripted code (the strides of size-1 dims do not count)."""
    return bool(self.flags.c_contiguous)


@_scalar_op("aten::is_contiguous.memory_format(Tensor self, MemoryFormat memory_format) "
            "-> bool")
def is_contiguous_memory_format(xp, self, memory_format):
    from . import memory_format as _mf
    fmt = _mf.canonical(memory_format, _mf.CONTIGUOUS)
    return _mf.is_contiguous_as(self.shape, self.strides, self.itemsize, fmt)


@_scalar_op("aten::dim(Tensor self) -> int")
def dim(xp, self):
    return self.ndim


@_scalar_op("aten::numel(Tensor self) -> int")
def numel(xp, self):
    return int(self.size)


@_scalar_op("aten::len.Tensor(Tensor t) -> int")
def len_tensor(xp, t):
    if t.ndim == 0:
        raise TypeError("len() of a 0-d tensor")
    return int(t.shape[0])


@_scalar_op("aten::len.t(t[] a) -> int")
def len_list(xp, a):
    return len(a)


@_scalar_op("aten::is_floating_point(Tensor self) -> bool")
def is_floating_point(xp, self):
    from ..dtypes import from_numpy_dtype
    return from_numpy_dtype(self.dtype).is_floating_point


@_scalar_op("aten::is_cuda(Tensor self) -> bool")
def is_cuda(xp, self):
    """`x.is_cuda` in scripted code: its array lives on a GPU (not a NumPy array)."""
    import numpy as np
    return not isinstance(self, (np.ndarray, np.generic))


@_scalar_op("aten::device_type(Device self) -> str")
def device_type(xp, self):
    """`x.device.type` in scripted code: "cpu" or "cuda"."""
    return self.type


# ------------------------------------------------------------------ dtypes, devices, lists
# `x.dtype == torch.float32`, `x.device != y.device`, `list(x.shape) == [2, 3]`: Python's
# == on the values (dtype and device objects, lists)

for _arg, _suffix in (("ScalarType", "ScalarType"), ("Device", "device"),
                      ("int[]", "int_list"), ("float[]", "float_list"),
                      ("str[]", "str_list"), ("bool[]", "bool_list")):
    for _name, _fn, _form in (("eq", operator.eq, "=="), ("ne", operator.ne, "!=")):
        def _cmp(xp, a, b, _fn=_fn):
            return _fn(a, b)
        _cmp.__name__ = f"{_name}_{_suffix}"
        _cmp.__doc__ = f"Python's {_form} on {_arg} values."
        globals()[_cmp.__name__] = _scalar_op(
            f"aten::{_name}.{_suffix}({_arg} a, {_arg} b) -> bool",
            form="{a} %s {b}" % _form)(_cmp)


# overloads a call resolves to only when the frontend names them (pow.int_to_int for a
# known non-negative exponent), never by matching argument types
EXPLICIT_ONLY = {"aten::pow.int_to_int"}


@_scalar_op("aten::pow.int_to_int(int a, int b) -> int", form="{a} ** {b}")
def pow_int_to_int(xp, a, b):
    """`n ** 2`: an int, as Python gives for a non-negative int exponent (scripted code
    uses it only for one known not to be negative)."""
    if b < 0:
        raise ValueError("pow.int_to_int: negative exponent")
    return a ** b


# ------------------------------------------------------------------ math
# Python's `math` module on Python numbers, as scripted code calls it (`math.sqrt(n)`,
# `math.floor(x)`): TorchScript's aten::sqrt.float(float a) -> float, floor.float -> int,
# isnan.float -> bool, pow.float ... An int argument fits a float parameter.

import math as _math  # noqa: E402

MATH_OPS: set = set()      # the overloads math.<name> in scripted code resolves among


def _math_op(schema, fn):
    @_scalar_op(schema)
    def impl(xp, *args):
        return fn(*args)
    name = schema.split("(", 1)[0]
    MATH_OPS.add(name)
    impl.__name__ = name.split("::")[1].replace(".", "_")
    impl.__doc__ = f"Python's {fn.__module__}.{fn.__name__}."
    return impl


for _name in ("sqrt", "exp", "log", "log2", "log10", "fabs", "sin", "cos", "tan", "tanh",
              "asin", "acos", "atan", "sinh", "cosh", "expm1", "log1p"):
    globals()[f"{_name}_float"] = _math_op(f"aten::{_name}.float(float a) -> float",
                                           getattr(_math, _name))
for _name in ("floor", "ceil", "trunc"):
    globals()[f"{_name}_float"] = _math_op(f"aten::{_name}.float(float a) -> int",
                                           getattr(_math, _name))
for _name in ("isnan", "isinf", "isfinite"):
    globals()[f"{_name}_float"] = _math_op(f"aten::{_name}.float(float a) -> bool",
                                           getattr(_math, _name))
def _pow(a, b):
    """TorchScript's pow on Python numbers (C's pow): nan for a negative base to a
    fractional power, +-inf past the float range, where math.pow raises; 0.0 to a negative
    power is TorchScript's RuntimeError."""
    a, b = float(a), float(b)
    if a == 0.0 and b < 0.0:
        raise RuntimeError("0.0 cannot be raised to a negative power")
    try:
        return _math.pow(a, b)
    except (ValueError, OverflowError):
        import numpy as np
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(a), np.float64(b)))


for _name in ("pow", "atan2", "fmod", "copysign", "hypot"):
    globals()[f"{_name}_float"] = _math_op(f"aten::{_name}.float(float a, float b) -> float",
                                           _pow if _name == "pow" else getattr(_math, _name))
# x.item() ** y.item(): numbers whose type is known only at run time
pow_scalar_scalar = _math_op("aten::pow.Scalar_Scalar(Scalar a, Scalar b) -> float", _pow)
log_base = _math_op("aten::log.float_base(float a, float base) -> float", _math.log)
round_float = _math_op("aten::round.float(float a) -> int", round)


def _round_to(a, ndigits):
    return round(float(a), ndigits)


round_ndigits = _math_op("aten::round.float_ndigits(float a, int ndigits) -> float", _round_to)



@op("aten::is_grad_enabled() -> bool", meta=_META["bool"], function=False, method=False,
    tags={"nondeterministic"})      # (never folded, merged or dropped: the mode changes)
def is_grad_enabled(xp):
    """Scripted `torch.is_grad_enabled()`: this thread's grad mode when the call runs."""
    from ..autograd.grad_mode import is_grad_enabled as enabled
    return enabled()


PYTHON_VALUED.add("aten::is_grad_enabled")

from . import scalar_str  # noqa: E402,F401  (str ops: after the numbers, before Tensor ops)
