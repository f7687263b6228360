"""Tensor attributes that PyTorch code checks before it computes: the layout/backend flags
(is_sparse, is_quantized, is_meta, is_xla... all False: gpujit's tensors are dense, strided,
on the CPU or a CUDA device), output_nr, dim_order(), register_post_accumulate_grad_hook,
and untyped_storage() / storage() (the allocation a tensor views: nbytes, data_ptr, size).
Installed on Tensor as properties/methods when this family is imported.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

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
            raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")


# ------------------------------------------------------------------ storages

def _root(a):
    """(start address, nbytes) of the allocation array a views."""
    if isinstance(a, np.ndarray):
        r = a
        while isinstance(r, np.ndarray) and r.base is not None:
            b = r.base
            if not isinstance(b, np.ndarray):
                b = getattr(b, "base", None)
                if not isinstance(b, np.ndarray):
                    break
            r = b
        return r.__array_interface__["data"][0], int(r.nbytes)
    mem = a.data.mem
    return int(mem.ptr), int(mem.size)


class UntypedStorage:
    """The bytes a tensor views (torch.UntypedStorage's read side: nbytes, size, data_ptr,
    device, len)."""

    def __init__(self, tensor):
        self._tensor = tensor
        self._ptr, self._nbytes = _root(tensor._data)
        self.device = tensor.device

    def nbytes(self):
        return self._nbytes

    def size(self):
        return self._nbytes

    def __len__(self):
        return self._nbytes

    def data_ptr(self):
        return self._ptr

    def element_size(self):
        return 1

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def is_shared(self):
        return False

    def __eq__(self, other):
        return isinstance(other, UntypedStorage) and other._ptr == self._ptr

    def __hash__(self):
        return hash(self._ptr)

    def __repr__(self):
        return f"gpujit.UntypedStorage(nbytes={self._nbytes}, device={self.device})"


class TypedStorage(UntypedStorage):
    """tensor.storage() (deprecated in PyTorch): the allocation counted in elements of the
    tensor's dtype."""

    def __init__(self, tensor):
        super().__init__(tensor)
        self.dtype = tensor.dtype

    def size(self):
        return self._nbytes // self.dtype.itemsize

    def __len__(self):
        return self.size()

    def element_size(self):
        return self.dtype.itemsize

    def untyped(self):
        return UntypedStorage(self._tensor)

    def __repr__(self):
        return (f"gpujit.TypedStorage(size={self.size()}, dtype={self.dtype}, "
                f"device={self.device})")


@tensor_method("untyped_storage")
def _untyped_storage(self):
    return UntypedStorage(self)


@tensor_method("storage")
def _storage(self):
    warn_at_user_frame("TypedStorage is deprecated. It will be removed in the future and "
                       "UntypedStorage will be the only storage class. This should only "
                       "matter to you if you are using storages directly.  To access "
                       "UntypedStorage directly, use tensor.untyped_storage() instead of "
                       "tensor.storage()")
    return TypedStorage(self)


PUBLIC.update(UntypedStorage=UntypedStorage, TypedStorage=TypedStorage)
