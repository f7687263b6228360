"""gpujit.Tensor: a thin wrapper over a NumPy array (cpu) or a CuPy array (cuda:N).

The Tensor holds only the array, its gpujit dtype and device, a version counter (bumped by
in-place ops; autograd reads it) and an autograd slot. Every computation goes through the
op registry (`gpujit.ops`): the methods and operators that compute are bound onto this
class from the registry at import, not written here. The conversions (to, type, float,
new_zeros, ...) are written in _tensor_conversions.py and set on Tensor at import.
"""
from __future__ import annotations

import sys
import warnings
from collections import OrderedDict

import numpy as np

from . import dtypes as _dt
from .device import cpu as _cpu, meta as _meta_device
from .ops import registry as _registry
from .ops.meta import empty_strides as _empty_strides

_DISPATCH = _registry.dispatch_state     # (one object for the process: read in getters)

__all__ = ["Tensor", "Size"]

# a factory's requires_grad=True of an integer or bool result (PyTorch's words)
FACTORY_REFUSAL = "Only Tensors of floating point and complex dtype can require gradients"
# (PyTorch differentiates complex tensors by Wirtinger calculus; an op whose derivative is
# not conjugate-aware yet, not listed in ops/complex_autograd.py, records none rather than
# a wrong gradient)
COMPLEX_GRAD_REFUSAL = ("gpujit does not differentiate this op for complex tensors yet (its "
                        "derivative is not conjugate-aware): no complex operand or result "
                        "of it can require gradients")
NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information.")


class Size(tuple):
    """gpujit.Size([3, 4]): a tuple of ints, as torch.Size."""

    def __new__(cls, sizes=()):
        if type(sizes) is tuple:          # an array's shape: ints already
            return tuple.__new__(cls, sizes)
        # int subclasses stay themselves (a traced size keeps its graph value), and so does
        # a jagged nested tensor's ragged size (gpujit/nested/_jagged.NestedInt)
        return tuple.__new__(cls, (s if isinstance(s, int) or hasattr(s, "_nested_int")
                                   else int(s) for s in sizes))

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"gpujit.Size([{', '.join(str(s) for s in self)}])"

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


SAME_DTYPE = "same"      # (_AutogradMeta.grad_dtype's default: the tensor's dtype)


class _AutogradMeta:
    """Per-tensor autograd state, created only when a tensor takes part in autograd.
    output_nr: which output of grad_fn this tensor is; acc: a leaf's AccumulateGrad node;
    has_views: a view of it was recorded; view_refs: weak references to the recorded views that
    share its memory (None before the first); view: for a recorded view that shares its
    base's memory, autograd.views.ViewInfo (its base), else None; no_grad_view: a view
    taken in no_grad mode of a tensor that requires grad (an in-place write to it with
    grad mode on is refused, as PyTorch's CreationMeta::NO_GRAD_MODE)."""
    __slots__ = ("requires_grad", "grad", "grad_fn", "retains_grad", "hooks", "output_nr",
                 "acc", "has_views", "view_refs", "view", "post_acc_hooks", "no_grad_view",
                 "grad_dtype")

    def __init__(self, requires_grad=False):
        self.requires_grad = requires_grad
        self.grad = None
        self.grad_fn = None
        self.retains_grad = False
        self.hooks = None
        self.output_nr = 0
        self.acc = None
        self.has_views = False
        self.view_refs = None
        self.view = None
        self.post_acc_hooks = None
        self.no_grad_view = False
        # a leaf's grad_dtype when set (Tensor.grad_dtype): a dtype the engine casts
        # incoming gradients to, or None (any dtype); SAME_DTYPE: the tensor's own
        self.grad_dtype = SAME_DTYPE


def _ops():
    return _registry.OPS


_autograd_backward = [None]     # autograd.backward (Tensor.backward's)



class Tensor:
    # _vc: the version counter, a one-item list shared by a tensor and its views and
    # detach()es, as PyTorch's VariableVersion (an in-place write through any of them
    # bumps it; autograd's saved tensors compare it)
    # _base (set on views only, by registry.wrap_view): the Tensor at the root of the
    # view chain, which an in-place write with gradients through the view rebases
    # (autograd/recording.py) when the view was taken while nothing required grad
    # _detached (set on detach() results only, read with getattr): its array views
    # another tensor's memory, but autograd never treats it as a view, as PyTorch's
    # detach(): an in-place write with gradients into it is a plain in-place op
    # _zero_strides (set by empty_strided only, read with getattr): a tensor without
    # elements made with all-zero strides, which stride() reports as they are (NumPy gives
    # every array without elements all-zero strides, which stride() otherwise replaces by
    # PyTorch's strides of a new empty tensor)
    # _nograd_view (set by registry.wrap_view only, read with getattr): a view made in
    # no_grad mode: _base says what it views (Tensor._base), but autograd does not adopt it
    # (__dict__: Python attributes set on a tensor or Parameter, p._no_weight_decay = True,
    # as on torch's; made on first use)
    __slots__ = ("_data", "_dtype", "_device", "_vc", "_ag", "_base", "_detached",
                 "_zero_strides", "_nograd_view", "__weakref__", "__dict__")
    # _wrapped_number (True in the instance's __dict__ of a 0-dim CPU tensor that stands
    # for a Python number, as at::TensorImpl::is_wrapped_number: a trace's constant for
    # `x * 2.5`, registry.wrapped_number): it promotes as the number would (int64 x * it
    # is float32, float16 x stays float16); never copied, pickled or saved, as PyTorch's
    _wrapped_number = False
    # as torch.Tensor's: type(x) prints <class 'gpujit.Tensor'>, its public name
    __module__ = "gpujit"
    __array_priority__ = 1000   # so that ndarray + Tensor defers to Tensor.__radd__

    def __new__(cls, *args, device=None):
        """torch.Tensor(...): the legacy constructor of the default dtype's CPU tensor
        type (Tensor(2, 3) uninitialized, Tensor([1, 2]) from data, Tensor() empty,
        Tensor(t) t itself when it has that type); a subclass gets its own object over
        the result's memory."""
        from ._tensor_types import legacy_new
        from . import dtypes as _dt
        t = legacy_new(_dt.get_default_dtype(), False, args, device)
        if cls is Tensor or type(t) is cls:
            return t
        r = object.__new__(cls)
        r._data, r._dtype, r._device, r._vc, r._ag = t._data, t._dtype, t._device, \
            t._vc, None
        return r

    def __init__(self, *args, **kwargs):
        pass

    # ---------------------------------------------------------------- __torch_function__
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """PyTorch's default: func run with the protocol off, its Tensor results returned
        as cls (gpujit/overrides.py)."""
        from .overrides import default_torch_function
        return default_torch_function(cls, func, types, args, kwargs)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        from . import overrides
        if overrides._active(cls):      # (nn.Parameter's is off: no layer for it)
            overrides.enable(cls)

    @staticmethod
    def _make_subclass(cls, data, require_grad=False, **kwargs):
        """torch.Tensor._make_subclass: a cls object over data's memory (no autograd
        history), requiring grad as asked (how custom Parameter-like classes are made)."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError("cls must be a type (got " + type(cls).__name__ + ")")
        if not isinstance(data, Tensor):
            raise TypeError(f"_make_subclass(): argument 'data' (position 2) must be Tensor, "
                            f"not {type(data).__name__}")
        if require_grad.__class__ is not bool:
            raise TypeError(f"_make_subclass(): argument 'require_grad' (position 3) must be "
                            f"bool, not {type(require_grad).__name__}")
        t = object.__new__(cls)
        t._data, t._dtype, t._device, t._vc, t._ag = (data._data, data._dtype, data._device,
                                                      data._vc, None)
        if require_grad:
            t._set_requires_grad(True)
        return t

    # ---------------------------------------------------------------- properties
    @property
    def _version(self):
        vc = self._vc
        if type(vc) is _registry.InferenceVersion:
            raise RuntimeError("Inference tensors do not track version counter.")
        return vc[0]

    @_version.setter
    def _version(self, v):
        self._vc[0] = v

    @property
    def data(self):
        if _registry.dispatch_state.vmap is not None:
            from .func._vmap import is_batched
            if is_batched(self):
                raise RuntimeError("accessing `data` under vmap transform is not allowed")
        r = self.detach()
        # (as PyTorch's: .data has a version counter of its own; of an inference tensor,
        # an inference tensor with one, which it may write and count)
        r._vc = [0] if type(self._vc) is list else _registry.TrackedInferenceVersion([0])
        return r

    @data.setter
    def data(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(other).__name__}")
        if self._ag is not None and self._ag.requires_grad and \
                other._dtype.category < _dt.FLOATING:
            # (PyTorch's VariableHooks::set_data)
            raise RuntimeError("data set to a tensor that requires gradients must be "
                               "floating point or complex dtype")
        if (self._device is _meta_device) != (other._device is _meta_device):
            raise RuntimeError("Attempted to call `variable.set_data(tensor)`, but `variable` "
                               "and `tensor` have incompatible tensor type.")
        self._data, self._dtype, self._device = other._data, other._dtype, other._device

    @property
    def shape(self):
        if _registry.dispatch_state.tracing is not None:
            return self._hooked_size(None)
        return Size(self._data.shape)

    def size(self, dim=None, *, axis=None):
        # (axis: NumPy's name, which PyTorch's parser takes for dim; not both)
        if dim is None:
            if axis is None:
                if _registry.dispatch_state.tracing is not None:
                    return self._hooked_size(None)
                return Size(self._data.shape)
            dim = axis
        elif axis is not None:
            raise TypeError("size() got an unexpected keyword argument 'axis'")
        if _registry.dispatch_state.tracing is not None:
            return self._hooked_size(dim)
        shape = self._data.shape
        # (a Python int in range: the shape's entry; anything else, a bool included
        # (x.size(True): PyTorch's TypeError), _wrap_dim's checks)
        if dim.__class__ is int and -len(shape) <= dim < len(shape):
            return shape[dim]
        try:
            return shape[_wrap_dim(dim, len(shape), "size")]
        except TypeError:       # (x.size(0.0): a float index)
            raise _dim_type_error("size", dim) from None
        except IndexError:
            if shape:
                raise
        raise _no_dims(dim)

    def _hooked_size(self, dim):
        """Sizes through aten::size.int while a tracer is recording, so that code like
        x.view(x.size(0), -1) is traced as depending on the input's size."""
        op = _ops()["aten::size.int"]
        if dim is not None:
            d = _wrap_dim(dim, self._data.ndim)
            # (x.size(-1) records the dim as given, as PyTorch's tracer: aten::size(x, -1);
            # x.shape[-1] reads the shape's entry, aten::size(x, 3))
            return op.public(self, dim if dim.__class__ is int else d)
        return Size([op.public(self, d) for d in range(self._data.ndim)])

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self):
        return self._device.type == "cuda"

    @property
    def is_cpu(self):
        return self._device is _cpu

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        if _registry.dispatch_state.tracing is not None:
            # (recorded: x * x.numel() traced follows other sizes, as PyTorch's trace)
            return _ops()["aten::numel"].public(self)
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._dtype.itemsize

    @property
    def itemsize(self):
        return self._dtype.itemsize

    @property
    def nbytes(self):
        return int(self._data.size) * self._dtype.itemsize

    def stride(self, dim=None, *, axis=None):
        a = self._data
        isz = a.itemsize        # (the array's: bfloat16's float32 carrier is 4 bytes)
        st = tuple(s // isz for s in a.strides)
        if not a.size and a.ndim and not any(st) and not getattr(self, "_zero_strides", False):
            st = _empty_strides(a.shape)    # NumPy's new empty arrays say 0: torch's rule
        if dim is None:
            if axis is None:
                return st
            dim = axis
        elif axis is not None:
            raise TypeError("stride() got an unexpected keyword argument 'axis'")
        try:
            return st[_wrap_dim(dim, self._data.ndim, "stride")]
        except TypeError:
            raise _dim_type_error("stride", dim) from None
        except IndexError:
            if st:
                raise
        raise _no_dims(dim)

    def storage_offset(self):
        a = self._data
        if self._device is _meta_device:
            return a.offset
        if isinstance(a, np.ndarray):
            return (a.__array_interface__["data"][0] - _base_ptr(a)) // a.itemsize
        # (CuPy: where the array starts in its allocation; as_strided's arrays have no base)
        return (a.data.ptr - a.data.mem.ptr) // a.itemsize

    def data_ptr(self):
        a = self._data
        if self._device is _meta_device:     # (no memory: torch says 0)
            return 0
        p = a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr
        if self._dtype is _dt.bfloat16:     # (2 bytes an element of its storage, whose
            base = _base_ptr(a) if isinstance(a, np.ndarray) else a.data.mem.ptr  # float32
            return base + (p - base) // 2                       # carrier has 4)
        return p

    def is_contiguous(self, memory_format=None):
        a = self._data
        from .ops import memory_format as _mf      # PyTorch ignores size-1 dims' strides
        fmt = _mf.canonical(memory_format, _mf.CONTIGUOUS)
        if fmt != _mf.CONTIGUOUS and _registry.dispatch_state.vmap is not None:
            from .func._vmap import IS_CONTIGUOUS, is_batched
            if is_batched(self):
                raise RuntimeError(IS_CONTIGUOUS)
        if a.flags.c_contiguous and fmt not in (_mf.CHANNELS_LAST, _mf.CHANNELS_LAST_3D):
            return True
        return _mf.is_contiguous_as(a.shape, a.strides, a.itemsize, fmt)

    def contiguous(self, memory_format="contiguous_format"):
        """self itself when it is contiguous in memory_format (as PyTorch: x.contiguous()
        is x), else aten::contiguous's copy. A trace records the call either way."""
        if _registry.dispatch_state.tracing is None and self.is_contiguous(memory_format):
            return self
        return _ops()["aten::contiguous"].public(self, memory_format=memory_format)

    def is_floating_point(self):
        return self._dtype.category == _dt.FLOATING

    def is_complex(self):
        return self._dtype.cplx

    def is_signed(self):
        return self._dtype.is_signed

    # ---------------------------------------------------------------- autograd state
    @property
    def requires_grad(self):
        if _DISPATCH.vmap is not None and _vmap_hides(self):
            return False
        ag = self._ag
        if ag is None:      # a view whose base an in-place op with gradients wrote
            base = getattr(self, "_base", None)
            if getattr(self, "_nograd_view", False):
                # (a view made in no_grad mode requires grad while its base does, as
                # PyTorch's: its gradient goes nowhere)
                return base is not None and base.requires_grad
            return base is not None and base._ag is not None and base._ag.requires_grad \
                and base._ag.grad_fn is not None
        if ag.no_grad_view and not ag.requires_grad:
            base = getattr(self, "_base", None)
            return base is not None and base.requires_grad
        return ag.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag.__class__ is not bool:
            raise RuntimeError("requires_grad must be a bool")     # (THPVariable_set_requires_grad)
        self._set_requires_grad(flag, "only Tensors of floating point and complex dtype "
                                      "can require gradients")

    def _set_requires_grad(self, flag, refusal="only Tensors of floating point dtype can "
                                               "require gradients"):
        """Set requires_grad; `refusal` is the message for a tensor that cannot require
        gradients, which PyTorch words differently by the way it was asked: the setter,
        `requires_grad_()` and a factory's `requires_grad=True` (FACTORY_REFUSAL)."""
        flag = bool(flag)
        if flag and self._dtype.category < _dt.FLOATING:
            raise RuntimeError(refusal)
        if flag and isinstance(self._vc, _registry.InferenceVersion):
            from .autograd import grad_mode
            if not grad_mode.state.inference:
                from .autograd.inference import REQUIRES_GRAD_ERROR
                raise RuntimeError(REQUIRES_GRAD_ERROR)
        if self._ag is None:
            if not flag:
                return
            self._ag = _AutogradMeta()
        elif not flag and self._ag.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                               "If you want to use a computed variable in a subgraph that "
                               "doesn't require differentiation use var_no_grad = "
                               "var.detach().")
        self._ag.requires_grad = flag
        if flag:
            from .autograd.recording import activate
            activate()
            from .autograd.function import FUNCTORCH
            if FUNCTORCH[0] or FUNCTORCH[1]:
                # (a leaf made inside a transformed function belongs to the innermost
                # transform, as PyTorch's tensors made there are wrapped at its level)
                from .func._levels import adopt
                adopt(self)

    def requires_grad_(self, *args, **kwargs):
        if len(args) + len(kwargs) > 1 or (kwargs and "requires_grad" not in kwargs):
            def requires_grad_(requires_grad=True):
                pass
            requires_grad_.__qualname__ = "requires_grad_"
            requires_grad_(*args, **kwargs)     # (Python's TypeError for the call)
        flag = args[0] if args else kwargs.get("requires_grad", True)
        if flag.__class__ is not bool:
            # (PyTorch's parser: a positional value is numbered, a keyword one is not)
            where = " (position 1)" if args else ""
            raise TypeError(f"requires_grad_(): argument 'requires_grad'{where} must be bool, "
                            f"not {_registry.type_name(flag)}")
        from .autograd.function import FUNCTORCH
        if FUNCTORCH[0] or FUNCTORCH[1] or FUNCTORCH[2]:
            # (gpujit's own code makes its leaves with _set_requires_grad)
            raise RuntimeError(FUNCTORCH_REQUIRES_GRAD)
        self._set_requires_grad(flag, "only Tensors of floating point dtype can "
                                      "require gradients")
        return self

    def _factory_requires_grad(self):
        """A factory's requires_grad=True (torch.tensor(..., requires_grad=True), zeros,
        aten::tensor in a graph): PyTorch's own words for an integer or bool result."""
        self._set_requires_grad(True, FACTORY_REFUSAL)
        return self

    @property
    def grad(self):
        ag = self._ag
        if ag is None:
            return None
        g = ag.grad
        if g is None and ag.requires_grad and not ag.retains_grad and \
                self.grad_fn is not None:
            warnings.warn(NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, g):
        if g is not None:
            _check_assigned_grad(self, g)
        if self._ag is None:
            self._ag = _AutogradMeta()
        self._ag.grad = g

    @property
    def grad_dtype(self):
        """The dtype autograd gives this leaf's .grad: the tensor's dtype unless set; None
        allows any dtype (PyTorch 2.13's Tensor.grad_dtype)."""
        if self.grad_fn is not None:
            raise RuntimeError("grad_dtype can only be accessed on leaf tensors.")
        ag = self._ag
        if ag is None or ag.grad_dtype is SAME_DTYPE:
            return self._dtype
        return ag.grad_dtype

    @grad_dtype.setter
    def grad_dtype(self, dt):
        if self.grad_fn is not None:
            raise RuntimeError("grad_dtype can only be set on leaf tensors.")
        from . import dtypes as _dts
        if dt is not None and not isinstance(dt, _dts.dtype):
            raise RuntimeError(f"grad_dtype must be a torch.dtype or None, but got "
                               f"{type(dt).__name__}")
        if self._ag is None:
            self._ag = _AutogradMeta()
        self._ag.grad_dtype = dt

    @property
    def grad_fn(self):
        if _DISPATCH.vmap is not None and _vmap_hides(self):
            return None
        ag = self._ag
        if ag is None:
            if getattr(self, "_base", None) is None or getattr(self, "_nograd_view", False):
                return None
            # a view taken before its base required grad follows the base (PyTorch makes
            # a view's grad_fn when it is read)
            from .autograd.recording import view_grad_fn
            return view_grad_fn(self)
        if ag.view is not None:
            from .autograd.recording import view_grad_fn
            return view_grad_fn(self)
        return ag.grad_fn

    @property
    def is_leaf(self):
        if _DISPATCH.vmap is not None and _vmap_hides(self):
            return True
        return self.grad_fn is None

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the leaves' .grad."""
        backward = _autograd_backward[0]
        if backward is None:        # (bound on first use: autograd imports this module)
            from .autograd import backward
            _autograd_backward[0] = backward
        backward([self], None if gradient is None else [gradient], retain_graph,
                 create_graph, inputs=inputs)

    def retain_grad(self):
        """Keep .grad of a non-leaf tensor after backward."""
        if not self.requires_grad or (_DISPATCH.vmap is not None and _vmap_hides(self)):
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        from .autograd.function import FUNCTORCH
        if FUNCTORCH[0] or FUNCTORCH[1] or FUNCTORCH[2]:
            raise RuntimeError(FUNCTORCH_RETAIN_GRAD)
        if self.grad_fn is not None:
            self._ag.retains_grad = True

    @property
    def retains_grad(self):
        return self._ag is not None and self._ag.retains_grad

    def register_hook(self, hook):
        """hook(grad) -> None or a replacement gradient, called when this tensor's gradient
        is computed. Returns a handle with .remove()."""
        if not self.requires_grad or (_DISPATCH.vmap is not None and _vmap_hides(self)):
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        from .utils.hooks import RemovableHandle
        ag = self._ag
        if ag.hooks is None:
            ag.hooks = OrderedDict()       # weakly referenced by the handles
        handle = RemovableHandle(ag.hooks)
        ag.hooks[handle.id] = hook
        return handle

    def _is_view(self):
        """Whether this tensor is a view of another (PyTorch's Tensor._is_view(): a view
        op's result, recorded by autograd or not; detach() results are none)."""
        return getattr(self, "_base", None) is not None or (
            self._ag is not None and self._ag.view is not None)

    def detach_(self):
        """Cut this tensor from the graph in place (it becomes a leaf without grad). A
        view refuses it, as in PyTorch (its base would keep the graph)."""
        base = getattr(self, "_base", None)
        if base is None and self._ag is not None and self._ag.view is not None:
            base = self._ag.view.base
        # (while tracing, `x.to(x.dtype)` / `x.contiguous()` hand back a new Tensor of x's
        # own array, which eager returns as x itself: no view)
        if base is not None and self._data is not base._data:
            raise RuntimeError(_DETACH_VIEW)
        if _registry.dispatch_state.tracing is not None:
            from .frontend.trace_hooks import detach_
            detach_(self)
        if self._ag is not None:
            self._ag.grad_fn = None
            self._ag.requires_grad = False
        if _registry.dispatch_state.forward_ad is not None:
            from .autograd.forward_ad import _drop_tangent
            _drop_tangent(self)         # (and its tangent, as PyTorch's detach_)
        return self

    # ---------------------------------------------------------------- Python values
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               f"to Scalar")
        if self._device is _meta_device:
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return _ops()["aten::item"].public(self)

    def tolist(self):
        if _registry.dispatch_state.vmap is not None:
            from .func._vmap import check_escape
            check_escape(self, "tolist")
        if _registry.dispatch_state.escape is not None:
            _registry.dispatch_state.escape(self, "tolist")
        a = self._data
        if self._device is not _cpu:
            a = a.get()     # (a meta tensor's: "Cannot copy out of meta tensor; no data!")
        return a.tolist()

    def numpy(self, *, force=False):
        if force.__class__ is not bool:     # (PyTorch's parser: keyword-only, a bool)
            raise TypeError(f"numpy(): argument 'force' must be bool, not "
                            f"{type(force).__name__}")
        _no_storage_in_transform()
        if _registry.dispatch_state.vmap is not None:
            from .func._vmap import check_escape
            check_escape(self, "numpy")
        if _registry.dispatch_state.escape is not None:
            _registry.dispatch_state.escape(self, "numpy")
        if self._device is not _cpu:
            if not force:
                raise TypeError(f"can't convert {self._device} device type tensor to numpy. "
                                f"Use Tensor.cpu() to copy the tensor to host memory first.")
            return self._data.get()
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self._dtype is _dt.bfloat16:     # (NumPy has no bfloat16)
            raise TypeError("Got unsupported ScalarType BFloat16")
        return self._data

    def __array__(self, dtype=None, copy=None):
        """np.asarray(x): x.numpy() (its memory), as PyTorch's: a tensor on a GPU or one
        requiring grad is refused with numpy()'s errors. NumPy's `copy` protocol kept
        (np.array(x) copies; copy=False where a dtype change needs one: its ValueError)."""
        _no_storage_in_transform()
        a = self.numpy()
        if dtype is not None and a.dtype != np.dtype(dtype):
            if copy is False:
                raise ValueError("Unable to avoid copy while creating an array as requested.")
            return a.astype(dtype)
        return a.copy() if copy else a

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """The result of a NumPy function over Tensors (np.sin(x), x + ndarray through
        ndarray.__radd__) becomes a CPU Tensor over its memory, as PyTorch's: a bool
        result a uint8 one, a 0-dim result (return_scalar: np.add.reduce(x)) a 0-dim
        Tensor."""
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        from .ops.creation import from_numpy
        return from_numpy(array)

    def _scalar_value(self, kind):
        if self._data.size != 1:
            # (ValueError, as PyTorch's Python conversions; .item() raises RuntimeError)
            raise ValueError("only one element tensors can be converted to Python scalars")
        v = self.item()
        if kind != "complex" and type(v) is complex:
            # (PyTorch's checked conversion: a nonzero imaginary part does not fit)
            if v.imag:
                raise RuntimeError(f"value cannot be converted to type "
                                   f"{'double' if kind == 'float' else 'int64_t'} without "
                                   f"overflow")
            return v.real
        return v

    def __bool__(self):
        if _registry.dispatch_state.vmap is not None:
            from .func._vmap import check_escape
            check_escape(self, "bool")
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is "
                               "ambiguous")
        return bool(self.item())

    def __int__(self):
        return int(self._scalar_value("int"))

    def __float__(self):
        if self._ag is not None and self._ag.requires_grad and not _FLOAT_WARNED:
            _warn_float_of_grad()       # (only with grad mode on, as PyTorch)
        return float(self._scalar_value("float"))

    def __index__(self):
        if self._dtype.category >= _dt.FLOATING or self._data.size != 1:   # (bool ones pass)
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __complex__(self):
        return complex(self._scalar_value("complex"))

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        if _registry.dispatch_state.escape is not None:
            _registry.dispatch_state.escape(self, "len")
        return self._data.shape[0]

    def __reversed__(self):
        """reversed(x): x flipped along dimension 0 (a 0-dim tensor: itself), as PyTorch."""
        return self if self._data.ndim == 0 else self.flip(0)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        if _registry.dispatch_state.escape is not None:
            _registry.dispatch_state.escape(self, "iter")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __contains__(self, element):
        # (PyTorch's: element == self, read with .item(); other types refused)
        import numbers
        if not isinstance(element, (Tensor, numbers.Number)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you "
                               f"passed in a {type(element)}.")
        return bool((element == self).any().item())

    def __format__(self, spec):
        # a 0-dim Tensor formats as its number (f"{t}" is "1.5"), as PyTorch's; a
        # subclass (Parameter) as its str
        if self._data.ndim == 0 and type(self) is Tensor and self._device is not _meta_device:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__

    def __reduce__(self):
        if self._device is _meta_device:     # (no data: its sizes, strides and dtype)
            from ._meta import rebuild_meta
            a = self._data
            args = (a.shape, a.element_strides(), a.offset, self._dtype.name,
                    self.requires_grad)
            state = _own_attrs(self)
            return (rebuild_meta, args, state) if state else (rebuild_meta, args)
        a = self._data if self._device is _cpu else self._data.get()
        args = (a, self._dtype.name, str(self._device), self.requires_grad)
        if a.ndim > 1 and a.size and not self.is_contiguous():
            from .ops.memory_format import _dense
            st = self.stride()
            if _dense(a.shape, st):      # (NumPy pickles C order: channels_last kept, as
                args += (st,)            # torch's pickle keeps a tensor's strides)
        state = _own_attrs(self)
        # (Python attributes set on it travel along, as torch's _get_obj_state)
        return (_rebuild, args, state) if state else (_rebuild, args)

    def __reduce_ex__(self, protocol):
        # (object's would call __reduce__ too; defined so that a subclass's
        # __torch_function__ sees copy / pickle as PyTorch's: func Tensor.__reduce_ex__)
        return self.__reduce__()

    def __deepcopy__(self, memo):
        if not self.is_leaf:             # (torch 2.13's refusal, word for word)
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment.  If you were attempting to deepcopy a "
                "module, this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        t = _copy_sharing(self, memo)
        if t is None:                    # (a leaf, as torch's: no CloneBackward)
            t = self.detach().clone()
        if self.requires_grad:
            t._set_requires_grad(True)
        memo[id(self)] = t
        state = _own_attrs(self)
        if state:                        # (its Python attributes, copied as torch's)
            import copy
            t.__dict__.update(copy.deepcopy(state, memo))
        return t

    # ---------------------------------------------------------------- DLPack
    def __dlpack__(self, *args, **kwargs):
        if self._dtype is _dt.bfloat16:     # (a float32 carrier: ops/bfloat16_support.py)
            from .ops.dlpack import bfloat16_export_error
            raise bfloat16_export_error()
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        from .ops.dlpack import DLDeviceType          # (kDLCPU, 0) as torch's
        kind, index = self._data.__dlpack_device__()
        return DLDeviceType(int(kind)), int(index)

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, index):
        # (ops.indexing's getitem, looked up once: a `from ... import` per call runs the
        # import machinery's fromlist handling, ~0.4 µs of a ~3 µs x[0])
        return (_GETITEM or _indexing_fns()[0])(self, index)

    def __setitem__(self, index, value):
        (_SETITEM or _indexing_fns()[1])(self, index, value)


_GETITEM = _SETITEM = None


def _copy_sharing(t, memo):
    """A copy of dense tensor t on a copy of its storage, one per storage in this deepcopy
    (memo), so views deep-copied together still share (PyTorch's deepcopy copies the
    storage once: {'a': x, 'b': x.t()}); None for others (meta, float8, subclasses)."""
    if type(t) is not Tensor and type(t).__name__ != "Parameter":
        return None
    a = t._data
    if t._device.type not in ("cpu", "cuda") or t._dtype.__class__ is not _dt.dtype \
            or not hasattr(a, "strides") or not a.size:
        return None
    from .ops.views_strided import storage_of
    from .ops.registry import wrap
    flat, offset = storage_of(a)
    addr = flat.__array_interface__["data"][0] if hasattr(flat, "__array_interface__") \
        else flat.data.ptr
    key = ("gpujit.storage", addr, flat.size, flat.dtype.str)
    new = memo.get(key)
    if new is None:
        new = memo[key] = flat.copy()
    xp = sys.modules[type(new).__module__.split(".")[0]]
    view = xp.lib.stride_tricks.as_strided(new[offset:], shape=a.shape, strides=a.strides)
    return wrap(view, t._dtype, t._device)


def _indexing_fns():
    """ops.indexing's getitem and setitem (imported on first use: ops.indexing imports
    the registry, which imports this module)."""
    global _GETITEM, _SETITEM
    from .ops.indexing import getitem, setitem
    _GETITEM, _SETITEM = getitem, setitem
    return getitem, setitem


_FLOAT_WARNED = []


def _warn_float_of_grad():
    """PyTorch 2.13's warning (once per process) for float() of a tensor that requires
    grad, with grad mode on (none under no_grad: LBFGS's float(closure()) is silent)."""
    from .autograd import grad_mode
    if not grad_mode.state.enabled:
        return
    from ._frames import warn_at_user_frame
    _FLOAT_WARNED.append(True)
    warn_at_user_frame("Converting a tensor with requires_grad=True to a scalar may lead "
                       "to unexpected behavior.\nConsider using tensor.detach() first.")


FUNCTORCH_REQUIRES_GRAD = (
    "You are attempting to call Tensor.requires_grad_() (or perhaps using "
    "torch.autograd.functional.* APIs) inside of a function being transformed by a functorch "
    "transform. This is unsupported, please attempt to use the functorch transforms (e.g. "
    "grad, vjp, jacrev, jacfwd, hessian) or call requires_grad_() outside of a function being "
    "transformed instead.")
FUNCTORCH_RETAIN_GRAD = (
    "You are attempting to call Tensor.retain_grad() inside of a function being transformed "
    "by a functorch transform. This is unsupported, please attempt to use the functorch "
    "transforms (e.g. grad, vjp, jacrev, jacfwd, hessian) or call retain_grad() outside of a "
    "function being transformed instead.")
_DETACH_VIEW = ("Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")


def _no_storage_in_transform():
    """numpy() / np.asarray() called by user code inside a grad-like torch.func transform:
    PyTorch's tensors there are wrappers without storage, refused whatever the tensor
    (gpujit's own code, the caller two frames up in a gpujit module, reads its arrays)."""
    from .autograd.function import FUNCTORCH
    if FUNCTORCH[0] or FUNCTORCH[1]:
        import sys
        caller = sys._getframe(2).f_globals.get("__name__", "")
        if not (caller == "gpujit" or caller.startswith(("gpujit.", "fusers", "kernels"))):
            raise RuntimeError("Cannot access data pointer of Tensor that doesn't have "
                               "storage")


def _vmap_hides(t):
    """Inside vmap, user code reading t's requires_grad / grad_fn / is_leaf sees what
    PyTorch's BatchedTensor reports (False / None / True) when the innermost transform
    batching t is a vmap; gpujit's own code (a caller in a gpujit module, two frames up)
    reads the autograd state it records."""
    from .func._vmap import hides_autograd
    return hides_autograd(t)


def _base_ptr(a):
    """Where the memory of ndarray a's storage starts: the root of its base chain, through
    the holder object np.lib.stride_tricks.as_strided puts between a view and its array
    (as_strided, unfold and diagonal views)."""
    while isinstance(a, np.ndarray) and a.base is not None:
        b = a.base
        if not isinstance(b, np.ndarray):
            b = getattr(b, "base", None)          # as_strided's DummyArray keeps the array
            if not isinstance(b, np.ndarray):
                break
        a = b
    return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else 0


def _dim_type_error(name, dim):
    """x.size('a') / x.stride(1.0): PyTorch's parser error for its `int dim`."""
    return TypeError(f"{name}(): argument 'dim' (position 1) must be int, not "
                     f"{'Tensor' if isinstance(dim, Tensor) else type(dim).__name__}")


def _no_dims(dim):
    """x0.size(0) / x0.stride(-1) of a 0-dim tensor: PyTorch's IndexError."""
    return IndexError(f"Dimension specified as {dim} but tensor has no dimensions")


def _wrap_dim(dim, ndim, name="size"):
    if dim.__class__ is bool:       # (an int subclass PyTorch's parser refuses for an int)
        raise _dim_type_error(name, dim)
    n = max(ndim, 1)
    try:
        ok = -n <= dim < n
    except TypeError:           # (x.size('a'))
        raise _dim_type_error(name, dim) from None
    if not ok:
        if not isinstance(dim, (int, np.integer, Tensor)) or isinstance(dim, bool):
            raise _dim_type_error(name, dim)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def _own_attrs(t):
    """The Python attributes set on t (its __dict__) that copies and pickles carry: not the
    wrapped-number mark, which PyTorch keeps in the TensorImpl and never copies."""
    d = t.__dict__
    if "_wrapped_number" in d:
        d = {k: v for k, v in d.items() if k != "_wrapped_number"}
    return dict(d) if d else None


def _rebuild(data, dtype_name, dev, requires_grad, stride=None):
    from .ops.creation import tensor
    from .ops.factory_extra import empty_strided
    t = tensor(data, dtype=_dt.to_dtype(dtype_name), device=dev)
    if stride is not None and tuple(stride) != t.stride():
        t = empty_strided(t.shape, stride, dtype=t.dtype, device=t.device).copy_(t)
    return t.requires_grad_(True) if requires_grad else t


# the dtype/device conversions, new_* factories, resize_ and .T/.mT/.H/.mH/.layout:
# _tensor_conversions.py; they become Tensor's own methods (which the registry's method
# bindings, ops/bind.py, leave in place)
from ._tensor_conversions import TensorConversions as _Conversions  # noqa: E402
for _k, _v in vars(_Conversions).items():
    if not _k.startswith("__"):
        getattr(_v, "fget", _v).__qualname__ = f"Tensor.{_k}"    # as if written in Tensor
        setattr(Tensor, _k, _v)
del _k, _v

_registry._set_tensor_class(Tensor)


def _check_assigned_grad(self, g):
    """PyTorch's checks of `t.grad = g` (THPVariable_set_grad), in its order: a gradient of
    another dtype, device (type, then index) or size would reach the optimizers and the
    accumulation unnoticed (a CPU .grad of a CUDA parameter mixes devices in step())."""
    if not isinstance(g, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                        f"type {type(g).__name__}")
    if g is self:
        raise RuntimeError("can't assign Variable as its own grad")
    want = self._dtype
    if self._ag is not None and self._ag.grad_dtype is not SAME_DTYPE:
        want = self._ag.grad_dtype
    if want is not None and g._dtype is not want:
        from .dtypes import CPP_NAMES
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{CPP_NAMES.get(g._dtype.name, g._dtype.name)}'"
            f" to a tensor with grad_dtype '{want.short_name}'. The gradient must "
            f"match the tensor's grad_dtype (defaults to the tensor's dtype). You can set "
            f"the tensor's grad_dtype attribute with a specific dtype, or None to allow any "
            f"dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its "
            f"gradient may break downstream systems that assume they match.")
    gd, sd = g._device, self._device
    if gd is not sd:
        if gd.type != sd.type:
            raise RuntimeError(f"attempting to assign a gradient with device type '{gd.type}' "
                               f"to a tensor with device type '{sd.type}'. Please ensure "
                               f"that the gradient and the tensor are on the same device")
        if gd.index != sd.index:
            raise RuntimeError(f"attempting to assign a gradient located on device with "
                               f"index '{gd.index}' to a tensor located on device with index "
                               f"'{sd.index}'. Please ensure that the gradient and the "
                               f"tensor are on the same device")
    try:
        same = g._data.shape == self._data.shape
    except NotImplementedError:     # (a sparse gradient: embedding(sparse=True)'s)
        same = tuple(g.shape) == tuple(self.shape)
    if not same:
        raise RuntimeError(f"attempting to assign a gradient of size '{list(g.shape)}' to a "
                           f"tensor of size '{list(self.shape)}'. Please ensure that the "
                           f"gradient and the tensor are the same size")
