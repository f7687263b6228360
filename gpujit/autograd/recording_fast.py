"""Per-op recorders: the planned recording (recording._record_planned) of one op written
out as a function of its own, generated once per op from its plan, with the plan's facts
as constants: no loops over the plan's positions, no per-call tests of what the plan
fixes (saved parameters' kinds, wrt positions, stash / result / view), the edge of a
leaf (its AccumulateGrad) and of a node's output inline. autograd_call runs it in place of
_complex_checked -> _recorded_call -> _record_planned once the op has been recorded once.

The recorder makes the same node, saved values, edges and output marks as
_record_planned; where a call needs what the plan does not fix (inference tensors, a
derivative or composite or refusal registered since, other argument counts, a Python
number operand named for the first time), it hands the call to the general path. A Python
number operand's node name and dropped edges depend only on which operands are numbers
(and on whether scripted code runs: node_names.SCRIPTED), so they are kept per pattern.
"""
from __future__ import annotations

import weakref

from .. import dtypes as _dt
from ..ops import registry as _reg
from ..ops.node_names import SCRIPTED, drops_number_edges
from ..tensor import Tensor, _AutogradMeta
from .graph import SavedTensor, backward_name, node_class, _QUALIFIED_NAMES
from . import recording as _rec
from . import views as _views

__all__ = ["make_recorder"]

_NUMS = (bool, int, float, complex)


def _general(op, args):
    """autograd_call's recording path, as without a recorder."""
    if op.takes_complex:
        return _rec._complex_checked(op, args)
    return _rec._recorded_call(op, args)


def _numbered_name(op, d, plan, args, key, names_cache):
    """(node name, node class, skipped wrt positions) of a call whose operands `key[0]`
    (a mask over the plan's operand positions) are Python numbers, as _record_planned
    names it (backward_name, _edge_skip's number rule); kept in names_cache[key]."""
    facts = _rec._OP_FACTS[op]
    bound = dict(zip(facts[1], args))
    name = backward_name(op, bound, None)
    numbers = frozenset(facts[1][i] for i, m in zip(plan[3], key[0]) if m)
    skip = None
    if numbers and drops_number_edges(op, bound, name, numbers):
        skip = tuple(k for k, w in enumerate(d.wrt) if w in numbers) or None
    cls = node_class(name)
    if name in _QUALIFIED_NAMES:
        name = "torch::autograd::" + name
    got = names_cache[key] = (name, cls, skip)
    return got


def _number_skip(op, d, plan, bound, name, mask):
    """The wrt positions (sorted) whose edges a call named `name` with the Python number
    operands `mask` (over the plan's operand positions) drops, as _edge_skip's number
    rule (drops_number_edges); None when none."""
    names = _rec._OP_FACTS[op][1]
    numbers = frozenset(names[i] for i, m in zip(plan[3], mask) if m)
    if numbers and drops_number_edges(op, bound, name, numbers):
        return tuple(k for k, w in enumerate(d.wrt) if w in numbers) or None
    return None


_MISSING = object()


def _edgeless_skip(op, d, name, next_functions, inputs_meta, cache):
    """_edge_skip(op, d, None, name, next_functions, inputs_meta) of a call without Python
    number operands: which d.edgeless arguments lose their edges depends then only on
    which inputs need no gradient (inputs_meta None), kept per that pattern in cache
    (the recorder's own: one derivative) where no input is a Tensor[] and d has no
    not-implemented backward (else _edge_skip itself); next_functions / inputs_meta
    changed in place and the skipped positions returned as _edge_skip does."""
    if d.not_implemented is not None:
        return _rec._edge_skip(op, d, None, name, next_functions, inputs_meta)
    key = tuple([m is None for m in inputs_meta])
    skip = cache.get(key, _MISSING)
    if skip is _MISSING:
        for m in inputs_meta:
            if m is not None and m[0] == "list":
                return _rec._edge_skip(op, d, None, name, next_functions, inputs_meta)
        skip = cache[key] = _rec._edge_skip(op, d, None, name, list(next_functions),
                                            list(inputs_meta))
    if skip is not None:
        next_functions[:] = [e for k, e in enumerate(next_functions) if k not in skip]
        inputs_meta[:] = [m for k, m in enumerate(inputs_meta) if k not in skip]
    return skip


def make_recorder(op, plan):
    """The recorder of op (a function of the call's argument tuple), or None where the
    plan is not one a recorder writes out (autograd_call keeps the general path); an op
    with a hand-written recorder (HAND_WRITTEN) gets that one, which hands the calls it
    does not take to the generated one."""
    fn = _generated(op, plan) if type(plan) is tuple else None
    maker = HAND_WRITTEN.get(op.name)
    return fn if maker is None else maker(op, fn)


def _generated(op, plan):
    d, cls, node_name, operands, params, wrt, uses_needs, view = plan
    n = len(op.schema.arguments)
    if op.untracked_when is not None or n == 0:
        return None
    known = None
    if op.takes_complex:
        from ..ops import complex_autograd
        if not complex_autograd.differentiates(op):
            return None
        known = complex_autograd._KNOWN      # (read per call: what it says may change)
    wrt_pos = _rec._wrt_positions(op)
    if wrt_pos is None or tuple(wrt_pos) != tuple(wrt) or not wrt:
        return None
    # named per call (cls None: a naming rule of the call's arguments or result, F.linear's,
    # x ** 2's, x / 2.0's) or by the plan, where a Python number operand may rename it
    per_call = cls is None
    a = [f"a{i}" for i in range(n)]
    L = ["def recorder(args):",
         "    if _live[0] or _op.derivative is not _d or _op.composite is not _composite or "
         "_op.refuse_grad is not _refuse:",
         "        return _general(_op, args)"]
    if known is not None:       # (an op that takes complex tensors: differentiates them)
        L += ["    if _known.get(_op) is not True:",
              "        return _general(_op, args)"]
    if op.composite is not None:
        # (torch's decomposition, each of its ops recording, but while tracing: as
        # _recorded_call; NotImplemented: this call is the op's one node)
        L += ["    if _dispatch.tracing is None:",
              "        try:",
              "            r = _composite(*args)",
              # (a list / ndarray / None operand, nn.PReLU()([1.]): the entry point's
              # TypeError, which this path runs before, not the composite's AttributeError)
              "        except (AttributeError, TypeError):",
              "            _e = _not_tensor(_op, args)",
              "            if _e is None: raise",
              "            raise _e from None",
              "        if r is not NotImplemented:",
              "            return r"]
    if op.refuse_grad is not None:
        L += ["    msg = _refuse(*args)",
              "    if msg is not None:",
              "        raise RuntimeError(msg)"]
    L += ["    try:",
          f"        {', '.join(a)}, = args",
          "    except ValueError:       # (another argument count)",
          "        return _general(_op, args)"]
    # only arguments the derivative does not take require grad: run as unrecorded
    # (_recorded_call's wrt test)
    tests = [f"({a[i]}.__class__ is _T and {a[i]}._ag is not None and {a[i]}._ag.requires_grad)"
             f" or _requires_any({a[i]})" for i in wrt]
    L.append(f"    if not ({' or '.join(tests)}):")
    L.append("        return _op.eager(*args)")
    numbered = operands is not None and not d.edgeless and not per_call
    if operands is not None and d.edgeless and not per_call:
        mask = " or ".join(f"isinstance({a[i]}, _NUMS)" for i in operands)
        L.append(f"    if {mask}:")
        L.append("        return _record_planned(_op, args, _plan)")
    L.append("    name = _name")
    L.append("    cls = _cls")
    L.append("    skip = None")
    if per_call and operands is not None:
        test = " or ".join(f"isinstance({a[i]}, _NUMS)" for i in operands)
        L.append(f"    numbered = {test}")
    if numbered:
        test = " or ".join(f"isinstance({a[i]}, _NUMS)" for i in operands)
        mask = ", ".join(f"isinstance({a[i]}, _NUMS)" for i in operands)
        L.append(f"    if {test}:")
        L.append(f"        key = (({mask},), _SCRIPTED.on)")
        L.append("        got = _names.get(key)")
        L.append("        if got is None:")
        L.append("            got = _numbered_name(_op, _d, _plan, args, key, _names)")
        L.append("        name, cls, skip = got")
    pre = []
    for p, kind, i in params:
        v = f"p_{p}"
        pre.append((p, v))
        if kind == 0:
            L.append(f"    {v} = {a[i]}")
        elif kind == 1:
            L.append(f"    {v} = _shape_param({a[i]})")
        elif kind == 3:
            L.append(f"    {v} = _strides_param({a[i]})")
        else:
            L.append(f"    {v} = {a[i]}._device if isinstance({a[i]}, _T) else None")
    for k, i in enumerate(wrt):
        x = a[i]
        # (edge_of's common cases inline: a node's output, a leaf with its AccumulateGrad)
        L += [f"    if isinstance({x}, _T):",
              f"        ag = {x}._ag",
              "        if ag is not None and ag.requires_grad and ag.view is None and "
              "(ag.grad_fn is not None or ag.acc is not None):",
              f"            e{k} = (ag.grad_fn, ag.output_nr) if ag.grad_fn is not None "
              "else (ag.acc, 0)",
              "        else:",
              f"            e{k} = _edge_of({x})",
              f"        if e{k} is None:",
              f"            e{k} = (None, 0)",
              f"            m{k} = None",
              "        else:",
              f"            m{k} = (tuple({x}._data.shape), {x}._dtype)",
              "    else:",
              f"        e{k} = (None, 0)",
              f"        m{k} = None"]
    metas = ", ".join(f"m{k}" for k in range(len(wrt)))
    edges = ", ".join(f"e{k}" for k in range(len(wrt)))
    L.append(f"    inputs_meta = [{metas}]")
    # (a tuple straight away where no edge can be dropped)
    dropping = numbered or bool(d.edgeless) or (per_call and operands is not None)
    L.append(f"    next_functions = [{edges}]" if dropping else
             f"    next_functions = ({edges},)")
    needed = False
    if uses_needs:
        L.append("    needs = tuple([m is not None for m in inputs_meta])")
        if "needs_grad" in d.params:
            pre.append(("needs_grad", "needs"))
        if d.reads is not None:
            needed = True
            L.append("    needed = _d.needed_frozen(needs)")
            for p, v in pre:
                if not p.endswith(("_shape", "_device", "_strides", "needs_grad")):
                    L.append(f"    if {p!r} not in needed: {v} = None")
    # (no_grad's enter and exit; autograd_call runs the recorder only with grad mode on
    # and inference mode off, the state the exit restores)
    L += ["    _state.enabled = False",
          "    try:",
          "        result = _op.eager(*args)",
          "    finally:",
          "        _state.enabled = True",
          "        _state.inference = False",
          f"    if result is {a[0]}:",
          "        return result"]
    if per_call:
        # (_record_planned's naming of the call: backward_name of the bound arguments and
        # the result; a number operand's or an edgeless argument's edges dropped)
        names = [x.name for x in op.schema.arguments]
        bound = "{" + ", ".join(f"{nm!r}: {a[i]}" for i, nm in enumerate(names)) + "}"
        L.append(f"    bound = {bound}")
        L.append("    name = _backward_name(_op, bound, result)")
        if operands is not None and d.edgeless:
            L += ["    skip = _edge_skip(_op, _d, bound, name, next_functions, inputs_meta) "
                  "if numbered else _edgeless_skip(_op, _d, name, next_functions, "
                  "inputs_meta, _eskips)"]
        elif operands is not None:
            # (which edges a number operand drops depends on the name and on which
            # operands are numbers only: kept per (name, pattern, scripted mode))
            mask = ", ".join(f"isinstance({a[i]}, _NUMS)" for i in operands)
            L += ["    if numbered:",
                  f"        key = (name, ({mask},), _SCRIPTED.on)",
                  "        skip = _skips.get(key, _MISSING)",
                  "        if skip is _MISSING:",
                  "            skip = _skips[key] = _number_skip(_op, _d, _plan, bound, name, key[1])",
                  "        if skip is not None:",
                  "            next_functions = [e for k, e in enumerate(next_functions) "
                  "if k not in skip]",
                  "            inputs_meta = [m for k, m in enumerate(inputs_meta) if k not in skip]"]
        elif d.edgeless:
            L.append("    skip = _edgeless_skip(_op, _d, name, next_functions, inputs_meta, _eskips)")
        L += ["    cls = _node_class(name)",
              "    if name in _QUALIFIED:",
              "        name = 'torch::autograd::' + name"]
    elif numbered:
        L += ["    if skip is not None:",
              "        next_functions = [e for k, e in enumerate(next_functions) if k not in skip]",
              "        inputs_meta = [m for k, m in enumerate(inputs_meta) if k not in skip]"]
    elif d.edgeless:
        L.append("    skip = _edgeless_skip(_op, _d, name, next_functions, inputs_meta, _eskips)")
    L += ["    saved = {}",
          "    node = cls(_op, _d, saved, inputs_meta, " +
          ("tuple(next_functions), " if dropping else "next_functions, ") +
          "((tuple(result._data.shape), result._dtype, result._device),))",
          "    if skip is not None:",
          "        node.skip = skip"]
    for p, v in pre:
        L.append(f"    saved[{p!r}] = {v} if {v} is None or {v}.__class__ in _PLAIN else "
                 f"_ST({v}, name, 0, True) if {v}.__class__ is _T else _save({v}, name)")
    L += ["    if isinstance(result, _T) and result._dtype.category >= _FLOATING:",
          "        ag = result._ag",
          "        if ag is None:",
          "            ag = result._ag = _AGM()",
          "        ag.requires_grad = True",
          "        ag.grad_fn = node",
          "        ag.output_nr = 0",
          "        ref = _wref(result)",
          "        node.out_refs = [ref]",
          "    else:",
          "        ref = None",
          "        node.out_refs = [None]"]
    if "stash" in d.params:
        L.append("    saved['stash'] = _stashed(result._data)")
    if "result" in d.params:
        ind = "    "
        if needed:
            L += ["    if 'result' not in needed:",
                  "        saved['result'] = None",
                  "    else:"]
            ind = "        "
        L += [f"{ind}s = saved['result'] = _ST(result, name, 0)",
              f"{ind}if ref is not None:",
              f"{ind}    s.as_output(node, 0, ref)"]
    if view:
        for x in a:
            L += [f"    if isinstance({x}, _T) and {x}._ag is not None:",
                  f"        {x}._ag.has_views = True"]
        L.append(f"    _attach_views(args, (result,), {view == 'multi'})")
    L.append("    return result")
    g = {"_op": op, "_d": d, "_known": known, "_composite": op.composite,
         "_refuse": op.refuse_grad, "_dispatch": _reg.dispatch_state, "_plan": plan, "_cls": cls, "_name": node_name, "_names": {},
         "_live": _reg.InferenceVersion.live, "_general": _general, "_T": Tensor,
         "_requires_any": _rec._requires_any, "_NUMS": _NUMS,
         "_record_planned": _rec._record_planned, "_SCRIPTED": SCRIPTED,
         "_numbered_name": _numbered_name, "_number_skip": _number_skip, "_skips": {},
         "_MISSING": _MISSING, "_backward_name": backward_name,
         "_edgeless_skip": _edgeless_skip, "_eskips": {},
         "_node_class": node_class, "_QUALIFIED": _QUALIFIED_NAMES, "_shape_param": _reg.shape_param,
         "_strides_param": _reg.strides_param,
         "_edge_of": _rec.edge_of, "_state": _rec._state, "_edge_skip": _rec._edge_skip,
         "_PLAIN": _rec._PLAIN, "_ST": SavedTensor, "_save": _rec._save,
         "_FLOATING": _dt.FLOATING, "_AGM": _AutogradMeta, "_wref": weakref.ref,
         "_stashed": _reg.stashed, "_attach_views": _views.attach_views,
         "_not_tensor": _reg.not_tensor_error}
    src = "\n".join(L) + "\n"
    code = compile(src, f"<gpujit recorder {op.name}>", "exec")
    exec(code, g)
    fn = g["recorder"]
    fn.source = src
    return fn


# ---------------------------------------------------------------- hand-written recorders
# A composite op whose decomposition is short and hot gets a recorder written out by hand:
# the decomposition's nodes made in one call, without dispatching each of its ops (public
# entry, autograd_call, recorder, eager). It makes what the decomposition's recorders make
# (nodes, saved values, edges, view marks) and hands any other call to `generic` (the
# op's generated recorder) or the general path.

def _plan_of(o):
    """Op o's recording plan, made as _recorded_call makes it where it has none yet: with
    o's recorder installed, which o's own later calls use."""
    p = _rec._PLANS.get(o)
    if p is None:
        p = _rec._PLANS[o] = _rec._make_plan(o)
        if type(p) is tuple and o not in _rec._RECORDERS:
            rec = make_recorder(o, p)
            if rec is not None:
                _rec._RECORDERS[o] = rec
    return p


def _linear_recorder(op, generic):
    """aten::linear of a float32 / float64 CPU matrix: torch's composite, addmm(bias,
    input, weight.t()) (AddmmBackward0 -> (bias, input, TBackward0 -> weight)), without a
    bias mm(input, weight.t()) (MmBackward0), as linalg._linear_composite records it
    through t() and addmm / mm: the transposed weight a recorded view of the weight, saved
    (mat2) where the input needs a gradient, the input (mat1) where the weight does; the
    product is addmm's fast path's (matmul, then the bias added in place: its bits)."""
    import numpy as np
    from ..nn.parameter import Parameter
    from ..ops.complex_autograd import _KNOWN as known

    OPS = _reg.OPS
    top, aop, mop = OPS["aten::t"], OPS["aten::addmm"], OPS["aten::mm"]
    plans = {}
    for o in (top, aop, mop):
        p = _plan_of(o)
        if type(p) is not tuple:
            return generic
        plans[o] = p
    td, tcls, tname = plans[top][:3]
    ad, acls, aname = plans[aop][:3]
    md, mcls, mname = plans[mop][:3]
    if tcls is None or acls is None or mcls is None or \
            [p for p, _, _ in plans[aop][4]] != ["mat1", "mat2", "beta", "alpha",
                                                 "mat1_strides", "mat2_strides"] or \
            [p for p, _, _ in plans[mop][4]] != ["self", "mat2", "self_strides",
                                                 "mat2_strides"] or \
            tuple(plans[top][4]) != () or not plans[aop][6] or not plans[mop][6] or \
            "needs_grad" not in ad.params or "needs_grad" not in md.params:
        return generic      # (the derivatives changed: the decomposition's own recorders)
    d, composite, refuse = op.derivative, op.composite, op.refuse_grad
    types = (Tensor, Parameter)
    plain = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
    from .. import dtypes as _dts
    # (gpujit dtypes, not the arrays': a bfloat16 tensor's array is float32, its products
    # rounded to bfloat16 by the op's own path)
    plain_dt = frozenset({_dts.float32, _dts.float64})
    nd = np.ndarray
    matmul, add = np.matmul, np.add
    ds = _reg.dispatch_state
    live = _reg.InferenceVersion.live
    cpu = _reg._cpu
    wrap_view, new = _reg.wrap_view, object.__new__
    edge_of, attach_views = _rec.edge_of, _views.attach_views
    ViewInfo, track_view = _views.ViewInfo, _views.track_view
    ST, AGM, wref = SavedTensor, _AutogradMeta, weakref.ref
    a_needed, m_needed = ad.needed_frozen, md.needed_frozen
    strides = _reg.strides_param
    fallback = generic if generic is not None else (lambda args: _general(op, args))

    def edge(t):
        ag = t._ag
        if ag is not None and ag.requires_grad and ag.view is None:
            if ag.grad_fn is not None:
                return (ag.grad_fn, ag.output_nr)
            if ag.acc is not None:
                return (ag.acc, 0)
        return edge_of(t)

    vop = OPS["aten::view"]
    vplan = _plan_of(vop)
    if type(vplan) is not tuple or vplan[1] is None or vplan[4] != (("self_shape", 1, 0),) \
            or vplan[6] or vplan[7] != "one":
        vplan = None        # (view's derivative changed: batched inputs keep the general path)
    else:
        vd, vcls, vname = vplan[:3]
    shape_param = _reg.shape_param

    def view_of(t, shape):
        # t.view(shape) of a C-contiguous t, as view's recorder records it (ViewBackward0
        # saving self_shape, the result a recorded view of t's base)
        ta = t._data
        a = ta.view()
        a.shape = shape
        v = wrap_view(a, t._device, t)
        e = edge(t)
        if e is None:
            return v
        node = vcls(vop, vd, {"self_shape": shape_param(t)}, [(tuple(ta.shape), t._dtype)],
                    (e,), ((tuple(a.shape), v._dtype, v._device),))
        ag = v._ag = AGM()
        ag.requires_grad = True
        ag.grad_fn = node
        ag.output_nr = 0
        node.out_refs = [wref(v)]
        if t._ag is not None:
            t._ag.has_views = True
        attach_views((t,), (v,), False)
        return v

    def batched(x, w, b):
        # an input of 3 or more dims, contiguous, with a 1-D bias: torch's
        # _flatten_nd_linear, addmm of the input's rows (ViewBackward0 of the input) viewed
        # back (ViewBackward0 of the product), as _linear_composite records it: the view
        # op's own recorded calls around this recorder's matrix path
        xa, wa, ba = x._data, w._data, b._data
        if not xa.flags.c_contiguous or xa.__class__ is not nd or \
                wa.__class__ is not nd or wa.ndim != 2 or x._dtype not in plain_dt or \
                w._dtype is not x._dtype or b._dtype is not x._dtype or \
                xa.shape[-1] != wa.shape[1] or ba.shape != (wa.shape[0],) or \
                not xa.size or not wa.shape[0]:
            return fallback((x, w, b))
        if vplan is None or vop.derivative is not vd or vop.composite is not None or \
                vop.refuse_grad is not None or known.get(vop) is not True or \
                x._device is not cpu:
            return fallback((x, w, b))
        r = recorder((view_of(x, (-1, xa.shape[-1])), w, b))
        return view_of(r, xa.shape[:-1] + (r._data.shape[1],))

    uop = OPS["aten::_unsafe_view"]
    uplan = _plan_of(uop)
    if type(uplan) is not tuple or uplan[1] is None or \
            uplan[4] != (("self_shape", 1, 0),) or uplan[6] or uplan[7]:
        uplan = None        # (_unsafe_view's derivative changed: the general path)
    else:
        ud, ucls = uplan[:2]

    def unsafe_view_of(t, shape):
        # t._unsafe_view(shape) of a C-contiguous t, as _unsafe_view's recorder records it
        # (UnsafeViewBackward0 saving self_shape; the result no view: no base)
        ta = t._data
        a = ta.view()
        a.shape = shape
        v = new(Tensor)
        v._data = a
        v._dtype = t._dtype
        v._device = t._device
        v._vc = [0]
        v._base = None
        v._ag = None
        e = edge(t)
        if e is None:
            return v
        node = ucls(uop, ud, {"self_shape": shape_param(t)}, [(tuple(ta.shape), t._dtype)],
                    (e,), ((tuple(a.shape), v._dtype, v._device),))
        ag = v._ag = AGM()
        ag.requires_grad = True
        ag.grad_fn = node
        ag.output_nr = 0
        node.out_refs = [wref(v)]
        return v

    def batched_mm(x, w):
        # an input of 3 or more dims, contiguous, without a bias: torch's
        # matmul(input, weight.t()) folding the input's rows (_matmul_impl):
        # weight.t() (TBackward0), the input's rows (ViewBackward0), mm (MmBackward0),
        # the product _unsafe_view'ed back (UnsafeViewBackward0), in that order, as
        # _linear_composite and matmul's composite record them
        xa, wa = x._data, w._data
        if not xa.flags.c_contiguous or xa.__class__ is not nd or \
                wa.__class__ is not nd or wa.ndim != 2 or x._dtype not in plain_dt or \
                w._dtype is not x._dtype or xa.shape[-1] != wa.shape[1] or \
                not xa.size or not wa.shape[0] or vplan is None or uplan is None or \
                vop.derivative is not vd or vop.composite is not None or \
                vop.refuse_grad is not None or known.get(vop) is not True or \
                uop.derivative is not ud or uop.composite is not None or \
                uop.refuse_grad is not None or known.get(uop) is not True or \
                x._device is not cpu or OPS["aten::matmul"].composite is not mcomposite:
            return fallback((x, w, None))
        r = recorder((x, w, None), (-1, xa.shape[-1]))
        return unsafe_view_of(r, xa.shape[:-1] + (r._data.shape[1],))

    mcomposite = OPS["aten::matmul"].composite

    def recorder(args, flat=None):
        if len(args) != 3:
            return fallback(args)
        x, w, b = args
        if flat is None and x.__class__ in types and x._data.ndim >= 3 and \
                w.__class__ in types and (b is None or b.__class__ in types) and \
                not live[0] and ds.hook is ds.autograd and ds.tracing is None and \
                op.derivative is d and op.composite is composite and op.refuse_grad is refuse:
            return batched(x, w, b) if b is not None else batched_mm(x, w)
        if live[0] or ds.hook is not ds.autograd or ds.tracing is not None or \
                op.derivative is not d or op.composite is not composite or \
                op.refuse_grad is not refuse or x.__class__ not in types or \
                w.__class__ not in types or (b is not None and b.__class__ not in types):
            return fallback(args)
        xa, wa = x._data, w._data
        dt = xa.dtype
        dev = x._device
        if xa.__class__ is not nd or wa.__class__ is not nd or dev is not cpu or \
                w._device is not dev or (xa.ndim != 2 and flat is None) or wa.ndim != 2 or \
                dt not in plain or wa.dtype != dt or xa.shape[-1] != wa.shape[1] or \
                x._dtype not in plain_dt or w._dtype is not x._dtype or \
                (b is not None and b._dtype is not x._dtype) or \
                not xa.shape[0] or not wa.shape[0] or \
                (b is not None and (b._device is not dev or b._data.__class__ is not nd or
                                    b._data.dtype != dt or
                                    b._data.shape != (wa.shape[0],))) or \
                top.derivative is not td or (aop if b is not None else mop).derivative is not \
                (ad if b is not None else md) or known.get(top) is not True or \
                known.get(aop if b is not None else mop) is not True or \
                top.composite is not None or top.refuse_grad is not None or \
                aop.composite is not None or aop.refuse_grad is not None or \
                mop.composite is not None or mop.refuse_grad is not None:
            return fallback(args)
        # weight.t(): a view of the weight, recorded (TBackward0) where it needs a gradient
        ew = edge(w)
        wt = wrap_view(wa.T, dev, w)
        wmeta = (tuple(wa.shape), w._dtype)
        if ew is not None:
            tnode = tcls(top, td, {}, [wmeta], (ew,), ((tuple(wt._data.shape), wt._dtype, dev),))
            ag = wt._ag = AGM()
            ag.requires_grad = True
            ag.grad_fn = tnode
            ag.output_nr = 0
            tnode.out_refs = [wref(wt)]
            wag = w._ag
            wag.has_views = True
            if wag.view is None and getattr(w, "_base", None) is None and wt._base is w:
                # (attach_views of a view of a base: weight.t() of a leaf, nn.Linear's)
                ag.view = ViewInfo(w)
                track_view(w, wt)
            else:
                attach_views((w,), (wt,), False)
            et = (tnode, 0)
            mt = (tuple(wt._data.shape), wt._dtype)
        else:
            et, mt = (None, 0), None
        if flat is not None:
            # (the input's rows, viewed after weight.t() as matmul views them)
            x = view_of(x, flat)
            xa = x._data
        ex = edge(x)
        mx = None if ex is None else (tuple(xa.shape), x._dtype)
        if ex is None:
            ex = (None, 0)
        r = matmul(xa, wt._data)
        if b is not None:
            eb = edge(b)
            mb = None if eb is None else (tuple(b._data.shape), b._dtype)
            if eb is None:
                eb = (None, 0)
            add(r, b._data, out=r)
            needs = (mb is not None, mx is not None, mt is not None)
            needed = a_needed(needs)
            node = acls(aop, ad, {
                "mat1": ST(x, aname, 0, True) if "mat1" in needed else None,
                "mat2": ST(wt, aname, 0, True) if "mat2" in needed else None,
                "beta": 1 if "beta" in needed else None,
                "alpha": 1 if "alpha" in needed else None,
                "mat1_strides": strides(x), "mat2_strides": strides(wt),
                "needs_grad": needs}, [mb, mx, mt], (eb, ex, et), ((r.shape, x._dtype, dev),))
        else:
            needs = (mx is not None, mt is not None)
            needed = m_needed(needs)
            node = mcls(mop, md, {
                "self": ST(x, mname, 0, True) if "self" in needed else None,
                "mat2": ST(wt, mname, 0, True) if "mat2" in needed else None,
                "self_strides": strides(x), "mat2_strides": strides(wt),
                "needs_grad": needs}, [mx, mt], (ex, et), ((r.shape, x._dtype, dev),))
        y = new(Tensor)
        y._data = r
        y._dtype = x._dtype
        y._device = dev
        y._vc = [0]
        y._base = None
        ag = y._ag = AGM()
        ag.requires_grad = True
        ag.grad_fn = node
        ag.output_nr = 0
        node.out_refs = [wref(y)]
        return y

    recorder.generic = generic
    return recorder


def _ce_recorder(op, generic):
    """aten::cross_entropy_loss of a float32 / float64 CPU (N, C) input with int64 class
    indices, no weight, no label smoothing: torch's composite (LossNLL.cpp), log_softmax
    then nll_loss_nd (NllLossBackward0 -> LogSoftmaxBackward0), both nodes made as their
    recorders make them (saved values, edges: the target's dropped, pack-hook order, the
    log-probabilities a saved output of LogSoftmaxBackward0 and NllLossBackward0's saved
    self), each op's own eager entry point computing its values, without dispatching the
    two ops through their public entry points and the general recording path (a node
    name and dropped edges worked out per call). Other calls: the composite's path."""
    import numpy as np
    from ..ops import nn_loss_nll as _nll_mod

    OPS = _reg.OPS
    lop, nop = OPS["aten::log_softmax.int"], OPS["aten::nll_loss_nd"]
    lplan, nplan = _plan_of(lop), _plan_of(nop)
    fallback = generic if generic is not None else (lambda args: _general(op, args))
    if type(lplan) is not tuple or type(nplan) is not tuple or lop.takes_complex or \
            nop.takes_complex:
        return fallback
    ld, lcls, lname, lops, lparams, lwrt, luses, lview = lplan
    nd_, _, _, _, nparams, nwrt, nuses, nview = nplan
    names = ("self", "target", "weight", "reduction", "ignore_index")
    if lcls is None or lops is not None or tuple(lparams) != (("dim", 0, 1),) or \
            tuple(lwrt) != (0,) or luses or lview or "result" not in ld.params or \
            "stash" in ld.params or ld.edgeless or \
            tuple(p for p, _, _ in nparams) != names or \
            any(k != 0 for _, k, _ in nparams) or tuple(nwrt) != (0, 1, 2) or \
            not nuses or nview or "needs_grad" not in nd_.params or \
            "stash" in nd_.params or tuple(nd_.wrt) != ("self", "target", "weight") or \
            set(nd_.edgeless) != {"target", "weight"} or nd_.not_implemented is not None:
        return fallback     # (the derivatives changed: the composite's own recorders)
    needs = (True, False, False)
    nneeded = nd_.needed_frozen(needs)
    keep = tuple(p in nneeded for p in names)
    save_result = "result" in nneeded
    nname = "NllLossBackward0"      # (node_names._nll of a 2-D input)
    ncls = node_class(nname)
    d, composite, refuse = op.derivative, op.composite, op.refuse_grad
    ncomposite = _nll_mod._nll_nd_composite       # (declines 2-D inputs)
    nrefuse = _nll_mod._nll_refused               # (refuses weights only)
    plain_dt = frozenset({_dt.float32, _dt.float64})
    nd = np.ndarray
    ds = _reg.dispatch_state
    live = _reg.InferenceVersion.live
    cpu = _reg._cpu
    edge_of = _rec.edge_of
    state = _rec._state
    ST, AGM, wref = SavedTensor, _AutogradMeta, weakref.ref
    int64 = _dt.int64

    def recorder(args):
        if len(args) != 6:
            return fallback(args)
        x, t, w, red, ign, ls = args
        if w is not None or x.__class__ is not Tensor or t.__class__ is not Tensor or \
                red.__class__ is not int or ign.__class__ is not int or \
                not (ls.__class__ is float or ls.__class__ is int) or ls != 0 or \
                live[0] or ds.hook is not ds.autograd or ds.tracing is not None or \
                op.derivative is not d or op.composite is not composite or \
                op.refuse_grad is not refuse or lop.derivative is not ld or \
                nop.derivative is not nd_ or lop.composite is not None or \
                lop.refuse_grad is not None or nop.composite is not ncomposite or \
                (nop.refuse_grad is not None and nop.refuse_grad is not nrefuse):
            return fallback(args)
        xa, ta = x._data, t._data
        ag = x._ag
        if xa.__class__ is not nd or ta.__class__ is not nd or xa.ndim != 2 or \
                ta.ndim != 1 or x._dtype not in plain_dt or t._dtype is not int64 or \
                x._device is not cpu or t._device is not cpu or \
                ta.shape[0] != xa.shape[0] or not xa.size or red not in (0, 1, 2) or \
                ag is None or not ag.requires_grad or \
                (t._ag is not None and t._ag.requires_grad):
            return fallback(args)
        if ag.view is None and ag.grad_fn is not None:
            ex = (ag.grad_fn, ag.output_nr)
        elif ag.view is None and ag.acc is not None:
            ex = (ag.acc, 0)
        else:
            ex = edge_of(x)
        if ex is None:
            return fallback(args)
        state.enabled = False
        try:
            logp = lop.eager(x, 1, None)
        finally:
            state.enabled = True
            state.inference = False
        # log_softmax(x, 1): LogSoftmaxBackward0 saving dim and its result
        saved = {}
        dev = logp._device
        lnode = lcls(lop, ld, saved, [(tuple(xa.shape), x._dtype)], (ex,),
                     ((tuple(logp._data.shape), logp._dtype, dev),))
        saved["dim"] = 1
        lag = logp._ag = AGM()
        lag.requires_grad = True
        lag.grad_fn = lnode
        lag.output_nr = 0
        ref = wref(logp)
        lnode.out_refs = [ref]
        saved["result"] = ST(logp, lname, 0).as_output(lnode, 0, ref)
        # nll_loss_nd(logp, t, None, red, ign): NllLossBackward0, the target's and the
        # weight's edges dropped (not differentiable)
        state.enabled = False
        try:
            loss = nop.eager(logp, t, None, red, ign)
        finally:
            state.enabled = True
            state.inference = False
        saved = {}
        node = ncls(nop, nd_, saved, [(tuple(logp._data.shape), logp._dtype)],
                    ((lnode, 0),), ((tuple(loss._data.shape), loss._dtype, loss._device),))
        node.skip = (1, 2)
        saved["self"] = ST(logp, nname, 0, True) if keep[0] else None
        saved["target"] = ST(t, nname, 0, True) if keep[1] else None
        saved["weight"] = None
        saved["reduction"] = red if keep[3] else None
        saved["ignore_index"] = ign if keep[4] else None
        saved["needs_grad"] = needs
        nag = loss._ag
        if nag is None:
            nag = loss._ag = AGM()
        nag.requires_grad = True
        nag.grad_fn = node
        nag.output_nr = 0
        ref = wref(loss)
        node.out_refs = [ref]
        if save_result:
            saved["result"] = ST(loss, nname, 0).as_output(node, 0, ref)
        else:
            saved["result"] = None
        return loss

    recorder.generic = generic
    return recorder


# op name -> the maker of its hand-written recorder (op, its generated recorder or None)
HAND_WRITTEN = {"aten::linear": _linear_recorder, "aten::cross_entropy_loss": _ce_recorder}
