"""Lazy modules (nn.LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*,
LazyInstanceNorm*), as PyTorch's LazyModuleMixin: their parameters and buffers are
UninitializedParameter / UninitializedBuffer until the first forward infers in_features /
in_channels / num_features from the input; the module then becomes its `cls_to_become`
(LazyLinear -> Linear), so that scripting, optimizers and state_dicts see the regular
module. A state_dict loaded into an uninitialized module materializes its parameters with
the checkpoint's shapes."""
import itertools

import gpujit

from ..parameter import UninitializedParameter, UninitializedBuffer, is_lazy
from .conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                   ConvTranspose3d)
from .linear import Linear
from .normalization import (_NormBase, _BatchNorm, _InstanceNorm, BatchNorm1d, BatchNorm2d,
                            BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d)

__all__ = ["LazyModuleMixin", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class LazyModuleMixin:
    """A mixin for modules whose parameter shapes the first input decides."""
    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)
        object.__setattr__(self, "_initialize_hook", hook)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if (is_lazy(param) or keep_vars) \
                    else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if (is_lazy(buf) or keep_vars) \
                    else buf.detach()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        # an uninitialized module takes the checkpoint's shapes (PyTorch's _lazy_load_hook)
        for name, param in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and param is not None and is_lazy(param):
                input_param = state_dict[key]
                if not is_lazy(input_param):
                    with gpujit.no_grad():
                        param.materialize(input_param.shape)
        lazy = [k for k, v in itertools.chain(self._parameters.items(),
                                              self._buffers.items()) if is_lazy(v)]
        if lazy:     # still lazy: skip them in the copy (nothing to copy into)
            sd = {k: v for k, v in state_dict.items()
                  if not (k.startswith(prefix) and k[len(prefix):] in lazy)}
            saved = {k: (self._parameters.pop(k, None), self._buffers.pop(k, None))
                     for k in lazy}
            try:
                super()._load_from_state_dict(sd, prefix, local_metadata, strict,
                                              missing_keys, unexpected_keys, error_msgs)
            finally:
                for k, (p, b) in saved.items():
                    if p is not None:
                        self._parameters[k] = p
                    if b is not None:
                        self._buffers[k] = b
            if strict:
                missing_keys.extend(prefix + k for k in lazy if prefix + k not in state_dict)
            return
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def _apply(self, fn, recurse=True):
        lazy = {k: b for k, b in self._buffers.items() if is_lazy(b)}
        super()._apply(fn, recurse)
        for k, old in lazy.items():   # .to()/.cuda()/.double() keep a buffer uninitialized
            new = self._buffers[k]
            self._buffers[k] = old if new is old else \
                UninitializedBuffer(old.requires_grad, device=new.device, dtype=new.dtype)
        return self

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self):
        """Does the module still hold an uninitialized parameter or buffer?"""
        return any(is_lazy(p) for p in itertools.chain(self._parameters.values(),
                                                       self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        kwargs = kwargs if kwargs else {}
        with gpujit.no_grad():
            module.initialize_parameters(*args, **kwargs)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        object.__delattr__(module, "_initialize_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with "
                           "`DataParallel`. Run a dummy forward pass to correctly initialize "
                           "the modules")


# ---------------------------------------------------------------------- linear

class LazyLinear(LazyModuleMixin, Linear):
    """Linear whose in_features is inferred from the first input's last dimension."""
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(**factory_kwargs)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(**factory_kwargs)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()


# ---------------------------------------------------------------------- convolutions

class _LazyConvXdMixin(LazyModuleMixin):
    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                self.weight.materialize((self.in_channels, self.out_channels // self.groups,
                                         *self.kernel_size))
            else:
                self.weight.materialize((self.out_channels, self.in_channels // self.groups,
                                         *self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _get_in_channels(self, input):
        nd = len(self.kernel_size)
        no_batch, batch = nd + 1, nd + 2
        if input.dim() not in (no_batch, batch):
            raise RuntimeError(f"Expected {no_batch}D (unbatched) or {batch}D (batched) input "
                               f"to {self.__class__.__name__}, but got input of size: "
                               f"{input.shape}")
        return input.shape[1] if input.dim() == batch else input.shape[0]

    def _lazy_params(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


def _lazy_conv(base, doc):
    class LazyConv(_LazyConvXdMixin, base):
        cls_to_become = base

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                     groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
            super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                             padding_mode, device=device, dtype=dtype)
            self._lazy_params(out_channels, bias, device, dtype)
    LazyConv.__doc__ = doc
    return LazyConv


def _lazy_conv_transpose(base, doc):
    class LazyConvTranspose(_LazyConvXdMixin, base):
        cls_to_become = base

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                     groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                     dtype=None):
            super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups,
                             False, dilation, padding_mode, device=device, dtype=dtype)
            self._lazy_params(out_channels, bias, device, dtype)
    LazyConvTranspose.__doc__ = doc
    return LazyConvTranspose


def _named(cls, name):
    cls.__name__ = cls.__qualname__ = name
    cls.__module__ = __name__
    return cls


LazyConv1d = _named(_lazy_conv(Conv1d, "Conv1d with in_channels inferred from the input."),
                    "LazyConv1d")
LazyConv2d = _named(_lazy_conv(Conv2d, "Conv2d with in_channels inferred from the input."),
                    "LazyConv2d")
LazyConv3d = _named(_lazy_conv(Conv3d, "Conv3d with in_channels inferred from the input."),
                    "LazyConv3d")
LazyConvTranspose1d = _named(_lazy_conv_transpose(
    ConvTranspose1d, "ConvTranspose1d with in_channels inferred from the input."),
    "LazyConvTranspose1d")
LazyConvTranspose2d = _named(_lazy_conv_transpose(
    ConvTranspose2d, "ConvTranspose2d with in_channels inferred from the input."),
    "LazyConvTranspose2d")
LazyConvTranspose3d = _named(_lazy_conv_transpose(
    ConvTranspose3d, "ConvTranspose3d with in_channels inferred from the input."),
    "LazyConvTranspose3d")


# ---------------------------------------------------------------------- normalization

class _LazyNormBase(LazyModuleMixin, _NormBase):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(0, eps, momentum, False, False, **factory_kwargs)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = UninitializedParameter(**factory_kwargs)
            self.bias = UninitializedParameter(**factory_kwargs)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(**factory_kwargs)
            self.running_var = UninitializedBuffer(**factory_kwargs)
            self.num_batches_tracked = gpujit.tensor(0, dtype=gpujit.long, device=device)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            if self.affine:
                self.weight.materialize((self.num_features,))
                if self.bias is not None:
                    self.bias.materialize((self.num_features,))
            if self.track_running_stats:
                self.running_mean.materialize((self.num_features,))
                self.running_var.materialize((self.num_features,))
            self.reset_parameters()


def _lazy_norm(family, base):
    class LazyNorm(_LazyNormBase, family):
        cls_to_become = base
        _check_input_dim = base._check_input_dim
    if hasattr(base, "_get_no_batch_dim") and family is _InstanceNorm:
        LazyNorm._get_no_batch_dim = base._get_no_batch_dim
    LazyNorm.__doc__ = f"{base.__name__} with num_features inferred from the input."
    return _named(LazyNorm, "Lazy" + base.__name__)


LazyBatchNorm1d = _lazy_norm(_BatchNorm, BatchNorm1d)
LazyBatchNorm2d = _lazy_norm(_BatchNorm, BatchNorm2d)
LazyBatchNorm3d = _lazy_norm(_BatchNorm, BatchNorm3d)
LazyInstanceNorm1d = _lazy_norm(_InstanceNorm, InstanceNorm1d)
LazyInstanceNorm2d = _lazy_norm(_InstanceNorm, InstanceNorm2d)
LazyInstanceNorm3d = _lazy_norm(_InstanceNorm, InstanceNorm3d)
