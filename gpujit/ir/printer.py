"""Graph → TorchScript's text format (what `str(graph)` shows and `parse_ir` reads back).

    graph(%x.1 : Tensor,
          %h.1 : Tensor):
      %2 : int = prim::Constant[value=1]()
      %y : Tensor = aten::add(%x.1, %h.1, %2) # model.py:3:8
      return (%y)

A node holding a subgraph (a fusion group) prints as `prim::TensorExprGroup_0(...)`, and
the subgraph follows the main graph as `with prim::TensorExprGroup_0 = graph(...)`.
"""
from __future__ import annotations

import enum as _enum
import json
import math
import sys

from .. import dtypes as _dt
from .._cpp_text import tensor_text
from . import types as T
from .with_objects import REGION_CLASSES, region_object
from .graph import TORCH_SPELLING

__all__ = ["print_graph", "format_constant", "SUBGRAPH_ATTR"]

SUBGRAPH_ATTR = "Subgraph"


def format_float(v: float) -> str:
    """A float as TorchScript writes one (IValue::repr, in graphs and code alike): a
    whole number under 1e10 as `1.` / `100.` / `-0.`, any other with 17 significant
    digits (`0.10000000000000001`, `1.0000000000000001e-05`, `1e+20`)."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if (v == 0 or abs(v) >= sys.float_info.min) and abs(v) < 1e10 and v == int(v):
        return "-0." if v == 0 and math.copysign(1.0, v) < 0 else f"{int(v)}."
    return "%.17g" % v


def format_complex(v: complex) -> str:
    """A complex number as TorchScript writes one: `0.+1.j`, `2.5-1.j` (each part as
    format_float, the imaginary part's sign between them)."""
    imag = v.imag
    sign = "-" if imag < 0 or (imag == 0 and math.copysign(1.0, imag) < 0) else "+"
    return f"{format_float(v.real)}{sign}{format_float(abs(imag))}j"


# torch/csrc/jit/ir/ir.cpp's max_tensor_display_size: a tensor constant of more elements
# prints as <Tensor>
_MAX_TENSOR_DISPLAY_SIZE = 10


def _states_layout(t) -> bool:
    return isinstance(t, T.TensorType) and t.dtype is not None and t.sizes is not None \
        and None not in t.sizes


def _tensor_item_text(x) -> str:
    """A one-element tensor constant's value as TorchScript's graphs show it (C++'s
    stream of the item: 6 significant digits, `{0.333333}`, `{1e-05}`, `{2}`, `{-0}`;
    a bool as `{1}`)."""
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, float):
        return "%g" % x
    if isinstance(x, complex):          # (c10::complex's stream: `(0,1)`, `(2.5,-1)`)
        return f"({x.real:g},{x.imag:g})"
    return format_constant(x)


def format_constant(v, type_=None, _inside=False) -> str:
    """An attribute value as graph text (a constant's `value=`)."""
    from ..tensor import Tensor
    from ..device import device
    if v is None:
        return "None"
    if isinstance(v, _enum.Enum):                 # __torch__.Color.RED
        return f"{T.type_of_value(v).name}.{v.name}"
    if isinstance(v, bool):
        return str(int(v)) if isinstance(type_, T.BoolType) else str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float(v)
    if isinstance(v, complex):
        return format_complex(v)
    if isinstance(v, str):
        from ..jit.objects import _quoted       # (c10::printQuotedString: "it\'s")
        return _quoted(v)
    if isinstance(v, device):
        return json.dumps(str(v))
    if isinstance(v, (_dt.dtype, _dt._QuantizedDtype)):
        return f"torch.{v.name}"
    if isinstance(v, Tensor):
        if v._data.ndim == 0 or (v._data.size == 1 and _states_layout(type_)):
            # one element, as TorchScript prints it (of more dims: when the constant's type
            # gives its sizes and dtype, which the parser reads it back with)
            return "{" + _tensor_item_text(v.item()) + "}"
        if 1 < v._data.size <= _MAX_TENSOR_DISPLAY_SIZE and not _inside:
            # (ATen's C++ print of it, newlines made spaces: `value= 1  1  1  1 [
            # CPUFloatType{2,2} ]`, as TorchScript's printAttribute writes a small tensor;
            # inside a list or tuple constant it stays <Tensor>)
            return tensor_text(v._data, v._dtype, v.device.type == "cpu").replace("\n", " ")
        return "<Tensor>"
    # (a bool inside a list or tuple is True / False, as IValue's printer writes it: torch
    # 2.13's `prim::Constant[value=(False, True)]`; alone it is 0 / 1)
    if isinstance(v, list):
        if v and all(isinstance(x, Tensor) for x in v):
            return "[<Tensors>]"        # (a Tensor[] constant, as IValue prints a TensorList)
        et = type_.elem if isinstance(type_, T.ListType) else None
        if not v and et is not None:            # (IValue's repr of an empty list)
            return f"annotate({type_.annotation()}, [])"
        return "[" + ", ".join(str(x) if isinstance(x, bool) else format_constant(x, et, True)
                               for x in v) + "]"
    if isinstance(v, tuple):
        ets = type_.elems if isinstance(type_, T.TupleType) else [None] * len(v)
        inner = ", ".join(str(x) if isinstance(x, bool) else format_constant(x, t, True)
                          for x, t in zip(v, ets))
        return "(" + inner + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, T.Type):           # a TypeCheck's types=[...]
        return str(v)
    if type(v).__name__ == "Opaque":
        return v.text
    from .graph import Graph
    if isinstance(v, Graph):
        return "<Graph>"
    from ..ops.random import Generator
    if isinstance(v, Generator):        # (a traced generator=), as TorchScript prints it
        return f'torch.Generator(device="{v.device}", seed={v.initial_seed()})'
    return f"<{type(v).__name__}>"


# kinds TorchScript's emitter and tracer create without a source range (Graph::create*
# helpers): their lines show no `# file:line:col` (gpujit keeps the range, for errors)
NO_RANGE_SHOWN = frozenset((
    "prim::GetAttr", "prim::ListConstruct", "prim::TupleConstruct", "prim::DictConstruct",
    "prim::ListUnpack", "prim::TupleUnpack", "prim::TupleIndex", "prim::unchecked_cast",
    "prim::EnumValue", "prim::EnumName"))


def _shown_type(t) -> str:
    """A value's type as the graph shows it: a dtype is an int in TorchScript's graphs
    (`%5 : int = prim::Constant[value=6]()`), gpujit's ScalarType values included."""
    return "int" if isinstance(t, T.ScalarTypeType) else str(t)


class _Printer:
    def __init__(self):
        self.lines = []
        self.subgraphs = []      # (label, graph)
        self.fresh = None        # the next number free for a region object's values
        self.open = []           # open regions: (name, owning block, the object's name)

    def fresh_name(self, g) -> str:
        if self.fresh is None:
            self.fresh = 1 + max((int(v.debug_name) for v in _values(g)
                                  if v.debug_name.isdigit()), default=0)
        self.fresh += 1
        return str(self.fresh - 1)

    def region(self, n, pad) -> bool:
        """A `with` region's prim::Enter / prim::Exit as TorchScript's graph shows it
        (ir/with_objects.py): the context manager's object made (its constant __init__
        arguments just before), __init__-ed and entered; the Exit takes the object.
        False when n is no such node."""
        name = n.attrs.get("name")
        if n.kind == "prim::Exit" and name in REGION_CLASSES:
            k = next((i for i in range(len(self.open) - 1, -1, -1)
                      if self.open[i][0] == name), None)
            if k is None:
                return False
            obj = self.open[k][2]
            if self.open[k][1] is n.owning_block:
                del self.open[k]
            self.lines.append(f"{pad}%{self.fresh_name(n.graph)} : Tensor = prim::Exit(%{obj})")
            return True
        ro = region_object(n)
        if ro is None:
            return False
        loc = f" # {n.source_range}" if n.source_range is not None else ""
        args = []
        for a in ro.args:
            if not isinstance(a, (str, bool, int, type(None))):
                args.append(f"%{a.debug_name}")
                continue
            c = self.fresh_name(n.graph)
            ty = {str: "str", bool: "bool", int: "int"}.get(type(a), "NoneType")
            value = "" if a is None else \
                f"[value={format_constant(a, T.BoolType() if a is True or a is False else None)}]"
            self.lines.append(f"{pad}%{c} : {ty} = prim::Constant{value}()")
            args.append(f"%{c}")
        obj, init, ent = (self.fresh_name(n.graph) for _ in range(3))
        self.lines.append(f"{pad}%{obj} : {ro.cls} = prim::CreateObject(){loc}")
        self.lines.append(f"{pad}%{init} : NoneType = prim::CallMethod[name=\"__init__\"]("
                          f"{', '.join([f'%{obj}'] + args)}){loc}")
        self.lines.append(f"{pad}%{ent} : {ro.cls if ro.enter_self else 'NoneType'} = "
                          f"prim::Enter(%{obj})")
        self.open.append((name, n.owning_block, obj))
        return True

    def value_list(self, vs, with_types):
        if with_types:
            return ", ".join(f"%{v.debug_name} : {_shown_type(v.type)}" for v in vs)
        return ", ".join(f"%{v.debug_name}" for v in vs)

    def node(self, n, indent):
        pad = " " * indent
        if n.kind in ("prim::Enter", "prim::Exit") and self.region(n, pad):
            return
        outs = self.value_list(n.outputs, True)
        kind = TORCH_SPELLING.get(n.kind, n.kind)
        attrs = {k: v for k, v in n.attrs.items()}
        if n.kind == "prim::CallFunction" and n.inputs and \
                isinstance(n.inputs[0].type, T.FunctionType):
            attrs.pop("name", None)     # (torch's form: the name is its Function constant's)
        if SUBGRAPH_ATTR in attrs:
            label = f"{kind}_{len(self.subgraphs)}"
            self.subgraphs.append((label, attrs.pop(SUBGRAPH_ATTR)))
            kind = label
        line = f"{pad}{outs} = {kind}"
        if attrs:
            ty = n.outputs[0].type if n.kind == "prim::Constant" and n.outputs else None
            if isinstance(ty, T.ScalarTypeType) and isinstance(
                    attrs.get("value"), (_dt.dtype, _dt._QuantizedDtype)):
                # (a dtype is its ScalarType code in TorchScript's graphs: value=6)
                attrs["value"] = _dt.scalar_type_code(attrs["value"])
            line += "[" + ", ".join(
                f"{k}=[{', '.join(v)}]" if k == "types" and kind == "prim::isinstance"
                else f"{k}={format_constant(v, ty)}"     # (isinstance's types as types,
                for k, v in attrs.items()) + "]"         # types=[int], as TorchScript's)
        line += f"({self.value_list(n.inputs, False)})"
        if n.scope:
            line += f", scope: {n.scope}"
        # (a NamedTuple's construction shows its range: NamedTupleConstructor sets it)
        if n.source_range is not None and (n.kind not in NO_RANGE_SHOWN or (
                n.kind == "prim::TupleConstruct" and len(n.outputs) == 1 and
                isinstance(n.outputs[0].type, T.NamedTupleType))):
            line += f" # {n.source_range}"
        self.lines.append(line)
        for i, b in enumerate(n.blocks):
            self.lines.append(f"{pad}  block{i}({self.value_list(b.inputs, True)}):")
            for m in b.nodes:
                self.node(m, indent + 4)
            self.lines.append(f"{pad}    -> ({self.value_list(b.outputs, False)})")

    def graph(self, g, head="graph"):
        self.fresh, self.open = None, []
        ins = [f"%{v.debug_name} : {_shown_type(v.type)}" for v in g.inputs]
        sep = ",\n      "      # (torch's Graph::print: 6 spaces, a subgraph's too)
        self.lines.append(f"{head}({sep.join(ins)}):")
        for n in g.nodes:
            self.node(n, 2)
        self.lines.append(f"  return ({self.value_list(g.outputs, False)})")


def _values(g):
    yield from g.inputs
    for n in g.walk():
        yield from n.outputs
        for b in n.blocks:
            yield from b.inputs


def _print_subgraphs(p, subs):
    """Each (label, subgraph) after what made them, as torch's Graph::print: a subgraph
    prints as a graph of its own, its own groups numbered from 0 and printed right after
    it (a DifferentiableGraph_0 holding a TensorExprGroup_0)."""
    for label, sub in subs:
        p.subgraphs = []
        p.graph(sub, head=f"with {label} = graph")
        _print_subgraphs(p, p.subgraphs)


def print_node(n) -> str:
    """One node as the graph prints it (with its blocks; a group's subgraph after it)."""
    p = _Printer()
    p.node(n, 0)
    _print_subgraphs(p, p.subgraphs)
    return "\n".join(p.lines) + "\n"


def print_graph(g) -> str:
    p = _Printer()
    p.graph(g)
    _print_subgraphs(p, p.subgraphs)
    return "\n".join(p.lines) + "\n"
