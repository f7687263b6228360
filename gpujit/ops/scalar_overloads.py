"""PyTorch's Scalar overloads of the ops whose Tensor operands gpujit's one overload also
takes a number for (add.Tensor's `other`: PyTorch's add.Scalar, pow.Tensor_Tensor's
`exponent`: pow.Tensor_Scalar, its `self`: pow.Scalar, where.self's: where.ScalarOther ...).

A graph node calls the registry's op; which overload TorchScript would have matched shows
in node.schema() and in torch.jit.export_opnames ('aten::add.Scalar' for x + 1), so
torch_schema picks it from the node's operand types. The table holds torch 2.13's
schemas of those overloads (an op's name, then its overloads in torch's order, without
the out= and Dimname forms), derived from torch.ops.aten.<name>.<overload>._schema.
"""
from __future__ import annotations

__all__ = ["TORCH_SCALAR_OVERLOADS", "torch_schema", "torch_scalar_schemas"]

TORCH_SCALAR_OVERLOADS = {
    'add': ('.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor',),
    'sub': ('.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor',),
    'mul': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    'remainder': (
        '.Scalar(Tensor self, Scalar other) -> Tensor',
        '.Scalar_Tensor(Scalar self, Tensor other) -> Tensor',
    ),
    'div': (
        '.Scalar(Tensor self, Scalar other) -> Tensor',
        '.Scalar_mode(Tensor self, Scalar other, *, str? rounding_mode) -> Tensor',
    ),
    'lt': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    'gt': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    'le': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    'ge': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    'eq': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    'ne': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    '__and__': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    '__or__': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    '__xor__': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    '__lshift__': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    '__rshift__': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    'pow': (
        '.Tensor_Scalar(Tensor self, Scalar exponent) -> Tensor',
        '.Scalar(Scalar self, Tensor exponent) -> Tensor',
    ),
    'fmod': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    'copysign': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    'add_': ('.Scalar(Tensor(a!) self, Scalar other, Scalar alpha=1) -> Tensor(a!)',),
    'sub_': ('.Scalar(Tensor(a!) self, Scalar other, Scalar alpha=1) -> Tensor(a!)',),
    'rsub': ('.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor',),
    'mul_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'div_': (
        '.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',
        '.Scalar_mode(Tensor(a!) self, Scalar other, *, str? rounding_mode) -> Tensor(a!)',
    ),
    'floor_divide': ('.Scalar(Tensor self, Scalar other) -> Tensor',),
    'floor_divide_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'remainder_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'fmod_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'pow_': ('.Scalar(Tensor(a!) self, Scalar exponent) -> Tensor(a!)',),
    'xlogy': (
        '.Scalar_Other(Tensor self, Scalar other) -> Tensor',
        '.Scalar_Self(Scalar self, Tensor other) -> Tensor',
    ),
    'xlogy_': ('.Scalar_Other(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'special_xlog1py': (
        '.other_scalar(Tensor self, Scalar other) -> Tensor',
        '.self_scalar(Scalar self, Tensor other) -> Tensor',
    ),
    'copysign_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'float_power': (
        '.Tensor_Scalar(Tensor self, Scalar exponent) -> Tensor',
        '.Scalar(Scalar self, Tensor exponent) -> Tensor',
    ),
    'float_power_': ('.Scalar(Tensor(a!) self, Scalar exponent) -> Tensor(a!)',),
    'eq_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'ne_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'lt_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'le_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'gt_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'ge_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'bitwise_and': (
        '.Scalar(Tensor self, Scalar other) -> Tensor',
        '.Scalar_Tensor(Scalar self, Tensor other) -> Tensor',
    ),
    'bitwise_and_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'bitwise_or': (
        '.Scalar(Tensor self, Scalar other) -> Tensor',
        '.Scalar_Tensor(Scalar self, Tensor other) -> Tensor',
    ),
    'bitwise_or_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'bitwise_xor': (
        '.Scalar(Tensor self, Scalar other) -> Tensor',
        '.Scalar_Tensor(Scalar self, Tensor other) -> Tensor',
    ),
    'bitwise_xor_': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'bitwise_left_shift': (
        '.Tensor_Scalar(Tensor self, Scalar other) -> Tensor',
        '.Scalar_Tensor(Scalar self, Tensor other) -> Tensor',
    ),
    'bitwise_left_shift_': ('.Tensor_Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'bitwise_right_shift': (
        '.Tensor_Scalar(Tensor self, Scalar other) -> Tensor',
        '.Scalar_Tensor(Scalar self, Tensor other) -> Tensor',
    ),
    'bitwise_right_shift_': (
        '.Tensor_Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',
    ),
    '__iand__': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    '__ior__': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    '__ixor__': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    '__ilshift__': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    '__irshift__': ('.Scalar(Tensor(a!) self, Scalar other) -> Tensor(a!)',),
    'where': (
        '.ScalarOther(Tensor condition, Tensor self, Scalar other) -> Tensor',
        '.ScalarSelf(Tensor condition, Scalar self, Tensor other) -> Tensor',
        '.Scalar(Tensor condition, Scalar self, Scalar other) -> Tensor',
    ),
    'special_chebyshev_polynomial_t': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_shifted_chebyshev_polynomial_t': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_chebyshev_polynomial_u': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_shifted_chebyshev_polynomial_u': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_chebyshev_polynomial_v': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_shifted_chebyshev_polynomial_v': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_chebyshev_polynomial_w': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_shifted_chebyshev_polynomial_w': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_hermite_polynomial_h': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_hermite_polynomial_he': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_laguerre_polynomial_l': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_legendre_polynomial_p': (
        '.x_scalar(Scalar x, Tensor n) -> Tensor',
        '.n_scalar(Tensor x, Scalar n) -> Tensor',
    ),
    'special_zeta': (
        '.other_scalar(Tensor self, Scalar other) -> Tensor',
        '.self_scalar(Scalar self, Tensor other) -> Tensor',
    ),
}

_PARSED: dict = {}


def _overloads(name):
    got = _PARSED.get(name)
    if got is None:
        from .schema import parse_schema
        got = _PARSED[name] = tuple(parse_schema(f"aten::{name}{t}")
                                    for t in TORCH_SCALAR_OVERLOADS.get(name, ()))
    return got


# number ops whose int-and-float calls TorchScript matches to an overload of their own
# (1 + 2.0: aten::add.int_float), where gpujit's `.float` overload takes the int too
MIXED_NUMBER_OPS = frozenset({
    "aten::add", "aten::sub", "aten::mul", "aten::floordiv", "aten::remainder", "aten::pow",
    "aten::log", "aten::atan2", "aten::fmod", "aten::copysign", "aten::mathremainder",
    "aten::polar"})


# registry overloads that an overload TorchScript lists before them also takes: it
# matches that one (float(n) of an int: aten::Float.Scalar, listed before Float.int)
_EARLIER = {"aten::Float.int": "aten::Float.Scalar(Scalar a) -> float"}


def _mixed(s, kinds):
    """s (a `.float(float a, float b)` overload) as its int_float / float_int twin when
    kinds (the inputs' type names) mix an int and a float."""
    from dataclasses import replace
    from .schema import ArgType
    if len(s.arguments) != 2 or len(kinds) != 2 or set(kinds) != {"int", "float"}:
        return s
    args = tuple(replace(a, type=ArgType(k)) for a, k in zip(s.arguments, kinds))
    s2 = replace(s, overload="_".join(kinds), arguments=args)
    return replace(s2, text=str(s2))


def torch_scalar_schemas(name):
    """torch's Scalar overloads of aten::<name> (parsed schemas) that the table holds."""
    return _overloads(name)


def torch_schema(op, kinds):
    """The schema TorchScript matches for a call of op (a registry OpDef) whose inputs'
    types are named kinds ('Tensor', 'int', 'float', 'bool', 'complex', 'Scalar', or ''
    for another): PyTorch's Scalar overload taking a number at each place of op's number
    operands given one and a Tensor at its other Tensor parameters; a number op's
    int_float / float_int overload; else op's own schema."""
    s = op.schema
    earlier = _EARLIER.get(op.name)
    if earlier is not None:
        from .schema import parse_schema
        return parse_schema(earlier)
    if s.overload == "float" and s.name in MIXED_NUMBER_OPS:
        return _mixed(s, kinds)
    places = op.number_operands
    if not places:
        return s
    name = s.name.split("::", 1)[-1]
    params = s.arguments
    numbers = {p.name for i, p in enumerate(params) if p.name in places and i < len(kinds)
               and kinds[i] in _NUMBER_KINDS}
    if not numbers or name not in TORCH_SCALAR_OVERLOADS:
        return s
    names = [p.name for p in params]
    for cand in _overloads(name):
        if [a.name for a in cand.arguments] != names:
            continue
        scalars = {a.name for a in cand.arguments if a.type.base == "Scalar"
                   and not a.type.is_list}
        if scalars & set(places) == numbers:
            return cand
    return s


_NUMBER_KINDS = frozenset({"int", "float", "bool", "complex", "Scalar"})
