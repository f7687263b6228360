"""Recording: the registry hook that makes an op call a node of the backward graph when
grad mode is on and a tensor argument requires grad. Installed (once and for good) the
first time any tensor requires grad, so programs that never use autograd pay nothing."""
from __future__ import annotations

import sys
import weakref

from .. import dtypes as _dt
from ..ops import registry as _reg
from ..ops.overlap import is_own_layout
from ..tensor import Tensor, _AutogradMeta
from . import grad_mode
from .graph import AccumulateGrad, OpBackward, SavedOutputs, SavedTensor, backward_name, node_class
from .graph import _QUALIFIED_NAMES
from ..ops.node_names import drops_number_edges, node_name
from . import views as _views

_reg.grad_state = grad_mode.state       # (registry.wrap_view reads it)

__all__ = ["autograd_call", "activate", "edge_of", "mark_result"]

_state = grad_mode.state


def activate():
    """Turn recording on (called when a tensor first requires grad)."""
    if _reg.dispatch_state.autograd is None:
        _reg.dispatch_state.autograd = autograd_call
        _reg.dispatch_state.refresh()


# ops whose results never carry gradient: new tensors (zeros_like, rand), comparisons
_NO_GRAD_TAGS = frozenset({"factory", "random", "comparison"})


def _requires(a):
    ag = a._ag
    return ag is not None and ag.requires_grad


def edge_of(t):
    """(node, output_nr) a gradient for tensor t flows to; None when t needs no grad."""
    ag = t._ag
    if ag is None:
        if getattr(t, "_base", None) is None or not _adopt_view(t):
            return None
        ag = t._ag
    elif not ag.requires_grad:
        return None
    if ag.view is not None:
        _views.sync_view(t)         # its base was written since its grad_fn was made
    if ag.grad_fn is not None:
        return (ag.grad_fn, ag.output_nr)
    acc = ag.acc
    if acc is None:
        acc = ag.acc = AccumulateGrad(t)
    return (acc, 0)


NO_GRAD_VIEW = ("A view was created in no_grad mode and is being modified inplace with grad "
                "mode enabled. Given that this use case is ambiguous and error-prone, it is "
                "forbidden. You can clarify your code by moving both the view and the "
                "inplace either both inside the no_grad block (if you don't want the inplace "
                "to be tracked) or both outside (if you want the inplace to be tracked).")


def autograd_call(op, args):
    if not _state.enabled or _state.inference:     # (inference mode records nothing)
        result = op.eager(*args)
        if args:
            a = args[0]
            if isinstance(a, Tensor) and a._ag is not None and \
                    (a._ag.requires_grad or a._ag.no_grad_view) and "view" in op.tags and \
                    op.name != "aten::detach":
                _mark_no_grad_views(result)
        return result
    # (every op call of a process that ever used autograd passes here: the common answer,
    # nothing requires grad, is worked out with as few Python operations as it takes)
    needs = False
    for a in args:
        ta = type(a)
        if ta in _PLAIN_ARGS:
            continue
        if ta is Tensor or isinstance(a, Tensor):
            ag = a._ag
            if ag is not None:
                if ag.no_grad_view and a is args[0]:
                    # (the first argument, a view taken in no_grad mode of a tensor that
                    # requires grad, looked at before any other argument)
                    return _no_grad_view_call(op, args)
                if ag.requires_grad:
                    needs = True
                    break
            if getattr(a, "_base", None) is not None and (
                    # (a view made in no_grad mode: an edge to nowhere)
                    (getattr(a, "_nograd_view", False) and a.requires_grad) or
                    (ag is None and _adopt_view(a))):
                needs = True
                break
        elif ta is list or ta is tuple:
            for x in a:
                if type(x) not in _PLAIN_ARGS and isinstance(x, Tensor) and _requires(x):
                    needs = True
                    break
            if needs:
                break
    if not needs:
        return op.eager(*args)
    rec = _RECORDERS.get(op)
    if rec is not None:     # (the op's own recorder, recording_fast.make_recorder's)
        return rec(args)
    if op.takes_complex:
        return _complex_checked(op, args)
    return _recorded_call(op, args)


# op -> its recorder (autograd/recording_fast.py), made with the op's plan
_RECORDERS: dict = {}
# composite ops with a hand-written recorder (recording_fast.HAND_WRITTEN), installed at
# their first recorded call (a composite's plan is made only when it declines a call)
_HAND_WRITTEN = frozenset({"aten::linear", "aten::cross_entropy_loss"})


def _install_recorder(op):
    from .recording_fast import make_recorder
    plan = _PLANS.get(op)
    if plan is None:
        plan = _PLANS[op] = _make_plan(op)
    rec = make_recorder(op, plan)
    if rec is not None:
        _RECORDERS[op] = rec
    return rec


def _complex_checked(op, args):
    """An op that takes complex tensors (ops/complex_support.py), called with an argument
    that requires grad: recorded where its derivative holds for complex values
    (ops/complex_autograd.py), else refused where a complex tensor is an operand or a
    result (tensor.COMPLEX_GRAD_REFUSAL), never recorded with a wrong derivative."""
    if _differentiates(op):
        return _recorded_call(op, args)
    from ..ops.complex_autograd import refusal
    for a in args:
        for x in (a if type(a) in (list, tuple) else (a,)):
            if isinstance(x, Tensor) and x._dtype.cplx:
                raise RuntimeError(refusal(op))
    r = _recorded_call(op, args)
    for x in (r if type(r) in (list, tuple) or isinstance(r, tuple) else (r,)):
        if isinstance(x, Tensor) and x._dtype.cplx:
            raise RuntimeError(refusal(op))
    return r


def _differentiates(op):
    # (imported on first use, the ops sit above this module; then the name is the
    # function itself: a function-level import cost ~1 us on every recorded op that
    # takes complex tensors, most of them)
    global _differentiates
    from ..ops.complex_autograd import differentiates
    _differentiates = differentiates
    return differentiates(op)


def _recorded_call(op, args):
    """autograd_call's recording path: some argument requires grad."""
    if _reg.InferenceVersion.live[0] and _only_inference_operands(op, args):
        return _inference_operands_call(op, args)
    if op.composite is not None and _reg.dispatch_state.tracing is None:
        # (torch's decomposition: each of its ops records; not while tracing, where the
        # trace records the op itself and a composite's own tensors, dropout's mask, would
        # be baked in as constants)
        if op.name in _HAND_WRITTEN and op not in _RECORDERS:
            # (F.linear's: the decomposition's nodes made by one recorder, from now on)
            rec = _install_recorder(op)
            if rec is not None:
                return rec(args)
        try:
            r = op.composite(*args)
        except (AttributeError, TypeError):
            # (a list / ndarray / None operand: the entry point's TypeError, which this
            # path runs before, not the composite's AttributeError)
            e = _reg.not_tensor_error(op, args)
            if e is None:
                raise
            raise e from None
        if r is not NotImplemented:     # (NotImplemented: this call is the op's one node)
            return r
    if op.refuse_grad is not None:
        msg = op.refuse_grad(*args)
        if msg is not None:
            raise RuntimeError(msg)
    wrt = _WRT_POS.get(op, _UNKNOWN)
    if wrt is _UNKNOWN:
        wrt = _WRT_POS[op] = _wrt_positions(op)
    if wrt is not None:
        n = len(args)
        for i in wrt:       # (a loop, not any() of a generator: once per recorded call)
            if i < n:
                v = args[i]
                if type(v) is Tensor and v._ag is not None and v._ag.requires_grad:
                    break           # (_requires_any's common case inline)
                if _requires_any(v):
                    break
        else:
            # only arguments the derivative does not take require grad (x.expand_as(other),
            # where(cond, ...)): torch's outputs require no grad then (run as when nothing
            # requires grad: a view keeps its base)
            return op.eager(*args)
    plan = _PLANS.get(op)
    if plan is None:
        plan = _PLANS[op] = _make_plan(op)
        if type(plan) is tuple:
            from .recording_fast import make_recorder
            rec = make_recorder(op, plan)
            if rec is not None:
                _RECORDERS[op] = rec
    if plan is not False:
        if plan is _NONDIFF:
            if _NONDIFF_OF.get(op) is op.derivative:
                return _no_grad_result(op, args)
            plan = _PLANS[op] = _make_plan(op)      # (a derivative registered since)
            if plan is False:
                return _record(op, args)
            if plan is _NONDIFF:
                return _no_grad_result(op, args)
        return _record_planned(op, args, plan)
    return _record(op, args)


_UNKNOWN = object()
# argument types that are never a Tensor nor hold one (autograd_call skips them)
_PLAIN_ARGS = frozenset({type(None), int, float, bool, str, complex})

_TENSOR_POS: dict = {}      # op -> positions of its Tensor / Tensor[] arguments


def _only_inference_operands(op, args) -> bool:
    """Are all of the call's tensor operands inference tensors (made in inference_mode)?
    PyTorch's inference tensors carry no autograd dispatch key, so outside the mode an op
    whose tensors are all inference tensors runs without recording (p * p of an inference
    Parameter: no grad_fn, requires_grad False); a Python number for a Tensor argument is
    a wrapped normal tensor there (p * 2 records MulBackward0)."""
    pos = _TENSOR_POS.get(op)
    if pos is None:
        pos = _TENSOR_POS[op] = tuple(i for i, a in enumerate(op.schema.arguments)
                                      if a.type.base == "Tensor")
    seen, numbers = False, []
    for i in pos:
        if i >= len(args):
            continue
        a = args[i]
        for x in (a if type(a) in (list, tuple) else (a,)):
            if x is None:
                continue
            if type(x) in (bool, int, float, complex):
                numbers.append(i)
                continue
            if not isinstance(x, Tensor) or not isinstance(x._vc, _reg.InferenceVersion):
                return False
            seen = True
    if seen and numbers:
        # a number is a Scalar argument (no tensor) only where PyTorch's binding picks a
        # Scalar overload (x.pow(2): pow.Tensor_Scalar), as node_names names the node;
        # rsub.Scalar is a composite subtracting from the number wrapped in a tensor
        if op.schema.base_name == "rsub":
            return False
        names = [a.name for a in op.schema.arguments]
        bound = dict(zip(names, args))
        try:
            return drops_number_edges(op, bound, node_name(op, bound, None),
                                      frozenset(names[i] for i in numbers))
        except Exception:       # noqa: BLE001  (a rule reading the result: recorded)
            return False
    return seen


_COPIES_OF_SELF = frozenset({"aten::clone", "aten::to.dtype", "aten::to.device",
                             "aten::to.other", "aten::to.dtype_layout", "aten::_to_copy",
                             "aten::to.prim_Device", "aten::to.prim_dtype",
                             "aten::to.prim_other"})


def _inference_operands_call(op, args):
    """An op on inference tensors only, outside inference_mode: no autograd, as PyTorch's;
    clone and the copying .to() then go through their CompositeExplicitAutograd kernels,
    empty_like(...).copy_(self), whose copy_ writes a normal tensor and records
    CopyBackwards (t.clone() of an inference tensor that requires grad)."""
    with grad_mode.no_grad():
        r = op.eager(*args)
    if op.name in _COPIES_OF_SELF and isinstance(r, Tensor) and r is not args[0] and \
            _requires(args[0]):
        r.copy_(args[0])
    return r
_WRT_POS: dict = {}     # op -> _wrt_positions(op)


def _wrt_positions(op):
    """The argument positions op's derivative differentiates (its wrt), for an op that
    writes no argument and has a plain derivative; None where every Tensor argument
    counts (no derivative, in-place ops, a derivative naming something not an argument)."""
    d = op.derivative
    if d is None or type(d) is not _Derivative() or op.tags & {"inplace_view"}:
        return None
    facts = _OP_FACTS.get(op) or _op_facts(op)
    if facts[0] or facts[2]:
        return None
    pos = {a.name: i for i, a in enumerate(op.schema.arguments)}
    if any(w not in pos for w in d.wrt):
        return None
    return tuple(pos[w] for w in d.wrt)


def _requires_any(v):
    if isinstance(v, Tensor):
        return _requires(v) or (getattr(v, "_base", None) is not None and (
            (v._ag is None and _adopt_view(v)) or
            (getattr(v, "_nograd_view", False) and v.requires_grad)))
    if type(v) in (list, tuple):
        return any(_requires_any(x) for x in v if isinstance(x, Tensor))
    return False


# op -> its recording plan (_make_plan), or False where _record's general path records it
_PLANS: dict = {}
_PLAIN = frozenset({int, float, bool, str, tuple})
_NONDIFF = object()     # _make_plan: an op whose outputs carry no gradient, run in no_grad
_NONDIFF_OF: dict = {}  # op -> its derivative when planned _NONDIFF


def _make_plan(op):
    """What recording a call of op reads off its schema and derivative, worked out once:
    for an op of one Tensor output that is no view and writes no argument, whose
    derivative takes Tensor (not Tensor[]) inputs, computes nothing at record time and
    whose node name, where it does not depend on the call, is known but for a Python
    number operand (then named per call): (derivative, node class and its name (None:
    named per call), the operand positions a Python number renames, (param, kind, arg
    position) per saved argument (kind 0: the argument, 1: its shape, 2: its device), wrt
    positions, whether needs_grad is worked out, the saved names that are Tensors). False
    for any other op (_record's general path)."""
    d = op.derivative
    if isinstance(d, _reg.NonDifferentiable) or (d is None and op.tags & _NO_GRAD_TAGS):
        facts = _OP_FACTS.get(op) or _op_facts(op)
        # (an op writing nothing whose outputs carry no gradient: what _record_op does
        # for it, without the binding; in-place ones check what they write there)
        if facts[0] or facts[2]:
            return False
        _NONDIFF_OF[op] = d
        return _NONDIFF
    if d is None or type(d) is not _Derivative() or d.computes is not None or \
            d.elem_needs or op.untracked_when is not None:
        return False
    facts = _OP_FACTS.get(op) or _op_facts(op)
    inplace, names, written, cls, operands = facts
    if inplace or written:
        return False
    if op.tags & {"output_per_input", "inplace_view"} or 0 in op.nondiff_outputs:
        return False
    view = "view" in op.tags
    rets = op.schema.returns
    if len(rets) != 1 or rets[0].type.base != "Tensor" or rets[0].type.is_list:
        return False
    args = {a.name: (i, a) for i, a in enumerate(op.schema.arguments)}
    wrt = []
    for w in d.wrt:
        if w not in args or args[w][1].type.base != "Tensor" or args[w][1].type.is_list:
            return False
        wrt.append(args[w][0])
    params = []
    for p in d.bound:
        if p in args:
            a = args[p][1]
            if a.type.is_list and a.type.base == "Tensor":
                return False
            params.append((p, 0, args[p][0]))
        elif p.endswith("_shape") and p[:-6] in args:
            params.append((p, 1, args[p[:-6]][0]))
        elif p.endswith("_device") and p[:-7] in args:
            params.append((p, 2, args[p[:-7]][0]))
        elif p.endswith("_strides") and p[:-8] in args:
            params.append((p, 3, args[p[:-8]][0]))
        else:
            return False
    for p in d.params:
        if p not in d.bound and p not in ("result", "stash", "needs_grad"):
            return False
    name = None
    if cls is not None:
        name = cls.__name__         # (Node.name's, without making a node)
        if name in _QUALIFIED_NAMES:
            name = "torch::autograd::" + name
    # (a view op: its output becomes a recorded view of its input's base, as _record_op's
    # attach_views makes it; "multi" for one of the ops whose outputs PyTorch keeps from
    # in-place writes with gradients, else "one"; False for an op that is no view)
    if view:
        view = "multi" if op.name in _views.MULTI_VIEW_OPS else "one"
    return (d, cls, name, operands, tuple(params), tuple(wrt), d.uses_needs, view)


_DERIVATIVE = None


def _Derivative():
    global _DERIVATIVE
    if _DERIVATIVE is None:
        from ..ops.derivatives import Derivative
        _DERIVATIVE = Derivative
    return _DERIVATIVE


def _drop_list_elements(d, next_functions, inputs_meta, skip):
    """Drop (in place) the edgeless Tensor[] arguments' elements that need no gradient
    (not the skipped positions'), edges and metadata both."""
    kept_edges, at = [], 0
    for k, m in enumerate(inputs_meta):
        n = len(m[1]) if m is not None and m[0] == "list" else 1
        part = next_functions[at:at + n]
        at += n
        if n and m is not None and m[0] == "list" and k not in skip and \
                d.wrt[k] in d.edgeless:
            keep = [j for j, x in enumerate(m[1]) if x is not None]
            inputs_meta[k] = ("list", [m[1][j] for j in keep])
            part = [part[j] for j in keep]
        kept_edges.extend(part)
    kept_edges.extend(next_functions[at:])
    next_functions[:] = kept_edges


def _edge_skip(op, d, bound, name, next_functions, inputs_meta):
    """The derivative's `wrt` positions whose inputs get no edge, as PyTorch's node has
    none for them: Python number operands of a node named as a Scalar overload
    (drops_number_edges: `(1 - x).grad_fn.next_functions` is one edge; bound None: no
    number operand), and d.edgeless arguments that need no gradient (nll_loss's weight:
    not differentiable in derivatives.yaml; gpujit keeps the edge when one requires grad).
    Their entries leave next_functions and inputs_meta (in place) and the node drops their
    gradients (OpBackward.skip, returned; None when none go)."""
    skip = set()
    if bound is not None:
        # (the Tensor operands given as numbers: _op_facts' operand positions)
        facts = _OP_FACTS.get(op) or _op_facts(op)
        numbers = frozenset(n for n in (facts[1][i] for i in facts[4] or ())
                            if isinstance(bound.get(n), (bool, int, float, complex)))
        if numbers and drops_number_edges(op, bound, name, numbers):
            skip.update(k for k, w in enumerate(d.wrt) if w in numbers)
    if d.edgeless:
        skip.update(k for k, w in enumerate(d.wrt) if w in d.edgeless and (
            inputs_meta[k] is None or (inputs_meta[k][0] == "list" and not any(inputs_meta[k][1]))))
        if d.not_implemented is not None:
            # (a node whose backward only raises: a Tensor[]'s elements that need no
            # gradient get no edge either, as the not-implemented fallback's)
            _drop_list_elements(d, next_functions, inputs_meta, skip)
    if not skip:
        return None
    # (Tensor[] arguments are never numbers: one flat entry per wrt position before them)
    flat = []
    for k, (w, m) in enumerate(zip(d.wrt, inputs_meta)):
        flat.extend([k] * (len(m[1]) if m is not None and m[0] == "list" else 1))
    next_functions[:] = [e for e, k in zip(next_functions, flat) if k not in skip]
    inputs_meta[:] = [m for k, m in enumerate(inputs_meta) if k not in skip]
    return tuple(sorted(skip))


def _record_planned(op, args, plan):
    """_record's path for an op with a plan (_make_plan): the same node, saved values,
    edges and output marks, without the per-call reading of schema and derivative."""
    d, cls, node_name, operands, params, wrt, uses_needs, view = plan
    if d is not op.derivative:          # (a derivative registered since: planned anew)
        plan = _PLANS[op] = _make_plan(op)
        return _record(op, args) if plan is False else _record_planned(op, args, plan)
    numbered = False
    if operands is not None:
        for i in operands:
            if i < len(args) and isinstance(args[i], (bool, int, float, complex)):
                cls = None      # (a Python number operand: named per call, x * 2.0)
                numbered = True
                break
    pre = {}
    for p, kind, i in params:
        v = args[i]
        if kind == 0:
            pre[p] = v
        elif kind == 1:
            pre[p] = _reg.shape_param(v)
        elif kind == 3:
            pre[p] = _reg.strides_param(v)
        else:
            pre[p] = v._device if isinstance(v, Tensor) else None
    next_functions, inputs_meta = [], []
    for i in wrt:
        v = args[i]
        if isinstance(v, Tensor):
            ag = v._ag
            if ag is not None and ag.requires_grad and ag.view is None and \
                    ag.grad_fn is not None:
                e = (ag.grad_fn, ag.output_nr)      # (edge_of's common case inline)
            else:
                e = edge_of(v)
            if e is None:
                next_functions.append((None, 0))
                inputs_meta.append(None)
            else:
                next_functions.append(e)
                inputs_meta.append((tuple(v._data.shape), v._dtype))
        else:
            next_functions.append((None, 0))    # None / a Python number: no gradient
            inputs_meta.append(None)
    needed = None
    if uses_needs:
        needs = tuple([m is not None for m in inputs_meta])
        if "needs_grad" in d.params:
            pre["needs_grad"] = needs
        if d.reads is not None:
            needed = d.needed_frozen(needs)     # keep only what the needed gradients read
            for p in pre:
                if p not in needed and not p.endswith(("_shape", "_device", "_strides", "needs_grad")):
                    pre[p] = None
    state = _state
    prev = state.enabled, state.inference       # (no_grad's enter and exit)
    state.enabled = False
    try:
        result = op.eager(*args)
    finally:
        state.enabled, state.inference = prev
    if args and result is args[0]:
        return result       # it handed back its input itself (contiguous, to, positive...)
    skip = None
    if cls is None:         # (a name that depends on the call: F.linear's, mul.Scalar's)
        bound = dict(zip(_OP_FACTS[op][1], args))
        node_name = backward_name(op, bound, result)
        if numbered or d.edgeless:
            skip = _edge_skip(op, d, bound if numbered else None, node_name,
                              next_functions, inputs_meta)
        cls = node_class(node_name)
        if node_name in _QUALIFIED_NAMES:
            node_name = "torch::autograd::" + node_name
    elif d.edgeless:
        skip = _edge_skip(op, d, None, node_name, next_functions, inputs_meta)
    saved = {}
    node = cls(op, d, saved, inputs_meta, tuple(next_functions),
               ((tuple(result._data.shape), result._dtype, result._device),))
    if skip is not None:
        node.skip = skip
    for k, v in pre.items():
        saved[k] = v if v is None or type(v) in _PLAIN else \
            SavedTensor(v, node_name, 0, True) if type(v) is Tensor else _save(v, node_name)
    if isinstance(result, Tensor) and result._dtype.category >= _dt.FLOATING:
        ag = result._ag
        if ag is None:
            ag = result._ag = _AutogradMeta()
        ag.requires_grad = True
        ag.grad_fn = node
        ag.output_nr = 0
        ref = weakref.ref(result)
        node.out_refs = [ref]
    else:
        ref = None
        node.out_refs = [None]
    dp = d.params
    if "stash" in dp:     # (taken now: the output may be freed before backward)
        saved["stash"] = _reg.stashed(result._data)
    if "result" in dp:
        if needed is not None and "result" not in needed:
            saved["result"] = None
        else:
            # (kept without its grad_fn: output -> node -> saved output is no cycle)
            s = saved["result"] = SavedTensor(result, node_name, 0)
            if ref is not None:
                s.as_output(node, 0, ref)
    if view:
        for a in args:
            if isinstance(a, Tensor) and a._ag is not None:
                a._ag.has_views = True
        _views.attach_views(args, (result,), view == "multi")
    return result


# op -> (inplace, argument names, the arguments it writes (with self when in-place),
# its node class or None where the name depends on the call): what _record reads off
# the schema, worked out once per op
_OP_FACTS: dict = {}


def _op_facts(op):
    inplace = bool(op.inplace_of is not None or (op.schema.arguments and
                                                 op.schema.arguments[0].type.is_write))
    names = tuple(a.name for a in op.schema.arguments)
    written = {a.name for a in op.schema.arguments if a.type.is_write}
    if inplace and names:
        written.add(names[0])
    cls, operands = None, None
    from ..ops.node_names import _CACHE
    try:
        node_name(op, {}, None)             # (fills the op's naming rule)
    except Exception:       # (a rule of the call's arguments: it read one)
        pass
    got = _CACHE.get(op)
    if got is not None:
        rule, numbers = got
        if isinstance(rule, str):
            cls = node_class(rule)
        if numbers is not None or not isinstance(rule, str):
            # named by the rule unless a Tensor operand is a Python number (a name of
            # the call: the operands whose numbers may make it a Scalar overload's)
            operands = tuple(i for i, a in enumerate(op.schema.arguments)
                             if a.type.base == "Tensor" and not a.type.is_list
                             and not a.kwarg_only)
    facts = _OP_FACTS[op] = (inplace, names, frozenset(written), cls, operands)
    return facts


def _record(op, args):
    d = op.derivative
    facts = _OP_FACTS.get(op) or _op_facts(op)
    inplace, names = facts[0], facts[1]
    bound = dict(zip(names, args))
    if inplace and op.unchanged_when is not None and op.unchanged_when(*args):
        return _no_grad_result(op, args)    # no write (dropout_ when not training)
    if op.untracked_when is not None and op.untracked_when(*args):
        return _no_grad_result(op, args)    # fresh zeros (trapezoid of no samples)
    if inplace and getattr(d, "untracked_inplace", False):
        return _no_grad_result(op, args)    # a write past autograd (logical_not_)
    if inplace:
        target = args[0]
        if isinstance(target, Tensor) and _requires(target) and target._ag.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        # (t_, squeeze_ restride self without writing: nothing for a view to miss)
        view = target._ag.view if isinstance(target, Tensor) and target._ag is not None \
            else None
        if view is None and isinstance(target, Tensor) and "inplace_view" not in op.tags:
            view = _unrecorded_view(target)
        if view is not None and "inplace_view" not in op.tags:
            # a recorded view of a base: the base's gradient goes through CopySlices
            if view.multi and target._ag.grad_fn is not None:
                raise RuntimeError(_views.multi_view_error(target))
            base = view.base
            # (PyTorch's test: the view requires grad and its base is a leaf, which a base
            # that requires no grad is after base.detach_())
            if base._ag is not None and base._ag.grad_fn is None and (
                    base._ag.requires_grad or (target._ag is not None
                                               and target._ag.requires_grad)):
                raise RuntimeError(_views.LEAF_VIEW)
            # (autograd's check first, as VariableType's check_inplace runs before the
            # kernel's: an expanded view of a leaf says LEAF_VIEW in torch 2.13)
            _views.check_overlap(target)
            base_edge = edge_of(base)
            edge_of(target)                 # (brings the view's grad_fn up to date)
            old = target._ag.grad_fn
            result = _record_op(op, args, d, inplace, names, bound)
            node = target._ag.grad_fn
            if node is not old and isinstance(node, OpBackward):
                _views.copy_slices(target, base_edge, node, _views.self_slot(node, op))
            return result
        if isinstance(target, Tensor) and "inplace_view" not in op.tags and \
                target._data.base is not None and view is None and \
                not getattr(target, "_detached", False) and \
                target._data.size and _shares_memory(target):     # (0-size: no write)
            raise RuntimeError(
                f"{op.public_name}: an in-place operation writes into a view while "
                f"gradients are recorded, and gpujit's autograd did not record the view "
                f"(it was taken while nothing required grad, or by NumPy). Write it out of "
                f"place (e.g. torch.where or torch.cat), take the view after the tensor "
                f"requires grad, or do it under torch.no_grad().")
        if view is not None and "inplace_view" in op.tags:
            # (y[0].t_(): the view's new grad_fn is the op's node, TBackward1 -> its old
            # one, as PyTorch's; the version the op bumped is the one it was made at, so
            # sync_view keeps it)
            result = _record_op(op, args, d, inplace, names, bound)
            view.version = view.base._vc[0]
            return result
    return _record_op(op, args, d, inplace, names, bound)


def _adopt_view(t):
    """t, a Tensor without autograd state, views (registry.wrap_view) a base that has
    started to require grad since (an in-place write with gradients through another of
    its views made the base's grad_fn CopySlices): t becomes a recorded view of it, its
    grad_fn an AsStridedBackward0 of the base's, as PyTorch's views follow their base.
    True when it did."""
    base = t._base
    bag = base._ag
    if bag is None or not bag.requires_grad or bag.grad_fn is None or \
            getattr(t, "_nograd_view", False):       # (made in no_grad mode)
        return False        # (a leaf that requires grad only since: t stays out, as in
        # PyTorch, where only an in-place op, which gives the base a grad_fn, reaches t)
    if bag.view is not None:
        base = bag.view.base
    ag = t._ag = _AutogradMeta()
    ag.requires_grad = True
    info = ag.view = _views.ViewInfo(base)
    info.version = -1               # (sync_view makes its grad_fn now)
    _track_view(base, t)
    _views.sync_view(t)
    return True


def view_grad_fn(t):
    """Tensor.grad_fn of a view (registry.wrap_view's `_base`, or a recorded view): made
    up to date with its base's writes, as PyTorch makes a view's grad_fn when read."""
    if t._ag is None:
        if not t.requires_grad or not _adopt_view(t):
            return None
    elif t._ag.view is not None:
        _views.sync_view(t)
    return t._ag.grad_fn


def _track_view(base, t):
    if base._ag is None:
        base._ag = _AutogradMeta()
    _views.track_view(base, t)


def _unrecorded_view(t):
    """A view taken while nothing required grad (`out = zeros(3, 4); out[0] = w * x`)
    that an in-place op with gradients now writes: it becomes a recorded view of the root
    of its view chain (registry.wrap_view keeps it), as PyTorch tracks every view, so the
    base's grad_fn becomes CopySlices. None for a tensor that is no view."""
    base = getattr(t, "_base", None)
    if base is None or getattr(t, "_nograd_view", False):
        return None
    info = base._ag.view if base._ag is not None else None
    if info is not None:
        base = info.base
    if t._ag is None:
        t._ag = _AutogradMeta()
    t._ag.view = view = _views.ViewInfo(base)
    _track_view(base, t)
    return view


def _shares_memory(t) -> bool:
    """Can an array other than t's own and its recorded views' see t's memory? t's array
    is a NumPy/CuPy view: of a kernel's buffer, the fused value's own layout
    (ops/overlap.py: own_layout; its recorded views and the launcher's recycling hold the
    buffer too), or of a base referenced only by it and by the arrays of t's recorded
    views (a reshape's copy); else of another tensor's memory that autograd did not
    record as a view."""
    a = t._data
    if is_own_layout(a):
        return False
    base = a.base
    n = sys.getrefcount(base) - 3   # (t's array, `base` here and getrefcount's argument)
    if n > 0 and t._ag is not None and t._ag.view_refs:
        n -= sum(1 for v in _views.live_views(t._ag) if v._data.base is base)
    return n > 0


def _record_op(op, args, d, inplace, names, bound):
    if isinstance(d, _reg.NonDifferentiable) or (d is None and op.tags & _NO_GRAD_TAGS):
        if inplace and isinstance(args[0], Tensor) and _requires(args[0]):
            # the tensor's old grad_fn would no longer describe its value
            if getattr(d, "inplace_error", None):
                raise RuntimeError(d.inplace_error)
            raise RuntimeError(f"{op.public_name}: this in-place operation is not "
                               f"differentiable and cannot modify a tensor that requires "
                               f"grad; call it under torch.no_grad() or on a detached copy")
        return _no_grad_result(op, args)
    if d is None:
        result = op.eager(*args)
        if not any(isinstance(r, Tensor) and r._dtype.category >= _dt.FLOATING
                   for r in _as_tuple(result)):
            return result               # integer / bool outputs carry no gradient
        raise RuntimeError(f"the derivative for '{op.name}' is not implemented "
                           f"({op.schema})")
    # what the derivative reads, saved before an in-place op overwrites self (or another
    # argument it writes: batch_norm's running statistics in training)
    facts = _OP_FACTS.get(op) or _op_facts(op)
    written = facts[2]
    pre = {}
    for p in d.bound:
        if p not in bound and p.endswith("_shape"):
            pre[p] = _reg.shape_param(bound[p[:-6]])
            continue
        if p not in bound and p.endswith("_device"):     # (not the tensor: no version)
            t = bound[p[:-7]]
            pre[p] = t._device if isinstance(t, Tensor) else None
            continue
        if p not in bound and p.endswith("_strides"):
            pre[p] = _reg.strides_param(bound[p[:-8]])
            continue
        v = bound[p]
        if p in written and isinstance(v, Tensor):
            # the value before the write; recorded when it requires grad (double backward)
            # (through compute, below the tracer: a trace does not record autograd's own
            # copy, torch's does not, and its dead aten::clone took value numbers)
            v = (_reg.dispatch_state.compute(_reg.OPS["aten::clone"], [v, None])
                 if _requires(v) else _reg.wrap_any(v._data.copy(), v._dtype, v._device))
        pre[p] = v
    # gradient edges and input metadata, before an in-place op changes self's grad_fn
    next_functions, inputs_meta = [], []
    for w in d.wrt:
        v = bound[w]
        if isinstance(v, Tensor):
            e = edge_of(v)
            next_functions.append(e or (None, 0))
            inputs_meta.append((tuple(v._data.shape), v._dtype) if e else None)
        elif isinstance(v, (list, tuple)) and any(isinstance(x, Tensor) for x in v):
            metas = []
            for x in v:
                e = edge_of(x) if isinstance(x, Tensor) else None
                next_functions.append(e or (None, 0))
                metas.append((tuple(x._data.shape), x._dtype) if e else None)
            inputs_meta.append(("list", metas))
        else:
            next_functions.append((None, 0))    # None / a Python number: no gradient
            inputs_meta.append(None)
    made = None
    if d.uses_needs:
        needs = tuple([m is not None and (m[0] != "list" or any(m[1])) for m in inputs_meta])
        extra = {"needs_grad": needs}
        if d.elem_needs:        # (per element of a Tensor[] argument)
            for w, m in zip(d.wrt, inputs_meta):
                if w in d.elem_needs:
                    extra[w + "_needs_grad"] = tuple(x is not None for x in m[1]) \
                        if m is not None and m[0] == "list" else ()
            pre.update((k, v) for k, v in extra.items() if k in d.params)
        elif "needs_grad" in d.params:
            pre["needs_grad"] = needs
        needed = d.needed_frozen(needs) if d.reads is not None else None
        if needed is not None:      # keep only what the needed gradients read
            for p in pre:
                if p not in needed and not p.endswith(("_shape", "_device", "_strides", "needs_grad")):
                    pre[p] = None
        if d.computes is not None:
            # values saved in place of the arguments they are computed from (recorded:
            # intermediates that a double backward differentiates through)
            made = {}
            _run_computes(d, bound, made, extra, needed, False)
            pre.update((k, v) for k, v in made.items() if k in d.params)
    if inplace and isinstance(args[0], Tensor):
        version = args[0]._vc[0]
        # an argument saved as it is that the write changes (y.mul_(y): `other` is self)
        # is saved at its version before the write, as PyTorch saves it: backward then
        # raises instead of reading the written value
        before = {id(v): v._vc[0] for v in _saved_tensors(pre)}
    prev = _state.enabled, _state.inference     # (no_grad's enter and exit)
    _state.enabled = False
    try:
        result = op.eager(*args)
    finally:
        _state.enabled, _state.inference = prev
    if inplace and isinstance(args[0], Tensor) and args[0]._vc[0] == version:
        return result       # the op left self as it was (dropout_ when not training)
    if not inplace and args and result is args[0]:
        return result       # it handed back its input itself (contiguous, to, positive...)
    if type(result) is Tensor:          # (one output, the common case)
        outs = (result,)
        list_output = False
        out_meta = ((tuple(result._data.shape), result._dtype, result._device),)
    else:
        outs = _as_tuple(result)
        list_output = isinstance(result, tuple) and len(op.schema.returns) == 1
        out_meta = tuple([(tuple(r._data.shape), r._dtype, r._device)
                          if isinstance(r, Tensor) else None for r in outs])
    saved = {}
    cls = facts[3]
    if cls is not None and facts[4] is not None:
        for i in facts[4]:
            if i < len(args) and isinstance(args[i], (bool, int, float, complex)):
                cls = None
                break
    skip = None
    if cls is None:
        name = backward_name(op, bound, result)
        skip = _edge_skip(op, d, bound, name, next_functions, inputs_meta)
        cls = node_class(name)
    elif getattr(d, "edgeless", ()):
        skip = _edge_skip(op, d, None, None, next_functions, inputs_meta)
    node = cls(op, d, saved, inputs_meta, tuple(next_functions), out_meta)
    if skip is not None:
        node.skip = skip
    node_name = node.name()
    self_out = args[0] if inplace else None     # (self of an in-place op: its output)
    for k, v in pre.items():
        saved[k] = v if v is None else SavedTensor(v, node_name, 0, v is not self_out) \
            if type(v) is Tensor else _save(v, node_name, self_out)
    if inplace and isinstance(args[0], Tensor):
        for s in _saved_tensors(saved):
            s.version = before.get(id(s.ref()), s.version)
    if list_output:
        node.metadata["list_output"] = True
    # (output i of broadcast_tensors / meshgrid is input i's: it requires grad only if
    # that input does, as PyTorch's per-tensor expands)
    per_input = args[0] if "output_per_input" in op.tags else None
    if per_input is None and len(outs) == 1 and type(result) is Tensor and \
            result._dtype.category >= _dt.FLOATING and 0 not in op.nondiff_outputs:
        # (one floating output, the common case: mark_result inline)
        ag = result._ag
        if ag is None:
            ag = result._ag = _AutogradMeta()
        ag.requires_grad = True
        ag.grad_fn = node
        ag.output_nr = 0
        node.out_refs = [weakref.ref(result)]
    else:
        refs = []
        for i, r in enumerate(outs):
            if per_input is not None and not _requires(per_input[i]):
                refs.append(None)
            elif isinstance(r, Tensor) and r._dtype.category >= _dt.FLOATING \
                    and i not in op.nondiff_outputs:
                mark_result(r, node, i)
                refs.append(weakref.ref(r))
            else:
                refs.append(None)
        node.out_refs = refs
    if "stash" in d.params:     # (taken now: the output may be freed before backward)
        r0 = outs[0] if outs else None
        saved["stash"] = _reg.stashed(r0._data) if isinstance(r0, Tensor) else None
    if "result" in d.params:
        # saved once it is this node's output (a pack hook sees its grad_fn, as in PyTorch);
        # not when no needed gradient reads it (`reads`: x ** e, e needing none)
        if d.reads is not None and "result" not in needed:
            saved["result"] = None
        else:
            # (several outputs: each checked when the derivative reads it)
            # (kept without their grad_fn: output -> node -> saved output is no cycle)
            if type(result) is Tensor:
                s = saved["result"] = SavedTensor(result, node_name, 0)
                if result._ag is not None and result._ag.grad_fn is node:
                    s.as_output(node, result._ag.output_nr, node.out_refs[0])
            else:
                saved["result"] = (SavedTensor(result, node_name, 0)
                                   if isinstance(result, Tensor) else
                                   SavedOutputs(result, node_name).as_output(node)
                                   if isinstance(result, tuple) else result)
    if made is not None and any("result" in c[2] for c in d.computes):
        made["result"] = result
        _run_computes(d, bound, made, extra, needed, True)
        for k, v in made.items():
            if k in d.params and k not in pre and k != "result":
                if v is result and type(v) is Tensor and v._ag is not None and \
                        v._ag.grad_fn is node:
                    # a compute that hands back the output itself (linalg_norm's
                    # result_, nll_loss's): kept as the saved output is, without its
                    # grad_fn (else output -> node -> saved output is a cycle)
                    s = saved[k] = SavedTensor(v, node_name, 0)
                    s.as_output(node, v._ag.output_nr, node.out_refs[v._ag.output_nr])
                else:
                    saved[k] = _save(v, node_name, self_out)
    if "view" in op.tags:
        for a in args:
            if isinstance(a, Tensor) and a._ag is not None:
                a._ag.has_views = True
        _views.attach_views(args, outs, op.name in _views.MULTI_VIEW_OPS)
    return result


def _save(v, node_name, self_out=None):
    """What a node keeps for the saved value v: SavedTensors for a Tensor and for the
    Tensors of a list (Nones kept: elements a computed value leaves out), else v. Each is
    saved as an input (detach_() of it later makes backward raise) unless it is
    `self_out`, the self of an in-place op (its output)."""
    if isinstance(v, Tensor):
        return SavedTensor(v, node_name, 0, is_input=v is not self_out)
    if isinstance(v, (list, tuple)) and v and (v[0] is None or isinstance(v[0], Tensor)) \
            and all(isinstance(x, Tensor) or x is None for x in v) \
            and any(x is not None for x in v):
        return [SavedTensor(x, node_name, 0, is_input=x is not self_out)
                if x is not None else None for x in v]
    return v


def _saved_tensors(values):
    """The Tensors (or SavedTensors) among a node's saved values (lists flattened)."""
    for v in values.values():
        for x in (v if isinstance(v, (list, tuple)) else (v,)):
            if isinstance(x, (Tensor, SavedTensor)):
                yield x


def mark_result(r, node, i):
    ag = r._ag
    if ag is None:
        ag = r._ag = _AutogradMeta()
    ag.requires_grad = True
    ag.grad_fn = node
    ag.output_nr = i


def _as_tuple(r):
    return r if isinstance(r, tuple) else (r,)


def _mark_no_grad_views(result, how=None):
    """The results of a view op run in no_grad mode on a tensor that requires grad (or on
    such a view): views whose in-place writes PyTorch refuses in grad mode."""
    # (how: True, or "inference" for views made in inference mode, whose refusal PyTorch
    # words for that mode)
    if how is None:
        how = "inference" if _state.inference else True
    for r in (result if isinstance(result, (list, tuple)) else (result,)):
        if isinstance(r, Tensor):
            if r._ag is None:
                r._ag = _AutogradMeta(False)
            r._ag.no_grad_view = how


def _no_grad_view_call(op, args):
    """An op in grad mode whose first argument is a view taken in no_grad mode: an
    in-place write is refused (PyTorch's error); a view of it is one too."""
    inplace = op.inplace_of is not None or \
        (op.schema.arguments and op.schema.arguments[0].type.is_write)
    if inplace and "inplace_view" not in op.tags:
        if args[0]._ag.no_grad_view == "inference":
            from .inference import VIEW_ERROR
            raise RuntimeError(VIEW_ERROR)
        raise RuntimeError(NO_GRAD_VIEW)
    # (it requires grad while its base does: PyTorch records the op, with no edge to it)
    needs = any(isinstance(a, Tensor) and (_requires(a) or (
        getattr(a, "_nograd_view", False) and a.requires_grad)) for a in args)
    result = _record(op, args) if needs else op.eager(*args)
    if "view" in op.tags and op.name != "aten::detach":
        _mark_no_grad_views(result, args[0]._ag.no_grad_view)
    return result


def _no_grad_result(op, args):
    state = _state
    prev = state.enabled, state.inference       # (no_grad's enter and exit)
    state.enabled = False
    try:
        return op.eager(*args)
    finally:
        state.enabled, state.inference = prev


def mark_not_implemented(name, tensors, outs):
    """Give outs PyTorch's torch::autograd::NotImplemented grad_fn (its autograd fallback's
    node for ops without a derivative: factories and not_implemented ops called with
    out=), with edges to the tensors that required grad: a backward reaching it raises
    `derivative for aten::<name> is not implemented`."""
    from ..ops.derivatives import Derivative
    msg = f"derivative for aten::{name} is not implemented"

    def fn(grad, **kw):
        raise RuntimeError(msg)
    view = outs[0] if len(outs) == 1 and outs[0]._ag is not None and \
        outs[0]._ag.view is not None else None
    base_edge = edge_of(view._ag.view.base) if view is not None else None
    next_functions = tuple(edge_of(t) or (None, 0) for t in tensors)
    inputs_meta = tuple((tuple(t._data.shape), t._dtype) for t in tensors)
    d = Derivative(fn, tuple(f"t{i}" for i in range(len(tensors))), ())
    d.not_implemented = msg
    out_meta = tuple((tuple(o._data.shape), o._dtype, o._device) for o in outs)
    node = node_class("NotImplemented")(None, d, {}, inputs_meta, next_functions, out_meta)
    if view is not None:        # (a view written: its base's gradient goes through CopySlices)
        slot = next((i for i, t in enumerate(tensors) if t is view), None)
        _views.copy_slices(view, base_edge, node, slot)
        return
    refs = []
    for i, o in enumerate(outs):
        if o._dtype.category >= _dt.FLOATING:
            mark_result(o, node, i)
            refs.append(weakref.ref(o))
        else:
            refs.append(None)
    node.out_refs = refs


def _run_computes(*args):
    """The derivative's saved values, computed outside a trace (a trace records the
    forward op only, as PyTorch's, whose autograd computes them in C++): einsum's read
    its operands' .shape, which recorded aten::size nodes and named the user's local
    variables after them, so a trace and the check's retrace under no_grad differed
    ("Graphs differed across invocations!", vit_pytorch's RvT)."""
    from ..frontend import tracer
    s = tracer.current_session()
    if s is None or s.paused:
        _reg.run_computes(*args)
        return
    s.paused = True
    try:
        _reg.run_computes(*args)
    finally:
        s.paused = False
