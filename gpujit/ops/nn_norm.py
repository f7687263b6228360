"""nn ops: batch/layer/group/instance normalization and their derivatives (dropout,
embedding, one_hot and pad are in nn_dropout_embedding.py; the rest of the family is in
nn.py and the nn_*.py modules it imports)."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta
from .nn import FLOATS, _NN, check_float, compute_dtype, dtype_of, sizes
from .registry import op


def _same(self, *args, **kwargs):
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


# ---------------------------------------------------------------------- batch norm

def _mixed_dtype_check(input, *params):
    """PyTorch's rule for normalization parameters (ATen's is_mixed_type /
    check_mixed_data_type, in this order: weight, bias, running_mean, running_var): when the
    first given one has the input's dtype, every other must too ("expected scalar type
    Float but found Double"); else the run is mixed, which takes float32 parameters only and
    a float16 input only."""
    d0 = input.dtype
    for t in params:                    # (the common case first: one dtype)
        if t is not None and t.dtype is not d0:
            break
    else:
        return
    di = dtype_of(input)
    if mixed_param_dtypes(di, [dtype_of(t) for t in params if t is not None]) and \
            di is not _dt.float16:
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def mixed_param_dtypes(di, dtypes) -> bool:
    """ATen's is_mixed_type / check_mixed_data_type for an input of dtype di and its given
    parameters' dtypes in ATen's order: when the first has di, every other must too; else
    all must be float32 (a mixed run: True)."""
    first = None
    for d in dtypes:
        if first is None:
            first = d
        if first is di:
            if d is not di:
                raise RuntimeError(f"expected scalar type {di.short_name} but found "
                                   f"{d.short_name}")
        elif d is not _dt.float32:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of "
                               "Float")
    return first is not None and first is not di


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


def _half_params(xp, input, weight, bias):
    """Whether PyTorch's CPU batch_norm kernel runs its float16 path with float16 (or no)
    parameters for these operands (NumPy arrays: the CPU)."""
    return input.dtype == np.float16 and xp is np and all(
        t is None or t.dtype == np.float16 for t in (weight, bias))


def _half_affine(x, mean, var, weight, bias, eps, training, shape):
    """PyTorch's CPU batch_norm of a float16 input with float16 (or no) parameters, x in
    float32: in training the batch mean and 1 / sqrt(var + eps) (float32) are saved as
    half tensors; alpha = invstd * weight and beta = bias - mean * alpha in float32; out =
    x * alpha + beta (float16 batch_norm / instance_norm computed as (x - mean) * invstd
    differed in 25-34% of the elements, up to 43 ulps). mean, var broadcast as x."""
    ct = x.dtype

    def r(v):
        return np.asarray(v).astype(np.float16).astype(ct) if training else \
            np.asarray(v, ct)
    with np.errstate(all="ignore"):
        mean_h = r(mean)
        alpha = r(1 / np.sqrt(np.asarray(var, ct) + ct.type(eps)))
        if weight is not None:
            alpha = alpha * weight.astype(ct).reshape(shape)
        beta = -(mean_h * alpha)
        if bias is not None:
            beta = bias.astype(ct).reshape(shape) + beta
        return x * alpha + beta


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
            if running_mean.dtype == np.float16:
                # (PyTorch: momentum * mean + (1 - momentum) * running_mean in double,
                # rounded once to half; NumPy's half arithmetic rounded (1 - m) * rm)
                running_mean[...] = (momentum * mean.astype(np.float64) + (1 - momentum)
                                     * running_mean.reshape(c).astype(np.float64)
                                     ).reshape(running_mean.shape)
            else:
                running_mean[...] = ((1 - momentum) * running_mean.reshape(c)
                                     + momentum * mean).reshape(running_mean.shape)
        if running_var is not None:
            unbiased = var * (n / (n - 1) if n > 1 else float("nan"))
            running_var[...] = ((1 - momentum) * running_var.reshape(c)
                                + momentum * unbiased).reshape(running_var.shape)
    else:
        mean = running_mean.reshape(c).astype(ct, copy=False)
        var = running_var.reshape(c).astype(ct, copy=False)
    if _half_params(xp, input, weight, bias):
        out = _half_affine(x, mean.reshape(shape), var.reshape(shape), weight, bias, eps,
                           training, shape)
        return _mf.suggest_layout(xp, out.astype(input.dtype, copy=False), input)
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
    _mixed_dtype_check(input, weight, bias)
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
    if xp is not np or x.dtype.kind != "f":
        var = x.var(axis=axes, keepdims=True)
        return (x - mean) / xp.sqrt(var + eps)
    # NumPy's x.var's own steps (numpy/_core/_methods.py _var: the same mean, x - mean
    # squared, summed, divided by the count as an intp in float64, cast back), keeping
    # x - mean for the normalization instead of computing it twice
    d = x - mean
    if type(d) is not np.ndarray:
        return d / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    var = np.add.reduce(np.multiply(d, d), axis=axes, keepdims=True)
    n = 1
    for a in axes:
        n *= x.shape[a]
    np.true_divide(var, np.intp(n), out=var, casting="unsafe")
    return np.divide(d, np.sqrt(var + eps), out=d)


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
    if xp is np and input.dtype in _LN_NATIVE and all(
            t is None or t.dtype == input.dtype for t in (weight, bias)):
        return _layer_norm_native(input, ns, weight, bias, eps)
    ct = compute_dtype(xp, input)
    nd = input.ndim
    out = _normalize(xp, input.astype(ct, copy=False), tuple(range(nd - len(ns), nd)), eps)
    if weight is not None:      # (out is a fresh array of the result's shape)
        out = xp.multiply(out, weight.astype(ct, copy=False), out=out)
    if bias is not None:
        out = xp.add(out, bias.astype(ct, copy=False), out=out)
    return out.astype(input.dtype, copy=False)


_LN_NATIVE = (np.dtype(np.float32), np.dtype(np.float64))


def _layer_norm_native(input, ns, weight, bias, eps):
    """float32 / float64 on NumPy: PyTorch's CPU kernel's order of operations
    (ops/_layer_norm_kernel)."""
    from ._layer_norm_kernel import LANES, layer_norm
    dt = input.dtype
    n = 1
    for s in ns:
        n *= s
    x = np.ascontiguousarray(input).reshape(-1, n)
    g = np.ones(n, dt) if weight is None else np.ascontiguousarray(weight).reshape(n)
    b = np.zeros(n, dt) if bias is None else np.ascontiguousarray(bias).reshape(n)
    y = np.empty_like(x)
    layer_norm(x, g, b, dt.type(eps), y, LANES[dt])
    return y.reshape(input.shape)


def _gn_check(input, num_groups, weight, bias):
    check_float("group_norm", input)
    _mixed_dtype_check(input, weight, bias)
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
    n, c = input.shape[:2]
    if xp is np and input.dtype in _LN_NATIVE and input.flags.c_contiguous and all(
            t is None or t.dtype == input.dtype for t in (weight, bias)):
        from ._layer_norm_kernel import LANES, group_norm as _gn
        dt = input.dtype
        x = input.reshape(n * num_groups, -1)
        y = np.empty_like(x)
        _gn(x, np.ones(c, dt) if weight is None else np.ascontiguousarray(weight),
            np.zeros(c, dt) if bias is None else np.ascontiguousarray(bias), float(eps), y,
            LANES[dt], c // num_groups, weight is not None or bias is not None)
        return y.reshape(input.shape)
    ct = compute_dtype(xp, input)
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
    if _half_params(xp, input, weight, bias):
        out = _half_affine(x, mean, var, weight, bias, eps, use_input_stats, shape)
        return _mf.c_layout(xp, out.astype(input.dtype, copy=False))
    out = (x - mean) * (1 / xp.sqrt(var + eps)).astype(ct, copy=False)
    if weight is not None:
        out = out * weight.astype(ct, copy=False).reshape(shape)
    if bias is not None:
        out = out + bias.astype(ct, copy=False).reshape(shape)
    # C-contiguous as PyTorch's (batch_norm on input.contiguous().view(1, N*C, *))
    return _mf.c_layout(xp, out.astype(input.dtype, copy=False))


# ---------------------------------------------------------------------- derivatives
# (gpujit.autograd) with registry ops; the statistics are recomputed from the saved input
# (PyTorch saves them from the forward). Formulas: PyTorch's batchnorm_backward,
# layer_norm_backward and group_norm_backward.
from .registry import derivative as _derivative  # noqa: E402
from . import registry as _reg  # noqa: E402
from .derivatives import raw_operands  # noqa: E402


def _norm_input_grad(g, xhat, invstd, dims):
    """d/d x of xhat = (x - mean) * invstd, mean and (biased) var over dims, given g = the
    gradient reaching xhat."""
    return invstd * (g - g.mean(dims, keepdim=True)
                     - xhat * (g * xhat).mean(dims, keepdim=True))


def _opmath(*ts):
    """The tensors of a bfloat16 / float16 norm's backward as float32 (None as it is), as
    ATen's norm backward kernels compute a reduced-precision input's gradients in float
    (opmath_t; float parameters beside it: the mixed-type kernels): the float gradients
    then round once to each input's dtype (autograd's fit_gradient, after summing a
    parameter's over the batch in float), where bfloat16 steps rounded each partial
    result. A float input: the tensors as they are."""
    x = ts[1]
    if x is None or x.dtype not in (_dt.bfloat16, _dt.float16):
        return ts
    return tuple(t.float() if t is not None and hasattr(t, "dtype") and t.is_floating_point()
                 else t for t in ts)


def _empty_grads(grad, *params):
    import gpujit
    return (grad,) + tuple(None if t is None else gpujit.zeros_like(t) for t in params)


def _bn_refused(*args):
    """batch_norm / instance_norm recording gradients with running statistics that require
    grad: PyTorch's native_batch_norm has no derivative for them (check_no_requires_grad),
    so its node has edges for input, weight and bias only."""
    for name, i in (("running_mean", 3), ("running_var", 4)):
        v = args[i] if i < len(args) else None
        if v is not None and getattr(v, "requires_grad", False):
            return (f"The function 'native_batch_norm' is not differentiable with respect to "
                    f"argument '{name}'. This input cannot have requires_grad True.")
    return None


_bn_refused.args = ("running_mean", "running_var")
batch_norm.op.refuse_grad = instance_norm.op.refuse_grad = _bn_refused


# (bias: only its shape, as PyTorch's batch_norm backward reads no bias)
@_derivative(batch_norm, wrt=("input", "weight", "bias"))
def _batch_norm_grad(grad, input, weight, bias_shape, running_mean, running_var, training,
                     eps):
    if input.numel() == 0:
        return _empty_grads(grad, weight) + (
            None if bias_shape is None else grad.new_zeros(bias_shape),)
    grad, input, weight, running_mean, running_var = _opmath(grad, input, weight,
                                                             running_mean, running_var)
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
    gb = grad.sum(dims).reshape(bias_shape) if bias_shape is not None else None
    if training:      # the batch statistics depend on the input; the running ones are unused
        return _norm_input_grad(gxhat, xhat, invstd, dims), gw, gb
    return gxhat * invstd, gw, gb


def _layer_norm_grad_raw(xp, grad, input, normalized_shape, weight, bias, eps):
    # _layer_norm_grad's registry calls on the arrays (no graph recorded): the same ufuncs
    # in the same order (mean: a float sum divided by the count; ** 2: d * d; rsqrt:
    # 1 / sqrt), fewer temporaries and no per-op dispatch. float32 / float64, one shape,
    # C order, a weight of the input's dtype; else the formula (a bfloat16 input's
    # float32 arrays too: the derivative's raw_skip).
    if not raw_operands(grad, input) or input.size == 0 or (
            weight is not None and (type(weight) is not type(input) or
                                    weight.dtype != input.dtype)):
        return NotImplemented
    nd = len(normalized_shape) if not isinstance(normalized_shape, int) else 1
    axes = tuple(range(input.ndim - nd, input.ndim))
    n = 1
    for a in axes:
        n *= input.shape[a]

    from .reduction import _reduce_sum       # (the mean op's sum: PyTorch's CPU order)

    def mean(a):
        return xp.divide(_reduce_sum(a, axes, a.dtype, True), n)

    d = xp.subtract(input, mean(input))
    invstd = mean(xp.multiply(d, d))
    xp.add(invstd, eps, out=invstd)
    invstd = xp.divide(1, xp.sqrt(invstd))
    xhat = xp.multiply(d, invstd, out=d)
    g = xp.multiply(grad, weight) if weight is not None else grad
    m2 = mean(xp.multiply(g, xhat))
    gi = xp.subtract(g, mean(g))
    xp.subtract(gi, xp.multiply(xhat, m2), out=gi)
    xp.multiply(invstd, gi, out=gi)
    gw = xp.multiply(grad, xhat) if weight is not None else None
    return gi, gw, (grad if bias is not None else None)


def _reduced(input):
    """A bfloat16 / float16 input's dtype (its backward kernel's, see
    _layer_norm_grad_reduced), None for another."""
    d = input.dtype
    return d if d is _dt.bfloat16 or d is _dt.float16 else None


def _thread_buffer_sum(terms, reduced):
    """sum(terms, 0) as ATen's CPU layer_norm backward reduces dgamma / dbeta of a
    reduced-precision input (LayerNormBackwardKernelImplInternal): at::parallel_for
    over the M rows (grain 1) gives each of min(get_num_threads(), M) threads
    ceil(M / threads) consecutive rows, each thread adds its rows' float terms in order
    into a buffer of the input's dtype (a rounding per row), and the buffers are then
    added in float. The value is that; the gradient (create_graph) is the plain sum's.
    On CUDA: the float sum (ATen's CUDA kernel accumulates in float)."""
    import gpujit
    from .bfloat16_support import round_bf16
    m, n = terms.shape
    used = max(1, min(gpujit.get_num_threads(), m))
    chunk = -(-m // used)
    plain = terms.sum(0)
    a = terms.detach()._data
    if type(a) is not np.ndarray:
        return plain        # (ATen's CUDA kernel accumulates in float: the float sum)
    with gpujit.no_grad():
        xp = np
        if used * chunk != m:
            a = xp.concatenate([a, xp.zeros((used * chunk - m, n), a.dtype)])
        a = a.reshape(used, chunk, n)
        buf = xp.zeros((used, n), np.float32)
        for k in range(chunk):
            buf = xp.add(buf, a[:, k])
            buf = round_bf16(xp, buf) if reduced is _dt.bfloat16 else \
                buf.astype(np.float16).astype(np.float32)
        out = xp.zeros(n, np.float32)
        for i in range(used):
            out = xp.add(out, buf[i])
        value = _reg.wrap(out, _dt.float32, terms.device)
    return value if not plain.requires_grad else plain + (value - plain).detach()


def _layer_norm_grad_reduced(grad, input, normalized_shape, weight, bias, eps, reduced):
    """A bfloat16 / float16 input's gradients as ATen's CPU kernel computes them, in
    float (opmath): with float parameters (the mixed-type kernel: an AMP model's
    LayerNorm) mean and rstd are float; else they were stored in the input's dtype
    (on the CPU; CUDA's kernels keep them, and the sums, in float).
    dgamma sums dy * (rstd * x - rstd * mean), dbeta dy, per row, through per-thread
    buffers of the input's dtype (_thread_buffer_sum); dx = rstd * dy * gamma + b * x + c
    with ATen's b and c of the row's sums, rounded once (autograd's fit_gradient rounds
    each float gradient to its input's dtype)."""
    nd = len(normalized_shape) if not isinstance(normalized_shape, int) else 1
    n = 1
    for s in input.shape[input.dim() - nd:]:
        n *= s
    m = input.numel() // n
    x = input.float().reshape(m, n)
    dy = grad.float().reshape(m, n)
    mixed = any(t is not None and t.dtype is _dt.float32 for t in (weight, bias))
    xd = x.detach()
    mean = xd.mean(1, keepdim=True)
    rstd = (((xd - mean) ** 2).mean(1, keepdim=True) + eps).rsqrt()
    if not mixed and input.device.type == "cpu":
        # (ATen's CPU native_layer_norm keeps mean / rstd in the input's dtype; CUDA's
        # in float)
        mean, rstd = mean.to(reduced).float(), rstd.to(reduced).float()
    gamma = weight.float().reshape(1, n) if weight is not None else None
    dyg = dy * gamma if gamma is not None else dy
    ds = (dyg * x).sum(1, keepdim=True)
    db = dyg.sum(1, keepdim=True)
    scale = 1.0 / n
    b = (db * mean - ds) * rstd * rstd * rstd * scale
    c = -b * mean - db * rstd * scale
    gi = ((rstd * dy * gamma if gamma is not None else rstd * dy) + b * x + c).reshape(
        input.shape)
    gw = _thread_buffer_sum(dy * (rstd * x + (-rstd * mean)), reduced).reshape(
        weight.shape) if weight is not None else None
    gb = _thread_buffer_sum(dy, reduced).reshape(bias.shape) if bias is not None else None
    return gi, gw, gb


@_derivative(layer_norm, raw=_layer_norm_grad_raw)
def _layer_norm_grad(grad, input, normalized_shape, weight, bias, eps):
    if input.numel() == 0:
        return _empty_grads(grad, weight, bias)
    reduced = _reduced(input)
    if reduced is not None:
        return _layer_norm_grad_reduced(grad, input, normalized_shape, weight, bias, eps,
                                        reduced)
    nd = len(normalized_shape) if not isinstance(normalized_shape, int) else 1
    dims = list(range(input.dim() - nd, input.dim()))
    mean = input.mean(dims, keepdim=True)
    invstd = (((input - mean) ** 2).mean(dims, keepdim=True) + eps).rsqrt()
    xhat = (input - mean) * invstd
    gxhat = grad * weight if weight is not None else grad
    # weight / bias gradients keep the input's shape: autograd sums the leading dims
    return (_norm_input_grad(gxhat, xhat, invstd, dims),
            grad * xhat if weight is not None else None, grad if bias is not None else None)


# (a bfloat16 input's arrays are float32: _layer_norm_grad_reduced, not the raw formula)
layer_norm.op.derivative.raw_skip = frozenset({_dt.bfloat16, _dt.float16})


@_derivative(group_norm)
def _group_norm_grad(grad, input, num_groups, weight, bias_shape, eps):
    # (bias: only whether there is one, as PyTorch's native_group_norm keeps no bias)
    if input.numel() == 0:
        return _empty_grads(grad, weight) + (
            None if bias_shape is None else grad.new_zeros(bias_shape),)
    grad, input, weight = _opmath(grad, input, weight)
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
    return gi.reshape(input.shape), gw, grad.sum(dims) if bias_shape is not None else None


# PyTorch's instance_norm is batch_norm over the input folded to (1, N * C, ...) with the
# weight and bias repeated N times: it keeps that copy of the weight and no bias, so a
# write into either after the op is no error
@_derivative(instance_norm, wrt=("input", "weight", "bias"), computes={
    "w": lambda weight: None if weight is None else weight.clone()})
def _instance_norm_grad(grad, input, w, bias_shape, running_mean, running_var,
                        use_input_stats, eps):
    """With the input's statistics: group_norm with one group per channel; with the
    running ones: batch_norm in evaluation. (The op's own node: traced and scripted
    code; an eager call recording gradients runs _instance_norm_composite.)"""
    if use_input_stats:
        return _group_norm_grad(grad, input, input.shape[1], w, bias_shape, eps)
    return _batch_norm_grad(grad, input, w, bias_shape, running_mean, running_var, False, eps)


def _instance_norm_composite(input, weight, bias, running_mean, running_var, use_input_stats,
                             momentum, eps, cudnn_enabled):
    """instance_norm recording gradients: PyTorch's composite, batch_norm of the input
    viewed as (1, N * C, ...) with the weight, bias and running statistics repeated N times
    (ViewBackward0 -> NativeBatchNormBackward0 -> (ViewBackward0, RepeatBackward0,
    RepeatBackward0)), the running statistics then the means of their N copies."""
    _in_check(input, weight, bias, running_mean, running_var, use_input_stats)
    if input.numel() == 0:
        return NotImplemented
    b, c = input.shape[0], input.shape[1]
    shape = [1, b * c] + list(input.shape[2:])
    rep = [None if t is None else t.repeat(b) for t in (weight, bias, running_mean,
                                                         running_var)]
    out = batch_norm.op.public(input.contiguous().view(shape), *rep, use_input_stats,
                               momentum, eps, cudnn_enabled)
    for run, copies in ((running_mean, rep[2]), (running_var, rep[3])):
        if run is not None:
            run.copy_(copies.view(b, c).mean(0))
    return out.view(input.shape)


instance_norm.op.composite = _instance_norm_composite
