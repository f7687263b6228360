"""__torch_function__ for Tensor subclasses and torch.overrides (session 42): ops on a
subclass instance return the subclass (PyTorch's default Tensor.__torch_function__), an
override sees every op call (func, types, args, kwargs) first, nn.Parameter opts out,
DisableTorchFunctionSubclass turns it off, handle_torch_function serves user functions;
the dispatch layer exists only while such a subclass does. Compared with torch 2.13 when
it is installed."""
import gc

import pytest

import gpujit
from gpujit.ops.registry import dispatch_state


def _program(torch):
    out = []

    class L(torch.Tensor):
        pass

    x = torch.ones(2, 3).as_subclass(L)
    r = [x + 1, x.sum(), torch.relu(x), x[0], x.clone(), x.detach(), x.t(), x.view(6),
         torch.cat([x, x]), x.split(1), x.max(0), 2 * x, x @ x.t(),
         torch.nn.functional.softmax(x, -1), x.float(), x.to(torch.float64), -x, x > 0]
    out.append([type(t).__name__ if not isinstance(t, (tuple, list))
                else [type(u).__name__ for u in t] for t in r])
    out.append((x + 1).tolist())
    p = torch.nn.Parameter(torch.ones(2))
    out.append((type(p * 2).__name__, type(p.detach()).__name__, type(p).__name__))

    class P2(torch.nn.Parameter):
        pass

    out.append(type(P2(torch.ones(2)) * 2).__name__)
    w = torch.ones(2, requires_grad=True)
    v = w.as_subclass(L)
    (v * 2).sum().backward()
    out.append((w.grad.tolist(), type(w.grad).__name__))
    calls = []

    class Logged(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})

    a = torch.ones(2, 3).as_subclass(Logged)
    b = torch.nn.functional.gelu(a * 2 + 1).mean(dim=0, keepdim=True)
    out.append((type(b).__name__, list(calls)))
    calls.clear()
    a.add_(1)
    out.append((list(calls), type(a).__name__, a.tolist()))

    class Only(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func.__name__ == "add":
                return "intercepted"
            return super().__torch_function__(func, types, args, kwargs)

    o = torch.zeros(2).as_subclass(Only)
    out.append((torch.add(o, 1), type(o * 2).__name__))
    ov = torch.overrides
    out.append((ov.has_torch_function((o,)), ov.has_torch_function((torch.ones(1),)),
                ov.is_tensor_like(o), ov.is_tensor_like(3), ov.is_tensor_like(torch.ones(1))))
    with torch._C.DisableTorchFunctionSubclass():
        out.append((type(o * 2).__name__, torch._C._is_torch_function_enabled()))
    out.append(torch._C._is_torch_function_enabled())
    mk = torch.Tensor._make_subclass(L, torch.ones(2), True)
    out.append((type(mk).__name__, mk.requires_grad, mk.is_leaf))

    class Never(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    n = torch.ones(1).as_subclass(Never)
    try:
        torch.neg(n)
    except TypeError as e:
        out.append(("TypeError", "Multiple dispatch failed for '" in str(e),
                    "all __torch_function__ handlers returned NotImplemented" in str(e),
                    "  - tensor subclass <class '" in str(e)))

    class Scalar:
        """The torch.overrides docs' pattern: a non-Tensor type and a function that
        checks has_torch_function."""
        def __init__(self, v):
            self.v = v

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return ("handled", func.__name__, args[0].v)

    def my_fn(t):
        if ov.has_torch_function((t,)):
            return ov.handle_torch_function(my_fn, (t,), t)
        return "plain"

    out.append((my_fn(Scalar(3)), my_fn(torch.ones(1))))
    return out


def test_subclasses_keep_their_type_and_overrides_see_each_call():
    got = _program(gpujit)
    kinds = got[0]
    assert all(k == "L" or k == ["L", "L"] for k in kinds), kinds
    assert got[1] == [[2.0] * 3] * 2
    assert got[2] == ("Tensor", "Tensor", "Parameter") and got[3] == "Tensor"
    assert got[4] == ([2.0, 2.0], "Tensor")
    assert got[5] == ("Logged", ["mul", "add", "gelu", "mean"])
    assert got[6] == (["add_"], "Logged", [[2.0] * 3] * 2)
    assert got[7] == ("intercepted", "Only")
    assert got[8] == (True, False, True, False, True)
    assert got[9] == ("Tensor", False) and got[10] is True
    assert got[11] == ("L", True, True)
    assert got[12] == ("TypeError", True, True, True)
    assert got[13] == (("handled", "my_fn", 3), "plain")


def test_against_torch():
    torch = pytest.importorskip("torch")
    assert _program(gpujit) == _program(torch)


def test_the_layer_exists_only_while_such_a_subclass_does():
    gc.collect()
    assert dispatch_state.torch_function is None

    def make():
        class Temp(gpujit.Tensor):
            pass
        assert dispatch_state.torch_function is not None
        return type(gpujit.ones(2).as_subclass(Temp) * 2).__name__

    assert make() == "Temp"
    gc.collect()
    assert dispatch_state.torch_function is None
    # a class with the protocol off adds no layer
    class Off(gpujit.Tensor):
        __torch_function__ = gpujit._C._disabled_torch_function_impl
    assert dispatch_state.torch_function is None
    assert type(gpujit.ones(2).as_subclass(Off) + 1) is gpujit.Tensor
    # nor do nn.Parameter and its subclasses
    class P(gpujit.nn.Parameter):
        pass
    assert dispatch_state.torch_function is None


def test_subclass_through_autograd_tracing_and_modules():
    class L(gpujit.Tensor):
        pass

    lin = gpujit.nn.Linear(3, 2)
    x = gpujit.randn(4, 3).as_subclass(L)
    y = lin(x)
    assert type(y) is L
    y.sum().backward()
    assert lin.weight.grad is not None and type(lin.weight.grad) is gpujit.Tensor
    ref = gpujit.randn(4, 3)
    tr = gpujit.jit.trace(lambda t: (t * 2).relu(), (ref,))
    assert gpujit.equal(tr(ref), (ref * 2).relu())


def test_compiled_code_and_traces_of_subclass_inputs():
    class L(gpujit.Tensor):
        pass

    @gpujit.jit.script
    def f(x, y):
        return (x * y + 1).relu().sum(0)

    x, y = gpujit.randn(3, 4).as_subclass(L), gpujit.randn(3, 4)
    for _ in range(3):                  # (profiling, then optimized runs)
        r = f(x, y)
    assert type(r) is gpujit.Tensor     # (as torch: compiled code returns plain Tensors)
    assert gpujit.allclose(r, (x * y + 1).relu().sum(0).as_subclass(gpujit.Tensor))
    # a trace of a subclass input records the conversions as aten::alias, as torch's
    tr = gpujit.jit.trace(lambda a: a * 2 + 1, (gpujit.ones(2).as_subclass(L),))
    kinds = [n.kind() for n in tr.graph.nodes() if n.kind() != "prim::Constant"]
    assert kinds == ["aten::mul", "aten::alias", "aten::add", "aten::alias"]
    assert tr(gpujit.ones(2)).tolist() == [3.0, 3.0]


def test_properties_that_are_ops_go_through_the_protocol():
    calls = []

    class Lg(gpujit.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(getattr(func, "__name__", repr(func)))
            return super().__torch_function__(func, types, args, kwargs or {})

    y = gpujit.ones(2, 3).as_subclass(Lg)
    t = y.mT                            # (a property whose getter is an op: func is __get__)
    seen = list(calls)
    assert seen == ["__get__"]
    assert type(t) is Lg and tuple(t.shape) == (3, 2)
    assert type(y.T) is Lg and type(y.mH) is Lg
