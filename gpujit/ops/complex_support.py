"""The registry ops that take complex tensors (complex64 / complex128).

The complex dtypes are outside dtypes.ALL, so every op refuses them (its entry point
raises '"<op>" not implemented for 'ComplexFloat'', registry.complex_refused) unless it is
named here: an op opts in once its eager body computes complex values right (NumPy's and
CuPy's complex arithmetic) and its dtype rule gives PyTorch's result dtype for them. A
name without an overload ('aten::zeros') takes in every overload. The in-place variant of a
pointwise op listed here takes them too (registry._declare_inplace_variant), unless its
result is real (abs_)."""
from __future__ import annotations

from .dtype_optin import EVERY_LIMITED_DTYPE, listed

__all__ = ["COMPLEX_OPS", "opted_in"]

COMPLEX_OPS = EVERY_LIMITED_DTYPE | frozenset({
    # creation, conversion and facts
    "aten::linspace",
    "aten::rand", "aten::randn", "aten::rand_like", "aten::randn_like",
    "aten::uniform_", "aten::normal_",      # (on the real pairs, as ATen: init of complex modules)
    "aten::exponential_",                   # (refused by its own check, in torch's words)
    "aten::l1_loss",                        # (|self - target| real, as torch's composite)
    # views and shape ops: they move elements, whatever their type
    "aten::hsplit", "aten::vsplit", "aten::dsplit",
    "aten::moveaxis",
    "aten::atleast_1d", "aten::atleast_2d", "aten::atleast_3d",
    "aten::concatenate",
    "aten::hstack", "aten::vstack", "aten::dstack", "aten::column_stack", "aten::flip",
    "aten::fliplr", "aten::flipud",
    "aten::index_put", "aten::index_put_",
    "aten::gather", "aten::take", "aten::take_along_dim", "aten::masked_select",
    "aten::mH", "aten::matrix_H", "aten::adjoint", "aten::masked_fill", "aten::masked_fill_",
    "aten::nonzero", "aten::argwhere", "aten::pad",
    "aten::index_add", "aten::index_add_", "aten::eye", "aten::tril", "aten::triu",
    "aten::diagflat", "aten::block_diag", "aten::kron",
    "aten::trace",
    "aten::squeeze_copy", "aten::unsqueeze_copy",
    "aten::expand_copy", "aten::permute_copy", "aten::t_copy", "aten::transpose_copy",
    "aten::view_copy", "aten::select_copy", "aten::slice_copy", "aten::diagonal_copy",
    "aten::split_copy", "aten::unbind_copy", "aten::narrow_copy", "aten::alias_copy",
    "aten::unfold_copy", "aten::scatter", "aten::scatter_", "aten::index_fill",
    "aten::index_fill_", "aten::index_copy", "aten::index_copy_", "aten::masked_scatter",
    "aten::masked_scatter_", "aten::put", "aten::put_",
    "aten::rot90", "aten::diff",
    # the complex parts (ops/complex_parts.py)
    "aten::real", "aten::imag", "aten::view_as_real", "aten::view_as_complex",
    "aten::complex", "aten::polar", "aten::conj", "aten::conj_physical",
    "aten::resolve_conj", "aten::resolve_neg", "aten::angle", "aten::abs", "aten::sgn",
    # arithmetic and math
    "aten::add", "aten::sub", "aten::div", "aten::neg", "aten::pow",
    "aten::reciprocal", "aten::exp", "aten::log", "aten::sqrt", "aten::rsqrt", "aten::sin",
    "aten::cos", "aten::tan", "aten::tanh", "aten::sinh", "aten::cosh", "aten::sigmoid",
    "aten::square", "aten::rsub", "aten::true_divide", "aten::subtract",
    "aten::divide", "aten::negative", "aten::log10", "aten::log2",
    "aten::expm1", "aten::log1p", "aten::exp2",
    "aten::isreal",
    "aten::cumprod",
    "aten::matmul", "aten::mm", "aten::bmm", "aten::mv", "aten::dot", "aten::vdot",
    "aten::einsum", "aten::ger", "aten::inner", "aten::tensordot",
    # torch.fft (ops/fft_ops.py)
    "aten::fft_fft", "aten::fft_ifft", "aten::fft_fft2", "aten::fft_ifft2", "aten::fft_fftn",
    "aten::fft_ifftn", "aten::fft_rfft", "aten::fft_rfft2", "aten::fft_rfftn",
    "aten::fft_irfft", "aten::fft_irfft2", "aten::fft_irfftn", "aten::fft_hfft",
    "aten::fft_hfft2", "aten::fft_hfftn", "aten::fft_ihfft", "aten::fft_ihfft2",
    "aten::fft_ihfftn",
    # the backward kernels and helpers complex gradients run through (ops/complex_autograd.py)
    "aten::tanh_backward", "aten::sigmoid_backward", "aten::scatter_add", "aten::_unsafe_view",
    "aten::diagonal_backward",
    # nn.Linear of a complex module (Module.to(cfloat))
    "aten::linear", "aten::addmm",
    # torch.linalg (LAPACK's complex routines through NumPy / CuPy)
    "aten::linalg_solve", "aten::linalg_solve_ex", "aten::linalg_inv", "aten::linalg_inv_ex",
    "aten::linalg_det", "aten::det", "aten::linalg_slogdet", "aten::slogdet", "aten::logdet",
    "aten::linalg_eigh", "aten::linalg_eigvalsh", "aten::linalg_svd", "aten::svd",
    "aten::linalg_svdvals", "aten::linalg_qr", "aten::linalg_cholesky", "aten::linalg_cholesky_ex",
    "aten::linalg_pinv", "aten::pinverse", "aten::linalg_matrix_norm", "aten::linalg_norm",
    "aten::linalg_matrix_exp", "aten::matrix_exp", "aten::linalg_matrix_power", "aten::matrix_power",
    "aten::linalg_cross", "aten::linalg_vecdot", "aten::linalg_cond",
    "aten::linalg_multi_dot", "aten::linalg_tensorsolve", "aten::linalg_tensorinv",
    "aten::linalg_diagonal", "aten::linalg_eig", "aten::linalg_eigvals",
    "aten::linalg_matrix_rank", "aten::linalg_solve_triangular", "aten::cholesky_solve",
    "aten::cholesky_inverse", "aten::linalg_lstsq",
    "aten::trapezoid", "aten::cumulative_trapezoid", "aten::trapz", "aten::logspace",
    # (s46: LU through getrf's substitution, cabs1 pivots as LAPACK's)
    "aten::linalg_lu_factor", "aten::linalg_lu_factor_ex", "aten::linalg_lu", "aten::lu_unpack",
    "aten::linalg_lu_solve", "aten::_lu_with_info", "aten::lu_solve",
    "aten::linalg_vander", "aten::vander",
    "aten::geqrf", "aten::linalg_householder_product", "aten::orgqr",
    # (forward AD: unpack_dual's primal view)
    "aten::_fw_primal", "aten::_conj",
    "aten::linalg_ldl_factor", "aten::linalg_ldl_factor_ex", "aten::linalg_ldl_solve",
    # scripted code's complex numbers (ops/scalar_complex.py): complex(t.item())
    "aten::Complex",
    # (c48) select / slice / narrow's backward writes the gradient into zeros through these
    # (ops/views._into_zeros): they move elements, whatever their type
    "aten::select_scatter", "aten::slice_scatter", "aten::select_backward",
    "aten::slice_backward",
})


def opted_in(qualified_name: str) -> bool:
    return listed(qualified_name, COMPLEX_OPS)
