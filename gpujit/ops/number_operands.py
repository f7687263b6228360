"""Which Tensor parameters of an op take a Python number (PyTorch's Python bindings).

PyTorch's Python argument parser turns a Python number given for a Tensor parameter into
a tensor only for the functions of its `should_allow_numbers_as_tensors` list (add, sub,
mul, div and their aliases, true_divide, floor_divide, copy_, to); elsewhere a number
reaches an op only through an overload that takes a Scalar at that place (eq.Scalar's
`other`, pow.Scalar's `self`, where.ScalarSelf's `self` ...). gpujit declares most ops'
Tensor overload alone, and its pointwise entry points take numbers for their operands, so
this table lists, per schema name, the Tensor parameters PyTorch's overloads take a
number for (derived from torch 2.13's schemas: an overload with at least one Tensor
argument and a Scalar / number parameter of that name). A number anywhere else is
PyTorch's TypeError ("logaddexp(): argument 'other' (position 2) must be Tensor, not
int"): registry.not_tensor_error, raised by the entry points (entry_codegen) and refused
by the script compiler's schema matching (frontend/script/calls.py).
"""
from __future__ import annotations

__all__ = ["number_operands", "numbers_as_tensors", "NUMBERS_AS_TENSORS", "SCALAR_PLACES",
           "scalar_twin_places", "numbers_only_call"]

# torch/csrc/utils/python_arg_parser.cpp: should_allow_numbers_as_tensors (every Tensor
# parameter; `_` forms included)
NUMBERS_AS_TENSORS = frozenset({
    "add", "div", "divide", "mul", "multiply", "sub", "subtract", "true_divide",
    "floor_divide", "to", "_to_copy", "copy", "copy_", "_conj"})

# schema name -> the Tensor parameters a PyTorch overload takes a number for
SCALAR_PLACES = {
    "__and__": ("other",), "__iand__": ("other",), "__or__": ("other",),
    "__ior__": ("other",), "__xor__": ("other",), "__ixor__": ("other",),
    "__lshift__": ("other",), "__ilshift__": ("other",), "__rshift__": ("other",),
    "__irshift__": ("other",),
    "bernoulli_": ("p",),
    "bitwise_and": ("other", "self"),
    "bitwise_left_shift": ("other", "self"),
    "bitwise_or": ("other", "self"),
    "bitwise_right_shift": ("other", "self"),
    "bitwise_xor": ("other", "self"),
    "bucketize": ("self",),
    "clamp": ("min", "max"),
    "clamp_max": ("max",),
    "clamp_min": ("min",),
    "copysign": ("other",),
    "eq": ("other",),
    "fill": ("value",),
    "fill_": ("value",),
    "float_power": ("exponent", "self"),
    "fmod": ("other",),
    "ge": ("other",),
    "gt": ("other",),
    "histogram": ("bins",),
    "index_fill": ("value",),
    "index_fill_": ("value",),
    "isin": ("elements", "test_elements"),
    "le": ("other",),
    "lerp": ("weight",),
    "lt": ("other",),
    "masked_fill": ("value",),
    "nanquantile": ("q",),
    "ne": ("other",),
    "normal": ("mean", "std"),
    "pow": ("exponent", "self"),
    "quantile": ("q",),
    "remainder": ("other", "self"),
    "repeat_interleave": ("repeats",),
    "rsub": ("other",),
    "scatter": ("src",),
    "scatter_": ("src",),
    "searchsorted": ("self",),
    "special_chebyshev_polynomial_t": ("n", "x"),
    "special_chebyshev_polynomial_u": ("n", "x"),
    "special_chebyshev_polynomial_v": ("n", "x"),
    "special_chebyshev_polynomial_w": ("n", "x"),
    "special_hermite_polynomial_h": ("n", "x"),
    "special_hermite_polynomial_he": ("n", "x"),
    "special_laguerre_polynomial_l": ("n", "x"),
    "special_legendre_polynomial_p": ("n", "x"),
    "special_shifted_chebyshev_polynomial_t": ("n", "x"),
    "special_shifted_chebyshev_polynomial_u": ("n", "x"),
    "special_shifted_chebyshev_polynomial_v": ("n", "x"),
    "special_shifted_chebyshev_polynomial_w": ("n", "x"),
    "special_xlog1py": ("other", "self"),
    "special_zeta": ("other", "self"),
    "where": ("other", "self"),
    "xlogy": ("other", "self"),
}


def _names(schema):
    """(schema's function name, its functional op's: an in-place form's without the `_`)"""
    name = schema.name.split("::", 1)[-1]
    return name, name[:-1] if name.endswith("_") and not name.startswith("_") else name


def numbers_as_tensors(schema) -> bool:
    """Does PyTorch's Python binding of schema's function wrap a number given for any of
    its Tensor parameters in a tensor (NUMBERS_AS_TENSORS; an in-place or out= form as its
    functional op: torch.add(7, 2), x.add_(2))?"""
    name, base = _names(schema)
    return name in NUMBERS_AS_TENSORS or base in NUMBERS_AS_TENSORS


def number_operands(schema):
    """The names of schema's Tensor parameters that take a Python number."""
    name, base = _names(schema)
    tensors = [a.name for a in schema.arguments
               if a.type.base == "Tensor" and not a.type.is_list]
    # (an in-place or out= form takes what its functional op takes)
    if numbers_as_tensors(schema):
        places = tensors
    else:
        places = SCALAR_PLACES.get(name, ()) or SCALAR_PLACES.get(base, ())
    return frozenset(n for n in places if n in tensors)


_TWIN_CACHE: dict = {}


def scalar_twin_places(op) -> frozenset:
    """The number operands of op that another overload of its name declares as a Scalar
    (clamp.Tensor's min and max: clamp's, clamp_min.Tensor's min: clamp_min's) or a float
    or an int (normal.Tensor_Tensor's mean: normal.float_Tensor's, quantile's q, histogram's
    bins). A number there goes to that overload, which takes every such argument as a
    number (a 0-dim tensor that does not require grad included): PyTorch's parser never
    mixes them, so y.clamp(t, 1) with a t of more dims is its TypeError, and y.clamp(t0, 1)
    with a 0-dim t0 is clamp's Scalar overload (a unary op: its strides), not clamp.Tensor;
    the script compiler likewise converts t0 (aten::ScalarImplicit) as TorchScript does."""
    key = op.name
    got = _TWIN_CACHE.get(key)
    if got is None:
        from .registry import OVERLOADS
        scalars = set() if numbers_as_tensors(op.schema) else {
            a.name for o in OVERLOADS.get(op.schema.name, ()) if o is not op
            for a in o.schema.arguments
            if a.type.base in ("Scalar", "float", "int", "SymInt") and not a.type.is_list}
        got = _TWIN_CACHE[key] = frozenset(op.number_operands & scalars)
    return got


def numbers_only_call(op, values):
    """op's result for a call without any Tensor (values: its arguments in schema order)
    where op is of NUMBERS_AS_TENSORS: PyTorch's parser makes the number given for the
    first Tensor parameter a 0-dim tensor (torch.add(7, 2) is tensor(9), torch.div(7, 2)
    tensor(3.5000) in the default dtype); else (a str there) PyTorch's TypeError."""
    from . import registry as _r
    params = op.schema.arguments
    first = next((i for i, a in enumerate(params) if a.type.is_tensor), None)
    v = values[first] if first is not None else None
    if type(v) not in (int, float, bool, complex):
        raise _r.not_tensor_error(op, values) or _r.no_tensor_error(op, values)
    if type(v) is int and not -(1 << 63) <= v < 1 << 63:
        # (the parser reads it as a Scalar: past uint64 its OverflowError, torch.add(2**70, 1))
        raise _r.scalar_overflow(v) if v < 0 or v >> 64 else RuntimeError(
            "Promotion for uint16, uint32, uint64 types is not supported, attempted to "
            "promote UInt64 and Long")
    from .creation import tensor
    vals = list(values)
    vals[first] = tensor(v)
    # (op's entry point without the hook: a tracer recording the call records its numbers
    # as PyTorch's does, and no tensor requiring grad is among them)
    return op.eager(*vals)
