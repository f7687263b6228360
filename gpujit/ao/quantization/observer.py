"""torch.ao.quantization.observer: modules that watch the values flowing through them
(their running min / max) and turn them into a quantizer's scale and zero point
(`calculate_qparams`), in PyTorch's arithmetic: float32 tensor ops, step for step as
torch/ao/quantization/observer.py computes them, so the parameters are its bits."""
from __future__ import annotations

import functools
import warnings

import gpujit as torch
from gpujit import nn

__all__ = ["ObserverBase", "UniformQuantizationObserverBase", "MinMaxObserver",
           "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver",
           "MovingAveragePerChannelMinMaxObserver", "HistogramObserver", "PlaceholderObserver",
           "NoopObserver", "RecordingObserver", "FixedQParamsObserver", "default_observer",
           "default_weight_observer", "default_per_channel_weight_observer",
           "default_dynamic_quant_observer", "default_placeholder_observer",
           "default_float_qparams_observer", "default_histogram_observer",
           "default_debug_observer", "per_channel_weight_observer_range_neg_127_to_127",
           "weight_observer_range_neg_127_to_127", "check_min_max_valid", "calculate_qmin_qmax"]


class _PartialWrapper:
    """Observer.with_args(...): a factory of configured observers (PyTorch's repr:
    functools.partial(<class ...>, kw=...){})."""

    def __init__(self, p):
        self.p = p
        self.callable_args = {}

    def __call__(self, *args, **keywords):
        return self.p(*args, **keywords)

    def __repr__(self):
        return self.p.__repr__() + self.callable_args.__repr__()

    def with_args(self, **kwargs):
        return _with_args(self, **kwargs)


def _with_args(cls_or_self, **kwargs):
    return _PartialWrapper(functools.partial(cls_or_self, **kwargs))


def calculate_qmin_qmax(quant_min, quant_max, has_customized_qrange, dtype, reduce_range):
    """The quantized range of dtype (a customized one where given; reduce_range halves
    it, as PyTorch's x86 / fbgemm kernels want for activations)."""
    if has_customized_qrange:
        if dtype in (torch.qint32, torch.int32):
            initial_quant_min, initial_quant_max = 0, 2 ** 32 - 1
        else:
            initial_quant_min, initial_quant_max = 0, 255
        custom_quant_min, custom_quant_max = quant_min, quant_max
        if custom_quant_min is not None and custom_quant_max is not None:
            initial_quant_min, initial_quant_max = custom_quant_min, custom_quant_max
        qrange_len = initial_quant_max - initial_quant_min + 1
        if dtype in (torch.qint8, torch.int8):
            assert 0 < qrange_len <= 256, \
                "quantization range should be positive and not exceed the maximum bit range " \
                "(=256)."
        elif dtype in (torch.qint32, torch.int32):
            assert 0 < qrange_len <= 2 ** 32, \
                "quantization range should be positive and not exceed the maximum bit range " \
                "(=4294967296)."
        if reduce_range:
            quant_min, quant_max = quant_min // 2, quant_max // 2
    else:
        if dtype in (torch.qint8, torch.int8):
            quant_min, quant_max = (-64, 63) if reduce_range else (-128, 127)
        elif dtype in (torch.quint8, torch.uint8):
            quant_min, quant_max = (0, 127) if reduce_range else (0, 255)
        elif dtype in (torch.qint32, torch.int32):
            quant_min, quant_max = -1 * (2 ** 31), (2 ** 31) - 1
        elif dtype is torch.uint16:
            quant_min, quant_max = 0, 2 ** 16 - 1
        elif dtype is torch.int16:
            quant_min, quant_max = -(2 ** 15), 2 ** 15 - 1
        else:
            quant_min, quant_max = 0, 15
    return quant_min, quant_max


def check_min_max_valid(min_val, max_val):
    """False (with PyTorch's warning) while nothing was observed (inf / -inf)."""
    if min_val.numel() == 0 or max_val.numel() == 0:
        warnings.warn("must run observer before calling calculate_qparams. Returning default "
                      "values.")
        return False
    if min_val.dim() == 0 or max_val.dim() == 0:
        if min_val == float("inf") and max_val == float("-inf"):
            warnings.warn("must run observer before calling calculate_qparams. Returning "
                          "default values.")
            return False
        assert min_val <= max_val, f"min {min_val} should be less than max {max_val}"
    else:
        assert torch.all(min_val <= max_val), f"min {min_val} should be less than max {max_val}"
    return True


class ObserverBase(nn.Module):
    """The observers' base: dtype and whether the quantization is dynamic."""

    def __init__(self, dtype, is_dynamic=False):
        super().__init__()
        self.dtype = dtype
        self.is_dynamic = is_dynamic

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def calculate_qparams(self, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define "
                                  f"calculate_qparams")

    with_args = classmethod(_with_args)


def _schemes():
    return ((torch.per_tensor_affine, torch.per_tensor_symmetric, torch.per_channel_affine,
             torch.per_channel_symmetric, torch.per_channel_affine_float_qparams))


class UniformQuantizationObserverBase(ObserverBase):
    """Observers of a uniform (affine or symmetric) quantizer: its dtype, scheme, range."""

    def __init__(self, dtype=torch.quint8, qscheme=torch.per_tensor_affine,
                 reduce_range=False, quant_min=None, quant_max=None,
                 factory_kwargs=None, eps=torch.finfo(torch.float32).eps, is_dynamic=False,
                 **kwargs):
        factory_kwargs = dict(factory_kwargs or {})
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.qscheme = qscheme
        if reduce_range:
            warnings.warn("Please use quant_min and quant_max to specify the range for "
                          "observers. reduce_range will be deprecated in a future release of "
                          "PyTorch.")
        self.reduce_range = reduce_range
        self.register_buffer("eps", torch.tensor([eps], **factory_kwargs))
        assert self.qscheme in _schemes(), \
            "Default Observer only works for per_tensor_affine, per_tensor_symmetric, " \
            "per_channel_affine, per_channel_symmetric and per_channel_float_qparams " \
            "quantization scheme"
        self.has_customized_qrange = (quant_min is not None) and (quant_max is not None)
        if self.has_customized_qrange:
            self._validate_qmin_qmax(quant_min, quant_max)
        self.quant_min, self.quant_max = calculate_qmin_qmax(
            quant_min, quant_max, self.has_customized_qrange, self.dtype, self.reduce_range)

    def _validate_qmin_qmax(self, quant_min, quant_max):
        assert quant_min <= 0 <= quant_max, \
            "Used-specified quantization range must include 0."
        assert quant_min < quant_max, \
            "qmin must be strictly less than qmax for user-specified quantization range."

    def _calculate_qparams(self, min_val, max_val):
        """scale and zero_point (float32, int64 tensors of one element per channel) of the
        observed range, as PyTorch's UniformQuantizationObserverBase._calculate_qparams."""
        if not check_min_max_valid(min_val, max_val):
            return torch.tensor([1.0], device=min_val.device.type), \
                torch.tensor([0], device=min_val.device.type)
        quant_min, quant_max = self.quant_min, self.quant_max
        min_val_neg = torch.min(min_val, torch.zeros_like(min_val))
        max_val_pos = torch.max(max_val, torch.zeros_like(max_val))
        device = min_val_neg.device
        scale = torch.ones(min_val_neg.size(), dtype=torch.float32, device=device)
        zero_point = torch.zeros(min_val_neg.size(), dtype=torch.int64, device=device)
        if self.qscheme in (torch.per_tensor_symmetric, torch.per_channel_symmetric):
            max_val_pos = torch.max(-min_val_neg, max_val_pos)
            scale = max_val_pos / (float(quant_max - quant_min) / 2)
            scale = torch.max(scale, self.eps)
            if self.dtype in (torch.quint8, torch.uint8):
                if self.has_customized_qrange:
                    zero_point = zero_point.new_full(zero_point.size(),
                                                     (quant_min + quant_max) // 2)
                else:
                    zero_point = zero_point.new_full(zero_point.size(), 128)
            elif self.dtype is torch.uint16:
                zero_point = zero_point.new_full(zero_point.size(), 2 ** 15)
        elif self.qscheme is torch.per_channel_affine_float_qparams:
            scale = (max_val - min_val) / float(quant_max - quant_min)
            scale = torch.where(scale > self.eps, scale, torch.ones_like(scale))
            zero_point = -1 * min_val / scale
        else:
            scale = (max_val_pos - min_val_neg) / float(quant_max - quant_min)
            scale = torch.max(scale, self.eps)
            zero_point = quant_min - torch.round(min_val_neg / scale).to(torch.int)
            zero_point = torch.clamp(zero_point, quant_min, quant_max)
        if len(scale.shape) == 0:
            scale = torch.tensor([float(scale)], dtype=scale.dtype, device=device)
        if len(zero_point.shape) == 0:
            zero_point = torch.tensor([int(zero_point)], dtype=zero_point.dtype,
                                      device=device)
            if self.qscheme is torch.per_channel_affine_float_qparams:
                zero_point = torch.tensor([float(zero_point)], dtype=zero_point.dtype,
                                          device=device)
        return scale, zero_point

    def reset_min_max_vals(self):
        raise NotImplementedError("Cannot reset min/max values in the given observer.")


def _reset_buffer(t, v):
    t.resize_(v.shape)
    t.copy_(v)


class MinMaxObserver(UniformQuantizationObserverBase):
    """The running minimum and maximum of the values seen (buffers min_val, max_val)."""

    def __init__(self, dtype=torch.quint8, qscheme=torch.per_tensor_affine,
                 reduce_range=False, quant_min=None, quant_max=None, factory_kwargs=None,
                 eps=torch.finfo(torch.float32).eps, is_dynamic=False, **kwargs):
        if qscheme not in (torch.per_tensor_affine, torch.per_tensor_symmetric) and \
                type(self) in (MinMaxObserver, MovingAverageMinMaxObserver):
            raise NotImplementedError("MinMaxObserver's qscheme only support "
                                      "torch.per_tensor_symmetric                     and "
                                      "torch.per_tensor_affine.")
        self._min_max_init(dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs,
                           eps, is_dynamic, **kwargs)

    def _min_max_init(self, dtype, qscheme, reduce_range, quant_min, quant_max,
                      factory_kwargs, eps, is_dynamic, **kwargs):
        UniformQuantizationObserverBase.__init__(
            self, dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
            quant_min=quant_min, quant_max=quant_max, factory_kwargs=factory_kwargs, eps=eps,
            is_dynamic=is_dynamic, **kwargs)
        factory_kwargs = dict(factory_kwargs or {})
        self.register_buffer("min_val", torch.tensor(float("inf"), **factory_kwargs))
        self.register_buffer("max_val", torch.tensor(float("-inf"), **factory_kwargs))
        if self.qscheme is torch.per_tensor_symmetric and self.reduce_range and \
                self.dtype is torch.quint8:
            raise NotImplementedError("Cannot reduce range for symmetric quantization for "
                                      "quint8")

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        min_val_cur, max_val_cur = torch.aminmax(x)
        min_val = torch.min(min_val_cur, self.min_val)
        max_val = torch.max(max_val_cur, self.max_val)
        self.min_val.copy_(min_val)
        self.max_val.copy_(max_val)
        return x_orig

    def calculate_qparams(self):
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def reset_min_max_vals(self):
        self.min_val.copy_(torch.tensor(float("inf")))
        self.max_val.copy_(torch.tensor(float("-inf")))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """min / max as moving averages: v + averaging_constant * (current - v)."""

    def __init__(self, averaging_constant=0.01, dtype=torch.quint8,
                 qscheme=torch.per_tensor_affine, reduce_range=False, quant_min=None,
                 quant_max=None, eps=torch.finfo(torch.float32).eps, is_dynamic=False,
                 **kwargs):
        if qscheme not in (torch.per_tensor_affine, torch.per_tensor_symmetric):
            raise NotImplementedError(
                f"MovingAverageMinMaxObserver's qscheme only support "
                f"torch.per_tensor_symmetric and torch.per_tensor_affine. but got: {qscheme}")
        self.averaging_constant = averaging_constant
        if is_dynamic and self.averaging_constant != 1:
            raise NotImplementedError(
                f"MovingAverageMinMaxObserver doesn't support dynamic quantization for "
                f"averaging constant of {self.averaging_constant}")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max, eps=eps,
                         is_dynamic=is_dynamic, **kwargs)
        self.averaging_constant = averaging_constant

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        min_val, max_val = self.min_val, self.max_val
        if min_val == float("inf") and max_val == float("-inf"):
            min_val, max_val = torch.aminmax(x)
        else:
            min_val_cur, max_val_cur = torch.aminmax(x)
            min_val = min_val + self.averaging_constant * (min_val_cur - min_val)
            max_val = max_val + self.averaging_constant * (max_val_cur - max_val)
        self.min_val.copy_(min_val)
        self.max_val.copy_(max_val)
        return x_orig


class PerChannelMinMaxObserver(UniformQuantizationObserverBase):
    """Running min / max per slice along ch_axis (buffers of one value per channel)."""

    def __init__(self, ch_axis=0, dtype=torch.quint8, qscheme=torch.per_channel_affine,
                 reduce_range=False, quant_min=None, quant_max=None, factory_kwargs=None,
                 eps=torch.finfo(torch.float32).eps, is_dynamic=False, **kwargs):
        if qscheme not in (torch.per_channel_affine, torch.per_channel_symmetric,
                           torch.per_channel_affine_float_qparams):
            raise NotImplementedError("PerChannelMinMaxObserver's qscheme only support "
                                      "torch.per_channel_symmetric, "
                                      "torch.per_channel_affine and "
                                      "torch.per_channel_affine_float_qparams.")
        if is_dynamic:
            raise NotImplementedError("PerChannelMinMaxObserver doesn't support dynamic "
                                      "quantization")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max,
                         factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic,
                         **kwargs)
        factory_kwargs = dict(factory_kwargs or {})
        self.ch_axis = ch_axis
        self.register_buffer("min_val", torch.tensor([], **factory_kwargs))
        self.register_buffer("max_val", torch.tensor([], **factory_kwargs))
        if self.qscheme is torch.per_channel_symmetric and self.reduce_range and \
                self.dtype is torch.quint8:
            raise NotImplementedError("Cannot reduce range for symmetric quantization for "
                                      "quint8")

    def forward(self, x_orig):
        return self._forward(x_orig)

    def _channel_rows(self, x_orig):
        x = x_orig.detach()
        axes = list(range(x.dim()))
        axes[self.ch_axis] = 0
        axes[0] = self.ch_axis
        y = x.permute(axes).to(self.min_val.dtype)
        return torch.flatten(y, start_dim=1)

    def _forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        y = self._channel_rows(x_orig)
        min_val, max_val = self.min_val, self.max_val
        if min_val.numel() == 0 or max_val.numel() == 0:
            min_val, max_val = torch.aminmax(y, dim=1)
        else:
            min_val_cur, max_val_cur = torch.aminmax(y, dim=1)
            min_val = torch.min(min_val_cur, min_val)
            max_val = torch.max(max_val_cur, max_val)
        _reset_buffer(self.min_val, min_val)
        _reset_buffer(self.max_val, max_val)
        return x_orig

    def calculate_qparams(self):
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def reset_min_max_vals(self):
        self.min_val = torch.tensor([])
        self.max_val = torch.tensor([])


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """Per-channel min / max as moving averages."""

    def __init__(self, averaging_constant=0.01, ch_axis=0, dtype=torch.quint8,
                 qscheme=torch.per_channel_affine, reduce_range=False, quant_min=None,
                 quant_max=None, eps=torch.finfo(torch.float32).eps, is_dynamic=False,
                 **kwargs):
        super().__init__(ch_axis=ch_axis, dtype=dtype, qscheme=qscheme,
                         reduce_range=reduce_range, quant_min=quant_min, quant_max=quant_max,
                         eps=eps, is_dynamic=is_dynamic, **kwargs)
        self.averaging_constant = averaging_constant

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        y = self._channel_rows(x_orig)
        min_val, max_val = self.min_val, self.max_val
        if min_val.numel() == 0 or max_val.numel() == 0:
            min_val, max_val = torch.aminmax(y, dim=1)
        else:
            min_val_cur, max_val_cur = torch.aminmax(y, dim=1)
            min_val = min_val + self.averaging_constant * (min_val_cur - min_val)
            max_val = max_val + self.averaging_constant * (max_val_cur - max_val)
        _reset_buffer(self.min_val, min_val)
        _reset_buffer(self.max_val, max_val)
        return x_orig


class PlaceholderObserver(ObserverBase):
    """Observes nothing: it carries the dtype (and range) for dynamic / weight-only
    quantization."""

    def __init__(self, dtype=torch.float32, custom_op_name="", compute_dtype=None,
                 quant_min=None, quant_max=None, qscheme=None, eps=None, is_dynamic=False):
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        if qscheme is None:
            qscheme = torch.per_tensor_affine
        if eps is None:
            eps = torch.finfo(torch.float32).eps
        self.dtype = dtype
        self.qscheme = qscheme
        self.quant_min = quant_min
        self.quant_max = quant_max
        self.eps = eps
        self.custom_op = custom_op_name
        if compute_dtype:
            is_dynamic = True
            warnings.warn("Please use `is_dynamic` instead of `compute_dtype`. "
                          "`compute_dtype` will be deprecated in a future release of "
                          "PyTorch.")

    def forward(self, x):
        return x

    def extra_repr(self):
        return f"dtype={self.dtype}, is_dynamic={self.is_dynamic}"

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")


class RecordingObserver(ObserverBase):
    """Keeps every tensor it sees (tensor_val), for debugging."""
    __annotations__ = {"tensor_val": list}

    def __init__(self, dtype=torch.quint8):
        super().__init__(dtype=dtype, is_dynamic=False)
        self.tensor_val = []

    def forward(self, x):
        self.tensor_val.append(x.clone())
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for RecordingObserver")

    def get_tensor_value(self):
        return self.tensor_val


class NoopObserver(ObserverBase):
    """Observes nothing (the float16 static quantization's activation)."""

    def __init__(self, dtype=torch.float16, custom_op_name=""):
        super().__init__(dtype=dtype, is_dynamic=False)
        self.dtype = dtype
        self.custom_op = custom_op_name

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for NoopObserver")


class FixedQParamsObserver(ObserverBase):
    """A fixed scale and zero point (sigmoid's, tanh's outputs)."""

    def __init__(self, scale, zero_point, dtype=torch.quint8,
                 qscheme=torch.per_tensor_affine, quant_min=0, quant_max=255,
                 is_dynamic=False, **kwargs):
        if is_dynamic:
            raise NotImplementedError("FixedQParamsObserver doesn't support dynamic "
                                      "quantization")
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.quant_min = quant_min
        self.quant_max = quant_max
        self.register_buffer("scale", torch.tensor([scale], dtype=torch.float))
        self.register_buffer("zero_point", torch.tensor([zero_point], dtype=torch.int))
        self.dtype = dtype
        self.qscheme = qscheme

    def forward(self, X):
        return X

    def calculate_qparams(self):
        return self.scale, self.zero_point


class HistogramObserver(UniformQuantizationObserverBase):
    """A histogram of the values seen (bins over the running [min, max], widened by whole
    multiples as new values arrive) whose quantized range is the one of least L2 error
    (PyTorch's _non_linear_param_search)."""

    def __init__(self, bins=2048, dtype=torch.quint8, qscheme=torch.per_tensor_affine,
                 reduce_range=False, quant_min=None, quant_max=None, factory_kwargs=None,
                 eps=torch.finfo(torch.float32).eps, is_dynamic=False, **kwargs):
        if qscheme not in (torch.per_tensor_affine, torch.per_tensor_symmetric):
            raise NotImplementedError("HistogramObserver's qscheme only support "
                                      "torch.per_tensor_symmetric                     and "
                                      "torch.per_tensor_affine.")
        if is_dynamic:
            raise NotImplementedError("HistogramObserver doesn't support dynamic quantization")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max,
                         factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic,
                         **kwargs)
        factory_kwargs = dict(factory_kwargs or {})
        self.bins = bins
        self.register_buffer("histogram", torch.zeros(self.bins, **factory_kwargs))
        self.register_buffer("min_val", torch.tensor(float("inf"), **factory_kwargs))
        self.register_buffer("max_val", torch.tensor(float("-inf"), **factory_kwargs))
        self.dst_nbins = 2 ** 32 if self.dtype in (torch.qint32, torch.int32) else 256
        self.upsample_rate = 16

    def _get_norm(self, delta_begin, delta_end, density):
        norm = (delta_end * delta_end * delta_end - delta_begin * delta_begin * delta_begin) / 3
        return density * norm

    def _compute_quantization_error(self, next_start_bin, next_end_bin):
        bin_width = (self.max_val.item() - self.min_val.item()) / self.bins
        dst_bin_width = bin_width * (next_end_bin - next_start_bin + 1) / self.dst_nbins
        if dst_bin_width == 0.0:
            return 0.0
        src_bin = torch.arange(self.bins, device=self.histogram.device)
        src_bin_begin = (src_bin - next_start_bin) * bin_width
        src_bin_end = src_bin_begin + bin_width
        dst_bin_of_begin = torch.clamp(torch.div(src_bin_begin, dst_bin_width,
                                                 rounding_mode="floor"),
                                       0, self.dst_nbins - 1)
        dst_bin_of_begin_center = (dst_bin_of_begin + 0.5) * dst_bin_width
        dst_bin_of_end = torch.clamp(torch.div(src_bin_end, dst_bin_width,
                                               rounding_mode="floor"),
                                     0, self.dst_nbins - 1)
        density = self.histogram / bin_width
        norm = torch.zeros(self.bins, device=self.histogram.device)
        delta_begin = src_bin_begin - dst_bin_of_begin_center
        delta_end = dst_bin_width / 2
        norm += self._get_norm(delta_begin, torch.ones(self.bins, device=self.histogram.device)
                               * delta_end, density)
        norm += (dst_bin_of_end - dst_bin_of_begin - 1) * self._get_norm(
            torch.tensor(-dst_bin_width / 2), torch.tensor(dst_bin_width / 2), density)
        dst_bin_of_end_center = dst_bin_of_end * dst_bin_width + dst_bin_width / 2
        delta_begin = -dst_bin_width / 2
        delta_end = src_bin_end - dst_bin_of_end_center
        norm += self._get_norm(torch.tensor(delta_begin), delta_end, density)
        return norm.sum().item()

    def _non_linear_param_search(self):
        assert self.histogram.size()[0] == self.bins, "bins mismatch"
        bin_width = (self.max_val - self.min_val) / self.bins
        total = torch.sum(self.histogram).item()
        cSum = torch.cumsum(self.histogram, dim=0)
        stepsize = 1e-5
        alpha = 0.0
        beta = 1.0
        start_bin = 0
        end_bin = self.bins - 1
        norm_min = float("inf")
        while alpha < beta:
            next_alpha = alpha + stepsize
            next_beta = beta - stepsize
            left = start_bin
            right = end_bin
            while left < end_bin and cSum[left] < next_alpha * total:
                left = left + 1
            while right > start_bin and cSum[right] > next_beta * total:
                right = right - 1
            next_start_bin = start_bin
            next_end_bin = end_bin
            if (left - start_bin) > (end_bin - right):
                next_start_bin = left
                alpha = next_alpha
            else:
                next_end_bin = right
                beta = next_beta
            if next_start_bin == start_bin and next_end_bin == end_bin:
                continue
            norm = self._compute_quantization_error(next_start_bin, next_end_bin)
            if norm > norm_min:
                break
            norm_min = norm
            start_bin = next_start_bin
            end_bin = next_end_bin
        new_min = self.min_val + bin_width * start_bin
        new_max = self.min_val + bin_width * (end_bin + 1)
        return new_min, new_max

    def _upscale_histogram(self, histogram, orig_min, orig_max, update_min, update_max):
        histogram = histogram.to(torch.double)
        if orig_min.dtype != torch.double:
            orig_min = orig_min.to(torch.double)
        if orig_max.dtype != torch.double:
            orig_max = orig_max.to(torch.double)
        if update_min.dtype != torch.double:
            update_min = update_min.to(torch.double)
        if update_max.dtype != torch.double:
            update_max = update_max.to(torch.double)
        bin_size = (orig_max - orig_min) / self.bins
        mid_points_histogram = torch.linspace(
            orig_min.item(), orig_max.item(), self.bins + 1, device=orig_min.device,
            dtype=torch.double)[:-1].to(histogram.device) + 0.5 * bin_size
        boundaries_new_histogram = torch.linspace(
            update_min.item(), update_max.item(), self.bins + 1, device=update_min.device,
            dtype=torch.double).to(histogram.device)
        bucket_assignments = torch.bucketize(mid_points_histogram, boundaries_new_histogram,
                                             right=True) - 1
        bucket_assignments[bucket_assignments >= self.bins] = self.bins - 1
        bucket_assignments[bucket_assignments < 0] = 0
        update_histogram = torch.bincount(bucket_assignments, weights=histogram,
                                          minlength=self.bins)
        return update_histogram

    def _combine_histograms(self, orig_hist, orig_min, orig_max, update_hist, update_min,
                            update_max):
        if update_min == orig_min and update_max == orig_max:
            return orig_hist + update_hist
        update_hist = self._upscale_histogram(update_hist, update_min, update_max,
                                              orig_min, orig_max)
        orig_hist = self._upscale_histogram(orig_hist, orig_min, orig_max, orig_min, orig_max)
        return update_hist + orig_hist

    def reset_histogram(self, x, min_val, max_val):
        self.min_val.resize_(min_val.shape)
        self.min_val.copy_(min_val)
        self.max_val.resize_(max_val.shape)
        self.max_val.copy_(max_val)
        assert min_val.numel() == 1 and max_val.numel() == 1, \
            "histogram min/max values must be scalar."
        new_histogram = torch.histc(x, self.bins, min=min_val, max=max_val)
        self.histogram.detach_().resize_(new_histogram.shape)
        self.histogram.copy_(new_histogram)

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach()
        x_min, x_max = torch.aminmax(x)
        if x_min == x_max and x_min.isinf():
            return x_orig
        x_min, x_max = torch.aminmax(x[~x.isinf()]) if x.isinf().any() else (x_min, x_max)
        current_min = self.min_val
        current_max = self.max_val
        is_uninitialized = self.min_val == float("inf") or self.max_val == float("-inf")
        if is_uninitialized:
            self.reset_histogram(x, x_min, x_max)
        else:
            update_min, update_max = x_min, x_max
            new_min = torch.min(current_min, update_min)
            new_max = torch.max(current_max, update_max)
            update_histogram = torch.histc(x, self.bins, min=update_min, max=update_max).to(
                self.histogram.device)
            if new_min == current_min and new_max == current_max:
                combined_histogram = self.histogram + update_histogram
                self.histogram.detach_().resize_(combined_histogram.shape)
                self.histogram.copy_(combined_histogram)
            else:
                combined_histogram = self._combine_histograms(
                    self.histogram, current_min, current_max, update_histogram, new_min,
                    new_max)
                self.histogram.detach_().resize_(combined_histogram.shape)
                self.histogram.copy_(combined_histogram)
                self.min_val.detach_().resize_(new_min.shape)
                self.min_val.copy_(new_min)
                self.max_val.detach_().resize_(new_max.shape)
                self.max_val.copy_(new_max)
        return x_orig

    def calculate_qparams(self):
        is_uninitialized = self.min_val == float("inf") and self.max_val == float("-inf")
        if is_uninitialized:
            warnings.warn("must run observer before calling calculate_qparams. Returning "
                          "default scale and zero point ")
            return torch.tensor([1.0], device=self.min_val.device.type), \
                torch.tensor([0], device=self.min_val.device.type)
        assert self.bins == len(self.histogram), \
            "The number of bins in histogram should be equal to the number of bins supplied " \
            "while making this observer"
        new_min, new_max = self._non_linear_param_search()
        return self._calculate_qparams(new_min, new_max)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


default_observer = MinMaxObserver.with_args(quant_min=0, quant_max=127)
default_placeholder_observer = PlaceholderObserver
default_debug_observer = RecordingObserver
default_weight_observer = MinMaxObserver.with_args(dtype=torch.qint8,
                                                   qscheme=torch.per_tensor_symmetric)
weight_observer_range_neg_127_to_127 = MinMaxObserver.with_args(
    dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, quant_min=-127, quant_max=127,
    eps=2 ** -12)
default_histogram_observer = HistogramObserver.with_args(quant_min=0, quant_max=127)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(
    dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
per_channel_weight_observer_range_neg_127_to_127 = PerChannelMinMaxObserver.with_args(
    dtype=torch.qint8, qscheme=torch.per_channel_symmetric, quant_min=-127, quant_max=127,
    eps=2 ** -12)
default_dynamic_quant_observer = PlaceholderObserver.with_args(
    dtype=torch.quint8, quant_min=0, quant_max=255, is_dynamic=True)
default_float_qparams_observer = PerChannelMinMaxObserver.with_args(
    dtype=torch.quint8, qscheme=torch.per_channel_affine_float_qparams, ch_axis=0)
