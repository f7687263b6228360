"""torch.ao.nn.quantized: modules computing on quantized tensors, made from float modules
by torch.ao.quantization.convert (`from_float`): Linear (FBGEMM's quantized::linear
arithmetic, ops/quantized_ops.py), Conv1d / 2d / 3d, BatchNorm2d / 3d (conv.py), Quantize,
DeQuantize, ReLU6, LeakyReLU, Hardswish, ELU, Dropout."""
from __future__ import annotations

import gpujit as torch
from gpujit import nn

__all__ = ["Linear", "LinearPackedParams", "Quantize", "DeQuantize", "ReLU6", "LeakyReLU",
           "Hardswish", "ELU", "Dropout", "Conv1d", "Conv2d", "Conv3d", "BatchNorm2d",
           "BatchNorm3d", "FloatFunctional", "FXFloatFunctional", "QFunctional", "LayerNorm", "GroupNorm",
           "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "Embedding", "EmbeddingBag",
           "dynamic"]


def _quantize_weight(float_wt, observer):
    """The float weight quantized with the observer's qparams (per tensor, per channel or
    per channel of float qparams), as PyTorch's _quantize_weight."""
    wt_scale, wt_zp = observer.calculate_qparams()
    if observer.qscheme in (torch.per_tensor_symmetric, torch.per_tensor_affine):
        return torch.quantize_per_tensor(float_wt, float(wt_scale), int(wt_zp), torch.qint8)
    if observer.qscheme in (torch.per_channel_symmetric, torch.per_channel_affine):
        return torch.quantize_per_channel(float_wt, wt_scale.to(torch.double),
                                          wt_zp.to(torch.int64), observer.ch_axis,
                                          torch.qint8)
    if observer.qscheme is torch.per_channel_affine_float_qparams:
        return torch.quantize_per_channel(float_wt, wt_scale.to(torch.float),
                                          wt_zp.to(torch.float), observer.ch_axis,
                                          observer.dtype)
    raise ValueError(f"Unexpected qscheme {observer.qscheme}")


class LinearPackedParams(nn.Module):
    """A quantized linear's packed weight: `_packed_params`, quantized::linear_prepack's
    LinearPackedParamsBase object of the qint8 weight and the float bias (no parameter
    nor buffer: PyTorch's state dict holds its unpacked (weight, bias) under
    `_packed_params`)."""
    _version = 3

    def __init__(self, dtype=torch.qint8):
        super().__init__()
        self.dtype = dtype
        self.set_weight_bias(_empty_qweight(1, 1), None)

    def set_weight_bias(self, weight, bias):
        if self.dtype is not torch.qint8:
            raise RuntimeError("Unsupported dtype on dynamic quantized linear!")
        self._packed_params = torch.ops.quantized.linear_prepack(weight, bias)

    def _weight_bias(self):
        return torch.ops.quantized.linear_unpack(self._packed_params)

    def forward(self, x):
        return x

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "dtype"] = self.dtype
        destination[prefix + "_packed_params"] = self._weight_bias()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        self.dtype = torch.qint8 if version is None or version < 2 else \
            state_dict.pop(prefix + "dtype")
        if version is None or version < 3:
            self.set_weight_bias(state_dict.pop(prefix + "weight"),
                                 state_dict.pop(prefix + "bias"))
        else:
            w, b = state_dict.pop(prefix + "_packed_params")
            self.set_weight_bias(w, b)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False,
                                      missing_keys, unexpected_keys, error_msgs)

    def __repr__(self):
        return self._weight_bias().__repr__()


def _empty_qweight(out_features, in_features):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.quantize_per_tensor(torch.zeros(out_features, in_features), 1.0, 0,
                                         torch.qint8)


class Linear(nn.Module):
    """A quantized linear: quint8 in, quint8 out of (scale, zero_point); the weight qint8
    (per tensor or per channel), the bias float (x86 / FBGEMM's arithmetic)."""
    _version = 3
    _FLOAT_MODULE = (nn.Linear,)

    def __init__(self, in_features, out_features, bias_=True, dtype=torch.qint8):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        bias = torch.zeros(out_features, dtype=torch.float) if bias_ else None
        if dtype is not torch.qint8:
            raise RuntimeError("Unsupported dtype specified for quantized Linear!")
        self._packed_params = LinearPackedParams(dtype)
        self._packed_params.set_weight_bias(_empty_qweight(out_features, in_features), bias)
        self.scale = 1.0
        self.zero_point = 0

    def _get_name(self):
        return "QuantizedLinear"

    def __repr__(self):
        # (the packed parameters are no child in PyTorch's repr: _hide_packed_params_repr)
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        children = ["(" + k + "): " + repr(m).replace("\n", "\n  ")
                    for k, m in self._modules.items() if not isinstance(m, LinearPackedParams)]
        lines = extra + children
        body = ""
        if lines:
            body = extra[0] if len(extra) == 1 and not children else \
                "\n  " + "\n  ".join(lines) + "\n"
        return self._get_name() + "(" + body + ")"

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"scale={self.scale}, zero_point={self.zero_point}, "
                f"qscheme={self.weight().qscheme()}")

    def forward(self, x):
        return torch.ops.quantized.linear(x, self._packed_params._packed_params, self.scale,
                                          self.zero_point)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "scale"] = torch.tensor(self.scale)
        destination[prefix + "zero_point"] = torch.tensor(self.zero_point)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        self.scale = float(state_dict.pop(prefix + "scale", self.scale))
        self.zero_point = int(state_dict.pop(prefix + "zero_point", self.zero_point))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False,
                                      missing_keys, unexpected_keys, error_msgs)

    def _weight_bias(self):
        return self._packed_params._weight_bias()

    def weight(self):
        return self._weight_bias()[0]

    def bias(self):
        return self._weight_bias()[1]

    def set_weight_bias(self, w, b):
        self._packed_params.set_weight_bias(w, b)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized linear of an observed float linear (prepare's
        activation_post_process gives the output's scale and zero point)."""
        from gpujit.ao.nn.intrinsic import LinearReLU as _FusedLinearReLU
        if hasattr(mod, "weight_fake_quant"):       # (a QAT linear: its fake quantizer)
            weight_post_process = mod.weight_fake_quant
            activation_post_process = mod.activation_post_process
        else:
            if not isinstance(mod, cls._FLOAT_MODULE + (_FusedLinearReLU,)):
                raise AssertionError(f"nnq.{cls.__name__}.from_float only works for "
                                     f"{cls._FLOAT_MODULE[0].__name__}, but got: "
                                     f"{type(mod)}")
            if not hasattr(mod, "qconfig"):
                raise AssertionError("Input float module must have qconfig defined")
            activation_post_process = mod.activation_post_process
            if type(mod) is _FusedLinearReLU:
                mod = mod[0]
            weight_post_process = mod.qconfig.weight()
        weight_post_process(mod.weight)
        dtype = weight_post_process.dtype
        act_scale, act_zp = activation_post_process.calculate_qparams()
        if dtype is not torch.qint8:
            raise AssertionError("Weight observer must have dtype torch.qint8")
        qweight = _quantize_weight(mod.weight.float(), weight_post_process)
        qlinear = cls(mod.in_features, mod.out_features, dtype=dtype)
        qlinear.set_weight_bias(qweight, mod.bias)
        qlinear.scale = float(act_scale)
        qlinear.zero_point = int(act_zp)
        return qlinear


class Quantize(nn.Module):
    """torch.quantize_per_tensor(x, scale, zero_point, dtype) (a QuantStub converted)."""

    def __init__(self, scale, zero_point, dtype, factory_kwargs=None):
        super().__init__()
        self.register_buffer("scale", torch.tensor([scale]))
        self.register_buffer("zero_point", torch.tensor([zero_point], dtype=torch.long))
        self.dtype = dtype

    def forward(self, X):
        return torch.quantize_per_tensor(X, float(self.scale), int(self.zero_point),
                                         self.dtype)

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        if not hasattr(mod, "activation_post_process"):
            raise AssertionError("Input float module must have activation_post_process")
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return Quantize(scale.float().item(), zero_point.long().item(),
                        mod.activation_post_process.dtype)

    def extra_repr(self):
        return f"scale={self.scale}, zero_point={self.zero_point}, dtype={self.dtype}"


class DeQuantize(nn.Module):
    """x.dequantize() (a DeQuantStub converted)."""

    def forward(self, Xq):
        return Xq.dequantize()

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return DeQuantize()


class ReLU6(nn.ReLU6):
    """relu6 on a quantized tensor (clamped at its quantized 0 and 6)."""

    def forward(self, input):
        return torch.ops.quantized.relu6(input, self.inplace)

    def _get_name(self):
        return "QuantizedReLU6"

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return ReLU6(mod.inplace)


class LeakyReLU(nn.LeakyReLU):
    """leaky_relu on a quantized tensor, requantized to (scale, zero_point)."""

    def __init__(self, scale, zero_point, negative_slope=1e-2, inplace=False, device=None,
                 dtype=None):
        super().__init__(negative_slope, inplace)
        self.register_buffer("scale", torch.tensor(scale))
        self.register_buffer("zero_point", torch.tensor(zero_point))

    def forward(self, input):
        return torch.ops.quantized.leaky_relu(input, self.negative_slope, self.inplace,
                                              float(self.scale), int(self.zero_point))

    def _get_name(self):
        return "QuantizedLeakyReLU"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return cls(float(scale), int(zero_point), mod.negative_slope, mod.inplace)


class Hardswish(nn.Hardswish):
    """hardswish on a quantized tensor, quantized with (scale, zero_point)."""

    def __init__(self, scale, zero_point, device=None, dtype=None):
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale))
        self.register_buffer("zero_point", torch.tensor(zero_point))

    def forward(self, input):
        return torch.ops.quantized.hardswish(input, float(self.scale), int(self.zero_point))

    def _get_name(self):
        return "QuantizedHardswish"

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return Hardswish(float(scale), int(zero_point))


class ELU(nn.ELU):
    """elu on a quantized tensor, quantized with (scale, zero_point)."""

    def __init__(self, scale, zero_point, alpha=1.0):
        super().__init__(alpha)
        self.scale = scale
        self.zero_point = zero_point

    def forward(self, input):
        return torch.ops.quantized.elu(input, self.scale, self.zero_point, self.alpha)

    def _get_name(self):
        return "QuantizedELU"

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return ELU(float(scale), int(zero_point), mod.alpha)


class Dropout(nn.Dropout):
    """Dropout of a converted model: an identity (inference)."""

    def forward(self, input):
        return input

    def _get_name(self):
        return "QuantizedDropout"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return cls(mod.p, mod.inplace)


from .conv import Conv1d, Conv2d, Conv3d, BatchNorm2d, BatchNorm3d  # noqa: E402
from .functional_modules import (FloatFunctional, FXFloatFunctional,  # noqa: E402
                                 QFunctional)
from .normalization import (LayerNorm, GroupNorm, InstanceNorm1d,  # noqa: E402
                            InstanceNorm2d, InstanceNorm3d)
from .embedding import Embedding, EmbeddingBag  # noqa: E402
from . import dynamic  # noqa: E402,F401  (after Linear: dynamic.Linear derives from it)
