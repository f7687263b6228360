"""Arrays for the summaries: gpujit tensors, NumPy arrays and numbers as NumPy arrays, image
layouts to HWC, image grids, video frames, matplotlib figures to pixels (PyTorch's
torch/utils/tensorboard/_utils.py and _convert_np.py behave the same)."""
import numpy as np


def make_np(x) -> np.ndarray:
    """x as a NumPy array: an array as is, a number as a 1-element array, a tensor detached
    on the CPU (a meta tensor, whose values do not exist, as one random number)."""
    from ...tensor import Tensor
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if isinstance(x, Tensor):
        if x.device.type == "meta":
            return np.random.randn(1)
        return x.detach().cpu().numpy()
    raise NotImplementedError(
        f"Got {type(x)}, but numpy array or torch tensor are expected.")


def make_grid(images, ncols=8):
    """N images N1HW or N3HW laid out on a 3-channel grid (CHW), ncols per row."""
    if not isinstance(images, np.ndarray):
        raise AssertionError("plugin error, should pass numpy array here")
    if images.shape[1] == 1:
        images = np.concatenate([images, images, images], 1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    n, _, h, w = images.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((3, h * nrows, w * ncols), dtype=images.dtype)
    for i in range(n):
        y, x = divmod(i, ncols)
        canvas[:, y * h:(y + 1) * h, x * w:(x + 1) * w] = images[i]
    return canvas


def convert_to_HWC(tensor, input_format):
    """An image array in `input_format` (NCHW, CHW, HWC, HW, ... any order of the letters)
    as one HWC image with 3 channels (a batch becomes a grid)."""
    if len(set(input_format)) != len(input_format):
        raise AssertionError(
            f"You can not use the same dimension shorthand twice.{' ' * 13}"
            f"input_format: {input_format}")
    if len(tensor.shape) != len(input_format):
        raise AssertionError(
            f"size of input tensor and input format are different.{' ' * 9}"
            f"tensor shape: {tensor.shape}, input_format: {input_format}")
    input_format = input_format.upper()
    if len(input_format) == 4:
        nchw = tensor.transpose([input_format.find(c) for c in "NCHW"])
        return make_grid(nchw).transpose(1, 2, 0)
    if len(input_format) == 3:
        hwc = tensor.transpose([input_format.find(c) for c in "HWC"])
        if hwc.shape[2] == 1:
            hwc = np.concatenate([hwc, hwc, hwc], 2)
        return hwc
    if len(input_format) == 2:
        hw = tensor.transpose([input_format.find(c) for c in "HW"])
        return np.stack([hw, hw, hw], 2)
    return tensor


def prepare_video(v):
    """A video batch (B, T, C, H, W) as frames (T, H', W', C): the B clips on a grid whose
    rows and columns are powers of two (missing clips black)."""
    b, t, c, h, w = v.shape
    if v.dtype == np.uint8:
        v = np.float32(v) / 255.0
    if b & (b - 1):                      # pad the batch to the next power of two
        extra = 2 ** b.bit_length() - b
        v = np.concatenate((v, np.zeros(shape=(extra, t, c, h, w))), axis=0)
    n_rows = 2 ** ((b.bit_length() - 1) // 2)
    n_cols = v.shape[0] // n_rows
    v = np.reshape(v, (n_rows, n_cols, t, c, h, w))
    v = np.transpose(v, axes=(2, 0, 4, 1, 5, 3))
    return np.reshape(v, (t, n_rows * h, n_cols * w, c))


def figure_to_image(figures, close=True):
    """A matplotlib figure (or a list of them) rendered as a CHW uint8 RGB array (NCHW for
    a list); closes the figures unless close=False."""
    import matplotlib.pyplot as plt
    import matplotlib.backends.backend_agg as backend_agg

    def render(figure):
        canvas = backend_agg.FigureCanvasAgg(figure)
        canvas.draw()
        data = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)
        w, h = figure.canvas.get_width_height()
        chw = np.moveaxis(data.reshape([h, w, 4])[:, :, 0:3], source=2, destination=0)
        if close:
            plt.close(figure)
        return chw

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)
