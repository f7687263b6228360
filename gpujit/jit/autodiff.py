"""Fusion groups in calls that record gradients (TorchScript's DifferentiableGraph).

A call of a compiled function whose inputs (or module parameters) require grad runs its
optimized graph node by node through the recording ops, as eager code would, except for
its fusion groups: each `prim::TensorExprGroup` runs its fused kernel and records ONE
backward node, `FusedGroupBackward`, whose backward is fused too:

    forward:   z = group(x, y, 0.5)            one kernel; saves x and y (not intermediates)
    backward:  gx, gy = backward_fn(x, y, gz)  recomputes the group's ops from x and y and
                                               applies each op's registry derivative in
                                               reverse: a traced graph run by an Executable,
                                               so it profiles, fuses and caches like any other

The backward of a group is traced once per argument signature (shapes, dtypes, the
group's Python number arguments, which inputs need a gradient) and the traced graph is
compiled as a function of its own (`<function> group k backward`). Recomputing the forward
inside the backward kernel costs reads of the group's inputs and no stored intermediates
(what nvFuser and torch.compile's min-cut partitioner do for pointwise work).

The same walk over the group's ops runs op by op, recording, when a backward itself
records gradients (create_graph=True: double backward), while a trace records the calling
program, after BACKWARD_CACHE signatures, or when the traced graph would hold a tensor
it did not compute (a derivative that reads data outside registry ops). Each gives the
gradient eager autograd gives.
"""
from __future__ import annotations

import re
import threading
import weakref

from .. import dtypes as _dt
from .._gc import gc_paused
from ..autograd import grad_mode
from ..autograd.graph import FREED, Node, SavedTensor, fit_gradient
from ..autograd.recording import _NO_GRAD_TAGS, edge_of, mark_result
from ..frontend import tracer as _tracer
from ..ir import types as T
from ..ops import registry as _reg
from ..runtime.interpreter import GROUP_RUNNER, interpret
from ..tensor import Tensor

__all__ = ["DifferentiableGroup", "FusedGroupBackward", "group_backward", "saved_outputs",
           "GROUP_RUNNER", "BACKWARD_CACHE"]

BACKWARD_CACHE = 16             # traced backward graphs kept per group (then op by op)
_HINT_NAME = "DifferentiableGraphBackward"     # (name().rsplit("::", 1)[-1])
STASH = "stash"     # (env[(STASH, output)]: the stash of the op making output, a Tensor)
_NO_STASH = object()

_CHUNK = "prim::ConstantChunk"
_CONCAT = "prim::FusedConcat"


def _call(op, args):
    """An op call on the public path: recorded by a trace and by autograd when on."""
    hook = _reg.dispatch_state.hook
    return hook(op, tuple(args)) if hook is not None else op.eager(*args)


_FLOATING = _dt.FLOATING


def _floating(t):
    return isinstance(t, Tensor) and t._dtype.category == _dt.FLOATING


def _recompute(sub, values):
    """Run the group's subgraph on `values` (its inputs) through the public ops; the
    environment of every Value."""
    import gpujit
    env = dict(zip(sub.inputs, values))
    for n in sub.nodes:
        k = n.kind
        if k == "prim::Constant":
            outs = (n.attrs.get("value"),)
        elif k == _CHUNK:
            outs = env[n.inputs[0]].chunk(n.attrs["chunks"], n.attrs["dim"])
        elif k == _CONCAT:
            outs = (gpujit.cat([env[v] for v in n.inputs], n.attrs["dim"]),)
        else:
            op = n.op
            if op is None:
                raise RuntimeError(f"a fusion group holds {k}, which has no registry op")
            args = [env[v] for v in n.inputs]
            args += [p.default for p in op.schema.arguments[len(args):]]
            r = _call(op, args)
            outs = tuple(r) if len(n.outputs) > 1 else (r,)
        for v, r in zip(n.outputs, outs):
            env[v] = r
    return env


def _add(a, b):
    return b if a is None else (a if b is None else a + b)


def _node_grads(n, env, gouts, req):
    """The gradients of node n's inputs (None where none flows) from its outputs'."""
    import gpujit
    k = n.kind
    if k == _CHUNK:
        pieces = [g if g is not None else gpujit.zeros_like(env[o])
                  for o, g in zip(n.outputs, gouts)]
        return [gpujit.cat(pieces, n.attrs["dim"])]
    if k == _CONCAT:
        g = gouts[0]
        dim, start, out = n.attrs["dim"], 0, []
        if n.attrs.get("stack"):        # (a region's torch.stack, graph_autodiff)
            return [g.select(dim, i) if v in req else None for i, v in enumerate(n.inputs)]
        for v in n.inputs:
            size = env[v].shape[dim]
            out.append(g.narrow(dim, start, size) if v in req else None)
            start += size
        return out
    op = n.op
    d = op.derivative
    if d is None or isinstance(d, _reg.NonDifferentiable):
        return [None] * len(n.inputs)
    names = [a.name for a in op.schema.arguments]
    args = [env[v] for v in n.inputs]
    args += [p.default for p in op.schema.arguments[len(args):]]
    bound = dict(zip(names, args))
    pos = {name: i for i, name in enumerate(names)}
    needs = tuple(pos.get(w) is not None and pos[w] < len(n.inputs)
                  and n.inputs[pos[w]] in req for w in d.wrt)
    outs = [env[o] for o in n.outputs]
    made = {"result": outs[0] if len(outs) == 1 else tuple(outs)}
    extra = {"needs_grad": needs, "grads_defined": tuple([x is not None for x in gouts])}
    for w, nd in zip(d.wrt, needs):     # (a Tensor[] argument: one Value, one flag)
        if isinstance(bound.get(w), (list, tuple)):
            extra[w + "_needs_grad"] = (nd,) * len(bound[w])
    if d.computes is not None:
        # the values eager recording computes at forward time, from the recomputed ones
        wanted = d.needed(needs) if d.reads is not None else None
        _reg.run_computes(d, bound, made, extra, wanted, False)
        _reg.run_computes(d, bound, made, extra, wanted, True)
    kw = {}
    for p in d.params:
        if p in made:
            kw[p] = made[p]
        elif p in extra:
            kw[p] = extra[p]
        elif p == "stash":
            # (a region's backward keeps the stash as a Tensor under (STASH, output): a
            # traced backward's input)
            st = env.get((STASH, n.outputs[0]), _NO_STASH) if n.outputs else None
            kw[p] = st if st is not _NO_STASH else _reg.stashed(env[n.outputs[0]]._data)
        elif p not in bound and p.endswith("_shape"):
            kw[p] = _reg.shape_param(bound[p[:-6]])
        elif p not in bound and p.endswith("_strides"):
            kw[p] = _reg.strides_param(bound[p[:-8]])
        elif p not in bound and p.endswith("_device"):
            t = bound[p[:-7]]
            kw[p] = t.device if isinstance(t, Tensor) else None
        else:
            kw[p] = bound[p]
    if len(n.outputs) == 1:
        g = gouts[0]
    else:
        g = tuple(x if x is not None else gpujit.zeros_like(env[o])
                  for o, x in zip(n.outputs, gouts))
    res = d.fn(g, **kw)
    if len(d.wrt) == 1:
        res = (res,)
    grads = [None] * len(n.inputs)
    for w, gw in zip(d.wrt, res):
        i = pos.get(w)
        if gw is None or i is None or i >= len(n.inputs) or n.inputs[i] not in req:
            continue
        t = env[n.inputs[i]]
        grads[i] = fit_gradient(gw, (tuple(t._data.shape), t._dtype))
    return grads


def value_inputs(sub, needs):
    """Per subgraph input, whether the backward reads its value (for `needs`, the inputs
    that need a gradient): an input some derivative reads, or that one of the values a
    derivative reads is computed from. The others serve only for shapes and dtypes, so an
    in-place change of one after the call is no error (as in PyTorch, which saves only
    what its derivatives name)."""
    producer, read = _reads(sub, needs)
    seen, stack = set(), list(read)
    while stack:
        v = stack.pop()
        if v not in seen:
            seen.add(v)
            if v in producer:
                stack.extend(producer[v].inputs)
    return tuple(v in seen for v in sub.inputs)


def saved_outputs(sub, needs):
    """The positions of the subgraph outputs whose values a derivative reads (for
    `needs`): eager autograd would have saved them (sigmoid's and exp's results, mul's
    operands), so an in-place change of one after the call raises PyTorch's error at
    backward, although the group's backward recomputes them from its inputs."""
    read = _reads(sub, needs)[1]
    return tuple(i for i, o in enumerate(sub.outputs) if o in read)


def _reads(sub, needs):
    """(each value's producing node, the values the derivatives read for `needs`)."""
    req = {v for v, nd in zip(sub.inputs, needs) if nd}
    producer, read = {}, set()
    for n in sub.nodes:
        for o in n.outputs:
            producer[o] = n
        if not any(v in req for v in n.inputs):
            continue
        req.update(n.outputs)
        d = n.op.derivative if n.kind not in (_CHUNK, _CONCAT) and n.op is not None else None
        if d is None or isinstance(d, _reg.NonDifferentiable):
            continue
        pos = {a.name: i for i, a in enumerate(n.op.schema.arguments)}
        wants = tuple(pos.get(w) is not None and pos[w] < len(n.inputs)
                      and n.inputs[pos[w]] in req for w in d.wrt)
        ps = d.needed(wants)
        if d.computes is not None:      # a computed value reads what its function names
            for name, f, cps in reversed(d.computes):
                if name in ps:
                    ps.update(cps)
        for p in ps:
            if p == "result":
                read.update(n.outputs)
            elif p in pos and pos[p] < len(n.inputs):
                read.add(n.inputs[pos[p]])
    return producer, read


def grad_outputs(sub, needs):
    """Per subgraph output, whether it requires grad when the inputs `needs` says do: it
    is computed from one of them through ops that carry gradient (as eager recording
    decides op by op; an output computed only from inputs that need none does not)."""
    req = {v for v, nd in zip(sub.inputs, needs) if nd}
    for n in sub.nodes:
        if not any(v in req for v in n.inputs):
            continue
        if n.kind not in (_CHUNK, _CONCAT):
            op = n.op
            d = op.derivative if op is not None else None
            if isinstance(d, _reg.NonDifferentiable) or (
                    op is not None and d is None and op.tags & _NO_GRAD_TAGS):
                continue
        # integer and bool results carry no gradient (x.long().float() * y), nor the
        # returns the op declares non-differentiable
        nd = n.op.nondiff_outputs if n.op is not None else ()
        req.update(o for i, o in enumerate(n.outputs) if _may_float(o) and i not in nd)
    return tuple(o in req for o in sub.outputs)


def _may_float(v):
    """Whether a subgraph Value may hold a floating tensor (its profiled type says)."""
    t = v.type
    if not isinstance(t, T.TensorType):
        return False
    return t.dtype is None or t.dtype.category == _dt.FLOATING


def group_backward(sub, values, grads, needs):
    """The gradients of the group's inputs (one per subgraph input, None where `needs`
    says no or none flows) given its inputs `values` and its outputs' gradients `grads`
    (None for outputs that carry none): the ops recomputed, then each op's registry
    derivative applied in reverse order, all through public ops (a trace records them;
    under create_graph autograd does)."""
    env = _recompute(sub, values)
    req = {v for v, nd in zip(sub.inputs, needs) if nd}
    for n in sub.nodes:
        if any(v in req for v in n.inputs):
            nd = n.op.nondiff_outputs if n.op is not None else ()
            req.update(o for i, o in enumerate(n.outputs)
                       if _floating(env[o]) and i not in nd)
    return reverse_walk(sub, env, grads, needs, req)


def reverse_walk(sub, env, grads, needs, req):
    """sub's inputs' gradients (None where needs says none): each node's registry
    derivative applied in reverse order from the outputs' grads, for the values in req
    (those computed from inputs that need a gradient); env holds the forward's values."""
    buf = {}
    for o, g in zip(sub.outputs, grads):
        if g is not None and o in req:
            buf[o] = _add(buf.get(o), g)
    for n in reversed(sub.nodes):
        gouts = [buf.get(o) for o in n.outputs]
        if all(g is None for g in gouts) or not any(v in req for v in n.inputs):
            continue
        for v, g in zip(n.inputs, _node_grads(n, env, gouts, req)):
            if g is not None:
                buf[v] = _add(buf.get(v), g)
    return [buf.get(v) if nd else None for v, nd in zip(sub.inputs, needs)]


# Groups of one compiled function (one FusionBudget) that compute the same thing the same
# way (an LSTM cell's group at every step of an unrolled loop) share their traced backward
# graphs: the trace and its compile are done once per structure and signature. Kept on the
# budget ({(structure, key): _Backward|False} at budget.shared["backwards"]), not in a
# table weakly keyed by it: the budget died in a cycle, and the table's entry (the backward
# Executable, its fusion group and kernels) went only at the collection after.
_SHARED_LOCK = threading.Lock()
_SCALARS = (int, float, bool, str, type(None))


def _attr_key(a):
    """A hashable stand-in for an attribute value that is equal only for equal values of
    the same type (repr tells -0.0 from 0.0); None for values it cannot vouch for."""
    if type(a) in _SCALARS:
        return (type(a).__name__, repr(a))
    if type(a) in (tuple, list):
        items = tuple(_attr_key(x) for x in a)
        return None if None in items else (type(a).__name__, items)
    return None


def structure_key(sub):
    """A key equal for two group subgraphs with the same inputs' types, the same nodes
    (kind, op, attributes, which values they read, results' types) in the same order and
    the same outputs; their backward walks trace the same graph for the same arguments.
    None when a node holds something the key cannot compare (blocks, object attributes)."""
    index = {v: i for i, v in enumerate(sub.inputs)}
    parts = [tuple(str(v.type) for v in sub.inputs)]
    for n in sub.nodes:
        if n.blocks:
            return None
        attrs = []
        for k in sorted(n.attrs):
            a = _attr_key(n.attrs[k])
            if a is None:
                return None
            attrs.append((k, a))
        try:
            reads = tuple(index[v] for v in n.inputs)
        except KeyError:
            return None
        parts.append((n.kind, id(n.op) if n.op is not None else None, tuple(attrs), reads,
                      tuple(str(o.type) for o in n.outputs)))
        for o in n.outputs:
            index[o] = len(index)
    try:
        parts.append(tuple(index[v] for v in sub.outputs))
    except KeyError:
        return None
    return tuple(parts)


class _Plan:
    """What the backward node of a group's call saves, for one pattern of inputs needing a
    gradient: `reads` per input whether a derivative reads its value, `requiring` per
    output whether it requires grad, `saving` the outputs whose versions are checked,
    `reach` per input the outputs it alone reaches."""
    __slots__ = ("reads", "requiring", "saving", "reach")

    def __init__(self, reads, requiring, saving, reach):
        self.reads, self.requiring, self.saving, self.reach = reads, requiring, saving, reach


class _Backward:
    """A traced backward graph for one argument signature: `fn(*tensors)` -> the
    gradients that are not None, `present[i]` whether input i gets one."""
    __slots__ = ("fn", "present")

    def __init__(self, fn, present):
        self.fn, self.present = fn, present

    def run(self, tensors):
        """The input gradients (None where none) from the saved tensors, then the output
        gradients that are not None."""
        got = self.fn._dispatch(*tensors)       # (Executable.__call__'s)
        if not isinstance(got, tuple):
            got = (got,)
        it = iter(got)
        return [next(it) if p else None for p in self.present]


def mark_outputs(node, results):
    """Make node the grad_fn of the results that get a gradient (its out_meta not None);
    node.out_refs, for register_hook / retain_grad on them (engine), is returned."""
    refs = []
    for i, m in enumerate(node.out_meta):
        if m is not None:
            r = results[i]
            mark_result(r, node, i)
            refs.append(weakref.ref(r))
        else:
            refs.append(None)
    node.out_refs = refs
    return refs


def trace_backward(walk, tensors, grads, name):
    """Trace one run of a backward walker into a graph for later calls of the same
    signature. walk(ts, gs) -> the input gradients (None where none) computed from the
    saved tensors `ts` and the output gradients `gs`. Returns (a _Backward, or False when
    the walk does not trace into a graph that generalizes; this call's input gradients)."""
    from ..runtime import Executable
    from .trace import _trace_graph
    n = len(tensors)
    grad_pos = [i for i, g in enumerate(grads) if g is not None]
    holder = {}

    def backward_fn(*ts):
        gs = [None] * len(grads)
        for i, t in zip(grad_pos, ts[n:]):
            gs[i] = t
        res = holder["result"] = walk(ts[:n], gs)
        return tuple(g for g in res if g is not None)

    # the trace's TracerWarnings are collected, not shown (this thread's; not with
    # warnings.catch_warnings, whose swap of the process-wide filters is not thread-safe)
    active = _tracer._Active
    prev, active.quiet = active.quiet, []
    try:
        graph, _ = _trace_graph(backward_fn, tuple(tensors) + tuple(
            [grads[i] for i in grad_pos]), True)
    except Exception:
        graph = None
    finally:
        warned, active.quiet = active.quiet, prev
    if graph is None:
        return False, walk(tensors, grads)
    result = holder["result"]
    present = tuple(g is not None for g in result)
    if not any(present) or warned or any(
            n.kind == "prim::Constant" and isinstance(n.output.type, T.TensorType)
            and not n.meta.get("wrapped_number") for n in graph.nodes):
        # a derivative that read its data as Python values (a branch on x.item()...)
        # or computed outside the registry ops: its trace would not generalize
        return False, result
    exe = Executable(graph, name, copy=False)     # (the trace is ours alone)
    return _Backward(exe, present), result


class DifferentiableGroup:
    """What the interpreter calls for a prim::TensorExprGroup node in a call that records
    gradients: the FusedGroup's kernel (guards, fallback) on the raw arrays, and a
    FusedGroupBackward node for outputs that need a gradient."""

    def __init__(self, group):
        self.group = group
        self.sub = group.subgraph
        self.kinds = group.kinds
        # (every argument a tensor: the common case, read without the kinds)
        self.all_tensors = all(k == "tensor" for k in group.kinds)
        self.name = re.sub(r"\W", "_", f"{group.name} backward")    # f_group_0_backward
        self.backwards: dict = {}
        self.traced = 0             # backward graphs traced (tests, reports)
        # needs (per input, whether it gets a gradient) -> _Plan: what a node of a call
        # with those inputs needing gradients saves and which outputs require grad
        self.plans: dict = {}
        self._lock = threading.Lock()
        self._structure = False     # structure_key(sub), computed on the first backward
        # the profiled dtype of each tensor input (None: not a tensor, or not known): the
        # plans read which values may be floating off the subgraph's profiled types
        self.in_dtypes = tuple(v.type.dtype if isinstance(v.type, T.TensorType) else None
                               for v in self.sub.inputs)
        # a group that is a scripted call's whole graph and one DifferentiableGraph region
        # (jit/graph_autodiff.graph_diff): its inputs' positions in the order torch's slicer
        # merged them (its node's edges; None: as they are), the graph input slots of the
        # region in that order (what graph_for shows)
        self.order = None
        self.region_slots = None

    def plan(self, needs):
        p = self.plans.get(needs)
        if p is None:
            sub = self.sub
            p = self.plans[needs] = _Plan(
                value_inputs(sub, needs), grad_outputs(sub, needs),
                saved_outputs(sub, needs),
                # per input, the outputs it alone reaches (an input that reaches only
                # outputs no gradient came to gets none)
                tuple(grad_outputs(sub, tuple(k == i for k in range(len(needs))))
                      if nd else () for i, nd in enumerate(needs)))
        return p

    def __call__(self, args):
        group, kinds = self.group, self.kinds
        if self.all_tensors:
            outs = group.call(*[a._data for a in args])
            dev = args[0]._device
            results = [_reg.wrap_array(o, dev) for o in outs]
            if not grad_mode.state.enabled:
                return results
            edges = [edge_of(a) if a._dtype.category == _FLOATING else None for a in args]
        else:
            outs = group.call(*[a._data if k == "tensor" else a for a, k in zip(args, kinds)])
            dev = next(a._device for a, k in zip(args, kinds) if k == "tensor")
            results = [_reg.wrap_array(o, dev) for o in outs]
            if not grad_mode.state.enabled:
                return results
            edges = [edge_of(a) if k == "tensor" and _floating(a) else None
                     for a, k in zip(args, kinds)]
        needs = tuple([e is not None for e in edges])
        if True not in needs:
            return results
        for a, d in zip(args, self.in_dtypes):
            if d is not None and isinstance(a, Tensor) and a._dtype != d:
                # not the profiled dtypes (a branch the profiling runs did not take: an
                # int64 input now float32 that requires grad): the plan's types would
                # give an output computed from it no gradient; the ops one by one, as
                # eager records them (the guard missed too: the kernel did not run)
                # (in-place ops functionalize rewrote run in place on copies, as eager)
                out = interpret(self.group._fallback_graph, *args)
                return list(out) if isinstance(out, tuple) else [out]
        plan = self.plans.get(needs) or self.plan(needs)
        node = FusedGroupBackward(self, args, edges, results, needs, plan)
        refs = mark_outputs(node, results)
        if plan.saving:
            # (kept without their grad_fn: no cycle output -> node -> saved output)
            node.out_saved = [SavedTensor(results[i], _HINT_NAME, i).as_output(
                node, i, refs[i]) for i in plan.saving]
        return results

    # ------------------------------------------------------------------ backward
    def backward(self, values, grads, needs):
        """Input gradients (None where none): fused when it can be, else op by op."""
        if grad_mode.state.enabled or _tracer._Active.session is not None:
            return group_backward(self.sub, values, grads, needs)
        key = self._key(values, grads, needs)
        bw = self.backwards.get(key)
        if bw is None:
            with self._lock:
                bw = self.backwards.get(key)
                if bw is None:
                    if len(self.backwards) >= BACKWARD_CACHE:
                        return group_backward(self.sub, values, grads, needs)
                    shared = self._shared()
                    skey = (self._structure, key)
                    bw = shared.get(skey) if shared is not None else None
                    if bw is None:
                        with gc_paused():       # see gpujit/_gc.py
                            bw, result = self._trace(values, grads, needs)
                        self.backwards[key] = bw
                        if shared is not None:
                            shared.setdefault(skey, bw)
                        return result
                    self.backwards[key] = bw
        if bw is False:
            return group_backward(self.sub, values, grads, needs)
        tensors = list(values) if self.all_tensors else \
            [v for v, k in zip(values, self.kinds) if k == "tensor"]
        tensors += [g for g in grads if g is not None]
        return bw.run(tensors)

    def _shared(self):
        """The backward graphs shared by the groups of this one's function, or None when
        its subgraph has no structure key."""
        if self._structure is False:
            self._structure = structure_key(self.sub)
        if self._structure is None:
            return None
        budget = self.group.budget
        with _SHARED_LOCK:
            return budget.shared.setdefault("backwards", {})

    def _key(self, values, grads, needs):
        if self.all_tensors:
            key = [(v._data.shape, v._dtype, v._device) for v in values]
            key.append(tuple([g is not None for g in grads]))
            key.append(needs)
            key.append(_dt._default_float)
            return tuple(key)
        key = []
        for v, k in zip(values, self.kinds):
            if k == "tensor":
                key.append((v._data.shape, v._dtype, v._device))
            else:
                # the trace bakes the number in: -0.0 is not 0.0 there (x / s)
                a = _attr_key(v)
                key.append(a if a is not None else (type(v), v))
        key.append(tuple(g is not None for g in grads))
        key.append(tuple(needs))
        key.append(_dt._default_float)
        return tuple(key)

    def _trace(self, values, grads, needs):
        """(the compiled backward, or False when it cannot be traced; this call's input
        gradients)."""
        tensor_pos = [i for i, k in enumerate(self.kinds) if k == "tensor"]

        def walk(ts, gs):
            vals = list(values)
            for i, t in zip(tensor_pos, ts):
                vals[i] = t
            return group_backward(self.sub, vals, gs, needs)

        bw, result = trace_backward(walk, [values[i] for i in tensor_pos], grads, self.name)
        if bw:
            self.traced += 1
        return bw, result


class FusedGroupBackward(Node):
    """The backward node of one fusion group's run. PyTorch's node of a fused
    DifferentiableGraph is a C++ node: `type(grad_fn).__name__` is "CppFunction" and its
    name() "torch::jit::(anonymous namespace)::DifferentiableGraphBackward" (a tensor
    prints `grad_fn=<DifferentiableGraphBackward>`); this class is named as it."""

    materialize_grads = False      # (an output no gradient came to: None, not zeros)

    out_saved = ()
    versions = None     # (saved holds the arguments themselves: their versions when saved)

    def __init__(self, runner, args, edges, results, needs, plan):
        super().__init__()
        self.runner = runner
        self.needs = needs
        self.plan = plan
        # inputs whose values no derivative reads are kept for their shapes only: no
        # version check (an in-place change of one after the call is no error)
        if not grad_mode.state.saved_hooks and runner.all_tensors:
            # no saved-tensor hooks: the tensors themselves and the versions of those read
            # (what a SavedTensor would check; apply raises its error)
            self.saved = args
            self.versions = [a._vc[0] if r else None for a, r in zip(args, plan.reads)]
        elif runner.all_tensors:
            self.saved = [SavedTensor(a, _HINT_NAME, 0) if r else a
                          for a, r in zip(args, plan.reads)]
        else:
            self.saved = [SavedTensor(a, _HINT_NAME, 0) if k == "tensor" and r else a
                          for a, k, r in zip(args, runner.kinds, plan.reads)]
        # (the edges of the inputs that require grad only, as torch's
        # DifferentiableGraphBackward lists them: no (None, 0) for a mask or a number; in
        # the order torch's slicer merged them where the group is a region of its own)
        order = runner.order
        if order is None:
            self.next_functions = tuple([e for e in edges if e is not None])
        else:
            self.next_functions = tuple([edges[i] for i in order if edges[i] is not None])
        # outputs computed only from inputs that need no gradient do not require grad
        self.out_meta = tuple([(r._data.shape, r._dtype, r._device)
                               if rq and r._dtype.category == _FLOATING else None
                               for r, rq in zip(results, plan.requiring)])

    def name(self):
        return "torch::jit::(anonymous namespace)::DifferentiableGraphBackward"

    def release(self):
        self.released = True
        self.saved = None
        self.out_saved = ()

    def apply(self, grads):
        if self.released:
            raise RuntimeError(FREED)
        for o in self.out_saved:     # (only their versions: the backward recomputes them)
            o.unpack()
        versions = self.versions
        if versions is not None:
            values = self.saved
            for t, v in zip(values, versions):
                if v is not None and t._vc[0] != v:
                    s = SavedTensor(t, _HINT_NAME, 0)
                    s.version = v
                    s._modified(t)
        else:
            values = [s.unpack() if type(s) is SavedTensor else s for s in self.saved]
        gs = [g if m is not None else None for g, m in zip(grads, self.out_meta)]
        result = self.runner.backward(values, gs, self.needs)
        # an input that reaches only outputs no gradient came to gets none (as eager and
        # TorchScript's autodiff: x.grad stays None, where the group's backward gave zeros)
        needs = self.needs
        order = self.runner.order
        for g in gs:
            if g is None:
                break
        else:
            if order is not None:
                return [result[i] for i in order if needs[i]]
            return [r for r, nd in zip(result, needs) if nd]
        reach = self.plan.reach
        result = [None if r is not None and not any(
            gs[j] is not None for j, on in enumerate(reach[i]) if on) else r
            for i, r in enumerate(result)]
        if order is not None:
            return [result[i] for i in order if needs[i]]
        return [r for r, nd in zip(result, needs) if nd]


FusedGroupBackward.__name__ = FusedGroupBackward.__qualname__ = "CppFunction"
