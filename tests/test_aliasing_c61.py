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
