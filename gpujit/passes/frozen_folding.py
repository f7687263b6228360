"""Folding of a frozen graph's constant parameters into its convolutions, as TorchScript's
frozen-graph optimizations (`optimize_numerics`) do: `batch_norm(conv(x, W, b))` in eval
mode becomes one convolution with scaled weights (FoldFrozenConvBatchnorm), and a
convolution followed by adding, subtracting, multiplying or dividing by a constant that
acts per output channel takes it into its weight and bias (FoldFrozenConvAddOrSub,
FoldFrozenConvMulOrDiv); `batch_norm(linear(x, W, b))` becomes one linear
(FoldFrozenLinearBatchnorm). Only constants are folded (a graph with its parameters still
attributes is left as it is); the new weights round once where the unfolded graph
rounded twice, so values may differ in the last bits.
"""
from __future__ import annotations

from .constant_propagation import NOT_CONSTANT, constant_value

__all__ = ["fold_frozen_conv_bn", "fold_frozen_conv_add_or_sub",
           "fold_frozen_conv_mul_or_div", "fold_frozen_linear_bn", "fold_frozen_convolutions",
           "fold_frozen_conv_dims"]

_CONVS = frozenset({"aten::conv1d", "aten::conv2d", "aten::conv3d", "aten::_convolution"})
_SHAPE_ONLY = frozenset({"aten::dim", "aten::size", "aten::len"})


def _tensor(v):
    from ..tensor import Tensor
    c = constant_value(v)
    return c if isinstance(c, Tensor) else None


def _conv_of(v):
    """The convolution node producing v, when v is read by nothing else (but shape
    queries) and its weight and bias are constants; else None."""
    n = v.node
    if n.kind not in _CONVS or n.op is None or len(n.inputs) < 3:
        return None
    if n.kind == "aten::_convolution" and constant_value(n.inputs[6]) is not False:
        return None         # (a traced convolution: not a transposed one, as PyTorch's)
    if sum(1 for u in v.uses if u.user.kind not in _SHAPE_ONLY) != 1:
        return None
    w = _tensor(n.inputs[1])
    b = constant_value(n.inputs[2])
    if w is None or not w.is_floating_point() or b is NOT_CONSTANT or (
            b is not None and _tensor(n.inputs[2]) is None):
        return None
    return n


def _replace_conv_parameters(graph, conv, w, b, suffix=None):
    with graph.inserting_before(conv):
        wv = graph.insert_constant(w.detach(), conv.inputs[1].type)
        bv = graph.insert_constant(b.detach())      # (its own type: Float(4), not W's)
    if suffix is not None:
        # (torch's names: the parameters' own with the suffix, `%self.conv.weight_fused_bn`)
        graph.take_name(wv, conv.inputs[1].debug_name + suffix)
        graph.take_name(bv, conv.inputs[2].debug_name + suffix)
    conv.replace_input(1, wv)
    conv.replace_input(2, bv)


def _bias_of(conv, w):
    from .. import zeros
    b = constant_value(conv.inputs[2])
    return zeros(w.shape[0], dtype=w.dtype, device=w.device) if b is None else b


def _channel_shape(w):
    return [-1] + [1] * (w.dim() - 1)


def fold_frozen_conv_bn(graph) -> bool:
    """batch_norm (eval mode, constant statistics) of a convolution's only use: the
    convolution with W * s and (b - mean) * s + beta, s = gamma / sqrt(var + eps)."""
    from ..tensor import Tensor
    changed = False
    for n in list(graph.walk()):
        if n.kind != "aten::batch_norm" or n.op is None or len(n.inputs) < 8:
            continue
        conv = _conv_of(n.inputs[0])
        if conv is None or constant_value(n.inputs[5]) is not False:
            continue
        gamma, beta = constant_value(n.inputs[1]), constant_value(n.inputs[2])
        mean, var = _tensor(n.inputs[3]), _tensor(n.inputs[4])
        eps = constant_value(n.inputs[7])
        if mean is None or var is None or not isinstance(eps, (int, float)) or any(
                x is NOT_CONSTANT or (x is not None and not isinstance(x, Tensor))
                for x in (gamma, beta)):
            continue
        w = _tensor(conv.inputs[1])
        if any(t is not None and t.dtype != w.dtype for t in (gamma, beta, mean, var)):
            continue
        s = (var + eps).rsqrt()
        if gamma is not None:
            s = s * gamma
        new_b = (_bias_of(conv, w) - mean) * s
        if beta is not None:
            new_b = new_b + beta
        _replace_conv_parameters(graph, conv, w * s.reshape(_channel_shape(w)), new_b,
                                 "_fused_bn")
        n.output.replace_all_uses_with(conv.output)
        n.destroy()
        changed = True
    return changed


def _per_channel(other, w, known_dim):
    """other (a number or constant tensor) as a per-output-channel tensor of w's dtype,
    when `conv_out op other` has conv_out's shape and dtype; else None. known_dim: the
    convolution output's rank when its type says it, else None (an unbatched input makes
    it one less than w's: a tensor of w's rank would add a dimension)."""
    from ..tensor import Tensor
    from .. import full
    if isinstance(other, bool) or not isinstance(other, (int, float, Tensor)):
        return None
    if not isinstance(other, Tensor):
        return full((w.shape[0],), other, dtype=w.dtype, device=w.device)
    if other.dtype != w.dtype or other.device != w.device:
        return None
    shape = list(other.shape)
    rank = len(shape)
    if rank > (known_dim if known_dim is not None else w.dim() - 1):
        return None
    # right-aligned, the channel is the (w.dim() - 1)-th dimension from the right
    channel = rank - (w.dim() - 1)
    for k, size in enumerate(shape):
        if size != 1 and k != channel:
            return None
    if other.numel() not in (1, w.shape[0]):
        return None
    return other.reshape(-1).expand(w.shape[0]).clone() if other.numel() == 1 else \
        other.reshape(-1).clone()


def _fold_pointwise(graph, kinds, fold) -> bool:
    changed = False
    for n in list(graph.walk()):
        if n.kind not in kinds or n.op is None:
            continue
        names = [a.name for a in n.op.schema.arguments]
        if names[:2] != ["self", "other"]:
            continue
        extra = constant_value(n.inputs[2]) if len(n.inputs) > 2 else None
        if len(n.inputs) > 3 or (len(n.inputs) == 3 and extra != (
                1 if "alpha" in names else None)):
            continue                    # add/sub's alpha other than 1, div's rounding
        commutative = n.kind in ("aten::add", "aten::mul")
        for k in ((0, 1) if commutative else (0,)):
            conv = _conv_of(n.inputs[k])
            if conv is None:
                continue
            w = _tensor(conv.inputs[1])
            t = n.inputs[k].type
            sizes = getattr(t, "sizes", None)
            known = len(sizes) if isinstance(sizes, (tuple, list)) else None
            other = constant_value(n.inputs[1 - k])
            c = None if other is NOT_CONSTANT else _per_channel(other, w, known)
            if c is None:
                continue
            new_w, new_b = fold(n.kind, w, _bias_of(conv, w), c)
            _replace_conv_parameters(graph, conv, new_w, new_b)
            n.output.replace_all_uses_with(conv.output)
            n.destroy()
            changed = True
            break
    return changed


def fold_frozen_conv_add_or_sub(graph) -> bool:
    """conv(x, W, b) + c (or - c), c constant per output channel: conv(x, W, b + c)."""
    def fold(kind, w, b, c):
        return w, (b + c if kind == "aten::add" else b - c)
    return _fold_pointwise(graph, ("aten::add", "aten::sub"), fold)


def fold_frozen_conv_mul_or_div(graph) -> bool:
    """conv(x, W, b) * c (or / c), c constant per output channel: conv(x, W*c, b*c)."""
    def fold(kind, w, b, c):
        cw = c.reshape(_channel_shape(w))
        if kind == "aten::mul":
            return w * cw, b * c
        return w / cw, b / c
    return _fold_pointwise(graph, ("aten::mul", "aten::div"), fold)


def fold_frozen_linear_bn(graph) -> bool:
    """batch_norm (eval mode, constant statistics) of a linear's only use, as TorchScript's
    FoldFrozenLinearBatchnorm: linear(x, W * s[:, None], (b - mean) * s + beta) with
    s = gamma * rsqrt(var + eps), where the norm's features are the linear's output
    features (or one); a norm without running statistics is left as it is."""
    from .. import ones_like, zeros_like
    changed = False
    for n in list(graph.walk()):
        if n.kind != "aten::batch_norm" or n.op is None or len(n.inputs) < 8:
            continue
        lin = n.inputs[0].node
        if lin.kind != "aten::linear" or lin.op is None or len(lin.inputs) != 3 or \
                constant_value(n.inputs[5]) is not False:
            continue
        if sum(1 for u in n.inputs[0].uses if u.user.kind not in _SHAPE_ONLY) != 1:
            continue
        w = _tensor(lin.inputs[1])
        b = constant_value(lin.inputs[2])
        mean, var = _tensor(n.inputs[3]), _tensor(n.inputs[4])
        gamma, beta = constant_value(n.inputs[1]), constant_value(n.inputs[2])
        eps = constant_value(n.inputs[7])
        if w is None or not w.is_floating_point() or w.dim() != 2 or mean is None or \
                var is None or not isinstance(eps, (int, float)) or any(
                x is NOT_CONSTANT or (x is not None and _tensor(v) is None)
                for x, v in ((b, lin.inputs[2]), (gamma, n.inputs[1]), (beta, n.inputs[2]))):
            continue
        if mean.dim() != 1 or mean.shape[0] not in (w.shape[0], 1):
            continue            # features broadcastable with the linear's last dimension
        if any(t is not None and t.dtype != w.dtype for t in (b, gamma, beta, mean, var)):
            continue
        gamma = ones_like(mean) if gamma is None else gamma
        beta = zeros_like(mean) if beta is None else beta
        b = zeros_like(mean) if b is None else b
        s = gamma * (var + eps).rsqrt()
        new_w = w * s.unsqueeze(-1)
        new_b = (b - mean) * s + beta
        with graph.inserting_before(lin):
            wv = graph.insert_constant(new_w.detach(), lin.inputs[1].type)
            bv = graph.insert_constant(new_b.detach(), lin.inputs[1].type)
        lin.replace_input(1, wv)
        lin.replace_input(2, bv)
        n.output.replace_all_uses_with(lin.output)
        n.destroy()
        changed = True
    return changed


def fold_frozen_convolutions(graph) -> None:
    """The folds until none applies (a conv-bn fold can expose an add); linear-bn too,
    as TorchScript's OptimizeFrozenGraph."""
    while (fold_frozen_conv_bn(graph) | fold_frozen_conv_mul_or_div(graph)
           | fold_frozen_conv_add_or_sub(graph) | fold_frozen_linear_bn(graph)):
        pass


_CONV_RANKS = {"aten::conv1d": 3, "aten::conv2d": 4, "aten::conv3d": 5}


def fold_frozen_conv_dims(graph) -> bool:
    """x.dim() of what aten::conv1d / conv2d / conv3d returns is the constant 3 / 4 / 5 in
    a frozen graph, as torch 2.13's freezing types a convolution's output (with or without
    optimize_numerics, the weight constant or not; an unbatched input's output is one
    less, and torch folds it all the same): `if x.dim() != 4: raise` checks of the
    BatchNorm after a Conv2d go away. Traced convolutions (aten::_convolution) and
    transposed ones keep their dim()."""
    changed = False
    for n in list(graph.walk()):
        if n.kind != "aten::dim" or len(n.inputs) != 1:
            continue
        rank = _CONV_RANKS.get(n.inputs[0].node.kind)
        if rank is None:
            continue
        with graph.inserting_before(n):
            c = graph.insert_constant(rank, n.output.type)
        n.output.replace_all_uses_with(c)
        n.destroy()
        changed = True
    return changed
