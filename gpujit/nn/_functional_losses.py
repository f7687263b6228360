"""gpujit.nn.functional's margin, embedding, ranking, Poisson / Gaussian NLL and triplet
losses (re-exported by functional.py), as PyTorch 2.13 computes them (ATen's formulas for
the ones PyTorch implements in C++), composed of registry ops: autograd, tracing and
scripting (`_from_source`: scripted code compiles these bodies) come with the ops.
"""
import math as _math
import warnings
from typing import Callable, Optional

import gpujit as _gpujit
from ..ops.parser_errors import scalar_args as _scalar_args, tensor_args as _tensor_args

from . import functional as F
from ._dtype_names import short_dtype_name as _short_dtype_name

__all__ = [
    "kl_div", "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss",
    "multi_margin_loss", "poisson_nll_loss", "gaussian_nll_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "ctc_loss",
]


def _from_source(fn):
    fn.__gpujit_script_source__ = True
    return fn


_soft_margin_loss_op = _gpujit.ops.registry.OPS["aten::soft_margin_loss"].public
_multi_margin_loss_op = _gpujit.ops.registry.OPS["aten::multi_margin_loss"].public
_multilabel_margin_loss_op = _gpujit.ops.registry.OPS["aten::multilabel_margin_loss"].public


@_from_source
def _reduction(size_average: Optional[bool], reduce: Optional[bool], reduction: str) -> str:
    """PyTorch's _Reduction.legacy_get_string when size_average / reduce are given."""
    if size_average is None and reduce is None:
        return reduction
    sa = True if size_average is None else size_average
    rd = True if reduce is None else reduce
    ret = "none"
    if sa and rd:
        ret = "mean"
    elif rd:
        ret = "sum"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  "reduction='" + ret + "' instead.")
    return ret


@_from_source
def _enum(reduction: str) -> int:
    """_Reduction.get_enum."""
    if reduction == "none":
        return 0
    if reduction == "mean":
        return 1
    if reduction == "sum":
        return 2
    raise ValueError(str(reduction) + " is not a valid value for reduction")


@_from_source
def _reduce(loss, reduction: str):
    """ATen's apply_loss_reduction with _Reduction.get_enum's check."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(str(reduction) + " is not a valid value for reduction")


@_from_source
def kl_div(input, target, size_average: Optional[bool] = None, reduce: Optional[bool] = None,
           reduction: str = "mean", log_target: bool = False):
    """KL divergence with input as log-probabilities (target too with log_target);
    reduction='batchmean' divides the sum by the batch size (the mathematical definition)."""
    if size_average is not None or reduce is not None:
        reduction_enum = _enum(_reduction(size_average, reduce, reduction))
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size "
                          "and the support size.'batchmean' divides only by the batch size, "
                          "and aligns with the KL div math definition.'mean' will be changed "
                          "to behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        if reduction == "batchmean":
            reduction_enum = 2
        else:
            reduction_enum = _enum(reduction)
    reduced = _gpujit.kl_div(input, target, reduction_enum, log_target=log_target)
    if reduction == "batchmean" and input.dim() != 0:
        reduced = reduced / input.size()[0]
    return reduced


@_from_source
def margin_ranking_loss(input1, input2, target, margin: float = 0,
                        size_average: Optional[bool] = None, reduce: Optional[bool] = None,
                        reduction: str = "mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got "
            "sizes: input1: " + str(input1.size()) + ", input2: " + str(input2.size())
            + ", target: " + str(target.size()) + " ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


@_from_source
def hinge_embedding_loss(input, target, margin: float = 1.0,
                         size_average: Optional[bool] = None, reduce: Optional[bool] = None,
                         reduction: str = "mean"):
    """x where target is 1, max(0, margin - x) where it is -1 (ATen's: both where it is
    neither)."""
    reduction = _reduction(size_average, reduce, reduction)
    zeros = _gpujit.zeros_like(input)
    # (ATen's C++ margin - self, empty_like(self).fill_(margin).sub_(self): self's dtype,
    # so an int64 input gives an int64 loss, margin truncated)
    margin_clamp = _gpujit.empty_like(input).fill_(margin).sub_(input).clamp_min(0)
    output_margin = _gpujit.where(target != 1, margin_clamp, zeros)
    output_self = _gpujit.where(target != -1, input, zeros)
    return _reduce(output_margin + output_self, reduction)


@_from_source
def cosine_embedding_loss(input1, input2, target, margin: float = 0,
                          size_average: Optional[bool] = None, reduce: Optional[bool] = None,
                          reduction: str = "mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("cosine_embedding_loss", "input1 input2 target", input1, input2, target)
    reduction = _reduction(size_average, reduce, reduction)
    targ_dim = target.dim()
    if targ_dim != 1 and targ_dim != 0:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if targ_dim == 1:
        if input1.dim() != 2 or input2.dim() != 2:
            raise RuntimeError(
                "1D target tensor expects 2D input tensors, but found inputs with sizes "
                + str(list(input1.size())) + " and " + str(list(input2.size())) + ".")
    elif input1.dim() != 1 or input2.dim() != 1:
        raise RuntimeError(
            "0D target tensor expects 1D input tensors, but found inputs with sizes "
            + str(list(input1.size())) + " and " + str(list(input2.size())) + ".")
    eps = 1e-12
    prod_sum = (input1 * input2).sum(targ_dim)
    mag_square1 = (input1 * input1).sum(targ_dim) + eps
    mag_square2 = (input2 * input2).sum(targ_dim) + eps
    cos = prod_sum / (mag_square1 * mag_square2).sqrt()
    zeros = _gpujit.zeros_like(cos)
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0)
    out = _gpujit.where(target == 1, pos, zeros) + _gpujit.where(target == -1, neg, zeros)
    return _reduce(out, reduction)


@_from_source
def soft_margin_loss(input, target, size_average: Optional[bool] = None,
                     reduce: Optional[bool] = None, reduction: str = "mean"):
    """log(1 + exp(-target * input)): ATen's soft_margin_loss (SoftMarginLossBackward0)."""
    reduction = _reduction(size_average, reduce, reduction)
    # (a target requiring grad: the op's "not differentiable with respect to argument
    # 'target'", ATen's check_no_requires_grad)
    return _soft_margin_loss_op(input, target, _enum(reduction))


@_from_source
def multilabel_soft_margin_loss(input, target, weight: Optional[_gpujit.Tensor] = None,
                                size_average: Optional[bool] = None,
                                reduce: Optional[bool] = None, reduction: str = "mean"):
    """The per-class binary logistic loss, averaged over the classes (the last dim)."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * F.logsigmoid(input) + (1 - target) * F.logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    c = input.size(class_dim)
    loss = loss.sum(dim=class_dim) / c
    return _reduce(loss, reduction)


@_from_source
def _cpu_floats_only(input, kernel: str):
    """The refusal of an ATen CPU kernel dispatched over float and double only."""
    if not input.is_cuda and input.dtype != _gpujit.float32 and \
            input.dtype != _gpujit.float64:
        raise NotImplementedError("\"" + kernel + "\" not implemented for '"
                                  + _short_dtype_name(input.dtype) + "'")


@_from_source
def multilabel_margin_loss(input, target, size_average: Optional[bool] = None,
                           reduce: Optional[bool] = None, reduction: str = "mean"):
    """sum over target classes j (target's leading entries before the first -1) and
    non-target classes i of max(0, 1 - (x[j] - x[i])), divided by the class count."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("multilabel_margin_loss", "input target", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    nd = input.dim()
    if not ((nd <= 1 and input.numel() != 0) or (nd == 2 and input.size(1) != 0)):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch "
                           "size, but got: " + str(list(input.size())))
    if nd <= 1:
        if not (target.dim() <= 1 and target.numel() == input.numel()):
            raise RuntimeError("inconsistent target size: " + str(list(target.size()))
                               + " for input of size: " + str(list(input.size())))
    elif not (target.dim() == 2 and target.size(0) == input.size(0)
              and target.size(1) == input.size(1)):
        raise RuntimeError("inconsistent target size: " + str(list(target.size()))
                           + " for input of size: " + str(list(input.size())))
    _cpu_floats_only(input, "multilabel_margin_loss_forward_out_frame")
    c = input.numel() if nd <= 1 else input.size(1)
    t = target.reshape(-1, c)
    valid = (t >= 0).long().cumprod(1)                # the slots before the first -1
    if bool(((t >= c) & (valid != 0)).any()):         # (one sync; CuPy would wrap it)
        raise RuntimeError("argument #2 'target' is out of range")
    if target.dtype != _gpujit.long:     # (ATen reads int64 targets; gpujit cast others)
        raise RuntimeError("expected scalar type Long but found "
                           + _short_dtype_name(target.dtype))
    # ATen's multilabel_margin_loss (MultilabelMarginLossBackward0)
    return _multilabel_margin_loss_op(input, target, _enum(reduction))


@_from_source
def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0,
                      weight: Optional[_gpujit.Tensor] = None,
                      size_average: Optional[bool] = None, reduce: Optional[bool] = None,
                      reduction: str = "mean"):
    """sum over classes j != y of max(0, margin - x[y] + x[j])^p (times weight[y]),
    divided by the class count."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("multi_margin_loss", "input target", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.requires_grad and _gpujit.is_grad_enabled():
        # (PyTorch's multi_margin_loss takes no gradient for its weight)
        raise RuntimeError("The function 'multi_margin_loss' is not differentiable with "
                           "respect to argument 'weight'. This input cannot have "
                           "requires_grad True.")
    nd = input.dim()
    if not ((nd <= 1 and input.numel() != 0) or (nd == 2 and input.size(1) != 0)):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch "
                           "size, but got: " + str(list(input.size())))
    n = 1 if nd <= 1 else input.size(0)
    c = input.numel() if nd <= 1 else input.size(1)
    if not (target.dim() <= 1 and target.numel() == n):
        raise RuntimeError("inconsistent target size, expected " + str(n) + " but got "
                           + str(list(target.size())))
    if weight is not None:
        if not (weight.dim() <= 1 and weight.numel() == c):
            raise RuntimeError("inconsistent weight size, expected " + str(c) + " but got "
                               + str(list(weight.size())))
    _cpu_floats_only(input, "multi_margin_loss_cpu_kernel")
    if target.dtype != _gpujit.long:     # (ATen reads int64 targets; gpujit cast others)
        raise RuntimeError("expected scalar type Long but found "
                           + _short_dtype_name(target.dtype))
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError("expected scalar type " + _short_dtype_name(input.dtype)
                           + " but found " + _short_dtype_name(weight.dtype))
    if bool(((target < 0) | (target >= c)).any()):    # (one sync; CuPy would wrap it)
        raise RuntimeError("target out of range")
    # ATen's multi_margin_loss (MultiMarginLossBackward0)
    return _multi_margin_loss_op(input, target, p, margin, weight, _enum(reduction))


@_from_source
def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average: Optional[bool] = None, eps: float = 1e-8,
                     reduce: Optional[bool] = None, reduction: str = "mean"):
    """exp(input) - target * input (log_input), input - target * log(input + eps)
    otherwise; full adds Stirling's approximation of log(target!) where target > 1."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("poisson_nll_loss", "input target", input, target)
        _scalar_args("poisson_nll_loss", "log_input:bool:3 full:bool:4 eps:float:5",
                     log_input, full, eps)
    reduction = _reduction(size_average, reduce, reduction)
    if reduction != "none" and reduction != "mean" and reduction != "sum":
        raise ValueError(str(reduction) + " is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * _math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(max(var, eps)) + (input - target)^2 / max(var, eps)), plus
    0.5 * log(2 pi) when full; var may have one dim fewer, or one dim of size 1."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _gpujit.ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction != "none" and reduction != "mean" and reduction != "sum":
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with _gpujit.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * _math.log(2 * _math.pi)
    return _reduce(loss, reduction)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {a}D, positive "
                           f"{p}D, and negative {n}D inputs")


@_from_source
def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False,
                        size_average: Optional[bool] = None, reduce: Optional[bool] = None,
                        reduction: str = "mean"):
    """max(0, margin + d(a, p) - d(a, n)), d the p-norm pairwise distance (swap: d(a, n)
    is min(d(a, n), d(p, n)))."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("triplet_margin_loss", "anchor positive negative", anchor, positive, negative)
        _scalar_args("triplet_margin_loss", "margin:float:4 p:float:5 eps:float:6 swap:bool:7",
                     margin, p, eps, swap)
    reduction = _reduction(size_average, reduce, reduction)
    a_dim = anchor.dim()
    p_dim = positive.dim()
    n_dim = negative.dim()
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            "of dimensions, but got: anchor " + str(a_dim) + "D, positive " + str(p_dim)
            + "D, and negative " + str(n_dim) + "D inputs")
    dist_pos = F.pairwise_distance(anchor, positive, p, eps)
    dist_neg = F.pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = _gpujit.minimum(dist_neg, F.pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *,
                                      distance_function: Optional[Callable] = None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any distance function (pairwise_distance by default); not
    scriptable, as in PyTorch (it takes a Callable)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    if distance_function is None:
        distance_function = F.pairwise_distance
    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    if swap:
        dist_neg = _gpujit.minimum(dist_neg, distance_function(positive, negative))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def _lengths(x, name: str):
    """input_lengths / target_lengths given as an int, a list or a tuple (eager calls):
    the int64 tensor of them (scripted code takes tensors, as TorchScript)."""
    if isinstance(x, int):
        return _gpujit.tensor([x], dtype=_gpujit.int64)
    return _gpujit.tensor([int(v) for v in x], dtype=_gpujit.int64)


@_from_source
def _interleave_blank(x, fill: int):
    """(N, L) -> (N, 2L + 1): fill, x[:, 0], fill, x[:, 1], ..., fill."""
    n = x.size(0)
    pad = _gpujit.full_like(x, fill)
    pairs = _gpujit.stack([pad, x], 2).reshape(n, 2 * x.size(1))
    return _gpujit.cat([pairs, x.new_full([n, 1], fill)], 1)


@_from_source
def ctc_loss(log_probs, targets, input_lengths: _gpujit.Tensor,
             target_lengths: _gpujit.Tensor, blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False):
    """Connectionist Temporal Classification loss: -log of the total probability of the
    alignments of each target to its input (ATen's alpha recursion, here over scaled
    probabilities in float64: each step's normalizer is summed in log space); log_probs
    (T, N, C) or (T, C), targets padded (N, S) or concatenated. Gradients come from
    autograd through the recursion; composed of registry ops, so scripted code compiles
    it too."""
    if not _gpujit.jit.is_scripting():      # (zero_infinity=None: PyTorch's TypeError)
        _scalar_args("ctc_loss", "zero_infinity:bool:7", zero_infinity)
    if not isinstance(input_lengths, _gpujit.Tensor):
        input_lengths = _lengths(input_lengths, "input_lengths")
    if not isinstance(target_lengths, _gpujit.Tensor):
        target_lengths = _lengths(target_lengths, "target_lengths")
    enum = _enum(reduction)
    dev = log_probs.device
    batched = log_probs.dim() == 3
    if log_probs.dim() != 2 and log_probs.dim() != 3:
        raise RuntimeError("ctc_loss: expected log_probs to be 2-D or 3-D, got "
                           + str(log_probs.dim()) + "-D")
    lp = log_probs if batched else log_probs.unsqueeze(1)
    t_max = lp.size(0)
    n = lp.size(1)
    c = lp.size(2)
    in_len = input_lengths.reshape(-1).to(device=dev, dtype=_gpujit.int64)
    tg_len = target_lengths.reshape(-1).to(device=dev, dtype=_gpujit.int64)
    if not (0 <= blank and blank < c):
        raise RuntimeError("blank must be in label range")
    if in_len.numel() != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tg_len.numel() != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    tg = targets.reshape(1, -1) if not batched and targets.dim() == 1 else targets
    tg = tg.to(device=dev, dtype=_gpujit.int64)
    l_max = int(tg_len.max()) if n > 0 else 0
    if n > 0:
        bad = (in_len < 0) | (in_len > t_max)
        if bool(bad.any()):
            raise RuntimeError("Expected input_lengths to have value at most " + str(t_max)
                               + ", but got value " + str(int(in_len[bad][0]))
                               + " (while checking arguments for ctc_loss_cpu)")
        if bool((tg_len < 0).any()):
            raise RuntimeError("target_lengths must be non-negative")
    pos = _gpujit.arange(l_max, device=dev).unsqueeze(0)
    in_target = pos < tg_len.unsqueeze(1)                        # (N, L)
    if tg.dim() == 1:                  # concatenated targets: row b at its offset
        if tg.numel() == 0:
            labels = _gpujit.zeros([n, l_max], dtype=_gpujit.int64, device=dev)
        else:
            start = tg_len.cumsum(0) - tg_len
            at = (start.unsqueeze(1) + pos).clamp(0, tg.numel() - 1)
            labels = tg[at]
    else:
        if l_max > tg.size(1):
            raise RuntimeError("Expected tensor to have size at least " + str(l_max)
                               + " at dimension 1, but got size " + str(tg.size(1))
                               + " for argument #2 'targets' (while checking arguments "
                               "for ctc_loss_cpu)")
        labels = tg[:, :l_max]
    labels = _gpujit.where(in_target, labels, _gpujit.full_like(labels, blank))
    # feasible: enough frames for the labels plus a blank between each repeated pair
    repeat = _gpujit.zeros([n, l_max], dtype=_gpujit.bool, device=dev)
    if l_max > 1:
        same = (labels[:, 1:] == labels[:, :-1]) & in_target[:, 1:]
        repeat = _gpujit.cat([repeat[:, :1], same], 1)
    feasible = in_len >= tg_len + repeat.long().sum(1)
    run_len = _gpujit.where(feasible, tg_len, _gpujit.zeros_like(tg_len))  # infeasible: inf
    l_run = int(run_len.max()) if n > 0 else 0
    in_run = pos[:, :l_run] < run_len.unsqueeze(1)
    ext = _interleave_blank(_gpujit.where(in_run, labels[:, :l_run],
                                          _gpujit.full_like(labels[:, :l_run], blank)), blank)
    # a skip over the blank before label i: i > 0 and a label other than label i - 1
    allow2 = _interleave_blank((in_run & ~repeat[:, :l_run] & (pos[:, :l_run] > 0)).long(),
                               0)
    s_max = 2 * l_run + 1
    valid = _gpujit.arange(s_max, device=dev).unsqueeze(0) < (2 * run_len + 1).unsqueeze(1)
    p = lp.to(_gpujit.float64).exp().gather(2, ext.unsqueeze(0).expand(t_max, n, s_max))
    p = p * valid.unsqueeze(0).to(p.dtype)
    first = (_gpujit.arange(s_max, device=dev) < 2).to(_gpujit.float64)
    alpha = first.unsqueeze(0) * p[0]
    norm = alpha.sum(1, keepdim=True)
    log_c = norm.log().masked_fill(in_len.unsqueeze(1) == 0, 0.0)
    alpha = alpha / norm.masked_fill(norm == 0, 1.0)
    zero1 = alpha.new_zeros([n, 1])
    zero2 = alpha.new_zeros([n, 2])
    allow2_f = allow2.to(alpha.dtype)      # 0 / 1
    for t in range(1, t_max):
        s1 = _gpujit.cat([zero1, alpha[:, :-1]], 1)
        if s_max > 2:
            s2 = _gpujit.cat([zero2, alpha[:, :-2]], 1)
        else:
            s2 = alpha.new_zeros([n, s_max])
        new = (alpha + s1 + s2 * allow2_f) * p[t]
        norm = new.sum(1, keepdim=True)
        active = (in_len > t).unsqueeze(1)
        log_c = log_c + _gpujit.where(active, norm.log(), log_c.new_zeros([n, 1]))
        alpha = _gpujit.where(active, new / norm.masked_fill(norm == 0, 1.0), alpha)
    last = (2 * run_len).unsqueeze(1)
    prev = (2 * run_len - 1).clamp_min(0).unsqueeze(1)
    has_prev = (run_len > 0).unsqueeze(1).to(alpha.dtype)
    tail = alpha.gather(1, last) + alpha.gather(1, prev) * has_prev
    # no frames: probability 1 for an empty target (none is feasible otherwise)
    tail = _gpujit.where((in_len == 0).unsqueeze(1), _gpujit.ones_like(tail), tail)
    loss = -(log_c + tail.log()).reshape(n)
    loss = _gpujit.where(feasible, loss, _gpujit.full_like(loss, float("inf")))
    loss = loss.to(log_probs.dtype)
    # ATen's ctc_loss_backward returns exp(log_probs) - (alignment posteriors): the
    # derivative as if log_probs were log_softmax's logits. Added here with value 0, so the
    # gradient reaching log_probs is PyTorch's (through a log_softmax both are the same).
    frames = (_gpujit.arange(t_max, device=dev).unsqueeze(1) < in_len.unsqueeze(0)) & \
        feasible.unsqueeze(0)
    extra = (lp.exp() * frames.unsqueeze(2).to(lp.dtype)).sum([0, 2])
    loss = loss + (extra - extra.detach())
    if zero_infinity:
        loss = _gpujit.where(loss == float("inf"), _gpujit.zeros_like(loss), loss)
    if enum == 1:
        return (loss / tg_len.to(loss.dtype).clamp_min(1)).mean()
    if enum == 2:
        return loss.sum()
    return loss if batched else loss.reshape([])


from ._functional_norm import (  # noqa: E402
    rms_norm, local_response_norm, dropout1d, dropout2d, dropout3d, alpha_dropout,
    feature_alpha_dropout,
)

__all__ += ["rms_norm", "local_response_norm", "dropout1d", "dropout2d", "dropout3d",
            "alpha_dropout", "feature_alpha_dropout"]

from ._torch_functional import channel_shuffle  # noqa: E402  (F.channel_shuffle)
native_channel_shuffle = channel_shuffle
__all__ += ["channel_shuffle", "native_channel_shuffle"]
