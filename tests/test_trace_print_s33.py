"""Printing fidelity of scripted / traced programs against torch 2.13 (session 33, d33).

Finds, minimised, with torch 2.13's behaviour:

1. Module type names. torch names a class by `_qualified_name`: a library module by its
   module path, `__torch__.torch.nn.modules.linear.Linear` (mangled
   `__torch__.torch.nn.modules.linear.___torch_mangle_7.Linear`); gpujit printed
   `__torch__.Linear`. `torch.jit.freeze(torch.jit.script(nn.Linear(2, 2)).eval()).graph`
   starts `graph(%self : __torch__.torch.nn.modules.linear.___torch_mangle_7.Linear`;
   gpujit printed `__torch__.torch.frontend.script.modules.___torch_mangle_1.
   RecursiveScriptModule` (its shell's class). A module loaded by jit.load keeps the name
   it was saved with (`%seq : __torch__.torch.nn.modules.container.Sequential`); gpujit's
   loader named it by its short name (`__torch__.Sequential`).
2. Argument errors of a scripted call follow createStackForSchema's order: the count of
   all arguments, keywords and self included, first; then the keyword-only positional
   count; then each parameter from a keyword / default / 'missing value'; leftover
   keywords last (an unknown one, else 'specified both'). For
   `h(x: Tensor, n: int = 2)`: `h(a, q=1)` -> "Unknown keyword argument 'q' for operator
   'h'. Schema: h(Tensor x, int n=2) -> Tensor" (gpujit: "h() got unexpected keyword
   arguments ['q']"); `h(a, 1, x=a)` -> "h() expected at most 2 argument(s) but received 3
   argument(s)..." (gpujit: 'specified both'); for `f(x, y)`, `f(a, x=a)` -> "f() is
   missing value for argument 'y'..." (gpujit: 'specified both'); a scripted module's
   `s(a, 1, y=2)` -> "forward() expected at most 3 argument(s) but received 4
   argument(s)" (gpujit said 2 and 3, not counting self, or 'specified both').
   `k(x, *, n: int)`: `k(a, 3)` -> "k() takes 1 positional argument(s) but 2 was/were
   given.  Declaration: k(Tensor x, *, int n) -> Tensor" (two spaces, as torch).
3. A traced nn.Sequential(Linear, ReLU, Linear): torch keeps every child a
   `prim::CallMethod[name="forward"]` (`%_1 : __torch__.torch.nn.modules.activation.ReLU`);
   gpujit left the ReLU inline (`aten::relu`): folding the first Linear's call replaced
   its result's Value, but the ReLU call's recorded argument was still the old Value, so
   the ReLU region looked as if it read a value from inside another call.
4. Trace scopes: torch 2.13 gives the root module's own ops no scope and a submodule's
   ops `scope: __module.linear` (nested `__module.cell/__module.cell.linear`); gpujit
   printed the 1.x tutorial's `scope: MyCell` / `MyCell/Linear[linear]`.
"""
import io
import re

import pytest

import gpujit as torch
from gpujit import nn


def _strip_mangle(s):
    return re.sub(r"___torch_mangle_\d+\.", "", s)


# torch's _qualified_name: `__torch__.` + the defining module (`__torch__.Net` when run as
# __main__, `__torch__.test_trace_print_s33.Net` imported)
USER = "__torch__." if __name__ == "__main__" else f"__torch__.{__name__}."


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))

    def forward(self, x):
        return self.seq(x) * 2.5


# ------------------------------------------------------------------ 1. type names
def test_library_module_types_print_their_torch_path():
    s = torch.jit.script(Net().eval())
    assert "%seq : __torch__.torch.nn.modules.container.Sequential = prim::GetAttr" in \
        _strip_mangle(str(s.graph))
    sg = _strip_mangle(str(s.seq.graph))
    assert sg.startswith("graph(%self : __torch__.torch.nn.modules.container.Sequential,")
    assert "%_0 : __torch__.torch.nn.modules.linear.Linear = " in sg
    assert "%_1 : __torch__.torch.nn.modules.activation.ReLU = " in sg
    # a second Linear gets a mangled name, the mangle before the class name
    assert re.search(r"%_2 : __torch__\.torch\.nn\.modules\.linear\.___torch_mangle_\d+"
                     r"\.Linear = ", str(s.seq.graph))
    t = torch.jit.trace(Net().eval(), torch.ones(2, 3))
    assert "__torch__.torch.nn.modules.container." in str(t.graph)
    # the user's class: torch's _qualified_name, its module's path
    # (torch 2.13's `self.1`: the submodules' calls took the name `self` after it)
    assert _strip_mangle(str(t.graph)).startswith(f"graph(%self.1 : {USER}Net,")


def test_frozen_module_keeps_its_type_name():
    f = torch.jit.freeze(torch.jit.script(nn.Linear(2, 2)).eval())
    assert re.match(r"graph\(%self : __torch__\.torch\.nn\.modules\.linear\."
                    r"(___torch_mangle_\d+\.)?Linear,", str(f.graph)), str(f.graph)
    g = torch.jit.freeze(torch.jit.script(Net().eval()))
    assert _strip_mangle(str(g.graph)).startswith(f"graph(%self : {USER}Net,")


@pytest.mark.parametrize("how", ["script", "trace"])
def test_loaded_module_keeps_the_saved_type_names(how):
    m = Net().eval()
    x = torch.ones(2, 3)
    c = torch.jit.script(m) if how == "script" else torch.jit.trace(m, x)
    b = io.BytesIO()
    torch.jit.save(c, b)
    b.seek(0)
    ld = torch.jit.load(b)
    g = _strip_mangle(str(ld.graph))
    # (torch 2.13 names a loaded method's receiver %self.1 and the GetAttr %seq.1 in
    # both; gpujit's value names follow torch's for the scripted module, not yet for the
    # loaded traced one (its CONSTANTS.c0): %self, %seq)
    assert re.match(rf"graph\(%self(\.1)? : {re.escape(USER)}Net,", g), g
    if how == "script":
        assert g.startswith(f"graph(%self.1 : {USER}Net,"), g
    assert re.search(r"%seq(\.1)? : __torch__\.torch\.nn\.modules\.container\.Sequential = ", g), g
    sg = _strip_mangle(str(ld.seq.graph))
    assert "%_0 : __torch__.torch.nn.modules.linear.Linear = " in sg
    assert "%_1 : __torch__.torch.nn.modules.activation.ReLU = " in sg
    assert torch.allclose(ld(x), m(x))
    # saved again after loading: the names survive a second round
    b2 = io.BytesIO()
    torch.jit.save(ld, b2)
    b2.seek(0)
    ld2 = torch.jit.load(b2)
    assert "__torch__.torch.nn.modules.container." in str(ld2.graph)
    assert torch.allclose(ld2(x), m(x))


# ------------------------------------------------------------------ 2. argument errors
@torch.jit.script
def f2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x + y * 2


@torch.jit.script
def h2(x: torch.Tensor, n: int = 2) -> torch.Tensor:
    return x * n


@torch.jit.script
def k1(x: torch.Tensor, *, n: int) -> torch.Tensor:
    return x * n


class TwoArgs(nn.Module):
    def forward(self, x, y: int):
        return x * y


F2 = "Declaration: f2(Tensor x, Tensor y) -> Tensor"
H2 = "h2(Tensor x, int n=2) -> Tensor"
K1 = "Declaration: k1(Tensor x, *, int n) -> Tensor"
FWD = f"Declaration: forward({USER}TwoArgs self, Tensor x, int y) -> Tensor"


_TWO = []


def _calls():
    a = torch.ones(2)
    if not _TWO:
        _TWO.append(torch.jit.script(TwoArgs()))
    s = _TWO[0]
    return [
        (lambda: f2(a, a, a),
         f"f2() expected at most 2 argument(s) but received 3 argument(s). {F2}"),
        (lambda: f2(a, z=a), f"f2() is missing value for argument 'y'. {F2}"),
        (lambda: f2(z=a), f"f2() is missing value for argument 'x'. {F2}"),
        (lambda: f2(a, x=a), f"f2() is missing value for argument 'y'. {F2}"),
        (lambda: f2(a, a, x=a),
         f"f2() expected at most 2 argument(s) but received 3 argument(s). {F2}"),
        (lambda: h2(a, q=1), f"Unknown keyword argument 'q' for operator 'h2'. Schema: {H2}"),
        (lambda: h2(a, x=a),
         f"Argument 'x' specified both as positional and keyword argument. Schema: {H2}"),
        (lambda: h2(a, q=1, r=2),
         f"h2() expected at most 2 argument(s) but received 3 argument(s). Declaration: {H2}"),
        (lambda: h2(a, 1, x=a),
         f"h2() expected at most 2 argument(s) but received 3 argument(s). Declaration: {H2}"),
        (lambda: k1(a, 3),
         f"k1() takes 1 positional argument(s) but 2 was/were given.  {K1}"),
        (lambda: k1(a, 3, n=1),
         f"k1() expected at most 2 argument(s) but received 3 argument(s). {K1}"),
        (lambda: k1(a, q=1), f"k1() is missing value for argument 'n'. {K1}"),
        (lambda: s(a, 1, 2),
         f"forward() expected at most 3 argument(s) but received 4 argument(s). {FWD}"),
        (lambda: s(a, 1, y=2),
         f"forward() expected at most 3 argument(s) but received 4 argument(s). {FWD}"),
        (lambda: s(a, x=2), f"forward() is missing value for argument 'y'. {FWD}"),
    ]


@pytest.mark.parametrize("i", range(15))
def test_scripted_call_argument_errors_say_what_torch_says(i):
    call, words = _calls()[i]
    with pytest.raises(RuntimeError) as e:
        call()
    # (gpujit mangles a class scripted again, torch 2.13 reuses its type: see the report)
    assert _strip_mangle(str(e.value)) == words


def test_keywords_still_bind():
    a = torch.ones(2)
    assert torch.equal(h2(a, n=3), a * 3)
    assert torch.equal(h2(x=a), a * 2)
    assert torch.equal(k1(a, n=4), a * 4)
    assert torch.equal(f2(y=a, x=a), a * 3)
    _calls()
    assert torch.equal(_TWO[0](a, y=5), a * 5)


# ------------------------------------------------------------------ 3. chained calls
def test_traced_sequential_keeps_every_child_a_method_call():
    m = Net().eval()
    x = torch.ones(2, 3)
    t = torch.jit.trace(m, x)
    sg = _strip_mangle(str(t.seq.graph))
    assert sg.count('prim::CallMethod[name="forward"]') == 3, sg
    assert "aten::relu" not in sg
    assert "__torch__.torch.nn.modules.activation.ReLU = prim::GetAttr[name=\"1\"]" in sg
    assert "aten::relu" in str(t.inlined_graph)
    assert torch.allclose(t(x), m(x))
    b = io.BytesIO()
    torch.jit.save(t, b)
    b.seek(0)
    assert torch.allclose(torch.jit.load(b)(x), m(x))


# ------------------------------------------------------------------ 4. trace scopes
class Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        return torch.tanh(self.linear(x) + h)


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = Cell()

    def forward(self, x, h):
        return self.cell(x, h).relu()


def test_trace_scopes_are_torch_2_module_paths():
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    inl = str(torch.jit.trace(Outer(), (x, h)).inlined_graph)
    lines = inl.splitlines()

    def scope_of(op):
        line = next(ln for ln in lines if f"= {op}(" in ln)
        m = re.search(r", scope: (\S+)", line)
        return m.group(1) if m else None

    assert scope_of("aten::linear") == "__module.cell/__module.cell.linear"
    assert scope_of("aten::tanh") == "__module.cell"
    assert scope_of("aten::relu") is None          # the root's own op: no scope
    assert "Linear[" not in inl and "Outer" not in inl.split("\n", 1)[1]
    g = str(torch.jit.trace(Cell(), (x, h)).graph)
    assert ", scope:" not in g.split("aten::add")[1].splitlines()[0]


# ------------------------------------------------------------------ 5. code_with_constants
W3 = torch.arange(3.)


class UsesConstant(nn.Module):
    def forward(self, x):
        return x * W3


def test_code_with_constants_gives_the_constants_table():
    # torch 2.13: (code, ConstMap); the frozen Linear's code is
    # `torch.linear(input, CONSTANTS.c0, CONSTANTS.c1)`, c0 the weight, c1 the bias
    lin = nn.Linear(2, 2).eval()
    f = torch.jit.freeze(torch.jit.script(lin))
    code, consts = f.code_with_constants
    assert code == f.code
    assert "torch.linear(input, CONSTANTS.c0, CONSTANTS.c1)" in code
    assert sorted(consts.const_mapping) == ["c0", "c1"]
    assert torch.equal(consts.c0, lin.weight.detach())
    assert torch.equal(consts.c1, lin.bias.detach())
    # a traced module's tensor constant; no constants: an empty table
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.jit.trace(UsesConstant(), torch.ones(3))
    code, consts = t.code_with_constants
    assert "torch.mul(x, CONSTANTS.c0)" in code
    assert torch.equal(consts.c0, W3)
    code, consts = torch.jit.script(Net()).code_with_constants
    assert consts.const_mapping == {} and "CONSTANTS" not in code
    # the method gives a plain dict, a scripted function has none (as torch)
    assert isinstance(f.forward.code_with_constants[1], dict)
    assert not hasattr(f2, "code_with_constants")
