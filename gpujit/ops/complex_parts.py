"""The complex-number ops: angle, abs's sibling parts, conj / conj_physical /
resolve_conj / resolve_neg, real / imag, view_as_real / view_as_complex, complex and polar.

On a real tensor conj & co. and real are the tensor itself (PyTorch returns `self`), imag is
PyTorch's error. On a complex one real / imag / view_as_real are views of its memory
(NumPy's and CuPy's `.real` / `.imag`: writing `x.real[0] = 5` changes x, as in PyTorch).
gpujit has no conjugate bit: `x.conj()` of a complex tensor is `conj_physical(x)`, a new
tensor (PyTorch's is a lazy view with `is_conj()` True; writes through it do not reach x
here), and `is_conj()` / `resolve_conj` see no bit to resolve.

The ops are registry ops (TorchScript's aten::conj ... in scripted and traced code).
"""
from __future__ import annotations

import numpy as _np

from .. import dtypes as _dt
from ..tensor import Tensor
from .meta import TensorMeta, same_as
from .registry import OPS
from .registry import derivative as _derivative
from .registry import op, tensor_method

PUBLIC = {}


@op("aten::angle(Tensor self) -> Tensor", tags={"pointwise"}, promote="float_real",
    scalar="where(isnan({self}), {self}, where({self} < 0, 3.141592653589793, 0))")
def angle(xp, self):
    """The argument of a real number: pi where x < 0, 0 where x >= 0 (-0.0 too), NaN kept;
    of a complex one atan2(imag, real)."""
    if self.dtype.kind == "c":
        return xp.arctan2(self.imag, self.real)
    kind = self.dtype if self.dtype.kind == "f" else _np.float64
    r = xp.where(self < 0, _np.pi, 0.0).astype(kind, copy=False)
    return xp.where(xp.isnan(self), self, r) if self.dtype.kind == "f" else r


@_derivative(angle)
def _angle_grad(grad, self):
    """Piecewise constant on the reals: zero gradient, as PyTorch's angle_backward; of a
    complex z: grad * z / |z|^2 * 1j, 0 where z is 0."""
    from .. import zeros_like, where
    if not self._dtype.cplx:
        return zeros_like(grad)
    return where(self == 0, 0.0, grad * self / self.abs().pow(2) * 1j)


_CONJUGATING = frozenset({"conj", "conj_physical"})


def _identity_op(name):
    """aten::<name>(Tensor(a) self) -> Tensor(a): an alias in graphs, `self` eagerly, of a
    real tensor; of a complex one conj / conj_physical conjugate (a new tensor: no
    conjugate bit), real is the view of the real parts."""
    @op(f"aten::{name}(Tensor(a) self) -> Tensor(a)", tags={"view"}, meta=same_as(0)
        if name != "real" else _real_meta, method=False, function=False)
    def impl(xp, self):
        if self.dtype.kind == "c":
            if name in _CONJUGATING:
                return xp.conj(self)
            if name == "real":
                return self.real
        return self.view()
    impl.__name__ = name
    _derivative(impl)(lambda grad: grad)
    op_def = impl.op

    def eager(input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        if input._dtype.cplx and (name in _CONJUGATING or name == "real"):
            # (Tensor.conj of a complex tensor is ATen's _conj: what a trace records)
            return (_conj.op if name == "conj" else op_def).public(input)
        return input
    eager.__name__ = eager.__qualname__ = name
    eager.__doc__ = (f"torch.{name}: a real tensor is its own {name} (returned itself); "
                     f"ops/complex_parts.py for a complex one.")
    PUBLIC[name] = eager
    if name != "real":                 # Tensor.real is a property
        tensor_method(name)(eager)
    return impl


def _real_meta(self):
    return TensorMeta(self.dtype.to_real(), tuple(self.shape), self.device)


@op("aten::_conj(Tensor(a) self) -> Tensor(a)", tags={"view"}, meta=same_as(0), method=False,
    function=False)
def _conj(xp, self):
    """The conjugate (a new tensor: no conjugate bit) that Tensor.conj / torch.conj of a
    complex tensor run, as ATen's conj, a composite, calls _conj (traces record it)."""
    return xp.conj(self) if self.dtype.kind == "c" else self.view()


for _name in ("conj", "conj_physical", "resolve_conj", "resolve_neg", "real"):
    _identity_op(_name)


@tensor_method("conj_physical_")
def _conj_physical_(self):
    """In place: nothing changes in a real tensor; a complex one is conjugated."""
    if self._dtype.cplx:
        from .registry import OPS
        return OPS["aten::copy_"].public(self, OPS["aten::conj_physical"].public(self))
    return self


_IMAG_ERROR = "imag is not implemented for tensors with non-complex dtypes."


@op("aten::imag(Tensor(a) self) -> Tensor(a)", tags={"view"}, meta=_real_meta, method=False)
def imag(xp, self):
    """The view of a complex tensor's imaginary parts; a real tensor has none (PyTorch's
    error)."""
    if self.dtype.kind != "c":
        raise RuntimeError(_IMAG_ERROR)
    return self.imag


def _real_property(self):
    return self if not self._dtype.cplx else real.public(self)


def _imag_property(self):
    return imag.op.public(self)


# ------------------------------------------------------------------ view_as_real / complex

def _view_as_real_meta(self):
    if not self.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return TensorMeta(self.dtype.to_real(), tuple(self.shape) + (2,), self.device)


@op("aten::view_as_real(Tensor(a) self) -> Tensor(a)", tags={"view"}, meta=_view_as_real_meta)
def view_as_real(xp, self):
    """A complex tensor's memory as real numbers, a last dim of 2 (real, imaginary)."""
    if self.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    re = self.real                  # (a view: self's strides, the real dtype)
    return xp.lib.stride_tricks.as_strided(re, shape=self.shape + (2,),
                                           strides=re.strides + (re.itemsize,))


def _view_as_complex_dtype(dt):
    if dt.name not in ("float16", "float32", "float64"):
        raise RuntimeError(f"view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: {dt.short_name}")
    if dt.name == "float16":
        raise _dt.complex32.error()
    return dt.to_complex()


def _view_as_complex_meta(self):
    dt = _view_as_complex_dtype(self.dtype)
    if not self.shape or self.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    return TensorMeta(dt, tuple(self.shape[:-1]), self.device)


@op("aten::view_as_complex(Tensor(a) self) -> Tensor(a)", tags={"view"},
    meta=_view_as_complex_meta)
def view_as_complex(xp, self):
    """Pairs of real numbers along the last dim (of size 2, stride 1, every other stride
    and the storage offset even) as the complex numbers in their memory."""
    dt = _view_as_complex_dtype(_dt.from_numpy_dtype(self.dtype))
    if not self.ndim or self.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    isz = self.itemsize
    if self.strides[-1] != isz:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(st % (2 * isz) for st in self.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last "
                           "dimension")
    from ..storage import _root
    from .overlap import _ptr
    if (_ptr(self) - _root(self)[0]) // isz % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    shape = self.shape[:-1]
    if self.size == 0:
        return xp.empty(shape, dt.np)
    first = self[(0,) * (self.ndim - 1)]        # (2,) contiguous: the first pair
    return xp.lib.stride_tricks.as_strided(first.view(dt.np), shape=shape,
                                           strides=self.strides[:-1])


# ------------------------------------------------------------------ complex / polar

def _complex_dtype(a, b, what):
    da, db = _dt.from_numpy_dtype(a.dtype), _dt.from_numpy_dtype(b.dtype)
    ok = ("float16", "float32", "float64")
    if da.name not in ok or db.name not in ok:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{da.short_name} and {db.short_name}")
    if da is not db:
        raise RuntimeError(f"Expected object of scalar type {da.short_name} but got scalar "
                           f"type {db.short_name} for second argument")
    return _view_as_complex_dtype(da)


def _pair_meta(what):
    def meta(a, b):
        from .meta import broadcast_shapes
        dt = _complex_dtype(_np.empty(0, a.dtype.np), _np.empty(0, b.dtype.np), what)
        return TensorMeta(dt, broadcast_shapes(tuple(a.shape), tuple(b.shape)), a.device)
    return meta


def _from_parts(xp, re, im, dt):
    re, im = xp.broadcast_arrays(re, im)
    out = xp.empty(re.shape, dt.np)
    out.real[...] = re              # (not re + 1j * im: 1j * inf is nan + inf j)
    out.imag[...] = im
    return out


@op("aten::complex(Tensor real, Tensor imag) -> Tensor", meta=_pair_meta("complex"),
    method=False)
def complex(xp, real, imag):
    """The complex tensor real + imag j (broadcast; both float32 or both float64)."""
    return _from_parts(xp, real, imag, _complex_dtype(real, imag, "complex"))


@op("aten::polar(Tensor abs, Tensor angle) -> Tensor", meta=_pair_meta("polar"),
    method=False)
def polar(xp, abs, angle):
    """abs * (cos(angle) + sin(angle) j), each part computed in the real dtype."""
    dt = _complex_dtype(abs, angle, "polar")
    return _from_parts(xp, abs * xp.cos(angle), abs * xp.sin(angle), dt)


def _set_real(self, value):
    OPS["aten::copy_"].public(_real_property(self), value)


def _set_imag(self, value):
    OPS["aten::copy_"].public(_imag_property(self), value)


def view_as_real_copy(input):
    """torch.view_as_real_copy: view_as_real's values, a new contiguous tensor."""
    return view_as_real.op.public(input).clone(memory_format=_contiguous())


def view_as_complex_copy(input):
    """torch.view_as_complex_copy: view_as_complex's values, a new contiguous tensor."""
    return view_as_complex.op.public(input).clone(memory_format=_contiguous())


def _contiguous():
    from .. import contiguous_format
    return contiguous_format


PUBLIC["imag"] = imag.op.public
PUBLIC["view_as_real_copy"] = view_as_real_copy
PUBLIC["view_as_complex_copy"] = view_as_complex_copy
real = OPS["aten::real"]
# (x.real = y / x.imag = y copy y into the parts, as PyTorch's setters)
Tensor.real = property(_real_property, _set_real, doc="The real parts: the tensor itself "
                                                      "when it is real, else a view of them.")
Tensor.imag = property(_imag_property, _set_imag, doc="The view of the imaginary parts of a "
                                                      "complex tensor (PyTorch's error for a "
                                                      "real one).")


# --------------------------------------------------------------------------------------
# derivatives, as derivatives.yaml's (PyTorch's convention: a tensor's gradient is the
# conjugate Wirtinger derivative; a real gradient reaching a complex input is cast to it)

@_derivative("aten::conj", "aten::conj_physical", "aten::_conj")
def _conj_grad(grad):
    return grad.conj() if grad._dtype.cplx else grad


@_derivative(imag)
def _imag_grad(grad):
    """The imaginary parts' gradient lands in the imaginary parts: 0 + grad j."""
    return OPS["aten::complex"].public(grad.new_zeros(()), grad)


@_derivative(view_as_real)
def _view_as_real_grad(grad):
    return OPS["aten::view_as_complex"].public(grad.contiguous())


@_derivative(view_as_complex)
def _view_as_complex_grad(grad):
    return OPS["aten::view_as_real"].public(grad)


@_derivative(complex)
def _complex_grad(grad, needs_grad):
    return (grad.real if needs_grad[0] else None,
            OPS["aten::imag"].public(grad) if needs_grad[1] else None)


@_derivative(polar)
def _polar_grad(grad, result):
    """PyTorch's polar_backward: Re(conj(grad) * sgn(result)) for abs, Re(conj(grad) *
    result * 1j) for angle."""
    gc = grad.conj()
    return (gc * result.sgn()).real, (gc * (result * 1j)).real
