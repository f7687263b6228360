"""gpujit.jit.load of TorchScript archives PyTorch's torch.jit.save wrote
(gpujit/serialization/torch_archive.py). The committed archives in
tests/data/torch_archives/ were written by torch 2.13 (make_archives.py there), with the
inputs, outputs and gradients PyTorch computed (io.pt), so these tests run without torch;
the ones marked with importorskip also write archives with the installed torch."""
import io
import os
import re
import zipfile

import numpy as np
import pytest

import gpujit
from gpujit.jit import ArchiveError

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "torch_archives")
IO = gpujit.load(os.path.join(HERE, "io.pt"), weights_only=False)


def _flat(o):
    if isinstance(o, (list, tuple)):
        return [z for e in o for z in _flat(e)]
    if isinstance(o, dict):
        return [z for k in sorted(o) for z in _flat(o[k])]
    return [o]


def _close(got, want, tol=2e-6):
    g, w = _flat(got), _flat(want)
    assert len(g) == len(w)
    for a, b in zip(g, w):
        if isinstance(b, gpujit.Tensor):
            assert isinstance(a, gpujit.Tensor)
            assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol,
                                       atol=tol)
        else:
            assert a == b


CASES = sorted(IO)
# the modules test_loads_and_runs_as_torch loaded (and ran), for the resave test: loading
# a PyTorch archive compiles its code back, the same work again for the same file
_LOADED = {}


@pytest.mark.parametrize("name", CASES)
def test_loads_and_runs_as_torch(name):
    """Every archive loads into a RecursiveScriptModule whose results equal PyTorch's (and
    whose gradients do, for the cases saved with them); a second and third call run the
    optimized graph and agree."""
    rec = IO[name]
    m = _LOADED[name] = gpujit.jit.load(os.path.join(HERE, f"{name}.pt"))
    assert type(m).__name__ == "RecursiveScriptModule"
    if "grads" in rec:
        out = m(*rec["args"])
        _close(out, rec["out"], 1e-5)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
        params = dict(m.named_parameters())
        assert set(rec["grads"]) <= set(params)
        for k, g in rec["grads"].items():
            np.testing.assert_allclose(params[k].grad.numpy(), g.numpy(), rtol=1e-4,
                                       atol=1e-5, err_msg=k)
        return
    with gpujit.no_grad():
        for i in range(3):
            out = m(*rec["args"])
            if name == "counter":       # its buffer counts the calls: PyTorch made one
                assert int(out[2]) == i + 1 and int(m.count) == i + 1
                out, want = out[:2], rec["out"][:2]
            else:
                want = rec["out"]
            _close(out, want)


def test_module_tree_state_and_methods():
    m = gpujit.jit.load(os.path.join(HERE, "tree.pt"))
    assert m.original_name == "Tree" and not m.training
    assert m.sub.bn.original_name == "BatchNorm2d"
    assert m.sub.bn.momentum == 0.1 and m.sub.conv.kernel_size == (3, 3)   # Final consts
    assert m.scale == 0.5 and m.names == ["a", "b"] and m.d == {"x": 3} and m.opt is None
    # a plain Tensor that requires grad, as torch 2.13's loaded RecursiveScriptModule gives
    # (s49: no Python Parameter object outlives saving)
    assert type(m.lin.weight) is gpujit.Tensor and m.lin.weight.requires_grad
    assert list(m.state_dict()) == [
        "sub.mask", "sub.conv.weight", "sub.conv.bias", "sub.bn.weight", "sub.bn.bias",
        "sub.bn.running_mean", "sub.bn.running_var", "sub.bn.num_batches_tracked",
        "lin.weight", "lin.bias", "seq.0.weight", "seq.0.bias", "ml.0.weight", "ml.0.bias",
        "ml.1.weight", "ml.1.bias"]
    x = IO["tree"]["args"][0]
    _close(m.other(x), IO["tree"]["other"])
    y, nt = m(x, 3)
    assert type(nt).__name__ == "NT" and nt.b == 2
    # the int argument's default (n: int=3) was kept: no argument gives the same
    _close(m(x)[0], y)
    # types print with PyTorch's qualified names; the script class and function too
    # (a class name another load in this process holds already gets TorchScript's mangle)
    g = str(m.graph)
    assert re.search(r"__torch__\.(___torch_mangle_\d+\.)?Acc = prim::CreateObject", g)
    assert re.search(r"%lin : __torch__\.torch\.nn\.modules\.linear\.(___torch_mangle_\d+"
                     r"\.)?Linear", g)
    assert "prim::CallFunction" in g


def test_extra_files_and_map_location():
    extra = {"meta.txt": "", "absent.txt": ""}
    m = gpujit.jit.load(os.path.join(HERE, "tree.pt"), map_location="cpu",
                        _extra_files=extra)
    assert extra == {"meta.txt": b"case tree", "absent.txt": b""}
    assert m.lin.weight.device.type == "cpu"
    seen = []

    def loc(storage, location):
        seen.append(location)
        return storage
    gpujit.jit.load(os.path.join(HERE, "conv_eval.pt"), map_location=loc)
    assert seen and set(seen) == {"cpu"}


def test_tied_and_frozen_parameters():
    m = gpujit.jit.load(os.path.join(HERE, "misc.pt"))
    assert m.head.weight is m.emb.weight           # one Parameter, as saved
    assert not m.frozen.requires_grad and m.emb.weight.requires_grad
    assert "idx" in dict(m.named_buffers())
    assert m.color.name == "GREEN" and m.shape == (2, 3) and m.table == {1: [1.0, 2.0]}
    assert (m.box.lo, m.box.hi) == (-0.5, 0.5)
    with pytest.raises(Exception, match="expected 2D tokens, got 1D"):
        m(gpujit.tensor([1, 2]))


def test_function_archive_is_a_module():
    """A saved script function loads as PyTorch's does: a module whose forward is it."""
    m = gpujit.jit.load(os.path.join(HERE, "fn_default.pt"))
    x = IO["fn_default"]["args"][0]
    _close(m(x, 3), IO["fn_default"]["out"])
    assert "__torch__.helper(x, y, )" in m.code


def test_fast_path_ops_match_the_slow_path():
    """The eval-mode fast path (aten::_native_multi_head_attention) equals the same
    archive run with gradients (the Python path of nn.MultiheadAttention)."""
    m = gpujit.jit.load(os.path.join(HERE, "mha_fast.pt"))
    x, pad = IO["mha_fast"]["args"]
    with gpujit.no_grad():
        fast = m(x, pad)
    slow = m(x.clone().requires_grad_(), pad)
    _close(fast, slow, 1e-5)
    w = gpujit.nn.MultiheadAttention(8, 2, batch_first=True)
    w.load_state_dict(m.mha.state_dict())
    w.eval()
    _close(w(x, x, x, key_padding_mask=pad), fast, 1e-5)


def test_native_mha_op_masks_and_weights():
    """aten::_native_multi_head_attention's masks (key padding, attention, both merged),
    need_weights / average_attn_weights, against a NumPy reference; a fully masked row
    is NaN as PyTorch's."""
    rng = np.random.default_rng(0)
    B, T, D, H = 2, 4, 8, 2
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    w = (rng.standard_normal((3 * D, D)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(3 * D) * 0.1).astype(np.float32)
    pw = (rng.standard_normal((D, D)) * 0.3).astype(np.float32)
    pb = (rng.standard_normal(D) * 0.1).astype(np.float32)

    def ref(mask4):
        qkv = x @ w.T + b
        q, k, v = np.split(qkv, 3, -1)
        q = q / np.sqrt(D // H)
        sh = lambda t: t.reshape(B, T, H, D // H).transpose(0, 2, 1, 3)   # noqa: E731
        s = sh(q) @ sh(k).transpose(0, 1, 3, 2)
        s = np.where(mask4, -np.inf, s)
        with np.errstate(invalid="ignore"):
            p = np.exp(s - s.max(-1, keepdims=True))
            p = p / p.sum(-1, keepdims=True)
        o = (p @ sh(v)).transpose(0, 2, 1, 3).reshape(B, T, D)
        return o @ pw.T + pb, p
    t = gpujit.from_numpy
    kpm = np.array([[False, False, True, True], [False, True, False, False]])
    causal = np.triu(np.ones((T, T), bool), 1)
    for mask, mtype, m4 in [(None, None, np.zeros((1, 1, T, T), bool)),
                            (kpm, 1, kpm[:, None, None, :]),
                            (causal, 0, causal[None, None]),
                            (np.broadcast_to(causal | kpm[:, None, None, :], (B, H, T, T)),
                             2, causal | kpm[:, None, None, :])]:
        want_o, want_p = ref(m4)
        for need, avg in [(True, True), (True, False), (False, True)]:
            mt = None if mask is None else t(np.ascontiguousarray(mask))
            o, p = gpujit._native_multi_head_attention(
                t(x), t(x), t(x), D, H, t(w), t(b), t(pw), t(pb), mt, need, avg, mtype)
            np.testing.assert_allclose(o.numpy(), want_o, rtol=1e-5, atol=1e-5)
            if not need:
                assert p is None
            else:
                np.testing.assert_allclose(p.numpy(), want_p.mean(1) if avg else want_p,
                                           rtol=1e-5, atol=1e-6)
    full = np.array([[True] * T, [False] * T])
    o, _ = gpujit._native_multi_head_attention(t(x), t(x), t(x), D, H, t(w), t(b), t(pw),
                                               t(pb), t(full), True, True, 1)
    assert np.isnan(o.numpy()[0]).all() and not np.isnan(o.numpy()[1]).any()


def test_resave_with_gpujit_and_reload(tmp_path):
    """A loaded PyTorch archive saves as a gpujit archive and loads back, same results
    (after it ran: test_loads_and_runs_as_torch's module where that test ran first)."""
    for name in ("tree", "misc", "encoder", "block_scripted"):
        m = _LOADED.get(name)
        if m is None:
            m = gpujit.jit.load(os.path.join(HERE, f"{name}.pt"))
        p = tmp_path / f"{name}.pt"
        gpujit.jit.save(m, str(p))
        m2 = gpujit.jit.load(str(p))
        with gpujit.no_grad():
            _close(m2(*IO[name]["args"]), IO[name]["out"], 1e-5)


def test_gpujit_load_dispatches_as_torch_load():
    """torch.load of a TorchScript archive warns and dispatches to torch.jit.load (with
    weights_only=False); with weights_only (the default) it refuses, as PyTorch 2.6+."""
    p = os.path.join(HERE, "conv_eval.pt")
    with pytest.warns(UserWarning, match="TorchScript archive"):
        m = gpujit.load(p, weights_only=False)
    assert type(m).__name__ == "RecursiveScriptModule"
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="weights_only"):
        gpujit.load(p)


def _rewritten(name, change):
    """The bytes of archive `name` with change(entry, data) -> data applied."""
    buf = io.BytesIO()
    with zipfile.ZipFile(os.path.join(HERE, f"{name}.pt")) as z, \
            zipfile.ZipFile(buf, "w") as out:
        for info in z.infolist():
            out.writestr(info, change(info.filename, z.read(info.filename)))
    buf.seek(0)
    return buf


def test_code_other_than_classes_and_defs_is_refused():
    """Nothing in the archive runs as Python: a statement other than a class or a def is
    refused, and so is a default value that is not a literal."""
    def add_statement(n, data):
        if n.endswith("code/__torch__.py"):
            return b"import os\nos.system('echo hi')\n" + data
        return data
    with pytest.raises(ArchiveError, match="may only define classes and functions"):
        gpujit.jit.load(_rewritten("fn_default", add_statement))

    def bad_default(n, data):
        if n.endswith("code/__torch__.py"):
            return data.replace(b"k: int=2", b"k: int=__import__('os').getpid()")
        return data
    with pytest.raises(ArchiveError, match="not a literal"):
        gpujit.jit.load(_rewritten("fn_default", bad_default))


def test_pickle_globals_are_restricted():
    """data.pkl may only name tensors, containers and the archive's own classes."""
    def evil(n, data):
        if n.endswith("/data.pkl"):     # os.system("hi")
            return b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00hiq\x01\x85q\x02Rq\x03."
        return data
    with pytest.raises(ArchiveError, match="data.pkl cannot be read"):
        gpujit.jit.load(_rewritten("fn_default", evil))


def test_missing_code_for_an_object():
    def drop_class(n, data):
        if n.endswith("code/__torch__.py"):
            return data.replace(b"class PlaceholderModule", b"class Other")
        return data
    with pytest.raises(ArchiveError, match="data.pkl does not hold a module"):
        gpujit.jit.load(_rewritten("fn_default", drop_class))


# ---------------------------------------------------------------- with PyTorch installed

def test_fresh_archives_from_installed_torch(tmp_path):
    """Archives written now by the installed PyTorch: a scripted TransformerEncoder stack
    in train mode (dropout 0) and its gradients, and a traced nanoGPT-style block."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    layer = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
    enc = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    s = torch.jit.script(enc)
    p = tmp_path / "enc.pt"
    s.save(str(p))
    x = torch.randn(3, 6, 16)
    out = s(x)
    out.sum().backward()
    m = gpujit.jit.load(str(p))
    gx = gpujit.from_numpy(x.numpy().copy())
    got = m(gx)
    np.testing.assert_allclose(got.detach().numpy(), out.detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    got.sum().backward()
    tp = dict(s.named_parameters())
    for k, gp in m.named_parameters():
        np.testing.assert_allclose(gp.grad.numpy(), tp[k].grad.numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=k)
    s.eval()
    s.save(str(p))
    m = gpujit.jit.load(str(p))
    with torch.no_grad(), gpujit.no_grad():
        np.testing.assert_allclose(m(gx).numpy(), s(x).numpy(), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- gpujit.jit.save(format="pytorch")

_nn = gpujit.nn
_F = gpujit.nn.functional


def _helper(x: gpujit.Tensor, k: int = 2) -> gpujit.Tensor:
    return x * k + 1


@gpujit.jit.script
class _Scale:
    def __init__(self, v: float):
        self.v = v

    def apply(self, x: gpujit.Tensor) -> gpujit.Tensor:
        return x * self.v


class _Mode(__import__("enum").Enum):
    SLOW = 1
    FAST = 2


class _Writer(_nn.Module):
    """Submodules, containers, a script class object attribute, an enum attribute, a free
    function, a no_grad region, a list / dict attribute, tied weights, a frozen parameter,
    an exported method and an argument default."""

    def __init__(self):
        super().__init__()
        self.emb = _nn.Embedding(10, 8)
        self.head = _nn.Linear(8, 10, bias=False)
        self.head.weight = self.emb.weight
        self.blocks = _nn.ModuleList([_nn.Sequential(_nn.Linear(8, 8), _nn.GELU("tanh"))
                                      for _ in range(2)])
        self.norm = _nn.LayerNorm(8)
        self.scale = _Scale(0.5)
        self.mode = _Mode.FAST
        self.names = ["a", "b", "c"]
        self.table = {"k": 2}
        self.frozen = _nn.Parameter(gpujit.ones(8) * 1.5, requires_grad=False)

    def forward(self, tokens, n: int = 3):
        h = self.emb(tokens) * self.frozen
        for b in self.blocks:
            h = h + b(h)
        h = self.scale.apply(self.norm(h))
        if self.mode == _Mode.FAST:
            h = _helper(h, n)
        with gpujit.no_grad():
            stat = h.mean()
        return self.head(h) * self.table["k"] + len(self.names), stat

    @gpujit.jit.export
    def embed(self, tokens: gpujit.Tensor) -> gpujit.Tensor:
        return self.emb(tokens)


def _pytorch_format_cases():
    gpujit.manual_seed(3)
    tok = gpujit.randint(0, 10, (2, 5))
    seq = gpujit.randn(2, 5, 8)
    img = gpujit.randn(2, 3, 8, 8)
    conv = _nn.Sequential(_nn.Conv2d(3, 4, 3, padding=1), _nn.BatchNorm2d(4), _nn.ReLU(),
                          _nn.MaxPool2d(2), _nn.Flatten(), _nn.Linear(64, 3)).eval()

    @gpujit.jit.script
    def fn(x: gpujit.Tensor, y: int = 4) -> gpujit.Tensor:
        return _helper(x, y).relu()
    enc = _nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).eval()
    return [
        ("writer", gpujit.jit.script(_Writer().eval()), (tok,)),
        ("conv_traced", gpujit.jit.trace(conv, img), (img,)),
        ("conv_scripted", gpujit.jit.script(conv), (img,)),
        ("lstm_traced", gpujit.jit.trace(_nn.LSTM(8, 6, batch_first=True), seq), (seq,)),
        ("gru_scripted", gpujit.jit.script(_nn.GRU(8, 5, num_layers=2)), (seq,)),
        ("encoder", gpujit.jit.script(enc), (seq,)),
        ("fn", fn, (seq, 2)),
    ]


def test_pytorch_format_layout_and_gpujit_round_trip():
    """format="pytorch" writes torch.jit.save's layout (data.pkl, code/__torch__/**.py,
    constants.pkl, the version the ops need); gpujit.jit.load reads it back with the same
    results, state and exported methods."""
    for name, m, args in _pytorch_format_cases():
        buf = io.BytesIO()
        gpujit.jit.save(m, buf, _extra_files={"note.txt": "hi"}, format="pytorch")
        buf.seek(0)
        with zipfile.ZipFile(buf) as z:
            names = z.namelist()
            assert "archive/data.pkl" in names and "archive/constants.pkl" in names
            assert "archive/extra/note.txt" in names
            assert any(n.startswith("archive/code/__torch__") for n in names)
            assert not any(n.endswith("manifest.json") for n in names)
            version = z.read("archive/.data/version" if "archive/.data/version" in names
                             else "archive/version")
            # aten::gelu with approximate= is operator version 10, aten::div 4 (PyTorch's
            # upgraders: an older version would make it read them with their old schemas)
            want = {"writer": b"10\n", "encoder": b"4\n"}.get(name, b"3\n")
            assert version == want, name
        buf.seek(0)
        extra = {"note.txt": ""}
        m2 = gpujit.jit.load(buf, _extra_files=extra)
        assert extra["note.txt"] == b"hi"
        with gpujit.no_grad():
            _close(m2(*args), m(*args), 1e-6)
        if name == "writer":
            assert m2.head.weight is m2.emb.weight and not m2.frozen.requires_grad
            assert m2.mode.name == "FAST" and m2.names == ["a", "b", "c"]
            _close(m2.embed(args[0]), m.embed(args[0]))
            _close(m2(args[0], 1), m(args[0], 1))        # n given: its default was kept
            # TorchScript's object of the grad_mode class is gpujit's no_grad region again
            # (session 46: torch_archive._grad_mode_regions)
            assert [n.attrs.get("name") for n in m2.graph.walk()
                    if n.kind == "prim::Enter"] == ["no_grad"]


def test_pytorch_format_code_is_torchscripts():
    """The classes are written as TorchScript's serializer writes them."""
    m = gpujit.jit.script(_nn.Sequential(_nn.Linear(3, 2), _nn.ReLU()))
    buf = io.BytesIO()
    gpujit.jit.save(m, buf, format="pytorch")
    buf.seek(0)
    with zipfile.ZipFile(buf) as z:     # (linear.py, or linear/___torch_mangle_<k>.py
        #                                  when this process has other Linear types)
        rel, = [n for n in z.namelist() if n.startswith("archive/code/__torch__/torch/nn/"
                                                         "modules/linear")]
        lin = z.read(rel).decode()
    q = rel[len("archive/code/"):-len(".py")].replace("/", ".") + ".Linear"
    assert lin.startswith('class Linear(Module):\n  __parameters__ = ["weight", "bias", ]\n'
                          '  __buffers__ = []\n  weight : Tensor\n  bias : Tensor\n'
                          '  training : bool\n')
    assert "  in_features : Final[int] = 3\n" in lin
    assert f"  def forward(self: {q},\n" in lin
    with pytest.raises(ValueError, match="format must be 'gpujit' or 'pytorch'"):
        gpujit.jit.save(m, io.BytesIO(), format="onnx")


def test_pytorch_reads_gpujit_archives():
    """PyTorch's torch.jit.load reads what gpujit.jit.save(format="pytorch") writes, and
    its results equal gpujit's."""
    torch = pytest.importorskip("torch")

    def to_torch(v):
        if isinstance(v, gpujit.Tensor):
            return torch.from_numpy(v.detach().numpy().copy())
        if isinstance(v, (tuple, list)):
            return type(v)(to_torch(e) for e in v)
        return v
    for name, m, args in _pytorch_format_cases():
        buf = io.BytesIO()
        m.save(buf, format="pytorch")
        buf.seek(0)
        tm = torch.jit.load(buf)
        with torch.no_grad(), gpujit.no_grad():
            want, got = m(*args), tm(*to_torch(args))
        g, w = _flat(got), _flat(want)
        assert len(g) == len(w), name
        for a, b in zip(g, w):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5,
                                       err_msg=name)
        if name == "writer":
            assert tm.head.weight is tm.emb.weight
            assert tm.embed(to_torch(args[0])).shape == (2, 5, 8)


def test_archive_saved_from_cuda_needs_map_location_without_a_gpu():
    """Storages saved from a GPU (location 'cuda:0') load onto it, or, without one,
    raise PyTorch's error; map_location='cpu' loads them on the CPU."""
    if gpujit.cuda.is_available():
        pytest.skip("the machine has a GPU: the archive would load onto it")

    def on_cuda(n, data):
        if n.endswith("/data.pkl"):
            return data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
        return data
    with pytest.raises(RuntimeError, match="torch.cuda.is_available.. is False"):
        gpujit.jit.load(_rewritten("conv_eval", on_cuda))
    m = gpujit.jit.load(_rewritten("conv_eval", on_cuda), map_location="cpu")
    with gpujit.no_grad():
        _close(m(*IO["conv_eval"]["args"]), IO["conv_eval"]["out"])


@pytest.mark.cuda
def test_torch_archive_loads_onto_the_gpu_and_saves_back():
    """map_location='cuda' puts every parameter, buffer and constant on the GPU; the
    module runs there (fused where it fuses) and agrees with PyTorch's CPU results; saved
    in PyTorch's format from the GPU it loads back on the CPU with map_location."""
    # (a trace pins its tensor constants' device, `torch.to(CONSTANTS.c0, torch.device("cpu"),
    # 6)`: PyTorch's loaded trace mixes devices too)
    m = gpujit.jit.load(os.path.join(HERE, "const_traced.pt"), map_location="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        m(IO["const_traced"]["args"][0].cuda())
    for name in ("conv_eval", "block_scripted", "tree", "encoder"):
        m = gpujit.jit.load(os.path.join(HERE, f"{name}.pt"), map_location="cuda")
        assert all(t.device.type == "cuda" for t in m.state_dict().values())
        args = [a.cuda() if isinstance(a, gpujit.Tensor) else a for a in IO[name]["args"]]
        with gpujit.no_grad():
            for _ in range(3):
                out = m(*args)
                g = [t.cpu() if isinstance(t, gpujit.Tensor) else t for t in _flat(out)]
                _close(g, IO[name]["out"], 1e-5)
        buf = io.BytesIO()
        m.save(buf, format="pytorch")
        buf.seek(0)
        back = gpujit.jit.load(buf, map_location="cpu")
        assert all(t.device.type == "cpu" for t in back.state_dict().values())
        with gpujit.no_grad():
            _close(back(*IO[name]["args"]), IO[name]["out"], 1e-5)
