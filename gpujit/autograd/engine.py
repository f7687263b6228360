"""The backward pass: run the graph's nodes from the roots in dependency order, summing
the gradients that reach each node's outputs, then either accumulate into the leaves'
`.grad` (backward) or hand back the gradients of chosen inputs (grad)."""
from __future__ import annotations

import heapq
import threading
import warnings

import numpy as _np

from ..ops import registry as _reg
from ..ops import memory_format as _mf
from ..dtypes import _FROM_NP
from ..tensor import SAME_DTYPE, Tensor
from . import grad_mode
from . import anomaly_mode as _anomaly
from .graph import AccumulateGrad, OpBackward
from .recording import edge_of

__all__ = ["backward", "grad", "run_backward"]


def _zeros(meta):
    shape, dtype, dev = meta
    from .. import zeros
    return zeros(shape, dtype=dtype, device=dev)


def _ones_like(t):
    ds = _reg.dispatch_state
    if ds.hook is ds.autograd:
        a = t._data
        if type(a) is _np.ndarray and a.ndim == 0 and _FROM_NP.get(a.dtype) is t._dtype:
            # (a scalar loss's gradient: ones_like's value, a 0-dim array of the dtype)
            return _reg.wrap_array(_np.ones((), a.dtype), t._device)
        # (autograd's call would record nothing: a factory; its eager entry point)
        return _reg.OPS["aten::ones_like"].eager(t)
    from .. import ones_like
    return ones_like(t)


def _make_grads(outputs, grad_outputs):
    grads = []
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if o._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if o._dtype.cplx:
                raise RuntimeError(f"grad can be implicitly created only for real scalar "
                                   f"outputs but got {o._dtype}")
            g = _ones_like(o)
        elif not isinstance(g, Tensor):
            raise TypeError(f"gradient for output {i} must be a Tensor or None, got "
                            f"{type(g).__name__}")
        elif tuple(g._data.shape) != tuple(o._data.shape):
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{g.shape!r} and output[{i}] has a shape of {o.shape!r}.")
        elif g._device is not o._device and "meta" in (g._device.type, o._device.type):
            raise RuntimeError(f"invalid gradient at index {i} - expected device "
                               f"{o._device} but got {g._device}")
        grads.append(g)
    return grads


def _add(a, b):
    return b if a is None else (a if b is None else a + b)


def _plus(a, b):
    """a + b of two gradients reaching one node input: outside create_graph, for two plain
    NumPy Tensors of one dtype and shape laid out C-contiguously, add.Tensor's ufunc on
    the arrays (the same sum, layout and dtype, without the op's entry point; no tracer,
    profiler or autocast hook to see it), else the op."""
    try:
        x, y = a._data, b._data
    except NotImplementedError:
        # a sparse gradient (embedding(sparse=True)): PyTorch's InputBuffer, out of
        # place (outside grad mode new + old where the old one is sparse)
        return b + a if a.is_sparse and not grad_mode.state.enabled else a + b
    if type(x) is _np.ndarray and type(y) is _np.ndarray and x.dtype == y.dtype and \
            x.shape == y.shape and x.flags.c_contiguous and y.flags.c_contiguous and \
            type(a) is Tensor and type(b) is Tensor and not grad_mode.state.enabled and \
            a._dtype is b._dtype and _FROM_NP.get(x.dtype) is a._dtype:
        # (not bfloat16 / float8 gradients, whose arrays carry another dtype: add.Tensor's
        # entry point rounds their sum to the dtype and labels it so)
        ds = _reg.dispatch_state
        if ds.hook is ds.autograd or ds.hook is None:
            return _reg.wrap_array(_np.add(x, y), a._device)
    return a + b


def _collect(roots, want_parents=True):
    """Every node reachable from roots: how many edges point at each, and who points
    (parents: None unless want_parents; only autograd.grad's pruning reads them). Each
    node is walked once: the first edge reaching it counts it in (deps' keys are the
    nodes seen)."""
    deps = {}
    stack = []
    for n, _ in roots:
        if n not in deps:
            deps[n] = 0
            stack.append(n)
    parents = {} if want_parents else None
    while stack:
        n = stack.pop()
        for nxt, _ in n.next_functions:
            if nxt is None:
                continue
            c = deps.get(nxt)
            if c is None:
                deps[nxt] = 1
                stack.append(nxt)
            else:
                deps[nxt] = c + 1
            if parents is not None:
                parents.setdefault(nxt, []).append(n)
    return deps, parents


def _needed(parents, targets):
    """Nodes on a path from the roots to a target (autograd.grad runs only these)."""
    out, stack = set(), list(targets)
    while stack:
        n = stack.pop()
        if n in out:
            continue
        out.add(n)
        stack.extend(parents.get(n, ()))
    return out


def run_backward(outputs, grad_outputs, retain_graph, create_graph, capture=None,
                 accumulate=True):
    """capture: {(node, output_nr): index} of gradients to return instead of accumulate."""
    # each run (a thread's, or one started by a hook inside another) has its own set of
    # handed gradient arrays: another thread's run must not clear or fill it
    prev, prev_valid = _run.handed, _run.checkpoint_valid
    _run.checkpoint_valid = capture is None
    try:
        return _run_backward(outputs, grad_outputs, retain_graph, create_graph, capture,
                             accumulate)
    finally:
        _run.handed, _run.checkpoint_valid = prev, prev_valid


def is_checkpoint_valid():
    """torch.autograd._is_checkpoint_valid: False inside a backward that torch.autograd.grad
    or backward(inputs=...) runs (only the gradients of given inputs are computed there)."""
    return _run.checkpoint_valid


def _run_backward(outputs, grad_outputs, retain_graph, create_graph, capture, accumulate):
    roots = []
    for i, o in enumerate(outputs):
        e = edge_of(o)
        if e is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               f"have a grad_fn")
        roots.append(e)
    grads = _make_grads(outputs, grad_outputs)
    handed = _run.handed = {id(g._data) for g in grads}
    for g in grads:         # (and the arrays they view: never kept as a .grad)
        b = getattr(g._data, "base", None)
        if b is not None:
            handed.add(id(b))
    if capture is None and len(roots) == 1 and type(roots[0][0]) is not AccumulateGrad:
        node = roots[0][0]
        for nxt, _ in node.next_functions:
            if nxt is not None and type(nxt) is not AccumulateGrad:
                break
        else:
            _run_shallow(node, roots[0][1], grads[0], retain_graph, create_graph,
                         accumulate, handed)
            return []
    deps, parents = _collect(roots, capture is not None)
    needed = _needed(parents, {n for n, _ in capture}) if capture is not None else None
    buffers = {}
    for (n, nr), g in zip(roots, grads):
        buf = buffers.get(n)
        if buf is None:
            buf = buffers[n] = [None] * max(len(n.out_meta), 1)
        buf[nr] = _add(buf[nr], g)
    results = [None] * (len(capture) if capture else 0)
    # the ready nodes, the one with the highest sequence number first (PyTorch's
    # ReadyQueue; ties, which PyTorch does not have, in the order they became ready): a
    # heap only while more than one node is ready (a chain's walk never has two). A
    # leaf's node (AccumulateGrad, without pre-hooks, nothing captured) has the largest
    # sequence number: the queue would run it as soon as ready, so it runs right after
    # the node that made it ready, in the order they became ready, without the queue
    ready, tick = [], 0
    push, pop = heapq.heappush, heapq.heappop
    for n in dict.fromkeys([n for n, _ in roots if deps[n] == 0]):
        tick += 1
        push(ready, (-getattr(n, "sequence_nr", 0), tick, n))
    accumulate = accumulate and capture is None
    fast_leaves = capture is None
    # grad mode is create_graph's while the nodes run (set_grad_enabled's save and restore)
    state = grad_mode.state
    prev = (state.enabled, state.inference)
    state.enabled = bool(create_graph)
    anomaly = _anomaly.state
    try:
        while ready:
            node = (ready.pop() if len(ready) == 1 else pop(ready))[2]
            buf = buffers.pop(node, None) or [None] * max(len(node.out_meta), 1)
            refs = getattr(node, "out_refs", None)
            if refs:
                if len(refs) == 1:
                    # (one output, the common case: nothing to do unless it has hooks or
                    # retains grad)
                    t = refs[0]() if refs[0] is not None else None
                    ag = t._ag if t is not None else None
                    if ag is not None and (ag.hooks or ag.retains_grad):
                        _tensor_hooks(node, buf)
                else:
                    _tensor_hooks(node, buf)
            if capture is not None:
                for nr, g in enumerate(buf):
                    k = capture.get((node, nr))
                    if k is not None:
                        results[k] = _add(results[k], g)
            if type(node) is AccumulateGrad and not node._pre_hooks:
                # a leaf's node (the most common one; _run_node's path inlined): no
                # gradient goes further
                if accumulate and buf[0] is not None:
                    _accumulate_leaf(node, buf[0], create_graph, handed)
                continue
            if needed is not None and node not in needed:
                in_grads = [None] * len(node.next_functions)
            elif node._pre_hooks or node._hooks or anomaly.enabled or \
                    len(buf) != 1 or buf[0] is None or not isinstance(node, OpBackward):
                in_grads = _run_node(node, buf, retain_graph, accumulate)
            else:
                # (_run_node of an op's node without hooks, of one output with its
                # gradient, outside anomaly mode, inline)
                in_grads = node.apply(buf)
                if "output_per_input" in node.op.tags:
                    in_grads = [g if b is not None else None for g, b in zip(in_grads, buf)]
                if not retain_graph:
                    node.release()
            leaves = None
            for (nxt, nr), g in zip(node.next_functions, in_grads):
                if nxt is None:
                    continue
                if g is not None:
                    b = buffers.get(nxt)
                    if b is None:
                        b = buffers[nxt] = [None] * max(len(nxt.out_meta), 1)
                    b[nr] = g if b[nr] is None else _plus(b[nr], g)
                d = deps[nxt] = deps[nxt] - 1
                if d == 0:
                    if fast_leaves and type(nxt) is AccumulateGrad and not nxt._pre_hooks:
                        if leaves is None:
                            leaves = [nxt]
                        else:
                            leaves.append(nxt)
                    else:
                        tick += 1
                        if ready:
                            push(ready, (-getattr(nxt, "sequence_nr", 0), tick, nxt))
                        else:
                            ready.append((-getattr(nxt, "sequence_nr", 0), tick, nxt))
            if leaves is not None:
                for leaf_node in leaves:
                    b = buffers.pop(leaf_node, None)
                    if b is not None:
                        if accumulate and b[0] is not None:
                            _accumulate_leaf(leaf_node, b[0], create_graph, handed)
    finally:
        state.enabled, state.inference = prev
    return results


def _run_shallow(node, nr, grad, retain_graph, create_graph, accumulate, handed):
    """The walk of a graph of one root node (from one root tensor, nothing captured) whose
    input gradients all go to leaves or nowhere (a fused group's node, an op of leaves):
    the root, then each leaf's node in the order the ready queue would run them (when its
    last edge is reached; equal sequence numbers), without the dependency count and queue."""
    buf = [None] * max(len(node.out_meta), 1)
    buf[nr] = grad
    state = grad_mode.state
    prev = (state.enabled, state.inference)
    state.enabled = bool(create_graph)
    try:
        if getattr(node, "out_refs", None):
            _tensor_hooks(node, buf)
        in_grads = _run_node(node, buf, retain_graph, accumulate)
        leaves = {}
        for (nxt, _), g in zip(node.next_functions, in_grads):
            if nxt is None:
                continue
            b = leaves.pop(nxt, None)       # (moved last: ready at its last edge)
            if g is not None:
                b = g if b is None else _plus(b, g)
            leaves[nxt] = b
        for leaf_node, g in leaves.items():
            if leaf_node._pre_hooks:
                _run_node(leaf_node, [g], retain_graph, accumulate)
            elif accumulate and g is not None:
                _accumulate_leaf(leaf_node, g, create_graph, handed)
    finally:
        state.enabled, state.inference = prev


def _accumulate_leaf(node, g, create_graph, handed):
    """AccumulateGrad's run without pre-hooks (the walk's most common node)."""
    leaf = node.variable_ref()
    if leaf is None:
        return
    ag = leaf._ag
    if ag is None or not ag.requires_grad:
        # (detach_ since the graph was made: its hooks only, _accumulate_into)
        return _accumulate_into(leaf, g)
    if ag.grad_dtype is not SAME_DTYPE:
        g = _as_grad_dtype(ag, g)
    if ag.grad is None and not create_graph and g._ag is None and not ag.hooks and \
            not ag.post_acc_hooks:
        # (_accumulate_into's first gradient of a leaf without hooks)
        try:
            ga = g._data
        except NotImplementedError:     # (a sparse gradient: _store_grad's own path)
            return _accumulate_into(leaf, g)
        with _grad_lock:
            base = getattr(ga, "base", None)
            if base is not None and base.base is None and base.shape == ga.shape and \
                    base.strides == ga.strides and type(base) is type(ga) and \
                    base.dtype == ga.dtype:
                # (a view of all of a product's array, as laid out: TBackward0's
                # transpose of mm's transposed weight gradient, F.linear's): the array
                ga = base
                g = _reg.wrap_any(ga, g._dtype, g._device)
            if ag.grad is None and getattr(ga, "base", None) is None and \
                    id(ga) not in handed and _obeys_layout(ga, leaf._data):
                ag.grad = g     # made by this backward and handed to no one else: kept
                handed.add(id(ga))
                return
    _accumulate_into(leaf, g)


def _tensor_hooks(node, buf):
    """The gradients of a node's outputs are complete: run the hooks registered on those
    tensors (register_hook) and keep .grad of those that retain_grad()."""
    refs = getattr(node, "out_refs", None)
    if not refs:
        return
    if len(refs) == 1:
        # (one output, the common case: nothing to do unless it has hooks or retains grad)
        t = refs[0]() if refs[0] is not None else None
        ag = t._ag if t is not None else None
        if ag is None or (not ag.hooks and not ag.retains_grad):
            return
    for nr, ref in enumerate(refs):
        t = ref() if ref is not None else None
        if t is None or t._ag is None or t._ag.grad_fn is not node or buf[nr] is None:
            continue
        ag = t._ag
        for h in list((ag.hooks or {}).values()):
            r = h(buf[nr])
            if r is not None:
                buf[nr] = _hook_result(h, buf[nr], r)
        if ag.retains_grad:
            g = buf[nr]
            try:
                ga = g._data
            except NotImplementedError:
                # (a sparse gradient: PyTorch's retain_grad reads its data pointer)
                raise RuntimeError("Cannot access data pointer of Tensor that doesn't have "
                                   "storage") from None
            if ag.grad is None and not _c_strided(ga):
                # PyTorch's retain_grad stores grad.clone(contiguous_format): an
                # expanded or permuted gradient is copied C-contiguous
                from .. import contiguous_format
                g = g.clone(memory_format=contiguous_format)
            g = g if grad_mode.state.enabled else _reg.wrap_any(g._data, g._dtype, g._device)
            with _grad_lock:
                ag.grad = g if ag.grad is None else ag.grad + g
                _run.handed.add(id(ag.grad._data))


def _hook_result(hook, g, r):
    """r, what a tensor hook returned for gradient g, checked as PyTorch's
    check_variable_result: a Tensor of g's type, device and size."""
    if not isinstance(r, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
    if r._dtype is not g._dtype or r._device != g._device or r.layout is not g.layout:
        name = getattr(hook, "__name__", type(hook).__name__)
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {g.type()} "
                           f"got {r.type()})")
    try:
        changed = r._data.shape != g._data.shape
    except NotImplementedError:     # (sparse gradients: embedding(sparse=True)'s)
        changed = tuple(r.shape) != tuple(g.shape)
    if changed:
        name = getattr(hook, "__name__", type(hook).__name__)
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    return r


def _hook_tuple(hook, prev, r):
    """r, what a node's hook (or pre-hook) returned for the gradients prev, checked as
    PyTorch's check_result: a tuple of as many values, each None or a Tensor that fits."""
    if not isinstance(r, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(r).__name__}'")
    if len(r) != len(prev):
        name = getattr(hook, "__name__", type(hook).__name__)
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got "
                           f"{len(r)}, but expected {len(prev)})")
    for g, x in zip(prev, r):
        if x is None:
            continue        # (a None replaces the gradient: it goes nowhere)
        if g is None:
            if not isinstance(x, Tensor):
                raise TypeError(f"expected Variable, but hook returned "
                                f"'{type(x).__name__}'")
            raise RuntimeError("can't replace a None gradient with a non-None value")
        _hook_result(hook, g, x)
    return list(r)


def _run_node(node, buf, retain_graph, accumulate):
    if node._pre_hooks:
        for h in list(node._pre_hooks.values()):
            r = h(tuple(buf))
            if r is not None:
                buf = _hook_tuple(h, buf, r)
    if type(node) is AccumulateGrad or isinstance(node, AccumulateGrad):
        if accumulate:
            _accumulate(node, buf[0])
        return []
    if len(buf) == 1 and buf[0] is not None:
        full = list(buf)        # (one output with its gradient, the common case)
    else:
        for g in buf:
            if g is not None:
                break
        else:
            return [None] * len(node.next_functions)
        # outputs that got no gradient count as zeros for the derivative (a custom Function
        # that set_materialize_grads(False), or a fused group's node, which tells which of
        # its inputs then get none, takes them as None)
        full = [g if g is not None or m is None else _zeros(m)
                for g, m in zip(buf, node.out_meta)] if node.materialize_grads \
            else list(buf)
    # hooks and retain_grad of the non-leaf tensors this node produced ran at the edge
    in_grads = (node.apply(full) if not _anomaly.state.enabled
                else _anomaly.run_checked(node, full))
    if isinstance(node, OpBackward) and "output_per_input" in node.op.tags:
        # broadcast_tensors / meshgrid: input i gets only output i's gradient, none when
        # that output got none (PyTorch's separate expand per input leaves its .grad None)
        in_grads = [g if b is not None else None for g, b in zip(in_grads, buf)]
    if node._hooks:
        for h in list(node._hooks.values()):
            r = h(tuple(in_grads), tuple(full))
            if r is not None:
                in_grads = _hook_tuple(h, in_grads, r)
    if not retain_graph:
        node.release()
    return in_grads


def _accumulate(node, g):
    leaf = node.variable
    if leaf is None or g is None:
        return
    _accumulate_into(leaf, g)


def _as_grad_dtype(ag, g):
    """g in the leaf's grad_dtype when one is set (None: any dtype)."""
    dt = ag.grad_dtype
    if dt is None or dt is SAME_DTYPE or g._dtype is dt:
        return g
    return g.to(dt)


def _accumulate_into(leaf, g):
    ag = leaf._ag
    if ag is None:
        return
    if ag.grad_dtype is not SAME_DTYPE:
        g = _as_grad_dtype(ag, g)
    if ag.hooks and ag.grad_fn is None:
        for h in list(ag.hooks.values()):
            r = h(g)
            if r is not None:
                g = _hook_result(h, g, r)
    if not ag.requires_grad:
        # a leaf that no longer requires grad (x.detach_() after a view of x or an op
        # on it joined the graph): PyTorch's AccumulateGrad::apply returns without
        # touching .grad (nor running the post-accumulate hooks); gpujit stored the
        # gradient (program fuzz seed 32010*100003+2301+33 of
        # test_program_fuzz_s23)
        return
    if not grad_mode.state.enabled:
        g = g.detach() if g._ag is not None else g
    with _grad_lock:        # backward in several threads into one leaf, as PyTorch's
        _store_grad(ag, leaf, g)    # AccumulateGrad: each sum reaches .grad
    if ag.post_acc_hooks:
        from ..ops.tensor_flags import run_post_accumulate_hooks
        run_post_accumulate_hooks(leaf)


def _store_grad(ag, leaf, g):
    try:
        g._data
        if ag.grad is not None:
            ag.grad._data
    except NotImplementedError:
        # a sparse gradient or .grad (embedding(sparse=True)): PyTorch's AccumulateGrad
        # of sparse tensors
        from .._sparse_coo import sparse_grad_accumulate
        ag.grad = sparse_grad_accumulate(ag.grad, g, grad_mode.state.enabled)
        return
    if ag.grad is None:
        if g._ag is not None and g._ag.requires_grad:
            ag.grad = g if _obeys_layout(g._data, leaf._data) else _copy_as(g, leaf)
        elif _fresh(g) and _obeys_layout(g._data, leaf._data):
            ag.grad = g          # made by this backward and handed to no one else: keep it
        else:
            # shared (a caller's gradient, a view, or given to another leaf too): copy, so
            # in-place updates of .grad (optimizers, clipping) never reach anything else;
            # laid out as PyTorch's AccumulateGrad lays it out (clone_obey_contract)
            ag.grad = _reg.wrap_any(_layout_copy(g, leaf._data), g._dtype, g._device)
    elif not grad_mode.state.enabled:
        # PyTorch's AccumulateGrad: without create_graph the new gradient is added into
        # .grad in place, so a reference to p.grad (kept by user code, zeroed by
        # zero_grad(set_to_none=False)) sees every backward
        _add_into(ag.grad, g)
    else:
        ag.grad = ag.grad + g
    _run.handed.add(id(ag.grad._data))


def _add_into(acc, g):
    """acc.add_(g) in no grad mode: the ufunc writing into acc's array where add_'s entry
    point would compute the same sum and copy it in (one dtype, that of the arrays: not
    bfloat16's float32 carriers, whose sum add_ rounds; one shape, one device,
    acc's array owning its memory and g's no view of it, no integer carrier of bfloat16 /
    float8 bits: no cast, broadcast, overlap or read-only view to refuse;
    no tracer, profiler or autocast hook to see the call), else add_ itself."""
    a, b = acc._data, g._data
    ds = _reg.dispatch_state
    if a.dtype == b.dtype and a.dtype.kind in "fc" and a.shape == b.shape and \
            acc._device is g._device and acc._dtype is g._dtype and \
            _FROM_NP.get(a.dtype) is acc._dtype and \
            a.base is None and b.base is not a and acc._base is None and \
            (ds.hook is ds.autograd or ds.hook is None):
        if type(a) is _np.ndarray:
            if a.flags.writeable:           # (CuPy's arrays have no such flag)
                _np.add(a, b, out=a)
                acc._vc[0] += 1
                return
        else:
            _reg._xp_for(acc._device).add(a, b, out=a)
            acc._vc[0] += 1
            return
    acc.add_(g)


def _c_strided(a):
    return a.ndim < 2 and (a.ndim == 0 or a.size < 2 or a.strides[0] == a.itemsize) \
        or a.flags.c_contiguous and 0 not in a.strides


def _elem_strides(a):
    return tuple(s // a.itemsize for s in a.strides)


def _dense_leaf(la):
    """PyTorch's is_non_overlapping_and_dense for leaf array la (of size > 0)."""
    lst = _elem_strides(la)
    return min(lst) >= 0 and _mf._dense(la.shape, lst)


def _obeys_layout(ga, la):
    """PyTorch's gradient layout contract (utils::obeys_layout_contract): the gradient of a
    non-overlapping and dense leaf has the leaf's strides (those of its size-1 dims aside,
    but for 0), of any other leaf C-contiguous strides."""
    if ga.ndim == 0 or ga.size == 0:
        return True
    if ga.strides == la.strides and la.flags.c_contiguous and 0 not in la.strides:
        return True         # (the common case: both C-contiguous, dense)
    if _dense_leaf(la):
        for n, gs, ls in zip(ga.shape, _elem_strides(ga), _elem_strides(la)):
            if (gs != ls) if n != 1 else gs == 0:
                return False
        return True
    return ga.flags.c_contiguous


def _layout_copy(g, la):
    """A copy of gradient g's array laid out as PyTorch's clone_obey_contract lays it out:
    with leaf array la's strides when la is non-overlapping and dense, else C-contiguous."""
    ga = g._data
    if ga.ndim == 0 or ga.size == 0:
        return ga.copy()
    if la.flags.c_contiguous:
        # a C-contiguous leaf (dense): its strides are the C-order copy's, unless a size-1
        # dim has an odd stride (then laid out below)
        out = ga.copy()
        if out.strides == la.strides:
            return out
    from ..device import xp_for
    xp = xp_for(g._device)
    if _dense_leaf(la):
        out = _mf.empty_strided(xp, ga.shape, ga.dtype, _elem_strides(la))
    else:
        out = xp.empty(ga.shape, ga.dtype)
    out[...] = ga
    return out


def _copy_as(g, leaf):
    """create_graph: g copied into the leaf's layout, differentiably (PyTorch's copy_ into
    new_empty_strided, or clone(contiguous_format)): recorded ops only, the leaf's dims
    permuted outermost first, cloned contiguous and permuted back."""
    from .. import contiguous_format
    la = leaf._data
    if not _dense_leaf(la) or la.ndim == 0:
        return g.clone(memory_format=contiguous_format)
    vs = _elem_strides(la)
    perm = sorted(range(la.ndim), key=lambda d: -vs[d])
    inv = sorted(range(len(perm)), key=lambda k: perm[k])
    return g.permute(perm).clone(memory_format=contiguous_format).permute(inv)


class _Run(threading.local):
    """`handed`: the arrays of gradients already stored in a .grad (or given as root
    gradients) during this thread's running backward: a second leaf receiving the same
    array gets a copy."""

    def __init__(self):
        self.handed = set()
        # False while the running backward is a grad() / backward(inputs=) (PyTorch's
        # graph task with exec_info): a reentrant checkpoint refuses to recompute in one
        self.checkpoint_valid = True


_run = _Run()
_grad_lock = threading.RLock()      # held while a .grad is read and replaced or added to


def _fresh(g):
    a = g._data
    return getattr(a, "base", None) is None and id(a) not in _run.handed


CREATE_GRAPH_BACKWARD = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak.")
_warned_create_graph = [False]


def _warn_create_graph_backward():
    """PyTorch's engine warns (TORCH_WARN_ONCE: once per process unless
    set_warn_always(True)) when backward() accumulates a graph into .grad."""
    from ..runtime_flags import is_warn_always_enabled
    if not _warned_create_graph[0] or is_warn_always_enabled():
        _warned_create_graph[0] = True
        from .._frames import warn_at_user_frame
        warn_at_user_frame(CREATE_GRAPH_BACKWARD)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """torch.autograd.backward: accumulate d(sum of tensors·grad_tensors)/d(leaf) into
    every leaf's .grad (or only into `inputs`' when given)."""
    from .function import FUNCTORCH
    if FUNCTORCH[0] or FUNCTORCH[1] or FUNCTORCH[2]:
        # (PyTorch's engine: accumulating into .grad inside torch.func transforms)
        raise RuntimeError("backward() called inside a functorch transform. This is not "
                           "supported, please use functorch.grad or functorch.vjp instead or "
                           "call backward() outside of functorch transforms.")
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        _warn_create_graph_backward()
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        got = grad(tensors, inputs, grad_tensors, retain_graph, create_graph,
                   allow_unused=True)
        prev, _run.handed = _run.handed, set()
        try:
            for t, g in zip(inputs, got):
                if g is not None:
                    _accumulate_into(t, g)
        finally:
            _run.handed = prev
        return None
    run_backward(tensors, list(grad_tensors), retain_graph, create_graph)
    return None


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad: the gradients of outputs with respect to inputs (leaves' .grad
    is left alone)."""
    single = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if retain_graph is None:
        retain_graph = create_graph
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to "
                      "True). To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    for i, o in enumerate(outputs):
        # (PyTorch's engine looks at the outputs before the inputs)
        if isinstance(o, Tensor) and edge_of(o) is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               f"have a grad_fn")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__}")
        if edge_of(t) is None:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if is_grads_batched:
        return _grads_batched(outputs, inputs, list(grad_outputs), retain_graph,
                              create_graph, allow_unused, materialize_grads)
    capture = {}
    for t in inputs:
        e = edge_of(t)
        if e not in capture:
            # dense: run_backward returns one result per distinct edge (an input given
            # twice gets the one gradient twice)
            capture[e] = len(capture)
    res = run_backward(outputs, list(grad_outputs), retain_graph, create_graph, capture)
    out = []
    for i, t in enumerate(inputs):
        k = capture.get(edge_of(t))
        g = res[k] if k is not None else None
        if g is None:
            if materialize_grads:
                from .. import zeros_like
                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(_unused(i))
        out.append(g)
    return tuple(out)


def _unused(i):
    return (f"The differentiated Tensor at index {i} appears to not have been used in the "
            f"graph. Set allow_unused=True if this is the desired behavior.")


def _grads_batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                   materialize_grads):
    """grad(..., is_grads_batched=True): the first dim of each grad_output is a batch of
    vectors; PyTorch vmaps the backward over it, gpujit runs one backward per vector (the
    graph retained between them) and stacks each input's gradients."""
    from .. import ones_like, stack, zeros_like
    sizes = []
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if o._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = grad_outputs[i] = ones_like(o)
            if g.dim() == 0:
                raise ValueError("vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some "
                                 "input, but that input is a Tensor of dimensionality 0 so "
                                 "expected in_dim to satisfy 0 <= in_dim < 0.")
        elif not isinstance(g, Tensor):
            raise TypeError(f"gradient for output {i} must be a Tensor or None, got "
                            f"{type(g).__name__}")
        first = g[0]            # (a 0-dim or empty batch raises IndexError, as PyTorch)
        if tuple(first._data.shape) != tuple(o._data.shape):
            raise RuntimeError(
                f"If `is_grads_batched=True`, we interpret the first dimension of each "
                f"grad_output as the batch dimension. The sizes of the remaining dimensions "
                f"are expected to match the shape of corresponding output, but a mismatch "
                f"was detected: grad_output[{i}] has a shape of {first.shape} and "
                f"output[{i}] has a shape of {o.shape}. If you only want some tensors in "
                f"`grad_output` to be considered batched, consider using vmap.")
        sizes.append(g._data.shape[0])
    if len(set(sizes)) > 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    n = sizes[0] if sizes else 0
    per = [[] for _ in inputs]
    for k in range(n):
        got = grad(outputs, inputs, [g[k] for g in grad_outputs],
                   retain_graph=retain_graph or k < n - 1, create_graph=create_graph,
                   allow_unused=True)
        for slot, g in zip(per, got):
            slot.append(g)
    out = []
    for i, (t, gs) in enumerate(zip(inputs, per)):
        if all(g is None for g in gs):
            if materialize_grads:
                out.append(zeros_like(t))       # (unbatched, as PyTorch's)
                continue
            if not allow_unused:
                raise RuntimeError(_unused(i))
            out.append(None)
            continue
        out.append(stack([g if g is not None else zeros_like(t) for g in gs]))
    return tuple(out)
