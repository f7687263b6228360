"""Resolving a scripted call to a registry overload by IR types, as eager gpujit resolves
it by Python values: which ops a callee names (`gpujit.tanh`, `torch.tanh` under
`import gpujit as torch`, `F.relu`, `x.sum()`), which overload the argument types fit,
and the inputs of the node in schema order (defaults become constants). A call no overload
accepts gets an error listing every schema and why each did not match."""
from __future__ import annotations

import ast
import inspect

from ...ir import types as T
from ...ir.schema_match import type_matches
from ...ops import registry as _reg

__all__ = ["FunctionCallMixin", "ContainerMixin", "static_isinstance", "candidates_for_function", "candidates_for_method", "match_schema",
           "schema_arg_type", "describe_type", "describe_arg_type", "Match"]

_NUM = (T.IntType, T.FloatType, T.BoolType, T.NumberType)

# the IR type a schema argument or return type stands for: one definition, in the IR
from ...ir.schema_match import schema_arg_type  # noqa: E402


def describe_type(t) -> str:
    """'a Tensor', 'an int', 'None', 'a List[int]': a type in a sentence."""
    if isinstance(t, T.NoneType):
        return "None"
    if isinstance(t, T.TensorType):
        return "a Tensor"
    name = t.annotation() if not isinstance(t, T.NumberType) else "number"
    return ("an " if name[0] in "aeiouAEIOU" else "a ") + name


_ARG_WORDS = {"Tensor": "a Tensor", "int": "an int", "SymInt": "an int", "float": "a float",
              "bool": "a bool", "str": "a str", "Scalar": "a number",
              "ScalarType": "a dtype", "Device": "a device", "Layout": "a layout",
              "MemoryFormat": "a memory format", "Generator": "a Generator"}
_LIST_WORDS = {"Tensor": "a list of Tensors", "int": "a list of ints",
               "SymInt": "a list of ints", "float": "a list of floats",
               "bool": "a list of bools"}


def describe_arg_type(at) -> str:
    if at.is_list:
        s = _LIST_WORDS.get(at.base, f"a list of {at.base}")
        if at.base in ("int", "SymInt"):
            s += " (or an int)"
    else:
        s = _ARG_WORDS.get(at.base, f"a {at.base}")
    return s + " or None" if at.optional else s


def short_type(t) -> str:
    """The spelling in a '(Tensor, str)' argument list."""
    return "Tensor" if isinstance(t, T.TensorType) else t.annotation() \
        if not isinstance(t, T.NoneType) else "None"


# --------------------------------------------------------------------------------------
# which ops a callee names

def _bindings(target, name):
    return list(_reg._PUBLIC.get(target, {}).get(name, []))


def candidates_for_function(name, functional=False):
    """Overloads of `gpujit.<name>` (or `F.<name>` when functional), in resolution order.
    Python wrappers over an op (gpujit.zeros takes varargs sizes) fall back to the ops
    named `aten::<name>`."""
    found = []
    if functional:
        found += _bindings("functional", name)
    found += [d for d in _bindings("function", name) if d not in found]
    if not found:
        found = [d for d in _reg.OVERLOADS.get(f"aten::{name}", [])
                 if d.schema.arguments and not _is_scalar_family(d)]
    if not found and functional:
        found = list(_reg.OVERLOADS.get(f"aten::{name}", []))
    return found


def candidates_for_method(name):
    """Overloads of the Tensor method `x.<name>(...)`: the method bindings, then other
    `aten::<name>` overloads whose first argument is a Tensor (x.size(0), x.dim())."""
    found = _bindings("method", name)
    for d in _reg.OVERLOADS.get(f"aten::{name}", []):
        args = d.schema.arguments
        if d not in found and args and args[0].type.is_tensor:
            found.append(d)
    return found


def _is_scalar_family(d):
    from ...ops.scalar_ops import PYTHON_VALUED
    return d.name in PYTHON_VALUED


# --------------------------------------------------------------------------------------
# matching one schema

class Match:
    """A schema that fits: `items` is one entry per schema argument, in order: ('value',
    Value), ('pack', [Values]) for varargs sizes, ('default', python value)."""
    __slots__ = ("op", "items")

    def __init__(self, op, items):
        self.op, self.items = op, items


def _fits(p, t, op) -> bool:
    if type_matches(p.type, t):
        return True
    return op.is_pointwise and p.name in op.operands and isinstance(t, _NUM)


def match_schema(op, args, kwargs):
    """args: [(Value)], kwargs: {name: Value}. Returns a Match, or the reason (a str) the
    schema does not accept the call."""
    params = op.schema.arguments
    positional = [p for p in params if not p.kwarg_only]
    items = []
    args = list(args)
    if len(args) > len(positional):
        # varargs sizes: zeros(3, 4), x.view(2, -1), x.permute(1, 0)
        k = next((i for i, p in enumerate(positional) if p.type.is_list
                  and p.type.base in ("int", "SymInt") and i < len(args)), None)
        extra = len(args) - len(positional)
        if k is None or not all(isinstance(a.type, T.IntType) for a in args[k:k + extra + 1]):
            return (f"takes {len(positional)} positional argument"
                    f"{'s' if len(positional) != 1 else ''} but {len(args)} were given")
        args = args[:k] + [("pack", args[k:k + extra + 1])] + args[k + extra + 1:]
    unknown = set(kwargs) - {p.name for p in params}
    if unknown:
        return f"has no argument {sorted(unknown)[0]!r}"
    for i, p in enumerate(params):
        if i < len(args) and not p.kwarg_only:
            a = args[i]
            if p.name in kwargs:
                return f"got {p.name!r} both by position and by name"
            if isinstance(a, tuple):
                items.append(a)
                continue
        elif p.name in kwargs:
            a = kwargs[p.name]
        elif p.has_default:
            items.append(("default", p.default))
            continue
        else:
            return f"missing argument {p.name!r}"
        if not _fits(p, a.type, op):
            return f"{p.name!r} expected {describe_arg_type(p.type)}, got {short_type(a.type)}"
        items.append(("value", a))
    return Match(op, items)


def resolve(ops, args, kwargs):
    """(Match or None, [(op, reason)] of the overloads that did not fit)."""
    misses = []
    for op in ops:
        m = match_schema(op, args, kwargs)
        if isinstance(m, Match):
            return m, misses
        misses.append((op, m))
    return None, misses


def no_match_message(name, ops, misses, args, kwargs) -> str:
    """The error of a call no overload accepts, one schema per entry with why."""
    given = [short_type(a.type) for a in args] + [f"{k}={short_type(v.type)}"
                                                   for k, v in kwargs.items()]
    lines = [f"no variant of '{name}' accepts ({', '.join(given)}):"]
    for op, why in misses:
        s = str(op.schema)
        lines.append(f"  {s.split('::', 1)[1] if '::' in s else s}")
        lines.append(f"      {why}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# calls of gpujit's Python wrappers (F.dropout(input, p, training, inplace)) whose
# parameters differ from their op's schema

# a wrapper parameter -> the schema names it may stand for
_ALIASES = {"input": ("self", "input", "indices"), "training": ("train",)}
# schema arguments the Python wrappers fill themselves (Python values; made constants)
_FILLED = {"cudnn_enabled": True}


def rebind_wrapper_call(pyfn, ops, args, kwargs, constant_of):
    """Bind a call by the Python wrapper's signature and map it to schema names.
    constant_of(Value) -> (True, python value) for constants, else (False, None).
    Returns ({schema name: Value or Python constant}, inplace flag) or a str saying why
    it cannot."""
    import inspect
    try:
        sig = inspect.signature(pyfn)
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values()):
            return "it takes *args / **kwargs"
        bound = sig.bind(*args, **kwargs).arguments
    except (TypeError, ValueError) as e:
        return str(e)
    names = {p.name for op in ops for p in op.schema.arguments}
    optional = {p.name for op in ops for p in op.schema.arguments if p.type.optional}
    out, inplace = {}, False
    for name, v in bound.items():
        target = name if name in names else next(
            (a for a in _ALIASES.get(name, ()) if a in names), None)
        known, c = constant_of(v)
        if target is not None:
            if known and c is None and target not in optional:
                continue                 # the wrapper's None: the schema's own default
            out[target] = v
            continue
        if name == "inplace" and known and isinstance(c, bool):
            inplace = c
            continue
        default = sig.parameters[name].default
        if known and default is not inspect.Parameter.empty and c == default:
            continue
        return (f"its argument '{name}' has no counterpart in the op schema; only its "
                f"default ({default!r}) is supported in scripted code")
    for op in ops:
        for p in op.schema.arguments:
            if p.name not in out and not p.has_default and p.name in _FILLED:
                out[p.name] = _FILLED[p.name]
    return out, inplace


# --------------------------------------------------------------------------------------
# calls of Python functions (compiled recursively), scripted and traced functions, and
# isinstance() from static types: ExprCompiler's methods (self is the compiler)

class FunctionCallMixin:
    def call_python_function(self, fn, node):
        """A call of a plain Python function: compiled from its own source and signature
        (recursively; cached for the duration of the outermost compile), then called."""
        from .compiler import compile_callee
        from ...jit.script import function_modifier
        if function_modifier(fn) in ("ignore", "drop"):
            self.error(f"'{fn.__name__}' is marked @ignore / @unused and cannot be called "
                       f"from a scripted function", node,
                       hint="remove the marker so that it is compiled too")
        where = self.src.range(node)
        try:
            graph = compile_callee(fn, where, self.src.name)
        except _frontend_error() as e:
            # the error points into the callee; say where it was called from
            if not str(e).startswith(f"'{fn.__name__}' is called recursively"):
                e.args = (f"{e.args[0]}\n  (in '{fn.__name__}', called from "
                          f"'{self.src.name}' at {where.filename}:{where.line})",)
            raise
        return self.call_function(fn, graph, fn.__name__, node)

    def call_function(self, fn, graph, name, node):
        """prim::CallFunction[name=...](*args) with the callee graph in node.meta["callee"]
        (the inliner, executor and interpreter call it from there). Arguments bind by
        the Python signature when there is one (keywords, defaults)."""
        args, kwargs = self.call_args(node)
        params = list(graph.inputs)
        original = getattr(fn, "_original", fn)
        try:
            sig = inspect.signature(original) if callable(original) else None
        except (TypeError, ValueError):
            sig = None
        if sig is not None and len(sig.parameters) == len(params):
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as e:
                self.error(f"cannot call '{name}': {e}", node)
            values = []
            for p_name, p in sig.parameters.items():
                if p_name in bound.arguments:
                    values.append(bound.arguments[p_name])
                else:
                    k = len(values)
                    t = params[k].type
                    values.append(self.const(p.default, t if p.default is None else None))
        else:
            if kwargs or len(args) != len(params):
                self.error(f"'{name}' takes {len(params)} positional arguments but "
                           f"{len(args)}{' and keywords' if kwargs else ''} were given", node)
            values = args
        for k, (v, p) in enumerate(zip(values, params)):
            ok = v.type.is_subtype_of(p.type) or (
                isinstance(v.type, T.TensorType) and isinstance(p.type, T.TensorType))
            if not ok:
                pname = p.debug_name
                self.error(f"argument {k + 1} ('{pname}') of '{name}' must be "
                           f"{describe_type(p.type)}, got {describe_type(v.type)}", node)
        outs = [_generalized(o.type) for o in graph.outputs]
        n = self.emit("prim::CallFunction", values, outs, attrs={"name": name})
        n.meta["callee"] = graph
        if len(outs) == 1:
            return n.output
        return self.emit("prim::TupleConstruct", n.outputs, [T.TupleType(tuple(outs))]).output

    def isinstance_types(self, node):
        """The IR types an isinstance() class argument names (a class, typing generic,
        or a tuple of those)."""
        if len(node.args) != 2 or node.keywords:
            self.error("isinstance() takes a value and a class", node)
        cls_node = node.args[1]
        items = cls_node.elts if isinstance(cls_node, ast.Tuple) else [cls_node]
        out = []
        for it in items:
            found, cls = self.py_object(it)
            if not found:
                try:
                    cls = eval(compile(ast.Expression(it), "<isinstance>", "eval"),  # noqa: S307
                               {**self.fn.__globals__, **self.closure})
                except Exception:
                    self.error(f"unknown class '{ast.unparse(it)}' in isinstance()", it)
            for c in (cls if isinstance(cls, tuple) else (cls,)):
                out.append(_isinstance_type(c, self.fn.__globals__, self.src, self, it))
        return out

    def isinstance_call(self, node):
        """isinstance() from static types: a constant. On an Optional value it is a
        None check (`isinstance(x, int)` with x: Optional[int] is `x is not None`)."""
        types = self.isinstance_types(node)
        v = self.expr(node.args[0])
        t = v.type
        verdict = static_isinstance(t, types)
        if verdict is not None:
            return self.const(verdict)
        if isinstance(t, T.OptionalType) and static_isinstance(t.elem, types) and \
                not static_isinstance(T.NONE, types):
            return self.emit("aten::__isnot__", [v, self.const(None)], [T.BOOL]).output
        self.error(f"isinstance() on {describe_type(t)} is not known from the static types",
                   node, hint="use an Optional and `is not None`, or separate functions")


_PY_CLASSES = {int: (T.IntType, T.BoolType), float: (T.FloatType,), bool: (T.BoolType,),
               str: (T.StrType,), list: (T.ListType,), tuple: (T.TupleType,),
               dict: (T.DictType,), type(None): (T.NoneType,)}


def _isinstance_type(cls, globals_, src, c, where):
    """A class argument of isinstance(): a tuple of IR type classes (a plain class: any
    value of its kind) or an IR type (a typing generic: List[int])."""
    from ...tensor import Tensor
    if cls is Tensor:
        return (T.TensorType,)
    if cls in _PY_CLASSES:
        return _PY_CLASSES[cls]
    try:
        return _annotation_type(cls, globals_, src)
    except _frontend_error():
        c.error(f"isinstance() with {getattr(cls, '__name__', cls)!r} is not supported",
                where, hint="use int, float, bool, str, Tensor, list, tuple, dict or "
                            "List[T] / Tuple[...] / Dict[K, V]")


def static_isinstance(t, types):
    """True / False when the static type t decides isinstance(), None when it does not
    (an Optional or Union value whose alternatives differ)."""
    alts = t.types if isinstance(t, T.UnionType) else \
        (t.elem, T.NONE) if isinstance(t, T.OptionalType) else None
    if alts is not None:
        verdicts = {static_isinstance(a, types) for a in alts}
        return verdicts.pop() if len(verdicts) == 1 else None
    for x in types:
        if isinstance(x, tuple):
            if isinstance(t, x):
                return True
        elif t == x or (isinstance(t, T.TensorType) and isinstance(x, T.TensorType)) or \
                t.is_subtype_of(x):
            return True
    return False


def is_compiled_function(obj):
    """A gpujit.script'ed or gpujit.trace'd function (a ScriptFunction and its graph)."""
    from ...jit.objects import ScriptFunction
    return isinstance(obj, ScriptFunction)


def _annotation_type(ann, globals_, src):
    from .exprs import fallback_annotation_type
    return fallback_annotation_type(ann, globals_, src)


def _frontend_error():
    from .errors import FrontendError
    return FrontendError


def _generalized(t):
    """A callee's output type without a trace's shape specialization (the call may
    receive other shapes): Tensor, also inside tuples and lists."""
    if isinstance(t, T.TensorType):
        return T.TENSOR
    if isinstance(t, T.TupleType) and not isinstance(t, T.NamedTupleType):
        return T.TupleType(tuple(_generalized(e) for e in t.elems))
    if isinstance(t, T.ListType):
        return T.ListType(_generalized(t.elem))
    if isinstance(t, T.OptionalType):
        return T.OptionalType(_generalized(t.elem))
    return t


# ---------------------------------------------------------------------- containers

_KEY_TYPES = (T.StrType, T.IntType, T.FloatType, T.BoolType, T.TensorType)

# List mutators the runtime cannot run yet (no CONTAINER_OPS entry): a clear compile
# error instead of a graph that fails when it runs.
_UNRUNNABLE_LIST_METHODS = {"pop", "insert", "clear", "remove", "reverse", "sort", "copy",
                            "count"}


def unify(a, b):
    from .exprs import unify as _unify      # exprs imports this module
    return _unify(a, b)


def _elem_fits(t, elem) -> bool:
    """May a value of type t be stored in a container whose elements are `elem`? A
    Scalar (`x.item()`) fits an int or float slot, as it fits such an argument."""
    if t.is_subtype_of(elem) or (isinstance(t, T.TensorType)
                                 and isinstance(elem, T.TensorType)):
        return True
    if isinstance(t, T.NumberType) and isinstance(elem, (T.IntType, T.FloatType)):
        return True
    return isinstance(t, T.TupleType) and isinstance(elem, T.TupleType) and \
        len(t.elems) == len(elem.elems) and all(map(_elem_fits, t.elems, elem.elems))


def _general(t):
    """The element type a container stores: any Tensor is `Tensor`."""
    return T.TENSOR if isinstance(t, T.TensorType) else t


class ContainerMixin:
    """Lists and dicts in scripted code: their methods, item assignment, loops over them
    and list comprehensions. Everything lowers to the runtime's Python container ops
    (interpreter.CONTAINER_OPS: aten::append, aten::_set_item, aten::__getitem__,
    aten::len, aten::keys/values/items) plus prim::Loop / prim::If; list.extend, list.index,
    dict.get and comprehensions are loops and ifs over those, so no new runtime op is
    needed. A mutator returns its container (as aten::append does) and is a side effect
    (schema_match.SIDE_EFFECT_KINDS), so dead-code elimination keeps it."""

    # ------------------------------------------------------------------ building blocks
    def append_to(self, lst, v, node):
        elem = lst.type.elem
        if not _elem_fits(v.type, elem):
            self.error(f"'append' got {describe_type(v.type)} but the list holds "
                       f"{describe_type(elem)}", node,
                       hint="a list holds one type; annotate it, e.g. xs: List[float] = []")
        return self.emit("aten::append", [lst, v], [lst.type]).output

    def rebind(self, receiver, v):
        """After a mutator, the receiver variable names the mutator's result (the same
        list or dict object): code after it, loops carrying it and the executor's return
        (which rebuilds a list literal from its items) all see the mutated container."""
        from .exprs import Var
        if isinstance(receiver, ast.Name):
            old = self.lookup_var(receiver.id)
            if isinstance(old, Var) and old.value.type == v.type:
                self.scopes[-1][receiver.id] = Var(v, old.where)

    def for_each(self, seq, body, where):
        """A prim::Loop over the elements of the list `seq`, body(elem) compiled in its
        block (no carried values: the body only mutates containers)."""
        trip = self.emit("aten::len", [seq], [T.INT], op=_reg.OPS["aten::len.t"]).output
        node = self.emit("prim::Loop", [trip, self.const(True)], [])
        block = node.add_block()
        i = block.add_input(T.INT, "i")
        with self.in_block(block), self.scope():
            body(self.emit("aten::__getitem__", [seq, i], [seq.type.elem]).output)
            block.register_output(self.const(True))
        return node

    def iterable_list(self, it):
        """The list a comprehension or `for` iterates: a list itself, a dict's keys, or
        range(n) / range(a, b) (as a prim::Loop index, see comprehension_loop)."""
        v = self.expr(it)
        if isinstance(v.type, T.DictType):
            return self.emit("aten::keys", [v], [T.ListType(v.type.key)]).output
        if isinstance(v.type, T.ListType):
            return v
        self.error(f"a comprehension iterates over a list, a dict or range(...); got "
                   f"{describe_type(v.type)}", it,
                   hint="write a for loop instead")

    # ------------------------------------------------------------------ list methods
    def list_method_call(self, lst, name, node):
        if name in _UNRUNNABLE_LIST_METHODS:
            self.error(f"list.{name}() is not supported in scripted functions yet", node,
                       hint="build a new list with a for loop and append")
        if node.keywords:
            self.error(f"list.{name}() takes no keyword arguments", node)
        args = [self.expr(a) for a in node.args]
        if name == "append" and len(args) == 1:
            self.rebind(node.func.value, self.append_to(lst, args[0], node))
            return self.const(None)
        if name == "extend" and len(args) == 1:
            other = args[0]
            if not isinstance(other.type, T.ListType):
                self.error(f"list.extend() takes a list, got {describe_type(other.type)}",
                           node.args[0])
            self.rebind(node.func.value, self.extend(lst, other, node))
            return self.const(None)
        if name == "index" and len(args) == 1:
            return self.list_index(lst, args[0], node)
        if name in ("append", "extend", "index"):
            self.error(f"'{name}' of a list takes one argument (list.{name}(x))", node)
        self.error(f"a list has no method '{name}' in scripted code", node,
                   hint="supported: append, extend, index, len(xs), xs[i], xs[i] = v")

    def extend(self, lst, other, node):
        """xs.extend(ys): a loop appending each element, the list carried through it."""
        trip = self.emit("aten::len", [other], [T.INT], op=_reg.OPS["aten::len.t"]).output
        loop = self.emit("prim::Loop", [trip, self.const(True), lst], [])
        block = loop.add_block()
        i = block.add_input(T.INT, "i")
        cur = block.add_input(lst.type, "acc")
        with self.in_block(block), self.scope():
            e = self.emit("aten::__getitem__", [other, i], [other.type.elem]).output
            out = self.append_to(cur, e, node)
            block.register_output(self.const(True))
            block.register_output(out)
        return loop.add_output(lst.type)

    def list_index(self, lst, x, node):
        """xs.index(x): a loop that stops at the first equal element; ValueError when none
        is."""
        trip = self.emit("aten::len", [lst], [T.INT], op=_reg.OPS["aten::len.t"]).output
        loop = self.emit("prim::Loop", [trip, self.const(True), self.const(-1)], [])
        block = loop.add_block()
        i = block.add_input(T.INT, "i")
        found = block.add_input(T.INT, "found")
        with self.in_block(block), self.scope():
            e = self.emit("aten::__getitem__", [lst, i], [lst.type.elem]).output
            eq = self.compare(ast.Eq(), e, x, node)
            eq = self.to_bool(eq, node)
            block.register_output(self.select(eq, self.const(False), self.const(True),
                                              T.BOOL))
            block.register_output(self.select(eq, i, found, T.INT))
        idx = loop.add_output(T.INT)
        missing = self.scalar("lt", idx, self.const(0), node=node)
        branch = self.emit("prim::If", [missing], [])
        with self.in_block(branch.add_block()):
            self.emit("prim::RaiseException",
                      [self.const("list.index(x): x not in list"),
                       self.const("builtins.ValueError")], [])
        branch.add_block()
        return idx

    # ------------------------------------------------------------------ dicts
    def dict_literal(self, node, expected=None):
        if any(k is None for k in node.keys):
            self.error("`**` in a dict literal is not supported", node,
                       hint="set each key with d[k] = v")
        keys = [self.expr(k) for k in node.keys]
        vals = [self.expr(v) for v in node.values]
        if not keys:
            if isinstance(expected, T.DictType):
                return self.emit("prim::DictConstruct", [], [expected]).output
            self.error("the type of an empty dict is unknown", node,
                       hint="annotate it: d: Dict[str, int] = {}")
        types = []
        for what, vs in (("keys", keys), ("values", vals)):
            t = vs[0].type
            for v in vs[1:]:
                u = unify(t, v.type)
                if u is None:
                    self.error(f"a dict's {what} have one type; this one mixes "
                               f"{describe_type(t)} and {describe_type(v.type)}", node)
                t = u
            types.append(_general(t))
        if not isinstance(types[0], _KEY_TYPES):
            self.error(f"dict keys must be str, int, float, bool or Tensor, not "
                       f"{describe_type(types[0])}", node.keys[0])
        t = T.DictType(types[0], types[1])
        if isinstance(expected, T.DictType) and _elem_fits(types[0], expected.key) and \
                _elem_fits(types[1], expected.value):
            t = expected
        items = [x for kv in zip(keys, vals) for x in kv]
        return self.emit("prim::DictConstruct", items, [t]).output

    def check_key(self, d, k, node):
        if not _elem_fits(k.type, d.type.key) and not (
                isinstance(k.type, T.IntType) and isinstance(d.type.key, T.FloatType)):
            self.error(f"the keys of this dict are {describe_type(d.type.key)}, not "
                       f"{describe_type(k.type)}", node)

    def dict_method_call(self, d, name, node):
        if node.keywords:
            self.error(f"dict.{name}() takes no keyword arguments", node)
        args = [self.expr(a) for a in node.args]
        kt, vt = d.type.key, d.type.value
        if name in ("keys", "values", "items") and not args:
            t = {"keys": kt, "values": vt, "items": T.TupleType((kt, vt))}[name]
            return self.emit(f"aten::{name}", [d], [T.ListType(t)]).output
        if name == "get" and len(args) in (1, 2):
            self.check_key(d, args[0], node)
            default = args[1] if len(args) == 2 else self.const(None)
            if len(args) == 2:
                t = unify(vt, default.type)
                if t is None:
                    self.error(f"the default of get() is {describe_type(default.type)} but "
                               f"the values are {describe_type(vt)}", node.args[1])
            else:
                t = T.OptionalType(vt)
            has = self.emit("aten::__contains__", [d, args[0]], [T.BOOL]).output
            branch = self.emit("prim::If", [has], [])
            with self.in_block(branch.add_block()):
                branch.blocks[0].register_output(
                    self.emit("aten::__getitem__", [d, args[0]], [vt]).output)
            with self.in_block(branch.add_block()):
                branch.blocks[1].register_output(default)
            return branch.add_output(t)
        self.error(f"a dict has no method '{name}' in scripted code", node,
                   hint="supported: keys, values, items, get, d[k], d[k] = v, k in d")

    # ------------------------------------------------------------------ item assignment
    def set_item(self, target, v, node):
        """`xs[i] = v` / `d[k] = v` (aten::_set_item); False when the target is not a list
        or dict (the caller reports it)."""
        c = self.expr(target.value)
        t = c.type
        if isinstance(t, T.ListType):
            if isinstance(target.slice, ast.Slice):
                self.error("assigning to a list slice is not supported", target)
            i = self.expr(target.slice)
            if not isinstance(i.type, T.IntType):
                self.error(f"list indices must be ints, got {describe_type(i.type)}",
                           target.slice)
            elem = t.elem
        elif isinstance(t, T.DictType):
            i = self.expr(target.slice)
            self.check_key(c, i, target.slice)
            elem = t.value
        else:
            return False
        if not _elem_fits(v.type, elem):
            self.error(f"cannot store {describe_type(v.type)} in a container of "
                       f"{describe_type(elem)}", node)
        self.rebind(target.value, self.emit("aten::_set_item", [c, i, v], [t]).output)
        return True

    # ------------------------------------------------------------------ comprehensions
    def list_comprehension(self, node):
        """[elt for x in xs if c ...]: a fresh list and nested loops (one per `for`) that
        append to it under prim::Ifs (one per `if`). The element type is known only once
        `elt` is compiled, so the list's type is set after."""
        made = self.emit("prim::ListConstruct", [], [T.ListType(T.NONE)])
        lst = made.output
        appends = []

        def level(k):
            if k == len(node.generators):
                v = self.expr(node.elt)
                appends.append((self.emit("aten::append", [lst, v], [lst.type]), v))
                return
            gen = node.generators[k]
            if gen.is_async:
                self.error("async comprehensions are not supported", node)

            def body(elem):
                self.assign_target(gen.target, elem, gen)
                self.comprehension_ifs(gen.ifs, lambda: level(k + 1))
            self.comprehension_loop(gen, body)
        with self.scope():
            level(0)
        t = None
        for _, v in appends:
            u = v.type if t is None else unify(t, v.type)
            if u is None:
                self.error(f"a list holds one type; this comprehension makes "
                           f"{describe_type(t)} and {describe_type(v.type)}", node.elt)
            t = u
        lt = T.ListType(_general(t))
        lst.type = lt
        for n, _ in appends:
            n.output.type = lt
        # a copy (of a list nobody else holds): the result is not the literal the executor
        # would rebuild from its (no) items
        return self.emit("aten::list", [lst], [lt]).output

    def comprehension_loop(self, gen, body):
        it = gen.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and \
                it.func.id == "range" and self.is_builtin("range"):
            args = [self.expr(a) for a in it.args]
            if it.keywords or len(args) not in (1, 2) or \
                    not all(isinstance(a.type, T.IntType) for a in args):
                self.error("range() in a comprehension takes one or two int arguments", it)
            start = args[0] if len(args) == 2 else None
            trip = args[-1] if start is None else self.scalar("sub", args[1], start)
            loop = self.emit("prim::Loop", [trip, self.const(True)], [])
            block = loop.add_block()
            i = block.add_input(T.INT, "i")
            with self.in_block(block), self.scope():
                body(i if start is None else self.scalar("add", start, i))
                block.register_output(self.const(True))
            return
        self.for_each(self.iterable_list(it), body, gen)

    def comprehension_ifs(self, ifs, inner):
        if not ifs:
            inner()
            return
        cond = self.condition(ifs[0])
        branch = self.emit("prim::If", [cond], [])
        with self.in_block(branch.add_block()), self.scope():
            self.comprehension_ifs(ifs[1:], inner)
        branch.add_block()

    def assign_target(self, target, v, where):
        """Bind a comprehension's target (a name or a tuple of names)."""
        if not isinstance(target, (ast.Name, ast.Tuple)):
            self.error("a comprehension target must be a name or a tuple of names", target)
        self.assign(target, v, where)
