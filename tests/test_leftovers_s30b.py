"""Session 30 leftovers, part 2 (helper k30): out= dtype rules, arange's out resize,
complex dtypes, scripted-call argument errors, module properties, scalar bit operators.
Expectations checked against torch 2.13."""
import warnings
from typing import Optional

import pytest

import gpujit as torch


A = [1., float("nan"), 3., -2., 0., 5.]


def _err(fn, exc=RuntimeError):
    with pytest.raises(exc) as e:
        fn()
    return str(e.value).splitlines()[0]


# ---------------------------------------------------------------- 1. out= dtype rules

def test_no_python_out_functions():
    a = torch.tensor(A)
    for name in ("isnan", "isinf", "isfinite", "isreal", "flip", "bincount", "clone"):
        f = getattr(torch, name)
        args = (a, [0]) if name == "flip" else \
            (torch.tensor([1, 2]),) if name == "bincount" else (a,)
        msg = _err(lambda: f(*args, out=torch.zeros(6, dtype=torch.bool)), TypeError)
        assert msg == f"{name}() got an unexpected keyword argument 'out'"


def test_bool_long_only_outs():
    a = torch.tensor(A)
    assert _err(lambda: torch.signbit(a, out=torch.zeros(6))) == \
        "signbit does not support non-boolean outputs."
    assert _err(lambda: torch.isposinf(a, out=torch.zeros(6, dtype=torch.uint8))) == \
        "isposinf does not support non-boolean outputs."
    assert _err(lambda: torch.isin(a, a, out=torch.zeros(6))) == \
        "Expected out tensor to have dtype bool, but got float instead"
    assert _err(lambda: torch.any(a.reshape(2, 3), 0, out=torch.zeros(3))) == \
        "any only supports bool tensor for result, got: Float"
    assert _err(lambda: torch.all(a.reshape(2, 3), 0, out=torch.zeros(3))) == \
        "all only supports bool tensor for result, got: Float"
    assert _err(lambda: torch.nonzero(a, out=torch.zeros(6))) == \
        "nonzero: Expected out tensor to have scalar type Long but got scalar typeFloat"
    assert _err(lambda: torch.nonzero(a, out=torch.zeros(6, dtype=torch.int32))) == \
        "nonzero: Expected out tensor to have scalar type Long but got scalar typeInt"
    p = torch.tensor([0.1, 0.2, 0.3, 0.1, 0.2, 0.1])
    assert _err(lambda: torch.multinomial(p, 6, out=torch.zeros(6))) == \
        "multinomial expects Long tensor out, got: Float"
    assert _err(lambda: torch.argmax(a, out=torch.zeros((), dtype=torch.int32))) == \
        "Expected out tensor to have dtype long int, but got int instead"
    assert _err(lambda: torch.argmin(a, 0, out=torch.zeros(()))) == \
        "Expected out tensor to have dtype long int, but got float instead"
    assert _err(lambda: torch.histc(a, 4, out=torch.zeros(4, dtype=torch.long))) == \
        ("torch.histogram: input tensor and hist tensor should have the same dtype, but "
         "got input float and hist long int")


def test_nonzero_writes_out():
    o = torch.zeros(0, dtype=torch.long)
    r = torch.nonzero(torch.tensor([0., 1., 0., 2.]), out=o)
    assert r is o and o.tolist() == [[1], [3]]


def test_searchsorted_out_dtype():
    b = torch.tensor([0., 1., 2.])
    a = torch.tensor(A)
    msg = ("torch.searchsorted(): output tensor's dtype is wrong, it can only be Int(int32) "
           "or Long(int64) depending on whether out_int32 flag is True, but we got output "
           "tensor's dtype {} and out_int32 flag is {}")
    assert _err(lambda: torch.bucketize(a, b, out=torch.zeros(6))) == msg.format("Float",
                                                                                 False)
    assert _err(lambda: torch.searchsorted(b, a, out=torch.zeros(6, dtype=torch.int32))) \
        == msg.format("Int", False)
    assert _err(lambda: torch.bucketize(a, b, out_int32=True,
                                        out=torch.zeros(6, dtype=torch.long))) == \
        msg.format("Long", True)
    o = torch.zeros(6, dtype=torch.int32)
    torch.bucketize(a, b, out_int32=True, out=o)
    assert o.tolist() == [1, 3, 3, 0, 0, 3]


def test_exact_and_same_as_input_outs():
    a = torch.tensor(A)
    m = torch.ones(2, 2)
    assert _err(lambda: torch.mm(m, m, out=torch.zeros(2, 2, dtype=torch.double))) == \
        "Expected out tensor to have dtype float, but got double instead"
    assert _err(lambda: torch.gather(a, 0, torch.tensor([0, 1]),
                                     out=torch.zeros(2, dtype=torch.double))) == \
        "Expected out tensor to have dtype float, but got double instead"
    assert _err(lambda: torch.index_select(a, 0, torch.tensor([0]),
                                           out=torch.zeros(1, dtype=torch.double))) == \
        "index_select(): self and result must have the same scalar type"
    assert _err(lambda: torch.take(a, torch.tensor([0]),
                                   out=torch.zeros(1, dtype=torch.double))) == \
        ("take(): self and out expected to have the same dtype, but got self.dtype = Float "
         "and out.dtype = Double")
    assert _err(lambda: torch.amax(a, 0, out=torch.zeros((), dtype=torch.double))) == \
        ("Expected the dtype for input and out to match, but got Float for input's dtype "
         "and Double for out's dtype.")
    assert _err(lambda: torch.cat([a, a], out=torch.zeros(12, dtype=torch.long)),
                TypeError) == "torch.cat(): input types can't be cast to the desired " \
                              "output type Long"
    assert _err(lambda: torch.where(a > 0, a, a, out=torch.zeros(6, dtype=torch.long))) == \
        "Expected out type to be Float but got Long"
    assert _err(lambda: torch.kthvalue(a, 2, out=(torch.zeros(()), torch.zeros(())))) == \
        "output indices must be of scalar type Long"
    assert _err(lambda: torch.frexp(a, out=(torch.zeros(6), torch.zeros(6)))) == \
        "torch.frexp() expects exponent to have int dtype but got float"
    # still allowed: TensorIterator ops cast; cat into a wider float
    o = torch.zeros(12, dtype=torch.double)
    torch.cat([a, a], out=o)
    assert o.dtype == torch.float64
    o = torch.zeros(6)
    torch.eq(a, a, out=o)
    assert o.tolist() == [1., 0., 1., 1., 1., 1.]


# ---------------------------------------------------------------- 2. out resize warnings

def test_arange_out_resize_rule():
    with torch.no_grad():
        with pytest.warns(UserWarning, match=r"The number of elements in the out tensor of "
                          r"shape \[3\] is 3 which does not match the computed number of "
                          r"elements 6\. Note that this may occur as a result of rounding "
                          r"error\. The out tensor will be resized to a tensor of shape "
                          r"\(6,\)\."):
            r = torch.arange(6., out=torch.zeros(3))
        assert r.tolist() == [0., 1., 2., 3., 4., 5.]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            o = torch.zeros(2, 2, dtype=torch.long)
            torch.arange(4, out=o)          # as many elements: out keeps its shape
            assert o.tolist() == [[0, 1], [2, 3]]
            torch.arange(4, out=torch.zeros(0, dtype=torch.long))
            torch.multinomial(torch.ones(4), 2, out=torch.zeros(3, dtype=torch.long))
            torch.normal(0., 1., (4,), out=torch.zeros(3))
            torch.zeros(4, out=torch.zeros(3))
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        torch.add(torch.ones(4), 1, out=torch.zeros(3))


def test_empty_out_no_write():
    o = torch.zeros(5)
    torch.empty(5, out=o)
    assert o._version == 0


def test_out_rules_match_torch():
    t = pytest.importorskip("torch")
    cases = [
        lambda m: m.signbit(m.tensor(A), out=m.zeros(6)),
        lambda m: m.argsort(m.tensor(A), stable=True, out=m.zeros(6)),
        lambda m: m.msort(m.tensor(A), out=m.zeros(6, dtype=m.long)),
        lambda m: m.quantile(m.tensor(A, dtype=m.double), 0.5, out=m.zeros(())),
        lambda m: m.isin(m.tensor([1, 2]), 1, out=m.zeros(2)),
        lambda m: m.mv(m.ones(2, 2), m.ones(2), out=m.zeros(2, dtype=m.double)),
    ]
    for c in cases:
        msgs = []
        for m in (t, torch):
            try:
                c(m)
                msgs.append("OK")
            except Exception as e:
                msgs.append((type(e).__name__, str(e).splitlines()[0]))
        assert msgs[0] == msgs[1]


# ---------------------------------------------------------------- 3. complex dtypes

def test_complex_functions_exist():
    # (the complex dtypes and functions exist since session 44: tests/test_complex_s44.py)
    assert torch.cfloat is torch.complex64 and torch.cdouble is torch.complex128
    with pytest.raises(AttributeError, match=r"^module 'gpujit' has no attribute 'nope'$"):
        torch.nope
    a = torch.ones(2)
    assert torch.polar(a, a * 0).numpy().tolist() == [1, 1]
    assert torch.complex(a, a).numpy().tolist() == [1 + 1j, 1 + 1j]
    assert torch.view_as_complex(torch.ones(2, 2)).shape == (2,)
    assert torch.view_as_real_copy(torch.complex(a, a)).shape == (2, 2)


# ---------------------------------------------------------------- 4. scripted-call errors

def _scripted_f(x, n: int, o: Optional[torch.Tensor]):
    return x


_PYBIND = ("(#define PYBIND11_DETAILED_ERROR_MESSAGES or compile in debug mode for "
           "details)")


def test_scripted_argument_errors_declaration_and_cast_details():
    sf = torch.jit.script(_scripted_f)
    decl = "Declaration: _scripted_f(Tensor x, int n, Tensor? o) -> Tensor"
    with pytest.raises(RuntimeError) as e:
        sf("a", 1, None)
    assert str(e.value).splitlines()[1:] == [
        "Inferred 'x' to be of type 'Tensor' because it was not annotated with an explicit "
        "type.", "Position: 0", "Value: 'a'", decl,
        "Cast error details: Unable to cast a to Tensor"]
    with pytest.raises(RuntimeError) as e:
        sf(torch.ones(1), torch.ones(2), None)
    assert str(e.value).splitlines()[1:] == [
        "Position: 1", "Value: tensor([1., 1.])", decl,
        f"Cast error details: Unable to cast Python instance of type <class 'torch.Tensor'> "
        f"to C++ type '?' {_PYBIND}"]
    with pytest.raises(RuntimeError) as e:
        sf(torch.ones(1), 1, [1])
    assert str(e.value).splitlines()[-2:] == [decl,
                                              "Cast error details: Unable to cast [1] to Tensor"]
