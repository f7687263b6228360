"""ATen's low-level recurrent cells at torch.*, with their weights passed explicitly
(torch.rnn_tanh_cell, rnn_relu_cell, lstm_cell, gru_cell, as nn.RNNCell calls them in
PyTorch), composed of registry ops (`_from_source`: scripted code compiles them; autograd
follows their ops). The flat-weights layers (torch.lstm, gru, rnn_tanh, rnn_relu) are
registry ops: ops/nn_rnn.py.
"""
from typing import List, Optional, Tuple

import gpujit as _gpujit
from gpujit.tensor import Tensor
from . import functional as F

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


def _from_source(fn):
    fn.__gpujit_script_source__ = True
    return fn


# ---------------------------------------------------------------------- cells

# (each as ATen's cell computes it, RNN.cpp: the same ops in the same order, in place where
# it writes in place, so a trace records what torch 2.13's records, `aten::linear(hx, ...)`
# first, then `aten::add_`, `aten::unsafe_chunk`, `aten::sigmoid_` ..., and the numbers
# round as torch's)

@_from_source
def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih: Optional[Tensor] = None,
                  b_hh: Optional[Tensor] = None):
    """h' = tanh(h w_hh^T + b_hh + x w_ih^T + b_ih)."""
    return _gpujit.tanh(F.linear(hx, w_hh, b_hh).add_(F.linear(input, w_ih, b_ih)))


@_from_source
def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih: Optional[Tensor] = None,
                  b_hh: Optional[Tensor] = None):
    """h' = relu(h w_hh^T + b_hh + x w_ih^T + b_ih)."""
    return _gpujit.relu(F.linear(hx, w_hh, b_hh).add_(F.linear(input, w_ih, b_ih)))


@_from_source
def lstm_cell(input, hx: List[Tensor], w_ih, w_hh, b_ih: Optional[Tensor] = None,
              b_hh: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """(h', c') from hx = [h, c]; gates i, f, g, o in that order."""
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    gates = F.linear(hx[0], w_hh, b_hh).add_(F.linear(input, w_ih, b_ih))
    chunks = gates.unsafe_chunk(4, 1 if gates.dim() > 1 else 0)
    ingate = chunks[0].sigmoid_()
    forgetgate = chunks[1].sigmoid_()
    cellgate = chunks[2].tanh_()
    outgate = chunks[3].sigmoid_()
    cy = (forgetgate * hx[1]).add_(ingate * cellgate)
    hy = outgate * cy.tanh()
    return hy, cy


@_from_source
def gru_cell(input, hx, w_ih, w_hh, b_ih: Optional[Tensor] = None,
             b_hh: Optional[Tensor] = None):
    """h' = (h - n) * z + n; gates r, z, n in that order."""
    gi = F.linear(input, w_ih, b_ih)
    d = 1 if gi.dim() > 1 else 0
    i = gi.unsafe_chunk(3, d)
    h = F.linear(hx, w_hh, b_hh).unsafe_chunk(3, d)
    reset_gate = h[0].add_(i[0]).sigmoid_()
    input_gate = h[1].add_(i[1]).sigmoid_()
    new_gate = i[2].add(h[2].mul_(reset_gate)).tanh_()
    return (hx - new_gate).mul_(input_gate).add_(new_gate)
