"""The tracer's hooks: how a trace sees the program run. `tracing` installs them for one
TraceSession (`paused` runs tracer-internal work unrecorded): the op registry's dispatch
hook (`_hook`: every op call is computed and recorded; a 0-dim integer tensor passed for
an int is recorded as aten::Int; a tensor turned into a Python number warns), the escape
hook (iterating a tensor, .tolist(), .numpy() warn), the module-call hook (a submodule's
call is scoped and gets its own graph), and the recorded forms of `t.detach_()` and
`t.to(other)`. The session state and the Recorder are tracer.py's.
"""
from __future__ import annotations

import inspect
import sys
import threading

from .._frames import _PKG_DIR
from ..ops import creation as _creation
from ..ops import registry as _reg
from ..ir import types as T
from ..tensor import Tensor
from .tracer import (_Active, Recorder, conversion_warning, source_range_here,
                     warn_at_user)
from .traced_numbers import TracedFloat, TracedInt, plain
from . import trace_calls as _calls
from .trace_boundary import _param_names, _holds_only_tensors, bind_input, output_value


_CREATION = _creation.__file__
_installs = [0]             # threads tracing now: the hooks stay installed while any is


_installs_lock = threading.Lock()


def _describe_item_caller():
    """What turned a tensor into a Python value (bool(), int(), float() or item()): the
    dunder among gpujit's frames above the op call (a __torch_function__ handler's frames
    between them included) or the first frame outside."""
    f = sys._getframe(3)
    for _ in range(24):
        if f is None:
            break
        name = f.f_code.co_name
        if name in ("__bool__", "__int__", "__float__", "__index__"):
            return {"__bool__": "a Python boolean", "__int__": "a Python integer",
                    "__index__": "a Python index", "__float__": "a Python float"}[name]
        fn = f.f_code.co_filename
        if not (fn.startswith(_PKG_DIR) or fn.startswith("<gpujit")):
            break
        f = f.f_back
    return "a Python number"


def _hook(op, args):
    s = _Active.session
    if s is None or s.paused:
        return _reg.dispatch_state.compute(op, args)
    if op.name == "aten::item":
        what = _describe_item_caller()
    if op.name == "aten::item" and what != "a Python index":
        # (torch's tracer is silent for __index__: a list indexed by a tensor, range(t))
        extra = (" (a tensor used as a condition, e.g. in an `if`, is the same thing)"
                 if what == "a Python boolean" else "")
        warn_at_user(conversion_warning(what) + extra, state=True)
    if op.name == "aten::item":
        # (not recorded, as torch's tracer records nothing for it: the Python number is
        # baked into what uses it, and a node would only take a value number)
        return _reg.dispatch_state.compute(op, args)
    if _reg_is_inplace(op) and s.force_outplace:
        # PyTorch's ensureUniqueIfOutOfPlaced warns only when the trace turns in-place
        # ops out of place (_force_outplace, ONNX export's): a plain torch.jit.trace of
        # `x += y` with views of x alive is silent (timm's GhostNet `x += shortcut(...)` of
        # a slice of a cat: torch 2.13 prints nothing)
        s.check_inplace(op, args)
    if op.traced is not None:
        result = op.traced(*args)
        if result is not NotImplemented:
            return result
    tens = _tensor_params(op)
    if tens and any(_holds_traced_number(args[i]) for i in tens if i < len(args)):
        args = _tensor_args(args, tens)
    ints = _int_params(op)
    if ints and any(isinstance(args[i], (Tensor, list, tuple)) for i in ints if i < len(args)):
        args = _int_args(op, args, ints)
    # the op computes on plain ints (a TracedInt's own arithmetic would record again);
    # through autograd when it is on, so a traced run records gradients as eager does
    try:
        result = _reg.dispatch_state.compute(op, [plain(a) for a in args])
    except _reg.NestedOperand as e:
        # (a nested operand or result: the op's nested kernel runs unrecorded, gpujit/
        # nested; the trace records the op itself, as PyTorch's tracer does)
        if e.op is not op:
            raise
        with paused(s):
            result = _reg.sparse_call(e, [plain(a) for a in args])
    if s.force_outplace and op.inplace_of is not None:
        # trace(..., _force_outplace=True): the write runs, the graph records the op's
        # out-of-place form, whose result stands for the written tensor from here on
        op = op.inplace_of
    return s.record(op, args, result)


_TENSOR_PARAMS: dict = {}


def _tensor_params(op):
    """Positions of op's Tensor parameters that take no Python number, and of its Tensor[]
    ones: a traced size given there is a 0-dim tensor in PyTorch's trace (its sizes are
    tensors), so `torch.stack([img.shape[1] for img in images])` works while tracing
    (torchvision's detection transform, _onnx_batch_images)."""
    r = _TENSOR_PARAMS.get(op.name)
    if r is None:
        r = _TENSOR_PARAMS[op.name] = tuple(
            i for i, a in enumerate(op.schema.arguments) if a.type.base == "Tensor" and (
                a.type.is_list or a.name not in op.number_operands))
    return r


def _holds_traced_number(a):
    if isinstance(a, (TracedInt, TracedFloat)):
        return True
    return isinstance(a, (list, tuple)) and any(isinstance(e, (TracedInt, TracedFloat))
                                                for e in a)


def _number_tensor(n):
    """A traced number as the 0-dim tensor PyTorch's trace has for it: a size's is the
    tensor its Values stand for (prim::NumToTensor of aten::size, or what arithmetic on
    such made), others (int64 for an int, float64 for a float) through a recorded
    aten::scalar_tensor."""
    from .. import dtypes as _dt
    t = tensor_of_number(n)
    if t is not None:
        return t
    return _reg.get("aten::scalar_tensor").public(
        n, dtype=_dt.int64 if isinstance(n, TracedInt) else _dt.float64)


def tensor_of_number(n):
    """A traced number whose Values are 0-dim tensors (sizes, and arithmetic on them): a
    tensor of its value and dtype bound to those Values in every recorder of the session
    (nothing recorded), or None for a number standing for an int / float Value."""
    s = _Active.session
    if s is None or not isinstance(n, (TracedInt, TracedFloat)):
        return None
    vals = [(rec, n._values.get(id(rec))) for rec in s.recorders]
    ty = next((v.type for _, v in vals if v is not None), None)
    if not isinstance(ty, T.TensorType) or ty.dtype is None:
        return None
    import numpy as np
    t = _reg.wrap(np.asarray(plain(n), dtype=ty.dtype.np), ty.dtype, ty.device)
    for rec, v in vals:
        if v is not None:
            rec.bind(t, v)
    s.announced.add(id(t))
    return t


def _tensor_args(args, positions):
    out = list(args)
    for i in positions:
        if i >= len(out):
            break
        a = out[i]
        if isinstance(a, (TracedInt, TracedFloat)):
            out[i] = _number_tensor(a)
        elif isinstance(a, (list, tuple)):
            out[i] = type(a)(_number_tensor(e) if isinstance(e, (TracedInt, TracedFloat))
                             else e for e in a)
    return out


_INT_PARAMS: dict = {}


def _int_params(op):
    """Positions of op's int / int[] parameters."""
    r = _INT_PARAMS.get(op.name)
    if r is None:
        r = _INT_PARAMS[op.name] = tuple(i for i, a in enumerate(op.schema.arguments)
                                         if a.type.base in ("int", "SymInt"))
    return r


def _int_args(op, args, ints):
    """The args of an op call with each 0-dim integer tensor given for an int (or an
    element of an int[]) replaced by aten::Int of it, recorded, so the trace follows the
    tensor's value (`x.topk(k)`, `x.view(n, -1)` with tensors k, n) instead of baking in a
    constant."""
    out = list(args)
    for i in ints:
        if i >= len(out):
            break
        a = out[i]
        if isinstance(a, Tensor):
            out[i] = _as_int(a)
        elif isinstance(a, (list, tuple)) and any(isinstance(e, Tensor) for e in a):
            out[i] = type(a)(_as_int(e) if isinstance(e, Tensor) else e for e in a)
    return out


def _as_int(t):
    if t.ndim != 0 or t.is_floating_point() or t.is_complex():
        return t          # the op's own error names what it got
    return _reg.get("aten::Int.Tensor").public(t)


def trace_to_like(t, other):
    """`t.to(other)` (other on t's device) while tracing: recorded as
    `aten::to(t, prim::dtype(other))`, so that the trace follows other's dtype in later
    calls as eager does (PyTorch's trace bakes other's trace-time dtype and device in as
    constants). (`t.type_as(other)` records aten::type_as, as PyTorch's does.)"""
    s = _Active.session
    op = _reg.get("aten::to.dtype")
    args = [t, other._dtype, False, False]
    if s is None or s.paused:
        return op.public(*args)
    result = _reg.dispatch_state.compute(op, args)
    sr = source_range_here()
    scope = "/".join(s.scopes) or None
    for rec in s.recorders:
        dtype_of = rec.value_of(other, T.TENSOR)
        n = s._record_into(rec, op, args, result, sr, scope)
        d = rec.graph.create("prim::dtype", [dtype_of], output_types=[T.SCALAR_TYPE],
                             source_range=sr, scope=scope)
        d.insert_before(n)
        const = n.inputs[1]
        n.replace_input(1, d.output)
        if not const.uses and const.node.kind == "prim::Constant":
            const.node.destroy()
    return result


def _reg_is_inplace(op):
    return any(a.type.is_write for a in op.schema.arguments)


_CONSTRUCTOR = (" results are registered as constants in the trace. You can safely ignore "
                "this warning if you use this function to create tensors out of constant "
                "variables that would be the same every time you call this function. In "
                "any other case, this might cause the trace to be incorrect.")


def _new_tensor_code():
    from .._tensor_conversions import TensorConversions
    return TensorConversions.new_tensor.__code__


def _escape(t, what, lifted=False):
    s = _Active.session
    if s is not None and not s.paused and what.startswith("torch."):
        # a tensor made from Python data (gpujit.tensor, as_tensor, from_numpy) by the
        # user's code: PyTorch's tracer warns here, once; its use is then no news
        f = sys._getframe(2)
        while f is not None and f.f_code.co_filename == _CREATION:
            f = f.f_back
        user = f is not None and not f.f_code.co_filename.startswith(_PKG_DIR)
        if user or f is not None and f.f_code is _new_tensor_code():
            # (Tensor.new_tensor's data: recorded as torch.tensor's, with no warning)
            if user:
                warn_at_user(what + _CONSTRUCTOR, state=True)
            s.announced.add(id(t))
            s.recorders[0].keep.append(t)
            s.record_made(t, what, lifted)
    elif s is not None and not s.paused and what in ("constant", "index data"):
        # a tensor gpujit made from Python data where PyTorch makes one outside the
        # dispatcher: x[i] = 2's value, a constant in the trace, unwarned; x[[0, 1]]'s
        # index, recorded as torch.as_tensor is (the data, then aten::to)
        s.announced.add(id(t))
        s.recorders[0].keep.append(t)
        if what == "index data":
            s.record_made(t, "torch.as_tensor")
    elif s is not None and not s.paused and what.startswith("copy:"):
        # torch.tensor / torch.as_tensor / Tensor.new_tensor of a tensor: torch's tracer
        # warns as for Python data (not for new_tensor, called from gpujit's code), yet
        # records the copy from the tensor; whether the trace follows t (an input, a
        # result, a module's attribute), so the copy can be recorded from it
        if not sys._getframe(2).f_code.co_filename.startswith(_PKG_DIR):
            warn_at_user(what[5:] + _CONSTRUCTOR, state=True)
        return id(t) in s.attr_paths or any(id(t) in rec.env for rec in s.recorders)
    elif s is not None and not s.paused and what == "len":
        # (the user's len(t); gpujit's own code reads lengths as it likes)
        if not sys._getframe(2).f_code.co_filename.startswith(_PKG_DIR):
            warn_at_user("Using len to get tensor shape might cause the trace to be incorrect. "
                         "Recommended usage would be tensor.shape[0]. Passing a tensor of "
                         "different shape might lead to errors or silently give incorrect "
                         "results.")
    elif s is not None and not s.paused and what == "iter":
        warn_at_user("Iterating over a tensor might cause the trace to be incorrect. Passing "
                     "a tensor of different shape won't change the number of iterations "
                     "executed (and might lead to errors or silently give incorrect results).")
    elif s is not None and not s.paused:
        warn_at_user(conversion_warning("a Python list" if what == "tolist"
                                        else "a NumPy array"), state=True)


def _module_call(module, call, args, kwargs):
    s = _Active.session
    if s is None or s.paused or id(module) not in s.attr_paths or module is s.root_module:
        return call(*args, **kwargs)
    path = s.attr_paths[id(module)]
    s.scopes.append("__module." + ".".join(path))
    first = id(module) not in s.module_graphs
    rec = None
    regions = ()
    given = _given_arguments(module, args, kwargs)
    if given is not None:
        # each call gets its own graph: the submodule's forward (its first call) or a
        # forward1, forward2... that its caller calls (trace_calls.py); keyword arguments
        # bind to their parameters (`self.mha(x, x, x, need_weights=False)` is a call too,
        # its method taking the tensors its ops read, as torch's)
        names, given = given
        rec = Recorder(s, module, s.module_type(module))
        rec.callers = tuple(s.recorders)
        rec.call_index = s.method_counts.get(id(module), 0)
        s.method_counts[id(module)] = rec.call_index + 1
        bound, other = [], []
        for name, a in zip(names, given):
            if _holds_only_tensors(a):
                bind_input(rec, name, a)
                bound.append(a)
            else:
                # (a number, None, a string...): as in torch, the submodule's graph bakes
                # the value in as a constant where its ops use it
                other.append(a)
        if first:
            s.module_graphs[id(module)] = (module, rec)
        s.call_recorders.append(rec)
        if not _is_compiled(module):
            regions = [_calls.start(p, rec, module, bound, other) for p in s.recorders]
        s.recorders.append(rec)
    try:
        out = call(*args, **kwargs)
    finally:
        s.scopes.pop()
        if rec is not None:
            s.recorders.remove(rec)
    if rec is not None:
        try:
            ov = output_value(rec, out, strict=False)
            rec.graph.register_output(ov)
            _note_returned(s, out, ov)
        except RuntimeError:
            # (a result holding a number, a string...: the graph returns None until the
            # call becomes a method, which returns the values its caller reads, as
            # TorchScript's tracer makes it; left inline, the graph is no method)
            rec.graph.register_output(rec.graph.insert_constant(None))
            rec.partial_out = True
        for r in regions:
            _calls.finish(r, out)
    return out


def _note_returned(s, out, ov):
    """The unnamed Values a submodule's graph returns for the tensors of its result (in a
    tuple or list too: `a, b = self.two(h)`), which take the name the caller's use gives
    them, as torch's one trace names them (Two's `x = torch.sin(argument_1)`)."""
    if isinstance(out, Tensor):
        if not ov.has_debug_name() and ov.node.kind != "prim::Param":
            s.returned.setdefault(id(out), []).append(ov)
    elif isinstance(out, (tuple, list)) and ov.node.kind in (
            "prim::TupleConstruct", "prim::ListConstruct") and \
            len(ov.node.inputs) == len(out):
        for x, v in zip(out, ov.node.inputs):
            _note_returned(s, x, v)


def _given_arguments(module, args, kwargs):
    """(names, values) of the arguments of a submodule call in its forward's parameter
    order (keywords bound by name), or None when they do not bind plainly (*args,
    **kwargs parameters): that call stays inline."""
    if not kwargs:
        return _param_names(module.forward, len(args)), args
    try:
        sig = inspect.signature(module.forward)
        ba = sig.bind(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    ps = sig.parameters
    if any(ps[n].kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
           for n in ba.arguments):
        return None
    return list(ba.arguments), tuple(ba.arguments.values())


def _is_compiled(module):
    """A scripted (or traced) submodule: its call is recorded by record_call (a
    prim::CallMethod of its compiled method), not as a call region."""
    from ..jit.objects import ScriptModule
    return isinstance(module, ScriptModule)


def detach_(t):
    """`t.detach_()` while tracing: recorded as aten::detach, whose result stands for t
    from here on (as TorchScript's tracer records it)."""
    s = _Active.session
    if s is None or s.paused:
        return
    d = _reg.get("aten::detach").public(t)
    for rec in s.recorders:
        v = rec.env.get(id(d))
        if v is not None:
            rec.bind(t, v)


class tracing:
    """Context: install the hooks for one TraceSession (nesting is not allowed)."""

    def __init__(self, session):
        self.session = session

    def __enter__(self):
        from ..nn import _module_hooks as _module
        if _Active.session is not None:
            raise RuntimeError("gpujit.trace was called while another trace is running; "
                               "trace the inner function first and call the traced object")
        _Active.session = self.session
        with _installs_lock:
            _installs[0] += 1
            _reg.dispatch_state.tracing = _hook
            _reg.dispatch_state.refresh()
            _reg.dispatch_state.escape = _escape
            _module.call_hook.hook = _module_call
        return self.session

    def __exit__(self, *exc):
        from ..nn import _module_hooks as _module
        _Active.session = None
        with _installs_lock:
            _installs[0] -= 1
            if not _installs[0]:
                _reg.dispatch_state.tracing = None
                _reg.dispatch_state.refresh()
                _reg.dispatch_state.escape = None
                _module.call_hook.hook = None


class paused:
    """Run tracer-internal work (cloning inputs, calling a compiled graph) unrecorded."""

    def __init__(self, session):
        self.session = session

    def __enter__(self):
        if self.session is not None:
            self.saved = self.session.paused
            self.session.paused = True

    def __exit__(self, *exc):
        if self.session is not None:
            self.session.paused = self.saved
