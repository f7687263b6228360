"""OpInfos of the nn family, part 2 (gpujit/ops/nn_norm.py, nn_dropout_embedding.py):
batch/layer/group norm, dropout, embedding, one_hot, pad. References are NumPy formulas
from PyTorch's documented semantics (pad: an explicit source index per output position)."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, positive

F16, F32, F64 = np.float16, np.float32, np.float64
HALF_TOL = dict(rtol=1e-2, atol=1e-2)


# ---------------------------------------------------------------------- normalization

def ref_batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps,
                   cudnn_enabled=True):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if x.size == 0:
        return x
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    else:
        mean, var = running_mean, running_var
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _bn_samples():
    # small enough for gradcheck: training, affine
    out = [Sample(rand(3, 2, 4, dtype=F64), rand(2, dtype=F64), rand(2, dtype=F64),
                  rand(2, dtype=F64), positive(2, dtype=F64), True, 0.1, 1e-5, True)]
    for d in (F32, F64, F16):
        tol = HALF_TOL if d is F16 else {}
        x = rand(4, 3, 5, dtype=d)
        out += [Sample(x, rand(3, dtype=d), rand(3, dtype=d), rand(3, dtype=d),
                       positive(3, dtype=d), False, 0.1, 1e-5, True).tol(**tol),
                Sample(x, None, None, rand(3, dtype=d), positive(3, dtype=d), True, 0.1,
                       1e-5, True).tol(**tol)]
    x = rand(3, 2, 4, 5, dtype=F32)
    out += [Sample(x, positive(2), rand(2), None, None, True, 0.1, 1e-5, False),
            Sample(rand(6, 4, dtype=F32), None, rand(4), rand(4), positive(4), False, 0.3,
                   1e-3, True),
            Sample(rand(6, 4, dtype=F32), rand(4), None, rand(4), positive(4), True, 0.3,
                   1e-3, True),
            Sample(rand(0, 3, 4, dtype=F32), None, None, rand(3), positive(3), True, 0.1,
                   1e-5, True),
            # float16 input with float32 parameters and statistics (mixed precision)
            Sample(rand(4, 3, 5, dtype=F16), rand(3), rand(3), rand(3), positive(3), False,
                   0.1, 1e-5, True).tol(**HALF_TOL)]
    return out


def _bn_errors():
    x = rand(4, 3, 5, dtype=F32)
    return [ErrorSample(x, None, None, rand(4), positive(3), False, 0.1, 1e-5, True,
                        match="running_mean should contain 3 elements not 4"),
            ErrorSample(x, rand(2), None, rand(3), positive(3), False, 0.1, 1e-5, True,
                        match="weight should contain 3 elements not 2"),
            ErrorSample(x, None, None, None, None, False, 0.1, 1e-5, True,
                        match="running_mean must be defined in evaluation mode"),
            ErrorSample(rand(4, 3, dtype=np.int64), None, None, None, None, True, 0.1, 1e-5,
                        True, match="\"batch_norm\" not implemented for 'Long'")]


def ref_instance_norm(x, weight, bias, running_mean, running_var, use_input_stats, momentum,
                      eps, cudnn_enabled=True):
    if x.size == 0:
        return x
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if use_input_stats:
        axes = tuple(range(2, x.ndim))
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _in_samples():
    # small enough for gradcheck: affine, with and without the input's statistics
    out = [Sample(rand(2, 3, 4, dtype=F64), rand(3, dtype=F64), rand(3, dtype=F64),
                  rand(3, dtype=F64), positive(3, dtype=F64), True, 0.1, 1e-5, True),
           Sample(rand(2, 3, 4, dtype=F64), rand(3, dtype=F64), rand(3, dtype=F64),
                  rand(3, dtype=F64), positive(3, dtype=F64), False, 0.1, 1e-5, True)]
    for d in (F32, F64, F16):
        tol = HALF_TOL if d is F16 else {}
        x = rand(3, 2, 3, 4, dtype=d)
        out += [Sample(x, None, None, None, None, True, 0.1, 1e-5, True).tol(**tol),
                Sample(x, rand(2, dtype=d), None, rand(2, dtype=d), positive(2, dtype=d),
                       True, 0.3, 1e-3, True).tol(**tol)]
    out += [Sample(rand(2, 3, 2, 2, 2, dtype=F32), None, rand(3), None, None, True, 0.1,
                   1e-5, False),
            Sample(rand(0, 3, 4, dtype=F32), None, None, None, None, True, 0.1, 1e-5, True),
            Sample(rand(2, 3, dtype=F32), None, None, None, None, True, 0.1, 1e-5, True)]
    return out


def _in_errors():
    x = rand(2, 3, 5, dtype=F32)
    return [ErrorSample(x, None, None, None, None, False, 0.1, 1e-5, True,
                        match="Expected running_mean and running_var to be defined when "
                              "use_input_stats is false"),
            ErrorSample(x, rand(4), None, None, None, True, 0.1, 1e-5, True,
                        match="weight should contain 6 elements not 8"),
            ErrorSample(x, None, None, rand(2), positive(3), True, 0.1, 1e-5, True,
                        match="running_mean should contain 6 elements not 4"),
            ErrorSample(rand(4, 3, 2, dtype=np.int64), None, None, None, None, True, 0.1,
                        1e-5, True, match="\"instance_norm\" not implemented for 'Long'")]


def ref_layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True)
                                                         + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def _ln_samples():
    out = []
    for d in (F32, F64, F16):
        tol = HALF_TOL if d is F16 else {}
        x = rand(3, 4, 5, dtype=d)
        out += [Sample(x, [5], rand(5, dtype=d), rand(5, dtype=d)).tol(**tol),
                Sample(x, (4, 5), rand(4, 5, dtype=d), None, 1e-3).tol(**tol)]
    x = rand(2, 6, dtype=F32)
    out += [Sample(x, [6]), Sample(x, (2, 6), eps=0.1), Sample(rand(7, dtype=F32), [7]),
            Sample(x, [6], bias=rand(6)), Sample(rand(0, 6, dtype=F32), [6]),
            Sample(rand(4, 6, dtype=F16), [6], rand(6), rand(6)).tol(**HALF_TOL)]
    return out


def _ln_errors():
    x = rand(2, 3, dtype=F32)
    return [ErrorSample(x, [4], match=r"Given normalized_shape=\[4\], expected input with "
                        r"shape \[\*, 4\], but got input of size\[2, 3\]"),
            ErrorSample(x, [3], rand(4), match=r"Expected weight to be of same shape as "
                        r"normalized_shape, but got weight of shape \[4\] and "
                        r"normalized_shape = \[3\]"),
            ErrorSample(x, [], match="Expected normalized_shape to be at least 1-dimensional")]


def ref_group_norm(x, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    n, c = x.shape[:2]
    if x.size == 0:
        return x
    g = x.reshape(n, num_groups, -1)
    y = ((g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + eps))
    y = y.reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _gn_samples():
    out = []
    for d in (F32, F64, F16):
        tol = HALF_TOL if d is F16 else {}
        out += [Sample(rand(2, 6, 5, dtype=d), 3, rand(6, dtype=d), rand(6, dtype=d)).tol(
            **tol), Sample(rand(2, 4, 3, 3, dtype=d), 2).tol(**tol)]
    out += [Sample(rand(3, 4, dtype=F32), 4, eps=1e-2), Sample(rand(3, 4, dtype=F32), 1),
            Sample(rand(2, 6, 2, 2, dtype=F32), 6, None, rand(6)),
            Sample(rand(0, 4, 3, dtype=F32), 2)]
    return out


def _gn_errors():
    x = rand(2, 6, 4, dtype=F32)
    return [ErrorSample(x, 4, match=r"Expected number of channels in input to be divisible "
                        r"by num_groups, but got input of shape \[2, 6, 4\] and num_groups=4"),
            ErrorSample(x, 3, rand(3), match=r"Expected weight to be a vector of size equal "
                        r"to the number of channels in input, but got weight of shape \[3\]"),
            ErrorSample(rand(6, dtype=F32), 3, match="Expected at least 2 dimensions")]


# ---------------------------------------------------------------------- dropout

def _dropout_grad_check(name, x, p, train):
    """The gradient is the forward's own keep mask times 1/(1-p) (gradcheck cannot see it:
    every call draws a new mask). Positive inputs show the mask in the output; zero inputs
    do not, yet a fraction 1 - p of them must get the gradient too."""
    op = G.ops.registry.OPS[name]
    scale = 1 / (1 - p) if train and p < 1 else (0.0 if train else 1.0)
    for a in (x, np.zeros_like(x)):
        leaf = G.from_numpy(a.astype(F64)).requires_grad_()
        t = leaf.clone() if name.endswith("_") else leaf      # in place: on a non-leaf
        y = op.public(t, p, train)
        y.sum().backward()
        g = leaf.grad.numpy()
        if not train or p in (0, 1):
            np.testing.assert_array_equal(g, np.full(a.shape, scale if train else 1.0))
        elif a.any():
            np.testing.assert_allclose(g, (y.detach().numpy() != 0) * scale)
        else:
            assert np.isin(g, [0.0, scale]).all()
            if a.size >= 4000:
                assert abs((g != 0).mean() - (1 - p)) < 0.05, (g != 0).mean()


def _dropout_check(sample, out):
    x, p, train = sample.args
    _dropout_grad_check("aten::dropout", x, p, train)
    o = out.numpy()
    if not train or p == 0:
        np.testing.assert_array_equal(o, x)
        return
    assert out.dtype.np == x.dtype and o.shape == x.shape
    if p == 1:
        assert not o.any()
        return
    kept = o != 0
    # every survivor is scaled by exactly 1/(1-p)
    np.testing.assert_allclose(o[kept], (x[kept].astype(F64) / (1 - p)),
                               rtol=2e-3 if x.dtype == F16 else 1e-6)
    if x.size >= 4000:
        frac = 1 - kept.mean()
        assert abs(frac - p) < 0.05, f"dropped fraction {frac}, p={p}"


def _dropout_samples():
    return [Sample(positive(100, 50, dtype=F32), 0.3, True),
            Sample(positive(80, 60, dtype=F64), 0.5, True),
            Sample(positive(64, 64, dtype=F16), 0.2, True),
            Sample(positive(5, 5, dtype=F32), 0.5, False),
            Sample(positive(5, 5, dtype=F32), 0.0, True),
            Sample(positive(5, 5, dtype=F32), 1.0, True),
            Sample(positive(0, 5, dtype=F32), 0.5, True)]


def _dropout_inplace_check(sample, out):
    # the sample's array is the tensor's memory (contiguous run) or a copy of it
    # after that run: survivors are 1/(1-p) or 1/(1-p)**2 of the (all-ones) input
    x, p, train = sample.args
    _dropout_grad_check("aten::dropout_", np.ones_like(x), p, train)
    o = out.numpy()
    if not train or p == 0:
        assert np.isin(o, [0.0, 1.0, 1 / (1 - p)]).all()
        return
    s = 1 / (1 - p)
    assert np.isclose(o[o != 0][:, None], [s, s * s], rtol=1e-6).any(axis=1).all()
    frac = (o == 0).mean()
    assert p - 0.05 < frac < 1 - (1 - p) ** 2 + 0.05


def _dropout_inplace_samples():
    return [Sample(np.ones((100, 50), F32), 0.25, True),
            Sample(np.ones((60, 70), F64), 0.4, True),
            Sample(np.ones((5, 5), F32), 0.4, False),
            Sample(np.ones((5, 5), F32), 0.0, True)]


# (aten::dropout's TORCH_CHECK: a RuntimeError; F.dropout's own check is the ValueError)
_DROP_ERR = [ErrorSample(rand(3, dtype=F32), 1.5, True, exc=RuntimeError,
                         match="dropout probability has to be between 0 and 1, but got 1.5")]



# ------------------------------------------------- alpha_dropout, feature_(alpha_)dropout

_SELU_ALPHA = 1.7580993408473766


def _alpha_levels(p, alpha):
    """(scale of a kept element, value of a dropped one): ATen's _dropout_impl, kept
    x * a + alpha a p and dropped alpha a (p - 1) for the alpha forms, x / (1 - p) and 0
    for feature_dropout."""
    if not alpha:
        return 1 / (1 - p), 0.0
    a = 1 / np.sqrt((_SELU_ALPHA ** 2 * p + 1) * (1 - p))
    return a, _SELU_ALPHA * a * (p - 1)


def _alpha_family_check(name, feature, alpha, inplace):
    def check(sample, out):
        x, p, train = sample.args
        op = G.ops.registry.OPS[name]
        if inplace:
            x = np.ones_like(x)         # (the sample's own memory was written; see dropout_)
        o = out.numpy()
        assert out.dtype.np == sample.args[0].dtype and o.shape == x.shape
        x = x.astype(F64)
        leaf = G.from_numpy(x).requires_grad_()
        y = op.public(leaf.clone() if inplace else leaf, p, train)
        y.sum().backward()
        g, yv = leaf.grad.numpy(), y.detach().numpy()
        if not train or p == 0 or x.size == 0:
            np.testing.assert_array_equal(yv, x)
            np.testing.assert_array_equal(g, np.ones_like(x))
            if not inplace:
                np.testing.assert_array_equal(o, sample.args[0])
            return
        if p == 1:
            assert not o.any() and not yv.any() and not g.any()
            return
        scale, dropped = _alpha_levels(p, alpha)
        kept_val = x * scale + (_SELU_ALPHA * scale * p if alpha else 0.0)
        kept = np.isclose(yv, kept_val, rtol=1e-9)
        assert (kept | np.isclose(yv, dropped, atol=1e-12)).all()
        np.testing.assert_allclose(g, kept * scale, rtol=1e-12)   # the forward's noise
        if feature:     # one draw per (sample, channel)
            k = kept.reshape(x.shape[0], x.shape[1], -1)
            assert (k == k[:, :, :1]).all()
        if x.size >= 4000 and not feature:
            assert abs((1 - kept.mean()) - p) < 0.05
        # the sample's own dtype: the same two levels, rounded
        ov = o.astype(F64)
        lv = x * scale + (_SELU_ALPHA * scale * p if alpha else 0)
        tol = 2e-3 if o.dtype == F16 else 1e-5
        assert (np.isclose(ov, lv, rtol=tol, atol=tol)
                | np.isclose(ov, dropped, rtol=tol, atol=tol)).all()
    return check


def _alpha_family_samples(inplace):
    def samples():
        mk = (lambda *s, dtype: np.ones(s, dtype)) if inplace else \
            (lambda *s, dtype: positive(*s, dtype=dtype))
        return [Sample(mk(100, 50, dtype=F32), 0.3, True),
                Sample(mk(8, 6, 5, 4, dtype=F64), 0.5, True),
                Sample(mk(16, 8, 3, dtype=F16), 0.2, True),
                Sample(mk(5, 5, dtype=F32), 0.5, False),
                Sample(mk(5, 5, dtype=F32), 0.0, True),
                Sample(mk(5, 5, dtype=F32), 1.0, True),
                Sample(mk(0, 5, dtype=F32), 0.5, True)]
    return samples


def _alpha_family_errors(feature):
    errs = [ErrorSample(rand(3, 2, dtype=F32), 1.5, True, exc=RuntimeError,
                        match="dropout probability has to be between 0 and 1, but got 1.5"),
            ErrorSample(np.arange(6).reshape(3, 2), 0.5, True, exc=RuntimeError,
                        match="result type Float can't be cast to the desired output type Long")]
    if feature:
        errs.append(ErrorSample(rand(3, dtype=F32), 0.5, True, exc=RuntimeError,
                                match="Feature dropout requires at least 2 dimensions in the "
                                      "input"))
    return errs


# (grad=False as dropout's: every call draws a new noise; the check tests the derivative)
_ALPHA_FAMILY = [
    OpInfo(f"aten::{n}{'_' if ip else ''}", samples=_alpha_family_samples(ip),
           check=_alpha_family_check(f"aten::{n}{'_' if ip else ''}", feat, alpha, ip),
           errors=_alpha_family_errors(feat), gpu=False, grad=False)
    for n, feat, alpha in (("alpha_dropout", False, True), ("feature_dropout", True, False),
                           ("feature_alpha_dropout", True, True))
    for ip in (False, True)]

# ---------------------------------------------------------------------- embedding

def _emb_samples():
    w = rand(10, 4, dtype=F32)
    return [Sample(w, np.array([0, 3, 9, 3], np.int64)),
            Sample(w, np.array([[1, 2], [5, 9]], np.int64), 3),   # padding_idx not looked up
            # looked up: padding_idx's row gets no gradient by definition, which finite
            # differences cannot agree with, so an integer table (never gradchecked)
            Sample(rand(6, 3, dtype=np.int64), np.array([1, 0, 1], np.int64), 1),
            Sample(rand(6, 3, dtype=F64), np.array([[[0, 5]]], np.int32)),
            Sample(rand(6, 3, dtype=F16), np.array(2, np.int64)),
            Sample(rand(6, 3, dtype=np.int64), np.array([1, 1, 0], np.int64)),
            Sample(w, np.zeros((0, 2), np.int64))]


def _emb_errors():
    w = rand(10, 4, dtype=F32)
    return [ErrorSample(w, np.array([0, 10]), exc=IndexError, match="index out of range in "
                        "self"),
            ErrorSample(w, np.array([-1]), exc=IndexError, match="index out of range"),
            ErrorSample(w, np.array([1.0], F32), match=r"Expected tensor for argument #1 "
                        r"'indices' to have one of the following scalar types: Long, Int"),
            ErrorSample(rand(10, dtype=F32), np.array([1]), match="'weight' must be 2-D")]


def ref_embedding_renorm(w, indices, max_norm, norm_type):
    w = w.copy()
    for i in sorted(set(np.asarray(indices).reshape(-1).tolist())):
        norm = np.linalg.norm(w[i], ord=norm_type)
        if norm > max_norm:
            w[i] *= max_norm / (norm + 1e-7)
    return w


def _renorm_samples():
    return [Sample(rand(8, 4, dtype=F32), np.array([0, 2, 2, 7]), 1.0, 2.0),
            Sample(rand(8, 4, dtype=F64), np.array([[1, 3], [3, 5]]), 0.5, 1.0),
            Sample(rand(8, 4, dtype=F32), np.array([4, 6]), 0.7, float("inf")),
            Sample(rand(8, 4, dtype=F32), np.array([4, 6]), 100.0, 2.0),
            Sample(rand(8, 4, dtype=F32), np.zeros(0, np.int64), 1.0, 2.0)]


# ---------------------------------------------------------------------- one_hot

def ref_one_hot(x, num_classes=-1):
    n = int(x.max()) + 1 if num_classes == -1 else num_classes
    return (np.eye(n, dtype=np.int64)[x.reshape(-1)]).reshape(x.shape + (n,))


def _one_hot_samples():
    return [Sample(np.array([0, 2, 1, 2])), Sample(np.array([[0, 3], [1, 0]]), 5),
            Sample(np.array(3), 4), Sample(np.array([1, 1]), num_classes=2),
            Sample(np.zeros((0, 3), np.int64), 3)]


def _one_hot_errors():
    return [ErrorSample(np.array([1, 2], np.int32), match="one_hot is only applicable to "
                        "index tensor of type LongTensor"),
            ErrorSample(np.array([1, 5]), 3, match="Class values must be smaller than "
                        "num_classes."),
            ErrorSample(np.array([-1, 1]), match="Class values must be non-negative."),
            ErrorSample(np.zeros(0, np.int64), match="Can not infer total number of classes "
                        "from empty tensor.")]


# ---------------------------------------------------------------------- pad

def _src_index(j, n, left, right, mode):
    """Source position of output position j along one dim (None: the fill value)."""
    if mode == "circular":
        lo = max(-left, 0)
        m = n - lo - max(-right, 0)
        return lo + (j - max(left, 0)) % m
    s = j - left
    if mode == "constant":
        return s if 0 <= s < n else None
    if mode == "reflect":
        if s < 0:
            s = -s
        if s >= n:
            s = 2 * (n - 1) - s
        return s
    return min(max(s, 0), n - 1)          # replicate


def ref_pad(x, pad, mode="constant", value=None):
    out = x
    for k in range(len(pad) // 2):
        dim = x.ndim - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        n = out.shape[dim]
        src = [_src_index(j, n, left, right, mode) for j in range(n + left + right)]
        taken = np.take(out, [0 if s is None else s for s in src], axis=dim)
        if mode == "constant":
            mask = np.array([s is None for s in src]).reshape(
                [-1 if a == dim else 1 for a in range(x.ndim)])
            taken = np.where(mask, 0 if value is None else value, taken)
        out = taken
    return out


def _pad_samples():
    # small ones first for gradcheck: the modes that copy input values (with crops)
    out = [Sample(rand(1, 2, 4, 5, dtype=F64), [2, -1, 1, 3], "reflect"),
           Sample(rand(2, 3, 4, dtype=F64), [-1, 3], "circular"),
           Sample(rand(1, 2, 3, 3, dtype=F64), [1, 1, 2, 0], "replicate")]
    x = rand(2, 3, 4, 5, dtype=F32)
    out += [Sample(x, [1, 2]), Sample(x, (1, 1, 2, 0), "constant", 1.5),
           Sample(x, [0, 1, 1, 0, 2, 1, 1, 1], value=-3.0),
           Sample(x, [-1, 2, 1, -2]), Sample(x, [-2, -3]),
           Sample(rand(3, 4, dtype=np.int64), [2, 1], value=7.0),
           Sample(rand(3, 4, dtype=np.bool_), [1, 1]),
           Sample(rand(3, dtype=F64), [2, 3], value=0.5),
           Sample(rand(3, 4, dtype=F16), [1, 1, 1, 1], value=2.0),
           Sample(rand(0, 4, dtype=F32), [1, 1])]
    for mode in ("reflect", "replicate", "circular"):
        out += [Sample(rand(2, 5, dtype=F32), [2, 3], mode),
                Sample(rand(2, 3, 6, dtype=F64), [1, 2], mode=mode),
                Sample(x, [2, 1, 3, 0], mode),
                Sample(rand(3, 4, 5, dtype=F32), [1, 2, 2, 1], mode),
                Sample(rand(1, 2, 3, 4, 5, dtype=F32), [1, 1, 2, 0, 1, 2], mode),
                Sample(rand(2, 3, 4, 5, dtype=F32), [1, 0, 1, 1, 1, 1], mode),
                Sample(rand(2, 3, 6, dtype=np.int64), [-1, 2], mode),
                Sample(rand(2, 3, 6, dtype=F32), [2, -1], mode, 0.0)]
    return out


def _pad_errors():
    x = rand(1, 1, 3, 3, dtype=F32)
    return [ErrorSample(x, [1], match="Padding length must be divisible by 2"),
            ErrorSample(rand(2, 2, dtype=F32), [1] * 6, match="Padding length should be less "
                        "than or equal to two times the input dimension but got padding length "
                        "6 and input of dimension 2"),
            ErrorSample(x, [3, 3, 0, 0], "reflect", match=r"Argument #4: Padding size should "
                        r"be less than the corresponding input dimension, but got: padding "
                        r"\(3, 3\) at dimension 3 of input \[1, 1, 3, 3\]"),
            ErrorSample(x, [1, 1, 0, 3], "reflect", match=r"Argument #6: .* padding \(0, 3\) "
                        r"at dimension 2"),
            ErrorSample(x[0], [4, 0], "circular",
                        match="Padding value causes wrapping around more than once"),
            ErrorSample(x, [1, 1], "reflect", 2.0,
                        match="Padding mode \"reflect\" doesn't take in value argument"),
            ErrorSample(x, [-2, -2], match=r"The input size 3, plus negative padding -2 and -2 "
                        r"resulted in a negative output size"),
            ErrorSample(rand(3, dtype=F32), [1, 1], "reflect", exc=NotImplementedError,
                        match="Padding size 2 is not supported for 1D input tensor"),
            ErrorSample(x, [1, 1], "replicate", exc=NotImplementedError,
                        match="Padding size 2 is not supported for 4D input tensor"),
            ErrorSample(x, [1, 1], "mirror", exc=NotImplementedError,
                        match="Unrecognised padding mode mirror")]


OPINFOS = [
    OpInfo("aten::batch_norm", samples=_bn_samples, ref=ref_batch_norm, errors=_bn_errors(),
           atol=1e-5, rtol=1e-5),
    OpInfo("aten::instance_norm", samples=_in_samples, ref=ref_instance_norm,
           errors=_in_errors(), atol=1e-5, rtol=1e-5),
    OpInfo("aten::layer_norm", samples=_ln_samples, ref=ref_layer_norm, errors=_ln_errors(),
           atol=1e-5, rtol=1e-5),
    OpInfo("aten::group_norm", samples=_gn_samples, ref=ref_group_norm, errors=_gn_errors(),
           atol=1e-5, rtol=1e-5),
    # grad=False: gradcheck redraws the mask at every call, and train=False / p=0 return
    # the input's own memory (its in-place perturbation moves both sides); dropout_ would
    # write into gradcheck's leaf. _dropout_grad_check tests the derivative instead.
    OpInfo("aten::dropout", samples=_dropout_samples, check=_dropout_check, gpu=False,
           errors=_DROP_ERR, grad=False),
    OpInfo("aten::dropout_", samples=_dropout_inplace_samples, check=_dropout_inplace_check,
           gpu=False, errors=_DROP_ERR, grad=False),
    *_ALPHA_FAMILY,
    OpInfo("aten::embedding", samples=_emb_samples,
           ref=lambda w, idx, *a, **k: w[idx], errors=_emb_errors()),
    OpInfo("aten::embedding_renorm_", samples=_renorm_samples, ref=ref_embedding_renorm,
           atol=1e-6, rtol=1e-5),
    OpInfo("aten::one_hot", samples=_one_hot_samples, ref=ref_one_hot,
           errors=_one_hot_errors()),
    OpInfo("aten::pad", samples=_pad_samples, ref=ref_pad, errors=_pad_errors()),
]
