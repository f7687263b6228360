"""bfloat16 inputs of the normalizations with float32 parameters (bfloat16_kernels.py's
TENSOR_IMPLS takes these in: NotImplemented runs the op's own impl). ATen's CPU kernels of
layer_norm, group_norm and batch_norm take a "mixed type" run, a bfloat16 (or float16)
input with float32 weight / bias / running statistics, computing in float and rounding
the result once to the input's dtype (an AMP model's norm layers keep float32
parameters: nn.LayerNorm under torch.autocast gives bfloat16). bfloat16_support.finish
would label the result float32 (the operands are not all bfloat16); and the dtype checks,
which read the float32 carrier arrays, would not see a bfloat16 parameter beside a float
input, which ATen refuses."""
from __future__ import annotations

from .bfloat16_support import BF16

__all__ = ["TENSOR_IMPLS"]


def _check(input, params):
    """ATen's is_mixed_type / check_mixed_data_type for the parameters in its order, on
    the tensors' dtypes (a bfloat16 tensor's array is float32): nn_norm.mixed_param_dtypes."""
    from .nn_norm import mixed_param_dtypes
    return mixed_param_dtypes(input._dtype, [t._dtype for t in params if t is not None])


def _mixed(name, positions):
    """name's bfloat16 impl: its parameters at positions (of the arguments after input)."""
    def impl(input, *rest):
        params = [rest[i] if i < len(rest) else None for i in positions]
        if not isinstance(input, _dt_tensor()) or any(
                p is not None and not isinstance(p, _dt_tensor()) for p in params):
            return NotImplemented
        if not _check(input, params) or input._dtype is not BF16:
            return NotImplemented
        from .registry import OPS
        return OPS[name].eager(input.float(), *rest).bfloat16()
    return impl


def _dt_tensor():
    from .registry import _Tensor
    return _Tensor


TENSOR_IMPLS = {
    "aten::layer_norm": _mixed("aten::layer_norm", (1, 2)),
    "aten::group_norm": _mixed("aten::group_norm", (1, 2)),
    "aten::batch_norm": _mixed("aten::batch_norm", (0, 1, 2, 3)),
}
