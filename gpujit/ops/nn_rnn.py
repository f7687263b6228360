"""ATen's flat-weights recurrent layers: aten::lstm.input, aten::gru.input,
aten::rnn_tanh.input, aten::rnn_relu.input (torch.lstm ..., what nn.LSTM / nn.GRU / nn.RNN
call), one op each as PyTorch's, so a trace of the layer records one node with the
weights list (`torch.lstm(input, [hx, cx], [w_ih, w_hh, b_ih, b_hh, ...], True, 1, 0.,
True, False, False)`), a script calls the builtin, and a saved trace runs on other
sequence lengths and batches.

The op is PyTorch's CompositeImplicitAutograd: `_layers`, a time loop of registry ops,
computes it; with gradients that loop records them (op.composite), so autograd flows
through its ops (the output's grad_fn is the loop's last node, as PyTorch's off cuDNN /
MKL-DNN). While tracing the loop runs with the trace paused and the op is recorded once
(op.traced). `params` lists per layer and direction (forward, then reverse) w_ih, w_hh,
then b_ih, b_hh when has_biases, then w_hr for an LSTM with projections.
"""
from __future__ import annotations

from .derivatives import nondifferentiable as _nondifferentiable
from .meta import TensorMeta
from .registry import op

_MODES = {"lstm": 3, "gru": 2, "rnn_relu": 1, "rnn_tanh": 0}


def _layers(mode, input, hx, params, has_biases, num_layers, dropout, train,
            bidirectional, batch_first):
    """(output, [h_n] or [h_n, c_n]) of the layers; hx [h0] or [h0, c0]. Each direction's
    input projections are one linear over all time steps, then the loop of cells."""
    import gpujit
    from ..nn import functional as F
    if input.dim() != 3:
        raise RuntimeError(f"input must have 3 dimensions, got {input.dim()}")
    x = input.transpose(0, 1) if batch_first else input
    dirs = 2 if bidirectional else 1
    per = 4 if has_biases else 2
    stride = per + 1 if mode == 3 and len(params) == num_layers * dirs * (per + 1) else per
    if len(params) != num_layers * dirs * stride:
        raise RuntimeError(f"expected {num_layers * dirs * per} parameters for "
                           f"{num_layers} layer(s), got {len(params)}")
    steps = x.size(0)
    if steps == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    finals = [[] for _ in hx]
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            base = k * stride
            w_ih, w_hh = params[base], params[base + 1]
            b_ih = params[base + 2] if has_biases else None
            b_hh = params[base + 3] if has_biases else None
            w_hr = params[base + per] if stride == per + 1 else None
            gi = F.linear(x, w_ih, b_ih)
            state = [s[k] for s in hx]
            ys = []
            for s in range(steps):
                t = steps - 1 - s if d == 1 else s
                gh = F.linear(state[0], w_hh, b_hh)
                if mode == 3:
                    i, f, g, o = (gi[t] + gh).chunk(4, -1)
                    c = gpujit.sigmoid(f) * state[1] + gpujit.sigmoid(i) * gpujit.tanh(g)
                    h = gpujit.sigmoid(o) * gpujit.tanh(c)
                    if w_hr is not None:
                        h = F.linear(h, w_hr)
                    state = [h, c]
                elif mode == 2:
                    i_r, i_z, i_n = gi[t].chunk(3, -1)
                    h_r, h_z, h_n = gh.chunk(3, -1)
                    r = gpujit.sigmoid(i_r + h_r)
                    z = gpujit.sigmoid(i_z + h_z)
                    n = gpujit.tanh(i_n + r * h_n)
                    state = [(1 - z) * n + z * state[0]]
                elif mode == 1:
                    state = [gpujit.relu(gi[t] + gh)]
                else:
                    state = [gpujit.tanh(gi[t] + gh)]
                ys.append(state[0])
            out = gpujit.stack(ys, 0)
            outs.append(out.flip([0]) if d == 1 else out)
            for f_, s_ in zip(finals, state):
                f_.append(s_)
        x = gpujit.cat(outs, 2) if dirs == 2 else outs[0]
        if dropout > 0.0 and train and layer < num_layers - 1:
            x = F.dropout(x, dropout, True)
    out = x.transpose(0, 1) if batch_first else x
    return out, [gpujit.stack(f_, 0) for f_ in finals]


def _composite(name):
    mode = _MODES[name]

    def composite(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                  batch_first):
        if mode == 3 and len(hx) != 2:
            raise RuntimeError("lstm expects two hidden states")
        out, states = _layers(mode, input, list(hx) if mode == 3 else [hx], list(params),
                              has_biases, num_layers, dropout, train, bidirectional,
                              batch_first)
        return (out, *states)
    composite.__name__ = f"{name}_composite"
    return composite


def _impl(composite):
    """The eager body: the arrays as Tensors again, the loop run unrecorded (no gradients,
    nothing traced), its Tensors' arrays handed back."""
    def impl(xp, input, hx, params, *rest):
        from ..library import _unrecorded
        from .registry import wrap_array
        from ..tensor import Tensor
        dev = None

        def t(a):
            nonlocal dev
            if a is None or isinstance(a, Tensor):
                return a
            if dev is None:
                from ..device import device_of_array
                dev = device_of_array(a)
            return wrap_array(a, dev)
        input = t(input)
        hx = [t(h) for h in hx] if isinstance(hx, (list, tuple)) else t(hx)
        params = [t(p) for p in params]
        with _unrecorded():
            r = composite(input, hx, params, *rest)
        return tuple(e._data for e in r)
    return impl


def _traced(opdef, composite):
    """While tracing: the loop computes with the trace paused (gradients recorded as
    eagerly), and the trace records the op itself, as PyTorch's tracer records
    CompositeImplicitAutograd ops."""
    def traced(*args):
        from ..frontend.tracer import current_session
        from ..ops.registry import dispatch_state
        s = current_session()
        saved, s.paused = s.paused, True
        try:
            if any(getattr(a, "requires_grad", False) for a in _tensors(args)) and \
                    _grad_enabled():
                result = composite(*args)
            else:
                result = dispatch_state.compute(opdef, list(args))
        finally:
            s.paused = saved
        return s.record(opdef, args, result)
    return traced


def _tensors(args):
    for a in args:
        if isinstance(a, (list, tuple)):
            yield from a
        else:
            yield a


def _grad_enabled():
    from ..autograd import grad_mode
    return grad_mode.is_grad_enabled()


_REST = ("bool has_biases, int num_layers, float dropout, bool train, bool bidirectional, "
         "bool batch_first")


def _meta(name):
    def meta(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
        """output (L, N, D * H_out) (batch_first: (N, L, ...)), and the final states
        shaped as hx's."""
        states = list(hx) if name == "lstm" else [hx]
        h_out = states[0].shape[-1]
        dirs = 2 if bidirectional else 1
        shape = tuple(input.shape[:2]) + (dirs * h_out,)
        return (TensorMeta(input.dtype, shape, input.device),
                *(TensorMeta(input.dtype, tuple(s.shape), input.device) for s in states))
    return meta


def _declare(name, hx, returns):
    c = _composite(name)
    d = op(f"aten::{name}.input(Tensor input, {hx}, Tensor[] params, {_REST}) -> {returns}",
           tags={"nn"}, meta=_meta(name), method=False)(_impl(c)).op
    d.composite = c
    d.traced = _traced(d, c)
    return d


lstm = _declare("lstm", "Tensor[] hx", "(Tensor, Tensor, Tensor)")
gru = _declare("gru", "Tensor hx", "(Tensor, Tensor)")
rnn_tanh = _declare("rnn_tanh", "Tensor hx", "(Tensor, Tensor)")
rnn_relu = _declare("rnn_relu", "Tensor hx", "(Tensor, Tensor)")

_nondifferentiable(lstm, gru, rnn_tanh, rnn_relu, reason=(
    "CompositeImplicitAutograd, as PyTorch's: with an input that requires grad the op runs "
    "as its composite (the time loop's registry ops record the gradients), also while "
    "tracing (op.traced), so the op's own node is never recorded for autograd"))
