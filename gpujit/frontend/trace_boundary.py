"""The boundary of a traced graph: example arguments become typed graph inputs (Tensors
and nested tuples/lists/dicts of them, unpacked to their tensors, with TorchScript's type
rules and errors), and what the traced function returns becomes the graph's output."""
from __future__ import annotations

import inspect

from ..ir import types as T
from ..jit.futures import Future
from ..tensor import Tensor
from .trace_futures import check_not_fork_local
from .traced_numbers import is_traced_number, plain


def _param_names(fn, n):
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:n]]
    return names + [f"argument_{i + 1}" for i in range(len(names), n)]


def _holds_only_tensors(a):
    """a is a Tensor or a (nested) tuple/list/dict of them: what becomes a graph input."""
    try:
        input_type(a)
    except (RuntimeError, TypeError):
        return False
    return True


def _holds_tensor(x):
    if isinstance(x, Tensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(_holds_tensor(e) for e in x)
    if isinstance(x, dict):
        return any(_holds_tensor(e) for e in x.values())
    return False


def _type_words(a):
    """The type of a Python value as TorchScript prints it in the tracer's errors."""
    if isinstance(a, Tensor):
        return "Tensor"
    if isinstance(a, tuple):
        return "Tuple[" + ", ".join(_type_words(x) for x in a) + "]"
    if isinstance(a, list):
        return "List[" + (_type_words(a[0]) if a else "Tensor") + "]"
    if isinstance(a, dict):
        k, v = next(iter(a.items()), ("", None))
        return f"Dict[{type(k).__name__}, {_type_words(v) if a else 'Tensor'}]"
    return type(a).__name__


_KEY_TYPES = {str: T.STR, int: T.INT, float: T.FLOAT, bool: T.BOOL}


def input_type(a, top=True):
    """The graph-input type of example argument a: a Tensor, or a (nested) tuple, list or
    dict of them. A tuple keeps its elements' types; lists and dicts, whose length the
    trace fixes but whose elements may change, hold shapeless `Tensor`s. Raises
    RuntimeError with TorchScript's words for what cannot be traced."""
    if isinstance(a, Tensor):
        return T.TensorType.of(a) if top else T.TENSOR
    if isinstance(a, tuple):
        return T.TupleType(tuple(input_type(x, top) for x in a))
    if isinstance(a, list):
        if not a:
            raise RuntimeError("Tracer cannot infer type of the input: List trace inputs "
                               "must have elements")
        elems = [input_type(x, False) for x in a]
        for e, x in zip(elems, a):
            if e != elems[0]:
                raise RuntimeError(
                    f"Tracer cannot infer type of the input: List inputs to traced "
                    f"functions must have consistent element type. Found "
                    f"{_type_words(a[0])} and {_type_words(x)}")
        return T.ListType(elems[0])
    if isinstance(a, dict):
        if not a:
            raise RuntimeError("Tracer cannot infer type of the input: Dictionary inputs "
                               "must have entries")
        kt = {_KEY_TYPES.get(type(k)) for k in a}
        if None in kt or len(kt) != 1:
            raise RuntimeError(
                f"Tracer cannot infer type of the input: dictionary keys of traced inputs "
                f"must all be str, all int, all float or all bool (got "
                f"{sorted({type(k).__name__ for k in a})})")
        vals = list(a.values())
        elems = [input_type(x, False) for x in vals]
        for e, x in zip(elems, vals):
            if e != elems[0]:
                raise RuntimeError(
                    f"Tracer cannot infer type of the input: Dictionary inputs to traced "
                    f"functions must have consistent type. Found {_type_words(vals[0])} "
                    f"and {_type_words(x)}")
        return T.DictType(kt.pop(), elems[0])
    raise RuntimeError(
        f"Type '{_type_words(a)}' cannot be traced. Only Tensors and (possibly nested) "
        f"Lists, Dicts, and Tuples of Tensors can be traced")


def bind_input(rec, name, a):
    """A graph input for example argument a (a Tensor, or a nested tuple/list/dict of
    them), unpacked down to its tensors as TorchScript's tracer does: tuples and lists by
    prim::TupleUnpack / prim::ListUnpack, dicts by one aten::__getitem__ per key of the
    example (other keys may come and go; a missing one is an error when the trace runs)."""
    v = rec.graph.add_input(name, input_type(a))
    _unpack(rec, v, a, name)
    return v


def _unpack(rec, v, a, name):
    g = rec.graph
    if isinstance(a, Tensor):
        rec.bind(a, v)
    elif isinstance(a, (tuple, list)):
        kind = "prim::TupleUnpack" if isinstance(a, tuple) else "prim::ListUnpack"
        types = list(v.type.elems) if isinstance(a, tuple) else [v.type.elem] * len(a)
        n = g.insert_node(kind, [v], output_types=types)
        for x, o, i in zip(a, n.outputs, range(len(a))):
            _unpack(rec, o, x, f"{name}[{i}]")
    else:
        for k, x in a.items():
            where = g.insert_constant(f"{name}[{k!r}], a key of the traced example input")
            n = g.insert_node("aten::__getitem__", [v, g.insert_constant(k), where],
                              output_types=[v.type.value])
            _unpack(rec, n.output, x, f"{name}[{k!r}]")


def check_output(out, strict):
    """What a traced function returns, typed first as torch 2.13's tracer types it (its
    "Tracer cannot infer type of <out>" for an empty list or a dict of mixed values, in
    either mode), then a None in it refused where no submodule's result may hold one."""
    msg = _untypable(out)
    if msg is not None:
        raise RuntimeError(f"Tracer cannot infer type of {out!r}\n:{msg}")
    if not strict and _holds_none(out):
        raise RuntimeError(_NOT_AN_OUTPUT)


def _untypable(a):
    """torch's words for why output a has no type (None where it has one)."""
    if isinstance(a, tuple):
        return next((m for m in map(_untypable, a) if m is not None), None)
    if isinstance(a, list):
        if not a:
            return "List trace inputs must have elements"
        m = next((m for m in map(_untypable, a) if m is not None), None)
        if m is not None:
            return "Could not infer type of list element: " + m
        # (a traced size is a Tensor here: torch's tracer hands sizes out as 0-dim tensors)
        # (None unifies with any type, to an Optional, as torch's unifyTypes does)
        words = ["Tensor" if is_traced_number(x) else _type_words(x) for x in a
                 if x is not None] or [None]
        w = next((w for w in words if w != words[0]), None)
        return None if w is None else (f"List inputs to traced functions must have "
                                       f"consistent element type. Found {words[0]} and {w}")
    if isinstance(a, dict):
        if not a:
            return "Dictionary inputs must have entries"
        vals = list(a.values())
        m = next((m for m in map(_untypable, vals) if m is not None), None)
        if m is not None:
            return m
        words = [_type_words(x) for x in vals]
        for w in words[1:]:
            if w != words[0]:
                return (f"Dictionary inputs to traced functions must have consistent type. "
                        f"Found {words[0]} and {w}")
    return None


def _holds_none(a):
    if a is None:
        return True
    # (not a dict's values: output_value's words for what a dict output cannot hold)
    return isinstance(a, (tuple, list)) and any(_holds_none(x) for x in a)


def _container_words(kind):
    return (f"Encountering a {kind} at the output of the tracer might cause the trace to be "
            f"incorrect, this is only valid if the container structure does not change based "
            f"on the module's inputs. Consider using a constant container instead (e.g. for "
            f"`list`, use a `tuple` instead. for `dict`, use a `NamedTuple` instead). If you "
            f"absolutely need this and know the side effects, pass strict=False to trace() "
            f"to allow this behavior.")


_erased = T.without_shapes


def output_value(rec, out, strict=True, where="output"):
    g = rec.graph
    if isinstance(out, Tensor):
        v = rec.env.get(id(out))
        if v is not None:
            check_not_fork_local(rec, v)
        v = v or rec.attr_value(out)
        if v is None:
            from .tracer import warn_at_user
            warn_at_user("the traced function returns a Tensor the trace could not record "
                         "(made outside the traced ops): it is returned as a constant",
                         ignored_in_library=False)
            v = rec.session.constant_tensor(rec, out)
        return v
    if is_traced_number(out) and id(rec) in out._values and isinstance(
            out._values[id(rec)].type, T.TensorType):
        return out._values[id(rec)]     # a size: the 0-dim tensor the trace has for it
    if is_traced_number(out) and id(rec) in out._values:
        # a traced size returned: a 0-dim tensor of it, as PyTorch's trace returns sizes
        # (prim::NumToTensor: int64 for an int, float64 for a float)
        from ..ops.namespace import _num_to_tensor
        ty = T.TensorType.of(_num_to_tensor(plain(out)))
        return g.insert_node("prim::NumToTensor", [out._values[id(rec)]],
                             output_types=[ty]).output
    if out is None and not strict:
        # a submodule's result may hold None (a PackedSequence without sorted_indices):
        # its graph returns the constant, as TorchScript's tracer records it
        return g.insert_constant(None)
    if isinstance(out, tuple):
        elems = [output_value(rec, x, strict, where) for x in out]
        return g.insert_node("prim::TupleConstruct", elems,
                             output_types=[T.TupleType(tuple(e.type for e in elems))]).output
    if isinstance(out, Future) and id(rec) in (getattr(out, "_trace", None) or {}):
        return out._trace[id(rec)]          # a Future a traced fork made
    if isinstance(out, list) and out and all(isinstance(x, Future) for x in out):
        elems = [output_value(rec, x, strict, where) for x in out]
        return g.insert_node("prim::ListConstruct", elems,
                             output_types=[T.ListType(elems[0].type)]).output
    if isinstance(out, list):
        if not all(isinstance(x, Tensor) or is_traced_number(x) and id(rec) in x._values
                   for x in out):       # (a traced size: returned as its 0-dim tensor)
            raise RuntimeError(_NOT_AN_OUTPUT)
        if strict:
            # (torch's tracer warns for a list, where it refuses a dict)
            from .tracer import warn_at_user
            warn_at_user(_container_words("list"))
        elems = [output_value(rec, x, strict, where) for x in out]
        return g.insert_node("prim::ListConstruct", elems,
                             output_types=[T.ListType(T.TENSOR)]).output
    if isinstance(out, dict):
        if strict:
            raise RuntimeError(_container_words("dict"))
        # (torch 2.13 first types the dict: values of two types are
        # "Found Tensor and Tuple[Tensor, Tensor]", before what it cannot output)
        words = [_type_words(x) for x in out.values()]
        for w in words[1:]:
            if w != words[0]:
                raise RuntimeError(f"Tracer cannot infer type of {out!r}\n:Dictionary inputs "
                                   f"to traced functions must have consistent type. Found "
                                   f"{words[0]} and {w}")
        for k, x in out.items():
            if not (isinstance(k, (str, Tensor)) and (isinstance(x, Tensor) or isinstance(
                    x, tuple) and all(isinstance(e, Tensor) for e in x))):
                raise RuntimeError(
                    f"the {where} ({{{', '.join(f'{k!r}: ...' for k in out)}}}) of traced "
                    f"region cannot be understood by the tracer, only outputs matching "
                    f"dict[Union[str, Tensor], Union[Tensor, Tuple[Tensor, ...]]] can be a "
                    f"dictionary output of a traced function (a "
                    f"{'key' if not isinstance(k, (str, Tensor)) else 'value'} is a "
                    f"{_type_words(k if not isinstance(k, (str, Tensor)) else x)})")
        items = []
        for k, x in out.items():
            # a Tensor key is the traced tensor, as in torch ({a: b, b: a})
            kv = output_value(rec, k, strict, where) if isinstance(k, Tensor) \
                else g.insert_constant(k)
            items += [kv, output_value(rec, x, strict, where)]
        first = next(iter(out), "")
        kt = T.TENSOR if isinstance(first, Tensor) else T.type_of_value(first)
        vals = [_erased(v.type) for v in items[1::2]]
        vt = vals[0] if vals else T.TENSOR
        if any(t != vt for t in vals):
            raise RuntimeError(f"the dict at the output holds values of different types "
                               f"({', '.join(sorted(set(map(str, vals))))}); a traced "
                               f"function's dict output needs values of one type")
        return g.insert_node("prim::DictConstruct", items,
                             output_types=[T.DictType(kt, vt)]).output
    raise RuntimeError(_NOT_AN_OUTPUT)


# (torch 2.13's words, which name neither the value nor its type)
_NOT_AN_OUTPUT = ("Only tensors, lists, tuples of tensors, or dictionary of tensors can be "
                  "output from traced functions")
