"""PyTorch's test/jit/test_await.py, ported as behaviour: torch.jit._awaitable /
_awaitable_wait / _awaitable_nowait and Await[T] in eager Python, scripted functions
(graphs, save/load) and traces.

An Await's call runs at its first wait (gpujit, like PyTorch, delays it); an Await[T]
read as an object (`aw.attr`, `aw.method()`) or passed for a T parameter is waited on
implicitly, as TorchScript converts it.

Skipped, with the reason:
- test_await_eager_lazy's isinstance(aw, torch._C._Await): torch._C's class; gpujit's
  Await class is gpujit.jit._Await (checked instead).
"""
import io
from typing import List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit import Tensor
from gpujit.jit import _Await as Await


def _np(t):
    return t.detach().numpy()


def _close(a, b):
    np.testing.assert_allclose(_np(a), b if isinstance(b, np.ndarray) else _np(b),
                               rtol=1e-5, atol=1e-6)


def _count(graph, kind):
    return len(graph.findAllNodes(kind))


def _roundtrip(sm):
    buf = io.BytesIO()
    torch.jit.save(sm, buf)
    buf.seek(0)
    return torch.jit.load(buf)


EYE = np.eye(2, dtype=np.float32)


class C:
    def __init__(self, a: Tensor, b: Tensor):
        self._a = a
        self._b = b

    def a(self) -> Tensor:
        return self._a

    def b(self):
        return self._b


class CS:
    __slots__ = ["a", "b"]

    def __init__(self, a: Tensor, b: Tensor):
        self.a = a
        self.b = b


def test_await_python():
    calls = []

    def foo(x: int) -> int:
        calls.append(x)
        return x + 13

    aw: Await[int] = torch.jit._awaitable(foo, 13)
    assert calls == []                                  # delayed until the wait
    assert aw.fn()(*aw.args()) == torch.jit._awaitable_wait(aw) == 26
    assert torch.jit._awaitable_wait(aw) == 26 and calls == [13, 13]
    nw = torch.jit._awaitable_nowait(33)
    assert nw.is_nowait() and not aw.is_nowait()
    assert nw.args() == (33,)
    assert torch.jit._awaitable_wait(nw) == 33


def test_await_type_python():
    def foo() -> Tensor:
        return torch.randn(())

    awaits = torch.jit.annotate(List[Await[Tensor]], [])
    awaits.append(torch.jit._awaitable(foo))
    assert torch.jit._awaitable_wait(awaits[0]).shape == ()


def _delayed_plus_3(z: int) -> int:
    return z + 3


def test_script():
    def fn(x: Tensor):
        aw: Await[int] = torch.jit._awaitable(_delayed_plus_3, 99)
        a = torch.eye(2)
        b = torch.jit._awaitable_wait(aw)
        return a + b + x

    sm = torch.jit.script(fn)
    inp = torch.zeros(2)
    for _ in range(3):
        _close(sm(inp), EYE + 102)
    _close(fn(inp), EYE + 102)
    g = sm.graph
    assert _count(g, "prim::awaitable") == 1 and _count(g, "prim::awaitable_wait") == 1
    assert "Await[int]" in str(g)
    _close(_roundtrip(sm)(inp), EYE + 102)


def test_nowait():
    def fn(x: Tensor):
        aw = torch.jit._awaitable_nowait(13)
        a = torch.eye(2)
        b = torch.jit._awaitable_wait(aw)
        return a + b + x

    sm = torch.jit.script(fn)
    inp = torch.zeros(2)
    for _ in range(3):
        _close(sm(inp), EYE + 13)
    _close(fn(inp), EYE + 13)
    assert _count(sm.graph, "prim::awaitable_nowait") == 1
    _close(_roundtrip(sm)(inp), EYE + 13)


def test_nowait_class():
    def fn(x: Tensor):
        aw = torch.jit._awaitable_nowait(C(torch.zeros(2), torch.ones(2)))
        _a = torch.eye(2)
        c = torch.jit._awaitable_wait(aw)
        return _a + c.a() + x

    sm = torch.jit.script(fn)
    inp = torch.zeros(2)
    _close(sm(inp), EYE)
    _close(fn(inp), EYE)


def _delayed_a(c: C) -> Tensor:
    return c.a()


def test_await_class_arg():
    def fn(x: Tensor):
        c = C(torch.zeros(2), torch.ones(2))
        aw = torch.jit._awaitable(_delayed_a, c)
        _a = torch.eye(2)
        c2_t = torch.jit._awaitable_wait(aw)
        return _a + c2_t + x

    sm = torch.jit.script(fn)
    inp = torch.zeros(2)
    for _ in range(3):
        _close(sm(inp), EYE)
    _close(fn(inp), EYE)


def _cs_sum(self: CS):
    return self.a + self.b


def test_awaitable_to_await():
    def fn(x: Tensor):
        aw = torch.jit._awaitable(_cs_sum, CS(torch.zeros(2), torch.ones(2)))
        _a = torch.eye(2)
        res = torch.jit._awaitable_wait(aw)
        return _a + res + x

    sm = torch.jit.script(fn)
    inp = torch.ones(2)
    _close(sm(inp), EYE + 2)
    _close(fn(inp), EYE + 2)


def _cs_scaled(self: CS) -> CS:
    return CS(self.a * 2, self.b * 3)


def _cs_add(x: CS) -> Tensor:
    return x.a + x.b


def test_await_class_return():
    def fn(x: Tensor):
        aw: Await[CS] = torch.jit._awaitable(_cs_scaled, CS(x, x))
        _a = torch.eye(2)
        y = _cs_add(torch.jit._awaitable_wait(aw))
        return _a + y + x

    sm = torch.jit.script(fn)
    inp = torch.ones(2)
    for _ in range(3):
        _close(sm(inp), EYE + 6)
    _close(fn(inp), EYE + 6)
    assert _count(sm.graph, "prim::awaitable_wait") == 1


def _c_scaled(self: C) -> C:
    return C(self._a * 2, self._b * 3)


def test_await_getattr_implicit_conversion():
    def fn(x: Tensor):
        aw: Await[C] = torch.jit._awaitable(_c_scaled, C(x, x))
        _a = torch.eye(2)
        ai = aw._a
        awb = aw.b()
        c = C(2 * x, 2 * x)
        return _a + ai + x + c._a + c.b() + 0 * awb

    sm = torch.jit.script(fn)
    inp = torch.ones(2)
    for _ in range(3):
        _close(sm(inp), EYE + 7)
    _close(fn(inp), EYE + 7)
    assert _count(sm.graph, "prim::awaitable_wait") == 2


def _nested_inner(c: C) -> Await[Tensor]:
    return torch.jit._awaitable_nowait(3 * c.a())


def _nested_outer(x: Tensor) -> Await[Await[Tensor]]:
    return torch.jit._awaitable(_nested_inner, C(2 * x, x))


def test_await_nested():
    def main(x: Tensor) -> Tensor:
        awaw = _nested_outer(x)
        return torch.jit._awaitable_wait(torch.jit._awaitable_wait(awaw))

    sm = torch.jit.script(main)
    inp = torch.eye(2)
    _close(sm(inp), 6 * EYE)
    _close(main(inp), 6 * EYE)


class Tree:
    def __init__(self, v):
        self.parent = torch.jit.annotate(Optional["Tree"], None)
        self.v = v


def test_eager_await_non_scriptable():
    def delayed(t: Tree):
        t.v = t.v + 1
        return t

    aw = torch.jit._awaitable(delayed, Tree(2))
    assert torch.jit._awaitable_wait(aw).v == 3


def _twice_plus_one(x: Tensor) -> Tensor:
    return 2 * (x + 1)


def test_await_isinstance():
    def main(x: Tensor) -> Tensor:
        aw = torch.jit._awaitable(_twice_plus_one, x)
        if torch.jit.is_scripting():
            assert isinstance(aw, torch.jit._Await)
        assert isinstance(aw, torch.jit._Await)
        return torch.jit._awaitable_wait(aw)

    sm = torch.jit.script(main)
    inp = torch.eye(2)
    _close(sm(inp), 2 * EYE + 2)
    _close(main(inp), 2 * EYE + 2)


def test_await_eager_lazy():
    t = torch.ones(2, dtype=torch.int64)
    aw = torch.jit._awaitable(_twice_plus_one, t)
    assert isinstance(aw, torch.jit._Await)
    assert aw.dtype == t.dtype                  # read from the value (waits for it)


def test_await_out_of_interpreter():
    def main(x: Tensor) -> Await[Tensor]:
        aw = torch.jit._awaitable(_twice_plus_one, x)
        return aw

    sm = torch.jit.script(main)
    inp = torch.eye(2)
    want = 2 * EYE + 2
    _close(torch.jit._awaitable_wait(main(inp)), want)
    for _ in range(3):
        out = sm(inp)
        assert isinstance(out, Await)
        _close(torch.jit._awaitable_wait(out), want)
    assert "Await[Tensor]" in str(sm.graph)


def test_jit_trace():
    def gap(x: Tensor):
        return torch.relu(x) + torch.sin(x)

    def delayed(x: Tensor) -> Tensor:
        return 2 * (torch.cos(x) + 1)

    def main(x: Tensor, y: Tensor) -> Tensor:
        aw = torch.jit._awaitable(delayed, x)
        gap(y)
        k = torch.jit._awaitable_wait(aw)
        return y + k

    inp = torch.randn(2)
    tm = torch.jit.trace(main, (inp, inp))
    check = torch.ones(2)
    _close(tm(check, check), main(check, check))
    x = torch.randn(2)
    _close(tm(x, x), _np(x) + 2 * (np.cos(_np(x)) + 1))


def _multi(x: Tensor) -> Tuple[Tensor, List[Tensor]]:
    lst = [x * i for i in range(5)]
    return (100 * x, lst)


def test_await_multiout_save():
    def gap(x: Tensor):
        return torch.relu(x) + torch.sin(x)

    def main(x: Tensor) -> Tensor:
        aw = torch.jit._awaitable(_multi, x)
        z = gap(x)
        (_, lst) = torch.jit._awaitable_wait(aw)
        return lst[3] + z

    sm = torch.jit.script(main)
    inp = torch.eye(2)
    expected = 3 * EYE + np.maximum(EYE, 0) + np.sin(EYE)
    _close(sm(inp), expected)
    _close(main(inp), expected)
    _close(_roundtrip(sm)(inp), expected)


def _neg(x: Tensor) -> Tensor:
    return -1 * x


def _three_times(aw: Await[Tensor]) -> Tensor:
    return 3 * torch.jit._awaitable_wait(aw)


def test_await_func_arg():
    def gap(x: Tensor):
        return torch.relu(x) + torch.sin(x)

    def main(x: Tensor) -> Tensor:
        aw = torch.jit._awaitable(_neg, x)
        gap(x)
        y = _three_times(aw)
        return y + x

    sm = torch.jit.script(main)
    inp = torch.eye(2)
    _close(sm(inp), -2 * EYE)
    _close(main(inp), -2 * EYE)
    _close(_roundtrip(sm)(inp), -2 * EYE)


def test_await_runs_at_the_wait_and_once():
    def bad(x: int) -> int:
        if x > 2:
            raise ValueError("too big")
        return x * 10

    @torch.jit.script
    def fn(x: int) -> int:
        aw = torch.jit._awaitable(bad, x)
        y = x + 1                   # runs: the awaitable did not raise
        return y + torch.jit._awaitable_wait(aw) + torch.jit._awaitable_wait(aw)

    assert fn(1) == 22
    with pytest.raises(Exception, match="too big"):
        fn(5)

    @torch.jit.script
    def never_waited(x: int) -> int:
        torch.jit._awaitable(bad, x)
        return x

    assert never_waited(5) == 5


def test_await_errors():
    with pytest.raises(RuntimeError, match="Await without a contained type"):
        @torch.jit.script
        def f(x: Tensor):
            return torch.jit.annotate(List[Await], [])

    with pytest.raises(RuntimeError, match="Cannot match an Await to int"):
        @torch.jit.script
        def g(x: int) -> int:
            return torch.jit._awaitable_wait(x)
