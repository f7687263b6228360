"""The prim:: node emitters of the code generator (codegen.py): containers (list, tuple,
dict construction and unpacking), module attributes (GetAttr/SetAttr), control flow (`if`,
`for`/`while` loops), raise, calls of other graphs and of @ignore'd Python functions,
objects and `with` regions, and the small prim:: reads (dtype, device, requires_grad,
grad, is_leaf, ...). Each emitter is `emit(cg, node)` over a CodeGenerator `cg`;
PRIM_EMITTERS maps a node kind to its emitter (aten:: nodes are codegen_aten.py's)."""
from __future__ import annotations

import keyword

from .. import dtypes as _dt
from ..ir import types as T
from . import codegen_aten
from . import fusion
from . import future_nodes as _future_nodes
from . import objects as _objects
from .arguments import COPIED_ON_READ
from .assume import NO_CONSTANT, always_raises, constant_of
from .interpreter import IMPLICIT_REQUIRES_GRAD as _IMPLICIT_REQUIRES_GRAD
from .container_ops import tuple_item
from .profile import TensorSpec
from .script_text import script_print, script_str

_INT64_MAX = (1 << 63) - 1


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
    from .objects import OBJECT_REGION, open_record_function
    from ..ir.python_printer import RECORD_FUNCTION_REGION
    name = n.attrs.get("name")
    if name not in (OBJECT_REGION, RECORD_FUNCTION_REGION):
        return
    if cg.entered is None:
        cg.entered = cg.new_var("entered")
        cg.pre.append(f"    {cg.entered} = []")
    if name == RECORD_FUNCTION_REGION:       # a profiler range: closed by its Exit, or by
        if n.kind == "prim::Enter":          # the handler if the body raises
            fn = cg.bind(open_record_function, "open_record_function")
            cg.emit(f"{cg.entered}.append({fn}({cg.ref(n.inputs[0])}))")
        else:
            cg.emit(f"{cg.entered}.pop().__exit__(None, None, None)")
        return
    if n.kind == "prim::Enter":
        cg.emit(f"{cg.entered}.append({cg.ref(n.inputs[0])})")
    else:
        cg.emit(f"{cg.entered}.pop()")


def _unpack(cg, n):
    src = cg.ref(n.inputs[0])
    outs = [cg.define(v) for v in n.outputs]
    line = f"{', '.join(outs)}{',' if len(outs) == 1 else ''} = {src}" if outs \
        else f"[] = {src}"
    if n.kind != "prim::ListUnpack":
        cg.emit(line)
        return
    # a list's length is known when it runs: TorchScript's error for the wrong one
    # (Python's ValueError caught, so the call that unpacks right pays nothing)
    k = len(n.outputs)
    cg.emit("try:")
    cg.depth += 1
    cg.emit(line)
    cg.depth -= 1
    cg.emit("except ValueError:")
    cg.depth += 1
    if n.inputs[0].node.kind == "aten::chunk":      # (interpreter.unpack_message)
        cg.emit(f"raise RuntimeError('Expected chunk to return at least {k} outputs, but "
                f"got only ' + str(len({src}))) from None")
    else:
        cg.emit(f"raise RuntimeError('Expected {k} elements in a list but found ' + "
                f"str(len({src}))) from None")
    cg.depth -= 1


def _tuple_index(cg, n):
    t, i = cg.ref(n.inputs[0]), cg.ref(n.inputs[1])
    if constant_of(n.inputs[1]) is NO_CONSTANT:      # t[i]: an i out of range is an error
        cg.emit(f"{cg.define(n.output)} = {cg.bind(tuple_item, 'tuple_item')}({t}, {i})")
        return
    cg.emit(f"{cg.define(n.output)} = {t}[{i}]")


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
    # (an attribute Python reads as a copy, CopiedOnRead: the module's own value)
    read = f"_live_attr({obj}, {attr!r})" if attr in COPIED_ON_READ else \
        _attr_ref(obj, attr) or f"getattr({obj}, {attr!r})"
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
    if attr in COPIED_ON_READ:      # (stored as it is: an alias, as TorchScript's)
        cg.emit(f"_set_live_attr({obj}, {attr!r}, {val})")
    else:
        cg.emit(f"{target} = {val}" if target else f"setattr({obj}, {attr!r}, {val})")


def _if(cg, n):
    cond = cg.ref(n.inputs[0])
    outs = [cg.define(v) for v in n.outputs]
    unrun = cg.checked.get(n, ())
    cg.emit(f"if {cond}:")
    for i, b in enumerate(n.blocks):
        if i == 1:
            if not b.nodes and b not in unrun and \
                    all(cg.names.get(v) == t for v, t in zip(b.outputs, outs)):
                break
            cg.emit("else:")
        cg.depth += 1
        start = len(cg.lines)
        cg.emit_block(b)
        if b in unrun:
            _check_unrun_outputs(cg, n, b)
        if not always_raises(b):
            cg.assign(outs, b.outputs)
        if len(cg.lines) == start:
            cg.emit("pass")
        cg.depth -= 1


def _check_unrun_outputs(cg, n, b):
    """The end of branch b of If n, which the profile never saw: the code after n was
    made for the outputs the other branches gave (assume.if_); if b's do not fit those
    types, the call is finished op by op from here (runtime/resume.py)."""
    from .resume import Resume, continuation_reads
    from .assume import typed_by_annotation
    # (an int / float / bool / str output is known from its type alone, as before)
    idx = [i for i, v in enumerate(n.outputs)
           if cg.specs.get(v) is not None and typed_by_annotation(v) is None]
    specs = cg.bind(tuple(cg.specs[n.outputs[i]] for i in idx), "specs")
    got = "".join(cg.ref(b.outputs[i]) + ", " for i in idx)
    reads, prelude, exprs = [], [], []
    todo = list(continuation_reads(n))
    while todo:
        v = todo.pop(0)
        m = v.node
        if m.kind == "prim::Constant":
            prelude.insert(0, m)
            continue
        if v not in cg.names and m.kind in ("prim::TupleConstruct", "prim::ListConstruct"):
            prelude.insert(0, m)     # (built at the return only: rebuilt op by op)
            todo.extend(x for x in m.inputs if x not in reads and x not in todo)
            continue
        reads.append(v)
        exprs.append(_object_or_ref(cg, v))
    resume = cg.bind(Resume(n, reads, prelude, cg.group_of), "resume")
    fits = cg.bind(_fits_fn(), "fits")
    outs = "".join(_object_or_ref(cg, v) + ", " for v in b.outputs)
    cg.emit(f"if not {fits}(({got}), {specs}):     # not the profiled types: op by op")
    entered = f", {cg.entered}" if cg.entered is not None else ""     # (`with` bodies)
    cg.emit(f"    return {resume}(({''.join(e + ', ' for e in exprs)}), ({outs}){entered})")


def _object_or_ref(cg, v):
    """What the interpreter gets for v: an input's (or module attribute's) Tensor object
    itself, so `is` and a returned input stay that object; else the raw value (0 for the
    counter of an endless loop that does not count its trips: any trip is below its
    bound)."""
    if v in cg.uncounted:
        return "0"
    return (cg.obj(v) if v in cg.objs else None) or cg.ref(v)


def _fits_fn():
    from .resume import fits
    return fits


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
    else:
        cg.uncounted.add(body.inputs[0])
    cg.emit(f"while {c}:" if endless else f"while {c} and {i} < {cg.ref(trip)}:")
    cg.depth += 1
    cg.emit_block(body)
    cg.assign(outs + [c], list(body.outputs[1:]) + [body_cond])
    if count:
        cg.emit(f"{i} += 1")
    cg.depth -= 1


def _raise(cg, n):
    from .interpreter import raise_location, raises_traceback
    args = [cg.ref(v) for v in n.inputs[:2]]
    if len(args) == 1:
        args.append("None")
    where, traceback = raise_location(n), raises_traceback(n)
    if where or not traceback:
        args.append(repr(where))
    if not traceback:
        args.append("False")
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
    # each value as scripted code writes it (floats `1.`, strs in lists unquoted)
    text = cg.bind(script_str, "script_str")
    out = cg.bind(script_print, "script_print")
    cg.emit(f"{out}({', '.join(f'{text}({box_expr(cg, v)})' for v in n.inputs)})")


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
    # scripted x.dtype is TorchScript's int (prim::dtype(Tensor a) -> int: float32 is 6);
    # a traced graph's (and aten::to.other's) ScalarType is the dtype
    code = isinstance(n.output.type, T.IntType)
    if isinstance(s, TensorSpec):
        cg.names[n.output] = repr(_dt.scalar_type_code(s.dtype)) if code else \
            cg.bind_dtype(s.dtype)
    elif code:
        cg.emit(f"{cg.define(n.output)} = _scalar_type_code(_dtype_of({x}))")
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


def _implicit(cg, n):
    # aten::IntImplicit / FloatImplicit / ScalarImplicit: TorchScript's kernel refuses a
    # tensor that requires grad (an input, a parameter or buffer answers for itself; a
    # tensor the generated code computes never does), then the op as any other
    o = cg.obj(n.inputs[0])
    if o is not None:
        msg = cg.bind(_IMPLICIT_REQUIRES_GRAD, "implicit_requires_grad")
        cg.emit(f"if {o}.requires_grad: raise RuntimeError({msg})")
    codegen_aten.emit_aten(cg, n)


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


def _layout(cg, n):         # prim::layout: the layout's int (interpreter.layout_code)
    from .interpreter import layout_code
    fn = cg.bind(layout_code, "layout_code")
    cg.emit(f"{cg.define(n.output)} = {fn}({cg.ref(n.inputs[0])})")


def _stat(cg, n):          # prim::AddStatValue / prim::TimePoint (gpujit.jit._logging)
    from ..jit import _logging
    if n.kind == "prim::AddStatValue":
        fn = cg.bind(_logging._add_stat_value, "add_stat_value")
        cg.emit(f"{fn}({', '.join(cg.ref(v) for v in n.inputs)})")
    else:
        fn = cg.bind(_logging._time_point, "time_point")
        cg.emit(f"{cg.define(n.output)} = {fn}()")


def _enum_attr(cg, n):        # prim::EnumName / prim::EnumValue: the member's .name / .value
    attr = "name" if n.kind == "prim::EnumName" else "value"
    cg.emit(f"{cg.define(n.output)} = {cg.ref(n.inputs[0])}.{attr}")


PRIM_EMITTERS = {
    "prim::ListConstruct": _list_construct, "prim::TupleConstruct": _tuple_construct,
    "prim::TupleUnpack": _unpack, "prim::ListUnpack": _unpack,
    "prim::TupleIndex": _tuple_index, "prim::DictConstruct": _dict_construct,
    "prim::GetAttr": _get_attr, "prim::SetAttr": _set_attr, "prim::If": _if,
    "prim::Loop": _loop, "prim::RaiseException": _raise, "prim::CallFunction": _call,
    "prim::CallMethod": _call, "prim::NumToTensor": _num_to_tensor,
    "prim::Uninitialized": _uninitialized, "prim::unchecked_cast": _alias,
    "prim::Print": _print, "aten::warn": _warn, "prim::dtype": _dtype, "prim::device": _device,
    "prim::requires_grad": _requires_grad, "prim::data": _data, "prim::grad": _grad,
    "aten::IntImplicit": _implicit, "aten::FloatImplicit": _implicit,
    "aten::ScalarImplicit": _implicit,
    "prim::is_leaf": _is_leaf, "prim::retains_grad": _retains_grad,
    "prim::itemsize": _array_attr, "prim::nbytes": _array_attr, "prim::layout": _layout,
    "prim::AddStatValue": _stat, "prim::TimePoint": _stat,
    "prim::EnumName": _enum_attr, "prim::EnumValue": _enum_attr,
    "prim::TensorExprGroup": fusion.emit_group,
    "prim::CreateObject": _create_object, "prim::PythonOp": _python_op,
    "prim::Enter": _region_marker, "prim::Exit": _region_marker,
    "prim::isinstance": codegen_aten.emit_isinstance,
    **_future_nodes.EMITTERS,
}
