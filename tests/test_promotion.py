"""Type promotion, written from PyTorch's documentation ("Tensor Attributes > Type
promotion" and the promote_types table of c10/core/ScalarType.h), checked through
gpujit.promote_types, gpujit.result_type and real operators."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit as G

ORDER = ["b", "u8", "i8", "i16", "i32", "i64", "f16", "f32", "f64"]
DT = dict(zip(ORDER, [G.bool, G.uint8, G.int8, G.int16, G.int32, G.int64, G.float16,
                      G.float32, G.float64]))

# PyTorch's promoteTypes table restricted to gpujit's dtypes (row op column)
PROMOTE_TABLE = """
       b    u8   i8   i16  i32  i64  f16  f32  f64
  b    b    u8   i8   i16  i32  i64  f16  f32  f64
  u8   u8   u8   i16  i16  i32  i64  f16  f32  f64
  i8   i8   i16  i8   i16  i32  i64  f16  f32  f64
  i16  i16  i16  i16  i16  i32  i64  f16  f32  f64
  i32  i32  i32  i32  i32  i32  i64  f16  f32  f64
  i64  i64  i64  i64  i64  i64  i64  f16  f32  f64
  f16  f16  f16  f16  f16  f16  f16  f16  f32  f64
  f32  f32  f32  f32  f32  f32  f32  f32  f32  f64
  f64  f64  f64  f64  f64  f64  f64  f64  f64  f64
"""


def _table():
    rows = [line.split() for line in PROMOTE_TABLE.strip().splitlines()]
    assert rows[0] == ORDER
    return {(r[0], c): v for r in rows[1:] for c, v in zip(ORDER, r[1:])}


@pytest.mark.parametrize("a", ORDER)
@pytest.mark.parametrize("b", ORDER)
def test_promote_types_table(a, b):
    expected = DT[_table()[(a, b)]]
    assert G.promote_types(DT[a], DT[b]) is expected
    assert G.promote_types(DT[b], DT[a]) is expected


# ---------------------------------------------------------------- operands -> dtype

def t(name):
    """A dimensioned tensor of dtype `name`, values 1 and 2."""
    return G.tensor([1, 2], dtype=DT[name])


def z(name):
    """A zero-dim tensor of dtype `name`."""
    return G.tensor(1, dtype=DT[name])


# (operands, result dtype). Within a category dimensioned tensors beat zero-dim tensors,
# which beat Python scalars; a higher category wins whatever its kind (bool < int < float);
# a Python float is the default dtype, a Python int is int64.
CASES = [
    # the examples of the docs page
    ((t("i32"), 5), "i32"),
    ((t("i32"), z("i64")), "i32"),
    ((t("i64"), t("i32")), "i64"),
    ((t("b"), t("i64")), "i64"),
    ((t("b"), t("u8")), "u8"),
    ((t("f32"), t("f64")), "f64"),
    ((t("b"), t("i32")), "i32"),
    ((t("i64"), t("f32")), "f32"),
    # more of the same rules
    ((t("i32"), 5.5), "f32"),
    ((t("u8"), t("i8")), "i16"),
    ((t("f16"), t("i16")), "f16"),
    ((z("f64"), t("f32")), "f32"),
    ((t("b"), t("b")), "b"),
    ((t("i32"), z("f64")), "f64"),       # a zero-dim tensor of a higher category counts
    ((t("i16"), z("f16")), "f16"),
    ((t("f16"), 2.5), "f16"),
    ((t("b"), 1), "i64"),
    ((t("b"), 1.5), "f32"),
    ((t("b"), True), "b"),
    ((t("u8"), 1000), "u8"),
    ((z("i8"), z("u8")), "i16"),
    ((z("i64"), t("i8")), "i8"),
    ((z("f16"), t("f32")), "f32"),
    ((t("f16"), z("f32")), "f16"),
    ((t("f32"), z("i64")), "f32"),
    ((t("b"), z("i32")), "i32"),
    ((z("i32"), 2.5), "f32"),
    ((z("b"), 7), "i64"),
    ((5, t("i8")), "i8"),
    ((2.5, t("i64")), "f32"),
]
ALL_SCALARS = [((5, 5), "i64"), ((2.5, 1), "f32"), ((True, False), "b"), ((True, 2), "i64")]


def _ids(cases):
    def show(x):
        if isinstance(x, G.Tensor):
            return f"{'z' if x.dim() == 0 else 't'}({x.dtype.name})"
        return repr(x)
    return [" + ".join(show(x) for x in ops) for ops, _ in cases]


@pytest.mark.parametrize("operands,expected", CASES + ALL_SCALARS,
                         ids=_ids(CASES + ALL_SCALARS))
def test_result_type(operands, expected):
    assert G.result_type(*operands) is DT[expected]


def _float_of(d):
    return d if d.is_floating_point else G.get_default_dtype()


@pytest.mark.parametrize("operands,expected", CASES, ids=_ids(CASES))
def test_operators_follow_result_type(operands, expected):
    a, b = operands
    d = DT[expected]
    assert (a + b).dtype is d
    assert (a * b).dtype is d
    assert (a / b).dtype is _float_of(d)             # true division: ints give a float
    assert (a < b).dtype is G.bool and (a == b).dtype is G.bool
    if isinstance(a, G.Tensor):
        assert G.add(a, b).dtype is d
    if isinstance(a, G.Tensor) and isinstance(b, G.Tensor):
        assert G.maximum(a, b).dtype is d and G.where(a > 1, a, b).dtype is d
        assert a.where(a > 1, b).dtype is d


def test_arithmetic_is_done_in_the_promoted_dtype():
    assert (G.tensor([2, 3]) < 2.5).tolist() == [True, False]    # not 2 < 2
    assert (G.tensor([255], dtype=G.uint8) > 254.5).tolist() == [True]
    assert (G.tensor([1, 2], dtype=G.int32) * 1.5).tolist() == [1.5, 3.0]
    assert (G.tensor([7], dtype=G.int32) / G.tensor([2], dtype=G.int32)).tolist() == [3.5]
    assert (G.tensor([250], dtype=G.uint8) + 10).tolist() == [4]     # wraps in uint8
    assert (G.tensor([100], dtype=G.int8) + G.tensor([100], dtype=G.uint8)).tolist() == [200]
    assert (G.tensor([True]) + G.tensor([True])).tolist() == [True]


def test_true_division_of_integers_is_the_default_float():
    assert (t("i32") / t("i32")).dtype is G.float32
    assert (t("i64") / 2).dtype is G.float32
    assert (t("b") / t("b")).dtype is G.float32
    assert (3 / t("i16")).dtype is G.float32
    assert (t("f16") / 3).dtype is G.float16
    assert G.div(t("i32"), t("i32"), rounding_mode="floor").dtype is G.int32


def test_default_dtype_changes_float_scalars():
    old = G.get_default_dtype()
    G.set_default_dtype(G.float64)
    try:
        assert G.result_type(t("i32"), 2.5) is G.float64
        assert (t("i32") + 2.5).dtype is G.float64
        assert (t("i32") / t("i32")).dtype is G.float64
        assert (z("i64") * 0.5).dtype is G.float64
        assert (t("f16") + 2.5).dtype is G.float16       # a float tensor keeps its dtype
        assert (t("f32") + 2.5).dtype is G.float32
        assert G.result_type(2.5, 1) is G.float64
    finally:
        G.set_default_dtype(old)
    assert (t("i32") + 2.5).dtype is G.float32


def test_default_dtype_changes_what_int_tensors_compute_after_a_first_call():
    """An op's promotion cache kept the default dtype of its first call: sigmoid of an int
    tensor stayed float32 after set_default_dtype(float64) (eager, and so fused code)."""
    old = G.get_default_dtype()
    x = t("i32")
    assert G.sigmoid(x).dtype is G.exp(x).dtype is G.float32
    G.set_default_dtype(G.float64)
    try:
        assert G.sigmoid(x).dtype is G.exp(x).dtype is G.sqrt(x).dtype is G.float64
        assert x.sigmoid().numpy().dtype == np.float64
    finally:
        G.set_default_dtype(old)
    assert G.sigmoid(x).dtype is G.float32


@pytest.mark.parametrize("dst,src", [("f32", "f32"), ("f32", "i32"), ("f32", "u8"),
                                     ("f32", "b"), ("f32", "f64"), ("i32", "i64"),
                                     ("i32", "u8"), ("u8", "i32")])
def test_inplace_allowed_when_the_result_casts_to_self(dst, src):
    a, b = t(dst), t(src)
    expected = (a.numpy() * b.numpy()).astype(DT[dst].np)
    a *= b
    assert a.dtype is DT[dst]
    np.testing.assert_array_equal(a.numpy(), expected)


@pytest.mark.parametrize("dst,src", [("i32", "f32"), ("b", "i32"), ("b", "u8")])
def test_inplace_refused_when_the_category_would_drop(dst, src):
    a = t(dst)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        a *= t(src)
    with pytest.raises(RuntimeError, match="can't be cast"):
        a.add_(t(src))


def test_comparison_and_logical_results_are_bool():
    for a, b in [(t("f16"), t("i64")), (t("u8"), 300), (z("f64"), t("b"))]:
        for op in (G.eq, G.ne, G.lt, G.le, G.gt, G.ge, G.logical_and, G.logical_xor):
            if isinstance(b, int) and op in (G.logical_and, G.logical_xor):
                with pytest.raises(TypeError):     # Tensor-only in PyTorch (s26)
                    op(a, b)
                continue
            assert op(a, b).dtype is G.bool
    assert G.isnan(t("i32")).dtype is G.bool and not G.isnan(t("i32")).any()


def _bool_ops(b, c, i, x):
    b = b & b
    return (G.isposinf(b), G.isneginf(b), G.signbit(b), G.fmax(b, c), G.fmin(b, c),
            G.heaviside(b, c), G.clamp_min(b, c), G.clamp_max(b, c), G.clamp(b, min=c),
            G.clamp(b, max=c), G.clamp_min(x, c), G.fmax(b, i))


def test_bool_tensors_in_float_tests_fmax_heaviside_and_tensor_bounded_clamps():
    # PyTorch takes bool here (a bool result for bool operands); eager refused them
    b, c = G.tensor([True, False, True, False]), G.tensor([False, False, True, True])
    i, x = G.tensor([1, 0, -2, 5]), G.tensor([0.5, -1.0, 0.0, 2.0])
    want = [([False] * 4, G.bool)] * 3 + [
        ([True, False, True, True], G.bool), ([False, False, True, False], G.bool),
        ([True, False, True, True], G.bool), ([True, False, True, True], G.bool),
        ([False, False, True, False], G.bool), ([True, False, True, True], G.bool),
        ([False, False, True, False], G.bool), ([0.5, 0.0, 1.0, 2.0], G.float32),
        ([1, 0, 1, 5], G.int64)]
    f = G.jit.script(_bool_ops)
    for got in [_bool_ops(b, c, i, x)] + [f(b, c, i, x) for _ in range(3)]:
        assert [(t.tolist(), t.dtype) for t in got] == want
    d = b.clone()
    d.clamp_min_(c)
    assert d.tolist() == [True, False, True, True]
    # a Python-number bound, or both bounds, stay refused for bool (as PyTorch: both
    # bounds are '"clamp_cpu" not implemented for 'Bool'')
    for call in (lambda: G.clamp_max(b, True), lambda: G.clamp(b, c, c),
                 lambda: G.clip(b, c, c)):
        with pytest.raises(RuntimeError, match="(?i)bool"):
            call()


def test_bool_subtraction_negation_and_pow_as_pytorch():
    """`-` with a bool operand (a Python bool counts) raises PyTorch's message, whatever the
    other operand; pow computes in bool for a bool tensor to a Python bool (x ** True is x,
    x ** False is all True) and has no other bool kernel; add's alpha is cast to bool."""
    b, c = G.tensor([True, False, True]), G.tensor([False, False, True])
    i = G.tensor([1, 2, 3])
    one = "with a bool tensor is not supported. If you are trying to invert a mask"
    two = "with two bool tensors is not supported. Use the `^` or `logical_xor()`"
    for f, msg in ((lambda: b - 1, one), (lambda: 1 - b, one), (lambda: b - 1.5, one),
                   (lambda: i - b, one), (lambda: b - i, one), (lambda: G.rsub(b, 1), one),
                   (lambda: b.sub(1), one), (lambda: i.clone().sub_(b), one),
                   (lambda: b - c, two), (lambda: b - True, two), (lambda: True - b, two),
                   (lambda: b.clone().sub_(c), two),
                   (lambda: -b, "Negation, the `-` operator, on a bool tensor")):
        with pytest.raises(RuntimeError, match="Subtraction|Negation") as e:
            f()
        assert msg in str(e.value)
    for r, want in ((G.pow(b, True), [True, False, True]), (b ** False, [True, True, True]),
                    (b.clone().pow_(True), [True, False, True])):
        assert r.dtype == G.bool and r.tolist() == want
    assert (b ** 2).dtype == G.int64 and (2 ** b).tolist() == [2, 1, 2]
    for f in (lambda: G.pow(b, c), lambda: G.pow(True, b), lambda: G.pow(b, G.tensor(True))):
        with pytest.raises(NotImplementedError, match="\"pow\" not implemented for 'Bool'"):
            f()
    assert b.add(c, alpha=-1).tolist() == [True, False, True]      # it gave [T, F, F]
    assert b.add(c, alpha=2).tolist() == [True, False, True]


def test_an_unsupported_dtype_raises_not_implemented_error_as_pytorch():
    """PyTorch raises NotImplementedError ('"gcd_cpu" not implemented for 'Float''), a
    RuntimeError; gpujit's UnsupportedDtypeError is one (and stays a TypeError)."""
    for call in (lambda: G.gcd(G.ones(2), G.ones(2)),
                 lambda: G.ones(2).bitwise_and(G.ones(2))):
        with pytest.raises(NotImplementedError) as e:
            call()
        assert isinstance(e.value, RuntimeError) and isinstance(e.value, TypeError)
