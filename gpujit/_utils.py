"""torch._utils: the functions torch.save's pickles name (_rebuild_tensor_v2 and its
kin, gpujit/serialization/pickled.py), and the helpers libraries import from it
(_flatten_dense_tensors, _get_device_index, _import_dotted_name, ExceptionWrapper, ...)."""
from __future__ import annotations

from collections import defaultdict

from .serialization.pickled import (_rebuild_tensor, _rebuild_tensor_v2,  # noqa: F401
                                    _rebuild_tensor_v3, _rebuild_qtensor, _rebuild_parameter,
                                    _rebuild_parameter_with_state,
                                    _rebuild_meta_tensor_no_storage)
from ._sparse_coo import rebuild_sparse_tensor as _rebuild_sparse_tensor  # noqa: F401
from .nested._tensor import rebuild_nested_tensor as _rebuild_nested_tensor  # noqa: F401
from .utils.data._worker import ExceptionWrapper, KeyErrorMessage  # noqa: F401
from .compiler import is_compiling  # noqa: F401

__all__ = ["_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_qtensor",
           "_rebuild_parameter", "_rebuild_parameter_with_state", "_rebuild_sparse_tensor",
           "_rebuild_meta_tensor_no_storage",
           "_rebuild_nested_tensor", "_rebuild_device_tensor_from_numpy", "ExceptionWrapper",
           "KeyErrorMessage", "is_compiling", "_flatten_dense_tensors",
           "_unflatten_dense_tensors", "_take_tensors", "_reorder_tensors_as",
           "_import_dotted_name", "_get_available_device_type", "get_current_device_index",
           "_get_device_index", "_get_async_or_non_blocking", "_type", "_to", "_element_size",
           "classproperty"]


def _rebuild_device_tensor_from_numpy(data, dtype, device, requires_grad):
    """A tensor of `data` (a NumPy array) as `dtype` on `device`."""
    from . import from_numpy
    t = from_numpy(data).to(dtype=dtype, device=device)
    t.requires_grad = requires_grad
    return t


def _flatten_dense_tensors(tensors):
    """The tensors flattened and concatenated into one 1-D tensor (their common dtype)."""
    from . import cat
    return cat([t.contiguous().view(-1) for t in tensors], 0)


def _unflatten_dense_tensors(flat, tensors):
    """Views of `flat` shaped as each of `tensors` (the inverse of _flatten_dense_tensors)."""
    outputs, offset = [], 0
    for t in tensors:
        n = t.numel()
        outputs.append(flat.narrow(0, offset, n).view_as(t) if n else
                       flat.new_empty((0,)).view_as(t))
        offset += n
    return tuple(outputs)


def _take_tensors(tensors, size_limit):
    """Chunks of tensors of one type() each, up to size_limit bytes (a chunk always holds
    at least one tensor); each type's tensors keep their order."""
    buf_dict = defaultdict(lambda: [[], 0])
    for tensor in tensors:
        t = tensor.type()
        if tensor.is_sparse:
            ind, val = tensor._indices(), tensor._values()
            size = ind.numel() * ind.element_size() + val.numel() * val.element_size()
        else:
            size = tensor.numel() * tensor.element_size()
        buf = buf_dict[t]
        if buf[1] + size > size_limit and buf[1] > 0:
            yield buf[0]
            buf = buf_dict[t] = [[], 0]
        buf[0].append(tensor)
        buf[1] += size
    for buf, _ in buf_dict.values():
        if buf:
            yield buf


def _reorder_tensors_as(tensors, ordered_tensors):
    """`tensors` (grouped by type, as _take_tensors yields them) back in the order of
    `ordered_tensors`' types."""
    type_dict = defaultdict(list)
    for t in tensors:
        type_dict[t.type()].append(t)
    type_iters = {k: iter(v) for k, v in type_dict.items()}
    return tuple(next(type_iters[t.type()]) for t in ordered_tensors)


def _import_dotted_name(name):
    """The object named by a dotted path ("gpujit.nn.Linear")."""
    components = name.split(".")
    obj = __import__(components[0])
    for component in components[1:]:
        obj = getattr(obj, component)
    return obj


def _get_available_device_type():
    """"cuda" where a CUDA device is available, else None (this build has no XPU / MTIA)."""
    from . import cuda
    return "cuda" if cuda.is_available() else None


def _get_current_device_index():
    from . import cuda
    return cuda.current_device() if cuda.is_available() else -1


def get_current_device_index() -> int:
    """The current CUDA device's index, -1 without one (torch._utils' scriptable name)."""
    return _get_current_device_index()


def _get_device_index(device, optional: bool = False, allow_cpu: bool = False) -> int:
    """The index of `device` (a device, a str or an int); None or an index-less device is
    the current device where `optional`; a CPU device is -1 where `allow_cpu`."""
    from .device import device as _device
    if isinstance(device, str):
        device = _device(device)
    idx = None
    if isinstance(device, _device):
        if not allow_cpu and device.type == "cpu":
            raise ValueError(f"Expected a non cpu device, but got: {device}")
        idx = -1 if device.type == "cpu" else device.index
    if isinstance(device, int):
        idx = device
    if idx is None:
        if optional:
            idx = _get_current_device_index()
        else:
            raise ValueError(f"Expected a torch.device with a specified index or an integer, "
                             f"but got:{device}")
    return idx


def _get_async_or_non_blocking(function_name, non_blocking, kwargs):
    """non_blocking, or the deprecated `async` keyword in its place."""
    if not kwargs:
        return non_blocking
    if len(kwargs) != 1 or "async" not in kwargs:
        argument = list(kwargs.keys()).pop()
        raise TypeError(f"{function_name}() got an unexpected keyword argument '{argument}'")
    import warnings
    warnings.warn("'async' is deprecated; use 'non_blocking'")
    return kwargs["async"]


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """Tensor.type as torch._utils spells it: the type name with no dtype, else the tensor
    as that type (a name such as "torch.FloatTensor" or a tensor type)."""
    non_blocking = _get_async_or_non_blocking("type", non_blocking, kwargs)
    if dtype is None:
        return self.type()
    return self.type(dtype, non_blocking=non_blocking)


def _to(self, device, non_blocking=False):
    """The tensor on `device` (itself where it is there already)."""
    return self.to(device, non_blocking=non_blocking)


def _element_size(dtype):
    """Bytes per element of dtype."""
    from . import dtypes as _dt
    if not isinstance(dtype, _dt.dtype):
        raise RuntimeError(f"expected torch.dtype, but got {type(dtype)}")
    return dtype.itemsize


class classproperty:
    """A read-only property of the class (torch._utils.classproperty)."""

    def __init__(self, func):
        self.fget = func if isinstance(func, (classmethod, staticmethod)) else classmethod(func)

    def __get__(self, instance, owner=None):
        return self.fget.__get__(instance, owner)()


