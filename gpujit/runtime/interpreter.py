"""The reference interpreter: runs a graph node by node on Tensors and Python values.

It is the executor's yardstick (tests compare the generated code with it) and its
profiler: given a `Profile`, it records the runtime type of every Value it computes, which
is what the executor specializes its generated code on (see runtime/profile.py). Every aten
node calls its registry op's `eager` entry point with the node's inputs in schema order, so
the interpreter computes exactly what eager gpujit computes.
"""
from __future__ import annotations

import enum as _enum
import functools
import operator
import warnings

from ..ops import registry as _reg

import builtins

import numpy as np

from .. import dtypes as _dt
from .percent_format import percent_format
from .script_text import script_str
from ..device import cpu as _cpu
from ..ir import types as T
from ..ir.parser import parse_type
from ..ops.registry import wrap as _wrap
from . import future_nodes as _future_nodes

__all__ = ["interpret", "InterpreterError", "Error", "exception_for", "callee_graph", "call_inputs",
           "is_dynamic_call", "dynamic_callee",
           "num_to_tensor", "PRIM_HANDLERS", "CONTAINER_OPS", "KeyErrorAt",
           "isinstance_test"]


class InterpreterError(RuntimeError):
    """A graph the interpreter cannot run (an unknown node kind, an op without overload)."""


def interpret(graph, *args, profile=None):
    """Run `graph` on `args` (Tensors and Python values; a module object first when the
    graph's first input is a module) and return its output (a tuple for several)."""
    if len(args) != len(graph.inputs):
        raise TypeError(f"the graph takes {len(graph.inputs)} inputs but {len(args)} were "
                        f"given")
    env = dict(zip(graph.inputs, args))
    if profile is not None:
        profile.runs += 1
        for v, a in zip(graph.inputs, args):
            profile.observe(v, a)
    try:
        outs = _run_block(graph.block, env, profile)
    except BaseException:
        from .objects import ENTERED, unwind_with
        if env.get(ENTERED):            # `with obj:` bodies left by the exception
            unwind_with(env[ENTERED])
        if env.get("grad_modes"):       # no_grad / enable_grad regions left by it: the
            from ..autograd.grad_mode import state      # mode before the outermost one
            state.enabled = env["grad_modes"][0]
        if env.get("autocast_states"):  # autocast regions left by the exception
            from .objects import unwind_autocast
            unwind_autocast(env["autocast_states"])
        raise
    # (a scripted torch.set_grad_enabled(b) outlives the call, as eager's and
    # TorchScript's do)
    return pack_outputs(outs)


def pack_outputs(outs):
    """A graph's outputs as its caller sees them: nothing, one value, or a tuple."""
    if len(outs) == 1:
        return outs[0]
    return tuple(outs) if outs else None


def _run_block(block, env, profile):
    if profile is not None:
        profile.enter(block)
    for node in block.nodes:
        handler = PRIM_HANDLERS.get(node.kind)
        if handler is not None:
            results = handler(node, env, profile)
        elif node.kind.startswith("aten::"):
            results = _run_aten(node, env)
        else:
            raise InterpreterError(f"the interpreter cannot run {node.kind} nodes "
                                   f"({node!r})")
        if results is not None:
            for v, r in zip(node.outputs, results):
                env[v] = r
                if profile is not None:
                    profile.observe(v, r)
    return [env[v] for v in block.outputs]


def _run_aten(node, env):
    op = node.op
    if op is None and node.kind in CONTAINER_OPS:
        r = CONTAINER_OPS[node.kind][0](*[env[v] for v in node.inputs])
        return (r,) if node.outputs else None
    if op is None:
        types = ", ".join(str(v.type) for v in node.inputs)
        raise InterpreterError(f"no registry op {node.kind} takes ({types})")
    args = [env[v] for v in node.inputs]
    params = op.schema.arguments
    args += [p.default for p in params[len(args):]]
    r = _reg.dispatch_state.compute(op, args)     # eager, recording gradients when on
    n = len(node.outputs)
    if n == 1:
        return (tuple(r) if len(op.schema.returns) > 1 else r,)
    if n == 0:
        return None
    return tuple(r)


def _set_item(c, k, v):
    c[k] = v
    return c


# The container ops below run Python's own operation. Those that can fail on a bad index,
# key or element take the scripted source line as a last argument (`where`, a str the
# frontend adds) and re-raise Python's error naming it, as a compile error would.

class KeyErrorAt(KeyError, RuntimeError):
    """A KeyError whose message reads as text (KeyError's own str() is its key's repr).
    Also a RuntimeError, as TorchScript's failed dict lookups are (`except KeyError` and
    `except RuntimeError` both catch it)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _located(e, where):
    """Python's IndexError / KeyError / ValueError e, with the scripted line it came from."""
    cls = KeyErrorAt if isinstance(e, KeyError) else type(e)
    return cls(f"{e.args[0] if e.args else e}\n  in scripted code at {where}")


def _percent_format(fmt, where, *args):
    try:
        return percent_format(fmt, *args)
    except RuntimeError as e:
        raise _located(e, where) from None


def _missing(c, k, pop=False):
    """The error of a failed c[k] / c.pop(k), in Python's words plus the index and
    length ("list index out of range (index 5, length 2)", "pop from empty list")."""
    if isinstance(c, dict):
        return KeyError(f"key {k!r} is not in the dict")
    if pop and not c and k == -1:
        return IndexError("pop from empty list")
    what = "string" if isinstance(c, str) else "list"
    return IndexError(f"{what} index out of range (index {k}, length {len(c)})")


def _getitem(c, k, where=None):
    try:
        return c[k]
    except (IndexError, KeyError):
        if where is None:
            raise
        raise _located(_missing(c, k), where) from None


def _pop(c, k, where=None):
    try:
        return c.pop(k)
    except (IndexError, KeyError):
        if where is None:
            raise
        raise _located(_missing(c, k, pop=True), where) from None


def _popitem(d, where=None):
    """dict.popitem(): the last inserted (key, value) pair, removed."""
    try:
        return d.popitem()
    except KeyError:
        if where is None:
            raise
        raise _located(KeyError("popitem(): dictionary is empty"), where) from None


def _remove(c, x, where=None):
    try:
        c.remove(x)
    except (ValueError, KeyError):
        if where is None:
            raise
        if isinstance(c, set):
            raise _located(KeyError(f"remove(x): {x!r} is not in the set"), where) from None
        raise _located(ValueError(f"list.remove(x): x not in list (x = {x!r})"),
                       where) from None
    return c


def _append(lst, x):
    lst.append(x)
    return lst


def _extend(c, other):
    """list.extend / set.update: all of another container's elements added."""
    if isinstance(c, set):
        c.update(other)
    else:
        c.extend(other)
    return c


def _insert(c, i, x):
    c.insert(i, x)
    return c


def _tolist(t, dim=None, kind=None):
    """x.tolist() for an annotated `dim`-deep list of `kind` (TorchScript's prim::tolist
    checks both against the Tensor it gets)."""
    if dim is not None:
        a = getattr(t, "_data", t)           # the array (generated code passes it raw)
        if a.ndim != dim:
            raise RuntimeError(f"Output annotation list dimension and runtime tensor "
                               f"dimension must match for tolist() (annotated {dim}, the "
                               f"Tensor has {a.ndim})")
        k = a.dtype.kind
        has = "bool" if k == "b" else "float" if k == "f" else "int" if k in "iu" else k
        if has != kind:
            raise RuntimeError(f"Output annotation element type and runtime tensor element "
                               f"type must match for tolist() (annotated {kind}, the "
                               f"Tensor's are {has})")
    return t.tolist()


def _clear(c):
    c.clear()
    return c


def _slice(c, start, end, step):
    return c[start:end:step]


def _new_set(*xs):
    return set(xs[0]) if xs else set()


def _format(fmt, *args):
    return fmt.format(*args)


# Python's own list/dict/set/str operations on container values (TorchScript's
# aten::__getitem__.t, aten::__getitem__.Dict_str, aten::append.t, ...), for the nodes no
# registry op takes: kind -> (function, the expression the executor writes, over {0}, {1};
# used only for a node with exactly as many inputs as the expression names)
CONTAINER_OPS = {
    # `x is None` on an Optional: no text form (inlined constants would read `2 is None`)
    "aten::__is__": (operator.is_, None),
    "aten::__isnot__": (operator.is_not, None),
    "aten::__getitem__": (_getitem, "{0}[{1}]"),
    "aten::__contains__": (lambda c, k: k in c, "{1} in {0}"),
    "aten::len": (len, "len({0})"),
    "aten::keys": (lambda d: list(d.keys()), "list({0}.keys())"),
    "aten::values": (lambda d: list(d.values()), "list({0}.values())"),
    "aten::items": (lambda d: list(d.items()), "list({0}.items())"),
    "aten::list": (list, "list({0})"),
    "aten::tolist": (_tolist, "{0}.tolist()"),
    "aten::append": (_append, None),
    "aten::_set_item": (_set_item, None),
    "aten::pop": (_pop, None),
    "aten::remove": (_remove, None),
    "aten::popitem": (_popitem, None),
    "aten::extend": (_extend, None),
    "aten::insert": (_insert, None),
    "aten::clear": (_clear, None),
    "aten::copy": (lambda c: c.copy(), "{0}.copy()"),
    "aten::count": (lambda c, x: c.count(x), "{0}.count({1})"),
    "aten::sorted": (lambda c, reverse: sorted(c, reverse=reverse),
                     "sorted({0}, reverse={1})"),
    "aten::reversed": (lambda c: c[::-1], "{0}[::-1]"),
    "aten::slice": (_slice, "{0}[{1}:{2}:{3}]"),
    "aten::set": (_new_set, None),
    "aten::min": (min, "min({0})"),
    "aten::max": (max, "max({0})"),
    "aten::any": (any, "any({0})"),          # any(xs) / all(xs) of ints, floats or strs
    "aten::all": (all, "all({0})"),
    # Python's operators: list + list, list * int, str + str, set | & - ^ set
    "aten::add": (operator.add, "({0} + {1})"),
    "aten::mul": (operator.mul, "({0} * {1})"),
    "aten::sub": (operator.sub, "({0} - {1})"),
    "aten::__or__": (operator.or_, "({0} | {1})"),
    "aten::__and__": (operator.and_, "({0} & {1})"),
    "aten::__xor__": (operator.xor, "({0} ^ {1})"),
    "aten::format": (_format, None),
    "aten::percentFormat": (_percent_format, None),
    "aten::str": (script_str, None),        # (Enum members as TorchScript writes them)
    "aten::sum": (sum, "sum({0})"),
    "aten::enumerate": (lambda c, start: list(enumerate(c, start)),
                        "list(enumerate({0}, {1}))"),
    "aten::zip": (lambda *cs: list(zip(*cs)), None),
}


# --------------------------------------------------------------------------------------
# prim:: nodes; each handler returns the tuple of output values (or None)

def _constant(node, env, profile):
    return (node.attrs.get("value"),)


def _list_construct(node, env, profile):
    return ([env[v] for v in node.inputs],)


def _tuple_construct(node, env, profile):
    return (tuple(env[v] for v in node.inputs),)


def _unpacked(seq, node, kind):
    if len(seq) != len(node.outputs):
        raise ValueError(f"{kind}: expected {len(node.outputs)} values to unpack, got "
                         f"{len(seq)}")
    return tuple(seq)


def _unpack(node, env, profile):
    return _unpacked(env[node.inputs[0]], node, node.kind)


def _constant_chunk(node, env, profile):
    """prim::ConstantChunk[chunks=c, dim=d](%x): x.chunk(c, d) unpacked (inside fusion
    groups, fusers/chunks.py)."""
    parts = env[node.inputs[0]].chunk(node.attrs["chunks"], node.attrs["dim"])
    return _unpacked(parts, node, "prim::ListUnpack")


def _fused_concat(node, env, profile):
    """prim::FusedConcat[dim=d](%a, %b, ...): torch.cat([a, b, ...], d) (inside fusion
    groups, fusers/chunks.py)."""
    import gpujit
    return (gpujit.cat([env[v] for v in node.inputs], node.attrs["dim"]),)


def _tuple_index(node, env, profile):
    return (env[node.inputs[0]][env[node.inputs[1]]],)


def _dict_construct(node, env, profile):
    vals = [env[v] for v in node.inputs]
    return (dict(zip(vals[0::2], vals[1::2])),)


def _get_attr(node, env, profile):
    return (getattr(env[node.inputs[0]], node.attrs["name"]),)


def _set_attr(node, env, profile):
    setattr(env[node.inputs[0]], node.attrs["name"], env[node.inputs[1]])
    return None


def _if(node, env, profile):
    block = node.blocks[0] if env[node.inputs[0]] else node.blocks[1]
    return tuple(_run_block(block, env, profile))


def _loop(node, env, profile):
    trip, cond = env[node.inputs[0]], env[node.inputs[1]]
    carried = [env[v] for v in node.inputs[2:]]
    body = node.blocks[0]
    i = 0
    while cond and i < trip:
        env[body.inputs[0]] = i
        for v, c in zip(body.inputs[1:], carried):
            env[v] = c
        if profile is not None:
            for v in body.inputs:
                profile.observe(v, env[v])
        outs = _run_block(body, env, profile)
        cond, carried = outs[0], outs[1:]
        i += 1
    return tuple(carried)


class Error(Exception):
    """An exception raised by scripted code (`raise`, a failed `assert`): torch.jit.Error.
    What scripted code raises is also an instance of the Python class it names, so
    `except AssertionError` and `except torch.jit.Error` both catch a failed assert."""


Error.__module__ = "gpujit.jit"


_RAISED: dict = {}      # builtin exception class -> its subclass that is also an Error


def _raised_class(cls):
    sub = _RAISED.get(cls)
    if sub is None:
        sub = type(cls.__name__, (cls, Error), {"__module__": cls.__module__,
                                                 "__qualname__": cls.__qualname__})
        sub = _RAISED.setdefault(cls, sub)
    return sub


@functools.lru_cache(maxsize=256)
def _exception_class(name):
    """The exception class 'builtins.ValueError' / 'ValueError' / 'pkg.mod.MyError' names
    (a user's class by importing its module), or None."""
    import importlib
    import sys
    parts = name.split(".")
    found = None
    if len(parts) == 1 or parts[0] == "builtins":
        found = getattr(builtins, parts[-1], None)
    for i in range(len(parts) - 1, 0, -1):     # the longest importable module prefix
        if found is not None:
            break
        mod = ".".join(parts[:i])
        try:
            found = sys.modules.get(mod) or importlib.import_module(mod)
        except Exception:
            continue
        for part in parts[i:]:
            found = getattr(found, part, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def exception_for(msg, cls_name=None, where=None):
    """The exception prim::RaiseException raises: the named builtin exception class
    ('builtins.ValueError' or 'ValueError'), RuntimeError otherwise, also a jit Error;
    `where` (the scripted line, see raise_location) follows the message, as TorchScript's
    traceback does."""
    cls = RuntimeError
    if isinstance(cls_name, str) and cls_name:
        found = _exception_class(cls_name)
        if found is not None:
            cls = found
        elif "." in cls_name and not cls_name.startswith("builtins."):
            msg = f"{cls_name}: {msg}"        # a class that cannot be found: its name
    if where:
        msg = f"{msg}\n  in scripted code at {where}"
    if not issubclass(cls, Exception):      # SystemExit & co. stay what they are
        return cls(msg)
    if issubclass(Error, cls):              # raise Exception(...)
        return Error(msg)
    try:
        return _raised_class(cls)(msg)
    except TypeError:   # a class that cannot be combined or made from a message alone
        return _raised_class(RuntimeError)(f"{cls.__name__}: {msg}")


def raise_location(node):
    """`file:line: source` of a node that raises, or None (nodes without a source range:
    parsed or traced graphs)."""
    sr = node.source_range
    if sr is None or not getattr(sr, "filename", None):
        return None
    text = (sr.text or "").strip()
    return f"{sr.filename}:{sr.line}: {text}" if text else f"{sr.filename}:{sr.line}"


def _raise(node, env, profile):
    vals = [env[v] for v in node.inputs]
    raise exception_for(*vals[:2], raise_location(node))


def callee_graph(node):
    """The graph a prim::CallFunction / prim::CallMethod node calls."""
    callee = node.meta.get("callee")
    if callee is not None:
        return getattr(callee, "graph", callee)
    if node.kind == "prim::CallMethod":
        methods = getattr(node.inputs[0].type, "methods", {}) or {}
        g = methods.get(node.attrs.get("name"))
        if g is not None:
            return getattr(g, "graph", g)
    raise InterpreterError(f"{node.kind} {node!r} names no callee: set node.meta['callee'] "
                           f"or give the class type a method graph")


def call_inputs(node, callee):
    """The inputs passed to the callee: a CallFunction's first input is the function
    value when the node has one input more than the callee takes."""
    ins = node.inputs
    if node.kind == "prim::CallFunction" and len(ins) == len(callee.inputs) + 1:
        return ins[1:]
    return ins


def is_dynamic_call(node) -> bool:
    """A prim::CallMethod on an interface-typed value: its callee is the method of the
    object found at run time (gpujit.jit.interface)."""
    return node.kind == "prim::CallMethod" and node.inputs and \
        getattr(node.inputs[0].type, "signatures", None) is not None and \
        node.meta.get("callee") is None


def dynamic_callee(obj, name):
    """The graph of method `name` of the scripted module (or object) `obj`."""
    m = (getattr(obj, "_script_methods", None) or {}).get(name)
    if m is None and not hasattr(obj, "_script_methods"):
        g = _object_method(obj, name)           # an object of a script class
        if g is not None:
            return g
    if m is None:
        raise InterpreterError(f"the {type(obj).__name__} held by an interface-typed value "
                               f"has no compiled method '{name}'")
    return m.graph


def _object_method(obj, name):
    """The graph of method `name` of an object of a script class (its ClassType, found
    by the object's Python class, holds the compiled methods)."""
    t = T.class_type_of_object(obj)
    if t is None:
        # a class no scripted code has named yet (a loaded model's object held by an
        # interface-typed attribute): compiled now, as its first use would
        from ..frontend.script.classes import is_scriptable_class, script_class
        if not is_scriptable_class(type(obj)):
            return None
        t = script_class(type(obj)).type
    return t.methods.get(name)


def _call(node, env, profile):
    if is_dynamic_call(node):
        obj = env[node.inputs[0]]
        g = dynamic_callee(obj, node.attrs["name"])
        out = interpret(g, obj, *[env[v] for v in node.inputs[1:]])
    else:
        g = callee_graph(node)
        out = interpret(g, *[env[v] for v in call_inputs(node, g)])
    if len(node.outputs) == 1 or not node.outputs:
        return (out,) if node.outputs else None
    return tuple(out)


_NUM_DTYPES = {bool: _dt.bool, int: _dt.int64, float: _dt.float64}


def num_to_tensor(v):
    """prim::NumToTensor: a 0-dim CPU tensor of a Python number (int -> int64, float ->
    float64, bool -> bool, as TorchScript's scalar_to_tensor)."""
    dt = _NUM_DTYPES.get(type(v))
    if dt is None:
        dt = _dt.from_numpy_dtype(np.asarray(v).dtype)
    return _wrap(np.asarray(v, dt.np), dt, _cpu)


def _num_to_tensor(node, env, profile):
    return (num_to_tensor(env[node.inputs[0]]),)


def _uninitialized(node, env, profile):
    return (None,)


def _identity(node, env, profile):
    return (env[node.inputs[0]],)


def _print(node, env, profile):
    print(*[env[v] for v in node.inputs])
    return None


_WARNED = object()     # the env key of the aten::warn nodes that have warned in this call


def _warn(node, env, profile):
    emit_warning(node, env[node.inputs[0]], env[node.inputs[1]] if len(node.inputs) > 1 else 2,
                 warned=env.setdefault(_WARNED, set()))
    return None


def emit_warning(node, message, stacklevel=2, warned=None):
    """aten::warn: a UserWarning attributed to the scripted source line (as TorchScript),
    from Python's stack when the node has no source. As TorchScript's interpreter (its
    warned nodes), a node warns once per call of the function it runs in: `warned` holds
    the nodes that already have, a warning in a loop shows on its first iteration only."""
    if warned is not None:
        if node in warned:
            return
        warned.add(node)
    sr = node.source_range
    if sr is not None and getattr(sr, "filename", None):
        warnings.warn_explicit(message, UserWarning, sr.filename, sr.line)
    else:
        warnings.warn(message, UserWarning, stacklevel=max(int(stacklevel), 1))


def _dtype(node, env, profile):
    return (env[node.inputs[0]].dtype,)


def _device(node, env, profile):
    return (env[node.inputs[0]].device,)


def _requires_grad(node, env, profile):
    return (bool(getattr(env[node.inputs[0]], "requires_grad", False)),)


def _data(node, env, profile):
    return (env[node.inputs[0]].data,)


def _grad(node, env, profile):
    return (env[node.inputs[0]].grad,)


def _autograd_grad(node, env, profile):
    """aten::grad: torch.autograd.grad from scripted code (a Tensor?[])."""
    from ..autograd import grad
    outs, ins, gouts, retain, create, unused = (env[v] for v in node.inputs)
    return (list(grad(list(outs), list(ins), None if gouts is None else list(gouts),
                      retain_graph=retain, create_graph=create, allow_unused=unused)),)


def _autograd_backward(node, env, profile):
    """aten::backward: Tensor.backward / torch.autograd.backward from scripted code."""
    from ..autograd import backward
    tensors, grads, retain, create = (env[v] for v in node.inputs)
    backward(list(tensors), None if grads is None else list(grads), retain_graph=retain,
             create_graph=create)
    return ()


def _requires_grad_(node, env, profile):
    t = env[node.inputs[0]]
    return (t.requires_grad_(bool(env[node.inputs[1]])),)


def _is_leaf(node, env, profile):
    return (env[node.inputs[0]].is_leaf,)


def _retains_grad(node, env, profile):
    return (env[node.inputs[0]].retains_grad,)


def _itemsize(node, env, profile):
    return (env[node.inputs[0]].itemsize,)


def _nbytes(node, env, profile):
    return (env[node.inputs[0]].nbytes,)


def _enum_name(node, env, profile):
    return (env[node.inputs[0]].name,)


def _enum_value(node, env, profile):
    return (env[node.inputs[0]].value,)


# --------------------------------------------------------------------------------------
# prim::isinstance[types=[...]](%x): which member of a Union (or Optional) x holds at run
# time. `types` lists the members the test accepts, as graph text (`int`, `Tensor`,
# `int[]`); the others are the rest of x's static type. Values may be boxed (Tensors, in
# this interpreter) or raw (arrays, in generated code): a Tensor member accepts both.

def _kind(v, has_bool):
    """The coarse class of a run-time value: 'int', 'float', 'str', 'Tensor', 'list', ...
    or its Python class. A bool is an 'int' unless the Union has a bool member (as
    Python's isinstance(True, int))."""
    t = type(v)
    if t is bool:
        return "bool" if has_bool else "int"
    if t in _BASIC_KINDS:
        return _BASIC_KINDS[t]
    if v is None:
        return "NoneType"
    if isinstance(v, (_reg._Tensor, np.ndarray)) or (
            t.__module__.startswith("cupy") and hasattr(v, "device")):
        return "Tensor"
    if isinstance(v, tuple) and not hasattr(v, "_fields"):
        return "tuple"
    if isinstance(v, _enum.Enum):           # (an `int, Enum` member is not an int here)
        return t
    for base, kind in ((int, "int"), (float, "float"), (str, "str"), (list, "list"),
                       (dict, "dict"), (set, "set")):
        if isinstance(v, base):
            return kind
    return t


_BASIC_KINDS = {int: "int", float: "float", str: "str", list: "list", dict: "dict",
                set: "set", tuple: "tuple"}


def _member_kind(m):
    if isinstance(m, T.TensorType):
        return "Tensor"
    if isinstance(m, T.EnumType):
        return m.py_class if m.py_class is not None else str(m)
    if isinstance(m, (T.ClassType, T.NamedTupleType)):
        from .objects import object_class
        return object_class(m)
    if isinstance(m, T.ListType):
        return "list"
    if isinstance(m, T.TupleType):
        return "tuple"
    if isinstance(m, T.DictType):
        return "dict"
    if isinstance(m, T.SetType):
        return "set"
    if isinstance(m, T.DeviceType):
        return type(_cpu)
    if isinstance(m, T.ScalarTypeType):
        return _dt.dtype
    if isinstance(m, T.FutureType):
        from ..jit.futures import Future
        return Future
    if isinstance(m, T.AwaitType):
        from ..jit.awaits import _Await
        return _Await
    return str(m)                    # int, float, bool, str, NoneType


def _matches(v, m):
    """Does the run-time value v hold a value of member type m (elements checked)?"""
    k = _kind(v, True)
    if isinstance(m, T.ListType):
        return k == "list" and all(_matches(x, m.elem) for x in v)
    if isinstance(m, T.TupleType) and not isinstance(m, T.NamedTupleType):
        return k == "tuple" and len(v) == len(m.elems) and all(
            _matches(x, e) for x, e in zip(v, m.elems))
    if isinstance(m, T.DictType):
        return k == "dict" and all(_matches(a, m.key) and _matches(b, m.value)
                                   for a, b in v.items())
    if isinstance(m, T.SetType):
        return k == "set" and all(_matches(x, m.elem) for x in v)
    if isinstance(m, T.OptionalType):
        return v is None or _matches(v, m.elem)
    if isinstance(m, T.AnyType):
        return True
    if isinstance(m, (T.FutureType, T.AwaitType)):      # its value's type, as it is known
        return isinstance(v, _member_kind(m)) and (
            isinstance(m.elem, T.AnyType) or v.element_type().is_subtype_of(m.elem))
    mk = _member_kind(m)
    return k == mk or (k == "bool" and mk == "int") or (
        isinstance(mk, type) and isinstance(v, mk))


@functools.lru_cache(maxsize=None)
def isinstance_test(static_type, accepted):
    """A predicate v -> bool for prim::isinstance: static_type is the input's graph-text
    type, accepted the node's `types`. Members are told apart by their coarse kind;
    elements are checked only where two members share one (List[int] / List[str]).
    `test.by_kind(v)` answers for all values of v's kind (None: it cannot)."""
    st = parse_type(static_type)
    if isinstance(st, T.AnyType):      # an Any value: the accepted types, elements and all
        yes = [parse_type(t) for t in accepted]

        def any_test(v):
            return any(_matches(v, m) for m in yes)
        any_test.by_kind = lambda v: None
        return any_test
    members = st.types if isinstance(st, T.UnionType) else \
        (st.elem, T.NONE) if isinstance(st, T.OptionalType) else \
        (T.INT, T.FLOAT) if isinstance(st, T.NumberType) else (st,)
    yes = [parse_type(t) for t in accepted]
    no = [m for m in members if m not in yes]
    has_bool = any(isinstance(m, T.BoolType) for m in members)
    yes_kinds = {_member_kind(m) for m in yes}
    no_kinds = {_member_kind(m) for m in no}
    shared = yes_kinds & no_kinds

    def test(v):
        k = _kind(v, has_bool)
        if k in shared or not isinstance(k, str):
            return any(_matches(v, m) for m in yes)
        return k in yes_kinds

    def by_kind(v):
        """The answer for every value of v's kind, or None when elements decide it."""
        k = _kind(v, has_bool)
        return None if k in shared or not isinstance(k, str) else k in yes_kinds
    test.by_kind = by_kind
    return test


def _isinstance(node, env, profile):
    test = isinstance_test(str(node.inputs[0].type), tuple(node.attrs["types"]))
    return (test(env[node.inputs[0]]),)


def _tensor_expr_group(node, env, profile):
    """prim::TensorExprGroup (an optimized graph run node by node: a call that records
    gradients): the runner the executor attached to the node (its FusedGroup, recording
    one backward node), else the group's ops one by one."""
    args = [env[v] for v in node.inputs]
    runner = node.meta.get(GROUP_RUNNER)
    if runner is not None:
        return runner(args)
    from ..fusers.subgraph import subgraph_of
    out = interpret(subgraph_of(node), *args)
    return out if len(node.outputs) > 1 else (out,)


GROUP_RUNNER = "group_runner"      # node.meta key of a group node's runner


PRIM_HANDLERS = {
    "prim::isinstance": _isinstance, "prim::TensorExprGroup": _tensor_expr_group,
    "prim::Constant": _constant, "prim::ListConstruct": _list_construct,
    "prim::TupleConstruct": _tuple_construct, "prim::TupleUnpack": _unpack,
    "prim::ListUnpack": _unpack, "prim::TupleIndex": _tuple_index,
    "prim::ConstantChunk": _constant_chunk, "prim::FusedConcat": _fused_concat,
    "prim::DictConstruct": _dict_construct, "prim::GetAttr": _get_attr,
    "prim::SetAttr": _set_attr, "prim::If": _if, "prim::Loop": _loop,
    "prim::RaiseException": _raise, "prim::CallFunction": _call,
    "prim::CallMethod": _call, "prim::NumToTensor": _num_to_tensor,
    "prim::Uninitialized": _uninitialized, "prim::unchecked_cast": _identity,
    "prim::Print": _print, "aten::warn": _warn, "prim::dtype": _dtype, "prim::device": _device,
    "prim::requires_grad": _requires_grad, "prim::data": _data, "prim::grad": _grad,
    "prim::is_leaf": _is_leaf, "prim::retains_grad": _retains_grad,
    "prim::itemsize": _itemsize, "prim::nbytes": _nbytes,
    "prim::EnumName": _enum_name, "prim::EnumValue": _enum_value,
    "aten::grad": _autograd_grad, "aten::backward": _autograd_backward,
    "aten::requires_grad_": _requires_grad_, **_future_nodes.HANDLERS,
}
