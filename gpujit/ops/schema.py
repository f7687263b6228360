"""TorchScript operator schemas: parse `aten::add.Tensor(Tensor self, Tensor other, *,
Scalar alpha=1) -> Tensor` into data that the eager binder, the tracer, the script compiler
and the fuser all read.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

__all__ = ["Schema", "Argument", "Return", "ArgType", "parse_schema"]


@dataclass(frozen=True)
class ArgType:
    """A schema type: base name ('Tensor', 'int', 'Scalar', ...), list-ness, optional-ness."""
    base: str
    is_list: bool = False
    list_size: int | None = None     # int[2]
    optional: bool = False           # T? (or T[]? for an optional list)
    elem_optional: bool = False      # Tensor?[]
    alias: str | None = None         # 'a' of Tensor(a!)
    is_write: bool = False           # the '!' of Tensor(a!)

    @property
    def is_tensor(self):
        return self.base == "Tensor" and not self.is_list

    @property
    def is_tensor_list(self):
        return self.base == "Tensor" and self.is_list

    def __str__(self):
        s = self.base
        if self.alias:
            s += f"({self.alias}{'!' if self.is_write else ''})"
        if self.elem_optional:
            s += "?"
        if self.is_list:
            s += f"[{self.list_size if self.list_size is not None else ''}]"
        if self.optional:
            s += "?"
        return s


_NO_DEFAULT = object()


@dataclass(frozen=True)
class Argument:
    name: str
    type: ArgType
    default: object = _NO_DEFAULT
    kwarg_only: bool = False
    default_text: str | None = None

    @property
    def has_default(self):
        return self.default is not _NO_DEFAULT

    def __str__(self):
        s = f"{self.type} {self.name}"
        if self.has_default:
            s += "=" + self.default_text
        return s


@dataclass(frozen=True)
class Return:
    type: ArgType
    name: str | None = None

    def __str__(self):
        return f"{self.type} {self.name}" if self.name else str(self.type)


@dataclass(frozen=True)
class Schema:
    name: str                 # 'aten::add'
    overload: str             # 'Tensor' or ''
    arguments: tuple
    returns: tuple
    returns_tuple_syntax: bool = False   # '-> (Tensor)' vs '-> Tensor'
    text: str = field(default="", compare=False)

    @property
    def qualified_name(self):
        return self.name + ("." + self.overload if self.overload else "")

    @property
    def base_name(self):
        return self.name.split("::", 1)[1]

    @property
    def is_inplace(self):
        """Does the op write into its first argument, a Tensor (x.add_(y), out=)? A
        written Generator (aten::manual_seed.generator) is not an in-place Tensor op."""
        return bool(self.arguments) and self.arguments[0].type.is_write and \
            self.arguments[0].type.base == "Tensor"

    def __str__(self):
        args, seen_kw = [], False
        for a in self.arguments:
            if a.kwarg_only and not seen_kw:
                args.append("*")
                seen_kw = True
            args.append(str(a))
        if len(self.returns) == 1 and not self.returns_tuple_syntax:
            rets = str(self.returns[0])
        else:
            rets = "(" + ", ".join(str(r) for r in self.returns) + ")"
        return f"{self.qualified_name}({', '.join(args)}) -> {rets}"


# (a dotted base: a custom class, __torch__.torch.classes.quantized.LinearPackedParamsBase)
_TYPE_RE = re.compile(
    r"(?P<base>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"(?:\((?P<alias>[a-z][a-z0-9]*)(?P<write>!)?\))?"
    r"(?P<elemopt>\?)?"
    r"(?:\[(?P<size>\d*)\])?"
    r"(?P<opt>\?)?$")

_IDENT_DEFAULTS = {"None": None, "True": True, "False": False,
                   "contiguous_format": "contiguous_format", "Mean": "mean", "Sum": "sum",
                   "long": "long", "inf": float("inf"), "-inf": float("-inf")}


def _parse_type(text: str, where: str) -> ArgType:
    m = _TYPE_RE.match(text.strip())
    if not m:
        raise ValueError(f"bad type {text!r} in schema {where!r}")
    is_list = m.group("size") is not None
    size = m.group("size")
    return ArgType(base=m.group("base"), is_list=is_list,
                   list_size=int(size) if size else None,
                   optional=bool(m.group("opt")) or (not is_list and bool(m.group("elemopt"))),
                   elem_optional=is_list and bool(m.group("elemopt")),
                   alias=m.group("alias"), is_write=bool(m.group("write")))


def _parse_default(text: str, typ: ArgType, where: str):
    text = text.strip()
    if text in _IDENT_DEFAULTS:
        return _IDENT_DEFAULTS[text]
    try:
        v = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"bad default {text!r} in schema {where!r}") from None
    if isinstance(v, list):
        v = tuple(v)
    if typ.is_list and isinstance(v, int) and typ.list_size:   # int[2] stride=1 -> (1, 1)
        v = (v,) * typ.list_size
    return v


def _split_top(text: str) -> list:
    """Split on commas not inside brackets or parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur))
    return [p.strip() for p in parts]


def parse_schema(text: str) -> Schema:
    text = text.strip()
    m = re.match(r"^(?P<name>[A-Za-z_][\w]*::[A-Za-z_][\w]*)(?:\.(?P<ov>[\w]+))?\((?P<rest>.*)$",
                 text, re.S)
    if not m:
        raise ValueError(f"bad schema {text!r}: expected 'ns::name[.overload](args) -> ret'")
    rest = m.group("rest")
    depth = 1
    for i, ch in enumerate(rest):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0:
            break
    else:
        raise ValueError(f"unbalanced parentheses in schema {text!r}")
    arg_text, ret_text = rest[:i], rest[i + 1:].strip()
    if not ret_text.startswith("->"):
        raise ValueError(f"schema {text!r} has no '-> returns'")
    ret_text = ret_text[2:].strip()

    args, kwarg_only = [], False
    for part in _split_top(arg_text):
        if part == "*":
            kwarg_only = True
            continue
        decl, eq, default = part.partition("=")
        tname, _, aname = decl.strip().rpartition(" ")
        if not tname:
            raise ValueError(f"argument {part!r} has no type in schema {text!r}")
        typ = _parse_type(tname, text)
        if eq:
            args.append(Argument(aname, typ, _parse_default(default, typ, text), kwarg_only,
                                 default.strip()))
        else:
            args.append(Argument(aname, typ, kwarg_only=kwarg_only))

    tuple_syntax = ret_text.startswith("(")
    if tuple_syntax:
        ret_parts = _split_top(ret_text[1:-1])
    else:
        ret_parts = [ret_text]
    rets = []
    for part in ret_parts:
        tname, _, rname = part.rpartition(" ") if " " in part.strip() else (part, "", "")
        rets.append(Return(_parse_type(tname, text), rname or None))
    return Schema(m.group("name"), m.group("ov") or "", tuple(args), tuple(rets),
                  tuple_syntax, text)
