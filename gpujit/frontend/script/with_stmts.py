"""`with` statements in scripted code (FunctionCompiler's mixin):

- `with gpujit.strict_fusion():`, `with torch.no_grad():`, `with torch.enable_grad():`:
  a region between prim::Enter and prim::Exit nodes named so (strict_fusion must run
  fused once the graph is optimized, runtime/fusion.py checks it; the grad regions run
  with gradient recording off / on, as eager code);
- `with torch.autocast(...):` (and torch.amp / torch.cuda.amp / torch.cpu.amp's
  autocast): a region between prim::Enter / prim::Exit named "autocast"; the autocast
  pass (passes/autocast.py) casts the ops it covers (autocast_regions.py);
- `with obj:` / `with obj as x:` over an object of a script class that defines
  `__enter__(self)` and `__exit__(self, type: Any, value: Any, tb: Any)`, as TorchScript
  takes it: `x = obj.__enter__()` when the block is entered and `obj.__exit__(None, None,
  None)` on every path that leaves it (its end, a return, break or continue, also
  inside an `if` or loop of the block).

A return, break or continue inside an `if` or a loop of a region's block (no_grad,
enable_grad, autocast, strict_fusion) is compiled as TorchScript's exit transform does:
the body's paths end at the block's end with a flag per way out, the region closes there
(one prim::Exit, in the block of its prim::Enter, so `.code` prints the `with` and a saved
model loads back), then the exit is taken (regions_exit_flags).

When a body raises, the executors unwind its open regions (grad mode and autocast state
restored, entered objects' __exit__ called) before the exception leaves the call."""
from __future__ import annotations

import ast
import inspect
import typing

from ...ir import types as T
from ...ir.python_printer import RECORD_FUNCTION_REGION
from ...runtime.objects import OBJECT_REGION
from .calls import describe_type
from .classes import script_class_of
from .errors import FrontendError
from .loops import has_exit, has_return, own_loop_exits, assigned_names, RAISED, PENDING
from .variables import Var, OneBranch
from .autocast_regions import AutocastMixin, AUTOCAST, OBJECT_META

__all__ = ["WithMixin"]


class WithMixin(AutocastMixin):
    """FunctionCompiler's `with` (self is the compiler)."""

    def stmt_With(self, s):
        """A `with` whose body has no return, break or continue of its own."""
        if self.is_ignore_block(s):
            return self.ignore_block(s)
        entered = self.enter_regions(s)
        if self.stmts(s.body) is RAISED:
            return RAISED
        self.exit_regions(s, entered)
        return None

    def with_exit(self, s, rest, on_exit, slot_names):
        """A `with` whose body returns, breaks or continues: each path that leaves the
        block closes it first (its regions' prim::Exit, its objects' __exit__ calls).
        When every exit is a statement of the block itself (`return` as its last
        statement), the block closes where the path ends; an exit nested in an `if` or a
        loop of the block closes a named region (no_grad, autocast...) that way too only
        if `.code` could print it: it cannot print a region closed inside a nested block,
        so such a block is compiled with its exits turned into flags (regions_exit_flags)."""
        if self.is_ignore_block(s):
            self.ignore_block(s)            # (raises: such a block cannot return)
        body = self.fold_static_ifs(s.body)
        last = body[-1] if body else None
        nested = next((c for c in body[:-1] if has_exit(c)), None) or (
            last if not isinstance(last, (ast.Return, ast.Break, ast.Continue)) else None)
        if nested is not None and any(self._region_name(i.context_expr) is not None
                                      or self.autocast_region(i.context_expr) is not None
                                      or _names_record_function(self, i.context_expr)
                                      for i in s.items):
            return self.regions_exit_flags(s, body, rest, on_exit, slot_names)
        entered = self.enter_regions(s)

        def leave(kind, st, value=None):
            if kind == "return" and value is None:
                with self.at(st):
                    value = self.return_value(st)
            self.exit_regions(s, entered)
            if kind == "fall":
                return self.path(list(rest), on_exit, slot_names)
            return on_exit(kind, st, value)
        return self.path(list(body), leave, slot_names)

    def regions_exit_flags(self, s, body, rest, on_exit, slot_names):
        """A `with` over regions whose body leaves it from inside an `if` or a loop, as
        TorchScript's exit transform compiles it: every path of the body ends at the
        block's end with a flag per way out (returned, broke, continued) set, the return
        value, and the variables the body assigns (block outputs); the regions close once
        there, in the block that opened them; then `if returned: return <value> elif
        broke: break elif continued: continue else: <the rest>`."""
        kinds = ([k for k in ("return",) if has_return(body)] +
                 [k for k in ("break", "continue")
                  if any(type(e).__name__.lower() == k for e in own_loop_exits(body))])
        names = [n for n in assigned_names(body)]
        slots = [f"{k} flag" for k in kinds] + (["return value"] if "return" in kinds
                                                 else []) + names
        seen = {}           # kind -> names defined on every path of that kind
        where = {}          # name -> the AST node that assigned it (on some path)
        ret_type = getattr(self, "ret_type", None)

        def leave(kind, st, value=None):
            if kind == "return":
                if value is None:
                    with self.at(st):
                        value = self.return_value(st)
                if ret_type is not None:
                    value = self.implicit_conversion(value, ret_type)
                    self.check_return(value, st, kind)
            vals = [self.const(kind == k) for k in kinds]
            if "return" in kinds:
                vals.append(value if kind == "return" else PENDING)
            defined = set()
            for n in names:
                var = self.lookup_var(n)
                if kind != "return" and isinstance(var, Var):
                    vals.append(var.value)
                    defined.add(n)
                    where.setdefault(n, var.where)
                else:
                    vals.append(PENDING)
            seen[kind] = seen[kind] & defined if kind in seen else defined
            return vals

        entered = self.enter_regions(s)
        with self.scope():
            outs = self.path(list(body), leave, slots)
        if outs is RAISED:
            return RAISED
        self.exit_regions(s, entered)
        flags = dict(zip(kinds, outs))
        for k, v in flags.items():
            if v is not PENDING and v.node.kind == "prim::If":
                v.set_debug_name(_FLAG_NAMES[k])
        value = outs[len(kinds)] if "return" in kinds else None
        merged = dict(zip(names, outs[len(outs) - len(names):]))
        order = [k for k in kinds + ["fall"] if k in seen]

        def take(kind):
            for n in names:
                if n in seen[kind] and merged[n] is not PENDING:
                    merged[n].set_debug_name(n)
                    self.scopes[-1][n] = Var(merged[n], where[n])
                elif self.lookup_var(n) is None:
                    self.scopes[-1][n] = OneBranch(s)
            if kind == "fall":
                return self.path(list(rest), on_exit, slot_names)
            with self.at(s):
                return on_exit(kind, s, value if kind == "return" else None)

        def dispatch(k):
            if k == len(order) - 1:         # the one way out left
                return take(order[k])
            with self.at(s):
                node = self.emit("prim::If", [flags[order[k]]], [])
            results = []
            with self.in_block(node.add_block()), self.scope():
                results.append(take(order[k]))
            with self.in_block(node.add_block()), self.scope():
                results.append(dispatch(k + 1))
            return self.merge_paths(node, results, s, slot_names)
        return dispatch(0)

    def enter_regions(self, s):
        """Enter the items of `with` s in order: a region's prim::Enter, an object's
        __enter__ (bound to its `as` target). Returns per item the region name or the
        object Value, for exit_regions."""
        entered = []
        for item in s.items:
            ctx = item.context_expr
            spec = self.autocast_region(ctx)
            label = self.record_function_label(ctx) if spec is None else None
            if label is not None:
                if item.optional_vars is not None and not self._never_read(item.optional_vars):
                    self.error(f"`with {ast.unparse(ctx)} as "
                               f"{ast.unparse(item.optional_vars)}:` binds the profiler "
                               f"range, which scripted code does not have", item.optional_vars,
                               hint=f"drop `as {ast.unparse(item.optional_vars)}`")
                with self.at(ctx):
                    self.emit("prim::Enter", [label], [],
                              attrs={"name": RECORD_FUNCTION_REGION})
                if item.optional_vars is not None:
                    # (`as rf` that nothing reads, as users write it: bound, to None)
                    with self.at(item.optional_vars):
                        self.assign(item.optional_vars, self.const(None), s)
                entered.append(RECORD_FUNCTION_REGION)
                continue
            region = AUTOCAST if spec is not None else self._region_name(ctx)
            if region is not None:
                # `with torch.no_grad() as g:`: its __enter__ returns None, what g is (as
                # in TorchScript); autocast's would be its object, which gpujit has not
                binds_none = region in ("no_grad", "enable_grad", "strict_fusion")
                if item.optional_vars is not None and not binds_none:
                    why = ("is not supported in scripted code (the autocast object cannot "
                           "be bound)" if spec is not None else
                           "binds the region's object, which scripted code does not have")
                    self.error(f"`with {ast.unparse(ctx)} as "
                               f"{ast.unparse(item.optional_vars)}:` {why}",
                               item.optional_vars,
                               hint=f"drop `as {ast.unparse(item.optional_vars)}`")
                spec = dict(spec or {})
                kept = spec.pop(OBJECT_META, None)
                with self.at(ctx):
                    node = self.emit("prim::Enter", [], [], attrs={"name": region, **spec})
                if kept is not None:
                    node.meta[OBJECT_META] = kept
                if item.optional_vars is not None:
                    with self.at(item.optional_vars):
                        self.assign(item.optional_vars, self.const(None), s)
                entered.append(region)
                continue
            with self.at(ctx):
                try:
                    obj = self.expr(ctx)
                except FrontendError as e:
                    self._unsupported_with(s, ctx, str(e).split("\n", 1)[0])
                sc = self._context_manager_class(obj, ctx, s)
                v = self.object_method_call(obj, sc, "__enter__", _method_call(ctx, "__enter__"))
                # entered: if what follows raises, the executors call its __exit__ (as
                # TorchScript's interpreter unwinds), then raise again
                self.emit("prim::Enter", [obj], [], attrs={"name": OBJECT_REGION})
            if item.optional_vars is not None:
                self.assign(item.optional_vars, v, s)
            entered.append(obj)
        return entered

    def exit_regions(self, s, entered):
        with self.at(s):
            for e in reversed(entered):
                if isinstance(e, str):
                    self.emit("prim::Exit", [], [], attrs={"name": e})
                    continue
                sc = script_class_of(e.type)
                self.emit("prim::Exit", [e], [], attrs={"name": OBJECT_REGION})
                call = _method_call(s.items[0].context_expr, "__exit__",
                                    [ast.Constant(value=None)] * 3)
                self.object_method_call(e, sc, "__exit__", call)

    def _unsupported_with(self, s, ctx, why):
        what = ", ".join(ast.unparse(i.context_expr) for i in s.items)
        self.error(f"a `with` statement is not supported in scripted functions (here `with "
                   f"{what}:`: {why}); scripted code has `with gpujit.strict_fusion():`, "
                   f"`with torch.no_grad():`, `with torch.enable_grad():` and `with obj:` "
                   f"over an object of a script class that defines __enter__ and __exit__",
                   ctx, hint="move the code out of the `with` block")

    def _context_manager_class(self, obj, ctx, s):
        """The ScriptClass of a `with` object, checked as TorchScript checks it."""
        sc = script_class_of(obj.type)
        enter = sc.python_method("__enter__") if sc is not None else None
        exit_ = sc.python_method("__exit__") if sc is not None else None
        if enter is None or exit_ is None:
            kind = f"class '{sc.name}'" if sc is not None else describe_type(obj.type)
            self._unsupported_with(s, ctx, f"{kind} does not define __enter__ and __exit__ "
                                           f"methods")
        if len(inspect.signature(enter).parameters) != 1:
            self.error("__enter__ must have only one argument and one return value", ctx)
        params = list(inspect.signature(exit_).parameters.values())
        if len(params) != 4:
            self.error("__exit__ must have four arguments and no return value", ctx)
        for k, p in enumerate(params[1:], 1):
            if p.annotation is not inspect.Parameter.empty and \
                    not _is_any(p.annotation, exit_):
                self.error(f"argument {k} of __exit__ must have Any type; __exit__ does "
                           f"not support catching exceptions", ctx)
        graph = sc.method_graph("__exit__", self, ctx)
        if any(not isinstance(o.type, T.NoneType) for o in graph.outputs):
            self.error("__exit__ must have four arguments and no return value", ctx)
        return sc

    def _never_read(self, target) -> bool:
        """Is `as <target>` a plain name the function never reads?"""
        if not isinstance(target, ast.Name):
            return False
        fdef = getattr(self.src, "fdef", None)
        return fdef is not None and not any(
            isinstance(n, ast.Name) and n.id == target.id and isinstance(n.ctx, ast.Load)
            for n in ast.walk(fdef))

    def record_function_label(self, expr):
        """The name Value of `with torch.autograd.profiler.record_function(name):` (or
        torch.profiler.record_function), else None. TorchScript's profiler ranges: the
        region opens one around its body when a profiler runs."""
        from ...autograd.profiler import record_function
        if not (isinstance(expr, ast.Call) and isinstance(expr.func, (ast.Name, ast.Attribute))):
            return None
        found, obj = self.py_object(expr.func)
        if not found or obj is not record_function:
            return None
        if len(expr.args) + len(expr.keywords) not in (1, 2) or len(expr.args) > 2 or \
                any(k.arg not in ("name", "args") for k in expr.keywords):
            self.error("record_function() takes a name and, optionally, args", expr)
        bound = dict(zip(("name", "args"), expr.args), **{k.arg: k.value
                                                          for k in expr.keywords})
        if "name" not in bound:
            self.error("record_function() needs a name", expr)
        if "args" in bound and not (isinstance(bound["args"], ast.Constant)
                                    and bound["args"].value is None):
            self.error("record_function(name, args) in scripted code: args must be None",
                       bound["args"])
        v = self.expr(bound["name"])
        if not isinstance(v.type, T.StrType):
            self.error(f"record_function() takes a str name, not {describe_type(v.type)}",
                       bound["name"])
        return v

    def _region_name(self, expr):
        """strict_fusion / no_grad / enable_grad for `with` of that call, else None."""
        from ...fusers import strict_fusion
        from ...autograd import no_grad, enable_grad
        if not (isinstance(expr, ast.Call) and not expr.args and not expr.keywords
                and isinstance(expr.func, (ast.Name, ast.Attribute))):
            return None
        found, obj = self.py_object(expr.func)
        names = {strict_fusion: "strict_fusion", no_grad: "no_grad",
                 enable_grad: "enable_grad"}
        return names.get(obj) if found else None


def _names_record_function(c, expr) -> bool:
    from ...autograd.profiler import record_function
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, (ast.Name, ast.Attribute))):
        return False
    found, obj = c.py_object(expr.func)
    return found and obj is record_function


_FLAG_NAMES = {"return": "returned", "break": "broke", "continue": "continued"}


def _is_any(ann, fn) -> bool:
    if isinstance(ann, str):
        return ann in ("Any", "typing.Any") or fn.__globals__.get(ann) is typing.Any
    return ann is typing.Any


def _method_call(where, name, args=()):
    """An AST call `<obj>.<name>(*args)` located at where (object_method_call reads its
    arguments from it; the object itself is given as a Value)."""
    call = ast.Call(func=ast.Attribute(value=ast.Name(id="_", ctx=ast.Load()), attr=name,
                                       ctx=ast.Load()), args=list(args), keywords=[])
    for n in ast.walk(call):
        ast.copy_location(n, where)
        n.end_lineno, n.end_col_offset = where.end_lineno, where.end_col_offset
    return call
