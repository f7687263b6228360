"""Python builtins and the `math` module in scripted code: len, int, float, bool, str,
min, max, abs, round, pow, sum, sorted, reversed, any, all, divmod, ord, chr, list, set, dict,
print, hash, hex, oct, bin, getattr / hasattr with a constant name (`range(...)` as an argument is its list:
list(range(n))), and math.sqrt / floor / isnan / pi / ... on Python numbers.

Numbers go to the scalar family of the registry (ops/scalar_ops.py: aten::floor.float,
aten::round.float, ...), containers to the runtime's container ops (aten::len, aten::sum,
aten::sorted, aten::set, ...), so a scripted call computes what Python computes."""
from __future__ import annotations

import ast
import math

from ...ir import types as T
from ...ir.schema_match import is_number_type
from ...ops import registry as _reg
from . import calls
from .calls import describe_type
from .iterables import is_iterable_call

__all__ = ["BuiltinMixin"]

_NUMS = (T.IntType, T.FloatType)


def _is_num(t) -> bool:
    """An int, a float, or a number of either kind (a Number, a Union[int, float])."""
    return isinstance(t, _NUMS) or (is_number_type(t) and not isinstance(t, T.BoolType))
_KEYWORDS = {"sorted": ("reverse",), "dict": None,      # None: any keyword
             "enumerate": ("start",)}                  # (aten::enumerate's start)
_USAGE = {"len": "len(a list, dict, set, str, tuple or Tensor)",
          "int": "int(a number, str or one-element Tensor)",
          "float": "float(a number, str or one-element Tensor)",
          "complex": "complex(a number) or complex(real, imag)",
          "bool": "bool(a number, container or one-element Tensor)", "str": "str(x)",
          "list": "list(a list, tuple, set, str or dict)", "set": "set(a list of ints, floats, "
          "bools or strs)", "sorted": "sorted(a list, reverse=False)",
          "print": "print(a, b, ...)", "min": "min(a, b, ...) of numbers, or min(a list)",
          "max": "max(a, b, ...) of numbers, or max(a list)", "abs": "abs(a number or Tensor)",
          "round": "round(x) of a number",
          "sum": "sum(a list of numbers)", "enumerate": "enumerate(xs) or enumerate(xs, 1)",
          "zip": "zip(xs, ys, ...) of lists or tuples", "isinstance": "isinstance(x, int)",
          "getattr": 'getattr(obj, "name")', "hasattr": 'hasattr(obj, "name")',
          "reversed": "reversed(a list or str)", "any": "any(a list of bools)",
          "all": "all(a list of bools)", "divmod": "divmod(a, b) of numbers",
          "dict": "dict(), dict(a dict), dict(a list of (key, value) pairs) or "
                  "dict(key=value, ...) after any of those",
          "tuple": "tuple() or tuple(a tuple)",
          "ord": "ord(a one-character str)", "chr": "chr(an int)",
          "hash": "hash(x)", "pow": "pow(a, b) of numbers or Tensors",
          "hex": "hex(an int)", "oct": "oct(an int)", "bin": "bin(an int)"}


_CAST = {T.IntType: "Int", T.FloatType: "Float"}

# the list parameter of each builtin's first list overload in TorchScript (aten::sum.int,
# prim::min.self_int, aten::any.str: a `[]` argument takes it; any/all of [] need no
# elements, so any element type gives torch's answer)
_FIRST_LIST_PARAM = {"sum": T.ListType(T.INT), "min": T.ListType(T.INT),
                     "max": T.ListType(T.INT), "any": T.ListType(T.STR),
                     "all": T.ListType(T.STR), "sorted": T.ListType(T.INT)}


# TorchScript's schema matching, in its second pass (with conversions), packs the
# positional arguments from a schema's last positional parameter on into one list when
# that parameter is a list (not int[N], not a type variable's t[]) and the argument there
# is no list or tuple: len(3) is aten::len.any(Any[] a) of [3], sum(1, 2) aten::sum.int of
# [1, 2], min(xs, 0) prim::min.int_list(xs, [0]), sorted("ba") aten::sorted.str of
# ["ba"]. Each builtin's list element types, in its overloads' order (an int or float
# element takes a bool too, converted as aten::Int / aten::Float: sum(True) is 1)
_PACKED = {"sum": ("int", "float", "bool"), "min": ("int", "float", "bool"),
           "max": ("int", "float", "bool"), "any": ("str", "int", "float", "bool"),
           "all": ("int", "float", "bool"), "sorted": ("int", "float", "bool", "str")}
_PACK_TYPES = {"int": T.INT, "float": T.FLOAT, "bool": T.BOOL, "str": T.STR}


# (tuples compare by their first element first: the key goes there)
_KEY_HINT = ("sort tuples led by the key instead, e.g. sorted([(v, k) for k, v in "
             "d.items()])", "compare tuples led by the key instead, e.g. "
             "max([(len(s), s) for s in xs])[1]")


def _packs(t) -> bool:
    """Does an argument of type t start a packed list (is it no list or tuple)?"""
    return not isinstance(t, (T.ListType, T.TupleType))


def _elem_name(lst):
    """'int' / 'float' / 'bool': the element type of a list value, as overload names
    spell it (prim::max.self_int)."""
    return lst.type.elem.annotation()


class BuiltinMixin:
    """ExprCompiler's calls of builtins and of `math` (self is the compiler)."""

    def builtin_call(self, name, node):
        if name == "isinstance":
            return self.isinstance_call(node)
        if name in ("getattr", "hasattr"):
            return self.attr_builtin(name, node)
        if name == "slice":
            return self.slice_object(node)
        if name == "range":
            for k, a in enumerate(node.args):      # (torch 2.13 checks the arguments first)
                t = self.expr(a).type
                if not isinstance(t, T.IntType):
                    self.error(f"all inputs of range must be ints, found {t.annotation()} in "
                               f"argument {k}", node,
                               hint="convert it with int(...)")
            self.error("range cannot be used as a value: range() is supported only as "
                       "the iterable of a for loop or comprehension", node,
                       hint="write `for i in range(n):`")
        allowed = _KEYWORDS.get(name, ())
        bad = [k.arg for k in node.keywords if allowed is not None and k.arg not in allowed]
        if bad and name == "print":         # (torch 2.13's words)
            self.error("print doesn't accept any keyword arguments", node,
                       hint=f"print() takes no keyword argument '{bad[0]}' in scripted code")
        if bad and bad[0] == "key" and name in ("sorted", "min", "max"):
            # (a key function is a lambda or a function object: neither is a value here)
            self.error(f"{name}() takes no key= function in scripted code", node,
                       hint=_KEY_HINT[name != "sorted"])
        if bad:
            self.error(f"{name}() takes no keyword argument '{bad[0]}' here", node,
                       hint="pass the arguments by position")
        args = [self.call_arg(self.range_as_list(a)) for a in node.args]
        kw = {k.arg: self.expr(k.value) for k in node.keywords}
        if name in _FIRST_LIST_PARAM and len(args) == 1 and \
                calls.is_empty_list_literal(args[0]):
            # any([]) / sum([]) / max([]): `[]` takes the list type of the builtin's first
            # overload, as TorchScript's prim::EmptyListLiteral matches schemas
            args[0] = self.empty_list_for_param(args[0], _FIRST_LIST_PARAM[name])
        handler = getattr(self, f"builtin_{name}", None)
        if handler is not None:
            v = handler(args, kw, node)
            if v is not None:
                return v
            if not kw:
                v = self.packed_builtin(name, args, node)
                if v is not None:
                    return v
        if handler is not None:
            # (TorchScript's words first: no schema of the builtin takes these)
            self.error(f"Arguments for call are not valid: {name}() with "
                       f"({', '.join(describe_type(a.type) for a in args)}) is not "
                       f"supported", node, hint=_USAGE.get(name))
        import builtins
        fn = getattr(builtins, name, None)
        # (TorchScript's words first for a builtin function it does not compile, torch
        # 2.13: dir(), iter(), repr(), open(), setattr() ...)
        said = f"Python builtin {fn!r} is currently not supported in Torchscript: " if \
            type(fn).__name__ == "builtin_function_or_method" else ""
        self.error(f"{said}the builtin '{name}' is not supported in scripted functions yet",
                   node, hint="supported builtins: " + ", ".join(sorted(_USAGE)))

    def packed_builtin(self, name, args, node):
        """The builtin's call with its arguments packed into one list (_PACKED), or None
        where TorchScript packs none: len(a, b, ...) counts them (aten::len.any);
        min(xs, a, ...) / max(...) of a list xs compares xs with [a, ...]
        (prim::min.int_list)."""
        if not args:
            return None
        if name == "len":
            if _packs(args[0].type):
                return self.const(len(args))
            return None
        kinds = _PACKED.get(name)
        if kinds is None:
            return None
        first = args[0].type
        if name in ("min", "max") and isinstance(first, T.ListType) and len(args) > 1:
            kind = first.elem.annotation()
            if kind not in ("int", "float", "bool") or not _packs(args[1].type):
                return None
            rest = self.packed_list(args[1:], (kind,), node)
            if rest is None:
                return None
            return self.emit_op(self.prim_min_max(name, f"{kind}_list"), [args[0], rest])
        if not _packs(first) or any(isinstance(a.type, T.TensorType) for a in args):
            return None
        lst = self.packed_list(args, kinds, node)
        if lst is None:
            return None
        if name in ("min", "max"):
            return self.emit_op(self.prim_min_max(name, f"self_{_elem_name(lst)}"), [lst])
        if name == "sorted":
            return self.sorted_list(lst, None, node)
        return getattr(self, f"builtin_{name}")([lst], {}, node)

    def packed_list(self, args, kinds, node):
        """args as one list of the first element kind (_PACK_TYPES) they all fit, bools
        converted to an int or float one; None when none fits."""
        for kind in kinds:
            want = _PACK_TYPES[kind]
            if all(a.type == want or (isinstance(a.type, T.BoolType) and
                                      kind in ("int", "float")) for a in args):
                vals = [self.scalar(kind.capitalize(), a, node=node)
                        if a.type != want else a for a in args]
                return self.emit("prim::ListConstruct", vals, [T.ListType(want)]).output
        return None

    def range_as_list(self, arg):
        """`range(...)` passed to a builtin (list(range(n)), sum(range(n))) is the list
        [i for i in range(...)]; any other argument is unchanged."""
        if not (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and
                arg.func.id == "range" and self.is_builtin("range")):
            return arg
        # (a name no user variable has, and that names no value: TorchScript's `$`
        # names are not meaningful, its loop index prints as `_1`)
        var = ast.Name(id="$range_i", ctx=ast.Load())
        comp = ast.ListComp(elt=var, generators=[ast.comprehension(
            target=ast.Name(id="$range_i", ctx=ast.Store()), iter=arg, ifs=[],
            is_async=0)])
        for n in (var, comp.generators[0].target, comp):
            ast.copy_location(n, arg)
            n.end_lineno, n.end_col_offset = arg.end_lineno, arg.end_col_offset
        return comp

    # ------------------------------------------------------------------ conversions
    def builtin_len(self, args, kw, node):
        if len(args) != 1:
            return None
        t = args[0].type
        if isinstance(t, T.ClassType):
            return self.class_len(args[0], node)
        if isinstance(t, T.TupleType):
            return self.const(len(t.elems))
        if isinstance(t, (T.ListType, T.DictType, T.StrType, T.SetType)):
            return self.len_of(args[0])
        if not isinstance(t, T.TensorType):
            return None         # len(3) is 1 (packed_builtin)
        return self.scalar("len", *args, node=node)

    def builtin_int(self, args, kw, node):
        return self.number_conversion("int", args, node)

    def builtin_float(self, args, kw, node):
        return self.number_conversion("float", args, node)

    def builtin_complex(self, args, kw, node):
        """complex(x) / complex(re, im): aten::Complex (a complex stays itself)."""
        if len(args) == 1 and isinstance(args[0].type, T.ComplexType):
            return args[0]
        if not 1 <= len(args) <= 2:
            return None
        return self.emit_call(list(_reg.OVERLOADS["aten::Complex"]), args, {}, node,
                              "complex")

    def builtin_bool(self, args, kw, node):
        if len(args) == 1:
            return self.to_bool(args[0], node)
        return None

    def number_conversion(self, name, args, node):
        if len(args) != 1:
            return None
        target = {"int": T.IntType, "float": T.FloatType}[name]
        if isinstance(args[0].type, target):
            return args[0]
        return self.emit_call(list(_reg.OVERLOADS.get(f"aten::{name.capitalize()}", [])),
                              args, {}, node, name)

    def builtin_str(self, args, kw, node):
        if len(args) != 1:
            return None
        from .classes import script_class_of
        sc = script_class_of(args[0].type)
        if sc is not None and sc.python_method("__str__") is None:
            # (torch 2.13 calls the object's __str__: none is an error; an f-string or
            # format() of it writes `<__torch__.K object at 0x...>`)
            self.error(f"'__torch__.{sc.name}' object has no attribute or method "
                       f"'__str__'. Did you forget to initialize an attribute in "
                       f"__init__()?: str() of a {sc.name} calls its __str__", node,
                       hint=f"define __str__ in class {sc.name}")
        return self.to_str(args[0], node)

    def builtin_list(self, args, kw, node):
        if not args:                        # list(): a List[Tensor], as [] (unannotated)
            return self.emit("prim::ListConstruct", [], [T.ListType(T.TENSOR)]).output
        if len(args) != 1:
            return None
        lst = self.as_list(args[0], "list() of")
        if lst is None:
            return None
        if isinstance(args[0].type, T.TupleType) or (
                node.args and (is_iterable_call(self, node.args[0]) or
                               self.range_as_list(node.args[0]) is not node.args[0])):
            return lst          # a new list already (list(zip(a, b)), list(range(n)))
        return self.emit("aten::list", [lst], [lst.type]).output

    def builtin_tuple(self, args, kw, node):
        """tuple() / tuple(a tuple); a list's length is not known when compiling, so
        tuple(a list) is an error (as in TorchScript)."""
        if len(args) > 1:
            self.error(f"tuple() takes at most 1 argument, got {len(args)}", node)
        if not args:
            return self.emit("prim::TupleConstruct", [], [T.TupleType(())]).output
        if isinstance(args[0].type, T.TupleType):
            return args[0]
        self.error(f"cannot statically infer the expected size of a list in this context: "
                   f"a tuple made from {describe_type(args[0].type)}", node,
                   hint="write a tuple literal, e.g. (xs[0], xs[1])")

    def builtin_dict(self, args, kw, node):
        """dict() (a Dict[str, Tensor], as `{}`), dict(d) (a copy) or dict(pairs) of a
        list of (key, value) tuples (`dict(zip(names, values))`); keyword arguments
        (`dict(foo=1)`, `dict(d, baz=3)`) are str keys set after those."""
        if len(args) > 1:
            return None
        if kw:
            vt = None
            for x in kw.values():
                vt = x.type if vt is None else self.unify(vt, x.type)
                if vt is None:
                    return None
            if not args and all(x.type == vt for x in kw.values()):
                # TorchScript's: the list of the (name, value) tuples (no source range),
                # then dict() of it, a loop (`_0 = [("a", 1), ("b", 2)]`, `for _2 in
                # range(torch.len(_0)):`)
                keys = [self.const(k) for k in kw]
                saved, self.cur = self.cur, None
                try:
                    pt = T.TupleType((T.STR, vt))
                    pairs = [self.emit("prim::TupleConstruct", [k, x], [pt]).output
                             for k, x in zip(keys, kw.values())]
                    lst = self.emit("prim::ListConstruct", pairs, [T.ListType(pt)]).output
                finally:
                    self.cur = saved
                return self.builtin_dict([lst], {}, node)
            if args and isinstance(args[0].type, T.ListType):
                self.error("dict takes no keyword arguments", node)    # (torch 2.13's)
            base = self.builtin_dict(args, {}, node) if args else self.emit(
                "prim::DictConstruct", [], [T.DictType(T.STR, vt)]).output
            if base is None or base.type.key != T.STR or self.unify(
                    base.type.value, vt) != base.type.value:
                return None
            values = {k.arg: k.value for k in getattr(node, "keywords", ())}
            for k, x in kw.items():
                with self.at(values.get(k, node)):    # (the value's line and column)
                    self.emit("aten::_set_item", [base, self.const(k), x], [])
            return base
        if not args or (args[0].node.kind == "prim::ListConstruct" and
                        not args[0].node.inputs and not args[0].uses):     # dict([])
            return self.emit("prim::DictConstruct", [], [T.DictType(T.STR, T.TENSOR)]).output
        v = args[0]
        if isinstance(v.type, T.DictType):
            # (TorchScript's aten::dict.Dict_str, `torch.dict(d)`; d.copy() is aten::copy)
            return self.emit("aten::dict", [v], [v.type]).output
        et = v.type.elem if isinstance(v.type, T.ListType) else None
        if not isinstance(et, T.TupleType) or len(et.elems) != 2:
            return None
        self.check_key_type(et.elems[0], node)
        d = self.emit("prim::DictConstruct", [], [T.DictType(*et.elems)]).output

        def put(pair):
            k, x = self.emit("prim::TupleUnpack", [pair], list(et.elems)).outputs
            self.emit("aten::_set_item", [d, k, x], [])
        self.for_each(v, put, node)
        return d

    def builtin_set(self, args, kw, node):
        if not args:
            return self.empty_set(node)
        if len(args) != 1:
            return None
        v = args[0]
        if isinstance(v.type, T.SetType):
            return self.emit("aten::copy", [v], [v.type]).output
        lst = self.as_list(v, "set() of")
        return None if lst is None else self.new_set(lst, node)

    def builtin_enumerate(self, args, kw, node):
        """enumerate(xs[, start]) as the list of its (index, element) pairs; of a module
        container, its (index, module) pairs for an unrolled loop."""
        if "start" in kw:               # enumerate(xs, start=2), as TorchScript takes it
            if len(args) != 1:
                return None
            args = args + [kw.pop("start")]
        start_node = node.args[1] if len(node.args) == 2 else next(
            (k.value for k in node.keywords if k.arg == "start"), None)
        if len(args) in (1, 2) and isinstance(args[0].type, T.ClassType) and \
                hasattr(self, "enumerate_modules"):
            start = self.const_int(start_node) if len(args) == 2 else 0
            if start is None:
                self.error("enumerate() of modules needs an int constant start", node)
            return self.enumerate_modules(args[0], start, node)
        if len(args) not in (1, 2) or (len(args) == 2 and
                                       not isinstance(args[1].type, T.IntType)):
            return None
        leaf = self.value_leaf(args[0], "enumerate() of")
        if leaf is None:
            return None
        start = args[1] if len(args) == 2 else None
        static = None if start is None else self.const_int(start_node) if \
            start_node is not None else None
        # (the list of the (index, element) tuples a loop appends: iterables.py)
        return self.iterable_as_list(self.counted(start, static, node, leaf), node)

    def builtin_zip(self, args, kw, node):
        """zip(xs, ys, ...) as the list of its tuples (appended by a loop over the index:
        iterables.py)."""
        leaves = [self.value_leaf(a, "zip() of") for a in args]
        if not leaves or any(x is None for x in leaves) or kw:
            return None
        return self.iterable_as_list(self.zipped(leaves), node)

    def builtin_sorted(self, args, kw, node):
        """sorted(xs): TorchScript's aten::sorted takes the list only; a keyword
        (`reverse=True`, `key=`) is refused in its words, as torch 2.13 does (list.sort
        takes reverse=)."""
        if len(args) != 1 or (not kw and isinstance(args[0].type, (
                T.IntType, T.FloatType, T.BoolType, T.StrType))):
            return None             # sorted(3, 1) is [1, 3] (packed_builtin)
        if isinstance(args[0].type, T.DictType):     # (sorted(d.keys()) is the way)
            self.error(f"Arguments for call are not valid. sorted() takes a list, not "
                       f"{describe_type(args[0].type)} (aten::sorted.any(t[](a) self))",
                       node, hint="write sorted(d.keys())")
        if kw:
            name = next(iter(kw))
            self.error("Arguments for call are not valid.\nThe following variants are "
                       "available:\n  \n  aten::sorted.any(t[](a) self) -> t[]:\n  Keyword "
                       f"argument {name} unknown.\n", node)
        return self.sorted_list(args[0], None, node)

    def builtin_reversed(self, args, kw, node):
        """reversed(xs) of a list or str: refused in torch 2.13's words (its reversed
        takes a Tensor only); other arguments (a range) go on to the generic path."""
        if len(args) != 1 or not isinstance(args[0].type, (T.ListType, T.StrType)):
            return None
        self.error(f"reversed(Tensor 0) -> Tensor 0:\nExpected a value of type 'Tensor' for "
                   f"argument '0' but instead found type '{args[0].type.annotation()}'.",
                   node)

    def builtin_any(self, args, kw, node):
        """any(xs) / all(xs) of bools, ints, floats or strs: Python's any / all
        (TorchScript's aten::any.bool, aten::any.int, ...)."""
        return self.any_all(args, True, kw, node)

    def builtin_all(self, args, kw, node):
        return self.any_all(args, False, kw, node)

    def any_all(self, args, is_any, kw=None, node=None):
        if args and isinstance(args[0].type, T.TensorType):
            # any(x): TorchScript's builtin any is aten::any, whose overloads take a
            # Tensor too (x.any(), a bool Tensor)
            return self.call_op("any" if is_any else "all", args, kw or {}, node)
        if len(args) == 1 and isinstance(args[0].type, T.TupleType) and not isinstance(
                args[0].type, T.NamedTupleType) and args[0].type.elems and all(
                e == args[0].type.elems[0] for e in args[0].type.elems) and isinstance(
                args[0].type.elems[0], (T.BoolType, T.IntType, T.FloatType, T.StrType)):
            # a tuple of one element type is a list for aten::any / all's List
            # parameter, as TorchScript converts it (`any(self.shift_size)` of a
            # Tuple[int, int] attribute, timm's Swin: torch.any([_0, _1]))
            args = [self.tuple_for_list_param(args[0], T.ListType(args[0].type.elems[0]))]
        if len(args) != 1 or not isinstance(args[0].type, T.ListType) or \
                not isinstance(args[0].type.elem, (T.BoolType, T.IntType, T.FloatType,
                                                   T.StrType)):
            return None
        # (by truthiness; of bools TorchScript's aten::any.bool / all.bool)
        return self.emit(f"aten::{'any' if is_any else 'all'}", args, [T.BOOL]).output

    def builtin_divmod(self, args, kw, node):
        if len(args) == 2 and any(isinstance(a.type, T.TensorType) for a in args) and all(
                isinstance(a.type, (T.TensorType, T.IntType, T.FloatType)) for a in args):
            # a 0-dim Tensor converted as TorchScript's schema matching does: divmod.int
            # first, divmod.float beside a float (torch 2.13)
            kind = "FloatImplicit" if any(isinstance(a.type, T.FloatType) for a in args) \
                else "IntImplicit"
            args = [self.tensor_as_number(a, kind) if isinstance(a.type, T.TensorType)
                    else a for a in args]
        if len(args) != 2 or not all(_is_num(a.type) for a in args):
            return None
        a, b = self.bools_as_numbers(ast.FloorDiv, args[0], args[1], node)
        return self.scalar("divmod", a, b, node=node)       # aten::divmod.int / .float

    def builtin_ord(self, args, kw, node):
        if len(args) != 1 or not isinstance(args[0].type, T.StrType):
            return None
        return self.scalar("ord", args[0], node=node)

    def builtin_chr(self, args, kw, node):
        if len(args) != 1 or not isinstance(args[0].type, T.IntType):
            return None
        return self.scalar("chr", args[0], node=node)

    def builtin_hash(self, args, kw, node):
        """hash(x): aten::hash.generic (ops/scalar_ops.script_hash); a list, dict or set
        compiles and is unhashable when run, as in TorchScript."""
        if len(args) != 1:
            return None
        bad = _unhashable_type(args[0].type)
        if bad is not None:     # torch names the static type: 'List[int]', 'Dict[str, int]'
            self.emit("prim::RaiseException", [self.const(f"unhashable type: '{bad}'"),
                                               self.const("builtins.RuntimeError")], [])
        return self.emit("aten::hash", args, [T.INT],
                         op=_reg.OPS["aten::hash.generic"]).output

    def builtin_pow(self, args, kw, node):
        """pow(a, b) is `a ** b` (a float for two ints, as TorchScript's aten::pow.int)."""
        if len(args) != 2:
            return None
        return self.binop(ast.Pow, args[0], args[1], node)

    def builtin_hex(self, args, kw, node):
        return self.int_text("hex", args, node)

    def builtin_oct(self, args, kw, node):
        return self.int_text("oct", args, node)

    def builtin_bin(self, args, kw, node):
        return self.int_text("bin", args, node)

    def int_text(self, name, args, node):
        """hex(i) / oct(i) / bin(i): aten::hex / oct / bin (Python's text)."""
        if len(args) != 1 or not isinstance(args[0].type, (T.IntType, T.BoolType)):
            return None
        i = args[0]
        if isinstance(i.type, T.BoolType):      # hex(True) is '0x1': the op takes an int
            i = self.scalar("Int", i, node=node)
        return self.scalar(name, i, node=node)

    def builtin_print(self, args, kw, node):
        if node is not getattr(self, "statement_call", None):
            # print's result is TorchScript's NoneValue: a statement, or a name's
            # (statements.stmt_Assign), never a value (torch 2.13: `return print(x)`)
            self.error("None cannot be used as a value", node)
        self.emit("prim::Print", args, [])
        return self.const(None)

    # ------------------------------------------------------------------ numbers
    def builtin_min(self, args, kw, node):
        return self.min_max("min", args, node)

    def builtin_max(self, args, kw, node):
        return self.min_max("max", args, node)

    def min_max(self, name, args, node):
        if len(args) == 1 and isinstance(args[0].type, T.SetType):
            args = [self.as_list(args[0])]       # min(s) of a set: of its elements
        if len(args) == 1 and isinstance(args[0].type, T.TupleType) and \
                args[0].type.elems and len(set(args[0].type.elems)) == 1:
            # min((a, b)): a tuple of one element type is its list (TorchScript)
            args = [self.as_list(args[0], f"{name}() of")]
        if len(args) == 1 and isinstance(args[0].type, T.ListType):
            lst = args[0]
            if lst.node.kind == "prim::ListConstruct" and not lst.node.inputs and \
                    isinstance(lst.type.elem, T.TensorType):
                # min([]): a List[Tensor]. (An empty list of numbers raises when the call
                # runs, as TorchScript's: code that never runs it compiles.)
                self.error(f"{name}() of an empty list", node,
                           hint=f"{name}() needs at least one element")
            if not isinstance(lst.type.elem, (T.IntType, T.FloatType, T.BoolType,
                                              T.StrType)):
                self.error(f"{name}() of a list needs ints, floats, bools or strs, got "
                           f"{describe_type(lst.type)}", node,
                           hint=f"for tensors use torch.stack(xs).{name}()")
            if isinstance(lst.type.elem, T.StrType):
                self.min_max_refused(name, args, node)   # (TorchScript has no max(str[]))
            return self.emit_op(self.prim_min_max(name, f"self_{_elem_name(lst)}"),
                                [lst])
        if len(args) > 2 and len({a.type for a in args}) == 1 and isinstance(
                args[0].type, (T.IntType, T.FloatType)):
            # max(a, b, c) of one type: TorchScript's prim::max.self_int of the list
            # [a, b, c] (a nan first stays: max(nan, 2.0, 1.0) is nan, where
            # max(max(nan, 2.0), 1.0) is 2.0)
            lst = self.emit("prim::ListConstruct", list(args),
                            [T.ListType(args[0].type)]).output
            return self.emit_op(self.prim_min_max(name, f"self_{_elem_name(lst)}"), [lst])
        if len(args) > 2 and all(_is_num(a.type) for a in args):
            # max(a, b, c) of mixed kinds (a float and ints, a Union[int, float]): pairwise,
            # left to right. TorchScript refuses it ("Arguments for call are not valid":
            # its only overloads of more than two numbers take a list of one kind); kept
            # on purpose (tests/test_script_numbers_s20.py)
            v = args[0]
            for b in args[1:]:
                v = self.min_max(name, [v, b], node)
            return v
        if len(args) == 2 and all(isinstance(a.type, T.ListType) for a in args) and \
                args[0].type == args[1].type and isinstance(
                    args[0].type.elem, (T.IntType, T.FloatType, T.BoolType)):
            # min(xs, ys) of two lists: the lesser in Python's (lexicographic) order
            return self.emit_op(self.prim_min_max(name, f"{_elem_name(args[0])}_list"),
                                list(args))
        if len(args) == 2 and all(_is_num(a.type) or isinstance(a.type, T.BoolType)
                                  for a in args):
            # TorchScript's prim::max.int / .float / .int_float / .float_int, and
            # prim::max(Scalar, Scalar) for a number of either kind (max(n, 1) of a
            # Union[int, float] n): a float when either is. A bool is converted as its
            # schema matching converts one: to a float beside a float, else to an int
            # (max(True, False) is 1)
            kinds = []
            for a, b in (args, args[::-1]):
                t = a.type
                if isinstance(t, T.BoolType):
                    t = T.FLOAT if isinstance(b.type, T.FloatType) else T.INT
                kinds.append(t)
            args = [self.emit_call(list(_reg.OVERLOADS[f"aten::{_CAST[type(k)]}"]), [a], {},
                                   node, _CAST[type(k)].lower())
                    if isinstance(a.type, T.BoolType) else a for a, k in zip(args, kinds)]
            if all(isinstance(k, (T.IntType, T.FloatType)) for k in kinds):
                sfx = "_".join(k.annotation() for k in kinds)
                sfx = {"int_int": "int", "float_float": "float"}.get(sfx, sfx)
                return self.emit_op(self.prim_min_max(name, sfx), args)
            return self.emit_op(_reg.OPS[f"prim::{name}"], args)
        return self.min_max_of_tensors(name, args, node)

    def min_max_of_tensors(self, name, args, node):
        """min / max with a Tensor among one or two numbers: TorchScript's schema matching
        converts it (aten::IntImplicit / FloatImplicit: a 0-dim tensor's value, checked
        when it runs) for prim::min.int / .float, or packs min(x) into self_int's list;
        a bool is converted alike. None for other arguments."""
        if not 1 <= len(args) <= 2 or not any(isinstance(a.type, T.TensorType)
                                              for a in args):
            return None
        if not all(isinstance(a.type, (T.TensorType, T.IntType, T.FloatType, T.BoolType))
                   for a in args):
            return None
        kinds = {type(a.type) for a in args}
        if T.FloatType in kinds and T.IntType in kinds:
            return None
        kind = "float" if T.FloatType in kinds and len(args) == 2 else "int"
        vals = [self.tensor_as_number(a, f"{kind.capitalize()}Implicit")
                if isinstance(a.type, T.TensorType) else
                self.scalar(kind.capitalize(), a, node=node)
                if isinstance(a.type, T.BoolType) else a for a in args]
        if len(vals) == 1:
            lst = self.emit("prim::ListConstruct", vals, [T.ListType(T.INT)]).output
            return self.emit_op(self.prim_min_max(name, "self_int"), [lst])
        return self.emit_op(self.prim_min_max(name, kind), vals)

    def min_max_refused(self, name, args, node):
        """TorchScript's error for a min/max call no prim::min/max overload accepts."""
        ops = list(_reg.OVERLOADS[f"prim::{name}"])
        _, misses = calls.resolve(ops, list(args), {})
        self.error(calls.no_match_message(name, ops, misses, list(args), {}), node)

    @staticmethod
    def prim_min_max(name, overload):
        return _reg.OPS[f"prim::{name}.{overload}"]

    def builtin_abs(self, args, kw, node):
        if len(args) != 1:
            return None
        a = args[0]
        if isinstance(a.type, T.BoolType):              # abs(True) is 1
            a = self.emit_call(list(_reg.OVERLOADS["aten::Int"]), [a], {}, node, "int")
        if _is_num(a.type):         # TorchScript's prim::abs (abs(-0.0) is 0.0)
            return self.emit_call(list(_reg.OVERLOADS["prim::abs"]), [a], {}, node, "abs")
        return self.call_op("abs", args, {}, node)

    def builtin_round(self, args, kw, node):
        if len(args) == 1 and not kw and isinstance(args[0].type, T.TensorType):
            return self.call_op("round", args, {}, node)     # aten::round(Tensor), as torch's
        if len(args) != 1 or not _is_num(args[0].type):
            return None
        return self.scalar("round", *args, node=node)     # round(n): a float, as TorchScript's

    def builtin_sum(self, args, kw, node):
        if args and isinstance(args[0].type, T.TensorType):
            # sum(x) / sum(x, 1): TorchScript's builtin sum is aten::sum, whose overloads
            # take a Tensor too (x.sum(), x.sum([1]))
            return self.call_op("sum", args, kw, node)
        if len(args) == 1 and isinstance(args[0].type, T.SetType):
            args = [self.as_list(args[0])]       # sum(s) of a set: of its elements
        if len(args) != 1 or _packs(args[0].type):
            return None             # sum(1, 2) is 3 (packed_builtin)
        lst = args[0]
        if isinstance(lst.type, T.TupleType) and lst.type.elems and \
                len(set(lst.type.elems)) == 1:
            # sum((a, b, c)): a tuple of one element type is its list, as TorchScript's
            # schema matching converts it for aten::sum.int(int[] self)
            lst = self.as_list(lst, "sum() of")
        if not isinstance(lst.type, T.ListType) or not isinstance(
                lst.type.elem, (T.IntType, T.FloatType, T.BoolType)):
            self.error(f"sum() adds a list of ints, floats or bools, got "
                       f"{describe_type(lst.type)}", node,
                       hint="for tensors use torch.stack(xs).sum(0)")
        out = T.INT if isinstance(lst.type.elem, (T.IntType, T.BoolType)) else T.FLOAT
        return self.emit("aten::sum", [lst], [out]).output

    # ------------------------------------------------------------------ math
    def math_call(self, name, node):
        """math.<name>(...) on Python numbers (registry ops in ops/scalar_ops.MATH_OPS)."""
        from ...ops.scalar_math import MATH_OPS, FLOAT_ONLY
        op_name = {"remainder": "mathremainder"}.get(name, name)   # (`%` is aten::remainder)
        ops = [d for d in _reg.OVERLOADS.get(f"aten::{op_name}", []) if d.name in MATH_OPS]
        if not ops:
            fn = getattr(math, name, None)
            if callable(fn):        # (TorchScript's words, under the callee: math.log2)
                self.error(f"Python builtin {fn!r} is currently not supported in "
                           f"Torchscript", node.func)
            self.error(f"scripted code has no math function '{name}'", node,
                       hint="supported: sqrt exp log log10 floor ceil fabs pow sin cos tan "
                            "tanh atan2 isnan isinf isfinite gamma erf frexp ldexp ...")
        args, kwargs = self.call_args(node)
        if any(isinstance(a.type, T.TensorType) for a in args):
            converted = self.math_tensor_args(op_name, ops, args, kwargs)
            if converted is None:       # math.sqrt(x) of a Tensor x: aten::sqrt(Tensor)
                return self.emit_call(self.tensor_overloads(op_name), list(args), kwargs,
                                      node, name)
            args = converted
        misses = [(d, f"{p.name!r} expected a float, got int") for d in ops
                  if d.name in FLOAT_ONLY for p, a in zip(d.schema.arguments, args)
                  if isinstance(a.type, T.IntType) and p.type.base == "float"]
        if misses and len({d for d, _ in misses}) == len(ops):
            # no int overload (math.isnan(n)): the int does not fit the float parameter
            self.error(calls.no_match_message(name, ops, misses,
                                              args, kwargs), node)
        scalar_arg = any(_is_num(a.type) and not isinstance(a.type, _NUMS) for a in args)
        if scalar_arg and not \
                any(isinstance(calls.match_schema(d, args, kwargs), calls.Match) for d in ops):
            # a number of either kind (a Union[int, float]) is taken as a float, as
            # TorchScript's math.<name>.Scalar overloads take it (math.sqrt(n))
            args = [self.emit_call(list(_reg.OVERLOADS["aten::Float"]), [a], {}, node, "float")
                    if _is_num(a.type) and not isinstance(a.type, _NUMS) else a for a in args]
        out = self.emit_call(ops, args, kwargs, node, name)
        if scalar_arg and len(args) == 1 and isinstance(out.type, T.FloatType):
            # TorchScript's unary math.<name>.Scalar pushes a C++ float: math.sqrt(t.item())
            # is float32-precise (1.4142135381698608 for 2.0, torch 2.13), as
            # torch.tensor(v, dtype=torch.float32).item() rounds it
            from ... import dtypes as _dt
            t = self.call_op("tensor", [out], {"dtype": self.dtype_const(_dt.float32)}, node)
            out = self.emit_call(list(_reg.OVERLOADS["aten::Float"]),
                                 [self.call_op("item", [t], {}, node, method=True)], {},
                                 node, "float")
        return out

    @staticmethod
    def tensor_overloads(op_name):
        from ...ops.scalar_ops import PYTHON_VALUED
        return [d for d in _reg.OVERLOADS.get(f"aten::{op_name}", [])
                if d.name not in PYTHON_VALUED]

    def math_tensor_args(self, op_name, ops, args, kwargs):
        """math.<name>(...) given a Tensor, as TorchScript's schema matching resolves it:
        first an overload taking the Tensor as it is (None returned: math.sqrt(x),
        math.fmod(x, 3.0) are aten::sqrt / fmod.Scalar, Tensors); else each Tensor
        converted for the first number overload in torch's order (.int, .float, ...;
        args returned with aten::IntImplicit / FloatImplicit of them): math.fabs(x) and
        math.gcd(x, 4) take an int (a float tensor fails when it runs, as torch 2.13's
        "Cannot input a tensor of type Double as an integral argument"), math.atan2(x,
        1.0) and math.log(x, 2.0) a float (the .int overload does not take the 1.0)."""
        from ...ops.scalar_math import FLOAT_ONLY
        for d in self.tensor_overloads(op_name):
            if isinstance(calls.match_schema(d, list(args), kwargs), calls.Match):
                return None
        fit = [o for o in ops if len(o.schema.arguments) == len(args)] or ops
        params = fit[0].schema.arguments if fit else []
        floats = any(isinstance(a.type, T.FloatType) for a in args)
        out = list(args)
        for j, a in enumerate(args):
            if not isinstance(a.type, T.TensorType) or j >= len(params):
                continue
            base = params[j].type.base
            kind = "IntImplicit" if base == "int" or (
                base == "float" and not floats and not any(
                    o.name in FLOAT_ONLY for o in ops)) else "FloatImplicit"
            out[j] = self.tensor_as_number(a, kind)
        return out

    # ------------------------------------------------------------------ getattr / hasattr
    def attr_builtin(self, name, node):
        if name == "getattr" and len(node.args) == 3 and not node.keywords and \
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
            # getattr(obj, "name", default): decided from the static type, as TorchScript
            # does; a missing attribute is the default, evaluated only then
            attr = node.args[1].value
            found, obj = self.py_object(node.args[0])
            has = hasattr(obj, attr) if found else \
                self.has_attribute(self.expr(node.args[0]).type, attr)
            if not has:
                return self.expr(node.args[2])
            node = ast.copy_location(ast.Call(func=node.func, args=node.args[:2],
                                              keywords=[]), node)
        if len(node.args) != 2 or node.keywords or not (
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            self.error(f"{name}() takes an object and a constant attribute name", node,
                       hint=f'write {name}(obj, "attr")')
        attr = node.args[1].value
        access = ast.Attribute(value=node.args[0], attr=attr, ctx=ast.Load())
        ast.copy_location(access, node)
        access.end_lineno, access.end_col_offset = node.end_lineno, node.end_col_offset
        if name == "getattr":
            return self.expr(access)
        found, obj = self.py_object(node.args[0])
        if found:
            return self.const(hasattr(obj, attr))
        v = self.expr(node.args[0])
        t = v.type
        if isinstance(t, T.TupleType) and not isinstance(t, T.NamedTupleType):
            self.error(f"hasattr's first argument must be a object or NamedTuple, but got a "
                       f"normal Tuple {t.annotation()} instead", node)
        if not isinstance(t, (T.ClassType, T.NamedTupleType)) or \
                isinstance(t, T.InterfaceType):
            # (TorchScript's prim::HasAttr answers objects and NamedTuples only, torch
            # 2.13: hasattr(x, "shape") of a Tensor is refused)
            self.error(f"hasattr's first argument must be an object or NamedTuple, got "
                       f"{t.annotation()} instead", node)
        return self.const(self.has_attribute(t, attr))

    def has_attribute(self, t, attr):
        """hasattr() decided from the static type."""
        if isinstance(t, T.NamedTupleType):
            return attr in t.fields
        if isinstance(t, T.ClassType):
            return attr in t.attributes or attr in t.methods or (
                t.py_class is not None and hasattr(t.py_class, attr))
        if isinstance(t, T.TensorType):
            from ...tensor import Tensor
            return hasattr(Tensor, attr)
        py = {T.IntType: int, T.FloatType: float, T.BoolType: bool, T.StrType: str,
              T.ListType: list, T.DictType: dict, T.SetType: set,
              T.TupleType: tuple}.get(type(t))
        return py is not None and hasattr(py, attr)


def _unhashable_type(t):
    """The first type in t (a tuple's elements in order) TorchScript's IValue::hash
    refuses, as its "unhashable type" error names it, or None."""
    if isinstance(t, T.TupleType):
        for e in t.elems:
            bad = _unhashable_type(e)
            if bad is not None:
                return bad
        return None
    if isinstance(t, (T.ListType, T.DictType, T.SetType)):
        return t.annotation()
    if isinstance(t, T.EnumType) or (isinstance(t, T.ClassType)
                                     and not isinstance(t, T.InterfaceType)):
        return str(t)
    return None
