"""Session 30 leftovers (helper i30): out= with tensors that require grad (PyTorch's three
rules: differentiable ops, non-differentiable ones, and the autograd fallback of factories
and not_implemented ops), nn.RNN hidden-state errors, scripted-call argument errors and
properties of scripted modules. Expectations checked against torch 2.13."""
import pytest

import gpujit as torch

_OUT = ("{}(): functions with out=... arguments don't support automatic differentiation, "
        "but one of the arguments requires grad.")


# ------------------------------------------------------------------ out= and autograd

FACTORIES = {
    "zeros": lambda o: torch.zeros(6, out=o),
    "ones": lambda o: torch.ones(6, out=o),
    "full": lambda o: torch.full((6,), 2., out=o),
    "rand": lambda o: torch.rand(6, out=o),
    "randint": lambda o: torch.randint(3, (6,), out=o),
    "randperm": lambda o: torch.randperm(6, out=o),
    "arange": lambda o: torch.arange(6., out=o),
    "linspace": lambda o: torch.linspace(0, 1, 6, out=o),
    "logspace": lambda o: torch.logspace(0, 1, 6, out=o),
    "eye": lambda o: torch.eye(3, 2, out=o.view(3, 2)) if o.grad_fn is not None
    else torch.eye(3, 2, out=o),
    "normal": lambda o: torch.normal(0., 1., (6,), out=o),
}
pytestmark = pytest.mark.filterwarnings("ignore:An output with one or more elements")


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory_out_leaf_requiring_grad(name):
    f = FACTORIES[name]
    # grad mode: a leaf out that requires grad is refused (the autograd fallback's words)
    with pytest.raises(RuntimeError) as e:
        f(torch.zeros(6, requires_grad=True))
    assert str(e.value) == _OUT.format("aten::" + name)
    # no_grad: written, and the leaf no longer requires grad (set_requires_grad(False))
    o = torch.zeros(6, requires_grad=True)
    with torch.no_grad():
        f(o)
    assert not o.requires_grad and o.grad_fn is None
    # a plain out: fine
    assert not f(torch.zeros(6)).requires_grad


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory_out_with_history(name):
    w = torch.ones(6, requires_grad=True)
    x = w * 1
    with torch.no_grad():
        FACTORIES[name](x)
    assert type(x.grad_fn).__name__ == "MulBackward0"     # (no_grad: history kept)
    x = w * 1
    FACTORIES[name](x)
    assert x.requires_grad
    # the old history no longer describes x: PyTorch's NotImplemented node
    assert type(x.grad_fn).__name__ == ("CopySlices" if name == "eye" else "NotImplemented")
    with pytest.raises(RuntimeError, match=f"derivative for aten::{name} is not implemented"):
        x.sum().backward()


@pytest.mark.parametrize("name", ["randn", "empty"])
def test_resizing_factories_refuse_out_requiring_grad(name):
    f = getattr(torch, name)
    w = torch.ones(6, requires_grad=True)
    for make in (lambda: torch.zeros(2, 3, requires_grad=True), lambda: (w * 1).view(2, 3)):
        with pytest.raises(RuntimeError, match="^cannot resize variables that require grad$"):
            f(2, 3, out=make())
        o = make()
        with torch.no_grad():
            with pytest.raises(RuntimeError, match="^cannot resize variables that require"):
                f(2, 3, out=o)
    assert f(2, 3, out=torch.zeros(2, 3), requires_grad=True).requires_grad


def test_factory_out_requires_grad_true():
    o = torch.zeros(2, 3)
    r = torch.zeros(2, 3, out=o, requires_grad=True)
    assert r is o and o.requires_grad and o.is_leaf


def test_differentiable_op_out_requiring_grad():
    a = torch.ones(2, 3)
    w = torch.ones(2, 3, requires_grad=True)
    for call in (lambda o: torch.add(a, a, out=o), lambda o: torch.sin(a, out=o)):
        with pytest.raises(RuntimeError, match="^(add|sin)\\(\\): functions with out="):
            call(torch.zeros(2, 3, requires_grad=True))
        with pytest.raises(RuntimeError, match="^(add|sin)\\(\\): functions with out="):
            call(w * 1)
    with pytest.raises(RuntimeError, match="^add\\(\\): functions with out="):
        torch.add(w, a, out=torch.zeros(2, 3))
    o = torch.zeros(2, 3, requires_grad=True)
    with torch.no_grad():
        torch.add(a, a, out=o)
    assert o.requires_grad          # (not a factory: out keeps requires_grad)


def test_nondifferentiable_op_out_requiring_grad():
    # outputs without gradient: no check at all, out keeps what it had
    a = torch.tensor([1., 2., 3.])
    w = torch.ones(3, requires_grad=True)
    for call in (lambda o: torch.eq(a, a, out=o), lambda o: torch.lt(w, a, out=o),
                 lambda o: torch.logical_not(a, out=o), lambda o: torch.histc(w, 3, out=o),
                 lambda o: torch.special.bessel_j0(w, out=o)):
        o = torch.zeros(3, requires_grad=True)
        r = call(o)
        assert r is o and o.requires_grad and o.grad_fn is None
        x = w * 1
        call(x)
        assert type(x.grad_fn).__name__ == "MulBackward0"


def test_not_implemented_op_out_requiring_grad():
    a = torch.tensor([1., 2., 3.])
    w = torch.ones(3, requires_grad=True)
    for name, call in (("heaviside", lambda o, x: torch.heaviside(x, a, out=o)),
                       ("floor_divide", lambda o, x: torch.floor_divide(x, 2., out=o))):
        with pytest.raises(RuntimeError) as e:
            call(torch.zeros(3, requires_grad=True), a)
        assert str(e.value) == _OUT.format("aten::" + name)
        r = call(torch.zeros(3), w)         # (an input that requires grad: allowed)
        assert r.requires_grad and type(r.grad_fn).__name__ == "NotImplemented"
        assert r.grad_fn.next_functions[0][0] is not None
        with pytest.raises(RuntimeError, match=f"derivative for aten::{name} is not impl"):
            r.sum().backward()


def test_out_requires_grad_rules_match_torch():
    real = pytest.importorskip("torch")

    def outcome(lib, name, mode, kind):
        a = lib.tensor([1., 2., 3., 4., 5., 6.])
        w = lib.ones(6, requires_grad=True)
        o = lib.zeros(6, requires_grad=True) if kind == "leaf" else w * 1
        calls = {"zeros": lambda: lib.zeros(6, out=o), "rand": lambda: lib.rand(6, out=o),
                 "randn": lambda: lib.randn(6, out=o), "add": lambda: lib.add(a, a, out=o),
                 "eq": lambda: lib.eq(a, a, out=o),
                 "heaviside": lambda: lib.heaviside(a, a, out=o),
                 "normal": lambda: lib.normal(0., 1., (6,), out=o)}
        try:
            if mode == "grad":
                r = calls[name]()
            else:
                with lib.no_grad():
                    r = calls[name]()
            return r.requires_grad, type(r.grad_fn).__name__ if r.grad_fn else None
        except RuntimeError as e:
            return str(e)
    for name in ("zeros", "rand", "randn", "add", "eq", "heaviside", "normal"):
        for mode in ("grad", "nograd"):
            for kind in ("leaf", "nonleaf"):
                assert outcome(torch, name, mode, kind) == outcome(real, name, mode, kind), \
                    (name, mode, kind)


# ------------------------------------------------------------------ RNN hidden states

def _err(f):
    try:
        f()
    except Exception as e:      # noqa: BLE001 (the class and words are what is compared)
        return type(e).__name__, str(e).split("\n")[0]
    return None


def test_lstm_hidden_errors():
    x, h = torch.zeros(5, 2, 3), torch.zeros(1, 2, 4)
    lstm = torch.nn.LSTM(3, 4)
    assert _err(lambda: lstm(x, (h,))) == ("IndexError", "tuple index out of range")
    assert _err(lambda: lstm(x, [h])) == ("IndexError", "list index out of range")
    assert _err(lambda: lstm(x, (h, h, h))) == ("RuntimeError", "lstm expects two hidden states")
    assert _err(lambda: lstm(x, h)) == ("IndexError",
                                        "index 1 is out of bounds for dimension 0 with size 1")
    assert _err(lambda: lstm(x, 3)) == ("TypeError", "'int' object is not subscriptable")
    assert _err(lambda: lstm(x, (torch.zeros(2, 2, 4), h))) == (
        "RuntimeError", "Expected hidden[0] size (1, 2, 4), got [2, 2, 4]")
    assert _err(lambda: torch.nn.GRU(3, 4)(x, (h,))) == (
        "AttributeError", "'tuple' object has no attribute 'dim'")


def test_rnn_cell_errors():
    x, h = torch.zeros(2, 3), torch.zeros(2, 4)
    for name in ("RNNCell", "GRUCell"):
        c = getattr(torch.nn, name)(3, 4)
        assert _err(lambda: c(torch.zeros(2, 7), h)) == (
            "RuntimeError", "input has inconsistent input_size: got 7 expected 3")
        assert _err(lambda: c(x, torch.zeros(3, 4))) == (
            "RuntimeError", "Input batch size 2 doesn't match hidden0 batch size 3")
        assert _err(lambda: c(x, torch.zeros(2, 5))) == (
            "RuntimeError", "hidden0 has inconsistent hidden_size: got 5, expected 4")
        assert _err(lambda: c(torch.zeros(1, 2, 3))) == (
            "ValueError", f"{name}: Expected input to be 1D or 2D, got 3D instead")
        assert _err(lambda: c(x, torch.zeros(1, 2, 4))) == (
            "ValueError", f"{name}: Expected hidden to be 1D or 2D, got 3D instead")
        assert tuple(c(x[0], h[0]).shape) == (4,)
    c = torch.nn.LSTMCell(3, 4)
    assert _err(lambda: c(x, (h,))) == ("RuntimeError", "lstm_cell expects two hidden states")
    assert _err(lambda: c(x[0], (h[0],))) == ("IndexError", "tuple index out of range")
    assert _err(lambda: c(x, h)) == (
        "TypeError", "lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not "
        "Tensor")
    assert _err(lambda: c(x, (h, torch.zeros(3, 4)))) == (
        "RuntimeError", "Input batch size 2 doesn't match hidden1 batch size 3")
    assert _err(lambda: c(x, (torch.zeros(1, 2, 4), h))) == (
        "ValueError", "LSTMCell: Expected hx[0] to be 1D or 2D, got 3D instead")
    assert _err(lambda: c(x, 3)) == ("TypeError", "'int' object is not iterable")
    assert [tuple(t.shape) for t in c(x[0], (h[0], h[0]))] == [(4,), (4,)]
    # scripted: the same checks, compiled
    s = torch.jit.script(c)
    assert [tuple(t.shape) for t in s(x[0])] == [(4,), (4,)]
    with pytest.raises(Exception, match="input has inconsistent input_size: got 7 expected 3"):
        s(torch.zeros(2, 7))
