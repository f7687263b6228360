"""Graph -> the Python source of one function over raw arrays (the executor's code).

    def forward_0(x, y):
        x = x._data
        y = y._data
        a = _np_multiply(x, y)                  # aten::mul
        b = _impl_sigmoid(_np, a)               # aten::sigmoid
        return _wrap(b, _float32, _cpu)

Tensors are unwrapped once at entry and wrapped once at return; in between every value is
a raw array (or a Python value), and each aten node is one call of its impl (or of the one
NumPy/CuPy function the impl is, see impl_facts) with the casts, device moves and result
fixes that eager gpujit would make at run time decided here from the profile (see
assume.py); a node whose types the profile does not fix runs the op's eager entry point
(`_op_<name>`, boxed). prim::If and prim::Loop become `if`/`for`/`while`; constants become
literals or bound names. aten lowering lives in codegen_aten.py.
"""
from __future__ import annotations

import enum
import keyword
import math
import re
import warnings

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu
from ..ops.registry import wrap, wrap_statements
from ..ops.scalar_ops import FORM_HELPERS
from ..tensor import Tensor
from ..ir import types as T
from . import fusion
from .assume import assume, always_raises, constant_of
from .interpreter import emit_warning, exception_for, num_to_tensor
from .objects import unwind_with
from .profile import TensorSpec, ValueSpec, TupleSpec, ListSpec
from . import codegen_aten
from . import support
from . import future_nodes as _future_nodes
from . import objects as _objects     # also registers the interpreter's object handlers

__all__ = ["CodeGenerator", "CodeGenError", "python_literal"]

# NumPy warns on log(0), 0/0, overflow ...; gpujit computes silently, as PyTorch does (the
# eager entry points' filter, ops/registry.py, covers the same calls made from eager code)
GENERATED_MODULE = "gpujit.runtime.generated"
warnings.filterwarnings("ignore", category=RuntimeWarning,
                        module=re.escape(GENERATED_MODULE) + "$")

# names the generated code calls; a Value named like one gets another name
_RESERVED = {"range", "len", "print", "float", "int", "bool", "tuple", "list", "type",
             "isinstance", "getattr", "setattr", "None", "True", "False"}
_PLAIN_TYPES = (int, float, bool, str, type(None), complex)
_INT64_MAX = (1 << 63) - 1


def _opaque(pytype):
    """Values of this type hold no tensors: they cross the boundary unchanged."""
    if pytype in _PLAIN_TYPES:
        return True
    if issubclass(pytype, (tuple, list, dict, np.ndarray, np.generic)):
        return False
    return not pytype.__module__.startswith("cupy")


class CodeGenError(RuntimeError):
    """The code generator met a graph it cannot lower (a bug or an unsupported kind)."""


def python_literal(v):
    """Source text for a constant that Python can spell, else None."""
    if isinstance(v, enum.Enum):          # an Enum member (an `int, Enum` one too): bound
        return None
    if v is None or isinstance(v, (bool, str, int)):
        return repr(v)
    if isinstance(v, float) and math.isfinite(v):
        return repr(v)
    return None


_PLAIN_WRAP = re.compile(r"_wrap\((\w+), (\w+), (\w+)\)")


class CodeGenerator:
    """One specialized function: `generate()` returns (source, namespace)."""

    def __init__(self, graph, profile, fname, hoisted=(), *, stale=None, deopt=None,
                 module=None, fusion_budget=None):
        self.graph = graph
        self.fusion_budget = fusion_budget   # shared by the function's fusion groups
        self.groups = []                     # the FusedGroups the code calls
        self.profile = profile
        self.fname = fname
        self.hoisted = list(hoisted)
        self.hoisted_set = set(hoisted)
        self.module = module       # the profiled call's module: where its attributes live
        self.specs = assume(graph, profile, hoisted)
        self.ns = {"__name__": GENERATED_MODULE, "_MISSING": _MISSING, "_np": np,
                   "_asarray": np.asarray, "_copyto": np.copyto, "_wrap": wrap, "_T": Tensor, "_new": object.__new__,
                   "_passed": support.passed_input,
                   "_box": support.box, "_unbox": support.unbox, "_item": support.item,
                   "_bcast": support.broadcast_failure,
                   "_shape_error": support.inplace_shape_error,
                   "_exception_for": exception_for, "_emit_warning": emit_warning,
                   "_unwind_with": unwind_with,
                   "_dtype_of": support.dtype_of,
                   "_device_of": support.device_of, "_num_to_tensor": num_to_tensor,
                   **FORM_HELPERS}
        self.has_stale = stale is not None
        if stale is not None:
            self.ns["_stale"] = stale
        if deopt is not None:
            self.ns["_deopt"] = deopt
        self._bound = {}
        self.used = set(_RESERVED) | set(keyword.kwlist) | set(self.ns) | {"_exc"}
        self.names = {}        # Value -> variable name or constant expression
        self.objs = {}         # Value -> expression of the Tensor object it is (identity)
        self.used_objs = set()
        self.obj_sources = {}       # alias Value -> the Value whose Tensor object it shares
        self.pre = []          # function entry: module attribute reads and their guards
        self.warned = None     # the name of the set of aten::warn nodes that have warned
        self.entered = None    # the name of the list of objects `with obj:` has entered
        self._alias_db = None  # the graph's AliasDb, built when a return needs it
        self.lines = []
        self.depth = 1

    # ------------------------------------------------------------------ names
    def new_var(self, hint):
        base = re.sub(r"\W", "_", hint or "v").lstrip("_") or "v"
        if base[0].isdigit():
            base = "v" + base
        return self._unique(base)

    def _unique(self, base):
        name, k = base, 1
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def alias_db(self):
        """The graph's AliasDb (built on first use)."""
        if self._alias_db is None:
            from ..passes.alias_analysis import AliasDb
            self._alias_db = AliasDb(self.graph)
        return self._alias_db

    def define(self, v):
        name = self.new_var(v.debug_name)
        self.names[v] = name
        return name

    def bind(self, obj, hint):
        """A global name in the generated module's namespace holding obj."""
        key = id(obj)
        got = self._bound.get(key)
        if got is not None and self.ns[got] is obj:
            return got
        name = self._unique("_" + (re.sub(r"\W", "_", hint).strip("_") or "k"))
        self.ns[name] = obj
        self._bound[key] = name
        return name

    def bind_dtype(self, d):
        return self.bind(d, d.name)

    def bind_np_dtype(self, d):
        return self.bind(d.np, "np_" + d.name)

    def bind_device(self, dev):
        return self.bind(dev, str(dev).replace(":", ""))

    def xp_name(self, dev):
        if dev is _cpu:
            return "_np"
        from ..device import require_cupy
        self.ns.setdefault("_cp", require_cupy())
        return "_cp"

    def ref(self, v):
        """The expression for Value v where it is used."""
        got = self.names.get(v)
        if got is not None:
            return got
        if v.node.kind == "prim::Constant":
            return self._constant(v)
        raise CodeGenError(f"{v} is used before the generated code defines it")

    def obj(self, v):
        """The expression of the Tensor object v stands for (an input, a module
        attribute, a constant), or None."""
        e = self.objs.get(v)
        if e is not None:
            self.used_objs.add(v)
            src = self.obj_sources.get(v)      # an alias (unchecked_cast) of an input
            while src is not None:
                self.used_objs.add(src)
                src = self.obj_sources.get(src)
        return e

    def _constant(self, v):
        val = v.node.attrs.get("value")
        lit = python_literal(val)
        if lit is not None:
            e = lit
        elif isinstance(val, Tensor):
            e = self.bind(val._data, f"c{v.debug_name}")
            self.objs[v] = self.bind(val, f"c{v.debug_name}_t")
        elif isinstance(val, _dt.dtype):
            e = self.bind_dtype(val)
        else:
            e = self.bind(val, f"c{v.debug_name}")
        self.names[v] = e
        return e

    # ------------------------------------------------------------------ emission
    def emit(self, line):
        self.lines.append("    " * self.depth + line)

    def assign(self, targets, values):
        pairs = [(t, self.ref(v)) for t, v in zip(targets, values)]
        pairs = [(t, e) for t, e in pairs if t != e]
        if len(pairs) == 1:
            self.emit(f"{pairs[0][0]} = {pairs[0][1]}")
        elif pairs:
            self.emit(", ".join(t for t, _ in pairs) + " = " + ", ".join(e for _, e in pairs))

    def generate(self):
        g = self.graph
        params = []
        for v in g.inputs:
            name = self.define(v)
            params.append(name)
            if isinstance(self.specs.get(v), TensorSpec):
                self.objs[v] = self.new_var(name + "_t")
        self._hoist_attrs()
        self.emit_block(g.block, top=True)
        self._return(g.outputs)
        return self._assemble(params), self.ns

    def _assemble(self, params):
        g = self.graph
        head, unwrap = [], []
        for v, name in zip(g.inputs, params):
            s = self.specs.get(v)
            if isinstance(s, TensorSpec):
                p = self.objs[v] if v in self.used_objs else name
                head.append(p)
                unwrap.append(f"    {name} = {p}._data")
            elif isinstance(s, ListSpec) and isinstance(s.elem, TensorSpec):
                head.append(name)
                unwrap.append(f"    {name} = [t._data for t in {name}]")
            elif (isinstance(s, ValueSpec) and s.pytype in _PLAIN_TYPES) or isinstance(
                    v.type, T.ClassType):
                head.append(name)
            else:
                head.append(name)
                unwrap.append(f"    {name} = _unbox({name})")
        args = ", ".join(head)
        pre = [line.replace("@ARGS@", args) for line in self.pre]
        body = self.lines
        if self.entered is not None:    # `with obj:` bodies: exit them if one raises
            body = ["    try:"] + ["    " + line for line in body] + [
                "    except BaseException:",
                f"        _unwind_with({self.entered})", "        raise"]
        src = [f"def {self.fname}({args}):"] + pre + unwrap + body
        return "\n".join(src) + "\n"

    def emit_block(self, block, top=False):
        if (not top and self.has_stale and block not in self.profile.blocks
                and not always_raises(block)):
            self.emit("_stale()          # this path was not profiled: ask for a new profile")
        dead_after = _last_uses(block) if top else {}
        for n in block.nodes:
            self.emit_node(n)
            if n.kind == "prim::RaiseException":
                break                       # what follows never runs
            self._release(dead_after.get(n, ()))

    def _release(self, values):
        """`del` the arrays no later node reads, as torch.fx does: a temporary kept alive to
        the end of the function keeps its memory from being reused by the next op (at 2^20
        elements NumPy then faults in fresh pages for every op, several times slower)."""
        names = []
        for v in values:
            name = self.names.get(v)
            if (name is None or not name.isidentifier() or keyword.iskeyword(name)
                    or name.startswith("_")
                    or sum(1 for e in self.names.values() if e == name) != 1):
                continue                    # a constant, a global, or a name two values share
            names.append(name)
            del self.names[v]
        if names:
            self.emit(f"del {', '.join(names)}")

    def emit_node(self, n):
        k = n.kind
        if k == "prim::Constant" or n in self.hoisted_set:
            return
        emitter = _PRIM_EMITTERS.get(k)
        if emitter is not None:
            emitter(self, n)
        elif k.startswith("aten::"):
            codegen_aten.emit_aten(self, n)
        else:
            raise CodeGenError(f"the executor cannot run {k} nodes ({n!r})")

    # ------------------------------------------------------------------ the boundary
    def wrap_expr(self, v, counts=None):
        """The expression returning Value v to the caller: Tensors wrapped (the same
        object for an input, a module attribute, an in-place result of one)."""
        o = self.obj(v)
        if o is not None:
            return o
        n = v.node
        if _rebuilt_at_return(self, n):
            items = [self.wrap_expr(x) for x in n.inputs]
            if n.kind == "prim::DictConstruct":       # (Tensor keys hash as Tensors)
                return "{" + ", ".join(f"{k}: {x}" for k, x in zip(items[0::2],
                                                                   items[1::2])) + "}"
            if n.kind == "prim::ListConstruct":
                return "[" + ", ".join(items) + "]"
            cls = _objects.namedtuple_class(n.output.type)
            if cls is not None:
                return f"{self.bind(cls, cls.__name__)}({', '.join(items)})"
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        e = self.wrap_spec(self.ref(v), self.specs.get(v))
        passed = self._passed_inputs(v)
        if passed:
            t = self.new_var("passed")
            return (f"({t} if ({t} := _passed({self.ref(v)}, ({', '.join(passed)},))) "
                    f"is not None else {e})")
        return e

    def _passed_inputs(self, v):
        """The Tensor input objects a returned loop or `if` output may be unchanged (a
        loop that ran no trip, a branch that returns its input)."""
        if v.node.kind not in ("prim::Loop", "prim::If") or \
                not isinstance(v.type, T.TensorType):
            return None
        out = []
        for x in self.graph.inputs:
            if isinstance(self.specs.get(x), TensorSpec) and x in self.objs and any(
                    u.user.kind == "prim::Loop" or (u.user.kind == "prim::Return" and
                                                    u.user.owning_block is not
                                                    self.graph.block) for u in x.uses):
                out.append(self.obj(x))
        return out

    def wrap_spec(self, e, s):
        if isinstance(s, TensorSpec):      # (CPU values are ndarrays: see codegen_aten)
            return f"_wrap({e}, {self.bind_dtype(s.dtype)}, {self.bind_device(s.device)})"
        if isinstance(s, ValueSpec) and _opaque(s.pytype):
            return e
        if isinstance(s, TupleSpec):
            items = [self.wrap_spec(f"{e}[{i}]", x) for i, x in enumerate(s.elems)]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if isinstance(s, ListSpec) and isinstance(s.elem, TensorSpec):
            return f"[{self.wrap_spec('a_', s.elem)} for a_ in {e}]"
        return f"_box({e})"

    def _return(self, outs):
        seen = {}
        for v in outs:
            self._count(v, seen)
        for v, k in seen.items():     # a value returned twice is one Tensor, wrapped once
            if k > 1 and v not in self.objs and isinstance(self.specs.get(v), TensorSpec):
                name = self.new_var(self.names.get(v, "out") + "_w")
                self.emit(f"{name} = {self.wrap_expr(v)}")
                self.objs[v] = name
        items = [self.wrap_expr(v) for v in outs]
        for j, e in enumerate(items):       # a Tensor made here: wrapped inline
            m = _PLAIN_WRAP.fullmatch(e)
            if m is not None:
                items[j] = self.new_var("ret")
                self.emit(wrap_statements(items[j], *m.groups()))
        if len(items) == 1:
            self.emit(f"return {items[0]}")
        elif not items:
            self.emit("return None")
        else:
            self.emit("return " + ", ".join(items))

    def _count(self, v, seen):
        n = v.node
        if _rebuilt_at_return(self, n) and v not in self.objs:
            for x in n.inputs:
                self._count(x, seen)
        else:
            seen[v] = seen.get(v, 0) + 1

    # ------------------------------------------------------------------ module attributes
    def _hoist_attrs(self):
        """Module attribute reads at entry, each guarded by the type the profile saw; a
        failed guard hands the call back to the executor before anything ran."""
        objs = {self.graph.inputs[0]: self.module} if self.hoisted else {}
        for n in self.hoisted:
            v = n.output
            obj = self.ref(n.inputs[0])
            name = self.define(v)
            attr = n.attrs["name"]
            read, objs[v] = _attr_read(objs.get(n.inputs[0]), obj, attr)
            s = self.specs.get(v)
            if isinstance(s, TensorSpec):
                t = self.new_var(name + "_t")
                rank = f" and {t}._data.ndim == {s.ndim}" if s.ndim is not None else ""
                self.pre.append(f"    {t} = {read}")
                self.pre.append(
                    f"    if not (isinstance({t}, _T) and {t}._dtype is "
                    f"{self.bind_dtype(s.dtype)} and {t}._device is "
                    f"{self.bind_device(s.device)}{rank}):")
                self.pre.append("        return _deopt(@ARGS@)")
                self.pre.append(f"    {name} = {t}._data")
                self.objs[v] = t
            elif isinstance(s, ValueSpec):
                self.pre.append(f"    {name} = {read}")
                if s.pytype is type(None):
                    self.pre.append(f"    if {name} is not None:")
                else:
                    self.pre.append(f"    if type({name}) is not "
                                    f"{self.bind(s.pytype, s.pytype.__name__)}:")
                self.pre.append("        return _deopt(@ARGS@)")
            else:                  # read on a path the profile never ran: nothing known
                self.pre.append(f"    {name} = _unbox({read})")


_MISSING = object()
_MODULE_DICTS = ("_parameters", "_buffers", "_modules")


def _last_uses(block):
    """node -> the values of this block whose last reader (a node of the block, or a node
    nested in it) is that node. Values the block returns are never last-used here."""
    last = {}
    returned = set()
    todo = list(block.outputs)
    while todo:               # the return unpacks tuples/lists built in this block
        v = todo.pop()
        if v not in returned:
            returned.add(v)
            if v.node.kind in ("prim::TupleConstruct", "prim::ListConstruct",
                               "prim::DictConstruct"):
                todo.extend(v.node.inputs)
    for n in block.nodes:
        for v in _reads(n):
            if v.node.owning_block is block and v not in returned and \
                    v.node.kind != "prim::Param":
                last[v] = n
    out = {}
    for v, n in last.items():
        out.setdefault(n, []).append(v)
    return out


def _reads(n):
    yield from n.inputs
    for b in n.blocks:
        for m in b.nodes:
            yield from _reads(m)
        yield from b.outputs


def _attr_read(owner, expr, attr):
    """(source reading attribute `attr` of `expr`, the value now). A module's parameter,
    buffer or submodule is read from its dict (what Module.__getattr__ would find, without
    the failed normal lookup first); a name gone from that dict reads as _MISSING, which
    no guard accepts."""
    plain = _attr_ref(expr, attr) or f"getattr({expr}, {attr!r})"
    if owner is None:
        return plain, None
    d = getattr(owner, "__dict__", {})
    if attr not in d and not any(attr in c.__dict__ for c in type(owner).__mro__):
        for where in _MODULE_DICTS:
            table = d.get(where)
            if isinstance(table, dict) and attr in table:
                return f"{expr}.{where}.get({attr!r}, _MISSING)", table[attr]
    return plain, getattr(owner, attr, None)


# ---------------------------------------------------------------------- prim:: emitters

def _only_returned(cg, n):
    """A top-level tuple/list that only the return uses: wrap_expr rebuilds it there."""
    return n.owning_block is cg.graph.block and all(
        u.user is cg.graph.return_node for u in n.output.uses)


def _rebuilt_at_return(cg, n):
    """Does the return rebuild this top-level tuple/list from its items (the same
    objects as the items, inputs included)? A tuple always (it cannot change); a list
    unless something may mutate it: a node using it that writes (aten::append,
    aten::_set_item, a loop or if holding one), or a write through an alias of it (an
    inner list read back out of its outer list, `l[0].append(5)`): then the list object
    itself is returned."""
    from ..ir.schema_match import has_side_effects
    if n.owning_block is not cg.graph.block:
        return False
    if n.kind == "prim::TupleConstruct":
        return True
    if n.kind not in ("prim::ListConstruct", "prim::DictConstruct") or \
            any(has_side_effects(u.user) for u in n.output.uses):
        return False
    return not cg.alias_db().has_writers(n.output)


def _list_construct(cg, n):
    if not _only_returned(cg, n):
        cg.emit(f"{cg.define(n.output)} = [{', '.join(cg.ref(v) for v in n.inputs)}]")


def _tuple_construct(cg, n):
    if not _only_returned(cg, n):
        items = [cg.ref(v) for v in n.inputs]
        cls = _objects.namedtuple_class(n.output.type)
        if cls is not None:                   # the user's NamedTuple class
            cg.emit(f"{cg.define(n.output)} = {cg.bind(cls, cls.__name__)}"
                    f"({', '.join(items)})")
            return
        comma = "," if len(items) == 1 else ""
        cg.emit(f"{cg.define(n.output)} = ({', '.join(items)}{comma})")


def _create_object(cg, n):
    """An instance of the user's class, made without its Python __init__."""
    cls = _objects.object_class(n.output.type)
    c = cg.bind(cls, cls.__name__)
    cg.emit(f"{cg.define(n.output)} = {c}.__new__({c})")


def _python_op(cg, n):
    """A call of an @ignore'd Python function on boxed values; its result unboxed."""
    fn = cg.bind(_objects.python_callable(n), "py_" + str(n.attrs.get("name", "fn")))
    call = f"{fn}({', '.join(box_expr(cg, v) for v in n.inputs)})"
    if n.outputs:
        cg.emit(f"{cg.define(n.output)} = _unbox({call})")
    else:
        cg.emit(call)


def _region_marker(cg, n):
    """prim::Enter / prim::Exit of a strict_fusion region: checked when the graph was
    fused (runtime/fusion.py); nothing to run. Those of `with obj:` keep the entered
    objects in a list made at function entry, whose __exit__ the function's handler
    calls if the body raises (see _assemble)."""
    from .objects import OBJECT_REGION
    if n.attrs.get("name") != OBJECT_REGION:
        return
    if cg.entered is None:
        cg.entered = cg.new_var("entered")
        cg.pre.append(f"    {cg.entered} = []")
    if n.kind == "prim::Enter":
        cg.emit(f"{cg.entered}.append({cg.ref(n.inputs[0])})")
    else:
        cg.emit(f"{cg.entered}.pop()")


def _unpack(cg, n):
    src = cg.ref(n.inputs[0])
    outs = [cg.define(v) for v in n.outputs]
    if not outs:
        cg.emit(f"[] = {src}")
    else:
        cg.emit(f"{', '.join(outs)}{',' if len(outs) == 1 else ''} = {src}")


def _tuple_index(cg, n):
    cg.emit(f"{cg.define(n.output)} = {cg.ref(n.inputs[0])}[{cg.ref(n.inputs[1])}]")


def _dict_construct(cg, n):
    if _only_returned(cg, n):
        return
    vals = [cg.ref(v) for v in n.inputs]
    items = ", ".join(f"{k}: {x}" for k, x in zip(vals[0::2], vals[1::2]))
    cg.emit(f"{cg.define(n.output)} = {{{items}}}")


def _attr_ref(obj, attr):
    if attr.isidentifier() and not keyword.iskeyword(attr):
        return f"{obj}.{attr}"
    return None


def _get_attr(cg, n):
    v = n.output
    obj, attr = cg.ref(n.inputs[0]), n.attrs["name"]
    read = _attr_ref(obj, attr) or f"getattr({obj}, {attr!r})"
    name = cg.define(v)
    t = cg.new_var(name + "_t")
    cg.emit(f"{t} = {read}")
    cg.emit(f"{name} = _unbox({t})")
    cg.objs[v] = t


def box_expr(cg, v):
    """A value as eager code holds it (for SetAttr, Print, calls): its Tensor object when
    there is one, else wrapped by what is known of it."""
    o = cg.obj(v)
    if o is not None:
        return o
    return cg.wrap_spec(cg.ref(v), cg.specs.get(v))


def _set_attr(cg, n):
    obj, attr = cg.ref(n.inputs[0]), n.attrs["name"]
    val = box_expr(cg, n.inputs[1])
    target = _attr_ref(obj, attr)
    cg.emit(f"{target} = {val}" if target else f"setattr({obj}, {attr!r}, {val})")


def _if(cg, n):
    cond = cg.ref(n.inputs[0])
    outs = [cg.define(v) for v in n.outputs]
    cg.emit(f"if {cond}:")
    for i, b in enumerate(n.blocks):
        if i == 1:
            if not b.nodes and all(cg.names.get(v) == t for v, t in zip(b.outputs, outs)):
                break
            cg.emit("else:")
        cg.depth += 1
        start = len(cg.lines)
        cg.emit_block(b)
        if not always_raises(b):
            cg.assign(outs, b.outputs)
        if len(cg.lines) == start:
            cg.emit("pass")
        cg.depth -= 1


def _loop(cg, n):
    trip, cond0, init = n.inputs[0], n.inputs[1], n.inputs[2:]
    body = n.blocks[0]
    outs = [cg.define(v) for v in n.outputs]
    cg.assign(outs, init)
    for bv, o in zip(body.inputs[1:], outs):
        cg.names[bv] = o
    i = cg.define(body.inputs[0])
    body_cond = body.outputs[0]
    if constant_of(cond0) is True and constant_of(body_cond) is True:
        cg.emit(f"for {i} in range({cg.ref(trip)}):")
        cg.depth += 1
        start = len(cg.lines)
        cg.emit_block(body)
        cg.assign(outs, body.outputs[1:])
        if len(cg.lines) == start:
            cg.emit("pass")
        cg.depth -= 1
        return
    c = cg.new_var("cond")
    cg.emit(f"{c} = {cg.ref(cond0)}")
    t = constant_of(trip)
    endless = isinstance(t, int) and t >= _INT64_MAX
    count = not endless or bool(body.inputs[0].uses)
    if count:
        cg.emit(f"{i} = 0")
    cg.emit(f"while {c}:" if endless else f"while {c} and {i} < {cg.ref(trip)}:")
    cg.depth += 1
    cg.emit_block(body)
    cg.assign(outs + [c], list(body.outputs[1:]) + [body_cond])
    if count:
        cg.emit(f"{i} += 1")
    cg.depth -= 1


def _raise(cg, n):
    from .interpreter import raise_location
    args = [cg.ref(v) for v in n.inputs[:2]]
    if len(args) == 1:
        args.append("None")
    where = raise_location(n)
    if where:
        args.append(repr(where))
    cg.emit(f"raise _exception_for({', '.join(args)})")


def _call(cg, n):
    from .executor import CallSite, DynamicCallSite
    from .interpreter import is_dynamic_call
    site = DynamicCallSite(n) if is_dynamic_call(n) else CallSite(n)
    fn = cg.bind(site, f"call_{n.attrs.get('name', 'fn')}")
    call = f"{fn}({', '.join(box_expr(cg, v) for v in site.args)})"
    outs = [cg.define(v) for v in n.outputs]
    cg.emit(f"{', '.join(outs)} = {call}" if outs else call)


def _num_to_tensor(cg, n):
    x = cg.ref(n.inputs[0])
    s = cg.specs.get(n.output)
    name = cg.define(n.output)
    if isinstance(s, TensorSpec):
        cg.emit(f"{name} = _asarray({x}, {cg.bind_np_dtype(s.dtype)})")
    else:
        cg.emit(f"{name} = _num_to_tensor({x})._data")


def _uninitialized(cg, n):
    cg.emit(f"{cg.define(n.output)} = None")


def _alias(cg, n):
    cg.names[n.output] = cg.ref(n.inputs[0])
    o = cg.objs.get(n.inputs[0])
    if o is not None:
        cg.objs[n.output] = o
        cg.obj_sources[n.output] = n.inputs[0]


def _print(cg, n):
    cg.emit(f"print({', '.join(box_expr(cg, v) for v in n.inputs)})")


def _warn(cg, n):
    node = cg.bind(n, "node")
    args = ", ".join(cg.ref(v) for v in n.inputs)
    if cg.warned is None:       # the nodes that have warned in this call (as TorchScript)
        cg.warned = cg.new_var("warned")
        cg.pre.append(f"    {cg.warned} = set()")
    cg.emit(f"_emit_warning({node}, {args}, warned={cg.warned})")


def _dtype(cg, n):
    s = cg.specs.get(n.inputs[0])
    x = cg.ref(n.inputs[0])
    if isinstance(s, TensorSpec):
        cg.names[n.output] = cg.bind_dtype(s.dtype)
    else:
        cg.emit(f"{cg.define(n.output)} = _dtype_of({x})")


def _device(cg, n):
    s = cg.specs.get(n.inputs[0])
    x = cg.ref(n.inputs[0])
    if isinstance(s, TensorSpec):
        cg.names[n.output] = cg.bind_device(s.device)
    else:
        cg.emit(f"{cg.define(n.output)} = _device_of({x})")


def _requires_grad(cg, n):
    # generated code runs only when no gradient is recorded: a tensor it computes never
    # requires grad; an input, a parameter or buffer answers for itself
    o = cg.obj(n.inputs[0])
    cg.emit(f"{cg.define(n.output)} = {o + '.requires_grad' if o is not None else 'False'}")


def _data(cg, n):
    # no gradient is recorded here: x.data is x's array (boxed again where it leaves)
    cg.names[n.output] = cg.ref(n.inputs[0])


def _grad(cg, n):
    # x.grad of an input, a parameter or buffer (read when the line runs); None for a
    # tensor the generated code computed
    o = cg.obj(n.inputs[0])
    cg.emit(f"{cg.define(n.output)} = {'_unbox(' + o + '.grad)' if o is not None else 'None'}")


def _is_leaf(cg, n):
    # a tensor computed while nothing records is a leaf, as in PyTorch
    o = cg.obj(n.inputs[0])
    cg.emit(f"{cg.define(n.output)} = {o + '.is_leaf' if o is not None else 'True'}")


def _retains_grad(cg, n):
    o = cg.obj(n.inputs[0])
    cg.emit(f"{cg.define(n.output)} = {o + '.retains_grad' if o is not None else 'False'}")


def _array_attr(cg, n):
    cg.emit(f"{cg.define(n.output)} = int({cg.ref(n.inputs[0])}.{n.kind[6:]})")


def _enum_attr(cg, n):        # prim::EnumName / prim::EnumValue: the member's .name / .value
    attr = "name" if n.kind == "prim::EnumName" else "value"
    cg.emit(f"{cg.define(n.output)} = {cg.ref(n.inputs[0])}.{attr}")


_PRIM_EMITTERS = {
    "prim::ListConstruct": _list_construct, "prim::TupleConstruct": _tuple_construct,
    "prim::TupleUnpack": _unpack, "prim::ListUnpack": _unpack,
    "prim::TupleIndex": _tuple_index, "prim::DictConstruct": _dict_construct,
    "prim::GetAttr": _get_attr, "prim::SetAttr": _set_attr, "prim::If": _if,
    "prim::Loop": _loop, "prim::RaiseException": _raise, "prim::CallFunction": _call,
    "prim::CallMethod": _call, "prim::NumToTensor": _num_to_tensor,
    "prim::Uninitialized": _uninitialized, "prim::unchecked_cast": _alias,
    "prim::Print": _print, "aten::warn": _warn, "prim::dtype": _dtype, "prim::device": _device,
    "prim::requires_grad": _requires_grad, "prim::data": _data, "prim::grad": _grad,
    "prim::is_leaf": _is_leaf, "prim::retains_grad": _retains_grad,
    "prim::itemsize": _array_attr, "prim::nbytes": _array_attr,
    "prim::EnumName": _enum_attr, "prim::EnumValue": _enum_attr,
    "prim::TensorExprGroup": fusion.emit_group,
    "prim::CreateObject": _create_object, "prim::PythonOp": _python_op,
    "prim::Enter": _region_marker, "prim::Exit": _region_marker,
    "prim::isinstance": codegen_aten.emit_isinstance,
    **_future_nodes.EMITTERS,
}
