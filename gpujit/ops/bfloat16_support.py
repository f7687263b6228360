"""bfloat16 tensors: their representation, the registry ops that take them, and the
rounding every bfloat16 result goes through.

Representation. NumPy and CuPy have no bfloat16 type, so a bfloat16 tensor's array is a
float32 array whose values are always bfloat16-exact (each element's low 16 bits zero);
Tensor._dtype says bfloat16. This float32 carrier was chosen over a uint16 array of the
bits because (1) every op that yields bfloat16 computes in float32 anyway, as ATen's CPU
kernels compute in their "opmath" type, and rounds its result once, so the carrier needs
no conversion in or out of an op; (2) view and shape ops (reshape, transpose, slicing,
cat, index ...) move float32 elements untouched and stay views; (3) an op that forgets
bfloat16 computes right values of the wrong dtype rather than integer arithmetic on bit
patterns. The price: the array holds 4 bytes an element where PyTorch's storage holds 2,
so what exposes memory converts: element_size() / nbytes / data_ptr() count 2 bytes an
element, torch.save writes 2-byte storages, and x.untyped_storage() / x.storage() are the
carrier's high halves (storage.py: 2 bytes an element, the bits; written through, they
change x, and a write to x shows in them), which a bfloat16 or 2-byte tensor set_ on the
storage views. Where memory of 2-byte elements would have to be viewed as 4-byte carrier
elements, or the high halves as a 1-D uint8 or 4-byte array, no NumPy array can: x.view(
torch.int16 / uint8 ...), y.view(torch.bfloat16) and torch.frombuffer(dtype=bfloat16)
are copies of the bits. (A uint16 carrier of the bits would share all of those, but each
op would decode its operands and encode its result: a bfloat16 add of 2**20 elements
measured 2.1x the float32 carrier's time, and every impl reads the carrier.)

Rounding is c10's round_to_nearest_even: the float32 bits u become (u + 0x7FFF +
((u >> 16) & 1)) with the low 16 bits cleared (ties to even; past the largest bfloat16
to inf), a NaN becomes 0x7FC0 (c10::BFloat16's scalar conversion), except where a float32
tensor is converted by ATen's vectorized copy (x.to(torch.bfloat16)), whose NaN is 0xFFFF.

Opt-in. bfloat16 is outside dtypes.ALL: an op takes it only when named in BF16_OPS (a
name without an overload takes every overload); any other op's entry point refuses a
bfloat16 Tensor, Tensor[] element or dtype= with '"<op>" not implemented for
'BFloat16'' (registry.bf16_refused), never computing a float32 answer. A pointwise op
that opts in computes in float32 (its compute dtype's array type) and its bfloat16 result
is rounded once (entry_codegen); any other opted-in op's float32 results are rounded and
labelled bfloat16 by `finish` when its floating tensor operands are all bfloat16 (or its
dtype= says bfloat16). Operands of a pointwise op are cast to bfloat16 first, as
TensorIterator casts them (`operands`). Where ATen's bfloat16 kernel rounds between steps
(index_add, nll_loss, logsumexp, prod, softmax's stored sums ...) or where the array-level
impl cannot tell bfloat16 from float32 (view(dtype), to(), rand_like), a Tensor-level
implementation runs instead: ops/bfloat16_kernels.py. The fusers refuse bfloat16 (not a
fusible dtype yet); in compiled code bfloat16 values are unknown to the code generator
(runtime/executor.py's _bfloat16_unknown): they stay Tensors and the nodes reading or
making them run their eager entry points, while the graph's other nodes are generated
and fused as usual.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .dtype_optin import EVERY_LIMITED_DTYPE, listed

__all__ = ["BF16_OPS", "opted_in", "round_bf16", "finish", "bits_of", "from_bits",
           "operands", "alpha_product", "round_in_place", "refused_error"]

BF16 = _dt.bfloat16

BF16_OPS = EVERY_LIMITED_DTYPE | frozenset({
    # creation, conversion and facts
    "aten::arange", "aten::linspace",
    "aten::rand", "aten::randn", "aten::randint",
    "aten::randn_like", "aten::normal_", "aten::uniform_",
    "aten::rand_like",
    "aten::requires_grad_", "aten::view.dtype",
    # views and shape ops: they move float32 elements, which stay bfloat16-exact
    "aten::flip",
    "aten::index_put", "aten::index_put_", "aten::gather",
    "aten::masked_fill", "aten::masked_fill_", "aten::_unsafe_view",
    # pointwise arithmetic and math: computed in float32, rounded once (ATen's CPU
    # kernels convert bfloat16 to float, compute, and convert back); their in-place
    # variants (add_ ...) too
    "aten::add", "aten::sub", "aten::div", "aten::neg", "aten::pow",
    "aten::reciprocal", "aten::exp", "aten::log", "aten::sqrt", "aten::rsqrt", "aten::sin",
    "aten::cos", "aten::tan", "aten::tanh", "aten::sinh", "aten::cosh", "aten::sigmoid",
    "aten::square", "aten::rsub", "aten::true_divide", "aten::subtract",
    "aten::divide", "aten::negative", "aten::log10", "aten::log2",
    "aten::expm1", "aten::log1p", "aten::exp2", "aten::abs", "aten::absolute", "aten::sign",
    "aten::relu", "aten::clamp", "aten::clamp_min", "aten::clamp_max", "aten::clip",
    "aten::minimum", "aten::maximum", "aten::fmin", "aten::fmax", "aten::floor",
    "aten::ceil", "aten::round", "aten::trunc", "aten::frac", "aten::erf", "aten::erfc",
    "aten::atan", "aten::asin", "aten::acos", "aten::atan2", "aten::lerp", "aten::addcmul",
    "aten::addcdiv", "aten::hypot", "aten::fmod", "aten::remainder", "aten::logaddexp",
    "aten::lt", "aten::le", "aten::gt", "aten::ge",
    "aten::isposinf", "aten::isneginf", "aten::signbit",
    "aten::logical_not", "aten::logical_and", "aten::logical_or", "aten::logical_xor",
    # activations (pointwise: computed in float32, rounded once)
    "aten::gelu", "aten::silu", "aten::relu6", "aten::leaky_relu", "aten::elu",
    "aten::hardtanh", "aten::softplus", "aten::mish", "aten::hardswish", "aten::hardsigmoid",
    "aten::threshold",
    # reductions, products, nn: float32 results rounded once by finish (ATen accumulates
    # bfloat16 in float)
    "aten::amax", "aten::amin", "aten::max", "aten::min",
    "aten::argmax", "aten::argmin", "aten::softmax", "aten::log_softmax", "aten::_softmax",
    "aten::_log_softmax", "aten::matmul", "aten::mm", "aten::bmm", "aten::mv",
    "aten::dot", "aten::addmm", "aten::linear", "aten::layer_norm", "aten::embedding",
    "aten::cross_entropy_loss", "aten::nll_loss", "aten::nll_loss_nd", "aten::dropout",
    "aten::topk", "aten::sort", "aten::conv1d", "aten::conv2d",
    "aten::conv3d", "aten::convolution", "aten::_convolution", "aten::baddbmm",
    "aten::tril", "aten::triu", "aten::_unique2", "aten::unique_dim",
    "aten::unique_consecutive",
    "aten::norm", "aten::mse_loss",
    "aten::l1_loss", "aten::smooth_l1_loss", "aten::logsumexp",
    "aten::all", "aten::any", "aten::count_nonzero", "aten::nonzero", "aten::argwhere",
    "aten::masked_select", "aten::take", "aten::take_along_dim", "aten::scatter",
    "aten::scatter_", "aten::scatter_add", "aten::scatter_add_",
    "aten::pad",
    "aten::einsum", "aten::tensordot", "aten::baddbmm",
    "aten::max_pool1d", "aten::max_pool2d", "aten::max_pool3d",
    "aten::max_pool1d_with_indices", "aten::max_pool2d_with_indices",
    "aten::max_pool3d_with_indices", "aten::adaptive_max_pool1d", "aten::adaptive_max_pool2d",
    "aten::adaptive_max_pool3d", "aten::argsort", "aten::median", "aten::nanmedian",
    "aten::kthvalue", "aten::mode", "aten::cummax", "aten::cummin", "aten::pixel_shuffle",
    "aten::pixel_unshuffle", "aten::im2col", "aten::col2im", "aten::upsample_nearest1d",
    "aten::upsample_nearest2d", "aten::upsample_nearest3d", "aten::_upsample_nearest_exact1d",
    "aten::_upsample_nearest_exact2d", "aten::_upsample_nearest_exact3d", "aten::heaviside",
    "aten::floor_divide", "aten::erfinv", "aten::avg_pool1d", "aten::avg_pool2d",
    "aten::avg_pool3d", "aten::adaptive_avg_pool1d", "aten::adaptive_avg_pool2d",
    "aten::adaptive_avg_pool3d", "aten::batch_norm", "aten::group_norm",
    "aten::upsample_bilinear2d", "aten::upsample_linear1d", "aten::cosine_similarity",
    "aten::kl_div", "aten::binary_cross_entropy_with_logits", "aten::addmv",
    "aten::addbmm", "aten::_autocast_to_reduced_precision", "aten::index_add",
    "aten::index_add_",
    "aten::_autocast_to_full_precision",
    "aten::_scaled_dot_product_flash_attention_for_cpu",
    # the activations' backward ops (autograd of the above)
    "aten::gelu_backward", "aten::silu_backward", "aten::elu_backward",
    "aten::hardsigmoid_backward", "aten::hardswish_backward", "aten::hardtanh_backward",
    "aten::leaky_relu_backward", "aten::mish_backward", "aten::sigmoid_backward",
    "aten::softplus_backward", "aten::tanh_backward", "aten::threshold_backward",
}) | frozenset({
    # session 46: factories of exact values (bfloat16 as the default dtype makes them)
    "aten::eye", "aten::empty_strided", "aten::empty_permuted",
    # pointwise math and activations: computed in float32 and rounded once, or in ATen's
    # bfloat16 steps (bfloat16_pointwise.STEPPED), each compared with torch 2.13 over all
    # 65536 bfloat16 values (tests/test_bfloat16_s46.py); erfcx / ndtri / log_ndtr raise
    # torch's own NotImplementedError
    "aten::digamma", "aten::lgamma", "aten::i0", "aten::special_i0e", "aten::special_i1",
    "aten::special_i1e", "aten::logit", "aten::xlogy", "aten::sinc", "aten::special_entr",
    "aten::asinh", "aten::acosh", "aten::atanh", "aten::deg2rad", "aten::rad2deg",
    "aten::nan_to_num", "aten::selu", "aten::celu", "aten::log_sigmoid",
    "aten::hardshrink", "aten::softshrink", "aten::logaddexp2", "aten::copysign",
    "aten::sgn", "aten::special_erfcx", "aten::special_ndtri", "aten::special_log_ndtr",
    "aten::special_xlog1py", "aten::xlog1py", "aten::special_expm1", "aten::special_exp2",
    "aten::special_log1p", "aten::special_sinc", "aten::special_logit",
    "aten::special_expit", "aten::special_erf", "aten::special_erfc", "aten::special_erfinv",
    "aten::special_digamma", "aten::special_psi", "aten::special_gammaln",
    "aten::special_i0", "aten::special_xlogy", "aten::special_round",
    "aten::special_log_softmax", "aten::special_softmax", "aten::special_logsumexp",
    "aten::arcsinh", "aten::arccosh", "aten::arctanh", "aten::arcsin", "aten::arccos",
    "aten::arctan", "aten::arctan2", "aten::fix", "aten::positive", "aten::log_sigmoid_forward",
    "aten::softshrink_backward", "aten::hardshrink_backward", "aten::log_sigmoid_backward",
    "aten::cumprod", "aten::logcumsumexp", "aten::nextafter", "aten::ldexp",
    "aten::float_power", "aten::frexp",
    "aten::normal.float_float", "aten::range.step", "aten::logspace",
    # selection, indexing, reductions and nn ops (batch 2)
    "aten::rot90", "aten::index_copy", "aten::index_copy_", "aten::index_fill",
    "aten::index_fill_", "aten::put", "aten::put_", "aten::masked_scatter",
    "aten::masked_scatter_", "aten::aminmax", "aten::bucketize", "aten::searchsorted",
    "aten::kron", "aten::trace", "aten::diff", "aten::nansum", "aten::nanmean", "aten::glu",
    "aten::prelu",
    "aten::_prelu_kernel", "aten::linalg_matrix_norm", "aten::linalg_norm",
    "aten::frobenius_norm", "aten::randint_like", "aten::cross", "aten::linalg_cross",
    "aten::huber_loss", "aten::binary_cross_entropy", "aten::trapezoid.dx", "aten::trapz.dx",
    "aten::cumulative_trapezoid.dx", "aten::addr", "aten::renorm", "aten::renorm_",
    "aten::linalg_multi_dot", "aten::upsample_bicubic2d", "aten::conv_transpose1d", "aten::histc",
    "aten::conv_transpose2d", "aten::conv_transpose3d", "aten::bilinear",
    # ops ATen refuses bfloat16 in (on the CPU), opted in to raise its own error
    # (bfloat16_kernels.TORCH_REFUSES)
    "aten::fft_fft", "aten::fft_ifft", "aten::fft_rfft", "aten::fft_irfft", "aten::fft_hfft",
    "aten::fft_ihfft", "aten::fft_fft2", "aten::fft_ifft2", "aten::fft_rfft2",
    "aten::fft_irfft2", "aten::fft_hfft2", "aten::fft_ihfft2", "aten::fft_fftn",
    "aten::fft_ifftn", "aten::fft_rfftn", "aten::fft_irfftn", "aten::fft_hfftn",
    "aten::fft_ihfftn", "aten::cdist",
}) | frozenset({
    # session 47: fake quantization (ops/fake_quantize.py), computed in float32 as ATen's
    # kernels compute a bfloat16 input, the result rounded once
    "aten::fake_quantize_per_tensor_affine", "aten::fake_quantize_per_tensor_affine_cachemask",
    "aten::_fake_quantize_per_tensor_affine_cachemask_tensor_qparams",
    "aten::fake_quantize_per_channel_affine", "aten::fake_quantize_per_channel_affine_cachemask",
    "aten::fake_quantize_per_tensor_affine_cachemask_backward",
    "aten::fake_quantize_per_channel_affine_cachemask_backward",
    # session 47 (d47): window factories in bfloat16 steps (ops/windows.py), bit for bit
    # torch 2.13 for every length up to 300 (tests/test_half_numerics_s47.py)
    "aten::hann_window", "aten::hamming_window", "aten::blackman_window",
    "aten::bartlett_window", "aten::kaiser_window",
    # special.ndtr and mvlgamma in ATen's bfloat16 steps (bfloat16_pointwise.STEPPED)
    "aten::special_ndtr", "aten::mvlgamma", "aten::mvlgamma_",
    # (c48) select / slice / narrow's backward writes the gradient into zeros through these
    # (ops/views._into_zeros): copies of the elements, NaN bits kept (EXACT_OPS)
    "aten::select_scatter", "aten::slice_scatter",
    "aten::select_backward", "aten::slice_backward",        # (c49: ATen's own ops)
})


def opted_in(qualified_name: str) -> bool:
    return listed(qualified_name, BF16_OPS)


def round_bf16(xp, a, nan=0x7FC0):
    """A new float32 array: a's values (any real dtype) rounded to bfloat16 (c10's
    round_to_nearest_even; float64 and integers through float32 first, as c10's
    BFloat16(float) constructor is given them), NaN as the bits `nan`."""
    f = xp.asarray(a)
    if f.dtype != np.float32:
        f = f.astype(np.float32)
    u = xp.ascontiguousarray(f).view(np.uint32)
    r = (u + (((u >> 16) & 1) + 0x7FFF)) & np.uint32(0xFFFF0000)
    isnan = f != f
    if isnan.any():
        r = xp.where(isnan.reshape(r.shape), np.uint32(nan << 16), r)
    return r.view(np.float32).reshape(f.shape)


def bits_of(xp, a):
    """The bfloat16 bit patterns (uint16) of a bfloat16 tensor's float32 array."""
    return (xp.ascontiguousarray(a).view(np.uint32) >> 16).astype(np.uint16).reshape(a.shape)


def from_bits(xp, bits):
    """The float32 array of bfloat16 bit patterns (any 2-byte integer array)."""
    u = xp.ascontiguousarray(bits).view(np.uint16).astype(np.uint32) << 16
    return u.view(np.float32).reshape(bits.shape)


def _promoted(tensors, explicit):
    """bfloat16 when the op's floating operands are all bfloat16 (or its dtype= says so)."""
    if explicit is not None:
        return explicit is BF16
    found = False
    for t in tensors:
        d = getattr(t, "_dtype", None)
        if d is None:
            if isinstance(t, (list, tuple)):
                for x in t:
                    d = getattr(x, "_dtype", None)
                    if d is not None and d.category == _dt.FLOATING:
                        if d is not BF16:
                            return False
                        found = True
            continue
        if d.category == _dt.FLOATING:
            if d is not BF16:
                return False
            found = True
    return found


def finish(res, tensors, explicit=None, rounding=None):
    """The result of an opted-in, non-pointwise op called with bfloat16 operands (or
    dtype=bfloat16): its float32 tensors, when the op's floating operands are all
    bfloat16 (or explicit, its dtype=, is bfloat16), become bfloat16 ones, rounded once
    unless they are views of a bfloat16 operand, whose values are exact already. An
    operand handed back as the result (a conversion's shortcut: the same array) is never
    relabelled: the result is a new tensor of the asked dtype."""
    to_bf16 = _promoted(tensors, explicit)
    inputs = {}
    for t in tensors:
        for x in (t if isinstance(t, (list, tuple)) else (t,)):
            if getattr(x, "_dtype", None) is not None:
                inputs[id(x)] = x
    return _fix(res, to_bf16, explicit, inputs, rounding or round_bf16)


def _fix(res, to_bf16, explicit, inputs, rounding):
    if isinstance(res, tuple):
        fixed = [_fix(r, to_bf16, explicit, inputs, rounding) for r in res]
        return type(res)(*fixed) if hasattr(res, "_fields") else tuple(fixed)
    if isinstance(res, list):
        return [_fix(r, to_bf16, explicit, inputs, rounding) for r in res]
    d = getattr(res, "_dtype", None)
    if d is None or not hasattr(res, "_vc"):     # (a Tensor, a Parameter: _vc; a dtype: no)
        return res
    if id(res) in inputs:       # (an operand itself: conversions' shortcut)
        if to_bf16 and d is _dt.float32:
            return _new_tensor(res, rounding(_xp(res._data), res._data), BF16)
        if d is BF16 and explicit is not None and explicit is not BF16:
            return _new_tensor(res, res._data.astype(explicit.np), explicit)
        return res
    if to_bf16 and d is _dt.float32:
        res._dtype = BF16
        if not any(res._vc is x._vc for x in inputs.values() if x._dtype is BF16):
            res._data = rounding(_xp(res._data), res._data)
            res._vc = [0]
            res._base = None
    return res


def _new_tensor(like, a, dt):
    from .registry import wrap
    return wrap(a, dt, like._device)


def _xp(a):
    if type(a) is np.ndarray:
        return np
    import cupy
    return cupy


def refused_error(op_name, error_cls):
    e = error_cls(f"\"{op_name}\" not implemented for 'BFloat16': gpujit computes bfloat16 "
                  f"tensors in some ops only so far (README, bfloat16)")
    e.dtype = BF16
    return e


def round_in_place(a):
    """Round the float32 array a of a bfloat16 tensor an op wrote (copy_, fill_,
    index_put_ ...) to bfloat16 where it stands."""
    xp = _xp(a)
    a[...] = round_bf16(xp, a)


# ATen's CPU mul / div with a bfloat16 common dtype take a one-element second operand at
# its original value in float (iter.original_scalar_value<opmath_t>), not cast to bfloat16
_OPMATH_SECOND = frozenset({"aten::mul", "aten::div", "aten::true_divide", "aten::multiply",
                            "aten::divide"})


def operands(op, dev, originals, arrays):
    """The operands of a pointwise op whose compute dtype is bfloat16, as TensorIterator
    gives them to its kernel: each cast to bfloat16 (a float32 tensor, an int tensor, a
    Python float: rounded), except mul / div's one-element second operand."""
    xp = _xp_of_device(dev)
    base = op.name.split(".")[0].rstrip("_")
    out = []
    for i, (o, a) in enumerate(zip(originals, arrays)):
        if a is None or getattr(o, "_dtype", None) is BF16:
            out.append(a)
        elif i == 1 and base in _OPMATH_SECOND and (
                not hasattr(o, "_data") or o._data.size == 1):
            out.append(a)
        elif isinstance(a, (int, float)):
            r = float(round_bf16(np, np.float32(a))[()]) if not isinstance(a, bool) else a
            out.append(a if r == a else r)
        else:
            out.append(round_bf16(xp, a))
    return tuple(out)


def alpha_product(dev, other, alpha):
    """add / sub's alpha as ATen's vectorized bfloat16 kernel takes it (ufunc add, `self +
    alpha * other` over Vectorized<BFloat16>): cast to bfloat16, the sum computed in float
    and rounded once. (Its scalar tail, the last n % (2 * vector width) elements, rounds
    alpha * other first: those may differ by one bfloat16 ulp.)"""
    return other, float(round_bf16(np, np.float32(alpha))[()])


def _xp_of_device(dev):
    if dev.type == "cpu":
        return np
    import cupy
    return cupy


# torch.set_default_dtype(torch.bfloat16): the factories whose dtype=None result is the
# default dtype (always, or for the arguments default_is_bf16 says) take dtype=bfloat16
# then (the generated entry point's dtype line), and so compute as dtype=bfloat16 does
DEFAULT_DTYPE_FACTORIES = frozenset({
    "aten::zeros", "aten::ones", "aten::empty.memory_format", "aten::empty_strided",
    "aten::empty_permuted", "aten::eye", "aten::eye.m", "aten::rand", "aten::rand.generator",
    "aten::randn", "aten::randn.generator", "aten::linspace", "aten::logspace",
    "aten::scalar_tensor", "aten::full", "aten::arange", "aten::arange.start",
    "aten::arange.start_step", "aten::range.step", "aten::tensor.float",
    "aten::as_tensor.float", "aten::tensor.float_list", "aten::as_tensor.float_list",
    "aten::normal.float_float", "aten::bartlett_window", "aten::blackman_window",
    "aten::hamming_window", "aten::hann_window", "aten::kaiser_window",
})

# (those that infer their dtype from their values: the default dtype for a float one)
_INFERRED = {"aten::full": (1,), "aten::arange": (0,), "aten::arange.start": (0, 1),
             "aten::arange.start_step": (0, 1, 2)}


def default_is_bf16(op, args):
    """Does a call of a DEFAULT_DTYPE_FACTORIES op with dtype=None make the default dtype
    (bfloat16 now)? Yes, unless its dtype is inferred from int / bool values (full(size,
    1), arange(3)) or a complex one (the default complex dtype's error)."""
    at = _INFERRED.get(op.name)
    if at is None:
        return True
    vals = [getattr(args[i], "_data", args[i]) for i in at]
    return any(isinstance(v, float) or getattr(getattr(v, "dtype", None), "kind", "") == "f"
               for v in vals)


# Ops whose bfloat16 results are values of their operands (moved, selected, compared),
# which ATen's kernels copy as they are: a NaN keeps its bits (clone of 0x7F81 is 0x7F81),
# where "round once" would make every NaN 0x7FC0. Their results go through round_keeping
# (the same value for every number: only a NaN's bits differ). Ops that compute keep
# c10's 0x7FC0 (ATen's vectorized body converts a NaN to 0xFFFF, its scalar tail to 0x7FC0:
# which elements are which depends on the machine's vector width).
EXACT_OPS = frozenset({
    "aten::clone", "aten::contiguous", "aten::cat", "aten::stack", "aten::hstack",
    "aten::vstack", "aten::index_select", "aten::gather", "aten::index", "aten::masked_select",
    "aten::take", "aten::take_along_dim", "aten::flip", "aten::roll", "aten::repeat",
    "aten::tile", "aten::sort", "aten::max.dim", "aten::min.dim", "aten::median.dim",
    "aten::nanmedian.dim", "aten::kthvalue", "aten::mode", "aten::cummax", "aten::cummin",
    "aten::max_pool1d", "aten::max_pool2d", "aten::max_pool3d",
    "aten::max_pool1d_with_indices", "aten::max_pool2d_with_indices",
    "aten::max_pool3d_with_indices", "aten::adaptive_max_pool1d",
    "aten::adaptive_max_pool2d", "aten::adaptive_max_pool3d", "aten::pad",
    "aten::constant_pad_nd", "aten::tril", "aten::triu", "aten::diag", "aten::diag_embed",
    "aten::diagonal", "aten::narrow_copy", "aten::repeat_interleave", "aten::_unique2",
    "aten::unique_dim", "aten::unique_consecutive", "aten::pixel_shuffle",
    "aten::pixel_unshuffle", "aten::embedding", "aten::scatter", "aten::scatter_",
    "aten::index_put", "aten::index_put_", "aten::masked_fill", "aten::masked_fill_",
    "aten::copy_", "aten::where", "aten::relu", "aten::clamp", "aten::clamp_min",
    "aten::clamp_max", "aten::clip", "aten::hardtanh", "aten::threshold", "aten::to",
    "aten::_to_copy", "aten::upsample_nearest1d", "aten::upsample_nearest2d",
    "aten::upsample_nearest3d", "aten::_upsample_nearest_exact1d",
    "aten::_upsample_nearest_exact2d", "aten::_upsample_nearest_exact3d", "aten::im2col",
    "aten::fill_", "aten::full", "aten::full_like", "aten::new_full", "aten::unfold",
    "aten::expand_copy", "aten::permute_copy", "aten::t_copy", "aten::select_scatter",
    "aten::select_backward", "aten::slice_backward",
    "aten::slice_scatter", "aten::diagonal_scatter", "aten::block_diag", "aten::flatten",
    "aten::rot90", "aten::index_copy", "aten::index_copy_", "aten::index_fill",
    "aten::index_fill_", "aten::put", "aten::put_", "aten::masked_scatter",
    "aten::masked_scatter_", "aten::aminmax",
    "aten::reshape", "aten::movedim", "aten::split_with_sizes_copy",
})


def round_keeping(xp, a, nan=0x7FC0):
    """round_bf16, except that a value already bfloat16 (its low 16 bits zero) keeps its
    bits: a NaN stays the NaN it is (every number rounds to itself anyway)."""
    f = xp.asarray(a)
    if f.dtype == np.float32:
        u = xp.ascontiguousarray(f).view(np.uint32)
        low = u & np.uint32(0xFFFF)
        if not low.any():
            return f
        r = round_bf16(xp, f, nan)
        return xp.where(low.reshape(f.shape) == 0, f, r)
    return round_bf16(xp, f, nan)


def _finish_keeping(res, tensors, explicit=None):
    return finish(res, tensors, explicit, rounding=round_keeping)


def _round_in_place_keeping(a):
    a[...] = round_keeping(_xp(a), a)


def exact_bindings(op):
    """The names a generated entry point of op rounds bfloat16 results with (entry_codegen's
    _bff / _bfr / _bfw): round_keeping's for EXACT_OPS; for an op whose ATen kernel rounds
    every step, its operand cast and impl (bfloat16_pointwise.bindings)."""
    from .bfloat16_pointwise import bindings
    out = bindings(op) if op.takes_bf16 else {}
    if listed(op.name, EXACT_OPS):
        out.update(_bff=_finish_keeping, _bfr=round_keeping, _bfw=_round_in_place_keeping)
    return out
