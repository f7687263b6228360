"""F.linear_cross_entropy (PyTorch 2.13): cross_entropy(linear(input, linear_weight,
linear_bias), target), and its chunked path (`options=LinearCrossEntropyOptions(...)`),
which never holds the whole (N, num_classes) logits: rows go through in chunks, each
chunk's loss and gradients (softmax minus the one-hot target, scaled by the class weights
and the reduction) computed at once, as PyTorch's _linear_cross_entropy_batch_chunked.

With reduction "mean" / "sum" the forward keeps the input / weight / bias gradients it
computed (PyTorch's default, allow_retain_graph=False: a second backward raises); with
"none" the backward recomputes them chunk by chunk from the saved inputs. float16 inputs
are computed in float32 (acc_dtype) and the results cast back. Values equal the reference
path's within float rounding (the sums run in a different order)."""
from __future__ import annotations

import math
import warnings

import gpujit

__all__ = ["linear_cross_entropy"]


def _check(input, linear_weight, target, linear_bias):
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.dim()}")
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    num_classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    num_batches = tuple(input.shape[:-1])
    if out_features and not num_batches:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} "
            f"requires batched input, (N, {in_features}), got unbatched input with shape "
            f"{tuple(input.shape)}")
    return num_batches, in_features, num_classes, out_features


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0,
                         options=None):
    """The cross entropy of `linear(input, linear_weight, linear_bias)` against target (class
    indices or probabilities), as cross_entropy's arguments; `options` (a
    LinearCrossEntropyOptions) takes the chunked path where it applies (reduction mean /
    sum / none, no label smoothing, int64 target, 2-D linear_weight), else warns and takes
    the reference path."""
    num_batches, in_features, num_classes, out_features = _check(
        input, linear_weight, target, linear_bias)
    logits_shape = (*num_batches, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains "
                           "probabilities")
    ignore_index = ignore_index if ignore_index is not None else -100
    chunked = (options is not None and not out_features
               and reduction in ("mean", "sum", "none") and label_smoothing == 0.0
               and target.dtype is gpujit.int64 and not gpujit.jit.is_tracing())
    if options is not None and not chunked:
        warnings.warn(
            "linear_cross_entropy: ``options`` ignored; chunked path needs "
            "reduction in {'mean','sum','none'}, label_smoothing == 0, target.dtype"
            " == int64, out_features == (). Got "
            f"reduction={reduction!r}, label_smoothing={label_smoothing}, "
            f"target.dtype={target.dtype}, out_features={tuple(out_features)}"
            f", tracing={gpujit.jit.is_tracing()}"
            f", linear_bias.shape="
            f"{tuple(linear_bias.shape) if linear_bias is not None else None}.",
            stacklevel=2)
    F = gpujit.nn.functional
    if chunked:
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        t = target if batched else target.unsqueeze(0)
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        chunk = options._chunk_rows(x.shape[0], in_features, num_classes, x.dtype, x.device)
        out = _Chunked.apply(x, linear_weight, t, linear_bias, weight, reduction,
                             ignore_index, chunk, options.allow_retain_graph,
                             options._acc(x.dtype))
        return out if batched or reduction != "none" else out.squeeze(0)
    w, b = linear_weight, linear_bias
    if out_features:
        w = w.reshape((math.prod(out_features, start=num_classes), in_features))
        if b is not None:
            b = b.reshape(math.prod(out_features, start=num_classes))
    logits = F.linear(input, w, b).reshape(logits_shape)
    return F.cross_entropy(logits, target, weight=weight, reduction=reduction,
                           ignore_index=ignore_index, label_smoothing=label_smoothing)


def _row_terms(target, weight, ignore_index, num_classes, reduction, dtype):
    """(class index per row with ignored rows at 0, each row's loss coefficient: its class
    weight, 0 for ignored rows, divided by the weights' sum for "mean")."""
    mask = target == ignore_index
    tgt = gpujit.where(mask, 0, target)
    if weight is None:
        coef = (~mask).to(dtype)
    else:
        coef = gpujit.where(mask, 0.0, weight.to(dtype).index_select(0, tgt))
    if ((tgt < 0) | (tgt >= num_classes)).any():
        bad = target[~mask & ((target < 0) | (target >= num_classes))][0].item()
        raise IndexError(f"Target {bad} is out of bounds.")
    if reduction == "mean":
        d = coef.sum()
        coef = coef / gpujit.where(d == 0, float("nan"), d)
    return tgt, coef


def _chunk_pass(x, w, b, tgt, coef, chunk, row_scale, want, acc):
    """Loss per row (times coef) and, for the gradients in `want` (subset of "x", "w", "b"),
    their values for d(loss . row_scale), in dtype acc: chunk by chunk of rows."""
    n = x.shape[0]
    wa = w.to(acc)
    ba = None if b is None else b.to(acc)
    losses = []
    gx = gpujit.empty(x.shape, dtype=acc) if "x" in want else None
    gw = gpujit.zeros(w.shape, dtype=acc) if "w" in want else None
    gb = gpujit.zeros(w.shape[0], dtype=acc) if "b" in want and b is not None else None
    for s in range(0, n, chunk):
        xc = x[s:s + chunk].to(acc)
        logits = xc @ wa.t()
        if ba is not None:
            logits = logits + ba
        lse = gpujit.logsumexp(logits, 1)
        tc = tgt[s:s + chunk]
        cc = coef[s:s + chunk]
        picked = logits.gather(1, tc.unsqueeze(1)).squeeze(1)
        losses.append(cc * (lse - picked))
        if want:
            g = gpujit.softmax(logits, 1)
            g.scatter_add_(1, tc.unsqueeze(1), gpujit.full((tc.shape[0], 1), -1.0, dtype=acc))
            g = g * (cc * row_scale[s:s + chunk]).unsqueeze(1)
            if gx is not None:
                gx[s:s + chunk] = g @ wa
            if gw is not None:
                gw.add_(g.t() @ xc)
            if gb is not None:
                gb.add_(g.sum(0))
    return gpujit.cat(losses), gx, gw, gb


class _Chunked(gpujit.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, target, b, weight, reduction, ignore_index, chunk, allow_retain,
                acc):
        with gpujit.no_grad():
            tgt, coef = _row_terms(target, weight, ignore_index, w.shape[0], reduction, acc)
            need = ctx.needs_input_grad
            want = {k for k, i in (("x", 0), ("w", 1), ("b", 3)) if need[i]}
            ctx.dtypes = (x.dtype, w.dtype, None if b is None else b.dtype)
            if reduction == "none":
                rows, *_ = _chunk_pass(x, w, b, tgt, coef, chunk, None, set(), acc)
                ctx.save_for_backward(x, w, b, tgt, coef)
                ctx.meta = (chunk, want, "none", acc)
                return rows.to(x.dtype)
            ones = gpujit.ones(x.shape[0], dtype=acc)
            rows, gx, gw, gb = _chunk_pass(x, w, b, tgt, coef, chunk, ones, want, acc)
            ctx.grads = [gx, gw, gb]
            ctx.meta = (chunk, want, reduction, allow_retain)
            return rows.sum().to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        if ctx.meta[2] == "none":
            x, w, b, tgt, coef = ctx.saved_tensors
            chunk, want, _, acc = ctx.meta
            _, gx, gw, gb = _chunk_pass(x, w, b, tgt, coef, chunk, grad.to(acc), want, acc)
        else:
            if ctx.grads is None:
                raise RuntimeError(
                    "linear_cross_entropy: backward through the chunked path a second time: "
                    "its gradients were consumed by the first backward. Pass "
                    "LinearCrossEntropyOptions(allow_retain_graph=True) to keep them")
            gx, gw, gb = (None if g is None else g * grad.to(g.dtype) for g in ctx.grads)
            if not ctx.meta[3]:
                ctx.grads = None
        gx, gw, gb = (None if g is None else g.to(dt) for g, dt in zip((gx, gw, gb), ctx.dtypes))
        return gx, gw, None, gb, None, None, None, None, None, None
