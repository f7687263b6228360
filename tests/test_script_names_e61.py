"""Scripted functions' graphs print torch 2.13's value names and numbers (e61) where the
naming replay gave up before: an op's named returns (`x.max(0)`: torch's packOutputs types
the tuple `NamedTuple(values : Tensor, indices : Tensor)`, `.values` / `[0]` read it
through a prim::TupleIndex) and a tuple passed for a List parameter (`x.new_ones((2, 2))`,
tryConvertToType's list of the tuple's elements), an alias op (`x.clip(0, 1)`: NormalizeOps'
aten::clamp, numbered late; gpujit emitted aten::clip) and x.split([1, 1]) (aten::split, its
SymInt[] overload; gpujit emitted aten::split_with_sizes), and the values torch's schema
matching makes trying overloads that fail (`x.mean(-1)` tries mean(self, *, dtype=None)
first: its None constant is numbered, then erased); x.norm(p, dim, keepdim) is aten::norm
(gpujit emitted aten::linalg_vector_norm; numbers unchanged). Expected texts are torch 2.13's (source
comments stripped); `m.values` after an `if` compiled in torch, gpujit refused it."""
import importlib.util
import re

import numpy as np

import gpujit as torch

CASES = {
"max_dim": "def f(x: Tensor):\n    return x.max(0)\n",
"max_values": "def f(x: Tensor):\n    return x.max(0).values\n",
"max_index": "def f(x: Tensor):\n    return x.max(0)[0]\n",
"sort_unpack": "def f(x: Tensor):\n    v, i = x.sort(0)\n    return v, i\n",
"topk_var": "def f(x: Tensor):\n    t = x.topk(2)\n    return t.values * 2\n",
"named_if": "def f(x: Tensor, c: bool):\n    m = x.max(0)\n    if c:\n        m = x.min(0)\n    return m.values, m[1]\n",
"new_ones_tuple": "def f(x: Tensor):\n    return x.new_ones((2, 2))\n",
"full_tuple": "def f(x: Tensor):\n    return torch.full((2,), 3.0)\n",
"cat_tuple": "def f(x: Tensor, y: Tensor):\n    return torch.cat((x, y), 1)\n",
"tuple_var": "def f(x: Tensor):\n    s = (2, 3)\n    return x.new_zeros(s)\n",
"clip": "def f(x: Tensor):\n    return x.clip(0, 1)\n",
"alias_return": "def f(x: Tensor):\n    return x.absolute()\n",
"det": "def f(x: Tensor):\n    return torch.det(x)\n",
"mean_dim": "def f(x: Tensor):\n    return x.mean(-1)\n",
"mean_keepdim": "def f(x: Tensor):\n    return torch.mean(x, 0, True) + x.mean([0, 1], keepdim=True)\n",
"arange_step": "def f(x: Tensor):\n    return torch.arange(0, 5, 2) + torch.arange(3)\n",
"norm_method": "def f(x: Tensor):\n    return x.norm(), x.norm(2, -1), x.norm(p=1), x.norm(2, -1, True)\n",
"split_sizes": "def f(x: Tensor):\n    a = x.split([1, 1], 1)\n    return a, torch.split(x, [1, 1])\n",
}

# torch 2.13's graphs
EXPECTED = {
    'max_dim': (
        'graph(%x.1 : Tensor):\n'
        '  %3 : bool = prim::Constant[value=0]()\n'
        '  %2 : int = prim::Constant[value=0]()\n'
        '  %4 : Tensor, %5 : Tensor = aten::max(%x.1, %2, %3)\n'
        '  %6 : NamedTuple(values : Tensor, indices : Tensor) = prim::TupleConstruct(%4, %5)\n'
        '  return (%6)\n'
    ),
    'max_values': (
        'graph(%x.1 : Tensor):\n'
        '  %3 : bool = prim::Constant[value=0]()\n'
        '  %2 : int = prim::Constant[value=0]()\n'
        '  %4 : Tensor, %5 : Tensor = aten::max(%x.1, %2, %3)\n'
        '  return (%4)\n'
    ),
    'max_index': (
        'graph(%x.1 : Tensor):\n'
        '  %3 : bool = prim::Constant[value=0]()\n'
        '  %2 : int = prim::Constant[value=0]()\n'
        '  %4 : Tensor, %5 : Tensor = aten::max(%x.1, %2, %3)\n'
        '  return (%4)\n'
    ),
    'sort_unpack': (
        'graph(%x.1 : Tensor):\n'
        '  %3 : bool = prim::Constant[value=0]()\n'
        '  %2 : int = prim::Constant[value=0]()\n'
        '  %v.1 : Tensor, %i.1 : Tensor = aten::sort(%x.1, %2, %3)\n'
        '  %9 : (Tensor, Tensor) = prim::TupleConstruct(%v.1, %i.1)\n'
        '  return (%9)\n'
    ),
    'topk_var': (
        'graph(%x.1 : Tensor):\n'
        '  %4 : bool = prim::Constant[value=1]()\n'
        '  %3 : int = prim::Constant[value=-1]()\n'
        '  %2 : int = prim::Constant[value=2]()\n'
        '  %6 : Tensor, %7 : Tensor = aten::topk(%x.1, %2, %3, %4, %4)\n'
        '  %12 : Tensor = aten::mul(%6, %2)\n'
        '  return (%12)\n'
    ),
    'named_if': (
        'graph(%x.1 : Tensor,\n'
        '      %c.1 : bool):\n'
        '  %4 : bool = prim::Constant[value=0]()\n'
        '  %3 : int = prim::Constant[value=0]()\n'
        '  %24 : int = prim::Constant[value=1]()\n'
        '  %5 : Tensor, %6 : Tensor = aten::max(%x.1, %3, %4)\n'
        '  %m.1 : NamedTuple(values : Tensor, indices : Tensor) = prim::TupleConstruct(%5, %6)\n'
        '  %m : NamedTuple(values : Tensor, indices : Tensor) = prim::If(%c.1)\n'
        '    block0():\n'
        '      %12 : Tensor, %13 : Tensor = aten::min(%x.1, %3, %4)\n'
        '      %m.3 : NamedTuple(values : Tensor, indices : Tensor) = prim::TupleConstruct(%12, %13)\n'
        '      -> (%m.3)\n'
        '    block1():\n'
        '      -> (%m.1)\n'
        '  %22 : Tensor = prim::TupleIndex(%m, %3)\n'
        '  %25 : Tensor = prim::TupleIndex(%m, %24)\n'
        '  %26 : (Tensor, Tensor) = prim::TupleConstruct(%22, %25)\n'
        '  return (%26)\n'
    ),
    'new_ones_tuple': (
        'graph(%x.1 : Tensor):\n'
        '  %5 : NoneType = prim::Constant()\n'
        '  %2 : int = prim::Constant[value=2]()\n'
        '  %4 : int[] = prim::ListConstruct(%2, %2)\n'
        '  %9 : Tensor = aten::new_ones(%x.1, %4, %5, %5, %5, %5)\n'
        '  return (%9)\n'
    ),
    'full_tuple': (
        'graph(%x : Tensor):\n'
        '  %5 : NoneType = prim::Constant()\n'
        '  %1 : int = prim::Constant[value=2]()\n'
        '  %3 : float = prim::Constant[value=3.]()\n'
        '  %4 : int[] = prim::ListConstruct(%1)\n'
        '  %9 : Tensor = aten::full(%4, %3, %5, %5, %5, %5)\n'
        '  return (%9)\n'
    ),
    'cat_tuple': (
        'graph(%x.1 : Tensor,\n'
        '      %y.1 : Tensor):\n'
        '  %5 : int = prim::Constant[value=1]()\n'
        '  %6 : Tensor[] = prim::ListConstruct(%x.1, %y.1)\n'
        '  %7 : Tensor = aten::cat(%6, %5)\n'
        '  return (%7)\n'
    ),
    'tuple_var': (
        'graph(%x.1 : Tensor):\n'
        '  %9 : NoneType = prim::Constant()\n'
        '  %1 : int = prim::Constant[value=2]()\n'
        '  %2 : int = prim::Constant[value=3]()\n'
        '  %8 : int[] = prim::ListConstruct(%1, %2)\n'
        '  %13 : Tensor = aten::new_zeros(%x.1, %8, %9, %9, %9, %9)\n'
        '  return (%13)\n'
    ),
    'clip': (
        'graph(%x.1 : Tensor):\n'
        '  %2 : int = prim::Constant[value=0]()\n'
        '  %3 : int = prim::Constant[value=1]()\n'
        '  %14 : Tensor = aten::clamp(%x.1, %2, %3)\n'
        '  return (%14)\n'
    ),
    'alias_return': (
        'graph(%x.1 : Tensor):\n'
        '  %12 : Tensor = aten::abs(%x.1)\n'
        '  return (%12)\n'
    ),
    'det': (
        'graph(%x.1 : Tensor):\n'
        '  %12 : Tensor = aten::linalg_det(%x.1)\n'
        '  return (%12)\n'
    ),
    'mean_dim': (
        'graph(%x.1 : Tensor):\n'
        '  %8 : NoneType = prim::Constant()\n'
        '  %7 : bool = prim::Constant[value=0]()\n'
        '  %4 : int = prim::Constant[value=-1]()\n'
        '  %6 : int[] = prim::ListConstruct(%4)\n'
        '  %9 : Tensor = aten::mean(%x.1, %6, %7, %8)\n'
        '  return (%9)\n'
    ),
    'mean_keepdim': (
        'graph(%x.1 : Tensor):\n'
        '  %6 : NoneType = prim::Constant()\n'
        '  %3 : bool = prim::Constant[value=1]()\n'
        '  %2 : int = prim::Constant[value=0]()\n'
        '  %9 : int = prim::Constant[value=1]()\n'
        '  %5 : int[] = prim::ListConstruct(%2)\n'
        '  %7 : Tensor = aten::mean(%x.1, %5, %3, %6)\n'
        '  %10 : int[] = prim::ListConstruct(%2, %9)\n'
        '  %14 : Tensor = aten::mean(%x.1, %10, %3, %6)\n'
        '  %16 : Tensor = aten::add(%7, %14, %9)\n'
        '  return (%16)\n'
    ),
    'arange_step': (
        'graph(%x : Tensor):\n'
        '  %23 : int = prim::Constant[value=1]()\n'
        '  %12 : NoneType = prim::Constant()\n'
        '  %1 : int = prim::Constant[value=0]()\n'
        '  %2 : int = prim::Constant[value=5]()\n'
        '  %3 : int = prim::Constant[value=2]()\n'
        '  %17 : int = prim::Constant[value=3]()\n'
        '  %16 : Tensor = aten::arange(%1, %2, %3, %12, %12, %12, %12)\n'
        '  %22 : Tensor = aten::arange(%17, %12, %12, %12, %12)\n'
        '  %24 : Tensor = aten::add(%16, %22, %23)\n'
        '  return (%24)\n'
    ),
    'norm_method': (
        'graph(%x.1 : Tensor):\n'
        '  %17 : bool = prim::Constant[value=1]()\n'
        '  %10 : bool = prim::Constant[value=0]()\n'
        '  %8 : int = prim::Constant[value=-1]()\n'
        '  %5 : int = prim::Constant[value=2]()\n'
        '  %6 : int = prim::Constant[value=1]()\n'
        '  %3 : Tensor = aten::norm(%x.1, %5)\n'
        '  %9 : int[] = prim::ListConstruct(%8)\n'
        '  %11 : Tensor = aten::norm(%x.1, %5, %9, %10)\n'
        '  %13 : Tensor = aten::norm(%x.1, %6)\n'
        '  %18 : int[] = prim::ListConstruct(%8)\n'
        '  %19 : Tensor = aten::norm(%x.1, %5, %18, %17)\n'
        '  %20 : (Tensor, Tensor, Tensor, Tensor) = prim::TupleConstruct(%3, %11, %13, %19)\n'
        '  return (%20)\n'
    ),
    'split_sizes': (
        'graph(%x.1 : Tensor):\n'
        '  %8 : int = prim::Constant[value=0]()\n'
        '  %2 : int = prim::Constant[value=1]()\n'
        '  %3 : int[] = prim::ListConstruct(%2, %2)\n'
        '  %a.1 : Tensor[] = aten::split(%x.1, %3, %2)\n'
        '  %7 : int[] = prim::ListConstruct(%2, %2)\n'
        '  %9 : Tensor[] = aten::split(%x.1, %7, %8)\n'
        '  %10 : (Tensor[], Tensor[]) = prim::TupleConstruct(%a.1, %9)\n'
        '  return (%10)\n'
    ),
}


def _script(tmp_path, name, src):
    path = tmp_path / f"names_e61_{name}.py"
    path.write_text("import gpujit as torch\nfrom gpujit import Tensor\n" + src)
    spec = importlib.util.spec_from_file_location(f"names_e61_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return torch.jit.script(mod.f)


def _graph(s):
    return re.sub(r" # \S+", "", str(s.graph))


def test_graphs_as_torch(tmp_path):
    bad = [k for k, src in CASES.items() if _graph(_script(tmp_path, k, src)) != EXPECTED[k]]
    assert not bad


def test_named_returns_after_if(tmp_path):
    s = _script(tmp_path, "named_if", CASES["named_if"])
    x = torch.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    v, i = s(x, True)
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(i.numpy(), [0, 1, 0])
    v, i = s(x, False)
    np.testing.assert_array_equal(v.numpy(), [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(i.numpy(), [1, 0, 1])


def test_named_returns_code_is_a_tuple(tmp_path):
    # (the NamedTuple has no class: code and the schema show a plain tuple, as torch's)
    s = _script(tmp_path, "max_dim", CASES["max_dim"])
    assert "-> Tuple[Tensor, Tensor]:" in s.code
    assert str(s.schema).endswith("-> ((Tensor, Tensor))")


def test_split_and_clip_code(tmp_path):
    s = _script(tmp_path, "split_sizes", CASES["split_sizes"])
    assert "torch.split(x, [1, 1], 1)" in s.code and "split_with_sizes" not in s.code
    a, b = s(torch.arange(6.0).reshape(2, 3)[:, :2])
    np.testing.assert_array_equal(a[1].numpy(), [[1.0], [4.0]])
    np.testing.assert_array_equal(b[0].numpy(), [[0.0, 1.0]])
    c = _script(tmp_path, "clip", CASES["clip"])
    assert "torch.clamp(x, 0, 1)" in c.code
    np.testing.assert_array_equal(c(torch.tensor([-1.0, 0.5, 2.0])).numpy(), [0.0, 0.5, 1.0])


def test_norm_method_numbers(tmp_path):
    s = _script(tmp_path, "norm_method", CASES["norm_method"])
    a = np.array([[3.0, -4.0], [1.0, 2.0]], dtype=np.float32)
    x = torch.tensor(a, requires_grad=True)
    got = s(x)
    np.testing.assert_allclose(got[0].item(), np.sqrt((a * a).sum()), rtol=1e-6)
    np.testing.assert_allclose(got[1].detach().numpy(), np.sqrt((a * a).sum(-1)), rtol=1e-6)
    np.testing.assert_allclose(got[2].item(), np.abs(a).sum(), rtol=1e-6)
    assert tuple(got[3].shape) == (2, 1)
    got[1].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a / np.sqrt((a * a).sum(-1, keepdims=True)),
                               rtol=1e-6)


def test_saved_code_loads_back_the_same_ops(tmp_path):
    # (archive code spells x.norm(2, -1) `torch.norm(x, 2, [-1])`: aten::norm again, not
    # torch.functional.norm's linalg_vector_norm; split / clamp / max as scripted)
    import io
    s = _script(tmp_path, "saved", "def f(x: Tensor):\n    return x.norm(2, -1), "
                "x.max(0).values, x.split([1, 1], 1), x.clip(0, 1)\n")
    b = io.BytesIO()
    torch.jit.save(s, b)
    b.seek(0)
    g = str(torch.jit.load(b).graph)
    for kind in ("aten::norm(", "aten::max(", "aten::split(", "aten::clamp("):
        assert kind in g
    assert "linalg_vector_norm" not in g and "split_with_sizes" not in g
