"""PyTorch's legacy tensor types: torch.FloatTensor, torch.LongTensor, ... and their
torch.cuda.* twins.

Each is an object of the metaclass `tensortype` (as in PyTorch): calling it builds a tensor
of its dtype and device with the legacy constructor's rules (`LongTensor(2, 3)` and
`LongTensor(torch.Size([2, 3]))` an uninitialized tensor of that size, `LongTensor([1, 2])`
from data, `LongTensor()` an empty one, `LongTensor(t)` t itself when t has that type);
`isinstance(x, torch.FloatTensor)` tells whether x is a float32 tensor on that kind of
device; `x.type(torch.LongTensor)` converts; `.dtype` and `.is_cuda` read the type."""
from __future__ import annotations

from . import dtypes as _dt

__all__ = ["tensortype", "TYPES", "CUDA_TYPES"]


class tensortype(type):
    """The metaclass of the legacy tensor types (torch.tensortype)."""

    def __instancecheck__(cls, obj):
        from .tensor import Tensor
        return (isinstance(obj, Tensor) and obj.dtype is cls.dtype
                and obj.is_cuda == cls.is_cuda and not obj.is_sparse)

    def __call__(cls, *args, device=None):
        return legacy_new(cls.dtype, cls.is_cuda, args, device)

    def __repr__(cls):
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def legacy_new(dtype, is_cuda, args, device):
    """The legacy constructor's rules for a tensor type of `dtype` on the CPU or CUDA:
    FloatTensor(2, 3), FloatTensor(Size), FloatTensor([1, 2]), FloatTensor(), FloatTensor(t)
    (t itself when t has that type) and torch.Tensor(...) (the default dtype's type)."""
    from .tensor import Tensor, Size
    from .device import device as _device
    kind = "cuda" if is_cuda else "cpu"
    if device is not None:
        dev = _device(device)
        if dev.type != kind:
            raise RuntimeError(f"legacy constructor expects device type: {kind} but "
                               f"device type: {dev.type} was passed")
    else:
        dev = _device(kind)
    import gpujit
    if not args:
        return gpujit.empty(0, dtype=dtype, device=dev)
    if len(args) == 1 and isinstance(args[0], Tensor):
        t = args[0]
        if t.dtype is not dtype or t.is_cuda != is_cuda:
            want = f"torch.{'cuda.' if is_cuda else ''}{dtype.short_name}Tensor"
            raise TypeError(f"expected {want} (got {t.type()})")
        return t
    if len(args) == 1 and isinstance(args[0], Size):
        return gpujit.empty(tuple(args[0]), dtype=dtype, device=dev)
    if all(_is_int(a) for a in args):
        return gpujit.empty(tuple(int(a) for a in args), dtype=dtype, device=dev)
    if len(args) == 1:
        import numbers
        a = args[0]
        if isinstance(a, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(a).__name__}'")
        if isinstance(a, numbers.Number):
            raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
        return gpujit.tensor(a, dtype=dtype, device=dev)
    got = ", ".join(type(a).__name__ for a in args)
    raise TypeError(f"new() received an invalid combination of arguments - got ({got}), "
                    "but expected one of: (*, torch.device device), (Tensor other), "
                    "(tuple of ints size, *, torch.device device), "
                    "(object data, *, torch.device device)")


def _is_int(a):
    import numbers
    return isinstance(a, numbers.Integral) and not isinstance(a, bool)


def _make(d, cuda):
    mod = "torch.cuda" if cuda else "torch"
    return tensortype(f"{d.short_name}Tensor", (), {"__module__": mod, "dtype": d,
                                                     "is_cuda": cuda, "is_sparse": False})


# ScalarType short name -> type, for the dtypes PyTorch has legacy types of
TYPES = {d.short_name: _make(d, False) for d in _dt.ALL}
CUDA_TYPES = {d.short_name: _make(d, True) for d in _dt.ALL}
