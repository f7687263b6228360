"""Value names of loaded archives and of `_0`-style variables, as torch 2.13 prints them.

torch names a value after the variable it is assigned to only where the name is
"meaningful" (ir_emitter's meaningfulName): not `_` followed by digits, the temporaries its
own .code writes (`_0 = torch.mul(...)`). So a loaded archive's graph shows %9, not %_0.
A method loaded from an archive has a plain class as its receiver (torch's SimpleSelf), so
`self` is stored and loaded like any variable and its input prints %self.1; `getattr(self,
"0")` (nn.Sequential's saved code) is a GetAttr named %_0. The expected texts below are
torch 2.13's for the same programs (source comments dropped)."""
import io
import re

import gpujit as torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())

    def forward(self, x):
        return self.seq(x) * 2.5


def _text(g):
    """The graph's text without source comments and mangled class names."""
    s = re.sub(r" # .*", "", str(g))
    s = re.sub(r"___torch_mangle_\d+\.", "", s)
    return s.replace(f"__torch__.{__name__}.", "__torch__.")


def _loaded(m):
    b = io.BytesIO()
    torch.jit.save(m, b)
    b.seek(0)
    return torch.jit.load(b)


NET = """graph(%self.1 : __torch__.Net,
      %x.1 : Tensor):
  %7 : float = prim::Constant[value=2.5]()
  %seq.1 : __torch__.torch.nn.modules.container.Sequential = prim::GetAttr[name="seq"](%self.1)
  %6 : Tensor = prim::CallMethod[name="forward"](%seq.1, %x.1)
  %8 : Tensor = aten::mul(%6, %7)
  return (%8)
"""

SEQ = """graph(%self.1 : __torch__.torch.nn.modules.container.Sequential,
      %input.1 : Tensor):
  %_0 : __torch__.torch.nn.modules.linear.Linear = prim::GetAttr[name="0"](%self.1)
  %_1 : __torch__.torch.nn.modules.activation.ReLU = prim::GetAttr[name="1"](%self.1)
  %input0.1 : Tensor = prim::CallMethod[name="forward"](%_0, %input.1)
  %11 : Tensor = prim::CallMethod[name="forward"](%_1, %input0.1)
  return (%11)
"""


def test_a_loaded_scripted_module_prints_torchs_names():
    ld = _loaded(torch.jit.script(Net().eval()))
    assert _text(ld.graph) == NET
    assert _text(ld.seq.graph) == SEQ
    x = torch.ones(2, 3)
    torch.testing.assert_close(ld(x), ld.seq(x) * 2.5)


def test_scripted_code_read_back_leaves_temporaries_unnamed():
    # a traced module's code (`_0 = torch.mul(...)`, CONSTANTS.c0) read back: torch 2.13
    # prints `%9 : Tensor = aten::mul(%7, %8)`; the temporary is never %_0
    m = torch.jit.trace(Net().eval(), torch.ones(2, 3))
    assert "_0 = " in m.code
    g = _text(_loaded(m).graph)
    assert not re.search(r"%_\d+ : Tensor", g), g
    assert re.search(r"%\d+ : Tensor = aten::mul\(", g), g


def _underscores(x):
    _0 = x * 2
    _1 = _0 + 1
    for _2 in range(3):
        _1 = _1 + _2
    if bool(_1.sum() > 0):
        _3 = _1
    else:
        _3 = _0
    return _3


def test_underscore_digit_variables_in_a_scripted_function():
    f = torch.jit.script(_underscores)
    assert _text(f.graph) == """graph(%x.1 : Tensor):
  %19 : NoneType = prim::Constant()
  %11 : bool = prim::Constant[value=1]()
  %2 : int = prim::Constant[value=2]()
  %5 : int = prim::Constant[value=1]()
  %8 : int = prim::Constant[value=3]()
  %21 : int = prim::Constant[value=0]()
  %3 : Tensor = aten::mul(%x.1, %2)
  %7 : Tensor = aten::add(%3, %5, %5)
  %37 : Tensor = prim::Loop(%8, %11, %7)
    block0(%12 : int, %_1 : Tensor):
      %16 : Tensor = aten::add(%_1, %12, %5)
      -> (%11, %16)
  %20 : Tensor = aten::sum(%37, %19)
  %22 : Tensor = aten::gt(%20, %21)
  %24 : bool = aten::Bool(%22)
  %40 : Tensor = prim::If(%24)
    block0():
      -> (%37)
    block1():
      -> (%3)
  return (%40)
"""
    torch.testing.assert_close(f(torch.ones(2)), torch.full((2,), 6.0))


def _comprehension(x, n: int):
    _0 = x * 2
    _5 = [_0 * i for i in range(n)]
    if n > 1:
        _6 = _5[1]
    else:
        _6 = _5[0]
    return _6


def test_underscore_digit_names_with_a_comprehension_and_an_if():
    f = torch.jit.script(_comprehension)
    assert _text(f.graph) == """graph(%x.1 : Tensor,
      %n.1 : int):
  %9 : bool = prim::Constant[value=1]()
  %3 : int = prim::Constant[value=2]()
  %16 : int = prim::Constant[value=1]()
  %22 : int = prim::Constant[value=0]()
  %4 : Tensor = aten::mul(%x.1, %3)
  %5 : Tensor[] = prim::ListConstruct()
   = prim::Loop(%n.1, %9)
    block0(%i.1 : int):
      %13 : Tensor = aten::mul(%4, %i.1)
      %14 : Tensor[] = aten::append(%5, %13)
      -> (%9)
  %17 : bool = aten::gt(%n.1, %16)
  %32 : Tensor = prim::If(%17)
    block0():
      %20 : Tensor = aten::__getitem__(%5, %16)
      -> (%20)
    block1():
      %23 : Tensor = aten::__getitem__(%5, %22)
      -> (%23)
  return (%32)
"""
    torch.testing.assert_close(f(torch.ones(2), 3), torch.full((2,), 2.0))


class _Frozen(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l = torch.nn.Linear(3, 2)
        self.register_buffer("b", torch.ones(2))
        self.scale = 2.5

    def forward(self, x):
        return self.l(torch.relu(x * 2)) * self.scale + self.b


def test_frozen_constants_are_named_by_their_attribute_path():
    # torch 2.13: `%self.l.weight : Float(2, 3, strides=[3, 1], requires_grad=0,
    # device=cpu) = prim::Constant[value=...]()`, no source comment (it was %weight.1 :
    # Tensor, with the line of the read)
    eager = _Frozen().eval()
    m = torch.jit.freeze(torch.jit.script(eager))
    lines = {ln.split(" : ")[0].strip(): ln for ln in str(m.graph).splitlines()
             if "prim::Constant" in ln}
    assert lines["%self.l.weight"].startswith(
        "  %self.l.weight : Float(2, 3, strides=[3, 1], requires_grad=0, device=cpu) = "
        "prim::Constant[value="), lines
    assert lines["%self.l.bias"].startswith(
        "  %self.l.bias : Float(2, strides=[1], requires_grad=0, device=cpu) = "), lines
    assert lines["%self.b"].startswith("  %self.b : Float(2, strides=[1], "), lines
    assert lines["%self.scale"] == "  %self.scale : float = prim::Constant[value=2.5]()"
    assert not any(" # " in lines[k] for k in ("%self.l.weight", "%self.l.bias", "%self.b"))
    x = torch.randn(4, 3)
    for _ in range(3):
        torch.testing.assert_close(m(x), eager(x))
