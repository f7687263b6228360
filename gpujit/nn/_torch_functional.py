"""torch-level forms of nn functions (torch.native_dropout, torch.native_layer_norm,
torch.native_batch_norm, torch.convolution, torch.channel_shuffle, torch.hinge_embedding_loss
...), with ATen's argument forms (losses take `reduction` as an int: 0 none, 1 mean,
2 sum), composed of registry ops and nn.functional (`_from_source`: scripted code compiles
them, tracing and autograd follow their ops)."""
from typing import List, Optional, Tuple

import gpujit as _gpujit
from gpujit.tensor import Tensor
from . import functional as F
from ._dtype_names import short_dtype_name as _short_dtype_name
from ..ops.parser_errors import tensor_args as _tensor_args

PUBLIC_NAMES = ["native_dropout", "native_layer_norm", "native_group_norm", "native_batch_norm",
                "rms_norm",
                "convolution", "channel_shuffle", "native_channel_shuffle",
                "hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss",
                "triplet_margin_loss", "poisson_nll_loss", "ctc_loss", "embedding_bag"]


# The ones that call the nn.functional function of the same name are defined as aten_<name>
# (a scripted program that calls both keeps two distinct function names when saved) and
# published under <name>: PUBLIC is what gpujit/__init__ binds at torch.*.


def _from_source(fn):
    fn.__gpujit_script_source__ = True
    return fn


# ---------------------------------------------------------------------- dropouts

@_from_source
def native_dropout(input, p: float, train: Optional[bool]) -> Tuple[Tensor, Tensor]:
    """torch.native_dropout: (output, keep mask as bool); train None counts as True, and
    train=False gives (a copy of input, all-True mask)."""
    if train is None or train:
        mask = _gpujit.empty_like(input).bernoulli_(1 - p).to(_gpujit.bool)
        scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
        return input * mask * scale, mask
    return input.clone(), _gpujit.ones_like(input, dtype=_gpujit.bool)


# ---------------------------------------------------------------------- normalization

@_from_source
def native_layer_norm(input, normalized_shape: List[int], weight: Optional[Tensor],
                      bias: Optional[Tensor], eps: float) -> Tuple[Tensor, Tensor, Tensor]:
    """torch.native_layer_norm: (output, mean, rstd); mean and rstd keep the normalized
    dims as size 1."""
    nd = len(normalized_shape)
    axis = input.dim() - nd
    ok = axis >= 0
    if ok:
        for i in range(nd):
            if input.size(axis + i) != normalized_shape[i]:
                ok = False
    if not ok:
        raise RuntimeError("Given normalized_shape=" + str(normalized_shape)
                           + ", expected input with shape [*, "
                           + ", ".join([str(d) for d in normalized_shape])
                           + "], but got input of size" + str(list(input.size())))
    dims: List[int] = [axis + i for i in range(nd)]
    # the output is layer_norm's (ATen's one kernel: its values, NativeLayerNormBackward0);
    # mean and rstd are recomputed here, equal to the kernel's within rounding
    out = _gpujit.layer_norm(input, normalized_shape, weight, bias, eps)
    x = input.detach()
    mean = x.mean(dims, keepdim=True)
    xc = x - mean
    rstd = _gpujit.rsqrt((xc * xc).mean(dims, keepdim=True) + eps)
    # (mean and rstd carry no gradient: ATen's output_differentiability [True, False, False])
    return out, mean, rstd


@_from_source
def native_group_norm(input, weight: Optional[Tensor], bias: Optional[Tensor], N: int, C: int,
                      HxW: int, group: int, eps: float) -> Tuple[Tensor, Tensor, Tensor]:
    """torch.native_group_norm: (output, mean, rstd), mean and rstd of shape (N, group); the
    output is group_norm's (ATen's one kernel: its values, NativeGroupNormBackward0), mean
    and rstd recomputed here (within rounding of the kernel's)."""
    if input.numel() != N * C * HxW:
        raise RuntimeError("Expected X.numel() == N * C * HxW to be true, but got false.  "
                           "(Could this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    out = _gpujit.group_norm(input, group, weight, bias, eps)
    x = input.detach().reshape([N, group, -1])
    mean = x.mean(2)
    xc = x - mean.unsqueeze(2)
    rstd = _gpujit.rsqrt((xc * xc).mean(2) + eps)
    # (mean and rstd carry no gradient, as ATen's)
    return out, mean, rstd


@_from_source
def native_batch_norm(input, weight: Optional[Tensor], bias: Optional[Tensor],
                      running_mean: Optional[Tensor], running_var: Optional[Tensor],
                      training: bool, momentum: float,
                      eps: float) -> Tuple[Tensor, Tensor, Tensor]:
    """torch.native_batch_norm: (output, save_mean, save_invstd). Training normalizes by
    the batch statistics (and updates the running ones in place); evaluation by the
    running statistics, with empty save_mean / save_invstd. The output is aten::batch_norm's
    (NativeBatchNormBackward0, the running statistics written as ATen's kernel writes them:
    no version bump)."""
    if training:
        dims: List[int] = [0] + [d for d in range(2, input.dim())]
        x = input.detach()
        save_mean = x.mean(dims)
        save_invstd = _gpujit.rsqrt(x.var(dims, unbiased=False) + eps)
    else:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
        save_mean = _gpujit.empty([0], dtype=input.dtype, device=input.device)
        save_invstd = _gpujit.empty([0], dtype=input.dtype, device=input.device)
    out = _gpujit.batch_norm(input, weight, bias, running_mean, running_var, training,
                             momentum, eps, False)
    return out, save_mean, save_invstd


@_from_source
def aten_rms_norm(input, normalized_shape: List[int], weight: Optional[Tensor] = None,
             eps: Optional[float] = None):
    """torch.rms_norm: nn.functional.rms_norm."""
    return F.rms_norm(input, normalized_shape, weight, eps)


# ---------------------------------------------------------------------- convolution

@_from_source
def convolution(input, weight, bias: Optional[Tensor], stride: List[int], padding: List[int],
                dilation: List[int], transposed: bool, output_padding: List[int],
                groups: int):
    """torch.convolution: conv{1,2,3}d or conv_transpose{1,2,3}d by weight's dims."""
    nd = weight.dim() - 2
    if nd < 1 or nd > 3:
        raise RuntimeError("Expected 3D, 4D or 5D weight for convolution, but got weight "
                           "of size " + str(list(weight.size())))
    if transposed:
        if nd == 1:
            return F.conv_transpose1d(input, weight, bias, stride, padding, output_padding,
                                      groups, dilation)
        if nd == 2:
            return F.conv_transpose2d(input, weight, bias, stride, padding, output_padding,
                                      groups, dilation)
        return F.conv_transpose3d(input, weight, bias, stride, padding, output_padding,
                                  groups, dilation)
    if nd == 1:
        return F.conv1d(input, weight, bias, stride, padding, dilation, groups)
    if nd == 2:
        return F.conv2d(input, weight, bias, stride, padding, dilation, groups)
    return F.conv3d(input, weight, bias, stride, padding, dilation, groups)


@_from_source
def channel_shuffle(input, groups: int):
    """torch.channel_shuffle: split the channels (dim 1) into `groups` groups and
    interleave them: (N, g, C/g, *) -> (N, C/g, g, *)."""
    if input.dim() <= 2:
        raise RuntimeError("channel_shuffle expects input with > 2 dims, but got input with "
                           "sizes " + str(list(input.size())))
    if groups <= 0:
        raise RuntimeError("Number of groups to divide channels in must be positive. Value "
                           "of groups:" + str(groups))
    c = input.size(1)
    if c % groups != 0:
        raise RuntimeError("Number of channels must be divisible by groups. Got "
                           + str(c) + " channels and " + str(groups) + " groups.")
    sizes: List[int] = list(input.size())
    split: List[int] = [sizes[0], groups, c // groups] + sizes[2:]
    return input.reshape(split).transpose(1, 2).reshape(sizes)


# ---------------------------------------------------------------------- losses

@_from_source
def _reduction_from_enum(reduction: int, fn: str = "", position: int = 0) -> str:
    """ATen's reduction enum's name; the Python parser's TypeError where the eager call
    gave no int (torch.hinge_embedding_loss(x, y, 1.0, "mean"): fn's argument at
    `position`; scripted calls are typed, the check falls away)."""
    if not isinstance(reduction, int) or isinstance(reduction, bool):
        raise TypeError(fn + "(): argument 'reduction' (position " + str(position)
                        + ") must be int, not " + type(reduction).__name__)
    if reduction == 0:
        return "none"
    if reduction == 1:
        return "mean"
    if reduction == 2:
        return "sum"
    raise ValueError(str(reduction) + " is not a valid value for reduction")


@_from_source
def aten_hinge_embedding_loss(input, target, margin: float = 1.0, reduction: int = 1):
    """torch.hinge_embedding_loss (reduction as an int: 0 none, 1 mean, 2 sum)."""
    return F.hinge_embedding_loss(input, target, margin, None, None, _reduction_from_enum(reduction, "hinge_embedding_loss", 4))


@_from_source
def aten_margin_ranking_loss(input1, input2, target, margin: float = 0.0, reduction: int = 1):
    """torch.margin_ranking_loss (reduction as an int)."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("margin_ranking_loss", "input1 input2 target", input1, input2, target)
    return F.margin_ranking_loss(input1, input2, target, margin, None, None,
                                 _reduction_from_enum(reduction, "margin_ranking_loss", 5))


@_from_source
def aten_cosine_embedding_loss(input1, input2, target, margin: float = 0.0, reduction: int = 1):
    """torch.cosine_embedding_loss (reduction as an int)."""
    return F.cosine_embedding_loss(input1, input2, target, margin, None, None,
                                   _reduction_from_enum(reduction, "cosine_embedding_loss", 5))


@_from_source
def aten_triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, reduction: int = 1):
    """torch.triplet_margin_loss (reduction as an int)."""
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, None,
                                 None, _reduction_from_enum(reduction, "triplet_margin_loss", 8))


@_from_source
def aten_poisson_nll_loss(input, target, log_input: bool, full: bool, eps: float,
                     reduction: int):
    """torch.poisson_nll_loss(input, target, log_input, full, eps, reduction): every
    argument required, as ATen's."""
    return F.poisson_nll_loss(input, target, log_input, full, None, eps, None,
                              _reduction_from_enum(reduction, "poisson_nll_loss", 6))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
             zero_infinity=False):
    """torch.ctc_loss: lengths as int lists or tensors, reduction as an int (by default 0,
    unreduced: _python_binding)."""
    def lengths(v):
        return v if isinstance(v, Tensor) else _gpujit.tensor(list(v), dtype=_gpujit.long)
    return F.ctc_loss(log_probs, targets, lengths(input_lengths), lengths(target_lengths),
                      blank, _reduction_from_enum(reduction, "ctc_loss", 6), zero_infinity)



# ---------------------------------------------------------------------- embedding_bag

@_from_source
def aten_embedding_bag(weight, indices, offsets, scale_grad_by_freq: bool = False,
                       mode: int = 0, sparse: bool = False,
                       per_sample_weights: Optional[Tensor] = None,
                       include_last_offset: bool = False,
                       padding_idx: Optional[int] = None) -> Tuple[Tensor, Tensor, Tensor,
                                                                   Tensor]:
    """torch.embedding_bag (ATen's form: 1-D indices and offsets, mode 0 sum, 1 mean,
    2 max): (output, offset2bag, bag_size, max_indices) as ATen's CPU kernel gives them.
    Bag b holds indices[offsets[b]:offsets[b + 1]], the last one running to the end of
    indices (sum and mean without padding_idx but with include_last_offset sum it up to
    offsets[-1], as ATen's kernel does); entries equal to padding_idx are left out; an empty bag gives zeros.
    offset2bag is each index's bag (empty in sum mode without padding_idx); bag_size the
    bags' entry counts (zeros of offsets' size in sum mode); max_indices the weight row of
    each maximum in max mode, bag_size in mean mode, zeros in sum mode."""
    if mode < 0 or mode > 2:
        raise RuntimeError("`mode` must be sum, mean, or max.")
    if indices.dtype != _gpujit.int64 and indices.dtype != _gpujit.int32:
        # (ATen's checkScalarTypes; gpujit looked float / uint8 indices up as int64)
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got torch."
                           + _short_dtype_name(indices.dtype) + "Tensor instead (while "
                           "checking arguments for embedding_bag)")
    if indices.dim() != 1:
        raise RuntimeError("input has to be a 1D Tensor, but got Tensor of dimension "
                           + str(indices.dim()))
    if offsets.dim() != 1:
        raise RuntimeError("offsets has to be a 1D Tensor, but got Tensor of dimension "
                           + str(offsets.dim()))
    if weight.dim() != 2:
        raise RuntimeError("weight has to be a 2D Tensor, but got Tensor of dimension "
                           + str(weight.dim()))
    if per_sample_weights is not None and mode != 0:
        raise RuntimeError("embedding_bag: per_sample_weights was not None. "
                           "per_sample_weights is only supported for mode='sum' (got "
                           "mode='" + ("mean" if mode == 1 else "max") + "'). Please open a "
                           "feature request on GitHub.")
    num = weight.size(0)
    pidx = -1
    if padding_idx is not None:
        if padding_idx < -num or padding_idx >= num:
            raise RuntimeError("padding_idx must be within the number of embeddings, "
                               + str(-num) + " through " + str(num - 1) + ", but got "
                               + str(padding_idx))
        pidx = padding_idx if padding_idx >= 0 else padding_idx + num
    nb = offsets.numel() - 1 if include_last_offset else offsets.numel()
    if nb < 0:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    if not _gpujit.jit.is_scripting() and _bag_node(weight, per_sample_weights, sparse):
        # (eager, recording: ATen's _embedding_bag, one EmbeddingBagBackward0 node)
        return _bag_op(weight, indices, offsets, scale_grad_by_freq, mode, sparse,
                       per_sample_weights, include_last_offset, pidx)
    return _embedding_bags(weight, indices, offsets, scale_grad_by_freq, mode, sparse,
                           per_sample_weights, include_last_offset, padding_idx, pidx)


def _bag_node(weight, per_sample_weights, sparse):
    from ..ops.nn_embedding_bag import records_node
    return records_node(weight, per_sample_weights, sparse)


from ..ops.nn_embedding_bag import bag_segments  # noqa: E402


def _bag_op(weight, indices, offsets, scale_grad_by_freq, mode, sparse, per_sample_weights,
            include_last_offset, pidx):
    from ..ops.nn_embedding_bag import embedding_bag_op
    return embedding_bag_op.public(weight, indices, offsets, scale_grad_by_freq, mode, sparse,
                                   per_sample_weights, include_last_offset, pidx)


@_from_source
def _embedding_bags(weight, indices, offsets, scale_grad_by_freq: bool, mode: int, sparse: bool,
                    per_sample_weights: Optional[Tensor], include_last_offset: bool,
                    padding_idx: Optional[int], pidx: int) -> Tuple[Tensor, Tensor, Tensor,
                                                                    Tensor]:
    """aten_embedding_bag's bags, after its checks (pidx: padding_idx made non-negative,
    -1 for none): registry ops, each recording."""
    dim = weight.size(1)
    n = indices.numel()
    # (left out: a spare bag nb; seg ends the last bag where ATen's float kernels do)
    idx, pos, bag, keep, count_seg, seg, nb = bag_segments(
        indices, offsets, mode, include_last_offset, pidx, weight.dtype)
    if sparse:
        # (weight's gradient sparse: embedding's, one entry per index but padding_idx's,
        # as PyTorch's _embedding_bag_sparse_backward)
        emb = _gpujit.embedding(weight, idx, pidx, scale_grad_by_freq, True)
    else:
        emb = weight.index_select(0, idx)
    long_opts = _gpujit.zeros([0], dtype=_gpujit.int64, device=weight.device)
    count = _gpujit.zeros([nb + 1], dtype=_gpujit.int64, device=weight.device).index_add(
        0, count_seg, _gpujit.ones([n], dtype=_gpujit.int64, device=weight.device))[:nb]
    offset2bag = bag.clamp(min=0)
    if mode == 0:
        if per_sample_weights is not None:
            emb = emb * per_sample_weights.unsqueeze(1)
        out = _gpujit.zeros([nb + 1, dim], dtype=emb.dtype, device=weight.device)
        out = out.index_add(0, seg, emb)[:nb]
        zeros = _gpujit.zeros([offsets.numel()], dtype=_gpujit.int64, device=weight.device)
        if padding_idx is None:
            offset2bag = long_opts
        return out, offset2bag, zeros, zeros.clone()
    if mode == 1:
        out = _gpujit.zeros([nb + 1, dim], dtype=emb.dtype, device=weight.device)
        out = out.index_add(0, seg, emb)[:nb]
        out = out / count.clamp(min=1).to(out.dtype).unsqueeze(1)
        return out, offset2bag, count, count.clone()
    seg2 = seg.unsqueeze(1).expand(n, dim)
    best = _gpujit.zeros([nb + 1, dim], dtype=weight.dtype, device=weight.device)
    best = best.scatter_reduce(0, seg2, emb, "amax", include_self=False)
    hit = keep.unsqueeze(1) & (emb == best.gather(0, seg2))
    first = _gpujit.where(hit, pos.unsqueeze(1).expand(n, dim),
                          _gpujit.full([n, dim], n, dtype=_gpujit.int64, device=weight.device))
    firstpos = _gpujit.full([nb + 1, dim], n, dtype=_gpujit.int64, device=weight.device)
    firstpos = firstpos.scatter_reduce(0, seg2, first, "amin", include_self=True)[:nb]
    padded = _gpujit.cat([idx, _gpujit.zeros([1], dtype=_gpujit.int64,
                                             device=weight.device)])
    max_indices = padded[firstpos.reshape(-1)].reshape(nb, dim)
    return best[:nb], offset2bag, count, max_indices


native_channel_shuffle = channel_shuffle


def _python_binding(fn, name):
    """torch.<name> for a loss whose ATen schema says `int reduction=Mean`, as torch 2.13's
    Python binding: its parser reads that default (at::Reduction::Mean, no number to it) as
    0, so torch.hinge_embedding_loss(x, y) is unreduced, while scripted code takes the
    schema's default, the mean, and compiles fn itself (its __gpujit_script_source__)."""
    import inspect
    sig = inspect.signature(fn)
    at = list(sig.parameters).index("reduction")

    def binding(*args, **kwargs):
        if len(args) <= at and "reduction" not in kwargs:
            kwargs["reduction"] = 0
        return fn(*args, **kwargs)
    binding.__name__ = binding.__qualname__ = name
    binding.__doc__ = fn.__doc__
    binding.__signature__ = sig.replace(parameters=[
        p.replace(default=0) if p.name == "reduction" else p for p in sig.parameters.values()])
    binding.__gpujit_script_source__ = fn
    return binding


PUBLIC = {n: globals()["aten_" + n] if "aten_" + n in globals() else globals()[n]
          for n in PUBLIC_NAMES}
PUBLIC.update({n: _python_binding(PUBLIC[n], n) for n in (
    "hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss",
    "triplet_margin_loss")})
__all__ = ["PUBLIC"]
