"""PyTorch's alias names of ops (`torch.multiply`, `x.arctan()`, `torch.true_divide`...).

An alias binds the target op's overloads under another public name, for functions and
Tensor methods alike, and scripted code resolves it the same way: the graph shows the
target op (TorchScript's normalize_ops pass rewrites these aliases to the same ops).
"""
from __future__ import annotations

from . import registry as _reg

# alias -> target, as torch/csrc/jit/passes/normalize_ops.cpp lists them (those gpujit has)
ALIASES = {
    "absolute": "abs", "arccos": "acos", "arccosh": "acosh", "arcsin": "asin",
    "arcsinh": "asinh", "arctan": "atan", "arctan2": "atan2", "arctanh": "atanh",
    "fix": "trunc", "negative": "neg", "multiply": "mul", "subtract": "sub",
    "divide": "div", "true_divide": "div", "greater": "gt", "greater_equal": "ge",
    "less": "lt", "less_equal": "le", "not_equal": "ne", "ger": "outer",
    "swapaxes": "transpose", "swapdims": "transpose", "moveaxis": "movedim",
    "concat": "cat", "concatenate": "cat", "row_stack": "vstack", "clip": "clamp",
}


# aliases whose PyTorch overloads lack a keyword argument of the target's (merged) schema:
# torch.true_divide has no rounding_mode (true_divide.Tensor / .Scalar only), so passing
# it is Python's TypeError (registry.public_bindings)
ALIAS_DROPS = {"true_divide": "rounding_mode"}


def declare_aliases():
    """Bind every alias (and its in-place form, where the target has one) to the target's
    public overloads."""
    for target_kind, table in _reg._PUBLIC.items():
        for alias, target in ALIASES.items():
            for suffix in ("", "_"):
                ops = table.get(target + suffix)
                if ops and alias + suffix not in table:
                    table[alias + suffix] = list(ops)
                    if alias in ALIAS_DROPS:
                        _reg.KWARG_DROPS[alias + suffix] = ALIAS_DROPS[alias]


declare_aliases()
