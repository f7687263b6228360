"""PyTorch's profiling-executor and autodiff-fusion tests (test/jit/test_profiler.py,
test_fuser_common.py, test_autodiff_subgraph_slicing.py, test_autodiff.py) as behaviour:
the values, gradients and requires_grad of compiled functions' results, what fuses, and
how many specializations a function makes. TorchScript internals with no gpujit
counterpart (prim::DifferentiableGraph nesting, BailOut / TypeCheck nodes, the fallback
function's CallFunction) are checked through what a user sees instead. References are
NumPy or literal values, so this runs without torch."""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit.runtime.interpreter import GROUP_RUNNER

_R = np.random.default_rng(12)


def _groups(g) -> int:
    return str(g).count("= prim::TensorExprGroup_")


def _top(g) -> str:
    """The printed graph without its groups' subgraphs."""
    return str(g).split("\nwith prim::TensorExprGroup_")[0]


def _arr(*shape):
    return _R.standard_normal(shape).astype(np.float32)


def _leaf(a, grad=True):
    return torch.from_numpy(np.array(a)).requires_grad_(grad)


def _runners(f, *args):
    exe = f._get_executable()
    spec = exe._active[exe.key(list(args))]
    return [g.node.meta[GROUP_RUNNER] for g in spec.groups if GROUP_RUNNER in g.node.meta]


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------- test_profiler.py
def test_item_and_its_add_stay_out_of_the_groups():
    @torch.jit.script
    def scalar_type_input(x, y, z):
        return x + y + 4 + z.item()

    x = torch.tensor([2, 2])
    assert scalar_type_input(x, x, torch.tensor(1)).tolist() == [9, 9]
    scalar_type_input(x, x, torch.tensor(1))
    r = scalar_type_input(x, x, torch.tensor(1.0))
    assert r.dtype == torch.float32 and r.tolist() == [9.0, 9.0]
    top = _top(torch.jit.last_executed_optimized_graph())
    assert _groups(top) == 1
    assert "aten::item" in top and top.count("aten::add") == 1   # item's add: not fused


def test_a_dtype_chosen_at_run_time_keeps_sum_out_of_the_group():
    @torch.jit.script
    def non_const_dtype(x, y, cond: bool):
        dtype = torch.int16 if cond else torch.int32
        return (x + y + 3).sum(dtype=dtype)

    x = torch.tensor([2, 2])
    for cond, dt in ((True, torch.int16), (True, torch.int16), (False, torch.int32)):
        r = non_const_dtype(x, x, cond)
        assert r.dtype == dt and r.item() == 14
    g = torch.jit.last_executed_optimized_graph()
    assert _groups(g) == 1 and "aten::sum" in _top(g)


def _mul_chain(a, b):
    c = a * b
    d = c * b
    return d


def test_backward_of_a_fused_group_is_traced_once_and_fused():
    f = torch.jit.script(_mul_chain)
    x, y = _leaf([1.5]), _leaf([2.0])
    for k in range(1, 4):
        f(x, y).backward()
        assert x.grad.tolist() == [4.0 * k] and y.grad.tolist() == [6.0 * k]
    (r,) = _runners(f, x, y)
    assert r.traced == 1
    bw = next(iter(r.backwards.values()))
    assert any(s.groups for s in bw.fn.specializations)


def test_backward_of_a_broadcast_sums_to_the_input_size():
    f = torch.jit.script(_mul_chain)
    x, y = _leaf(np.ones((2, 2), np.float32)), _leaf(np.ones(1, np.float32))
    f(x, y)
    b = f(x, y)
    b.backward(torch.ones([2, 2]), retain_graph=True)
    b.backward(torch.ones([2, 2]))
    assert y.grad.shape == (1,) and y.grad.tolist() == [16.0]    # 2 * (2ab summed)
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 2.0))


def test_types_stay_specialized_double():
    @torch.jit.script
    def f(a, b):
        c = a * b
        d = c * b
        return d

    x = torch.tensor([.5], dtype=torch.float64)
    for _ in range(3):
        r = f(x, x)
    assert r.dtype == torch.float64 and r.item() == 0.125
    assert "Double(1" in str(torch.jit.last_executed_optimized_graph())


def test_an_in_place_add_on_a_fresh_value_fuses_with_its_neighbours():
    def foo(a, b):
        c = a * b
        d = c * b
        d.add_(b)
        e = d * b
        return d + e

    f = torch.jit.script(foo)
    for _ in range(3):
        r = f(torch.full([1], 1.5), torch.full([1], 2.0))
    assert r.tolist() == [24.0]         # d = 8, e = 16
    g = torch.jit.last_executed_optimized_graph()
    assert _groups(g) >= 1 and "aten::add_" not in _top(g)
    # and with gradients: d.add_(b) adds b's path to d's
    x, y = _leaf(_arr(3)), _leaf(_arr(3))
    for _ in range(3):
        x.grad = y.grad = None
        f(x, y).sum().backward()
    a, b = x.detach().numpy(), y.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), b * b + b ** 3, rtol=1e-5)
    np.testing.assert_allclose(y.grad.numpy(), 2 * a * b + 1 + 3 * a * b * b + 2 * b,
                               rtol=1e-5)


def test_a_use_in_a_branch_never_taken_does_not_stop_the_adds_fusing():
    def foo(t1, t2, t3, t4, t: float):
        h = t1 + t2 + t3 + t4
        if t > 0.5:
            return t1 + 1
        return h

    f = torch.jit.script(foo)
    t = torch.rand(8)
    for _ in range(3):
        r = f(t, t, t, t, 0.1)
    np.testing.assert_allclose(r.numpy(), 4 * t.numpy(), rtol=1e-6)
    g = str(torch.jit.last_executed_optimized_graph())
    assert "aten::add" not in g.split("prim::If")[0]
    np.testing.assert_allclose(f(t, t, t, t, 0.9).numpy(), t.numpy() + 1)


def test_scalar_only_code_makes_no_group():
    @torch.jit.script
    def foo(x: int, y: int):
        return x + y + 2 + 4 + 5 + 6

    assert foo(1, 2) == 20 and foo(2, 3) == 22
    assert _groups(torch.jit.last_executed_optimized_graph()) == 0


def test_size_is_not_specialized_to_the_profiled_shape():
    @torch.jit.script
    def foo(x, y):
        return x + y + 1 + 2 + 3, x.size()

    x = torch.ones(1)
    foo(x, x)
    foo(x, x)
    assert "aten::size" in str(torch.jit.last_executed_optimized_graph())
    x = torch.ones([2, 3, 5])
    r, size = foo(x, x)
    assert list(size) == [2, 3, 5]
    np.testing.assert_array_equal(r.numpy(), np.full((2, 3, 5), 8.0))


def test_new_shapes_after_specialization_give_the_right_answer():
    @torch.jit.script
    def foo(a, b):
        c = a * b
        d = c * b
        e = d * b
        return d + e

    for shape in ([1], [1], [3, 2], [5], [2, 1, 4]):
        a, b = _arr(*shape), _arr(*shape)
        np.testing.assert_allclose(foo(torch.from_numpy(a), torch.from_numpy(b)).numpy(),
                                   a * b * b + a * b ** 3, rtol=1e-5, atol=1e-6)


def test_gradients_after_profiling_and_twice_through_retain_graph():
    @torch.jit.script
    def foo(a, b):
        c = a * b
        d = c * b
        e = d * b
        return d + e

    x, y = _leaf([1.0]), _leaf([2.0])
    foo(x, y)
    b = foo(x, y)
    b.backward(torch.ones([1]), retain_graph=True)
    b.backward(torch.ones([1]))
    assert x.grad.tolist() == [24.0] and y.grad.tolist() == [32.0]


def test_a_tensor_constant_joins_the_adds():
    def foo(a, b):
        return a + b + torch.tensor([2])

    f = torch.jit.script(foo)
    x = torch.ones(1)
    for _ in range(3):
        r = f(x, x)
    assert r.dtype == torch.float32 and r.tolist() == [4.0]
    g = torch.jit.last_executed_optimized_graph()
    assert str(g).count("aten::add(") == 2


def test_iterative_fusion_makes_two_groups_around_the_in_place_write():
    # a + b reads b before b.add_(3) and a + 1 after it: both move above the write into
    # one group (the AliasDb orders the write after every read of b), c + b + d another
    @torch.jit.script
    def foo(a, b, c, d):
        a = a + b
        b.add_(3)
        c = c + b + d
        a = a + 1
        return a, c

    for _ in range(3):
        x = torch.ones(1)
        r = foo(x, x, x, x)
    assert r[0].tolist() == [3.0] and r[1].tolist() == [12.0] and x.tolist() == [4.0]
    g = torch.jit.last_executed_optimized_graph()
    assert _groups(g) == 2
    top = _top(g)
    assert "aten::add_" in top and top.count("aten::add(") == 0
    # distinct tensors
    xs = [torch.full([2], float(k)) for k in range(1, 5)]
    a, c = foo(*xs)
    assert a.tolist() == [4.0, 4.0] and c.tolist() == [12.0, 12.0]
    assert xs[1].tolist() == [5.0, 5.0]


# --------------------------------------------------------------- test_fuser_common.py
@pytest.mark.parametrize("rq", [True, False])
def test_outputs_follow_requires_grad_after_the_optimization_is_made(rq):
    @torch.jit.script
    def fn(x):
        return torch.max(x ** 2.0, x ** 3.0)

    x = _leaf(_arr(5), not rq)
    for _ in range(5):
        fn(x)
    a = _arr(5)
    y = fn(_leaf(a, rq))
    assert y.requires_grad == rq
    np.testing.assert_allclose(y.detach().numpy(), np.maximum(a ** 2, a ** 3), rtol=1e-6)


def test_requires_grad_switching_back_and_forth():
    @torch.jit.script
    def f(a, b):
        return torch.tanh(a * b) + b

    a, b = _arr(4, 3), _arr(3)
    for ra, rb in ((False, False), (True, True), (False, True), (True, False), (True, True)):
        x, y = _leaf(a, ra), _leaf(b, rb)
        for _ in range(2):
            out = f(x, y)
        assert out.requires_grad == (ra or rb)
        if out.requires_grad:
            out.sum().backward()
            t = 1 - np.tanh(a * b) ** 2
            if ra:
                np.testing.assert_allclose(x.grad.numpy(), t * b, rtol=1e-5)
            if rb:
                np.testing.assert_allclose(y.grad.numpy(), (t * a).sum(0) + 4,
                                           rtol=1e-5)


# ------------------------------------------------ test_autodiff_subgraph_slicing.py
def test_chunk_outputs_are_views_with_gradients():
    @torch.jit.script
    def func(x):
        x1, x2 = torch.chunk(x, 2)
        return (x1, x2)

    inp = torch.rand(6, 10).requires_grad_()
    for _ in range(3):
        a, b = func(inp)
    assert a.requires_grad and b.requires_grad
    (a.sum() + 2 * b.sum()).backward()
    g = inp.grad.numpy()
    assert (g[:3] == 1).all() and (g[3:] == 2).all()


def test_sigmoid_of_sigmoid_fuses_and_differentiates():
    @torch.jit.script
    def foo(x):
        return torch.sigmoid(torch.sigmoid(x))

    x = torch.rand([4, 4], requires_grad=True)
    foo(x)
    foo(x).sum().backward()
    assert _groups(foo.graph_for(x)) == 1
    s = _sig(x.detach().numpy())
    s2 = _sig(s)
    np.testing.assert_allclose(x.grad.numpy(), s2 * (1 - s2) * s * (1 - s), rtol=1e-5)


class _Biased(torch.nn.Module):
    def __init__(self, has_bias):
        super().__init__()
        self.ll = torch.nn.Linear(10, 10, has_bias)

    def forward(self, x, y):
        return self.ll(x + y) * x + y


@pytest.mark.parametrize("has_bias", [False, True])
def test_linear_module_with_and_without_bias(has_bias):
    m = _Biased(has_bias)
    s = torch.jit.script(m)
    x = torch.rand(10, 10, requires_grad=True)
    for _ in range(3):
        s(x, x)
    out = s(x, x)
    out.sum().backward()
    got = [p.grad.numpy().copy() for p in m.parameters()] + [x.grad.numpy().copy()]
    # NumPy reference
    xn = x.detach().numpy().astype(np.float64)
    w = m.ll.weight.detach().numpy().astype(np.float64)
    bias = m.ll.bias.detach().numpy().astype(np.float64) if has_bias else 0.0
    h = (2 * xn) @ w.T + bias
    np.testing.assert_allclose(out.detach().numpy(), h * xn + xn, rtol=1e-5, atol=1e-5)
    gh = xn                                   # d(out)/dh, elementwise
    want = [gh.T @ (2 * xn)] + ([gh.sum(0)] if has_bias else [])
    want.append(2 * (gh @ w) + h + 1)
    for g, wv in zip(got, want):
        np.testing.assert_allclose(g, wv, rtol=1e-4, atol=1e-4)


def test_linear_with_a_constructed_bias():
    def method1(x, weight, b1, b2):
        bias = b1 * b2
        return torch.nn.functional.linear(x, weight, bias)

    ins = [torch.rand(10, 10, requires_grad=True) for _ in range(4)]
    s = torch.jit.script(method1)
    for _ in range(3):
        s(*ins).sum().backward()
    x, w, b1, b2 = (t.detach().numpy() for t in ins)
    ones = np.ones((10, 10), np.float32)
    np.testing.assert_allclose(ins[0].grad.numpy(), 3 * ones @ w, rtol=1e-5)
    np.testing.assert_allclose(ins[1].grad.numpy(), 3 * ones.T @ x, rtol=1e-5)
    np.testing.assert_allclose(ins[2].grad.numpy(), 3 * b2, rtol=1e-5)
    np.testing.assert_allclose(ins[3].grad.numpy(), 3 * b1, rtol=1e-5)


@pytest.mark.parametrize("with_bias", [False, True])
def test_linear_with_an_optional_bias_argument(with_bias):
    def method1(x, weight, bias: Optional[torch.Tensor]):
        return torch.nn.functional.linear(x, weight, bias).relu() + 2

    x, w = torch.rand(10, 10, requires_grad=True), torch.rand(10, 10, requires_grad=True)
    bias = torch.rand(10, 10, requires_grad=True) if with_bias else None
    s = torch.jit.script(method1)
    for _ in range(3):
        out = s(x, w, bias)
    h = x.detach().numpy() @ w.detach().numpy().T
    if with_bias:
        h = h + bias.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), np.maximum(h, 0) + 2, rtol=1e-5)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (h > 0) @ w.detach().numpy(), rtol=1e-5)
    if with_bias:
        np.testing.assert_array_equal(bias.grad.numpy(), (h > 0).astype(np.float32))


def test_requires_grad_of_a_returned_tensor_list():
    def func(input0: torch.Tensor, input1: torch.Tensor
             ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        var_list = [input0, input1]
        var = torch.cat(var_list)
        output = var + 1.0
        return output, var_list

    jf = torch.jit.script(func)
    i0, i1 = torch.randn((2,), requires_grad=True), torch.randn((2,))
    for _ in range(3):
        out, lst = jf(i0, i1)
        assert out.requires_grad and lst[0].requires_grad and not lst[1].requires_grad
        assert lst[0] is i0 and lst[1] is i1


def _branchy(x: torch.Tensor, y: torch.Tensor, flag: bool):
    o = x + 1.0
    o1 = torch.relu(o)
    o = y + 1.5
    o2 = torch.relu(o)
    o3 = o1 + o2
    if flag:
        o = o1 + 1.0
        oo1 = torch.relu(o)
        o = o2 + 2.5
        oo2 = torch.relu(o)
        oo3 = oo1 + oo2
    else:
        o = o1 * 1.0
        oo1 = torch.relu(o)
        o = o2 * 2.0
        oo2 = torch.relu(o)
        oo3 = oo1 + oo2
    return o1, o2, o3, oo1, oo2, oo3


def test_fused_outputs_mark_requires_grad_as_eager_does():
    # (PyTorch skips its version: undefined gradients of tensor lists; here it passes)
    x, y = torch.randn(8, 2).requires_grad_(), torch.randn(8, 2)
    tj = torch.jit.script(_branchy)
    for flag in (False, False, False, True, True, False):
        got = tj(x, y, flag)
        want = _branchy(x, y, flag)
        assert [t.requires_grad for t in got] == [True, False, True, True, False, True]
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g.detach().numpy(), w.detach().numpy())
    assert _groups(tj.graph_for(x, y, False)) >= 2


def test_no_gradient_for_a_bias_that_needs_none():
    @torch.jit.script
    def t(input, bias):
        return torch.nn.functional.relu(input + bias)

    inp, bias = torch.randn(2, 8, requires_grad=True), torch.randn(8)
    for _ in range(3):
        t(inp, bias).sum().backward()
    assert bias.grad is None
    np.testing.assert_array_equal(
        inp.grad.numpy(), 3.0 * ((inp.detach().numpy() + bias.numpy()) > 0))


def _simple_merge(x, y, z):
    a = x * y
    b = a * z
    return b


def _simple_no_merge(x, y, z):
    a = x * y
    b = torch.zeros([abs(int(y))])
    return a, b


def _unrelated(w, x, y, z):
    a = x * y
    b = w * z
    return a, b


def _without_cycles(w, x, y):
    a = w * x
    b = a * y
    c = a * b
    return c


def _dense(x, y):
    a, b = x.chunk(2)
    c, d = y.chunk(2)
    return a + c, b + d


def _no_cycles(w, x, y):
    a = w * x
    b = torch.zeros(abs(int(a)))
    c = a * b
    return c


def _merges_up(w, x, y, z):
    a = w * x
    b = torch.zeros(abs(int(y)))
    c = a * z
    return b, c


def _merges_down(v, w, x, y):
    a = v * w
    b = torch.ones(int(y))
    c = b * a
    return a, c


def _lexical(x, k):
    y = x * 1.1
    if bool(k):
        k = k + y
    z = y * k
    return z, k


def _eager_grads(fn, arrays):
    """fn run eagerly (op by op, gpujit's eager autograd): outputs and input grads."""
    ins = [_leaf(a) for a in arrays]
    outs = fn(*ins)
    outs = outs if isinstance(outs, tuple) else (outs,)
    loss = sum((o.sum() * (k + 1) for k, o in enumerate(outs) if o.requires_grad),
               torch.zeros(()))
    if loss.requires_grad:
        loss.backward()
    return ([o.detach().numpy().copy() for o in outs], [o.requires_grad for o in outs],
            [None if t.grad is None else t.grad.numpy().copy() for t in ins])


@pytest.mark.parametrize("fn,sizes,fused", [
    (_simple_merge, [1, 1, 1], 1),
    (_simple_no_merge, [1, 1, 1], 0),
    (_unrelated, [1, 1, 1, 1], 0),       # two lone muls: no group (as NNC)
    (_without_cycles, [1, 1, 1], 1),
    (_dense, [2, 2], 1),
    (_no_cycles, [1, 1, 1], None),
    (_merges_up, [1, 1, 1, 1], 1),
    (_merges_down, [1, 1, 1, 1], None),
    (_lexical, [1, 1], None),
])
def test_autodiff_slicing_programs_give_eager_values_and_gradients(fn, sizes, fused):
    # PyTorch checks how these cut into DifferentiableGraphs; here: the values, the
    # gradients and requires_grad of every call match eager autograd, fused or not
    f = torch.jit.script(fn)
    for call in range(4):
        arrays = [(_R.standard_normal(s) * 3).astype(np.float32) for s in sizes]
        if fn is _lexical and call % 2:
            arrays[1][:] = 0.0
        if fn is _merges_down:
            arrays[3] = np.abs(arrays[3])       # a size
        want = _eager_grads(fn, arrays)
        got = _eager_grads(f, arrays)
        assert got[1] == want[1]
        for g, w in zip(got[0] + got[2], want[0] + want[2]):
            assert (g is None) == (w is None)
            if g is not None:
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    if fused is not None:
        ins = [_leaf(np.ones(s, np.float32)) for s in sizes]
        assert _groups(f.graph_for(*ins)) == fused


# --------------------------------------------------------------- test_autodiff.py
def test_tensor_list_input_gradients_and_calling_the_backward_node():
    def fn(tensor_list: List[torch.Tensor], add_tensor):
        cat = torch.cat(tensor_list, dim=1)
        r = torch.sin(cat + add_tensor)
        return r

    fs = torch.jit.script(fn)
    a, b = torch.rand((3, 6), requires_grad=True), torch.rand((3, 10), requires_grad=True)
    y = torch.rand((3, 16), requires_grad=True)
    for _ in range(2):
        fs([a, b], y).sum().backward()
    c = np.cos(np.concatenate([a.detach().numpy(), b.detach().numpy()], 1)
               + y.detach().numpy())
    np.testing.assert_allclose(a.grad.numpy(), 2 * c[:, :6], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), 2 * c[:, 6:], rtol=1e-5)
    np.testing.assert_allclose(y.grad.numpy(), 2 * c, rtol=1e-5)
    # the node that computed the result, called directly (PyTorch's group also holds
    # the cat: it returns 3 gradients where gpujit's returns the cat's and y's)
    s = fs([a, b], y).sum()
    node = s.grad_fn.next_functions[0][0]
    grads = node(torch.rand((3, 16)), None)
    assert grads and all(isinstance(g, torch.Tensor) for g in grads)
    for g in node(None, None):
        assert g is None or torch.max(torch.abs(g)).item() == 0


def test_outputs_require_grad_only_where_eager_ones_do():
    def fn(a, b, c):
        return a.relu() + b.relu(), c.relu()

    fs = torch.jit.script(fn)
    a, b, c = torch.rand((10, 10)), torch.rand((10, 10)), torch.rand((10, 10),
                                                                      requires_grad=True)
    for _ in range(4):
        x, y = fs(a, b, c)
        assert not x.requires_grad and y.requires_grad


def test_requires_grad_of_a_value_read_twice_by_unfusible_ops():
    def fn(a, b, c):
        r = a.relu().relu()
        return torch.special.gammaln(r), torch.special.entr(r), c.cos().relu()

    fs = torch.jit.script(fn)
    a, b, c = torch.rand((10, 10)), torch.rand((10, 10)), torch.rand((10, 10),
                                                                      requires_grad=True)
    for args in [(a, b, c)] * 4 + [(c, b, a)] * 2:
        got, want = fs(*args), fn(*args)
        for g, w in zip(got, want):
            assert g.requires_grad == w.requires_grad
            np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-5)


@torch.jit.ignore
def _python_relu(x):
    return x.relu()


def test_requires_grad_across_a_python_call():
    def fn(a, b, c):
        r = a.relu().relu()
        _python_relu(r)
        return torch.relu(r), torch.nn.functional.gelu(r), c.cos().relu()

    fs = torch.jit.script(fn)
    a, b, c = torch.rand((10, 10)), torch.rand((10, 10)), torch.rand((10, 10),
                                                                      requires_grad=True)
    for _ in range(4):
        got = fs(a, b, c)
        assert [t.requires_grad for t in got] == [False, False, True]
        np.testing.assert_allclose(got[2].detach().numpy(),
                                   np.maximum(np.cos(c.detach().numpy()), 0), rtol=1e-6)


def test_requires_grad_under_no_grad_in_scripted_code():
    def fn(a, b, c):
        x = a.sin().relu()
        y = _python_relu(b)
        with torch.no_grad():
            z = x + c
        return x, y, z

    fs = torch.jit.script(fn)
    a, b, c = (torch.rand((10, 10), requires_grad=True) for _ in range(3))
    for _ in range(4):
        x, y, z = fs(a, b, c)
        assert (x.requires_grad, y.requires_grad, z.requires_grad) == (True, True, False)
        np.testing.assert_allclose(
            z.numpy(), np.maximum(np.sin(a.detach().numpy()), 0) + c.detach().numpy(),
            rtol=1e-6)
