"""torch.fx's Graph: a list of Nodes in program order, names made unique as torch makes
them (`add`, `add_1`, `sum_1` because `sum` is a builtin), printed in torch 2.13's text
and turned into a Python `forward` (python_code) that GraphModule executes."""
from __future__ import annotations

import builtins
import copy
import keyword
import math
import re
import typing
import warnings
from contextlib import contextmanager

import gpujit

from .node import (Node, _dtype_text, _format_arg, _get_qualified_name, _is_from_torch, _type_repr,
                   map_arg)

_LEGAL_OPS = ("call_function", "call_method", "get_attr", "call_module", "placeholder",
              "output")

reflectable_magic_methods = {
    "add": "{} + {}", "sub": "{} - {}", "mul": "{} * {}", "floordiv": "{} // {}",
    "truediv": "{} / {}", "div": "{} / {}", "mod": "{} % {}", "pow": "{} ** {}",
    "lshift": "{} << {}", "rshift": "{} >> {}", "and_": "{} & {}", "or_": "{} | {}",
    "xor": "{} ^ {}", "getitem": "{}[{}]", "matmul": "{} @ {}"}
magic_methods = {
    "eq": "{} == {}", "ne": "{} != {}", "lt": "{} < {}", "gt": "{} > {}",
    "le": "{} <= {}", "ge": "{} >= {}", "pos": "+{}", "neg": "-{}", "invert": "~{}",
    **reflectable_magic_methods}
inplace_methods = {
    "iadd": "{} += {}", "iand": "{} &= {}", "ifloordiv": "{} //= {}", "ilshift": "{} <<= {}",
    "imod": "{} %= {}", "imul": "{} *= {}", "imatmul": "{} @= {}", "ior": "{} |= {}",
    "ipow": "{} **= {}", "irshift": "{} >>= {}", "isub": "{} -= {}",
    "itruediv": "{} /= {}", "ixor": "{} ^= {}", "setitem": "{}[{}] = {}"}

_ORIGIN_TYPES = {list: typing.List, dict: typing.Dict, set: typing.Set,
                 frozenset: typing.FrozenSet, tuple: typing.Tuple}
_snake_case_sub = re.compile(r"(?<=[a-z])([A-Z])")
_illegal_char_regex = re.compile("[^0-9a-zA-Z_]+")
_name_regex = re.compile(r"^([a-zA-Z_][0-9a-zA-Z_]*?)(?:_(\d+))?$")


# names every generated forward can use (torch's: `torch`, `inf`, `nan`, `device` ...)
_custom_builtins = {"inf": math.inf, "nan": math.nan, "NoneType": type(None), "torch": gpujit,
                    "device": gpujit.device}
_illegal_names = {k: object() for k in keyword.kwlist}
_illegal_names.update(builtins.__dict__)
_illegal_names.update(_custom_builtins, fx_pytree=object(), pytree=object())


def _snake_case(s):
    return _snake_case_sub.sub(r"_\1", s).lower()


def _is_magic(x):
    return x.startswith("__") and x.endswith("__")


def _format_target(base, target):
    r = base
    for e in target.split("."):
        r = f"{r}.{e}" if e.isidentifier() else f'getattr({r}, "{e}")'
    return r


class _Namespace:
    """Unique names: each object one name, no name shadows a builtin or a keyword."""

    def __init__(self):
        self._obj_to_name = {}
        self._used_names = set()
        self._base_count = {}

    def create_name(self, candidate, obj):
        if obj is not None and obj in self._obj_to_name:
            return self._obj_to_name[obj]
        match = _name_regex.match(candidate)
        if match is None:
            candidate = _illegal_char_regex.sub("_", candidate) or "_unnamed"
            if candidate[0].isdigit():
                candidate = f"_{candidate}"
            match = _name_regex.match(candidate)
        base, num = match.group(1, 2)
        if num is None or candidate in self._used_names:
            num = self._base_count.get(base, 0)
            if _illegal_names.get(candidate, obj) is not obj:
                num += 1
                candidate = f"{base}_{num}"
        else:
            num = int(num)
        while candidate in self._used_names:
            num += 1
            candidate = f"{base}_{num}"
        self._used_names.add(candidate)
        self._base_count[base] = num
        if obj is not None:
            self._obj_to_name[obj] = candidate
        return candidate

    def associate_name_with_obj(self, name, obj):
        if self._obj_to_name.setdefault(obj, name) is not name:
            raise AssertionError("obj is already associated")


class PythonCode:
    """The generated forward: its source and the globals it runs with."""

    def __init__(self, src, globals):
        self.src = src
        self.globals = globals


class _NodeList:
    def __init__(self, graph, direction="_next"):
        self._graph = graph
        self._direction = direction

    def __len__(self):
        return self._graph._len

    def __iter__(self):
        root = self._graph._root
        cur = getattr(root, self._direction)
        while cur is not root:
            if not cur._erased:
                yield cur
            cur = getattr(cur, self._direction)

    def __reversed__(self):
        return iter(_NodeList(self._graph, "_prev" if self._direction == "_next" else "_next"))


class Graph:
    """The nodes of a program in order; `graph.nodes` iterates them (the list may be
    changed while iterating: erased nodes are skipped)."""

    def __init__(self, owning_module=None, tracer_cls=None, tracer_extras=None):
        self._root = Node.__new__(Node)
        self._root.__dict__.update(graph=self, name="", op="root", target="", _args=(),
                                   _kwargs={}, _input_nodes={}, users={}, type=None,
                                   _erased=False, meta={})
        self._root._prev = self._root._next = self._root
        self._insert = self._root.prepend
        self._len = 0
        self._graph_namespace = _Namespace()
        self._owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._tracer_extras = tracer_extras
        self._co_fields = {}

    @property
    def owning_module(self):
        return self._owning_module

    @owning_module.setter
    def owning_module(self, mod):
        self._owning_module = mod

    @property
    def nodes(self):
        return _NodeList(self)

    def find_nodes(self, *, op, target=None, sort=True):
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    # ------------------------------------------------------------------ building
    def _target_to_str(self, target):
        if callable(target):
            op = target.__name__
        else:
            op = target
            if _is_magic(op):
                op = op[2:-2]
        return _snake_case(op)

    def create_node(self, op, target, args=None, kwargs=None, name=None, type_expr=None):
        if op not in _LEGAL_OPS:
            raise AssertionError(f"Unknown op {op!r}")
        args = () if args is None else args
        kwargs = {} if kwargs is None else kwargs
        if not isinstance(args, tuple):
            raise AssertionError("args must be a tuple")
        if not isinstance(kwargs, dict):
            raise AssertionError("kwargs must be a dict")
        candidate = name if name is not None else self._target_to_str(target)
        name = self._graph_namespace.create_name(candidate, None)
        n = Node(self, name, op, target, args, kwargs, type_expr)
        self._graph_namespace.associate_name_with_obj(name, n)
        self._insert(n)
        self._len += 1
        return n

    def placeholder(self, name, type_expr=None, default_value=...):
        args = () if default_value is ... else (default_value,)
        return self.create_node("placeholder", name, args=args, type_expr=type_expr)

    def get_attr(self, qualified_name, type_expr=None):
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function, args=None, kwargs=None, type_expr=None, name=None):
        return self.create_node("call_function", the_function, args, kwargs, name=name,
                                type_expr=type_expr)

    def output(self, result, type_expr=None):
        return self.create_node("output", "output", (result,), type_expr=type_expr)

    def erase_node(self, to_erase):
        if len(to_erase.users) > 0:
            raise RuntimeError(f"Tried to erase Node {to_erase} but it still had "
                               f"{len(to_erase.users)} users in the graph: {to_erase.users}!")
        if to_erase.graph is not self:
            raise RuntimeError(f"Attempting to remove {to_erase} from wrong graph!")
        if to_erase._erased:
            warnings.warn(f"erase_node({to_erase}) on an already erased node")
            return
        # keep its links: an iterator standing on it still finds the next node
        p, n = to_erase._prev, to_erase._next
        p._next, n._prev = n, p
        to_erase._erased = True
        self._len -= 1
        to_erase.args = map_arg(to_erase.args, lambda n: None)
        to_erase.kwargs = map_arg(to_erase.kwargs, lambda n: None)

    @contextmanager
    def _insert_point(self, new_insert):
        orig, self._insert = self._insert, new_insert
        try:
            yield
        finally:
            self._insert = orig

    def inserting_before(self, n=None):
        if n is None:
            return self.inserting_after(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert before is not in graph.")
        return self._insert_point(n.prepend)

    def inserting_after(self, n=None):
        if n is None:
            return self.inserting_before(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert after is not in graph.")
        return self._insert_point(n.append)

    def node_copy(self, node, arg_transform=lambda x: x):
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        result = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        result.meta = copy.copy(node.meta)
        return result

    def graph_copy(self, g, val_map, return_output_node=False):
        """Copy g's nodes into this graph (val_map: g's node -> this graph's node, filled
        in); returns what g's output node returns, mapped."""
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                rv = map_arg(node.args[0], lambda n: val_map[n])
                return rv if not return_output_node else (rv, node)
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo=None):
        memo = memo if memo else {}
        g = Graph(tracer_cls=self._tracer_cls)
        output_vals = g.graph_copy(self, val_map=memo, return_output_node=True)
        if output_vals is not None:
            rv, old_out = output_vals
            g.output(rv, type_expr=old_out.type)
        return g

    # ------------------------------------------------------------------ checks / passes
    def lint(self):
        seen_names, seen_values = set(), set()

        def check_arg(arg, n):
            if arg.graph is not self:
                raise RuntimeError(
                    f"Argument '{arg}' of Node '{n}' does not belong to this Graph, but was "
                    "used as an argument! If you are copying nodes from another graph, make "
                    f"sure to use ``arg_transform`` on node_copy() to remap values\n{self}")
            if arg not in seen_values:
                raise RuntimeError(
                    f"Argument '{arg}' of Node '{n}' was used before it has been defined! "
                    f"Please check that Nodes in the graph are topologically ordered\n{self}")

        for node in self.nodes:
            if node.op not in _LEGAL_OPS:
                raise RuntimeError(f"Node {node} had unknown opcode {node.op}!")
            if node.graph is not self:
                raise RuntimeError(f"Node '{node}' does not belong to this Graph!")
            for arg in node._input_nodes:
                check_arg(arg, node)
            seen_values.add(node)
            if node.name in seen_names:
                raise RuntimeError(f"Node redefined name {node.name}!")
            seen_names.add(node.name)
        mod = self.owning_module
        if mod is None:
            return
        from .. import nn
        for node in self.nodes:
            if node.op not in ("get_attr", "call_module"):
                continue
            atoms, m = node.target.split("."), mod
            for i, atom in enumerate(atoms):
                new_m = getattr(m, atom, None)
                seen = ".".join(atoms[:i])
                if new_m is None:
                    raise RuntimeError(f"Node {node} target {node.target} references "
                                       f"nonexistent attribute {atom} of {seen}")
                if node.op == "call_module" and not isinstance(new_m, nn.Module):
                    raise RuntimeError(f"Node {node} target {node.target} {atom} of {seen} "
                                       "does not reference an nn.Module")
                m = new_m

    def eliminate_dead_code(self, is_impure_node=None):
        """Erase the nodes no one reads that have no side effect; True if any was erased."""
        self.lint()
        impure = is_impure_node if is_impure_node is not None else Node.is_impure
        changed = False
        for node in reversed(self.nodes):
            if not impure(node) and len(node.users) == 0:
                self.erase_node(node)
                changed = True
        return changed

    # ------------------------------------------------------------------ printing
    def __str__(self):
        s = "graph():"
        for node in self.nodes:
            s += "\n    " + node.format_node()
        return s

    def print_tabular(self):
        rows = [[n.op, n.name, _format_arg(n.target) if not callable(n.target)
                 else Node._pretty_print_target(n.target), n.args, n.kwargs]
                for n in self.nodes]
        try:
            from tabulate import tabulate
        except ImportError:
            head = ["opcode", "name", "target", "args", "kwargs"]
            cols = [[h] + [str(r[i]) for r in rows] for i, h in enumerate(head)]
            w = [max(len(c) for c in col) for col in cols]
            lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(head)),
                     "  ".join("-" * x for x in w)]
            lines += ["  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) for r in rows]
            print("\n".join(line.rstrip() for line in lines))
            return
        print(tabulate(rows, headers=["opcode", "name", "target", "args", "kwargs"]))

    def python_code(self, root_module, *, verbose=False):
        return _gen_python_code(self, root_module)


def _gen_python_code(graph, root_module):
    free_vars, body, globals_, wrapped_fns = [], [], {}, {}
    namespace = _Namespace()
    for node in graph.nodes:                     # the nodes' names are taken
        namespace.create_name(node.name, node)

    def add_global(name_hint, obj):
        if _is_from_torch(obj) and obj is not gpujit.device:
            return _get_qualified_name(obj) if not isinstance(obj, type) else \
                _type_repr(obj)
        name = namespace.create_name(name_hint, obj)
        if name in globals_ and globals_[name] is not obj:
            raise AssertionError(f"Global name {name} already assigned to different object")
        globals_[name] = obj
        return name

    for name, obj in _custom_builtins.items():
        add_global(name, obj)

    def type_repr(o):
        if o == ():
            return "()"
        origin = getattr(o, "__origin__", None)
        if origin is not None:          # list[int], typing.List[int]
            if isinstance(o, typing._GenericAlias):
                origin = _ORIGIN_TYPES.get(origin, origin)
            name = add_global(_type_repr(origin), origin)
            args = typing.get_args(o)
            return f"{name}[{','.join(type_repr(a) for a in args)}]" if args else name
        return add_global(_type_repr(o), o)

    def get_repr(arg):
        if isinstance(arg, Node):
            return repr(arg)
        if isinstance(arg, tuple) and hasattr(arg, "_fields"):
            return f"{add_global(_get_qualified_name(type(arg)), type(arg))}{tuple(arg)!r}"
        if isinstance(arg, gpujit.Tensor):
            return f"torch.Tensor(size={list(arg.size())}, dtype={str(arg.dtype).split('.')[-1]})"
        if isinstance(arg, tuple):
            if len(arg) == 1:
                return f"({get_repr(arg[0])},)"
            return "(" + ", ".join(get_repr(a) for a in arg) + ")"
        if isinstance(arg, list):
            return "[" + ", ".join(get_repr(a) for a in arg) + "]"
        if isinstance(arg, slice):
            return f"slice({get_repr(arg.start)}, {get_repr(arg.stop)}, {get_repr(arg.step)})"
        return _dtype_text(arg) or repr(arg)

    def format_args(args, kwargs):
        return ", ".join([get_repr(a) for a in args] +
                         [f"{k} = {get_repr(v)}" for k, v in kwargs.items()])

    nodes = list(graph.nodes)
    last_use, user_to_last_uses = {}, {}
    for node in reversed(nodes):
        for inp in node._input_nodes:
            if inp not in last_use:
                last_use[inp] = node
                user_to_last_uses.setdefault(node, []).append(inp)

    def delete_unused_values(user):
        if user.op == "placeholder":
            return
        if user.op == "output":
            body.append("\n")
            return
        to_delete = list(user_to_last_uses.get(user, []))
        if len(user.users) == 0:
            to_delete.append(user)
        if to_delete:
            body.append(";  " + " = ".join([repr(n) for n in to_delete] + ["None"]) + "\n")
        else:
            body.append("\n")

    return_annotation = ""
    for node in nodes:
        ann = "" if node.type is None else f" : {type_repr(node.type)}"
        if node.op == "placeholder":
            default = "" if not node.args else f" = {get_repr(node.args[0])}"
            free_vars.append(f"{node.target}{ann}{default}")
            raw_name = node.target.replace("*", "")
            if raw_name != repr(node):
                body.append(f"{repr(node)} = {raw_name}\n")
            continue
        if node.op == "call_method":
            method = _format_target(get_repr(node.args[0]), node.target)
            body.append(f"{repr(node)}{ann} = {method}({format_args(node.args[1:], node.kwargs)})")
        elif node.op == "call_function":
            t = node.target
            tname = getattr(t, "__name__", "")
            if getattr(t, "__module__", "") == "_operator" and tname in magic_methods:
                body.append(f"{repr(node)}{ann} = "
                            f"{magic_methods[tname].format(*(get_repr(a) for a in node.args))}")
            elif getattr(t, "__module__", "") == "_operator" and tname in inplace_methods:
                body.append(f"{inplace_methods[tname].format(*(get_repr(a) for a in node.args))};"
                            f"  {repr(node)}{ann} = {get_repr(node.args[0])}")
            else:
                gname = add_global(_get_qualified_name(t), t)
                if (gname == "getattr" and len(node.args) == 2 and isinstance(node.args[1], str)
                        and node.args[1].isidentifier()):
                    body.append(f"{repr(node)}{ann} = "
                                f"{_format_target(get_repr(node.args[0]), node.args[1])}")
                else:
                    call = f"{gname}({format_args(node.args, node.kwargs)})"
                    body.append(f"{repr(node)}{ann} = {call}")
                    if node.meta.get("is_wrapped", False):
                        wrapped_fns.setdefault(gname)
        elif node.op == "call_module":
            body.append(f"{repr(node)}{ann} = {_format_target(root_module, node.target)}"
                        f"({format_args(node.args, node.kwargs)})")
        elif node.op == "get_attr":
            body.append(f"{repr(node)}{ann} = {_format_target(root_module, node.target)}")
        elif node.op == "output":
            if node.type is not None:
                return_annotation = f" -> {type_repr(node.type)}"
            body.append(f"return {get_repr(node.args[0])}")
        delete_unused_values(node)

    if not body:
        body.append("pass\n")
    if wrapped_fns:
        from ._symbolic_trace import wrap
        wrap_name = add_global("wrap", wrap)
        wrap_stmts = "\n".join(f'{wrap_name}("{name}")' for name in wrapped_fns)
    else:
        wrap_stmts = ""
    if not free_vars or free_vars[0] != "self":
        free_vars.insert(0, "self")
    prologue = f"def forward({', '.join(free_vars)}){return_annotation}:"
    code = "".join(body).lstrip("\n")
    code = "\n".join("    " + line for line in code.split("\n"))
    return PythonCode(f"\n{wrap_stmts}\n\n{prologue}\n{code}", globals_)
