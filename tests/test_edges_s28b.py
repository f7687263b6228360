"""Session 28 (m28): eager leftovers. Expectations checked against PyTorch 2.13."""
import warnings

import numpy as np
import pytest

import gpujit as torch


# ---------------------------------------------------------------- torch.tensor(data)

@pytest.mark.parametrize("data, dtype, values", [
    (lambda: [[torch.tensor(1.)], [torch.tensor(2.)]], "float32", [[1.], [2.]]),
    (lambda: [[torch.tensor(1)], [2]], "int64", [[1], [2]]),
    (lambda: [torch.tensor(1), 2.5], "float32", [1., 2.5]),
    (lambda: [torch.tensor(True), torch.tensor(False)], "bool", [True, False]),
    (lambda: [torch.tensor(True), 2], "int64", [1, 2]),
    (lambda: [np.float32(1.5), torch.tensor(2)], "float32", [1.5, 2.]),
    (lambda: [np.float64(1.5), 2], "float64", [1.5, 2.]),
    (lambda: [[np.float64(1)], [2]], "float64", [[1.], [2.]]),
    (lambda: [np.int32(1), np.int8(2)], "int32", [1, 2]),
    (lambda: [np.uint8(1), np.int8(2)], "int16", [1, 2]),
    (lambda: [np.float16(1), 1.5], "float32", [1., 1.5]),
    (lambda: [np.float16(1), np.int64(1)], "float16", [1., 1.]),
    (lambda: [True, np.uint8(3)], "uint8", [1, 3]),
    (lambda: [[]], "float32", np.zeros((1, 0))),
    (lambda: [[], []], "float32", np.zeros((2, 0))),
    (lambda: [torch.ones(1)], "float32", [1.]),
    (lambda: [torch.ones(1), torch.ones(1)], "float32", [1., 1.]),
    (lambda: [torch.ones(1, 1)], "float32", [1.]),
    (lambda: [torch.tensor(1, dtype=torch.int32)] * 2, "int32", [1, 1]),
    (lambda: [torch.tensor(1, dtype=torch.float16)], "float16", [1.]),
    (lambda: [torch.tensor(1, dtype=torch.uint8), torch.tensor(-1, dtype=torch.int8)],
     "int16", [1, -1]),
    (lambda: [torch.tensor(1, dtype=torch.uint8), -1], "int64", [1, -1]),
    (lambda: (torch.tensor(1.), torch.tensor(2.)), "float32", [1., 2.]),
    (lambda: [[1.], torch.tensor([2.])], "float32", [[1.], [2.]]),
    (lambda: [range(2), torch.tensor([1, 2])], "int64", [[0, 1], [1, 2]]),
    (lambda: [np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)], "int32",
     [[1, 2], [3, 4]]),
    (lambda: [np.array([1, 2], dtype=np.int32), [3, 4]], "int64", [[1, 2], [3, 4]]),
])
def test_tensor_from_lists_holding_tensors_and_numpy_scalars(data, dtype, values):
    t = torch.tensor(data())
    assert t.dtype is getattr(torch, dtype)
    want = np.asarray(values)
    assert t.shape == want.shape
    np.testing.assert_array_equal(t.numpy(), want)


@pytest.mark.parametrize("data, dtype, values", [
    (lambda: [torch.tensor(0.5)], "float64", [0.5]),
    (lambda: [torch.tensor(3)], "bool", [True]),
    (lambda: [torch.tensor(True)], "float32", [1.]),
    (lambda: [torch.tensor(1), 2.5], "int64", [1, 2]),
    (lambda: np.float64(1.5), "int64", 1),
])
def test_tensor_from_lists_holding_tensors_with_a_dtype(data, dtype, values):
    t = torch.tensor(data(), dtype=getattr(torch, dtype))
    assert t.dtype is getattr(torch, dtype)
    np.testing.assert_array_equal(t.numpy(), np.asarray(values))


@pytest.mark.parametrize("data, dtype, exc, match", [
    (lambda: [torch.ones(2), torch.ones(2)], None, ValueError,
     "only one element tensors can be converted to Python scalars"),
    (lambda: [torch.ones(0)], None, ValueError, "only one element tensors"),
    (lambda: [torch.tensor(1.), 2], "int64", TypeError,
     "only integer tensors of a single element can be converted to an index"),
    (lambda: [torch.tensor(1.5)], "bool", TypeError, "only integer tensors of a single"),
    (lambda: [torch.tensor(float("nan")), 1], "int64", TypeError, "only integer tensors"),
    (lambda: [torch.tensor(300), 1], "uint8", RuntimeError,
     "value cannot be converted to type uint8 without overflow"),
    (lambda: [np.float32(1.5)], "int64", TypeError,
     "'numpy.float32' object cannot be interpreted as an integer"),
    (lambda: np.float32(1.5), "int64", TypeError, "cannot be interpreted as an integer"),
    (lambda: [torch.tensor([1.]), [2.]], None, TypeError, "must be real number, not list"),
    (lambda: [torch.tensor(1.), [2.]], None, TypeError, "must be real number, not list"),
    (lambda: [[torch.tensor(1.)], [2, 3]], None, ValueError,
     r"expected sequence of length 1 at dim 1 \(got 2\)"),
    (lambda: [np.array([1, 2]), np.array([3])], None, ValueError,
     r"expected sequence of length 2 at dim 1 \(got 1\)"),
    (lambda: [np.array(1.)], None, TypeError, "len\\(\\) of unsized object"),
    (lambda: [torch.tensor(1.), "a"], None, TypeError, "new\\(\\): invalid data type 'str'"),
    (lambda: [1, "a"], None, TypeError, "new\\(\\): invalid data type 'str'"),
    (lambda: "a", None, TypeError, "new\\(\\): invalid data type 'str'"),
    (lambda: ["a"], None, ValueError, "too many dimensions 'str'"),
    (lambda: [torch.tensor(1.), None], None, RuntimeError, "Could not infer dtype of NoneType"),
    (lambda: [None], None, RuntimeError, "Could not infer dtype of NoneType"),
    (lambda: None, None, RuntimeError, "Could not infer dtype of NoneType"),
    (lambda: [object()], None, RuntimeError, "Could not infer dtype of object"),
])
def test_tensor_from_bad_data_raises_as_torch(data, dtype, exc, match):
    kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    with pytest.raises(exc, match=match):
        torch.tensor(data(), **kw)


def test_tensor_from_a_list_holding_a_requires_grad_tensor_warns(monkeypatch):
    # (the warning is once per process, as PyTorch's TORCH_WARN_ONCE: forget earlier ones)
    import sys
    monkeypatch.setattr(sys.modules["gpujit.tensor"], "_FLOAT_WARNED", [])
    x = torch.tensor(1., requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = torch.tensor([x, 2.])
    assert not t.requires_grad
    np.testing.assert_array_equal(t.numpy(), [1., 2.])
    assert any("requires_grad=True to a scalar" in str(m.message) for m in w)


def test_a_bool_tensor_is_an_index():
    assert [1, 2, 3][torch.tensor(True)] == 2
    assert range(5)[torch.tensor(False)] == 0
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [1, 2][torch.tensor(1.)]


# ---------------------------------------------------------------- index_put's binding

@pytest.mark.parametrize("call, match", [
    (lambda x, i, v: x.index_put((None, i), v), "element 0 in argument 0, but got NoneType"),
    (lambda x, i, v: x.index_put([i, None], v), "element 1 in argument 0, but got NoneType"),
    (lambda x, i, v: x.index_put_((None, i), v), "element 0 in argument 0, but got NoneType"),
    (lambda x, i, v: torch.index_put(x, (None,), v), "element 0 in argument 1, but got NoneType"),
    (lambda x, i, v: torch.index_put_(x, (None, i), v), "element 0 in argument 1"),
    (lambda x, i, v: x.index_put((1,), v), "element 0 in argument 0, but got int"),
    (lambda x, i, v: x.index_put((i, 1), v), "element 1 in argument 0, but got int"),
    (lambda x, i, v: x.requires_grad_().index_put((None, i), v), "element 0 in argument 0"),
])
def test_index_put_binding_refuses_none_indices(call, match):
    x = torch.zeros(2, 2)
    with pytest.raises(TypeError, match="expected Tensor as " + match):
        call(x, torch.tensor([0]), torch.tensor(1.))
    assert not x.any()


def test_none_indices_still_work_where_the_schema_takes_them():
    x, i = torch.zeros(2, 2), torch.tensor([0])
    want = [[1., 0.], [1., 0.]]
    np.testing.assert_array_equal(torch.ops.aten.index_put(x, [None, i], torch.tensor(1.)), want)
    assert x[None, i].shape == (1, 1, 2)
    y = x.clone()
    y[None, i] = 5.
    np.testing.assert_array_equal(y.numpy(), [[5., 5.], [0., 0.]])
    y = x.clone()
    y[:, i] = 1.
    np.testing.assert_array_equal(y.numpy(), want)


def test_none_indices_in_a_script_index_put():
    from typing import List, Optional

    @torch.jit.script
    def f(x, i):
        idx: List[Optional[torch.Tensor]] = [None, i]
        return x.index_put(idx, torch.tensor(1.))
    np.testing.assert_array_equal(f(torch.zeros(2, 2), torch.tensor([0])).numpy(),
                                  [[1., 0.], [1., 0.]])


# ---------------------------------------------------------------- operators

@pytest.mark.parametrize("call", [
    lambda x: x.__pow__(other=2), lambda x: x.__pow__(), lambda x: x.__ipow__(other=2),
    lambda x: x.__ipow__(), lambda x: x.__add__(), lambda x: x.__mul__(),
    lambda x: x.__rpow__(), lambda x: x.__radd__(), lambda x: x.__iadd__(),
    lambda x: x.__eq__(), lambda x: x.__and__(),
])
def test_an_operator_missing_or_misnamed_operand_is_not_implemented(call):
    x = torch.ones(2)
    assert call(x) is NotImplemented
    np.testing.assert_array_equal(x.numpy(), [1., 1.])


def test_operators_take_their_operand_by_its_schema_name():
    x = torch.ones(2)
    np.testing.assert_array_equal(x.__pow__(exponent=2).numpy(), [1., 1.])
    np.testing.assert_array_equal(x.__rpow__(other=2).numpy(), [2., 2.])
    np.testing.assert_array_equal(x.__mul__(other=3).numpy(), [3., 3.])
    np.testing.assert_array_equal(x.__add__(other=2).numpy(), [3., 3.])
    assert x.__ipow__(exponent=2) is x


def test_pos_is_positive():
    assert torch.Tensor.__pos__.__name__ == "positive"
    x = torch.ones(2)
    assert +x is x
    np.testing.assert_array_equal((+torch.tensor([3])).numpy(), [3])
    for t in (torch.tensor([True]), torch.tensor(False)):
        with pytest.raises(RuntimeError, match="The `\\+` operator, on a bool tensor is not "
                                               "supported."):
            +t
        with pytest.raises(RuntimeError, match="The `\\+` operator, on a bool tensor"):
            torch.positive(t)


def test_positive_in_a_script():
    @torch.jit.script
    def f(x):
        return torch.positive(x) * 2
    np.testing.assert_array_equal(f(torch.ones(2)).numpy(), [2., 2.])
    with pytest.raises(RuntimeError, match="The `\\+` operator, on a bool tensor"):
        f(torch.tensor([True]))


# ---------------------------------------------------------------- all / any out=, logsumexp

@pytest.mark.parametrize("call, name, words", [
    (lambda: torch.all(torch.ones(2), out=torch.empty(())), "all", "Float"),
    (lambda: torch.any(torch.ones(2), out=torch.empty(())), "any", "Float"),
    (lambda: torch.all(torch.ones(2, 2), 0, out=torch.empty(2)), "all", "Float"),
    (lambda: torch.any(torch.ones(2, 2), dim=0, keepdim=True,
                       out=torch.empty(1, 2, dtype=torch.float16)), "any", "Half"),
    (lambda: torch.all(torch.ones(2, 2), (0, 1), out=torch.empty((), dtype=torch.int64)),
     "all", "Long"),
])
def test_all_any_out_must_be_bool_or_uint8(call, name, words):
    with pytest.raises(RuntimeError, match=f"{name} only supports bool tensor for result, "
                                           f"got: {words}"):
        call()


def test_all_any_out_bool_or_uint8():
    o = torch.empty((), dtype=torch.uint8)
    assert torch.all(torch.ones(2), out=o) is o and o.item() == 1
    o = torch.empty(2, dtype=torch.bool)
    torch.any(torch.zeros(2, 2), 0, out=o)
    np.testing.assert_array_equal(o.numpy(), [False, False])


def test_logsumexp_of_no_dims():
    for x in (torch.ones(3), torch.ones(2, 3), torch.ones(3, dtype=torch.int64)):
        with pytest.raises(RuntimeError, match=r"output with shape \[\] doesn't match the "
                                               r"broadcast shape \[" + ", ".join("1" * x.dim())):
            x.logsumexp(dim=())
    with pytest.raises(RuntimeError, match=r"broadcast shape \[1, 1\]"):
        torch.logsumexp(torch.ones(2, 3), [])
    r = torch.ones(2, 3).logsumexp((), keepdim=True)
    assert r.shape == (1, 1)
    np.testing.assert_allclose(r.numpy(), [[1 + np.log(6)]], rtol=1e-6)
    assert torch.tensor(1.).logsumexp(()).item() == 1.
    assert torch.ones(0, 3).logsumexp(()).item() == -np.inf


def test_logsumexp_of_no_dims_in_a_script():
    @torch.jit.script
    def f(x):
        return x.logsumexp(dim=())
    with pytest.raises(RuntimeError, match=r"broadcast shape \[1, 1\]"):
        f(torch.ones(2, 3))


# ---------------------------------------------------------------- permute / repeat / expand

@pytest.mark.parametrize("call, exc, match", [
    (lambda x: x.permute(1), RuntimeError,
     r"permute\(sparse_coo\): number of dimensions in the tensor input does not match the "
     r"length of the desired ordering of dimensions i.e. input.dim\(\) = 2 is not equal to "
     r"len\(dims\) = 1"),
    (lambda x: x.permute(1, 0, 2), RuntimeError, r"input.dim\(\) = 2 is not equal to len\(dims\) = 3"),
    (lambda x: torch.permute(x, (1,)), RuntimeError, r"len\(dims\) = 1"),
    (lambda x: torch.tensor(1.).permute(0), RuntimeError, r"input.dim\(\) = 0 is not equal"),
    (lambda x: x.permute(1, 1), RuntimeError, r"permute\(\): duplicate dims are not allowed."),
    (lambda x: x.permute(0, -2), RuntimeError, r"duplicate dims are not allowed"),
    (lambda x: x.permute(0, 5), IndexError, r"Dimension out of range \(expected to be in range "
                                            r"of \[-2, 1\], but got 5\)"),
    (lambda x: x.repeat(-1, 1), RuntimeError,
     r"Trying to create tensor with negative dimension -2: \[-2, 3\]"),
    (lambda x: x.repeat(1, 0, -1), RuntimeError, r"negative dimension -3: \[1, 0, -3\]"),
    (lambda x: x.repeat(-1, 1, 1), RuntimeError, r"negative dimension -1: \[-1, 2, 3\]"),
    (lambda x: x.tile(-1), RuntimeError, r"negative dimension -3: \[2, -3\]"),
    (lambda x: x.tile(-1, 1), RuntimeError, r"negative dimension -2: \[-2, 3\]"),
    (lambda x: x.expand(2), RuntimeError,
     r"expand\(torch.FloatTensor\{\[2, 3\]\}, size=\[2\]\): the number of sizes provided \(1\) "
     r"must be greater or equal to the number of dimensions in the tensor \(2\)"),
    (lambda x: x.long().expand([]), RuntimeError,
     r"expand\(torch.LongTensor\{\[2, 3\]\}, size=\[\]\): the number of sizes provided \(0\)"),
    (lambda x: x.broadcast_to((2,)), RuntimeError, r"expand\(torch.FloatTensor\{\[2, 3\]\}, "
                                                   r"size=\[2\]\)"),
    (lambda x: x.expand_as(torch.ones(3)), RuntimeError, r"expand\(torch.FloatTensor\{\[2, 3\]\}, "
                                                         r"size=\[3\]\)"),
    (lambda x: x.expand(-1, 2, 3), RuntimeError,
     r"The expanded size of the tensor \(-1\) isn't allowed in a leading, non-existing "
     r"dimension 0"),
    (lambda x: x.expand(-1, 4, 5), RuntimeError,
     r"The expanded size of the tensor \(5\) must match the existing size \(3\) at "
     r"non-singleton dimension 2.  Target sizes: \[-1, 4, 5\].  Tensor sizes: \[2, 3\]"),
    (lambda x: torch.ones(2).expand(-2, 2), RuntimeError, "numel: integer multiplication overflow"),
])
def test_shape_errors_as_torch(call, exc, match):
    with pytest.raises(exc, match=match):
        call(torch.ones(2, 3))


def test_shapes_still_computed():
    x = torch.ones(2, 3)
    assert x.permute(1, 0).shape == (3, 2) and x.permute(-1, 0).shape == (3, 2)
    assert torch.ones(0, 3).repeat(-1, 1).shape == (0, 3)
    assert x.expand(4, -1, -1).shape == (4, 2, 3)
    assert torch.ones(1, 3).expand(4, -1).shape == (4, 3)
    assert x.tile(2).shape == (2, 6)


# ---------------------------------------------------------------- where with Python numbers

@pytest.mark.parametrize("dtype, other, want", [
    ("float32", 0., "float32"), ("int32", 0., "float32"), ("float16", 0., "float16"),
    ("uint8", 0., "float32"), ("int32", 0, "int32"), ("uint8", True, "uint8"),
    ("float64", 1e10, "float64"), ("bool", 2, "int64"),
])
def test_where_with_a_number_eager_and_script(dtype, other, want):
    c = torch.tensor([True, False, True])
    x = torch.tensor([1, 0, 1]).to(getattr(torch, dtype))
    for r in (torch.where(c, x, other), torch.where(c.logical_not(), other, x)):
        assert r.dtype is getattr(torch, want)
        np.testing.assert_array_equal(r.numpy(), np.where(c.numpy(), x.numpy(), other))

    @torch.jit.script
    def f(c, x):
        return torch.where(c, x, 0.) * 2
    for _ in range(3):        # (the profiled runs, then the fused one)
        r = f(c, x.float())
    assert r.dtype is torch.float32
    np.testing.assert_array_equal(r.numpy(), [2., 0., 2.])


def test_where_of_two_numbers():
    c = torch.tensor([True, False])
    assert torch.where(c, 1, 0).dtype is torch.int64
    assert torch.where(c, 1., 0).dtype is torch.float32
    assert torch.where(c, True, False).dtype is torch.bool
    np.testing.assert_array_equal(torch.where(c, 1, 0.5).numpy(), [1., .5])
