"""The tracer: run a function or module once on example inputs and record every op call.

One hook in the op registry (`dispatch_state.hook`) sees every op call on tensors; the
tracer computes the result with `op.eager` and appends a node to each active Recorder. A
Recorder maps live tensors (by identity) to graph Values; Python values become constants.
Module calls are followed through `nn._module_hooks.call_hook`: the top graph gets the ops inline
(with a `scope: __module.<path>` naming the submodule, as TorchScript's tracer prints), and every submodule
gets its own graph from a Recorder opened for the length of its call. Parameters and
buffers are read through `prim::GetAttr` chains from `self`.
"""
from __future__ import annotations

import linecache
import threading
import warnings

import numpy as np

from .. import dtypes as _dt
from .. import ir
from ..device import cpu as _CPU
from .._frames import calling_frame, from_library, user_frame, warn_at_user_frame
from ..ir import types as T
from .qualified_names import mangled, qualified_name, unmangled
from ..ir.schema_match import schema_arg_type
from ..ops.memory_format import AS_INT as _MEMORY_FORMAT_INTS
from ..ops.number_operands import numbers_as_tensors
from ..ops.registry import dispatch_state as _dispatch_state
from ..tensor import Tensor
from .trace_futures import check_not_fork_local
from .traced_numbers import TracedFloat, TracedInt, is_traced_number, plain

__all__ = ["TracerWarning", "TracedInt", "TracedFloat", "conversion_warning", "Recorder",
           "TraceSession", "current_session", "user_frame", "source_range_here"]


class TracerWarning(Warning):
    """Something in the traced code will not be reproduced by the trace."""


# PyTorch installs this filter when torch.jit is imported (torch/jit/_trace.py,
# TracerWarning.ignore_lib_warnings) to quiet its own library; the module pattern being a
# regex prefix match, it also quiets every module whose name starts with "torch" and one
# more character other than "jit": torchvision's, torchaudio's... (swin_t's window-size
# checks trace without a warning there). gpujit's library is quieted by from_library.
warnings.filterwarnings("ignore", category=TracerWarning, module="torch.(?!jit)")


def source_range_here():
    f = user_frame()
    if f is None:
        return None
    line = f.f_lineno
    # column 0, as TorchScript's tracer records a Python frame's place (`# f.py:9:0`)
    return ir.SourceRange(f.f_code.co_filename, line, 0,
                          linecache.getline(f.f_code.co_filename, line).rstrip("\n"),
                          f.f_code.co_name)


def conversion_warning(what):
    """PyTorch's TracerWarning text for a tensor (a traced size) turned into `what`."""
    return (f"Converting a tensor to {what} might cause the trace to be incorrect. We can't "
            f"record the data flow of Python values, so this value will be treated as a "
            f"constant in the future. This means that the trace might not generalize to "
            f"other inputs!")


# torch._C._jit_set_tracer_state_warn: False quiets the warnings PyTorch's C++ tracer
# gives (a tensor turned into a Python number / list / array, a tensor made from data)
STATE_WARN = [True]


def warn_at_user(msg, ignored_in_library=True, state=False):
    """A TracerWarning at the user's line. Not when raised inside gpujit's counterpart of
    PyTorch's Python library (nn, optim...: torch.jit ignores its library's warnings),
    unless ignored_in_library is False (gpujit's own warnings, which PyTorch has none of,
    e.g. a constant recorded from a tensor the trace did not produce). `state`: one of
    the C++ tracer's warnings, quieted by _jit_set_tracer_state_warn(False)."""
    if state and not STATE_WARN[0]:
        return
    quiet = _Active.quiet
    if quiet is not None:           # collected by the caller (a fused backward's trace)
        quiet.append(msg)
        return
    if ignored_in_library and from_library():
        return
    warn_at_user_frame(msg, TracerWarning)


# ops whose int result the trace follows (a TracedInt): sizes, and a 0-dim tensor passed
# where an op takes an int (recorded as aten::Int, as TorchScript's tracer does)
_SIZE_OPS = frozenset({"aten::size.int", "aten::numel", "aten::Int.Tensor"})
_TENSOR_SIZE_OPS = frozenset({"aten::size.int", "aten::numel"})


class Recorder:
    """Builds one graph: the top function's, or one submodule's forward."""

    def __init__(self, session, module=None, module_type=None):
        self.session = session
        self.graph = ir.Graph()
        self.env = {}            # id(tensor) -> Value
        # Value -> ids of the tensors it was bound to (an in-place op's later Value for a
        # tensor leaves its first one here: trace_calls finds what a call returned)
        self.tensors_of = {}
        self.keep = []           # the tensors in env stay alive (ids stay unique)
        self.module = module
        self.self_value = None
        self.attr_values = {}    # id(module/param) -> Value of its GetAttr chain
        self.here = (None, None)  # (source range, scope) of the op whose arguments record
        self.regions = []        # trace_calls.CallRegion of each submodule call it saw
        self.traced_types = {}   # a folded call's result Value -> the type its op traced
        self.callers = ()        # a submodule call's: its callers' Recorders
        self.method_name = None  # a submodule call's: the method it became (trace_calls)
        self.call_index = 0      # a submodule call's: how many calls of it came before
        self.baked_caller_value = False  # it baked in a tensor / size a caller computed
        if module is not None:
            self.self_value = self.graph.add_input("self", module_type)
            self.attr_values[id(module)] = self.self_value

    def constant(self, value, type_=None):
        """A prim::Constant for an op's argument: as TorchScript's tracer, it carries the
        op's source range (`# f.py:9:0` on its line) and scope."""
        g = self.graph
        sr, scope = self.here
        n = g.create("prim::Constant", (), attrs={} if value is None else {"value": value},
                     output_types=[T.type_of_value(value) if type_ is None else type_],
                     source_range=sr, scope=scope)
        return g.insert(n).output

    # ------------------------------------------------------------------ values
    def bind(self, t: Tensor, v):
        self.env[id(t)] = v
        self.tensors_of.setdefault(v, []).append(id(t))
        self.keep.append(t)

    def attr_value(self, obj):
        """The GetAttr chain that reads obj (a submodule, parameter or buffer) from self."""
        v = self.attr_values.get(id(obj))
        if v is not None:
            return v
        if self.module is None or id(obj) not in self.session.attr_paths:
            return None
        prefix = self.session.attr_paths.get(id(self.module), ())
        # (an object reachable by several paths is read by the one under this module)
        path = next((p for p in self.session.other_paths.get(id(obj), ())
                     if p[:len(prefix)] == prefix and p != prefix), None)
        if path is None:
            return None
        # (as TorchScript's tracer: each object read gets a chain of its own from self,
        # placed as one piece at the start of the graph, so the chains read last print
        # first: `bias = self.bias` before `weight = self.weight` in Linear's forward,
        # `dg = self.dg` before `linear = self.linear` in the tutorial's MyCell)
        owner = self.module
        cur = self.self_value
        chain = []
        for name in path[len(prefix):]:
            child = getattr(owner, name)
            ty = (T.TENSOR if isinstance(child, Tensor) else T.type_of_value(child)
                  if _is_custom_object(child) else self.session.module_type(child))
            n = self.graph.create("prim::GetAttr", [cur], attrs={"name": name},
                                  output_types=[ty])
            chain.append(n)
            if name.isdigit():
                # (a Sequential's / ModuleList's / ParameterList's entry: torch 2.13's
                # `%_0 = prim::GetAttr[name="0"]`, printed `_0 = getattr(self, "0")`; a
                # number is no value name)
                n.output.set_debug_name("_" + name)
            elif isinstance(child, Tensor) or name.isidentifier():
                n.output.set_debug_name(name)
            owner, cur = child, n.output
        nodes = self.graph.block.nodes
        first = nodes[0] if len(nodes) else None
        for n in chain:
            if first is None:
                self.graph.block.append(n)
            else:
                n.insert_before(first)
        self.attr_values[id(obj)] = cur
        return cur

    def value_of(self, x, at=None):
        """The Value standing for a Python argument x (of schema type at, if known)."""
        g = self.graph
        if getattr(at, "is_list", False) and at.base in _NUMBER_LIST_BASES and (
                type(x) is int or (type(x) is float and at.base == "float")
                or (is_traced_number(x) and isinstance(x, int))):
            # one number for an int[N] (`x.sum(0)`, `max_pool2d(x, 2)`): the list it
            # stands for, N times that number, as TorchScript's tracer records it
            x = [x] * (at.list_size or 1)
        if is_traced_number(x):
            v = x._values.get(id(self))
            if v is not None:
                return self.number_of(v, x, at)
            if any(id(c) in x._values for c in self.callers):
                self.baked_caller_value = True
            x = plain(x)
        if isinstance(x, (list, tuple)) and any(is_traced_number(e) for e in x):
            floats = any(isinstance(e, float) for e in x)
            et = _FLOAT_ARG if floats else _INT_ARG
            # (the traced elements' aten::Int first, then the constants: torch's argument
            # parser converts the list before its tracer records the op's inputs)
            traced = {i: self.value_of(e, et) for i, e in enumerate(x)
                      if is_traced_number(e)}
            elems = [traced[i] if i in traced else self.value_of(
                float(e) if floats else e, et) for i, e in enumerate(x)]
            return g.insert_node("prim::ListConstruct", elems, scope=self.here[1], output_types=[
                T.ListType(T.FLOAT if floats else T.INT)]).output
        if isinstance(x, Tensor):
            v = self.env.get(id(x))
            if v is not None:
                check_not_fork_local(self, v)
            if v is None:
                v = self.attr_value(x)
            if v is None:
                if id(x) not in self.session.own_constants and any(
                        id(x) in c.env for c in self.callers):
                    self.baked_caller_value = True
                v = self.session.constant_tensor(self, x)
                if id(x) in self.session.own_constants:
                    # (a number of arithmetic on sizes, as PyTorch's wrapped number: the
                    # same whatever the inputs, so a trace holding it still generalizes)
                    v.node.meta["wrapped_number"] = True
            return v
        if isinstance(x, dict) and _holds_tensor(x):
            # a dict of tensors handed to an op or a compiled call: built in the graph
            items = []
            for k, e in x.items():
                items += [self.constant(k), self.value_of(e)]
            vt = _erased(items[1].type)
            return g.insert_node("prim::DictConstruct", items, scope=self.here[1], output_types=[
                T.DictType(T.type_of_value(next(iter(x))), vt)]).output
        if isinstance(x, (list, tuple)) and any(
                _holds_tensor(e) and not isinstance(e, Tensor) for e in x):
            elems = [self.value_of(e) for e in x]
            if isinstance(x, list):
                return g.insert_node("prim::ListConstruct", elems, scope=self.here[1], output_types=[
                    T.ListType(_erased(elems[0].type))]).output
            return g.insert_node("prim::TupleConstruct", elems, scope=self.here[1], output_types=[
                T.TupleType(tuple(e.type for e in elems))]).output
        if isinstance(x, (list, tuple)) and any(isinstance(e, Tensor) for e in x):
            elems = [self.value_of(e) for e in x]
            et = T.OptionalType(T.TENSOR) if any(e is None for e in x) or (
                getattr(at, "elem_optional", False)) else T.TENSOR   # index's Tensor?[]
            kind = "prim::ListConstruct" if isinstance(x, list) or at is not None \
                else "prim::TupleConstruct"
            ty = T.ListType(et) if kind == "prim::ListConstruct" else \
                T.TupleType(tuple(e.type for e in elems))
            return g.insert_node(kind, elems, output_types=[ty], scope=self.here[1]).output
        if _is_custom_object(x):
            v = self.attr_value(x)
            if v is not None:
                return v
            return self.constant(x)
        if x is None:
            # NoneType, as TorchScript's tracer types it (and leaves without a source range;
            # in the op's scope, as every node it makes)
            return g.insert(g.create("prim::Constant", (), output_types=[T.NONE],
                                     scope=self.here[1])).output
        if isinstance(x, complex):
            # a Python complex operand: PyTorch's tracer records the wrapped number, a
            # 0-dim ComplexDouble tensor constant (`prim::Constant[value={(0,1)}]`)
            from .traced_numbers import wrapped_complex
            return self.value_of(wrapped_complex(x))
        if isinstance(x, tuple):
            x = list(x)
        if at is not None and at.base == "float" and isinstance(x, int) and not at.is_list:
            x = float(x)
        if type(x).__module__ == "numpy":
            x = x.item() if hasattr(x, "item") and getattr(x, "ndim", 0) == 0 else x.tolist()
        if isinstance(x, _dt.layout):
            # layout=torch.strided (torchvision's poolers: full_like(..., layout=...)):
            # TorchScript's Layout is an int, strided 0, as the script frontend's constant
            x = 0
        if isinstance(x, str) and at is not None and at.base == "MemoryFormat" \
                and x in _MEMORY_FORMAT_INTS:
            # memory_format=torch.channels_last: c10::MemoryFormat's int, as TorchScript's
            # tracer records it (`torch.contiguous(x, memory_format=2)`)
            x = _MEMORY_FORMAT_INTS[x]
        if getattr(at, "is_list", False) and at.base in _NUMBER_LIST_BASES \
                and isinstance(x, list) and all(type(e) in (int, float) for e in x):
            # an int[] / float[] argument: TorchScript's tracer records each number as a
            # constant and the list as prim::ListConstruct of them (`[]` too)
            et = T.FLOAT if at.base == "float" else T.INT
            elems = [self.constant(float(e) if et is T.FLOAT else e, et) for e in x]
            return g.insert_node("prim::ListConstruct", elems, scope=self.here[1],
                                 output_types=[T.ListType(et)]).output
        if isinstance(x, list) and not x and at is not None:
            return self.constant(x, schema_arg_type(at))    # `[]` takes the schema's type
        return self.constant(x)

    def wrapped_number(self, x):
        """A Python number given for a Tensor parameter of add / sub / mul / div ...: as
        PyTorch's argument parser wraps it (a 0-dim CPU tensor, float64 for a float,
        int64 for an int), its tracer records that tensor as a constant (`Double(
        requires_grad=0, device=cpu) = prim::Constant[value={2.5}]`, `torch.mul(x,
        CONSTANTS.c0)`). It is marked a wrapped number (registry.wrapped_number), so a
        replay promotes as the number did (int64 x // 2.5 is float32); a saved and loaded
        trace's constant is a plain 0-dim tensor, as PyTorch's."""
        from ..ops.registry import wrapped_number
        t = wrapped_number(x)
        v = self.constant(t, T.TensorType.of(t))
        v.node.meta["wrapped_number"] = True    # (a trace holding it generalizes)
        return v

    def number_of(self, v, x, at):
        """The Value a traced number x (whose Value here is v) is given as to a parameter of
        schema type at. A size is a 0-dim tensor in PyTorch's trace (prim::NumToTensor):
        a Tensor parameter takes it as it is, an int one `aten::Int` of it, a float one
        `aten::Float`, a Scalar one `aten::ScalarImplicit`, each inserted right after the
        tensor's node for this use, as torch's ArgumentStash does."""
        if not isinstance(v.type, T.TensorType):
            return v
        base = "int" if at is None else at.base
        if base == "Tensor":
            return v
        if base == "Scalar":
            kind, ty = "aten::ScalarImplicit", T.NUMBER
        elif base == "float" or (at is None and isinstance(x, float)):
            kind, ty = "aten::Float", T.FLOAT
        elif base == "bool":
            kind, ty = "aten::Bool", T.BOOL
        else:
            kind, ty = "aten::Int", T.INT
        n = self.graph.create(kind, [v], output_types=[ty])
        n.insert_after(v.node)
        for r in self.regions:
            # (a submodule call that starts right after the tensor's node starts after
            # this conversion: it is the caller's, not the call's)
            if r.prev is v.node:
                r.prev = n
        return n.output

    def type_of_result(self, r):
        if isinstance(r, Tensor):
            return T.TensorType.of(r)
        return T.type_of_value(r)


_NUMBER_LIST_BASES = frozenset({"int", "SymInt", "float"})


class _NumberArg:
    """The schema type of an int[] / float[] list's element (Recorder.number_of)."""
    __slots__ = ("base",)
    is_list = False

    def __init__(self, base):
        self.base = base


_INT_ARG, _FLOAT_ARG = _NumberArg("int"), _NumberArg("float")


def _name_values(recorders, args):
    """Name the Values of an op's tensor arguments after the user's local variables that
    hold them (`quick_brown_fox = torch.neg(baz)` prints as %quick_brown_fox), as
    TorchScript's tracer does when a value is used."""
    unnamed = []
    for a in _flat_args(args):
        if is_traced_number(a):
            _unnamed_number(recorders, a, unnamed)
        elif isinstance(a, Tensor):
            for rec in recorders:
                v = rec.env.get(id(a))
                if v is not None and not v.has_debug_name() and v.node.kind != "prim::Param":
                    unnamed.append((a, v))
            # (a submodule call's result: its graph's output is the value torch's tracer
            # named, the call's graph being a piece of the one trace: conv's `input`)
            for v in recorders[0].session.returned.pop(id(a), ()) if recorders else ():
                if not v.has_debug_name():
                    unnamed.append((a, v))
                    # (and its value in the top trace, whose names the calls' graphs
                    # take: trace_fixup_numbers.global_names)
                    t = v.node.meta.get("twin")
                    if t is not None and t.owning_block is not None and \
                            not t.outputs[v.offset].has_debug_name():
                        unnamed.append((a, t.outputs[v.offset]))
    if not unnamed:
        return
    f = calling_frame()
    if f is None:
        return
    names = {}
    for k, x in f.f_locals.items():
        if (isinstance(x, Tensor) or is_traced_number(x)) and k != "self" \
                and k.isidentifier():
            names.setdefault(id(x), k)
    for a, v in unnamed:
        k = names.get(id(a))
        if k is not None:
            if v.node.kind != "prim::Param" and v in v.graph.outputs:
                # (a finished call's output: its graph's parameters are named after the
                # caller's values only when the call becomes a method, so a parameter
                # still named after the forward's own (`input`) yields the name)
                p = v.graph._names.get(k)
                if p is not None and p.node.kind == "prim::Param":
                    p.set_debug_name(None)
            # (as torch's: an older value of that name, the local's earlier value or the
            # parameter it reassigns, becomes `%k.1`, `%k.3` ...; this one is `%k`)
            v.graph.take_name(v, k)


def _flat_args(args):
    """An op's arguments with the elements of its list arguments in their place: torch's
    tracer names the tensors of a Tensor[] (`torch.cat([x2, x1])`) and the sizes of an
    int[] as it stashes each element."""
    for a in args:
        if type(a) in (list, tuple):
            yield from a
        else:
            yield a


def _unnamed_number(recorders, a, unnamed):
    """A traced size's tensor Values (a 0-dim tensor in PyTorch's trace, named after the
    local holding it as a tensor is) that have no name yet."""
    for rec in recorders:
        v = a._values.get(id(rec))
        if v is not None and isinstance(v.type, T.TensorType) and not v.has_debug_name():
            unnamed.append((a, v))


class TraceSession:
    """One call of the traced function: the stack of recorders and what they share."""

    def __init__(self, root_module=None):
        self.recorders: list[Recorder] = []
        self.attr_paths = {}     # id(submodule / param / buffer) -> attribute path from root
        self.other_paths = {}    # id(...) -> every attribute path that reaches it
        self.module_graphs = {}  # id(submodule) -> (module, Recorder) of its first call
        self.method_counts = {}  # id(submodule) -> how many calls of it were recorded
        self.extra_methods = []  # (submodule, "forward1", graph) of its later calls
        self.call_recorders = []  # every submodule call's Recorder
        self.module_types = {}
        # (torch 2.13's scopes: none for the root's own ops, `__module.<path>` for a
        # submodule's, nested `__module.cell/__module.cell.linear`)
        self.scopes = []
        self.announced = set()   # ids of tensors gpujit.tensor & co. made (and warned of)
        # ids of the constant tensors each graph records as its own (a number in arithmetic
        # on sizes: torch.mul(bsz, CONSTANTS.c0)), no value a caller computed
        self.own_constants = set()
        # id(tensor) -> the unnamed output Values of finished submodule calls that returned
        # it (named after the local that holds it where it is used next)
        self.returned = {}
        self.root_module = root_module
        if root_module is not None:
            self._index_module(root_module, ())

    def _index_module(self, m, path):
        self.attr_paths.setdefault(id(m), path)
        self.other_paths.setdefault(id(m), []).append(path)
        for name, p in list(m._parameters.items()) + list(m._buffers.items()):
            if p is not None:
                self.attr_paths.setdefault(id(p), path + (name,))
                self.other_paths.setdefault(id(p), []).append(path + (name,))
        for name, v in vars(m).items():
            if type(v) is Tensor:   # a plain tensor attribute (self.scale = tensor(...)):
                self.announced.add(id(v))   # state the user keeps, a constant unwarned
            elif _is_custom_object(v):
                # (a torch.classes object, a quantized module's packed weight: read through
                # prim::GetAttr, as TorchScript's tracer reads it)
                self.attr_paths.setdefault(id(v), path + (name,))
                self.other_paths.setdefault(id(v), []).append(path + (name,))
        for name, c in m._modules.items():
            if c is not None and path + (name,) not in self.other_paths.get(id(c), ()) \
                    and len(path) < 64:
                self._index_module(c, path + (name,))

    def module_type(self, m):
        t = self.module_types.get(id(m))
        if t is None:
            # (a compiled submodule keeps its own type: `%s : __torch__.Sub`, unmangled)
            t = m.__dict__.get("_type")
            if not isinstance(t, T.ClassType):
                t = class_type_for(m)
            self.module_types[id(m)] = t
        return t

    # ------------------------------------------------------------------ constants
    def constant_tensor(self, rec, t):
        if t.requires_grad:
            raise RuntimeError(
                "Cannot insert a Tensor that requires grad as a constant. Consider making "
                "it a parameter or input, or detaching the gradient")
        if rec is self.recorders[0] and id(t) not in self.announced:
            warn_at_user(
                "a Tensor the trace did not produce (made outside the traced ops, e.g. by "
                "gpujit.tensor or from NumPy, or read from a global) is recorded as a "
                "constant: the traced function will always use its current value, whatever "
                "the inputs are", ignored_in_library=False)
        v = rec.constant(t, T.TensorType.of(t))
        rec.bind(t, v)
        return v

    def record_made(self, t, what, lifted=False):
        """torch.tensor / torch.as_tensor / torch.from_numpy of Python data called by the
        traced code: as torch 2.13's tracer records them, the data as a constant, then
        (data from a NumPy array, `lifted`) `aten::lift_fresh`, then (not from_numpy)
        `aten::to(c, device, dtype, False, copy, None)`, copy True for torch.tensor of an
        array, and, for torch.tensor, `aten::detach`
        (`torch.detach(torch.to(CONSTANTS.c0, torch.device("cpu"), 6))`), whose result is
        t (one that requires grad too: the graph's is detached)."""
        from ..ops import registry as _reg
        from ..ops.float8 import make as _f8make
        if what not in ("torch.tensor", "torch.as_tensor", "torch.from_numpy") or any(
                id(t) in rec.env for rec in self.recorders):
            return      # (torch.tensor of a traced size: recorded as aten::scalar_tensor)
        alias = lambda: _reg.wrap(t._data, t._dtype, t.device) if not getattr(  # noqa: E731
            t, "_float8_layout", False) else _f8make(t._f8bits, t._dtype, t.device)
        base = alias()          # the constant's value (no grad, no recorded op)
        self.announced.add(id(base))
        steps = [("aten::lift_fresh", ())] if lifted else []
        if what != "torch.from_numpy":
            copy = lifted and what == "torch.tensor"
            steps.append(("aten::to.device", (t.device, t.dtype, False, copy, None)))
        if what == "torch.tensor":
            steps.append(("aten::detach", ()))
        if not steps:
            return
        here = (source_range_here(), "/".join(self.scopes) or None)
        for rec in self.recorders:
            # each graph's own constant (a submodule's call that made it stays a method
            # call: its callers' constant would be a value it baked in), with the call's
            # source range, as torch's (`# f.py:10:0` on its line)
            rec.here = here
            try:
                self.constant_tensor(rec, base)
            finally:
                rec.here = (None, None)
        cur = base
        for i, (name, rest) in enumerate(steps):
            out = t if i == len(steps) - 1 else alias()
            self.record(_reg.OPS[name], (cur,) + rest, out)
            cur = out

    # ------------------------------------------------------------------ recording
    def record(self, op, args, result):
        """Append the call to every recorder. An int result computed from sizes (or from
        other traced ints) comes back as a TracedInt that remembers its Values."""
        sr = source_range_here()
        scope = "/".join(self.scopes) or None
        _name_values(self.recorders, args)
        nodes = [(rec, self._record_into(rec, op, args, result, sr, scope))
                 for rec in self.recorders]
        for _, n in nodes[1:]:      # (its node in the top trace: trace_fixup_numbers.names)
            n.meta["twin"] = nodes[0][1]
        if type(result) is int and op.name in _TENSOR_SIZE_OPS:
            # a size is a 0-dim int64 tensor in PyTorch's trace, `prim::NumToTensor` of
            # aten::size / aten::numel: the traced number stands for that tensor
            ty = T.TensorType(_dt.int64, (), (), _CPU)
            for i, (rec, n) in enumerate(nodes):
                t = rec.graph.create("prim::NumToTensor", [n.output], output_types=[ty],
                                     scope=scope)
                t.insert_after(n)
                nodes[i] = (rec, t)
        if type(result) in (int, float) and (op.name in _SIZE_OPS or any(
                is_traced_number(a) for a in args)):
            cls = TracedInt if type(result) is int else TracedFloat
            result = cls(result, {id(rec): n.output for rec, n in nodes})
            for rec, _ in nodes:
                rec.keep.append(result)
        return result

    def _record_into(self, rec, op, args, result, sr, scope):
        g = rec.graph
        params = op.schema.arguments
        if "factory" in op.tags:
            args = _factory_args(op, params, args, result)
        rec.here = (sr, scope)
        try:
            wraps = _wraps_numbers(op)
            inputs = [rec.wrapped_number(a) if wraps and _number_for_tensor(a, p.type)
                      else rec.value_of(a, p.type) for a, p in zip(args, params)]
        finally:
            rec.here = (None, None)
        rets = op.schema.returns
        results = result if len(rets) > 1 else (result,)
        kind = op.schema.name
        types = [rec.type_of_result(r) if not (isinstance(r, tuple) and rt.type.is_list)
                 else T.ListType(T.TENSOR) for r, rt in zip(results, rets)]
        if _dispatch_state.below_autograd:
            types = [t.with_(requires_grad=False) if isinstance(t, T.TensorType) else t
                     for t in types]
        n = g.create(kind, inputs, output_types=types, source_range=sr, scope=scope)
        n.op = op
        g.insert(n)
        for r, v, rt in zip(results, n.outputs, rets):
            if isinstance(r, Tensor):
                rec.bind(r, v)
            elif isinstance(r, tuple) and rt.type.is_list:
                un = g.insert_node("prim::ListUnpack", [v],
                                   output_types=[T.TensorType.of(x) for x in r])
                for x, uv in zip(r, un.outputs):
                    rec.bind(x, uv)
        return n


def _wraps_numbers(op) -> bool:
    """Does PyTorch's Python binding of op wrap a number given for a Tensor parameter in
    a tensor (number_operands.NUMBERS_AS_TENSORS: add, sub, mul, div, ... and their
    in-place forms)?"""
    return numbers_as_tensors(op.schema)


def _number_for_tensor(a, at) -> bool:
    return at.base == "Tensor" and not at.is_list and not is_traced_number(a) and \
        isinstance(a, (bool, int, float, np.integer, np.floating, np.bool_))


def _factory_args(op, params, args, result):
    """A factory call's arguments as TorchScript's tracer records them (the Python
    binding's): pin_memory=False, not None; and where no device was given, the device
    the tensor was made on (torch.zeros(3): device=torch.device("cpu")), but for the
    `_like` and `new_` factories, which follow their tensor argument."""
    names = [p.name for p in params]
    out = list(args)
    k = names.index("pin_memory") if "pin_memory" in names else -1
    if 0 <= k < len(out) and out[k] is None:
        out[k] = False
    base = op.schema.name.split("::", 1)[1]
    k = names.index("device") if "device" in names else -1
    if 0 <= k < len(out) and out[k] is None and isinstance(result, Tensor) and \
            not base.endswith("_like") and not base.startswith("new_"):
        out[k] = result.device
    return out


_TYPE_NAMES: dict = {}


def qualified_class_name(m) -> str:
    """The unmangled TorchScript name of a module instance's class (qualified_names:
    torch's _qualified_name); a scripted module (one being frozen) keeps its own type's
    name, a class built from an archive the name it was saved under
    (`_jit_override_qualname`, as torch's loader does)."""
    t = m.__dict__.get("_type") if hasattr(m, "__dict__") else None
    if isinstance(t, T.ClassType) and t.name.startswith("__torch__."):
        return unmangled(t.name)
    return qualified_name(type(m))


_GIVEN: set = set()       # every module type name handed out


def _new_type_name(base) -> str:
    """base for the first type of that name, then base mangled (TorchScript's rule). A
    name handed out before is never given again: a loaded archive's type named
    `___torch_mangle_1.Sub` is not the type this process mangled so (it would share that
    type's methods)."""
    k = _TYPE_NAMES.get(base, 0)
    _TYPE_NAMES[base] = k + 1
    name = base if k == 0 else mangled(base)
    while name in _GIVEN:
        name = mangled(base)
    _GIVEN.add(name)
    return name


def _is_custom_object(v) -> bool:
    """Is v an object of a torch.classes custom class (ops/packed_params.py)?"""
    q = getattr(type(v), "_qualified_name", None)
    return isinstance(q, str) and q.startswith("__torch__.torch.classes.")


def class_type_for(m) -> T.ClassType:
    """A ClassType for a module instance: `__torch__.MyCell`, mangled as TorchScript does
    when another instance of the class already has a type (their graphs may differ)."""
    t = T.ClassType(_new_type_name(qualified_class_name(m)))
    known = m.__dict__.get("_type") if hasattr(m, "__dict__") else None
    unit = getattr(known, "unit", None)
    if unit is not None and known.shown is not None:
        # (a module a loaded archive made: its load's unit names the new type)
        object.__setattr__(t, "shown", unit.mangled(known.shown))
        object.__setattr__(t, "unit", unit)
    return T.register_class_type(t, weak=True)


_SHARED: dict = {}      # base name -> [(concrete key, type name)] of scripted modules


def shared_type_name(m, key) -> str:
    """The type name of module m being scripted, whose concrete type is `key` (its class,
    constants, attribute types, submodules' type names...: what TorchScript's
    ConcreteModuleTypeBuilder compares): an earlier scripted module's with an equal key,
    as torch.jit.script shares one type between them (`torch.jit.script(MyCell())` twice:
    `__torch__.MyCell` both times), else a new name. Traced modules always get a new one."""
    base = qualified_class_name(m)
    known = _SHARED.setdefault(base, [])
    for k, name in known:
        try:
            if k == key:
                return name
        except Exception:       # (a constant whose == raises: not the same type)
            continue
    name = _new_type_name(base)
    known.append((key, name))
    return name


# ---------------------------------------------------------------------- the active session
class _ActiveState(threading.local):
    """The session tracing in this thread: ops of other threads, which pass through the
    same (process-wide) dispatch hook meanwhile, are not recorded into it. `quiet`: a
    list that collects this thread's TracerWarnings instead of showing them."""
    session = None
    quiet = None


_Active = _ActiveState()


def current_session():
    return _Active.session


def record_prim(kind, args, result):
    """A graph op with no registry entry (prim::AddStatValue, prim::TimePoint) called
    eagerly: appended to every recorder of the session tracing now, its arguments as
    constants (or the traced values they are), its result (an int) as a new value."""
    s = _Active.session
    if s is None or s.paused:
        return
    sr = source_range_here()
    scope = "/".join(s.scopes) or None
    for rec in s.recorders:
        inputs = [rec.value_of(a) for a in args]
        types = [] if result is None else [T.type_of_value(result)]
        rec.graph.insert(rec.graph.create(kind, inputs, output_types=types,
                                          source_range=sr, scope=scope))


def _check_inplace(self, op, args):
    """Warn when an in-place op writes memory that other live tensors of the trace see."""
    t = args[0]
    if not isinstance(t, Tensor):
        return
    rec = self.recorders[0]
    others = [u for u in rec.keep if isinstance(u, Tensor) and u is not t
              and u._data is not t._data and np.may_share_memory(u._data, t._data)]
    seen, refs = set(), 0
    for u in others:
        if id(u) not in seen:
            seen.add(id(u))
            refs += 1
    if refs:
        warn_at_user(
            f"There are {refs + 1} live references to the data region being modified when "
            f"tracing in-place operator {op.schema.base_name} (possibly due to an "
            f"assignment). This might cause the trace to be incorrect, because all other "
            f"views that also reference this data will not reflect this change in the "
            f"trace! On the other hand, if all other views use the same memory chunk, but "
            f"are disjoint (e.g. are outputs of torch.split), this might still be safe.")


def _record_call(self, graph, module, args, result, fn=None):
    """A compiled graph (a traced or scripted function/method `fn`) called during a trace:
    recorded as TorchScript's tracer records it, a `prim::CallFunction` of the function /
    `prim::CallMethod` of the submodule (its .code `__torch__.f(x, 2, )`,
    `(s).forward(x, )`; the executor inlines it before optimizing). Without fn, or for
    the scripted copy an eager module runs as (nn.LSTM & co.) or a module the trace does
    not reach by attributes, its body is copied into every recorder, so its control flow
    survives."""
    # (a function's arguments' constants carry the call's source range, as torch's
    # tracer records them: `%1 : int = prim::Constant[value=3]() # f.py:14:0`; a method
    # call's point into torch's Module._call_impl: none here)
    here = (source_range_here(), "/".join(self.scopes) or None) if module is None else \
        (None, None)
    for rec in self.recorders:
        g = rec.graph
        inputs = []
        keep = fn is not None
        if module is not None:
            mv = rec.attr_value(module)
            if mv is None and "_stands_for" in module.__dict__:
                # a scripted copy an eager module runs as while traced (nn.LSTM & co.):
                # read through the original's attribute path
                mv = rec.attr_value(module.__dict__["_stands_for"]())
                keep = False
            if mv is None:
                mv = g.insert_constant(module, graph.inputs[0].type)
                keep = False
            inputs.append(mv)
        callee = fn.graph if keep else graph
        keep = keep and len(callee.outputs) == 1
        if keep:
            graph = callee
        params = graph.inputs[len(inputs):]
        # a size given for a number argument is baked in as a constant, as PyTorch 2.13's
        # tracer passes Python numbers to a scripted call (script_if_tracing too)
        args = [_plain_numbers(a) for a in args]
        rec.here = here
        try:
            inputs += [_typed_arg(rec, a, p.type) for a, p in zip(args, params)]
            inputs += [rec.value_of(a) for a in args[len(params):]]
        finally:
            rec.here = (None, None)
        if keep:
            ty = rec.type_of_result(result) if isinstance(result, Tensor) else \
                T.without_shapes(callee.outputs[0].type)
            kind = "prim::CallFunction" if module is None else "prim::CallMethod"
            if module is None:      # (torch's form: the function a `Function` constant)
                fc = g.insert_node("prim::Constant", [], output_types=[T.FUNCTION],
                                   attrs={"name": fn.name})
                fc.meta["function"] = callee
                inputs = [fc.output] + inputs
            n = g.insert_node(kind, inputs, output_types=[ty], attrs={"name": fn.name})
            n.meta["callee"] = callee
            if module is None:
                n.meta["qualified_name"] = fn.qualified_name
            _bind_result(rec, result, n.output)
            continue
        outs = g.insert_graph(graph, inputs)
        _bind_result(rec, result, outs[0] if len(outs) == 1 else None)


def _plain_numbers(a):
    if is_traced_number(a):
        return plain(a)
    if type(a) in (list, tuple) and any(is_traced_number(e) for e in a):
        return type(a)(plain(e) if is_traced_number(e) else e for e in a)
    return a


def _typed_arg(rec, a, ty):
    """The Value for argument a of a compiled call whose parameter has type ty: a None
    for an Optional (also inside a tuple: a PackedSequence's sorted_indices) keeps the
    parameter's type, so the inlined body (its `is not None` branches too) still types
    when the trace is printed and compiled back."""
    g = rec.graph
    if a is None and isinstance(ty, T.OptionalType):
        return rec.constant(None, ty)
    if isinstance(a, tuple) and isinstance(ty, T.TupleType) and len(a) == len(ty.elems) \
            and any(e is None for e in a):
        elems = [_typed_arg(rec, e, et) for e, et in zip(a, ty.elems)]
        return g.insert_node("prim::TupleConstruct", elems, output_types=[
            ty if isinstance(ty, T.NamedTupleType) else
            T.TupleType(tuple(e.type for e in elems))]).output
    return rec.value_of(a)


def _bind_result(rec, r, v, seen=None):
    """Bind the tensors of a call's result to the Values that stand for them; a tensor
    returned twice stands for its last Value, as TorchScript's tracer sets the value of a
    tensor each time it unpacks it (the tutorial's `_0, y, = (loop).forward(xs, )` of a
    loop returning `y, h`, both the cell's one `new_h`)."""
    if v is None:
        return
    seen = set() if seen is None else seen
    if isinstance(r, Tensor):
        seen.add(id(r))
        rec.bind(r, v)
    elif isinstance(r, (tuple, list)) and isinstance(v.type, (T.TupleType, T.ListType)):
        kind = "prim::TupleUnpack" if isinstance(v.type, T.TupleType) else "prim::ListUnpack"
        types = [rec.type_of_result(x) for x in r]
        n = rec.graph.insert_node(kind, [v], output_types=types)
        for x, o in zip(r, n.outputs):
            _bind_result(rec, x, o, seen)
    elif isinstance(r, dict) and isinstance(v.type, T.DictType) and _holds_tensor(r):
        for k, x in r.items():          # (a scripted call returning a dict of tensors)
            if isinstance(k, (str, int, float, bool)):
                kv = rec.graph.insert_constant(k)
                o = rec.graph.insert_node("aten::__getitem__", [v, kv],
                                          output_types=[v.type.value]).output
                _bind_result(rec, x, o, seen)


TraceSession.check_inplace = _check_inplace
TraceSession.record_call = _record_call
TraceSession.paused = False
TraceSession.force_outplace = False     # (trace's _force_outplace)


# the boundary of a traced graph (its inputs and outputs): trace_boundary.py
from .trace_boundary import _holds_tensor, _erased  # noqa: E402
