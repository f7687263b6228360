"""The op registry and the op declarations, one module per family.

`registry` holds the machinery (declaration, generated eager entry points, overloads, the
dispatch hook); `meta` the shape/dtype rules shared by many ops; each family module
declares its ops with `@op(...)`. `gpujit/__init__.py` imports the families and binds the
public functions, Tensor methods/operators and `nn.functional` from the registry.
"""
from .registry import op, OPS, OVERLOADS, get, dispatch_state

__all__ = ["op", "OPS", "OVERLOADS", "get", "dispatch_state", "FAMILIES"]

FAMILIES = ("scalar_ops", "scalar_complex", "pointwise", "pointwise_math", "pointwise_logic",
            "pointwise_ternary", "activation", "activation_backward", "activation_backward_relu", "compare", "conversion", "views", "indexing",
            "creation", "random", "random_ops", "reduction", "reduction_var",
            "reduction_scans", "linalg", "linalg_einsum", "linalg_norms", "linalg_decomp",
            "linalg_lu", "linalg_ex", "linalg_spectral", "linalg_eig", "linalg_matfn", "linalg_householder", "shape", "shape_order",
            "shape_index", "reduction_extra", "unique_search",
            "split_scatter", "factory_extra", "windows", "pointwise_extra", "special_more", "views_strided", "nn",
            "nn_norm", "nn_loss", "matrix_shape", "matrix_grids", "matrix_products",
            "view_copies", "stats_ops", "linalg_extra", "linalg_ldl", "inplace_extra", "tensor_facts", "linalg_legacy",
            "host_functions", "tensor_flags", "sparse_refusals", "tensor_set", "gradient_hist", "legacy_extra", "complex_parts",
            "dlpack", "device_checks",
            "hash_ops",
            "fake_quantize",
            "quantized_ops",
            "float8",
            "scaled_mm",
            "aliases",     # (it binds other names to the ops declared above)
            "complex_autograd")     # (after every derivative it makes conjugate-aware)


def __getattr__(name):
    """`torch.ops.aten` (gpujit.ops.aten): PyTorch's operator namespace over the registry
    (namespace.py). A submodule not imported yet is imported, as `from .ops import x`
    expects."""
    import importlib
    import importlib.util
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    from .namespace import namespace
    ns = globals()[name] = namespace(name)      # found without this hook from now on
    return ns
