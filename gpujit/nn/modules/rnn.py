"""Recurrent layers as torch.nn has them: RNN, LSTM (with proj_size), GRU (the cells
RNNCell, GRUCell, LSTMCell are in `rnn_cells.py`, re-exported here as torch.nn.modules.rnn
has them) — PyTorch's equations, parameter names (weight_ih_l0, ..._reverse, weight_hr_l0)
and initialisation (U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))). Written with registry
ops (linear, sigmoid, tanh, chunk, stack) in a loop over time steps, so they run eagerly,
record gradients, trace and script. A padded batch goes through one op, torch.lstm / gru /
rnn_tanh / rnn_relu (ops/nn_rnn.py), as PyTorch's _VF call, so a trace records its node. The
layers take PackedSequence input too (eagerly: the packed path is Python code, as
TorchScript's forward overload for it is)."""
from __future__ import annotations

import copy
import math
import numbers
import warnings
import weakref
from typing import List, Optional, Tuple

import gpujit
from ...tensor import Tensor
from .. import functional as F, init
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .rnn_cells import RNNCellBase, RNNCell, GRUCell, LSTMCell

__all__ = ["RNNCellBase", "RNNCell", "GRUCell", "LSTMCell", "RNNBase", "RNN", "LSTM", "GRU"]


class RNNBase(Module):
    """What RNN, LSTM and GRU share: PyTorch's constructor checks, parameters (per layer and
    direction: weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, weight_hr_l{k},
    "_reverse" for the backward direction), `_flat_weights` in that order, `all_weights`,
    and the layer / time loop. A subclass gives `_cell(gi, gh, state, base)`: gi, gh the
    input and hidden projections (biases added) of one step, state [h] or [h, c]; it
    returns the new state, whose [0] is the step's output."""
    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias",
                     "batch_first", "dropout", "bidirectional", "proj_size"]
    __jit_unused_properties__ = ["all_weights"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, "
                          "so non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        for name, v in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(v, bool):
                raise TypeError(f"{name} should be of type bool, got: {type(v).__name__}")
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int):
                raise TypeError(f"{name} should be of type int, got: {type(v).__name__}")
            if v <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        gates = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}.get(mode)
        if gates is None:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = gates * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                in_size = input_size if layer == 0 else real_hidden * num_directions
                shapes = [(gate_size, in_size), (gate_size, real_hidden)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    shapes.append((proj_size, hidden_size))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for n, shape in zip(names, shapes):
                    setattr(self, n, Parameter(gpujit.empty(shape, **kw)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self._init_flat_weights()
        self.reset_parameters()

    def _init_flat_weights(self):
        self._flat_weights = [getattr(self, n) if hasattr(self, n) else None
                              for n in self._flat_weights_names]

    def __setattr__(self, attr, value):
        if "_flat_weights_names" in self.__dict__ and attr in self._flat_weights_names \
                and "_flat_weights" in self.__dict__:
            # keep self._flat_weights up to date when a weight is reassigned
            self._flat_weights[self._flat_weights_names.index(attr)] = value
        super().__setattr__(attr, value)

    def _apply(self, *args, **kwargs):
        ret = super()._apply(*args, **kwargs)
        self._init_flat_weights()
        return ret

    def flatten_parameters(self):
        """cuDNN's weight-buffer compaction: nothing to do here (a no-op, as in PyTorch off
        cuDNN)."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def all_weights(self):
        return [[getattr(self, w) for w in ws] for ws in self._all_weights]

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ---- checks (PyTorch's messages) ----
    def _check_input(self, input: Tensor, packed: bool):
        if not gpujit.jit.is_scripting():
            if input.dtype != self._flat_weights[0].dtype:
                w = self._flat_weights[0].dtype
                raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                                 f"({w}). Convert input: input.to({w}), or convert model: "
                                 f"model.to({input.dtype})")
        expected = 2 if packed else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def _check_hidden(self, hx: Tensor, size: int, batch: int, msg: str):
        D = 2 if self.bidirectional else 1
        expected = [self.num_layers * D, batch, size]
        if hx.dim() != 3 or hx.size(0) != expected[0] or hx.size(1) != expected[1] or \
                hx.size(2) != expected[2]:
            raise RuntimeError(msg + f" size ({expected[0]}, {expected[1]}, {expected[2]}), "
                               f"got {list(hx.size())}")

    # ---- the layer / time loop ----
    def _per_direction(self) -> int:
        n = 4 if self.bias else 2
        return n + 1 if self.proj_size > 0 else n

    def _projections(self, x: Tensor, base: int) -> Tensor:
        gi = F.linear(x, self._flat_weights[base])
        if self.bias:
            gi = gi + self._flat_weights[base + 2]
        return gi

    def _hidden_proj(self, h: Tensor, base: int) -> Tensor:
        gh = F.linear(h, self._flat_weights[base + 1])
        if self.bias:
            gh = gh + self._flat_weights[base + 3]
        return gh

    def _run_packed(self, data: Tensor, batch_sizes: Tensor,
                    hx: List[Tensor]) -> Tuple[Tensor, List[Tensor]]:
        """The packed loop: step t runs the first batch_sizes[t] rows; rows past them keep
        their state (finished sequences forwards, not yet started ones backwards)."""
        D = 2 if self.bidirectional else 1
        per = self._per_direction()
        bsz: List[int] = []
        for i in range(batch_sizes.size(0)):
            bsz.append(int(batch_sizes[i]))
        offs: List[int] = [0]
        for b in bsz:
            offs.append(offs[-1] + b)
        steps = len(bsz)
        finals: List[List[Tensor]] = []
        for _ in range(len(hx)):
            finals.append([])
        for layer in range(self.num_layers):
            outs_dir: List[Tensor] = []
            for direction in range(D):
                idx = layer * D + direction
                base = idx * per
                state: List[Tensor] = []
                for s0 in hx:
                    state.append(s0[idx])
                gi = self._projections(data, base)
                outs: List[Tensor] = []
                for s in range(steps):
                    t = s if direction == 0 else steps - 1 - s
                    bs = bsz[t]
                    cur: List[Tensor] = []
                    for st in state:
                        cur.append(st[:bs])
                    new = self._cell(gi[offs[t]:offs[t + 1]],
                                     self._hidden_proj(cur[0], base), cur, base)
                    kept: List[Tensor] = []
                    for k in range(len(new)):
                        if bs == state[k].size(0):
                            kept.append(new[k])
                        else:
                            kept.append(gpujit.cat([new[k], state[k][bs:]], 0))
                    state = kept
                    outs.append(new[0])
                if direction == 1:
                    outs.reverse()
                outs_dir.append(gpujit.cat(outs, 0))
                for k in range(len(state)):
                    finals[k].append(state[k])
            data = outs_dir[0] if D == 1 else gpujit.cat(outs_dir, 1)
            if self.dropout > 0.0 and self.training and layer < self.num_layers - 1:
                data = F.dropout(data, self.dropout, True)
        hn: List[Tensor] = []
        for f in finals:
            hn.append(gpujit.stack(f, 0))
        return data, hn

    # scripted code calls forward_packed where forward's input is a PackedSequence
    # (TorchScript's @_overload_method forward overloads of nn.LSTM / nn.GRU)
    __script_overloads__ = {"forward": ("forward_packed",)}

    def _scripted_for_trace(self, packed=False):
        """While tracing, a layer runs as its scripted self, so the trace records the time
        loop (TorchScript's tracer records aten::lstm & co., one op each) and the traced
        module takes other sequence lengths (and packed batch sizes). The scripted module
        shares this one's parameters; it is made again when they are replaced (or change
        dtype/device). For a PackedSequence it is scripted with forward_packed as forward."""
        key = (packed,) + tuple((id(w), w.dtype, str(w.device)) for w in self._flat_weights)
        cache = self.__dict__.get("_trace_script")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_trace_script", cache)
        cached = cache.get(packed)
        if cached is None or cached[0] != key:
            src = self
            if packed:
                src = copy.copy(self)
                src.__class__ = _packed_view_class(type(self))
            scripted = gpujit.jit.script(src)
            object.__setattr__(scripted, "_stands_for", weakref.ref(self))
            cached = cache[packed] = (key, scripted)
        scripted = cached[1]
        scripted.train(self.training)
        return scripted

    def __getstate__(self):
        # (the scripted copy made for tracing is not saved, pickled or deep-copied)
        state = self.__dict__.copy()
        state.pop("_trace_script", None)
        return state

    def _state_sizes(self) -> List[int]:
        return [self.hidden_size]

    def _forward_packed(self, packed: PackedSequence, states: List[Tensor]
                        ) -> Tuple[PackedSequence, List[Tensor]]:
        """A PackedSequence through the layers; states: the initial states in the
        caller's batch order ([] for zeros)."""
        data = packed.data
        batch_sizes = packed.batch_sizes
        sorted_indices = packed.sorted_indices
        unsorted_indices = packed.unsorted_indices
        self._check_input(data, True)
        batch = int(batch_sizes[0])
        D = 2 if self.bidirectional else 1
        hx: List[Tensor] = []
        if len(states) == 0:
            for n in self._state_sizes():
                hx.append(gpujit.zeros(self.num_layers * D, batch, n, dtype=data.dtype,
                                       device=data.device))
        else:
            for st in states:
                if sorted_indices is not None:
                    st = st.index_select(1, sorted_indices)
                hx.append(st)
            self._check_states(hx, batch)
        out, hn = self._run_packed(data, batch_sizes, hx)
        if unsorted_indices is not None:
            back: List[Tensor] = []
            for h in hn:
                back.append(h.index_select(1, unsorted_indices))
            hn = back
        return PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices), hn

    def _check_states(self, states: List[Tensor], batch: int):
        self._check_hidden(states[0], self.hidden_size, batch, "Expected hidden")


_PACKED_VIEWS: dict = {}


def _packed_view_class(cls):
    """A subclass of a layer whose forward is its forward_packed (what is scripted to trace
    a PackedSequence through the layer; see RNNBase._scripted_for_trace)."""
    view = _PACKED_VIEWS.get(cls)
    if view is None:
        view = type(cls.__name__, (cls,), {"forward": cls.forward_packed,
                                           "__script_overloads__": {},
                                           "__module__": cls.__module__})
        _PACKED_VIEWS[cls] = view
    return view


class _SingleStateRNN(RNNBase):
    """RNN and GRU: one state tensor h."""

    def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Runs the forward pass."""
        if not gpujit.jit.is_scripting():
            self._init_flat_weights()
            if isinstance(input, PackedSequence):
                return self.forward_packed(input, hx)
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"{self._prefix()}: Expected input to be 2D or 3D, got "
                             f"{input.dim()}D{self._dim_noun()} instead")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
            if hx is not None:
                if hx.dim() != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but "
                                       f"got {hx.dim()}-D tensor")
                hx = hx.unsqueeze(1)
        else:
            if hx is not None and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                                   f"{hx.dim()}-D tensor")
        max_batch_size = input.size(0) if self.batch_first else input.size(1)
        D = 2 if self.bidirectional else 1
        if hx is None:
            h0 = gpujit.zeros(self.num_layers * D, max_batch_size, self.hidden_size,
                              dtype=input.dtype, device=input.device)
        else:
            h0 = hx
        self._check_input(input, False)
        self._check_hidden(h0, self.hidden_size, max_batch_size, "Expected hidden")
        # (one op, as PyTorch's _VF.gru / rnn_tanh / rnn_relu: a trace records its node)
        if self.mode == "GRU":
            output, hidden = gpujit.gru(input, h0, self._flat_weights, self.bias,
                                        self.num_layers, self.dropout, self.training,
                                        self.bidirectional, self.batch_first)
        elif self.mode == "RNN_TANH":
            output, hidden = gpujit.rnn_tanh(input, h0, self._flat_weights, self.bias,
                                             self.num_layers, self.dropout, self.training,
                                             self.bidirectional, self.batch_first)
        else:
            output, hidden = gpujit.rnn_relu(input, h0, self._flat_weights, self.bias,
                                             self.num_layers, self.dropout, self.training,
                                             self.bidirectional, self.batch_first)
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = hidden.squeeze(1)
        return output, hidden

    def forward_packed(self, input: PackedSequence, hx: Optional[Tensor] = None
                       ) -> Tuple[PackedSequence, Tensor]:
        """forward of a PackedSequence (TorchScript's second forward overload: scripted
        code calls this for `self.rnn(packed)`)."""
        if not gpujit.jit.is_scripting():
            if gpujit.jit.is_tracing():
                return self._scripted_for_trace(True)(input, hx)
        states: List[Tensor] = []
        if hx is not None:
            states.append(hx)
        out, hn = self._forward_packed(input, states)
        return out, hn[0]


class RNN(_SingleStateRNN):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked
    num_layers deep, optionally bidirectional."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             f"or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def _prefix(self) -> str:
        return "RNN"

    def _dim_noun(self) -> str:
        return " tensor"        # (torch's RNN says "got 4D tensor instead", GRU "got 4D")

    def _cell(self, gi: Tensor, gh: Tensor, state: List[Tensor], base: int) -> List[Tensor]:
        if self.mode == "RNN_TANH":
            return [gpujit.tanh(gi + gh)]
        return [gpujit.relu(gi + gh)]


class GRU(_SingleStateRNN):
    """Multi-layer GRU: r, z, n gates as GRUCell, h_t = (1 - z) * n + z * h_{t-1}."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def _prefix(self) -> str:
        return "GRU"

    def _dim_noun(self) -> str:
        return ""

    def _cell(self, gi: Tensor, gh: Tensor, state: List[Tensor], base: int) -> List[Tensor]:
        i_r, i_z, i_n = gi.chunk(3, -1)
        h_r, h_z, h_n = gh.chunk(3, -1)
        r = gpujit.sigmoid(i_r + h_r)
        z = gpujit.sigmoid(i_z + h_z)
        n = gpujit.tanh(i_n + r * h_n)
        return [(1 - z) * n + z * state[0]]


class LSTM(RNNBase):
    """Multi-layer LSTM (gates i, f, g, o as LSTMCell); with proj_size > 0 the hidden
    state is projected, h_t = W_hr (o * tanh(c_t)). Returns (output, (h_n, c_n))."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def _state_sizes(self) -> List[int]:
        return [self.proj_size if self.proj_size > 0 else self.hidden_size, self.hidden_size]

    def _check_states(self, states: List[Tensor], batch: int):
        real = self.proj_size if self.proj_size > 0 else self.hidden_size
        self._check_hidden(states[0], real, batch, "Expected hidden[0]")
        self._check_hidden(states[1], self.hidden_size, batch, "Expected hidden[1]")

    def _cell(self, gi: Tensor, gh: Tensor, state: List[Tensor], base: int) -> List[Tensor]:
        i, f, g, o = (gi + gh).chunk(4, -1)
        c = gpujit.sigmoid(f) * state[1] + gpujit.sigmoid(i) * gpujit.tanh(g)
        h = gpujit.sigmoid(o) * gpujit.tanh(c)
        if self.proj_size > 0:
            h = F.linear(h, self._flat_weights[base + self._per_direction() - 1])
        return [h, c]

    def forward(self, input: Tensor, hx: Optional[Tuple[Tensor, Tensor]] = None
                ) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:
        if not gpujit.jit.is_scripting():
            self._init_flat_weights()
            if isinstance(input, PackedSequence):
                return self.forward_packed(input, hx)
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D "
                             f"instead")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
        max_batch_size = input.size(0) if self.batch_first else input.size(1)
        D = 2 if self.bidirectional else 1
        real = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            h_zeros = gpujit.zeros(self.num_layers * D, max_batch_size, real,
                                   dtype=input.dtype, device=input.device)
            c_zeros = gpujit.zeros(self.num_layers * D, max_batch_size, self.hidden_size,
                                   dtype=input.dtype, device=input.device)
            hx = (h_zeros, c_zeros)
        else:
            # (PyTorch indexes: (h0,) is an IndexError; the names are torch's, which a
            # trace's values take)
            if is_batched:
                if hx[0].dim() != 3 or hx[1].dim() != 3:
                    raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D "
                                       f"but got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            else:
                if hx[0].dim() != 2 or hx[1].dim() != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be "
                                       f"2-D but got ({hx[0].dim()}-D, {hx[1].dim()}-D) "
                                       f"tensors")
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self._check_input(input, False)
        self._check_hidden(hx[0], real, max_batch_size, "Expected hidden[0]")
        self._check_hidden(hx[1], self.hidden_size, max_batch_size, "Expected hidden[1]")
        if not gpujit.jit.is_scripting():
            if len(hx) != 2:
                raise RuntimeError("lstm expects two hidden states")
        # (one op, as PyTorch's _VF.lstm: a trace records its node)
        result = gpujit.lstm(input, [hx[0], hx[1]], self._flat_weights, self.bias,
                             self.num_layers, self.dropout, self.training,
                             self.bidirectional, self.batch_first)
        output = result[0]
        hidden = (result[1], result[2])
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = (hidden[0].squeeze(1), hidden[1].squeeze(1))
        return output, hidden

    def forward_packed(self, input: PackedSequence, hx: Optional[Tuple[Tensor, Tensor]] = None
                       ) -> Tuple[PackedSequence, Tuple[Tensor, Tensor]]:
        """forward of a PackedSequence (TorchScript's second forward overload: scripted
        code calls this for `self.lstm(packed)`)."""
        if not gpujit.jit.is_scripting():
            if gpujit.jit.is_tracing():
                return self._scripted_for_trace(True)(input, hx)
        states: List[Tensor] = []
        if hx is not None:
            states.append(hx[0])
            states.append(hx[1])
        out, hn = self._forward_packed(input, states)
        return out, (hn[0], hn[1])
