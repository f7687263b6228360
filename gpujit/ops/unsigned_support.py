"""The registry ops that take uint16 / uint32 / uint64 tensors (PyTorch's "limited support"
unsigned types, dtypes.UNSIGNED_TYPES).

The unsigned types are outside dtypes.ALL, so every op refuses them (its entry point raises
PyTorch's '"<kernel>" not implemented for 'UInt16'', registry.unsigned_refused) unless it
is named here. The list is PyTorch 2.13's, probed op by op on the CPU: it computes few ops
on them (mul, sum, sort, eq, the bitwise and / or / xor, the conversions, views and copies),
and refuses most (add and sub, the other comparisons, max / min, neg, abs, matmul,
gather / scatter, masked_fill...). A pointwise op whose computation dtype is floating (sqrt,
x / 2, x * 1.5) needs no entry: it computes in float32 whatever the operand's type. A name
without an overload ('aten::zeros') takes in every overload; an in-place variant takes them
when its op does (registry._declare_inplace_variant)."""
from __future__ import annotations

from .dtype_optin import EVERY_LIMITED_DTYPE, listed

__all__ = ["UNSIGNED_OPS", "KERNELS", "NO_UNSIGNED_DTYPE_ARG", "CONDITIONS",
           "OPERAND_KERNELS", "takes_unsigned", "kernel_of", "operand_kernel"]

UNSIGNED_OPS = EVERY_LIMITED_DTYPE | frozenset({
    # creation, conversion and facts
    "aten::empty_strided",
    "aten::randint",
    "aten::randint_like", "aten::random_.from", "aten::random_.to",
    "aten::detach_",
    "aten::conj", "aten::conj_physical",
    "aten::resolve_conj", "aten::resolve_neg", "aten::real",
    # views and shape ops that move elements
    "aten::mH", "aten::matrix_H", "aten::adjoint",
    "aten::hsplit", "aten::vsplit",
    "aten::dsplit", "aten::moveaxis",
    "aten::atleast_1d",
    "aten::atleast_2d", "aten::atleast_3d",
    "aten::concatenate", "aten::hstack", "aten::vstack",
    "aten::dstack", "aten::column_stack",
    "aten::diagflat", "aten::block_diag", "aten::kron",
    "aten::meshgrid", "aten::squeeze_copy",
    "aten::unsqueeze_copy", "aten::expand_copy", "aten::permute_copy", "aten::t_copy",
    "aten::transpose_copy", "aten::view_copy", "aten::select_copy", "aten::slice_copy",
    "aten::diagonal_copy", "aten::split_copy", "aten::unbind_copy", "aten::narrow_copy",
    "aten::alias_copy", "aten::unfold_copy",
    # sorting and sets
    "aten::sort", "aten::argsort", "aten::msort", "aten::unique", "aten::_unique",
    "aten::_unique2", "aten::unique_dim", "aten::unique_consecutive",
    # arithmetic that PyTorch computes in the unsigned type (wrapping modulo 2**bits)
    "aten::ger", "aten::bitwise_and",
    "aten::bitwise_or", "aten::bitwise_xor", "aten::__and__", "aten::__or__",
    "aten::__xor__", "aten::not_equal", "aten::floor", "aten::ceil",
    "aten::round", "aten::trunc", "aten::fix",
    "aten::isposinf", "aten::isneginf", "aten::isreal", "aten::signbit",
    "aten::nan_to_num",
    # reductions to int64 (or bool)
    "aten::nansum", "aten::cumprod", "aten::any",
    "aten::all",
    # floating results of integer inputs
    "aten::logsumexp",
    # a number of a one-element tensor (int(u16[0]), an index)
    "aten::Int", "aten::Float", "aten::Bool", "aten::IntImplicit", "aten::FloatImplicit",
    "aten::ScalarImplicit",
    # ops whose own dtype check refuses integer inputs in PyTorch's words ("std and var only
    # support floating point and complex dtypes")
    "aten::one_hot", "aten::embedding", "aten::multinomial",
    "aten::quantile", "aten::nanquantile", "aten::cdist",
    # composites of ops that take them (meshgrid, stack)
    "aten::cartesian_prod",
})

# the ops above whose dtype= may not be an unsigned type (PyTorch's reductions compute in
# int64: u16.sum(dtype=torch.uint16) is '"sum_cpu" not implemented for 'UInt16'')
NO_UNSIGNED_DTYPE_ARG = {"aten::sum": "sum_cpu", "aten::nansum": "sum_cpu",
                         "aten::prod": "prod_out_cpu", "aten::cumsum": "cumsum_out_cpu",
                         "aten::cumprod": "cumprod_out_cpu"}

# the CPU kernels PyTorch's errors name for an unsigned tensor ('"add_stub" not implemented
# for 'UInt16''), by op (an in-place variant's name without its '_' finds its op's);
# an op not here is named by its public name
KERNELS = {
    "add": "add_stub", "sub": "add_stub", "subtract": "add_stub", "rsub": "add_stub",
    "diff": "add_stub", "dist": "add_stub", "floor_divide": "div_floor_cpu",
    "remainder": "remainder_cpu", "fmod": "fmod_cpu", "pow": "pow", "square": "pow",
    "neg": "neg_cpu", "negative": "neg_cpu", "abs": "abs_cpu", "absolute": "abs_cpu",
    "sign": "sign_cpu", "sgn": "sign_cpu", "lt": "lt_cpu", "le": "le_cpu", "gt": "gt_cpu",
    "ge": "ge_cpu", "less": "lt_cpu", "less_equal": "le_cpu", "greater": "gt_cpu",
    "greater_equal": "ge_cpu", "bitwise_not": "bitwise_not_cpu",
    "__lshift__": "lshift_cpu", "bitwise_left_shift": "lshift_cpu",
    "__rshift__": "rshift_cpu", "bitwise_right_shift": "rshift_cpu",
    "max": "max_all", "max.dim": "max_cpu", "min": "min_all", "min.dim": "min_cpu",
    "amax": "max_values_cpu", "amin": "min_values_cpu", "argmax": "argmax_cpu",
    "argmin": "argmin_cpu", "aminmax": "aminmax_cpu", "histc": "aminmax_cpu",
    "maximum": "maximum_cpu", "minimum": "minimum_cpu", "fmax": "fmax_cpu",
    "fmin": "fmin_cpu", "topk": "topk_cpu", "kthvalue": "kthvalue_cpu",
    "median": "median_cpu", "mode": "mode_cpu",
    "cummax": "cummax_cpu", "cummin": "cummin_cpu", "gather": "scatter_gather_tensor_cpu",
    "scatter": "scatter_gather_tensor_cpu", "scatter_add": "scatter_gather_tensor_cpu",
    "scatter_reduce": "scatter_gather_tensor_cpu", "index_add": "scatter_gather_tensor_cpu",
    "take_along_dim": "scatter_gather_tensor_cpu", "index_fill": "index_fill_cpu",
    "index_copy": "index_copy_cpu", "index_put": "index_put", "_index_put_impl": "index_put",
    "masked_fill": "masked_fill", "masked_scatter": "masked_scatter",
    "masked_select": "masked_select", "nonzero": "nonzero_count_cpu",
    "count_nonzero": "nonzero_count_cpu", "argwhere": "nonzero_count_cpu",
    "take": "take_cpu", "put": "take_put_cpu", "tril": "tril", "triu": "triu",
    "trace": "trace", "flip": "flip_cpu", "fliplr": "flip_cpu", "flipud": "flip_cpu",
    "rot90": "flip_cpu", "arange": "arange_cpu", "linspace": "linspace_cpu",
    "logspace": "logspace_cpu", "eye": "eye", "randperm": "randperm",
    "rand": "check_uniform_bounds", "rand_like": "check_uniform_bounds",
    "uniform": "check_uniform_bounds", "randn": "normal_kernel_cpu",
    "randn_like": "normal_kernel_cpu", "normal": "normal_kernel_cpu",
    "clamp": "clamp_scalar_cpu", "clamp.Tensor": "clamp_cpu", "clip": "clamp_scalar_cpu",
    "clip.Tensor": "clamp_cpu", "clamp_min": "clamp_min_scalar_cpu",
    "clamp_max": "clamp_max_scalar_cpu", "relu": "clamp_min_scalar_cpu",
    "mm": "addmm_impl_cpu_", "addmm": "addmm_impl_cpu_", "matmul": "addmm_impl_cpu_",
    "tensordot": "addmm_impl_cpu_", "mv": "addmv_impl_cpu", "dot": "dot", "vdot": "dot",
    "inner": "dot", "bmm": "bmm", "baddbmm": "bmm", "einsum": "bmm",
    "bincount": "bincount_cpu", "logical_not": "logical_not_cpu",
    "logical_and": "logical_and_cpu", "logical_or": "logical_or_cpu",
    "logical_xor": "logical_xor_cpu", "lerp": "lerp_kernel_scalar",
    "lerp.Tensor": "lerp_kernel_tensor", "addcmul": "addcmul_cpu_out",
    "searchsorted": "searchsorted_out_cpu", "bucketize": "searchsorted_out_cpu",
    "softmax": "softmax_kernel_impl", "log_softmax": "log_softmax_lastdim_kernel_impl",
    "gcd": "gcd_cpu", "lcm": "lcm_cpu", "cross": "cross", "linalg_cross": "cross",
    "isin": "isin_default_cpu", "histogram": "histogramdd",
    "bernoulli": "bernoulli_tensor_cpu_self_", "max_pool1d": "max_pool1d_impl",
    "nextafter": "nextafter_cpu", "heaviside": "heaviside_cpu", "frac": "frac_cpu",
    "hypot": "hypot_cpu", "random_": "random_kernel_cpu", "logaddexp": "logaddexp_cpu",
    "logaddexp2": "logaddexp2_cpu", "hash_tensor": "xor_sum_cpu", "linear": "addmm_impl_cpu_",
    "upsample_nearest1d": "compute_indices_weights_nearest",
    "upsample_nearest2d": "compute_indices_weights_nearest",
    "upsample_nearest3d": "compute_indices_weights_nearest",
    "logcumsumexp": "logcumsumexp_out_cpu", "trapezoid": "add_stub", "median.dim": "median_out",
    "nanmedian": "median_cpu", "combinations": "masked_select", "conv1d": "slow_conv2d_cpu",
    "conv2d": "slow_conv2d_cpu", "avg_pool1d": "avg_pool2d", "avg_pool2d": "avg_pool2d",
    "max_pool2d": "max_pool2d", "upsample_linear1d": "compute_indices_weights_linear",
}


def _flip_kernel(self, dims):
    """PyTorch's CPU flip refuses the unsigned types ("flip_cpu") but for the cases it runs
    without its typed kernel: nothing to flip (only dims of size 1), or one dim flipped
    that is not the innermost in memory, which is contiguous (cpu_vflip_memcpy copies
    rows: u16[2, 3].flip(0), flipud; not flip(1), not a 1-D flip, not x.t().flip(0))."""
    nd = self.dim()
    dims = [dims] if isinstance(dims, int) else list(dims)
    shape, strides = tuple(self.shape), self.stride()
    flipped = {d % nd for d in dims if nd and shape[d % nd] > 1}
    if not flipped or self.numel() <= 1:
        return None
    kept = [i for i in range(nd) if shape[i] > 1]
    inner = min(reversed(kept), key=lambda i: abs(strides[i]))
    if len(flipped) == 1 and inner not in flipped and strides[inner] == 1:
        return None
    return "flip_cpu"


def _matmul_kernel(self, other):
    """The kernel torch.matmul of unsigned tensors reaches (and refuses) by the ranks."""
    a, b = self.dim(), other.dim()
    if a == 1 and b == 1:
        return "dot"
    if b == 1:
        return "addmv_impl_cpu"
    if a <= 2 and b == 2 or a > 2 and b == 2:
        return "addmm_impl_cpu_"
    return "bmm"


def _pad_kernel(self, pad, mode="constant", value=None):
    """F.pad: constant and circular padding copy (any dtype); reflect / replicate run
    typed kernels that refuse the unsigned types."""
    n = len(pad) // 2
    if mode == "reflect":
        return f"reflection_pad{n}d"
    if mode == "replicate":
        return f"replication_pad{n}d"
    return None


def _rot90_kernel(self, k=1, dims=(0, 1)):
    """rot90 is flips and a transpose (k = 1: dims[1]; 2: both; 3: dims[0]; 0: a copy)."""
    dims = list(dims)
    if len(dims) != 2 or self.dim() < 2:
        return None                          # (rot90's own errors)
    k %= 4
    return None if k == 0 else _flip_kernel(self, [dims[1]] if k == 1 else
                                            dims if k == 2 else [dims[0]])


def _bincount_kernel(self, weights=None, minlength=0):
    """bincount counts any weights (its result is float64), not unsigned values."""
    return "bincount_cpu" if self._dtype in _unsigned() else None


def _index_put_kernel(self, indices, values, accumulate=False):
    """x[mask] = v (one bool mask, a one-element value) is PyTorch's masked_fill."""
    idx = [i for i in indices if i is not None]
    if (len(indices) == 1 and len(idx) == 1 and idx[0].dtype.name == "bool"
            and values.numel() == 1 and not accumulate):
        return "masked_fill"
    return "index_put"


def _searchsorted_kernel(sorted_sequence, self, *args, **kwargs):
    """searchsorted promotes the sequence with the values first (their promotion error)."""
    from .. import dtypes as _dt
    if hasattr(self, "_dtype") and self._dtype is not sorted_sequence._dtype:
        _dt.promote_types(sorted_sequence._dtype, self._dtype)
    return "searchsorted_out_cpu"


def _einsum_kernel(equation, tensors, path=None):
    """einsum computes what needs no matrix product: one operand (permutes, diagonals, sums
    to int64), products without a contracted label (ij,ij->ij; i,j->ij); a label two
    operands share and the output drops is a bmm, which refuses them."""
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if len(terms) < 2:
        return None
    if not arrow:                   # (the implicit output: the labels seen once)
        rhs = "".join(c for c in set(lhs) if c.isalpha() and lhs.count(c) == 1)
    shared = [c for c in set(lhs) if c.isalpha() and sum(c in t for t in terms) > 1]
    return "bmm" if any(c not in rhs for c in shared) else None


def _unsigned():
    from .. import dtypes as _dt
    return _dt.UNSIGNED_TYPES


# ops whose PyTorch kernel depends on the arguments: f(*args) gives the kernel refusing
# them (its NotImplementedError), or None where PyTorch computes them
CONDITIONS = {"aten::flip": _flip_kernel, "aten::flipud": lambda self: _flip_kernel(self, 0),
              "aten::fliplr": lambda self: _flip_kernel(self, 1),
              "aten::matmul": _matmul_kernel, "aten::pad": _pad_kernel,
              "aten::rot90": _rot90_kernel, "aten::bincount": _bincount_kernel,
              "aten::index_put": _index_put_kernel, "aten::index_put_": _index_put_kernel,
              "aten::einsum": _einsum_kernel,
              "aten::searchsorted.Tensor": _searchsorted_kernel,
              "aten::searchsorted.Scalar": _searchsorted_kernel}


def _clamp_kernel(self, min=None, max=None):
    return ("clamp_scalar_cpu" if min is not None and max is not None else
            "clamp_min_scalar_cpu" if min is not None else "clamp_max_scalar_cpu")


def _clamp_tensor_kernel(self, min=None, max=None):
    return ("clamp_cpu" if min is not None and max is not None else
            "maximum_cpu" if min is not None else "minimum_cpu")


# pointwise ops whose refusing kernel depends on which operands are given:
# f(*operands) gives it (registry.dtype_refused)
OPERAND_KERNELS = {"aten::clamp": _clamp_kernel, "aten::clip": _clamp_kernel,
                   "aten::clamp.Tensor": _clamp_tensor_kernel,
                   "aten::clip.Tensor": _clamp_tensor_kernel}


def operand_kernel(op, operands):
    """The kernel of OPERAND_KERNELS for op (its in-place variant too), or None."""
    name = (op.inplace_of or op).name
    f = OPERAND_KERNELS.get(name)
    return f(*operands) if f is not None else None


def takes_unsigned(qualified_name: str) -> bool:
    return qualified_name in CONDITIONS or listed(qualified_name, UNSIGNED_OPS)


def kernel_of(op) -> str:
    """The kernel PyTorch's error names for op given an unsigned tensor."""
    name = op.name[len("aten::"):] if op.name.startswith("aten::") else op.name
    if op.inplace_of is not None:
        name = op.inplace_of.name[len("aten::"):]
    base, _, overload = name.partition(".")
    k = KERNELS.get(f"{base}.{overload}") or KERNELS.get(base)
    if k is None and base.endswith("_"):
        k = KERNELS.get(base.rstrip("_"))
    return k or op.public_name
