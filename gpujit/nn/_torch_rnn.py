"""ATen's low-level recurrent functions at torch.*: the cells with their weights passed
explicitly (torch.rnn_tanh_cell, rnn_relu_cell, lstm_cell, gru_cell, as nn.RNNCell calls
them in PyTorch) and the flat-weights layers (torch.lstm, gru, rnn_tanh, rnn_relu: input,
hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first), composed of
registry ops (`_from_source`: scripted code compiles them; autograd follows their ops).

`params` lists, per layer and per direction (forward, then reverse), w_ih, w_hh, then
b_ih, b_hh when has_biases, then w_hr for an LSTM with projections (proj_size > 0).
PyTorch's packed-sequence overloads (`.data`: data, batch_sizes, ...) are not offered:
nn.LSTM/GRU/RNN take PackedSequence themselves.
"""
from typing import List, Optional, Tuple

import gpujit as _gpujit
from gpujit.tensor import Tensor
from . import functional as F

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell", "lstm", "gru",
           "rnn_tanh", "rnn_relu"]


def _from_source(fn):
    fn.__gpujit_script_source__ = True
    return fn


# ---------------------------------------------------------------------- cells

@_from_source
def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih: Optional[Tensor] = None,
                  b_hh: Optional[Tensor] = None):
    """h' = tanh(x w_ih^T + b_ih + h w_hh^T + b_hh)."""
    return _gpujit.tanh(F.linear(input, w_ih, b_ih) + F.linear(hx, w_hh, b_hh))


@_from_source
def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih: Optional[Tensor] = None,
                  b_hh: Optional[Tensor] = None):
    """h' = relu(x w_ih^T + b_ih + h w_hh^T + b_hh)."""
    return _gpujit.relu(F.linear(input, w_ih, b_ih) + F.linear(hx, w_hh, b_hh))


@_from_source
def lstm_cell(input, hx: List[Tensor], w_ih, w_hh, b_ih: Optional[Tensor] = None,
              b_hh: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """(h', c') from hx = [h, c]; gates i, f, g, o in that order."""
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    gates = F.linear(input, w_ih, b_ih) + F.linear(hx[0], w_hh, b_hh)
    chunks = gates.chunk(4, 1 if gates.dim() > 1 else 0)
    c2 = _gpujit.sigmoid(chunks[1]) * hx[1] + \
        _gpujit.sigmoid(chunks[0]) * _gpujit.tanh(chunks[2])
    h2 = _gpujit.sigmoid(chunks[3]) * _gpujit.tanh(c2)
    return h2, c2


@_from_source
def gru_cell(input, hx, w_ih, w_hh, b_ih: Optional[Tensor] = None,
             b_hh: Optional[Tensor] = None):
    """h' = (1 - z) * n + z * h; gates r, z, n in that order."""
    gi = F.linear(input, w_ih, b_ih)
    gh = F.linear(hx, w_hh, b_hh)
    d = 1 if gi.dim() > 1 else 0
    i = gi.chunk(3, d)
    h = gh.chunk(3, d)
    r = _gpujit.sigmoid(i[0] + h[0])
    z = _gpujit.sigmoid(i[1] + h[1])
    n = _gpujit.tanh(i[2] + r * h[2])
    return (1 - z) * n + z * hx


# ---------------------------------------------------------------------- flat-weights layers

@_from_source
def _aten_rnn_layers(mode: int, input, hx: List[Tensor], params: List[Tensor], has_biases: bool,
            num_layers: int, dropout: float, train: bool, bidirectional: bool,
            batch_first: bool) -> Tuple[Tensor, List[Tensor]]:
    """mode 0 rnn_tanh, 1 rnn_relu, 2 gru, 3 lstm (hx [h0] or [h0, c0]); returns the output
    and the final states stacked over layers * directions."""
    if input.dim() != 3:
        raise RuntimeError("input must have 3 dimensions, got " + str(input.dim()))
    x = input.transpose(0, 1) if batch_first else input
    dirs = 2 if bidirectional else 1
    per = 4 if has_biases else 2
    stride = per
    if mode == 3 and len(params) == num_layers * dirs * (per + 1):
        stride = per + 1                            # an LSTM with projections: w_hr
    if len(params) != num_layers * dirs * stride:
        raise RuntimeError("expected " + str(num_layers * dirs * per) + " parameters for "
                           + str(num_layers) + " layer(s), got " + str(len(params)))
    steps = x.size(0)
    h_n: List[Tensor] = []
    c_n: List[Tensor] = []
    for layer in range(num_layers):
        outs: List[Tensor] = []
        for d in range(dirs):
            k = layer * dirs + d
            base = k * stride
            w_ih = params[base]
            w_hh = params[base + 1]
            b_ih: Optional[Tensor] = None
            b_hh: Optional[Tensor] = None
            if has_biases:
                b_ih = params[base + 2]
                b_hh = params[base + 3]
            h = hx[0][k]
            c = hx[1][k] if mode == 3 else h
            ys: List[Tensor] = []
            for s in range(steps):
                t = steps - 1 - s if d == 1 else s
                xt = x[t]
                if mode == 3:
                    h, c = lstm_cell(xt, [h, c], w_ih, w_hh, b_ih, b_hh)
                    if stride == per + 1:
                        h = F.linear(h, params[base + per], None)
                elif mode == 2:
                    h = gru_cell(xt, h, w_ih, w_hh, b_ih, b_hh)
                elif mode == 1:
                    h = rnn_relu_cell(xt, h, w_ih, w_hh, b_ih, b_hh)
                else:
                    h = rnn_tanh_cell(xt, h, w_ih, w_hh, b_ih, b_hh)
                ys.append(h)
            if d == 1:
                ys.reverse()
            outs.append(_gpujit.stack(ys, 0))
            h_n.append(h)
            c_n.append(c)
        x = _gpujit.cat(outs, 2) if dirs == 2 else outs[0]
        if dropout > 0.0 and train and layer < num_layers - 1:
            x = F.dropout(x, dropout, True, False)
    out = x.transpose(0, 1) if batch_first else x
    states: List[Tensor] = [_gpujit.stack(h_n, 0)]
    if mode == 3:
        states.append(_gpujit.stack(c_n, 0))
    return out, states


@_from_source
def lstm(input, hx: List[Tensor], params: List[Tensor], has_biases: bool, num_layers: int,
         dropout: float, train: bool, bidirectional: bool,
         batch_first: bool) -> Tuple[Tensor, Tensor, Tensor]:
    """torch.lstm: (output, h_n, c_n) from hx = [h_0, c_0]."""
    if len(hx) != 2:
        raise RuntimeError("lstm expects two hidden states")
    out, states = _aten_rnn_layers(3, input, hx, params, has_biases, num_layers, dropout, train,
                          bidirectional, batch_first)
    return out, states[0], states[1]


@_from_source
def gru(input, hx, params: List[Tensor], has_biases: bool, num_layers: int, dropout: float,
        train: bool, bidirectional: bool, batch_first: bool) -> Tuple[Tensor, Tensor]:
    """torch.gru: (output, h_n)."""
    out, states = _aten_rnn_layers(2, input, [hx], params, has_biases, num_layers, dropout, train,
                          bidirectional, batch_first)
    return out, states[0]


@_from_source
def rnn_tanh(input, hx, params: List[Tensor], has_biases: bool, num_layers: int,
             dropout: float, train: bool, bidirectional: bool,
             batch_first: bool) -> Tuple[Tensor, Tensor]:
    """torch.rnn_tanh: (output, h_n) of an Elman RNN with tanh."""
    out, states = _aten_rnn_layers(0, input, [hx], params, has_biases, num_layers, dropout, train,
                          bidirectional, batch_first)
    return out, states[0]


@_from_source
def rnn_relu(input, hx, params: List[Tensor], has_biases: bool, num_layers: int,
             dropout: float, train: bool, bidirectional: bool,
             batch_first: bool) -> Tuple[Tensor, Tensor]:
    """torch.rnn_relu: (output, h_n) of an Elman RNN with relu."""
    out, states = _aten_rnn_layers(1, input, [hx], params, has_biases, num_layers, dropout, train,
                          bidirectional, batch_first)
    return out, states[0]
