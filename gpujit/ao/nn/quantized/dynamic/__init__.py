"""torch.ao.nn.quantized.dynamic: modules with quantized weights whose inputs are
quantized on the fly (torch.ao.quantization.quantize_dynamic): Linear."""
from __future__ import annotations

import gpujit as torch

from .. import Linear as _QLinear, _quantize_weight

__all__ = ["Linear"]


class Linear(_QLinear):
    """Dynamically quantized linear: float in, float out; each call quantizes its input to
    quint8 (range [0, 127]: reduce_range, as x86 / FBGEMM's quantized::linear_dynamic) and
    computes with the qint8 weight (ops/quantized_ops.quantized_linear_dynamic)."""
    _version = 4

    def __init__(self, in_features, out_features, bias_=True, dtype=torch.qint8):
        super().__init__(in_features, out_features, bias_, dtype=dtype)
        self.version = 4

    def forward(self, x):
        return torch.ops.quantized.linear_dynamic(x, self._packed_params._packed_params,
                                                  reduce_range=True)

    def _get_name(self):
        return "DynamicQuantizedLinear"

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"dtype={self._packed_params.dtype}, qscheme={self.weight().qscheme()}")

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamic quantized linear of a float linear: its weight observed and quantized
        with mod.qconfig's weight observer."""
        float_modules = (torch.nn.Linear,)
        if not isinstance(mod, float_modules):
            raise AssertionError("nn.quantized.dynamic.Linear.from_float only works for one "
                                 "of " + str([m.__name__ for m in float_modules]))
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        if mod.qconfig is not None and mod.qconfig.weight is not None:
            weight_observer = mod.qconfig.weight()
        else:
            from gpujit.ao.quantization.qconfig import default_dynamic_qconfig
            weight_observer = default_dynamic_qconfig.weight()
        dtype = weight_observer.dtype
        if dtype is not torch.qint8:
            raise RuntimeError(f"Unsupported dtype specified for dynamic quantized Linear! "
                               f"Expected qint8, got {dtype}")
        weight_observer(mod.weight)
        qweight = _quantize_weight(mod.weight.float(), weight_observer)
        qlinear = cls(mod.in_features, mod.out_features, dtype=dtype)
        qlinear.set_weight_bias(qweight, mod.bias)
        return qlinear
