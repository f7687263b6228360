"""Tracing against torch.jit.trace 2.13 (session 44, b44).

1. nn.LSTM / nn.GRU / nn.RNN: torch's trace records ONE node, aten::lstm / aten::gru /
   aten::rnn_tanh / aten::rnn_relu, with the flat weights list
   (`_3, _4, _5 = torch.lstm(input, _1, _2, True, 2, 0., True, False, False)`); gpujit's
   trace held the inlined scripted time loop (~200 lines). Now the four are registry ops
   (ops/nn_rnn.py) the layers call, eagerly, scripted and traced.
"""

import numpy as np
import pytest

import gpujit as torch
from trace_util import quiet_trace as _quiet_trace, real_torch as _torch, round_trip as _round_trip


def _body(code):
    """The statements of a .code text (without the def lines)."""
    lines = code.strip().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.rstrip().endswith(":"))
    return [ln.strip() for ln in lines[start + 1:]]


# ------------------------------------------------------------------ 1. recurrent layers
_RNN_CASES = {
    "lstm2": ("LSTM", dict(num_layers=2)),
    "lstm_bi_bf_proj": ("LSTM", dict(bidirectional=True, batch_first=True, proj_size=2)),
    "gru_bi_bf_2": ("GRU", dict(batch_first=True, bidirectional=True, num_layers=2)),
    "rnn_relu": ("RNN", dict(nonlinearity="relu")),
    "rnn_tanh_nobias": ("RNN", dict(bias=False)),
}

_LSTM2_CODE = [
    "bias_hh_l1 = self.bias_hh_l1",
    "bias_ih_l1 = self.bias_ih_l1",
    "weight_hh_l1 = self.weight_hh_l1",
    "weight_ih_l1 = self.weight_ih_l1",
    "bias_hh_l0 = self.bias_hh_l0",
    "bias_ih_l0 = self.bias_ih_l0",
    "weight_hh_l0 = self.weight_hh_l0",
    "weight_ih_l0 = self.weight_ih_l0",
    "max_batch_size = ops.prim.NumToTensor(torch.size(input, 1))",
    "_0 = int(max_batch_size)",
    'hx = torch.zeros([2, int(max_batch_size), 4], dtype=6, layout=None, '
    'device=torch.device("cpu"), pin_memory=False)',
    'hx0 = torch.zeros([2, _0, 4], dtype=6, layout=None, device=torch.device("cpu"), '
    'pin_memory=False)',
    "_1 = [hx, hx0]",
    "_2 = [weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_ih_l1, weight_hh_l1, "
    "bias_ih_l1, bias_hh_l1]",
    "_3, _4, _5 = torch.lstm(input, _1, _2, True, 2, 0., True, False, False)",
    "return (_3, (_4, _5))",
]


def _rnn(tr, case):
    cls, kw = _RNN_CASES[case]
    tr.manual_seed(0)
    return getattr(tr.nn, cls)(3, 4, **kw)


def _same_weights(m, pm):
    m.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in pm.state_dict().items()})


def test_traced_lstm_is_one_node():
    m = _rnn(torch, "lstm2")
    t = _quiet_trace(torch, m, (torch.randn(5, 2, 3),))
    kinds = [n.kind for n in t.graph.nodes if n.kind.startswith("aten::")]
    assert kinds == ["aten::size", "aten::Int", "aten::Int", "aten::zeros", "aten::zeros",
                     "aten::lstm"]
    assert _body(t.code) == _LSTM2_CODE


def test_traced_lstm_code_as_torch():
    pt = _torch()
    t = _quiet_trace(torch, _rnn(torch, "lstm2"), (torch.randn(5, 2, 3),))
    pt_t = _quiet_trace(pt, _rnn(pt, "lstm2"), (pt.randn(5, 2, 3),))
    assert _body(t.code) == _body(pt_t.code)


@pytest.mark.parametrize("case", sorted(_RNN_CASES))
def test_traced_rnn_nodes_as_torch(case):
    """One recurrent node, its kind and its inputs' constants as torch's."""
    def summary(tr, t):
        nodes = [n for n in t.graph.nodes() if n.kind() in (
            "aten::lstm", "aten::gru", "aten::rnn_tanh", "aten::rnn_relu")]
        assert len(nodes) == 1
        n = nodes[0]
        ins = list(n.inputs())
        consts = [i.toIValue() for i in ins[3:]]
        wl = ins[2].node()
        return n.kind(), len(ins), consts, wl.kind(), [
            i.debugName() for i in wl.inputs()], len(list(n.outputs()))
    x = np.random.RandomState(0).randn(5, 2, 3).astype(np.float32)
    got = summary(torch, _quiet_trace(torch, _rnn(torch, case), (torch.tensor(x),)))
    assert got[0] == "aten::" + {"LSTM": "lstm", "GRU": "gru"}.get(
        _RNN_CASES[case][0], "rnn_relu" if case == "rnn_relu" else "rnn_tanh")
    pt = pytest.importorskip("torch")
    want = summary(pt, _quiet_trace(pt, _rnn(pt, case), (pt.tensor(x),)))
    assert got == want


@pytest.mark.parametrize("case", sorted(_RNN_CASES))
def test_traced_rnn_generalizes_and_saves(case):
    """The traced / saved-and-loaded / scripted layer on other sequence lengths and batches
    computes what the eager layer does (and torch's, where installed), with gradients."""
    m = _rnn(torch, case)
    rs = np.random.RandomState(1)
    t = _quiet_trace(torch, m, (torch.tensor(rs.randn(5, 2, 3).astype(np.float32)),))
    loaded = _round_trip(torch, t)
    scripted = torch.jit.script(m)
    x2 = rs.randn(7, 3, 3).astype(np.float32)
    want = m(torch.tensor(x2))
    for mod in (t, loaded, scripted):
        got = mod(torch.tensor(x2))
        np.testing.assert_allclose(got[0].detach().numpy(), want[0].detach().numpy(),
                                   rtol=1e-6, atol=1e-6)
    xa = torch.tensor(x2, requires_grad=True)
    t(xa)[0].sum().backward()
    xb = torch.tensor(x2, requires_grad=True)
    m.zero_grad()
    m(xb)[0].sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=1e-5, atol=1e-6)
    try:
        import torch as pt
    except ImportError:
        return
    pm = _rnn(pt, case)
    _same_weights(m, pm)
    xc = pt.tensor(x2, requires_grad=True)
    po = pm(xc)
    po[0].sum().backward()
    xa.grad = None
    got = t(xa)
    got[0].sum().backward()
    np.testing.assert_allclose(got[0].detach().numpy(), po[0].detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xa.grad.numpy(), xc.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_traced_lstm_unbatched_with_state_as_torch():
    """An unbatched input with (h0, c0) given: unsqueezes, one aten::lstm, squeezes."""
    expected = [
        "bias_hh_l0 = self.bias_hh_l0",
        "bias_ih_l0 = self.bias_ih_l0",
        "weight_hh_l0 = self.weight_hh_l0",
        "weight_ih_l0 = self.weight_ih_l0",
        "_0, _1, = hx",
        "input0 = torch.unsqueeze(input, 1)",
        "hx0 = torch.unsqueeze(_0, 1)",
        "hx1 = torch.unsqueeze(_1, 1)",
        "_2 = [hx0, hx1]",
        "_3 = [weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0]",
        "output, _4, _5 = torch.lstm(input0, _2, _3, True, 1, 0., True, False, False)",
        "_6 = torch.squeeze(output, 1)",
        "_7 = (torch.squeeze(_4, 1), torch.squeeze(_5, 1))",
        "return (_6, _7)",
    ]

    def code(tr):
        m = tr.nn.LSTM(3, 4)
        return _body(_quiet_trace(tr, m, (tr.randn(5, 3), (tr.zeros(1, 4), tr.zeros(1, 4))))
                     .code)
    assert code(torch) == expected
    try:
        import torch as pt
    except ImportError:
        return
    assert code(pt) == expected


def test_traced_lstm_dropout_records_the_op():
    """Training dropout between layers: the node takes the rate and train=True, so each
    replay draws its own mask (as torch's), nothing baked in."""
    m = torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    t = _quiet_trace(torch, m, (torch.randn(5, 2, 3),), check_trace=False)
    assert "torch.lstm(input, _1, _2, True, 2, 0.5, True, False, False)" in t.code
    x = torch.randn(4, 2, 3)
    assert not torch.equal(t(x)[0], t(x)[0])
    m.eval()
    te = _quiet_trace(torch, m, (torch.randn(5, 2, 3),))
    assert "torch.lstm(input, _1, _2, True, 2, 0.5, False, False, False)" in te.code
    assert torch.equal(te(x)[0], m(x)[0])


def test_scripted_lstm_calls_the_builtin():
    m = torch.nn.LSTM(3, 4)
    s = torch.jit.script(m)
    assert "aten::lstm" in [n.kind for n in s.graph.nodes]
    x = torch.randn(5, 2, 3)
    assert torch.equal(s(x)[0], m(x)[0])


def test_functional_rnn_ops():
    """torch.gru / lstm called directly: one op (a trace records it), gradients through
    the time loop's ops, torch's values where installed."""
    rs = np.random.RandomState(2)
    x = rs.randn(4, 2, 3).astype(np.float32)
    h = rs.randn(1, 2, 5).astype(np.float32)
    ws = [rs.randn(15, 3).astype(np.float32), rs.randn(15, 5).astype(np.float32)]

    def f(tr, x, h, w0, w1):
        return tr.gru(x, h, [w0, w1], False, 1, 0.0, False, False, False)
    args = [torch.tensor(a, requires_grad=True) for a in (x, h, *ws)]
    out, hn = f(torch, *args)
    assert out.grad_fn.name() == "StackBackward0"
    t = _quiet_trace(torch, lambda *a: f(torch, *a), tuple(args))
    assert [n.kind for n in t.graph.nodes if n.kind.startswith("aten::")] == ["aten::gru"]
    (out.sum() + hn.sum()).backward()
    grads = [a.grad.numpy() for a in args]
    try:
        import torch as pt
    except ImportError:
        return
    pargs = [pt.tensor(a, requires_grad=True) for a in (x, h, *ws)]
    pout, phn = f(pt, *pargs)
    (pout.sum() + phn.sum()).backward()
    np.testing.assert_allclose(out.detach().numpy(), pout.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    for g, pa in zip(grads, pargs):
        np.testing.assert_allclose(g, pa.grad.numpy(), rtol=1e-4, atol=1e-5)
