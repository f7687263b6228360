"""gpujit.nn: Module, Parameter, layers, losses and init."""
from . import functional  # noqa: F401
from .parameter import Parameter  # noqa: F401
from .module import Module  # noqa: F401
from .modules import (  # noqa: F401
    Identity, Linear, Bilinear, Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
    BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,
    LayerNorm, GroupNorm, Dropout, Embedding, Flatten,
    Unflatten, Threshold, ReLU, ReLU6, Hardtanh, LeakyReLU, ELU, SELU, CELU, GELU, SiLU, Mish,
    Softplus, Hardsigmoid, Hardswish, Sigmoid, Tanh, Softmax, LogSoftmax, Hardshrink,
    Softshrink, Tanhshrink, Softsign, LogSigmoid, GLU, PReLU, Sequential,
    ModuleList, ModuleDict, ParameterList, ParameterDict, L1Loss, MSELoss, NLLLoss,
    CrossEntropyLoss, BCELoss, BCEWithLogitsLoss, RNNCell, GRUCell, LSTMCell, Softmin,
    PairwiseDistance, CosineSimilarity, Upsample, UpsamplingNearest2d, UpsamplingBilinear2d,
    PixelShuffle, PixelUnshuffle, MultiheadAttention, Transformer, TransformerEncoder,
    TransformerDecoder, TransformerEncoderLayer, TransformerDecoderLayer,
)
from . import init, modules  # noqa: F401,E402

from . import utils  # noqa: F401,E402

__all__ = [  # every name imported above (what a star-import gives)
    "functional", "Parameter", "Module", "Identity", "Linear", "Bilinear", "Conv1d",
    "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d",
    "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LayerNorm", "GroupNorm", "Dropout", "Embedding", "Flatten", "Unflatten",
    "Threshold", "ReLU", "ReLU6", "Hardtanh", "LeakyReLU", "ELU", "SELU", "CELU", "GELU",
    "SiLU", "Mish", "Softplus", "Hardsigmoid", "Hardswish", "Sigmoid", "Tanh", "Softmax",
    "LogSoftmax", "Hardshrink", "Softshrink", "Tanhshrink", "Softsign", "LogSigmoid", "GLU",
    "PReLU", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    "L1Loss", "MSELoss", "NLLLoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss",
    "RNNCell", "GRUCell", "LSTMCell", "Softmin", "PairwiseDistance", "CosineSimilarity",
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
    "MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder",
    "TransformerEncoderLayer", "TransformerDecoderLayer", "init", "modules", "utils",
]
