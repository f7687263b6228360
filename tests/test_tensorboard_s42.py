"""torch.utils.tensorboard as gpujit.utils.tensorboard (session 42): SummaryWriter's event
files read back with tensorboard's own loader (values against NumPy), and, where PyTorch is
installed, the same calls under PyTorch write the same events; the torch._C graph API that
add_graph reads (v.uses(), v.isCompleteTensor(), n.scopeName(), n.kindOf(), n.is(...),
TracedModule._name). Without the tensorboard package the module raises the same
ModuleNotFoundError as PyTorch's."""
import glob
import importlib.util
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import gpujit

HAS_TB = importlib.util.find_spec("tensorboard") is not None


# --------------------------------------------------------------------------------------
# the graph API add_graph reads (no tensorboard needed)

class _Net(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.l = gpujit.nn.Linear(3, 4)
        self.seq = gpujit.nn.Sequential(gpujit.nn.ReLU(), gpujit.nn.Linear(4, 2))

    def forward(self, x):
        return self.seq(self.l(x)).sum()


def _graph_facts(torch, net):
    tr = torch.jit.trace(net, (torch.randn(2, 3),))
    g = tr.graph
    torch._C._jit_pass_inline(g)
    ins = [(len(v.uses()), type(v.uses()).__name__, v.type().kind(), v.isCompleteTensor())
           for v in g.inputs()]
    nodes = []
    for n in g.nodes():
        nodes.append((n.kind(), n.scopeName(), [n.kindOf(k) for k in n.attributeNames()],
                      [list(o.type().sizes()) if o.isCompleteTensor() else None
                       for o in n.outputs()]))
    mods = [(name, m._name) for name, m in tr.named_modules(prefix="__module")]
    return ins, nodes, mods, tr._name


def test_graph_api_of_an_inlined_trace():
    ins, nodes, mods, top = _graph_facts(gpujit, _Net())
    assert ins == [(2, "list", "ClassType", False), (1, "list", "TensorType", True)]
    scoped = [(k, s, sizes) for k, s, _, sizes in nodes if k != "prim::GetAttr"]
    assert scoped == [
        ("aten::linear", "__module.l", [[2, 4]]),
        ("aten::relu", "__module.seq/__module.seq.0", [[2, 4]]),
        ("aten::linear", "__module.seq/__module.seq.1", [[2, 2]]),
        ("prim::Constant", "", [None]),
        ("aten::sum", "", [[]]),
    ]
    assert all(kinds == ["s"] for k, _, kinds, _ in nodes if k == "prim::GetAttr")
    assert top == "_Net"
    assert mods == [("__module", "_Net"), ("__module.l", "Linear"), ("__module.seq", "Sequential"),
                    ("__module.seq.0", "ReLU"), ("__module.seq.1", "Linear")]


def test_graph_api_against_torch():
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l = torch.nn.Linear(3, 4)
            self.seq = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(4, 2))

        def forward(self, x):
            return self.seq(self.l(x)).sum()

    want = _graph_facts(torch, Net())
    have = _graph_facts(gpujit, _Net())
    assert have[0] == want[0]
    # (torch also records a prim::GetAttr of the parameterless ReLU, a module value that
    # add_graph skips)
    def ops(nodes):
        return sorted(n for n in nodes if n[0] != "prim::GetAttr")
    assert ops(have[1]) == ops(want[1])
    assert have[2][1:] == want[2][1:] and want[3] == "Net" and have[3] == "_Net"


def test_attribute_kinds_and_readers():
    g = gpujit._C.Graph()
    values = ([1, 2], [1.5, 2.0], "ab", 3, 2.5, True, gpujit.ones(2), [True, False], ["a", "b"],
              gpujit.device("cpu"), gpujit.float32)
    kinds = [g.insertConstant(v).node().kindOf("value") for v in values]
    # torch 2.13's answers for the same constants
    assert kinds == ["ival", "ival", "s", "i", "f", "i", "t", "ival", "ival", "s", "i"]
    n = g.insertConstant([4, 5]).node()
    assert getattr(n, "is")("value") == [4, 5] and n.ival("value") == [4, 5]
    assert g.insertConstant(2.5).node().f("value") == 2.5
    assert g.insertConstant("x").node().s("value") == "x"


# --------------------------------------------------------------------------------------
# without tensorboard

def test_import_without_tensorboard_is_torchs_error():
    code = ("import sys, importlib.abc\n"
            "class Block(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'tensorboard' or name.startswith('tensorboard.'):\n"
            "            raise ModuleNotFoundError(\"No module named 'tensorboard'\", name=name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "try:\n"
            "    from gpujit.utils.tensorboard import SummaryWriter\n"
            "except ModuleNotFoundError as e:\n"
            "    print('ERR', type(e).__name__, e.name, e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "ERR ModuleNotFoundError tensorboard No module named 'tensorboard'" in r.stdout, \
        r.stdout + r.stderr


def _load_version_module():
    here = os.path.dirname(gpujit.__file__)
    spec = importlib.util.spec_from_file_location(
        "_tb_version", os.path.join(here, "utils", "tensorboard", "_version.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("version,older", [
    ("2.21.0", False), ("1.15.0", False), ("1.15", False), ("1.14.9", True), ("0.9", True),
    ("1.15.0rc1", True), ("1.15.0a20190806", True), ("1.16.0rc1", False), ("3", False),
    ("garbage", True)])
def test_tensorboard_version_check(version, older):
    assert _load_version_module().older_than(version, (1, 15)) is older


# --------------------------------------------------------------------------------------
# event files

needs_tb = pytest.mark.skipif(not HAS_TB, reason="the tensorboard package is not installed")


def _events(root):
    """{run dir: [Event, ...]} of every event file under root (wall_time zeroed)."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event
    out = {}
    for f in sorted(glob.glob(os.path.join(root, "**", "events.out.tfevents.*"),
                              recursive=True)):
        run = os.path.relpath(os.path.dirname(f), root)
        evs = []
        for raw in RawEventFileLoader(f).Load():
            e = Event.FromString(raw)
            e.wall_time = 0
            evs.append(e)
        out.setdefault(run, []).extend(evs)
    return out


def _values(events):
    return [(e.step, v) for e in events for v in e.summary.value]


def _write_all(torch, SummaryWriter, out):
    """The same calls under gpujit or PyTorch."""
    w = SummaryWriter(out, purge_step=3)
    for i in range(3):
        w.add_scalar("loss/train", 1.0 / (i + 1), i, walltime=100.0 + i)
        w.add_scalar("x", torch.tensor(2.5) * i, i, walltime=1.0, new_style=True)
        w.add_scalar("xd", np.float64(i) / 3, i, walltime=1.0, new_style=True,
                     double_precision=True)
        w.add_scalars("run", {"a": i, "b/c": i * 2.0}, i, walltime=5.0)
    x = torch.arange(100, dtype=torch.float32).reshape(10, 10) / 7 - 3
    w.add_histogram("h", x, 1, walltime=1.0)
    w.add_histogram("h2", x, 2, bins=10, walltime=1.0)
    w.add_histogram("h3", x.to(torch.float64), 2, bins="auto", max_bins=4, walltime=1.0)
    w.add_histogram_raw("hr", 0, 10, 5, 20, 100, [1, 2, 3], [1, 2, 2], 3, walltime=1.0)
    w.add_tensor("t", torch.arange(6).reshape(2, 3), 1, walltime=1.0)
    w.add_tensor("tf", x[:2, :3], 1, walltime=1.0)
    w.add_tensor("tb", x[:2, :3] > 0, 1, walltime=1.0)
    if torch is gpujit:
        # (PyTorch 2.13 writes uint8 values to uint32_val and float16 values as float32
        # bits, which TensorBoard cannot read back: gpujit writes what tensor.proto says)
        w.add_tensor("tu", torch.arange(6, dtype=torch.uint8), 1, walltime=1.0)
        w.add_tensor("th", torch.arange(6, dtype=torch.float16) / 4, 1, walltime=1.0)
    w.add_tensor("ti", torch.arange(6, dtype=torch.int32), 1, walltime=1.0)
    img = torch.arange(3 * 8 * 6, dtype=torch.float32).reshape(3, 8, 6) / 144
    w.add_image("img", img, 0, walltime=1.0)
    w.add_image("img_hwc", img.permute(1, 2, 0), 0, walltime=1.0, dataformats="HWC")
    w.add_image("img_hw", img[0], 0, walltime=1.0, dataformats="HW")
    w.add_images("imgs", torch.stack([img, 1 - img, img * 0.5]), 0, walltime=1.0)
    w.add_image("img_u8", (img * 255).to(torch.uint8), 0, walltime=1.0)
    w.add_image_with_boxes("boxes", img, torch.tensor([[1, 1, 4, 5], [0, 0, 2, 2]]), 0,
                           walltime=1.0, labels=["a", "b"])
    w.add_text("note", "hello **world**", 0, walltime=1.0)
    w.add_audio("snd", torch.sin(torch.arange(100, dtype=torch.float32) / 5), 0,
                sample_rate=8000, walltime=1.0)
    labels = torch.tensor([0, 1, 1, 0, 1, 0, 1, 1])
    preds = torch.tensor([0.1, 0.9, 0.6, 0.4, 0.8, 0.3, 0.2, 0.7])
    w.add_pr_curve("pr", labels, preds, 0, walltime=1.0)
    w.add_pr_curve("pr2", labels, preds, 0, num_thresholds=10, walltime=1.0)
    w.add_custom_scalars({"A": {"one": ["Multiline", ["a/0", "a/1"]]},
                          "B": {"two": ["Margin", ["b/v", "b/lo", "b/hi"]]}})
    w.add_custom_scalars_multilinechart(["a", "b"], title="t")
    w.add_custom_scalars_marginchart(["a", "b", "c"])
    w.add_mesh("mesh", torch.tensor([[[1, 1, 1], [-1, -1, 1], [1, -1, -1]]], dtype=torch.float),
               colors=torch.tensor([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=torch.int),
               faces=torch.tensor([[[0, 1, 2]]], dtype=torch.int), global_step=0, walltime=1.0)
    w.add_hparams({"lr": 0.1, "bsize": 4, "opt": "adam", "flag": True}, {"hparam/acc": 0.5},
                  run_name="hp", global_step=1)
    emb = torch.arange(12, dtype=torch.float32).reshape(4, 3) / 3
    w.add_embedding(emb, metadata=["a", "b", "c", "d"],
                    label_img=torch.arange(4 * 3 * 5 * 5, dtype=torch.float32)
                    .reshape(4, 3, 5, 5) / 300, global_step=2, tag="my/emb")
    w.add_embedding(emb, metadata=[["a", 1], ["b", 2], ["c", 3], ["d", 4]],
                    metadata_header=["n", "k"], tag="e2")
    w.flush()
    w.close()
    w.close()                            # (a second close does nothing)
    return w


@needs_tb
def test_event_files_read_back(tmp_path):
    from gpujit.utils.tensorboard import SummaryWriter
    from tensorboard.util import tensor_util
    out = str(tmp_path / "gp")
    w = _write_all(gpujit, SummaryWriter, out)
    assert w.get_logdir() == out
    ev = _events(out)
    assert sorted(ev) == [".", "hp", "run_a", "run_b_c"] or sorted(ev) == [".", "hp", "run_a",
                                                                            "run_b/c"]
    main = ev["."]
    # purge_step: the file version and a START session log at step 3 first
    assert main[0].file_version.startswith("brain.Event")
    assert (main[1].step, main[1].file_version) == (3, "brain.Event:2")
    assert main[2].step == 3 and main[2].session_log.status == 1       # START
    vals = {}
    for step, v in _values(main):
        vals.setdefault(v.tag, []).append((step, v))
    assert [(s, round(v.simple_value, 6)) for s, v in vals["loss/train"]] == \
        [(0, 1.0), (1, 0.5), (2, round(1 / 3, 6))]
    assert [tensor_util.make_ndarray(v.tensor).item() for _, v in vals["x"]] == [0.0, 2.5, 5.0]
    assert [v.tensor.dtype for _, v in vals["xd"]] == [2, 2, 2]      # DT_DOUBLE
    assert [(s, v.simple_value) for s, v in _values(ev["run_a"])] == [(0, 0), (1, 1), (2, 2)]
    # histogram: TensorFlow's exponential buckets, and NumPy's bins
    x = (np.arange(100, dtype=np.float32).reshape(10, 10) / 7 - 3).astype(np.float64)
    h = vals["h2"][0][1].histo
    counts, edges = np.histogram(x, bins=10)
    assert list(h.bucket) == [0] + counts.tolist() or list(h.bucket) == counts.tolist()
    assert (h.min, h.max, h.num) == (x.min(), x.max(), 100)
    assert h.sum == pytest.approx(x.sum()) and h.sum_squares == pytest.approx((x * x).sum())
    assert sum(vals["h"][0][1].histo.bucket) == 100
    assert len(vals["h3"][0][1].histo.bucket) <= 5
    assert list(vals["hr"][0][1].histo.bucket) == [1, 2, 2]
    # tensors
    t = tensor_util.make_ndarray(vals["t"][0][1].tensor)
    assert t.tolist() == [[0, 1, 2], [3, 4, 5]] and t.dtype == np.int64
    assert tensor_util.make_ndarray(vals["tb"][0][1].tensor).tolist() == (x[:2, :3] > 0).tolist()
    assert tensor_util.make_ndarray(vals["tu"][0][1].tensor).tolist() == list(range(6))
    assert tensor_util.make_ndarray(vals["th"][0][1].tensor).tolist() == \
        [0, 0.25, 0.5, 0.75, 1.0, 1.25]
    assert tensor_util.make_ndarray(vals["ti"][0][1].tensor).dtype == np.int32
    # images: PNG of the values * 255, a batch on a grid
    from PIL import Image
    img = np.arange(3 * 8 * 6, dtype=np.float32).reshape(3, 8, 6) / 144
    png = vals["img"][0][1].image
    got = np.asarray(Image.open(io.BytesIO(png.encoded_image_string)))
    assert (png.height, png.width, png.colorspace) == (8, 6, 3)
    assert (got == (img.transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8)).all()
    hw = np.asarray(Image.open(io.BytesIO(vals["img_hw"][0][1].image.encoded_image_string)))
    assert (hw[..., 0] == (img[0] * 255).astype(np.uint8)).all()
    assert vals["imgs"][0][1].image.width == 18
    # text, audio, pr curve
    assert vals["note/text_summary"][0][1].tensor.string_val == [b"hello **world**"]
    snd = vals["snd"][0][1].audio
    assert (snd.sample_rate, snd.length_frames, snd.content_type) == (8000, 100, "audio/wav")
    pr = tensor_util.make_ndarray(vals["pr2"][0][1].tensor)
    assert pr.shape == (6, 10)
    assert pr[0, 0] == 5 and pr[1, 0] == 3                   # all positives / negatives
    # the projector's files
    base = os.path.join(out, "00002", "my%2femb")
    assert open(os.path.join(base, "metadata.tsv")).read() == "a\nb\nc\nd\n"
    assert open(os.path.join(base, "tensors.tsv")).read().splitlines()[1] == \
        "\t".join(str(float(np.float32(v) / 3)) for v in (3, 4, 5))
    assert open(os.path.join(out, "00000", "e2", "metadata.tsv")).read() == \
        "n\tk\na\t1\nb\t2\nc\t3\nd\t4\n"
    assert "my:00002" not in open(os.path.join(out, "projector_config.pbtxt")).read()
    assert 'tensor_name: "my/emb:00002"' in open(os.path.join(out,
                                                              "projector_config.pbtxt")).read()
    # hparams
    tags = [v.tag for _, v in _values(ev["hp"])]
    assert tags[:3] == ["_hparams_/experiment", "_hparams_/session_start_info",
                        "_hparams_/session_end_info"] and tags[3] == "hparam/acc"


@needs_tb
def test_errors_as_torch(tmp_path):
    from gpujit.utils.tensorboard import SummaryWriter
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(AssertionError, match="Tensor should contain one element"):
            w.add_scalar("s", gpujit.ones(2))
        with pytest.raises(ValueError, match="The input has no element."):
            w.add_histogram("h", gpujit.ones(0))
        with pytest.raises(ValueError, match=r"len\(bucket_limits\) != len\(bucket_counts\)"):
            w.add_histogram_raw("h", 0, 1, 1, 1, 1, [1, 2], [1])
        with pytest.raises(TypeError, match="hparam_dict and metric_dict should be dictionary"):
            w.add_hparams([], {})
        with pytest.raises(ValueError, match="value should be one of int, float, str, bool"):
            w.add_hparams({"a": [1]}, {})
        with pytest.raises(AssertionError, match="Expected 3 tags, got 2"):
            w.add_custom_scalars_marginchart(["a", "b"])
        with pytest.raises(AssertionError, match="size of input tensor and input format"):
            w.add_image("i", gpujit.ones(2, 3), dataformats="CHW")
        with pytest.raises(NotImplementedError, match="numpy array or torch tensor"):
            w.add_scalar("s", [1.0])


def _canonical(events):
    """Events as comparable text: protobuf maps (whose byte order varies run to run) parsed,
    graph node names numbered by first appearance."""
    from tensorboard.compat.proto.graph_pb2 import GraphDef
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
    out = []
    for e in events:
        for v in e.summary.value:
            if v.metadata.plugin_data.plugin_name == "hparams":
                d = HParamsPluginData()
                d.ParseFromString(v.metadata.plugin_data.content)
                v.metadata.plugin_data.content = b""
                out.append(sorted(str(d).splitlines()))
        if e.graph_def:
            out.append(_graph_text(GraphDef.FromString(e.graph_def)))
            e.ClearField("graph_def")
        out.append(str(e))
    return out


def _graph_text(g):
    names = {}

    def name(s):
        scope, _, last = s.rpartition("/")
        return scope + "/" + names.setdefault(s, f"v{len(names)}")

    return [(name(n.name), n.op, [name(i) for i in n.input], sorted(
        (k, str(a)) for k, a in n.attr.items())) for n in g.node]


@needs_tb
def test_same_events_as_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    from gpujit.utils.tensorboard import SummaryWriter
    torch_out, gp_out = str(tmp_path / "t"), str(tmp_path / "g")
    _write_all(torch, TorchWriter, torch_out)
    _write_all(gpujit, SummaryWriter, gp_out)
    want, have = _events(torch_out), _events(gp_out)
    have["."] = [e for e in have["."] if not any(v.tag in ("tu", "th") for v in e.summary.value)]
    assert sorted(want) == sorted(have)
    for run in want:
        w, h = _canonical(want[run]), _canonical(have[run])
        assert len(w) == len(h), run
        for a, b in zip(w, h):
            assert a == b, run

    def files(root):
        return {os.path.relpath(f, root): open(f, "rb").read()
                for f in glob.glob(os.path.join(root, "**", "*"), recursive=True)
                if os.path.isfile(f) and "tfevents" not in f}

    assert files(torch_out) == files(gp_out)


@needs_tb
def test_add_graph_as_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    from gpujit.utils.tensorboard import SummaryWriter

    def build(t):
        class Net(t.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = t.nn.Sequential(t.nn.Linear(6, 5), t.nn.ReLU())
                self.out = t.nn.Linear(5, 2)

            def forward(self, x):
                return self.out(self.fc(x)).softmax(-1)
        return Net()

    graphs = []
    for t, W, sub in ((torch, TorchWriter, "t"), (gpujit, SummaryWriter, "g")):
        net = build(t)
        net.train()
        with W(str(tmp_path / sub)) as w:
            w.add_graph(net, t.rand(2, 6))
        assert net.training                      # (traced in eval mode, then restored)
        evs = _events(str(tmp_path / sub))["."]
        graphs.append([x for x in _canonical(evs) if isinstance(x, list)])
    assert graphs[0] == graphs[1]
