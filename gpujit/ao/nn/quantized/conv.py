"""torch.ao.nn.quantized.Conv1d / Conv2d / Conv3d and BatchNorm2d / BatchNorm3d: quint8
in, quint8 out of (scale, zero_point). A convolution holds its packed weight,
`_packed_params` (quantized::conv{1,2,3}d_prepack's object of the qint8 weight and the
float bias), its state dict the unpacked weight and bias, scale and zero_point, as
PyTorch's; forward is quantized::conv{1,2,3}d (FBGEMM's arithmetic:
ops/quantized_ops.py)."""
from __future__ import annotations

import gpujit as torch
from gpujit import nn
from gpujit.nn.modules.conv import _check_groups_divide, _conv_repr_options

__all__ = ["Conv1d", "Conv2d", "Conv3d", "BatchNorm2d", "BatchNorm3d"]

_SUPPORTED_PADDING = {"zeros", "reflect"}


def _ntuple(n, v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


class _ConvNd(nn.Module):
    """The quantized convolutions' common part (PyTorch's _ConvNd)."""
    _version = 3
    _DIM = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__()
        n = self._DIM
        _check_groups_divide(in_channels, out_channels, groups)
        if padding_mode not in _SUPPORTED_PADDING:
            raise ValueError(f"'padding_mode' {padding_mode} is not supported by quantized "
                             f"convolution")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(n, kernel_size)
        self.stride = _ntuple(n, stride)
        self.padding = padding if isinstance(padding, str) else _ntuple(n, padding)
        self.dilation = _ntuple(n, dilation)
        self.transposed = False
        self.output_padding = (0,) * n
        self.groups = groups
        self.padding_mode = padding_mode
        qweight = _empty_qweight([out_channels, in_channels // groups] +
                                 list(self.kernel_size))
        bias_float = torch.zeros(out_channels, dtype=torch.float) if bias else None
        self.set_weight_bias(qweight, bias_float)
        self.scale = 1.0
        self.zero_point = 0

    def _prepack(self):
        return getattr(torch.ops.quantized, f"conv{self._DIM}d_prepack")

    def set_weight_bias(self, w, b):
        padding = self.padding if self.padding_mode == "zeros" else (0,) * self._DIM
        self._packed_params = self._prepack()(w, b, list(self.stride), list(padding),
                                              list(self.dilation), self.groups)

    def _weight_bias(self):
        return self._packed_params.unpack()

    def weight(self):
        return self._weight_bias()[0]

    def bias(self):
        return self._weight_bias()[1]

    def extra_repr(self):
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}, " \
            "scale={scale}, zero_point={zero_point}" \
            + _conv_repr_options(self, (0,) * len(self.padding), self.bias() is None)
        return s.format(**self.__dict__)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        w, b = self._weight_bias()
        destination[prefix + "weight"] = w
        destination[prefix + "bias"] = b
        destination[prefix + "scale"] = torch.tensor(self.scale)
        destination[prefix + "zero_point"] = torch.tensor(self.zero_point)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        self.set_weight_bias(state_dict.pop(prefix + "weight"),
                             state_dict.pop(prefix + "bias"))
        self.scale = float(state_dict.pop(prefix + "scale"))
        self.zero_point = int(state_dict.pop(prefix + "zero_point"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False,
                                      missing_keys, unexpected_keys, error_msgs)

    @classmethod
    def get_qconv(cls, mod, activation_post_process, weight_post_process=None):
        """The quantized convolution of float convolution mod: its weight quantized with
        the weight observer, its output quantizer from activation_post_process."""
        from . import _quantize_weight
        if weight_post_process is None:
            weight_post_process = mod.qconfig.weight()
        weight_post_process(mod.weight)
        if weight_post_process.dtype is not torch.qint8:
            raise AssertionError("Weight observer must have a dtype of qint8")
        qweight = _quantize_weight(mod.weight.float(), weight_post_process)
        qconv = cls(mod.in_channels, mod.out_channels, mod.kernel_size, mod.stride,
                    mod.padding, mod.dilation, mod.groups, mod.bias is not None,
                    mod.padding_mode)
        qconv.set_weight_bias(qweight, mod.bias)
        if activation_post_process is None or activation_post_process.dtype is torch.float:
            return qconv
        act_scale, act_zp = activation_post_process.calculate_qparams()
        qconv.scale = float(act_scale)
        qconv.zero_point = int(act_zp)
        return qconv

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized convolution of an observed float convolution (or of the
        convolution of a fused ConvReLU)."""
        if hasattr(mod, "weight_fake_quant"):       # (a QAT convolution)
            if not hasattr(mod, "activation_post_process"):
                raise AssertionError("Input QAT module must have observer attached")
            return cls.get_qconv(mod, mod.activation_post_process, mod.weight_fake_quant)
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(f" nnq.{cls.__name__}.from_float only works for "
                                 f"{cls._FLOAT_MODULE.__name__} but got:{type(mod)}")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined.")
        activation_post_process = getattr(mod, "activation_post_process", None)
        from gpujit.ao.nn.intrinsic import _FusedModule
        if isinstance(mod, _FusedModule):
            mod = mod[0]
        weight_post_process = mod.qconfig.weight()
        return cls.get_qconv(mod, activation_post_process, weight_post_process)


class Conv1d(_ConvNd):
    """A quantized 1-d convolution (quantized::conv1d)."""
    _DIM = 1
    _FLOAT_MODULE = nn.Conv1d

    def _get_name(self):
        return "QuantizedConv1d"

    def forward(self, input):
        if len(input.shape) != 3:
            raise ValueError("Input shape must be `(N, C, L)`!")
        if self.padding_mode != "zeros":
            input = torch.nn.functional.pad(input, [self.padding[0], self.padding[0]],
                                            mode=self.padding_mode)
        return torch.ops.quantized.conv1d(input, self._packed_params, self.scale,
                                          self.zero_point)

    def _weight_bias(self):
        return torch.ops.quantized.conv1d_unpack(self._packed_params)


class Conv2d(_ConvNd):
    """A quantized 2-d convolution (quantized::conv2d)."""
    _FLOAT_MODULE = nn.Conv2d

    def _get_name(self):
        return "QuantizedConv2d"

    def forward(self, input):
        if len(input.shape) != 4:
            raise ValueError("Input shape must be `(N, C, H, W)`!")
        if self.padding_mode != "zeros":
            pads = [self.padding[1], self.padding[1], self.padding[0], self.padding[0]]
            input = torch.nn.functional.pad(input, pads,
                                            mode=self.padding_mode)
        return torch.ops.quantized.conv2d(input, self._packed_params, self.scale,
                                          self.zero_point)


class Conv3d(_ConvNd):
    """A quantized 3-d convolution (quantized::conv3d)."""
    _DIM = 3
    _FLOAT_MODULE = nn.Conv3d

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        if padding_mode == "reflect":
            raise AssertionError("Conv3d does not support reflection padding")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def _get_name(self):
        return "QuantizedConv3d"

    def forward(self, input):
        if len(input.shape) != 5:
            raise ValueError("Input shape must be `(N, C, D, H, W)`!")
        if self.padding_mode != "zeros":
            pads = [self.padding[2], self.padding[2], self.padding[1], self.padding[1],
                    self.padding[0], self.padding[0]]
            input = torch.nn.functional.pad(input, pads,
                                            mode=self.padding_mode)
        return torch.ops.quantized.conv3d(input, self._packed_params, self.scale,
                                          self.zero_point)


def _empty_qweight(shape):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.quantize_per_tensor(torch.zeros(*shape), 1.0, 0, torch.qint8)


class _QBatchNorm:
    """The quantized batch norms' common part: scale / zero_point buffers, from_float
    taking the float module's statistics."""

    def _init_q(self):
        self.register_buffer("scale", torch.tensor(1.0))
        self.register_buffer("zero_point", torch.tensor(0))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        from gpujit.ao.nn.intrinsic import _FusedModule
        activation_post_process = mod.activation_post_process
        if isinstance(mod, _FusedModule):           # (a BNReLU: its batch norm)
            mod = mod[0]
        scale, zero_point = activation_post_process.calculate_qparams()
        new_mod = cls(mod.num_features, mod.eps)
        new_mod.weight = mod.weight
        new_mod.bias = mod.bias
        new_mod.running_mean = mod.running_mean
        new_mod.running_var = mod.running_var
        new_mod.scale = scale
        new_mod.zero_point = zero_point
        return new_mod


class BatchNorm2d(_QBatchNorm, nn.BatchNorm2d):
    """Batch norm of a quantized (N, C, H, W) tensor (quantized::batch_norm2d)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, device=None, dtype=None):
        nn.BatchNorm2d.__init__(self, num_features, eps, momentum, True, True)
        self._init_q()

    def _get_name(self):
        return "QuantizedBatchNorm2d"

    def forward(self, input):
        self._check_input_dim(input)
        return torch.ops.quantized.batch_norm2d(
            input, self.weight, self.bias, self.running_mean, self.running_var, self.eps,
            float(self.scale), int(self.zero_point))

    def _check_input_dim(self, input):
        if len(input.shape) != 4:
            raise ValueError("Input shape must be `(N, C, H, W)`!")


class BatchNorm3d(_QBatchNorm, nn.BatchNorm3d):
    """Batch norm of a quantized (N, C, D, H, W) tensor (quantized::batch_norm3d)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, device=None, dtype=None):
        nn.BatchNorm3d.__init__(self, num_features, eps, momentum, True, True)
        self._init_q()

    def _get_name(self):
        return "QuantizedBatchNorm3d"

    def forward(self, input):
        self._check_input_dim(input)
        return torch.ops.quantized.batch_norm3d(
            input, self.weight, self.bias, self.running_mean, self.running_var, self.eps,
            float(self.scale), int(self.zero_point))

    def _check_input_dim(self, input):
        if len(input.shape) != 5:
            raise ValueError("Input shape must be `(N, C, H, W)`!")
