"""RNNCell / GRUCell / LSTMCell: PyTorch's equations checked against NumPy, eager and
scripted (a time loop over a cell), gradients flow to every parameter."""
from typing import List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch

nn = torch.nn


def _np(t):
    return t.detach().numpy().astype(np.float64)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _lin(x, w, b):
    return x @ _np(w).T + (_np(b) if b is not None else 0)


def test_cells_match_numpy():
    torch.manual_seed(0)
    x, h, c = torch.rand(3, 4), torch.rand(3, 5), torch.rand(3, 5)
    X, H, C = _np(x), _np(h), _np(c)
    rnn = nn.RNNCell(4, 5)
    np.testing.assert_allclose(_np(rnn(x, h)), np.tanh(_lin(X, rnn.weight_ih, rnn.bias_ih) +
                                                       _lin(H, rnn.weight_hh, rnn.bias_hh)),
                               rtol=1e-5, atol=1e-6)
    gru = nn.GRUCell(4, 5)
    gi, gh = _lin(X, gru.weight_ih, gru.bias_ih), _lin(H, gru.weight_hh, gru.bias_hh)
    r, z = _sig(gi[:, :5] + gh[:, :5]), _sig(gi[:, 5:10] + gh[:, 5:10])
    n = np.tanh(gi[:, 10:] + r * gh[:, 10:])
    np.testing.assert_allclose(_np(gru(x, h)), (1 - z) * n + z * H, rtol=1e-5, atol=1e-6)
    lstm = nn.LSTMCell(4, 5, bias=False)
    g = _lin(X, lstm.weight_ih, None) + _lin(H, lstm.weight_hh, None)
    c2 = _sig(g[:, 5:10]) * C + _sig(g[:, :5]) * np.tanh(g[:, 10:15])
    h2, cc = lstm(x, (h, c))
    np.testing.assert_allclose(_np(cc), c2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(h2), _sig(g[:, 15:]) * np.tanh(c2), rtol=1e-5, atol=1e-6)
    assert gru(x).shape == (3, 5) and repr(lstm) == "LSTMCell(4, 5, bias=False)"
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNNCell(2, 2, nonlinearity="sigmoid")


class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRUCell(4, 6)
        self.lstm = nn.LSTMCell(6, 3)

    def forward(self, xs, state: Optional[Tuple[torch.Tensor, torch.Tensor]] = None):
        prev: Optional[torch.Tensor] = None
        outs: List[torch.Tensor] = []
        for t in range(xs.size(0)):
            h = self.gru(xs[t], prev)
            prev = h
            state = self.lstm(h, state)
            outs.append(state[0])
        return torch.stack(outs)


def test_scripted_time_loop_matches_eager_and_trains():
    torch.manual_seed(1)
    m = Seq()
    s = torch.jit.script(m)
    xs = torch.rand(5, 2, 4)
    for _ in range(2):
        np.testing.assert_allclose(_np(s(xs)), _np(m(xs)), rtol=1e-5, atol=1e-6)
    s(xs).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
