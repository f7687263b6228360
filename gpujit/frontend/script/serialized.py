"""The few names archive code uses beyond the script language.

`.code` spells every graph node as Python the frontend compiles back, except nodes that
have no Python spelling: those print as `ops.prim.<Kind>(...)` (prim::unchecked_cast of an
Optional refined by a condition the printer could not keep next to it,
prim::RaiseException, prim::NumToTensor, ...) and `uninitialized(T)`. gpujit.jit.load
compiles archive code in a namespace where these names resolve to PrimFunction markers;
compile_prim_call turns a call of one into its node. Ordinary scripted code never sees
them.
"""
from __future__ import annotations

import ast
import types

from ...ir import types as T

__all__ = ["PrimFunction", "ArchiveConstant", "archive_names", "compile_prim_call", "prim_function",
           "is_archive_code",
           "constants_namespace"]


class PrimFunction:
    """A graph node kind callable by name in archive code."""

    def __init__(self, kind: str):
        self.kind = kind

    def __repr__(self):
        return f"<graph op {self.kind}>"


class ArchiveConstant:
    """A tensor (or a str that is not ASCII) the code names as `CONSTANTS.c<k>`: a
    prim::Constant of the graph."""

    def __init__(self, value):
        self.value = value


def constants_namespace(tensors: dict):
    """`CONSTANTS` for archive code: c<k> -> ArchiveConstant."""
    ns = types.ModuleType("CONSTANTS")
    for k, v in tensors.items():
        setattr(ns, k, ArchiveConstant(v))
    return ns


class _OpsNamespace(types.ModuleType):
    """`ops.prim.X` -> PrimFunction("prim::X") (a module, so the frontend looks names up
    in it as in gpujit's own modules)."""

    def __init__(self, ns=None):
        super().__init__(f"ops.{ns}" if ns else "ops")
        self._ns = ns

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if self._ns is None:
            return _OpsNamespace(name)
        return PrimFunction(f"{self._ns}::{name}")


def archive_names() -> dict:
    from ...jit.futures import Future, fork
    from ...jit.awaits import _Await, _awaitable
    return {"ops": _OpsNamespace(), "uninitialized": PrimFunction("prim::Uninitialized"),
            "unchecked_cast": PrimFunction("prim::unchecked_cast"),
            "fork": fork, "Future": Future, "Await": _Await,
            "awaitable": _awaitable}     # (`aw = awaitable(__awaitable_function)`)


def _unchecked_cast(c, args, node):
    (v,) = args
    t = v.type
    if isinstance(t, T.OptionalType):
        return [t.elem]
    return [t]


def _raise(c, args, node):
    if len(args) not in (1, 2) or not all(isinstance(a.type, T.StrType) for a in args):
        c.error("ops.prim.RaiseException takes a message and an exception class name", node)
    return []


def _num_to_tensor(c, args, node):
    (v,) = args
    if not isinstance(v.type, (T.IntType, T.FloatType, T.BoolType, T.NumberType)):
        c.error(f"ops.prim.NumToTensor expects a number, got {v.type}", node)
    return [T.TENSOR]


def _add_stat_value(c, args, node):
    if not (isinstance(args[0].type, T.StrType) and isinstance(args[1].type, T.IntType)):
        c.error(f"AddStatValue takes a str key and an int value, got "
                f"({args[0].type.annotation()}, {args[1].type.annotation()})", node)
    return []


def _wait(c, args, node):
    (fut,) = args
    if not isinstance(fut.type, T.FutureType):
        c.error(f"torch.wait expects a Future, got {fut.type.annotation()}", node)
    return [fut.type.elem]


def _awaitable_wait(c, args, node):
    (aw,) = args
    if not isinstance(aw.type, T.AwaitType):
        t = aw.type.annotation()
        c.error(f"prim::awaitable_wait(Await(t) self) -> t: Could not match type {t} to "
                f"Await[t] in argument 'self': Cannot match an Await to {t}", node)
    return [aw.type.elem]


_RULES = {
    "prim::awaitable_wait": (1, _awaitable_wait),
    "prim::awaitable_nowait": (1, lambda c, a, n: [T.AwaitType(a[0].type)]),
    "prim::unchecked_cast": (1, _unchecked_cast),
    "prim::unchecked_unwrap_optional": (1, _unchecked_cast),
    "aten::__is__": (2, lambda c, a, n: [T.BOOL]),
    "aten::__isnot__": (2, lambda c, a, n: [T.BOOL]),
    "prim::RaiseException": (None, _raise),
    "prim::NumToTensor": (1, _num_to_tensor),
    "prim::dtype": (1, lambda c, a, n: [T.INT]),     # (an int in TorchScript)
    "prim::device": (1, lambda c, a, n: [T.DEVICE]),
    "prim::requires_grad": (1, lambda c, a, n: [T.BOOL]),
    "prim::data": (1, lambda c, a, n: [T.TENSOR]),
    "prim::grad": (1, lambda c, a, n: [T.TENSOR]),
    "prim::is_leaf": (1, lambda c, a, n: [T.BOOL]),
    "prim::retains_grad": (1, lambda c, a, n: [T.BOOL]),
    "prim::itemsize": (1, lambda c, a, n: [T.INT]),
    "prim::nbytes": (1, lambda c, a, n: [T.INT]),
    "prim::layout": (1, lambda c, a, n: [T.INT]),
    "prim::AddStatValue": (2, _add_stat_value),
    "prim::TimePoint": (0, lambda c, a, n: [T.INT]),
    "aten::wait": (1, _wait),
}


# prim:: ops of TorchScript that are aten:: ops of gpujit's registry (`ops.prim.is_cuda(x)`)
_ATEN_SPELLED = {f"prim::{n}": f"aten::{n}" for n in (
    "is_cuda", "is_cpu", "is_xla", "is_xpu", "is_ipu", "is_mps", "is_maia", "is_mtia", "is_meta",
    "is_mkldnn", "is_quantized", "is_sparse", "is_sparse_csr", "is_vulkan", "is_nested")}


_IDENTITY = {"__is__": "aten::__is__", "__isnot__": "aten::__isnot__",
             "__contains__": "aten::__contains__", "wait": "aten::wait",
             # (TorchScript's aten::is_leaf / retains_grad: gpujit's prim:: ops)
             "is_leaf": "prim::is_leaf", "retains_grad": "prim::retains_grad"}


def is_archive_code(c) -> bool:
    """Is c compiling archive code (gpujit.jit.load), whose namespace names `ops`?"""
    found, obj = c.py_object(ast.Name(id="ops", ctx=ast.Load()))
    return found and isinstance(obj, _OpsNamespace)


def prim_function(c, func):
    """The PrimFunction a call's callee names (`ops.prim.X`, `uninitialized`, and
    `torch.__is__` / `torch.__isnot__` as TorchScript's .code spells `is`, `torch.wait`
    its wait), or None."""
    if isinstance(func, ast.Attribute) and func.attr in _IDENTITY:
        found, mod = c.py_object(func.value)
        if found and getattr(mod, "__name__", None) == "gpujit":
            return PrimFunction(_IDENTITY[func.attr])
    found, obj = c.callee_object(func)
    return obj if found and isinstance(obj, PrimFunction) else None


def compile_prim_call(c, fn: PrimFunction, node: ast.Call):
    """The value of `ops.prim.X(args)` / `uninitialized(T)` in archive code."""
    kind = fn.kind
    if kind == "prim::Uninitialized":
        if len(node.args) != 1 or node.keywords:
            c.error("uninitialized() takes one type", node)
        return c.emit(kind, [], [c.annotation(node.args[0])]).output
    if kind == "prim::unchecked_cast" and isinstance(node.func, ast.Name) and \
            len(node.args) == 2 and not node.keywords:
        # TorchScript's spelling of a refinement: unchecked_cast(int, y)
        v = c.expr(node.args[1])
        return c.emit(kind, [v], [c.annotation(node.args[0])]).output
    if kind == "prim::unchecked_cast" and len(node.args) == 2 and not node.keywords:
        # a cast to or from a Union says its type: ops.prim.unchecked_cast(x, int)
        v = c.expr(node.args[0])
        return c.emit(kind, [v], [c.annotation(node.args[1])]).output
    if kind in ("prim::Enter", "prim::Exit") and len(node.args) == 1 and \
            [k.arg for k in node.keywords] == ["name"]:
        # the markers around the body of `with obj:` (the object whose __exit__ runs if
        # the body raises), as saved code spells them: ops.prim.Enter(obj, name="with")
        from ...runtime.objects import OBJECT_REGION
        v = c.expr(node.args[0])
        name = node.keywords[0].value
        if not (isinstance(name, ast.Constant) and name.value == OBJECT_REGION) or \
                not isinstance(v.type, T.ClassType):
            c.error(f"{kind} takes an object and name={OBJECT_REGION!r}", node)
        c.emit(kind, [v], [], attrs={"name": OBJECT_REGION})
        return c.const(None)
    if kind in ("prim::min", "prim::max") and not node.keywords:
        # ops.prim.max(a, b) / ops.prim.max(xs) / ops.prim.max(xs, ys): TorchScript's
        # .code for max(...), compiled as the builtin is (the same overload)
        v = c.min_max(kind[6:], [c.expr(a) for a in node.args], node)
        if v is None:
            c.error(f"{kind} takes two numbers, a list or two lists", node)
        return v
    if kind == "aten::__contains__":
        # torch.__contains__(c, x): TorchScript's .code for `x in c`, compiled as `in` is
        if len(node.args) != 2 or node.keywords:
            c.error("torch.__contains__ takes a container and a value", node)
        return c.contains(c.expr(node.args[0]), c.expr(node.args[1]), node)
    rule = _RULES.get(kind)
    from ...ops import registry as _reg
    if kind in _ATEN_SPELLED and not node.keywords:
        # a prim:: node of TorchScript that is an aten:: op of gpujit's registry
        kind = _ATEN_SPELLED[kind]
        return c.emit_call(list(_reg.OVERLOADS[kind]), [c.expr(a) for a in node.args], {},
                           node, kind)
    if rule is None and kind in _reg.OVERLOADS and not node.keywords:
        # a registry op named prim:: (prim::index of a Device): chosen by the arguments
        return c.emit_call(list(_reg.OVERLOADS[kind]), [c.expr(a) for a in node.args], {},
                           node, kind)
    if rule is None:
        c.error(f"this code calls the graph op {kind}, which gpujit cannot compile from "
                f"source", node, hint="the archive was written by another gpujit version")
    arity, out_types = rule
    if node.keywords:
        c.error(f"{kind} takes no keyword arguments", node)
    args = [c.expr(a) for a in node.args]
    if arity is not None and len(args) != arity:
        c.error(f"{kind} takes {arity} argument(s), got {len(args)}", node)
    types = out_types(c, args, node)
    n = c.emit(kind, args, types)
    if kind == "prim::RaiseException":
        # a raise of the saved program (torch's: a raise or assert of its source): it
        # raises TorchScript's error, its frame the archive's code line
        from .statements import RAISE_SPAN
        n.meta[RAISE_SPAN] = None
    return n.output if types else c.const(None)


class ArchiveMethod:
    """A method of a script class read from an archive, in its class's dict: read on the
    class (what the frontend compiles, `Cls.method`) it is the archive's function; read on
    an object (`obj.encode(s)`, `len(obj)`, `x in obj`, `Cls(args)`'s __init__) it is the
    compiled method bound to that object, so a call from Python runs the method's graph
    with TorchScript's semantics. (The archive's code is TorchScript's printed IR, whose
    builtins, torch.len / torch.append / torch.__contains__, are no Python.)"""

    def __init__(self, fn):
        self.fn = fn
        self.__name__, self.__qualname__ = fn.__name__, fn.__qualname__
        self.__doc__ = fn.__doc__
        self._method = None        # the compiled method, unbound (its executable shared)

    def __set_name__(self, owner, name):
        self.__qualname__ = f"{owner.__qualname__}.{name}"
        self.fn.__qualname__ = self.__qualname__

    def __get__(self, obj, cls=None):
        if obj is None:
            return self.fn
        import copy
        m = self._method
        if m is None:
            from ...jit.objects import ScriptMethod, python_defaults
            from .classes import script_class
            graph = script_class(type(obj)).method_graph(self.fn.__name__)
            m = self._method = ScriptMethod(None, graph, self.fn.__name__)
            m._defaults = python_defaults(self.fn)
        m._get_executable()         # (made once: every bound copy shares it)
        bound = copy.copy(m)
        bound.owner = obj
        return bound


def archive_function(raw):
    """The function a class attribute read statically stands for (an ArchiveMethod's
    archive function), else the attribute itself."""
    return raw.fn if isinstance(raw, ArchiveMethod) else raw
