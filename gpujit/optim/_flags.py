"""The implementation flags torch's optimizers take (foreach, fused, capturable,
differentiable) and the lr Tensor check, with PyTorch's argument errors.

gpujit has one implementation of each update, so the flags do not change the arithmetic;
what they change in torch that a user can see is kept: fused=True refuses differentiable,
foreach=True and non-floating-point params; foreach=True refuses differentiable=True (but
SGD's); capturable=True refuses parameters on the CPU (CUDA graphs only capture device work;
the fused path does not check); differentiable=True runs the step with grad mode on,
so that updating a leaf parameter which requires grad fails as an in-place op on it does.
"""
from __future__ import annotations

from ..tensor import Tensor

__all__ = ["check_lr", "check_fused", "check_group_flags", "CAPTURABLE_DEVICES",
           "CAPTURABLE_DEVICES_NO_XLA"]

CAPTURABLE_DEVICES = ["cuda", "xpu", "hpu", "privateuseone", "xla"]
CAPTURABLE_DEVICES_NO_XLA = CAPTURABLE_DEVICES[:-1]     # the list some of torch's paths give
FUSED_DEVICES = ["mps", "cuda", "xpu", "hpu", "cpu", "privateuseone"]


def check_lr(lr):
    """A Tensor lr must have one element (torch's ValueError)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def check_fused(fused, foreach, differentiable):
    """The constructor's checks of fused=True."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def check_group_flags(group, params, capturable_what="params and state_steps",
                      capturable_devices=CAPTURABLE_DEVICES, foreach_differentiable=False):
    """The step's checks of a group's flags over its parameters that have grads (torch's
    foreach implementations refuse differentiable=True, but SGD's)."""
    if not params:
        return
    if group.get("fused"):
        for p in params:
            if p._device.type not in FUSED_DEVICES or not p.is_floating_point():
                raise RuntimeError(
                    "`fused=True` requires all the params to be floating point Tensors of "
                    f"supported devices: {FUSED_DEVICES} but {p.dtype} and {p._device.type}")
    elif group.get("foreach") and group.get("differentiable") and not foreach_differentiable:
        raise AssertionError("_foreach ops don't support autograd")
    elif group.get("capturable"):
        if any(p._device.type not in capturable_devices for p in params):
            raise AssertionError(f"If capturable=True, {capturable_what} must be on "
                                 f"supported devices: {capturable_devices}.")
    if group.get("differentiable") and any(p.requires_grad for p in params):
        raise RuntimeError("a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
