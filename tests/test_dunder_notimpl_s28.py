"""Binary operators return NotImplemented on an operand of the wrong Python type, as
PyTorch's (_wrap_type_error_to_not_implemented), from the op's own generated entry point
(entry_codegen.operator_entry: one frame a call, no wrapper). Expectations checked against
torch 2.13."""
import operator
import sys

import numpy as np
import pytest

import gpujit as torch


def _x():
    return torch.tensor([1.0, 2.0, 4.0])


class _Other:
    """An operand that knows Tensors: Python asks it once the Tensor's operator declines."""
    def __radd__(self, o):
        return "radd"

    def __rsub__(self, o):
        return "rsub"

    def __rmatmul__(self, o):
        return "rmatmul"

    def __rpow__(self, o):
        return "rpow"

    def __eq__(self, o):
        return "eq"

    def __gt__(self, o):
        return "gt"

    def __lt__(self, o):
        return "lt"

    __hash__ = object.__hash__


@pytest.mark.parametrize("expr,msg", [
    (lambda x: x + "a", r"unsupported operand type\(s\) for \+: 'Tensor' and 'str'"),
    (lambda x: x + [1, 2, 3], r"unsupported operand type\(s\) for \+: 'Tensor' and 'list'"),
    (lambda x: [1] + x, r'can only concatenate list \(not "Tensor"\) to list'),
    (lambda x: x - None, r"unsupported operand type\(s\) for -: 'Tensor' and 'NoneType'"),
    (lambda x: "a" - x, r"unsupported operand type\(s\) for -: 'str' and 'Tensor'"),
    (lambda x: "a" / x, r"unsupported operand type\(s\) for /: 'str' and 'Tensor'"),
    (lambda x: x @ "a", r"unsupported operand type\(s\) for @: 'Tensor' and 'str'"),
    (lambda x: [1.0] @ x, r"unsupported operand type\(s\) for @: 'list' and 'Tensor'"),
    (lambda x: x ** "a", r"unsupported operand type\(s\) for \*\* or pow\(\): 'Tensor' and 'str'"),
    (lambda x: "a" ** x, r"unsupported operand type\(s\) for \*\* or pow\(\): 'str' and 'Tensor'"),
    (lambda x: x // (1, 2), r"unsupported operand type\(s\) for //: 'Tensor' and 'tuple'"),
    (lambda x: x < "a", "'<' not supported between instances of 'Tensor' and 'str'"),
    (lambda x: x >= None, "'>=' not supported between instances of 'Tensor' and 'NoneType'"),
    (lambda x: operator.iadd(x, "a"), r"unsupported operand type\(s\) for \+=: 'Tensor' and 'str'"),
    (lambda x: operator.ipow(x, None), r"unsupported operand type\(s\) for \*\*=: 'Tensor' and 'NoneType'"),
    (lambda x: operator.imatmul(x, "a"), r"unsupported operand type\(s\) for @=: 'Tensor' and 'str'"),
    (lambda x: x.long() & "a", r"unsupported operand type\(s\) for &: 'Tensor' and 'str'"),
    (lambda x: "a" | x.long(), r"unsupported operand type\(s\) for \|: 'str' and 'Tensor'"),
    (lambda x: x.long() << "a", r"unsupported operand type\(s\) for <<: 'Tensor' and 'str'"),
    (lambda x: "a" >> x.long(), r"unsupported operand type\(s\) for >>: 'str' and 'Tensor'"),
])
def test_a_wrong_operand_type_is_pythons_type_error(expr, msg):
    with pytest.raises(TypeError, match=msg):
        expr(_x())


def test_dunders_return_not_implemented():
    x = _x()
    for name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                 "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
                 "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__lt__",
                 "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        for other in ("a", None, [1, 2, 3], object()):
            assert getattr(x, name)(other) is NotImplemented, (name, other)
    xi = torch.tensor([1, 2])
    for name in ("__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__",
                 "__lshift__", "__rlshift__", "__rshift__", "__rrshift__",
                 "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__"):
        assert getattr(xi, name)("a") is NotImplemented, name
    for name in ("__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__",
                 "__imod__", "__ipow__"):
        y = x.clone()
        assert getattr(y, name)("a") is NotImplemented, name
        np.testing.assert_array_equal(y.numpy(), [1.0, 2.0, 4.0])     # left as it was
    # torch 2.13: x.__eq__(None) is NotImplemented too (x == None is then Python's
    # identity test)
    assert x.__eq__(None) is NotImplemented and x.__ne__(None) is NotImplemented
    assert (x == None) is False and (x != None) is True       # noqa: E711
    assert (None == x) is False and (x == "a") is False and (x != "a") is True  # noqa: E711


def test_the_other_operand_gets_its_turn():
    x = _x()
    assert x + _Other() == "radd"
    assert x - _Other() == "rsub"
    assert x @ _Other() == "rmatmul"
    assert x ** _Other() == "rpow"
    assert (x == _Other()) == "eq"
    assert (x < _Other()) == "gt" and (x > _Other()) == "lt"


def test_reflected_operators_keep_the_operand_order():
    x = _x()
    xi = torch.tensor([1, 2])
    cases = [(2 - x, [1.0, 0.0, -2.0]), (2 / x, [2.0, 1.0, 0.5]), (2 ** x, [2.0, 4.0, 16.0]),
             (2 // x, [2.0, 1.0, 0.0]), (5 % x, [0.0, 1.0, 1.0]), (1 << xi, [2, 4]),
             (16 >> xi, [8, 4]), (3 & xi, [1, 2]), (x.__rsub__(2), [1.0, 0.0, -2.0]),
             (x.__rtruediv__(2), [2.0, 1.0, 0.5]), (x.__rpow__(2), [2.0, 4.0, 16.0]),
             (x.__rfloordiv__(5), [5.0, 2.0, 1.0]), (x.__rmod__(5), [0.0, 1.0, 1.0]),
             (xi.__rlshift__(1), [2, 4]), (xi.__rrshift__(16), [8, 4])]
    for got, want in cases:
        np.testing.assert_array_equal(got.numpy(), want)
    assert (2 - x).dtype == torch.float32 and (1 << xi).dtype == torch.int64
    m = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    v = torch.tensor([1.0, -1.0])
    np.testing.assert_array_equal(m.__rmatmul__(v).numpy(), v.numpy() @ m.numpy())
    np.testing.assert_array_equal(v.__rmatmul__(m).numpy(), m.numpy() @ v.numpy())


def test_real_errors_still_raise():
    x = _x()
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of "
                                           r"tensor b \(2\) at non-singleton dimension 0"):
        x + torch.ones(2)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match"):
        x += torch.ones(2)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        xi = torch.tensor([1, 2])
        xi += 1.5
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool "
                                           "tensors is not supported"):
        torch.tensor([True]) - torch.tensor([True])
    # a dtype the op does not take: NotImplementedError (PyTorch's "not implemented for
    # 'Float'"), not Python's TypeError
    with pytest.raises(NotImplementedError):
        x & 1
    with pytest.raises(NotImplementedError):
        torch.tensor([1, 2]) << 1.5
    with pytest.raises(NotImplementedError):
        1 | x


def test_under_autograd():
    x = torch.tensor([1.0, 2.0, 4.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for -: 'Tensor' and 'str'"):
        x - "a"
    assert x.__rtruediv__(None) is NotImplemented
    y = (2 - x) * (2 / x) + 2 ** x
    y.sum().backward()
    xn = np.array([1.0, 2.0, 4.0])
    want = -(2 / xn) + (2 - xn) * (-2 / xn ** 2) + np.log(2) * 2 ** xn
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-5)


def test_an_operator_is_one_frame():
    # x + y runs the op's generated code directly under the caller (no wrapping frame)
    x = _x()
    try:
        x + torch.ones(2)
    except RuntimeError:
        tb = sys.exc_info()[2]
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    assert frames[0] == __file__
    assert frames[1].startswith("<gpujit op aten::add.Tensor:operator")
    assert torch.Tensor.__add__.op is torch.add.op
    # (torch 2.13: __rtruediv__ is its __rdiv__)
    assert torch.Tensor.__rtruediv__.__name__ == "__rdiv__"


def test_numpy_values_are_no_tensor_arguments():
    # PyTorch's parser takes no ndarray / NumPy scalar for a Tensor parameter (it named
    # the type as its C name); an operator then returns NotImplemented (x @ np.float64(2):
    # Python's TypeError, as torch 2.13's), where gpujit's matmul computed with them
    x = _x()
    with pytest.raises(TypeError, match=r"matmul\(\): argument 'other' \(position 2\) must be "
                                        r"Tensor, not numpy.float64"):
        torch.matmul(x, np.float64(2))
    with pytest.raises(TypeError, match=r"matmul\(\): argument 'input' \(position 1\) must be "
                                        r"Tensor, not numpy.ndarray"):
        torch.matmul(np.ones(3), x)
    with pytest.raises(TypeError, match=r"add\(\): argument 'other' \(position 2\) must be "
                                        r"Tensor, not numpy.ndarray"):
        torch.add(x, np.ones(3))
    with pytest.raises(TypeError, match=r"add\(\): argument 'other' \(position 2\) must be "
                                        r"Tensor, not _Other"):
        torch.add(x, _Other())
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for @: 'Tensor' and "
                                        r"'numpy.float64'"):
        x @ np.float64(2)
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for @: 'numpy.float64' "
                                        r"and 'Tensor'"):
        np.float64(2) @ x
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for @: 'numpy.ndarray' "
                                        r"and 'Tensor'"):
        np.ones(3) @ x
    # a NumPy number where the op takes a number still works
    np.testing.assert_array_equal(torch.clamp(x, np.float64(1.5)).numpy(), [1.5, 2.0, 4.0])
    np.testing.assert_array_equal((x * np.float64(2)).numpy(), [2.0, 4.0, 8.0])
