"""The objects PyTorch's quantized:: prepack ops return (torch.ScriptObject instances of
the custom classes `__torch__.torch.classes.quantized.LinearPackedParamsBase`,
`Conv2dPackedParamsBase`, `Conv3dPackedParamsBase`): what quantized::linear / conv2d ...
take as their packed weight, what a quantized Linear / Conv module holds.

PyTorch packs the weight for FBGEMM; gpujit keeps the qint8 weight and the float bias as
they are (ops/quantized_ops.py computes FBGEMM's arithmetic from them). Each class has a
ClassType of its qualified name (registered: schemas, graphs, scripted module attributes
name it), the methods PyTorch's have (`unpack`, `bias`; conv's `weight`, `stride`,
`padding`, `output_padding`, `dilation`, `groups`, `transpose`) and PyTorch's
`__getstate__` / `__setstate__` state.
"""
from __future__ import annotations

from ..ir import types as T

__all__ = ["ScriptObject", "LinearPackedParamsBase", "Conv2dPackedParamsBase",
           "Conv3dPackedParamsBase", "EmbeddingPackedParamsBase", "PACKED_CLASSES"]

_PREFIX = "__torch__.torch.classes.quantized."


class ScriptObject:
    """torch.ScriptObject: an object of a TorchScript custom class (torch.classes)."""
    _qualified_name = None

    def __repr__(self):
        return f"ScriptObject <{self._qualified_name}>"

    def _type(self):
        return T.class_type(self._qualified_name)

    def _method_names(self):
        return [n for n in type(self)._METHODS]

    def _has_method(self, name):
        return name in type(self)._METHODS

    def _properties(self):
        return []

    _METHODS = ()


class LinearPackedParamsBase(ScriptObject):
    """quantized::linear_prepack's result: the qint8 weight and the float bias."""
    _qualified_name = _PREFIX + "LinearPackedParamsBase"
    _METHODS = ("__getstate__", "__setstate__", "bias", "unpack")

    def __init__(self, weight, bias):
        self._weight, self._bias = weight, bias

    def unpack(self):
        return self._weight, self._bias

    def bias(self):
        return self._bias

    def __getstate__(self):
        return self._weight, self._bias

    def __setstate__(self, state):
        self._weight, self._bias = state

    def __reduce__(self):
        return _rebuild, (type(self), self.__getstate__())


class _ConvPackedParamsBase(ScriptObject):
    """quantized::conv{1,2,3}d_prepack's (and conv_transpose's) result: the weight, bias
    and the convolution's stride, padding, output_padding, dilation, groups, transpose.
    Conv1d packs as a 2-d convolution in PyTorch (its lists of one entry here are those
    the prepack was given)."""
    _METHODS = ("__getstate__", "__setstate__", "weight", "bias", "unpack", "stride",
                "padding", "output_padding", "dilation", "groups", "transpose")

    def __init__(self, weight, bias, stride, padding, output_padding, dilation, groups,
                 transpose=False):
        self._weight, self._bias = weight, bias
        self._stride, self._padding = list(stride), list(padding)
        self._output_padding, self._dilation = list(output_padding), list(dilation)
        self._groups, self._transpose = int(groups), bool(transpose)

    def weight(self):
        return self._weight

    def bias(self):
        return self._bias

    def unpack(self):
        return self._weight, self._bias

    def stride(self):
        return list(self._stride)

    def padding(self):
        return list(self._padding)

    def output_padding(self):
        return list(self._output_padding)

    def dilation(self):
        return list(self._dilation)

    def groups(self):
        return self._groups

    def transpose(self):
        return self._transpose

    def __getstate__(self):
        # (the fields gpujit's conv reads; PyTorch's state is a versioned ('3', [int16
        # config tensor, weight], [bias]) triple)
        return (self._weight, self._bias, self._stride, self._padding,
                self._output_padding, self._dilation, self._groups, self._transpose)

    def __setstate__(self, state):
        (self._weight, self._bias, self._stride, self._padding, self._output_padding,
         self._dilation, self._groups, self._transpose) = state

    def __reduce__(self):
        return _rebuild, (type(self), self.__getstate__())


class Conv2dPackedParamsBase(_ConvPackedParamsBase):
    _qualified_name = _PREFIX + "Conv2dPackedParamsBase"


class Conv3dPackedParamsBase(_ConvPackedParamsBase):
    _qualified_name = _PREFIX + "Conv3dPackedParamsBase"


def _rebuild(cls, state):
    obj = cls.__new__(cls)
    obj.__setstate__(state)
    return obj


class EmbeddingPackedParamsBase(ScriptObject):
    """quantized::embedding_bag_prepack's result: a quint8 weight quantized per row with
    float qparams (per_channel_affine_float_qparams); each row's scale and bias (-zero
    point * scale, float32), as FBGEMM's fused rows keep them."""
    _qualified_name = _PREFIX + "EmbeddingPackedParamsBase"
    _METHODS = ("__getstate__", "__setstate__", "bit_rate", "unpack", "version")

    def __init__(self, weight):
        self._weight = weight

    def unpack(self):
        return self._weight

    def bit_rate(self):
        return 8

    def version(self):
        return 1

    def __getstate__(self):
        return (self._weight,)

    def __setstate__(self, state):
        (self._weight,) = state

    def __reduce__(self):
        return _rebuild, (type(self), self.__getstate__())


PACKED_CLASSES = (LinearPackedParamsBase, Conv2dPackedParamsBase, Conv3dPackedParamsBase,
                  EmbeddingPackedParamsBase)

for _cls in PACKED_CLASSES:
    T.register_class_type(T.ClassType(_cls._qualified_name, py_class=_cls))
