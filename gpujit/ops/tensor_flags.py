"""Tensor attributes that PyTorch code checks before it computes: the layout/backend flags
(is_sparse, is_quantized, is_xla... all False: gpujit's tensors are dense, strided,
on the CPU, a CUDA device or the meta device; is_meta), output_nr, dim_order(),
register_post_accumulate_grad_hook,
and untyped_storage() / storage() (the allocation a tensor views: nbytes, data_ptr, size).
Installed on Tensor as properties/methods when this family is imported.
"""
from __future__ import annotations

from collections import OrderedDict

from .._frames import warn_at_user_frame
from ..tensor import Tensor
from .registry import tensor_method

PUBLIC = {}

_FALSE_FLAGS = ("is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_meta",
                "is_mkldnn", "is_xpu", "is_mps", "is_vulkan", "is_ipu", "is_maia", "is_mtia",
                "is_xla")


def _false(self):
    return False


for _name in _FALSE_FLAGS:
    setattr(Tensor, _name, property(_false, doc=f"False: gpujit has no {_name[3:]} tensors."))


def _is_meta(self):
    return self._device.type == "meta"


Tensor.is_meta = property(_is_meta, doc="True for a tensor on the 'meta' device (no data).")


def _declare_scripted_flag(name):
    """aten::<flag>(Tensor self) -> bool: `x.is_sparse` ... in scripted code (False)."""
    from .scalar_ops import _scalar_op

    def impl(xp, self):
        return False
    impl.__name__ = f"_{name}_op"
    impl.__doc__ = f"`x.{name}` in scripted code: False."
    _scalar_op(f"aten::{name}(Tensor self) -> bool")(impl)


for _name in _FALSE_FLAGS:
    _declare_scripted_flag(_name)


def _output_nr(self):
    """Which output of its grad_fn this tensor is (0 for leaves and tensors without grad)."""
    ag = self._ag
    return 0 if ag is None or ag.grad_fn is None else ag.output_nr


Tensor.output_nr = property(_output_nr)


@tensor_method("dim_order")
def _dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory (by stride, ties in dim order), as
    PyTorch's Tensor.dim_order()."""
    if not isinstance(ambiguity_check, (bool, list)):
        raise TypeError("The ambiguity_check argument must be a bool or a list of memory "
                        "formats.")
    st = self.stride()
    return tuple(sorted(range(self.dim()), key=lambda d: -st[d]))


# ------------------------------------------------------------------ post-accumulate hooks

@tensor_method("register_post_accumulate_grad_hook")
def _register_post_accumulate_grad_hook(self, hook):
    """hook(tensor) runs after backward accumulated this leaf's .grad (autograd/engine.py
    _accumulate_into); it must return None."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                           "tensors")
    ag = self._ag
    from ..utils.hooks import RemovableHandle
    if ag.post_acc_hooks is None:
        ag.post_acc_hooks = OrderedDict()
    handle = RemovableHandle(ag.post_acc_hooks)
    ag.post_acc_hooks[handle.id] = hook
    return handle


def run_post_accumulate_hooks(leaf):
    """Called by the engine after leaf.grad was accumulated."""
    for h in list((leaf._ag.post_acc_hooks or {}).values()):
        r = h(leaf)
        if r is not None:
            # (PyTorch's: its Python wrapper refuses a value that is no Tensor, then the
            # C++ hook refuses any Tensor)
            if not isinstance(r, Tensor):
                raise TypeError(f"expected Variable, but hook returned "
                                f"'{type(r).__name__}'")
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")


# ------------------------------------------------------------------ storages

from ..storage import UntypedStorage, TypedStorage, LEGACY, storage_type_of  # noqa: E402


@tensor_method("untyped_storage")
def _untyped_storage(self):
    return UntypedStorage._of(self)


@tensor_method("storage")
def _storage(self):
    warn_at_user_frame("TypedStorage is deprecated. It will be removed in the future and "
                       "UntypedStorage will be the only storage class. This should only "
                       "matter to you if you are using storages directly.  To access "
                       "UntypedStorage directly, use tensor.untyped_storage() instead of "
                       "tensor.storage()")
    return TypedStorage._of(self)


@tensor_method("storage_type")
def _storage_type(self):
    """The legacy storage class of the tensor's dtype (gpujit.FloatStorage ...)."""
    return storage_type_of(self._dtype)


PUBLIC.update(UntypedStorage=UntypedStorage, TypedStorage=TypedStorage, **LEGACY)


# ------------------------------------------------------------------ more of torch.Tensor

@tensor_method("const_data_ptr")
def _const_data_ptr(self):
    """The address of the first element (data_ptr, promised not to be written through)."""
    return self.data_ptr()


@tensor_method("is_distributed")
def _is_distributed(self):
    return False


@tensor_method("to_dense")
def _to_dense(self, dtype=None, *, masked_grad=True):
    """A strided tensor is already dense: itself (or a copy in dtype)."""
    return self if dtype is None or dtype == self._dtype else self.to(dtype)


@tensor_method("module_load")
def _module_load(self, other, assign=False):
    """What nn.Module.load_state_dict stores for this tensor from `other` (torch's
    default): other detached when assigning, else other copied into self."""
    return other.detach() if assign else self.copy_(other).detach()


@tensor_method("as_subclass")
def _as_subclass(self, cls):
    """A `cls` object over self's memory (an alias: recorded by autograd as one)."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from "
                        "Tensor is not possible. Make sure your class inherits from Tensor.")
    from .registry import OPS, dispatch_state
    if dispatch_state.torch_function is None:
        r = OPS["aten::alias"].public(self)
    else:                   # (not a call __torch_function__ sees, as PyTorch's as_subclass)
        from ..overrides import DisableTorchFunctionSubclass
        with DisableTorchFunctionSubclass():
            r = OPS["aten::alias"].public(self)
    try:
        r.__class__ = cls          # a subclass without a __dict__ (Parameter ...)
        return r
    except TypeError:
        pass
    t = object.__new__(cls)
    t._data, t._dtype, t._device, t._vc, t._ag = (r._data, r._dtype, r._device, r._vc,
                                                  r._ag)
    node = t._ag.grad_fn if t._ag is not None else None
    if node is not None and getattr(node, "out_refs", None):
        import weakref                 # the backward node finds its output (hooks) again
        node.out_refs[t._ag.output_nr] = weakref.ref(t)
    from ..frontend.tracer import current_session
    session = current_session()
    if session is not None:            # a trace records the alias; t stands for its value
        for rec in session.recorders:
            v = rec.env.get(id(r))
            if v is not None:
                rec.bind(t, v)
    return t


def _volatile_get(self):
    warn_at_user_frame("volatile was removed (Variable.volatile is always False)")
    return False


def _volatile_set(self, value):
    warn_at_user_frame("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                       "instead.")


Tensor.volatile = property(_volatile_get, _volatile_set)


@tensor_method("reinforce")
def _reinforce(self, reward):
    raise RuntimeError(
        "reinforce() was removed.\nUse torch.distributions instead.\nSee "
        "https://pytorch.org/docs/main/distributions.html\n\nInstead of:\n\n"
        "probs = policy_network(state)\naction = probs.multinomial()\n"
        "next_state, reward = env.step(action)\naction.reinforce(reward)\naction.backward()\n\n"
        "Use:\n\nprobs = policy_network(state)\n"
        "# NOTE: categorical is equivalent to what used to be called multinomial\n"
        "m = torch.distributions.Categorical(probs)\naction = m.sample()\n"
        "next_state, reward = env.step(action)\nloss = -m.log_prob(action) * reward\n"
        "loss.backward()\n")


@tensor_method("record_stream")
def _record_stream(self, stream):
    """Tell the allocator a CUDA tensor is used on `stream`: CuPy's pool frees a block only
    after the work queued before the free (gpujit queues on the current stream), so there is
    nothing to record."""
    if self._device.type != "cuda":
        raise RuntimeError("record_stream is only available for CUDA tensors")
    return None


@tensor_method("xpu")
def _xpu(self, *args, **kwargs):
    raise AssertionError("Torch not compiled with XPU enabled")


@tensor_method("ipu")
def _ipu(self, *args, **kwargs):
    raise RuntimeError("PyTorch is not linked with support for ipu devices")


@tensor_method("mtia")
def _mtia(self, *args, **kwargs):
    raise AssertionError("Torch not compiled with MTIA enabled")


def _backward_hooks(self):
    """The tensor's gradient hooks by handle id (torch's Tensor._backward_hooks): None until
    one is registered."""
    ag = self._ag
    return None if ag is None else ag.hooks


Tensor._backward_hooks = property(_backward_hooks)
