"""Python-valued facts about a tensor in scripted code: `x.size(0)`, `x.size()`,
`x.stride(d)`, `x.dim()`, `x.numel()`, `len(x)`, `x.is_contiguous()`, `x.is_floating_point()`,
`x.is_cuda`, `x.device.type`, and the shape arithmetic `torch.broadcast_shapes(s, t)` /
`torch._C._infer_size`. Part of the scalar family (scalar_ops.py imports this module where
these ops were, so the registry lists them in the same order): each returns a Python value
that the executor's generated code uses directly.
"""
from __future__ import annotations

from .meta import wrap_dim, element_strides
from .scalar_ops import _scalar_op


@_scalar_op("aten::size.int(Tensor self, int dim) -> int")
def size_int(xp, self, dim):
    if self.ndim == 0:
        raise IndexError(f"size(): dimension specified as {dim} but tensor has no "
                         f"dimensions")
    return int(self.shape[wrap_dim(dim, self.ndim)])


def _sizes_meta(self):
    return list(self.shape)     # the sizes, None where the meta does not know one


@_scalar_op("aten::size(Tensor self) -> int[]", meta=_sizes_meta)
def size(xp, self):
    return [int(s) for s in self.shape]


@_scalar_op("aten::stride(Tensor self) -> int[]", meta=lambda self: [None] * len(self.shape))
def stride(xp, self):
    """`x.stride()` in scripted code: element strides, as PyTorch's (a new empty
    tensor's too: C order, where NumPy says 0)."""
    return list(element_strides(self))


def _broadcast_meta(a, b):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return [None] * max(len(a), len(b))
    return list


@_scalar_op("aten::broadcast_shapes(int[] a, int[] b) -> int[]", meta=_broadcast_meta)
def broadcast_shapes(xp, a, b):
    """Scripted `torch.broadcast_shapes(s, t)` (TorchScript's takes two shapes): the shape
    both broadcast to, with eager torch.broadcast_shapes' errors."""
    from .shape_dims import broadcast_shapes_public
    return list(broadcast_shapes_public(list(a), list(b)))


@_scalar_op("aten::_infer_size(int[] a, int[] b) -> int[]", meta=_broadcast_meta)
def _infer_size(xp, a, b):
    """Scripted `torch._C._infer_size(s, t)`: as broadcast_shapes."""
    from .shape_dims import broadcast_shapes_public
    return list(broadcast_shapes_public(list(a), list(b)))


@_scalar_op("aten::stride.int(Tensor self, int dim) -> int")
def stride_int(xp, self, dim):
    if self.ndim == 0:
        raise IndexError(f"stride(): dimension specified as {dim} but tensor has no "
                         f"dimensions")
    return element_strides(self)[wrap_dim(dim, self.ndim)]


@_scalar_op("aten::storage_offset(Tensor self) -> int")
def storage_offset(xp, self):
    """`x.storage_offset()` in scripted code: where the array starts in its storage, in
    elements (as eager Tensor.storage_offset)."""
    import numpy as np
    if isinstance(self, np.ndarray):
        from ..tensor import _base_ptr
        return (self.__array_interface__["data"][0] - _base_ptr(self)) // self.itemsize
    return (self.data.ptr - self.data.mem.ptr) // self.itemsize


@_scalar_op("aten::is_pinned(Tensor self, Device? device=None) -> bool")
def is_pinned(xp, self, device=None):
    """`x.is_pinned()` in scripted code: True for the memory pin_memory() returned (and its
    views), as eager Tensor.is_pinned; a CUDA tensor's never (torch 2.13's False)."""
    import numpy as np
    if not isinstance(self, np.ndarray):
        return False
    from .host_functions import _pinned_root
    return _pinned_root(self) is not None


@_scalar_op("aten::is_contiguous(Tensor self) -> bool")
def is_contiguous(xp, self):
    """`x.is_contiguous()` in scripted code (the strides of size-1 dims do not count)."""
    return bool(self.flags.c_contiguous)


@_scalar_op("aten::is_contiguous.memory_format(Tensor self, MemoryFormat memory_format) "
            "-> bool")
def is_contiguous_memory_format(xp, self, memory_format):
    from . import memory_format as _mf
    fmt = _mf.canonical(memory_format, _mf.CONTIGUOUS)
    return _mf.is_contiguous_as(self.shape, self.strides, self.itemsize, fmt)


@_scalar_op("aten::dim(Tensor self) -> int")
def dim(xp, self):
    return self.ndim


@_scalar_op("aten::numel(Tensor self) -> int")
def numel(xp, self):
    return int(self.size)


@_scalar_op("aten::element_size(Tensor self) -> int")
def element_size(xp, self):
    """`x.element_size()` in scripted code: the bytes of one element (x.itemsize)."""
    return int(self.itemsize)


@_scalar_op("aten::len.Tensor(Tensor t) -> int")
def len_tensor(xp, t):
    if t.ndim == 0:
        raise TypeError("len() of a 0-d tensor")
    return int(t.shape[0])


@_scalar_op("aten::len.t(t[] a) -> int")
def len_list(xp, a):
    return len(a)


@_scalar_op("aten::is_floating_point(Tensor self) -> bool")
def is_floating_point(xp, self):
    from ..dtypes import from_numpy_dtype
    return from_numpy_dtype(self.dtype).is_floating_point


@_scalar_op("aten::is_cuda(Tensor self) -> bool")
def is_cuda(xp, self):
    """`x.is_cuda` in scripted code: its array lives on a GPU (not a NumPy array)."""
    import numpy as np
    return not isinstance(self, (np.ndarray, np.generic))


@_scalar_op("aten::is_cpu(Tensor self) -> bool")
def is_cpu(xp, self):
    """`x.is_cpu` in scripted code: its array is a NumPy array."""
    import numpy as np
    return isinstance(self, (np.ndarray, np.generic))


@_scalar_op("prim::index(Device self) -> int?", meta=lambda self: self.index)
def device_index(xp, self):
    """`d.index` in scripted code (TorchScript's prim::index): None for 'cpu' and 'cuda',
    0 for 'cpu:0'."""
    return self.index


@_scalar_op("prim::type(Device self) -> str", meta=lambda self: self.type)
def device_type(xp, self):
    """`d.type` (`x.device.type`) in scripted code (TorchScript's prim::type): "cpu" or
    "cuda"."""
    return self.type


@_scalar_op("aten::device_type(Device self) -> str")
def device_type_old(xp, self):
    """gpujit's former name of prim::type (archives saved before it call it)."""
    return self.type
