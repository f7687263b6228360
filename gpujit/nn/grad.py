"""torch.nn.grad (also torch.nn.functional.grad): the gradients of conv1d / conv2d / conv3d with
respect to their input or weight, given the other operand and the output's gradient (what a
custom autograd Function writes for a convolution). PyTorch calls
aten::convolution_backward with an output mask; gpujit runs the convolution's own
derivative through autograd (only the gradient asked for is computed: the derivatives honour
needs_grad), so the values are those of `torch.autograd.grad` of the convolution."""
from __future__ import annotations

import gpujit as _gpujit
from .modules.utils import _single, _pair, _triple

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input",
           "conv3d_weight"]


def _conv_grad(nd, conv, wrt_input, input, weight, grad_output, stride, padding, dilation,
               groups):
    tup = (_single, _pair, _triple)[nd - 1]
    with _gpujit.enable_grad():
        # (a convolution is linear in each operand: the one differentiated can be zeros)
        # (_set_requires_grad: PyTorch's computes this in C++, allowed under torch.func)
        if wrt_input:
            x = grad_output.new_zeros(tuple(input))
            x._set_requires_grad(True)
            w = weight.detach()
        else:
            x = input.detach()
            w = grad_output.new_zeros(tuple(weight))
            w._set_requires_grad(True)
        out = conv(x, w, None, tup(stride), tup(padding), tup(dilation), groups)
        if tuple(out.shape) != tuple(grad_output.shape):
            raise RuntimeError(f"conv{nd}d_{'input' if wrt_input else 'weight'}: grad_output "
                               f"has shape {list(grad_output.shape)} but the convolution's "
                               f"output has shape {list(out.shape)}")
        return _gpujit.autograd.grad(out, x if wrt_input else w, grad_output.detach())[0]


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv1d with respect to its input, of shape input_size."""
    return _conv_grad(1, _gpujit.conv1d, True, input_size, weight, grad_output, stride,
                      padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv1d with respect to its weight, of shape weight_size."""
    return _conv_grad(1, _gpujit.conv1d, False, input, weight_size, grad_output, stride,
                      padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d with respect to its input, of shape input_size."""
    return _conv_grad(2, _gpujit.conv2d, True, input_size, weight, grad_output, stride,
                      padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d with respect to its weight, of shape weight_size."""
    return _conv_grad(2, _gpujit.conv2d, False, input, weight_size, grad_output, stride,
                      padding, dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv3d with respect to its input, of shape input_size."""
    return _conv_grad(3, _gpujit.conv3d, True, input_size, weight, grad_output, stride,
                      padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv3d with respect to its weight, of shape weight_size."""
    return _conv_grad(3, _gpujit.conv3d, False, input, weight_size, grad_output, stride,
                      padding, dilation, groups)
