"""TorchScript's value names and numbers in a scripted function's graph (`%x.1`, `%y.3`,
`%5`), as torch 2.13 gives them.

torch numbers a Value by a counter over every value its frontend makes, most of which it
erases again (the prim::Load of each variable read, the constants of default arguments,
the loads and stores of its SSA conversion, ...), and names one as Value::setDebugName
does: a value that takes a name another value holds renames that one `base.N`, N past
the last suffix given to base plus one (x.1, x.3, x.5). So the names and numbers of the
values left depend on the whole history. This module replays that history for the
statements it knows (assignments, `+=` on numbers, expression statements, a final
`return`, if / else, `for` over range(), while) on a shadow graph: ir_emitter.cpp's
emission with prim::Load / prim::Store (Environment::insertLoad, setSugaredVar),
materializeConstant's cached int / float literals, schema matching's default-argument
constants, convert_to_ssa.cpp's ControlFlowLoadStores, LoopContinuations,
InlineLoopCondition and EraseLoadStores, the exit transform's constants, then the
cleanup's dead code elimination and constant pooling. Each call node of the shadow is
the gpujit node at that call's source position (its kind, inputs, defaults). Where the
shadow's final graph has gpujit's nodes, gpujit's values take the shadow's names and
numbers (and its top-level constants torch's order); anything else (a construct not
replayed, a graph of another shape) leaves gpujit's own names."""
from __future__ import annotations

import ast
import math
import os

from ...ir.graph import displaced_name

__all__ = ["meaningful", "name_like_torch", "snapshot"]


class _Rec:
    """A gpujit node as the compiler emitted it (before the cleanup erased any): the
    node, its inputs then, its registry op."""
    __slots__ = ("node", "inputs", "op", "kind", "nout")

    def __init__(self, n):
        self.node, self.inputs, self.kind, self.nout = n, list(n.inputs), n.kind, \
            len(n.outputs)
        self.op = n.op if not n.kind.startswith("prim::") else None


def snapshot(graph):
    """gpujit's nodes by source position, in graph order, before the cleanup passes."""
    at = _At()
    for n in graph.walk():
        pos = (n.source_range.line, n.source_range.col) \
            if n.source_range is not None else None
        if n.kind != "prim::Constant":
            at.setdefault(pos, []).append(_Rec(n))
        elif pos is not None:               # (a module constant's value: get_attr)
            at.consts.setdefault(pos, []).append(n.attrs.get("value", None))
    return at


class _At(dict):
    """snapshot's records by position; `consts`: the constants' values by position."""

    def __init__(self):
        super().__init__()
        self.consts = {}


class _Abort(Exception):
    """The function uses something the replay does not know."""


# ---------------------------------------------------------------------------- shadow IR
class _V:
    __slots__ = ("uid", "name", "node", "uses", "ty", "like", "fwd")

    def __init__(self, uid, node):
        self.uid, self.name, self.node, self.uses = uid, None, node, []
        self.ty = self.like = self.fwd = None


class _N:
    __slots__ = ("kind", "inputs", "outputs", "blocks", "block", "value", "g", "effect",
                 "loc", "dead", "alias")

    def __init__(self, kind, value=None, g=None):
        self.kind, self.value, self.g = kind, value, g
        self.dead = self.alias = False
        self.inputs, self.outputs, self.blocks, self.block = [], [], [], None
        self.effect = False
        self.loc = None     # (a constant's source range where torch's differs from
        #                      gpujit's: False for none, else the SourceRange)


class _B:
    __slots__ = ("nodes", "params", "outputs", "owner", "param_node")

    def __init__(self, owner):
        self.nodes, self.params, self.outputs, self.owner = [], [], [], owner
        self.param_node = _N("prim::Param")
        self.param_node.block = self

    def add_param(self, r):
        v = r.new_value(self.param_node)
        self.params.append(v)
        return v


def meaningful(name):
    """Whether a variable's name becomes its value's name (TorchScript's meaningfulName):
    not a compiler-made `$` name, nor `_` + digits (the temporaries TorchScript's .code
    writes: `_0 = torch.mul(...)` read back leaves the value %9, not %_0)."""
    if not name or name[0] == "$":
        return False
    if name[0] != "_":
        return True
    return not name[1:].isdigit()




def _next_prime(n):
    while any(n % d == 0 for d in range(2, int(n ** 0.5) + 1)):
        n += 1
    return n


class _UMap:
    """The names of a libstdc++ std::unordered_map<std::string, T>: .keys in its
    iteration order (a key put in an empty bucket goes first, one in a used bucket first
    of that bucket's keys; 13 buckets for the first 13 keys, then rehashed), worked out
    from the order they were put in when asked for."""
    __slots__ = ("seq", "names")

    def __init__(self):
        self.seq, self.names = [], set()

    def __contains__(self, k):
        return k in self.names

    def add(self, k):
        if k not in self.names:
            self.names.add(k)
            self.seq.append(k)

    @property
    def keys(self):
        keys, nb, next_resize = [], 1, 0
        for k in self.seq:
            n = len(keys)
            if n + 1 > next_resize:
                minb = max(n + 1, 0 if next_resize else 11)
                if minb >= nb:
                    want = max(minb + 1, nb * 2)
                    nb = {2: 2, 3: 3, 4: 5, 5: 5, 6: 7, 7: 7}.get(want) or \
                        (11 if want <= 11 else 13 if want <= 13 else _next_prime(want))
                    next_resize = nb
                    old, keys = keys, []
                    for q in old:
                        _bucket_insert(keys, q, nb)
                else:
                    next_resize = nb
            _bucket_insert(keys, k, nb)
        return keys


def _bucket_insert(keys, k, nb):
    b = _hash(k) % nb
    i = next((j for j, q in enumerate(keys) if _hash(q) % nb == b), 0)
    keys.insert(i, k)


_HASHES = {}


def _hash(name):
    h = _HASHES.get(name)
    if h is None:
        from ...ops.parser_errors import _std_hash
        h = _HASHES[name] = _std_hash(name)
    return h


class _Frame:
    __slots__ = ("block", "next", "types")

    def __init__(self, block, nxt):
        self.block, self.next, self.types = block, nxt, _UMap()


# --------------------------------------------------------------------------- replay
_UNRANGED_ATTRS = frozenset({"prim::layout", "prim::requires_grad", "prim::dtype",
                             "prim::device", "prim::data", "prim::grad"} | {
                                 f"aten::{n}" for n in (
                                 "is_cuda", "is_cpu", "is_xla", "is_xpu", "is_ipu",
                                 "is_mps", "is_maia", "is_mtia", "is_meta", "is_mkldnn",
                                 "is_quantized", "is_sparse", "is_sparse_csr", "is_vulkan",
                                 "is_nested")})
_CONVERSIONS = frozenset({"prim::ListConstruct", "prim::NumToTensor", "aten::Float",
                          "aten::Int", "aten::ScalarImplicit", "prim::TupleConstruct"})


class _Replay:
    def __init__(self, graph, src, fn, at, method=False, module=None):
        self.graph, self.src, self.fn, self.method = graph, src, fn, method
        self.module = module        # (a method's ScriptModule: its None attributes)
        # a method loaded from an archive: its class is a plain class type there (torch's
        # SimpleSelf), so `self` is a variable stored and loaded as the others (the
        # input prints %self.1); a scripted module's `self` is a sugared value, unstored
        self.stored_self = method and getattr(fn, "__module__", None) == "__archive__"
        self.self_name = None
        self.counter = 0
        self.names = {}
        self.suffix = {}
        self.top = _B(None)
        self.ins = (self.top, None)     # insertion point: (block, before-node or None)
        self.frame = None
        self.int_consts, self.fp_consts = {}, {}
        self.exits = set()
        self.last_return = None
        self.typing = set()
        self.at = at            # (snapshot's)
        self.var_types = None
        self.by_id = None
        self.claimed = set()

    # ------------------------------------------------------------------ graph basics
    def new_value(self, node):
        v = _V(self.counter, node)
        self.counter += 1
        return v

    def set_name(self, v, name):
        """Value::setDebugName."""
        if v.name is not None:
            if self.names.get(v.name) is v:
                del self.names[v.name]
            v.name = None
        if not name:
            return
        old = self.names.get(name)
        if old is not None and old is not v:
            self.set_name(old, displaced_name(name, self.names, self.suffix))
        self.names[name] = v
        v.name = name

    def free(self, v):
        if v.name is not None and self.names.get(v.name) is v:
            del self.names[v.name]

    def insert(self, kind, inputs=(), nout=1, value=None, g=None, at=None):
        n = _N(kind, value, g)
        block, before = at or self.ins
        n.block = block
        if before is None:
            block.nodes.append(n)
        else:
            block.nodes.insert(block.nodes.index(before), n)
        for v in inputs:
            self.add_input(n, v)
        for _ in range(nout):
            n.outputs.append(self.new_value(n))
        return n

    @staticmethod
    def add_input(n, v, pos=None):
        if pos is None:
            n.inputs.append(v)
        else:
            n.inputs.insert(pos, v)
        v.uses.append(n)

    @staticmethod
    def drop_use(user, v):
        v.uses.remove(user)

    def replace_uses(self, old, new):
        old.fwd = new
        for user in list(old.uses):
            if isinstance(user, _N):
                user.inputs = [new if x is old else x for x in user.inputs]
            else:
                user.outputs = [new if x is old else x for x in user.outputs]
            for _ in range(old.uses.count(user)):
                new.uses.append(user)
        old.uses = []

    def register_output(self, block, v, pos=None):
        if pos is None:
            block.outputs.append(v)
        else:
            block.outputs.insert(pos, v)
        v.uses.append(block)

    def destroy(self, n):
        for v in n.inputs:
            v.uses.remove(n)
        for b in n.blocks:
            for m in list(b.nodes):
                self.destroy(m)
            for v in b.outputs:
                v.uses.remove(b)
            for v in b.params:
                self.free(v)
        for v in n.outputs:
            self.free(v)
        n.block.nodes.remove(n)
        n.dead = True

    def constant(self, value, ty, at=None):
        n = self.insert("prim::Constant", (), 1, value=(value, ty), at=at)
        return n.outputs[0]

    def materialize(self, value, ty, cache):
        key = value
        if key in cache:
            return cache[key]
        first = self.top.nodes[0] if self.top.nodes else None
        v = self.constant(value, ty, at=(self.top, first))
        cache[key] = v
        return v

    # ------------------------------------------------------------------ environment
    def push(self, block):
        self.frame = _Frame(block, self.frame)

    def pop(self):
        f = self.frame
        self.frame = f.next
        return f

    def find_in_frame(self, frame, name):
        if name in frame.types:
            n = self.insert("prim::Load", value=name)
            v = n.outputs[0]
            if meaningful(name):
                self.set_name(v, name)
            return v
        return None

    def find_any(self, frame, name):
        while frame is not None:
            v = self.find_in_frame(frame, name)
            if v is not None:
                return v
            frame = frame.next
        return None

    def set_var(self, name, v):
        f = self.frame
        if v.name is None and meaningful(name) and v.node.block is f.block:
            self.set_name(v, name)
        if f.next is not None:
            self.find_any(f.next, name)
        self.insert("prim::Store", (v,), 0, value=name)
        f.types.add(name)

    # ------------------------------------------------------------------ positions
    def pos(self, node):
        """(line, column) of node's source range (FunctionSource.range's, without its
        span)."""
        from .compiler import _unparenthesized
        node = _unparenthesized(node)
        return node.lineno + self.src.start - 1, node.col_offset + self.src.indent

    def claim(self, node, kinds=None):
        """The first gpujit node at node's source position not yet claimed."""
        for g in self.at.get(self.pos(node), ()):
            if id(g.node) not in self.claimed and (
                    g.kind in kinds if kinds is not None else
                    g.kind not in _CONVERSIONS and not g.node.blocks):
                self.claimed.add(id(g.node))
                return g
        raise _Abort(f"no node at {self.pos(node)}")

    # ------------------------------------------------------------------ the function
    def run(self):
        fdef = self.src.fdef
        a = fdef.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
            raise _Abort("signature")
        self.push(self.top)
        params = a.args
        if self.method and not self.stored_self:
            # `self`: its input named, no store (a sugared module value)
            v = self.top.add_param(self)
            self.set_name(v, params[0].arg)
            self.self_name, self.self_value = params[0].arg, v
            params = params[1:]
        elif self.method:
            self.self_name, self.self_value = params[0].arg, None
        for p in params:
            v = self.top.add_param(self)
            if meaningful(p.arg):
                self.set_name(v, p.arg)
            self.insert("prim::Store", (v,), 0, value=p.arg)
            self.frame.types.add(p.arg)
        self.stmts(fdef.body, top=True)
        if self.top not in self.exits:
            self.constant(None, "NoneType")
            self.last_return = self.top.nodes[-1].outputs[0]
            self.insert("prim::ReturnStmt", (self.last_return,), 0)
        ph = self.insert("prim::Uninitialized")
        ph.outputs[0].like = self.last_return   # (the merged return type: unifyTypes
        self.register_output(self.top, ph.outputs[0])   # gives the last one's)
        self.pop()
        # ConvertToSSA
        self.push_env = None
        self.cfls(self.top, None)
        self.false_const = self.constant(False, "bool", at=(self.top, self.top.nodes[0]))
        self.false_const.node.loc = False
        self.loop_continuations(self.top, None)
        self.inline_loop_conditions(self.top)
        self.erase_load_stores(self.top, [{}])
        self.transform_exits()
        self.canonicalize_modified_loops(self.top)
        self.normalize_ops(self.top)
        self.lower_tuples(self.top)
        self.dce()
        self.pool()
        self.canonicalize_outputs(self.top)
        return self.top

    # ------------------------------------------------------------------ statements
    def stmts(self, body, top=False):
        for s in body:
            self.stmt(s)
            if self.frame.block in self.exits:
                return          # (emitStatements: the rest is unreachable, not emitted)

    def stmt(self, s):
        self.last_stmt = s      # (where a give-up is, GPUJIT_DUMP=names)
        if isinstance(s, ast.Return):
            v = self.expr(s.value) if s.value is not None else self.constant(None,
                                                                              "NoneType")
            self.insert("prim::ReturnStmt", (v,), 0)
            self.last_return = v
            self.exits.add(self.frame.block)
        elif isinstance(s, (ast.Break, ast.Continue)):
            self.insert("prim::BreakStmt" if isinstance(s, ast.Break) else
                        "prim::ContinueStmt", (), 0)
        elif isinstance(s, ast.Raise):
            self.raise_stmt(s)
        elif isinstance(s, ast.Assert):
            self.assert_stmt(s)
        elif isinstance(s, ast.Assign):
            if len(s.targets) != 1:
                raise _Abort("assign")
            t = s.targets[0]
            if isinstance(t, ast.Tuple) and t.elts and \
                    all(isinstance(x, ast.Name) for x in t.elts):
                for name, v in zip((x.id for x in t.elts),
                                   self.tuple_values(s.value, len(t.elts), s)):
                    self.set_var(name, v)
                return
            if isinstance(t, ast.Subscript):
                self.subscript_assign(t, self.expr(s.value))
                return
            if isinstance(t, ast.Attribute):
                # (emitSingleAssignment's TK_DOT: the object, the value, its SetAttr)
                obj = self.attr_target(t)
                self.set_attr(obj, t, self.expr(s.value))
                return
            if not isinstance(t, ast.Name):
                raise _Abort("assign")
            v = self.expr(s.value)
            self.set_var(t.id, v)
        elif isinstance(s, ast.AnnAssign):
            if s.value is None or not isinstance(s.target, ast.Name):
                raise _Abort("annassign")
            v = self.expr(s.value)
            self.set_var(s.target.id, v)
        elif isinstance(s, ast.AugAssign):
            self.aug_assign(s)
        elif isinstance(s, ast.Expr):
            self.expr(s.value)      # (a docstring too: a str constant)
        elif isinstance(s, ast.Pass):
            pass
        elif isinstance(s, ast.If):
            self.if_stmt(s)
        elif isinstance(s, ast.For):
            self.for_stmt(s)
        elif isinstance(s, ast.While):
            self.while_stmt(s)
        else:
            raise _Abort(type(s).__name__)

    def tuple_values(self, e, k, s):
        """`a, b = <e>` (emitTupleAssign): a tuple literal's values, or a builtin's
        outputs, put in a prim::TupleConstruct that the unpacking reads through
        (createTupleUnpack); another tuple's prim::TupleUnpack, a list's
        prim::ListUnpack (SimpleValue::asTuple)."""
        if isinstance(e, ast.Tuple):
            if len(e.elts) != k or any(isinstance(x, ast.Starred) for x in e.elts):
                raise _Abort("tuple assign")
            vals = [self.expr(x) for x in e.elts]
        else:
            out = self.expr(e)
            vals = out.node.outputs
            if len(vals) == 1:
                if out.node.kind == "prim::TupleConstruct":
                    return list(out.node.inputs)
                g = None        # (gpujit unpacked a tuple it built: no node)
                # (at the statement; `a, b = x.chunk(2)`'s at the chunk call, where its
                # count error points, as torch's ConstantChunk)
                for where in (s, e):
                    try:
                        g = self.claim(where, ("prim::TupleUnpack", "prim::ListUnpack"))
                        break
                    except _Abort:
                        pass
                if g is not None and g.nout != k:
                    raise _Abort("tuple assign")
                kind = g.kind if g is not None else "prim::TupleUnpack"
                return self.insert(kind, (out,), k, g=g and g.node).outputs
            if len(vals) != k or not isinstance(e, ast.Call):
                raise _Abort("tuple assign")
        self.insert("prim::TupleConstruct", vals, 1)
        return vals

    def attr_target(self, t):
        """The object of an attribute target `obj.f` / `self.f`: emitSugaredExpr of it
        (a variable's prim::Load; a module's self is a sugared value, no node)."""
        if self.is_self(t.value):
            return self.self_ref()
        if not isinstance(t.value, ast.Name):
            raise _Abort("attribute target")
        return self.expr(t.value)

    def set_attr(self, obj, t, v):
        """SimpleValue::setAttr's prim::SetAttr (unranged, as torch's)."""
        rec = next((g for g in self.at.get(None, ()) if id(g.node) not in self.claimed and
                    g.kind == "prim::SetAttr" and g.node.attrs.get("name") == t.attr), None)
        if rec is None or len(rec.inputs) != 2:
            raise _Abort("setattr")
        self.claimed.add(id(rec.node))
        self.insert("prim::SetAttr", (obj, v), 0, g=rec.node).effect = True

    def aug_assign(self, s):
        if isinstance(s.target, ast.Attribute):
            # emitAugAssignmentToSelectVar: the object, its attribute, the value, the
            # op, the SetAttr of its result
            t = s.target
            obj = self.attr_target(t)
            lhs = self.get_attr(t, recv=obj) if self.is_self(t.value) else \
                self.value_attr(obj, t)
            rhs = self.expr(s.value)
            self.set_attr(obj, t, self.call_node(s, [lhs, rhs], {}))
            return
        if not isinstance(s.target, ast.Name):
            raise _Abort("augassign")
        lhs = self.expr(s.target)
        rhs = self.expr(s.value)
        # (a Tensor's in-place op, aten::add_, or a number's aten::add: the same history)
        out = self.call_node(s, [lhs, rhs], {})
        self.set_var(s.target.id, out)

    def cond(self, test):
        """A loop's condition: emitToBool of the expression (no refinements)."""
        if isinstance(test, (ast.BoolOp,)) or \
                isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) or \
                isinstance(test, ast.Compare) and any(
                    isinstance(o, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) for o in test.ops):
            raise _Abort("condition")
        if isinstance(test, ast.Call):
            raise _Abort("static condition")
        return self.to_bool(test, self.expr(test))

    def to_bool(self, test, v):
        self.constant(0, "int")         # (CastValue's zero of emitToBool)
        try:
            g = self.claim(test, ("aten::Bool",))
        except _Abort:
            return v
        n = self.insert(g.kind, (v,), 1, g=g.node)
        return n.outputs[0]

    def cond_value(self, test):
        """emitCondExpr: (value, (refinements if true, if false), static value or None);
        a refinement is (variable, its type)."""
        none = ((), ())
        if isinstance(test, ast.BoolOp):
            is_or = isinstance(test.op, ast.Or)
            cv = self.cond_value(test.values[0])
            for nxt in test.values[1:]:
                cv = self.short_circuit(cv, nxt, is_or)
            return cv
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            v, (t, f), st = self.cond_value(test.operand)
            try:
                g = self.claim(test, ("aten::__not__",)).node
            except _Abort:
                if st is None:
                    raise
                g = None                # (a static one: folded by gpujit)
            out = self.insert("aten::__not__", (v,), 1, g=g).outputs[0]
            return out, (f, t), (None if st is None else not st)
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], (ast.Is, ast.IsNot)):
            its_is = isinstance(test.ops[0], ast.Is)
            left, right = test.left, test.comparators[0]
            lhs, rhs = self.expr(left), self.expr(right)
            lnone, rnone = (_is_none_lit(x) for x in (left, right))
            try:
                g = self.claim(test, ("aten::__is__", "aten::__isnot__"))
            except _Abort:
                g = None
            if g is None:
                # canBeNone ALWAYS / NEVER: a static if (gpujit folded it too)
                if lnone and rnone or (lnone and rhs.ty == "NoneType") or \
                        (rnone and lhs.ty == "NoneType"):
                    st = its_is
                elif lnone or rnone:
                    st = not its_is
                else:
                    raise _Abort("is")
                c = self.constant(st, "bool")
                return c, none, st
            out = self.insert(g.kind, (lhs, rhs), 1, g=g.node).outputs[0]
            var, gv = (right, g.inputs[1]) if lnone and not rnone else (left, g.inputs[0])
            refs = none
            t = str(gv.type)
            if (rnone or lnone) and isinstance(var, ast.Name) and t.endswith("?"):
                present = ((var.id, t[:-1]),)
                refs = ((), present) if its_is else (present, ())
            return out, refs, None
        if isinstance(test, ast.Call) and self.is_scripting_call(test.func):
            n = self.insert("aten::is_scripting", (), 1)
            self.constant(0, "int")         # (emitToBool's zero)
            return n.outputs[0], none, True
        if self.builtin(test, "isinstance") and len(test.args) == 2 and \
                not test.keywords and isinstance(test.args[0], ast.Name):
            # emitIsInstance of an Optional: prim::isinstance, the value refined to its
            # present type where it holds
            name = test.args[0].id
            v = self.expr(test.args[0])
            t = self.var_type(name)
            g = self.claim_near("prim::isinstance", (test,))
            if not t.endswith("?") or g.node.attrs.get("types") is None:
                raise _Abort("isinstance")
            out = self.insert(g.kind, (v,), 1, g=g.node).outputs[0]
            return out, (((name, t[:-1]),), ((name, "NoneType"),)), None
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and \
                test.func.id in ("isinstance", "hasattr"):
            raise _Abort("isinstance")
        v = self.to_bool(test, self.expr(test))
        st = None
        if v.node.kind == "prim::Constant" and v.node.value[1] == "bool":
            st = v.node.value[0]
        return v, none, st

    def is_scripting_call(self, f):
        import types as _types
        names = []
        while isinstance(f, ast.Attribute):
            names.append(f.attr)
            f = f.value
        if not isinstance(f, ast.Name) or self.find_var_silent(f.id):
            return False
        obj = self.fn.__globals__.get(f.id)
        for a in reversed(names):
            if not isinstance(obj, _types.ModuleType) and names[0] != a:
                return False
            obj = getattr(obj, a, None)
        return getattr(obj, "__name__", None) == "is_scripting" and \
            "jit" in (getattr(obj, "__module__", "") or "")

    def short_circuit(self, lhs, second, is_or):
        """emitShortCircuitLogical: an If on the first condition whose blocks give the
        constant (True for `or`, False for `and`) or the second condition."""
        lv, (lt, lf), lst = lhs
        node = self.insert("prim::If", (lv,), 0)
        node.blocks = [_B(node), _B(node)]
        rhs = []

        def const():
            return self.constant(is_or, "bool")

        def cont():
            rhs.append(self.cond_value(second))
            return rhs[0][0]
        for b, refs, make in zip(node.blocks, (lt, lf),
                                 ((const, cont) if is_or else (cont, const))):
            self.push(b)
            saved, self.ins = self.ins, (b, None)
            self.insert_refinements(refs)
            self.register_output(b, make())
            self.ins = saved
            self.pop()
        out = self.new_value(node)
        out.ty = "bool"
        node.outputs.append(out)
        rv, (rt, rf), rst = rhs[0]
        if is_or:
            refs = (_inter(lt, rt), _union(lf, rf))
            st = True if lst is True or rst is True else \
                (lst or rst) if lst is not None and rst is not None else None
        else:
            refs = (_union(lt, rt), _inter(lf, rf))
            st = False if lst is False or rst is False else \
                (lst and rst) if lst is not None and rst is not None else None
        return out, refs, st

    def insert_refinements(self, refs):
        """insertRefinements: the variable read, prim::unchecked_cast to its refined type,
        stored back under its name."""
        for name, ty in refs:
            v = self.find_any(self.frame, name)
            if v is None:
                raise _Abort("refinement")
            if ty == "NoneType":
                # (isinstance's refinement to None where it fails: gpujit makes no cast;
                # torch's goes unless the branch reads the value)
                g = next((g for recs in self.at.values() for g in recs
                          if g.kind == "prim::unchecked_cast" and
                          id(g.node) not in self.claimed and
                          str(g.node.outputs[0].type) == "NoneType"), None)
                if g is not None:
                    self.claimed.add(id(g.node))
            else:
                g = self.claim_kind("prim::unchecked_cast")
            n = self.insert("prim::unchecked_cast", (v,), 1, g=g and g.node)
            n.outputs[0].ty = ty
            self.set_var(name, n.outputs[0])

    def claim_kind(self, kind):
        for recs in self.at.values():
            for g in recs:
                if g.kind == kind and id(g.node) not in self.claimed:
                    self.claimed.add(id(g.node))
                    return g
        raise _Abort(f"no {kind}")

    def if_stmt(self, s):
        self.if_blocks(self.cond_value(s.test), s.body, s.orelse)

    def if_blocks(self, cv, body, orelse):
        """emitIfElseBlocks: a static if's one branch, or both branches, then the
        variables defined along every path that does not exit (a branch that exits
        stores an Uninitialized for them)."""
        c, (trefs, frefs), st = cv
        if st is not None:
            self.insert_refinements(trefs if st else frefs)
            self.stmts(body if st else orelse)
            return
        node = self.insert("prim::If", (c,), 0)
        tb, fb = _B(node), _B(node)
        node.blocks = [tb, fb]
        envs = []
        for b, stmts, refs in ((tb, body, trefs), (fb, orelse, frefs)):
            self.push(b)
            saved = self.ins
            self.ins = (b, None)
            self.insert_refinements(refs)
            self.stmts(stmts)
            self.ins = saved
            envs.append(self.pop())
        st, sf = envs
        te, fe = tb in self.exits, fb in self.exits
        if te and fe:
            self.exits.add(self.frame.block)
        mutated = set()
        for v in st.types.keys:
            saved, self.ins = self.ins, (fb, None)
            if self.find_any(sf, v) is not None or fe:
                mutated.add(v)
            self.ins = saved
        for v in sf.types.keys:
            saved, self.ins = self.ins, (tb, None)
            if self.find_any(st, v) is not None or te:
                mutated.add(v)
            self.ins = saved
        for x in sorted(mutated):
            saved = self.ins
            tv = fv = None
            if not te:
                self.ins = (tb, None)
                tv = self.find_any(st, x)
            if not fe:
                self.ins = (fb, None)
                fv = self.find_any(sf, x)
            self.ins = saved
            if te and fe:
                continue
            if te or fe:
                b = tb if te else fb
                u = self.insert("prim::Uninitialized", at=(b, None)).outputs[0]
                u.like = fv if te else tv
                self.insert("prim::Store", (u,), 0, value=x, at=(b, None))
            self.find_any(self.frame, x)     # (its full type, for unifyTypes)
            self.frame.types.add(x)

    def raise_stmt(self, s):
        """emitRaise: `raise E(msg)` / `raise E` of a builtin exception (a Python
        exception value: its message, then its qualified name), AssertionError (the
        frontend's ExceptionValue: "AssertionError: " + msg, no class name)."""
        import builtins
        e = s.exc
        if e is None or s.cause is not None:
            raise _Abort("raise")
        call = isinstance(e, ast.Call)
        f = e.func if call else e
        if not isinstance(f, ast.Name) or self.find_var_silent(f.id) or \
                call and (e.keywords or len(e.args) > 1):
            raise _Abort("raise")
        exc = self.fn.__globals__.get(f.id, getattr(builtins, f.id, None))
        if not (isinstance(exc, type) and issubclass(exc, BaseException)) or \
                exc.__module__ != "builtins":
            raise _Abort("raise")
        args = [self.expr(a) for a in e.args] if call else []
        if any(not (isinstance(a, ast.Constant) and isinstance(a.value, str) or
                    isinstance(a, ast.JoinedStr))          # (a str: aten::format's)
               for a in (e.args if call else ())):
            raise _Abort("raise message")
        cls = None
        if f.id == "AssertionError" and f.id not in self.fn.__globals__:
            msg = self.constant(f"{f.id}: ", "str")
            for a in args:
                msg = self.insert("aten::add", (msg, a), 1).outputs[0]
                msg.ty = "str"
        elif call:
            msg = args[0] if args else self.constant("", "str")
            cls = self.constant(f"builtins.{exc.__qualname__}", "str")
        else:
            msg = self.constant("", "str")
        if cls is None:
            cls = self.constant(None, "NoneType")     # (the schema's default)
        n = self.insert("prim::RaiseException", (msg, cls), 0)
        n.effect = True
        self.insert("prim::TupleConstruct")     # (Graph::insert packs the no outputs)
        self.exits.add(self.frame.block)

    def assert_stmt(self, s):
        """emitAssert: an If whose false branch raises AssertionError(msg)."""
        c = self.cond_value(s.test)
        msg = s.msg if s.msg is not None else ast.Constant("")
        ast.copy_location(msg, s)
        exc = ast.Call(ast.Name("AssertionError", ast.Load()), [msg], [])
        ast.copy_location(exc.func, s)
        ast.copy_location(exc, s)
        r = ast.Raise(exc, None)
        ast.copy_location(r, s)
        if "AssertionError" in self.fn.__globals__:
            raise _Abort("assert")
        self.if_blocks(c, [], [r])

    def loop_body(self, node, body, target, item=None):
        bb = node.blocks[0]
        trip = bb.add_param(self)
        self.push(bb)
        saved = self.ins
        self.ins = (bb, None)
        if isinstance(target, list):
            # (`for a, b in ...`: the element's values, each stored)
            for name, v in zip(target, item(trip)):
                self.set_var(name, v)
        elif target is not None:
            # (a list's element: iter_val->getitem(trip count), in the body)
            self.set_var(target, item(trip) if item is not None else trip)
        if callable(body):
            body()
        else:
            self.stmts(body)
        self.ins = saved
        self.pop()

    def builtin(self, e, name):
        """e is a call of Python's builtin name (range, enumerate, zip)."""
        import builtins
        b = getattr(builtins, name)
        return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and \
            e.func.id == name and self.find_var_silent(name) is None and \
            self.fn.__globals__.get(name, b) is b

    def claim_near(self, kinds, nodes):
        """The first gpujit node of kinds at one of nodes' positions, or at none."""
        kinds = (kinds,) if isinstance(kinds, str) else kinds
        for x in nodes:
            try:
                return self.claim(x, kinds)
            except _Abort:
                pass
        for g in self.at.get(None, ()):
            if g.kind in kinds and id(g.node) not in self.claimed:
                self.claimed.add(id(g.node))
                return g
        raise _Abort(f"no {kinds}")

    def range_value(self, args, where):
        """RangeValue of its inputs' values: (len, getitem) as functions emitting them."""
        if len(args) == 1:
            self.constant(0, "int")
            self.constant(1, "int")
            return (lambda: args[0]), (lambda trip: trip)
        # its step (a 1 made for range(start, stop)), then len(): aten::__range_length;
        # getitem(): aten::__derive_index in the body
        start = args[0]
        step = args[2] if len(args) == 3 else self.constant(1, "int")

        def length():
            ins = (start, args[1], step)
            try:
                g = self.claim_near("aten::__range_length", where).node
            except _Abort:
                if any(v.node.kind != "prim::Constant" for v in ins):
                    raise
                g = None                # (gpujit folded it as it emitted it)
            return self.insert("aten::__range_length", ins, 1, g=g).outputs[0]

        def item(trip):
            d = self.claim_near("aten::__derive_index", where)
            return self.insert(d.kind, (trip, start, step), 1, g=d.node).outputs[0]
        return length, item

    def iterable(self, it, where):
        """emitSugaredExpr(it)->iter(): range(...)'s RangeValue, a list's value
        (aten::len, aten::__getitem__ of each trip count)."""
        if self.builtin(it, "range"):
            if it.keywords or not 1 <= len(it.args) <= 3:
                raise _Abort("range")
            return self.range_value([self.expr(e) for e in it.args], where)
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name):
            raise _Abort("for over a call")
        seq = self.expr(it)
        t = self.vtype(seq)
        tensor = t.startswith("Tensor") and not t.endswith("]")
        if t.startswith("Dict("):
            # SimpleValue::iter of a dict: the list of its keys
            k = self.claim_near("aten::keys", where)
            seq = self.insert(k.kind, (seq,), 1, g=k.node).outputs[0]
        elif tensor:
            # a Tensor's SimpleValue::getitem: aten::select(it, 0, trip count)
            def tensor_item(trip):
                zero = self.constant(0, "int")
                gi = self.claim_near("aten::select", where)
                return self.insert(gi.kind, (seq, zero, trip), 1, g=gi.node).outputs[0]

        def length():
            g = self.claim_near("aten::len", where)
            return self.insert(g.kind, (seq,), 1, g=g.node).outputs[0]

        def item(trip):
            gi = self.claim_near("aten::__getitem__", where)
            return self.insert(gi.kind, (seq, trip), 1, g=gi.node).outputs[0]
        return length, (tensor_item if tensor else item)

    def for_stmt(self, s):
        if s.orelse:
            raise _Abort("for")
        _no_exits(s.body)
        self.for_loop(s, s.target, s.iter, lambda: self.stmts(s.body))

    def for_loop(self, s, target, it, emit_body):
        """emitFor / emitLoopCommon over range(), a list, enumerate() or zip() of them;
        s: the node whose position gpujit's loop nodes have."""
        if isinstance(target, ast.Name):
            tnames = target.id
        elif isinstance(target, ast.Tuple) and target.elts and \
                all(isinstance(x, ast.Name) for x in target.elts):
            tnames = [x.id for x in target.elts]
        else:
            raise _Abort("for target")
        where = (s, it)
        if self.builtin(it, "enumerate"):
            # IterableTree(RangeValue(start, inf), the iterable)
            if it.keywords or not 1 <= len(it.args) <= 2:
                raise _Abort("enumerate")
            rin = [self.expr(it.args[1])] if len(it.args) == 2 else []
            rin.append(self.materialize(2 ** 63 - 1, "int", self.int_consts))
            child = self.iterable(it.args[0], where)
            kids = [self.range_value(rin, where), child]
        elif self.builtin(it, "zip"):
            if it.keywords or not it.args:
                raise _Abort("zip")
            kids = [self.iterable(a, where) for a in it.args]
        else:
            kids = None
            length, item = self.iterable(it, where)
        if kids is not None:
            # IterableTree::len: prim::min of its children's lengths; getitem: theirs
            if not isinstance(tnames, list) or len(tnames) != len(kids):
                raise _Abort("for target")
            lens = [k[0]() for k in kids]
            lc = self.claim_near("prim::ListConstruct", where)
            lst = self.insert(lc.kind, lens, 1, g=lc.node).outputs[0]
            m = self.claim_near("prim::min", where)
            trip_max = self.insert(m.kind, (lst,), 1, g=m.node).outputs[0]

            def item(trip):
                # (SugaredTupleValue::asValue: a tuple the unpacking reads through)
                vals = [k[1](trip) for k in kids]
                self.insert("prim::TupleConstruct", vals, 1)
                return vals
        else:
            trip_max = length()
            if isinstance(tnames, list):
                one = item

                def item(trip):
                    # emitTupleAssign of the element: SimpleValue::asTuple's unpack
                    v = one(trip)
                    u = self.claim_near(("prim::TupleUnpack", "prim::ListUnpack"),
                                        (it, s, target))
                    if u.nout != len(tnames):
                        raise _Abort("for target")
                    return self.insert(u.kind, (v,), u.nout, g=u.node).outputs
        node = self.insert("prim::Loop", (trip_max,), 0)
        node.blocks = [_B(node), _B(node)]
        t = self.constant(True, "bool", at=(self.ins[0], node))
        t.node.loc = next((g.node.source_range for g in self.at.get(self.pos(s), ())
                           if g.kind == "prim::Loop"), None)     # (the loop's range)
        self.register_output(node.blocks[1], t)
        self.loop_body(node, emit_body, tnames, item)

    def list_comp(self, e):
        """emitListComprehension: the empty list, a ComprehensionScope whose block holds
        the for loop appending each element."""
        if len(e.generators) != 1 or e.generators[0].ifs or e.generators[0].is_async:
            raise _Abort("comprehension")
        gen = e.generators[0]
        g = self.claim(e, ("prim::ListConstruct",))
        lst = self.insert("prim::ListConstruct", (), 1, g=g.node).outputs[0]
        scope = self.insert("prim::ComprehensionScope", (), 0)
        b = _B(scope)
        scope.blocks = [b]
        self.push(b)
        saved, self.ins = self.ins, (b, None)

        def body():
            v = self.expr(e.elt)
            a = self.claim(e, ("aten::append",))
            n = self.insert("aten::append", (lst, v), 1, g=a.node)
            n.effect = True             # (it writes the list)
        self.for_loop(e, gen.target, gen.iter, body)
        self.ins = saved
        self.pop()
        return lst

    def while_stmt(self, s):
        if s.orelse:
            raise _Abort("while else")
        _no_exits(s.body)
        trip_max = self.materialize(2 ** 63 - 1, "int", self.int_consts)
        node = self.insert("prim::Loop", (trip_max,), 0)
        node.blocks = [_B(node), _B(node)]
        cb = node.blocks[1]
        self.push(cb)
        saved, self.ins = self.ins, (cb, None)
        c = self.cond(s.test)
        self.ins = saved
        self.pop()
        self.register_output(cb, c)
        self.loop_body(node, s.body, None)

    # ------------------------------------------------------------------ expressions
    def get_attr(self, e, attr=None, recv=None):
        """`self.name` (or `getattr(self, "0")`, attr "0"): a prim::GetAttr
        (createGetAttr names its value the field, `_0` for a number) of recv, else of
        self read here."""
        attr = e.attr if attr is None else attr
        for g in self.at.get(self.pos(e), []) + self.at.get(None, []):
            if g.kind == "prim::GetAttr" and id(g.node) not in self.claimed and \
                    g.node.attrs.get("name") == attr:
                self.claimed.add(id(g.node))
                n = self.insert("prim::GetAttr", (recv or self.self_ref(),), 1, g=g.node)
                self.set_name(n.outputs[0], "_" + attr if attr.isdigit()
                              else attr.replace(".", "_"))
                if str(g.node.outputs[0].type) == "NoneType":
                    n.outputs[0].ty = "NoneType"    # (its `is not None` static)
                return n.outputs[0]
        if self.module is not None and recv is None and _none_attr(self.module, attr) and \
                attr not in getattr(self.module, "__constants__", ()):
            # a None attribute (BasicBlock's `self.downsample`): ModuleValue's GetAttr,
            # of NoneType (its `is not None` static), dead after; gpujit folded it
            n = self.insert("prim::GetAttr", (self.self_ref(),), 1)
            self.set_name(n.outputs[0], attr)
            n.outputs[0].ty = "NoneType"
            return n.outputs[0]
        pos = self.pos(e)
        consts = getattr(self.at, "consts", {}).get(pos, [])
        if len(consts) == 1 and (consts[0] is None or
                                 type(consts[0]) in (bool, int, float, str)):
            # a module constant (__constants__: MaxPool2d's kernel_size): torch's
            # insertConstant of its value at the attribute's range, where it is read (no
            # materialized literal: those go first in the graph, one per value)
            c = consts[0]
            ty = "NoneType" if c is None else type(c).__name__
            return self.ranged(e, lambda: self.constant(c, ty))
        raise _Abort(f"attribute {attr}")

    def is_self(self, e):
        return self.self_name is not None and isinstance(e, ast.Name) and \
            e.id == self.self_name and (self.stored_self or self.find_var_silent(e.id) is None)

    def self_ref(self):
        """The receiver's value where `self` is read (a prim::Load where it is stored)."""
        return self.find_any(self.frame, self.self_name) if self.stored_self \
            else self.self_value

    def expr(self, e):
        if isinstance(e, ast.Attribute) and self.is_self(e.value):
            return self.get_attr(e)
        if isinstance(e, ast.Name):
            v = self.find_any(self.frame, e.id)
            if v is None:
                raise _Abort(f"name {e.id}")
            return v
        if isinstance(e, ast.Constant):
            return self.ranged(e, lambda: self.literal(e.value))
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub) and \
                isinstance(e.operand, ast.Constant) and \
                type(e.operand.value) in (int, float):
            lit = self.expr(e.operand)
            self.insert("aten::neg", (lit,), 1)     # (folded: runNodeIfInputsAreConstant)
            val = -e.operand.value
            return self.ranged(e, lambda: self.constant(val, "int" if type(val) is int
                                                        else "float"))
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.Invert)):
            return self.call_node(e, [self.expr(e.operand)], {})
        if isinstance(e, ast.BinOp):
            if isinstance(e.op, ast.Mod):
                # (`a % b` reads a first for its type: a str's is percentFormat)
                if not isinstance(e.left, (ast.Name, ast.Constant)):
                    raise _Abort("mod")
                self.expr(e.left)
            lhs = self.expr(e.left)
            rhs = self.expr(e.right)
            return self.call_node(e, [lhs, rhs], {})
        if isinstance(e, ast.Compare):
            if len(e.ops) != 1 or isinstance(e.ops[0], (ast.Is, ast.IsNot, ast.In,
                                                         ast.NotIn)):
                raise _Abort("compare")
            lhs = self.expr(e.left)
            rhs = self.expr(e.comparators[0])
            return self.call_node(e, [lhs, rhs], {})
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.IfExp):
            # emitTernaryIf: the condition, an If whose blocks give the two values, its
            # output made last
            c, refs, st = self.cond_value(e.test)
            if st is not None:
                return self.expr(e.body if st else e.orelse)
            node = self.insert("prim::If", (c,), 0)
            node.blocks = [_B(node), _B(node)]
            for b, x, r in zip(node.blocks, (e.body, e.orelse), refs):
                self.push(b)
                saved, self.ins = self.ins, (b, None)
                self.insert_refinements(r)
                self.register_output(b, self.expr(x))
                self.ins = saved
                self.pop()
            out = self.new_value(node)
            node.outputs.append(out)
            return out
        if isinstance(e, ast.BoolOp) or \
                isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not) or \
                isinstance(e, ast.Compare) and len(e.ops) == 1 and \
                isinstance(e.ops[0], (ast.Is, ast.IsNot)):
            return self.cond_value(e)[0]       # (emitSimpleExpr: emitCondExpr's value)
        if isinstance(e, ast.Attribute) and self.module_attr(e) is not None:
            return self.module_attr(e)()
        if isinstance(e, ast.Attribute):
            return self.value_attr(self.expr(e.value), e)
        if isinstance(e, ast.Subscript):
            return self.subscript(e)
        if isinstance(e, ast.ListComp):
            return self.list_comp(e)
        if isinstance(e, (ast.Tuple, ast.List)):
            vals = [self.expr(x) for x in e.elts]
            if any(isinstance(x, ast.Starred) for x in e.elts):
                raise _Abort("starred")
            kind = "prim::TupleConstruct" if isinstance(e, ast.Tuple) else \
                "prim::ListConstruct"
            g = self.claim(e, (kind,))
            n = self.insert(kind, vals, 1, g=g.node)
            return n.outputs[0]
        if isinstance(e, ast.JoinedStr):
            return self.joined_str(e)
        raise _Abort(type(e).__name__)

    def joined_str(self, e):
        """f"...{x}...": torch's frontend makes it `"...{}...".format(x)` (build_JoinedStr):
        the string's constant at the f-string's range, the values, then aten::format."""
        text, args = "", []
        for part in e.values:
            if isinstance(part, ast.FormattedValue):
                if part.conversion != -1 or part.format_spec is not None:
                    raise _Abort("JoinedStr format")
                text += "{}"
                args.append(part.value)
            elif isinstance(part, ast.Constant) and isinstance(part.value, str):
                text += part.value
            else:
                raise _Abort("JoinedStr part")
        lit = self.ranged(e, lambda: self.constant(text, "str"))
        vals = [self.expr(a) for a in args]
        rec = self.claim(e, ("aten::format",))
        if len(rec.inputs) != len(vals) + 1:
            raise _Abort("JoinedStr inputs")
        out = self.insert("aten::format", [lit] + vals, 1, g=rec.node).outputs[0]
        out.ty = "str"
        return out

    def value_attr(self, v, e):
        """e (`x.shape`, `x.dtype`, `obj.field`) of v: the op TorchScript's attribute of
        a value inserts."""
        try:
            rec = self.claim(e)
        except _Abort:
            # (x.layout, x.is_cuda, x.requires_grad: torch's prim:: nodes of a tensor
            # attribute carry no source range, nor do gpujit's)
            rec = next((g for g in self.at.get(None, ()) if id(g.node) not in
                        self.claimed and g.kind in _UNRANGED_ATTRS), None)
            if rec is None:
                raise
            self.claimed.add(id(rec.node))
        if rec.kind == "prim::TupleIndex" and len(rec.inputs) == 2 and \
                rec.inputs[1].node.kind == "prim::Constant":
            # a NamedTuple's field: SimpleValue::attr's index constant, then TupleIndex
            k = self.unranged(rec.inputs[1].node.attrs.get("value"), "int")
            return self.insert(rec.kind, (v, k), 1, g=rec.node).outputs[0]
        if len(rec.inputs) != 1 or rec.node.blocks:
            raise _Abort("attribute")
        out = self.insert(rec.kind, (v,), rec.nout, g=rec.node).outputs[0]
        if rec.kind == "prim::GetAttr":         # (createGetAttr names it the field)
            self.set_name(out, e.attr.replace(".", "_"))
        return out

    # ------------------------------------------------------------------ subscripts
    def peek(self, e):
        """The gpujit nodes at e's position not yet claimed."""
        return [g for g in self.at.get(self.pos(e), ()) if id(g.node) not in self.claimed]

    def ghost(self, e):
        """An expression emitted again whose value is dropped (emitSugaredExpr's of a
        subscript before the one used): its values numbered, its nodes erased by the
        dead code elimination, gpujit's nodes left for the emission used."""
        saved = set(self.claimed)
        v = self.expr(e)
        if self.by_id is None:
            self.by_id = {id(g.node): g.node for recs in self.at.values() for g in recs}
        if any(self.by_id[k].has_side_effects() for k in self.claimed - saved):
            raise _Abort("effects in an index")     # (they would stay)
        self.claimed = saved
        return v

    def subscript(self, e):
        """emitSubscript: a Tensor's index by emitMultidimSlicing (aten::select / slice /
        unsqueeze / index), a list's slice (aten::slice), a tuple's prim::TupleIndex,
        another value's __getitem__."""
        sl = e.slice
        exprs = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
        v = self.expr(e.value)
        recs = self.peek(e)
        if not recs:
            raise _Abort("subscript")
        first = recs[0]
        tensor = first.kind in ("aten::select", "aten::unsqueeze", "aten::index",
                                "prim::ListConstruct") or \
            first.kind == "aten::slice" and str(first.inputs[0].type) == "Tensor"
        if len(exprs) != 1:
            if not tensor:
                raise _Abort("subscript")
            return self.multidim(e, v, exprs)
        x = exprs[0]
        if isinstance(x, ast.Slice):
            if tensor:
                return self.slice_op(e, v, self.ranged(e, lambda: self.constant(0, "int")),
                                     x)
            if first.kind != "aten::slice":
                raise _Abort("subscript")
            return self.slice_op(e, v, None, x)
        if tensor:
            self.ghost(x)
            return self.multidim(e, v, exprs)
        i = self.expr(x)
        if first.kind not in ("aten::__getitem__", "prim::TupleIndex") or \
                len(first.inputs) != 2:
            raise _Abort("subscript")
        self.claimed.add(id(first.node))
        return self.insert(first.kind, (v, i), first.nout, g=first.node).outputs[0]

    def slice_op(self, e, v, dim, x):
        """emitSlice / emitSliceOp: start, end, step, a 1 for a step not given, then
        aten::slice (a `start` or `end` not given None by the schema's default)."""
        if isinstance(x, ast.Slice):
            start, end, step = (None if y is None else self.expr(y)
                                for y in (x.lower, x.upper, x.step))
        if step is None:
            step = self.ranged(e, lambda: self.constant(1, "int"))
        if dim is None:
            # a list's aten::slice.t(t[] l, int? start=None, int? end=None, int step=1)
            rec = self.claim(e, ("aten::slice",))
            if len(rec.inputs) != 4:
                raise _Abort("slice")
            start, end = (y if y is not None else self.unranged(None, "NoneType")
                          for y in (start, end))
            return self.insert("aten::slice", (v, start, end, step), 1,
                               g=rec.node).outputs[0]
        kws = {k: y for k, y in (("start", start), ("end", end)) if y is not None}
        kws["step"] = step
        return self.call_node(e, [v, dim], kws, ("aten::slice",))

    def subscript_assign(self, e, rhs):
        """emitSubscriptAssign (`x[i] = v`, the value emitted first): a Tensor's
        emitIntAndSliceIndexing, a number made a tensor of its dtype and device
        (prim::dtype, prim::device, aten::tensor), then aten::copy_, or aten::index_put_
        of its tensor indices; a list's or dict's aten::_set_item."""
        sl = e.slice
        exprs = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
        v = self.expr(e.value)
        recs = self.peek(e)
        if not recs:
            raise _Abort("subscript assign")
        if recs[0].kind == "aten::_set_item":
            if len(exprs) != 1 or isinstance(exprs[0], ast.Slice):
                raise _Abort("subscript assign")
            i = self.expr(exprs[0])
            self.call_node(e, [v, i, rhs], {}, ("aten::_set_item",), void=True)
            return
        v, tensor_indices = self.int_and_slice(e, v, exprs)
        t = self.vtype(rhs)
        if t in ("int", "float", "bool", "complex"):
            dtype = self.call_node(e, [v], {}, rec=self.claim_near("prim::dtype", (e,)))
            device = self.call_node(e, [v], {},
                                    rec=self.claim_near("prim::device", (e,)))
            rhs = self.call_node(e, [rhs], {"dtype": dtype, "device": device},
                                 rec=self.claim_near("aten::tensor", (e,)))
        elif not (t.startswith("Tensor") and not t.endswith("]")):
            raise _Abort("subscript assign")
        if not tensor_indices:
            self.call_node(e, [v, rhs], {}, ("aten::copy_",))
            return
        lc = self.claim(e, ("prim::ListConstruct",))
        lst = self.insert("prim::ListConstruct", tensor_indices, 1, g=lc.node).outputs[0]
        self.call_node(e, [v, lst, rhs], {}, ("aten::index_put_",))

    def multidim(self, e, v, exprs):
        """emitIntAndSliceIndexing then emitIndex."""
        v, tensor_indices = self.int_and_slice(e, v, exprs)
        if not tensor_indices:
            return v
        lc = self.claim(e, ("prim::ListConstruct",))
        lst = self.insert("prim::ListConstruct", tensor_indices, 1, g=lc.node).outputs[0]
        return self.call_node(e, [v, lst], {}, ("aten::index",))

    def int_and_slice(self, e, v, exprs):
        """emitIntAndSliceIndexing: (the value indexed by ints and slices, its tensor
        indices with None for the dims between)."""
        n = len(exprs)
        dims, vals = [0] * n, [None] * n
        ints = set()

        def handle(k, dim, rev):
            x = exprs[k]
            dims[k] = dim
            if isinstance(x, ast.Slice):
                return dim - 1 if rev else dim + 1
            self.ghost(x)
            iv = self.expr(x)
            vals[k] = iv
            if _is_none_lit(x):
                return dim if rev else dim + 1
            t = self.vtype(iv)
            if t == "int":
                ints.add(k)
                return dim - 1 if rev else dim
            if t.startswith("Tensor") and not t.endswith("[]") and not rev:
                return dim + 1
            raise _Abort("index type")
        k, dim = 0, 0
        while k < n and not _is_dots(exprs[k]):
            dim = handle(k, dim, False)
            k += 1
        rdim = -1
        for j in range(n - 1, k, -1):
            if _is_dots(exprs[j]):
                raise _Abort("two ellipses")
            rdim = handle(j, rdim, True)
        tensor_indices = []

        def dim_value(j):           # (insert_value_for_dim)
            return self.ranged(e, lambda: self.constant(dims[j], "int"))
        for j, x in enumerate(exprs):
            iv = vals[j]
            if iv is None:
                if isinstance(x, ast.Slice):
                    v = self.slice_op(e, v, dim_value(j), x)
                elif not _is_dots(x):
                    raise _Abort("index")
                continue
            if _is_none_lit(x):
                v = self.call_node(e, [v, dim_value(j)], {},
                                   ("aten::unsqueeze",))
            elif j in ints:
                v = self.call_node(e, [v, dim_value(j), iv], {},
                                   ("aten::select",))
            else:
                tensor_indices += [None] * (dims[j] + 1 - len(tensor_indices))
                tensor_indices[dims[j]] = iv
        return v, [t if t is not None else self.unranged(None, "NoneType")
                   for t in tensor_indices]

    def module_attr(self, e):
        """`torch.float64`, `math.pi`: a Python module's attribute, a constant made
        afresh (toSugaredValue's insertConstant); None where e is not one."""
        import types as _types
        names = []
        root = e
        while isinstance(root, ast.Attribute):
            names.append(root.attr)
            root = root.value
        if not isinstance(root, ast.Name) or self.find_var_silent(root.id) or \
                self.is_self(root):
            return None
        obj = self.fn.__globals__.get(root.id)
        for a in reversed(names):
            if not isinstance(obj, _types.ModuleType):
                return None
            obj = getattr(obj, a, None)
        from ... import dtypes as _dt
        from .serialized import ArchiveConstant
        if isinstance(obj, ArchiveConstant):
            # archive code's `CONSTANTS.c0`: ConstantTableValue's insertConstant, at e
            value = obj.value
            ty = "str" if isinstance(value, str) else "Tensor"
            return lambda: self.ranged(e, lambda: self.constant(value, ty))
        if isinstance(obj, _dt.dtype) and not isinstance(obj, _dt.MissingDtype):
            value, ty = _dt.scalar_type_code(obj), "int"
        elif obj is None or type(obj) in (bool, int, float, str):
            value = obj
            ty = {type(None): "NoneType", bool: "bool", int: "int", float: "float",
                  str: "str"}[type(obj)]
            if isinstance(obj, float) and math.isnan(obj):
                return None
        else:
            return None
        return lambda: self.constant(value, ty)

    def unranged(self, value, ty):
        """A constant without a source range (a schema's default, createNone)."""
        c = self.constant(value, ty)
        c.node.loc = False
        return c

    def ranged(self, e, make):
        """make()'s value; a constant it made has e's source range (torch's
        insertConstant(..., range) of the expression)."""
        k = self.counter
        v = make()
        if v.node.kind == "prim::Constant" and v.uid >= k:
            v.node.loc = self.src.range(e)
        return v

    def literal(self, value):
        if value is None:
            return self.constant(None, "NoneType")
        if isinstance(value, bool):
            return self.constant(value, "bool")
        if isinstance(value, int):
            if not -2 ** 63 <= value < 2 ** 63:
                raise _Abort("big int")
            return self.materialize(value, "int", self.int_consts)
        if isinstance(value, float):
            if math.isnan(value):
                raise _Abort("nan")
            return self.materialize(value, "float", self.fp_consts)
        if isinstance(value, str):
            return self.constant(value, "str")
        raise _Abort("literal")

    def call(self, e):
        f = e.func
        if any(isinstance(a, ast.Starred) for a in e.args) or \
                any(k.arg is None for k in e.keywords):
            raise _Abort("star args")
        if isinstance(f, ast.Name) and f.id in ("float", "int", "bool") and \
                f.id not in self.fn.__globals__ and len(e.args) == 1 and \
                not e.keywords and self.find_var_silent(f.id) is None:
            # CastValue: its zero constant, then aten::Float / Int / Bool unless the
            # value has the type already
            v = self.expr(e.args[0])
            self.constant(0, "int")
            kind = {"float": "aten::Float", "int": "aten::Int", "bool": "aten::Bool"}[f.id]
            try:
                rec = self.claim(e, (kind,))
            except _Abort:
                return v
            return self.insert(kind, (v,), 1, g=rec.node).outputs[0]
        if isinstance(f, ast.Name) and f.id in ("len", "min", "max") and \
                f.id not in self.fn.__globals__ and not e.keywords and \
                self.find_var_silent(f.id) is None:
            # builtins: one op on the arguments (aten::len, prim::min / prim::max)
            return self.call_node(e, [self.expr(a) for a in e.args], {})
        if isinstance(f, ast.Name) and f.id == "getattr" and f.id not in self.fn.__globals__ \
                and len(e.args) == 2 and not e.keywords and self.is_self(e.args[0]) and \
                isinstance(e.args[1], ast.Constant) and isinstance(e.args[1].value, str) \
                and self.find_var_silent(f.id) is None:
            return self.get_attr(e, e.args[1].value)    # (Sequential's code: getattr(self, "0"))
        if self.function_call_at(e):
            return self.function_call(e)
        obj = self.construction(e)
        if obj is None:
            obj = self.namedtuple_construction(e)
        if obj is not None:
            return obj
        if not isinstance(f, ast.Attribute):
            raise _Abort(f"call of a name {getattr(f, 'id', f)}")
        if self.is_self(f.value):
            # self.sub(x): the submodule's GetAttr, then its CallMethod; self.m(x): a
            # CallMethod on self
            rec = next((g for g in self.at.get(self.pos(e), ())
                        if id(g.node) not in self.claimed and g.kind != "prim::GetAttr"),
                       None)
            if rec is None or rec.kind != "prim::CallMethod" or not rec.inputs:
                raise _Abort("call on self")
            src0 = rec.inputs[0].node
            recv = self.get_attr(f) if src0 is not None and src0.kind == "prim::GetAttr" \
                else self.self_ref()
            ops = [recv] + [self.expr(a) for a in e.args]
            kws = {k.arg: self.expr(k.value) for k in e.keywords}
            return self.call_node(e, ops, kws)
        ops = []
        root = f
        while isinstance(root, ast.Attribute):
            root = root.value
        module_call = isinstance(root, ast.Name) and self.find_var_silent(root.id) is None
        if module_call:
            import types as _types
            obj = self.fn.__globals__.get(root.id)
            if not isinstance(obj, _types.ModuleType):
                raise _Abort("callee")
            if f.attr == "device" and len(e.args) == 1 and not e.keywords and \
                    isinstance(e.args[0], ast.Constant) and \
                    isinstance(e.args[0].value, str) and not self.peek(e):
                # torch.device("cpu") (archive code's): aten::device(str), which the
                # constant propagation folds (gpujit's frontend made the constant)
                lit = self.expr(e.args[0])
                return self.insert("aten::device", (lit,), 1).outputs[0]
        else:
            if not isinstance(f.value, (ast.Name, ast.Call, ast.BinOp, ast.Constant,
                                        ast.Subscript, ast.Attribute, ast.Compare,
                                        ast.UnaryOp)):
                raise _Abort("method receiver")
            ops.append(self.expr(f.value))
        ops += [self.expr(a) for a in e.args]
        kws = {k.arg: self.expr(k.value) for k in e.keywords}
        if module_call and root.id == "ops" and isinstance(f.value, ast.Attribute):
            # archive code's `ops.prim.NumToTensor(n)`: the node it names, a conversion
            # kind included
            from .serialized import _ATEN_SPELLED
            kind = f"{f.value.attr}::{f.attr}"
            return self.call_node(e, ops, kws, kinds=(_ATEN_SPELLED.get(kind, kind),))
        return self.call_node(e, ops, kws)

    def function_call_at(self, e):
        """The unclaimed prim::CallFunction gpujit made for e, a call of a global
        function (`helper(x)`, `F.softmax(x, 0)`; a method of a value is not one), or
        None."""
        root = e.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or self.find_var_silent(root.id) is not None \
                or (self.method and root.id == self.self_name):
            return None
        return next((g for g in self.at.get(self.pos(e), ())
                     if id(g.node) not in self.claimed and
                     g.kind == "prim::CallFunction"), None)

    def function_call(self, e):
        """FunctionValue::call: the arguments (positional, then keywords), schema
        matching's default constants (unranged) in the callee's parameter order, then
        insertFunctionCall's `Function` constant and the prim::CallFunction."""
        rec = self.function_call_at(e)
        g = rec.node
        callee = g.meta.get("callee")
        callee = getattr(callee, "graph", callee)
        if rec.nout != 1 or callee is None or not rec.inputs or \
                rec.inputs[0].node.kind != "prim::Constant" or \
                "name" not in rec.inputs[0].node.attrs or \
                len(rec.inputs) != len(callee.inputs) + 1:
            raise _Abort("function call")
        self.claimed.add(id(g))
        ops = [self.expr(a) for a in e.args]
        kws = {k.arg: self.expr(k.value) for k in e.keywords}
        inputs = self.bind_params(callee.inputs, rec.inputs[1:], ops, kws)
        fc = rec.inputs[0].node
        fn = self.unranged((fc.attrs["name"], id(fc.meta.get("function"))), "Function")
        n = self.insert("prim::CallFunction", [fn] + inputs, 1, g=g)
        n.effect = True                 # (torch's DCE keeps a call: it may have effects)
        return n.outputs[0]

    def construction(self, e):
        """`C(args)` of a script class, as ClassValue::call emits it: the arguments, then
        `prim::CreateObject`, then MethodValue's schema matching (default constants,
        conversions) and the `__init__` CallMethod; the object is its value. None where
        gpujit made no object at e."""
        root = e.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or self.find_var_silent(root.id) is not None:
            return None         # (`C(3).run(x)`'s outer call, a method of a value)
        here = [g for g in self.at.get(self.pos(e), ()) if id(g.node) not in self.claimed]
        co = next((g for g in here if g.kind == "prim::CreateObject"), None)
        if co is None:
            return None
        init = next((g for g in here if g.kind == "prim::CallMethod" and
                     g.node.attrs.get("name") == "__init__" and g.inputs and
                     g.inputs[0] is co.node.outputs[0]), None)
        callee = init.node.meta.get("callee") if init is not None else None
        if callee is None or len(init.inputs) != len(callee.inputs) or init.nout != 1:
            raise _Abort("construction")
        self.claimed.update((id(co.node), id(init.node)))
        ops = [self.expr(a) for a in e.args]
        kws = {k.arg: self.expr(k.value) for k in e.keywords}
        obj = self.insert("prim::CreateObject", (), 1, g=co.node).outputs[0]
        inputs = self.bind_params(callee.inputs[1:], init.inputs[1:], ops, kws)
        n = self.insert("prim::CallMethod", [obj] + inputs, 1, g=init.node)
        n.effect = True
        return obj

    def namedtuple_construction(self, e):
        """`Point(x, n=1)` of a NamedTuple class: NamedTupleConstructor's schema matching
        (the arguments, defaults' constants) then its prim::TupleConstruct; None where
        gpujit made no NamedTuple at e."""
        root = e.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or self.find_var_silent(root.id) is not None:
            return None
        rec = next((g for g in self.at.get(self.pos(e), ()) if id(g.node) not in
                    self.claimed and g.kind == "prim::TupleConstruct"), None)
        fields = getattr(rec.node.outputs[0].type, "fields", None) if rec else None
        if not fields or len(rec.inputs) != len(fields):
            return None
        self.claimed.add(id(rec.node))
        ops = [self.expr(a) for a in e.args]
        kws = {k.arg: self.expr(k.value) for k in e.keywords}
        inputs = []
        for f, gv in zip(fields, rec.inputs):
            c = gv.node
            if c is not None and c.kind in _CONVERSIONS and id(c) not in self.claimed:
                raise _Abort("namedtuple conversion")
            if ops:
                inputs.append(ops.pop(0))
            elif f in kws:
                inputs.append(kws.pop(f))
            elif c is not None and c.kind == "prim::Constant":
                inputs.append(self.unranged(c.attrs.get("value"), str(gv.type)))
            else:
                raise _Abort("namedtuple field")
        if ops or kws:
            raise _Abort("operands left")
        return self.insert("prim::TupleConstruct", inputs, 1, g=rec.node).outputs[0]

    def bind_params(self, params, gvalues, ops, kws):
        """A call's inputs after its callee's parameters (matchSchema): each argument
        (positional, then by name), its conversion where gpujit made one, a default's
        unranged constant."""
        inputs = []
        for p, gv in zip(params, gvalues):
            base, _, suffix = p.debug_name.rpartition(".")      # (x, not x.1)
            name = base if base and suffix.isdigit() else p.debug_name
            c = gv.node
            if c is not None and c.kind in _CONVERSIONS and id(c) not in self.claimed \
                    and len(c.inputs) >= 1 and (ops or name in kws) and \
                    (len(c.inputs) == 1 or (c.kind == "prim::ListConstruct" and
                                            len(set(map(id, c.inputs))) == 1)):
                # tryConvertToType's conversion of the argument (a number for a
                # BroadcastingList2[int] parameter: the list of n copies of it)
                self.claimed.add(id(c))
                v = ops.pop(0) if ops else kws.pop(name)
                inputs.append(self.insert(c.kind, [v] * len(c.inputs), 1, g=c).outputs[0])
            elif ops:
                inputs.append(ops.pop(0))
            elif name in kws:
                inputs.append(kws.pop(name))
            elif gv.node is not None and gv.node.kind == "prim::Constant" and \
                    "name" not in gv.node.attrs:
                inputs.append(self.unranged(gv.node.attrs.get("value"), str(gv.type)))
            elif c is not None and c.kind == "prim::ListConstruct" and \
                    id(c) not in self.claimed and c.inputs and \
                    len(set(map(id, c.inputs))) == 1 and c.inputs[0].node is not None and \
                    c.inputs[0].node.kind == "prim::Constant":
                # a broadcasting list's number default (`padding: BroadcastingList2[int] =
                # 0`): the number's constant, then tryConvertToType's list of n copies
                self.claimed.add(id(c))
                k = c.inputs[0]
                v = self.unranged(k.node.attrs.get("value"), str(k.type))
                inputs.append(self.insert(c.kind, [v] * len(c.inputs), 1, g=c).outputs[0])
            else:
                raise _Abort("argument")
        if ops or kws:
            raise _Abort("operands left")
        return inputs

    def find_var_silent(self, name):
        f = self.frame
        while f is not None:
            if name in f.types:
                return True
            f = f.next
        return None

    def call_node(self, e, ops, kws, kinds=None, void=False, rec=None):
        """The gpujit node at e's position (or rec), its inputs the operands,
        conversions and default constants in its schema's order (tryMatchSchema), then
        its outputs."""
        rec = rec or self.claim(e, kinds)
        g = rec.node
        if g.blocks:
            raise _Abort("node with blocks")
        op = rec.op
        args = op.schema.arguments if op is not None else None
        if args is not None and len(args) != len(rec.inputs):
            raise _Abort("schema")
        ops = list(ops)
        kws = dict(kws)
        if op is not None:
            self.failed_tries(op, rec, ops, kws)
        inputs = []
        for j, gv in enumerate(rec.inputs):
            a = args[j] if args is not None else None
            p = gv.node
            if p is not None and p.kind in _CONVERSIONS and id(p) not in self.claimed and \
                    (p.source_range is None or
                     (p.source_range.line, p.source_range.col) == self.pos(e)):
                self.claimed.add(id(p))
                k, copies = len(p.inputs), 1
                tup = self.tuple_operand(p, ops, kws, a)
                if tup is not None:
                    inputs.append(tup)
                    continue
                rest = sum(1 for b in args[j + 1:] if not b.kwarg_only) \
                    if args is not None else 0
                if p.kind == "prim::ListConstruct" and k > 1 and \
                        len(set(map(id, p.inputs))) == 1 and \
                        not (len(ops) >= k and len(ops) - 1 > rest):
                    # (an int for `int[2]`: n copies of it; but x.expand(2, 2, 2),
                    # torch.randn(2, 2): the operands packed into the size list)
                    k, copies = 1, k
                if ops and not (a is not None and a.kwarg_only):
                    if len(ops) < k:
                        raise _Abort("conversion")
                    taken, ops = ops[:k], ops[k:]
                elif a is not None and a.name in kws and k == 1:
                    taken = [kws.pop(a.name)]
                else:
                    raise _Abort("conversion")
                inputs.append(self.insert(p.kind, taken * copies, 1, g=p).outputs[0])
            elif ops and not (a is not None and a.kwarg_only):
                inputs.append(ops.pop(0))
            elif a is not None and a.name in kws:
                inputs.append(kws.pop(a.name))
            elif p is not None and p.kind == "prim::Constant" and a is not None and \
                    a.has_default:
                inputs.append(self.unranged(p.attrs.get("value"), str(gv.type)))
            elif p is not None and p.kind == "prim::Constant" and \
                    "name" not in p.attrs and p.source_range is not None and \
                    (p.source_range.line, p.source_range.col) == self.pos(e):
                # the method's own argument, at the call's range (`x.long()`: aten::to's
                # dtype, inserted before the schema's defaults)
                inputs.append(self.ranged(e, lambda: self.constant(p.attrs.get("value"),
                                                                   str(gv.type))))
            else:
                raise _Abort("argument")
        if ops or kws:
            raise _Abort("operands left")
        n = self.insert(g.kind, inputs, rec.nout, g=g)
        if g.has_side_effects():
            n.effect = True
        n.alias = _called_alias(e, g.kind)
        if len(n.outputs) > 1 and op is not None:
            # packOutputs: a builtin's results in a tuple (gpujit's, where it kept one)
            pack = next((p for p in self.at.get(self.pos(e), ()) if id(p.node) not in
                         self.claimed and p.kind == "prim::TupleConstruct" and
                         len(p.inputs) == len(g.outputs) and
                         all(a is b for a, b in zip(p.inputs, g.outputs))), None)
            if pack is not None:
                self.claimed.add(id(pack.node))
            return self.insert("prim::TupleConstruct", n.outputs, 1,
                               g=pack and pack.node).outputs[0]
        return n.outputs[0] if n.outputs else None if void else self._none_result()

    def failed_tries(self, op, rec, ops, kws):
        """matchSchemas' tries of the overloads torch lists before op (`x.mean(-1)` tries
        mean(Tensor self, *, ScalarType? dtype=None) first): the values each made before it
        failed (a default's constant, an int's list) are numbered, then erased. Nothing
        where the replay cannot tell (the matched overload needed a conversion: torch's
        second pass)."""
        from .torch_overload_order import TORCH_OVERLOAD_ORDER
        order = TORCH_OVERLOAD_ORDER.get(op.schema.name.split("::")[-1])
        if not order or any(
                v.node is not None and v.node.kind in _IMPLICIT for v in rec.inputs):
            return
        order = ["" if t == "-" else t for t in order.split()]
        if op.schema.overload not in order:
            return
        from ...ops.registry import OVERLOADS
        by = {o.schema.overload: o for o in OVERLOADS.get(op.schema.name, ())}
        try:
            types = [self.vtype(v) for v in ops]
            ktypes = {k: self.vtype(v) for k, v in kws.items()}
        except _Abort:
            return
        made = 0
        for name in order[:order.index(op.schema.overload)]:
            o = by.get(name)
            k = _try_values(o.schema, types, ktypes) if o is not None else None
            if k is None:
                return
            made += k
        self.counter += made

    def tuple_operand(self, p, ops, kws, a):
        """A tuple for a List parameter (`x.new_ones((2, 2))`, `torch.cat((x, y))`):
        tryConvertToType's list of the tuple's elements, read through its
        prim::TupleConstruct (createTupleUnpack's fast path) or a prim::TupleUnpack of
        it; None where the operand is no tuple."""
        if p.kind != "prim::ListConstruct":
            return None
        if ops and not (a is not None and a.kwarg_only):
            v = ops[0]
        elif a is not None and a.name in kws:
            v = kws[a.name]
        else:
            return None
        src = v
        while src.fwd is not None:
            src = src.fwd
        if src.node.kind == "prim::TupleConstruct":
            elems = list(src.node.inputs)
        elif src.node.kind == "prim::Load" and self.tuple_var(src.node.value):
            elems = self.insert("prim::TupleUnpack", (v,), len(p.inputs)).outputs
        else:
            return None
        if len(elems) != len(p.inputs):
            raise _Abort("tuple conversion")
        if ops and v is ops[0]:
            ops.pop(0)
        else:
            kws.pop(a.name)
        return self.insert(p.kind, elems, 1, g=p).outputs[0]

    def normalize_ops(self, block):
        """NormalizeOps: a node of an alias op (`x.clip(0, 1)`, `torch.det(x)`) replaced by
        one of its target (replaceWithNewSymbol: new outputs, numbered now, that take the
        old ones' names)."""
        for n in list(_walk(block)):
            if not n.alias or n.dead:
                continue
            for v in n.outputs[:]:
                new = self.new_value(n)
                name = v.name
                if name is not None:
                    self.set_name(new, name)        # (copyMetadata: the old one renamed)
                self.replace_uses(v, new)
                self.free(v)
                n.outputs[n.outputs.index(v)] = new

    def tuple_var(self, name):
        """Whether variable name holds a tuple (its type, else what was stored in it:
        the cleanup read a tuple's variable through, it names no gpujit value)."""
        try:
            return self.var_type(name).startswith(("(", "NamedTuple("))
        except _Abort:
            return any(n.kind == "prim::Store" and n.value == name and
                       n.inputs[0].node.kind == "prim::TupleConstruct"
                       for n in _walk(self.top))

    def _none_result(self):
        raise _Abort("no output")

    # ------------------------------------------------------------------ ConvertToSSA
    def cfls(self, block, env):
        """ControlFlowLoadStores."""
        env = _Frame(block, env)
        k = 0
        while k < len(block.nodes):
            n = block.nodes[k]
            self.cfls_node(n, block, env)
            k = block.nodes.index(n) + 1
        return env

    def cfls_node(self, n, block, env):
        if True:
            if n.kind == "prim::ComprehensionScope":
                self.cfls(n.blocks[0], env)         # (its variables stay inside)
            elif n.kind == "prim::If":
                tv = self.cfls(n.blocks[0], env)
                fv = self.cfls(n.blocks[1], env)
                mutated = set()
                for v in sorted(tv.types.names):
                    if _find_type(fv, v):
                        mutated.add(v)
                for v in sorted(fv.types.names):
                    if _find_type(tv, v):
                        mutated.add(v)
                for x in sorted(mutated):
                    self.block_output(n.blocks[0], x)
                    self.block_output(n.blocks[1], x)
                    self.node_output(n, x)
            elif n.kind == "prim::Loop":
                body = n.blocks[0]
                lv = self.cfls(body, env)
                for name in sorted(lv.types.names):
                    if not _find_type(env, name):
                        continue
                    ld = self.insert("prim::Load", (), 1, value=name, at=(block, n))
                    self.add_input(n, ld.outputs[0])
                    p = body.add_param(self)
                    self.set_name(p, name)
                    self.insert("prim::Store", (p,), 0, value=name,
                                at=(body, body.nodes[0] if body.nodes else None))
                    self.block_output(body, name)
                    self.node_output(n, name)
            elif n.kind == "prim::Store":
                env.types.add(n.value)

    def block_output(self, b, name):
        ld = self.insert("prim::Load", (), 1, value=name, at=(b, None))
        self.register_output(b, ld.outputs[0])

    def node_output(self, n, name):
        out = self.new_value(n)
        n.outputs.append(out)
        if meaningful(name):
            self.set_name(out, name)
        i = n.block.nodes.index(n)
        nxt = n.block.nodes[i + 1] if i + 1 < len(n.block.nodes) else None
        self.insert("prim::Store", (out,), 0, value=name, at=(n.block, nxt))

    def inline_loop_conditions(self, block):
        for n in list(block.nodes):
            for b in n.blocks:
                self.inline_loop_conditions(b)
            if n.kind == "prim::Loop":
                body, pre = n.blocks
                # header: a clone of the condition block, before the loop
                vmap = {}
                for m in pre.nodes:
                    self.clone(m, vmap, (block, n))
                start = vmap.get(id(pre.outputs[0]), pre.outputs[0])
                self.add_input(n, start, pos=1)
                # the condition itself: at the end of the body
                for m in list(pre.nodes):
                    pre.nodes.remove(m)
                    m.block = body
                    body.nodes.append(m)
                cont = pre.outputs[0]
                cont.uses.remove(pre)
                self.register_output(body, cont, pos=0)
                n.blocks = [body]

    def erase_load_stores(self, block, frames):
        for n in list(block.nodes):
            if n.kind == "prim::Store":
                frames[-1][n.value] = n.inputs[0]
                self.destroy(n)
            elif n.kind == "prim::Load":
                var = next(f[n.value] for f in reversed(frames) if n.value in f)
                self.replace_uses(n.outputs[0], var)
                self.destroy(n)
            elif n.kind == "prim::ComprehensionScope":
                # its stores stay local; its nodes go before it, it goes
                b = n.blocks[0]
                self.erase_load_stores(b, frames + [{}])
                for m in list(b.nodes):
                    b.nodes.remove(m)
                    m.block = block
                    block.nodes.insert(block.nodes.index(n), m)
                self.destroy(n)
            else:
                for b in n.blocks:
                    self.erase_load_stores(b, frames + [{}])

    def loop_continuations(self, block, loop):
        """LoopContinuations: `break` -> LoopContinuation(false, loop-carried values),
        `continue` -> the loop condition's clone, then LoopContinuation(it, ...)."""
        for n in list(block.nodes):
            if n.kind == "prim::If":
                for b in n.blocks:
                    self.loop_continuations(b, loop)
            elif n.kind == "prim::Loop":
                self.loop_continuations(n.blocks[0], n)
            elif n.kind in ("prim::BreakStmt", "prim::ContinueStmt"):
                i = block.nodes.index(n)
                nxt = block.nodes[i + 1] if i + 1 < len(block.nodes) else None
                lc = self.insert("prim::LoopContinuation", (), 0, at=(block, nxt))
                if n.kind == "prim::ContinueStmt":
                    pre = loop.blocks[1]
                    vmap = {}
                    for m in pre.nodes:
                        self.clone(m, vmap, (block, n))
                    self.add_input(lc, vmap.get(id(pre.outputs[0]), pre.outputs[0]))
                else:
                    self.add_input(lc, self.false_const)
                for out in loop.blocks[0].outputs:
                    ld = out.node
                    if ld.kind != "prim::Load":
                        raise _Abort("loop output")
                    c = self.insert("prim::Load", (), 1, value=ld.value, at=(block, lc))
                    self.add_input(lc, c.outputs[0])
                self.destroy(n)

    def clone(self, m, vmap, at, in_block=True):
        """Graph::createClone (outputs with their names, inputs, blocks) inserted at;
        in_block: Block::cloneFrom's, which copies each output's name once more (the
        original, renamed by the first copy, is renamed again)."""
        c = self.insert(m.kind, [vmap.get(id(v), v) for v in m.inputs], len(m.outputs),
                        value=m.value, g=m.g, at=at)
        c.effect = m.effect
        for o, no in zip(m.outputs, c.outputs):
            no.ty, no.like = o.ty, o.like
            if o.name is not None:
                self.set_name(no, o.name)
        for b in m.blocks:
            nb = _B(c)
            c.blocks.append(nb)
            self.clone_block(b, nb, vmap)
        for o, no in zip(m.outputs, c.outputs):
            vmap[id(o)] = no
            if in_block and o.name is not None:
                self.set_name(no, o.name)
        return c

    def clone_block(self, b, nb, vmap):
        """Block::cloneFrom."""
        for pv in b.params:
            q = nb.add_param(self)
            vmap[id(pv)] = q
            if pv.name is not None:
                self.set_name(q, pv.name)
        for mm in b.nodes:
            self.clone(mm, vmap, (nb, None))
        for o in b.outputs:
            self.register_output(nb, vmap.get(id(o), o))

    def transform_exits(self):
        """TransformExits: the loop continuations', then the returns' ExitTransformer,
        then inlineConsecutiveIfs."""
        _Exits(self, "prim::LoopContinuation").run()
        _Exits(self, "prim::ReturnStmt").run()
        self.inline_consecutive_ifs(self.top)
        if any(n.kind in ("prim::ReturnStmt", "prim::LoopContinuation")
               for n in _walk(self.top)):
            raise _Abort("exit left")

    def inline_consecutive_ifs(self, block):
        k = 0
        while k < len(block.nodes):
            n = block.nodes[k]
            for b in n.blocks:
                self.inline_consecutive_ifs(b)
            if not self.fuse_ifs(n, block, k):
                k += 1

    def fuse_ifs(self, n, block, k):
        if n.kind != "prim::If" or k + 1 >= len(block.nodes) or \
                block.nodes[k + 1].kind != "prim::If":
            return False
        second = block.nodes[k + 1]
        c = second.inputs[0]
        if c.node is not n:
            return False
        off = n.outputs.index(c)
        tv, fv = (_const_bool(b.outputs[off]) for b in n.blocks)
        if tv is None or fv is None or tv == fv:
            return False
        for first_b, val in zip(n.blocks, (tv, fv)):
            src = second.blocks[0] if val else second.blocks[1]
            vmap = {id(o): first_b.outputs[i] for i, o in enumerate(n.outputs)}
            for mm in src.nodes:
                self.clone(mm, vmap, (first_b, None))
            for o in src.outputs:
                self.register_output(first_b, vmap.get(id(o), o))
        for o in list(second.outputs):
            no = self.new_value(n)
            n.outputs.append(no)
            no.ty, no.like = o.ty, o.like
            if o.name is not None:
                self.set_name(no, o.name)
            self.replace_uses(o, no)
        self.destroy(second)
        return True

    def canonicalize_modified_loops(self, block):
        for n in list(block.nodes):
            for b in n.blocks:
                self.canonicalize_modified_loops(b)
            if n.kind == "prim::Loop":
                self.canonicalize_modified_loop(n)

    def canonicalize_modified_loop(self, n):
        body = n.blocks[0]
        trip, cin, cnext = n.inputs[0], n.inputs[1], body.outputs[0]
        tc, ci, cn = _const_value(trip), _const_bool(cin), _const_bool(cnext)
        specified = tc is None or tc != 2 ** 63 - 1
        if ci is True and cn is True or not specified:
            return
        at = (n.block, n)
        zero = self.constant(0, "int", at=at)
        one = self.constant(1, "int", at=at)
        zero.node.loc = one.node.loc = False
        cond = self.insert("aten::gt", (trip, zero), 1, at=at).outputs[0]
        cond.ty = "bool"
        big = self.constant(2 ** 63 - 1, "int", at=at)
        big.node.loc = False
        n.inputs[0] = big
        trip.uses.remove(n)
        big.uses.append(n)
        if ci is not True:
            cond = self.insert("aten::__and__", (cond, cin), 1, at=at).outputs[0]
            cond.ty = "bool"
        n.inputs[1] = cond
        cin.uses.remove(n)
        cond.uses.append(n)
        out = self.new_value(n)
        out.ty = "int"
        n.outputs.append(out)
        self.add_input(n, zero)
        it = body.add_param(self)
        it.ty = "int"
        old = body.params[0]
        self.set_name(old, None)
        self.replace_uses(old, it)
        inc = self.insert("aten::add", (it, one), 1, at=(body, None)).outputs[0]
        inc.ty = "int"
        self.register_output(body, inc)
        lt = self.insert("aten::lt", (inc, trip), 1, at=(body, None)).outputs[0]
        lt.ty = "bool"
        nc = self.insert("aten::__and__", (lt, cnext), 1, at=(body, None)).outputs[0]
        nc.ty = "bool"
        body.outputs[0] = nc
        cnext.uses.remove(body)
        nc.uses.append(body)

    def vtype(self, v, depth=0):
        """A shadow value's type (as gpujit prints it): the unit values' key."""
        if depth > 50:
            raise _Abort("type")
        seen = 0
        while True:
            while v.fwd is not None:
                v = v.fwd
            if v.ty is not None:
                return v.ty
            if v.like is not None:
                v = v.like
                seen += 1
                if seen > 50:
                    raise _Abort("type")
                continue
            break
        n = v.node
        if n.kind == "prim::Constant":
            return n.value[1]
        if n.kind == "prim::Load":
            return self.var_type(n.value)
        # (unifyTypes(t1, t2) gives t2 where t1 is a subtype: an If's outputs have
        # their false branch's types, a Loop's its body's; a parameter without an
        # annotation is TensorType::getInferred(), another type than an op's Tensor)
        if n.kind == "prim::Param":
            b = n.block
            k = b.params.index(v)
            if b is self.top:
                t = str(self.graph.block.inputs[k].type)
                a = self.src.fdef.args.args
                if t == "Tensor" and k < len(a) and a[k].annotation is None:
                    t = "Tensor(inferred)"
                return t
            if k == 0:
                return "int"
            if v in self.typing:        # (a cycle through the body: the input's)
                return self.vtype(b.owner.inputs[k + 1], depth + 1)
            self.typing.add(v)
            try:
                return self.vtype(b.outputs[k], depth + 1)
            finally:
                self.typing.discard(v)
        if n.kind == "prim::If":
            return self.vtype(n.blocks[1].outputs[n.outputs.index(v)], depth + 1)
        if n.kind == "prim::Loop":
            return self.vtype(n.blocks[0].outputs[n.outputs.index(v) + 1], depth + 1)
        if n.g is not None and v in n.outputs:
            t = str(n.g.outputs[n.outputs.index(v)].type)
            if n.kind == "prim::TupleConstruct":
                t = f"{t}#{v.uid}"      # (TupleType::create: a type of its own)
            return t
        raise _Abort("type")

    def var_type(self, name):
        """A variable's type before the SSA conversion: the type of gpujit's values
        named after it (a variable keeps one type; an Optional one refined is read as
        the Optional)."""
        if self.var_types is None:
            self.var_types = {}
            for v in list(self.graph.block.inputs) + \
                    [o for n in self.graph.walk()
                     for o in [*n.outputs, *(p for b in n.blocks for p in b.inputs)]]:
                base = v.debug_name.split(".")[0]
                t = str(v.type)
                if self.var_types.setdefault(base, t) != t:
                    if self.var_types[base] != t + "?":
                        self.var_types[base] = None
        t = self.var_types.get(name)
        if t is None:
            raise _Abort("type")
        return t

    # ------------------------------------------------------------------ cleanup
    def fold(self, block):
        """ConstantPropagation's runs of nodes whose inputs are all constants (the ones
        the replay makes: an assert's message, a canonicalized loop's tests)."""
        for n in list(block.nodes):
            if n.kind == "prim::If" and _const_bool(n.inputs[0]) is not None:
                # inlineIf: the taken block's nodes before the If, its outputs for the
                # If's
                b = n.blocks[0 if _const_bool(n.inputs[0]) else 1]
                self.fold(b)
                for m in list(b.nodes):
                    b.nodes.remove(m)
                    m.block = block
                    block.nodes.insert(block.nodes.index(n), m)
                for o, bo in zip(list(n.outputs), list(b.outputs)):
                    self.replace_uses(o, bo)
                self.destroy(n)
                continue
            for b in n.blocks:
                self.fold(b)
            if n.kind == "prim::If":
                self.remove_extra_if_outputs(n)
            if n.kind not in _FOLD or not n.inputs or \
                    any(v.node.kind != "prim::Constant" for v in n.inputs):
                continue
            args = [v.node.value for v in n.inputs]
            fn, ty, out = _FOLD[n.kind]
            if any(a[1] != ty for a in args):
                continue
            c = self.constant(fn(*(a[0] for a in args)), out, at=(block, n))
            c.node.loc = False
            self.replace_uses(n.outputs[0], c)

    def remove_extra_if_outputs(self, n):
        """ConstantPropagation's removeExtraIfOutputs: an output both blocks give the
        same value, or equal constants (a new constant), is taken out."""
        tb, fb = n.blocks
        i = 0
        while i < len(tb.outputs):
            t, f = tb.outputs[i], fb.outputs[i]
            if t is f:
                rep = t
            elif t.node.kind == "prim::Constant" and f.node.kind == "prim::Constant" and \
                    t.node.value[1] == f.node.value[1] and \
                    repr(t.node.value[0]) == repr(f.node.value[0]):
                rep = self.constant(t.node.value[0], t.node.value[1], at=(n.block, n))
                rep.node.loc = False
            else:
                i += 1
                continue
            o = n.outputs.pop(i)
            self.replace_uses(o, rep)
            self.free(o)
            tb.outputs.pop(i).uses.remove(tb)
            fb.outputs.pop(i).uses.remove(fb)

    def lower_tuples(self, block):
        """LowerSimpleTuples: a prim::TupleUnpack, or prim::TupleIndex by a constant,
        of a prim::TupleConstruct reads the construct's inputs (the dead code
        elimination erases them)."""
        for n in list(block.nodes):
            for b in n.blocks:
                self.lower_tuples(b)
            if n.kind not in ("prim::TupleUnpack", "prim::TupleIndex"):
                continue
            src = n.inputs[0]
            while src.fwd is not None:
                src = src.fwd
            c = src.node
            if c.kind != "prim::TupleConstruct":
                continue
            if n.kind == "prim::TupleUnpack":
                if len(n.outputs) != len(c.inputs):
                    raise _Abort("unpack")
                for o, i in zip(n.outputs, c.inputs):
                    self.replace_uses(o, i)
            else:
                k = _const_value(n.inputs[1])
                if type(k) is not int:
                    continue
                if not -len(c.inputs) <= k < len(c.inputs):
                    raise _Abort("tuple index")
                self.replace_uses(n.outputs[0], c.inputs[k])

    def dce(self):
        self.fold(self.top)
        changed = True
        while changed:
            changed = False
            for n in reversed(list(_walk(self.top))):
                if n.kind == "prim::If":
                    tb, fb = n.blocks
                    for i in range(len(n.outputs) - 1, -1, -1):
                        same = tb.outputs[i] is fb.outputs[i]
                        if same:            # (constant propagation's removeExtraIfOutputs)
                            self.replace_uses(n.outputs[i], tb.outputs[i])
                        if not n.outputs[i].uses:
                            self.free(n.outputs.pop(i))
                            for b in (tb, fb):
                                b.outputs.pop(i).uses.remove(b)
                            changed = True
                elif n.kind == "prim::Loop":
                    body = n.blocks[0]
                    for i in range(len(n.outputs) - 1, -1, -1):
                        if body.params[i + 1] is body.outputs[i + 1]:
                            self.replace_uses(n.outputs[i], n.inputs[i + 2])
                            self.replace_uses(body.params[i + 1], n.inputs[i + 2])
                        if not n.outputs[i].uses and not body.params[i + 1].uses or \
                                body.outputs[i + 1] is n.inputs[i + 2]:
                            self.replace_uses(n.outputs[i], n.inputs[i + 2])
                            self.free(n.outputs.pop(i))
                            v = n.inputs.pop(i + 2)
                            v.uses.remove(n)
                            self.free(body.params.pop(i + 1))
                            body.outputs.pop(i + 1).uses.remove(body)
                            changed = True
                if n.block is None or n.dead:
                    continue
                if not n.effect and all(not o.uses for o in n.outputs) and \
                        not any(m.effect for b in n.blocks for m in _walk(b)):
                    self.destroy(n)
                    changed = True

    def canonicalize_outputs(self, block):
        """CanonicalizeOutputs: If / Loop outputs in the order of their first use."""
        import functools
        for n in reversed(list(block.nodes)):
            if n.kind in ("prim::If", "prim::Loop") and len(n.outputs) > 1:
                firsts = [self.extreme_use(v, True) for v in n.outputs]
                lasts = [self.extreme_use(v, False) for v in n.outputs]

                def cmp(i1, i2):
                    f1, f2 = firsts[i1], firsts[i2]
                    if f1 is None and f2 is None:
                        return -1 if i1 < i2 else (1 if i1 > i2 else 0)
                    if f1 is None:
                        return 1
                    if f2 is None:
                        return -1
                    if f1[0] is f2[0]:
                        l1, l2 = lasts[i1], lasts[i2]
                        if l1[0] is l2[0]:
                            return -1 if l1[1] < l2[1] else (1 if l1[1] > l2[1] else 0)
                        return -1 if _is_before(l1, l2) else 1
                    return -1 if _is_before(f1, f2) else 1
                idx = sorted(range(len(n.outputs)), key=functools.cmp_to_key(cmp))
                if idx != list(range(len(idx))):
                    n.outputs = [n.outputs[i] for i in idx]
                    if n.kind == "prim::If":
                        for b in n.blocks:
                            b.outputs = [b.outputs[i] for i in idx]
                    else:
                        b = n.blocks[0]
                        b.params = b.params[:1] + [b.params[1 + i] for i in idx]
                        b.outputs = b.outputs[:1] + [b.outputs[1 + i] for i in idx]
                        n.inputs = n.inputs[:2] + [n.inputs[2 + i] for i in idx]
            for b in n.blocks:
                self.canonicalize_outputs(b)

    @staticmethod
    def extreme_use(v, first):
        uses = []
        for user in v.uses:
            seq = user.inputs if isinstance(user, _N) else user.outputs
            for k, x in enumerate(seq):
                if x is v and (user, k) not in uses:
                    uses.append((user, k))
        if not uses:
            return None
        best = uses[0]
        for u in uses[1:]:
            if first and _is_before(u, best) or not first and _is_before(best, u):
                best = u
        return best

    def pool(self):
        seen = {}

        def run(block):
            for n in list(block.nodes):
                if n.blocks:
                    for b in n.blocks:
                        run(b)
                    continue
                if n.kind != "prim::Constant":
                    continue
                key = _pool_key(*n.value)
                if key in seen:
                    self.replace_uses(n.outputs[0], seen[key].outputs[0])
                    self.destroy(n)
                    continue
                seen[key] = n
                block.nodes.remove(n)
                n.block = self.top
                self.top.nodes.insert(0, n)
        run(self.top)


def _device(s):
    from ...device import device
    return device(s)


_FOLD = {"aten::add": (lambda a, b: a + b, "str", "str"),
         "aten::device": (_device, "str", "Device"),
         "aten::gt": (lambda a, b: a > b, "int", "bool"),
         "aten::lt": (lambda a, b: a < b, "int", "bool"),
         "aten::__and__": (lambda a, b: a and b, "bool", "bool"),
         "aten::__range_length": (lambda lo, hi, step: _range_length(lo, hi, step),
                                  "int", "int")}


def _range_length(lo, hi, step):
    if step == 0:
        raise _Abort("range step 0")        # (a run-time error: not folded)
    return max(0, (hi - lo + step - (1 if step > 0 else -1)) // step)

_WILL, _MIGHT, _WONT, _THROWS = range(4)


class _Exits:
    """exit_transforms.cpp's ExitTransformer on the shadow graph: every exit of its kind
    (prim::LoopContinuation or prim::ReturnStmt) becomes its target block's outputs,
    the code after a maybe-exit guarded by an If on the has-exited flag."""

    def __init__(self, r, kind):
        self.r, self.kind, self.units, self.target = r, kind, {}, None
        top = r.top
        first = top.nodes[0] if top.nodes else None
        self.true = r.constant(True, "bool", at=(top, first))
        self.false = r.constant(False, "bool", at=(top, first))
        self.true.node.loc = self.false.node.loc = False
        self.throws = self.unit("bool")

    def run(self):
        self.block(self.r.top)

    def unit(self, ty):
        v = self.units.get(ty)
        if v is None:
            top = self.r.top
            v = self.r.insert("prim::Uninitialized", at=(top, top.nodes[0] if top.nodes
                                                         else None)).outputs[0]
            v.ty = ty
            self.units[ty] = v
        return v

    def status(self, pair):
        h = pair[0]
        return _WILL if h is self.true else _WONT if h is self.false else \
            _THROWS if h is self.throws else _MIGHT

    def loop(self, node):
        r = self.r
        body = node.blocks[0]
        pair = self.block(body)
        if self.status(pair) in (_WONT, _THROWS):
            return (self.false, [])
        new_if = r.insert("prim::If", (pair[0],), 0, at=(body, None))
        b0, b1 = _B(new_if), _B(new_if)
        new_if.blocks = [b0, b1]
        r.register_output(b0, self.false)
        r.register_output(b1, body.outputs[0])
        cond = r.new_value(new_if)
        cond.ty = "bool"
        new_if.outputs.append(cond)
        old = body.outputs.pop(0)
        old.uses.remove(body)
        r.register_output(body, cond, pos=0)
        r.add_input(node, self.false)
        body.add_param(r).ty = "bool"
        r.register_output(body, pair[0])
        has = r.new_value(node)
        has.ty = "bool"
        node.outputs.append(has)
        for ev in pair[1]:
            ty = r.vtype(ev)
            r.add_input(node, self.unit(ty))
            o = r.new_value(node)
            o.ty = ty
            node.outputs.append(o)
            body.add_param(r).ty = ty
            r.register_output(body, ev)
        k = len(pair[1])
        return (has, node.outputs[len(node.outputs) - k:])

    def add_if_outputs(self, n, touts, fouts):
        r = self.r
        for v in touts:
            r.register_output(n.blocks[0], v)
        for v in fouts:
            r.register_output(n.blocks[1], v)
        for t, f in zip(touts, fouts):
            o = r.new_value(n)
            o.like = t if t.node.kind != "prim::Uninitialized" or t.ty is not None else f
            n.outputs.append(o)

    def if_(self, node):
        tp = self.block(node.blocks[0])
        fp = self.block(node.blocks[1])
        ts, fs = self.status(tp), self.status(fp)
        if ts == _THROWS:
            st = fs
        elif fs == _THROWS:
            st = ts
        elif ts == _WONT and fs == _WONT:
            st = _WONT
        elif ts == _WILL and fs == _WILL:
            st = _WILL
        else:
            st = _MIGHT
        if st == _THROWS:
            return (self.throws, [])
        if st == _WONT:
            return (self.false, [])
        if ts in (_WONT, _THROWS):
            tp = (tp[0], [self.unit(self.r.vtype(v)) for v in fp[1]])
        elif fs in (_WONT, _THROWS):
            fp = (fp[0], [self.unit(self.r.vtype(v)) for v in tp[1]])
        if st == _WILL:
            has = self.true
        else:
            self.add_if_outputs(node, [tp[0]], [fp[0]])
            node.outputs[-1].ty = "bool"
            has = node.outputs[-1]
        self.add_if_outputs(node, tp[1], fp[1])
        k = len(tp[1])
        return (has, node.outputs[len(node.outputs) - k:])

    def guard(self, block, pair, nxt):
        r = self.r
        new_if = r.insert("prim::If", (pair[0],), 0, at=(block, nxt))
        eb, gb = _B(new_if), _B(new_if)
        new_if.blocks = [eb, gb]
        i = block.nodes.index(nxt)
        for m in block.nodes[i:]:
            m.block = gb
            gb.nodes.append(m)
        del block.nodes[i:]
        vals = [self.unit(r.vtype(o)) for o in block.outputs]
        outs = list(block.outputs)
        for o, u in zip(outs, vals):
            r.register_output(eb, u)
            r.register_output(gb, o)
            no = r.new_value(new_if)
            no.like = o
            new_if.outputs.append(no)
        for o in outs:
            o.uses.remove(block)
        block.outputs = []
        for no in new_if.outputs:
            r.register_output(block, no)
        r.insert(self.kind, pair[1], 0, at=(eb, None))
        return self.if_(new_if)

    def after_exit(self, block, nxt):
        if nxt is None:
            return
        i = block.nodes.index(nxt)
        for n in reversed(block.nodes[i:]):
            for o in n.outputs:
                if o.uses:
                    self.r.replace_uses(o, self.unit(self.r.vtype(o)))
            self.r.destroy(n)

    def block(self, block):
        prev = self.target
        owner = block.owner
        if owner is not None and owner.kind == "prim::Loop" and \
                self.kind == "prim::LoopContinuation" or \
                owner is None and self.kind == "prim::ReturnStmt":
            self.target = block
        pair = (self.false, [])
        k = 0
        while k < len(block.nodes):
            node = block.nodes[k]
            nxt = block.nodes[k + 1] if k + 1 < len(block.nodes) else None
            kind = node.kind
            if kind == "prim::RaiseException":
                pair = (self.throws, [])
            elif kind in ("prim::ReturnStmt", "prim::LoopContinuation"):
                if kind == self.kind:
                    pair = (self.true, list(node.inputs))
                    self.r.destroy(node)
            elif kind == "prim::If":
                pair = self.if_(node)
            elif kind == "prim::Loop":
                pair = self.loop(node)
            st = self.status(pair)
            if st in (_WILL, _THROWS):
                self.after_exit(block, nxt)
                break
            if st == _MIGHT:
                if nxt is not None:
                    pair = self.guard(block, pair, nxt)
                break
            if nxt is None:
                break
            k = k + 1 if k + 1 < len(block.nodes) and block.nodes[k + 1] is nxt else \
                block.nodes.index(nxt)
        if self.target is block:
            st = self.status(pair)
            if st == _MIGHT:
                r = self.r
                new_if = r.insert("prim::If", (pair[0],), 0, at=(block, None))
                new_if.blocks = [_B(new_if), _B(new_if)]
                outs = list(block.outputs)
                self.add_if_outputs(new_if, pair[1], outs)
                for o in outs:
                    o.uses.remove(block)
                block.outputs = []
                for no in new_if.outputs:
                    r.register_output(block, no)
            elif st == _WILL:
                for o in block.outputs:
                    o.uses.remove(block)
                block.outputs = []
                for v in pair[1]:
                    self.r.register_output(block, v)
            pair = (self.false, [])
        self.target = prev
        return pair


def _no_exits(body):
    for s in body:
        for n in ast.walk(s):
            if isinstance(n, (ast.With, ast.Try)):
                raise _Abort("with / try in a loop")


def _is_dots(e):
    return isinstance(e, ast.Constant) and e.value is Ellipsis


def _is_none_lit(e):
    return isinstance(e, ast.Constant) and e.value is None


def _union(a, b):
    """RefinementSet's unionSet: b's added, one of the same variable with another type
    taken out."""
    out = list(a)
    for r in b:
        k = next((i for i, q in enumerate(out) if q[0] == r[0]), None)
        if k is None:
            out.append(r)
        elif out[k][1] != r[1]:
            del out[k]
    return tuple(out)


def _inter(a, b):
    return tuple(r for r in a if any(q[0] == r[0] and q[1] == r[1] for q in b))


def _const_value(v):
    n = v.node
    return n.value[0] if n.kind == "prim::Constant" else None


def _const_bool(v):
    n = v.node
    if n.kind == "prim::Constant" and n.value[1] == "bool":
        return n.value[0]
    return None


def _find_type(frame, name):
    while frame is not None:
        if name in frame.types:
            return True
        frame = frame.next
    return False


def _position(user):
    """(block, index) chain of a use's user from the top: a block's outputs are its
    return node, after its nodes."""
    if isinstance(user, _B):
        b, i = user, len(user.nodes)
    else:
        b, i = user.block, user.block.nodes.index(user)
    chain = [(b, i)]
    while b.owner is not None:
        o = b.owner
        b = o.block
        chain.append((b, b.nodes.index(o)))
    return chain[::-1]


def _is_before(u1, u2):
    """Node::isBefore of the users of two uses (torch's: across blocks, at the first
    common block; the same node there is not before)."""
    c1, c2 = _position(u1[0]), _position(u2[0])
    for (b1, i1), (b2, i2) in zip(c1, c2):
        if b1 is not b2:
            return False
        if i1 != i2:
            return i1 < i2
    return False


# torch's NormalizeOps aliases (normalize_ops.cpp's getOperatorAliasMap), by the name called
_NORMALIZED = frozenset((
    "absolute clip det matrix_power linalg_matmul ger arccos arcsin arctan arctan2 arccosh "
    "arcsinh arctanh fix negative subtract greater_equal greater less_equal less not_equal "
    "divide multiply inverse true_divide concat concatenate row_stack swapdims swapaxes "
    "moveaxis special_erf special_erfc special_erfinv orgqr adjoint special_exp2 "
    "special_expm1 special_logit special_logsumexp special_round special_log1p special_sinc "
    "special_digamma special_psi special_i0 special_xlogy special_log_softmax "
    "special_gammaln special_multigammaln special_polygamma special_expit").split())


_IMPLICIT = frozenset({"prim::NumToTensor", "aten::Int", "aten::Float", "aten::ScalarImplicit",
                       "aten::IntImplicit", "aten::FloatImplicit", "aten::device"})


def _try_values(schema, types, ktypes):
    """The values tryMatchSchema makes for schema before it fails (types: the positional
    operands' then the keywords' types); None where it cannot tell, or schema would
    match."""
    made, k, used = 0, 0, set()
    for a in schema.arguments:
        if not a.kwarg_only and k < len(types):
            if str(a.type).endswith("]") and len(types) - k > 1 and \
                    not types[k].endswith("]"):
                return None             # (varargs used as a list: x.view(2, -1))
            m = _arg_match(types[k], a)
            k += 1
        elif a.name in ktypes:
            m = _arg_match(ktypes[a.name], a)
            used.add(a.name)
        elif a.has_default:
            m = 1                       # (NamedValue(default).value: a constant)
        else:
            return made
        if m is None:
            return None
        if m is False:
            return made
        made += m
    if k < len(types) or set(ktypes) - used:
        return made
    return None


def _arg_match(t, a):
    """tryMatchArgument without conversions of a value of type t (the replay's type
    text): False where it fails, the values it makes (an int for `int[1]`: its list),
    None where the replay cannot tell."""
    s = str(a.type).replace("SymInt", "int")
    opt = s.endswith("?")
    base = s.rstrip("?")
    tensor = t.startswith("Tensor")
    plain = ("int", "float", "bool", "str", "int[]", "float[]", "Tensor[]")
    if t == "NoneType":
        return 0 if opt else False
    if base == "Tensor":
        return 0 if tensor else False if t in plain else None
    if base in ("int", "bool", "str"):
        return 0 if t == base else False if tensor or t in plain else None
    if base == "float":
        return 0 if t == "float" else False if tensor or t in ("bool", "str") else None
    if base == "Scalar":
        return 0 if t in ("int", "float") else False if tensor or t in plain[2:] else None
    if base in ("ScalarType", "Layout", "MemoryFormat"):
        return 0 if t == "int" else False if tensor or t in plain[1:] else None
    if base.endswith("]") and "[" in base:
        elem = base[:base.index("[")]
        if t == elem + "[]":
            return 0
        if t == elem and base[len(elem) + 1:-1].isdigit() and elem in ("int", "float"):
            return 1                    # (isIntOrFloatUsedAsList: the list of copies)
        if tensor or t in plain:
            return False
    return None


def _called_alias(e, kind):
    """Whether call e names an alias op that NormalizeOps replaces (gpujit's node has the
    target's kind already)."""
    f = getattr(e, "func", None)
    if not isinstance(f, ast.Attribute):
        return False
    name = f.attr
    if isinstance(f.value, ast.Attribute) and f.value.attr in ("special", "linalg"):
        name = f"{f.value.attr}_{name}"
    base = name[:-1] if name.endswith("_") and not name.endswith("__") else name
    return base in _NORMALIZED and kind.split("::")[-1] != name


def _walk(block):
    for n in list(block.nodes):
        yield n
        for b in n.blocks:
            yield from _walk(b)


# --------------------------------------------------------------------------- apply
def _pool_key(value, ty):
    """The shadow's ConstantPooling key: a Tensor constant by its dtype, sizes and
    values (torch's EqualNode compares tensors by value), others by their repr."""
    if ty == "Tensor":
        return (ty, str(value.dtype), tuple(value.shape), str(value.device),
                value.detach().cpu().numpy().tobytes())
    return (ty, repr(value))


def _const_matches(sv_value, gnode):
    value, _ty = sv_value
    if _ty == "Function":                   # (a called function: its name and callee)
        return "value" not in gnode.attrs and gnode.attrs.get("name") == value[0] and \
            id(gnode.meta.get("function")) == value[1]
    if "name" in gnode.attrs:
        return False
    gv = gnode.attrs.get("value")
    if _ty == "Tensor":
        return gv is value or (type(gv) is type(value) and _pool_key(gv, _ty) ==
                               _pool_key(value, _ty))
    from ... import dtypes as _dt
    if isinstance(gv, _dt.dtype) and type(value) is int:
        try:                                        # (a ScalarType argument's constant)
            return _dt.scalar_type_code(gv) == value
        except Exception:
            return False
    if type(gv) is not type(value):
        return False
    if isinstance(value, float):
        return gv == value and math.copysign(1, gv) == math.copysign(1, value)
    return gv == value


def _pair(sb, gb, vmap, pairs, why=None):
    """Match the shadow block sb with gpujit's block gb: the same nodes in the same order
    (kinds, constants' values, inputs through vmap). why: gets the first difference."""
    def differ(sn, gn, what):
        if why is not None:
            # (the first node pair the difference shows at; gpujit's with its line)
            why.append(f"{what}: torch's {sn.kind} against gpujit's {gn}".rstrip())
        return False
    if len(sb.params) != len(gb.inputs) or len(sb.nodes) != len(gb.nodes) or \
            len(sb.outputs) != len(gb.outputs):
        k = next((i for i, (a, b) in enumerate(zip(sb.nodes, gb.nodes))
                  if a.kind != b.kind), None)
        if k is not None:
            return differ(sb.nodes[k], gb.nodes[k], "a node of another kind")
        if why is not None:
            why.append(f"{len(sb.nodes)} nodes in torch's block, {len(gb.nodes)} in "
                       f"gpujit's (params {len(sb.params)}/{len(gb.inputs)}, outputs "
                       f"{len(sb.outputs)}/{len(gb.outputs)})")
        return False
    for s, g in zip(sb.params, gb.inputs):
        vmap[id(s)] = g
        pairs.append((s, g))
    for sn, gn in zip(sb.nodes, gb.nodes):
        if sn.kind != gn.kind or len(sn.outputs) != len(gn.outputs) or \
                len(sn.inputs) != len(gn.inputs) or len(sn.blocks) != len(gn.blocks):
            return differ(sn, gn, "a node of another shape")
        if sn.kind == "prim::Constant":
            if not _const_matches(sn.value, gn):
                return differ(sn, gn, f"another constant ({sn.value[0]!r})")
        if any(vmap.get(id(a)) is not b for a, b in zip(sn.inputs, gn.inputs)):
            return differ(sn, gn, "other inputs")
        for s, g in zip(sn.outputs, gn.outputs):
            vmap[id(s)] = g
            pairs.append((s, g))
        for a, b in zip(sn.blocks, gn.blocks):
            if not _pair(a, b, vmap, pairs, why):
                return False
    if all(vmap.get(id(a)) is b for a, b in zip(sb.outputs, gb.outputs)):
        return True
    if why is not None:
        why.append("the block returns other values")
    return False


def _none_attr(module, name) -> bool:
    """Whether a module's attribute `name` is None (a None submodule, parameter, buffer
    or plain attribute)."""
    for d in (module._modules, module._parameters, module._buffers, module.__dict__):
        if name in d:
            return d[name] is None
    return False


def name_like_torch(graph, src, fn, at, method=False, module=None) -> bool:
    """Give graph (gpujit's cleaned-up graph of the scripted function fn, whose source is
    src) torch's value names and numbers, and its top-level constants torch's order;
    False (the graph unchanged) where the replay does not apply. module: a method's
    ScriptModule."""
    try:
        r = _Replay(graph, src, fn, at, method, module)
    except Exception as e:       # (noqa: BLE001; as below)
        _gave_up(fn, _why(e))
        return False
    try:
        return _name_like(graph, r, fn)
    finally:
        # the replay's shadow graph is cyclic (values <-> their uses): without this, it
        # kept the scripted function until a full collection (and with it gpujit.script's
        # cached compiled form of it: `del f; gc.collect()` left f's kernels listed in
        # cache_info until a second collection)
        r.__dict__.clear()


def _gave_up(fn, why):
    from ..._dump import dumping, names_gave_up
    if dumping("names"):
        code = getattr(fn, "__code__", None)
        where = getattr(fn, "__qualname__", repr(fn)) + (
            f" ({os.path.basename(code.co_filename)}:{code.co_firstlineno})" if code else "")
        names_gave_up("scripted names", where, why)


def _why(e, r=None):
    """An exception of the replay in words: _Abort's names the construct (and the
    statement's line it met it in); another names the replay's own line that raised it."""
    if isinstance(e, _Abort):
        s = getattr(r, "last_stmt", None)
        try:
            return f"{e} (the statement at line {r.pos(s)[0]})" if s is not None else str(e)
        except Exception:       # (noqa: BLE001; a debug message)
            return str(e)
    tb = e.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{type(e).__name__}: {e} (torch_names.py:{tb.tb_lineno})"


def _name_like(graph, r, fn=None) -> bool:
    try:
        top = r.run()
    except Exception as e:  # (_Abort, or a shape the replay did not foresee: the names
        _gave_up(fn, _why(e, r))    # are cosmetic, the compile never fails for them)
        return False
    # gpujit's leading top-level constants in the shadow's order
    gnodes = list(graph.block.nodes)
    k = 0
    while k < len(gnodes) and gnodes[k].kind == "prim::Constant":
        k += 1
    sconsts = [n for n in top.nodes if n.kind == "prim::Constant"]
    if len(sconsts) != k or any(n.kind == "prim::Constant" for n in top.nodes[k:]):
        _gave_up(fn, f"{len(sconsts)} top-level constants in torch's graph, {k} in gpujit's")
        return False
    order, pool = [], gnodes[:k]
    for sn in sconsts:
        m = next((g for g in pool if _const_matches(sn.value, g) and
                  str(g.outputs[0].type) == _shown(sn.value[1], g)), None)
        if m is None:
            _gave_up(fn, f"torch's constant {sn.value[0]!r} is not gpujit's")
            return False
        pool.remove(m)
        order.append(m)
    vmap, pairs = {}, []
    why = []
    if not _pair_with_order(top, graph, order, gnodes[k:], vmap, pairs, why):
        _gave_up(fn, why[0] if why else "the graphs differ")
        return False
    # gpujit's constants in torch's order, then torch's names
    if k < len(gnodes):
        for c in order:
            c.move_before(gnodes[k])
    elif order:
        order[-1].move_after(gnodes[k - 1]) if order[-1] is not gnodes[k - 1] else None
        for c in order[:-1]:
            c.move_before(order[-1])
    _rename_all(graph, pairs, r)
    return True


def _shown(ty, g):
    return str(g.outputs[0].type)


def _pair_with_order(top, graph, order, rest, vmap, pairs, why=None):
    vmap.clear()
    pairs.clear()

    class GB:
        pass
    gb = GB()
    gb.inputs = graph.block.inputs
    gb.nodes = order + rest
    gb.outputs = graph.block.outputs
    return _pair(top, gb, vmap, pairs, why)


def _rename_all(graph, pairs, r):
    for _, g in pairs:
        graph._forget(g)
    graph._names = {}
    for s, g in pairs:
        g.unique = s.uid
        g._name = s.name
        loc = s.node.loc
        if loc is not None and s.node.kind == "prim::Constant":
            g.node.source_range = loc or None
        if s.name is not None:
            graph._names[s.name] = g
    graph._unique = r.counter - 1
    graph._taken = dict(r.suffix)
