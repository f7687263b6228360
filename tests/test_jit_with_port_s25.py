"""PyTorch's test/jit/test_with.py: test_with_record_function, the one test of the file
the earlier ports (tests/test_jit_lang_port.py, test_jit_misc_port_b.py,
test_script_with_exits.py) left out while gpujit had no profiler (session 25, helper H25).

`with torch.autograd.profiler.record_function(name):` in scripted code is a region
(prim::Enter / prim::Exit named "record_function", the name the Enter's input): when a
profiler runs it records a range around the body, nested ranges as its children; the
range closes on every way out of the body (its end, a return from inside an `if`, an
exception); `.code` writes the `with` back, so a saved function loads with it.
"""
import io

import pytest

import gpujit as torch
from gpujit.testing import FileCheck

rf = torch.autograd.profiler.record_function


def _events(fn, *args):
    with torch.autograd.profiler.profile() as p:
        out = fn(*args)
    return out, p.function_events


def _named(events, name):
    return [e for e in events if e.name == name]


@torch.jit.script
def _with_rf(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    with torch.autograd.profiler.record_function("foo"):
        with torch.autograd.profiler.record_function("nested"):
            a = x + y
    return a


def test_with_record_function():
    x = torch.ones(2, 2)
    for _ in range(3):          # profiled and optimized runs alike
        r, events = _events(_with_rf, x, x)
        assert r.tolist() == [[2.0, 2.0], [2.0, 2.0]]
        (foo,) = _named(events, "foo")
        (nested,) = _named(events, "nested")
        assert nested in foo.cpu_children


def test_record_function_graph_code_and_save_load():
    # (torch 2.13's graph and code: a record_function object per region, made with the
    # name, entered; the Exit takes it)
    rf = "__torch__.torch.autograd.profiler.record_function"
    FileCheck().check(f"{rf} = prim::CreateObject()").check('prim::CallMethod[name="__init__"]') \
        .check(f"{rf} = prim::Enter(").check(f"{rf} = prim::CreateObject()") \
        .check(f"{rf} = prim::Enter(").check("aten::add") \
        .check("Tensor = prim::Exit(").check("Tensor = prim::Exit(").run(str(_with_rf.graph))
    assert f'_0 = {rf}.__new__({rf})\n  _1 = (_0).__init__("foo", None, )\n  with _0:' \
        in _with_rf.code
    buf = io.BytesIO()
    torch.jit.save(_with_rf, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    x = torch.ones(2)
    r, events = _events(loaded, x, x)
    assert r.tolist() == [2.0, 2.0]
    (foo,) = _named(events, "foo")
    assert _named(events, "nested")[0] in foo.cpu_children


def test_record_function_without_a_profiler_runs_the_body():
    assert _with_rf(torch.ones(1), torch.ones(1)).tolist() == [2.0]


@torch.jit.script
def _named_by_argument(name: str, x: torch.Tensor) -> torch.Tensor:
    with torch.profiler.record_function(name):
        y = x * 2
    return y


def test_record_function_name_from_a_value():
    for _ in range(3):
        _, events = _events(_named_by_argument, "stage_" + "one", torch.ones(2))
        assert len(_named(events, "stage_one")) == 1


@torch.jit.script
def _raises_inside(x: torch.Tensor, fail: bool) -> torch.Tensor:
    with torch.autograd.profiler.record_function("outer"):
        if fail:
            raise ValueError("stop")
        y = x + 1
    return y


def test_record_function_closes_when_the_body_raises():
    for _ in range(3):
        with torch.autograd.profiler.profile() as p:
            with pytest.raises(Exception, match="stop"):
                _raises_inside(torch.ones(1), True)
            with rf("after"):           # a range of its own, not inside "outer"
                pass
        (outer,) = _named(p.function_events, "outer")
        (after,) = _named(p.function_events, "after")
        assert after.cpu_parent is None and after not in outer.cpu_children
        assert _raises_inside(torch.ones(1), False).tolist() == [2.0]


@torch.jit.script
def _returns_inside(x: torch.Tensor, early: bool) -> torch.Tensor:
    with torch.autograd.profiler.record_function("body"):
        if early:
            return x - 1
        x = x + 1
    return x


def test_record_function_with_a_return_inside():
    for early, want in ((True, 0.0), (False, 2.0), (True, 0.0)):
        r, events = _events(_returns_inside, torch.ones(1), early)
        assert r.tolist() == [want]
        (body,) = _named(events, "body")
        assert body.end_us >= body.start_us
    assert "record_function" in _returns_inside.code


def test_record_function_refusals():
    def bound(x: torch.Tensor):
        with torch.autograd.profiler.record_function("r") as h:
            x = x + 1
        return x, h
    with pytest.raises(RuntimeError, match="binds the profiler range"):
        torch.jit.script(bound)

    def not_a_str(x: torch.Tensor):
        with torch.autograd.profiler.record_function(3):
            x = x + 1
        return x
    with pytest.raises(RuntimeError, match="takes a str name"):
        torch.jit.script(not_a_str)
