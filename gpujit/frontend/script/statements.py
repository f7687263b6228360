"""FunctionCompiler's assignment statements (`=`, annotated `x: T = v`, `+=`, unpacking,
attribute and item targets: a variable keeps its declared type), `assert` and `raise`."""
from __future__ import annotations

import ast

from ...ir import types as T
from ...passes.alias_analysis import TORCH_FRESH_RESULT
from .calls import describe_type
from .errors import FrontendError, NotSupportedError, UnsupportedNodeError
from .classes import script_class_of
from .exprs import Var
from .variables import ExceptionVar, NoneResult, OneBranch, PyAlias, Refined
from .loops import RAISED
from . import static_eval
from .torch_names import meaningful

__all__ = ["StatementMixin"]


# what basic indexing makes of a Tensor: views of it (x[0], x[:, 1], x[None], x[...])
_VIEW_KINDS = frozenset({"aten::select", "aten::slice", "aten::unsqueeze", "aten::alias"})


def _view_of(v, base) -> bool:
    """Is v base itself, or a chain of basic-indexing views of it?"""
    while not _same_read(v, base):
        if v.node is None or v.node.kind not in _VIEW_KINDS or not v.node.inputs:
            return False
        v = v.node.inputs[0]
    return True


def _same_read(v, base) -> bool:
    """v is base, or both read one attribute of one object (`self.counts[i] += 1` reads
    self.counts for the box and again for the target)."""
    while v is not base:
        n, m = v.node, base.node
        if n is None or m is None or n.kind != "prim::GetAttr" or m.kind != "prim::GetAttr" \
                or n.attrs.get("name") != m.attrs.get("name"):
            return False
        v, base = n.inputs[0], m.inputs[0]
    return True


# node.meta key of a prim::unchecked_cast as_declared made (to a wider declared type)
WIDENING_CAST = "widening_cast"
# node.meta key of a prim::RaiseException: what TorchScript's error shows of its statement
# (FunctionSource.torch_span)
RAISE_SPAN = "raise_span"


class StatementMixin:
    """Assignment, assert and raise statements (self is the FunctionCompiler)."""

    def stmt_Assign(self, s):
        if self.autocast_assign(s):         # `on = torch.autocast(...)`, for `with on:`
            return
        if len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) and \
                isinstance(s.value, ast.Call) and self.exception_class(s.value.func):
            # `e = ValueError("bad")`, raised later by `raise e` (TorchScript's exception
            # message value)
            msg, cls = self.exception_message(s.value)
            self.scopes[-1][s.targets[0].id] = ExceptionVar(msg, cls, s)
            return
        if all(isinstance(t, ast.Name) for t in s.targets) and (
                self.is_print_call(s.value) or isinstance(s.value, ast.Name) and
                isinstance(self.lookup_var(s.value.id), NoneResult)):
            # `y = print(x)`, `z = y`: names may hold print's None result (TorchScript's
            # NoneValue), which is no value elsewhere
            if not isinstance(s.value, ast.Name):
                self.stmt_Expr(ast.copy_location(ast.Expr(value=s.value), s))
            for t in s.targets:
                self.scopes[-1][t.id] = NoneResult(s)
            return
        obj = self.sugared_object(s.value)
        if obj is not None and all(isinstance(t, ast.Name) for t in s.targets):
            # `backend = TorchJitBackend`, `g = torch.relu`: the name holds the object
            for t in s.targets:
                self.bind_sugared(t, obj, s)
            return
        v = self.expr(s.value, expected=self.empty_literal_hint(s))
        for t in s.targets:
            self.assign(t, v, s)

    def sugared_object(self, node):
        """The Python object a name or attribute expression names when it is no value (a
        module, a class, a function: what TorchScript keeps as a sugared value), else
        None (a graph value: a number, a str, a dtype, a tensor, a local variable)."""
        import inspect
        from ... import dtypes as _dt
        from ...device import device as _device
        from ...tensor import Tensor
        if not isinstance(node, (ast.Name, ast.Attribute)):
            return None
        try:
            found, obj = self.py_object(node)
        except FrontendError:
            return None                  # (the expression's own path reports it)
        if not found or obj is None or isinstance(obj, (
                bool, int, float, str, tuple, list, dict, Tensor, _dt.dtype,
                _dt.MissingDtype, _dt.layout, _device)):
            return None
        return obj if inspect.ismodule(obj) or inspect.isclass(obj) or callable(obj) \
            else None

    def bind_sugared(self, target, obj, stmt):
        """Bind the name to the Python object in this block, as TorchScript's
        setSugaredVar, which refuses it for a name an enclosing block defines (torch
        2.13's words)."""
        name = target.id
        if any(name in frame for frame in self.scopes[:-1]):
            self.error(f"Cannot re-assign '{name}' to a value of type {sugared_kind(obj)} "
                       f"because {name} is not a first-class value.  Only reassignments to "
                       f"first-class values are allowed", target,
                       hint=f"assign '{name}' once, in the block that uses it")
        self.declared.pop(name, None)
        self.scopes[-1][name] = PyAlias(obj, stmt)

    def is_print_call(self, node):
        """Is node a call of the builtin print?"""
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == "print" and self.is_builtin("print")

    def empty_literal_hint(self, s):
        """`x = []` in a block (an if branch, a loop body) for a variable of an enclosing
        block: the literal takes the variable's list type (Optional stripped), as
        TorchScript types it from the outer variable (`if x is None: x = []` for
        `x: Optional[List[int]]`); None for anything else: a `[]` bound in the
        variable's own block is a List[Tensor], and `d = {}` stays a Dict[str, Tensor]
        ("Variable 'd' previously had type Dict[str, int]..."), as torch 2.13's."""
        if len(s.targets) == 1 and static_eval.empty_literal(s.value) and isinstance(
                s.targets[0], (ast.Subscript, ast.Attribute)):
            return self.item_or_attribute_hint(s.targets[0])
        if not (len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) and
                isinstance(s.value, ast.List) and not s.value.elts):
            return None
        name = s.targets[0].id
        own = self.scopes[-1].get(name)
        if own is not None and not isinstance(own, Refined) and \
                own.value not in self.block.inputs:
            return None                       # (rebinding in its own block; a loop body's
            # carried variable is the enclosing block's: `beams = []` in a beam search)
        v = self.enclosing_value(name)
        if v is None:
            return None
        t = self.declared.get(name) or v.type
        if isinstance(t, T.OptionalType):
            t = t.elem
        return t if isinstance(t, T.ListType) else None

    def item_or_attribute_hint(self, target):
        """The type an empty literal stored by `d[k] = []`, `xs[i] = {}` or `self.cache =
        []` takes: the container's element (value) type, the attribute's declared type
        (as `xs.append([])` and `d.setdefault(k, [])` type theirs; TorchScript makes it
        a List[Tensor] and refuses the store). None where nothing is known."""
        t = None
        if isinstance(target, ast.Subscript):
            c = None
            if isinstance(target.value, ast.Name):
                var = self.lookup_var(target.value.id)
                c = var.value.type if isinstance(var, Var) else None
            elif isinstance(target.value, ast.Attribute) and \
                    isinstance(target.value.value, ast.Name):      # self.d[k] = []
                c = self.declared_attribute(target.value.value.id, target.value.attr)
            if isinstance(c, T.OptionalType):
                c = c.elem
            t = c.elem if isinstance(c, T.ListType) else \
                c.value if isinstance(c, T.DictType) else None
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            t = self.declared_attribute(target.value.id, target.attr)
        if isinstance(t, T.OptionalType):
            t = t.elem
        return t if isinstance(t, (T.ListType, T.DictType, T.SetType)) else None

    def declared_attribute(self, base, name):
        """The declared type of `base.name`: an attribute of a script class object, or
        of the module (attribute_hint), else None."""
        var = self.lookup_var(base)
        sc = script_class_of(var.value.type) if isinstance(var, Var) else None
        if sc is not None:
            return sc.type.attributes.get(name)
        return self.attribute_hint(base, name)

    def attribute_hint(self, base, name):
        """The declared type of attribute `name` of the variable `base` (a module's
        compiler answers for `self`), else None."""
        return None

    def stmt_AnnAssign(self, s):
        if s.value is None:
            # (TorchScript's UnsupportedNodeError and words)
            self.error("annotated assignments without assigned value aren't supported: "
                       "an annotated name needs a value", s, cls=UnsupportedNodeError,
                       hint=f"write {ast.unparse(s.target)}: {ast.unparse(s.annotation)} = ...")
        if isinstance(s.target, ast.Name) and s.target.id not in self.scopes[-1] and \
                any(s.target.id in frame for frame in self.scopes[:-1]):
            self.error(f"Attempting to declare and annotate the type of variable "
                       f"'{s.target.id}' but it is already defined in an outer block", s,
                       hint=f"annotate '{s.target.id}' where it is first assigned")
        t = self.annotation(s.annotation)
        if isinstance(t, T.UnionType) and isinstance(
                s.value, (ast.List, ast.ListComp, ast.Dict, ast.DictComp)):
            v = self.union_container_literal(t, s.value, s)
        else:
            v = self.expr(s.value, expected=t)
        if isinstance(s.target, ast.Attribute) and not self.py_object(s.target.value)[0]:
            obj = self.expr(s.target.value)
            sc = script_class_of(obj.type)
            if sc is not None:
                # `self.x: List[int] = []` in __init__: TorchScript takes the annotation
                # as the value's type hint only; the attribute has the value's type
                # (torch 2.13: `self.x: float = n` of an int n is an int attribute,
                # `self.best: Optional[int] = None` a NoneType one)
                self.object_setattr(obj, sc, s.target.attr, v, s.target)
                return
        if not _fits_declared(v.type, t):
            if isinstance(t, T.DictType) and isinstance(v.type, T.DictType) and \
                    isinstance(s.value, (ast.Call, ast.Dict, ast.DictComp)):
                which, actual = ("key", v.type.key) if v.type.key != t.key else \
                    ("value", v.type.value)
                self.error(f"Dict type annotation `{t.annotation()}` did not match the type "
                           f"of an actual {which} type `{actual.annotation()}`", s)
            if isinstance(s.value, ast.List) and isinstance(t, T.ListType):
                self.error(f"List type annotation `{t.annotation()}` did not match the "
                           f"types of the given list elements: '{ast.unparse(s.target)}' is "
                           f"assigned a {v.type.annotation()}", s)
            if isinstance(s.value, (ast.List, ast.ListComp)) and not isinstance(
                    t, T.ListType):
                self.error(f"Expected an annotation of type List for the list on the right, "
                           f"got {t.annotation()}", s)
            self.error(f"Variable '{ast.unparse(s.target)}' is annotated with type "
                       f"{t.annotation()} but is being assigned to a value of type "
                       f"{v.type.annotation()}", s)
        if isinstance(s.target, ast.Name):
            self.declared[s.target.id] = t
        self.assign(s.target, v, s)

    def stmt_AugAssign(self, s):
        if isinstance(s.op, (ast.FloorDiv, ast.MatMult)):
            # TorchScript's frontend has no `//=` and `@=` (its augassign_map)
            self.error(f"unsupported kind of augmented assignment: {type(s.op).__name__}",
                       s, cls=NotSupportedError, hint="write it out: " + ast.unparse(ast.fix_missing_locations(
                           ast.Assign([s.target], ast.BinOp(s.target, s.op, s.value)))))
        if isinstance(s.target, ast.Subscript):
            box = self.expr(s.target.value)
            if isinstance(box.type, (T.TupleType, T.StrType)):   # (TorchScript's words)
                self.error(f"{box.type.annotation()} does not support augmented "
                           f"assignment.", s, hint="tuples and strs cannot change: build a "
                                                   "new value")
            if isinstance(box.type, T.ListType) and isinstance(s.target.slice, ast.Slice):
                # xs[0:2] += [5]: the slice is a copy, so changing it would lose the update
                # (Python writes it back; TorchScript refuses the slice expression)
                self.error("augmented assignment to a list slice is not supported: a list "
                           "slice is a new list", s.target,
                           hint="assign the elements one by one, or build a new list")
        if isinstance(s.target, (ast.Attribute, ast.Subscript)):   # self.n += 1, d[k] += 1
            cur = self.expr(s.target)
            rhs = self.expr(s.value)
            if self.list_aug_assign(s, cur, rhs):
                return
            tensor = isinstance(cur.type, T.TensorType)
            v = self.aug_binop(s, cur, rhs, inplace=tensor)
            if tensor and isinstance(s.target, ast.Attribute):
                return      # self.count += 1: updated in place, the attribute is unchanged
            if tensor and _view_of(cur, box):
                # x[:, 1] += 1: the in-place op wrote x through the view; TorchScript emits
                # no copy back (torch 2.13: `torch.add_(torch.select(torch.slice(x), 1, 1),
                # 1)` alone). An indexing that copies (x[idx] += 1) is written back.
                return
            n = cur.node
            if tensor and n is not None and n.kind == "aten::index" and \
                    _view_of(n.inputs[0], box):
                # (written back through the view and indices the read made, as TorchScript
                # does: `torch.index_put_(counts, _0, _1)`, not a second read of both)
                self.call_op("index_put_", [n.inputs[0], n.inputs[1], v], {}, s.target,
                             method=True)
                return
            self.assign(s.target, v, s)
            return
        if not isinstance(s.target, ast.Name):
            self.error("augmented assignment is supported on plain names only", s,
                       hint=f"write {ast.unparse(s.target)} = {ast.unparse(s.target)} ... ")
        cur = self.lookup(s.target.id, s.target)
        rhs = self.expr(s.value)
        if isinstance(cur.type, T.TupleType) and isinstance(s.op, (ast.Add, ast.Mult)):
            # `t += (2,)` / `t *= 2` of a tuple: TorchScript's aten::add / mul of the lists
            # of its elements, so t is a list after it ((1,) += (2,) is [1, 2] in torch
            # 2.13; `t = t + (2,)` stays a tuple)
            cur = self.tuple_as_list(cur, "augmented assignment to")
            if isinstance(rhs.type, T.TupleType):
                rhs = self.tuple_as_list(rhs, "augmented assignment with")
            self.assign(s.target, self.binop(type(s.op), cur, rhs, s), s)
            return
        if self.list_aug_assign(s, cur, rhs):
            return
        v = self.aug_binop(s, cur, rhs, inplace=isinstance(cur.type, T.TensorType))
        self.assign(s.target, v, s)

    def aug_binop(self, s, cur, rhs, inplace):
        """The value of `cur <op>= rhs`. On a float, `x %= y` is TorchScript's aten::fmod
        (C's sign: -1.5 %= 2.0 stays -1.5, x %= inf keeps x), where `x % y` is its remainder;
        scripted numbers follow TorchScript's semantics. (On a Tensor gpujit keeps eager's
        remainder_, where TorchScript writes fmod_: tests/test_version_alias_s22.py; an int
        `%=` TorchScript refuses, gpujit's is Python's remainder.)"""
        if isinstance(s.op, ast.Mod) and isinstance(cur.type, T.FloatType) and \
                isinstance(rhs.type, (T.FloatType, T.IntType, T.BoolType)):
            if not isinstance(rhs.type, T.FloatType):
                rhs = self.scalar("Float", rhs, node=s)
            return self.scalar("fmod", cur, rhs, node=s)
        return self.binop(type(s.op), cur, rhs, s, inplace=inplace)

    def list_aug_assign(self, s, cur, rhs):
        """`xs += ys` / `xs *= n` on a list change that very list, as TorchScript's
        aten::add_.t / aten::mul_.left_t (and Python's list.__iadd__ / __imul__): another
        name of the list sees the change. False where cur is no list (or the op is none
        of these)."""
        if not isinstance(cur.type, T.ListType) or not isinstance(s.op, (ast.Add, ast.Mult)):
            return False
        if isinstance(s.op, ast.Mult) and isinstance(rhs.type, T.IntType):
            # TorchScript's aten::mul_.t (`xs0 = torch.mul_(xs, 2)`; n <= 0 clears the
            # list, where `xs * n` of a non-empty list raises for n < 0); the name holds
            # its result, the list itself (`-> t[](a!)`)
            self.binop(type(s.op), cur, rhs, s)     # (checks the operands; dead)
            out = self.mutate("aten::mul_", [cur, rhs], s, result=True)
            self.rebind_augmented(s.target, out)
            return True
        fresh = self.binop(type(s.op), cur, rhs, s)   # (checks the operands; dead if unused)
        if isinstance(s.op, ast.Add) and isinstance(rhs.type, T.ListType):
            # TorchScript's aten::add_.t (`xs0 = torch.add_(xs, ys)`)
            out = self.mutate("aten::add_", [cur, rhs], s, result=True)
            # the name now holds the result, which TorchScript's AliasDb takes for a new
            # list (aten::add_.t's `-> t[]`): its DCE drops a later write to it that
            # nothing reads (`xs += ys; del xs[0]` before a raise, `xs.append(1)` with xs
            # unused after it), and so does gpujit's (passes/dce.py)
            out.node.meta[TORCH_FRESH_RESULT] = True
            self.rebind_augmented(s.target, out)
        else:
            self.put_back(cur, fresh, s)
        return True

    def rebind_augmented(self, target, out):
        """The name of `xs += ys` / `xs *= n` holds the op's result, named as the variable
        (TorchScript stores it: `xs0 = torch.add_(xs, ys)` in .code); an attribute
        target is set to it (`self.xs = torch.add_(xs, [n])`, as TorchScript's)."""
        if isinstance(target, ast.Attribute):
            self.assign(target, out, target)
            return
        self.rebind(target, out)
        if isinstance(target, ast.Name) and meaningful(target.id):
            out.set_debug_name(target.id)

    def stmt_Assert(self, s):
        if isinstance(s.test, ast.Constant) and not s.test.value:
            # `assert False, msg`: always raises, so the path ends here (a function's
            # last statement needs no return after it, as in TorchScript)
            self.raise_assertion(s)
            return RAISED
        v, prefix = static_eval.static_condition_and_prefix(self, s.test)
        if v is not None:
            # a test decided at compile time (`assert self.head is not None` of a None
            # attribute): TorchScript's emitAssert emits only the branch taken, so a
            # failing one raises and ends the path, the statements after it not compiled
            # (timm's CoaT-Lite forward_head calls its None `aggregate` after such an
            # assert), and a passing one emits nothing
            if prefix is not None:
                self.expr(prefix)
            if v:
                return None
            self.raise_assertion(s)
            return RAISED
        cond = self.condition(s.test)
        node = self.emit("prim::If", [cond], [])
        # the narrowed variables are the if's outputs (the cast where the test holds,
        # prim::Uninitialized after the raise), as TorchScript's emitAssert's if stores them
        with self.in_block(node.add_block()), self.scope() as frame:
            self.refine(self.refinements(s.test)[0])
        with self.in_block(node.add_block()):
            self.raise_assertion(s)
        self.merge(node, [(node.blocks[0], frame, False), (node.blocks[1], {}, True)])

    def raise_assertion(self, s):
        if s.msg is not None:
            msg = self.message(s.msg)
            if not isinstance(msg.type, T.StrType):
                # `assert x > 0, x`: the message is str(x), as TorchScript formats it
                if T.may_hold_tensor(msg.type) and not isinstance(msg.type, T.TensorType):
                    self.error(f"an assert message cannot show {describe_type(msg.type)}",
                               s.msg, hint="use an f-string or a str constant")
                msg = self.to_str(msg, s.msg)
            # TorchScript's message is "AssertionError: " + msg (what a caller reads:
            # "AssertionError: msg here"; the scripted line follows)
            if msg.node.kind == "prim::Constant":
                msg = self.const("AssertionError: " + msg.node.attrs["value"])
            else:
                msg = self.emit("aten::add", [self.const("AssertionError: "), msg],
                                [T.STR]).output
        else:
            msg = self.const("AssertionError: ")        # (a bare assert: no words)
        self.raise_without_class(msg, s)

    def raise_without_class(self, msg, s):
        """prim::RaiseException(msg, None): TorchScript's raise of an assert names no class
        (`ops.prim.RaiseException("AssertionError: positive")`); the run time raises an
        AssertionError for its message (interpreter.exception_for). Its constants show no
        source range, as torch's."""
        none = self.const(None)
        for v in (msg, none):
            if v.node.kind == "prim::Constant":
                v.node.source_range = None
        self.mark_raise(self.emit("prim::RaiseException", [msg, none], []), s)

    def mark_raise(self, node, s):
        """node, the prim::RaiseException of the user's statement s (a raise, an assert,
        torch._assert's: s None), raises TorchScript's error for it and knows the range
        that error shows of s (its end, the function's lines: runtime/interpreter's
        raise_location). Other raises the compiler makes stand for an op's failure and say
        its message."""
        span = getattr(self.src, "torch_span", None)
        node.meta[RAISE_SPAN] = span(s) if span is not None and s is not None else None

    def message(self, node):
        """An exception message: a str expression (f-strings are formatted at run time,
        when the raise happens)."""
        return self.expr(node)

    def stmt_Raise(self, s):
        exc = s.exc
        if exc is None:
            self.error("a bare `raise` is not supported", s,
                       hint="raise a builtin exception, e.g. raise ValueError('...')")
        var = self.lookup_var(exc.id) if isinstance(exc, ast.Name) else None
        if isinstance(var, OneBranch):      # (an exception bound on one path only)
            self.lookup(exc.id, exc)
        if isinstance(var, ExceptionVar):            # `e = ValueError(...)`; `raise e`
            msg, cls = var.msg, var.cls
        else:
            msg, cls = self.exception_message(exc)
        msg = self.raised_text(msg, exc)
        if cls is None:
            # `raise ValueError` (no message: TorchScript names no class, "RuntimeError: ")
            # and `raise AssertionError(...)` (its message says the class, as an
            # assert's): prim::RaiseException(msg, None)
            none = self.const(None)
            none.node.source_range = None
            self.mark_raise(self.emit("prim::RaiseException", [msg, none], []), s)
            return RAISED
        # builtins.ValueError, or a user's class by its module and name (the run time
        # raises that class when it can import it)
        with self.at(exc):      # (the class name's constant: the raised expression's range)
            name = self.const(f"{cls.__module__}.{cls.__qualname__}")
        self.mark_raise(self.emit("prim::RaiseException", [msg, name], []), s)
        return RAISED

    def exception_class(self, node):
        """The exception class node names (`ValueError`, a user's class), else None."""
        try:
            found, cls = self.py_object(node)
        except FrontendError:           # `torch.len`: no Python object (an op's name)
            return None
        return cls if found and isinstance(cls, type) and issubclass(cls, BaseException) \
            else None

    def exception_message(self, exc):
        """(the message Value, the class) of `ValueError("a", x)` or `ValueError`, as
        TorchScript's emitRaise takes them: a bare class has the message "" and no class
        (None: "RuntimeError: " when raised), AssertionError's message is
        "AssertionError: " + its argument and names no class (as an assert's); one
        argument not a str is str()'d, several are the str() of their tuple ("(a, 1)")."""
        call = exc if isinstance(exc, ast.Call) else None
        cls_node = call.func if call else exc
        cls = self.exception_class(cls_node)
        if cls is None:
            self.error(f"exceptions must derive from BaseException: cannot raise "
                       f"'{ast.unparse(cls_node)}'", cls_node,
                       hint="raise ValueError(...), RuntimeError(...), ...")
        if call is None:
            return self.const(""), None
        if call.keywords:
            self.error("a raised exception takes its message arguments by position", exc)
        vals = []
        for a in call.args:
            v = self.message(a)
            if not isinstance(v.type, T.StrType) and T.may_hold_tensor(v.type) and \
                    not isinstance(v.type, T.TensorType):
                self.error(f"an exception message cannot show {describe_type(v.type)}", a,
                           hint="use an f-string or a str constant")
            vals.append(v)
        if len(vals) > 1:
            # several arguments: their tuple, str()'d where raised ("(bad, 2)"; nodes
            # without a range, as torch's)
            tup = self.emit("prim::TupleConstruct", vals,
                            [T.TupleType(tuple(v.type for v in vals))])
            tup.source_range = None
            msg = tup.output
        else:
            msg = vals[0] if vals else None
        if issubclass(cls, AssertionError) and cls.__module__ == "builtins":
            if msg is not None:
                msg = self.raised_text(msg, call)
            with self.at(call):
                if msg is None or msg.node.kind == "prim::Constant":
                    text = "" if msg is None else msg.node.attrs["value"]
                    return self.const("AssertionError: " + text), None
                return self.emit("aten::add", [self.const("AssertionError: "), msg],
                                 [T.STR]).output, None
        return (msg if msg is not None else self.const("")), cls

    def raised_text(self, msg, node):
        """The message of a raise as a str: what is no str is str()'d where it is raised,
        as TorchScript's emitRaise does (an aten::str without a source range)."""
        if isinstance(msg.type, T.StrType):
            return msg
        out = self.to_str(msg, node)
        if out.node.kind == "aten::str":
            out.node.source_range = None
        return out

    # ------------------------------------------------------------------ assignment
    def number_as(self, v, declared):
        """A `number` (x.item(), a Scalar) where an int or float is declared is converted,
        as Python would hand it over: `def acc(...) -> float: return t.mean().item()`."""
        if isinstance(v.type, T.NumberType) and isinstance(declared, (T.IntType, T.FloatType,
                                                                      T.ComplexType)):
            name = "Int" if isinstance(declared, T.IntType) else "Float" if isinstance(
                declared, T.FloatType) else "Complex"
            return self.scalar(name, v)
        if isinstance(v.type, T.TupleType) and isinstance(declared, T.TupleType) and \
                len(v.type.elems) == len(declared.elems) and any(
                    _holds_number(e) for e in v.type.elems):
            # `-> Tuple[float, int]: return (t.sum().item(), n)`: element by element
            if v.node.kind == "prim::TupleConstruct" and not isinstance(
                    v.type, T.NamedTupleType):
                elems = list(v.node.inputs)
            else:
                elems = self.emit("prim::TupleUnpack", [v], list(v.type.elems)).outputs
            elems = [self.number_as(e, d) for e, d in zip(elems, declared.elems)]
            t = T.TupleType(tuple(e.type for e in elems))
            out = self.emit("prim::TupleConstruct", elems, [t]).output
            if v.node.kind == "prim::TupleConstruct" and not v.uses:
                v.node.destroy()                    # the tuple of Scalars, now unused
            return out
        return v

    def implicit_conversion(self, v, declared):
        """v converted to the declared type where TorchScript's tryConvertToType with
        implicit conversions does (a returned value, a scripted function's argument, a
        NamedTuple field; never an annotated assignment): a bool for an int or float
        (aten::Int / aten::Float: `def f(b: bool) -> int: return b` gives 1), a Tensor
        for an int or float (aten::IntImplicit / FloatImplicit), a number for an int or
        float, a tuple element by element for a tuple
        and a tuple of one element type for a List; an Optional[X] converts to X. An int
        is never a float (torch refuses gf(n) for `gf(x: float)`). Anything else is
        returned as it is, for the caller's type check."""
        v = self.number_as(v, declared)
        if isinstance(declared, T.OptionalType) and not isinstance(
                v.type, (T.OptionalType, T.NoneType)):
            return self.implicit_conversion(v, declared.elem)
        t = v.type
        if isinstance(t, T.TupleType) and not t.is_subtype_of(declared):
            if isinstance(declared, T.ListType) and not isinstance(t, T.NamedTupleType) \
                    and t.elems and all(e == t.elems[0] for e in t.elems) and \
                    t.elems[0].is_subtype_of(declared.elem):
                if v.node.kind == "prim::TupleConstruct":
                    elems = list(v.node.inputs)     # a literal's own values, as torch
                else:
                    elems = self.emit("prim::TupleUnpack", [v], list(t.elems)).outputs
                out = self.emit("prim::ListConstruct", elems, [declared]).output
                if v.node.kind == "prim::TupleConstruct" and not v.uses:
                    v.node.destroy()
                return out
            if isinstance(declared, T.TupleType) and not isinstance(
                    declared, T.NamedTupleType) and len(declared.elems) == len(t.elems):
                if v.node.kind == "prim::TupleConstruct" and not isinstance(
                        t, T.NamedTupleType):
                    elems = list(v.node.inputs)
                else:
                    elems = self.emit("prim::TupleUnpack", [v], list(t.elems)).outputs
                done = [self.implicit_conversion(e, d) for e, d in zip(elems,
                                                                       declared.elems)]
                if any(d is not e for d, e in zip(done, elems)):
                    return self.emit("prim::TupleConstruct", done, [T.TupleType(
                        tuple(e.type for e in done))]).output
            return v
        if isinstance(declared, (T.IntType, T.FloatType)):
            is_int = isinstance(declared, T.IntType)
            if isinstance(t, T.TensorType):
                return self.tensor_as_number(v, "IntImplicit" if is_int else "FloatImplicit")
            if isinstance(t, T.BoolType):
                return self.scalar("Int" if is_int else "Float", v)
        if isinstance(declared, T.NumberType) and isinstance(t, T.BoolType):
            return self.scalar("Int", v)
        if isinstance(declared, T.NumberType) and isinstance(t, T.TensorType):
            return self.tensor_as_number(v, "ScalarImplicit")
        return v

    def enclosing_value(self, name):
        """The value of variable `name` in the innermost enclosing block that has it (before
        an enclosing `if`'s narrowing: a refinement's unchecked_cast looked through), or
        None where no enclosing block binds it to a variable."""
        var = None
        for frame in reversed(self.scopes[:-1]):
            if name in frame:
                var = frame[name]
                break
        if not isinstance(var, Var):
            return None
        v = var.value
        if isinstance(var, Refined) and v.node.kind == "prim::unchecked_cast":
            v = v.node.inputs[0]              # (narrowed by an enclosing `if`)
        return v

    def reassigned(self, name, v):
        """v assigned to a variable `name` of an enclosing block, converted to its type
        as TorchScript's setSugaredVar does (tryConvertToType with implicit conversions:
        `y = 1` then `if c: y = x.sum().item()` stores aten::Int of the number, a Tensor
        aten::IntImplicit / FloatImplicit / ScalarImplicit, a bool aten::Int / Float);
        v itself when no enclosing block has the name (a function's own block: `y = 1;
        y = x.sum()` rebinds y to a Tensor, as in torch)."""
        pv = self.enclosing_value(name)
        if pv is None:
            return v
        pt = self.declared.get(name) or pv.type
        if v.type == pt or v.type.is_subtype_of(pt) or not isinstance(
                v.type, (T.TensorType, T.NumberType, T.BoolType, T.TupleType)):
            return v
        target = pt.elem if isinstance(pt, T.OptionalType) else pt
        if isinstance(v.type, T.TupleType):
            # a homogeneous tuple for a List (`if old_size is None: old_size = hw, hw` of
            # an Optional[List[int]] parameter, timm's resample_abs_pos_embed: torch
            # stores a ListConstruct), a tuple's elements converted for a tuple
            if not isinstance(target, (T.ListType, T.TupleType)):
                return v
        elif not isinstance(target, (T.IntType, T.FloatType, T.NumberType)):
            return v
        return self.implicit_conversion(v, target)

    def as_declared(self, v, declared):
        """v as a value of an annotated variable's declared type (a wider one: `x:
        Optional[Pair] = None` keeps Optional[Pair] through branches and loops)."""
        if v.type == declared or isinstance(declared, T.TensorType) or (
                isinstance(v.type, T.ListType) and isinstance(declared, T.ListType)):
            return v
        if v.node.kind == "prim::Constant" and isinstance(v.type, T.NoneType):
            # (a None of the declared type; TorchScript's graph keeps the literal's
            # NoneType constant where its uses allow: compiler.drop_widening_casts)
            c = self.const(None, declared)
            c.node.meta[WIDENING_CAST] = v.node.source_range or True
            return c
        out = self.emit("prim::unchecked_cast", [v], [declared]).output
        # (a widening the compiled graph does without: TorchScript stores the value as it
        # is, its variable typed by the annotation; compiler.drop_widening_casts)
        out.node.meta[WIDENING_CAST] = True
        return out

    def assign(self, target, v, stmt):
        if isinstance(target, ast.Name) and any(
                isinstance(frame.get(target.id), PyAlias) for frame in self.scopes[:-1]):
            self.error(f"Cannot re-assign '{target.id}' because it has type value of type "
                       f"'{v.type.annotation()}' and {target.id} is not a first-class "
                       f"value.  Only reassignments to first-class values are allowed",
                       target, hint=f"use another name than '{target.id}' here")
        if isinstance(target, ast.Name):
            v = self.reassigned(target.id, v)
            declared = self.declared.get(target.id)
            if declared is not None and isinstance(stmt, (ast.Assign, ast.AugAssign)) and \
                    self.enclosing_value(target.id) is None:
                # an unannotated assignment in the annotated variable's own block rebinds it
                # to the value's own type, as TorchScript's setSugaredVar stores it (no
                # parent frame has the name: `xs: List[Tensor] = []; ...; xs =
                # torch.cat(xs)`, torchaudio's Tacotron2 decoder; `y: Optional[int] = None;
                # y = 3` makes y an int, and a later `if c: y = None` is refused, "Variable
                # 'y' previously had type int but is now being assigned to a value of type
                # NoneType", torch 2.13); in a nested block it must fit (below)
                del self.declared[target.id]
                declared = None
            if declared is not None:
                v = self.number_as(v, declared)
            if declared is not None and isinstance(stmt, (ast.Assign, ast.AugAssign,
                                                          ast.For)) and \
                    not _fits_declared(v.type, declared):
                self.error(f"Variable '{target.id}' previously had type "
                           f"{declared.annotation()} but is now being assigned to a value of "
                           f"type {v.type.annotation()}: it is annotated "
                           f"{declared.annotation()} but assigned {describe_type(v.type)}; a "
                           f"scripted variable keeps one type.", stmt,
                           hint=f"assign it a value of type {declared.annotation()}, or use "
                                f"another name")
            narrow = v
            if declared is not None:
                v = self.as_declared(v, declared)
            if v is not narrow and isinstance(stmt, ast.Assign) and isinstance(
                    declared, (T.UnionType, T.OptionalType)):
                # `x = i` (x: Union[int, str]): code that reads x before it is merged with
                # another path sees the int, as TorchScript's stores and loads give it
                self.narrowed[v] = narrow
            if not v.has_debug_name() and v.node.kind != "prim::Param" and \
                    meaningful(target.id):     # (not a compiler-made `$` name, not `_0`)
                v.set_debug_name(target.id)
            self.scopes[-1][target.id] = Var(v, stmt)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            n = len(target.elts)
            if any(isinstance(e, ast.Starred) for e in target.elts):
                for e, o in self.starred_unpack(target, v):   # a, *rest = xs
                    self.assign(e, o, stmt)
                return
            t = v.type
            if isinstance(t, T.TupleType):
                if len(t.elems) < n:        # TorchScript's words
                    self.error(f"need {n} values to unpack but found only {len(t.elems)}: "
                               f"cannot unpack a tuple of {len(t.elems)} values into {n} "
                               f"names", target)
                if len(t.elems) > n:
                    self.error(f"too many values to unpack: need {n} but found "
                               f"{len(t.elems)}: cannot unpack a tuple of {len(t.elems)} "
                               f"values into {n} names", target)
                if v.node.kind == "prim::TupleConstruct" and not v.uses:
                    # `a, b = x + 1, x * 2`: the tuple literal's own values, as
                    # TorchScript's asTuple of a TupleConstruct (no unpack; the names go
                    # on the values: `a = torch.add(x, 1)` in .code)
                    outs = list(v.node.inputs)
                else:
                    outs = self.emit("prim::TupleUnpack", [v], list(t.elems)).outputs
            elif isinstance(t, T.ListType):
                un = self.emit("prim::ListUnpack", [v], [t.elem] * n)
                if v.node.kind == "aten::chunk" and v.node.source_range is not None:
                    # (torch's ConstantChunk of `a, b, c = x.chunk(3)`: a wrong count is
                    # the chunk call's error, runtime/interpreter._unpacked)
                    un.source_range = v.node.source_range
                outs = un.outputs
            else:
                self.error(f"{t.annotation()} cannot be used as a tuple: cannot unpack "
                           f"{describe_type(t)}", target, hint="unpack a tuple or a list")
            for e, o in zip(target.elts, outs):
                self.assign(e, o, stmt)
            return
        if isinstance(target, ast.Attribute):
            found, _ = self.py_object(target.value)
            if not found:
                obj = self.expr(target.value)
                sc = script_class_of(obj.type)
                if sc is not None:
                    self.object_setattr(obj, sc, target.attr, v, target)
                    return
                if isinstance(obj.type, T.ClassType):
                    self.class_setattr(obj, target.attr, v, target)
                    return
        if isinstance(target, ast.Subscript) and self.set_item(target, v, stmt):
            return
        if isinstance(target, ast.Subscript):
            box = self.expr(target.value).type
            what = (f"{box.annotation()} does not support subscripted assignment"
                    if isinstance(box, T.TupleType) else
                    "only items of lists, dicts and Tensors can be assigned")
            self.error(what, target, hint="tuples and strs cannot change: build a new value")
        lead = ""
        if isinstance(target, ast.Attribute):   # (torch 2.13's words for a non-class value)
            found, _ = self.py_object(target.value)
            if not found:
                t = self.expr(target.value).type
                lead = (f"Tried to set an attribute: {target.attr} on a non-class: "
                        f"{t.annotation()}: ")
        self.error(f"{lead}cannot assign to `{ast.unparse(target)}` in a scripted function",
                   target)


def _holds_number(t):
    return isinstance(t, T.NumberType) or (
        isinstance(t, T.TupleType) and any(_holds_number(e) for e in t.elems))


def _fits_declared(t, declared) -> bool:
    """Does a value of type t fit a variable annotated `declared` (a subtype; any Tensor
    for a Tensor, whatever its profiled details)?"""
    return t.is_subtype_of(declared) or (isinstance(t, T.TensorType)
                                         and isinstance(declared, T.TensorType))


def sugared_kind(obj) -> str:
    """TorchScript's words for a sugared value's kind (SugaredValue::kind)."""
    import inspect
    if inspect.ismodule(obj):
        return "python value of type 'module'"
    if inspect.isclass(obj):
        return "Python type"
    return "builtin" if getattr(obj, "op", None) is not None else "function"   # (registry op)
