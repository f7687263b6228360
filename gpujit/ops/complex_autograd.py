"""Complex autograd: which registry ops differentiate complex tensors, and how.

PyTorch's convention ("Autograd for Complex Numbers"): the gradient a tensor receives is
the conjugate Wirtinger derivative dL/dz* of a real loss L, so the chain rule multiplies
by the conjugate of a holomorphic op's derivative (derivatives.yaml: mul's self gets
grad * other.conj(), exp's grad * result.conj()), and a real input's gradient is the real
part of what flows back to it (handle_r_to_c: autograd.graph.fit_gradient takes it).

An op differentiates complex tensors only when it is named here; any other op that takes
complex tensors (ops/complex_support.py) refuses to record a complex operand or result
(autograd.recording: never a wrong gradient). Three kinds:

- AS_WRITTEN: views, shape ops, sums, copies, index / scatter ops whose gradient is the
  adjoint of a real-linear map that does not read complex values (a reshape of grad, a
  scatter of it, a mask), and var / std / vector_norm, whose real formulas are already
  the complex ones (var's grad * 2 (z - mean) / (N - correction)): they hold as written.
- CONJUGATED: ops whose formulas are the real ones evaluated at the conjugated operands:
  for an op with real Taylor coefficients f'(conj z) = conj(f'(z)), and a product's
  derivative is the other factor, so calling the formula with every complex saved value
  (and complex number argument: add's alpha) conjugated gives derivatives.yaml's
  grad * f'(z).conj() (mm: grad @ other.mH). The formula of a real call runs unchanged.
- OWN: the complex-aware formulas written beside their ops (abs, angle, sgn, vdot, pow,
  slogdet, eigh / eigvalsh, cholesky, svd / svdvals, qr, pinv, tanh / sigmoid's backward
  kernels and their own derivatives (double backward), the complex parts of
  complex_parts.py, the transposes' conjugation below, torch.fft's; eig / eigvals, lstsq,
  cholesky_solve / cholesky_inverse, the LU family and householder_product with conjugate
  transposes).

INTEGRAL_RESULTS (isnan, nonzero, matrix_rank ...) record nothing to get wrong; an op of
TORCH_REFUSES is refused in PyTorch's own words.
"""
from __future__ import annotations

from ..tensor import Tensor
from .registry import OPS, OVERLOADS
from .registry import derivative as _derivative
from .derivatives import NonDifferentiable

__all__ = ["AS_WRITTEN", "CONJUGATED", "OWN", "TORCH_REFUSES", "differentiates", "refusal"]

AS_WRITTEN = frozenset({
    "aten::view", "aten::view_as", "aten::reshape", "aten::reshape_as", "aten::transpose",
    "aten::permute", "aten::flatten", "aten::unflatten", "aten::ravel", "aten::unsqueeze",
    "aten::squeeze", "aten::t", "aten::numpy_T", "aten::mT", "aten::select", "aten::slice",
    "aten::narrow", "aten::expand", "aten::expand_as", "aten::broadcast_to",
    "aten::broadcast_tensors", "aten::chunk", "aten::split", "aten::split_with_sizes",
    "aten::tensor_split", "aten::hsplit", "aten::vsplit", "aten::dsplit", "aten::unbind",
    "aten::movedim", "aten::moveaxis", "aten::swapaxes", "aten::swapdims", "aten::alias",
    "aten::atleast_1d", "aten::atleast_2d", "aten::atleast_3d", "aten::unfold",
    "aten::diagonal", "aten::cat", "aten::concat", "aten::concatenate", "aten::stack",
    "aten::hstack", "aten::vstack", "aten::dstack", "aten::column_stack", "aten::flip",
    "aten::fliplr", "aten::flipud", "aten::roll", "aten::repeat", "aten::tile",
    "aten::index", "aten::index_select", "aten::gather", "aten::take",
    "aten::take_along_dim", "aten::masked_select", "aten::masked_fill", "aten::where",
    "aten::pad", "aten::constant_pad_nd", "aten::tril", "aten::triu", "aten::diag",
    "aten::diag_embed", "aten::diagflat", "aten::block_diag", "aten::rot90", "aten::diff",
    "aten::repeat_interleave", "aten::index_put", "aten::index_add", "aten::index_copy",
    "aten::index_fill",
    "aten::clone", "aten::contiguous", "aten::to", "aten::_to_copy", "aten::type_as",
    "aten::lift_fresh", "aten::positive", "aten::neg", "aten::negative",
    "aten::sum", "aten::mean", "aten::cumsum", "aten::trace", "aten::var", "aten::std",
    "aten::var_mean", "aten::std_mean", "aten::linalg_vector_norm", "aten::linalg_diagonal",
    # (composites: their recorded ops differentiate, or refuse)
    "aten::linalg_vecdot", "aten::linalg_matrix_power", "aten::linalg_norm",
    "aten::trapezoid", "aten::cumulative_trapezoid", "aten::trapz",
    "aten::linalg_matrix_norm", "aten::linalg_tensorsolve", "aten::linalg_tensorinv",
    "aten::linalg_cond", "aten::logdet",
    "aten::lu_unpack", "aten::lu_solve",
    "aten::linalg_vander", "aten::vander",
    # (adjoints of real-linear maps: an overwrite, a scatter, a strided view)
    "aten::copy_", "aten::fill_", "aten::zero_", "aten::scatter", "aten::scatter_add",
    "aten::masked_scatter", "aten::put", "aten::as_strided",
    "aten::squeeze_copy", "aten::unsqueeze_copy", "aten::expand_copy", "aten::permute_copy",
    "aten::t_copy", "aten::transpose_copy", "aten::view_copy", "aten::select_copy",
    "aten::slice_copy", "aten::diagonal_copy", "aten::split_copy", "aten::unbind_copy",
    "aten::narrow_copy", "aten::alias_copy", "aten::unfold_copy", "aten::_unsafe_view",
    "aten::_fw_primal", "aten::diagonal_backward",
    # (c48: an overwrite of a view, the backward of select / slice / narrow)
    "aten::select_scatter", "aten::slice_scatter", "aten::select_backward",
    "aten::slice_backward",
})

CONJUGATED = frozenset({
    "aten::add", "aten::sub", "aten::rsub", "aten::subtract", "aten::mul", "aten::multiply",
    "aten::div", "aten::divide", "aten::true_divide", "aten::reciprocal", "aten::square",
    "aten::exp", "aten::exp2", "aten::expm1", "aten::log", "aten::log2", "aten::log10",
    "aten::log1p", "aten::sqrt", "aten::rsqrt", "aten::sin", "aten::cos", "aten::tan",
    "aten::sinh", "aten::cosh", "aten::prod", "aten::cumprod",
    "aten::matmul", "aten::mm", "aten::bmm", "aten::mv", "aten::dot", "aten::outer",
    "aten::ger", "aten::inner", "aten::kron", "aten::tensordot", "aten::einsum",
    "aten::linear", "aten::addmm", "aten::linalg_cross", "aten::linalg_multi_dot",
    # (torch's complex formulas are the real ones with A^H for A^T: inv's -A^-H g A^-H)
    "aten::linalg_inv", "aten::linalg_inv_ex", "aten::linalg_det", "aten::linalg_solve",
    "aten::linalg_solve_ex", "aten::linalg_matrix_exp", "aten::matrix_exp",
    "aten::linalg_solve_triangular",
})

OWN = frozenset({
    # (tanh / sigmoid: their formulas call tanh_backward / sigmoid_backward, whose complex
    # kernels conjugate, as ATen's)
    "aten::tanh", "aten::sigmoid", "aten::tanh_backward", "aten::sigmoid_backward",
    "aten::abs", "aten::angle", "aten::linalg_slogdet", "aten::linalg_eigh",
    "aten::linalg_eigvalsh", "aten::linalg_cholesky", "aten::linalg_cholesky_ex",
    "aten::linalg_svd", "aten::linalg_svdvals", "aten::svd", "aten::linalg_qr",
    "aten::linalg_pinv", "aten::pinverse",
    # (s46: their formulas with conjugate transposes)
    "aten::cholesky_solve", "aten::cholesky_inverse", "aten::linalg_lstsq",
    "aten::linalg_eig", "aten::linalg_eigvals",
    "aten::slogdet",
    "aten::linalg_lu", "aten::linalg_lu_factor", "aten::linalg_lu_factor_ex",
    "aten::_lu_with_info", "aten::linalg_lu_solve",
    "aten::linalg_householder_product", "aten::orgqr",
    "aten::sgn", "aten::pow", "aten::vdot",
    # (recorded as its composite |self - target| then the reduction: sub, abs, mean's)
    "aten::l1_loss",
    "aten::real", "aten::imag", "aten::view_as_real", "aten::view_as_complex",
    "aten::complex", "aten::polar", "aten::conj", "aten::conj_physical", "aten::_conj",
    "aten::resolve_conj", "aten::resolve_neg", "aten::mH", "aten::matrix_H", "aten::adjoint",
    "aten::fft_fft", "aten::fft_ifft", "aten::fft_fft2", "aten::fft_ifft2", "aten::fft_fftn",
    "aten::fft_ifftn", "aten::fft_rfft", "aten::fft_rfft2", "aten::fft_rfftn",
    "aten::fft_ihfft", "aten::fft_ihfft2", "aten::fft_ihfftn", "aten::fft_irfft",
    "aten::fft_irfft2", "aten::fft_irfftn", "aten::fft_hfft", "aten::fft_hfft2",
    "aten::fft_hfftn",
})

# ops whose results are bool or integer whatever their operands: no gradient to get wrong
INTEGRAL_RESULTS = frozenset({
    "aten::isnan", "aten::isinf", "aten::isfinite", "aten::nonzero", "aten::argwhere",
    "aten::linalg_matrix_rank",
})

# ops whose complex gradient PyTorch itself refuses (its autograd codegen's
# throw_error_for_complex_autograd, for ops outside GRADIENT_IMPLEMENTED_FOR_COMPLEX):
# refused in its words
TORCH_REFUSES = frozenset({"aten::geqrf"})

_ALL = AS_WRITTEN | CONJUGATED | OWN | INTEGRAL_RESULTS
_KNOWN: dict = {}


def refusal(op) -> str:
    """The error for recording op with a complex operand or result (an op not listed)."""
    name = op.schema.qualified_name.split(".", 1)[0]
    if name in TORCH_REFUSES:
        return (f"{name[len('aten::'):]} does not support automatic differentiation for "
                f"outputs with complex dtype.")
    from ..tensor import COMPLEX_GRAD_REFUSAL
    return f"{op.public_name}: {COMPLEX_GRAD_REFUSAL}"


def differentiates(op) -> bool:
    """Does op's derivative hold for complex operands and results? (an in-place variant
    as its op: they share the derivative)"""
    got = _KNOWN.get(op)
    if got is None:
        name = op.schema.qualified_name.split(".", 1)[0]
        got = _KNOWN[op] = (
            name in _ALL or (name.endswith("_") and name[:-1] in _ALL)
            # (no gradient to get wrong: detach, comparisons, facts, new tensors, and ops
            # whose backward raises PyTorch's not-implemented error: ldl_factor's)
            or isinstance(op.derivative, NonDifferentiable)
            or getattr(op.derivative, "not_implemented", None) is not None
            or bool(op.tags & {"factory", "random", "comparison"})
            or not any(r.type.base == "Tensor" for r in op.schema.returns))
    return got


# ------------------------------------------------------------------ CONJUGATED

def _is_complex(v):
    if type(v) is complex:
        return True
    if isinstance(v, Tensor):
        return v._dtype.cplx
    if isinstance(v, (list, tuple)):        # (a named tuple too: linalg_inv_ex's result)
        return any(_is_complex(x) for x in v)
    return False


def _conjugated(v):
    if type(v) is complex:
        return v.conjugate()
    if isinstance(v, Tensor):
        return v.conj() if v._dtype.cplx else v
    if isinstance(v, (list, tuple)):
        items = [_conjugated(x) for x in v]
        return type(v)(*items) if hasattr(type(v), "_fields") else type(v)(items)
    return v


def _conjugating(fn):
    def conjugating_formula(grad, **kw):
        for v in kw.values():
            if _is_complex(v):
                return fn(grad, **{k: _conjugated(x) for k, x in kw.items()})
        return fn(grad, **kw)
    conjugating_formula.__wrapped__ = fn
    return conjugating_formula


def _real_raw(raw):
    """Derivative.raw for real arrays only (a complex one: the conjugating formula)."""
    def real_raw(xp, grad, **kw):
        if grad.dtype.kind == "c" or any(
                type(v) is complex or getattr(v, "dtype", None) is not None and
                v.dtype.kind == "c" for v in kw.values()):
            return NotImplemented
        return raw(xp, grad, **kw)
    return real_raw


def _install_conjugating():
    done = set()
    for name in CONJUGATED:
        for d in ([OPS[name]] if name in OPS else []) + list(OVERLOADS.get(name, ())):
            deriv = d.derivative
            if deriv is None or not hasattr(deriv, "fn") or id(deriv) in done:
                continue
            done.add(id(deriv))
            deriv.fn = _conjugating(deriv.fn)
            if deriv.raw is not None:
                deriv.raw = _real_raw(deriv.raw)


_install_conjugating()


# ------------------------------------------------------------------ OWN: transposes

@_derivative("aten::mH", "aten::matrix_H", "aten::adjoint")
def _mh_grad(grad):
    """The conjugate transpose's adjoint is itself (a real grad: the transpose)."""
    g = grad if grad.dim() == 0 else grad.transpose(-2, -1)
    return g.conj() if g._dtype.cplx else g
