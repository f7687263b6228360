"""TorchScript graph text → Graph (`parse_ir`). Reads what `str(graph)` prints, so tests of
passes are written as IR text in, IR text out."""
from __future__ import annotations

import math
import re

from . import types as T
from .graph import OWN_SPELLING, Graph, SourceRange, kind_of
from .printer import SUBGRAPH_ATTR

__all__ = ["parse_ir", "parse_type", "IRParseError", "Opaque"]


class IRParseError(ValueError):
    """gpujit's parser error (its own words, a caret under the place). `torch_message()`
    is TorchScript's form of it, which torch._C.parse_ir raises as a RuntimeError."""

    def __init__(self, msg, source="", pos=0, length=1, torch_msg=None):
        super().__init__(msg)
        self.source, self.pos, self.length = source, pos, length
        self.torch_msg = torch_msg

    def torch_message(self) -> str:
        """TorchScript's report: the message, then the lines around the place (two
        before and after) with `~ <--- HERE` under it."""
        s, pos = self.source, min(self.pos, len(self.source))
        lines = s.split("\n")
        line = s.count("\n", 0, pos)
        col = pos - (s.rfind("\n", 0, pos) + 1)
        out = []
        for k in range(max(0, line - 2), min(len(lines), line + 3)):
            out.append(lines[k] + "\n")
            if k == line:
                out.append(" " * col + "~" * max(1, self.length) + " <--- HERE\n")
        head = self.torch_msg if self.torch_msg is not None else str(self).split(" at line ")[0]
        return f"\n{head}:\n" + "".join(out)


class Opaque:
    """A constant that graph text cannot spell (`<Tensor>`): it prints back the same."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(?:::[A-Za-z_][A-Za-z0-9_.]*)?")
_VALUE = re.compile(r"%([A-Za-z0-9_.]+)")
_NUMBER = re.compile(r"-?(?:inf|nan|\d+\.?\d*(?:[eE][+-]?\d+)?)")
_IMAG = re.compile(r"([+-])(inf|nan|\d+\.?\d*(?:[eE][+-]?\d+)?)j")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_DEVICE = re.compile(r"[a-z]+(?::\d+)?")
_SCALAR_TYPES = {}


def _scalar_types():
    if not _SCALAR_TYPES:
        from .. import dtypes as _dt
        _SCALAR_TYPES.update({d.short_name: d for d in _dt.EVERY})
        _SCALAR_TYPES[_dt.bfloat16.short_name] = _dt.bfloat16
        _SCALAR_TYPES.update({d.short_name: d for d in _dt.FLOAT8_TYPES})
        # (QUInt8(3, strides=[1], ...): a traced quantized value, gpujit/quantized.py)
        _SCALAR_TYPES.update({d.short_name: d for d in _dt.QUANTIZED_TYPES})
    return _SCALAR_TYPES


_SIMPLE = {"int": T.INT, "float": T.FLOAT, "bool": T.BOOL, "str": T.STR, "NoneType": T.NONE,
           "Device": T.DEVICE, "ScalarType": T.SCALAR_TYPE, "Scalar": T.NUMBER,
           "number": T.NUMBER, "Layout": T.LayoutType(), "Generator": T.GeneratorType(),
           "Any": T.ANY, "Tensor": T.TENSOR, "Function": T.FUNCTION}
_SIMPLE["complex"] = T.COMPLEX      # (a Python complex: `%c : complex`, `complex[]`)


_SPACE_NL = re.compile(r"[ \t\r\n]*")
_SPACE = re.compile(r"[ \t]*")


class _Cursor:
    def __init__(self, text):
        self.s = text
        self.i = 0

    def error(self, msg, torch_msg=None, pos=None, length=1):
        line = self.s.count("\n", 0, self.i) + 1
        start = self.s.rfind("\n", 0, self.i) + 1
        end = self.s.find("\n", self.i)
        text = self.s[start:end if end >= 0 else len(self.s)]
        raise IRParseError(f"{msg} at line {line}:\n    {text}\n    {' ' * (self.i - start)}^",
                           self.s, self.i if pos is None else pos, length, torch_msg)

    def ws(self, newlines=True):
        s, i = self.s, self.i
        if i < len(s) and s[i] in " \t\r\n":
            self.i = (_SPACE_NL if newlines else _SPACE).match(s, i).end()

    def at(self, lit):
        s, i = self.s, self.i
        if i < len(s) and s[i] in " \t\r\n":
            self.i = i = _SPACE_NL.match(s, i).end()
        return s.startswith(lit, i)

    def eat(self, lit):
        s, i = self.s, self.i
        if i < len(s) and s[i] in " \t\r\n":
            self.i = i = _SPACE_NL.match(s, i).end()
        if s.startswith(lit, i):
            self.i = i + len(lit)
            return True
        return False

    def expect(self, lit):
        if not self.eat(lit):
            self.error(f"expected {lit!r}")

    def match(self, rx, what):
        s, i = self.s, self.i
        if i < len(s) and s[i] in " \t\r\n":
            self.i = i = _SPACE_NL.match(s, i).end()
        m = rx.match(s, i)
        if not m:
            self.error(f"expected {what}")
        self.i = m.end()
        return m

    def rest_of_line(self):
        end = self.s.find("\n", self.i)
        end = len(self.s) if end < 0 else end
        out = self.s[self.i:end]
        self.i = end
        return out


def parse_type(text: str) -> T.Type:
    c = _Cursor(text)
    t = _type(c)
    c.ws()
    if c.i != len(c.s):
        c.error("unexpected text after type")
    return t


# a NamedTuple field's default as its type text shows it (up to the next , or ))
_DEFAULT_TEXT = re.compile(r"[^,)]*")


def _type(c: _Cursor) -> T.Type:
    if c.eat("("):
        elems = []
        while not c.eat(")"):
            elems.append(_type(c))
            c.eat(",")
        t = T.TupleType(tuple(elems))
    else:
        name = c.match(_IDENT, "a type").group(0)
        if name in ("Dict", "Union", "Set"):
            c.expect("(")
            args = []
            while not c.eat(")"):
                args.append(_type(c))
                c.eat(",")
            t = T.DictType(*args) if name == "Dict" else T.SetType(*args) \
                if name == "Set" else T.UnionType(tuple(args))
        elif name in ("Future", "Await") and (c.at("[") or c.at("(")):   # Future[int] / (int)
            close = "]" if c.eat("[") else (c.expect("("), ")")[1]
            t = (T.FutureType if name == "Future" else T.AwaitType)(_type(c))
            c.expect(close)
        elif name in _SIMPLE and not (name == "Tensor" and c.at("(")):
            t = _SIMPLE[name]
        elif name == "Tensor" or name in _scalar_types():
            t = _tensor_type(c, _scalar_types().get(name))
        elif name.endswith("Tensor") and name[:-6] in _scalar_types():
            # `FloatTensor` / `FloatTensor(requires_grad=0)`: a dtype, the rank unknown
            t = _tensor_type(c, _scalar_types()[name[:-6]], rank_known=False)
        elif name == "NamedTuple" and c.eat("("):      # NamedTuple(a : Tensor, b : int)
            fields, elems, defaults = [], [], {}
            while not c.eat(")"):
                fields.append(c.match(_IDENT, "a field name").group(0))
                c.expect(":")
                elems.append(_type(c))
                if c.eat("="):      # a field's default (`n : int = 3`), as its text
                    defaults[fields[-1]] = c.match(_DEFAULT_TEXT, "a default value") \
                        .group(0).strip()
                c.eat(",")
            t = T.named_tuple_type(tuple(fields), tuple(elems), defaults)
        elif name == "InterfaceType" and c.eat("<"):   # InterfaceType<I>
            t = T.interface_type(c.match(_IDENT, "an interface name").group(0))
            c.expect(">")
        elif name == "Enum" and c.eat("<"):            # Enum<__torch__.Color>
            qual = c.match(_IDENT, "an enum name").group(0)
            c.expect(">")
            t = T.parsed_class_type(qual)
            if not isinstance(t, T.EnumType):
                t = T.EnumType(qual)
        else:
            t = T.parsed_class_type(name)
    while True:                      # postfix [] and ?
        if c.s.startswith("[]", c.i):
            c.i += 2
            t = T.ListType(t)
        elif c.s.startswith("?", c.i):
            c.i += 1
            t = T.OptionalType(t)
        else:
            return t


def _tensor_type(c, dtype, rank_known=True):
    from ..device import device
    if not c.s.startswith("(", c.i):
        return T.TensorType(dtype)
    c.i += 1
    sizes, strides, dev, rg = [], None, None, None
    if c.eat(")"):
        return T.TensorType(dtype, () if rank_known else None)   # `Float()`: a 0-dim tensor
    while not c.eat(")"):
        if c.eat("*"):
            sizes.append(None)
        elif c.eat("strides="):
            c.expect("[")
            strides = []
            while not c.eat("]"):
                strides.append(None if c.eat("*") else
                               int(c.match(_NUMBER, "a stride").group(0)))
                c.eat(",")
        elif c.eat("requires_grad="):
            rg = bool(int(c.match(_NUMBER, "0 or 1").group(0)))
        elif c.eat("device="):
            dev = device(c.match(_DEVICE, "a device").group(0))
        else:
            sizes.append(int(c.match(_NUMBER, "a size").group(0)))
        c.eat(",")
    # as TorchScript's parser: `Float(requires_grad=0, device=cpu)` is a 0-dim tensor (its
    # strides, none, known); `Tensor(requires_grad=0)` and `FloatTensor(...)` have an unknown
    # rank (a dtype-less 0-dim type prints as `Tensor(...)` too: the rank is the usual unknown)
    if not sizes and strides is None:
        if dtype is None or not rank_known:
            return T.TensorType(dtype, None, None, dev, rg)
        strides = []
    return T.TensorType(dtype, tuple(sizes), None if strides is None else tuple(strides), dev, rg)


# a small tensor constant as TorchScript prints it: ATen's C++ print of its values on one
# line, then its type (`value= 1  1  1  1 [ CPUFloatType{2,2} ]`); read back as it is
_TENSOR_TEXT = re.compile(r"[^\[\]\"]*\[ (?:CPU|CUDA)[A-Za-z]*Type\{[\d,]*\} \]")


_UNESCAPED = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unquoted(text: str) -> str:
    """A string constant as the printer writes it (c10::printQuotedString: \\', \\001;
    JSON's \\u0001 too), read back."""
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 == len(body):
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in "01234567":
            j = i + 1
            while j < min(i + 4, len(body)) and body[j] in "01234567":
                j += 1
            out.append(chr(int(body[i + 1:j], 8)))
            i = j
        elif e == "u" and len(body) >= i + 6:
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        else:
            out.append(_UNESCAPED.get(e, e))
            i += 2
    return "".join(out)


def _constant(c: _Cursor):
    m = _TENSOR_TEXT.match(c.s, c.i)
    if m is not None:
        c.i = m.end()
        return Opaque(m.group(0))
    if c.at('"'):
        return _unquoted(c.match(_STRING, "a string").group(0))
    if c.eat("["):
        out = []
        while not c.eat("]"):
            out.append(_constant(c))
            c.eat(",")
        return out
    if c.eat("("):
        out = []
        while not c.eat(")"):
            out.append(_constant(c))
            c.eat(",")
        return tuple(out)
    if c.eat("{"):
        v = _constant(c)
        c.expect("}")
        return ("tensor", v)
    if c.eat("<"):
        name = c.match(_IDENT, "a name").group(0)
        c.expect(">")
        return Opaque(f"<{name}>")
    if c.at("__torch__."):                       # an Enum member: __torch__.Color.RED
        qual, _, member = c.match(_IDENT, "an enum member").group(0).rpartition(".")
        t = T.parsed_class_type(qual)
        found = getattr(getattr(t, "py_class", None), "__members__", {}).get(member)
        if not isinstance(t, T.EnumType) or found is None:
            c.error(f"unknown enum member {qual}.{member}")
        return found
    if c.eat("annotate("):           # annotate(List[int], []): TorchScript's typed empty
        depth = 0                    # container; the value's type is the node's output's
        while depth or not c.at(","):
            if c.i >= len(c.s):
                c.error("an annotate(type, value) constant")
            depth += {"[": 1, "(": 1, "]": -1, ")": -1}.get(c.s[c.i], 0)
            c.i += 1
        c.expect(",")
        v = _constant(c)
        c.expect(")")
        return v
    if c.eat("torch.Generator("):     # a traced generator: torch.Generator(device="cpu",
        kw = {}                      # seed=2023), as the printer writes it
        while not c.eat(")"):
            key = c.match(_IDENT, "a keyword").group(0)
            c.expect("=")
            kw[key] = _constant(c)
            c.eat(",")
        from ..ops.random import Generator
        g = Generator(kw.get("device", "cpu"))
        if kw.get("seed") is not None:
            g.manual_seed(kw["seed"])
        return g
    if c.at("torch."):
        c.i += len("torch.")
        from .. import dtypes as _dt
        return _dt.to_dtype(c.match(_IDENT, "a dtype").group(0))
    if c.at("None"):
        c.i += 4
        return None
    if c.at("True") or c.at("False"):
        v = c.at("True")
        c.i += 4 if v else 5
        return v
    if c.at("Tensor") or any(c.at(n + "(") for n in _scalar_types()):
        return _type(c)             # a TypeCheck's types=[Float(4, 4, ...), ...]
    tok = c.match(_NUMBER, "a constant").group(0)
    m = _IMAG.match(c.s, c.i)
    if m is not None:                   # `0.+1.j`: a complex constant (printer.format_complex)
        c.i = m.end()
        return complex(float(tok), float(m.group(1) + m.group(2)))
    if any(ch in tok for ch in ".eEna") or tok == "-0":    # ({-0}: a float tensor's -0.)
        return float(tok)
    return int(tok)


def _coerce(v, t):
    """A parsed constant as the Python value its type says (bool 1 → True, ...)."""
    from ..device import device
    if isinstance(v, tuple) and len(v) == 2 and v[0] == "tensor":
        from .. import tensor as _tensor_fn
        dtype = t.dtype if isinstance(t, T.TensorType) else None
        dev = t.device if isinstance(t, T.TensorType) else None
        item = v[1]
        if isinstance(item, tuple) and len(item) == 2:     # `{(0,1)}`: a complex item
            item = complex(*item)
        out = _tensor_fn(item, dtype=dtype, device=dev)
        sizes = t.sizes if isinstance(t, T.TensorType) else None
        if sizes is not None and None not in sizes and math.prod(sizes) == 1:
            out = out.reshape(tuple(sizes))     # `Long(1, ...) = ...[value={0}]`: 1-D
        return out
    if isinstance(t, T.OptionalType):
        t = t.elem
    if isinstance(t, T.BoolType) and isinstance(v, int):
        return bool(v)
    if isinstance(t, T.FloatType) and isinstance(v, int):
        return float(v)
    if isinstance(t, T.DeviceType) and isinstance(v, str):
        return device(v)
    if isinstance(t, T.ListType) and isinstance(v, list):
        return [_coerce(x, t.elem) for x in v]
    if isinstance(t, T.TupleType) and isinstance(v, tuple):
        return tuple(_coerce(x, e) for x, e in zip(v, t.elems))
    return v


class _Parser:
    def __init__(self, text):
        self.c = _Cursor(text)
        self.groups = {}        # label -> nodes waiting for their `with` subgraph

    def value_ref(self, env):
        name = self.c.match(_VALUE, "a value like %x").group(1)
        if name not in env:
            # (TorchScript's parser marks the token after the name)
            after = self.c.i
            while after < len(self.c.s) and self.c.s[after] in " \t":
                after += 1
            self.c.error(f"%{name} is used before it is defined",
                         torch_msg=f"Cannot find a variable with name '{name}'", pos=after)
        return env[name]

    def value_refs(self, env, close=")"):
        out = []
        while not self.c.eat(close):
            out.append(self.value_ref(env))
            self.c.eat(",")
        return out

    def params(self, env, block):
        c = self.c
        c.expect("(")
        while not c.eat(")"):
            name = c.match(_VALUE, "a value like %x").group(1)
            c.expect(":")
            v = block.add_input(_type(c))
            self.define(env, name, v)
            c.eat(",")

    def define(self, env, name, v):
        if name in env:
            self.c.error(f"%{name} is defined twice")
        v.set_debug_name(name)
        env[name] = v

    def graph(self, head="graph"):
        c = self.c
        g = Graph()
        self.g = g
        env = {}
        c.expect(head)
        self.params(env, g.block)
        c.expect(":")
        self.stmts(g.block, env)
        c.expect("return")
        c.expect("(")
        for v in self.value_refs(env):
            g.register_output(v)
        return g

    def stmts(self, block, env):
        c = self.c
        while True:
            c.ws()
            if c.at("return") or c.at("->"):
                return
            if c.i >= len(c.s):
                c.error("unexpected end of graph text (missing return?)")
            self.stmt(block, env)

    def stmt(self, block, env):
        c = self.c
        outs = []
        while c.at("%"):
            name = c.match(_VALUE, "a value").group(1)
            c.expect(":")
            outs.append((name, _type(c)))
            c.eat(",")
        c.expect("=")
        kind = c.match(_IDENT, "an operator kind like aten::mul").group(0)
        attrs = {}
        if c.s.startswith("[", c.i):
            c.i += 1
            while not c.eat("]"):
                an = c.match(_IDENT, "an attribute name").group(0)
                c.expect("=")
                if kind == "prim::isinstance" and an == "types" and not c.at('["'):
                    # prim::isinstance[types=[int, str]]: types, kept as their spellings
                    c.expect("[")
                    ts = []
                    while not c.eat("]"):
                        ts.append(str(_type(c)))
                        c.eat(",")
                    attrs[an] = ts
                else:
                    attrs[an] = _constant(c)
                c.eat(",")
        c.expect("(")
        inputs = self.value_refs(env)
        n = self.g.create(OWN_SPELLING.get(kind, kind), inputs,
                          output_types=[t for _, t in outs])
        if kind == "prim::Constant" and "value" in attrs:
            attrs["value"] = _coerce(attrs["value"], outs[0][1])
        n.attrs = attrs
        m = re.match(r"(prim::\w+?)_(\d+)$", kind)
        if m:
            n.kind = kind_of(m.group(1))
            self.groups.setdefault(kind, []).append(n)
        c.ws(newlines=False)
        if c.s.startswith(", scope:", c.i):
            c.i += len(", scope:")
            c.ws(newlines=False)
            line = c.rest_of_line()
            scope, _, comment = line.partition(" #")
            n.scope = scope.strip()
            if comment:
                n.source_range = _source_range(comment)
        elif c.s.startswith("#", c.i):
            c.i += 1
            n.source_range = _source_range(c.rest_of_line())
        block.append(n)
        for (name, _), v in zip(outs, n.outputs):
            self.define(env, name, v)
        k = 0
        while c.at(f"block{k}"):
            c.i += len(f"block{k}")
            b = n.add_block()
            benv = dict(env)
            self.params(benv, b)
            c.expect(":")
            self.stmts(b, benv)
            c.expect("->")
            c.expect("(")
            for v in self.value_refs(benv):
                b.register_output(v)
            k += 1

    def parse(self):
        g = self.graph()
        c = self.c
        # (torch's Graph::print numbers each graph's subgraphs from 0 and prints a
        # subgraph's own right after it: a label is the latest graph's still waiting)
        pending = [self.groups]
        while c.eat("with"):
            label = c.match(_IDENT, "a group label").group(0)
            c.expect("=")
            sub = _Parser.__new__(_Parser)
            sub.c, sub.groups = c, {}
            subgraph = sub.graph()
            for waiting in reversed(pending):
                if label in waiting:
                    for n in waiting.pop(label):
                        n.attrs[SUBGRAPH_ATTR] = subgraph
                    break
            pending.append(sub.groups)
        c.ws()
        if c.i != len(c.s):
            c.error("unexpected text after the graph")
        return g


def _source_range(text):
    text = text.strip()
    try:
        fname, line, col = text.rsplit(":", 2)
        return SourceRange(fname, int(line), int(col))
    except ValueError:
        return SourceRange(text, 0, 0)


def parse_ir(text: str) -> Graph:
    """Graph text (as `str(graph)` prints it) → Graph."""
    return _Parser(text).parse()
