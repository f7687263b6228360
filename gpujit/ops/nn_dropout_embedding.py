"""nn ops: dropout (and dropout_, with the keep masks its derivative reads), embedding and
embedding_renorm_, one_hot and pad, with their derivatives. Split from `nn_norm.py` (the
normalizations); `nn.py` imports it right after nn_norm."""
from __future__ import annotations


import numpy as np

from .. import dtypes as _dt
from ..device import device_of_array
from .meta import TensorMeta
from .nn import _NN, _legacy_type, compute_dtype, dtype_of, sizes
from .nn_norm import _same
from . import registry as _reg
from .registry import op, derivative as _derivative, nondifferentiable as _nondifferentiable


# ---------------------------------------------------------------------- dropout

def _dropout_check(p, input, train=True, alpha=False):
    if not 0 <= p <= 1:
        # (ATen's TORCH_CHECK: a RuntimeError; F.dropout's own check raises ValueError)
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    d = dtype_of(input)
    if d.category != _dt.FLOATING and train and 0 < p < 1 and 0 not in tuple(input.shape):
        # (PyTorch's CPU dropout draws an integer noise tensor and scales it in place,
        # noise.div_(1 - p): an integer or bool input fails there; untouched when not
        # training, p == 0 or nothing to drop; p == 1 multiplies by a zero of its dtype)
        # (the alpha forms: noise.add(-1) of a bool noise is int64 already, so Long)
        name = "Long" if alpha and d is _dt.bool else d.short_name
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{name}")


def _keep_mask(xp, a, p):
    """Bernoulli(1 - p) keep mask of a's shape, from the device's default generator."""
    from .random import generator_for
    from . import memory_format as _mf
    # (PyTorch's CPU dropout: empty_like(input).bernoulli_(1 - p), one double uniform per
    # element in the memory order of that mask, which keeps a transposed or channels_last
    # input's layout)
    g = generator_for(device_of_array(a))
    if xp is np:
        draw = lambda s: g.below(s, 1 - p)          # noqa: E731
    else:
        dt = np.dtype(np.float64 if a.dtype == np.float64 else np.float32)
        draw = lambda s: g.uniform(s, dt) < 1 - p   # noqa: E731
    return _mf.alloc(xp, draw, a.shape, _mf.order_for(a, _mf.PRESERVE))


def _remember_mask(out, keep):
    """Leave the keep mask for dropout's derivative (its `stash`: the result alone does
    not give it where the input is 0, and PyTorch saves the mask, not the result, so
    writing into the result before backward is no error)."""
    return _reg.stash_for_backward(out, keep)


def _dropout(xp, input, p):
    keep = _keep_mask(xp, input, p)
    out = (input * keep * input.dtype.type(1 / (1 - p))).astype(input.dtype, copy=False)
    if xp is not np:
        # CuPy's ufuncs lay their results out C-contiguous: the result in the input's
        # order, as PyTorch's (CPU: input * mask's TensorIterator; CUDA: empty_like(input))
        from . import memory_format as _mf
        out = _mf.iterator_layout(xp, out, (input,))
    return out, keep


@op("aten::dropout(Tensor input, float p, bool train) -> Tensor",
    tags=_NN | {"random", "returns_input"},
    method=False,
    meta=lambda input, p, train: (_dropout_check(p, input, train), _same(input))[1])
def dropout(xp, input, p, train):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training);
    the input itself otherwise."""
    _dropout_check(p, input, train)
    if not train or p == 0 or input.size == 0:
        return input
    if p == 1:
        return _times_zero(xp, input)
    return _remember_mask(*_dropout(xp, input, p))


def _times_zero(xp, input):
    """p == 1: ATen's input * zeros(()) (a nan or inf element gives nan), laid out as
    the input."""
    out = (input * xp.zeros((), input.dtype)).astype(input.dtype, copy=False)
    if xp is not np:
        from . import memory_format as _mf
        out = _mf.iterator_layout(xp, out, (input,))
    return out


@op("aten::dropout_(Tensor(a!) self, float p, bool train) -> Tensor(a!)",
    tags=_NN | {"random", "inplace"}, method=False,
    meta=lambda self, p, train: (_dropout_check(p, self, train), _same(self))[1])
def dropout_(xp, self, p, train):
    """In-place dropout; self untouched (its version too) when not training or p == 0."""
    _dropout_check(p, self, train)
    if _dropout_unchanged(self, p, train) or self.size == 0:
        return _reg.UNCHANGED
    if p == 1:
        self[...] = self * xp.zeros((), self.dtype)
    else:
        out, keep = _dropout(xp, self, p)
        self[...] = out
        _remember_mask(self, keep)
    return self


def _dropout_composite(inplace):
    def composite(input, p, train):
        """dropout / dropout_ recording gradients: PyTorch's CPU _dropout_impl, the input
        itself when not training, p == 0 or empty; else input * noise, noise =
        empty_like(input).bernoulli_(1 - p).div_(1 - p) (zeros(()) for p == 1): a
        MulBackward0 whose second edge is None. On CUDA (0 < p < 1, not empty) PyTorch
        runs native_dropout, one NativeDropoutBackward0 node: the op's own."""
        _dropout_check(p, input, train)
        if not train or p == 0 or input.numel() == 0:
            return input
        a = input._data
        if p == 1:
            noise = np.zeros((), a.dtype)
        elif type(a) is not np.ndarray:
            return NotImplemented
        else:
            # (the values of bernoulli_ then div_, drawn as the eager op draws its mask)
            noise = _keep_mask(np, a, p) * a.dtype.type(1 / (1 - p))
        noise = _reg.wrap(noise.astype(a.dtype, copy=False), input._dtype, input.device)
        return input.mul_(noise) if inplace else input * noise
    return composite


dropout.op.composite = _dropout_composite(False)
dropout_.op.composite = _dropout_composite(True)


def _dropout_unchanged(self, p, train):
    return not train or p == 0


dropout_.op.unchanged_when = _dropout_unchanged


# ---------------------------------------------------------------------- alpha / feature dropout
# ATen's _dropout_impl<feature, alpha, inplace> (aten/src/ATen/native/Dropout.cpp):
# alpha_dropout, feature_dropout and feature_alpha_dropout (and their in-place forms) are
# ops of their own, as PyTorch's: a trace records `aten::alpha_dropout(%x, 0.1, False)`
# (an eval model's nn.AlphaDropout stays a method call), scripted F.dropout2d compiles to
# aten::feature_dropout. Eagerly: the input itself when p == 0, not training or empty;
# input * zeros(()) for p == 1; else the noise (a Bernoulli(1 - p) draw of the input's
# dtype, per (sample, channel) for the feature forms, empty_like(input)'s layout
# otherwise) and, as ATen computes them in the input's dtype:
#   dropout:        noise.div_(1 - p); input * noise
#   alpha dropout:  a = 1 / sqrt((alpha^2 p + 1)(1 - p)), alpha = 1.7580993408473766
#                   b = noise.add(-1).mul_(alpha * a).add_(alpha * a * p); noise.mul_(a)
#                   input * noise + b
# The derivative multiplies by the forward's noise (its stash), as the MulBackward0 of
# `input * noise` does; recording gradients eagerly runs the composite, whose nodes are
# torch's (MulBackward0, then AddBackward0 for the alpha forms, their noise edges None).

_SELU_ALPHA = 1.7580993408473766


def _noise_arith(d):
    """(round, scalar, up) for arithmetic on arrays of dtype d as ATen's CPU kernels do
    it: each op computed in the op-math type (float for float16 / bfloat16: `up` converts
    an operand, `scalar` a Python number) and its result rounded to d (`round`)."""
    if d.itemsize < 4:
        f = np.dtype(np.float32)
        return (lambda r: r.astype(d)), (lambda s: f.type(s)), (lambda a: a.astype(f))
    return (lambda r: r.astype(d, copy=False)), (lambda s: d.type(s)), (lambda a: a)


def _feature_noise_shape(input):
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return (input.shape[0], input.shape[1]) + (1,) * (input.ndim - 2)


def _alpha_noise(xp, input, p, feature, alpha):
    """(noise, b): the multiplier of the input (the derivative's stash) and, for the
    alpha forms, the shift added after it (None otherwise)."""
    d = input.dtype
    if feature:
        like = xp.empty(_feature_noise_shape(input), d)
    else:
        like = input
    noise = _keep_mask(xp, like, p).astype(d)
    rnd, s, up = _noise_arith(d)
    if not alpha:
        return rnd(up(noise) * (s(1) / s(1 - p))), None
    a = 1.0 / ((_SELU_ALPHA * _SELU_ALPHA * p + 1) * (1 - p)) ** 0.5
    b = rnd(up(rnd(up(rnd(up(noise) - s(1))) * s(_SELU_ALPHA * a))) + s(_SELU_ALPHA * a * p))
    return rnd(up(noise) * s(a)), b


def _alpha_apply(xp, input, noise, b):
    d = input.dtype
    rnd, _, up = _noise_arith(d)
    out = rnd(up(input) * up(noise))
    if b is not None:
        out = rnd(up(out) + up(b))
    if xp is not np:
        from . import memory_format as _mf
        out = _mf.iterator_layout(xp, out, (input,))
    return out


def _alpha_forward(xp, input, p, train, feature, alpha):
    """The functional form's result (input itself when nothing is dropped)."""
    _dropout_check(p, input, train, alpha)
    if p == 0 or not train or input.size == 0:
        return input
    if p == 1:      # (ATen's input * zeros(()): a NaN or inf input gives NaN)
        return _reg.stash_for_backward(_times_zero(xp, input), xp.zeros((), input.dtype))
    noise, b = _alpha_noise(xp, input, p, feature, alpha)
    return _reg.stash_for_backward(_alpha_apply(xp, input, noise, b), noise)


def _alpha_forward_(xp, self, p, train, feature, alpha):
    _dropout_check(p, self, train, alpha)
    if _dropout_unchanged(self, p, train) or self.size == 0:
        return _reg.UNCHANGED
    if p == 1:
        zero = xp.zeros((), self.dtype)
        self[...] = self * zero
        return _reg.stash_for_backward(self, zero)
    noise, b = _alpha_noise(xp, self, p, feature, alpha)
    self[...] = _alpha_apply(xp, self, noise, b)
    return _reg.stash_for_backward(self, noise)


def _alpha_composite(feature, alpha, inplace):
    def composite(input, p, train):
        """Recording gradients: ATen's composite, input * noise (+ b), whose nodes are
        torch's (MulBackward0, then AddBackward0; the noise's edges None)."""
        from ..device import xp_for
        _dropout_check(p, input, train, alpha)
        if p == 0 or not train or input.numel() == 0:
            return input
        a = input._data
        xp = xp_for(input.device)
        if p == 1:
            zero = _reg.wrap(xp.zeros((), a.dtype), input._dtype, input.device)
            return input.mul_(zero) if inplace else input * zero
        noise, b = _alpha_noise(xp, a, p, feature, alpha)
        noise = _reg.wrap(noise, input._dtype, input.device)
        out = input.mul_(noise) if inplace else input * noise
        if b is not None:
            out = out.add_(_reg.wrap(b, input._dtype, input.device))
        return out
    return composite


def _def_alpha_ops(name, feature, alpha, doc):
    meta = (lambda input, p, train: (_dropout_check(p, input, train, alpha), _same(input))[1])

    def fn(xp, input, p, train):
        return _alpha_forward(xp, input, p, train, feature, alpha)
    fn.__doc__ = doc
    fn.__name__ = name
    f = op(f"aten::{name}(Tensor input, float p, bool train) -> Tensor",
           tags=_NN | {"random", "returns_input"}, method=False, meta=meta)(fn)

    def fn_(xp, self, p, train):
        return _alpha_forward_(xp, self, p, train, feature, alpha)
    fn_.__doc__ = f"In-place {name}; self untouched (its version too) when not training or p == 0."
    fn_.__name__ = name + "_"
    f_ = op(f"aten::{name}_(Tensor(a!) self, float p, bool train) -> Tensor(a!)",
            tags=_NN | {"random", "inplace"}, method=False,
            meta=lambda self, p, train: (_dropout_check(p, self, train, alpha),
                                         _same(self))[1])(fn_)
    f.op.composite = _alpha_composite(feature, alpha, False)
    f_.op.composite = _alpha_composite(feature, alpha, True)
    f_.op.unchanged_when = _dropout_unchanged
    return f, f_


alpha_dropout, alpha_dropout_ = _def_alpha_ops(
    "alpha_dropout", False, True,
    "Dropout that keeps a SELU network's zero mean and unit variance: dropped elements take "
    "SELU's negative saturation value, then an affine map restores the moments.")
feature_dropout, feature_dropout_ = _def_alpha_ops(
    "feature_dropout", True, False,
    "Zero whole channels (dim 1) with probability p and scale the rest by 1 / (1 - p).")
feature_alpha_dropout, feature_alpha_dropout_ = _def_alpha_ops(
    "feature_alpha_dropout", True, True, "alpha_dropout of whole channels (dim 1).")


# ---------------------------------------------------------------------- embedding

def _emb_check(weight, indices):
    di = dtype_of(indices)
    if di not in (_dt.int64, _dt.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"{_legacy_type(di)} instead (while checking "
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
    if self.dtype.kind not in "fc":         # (PyTorch's norm() refuses it)
        from .. import dtypes as _dts
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {_dts.from_numpy_dtype(self.dtype).short_name} instead.")
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
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
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
            raise NotImplementedError(
                f"Padding size {len(pad)} is not supported for {nd}D input tensor.\n"
                f"Supported combinations for non-constant padding:\n"
                f"  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                f"  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                f"  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
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


def _pad_meta(self, pad, mode="constant", value=None):
    shape = _pad_geometry(self.shape, pad, mode, value)[1]
    _pad_kernel_dtype(self.dtype, pad, mode)
    return TensorMeta(self.dtype, shape, self.device)


def _pad_kernel_dtype(dt, pad, mode):
    """PyTorch's reflection / replication kernels have no bool version."""
    if dt is _dt.bool and mode in ("reflect", "replicate"):
        kernel = "reflection" if mode == "reflect" else "replication"
        raise NotImplementedError(f"\"{kernel}_pad{len(pad) // 2}d\" not implemented for "
                                  f"'Bool'")


@op("aten::pad(Tensor self, SymInt[] pad, str mode=\"constant\", float? value=None) "
    "-> Tensor", tags=_NN, method=False, function=False, functional=True, meta=_pad_meta)
def pad(xp, self, pad, mode="constant", value=None):
    """Pad (or, with negative sizes, crop) the trailing dims; `pad` lists (left, right)
    for the last dim first. Modes: constant (value, default 0), reflect (mirror without
    the edge), replicate (repeat the edge), circular (wrap around)."""
    widths, out_shape = _pad_geometry(self.shape, pad, mode, value)
    _pad_kernel_dtype(_dt._FROM_NP[self.dtype], pad, mode)
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


def _pad_composite(self, pad, mode="constant", value=None):
    """pad recording gradients, mode 'circular': PyTorch's _pad_circular (PadNd.cpp), a new
    tensor the (cropped) input is copied into, then its own slices copied to the left and
    right margins, dim by dim (CopySlices nodes over SliceBackward0s, as torch's); the
    other modes: the op's one node."""
    if mode != "circular":
        return NotImplemented
    _pad_meta(self, pad, mode, value)
    shape = tuple(self.shape)
    nd, k = len(shape), len(pad) // 2
    widths, out_shape = _pad_geometry(shape, pad, mode, value)
    out = self.new_empty(out_shape)
    o, i = out, self
    for j in range(k):
        d = k - j + (nd - k) - 1
        pl, pr = int(pad[2 * j]), int(pad[2 * j + 1])
        a, b = max(pl, 0), out_shape[d] - max(pr, 0)
        o = o.narrow(d, a, b - a)
        a, b = max(-pl, 0), shape[d] - max(-pr, 0)
        i = i.narrow(d, a, b - a)
    o.copy_(i)
    for j in range(k):
        d = k - j + (nd - k) - 1
        pl, pr = int(pad[2 * j]), int(pad[2 * j + 1])
        n = out_shape[d]
        if pl > 0:
            out.narrow(d, 0, pl).copy_(out.narrow(d, n - pl - max(pr, 0), pl))
        if pr > 0:
            out.narrow(d, n - pr, pr).copy_(out.narrow(d, max(pl, 0), pr))
    return out


pad.op.composite = _pad_composite


# ---------------------------------------------------------------------- derivatives


@_derivative(dropout, dropout_)
def _dropout_grad(grad, stash, p, train):
    """The same mask as the forward (PyTorch's native_dropout_backward: grad * mask * scale);
    the mask is the forward's stash, not read from the result (which may have been written
    in place since, as in PyTorch)."""
    import gpujit
    if not train or p == 0:
        return grad
    if p == 1:
        return gpujit.zeros_like(grad)
    if stash is None:   # no mask stored: an empty tensor
        return grad
    if not isinstance(stash, gpujit.Tensor):    # (a region's backward keeps it a Tensor)
        stash = _reg.wrap(stash, _dt.bool, grad.device)
    return grad * stash * (1 / (1 - p))


@_derivative(alpha_dropout, alpha_dropout_, feature_dropout, feature_dropout_,
             feature_alpha_dropout, feature_alpha_dropout_)
def _alpha_dropout_grad(grad, stash, p, train):
    """grad times the forward's noise (its stash: the multiplier of the input, 0 for
    p == 1), as the MulBackward0 of ATen's `input * noise`; the shift b has no gradient."""
    if not train or p == 0 or stash is None:
        return grad
    return grad * _reg.wrap(stash, _dt.from_numpy_dtype(stash.dtype), grad.device)


@_derivative(embedding, wrt=("weight",))
def _embedding_grad(grad, weight_shape, indices, padding_idx, scale_grad_by_freq, sparse):
    """Each looked-up row's gradient added to its row; padding_idx's row gets none;
    scale_grad_by_freq divides by how often each index occurs in `indices`. sparse=True:
    PyTorch's embedding_sparse_backward, a sparse COO gradient of one entry per index."""
    import gpujit
    if sparse:
        if scale_grad_by_freq:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with "
                               "sparse gradients")
        from .._sparse_coo import embedding_sparse_grad
        return embedding_sparse_grad(grad, indices, weight_shape[0], padding_idx)
    idx = indices.reshape(-1)
    g = grad.reshape(idx.shape[0], weight_shape[1])
    if padding_idx >= 0:
        g = g.masked_fill((idx == padding_idx).unsqueeze(1), 0)
    if scale_grad_by_freq:
        counts = gpujit.zeros(weight_shape[0], dtype=grad.dtype, device=grad.device)
        counts = counts.index_add(0, idx, gpujit.ones_like(idx, dtype=grad.dtype))
        g = g / counts.index_select(0, idx).unsqueeze(1)
    z = gpujit.zeros(tuple(weight_shape), dtype=grad.dtype, device=grad.device)
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
