"""The matrix-product family's device checks in PyTorch's words.

PyTorch's matrix products (mm, bmm, addmm, baddbmm, addmv, dot, vdot, addbmm, addr and
their in-place forms) are CUDA kernels whose generated wrapper checks its tensor
arguments' devices exactly (c10::impl::check_and_update_common_device, torchgen's
register_dispatch_key.gen_device_check): the first tensor's device is the common one,
the first argument on another device fails, a 0-dim CPU tensor gets no exception, and the
error names the argument and the wrapper:

    Expected all tensors to be on the same device, but got mat2 is on cpu, different from
    other tensors on cuda:0 (when checking argument in method wrapper_CUDA_mm)

(a structured kernel's wrapper is `wrapper_CUDA_<name>`, an unstructured one's
`wrapper_CUDA__<name>`). The composite ops (matmul, mv, linear, inner, tensordot) fail in
the kernel they decompose into, with that kernel's argument names: mv is
addmv_(empty on vec's device, self, vec), matmul picks dot / mv / mm / bmm by the
operands' dimensions (LinearAlgebra.cpp's _matmul_impl and should_fold), linear is addmm
of (bias, input, weight.t()) or a matmul and an add_.

Each rule is `op.device_check(xs)`: xs are the tensor operands the entry point joins
(registry._operand_device), the result the error to raise, or None where PyTorch's kernel
accepts the devices. The rules run only where the devices differ (or a 0-dim CPU tensor
joins a GPU one): the entry points' common path never calls them.
"""
from __future__ import annotations

from .registry import OPS

__all__ = ["exact", "mismatch_error"]


def mismatch_error(name, dev, common, wrapper):
    return RuntimeError(
        f"Expected all tensors to be on the same device, but got {name} is on {dev}, "
        f"different from other tensors on {common} (when checking argument in method "
        f"{wrapper})")


def _is_tensor(x):
    from ..tensor import Tensor
    return isinstance(x, Tensor)


def _first_clash(pairs, wrapper):
    """check_and_update_common_device over (argument name, device or None) pairs."""
    common = None
    for name, dev in pairs:
        if dev is None:
            continue
        if common is None:
            common = dev
        elif dev is not common:
            return mismatch_error(name, dev, common, wrapper)
    return None


def _dev(x):
    return x._device if _is_tensor(x) else None


def exact(wrapper, names):
    """The rule of a kernel that checks the tensors `names` (its schema's, in order)."""
    def check(xs):
        return _first_clash([(n, _dev(x)) for n, x in zip(names, xs)], wrapper)
    check.wrapper = wrapper
    return check


def _iterator_clash(devs):
    """TensorIterator's check (add_, mul): 0-dim CPU tensors excepted (devs: (device,
    ndim) pairs)."""
    from ..device import device as _device
    cpu = _device("cpu")
    common = None
    for d, ndim in devs:
        if d is cpu and ndim == 0:
            continue
        if common is None:
            common = d
        elif d is not common:
            return RuntimeError(f"Expected all tensors to be on the same device, but found at "
                                f"least two devices, {common} and {d}!")
    return None


# ------------------------------------------------------------------ matmul

def _should_fold(d1, d2, t2_requires_grad, t1_numel, t1_shape, t1_strides, tensor1_dim):
    """LinearAlgebra.cpp's should_fold (t1: the larger operand, transposed when it is
    the second)."""
    dim_t1, dim_t2 = max(d1, d2), (d2 if d1 >= d2 else d1)
    if not (dim_t1 >= 3 and dim_t2 <= 2):
        return False
    if t2_requires_grad:
        return True
    if tensor1_dim == 2:
        return False
    if t1_numel == 0:
        return True
    for i in range(dim_t1 - 2):
        if t1_strides[i] != t1_strides[i + 1] * t1_shape[i + 1]:
            return False
    return True


def _mT(shape, strides):
    return shape[:-2] + shape[-2:][::-1], strides[:-2] + strides[-2:][::-1]


def matmul_clash(a, b, a_rg=None, b_rg=None, b_shape=None, b_strides=None):
    """The kernel matmul(a, b) reaches and its device error (None: the devices pass).
    b_shape / b_strides: b's as matmul sees them (linear passes weight.t()'s)."""
    da, db = a._device, b._device
    sa = tuple(a.shape)
    sb = tuple(b.shape) if b_shape is None else b_shape
    n1, n2 = len(sa), len(sb)
    if n1 == 0 or n2 == 0:
        return RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                            f"{n1}D and {n2}D")
    if da is db:
        return None
    if n1 == 1 and n2 == 1:
        return mismatch_error("tensor", db, da, "wrapper_CUDA__dot")
    if n1 == 2 and n2 == 1:
        return _MV(a, b)
    if n1 <= 2 and n2 == 2:
        return mismatch_error("mat2", db, da, "wrapper_CUDA_mm")
    a_rg = a.requires_grad if a_rg is None else a_rg
    b_rg = b.requires_grad if b_rg is None else b_rg
    st_a = tuple(a.stride())
    st_b = tuple(b.stride()) if b_strides is None else b_strides
    if n1 >= n2:
        t1_shape, t1_strides, t2_rg = sa, st_a, b_rg
    else:
        t1_shape, t1_strides = _mT(sb, st_b)
        t2_rg = a_rg
    numel = 1
    for s in t1_shape:
        numel *= s
    if _should_fold(n1, n2, t2_rg, numel, t1_shape, t1_strides, n1):
        if n2 > n1:                 # (t1 = b.mT(), t2 = a or a.t())
            big, small = db, da
            t2_matrix = n1 == 2
        else:
            big, small = da, db
            t2_matrix = n2 == 2
        if t2_matrix:
            return mismatch_error("mat2", small, big, "wrapper_CUDA_mm")
        # mv(t1_folded, t2): addmv_(empty on t2's device, t1_folded, t2)
        return mismatch_error("mat", big, small, "wrapper_CUDA_addmv_")
    return mismatch_error("mat2", db, da, "wrapper_CUDA_bmm")


def _MV(mat, vec):
    """mv(mat, vec) = addmv_(empty on vec's device, mat, vec)."""
    return _first_clash([("self", vec._device), ("mat", mat._device), ("vec", vec._device)],
                        "wrapper_CUDA_addmv_")


def _matmul(xs):
    a, b = xs[0], xs[1]
    if not (_is_tensor(a) and _is_tensor(b)):
        return None
    return matmul_clash(a, b)


def _mv(xs):
    a, b = xs[0], xs[1]
    if not (_is_tensor(a) and _is_tensor(b)):
        return None
    return _MV(a, b)


def _linear(xs):
    """Linear.cpp's linear: addmm(bias, input, weight.t()) for a 2-D input with a bias,
    or an n-D contiguous one with a bias that squeezes to 1-D and is contiguous; else
    matmul(input, weight.t()) and then output.add_(bias)."""
    input, weight = xs[0], xs[1]
    bias = xs[2] if len(xs) > 2 else None
    if not (_is_tensor(input) and _is_tensor(weight)):
        return None
    ni, nw = input.dim(), weight.dim()
    if ni == 0 or nw == 0:
        return RuntimeError(f"both arguments to linear need to be at least 1D, but they "
                            f"are {ni}D and {nw}D")
    has_bias = _is_tensor(bias)
    fusable = has_bias and (bias.dim() == 1 or bias.squeeze().dim() == 1) and \
        bias.is_contiguous()
    if has_bias and (ni == 2 or (fusable and input.is_contiguous())):
        return _first_clash([("self", bias._device), ("mat1", input._device),
                             ("mat2", weight._device)], "wrapper_CUDA_addmm")
    shape, strides = tuple(weight.shape)[::-1], tuple(weight.stride())[::-1]
    e = matmul_clash(input, weight, b_shape=shape, b_strides=strides)
    if e is not None or not has_bias:
        return e
    return _iterator_clash([(input._device, 1), (bias._device, bias.dim())])


def _tensordot(xs):
    """tensordot (and inner, of no 0-dim operand) ends in mm(self's, other's)."""
    a, b = xs[0], xs[1]
    if not (_is_tensor(a) and _is_tensor(b)):
        return None
    if a._device is b._device:
        return None
    return mismatch_error("mat2", b._device, a._device, "wrapper_CUDA_mm")


def _inner(xs):
    a, b = xs[0], xs[1]
    if not (_is_tensor(a) and _is_tensor(b)):
        return None
    if a.dim() == 0 or b.dim() == 0:            # self * other: TensorIterator's rule
        return _iterator_clash([(a._device, a.dim()), (b._device, b.dim())])
    return _tensordot(xs)


# ------------------------------------------------------------------ the table

def _names(op_name):
    s = OPS[op_name].schema
    return [a.name for a in s.arguments if a.type.base == "Tensor" and not a.kwarg_only]


# op -> its CUDA wrapper (structured kernels: wrapper_CUDA_<name>; unstructured:
# wrapper_CUDA__<name>); the tensors checked are the schema's positional ones
_EXACT = {
    "aten::mm": "wrapper_CUDA_mm",
    "aten::bmm": "wrapper_CUDA_bmm",
    "aten::addmm": "wrapper_CUDA_addmm",
    "aten::addmm_": "wrapper_CUDA_addmm_",
    "aten::baddbmm": "wrapper_CUDA_baddbmm",
    "aten::baddbmm_": "wrapper_CUDA_baddbmm_",
    "aten::addmv": "wrapper_CUDA_addmv",
    "aten::addmv_": "wrapper_CUDA_addmv_",
    "aten::dot": "wrapper_CUDA__dot",
    "aten::vdot": "wrapper_CUDA__vdot",
    "aten::addbmm": "wrapper_CUDA__addbmm",
    "aten::addbmm_": "wrapper_CUDA__addbmm_",
    "aten::addr": "wrapper_CUDA__addr",
    "aten::addr_": "wrapper_CUDA__addr_",
}

for _name, _wrapper in _EXACT.items():
    OPS[_name].device_check = exact(_wrapper, _names(_name))
OPS["aten::matmul"].device_check = _matmul
OPS["aten::mv"].device_check = _mv
OPS["aten::linear"].device_check = _linear
OPS["aten::tensordot"].device_check = _tensordot
OPS["aten::inner"].device_check = _inner
