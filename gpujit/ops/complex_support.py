"""The registry ops that take complex tensors (complex64 / complex128).

The complex dtypes are outside dtypes.ALL, so every op refuses them (its entry point
raises '"<op>" not implemented for 'ComplexFloat'', registry.complex_refused) unless it is
named here: an op opts in once its eager body computes complex values right (NumPy's and
CuPy's complex arithmetic) and its dtype rule gives PyTorch's result dtype for them. A
name without an overload ('aten::zeros') takes in every overload."""
from __future__ import annotations

__all__ = ["COMPLEX_OPS", "opted_in"]

COMPLEX_OPS = frozenset({
    # creation, conversion and facts
    "aten::tensor", "aten::scalar_tensor", "aten::zeros", "aten::ones", "aten::full",
    "aten::empty", "aten::zeros_like", "aten::ones_like", "aten::full_like",
    "aten::empty_like", "aten::rand", "aten::randn", "aten::rand_like", "aten::randn_like",
    "aten::to", "aten::_to_copy", "aten::clone", "aten::contiguous", "aten::copy_",
    "aten::fill_", "aten::zero_", "aten::is_complex", "aten::element_size",
    "aten::is_floating_point", "aten::item", "aten::detach", "aten::type_as",
})


def opted_in(qualified_name: str) -> bool:
    return (qualified_name in COMPLEX_OPS
            or qualified_name.split(".", 1)[0] in COMPLEX_OPS)
