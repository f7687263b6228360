"""Graph -> the Python source of one function over raw arrays (the executor's code).

    def forward_0(x, y):
        x = x._data
        y = y._data
        a = _np_multiply(x, y)                  # aten::mul
        b = _impl_sigmoid(_np, a)               # aten::sigmoid
        return _wrap(b, _float32, _cpu)

Tensors are unwrapped once at entry and wrapped once at return; in between every value is
a raw array (or a Python value), and each aten node is one call of its impl (or of the one
NumPy/CuPy function the impl is, see impl_facts) with the casts, device moves and result
fixes that eager gpujit would make at run time decided here from the profile (see
assume.py); a node whose types the profile does not fix runs the op's eager entry point
(`_op_<name>`, boxed). prim::If and prim::Loop become `if`/`for`/`while`; constants become
literals or bound names. aten lowering lives in codegen_aten.py, the prim:: emitters in
codegen_prim.py.
"""
from __future__ import annotations

import enum
import keyword
import math
import re
import warnings

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu
from ..ops.registry import empty_layout, wrap_checked, wrap_statements
from ..ops.scalar_ops import FORM_HELPERS
from ..tensor import Tensor
from ..ir import types as T
from .arguments import COPIED_ON_READ, live_attr, set_live_attr
from .assume import assumptions, always_raises
from .interpreter import emit_warning, exception_for, num_to_tensor
from .objects import unwind_with
from .profile import TensorSpec, ValueSpec, TupleSpec, ListSpec
from . import codegen_aten
from .codegen_prim import PRIM_EMITTERS, _attr_ref, _rebuilt_at_return
from . import support
from . import objects as _objects     # also registers the interpreter's object handlers

__all__ = ["CodeGenerator", "CodeGenError", "python_literal"]

# NumPy warns on log(0), 0/0, overflow ...; gpujit computes silently, as PyTorch does (the
# eager entry points' filter, ops/registry.py, covers the same calls made from eager code)
GENERATED_MODULE = "gpujit.runtime.generated"
warnings.filterwarnings("ignore", category=RuntimeWarning,
                        module=re.escape(GENERATED_MODULE) + "$")

# names the generated code calls; a Value named like one gets another name
_RESERVED = {"range", "len", "print", "float", "int", "bool", "tuple", "list", "type",
             "isinstance", "getattr", "setattr", "None", "True", "False"}
_PLAIN_TYPES = (int, float, bool, str, type(None), complex)


_FRESH = frozenset()
_ELEMENT_OF = frozenset({"prim::ListUnpack", "prim::TupleUnpack", "prim::TupleIndex",
                         "aten::__getitem__", "prim::ListIndex"})


def _view_sources(v, inputs, memo, sub_inputs):
    """The graph inputs (of `inputs`) whose memory Tensor value v may share: a view op's
    result shares its input's, an in-place op's its target's, an `if`/loop output any
    branch's or iteration's; a fusion group's outputs are new except what its subgraph
    passes through. A value made by code the walk does not follow may share any input's
    (the returned Tensor then tests its memory at run time)."""
    if v in memo:                       # (a loop's cycle: what the other paths give)
        return _FRESH
    memo[v] = True
    try:
        return _view_sources_of(v, inputs, memo, sub_inputs)
    finally:
        del memo[v]


def _view_sources_of(v, inputs, memo, sub_inputs):
    if v in inputs:
        return frozenset((v,))
    if v in sub_inputs:                 # a fusion group's subgraph input: the group's
        return _view_sources(sub_inputs[v], inputs, memo, sub_inputs)
    n = v.node
    k = n.kind

    def walk(x):
        return _view_sources(x, inputs, memo, sub_inputs)

    def union(xs):
        out = set()
        for x in xs:
            s = walk(x)
            if s is inputs:
                return inputs
            out |= s
        return frozenset(out)

    if k == "prim::Constant":
        return _FRESH
    if k == "prim::If":
        return union([b.outputs[v.offset] for b in n.blocks])
    if k == "prim::Loop":
        i = v.offset
        return union([n.inputs[2 + i], n.blocks[0].outputs[1 + i]])
    if k == "prim::Param":
        owner = n.owning_block.owning_node if n.owning_block is not None else None
        if owner is not None and owner.kind == "prim::Loop" and v.offset >= 1:
            i = v.offset - 1
            return union([owner.inputs[2 + i], owner.blocks[0].outputs[1 + i]])
        return inputs
    if k == "prim::TensorExprGroup":
        sub = n.attrs.get("Subgraph")
        if sub is None:
            return inputs
        inner = dict(sub_inputs)
        inner.update(zip(sub.inputs, n.inputs))
        return _view_sources(sub.outputs[v.offset], inputs, memo, inner)
    if k in _ELEMENT_OF:
        c = n.inputs[0]
        if c.node.kind in ("prim::ListConstruct", "prim::TupleConstruct"):
            return union(c.node.inputs)
        return walk(c)
    op = n.op
    if op is not None:
        rets, args = op.schema.returns, op.schema.arguments
        if v.offset >= len(rets):
            return inputs
        alias = rets[v.offset].type.alias
        if alias is None:
            return inputs if "view" in op.tags else _FRESH
        return union([x for a, x in zip(args, n.inputs) if a.type.alias == alias])
    if k in ("prim::ListConstruct", "prim::TupleConstruct"):
        return union(n.inputs)
    return inputs


def _holds_tensors(t) -> bool:
    """Is IR type t a Tensor, or a list or tuple holding Tensors?"""
    if isinstance(t, T.ListType):
        return _holds_tensors(t.elem)
    if isinstance(t, T.TupleType):
        return any(_holds_tensors(e) for e in t.elems)
    return isinstance(t, T.TensorType)


def _opaque(pytype):
    """Values of this type hold no tensors: they cross the boundary unchanged."""
    if pytype in _PLAIN_TYPES:
        return True
    if issubclass(pytype, (tuple, list, dict, np.ndarray, np.generic)):
        return False
    return not pytype.__module__.startswith("cupy")


class CodeGenError(RuntimeError):
    """The code generator met a graph it cannot lower (a bug or an unsupported kind)."""


def python_literal(v):
    """Source text for a constant that Python can spell, else None."""
    if isinstance(v, enum.Enum):          # an Enum member (an `int, Enum` one too): bound
        return None
    if v is None or isinstance(v, (bool, str, int)):
        return repr(v)
    if isinstance(v, float) and math.isfinite(v):
        return repr(v)
    if isinstance(v, complex) and math.isfinite(v.real) and math.isfinite(v.imag):
        return repr(v)
    return None


_PLAIN_WRAP = re.compile(r"_wrap\((\w+), (\w+), (\w+)\)")


def _handed_back_input(v):
    """The graph input that Value v is when each op from it to v handed back its own
    input (entry_codegen._returns_input: to, type_as, contiguous... whose eager call
    returns the input Tensor itself then), else None."""
    from ..ops.entry_codegen import _returns_input
    seen = False
    while v.node is not None and v.node.kind.startswith("aten::"):
        op = getattr(v.node, "op", None)
        if op is None or not v.node.inputs or len(v.node.outputs) != 1 \
                or not _returns_input(op):
            return None
        v, seen = v.node.inputs[0], True
    if seen and v.node is not None and v.node.kind == "prim::Param":
        return v
    return None


class CodeGenerator:
    """One specialized function: `generate()` returns (source, namespace)."""

    def __init__(self, graph, profile, fname, hoisted=(), *, stale=None, deopt=None,
                 module=None, fusion_budget=None):
        self.graph = graph
        self.fusion_budget = fusion_budget   # shared by the function's fusion groups
        self.groups = []                     # the FusedGroups the code calls
        self.group_of = {}                   # group node -> its FusedGroup
        self.profile = profile
        self.fname = fname
        self.hoisted = list(hoisted)
        self.hoisted_set = set(hoisted)
        self.module = module       # the profiled call's module: where its attributes live
        # checked: If node -> its branches the profile did not see, whose end checks
        # that the outputs fit the types the code after the If was made for (resume.py)
        self.specs, self.checked = assumptions(graph, profile, hoisted)
        if stale is None:       # (nothing profiled: no types to check against)
            self.checked = {}
        self.uncounted = set()      # counters of loops that keep no count (codegen_prim)
        self.ns = {"__name__": GENERATED_MODULE, "_MISSING": _MISSING, "_np": np,
                   "_asarray": np.asarray, "_copyto": np.copyto, "_wrap": wrap_checked, "_dtof": _dt._FROM_NP.__getitem__, "_T": Tensor, "_new": object.__new__, "_empty_layout": empty_layout,
                   "_passed": support.passed_input, "_share_vc": support.share_counter,
                   "_view_base": support.view_base,
                   "_bump_vc": support.bump_counter,
                   "_box": support.box, "_unbox": support.unbox, "_item": support.item,
                   "_bcast": support.broadcast_failure,
                   "_shape_error": support.inplace_shape_error,
                   "_exception_for": exception_for, "_emit_warning": emit_warning,
                   "_unwind_with": unwind_with,
                   "_dtype_of": support.dtype_of,
                   "_scalar_type_code": _dt.scalar_type_code,
                   "_device_of": support.device_of, "_num_to_tensor": num_to_tensor,
                   "_live_attr": live_attr, "_set_live_attr": set_live_attr,
                   **FORM_HELPERS}
        self.has_stale = stale is not None
        if stale is not None:
            self.ns["_stale"] = stale
        if deopt is not None:
            self.ns["_deopt"] = deopt
        self._bound = {}
        self.used = set(_RESERVED) | set(keyword.kwlist) | set(self.ns) | {"_exc"}
        self.names = {}        # Value -> variable name or constant expression
        self.objs = {}         # Value -> expression of the Tensor object it is (identity)
        self.used_objs = set()
        self.obj_sources = {}       # alias Value -> the Value whose Tensor object it shares
        self.pre = []          # function entry: module attribute reads and their guards
        self.warned = None     # the name of the set of aten::warn nodes that have warned
        self.entered = None    # the name of the list of objects `with obj:` has entered
        self._alias_db = None  # the graph's AliasDb, built when a return needs it
        self.lines = []
        self.line_nodes = []   # per line of self.lines: the node emitting it (errors)
        self._emitting = None
        self.depth = 1

    # ------------------------------------------------------------------ names
    def new_var(self, hint):
        base = re.sub(r"\W", "_", hint or "v").lstrip("_") or "v"
        if base[0].isdigit():
            base = "v" + base
        return self._unique(base)

    def _unique(self, base):
        name, k = base, 1
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def alias_db(self):
        """The graph's AliasDb (built on first use)."""
        if self._alias_db is None:
            from ..passes.alias_analysis import AliasDb
            self._alias_db = AliasDb(self.graph)
        return self._alias_db

    def define(self, v):
        name = self.new_var(v.debug_name)
        self.names[v] = name
        return name

    def bind(self, obj, hint):
        """A global name in the generated module's namespace holding obj."""
        key = id(obj)
        got = self._bound.get(key)
        if got is not None and self.ns[got] is obj:
            return got
        name = self._unique("_" + (re.sub(r"\W", "_", hint).strip("_") or "k"))
        self.ns[name] = obj
        self._bound[key] = name
        return name

    def bind_dtype(self, d):
        return self.bind(d, d.name)

    def bind_np_dtype(self, d):
        return self.bind(d.np, "np_" + d.name)

    def bind_device(self, dev):
        return self.bind(dev, str(dev).replace(":", ""))

    def xp_name(self, dev):
        if dev is _cpu:
            return "_np"
        from ..device import require_cupy
        self.ns.setdefault("_cp", require_cupy())
        return "_cp"

    def ref(self, v):
        """The expression for Value v where it is used."""
        got = self.names.get(v)
        if got is not None:
            return got
        if v.node.kind == "prim::Constant":
            return self._constant(v)
        raise CodeGenError(f"{v} is used before the generated code defines it")

    def obj(self, v):
        """The expression of the Tensor object v stands for (an input, a module
        attribute, a constant), or None."""
        e = self.objs.get(v)
        if e is not None:
            self.used_objs.add(v)
            src = self.obj_sources.get(v)      # an alias (unchecked_cast) of an input
            while src is not None:
                self.used_objs.add(src)
                src = self.obj_sources.get(src)
        return e

    def _constant(self, v):
        val = v.node.attrs.get("value")
        lit = python_literal(val)
        if lit is not None:
            e = lit
        elif isinstance(val, Tensor):
            e = self.bind(val._data, f"c{v.debug_name}")
            self.objs[v] = self.bind(val, f"c{v.debug_name}_t")
        elif isinstance(val, _dt.dtype):
            e = self.bind_dtype(val)
        elif isinstance(val, list) and val and all(isinstance(t, Tensor) for t in val):
            # (a Tensor[] constant: the generated code's tensor lists hold arrays, as
            # _assemble unwraps a Tensor[] input)
            e = self.bind([t._data for t in val], f"c{v.debug_name}")
        else:
            e = self.bind(val, f"c{v.debug_name}")
        self.names[v] = e
        return e

    # ------------------------------------------------------------------ emission
    def emit(self, line):
        self.lines.append("    " * self.depth + line)
        self.line_nodes.append(self._emitting)

    def assign(self, targets, values):
        pairs = [(t, self.ref(v)) for t, v in zip(targets, values)]
        pairs = [(t, e) for t, e in pairs if t != e]
        if len(pairs) == 1:
            self.emit(f"{pairs[0][0]} = {pairs[0][1]}")
        elif pairs:
            self.emit(", ".join(t for t, _ in pairs) + " = " + ", ".join(e for _, e in pairs))

    def generate(self):
        g = self.graph
        self._check_attr_containers()
        params = []
        for v in g.inputs:
            name = self.define(v)
            params.append(name)
            if isinstance(self.specs.get(v), TensorSpec):
                self.objs[v] = self.new_var(name + "_t")
        self._hoist_attrs()
        self.emit_block(g.block, top=True)
        self._return(g.outputs)
        return self._assemble(params), self.ns

    def _assemble(self, params):
        g = self.graph
        head, unwrap = [], []
        for v, name in zip(g.inputs, params):
            s = self.specs.get(v)
            if isinstance(s, TensorSpec):
                p = self.objs[v] if v in self.used_objs else name
                head.append(p)
                unwrap.append(f"    {name} = {p}._data")
            elif isinstance(s, ListSpec) and isinstance(s.elem, TensorSpec):
                head.append(name)
                unwrap.append(f"    {name} = [t._data for t in {name}]")
            elif (isinstance(s, ValueSpec) and s.pytype in _PLAIN_TYPES) or isinstance(
                    v.type, T.ClassType):
                head.append(name)
            else:
                head.append(name)
                unwrap.append(f"    {name} = _unbox({name})")
        args = ", ".join(head)
        pre = [line.replace("@ARGS@", args) for line in self.pre]
        body = self.lines
        if self.entered is not None:    # `with obj:` bodies: exit them if one raises
            body = ["    try:"] + ["    " + line for line in body] + [
                "    except BaseException:",
                f"        _unwind_with({self.entered})", "        raise"]
        self._unwrap = unwrap
        src = [f"def {self.fname}({args}):"] + pre + unwrap + body
        return "\n".join(src) + "\n"

    def emit_block(self, block, top=False):
        if (not top and self.has_stale and block not in self.profile.blocks
                and not always_raises(block)):
            self.emit("_stale()          # this path was not profiled: ask for a new profile")
        dead_after = _last_uses(block) if top else {}
        for n in block.nodes:
            self.emit_node(n)
            if n.kind == "prim::RaiseException":
                break                       # what follows never runs
            self._release(dead_after.get(n, ()))

    def _release(self, values):
        """`del` the arrays no later node reads, as torch.fx does: a temporary kept alive to
        the end of the function keeps its memory from being reused by the next op (at 2^20
        elements NumPy then faults in fresh pages for every op, several times slower)."""
        names = []
        for v in values:
            name = self.names.get(v)
            if (name is None or not name.isidentifier() or keyword.iskeyword(name)
                    or name.startswith("_")
                    or sum(1 for e in self.names.values() if e == name) != 1):
                continue                    # a constant, a global, or a name two values share
            names.append(name)
            del self.names[v]
        if names:
            self.emit(f"del {', '.join(names)}")

    def emit_node(self, n):
        k = n.kind
        if k == "prim::Constant" or n in self.hoisted_set:
            return
        outer, self._emitting = self._emitting, n
        try:
            emitter = PRIM_EMITTERS.get(k)
            if emitter is not None:
                emitter(self, n)
            elif k.startswith("aten::") or n.op is not None:      # (prim::max: a registry op)
                codegen_aten.emit_aten(self, n)
            else:
                raise CodeGenError(f"the executor cannot run {k} nodes ({n!r})")
        finally:
            self._emitting = outer

    def node_lines(self):
        """{line of the generated source: the node that emitted it} (_assemble's layout:
        the def line, the entry reads, the unwrapping, a `try:` around a with-body)."""
        at = 2 + sum(line.count("\n") + 1 for line in self.pre + self._unwrap) + (
            self.entered is not None)
        out = {}
        for line, n in zip(self.lines, self.line_nodes):
            k = line.count("\n") + 1        # (an emitted line may hold several)
            if n is not None:
                for j in range(k):
                    out[at + j] = n
            at += k
        return out

    # ------------------------------------------------------------------ the boundary
    def wrap_expr(self, v, counts=None):
        """The expression returning Value v to the caller: Tensors wrapped (the same
        object for an input, a module attribute, an in-place result of one)."""
        o = self.obj(v)
        if o is not None:
            return o
        n = v.node
        if _rebuilt_at_return(self, n):
            items = [self.wrap_expr(x) for x in n.inputs]
            if n.kind == "prim::DictConstruct":       # (Tensor keys hash as Tensors)
                return "{" + ", ".join(f"{k}: {x}" for k, x in zip(items[0::2],
                                                                   items[1::2])) + "}"
            if n.kind == "prim::ListConstruct":
                return "[" + ", ".join(items) + "]"
            cls = _objects.namedtuple_class(n.output.type)
            if cls is not None:
                return f"{self.bind(cls, cls.__name__)}({', '.join(items)})"
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        e = self.wrap_spec(self.ref(v), self.specs.get(v))
        views_of = self._viewed_inputs(v)
        if views_of:
            e = f"_share_vc({e}, ({', '.join(views_of)},))"
        root = self._viewed_intermediate(v)
        if root is not None:    # (the root's Tensor when it is returned too: _return)
            e = f"_view_base({e}, {self.objs.get(root, 'None')})"
        passed = self._passed_inputs(v)
        if passed:
            t = self.new_var("passed")
            return (f"({t} if ({t} := _passed({self.ref(v)}, ({', '.join(passed)},))) "
                    f"is not None else {e})")
        return e

    def bump_viewed(self, v, cond=None):
        """After an in-place write into Tensor value v, which is no Tensor object the
        caller holds: when v may be a view of an input (x[0].add_(1), x[1:] = 0), the
        input's version counter counts the write, as eager's shared counter does."""
        ins = self._viewed_inputs(v)
        if ins:
            line = f"_bump_vc({self.ref(v)}, ({', '.join(ins)},))"
            self.emit(f"if {cond}: {line}" if cond else line)

    def _viewed_inputs(self, v):
        """The Tensor input objects a returned Tensor (or list or tuple of them: split's
        pieces) may be a view of."""
        if not (isinstance(self.specs.get(v), (TensorSpec, ListSpec, TupleSpec))
                or _holds_tensors(v.type)):
            return None
        tensor_ins = [x for x in self.graph.inputs
                      if isinstance(self.specs.get(x), TensorSpec) and x in self.objs]
        if not tensor_ins:
            return None
        srcs = _view_sources(v, set(tensor_ins), {}, {})
        return [self.obj(x) for x in tensor_ins if x in srcs]

    def _passed_inputs(self, v):
        """The Tensor input objects a returned loop or `if` output may be unchanged (a
        loop that ran no trip, a branch that returns its input), or the input a chain of
        ops that hand back their input when nothing needs doing (x.float() of a float
        x, contiguous, type_as: eager returns that same Tensor object, requires_grad and
        all, also under no_grad) may have returned."""
        if not isinstance(v.type, T.TensorType):
            return None
        src = _handed_back_input(v)
        if src is not None:
            return [self.obj(src)] if src in self.objs and isinstance(
                self.specs.get(src), TensorSpec) else None
        if v.node.kind not in ("prim::Loop", "prim::If"):
            return None
        out = []
        for x in self.graph.inputs:
            if isinstance(self.specs.get(x), TensorSpec) and x in self.objs and any(
                    u.user.kind == "prim::Loop" or (u.user.kind == "prim::Return" and
                                                    u.user.owning_block is not
                                                    self.graph.block) for u in x.uses):
                out.append(self.obj(x))
        return out

    def wrap_spec(self, e, s):
        if isinstance(s, TensorSpec):      # (CPU values are ndarrays: see codegen_aten)
            return f"_wrap({e}, {self.bind_dtype(s.dtype)}, {self.bind_device(s.device)})"
        if isinstance(s, ValueSpec) and _opaque(s.pytype):
            return e
        if isinstance(s, TupleSpec):
            items = [self.wrap_spec(f"{e}[{i}]", x) for i, x in enumerate(s.elems)]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if isinstance(s, ListSpec) and isinstance(s.elem, TensorSpec):
            return f"[{self.wrap_spec('a_', s.elem)} for a_ in {e}]"
        return f"_box({e})"

    def _return(self, outs):
        seen = {}
        for v in outs:
            self._count(v, seen)
        roots = {self._viewed_intermediate(v) for v in seen}
        for v, k in seen.items():     # a value returned twice is one Tensor, wrapped once
            # (so is one a returned view of it names as its _base: `return y.t(), y`)
            if (k > 1 or v in roots) and v not in self.objs and \
                    isinstance(self.specs.get(v), TensorSpec):
                name = self.new_var(self.names.get(v, "out") + "_w")
                self.emit(f"{name} = {self.wrap_expr(v)}")
                self.objs[v] = name
        items = [self.wrap_expr(v) for v in outs]
        for j, e in enumerate(items):       # a Tensor made here: wrapped inline
            m = _PLAIN_WRAP.fullmatch(e)
            if m is not None:
                items[j] = self.new_var("ret")
                self.emit(wrap_statements(items[j], *m.groups()))
                # (registry.wrap_checked, inline, for an op whose impl's dtype is not cast
                # to the profile's (pointwise code and fused kernels cast theirs): the
                # array's own dtype where the profile's differs)
                op = getattr(outs[j].node, "op", None)
                if op is not None and not op.is_pointwise:
                    a, dt = m.group(1), m.group(2)
                    self.emit(f"if {a}.dtype != {dt}.np: {items[j]}._dtype = "
                              f"_dtof({a}.dtype)")
        if len(items) == 1:
            self.emit(f"return {items[0]}")
        elif not items:
            self.emit("return None")
        else:
            self.emit("return " + ", ".join(items))

    def _viewed_intermediate(self, v):
        """The value this code computed (not an input: share_counter's) that returned
        Tensor value v is a view of, through a chain of view ops, or None. Eager's result
        has it as its _base ((x * 2).t()._base), which support.view_base gives it."""
        if not isinstance(self.specs.get(v), TensorSpec) or v in self.objs:
            return None
        x = v
        while True:
            op = getattr(x.node, "op", None)
            if op is None or "view" not in op.tags or not x.node.inputs:
                break
            x = x.node.inputs[0]
        if x is v or x in self.graph.inputs or x.node.kind in ("prim::Param",
                                                                "prim::Constant"):
            return None
        return x if isinstance(self.specs.get(x), TensorSpec) else None

    def _count(self, v, seen):
        n = v.node
        if _rebuilt_at_return(self, n) and v not in self.objs:
            for x in n.inputs:
                self._count(x, seen)
        else:
            seen[v] = seen.get(v, 0) + 1

    # ------------------------------------------------------------------ module attributes
    def _check_attr_containers(self):
        """A module attribute that is a list or dict holding Tensors (`self.outs:
        List[Tensor]`, `self.state: Dict[str, Tensor]`, also inside a tuple or Optional)
        changed in place by this graph
        (`self.outs.append(y)`, `self.state[k] = y`): the array code reads such a container
        unboxed, a copy of it, so its writes would not reach the module (nor store Tensor
        objects in it): the graph runs op by op, on the module's own objects."""
        db = None
        for n in self.graph.walk():
            if n.kind != "prim::GetAttr":
                continue
            t = n.output.type
            if not _holds_tensor_container(t):
                continue
            root = n.inputs[0]
            while root.node.kind == "prim::GetAttr":
                root = root.node.inputs[0]
            if root.node.kind == "prim::CreateObject":
                continue        # (an object this code made holds arrays: no copy is read)
            db = db or self.alias_db()
            if any(_changes_containers(w) for w in db.writers(n.output)):
                raise CodeGenError(f"the attribute '{n.attrs['name']}' ({t.annotation()}) "
                                   f"is changed in place")

    def _hoist_attrs(self):
        """Module attribute reads at entry, each guarded by the type the profile saw; a
        failed guard hands the call back to the executor before anything ran."""
        objs = {self.graph.inputs[0]: self.module} if self.hoisted else {}
        for n in self.hoisted:
            v = n.output
            obj = self.ref(n.inputs[0])
            name = self.define(v)
            attr = n.attrs["name"]
            read, objs[v] = _attr_read(objs.get(n.inputs[0]), obj, attr)
            s = self.specs.get(v)
            if isinstance(s, TensorSpec):
                t = self.new_var(name + "_t")
                rank = f" and {t}._data.ndim == {s.ndim}" if s.ndim is not None else ""
                self.pre.append(f"    {t} = {read}")
                self.pre.append(
                    f"    if not (isinstance({t}, _T) and {t}._dtype is "
                    f"{self.bind_dtype(s.dtype)} and {t}._device is "
                    f"{self.bind_device(s.device)}{rank}):")
                self.pre.append("        return _deopt(@ARGS@)")
                self.pre.append(f"    {name} = {t}._data")
                self.objs[v] = t
            elif isinstance(s, ValueSpec):
                self.pre.append(f"    {name} = {read}")
                if s.pytype is type(None):
                    self.pre.append(f"    if {name} is not None:")
                else:
                    self.pre.append(f"    if type({name}) is not "
                                    f"{self.bind(s.pytype, s.pytype.__name__)}:")
                self.pre.append("        return _deopt(@ARGS@)")
            else:                  # read on a path the profile never ran: nothing known
                self.pre.append(f"    {name} = _unbox({read})")


_MISSING = object()
_MODULE_DICTS = ("_parameters", "_buffers", "_modules")


def _changes_containers(w) -> bool:
    """Can writer w change a list or dict itself: a mutator (append, _set_item, ...), an
    opaque call, a SetAttr, an op taking a container? An in-place Tensor op writes data
    only (the alias classes are coarse: a BatchNorm buffer's add_ in the wildcard class
    reads as a write of every module list, as of a GRU's _flat_weights)."""
    from ..ir.schema_match import SIDE_EFFECT_KINDS
    if _objects.marker_writes_nothing(w):
        return False        # (`with torch.no_grad():` beside a GRU's _flat_weights)
    return w.kind in SIDE_EFFECT_KINDS or any(
        isinstance(t.elem if isinstance(t, T.OptionalType) else t, (T.ListType, T.DictType))
        for t in (v.type for v in w.inputs))


def _holds_tensor_container(t) -> bool:
    """Is t a list or dict that may hold Tensors, or a tuple / Optional holding one (what
    unboxing copies)?"""
    if isinstance(t, (T.ListType, T.DictType)):
        return T.may_hold_tensor(t, objects=False)
    if isinstance(t, T.TupleType):
        return any(_holds_tensor_container(e) for e in t.elems)
    if isinstance(t, T.OptionalType):
        return _holds_tensor_container(t.elem)
    return False


def _last_uses(block):
    """node -> the values of this block whose last reader (a node of the block, or a node
    nested in it) is that node. Values the block returns are never last-used here."""
    last = {}
    returned = set()
    todo = list(block.outputs)
    while todo:               # the return unpacks tuples/lists built in this block
        v = todo.pop()
        if v not in returned:
            returned.add(v)
            if v.node.kind in ("prim::TupleConstruct", "prim::ListConstruct",
                               "prim::DictConstruct"):
                todo.extend(v.node.inputs)
    for n in block.nodes:
        for v in _reads(n):
            if v.node.owning_block is block and v not in returned and \
                    v.node.kind != "prim::Param":
                last[v] = n
    out = {}
    for v, n in last.items():
        out.setdefault(n, []).append(v)
    return out


def _reads(n):
    yield from n.inputs
    for b in n.blocks:
        for m in b.nodes:
            yield from _reads(m)
        yield from b.outputs


def _attr_read(owner, expr, attr):
    """(source reading attribute `attr` of `expr`, the value now). A module's parameter,
    buffer or submodule is read from its dict (what Module.__getattr__ would find, without
    the failed normal lookup first); a name gone from that dict reads as _MISSING, which
    no guard accepts."""
    plain = _attr_ref(expr, attr) or f"getattr({expr}, {attr!r})"
    if owner is None:
        return plain, None
    d = getattr(owner, "__dict__", {})
    live = attr in COPIED_ON_READ    # (Python's reads of it get a copy: CopiedOnRead)
    if attr not in d and (live or not any(attr in c.__dict__ for c in type(owner).__mro__)):
        for where in _MODULE_DICTS:
            table = d.get(where)
            if isinstance(table, dict) and attr in table:
                return f"{expr}.{where}.get({attr!r}, _MISSING)", table[attr]
    if live:
        return f"_live_attr({expr}, {attr!r})", d.get(attr)
    return plain, getattr(owner, attr, None)
