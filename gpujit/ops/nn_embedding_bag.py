"""aten::_embedding_bag: the op torch.embedding_bag / F.embedding_bag / nn.EmbeddingBag
reach, recorded as one node, EmbeddingBagBackward0, with two edges: weight and
per_sample_weights (None without them). Its outputs are (output, offset2bag, bag_size,
max_indices), as ATen's CPU kernel gives them; only the first carries a gradient.

The forward is gpujit's composite of registry ops (nn/_torch_functional._embedding_bags,
run unrecorded: the values do not change with the node); the derivative is ATen's
_embedding_bag_backward written with registry ops: each kept index's row gets its bag's
gradient (times its per-sample weight, divided by the bag's size in mean mode, by the
index's frequency with scale_grad_by_freq; a sparse COO gradient with sparse=True), and in
max mode each non-empty bag's gradient goes to the row of its maximum; per_sample_weights'
gradient is each index's bag gradient dotted with its weight row.
"""
from __future__ import annotations

from typing import Tuple

import gpujit as _gpujit

from ..tensor import Tensor
from .derivatives import derivative as _derivative
from .meta import TensorMeta
from .nn_fastpath import _impl
from .registry import op


def _bags(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
          per_sample_weights=None, include_last_offset=False, padding_idx=-1):
    from ..nn._torch_functional import _embedding_bags
    return _embedding_bags(weight, indices, offsets, scale_grad_by_freq, mode, False,
                           per_sample_weights, include_last_offset,
                           None if padding_idx < 0 else padding_idx, padding_idx)


def _bag_meta(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
              per_sample_weights=None, include_last_offset=False, padding_idx=-1):
    from .. import dtypes as _dt
    n, no = indices.shape[0], offsets.shape[0]
    nb = no - 1 if include_last_offset else no
    dim = weight.shape[1]
    dev = weight.device
    out = TensorMeta(weight.dtype, (nb, dim), dev)
    if mode == 0:
        o2b = (n,) if padding_idx >= 0 else (0,)
        return (out, TensorMeta(_dt.int64, o2b, dev), TensorMeta(_dt.int64, (no,), dev),
                TensorMeta(_dt.int64, (no,), dev))
    last = (nb, dim) if mode == 2 else (nb,)
    return (out, TensorMeta(_dt.int64, (n,), dev), TensorMeta(_dt.int64, (nb,), dev),
            TensorMeta(_dt.int64, last, dev))


embedding_bag_op = op(
    "aten::_embedding_bag(Tensor weight, Tensor indices, Tensor offsets, "
    "bool scale_grad_by_freq=False, int mode=0, bool sparse=False, "
    "Tensor? per_sample_weights=None, bool include_last_offset=False, int padding_idx=-1) "
    "-> (Tensor, Tensor, Tensor, Tensor)", tags={"nn"}, meta=_bag_meta, method=False,
    function=False)(_impl(_bags)).op


def records_node(weight, per_sample_weights, sparse):
    """Whether an eager torch.embedding_bag call records ATen's _embedding_bag node: grad
    mode on and weight or per_sample_weights requiring grad (else the composite's same
    values, nothing to record), not while tracing (the trace keeps the composite's ops),
    a float32 / float64 / float16 weight (bfloat16 keeps the composite's rounding steps)."""
    from .registry import dispatch_state, grad_state
    from .. import dtypes as _dt
    if not (weight.requires_grad or (per_sample_weights is not None and
                                     per_sample_weights.requires_grad)):
        return False
    if not grad_state.enabled or grad_state.inference or dispatch_state.tracing is not None:
        return False
    return weight.dtype in (_dt.float32, _dt.float64, _dt.float16)


def bag_segments(indices: Tensor, offsets: Tensor, mode: int, include_last_offset: bool,
                 pidx: int, weight_dtype: _gpujit.dtype
                 ) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, int]:
    """Each index's bag as ATen's kernels find it (pidx: padding_idx made non-negative, -1
    for none): (idx as int64, its position, its bag (-1 before offsets[0]), kept (in a bag
    and not pidx), count_seg (its bag, nb where left out: what bag_size counts), seg
    (count_seg, and nb past offsets[-1] where ATen's float32 / float16 sum and mean kernel
    without padding_idx ends the last bag: what the forward sums; its float64 kernel and max
    mode run the bag to the end), nb). The forward (nn/_torch_functional._embedding_bags,
    compiled from source when scripted) and the backward below call it."""
    n = indices.numel()
    nb = offsets.numel() - 1 if include_last_offset else offsets.numel()
    starts = offsets[:nb].to(_gpujit.int64).contiguous()
    idx = indices.to(_gpujit.int64)
    pos = _gpujit.arange(n, device=indices.device)
    bag = _gpujit.searchsorted(starts, pos, right=True) - 1
    keep = (idx != pidx) & (bag >= 0)
    count_seg = _gpujit.where(keep, bag, _gpujit.full_like(bag, nb))
    seg = count_seg
    if mode != 2 and pidx < 0 and include_last_offset and weight_dtype != _gpujit.float64:
        seg = _gpujit.where(pos < offsets[nb].to(_gpujit.int64), seg,
                            _gpujit.full_like(seg, nb))
    return idx, pos, bag, keep, count_seg, seg, nb


bag_segments.__gpujit_script_source__ = True     # (scripted code compiles its source)


def _frequencies(idx, num_weights):
    """Each index's divisor under scale_grad_by_freq, as ATen's CPU sum / mean backward
    reads it: the u-th distinct index (in sorted order) divides by the count of the
    index at position u of the sorted indices (counts[indices_data[i]] with i the group's
    number, not its first position), which is its own count only while every index
    before it occurs once."""
    import gpujit
    counts = gpujit.zeros(num_weights, dtype=gpujit.int64, device=idx.device).index_add(
        0, idx, gpujit.ones_like(idx))
    ordered = idx.sort()[0]
    uniq = gpujit.unique(ordered)
    return counts.index_select(0, ordered.index_select(0, gpujit.searchsorted(uniq, idx)))


@_derivative(embedding_bag_op, wrt=("weight", "per_sample_weights"))
def _embedding_bag_grad(grad, weight, indices, offsets, scale_grad_by_freq, mode, sparse,
                        per_sample_weights, include_last_offset, padding_idx, result,
                        needs_grad):
    import gpujit
    from .nn_dropout_embedding import _embedding_grad
    g = grad[0]
    dim = weight.size(1)
    if mode == 2:
        bag_size, max_indices = result[2], result[3]
        full = (bag_size > 0).nonzero().view(-1)
        z = gpujit.zeros(tuple(weight.shape), dtype=g.dtype, device=g.device)
        return z.scatter_add(0, max_indices.index_select(0, full), g.index_select(0, full)), None
    idx, _, _, _, _, seg, nb = bag_segments(indices, offsets, mode, include_last_offset,
                                            padding_idx, weight.dtype)
    if mode == 1 and include_last_offset:
        # (ATen's mean backward reads the forward's offset2bag: the indices past
        # offsets[-1], which the float kernels leave out of the last bag's sum, get its
        # gradient; sum mode's backward reads past the gradient there, no value to follow)
        seg = gpujit.where(idx != padding_idx, result[1], gpujit.full_like(seg, nb))
    rows = gpujit.cat([g, gpujit.zeros([1, dim], dtype=g.dtype, device=g.device)])
    if mode == 1:
        size = gpujit.cat([result[2].clamp(min=1), gpujit.ones(1, dtype=gpujit.int64,
                                                                  device=g.device)])
        rows = rows / size.to(g.dtype).unsqueeze(1)
    rows = rows.index_select(0, seg)
    gw = gp = None
    if needs_grad[0]:
        r = rows if per_sample_weights is None else rows * per_sample_weights.unsqueeze(1)
        if scale_grad_by_freq and not sparse:
            r = r / _frequencies(idx, weight.size(0)).to(g.dtype).unsqueeze(1)
        # (sparse with scale_grad_by_freq: embedding_backward's refusal, PyTorch's words)
        gw = _embedding_grad(r, tuple(weight.shape), idx, padding_idx,
                             scale_grad_by_freq and sparse, sparse)
    if needs_grad[1]:
        gp = (rows * weight.index_select(0, idx)).sum(1)
    return gw, gp
