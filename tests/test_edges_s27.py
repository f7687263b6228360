"""Session 27 edges (helper a27), each checked against torch 2.13: method calls number
their arguments without self, SymInt parameters take one-element integral Tensors (a bool
one fails as PyTorch's conversion), narrow's Tensor start (narrow.Tensor), and the
parser TypeErrors for values of the wrong Python type."""
import numpy as np
import pytest

import gpujit as torch


def _err(fn):
    with pytest.raises(Exception) as ei:
        fn()
    return type(ei.value), str(ei.value).split("\n")[0]


# ---- method calls count arguments without self ------------------------------------

@pytest.mark.parametrize("fn, cls, msg", [
    (lambda x: x.add("a"), TypeError, "add(): argument 'other' (position 1) must be Tensor, not str"),
    (lambda x: torch.add(x, "a"), TypeError, "add(): argument 'other' (position 2) must be Tensor, not str"),
    (lambda x: x.mul([1]), TypeError, "mul(): argument 'other' (position 1) must be Tensor, not list"),
    (lambda x: x.index_select(0, "a"), TypeError,
     "index_select(): argument 'index' (position 2) must be Tensor, not str"),
    (lambda x: torch.index_select(x, 0, "a"), TypeError,
     "index_select(): argument 'index' (position 3) must be Tensor, not str"),
    (lambda x: x.gather(0, "a"), TypeError,
     "gather(): argument 'index' (position 2) must be Tensor, not str"),
    (lambda x: x.reshape(3, 3).tril(torch.tensor([1.5])), TypeError,
     "tril(): argument 'diagonal' (position 1) must be int, not Tensor"),
    (lambda x: torch.tril(x.reshape(3, 3), torch.tensor(1.5)), TypeError,
     "tril(): argument 'diagonal' (position 2) must be int, not Tensor"),
    (lambda x: x.masked_fill("a", 1), TypeError,
     "masked_fill() received an invalid combination of arguments - got (str, int), but "
     "expected one of:"),
    (lambda x: x.clamp(min="a"), TypeError,
     "clamp() received an invalid combination of arguments - got (min=str, ), but "
     "expected one of:"),
    (lambda x: x.round(decimals=1.5), TypeError, "round(): argument 'decimals' must be int, not float"),
    (lambda x: x.round(decimals=None), TypeError,
     "round(): argument 'decimals' must be int, not NoneType"),
    (lambda x: x.add(1, alpha="a"), TypeError, "add(): argument 'alpha' must be Number, not str"),
    (lambda x: x.topk("a"), TypeError, "topk(): argument 'k' (position 1) must be int, not str"),
    (lambda x: x.topk(1, "a"), TypeError, "topk(): argument 'dim' (position 2) must be int, not str"),
    (lambda x: x.softmax("a"), TypeError, "softmax(): argument 'dim' (position 1) must be int, not str"),
    (lambda x: x.cumsum("a"), TypeError, "cumsum(): argument 'dim' (position 1) must be int, not str"),
    (lambda x: x.max(0, "a"), TypeError, "max(): argument 'keepdim' (position 2) must be bool, not str"),
    (lambda x: x.reshape(3, 3).transpose(0, "a"), TypeError,
     "transpose(): argument 'dim1' (position 2) must be int, not str"),
])
def test_parser_type_errors(fn, cls, msg):
    x = torch.ones(9)
    c, m = _err(lambda: fn(x))
    assert c is cls and m == msg


def test_method_list_element_position():
    with pytest.raises(TypeError, match="expected Tensor as element 0 in argument 0, but got int"):
        torch.ones(3).index_put((1,), torch.tensor(1.))
    with pytest.raises(TypeError, match="expected Tensor as element 0 in argument 1, but got int"):
        torch.index_put(torch.ones(3), (1,), torch.tensor(1.))


# ---- SymInt parameters (tril/triu diagonal, narrow length, select index, kthvalue k) -

def test_tril_one_element_tensor_diagonal():
    x = torch.ones(3, 3)
    want = np.tril(np.ones((3, 3)), 1)
    for d in (torch.tensor([1]), torch.tensor([[1]]), torch.tensor([1], dtype=torch.int32),
              torch.tensor(1, dtype=torch.uint8)):
        np.testing.assert_array_equal(torch.tril(x, d).numpy(), want)
        np.testing.assert_array_equal(x.tril(diagonal=d).numpy(), want)
    np.testing.assert_array_equal(x.triu(torch.tensor([1])).numpy(), np.triu(np.ones((3, 3)), 1))
    y = x.clone()
    y.tril_(torch.tensor([-1]))
    np.testing.assert_array_equal(y.numpy(), np.tril(np.ones((3, 3)), -1))


def test_bool_tensor_for_symint_fails_as_torch():
    x = torch.ones(3, 3)
    for fn in (lambda: x.tril(torch.tensor(True)), lambda: torch.triu(x, torch.tensor([True])),
               lambda: torch.arange(5).narrow(0, 1, torch.tensor(True)),
               lambda: x.select(0, torch.tensor(True))):
        with pytest.raises(RuntimeError, match=r"scalar.isIntegral\( false\) INTERNAL ASSERT"):
            fn()


def test_symint_one_element_tensors():
    np.testing.assert_array_equal(torch.arange(5).narrow(0, 1, torch.tensor([2])).numpy(), [1, 2])
    np.testing.assert_array_equal(torch.ones(3, 3).select(0, torch.tensor([1])).numpy(), [1, 1, 1])
    v, i = torch.tensor([3., 1., 2.]).kthvalue(torch.tensor([2]))
    assert v.item() == 2.0 and i.item() == 2
    # an int (not SymInt) parameter takes a 0-dim Tensor only
    with pytest.raises(TypeError, match=r"diagonal\(\): argument 'offset' \(position 1\) must "
                                        r"be int, not Tensor"):
        torch.ones(3, 3).diagonal(torch.tensor([1]))


@pytest.mark.parametrize("fn", [
    lambda: torch.zeros(torch.tensor(True)), lambda: torch.zeros(torch.tensor([True])),
    lambda: torch.zeros(torch.tensor(True), 2), lambda: torch.ones((2, torch.tensor(True))),
    lambda: torch.empty(torch.tensor(True)), lambda: torch.full((torch.tensor(True),), 1.),
    lambda: torch.randn(torch.tensor(True)), lambda: torch.ones(1, 3).new_zeros(torch.tensor(True)),
    lambda: torch.ones(1, 3).view(torch.tensor(True), 3),
    lambda: torch.ones(1, 3).expand((torch.tensor(True), 3)),
    lambda: torch.ones(1, 3).roll([torch.tensor(True)]),
])
def test_bool_tensor_in_symint_list(fn):
    with pytest.raises(RuntimeError, match=r"Expected scalar.isIntegral\( false\) to be true, "
                                           r"but got false\."):
        fn()


def test_bool_tensor_in_int_list_is_its_int():
    x = torch.ones(1, 3)
    assert tuple(x.sum(torch.tensor(True)).shape) == (1,)
    assert tuple(x.permute(torch.tensor(True), 0).shape) == (3, 1)
    assert tuple(x.roll(torch.tensor([True])).shape) == (1, 3)     # a lone one for SymInt[1]


# ---- narrow.Tensor -------------------------------------------------------------------

def test_narrow_tensor_start():
    x = torch.arange(5)
    np.testing.assert_array_equal(x.narrow(0, torch.tensor(1), 2).numpy(), [1, 2])
    np.testing.assert_array_equal(torch.narrow(x, 0, torch.tensor(-2), 2).numpy(), [3, 4])
    np.testing.assert_array_equal(x.narrow(0, torch.tensor(1, dtype=torch.uint8), 2).numpy(), [1, 2])
    np.testing.assert_array_equal(x.narrow(0, start=torch.tensor(3), length=1).numpy(), [3])
    for s in (torch.tensor([1]), torch.tensor(1.), torch.tensor(True),
              torch.tensor(1., requires_grad=True)):
        with pytest.raises(RuntimeError, match=r"^start must be an 0-dim integral Tensor\.$"):
            x.narrow(0, s, 2)


def test_narrow_tensor_start_backward():
    x = torch.arange(5.).requires_grad_()
    y = x.narrow(0, torch.tensor(1), 2)
    assert type(y.grad_fn).__name__ == "SliceBackward0"
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0., 2., 4., 0., 0.])


# ---- bool inputs PyTorch's kernels refuse ------------------------------------------

def test_index_reduce_bool_refused():
    b = torch.zeros(3, dtype=torch.bool)
    for red in ("prod", "amax", "mean"):
        with pytest.raises(NotImplementedError, match="\"index_func_\" not implemented for 'Bool'"):
            b.index_reduce(0, torch.tensor([0, 1]), torch.ones(2, dtype=torch.bool), red)


def test_scatter_reduce_mean_bool_refused():
    b = torch.zeros(3, dtype=torch.bool)
    with pytest.raises(NotImplementedError, match="\"scatter_gather_tensor_cpu_reduce_mean\" "
                                                  "not implemented for 'Bool'"):
        b.scatter_reduce(0, torch.tensor([0, 1]), torch.ones(2, dtype=torch.bool), "mean")
    r = b.scatter_reduce(0, torch.tensor([0, 1]), torch.ones(2, dtype=torch.bool), "amax")
    np.testing.assert_array_equal(r.numpy(), [True, True, False])


def test_embedding_renorm_non_float_refused():
    for dt, name in ((torch.bool, "Bool"), (torch.long, "Long")):
        with pytest.raises(RuntimeError, match=f"norm\\(\\): input dtype should be either "
                                               f"floating point or complex. Got {name} instead."):
            torch.embedding_renorm_(torch.ones(3, 2, dtype=dt), torch.tensor([0]), 1.0, 2.0)


def test_method_positions_through_autograd_hook():
    x = torch.ones(3, requires_grad=True)          # (the call goes through autograd's hook)
    with pytest.raises(TypeError, match=r"^add\(\): argument 'other' \(position 1\) must be "
                                        r"Tensor, not str$"):
        x.add("a")
    with pytest.raises(TypeError, match=r"^index_select\(\): argument 'index' \(position 2\)"):
        x.index_select(0, "a")
    with pytest.raises(TypeError, match=r"^index_select\(\): argument 'index' \(position 3\)"):
        torch.index_select(x, 0, "a")
