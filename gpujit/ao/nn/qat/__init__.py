"""torch.ao.nn.qat: float modules for quantization-aware training, their weights
fake-quantized in forward (prepare_qat swaps them in, convert quantizes them): Linear,
Conv1d / Conv2d / Conv3d."""
from __future__ import annotations

import gpujit as torch
from gpujit import nn

__all__ = ["Linear", "Conv1d", "Conv2d", "Conv3d"]


class Linear(nn.Linear):
    """nn.Linear whose forward uses weight_fake_quant(weight) (qconfig.weight())."""
    _FLOAT_MODULE = nn.Linear

    def __init__(self, in_features, out_features, bias=True, qconfig=None, device=None,
                 dtype=None):
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(in_features, out_features, bias, **factory_kwargs)
        if not qconfig:
            raise AssertionError("qconfig must be provided for QAT module")
        self.qconfig = qconfig
        self.weight_fake_quant = qconfig.weight(factory_kwargs=factory_kwargs)

    def forward(self, input):
        return torch.nn.functional.linear(input, self.weight_fake_quant(self.weight),
                                          self.bias)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT linear of a float linear with a qconfig: the same weight and bias
        Parameters."""
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(f"qat.{cls.__name__}.from_float only works for "
                                 f"{cls._FLOAT_MODULE.__name__}, got {type(mod).__name__}")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        if not mod.qconfig:
            raise AssertionError("Input float module must have a valid qconfig")
        qat = cls(mod.in_features, mod.out_features, bias=mod.bias is not None,
                  qconfig=mod.qconfig)
        qat.weight = mod.weight
        qat.bias = mod.bias
        return qat

    def to_float(self):
        linear = nn.Linear(self.in_features, self.out_features, self.bias is not None)
        linear.weight = nn.Parameter(self.weight.detach())
        if self.bias is not None:
            linear.bias = nn.Parameter(self.bias.detach())
        linear.train(self.training)
        return linear


class _ConvQAT:
    """The QAT convolutions' common part: weight_fake_quant(weight) in forward."""

    def _init_qat(self, qconfig, factory_kwargs):
        if not qconfig:
            raise AssertionError("qconfig must be provided for QAT module")
        self.qconfig = qconfig
        self.weight_fake_quant = qconfig.weight(factory_kwargs=factory_kwargs)

    def forward(self, input):
        return self._conv_forward(input, self.weight_fake_quant(self.weight), self.bias)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT convolution of a float convolution with a qconfig: the same weight and
        bias Parameters."""
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(f"qat.{cls.__name__}.from_float only works for "
                                 f"{cls._FLOAT_MODULE.__name__}")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        if not mod.qconfig:
            raise AssertionError("Input float module must have a valid qconfig")
        qat = cls(mod.in_channels, mod.out_channels, mod.kernel_size, stride=mod.stride,
                  padding=mod.padding, dilation=mod.dilation, groups=mod.groups,
                  bias=mod.bias is not None, padding_mode=mod.padding_mode,
                  qconfig=mod.qconfig)
        qat.weight = mod.weight
        qat.bias = mod.bias
        return qat

    def to_float(self):
        conv = self._FLOAT_MODULE(self.in_channels, self.out_channels, self.kernel_size,
                                  self.stride, self.padding, self.dilation, self.groups,
                                  self.bias is not None, self.padding_mode)
        conv.weight = nn.Parameter(self.weight.detach())
        if self.bias is not None:
            conv.bias = nn.Parameter(self.bias.detach())
        conv.train(self.training)
        return conv


def _conv_qat(float_cls):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", qconfig=None,
                 device=None, dtype=None):
        factory_kwargs = {"device": device, "dtype": dtype}
        float_cls.__init__(self, in_channels, out_channels, kernel_size, stride=stride,
                           padding=padding, dilation=dilation, groups=groups, bias=bias,
                           padding_mode=padding_mode, **factory_kwargs)
        self._init_qat(qconfig, factory_kwargs)
    name = float_cls.__name__
    return type(name, (_ConvQAT, float_cls), {
        "__init__": __init__, "_FLOAT_MODULE": float_cls, "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"nn.{name} whose forward uses weight_fake_quant(weight)."})


Conv1d = _conv_qat(nn.Conv1d)
Conv2d = _conv_qat(nn.Conv2d)
Conv3d = _conv_qat(nn.Conv3d)
