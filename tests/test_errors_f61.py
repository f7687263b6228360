"""Eager argument errors and bindings as torch 2.13 (helper f61, session 61): an argument
given by keyword is named without its position (also through f(*a, **kw)), Tensor.copy_'s
Python keyword is `other`, torch.where refuses a Tensor self=, torch.gradient / torch.ormqr
check their argument types, hinge_embedding_loss keeps an integer input's dtype. The
expected texts are torch 2.13's (CPU), written down; no torch import."""
import numpy as np
import pytest

import gpujit as torch


def _msg(f):
    with pytest.raises(TypeError) as e:
        f()
    return str(e.value)


X = torch.ones(3)
C = torch.tensor([True, False, True])


@pytest.mark.parametrize("call, want", [
    (lambda: X.add(other="a"), "add(): argument 'other' must be Tensor, not str"),
    (lambda: torch.add(X, other="a"), "add(): argument 'other' must be Tensor, not str"),
    (lambda: X.add("a"), "add(): argument 'other' (position 1) must be Tensor, not str"),
    (lambda: torch.add(X, "a"), "add(): argument 'other' (position 2) must be Tensor, not str"),
    (lambda: X.isclose(other="2"), "isclose(): argument 'other' must be Tensor, not str"),
    (lambda: X.put(index=torch.tensor([0]), source="2"),
     "put(): argument 'source' must be Tensor, not str"),
    # (a wrapper's f(*args, **kwargs): the spread dict says what came by keyword)
    (lambda: (lambda *a, **k: X.add(*a, **k))(other="a"),
     "add(): argument 'other' must be Tensor, not str"),
    (lambda: (lambda *a, **k: X.add(*a, **k))("a"),
     "add(): argument 'other' (position 1) must be Tensor, not str"),
])
def test_keyword_arguments_have_no_position(call, want):
    assert _msg(call) == want


def test_scalar_twins_list_keywords_as_keywords():
    assert _msg(lambda: X.pow(exponent="2")) == (
        "pow() received an invalid combination of arguments - got (exponent=str, ), but "
        "expected one of:\n"
        " * (Tensor exponent)\n"
        "      didn't match because some of the arguments have invalid types: "
        "(!exponent=str!, )\n"
        " * (Number exponent)\n"
        "      didn't match because some of the arguments have invalid types: "
        "(!exponent=str!, )\n")


@pytest.mark.parametrize("call, want", [
    (lambda x: x.copy_(other="a"), "copy_(): argument 'other' must be Tensor, not str"),
    (lambda x: x.copy_("a"), "copy_(): argument 'other' (position 1) must be Tensor, not str"),
    (lambda x: x.copy_(x, "a"),
     "copy_(): argument 'non_blocking' (position 2) must be bool, not str"),
    (lambda x: x.copy_(), "copy_() received an invalid combination of arguments - got (), "
                          "but expected (Tensor other, bool non_blocking = False)"),
    (lambda x: x.copy_(x, True, 1), "copy_() received an invalid combination of arguments - "
     "got (Tensor, bool, int), but expected (Tensor other, bool non_blocking = False)"),
    (lambda x: x.copy_(x, foo=1), "copy_() got an unexpected keyword argument 'foo'"),
    (lambda x: x.copy_(src=x), 'copy_() missing 1 required positional arguments: "other"'),
])
def test_copy_binding_errors(call, want):
    assert _msg(lambda: call(torch.ones(2))) == want


def test_copy_takes_other_by_keyword():
    x = torch.zeros(2)
    x.copy_(other=torch.tensor([1.0, 2.0]), non_blocking=True)
    torch.Tensor.copy_(x, other=x * 2)
    assert x.tolist() == [2.0, 4.0]
    w = torch.ones(2, requires_grad=True)
    y = torch.zeros(2)
    y.copy_(other=w * 3)
    y.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_where_refuses_a_tensor_self_keyword():
    m = _msg(lambda: torch.where(C, self=X, other=X))
    assert m == (
        "where() received an invalid combination of arguments - got (Tensor, other=Tensor, "
        "self=Tensor), but expected one of:\n"
        " * (Tensor condition)\n"
        " * (Tensor condition, Tensor input, Tensor other, *, Tensor out = None)\n"
        " * (Tensor condition, Number self, Tensor other)\n"
        "      didn't match because some of the arguments have invalid types: "
        "(Tensor, !self=Tensor!, other=Tensor)\n"
        " * (Tensor condition, Tensor input, Number other)\n"
        "      didn't match because some of the keywords were incorrect: self\n"
        " * (Tensor condition, Number self, Number other)\n"
        "      didn't match because some of the arguments have invalid types: "
        "(Tensor, !self=Tensor!, !other=Tensor!)\n")
    # (a number self= is where.ScalarSelf's; input= and a method's other= work)
    assert torch.where(C, self=2.0, other=X).tolist() == [2.0, 1.0, 2.0]
    assert torch.where(C, input=X, other=X * 2).tolist() == [1.0, 2.0, 1.0]
    assert X.where(condition=C, other=X * 2).tolist() == [1.0, 2.0, 1.0]


def test_gradient_checks_spacing():
    x = torch.ones(2, 3)
    assert _msg(lambda: torch.gradient(x, spacing="2", dim=[0])) == (
        "gradient() received an invalid combination of arguments - got (Tensor, dim=list, "
        "spacing=str), but expected one of:\n"
        " * (Tensor input, *, tuple of ints dim, int edge_order = 1)\n"
        " * (Tensor input, *, Number spacing, tuple of ints dim, int edge_order = 1)\n"
        " * (Tensor input, *, Number spacing = None, int dim = None, int edge_order = 1)\n"
        " * (Tensor input, *, tuple of Scalars spacing, int dim = None, int edge_order = 1)\n"
        " * (Tensor input, *, tuple of Scalars spacing, tuple of ints dim, "
        "int edge_order = 1)\n"
        " * (Tensor input, *, tuple of Tensors spacing, int dim = None, int edge_order = 1)\n"
        " * (Tensor input, *, tuple of Tensors spacing, tuple of ints dim, "
        "int edge_order = 1)\n")
    assert _msg(lambda: torch.gradient(x, spacing=("a",))) == \
        "expected Tensor as element 0 in argument 1, but got str"
    s = torch.tensor(2.0)
    assert _msg(lambda: torch.gradient(x, spacing=[s, 2.0])) == \
        "expected Tensor as element 1 in argument 1, but got float"
    a = np.arange(12.0).reshape(3, 4) ** 2
    got = torch.gradient(torch.tensor(a), spacing=torch.tensor(2.0))
    for g, w in zip(got, np.gradient(a, 2.0)):
        np.testing.assert_allclose(g.numpy(), w)


def test_ormqr_checks_bools():
    a = torch.eye(3, dtype=torch.float64)
    tau = torch.zeros(3, dtype=torch.float64)
    assert _msg(lambda: torch.ormqr(a, tau, a, left="2")) == \
        "ormqr(): argument 'left' must be bool, not str"
    assert _msg(lambda: torch.ormqr(a, tau, a, True, 1)) == \
        "ormqr(): argument 'transpose' (position 5) must be bool, not int"
    assert torch.ormqr(a, tau, a, left=False).tolist() == a.tolist()


def test_hinge_embedding_loss_keeps_an_integer_dtype():
    i = torch.tensor([[1, -1, 2], [0, 1, -1]])
    r = torch.hinge_embedding_loss(i, i, 1.0, 0)
    assert r.dtype == torch.int64 and r.tolist() == [[1, 2, 2], [1, 1, 2]]
    # (margin - input as ATen's fill_ + sub_: the margin truncated to the input's dtype)
    r = torch.hinge_embedding_loss(torch.tensor([0, 1, 2]), torch.tensor([-1, -1, 1]), 1.5, 0)
    assert r.tolist() == [1, 0, 2]
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        torch.nn.functional.hinge_embedding_loss(i, i)
    x = torch.tensor([0.3, -0.2, 1.7], requires_grad=True)
    loss = torch.nn.functional.hinge_embedding_loss(x, torch.tensor([1, -1, -1]), margin=1.5)
    loss.backward()
    np.testing.assert_allclose(loss.item(), (0.3 + 1.7 + 0.0) / 3, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, -1 / 3, 0.0], rtol=1e-6)


@pytest.mark.parametrize("call, want", [
    (lambda x: torch.arctan2(x, "a"),
     "arctan2(): argument 'other' (position 2) must be Tensor, not str"),
    (lambda x: torch.matrix_power(torch.ones(2, 2), "a"),
     "matrix_power(): argument 'n' (position 2) must be int, not str"),
    (lambda x: torch.absolute(2),
     "absolute(): argument 'input' (position 1) must be Tensor, not int"),
    (lambda x: torch.subtract(x, "a"),
     "subtract() received an invalid combination of arguments - got (Tensor, str), but "
     "expected one of:\n"
     " * (Tensor input, Tensor other, *, Number alpha = 1, Tensor out = None)\n"
     " * (Tensor input, Number other, Number alpha = 1)\n"),
    (lambda x: torch.multiply(x, "a"),
     "multiply() received an invalid combination of arguments - got (Tensor, str), but "
     "expected one of:\n"
     " * (Tensor input, Tensor other, *, Tensor out = None)\n"
     " * (Tensor input, Number other)\n"
     "      didn't match because some of the arguments have invalid types: (Tensor, !str!)\n"),
])
def test_alias_functions_name_themselves(call, want):
    assert _msg(lambda: call(torch.ones(2))) == want
    assert torch.subtract(torch.ones(2), 2, 0.5).tolist() == [0.0, 0.0]
