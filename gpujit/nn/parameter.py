"""nn.Parameter: a Tensor that a Module registers as a parameter (a leaf requiring grad)."""
from __future__ import annotations

from ..overrides import _disabled_torch_function_impl
from ..tensor import Tensor


def _dt_strided():
    from ..dtypes import strided
    return strided


def _sharing(cls, data):
    """A new cls object over data's array (same dtype and device and, as PyTorch's, the
    same version counter; no autograd state): what Parameter(...) and Buffer(...) wrap."""
    if getattr(data, "_float8_layout", False):    # (a float8 one: ops/float8.py)
        from ..ops.float8 import float8_class
        cls = float8_class(cls)
    t = object.__new__(cls)
    t._data, t._dtype, t._device, t._vc, t._ag = (data._data, data._dtype, data._device,
                                                  data._vc, None)
    return t


class Parameter(Tensor):
    __slots__ = ()
    # (ops on a Parameter return plain Tensors, as PyTorch's)
    __torch_function__ = _disabled_torch_function_impl

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a Tensor, got {type(data).__name__}")
        if requires_grad.__class__ is not bool:
            # (torch.nn.Parameter's Tensor._make_subclass(cls, data, requires_grad))
            from ..ops.registry import type_name
            raise TypeError(f"_make_subclass(): argument 'require_grad' (position 3) must be "
                            f"bool, not {type_name(requires_grad)}")
        if data.layout is not _dt_strided():
            from .._sparse_coo import sparse_parameter
            return sparse_parameter(data, requires_grad)
        p = _sharing(cls, data)
        if requires_grad:
            p._factory_requires_grad()
        return p

    def __init__(self, *args, **kwargs):
        # (any arguments: a subclass's __new__ may take more, as torch's Tensor.__init__)
        pass

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __reduce__(self):
        # (a plain Parameter with the attributes set on it, as torch's
        # _rebuild_parameter_with_state)
        args = (Tensor.detach(self), self.requires_grad)
        return (Parameter, args, dict(self.__dict__)) if self.__dict__ else (Parameter, args)

    def __deepcopy__(self, memo):
        # (type(self): a subclass's copy is of the subclass, as torch's)
        from ..tensor import _copy_sharing     # (a view of a storage copied once)
        data = _copy_sharing(self, memo)
        p = type(self)(Tensor.clone(self) if data is None else data, self.requires_grad)
        memo[id(self)] = p
        return p


_SHAPE_MSG = ("Can't access the shape of an uninitialized parameter or buffer. This error "
              "usually happens in `load_state_dict` when trying to load an uninitialized "
              "parameter into an initialized one. Call `forward` to initialize the "
              "parameters before accessing their attributes.")


class UninitializedTensorMixin:
    """A parameter or buffer whose shape a lazy module infers at its first forward
    (PyTorch's torch.nn.parameter.UninitializedTensorMixin): it holds only a dtype and a
    device until `materialize(shape)` gives it storage and turns it into `cls_to_become`."""
    __slots__ = ()
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Allocate (uninitialized) storage of `shape` and become cls_to_become."""
        from ..ops.creation import empty
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        t = empty(shape, device=device, dtype=dtype)
        self._data, self._dtype, self._device = t._data, t._dtype, t._device
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(_SHAPE_MSG)

    def size(self, dim=None):
        raise RuntimeError(_SHAPE_MSG)

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. "
                           "Call `forward` to initialize the parameters before calling "
                           "`module.share_memory()`.")

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (self.__class__, (self.requires_grad,))


def is_lazy(param):
    """Is `param` an UninitializedParameter or UninitializedBuffer?"""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter of a lazy module before its first forward (nn.LazyLinear's weight)."""
    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from ..ops.creation import empty
        p = Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)
        return p

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        p = type(self)(self.requires_grad, self.device, self.dtype)
        memo[id(self)] = p
        return p


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer of a lazy module before its first forward (LazyBatchNorm's running_mean)."""
    __slots__ = ()
    __torch_function__ = _disabled_torch_function_impl
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        from ..ops.creation import empty
        t = empty(0, device=device, dtype=dtype)
        b = object.__new__(cls)
        b._data, b._dtype, b._device, b._vc, b._ag = (t._data, t._dtype, t._device, [0],
                                                      None)
        if requires_grad:
            b.requires_grad_(True)
        return b

    def __init__(self, requires_grad=False, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        b = type(self)(self.requires_grad, self.device, self.dtype)
        memo[id(self)] = b
        return b


class Buffer(Tensor):
    """nn.Buffer(data, persistent=True) (torch 2.5+): a tensor that a Module registers as a
    buffer when it is assigned to a module attribute (persistent: in state_dict); the
    module keeps a plain Tensor sharing its data."""
    __slots__ = ("persistent",)
    __torch_function__ = _disabled_torch_function_impl

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
        b = _sharing(cls, data)
        if data.requires_grad:
            b.requires_grad_(True)
        b.persistent = bool(persistent)
        return b

    def __init__(self, data=None, *, persistent=True):
        pass

    def as_tensor(self):
        """The plain Tensor a module registers (same data, same requires_grad)."""
        from ..ops.registry import wrap_any
        t = wrap_any(self._data, self._dtype, self._device)
        return t.requires_grad_(True) if self.requires_grad else t
