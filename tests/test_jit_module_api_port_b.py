"""Ignored blocks, slicing defaults, properties and parametrizations of scripted modules,
ported as behaviour from PyTorch's test/jit/test_ignore_context_manager.py,
test_ignorable_args.py, test_property.py and test_parametrization.py (the second half of
test_jit_module_api_port.py; the skipped tests are listed at the top of that file)."""
import io

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn as nn
import gpujit.nn.utils.parametrize as parametrize
from gpujit import Tensor


def _x(*shape):
    return torch.tensor(np.random.RandomState(0).rand(*shape).astype(np.float32) + 0.5)


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()),
                               rtol=1e-5, atol=1e-6)


# ====================================================================== ignored blocks

class IgnoreInOut(nn.Module):
    def forward(self):
        a: int = 4
        b: int = 5
        c: int = 0
        d: int = 6
        with torch.jit._IgnoreContextManager(a="inp:int", b="inp:int", c="out:int",
                                             d="out:int"):
            lst = [2 for i in range(a) if i > 2]
            c = lst[0] + a + b
            d = 9
        return c + d


class IgnoreOneOut(nn.Module):
    def forward(self):
        a: int = 4
        b: int = 5
        c: int = 0
        with torch.jit._IgnoreContextManager(a="inp:int", b="inp:int", c="out:int"):
            lst = [2 for i in range(a) if i > 2]
            c = lst[0] + a + b
        return c


class IgnoreOutReplacesInput(nn.Module):
    def forward(self):
        a: int = 4
        b: int = 5
        with torch.jit._IgnoreContextManager(a="inp:int", b="out:int"):
            lst = [2 for i in range(a) if i > 2]
            b = lst[0] + a
        return b


class IgnoreJustInputs(nn.Module):
    def forward(self):
        a: int = 4
        b: int = 5
        with torch.jit._IgnoreContextManager(a="inp:int", b="inp:int"):
            [2 + b for i in range(a) if i > 2]
        return a


class IgnoreJustOutput(nn.Module):
    def forward(self):
        with torch.jit._IgnoreContextManager(c="out:List[int]"):
            c = [2 for i in range(7) if i > 2]
        c[0] = 3
        return c[0] + c[1]


class IgnoreTensorPython(nn.Module):
    """The block runs real Python: NumPy on a tensor's values, a set, a generator."""
    def forward(self, x: Tensor) -> Tensor:
        n: int = 0
        with torch.jit._IgnoreContextManager(x="inp:Tensor", n="out:int"):
            n = len({int(v) for v in np.asarray(x.numpy()).ravel()})
        return x * n


@pytest.mark.parametrize("cls, expected", [(IgnoreInOut, 20), (IgnoreOneOut, 11),
                                           (IgnoreOutReplacesInput, 6),
                                           (IgnoreJustInputs, 4), (IgnoreJustOutput, 5)])
def test_ignore_context_manager(cls, expected):
    model = cls()
    s = torch.jit.script(model)
    assert model() == expected
    assert s() == expected
    assert s() == expected


def test_ignore_context_manager_runs_python_with_module_globals():
    s = torch.jit.script(IgnoreTensorPython())
    x = torch.tensor([1.0, 2.0, 2.0, 3.0])
    np.testing.assert_array_equal(s(x).numpy(), x.numpy() * 3)
    assert "PythonOp" in str(s.graph)


def test_ignore_context_manager_errors():
    class Returns(nn.Module):
        def forward(self):
            a: int = 1
            with torch.jit._IgnoreContextManager(a="inp:int"):
                return a
            return 0

    with pytest.raises(RuntimeError, match="cannot\\s+return"):
        torch.jit.script(Returns())

    class BadSpec(nn.Module):
        def forward(self):
            a: int = 1
            with torch.jit._IgnoreContextManager(a="in:int"):
                a = 2
            return a

    with pytest.raises(RuntimeError, match="inp:<type>"):
        torch.jit.script(BadSpec())


# ====================================================================== ignorable args

def test_slice_defaults_in_code():
    def f():
        val = torch.tensor([[1, 2, 3, 4, 9, 9], [1, 2, 3, 4, 9, 9]])
        return val[2:, 0:1]

    def g(t: Tensor):
        return t[:, 0:1], t[1:], t[:, ::2]

    s = torch.jit.script(f)
    assert tuple(s().shape) == (0, 1)
    t = torch.tensor([[1, 2, 3, 4, 9, 9], [1, 2, 3, 4, 9, 9]])
    sg = torch.jit.script(g)
    a, b, c = sg(t)
    n = t.numpy()
    np.testing.assert_array_equal(a.numpy(), n[:, 0:1])
    np.testing.assert_array_equal(b.numpy(), n[1:])
    np.testing.assert_array_equal(c.numpy(), n[:, ::2])
    buf = io.BytesIO()
    torch.jit.save(sg, buf)
    buf.seek(0)
    for x, y in zip(torch.jit.load(buf)(t), (a, b, c)):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


# ====================================================================== properties

class PropBasic(nn.Module):
    def __init__(self):
        super().__init__()
        self.x = 0

    @property
    def x_and_1(self):
        return self.x + 1

    def forward(self, new_x):
        # type: (int) -> int
        self.x = new_x
        return self.x_and_1


class PropTuple(nn.Module):
    def __init__(self):
        super().__init__()
        self.x = 0

    @property
    def tuple_of_xs(self):
        return self.x, self.x

    def forward(self, new_x):
        # type: (int) -> int
        self.x = new_x
        foo, bar = self.tuple_of_xs
        return foo + bar


class PropInheritance(torch.jit.ScriptModule):
    def __init__(self):
        super().__init__()
        self.x = 0

    @property
    def x_and_1(self):
        return self.x + 1

    @torch.jit.script_method
    def forward(self, new_x):
        # type: (int) -> int
        self.x = new_x
        return self.x_and_1


def test_property_basic_and_tuple():
    for cls, f in ((PropBasic, lambda v: v + 1), (PropTuple, lambda v: 2 * v)):
        s = torch.jit.script(cls())
        for v in (0, 5, -3):
            assert s(v) == f(v) == cls()(v)


def test_property_inheritance_style():
    m = PropInheritance()
    assert m(0) == 1
    assert m(5) == 6


def test_property_tensor_method_slice_and_list_len():
    x = _x(2, 3)

    class TensorMethod(nn.Module):
        def __init__(self):
            super().__init__()
            self.x = x

        @property
        def prop(self):
            return self.x

        def forward(self, y):
            return self.prop.add(y)

    class TensorSlice(TensorMethod):
        def forward(self):
            return self.prop[:]

    class ListLen(nn.Module):
        def __init__(self):
            super().__init__()
            self.x = [1, 2, 3]

        @property
        def prop(self):
            return self.x

        def forward(self):
            return len(self.prop)

    y = _x(2, 3) * 2
    _close(torch.jit.script(TensorMethod())(y), x + y)
    _close(torch.jit.script(TensorSlice())(), x)
    assert torch.jit.script(ListLen())() == 3


def test_property_setter_and_deleter():
    class WithSetter(nn.Module):
        def __init__(self):
            super().__init__()
            self.x = 0

        @property
        def x_and_1(self):
            return self.x + 1

        @x_and_1.setter
        def x_and_1(self, v: int):
            self.x = v

        def forward(self, new_x):
            # type: (int) -> int
            self.x_and_1 = new_x
            return self.x_and_1

    class WithDeleter(PropBasic):
        @property
        def x_and_1(self):
            return self.x + 1

        @x_and_1.deleter
        def x_and_1(self):
            pass

    s = torch.jit.script(WithSetter())
    assert s(3) == 4
    s.x_and_1 = 10
    assert s.x == 10 and s.x_and_1 == 11
    d = torch.jit.script(WithDeleter())
    assert d(3) == 4


# ====================================================================== parametrization

class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT


class Skew(nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.T

    def right_inverse(self, A):
        return A.triu(1)


def _parametrized_linear():
    torch.manual_seed(0)
    model = nn.Linear(5, 5)
    parametrize.register_parametrization(model, "weight", Symmetric())
    return model


def test_parametrization_traceable():
    model = _parametrized_linear()
    x = torch.randn(3, 5)
    y = model(x)
    w = model.parametrizations.weight.original.detach().numpy()
    sym = np.triu(w) + np.triu(w, 1).T
    np.testing.assert_allclose(y.detach().numpy(),
                               x.numpy() @ sym.T + model.bias.detach().numpy(), rtol=1e-5)
    traced = torch.jit.trace_module(model, {"forward": x})
    _close(traced(x), y)
    with parametrize.cached():
        _close(traced(x), y)
        assert model.weight is model.weight          # computed once in the block
    assert model.weight is not model.weight
    with pytest.raises(RuntimeError, match="Cannot trace a model while caching"):
        with parametrize.cached():
            torch.jit.trace_module(model, {"forward": x})


def test_parametrization_scripting_refused():
    model = _parametrized_linear()

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return self.inner(x)

    with pytest.raises(torch.jit.Error, match="Parametrization is not working with "
                                              "scripting"):
        torch.jit.script(model)
    with pytest.raises(torch.jit.Error, match="submodule 'inner'"):
        torch.jit.script(Outer())
    parametrize.remove_parametrizations(model, "weight")
    x = torch.randn(3, 5)
    _close(torch.jit.script(model)(x), model(x))       # a plain Linear again


def test_parametrization_module_state_and_right_inverse():
    model = _parametrized_linear()
    assert type(model).__name__ == "ParametrizedLinear"
    assert parametrize.is_parametrized(model) and parametrize.is_parametrized(model, "weight")
    assert not parametrize.is_parametrized(model, "bias")
    assert parametrize.type_before_parametrizations(model) is nn.Linear
    assert list(model.state_dict()) == ["bias", "parametrizations.weight.original"]
    w = model.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)

    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Skew())
    A = torch.tensor([[0., 1., 2.], [-1., 0., 3.], [-2., -3., 0.]])
    m.weight = A                                      # stored through right_inverse
    np.testing.assert_array_equal(m.parametrizations.weight.original.detach().numpy(),
                                  np.triu(A.numpy(), 1))
    np.testing.assert_array_equal(m.weight.detach().numpy(), A.numpy())
    m.weight.pow(2).sum().backward()
    g = m.parametrizations.weight.original.grad.numpy()
    np.testing.assert_allclose(g, 4 * np.triu(A.numpy(), 1), rtol=1e-6)
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and isinstance(m.weight, nn.Parameter)
    assert list(m.state_dict()) == ["bias", "weight"]      # re-registered last, as torch
    np.testing.assert_array_equal(m.weight.detach().numpy(), A.numpy())


def test_parametrization_errors():
    class TakeRow(nn.Module):
        def forward(self, X):
            return X[0]

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(3, 3), "weight", TakeRow())
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a "
                                         "parametrized element with name 'foo'"):
        parametrize.register_parametrization(nn.Linear(3, 3), "foo", Skew())
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Symmetric())
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        m.weight = torch.zeros(3, 3)
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        parametrize.remove_parametrizations(m, "bias")
