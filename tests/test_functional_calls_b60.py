"""Scripted calls of torch.nn.functional's Python-level functions (F.relu, F.dropout,
F.layer_norm, F.max_pool2d, F.cross_entropy, ...) as torch 2.13 compiles them: a
prim::CallFunction of the function with all its defaults filled in, `.code` calling
`__torch__.torch.nn.functional.<name>(...)`, the body torch compiles (inlined_graph,
jit.save's code/__torch__/torch/nn/functional.py, torch.jit.script(F.relu).code), torch's
boolean dispatch (F.max_pool2d -> _max_pool2d / max_pool2d_with_indices), torch's checks
in those bodies. Expected texts are torch 2.13's prints of the same programs (source
ranges stripped); values are torch 2.13's results."""
import io
import re
import zipfile

import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional
nn = torch.nn


def f_brief(x):
    return F.softmax(x, 0) + F.dropout(x, 0.5, False) + F.layer_norm(x, [3])


def f_act(x):
    return F.relu(x) * 2 + F.leaky_relu(x, 0.2) + F.elu(x) + F.hardtanh(x, -2., 2.) + F.silu(x)


def f_pool(x):
    a = F.max_pool2d(x, 2) + F.adaptive_avg_pool2d(x, 2) + F.adaptive_max_pool2d(x, [2, 2])
    b, i = F.max_pool2d(x, 2, return_indices=True)
    return a + b + F.max_pool1d(x[0], 2).sum()


def f_loss(x, y, t):
    return (F.cross_entropy(x, t) + F.nll_loss(x, t) + F.mse_loss(x, y)
            + F.l1_loss(x, y, weight=y) + F.smooth_l1_loss(x, y, beta=0.5))


class Seed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.conv2 = nn.Conv2d(4, 4, 3)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        return F.relu(self.conv2(x))


def _strip(text):
    text = re.sub(r" # [^\n]*", "", str(text))
    text = text.replace("__torch__.test_functional_calls_b60.", "__torch__.")
    return re.sub(r"___torch_mangle_\d+\.", "", text)


# torch 2.13's `print(torch.jit.script(fn).graph)` and `.code`
GRAPHS = {
    "f_brief": """\
graph(%x.1 : Tensor):
  %21 : Function = prim::Constant[name="layer_norm"]()
  %20 : float = prim::Constant[value=1.0000000000000001e-05]()
  %13 : int = prim::Constant[value=1]()
  %11 : Function = prim::Constant[name="dropout"]()
  %9 : bool = prim::Constant[value=0]()
  %5 : Function = prim::Constant[name="softmax"]()
  %4 : NoneType = prim::Constant()
  %2 : int = prim::Constant[value=0]()
  %8 : float = prim::Constant[value=0.5]()
  %16 : int = prim::Constant[value=3]()
  %6 : Tensor = prim::CallFunction(%5, %x.1, %2, %16, %4)
  %12 : Tensor = prim::CallFunction(%11, %x.1, %8, %9, %9)
  %14 : Tensor = aten::add(%6, %12, %13)
  %17 : int[] = prim::ListConstruct(%16)
  %22 : Tensor = prim::CallFunction(%21, %x.1, %17, %4, %4, %20)
  %24 : Tensor = aten::add(%14, %22, %13)
  return (%24)
""",
    "f_act": """\
graph(%x.1 : Tensor):
  %32 : Function = prim::Constant[name="silu"]()
  %26 : Function = prim::Constant[name="hardtanh"]()
  %24 : float = prim::Constant[value=-2.]()
  %17 : Function = prim::Constant[name="elu"]()
  %15 : float = prim::Constant[value=1.]()
  %12 : int = prim::Constant[value=1]()
  %10 : Function = prim::Constant[name="leaky_relu"]()
  %3 : Function = prim::Constant[name="relu"]()
  %2 : bool = prim::Constant[value=0]()
  %5 : int = prim::Constant[value=2]()
  %8 : float = prim::Constant[value=0.20000000000000001]()
  %22 : float = prim::Constant[value=2.]()
  %4 : Tensor = prim::CallFunction(%3, %x.1, %2)
  %6 : Tensor = aten::mul(%4, %5)
  %11 : Tensor = prim::CallFunction(%10, %x.1, %8, %2)
  %13 : Tensor = aten::add(%6, %11, %12)
  %18 : Tensor = prim::CallFunction(%17, %x.1, %15, %2)
  %20 : Tensor = aten::add(%13, %18, %12)
  %27 : Tensor = prim::CallFunction(%26, %x.1, %24, %22, %2)
  %29 : Tensor = aten::add(%20, %27, %12)
  %33 : Tensor = prim::CallFunction(%32, %x.1, %2)
  %35 : Tensor = aten::add(%29, %33, %12)
  return (%35)
""",
    "f_pool": """\
graph(%x.1 : Tensor):
  %55 : Function = prim::Constant[name="_max_pool1d"]()
  %35 : Function = prim::Constant[name="max_pool2d_with_indices"]()
  %27 : bool = prim::Constant[value=1]()
  %22 : Function = prim::Constant[name="_adaptive_max_pool2d"]()
  %15 : Function = prim::Constant[name="adaptive_avg_pool2d"]()
  %11 : Function = prim::Constant[name="_max_pool2d"]()
  %9 : bool = prim::Constant[value=0]()
  %7 : int = prim::Constant[value=1]()
  %4 : NoneType = prim::Constant()
  %2 : int = prim::Constant[value=2]()
  %44 : int = prim::Constant[value=0]()
  %3 : int[] = prim::ListConstruct(%2, %2)
  %6 : int[] = prim::ListConstruct(%44, %44)
  %8 : int[] = prim::ListConstruct(%7, %7)
  %12 : Tensor = prim::CallFunction(%11, %x.1, %3, %4, %6, %8, %9, %9)
  %14 : int[] = prim::ListConstruct(%2, %2)
  %16 : Tensor = prim::CallFunction(%15, %x.1, %14)
  %18 : Tensor = aten::add(%12, %16, %7)
  %20 : int[] = prim::ListConstruct(%2, %2)
  %23 : Tensor = prim::CallFunction(%22, %x.1, %20, %9)
  %a.1 : Tensor = aten::add(%18, %23, %7)
  %28 : int[] = prim::ListConstruct(%2, %2)
  %31 : int[] = prim::ListConstruct(%44, %44)
  %33 : int[] = prim::ListConstruct(%7, %7)
  %36 : (Tensor, Tensor) = prim::CallFunction(%35, %x.1, %28, %4, %31, %33, %9, %27)
  %b.1 : Tensor, %i : Tensor = prim::TupleUnpack(%36)
  %42 : Tensor = aten::add(%a.1, %b.1, %7)
  %46 : Tensor = aten::select(%x.1, %44, %44)
  %47 : int[] = prim::ListConstruct(%2)
  %50 : int[] = prim::ListConstruct(%44)
  %52 : int[] = prim::ListConstruct(%7)
  %56 : Tensor = prim::CallFunction(%55, %46, %47, %4, %50, %52, %9, %9)
  %58 : Tensor = aten::sum(%56, %4)
  %60 : Tensor = aten::add(%42, %58, %7)
  return (%60)
""",
    "f_loss": """\
graph(%x.1 : Tensor,
      %y.1 : Tensor,
      %t.1 : Tensor):
  %50 : Function = prim::Constant[name="smooth_l1_loss"]()
  %40 : Function = prim::Constant[name="l1_loss"]()
  %30 : Function = prim::Constant[name="mse_loss"]()
  %22 : int = prim::Constant[value=1]()
  %20 : Function = prim::Constant[name="nll_loss"]()
  %11 : Function = prim::Constant[name="cross_entropy"]()
  %10 : float = prim::Constant[value=0.]()
  %9 : str = prim::Constant[value="mean"]()
  %7 : int = prim::Constant[value=-100]()
  %5 : NoneType = prim::Constant()
  %46 : float = prim::Constant[value=0.5]()
  %12 : Tensor = prim::CallFunction(%11, %x.1, %t.1, %5, %5, %7, %5, %9, %10)
  %21 : Tensor = prim::CallFunction(%20, %x.1, %t.1, %5, %5, %7, %5, %9)
  %23 : Tensor = aten::add(%12, %21, %22)
  %31 : Tensor = prim::CallFunction(%30, %x.1, %y.1, %5, %5, %9, %5)
  %33 : Tensor = aten::add(%23, %31, %22)
  %41 : Tensor = prim::CallFunction(%40, %x.1, %y.1, %5, %5, %9, %y.1)
  %43 : Tensor = aten::add(%33, %41, %22)
  %51 : Tensor = prim::CallFunction(%50, %x.1, %y.1, %5, %5, %9, %46)
  %53 : Tensor = aten::add(%43, %51, %22)
  return (%53)
""",
    "Seed": """\
graph(%self : __torch__.Seed,
      %x.1 : Tensor):
  %6 : Function = prim::Constant[name="relu"]()
  %5 : bool = prim::Constant[value=0]()
  %conv1 : __torch__.torch.nn.modules.conv.Conv2d = prim::GetAttr[name="conv1"](%self)
  %4 : Tensor = prim::CallMethod[name="forward"](%conv1, %x.1)
  %x.5 : Tensor = prim::CallFunction(%6, %4, %5)
  %conv2 : __torch__.torch.nn.modules.conv.Conv2d = prim::GetAttr[name="conv2"](%self)
  %10 : Tensor = prim::CallMethod[name="forward"](%conv2, %x.5)
  %13 : Tensor = prim::CallFunction(%6, %10, %5)
  return (%13)
""",
}

CODES = {
    "f_brief": """\
def f_brief(x: Tensor) -> Tensor:
  _0 = __torch__.torch.nn.functional.layer_norm
  _1 = __torch__.torch.nn.functional.softmax(x, 0, 3, None, )
  _2 = __torch__.torch.nn.functional.dropout(x, 0.5, False, False, )
  _3 = torch.add(_1, _2)
  _4 = _0(x, [3], None, None, 1.0000000000000001e-05, )
  return torch.add(_3, _4)
""",
    "f_act": """\
def f_act(x: Tensor) -> Tensor:
  _0 = __torch__.torch.nn.functional.leaky_relu
  _1 = __torch__.torch.nn.functional.hardtanh
  _2 = __torch__.torch.nn.functional.relu(x, False, )
  _3 = torch.add(torch.mul(_2, 2), _0(x, 0.20000000000000001, False, ))
  _4 = __torch__.torch.nn.functional.elu(x, 1., False, )
  _5 = torch.add(torch.add(_3, _4), _1(x, -2., 2., False, ))
  _6 = __torch__.torch.nn.functional.silu(x, False, )
  return torch.add(_5, _6)
""",
    "f_pool": """\
def f_pool(x: Tensor) -> Tensor:
  _0 = __torch__.torch.nn.functional._max_pool2d
  _1 = __torch__.torch.nn.functional.adaptive_avg_pool2d
  _2 = __torch__.torch.nn.functional._adaptive_max_pool2d
  _3 = __torch__.torch.nn.functional.max_pool2d_with_indices
  _4 = __torch__.torch.nn.functional._max_pool1d
  _5 = _0(x, [2, 2], None, [0, 0], [1, 1], False, False, )
  a = torch.add(torch.add(_5, _1(x, [2, 2], )), _2(x, [2, 2], False, ))
  _6 = _3(x, [2, 2], None, [0, 0], [1, 1], False, True, )
  b, i, = _6
  _7 = torch.add(a, b)
  _8 = _4(torch.select(x, 0, 0), [2], None, [0], [1], False, False, )
  return torch.add(_7, torch.sum(_8))
""",
    "f_loss": """\
def f_loss(x: Tensor,
    y: Tensor,
    t: Tensor) -> Tensor:
  _0 = __torch__.torch.nn.functional.cross_entropy
  _1 = __torch__.torch.nn.functional.nll_loss
  _2 = __torch__.torch.nn.functional.mse_loss
  _3 = __torch__.torch.nn.functional.smooth_l1_loss
  _4 = _0(x, t, None, None, -100, None, "mean", 0., )
  _5 = _1(x, t, None, None, -100, None, "mean", )
  _6 = torch.add(torch.add(_4, _5), _2(x, y, None, None, "mean", None, ))
  _7 = __torch__.torch.nn.functional.l1_loss(x, y, None, None, "mean", y, )
  _8 = torch.add(torch.add(_6, _7), _3(x, y, None, None, "mean", 0.5, ))
  return _8
""",
    "Seed": """\
def forward(self,
    x: Tensor) -> Tensor:
  conv1 = self.conv1
  x0 = __torch__.torch.nn.functional.relu((conv1).forward(x, ), False, )
  conv2 = self.conv2
  _0 = __torch__.torch.nn.functional.relu((conv2).forward(x0, ), False, )
  return _0
""",
}

SCRIPTED = {
    "relu": """\
def relu(input: Tensor,
    inplace: bool=False) -> Tensor:
  if inplace:
    result = torch.relu_(input)
  else:
    result = torch.relu(input)
  return result
""",
    "dropout": """\
def dropout(input: Tensor,
    p: float=0.5,
    training: bool=True,
    inplace: bool=False) -> Tensor:
  _0 = "dropout probability has to be between 0 and 1, but got {}"
  if torch.lt(p, 0.):
    _1 = True
  else:
    _1 = torch.gt(p, 1.)
  if _1:
    ops.prim.RaiseException(torch.format(_0, p), "builtins.ValueError")
  else:
    pass
  if inplace:
    _2 = torch.dropout_(input, p, training)
  else:
    _2 = torch.dropout(input, p, training)
  return _2
""",
    "layer_norm": """\
def layer_norm(input: Tensor,
    normalized_shape: List[int],
    weight: Optional[Tensor]=None,
    bias: Optional[Tensor]=None,
    eps: float=1.0000000000000001e-05) -> Tensor:
  _0 = torch.layer_norm(input, normalized_shape, weight, bias, eps)
  return _0
""",
    "hardtanh": """\
def hardtanh(input: Tensor,
    min_val: float=-1.,
    max_val: float=1.,
    inplace: bool=False) -> Tensor:
  _0 = "min_val cannot be greater than max_val"
  if torch.gt(min_val, max_val):
    ops.prim.RaiseException(_0, "builtins.ValueError")
  else:
    pass
  if inplace:
    result0 = torch.hardtanh_(input, min_val, max_val)
    result = result0
  else:
    result1 = torch.hardtanh(input, min_val, max_val)
    result = result1
  return result
""",
}


@pytest.mark.parametrize("name", ["f_brief", "f_act", "f_pool", "f_loss"])
def test_graph_and_code_as_torch(name):
    s = torch.jit.script(globals()[name])
    assert _strip(s.graph) == GRAPHS[name]
    assert s.code.rstrip("\n") + "\n" == CODES[name]


def test_seed_module_relu_calls_as_torch():
    # (seeds 001 / 004: `x = F.relu(self.conv1(x)); return F.relu(self.conv2(x))`)
    torch.manual_seed(0)
    m = torch.jit.script(Seed())
    assert _strip(m.graph) == GRAPHS["Seed"]
    assert m.code.rstrip("\n") + "\n" == CODES["Seed"]
    x = torch.randn(1, 1, 8, 8)
    with torch.no_grad():
        np.testing.assert_allclose(m(x).numpy(), F.relu(m.conv2(F.relu(m.conv1(x)))).numpy(),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["relu", "dropout", "layer_norm", "hardtanh"])
def test_script_of_the_function_itself_is_torch_body(name):
    assert torch.jit.script(getattr(F, name)).code.rstrip("\n") + "\n" == SCRIPTED[name]


def _x():
    return torch.tensor(np.sin(np.arange(32.0, dtype=np.float32)).reshape(2, 4, 4))


def test_values_as_torch():
    x = _x()
    y = torch.tensor(np.cos(x.numpy()))
    t = torch.tensor([[0, 1, 2, 3], [1, 1, 1, 1]])
    # torch 2.13's results of the same scripted programs
    assert abs(torch.jit.script(f_pool)(x).sum().item() - 46.08803176879883) < 1e-4
    assert abs(torch.jit.script(f_loss)(x, y, t).item() - 4.317363262176514) < 1e-5
    assert abs(torch.jit.script(f_act)(x).sum().item() - 34.111568450927734) < 1e-4
    b, i = torch.jit.script(f_pool_indices)(x)
    ref = x.numpy().reshape(2, 2, 2, 2, 2).transpose(0, 1, 3, 2, 4).reshape(2, 2, 2, 4)
    np.testing.assert_array_equal(b.numpy(), ref.max(-1))


def f_pool_indices(x):
    return F.max_pool2d(x, 2, return_indices=True)


def test_inlined_graph_has_torch_bodies():
    g = str(torch.jit.script(f_pool).inlined_graph)
    assert "prim::CallFunction" not in g
    for op in ("aten::max_pool2d(", "aten::adaptive_avg_pool2d(", "aten::adaptive_max_pool2d(",
               "aten::max_pool2d_with_indices(", "aten::max_pool1d("):
        assert op in g, op
    assert 'prim::Constant[value="AssertionError: "]' in g    # (_list_with_default's assert)
    g = str(torch.jit.script(f_brief).inlined_graph)
    assert "aten::dropout(" in g and "aten::dropout_(" in g and "aten::layer_norm(" in g


class Act(nn.Module):
    def forward(self, x):
        return F.relu(x) + F.dropout(x, 0.1, self.training) + F.layer_norm(x, [4])


ARCHIVE_F = """\
def relu(input: Tensor,
    inplace: bool=False) -> Tensor:
  if inplace:
    result = torch.relu_(input)
  else:
    result = torch.relu(input)
  return result
def dropout(input: Tensor,
    p: float=0.5,
    training: bool=True,
    inplace: bool=False) -> Tensor:
"""


def test_archive_carries_the_bodies_and_round_trips():
    m = torch.jit.script(Act()).eval()
    # torch 2.13's export_opnames: both branches of the bodies
    assert sorted(torch.jit.export_opnames(m)) == [
        "aten::add.Tensor", "aten::dropout", "aten::dropout_", "aten::gt.float",
        "aten::layer_norm", "aten::lt.float", "aten::relu", "aten::relu_"]
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    text = z.read("archive/code/__torch__/torch/nn/functional.py").decode()
    assert text.startswith(ARCHIVE_F), text
    assert "eps: float=1.0000000000000001e-05) -> Tensor:" in text
    buf.seek(0)
    loaded = torch.jit.load(buf)
    loaded.eval()
    x = torch.tensor(np.sin(np.arange(8.0, dtype=np.float32)).reshape(2, 4))
    np.testing.assert_allclose(loaded(x).numpy(), m(x).numpy(), rtol=1e-6)
    # (torch 2.13's values of the same module in eval mode)
    np.testing.assert_allclose(m(x).numpy(), [[-1.1643, 2.5901, 2.8927, -0.5347],
                                              [-1.4342, -1.9606, -0.1910, 2.9046]],
                               atol=1e-4)


def helper(x, k: int = 2, s: float = 1.5):
    return x * k * s


def test_archive_keeps_a_helpers_defaults():
    @torch.jit.script
    def f(x):
        return helper(x)
    buf = io.BytesIO()
    torch.jit.save(f, buf)
    z = zipfile.ZipFile(buf)
    text = z.read("archive/code/__torch__/test_functional_calls_b60.py").decode()
    assert "def helper(x: Tensor,\n    k: int=2,\n    s: float=1.5) -> Tensor:" in text


def bad_p(x):
    return F.dropout(x, 1.5)


def bad_reduction(x):
    return F.mse_loss(x, x, reduction="avg")


def one_per_group(x):
    return F.group_norm(x, 2)


def too_few_dims(x):
    return F.adaptive_avg_pool2d(x, [2, 2, 2])


def test_body_checks_raise_as_torch():
    x = torch.ones(2, 4)
    with pytest.raises(Exception, match="dropout probability has to be between 0 and 1, "
                                        "but got 1.5"):
        torch.jit.script(bad_p)(x)
    with pytest.raises(Exception, match="avg is not a valid value for reduction"):
        torch.jit.script(bad_reduction)(x)
    with pytest.raises(Exception, match=re.escape(
            "Expected more than 1 value per channel when training, got input size [1, 2]")):
        torch.jit.script(one_per_group)(torch.ones(1, 2))
    with pytest.raises(Exception, match="AssertionError"):
        torch.jit.script(too_few_dims)(torch.ones(2, 4, 4))


def relu_chain(x):
    return F.relu(x) * 2 + F.leaky_relu(x, 0.2)


def test_relu_still_fuses():
    s = torch.jit.script(relu_chain)
    x = torch.tensor(np.linspace(-2, 2, 20, dtype=np.float32).reshape(4, 5))
    for _ in range(3):
        out = s(x)
    g = str(s.graph_for(x))
    group = g.split("with prim::TensorExprGroup_0 = graph(")[1]
    assert "aten::relu(" in group and "aten::leaky_relu(" in group and "aten::add(" in group
    xn = x.numpy()
    np.testing.assert_allclose(out.numpy(), np.maximum(xn, 0) * 2 + np.where(xn > 0, xn, 0.2 * xn),
                               rtol=1e-6)


def test_max_pool_module_broadcasts_its_stride():
    # (nn.MaxPool2d(2)'s stride, an int for F.max_pool2d's Optional[BroadcastingList2[int]],
    # is [2, 2] as torch's, not [2])
    s = torch.jit.script(nn.MaxPool2d(2))
    assert "_0(input, [2, 2], [2, 2], [0, 0], [1, 1], False, False, )" in s.code
    x = _x()
    np.testing.assert_array_equal(s(x).numpy(), F.max_pool2d(x, 2).numpy())


def quoted(x: str):
    return x + "it's \"q\" \\ \t \x01"


def test_code_quotes_strings_as_torch():
    # (c10::printQuotedString: F.mse_loss's "Expected one of \'none\', ..." in its body)
    s = torch.jit.script(quoted)
    assert r'_0 = torch.add(x, "it\'s \"q\" \\ \t \001")' in s.code
    assert s("a") == "ait's \"q\" \\ \t \x01"


def test_schema_of_a_broadcasting_list_function_as_torch():
    s = torch.jit.script(F.adaptive_max_pool2d_with_indices)
    assert str(s.schema) == ("adaptive_max_pool2d_with_indices(Tensor input, int[2] "
                             "output_size, bool return_indices=False) -> ((Tensor, Tensor))")


def avg_conv(x):
    return F.avg_pool2d(x, 2) + F.conv2d(x, x, None, 1, 0)


def test_int_for_an_aten_int_list_is_n_copies():
    # (torch 2.13: avg_pool2d(x, [2, 2]), conv2d's [1, 1], [0, 0]; not one-element lists)
    s = torch.jit.script(avg_conv)
    assert "torch.avg_pool2d(x, [2, 2])" in s.code
    assert "torch.conv2d(x, x, None, [1, 1], [0, 0])" in s.code
    assert "%3 : int[] = prim::ListConstruct(%2, %2)" in str(s.graph)
    x = torch.ones(1, 1, 2, 2)
    assert s(x).reshape(-1).tolist() == [5.0]
