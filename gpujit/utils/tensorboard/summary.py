"""Summary protocol buffers (tensorboard's own) from gpujit tensors, NumPy arrays and
numbers: the values SummaryWriter's add_* methods write, made as PyTorch's
torch.utils.tensorboard.summary makes them, so TensorBoard shows the same."""
import io
import json
import logging
import struct

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

from ._utils import convert_to_HWC, make_np, prepare_video

__all__ = ["half_to_int", "int_to_half", "hparams", "scalar", "histogram_raw", "histogram",
           "make_histogram", "image", "image_boxes", "draw_boxes", "make_image", "video",
           "make_video", "audio", "custom_scalars", "text", "tensor_proto", "pr_curve_raw",
           "pr_curve", "compute_curve", "mesh"]

logger = logging.getLogger(__name__)


def half_to_int(f: float) -> int:
    """The bits of float32(f) as an int (PyTorch's helper of the same name)."""
    return struct.unpack("i", struct.pack("f", f))[0]


def int_to_half(i: int) -> float:
    return struct.unpack("f", struct.pack("i", i))[0]


def _shape(dims):
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in dims])


def _plugin(name, content=None):
    data = SummaryMetadata.PluginData(plugin_name=name)
    if content is not None:
        data.content = content
    return SummaryMetadata(plugin_data=data)


def _half_bits(a):
    # TensorProto's half_val holds each float16's 16 bits (PyTorch 2.13 writes the bits of
    # the float32 value there, which TensorBoard reads back as other numbers; and its uint8
    # values in uint32_val, where TensorBoard reads none: gpujit writes int_val, as
    # tensor.proto says)
    return a.astype(np.float16).reshape(-1).view(np.uint16).astype(np.int64).tolist()


def _tensor_fields(dtype_name):
    return {
        "float16": ("DT_HALF", "half_val", _half_bits),
        "float32": ("DT_FLOAT", "float_val", None),
        "float64": ("DT_DOUBLE", "double_val", None),
        "int8": ("DT_INT8", "int_val", None),
        "uint8": ("DT_UINT8", "int_val", None),
        "int16": ("DT_INT16", "int_val", None),
        "int32": ("DT_INT32", "int_val", None),
        "int64": ("DT_INT64", "int64_val", None),
        "bool": ("DT_BOOL", "bool_val", None),
    }.get(dtype_name)


def tensor_proto(tag, tensor):
    """A Summary holding the tensor's values (the "tensor" plugin)."""
    if tensor.numel() * tensor.element_size() >= (1 << 31):
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    fields = _tensor_fields(str(tensor.dtype).rpartition(".")[2])
    if fields is None:
        raise ValueError(f"{tag} has unsupported tensor dtype {tensor.dtype}")
    dtype, field, convert = fields
    a = make_np(tensor)
    values = convert(a) if convert is not None else a.reshape(-1).tolist()
    proto = TensorProto(dtype=dtype, tensor_shape=_shape(tensor.shape), **{field: values})
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin("tensor"), tensor=proto)])


def scalar(name, tensor, collections=None, new_style=False, double_precision=False):
    """A Summary of one number: simple_value, or with new_style a DT_FLOAT (DT_DOUBLE with
    double_precision) tensor of the "scalars" plugin."""
    a = make_np(tensor).squeeze()
    if a.ndim != 0:
        raise AssertionError(
            f"Tensor should contain one element (0 dimensions).{' ' * 13}Was given size: "
            f"{a.size} and {a.ndim} dimensions.")
    value = float(a)
    if new_style:
        proto = (TensorProto(double_val=[value], dtype="DT_DOUBLE") if double_precision
                 else TensorProto(float_val=[value], dtype="DT_FLOAT"))
        return Summary(value=[Summary.Value(tag=name, tensor=proto,
                                            metadata=_plugin("scalars"))])
    return Summary(value=[Summary.Value(tag=name, simple_value=value)])


def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                          bucket_limit=bucket_limits, bucket=bucket_counts)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def histogram(name, values, bins, max_bins=None):
    hist = make_histogram(make_np(values).astype(float), bins, max_bins)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def make_histogram(values, bins, max_bins=None):
    """A HistogramProto of the values over NumPy's bins (a bin spec or edges), at most
    max_bins buckets (neighbours merged), trimmed to the non-empty range with one empty
    bucket kept on the left."""
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    num_bins = len(counts)
    if max_bins is not None and num_bins > max_bins:
        step = num_bins // max_bins
        if num_bins % step:
            counts = np.pad(counts, pad_width=[[0, step - num_bins % step]],
                            mode="constant", constant_values=0)
        counts = counts.reshape(-1, step).sum(axis=-1)
        merged = np.empty((counts.size + 1,), limits.dtype)
        merged[:-1] = limits[:-1:step]
        merged[-1] = limits[-1]
        limits = merged
    nonempty = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(nonempty, [0, nonempty[-1] - 1], side="right")
    start, end = int(start), int(end) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    return HistogramProto(min=values.min(), max=values.max(), num=len(values),
                          sum=values.sum(), sum_squares=values.dot(values),
                          bucket_limit=limits.tolist(), bucket=counts.tolist())


def _scale_factor(a) -> int:
    return 1 if a.dtype == np.uint8 else 255


def image(tag, tensor, rescale=1, dataformats="NCHW"):
    """A PNG image Summary: floats in [0, 1] scaled to 0-255, uint8 as is; a batch as a
    grid."""
    a = convert_to_HWC(make_np(tensor), dataformats)
    a = (a.astype(np.float32) * _scale_factor(a)).clip(0, 255).astype(np.uint8)
    return Summary(value=[Summary.Value(tag=tag, image=make_image(a, rescale=rescale))])


def image_boxes(tag, tensor_image, tensor_boxes, rescale=1, dataformats="CHW", labels=None):
    a = convert_to_HWC(make_np(tensor_image), dataformats)
    a = a.astype(np.float32) * _scale_factor(a)
    img = make_image(a.clip(0, 255).astype(np.uint8), rescale=rescale,
                     rois=make_np(tensor_boxes), labels=labels)
    return Summary(value=[Summary.Value(tag=tag, image=img)])


def _draw_box(image, xmin, ymin, xmax, ymax, label, color="black", color_text="black",
              thickness=2):
    from PIL import ImageDraw, ImageFont
    font = ImageFont.load_default()
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = xmin, xmax, ymin, ymax
    draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)],
              width=thickness, fill=color)
    if label:
        l, t, r, b = font.getbbox(label)
        text_w, text_h = r - l, b - t
        margin = np.ceil(0.05 * text_h)
        draw.rectangle([(left, bottom - text_h - 2 * margin), (left + text_w, bottom)],
                       fill=color)
        draw.text((left + margin, bottom - text_h - margin), label, fill=color_text,
                  font=font)
    return image


def draw_boxes(disp_image, boxes, labels=None):
    for i in range(boxes.shape[0]):
        disp_image = _draw_box(disp_image, boxes[i, 0], boxes[i, 1], boxes[i, 2],
                               boxes[i, 3], None if labels is None else labels[i],
                               color="Red")
    return disp_image


def make_image(tensor, rescale=1, rois=None, labels=None):
    """An HWC uint8 array as a Summary.Image (PNG; Pillow draws the boxes and resizes)."""
    from PIL import Image
    height, width, channel = tensor.shape
    img = Image.fromarray(tensor)
    if rois is not None:
        img = draw_boxes(img, rois, labels=labels)
    img = img.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
    with io.BytesIO() as out:
        img.save(out, format="PNG")
        data = out.getvalue()
    return Summary.Image(height=height, width=width, colorspace=channel,
                         encoded_image_string=data)


def video(tag, tensor, fps=4):
    a = prepare_video(make_np(tensor))
    a = (a.astype(np.float32) * _scale_factor(a)).clip(0, 255).astype(np.uint8)
    return Summary(value=[Summary.Value(tag=tag, image=make_video(a, fps))])


def make_video(tensor, fps):
    """Frames (T, H, W, C) uint8 as an animated GIF Summary.Image, written by moviepy (as
    PyTorch, a message and no image when moviepy is missing)."""
    try:
        import moviepy  # noqa: F401
    except ImportError:
        print("add_video needs package moviepy")
        return None
    try:
        from moviepy import editor as mpy
    except ImportError:
        print("moviepy is installed, but can't import moviepy.editor.",
              "Some packages could be missing [imageio, requests]")
        return None
    import tempfile
    _, h, w, c = tensor.shape
    clip = mpy.ImageSequenceClip(list(tensor), fps=fps)
    with tempfile.NamedTemporaryFile(suffix=".gif") as f:
        try:
            clip.write_gif(f.name, verbose=False, logger=None)
        except TypeError:
            try:
                clip.write_gif(f.name, verbose=False, progress_bar=False)
            except TypeError:
                clip.write_gif(f.name, verbose=False)
        f.seek(0)
        data = f.read()
    return Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=data)


def audio(tag, tensor, sample_rate=44100):
    """One channel of samples in [-1, 1] (clipped, with a message, when louder) as 16-bit
    WAV."""
    import wave
    a = make_np(tensor).squeeze()
    if abs(a).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        a = a.clip(-1, 1)
    if a.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    a = (a * np.iinfo(np.int16).max).astype("<i2")
    with io.BytesIO() as out:
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            w.writeframes(a.data)
        data = out.getvalue()
    snd = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=a.shape[-1],
                        encoded_audio_string=data, content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=snd)])


def custom_scalars(layout):
    """The custom-scalars plugin's layout: {category: {title: ["Multiline", tags] or
    ["Margin", [value, lower, upper]]}}."""
    categories = []
    for category, charts_of in layout.items():
        charts = []
        for title, (kind, tags) in charts_of.items():
            if kind == "Margin":
                if len(tags) != 3:
                    raise AssertionError("len(tags) != 3")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1],
                                                              upper=tags[2])
                charts.append(layout_pb2.Chart(
                    title=title, margin=layout_pb2.MarginChartContent(series=[series])))
            else:
                charts.append(layout_pb2.Chart(
                    title=title, multiline=layout_pb2.MultilineChartContent(tag=tags)))
        categories.append(layout_pb2.Category(title=category, chart=charts))
    content = layout_pb2.Layout(category=categories).SerializeToString()
    proto = TensorProto(dtype="DT_STRING", string_val=[content], tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=proto,
                                        metadata=_plugin("custom_scalars"))])


def text(tag, text):
    """Markdown text under "<tag>/text_summary"."""
    proto = TensorProto(dtype="DT_STRING", string_val=[text.encode(encoding="utf_8")],
                        tensor_shape=_shape([1]))
    meta = _plugin("text", TextPluginData(version=0).SerializeToString())
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=meta,
                                        tensor=proto)])


def _pr_summary(tag, data, num_thresholds):
    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    proto = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(),
                        tensor_shape=_shape(data.shape[:2]))
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin("pr_curves", content),
                                        tensor=proto)])


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127, weights=None):
    num_thresholds = min(num_thresholds, 127)     # (more breaks the protobuf: PyTorch's cap)
    return _pr_summary(tag, np.stack((tp, fp, tn, fn, precision, recall)), num_thresholds)


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None):
    num_thresholds = min(num_thresholds, 127)
    data = compute_curve(labels, predictions, num_thresholds=num_thresholds, weights=weights)
    return _pr_summary(tag, data, num_thresholds)


def compute_curve(labels, predictions, num_thresholds=None, weights=None):
    """Rows tp, fp, tn, fn, precision, recall at num_thresholds thresholds over [0, 1]."""
    minimum = 1e-7
    if weights is None:
        weights = 1.0
    buckets = np.int32(np.floor(predictions * (num_thresholds - 1)))
    positive = labels.astype(np.float64)
    rng = (0, num_thresholds - 1)
    tp_b, _ = np.histogram(buckets, bins=num_thresholds, range=rng, weights=positive * weights)
    fp_b, _ = np.histogram(buckets, bins=num_thresholds, range=rng,
                           weights=(1.0 - positive) * weights)
    tp = np.cumsum(tp_b[::-1])[::-1]
    fp = np.cumsum(fp_b[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(minimum, tp + fp)
    recall = tp / np.maximum(minimum, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
    """The hparams plugin's three summaries (experiment, session start, session end)."""
    from tensorboard.plugins.hparams.api_pb2 import (DataType, Experiment, HParamInfo,
                                                     MetricInfo, MetricName, Status)
    from tensorboard.plugins.hparams.metadata import (EXPERIMENT_TAG, PLUGIN_DATA_VERSION,
                                                      PLUGIN_NAME, SESSION_END_INFO_TAG,
                                                      SESSION_START_INFO_TAG)
    from tensorboard.plugins.hparams.plugin_data_pb2 import (HParamsPluginData,
                                                             SessionEndInfo, SessionStartInfo)
    from ...tensor import Tensor

    for name, d in (("hparam_dict", hparam_dict), ("metric_dict", metric_dict)):
        if not isinstance(d, dict):
            logger.warning(f"parameter: {name} should be a dictionary, nothing logged.")
            raise TypeError(f"parameter: {name} should be a dictionary, nothing logged.")
    discrete = hparam_domain_discrete or {}
    if not isinstance(discrete, dict):
        raise TypeError(
            "parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in discrete.items():
        if (k not in hparam_dict or not isinstance(v, list)
                or not all(isinstance(d, type(hparam_dict[k])) for d in v)):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same "
                            f"type as hparam_dict[{k}].")

    infos = []
    ssi = SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        # (bool is an int: PyTorch records a bool as a number, DATA_TYPE_FLOAT64, too)
        if isinstance(v, (int, float)):
            field, kind = "number_value", "DATA_TYPE_FLOAT64"
        elif isinstance(v, str):
            field, kind = "string_value", "DATA_TYPE_STRING"
        elif isinstance(v, Tensor):
            ssi.hparams[k].number_value = make_np(v)[0]
            infos.append(HParamInfo(name=k, type=DataType.Value("DATA_TYPE_FLOAT64")))
            continue
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        setattr(ssi.hparams[k], field, v)
        domain = None
        if k in discrete:
            domain = struct_pb2.ListValue(
                values=[struct_pb2.Value(**{field: d}) for d in discrete[k]])
        infos.append(HParamInfo(name=k, type=DataType.Value(kind), domain_discrete=domain))

    def summary(tag, **content):
        data = HParamsPluginData(version=PLUGIN_DATA_VERSION, **content).SerializeToString()
        return Summary(value=[Summary.Value(tag=tag, metadata=_plugin(PLUGIN_NAME, data))])

    exp = Experiment(hparam_infos=infos,
                     metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metric_dict])
    sei = SessionEndInfo(status=Status.Value("STATUS_SUCCESS"))
    return (summary(EXPERIMENT_TAG, experiment=exp),
            summary(SESSION_START_INFO_TAG, session_start_info=ssi),
            summary(SESSION_END_INFO_TAG, session_end_info=sei))


def mesh(tag, vertices, colors, faces, config_dict, display_name=None, description=None):
    """The mesh plugin's summaries: one float tensor (B, N, 3) per component given."""
    from tensorboard.plugins.mesh import metadata
    from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData
    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [(t, kind) for t, kind in ((vertices, MeshPluginData.VERTEX),
                                       (faces, MeshPluginData.FACE),
                                       (colors, MeshPluginData.COLOR)) if t is not None]
    components = metadata.get_components_bitmask([kind for _, kind in parts])
    values = []
    for t, kind in parts:
        a = np.asarray(make_np(t))
        meta = metadata.create_summary_metadata(tag, display_name, kind, components,
                                                list(a.shape), description,
                                                json_config=json_config)
        proto = TensorProto(dtype="DT_FLOAT", float_val=a.reshape(-1).tolist(),
                            tensor_shape=_shape(a.shape[:3]))
        values.append(Summary.Value(tag=metadata.get_instance_name(tag, kind), tensor=proto,
                                    metadata=meta))
    return Summary(value=values)
