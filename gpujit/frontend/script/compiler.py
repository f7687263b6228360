"""The script compiler for functions: Python source -> typed SSA graph.

A variable is an environment entry (name -> Value and the statement that assigned it);
`if` merges the variables its branches change into prim::If outputs, loops carry the
variables their body assigns through prim::Loop. Early exits (`return`, `break`,
`continue` in an `if`) are compiled by moving the statements that follow an `if` into the
branches that do not exit, so that every path ends in one place and its values become block
outputs (the function's return value, or the loop's condition and carried values); a loop
whose body returns carries a "returned" flag and the value out of it (loops.py).
Expressions are ExprCompiler's, statements FunctionCompiler's (assignments, assert and
raise: statements.py), loops loops.py's; call
resolution by types is calls.py; objects of script classes and NamedTuples are class_values.py's,
calls decided by the Python object called (@ignore, is_scripting(), classes) object_exprs.py's.
An annotated local (`y: int = n`) keeps its type: rebinding it to another type is an error.
An `if` on `torch.jit.is_scripting()` compiles only the branch scripted code takes.
`with gpujit.strict_fusion():` is the only `with`: a prim::Enter / prim::Exit region that
the fusion step checks (runtime/fusion.py).
"""
from __future__ import annotations

import ast
import inspect
import threading

from ...ir import types as T
from ...ir.graph import Graph, SourceRange
from ...passes.cleanup import run_cleanup_passes
from ...passes.canonicalize_loops import canonicalize_modified_loops
from ...passes.raise_exits import transform_raise_exits
from .statements import WIDENING_CAST
from . import sources
from .errors import FrontendError, NotSupportedError
from .calls import describe_type
from .function_calls import as_int_coded
from .exprs import ExprCompiler, Var, Refined, OneBranch, PyAlias, unify
from .class_values import ClassValueMixin
from .object_exprs import ObjectExprMixin
from .enums import EnumMixin
from .future_calls import compile_closure_def
from .with_stmts import WithMixin
from .ignore_blocks import IgnoreBlockMixin
from .statements import StatementMixin
from .loops import LoopMixin, RAISED, PENDING, LoopReturn, UnrolledTarget, has_exit, \
    leaves_function
from . import static_eval
from .torch_names import meaningful, name_like_torch, snapshot

__all__ = ["compile_function", "FunctionSource"]


class _BranchEnd:
    """A pseudo-statement of compiler.path: the end of an if branch's own statements (what
    follows is the code after the if, compiled on that branch's path)."""
    __slots__ = ()


class _Unrefine:
    """A pseudo-statement of compiler.path: the end of an if branch's refinement (what
    follows the if, compiled on that branch's path, reads the variables unnarrowed)."""
    __slots__ = ("refined",)

    def __init__(self, refined):
        self.refined = refined


class FunctionSource:
    """The function's AST with positions mapped back to its file."""

    def __init__(self, fn):
        try:
            lines, start, dedented, tree = sources.parsed(fn)
        except (OSError, TypeError) as e:
            raise FrontendError(f"cannot script {getattr(fn, '__name__', fn)!r}: its source "
                                f"is not available ({e})",
                                hint="define the function in a .py file (not in exec or "
                                     "the interactive prompt)") from None
        self.filename = inspect.getsourcefile(fn) or "<unknown>"
        self.file_lines = lines
        self.start = start
        first = next((ln for ln in lines if ln.strip()), "")
        ded_first = next((ln for ln in dedented.splitlines() if ln.strip()), "")
        self.indent = len(first) - len(first.lstrip()) - (len(ded_first) - len(ded_first.lstrip()))
        # (tree: None for a lambda inside an expression spanning its lines)
        self.fdef = next((n for n in (tree.body if tree is not None else ())
                          if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
        if self.fdef is None:        # a lambda (`sq = lambda x: x * x`): TorchScript's words
            raise FrontendError(f"Expected a single top-level function: "
                                f"{self.filename}:{start}",
                                hint="define the function with def")
        self.name = fn.__name__

    def range(self, node) -> SourceRange:
        node = _unparenthesized(node)
        line = getattr(node, "lineno", 1)
        text = self.file_lines[line - 1] if 0 < line <= len(self.file_lines) else ""
        span = None
        if getattr(node, "end_lineno", None) is not None:
            try:
                end = _op_end(node)
                span = (end[0] + self.start - 1, end[1] + self.indent,
                        self.start, self.start + len(self.file_lines) - 1)
            except (TypeError, AttributeError, ValueError):
                span = None         # (only the run-time report's underline: never fatal)
        return SourceRange(self.filename, line + self.start - 1,
                           getattr(node, "col_offset", 0) + self.indent, text, self.name,
                           span)

    def end_col(self, node):
        if getattr(node, "end_lineno", None) == getattr(node, "lineno", None):
            return node.end_col_offset + self.indent
        return None

    def torch_span(self, *nodes):
        """Where TorchScript's source range of a statement made of `nodes` (the statement,
        then its expressions) ends, and the lines of the function: (end line, end column,
        first line, last line) in the file. torch's range of a tree is its keyword's or
        token's merged with its subtrees' (a str literal's ends one character before its
        closing quote, a call's at its last argument), what its error highlights."""
        end = max(_torch_end(n) for n in nodes if n is not None)
        return (end[0] + self.start - 1, end[1] + self.indent, self.start,
                self.start + len(self.file_lines) - 1)


def _op_end(node):
    """(line, column) where torch's range of an operation ends, as its interpreter's
    traceback underlines a failed op: a call at its callee (`torch.mm`, `x.view`), a
    subscript one past its index (`x[10]`; `d["k"]` one short of its `]`, as torch's str
    literal ends before its closing quote), another expression as _torch_end."""
    if isinstance(node, ast.Call):
        return node.func.end_lineno, node.func.end_col_offset
    if isinstance(node, ast.Subscript):
        line, col = max(_torch_end(node.value), _torch_end(node.slice))
        return line, col + 1
    if not isinstance(node, ast.expr):      # (a statement: where it ends)
        return node.end_lineno, node.end_col_offset
    return _torch_end(node)


def _torch_end(node):
    """(line, column) where torch's frontend (torch/jit/frontend.py) ends the range of an
    ast node, in the node's own coordinates: a keyword statement's is the keyword's
    merged with its expressions' (raise / assert: `len("raise")` past its start)."""
    if isinstance(node, ast.Raise):
        return max((node.lineno, node.col_offset + 5),
                   *(_torch_end(e) for e in (node.exc,) if e is not None))
    if isinstance(node, ast.Assert):
        return max((node.lineno, node.col_offset + 6),
                   *(_torch_end(e) for e in (node.test, node.msg) if e is not None))
    if isinstance(node, ast.Constant):
        v = node.value
        n = len(v) + 1 if isinstance(v, str) else len(str(v))
        return node.lineno, node.col_offset + n
    if isinstance(node, (ast.Name, ast.Attribute)) or not isinstance(node, ast.expr):
        return node.end_lineno, node.end_col_offset
    if isinstance(node, ast.JoinedStr):     # "...".format(args): the literal's first char
        parts = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    elif isinstance(node, ast.Call):
        parts = [node.func, *node.args, *(k.value for k in node.keywords)]
    else:
        parts = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
    if isinstance(node, (ast.JoinedStr, ast.List, ast.Tuple, ast.Set, ast.Dict)):
        parts.append(ast.Constant(value="", lineno=node.lineno, col_offset=node.col_offset))
    if not parts:
        return node.end_lineno, node.end_col_offset
    return max(_torch_end(p) for p in parts)


def _unparenthesized(node):
    """The node whose start is an expression's start as TorchScript's parser places it:
    its ranges do not take in parentheses, so `(x + 1) * 2` and `(x + 1).relu()` start at
    `x` (Python's ast starts them at the `(`): the leftmost operand's start, where a
    parenthesis comes before it."""
    start = getattr(node, "lineno", None), getattr(node, "col_offset", None)
    cur = node
    while True:
        left = _LEFTMOST.get(type(cur))
        if left is None:
            break
        child = left(cur)
        if getattr(child, "lineno", None) is None:
            break
        cur = child
    if cur is node or (cur.lineno, cur.col_offset) == start:
        return node
    return cur


_LEFTMOST = {ast.BinOp: lambda n: n.left, ast.Compare: lambda n: n.left,
             ast.BoolOp: lambda n: n.values[0], ast.Attribute: lambda n: n.value,
             ast.Subscript: lambda n: n.value, ast.Call: lambda n: n.func,
             ast.IfExp: lambda n: n.body}


_UNSUPPORTED_STMTS = {
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


# the compilers whose graphs take torch's value names (torch_names.py): functions and
# modules' methods
_REPLAYED = frozenset({"FunctionCompiler", "ModuleMethodCompiler"})


class FunctionCompiler(StatementMixin, EnumMixin, IgnoreBlockMixin, WithMixin, LoopMixin,
                       ObjectExprMixin, ClassValueMixin, ExprCompiler):
    """Statements and paths (early exits), on top of ExprCompiler; loops (loops.py); objects of
    script classes and NamedTuples (class_values.py), calls decided by the Python object called
    (object_exprs.py: @ignore'd functions, is_scripting(), classes)."""

    signature_from = None     # an @_overload declaration whose signature the body takes

    def __init__(self, fn, src):
        super().__init__(fn, src)
        self.declared = {}         # annotated local name -> its declared Type
        self.narrowed = {}         # a value cast to its variable's declared Union -> the value
        self.tuple_parts = {}      # TupleConstruct Value (an unrolled element) -> parts
        self.callee_calls = {}     # id(statement) -> (statement, calls statement_raises reads)

    # ------------------------------------------------------------------ entry
    def signature(self):
        """([(name, Type)], return Type or None) of the compiled function."""
        return _signature(self.signature_from or self.fn, self.src)

    def compile(self, arg_types=None) -> Graph:
        fdef = self.src.fdef
        if isinstance(fdef, ast.AsyncFunctionDef):
            self.error(f"'{self.src.name}' is an async function (`async def`); scripted "
                       f"functions cannot be async or use await", fdef,
                       hint="use a plain def")
        a = fdef.args
        if a.vararg or a.kwarg or any(d is not None for d in a.kw_defaults):
            # (TorchScript's own refusal, in its words)
            node = a.vararg or a.kwarg or a.kwonlyargs[0]
            what = (f"*{a.vararg.arg}" if a.vararg else f"**{a.kwarg.arg}" if a.kwarg else
                    f"keyword-only {a.kwonlyargs[0].arg}=...")
            self.error("Compiled functions can't take variable number of arguments or use "
                       f"keyword-only arguments with defaults ({what})", node,
                       hint="list each parameter by name", cls=NotSupportedError)
        params, ret_type = self.signature()
        if arg_types is not None:
            if len(arg_types) != len(params):
                raise FrontendError(f"{self.src.name} takes {len(params)} parameters but "
                                    f"{len(arg_types)} argument types were given")
            params = [(n, t) for (n, _), t in zip(params, arg_types)]
        arg_nodes = {x.arg: x for x in a.posonlyargs + a.args + a.kwonlyargs}
        self.graph.kwarg_only = len(a.kwonlyargs)     # (passed by name only)
        from .signatures import broadcast_lengths, inferred_tensor_params
        lengths = broadcast_lengths(self.fn)
        if lengths:     # BroadcastingList2[int] parameters: input index -> n
            self.graph.broadcast = {i: lengths[name] for i, (name, _) in enumerate(params)
                                    if name in lengths}
        inferred = inferred_tensor_params(self.signature_from or self.fn)
        if inferred:    # unannotated Tensor parameters (for the argument type error)
            self.graph.inferred = frozenset(i for i, (name, t) in enumerate(params)
                                            if name in inferred and t == T.TENSOR)
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
        if ret_type is not None and len(outs) == 1:
            self.graph.return_type = ret_type   # (the schema's; dropped where the same)
        # TorchScript's cleanup when it scripts a function (passes/cleanup.py): what
        # nothing uses and that has no effect goes (`a = s.index("x"); return 1` keeps no
        # aten::index), simple tuples are read through, constants of immutable types fold
        # (`3 + 4` is 7, `if 1 < 2:` keeps its taken block) and are pooled
        # (before it, as TorchScript's ir_emitter: a for loop that can exit early becomes
        # the while loop TorchScript's .graph and .code show)
        # (and before it, its exit transform: what follows a raise is dropped)
        named = type(self).__name__ in _REPLAYED and self.signature_from is None and \
            arg_types is None
        at = snapshot(self.graph) if named else None
        drop_widening_casts(self.graph)
        if self.graph.return_type is not None and \
                self.graph.return_type == self.graph.outputs[0].type:
            self.graph.return_type = None
        transform_raise_exits(self.graph)
        canonicalize_modified_loops(self.graph)
        run_cleanup_passes(self.graph)
        if named:
            # torch's value names and numbers (%x.1, %5), where its frontend's history
            # can be replayed (torch_names.py)
            name_like_torch(self.graph, self.src, self.fn, at,
                            method=type(self).__name__ == "ModuleMethodCompiler",
                            module=getattr(self, "sm", None))
        return self.graph

    def _function_exit(self, kind, s, value=None):
        """The function's return value on a path that ends in `return` (value: one
        already computed, by a loop the return left) or falls off the end."""
        if kind == "return":
            v = value if value is not None else self.return_value(s)
        elif kind == "fall":
            with self.at(self.src.fdef):    # (TorchScript's implicit None: the def's range)
                v = self.const(None)
        else:
            self.error(f"'{kind}' outside a loop", s)
        v = self.implicit_conversion(v, self.ret_type)
        self.check_return(v, s, kind)
        if isinstance(self.ret_type, (T.UnionType, T.AnyType)) and v.type != self.ret_type:
            # `return 1` / `return "a"`; under `-> Any` each path's value is an Any (as
            # TorchScript unifies them), whatever its own type
            v = self.as_declared(v, self.ret_type)
        return [v]

    def return_value(self, s):
        """The returned expression, compiled with the declared return type as its type
        hint (as TorchScript's emitReturn): `-> Optional[List[int]]: return []`,
        `-> List[float]: return x.tolist()`."""
        if s.value is None:
            v = self.const(None)
        else:
            v = self.expr(s.value, expected=getattr(self, "ret_type", None))
        if not hasattr(self, "return_sites"):
            self.return_sites = {}
        self.return_sites[v] = s        # (where a return of another type is refused)
        return v

    def check_return(self, v, where, kind):
        """A returned value must have the declared return type (if one is declared); a
        path that falls off the end is refused unless that type is None, even where None
        is a value of it (TorchScript's handleMaybeNoReturn: `-> Optional[int]` too)."""
        falls = kind == "fall" and self.ret_type is not None and \
            not isinstance(self.ret_type, T.NoneType)
        if falls or self.ret_type is not None and not v.type.is_subtype_of(self.ret_type) and not (
                isinstance(v.type, T.TensorType) and isinstance(self.ret_type, T.TensorType)) \
                and not as_int_coded(v.type).is_subtype_of(as_int_coded(self.ret_type)):
            what = "falls off its end (returns None)" if kind == "fall" else \
                f"returns {describe_type(v.type)}"
            said = ("Function was not annotated as having type None, but does not return "
                    "along all paths: ") if kind == "fall" else (   # TorchScript's words first
                f"Return value was annotated as having type {self.ret_type.annotation()} but "
                f"is actually of type {v.type.annotation()}: ")
            self.error(f"{said}'{self.src.name}' is declared to return "
                       f"{describe_type(self.ret_type)} but {what}",
                       where if where is not None else self.src.fdef,
                       hint="return a value of the declared type on every path")

    # ------------------------------------------------------------------ paths
    def path(self, stmts, on_exit, slot_names):
        """Compile a statement list into the current block up to the end of every path;
        returns the values on_exit gives for it (or RAISED). What follows an `if` that
        exits, or a loop that returns, is compiled on the paths that go on."""
        stmts = list(stmts)
        i = -1
        while i + 1 < len(stmts):
            i += 1
            s = stmts[i]
            if self.fold_static_if(stmts, i):
                i -= 1
                continue
            if isinstance(s, UnrolledTarget):
                self.bind_unrolled(s)
                continue
            if isinstance(s, _Unrefine):
                self.unrefine(s.refined)
                continue
            if isinstance(s, _BranchEnd):
                continue
            if isinstance(s, ast.Return):
                if self.statement_raises(s):
                    # `return dropped(x)`: the call raises, the return is never reached
                    # (TorchScript's exit transform drops it)
                    with self.at(s):
                        self.return_value(s)
                    return RAISED
                with self.at(s):
                    return on_exit("return", s)
            if isinstance(s, (ast.Break, ast.Continue)):
                self.check_unreachable(stmts[i + 1:])
                with self.at(s):
                    return on_exit("break" if isinstance(s, ast.Break) else "continue", s)
            if isinstance(s, ast.If) and has_exit(s, self.statement_raises):
                return self.if_with_exit(s, stmts[i + 1:], on_exit, slot_names)
            if isinstance(s, ast.With) and has_exit(s, self.statement_raises):
                with self.at(s):
                    return self.with_exit(s, stmts[i + 1:], on_exit, slot_names)
            r = self.stmt(s)
            if r is RAISED:
                return RAISED
            if isinstance(r, LoopReturn):
                return self.after_loop_return(s, r, stmts[i + 1:], on_exit, slot_names)
            if isinstance(r, list):          # an unrolled loop that returns (loops.unroll)
                return self.path(r + stmts[i + 1:], on_exit, slot_names)
        last = stmts[-1] if stmts else None
        with self.at(last if isinstance(last, ast.AST) else self.src.fdef):
            return on_exit("fall", last if isinstance(last, ast.AST) else None)

    def check_unreachable(self, stmts):
        """Statements after a `break` / `continue`: compiled, so their errors are raised,
        and thrown away, as TorchScript compiles them before its exit transform drops them
        (torch 2.13: `break; x = self.agg(x)` with agg None is 'cannot call a value of type
        'NoneType''). What follows a `return` or `raise` is not compiled, as there."""
        ends = [k for k, st in enumerate(stmts) if isinstance(st, _BranchEnd)]
        stmts = stmts[:ends[0]] if ends else stmts      # (the if's own branch only)
        if not stmts:
            return
        with self.at(stmts[0]):
            holder = self.emit("prim::If", [self.const(False)], [])
        with self.in_block(holder.add_block()), self.scope() as frame:
            self.path(stmts, self._unreachable_exit, [])
        for name, var in frame.items():
            # a variable keeps its type there too ('Variable 's' previously had type int
            # but is now being assigned to a value of type float')
            outer = self.lookup_var(name)
            if isinstance(var, Var) and not isinstance(var, Refined) and \
                    isinstance(outer, Var) and not (
                    isinstance(outer.value.type, T.TensorType) and
                    isinstance(var.value.type, T.TensorType)) and \
                    unify(outer.value.type, var.value.type) != outer.value.type:
                self.branch_type_error(name, outer, var, outer=outer)
        holder.destroy()

    def _unreachable_exit(self, kind, s, value=None):
        if kind == "return":            # (its value still checked against the declared type)
            v = value if value is not None else self.return_value(s)
            self.check_return(self.implicit_conversion(v, self.ret_type), s, kind)
        return RAISED

    def if_with_exit(self, s, rest, on_exit, slot_names):
        with self.at(s):
            cond = self.if_condition(s.test)
            node = self.emit("prim::If", [cond], [])
        results = []
        bodies = (s.body, s.orelse)
        for k, refs in enumerate(self.refinements(s.test)):
            block = node.add_block()
            with self.in_block(block), self.scope():
                self.refine(refs)
                body = list(bodies[k]) + [_BranchEnd()]
                if refs and not leaves_function(bodies[1 - k]):
                    # the branch's refinement holds in its body only: what follows the if
                    # is narrowed only where the other branch returns or raises
                    # (TorchScript's refinements after an if; `if x is None: continue`
                    # leaves x Optional after it, torch 2.13)
                    body.append(_Unrefine({n: self.lookup_var(n) for n in refs}))
                results.append(self.path(body + list(rest), on_exit, slot_names))
        return self.merge_paths(node, results, s, slot_names)

    def unrefine(self, refined):
        """Undo refine()'s narrowing of the named variables that still hold it (a variable
        assigned since keeps its value): each is read again as the value it narrowed."""
        for name, var in refined.items():
            if not isinstance(var, Refined) or self.lookup_var(name) is not var:
                continue
            outer = next((f[name] for f in reversed(self.scopes)
                          if name in f and f[name] is not var), None)
            if isinstance(outer, Var):
                self.scopes[-1][name] = Refined(outer.value, outer.where)
            elif name in self.scopes[-1]:
                del self.scopes[-1][name]

    def merge_paths(self, node, results, s, slot_names):
        """The outputs of a prim::If whose two blocks end paths: per slot, the one type of
        what the live paths give (an error if none); a path that raised gives
        prim::Uninitialized, and so does a loop-body path for the return value it does not
        have (PENDING; a slot PENDING on every path stays PENDING)."""
        live = [r for r in results if r is not RAISED]
        if not live:
            return RAISED
        types = []
        for k in range(len(live[0])):
            t = None
            for r in live:
                if r[k] is PENDING:
                    continue
                u = r[k].type if t is None else unify(t, r[k].type)
                if u is None:
                    name = slot_names[k] if k < len(slot_names) else f"value {k}"
                    if name == "return value":
                        # PyTorch's words first, at the later return statement (as torch)
                        site = getattr(self, "return_sites", {}).get(r[k], s)
                        self.error(f"Previous return statement returned a value of type "
                                   f"{t.annotation()} but this return statement returns a "
                                   f"value of type {r[k].type.annotation()}: the return "
                                   f"value is {describe_type(t)} on one path and "
                                   f"{describe_type(r[k].type)} on another", site,
                                   hint="make every path produce the same type")
                    self.error(f"the {name} is {describe_type(t)} on one path and "
                               f"{describe_type(r[k].type)} on another", s,
                               hint="make every path produce the same type")
                t = u
            types.append(t)
        for block, r in zip(node.blocks, results):
            with self.in_block(block):
                for k, t in enumerate(types):
                    if t is None:
                        continue
                    if r is RAISED or r[k] is PENDING:
                        v = self.unit_value(t)
                    else:
                        v = r[k]
                    block.register_output(v)
        return [PENDING if t is None else node.add_output(t) for t in types]

    # ------------------------------------------------------------------ statements
    def fold_static_ifs(self, stmts):
        """An `if` whose test is known at compile time (`if not torch.jit.is_scripting():`)
        is replaced by the branch scripted code runs; the other is never compiled. (A look
        ahead at a statement list: a test on a variable is decided when reached, by
        fold_static_if, as the variable's type there may differ.)"""
        out = []
        for s in stmts:
            if isinstance(s, ast.If):
                v, prefix = static_eval.static_condition_and_prefix(self, s.test, names=False)
                if v is not None:
                    if prefix is not None:      # (`if v or True:`: v still runs)
                        out.append(ast.copy_location(ast.Expr(value=prefix), s))
                    out.extend(self.fold_static_ifs(s.body if v else s.orelse))
                    continue
            out.append(s)
        return out

    def fold_static_if(self, stmts, i):
        """stmts[i], reached now, an `if` decided at compile time (`if x is None:` with x
        a Tensor, `if not torch.jit.is_scripting():`): replaced in place by the branch
        that runs; True when it was."""
        s = stmts[i]
        if not isinstance(s, ast.If):
            return False
        v, prefix = static_eval.static_condition_and_prefix(self, s.test)
        if v is None:
            return False
        first = [ast.copy_location(ast.Expr(value=prefix), s)] if prefix is not None else []
        stmts[i:i + 1] = first + (s.body if v else s.orelse)
        return True

    def stmts(self, stmts):
        stmts = list(stmts)
        i = -1
        dropped = False
        while i + 1 < len(stmts):
            i += 1
            if self.fold_static_if(stmts, i):
                i -= 1
                continue
            s = stmts[i]
            if isinstance(s, ast.Return) and not dropped and self.statement_raises(s):
                with self.at(s):        # (`return dropped(x)`: a raise, as in path())
                    self.return_value(s)
                return RAISED
            exits = isinstance(s, (ast.Return, ast.Break, ast.Continue)) or (
                isinstance(s, (ast.If, ast.For, ast.While)) and
                has_exit(s, self.statement_raises))
            if exits and dropped:
                # after a call of an @unused function (a raise): the exit is compiled and
                # dropped (TorchScript's exit transform drops what follows the raise;
                # the statements before this one stay, for passes/raise_exits.py)
                self.check_unreachable(stmts[i:])
                return None
            if exits:
                what = "a `return` inside a loop" if isinstance(s, (ast.For, ast.While)) \
                    else f"'{type(s).__name__.lower()}'"
                self.error(f"{what} is not supported here yet",
                           s, hint="restructure so it is not needed (set a variable)")
            if self.stmt(s) is RAISED:
                return RAISED
            dropped = dropped or self.statement_raises(s)
        return None

    def statement_raises(self, s) -> bool:
        """Does the statement always raise, as TorchScript's exit transform sees it: an
        expression statement or assignment that calls an @unused (ignore(drop=True))
        function or method outside a branch of a conditional expression (the call is a
        prim::RaiseException in the statement's own block)."""
        if not isinstance(s, (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign,
                              ast.Return)) or s.value is None:
            return False
        # (asked again for each enclosing if's has_exit: the calls that could name an
        # @unused function, `f(x)` or `self.f(x)`, are found once per statement)
        hit = self.callee_calls.get(id(s))
        if hit is None or hit[0] is not s:
            hit = self.callee_calls[id(s)] = (s, tuple(
                c for c in _unconditional_calls(s.value)
                if isinstance(c.func, ast.Name) or (
                    isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Name)
                    and c.func.value.id == "self")))
        return any(self.calls_dropped(c) for c in hit[1])

    def calls_dropped(self, call) -> bool:
        from ...jit.script import function_modifier
        f = call.func
        obj = None
        if isinstance(f, ast.Name) and self.lookup_var(f.id) is None:
            obj = self.closure.get(f.id, self.fn.__globals__.get(f.id))
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and \
                f.value.id == "self" and getattr(self, "sm", None) is not None:
            info = self.ctx.info.get(id(self.sm))     # (a module's method: self.helper(x))
            if info is not None:
                obj = inspect.getattr_static(type(info.module), f.attr, None)
        return inspect.isfunction(obj) and function_modifier(obj) == "drop"

    def stmt(self, s):
        with self.at(s):
            m = getattr(self, "stmt_" + type(s).__name__, None)
            if m is None:
                what, hint = _UNSUPPORTED_STMTS.get(type(s), (f"`{type(s).__name__}`", None))
                self.error_unsupported_node(f"{what} is not supported in scripted functions",
                                            s, hint=hint)
            return m(s)

    def stmt_Pass(self, s):
        return None

    def stmt_FunctionDef(self, s):          # a local function to fork (future_calls.py)
        return compile_closure_def(self, s)

    def stmt_Expr(self, s):
        if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            return None                                   # a docstring
        self.statement_call = s.value       # (print(x) as a statement: builtin_print)
        v = self.expr(s.value)
        n = getattr(v, "node", None)
        if n is not None and n.kind == "prim::TupleConstruct" and not n.inputs and \
                not v.uses:
            n.destroy()         # (a void method's value: container_methods.void_value)
        return None

    def stmt_If(self, s):
        cond = self.if_condition(s.test)
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
        defines is not visible after the if (OneBranch, an error when used). A variable a
        branch narrows (`if x is not None:`, isinstance) is assigned there too, as
        TorchScript's insertRefinements stores the cast: the if outputs it (the cast on
        that branch, the variable on the other; dead-code elimination drops the output
        where nothing after the if reads it)."""
        names = list(dict.fromkeys([n for _, f, r in branches if not r for n in f
                                    if not isinstance(f[n], Refined) or (
                                        "." not in n and
                                        isinstance(self.lookup_var(n), Var))]))
        outs = []
        for name in names:
            outer = self.lookup_var(name)
            vals = [RAISED if raised else frame.get(name, outer)
                    for _, frame, raised in branches]
            own = [v if v is RAISED else self.assigned_value(v) for v in vals]
            if own != vals and _unified([v.value.type for v in own
                                         if isinstance(v, Var)]) is not None:
                vals = own      # (else the annotated type: Union[int, float] of int, float)
            live = [v for v in vals if v is not RAISED]
            if not all(isinstance(v, Var) for v in live):
                deleted = [v for v in live if isinstance(v, OneBranch) and (
                    v.why == "del" or isinstance(v.why, tuple))]    # del, or a type mismatch
                where = next(v.where for v in live if v is not None)
                if any(isinstance(v, PyAlias) for v in live):
                    deleted = [OneBranch(where, "sugared")]   # (no value to merge)
                # (the branch that leaves it undefined, for TorchScript's words)
                missing = "false" if len(vals) > 1 and not isinstance(vals[1], Var) \
                    else "true"
                self.scopes[-1][name] = deleted[0] if deleted else \
                    OneBranch(where, "if-" + missing)
                continue
            if isinstance(outer, Var):
                # a variable defined before the if keeps its type there: what a branch
                # assigns must be of it, as TorchScript's setSugaredVar checks against the
                # enclosing frame's type (torch 2.13: `y = None` then `y = x` in the if,
                # "Variable 'y' previously had type NoneType but is now being assigned to a
                # value of type int"; `y = 3` (or `y: Optional[int] = None; y = 3`) then
                # `y = None`, "... previously had type int ... type NoneType"; so in a
                # branch narrowed by `if y is not None`); annotate `y: Optional[int] = 3`
                # to widen it
                before = self.assigned_value(outer)
                for var, mine in zip(vals, own):
                    if var is RAISED or var is outer or isinstance(var, Refined) or \
                            not isinstance(mine, Var):
                        continue
                    t = mine.value.type
                    if not (t.is_subtype_of(before.value.type) or (
                            isinstance(t, T.TensorType) and
                            isinstance(before.value.type, T.TensorType))):
                        self.branch_type_error(name, before, mine, before)
            t = live[0].value.type
            for var in live[1:]:
                u = unify(t, var.value.type)
                if u is None and all(isinstance(v, Refined) or v is outer for v in live):
                    u = outer.value.type   # (narrowed each way: the variable's own type)
                if u is None and not isinstance(outer, Var) and len(vals) == 2:
                    # a name new in both branches: an error only where it is used after
                    # the if (TorchScript's words)
                    self.scopes[-1][name] = OneBranch(var.where, ("mismatch", live[0], var))
                    break
                if u is None:
                    first, second = (var, live[0]) if var is outer else (live[0], var)
                    if isinstance(outer, Var) and first is not outer and \
                            unify(outer.value.type, second.value.type) is None:
                        first = outer       # reassigned with another type than before the if
                    self.branch_type_error(name, first, second, outer)
                t = u
            else:
                outs.append((name, vals, t, live[-1].where))
        for name, vals, t, where in outs:
            out = node.add_output(t)
            if meaningful(name):
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

    def assigned_value(self, var):
        """The variable as a branch of an `if` leaves it: a value assigned to an annotated
        Optional / Union variable in the branch is its own type there (as_declared's cast
        undone, self.narrowed), as TorchScript's If outputs unify the values' own types:
        `x: Optional[int] = None` then `if x is None: x = 5` leaves x an int after the
        if (the false branch refines it), and `if c: x = 4 else: x = 5` too."""
        if isinstance(var, Var) and not isinstance(var, Refined):
            narrow = self.narrowed.get(var.value)
            if narrow is not None:
                return Var(narrow, var.where)
        return var

    def branch_type_error(self, name, first, second, outer=None, used=None):
        a, b = first.value.type, second.value.type
        fr = self.src.range(first.where)
        text = fr.text.strip() if fr.text else ""
        hint = "give both branches the same type"
        if isinstance(a, T.TensorType) != isinstance(b, T.TensorType):
            hint += f", e.g. {name} = torch.tensor(...)"
        if first is outer:          # defined before the if, reassigned inside it
            msg = (f"Variable '{name}' previously had type {a.annotation()} but is now "
                   f"being assigned to a value of type {b.annotation()}")
            if isinstance(a, T.ListType) and text.endswith("[]"):
                hint = ("empty lists default to List[Tensor]; annotate the empty list, "
                        f"e.g. {name}: List[int] = []")
        else:
            # (torch 2.13's words first, its type names: 'Tensor (inferred)' for a
            # parameter left unannotated)
            msg = (f"Type mismatch: {name} is set to type {self.shown_type(first.value)} in "
                   f"the true branch and type {self.shown_type(second.value)} in the false "
                   f"branch: '{name}' is {describe_type(a)} on one branch and "
                   f"{describe_type(b)} on the other; a scripted variable keeps one type.")
        self.error(msg, second.where, note=f"assigned {describe_type(a)} at line {fr.line}: {text}",
                   hint=hint, used=used)

def drop_widening_casts(graph):
    """The prim::unchecked_casts to an annotated variable's or the return's wider declared
    type (statements.as_declared) that only give an if's branch or a loop's carried value
    its value: the block gives the value itself, the If / Loop output having the declared
    type, as TorchScript's graph has it (`if c: y: Optional[int] = x`, `.code` `y :
    Optional[int] = x`; `return "a"` under `-> Union[int, str]`; `while ...: c = n` of
    `c: Optional[int]`); the None of `c: Optional[T] = None` is a NoneType constant where
    its uses allow. (Other uses keep the cast: the graph's outputs type the function's
    schema.)"""
    for n in [n for n in graph.walk() if n.kind == "prim::Constant" and
              n.meta.get(WIDENING_CAST) and not n.attrs]:
        # `c: Optional[Tensor] = None`: TorchScript's None literal, a NoneType constant
        # (at the literal's column), that an if's or a loop's outputs of the declared
        # type take as it is and `c is None` reads (pooled with that test's None)
        out = n.output
        if all(u.user.kind in ("aten::__is__", "aten::__isnot__") or
               u.user.kind == "prim::Loop" and u.offset >= 2 or
               u.user.kind == "prim::Return" and u.user.owning_block is not None and
               getattr(u.user.owning_block.owning_node, "kind", None) in (
                   "prim::If", "prim::Loop") and
               _carried_offset(u) is not None
               for u in out.uses):
            out.type = T.NONE
            if n.meta[WIDENING_CAST] is not True:
                n.source_range = n.meta[WIDENING_CAST]
    for n in [n for n in graph.walk() if n.kind == "prim::unchecked_cast" and
              n.meta.get(WIDENING_CAST)]:
        v = n.inputs[0]
        out = n.output
        if out.uses and v.type.is_subtype_of(out.type) and all(
                u.user.kind == "prim::Return" and u.user.owning_block is not None and (
                    u.user.owning_block is graph.block and graph.return_type is not None
                    and out.type.is_subtype_of(graph.return_type) or
                    getattr(u.user.owning_block.owning_node, "kind", None) in (
                        "prim::If", "prim::Loop") and _carried_offset(u) is not None and
                    out.type.is_subtype_of(
                        u.user.owning_block.owning_node.outputs[_carried_offset(u)].type))
                for u in out.uses):
            out.replace_all_uses_with(v)
            n.destroy()


def _carried_offset(use):
    """The output of the If / Loop that a block's return at use gives (its index), or None
    (a loop's continue condition)."""
    owner = use.user.owning_block.owning_node
    if owner.kind == "prim::If":
        return use.offset
    return use.offset - 1 if use.offset >= 1 else None


def _unconditional_calls(e):
    """The calls an expression always makes (not those in a branch of `a if c else b`, the
    right operands of `and` / `or`, comprehensions or lambdas)."""
    if isinstance(e, ast.Call):
        yield e
    if isinstance(e, ast.IfExp):
        yield from _unconditional_calls(e.test)
        return
    if isinstance(e, ast.BoolOp):
        yield from _unconditional_calls(e.values[0])
        return
    if isinstance(e, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return
    for c in ast.iter_child_nodes(e):
        if isinstance(c, ast.expr):
            yield from _unconditional_calls(c)


def _unified(types):
    """unify() of all the types (None when some pair does not unify, or one is missing)."""
    if not types:
        return None
    t = types[0]
    for u in types[1:]:
        t = unify(t, u)
        if t is None:
            return None
    return t


def _signature(fn, src):
    """[(name, Type)], return Type or None of fn (see signatures.signature_types)."""
    from .signatures import signature_types
    return signature_types(fn)


def recursion_message(name, chain):
    """TorchScript's words for a scripted function that calls itself (chain: the calls
    that lead back to it, "f -> g -> f")."""
    return (f"function '{name}' is called recursively. Recursive calls are not "
            f"supported: {chain}; scripted functions cannot be recursive")


def compiling_function_named(name):
    """The function of that name being compiled (the outermost compile's stack of
    callees), or None: `@script def f(): ... f(n - 1)` names f before the decorator has
    bound it, so the name is undefined in f's globals yet means f itself."""
    for f in reversed(getattr(_CALLEES, "stack", None) or []):
        if getattr(f, "__name__", None) == name:
            return f
    return None


_CALLEES = threading.local()      # the functions being compiled, outermost first, and a cache


def compile_callee(fn, call_range, caller, signature_from=None) -> Graph:
    """The graph of a plain Python function called from scripted code, compiled with its
    own signature types, or those of `signature_from` (an @_overload declaration of it),
    once per outermost compile. Recursion is an error: a scripted function cannot call
    itself (there is no recursion in graphs)."""
    fn = inspect.unwrap(fn)
    stack = getattr(_CALLEES, "stack", None)
    if stack and any(f is fn for f in stack):
        names = " -> ".join(f.__name__ for f in stack + [fn])
        raise FrontendError(recursion_message(fn.__name__, names), call_range,
                            hint="rewrite the recursion as a loop")
    cache = getattr(_CALLEES, "cache", None)
    key = fn if signature_from is None else (fn, signature_from)
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        return hit
    g = compile_function(fn, make_compiler=None if signature_from is None else
                         overload_compiler(signature_from))
    if cache is not None:
        cache[key] = g
    return g


def overload_compiler(decl, make=None):
    """make_compiler for compile_function: `make` (default FunctionCompiler) whose
    compiler takes the parameter and return types of overload declaration `decl`."""
    def compiler(fn, src):
        c = (make or FunctionCompiler)(fn, src)
        c.signature_from = decl
        return c
    return compiler


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
