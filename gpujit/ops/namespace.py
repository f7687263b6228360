"""`torch.ops.aten.<name>[.<overload>]`: PyTorch's operator namespace over the registry.

`gpujit.ops` is the registry's package; its module `__getattr__` also serves `aten`
(and any other name, as torch.ops does) as an `_OpNamespace` whose attributes are
`OpOverloadPacket`s, one per schema name (`aten::add`), each with one `OpOverload` per
overload (`.Tensor`, `.default` for the unnamed one). Calling a packet picks the overload
by the arguments, as the registry's dispatch does (the overloads that take tensors first,
then the Python-number ones); calling an overload checks the arguments against its schema.
Both call the op's public entry point, so autograd, tracing (the op is recorded) and the
scripting frontend (which compiles `torch.ops.aten.relu(x)` to the op) treat them as the
op itself.

The registry folds PyTorch's `.Scalar` overloads of pointwise binary ops (add.Scalar,
mul.Scalar, lt.Scalar ...) into `.Tensor`, whose `other` takes a number too: a packet
still offers `.Scalar` there, with PyTorch's schema, calling the `.Tensor` op.
"""
from __future__ import annotations

import functools
import types
from dataclasses import replace

import numpy as np

from . import registry as _reg
from .out_variants import eligible, out_variant
from .overloads import _value_matches
from .schema import ArgType

__all__ = ["OpOverload", "OpOverloadPacket", "namespace", "scalar_form"]

_NUMBER = (int, float, bool, np.number, np.bool_)


def _is_number(v):
    return isinstance(v, _NUMBER)


def _type_name(v):
    if isinstance(v, _reg._Tensor):
        return "Tensor"
    if isinstance(v, (list, tuple)):
        return f"List[{_type_name(v[0]) if v else 'Any'}]"
    return type(v).__name__


def _mismatch(opdef, schema, args, kwargs, lenient):
    """None when the call fits `schema` (of opdef), else the reason, worded as PyTorch's
    schema matching words it. lenient: a number fits a pointwise op's Tensor operand (the
    registry's `.Tensor` overloads take numbers where PyTorch has a `.Scalar` one)."""
    qn = f"{schema.name}()"
    params = schema.arguments
    positional = [p for p in params if not p.kwarg_only]
    if len(args) > len(positional):
        return (f"{qn} expected at most {len(positional)} argument(s) but received "
                f"{len(args)} argument(s). Declaration: {schema}")
    names = {p.name for p in params}
    for k in kwargs:
        if k not in names:
            return f"Unknown keyword argument '{k}' for operator '{schema.name}'. " \
                   f"Schema: {schema}"
    for i, p in enumerate(params):
        if i < len(args) and not p.kwarg_only:
            v, where = args[i], f"Position: {i}\n"
            if p.name in kwargs:
                return f"{qn} got multiple values for argument '{p.name}'. " \
                       f"Declaration: {schema}"
        elif p.name in kwargs:
            v, where = kwargs[p.name], ""
        elif p.has_default:
            continue
        else:
            return f"{qn} is missing value for argument '{p.name}'. Declaration: {schema}"
        if _value_matches(p.type, v):
            continue
        base = opdef.out_of or opdef      # (an out= variant takes what its op takes)
        if lenient and p.type.is_tensor and _is_number(v) and base.is_pointwise and \
                p.name in base.operands:
            continue
        want = "number" if p.type.base == "Scalar" else str(replace(
            p.type, alias=None, is_write=False))
        return (f"{qn} Expected a value of type '{want}' for argument '{p.name}' but "
                f"instead found type '{_type_name(v)}'.\n{where}Value: {v!r}\n"
                f"Declaration: {schema}")
    if lenient and not any(isinstance(v, _reg._Tensor)
                           for v in list(args) + list(kwargs.values())):
        return f"{qn} takes at least one Tensor. Declaration: {schema}"
    return None


class OpOverload:
    """One overload of an op (`torch.ops.aten.add.Tensor`): `name()`, `_schema`, call."""

    def __init__(self, packet, opdef, overload_name, schema=None):
        self._op = opdef
        self._schema = schema if schema is not None else opdef.schema
        self._overloadname = overload_name
        self.overloadpacket = packet
        self.namespace, self._opname = packet._qualified_op_name.split("::")
        self._name = self._schema.name + (
            "" if overload_name == "default" else "." + overload_name)
        self.__name__ = f"{self._opname}.{overload_name}"
        self.__qualname__ = self._name
        self.__module__ = f"gpujit.ops.{self.namespace}"
        self.__doc__ = f"{self._schema}\n\n{opdef.doc or ''}".rstrip()

    @property
    def op(self):
        """The registry's OpDef this overload calls."""
        return self._op

    def name(self):
        return self._name

    @property
    def tags(self):
        return sorted(self._op.tags)

    @property
    def is_view(self):
        return any(r.type.alias and not r.type.is_write for r in self._schema.returns)

    def __call__(self, *args, **kwargs):
        args, kwargs = _codes_as_dtypes(self._schema, args, kwargs)
        from .scalar_ops import PYTHON_VALUED
        # (a number op, promote_types(ScalarType, ScalarType), takes no Tensor)
        why = _mismatch(self._op, self._schema, args, kwargs,
                        lenient=self._op.name not in PYTHON_VALUED)
        if why is not None:
            raise RuntimeError(why)
        if self._schema is not self._op.schema:
            # add.Scalar(x, 2, 3): alpha is positional in PyTorch's schema, keyword-only
            # in the registry's add.Tensor that runs it
            params = self._schema.arguments
            kwargs = dict(kwargs, **{p.name: v for p, v in zip(params[2:], args[2:])})
            args = args[:2]
        return _scalar_type_as_int(self._op, self._op.public(*args, **kwargs))

    def __repr__(self):
        return f"<OpOverload(op='{self.namespace}.{self._opname}', " \
               f"overload='{self._overloadname}')>"

    def __str__(self):
        return f"{self.namespace}.{self._opname}.{self._overloadname}"

    def __hash__(self):
        return hash(self._name)

    def __eq__(self, other):
        return isinstance(other, OpOverload) and other._name == self._name


def scalar_form(opdef):
    """PyTorch's `.Scalar` schema for a registry `.Tensor` pointwise op whose second
    Tensor operand also takes a number (add.Tensor -> add.Scalar), or None."""
    s = opdef.schema
    if s.overload != "Tensor" or not opdef.is_pointwise or len(s.arguments) < 2:
        return None
    other = s.arguments[1]
    if not other.type.is_tensor or other.name not in opdef.operands:
        return None
    args = [s.arguments[0], replace(other, type=ArgType("Scalar"))]
    args += [replace(a, kwarg_only=False) for a in s.arguments[2:]]
    s2 = replace(s, overload="Scalar", arguments=tuple(args))
    return replace(s2, text=str(s2))


def _codes_as_dtypes(schema, args, kwargs):
    """PyTorch's ops take a ScalarType as its int code too (torch.ops.aten.zeros([2],
    dtype=6) is float32): those ints, for a ScalarType parameter, as their dtypes."""
    from ..dtypes import SCALAR_TYPE_CODES
    params = schema.arguments
    todo = [i for i, (p, v) in enumerate(zip(params, args))
            if type(v) is int and p.type.base == "ScalarType" and not p.type.is_list and
            v in SCALAR_TYPE_CODES]
    keys = [k for k, v in kwargs.items() if type(v) is int and v in SCALAR_TYPE_CODES and any(
        p.name == k and p.type.base == "ScalarType" and not p.type.is_list for p in params)]
    if not todo and not keys:
        return args, kwargs
    args = tuple(SCALAR_TYPE_CODES[v] if i in todo else v for i, v in enumerate(args))
    kwargs = {k: SCALAR_TYPE_CODES[v] if k in keys else v for k, v in kwargs.items()}
    return args, kwargs


def _scalar_type_as_int(d, r):
    """An op returning a ScalarType (promote_types, result_type) gives its int code to
    Python through torch.ops, as PyTorch's (torch.ops.aten.promote_types(torch.int32,
    torch.float32) is 6)."""
    rets = d.schema.returns
    if len(rets) == 1 and rets[0].type.base == "ScalarType" and not rets[0].type.is_list:
        from ..dtypes import dtype, scalar_type_code
        if isinstance(r, dtype):
            return scalar_type_code(r)
    return r


class OpOverloadPacket:
    """All overloads of one op name (`torch.ops.aten.add`): attribute per overload,
    `.overloads()`, and a call that picks the overload by the arguments."""

    def __init__(self, ns, name, ovs):
        from .scalar_ops import PYTHON_VALUED
        self._qualified_op_name = f"{ns}::{name}"
        self.__name__ = name
        self.__qualname__ = name
        self.__module__ = f"gpujit.ops.{ns}"
        self._ns = ns
        self._overloads = {}
        for d in ovs:
            self._overloads[d.schema.overload or "default"] = OpOverload(
                self, d, d.schema.overload or "default")
        # PyTorch's Scalar overloads the registry folds into its Tensor one (add.Scalar,
        # pow.Tensor_Scalar, where.ScalarOther ...: ops/scalar_overloads), with torch's
        # schemas, calling that op; none where torch has none (clamp.Scalar)
        from .scalar_overloads import torch_scalar_schemas
        for s in torch_scalar_schemas(name):
            if s.overload in self._overloads:
                continue
            names = [a.name for a in s.arguments]
            d = next((d for d in ovs if d.number_operands and
                      [a.name for a in d.schema.arguments] == names), None)
            if d is not None:
                self._overloads[s.overload] = OpOverload(self, d, s.overload, s)
        # PyTorch's .out overloads (torch.ops.aten.add.out(x, y, out=o)): out_variants.py
        outs = [out_variant(d) for d in ovs if eligible(d)]
        for d in outs:
            self._overloads.setdefault(d.schema.overload, OpOverload(self, d, d.schema.overload))
        # Tensor overloads first: add(x, 1) is add.Tensor, add(3, 4) add.int, and a 0-dim
        # tensor is not taken for add.Scalar_Scalar's number
        self._tensor_ops = [d for d in ovs if d.name not in PYTHON_VALUED] + outs
        self._number_ops = [d for d in ovs if d.name in PYTHON_VALUED]
        self.__doc__ = "\n".join(str(d.schema) for d in ovs)

    @property
    def op(self):
        return self

    def overloads(self):
        return list(self._overloads)

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self.__dict__["_overloads"][key]
        except KeyError:
            raise AttributeError(f"The underlying op of '{self}' has no overload name "
                                 f"'{key}'") from None

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._overloads))

    def __call__(self, *args, **kwargs):
        reasons = []
        for ops, lenient in ((self._tensor_ops, False), (self._tensor_ops, True),
                             (self._number_ops, False)):
            for d in ops:
                a, kw = _codes_as_dtypes(d.schema, args, kwargs)
                why = _mismatch(d, d.schema, a, kw, lenient)
                if why is None:
                    return _scalar_type_as_int(d, d.public(*a, **kw))
                if not lenient:
                    reasons.append(why)
        raise RuntimeError("Overloaded torch operator invoked from Python failed to match "
                           "any schema:\n" + "\n\n".join(reasons) + "\n\n")

    def __repr__(self):
        return f"<OpOverloadPacket(op='{self}')>"

    def __str__(self):
        return self._qualified_op_name.replace("::", ".")

    def __hash__(self):
        return hash(self._qualified_op_name)


class _OpNamespace(types.ModuleType):
    """`torch.ops.aten`: its attributes are the registry's ops of that namespace."""

    def __init__(self, name):
        super().__init__(f"gpujit.ops.{name}")
        self.name = name

    def __getattr__(self, op_name):
        ovs = _reg.OVERLOADS.get(f"{self.name}::{op_name}")   # (aten::__and__ too)
        if not ovs and op_name.startswith("__"):
            raise AttributeError(op_name)
        if not ovs:
            raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute "
                                 f"'{op_name}'")
        packet = OpOverloadPacket(self.name, op_name, ovs)
        setattr(self, op_name, packet)
        return packet

    def __dir__(self):
        prefix = self.name + "::"
        return sorted(set(super().__dir__()) | {
            n[len(prefix):] for n in _reg.OVERLOADS if n.startswith(prefix)})


# --------------------------------------------------------------------------------------
# torch.ops.prim: the graph ops a user may call by name (no registry entry: the script
# frontend and the interpreter know them by kind)

def _num_to_tensor(a):
    from .. import dtypes as _dt
    import gpujit
    if isinstance(a, _reg._Tensor):
        a = a.item()
    dt = _dt.bool if isinstance(a, (bool, np.bool_)) else \
        _dt.int64 if isinstance(a, (int, np.integer)) else _dt.float64
    return gpujit.tensor(a, dtype=dt)


_PRIM = {   # name: ({overload: schema text}, eager function)
    "NumToTensor": ({"Scalar": "prim::NumToTensor.Scalar(Scalar a) -> Tensor",
                     "bool": "prim::NumToTensor.bool(bool a) -> Tensor"}, _num_to_tensor),
    "device": ({"default": "prim::device(Tensor a) -> Device"}, lambda a: a.device),
    "dtype": ({"default": "prim::dtype(Tensor a) -> ScalarType"}, lambda a: a.dtype),
    "requires_grad": ({"default": "prim::requires_grad(Tensor a) -> bool"},
                      lambda a: a.requires_grad),
    "data": ({"default": "prim::data(Tensor(a) a) -> Tensor(a)"}, lambda a: a.data),
    "grad": ({"default": "prim::grad(Tensor a) -> Tensor"}, lambda a: a.grad),
    "itemsize": ({"default": "prim::itemsize(Tensor a) -> int"}, lambda a: a.itemsize),
    "nbytes": ({"default": "prim::nbytes(Tensor a) -> int"}, lambda a: a.nbytes),
    "layout": ({"default": "prim::layout(Tensor a) -> Layout"}, lambda a: a.layout),
    # TorchScript's statistics counters (gpujit.jit._logging)
    "AddStatValue": ({"default": "prim::AddStatValue(str key, int val) -> ()"},
                     lambda key, val: _stat_op("prim::AddStatValue", key, val)),
    "TimePoint": ({"default": "prim::TimePoint() -> int"},
                  lambda: _stat_op("prim::TimePoint")),
}


def _stat_op(kind, *args):
    """prim::AddStatValue / prim::TimePoint called eagerly (recorded by a trace running
    now, as TorchScript's tracer records them)."""
    from ..jit import _logging
    fn = _logging._add_stat_value if kind == "prim::AddStatValue" else _logging._time_point
    r = fn(*args)
    from ..frontend.tracer import record_prim
    record_prim(kind, args, r)
    return r


@functools.lru_cache(maxsize=None)
def _prim_classes():
    """PrimOpPacket / PrimOpOverload: callable eagerly, and graph-op markers (PrimFunction)
    the script frontend compiles `torch.ops.prim.NumToTensor(n)` from."""
    from ..frontend.script.serialized import PrimFunction

    class PrimOpOverload(PrimFunction):
        def __init__(self, packet, overload, schema):
            super().__init__(packet.kind)
            self.overloadpacket, self._overloadname, self._schema = packet, overload, schema
            self.__name__ = f"{packet.__name__}.{overload}"

        def name(self):
            return self.kind + ("" if self._overloadname == "default"
                                else "." + self._overloadname)

        def __call__(self, *args):
            return self.overloadpacket(*args)

        def __repr__(self):
            return f"<OpOverload(op='prim.{self.overloadpacket.__name__}', " \
                   f"overload='{self._overloadname}')>"

    class PrimOpPacket(PrimFunction):
        def __init__(self, name):
            super().__init__(f"prim::{name}")
            schemas, self._fn = _PRIM[name]
            self.__name__ = name
            self._qualified_op_name = self.kind
            from .schema import parse_schema
            self._overloads = {k: PrimOpOverload(self, k, parse_schema(v))
                               for k, v in schemas.items()}

        def overloads(self):
            return list(self._overloads)

        def __getattr__(self, key):
            try:
                return self.__dict__["_overloads"][key]
            except KeyError:
                raise AttributeError(f"The underlying op of 'prim.{self.__name__}' has no "
                                     f"overload name '{key}'") from None

        def __call__(self, *args):
            n = len(next(iter(self._overloads.values()))._schema.arguments)
            if len(args) != n:
                raise RuntimeError(f"{self.kind}() expected {n} argument(s) but received "
                                   f"{len(args)} argument(s)")
            return self._fn(*args)

        def __repr__(self):
            return f"<OpOverloadPacket(op='prim.{self.__name__}')>"

    return PrimOpPacket


class _PrimNamespace(_OpNamespace):
    def __getattr__(self, op_name):
        if op_name.startswith("__") or op_name not in _PRIM:
            return super().__getattr__(op_name)
        packet = _prim_classes()(op_name)
        setattr(self, op_name, packet)
        return packet

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(_PRIM))


_NAMESPACES: dict = {}


def namespace(name):
    """The `_OpNamespace` for `torch.ops.<name>` (one per name)."""
    ns = _NAMESPACES.get(name)
    if ns is None:
        ns = _NAMESPACES[name] = (_PrimNamespace if name == "prim" else _OpNamespace)(name)
    return ns
