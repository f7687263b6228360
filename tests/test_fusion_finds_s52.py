"""Session 52's fuser hunt (helper f52): scripted programs compared with TorchScript's NNC on
the CPU (torch 2.13, `_jit_override_can_fuse_on_cpu`, `_jit_set_texpr_fuser_enabled`,
`_jit_set_te_must_use_llvm_cpu(False)`, profiling executor, 2 warm-up calls).

What was found:
- torch.cat / torch.stack in a call that records gradients: torch 2.13 cuts
  DifferentiableGraphs before it fuses; its slicer takes cat / stack in (symbolic_script
  differentiates them) but never the prim::ListConstruct of their list, which stays outside
  with what made the elements: `torch.cat([x * y, z]) * 3` records
  DifferentiableGraphBackward -> (MulBackward0, AccumulateGrad z), the region takes the
  Tensor[] whole (no RequiresGradCheck for a list) and its node has one edge per list
  element (None for one that needs no grad, twice for one listed twice). gpujit fused the
  list, the cat and both muls into one group: one node, edges (x, z). (s53: gpujit keeps
  its fused group, ~5x faster forward; a cat stays in a region where it is not fused:
  stack, a cat the group does not take.)
- tensor constants a group reads are cloned into NNC's subgraph (prim::Constant[value=
  1  2  3 [ CPUFloatType{3} ]]); gpujit showed them as group inputs (and fallback args).
- scripted x.bool() / x.bfloat16(): TorchScript 2.13 has no such Tensor methods
  ("'Tensor (inferred)' object has no attribute or method 'bool'."); gpujit compiled them.
- a function whose whole graph is one fusion group that records gradients: torch shows the
  group inside a prim::DifferentiableGraph behind its RequiresGradCheck, the inputs (and
  the node's edges) in its slicer's merge order ((x * y + z) * 3: z, y, x); gpujit showed
  the bare group and listed the edges in argument order.
- `a, b, c = x.chunk(3)` of 4 rows (2 pieces): torch's ConstantChunk says "Expected chunk
  to return at least 3 outputs, but got only 2" at the chunk call; gpujit gave the
  ListUnpack's "Expected 3 elements in a list but found 2".
"""
import numpy as np
import pytest

import gpujit

_RNG = np.random.default_rng(52)
_X, _Y, _Z = (_RNG.standard_normal((2, 3)).astype(np.float32) for _ in range(3))


def _names(node):
    return [None if n is None else n.name().rsplit("::", 1)[-1] for n, _ in node.next_functions]


def _calls(fn, *args, n=3):
    out = None
    for _ in range(n):
        out = fn(*args)
    return out


def _inputs(lib):
    return (lib.tensor(_X, requires_grad=True), lib.tensor(_Y),
            lib.tensor(_Z, requires_grad=True))


def cat_mul(x, y, z):
    return gpujit.cat([x * y, z]) * 3


def stack_tanh(x, y, z):
    return (gpujit.stack([x, y, z], -1) * 2).tanh()


def cat_twice(x, y, z):
    return gpujit.cat([x, x, z]).exp() * 2


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_cat_under_grad_fuses_with_its_list_producers():
    # (torch 2.13 leaves x * y and the list outside a region of cat and mul, unfused:
    # MulBackward0, AccumulateGrad z; gpujit keeps its one fused group -- forward and
    # backward kernels, ~5x faster than the region -- its node's edges z, x; s53's choice)
    s = gpujit.jit.script(cat_mul)
    x, y, z = _inputs(gpujit)
    out = _calls(s, x, y, z)
    assert out.grad_fn.name().endswith("DifferentiableGraphBackward")
    assert _names(out.grad_fn) == ["AccumulateGrad", "AccumulateGrad"]
    assert [n.variable is z for n, _ in out.grad_fn.next_functions] == [True, False]
    out.backward(gpujit.ones(4, 3))
    np.testing.assert_allclose(x.grad.numpy(), 3 * _Y, rtol=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), np.full((2, 3), 3.0), rtol=1e-6)
    np.testing.assert_allclose(out.detach().numpy(), 3 * np.concatenate([_X * _Y, _Z]),
                               rtol=1e-6)
    text = str(s.graph_for(x, y, z))
    sub = text.split("with prim::TensorExprGroup_0")[1]
    assert "prim::ListConstruct" in sub and "aten::cat" in sub and "aten::mul" in sub


def test_stack_region_edges_per_element_none_where_no_grad():
    s = gpujit.jit.script(stack_tanh)
    x, y, z = _inputs(gpujit)
    out = _calls(s, x, y, z)
    # torch 2.13: [AccumulateGrad, None, AccumulateGrad]
    assert _names(out.grad_fn) == ["AccumulateGrad", None, "AccumulateGrad"]
    out.sum().backward()
    want = 2 * (1 - np.tanh(2 * np.stack([_X, _Y, _Z], -1)) ** 2)
    np.testing.assert_allclose(x.grad.numpy(), want[..., 0], rtol=1e-5)
    np.testing.assert_allclose(z.grad.numpy(), want[..., 2], rtol=1e-5)
    assert y.grad is None


def test_cat_of_one_tensor_twice_lists_it_twice_and_sums_once():
    s = gpujit.jit.script(cat_twice)
    x, y, z = _inputs(gpujit)
    out = _calls(s, x, y, z)
    # (torch 2.13's region lists x twice: AccumulateGrad x 3; gpujit's fused group takes
    # x once)
    assert _names(out.grad_fn) == ["AccumulateGrad"] * 2
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp(_X), rtol=1e-5)
    np.testing.assert_allclose(z.grad.numpy(), 2 * np.exp(_Z), rtol=1e-5)


def test_cat_stays_in_the_group_without_grad():
    def cat_mul_no_grad(x, y, z):
        return gpujit.cat([x * y, z]) * 3
    s = gpujit.jit.script(cat_mul_no_grad)
    x, y, z = (gpujit.tensor(a) for a in (_X, _Y, _Z))
    out = _calls(s, x, y, z)
    np.testing.assert_allclose(out.numpy(), 3 * np.concatenate([_X * _Y, _Z]), rtol=1e-6)
    text = str(s.graph_for(x, y, z))
    assert "prim::DifferentiableGraph" not in text
    sub = text.split("with prim::TensorExprGroup_0")[1]
    assert "prim::ListConstruct" in sub and "aten::cat" in sub


def test_cat_region_gradients_in_a_chain_and_create_graph():
    def f(x, y, z):
        w = gpujit.cat([x, y, z], 1)
        return gpujit.cat([x * y, z]) * gpujit.cat([z, x]).sigmoid(), w.sigmoid() * w
    s = gpujit.jit.script(f)
    x, y, z = _inputs(gpujit)
    a, b = _calls(s, x, y, z)
    assert _names(a.grad_fn) == ["AccumulateGrad", "AccumulateGrad", "MulBackward0",
                                 "AccumulateGrad"]      # (torch 2.13's)
    gx, = gpujit.autograd.grad((a.sum() + b.sum()), x, create_graph=True)
    sz, sx = _sigmoid(_Z), _sigmoid(_X)
    w = np.concatenate([_X, _Y, _Z], 1)
    sw = _sigmoid(w)
    db = (sw + w * sw * (1 - sw))[:, :3]
    want = _Y * sz + (_Z * sx * (1 - sx)) + db
    np.testing.assert_allclose(gx.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    gxx, = gpujit.autograd.grad(gx.sum(), x)
    assert gxx.shape == (2, 3) and np.isfinite(gxx.numpy()).all()


def test_one_group_graph_is_one_region_edges_in_merge_order():
    def f(x, y, z):
        return (x * y + z) * 3
    s = gpujit.jit.script(f)
    x, y, z = _inputs(gpujit)
    out = _calls(s, x, y, z)
    # torch 2.13: the region's inputs (z, y, x) as its slicer merged them; its node's edges
    # those that require grad, in that order
    assert [n.variable is z for n, _ in out.grad_fn.next_functions] == [True, False]
    assert [n.variable is x for n, _ in out.grad_fn.next_functions] == [False, True]
    out.backward(gpujit.ones(2, 3))
    np.testing.assert_allclose(x.grad.numpy(), 3 * _Y, rtol=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), np.full((2, 3), 3.0), rtol=1e-6)
    g = s.graph_for(x, y, z)
    check = next(g.nodes())
    assert check.kind() == "prim::RequiresGradCheck"
    assert [v.debugName() for v in check.inputs()] == ["z.1", "y.1", "x.1"]
    text = str(g)
    assert "with prim::DifferentiableGraph_0 = graph(%z.1" in text
    assert text.count("prim::TensorExprGroup_") == 2     # (the node and its subgraph)


def test_tensor_constants_shown_inside_the_group():
    def f(x):
        c = gpujit.tensor([1., 2., 3.])
        return (x * c + c * 2).relu()
    s = gpujit.jit.script(f)
    x = gpujit.tensor(_X)
    out = _calls(s, x)
    c = np.array([1., 2., 3.], np.float32)
    np.testing.assert_allclose(out.numpy(), np.maximum(_X * c + c * 2, 0), rtol=1e-6)
    text = str(s.graph_for(x))
    top, sub = text.split("with prim::TensorExprGroup_0 = ")
    # torch 2.13: the group takes x alone, its subgraph holds both constants
    assert "prim::TensorExprGroup_0(%" in top and "CPUFloatType" not in top
    call = next(ln for ln in top.splitlines() if "prim::CallFunction" in ln)
    assert call.count("%") == 3         # (the result, the function, x)
    assert sub.startswith("graph(%x.1 : Float(2, 3, strides=[3, 1]")
    assert "prim::Constant[value= 1  2  3 [ CPUFloatType{3} ]]()\n" in sub
    assert "prim::Constant[value= 2  4  6 [ CPUFloatType{3} ]]()\n" in sub


@pytest.mark.parametrize("method", ["bool", "bfloat16"])
def test_scripted_bool_and_bfloat16_methods_refused(method):
    with pytest.raises(RuntimeError, match=rf"'Tensor \(inferred\)' object has no attribute "
                                           rf"or method '{method}'\."):
        gpujit.jit.CompilationUnit(f"def f(x):\n    return x.{method}()\n")
    cu = gpujit.jit.CompilationUnit("def f(x):\n    return x.to(torch.bool), x.half()\n")
    a, b = cu.f(gpujit.tensor([0.0, 2.0]))
    assert a.tolist() == [False, True] and b.dtype is gpujit.float16


def test_uneven_chunk_count_error_as_constant_chunk():
    def f(x):
        a, b, c = (x * 2).chunk(3)
        return a + 1, b * 3, c - 1
    s = gpujit.jit.script(f)
    msg = "Expected chunk to return at least 3 outputs, but got only 2"
    with pytest.raises(RuntimeError, match=msg):        # (the profiling run)
        s(gpujit.ones(4, 2))
    x = gpujit.arange(14.).reshape(7, 2)                 # (3, 3 and 1 rows)
    a, b, c = _calls(s, x)
    np.testing.assert_allclose(c.numpy(), [[23., 25.]])
    with pytest.raises(RuntimeError, match=msg) as e:   # (the optimized code's)
        s(gpujit.ones(4, 2))
    assert "(x * 2).chunk(3)" in str(e.value)


_TORCH_SRC = '''
def cat_mul(x, y, z):
    return torch.cat([x * y, z]) * 3
def stack_tanh(x, y, z):
    return (torch.stack([x, y, z], -1) * 2).tanh()
def cat_twice(x, y, z):
    return torch.cat([x, x, z]).exp() * 2
def cat_sum(x, y, z):
    return torch.cat([x + y, z]).sum()
def two_lists(x, y, z):
    return torch.cat([x * y, z]) * torch.cat([z, x]).sigmoid()
def one_group(x, y, z):
    return (x * y + z) * 3
'''


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


def _chain(node):
    if node is None:
        return None
    return (node.name().rsplit("::", 1)[-1], [_chain(n) for n, _ in node.next_functions])


# (cat_mul, cat_twice, cat_sum, two_lists: gpujit fuses the cat with its list's producers
# under grad, where torch's region leaves them outside; test_cat_under_grad_fuses_...)
@pytest.mark.parametrize("name", ["stack_tanh", "one_group"])
def test_grad_fn_chains_as_torchscript(nnc, name):
    torch = nnc     # (torch's CompilationUnit resolves `torch` in its caller's frame)
    t_fn = getattr(torch.jit.CompilationUnit(_TORCH_SRC), name)
    g_fn = getattr(gpujit.jit.CompilationUnit(_TORCH_SRC.replace("torch.", "gpujit.")), name)
    t = _calls(t_fn, *_inputs(torch))
    gx = _inputs(gpujit)
    g = _calls(g_fn, *gx)
    assert _chain(g.grad_fn) == _chain(t.grad_fn)
    # (the edges' order: which input each AccumulateGrad stands for)
    assert [getattr(n, "variable", None) is gx[0] for n, _ in g.grad_fn.next_functions] == \
        [getattr(n, "variable", None) is not None and n.variable.shape == (2, 3) and
         np.array_equal(n.variable.detach().numpy(), _X)
         for n, _ in t.grad_fn.next_functions]
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-5)


def test_training_graph_masked_fill_records_its_own_node():
    def f(x, y):
        return x.masked_fill(y > 0, 0.0) * 2 + 1
    s = gpujit.jit.script(f)
    x, y = gpujit.tensor(_X, requires_grad=True), gpujit.tensor(_Y)
    out = _calls(s, x, y)
    # torch 2.13: gt and masked_fill unfused outside, the region holds mul + add fused;
    # gpujit fuses all four (one kernel forward) and records torch's nodes
    kinds = [n.kind() for n in s.graph_for(x, y).nodes() if n.kind() != "prim::Constant"]
    assert kinds == ["prim::TypeCheck", "prim::If"]
    assert out.grad_fn.name().endswith("DifferentiableGraphBackward")
    assert _names(out.grad_fn) == ["MaskedFillBackward0"]
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(_Y > 0, 0.0, 2.0), rtol=0)


def test_where_of_a_number_records_op_by_op():
    def f(x):
        return gpujit.where(x > 0, x * 2, 0.5) + 1
    s = gpujit.jit.script(f)
    x = gpujit.tensor(_X, requires_grad=True)
    out = _calls(s, x)
    # torch 2.13: AddBackward1 -> WhereBackward0 -> (MulBackward1, None); nothing fused
    assert _names(out.grad_fn) == ["WhereBackward0"]
    assert _names(out.grad_fn.next_functions[0][0]) == ["MulBackward1", None]
    out.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), np.where(_X > 0, 2 * _X, 0.5) + 1,
                               rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), np.where(_X > 0, 2.0, 0.0), rtol=0)


def test_region_printed_as_torch_prints_it():
    def f(x, y):
        return (x * y).sum() + (x + y).tanh().sum()
    s = gpujit.jit.script(f)
    x, y = gpujit.tensor(_X, requires_grad=True), gpujit.tensor(_Y, requires_grad=True)
    _calls(s, x, y)
    text = str(s.graph_for(x, y))
    # each subgraph numbers its own groups from 0 and prints them right after it; input
    # lines continue 6 spaces in
    heads = [ln.split(" = ")[0] for ln in text.splitlines() if ln.startswith("with ")]
    assert heads == ["with prim::DifferentiableGraph_0", "with prim::TensorExprGroup_0"]
    assert "with prim::DifferentiableGraph_0 = graph(%x.1 : Tensor,\n      %y.1 : Tensor):" \
        in text or "with prim::DifferentiableGraph_0 = graph(%y.1 : Tensor,\n      %x.1 : " \
        "Tensor):" in text
    from gpujit.ir.parser import parse_ir       # (the nested label read back as its own)
    again = str(parse_ir(text))
    assert again.count("with prim::TensorExprGroup_0") == 1
    assert again.index("with prim::DifferentiableGraph_0") < \
        again.index("with prim::TensorExprGroup_0")
