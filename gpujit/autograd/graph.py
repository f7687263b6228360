"""The backward graph: a Node per recorded op call (its `grad_fn`), AccumulateGrad per leaf.

A node holds what its derivative needs (saved tensors with their versions), the
`next_functions` its input gradients flow to, and, per output, what a missing gradient
should be (zeros of that shape and dtype)."""
from __future__ import annotations

import itertools
import re
import weakref

import numpy as _np
from collections import OrderedDict
from types import MappingProxyType

from .. import dtypes as _dt
from ..ops.node_names import node_name
from ..ops import registry as _reg
from ..ops.registry import InferenceVersion
from ..tensor import Tensor, _AutogradMeta
from .grad_mode import state as _grad_state
from . import anomaly_mode as _anomaly

__all__ = ["Node", "OpBackward", "AccumulateGrad", "SavedTensor", "backward_name", "node_class",
           "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "increment_version"]

FREED = ("Trying to backward through the graph a second time (or directly access saved "
         "tensors after they have already been freed). Saved intermediate values of the "
         "graph are freed when you call .backward() or autograd.grad(). Specify "
         "retain_graph=True if you need to backward through the graph a second time or if "
         "you need to access saved tensors after calling backward.")


def backward_name(op, bound=None, result=None) -> str:
    """PyTorch's node names: aten::mul.Tensor -> MulBackward0, aten::log_softmax ->
    LogSoftmaxBackward0, aten::sum.dim_IntList -> SumBackward1, F.linear of a matrix ->
    AddmmBackward0 (ops/node_names.py); an in-place variant shares its op's name."""
    return node_name(op, bound or {}, result)


_NODE_CLASSES: dict = {}
# (a node's name as the version error says it: ExpBackward0 -> Exp, PowBackward1 -> Pow1)
_BACKWARD_SUFFIX = re.compile(r"Backward(?:0$|(?=\d+$)|$)")
_QUALIFIED_NAMES = frozenset({"CopyBackwards", "NotImplemented", "AccumulateGrad",
                              "Identity"})


def node_class(name: str) -> type:
    """The OpBackward subclass named as PyTorch's node class (`type(y.grad_fn).__name__`
    is "MulBackward0", as torchviz and user code read it)."""
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        cls = _NODE_CLASSES[name] = type(name, (OpBackward,), {"__module__": __name__})
    return cls


DETACHED_INPLACE = ("Trying to use a saved tensor that has been detached in-place, i.e. with "
                    ".detach_().This is not supported, please use out-of-place `.detach()` "
                    "instead")


class SavedTensor:
    """A tensor a derivative needs, with its version when saved: using it after an
    in-place change raises PyTorch's error instead of giving a wrong gradient.

    Inside saved_tensors_hooks(pack, unpack) the tensor is not kept: pack(tensor) is, and
    unpack(packed) gives the tensor back when the backward reads it (save_on_cpu)."""
    __slots__ = ("tensor", "version", "_ref", "node_name", "index", "unpack_hook", "edge",
                 "had_grad_fn", "out_of")

    def __init__(self, t, node_name, index, is_input=False):
        if isinstance(t._vc, InferenceVersion):     # (a tensor made in inference mode)
            from .inference import SAVE_ERROR
            raise RuntimeError(SAVE_ERROR)
        self.version = t._vc[0]
        self.node_name = node_name
        self.index = index
        self.out_of = None
        hooks = _grad_state.saved_hooks
        if not hooks or hooks[-1][0] is None:      # none, or disable_saved_tensors_hooks
            self.tensor = t
            self.unpack_hook = None
            # an op's input with a grad_fn: PyTorch's SavedVariable keeps the tensor itself
            # and reads its grad_fn at unpack, which refuses one cut by detach_() since
            # (a node's own output, a custom Function's tensors, a fused graph's inputs,
            # pack hooks: unpacked knowing their node, no such error)
            self.had_grad_fn = (is_input and t._ag is not None
                                and t._ag.grad_fn is not None)
            return
        self.had_grad_fn = False
        self._ref = weakref.ref(t)      # (the tensor itself is not kept: pack's result is)
        pack, unpack = hooks[-1]
        # where a gradient of the unpacked value flows under create_graph (weakly: a node
        # saving its own output would otherwise hold itself)
        ag = t._ag
        if ag is not None and ag.requires_grad:
            from .recording import edge_of
            node, nr = edge_of(t)
            self.edge = (weakref.ref(node), nr)
        else:
            self.edge = None
        self.unpack_hook = unpack
        prev = _grad_state.enabled
        _grad_state.enabled = False         # as PyTorch: pack records nothing
        try:
            self.tensor = pack(t)
        finally:
            _grad_state.enabled = prev

    def as_output(self, node, nr, ref=None):
        """The saved tensor is output nr of node, the node that saves it: kept without its
        grad_fn, as PyTorch's SavedVariable keeps an output (is_output), so that the graph
        is no reference cycle (output -> grad_fn -> saved output) and is freed when its
        last reference goes, not by the garbage collector. What is kept is a Tensor over
        the same memory and version counter; unpack gives the output itself while it
        lives, else that Tensor (with grad_fn node and requires_grad in grad mode, as
        PyTorch re-attaches the node on unpack). Saved through pack hooks: unchanged
        (pack's result is kept, the tensor only weakly)."""
        if self.unpack_hook is not None:
            return self
        t = self.tensor
        self.tensor = _shadow(t)
        self._ref = ref if ref is not None else weakref.ref(t)
        self.out_of = weakref.ref(node)
        self.index = nr
        self.had_grad_fn = False
        return self

    def ref(self):
        """The saved tensor while it lives (a weak reference's call: without pack hooks
        the SavedTensor holds it, so no weak reference is made)."""
        if self.unpack_hook is None and self.out_of is None:
            return self.tensor
        return self._ref()

    def unpack(self):
        if self.unpack_hook is not None:
            return self._unpack_hooked()
        if self.out_of is not None:
            return self._unpack_output()
        t = self.tensor
        if self.had_grad_fn and (t._ag is None or t._ag.grad_fn is None):
            raise RuntimeError(DETACHED_INPLACE)
        if t._vc[0] != self.version:
            self._modified(t)
        return t

    def _unpack_output(self):
        orig = self._ref()
        t = self.tensor
        if t._vc[0] != self.version:
            self._modified(orig if orig is not None else t)
        node = self.out_of()
        if orig is not None:
            ag = orig._ag
            if ag is not None and ag.grad_fn is node and node is not None:
                return orig
        if node is None or not _grad_state.enabled:
            return t
        # (create_graph: the output again, its gradient flowing to the node that saved it)
        r = _shadow(t)
        from . import forward_ad
        if forward_ad._TANGENTS:        # (and its forward-mode tangent, as PyTorch's)
            tangent = forward_ad._tangent_of(t)
            if tangent is not None:
                forward_ad._set_tangent(r, tangent)
        ag = r._ag = _AutogradMeta()
        ag.requires_grad = True
        ag.grad_fn = node
        ag.output_nr = self.index
        return r

    def _modified(self, t):
        shape = ", ".join(str(s) for s in t._data.shape)     # (torch 2.13: [2, 3], [])
        # what torch 2.13 names: the node that saved the tensor where it saved its own
        # output (ExpBackward0 of y = x.exp(), also after y.mul_(2)), else the tensor's
        # grad_fn now (the in-place op's node), nothing for a leaf; the node's name
        # without its Backward<n> suffix ('Exp', 'Mul', a custom Function's 'F';
        # 'torch::autograd::CopySlices' as it is)
        node, nr = None, 0
        if self.out_of is not None and self.out_of() is not None:
            node, nr = self.out_of(), self.index
        elif t._ag is not None and t._ag.grad_fn is not None:
            node, nr = t._ag.grad_fn, t._ag.output_nr
        which = (f", which is output {nr} of {_BACKWARD_SUFFIX.sub('', node.name())},"
                 if node is not None else "")
        hint = (" Hint: the backtrace further above shows the operation that failed to "
                "compute its gradient. The variable in question was changed in there or "
                "anywhere later. Good luck!" if _anomaly.is_anomaly_enabled() else
                " Hint: enable anomaly detection to find the operation that failed to "
                "compute its gradient, with torch.autograd.set_detect_anomaly(True, "
                "check_nan=False).")
        raise RuntimeError(
            f"one of the variables needed for gradient computation has been modified by "
            f"an inplace operation: [gpujit.{t._dtype.short_name}Tensor [{shape}]]{which}"
            f" is at version {t._vc[0]}; "
            f"expected version {self.version} instead.{hint}")

    def _unpack_hooked(self):
        orig = self._ref()
        if orig is not None and orig._vc[0] != self.version:
            self._modified(orig)
        t = self.unpack_hook(self.tensor)
        if not isinstance(t, Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor "
                            f"but got result of type {type(t).__name__}")
        if self.edge is not None and _grad_state.enabled:
            # create_graph: the unpacked value stands for the saved one in the graph
            node = self.edge[0]()
            if node is not None:
                from .recording import mark_result
                t = _reg_wrap(t)
                mark_result(t, node, self.edge[1])    # (an AccumulateGrad: the leaf's)
        return t


class SavedOutputs:
    """An op's several outputs saved for its backward (its derivative's `result`): each
    output a SavedTensor, version-checked when the derivative reads it, so that writing
    an output in place before backward raises where the formula reads that output (as
    PyTorch saves and checks the outputs its formula names: eigh's eigenvalues and
    vectors, sort's indices and not its values)."""
    __slots__ = ("items",)

    def __init__(self, result, node_name):
        self.items = tuple(SavedTensor(r, node_name, i) if isinstance(r, Tensor) else r
                           for i, r in enumerate(result))

    def view(self):
        return _OutputsView(self.items)

    def as_output(self, node):
        """Each saved output of node kept without its grad_fn (SavedTensor.as_output)."""
        refs = getattr(node, "out_refs", None) or ()
        for i, s in enumerate(self.items):
            if type(s) is SavedTensor and s.unpack_hook is None:
                t = s.tensor
                if t._ag is not None and t._ag.grad_fn is node:
                    s.as_output(node, t._ag.output_nr,
                                refs[i] if i < len(refs) else None)
        return self


class _OutputsView(tuple):
    """The outputs as the derivative sees them: a tuple whose items are unpacked (checked)
    as they are read."""
    __slots__ = ()

    def __getitem__(self, i):
        v = tuple.__getitem__(self, i)
        if isinstance(i, slice):
            return tuple(x.unpack() if isinstance(x, SavedTensor) else x for x in v)
        return v.unpack() if isinstance(v, SavedTensor) else v

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


def _shadow(t):
    """A Tensor over t's memory, version counter and view base, without autograd state."""
    r = _new(Tensor)
    r._data = t._data
    r._dtype = t._dtype
    r._device = t._device
    r._vc = t._vc
    r._ag = None
    base = r._base = getattr(t, "_base", None)
    # (flags few tensors carry: reading an unset slot raises inside getattr, ~0.2 us each,
    # so only where one can be set: _nograd_view on a view (registry.wrap_view,
    # runtime.support give it a _base), _zero_strides on a tensor without elements)
    v = getattr(t, "_detached", None)
    if v is not None:
        r._detached = v
    if base is not None:
        v = getattr(t, "_nograd_view", None)
        if v is not None:
            r._nograd_view = v
    if not t._data.size:
        v = getattr(t, "_zero_strides", None)
        if v is not None:
            r._zero_strides = v
    return r


def _reg_wrap(t):
    from ..ops.registry import wrap_any
    return wrap_any(t._data, t._dtype, t._device)


# PyTorch's sequence numbers: each node gets the next one when it is made; among the nodes
# ready to run, the backward runs the one made last first (its ReadyQueue), so gradients
# summed from several paths add up in PyTorch's order (their rounding, the layout of
# the sum); AccumulateGrad's is the largest (UINT64_MAX): a leaf's runs as soon as ready
_SEQUENCE = itertools.count()
_NO_HOOKS = MappingProxyType({})
_LAST_SEQUENCE_NR = 2 ** 64 - 1


class Node:
    """A backward function. `next_functions`: ((node, output_nr) or (None, 0)) per input."""
    materialize_grads = True    # an output's missing gradient reaches apply as zeros

    # handle id -> hook (torch.utils.hooks.RemovableHandle): an instance's own OrderedDict
    # from its first register_hook / register_prehook on (a node made per op call and run
    # once mostly has none: the empty class-level mapping saves two dicts per node)
    _hooks = _NO_HOOKS
    _pre_hooks = _NO_HOOKS
    next_functions = ()
    released = False
    out_meta = ()          # per output: (shape, dtype, device) for zero-filling

    def __init__(self):
        self.sequence_nr = next(_SEQUENCE)
        if _anomaly.state.enabled:
            self.metadata["traceback_"] = _anomaly.forward_traceback()

    @property
    def metadata(self):
        """The node's dict for user data (made on first use)."""
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self._metadata = {}
        return d

    def _sequence_nr(self) -> int:
        return self.sequence_nr

    def name(self) -> str:
        n = type(self).__name__
        # (PyTorch's hand-written nodes name themselves with their C++ namespace)
        return "torch::autograd::" + n if n in _QUALIFIED_NAMES else n

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) after the node ran (may return new grad_inputs)."""
        if "_hooks" not in self.__dict__:
            self._hooks = OrderedDict()
        return _add_hook(self._hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) before the node runs (may return new grad_outputs)."""
        if "_pre_hooks" not in self.__dict__:
            self._pre_hooks = OrderedDict()
        return _add_hook(self._pre_hooks, fn)

    def release(self):
        self.released = True

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    def __call__(self, *grads):
        return tuple(self.apply(list(grads)))   # (PyTorch's node call gives a tuple)


def _add_hook(hooks, fn):
    from ..utils.hooks import RemovableHandle
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle


_NUMBERS = frozenset({int, float, bool, complex})
_TENSOR_PARAMS: dict = {}


def _tensor_params(op):
    r = _TENSOR_PARAMS.get(op)
    if r is None:
        r = _TENSOR_PARAMS[op] = frozenset(
            a.name for a in op.schema.arguments if a.type.base == "Tensor" and not a.type.is_list)
    return r


# PyTorch's names of what gpujit's derivatives save under other names
_SAVED_ALIASES = {"self_sym_sizes": "self_shape"}


class OpBackward(Node):
    """The node of one registry op call. skip: positions among the derivative's `wrt`
    that have no edge (Python number operands of a Scalar overload: rsub(2, x) has one
    next function, as in PyTorch); their gradients are dropped."""
    skip = None

    def __init__(self, op, deriv, saved, inputs_meta, next_functions, out_meta):
        self.sequence_nr = next(_SEQUENCE)      # (Node.__init__'s, inline)
        if _anomaly.state.enabled:
            self.metadata["traceback_"] = _anomaly.forward_traceback()
        self.op = op
        self.deriv = deriv
        self.saved = saved              # name -> SavedTensor / list / Python value
        self.inputs_meta = inputs_meta  # per wrt: (shape, dtype) or None
        self.next_functions = next_functions
        self.out_meta = out_meta

    def __getattr__(self, name):
        # what the node saved, as PyTorch's generated nodes show it: y.grad_fn._saved_result,
        # _saved_self, _saved_other, _saved_dim, _saved_self_sym_sizes ...
        if name.startswith("_saved_"):
            key = _SAVED_ALIASES.get(name[7:], name[7:])
            saved = self.__dict__.get("saved")
            if saved is None and self.released:
                raise RuntimeError(FREED)
            if saved is not None and key in saved and key != "needs_grad":
                v = saved[key]
                if isinstance(v, SavedTensor):
                    return v.unpack()
                if isinstance(v, list):
                    return [x.unpack() if isinstance(x, SavedTensor) else x for x in v]
                if not isinstance(v, SavedOutputs):
                    return v
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __dir__(self):
        names = list(super().__dir__())
        saved = self.__dict__.get("saved") or {}
        back = {v: k for k, v in _SAVED_ALIASES.items()}
        names += ["_saved_" + back.get(k, k) for k, v in saved.items()
                  if k != "needs_grad" and v is not None and not isinstance(v, SavedOutputs)]
        return names

    def release(self):
        # a node that saved no tensor (a dtype cast: ToCopyBackward0) can run again, as in
        # PyTorch (autocast's cached weight cast serves every backward of its region)
        # (a stash, dropout's mask, counts as a saved tensor: PyTorch saves the mask)
        saved = self.saved
        if not saved:
            return
        for k, v in saved.items():
            if type(v) is SavedTensor or isinstance(v, (SavedTensor, SavedOutputs)) or (
                    isinstance(v, list) and any(isinstance(x, SavedTensor) for x in v)) \
                    or (k == "stash" and v is not None) or (
                        type(v) in _NUMBERS and k in _tensor_params(self.op)):
                # (a Python number given for a Tensor parameter is a wrapped-number tensor
                # PyTorch saves as any other: (x * 2).sum() backward twice is its error)
                self.released = True
                self.saved = None
                return

    @property
    def materialize_grads(self):
        # (a derivative that names grads_defined gets the missing gradients as None here,
        # and apply tells it which they were)
        return "grads_defined" not in self.deriv.params

    def apply(self, grads):
        if self.released:
            raise RuntimeError(FREED)
        defined = None
        if "grads_defined" in self.deriv.params:
            defined = tuple([g is not None for g in grads])
            if False in defined:
                from .. import zeros
                grads = [g if g is not None or m is None else
                         zeros(m[0], dtype=m[1], device=m[2])
                         for g, m in zip(grads, self.out_meta)]
        if self.deriv.raw is not None and not _grad_state.enabled and \
                grads[0]._dtype not in self.deriv.raw_skip:
            ds = _reg.dispatch_state
            if ds.hook is ds.autograd and ds.hook is not None:
                # a backward that records nothing, seen by no tracer, profiler or
                # autocast: the formula on the arrays (the same ufuncs and GEMMs)
                flat = self._apply_raw(grads[0])
                if flat is not None:
                    return flat
        kw = {}
        for k, v in self.saved.items():
            if isinstance(v, SavedTensor):
                v = v.unpack()
            elif isinstance(v, SavedOutputs):
                v = v.view()
            elif isinstance(v, list) and v and (isinstance(v[0], SavedTensor) or
                                                v[0] is None):
                v = [s.unpack() if isinstance(s, SavedTensor) else s for s in v]
            kw[k] = v
        if defined is not None:
            kw["grads_defined"] = defined
        listed = "_metadata" in self.__dict__ and self._metadata.get("list_output")
        g = grads[0] if len(self.out_meta) == 1 and not listed \
            else (list(grads) if listed else tuple(grads))
        out = self.deriv.fn(g, **kw)
        if len(self.deriv.wrt) == 1:
            out = (out,)
        elif not isinstance(out, (tuple, list)) or len(out) != len(self.deriv.wrt):
            raise RuntimeError(f"the derivative of {self.op.name} returned "
                               f"{type(out).__name__}; expected {len(self.deriv.wrt)} "
                               f"gradients (for {', '.join(self.deriv.wrt)})")
        if self.skip is not None:
            out = [g for k, g in enumerate(out) if k not in self.skip]
        flat = []
        for g_in, meta in zip(out, self.inputs_meta):
            if meta is not None and meta[0] == "list":
                items = list(g_in) if g_in is not None else [None] * len(meta[1])
                flat.extend(fit_gradient(x, m) for x, m in zip(items, meta[1]))
            else:
                flat.append(fit_gradient(g_in, meta))
        return flat


    def _apply_raw(self, grad):
        """Derivative.raw's run: the gradients, or None where fn must run (a saved
        tensor behind unpack hooks or in a list, raw's NotImplemented)."""
        kw = {}
        for k, v in self.saved.items():
            tv = type(v)
            if tv is SavedTensor:
                if v.unpack_hook is not None:
                    return None     # (unpack runs user code: once, in fn's path)
                if v.out_of is None and not v.had_grad_fn:
                    # (unpack's common case inline: an input kept as it is)
                    t = v.tensor
                    if t._vc[0] != v.version:
                        v._modified(t)
                    v = t._data
                else:
                    v = v.unpack()._data
            elif v is not None and tv not in _PLAIN_SAVED and (
                    isinstance(v, SavedOutputs) or (isinstance(v, list) and v and (
                        isinstance(v[0], SavedTensor) or v[0] is None))):
                return None     # (a list of tensors; a list of ints, a shape, is passed)
            kw[k] = v
        ga = grad._data
        dev = grad._device
        if type(ga) is _np.ndarray:
            xp = _np
        elif dev.type == "meta":
            return None     # (a meta gradient: fn's path, through the ops' meta rules)
        else:
            xp = _reg._xp_for(dev)
        out = self.deriv.raw(xp, ga, **kw)
        if out is NotImplemented:
            return None
        if len(self.deriv.wrt) == 1:
            out = (out,)
        if self.skip is not None:
            out = [g for k, g in enumerate(out) if k not in self.skip]
        flat = []
        for a, meta in zip(out, self.inputs_meta):
            if a is None or meta is None:
                flat.append(None)
                continue
            if a is ga:
                t = grad
            else:
                if type(a) is not _np.ndarray and xp is _np:
                    a = _np.asarray(a)
                t = _new(Tensor)      # (registry.wrap_array inline)
                t._data = a
                t._dtype = _FROM_NP[a.dtype]
                t._device = dev
                t._vc = [0]
                t._ag = None
                t._base = None
            if t._dtype is not meta[1]:
                t = fit_gradient(t, meta)
            elif a.shape != meta[0]:
                t = _sum_lead(xp, t, meta) if a.shape[a.ndim - len(meta[0]):] == meta[0] \
                    else fit_gradient(t, meta)
            flat.append(t)
        return flat


_new = object.__new__
_FROM_NP = _dt._FROM_NP
# (saved values that are neither tensors nor lists of them: _apply_raw passes them as they are)
_PLAIN_SAVED = frozenset({int, float, bool, tuple, str})


def _sum_lead(xp, g, meta):
    """sum_to of a gradient broadcast over added leading dims only (a bias's), in no grad
    mode: aten::sum.dim_IntList's impl on the array, as its entry point runs it (its
    result C-laid-out where it is of 2 or more dims, as the entry point lays it out)."""
    shape = meta[0]
    if len(shape) > 1:
        return fit_gradient(g, meta)    # (the entry point's layout step: its own path)
    a = g._data
    r = _sum_dim_impl()(xp, a, list(range(a.ndim - len(shape))), False, None)
    if type(r) is not _np.ndarray and xp is _np:
        r = _np.asarray(r)
    b = getattr(r, "base", None)
    if b is not None and type(b) is _np.ndarray and type(r) is _np.ndarray and \
            b.base is None and b is not a and \
            b is not getattr(a, "base", None) and b.size == r.size and b.dtype == r.dtype and \
            b.flags.c_contiguous and r.flags.c_contiguous:
        # (the sum's result a reshaped view of its own fresh output, (1, n) viewed as (n,):
        # that output, reshaped in place, so the gradient is an array of its own that
        # AccumulateGrad keeps as the bias's .grad instead of copying it)
        b.shape = r.shape
        r = b
    t = _new(Tensor)
    t._data = r
    t._dtype = _FROM_NP[r.dtype]
    t._device = g._device
    t._vc = [0]
    t._ag = None
    t._base = None
    return t if t._dtype is meta[1] else fit_gradient(g, meta)


def _sum_dim_impl():
    global _SUM_DIM_IMPL
    if _SUM_DIM_IMPL is None:
        _SUM_DIM_IMPL = _reg.OPS["aten::sum.dim_IntList"].impl
    return _SUM_DIM_IMPL


_SUM_DIM_IMPL = None


def fit_gradient(g, meta, where=None):
    """Sum a (broadcast) gradient back to the input's shape and give it its dtype. `where`:
    (node name, input index) of a gradient a user's backward returned, whose shape that
    the input's does not broadcast to is PyTorch's validate_outputs error."""
    if g is None or meta is None:
        return None
    if not isinstance(g, Tensor):
        raise RuntimeError(f"a derivative returned {type(g).__name__} where a Tensor "
                           f"gradient was expected")
    shape, dtype = meta
    try:
        gs = tuple(g._data.shape)
    except NotImplementedError:     # a sparse gradient (embedding(sparse=True)): as it is
        return g
    if gs != shape:
        try:
            g = sum_to(g, shape)
        except RuntimeError:
            if where is None:
                raise
            raise RuntimeError(f"Function {where[0]} returned an invalid gradient at index "
                               f"{where[1]} - got {list(gs)} but expected shape compatible "
                               f"with {list(shape)}") from None
    if g._dtype is not dtype:
        if g._dtype.cplx and not dtype.cplx:
            # (a real input's gradient is the real part of a complex one: derivatives.yaml's
            # handle_r_to_c, without the cast's warning)
            g = g.real
            if g._dtype is dtype:
                return g
        g = g.to(dtype)
    return g


def sum_to(g, shape):
    """g summed over the dimensions that broadcasting added or expanded (registry ops, so
    it is recorded under create_graph)."""
    gs = tuple(g._data.shape)
    lead = len(gs) - len(shape)
    if lead < 0:
        raise RuntimeError(f"a gradient of shape {list(gs)} cannot be summed to the input "
                           f"shape {list(shape)}")
    dims = list(range(lead)) + [lead + i for i, s in enumerate(shape)
                                if s == 1 and gs[lead + i] != 1]
    if lead and len(dims) == lead:
        # only added leading dims (a bias's gradient): one sum, through the registry op
        # itself (recorded under create_graph as the method call would be)
        g = _sum_dims()(g, dims, False)
        if tuple(g._data.shape) == tuple(shape):
            return g
        dims = []
    if dims:
        g = g.sum(dims, keepdim=True)
    if lead:
        g = g.reshape(shape)
    if tuple(g._data.shape) != tuple(shape):
        raise RuntimeError(f"a gradient of shape {list(gs)} does not fit the input shape "
                           f"{list(shape)}")
    return g


def _sum_dims():
    global _SUM_DIMS
    if _SUM_DIMS is None:
        from ..ops.registry import OPS
        _SUM_DIMS = OPS["aten::sum.dim_IntList"].public
    return _SUM_DIMS


_SUM_DIMS = None


class AccumulateGrad(Node):
    """The end of the graph at a leaf: adds the gradient into `leaf.grad`."""

    def __init__(self, leaf):
        super().__init__()
        self.sequence_nr = _LAST_SEQUENCE_NR
        self.variable_ref = weakref.ref(leaf)
        self.out_meta = ((tuple(leaf._data.shape), leaf._dtype, leaf._device),)

    @property
    def variable(self):
        return self.variable_ref()

    def release(self):
        pass                            # holds nothing to free; reusable

    def apply(self, grads):
        return []


class saved_tensors_hooks:
    """Context manager: what autograd saves for backward inside it (op derivatives'
    inputs and outputs, ctx.save_for_backward) is kept as pack_hook(tensor) and given back
    as unpack_hook(packed) when the backward reads it. The innermost pair applies."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        stack = _grad_state.saved_hooks
        if stack and stack[-1][0] is None:
            raise RuntimeError(stack[-1][1])
        stack.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *args):
        _grad_state.saved_hooks.pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors live in host memory until the backward needs them, then return to
    their device (pin_memory is accepted; host memory is what NumPy allocates)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            if t._device.type == "cpu":
                return (t._device, t.clone())
            return (t._device, t.to("cpu"))

        def unpack(packed):
            device, t = packed
            return t.to(device, non_blocking=pin_memory)
        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Context manager: inside it, entering saved_tensors_hooks raises RuntimeError with
    error_message (and tensors are saved as they are)."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        _grad_state.saved_hooks.append((None, self.error_message))

    def __exit__(self, *args):
        _grad_state.saved_hooks.pop()
        return False


def increment_version(tensor) -> None:
    """torch.autograd.graph.increment_version: count an in-place change gpujit did not see
    (a kernel writing through data_ptr) on tensor (or each of an iterable of tensors), so
    a backward that saved it raises instead of reading the new values; an inference
    tensor (no version counter) is left as it is."""
    for t in ((tensor,) if isinstance(tensor, Tensor) else tensor):
        vc = t._vc
        if type(vc) is not _reg.InferenceVersion:
            vc[0] += 1
