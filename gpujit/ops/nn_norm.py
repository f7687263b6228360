"""nn ops: batch/layer/group normalization, dropout, embedding, one_hot and pad (the rest of
the family is in nn.py and nn_loss.py)."""
from __future__ import annotations

import weakref

import numpy as np

from .. import dtypes as _dt
from ..device import device_of_array
from . import memory_format as _mf
from .meta import TensorMeta
from .nn import FLOATS, _NN, check_float, compute_dtype, dtype_of, sizes
from . import registry as _reg
from .registry import op


def _same(self, *args, **kwargs):
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


# ---------------------------------------------------------------------- batch norm

def _mixed_dtype_check(input, *params):
    """PyTorch's CPU rule for normalization parameters: the input's dtype, or float32 for a
    float16 input."""
    di = dtype_of(input)
    for t in params:
        if t is None:
            continue
        d = dtype_of(t)
        if d is di or (di is _dt.float16 and d is _dt.float32):
            continue
        if d is _dt.float32:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")


def _bn_check(input, weight, bias, running_mean, running_var, training):
    check_float("batch_norm", input)
    _mixed_dtype_check(input, weight, bias, running_mean, running_var)
    if len(input.shape) < 2:
        raise ValueError(f"batch_norm: expected an input with at least 2 dimensions (N, C, "
                         f"...), but got input of size {sizes(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is None and not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and c is not None:
            n = int(np.prod(t.shape, dtype=np.int64))
            if n != c:
                raise RuntimeError(f"{name} should contain {c} elements not {n}")


@op("aten::batch_norm(Tensor input, Tensor? weight, Tensor? bias, Tensor(a!)? running_mean, "
    "Tensor(b!)? running_var, bool training, float momentum, float eps, bool cudnn_enabled) "
    "-> Tensor", tags=_NN, method=False, dtypes=FLOATS,
    meta=lambda input, weight, bias, running_mean, running_var, *rest: (
        _bn_check(input, weight, bias, running_mean, running_var, rest[0]), _same(input))[1])
def batch_norm(xp, input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """Normalize over every dim but 1. In training the batch statistics are used and the
    running ones updated in place (with the unbiased variance), as PyTorch."""
    _bn_check(input, weight, bias, running_mean, running_var, training)
    if input.size == 0:
        return input.copy()
    c = input.shape[1]
    ct = compute_dtype(xp, input)
    x = input.astype(ct, copy=False)
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        n = x.size // c
        if running_mean is not None:
            running_mean[...] = ((1 - momentum) * running_mean.reshape(c)
                                 + momentum * mean).reshape(running_mean.shape)
        if running_var is not None:
            unbiased = var * (n / (n - 1) if n > 1 else float("nan"))
            running_var[...] = ((1 - momentum) * running_var.reshape(c)
                                + momentum * unbiased).reshape(running_var.shape)
    else:
        mean = running_mean.reshape(c).astype(ct, copy=False)
        var = running_var.reshape(c).astype(ct, copy=False)
    invstd = 1 / xp.sqrt(var + eps)
    out = (x - mean.reshape(shape)) * invstd.astype(ct, copy=False).reshape(shape)
    if weight is not None:
        out = out * weight.astype(ct, copy=False).reshape(shape)
    if bias is not None:
        out = out + bias.astype(ct, copy=False).reshape(shape)
    # PyTorch's empty_like(input, input.suggest_memory_format()): channels-last stays
    # channels-last, any other layout (a transposed input) gives a C-contiguous result
    return _mf.suggest_layout(xp, out.astype(input.dtype, copy=False), input)


# ---------------------------------------------------------------------- layer / group norm

def _ln_check(input, normalized_shape, weight, bias):
    check_float("layer_norm", input)
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    ns = tuple(int(s) for s in normalized_shape)
    if not ns:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {sizes(t.shape)} and normalized_shape = "
                               f"{sizes(ns)}")
    shape = tuple(input.shape)
    if len(shape) < len(ns) or any(a is not None and a != b
                                   for a, b in zip(shape[len(shape) - len(ns):], ns)):
        raise RuntimeError(f"Given normalized_shape={sizes(ns)}, expected input with shape "
                           f"[*{''.join(', ' + str(s) for s in ns)}], but got input of size"
                           f"{sizes(shape)}")
    return ns


def _normalize(xp, x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / xp.sqrt(var + eps)


@op("aten::layer_norm(Tensor input, SymInt[] normalized_shape, Tensor? weight=None, "
    "Tensor? bias=None, float eps=1e-05, bool cudnn_enable=True) -> Tensor", tags=_NN,
    contiguous=True,
    method=False, functional=True, dtypes=FLOATS,
    meta=lambda input, normalized_shape, weight=None, bias=None, *rest: (
        _ln_check(input, normalized_shape, weight, bias), _same(input))[1])
def layer_norm(xp, input, normalized_shape, weight=None, bias=None, eps=1e-05,
               cudnn_enable=True):
    """Normalize over the trailing dims `normalized_shape` (biased variance)."""
    ns = _ln_check(input, normalized_shape, weight, bias)
    if input.size == 0:
        return input.copy()
    ct = compute_dtype(xp, input)
    nd = input.ndim
    out = _normalize(xp, input.astype(ct, copy=False), tuple(range(nd - len(ns), nd)), eps)
    if weight is not None:
        out = out * weight.astype(ct, copy=False)
    if bias is not None:
        out = out + bias.astype(ct, copy=False)
    return out.astype(input.dtype, copy=False)


def _gn_check(input, num_groups, weight, bias):
    check_float("group_norm", input)
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{len(shape)}")
    c = shape[1]
    if num_groups <= 0 or (c is not None and c % num_groups):
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {sizes(shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (len(t.shape) != 1 or (c is not None and t.shape[0] != c)):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number "
                               f"of channels in input, but got {name} of shape "
                               f"{sizes(t.shape)} and input of shape {sizes(shape)}")


@op("aten::group_norm(Tensor input, int num_groups, Tensor? weight=None, Tensor? bias=None, "
    "float eps=1e-05, bool cudnn_enabled=True) -> Tensor", tags=_NN, method=False,
    functional=True, dtypes=FLOATS,
    meta=lambda input, num_groups, weight=None, bias=None, *rest: (
        _gn_check(input, num_groups, weight, bias), _same(input))[1])
def group_norm(xp, input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """Normalize each of `num_groups` channel groups per sample; per-channel affine."""
    _gn_check(input, num_groups, weight, bias)
    if input.size == 0:
        return input.copy()
    ct = compute_dtype(xp, input)
    n, c = input.shape[:2]
    x = input.astype(ct, copy=False).reshape(n, num_groups, -1)
    out = _normalize(xp, x, (2,), eps).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.astype(ct, copy=False).reshape(shape)
    if bias is not None:
        out = out + bias.astype(ct, copy=False).reshape(shape)
    # C-contiguous, channels-last for a channels-last input (PyTorch's native_group_norm)
    return _mf.suggest_layout(xp, out.astype(input.dtype, copy=False), input)


# ---------------------------------------------------------------------- instance norm

def _in_check(input, weight, bias, running_mean, running_var, use_input_stats):
    """ATen's instance_norm runs batch_norm on the (1, N*C, *) view with the per-channel
    tensors repeated N times: its errors count N*C elements."""
    check_float("instance_norm", input)
    _mixed_dtype_check(input, weight, bias, running_mean, running_var)
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise ValueError(f"instance_norm: expected an input with at least 2 dimensions "
                         f"(N, C, ...), but got input of size {sizes(shape)}")
    if shape[0] is None or shape[1] is None:
        return
    nc = shape[0] * shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None:
            n = int(np.prod(t.shape, dtype=np.int64)) * shape[0]
            if n != nc:
                raise RuntimeError(f"{name} should contain {nc} elements not {n}")


@op("aten::instance_norm(Tensor input, Tensor? weight, Tensor? bias, Tensor(a!)? running_mean, "
    "Tensor(b!)? running_var, bool use_input_stats, float momentum, float eps, "
    "bool cudnn_enabled) -> Tensor", tags=_NN, method=False, dtypes=FLOATS,
    meta=lambda input, weight, bias, running_mean, running_var, use_input_stats, *rest: (
        _in_check(input, weight, bias, running_mean, running_var, use_input_stats),
        _same(input))[1])
def instance_norm(xp, input, weight, bias, running_mean, running_var, use_input_stats,
                  momentum, eps, cudnn_enabled):
    """Normalize each (sample, channel) plane over the spatial dims. With use_input_stats
    the running statistics (if given) move towards the batch means of the per-instance
    mean and unbiased variance, as ATen's batch_norm on the (1, N*C, *) view does."""
    _in_check(input, weight, bias, running_mean, running_var, use_input_stats)
    if input.size == 0:
        return input.copy()
    c = input.shape[1]
    ct = compute_dtype(xp, input)
    x = input.astype(ct, copy=False)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if use_input_stats:
        axes = tuple(range(2, input.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        n = x.size // (input.shape[0] * c)
        if running_mean is not None:
            running_mean[...] = ((1 - momentum) * running_mean.reshape(c) + momentum
                                 * mean.reshape(input.shape[0], c).mean(axis=0)
                                 ).reshape(running_mean.shape)
        if running_var is not None:
            unbiased = var.reshape(input.shape[0], c) * (n / (n - 1) if n > 1
                                                         else float("nan"))
            running_var[...] = ((1 - momentum) * running_var.reshape(c) + momentum
                                * unbiased.mean(axis=0)).reshape(running_var.shape)
    else:
        mean = running_mean.reshape(shape).astype(ct, copy=False)
        var = running_var.reshape(shape).astype(ct, copy=False)
    out = (x - mean) * (1 / xp.sqrt(var + eps)).astype(ct, copy=False)
    if weight is not None:
        out = out * weight.astype(ct, copy=False).reshape(shape)
    if bias is not None:
        out = out + bias.astype(ct, copy=False).reshape(shape)
    # C-contiguous as PyTorch's (batch_norm on input.contiguous().view(1, N*C, *))
    return _mf.c_layout(xp, out.astype(input.dtype, copy=False))


# ---------------------------------------------------------------------- dropout

def _dropout_check(p, input):
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    d = dtype_of(input)
    if d.category != _dt.FLOATING:
        raise RuntimeError(f"dropout: expected a floating point input, got {d.short_name}")


def _keep_mask(xp, a, p):
    """Bernoulli(1 - p) keep mask of a's shape, from the device's default generator."""
    from .random import generator_for
    dt = np.dtype(np.float64 if a.dtype == np.float64 else np.float32)
    return generator_for(device_of_array(a)).uniform(a.shape, dt) < 1 - p


# output array id -> its keep mask, while the output lives: dropout's derivative needs the
# mask, and its result alone does not give it where the input is 0. Kept only once
# autograd is active (a tensor has required grad), so plain inference stores nothing.
_KEEP_MASKS: dict = {}


def _remember_mask(out, keep):
    if _reg.dispatch_state.autograd is not None:
        _KEEP_MASKS[id(out)] = keep
        weakref.finalize(out, _KEEP_MASKS.pop, id(out), None)
    return out


def _dropout(xp, input, p):
    keep = _keep_mask(xp, input, p)
    out = (input * keep * input.dtype.type(1 / (1 - p))).astype(input.dtype, copy=False)
    return out, keep


@op("aten::dropout(Tensor input, float p, bool train) -> Tensor", tags=_NN | {"random"},
    method=False, dtypes=FLOATS,
    meta=lambda input, p, train: (_dropout_check(p, input), _same(input))[1])
def dropout(xp, input, p, train):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training);
    the input itself otherwise."""
    _dropout_check(p, input)
    if not train or p == 0 or input.size == 0:
        return input
    if p == 1:
        return xp.zeros_like(input)
    return _remember_mask(*_dropout(xp, input, p))


@op("aten::dropout_(Tensor(a!) self, float p, bool train) -> Tensor(a!)",
    tags=_NN | {"random", "inplace"}, method=False, dtypes=FLOATS,
    meta=lambda self, p, train: (_dropout_check(p, self), _same(self))[1])
def dropout_(xp, self, p, train):
    """In-place dropout; self untouched (its version too) when not training or p == 0."""
    _dropout_check(p, self)
    if _dropout_unchanged(self, p, train) or self.size == 0:
        return _reg.UNCHANGED
    if p == 1:
        self[...] = 0
    else:
        out, keep = _dropout(xp, self, p)
        self[...] = out
        _remember_mask(self, keep)
    return self


def _dropout_unchanged(self, p, train):
    return not train or p == 0


dropout_.op.unchanged_when = _dropout_unchanged


# ---------------------------------------------------------------------- embedding

def _emb_check(weight, indices):
    di = dtype_of(indices)
    if di not in (_dt.int64, _dt.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"{'torch.' + di.short_name}Tensor instead (while checking "
                           f"arguments for embedding)")
    if len(weight.shape) != 2:
        raise RuntimeError("'weight' must be 2-D")


def _check_index_range(xp, indices, n):
    from .bounds import check
    check(xp, indices, n, 0, IndexError, "index out of range in self")   # (one sync on GPU)


@op("aten::embedding(Tensor weight, Tensor indices, SymInt padding_idx=-1, "
    "bool scale_grad_by_freq=False, bool sparse=False) -> Tensor", tags=_NN, method=False,
    meta=lambda weight, indices, *rest: (_emb_check(weight, indices), TensorMeta(
        weight.dtype, tuple(indices.shape) + tuple(weight.shape[1:]), weight.device))[1])
def embedding(xp, weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of `weight` at `indices` (output shape indices.shape + (embedding_dim,))."""
    _emb_check(weight, indices)
    _check_index_range(xp, indices, weight.shape[0])
    return xp.take(weight, indices, axis=0)


@op("aten::embedding_renorm_(Tensor(a!) self, Tensor indices, float max_norm, "
    "float norm_type) -> Tensor(a!)", tags=_NN | {"inplace"}, method=False,
    meta=lambda self, indices, max_norm, norm_type: (_emb_check(self, indices),
                                                      _same(self))[1])
def embedding_renorm_(xp, self, indices, max_norm, norm_type):
    """Rescale, in place, each row of `self` named in `indices` whose norm_type-norm
    exceeds max_norm to norm max_norm / (norm + 1e-7) * norm."""
    _emb_check(self, indices)
    _check_index_range(xp, indices, self.shape[0])
    rows = xp.unique(indices.reshape(-1))
    if rows.size == 0:
        return self
    w = self[rows].astype(compute_dtype(xp, self), copy=False)
    a = xp.abs(w)
    if norm_type == float("inf"):
        norm = a.max(axis=1)
    elif norm_type == 0:
        norm = (a != 0).sum(axis=1).astype(w.dtype)
    else:
        norm = (a ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norm > max_norm, max_norm / (norm + 1e-7), 1).astype(w.dtype)
    self[rows] = (w * scale[:, None]).astype(self.dtype, copy=False)
    return self


# ---------------------------------------------------------------------- one_hot

def _one_hot_meta(self, num_classes=-1):
    if self.dtype is not _dt.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    return TensorMeta(_dt.int64, tuple(self.shape) + (num_classes if num_classes >= 0
                                                      else None,), self.device)


@op("aten::one_hot(Tensor self, int num_classes=-1) -> Tensor", tags=_NN, method=False,
    contiguous=True,
    function=False, functional=True, meta=_one_hot_meta, dtypes=(_dt.int64,))
def one_hot(xp, self, num_classes=-1):
    """int64 one-hot encoding along a new last dim (num_classes=-1: max + 1 classes)."""
    _one_hot_meta(TensorMeta(dtype_of(self), self.shape, None), num_classes)
    if self.size == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return xp.zeros(self.shape + (num_classes,), np.int64)
    from .bounds import extrema
    (mn, mx), = extrema(xp, self)                     # (one sync on the GPU)
    if mn < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = mx + 1
    elif mx >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return (self[..., None] == xp.arange(num_classes)).astype(np.int64)


# ---------------------------------------------------------------------- pad

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_geometry(shape, pad, mode, value):
    """(left, right) per dim of `shape` from F.pad's last-dim-first list, and the output
    shape; PyTorch's checks."""
    pad = [int(p) for p in pad]
    nd = len(shape)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unrecognised padding mode {mode!r}; expected one of "
                         f"{', '.join(repr(m) for m in _PAD_MODES)}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > 2 * nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {nd}")
    k = len(pad) // 2
    widths = [(0, 0)] * (nd - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        if not ((k == 1 and nd in (2, 3)) or (k == 2 and nd in (3, 4))
                or (k == 3 and nd in (4, 5))):
            raise RuntimeError(f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of a 2D-3D, "
                               f"3D-4D or 4D-5D input (as PyTorch); got {k} padded dims of a "
                               f"{nd}D input")
    out = []
    for d, ((l, r), n) in enumerate(zip(widths, shape)):
        if n is None:
            out.append(None)
            continue
        if mode == "reflect" and d >= nd - k and not (l < n and r < n):
            arg = 4 + 2 * (nd - 1 - d)
            raise RuntimeError(f"Argument #{arg}: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({l}, {r}) "
                               f"at dimension {d} of input {sizes(shape)}")
        if mode == "circular" and d >= nd - k and not (l <= n and r <= n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        size = n + l + r
        if size < 0 or (size == 0 and mode != "constant"):
            raise RuntimeError(f"The input size {n}, plus negative padding {l} and {r} "
                               f"resulted in a negative output size, which is invalid. Check "
                               f"dimension {d} of your input.")
        out.append(size)
    return widths, tuple(out)


@op("aten::pad(Tensor self, SymInt[] pad, str mode=\"constant\", float? value=None) "
    "-> Tensor", tags=_NN, method=False, function=False, functional=True,
    meta=lambda self, pad, mode="constant", value=None: TensorMeta(
        self.dtype, _pad_geometry(self.shape, pad, mode, value)[1], self.device))
def pad(xp, self, pad, mode="constant", value=None):
    """Pad (or, with negative sizes, crop) the trailing dims; `pad` lists (left, right)
    for the last dim first. Modes: constant (value, default 0), reflect (mirror without
    the edge), replicate (repeat the edge), circular (wrap around)."""
    widths, out_shape = _pad_geometry(self.shape, pad, mode, value)
    pos = tuple((max(l, 0), max(r, 0)) for l, r in widths)
    crop = tuple(slice(max(-l, 0), n - max(-r, 0)) for (l, r), n in zip(widths, self.shape))
    if mode == "constant":
        out = xp.full(out_shape, 0 if value is None else value, dtype=self.dtype)
        dest = tuple(slice(a, a + (s.stop - s.start)) for (a, _), s in zip(pos, crop))
        out[dest] = self[crop]
        return out
    if mode == "circular":   # ATen crops first, then wraps around what is left
        return xp.pad(self[crop], pos, mode="wrap")
    out = xp.pad(self, pos, mode="reflect" if mode == "reflect" else "edge")
    return xp.ascontiguousarray(out[tuple(
        slice(max(-l, 0), m - max(-r, 0)) for (l, r), m in zip(widths, out.shape))])


# ---------------------------------------------------------------------- derivatives
# (gpujit.autograd) with registry ops; the statistics are recomputed from the saved input
# (PyTorch saves them from the forward). Formulas: PyTorch's batchnorm_backward,
# layer_norm_backward and group_norm_backward.
from .registry import derivative as _derivative  # noqa: E402
from .registry import nondifferentiable as _nondifferentiable  # noqa: E402


def _norm_input_grad(g, xhat, invstd, dims):
    """d/d x of xhat = (x - mean) * invstd, mean and (biased) var over dims, given g = the
    gradient reaching xhat."""
    return invstd * (g - g.mean(dims, keepdim=True)
                     - xhat * (g * xhat).mean(dims, keepdim=True))


def _empty_grads(grad, *params):
    import gpujit
    return (grad,) + tuple(None if t is None else gpujit.zeros_like(t) for t in params)


@_derivative(batch_norm)
def _batch_norm_grad(grad, input, weight, bias, running_mean, running_var, training, eps):
    if input.numel() == 0:
        return _empty_grads(grad, weight, bias) + (None, None)
    c = input.shape[1]
    dims = [0] + list(range(2, input.dim()))
    shape = [1, c] + [1] * (input.dim() - 2)
    if training:
        mean = input.mean(dims, keepdim=True)
        var = ((input - mean) ** 2).mean(dims, keepdim=True)
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    invstd = (var + eps).rsqrt()
    xhat = (input - mean) * invstd
    w = weight.reshape(shape) if weight is not None else None
    gxhat = grad * w if w is not None else grad
    gw = (grad * xhat).sum(dims).reshape(weight.shape) if weight is not None else None
    gb = grad.sum(dims).reshape(bias.shape) if bias is not None else None
    if training:      # the batch statistics depend on the input; the running ones are unused
        return _norm_input_grad(gxhat, xhat, invstd, dims), gw, gb, None, None
    gi = gxhat * invstd
    # evaluation: the output is a function of the running statistics too (PyTorch leaves
    # them without a derivative; these are the exact ones)
    grm = (-gi).sum(dims).reshape(running_mean.shape)
    grv = ((gxhat * xhat).sum(dims, keepdim=True) * (-0.5) * invstd * invstd).reshape(
        running_var.shape)
    return gi, gw, gb, grm, grv


@_derivative(layer_norm)
def _layer_norm_grad(grad, input, normalized_shape, weight, bias, eps):
    if input.numel() == 0:
        return _empty_grads(grad, weight, bias)
    nd = len(normalized_shape) if not isinstance(normalized_shape, int) else 1
    dims = list(range(input.dim() - nd, input.dim()))
    mean = input.mean(dims, keepdim=True)
    invstd = (((input - mean) ** 2).mean(dims, keepdim=True) + eps).rsqrt()
    xhat = (input - mean) * invstd
    gxhat = grad * weight if weight is not None else grad
    # weight / bias gradients keep the input's shape: autograd sums the leading dims
    return (_norm_input_grad(gxhat, xhat, invstd, dims),
            grad * xhat if weight is not None else None, grad if bias is not None else None)


@_derivative(group_norm)
def _group_norm_grad(grad, input, num_groups, weight, bias, eps):
    if input.numel() == 0:
        return _empty_grads(grad, weight, bias)
    n, c = input.shape[0], input.shape[1]
    shape = [1, c] + [1] * (input.dim() - 2)
    x = input.reshape(n, num_groups, -1)
    mean = x.mean([2], keepdim=True)
    invstd = (((x - mean) ** 2).mean([2], keepdim=True) + eps).rsqrt()
    xhat = (x - mean) * invstd
    gxhat = grad * weight.reshape(shape) if weight is not None else grad
    gi = _norm_input_grad(gxhat.reshape(n, num_groups, -1), xhat, invstd, [2])
    dims = [0] + list(range(2, input.dim()))
    gw = (grad * xhat.reshape(input.shape)).sum(dims) if weight is not None else None
    return gi.reshape(input.shape), gw, grad.sum(dims) if bias is not None else None


@_derivative(instance_norm)
def _instance_norm_grad(grad, input, weight, bias, running_mean, running_var,
                        use_input_stats, eps):
    """With the input's statistics: group_norm with one group per channel; with the
    running ones: batch_norm in evaluation."""
    if use_input_stats:
        return _group_norm_grad(grad, input, input.shape[1], weight, bias, eps) + (None, None)
    return _batch_norm_grad(grad, input, weight, bias, running_mean, running_var, False, eps)


@_derivative(dropout, dropout_)
def _dropout_grad(grad, result, p, train):
    """The same mask as the forward (PyTorch's native_dropout_backward: grad * mask * scale)."""
    import gpujit
    if not train or p == 0:
        return grad
    if p == 1:
        return gpujit.zeros_like(grad)
    keep = _KEEP_MASKS.get(id(result._data))
    if keep is None:    # mask not stored (an empty tensor): kept exactly where result != 0
        mask = result != 0
    else:
        mask = _reg.wrap(keep, _dt.bool, result.device)
    return grad * mask * (1 / (1 - p))


@_derivative(embedding, wrt=("weight",))
def _embedding_grad(grad, weight, indices, padding_idx, scale_grad_by_freq):
    """Each looked-up row's gradient added to its row; padding_idx's row gets none;
    scale_grad_by_freq divides by how often each index occurs in `indices`."""
    import gpujit
    idx = indices.reshape(-1)
    g = grad.reshape(idx.shape[0], weight.shape[1])
    if padding_idx >= 0:
        g = g.masked_fill((idx == padding_idx).unsqueeze(1), 0)
    if scale_grad_by_freq:
        counts = gpujit.zeros(weight.shape[0], dtype=grad.dtype, device=grad.device)
        counts = counts.index_add(0, idx, gpujit.ones_like(idx, dtype=grad.dtype))
        g = g / counts.index_select(0, idx).unsqueeze(1)
    z = gpujit.zeros(tuple(weight.shape), dtype=grad.dtype, device=grad.device)
    return z.index_add(0, idx, g)


_nondifferentiable(embedding_renorm_, reason=(
    "it rescales embedding rows in place before a lookup; F.embedding calls it under "
    "no_grad and PyTorch implements no derivative for it (not_implemented)"))


def _pad_source(n, left, right, mode):
    """Input position of each output position along one dim of a non-constant pad."""
    if mode == "circular":                        # crop first, then wrap around
        lo = max(-left, 0)
        m = n - lo - max(-right, 0)
        return [lo + (j - max(left, 0)) % m for j in range(m + max(left, 0) + max(right, 0))]
    src = []                                      # pad the whole input, then crop
    for q in range(max(-left, 0), n + max(left, 0) + max(right, 0) - max(-right, 0)):
        s = q - max(left, 0)
        if mode == "reflect":
            s = -s if s < 0 else (2 * (n - 1) - s if s >= n else s)
        src.append(min(max(s, 0), n - 1))
    return src


@_derivative(pad, wrt=("self",))
def _pad_grad(grad, pad, mode):
    """constant: the gradient cropped back (pad by the negated widths); the other modes add
    each output's gradient to the input position it was copied from, one dim at a time.
    (The input's sizes follow from the gradient's: nothing is saved.)"""
    import gpujit
    if mode == "constant":
        return gpujit.nn.functional.pad(grad, [-p for p in pad])
    g = grad
    for k in range(len(pad) // 2):
        dim = grad.dim() - 1 - k
        n = grad.shape[dim] - pad[2 * k] - pad[2 * k + 1]
        src = gpujit.tensor(_pad_source(n, pad[2 * k], pad[2 * k + 1], mode),
                            device=grad.device)
        shape = list(g.shape)
        shape[dim] = n
        g = gpujit.zeros(shape, dtype=grad.dtype, device=grad.device).index_add(dim, src, g)
    return g
