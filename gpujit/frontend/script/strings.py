"""Strings in scripted code: f-strings, `str(x)`, `s.format(...)`, printf-style
`"%d of %s" % (i, name)`, the str methods (upper, split, join, strip, startswith,
replace, find, count, zfill, isdigit, ...), and `s * n`.

`s.format(a, b)` is TorchScript's aten::format: each `{}` of s, left to right, is
replaced by the next argument written as TorchScript writes it (floats `1.`,
`0.10000000000000001`; runtime/script_text.py); any other text, `{0}`, `{:>5}` or `{{`,
stays as it is, and extra arguments are left unused. An f-string `f"{x} and {n}"` is
`"{} and {}".format(x, n)`, as TorchScript's frontend makes it (a conversion `!r` or a
spec `:.3f` is refused). A Tensor field is first turned into the str ATen's C++ printer
writes (aten::str.Tensor: `[ CPUFloatType{2} ]`). The str methods are registry ops of the scalar family
(ops/scalar_str.py), resolved and checked like any call."""
from __future__ import annotations

import ast

from ...ir import types as T
from ...ops import registry as _reg

__all__ = ["StringMixin"]


class StringMixin:
    """ExprCompiler's string forms (self is the compiler)."""

    def percent_format(self, node, template=None):
        """`"%d of %s" % (i, name)`: aten::percentFormat of the template and the values
        (a tuple's elements), which formats them or raises TorchScript's error when the
        line runs, as TorchScript does (runtime/percent_format.py: %d %i %e %E %f %F %c %s and
        %% only, no flags, width or precision)."""
        if isinstance(node.right, ast.Tuple):
            vals = [self.expr(e) for e in node.right.elts]
            arg = self.emit("prim::TupleConstruct", vals,
                            [T.TupleType(tuple(v.type for v in vals))]).output
        else:
            arg = self.expr(node.right)     # (a tuple value: its elements are the values)
        if template is None:
            template = self.const(node.left.value)
        # TorchScript's graph: the template and the right operand, `.code`
        # torch.percentFormat("%d and %s", (x, s)); its errors name the node's line
        return self.emit("aten::percentFormat", [template, arg], [T.STR]).output

    def to_str(self, v, node):
        """str(v) as TorchScript writes it (runtime/script_text.py; a Tensor, also one
        inside a list, tuple, dict or Optional, as ATen's C++ printer does)."""
        t = v.type
        if isinstance(t, T.StrType):
            return v
        if isinstance(t, T.TensorType):
            return self.emit("aten::str", [v], [T.STR], op=_reg.OPS["aten::str.Tensor"]).output
        return self.emit("aten::str", [v], [T.STR]).output

    def format_arg(self, v, node):
        """A value as str.format receives it: a Tensor as its str."""
        if isinstance(v.type, T.TensorType):
            return self.to_str(v, node)
        return v

    def expr_JoinedStr(self, node):
        """f"{x} and {n}": TorchScript's frontend makes it `"{} and {}".format(x, n)`
        (the text pieces as they are, so a literal `{{}}` is a `{}` field too), and
        refuses a conversion (`{x!r}`) or a format spec (`{x:.3f}`) with a
        NotSupportedError, as torch 2.13 does."""
        from .errors import NotSupportedError
        fmt, args = "", []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                fmt += piece.value
                continue
            if piece.conversion != -1:
                self.error("Don't support conversion in JoinedStr", node,
                           cls=NotSupportedError)
            if piece.format_spec is not None:
                self.error("Don't support formatting in JoinedStr", node,
                           cls=NotSupportedError)
            fmt += "{}"
            args.append(self.format_arg(self.expr(piece.value), piece.value))
        if not args and "{}" not in fmt:
            return self.const(fmt)
        return self.emit("aten::format", [self.const(fmt), *args], [T.STR]).output

    def str_method_call(self, s, name, node):
        from ...ops.scalar_str import STR_METHODS
        if name == "format":
            if node.keywords:       # (aten::format(str self, ...) takes no keywords)
                self.error(f"aten::format(str self, ...) -> str:\nKeyword argument "
                           f"{node.keywords[0].arg} unknown.", node)
            args = [self.format_arg(self.expr(a), a) for a in node.args]
            return self.emit("aten::format", [s, *args], [T.STR]).output
        names = STR_METHODS.get(name)
        if names is None:
            self.error(f"'str' object has no attribute or method '{name}'.: a str has no "
                       f"method '{name}' in scripted code", node,
                       hint="supported: format, " + ", ".join(sorted(STR_METHODS)))
        ops = [_reg.OPS[n] for n in names]
        args, kwargs = self.call_args(node)
        return self.emit_call(ops, [s, *args], kwargs, node, name)
