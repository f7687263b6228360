"""Mutation and aliasing seen by the caller of scripted code (c61's hunt): the outputs and
the inputs' final contents are torch 2.13's (expected values written from torch's run)."""
import numpy as np

import gpujit as torch
from gpujit.ir import parse_ir
from gpujit.passes.cse import eliminate_common_subexpressions


def _calls(fn, *args, n=3):
    """Call fn n times (the optimized graph runs from the 2nd / 3rd call); the last result."""
    out = None
    for _ in range(n):
        out = fn(*[a.clone() for a in args])
    return out


@torch.jit.script
def _two_tanh(x):
    a = x.tanh()
    b = x.tanh()
    return a, b


@torch.jit.script
def _two_chains(x):
    a = (x * 2).sigmoid()
    b = (x * 2).sigmoid()
    return [a + 1, b + 1]


@torch.jit.script
def _one_returned(x):
    a = x.tanh()
    b = x.tanh()
    return a, b + 1


def test_equal_returned_results_stay_two_tensors():
    # torch: `return x.tanh(), x.tanh()` gives two tensors; the caller writing one must not
    # change the other (gpujit's CSE made them one tensor returned twice)
    x = torch.from_numpy(np.array([0.5, -1.0, 2.0], dtype=np.float32))
    for fn in (_two_tanh, _two_chains):
        a, b = _calls(fn, x)
        a.add_(7)
        np.testing.assert_allclose(b.numpy(), (np.tanh(x.numpy()) if fn is _two_tanh
                                                else 1 / (1 + np.exp(-2 * x.numpy())) + 1),
                                   rtol=1e-6)
        assert a.data_ptr() != b.data_ptr()


def test_one_returned_result_still_shared():
    # only one of the two leaves the graph: sharing it is invisible to the caller (torch
    # shares it too: the graph keeps one tanh)
    a, b = _calls(_one_returned, torch.tensor([0.5, -1.0]))
    np.testing.assert_allclose(b.numpy(), np.tanh([0.5, -1.0]) + 1, rtol=1e-6)
    assert sum(n.kind == "aten::tanh" for n in _one_returned.graph.walk()) == 2  # (unoptimized)


def test_cse_keeps_two_returned_nodes_ir():
    g = parse_ir("""graph(%x : Tensor):
  %a : Tensor = aten::tanh(%x)
  %b : Tensor = aten::tanh(%x)
  %t : (Tensor, Tensor) = prim::TupleConstruct(%a, %b)
  return (%t)
""")
    eliminate_common_subexpressions(g)
    assert sum(n.kind == "aten::tanh" for n in g.walk()) == 2
    g = parse_ir("""graph(%x : Tensor):
  %a : Tensor = aten::tanh(%x)
  %b : Tensor = aten::tanh(%x)
  %one : int = prim::Constant[value=1]()
  %c : Tensor = aten::add(%b, %one, %one)
  %t : (Tensor, Tensor) = prim::TupleConstruct(%a, %c)
  return (%t)
""")
    eliminate_common_subexpressions(g)
    assert sum(n.kind == "aten::tanh" for n in g.walk()) == 1


def _set_then_add(a0, a1):
    a0.set_(a1)
    return a0 + 1


def test_traced_set_is_recorded():
    # torch records aten::set_ in the trace: a replay makes the caller's a0 view a1's memory
    # (gpujit's Tensor.set_ was not a registry op: the trace read the old a0)
    t = torch.jit.trace(_set_then_add, (torch.ones(4, 4), torch.ones(4, 4)), check_trace=False)
    assert "aten::set_" in str(t.graph)
    x = torch.from_numpy(np.arange(16.0, dtype=np.float32).reshape(4, 4))
    y = x * 10
    r = t(x, y)
    np.testing.assert_array_equal(r.numpy(), y.numpy() + 1)
    np.testing.assert_array_equal(x.numpy(), y.numpy())
    y.add_(1)                               # x is y's memory now
    np.testing.assert_array_equal(x.numpy(), y.numpy())


def _set_source(x, y):
    z = x * 2
    w = z + 1
    z.set_(y)
    y.mul_(3)                               # z is y's memory: it sees this write
    return (z + 1).sigmoid() * w, z


def test_scripted_set_aliases_source():
    # (torch: scripted x.set_(y) is aten::set_(%x, %y); gpujit had no Tensor method set_)
    _scripted_set = torch.jit.script(_set_source)
    for _ in range(3):
        x = torch.from_numpy(np.array([[0.5, -1.0], [2.0, 0.0]], dtype=np.float32))
        y = torch.from_numpy(np.array([[1.0, 2.0], [-3.0, 0.25]], dtype=np.float32))
        r, z = _scripted_set(x, y)
        yy = np.array([[1.0, 2.0], [-3.0, 0.25]], dtype=np.float32) * 3
        np.testing.assert_allclose(r.numpy(), 1 / (1 + np.exp(-(yy + 1))) * (x.numpy() * 2 + 1),
                                   rtol=1e-6)
        np.testing.assert_array_equal(y.numpy(), yy)
        z.add_(1)
        np.testing.assert_array_equal(y.numpy(), yy + 1)


def _restride_other_arg(a0, a1):
    a1.t_()
    return a0[0] * 1


def test_restride_of_an_argument_passed_twice():
    # f(x, x): torch passes one TensorImpl twice, so a0 is transposed too; the compiled
    # code (2nd call on) restrided a1's array only and a0 read the old one: [0, 1, 2]
    f = torch.jit.script(_restride_other_arg)
    for _ in range(3):
        x = torch.from_numpy(np.arange(9.0, dtype=np.float32).reshape(3, 3))
        np.testing.assert_array_equal(f(x, x).numpy(), [0.0, 3.0, 6.0])
        np.testing.assert_array_equal(x.numpy()[0], [0.0, 3.0, 6.0])
        y = torch.from_numpy(np.arange(9.0, dtype=np.float32).reshape(3, 3))
        np.testing.assert_array_equal(f(x, y).numpy(), [0.0, 3.0, 6.0])
        np.testing.assert_array_equal(y.numpy()[0], [0.0, 3.0, 6.0])


def _unsqueeze_then_return_both(x):
    y = x.sum(1)
    y.unsqueeze_(1)
    z = (x * y).sigmoid() + 1
    return z, y


def _restride_after_list(x):
    y = x * 2
    l = [y, y.sigmoid()]
    y.t_()
    l.append(y)
    return l


def test_restride_then_tuple_return_compiles():
    # `y.unsqueeze_(1); return z, y`: the tuple is built from the new view, so the graph
    # compiles (it ran unfused, op by op, with a FusionWarning); a list built before the
    # restride still holds y itself (torch: the same tensor, restrided)
    import warnings
    f = torch.jit.script(_unsqueeze_then_return_both)
    x = torch.from_numpy(np.arange(6.0, dtype=np.float32).reshape(2, 3) / 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            z, y = f(x)
    s = x.numpy().sum(1, keepdims=True)
    np.testing.assert_allclose(y.numpy(), s, rtol=1e-6)
    np.testing.assert_allclose(z.numpy(), 1 / (1 + np.exp(-x.numpy() * s)) + 1, rtol=1e-6)
    g = torch.jit.script(_restride_after_list)
    for _ in range(3):
        l = g(x)
        assert [tuple(t.shape) for t in l] == [(3, 2), (2, 3), (3, 2)]
        np.testing.assert_allclose(l[0].numpy(), (x.numpy() * 2).T)
        l[0].add_(1)
        np.testing.assert_allclose(l[2].numpy(), (x.numpy() * 2).T + 1)


def _cat_out(a, b, c):
    torch.cat([c, c], 0, out=b)
    return a * 1


def test_out_resize_of_an_argument_passed_twice():
    # f(x, x, c): the out= call resizes b (a new array), which is a too (torch: [1] * 6;
    # gpujit's compiled code read a's old array, [0, 0], from the 2nd call)
    import warnings
    f = torch.jit.script(_cat_out)
    for _ in range(3):
        x = torch.zeros(2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # (torch: resizing a non-empty out)
            r = f(x, x, torch.ones(3))
        np.testing.assert_array_equal(r.numpy(), np.ones(6))
        assert tuple(x.shape) == (6,)
