"""torch.utils.tensorboard over gpujit tensors: SummaryWriter writes TensorBoard event files
(scalars, histograms, images, text, hyperparameters, PR curves, embeddings, audio, video,
meshes, custom-scalar layouts and traced graphs) with the `tensorboard` package's own
protocol buffers and event-file writer, as PyTorch's does. Like PyTorch, it needs
`tensorboard` installed (`pip install tensorboard`; images also need Pillow, figures
matplotlib, videos moviepy): without it, importing this module raises the same
ModuleNotFoundError as PyTorch's."""
import tensorboard

from ._version import older_than as _older_than

if not hasattr(tensorboard, "__version__") or _older_than(tensorboard.__version__, (1, 15)):
    raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above")

del tensorboard, _older_than

from .writer import FileWriter, SummaryWriter  # noqa: E402
from tensorboard.summary.writer.record_writer import RecordWriter  # noqa: E402

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
