"""OpInfos of the Python-scalar ops (gpujit/ops/scalar_ops.py): int / float / bool
arithmetic, comparisons, conversions and tensor facts (size, dim, numel, len). Arguments
are Python values (and NumPy arrays that become tensors); the reference is Python itself,
and the meta rule answers the result's Python type."""
from __future__ import annotations

import math
import operator

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand

_INTS = [(7, 2), (-7, 2), (7, -2), (0, 5), (2 ** 40, 3)]
_FLOATS = [(7.5, 2.0), (-7.5, 2.0), (0.1, 0.2), (3.0, -0.5), (3, 0.5), (2.5, 4)]


def _samples(pairs):
    return [Sample(a, b) for a, b in pairs]


def _binary(name, fn, arg, pairs, errors=()):
    return OpInfo(f"aten::{name}.{arg}", ref=fn, samples=_samples(pairs), errors=errors,
                  noncontiguous=False)


def _float_ref(fn):
    return lambda a, b: float(fn(a, b))


_ZERO_DIV = [ErrorSample(1, 0, exc=ZeroDivisionError)]


def _ts_divmod(a, b):
    r = math.fmod(a, b)
    if r and (a < 0) != (b < 0):
        r += b
    return (a - r) / b, r


def _ts_divmod_mixed(a, b):
    q = float(math.floor(a / b))
    return q, a - q * b

OPINFOS = []
for _name, _fn in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("floordiv", operator.floordiv), ("remainder", operator.mod)):
    divides = _name in ("floordiv", "remainder")
    OPINFOS.append(_binary(_name, _fn, "int", _INTS, _ZERO_DIV if divides else ()))
    # (a float zero divisor is TorchScript's inf / nan, not an error: see
    # tests/test_script_number_semantics.py)
    OPINFOS.append(_binary(_name, _float_ref(_fn), "float", _FLOATS))
OPINFOS.append(_binary("div", operator.truediv, "int", _INTS))
OPINFOS.append(_binary("div", operator.truediv, "float", _FLOATS))
OPINFOS += [
    OpInfo("aten::divmod.int", ref=divmod, samples=_samples(_INTS), noncontiguous=False,
           errors=[ErrorSample(1, 0, exc=RuntimeError, match="modulo by zero")]),
    # (TorchScript's: r = fmod(a, b), moved by b when of the other sign, q = (a - r) / b;
    # divmod(2.5, 0.1) is (24.000000000000004, 0.0999...), divmod(0.0, -2.5) (-0.0, 0.0))
    OpInfo("aten::divmod.float", ref=_ts_divmod,
           samples=_samples(_FLOATS + [(5.0, 0.1), (2.5, 0.1), (0.0, -2.5), (-5.0, 2.5)]),
           noncontiguous=False,
           errors=[ErrorSample(1.0, 0.0, exc=RuntimeError, match="float divmod")]),
    # (an int and a float: q = floor(a / b) through an int64, r = a - q * b)
    OpInfo("aten::divmod.int_float", ref=_ts_divmod_mixed, noncontiguous=False,
           samples=_samples([(7, 2.5), (-7, 2.5), (-5, 2.5), (0, -3.0), (7, 0.1)]),
           errors=[ErrorSample(1, 0.0, exc=RuntimeError, match="float divmod"),
                   ErrorSample(3, float("nan"), exc=RuntimeError,
                               match="Cannot convert float nan to integer")]),
    OpInfo("aten::divmod.float_int", ref=_ts_divmod_mixed, noncontiguous=False,
           samples=_samples([(2.5, -2), (-7.3, 2), (-0.0, 3), (0.0, -3)]),
           errors=[ErrorSample(1.0, 0, exc=RuntimeError, match="float divmod"),
                   ErrorSample(float("inf"), 2, exc=RuntimeError,
                               match="Cannot convert float inf to integer")]),
    OpInfo("prim::abs.int", ref=abs, samples=[Sample(-3), Sample(4), Sample(0)]),
    OpInfo("prim::abs.float", ref=abs, samples=[Sample(-2.5), Sample(-0.0), Sample(1.5)]),
]

for _name, _fn in (("lt", operator.lt), ("gt", operator.gt), ("le", operator.le),
                   ("ge", operator.ge), ("eq", operator.eq), ("ne", operator.ne)):
    OPINFOS.append(_binary(_name, _fn, "int", _INTS + [(3, 3)]))
    OPINFOS.append(_binary(_name, _fn, "float", _FLOATS + [(1.5, 1.5), (2, 2.0)]))
    # an int with a float: both as doubles, as C++ compares them (2**53 + 1 equals
    # 9007199254740992.0 in TorchScript, unlike Python)
    OPINFOS.append(_binary(_name, lambda a, b, _fn=_fn: _fn(float(a), float(b)), "int_float",
                           [(3, 2.5), (2, 2.0), (2 ** 53 + 1, 2.0 ** 53), (-5, -0.0)]))
    OPINFOS.append(_binary(_name, lambda a, b, _fn=_fn: _fn(float(a), float(b)), "float_int",
                           [(2.5, 3), (2.0, 2), (2.0 ** 53, 2 ** 53 + 1), (-0.0, 0)]))
    if _name in ("eq", "ne"):
        OPINFOS.append(_binary(_name, _fn, "bool", [(True, False), (True, True)]))
        OPINFOS.append(_binary(_name, _fn, "str", [("a", "b"), ("relu", "relu")]))

_NUMBERS = [(2, 3), (2.5, 1), (True, 2), (-1.5, -1.5), (7, 2.0)]
for _name, _fn in (("lt", operator.lt), ("gt", operator.gt), ("le", operator.le),
                   ("ge", operator.ge), ("eq", operator.eq), ("ne", operator.ne)):
    # (an int with a float compares as doubles)
    OPINFOS.append(OpInfo(f"aten::{_name}.Scalar_Scalar",
                          ref=lambda a, b, _fn=_fn: _fn(float(a), float(b)),
                          samples=_samples(_NUMBERS + [(2 ** 53 + 1, 2.0 ** 53)]),
                          noncontiguous=False))
for _name, _fn in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("div", operator.truediv)):
    OPINFOS.append(OpInfo(f"aten::{_name}.Scalar_Scalar", ref=_fn,
                          samples=_samples(_NUMBERS), noncontiguous=False))



def _kind_ref(int_fn, float_fn):
    """A number op on run-time kinds: ints (bools count) as int_fn, else float_fn."""
    def ref(*args):
        if all(isinstance(a, int) for a in args):
            return int_fn(*(int(a) for a in args))
        return float_fn(*(float(a) for a in args))
    return ref


def _min_max(pick):
    def ref(a, b):
        r = pick(a, b)
        return float(r) if isinstance(a, float) or isinstance(b, float) else r
    return ref


_MIXED = [(7, 2), (-7, 2), (7.5, 2.0), (-7.5, 2.0), (7, 2.0), (True, 2), (3.0, -0.5)]
OPINFOS += [
    OpInfo("aten::floordiv.Scalar_Scalar", noncontiguous=False, samples=_samples(_MIXED),
           ref=_kind_ref(operator.floordiv, lambda a, b: float(np.floor(a / b)))),
    OpInfo("aten::remainder.Scalar_Scalar", noncontiguous=False, samples=_samples(_MIXED),
           ref=_kind_ref(operator.mod, lambda a, b: float(a % b))),
    OpInfo("aten::min.Scalar_Scalar", ref=_min_max(min), noncontiguous=False,
           samples=_samples(_MIXED + [(2, 2.2)])),
    OpInfo("aten::max.Scalar_Scalar", ref=_min_max(max), noncontiguous=False,
           samples=_samples(_MIXED + [(2, 2.2)])),
    OpInfo("aten::neg.Scalar", ref=_kind_ref(operator.neg, operator.neg),
           samples=[Sample(3), Sample(-2.5), Sample(True)]),
    OpInfo("prim::abs.Scalar", ref=_kind_ref(abs, abs),
           samples=[Sample(-3), Sample(-2.5), Sample(-0.0)]),
    OpInfo("aten::round.Scalar", ref=lambda a: float(round(a)),
           samples=[Sample(2.5), Sample(3), Sample(-1.5), Sample(0.4)]),
]

_BOOLS = [(a, b) for a in (True, False) for b in (True, False)]
OPINFOS += [
    _binary("__and__", operator.and_, "bool", _BOOLS),
    _binary("__or__", operator.or_, "bool", _BOOLS),
    _binary("__xor__", operator.xor, "bool", _BOOLS),
    _binary("__and__", operator.and_, "int", [(12, 10), (-3, 5), (0, 7)]),
    _binary("__or__", operator.or_, "int", [(12, 10), (-3, 5), (0, 7)]),
    _binary("__xor__", operator.xor, "int", [(12, 10), (-3, 5), (0, 7)]),
    # (TorchScript's shifts take the count modulo 64, as the machine's: 1 << 64 is 1,
    # 1 << -1 is -2**63, 5 >> 65 is 2; << wraps to int64)
    _binary("__lshift__", lambda a, b: ((a << (b & 63)) + 2 ** 63) % 2 ** 64 - 2 ** 63, "int",
            [(3, 4), (-3, 2), (1, 62), (1, 63), (1, 64), (3, 65), (1, -1), (2 ** 62, 2)]),
    _binary("__rshift__", lambda a, b: a >> (b & 63), "int",
            [(48, 4), (-7, 1), (5, 70), (5, 65), (-5, 64), (1, -1), (-2 ** 63, -1)]),
    OpInfo("aten::__not__", ref=operator.not_, samples=[Sample(True), Sample(False)]),
    # (the tests run with grad mode on; test_script_grad_regions checks it under no_grad)
    OpInfo("aten::is_grad_enabled", ref=lambda: True, samples=[Sample()]),
    # (True only: False would leave the rest of the process without gradients;
    # test_jit_autodiff_port checks both, restoring the mode)
    OpInfo("aten::set_grad_enabled", ref=lambda val: None, samples=[Sample(True)]),
    OpInfo("aten::neg.int", ref=operator.neg, samples=[Sample(3), Sample(-4), Sample(0)]),
    OpInfo("aten::neg.float", ref=lambda a: -float(a),
           samples=[Sample(2.5), Sample(-0.0), Sample(3)]),
    # TorchScript's trip count / element of a range whose step is known at run time only
    OpInfo("aten::__range_length", ref=lambda lo, hi, step: len(range(lo, hi, step)),
           samples=[Sample(0, 10, 3), Sample(10, 0, -3), Sample(5, 5, 1), Sample(0, 5, -1),
                    Sample(-7, 8, 2), Sample(3, -9, -4)],
           errors=[ErrorSample(0, 5, 0, match="range\\(\\) arg 3 must not be zero")]),
    OpInfo("aten::__derive_index", ref=lambda index, start, step: start + index * step,
           samples=[Sample(0, 5, 2), Sample(3, 5, 2), Sample(4, 10, -3), Sample(2, -1, 1)]),
]

_ONE = [np.array(2.75, np.float32), np.array([-3.5]), np.array([[7]], np.int64),
        np.array(True), np.array([0], np.uint8)]
# (torch 2.13's words: bool() is ambiguous, int()/float() cannot convert to Scalar)
_MANY = ErrorSample(rand(3), exc=RuntimeError,
                    match="only one element tensors|more than one value is ambiguous"
                          "|3 elements cannot be converted to Scalar")


def _convert(name, fn, scalar_types):
    infos = [OpInfo(f"aten::{name}.Tensor", ref=lambda a: fn(a.item()),
                    samples=[Sample(a) for a in _ONE], errors=[_MANY])]
    for t, values in scalar_types:
        infos.append(OpInfo(f"aten::{name}.{t}", ref=fn,
                            samples=[Sample(v) for v in values]))
    return infos


OPINFOS += _convert("Int", int, [("float", [2.7, -2.7, 0.0]), ("bool", [True, False]),
                                 ("Scalar", [2.7, -3, True])])
OPINFOS += _convert("Float", float, [("int", [3, -2, 0]), ("bool", [True, False]),
                                     ("Scalar", [2, -2.5, False])])
OPINFOS += _convert("Bool", bool, [("int", [3, 0]), ("float", [0.0, -0.5])])

_SHAPES = [rand(2, 3), rand(4), rand(), rand(0, 5), rand(2, 1, 3, dtype=np.int32)]


def _pin_samples():
    import gpujit
    if gpujit.cuda.is_available():
        return [Sample(a) for a in _SHAPES]
    return [ErrorSample(rand(2, 3), match="^Cannot access accelerator device when none is "
                                          "available.$")]
OPINFOS += [
    OpInfo("aten::size.int", ref=lambda a, d: a.shape[d],
           samples=[Sample(rand(2, 3, 4), d) for d in (0, 1, 2, -1, -3)],
           errors=[ErrorSample(rand(2, 3), 2, exc=IndexError, match="Dimension out of range"),
                   ErrorSample(rand(), 0, exc=IndexError, match="no dimensions")]),
    OpInfo("aten::size", ref=lambda a: list(a.shape), samples=[Sample(a) for a in _SHAPES]),
    # (an empty tensor's strides are PyTorch's C-order ones, sizes taken as at least 1;
    # NumPy says 0: torch.empty(0, 5).stride() is (5, 1))
    OpInfo("aten::stride", ref=lambda a: ([s // a.itemsize for s in a.strides] if a.size else
                                          [int(np.prod(np.maximum(a.shape[i + 1:], 1)))
                                           for i in range(a.ndim)]),
           samples=[Sample(a) for a in _SHAPES] + [Sample(rand(4, 6)[::2, ::3].T)],
           noncontiguous=False),         # (the answer is the layout)
    OpInfo("aten::stride.int", ref=lambda a, d: a.strides[d] // a.itemsize,
           samples=[Sample(rand(2, 3, 4).transpose(2, 0, 1), d) for d in (0, 1, 2, -1)],
           errors=[ErrorSample(rand(2, 3), 2, exc=IndexError, match="Dimension out of range"),
                   ErrorSample(rand(), 0, exc=IndexError, match="no dimensions")],
           noncontiguous=False),
    # (a tensor made from an array starts its own storage: offset 0; views in scripted
    # code, tests/test_script_lang_s36.py)
    OpInfo("aten::storage_offset", ref=lambda a: 0, samples=[Sample(a) for a in _SHAPES],
           noncontiguous=False),
    # (no sample is pinned: pin_memory needs an accelerator; tests/test_lead_s36.py)
    OpInfo("aten::is_pinned", ref=lambda a: False, samples=[Sample(a) for a in _SHAPES],
           noncontiguous=False),
    # x.pin_memory() in scripted code: a pinned copy where an accelerator is (a CPU
    # tensor's only: gpu=False), torch's RuntimeError where none is (b37's find)
    OpInfo("aten::pin_memory", ref=lambda a: a, samples=_pin_samples, gpu=False),
    OpInfo("aten::is_contiguous", ref=lambda a: bool(a.flags.c_contiguous),
           samples=[Sample(a) for a in _SHAPES] + [Sample(rand(3, 4).T),
                                                   Sample(rand(3, 1).T)],
           noncontiguous=False),
    # channels_last: strides N, H, W, C innermost last; a dim of size 1 does not count
    OpInfo("aten::is_contiguous.memory_format",
           ref=lambda a, f: {"nhwc": a.ndim == 4 and a.transpose(0, 2, 3, 1).flags.c_contiguous,
                             "nchw": bool(a.flags.c_contiguous)}[
               "nhwc" if f in ("channels_last", 2) else "nchw"],
           samples=[Sample(rand(2, 3, 4, 5), "channels_last"),
                    Sample(rand(2, 4, 5, 3).transpose(0, 3, 1, 2), "channels_last"),
                    Sample(rand(2, 4, 5, 3).transpose(0, 3, 1, 2), 2),
                    Sample(rand(2, 1, 4, 5), "channels_last"), Sample(rand(3, 4), "channels_last"),
                    Sample(rand(2, 4, 5, 3).transpose(0, 3, 1, 2), "contiguous_format"),
                    Sample(rand(3, 4), 0)],
           noncontiguous=False),
    OpInfo("aten::dim", ref=lambda a: a.ndim, samples=[Sample(a) for a in _SHAPES]),
    OpInfo("aten::numel", ref=lambda a: a.size, samples=[Sample(a) for a in _SHAPES]),
    OpInfo("aten::len.Tensor", ref=lambda a: len(a),
           samples=[Sample(a) for a in _SHAPES if a.ndim],
           errors=[ErrorSample(rand(), exc=TypeError, match="0-d tensor")]),
    OpInfo("aten::len.t", ref=len,
           samples=[Sample([1, 2, 3]), Sample([]), Sample([rand(2), rand(3)])]),
]
