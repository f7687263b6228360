"""gpujit.nn: Module, Parameter, layers, losses and init."""
from . import functional  # noqa: F401
from .parameter import Parameter  # noqa: F401
from .module import Module  # noqa: F401
from .modules import (  # noqa: F401
    Identity, Linear, Bilinear, Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
    BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,
    LayerNorm, GroupNorm, Dropout, Embedding, EmbeddingBag, Flatten,
    Unflatten, Threshold, ReLU, ReLU6, Hardtanh, LeakyReLU, RReLU, ELU, SELU, CELU, GELU, SiLU, Mish,
    Softplus, Hardsigmoid, Hardswish, Sigmoid, Tanh, Softmax, LogSoftmax, Hardshrink,
    Softshrink, Tanhshrink, Softsign, LogSigmoid, GLU, PReLU, Container, Sequential,
    ModuleList, ModuleDict, ParameterList, ParameterDict, L1Loss, MSELoss, NLLLoss,
    CrossEntropyLoss, BCELoss, BCEWithLogitsLoss, RNNCell, GRUCell, LSTMCell, RNNBase, RNN, LSTM, GRU, Softmin,
    PairwiseDistance, CosineSimilarity, Upsample, UpsamplingNearest2d, UpsamplingBilinear2d,
    PixelShuffle, PixelUnshuffle, MultiheadAttention, Transformer, TransformerEncoder,
    TransformerDecoder, TransformerEncoderLayer, TransformerDecoderLayer,
)
from .modules import (  # noqa: F401,E402  (pooling / convolution variants)
    Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, MaxPool1d, MaxPool3d,
    AvgPool1d, AvgPool3d, AdaptiveAvgPool1d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,
    AdaptiveMaxPool2d, AdaptiveMaxPool3d, LPPool1d, LPPool2d, LPPool3d, MaxUnpool1d,
    MaxUnpool2d, MaxUnpool3d, Fold, Unfold, FractionalMaxPool2d, FractionalMaxPool3d,
)
from . import init, modules  # noqa: F401,E402

from . import utils  # noqa: F401,E402

__all__ = [  # every name imported above (what a star-import gives)
    "functional", "Parameter", "Module", "Identity", "Linear", "Bilinear", "Conv1d",
    "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d",
    "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LayerNorm", "GroupNorm", "Dropout", "Embedding", "Flatten", "Unflatten",
    "Threshold", "ReLU", "ReLU6", "Hardtanh", "LeakyReLU", "RReLU", "ELU", "SELU", "CELU", "GELU",
    "SiLU", "Mish", "Softplus", "Hardsigmoid", "Hardswish", "Sigmoid", "Tanh", "Softmax",
    "LogSoftmax", "Hardshrink", "Softshrink", "Tanhshrink", "Softsign", "LogSigmoid", "GLU",
    "PReLU", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    "L1Loss", "MSELoss", "NLLLoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss",
    "RNNCell", "RNNBase", "RNN", "LSTM", "GRU", "GRUCell", "LSTMCell", "Softmin", "PairwiseDistance", "CosineSimilarity",
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
    "MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder",
    "TransformerEncoderLayer", "TransformerDecoderLayer", "init", "modules", "utils",
]

from .modules import (  # noqa: F401,E402  (registered there since)
    Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout, SmoothL1Loss,
    HuberLoss, KLDivLoss, MarginRankingLoss, HingeEmbeddingLoss, CosineEmbeddingLoss,
    SoftMarginLoss, MultiLabelSoftMarginLoss, MultiLabelMarginLoss, MultiMarginLoss,
    PoissonNLLLoss, GaussianNLLLoss, TripletMarginLoss, TripletMarginWithDistanceLoss,
    CTCLoss,
    RMSNorm, LocalResponseNorm, CrossMapLRN2d, Softmax2d, CircularPad1d, CircularPad2d,
    CircularPad3d, AdaptiveLogSoftmaxWithLoss,
    ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d, ReflectionPad2d,
    ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d,
    ZeroPad2d, ZeroPad3d,
)
__all__ += [
    "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
    "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MarginRankingLoss", "HingeEmbeddingLoss",
    "CosineEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
    "MultiLabelMarginLoss", "MultiMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
    "TripletMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss",
    "RMSNorm", "LocalResponseNorm", "CrossMapLRN2d", "AdaptiveLogSoftmaxWithLoss",
    "Softmax2d", "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d",
    "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
    "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]
__all__ += [  # pooling / convolution variants
    "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "MaxPool1d",
    "MaxPool3d", "AvgPool1d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d",
    "LPPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "Fold", "Unfold",
    "FractionalMaxPool2d", "FractionalMaxPool3d", "EmbeddingBag",
]

from .modules.lazy import (  # noqa: F401,E402  (lazy modules)
    LazyLinear, LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d,
    LazyConvTranspose3d, LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d,
    LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d,
)
from .parameter import UninitializedParameter, UninitializedBuffer  # noqa: F401,E402
from . import parameter  # noqa: F401,E402
__all__ += [
    "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
    "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
    "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
    "UninitializedParameter", "UninitializedBuffer", "parameter",
]
from .modules.upsampling import ChannelShuffle  # noqa: F401,E402
__all__ += ["ChannelShuffle"]
from .modules.rnn_cells import RNNCellBase  # noqa: F401,E402
__all__ += ["RNNCellBase"]
from .modules.normalization_extra import SyncBatchNorm  # noqa: F401,E402
__all__ += ["SyncBatchNorm"]

from .parameter import Buffer  # noqa: F401,E402  (nn.Buffer, torch 2.5+)
from .modules.compat import DataParallel, NLLLoss2d  # noqa: F401,E402
from . import attention, parallel  # noqa: F401,E402  (torch.nn.attention, nn.parallel)
from . import grad, common_types  # noqa: F401,E402  (torch.nn.grad, torch.nn.common_types)
__all__ += ["Buffer", "DataParallel", "NLLLoss2d", "attention", "parallel"]
from .modules import LinearCrossEntropyLoss, LinearCrossEntropyOptions  # noqa: F401,E402
__all__ += ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]
