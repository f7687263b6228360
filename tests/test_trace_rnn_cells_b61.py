"""A traced nn.LSTMCell / GRUCell / RNNCell records what torch 2.13's trace records (b61):
ATen's cell decomposition (hh's aten::linear first, aten::add_, aten::unsafe_chunk, the
in-place gates sigmoid_ / tanh_, GRU's `(hx - n).mul_(z).add_(n)`), with torch's numbers
(the cells' size checks and autograd's own copy for an in-place op's double backward are
not recorded) and names (LSTMCell's `%value`, its loop's hx[1]); gpujit recorded its own
decomposition (`aten::chunk(%gates, 4, -1)`, sigmoid out of place). The cells' numbers are
ATen's too (GRU's h' as ATen rounds it). Expected texts: torch 2.13's."""
import re

import numpy as np

import gpujit as torch

nn = torch.nn


def _g(t):
    return re.sub(r" # \S+", "", str(t.graph))


def _ops(t):
    return re.findall(r"= (aten::\w+)\(", _g(t))


def test_lstm_cell_trace():
    m = nn.LSTMCell(3, 4)
    t = torch.jit.trace(m, (torch.rand(2, 3), (torch.rand(2, 4), torch.rand(2, 4))))
    assert _ops(t) == ["aten::linear", "aten::linear", "aten::add_", "aten::unsafe_chunk",
                       "aten::sigmoid_", "aten::sigmoid_", "aten::tanh_", "aten::sigmoid_",
                       "aten::mul", "aten::mul", "aten::add_", "aten::tanh", "aten::mul"]
    g = _g(t)
    assert "%9 : Float(2, 4, strides=[4, 1], requires_grad=0, device=cpu), %value : Float(" \
        "2, 4, strides=[4, 1], requires_grad=0, device=cpu) = prim::TupleUnpack(%hx)" in g
    assert "%11 : Float(2, 16, strides=[16, 1], requires_grad=1, device=cpu) = " \
           "aten::linear(%9, %weight_hh, %bias_hh)" in g
    assert "%26 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu) = " \
           "aten::mul(%23, %value)" in g
    assert "return (%32)" in g
    assert "  _3 = torch.unsafe_chunk(torch.add_(_1, _2), 4, 1)\n" in t.code


def test_gru_cell_trace():
    t = torch.jit.trace(nn.GRUCell(3, 4), (torch.rand(2, 3), torch.rand(2, 4)))
    g = _g(t)
    assert "%29 : Float(2, 4, strides=[12, 1], requires_grad=1, device=cpu) = " \
           "aten::mul_(%22, %25)" in g
    assert "%34 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu) = " \
           "aten::sub(%hx, %32, %33)" in g
    assert "%37 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu) = " \
           "aten::add_(%35, %32, %36)" in g
    assert "return (%37)" in g


def test_rnn_cell_and_default_state_traces():
    t = torch.jit.trace(nn.RNNCell(3, 4), (torch.rand(2, 3), torch.rand(2, 4)))
    assert "%9 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::linear(" \
           "%hx, %weight_hh, %bias_hh)" in _g(t)
    assert "%13 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::tanh(" \
           "%12)" in _g(t)
    t = torch.jit.trace(nn.LSTMCell(3, 4), (torch.rand(2, 3),))
    g = _g(t)
    assert "%zeros : Float(2, 4, strides=[4, 1], requires_grad=0, device=cpu) = " \
           "aten::zeros(%13, %14, %15, %16, %17)" in g
    assert "%19 : Float(2, 16, strides=[16, 1], requires_grad=1, device=cpu) = " \
           "aten::linear(%zeros, %weight_hh, %bias_hh)" in g
    assert "return (%40)" in g


def _np_gru(x, h, wi, wh, bi, bh):
    gi, gh = x @ wi.T + bi, h @ wh.T + bh
    r = 1 / (1 + np.exp(-(gh[:, :4] + gi[:, :4])))
    z = 1 / (1 + np.exp(-(gh[:, 4:8] + gi[:, 4:8])))
    n = np.tanh(gi[:, 8:] + gh[:, 8:] * r)
    return (h - n) * z + n


def test_cells_values_and_gradients():
    torch.manual_seed(0)
    m = nn.GRUCell(3, 4)
    x, h = torch.rand(2, 3), torch.rand(2, 4, requires_grad=True)
    out = m(x, h)
    ref = _np_gru(x.numpy().astype(np.float64), h.detach().numpy().astype(np.float64),
                  *(p.detach().numpy().astype(np.float64) for p in
                    (m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh)))
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    assert h.grad is not None and m.weight_ih.grad.shape == (12, 3)
    # an in-place op's double backward still sees the value before its write
    a, b = torch.rand(3, requires_grad=True), torch.rand(3, requires_grad=True)
    g, = torch.autograd.grad((a * 1).mul_(b).sum(), b, create_graph=True)
    ga, = torch.autograd.grad(g.sum(), a)
    assert ga.tolist() == [1.0, 1.0, 1.0]
