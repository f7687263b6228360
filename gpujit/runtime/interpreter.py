"""The reference interpreter: runs a graph node by node on Tensors and Python values.

It is the executor's yardstick (tests compare the generated code with it) and its
profiler: given a `Profile`, it records the runtime type of every Value it computes, which
is what the executor specializes its generated code on (see runtime/profile.py). Every aten
node calls its registry op's `eager` entry point with the node's inputs in schema order, so
the interpreter computes exactly what eager gpujit computes.
"""
from __future__ import annotations

import functools
import warnings

from ..ops import registry as _reg

import builtins

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu
from ..ir import types as T
from ..ops.registry import wrap as _wrap
from ..ops.node_names import SCRIPTED as _SCRIPTED
from . import script_traceback as _script_tb
from .arguments import COPIED_ON_READ, set_live_attr
from .container_ops import CONTAINER_OPS, KeyErrorAt, container_op, node_location, tuple_item
from .isinstance_kinds import isinstance_test
from .script_text import script_print, script_str
from . import future_nodes as _future_nodes

_NUMBERS = (int, float, bool)

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
        unwind_regions(env)
        raise
    # (a scripted torch.set_grad_enabled(b) outlives the call, as eager's and
    # TorchScript's do)
    return pack_outputs(outs)


def unwind_regions(env):
    """A call run on env raised: leave the regions it is inside."""
    from .objects import ENTERED, unwind_with
    if env.get(ENTERED):            # `with obj:` bodies left by the exception
        unwind_with(env[ENTERED])
    if env.get("grad_modes"):       # no_grad / enable_grad regions left by it: the
        from ..autograd.grad_mode import state      # mode before the outermost one
        state.enabled = env["grad_modes"][0]
    if env.get("autocast_states"):  # autocast regions left by the exception
        from .objects import unwind_autocast
        unwind_autocast(env["autocast_states"])


def pack_outputs(outs):
    """A graph's outputs as its caller sees them: nothing, one value, or a tuple."""
    if len(outs) == 1:
        return outs[0]
    return tuple(outs) if outs else None


def _run_block(block, env, profile):
    if profile is not None:
        profile.enter(block)
    run_nodes(block.nodes, env, profile)
    return [env[v] for v in block.outputs]


def run_nodes(nodes, env, profile=None):
    """Run nodes (of one block, in order) on env, which they extend."""
    for node in nodes:
        if profile is not None and profile.identities and node in profile.identities:
            # (a profiling run: torch's PeepholeOptimize ran before it profiles, so its
            # first call records no node for `x * 1` / `x + 0` / `x - 0` either)
            xi, c = profile.identities[node]
            x = env[node.inputs[xi]]
            if isinstance(x, _Tensor()) and _identity_keeps(node.op, x.dtype, c):
                env[node.outputs[0]] = x
                profile.observe(node.outputs[0], x)
                continue
        handler = PRIM_HANDLERS.get(node.kind)
        if handler is not None:
            results = handler(node, env, profile)
        elif node.kind.startswith("aten::") or node.op is not None:   # (prim::max: a registry op)
            results = _run_aten(node, env)
        else:
            raise InterpreterError(f"the interpreter cannot run {node.kind} nodes "
                                   f"({node!r})")
        if results is not None:
            for v, r in zip(node.outputs, results):
                env[v] = r
                if profile is not None:
                    profile.observe(v, r)


def _Tensor():
    from ..tensor import Tensor
    return Tensor


def _identity_keeps(op, dt, c):
    from ..passes.peephole import identity_keeps
    return identity_keeps(op, dt, c)


def compute_scripted(op, args):
    """The registry op on args (schema order, defaults filled in) as scripted code runs it:
    eager, recording gradients when on; with a number operand recorded as PyTorch names the
    node of the Scalar overload TorchScript's matching picks (x * 2 is mul.Scalar's
    MulBackward1, eager's is mul.Tensor's MulBackward0: ops/node_names.py). A nested
    operand (or result) runs the op's nested kernel, as the public entry point does."""
    if op.out_of is not None:       # (an out= call: eager's checks first, grad mode on)
        from ..ops.out_variants import scripted_out_call
        return scripted_out_call(op, args, _compute_scripted)
    return _compute_scripted(op, args)


def _compute_scripted(op, args):
    ds = _reg.dispatch_state
    try:
        if ds.autograd is not None:
            for a in args:      # (a loop: no list made per call)
                if type(a) in _NUMBERS:
                    was, _SCRIPTED.on = _SCRIPTED.on, True
                    try:
                        return ds.compute(op, args)
                    finally:
                        _SCRIPTED.on = was
        return ds.compute(op, args)
    except _reg.NestedOperand as e:
        if e.op is not op:
            raise
        return _reg.sparse_call(e, args)


def _run_aten(node, env):
    op = node.op
    if op is None and node.kind in CONTAINER_OPS:
        r = container_op(node)[0](*[env[v] for v in node.inputs])
        return (r,) if node.outputs else None
    if op is None:
        types = ", ".join(str(v.type) for v in node.inputs)
        raise InterpreterError(f"no registry op {node.kind} takes ({types})")
    args = [env[v] for v in node.inputs]
    params = op.schema.arguments
    args += [p.default for p in params[len(args):]]
    r = compute_scripted(op, args)
    n = len(node.outputs)
    if n == 1:
        if len(op.schema.returns) > 1:
            return (tuple(r),)
        if type(r) is tuple and op.schema.returns[0].type.is_list:
            r = list(r)         # (a Tensor[] is a list in scripted code: append, xs[0] =)
        return (r,)
    if n == 0:
        return None
    return tuple(r)


# --------------------------------------------------------------------------------------
# prim:: nodes; each handler returns the tuple of output values (or None)

def _constant(node, env, profile):
    return (node.attrs.get("value"),)


def _list_construct(node, env, profile):
    return ([env[v] for v in node.inputs],)


def _tuple_construct(node, env, profile):
    return (tuple(env[v] for v in node.inputs),)


def unpack_message(node, found):
    """TorchScript's words for a prim::ListUnpack of `found` elements: its ConstantChunk's
    where the list is an aten::chunk's (torch's CanonicalizeOps makes one of the pair)."""
    n = len(node.outputs)
    if node.kind == "prim::ConstantChunk" or (
            node.inputs and node.inputs[0].node.kind == "aten::chunk"):
        return f"Expected chunk to return at least {n} outputs, but got only {found}"
    return f"Expected {n} elements in a list but found {found}"


def _unpacked(seq, node, kind):
    if len(seq) != len(node.outputs) and kind == "prim::ListUnpack":
        raise RuntimeError(unpack_message(node, len(seq)))
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
    if len(parts) != len(node.outputs):
        raise RuntimeError(unpack_message(node, len(parts)))
    return tuple(parts)


def _fused_concat(node, env, profile):
    """prim::FusedConcat[dim=d](%a, %b, ...): torch.cat([a, b, ...], d) (inside fusion
    groups, fusers/chunks.py)."""
    import gpujit
    return (gpujit.cat([env[v] for v in node.inputs], node.attrs["dim"]),)


def _tuple_index(node, env, profile):
    return (tuple_item(env[node.inputs[0]], env[node.inputs[1]]),)


def _dict_construct(node, env, profile):
    vals = [env[v] for v in node.inputs]
    return (dict(zip(vals[0::2], vals[1::2])),)


_MODULE_DICTS = ("_parameters", "_buffers", "_modules")


def read_attr(obj, name):
    """getattr(obj, name) of a module attribute: a parameter, buffer or submodule read
    from its dict (what Module.__getattr__ would find, without the failed normal lookup
    first)."""
    d = getattr(obj, "__dict__", None)
    if d is not None and name in COPIED_ON_READ:
        if name in d:
            return d[name]      # (the module's own list / dict: Python's reads copy it)
        for where in _MODULE_DICTS:
            table = d.get(where)
            if table is not None and name in table:
                return table[name]
    elif d is not None and name not in d and not hasattr(type(obj), name):
        for where in _MODULE_DICTS:
            table = d.get(where)
            if table is not None and name in table:
                return table[name]
    return getattr(obj, name)


def _get_attr(node, env, profile):
    return (read_attr(env[node.inputs[0]], node.attrs["name"]),)


def _set_attr(node, env, profile):
    set_live_attr(env[node.inputs[0]], node.attrs["name"], env[node.inputs[1]])
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


_AS_RUNTIME: dict = {}      # exception class -> its subclass that is also a RuntimeError

# an op's eager check of a None passed for a Tensor (`x.grad.sum()` where x has no gradient)
_NONE_FOR_TENSOR = None


def _none_for_tensor(e):
    """The args of TorchScript's error for an op given None for a Tensor in scripted code
    (torch 2.13: "Expected a proper Tensor but got None (or an undefined Tensor in C++)
    for argument #0 'self'", the schema's argument), when e is the eager op's TypeError
    for it ("sum(): argument 'input' (position 1) must be Tensor, not NoneType"); else
    None."""
    global _NONE_FOR_TENSOR
    if not isinstance(e, TypeError) or len(e.args) != 1 or not isinstance(e.args[0], str):
        return None
    if _NONE_FOR_TENSOR is None:
        import re
        _NONE_FOR_TENSOR = re.compile(r"(\w+)\(\): (?:argument '(\w+)' \(position (\d+)\) "
                                      r"must be Tensor, not NoneType|expected at least one "
                                      r"Tensor argument)")
    m = _NONE_FOR_TENSOR.fullmatch(e.args[0])
    if m is None:
        return None
    # (no Tensor at all, `x.grad + 1`: the first argument, as TorchScript checks it)
    k = int(m.group(3)) - 1 if m.group(3) else 0
    arg = next((op.schema.arguments[k].name for op in _reg.OVERLOADS.get(
        f"aten::{m.group(1)}", ()) if len(op.schema.arguments) > k and
        op.schema.arguments[k].type.base == "Tensor"), m.group(2) or "self")
    return (f"Expected a proper Tensor but got None (or an undefined Tensor in C++) for "
            f"argument #{k} '{arg}'",)


def as_runtime_error(e):
    """e, an exception leaving scripted code for its Python caller, as TorchScript's
    interpreter reports an op that failed: a RuntimeError (torch 2.13: `x[10]` of a 3-element
    tensor is an IndexError in eager code, RuntimeError "select(): index 10 out of range"
    from scripted code; an `@ignore`d function's ValueError too). gpujit keeps the class's
    behaviour: the exception returned is of a subclass of e's class and RuntimeError, so
    `except IndexError` and `except RuntimeError` both catch it (e's args, attributes,
    cause and traceback kept). What the program raises itself (`raise`, `assert`:
    torch.jit.Error), RuntimeErrors and what is no Exception (KeyboardInterrupt) are
    returned as they are (e itself), and so is an exception its class cannot be made again
    from its args."""
    cls = type(e)
    if isinstance(e, (RuntimeError, Error)) or not isinstance(e, Exception):
        return e
    args = _none_for_tensor(e) or e.args
    sub = _AS_RUNTIME.get(cls)
    if sub is None:
        body = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        if issubclass(cls, KeyError) and cls.__str__ is KeyError.__str__:
            body["__str__"] = KeyError.__str__
        try:
            sub = type(cls.__name__, (cls, RuntimeError), body)
        except TypeError:       # (a class that cannot be combined)
            sub = cls
        sub = _AS_RUNTIME.setdefault(cls, sub)
    if sub is cls:
        return e
    try:
        new = sub(*args)
    except Exception:
        return e
    if getattr(e, "__dict__", None):
        new.__dict__.update(e.__dict__)
    new.__cause__ = e.__cause__
    new.__suppress_context__ = True
    return new.with_traceback(e.__traceback__)


_RAISED: dict = {}      # builtin exception class -> its subclass that is also an Error


def _raised_class(cls):
    sub = _RAISED.get(cls)
    if sub is None:
        body = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        if issubclass(cls, KeyError) and cls.__str__ is KeyError.__str__:
            # a raised KeyError's message reads as text, as KeyErrorAt's and TorchScript's
            # ("builtins.KeyError: n=1"): KeyError's own str() is its argument's repr,
            # which wrote the scripted line that follows the message as '...\\n  in ...'
            body["__str__"] = KeyErrorAt.__str__
        sub = type(cls.__name__, (cls, Error), body)
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


# the head of TorchScript's interpreter error (torch 2.13's `str(e)` of what scripted code
# raises: this, the frame of the failing statement, then "<class>: <message>")
TORCHSCRIPT_TRACEBACK = ("The following operation failed in the TorchScript interpreter.\n"
                         "Traceback of TorchScript (most recent call last):\n")


def exception_for(msg, cls_name=None, where=None, traceback=True):
    """The exception prim::RaiseException raises, a jit Error (torch.jit.Error) that is also
    of the named builtin exception class ('builtins.ValueError' or 'ValueError'; a class
    that cannot be found or none named: RuntimeError, AssertionError for an assert's
    "AssertionError: ..." message). Its message is torch 2.13's: TORCHSCRIPT_TRACEBACK,
    `where` (the frame of the scripted statement, raise_location), then the class's
    qualified name ("RuntimeError" when none is named) and the message:
    "builtins.ValueError: x". traceback False: a raise the compiler made for an op's
    failure (torch.tensor of a ragged list), whose message is the op's, `where` (the
    scripted line) after it."""
    cls = RuntimeError
    if cls_name is None and isinstance(msg, str) and msg.startswith("AssertionError: "):
        # a failed assert (TorchScript's raise names no class: its message does; gpujit's
        # error is an AssertionError as well as a jit Error)
        cls = AssertionError
    named = isinstance(cls_name, str) and cls_name
    found = _exception_class(cls_name) if named else None
    if found is not None:
        cls = found
    if not traceback and where and where.startswith("  File "):
        # (an op's failure, as interpreter_error reports one: the frame, then its words)
        text = f"{TORCHSCRIPT_TRACEBACK}{where}\nRuntimeError: {msg}\n"
    elif not traceback:
        text = f"{msg}\n  in scripted code at {where}" if where else msg
        if named and found is None and "." in cls_name and \
                not cls_name.startswith("builtins."):
            text = f"{cls_name}: {text}"      # a class that cannot be found: its name
    else:
        text = f"{TORCHSCRIPT_TRACEBACK}{where + chr(10) if where else ''}" \
               f"{cls_name if named else 'RuntimeError'}: {msg}\n"
    if not issubclass(cls, Exception):      # SystemExit & co. stay what they are
        return cls(text)
    if issubclass(Error, cls):              # raise Exception(...)
        return Error(text)
    try:
        return _raised_class(cls)(text)
    except TypeError:   # a class that cannot be combined or made from a message alone
        return _raised_class(RuntimeError)(text)


def interpreter_error(e, nodes, unranged=False):
    """e, an exception an op of scripted code raised (nodes: the graph nodes whose run it
    left, outermost first, script_traceback.scripted_nodes), as torch 2.13's interpreter
    reports it: TORCHSCRIPT_TRACEBACK, a frame per scripted call on the way (an inlined
    function's call sites, then the op: each underlined where torch's range of it ends, a
    call at its callee's name, SourceRange.span), then "RuntimeError: <e's message>". Its
    class a subclass of e's and RuntimeError (`except IndexError` and `except
    RuntimeError` both catch `x[10]`'s), its args the text, its attributes, cause and
    traceback e's. e itself when it is no op's failure (what `raise` / `assert` raised,
    a report already, no node with a source range) or its class cannot be made again."""
    if isinstance(e, Error) or not isinstance(e, Exception):
        return e
    none = _none_for_tensor(e)          # (None for a Tensor: TorchScript's words)
    msg = none[0] if none else \
        str(e.args[0]) if isinstance(e, KeyError) and len(e.args) == 1 else str(e)
    if msg.startswith(TORCHSCRIPT_TRACEBACK):
        return e
    frames = []
    for node in nodes:
        ranges = []
        for sr in (*reversed(node.meta.get("inlined_at", ())), node.source_range):
            if sr is not None and getattr(sr, "filename", None) and \
                    (not ranges or ranges[-1] != sr):
                ranges.append(sr)
        # (a traced graph's node: the traced call's `file(line): function`, as torch's
        # report of traced code lists its recorded stack; scripted code's ranges have a span)
        frames += [frame_text(sr, sr.function, sr.span) if sr.span is not None else
                   f"{sr.filename}({sr.line}): {sr.function or '<unknown>'}" for sr in ranges]
    if not frames and not unranged:
        # (unranged: a node with no source range failed, a traced graph's ListUnpack of
        # `a, b = x.unbind(0)`: torch's report all the same, with no frame)
        return e
    head = TORCHSCRIPT_TRACEBACK
    import re
    archived = [re.match(r'  File "<[^:>]*:(code/[^>]*)>"', f) for f in frames]
    if any(archived):
        # a loaded archive's code: torch's "serialized code" report, its file named as
        # in the archive (`code/__torch__.py`)
        head = head.replace("TorchScript (", "TorchScript, serialized code (")
        frames = [f if m is None else f'  File "{m.group(1)}"' + f[m.end():]
                  for f, m in zip(frames, archived)]
    cut = msg.find("\n  in scripted code at ")   # (container ops' own location)
    if cut >= 0:
        msg = msg[:cut]
    if nodes and nodes[-1].kind == "prim::PythonOp" and not getattr(e, "return_cast", False):
        # a Python function the code calls (@torch.jit.ignore) raised: torch names the
        # exception's class and adds the Python stack, innermost first
        msg = f"{type(e).__name__}: {msg}\n\nAt:\n" + "".join(
            f"  {f}({n}): {name}\n" for f, n, name in _python_stack(e.__traceback__))
    text = f"{head}{''.join(f + chr(10) for f in frames)}RuntimeError: {msg}\n"
    cls = type(e)
    sub = _REPORTED.get(cls)
    if sub is None:
        body = {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                "__str__": _report_str}
        bases = (cls,) if issubclass(cls, RuntimeError) else (cls, RuntimeError)
        try:
            sub = type(cls.__name__, bases, body)
        except TypeError:
            sub = None
        sub = _REPORTED.setdefault(cls, sub)
    if sub is None:
        return as_runtime_error(e)
    try:
        new = sub(text)
    except Exception:
        return as_runtime_error(e)
    if getattr(e, "__dict__", None):
        new.__dict__.update(e.__dict__)
    new.__cause__ = e.__cause__
    new.__suppress_context__ = True
    return new.with_traceback(e.__traceback__)


_REPORTED: dict = {}        # exception class -> its subclass interpreter_error raises


def _python_stack(tb):
    """[(file, line, function)] of the Python frames an exception from a Python call of
    scripted code passed, innermost first, and then of its caller's stack (gpujit's own
    frames, its generated code and the scripted lines put in the traceback left out), as
    TorchScript's "At:" lists them."""
    import os
    import sys
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    skip = [here] + [os.path.dirname(os.path.abspath(m.__file__)) for m in (
        sys.modules.get("gpujit.fusers"), sys.modules.get("gpujit.kernels"))
        if m is not None and getattr(m, "__file__", None)]

    def user(f):
        name = f.f_code.co_filename
        return not name.startswith("<") and not any(name.startswith(d) for d in skip) \
            and not f.f_globals.get("__gpujit_scripted_frame__")
    inner = []
    first = tb.tb_frame if tb is not None else None
    while tb is not None:
        if user(tb.tb_frame):
            inner.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno,
                          tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    out = inner[::-1]
    f = first.f_back if first is not None else None
    while f is not None:
        if user(f):
            out.append((f.f_code.co_filename, f.f_lineno, f.f_code.co_name))
        f = f.f_back
    return out


def _report_str(self):
    return str(self.args[0]) if self.args else ""


def raises_traceback(node):
    """Does the prim::RaiseException raise TorchScript's error with its traceback (a
    user's raise or assert, or a loaded model's raise), not an op's failure the compiler
    made a raise for (see exception_for)?"""
    return "raise_span" in node.meta or node.source_range is None


def raise_location(node):
    """The frame TorchScript's error shows for a prim::RaiseException (torch 2.13):
    `  File "f.py", line 3, in fn`, then the statement's line with two lines of its
    function either side, the statement underlined `~~~ <--- HERE` as far as torch's range
    of it goes (FunctionSource.torch_span); fn is the function called (the outermost one
    an inlined function's statement was inlined into). None for nodes without a source
    range (parsed or traced graphs). An op's failure's raise: `file:line: source`."""
    sr = node.source_range
    if sr is None or not getattr(sr, "filename", None):
        return None
    inlined = node.meta.get("inlined_at", ())
    if not raises_traceback(node):
        # an op's failure the compiler made a raise for: the frames interpreter_error
        # gives an op (torch.tensor of a ragged list is aten::tensor's failure in torch),
        # an inlined function's call sites first
        ranges = []
        for r in (*reversed(inlined), sr):
            if r is not None and getattr(r, "filename", None) and r.span is not None and \
                    (not ranges or ranges[-1] != r):
                ranges.append(r)
        if not ranges:
            return node_location(node)
        return "\n".join(frame_text(r, r.function, r.span) for r in ranges)
    fn = (inlined[-1].function if inlined else "") or sr.function
    return frame_text(sr, fn, node.meta.get("raise_span"))


def frame_text(sr, fn, span):
    """One frame of TorchScript's traceback: `  File "f.py", line 3, in fn`, the lines
    around sr's (two of its function either side), sr's range underlined `~~~ <--- HERE`
    to where span (end line, end column, the function's first and last line) ends it."""
    head = f'  File "{sr.filename}", line {sr.line}' + (f", in {fn}" if fn else "")
    import linecache
    lines = linecache.getlines(sr.filename)
    if not 0 < sr.line <= len(lines):
        text = (sr.text or "").rstrip()
        if not text:
            return head
        end = len(text)
        if span is not None and span[0] == sr.line:
            end = span[1]
        return f"{head}\n{text}\n{' ' * sr.col}{'~' * max(end - sr.col, 1)} <--- HERE"
    end_line, end_col, first, last = span if span is not None else \
        (sr.line, len(lines[sr.line - 1].rstrip()), sr.line, sr.line)
    out = [head]
    for ln in range(max(first, sr.line - 2), sr.line):
        out.append(lines[ln - 1].rstrip("\n"))
    for ln in range(sr.line, min(end_line, len(lines)) + 1):
        text = lines[ln - 1].rstrip("\n")
        out.append(text)
        lo = sr.col if ln == sr.line else len(text) - len(text.lstrip())
        hi = end_col if ln == end_line else len(text.rstrip())
        out.append(" " * lo + "~" * max(hi - lo, 1) + (" <--- HERE" if ln == end_line else ""))
    for ln in range(end_line + 1, min(last, end_line + 2, len(lines)) + 1):
        out.append(lines[ln - 1].rstrip("\n"))
    return "\n".join(out)


def _raise(node, env, profile):
    vals = [env[v] for v in node.inputs]
    # (a message alone, as archive code writes an assert's: `ops.prim.RaiseException(msg)`)
    cls_name = vals[1] if len(vals) > 1 else None
    raise exception_for(vals[0], cls_name, raise_location(node), raises_traceback(node))


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
    script_print(*[script_str(env[v]) for v in node.inputs])
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
        # (the copies an unrolled loop made of one aten::warn: that one node)
        key = node.meta.get("warn_of", node)
        if key in warned:
            return
        warned.add(key)
    sr = node.source_range
    if sr is not None and getattr(sr, "filename", None):
        warnings.warn_explicit(message, UserWarning, sr.filename, sr.line)
    else:
        warnings.warn(message, UserWarning, stacklevel=max(int(stacklevel), 1))


def _dtype(node, env, profile):
    d = env[node.inputs[0]].dtype
    # (scripted x.dtype is TorchScript's int: prim::dtype(Tensor a) -> int)
    return (_dt.scalar_type_code(d) if isinstance(node.output.type, T.IntType) else d,)


def _device(node, env, profile):
    return (env[node.inputs[0]].device,)


def _requires_grad(node, env, profile):
    return (bool(getattr(env[node.inputs[0]], "requires_grad", False)),)


IMPLICIT_REQUIRES_GRAD = "Cannot input a tensor that requires grad as a scalar argument"


def _implicit(node, env, profile):
    """aten::IntImplicit / FloatImplicit / ScalarImplicit of a Tensor passed for a number:
    TorchScript's kernel refuses one that requires grad (checkImplicitTensorToNum), then
    takes the 0-dim tensor's value."""
    if getattr(env[node.inputs[0]], "requires_grad", False):
        raise RuntimeError(IMPLICIT_REQUIRES_GRAD)
    return _run_aten(node, env)


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


def _detach_(node, env, profile):
    return (env[node.inputs[0]].detach_(),)


def _retain_grad(node, env, profile):
    env[node.inputs[0]].retain_grad()
    return ()


def _is_leaf(node, env, profile):
    return (env[node.inputs[0]].is_leaf,)


def _retains_grad(node, env, profile):
    return (env[node.inputs[0]].retains_grad,)


def _add_stat_value(node, env, profile):
    from ..jit._logging import _add_stat_value as add
    add(*[env[v] for v in node.inputs])
    return None


def _time_point(node, env, profile):
    from ..jit._logging import _time_point as now
    return (now(),)


def layout_code(t) -> int:
    """TorchScript's int of a tensor's layout (c10::Layout: strided 0, sparse_coo 1 ...)."""
    name = str(getattr(t, "layout", "strided")).rsplit(".", 1)[-1]
    return _LAYOUT_CODES.get(name, 0)


_LAYOUT_CODES = {"strided": 0, "sparse_coo": 1, "sparse_csr": 2, "sparse_csc": 4,
                 "sparse_bsr": 5, "sparse_bsc": 6, "jagged": 7}


def _layout(node, env, profile):
    return (layout_code(env[node.inputs[0]]),)


def _itemsize(node, env, profile):
    return (env[node.inputs[0]].itemsize,)


def _nbytes(node, env, profile):
    return (env[node.inputs[0]].nbytes,)


def _enum_name(node, env, profile):
    return (env[node.inputs[0]].name,)


def _enum_value(node, env, profile):
    return (env[node.inputs[0]].value,)


def _isinstance(node, env, profile):
    test = isinstance_test(node.inputs[0].type, tuple(node.attrs["types"]))
    return (test(env[node.inputs[0]]),)


def _tensor_expr_group(node, env, profile):
    """prim::TensorExprGroup (an optimized graph run node by node: a call that records
    gradients): the runner the executor attached to the node (its FusedGroup, recording
    one backward node), else the group's ops one by one."""
    args = [env[v] for v in node.inputs]
    runner = node.meta.get(GROUP_RUNNER)
    if runner is not None:
        return runner(args)
    group = env.get(RESUMED_GROUPS, {}).get(node)
    if group is not None:       # a call resumed from generated code: its FusedGroup
        from .support import box, unbox
        return tuple(box(o) for o in group.call(*[unbox(a) for a in args]))
    sub = node.meta.get(_EAGER_SUBGRAPH)
    if sub is None:
        # (its in-place ops that functionalize made out-of-place run in place on copies,
        # as the group's own fallback runs them: x.masked_fill_(m, 0) keeps x's layout,
        # masked_fill's result is contiguous)
        from ..fusers.functionalize import inplace_on_copies
        from ..fusers.subgraph import subgraph_of
        sub = node.meta[_EAGER_SUBGRAPH] = inplace_on_copies(subgraph_of(node))
    out = interpret(sub, *args)
    return out if len(node.outputs) > 1 else (out,)


_EAGER_SUBGRAPH = "eager_subgraph"  # node.meta key: a group's subgraph as eager runs it


GROUP_RUNNER = "group_runner"      # node.meta key of a group node's runner
# env key of {group node: FusedGroup} in a call resumed from generated code (resume.py):
# its groups run as the generated code runs them (guards, kernels, strict_fusion)
RESUMED_GROUPS = object()


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
    "aten::IntImplicit": _implicit, "aten::FloatImplicit": _implicit,
    "aten::ScalarImplicit": _implicit,
    "prim::is_leaf": _is_leaf, "prim::retains_grad": _retains_grad,
    "prim::itemsize": _itemsize, "prim::nbytes": _nbytes, "prim::layout": _layout,
    "prim::AddStatValue": _add_stat_value, "prim::TimePoint": _time_point,
    "prim::EnumName": _enum_name, "prim::EnumValue": _enum_value,
    "aten::grad": _autograd_grad, "aten::backward": _autograd_backward,
    "aten::requires_grad_": _requires_grad_, "aten::detach_": _detach_,
    "aten::retain_grad": _retain_grad,
    **_future_nodes.HANDLERS,
}


_script_tb.register_node_loop(run_nodes.__code__)
