"""OpInfos of the scalar-family ops scripted code uses beyond arithmetic: Python's `math`
functions on numbers (gpujit/ops/scalar_ops.py, MATH_OPS), round, and the str operators
and methods (gpujit/ops/scalar_str.py). The reference is Python itself."""
from __future__ import annotations

import enum
import math
import re

import numpy as np

from . import OpInfo, Sample, ErrorSample

_FLOATS = [Sample(2.25), Sample(0.5), Sample(7), Sample(1e-3)]
_ANY = [Sample(-2.5), Sample(0.0), Sample(3), Sample(1.75)]

OPINFOS = []
# (no math.log2 / trunc / hypot: TorchScript refuses them, "Python builtin <built-in function
# log2> is currently not supported in Torchscript")
for _name in ("sqrt", "log", "log10"):
    OPINFOS.append(OpInfo(f"aten::{_name}.float", ref=getattr(math, _name), samples=_FLOATS))
    # (outside the domain: C's nan / -inf, see tests/test_script_number_semantics.py)
for _name in ("exp", "fabs", "sin", "cos", "tan", "tanh", "atan", "sinh", "cosh", "expm1",
              "floor", "ceil"):
    OPINFOS.append(OpInfo(f"aten::{_name}.float", ref=getattr(math, _name), samples=_ANY))
for _name in ("asin", "acos"):
    OPINFOS.append(OpInfo(f"aten::{_name}.float", ref=getattr(math, _name),
                          samples=[Sample(0.5), Sample(-1.0), Sample(0)]))
OPINFOS.append(OpInfo("aten::log1p.float", ref=math.log1p, samples=_FLOATS))
for _name in ("isnan", "isinf", "isfinite"):
    OPINFOS.append(OpInfo(f"aten::{_name}.float", ref=getattr(math, _name),
                          samples=[Sample(1.5), Sample(math.nan), Sample(-math.inf),
                                   Sample(2)]))
_PAIRS = [Sample(2.0, 3.0), Sample(-1.5, 2), Sample(3, 0.5), Sample(0.0, -2.0)]
for _name in ("atan2", "copysign"):
    OPINFOS.append(OpInfo(f"aten::{_name}.float", ref=getattr(math, _name), samples=_PAIRS))
OPINFOS += [
    OpInfo("aten::pow.float", ref=math.pow, samples=[Sample(2.0, 3.0), Sample(4, 0.5),
                                                     Sample(-2.0, 2)],
           errors=[ErrorSample(0.0, -1.0, exc=RuntimeError)]),
    # x.item() ** y.item(): a float whatever the numbers (TorchScript's pow.Scalar_Scalar)
    OpInfo("aten::pow.Scalar_Scalar", ref=lambda a, b: math.pow(a, b),
           samples=[Sample(2, 2), Sample(2, -2), Sample(0.5, 2), Sample(True, 3),
                    Sample(9.0, 0.5)],
           errors=[ErrorSample(0, -1, exc=RuntimeError)]),
    OpInfo("aten::fmod.float", ref=math.fmod, samples=[Sample(7.5, 2.0), Sample(-7, 3)]),
    OpInfo("aten::pow.int", ref=lambda a, b: float(a) ** b,
           samples=[Sample(2, 3), Sample(2, -1), Sample(0, 0), Sample(-3, 3)],
           errors=[ErrorSample(0, -1, exc=RuntimeError, match="negative power")]),
    OpInfo("aten::gamma.float", ref=math.gamma, samples=[Sample(0.5), Sample(4), Sample(-1.5)]),
    OpInfo("aten::lgamma.float", ref=math.lgamma, samples=[Sample(0.5), Sample(10.0)]),
    OpInfo("aten::erf.float", ref=math.erf, samples=_ANY),
    OpInfo("aten::erfc.float", ref=math.erfc, samples=_ANY),
    OpInfo("aten::degrees.float", ref=math.degrees, samples=_ANY),
    OpInfo("aten::radians.float", ref=math.radians, samples=_ANY),
    OpInfo("aten::factorial.int", ref=math.factorial, samples=[Sample(0), Sample(5)],
           errors=[ErrorSample(-1, exc=RuntimeError, match="negative values")]),
    OpInfo("aten::gcd.int", ref=math.gcd, samples=[Sample(12, -18), Sample(0, 5)]),
    OpInfo("aten::log.float_base", ref=math.log, samples=[Sample(8.0, 2.0), Sample(100, 10)]),
    OpInfo("aten::round.float", ref=lambda a: float(round(a)), samples=[Sample(2.5), Sample(3.5), Sample(-1.4),
                                                   Sample(7)]),
]

# ------------------------------------------------------------------ str
OPINFOS.append(OpInfo("aten::add.str", ref=lambda a, b: a + b,
                      samples=[Sample("ab", "cd"), Sample("", "x")]))
for _name, _fn in (("lt", str.__lt__), ("gt", str.__gt__), ("le", str.__le__),
                   ("ge", str.__ge__)):
    OPINFOS.append(OpInfo(f"aten::{_name}.str", ref=_fn,
                          samples=[Sample("a", "b"), Sample("b", "a"), Sample("x", "x")]))
_WORDS = [Sample("  Hello World  "), Sample(""), Sample("123"), Sample("a1")]
for _name in ("upper", "lower", "isdigit", "isalpha", "isspace", "strip", "lstrip",
              "rstrip"):
    OPINFOS.append(OpInfo(f"aten::{_name}", ref=getattr(str, _name), samples=_WORDS))
OPINFOS += [
    OpInfo("aten::startswith", ref=str.startswith, samples=[Sample("relu6", "relu"),
                                                            Sample("a", "b")]),
    OpInfo("aten::endswith", ref=str.endswith, samples=[Sample("x.weight", ".weight"),
                                                        Sample("a", "ab")]),
    OpInfo("aten::replace", ref=str.replace, samples=[Sample("a-b-c", "-", "+"),
                                                      Sample("aaa", "a", "b", 2)]),
    OpInfo("aten::find", ref=str.find, samples=[Sample("hello", "l"), Sample("a", "z")]),
    # (TorchScript's split without a separator ignores max: "a b c".split(None, 1) is
    # ['a', 'b', 'c'] in torch 2.13)
    OpInfo("aten::split.str", ref=lambda s, sep=None, m=-1: s.split(sep, m) if sep is not None
           else s.split(),
           samples=[Sample("a,b,,c", ","), Sample(" a  b "), Sample("a b c", None, 1)]),
    OpInfo("aten::join", ref=str.join, samples=[Sample(", ", ["a", "b"]), Sample("-", [])]),
    OpInfo("aten::str.Tensor", ref=None, samples=[Sample(np.array([1.0, 2.5], np.float32)),
                                                  Sample(np.array(3, np.int64))],
           check=lambda sample, out: _check_tensor_str(sample, out)),
]


def _check_tensor_str(sample, out):
    # scripted str(x): ATen's C++ printer text, as torch 2.13's TorchScript writes it
    want = {(2,): " 1.0000\n 2.5000\n[ CPUFloatType{2} ]", (): "3\n[ CPULongType{} ]"}
    assert out == want[sample.args[0].shape], out

OPINFOS += [
    # (C++'s stoll / stod: leading whitespace only; stod also takes hex floats)
    OpInfo("aten::Int.str", ref=int, samples=[Sample("12"), Sample(" -3"), Sample("+7")],
           errors=[ErrorSample("1.5", exc=ValueError), ErrorSample(" 7 ", exc=ValueError),
                   ErrorSample("1_000", exc=ValueError, match="invalid literal")]),
    OpInfo("aten::Float.str", ref=lambda s: float.fromhex(s) if "x" in s else float(s),
           samples=[Sample("1.5"), Sample("-2"), Sample("inf"), Sample("\t-1e3"),
                    Sample("0x1.8p1")],
           errors=[ErrorSample("x", exc=ValueError), ErrorSample("1.5 ", exc=ValueError),
                   ErrorSample("1e400", exc=RuntimeError, match="stod")]),
]


# ------------------------------------------------------------------ tensor facts, ==/!=


def _dt():
    import gpujit
    return gpujit


def _check_element_size(sample, out):
    assert out == sample.args[0].itemsize and type(out) is int, out


OPINFOS += [
    OpInfo("aten::is_floating_point", ref=lambda a: a.dtype.kind == "f",
           samples=[Sample(np.array([1.0], np.float32)), Sample(np.array([1], np.int64)),
                    Sample(np.array(True))]),
    # (checked on the sample's own array: the reference's float copies are float64)
    OpInfo("aten::element_size", check=_check_element_size, samples=[
        Sample(np.array([1.0], np.float32)), Sample(np.array([1], np.int64)),
        Sample(np.array(True)), Sample(np.ones(2, np.float16))]),
    OpInfo("aten::is_cuda", ref=lambda a: False, samples=[Sample(np.array([1.0], np.float32))]),
    OpInfo("aten::is_cpu", ref=lambda a: True, samples=[Sample(np.array([1.0], np.float32))]),
    # a Tensor passed for a number argument in scripted code (TorchScript's checks)
    OpInfo("aten::IntImplicit", ref=lambda a: int(a), samples=[
        Sample(np.array(3, np.int64)), Sample(np.array(-2, np.int32))], errors=[
        ErrorSample(np.array(1.5, np.float32), exc=RuntimeError,
                    match="Cannot input a tensor of type Float as an integral argument"),
        ErrorSample(np.array([2], np.int64), exc=RuntimeError,
                    match="Cannot input a tensor of dimension other than 0")]),
    OpInfo("aten::FloatImplicit", ref=lambda a: float(a), samples=[
        Sample(np.array(1.5, np.float32)), Sample(np.array(2, np.int64))], errors=[
        ErrorSample(np.array([1.0, 2.0], np.float32), exc=RuntimeError,
                    match="Cannot input a tensor of dimension other than 0")]),
    OpInfo("aten::ScalarImplicit", ref=lambda a: a.item(), samples=[
        Sample(np.array(1.5, np.float64)), Sample(np.array(7, np.int64)),
        Sample(np.array(True))], errors=[
        ErrorSample(np.array([1], np.int64), exc=RuntimeError,
                    match="Cannot input a tensor of dimension other than 0")]),
    OpInfo("aten::device_type", ref=lambda d: d.type,
           samples=[Sample(_dt().device("cpu"))]),
    OpInfo("aten::pow.int_to_int", ref=lambda a, b: a ** b,
           samples=[Sample(3, 2), Sample(-2, 3), Sample(5, 0)],
           errors=[ErrorSample(2, -1, exc=RuntimeError, match="negative integer powers")]),
]
_EQ_SAMPLES = {
    "ScalarType": [Sample(_dt().float32, _dt().float32), Sample(_dt().float32, _dt().int64)],
    "device": [Sample(_dt().device("cpu"), _dt().device("cpu")),
               Sample(_dt().device("cpu"), _dt().device("cuda", 0))],
    "int_list": [Sample([2, 3], [2, 3]), Sample([2, 3], [3]), Sample([], [])],
    "float_list": [Sample([0.5], [0.5]), Sample([1.0, 2.0], [1.0, 2.5])],
    "str_list": [Sample(["a"], ["a"]), Sample(["a"], ["b"])],
    "bool_list": [Sample([True], [True]), Sample([True, False], [False])],
}


class _Hue(enum.Enum):      # aten::eq.enum / ne.enum: Enum members
    RED = 1
    GREEN = 2


class _Other(enum.Enum):
    RED = 1


_EQ_SAMPLES["enum"] = [Sample(_Hue.RED, _Hue.RED), Sample(_Hue.RED, _Hue.GREEN),
                       Sample(_Hue.RED, _Other.RED)]
for _suffix, _samples in _EQ_SAMPLES.items():
    OPINFOS.append(OpInfo(f"aten::eq.{_suffix}", ref=lambda a, b: a == b, samples=_samples))
    OPINFOS.append(OpInfo(f"aten::ne.{_suffix}", ref=lambda a, b: a != b, samples=_samples))

_TEXT = [Sample("hello World"), Sample(""), Sample("ABC1"), Sample("abc")]
for _name in ("title", "capitalize", "swapcase", "isupper", "islower", "isalnum"):
    OPINFOS.append(OpInfo(f"aten::{_name}", ref=getattr(str, _name), samples=_TEXT))
OPINFOS += [
    OpInfo("aten::count.str", ref=str.count, samples=[Sample("banana", "an"), Sample("a", "")]),
    OpInfo("aten::rfind", ref=str.rfind, samples=[Sample("banana", "an"), Sample("a", "z")]),
    # (TorchScript's zfill pads before the whole str, a sign included: "-7" -> "00-7")
    OpInfo("aten::zfill", ref=lambda s, w: s.rjust(w, "0"),
           samples=[Sample("42", 5), Sample("-7", 4), Sample("abc", 2)]),
    OpInfo("aten::center", ref=str.center, samples=[Sample("ab", 6), Sample("ab", 5, "*")]),
    OpInfo("aten::ljust", ref=str.ljust, samples=[Sample("ab", 4), Sample("ab", 4, "-")]),
    OpInfo("aten::rjust", ref=str.rjust, samples=[Sample("ab", 4), Sample("abc", 1)]),
    # (TorchScript's str is std::string of UTF-8 bytes: "\u00e9" is two chars, chr(233) the
    # one byte 0xe9, a surrogateescape str in gpujit; torch 2.13)
    OpInfo("aten::ord", ref=ord, samples=[Sample("a"), Sample("z")],
           errors=[ErrorSample("ab", exc=TypeError),     # (also torch's RuntimeError)
                   ErrorSample("", exc=RuntimeError, match="must be 1 character, found 0"),
                   ErrorSample("\u00e9", exc=RuntimeError, match="must be 1 character, found 2")]),
    OpInfo("aten::chr", ref=lambda i: bytes([i]).decode("utf-8", "surrogateescape"),
           samples=[Sample(97), Sample(233)],
           errors=[ErrorSample(-1, exc=ValueError),
                   ErrorSample(0x110000, exc=RuntimeError, match="not in range")]),
]


OPINFOS.append(OpInfo("aten::manual_seed", ref=lambda seed: None,
                      samples=[Sample(3), Sample(2 ** 40)]))


def _ref_broadcast(a, b):
    return [int(d) for d in np.broadcast_shapes(tuple(a), tuple(b))]


for _name in ("aten::broadcast_shapes", "aten::_infer_size"):
    OPINFOS.append(OpInfo(_name, ref=_ref_broadcast,
                          samples=[Sample([2, 1, 3], [4, 1]), Sample([], [5]),
                                   Sample([1], [1]), Sample([0, 1], [3])],
                          errors=[ErrorSample([2, 3], [4], exc=RuntimeError,
                                              match="Attempting to broadcast a dimension")]))


def _tensor_lists_eq(a, b):
    return len(a) == len(b) and all(bool(np.asarray(x) == np.asarray(y)) for x, y in zip(a, b))


# `xs == ys` of two Tensor lists: bool(x == y) per pair (one-element Tensors only)
_TENSOR_LISTS = [Sample([np.array([1.0], np.float32), np.array(2.0, np.float32)],
                        [np.array([1.0], np.float32), np.array(2.0, np.float32)]),
                 Sample([np.array([1.0], np.float32)], [np.array([3.0], np.float32)]),
                 Sample([np.array([1], np.int64)], []), Sample([], [])]
_AMBIGUOUS = ErrorSample([np.ones(2, np.float32)], [np.ones(2, np.float32)],
                         exc=RuntimeError)
OPINFOS += [
    OpInfo("aten::eq.Tensor_list", ref=_tensor_lists_eq, samples=_TENSOR_LISTS,
           errors=[_AMBIGUOUS]),
    OpInfo("aten::ne.Tensor_list", ref=lambda a, b: not _tensor_lists_eq(a, b),
           samples=_TENSOR_LISTS, errors=[_AMBIGUOUS]),
]


# session 16 (helper ZV): more of Python's math, str methods, hex / oct / bin and hash()
def _c_or_nan(fn):
    def ref(*args):
        try:
            return fn(*args)
        except ValueError:
            return math.nan
    return ref


def _c_frexp(x):
    return (x, 0) if math.isinf(x) or math.isnan(x) else math.frexp(x)


def _c_ldexp(x, i):
    try:
        return math.ldexp(x, i)
    except OverflowError:
        return math.copysign(math.inf, x)


def _ts_splitlines(s, keepends=False):
    """TorchScript's splitlines: a piece ends at each of \\n \\r \\v \\f \\x1c \\x1d \\x1e."""
    parts = re.split("([\n\r\x0b\x0c\x1c\x1d\x1e])", s)
    out = []
    for text, brk in zip(parts[0::2], parts[1::2]):
        out.append(text)
        if keepends:
            out.append(brk)
    return out + ([parts[-1]] if parts[-1] else [])


OPINFOS += [
    OpInfo("aten::asinh.float", ref=math.asinh, samples=_ANY),
    OpInfo("aten::acosh.float", ref=_c_or_nan(math.acosh),
           samples=[Sample(1.0), Sample(2.5), Sample(7), Sample(0.5)]),
    OpInfo("aten::atanh.float", ref=_c_or_nan(math.atanh),
           samples=[Sample(0.5), Sample(-0.25), Sample(0), Sample(2.0)]),
    # math.remainder: C's IEEE remainder (nan for a zero divisor, where Python raises)
    OpInfo("aten::mathremainder.float", ref=_c_or_nan(math.remainder),
           samples=[Sample(2.5, 1.0), Sample(3.5, 1.0), Sample(-7, 3), Sample(1.0, 0.0)]),
    OpInfo("aten::modf", ref=math.modf, samples=[Sample(2.5), Sample(-3.25), Sample(4)]),
    # math.frexp / math.ldexp: C's results (checked against torch 2.13's scripted math):
    # frexp(+-inf / nan) is (x, 0); ldexp past the float range is +-inf, below it 0.0
    OpInfo("aten::frexp", ref=_c_frexp,
           samples=[Sample(2.5), Sample(-3.25), Sample(0.0), Sample(-0.0), Sample(1e-300),
                    Sample(5e-324), Sample(math.inf), Sample(-math.inf), Sample(math.nan)]),
    OpInfo("aten::ldexp", ref=_c_ldexp,
           samples=[Sample(1.5, 3), Sample(-0.75, -2), Sample(0.0, 10), Sample(1.0, 2000),
                    Sample(-1.0, 5000), Sample(1.0, -2000)]),
    OpInfo("aten::hex", ref=hex, samples=[Sample(26), Sample(-5), Sample(0)]),
    OpInfo("aten::oct", ref=oct, samples=[Sample(26), Sample(-5), Sample(0)]),
    OpInfo("aten::bin", ref=bin, samples=[Sample(26), Sample(-5), Sample(0)]),
    OpInfo("aten::expandtabs", ref=str.expandtabs,
           samples=[Sample("a\tb"), Sample("ab\tc", 4), Sample("", 2)]),
    OpInfo("aten::partition", ref=str.partition,
           samples=[Sample("a=b=c", "="), Sample("abc", "zz")]),
    OpInfo("aten::rpartition", ref=str.rpartition,
           samples=[Sample("a=b=c", "="), Sample("abc", "zz")]),
    # (TorchScript's rsplit splits at " " by default: "a b  c".rsplit() is ['a', 'b', '',
    # 'c']; its splitlines ends a piece at each break char, keepends giving each break a
    # piece of its own: tests/test_script_lang_s37.py)
    OpInfo("aten::rsplit", ref=lambda s, sep=" ", m=-1: s.rsplit(sep, m),
           samples=[Sample("a b  c"), Sample("a,b,c", ",", 1), Sample("", " ")]),
    OpInfo("aten::splitlines", ref=_ts_splitlines,
           samples=[Sample("a\nb\r\nc"), Sample("a\nb\n", True), Sample(""),
                    Sample("\ra\x1c\x1fb\n", True)]),
    OpInfo("aten::index.str", ref=str.index, samples=[Sample("banana", "an")],
           errors=[ErrorSample("abc", "z", exc=RuntimeError, match="substring not found")]),
    OpInfo("aten::rindex", ref=str.rindex, samples=[Sample("banana", "an")],
           errors=[ErrorSample("abc", "z", exc=RuntimeError, match="substring not found")]),
]
for _name in ("isdecimal", "isnumeric", "isprintable", "istitle", "isidentifier"):
    OPINFOS.append(OpInfo(f"aten::{_name}", ref=getattr(str, _name),
                          samples=_TEXT + [Sample("12"), Sample("Ab Cd"), Sample("a\tb")]))


# torch 2.13's scripted hash() of the samples (c10's IValue::hash: an int itself, a float's
# and a str's std::hash, a tuple's hash_combine; None 0)
_TORCH_HASH = {(int, 123): 123, (int, -1): -1, (float, 1.5): 4982507072649106663,
               (float, "nan"): -1255316504868620486, (str, "foo"): -8815544250789716390,
               (bool, True): 1, (type(None), None): 0,
               (tuple, (1, "a", 2.5)): -6662071034242836129}


def _hash_ref(v):
    return _TORCH_HASH[(type(v), "nan" if v != v else v)]


OPINFOS.append(OpInfo(
    "aten::hash.generic", ref=_hash_ref,
    samples=[Sample(123), Sample(-1), Sample(1.5), Sample(math.nan), Sample("foo"),
             Sample(True), Sample(None), Sample((1, "a", 2.5))],
    errors=[ErrorSample((1, [1]), exc=RuntimeError, match="unhashable"),
            ErrorSample([1], exc=RuntimeError, match="unhashable")]))


# ------------------------------------------------------------------ dtype arithmetic
# torch.promote_types / can_cast / result_type in scripted code (m27) and a dtype as
# TorchScript's int (j27); expected values checked against torch 2.13


def _d(name):
    return getattr(_dt(), name)


def _np_kind(a):
    import gpujit.dtypes as gd
    if isinstance(a, np.ndarray):
        return (gd.from_numpy_dtype(a.dtype), gd.ZERO_DIM if a.ndim == 0 else gd.DIM)
    return (gd._scalar_dtype(a), gd.SCALAR)


def _check_result_type(sample, out):
    # (on the sample's own arrays: the reference's copies of float16 ones are float64)
    import gpujit.dtypes as gd
    exp = gd.result_type_from_kinds(tuple(_np_kind(a) for a in sample.args))
    assert out is exp, f"{out} != {exp}"


_CODES = {"float32": 6, "int64": 4, "bool": 11, "float16": 5, "uint8": 0}
OPINFOS += [
    OpInfo("aten::Int.ScalarType", ref=lambda d: _CODES[d.name],
           samples=[Sample(_d(n)) for n in _CODES]),
    OpInfo("aten::promote_types", ref=lambda a, b: {
        ("int32", "float32"): _d("float32"), ("uint8", "int8"): _d("int16"),
        ("bool", "int64"): _d("int64"), ("float16", "float64"): _d("float64")}[
            (a.name, b.name)],
        samples=[Sample(_d("int32"), _d("float32")), Sample(_d("uint8"), _d("int8")),
                 Sample(_d("bool"), _d("int64")), Sample(_d("float16"), _d("float64"))]),
    OpInfo("aten::can_cast", ref=lambda a, b: (a.name, b.name) in {
        ("int32", "float32"), ("bool", "uint8")},
        samples=[Sample(_d("float32"), _d("int32")), Sample(_d("int32"), _d("float32")),
                 Sample(_d("int64"), _d("bool")), Sample(_d("bool"), _d("uint8"))]),
    OpInfo("aten::result_type.Tensor", ref=None, check=_check_result_type,
           samples=[Sample(np.ones(1, np.int32), np.array(1.0, np.float16)),   # float16
                    Sample(np.ones(2, np.int8), np.array(1, np.int64))]),      # int8
    OpInfo("aten::result_type.Scalar", ref=None, check=_check_result_type,
           samples=[Sample(np.ones(1, np.int32), 1.5), Sample(np.ones(1, np.uint8), 300),
                    Sample(np.ones(1, np.float16), 2)]),    # float32, uint8, float16
    OpInfo("aten::result_type.Scalar_Tensor", ref=None, check=_check_result_type,
           samples=[Sample(2.5, np.ones(1, np.int64)), Sample(True, np.ones(1, np.uint8))]),
    OpInfo("aten::result_type.Scalar_Scalar", ref=None, check=_check_result_type,
           samples=[Sample(1, 2.0), Sample(1, 2), Sample(True, False)]),
    # torch.device(s) / torch.device(type, index) of a str known at run time (torch 2.13's
    # eager words for the bad ones)
    OpInfo("aten::device", ref=None, check=lambda sample, out: _check_device(sample, out),
           samples=[Sample("cpu"), Sample("cpu:0"), Sample("cuda"), Sample("cuda:1")],
           errors=[ErrorSample("bogus", exc=RuntimeError,
                               match="Expected one of cpu, cuda device type at start of device "
                                     "string: bogus")]),
    OpInfo("aten::device.with_index", ref=None,
           check=lambda sample, out: _check_device(sample, out),
           samples=[Sample("cpu", 0), Sample("cuda", 1)],
           errors=[ErrorSample("cpu", -2, exc=RuntimeError,
                               match="Device index must not be negative, got -2"),
                   ErrorSample("cuda:1", 0, exc=RuntimeError,
                               match="must not include an index because index was passed "
                                     "explicitly")]),
]


def _check_device(sample, out):
    import gpujit
    kind, _, index = sample.args[0].partition(":")
    index = int(index) if index else (sample.args[1] if len(sample.args) > 1 else None)
    assert isinstance(out, gpujit.device) and (out.type, out.index) == (kind, index), out


# ------------------------------------------------------------------ prim::min / prim::max
# TorchScript's min(a, b) / max(a, b) / min(xs) / min(xs, ys) (ops/scalar_ops.py): C's
# `a < b ? a : b` on numbers (a nan second is kept, a nan first is not: max(1.0, nan) is
# nan, max(nan, 1.0) 1.0), a float when either number is; lists in Python's order.
def _pick2(name):
    def ref(a, b):
        r = (a if a < b else b) if name == "min" else (a if a > b else b)
        if isinstance(a, float) or isinstance(b, float):
            return float(r)
        return int(r) if type(r) is bool else r
    return ref


def _pick_list(name):
    return lambda l, r: list(min(l, r) if name == "min" else max(l, r))


def _extreme(name):
    def ref(xs):
        r = xs[0]
        for x in xs[1:]:
            if (x < r) if name == "min" else (x > r):
                r = x
        return r
    return ref


_NAN = math.nan
_PRIM_PAIRS = {
    "int": [Sample(2, 3), Sample(-4, -7), Sample(5, 5)],
    "float": [Sample(2.5, -1.0), Sample(1.0, _NAN), Sample(_NAN, 1.0), Sample(-0.0, 0.0)],
    "int_float": [Sample(2, 1.5), Sample(-3, 4.25)],
    "float_int": [Sample(1.5, 2), Sample(7.0, -3)],
    "": [Sample(2, 3.5), Sample(4, 1), Sample(True, False), Sample(2.5, -1.0)],
}
_PRIM_LISTS = {
    "int": [Sample([1, 2], [1, 3]), Sample([1, 2, 3], [1, 2]), Sample([], [0]),
            Sample([5], [-5, 9])],
    "float": [Sample([1.0, 2.5], [1.0, -3.0]), Sample([0.5], [0.5, 0.0]),
              Sample([-1.5, 2.0], [3.0])],
    "bool": [Sample([True], [False, True]), Sample([False, True], [False])],
}
_PRIM_SELF = {"int": [Sample([4, 1, 7]), Sample([-2])],
              "float": [Sample([2.5, -1.0, 3.25]), Sample([1.0, _NAN]), Sample([_NAN, 1.0])],
              "bool": [Sample([True, False]), Sample([False])]}
for _name in ("min", "max"):
    for _sfx, _samples in _PRIM_PAIRS.items():
        OPINFOS.append(OpInfo(f"prim::{_name}" + (f".{_sfx}" if _sfx else ""),
                              ref=_pick2(_name), samples=_samples))
    for _elem, _samples in _PRIM_LISTS.items():
        OPINFOS.append(OpInfo(f"prim::{_name}.{_elem}_list", ref=_pick_list(_name),
                              samples=_samples))
    for _elem, _samples in _PRIM_SELF.items():
        OPINFOS.append(OpInfo(
            f"prim::{_name}.self_{_elem}", ref=_extreme(_name), samples=_samples,
            errors=[ErrorSample([], exc=RuntimeError,
                                match=rf"{_name}\(\) arg is an empty sequence")]))

# d.type / d.index in scripted code (TorchScript's prim::type / prim::index on a Device)
OPINFOS += [
    OpInfo("prim::type", ref=lambda d: d.type,
           samples=[Sample(_dt().device("cpu")), Sample(_dt().device("cuda", 1)),
                    Sample(_dt().device("cpu:0"))]),
    OpInfo("prim::index", ref=lambda d: d.index,
           samples=[Sample(_dt().device("cpu")), Sample(_dt().device("cuda:1")),
                    Sample(_dt().device("cpu", 0)), Sample(_dt().device("cuda"))]),
]
