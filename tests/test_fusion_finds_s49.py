"""Session 49's fuser hunt (helper g49): ~180 scripted programs compared with TorchScript's NNC
on the CPU (torch 2.13, `_jit_override_can_fuse_on_cpu`, `_jit_set_texpr_fuser_enabled`,
`_jit_set_te_must_use_llvm_cpu(False)`): which ops form prim::TensorExprGroup, the results
against eager PyTorch, across calls with new shapes, dtypes, strides and requires_grad.

What was found:
- tensors made from constants only (`torch.ones(4, 4)`, `torch.zeros(n)` of a constant n,
  `torch.arange(4) * 2 + 1`, `torch.tensor([1., 2.])`, `torch.ones(8).view(2, 4)`) were
  made again on every call and, not being pointwise, stayed out of the fusion groups:
  `with torch.jit.strict_fusion(): y = (x * 2 + torch.ones(4, 4)).relu()` raised "Found
  unfused operators: aten::ones(...)" where TorchScript's ConstantPropagation (run before
  profiling) folds them into `prim::Constant[value=<Tensor>]` and fuses the rest. The
  executor's constant propagation now folds ops on constants whose results are tensors
  too, unless anything writes the tensor or an alias of it (`z = torch.zeros(4);
  z.add_(x)`, a view of it written, a list holding it written), it requires grad, or it is
  returned (TorchScript folds `return torch.ones(2)` and hands every call the same tensor;
  gpujit makes a new one). `torch._C._jit_pass_constant_propagation` folds returned ones
  as TorchScript's pass does.
- strict_fusion in a region with two fusion groups and an unfused op between them: torch
  2.13 reports "Found multiple fusions" (checked before unfused ops); gpujit named the
  unfused op. Now the groups come first, the unfused ops after them.
- the strides of size-1 dims (session 38's rule) after clamp / clip / clamp_min /
  clamp_max with number bounds and pow / float_power with a number exponent, eagerly,
  scripted op by op and fused: torch 2.13 runs those Scalar overloads as unary
  TensorIterator ops (the number a kernel parameter, not an operand), so a contiguous
  input of one operand gets C strides (fast setup): x = torch.ones(5, 1).t() (strides
  (1, 1)) gives x.clamp(-1, 1), x ** 2 and (x * 2).clamp(-1, 1) strides (5, 1); gpujit
  took the number as a 0-dim operand, as x * 2's, and kept (1, 1). OpDef.parameter_numbers
  names those parameters (read by entry_codegen, codegen_pointwise, fusers.specialize).
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import gpujit

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
GROUP = "prim::TensorExprGroup"


def script(src, name):
    return getattr(gpujit.jit.CompilationUnit(src), name)


def calls(fn, *args, n=3):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [fn(*args) for _ in range(n)]


def optimized_kinds(fn, *args):
    """The node kinds of fn's optimized graph for args, its groups' subgraphs included."""
    return re.findall(r" = ((?:aten|prim)::\w+)", str(fn.graph_for(*args)))


# ----------------------------------------------- tensors made of constants fold (as NNC's)

FOLDED_SRC = '''
def ones(x):
    with torch.jit.strict_fusion():
        y = (x * 2 + torch.ones(4, 4)).relu()
    return y

def arange(x):
    with torch.jit.strict_fusion():
        y = (x * 2 + torch.arange(4)).relu()
    return y

def literal(x):
    with torch.jit.strict_fusion():
        y = (x * 2 + torch.tensor([1.0, -2.0, 3.0, -4.0])).relu()
    return y

def chain(x):
    a = torch.arange(4) * 2 + 1
    with torch.jit.strict_fusion():
        y = (x + a.float().sin()) * 3
    return y

def viewed(x):
    a = torch.ones(8).view(2, 4) * 0.5
    with torch.jit.strict_fusion():
        y = (x * a).sigmoid() + 1
    return y

def float64(x):
    with torch.jit.strict_fusion():
        y = (x + torch.full([4], 2.5, dtype=torch.float64)).exp() - 1
    return y
'''

_X = np.arange(-8, 8, dtype=np.float32).reshape(4, 4) / 3


def _want(name, x):
    c = np.arange(4)
    return {"ones": np.maximum(x * 2 + 1, 0),
            "arange": np.maximum(x * 2 + c, 0),
            "literal": np.maximum(x * 2 + np.array([1, -2, 3, -4], np.float32), 0),
            "chain": (x + np.sin((c * 2 + 1).astype(np.float32))) * 3,
            "viewed": 1 / (1 + np.exp(-(x[:2] * 0.5))) + 1,
            "float64": np.exp(x.astype(np.float64) + 2.5) - 1}[name]


@pytest.mark.parametrize("name", ["ones", "arange", "literal", "chain", "viewed", "float64"])
def test_tensor_of_constants_folds_into_the_fused_region(name):
    """strict_fusion passes (it raised: the factory op was unfused) and the optimized graph
    holds a tensor constant, no factory op; the answers are eager's on every call."""
    fn = script(FOLDED_SRC, name)
    x = _X[:2] if name == "viewed" else _X[0] if name == "float64" else _X
    arg = gpujit.from_numpy(x.copy())
    for got in calls(fn, arg):
        want = _want(name, x)
        assert got.dtype == (gpujit.float64 if name == "float64" else gpujit.float32)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)
    kinds = optimized_kinds(fn, arg)
    assert sum(k.startswith(GROUP) for k in kinds) == 1, kinds
    for factory in ("aten::ones", "aten::arange", "aten::tensor", "aten::full",
                    "aten::view", "aten::sin"):
        assert factory not in kinds
    assert "prim::Constant" in kinds


# ---------------------------------------------------- what must not fold (a wrong answer)

UNFOLDED_SRC = '''
def written(x):
    z = torch.zeros(4)
    z.add_(x)
    return z * 2

def written_view(x):
    z = torch.zeros(4)
    v = z.view(2, 2)
    v.add_(1)
    return z * x

def written_slice(x):
    z = torch.zeros(4)
    w = z[1:]
    w.fill_(2.0)
    return z + x

def written_item(x):
    z = torch.zeros(4)
    z[0] = 5.0
    return z + x

def written_in_list(x):
    l = [torch.zeros(4)]
    l[0].add_(x)
    return l[0] * 1

def written_out(x):
    z = torch.zeros(4)
    torch.add(x, x, out=z)
    return z + 1

def written_in_branch(x, flag: bool):
    z = torch.zeros(4)
    if flag:
        z.add_(x)
    return z + 1

def accumulated(x, n: int):
    acc = torch.zeros(4)
    for i in range(n):
        acc += x
    return acc * 2

def helper():
    return torch.zeros(4)

def written_after_inlining(x):
    z = helper()
    z.add_(x)
    return z * 1

def random(x):
    return x + torch.rand(4)
'''


@pytest.mark.parametrize("name,args,want", [
    ("written", (), [2, 4, 6, 8]),
    ("written_view", (), [1, 2, 3, 4]),
    ("written_slice", (), [1, 4, 5, 6]),
    ("written_item", (), [6, 2, 3, 4]),
    ("written_in_list", (), [1, 2, 3, 4]),
    ("written_out", (), [3, 5, 7, 9]),
    ("written_in_branch", (True,), [2, 3, 4, 5]),
    ("accumulated", (3,), [6, 12, 18, 24]),
    ("written_after_inlining", (), [1, 2, 3, 4]),
])
def test_tensor_written_in_place_is_made_each_call(name, args, want):
    """A constant tensor would carry one call's writes into the next: these stay unfolded
    (torch 2.13 gives these answers on every call)."""
    fn = script(UNFOLDED_SRC, name)
    x = gpujit.tensor([1.0, 2.0, 3.0, 4.0])
    for got in calls(fn, x, *args, n=4):
        np.testing.assert_array_equal(got.numpy(), np.array(want, np.float32))
    assert "<Tensor>" not in str(fn.graph_for(x, *args))


def test_random_tensors_are_drawn_each_call():
    fn = script(UNFOLDED_SRC, "random")
    x = gpujit.zeros(4)
    a, b, c = calls(fn, x)
    assert not np.array_equal(b.numpy(), c.numpy())
    assert "aten::rand" in optimized_kinds(fn, x)


def test_returned_tensor_is_a_new_one_each_call():
    """TorchScript folds `torch.ones(2)` returned and gives every call the same tensor (a
    write to one call's result shows in the next); gpujit keeps the factory there."""
    fn = script("def f(x):\n    return torch.ones(2), [torch.zeros(2)], x + 1\n", "f")
    x = gpujit.ones(3)
    first, second, third = calls(fn, x)
    second[0].add_(5)
    second[1][0].add_(5)
    assert third[0] is not second[0]
    np.testing.assert_array_equal(third[0].numpy(), [1, 1])
    np.testing.assert_array_equal(third[1][0].numpy(), [0, 0])
    assert "aten::ones" in optimized_kinds(fn, x)


def test_tensor_that_requires_grad_is_not_a_constant():
    fn = script("def f(x):\n    w = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                "    return (x * w).sum()\n", "f")
    x = gpujit.ones(2)
    for got in calls(fn, x):
        got.backward()
        assert got.requires_grad and got.grad_fn is not None


def test_jit_pass_constant_propagation_folds_returned_tensors():
    """torch._C._jit_pass_constant_propagation folds a tensor the graph returns, as
    TorchScript's pass (torch 2.13 prints this graph for this input)."""
    g = gpujit._C.parse_ir('''
graph(%x : Tensor):
  %one : int = prim::Constant[value=1]()
  %n : int = prim::Constant[value=3]()
  %l : int[] = prim::ListConstruct(%n)
  %none : NoneType = prim::Constant()
  %t : Tensor = aten::ones(%l, %none, %none, %none, %none)
  %y : Tensor = aten::mul(%t, %n)
  %z : Tensor = aten::add(%x, %y, %one)
  return (%y, %z)
''')
    gpujit._C._jit_pass_constant_propagation(g)
    kinds = [n.kind() for n in g.nodes()]
    assert "aten::ones" not in kinds and "aten::mul" not in kinds, kinds
    assert kinds.count("aten::add") == 1
    out = [v for v in g.outputs()][0].node()
    assert out.kind() == "prim::Constant"
    np.testing.assert_array_equal(out.t("value").numpy(), [3, 3, 3])


def test_folding_raises_nothing_at_compile_time():
    """An op that raises on its constants (integer division by zero) is left to run
    time, where the call raises PyTorch's error."""
    fn = script("def f(x):\n    return x + torch.tensor([1, 2]) // torch.tensor([0, 1])\n",
                "f")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(gpujit.ones(2, dtype=gpujit.int64))


# ------------------------------------------------------------------ against TorchScript

@pytest.fixture
def nnc():
    torch = pytest.importorskip("torch")
    C = torch._C
    old = (C._jit_can_fuse_on_cpu(), C._jit_texpr_fuser_enabled(),
           C._jit_get_te_must_use_llvm_cpu())
    C._jit_override_can_fuse_on_cpu(True)
    C._jit_set_texpr_fuser_enabled(True)
    C._jit_set_te_must_use_llvm_cpu(False)      # (this CPU build has no LLVM)
    try:
        yield torch
    finally:
        C._jit_override_can_fuse_on_cpu(old[0])
        C._jit_set_texpr_fuser_enabled(old[1])
        C._jit_set_te_must_use_llvm_cpu(old[2])


@pytest.mark.parametrize("name", ["ones", "arange", "literal", "chain", "viewed", "float64"])
def test_strict_fusion_verdict_and_answer_as_torchscript(nnc, name):
    x = _X[:2] if name == "viewed" else _X[0] if name == "float64" else _X
    torch = nnc     # (torch's CompilationUnit resolves `torch` in its caller's frame)
    t = calls(getattr(torch.jit.CompilationUnit(FOLDED_SRC), name),
              nnc.from_numpy(x.copy()))[-1]
    g = calls(script(FOLDED_SRC, name), gpujit.from_numpy(x.copy()))[-1]
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["written", "written_view", "written_slice", "written_item",
                                  "written_in_list", "written_out", "accumulated",
                                  "written_after_inlining"])
def test_unfolded_answers_as_torchscript(nnc, name):
    args = (3,) if name == "accumulated" else ()
    torch = nnc
    t = calls(getattr(torch.jit.CompilationUnit(UNFOLDED_SRC), name),
              nnc.tensor([1.0, 2.0, 3.0, 4.0]), *args, n=4)
    g = calls(script(UNFOLDED_SRC, name), gpujit.tensor([1.0, 2.0, 3.0, 4.0]), *args, n=4)
    for a, b in zip(g, t):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# ------------------------------------------- strict_fusion: several groups are named first

SEVERAL_SRC = '''
def split_by_reduction(x):
    with torch.jit.strict_fusion():
        a = (x * 2).relu()
        s = a.cumsum(0)
        b = (s + 1).sin()
    return b
'''


def test_strict_fusion_names_several_groups_before_unfused_ops():
    """TorchScript's checkForUnfusedOps reports "Found multiple fusions" when a region
    holds two fusions, whatever it leaves unfused besides (torch 2.13 names no unfused op
    here); gpujit gave "Found unfused operators" (cumsum) first. Now the groups come
    first and the unfused op after them."""
    fn = script(SEVERAL_SRC, "split_by_reduction")
    with pytest.raises(gpujit.jit.StrictFusionError) as e:
        calls(fn, gpujit.ones(4, 4))
    lines = str(e.value).splitlines()
    assert lines[0] == \
        "Found multiple fusions inside strict_fusion (2 fusion groups, one expected):"
    assert lines[1].startswith("  group 0: aten::mul, aten::relu") and \
        lines[1].endswith("a = (x * 2).relu()")
    assert lines[2].startswith("  group 1: aten::add, aten::sin")
    assert "and unfused operators:" in lines
    k = lines.index("and unfused operators:")
    assert lines[k + 1].startswith("  aten::cumsum(Tensor self, int dim, *, ScalarType? "
                                   "dtype=None) -> Tensor")
    assert lines[k + 1].endswith("s = a.cumsum(0)")
    assert isinstance(e.value, RuntimeError)


def test_strict_fusion_several_groups_as_torchscript(nnc):
    torch = nnc
    t = getattr(torch.jit.CompilationUnit(SEVERAL_SRC), "split_by_reduction")
    with pytest.raises(RuntimeError, match="Found multiple fusions"):
        calls(t, torch.ones(4, 4))


# ------------------------------------------- size-1 strides after clamp / pow of numbers

# (torch 2.13's strides: x.t() of a (5, 1) tensor has strides (1, 1); the Scalar overloads
# of clamp / pow are unary TensorIterator ops, whose fast setup gives C strides, while
# x * 2, x + 1 take the number as an operand and keep the input's order)
STRIDE_CASES = [
    ("x.clamp(-1, 1)", (5, 1)), ("x.clamp(min=0)", (5, 1)), ("torch.clamp_max(x, 0)", (5, 1)),
    ("torch.clip(x, -1, 1)", (5, 1)), ("x ** 2", (5, 1)), ("x.pow(2.5)", (5, 1)),
    ("x.float_power(2)", (5, 1)), ("(x * 2).clamp(-1, 1)", (5, 1)), ("(x * 2) ** 2", (5, 1)),
    ("(x * 2 + 1).clamp(0, 1) ** 2", (5, 1)),
    ("x * 2", (1, 1)), ("x + 1", (1, 1)), ("x.pow(torch.tensor(2.0))", (1, 1)),
    ("x.sin()", (5, 1))]


@pytest.mark.parametrize("expr,want", STRIDE_CASES)
def test_number_bounds_and_exponents_are_no_operands(expr, want):
    src = f"def f(x):\n    return {expr}\n"
    x = gpujit.ones(5, 1).t()
    assert x.stride() == (1, 1)
    eager = eval(expr, {"torch": gpujit, "x": x})
    assert eager.stride() == want
    fn = script(src, "f")
    for got in calls(fn, x):
        assert got.stride() == want
        np.testing.assert_array_equal(got.numpy(), eager.numpy())


@pytest.mark.parametrize("expr", [e for e, _ in STRIDE_CASES])
def test_size1_strides_as_torch(nnc, expr):
    torch = nnc
    want = eval(expr, {"torch": torch, "x": torch.ones(3, 1, 4).permute(1, 0, 2)}).stride()
    got = eval(expr, {"torch": gpujit, "x": gpujit.ones(3, 1, 4).permute(1, 0, 2)}).stride()
    assert got == want
