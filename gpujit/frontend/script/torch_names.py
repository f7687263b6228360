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


__all__ = ["name_like_torch", "snapshot"]


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
    at = {}
    for n in graph.walk():
        if n.kind != "prim::Constant":
            pos = (n.source_range.line, n.source_range.col) \
                if n.source_range is not None else None
            at.setdefault(pos, []).append(_Rec(n))
    return at


class _Abort(Exception):
    """The function uses something the replay does not know."""


# ---------------------------------------------------------------------------- shadow IR
class _V:
    __slots__ = ("uid", "name", "node", "uses", "g")

    def __init__(self, uid, node):
        self.uid, self.name, self.node, self.uses, self.g = uid, None, node, [], None


class _N:
    __slots__ = ("kind", "inputs", "outputs", "blocks", "block", "value", "g", "effect")

    def __init__(self, kind, value=None, g=None):
        self.kind, self.value, self.g = kind, value, g
        self.inputs, self.outputs, self.blocks, self.block = [], [], [], None
        self.effect = False


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


def _meaningful(name):
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
_CONVERSIONS = frozenset({"prim::ListConstruct", "prim::NumToTensor", "aten::Float",
                          "aten::Int", "aten::ScalarImplicit", "prim::TupleConstruct"})


class _Replay:
    def __init__(self, graph, src, fn, at, method=False):
        self.graph, self.src, self.fn, self.method = graph, src, fn, method
        self.self_name = None
        self.counter = 0
        self.names = {}
        self.suffix = {}
        self.top = _B(None)
        self.ins = (self.top, None)     # insertion point: (block, before-node or None)
        self.frame = None
        self.int_consts, self.fp_consts = {}, {}
        self.exits = set()
        self.at = at            # (snapshot's)
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
            suffix, base = 1, name
            dot = name.rfind(".")
            if dot != -1 and dot + 1 != len(name) and name[dot + 1:].isdigit():
                suffix, base = int(name[dot + 1:]), name[:dot]
            last = self.suffix.get(base)
            if last is not None:
                suffix = max(suffix, last + 1)
            while True:
                rep = f"{base}.{suffix}"
                suffix += 1
                if rep not in self.names:
                    break
            self.suffix[base] = suffix
            self.set_name(old, rep)
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
            if _meaningful(name):
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
        if v.name is None and _meaningful(name) and v.node.block is f.block:
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
        if self.method:
            # `self`: its input named, no store (a sugared module value)
            v = self.top.add_param(self)
            self.set_name(v, params[0].arg)
            self.self_name, self.self_value = params[0].arg, v
            params = params[1:]
        for p in params:
            v = self.top.add_param(self)
            if _meaningful(p.arg):
                self.set_name(v, p.arg)
            self.insert("prim::Store", (v,), 0, value=p.arg)
            self.frame.types.add(p.arg)
        self.stmts(fdef.body, top=True)
        if self.top not in self.exits:
            self.constant(None, "NoneType")
            self.insert("prim::ReturnStmt", (self.top.nodes[-1].outputs[0],), 0)
        ph = self.insert("prim::Uninitialized")
        self.register_output(self.top, ph.outputs[0])
        self.pop()
        # ConvertToSSA
        self.push_env = None
        self.cfls(self.top, None)
        self.false_const = self.constant(False, "bool", at=(self.top, self.top.nodes[0]))
        self.inline_loop_conditions(self.top)
        self.erase_load_stores(self.top, [{}])
        self.transform_exits()
        self.dce()
        self.pool()
        self.canonicalize_outputs(self.top)
        return self.top

    # ------------------------------------------------------------------ statements
    def stmts(self, body, top=False):
        for k, s in enumerate(body):
            if isinstance(s, ast.Return):
                if not top or k != len(body) - 1:
                    raise _Abort("return")
                v = self.expr(s.value) if s.value is not None else self.constant(None,
                                                                                  "NoneType")
                self.insert("prim::ReturnStmt", (v,), 0)
                self.exits.add(self.frame.block)
            elif isinstance(s, ast.Assign):
                if len(s.targets) != 1:
                    raise _Abort("assign")
                t = s.targets[0]
                if isinstance(t, ast.Tuple) and t.elts and \
                        all(isinstance(x, ast.Name) for x in t.elts):
                    for name, v in zip((x.id for x in t.elts),
                                       self.tuple_values(s.value, len(t.elts))):
                        self.set_var(name, v)
                    continue
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

    def tuple_values(self, e, k):
        """`a, b = <e>`: a tuple literal's values, or a call's outputs, put in a
        prim::TupleConstruct that the unpacking reads through (emitTupleAssign)."""
        if isinstance(e, ast.Tuple):
            if len(e.elts) != k or any(isinstance(x, ast.Starred) for x in e.elts):
                raise _Abort("tuple assign")
            vals = [self.expr(x) for x in e.elts]
        elif isinstance(e, ast.Call):
            out = self.expr(e)
            vals = out.node.outputs
            if len(vals) != k:
                raise _Abort("tuple assign")
        else:
            raise _Abort("tuple assign")
        self.insert("prim::TupleConstruct", vals, 1)
        return vals

    def aug_assign(self, s):
        if not isinstance(s.target, ast.Name):
            raise _Abort("augassign")
        lhs = self.expr(s.target)
        rhs = self.expr(s.value)
        # (a Tensor's in-place op, aten::add_, or a number's aten::add: the same history)
        out = self.call_node(s, [lhs, rhs], {})
        self.set_var(s.target.id, out)

    def cond(self, test):
        if isinstance(test, (ast.BoolOp,)) or \
                isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) or \
                isinstance(test, ast.Compare) and any(
                    isinstance(o, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) for o in test.ops):
            raise _Abort("condition")
        if isinstance(test, ast.Constant) or isinstance(test, ast.Call):
            raise _Abort("static condition")
        v = self.expr(test)
        self.constant(0, "int")         # (CastValue's zero of emitToBool)
        try:
            g = self.claim(test, ("aten::Bool",))
        except _Abort:
            return v
        n = self.insert(g.kind, (v,), 1, g=g.node)
        return n.outputs[0]

    def if_stmt(self, s):
        c = self.cond(s.test)
        node = self.insert("prim::If", (c,), 0)
        tb, fb = _B(node), _B(node)
        node.blocks = [tb, fb]
        envs = []
        for b, body in ((tb, s.body), (fb, s.orelse)):
            self.push(b)
            saved = self.ins
            self.ins = (b, None)
            self.stmts(body)
            self.ins = saved
            envs.append(self.pop())
        st, sf = envs
        mutated = set()
        for v in st.types.keys:
            saved, self.ins = self.ins, (fb, None)
            if self.find_any(sf, v) is not None:
                mutated.add(v)
            self.ins = saved
        for v in sf.types.keys:
            saved, self.ins = self.ins, (tb, None)
            if self.find_any(st, v) is not None:
                mutated.add(v)
            self.ins = saved
        for x in sorted(mutated):
            saved, self.ins = self.ins, (tb, None)
            self.find_any(st, x)
            self.ins = (fb, None)
            self.find_any(sf, x)
            self.ins = saved
            self.find_any(self.frame, x)     # (its full type, for unifyTypes)
            self.frame.types.add(x)

    def loop_body(self, node, body, target):
        bb = node.blocks[0]
        trip = bb.add_param(self)
        self.push(bb)
        saved = self.ins
        self.ins = (bb, None)
        if target is not None:
            self.set_var(target, trip)
        self.stmts(body)
        self.ins = saved
        self.pop()

    def for_stmt(self, s):
        if s.orelse or not isinstance(s.target, ast.Name) or not (
                isinstance(s.iter, ast.Call) and isinstance(s.iter.func, ast.Name) and
                s.iter.func.id == "range" and not s.iter.keywords and
                1 <= len(s.iter.args) <= 3) or self.fn.__globals__.get("range", range) \
                is not range:
            raise _Abort("for")
        _no_exits(s.body)
        args = [self.expr(e) for e in s.iter.args]
        if len(args) == 1:
            self.constant(0, "int")
            self.constant(1, "int")
            trip_max = args[0]
        else:
            if len(args) == 2:
                self.constant(1, "int")
            g = self.claim(s, ("aten::__range_length",))
            raise _Abort(f"range(start, stop) {g.kind}")
        node = self.insert("prim::Loop", (trip_max,), 0)
        node.blocks = [_B(node), _B(node)]
        t = self.constant(True, "bool", at=(self.ins[0], node))
        self.register_output(node.blocks[1], t)
        self.loop_body(node, s.body, s.target.id)

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
    def get_attr(self, e):
        """`self.name`: a prim::GetAttr (createGetAttr names its value the field)."""
        for g in self.at.get(self.pos(e), []) + self.at.get(None, []):
            if g.kind == "prim::GetAttr" and id(g.node) not in self.claimed and \
                    g.node.attrs.get("name") == e.attr:
                self.claimed.add(id(g.node))
                n = self.insert("prim::GetAttr", (self.self_value,), 1, g=g.node)
                self.set_name(n.outputs[0], e.attr.replace(".", "_"))
                return n.outputs[0]
        raise _Abort("attribute")

    def is_self(self, e):
        return self.self_name is not None and isinstance(e, ast.Name) and \
            e.id == self.self_name and self.find_var_silent(e.id) is None

    def expr(self, e):
        if isinstance(e, ast.Attribute) and self.is_self(e.value):
            return self.get_attr(e)
        if isinstance(e, ast.Name):
            v = self.find_any(self.frame, e.id)
            if v is None:
                raise _Abort(f"name {e.id}")
            return v
        if isinstance(e, ast.Constant):
            return self.literal(e.value)
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub) and \
                isinstance(e.operand, ast.Constant) and \
                type(e.operand.value) in (int, float):
            lit = self.literal(e.operand.value)
            self.insert("aten::neg", (lit,), 1)     # (folded: runNodeIfInputsAreConstant)
            val = -e.operand.value
            return self.constant(val, "int" if type(val) is int else "float")
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.Invert)):
            return self.call_node(e, [self.expr(e.operand)], {})
        if isinstance(e, ast.BinOp):
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
            c = self.cond(e.test)
            node = self.insert("prim::If", (c,), 0)
            node.blocks = [_B(node), _B(node)]
            for b, x in zip(node.blocks, (e.body, e.orelse)):
                self.push(b)
                saved, self.ins = self.ins, (b, None)
                self.register_output(b, self.expr(x))
                self.ins = saved
                self.pop()
            out = self.new_value(node)
            node.outputs.append(out)
            return out
        if isinstance(e, ast.Attribute):
            # x.shape, x.dtype, ...: the op TorchScript's attribute of a value inserts
            v = self.expr(e.value)
            rec = self.claim(e)
            if len(rec.inputs) != 1 or rec.node.blocks:
                raise _Abort("attribute")
            out = self.insert(rec.kind, (v,), rec.nout, g=rec.node).outputs[0]
            if rec.kind == "prim::GetAttr":         # (createGetAttr names it the field)
                self.set_name(out, e.attr.replace(".", "_"))
            return out
        if isinstance(e, ast.Subscript):
            if isinstance(e.slice, (ast.Slice, ast.Tuple)):
                raise _Abort("subscript")
            v = self.expr(e.value)
            i = self.expr(e.slice)
            rec = self.claim(e)
            if rec.kind != "aten::__getitem__" or len(rec.inputs) != 2:
                raise _Abort("subscript")
            return self.insert(rec.kind, (v, i), rec.nout, g=rec.node).outputs[0]
        if isinstance(e, (ast.Tuple, ast.List)):
            vals = [self.expr(x) for x in e.elts]
            if any(isinstance(x, ast.Starred) for x in e.elts):
                raise _Abort("starred")
            kind = "prim::TupleConstruct" if isinstance(e, ast.Tuple) else \
                "prim::ListConstruct"
            g = self.claim(e, (kind,))
            n = self.insert(kind, vals, 1, g=g.node)
            return n.outputs[0]
        raise _Abort(type(e).__name__)

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
        if not isinstance(f, ast.Attribute):
            raise _Abort("call of a name")
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
                else self.self_value
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
        else:
            if not isinstance(f.value, (ast.Name, ast.Call, ast.BinOp)):
                raise _Abort("method receiver")
            ops.append(self.expr(f.value))
        ops += [self.expr(a) for a in e.args]
        kws = {k.arg: self.expr(k.value) for k in e.keywords}
        return self.call_node(e, ops, kws)

    def find_var_silent(self, name):
        f = self.frame
        while f is not None:
            if name in f.types:
                return True
            f = f.next
        return None

    def call_node(self, e, ops, kws):
        """The gpujit node at e's position, its inputs the operands, conversions and
        default constants in its schema's order (tryMatchSchema), then its outputs."""
        rec = self.claim(e)
        g = rec.node
        if g.blocks:
            raise _Abort("node with blocks")
        op = rec.op
        args = op.schema.arguments if op is not None else None
        if args is not None and len(args) != len(rec.inputs):
            raise _Abort("schema")
        ops = list(ops)
        kws = dict(kws)
        inputs = []
        for j, gv in enumerate(rec.inputs):
            a = args[j] if args is not None else None
            p = gv.node
            if p is not None and p.kind in _CONVERSIONS and id(p) not in self.claimed and \
                    (p.source_range is None or
                     (p.source_range.line, p.source_range.col) == self.pos(e)):
                self.claimed.add(id(p))
                k = len(p.inputs)
                if ops and not (a is not None and a.kwarg_only):
                    if len(ops) < k:
                        raise _Abort("conversion")
                    taken, ops = ops[:k], ops[k:]
                elif a is not None and a.name in kws and k == 1:
                    taken = [kws.pop(a.name)]
                else:
                    raise _Abort("conversion")
                inputs.append(self.insert(p.kind, taken, 1, g=p).outputs[0])
            elif ops and not (a is not None and a.kwarg_only):
                inputs.append(ops.pop(0))
            elif a is not None and a.name in kws:
                inputs.append(kws.pop(a.name))
            elif p is not None and p.kind == "prim::Constant" and a is not None and \
                    a.has_default:
                inputs.append(self.constant(p.attrs.get("value"), str(gv.type)))
            else:
                raise _Abort("argument")
        if ops or kws:
            raise _Abort("operands left")
        n = self.insert(g.kind, inputs, rec.nout, g=g)
        if g.has_side_effects():
            n.effect = True
        return n.outputs[0] if n.outputs else self._none_result()

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
            if n.kind == "prim::If":
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
        if _meaningful(name):
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
                    c = self.insert(m.kind, [vmap.get(v, v) for v in m.inputs],
                                    len(m.outputs), value=m.value, g=m.g, at=(block, n))
                    for o, no in zip(m.outputs, c.outputs):
                        vmap[o] = no
                        if o.name is not None:
                            self.set_name(no, o.name)
                start = vmap.get(pre.outputs[0], pre.outputs[0])
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
            else:
                for b in n.blocks:
                    self.erase_load_stores(b, frames + [{}])

    def transform_exits(self):
        for _ in range(2):              # (two ExitTransformers: true, false, a unit value)
            first = self.top.nodes[0] if self.top.nodes else None
            self.constant(True, "bool", at=(self.top, first))
            self.constant(False, "bool", at=(self.top, first))
            self.insert("prim::Uninitialized", at=(self.top, first))
        ph = self.top.outputs[0]
        ret = [n for n in self.top.nodes if n.kind == "prim::ReturnStmt"]
        if len(ret) != 1 or self.top.nodes[-2:] != [ret[0], ph.node]:
            raise _Abort("return")
        ret = ret[0]
        v = ret.inputs[0]
        self.destroy(ret)
        self.top.outputs = [v]
        ph.uses.remove(self.top)
        v.uses.append(self.top)
        self.destroy(ph.node)

    # ------------------------------------------------------------------ cleanup
    def dce(self):
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
                if n.block is None or n not in n.block.nodes:
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
                key = (n.value[1], repr(n.value[0]))
                if key in seen:
                    self.replace_uses(n.outputs[0], seen[key].outputs[0])
                    self.destroy(n)
                    continue
                seen[key] = n
                block.nodes.remove(n)
                n.block = self.top
                self.top.nodes.insert(0, n)
        run(self.top)


def _no_exits(body):
    for s in body:
        for n in ast.walk(s):
            if isinstance(n, (ast.Return, ast.Break, ast.Continue, ast.Raise, ast.With,
                              ast.Try)):
                raise _Abort("exit in a loop")


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


def _walk(block):
    for n in list(block.nodes):
        yield n
        for b in n.blocks:
            yield from _walk(b)


# --------------------------------------------------------------------------- apply
def _const_matches(sv_value, gnode):
    value, _ty = sv_value
    gv = gnode.attrs.get("value")
    if type(gv) is not type(value):
        return False
    if isinstance(value, float):
        return gv == value and math.copysign(1, gv) == math.copysign(1, value)
    return gv == value


def _pair(sb, gb, vmap, pairs):
    """Match the shadow block sb with gpujit's block gb: the same nodes in the same order
    (kinds, constants' values, inputs through vmap)."""
    if len(sb.params) != len(gb.inputs) or len(sb.nodes) != len(gb.nodes) or \
            len(sb.outputs) != len(gb.outputs):
        return False
    for s, g in zip(sb.params, gb.inputs):
        vmap[id(s)] = g
        pairs.append((s, g))
    for sn, gn in zip(sb.nodes, gb.nodes):
        if sn.kind != gn.kind or len(sn.outputs) != len(gn.outputs) or \
                len(sn.inputs) != len(gn.inputs) or len(sn.blocks) != len(gn.blocks):
            return False
        if sn.kind == "prim::Constant":
            if not _const_matches(sn.value, gn):
                return False
        if any(vmap.get(id(a)) is not b for a, b in zip(sn.inputs, gn.inputs)):
            return False
        for s, g in zip(sn.outputs, gn.outputs):
            vmap[id(s)] = g
            pairs.append((s, g))
        for a, b in zip(sn.blocks, gn.blocks):
            if not _pair(a, b, vmap, pairs):
                return False
    return all(vmap.get(id(a)) is b for a, b in zip(sb.outputs, gb.outputs))


def name_like_torch(graph, src, fn, at, method=False) -> bool:
    """Give graph (gpujit's cleaned-up graph of the scripted function fn, whose source is
    src) torch's value names and numbers, and its top-level constants torch's order;
    False (the graph unchanged) where the replay does not apply."""
    try:
        r = _Replay(graph, src, fn, at, method)
        top = r.run()
    except Exception:       # (_Abort, or a shape the replay did not foresee: the names
        return False        # are cosmetic, the compile never fails for them)
    # gpujit's leading top-level constants in the shadow's order
    gnodes = list(graph.block.nodes)
    k = 0
    while k < len(gnodes) and gnodes[k].kind == "prim::Constant":
        k += 1
    sconsts = [n for n in top.nodes if n.kind == "prim::Constant"]
    if len(sconsts) != k or any(n.kind == "prim::Constant" for n in top.nodes[k:]):
        return False
    order, pool = [], gnodes[:k]
    for sn in sconsts:
        m = next((g for g in pool if _const_matches(sn.value, g) and
                  str(g.outputs[0].type) == _shown(sn.value[1], g)), None)
        if m is None:
            return False
        pool.remove(m)
        order.append(m)
    vmap, pairs = {}, []
    if not _pair_with_order(top, graph, order, gnodes[k:], vmap, pairs):
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


def _pair_with_order(top, graph, order, rest, vmap, pairs):
    vmap.clear()
    pairs.clear()

    class GB:
        pass
    gb = GB()
    gb.inputs = graph.block.inputs
    gb.nodes = order + rest
    gb.outputs = graph.block.outputs
    return _pair(top, gb, vmap, pairs)


def _rename_all(graph, pairs, r):
    for _, g in pairs:
        graph._forget(g)
    graph._names = {}
    for s, g in pairs:
        g.unique = s.uid
        g._name = s.name
        if s.name is not None:
            graph._names[s.name] = g
    graph._unique = r.counter - 1
    graph._taken = dict(r.suffix)
