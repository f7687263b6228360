"""The op registry and the op declarations, one module per family.

`registry` holds the machinery (declaration, generated eager entry points, overloads, the
dispatch hook); `meta` the shape/dtype rules shared by many ops; each family module
declares its ops with `@op(...)`. `gpujit/__init__.py` imports the families and binds the
public functions, Tensor methods/operators and `nn.functional` from the registry.
"""
from .registry import op, OPS, OVERLOADS, get, dispatch_state  # noqa: F401

FAMILIES = ("pointwise", "conversion", "views", "indexing", "creation", "random",
            "reduction", "linalg", "shape", "nn")
