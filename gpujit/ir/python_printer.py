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
- An inlined expression whose text would make a line of 40+ characters is written out as
  its own statement when it is made, together with every inlined argument left of it in
  its user, and left of its user in the user's user, and so on up (TorchScript 2.x's
  splitLongInlines: so that order is still kept).
- Other values get names: the debug name without its `.N` suffix, numbered on a clash
  (`rv`, `rv0`, `rv1`, ...), else `_0`, `_1`, ...
- aten ops print as `torch.name(...)` with kwarg-only schema arguments as `name=value`;
  other namespaces as `ops.ns.name(...)`. Loops print as `for i in range(n):` or TorchScript's
  `while` form, with carried values assigned before the loop and at the end of the body.

The result is valid Python (the tests `ast.parse` it); names Python would read as
builtins this code calls (`torch`, `bool`, `range`, ...) are never given to values.
"""
from __future__ import annotations

import keyword

from . import types as T
from .python_exprs import ExpressionPrinter, _base_name, _is_none_constant
from .graph import Value
from .with_objects import region_object, arg_text

__all__ = ["python_source"]

_MAX_INLINE = 40     # TorchScript's isLongLine: len(text) + 2 * indent level >= 40
_INT64_MAX = 2 ** 63 - 1

# Names a value may not take: Python keywords, TorchScript's reserved identifiers, and the
# names the printed code itself calls, so that the code means what the graph means.
_RESERVED = frozenset(keyword.kwlist) | {
    "_", "aten", "attribute", "CONSTANTS", "fork", "getattr", "inf", "nan", "ops",
    "__torch__", "torch", "annotate", "uninitialized", "bool", "int", "float", "str",
    "range", "print", "isinstance"}
_RESERVED = _RESERVED | {"awaitable"}     # (an Await's closure: `aw = awaitable(f)`)

# container mutators whose node output is the container itself (gpujit rebinds the
# variable to it): TorchScript's call statement, `_0 = torch.append(xs, x)`,
# `_1 = torch._set_item(xs, i, v)` (a fresh name for the list they return), a dict's
# `torch._set_item(d, k, v)` (it returns nothing); later uses name the container
_MUTATOR_FORMS = frozenset({"aten::append", "aten::_set_item"})
# container mutators whose TorchScript schema returns nothing (insert.t(...) -> ()): a call
# statement, `torch.insert(xs, 0, 3)`, where nothing reads gpujit's output (the container)
_VOID_MUTATORS = frozenset({"aten::insert", "aten::remove", "aten::extend", "aten::clear",
                            "aten::update", "aten::Delete", "aten::sort", "aten::reverse"})
# `with` regions (prim::Enter / prim::Exit[name=...]) and the call that opens each
# `with torch.autograd.profiler.record_function(name):` (prim::Enter's input: the name)
RECORD_FUNCTION_REGION = "record_function"
_REGIONS = frozenset(("strict_fusion", "no_grad", "enable_grad"))


# the prim::Enter / prim::Exit name of `with obj:` over a script class object (the
# runtime's OBJECT_REGION)
_OBJECT_REGION = "with"


def python_source(graph, name: str = "forward", self_name: str | None = None,
                  arg_names=None, constants: list | None = None,
                  is_method: bool | None = None, callee_names: dict | None = None,
                  defaults: dict | None = None) -> str:
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
    `callee_names` ({id(callee graph): name}) prints those calls under the given names
    (save gives each distinct function a unique name in the archive).
    `defaults` ({input index: the default's text}) prints those parameters as TorchScript
    does, `y: int=2` (`.code` shows them; an archive keeps defaults in its manifest).
    """
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"python_source: {name!r} is not a valid Python function name")
    p = _FunctionPrinter(graph)
    if constants is not None:
        p.tensor_constants = constants
    if callee_names:
        p.callee_names = callee_names
    if defaults:
        p.defaults = dict(defaults)
    return p.function(name, self_name, arg_names, is_method)


def _unprinted_uses(n) -> bool:
    """Are all uses of n's output arguments the code does not print (`l[i]` leaves out
    __getitem__'s source location)? Then a long constant is not written out as an unused
    `_0 = "file:line: ..."` (which would differ once the code is loaded from an archive)."""
    uses = n.outputs[0].uses if len(n.outputs) == 1 else ()
    return bool(uses) and all(u.user.kind == "aten::__getitem__" and u.offset == 2
                              for u in uses)


def _valid_identifier(candidate: str) -> str:
    out = "".join(c if (c.isascii() and (c.isalnum() or c == "_")) else "_"
                  for c in candidate)
    return "_" + out if not out or out[0].isdigit() else out


def _constant_value(v):
    """(True, value) when v is a prim::Constant, else (False, None)."""
    n = v.node
    if n.kind != "prim::Constant":
        return False, None
    return True, n.attrs.get("value")


def _is_true_constant(v) -> bool:
    is_const, value = _constant_value(v)
    return is_const and value is not None and bool(value)


class _FunctionPrinter(ExpressionPrinter):
    def __init__(self, graph):
        self.graph = graph
        self.lines: list[str] = []
        self.level = 0
        self.used: set[str] = set()
        self.next_id: dict[str, int] = {}
        self.exprs: dict = {}          # Value -> how it is written at its use
        self.split_uses: dict = {}     # user node -> the input offset split up to
        self.inline: set = set()       # nodes whose one output is written into its use
        self.position: dict = {}       # Node -> index in its block (return node: len)
        self.tensor_constants: list = []
        self.new_objects: dict = {}    # prim::CreateObject output -> class, until __init__
        self.regions: list = []        # open `with` regions: (block, first line, object)
        self.hidden: set = set()       # ids of the __enter__ / __exit__ calls `with` prints
        self.entered: dict = {}        # id(an object region's prim::Enter) -> __enter__'s value
        self.defaults: dict = {}       # input index -> its default's text (`.code`)

    # ------------------------------------------------------------------ names
    hoisted: dict = {}

    def hoist_callees(self, block):
        """TorchScript's function constants: a called function's qualified name too long
        to inline (`_0 = __torch__.some_module.helper`, then `_0(x, 2, )`) is named once
        at the top of the function (or of a fork's closure), as its printer does with
        the pooled prim::Constant the calls share."""
        self.hoisted = {}
        if not T.QUALIFIED_CLASS_NAMES.get():
            return
        seen = []

        def scan(b):
            for n in b.nodes:
                if n.kind == "prim::CallFunction" and n.attrs.get("name") is not None and \
                        id(n.meta.get("callee")) not in self.callee_names and \
                        n.meta.get("qualified_name") and \
                        n.meta["qualified_name"] not in seen:
                    seen.append(n.meta["qualified_name"])
                if n.kind not in ("prim::fork", "prim::awaitable"):     # (their own)
                    for sub in n.blocks:
                        scan(sub)
        scan(block)
        for name in seen:
            if len(name) + 2 * self.level >= _MAX_INLINE:
                tmp = self.gen_name("_")
                self.line(f"{tmp} = {name}")
                self.hoisted[name] = tmp

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
            param = n if (i == 0 and is_method) else f"{n}: {ann}"
            if i in self.defaults:
                param += "=" + self.defaults[i]
            params.append(param)
        outs = list(g.outputs)
        if len(outs) == 1:
            ret = g.output_types()[0].annotation()
        elif not outs:
            ret = "None"
        else:
            ret = T.TupleType(tuple(v.type for v in outs)).annotation()
        # TorchScript's layout: the first parameter on the `def` line, each further one on a
        # line of its own, indented 4 spaces: `def forward(self,\n    x: Tensor) -> Tensor:`
        sig = f"def {name}(" + ",\n    ".join(params) + ")"
        if any(_names_module(v.type) for v in outs):
            # a module's type (a method returning self or a submodule) has no name the
            # loader's code can see: the result type is inferred from the body instead
            self.lines.append(f"{sig}:")
        else:
            self.lines.append(f"{sig} -> {ret}:")
        self.index_block(g.block)
        self.scan_block(g.block)
        self.level = 1
        start = len(self.lines)
        for n in self.constants_in_use_order(g.block):
            self.print_node(n, print_const=True)
        self.hoist_callees(g.block)
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
                # (the method's own name for its first parameter, as TorchScript prints
                # it: `def forward(s, x: Tensor)` / `s.sub`; `self` when unnamed)
                own = _valid_identifier(_base_name(v.debug_name)) if v.has_debug_name() \
                    else "self"
                names.append(self.gen_name(self_name or own))
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
        if n.kind == "prim::isinstance":    # (TorchScript's: `_0 = isinstance(y, int)`
            return False                    # before the `if _0:` it refines)
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
        self.find_object_regions(block)
        for n in block.nodes:
            self.print_node(n)
        while self.regions and self.regions[-1][0] is block:     # a region that raised
            self.close_region()
        if len(self.lines) == start and not has_other:
            self.line("pass")
        return len(self.lines) > start

    def find_object_regions(self, block):
        """`with obj:` as TorchScript's code spells it: the __enter__ call before the
        region's prim::Enter and the __exit__ call after its prim::Exit print as the
        `with` statement itself (`with obj as x:` when the body uses __enter__'s value)."""
        nodes = list(block.nodes)
        for i, n in enumerate(nodes):
            if n.kind not in ("prim::Enter", "prim::Exit") or \
                    n.attrs.get("name") != _OBJECT_REGION or len(n.inputs) != 1:
                continue
            call = nodes[i - 1] if n.kind == "prim::Enter" and i else \
                nodes[i + 1] if n.kind == "prim::Exit" and i + 1 < len(nodes) else None
            method = "__enter__" if n.kind == "prim::Enter" else "__exit__"
            if call is not None and call.kind == "prim::CallMethod" and \
                    call.attrs.get("name") == method and call.inputs and \
                    call.inputs[0] is n.inputs[0]:
                self.hidden.add(id(call))
                if method == "__enter__":
                    self.entered[id(n)] = call.outputs[0] if call.outputs else None

    def print_node(self, n, print_const=False):
        if n.kind == "prim::Constant" and not print_const:
            return
        if id(n) in self.hidden:
            return
        if n.kind == "prim::Exit" and n.attrs.get("name") == _OBJECT_REGION and \
                self.regions and self.regions[-1][0] is n.owning_block and \
                self.regions[-1][2] is not None and n.inputs[0] is self.regions[-1][2]:
            self.close_region()
            return
        if n.kind == "prim::Enter" and id(n) in self.entered:
            obj, out = n.inputs[0], self.entered.pop(id(n))
            head = f"with {self.use(obj)}"
            if out is not None and out.uses:
                self.assign_names([out])
                head += f" as {self.exprs[out]}"
            self.line(head + ":")
            self.level += 1
            self.regions.append((n.owning_block, len(self.lines), obj))
            return
        k = n.kind
        if k == "prim::CreateObject" and len(n.outputs) == 1:
            # TorchScript's spelling: `c = __torch__.C.__new__(__torch__.C)`, then the
            # __init__ call as any method's, `_1 = (c).__init__(_0, )`
            self.new_objects[n.outputs[0]] = n.outputs[0].type.annotation()
            self.use(n.outputs[0])
        elif k in ("prim::Enter", "prim::Exit") and (n.attrs.get("name") in _REGIONS
                                                      or n.attrs.get("name") in (
                                                          "autocast", RECORD_FUNCTION_REGION)):
            if k == "prim::Enter":
                self.region_object_lines(n)
                self.level += 1
                self.regions.append((n.owning_block, len(self.lines), None))
            elif self.regions and self.regions[-1][0] is n.owning_block:
                self.close_region()
        elif k == "prim::If":
            self.print_if(n)
        elif k == "prim::Loop":
            self.print_loop(n)
        elif k in ("prim::TupleUnpack", "prim::ListUnpack"):
            self.assign_names(n.outputs)
            outs = [self.use(v) for v in n.outputs]
            # TorchScript's `a, b, = t`: the trailing comma forces the unpack
            target = "".join(f"{o}, " for o in outs)[:-1] if outs else "()"
            self.line(f"{target} = {self.use(n.inputs[0])}")
        elif k in _MUTATOR_FORMS and n.op is None:
            self.name_container(n.inputs[0])
            call = f"torch.{k[6:]}({', '.join(self.use(v) for v in n.inputs)})"
            if k == "aten::_set_item" and isinstance(n.inputs[0].type, T.DictType):
                self.line(call)
            else:
                self.line(f"{self.gen_name('_')} = {call}")
            for o in n.outputs:
                self.exprs[o] = self.use(n.inputs[0])
        elif k == "prim::SetAttr":
            obj, value = n.inputs
            self.line(f"{self.attribute(self.use(obj), n.attrs['name'])} = {self.use(value)}")
        elif k in ("prim::fork", "prim::awaitable"):
            self.print_fork(n)
        elif n.blocks:
            self.print_block_call(n)
        elif k in _VOID_MUTATORS and n.op is None and not any(o.uses for o in n.outputs):
            self.line(self.rhs(n))
        elif k in _VOID_MUTATORS and n.op is None and n.outputs:
            # (gpujit's output, the container itself, read later: TorchScript's call
            # returns nothing, so `_0 = torch.extend(xs, ys)` would make _0 a (); the call
            # is a statement and later uses name the container, as _MUTATOR_FORMS do)
            self.name_container(n.inputs[0])
            self.line(self.rhs(n))
            for o in n.outputs:
                self.exprs[o] = self.use(n.inputs[0])
        else:
            rhs = self.rhs(n)
            if n not in self.inline or (k == "prim::Constant" and self.is_long(rhs)
                                        and not _unprinted_uses(n)):
                self.print_definition(n, rhs)
            else:
                self.exprs[n.outputs[0]] = rhs
                if self.is_long(rhs) and not _unprinted_uses(n):
                    self.split_long_inline(n.outputs[0])

    def name_container(self, v):
        """The output of a mutator names its container v: an inlined one gets a name
        first."""
        target = v.node
        if target in self.inline and target.kind != "prim::Constant" and \
                not self.use(v).isidentifier():
            self.inline.discard(target)
            self.print_definition(target, self.use(v))

    def region_object_lines(self, n):
        """A region's `with` as TorchScript's code writes it: an object of the context
        manager's class made, __init__-ed, entered (ir/with_objects.py)."""
        obj = region_object(n)
        v, init = self.gen_name("_"), self.gen_name("_")
        args = "".join(f"{arg_text(a) if not isinstance(a, Value) else self.use(a)}, "
                       for a in obj.args)
        self.line(f"{v} = {obj.cls}.__new__({obj.cls})")
        self.line(f"{init} = ({v}).__init__({args})")
        self.line(f"with {v}:")

    def close_region(self):
        _, first, _ = self.regions.pop()
        if len(self.lines) == first:
            self.line("pass")
        self.level -= 1

    def print_definition(self, n, rhs):
        self.assign_names(n.outputs)
        if n.outputs:
            self.line(f"{', '.join(self.use(v) for v in n.outputs)} = {rhs}")
        else:
            self.line(rhs)

    def split_long_inline(self, v):
        """v's expression, just made, is too long for one line: write it out as a statement,
        with every inlined argument left of it in its user, and in its user's user left of
        the user... (TorchScript's splitLongInlines / scanLongInlines: no evaluation moves
        ahead of one written before it)."""
        acc = []
        u = v.uses[0]
        self.scan_long_inlines(u.user, u.offset, acc)
        for w in reversed(acc):
            self.print_definition(w.node, self.use(w))

    def scan_long_inlines(self, user, offset, acc):
        while True:         # (iterative: a long chain of users cannot exhaust the stack)
            done = self.split_uses.get(user)
            for i in range(offset, -1 if done is None else done, -1):
                a = user.inputs[i]
                if a.node.kind != "prim::Constant" and a.node in self.inline:
                    acc.append(a)
            self.split_uses[user] = offset
            if done is not None or user not in self.inline:
                return
            u = user.outputs[0].uses[0]
            user, offset = u.user, u.offset - 1

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
        # TorchScript's printAssignment: one Optional / Union output is annotated where it
        # is first assigned (`y : Optional[int] = x`, then `y = None`), its values as they are
        one = len(outs) == 1 and isinstance(n.outputs[0].type, (T.OptionalType, T.UnionType))
        if one:
            use = self.use
        else:
            def use(v, o=None):
                # (a Union output fed a narrower value in a branch, a refinement's cast:
                # the value says the output's type, or the branches would not compile back
                # to one variable: int on one side, List[int] on the other)
                if o is not None and isinstance(o.type, T.UnionType) and \
                        not isinstance(o.type, T.OptionalType) and \
                        v.type.annotation() != o.type.annotation():
                    return f"annotate({o.type.annotation()}, {self.use(v)})"
                return self.typed_use(v)
        self.level += 1
        self.print_block(then_block, bool(outs))
        if one:
            self.line(f"{outs[0]} : {n.outputs[0].type.annotation()} = "
                      f"{use(then_block.outputs[0])}")
        else:
            self.print_assignment(outs, [use(v, o) for v, o in zip(then_block.outputs,
                                                                    n.outputs)])
        self.level -= 1
        self.line("else:")             # (TorchScript prints an empty else too: `pass`)
        self.level += 1
        self.print_block(else_block, bool(outs))
        self.print_assignment(outs, [use(v) if one else use(v, o)
                                     for v, o in zip(else_block.outputs, n.outputs)])
        self.level -= 1

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
        for c, v, o in zip(carried, carried_in, n.outputs):   # one to a line, as TorchScript
            is_none = _is_none_constant(v) and not isinstance(o.type, T.NoneType)
            if (is_none or v.type.annotation() != o.type.annotation() or isinstance(
                    o.type, (T.OptionalType, T.UnionType))) and not _names_module(o.type):
                # the variable's type is wider than its first value's: `s: Optional[int] = None`
                # (an Optional / Union variable always says its type, as TorchScript's
                # printLoop: `x0: Optional[int] = x`)
                self.line(f"{c}: {o.type.annotation()} = {self.use(v)}")
            else:
                self.line(f"{c} = {self.typed_use(v)}")
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
        """prim::fork: its block as a local function, forked (`fut =
        fork(__forked_function)`), as TorchScript prints a fork's closure; the frontend
        compiles it back. A prim::awaitable's likewise (`aw =
        awaitable(__awaitable_function)`), its block's inputs written as the node's
        inputs are (TorchScript's assignValue of the subgraph's inputs)."""
        b = n.blocks[0]
        fork = n.kind == "prim::fork"
        fn = self.gen_name("__forked_function" if fork else "__awaitable_function")
        for v, outer in zip(b.inputs, n.inputs):
            self.exprs[v] = self.use(outer)
        self.line(f"def {fn}():")
        self.level += 1
        outer = self.hoisted
        self.hoist_callees(b)           # (the closure's own function constants)
        self.print_block(b, True)
        self.line(f"return {self.use(b.outputs[0])}")
        self.hoisted = outer
        self.level -= 1
        self.print_definition(n, f"{'fork' if fork else 'awaitable'}({fn})")

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
            if len(outs) == 1:
                self.line(f"return {self.use(outs[0])}")
            elif outs:
                self.line(f"return ({', '.join(self.use(v) for v in outs)})")
            self.level -= 1
        args = [self.use(v) for v in n.inputs] + fns
        self.print_definition(n, f"{self.op_name(n.kind)}({', '.join(args)})")


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
