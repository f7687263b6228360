"""Module wrappers old or multi-device code names: nn.DataParallel (gpujit runs a module
on one device, so it wraps the module and passes forward through, as PyTorch does with a
single device or none; state_dict keys get the "module." prefix) and nn.NLLLoss2d (the
deprecated alias of NLLLoss, with PyTorch's FutureWarning).
"""
from __future__ import annotations

from ..._frames import warn_at_user_frame
from ..module import Module
from .loss import NLLLoss


class DataParallel(Module):
    """Runs `module` on its device. device_ids / output_device are accepted and kept
    (checked to name devices that exist); the batch is not split: one device does it all,
    as PyTorch's DataParallel with one device."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        import gpujit
        self.module = module
        if not gpujit.cuda.is_available():
            self.device_ids = []
            return
        n = gpujit.cuda.device_count()
        ids = list(range(n)) if device_ids is None else [
            d.index if hasattr(d, "index") else int(d) for d in device_ids]
        for i in ids:
            if not 0 <= i < n:
                raise AssertionError(f"Invalid device id {i}: {n} CUDA device(s) available")
        self.device_ids = ids
        self.output_device = ids[0] if output_device is None else (
            output_device.index if hasattr(output_device, "index") else int(output_device))
        self.dim = dim
        self.src_device_obj = gpujit.device("cuda", ids[0]) if ids else None

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        src = self.src_device_obj
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            if t.device != src:
                raise RuntimeError(f"module must have its parameters and buffers on device "
                                   f"{src} (device_ids[0]) but found one of them on device: "
                                   f"{t.device}")
        # one device does the whole batch: the inputs go to it (PyTorch's scatter with a
        # single device), the output is the module's
        return self.module(*_to(inputs, src), **_to(kwargs, src))


def _to(obj, dev):
    from ...tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to(o, dev) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to(o, dev) for o in obj)
    if isinstance(obj, dict):
        return {k: _to(v, dev) for k, v in obj.items()}
    return obj


class NLLLoss2d(NLLLoss):
    """Deprecated: NLLLoss (which takes (N, C, H, W) inputs itself)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        warn_at_user_frame("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as "
                           "a drop-in replacement and see https://pytorch.org/docs/main/"
                           "nn.html#torch.nn.NLLLoss for more details.", FutureWarning)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
