"""Objects, NamedTuples, Python calls and region markers at run time: the reference
interpreter's handlers for the nodes script classes, NamedTuples, `@ignore` and
`with gpujit.strict_fusion():` add to graphs (the generated code's side is in codegen.py).

- `prim::CreateObject` -> an instance of the class's Python type, made without running
  its Python `__init__` (the graph's own __init__ sets the attributes), so Python code
  that receives the object sees an ordinary instance of the user's class;
- `prim::TupleConstruct` of a NamedTuple type -> the user's NamedTuple class;
- `prim::PythonOp` -> the Python callable in `node.meta["python"]`, called with the
  values as eager code holds them;
- `prim::Enter` / `prim::Exit` (strict_fusion regions) -> nothing at run time.

Importing this module registers the handlers in the interpreter's PRIM_HANDLERS (the
runtime package imports it through codegen.py).
"""
from __future__ import annotations

from ..ir import types as T
from .interpreter import PRIM_HANDLERS, InterpreterError

__all__ = ["new_object", "object_class", "python_callable", "namedtuple_class",
           "REGION_KINDS"]

REGION_KINDS = ("prim::Enter", "prim::Exit")


def _python_class(t):
    cls = getattr(t, "py_class", None)
    if cls is None:                          # a parsed graph: the registered type has it
        cls = getattr(T.class_type(str(t)), "py_class", None)
    return cls


def object_class(t):
    """The Python class of ClassType t (an error when this process does not know it)."""
    cls = _python_class(t)
    if cls is None:
        raise InterpreterError(f"prim::CreateObject: the class {t} is not known in this "
                               f"process (script the Python class first)")
    return cls


def new_object(t):
    """A fresh, attribute-less instance of the class of ClassType t."""
    cls = object_class(t)
    return cls.__new__(cls)


def namedtuple_class(t):
    """The Python class of a NamedTuple type (None for a plain tuple type)."""
    if isinstance(t, T.NamedTupleType):
        return _python_class(t)
    return None


def python_callable(node):
    """The Python function a prim::PythonOp calls (an @ignore'd function); where its
    arguments may hold lists or dicts, wrapped to pass copies, as TorchScript converts
    its Lists / Dicts into new Python ones (an @ignore'd `xs.append(99)` leaves the
    scripted list alone, torch 2.13)."""
    fn = node.meta.get("python")
    if fn is None:
        raise InterpreterError(f"prim::PythonOp[name={node.attrs.get('name')!r}] has no "
                               f"Python function (graphs that call Python cannot be "
                               f"rebuilt from text or saved)")
    from .arguments import holds_container, copied, coerce_return
    at = [k for k, v in enumerate(node.inputs) if holds_container(v.type)]
    # the result must be of the declared type (TorchScript converts it, or raises): the
    # code that follows relies on it
    out_t = node.outputs[0].type if len(node.outputs) == 1 else None
    if isinstance(out_t, T.AnyType):
        out_t = None
    if not at and out_t is None:
        return fn

    def call(*args):
        if at:
            args = list(args)
            for k in at:
                args[k] = copied(args[k])
        r = fn(*args)
        return r if out_t is None else coerce_return(r, out_t)
    return call


def _create_object(node, env, profile):
    return (new_object(node.output.type),)


def _tuple_construct(node, env, profile):
    vals = [env[v] for v in node.inputs]
    cls = namedtuple_class(node.output.type)
    return (cls(*vals) if cls is not None else tuple(vals),)


def _python_op(node, env, profile):
    out = python_callable(node)(*[env[v] for v in node.inputs])
    return (out,) if node.outputs else None


_GRAD_REGIONS = {"no_grad": False, "enable_grad": True}
# the name of the prim::Enter / prim::Exit pair around the body of `with obj:` (a script
# class object): its input is the object, entered until the Exit
OBJECT_REGION = "with"


def unwind_with(entered):
    """The body of `with obj:` raised: call the __exit__ of each object still entered,
    innermost first (with None for the exception, as TorchScript's interpreter does); the
    caller then raises again."""
    while entered:
        entered.pop().__exit__(None, None, None)


# regions whose prim::Enter / prim::Exit take nothing and write nothing (alias analysis
# reads them as opaque writes of everything, which keeps nodes from moving across them)
_MARKER_REGIONS = frozenset({"strict_fusion", "no_grad", "enable_grad", "autocast"})


def marker_writes_nothing(node) -> bool:
    return node.kind in REGION_KINDS and not node.inputs and \
        node.attrs.get("name") in _MARKER_REGIONS


ENTERED = object()      # the env key of the objects a call has entered (interpret())


def open_record_function(name):
    """`with torch.autograd.profiler.record_function(name):` in scripted code entered: the
    profiler range, opened (an object whose __exit__ closes it, kept with the entered
    objects so that a raising body closes it too)."""
    from ..autograd.profiler import record_function
    rf = record_function(name)
    rf.__enter__()
    return rf


def _region_marker(node, env, profile):
    """strict_fusion regions do nothing at run time; no_grad / enable_grad regions switch
    gradient recording (interpret() restores the mode it started with); `with obj:`
    regions keep the entered objects for interpret() to exit if the body raises, as do
    record_function regions their profiler range."""
    from ..ir.python_printer import RECORD_FUNCTION_REGION
    if node.attrs.get("name") == RECORD_FUNCTION_REGION:
        if node.kind == "prim::Enter":
            env.setdefault(ENTERED, []).append(open_record_function(env[node.inputs[0]]))
        else:
            env[ENTERED].pop().__exit__(None, None, None)
        return None
    if node.attrs.get("name") == OBJECT_REGION:
        if node.kind == "prim::Enter":
            env.setdefault(ENTERED, []).append(env[node.inputs[0]])
        else:
            env[ENTERED].pop()
        return None
    if node.attrs.get("name") == "autocast":
        _autocast_marker(node, env)
        return None
    mode = _GRAD_REGIONS.get(node.attrs.get("name"))
    if mode is not None:
        from ..autograd.grad_mode import state
        if node.kind == "prim::Enter":
            env.setdefault("grad_modes", []).append(state.enabled)
            state.enabled = mode
        elif env.get("grad_modes"):
            state.enabled = env["grad_modes"].pop()
    return None


def unwind_autocast(states):
    """The body of a scripted autocast region raised: restore the eager autocast state it
    changed (the outermost one saved)."""
    saved = next((s for s in states if s is not None), None)
    states.clear()
    if saved is not None:
        from ..amp import autocast_mode as _am
        _am._state.enabled.update(saved[0])
        _am._state.dtype.update(saved[1])
        _am._install()


def _autocast_marker(node, env):
    """A scripted autocast region run node by node inside an eager autocast region (the
    only time the interpreter runs with autocast's dispatch hook on): the hook follows the
    scripted region while it is open (an enabled=False region turns it off for its
    device), as TorchScript's pass starts from the eager state. Outside eager regions
    the explicit casts the autocast pass inserted do all the work."""
    from ..amp import autocast_mode as _am
    stack = env.setdefault("autocast_states", [])
    if node.kind == "prim::Exit":
        saved = stack.pop() if stack else None
        if saved is not None:
            _am._state.enabled.update(saved[0])
            _am._state.dtype.update(saved[1])
            _am._install()
        return
    if not _am.active():
        stack.append(None)
        return
    st = _am._state
    stack.append((dict(st.enabled), dict(st.dtype)))
    dev = node.attrs["device_type"]
    st.enabled[dev] = bool(node.attrs["enabled"])
    if node.attrs["enabled"]:
        from .. import dtypes as _dt
        st.dtype[dev] = getattr(_dt, node.attrs["dtype"])
    _am._install()


PRIM_HANDLERS.update({
    "prim::CreateObject": _create_object,
    "prim::TupleConstruct": _tuple_construct,
    "prim::PythonOp": _python_op,
    "prim::Enter": _region_marker,
    "prim::Exit": _region_marker,
})
