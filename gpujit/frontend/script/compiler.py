"""The script compiler for functions: Python source -> typed SSA graph.

A variable is an environment entry (name -> Value and the statement that assigned it);
`if` merges the variables its branches change into prim::If outputs, loops carry the
variables their body assigns through prim::Loop. Early exits (`return` in an `if`, `break`,
`continue`) are compiled by moving the statements that follow an `if` into the branches
that do not exit, so that every path ends in one place and its values become block
outputs (the function's return value, or the loop's condition and carried values).
Expressions are ExprCompiler's, statements FunctionCompiler's; call resolution by types is
calls.py.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
import threading

from ...ir import types as T
from ...ir.graph import Graph, SourceRange
from .errors import FrontendError
from ...ops import registry as _reg
from .calls import describe_type
from .exprs import ExprCompiler, Var, Refined, OneBranch, unify, fallback_annotation_type

__all__ = ["compile_function", "FunctionSource"]

MAX_TRIP = 9223372036854775807


class FunctionSource:
    """The function's AST with positions mapped back to its file."""

    def __init__(self, fn):
        try:
            lines, start = inspect.getsourcelines(fn)
        except (OSError, TypeError) as e:
            raise FrontendError(f"cannot script {getattr(fn, '__name__', fn)!r}: its source "
                                f"is not available ({e})",
                                hint="define the function in a .py file (not in exec or "
                                     "the interactive prompt)") from None
        self.filename = inspect.getsourcefile(fn) or "<unknown>"
        self.file_lines = lines
        self.start = start
        text = "".join(lines)
        dedented = textwrap.dedent(text)
        first = next((ln for ln in lines if ln.strip()), "")
        ded_first = next((ln for ln in dedented.splitlines() if ln.strip()), "")
        self.indent = len(first) - len(first.lstrip()) - (len(ded_first) - len(ded_first.lstrip()))
        tree = ast.parse(dedented)
        self.fdef = next(n for n in tree.body
                         if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
        self.name = fn.__name__

    def range(self, node) -> SourceRange:
        line = getattr(node, "lineno", 1)
        text = self.file_lines[line - 1] if 0 < line <= len(self.file_lines) else ""
        return SourceRange(self.filename, line + self.start - 1,
                           getattr(node, "col_offset", 0) + self.indent, text)

    def end_col(self, node):
        if getattr(node, "end_lineno", None) == getattr(node, "lineno", None):
            return node.end_col_offset + self.indent
        return None


RAISED = object()     # a statement list that always raises


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
            if isinstance(f, ast.Attribute) and f.attr in _MUTATORS:
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


def has_exit(s) -> bool:
    """Does a statement (an `if`, recursively) hold a return, break or continue of the
    enclosing function or loop? (Those in a nested loop belong to that loop.)"""
    if isinstance(s, (ast.Return, ast.Break, ast.Continue)):
        return True
    if isinstance(s, ast.If):
        return any(has_exit(c) for c in s.body + s.orelse)
    return False


_UNSUPPORTED_STMTS = {
    ast.With: ("a `with` statement", "move the code out of the `with` block"),
    ast.Try: ("`try`", "check the condition with `if` and `raise` instead"),
    ast.FunctionDef: ("a nested function definition", "define it at module level"),
    ast.ClassDef: ("a class definition inside a function", "define it at module level"),
    ast.Delete: ("`del`", "reassign the variable instead"),
    ast.Global: ("`global`", "pass the value as an argument"),
    ast.Nonlocal: ("`nonlocal`", "pass the value as an argument and return it"),
    ast.Import: ("`import` inside a function", "import at module level"),
    ast.ImportFrom: ("`import` inside a function", "import at module level"),
    ast.AsyncFunctionDef: ("an async function", "use a plain def"),
}


class FunctionCompiler(ExprCompiler):
    """Statements, paths (early exits) and loops, on top of ExprCompiler."""

    # ------------------------------------------------------------------ entry
    def signature(self):
        """([(name, Type)], return Type or None) of the compiled function."""
        return _signature(self.fn, self.src)

    def compile(self, arg_types=None) -> Graph:
        params, ret_type = self.signature()
        fdef = self.src.fdef
        a = fdef.args
        if a.vararg or a.kwarg or a.kwonlyargs:
            node = a.vararg or a.kwarg or a.kwonlyargs[0]
            self.error("scripted functions take positional parameters only; "
                       "*args, **kwargs and keyword-only parameters are not supported",
                       node, hint="list each parameter by name")
        if arg_types is not None:
            if len(arg_types) != len(params):
                raise FrontendError(f"{self.src.name} takes {len(params)} parameters but "
                                    f"{len(arg_types)} argument types were given")
            params = [(n, t) for (n, _), t in zip(params, arg_types)]
        arg_nodes = {x.arg: x for x in a.posonlyargs + a.args}
        for name, t in params:
            v = self.graph.add_input(name, t)
            self.scopes[-1][name] = Var(v, arg_nodes.get(name, fdef))
        self.ret_type = ret_type
        self.cur = self.src.range(fdef)
        outs = self.path(fdef.body, self._function_exit, ["return value"])
        if outs is RAISED:
            t = ret_type or T.NONE
            outs = [self.emit("prim::Uninitialized", [], [t]).output]
        for v in outs:
            self.graph.register_output(v)
        return self.graph

    def _function_exit(self, kind, s):
        if kind == "return":
            if s.value is None:
                v = self.const(None)
            else:
                v = self.expr(s.value)
            where = s
        elif kind == "fall":
            v = self.const(None)
            where = s
        else:
            self.error(f"'{kind}' outside a loop", s)
        if self.ret_type is not None and not v.type.is_subtype_of(self.ret_type) and not (
                isinstance(v.type, T.TensorType) and isinstance(self.ret_type, T.TensorType)):
            what = "falls off its end (returns None)" if kind == "fall" else \
                f"returns {describe_type(v.type)}"
            self.error(f"'{self.src.name}' is declared to return "
                       f"{describe_type(self.ret_type)} but {what}",
                       where if where is not None else self.src.fdef,
                       hint="return a value of the declared type on every path")
        return [v]

    # ------------------------------------------------------------------ paths
    def path(self, stmts, on_exit, slot_names):
        """Compile a statement list into the current block up to the end of every path;
        returns the values on_exit gives for it (or RAISED)."""
        for i, s in enumerate(stmts):
            if isinstance(s, ast.Return):
                with self.at(s):
                    return on_exit("return", s)
            if isinstance(s, ast.Break):
                with self.at(s):
                    return on_exit("break", s)
            if isinstance(s, ast.Continue):
                with self.at(s):
                    return on_exit("continue", s)
            if isinstance(s, ast.If) and has_exit(s):
                return self.if_with_exit(s, stmts[i + 1:], on_exit, slot_names)
            if self.stmt(s) is RAISED:
                return RAISED
        last = stmts[-1] if stmts else None
        with self.at(last if last is not None else self.src.fdef):
            return on_exit("fall", last)

    def if_with_exit(self, s, rest, on_exit, slot_names):
        with self.at(s):
            cond = self.condition(s.test)
            node = self.emit("prim::If", [cond], [])
        results = []
        for body, refs in zip((s.body, s.orelse), self.refinements(s.test)):
            block = node.add_block()
            with self.in_block(block), self.scope():
                self.refine(refs)
                results.append(self.path(list(body) + list(rest), on_exit, slot_names))
        if results[0] is RAISED and results[1] is RAISED:
            return RAISED
        live = results[0] if results[1] is RAISED else results[1]
        types = []
        for k, v in enumerate(live):
            t = v.type
            for r in results:
                if r is not RAISED:
                    u = unify(t, r[k].type)
                    if u is None:
                        name = slot_names[k] if k < len(slot_names) else f"value {k}"
                        self.error(f"the {name} is {describe_type(results[0][k].type)} on "
                                   f"one path and {describe_type(results[1][k].type)} on "
                                   f"another", s,
                                   hint="make every path produce the same type")
                    t = u
            types.append(t)
        for block, r in zip(node.blocks, results):
            if r is RAISED:
                with self.in_block(block):
                    r = [self.emit("prim::Uninitialized", [], [t]).output for t in types]
            for v in r:
                block.register_output(v)
        return [node.add_output(t) for t in types]

    # ------------------------------------------------------------------ statements
    def stmts(self, stmts):
        for s in stmts:
            if isinstance(s, (ast.Return, ast.Break, ast.Continue)) or (
                    isinstance(s, ast.If) and has_exit(s)):
                self.error(f"'{type(s).__name__.lower()}' is not supported here yet",
                           s, hint="restructure so it is not needed (set a variable)")
            if self.stmt(s) is RAISED:
                return RAISED
        return None

    def stmt(self, s):
        with self.at(s):
            m = getattr(self, "stmt_" + type(s).__name__, None)
            if m is None:
                what, hint = _UNSUPPORTED_STMTS.get(type(s), (f"`{type(s).__name__}`", None))
                self.error(f"{what} is not supported in scripted functions", s, hint=hint)
            return m(s)

    def stmt_Pass(self, s):
        return None

    def stmt_Expr(self, s):
        if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            return None                                   # a docstring
        self.expr(s.value)
        return None

    def stmt_Assign(self, s):
        v = self.expr(s.value)
        for t in s.targets:
            self.assign(t, v, s)

    def stmt_AnnAssign(self, s):
        if s.value is None:
            self.error("an annotated name needs a value", s,
                       hint=f"write {ast.unparse(s.target)}: {ast.unparse(s.annotation)} = ...")
        t = self.annotation(s.annotation)
        v = self.expr(s.value, expected=t)
        if not (v.type.is_subtype_of(t) or (isinstance(v.type, T.TensorType)
                                            and isinstance(t, T.TensorType))):
            self.error(f"'{ast.unparse(s.target)}' is annotated {t.annotation()} but "
                       f"assigned {describe_type(v.type)}", s)
        self.assign(s.target, v, s)

    def stmt_AugAssign(self, s):
        if isinstance(s.target, (ast.Attribute, ast.Subscript)):   # self.n += 1, d[k] += 1
            cur = self.expr(s.target)
            rhs = self.expr(s.value)
            v = self.binop(type(s.op), cur, rhs, s, inplace=isinstance(cur.type, T.TensorType))
            self.assign(s.target, v, s)
            return
        if not isinstance(s.target, ast.Name):
            self.error("augmented assignment is supported on plain names only", s,
                       hint=f"write {ast.unparse(s.target)} = {ast.unparse(s.target)} ... ")
        cur = self.lookup(s.target.id, s.target)
        rhs = self.expr(s.value)
        v = self.binop(type(s.op), cur, rhs, s, inplace=isinstance(cur.type, T.TensorType))
        self.assign(s.target, v, s)

    def stmt_If(self, s):
        cond = self.condition(s.test)
        node = self.emit("prim::If", [cond], [])
        branches = []
        refs = self.refinements(s.test)
        for body, r in zip((s.body, s.orelse), refs):
            block = node.add_block()
            with self.in_block(block), self.scope() as frame:
                self.refine(r)
                raised = self.stmts(body) is RAISED
            branches.append((block, frame, raised))
        if branches[0][2] and branches[1][2]:
            return RAISED
        self.merge(node, branches)
        if branches[0][2]:          # `if x is None: raise ...`: x is not None after it
            self.refine(refs[1])
        elif branches[1][2]:
            self.refine(refs[0])

    def merge(self, node, branches):
        """The variables the branches of an `if` assigned become its outputs. A branch
        that always raises gives prim::Uninitialized; a name only one (live) branch
        defines is not visible after the if (OneBranch, an error when used)."""
        names = list(dict.fromkeys([n for _, f, r in branches if not r for n in f
                                    if not isinstance(f[n], Refined)]))
        outs = []
        for name in names:
            outer = self.lookup_var(name)
            vals = [RAISED if raised else frame.get(name, outer)
                    for _, frame, raised in branches]
            live = [v for v in vals if v is not RAISED]
            if not all(isinstance(v, Var) for v in live):
                where = next(v.where for v in live if v is not None)
                self.scopes[-1][name] = OneBranch(where)
                continue
            t = live[0].value.type
            for var in live[1:]:
                u = unify(t, var.value.type)
                if u is None:
                    self.branch_type_error(name, live[0], var)
                t = u
            outs.append((name, vals, t, live[-1].where))
        for name, vals, t, where in outs:
            out = node.add_output(t)
            out.set_debug_name(name)
            self.scopes[-1][name] = Var(out, where)
        for k, (block, _, _) in enumerate(branches):
            for name, vals, t, _ in outs:
                if vals[k] is RAISED:
                    with self.in_block(block):
                        v = self.emit("prim::Uninitialized", [], [t]).output
                else:
                    v = vals[k].value
                block.register_output(v)

    def branch_type_error(self, name, first, second):
        a, b = first.value.type, second.value.type
        fr = self.src.range(first.where)
        text = fr.text.strip() if fr.text else ""
        hint = "give both branches the same type"
        if isinstance(a, T.TensorType) != isinstance(b, T.TensorType):
            hint += f", e.g. {name} = torch.tensor(...)"
        self.error(f"Variable '{name}' is {describe_type(a)} on one branch and "
                   f"{describe_type(b)} on the other; a scripted variable keeps one type.",
                   second.where, note=f"assigned {describe_type(a)} at line {fr.line}: {text}",
                   hint=hint)

    def stmt_Assert(self, s):
        cond = self.condition(s.test)
        node = self.emit("prim::If", [cond], [])
        node.add_block()
        with self.in_block(node.add_block()):
            if s.msg is not None:
                msg = self.message(s.msg)
                if not isinstance(msg.type, T.StrType):
                    self.error("an assert message must be a str", s.msg)
            else:
                msg = self.const(f"assert {ast.unparse(s.test)}")
            self.emit("prim::RaiseException", [msg, self.const("builtins.AssertionError")], [])
        self.refine(self.refinements(s.test)[0])

    def message(self, node):
        """An exception message. An f-string (there is no string formatting in graphs
        yet) becomes its text with the `{...}` fields unevaluated."""
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append(str(v.value))
                else:
                    parts.append("{" + ast.unparse(v.value) + "}")
            return self.const("".join(parts))
        return self.expr(node)

    def stmt_Raise(self, s):
        exc = s.exc
        if exc is None:
            self.error("a bare `raise` is not supported", s,
                       hint="raise a builtin exception, e.g. raise ValueError('...')")
        call = exc if isinstance(exc, ast.Call) else None
        cls_node = call.func if call else exc
        found, cls = self.py_object(cls_node)
        if not (found and isinstance(cls, type) and issubclass(cls, BaseException)
                and cls.__module__ == "builtins"):
            self.error(f"only builtin exceptions can be raised, not "
                       f"'{ast.unparse(cls_node)}'", cls_node,
                       hint="raise ValueError(...), RuntimeError(...), ...")
        args = call.args if call else []
        if len(args) > 1 or (call and call.keywords):
            self.error("a raised exception takes at most one message argument", exc)
        msg = self.message(args[0]) if args else self.const("")
        if not isinstance(msg.type, T.StrType):
            self.error(f"the exception message must be a str, got {describe_type(msg.type)}",
                       args[0], hint="use an f-string or a str constant")
        self.emit("prim::RaiseException", [msg, self.const(f"builtins.{cls.__name__}")], [])
        return RAISED

    # ------------------------------------------------------------------ loops
    def stmt_While(self, s):
        if s.orelse:
            self.error("`while ... else` is not supported", s, hint="use a flag variable")
        cond = self.condition(s.test)
        self.loop(s, self.const(MAX_TRIP), cond, None, s.body,
                  lambda: self.condition(s.test), exclude=())

    def stmt_For(self, s):
        if s.orelse:
            self.error("`for ... else` is not supported", s, hint="use a flag variable")
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
        seq = self.expr(it)
        if isinstance(seq.type, T.DictType):              # for k in d: its keys
            seq = self.emit("aten::keys", [seq], [T.ListType(seq.type.key)]).output
        t = seq.type
        if not isinstance(s.target, ast.Name) and not isinstance(t, T.ListType):
            self.error("unpacking in a for loop target is supported over lists only",
                       s.target, hint="unpack inside the loop body")
        if isinstance(t, T.ClassType):
            return self.unroll(s, self.class_elements(seq, it))
        if isinstance(t, T.TupleType):
            return self.unroll(s, [lambda k=k, et=et: self.emit(
                "prim::TupleIndex", [seq, self.const(k)], [et]).output
                for k, et in enumerate(t.elems)])
        if isinstance(t, T.ListType):
            trip = self.emit("aten::len", [seq], [T.INT], op=_reg.OPS["aten::len.t"]).output

            def elem(i):
                return self.emit("aten::__getitem__", [seq, i], [t.elem]).output
        elif isinstance(t, T.TensorType):
            trip = self.scalar("len", seq, node=s.iter)

            def elem(i):
                return self.call_op("select", [seq, self.const(0), i], {}, s.iter)
        else:
            self.error(f"cannot iterate over {describe_type(t)}", it,
                       hint="iterate over range(...), a list, a tuple or a tensor")
        self.loop(s, trip, self.const(True), elem, s.body, None,
                  exclude=tuple(_targets(s.target)))

    def for_range(self, s, call):
        if not isinstance(s.target, ast.Name):
            self.error("the target of a for loop over range must be a name", s.target)
        args = [self.expr(a) for a in call.args]
        if call.keywords or not 1 <= len(args) <= 3 or \
                not all(isinstance(a.type, T.IntType) for a in args):
            self.error("range() takes one to three int arguments", call)
        if len(args) == 1:
            self.loop(s, args[0], self.const(True), None, s.body, None,
                      exclude=(s.target.id,), index_name=s.target.id)
            return
        start, stop = args[0], args[1]
        step = 1
        if len(args) == 3:
            step = self.const_int(call.args[2])
            if not step:
                self.error("range() with a step needs a nonzero int constant step",
                           call.args[2], hint="write range(a, b, 2) with a literal step")
        sub = lambda a, b: self.scalar("sub", a, b)     # noqa: E731
        span = sub(stop, start) if step > 0 else sub(start, stop)
        k = abs(step)
        trip = span if k == 1 else self.scalar(
            "floordiv", self.scalar("add", span, self.const(k - 1)), self.const(k))

        def elem(i):
            off = i if step == 1 else self.scalar("mul", i, self.const(step))
            return self.scalar("add", start, off)
        self.loop(s, trip, self.const(True), elem, s.body, None, exclude=(s.target.id,))

    def unroll(self, s, elems):
        if any(isinstance(n, (ast.Break, ast.Continue, ast.Return))
               for c in s.body for n in ast.walk(c)):
            self.error("break, continue and return are not supported yet in a loop over a "
                       "tuple (it is unrolled)", s, hint="set a flag variable instead")
        for make in elems:
            with self.at(s.iter):
                v = make()
            self.assign(s.target, v, s)
            if self.stmts(s.body) is RAISED:
                return RAISED

    def loop(self, s, trip, cond, elem, body, cond_after, exclude, index_name=None):
        carried = [n for n in assigned_names(body)
                   if n not in exclude and isinstance(self.lookup_var(n), Var)]
        init = [self.lookup_var(n) for n in carried]
        types = [T.TENSOR if isinstance(v.value.type, T.TensorType) else v.value.type
                 for v in init]
        node = self.emit("prim::Loop", [trip, cond] + [v.value for v in init], [])
        block = node.add_block()
        i = block.add_input(T.INT, index_name or "i")
        names = ["loop condition"] + carried

        def on_exit(kind, st):
            if kind == "return":
                self.error("`return` inside a loop is not supported yet", st,
                           hint="store the result in a variable, `break`, and return "
                                "after the loop")
            c = self.const(False) if kind == "break" else (
                cond_after() if cond_after else self.const(True))
            vals = [c]
            for n, t, v0 in zip(carried, types, init):
                var = self.lookup_var(n)
                if not isinstance(var, Var):
                    self.error(f"'{n}' is not defined on every path of the loop body", st)
                if unify(t, var.value.type) != t:
                    self.error(f"Variable '{n}' is {describe_type(t)} before the loop and "
                               f"{describe_type(var.value.type)} in its body; a scripted "
                               f"variable keeps one type.", var.where,
                               note=f"assigned before the loop at line "
                                    f"{self.src.range(v0.where).line}",
                               hint="give it the same type before and inside the loop")
                vals.append(var.value)
            return vals

        with self.in_block(block), self.scope() as frame:
            for n, t, v0 in zip(carried, types, init):
                frame[n] = Var(block.add_input(t, n), v0.where)
            if elem is not None:
                with self.at(s.iter if isinstance(s, ast.For) else s):
                    self.assign(s.target, elem(i), s)
            elif index_name is not None:
                frame[index_name] = Var(i, s)
            outs = self.path(list(body), on_exit, names)
            if outs is RAISED:
                outs = [self.const(False)] + [
                    self.emit("prim::Uninitialized", [], [t]).output for t in types]
            for v in outs:
                block.register_output(v)
        for n, t, v0 in zip(carried, types, init):
            out = node.add_output(t)
            out.set_debug_name(n)
            self.scopes[-1][n] = Var(out, v0.where)
        for n in assigned_names(body):
            if n not in carried and n not in exclude and self.lookup_var(n) is None:
                self.scopes[-1][n] = OneBranch(s, "loop")
        for n in exclude:
            self.scopes[-1][n] = OneBranch(s, "loopvar")

    # ------------------------------------------------------------------ assignment
    def assign(self, target, v, stmt):
        if isinstance(target, ast.Name):
            if not v.has_debug_name() and v.node.kind != "prim::Param":
                v.set_debug_name(target.id)
            self.scopes[-1][target.id] = Var(v, stmt)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            n = len(target.elts)
            if any(isinstance(e, ast.Starred) for e in target.elts):
                self.error("starred unpacking is not supported", target,
                           hint="unpack each element by position")
            t = v.type
            if isinstance(t, T.TupleType):
                if len(t.elems) != n:
                    self.error(f"cannot unpack a tuple of {len(t.elems)} values into {n} "
                               f"names", target)
                outs = self.emit("prim::TupleUnpack", [v], list(t.elems)).outputs
            elif isinstance(t, T.ListType):
                outs = self.emit("prim::ListUnpack", [v], [t.elem] * n).outputs
            else:
                self.error(f"cannot unpack {describe_type(t)}", target,
                           hint="unpack a tuple or a list")
            for e, o in zip(target.elts, outs):
                self.assign(e, o, stmt)
            return
        if isinstance(target, ast.Attribute):
            found, _ = self.py_object(target.value)
            if not found:
                obj = self.expr(target.value)
                if isinstance(obj.type, T.ClassType):
                    self.class_setattr(obj, target.attr, v, target)
                    return
        if isinstance(target, ast.Subscript) and self.set_item(target, v, stmt):
            return
        if isinstance(target, ast.Subscript):
            self.error("assigning to an element or slice is not supported yet", target,
                       hint="build a new value, e.g. with gpujit.where(...) or torch.cat")
        self.error(f"cannot assign to `{ast.unparse(target)}` in a scripted function",
                   target)


def _signature(fn, src):
    """[(name, Type)], return Type or None: types.signature_types when it exists."""
    try:
        from .types import signature_types
    except ImportError:
        signature_types = None
    if signature_types is not None:
        return signature_types(fn)
    sig = inspect.signature(fn)
    comment = _type_comment(src)
    if comment is not None:
        if len(comment[0]) != len(sig.parameters):
            raise FrontendError(f"the `# type:` comment of '{src.name}' lists "
                                f"{len(comment[0])} parameter types for "
                                f"{len(sig.parameters)} parameters", src.range(src.fdef))
        params = [(n, fallback_annotation_type(a, fn.__globals__, src))
                  for n, a in zip(sig.parameters, comment[0])]
        return params, fallback_annotation_type(comment[1], fn.__globals__, src)
    params = []
    for p in sig.parameters.values():
        ann = p.annotation
        t = T.TENSOR if ann is inspect.Parameter.empty else \
            fallback_annotation_type(ann, fn.__globals__, src)
        params.append((p.name, t))
    ret = sig.return_annotation
    rt = None if ret is inspect.Signature.empty else \
        fallback_annotation_type(ret, fn.__globals__, src)
    return params, rt


def _type_comment(src):
    """([param annotation strs], return annotation str) of a `# type: (int) -> Tensor`
    comment on the line after the def, or None."""
    body_line = src.fdef.body[0].lineno if src.fdef.body else src.fdef.lineno + 1
    for line in src.file_lines[src.fdef.lineno:body_line]:
        s = line.strip()
        if s.startswith("# type:"):
            sig = s[len("# type:"):].strip()
            params, _, ret = sig.partition("->")
            inner = params.strip()[1:-1]
            return calls_split(inner), ret.strip() or "None"
    return None


def calls_split(text):
    """Split 'int, Tuple[Tensor, Tensor]' on top-level commas."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "[("
        depth -= ch in "])"
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


_CALLEES = threading.local()      # the functions being compiled, outermost first, and a cache


def compile_callee(fn, call_range, caller) -> Graph:
    """The graph of a plain Python function called from scripted code, compiled with its
    own signature types (once per outermost compile). Recursion is an error: a scripted
    function cannot call itself (there is no recursion in graphs)."""
    fn = inspect.unwrap(fn)
    stack = getattr(_CALLEES, "stack", None)
    if stack and any(f is fn for f in stack):
        names = " -> ".join(f.__name__ for f in stack + [fn])
        raise FrontendError(f"'{fn.__name__}' is called recursively ({names}); scripted "
                            f"functions cannot be recursive", call_range,
                            hint="rewrite the recursion as a loop")
    cache = getattr(_CALLEES, "cache", None)
    hit = cache.get(fn) if cache is not None else None
    if hit is not None:
        return hit
    g = compile_function(fn)
    if cache is not None:
        cache[fn] = g
    return g


def compile_function(fn, arg_types=None, make_compiler=None) -> Graph:
    """See _compile_function; keeps the stack of functions being compiled (recursive
    calls are errors) and the cache of callee graphs of the outermost compile."""
    fn = inspect.unwrap(fn)
    stack = getattr(_CALLEES, "stack", None)
    outermost = not stack
    if outermost:
        _CALLEES.stack, _CALLEES.cache = [], {}
    _CALLEES.stack.append(fn)
    try:
        return _compile_function(fn, arg_types, make_compiler)
    finally:
        _CALLEES.stack.pop()
        if outermost:
            _CALLEES.stack, _CALLEES.cache = None, None


def _compile_function(fn, arg_types=None, make_compiler=None) -> Graph:
    """The graph of a Python function, compiled from its source (FrontendError for a
    program that cannot be compiled). arg_types: the parameter types, overriding the
    signature's. make_compiler(fn, src): a FunctionCompiler subclass instance (methods of
    modules)."""
    fn = inspect.unwrap(fn)
    src = FunctionSource(fn)
    c = (make_compiler or FunctionCompiler)(fn, src)
    try:
        return c.compile(arg_types)
    except FrontendError:
        raise
    except RecursionError:
        raise FrontendError(f"'{src.name}' is nested too deeply to compile",
                            src.range(src.fdef)) from None
    except Exception as e:        # a compiler bug: still show the user's line, no traceback
        raise FrontendError(f"gpujit could not compile this line of '{src.name}' (internal "
                            f"error {type(e).__name__}: {e}; please report it)",
                            c.cur or src.range(src.fdef)) from e
