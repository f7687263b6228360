"""torch._scaled_mm: a float8 matrix product with per-tensor or per-row scales, as
PyTorch 2.13's CPU kernel `_scaled_mm_out_cpu_emulated` (aten/src/ATen/native/Blas.cpp),
step for step:

- the scaling recipe first (get_joint_scaling, a ValueError naming both recipes): TensorWise
  when both matrices are float8 and both scales float32 singletons, RowWise when they are
  float8 and scale_a is a contiguous float32 (M, 1), scale_b a contiguous float32 (1, N);
  then "mat1 must be a matrix", the shapes, RowWise's stride checks, scale_result (one
  float32 element), the bias (N elements), in its words;
- the matrices decoded to float32 and multiplied by their scales in float32 (a TensorWise
  scale as a float, a RowWise one broadcast), their float32 product, the bias added in
  place, for a float8_e4m3fn / e5m2 out_dtype given explicitly the product times
  float(1 / scale_result), then converted to the result's dtype (out_dtype, else mat_a's)
  as .to() converts (e4m3fn saturating, e5m2 overflowing to inf, integers truncated).

(On CPUs with AMX-int8 PyTorch hands a call whose matrices share their float8 dtype to
oneDNN instead, whose e4m3fn results overflow to NaN rather than saturate and which refuses
the fnuz types; the emulated kernel is what it runs for everything else, and with
torch.backends.mkldnn disabled.)

The op's entry point finds its float8 operands (ops/float8.py: Float8Operand); the kernel
below then runs on Tensors. Called with no float8 operand at all, the impl raises the same
signal so that the recipe check, reading dtypes an array does not carry (bfloat16), runs
there too. PyTorch has no derivative for it: its autograd fallback node, NotImplemented.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import float8 as _f8
from . import registry as _reg
from .derivatives import not_implemented as _not_implemented
from .meta import TensorMeta
from .registry import op

_F8 = frozenset(_dt.FLOAT8_TYPES)
_SCALED_OUT = (_dt.float8_e4m3fn, _dt.float8_e5m2)


def _meta(self, mat2, scale_a, scale_b, bias=None, scale_result=None, out_dtype=None,
          use_fast_accum=False):
    m = self.shape[0] if len(self.shape) else 0
    n = mat2.shape[1] if len(mat2.shape) > 1 else 0
    return TensorMeta(out_dtype if out_dtype is not None else self.dtype, (m, n), self.device)


@op("aten::_scaled_mm(Tensor self, Tensor mat2, Tensor scale_a, Tensor scale_b, "
    "Tensor? bias=None, Tensor? scale_result=None, ScalarType? out_dtype=None, "
    "bool use_fast_accum=False) -> Tensor", method=False, meta=_meta)
def _scaled_mm(xp, self, mat2, scale_a, scale_b, bias=None, scale_result=None,
               out_dtype=None, use_fast_accum=False):
    # (no float8 operand: the Tensor-level kernel refuses the recipe, as PyTorch's)
    raise _f8.Float8Operand("_scaled_mm of no float8 matrix", _reg.OPS["aten::_scaled_mm"])


_not_implemented(_scaled_mm, message="derivative for aten::_scaled_mm is not implemented")


def _sizes(t):
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def _strides(t):
    return "[" + ", ".join(str(s) for s in t.stride()) + "]"


def _invalid_config(a, b, sa, sb):
    return ValueError(
        "Invalid scaling configuration.\n"
        "- For TensorWise scaling, a and b should be float8, scales should be float and "
        "singletons.\n"
        "- For RowWise scaling, a and b should be float8, scales should be float, scale_a "
        f"should be ({a.size(0)}, 1) and scale_b should be (1, {b.size(1)}), and both should "
        "be contiguous.\n"
        f"Got mat_a.dtype()={a.dtype.short_name}, scale_a.dtype()={sa.dtype.short_name}, "
        f"scale_a.size()={_sizes(sa)}, scale_a.stride()={_strides(sa)}, "
        f"mat_b.dtype()={b.dtype.short_name}, scale_b.dtype()={sb.dtype.short_name}, "
        f"scale_b.size()={_sizes(sb)} and scale_b.stride()={_strides(sb)}")


def _tensorwise(t, s):
    return t.dtype in _F8 and s.dtype is _dt.float32 and s.numel() == 1


def _rowwise(t, s):
    return (t.dtype in _F8 and s.dtype is _dt.float32 and s.dim() == 2 and
            s.size(0) == t.size(0) and s.size(1) == 1 and s.is_contiguous())


def _item(t):
    """The value of one-element float32 tensor t (its array read: no .item(), which a
    trace would warn about as a Python number leaving it)."""
    return float(t._data.reshape(-1)[0])


def scaled_mm_kernel(args):
    """_scaled_mm(*args) (schema order) on Tensors: see the module."""
    a, b, sa, sb, bias, scale_result, out_dtype = (list(args) + [None] * 7)[:7]
    if out_dtype is not None:
        out_dtype = _dt.scalar_type_arg(out_dtype)
    if _tensorwise(a, sa) and _tensorwise(b.t(), sb.t()):
        rowwise = False
    elif _rowwise(a, sa) and _rowwise(b.t(), sb.t()):
        rowwise = True
    else:
        raise _invalid_config(a, b, sa, sb)
    if a.dim() != 2:
        raise RuntimeError("mat1 must be a matrix")
    if b.dim() != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat_a and mat_b shapes cannot be multiplied ({a.shape[0]}x"
                           f"{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    if rowwise:
        for name, s in (("scale_a", sa), ("scale_b", sb)):
            if s.stride(1) != 1:
                raise ValueError(f"expected {name}.stride(1) to be 1, but got {s.stride(1)}")
    if scale_result is not None and (scale_result.numel() != 1 or
                                     scale_result.dtype is not _dt.float32):
        raise RuntimeError("scale_result must be a float scalar")
    if bias is not None and bias.numel() != b.shape[1]:
        raise RuntimeError(f"Bias must be size {b.shape[1]} but got {bias.numel()}")
    from ..autograd.grad_mode import no_grad
    result_dtype = out_dtype if out_dtype is not None else a.dtype
    scaled_out = (out_dtype if out_dtype is not None else _dt.bfloat16) in _SCALED_OUT
    with no_grad():
        fa = a.contiguous().to(_dt.float32)
        fb = b.contiguous().to(_dt.float32)
        if rowwise:
            fa, fb = fa * sa, fb * sb
        else:       # (scale.item<float>(): a float32 multiplier)
            fa, fb = fa * _item(sa), fb * _item(sb)
        out = fa.mm(fb)
        if bias is not None:
            out.add_(bias)
        if scaled_out:
            s = np.float32(_item(scale_result) if scale_result is not None else 1)
            with np.errstate(divide="ignore"):
                out = out * float(np.float32(1) / s)
        return out.to(result_dtype)


_f8.OWN_KERNELS["aten::_scaled_mm"] = scaled_mm_kernel
