"""nn layers, one module per family."""
from ..module import Module  # noqa: F401
from .linear import Identity, Linear, Bilinear  # noqa: F401
from .conv import Conv1d, Conv2d  # noqa: F401
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d  # noqa: F401
from .conv import Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401
from .pooling import (  # noqa: F401
    MaxPool1d, MaxPool3d, AvgPool1d, AvgPool3d, AdaptiveAvgPool1d, AdaptiveAvgPool3d,
    AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, LPPool1d, LPPool2d, LPPool3d,
    MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, FractionalMaxPool2d, FractionalMaxPool3d,
)
from .fold import Fold, Unfold  # noqa: F401
from .upsampling import (  # noqa: F401
    Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle,
)
from .normalization import (  # noqa: F401
    BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,
    LayerNorm, GroupNorm,
)
from .dropout import Dropout  # noqa: F401
from .sparse import Embedding, EmbeddingBag  # noqa: F401
from .flatten import Flatten, Unflatten  # noqa: F401
from .activation import (  # noqa: F401
    Threshold, ReLU, ReLU6, Hardtanh, LeakyReLU, RReLU, ELU, SELU, CELU, GELU, SiLU, Mish, Softplus,
    Hardsigmoid, Hardswish, Sigmoid, Tanh, Softmax, Softmin, LogSoftmax, Hardshrink,
    Softshrink, Tanhshrink, Softsign, LogSigmoid, GLU, PReLU,
)
from .distance import PairwiseDistance, CosineSimilarity  # noqa: F401
from .container import (  # noqa: F401
    Container, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict,
)
from .rnn_cells import RNNCellBase, RNNCell, GRUCell, LSTMCell  # noqa: F401
from .rnn import RNNBase, RNN, LSTM, GRU  # noqa: F401
from .activation import MultiheadAttention  # noqa: F401
from .transformer import (  # noqa: F401
    Transformer, TransformerEncoder, TransformerDecoder, TransformerEncoderLayer,
    TransformerDecoderLayer,
)
from .loss import (  # noqa: F401
    L1Loss, MSELoss, NLLLoss, CrossEntropyLoss, BCELoss, BCEWithLogitsLoss,
)

__all__ = [  # every name imported above (what a star-import gives)
    "Module", "Identity", "Linear", "Bilinear", "Conv1d", "Conv2d", "MaxPool2d",
    "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "LayerNorm", "GroupNorm", "Dropout", "Embedding", "Flatten", "Unflatten", "Threshold",
    "EmbeddingBag",
    "ReLU", "ReLU6", "Hardtanh", "LeakyReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
    "Softplus", "Hardsigmoid", "Hardswish", "Sigmoid", "Tanh", "Softmax", "Softmin",
    "LogSoftmax", "Hardshrink", "Softshrink", "Tanhshrink", "Softsign", "LogSigmoid", "GLU", "PReLU",
    "Container", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "RNNCell",
    "GRUCell", "LSTMCell", "L1Loss", "MSELoss", "NLLLoss", "CrossEntropyLoss", "BCELoss",
    "BCEWithLogitsLoss", "PairwiseDistance", "CosineSimilarity", "Upsample",
    "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
    "MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder",
    "TransformerEncoderLayer", "TransformerDecoderLayer",
    "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "MaxPool1d",
    "MaxPool3d", "AvgPool1d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d",
    "LPPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "Fold", "Unfold",
    "FractionalMaxPool2d", "FractionalMaxPool3d",
]


# dropout variants, more losses, RMSNorm / LocalResponseNorm / Softmax2d, padding layers
from .dropout import (  # noqa: F401,E402
    Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout,
)
from .loss_extra import (  # noqa: F401,E402
    SmoothL1Loss, HuberLoss, KLDivLoss, MarginRankingLoss, HingeEmbeddingLoss,
    CosineEmbeddingLoss, SoftMarginLoss, MultiLabelSoftMarginLoss, MultiLabelMarginLoss,
    MultiMarginLoss, PoissonNLLLoss, GaussianNLLLoss, TripletMarginLoss,
    TripletMarginWithDistanceLoss, CTCLoss,
)
from .adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: F401,E402
from .normalization_extra import (  # noqa: F401,E402
    RMSNorm, LocalResponseNorm, Softmax2d, CrossMapLRN2d,
)
from .padding import (  # noqa: F401,E402
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d,
    ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d,
    ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d,
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
from .lazy import (  # noqa: F401,E402  (lazy modules: shapes inferred at the first forward)
    LazyModuleMixin, LazyLinear, LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d,
    LazyConvTranspose2d, LazyConvTranspose3d, LazyBatchNorm1d, LazyBatchNorm2d,
    LazyBatchNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d,
)
from . import lazy as _lazy  # noqa: E402
__all__ += list(_lazy.__all__)
from .upsampling import ChannelShuffle  # noqa: F401,E402
__all__ += ["ChannelShuffle"]
from .normalization_extra import SyncBatchNorm  # noqa: F401,E402
__all__ += ["SyncBatchNorm"]
# PyTorch's module paths for classes defined in other files here (torch.nn.modules.batchnorm
# is an attribute after `import torch`; user code imports `_BatchNorm` from it)
from . import batchnorm, instancenorm, pixelshuffle, channelshuffle, module  # noqa: F401,E402
from .loss_extra import LinearCrossEntropyLoss  # noqa: F401,E402  (torch 2.13)
from .linear_cross_entropy_options import LinearCrossEntropyOptions  # noqa: F401,E402
from . import linear_cross_entropy_options  # noqa: F401,E402
__all__ += ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]
# Classes defined in gpujit's other files, also reachable where PyTorch defines them
# (`from torch.nn.modules.normalization import RMSNorm`, `...loss import HuberLoss`)
from . import activation, conv, linear, loss, normalization  # noqa: E402
from .compat import NLLLoss2d  # noqa: F401,E402
for _home, _names in ((normalization, ("CrossMapLRN2d", "LocalResponseNorm", "RMSNorm")),
                      (activation, ("Softmax2d",)),
                      (conv, ("LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
                              "LazyConvTranspose2d", "LazyConvTranspose3d")),
                      (linear, ("LazyLinear",)),
                      (loss, ("CTCLoss", "CosineEmbeddingLoss", "GaussianNLLLoss",
                              "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss",
                              "LinearCrossEntropyLoss", "MarginRankingLoss",
                              "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
                              "MultiMarginLoss", "NLLLoss2d", "PoissonNLLLoss", "SmoothL1Loss",
                              "SoftMarginLoss", "TripletMarginLoss",
                              "TripletMarginWithDistanceLoss"))):
    for _name in _names:
        if not hasattr(_home, _name):
            setattr(_home, _name, globals()[_name])
