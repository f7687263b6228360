"""Strings in scripted code: f-strings, `str(x)`, `s.format(...)`, printf-style
`"%d of %s" % (i, name)` with a constant format, the str methods (upper, split, join,
strip, startswith, replace, find, count, zfill, isdigit, ...), and `s * n`.

An f-string `f"{x} and {n:.3f}"` becomes one aten::format node over a format string
("{} and {:.3f}") and its fields, which is Python's own str.format at run time, except
that a `{}` field is written as TorchScript writes the value (floats `1.`,
`0.10000000000000001`; runtime/script_text.py); a spec keeps Python's meaning. A Tensor
field is first turned into the str eager gpujit prints (aten::str.Tensor), or into its
Python number when the field has a format spec (as Tensor.__format__ does). The str methods are registry
ops of the scalar family (ops/scalar_str.py), resolved and checked like any call."""
from __future__ import annotations

import ast
import re

from ...ir import types as T
from ...ops import registry as _reg
from .calls import describe_type

__all__ = ["StringMixin"]

_CONVERSIONS = {-1: "", ord("s"): "!s", ord("r"): "!r", ord("a"): "!a"}


_PERCENT = re.compile(r"%(?P<flags>[-+ 0#]*)(?P<width>\d*)(?:\.(?P<prec>\d+))?"
                      r"(?P<type>[diouxXeEfFgGcrs%])")


def _percent_to_format(fmt):
    """'%5.2f | %s%%' -> ('{:5.2f} | {!s}%', ['f', 's']): printf-style to str.format."""
    out, kinds, pos = [], [], 0
    for m in _PERCENT.finditer(fmt):
        out.append(fmt[pos:m.start()].replace("{", "{{").replace("}", "}}"))
        pos = m.end()
        k = m.group("type")
        if k == "%":
            out.append("%")
            continue
        flags, width, prec = m.group("flags"), m.group("width"), m.group("prec")
        if k in "rs":
            align = "<" if "-" in flags or not width else ">"
            out.append("{!" + k + (":" + align + width if width else "") + "}")
        else:
            k = {"i": "d", "u": "d", "F": "f"}.get(k, k)
            spec = ("<" if "-" in flags else "") + ("+" if "+" in flags else
                                                    " " if " " in flags else "") + \
                ("#" if "#" in flags else "") + ("0" if "0" in flags and "-" not in flags
                                                 else "") + width + \
                ("." + prec if prec is not None else "") + k
            out.append("{:" + spec + "}")
        kinds.append(k)
    out.append(fmt[pos:].replace("{", "{{").replace("}", "}}"))
    return "".join(out), kinds


def _fits_spec(k, t) -> bool:
    """Does str.format format a value of type t for the %-specifier k (made a str.format
    type by _percent_to_format) as %-formatting does?"""
    if k in "rs":
        return True
    if k == "c":
        return isinstance(t, T.IntType)
    return isinstance(t, (T.IntType, T.FloatType, T.BoolType, T.TensorType))


class StringMixin:
    """ExprCompiler's string forms (self is the compiler)."""

    def percent_format(self, node, template=None):
        """`"%d of %s" % (i, name)`: with a constant format whose fields fit the values,
        one aten::format, as an f-string (Python's %-rules: %d of a float truncates it);
        otherwise (template a str variable, a bad specifier, too few or too many values,
        `%d` of a str) aten::percentFormat, which formats or raises TorchScript's error
        when the line runs, as TorchScript does."""
        if isinstance(node.right, ast.Tuple):
            vals = [self.expr(e) for e in node.right.elts]
            elts = node.right.elts
        else:
            v = self.expr(node.right)
            vals = [v] if not isinstance(v.type, T.TupleType) else \
                [self.tuple_item(v, k) for k in range(len(v.type.elems))]
            elts = [node.right] * len(vals)
        if template is None:
            fmt, kinds = _percent_to_format(node.left.value)
            if _PERCENT.sub("", node.left.value).count("%") or len(vals) != len(kinds) or \
                    not isinstance(node.right, ast.Tuple) and len(vals) != 1 or \
                    not all(_fits_spec(k, v.type) for k, v in zip(kinds, vals)):
                template = self.const(node.left.value)
        if template is not None:
            # the line comes second (as container ops take it): its errors name it
            return self.emit("aten::percentFormat", [template, self.where(node), *vals],
                             [T.STR]).output
        args = []
        for e, k, v in zip(elts, kinds, vals):
            v = self.format_arg(v, "" if k in "rs" else k, e)
            if k in "dxXoc" and isinstance(v.type, T.FloatType):
                v = self.scalar("Int", v)
            elif k in "eEfgG" and isinstance(v.type, T.IntType):
                v = self.scalar("Float", v)
            args.append(v)
        if not args:
            return self.const(fmt.replace("{{", "{").replace("}}", "}"))
        return self.emit("aten::format", [self.const(fmt), *args], [T.STR]).output

    def to_str(self, v, node):
        """str(v) as Python (or eager gpujit, for a Tensor) writes it."""
        t = v.type
        if isinstance(t, T.StrType):
            return v
        if isinstance(t, T.TensorType):
            return self.emit("aten::str", [v], [T.STR], op=_reg.OPS["aten::str.Tensor"]).output
        if T.may_hold_tensor(t):
            self.error(f"str() of {describe_type(t)} is not supported in scripted code", node,
                       hint="format its elements one by one")
        return self.emit("aten::str", [v], [T.STR]).output

    def format_arg(self, v, spec, node):
        """A value as str.format receives it: a Tensor as its str, or as its Python
        number when formatted with a spec."""
        if isinstance(v.type, T.TensorType):
            return self.call_op("item", [v], {}, node, method=True) if spec else \
                self.to_str(v, node)
        if T.may_hold_tensor(v.type):
            self.error(f"{describe_type(v.type)} cannot be formatted in scripted code", node,
                       hint="format its elements one by one")
        return v

    def expr_JoinedStr(self, node):
        parts, args = [], []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                parts.append(piece.value.replace("{", "{{").replace("}", "}}"))
                continue
            spec = ""
            if piece.format_spec is not None:
                if any(not isinstance(p, ast.Constant) for p in piece.format_spec.values):
                    self.error("a format spec computed from values is not supported", piece,
                               hint="write the spec as a constant, e.g. {x:.3f}")
                spec = "".join(p.value for p in piece.format_spec.values)
            conv = _CONVERSIONS.get(piece.conversion, "")
            v = self.expr(piece.value)
            if isinstance(v.type, T.TensorType):
                conv = ""            # a Tensor's repr is its str, which format_arg makes
            parts.append("{" + conv + (":" + spec if spec else "") + "}")
            args.append(self.format_arg(v, spec, piece.value))
        fmt = "".join(parts)
        if not args:
            return self.const(fmt.replace("{{", "{").replace("}}", "}"))
        return self.emit("aten::format", [self.const(fmt), *args], [T.STR]).output

    def str_method_call(self, s, name, node):
        from ...ops.scalar_str import STR_METHODS
        if name == "format":
            if node.keywords:
                self.error("str.format() with keyword fields is not supported", node,
                           hint="use positional fields or an f-string")
            args = [self.format_arg(self.expr(a), "", a) for a in node.args]
            return self.emit("aten::format", [s, *args], [T.STR]).output
        names = STR_METHODS.get(name)
        if names is None:
            self.error(f"a str has no method '{name}' in scripted code", node,
                       hint="supported: format, " + ", ".join(sorted(STR_METHODS)))
        ops = [_reg.OPS[n] for n in names]
        args, kwargs = self.call_args(node)
        return self.emit_call(ops, [s, *args], kwargs, node, name)
