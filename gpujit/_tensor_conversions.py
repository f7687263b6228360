"""gpujit.Tensor's conversions: to() (dtype, device, another tensor's, memory format),
cpu()/cuda(), type()/type_as(), the dtype shorthands (float(), long(), bool(), ...),
the new_* factories, resize_/resize_as_ and the .T/.mT/.H/.mH/.layout
properties. They are written as the class TensorConversions, whose members tensor.py sets
on Tensor as its own methods (not a base class: the registry's method bindings leave a
Tensor's own methods in place, see ops/bind.py).
"""
from __future__ import annotations

from . import dtypes as _dt
from . import _tensor_types
from .device import cpu as _cpu, device as _device_cls, resolve as _resolve_device
from .ops import registry as _registry
from .tensor import Tensor

__all__ = ["TensorConversions"]


def _ops():
    return _registry.OPS


# Tensor.type()'s strings: "torch.FloatTensor", "torch.cuda.FloatTensor" (and gpujit.*)
_TYPE_STRINGS = {f"{mod}.{'cuda.' if cuda else ''}{d.short_name}Tensor": (d, cuda)
                 for d in _dt.EVERY + (_dt.bfloat16,) for cuda in (False, True)
                 for mod in ("torch", "gpujit")}


_MISSING = object()     # (new_zeros(size=...) not given)
_COPY_NEW = ("To copy construct from a tensor, it is recommended to use "
             "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
             ".requires_grad_(True), rather than tensor.new_tensor(sourceTensor).")


_TO_SIGNATURES = (
    " * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, "
    "bool copy = False, *, torch.memory_format memory_format = None)\n"
    " * (torch.dtype dtype, bool non_blocking = False, bool copy = False, *, "
    "torch.memory_format memory_format = None)\n"
    " * (Tensor tensor, bool non_blocking = False, bool copy = False, *, "
    "torch.memory_format memory_format = None)\n")


def _is_dtype(v):
    return v.__class__ is _dt.dtype or _dt.python_type_dtype(v) is not None


def _is_device(v):
    return v is None or isinstance(v, (str, _device_cls)) or (
        isinstance(v, int) and not isinstance(v, bool))


def _number_dtype(v):
    """x.to(True) / to(1.5) / to(1j): PyTorch's parser takes a Python number for to()'s
    `Tensor other` (as scalar_to_tensor makes it: a CPU tensor of bool, float64 or
    complex128; a NumPy float or bool scalar reads as float64, an int as a device index).
    That dtype, or None for anything else."""
    import numpy as np
    c = v.__class__
    if c is bool:
        return _dt.bool
    if c is float or isinstance(v, (np.floating, np.bool_)):
        return _dt.float64
    if c is complex or isinstance(v, np.complexfloating):
        return _dt.complex128
    return None


def _to_overload(args, dev, dtype, non_blocking, copy):
    """Tensor.to's positional arguments read as PyTorch's three overloads read them: (device,
    dtype, non_blocking, copy), (dtype, non_blocking, copy), (tensor, non_blocking, copy).
    Returns the leading device / dtype / tensor ones and non_blocking, copy; a call none of
    them takes (x.to('cpu', 'float64'), to(dtype='float32'), to(np.float32)) is PyTorch's
    parser TypeError."""
    if non_blocking.__class__ is bool and copy.__class__ is bool and (
            dtype is None or dtype.__class__ is _dt.dtype) and (
            dev is None or dev.__class__ is str or dev.__class__ is _device_cls):
        # (the common calls, x.to(dtype) / to(device) / to(other) / keywords, at once)
        if not args:
            return args, non_blocking, copy
        if len(args) == 1 and dev is None:
            c = args[0].__class__
            if c is str or c is _device_cls or (dtype is None and (
                    c is _dt.dtype or isinstance(args[0], Tensor))):
                return args, non_blocking, copy
    is_dtype, is_device = _is_dtype, _is_device
    lead, ok = 0, True
    if args:
        a0 = args[0]
        if isinstance(a0, Tensor) or (is_dtype(a0) and a0 is not None) or \
                _number_dtype(a0) is not None:
            lead = 1        # (those overloads take no dtype= or device=)
            ok = dtype is None and dev is None
        elif is_device(a0):
            lead = 2 if len(args) > 1 and (args[1] is None or is_dtype(args[1])) else 1
            # (its second positional is the dtype: x.to('cpu', True) is no call of it)
            ok = dev is None and (lead == 1 or dtype is None) and (lead == 2 or len(args) == 1)
    rest = args[lead:]
    ok = ok and (lead or not args)
    ok = ok and len(rest) <= 2 and all(isinstance(v, bool) for v in rest)
    ok = ok and (dtype is None or is_dtype(dtype)) and (dev is None or is_device(dev))
    ok = ok and isinstance(non_blocking, bool) and isinstance(copy, bool)
    if not ok:
        from .ops.parser_errors import _arg_desc
        kw = {k: v for k, v in (("dtype", dtype), ("device", dev)) if v is not None}
        raise TypeError(f"to() received an invalid combination of arguments - got "
                        f"{_arg_desc(args, kw)}, but expected one of:\n" + _TO_SIGNATURES)
    if rest:
        non_blocking = rest[0]
        copy = rest[1] if len(rest) > 1 else copy
    return args[:lead], non_blocking, copy


class TensorConversions:
    """The conversion methods of Tensor (set on it by tensor.py)."""

    def to(self, *args, **kwargs):
        """to(dtype) / to(device, dtype=None) / to(other), non_blocking=False, copy=False."""
        dev = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        non_blocking = kwargs.pop("non_blocking", False)
        copy = kwargs.pop("copy", False)
        memory_format = kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        like = None
        args, non_blocking, copy = _to_overload(args, dev, dtype, non_blocking, copy)
        for a in args:
            if a is None:
                continue    # (x.to(device) with device None: torch's Device? / ScalarType?)
            if isinstance(a, Tensor):
                dev, dtype, like = a._device, a._dtype, a
            elif _number_dtype(a) is not None:      # (the CPU tensor of a number)
                dev, dtype = _cpu, _number_dtype(a)
            elif isinstance(a, (str, _device_cls, int)):
                dev = a
            else:
                dtype = a
        if dtype is not None and dtype.__class__ is not _dt.dtype:
            dtype = _dt.python_type_dtype(dtype)    # (float is float64; _to_overload checked)
        cast = dtype is not None
        moved = dev is not None
        dtype = self._dtype if dtype is None else _dt.scalar_type_arg(dtype) if isinstance(
            dtype, _dt._QuantizedDtype) else _dt.to_dtype(dtype)   # (quint8: the quantized
        # kernels' answer, gpujit/ops/quantized_ops.py; a factory of it is refused there)
        if dev is not None:
            dev = _device_cls(dev)
            # 'cpu:0' is not the device of a CPU tensor ('cpu'): torch's to() copies
            copy = copy or (dev.type == "cpu" and dev.index is not None)
        dev = self._device if dev is None else _resolve_device(dev)
        if memory_format is not None:
            from .ops import memory_format as _mf
            fmt = _mf.canonical(memory_format)
            if (dev is self._device and dtype is self._dtype and not copy and fmt in (
                    _mf.PRESERVE, _mf.suggest(self._data.shape, self._data.strides))
                    and _registry.dispatch_state.tracing is None):
                _mf.check_rank(fmt, self._data.ndim)
                return self              # (as aten::to.dtype_layout: nothing to change;
                # a trace records it: a later input may be laid out otherwise)
            # (PyTorch's binding fills the layout in from the tensor too: a trace records
            # `layout=0`, torch.strided)
            return _ops()["aten::to.dtype_layout"].public(
                self, dtype=dtype, layout=_dt.strided, device=dev, non_blocking=non_blocking,
                copy=copy, memory_format=memory_format)
        if (like is not None and dev is self._device and not copy
                and _registry.dispatch_state.tracing is not None):
            from .frontend.trace_hooks import trace_to_like
            return trace_to_like(self, like)    # (the trace follows like's dtype)
        if dev is self._device and dtype is self._dtype and not copy and not (
                (cast or moved) and _registry.dispatch_state.tracing is not None):
            return self     # (a trace records a cast or move asked for: later inputs may need it)
        if dev is self._device and not moved:
            return _ops()["aten::to.dtype"].public(self, dtype, non_blocking, copy)
        # (a move alone records no dtype: the trace keeps later inputs' dtypes)
        return _ops()["aten::to.device"].public(self, dev, dtype if cast else None,
                                                non_blocking, copy)

    def cpu(self, *, memory_format=None):
        # (PyTorch's cpu() takes a memory format: x.cpu(memory_format=...) was refused)
        if memory_format is None:
            return self.to(_cpu)
        return self.to(_cpu, memory_format=memory_format)

    def cuda(self, device=None, non_blocking=False, *, memory_format=None):
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = _device_cls("cuda", device)
        if memory_format is None:
            return self.to(device, non_blocking=non_blocking)
        return self.to(device, non_blocking=non_blocking, memory_format=memory_format)

    def type(self, dtype=None, non_blocking=False, **kwargs):  # noqa: A003
        """x.type(): PyTorch's type string ("torch.FloatTensor", "torch.cuda.LongTensor");
        x.type(dtype or type string): x itself when already of that type, else a copy of
        it (a string's "cuda." or its absence also chooses the device, as in PyTorch)."""
        if dtype is None:
            kind = {"cuda": "cuda.", "meta": "meta."}.get(self._device.type, "")
            return f"torch.{kind}{self._dtype.short_name}Tensor"
        if kwargs:
            if set(kwargs) - {"async"}:
                raise TypeError(f"type() got an unexpected keyword argument "
                                f"'{next(iter(set(kwargs) - {'async'}))}'")
            non_blocking = kwargs["async"]
        if isinstance(dtype, _tensor_types.tensortype):   # x.type(torch.LongTensor)
            dtype = f"torch.{'cuda.' if dtype.is_cuda else ''}{dtype.dtype.short_name}Tensor"
        if isinstance(dtype, str):
            want = _TYPE_STRINGS.get(dtype)
            if want is None:
                raise ValueError(f"invalid type: {dtype!r}")
            dt, cuda = want
            if dt is self._dtype and cuda == self.is_cuda:
                return self
            if cuda == self.is_cuda:
                return self.to(dt, non_blocking=non_blocking)
            return self.to("cuda" if cuda else "cpu", dt, non_blocking=non_blocking)
        if not isinstance(dtype, (_dt.dtype, _dt.MissingDtype)):
            # (PyTorch's: another class is no tensor type, x.type(float) / type(np.float64))
            if isinstance(dtype, type):
                mod = dtype.__module__
                raise ValueError(f"invalid type: "
                                 f"'{dtype.__qualname__ if mod == 'builtins' else mod + '.' + dtype.__qualname__}'")
            raise TypeError("dtype must be a type, str, or dtype object")
        dt = _dt.to_dtype(dtype)
        if dt is self._dtype:
            return self
        return self.to(dt, non_blocking=non_blocking)

    def type_as(self, other):
        if not isinstance(other, _registry._Tensor):
            raise TypeError(f"type_as(): argument 'other' (position 1) must be Tensor, not "
                            f"{type(other).__name__}")
        if _registry.dispatch_state.tracing is None and other._dtype is self._dtype:
            return self                  # (PyTorch hands back self itself)
        # (aten::type_as: a trace records it and follows other's dtype, as PyTorch's)
        return _ops()["aten::type_as"].public(self, other)

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def half(self):
        return self.to(_dt.float16)

    def bfloat16(self):
        return self.to(_dt.bfloat16)

    def cfloat(self):
        return self.to(_dt.complex64)

    def cdouble(self):
        return self.to(_dt.complex128)

    def chalf(self):
        raise _dt.complex32.error()

    def int(self):
        return self.to(_dt.int32)

    def long(self):
        return self.to(_dt.int64)

    def short(self):
        return self.to(_dt.int16)

    def char(self):
        return self.to(_dt.int8)

    def byte(self):
        return self.to(_dt.uint8)

    def bool(self):
        return self.to(_dt.bool)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        import sys
        import warnings
        from .ops.creation import tensor
        from ._frames import warn_if_user_called
        if isinstance(data, Tensor):
            warn_if_user_called(_COPY_NEW, sys._getframe(1))
        if dtype is not None:
            dtype = _dt.dtype_param(dtype, "new_tensor(): argument 'dtype'")
        with warnings.catch_warnings():     # (torch.tensor's own words are not these)
            warnings.filterwarnings("ignore", message="To copy construct from a tensor")
            return tensor(data, dtype=dtype or self._dtype, device=device or self._device,
                          requires_grad=requires_grad)

    def _new_factory(self, name, size, dtype, device, requires_grad, extra=(), layout=None,
                     pin_memory=False):
        if not extra:       # (new_full's size is checked by _sequence_size)
            size = _method_sizes(name.split("::")[-1], size)
        elif len(size) == 1 and isinstance(size[0], (list, tuple)):
            size = tuple(size[0])
        from .ops.creation import _size_arg
        t = _ops()[name].public(self, _size_arg(size, name), *extra, dtype=dtype, device=device,
                                layout=layout, pin_memory=pin_memory)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def new_zeros(self, *sizes, size=_MISSING, dtype=None, device=None, requires_grad=False,
                  layout=None, pin_memory=False):
        if size is _MISSING:
            size = sizes
        else:       # (size=: PyTorch's name for the sizes)
            from .ops.creation import keyword_size
            size = keyword_size("new_zeros", sizes, size)
        return self._new_factory("aten::new_zeros", size, dtype, device, requires_grad,
                                 layout=layout, pin_memory=pin_memory)

    def new_ones(self, *sizes, size=_MISSING, dtype=None, device=None, requires_grad=False,
                  layout=None, pin_memory=False):
        if size is _MISSING:
            size = sizes
        else:       # (size=: PyTorch's name for the sizes)
            from .ops.creation import keyword_size
            size = keyword_size("new_ones", sizes, size)
        return self._new_factory("aten::new_ones", size, dtype, device, requires_grad,
                                 layout=layout, pin_memory=pin_memory)

    def new_empty(self, *sizes, size=_MISSING, dtype=None, device=None, requires_grad=False,
                  layout=None, pin_memory=False):
        if size is _MISSING:
            size = sizes
        else:       # (size=: PyTorch's name for the sizes)
            from .ops.creation import keyword_size
            size = keyword_size("new_empty", sizes, size)
        return self._new_factory("aten::new_empty", size, dtype, device, requires_grad,
                                 layout=layout, pin_memory=pin_memory)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False,
                 layout=None, pin_memory=False):
        from .ops.creation import _sequence_size
        _sequence_size(size, "new_full")
        return self._new_factory("aten::new_full", (size,), dtype, device, requires_grad,
                                 (fill_value,), layout, pin_memory)

    def resize_(self, *sizes, memory_format=None):
        """In place, as torch's (aten::resize_): the same number of elements keeps the
        values in order (row-major); more keeps the old ones first and leaves the rest
        uninitialized."""
        sizes = _method_sizes("resize_", sizes)
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        return _registry.OPS["aten::resize_"].public(self, list(sizes),
                                                      memory_format=memory_format)

    def resize_as_(self, other, memory_format=None):
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        return _registry.OPS["aten::resize_as_"].public(self, other,
                                                         memory_format=memory_format)

    @property
    def T(self):
        return _registry.OPS["aten::numpy_T"].public(self)

    @property
    def mT(self):
        return _registry.OPS["aten::mT"].public(self)

    @property
    def H(self):
        return _registry.OPS["aten::matrix_H"].public(self)

    @property
    def mH(self):
        return _registry.OPS["aten::mH"].public(self)

    @property
    def layout(self):
        return _dt.strided


def _method_sizes(name, sizes, arg="size"):
    """The sizes of x.new_zeros(*size) / x.resize_(*size), with the TypeErrors of PyTorch's
    parser for its one `tuple of ints size` parameter (given as a tuple or as varargs):
    x.new_ones() misses it, x.resize_(2.0) is no tuple of ints, x.new_zeros(2.0, 3) is two
    positional arguments (its first is no int), x.new_empty(2, 3.5) fails to unpack."""
    from .ops.bind import _int_like, check_int_sizes
    if len(sizes) == 1:
        s = sizes[0]
        if isinstance(s, (list, tuple)):
            if s and not _int_like(s[0]):
                raise TypeError(f"{name}(): argument '{arg}' (position 1) must be tuple of "
                                f"ints, but found element of type {type(s[0]).__name__} at "
                                f"pos 0")
            sizes = tuple(s)
        elif not _int_like(s):
            raise TypeError(f"{name}(): argument '{arg}' (position 1) must be tuple of ints, "
                            f"not {type(s).__name__}")
        check_int_sizes(name, arg, sizes, varargs=False)
    elif not sizes:
        raise TypeError(f'{name}() missing 1 required positional arguments: "{arg}"')
    else:
        check_int_sizes(name, arg, sizes)
    return sizes
