"""How tensors cross process boundaries in torch.multiprocessing: a CPU tensor already in
shared memory (share_memory_, Module.share_memory) travels by the name of its block, so the
receiving process writes the same memory; any other tensor is pickled as a copy (PyTorch
moves a tensor into shared memory when it is sent; gpujit sends copies of unshared tensors,
so that DataLoader batches, which also travel this way, leave no shared blocks behind)."""
from __future__ import annotations

from multiprocessing.reduction import ForkingPickler

from .. import _shared_memory as _shm
from .. import dtypes as _dt

__all__ = ["init_reductions"]


def _rebuild_shared(cls_name, name, offset, shape, strides, np_dtype, dtype_name,
                    requires_grad):
    from ..device import cpu
    from ..ops import registry as _reg
    t = _reg.wrap_any(_shm.attach(name, offset, shape, strides, np_dtype),
                  _dt.to_dtype(dtype_name), cpu)
    if cls_name == "Parameter":
        from ..nn.parameter import Parameter
        return Parameter(t, requires_grad)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _reduce(t):
    from ..device import cpu
    if t.requires_grad and t.grad_fn is not None:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since "
            "autograd does not support crossing process boundaries.  If you just want to "
            "transfer the data, call detach() on the tensor before serializing (e.g., "
            "putting it on the queue).")
    if t._device is cpu:
        blk = _shm.block_of(t._data)
        if blk is not None:
            a = t._data
            return (_rebuild_shared, (type(t).__name__, blk[0], blk[1], a.shape, a.strides,
                                      a.dtype.str, t._dtype.name, t.requires_grad))
    return t.__reduce__()


def init_reductions():
    from ..nn.parameter import Parameter
    from ..tensor import Tensor
    for cls in (Tensor, Parameter):
        ForkingPickler.register(cls, _reduce)
