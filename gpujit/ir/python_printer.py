"""Graph → readable Python source in TorchScript's `.code` style (`python_source`).

    def forward(self,
        x: Tensor,
        h: Tensor) -> Tuple[Tensor, Tensor]:
      _0 = self.linear
      weight = _0.weight
      bias = _0.bias
      _1 = torch.addmm(bias, x, torch.t(weight), beta=1, alpha=1)
      _2 = torch.tanh(torch.add(_1, h, alpha=1))
      return (_2, _2)

The rules are TorchScript's python_print.cpp, so the text reads like the `.code` users
know from PyTorch:

- An SSA value is written inline into its one use when it has no debug name (or feeds a
  block's return), its node has one output and no blocks, and the nodes appear in the
  order Python would evaluate the nested expression (the producer sits right before its
  user, constants skipped, inputs matched right to left). Inlining then never moves any
  node, side-effecting or not, relative to another. Constants are always inlined.
- An inlined argument whose text would make a line of 40+ characters is written out as
  its own statement, together with every inlined argument left of it (so that order is
  still kept).
- Other values get names: the debug name without its `.N` suffix, numbered on a clash
  (`rv`, `rv0`, `rv1`, ...), else `_0`, `_1`, ...
- aten ops print as `torch.name(...)` with kwarg-only schema arguments as `name=value`;
  other namespaces as `ops.ns.name(...)`. Loops print as `for i in range(n):` or TorchScript's
  `while` form, with carried values assigned before the loop and at the end of the body.

The result is valid Python (the tests `ast.parse` it); names Python would read as
builtins this code calls (`torch`, `bool`, `range`, ...) are never given to values.
"""
from __future__ import annotations

import enum as _enum
import json
import keyword
import math
import re

from . import types as T
from .graph import Graph
from .printer import SUBGRAPH_ATTR, format_float

__all__ = ["python_source"]

_MAX_INLINE = 40     # TorchScript's isLongLine: len(text) + 2 * indent level >= 40
_INT64_MAX = 2 ** 63 - 1

# Names a value may not take: Python keywords, TorchScript's reserved identifiers, and the
# names the printed code itself calls, so that the code means what the graph means.
_RESERVED = frozenset(keyword.kwlist) | {
    "_", "aten", "attribute", "CONSTANTS", "fork", "getattr", "inf", "nan", "ops",
    "__torch__", "torch", "annotate", "uninitialized", "bool", "int", "float", "str",
    "range", "print", "isinstance"}

_SUFFIX = re.compile(r"^(.*)\.(\d+)$")

# Container ops (no registry op) print as the Python the script frontend compiles back
# into the same node (save/load relies on it); parenthesized where they could bind
# differently inlined. (Number ops and `is` print as TorchScript does: torch.lt(i, 10),
# torch.__isnot__(x, None).)
_CONTAINER_FORMS = {"aten::__getitem__": "{0}[{1}]", "aten::__contains__": "({1} in {0})",
                    "aten::len": "len({0})", "aten::list": "list({0})",
                    "aten::keys": "{0}.keys()", "aten::values": "{0}.values()",
                    "aten::items": "{0}.items()"}
# container mutators: a statement; the node's output is the container itself
# autograd calls from scripted code, as written
_AUTOGRAD_FORMS = {"aten::grad": lambda ins: f"torch.autograd.grad({', '.join(ins)})",
                   "aten::backward": lambda ins: f"torch.autograd.backward({', '.join(ins)})",
                   "aten::requires_grad_":
                   lambda ins: f"{_primary(ins[0])}.requires_grad_({ins[1]})"}
_MUTATOR_FORMS = {"aten::append": "{0}.append({1})", "aten::_set_item": "{0}[{1}] = {2}"}
# `with` regions (prim::Enter / prim::Exit[name=...]) and the call that opens each
_REGIONS = {"strict_fusion": "torch.jit.strict_fusion()", "no_grad": "torch.no_grad()",
            "enable_grad": "torch.enable_grad()"}


def _region_call(n):
    """The call a `with` region's prim::Enter prints as."""
    a = n.attrs
    if a["name"] == "autocast":
        return (f"torch.autocast(\"{a['device_type']}\", dtype=torch.{a['dtype']}, "
                f"enabled={bool(a['enabled'])})")
    return _REGIONS[a["name"]]


_SCALAR_CASTS = {"aten::Bool": "bool", "aten::Int": "int", "aten::Float": "float",
                 "aten::str": "str", "aten::hash": "hash"}


def python_source(graph, name: str = "forward", self_name: str | None = None,
                  arg_names=None, constants: list | None = None,
                  is_method: bool | None = None) -> str:
    """The graph as the source of a Python function `name`, in TorchScript's `.code` style.

    A first input of module type (a ClassType) prints as `self` without an annotation: the
    function reads as a method. `self_name` renames it, and, when given, makes the first
    input print that way whatever its type; is_method=False says the function is a free
    one whose first parameter has a class type (a script class), True that it is a method.
    `arg_names` names the inputs (all of them, or all but the module input); by default
    the names come from the inputs' debug names.
    Constants Python source cannot spell (tensors) print as `CONSTANTS.c<k>`, k their
    index in `constants` (a list the caller passes to share one table between functions,
    as save does; the printer appends to it).
    """
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"python_source: {name!r} is not a valid Python function name")
    p = _FunctionPrinter(graph)
    if constants is not None:
        p.tensor_constants = constants
    return p.function(name, self_name, arg_names, is_method)


def _widens(src, dst) -> bool:
    """A cast of a src to a wider dst (Tensor -> Optional[Tensor]), not a refinement."""
    return src != dst and src.is_subtype_of(dst)


def _isinstance_text(x: str, types) -> str:
    """prim::isinstance[types=[...]] as the isinstance() call the frontend compiles back
    into it (`types` are graph-text spellings of the accepted Union members)."""
    from .parser import parse_type
    names = ["type(None)" if t == "NoneType" else parse_type(t).annotation() for t in types]
    return f"isinstance({x}, {names[0] if len(names) == 1 else '(' + ', '.join(names) + ')'})"


def _keyword_only_by_name(n, args):
    """A call's arguments as text, those for the callee's keyword-only parameters passed
    by name (`f(a, b=x)` for `def f(a, *, b)`)."""
    callee = n.meta.get("callee")
    k = getattr(callee, "kwarg_only", 0)
    if not k or len(args) > len(callee.inputs):
        return list(args)
    names = [_base_name(v.debug_name) for v in callee.inputs[len(callee.inputs) - k:]]
    return list(args[:-k]) + [f"{a}={x}" for a, x in zip(names, args[-k:])]


def _base_name(debug_name: str) -> str:
    m = _SUFFIX.match(debug_name)
    return m.group(1) if m else debug_name


def _valid_identifier(candidate: str) -> str:
    out = "".join(c if (c.isascii() and (c.isalnum() or c == "_")) else "_"
                  for c in candidate)
    return "_" + out if not out or out[0].isdigit() else out


def _primary(expr: str) -> str:
    """expr, parenthesized where a trailing `.attr` / `[i]` would bind differently."""
    return f"({expr})" if expr.startswith("-") else expr


def _constant_value(v):
    """(True, value) when v is a prim::Constant, else (False, None)."""
    n = v.node
    if n.kind != "prim::Constant":
        return False, None
    return True, n.attrs.get("value")


def _is_true_constant(v) -> bool:
    is_const, value = _constant_value(v)
    return is_const and value is not None and bool(value)


class _FunctionPrinter:
    def __init__(self, graph):
        self.graph = graph
        self.lines: list[str] = []
        self.level = 0
        self.used: set[str] = set()
        self.next_id: dict[str, int] = {}
        self.exprs: dict = {}          # Value -> how it is written at its use
        self.inline: set = set()       # nodes whose one output is written into its use
        self.position: dict = {}       # Node -> index in its block (return node: len)
        self.tensor_constants: list = []
        self.new_objects: dict = {}    # prim::CreateObject output -> class, until __init__
        self.regions: list = []        # open `with` regions: (block, first line)

    # ------------------------------------------------------------------ names
    def gen_name(self, candidate: str) -> str:
        name = candidate
        while name in self.used or name in _RESERVED:
            k = self.next_id.get(name, 0)
            self.next_id[name] = k + 1
            name = candidate + str(k)
        self.used.add(name)
        return name

    def name_for(self, v) -> str:
        candidate = _valid_identifier(_base_name(v.debug_name)) if v.has_debug_name() else "_"
        return self.gen_name(candidate)

    def assign_names(self, values):
        for v in values:
            self.exprs[v] = self.name_for(v)

    def use(self, v) -> str:
        cls = self.new_objects.pop(v, None)
        if cls is not None:      # used before its __init__ call: TorchScript's spelling
            self.assign_names([v])
            self.line(f"{self.exprs[v]} = {cls}.__new__({cls})")
        try:
            return self.exprs[v]
        except KeyError:
            raise ValueError(f"python_source: {v} is used before it is defined "
                             f"(graph.lint() finds where)") from None

    # ------------------------------------------------------------------ output
    def line(self, text: str):
        self.lines.append("  " * self.level + text)

    def is_long(self, text: str) -> bool:
        return len(text) + 2 * self.level >= _MAX_INLINE

    # ------------------------------------------------------------------ the function
    def function(self, name, self_name, arg_names, is_method=None) -> str:
        g = self.graph
        inputs = list(g.inputs)
        if is_method is None:
            is_method = self_name is not None or (
                bool(inputs) and isinstance(inputs[0].type, T.ClassType)
                and not isinstance(inputs[0].type, T.NamedTupleType))
        is_method = is_method and bool(inputs)
        names = self.argument_names(inputs, is_method, self_name, arg_names)
        params = []
        first_kw = len(inputs) - g.kwarg_only
        for i, (v, n) in enumerate(zip(inputs, names)):
            self.exprs[v] = n
            if i == first_kw and g.kwarg_only:
                params.append("*")      # keyword-only parameters follow
            ann = v.type.annotation()
            if i in g.broadcast and isinstance(v.type, T.ListType):
                ann = f"BroadcastingList{g.broadcast[i]}[{v.type.elem.annotation()}]"
            params.append(n if (i == 0 and is_method) else f"{n}: {ann}")
        outs = list(g.outputs)
        if len(outs) == 1:
            ret = outs[0].type.annotation()
        elif not outs:
            ret = "None"
        else:
            ret = T.TupleType(tuple(v.type for v in outs)).annotation()
        # one line (TorchScript breaks after each argument; a one-line signature reads and
        # greps better)
        if any(_names_module(v.type) for v in outs):
            # a module's type (a method returning self or a submodule) has no name the
            # loader's code can see: the result type is inferred from the body instead
            self.lines.append(f"def {name}({', '.join(params)}):")
        else:
            self.lines.append(f"def {name}({', '.join(params)}) -> {ret}:")
        self.index_block(g.block)
        self.scan_block(g.block)
        self.level = 1
        start = len(self.lines)
        for n in self.constants_in_use_order(g.block):
            self.print_node(n, print_const=True)
        self.print_block(g.block, has_other=True)
        self.print_return(g.return_node)
        if len(self.lines) == start:
            self.line("pass")
        return "\n".join(self.lines) + "\n"

    def argument_names(self, inputs, is_method, self_name, arg_names):
        if arg_names is not None:
            arg_names = list(arg_names)
            if is_method and len(arg_names) == len(inputs) - 1:
                arg_names = [self_name or "self"] + arg_names
            if len(arg_names) != len(inputs):
                raise ValueError(f"python_source: {len(arg_names)} arg_names for a graph "
                                 f"with {len(inputs)} inputs")
            for a in arg_names:
                if not a.isidentifier() or keyword.iskeyword(a):
                    raise ValueError(f"python_source: arg name {a!r} is not a Python "
                                     f"identifier")
            if len(set(arg_names)) != len(arg_names):
                raise ValueError(f"python_source: arg_names repeat a name: {arg_names}")
            return [self.gen_name(a) for a in arg_names]
        names = []
        for i, v in enumerate(inputs):
            if i == 0 and is_method:
                names.append(self.gen_name(self_name or "self"))
            elif v.has_debug_name():
                names.append(self.gen_name(_valid_identifier(_base_name(v.debug_name))))
            else:    # as TorchScript's tracer names unnamed inputs
                names.append(self.gen_name(f"argument_{i}"))
        return names

    # ------------------------------------------------------------------ inlining analysis
    def index_block(self, block):
        for i, n in enumerate(block.nodes):
            self.position[n] = i
            for b in n.blocks:
                self.index_block(b)
        self.position[block.return_node] = len(block.nodes)

    def previous_non_constant(self, n):
        block = n.owning_block
        i = self.position[n] - 1
        while i >= 0 and block.nodes[i].kind == "prim::Constant":
            i -= 1
        return block.nodes[i] if i >= 0 else block.param_node

    def can_inline(self, v) -> bool:
        n = v.node
        if n.kind == "prim::Param" or len(n.outputs) != 1 or len(v.uses) != 1 or n.blocks:
            return False
        user, offset = v.uses[0].user, v.uses[0].offset
        # a named value was a variable in the source: keep it, unless it is just returned
        if v.has_debug_name() and user.kind != "prim::Return":
            return False
        # a loop-carried initial value must be assigned before the loop header
        return not (user.kind == "prim::Loop" and offset >= 2)

    def scan_block(self, block):
        self.scan_node(block.return_node)
        for n in reversed(block.nodes):
            self.scan_node(n)

    def scan_node(self, node):
        """Mark which inputs of node (and, recursively, of those) are written inline: walk
        the inputs right to left while walking the block backwards from node; while each
        input is made by the node at the walk's current point, the expression tree and the
        node order agree. Iterative, so a long chain cannot exhaust Python's stack."""
        if node in self.inline:
            return
        for b in node.blocks:
            self.scan_block(b)
        stack = [[node, len(node.inputs) - 1, self.previous_non_constant(node)]]
        while stack:
            frame = stack[-1]
            n, i, point = frame
            if i < 0:
                stack.pop()
                if stack:
                    stack[-1][2] = point
                continue
            frame[1] = i - 1
            v = n.inputs[i]
            m = v.node
            if m is point and self.can_inline(v):
                self.inline.add(m)
                stack.append([m, len(m.inputs) - 1, self.previous_non_constant(m)])
            elif m.kind == "prim::Constant":
                self.inline.add(m)

    # ------------------------------------------------------------------ statements
    def constants_in_use_order(self, block):
        seen, out = set(), []

        def visit(b):
            for n in b.nodes:
                for v in n.inputs:
                    if v.node.kind == "prim::Constant" and v.node not in seen:
                        seen.add(v.node)
                        out.append(v.node)
                for sub in n.blocks:
                    visit(sub)
            for v in b.outputs:
                if v.node.kind == "prim::Constant" and v.node not in seen:
                    seen.add(v.node)
                    out.append(v.node)
        visit(block)
        return out

    def print_block(self, block, has_other: bool) -> bool:
        """Print block's nodes; `pass` when nothing printed and nothing follows.
        Returns whether any line was printed."""
        start = len(self.lines)
        for n in block.nodes:
            self.print_node(n)
        while self.regions and self.regions[-1][0] is block:     # a region that raised
            self.close_region()
        if len(self.lines) == start and not has_other:
            self.line("pass")
        return len(self.lines) > start

    def print_node(self, n, print_const=False):
        if n.kind == "prim::Constant" and not print_const:
            return
        self.split_long_inlines(n.inputs)
        k = n.kind
        if k == "prim::CreateObject" and len(n.outputs) == 1:
            # written with its __init__ call: `p = Pair(x, 1)`, as the source had it
            self.new_objects[n.outputs[0]] = n.outputs[0].type.annotation()
        elif k == "prim::CallMethod" and n.attrs.get("name") == "__init__" and \
                n.inputs and n.inputs[0] in self.new_objects:
            obj = n.inputs[0]
            cls = self.new_objects.pop(obj)
            args = ", ".join(self.use(v) for v in n.inputs[1:])
            self.assign_names([obj])
            self.line(f"{self.exprs[obj]} = {cls}({args})")
            for o in n.outputs:
                self.exprs[o] = "None"
        elif k in ("prim::Enter", "prim::Exit") and (n.attrs.get("name") in _REGIONS
                                                      or n.attrs.get("name") == "autocast"):
            if k == "prim::Enter":
                self.line(f"with {_region_call(n)}:")
                self.level += 1
                self.regions.append((n.owning_block, len(self.lines)))
            elif self.regions and self.regions[-1][0] is n.owning_block:
                self.close_region()
        elif k == "prim::If":
            self.print_if(n)
        elif k == "prim::Loop":
            self.print_loop(n)
        elif k in ("prim::TupleUnpack", "prim::ListUnpack"):
            self.assign_names(n.outputs)
            outs = [self.use(v) for v in n.outputs]
            target = (outs[0] + ",") if len(outs) == 1 else (", ".join(outs) or "()")
            self.line(f"{target} = {self.use(n.inputs[0])}")
        elif k in _MUTATOR_FORMS and n.op is None:
            target = n.inputs[0].node
            if target in self.inline and target.kind != "prim::Constant":
                # the output names the container: give an inlined one a name first
                self.inline.discard(target)
                self.print_definition(target, self.use(n.inputs[0]))
            self.line(_MUTATOR_FORMS[k].format(*(self.use(v) for v in n.inputs)))
            for o in n.outputs:
                self.exprs[o] = self.use(n.inputs[0])
        elif k == "prim::SetAttr":
            obj, value = n.inputs
            self.line(f"{self.attribute(self.use(obj), n.attrs['name'])} = {self.use(value)}")
        elif k in ("prim::fork", "prim::awaitable"):
            self.print_fork(n)
        elif n.blocks:
            self.print_block_call(n)
        else:
            rhs = self.rhs(n)
            if n not in self.inline or (k == "prim::Constant" and self.is_long(rhs)):
                self.print_definition(n, rhs)
            else:
                self.exprs[n.outputs[0]] = rhs

    def close_region(self):
        _, first = self.regions.pop()
        if len(self.lines) == first:
            self.line("pass")
        self.level -= 1

    def print_definition(self, n, rhs):
        self.assign_names(n.outputs)
        if n.outputs:
            self.line(f"{', '.join(self.use(v) for v in n.outputs)} = {rhs}")
        else:
            self.line(rhs)

    def split_long_inlines(self, inputs):
        """Write out an inlined argument that is too long for one line, and every inlined
        argument left of it, as statements (in order, so no evaluation moves)."""
        last = 0
        for i, v in enumerate(inputs):
            if v.node in self.inline and self.is_long(self.use(v)):
                last = i + 1
        for v in inputs[:last]:
            n = v.node
            if n.kind != "prim::Constant" and n in self.inline:
                self.inline.discard(n)
                self.print_definition(n, self.use(v))

    def typed_use(self, v) -> str:
        """A value assigned to a variable: a None constant of an Optional type says its
        type (`annotate(Optional[Pair], None)`), so that the variable compiles back to
        the same type."""
        is_const, value = _constant_value(v)
        if is_const and value is None and isinstance(v.type, T.OptionalType):
            return f"annotate({v.type.annotation()}, None)"
        return self.use(v)

    def print_assignment(self, lhs, rhs):
        if lhs:
            self.line(f"{', '.join(lhs)} = {', '.join(rhs)}")

    def print_return(self, ret):
        self.split_long_inlines(ret.inputs)
        outs = [self.use(v) for v in ret.inputs]
        if len(outs) == 1:
            self.line(f"return {outs[0]}")
        elif outs:
            self.line(f"return ({', '.join(outs)})")

    def print_if(self, n):
        self.assign_names(n.outputs)
        outs = [self.use(v) for v in n.outputs]
        self.line(f"if {self.use(n.inputs[0])}:")
        then_block, else_block = n.blocks
        self.level += 1
        self.print_block(then_block, bool(outs))
        self.print_assignment(outs, [self.typed_use(v) for v in then_block.outputs])
        self.level -= 1
        start = len(self.lines)
        self.line("else:")
        self.level += 1
        printed = self.print_block(else_block, True)
        self.print_assignment(outs, [self.typed_use(v) for v in else_block.outputs])
        self.level -= 1
        if not printed and not outs:     # an empty else: reads better left out
            del self.lines[start:]

    def print_loop(self, n):
        """for / while as TorchScript prints them. A loop with both a trip count and a
        condition (TorchScript refuses to print one) reads as a `for` that breaks."""
        trip, cond_in, carried_in = n.inputs[0], n.inputs[1], n.inputs[2:]
        body = n.blocks[0]
        trip_in, body_carried = body.inputs[0], body.inputs[1:]
        cond_next, carried_next = body.outputs[0], body.outputs[1:]
        always_true = _is_true_constant(cond_in) and _is_true_constant(cond_next)
        is_const, max_trip = _constant_value(trip)
        trip_given = not is_const or max_trip != _INT64_MAX or bool(trip_in.uses)

        self.assign_names(n.outputs)
        for b, o in zip(body_carried, n.outputs):
            self.exprs[b] = self.exprs[o]
        carried = [self.use(v) for v in n.outputs]
        self.print_assignment(carried, [self.typed_use(v) for v in carried_in])
        self.assign_names([trip_in])
        i = self.use(trip_in)

        def next_values():     # read after the body is printed, which defines them
            return [self.typed_use(v) for v in carried_next]
        if always_true and trip_given:
            self.line(f"for {i} in range({self.use(trip)}):")
            self.level += 1
            self.print_block(body, bool(carried))
            self.print_assignment(carried, next_values())
        elif not trip_given:             # the trip count's name stands for the condition
            self.print_assignment([i], [self.use(cond_in)])
            self.line(f"while {i}:")
            self.level += 1
            self.print_block(body, True)
            self.print_assignment([i] + carried, [self.use(cond_next)] + next_values())
        else:
            c = self.gen_name("_")
            self.print_assignment([c], [self.use(cond_in)])
            self.line(f"for {i} in range({self.use(trip)}):")
            self.level += 1
            self.line(f"if not {c}:")
            self.line("  break")
            self.print_block(body, True)
            self.print_assignment([c] + carried, [self.use(cond_next)] + next_values())
        self.level -= 1

    def print_fork(self, n):
        """prim::fork: its block as a local function, forked (`fut = fork(_block)`), as
        TorchScript prints a fork's closure; the frontend compiles it back. A
        prim::awaitable's block takes the node's inputs as its parameters:
        `aw = torch.jit._awaitable(_block, x)`."""
        b = n.blocks[0]
        fn = self.gen_name("_block")
        self.assign_names(b.inputs)
        self.line(f"def {fn}({', '.join(self.use(v) for v in b.inputs)}):")
        self.level += 1
        self.print_block(b, True)
        self.split_long_inlines(b.outputs)
        self.line(f"return {self.use(b.outputs[0])}")
        self.level -= 1
        if n.kind == "prim::fork":
            self.print_definition(n, f"fork({fn})")
        else:
            args = "".join(f", {self.use(v)}" for v in n.inputs)
            self.print_definition(n, f"torch.jit._awaitable({fn}{args})")

    def print_block_call(self, n):
        """A node with blocks other than If/Loop (prim::With, prim::Closure, ...): each block
        becomes a local function, passed to the op after its inputs."""
        fns = []
        for b in n.blocks:
            fn = self.gen_name("_block")
            fns.append(fn)
            self.assign_names(b.inputs)
            self.line(f"def {fn}({', '.join(self.use(v) for v in b.inputs)}):")
            self.level += 1
            outs = list(b.outputs)
            self.print_block(b, bool(outs))
            self.split_long_inlines(outs)
            if len(outs) == 1:
                self.line(f"return {self.use(outs[0])}")
            elif outs:
                self.line(f"return ({', '.join(self.use(v) for v in outs)})")
            self.level -= 1
        args = [self.use(v) for v in n.inputs] + fns
        self.print_definition(n, f"{self.op_name(n.kind)}({', '.join(args)})")

    # ------------------------------------------------------------------ expressions
    def rhs(self, n) -> str:
        k = n.kind
        ins = [self.use(v) for v in n.inputs]
        out_type = n.outputs[0].type if n.outputs else None
        if k == "prim::Constant":
            if "value" not in n.attrs and "name" in n.attrs:   # a function by name
                return str(n.attrs["name"])
            return self.literal(n.attrs.get("value"), out_type)
        if k == "prim::ListConstruct":
            text = f"[{', '.join(ins)}]"
            elem = out_type.elem if isinstance(out_type, T.ListType) else None
            if not ins or isinstance(elem, (T.OptionalType, T.UnionType, T.AnyType,
                                            T.InterfaceType)):
                return f"annotate({out_type.annotation()}, {text})"
            return text
        if k == "prim::TupleConstruct":
            text = f"({ins[0]},)" if len(ins) == 1 else f"({', '.join(ins)})"
            if isinstance(out_type, T.NamedTupleType):
                return out_type.annotation() + text
            return text
        if k == "prim::DictConstruct":
            items = ", ".join(f"{a}: {b}" for a, b in zip(ins[::2], ins[1::2]))
            if not ins or isinstance(out_type.value, (T.OptionalType, T.UnionType,
                                                      T.AnyType)):
                return f"annotate({out_type.annotation()}, {{{items}}})"
            return f"{{{items}}}"
        if k in ("prim::TupleIndex", "prim::DictIndex"):
            return f"{_primary(ins[0])}[{ins[1]}]"
        if k == "prim::TupleSlice":
            return f"{_primary(ins[0])}[{n.attrs.get('beg', '')}:{n.attrs.get('end', '')}]"
        if k == "prim::GetAttr":
            return self.attribute(ins[0], n.attrs["name"])
        if k == "prim::CallMethod":
            args = _keyword_only_by_name(n, ins[1:])
            return f"{self.attribute(ins[0], n.attrs['name'])}({', '.join(args)})"
        if k == "prim::CallFunction":
            fn = n.attrs.get("name")
            if fn is None:
                fn, ins = _primary(ins[0]), ins[1:]
            return f"{fn}({', '.join(_keyword_only_by_name(n, ins))})"
        if k == "prim::Print":
            return f"print({', '.join(ins)})"
        if k == "aten::wait":
            return f"torch.jit.wait({ins[0]})"
        if k in ("prim::awaitable_wait", "prim::awaitable_nowait"):
            return f"torch.jit._{k[6:]}({ins[0]})"
        if k == "prim::Uninitialized":
            return f"uninitialized({out_type.annotation()})"
        if k == "prim::isinstance":
            return _isinstance_text(ins[0], n.attrs["types"])
        if k in ("prim::EnumName", "prim::EnumValue"):
            return f"{_primary(ins[0])}.{'name' if k == 'prim::EnumName' else 'value'}"
        if k == "prim::unchecked_cast" and (isinstance(out_type, (T.UnionType, T.AnyType,
                                                                  T.InterfaceType)) or
                                            isinstance(n.inputs[0].type, (T.UnionType, T.AnyType))
                                            or _widens(n.inputs[0].type, out_type)):
            # the Optional cast's type follows from its input; a Union's needs saying, and
            # so does a widening one (`d: Optional[Tensor] = ones(...)` keeps Optional)
            return f"ops.prim.unchecked_cast({ins[0]}, {out_type.annotation()})"
        if k == "prim::unchecked_cast" and ins[0] == "None" and \
                isinstance(n.inputs[0].type, T.OptionalType):
            # an Optional constant None cast in a branch that never runs (a scripted body
            # inlined into a trace with None for an Optional parameter): the cast's input
            # says its type, or `None` alone would not compile back
            return f"ops.prim.unchecked_cast({self.typed_use(n.inputs[0])})"
        if k in _SCALAR_CASTS and len(ins) == 1:
            return f"{_SCALAR_CASTS[k]}({ins[0]})"
        if k in _CONTAINER_FORMS and n.op is None:
            return _CONTAINER_FORMS[k].format(*ins)
        if k in ("aten::min", "aten::max", "aten::any", "aten::all") and n.op is None:
            # min(xs), min(xs, ys), any(xs)
            return f"{k[6:]}({', '.join(ins)})"
        if k == "aten::tolist" and n.op is None:     # its type must be written
            return f"annotate({out_type.annotation()}, {_primary(ins[0])}.tolist())"
        if k == "aten::set" and n.op is None and len(ins) <= 1:
            return f"set({ins[0]})" if ins else f"annotate({out_type.annotation()}, set())"
        if k in _AUTOGRAD_FORMS and n.op is None:
            return _AUTOGRAD_FORMS[k](ins)
        if k.startswith("aten::"):
            return f"{self.op_name(k)}({', '.join(self.schema_args(n, ins))})"
        args = ins + [f"{a}={self.literal(v, None)}" for a, v in n.attrs.items()
                      if a != SUBGRAPH_ATTR and a.isidentifier() and not keyword.iskeyword(a)
                      and not isinstance(v, Graph)]
        return f"{self.op_name(k)}({', '.join(args)})"

    @staticmethod
    def op_name(kind: str) -> str:
        ns, _, name = kind.partition("::")
        module = "torch" if ns == "aten" else f"ops.{ns}"
        if name.isidentifier() and not keyword.iskeyword(name):
            return f"{module}.{name}"
        return f"getattr({module}, {json.dumps(name)})"

    @staticmethod
    def attribute(obj: str, field: str) -> str:
        if field.isidentifier() and not keyword.iskeyword(field):
            return f"{_primary(obj)}.{field}"
        return f"getattr({obj}, {json.dumps(field)})"

    @staticmethod
    def schema_args(n, ins):
        """Positional arguments as written, kwarg-only ones (per the op's schema) as
        `name=value`, as TorchScript prints `torch.add(x, y, alpha=1)`."""
        op = n.op
        params = op.schema.arguments if op is not None else ()
        k = len(op.schema.returns) if op is not None and op.out_of is not None else 1
        if k > 1:       # torch.max(x, 0, False, out=(v, i)): the out tensors as one tuple
            return ins[:-k] + [f"out=({', '.join(ins[-k:])})"]
        return [f"{params[i].name}={text}" if i < len(params) and params[i].kwarg_only
                else text for i, text in enumerate(ins)]

    def literal(self, v, t) -> str:
        """A constant as a Python literal."""
        from ..tensor import Tensor
        from ..device import device
        from .. import dtypes as _dt
        if v is None:           # a None of a Union type keeps it (compiles back the same)
            return f"annotate({t.annotation()}, None)" if isinstance(t, T.UnionType) \
                else "None"
        if isinstance(v, _enum.Enum):                 # Color.RED
            return f"{T.type_of_value(v).annotation()}.{v.name}"
        if isinstance(v, bool) or (isinstance(v, int) and isinstance(t, T.BoolType)):
            return "True" if v else "False"
        if isinstance(v, float) or (isinstance(v, int) and isinstance(t, T.FloatType)):
            v = float(v)
            if math.isnan(v):
                return 'float("nan")'
            if math.isinf(v):
                return 'float("inf")' if v > 0 else '-float("inf")'
            return format_float(v)
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, device):
            return f"torch.device({json.dumps(str(v))})"
        if isinstance(v, _dt.dtype):
            return f"torch.{v.name}"
        if isinstance(v, Tensor) and v._data.ndim == 0:
            item = v.item()
            default = {bool: _dt.bool, int: _dt.int64, float: _dt.float32}[type(item)]
            dtype = "" if v._dtype is default else f", dtype=torch.{v._dtype.name}"
            return f"torch.tensor({self.literal(item, None)}{dtype})"
        if isinstance(v, list):
            et = t.elem if isinstance(t, T.ListType) else None
            if not v and isinstance(t, T.ListType):
                return f"annotate({t.annotation()}, [])"
            return "[" + ", ".join(self.literal(x, et) for x in v) + "]"
        if isinstance(v, tuple):
            ets = t.elems if isinstance(t, T.TupleType) else [None] * len(v)
            inner = ", ".join(self.literal(x, e) for x, e in zip(v, ets))
            return "(" + inner + ("," if len(v) == 1 else "") + ")"
        if isinstance(v, dict):      # a folded dict attribute (torch.jit.freeze)
            if not v and isinstance(t, T.DictType):
                return f"annotate({t.annotation()}, {{}})"
            kt, vt = (t.key, t.value) if isinstance(t, T.DictType) else (None, None)
            return "{" + ", ".join(f"{self.literal(k, kt)}: {self.literal(x, vt)}"
                                   for k, x in v.items()) + "}"
        fn_name = getattr(v, "__name__", None)
        if callable(v) and isinstance(fn_name, str) and fn_name.isidentifier():
            return fn_name
        # tensors and objects Python source cannot spell live in a constants table
        for i, c in enumerate(self.tensor_constants):
            if c is v:
                return f"CONSTANTS.c{i}"
        self.tensor_constants.append(v)
        return f"CONSTANTS.c{len(self.tensor_constants) - 1}"


def _names_module(t) -> bool:
    """Does type t (or a type inside it) name a module's class type?"""
    if isinstance(t, T.ClassType):     # script classes and named tuples know their class
        return getattr(t, "py_class", None) is None and not isinstance(
            t, (T.NamedTupleType, T.InterfaceType))
    inner = list(getattr(t, "elems", ()) or ())
    for k in ("elem", "key", "value"):
        if isinstance(getattr(t, k, None), T.Type):
            inner.append(getattr(t, k))
    return any(_names_module(x) for x in inner)
