"""Loops of the script compiler: `while`, `for` over range / lists / tensors (prim::Loop
carrying the variables the body assigns), and `for` over tuples and module containers
(unrolled); and the statement facts compiler.py shares (which names a statement list
assigns, whether an `if` holds an early exit, RAISED).

A `return` inside a prim::Loop is compiled as TorchScript's exit transform does it: the
loop also carries a "returned" flag and the return value (prim::Uninitialized before the
loop); a path of the body that returns sets the flag, gives the value and stops the loop
(its condition is False); after the loop, `if returned: <return the value> else: <the rest
of the function>` (compiler.path). The statements after a return point in the body are
already confined to the paths that do not return (compiler.path moves them there). A
`return` in an unrolled loop needs none of this: the unrolled iterations are a plain
statement list followed by the rest of the function."""
from __future__ import annotations

import ast

from ...passes.raise_exits import UNIT_VALUE
from ...ir import types as T
from .calls import describe_type
from .exprs import Var, OneBranch, Refined, unify
from .errors import NotSupportedError
from .torch_names import meaningful

__all__ = ["LoopMixin", "RAISED", "PENDING", "LoopReturn", "UnrolledTarget", "leaves_function", "MAX_TRIP",
           "assigned_names", "has_exit", "has_return"]

MAX_TRIP = 9223372036854775807

RAISED = object()     # a statement list that always raises
# The return-value slot of a loop-body path that does not return: a prim::Uninitialized of
# the slot's type, emitted once the paths that do return have decided that type.
PENDING = object()


class LoopReturn:
    """What a prim::Loop whose body returns leaves to compiler.path: the loop's "returned"
    flag and return value outputs."""
    __slots__ = ("flag", "value")

    def __init__(self, flag, value):
        self.flag, self.value = flag, value


class UnrolledTarget:
    """The binding of an unrolled loop's target to one element: a pseudo-statement in the
    statement list compiler.path compiles for an unrolled loop whose body returns."""
    __slots__ = ("loop", "make")

    def __init__(self, loop, make):
        self.loop, self.make = loop, make


def _target_types(target, t) -> dict:
    """{name: Type} that a for loop's target binds from elements of type t."""
    if isinstance(target, ast.Name):
        return {target.id: t}
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(t, T.TupleType) and \
            len(t.elems) == len(target.elts):
        out = {}
        for e, et in zip(target.elts, t.elems):
            out.update(_target_types(e, et))
        return out
    return {}


def _targets(node):
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, (ast.Tuple, ast.List)):
        for e in node.elts:
            yield from _targets(e)


_MUTATORS = ("append", "extend")


def _mutated(target):
    """The container variable `xs[i] = v` or `xs.append(v)` mutates (see
    ContainerMixin.rebind): a name whose value the statement changes."""
    if isinstance(target, (ast.Subscript, ast.Attribute)) and \
            isinstance(target.value, ast.Name):
        yield target.value.id


def assigned_names(stmts) -> list:
    """Names a statement list assigns (nested blocks included), in first-seen order."""
    out = []

    def visit(s):
        if isinstance(s, ast.Assign):
            for t in s.targets:
                out.extend(_targets(t))
                out.extend(_mutated(t))
        elif isinstance(s, (ast.AugAssign, ast.AnnAssign)):
            out.extend(_targets(s.target))
            out.extend(_mutated(s.target))
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            f = s.value.func                  # xs.append(v): xs names the result after it
            if isinstance(f, ast.Attribute) and f.attr in _MUTATORS and not (
                    isinstance(f.value, ast.Name) and f.value.id == "torch"):
                # (`torch.extend(xs, ys)`, as .code spells the op, names no variable)
                out.extend(_mutated(f))
        elif isinstance(s, ast.For):
            out.extend(_targets(s.target))
        for field in ("body", "orelse"):
            for c in getattr(s, field, []) or []:
                if isinstance(c, ast.stmt):
                    visit(c)
    for s in stmts:
        visit(s)
    return list(dict.fromkeys(out))


def narrowed_names(stmts) -> list:
    """Names the conditions of a statement list's ifs and asserts (nested blocks included)
    narrow: `x is None`, `x is not None`, `isinstance(x, T)`, under `not`, `and` and `or`.
    TorchScript stores the narrowed variable in the branch (insertRefinements), which
    makes it a variable the block assigns (a loop carries it)."""
    out = []

    def test(e):
        if isinstance(e, ast.BoolOp):
            for v in e.values:
                test(v)
        elif isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            test(e.operand)
        elif isinstance(e, ast.Compare) and len(e.ops) == 1 and \
                isinstance(e.ops[0], (ast.Is, ast.IsNot)):
            a, b = e.left, e.comparators[0]
            for x, y in ((a, b), (b, a)):
                if isinstance(x, ast.Name) and isinstance(y, ast.Constant) and y.value is None:
                    out.append(x.id)
        elif isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and \
                e.func.id == "isinstance" and e.args and isinstance(e.args[0], ast.Name):
            out.append(e.args[0].id)

    def visit(s):
        if isinstance(s, (ast.If, ast.Assert)):
            test(s.test)
        for field in ("body", "orelse"):
            for c in getattr(s, field, []) or []:
                if isinstance(c, ast.stmt):
                    visit(c)
    for s in stmts:
        visit(s)
    return list(dict.fromkeys(out))


def has_exit(s, raises=None) -> bool:
    """Does a statement (an `if`, recursively) hold a return, break or continue of the
    enclosing function or loop? (A break or continue in a nested loop belongs to that
    loop; a return in it still leaves the function.) Not one after a statement that
    always raises (a `raise`, or what raises(stmt) says does, a call of an @unused
    function): TorchScript's exit transform drops the statements after a raise, so an if
    whose exit follows one is an if without exit there."""
    if isinstance(s, (ast.Return, ast.Break, ast.Continue)):
        return True
    if isinstance(s, ast.If):
        return _has_exit_in(s.body, raises) or _has_exit_in(s.orelse, raises)
    if isinstance(s, ast.With):
        return _has_exit_in(s.body, raises)
    if isinstance(s, (ast.For, ast.While)):
        return has_return(s.body)
    return False


def _has_exit_in(stmts, raises):
    for c in stmts:
        if isinstance(c, ast.Raise) or (raises is not None and raises(c)):
            return False        # (`return dropped(x)` raises before it returns)
        if has_exit(c, raises):
            return True
    return False


def leaves_function(stmts) -> bool:
    """Does a statement list always leave the function, by a `return` or `raise` of its
    own, an `if` both of whose branches do, or a `with` whose body does? (TorchScript's
    exit blocks: what its ir_emitter marks when it emits a return or raise, and an if
    whose two blocks are marked; a break or continue is no such exit, nor a loop.)"""
    for s in stmts:
        if isinstance(s, (ast.Return, ast.Raise)):
            return True
        if isinstance(s, ast.If) and leaves_function(s.body) and leaves_function(s.orelse):
            return True
        if isinstance(s, ast.With) and leaves_function(s.body):
            return True
    return False


def has_return(stmts) -> bool:
    """Does a statement list hold a `return` (at any depth, nested loops included)?"""
    return any(isinstance(n, ast.Return) for s in stmts for n in ast.walk(s))


def own_loop_exits(stmts):
    """The break and continue statements of a loop body that belong to that loop (not to
    a loop nested in it)."""
    for s in stmts:
        if isinstance(s, (ast.Break, ast.Continue)):
            yield s
        elif isinstance(s, (ast.If, ast.With)):
            yield from own_loop_exits(s.body + s.orelse if isinstance(s, ast.If) else s.body)


class LoopMixin:
    """FunctionCompiler's loops (self is the compiler)."""

    def bare_const(self, value):
        """A constant without source range (one TorchScript's transforms make)."""
        v = self.const(value)
        v.node.source_range = None
        return v

    def unit_value(self, t):
        """A prim::Uninitialized of type t standing for a value never read, as
        TorchScript's exit transform's unit values: no source range, one per type at the
        start of the graph (passes/raise_exits.py pools them)."""
        n = self.emit("prim::Uninitialized", [], [t])
        n.source_range = None
        n.meta[UNIT_VALUE] = True
        return n.output

    def stmt_While(self, s):
        if s.orelse:
            self.error("else branches of while loops aren't supported: `while ... else` is "
                       "not supported", s, hint="use a flag variable", cls=NotSupportedError)
        # (`while True:` is no special case: as torch 2.13, a path past the loop must
        # return too, though only a return ends the loop)
        cond = self.condition(s.test)
        return self.loop(s, self.const(MAX_TRIP), cond, None, s.body,
                         lambda: self.condition(s.test), exclude=())

    def stmt_For(self, s):
        if s.orelse:
            self.error("else branches of for loops aren't supported: `for ... else` is not "
                       "supported", s, hint="use a flag variable", cls=NotSupportedError)
        it = s.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and \
                it.func.id == "range" and self.is_builtin("range"):
            return self.for_range(s, it)
        if not isinstance(s.target, (ast.Name, ast.Tuple)):
            self.error("a for loop target must be a name or a tuple of names", s.target,
                       hint="unpack inside the loop body")
        if not isinstance(s.target, ast.Name) and isinstance(it, ast.Tuple):
            self.error("a for loop over a tuple needs a single name as its target",
                       s.target, hint="unpack inside the loop body")
        if isinstance(it, ast.Tuple):
            return self.unroll(s, [lambda e=e: self.expr(e) for e in it.elts])
        tree = self.iterable_tree(it, s)        # enumerate() / zip(): iterables.py
        if tree is not None:
            return self.for_tree(s, tree)
        seq = self.expr(it)
        # a dict's keys, a set's elements (a str is read by index, as TorchScript's)
        lst = self.as_list(seq) if not isinstance(seq.type, T.StrType) else None
        if lst is not None:
            seq = lst
        t = seq.type
        if isinstance(t, T.ClassType):
            # as TorchScript: every element is read (its prim::GetAttr) before the body's
            # first copy
            with self.at(it):
                vals = [make() for make in self.class_elements(seq, it)]
            return self.unroll(s, [lambda v=v: v for v in vals])
        if not isinstance(s.target, ast.Name) and not isinstance(t, T.ListType):
            self.error("unpacking in a for loop target is supported over lists only",
                       s.target, hint="unpack inside the loop body")
        if isinstance(t, T.TupleType):
            # as TorchScript: the elements read (one prim::TupleUnpack) before the body's
            # first copy
            elems = self.iterable_leaf(seq, it).elems
            return self.unroll(s, [lambda v=v: v for v in elems])
        if isinstance(t, (T.ListType, T.StrType)):
            trip = self.len_of(seq)

            def elem(i):
                with self.at(s):      # (TorchScript's element read: the for statement's)
                    return self.emit("aten::__getitem__", [seq, i], [
                        t.elem if isinstance(t, T.ListType) else T.STR]).output
        elif isinstance(t, T.TensorType):
            trip = self.scalar("len", seq, node=s.iter)

            def elem(i):
                # (TorchScript's SimpleValue::getitem: aten::select(x, 0, i) at the for
                # statement's range, its 0 with none)
                saved, self.cur = self.cur, None
                try:
                    zero = self.const(0)
                finally:
                    self.cur = saved
                with self.at(s):
                    return self.call_op("select", [seq, zero, i], {}, s)
        else:
            self.error(f"'{t.annotation()}' object is not iterable: cannot iterate over "
                       f"{describe_type(t)}", it,
                       hint="iterate over range(...), a list, a tuple or a tensor")
        elem_t = t.elem if isinstance(t, T.ListType) else T.STR if isinstance(t, T.StrType) \
            else T.TENSOR
        return self.loop(s, trip, self.const(True), elem, s.body, None,
                         exclude=tuple(_targets(s.target)),
                         target_types=_target_types(s.target, elem_t))

    def for_tree(self, s, tree):
        """`for ... in enumerate(...)` / `zip(...)`: unrolled when every base iterable has a
        length known when compiling, else a prim::Loop over the index (iterables.py)."""
        n = self.static_length(tree, s.iter)
        if n is not None:
            return self.unroll(s, [lambda k=k: self.tree_static_item(tree, k)
                                   for k in range(n)])
        trip = self.tree_length(tree, s)
        return self.loop(s, trip, self.const(True), lambda i: self.tree_item(tree, i, s),
                         s.body, None, exclude=tuple(_targets(s.target)),
                         index_name=self.index_target(s.target, tree),
                         target_types=_target_types(s.target, self.tree_type(tree)))

    def range_args(self, call):
        """range(...)'s argument values, one to three ints, checked in torch 2.13's words
        (its RangeValue; `range(n)` of an unannotated parameter: 'Tensor (inferred)')."""
        n = len(call.args)
        if n == 0 or n > 3:
            self.error(f"range expected at {'least 1' if n == 0 else 'most 3'} arguments, "
                       f"got {n}", call, hint="range(n), range(a, b) or range(a, b, step)")
        if call.keywords:
            self.error("range() takes no keyword arguments", call,
                       hint="range(n), range(a, b) or range(a, b, step)")
        args = [self.expr(a) for a in call.args]
        for i, a in enumerate(args):
            if not isinstance(a.type, T.IntType):
                self.error(f"all inputs of range must be ints, found {self.shown_type(a)} "
                           f"in argument {i}", call.args[i], hint="pass int arguments")
        return args

    def for_range(self, s, call):
        if not isinstance(s.target, ast.Name):
            self.error("the target of a for loop over range must be a name", s.target)
        args = self.range_args(call)
        if len(args) == 1:
            return self.loop(s, args[0], self.const(True), None, s.body, None,
                             exclude=(s.target.id,), index_name=s.target.id,
                             target_types={s.target.id: T.INT})
        start, stop = args[0], args[1]
        step = 1
        if len(args) == 3:
            step = self.const_int(call.args[2])
            if not step:
                # a step known only when the loop runs (or a zero one, which raises then)
                trip, elem = self.range_by_step(start, stop, args[2])
                return self.loop(s, trip, self.const(True), elem, s.body, None,
                                 exclude=(s.target.id,),
                                 target_types={s.target.id: T.INT})
        # TorchScript's aten::__range_length, whatever the step (RangeValue::len): no
        # iteration unless start is on the step's side of stop (start - stop wrapped
        # around int64 for range(-2**63, 4, -1) and the loop ran 2**63 - 4 times; stop -
        # start for range(100, -2**63 + 1): 2**63 - 101 times)
        trip = self.scalar("__range_length", start, stop, self.const(step))

        def elem(i):            # (TorchScript's aten::__derive_index, whatever the step,
            st = self.const(step)   # at the loop's range)
            with self.at(s):
                return self.scalar("__derive_index", i, start, st)
        return self.loop(s, trip, self.const(True), elem, s.body, None,
                         exclude=(s.target.id,), target_types={s.target.id: T.INT})

    def range_by_step(self, start, stop, step):
        """The trip count and the element function of range(start, stop, step) whose step
        is a value (TorchScript's aten::__range_length / aten::__derive_index: a zero
        step raises when the loop starts)."""
        trip = self.scalar("__range_length", start, stop, step)
        return trip, lambda i: self.scalar("__derive_index", i, start, step)

    def unroll(self, s, elems):
        """A loop over a tuple or a module container, one copy of the body per element (the
        elements may have different types). With a `return` in the body, the copies are
        left to compiler.path as a statement list (a list of UnrolledTarget and body
        statements) that the rest of the function follows."""
        exit_ = next(own_loop_exits(s.body), None)
        if exit_ is not None:
            self.error(f"`{type(exit_).__name__.lower()}` is not supported in a loop over a "
                       f"tuple or a module container: the loop is unrolled (one copy of the "
                       f"body per element)", exit_, hint="set a flag variable instead")
        if has_return(s.body):
            return [x for make in elems for x in [UnrolledTarget(s, make)] + list(s.body)]
        for make in elems:
            self.bind_unrolled(UnrolledTarget(s, make))
            if self.stmts(s.body) is RAISED:
                return RAISED

    def bind_unrolled(self, u):
        with self.at(u.loop.iter):
            v = u.make()
        self.bind_unrolled_target(u.loop.target, v, u.loop)

    def bind_unrolled_target(self, target, v, loop):
        """Bind one unrolled element to the loop target: a Python tuple ((key, module) of
        a ModuleDict's .items(), (i, element) of enumerate()) is unpacked, nested tuples
        too; bound to a single name it becomes a tuple value."""
        if not isinstance(v, tuple):
            self.assign(target, v, loop)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            if len(target.elts) != len(v):
                self.error(f"the loop target unpacks {len(target.elts)} values, each "
                           f"element has {len(v)}", target)
            for t, x in zip(target.elts, v):
                self.bind_unrolled_target(t, x, loop)
            return
        flat = [self.tuple_value(x) if isinstance(x, tuple) else x for x in v]
        self.assign(target, self.tuple_value(tuple(flat)), loop)

    def tuple_value(self, parts):
        """A prim::TupleConstruct of the values; indexing it with a constant gives the
        part itself back (a module stays that module: `item[1] is self.sub`)."""
        out = self.emit("prim::TupleConstruct", list(parts),
                        [T.TupleType(tuple(p.type for p in parts))]).output
        self.tuple_parts[out] = parts
        return out

    def after_loop_return(self, s, r, rest, on_exit, slot_names):
        """`if returned: return <value> else: <rest>` after a loop whose body returns."""
        with self.at(s):
            node = self.emit("prim::If", [r.flag], [])
        node.source_range = None        # (TorchScript's exit transform makes it: no range)
        results = []
        with self.in_block(node.add_block()), self.scope(), self.at(s):
            results.append(on_exit("return", s, r.value))
        with self.in_block(node.add_block()), self.scope():
            results.append(self.path(list(rest), on_exit, slot_names))
        outs = self.merge_paths(node, results, s, slot_names)
        if outs is RAISED:
            return outs
        # the returned flag and value going on out as they are (a loop returning inside a
        # loop's body): the inner loop's own outputs, as TorchScript's exit transform passes
        # its exit pair on (`if _7: _16 = False else: _16 = True`, then `..., _7, _8` in
        # .code), not an output of this if each
        for k in reversed(range(len(outs))):
            v = outs[k]
            if v is PENDING or v.node is not node:
                continue
            then, other = (b.outputs[v.offset] for b in node.blocks)
            if _bare_bool(then, True) and _bare_bool(other, False):
                outs[k] = r.flag
            elif then is r.value and other.node.meta.get(UNIT_VALUE):
                outs[k] = r.value
            else:
                continue
            for b in node.blocks:
                b.erase_output(v.offset)
            node.erase_output(v.offset)
        return outs

    def loop(self, s, trip, cond, elem, body, cond_after, exclude, index_name=None,
             target_types=None):
        """A prim::Loop carrying the variables the body assigns (and defined before it);
        a LoopReturn when the body returns (see the module docstring), else None.
        exclude: the loop's target names; one defined before the loop with a type its
        elements fit (target_types) is carried too, so that after the loop it holds the
        last element, as in Python."""
        carried = [n for n in assigned_names(body)
                   if n not in exclude and isinstance(self.lookup_var(n), Var)]
        for n in narrowed_names(body):
            # a variable of the enclosing scope the body narrows: carried, as TorchScript
            # stores the cast in the body (torch 2.13 `x0: Optional[int] = x` before the
            # loop, `s, x0 = s0, x1` at the end of its body)
            var = self.lookup_var(n)
            if n not in carried and n not in exclude and isinstance(var, Var) and \
                    not isinstance(var, Refined) and \
                    isinstance(var.value.type, (T.OptionalType, T.UnionType, T.AnyType)):
                carried.append(n)
        for n, t in (target_types or {}).items():
            pre = self.lookup_var(n)
            if n in exclude and n not in carried and isinstance(pre, Var):
                pt = T.TENSOR if isinstance(pre.value.type, T.TensorType) else pre.value.type
                if unify(pt, t) == pt:
                    carried.append(n)
        init = [self.lookup_var(n) for n in carried]
        types = [T.TENSOR if isinstance(v.value.type, T.TensorType) else v.value.type
                 for v in init]
        returns = has_return(body)
        node = self.emit("prim::Loop", [trip, cond] + [v.value for v in init], [])
        block = node.add_block()
        # (unnamed unless the target, as TorchScript's; a compiler-made `$` name: unnamed)
        i = block.add_input(T.INT, index_name if meaningful(index_name) else None)
        names = ["loop condition"] + carried + (["returned flag", "return value"]
                                                if returns else [])

        def carried_value(n, t, v0, st, returning):
            var = self.lookup_var(n)
            if returning and not (isinstance(t, T.ClassType) and isinstance(var, Var) and
                                  unify(t, var.value.type) == t):
                # the loop stops and its carried values are never read: TorchScript's exit
                # transform carries prim::Uninitialized out (`_6, _7, _8, _9 = False, True,
                # x, _0` in .code, torch 2.13); an object whose attribute the body sets
                # (`self.a = a`: self) goes on as it is
                return self.unit_value(t)
            if not isinstance(var, Var):
                self.error(f"'{n}' is not defined on every path of the loop body", st)
            if unify(t, var.value.type) != t:
                self.error(f"Variable '{n}' previously had type {_name(t)} but is now "
                           f"being assigned to a value of type {_name(var.value.type)}: "
                           f"it is {describe_type(t)} before the loop and "
                           f"{describe_type(var.value.type)} in its body; a scripted "
                           f"variable keeps one type.", var.where,
                           note=f"assigned before the loop at line "
                                f"{self.src.range(v0.where).line}",
                           hint="give it the same type before and inside the loop")
            return var.value

        def on_exit(kind, st, value=None):
            returning = kind == "return"
            if returning:
                value = value if value is not None else self.return_value(st)
                self.check_return(value, st, kind)
            # (the stop condition and the returned flag are the exit transform's constants
            # in TorchScript: no source range)
            c = self.bare_const(False) if kind in ("break", "return") else (
                cond_after() if cond_after else self.bare_const(True))
            vals = [c] + [carried_value(n, t, v0, st, returning)
                          for n, t, v0 in zip(carried, types, init)]
            if returns:
                vals += [self.bare_const(returning), value if returning else PENDING]
            return vals

        with self.in_block(block), self.scope() as frame:
            for n, t, v0 in zip(carried, types, init):
                frame[n] = Var(block.add_input(t, n), v0.where)
            if elem is not None:
                with self.at(s.iter if isinstance(s, ast.For) else s):
                    self.bind_unrolled_target(s.target, elem(i), s)
            elif index_name is not None:
                frame[index_name] = Var(i, s)
            outs = self.path(list(body), on_exit, names)
            if outs is RAISED:
                # a body that always raises, as TorchScript's: the carried values as the
                # raise leaves them, a for loop's condition True, a while loop's (never
                # computed) prim::Uninitialized (passes/raise_exits.py hoists it)
                def raised(n, t):
                    var = self.lookup_var(n)
                    if isinstance(var, Var) and unify(t, var.value.type) == t:
                        return var.value
                    return self.emit("prim::Uninitialized", [], [t]).output
                outs = [self.emit("prim::Uninitialized", [], [T.BOOL]).output
                        if cond_after else self.const(True)] + [
                    raised(n, t) for n, t in zip(carried, types)] + (
                    [self.const(False), PENDING] if returns else [])
            if returns and outs[-1] is PENDING:     # no path of the body returns
                outs = outs[:-1]
            for v in outs:
                block.register_output(v)
        for n, t, v0 in zip(carried, types, init):
            out = node.add_output(t)
            if meaningful(n):
                out.set_debug_name(n)
            self.scopes[-1][n] = Var(out, v0.where)
        for n in assigned_names(body):
            if n not in carried and n not in exclude and self.lookup_var(n) is None:
                self.scopes[-1][n] = OneBranch(s, "loop")
        for n in exclude:
            if n not in carried:
                self.scopes[-1][n] = OneBranch(s, "loopvar")
        if returns:
            return self.carry_return(node, outs[len(carried) + 1:])

    def carry_return(self, node, body_outs):
        """The returned flag (and the return value, when some path of the body returns)
        carried by the loop node: initial values before it, inputs of its body, outputs."""
        types = [T.BOOL] + [T.TENSOR if isinstance(v.type, T.TensorType) else v.type
                            for v in body_outs[1:]]
        # (unnamed, without source range, the value a unit value: as TorchScript's exit
        # transform makes them)
        first = [self.graph.create("prim::Constant", [], attrs={"value": False},
                                   output_types=[T.BOOL])]
        first += [self.graph.create("prim::Uninitialized", [], output_types=[t])
                  for t in types[1:]]
        for n in first[1:]:
            n.meta[UNIT_VALUE] = True
        outs = []
        for n, t in zip(first, types):
            n.insert_before(node)
            node.add_input(n.output)
            node.blocks[0].add_input(t)
            outs.append(node.add_output(t))
        return LoopReturn(outs[0], outs[1]) if len(outs) == 2 else None


def _bare_bool(v, value):
    """Is v the constant `value` (a bool the exit transform made: no source range)?"""
    n = v.node
    return n.kind == "prim::Constant" and n.attrs.get("value") is value and \
        isinstance(v.type, T.BoolType)


def _name(t):
    """A type as TorchScript's messages spell it (NoneType, int, List[int])."""
    return "NoneType" if isinstance(t, T.NoneType) else t.annotation()
