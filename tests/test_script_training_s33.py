"""Scripted training of graphs with loops and fusion groups (helper b33, session 33).

What the session found (profiled on the loaded 2-core VM, OPENBLAS_NUM_THREADS=1,
benchmarks/script_training.py's 2-layer LSTM-like loop, 8 steps, batch 16, hidden 32):

* Per step gpujit script records 32 AddmmBackward0 (the 4 linears x 8 iterations) and 16
  fusion-group nodes (named DifferentiableGraphBackward) where torch.jit.script records 8
  DifferentiableGraphBackward nodes, one per iteration: the loop body's straight-line part,
  linears and fusion groups included, is one region in torch 2.13. Split of one step,
  best of 5 x 30, CPU us: gpujit forward 1347 / backward 1821 / SGD step 114; torch.jit.script
  815 / 1511 / 257. The forward's extra cost is the 44 recorded calls per step (no single
  dominant function in cProfile: _record_planned, group forwards, select); the backward's
  is the walk over 48 nodes instead of 8.
* torch 2.13 also makes `tanh(linear(x, w, b)).mul(2)` ONE DifferentiableGraphBackward
  from the 2nd call (its edges: w's and b's AccumulateGrad); gpujit records linear's
  AddmmBackward0 and the fusion group's node.
* torch 2.13's linear on a 2-D input (eager, and scripted outside a differentiable graph)
  records AddmmBackward0 whose weight edge is TBackward0 -> AccumulateGrad; gpujit's
  AddmmBackward0 points at the weight's AccumulateGrad directly.

The tests below pin what holds (gradients of the scripted loop equal eager's, the
forward equals a NumPy evaluation); torch's eager linear structure (AddmmBackward0 ->
TBackward0) is matched since c49.
"""
import numpy as np

import gpujit as torch
import gpujit.nn as nn


class Cell(nn.Module):
    """An LSTM-like cell looped over the time steps of its input (fusion groups in the
    loop body: the gates' sigmoid / tanh / mul / add)."""

    def __init__(self):
        super().__init__()
        self.ih = nn.Linear(3, 8)
        self.hh = nn.Linear(2, 8)

    def forward(self, xs):
        h = torch.zeros(xs.size(1), 2)
        c = torch.zeros(xs.size(1), 2)
        for t in range(xs.size(0)):
            g = self.ih(xs[t]) + self.hh(h)
            i, f, gg, o = g.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
            h = torch.sigmoid(o) * torch.tanh(c)
        return h


def _names(root):
    seen, stack, out = set(), [root], []
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        out.append(n.name())
        stack.extend(x for x, _ in n.next_functions)
    return sorted(out)


def _np_cell(m, xs):
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))    # noqa: E731
    wi, bi = m.ih.weight.detach().numpy(), m.ih.bias.detach().numpy()
    wh, bh = m.hh.weight.detach().numpy(), m.hh.bias.detach().numpy()
    h = np.zeros((xs.shape[1], 2), np.float32)
    c = np.zeros_like(h)
    for t in range(xs.shape[0]):
        g = xs[t] @ wi.T + bi + h @ wh.T + bh
        i, f, gg, o = np.split(g, 4, axis=1)
        c = sig(f) * c + sig(i) * np.tanh(gg)
        h = sig(o) * np.tanh(c)
    return h


def _setup():
    torch.manual_seed(0)
    eager = Cell()
    s = torch.jit.script(Cell())
    with torch.no_grad():
        for a, b in zip(eager.parameters(), s.parameters()):
            b.copy_(a)
    xs = torch.from_numpy(np.random.default_rng(1).standard_normal((3, 4, 3)).astype(np.float32))
    return eager, s, xs


def test_scripted_loop_gradients_equal_eager_over_calls():
    eager, s, xs = _setup()
    ref = _np_cell(eager, xs.numpy())
    for _ in range(3):      # the profiling run, then the optimized plan
        for p in list(eager.parameters()) + list(s.parameters()):
            p.grad = None
        ye, ys = eager(xs), s(xs)
        np.testing.assert_allclose(ys.detach().numpy(), ref, rtol=1e-5, atol=1e-6)
        (ye * ye).sum().backward()
        (ys * ys).sum().backward()
        for a, b in zip(eager.parameters(), s.parameters()):
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_scripted_loop_today_records_linears_and_groups():
    # (3 iterations): one region per iteration, linears and fusion groups inside (a48;
    # before, 6 AddmmBackward0 + 3 group nodes)
    _, s, xs = _setup()
    for _ in range(3):
        y = s(xs)
    names = _names(y.grad_fn)
    assert names.count("torch::autograd::AccumulateGrad") == 4
    assert names.count("torch::jit::(anonymous namespace)::DifferentiableGraphBackward") == 3
    assert "AddmmBackward0" not in names


def test_scripted_loop_body_is_one_region_per_iteration():
    # (a48: the loop body cut into regions as TorchScript's slicer cuts it, fusion
    # groups included: jit/autodiff_subgraphs.py)
    _, s, xs = _setup()
    for _ in range(3):
        y = s(xs)
    # torch 2.13: CppFunction; 3 DifferentiableGraphBackward + the 4 parameters' AccumulateGrad
    assert _names(y.grad_fn) == ["torch::autograd::AccumulateGrad"] * 4 + [
        "torch::jit::(anonymous namespace)::DifferentiableGraphBackward"] * 3


def test_linear_then_fusion_group_is_one_node():
    # (a48: a fusion group joins the region of the ops around it)
    @torch.jit.script
    def f(x, w, b):
        return torch.tanh(torch.nn.functional.linear(x, w, b)).mul(2)

    x = torch.ones(3, 4)
    w = torch.full((5, 4), 0.1, requires_grad=True)
    b = torch.zeros(5, requires_grad=True)
    for _ in range(3):
        y = f(x, w, b)
    # torch 2.13 from the 2nd call: ['AccumulateGrad' x 2, 'DifferentiableGraphBackward']
    assert _names(y.grad_fn) == ["torch::autograd::AccumulateGrad"] * 2 + [
        "torch::jit::(anonymous namespace)::DifferentiableGraphBackward"]


def test_eager_linear_weight_edge_goes_through_t_backward():
    # (c49: F.linear of a matrix records torch's addmm(bias, input, weight.t()))
    w = torch.ones(5, 4, requires_grad=True)
    b = torch.zeros(5, requires_grad=True)
    y = torch.nn.functional.linear(torch.ones(3, 4), w, b)
    # torch 2.13: AddmmBackward0 -> (AccumulateGrad(b), TBackward0 -> AccumulateGrad(w))
    assert y.grad_fn.name() == "AddmmBackward0"
    nf = [n.name() for n, _ in y.grad_fn.next_functions if n is not None]
    assert nf == ["torch::autograd::AccumulateGrad", "TBackward0"]
