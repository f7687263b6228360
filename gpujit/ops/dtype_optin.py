"""The ops every limited dtype takes (complex64/128: ops/complex_support.py, uint16/32/64:
ops/unsigned_support.py, bfloat16: ops/bfloat16_support.py): the Tensor facts, creation and
conversion, the views and shape ops that move elements whatever they are, and the few
arithmetic / reduction ops PyTorch computes for all of them. Each module's list is this set
and its own names; `listed` is how an op's qualified name is looked up in one."""
from __future__ import annotations

__all__ = ["EVERY_LIMITED_DTYPE", "listed"]

EVERY_LIMITED_DTYPE = frozenset({
    "aten::_shape_as_tensor", "aten::_to_copy", "aten::alias", "aten::allclose",
    "aten::as_strided", "aten::as_tensor", "aten::broadcast_tensors", "aten::broadcast_to",
    "aten::cat", "aten::chunk", "aten::clone", "aten::concat", "aten::constant_pad_nd",
    "aten::contiguous", "aten::copy_", "aten::cumsum", "aten::detach", "aten::diag",
    "aten::diag_embed", "aten::diagonal", "aten::dim", "aten::element_size", "aten::empty",
    "aten::empty_like", "aten::eq", "aten::equal", "aten::expand", "aten::expand_as",
    "aten::fill_", "aten::flatten", "aten::full", "aten::full_like", "aten::get_device",
    "aten::index", "aten::index_select", "aten::is_complex", "aten::is_conj",
    "aten::is_contiguous", "aten::is_cpu", "aten::is_cuda", "aten::is_floating_point",
    "aten::is_inference", "aten::is_ipu", "aten::is_maia", "aten::is_meta", "aten::is_mkldnn",
    "aten::is_mps", "aten::is_mtia", "aten::is_neg", "aten::is_nested", "aten::is_nonzero",
    "aten::is_pinned", "aten::is_quantized", "aten::is_same_size", "aten::is_set_to",
    "aten::is_signed", "aten::is_sparse", "aten::is_sparse_csr", "aten::is_vulkan",
    "aten::is_xla", "aten::is_xpu", "aten::isclose", "aten::isfinite", "aten::isinf",
    "aten::isnan", "aten::item", "aten::len", "aten::lift_fresh", "aten::linalg_vector_norm",
    "aten::mT", "aten::mean", "aten::movedim", "aten::mul", "aten::multiply", "aten::narrow",
    "aten::ne", "aten::new_empty", "aten::new_empty_strided", "aten::new_full",
    "aten::new_ones", "aten::new_tensor", "aten::new_zeros", "aten::numel", "aten::numpy_T",
    "aten::ones", "aten::ones_like", "aten::outer", "aten::permute", "aten::positive",
    "aten::prod", "aten::ravel", "aten::repeat", "aten::repeat_interleave", "aten::reshape",
    "aten::reshape_as", "aten::roll", "aten::scalar_tensor", "aten::select", "aten::size",
    "aten::slice", "aten::split", "aten::split_with_sizes", "aten::squeeze", "aten::squeeze_",
    "aten::stack", "aten::std", "aten::std_mean", "aten::storage_offset", "aten::stride",
    "aten::sum", "aten::swapaxes", "aten::swapdims", "aten::t", "aten::t_", "aten::tensor",
    "aten::tensor_split", "aten::tile", "aten::to", "aten::transpose", "aten::transpose_",
    "aten::type_as", "aten::unbind", "aten::unflatten", "aten::unfold", "aten::unsqueeze",
    "aten::unsqueeze_", "aten::var", "aten::var_mean", "aten::view", "aten::view_as",
    "aten::where", "aten::zero_", "aten::zeros", "aten::zeros_like",
})


def listed(qualified_name: str, names) -> bool:
    """Is the op (`aten::add.Tensor`) in names, by its qualified name or its base name?"""
    return qualified_name in names or qualified_name.split(".", 1)[0] in names
