"""gpujit.nn.functional: bound from the op registry (ops declared with functional=True) by
`gpujit/__init__.py`; the few pure-Python compositions PyTorch has here live below.

The functions below are PyTorch's Python-level adapters: they take torch.nn.functional's
argument order and legacy arguments (size_average/reduce, reduction strings, return_indices,
inplace, max_norm ...) and call registry ops, so the tracer records the ops themselves.
More adapters live in sibling modules re-exported at the end: _functional_losses.py
(margin, ranking, embedding, NLL and triplet losses), functional_conv_pool.py (pooling /
convolution variants), functional_attention.py (scaled_dot_product_attention,
multi_head_attention_forward), functional_extra.py (pdist, embedding_bag,
affine_grid, grid_sample, gumbel_softmax) and functional_interpolate.py (interpolate and
the deprecated upsample, upsample_nearest, upsample_bilinear).
"""
import contextlib as _contextlib
import sys as _sys
import warnings as _warnings
from typing import Optional

import gpujit as _gpujit
from .._frames import records_comparisons as _records_comparisons
from ..ops.parser_errors import scalar_args as _scalar_args, tensor_args as _tensor_args

from ..dtypes import dtype as _dtype
from ..ops import registry as _registry
from ..ops.registry import OPS as _OPS


def _op(name):
    return _OPS[name].public


# ---------------------------------------------------------------------- reductions

def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's _Reduction.legacy_get_string (size_average/reduce are deprecated)."""
    if size_average is None and reduce is None:
        return reduction
    _warnings.warn("size_average and reduce args will be deprecated, please use "
                  "reduction='{}' instead.".format(
                      "mean" if (size_average is None or size_average) and reduce in (None, True)
                      else "sum" if reduce in (None, True) else "none"), stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


_ENUM = {"none": 0, "mean": 1, "sum": 2}


def _enum(reduction):
    try:
        return _ENUM[reduction]
    except (KeyError, TypeError):
        raise ValueError(f"{reduction} is not a valid value for reduction") from None


def _warn_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        _warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due "
                      f"to broadcasting. Please ensure they have the same size.", stacklevel=3)


def _broadcast_pair(input, target):
    """torch.broadcast_tensors(input, target), as PyTorch's F.l1_loss / mse_loss /
    smooth_l1_loss / huber_loss call it: the operand that grows gets an ExpandBackward0
    node; operands of one shape are themselves (not a call, but while tracing)."""
    from ..ops import registry
    if tuple(target.shape) == tuple(input.shape) and registry.dispatch_state.tracing is None:
        return input, target        # (a trace records the call, as PyTorch's)
    from ..ops.shape_dims import broadcast_tensors
    return broadcast_tensors(input, target)


# ---------------------------------------------------------------------- activations
# PyTorch's F.<activation>(..., inplace=False): the registry op or its in-place variant.
# `fn.op` is the out-of-place op, whose schema is the adapter's signature minus `inplace`.

def _act(name, input, inplace, *args):
    return _op(f"aten::{name}_" if inplace else f"aten::{name}")(input, *args)


def _set_ops():
    for name in ("relu", "relu6", "leaky_relu", "elu", "selu", "celu", "silu", "mish",
                 "hardtanh", "hardsigmoid", "hardswish", "threshold", "hardshrink",
                 "softshrink", "prelu"):
        fn, op = globals()[name], _OPS.get(f"aten::{name}")
        if op is not None:
            fn.op = op
    logsigmoid.op = _OPS["aten::log_sigmoid"]
    glu.op = _OPS["aten::glu"]


def _from_source(fn):
    """A composite of gpujit ops that scripted code compiles from its own source, as
    TorchScript compiles torch.nn.functional's Python-level functions (F.tanhshrink):
    its ops then fuse with their neighbours."""
    fn.__gpujit_script_source__ = True
    return fn


def relu(input, inplace=False):
    return _act("relu", input, inplace)


def relu_(input):
    return _act("relu", input, True)


def relu6(input, inplace=False):
    return _act("relu6", input, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _act("leaky_relu", input, inplace, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return _act("leaky_relu", input, True, negative_slope)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: a slope per element at or below 0, drawn uniformly in
    [lower, upper] when training; (lower + upper) / 2 otherwise."""
    if inplace:
        return _op("aten::rrelu_")(input, lower, upper, training)
    return _op("aten::rrelu")(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return _op("aten::rrelu_")(input, lower, upper, training)


def elu(input, alpha=1.0, inplace=False):
    return _act("elu", input, inplace, alpha)


def elu_(input, alpha=1.0):
    return _act("elu", input, True, alpha)


def selu(input, inplace=False):
    return _act("selu", input, inplace)


def selu_(input):
    return _act("selu", input, True)


def celu(input, alpha=1.0, inplace=False):
    return _act("celu", input, inplace, alpha)


def celu_(input, alpha=1.0):
    return _act("celu", input, True, alpha)


def silu(input, inplace=False):
    return _act("silu", input, inplace)


def mish(input, inplace=False):
    return _act("mish", input, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    # (F.hardtanh's own check, as PyTorch's Python function; hardtanh_ has none)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _act("hardtanh", input, inplace, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return _act("hardtanh", input, True, min_val, max_val)


def hardsigmoid(input, inplace=False):
    return _act("hardsigmoid", input, inplace)


def hardswish(input, inplace=False):
    return _act("hardswish", input, inplace)


def threshold(input, threshold, value, inplace=False):
    return _act("threshold", input, inplace, threshold, value)


def threshold_(input, threshold, value):
    return _act("threshold", input, True, threshold, value)


def hardshrink(input, lambd=0.5):
    return _op("aten::hardshrink")(input, lambd)


def softshrink(input, lambd=0.5):
    return _op("aten::softshrink")(input, lambd)


@_from_source
def sigmoid(input):
    """torch.nn.functional.sigmoid: a Python function of `input` (no `self=`, no `out=`,
    unlike torch.sigmoid), compiled from its source in scripted code as torch's."""
    return input.sigmoid()


@_from_source
def tanh(input):
    """torch.nn.functional.tanh: a Python function of `input`, as F.sigmoid."""
    return input.tanh()


def logsigmoid(input):
    return _op("aten::log_sigmoid")(input)


def prelu(input, weight):
    return _op("aten::prelu")(input, weight)


@_from_source
def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


@_from_source
def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def glu(input, dim=-1):
    """The gated linear unit: a * sigmoid(b), a and b the halves of input along dim (the
    registry's aten::glu: one GluBackward0 node, as PyTorch's)."""
    return _op("aten::glu")(input, dim)


@_from_source
def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """The dim PyTorch's softmax/softmin/log_softmax pick when none is given (a deprecated
    call: it warns, as PyTorch)."""
    _warnings.warn("Implicit dimension choice for " + name + " has been deprecated. Change "
                   "the call to include dim=X as an argument.", stacklevel=stacklevel)
    if ndim == 0 or ndim == 1 or ndim == 3:
        return 0
    return 1


@_from_source
def softmin(input, dim: Optional[int] = None, _stacklevel: int = 3,
            dtype: Optional[_dtype] = None):
    """softmax(-input) along dim (computed in dtype when given)."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    return (-input).softmax(dim, dtype=dtype)


@_from_source
def softmax(input, dim: Optional[int] = None, _stacklevel: int = 3,
            dtype: Optional[_dtype] = None):
    """exp(x) / sum(exp(x)) along dim (computed in dtype when given); without dim, the
    deprecated implicit choice (PyTorch's, with its warning)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return input.softmax(dim, dtype=dtype)


@_from_source
def log_softmax(input, dim: Optional[int] = None, _stacklevel: int = 3,
                dtype: Optional[_dtype] = None):
    """log(softmax(x)) along dim, computed stably (in dtype when given); without dim, the
    deprecated implicit choice (PyTorch's, with its warning)."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return input.log_softmax(dim, dtype=dtype)


# ---------------------------------------------------------------------- distances

@_from_source
def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """The p-norm of x1 - x2 + eps over the last dimension (of the broadcast), as
    torch.pairwise_distance."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("pairwise_distance", "x1 x2", x1, x2)
        _scalar_args("pairwise_distance", "p:float:3 eps:float:4 keepdim:bool:5", p, eps, keepdim)
    nd = x1.dim() if x1.dim() > x2.dim() else x2.dim()
    return (x1 - x2 + eps).norm(p, nd - 1, keepdim)


# ---------------------------------------------------------------------- pooling

def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """2-D max pooling and the flat input index of each maximum."""
    return _op("aten::max_pool2d_with_indices")(
        input, kernel_size, [] if stride is None else stride, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling; with return_indices=True also the indices (as max_pool2d_with_indices)."""
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation,
                                       ceil_mode)
    return _op("aten::max_pool2d")(input, kernel_size, [] if stride is None else stride,
                                   padding, dilation, ceil_mode)


# ---------------------------------------------------------------------- normalization

@_records_comparisons         # (torch's _verify_batch_size: `size_prods == 1`, traced)
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Batch normalization; in training, updates running_mean/running_var in place, as
    ATen's kernel does: their version counters stay as they were (torch 2.13: _version 0
    after F.batch_norm(x, rm, rv, training=True); instance_norm's copy_ counts one)."""
    if training:
        size = input.size()
        n = size[0] if len(size) else 1
        for s in size[2:]:
            n *= s
        if n == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {size}")
    return _op("aten::batch_norm")(input, weight, bias, running_mean, running_var, training,
                                   momentum, eps, True)


@_records_comparisons
def _verify_spatial_size(size):
    size_prods = 1
    for i in range(2, len(size)):
        size_prods *= size[i]
    if size_prods == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size {size}")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Instance normalization (each sample's channels over their spatial dims); with
    use_input_stats, updates running_mean/running_var in place when given."""
    if use_input_stats:
        _verify_spatial_size(input.size())
    stats = [t for t in (running_mean, running_var) if t is not None and use_input_stats]
    before = [t._version for t in stats]
    out = _op("aten::instance_norm")(input, weight, bias, running_mean, running_var,
                                     use_input_stats, momentum, eps, True)
    for t, v in zip(stats, before):
        if t._version == v:     # (ATen's copy_ into them counts one write; the composite
            t._vc[0] += 1       # that records gradients made that copy_ itself)
    return out


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return out.copy_(input / denom)


# ---------------------------------------------------------------------- dropout / embedding

def dropout(input, p=0.5, training=True, inplace=False):
    """Zero elements with probability p and scale the rest by 1/(1-p) when training."""
    if training.__class__ is not bool:      # (dropout(x, 0.5, None): aten::dropout's `bool train`)
        _scalar_args("dropout", "train:bool:3", training)
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if (not training or p == 0) and _registry.dispatch_state.tracing is None and \
            not input.is_nested:
        return input    # the input itself, untouched (ATen's early return; a trace records
        # the call, aten::dropout(input, p, False), as TorchScript's tracer does; a nested
        # tensor goes through native_dropout, a new tensor, as ATen's)
    if inplace:
        return _op("aten::dropout_")(input, p, training)
    return _op("aten::dropout")(input, p, training)


def _no_grad():
    import gpujit
    ng = getattr(gpujit, "no_grad", None)
    return ng() if ng is not None else _contextlib.nullcontext()


@_from_source
def embedding(input, weight, padding_idx: Optional[int] = None,
              max_norm: Optional[float] = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """Rows of weight at the indices in input; max_norm renormalizes the looked-up rows of
    weight in place first (compiled from this source in scripted code, as TorchScript
    compiles torch.nn.functional.embedding)."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("embedding", "input weight", input, weight)
    n = weight.size(0)
    pidx = -1
    if padding_idx is not None:
        pidx = padding_idx
        if padding_idx > 0:
            assert padding_idx < n, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -n, "Padding_idx must be within num_embeddings"
            pidx = n + padding_idx
    if max_norm is not None:
        # (through weight.detach() as torch's _no_grad_embedding_renorm_: a trace records
        # the write on a detached alias, and the lookup below reads the weight itself)
        with _gpujit.no_grad():
            _gpujit.embedding_renorm_(weight.detach(), input, max_norm, norm_type)
    return _gpujit.embedding(weight, input, pidx, scale_grad_by_freq, sparse)


# ---------------------------------------------------------------------- losses

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    a, b = _broadcast_pair(input, target)
    if weight is not None:
        return _weighted_loss(input, _gpujit.pow(a - b, 2), weight, reduction, True)
    return _op("aten::mse_loss")(a, b, _enum(reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    a, b = _broadcast_pair(input, target)
    if weight is not None:
        return _weighted_loss(input, _gpujit.abs(a - b), weight, reduction, True)
    return _op("aten::l1_loss")(a, b, _enum(reduction))


# torch 2.13's weight= of mse_loss / l1_loss / huber_loss: the elementwise loss times the
# weight (of the input's size), summed, or for 'mean' divided by the weight's sum (mse,
# l1) or averaged (huber); Python-level in torch (its nodes: MulBackward0, SumBackward0,
# DivBackward0 / MeanBackward0), and so here and in scripted code
@_from_source
def _weighted_loss(input, loss, weight: _gpujit.Tensor, reduction: str, by_weight: bool):
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    weighted = loss * weight
    if reduction == "none":
        return weighted
    elif reduction == "sum":
        return _gpujit.sum(weighted)
    elif reduction == "mean":
        if by_weight:
            return _gpujit.sum(weighted) / _gpujit.sum(weight)
        return weighted.mean()
    raise ValueError("Invalid reduction mode: " + reduction
                     + ". Expected one of 'none', 'mean', 'sum'.")


_mse_loss_op = _OPS["aten::mse_loss"].public
_l1_loss_op = _OPS["aten::l1_loss"].public
_huber_loss_op = _OPS["aten::huber_loss"].public


@_from_source
def _mse_loss_weighted(input, target, size_average: Optional[bool] = None,
                       reduce: Optional[bool] = None, reduction: str = "mean",
                       weight: Optional[_gpujit.Tensor] = None):
    reduction = _more._reduction(size_average, reduce, reduction)
    ab = _gpujit.broadcast_tensors(input, target)
    if weight is None:
        return _mse_loss_op(ab[0], ab[1], _more._enum(reduction))
    return _weighted_loss(input, _gpujit.pow(ab[0] - ab[1], 2), weight, reduction, True)


@_from_source
def _l1_loss_weighted(input, target, size_average: Optional[bool] = None,
                      reduce: Optional[bool] = None, reduction: str = "mean",
                      weight: Optional[_gpujit.Tensor] = None):
    reduction = _more._reduction(size_average, reduce, reduction)
    ab = _gpujit.broadcast_tensors(input, target)
    if weight is None:
        return _l1_loss_op(ab[0], ab[1], _more._enum(reduction))
    return _weighted_loss(input, _gpujit.abs(ab[0] - ab[1]), weight, reduction, True)


@_from_source
def _huber_loss_weighted(input, target, reduction: str = "mean", delta: float = 1.0,
                         weight: Optional[_gpujit.Tensor] = None):
    ab = _gpujit.broadcast_tensors(input, target)
    if weight is None:
        return _huber_loss_op(ab[0], ab[1], _more._enum(reduction), delta)
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    return _weighted_loss(input, _huber_loss_op(ab[0], ab[1], 0, delta), weight, reduction,
                          False)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    _warn_size(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _broadcast_pair(input, target)
    return _op("aten::smooth_l1_loss")(input, target, _enum(reduction), beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _warn_size(input, target)
    a, b = _broadcast_pair(input, target)
    if weight is not None:
        if weight.size() != input.size():
            raise ValueError("Weights and input must have the same size.")
        return _weighted_loss(input, _op("aten::huber_loss")(a, b, 0, delta), weight,
                              reduction, False)
    return _op("aten::huber_loss")(a, b, _enum(reduction), delta)


# (scripted calls giving weight= compile the weighted variants)
mse_loss.__gpujit_given_dispatch__ = ("weight", 5, _mse_loss_weighted)
l1_loss.__gpujit_given_dispatch__ = ("weight", 5, _l1_loss_weighted)
huber_loss.__gpujit_given_dispatch__ = ("weight", 4, _huber_loss_weighted)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.size()}) that is different to the "
                         f"input size ({input.size()}) is deprecated. Please ensure they "
                         f"have the same size.")
    if weight is not None:
        from ..ops.meta import broadcast_shapes
        if broadcast_shapes(tuple(target.shape), tuple(weight.shape)) != tuple(target.shape):
            raise RuntimeError(f"The expanded size of the tensor ({list(target.shape)}) must "
                               f"match the existing size of the weight "
                               f"({list(weight.shape)})")
    if target.dtype != input.dtype:
        # (the op's own check, here too: its arrays cannot tell bfloat16 from float32)
        raise RuntimeError(f"Found dtype {target.dtype.short_name} but expected "
                           f"{input.dtype.short_name}")
    return _op("aten::binary_cross_entropy")(input, target, weight, _enum(reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    return _op("aten::binary_cross_entropy_with_logits")(input, target, weight, pos_weight,
                                                         _enum(reduction))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood; input (N, C, d1, ...) or (C,) log-probabilities."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _op("aten::nll_loss_nd")(input, target, weight, _enum(reduction), ignore_index)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax + nll_loss over class dim 1; target holds class indices, or class
    probabilities when it has the input's shape."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _op("aten::cross_entropy_loss")(input, target, weight, _enum(reduction),
                                           ignore_index, label_smoothing)


_set_ops()


# ---------------------------------------------------------------------- torch's parameter names
# The registry schemas name the first argument `self` (ATen's name); torch.nn.functional
# calls it `input`, and users pass it by keyword.

def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _op("aten::avg_pool2d")(input, kernel_size, () if stride is None else stride,
                                   padding, ceil_mode, count_include_pad, divisor_override)


def adaptive_avg_pool1d(input, output_size):
    return _op("aten::adaptive_avg_pool1d")(input, output_size)


def _sizes_with_default(input, output_size):
    """output_size's None entries read from input's trailing sizes first, as torch's
    _list_with_default (a trace records them as aten::size of the input, not a list holding
    None). input.size() is read whatever output_size is, as torch's caller does: a trace
    records each dim's size (numbered values, dead after: torch's graph numbers)."""
    sizes = input.size()
    if isinstance(output_size, (list, tuple)) and any(v is None for v in output_size):
        k, n = len(output_size), len(sizes)
        return [sizes[n - k + i] if v is None else v for i, v in enumerate(output_size)]
    return output_size


def adaptive_avg_pool2d(input, output_size):
    return _op("aten::adaptive_avg_pool2d")(input, _sizes_with_default(input, output_size))


def adaptive_avg_pool3d(input, output_size):
    return _op("aten::adaptive_avg_pool3d")(input, _sizes_with_default(input, output_size))


def pad(input, pad, mode="constant", value=None):
    return _op("aten::pad")(input, pad, mode, value)


# (Python-level in torch, as their __torch_function__ handlers see: F.layer_norm(x, shape,
# weight=None, bias=None, eps=1e-05); torch.layer_norm is the op's own)
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    return _op("aten::layer_norm")(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    return _op("aten::group_norm")(input, num_groups, weight, bias, eps)


for _f, _name in ((avg_pool2d, "aten::avg_pool2d"), (layer_norm, "aten::layer_norm"),
                  (group_norm, "aten::group_norm"),
                  (adaptive_avg_pool1d, "aten::adaptive_avg_pool1d"),
                  (adaptive_avg_pool2d, "aten::adaptive_avg_pool2d"),
                  (adaptive_avg_pool3d, "aten::adaptive_avg_pool3d"), (pad, "aten::pad")):
    _f.op = _OPS[_name]
del _f, _name
from . import _functional_losses as _more  # noqa: E402  (losses, rms_norm, LRN, dropouts)
globals().update({_n: getattr(_more, _n) for _n in _more.__all__})
from .functional_conv_pool import *  # noqa: E402,F401,F403  (pooling / conv variants)
from .functional_attention import *  # noqa: E402,F401,F403  (attention, MHA)
from .functional_extra import *  # noqa: E402,F401,F403  (pdist, embedding_bag,
#   affine_grid, grid_sample, gumbel_softmax, conv_tbc)
from .functional_fractional import *  # noqa: E402,F401,F403  (fractional_max_pool2d/3d)
from .functional_interpolate import *  # noqa: E402,F401,F403  (interpolate, upsample*)
from .functional_lce import linear_cross_entropy  # noqa: E402,F401  (torch 2.13)
from . import grad  # noqa: F401,E402  (torch.nn.functional.grad is torch.nn.grad)
from ..overrides import (has_torch_function, has_torch_function_unary,  # noqa: E402,F401
                         has_torch_function_variadic, handle_torch_function)
from . import _functional_scripted  # noqa: E402  (torch-shaped bodies scripted calls compile)
_functional_scripted.bind(_sys.modules[__name__])
