"""Variants of the seed documents' programs (000 language reference, 001/004 torch.jit page,
002 tutorial, 003 blog pain points) as a user writes them after reading a section: other
sizes, other control flow, other call forms. Expected values, error words and grad_fn names
were checked against torch 2.13 running the same programs (`import torch`)."""
import io
import os
import re
import subprocess
import sys
import textwrap
import warnings
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit import nn


def _run_fresh(src):
    """Run src in a new interpreter (state a first call in a process sees)."""
    env = dict(os.environ)
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(src)], capture_output=True,
                       text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout


# ------------------------------------------------------------------ tracing (001, 002)

def test_first_trace_in_a_fresh_process_passes_its_check():
    # the first autograd record of a parameter's shape read `.shape` through the tracer's
    # hook: a GetAttr out of order, and check_trace's second trace differed
    out = _run_fresh("""
        import gpujit as torch
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = torch.nn.Conv2d(1, 2, 3)
                self.lin = torch.nn.Linear(2, 2)
            def forward(self, x):
                return self.lin(self.conv(x).relu())
            def weighted(self, x):
                return self.conv(x) * 2
        n = Net()
        t = torch.jit.trace(n, torch.ones(1, 1, 4, 4))
        tm = torch.jit.trace_module(n, {"forward": torch.ones(1, 1, 4, 4),
                                        "weighted": torch.ones(1, 1, 4, 4)})
        print(tuple(t(torch.ones(1, 1, 4, 4)).shape), tuple(tm.weighted(torch.ones(1, 1, 3, 3)).shape))
    """)
    assert out.split() == ["(1,", "2,", "2,", "2)", "(1,", "2,", "1,", "1)"]


class _Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


def _grad_fn_names(fn, *args, n=4):
    return [fn(*args)[0].grad_fn.name().rsplit(":", 1)[-1] for _ in range(n)]


def test_traced_cell_outputs_keep_the_ops_grad_fn_as_torch():
    # torch 2.13's _check_trace is @torch.no_grad(): the trace's profiling run sees nothing
    # requiring grad, so no differentiable graph is made (TanhBackward0 on every call)
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    cell = _Cell()
    traced = torch.jit.trace(cell, (x, h))
    assert _grad_fn_names(traced, x, h) == ["TanhBackward0"] * 4
    assert "grad_fn=<TanhBackward0>" in str(traced(x, h)[0])
    unchecked = torch.jit.trace(cell, (x, h), check_trace=False)
    assert _grad_fn_names(unchecked, x, h) == ["TanhBackward0"] + \
        ["DifferentiableGraphBackward"] * 3
    scripted = torch.jit.script(cell)
    assert _grad_fn_names(scripted, x, h) == ["TanhBackward0"] + \
        ["DifferentiableGraphBackward"] * 3
    # gradients are the same either way
    xs = torch.rand(3, 4, requires_grad=True)
    traced(xs, h)[0].sum().backward()
    g1 = xs.grad.clone()
    xs.grad = None
    cell(xs, h)[0].sum().backward()
    np.testing.assert_allclose(g1.numpy(), xs.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_profiled_under_no_grad_then_called_with_grad():
    class P(nn.Module):
        def __init__(self):
            super().__init__()
            self.p = nn.Parameter(torch.ones(2))

        def forward(self, x):
            return (x * self.p).sigmoid() * 2

    s = torch.jit.script(P())
    with torch.no_grad():
        assert s(torch.ones(2)).grad_fn is None
    names = [s(torch.ones(2)).grad_fn.name() for _ in range(3)]
    assert names == ["MulBackward1"] * 3
    out = s(torch.ones(2))
    out.sum().backward()
    np.testing.assert_allclose(s.p.grad.numpy(), [0.3932, 0.3932], atol=1e-4)


def test_trace_module_several_methods_and_check_inputs():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            with torch.no_grad():
                self.conv.weight.fill_(0.1)
                self.conv.bias.fill_(0.0)

        def forward(self, x):
            return self.conv(x).relu()

        def weighted(self, x):
            return self.conv(x) * 2

        def summed(self, x, y):
            return self.conv(x).sum() + y

    n = Net()
    x4 = torch.ones(1, 1, 4, 4)
    tm = torch.jit.trace_module(n, {"forward": x4, "weighted": x4,
                                    "summed": (x4, torch.tensor(1.))},
                                check_inputs=[{"forward": torch.ones(1, 1, 5, 5),
                                               "weighted": torch.ones(1, 1, 6, 6),
                                               "summed": (x4, torch.tensor(3.))}])
    assert type(tm).__name__ == "TopLevelTracedModule"
    assert tuple(tm(torch.ones(1, 1, 5, 5)).shape) == (1, 2, 3, 3)
    np.testing.assert_allclose(tm.weighted(torch.ones(1, 1, 3, 3)).detach().numpy().ravel(),
                               [1.8, 1.8], rtol=1e-5)
    assert abs(tm.summed(torch.ones(1, 1, 3, 3), torch.tensor(2.)).item() - 3.8) < 1e-5
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        torch.jit.trace_module(n, {"nope": torch.ones(1)})
    with pytest.raises(AttributeError, match="expected a dictionary of"):
        torch.jit.trace_module(n, torch.ones(1))
    with pytest.raises(AttributeError, match="trace doesn't support compiling individual"):
        torch.jit.trace(n.weighted, x4)


def test_check_inputs_catch_a_shape_dependent_loop():
    def loop_fn(x):
        acc = x[0]
        for i in range(1, x.size(0)):
            acc = acc + x[i]
        return acc
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(torch.jit.TracingCheckError, match="Tracing failed sanity checks"
                           ) as e:
            torch.jit.trace(loop_fn, (torch.ones(3, 2),), check_inputs=[(torch.ones(4, 2),)])
    assert "Graphs differed across invocations" in str(e.value)
    assert any("does not match the corresponding output" in str(m.message) for m in w)
    s = torch.jit.script(loop_fn)
    assert s(torch.ones(5, 2) * 2).tolist() == [10.0, 10.0]
    t = torch.jit.trace(loop_fn, (torch.ones(3, 2),))
    assert t(torch.ones(5, 2) * 2).tolist() == [6.0, 6.0]     # the loop ran 3 times


def test_traced_loop_over_rows_errors_on_more_rows():
    def f(x):
        out = []
        for row in x:
            out.append(row * 2)
        return torch.stack(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.jit.trace(f, (torch.ones(3, 2),))
    with pytest.raises(RuntimeError, match="Expected 3 elements in a list but found 4"):
        t(torch.ones(4, 2))


def test_script_if_tracing_and_fork_with_a_futures_list():
    @torch.jit.script_if_tracing
    def helper(x: torch.Tensor, n: int) -> torch.Tensor:
        for _ in range(n):
            x = x * 2
        return x

    def model(x):
        return helper(x, 2) + 1
    assert model(torch.ones(2)).tolist() == [5.0, 5.0]
    t = torch.jit.trace(model, (torch.ones(2),))
    assert t(torch.ones(3)).tolist() == [5.0, 5.0, 5.0]

    def work(x, k: int):
        return x * k + 1

    @torch.jit.script
    def par(x):
        futs: List[torch.jit.Future[torch.Tensor]] = []
        for i in range(4):
            futs.append(torch.jit.fork(work, x, i))
        out = torch.zeros_like(x)
        for f in futs:
            out = out + torch.jit.wait(f)
        return out
    assert par(torch.ones(3)).tolist() == [10.0, 10.0, 10.0]


# ------------------------------------------------------------------ freeze, save (001)

class _Frz(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.k = 3
        with torch.no_grad():
            self.conv.weight.fill_(0.5)
            self.conv.bias.fill_(0.1)

    def forward(self, x):
        return self.bn(self.conv(x)) * self.k

    @torch.jit.export
    def version(self) -> int:
        return self.k + 1


def test_freeze_preserved_attrs_and_errors():
    m = torch.jit.script(_Frz().eval())
    x = torch.arange(16.).reshape(1, 1, 4, 4)
    f = torch.jit.freeze(m)
    np.testing.assert_allclose(f(x)[0, 0].numpy(), [[67.7997, 81.2996], [121.7994, 135.2993]],
                               rtol=1e-5)
    assert not hasattr(f, "k") and not hasattr(f, "version") and not hasattr(f, "conv")
    f2 = torch.jit.freeze(m, preserved_attrs=["version", "k"])
    assert f2.version() == 4 and f2.k == 3
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        torch.jit.freeze(torch.jit.script(_Frz()))
    with pytest.raises(RuntimeError, match="Freezing expects a ScriptModule as input"):
        torch.jit.freeze(_Frz().eval())
    o = torch.jit.optimize_for_inference(torch.jit.script(_Frz().eval()))
    assert abs(o(x).sum().item() - 812.3959) < 1e-2


def test_save_load_bytesio_path_and_extra_files(tmp_path):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)
            self.register_buffer("steps", torch.tensor(0))
            with torch.no_grad():
                self.lin.weight.copy_(torch.arange(6.).reshape(2, 3))
                self.lin.bias.zero_()

        def forward(self, x):
            if x.sum() > 0:
                return self.lin(x)
            return -self.lin(x)

        @torch.jit.export
        def twice(self, x):
            return self.forward(x) * 2

    m = torch.jit.script(M())
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    x = torch.ones(1, 3)
    assert loaded(x).tolist() == [[3.0, 12.0]] and loaded(-x).tolist() == [[3.0, 12.0]]
    assert loaded.twice(x).tolist() == [[6.0, 24.0]]
    assert type(loaded).__name__ == "RecursiveScriptModule" and loaded.code == m.code
    p = str(tmp_path / "m.pt")
    m.save(p, _extra_files={"meta.txt": "hello", "cfg.json": b'{"a": 1}'})
    extra = {"meta.txt": "", "cfg.json": ""}
    l2 = torch.jit.load(p, _extra_files=extra)
    assert extra == {"meta.txt": b"hello", "cfg.json": b'{"a": 1}'}
    assert l2.steps.item() == 0 and tuple(l2.lin.weight.shape) == (2, 3)


# ------------------------------------------------------------------ the language (000)

def test_type_comments_and_annotations():
    @torch.jit.script
    def f1(x, tup, n):
        # type: (float, Tuple[Tensor, int], int) -> Tensor
        t0, k = tup
        return t0 * x + k + n
    assert f1(2.0, (torch.arange(3.), 4), 1).tolist() == [5.0, 7.0, 9.0]
    assert f1(2, (torch.arange(3.), 4), 1).tolist() == [5.0, 7.0, 9.0]   # int for float
    with pytest.raises(RuntimeError, match="Expected a value of type 'Tuple\\[Tensor, int\\]' "
                       "for argument 'tup' but instead found type 'tuple'"):
        f1(2.0, (torch.arange(3.), 4.5), 1)

    @torch.jit.script
    def f2(xs: List[int], d: Dict[str, float], o: Optional[int] = None) -> float:
        s = 0.0
        for v in xs:
            s += v
        for k in d.keys():
            s += d[k]
        if o is not None:
            s += o
        return s
    assert (f2([1, 2, 3], {"a": 0.5}), f2([1], {}, 3)) == (6.5, 4.0)
    with pytest.raises(RuntimeError, match="Expected a value of type 'List\\[int\\]' for "
                       "argument 'xs' but instead found type 'list'"):
        f2([1.0], {})


def test_empty_containers_annotated():
    class E(nn.Module):
        def forward(self, x: torch.Tensor) -> Tuple[List[int], Dict[str, torch.Tensor],
                                                     Dict[int, List[float]]]:
            a: List[int] = []
            for i in range(4):
                if i % 2 == 0:
                    a.append(i * 3)
            d: Dict[str, torch.Tensor] = {}
            d["x"] = x * 2
            e: Dict[int, List[float]] = {}
            e[1] = [1.0, float(x.sum().item())]
            return a, d, e
    a, d, e = torch.jit.script(E())(torch.ones(2))
    assert a == [0, 6] and d["x"].tolist() == [2.0, 2.0] and e == {1: [1.0, 2.0]}

    def g(x):
        lst = []
        lst.append(3)
        return lst
    with pytest.raises(RuntimeError, match="Type variable 't' previously matched to type "
                       "Tensor is matched to type int"):
        torch.jit.script(g)


def test_optional_refinement_forms():
    @torch.jit.script
    def f(x: Optional[int], y: Optional[int]) -> int:
        if x is None:
            return -1
        r = x
        if y is not None and y > 2:
            r = r + y
        if not (y is None or x > 5):
            r = r * 10
        return r
    assert [f(None, 3), f(1, 3), f(7, 1), f(2, None)] == [-1, 40, 7, 2]

    @torch.jit.script
    def w(x: Optional[torch.Tensor]) -> torch.Tensor:
        while x is None:
            x = torch.zeros(2)
        assert x is not None
        return x + 1
    assert w(None).tolist() == [1.0, 1.0] and w(torch.ones(2)).tolist() == [2.0, 2.0]

    @torch.jit.script
    def a(x: Optional[int]) -> int:
        assert x is not None
        return x + 1
    assert a(4) == 5
    with pytest.raises(torch.jit.Error):
        a(None)

    def c(x: Optional[int]) -> int:
        flag = x is None
        if flag:
            return 0
        return x + 1
    with pytest.raises(RuntimeError, match="Arguments for call are not valid") as e:
        torch.jit.script(c)
    # the hint names the variable as written (it said `x.3`, an SSA name)
    assert "x is Optional[int] and may be None" in str(e.value)
    assert not re.search(r"\bx\.\d", str(e.value)), str(e.value)


def test_scripted_language_errors_carry_torchs_words():
    def e3(x: int):
        for i in range(x):
            z = i
        return z
    with pytest.raises(RuntimeError, match="undefined value z"):
        torch.jit.script(e3)

    def e4(x: torch.Tensor):
        if x.sum() > 0:
            return 1
        return x
    with pytest.raises(RuntimeError, match="Previous return statement returned a value of "
                       "type int but this return statement returns a value of type Tensor"):
        torch.jit.script(e4)

    def e1(x: bool):
        if x:
            r = torch.ones(1)
        else:
            r = 1.5
        return r
    with pytest.raises(RuntimeError, match="Type mismatch: r is set to type Tensor in the "
                       "true branch and type float in the false branch"):
        torch.jit.script(e1)


class _Pt(NamedTuple):
    x: torch.Tensor
    y: int
    name: str


def test_namedtuple_construct_index_fields_return():
    @torch.jit.script
    def mk(a: torch.Tensor, k: int) -> _Pt:
        p = _Pt(a * 2, k + 1, "hi")
        q = _Pt(x=a, y=k, name="q")
        return _Pt(p.x + q[0], p[1] + q.y, p.name + q.name)
    r = mk(torch.arange(3.), 4)
    assert type(r).__name__ == "_Pt" and r.x.tolist() == [0.0, 3.0, 6.0]
    assert (r.y, r.name, r[1]) == (9, "hiq", 9)


def test_export_ignore_unused_and_ignore_drop():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(2))

        @torch.jit.export
        def extra(self, x: torch.Tensor, k: int = 2) -> torch.Tensor:
            return (x + self.w) * k

        @torch.jit.ignore
        def py_only(self, x: torch.Tensor) -> torch.Tensor:
            return x + float(np.float64(0.5))

        @torch.jit.unused
        def never(self, x):
            return x.not_a_tensor_method()      # (never compiled)

        def forward(self, x, use: bool = False):
            if use:
                return self.never(x)
            return self.py_only(x) + self.extra(x, 2)
    s = torch.jit.script(M())
    assert s(torch.zeros(2)).tolist() == [2.5, 2.5]
    assert s.extra(torch.ones(2), 3).tolist() == [6.0, 6.0]
    with pytest.raises(RuntimeError, match="This Python function is annotated to be ignored "
                       "and cannot be run"):
        s(torch.zeros(2), True)
    with pytest.warns(FutureWarning, match="ignore\\(True\\) has been deprecated"):
        torch.jit.ignore(drop=True)
    with pytest.raises(RuntimeError, match="Argument to @torch.jit.ignore must be a bool or "
                       "a function but got"):
        torch.jit.ignore("yes")


def test_module_attributes_final_constants_attribute():
    from typing import Final

    class M(nn.Module):
        __constants__ = ["k"]
        scale: Final[float]

        def __init__(self):
            super().__init__()
            self.k = 3
            self.scale = 2.5
            self.names = torch.jit.Attribute(["a", "b"], List[str])
            self.table = torch.jit.Attribute({}, Dict[str, int])
            self.count = 0

        def forward(self, x):
            self.count += 1
            self.table["n"] = self.count
            return x * self.scale + self.k + len(self.names)
    m = torch.jit.script(M())
    assert m(torch.ones(2)).tolist() == [7.5, 7.5] and m.count == 1 and m.table == {"n": 1}
    m(torch.ones(2))
    assert m.count == 2 and m.table == {"n": 2} and m.names == ["a", "b"]


# ------------------------------------------------------------------ the blog (003)

def test_comprehension_ifs_sets_and_variable_module_indexing():
    # torch 2.13 refuses these ("Comprehension ifs are not supported yet", "Expected
    # integer literal for index"); gpujit compiles them: answers as Python's
    @torch.jit.script
    def comp(xs: List[int]) -> List[int]:
        return [x * 2 for x in xs if x % 2 == 0]
    assert comp([1, 2, 3, 4]) == [4, 8]

    @torch.jit.script
    def dcomp(keys: List[str]) -> Dict[str, int]:
        return {k: len(k) for k in keys if len(k) > 1}
    assert dcomp(["a", "bb", "ccc"]) == {"bb": 2, "ccc": 3}

    class L(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
            for i, lin in enumerate(self.layers):
                with torch.no_grad():
                    lin.weight.fill_(i + 1.0)
                    lin.bias.zero_()

        def forward(self, x, i: int, k: str):
            return self.layers[i](x), self.heads[k](x)
    m = torch.jit.script(L())
    y, z = m(torch.ones(1, 2), 2, "b")
    assert y.tolist() == [[6.0, 6.0]] and tuple(z.shape) == (1, 3)
    assert m(torch.ones(1, 2), 0, "a")[0].tolist() == [[2.0, 2.0]]
