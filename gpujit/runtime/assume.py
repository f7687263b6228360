"""From a profile to what the generated code may assume about each Value.

A profiling run saw one path through the graph with one set of input types. The generated
code is reused for every later call whose inputs have the same (dtype, ndim, device) key,
so it may rely only on what that key determines:

- a Value in a block the profile never entered is unknown (its code stays generic, and
  entering that block asks the executor for a new profile);
- an op output is trusted when every input is known and every argument that can change an
  output's type (a ScalarType, a Device, the extra arguments of an op whose promotion rule
  reads them) is a constant;
- a tensor's dtype and device are trusted, its rank only where the key fixes it: inputs,
  constants, guarded module attributes and pointwise ops (the broadcast of their
  operands). Elsewhere the rank can follow runtime sizes or values (`squeeze`, `view`), so
  it is left unknown (ndim None);
- an If output is known when every branch that can finish was profiled and they agree (an
  int, float, bool or str output also when a branch did not run: its type fixes it); a
  Loop's carried values are known when the entry values and every iteration agree;
- an If whose branch did not run takes its outputs
  from the branches that did: the code checks, at the end of the branch that did not run,
  that what it computed fits (`checked`), and if not, finishes the call op by op
  (runtime/resume.py), as TorchScript's bailouts leave optimized code where its profiled
  types stop holding. So one untaken branch (`if self.training:`, a mask given or not)
  does not leave the rest of the function untyped, generic and unfused;
- module attribute reads (prim::GetAttr chains from the module input, when the graph never
  sets that attribute) are hoisted to the function entry and guarded there.
"""
from __future__ import annotations

from ..ir import types as T
from .profile import TensorSpec, ValueSpec, TupleSpec, ListSpec, EMPTY, merge, spec_of

__all__ = ["assume", "assumptions", "hoisted_attrs", "typed_by_annotation", "constant_of",
           "static_value", "always_raises", "specialized_graph", "NO_CONSTANT", "known"]

NO_CONSTANT = object()

# argument types whose value can change the type of an op's result
_TYPE_SETTING = ("ScalarType", "Device", "Layout", "MemoryFormat")


def constant_of(v):
    """The value of a prim::Constant output, else NO_CONSTANT."""
    n = v.node
    if n.kind == "prim::Constant":
        return n.attrs.get("value")
    return NO_CONSTANT


def static_value(v, specs):
    """The value of v known when the code is made: a prim::Constant's, or what a
    prim::dtype / prim::device reads of a tensor whose spec fixes it (the code writes
    those as literals, codegen_prim._dtype: `torch.full(n, x, dtype=src.dtype,
    device=src.device)` after an untaken branch made src's reads stay in the graph);
    else NO_CONSTANT."""
    n = v.node
    if n.kind == "prim::Constant":
        return n.attrs.get("value")
    if n.kind in ("prim::dtype", "prim::device") and n.inputs:
        s = specs.get(n.inputs[0])
        if isinstance(s, TensorSpec):
            if n.kind == "prim::device":
                return s.device
            from .. import dtypes as _dt
            return _dt.scalar_type_code(s.dtype) if isinstance(v.type, T.IntType) \
                else s.dtype
    return NO_CONSTANT


def always_raises(block) -> bool:
    return any(n.kind == "prim::RaiseException" for n in block.nodes)


def hoisted_attrs(graph) -> list:
    """The prim::GetAttr nodes read at function entry: chains from the module input (the
    first graph input, of a class type) of attributes the graph never sets."""
    if not graph.inputs or not isinstance(graph.inputs[0].type, T.ClassType):
        return []
    set_names = {n.attrs.get("name") for n in graph.walk() if n.kind == "prim::SetAttr"}
    # a call the graph does not see into (an interface method, a method not inlined,
    # Python, a forked task) may set any attribute: reads in the top-level nodes after
    # the first one that holds such a call stay where they are
    stop = next((n for n in graph.block.nodes if _has_opaque_call(n)), None)
    allowed = set()
    for n in graph.block.nodes:
        if n is stop:
            break
        allowed.add(n)
        allowed.update(_nested_nodes(n))
    roots = {graph.inputs[0]}
    out = []
    for n in graph.walk():
        if (n.kind == "prim::GetAttr" and n.inputs[0] in roots and n in allowed
                and n.attrs.get("name") not in set_names):
            out.append(n)
            roots.add(n.output)
    return out


_OPAQUE_CALLS = ("prim::CallMethod", "prim::CallFunction", "prim::PythonOp", "prim::fork",
                 "aten::wait", "prim::awaitable", "aten::awaitable_wait")


def _nested_nodes(n):
    for b in n.blocks:
        for m in b.nodes:
            yield m
            yield from _nested_nodes(m)


def _has_opaque_call(n) -> bool:
    return n.kind in _OPAQUE_CALLS or any(m.kind in _OPAQUE_CALLS for m in _nested_nodes(n))


def _rank_free(spec):
    """The spec with tensor ranks forgotten (see the module docstring)."""
    if isinstance(spec, TensorSpec):
        return TensorSpec(spec.dtype, spec.device, None, spec.sizes)
    if isinstance(spec, TupleSpec):
        return TupleSpec(tuple(_rank_free(e) for e in spec.elems))
    if isinstance(spec, ListSpec):
        return ListSpec(_rank_free(spec.elem))
    return spec


_PLAIN = ((T.BoolType, bool), (T.IntType, int), (T.FloatType, float), (T.StrType, str))


def typed_by_annotation(v):
    """The spec v's static type alone fixes (a TorchScript int, float, bool or str is
    always that Python type), else None."""
    for cls, py in _PLAIN:
        if type(v.type) is cls:
            return ValueSpec(py)
    return None


class _Elem:
    """The element type of a list type, as a Value's type for typed_by_annotation."""
    __slots__ = ("type",)

    def __init__(self, t):
        self.type = t.elem if isinstance(t, T.ListType) else None


def known(spec) -> bool:
    """Is the spec fully known (no None inside)?"""
    if spec is None:
        return False
    if isinstance(spec, TupleSpec):
        return all(known(e) for e in spec.elems)
    if isinstance(spec, ListSpec):
        return spec.elem is EMPTY or known(spec.elem)
    return True


class _Assumptions:
    def __init__(self, graph, profile, hoisted):
        self.profile = profile
        self.hoisted = set(hoisted)
        self.specs = {}
        self.checked = {}       # If node -> its branches that did not run (see if_)

    def run(self, graph):
        for v in graph.inputs:
            self.specs[v] = self.profile.get(v)
        self.block(graph.block, True)
        return self.specs

    def block(self, block, entered):
        entered = entered and block in self.profile.blocks
        for n in block.nodes:
            outs = self.node(n, entered) if entered else None
            for i, v in enumerate(n.outputs):
                self.specs[v] = outs[i] if outs is not None else None
            if not entered:
                for b in n.blocks:          # nested blocks: unknown as well
                    for v in b.inputs:
                        self.specs[v] = None
                    self.block(b, False)
        return [self.specs.get(v) for v in block.outputs] if entered else None

    def node(self, n, entered):
        k = n.kind
        ins = [self.specs.get(v) for v in n.inputs]
        if k == "prim::Constant":
            return [spec_of(n.attrs.get("value"))]
        if k == "prim::GetAttr":       # guarded at entry: a tensor's kind, a value's type
            s = self.profile.get(n.output) if n in self.hoisted else None
            return [s if isinstance(s, (TensorSpec, ValueSpec)) else None]
        if k == "prim::ListConstruct":
            elem = EMPTY
            for s in ins:
                elem = merge(elem, s)
            return [ListSpec(elem)]
        if k == "prim::TupleConstruct":
            return [TupleSpec(tuple(ins))]
        if k in ("prim::TupleUnpack", "prim::ListUnpack"):
            s = ins[0]
            if isinstance(s, TupleSpec) and len(s.elems) == len(n.outputs):
                return list(s.elems)
            if isinstance(s, ListSpec) and s.elem is not EMPTY:
                return [s.elem] * len(n.outputs)
            return None
        if k == "prim::TupleIndex":
            i = constant_of(n.inputs[1])
            s = ins[0]
            if isinstance(s, TupleSpec) and isinstance(i, int) and \
                    -len(s.elems) <= i < len(s.elems):
                return [s.elems[i]]
            return None
        if k == "prim::DictConstruct":
            return [ValueSpec(dict)]
        if k == "prim::If":
            return self.if_(n)
        if k == "prim::Loop":
            return self.loop(n)
        if k == "prim::NumToTensor":
            s = ins[0]
            if isinstance(s, ValueSpec) and s.pytype in (int, float, bool):
                return [self.profile.get(n.output)]
            return None
        if k == "prim::unchecked_cast":
            return [ins[0]]
        if k in ("prim::dtype", "prim::device"):
            return [self.profile.get(n.output)] if known(ins[0]) else None
        if k.startswith("aten::") or n.op is not None:
            return self.aten(n, ins)
        if k == "prim::TensorExprGroup":
            return self.group(n, ins)
        return None        # calls, Uninitialized, kinds added later: nothing assumed

    def group(self, n, ins):
        """A fusion group computes pointwise ops: its outputs have the profiled dtype and
        device (its guards or its fallback keep them), and the largest input rank."""
        if not all(known(s) for s in ins):
            return None
        outs = [self.profile.get(v) for v in n.outputs]
        if any(not self.profile.seen(v) or not isinstance(s, TensorSpec) for v, s in
               zip(n.outputs, outs)):
            return None
        ranks = [s.ndim for s in ins if isinstance(s, TensorSpec)]
        nd = max(ranks) if ranks and all(r is not None for r in ranks) else None
        return [TensorSpec(s.dtype, s.device, nd, s.sizes) for s in outs]

    def if_(self, n):
        outs = None
        unrun = []
        resumable = _in_ifs_and_loops(n)
        for b in n.blocks:
            if always_raises(b):            # never finishes: contributes no outputs
                self.block(b, False)
                continue
            bo = self.block(b, True)
            if bo is None:                   # a branch that can finish never ran: an
                # int/float/bool/str is known from its type; the rest, when the branch's
                # end can check them, from the branches that ran (EMPTY merges to them)
                unrun.append(b)
                bo = [typed_by_annotation(v) or (EMPTY if resumable else None)
                      for v in n.outputs]
            outs = bo if outs is None else [merge(a, c) for a, c in zip(outs, bo)]
        if outs is None:
            return None
        outs = [s if s is not EMPTY and known(s) else None for s in outs]
        if unrun and resumable and any(s is not None and typed_by_annotation(v) is None
                                       for v, s in zip(n.outputs, outs)):
            self.checked[n] = unrun
        return outs

    def loop(self, n):
        body = n.blocks[0]
        init = [self.specs.get(v) for v in n.inputs[2:]]
        carried = list(init)
        self.specs[body.inputs[0]] = ValueSpec(int)
        for _ in range(6):                  # the lattice only descends: a few rounds
            for v, s in zip(body.inputs[1:], carried):
                self.specs[v] = s
            bo = self.block(body, True)
            new = [None] * len(init) if bo is None else [
                merge(a, b) for a, b in zip(init, bo[1:])]
            new = [s if known(s) else None for s in new]
            if new == carried:
                return carried
            carried = new
        return [None] * len(init)

    def aten(self, n, ins):
        op = n.op
        if op is None and n.kind == "aten::list" and known(ins[0]):
            # (a new list of a list whose elements' type says what they are: the fresh
            # `list(k.shape)` of MultiheadAttention's check, compared in Python then)
            elem = typed_by_annotation(_Elem(n.output.type))
            return [ListSpec(elem)] if elem is not None else None
        if op is None or not all(known(s) for s in ins):
            return None
        args = op.schema.arguments
        callable_promote = op.is_pointwise and op.operands and callable(op.promote)
        for a, v in zip(args, n.inputs):
            must_be_constant = a.type.base in _TYPE_SETTING or (
                callable_promote and a.name not in op.operands and not a.type.is_tensor)
            if must_be_constant and static_value(v, self.specs) is NO_CONSTANT:
                return None
        outs = [self.profile.get(v) for v in n.outputs]
        if any(not self.profile.seen(v) or not known(s) for v, s in zip(n.outputs, outs)):
            return None
        if op.is_pointwise and op.operands and len(outs) == 1 and isinstance(outs[0], TensorSpec):
            return [self._pointwise_rank(op, n, ins, outs[0])]
        return [_rank_free(s) for s in outs]

    def _pointwise_rank(self, op, n, ins, out):
        names = [a.name for a in op.schema.arguments]
        ranks = []
        for name, s in zip(names, ins):
            if isinstance(s, TensorSpec) and (name in op.operands or op.inplace_of is not None):
                ranks.append(s.ndim)
        if op.inplace_of is not None and isinstance(ins[0], TensorSpec):
            ranks = [ins[0].ndim]
        if not ranks or any(r is None for r in ranks):
            return TensorSpec(out.dtype, out.device, None, out.sizes)
        return TensorSpec(out.dtype, out.device, max(ranks), out.sizes)


def assume(graph, profile, hoisted=()):
    """{Value: spec or None}: what code generated from this profile may rely on."""
    return assumptions(graph, profile, hoisted)[0]


def assumptions(graph, profile, hoisted=()):
    """(assume's specs, {If node: its branches that did not run, whose end must check
    that the outputs fit their specs}); see the module docstring."""
    a = _Assumptions(graph, profile, hoisted)
    return a.run(graph), a.checked


def _in_ifs_and_loops(n) -> bool:
    """Is every block around n a branch of a prim::If or a prim::Loop's body (what
    resume.Resume can finish a call from)?"""
    b = n.owning_block
    while b is not None and b.owning_node is not None:
        if b.owning_node.kind not in ("prim::If", "prim::Loop"):
            return False
        b = b.owning_node.owning_block
    return True


def specialized_graph(graph, profile):
    """A copy of graph whose Value types carry what the profile saw (dtype, sizes,
    strides, device of each tensor), as TorchScript's graph_for shows."""
    g = graph.copy()
    by_unique = {}
    for v in graph.inputs:
        by_unique[v.unique] = v
    for n in graph.walk():
        for b in n.blocks:
            for v in b.inputs:
                by_unique[v.unique] = v
        for v in n.outputs:
            by_unique[v.unique] = v

    def refine(v):
        orig = by_unique.get(v.unique)
        t = profile.types.get(orig) if orig is not None else None
        if t is not None and isinstance(v.type, T.TensorType):
            v.type = t
    for v in g.all_values():
        refine(v)
    return g
