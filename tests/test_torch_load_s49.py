"""torch.jit.save / torch.jit.load / torch.save fidelity, part 3 (session 49, e49).

Loaded modules' state as torch 2.13's loaded RecursiveScriptModule holds it: parameters
are plain Tensors that require grad (no Python nn.Parameter object outlives saving; tied
weights stay one tensor), buffers, state_dict order, training flags, train() / eval(),
load_state_dict and optimizers over the loaded parameters. Each load is a compilation unit
of its own: the types of an archive print with the archive's names however often it is
loaded and whatever this process scripted under those names (torch.jit.freeze of a loaded
module: `__torch__.___torch_mangle_0.M`, that unit's first mangle). torch.jit.load from
paths, BytesIO and file objects, _extra_files, map_location and torch's error words.
Expected values come from the in-process scripted module (which other tests compare with
PyTorch) or were computed with torch 2.13 (said where); importorskip("torch") tests run
torch itself on the same archives, both directions."""
import io
import os
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest

import gpujit
from gpujit import nn

FORMATS = ("pytorch", "gpujit")


def _np(t):
    return t.detach().cpu().numpy()


class Net49(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(5, 4)
        self.lin = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.head = nn.Linear(4, 5, bias=False)
        self.head.weight = self.emb.weight                 # tied
        self.register_buffer("scale", gpujit.full((3,), 0.5))
        self.frozen = nn.Parameter(gpujit.ones(3), requires_grad=False)
        self.drop = nn.Dropout(0.25)

    def forward(self, idx):
        e = self.emb(idx)
        return self.drop(self.bn(self.lin(e))) * self.scale + self.frozen, self.head(e)


def _net():
    gpujit.manual_seed(49)
    return Net49()


def _saved(m, fmt="pytorch"):
    buf = io.BytesIO()
    gpujit.jit.save(gpujit.jit.script(m), buf, format=fmt)
    return buf.getvalue()


# ---------------------------------------------------------------- 1. parameters and state

@pytest.mark.parametrize("fmt", FORMATS)
def test_loaded_parameters_are_plain_tensors(fmt):
    ld = gpujit.jit.load(io.BytesIO(_saved(_net(), fmt)))
    named = list(ld.named_parameters())
    # torch 2.13: named_parameters of the loaded module (the tied head.weight once)
    assert [n for n, _ in named] == ["frozen", "emb.weight", "lin.weight", "lin.bias",
                                     "bn.weight", "bn.bias"]
    for n, p in named:
        assert type(p) is gpujit.Tensor and not isinstance(p, nn.Parameter), n
        assert p.is_leaf and p.grad_fn is None
        assert p.requires_grad == (n != "frozen")
    assert "Parameter containing" not in repr(ld.lin.weight)
    assert ld.head.weight is ld.emb.weight
    assert [n for n, _ in ld.named_buffers()] == [
        "scale", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert list(ld.state_dict()) == [
        "frozen", "scale", "emb.weight", "lin.weight", "lin.bias", "bn.weight", "bn.bias",
        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "head.weight"]
    # a Parameter assigned later is kept as the object given, as torch keeps it
    ld.lin.bias = nn.Parameter(gpujit.zeros(3))
    assert isinstance(ld.lin.bias, nn.Parameter)


@pytest.mark.parametrize("fmt", FORMATS)
def test_train_eval_flags_of_loaded_modules(fmt):
    m = _net()
    m.bn.eval()
    ld = gpujit.jit.load(io.BytesIO(_saved(m, fmt)))
    assert ld.training and not ld.bn.training and ld.lin.training
    ld.eval()
    assert not any(s.training for s in ld.modules())
    ld.train()
    assert all(s.training for s in ld.modules())
    ld.drop.eval()
    assert ld.training and not ld.drop.training
    # eval(): dropout off, batch norm from its running statistics
    ld.eval()
    x = gpujit.tensor([1, 2, 3, 1])
    a, b = ld(x)
    ref = gpujit.jit.script(_net()).eval()(x)
    np.testing.assert_allclose(_np(a), _np(ref[0]), rtol=1e-6)
    np.testing.assert_allclose(_np(b), _np(ref[1]), rtol=1e-6)


@pytest.mark.parametrize("fmt", FORMATS)
def test_load_state_dict_into_a_loaded_module(fmt):
    ld = gpujit.jit.load(io.BytesIO(_saved(_net(), fmt)))
    w = ld.lin.weight
    sd = {k: v * 2 for k, v in _net().state_dict().items()
          if k != "bn.num_batches_tracked"}
    res = ld.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["bn.num_batches_tracked"] and res.unexpected_keys == []
    assert ld.lin.weight is w and type(w) is gpujit.Tensor       # copied in place
    np.testing.assert_allclose(_np(w), _np(_net().lin.weight) * 2)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: '
                                           r'"bn.num_batches_tracked"'):
        ld.load_state_dict(sd)
    with pytest.raises(RuntimeError, match="size mismatch for lin.weight"):
        ld.load_state_dict({**sd, "lin.weight": gpujit.ones(2, 2)}, strict=False)


def _train(m, steps=3, opt="sgd"):
    params = list(m.parameters())
    o = gpujit.optim.SGD(params, lr=0.1, momentum=0.9) if opt == "sgd" else \
        gpujit.optim.Adam(params, lr=0.01)
    x = gpujit.tensor([0, 3, 4, 3])
    m.eval()          # (dropout off: the same steps everywhere)
    for _ in range(steps):
        o.zero_grad()
        a, b = m(x)
        (a.pow(2).sum() + b.sum()).backward()
        o.step()
    return {k: _np(v).copy() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_optimizer_steps_after_load_equal_the_scripted_modules(fmt, opt):
    want = _train(gpujit.jit.script(_net()), opt=opt)
    ld = gpujit.jit.load(io.BytesIO(_saved(_net(), fmt)))
    got = _train(ld, opt=opt)
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=k)
    assert ld.frozen.grad is None and ld.emb.weight.grad is not None
    np.testing.assert_array_equal(got["frozen"], np.ones(3, np.float32))   # not trained


@pytest.mark.parametrize("fmt", FORMATS)
def test_module_conversions_keep_the_tensors(fmt):
    ld = gpujit.jit.load(io.BytesIO(_saved(_net(), fmt)))
    w = ld.emb.weight
    ld.double()
    assert ld.emb.weight is w and w.dtype == gpujit.float64 and type(w) is gpujit.Tensor
    assert ld.head.weight is ld.emb.weight
    ld.float()
    # (two values: a training BatchNorm1d refuses one per channel, as torch's)
    assert ld(gpujit.tensor([1, 2]))[0].dtype == gpujit.float32
    import copy
    c = copy.deepcopy(ld)
    assert c.emb.weight is not ld.emb.weight and c.head.weight is c.emb.weight
    assert [type(p) for p in c.parameters()] == [gpujit.Tensor] * 6


def _torch_net(torch):
    """Net49 in torch's nn (the same architecture, torch's own initial values)."""
    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(5, 4)
            self.lin = torch.nn.Linear(4, 3)
            self.bn = torch.nn.BatchNorm1d(3)
            self.head = torch.nn.Linear(4, 5, bias=False)
            self.head.weight = self.emb.weight
            self.register_buffer("scale", torch.full((3,), 0.5))
            self.frozen = torch.nn.Parameter(torch.ones(3), requires_grad=False)
            self.drop = torch.nn.Dropout(0.25)

        def forward(self, idx):
            e = self.emb(idx)
            return self.drop(self.bn(self.lin(e))) * self.scale + self.frozen, self.head(e)
    torch.manual_seed(49)
    return TNet()


def _torch_train(torch, m, steps=3):
    o = torch.optim.SGD(list(m.parameters()), lr=0.1, momentum=0.9)
    x = torch.tensor([0, 3, 4, 3])
    m.eval()
    for _ in range(steps):
        o.zero_grad()
        a, b = m(x)
        (a.pow(2).sum() + b.sum()).backward()
        o.step()
    return {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}


def test_torch_written_archive_loads_and_trains_as_in_torch(tmp_path):
    torch = pytest.importorskip("torch")
    path = str(tmp_path / "net.pt")
    torch.jit.save(torch.jit.script(_torch_net(torch)), path)
    theirs, ours = torch.jit.load(path), gpujit.jit.load(path)
    assert [(n, type(p).__name__, p.requires_grad) for n, p in ours.named_parameters()] == \
        [(n, type(p).__name__, p.requires_grad) for n, p in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.head.weight is ours.emb.weight
    want, got = _torch_train(torch, theirs), _train(ours)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_torch_loads_gpujit_archives_with_torchs_parameter_types(tmp_path):
    torch = pytest.importorskip("torch")
    path = str(tmp_path / "net.pt")
    gpujit.jit.save(gpujit.jit.script(_net()), path)
    theirs, ours = torch.jit.load(path), gpujit.jit.load(path)
    assert [(n, type(p).__name__, p.requires_grad) for n, p in theirs.named_parameters()] == \
        [(n, type(p).__name__, p.requires_grad) for n, p in ours.named_parameters()]
    assert theirs.head.weight is theirs.emb.weight
    want, got = _torch_train(torch, theirs), _train(ours)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=k)
    # torch's loaded module: load_state_dict and train()/eval() as gpujit's
    res = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in got.items()
                                  if k != "bn.num_batches_tracked"}, strict=False)
    assert res.missing_keys == ["bn.num_batches_tracked"]
    theirs.train()
    theirs.drop.eval()
    assert theirs.training and not theirs.drop.training


# ---------------------------------------------------------------- 2. one compilation unit per load

class Sub49(nn.Module):
    def __init__(self, bias=True):
        super().__init__()
        self.lin = nn.Linear(2, 2, bias=bias)

    def forward(self, x):
        return self.lin(x).relu()


class Top49(nn.Module):
    def __init__(self):
        super().__init__()
        self.sub = Sub49()
        self.sub2 = Sub49(bias=False)      # another type of the same class: mangled

    def forward(self, x):
        return self.sub(x) + self.sub2(x)


_TYPES = re.compile(r"(?<= : )__torch__\.[\w.]+")     # (the types of values)


def _type_names(text):
    return sorted(set(_TYPES.findall(text)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_load_is_a_compilation_unit_of_its_own(fmt):
    sm = gpujit.jit.script(Top49())        # (this process holds __torch__.Top49 now)
    mangle = _TYPES.findall(str(sm.sub2.graph))[0]
    assert "___torch_mangle_" in mangle
    top = _TYPES.findall(str(sm.graph))[0]
    buf = io.BytesIO()
    gpujit.jit.save(sm, buf, format=fmt)
    first = None
    for _ in range(3):
        buf.seek(0)
        ld = gpujit.jit.load(buf)
        text = str(ld.graph) + str(ld.sub.graph) + str(ld.sub2.graph) + ld.code
        if first is None:
            first = text
        assert text == first        # the same names every time, none mangled again
        # the names of the types when saved (this process's, one of them mangled)
        for a, b in ((sm, ld), (sm.sub, ld.sub), (sm.sub2, ld.sub2),
                     (sm.sub2.lin, ld.sub2.lin)):
            assert _type_names(str(b.graph)) == _type_names(str(a.graph))
        assert mangle in str(ld.graph)
        # freezing a loaded module: the new type mangled by that load's unit, as torch's
        # (torch 2.13: `__torch__.___torch_mangle_0.Top49` for every load)
        fr = gpujit.jit.freeze(ld.eval())
        head, _, last = top.rpartition(".")
        assert _type_names(str(fr.graph)) == [f"{head}.___torch_mangle_0.{last}"]
        x = gpujit.ones(1, 2)
        np.testing.assert_allclose(_np(ld(x)), _np(sm(x)), rtol=1e-6)
        np.testing.assert_allclose(_np(fr(x)), _np(sm(x)), rtol=1e-6)
    # the in-process module's types are still its own
    assert _TYPES.findall(str(sm.graph))[0] == top


def test_load_unit_mangles_as_torchs_mangler():
    from gpujit.frontend.qualified_names import LoadUnit
    u = LoadUnit()
    assert u.mangled("__torch__.M") == "__torch__.___torch_mangle_0.M"
    assert u.mangled("__torch__.M") == "__torch__.___torch_mangle_1.M"
    # a mangled name gets a higher number in place (c10's Mangler::mangle)
    assert u.mangled("__torch__.___torch_mangle_7.Sub") == "__torch__.___torch_mangle_8.Sub"
    assert u.mangled("__torch__.a.N") == "__torch__.a.___torch_mangle_9.N"


_MAKE_TOP = """
import torch, sys
class Sub49(torch.nn.Module):
    def __init__(self, bias=True):
        super().__init__()
        self.lin = torch.nn.Linear(2, 2, bias=bias)
    def forward(self, x):
        return self.lin(x).relu()
class Top49(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.sub = Sub49()
        self.sub2 = Sub49(bias=False)
    def forward(self, x):
        return self.sub(x) + self.sub2(x)
torch.jit.save(torch.jit.script(Top49()), sys.argv[1])
"""


def test_torch_written_archive_types_print_as_torch_prints_them(tmp_path):
    torch = pytest.importorskip("torch")
    script = tmp_path / "make_top.py"
    script.write_text(_MAKE_TOP)
    path = str(tmp_path / "top.pt")
    r = subprocess.run([sys.executable, str(script), path], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    gpujit.jit.script(Top49())            # this process's own types of those names
    for _ in range(2):
        theirs, ours = torch.jit.load(path), gpujit.jit.load(path)
        for a, b in ((theirs, ours), (theirs.sub2, ours.sub2),
                     (theirs.sub2.lin, ours.sub2.lin)):
            assert _type_names(str(b.graph)) == _type_names(str(a.graph))
        assert ours.code == theirs.code
        fa = torch.jit.freeze(theirs.eval())
        fb = gpujit.jit.freeze(ours.eval())
        assert _type_names(str(fb.graph)) == _type_names(str(fa.graph))


# ---------------------------------------------------------------- 2b. how an archive is read

def test_load_from_paths_buffers_and_file_objects(tmp_path):
    sm = gpujit.jit.script(nn.Linear(2, 2))
    data = _saved(nn.Linear(2, 2))
    path = tmp_path / "lin.pt"
    path.write_bytes(data)
    assert gpujit.jit.load(str(path)).weight.shape == (2, 2)
    assert gpujit.jit.load(path).weight.shape == (2, 2)            # a pathlib.Path
    with open(path, "rb") as f:
        assert gpujit.jit.load(f).weight.shape == (2, 2)
        assert f.tell() == len(data)        # (torch reads the whole stream)
    buf = io.BytesIO(b"PREFIX")
    buf.seek(6)
    gpujit.jit.save(sm, buf)
    assert buf.tell() == len(buf.getvalue())
    buf.seek(6)
    assert gpujit.jit.load(buf).weight.shape == (2, 2)
    sm.save(str(tmp_path / "a.pt"), _extra_files={"m": "v"})
    extra = {"m": "", "absent": "x"}
    gpujit.jit.load(str(tmp_path / "a.pt"), _extra_files=extra)
    assert extra == {"m": b"v", "absent": b""}
    assert sm.save_to_buffer()[:2] == b"PK"


def test_load_errors_in_torchs_words(tmp_path):
    data = _saved(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="The provided filename .*nope.pt does not exist"):
        gpujit.jit.load(str(tmp_path / "nope.pt"))
    with pytest.raises(ValueError, match="is a directory"):
        gpujit.jit.load(str(tmp_path))
    with pytest.raises(ValueError, match=r"map_location should be either None, string or "
                                         r"torch.device, but got type: <class 'float'>"):
        gpujit.jit.load(io.BytesIO(data), map_location=1.5)
    with pytest.raises(RuntimeError, match="Parent directory .*nodir does not exist"):
        gpujit.jit.save(gpujit.jit.script(nn.Linear(2, 2)), str(tmp_path / "nodir" / "x.pt"))
    buf = io.BytesIO()
    gpujit.save({"a": gpujit.ones(2)}, buf)
    buf.seek(0)
    with pytest.raises(RuntimeError, match="PytorchStreamReader failed locating file "
                                           "constants.pkl: file not found"):
        gpujit.jit.load(buf)
    with pytest.raises(RuntimeError):
        gpujit.jit.load(io.BytesIO(b"garbage"))
    assert gpujit.jit.load(io.BytesIO(data), map_location=gpujit.device("cpu")).weight \
        .device.type == "cpu"
    assert gpujit.jit.load(io.BytesIO(data), map_location="cpu").bias.device.type == "cpu"


# ---------------------------------------------------------------- 3. torch.save / torch.load

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "torch_archives")
LEGACY = os.path.join(HERE, "legacy_s49.pt")


def _check_state(d, torch=gpujit):
    """The state make_legacy_s49.py saves, as torch 2.13 loads it back."""
    assert d["n"] == 7
    base = d["base"]
    assert base.stride() == (4, 1) and d["row"].storage_offset() == 4
    assert d["t"].stride() == (1, 4) and not d["t"].is_contiguous()
    assert d["sl"].stride() == (4, 2) and d["sl"].storage_offset() == 1
    assert d["nested"][1][0].storage_offset() == 1
    base[1, 2] = 100.0                      # views keep sharing the one storage
    assert d["row"][2].item() == 100.0 and d["t"][2, 1].item() == 100.0
    assert d["sl"].tolist() == [[1.0, 3.0], [5.0, 7.0], [9.0, 11.0]]
    base[0, 1] = -1.0
    assert d["nested"][1][0].tolist() == [-1.0, 2.0, 3.0]
    assert d["nested"][0].tolist() == [8.0, 9.0, 10.0, 11.0]
    assert d["b16"].dtype == torch.bfloat16 and d["b16"].tolist() == [1.5, -2.25]
    assert d["h"].dtype == torch.float16 and d["h"].tolist() == [0.5, 65504.0]
    assert d["c"].dtype == torch.complex64 and d["c"].tolist() == [1 + 2j, 3 - 1j]
    assert d["flags"].dtype == torch.bool and d["flags"].tolist() == [True, False, True]
    assert d["empty"].shape == (0, 3) and d["empty"].dtype == torch.float32
    assert isinstance(d["p"], torch.nn.Parameter) and d["p"].requires_grad


def test_torch_legacy_file_loads():
    _check_state(gpujit.load(LEGACY))
    _check_state(gpujit.load(LEGACY, weights_only=False, map_location="cpu"))
    with open(LEGACY, "rb") as f:
        _check_state(gpujit.load(f))


def _maker():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "make_legacy_s49", os.path.join(HERE, "make_legacy_s49.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _state(torch=gpujit):
    return _maker().state(torch)


@pytest.mark.parametrize("zipped", [True, False])
def test_gpujit_writes_both_formats(tmp_path, zipped):
    path = str(tmp_path / "s.pt")
    gpujit.save(_state(), path, _use_new_zipfile_serialization=zipped)
    with open(path, "rb") as f:
        assert (f.read(2) == b"PK") == zipped
    _check_state(gpujit.load(path))
    buf = io.BytesIO()
    gpujit.save(_state(), buf, _use_new_zipfile_serialization=zipped)
    buf.seek(0)
    _check_state(gpujit.load(buf))


@pytest.mark.parametrize("zipped", [True, False])
def test_torch_reads_what_gpujit_writes_and_back(tmp_path, zipped):
    torch = pytest.importorskip("torch")
    ours, theirs = str(tmp_path / "g.pt"), str(tmp_path / "t.pt")
    gpujit.save(_state(), ours, _use_new_zipfile_serialization=zipped)
    _check_state(torch.load(ours), torch)
    script = os.path.join(HERE, "make_legacy_s49.py")
    if zipped:
        torch.save(_state(torch), theirs)
    else:
        r = subprocess.run([sys.executable, script, theirs], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    _check_state(gpujit.load(theirs))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "complex64",
                                   "complex128", "bool", "int8", "uint8", "int16", "int32",
                                   "int64"])
@pytest.mark.parametrize("zipped", [True, False])
def test_dtypes_empty_and_non_contiguous_tensors(dtype, zipped):
    dt = getattr(gpujit, dtype)
    t = (gpujit.arange(12) % 5).to(dt).reshape(3, 4)
    if dt.is_complex:
        t = t * (1 - 2j)
    obj = {"t": t, "nc": t.t()[1:], "e": gpujit.zeros(0, 3, dtype=dt),
           "e2": t[:, 4:], "scalar": t[1, 1].clone()}
    buf = io.BytesIO()
    gpujit.save(obj, buf, _use_new_zipfile_serialization=zipped)
    buf.seek(0)
    back = gpujit.load(buf)
    for k, v in obj.items():
        assert back[k].dtype == dt and back[k].shape == v.shape, k
        assert back[k].stride() == v.stride(), k
        assert back[k].tolist() == v.tolist(), k
    assert back["nc"].storage_offset() == 1 and not back["nc"].is_contiguous()
    back["t"][2, 1] = 1
    assert back["nc"][0, 2].item() == 1           # (one storage still)


def test_mmap_loads_map_the_file_copy_on_write(tmp_path):
    path = str(tmp_path / "m.pt")
    gpujit.save(_state(), path)
    before = open(path, "rb").read()
    d = gpujit.load(path, mmap=True)
    _check_state(d)                      # (writes into the loaded tensors...)
    d["base"].add_(1)
    assert open(path, "rb").read() == before       # (...never reach the file)
    assert gpujit.load(path, mmap=True, map_location="cpu")["row"].tolist() == \
        [4.0, 5.0, 6.0, 7.0]
    with open(path, "rb") as f, pytest.raises(
            ValueError, match="f must be a file path in order to use the mmap argument"):
        gpujit.load(f, mmap=True)
    legacy = str(tmp_path / "l.pt")
    gpujit.save(_state(), legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match=re.escape(
            f"mmap can only be used with files saved with `torch.save({legacy}, "
            f"_use_new_zipfile_serialization=True), please torch.save your checkpoint "
            f"with this option in order to use mmap.")):
        gpujit.load(legacy, mmap=True)


class Opaque49:
    def __init__(self):
        self.a = 1


@pytest.mark.parametrize("zipped", [True, False])
def test_weights_only_allow_list_and_words(zipped):
    import collections

    def saved(obj):
        buf = io.BytesIO()
        gpujit.save(obj, buf, _use_new_zipfile_serialization=zipped)
        return buf.getvalue()
    # allowed by torch 2.13's weights_only unpickler
    ok = {"od": collections.OrderedDict(a=gpujit.ones(1)), "s": {1, 2}, "c": 1 + 2j,
          "ctr": collections.Counter("aab"), "dt": gpujit.float16, "sz": gpujit.Size([2]),
          "dev": gpujit.device("cpu"), "b": b"x", "ba": bytearray(b"y"), "n": None,
          "p": nn.Parameter(gpujit.ones(2))}
    back = gpujit.load(io.BytesIO(saved(ok)), weights_only=True)
    assert back["ctr"] == collections.Counter("aab") and back["s"] == {1, 2}
    assert back["dt"] is gpujit.float16 and isinstance(back["p"], nn.Parameter)

    def refused(obj):
        with pytest.raises(pickle.UnpicklingError) as e:
            gpujit.load(io.BytesIO(saved(obj)))           # (weights_only by default)
        return str(e.value)
    for obj, name in ((slice(1, 2), "slice"), (frozenset([1]), "frozenset"),
                      (print, "print"), (Opaque49(), f"{__name__}.Opaque49")):
        words = refused({"x": obj})
        assert words.startswith("Weights only load failed. This file can still be loaded")
        assert f"WeightsUnpickler error: Unsupported global: GLOBAL {name} was not an " \
               f"allowed global by default. Please use `torch.serialization." \
               f"add_safe_globals([{name}])`" in words
    words = refused({"x": os.stat_result((1,) * 10)})
    assert "Trying to load unsupported GLOBAL os.stat_result whose module os is " \
           "blocked." in words
    with gpujit.serialization.safe_globals([os.stat_result]):      # (never allowed)
        assert "whose module os is blocked" in refused({"x": os.stat_result((1,) * 10)})
    with gpujit.serialization.safe_globals([Opaque49]):
        assert gpujit.load(io.BytesIO(saved({"x": Opaque49()})))["x"].a == 1
    assert isinstance(gpujit.load(io.BytesIO(saved({"x": Opaque49()})),
                                  weights_only=False)["x"], Opaque49)


def test_load_errors_of_files_that_are_not_archives():
    with pytest.raises(RuntimeError, match=r"Invalid magic number; corrupt file\?"):
        gpujit.load(io.BytesIO(pickle.dumps({}, protocol=2)))
    with pytest.raises(EOFError):
        gpujit.load(io.BytesIO(b""))
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        gpujit.load(io.BytesIO(b"garbage"))
    with pytest.raises(pickle.UnpicklingError):
        gpujit.load(io.BytesIO(b"garbage"), weights_only=False)


def _globals_of(data):
    import pickletools
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        pkl = z.read([n for n in z.namelist() if n.endswith("/data.pkl")][0])
    return {arg.replace(" ", ".") for op, arg, _ in pickletools.genops(pkl)
            if op.name in ("GLOBAL", "STACK_GLOBAL")}


def test_torch_objects_pickle_as_torchs_globals():
    obj = {"sz": gpujit.Size([1, 2]), "dt": gpujit.bfloat16, "q": gpujit.qint8,
           "qs": gpujit.per_channel_affine, "dev": gpujit.device("cpu"),
           "f8": gpujit.float8_e4m3fn}
    buf = io.BytesIO()
    gpujit.save(obj, buf)
    names = _globals_of(buf.getvalue())
    # torch 2.13's pickle of the same dict names exactly these globals
    assert names == {"torch.Size", "torch.bfloat16", "torch.qint8",
                     "torch.per_channel_affine", "torch.device", "torch.float8_e4m3fn"}
    back = gpujit.load(io.BytesIO(buf.getvalue()))          # (weights_only)
    assert back["sz"] == (1, 2) and type(back["sz"]) is gpujit.Size
    assert back["q"] is gpujit.qint8 and back["qs"] is gpujit.per_channel_affine
    torch = pytest.importorskip("torch")
    theirs = torch.load(io.BytesIO(buf.getvalue()))
    assert theirs == {"sz": torch.Size([1, 2]), "dt": torch.bfloat16, "q": torch.qint8,
                      "qs": torch.per_channel_affine, "dev": torch.device("cpu"),
                      "f8": torch.float8_e4m3fn}


# ---------------------------------------------------------------- 4. attributes and containers

_ATTRS_SRC = '''
import sys
from typing import Dict, List, Optional, Tuple
if sys.argv[-1] == "torch" or __name__ == "__main__":
    import torch
else:
    import gpujit as torch
nn = torch.nn


@torch.jit.interface
class OneIface49(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pass


class Plus49(nn.Module):
    def forward(self, x):
        return x + 1


class Twice49(nn.Module):
    def forward(self, x):
        return x * 2


class Attrs49(nn.Module):
    impl: OneIface49

    def __init__(self):
        super().__init__()
        self.impl = Plus49()
        self.layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
        self.d = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.Tanh()})
        self.pl = nn.ParameterList([nn.Parameter(torch.ones(2)),
                                    nn.Parameter(torch.zeros(2))])
        self.i = 3
        self.f = 1.5
        self.s = "hi"
        self.b = True
        self.li: List[int] = [1, 2]
        self.dd: Dict[str, float] = {"x": 1.0}
        self.t: Tuple[int, str] = (1, "a")
        self.o: Optional[torch.Tensor] = None
        self.lt: List[torch.Tensor] = [torch.ones(1)]
        self.dt: Dict[int, torch.Tensor] = {1: torch.zeros(1)}
        self.c = 1 + 2j
        self.nested: Dict[str, List[Tuple[int, float]]] = {"k": [(1, 2.0)]}
        with torch.no_grad():
            for k, p in enumerate(self.parameters()):
                p.copy_(torch.arange(p.numel()).reshape(p.shape) * 0.25 - k * 0.125)

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        x = self.d["a"](x) + self.impl(x)
        for p in self.pl:
            x = x + p
        return x * self.i + self.f

    @torch.jit.export
    def info(self) -> Tuple[int, float, str, bool, List[int], Dict[str, float], Tuple[int, str],
                            Optional[torch.Tensor], List[torch.Tensor],
                            Dict[int, torch.Tensor], complex,
                            Dict[str, List[Tuple[int, float]]]]:
        return (self.i, self.f, self.s, self.b, self.li, self.dd, self.t, self.o, self.lt,
                self.dt, self.c, self.nested)


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Attrs49()), sys.argv[1])
'''


def _attrs_module(tmp_path):
    import importlib.util
    path = tmp_path / "attrs49.py"
    path.write_text(_ATTRS_SRC)
    spec = importlib.util.spec_from_file_location("attrs49", str(path))
    mod = importlib.util.module_from_spec(spec)
    sys.modules["attrs49"] = mod               # (scripting reads its source)
    try:
        spec.loader.exec_module(mod)
        return mod, path
    finally:
        del sys.modules["attrs49"]


def _check_attrs(ld, lib=gpujit):
    i, f, s, b, li, dd, t, o, lt, dt, c, nested = ld.info()
    assert (i, f, s, b, li, dd, t, o, c, nested) == (
        3, 1.5, "hi", True, [1, 2], {"x": 1.0}, (1, "a"), None, 1 + 2j, {"k": [(1, 2.0)]})
    assert [v.tolist() for v in lt] == [[1.0]] and list(dt) == [1] and \
        dt[1].tolist() == [0.0]
    assert (ld.i, ld.s, ld.li, ld.t, ld.nested) == (3, "hi", [1, 2], (1, "a"),
                                                    {"k": [(1, 2.0)]})
    assert [n for n, _ in ld.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "d.a.weight", "d.a.bias", "pl.0", "pl.1"]
    assert all(type(p) is lib.Tensor for p in ld.parameters())
    out = ld(lib.ones(1, 2))
    # (torch 2.13's values of the module's forward, before and after the swap)
    np.testing.assert_allclose(out.detach().numpy(), [[0.28125, 8.53125]], rtol=1e-6)
    ld.impl = lib.jit.script(_attrs_twice(lib))        # (an interface attribute: swapped)
    np.testing.assert_allclose(ld(lib.ones(1, 2)).detach().numpy(), [[-2.34375, 9.65625]],
                               rtol=1e-6)


def _attrs_twice(lib):
    class Twice(lib.nn.Module):
        def forward(self, x):
            return x * 2
    return Twice()


def test_attributes_of_each_type_round_trip(tmp_path):
    mod, _ = _attrs_module(tmp_path)
    m = mod.Attrs49()
    for fmt in FORMATS:
        ld = gpujit.jit.load(io.BytesIO(_saved(m, fmt)))
        _check_attrs(ld)
        fr = gpujit.jit.freeze(ld.eval())
        np.testing.assert_allclose(_np(fr(gpujit.ones(1, 2))), [[-2.34375, 9.65625]],
                                   rtol=1e-6)


def test_attributes_of_each_type_between_torch_and_gpujit(tmp_path):
    torch = pytest.importorskip("torch")
    mod, src = _attrs_module(tmp_path)
    theirs = str(tmp_path / "t.pt")
    r = subprocess.run([sys.executable, str(src), theirs, "torch"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    _check_attrs(gpujit.jit.load(theirs))         # (a ParameterList's class body too)
    ours = str(tmp_path / "g.pt")
    gpujit.jit.save(gpujit.jit.script(mod.Attrs49()), ours)
    _check_attrs(torch.jit.load(ours), torch)


# ---------------------------------------------------------------- forward hooks, NamedTuples

_HOOKS_SRC = '''
import sys
from typing import NamedTuple, Tuple
if sys.argv[-1] == "torch":
    import torch
else:
    import gpujit as torch


class Pt49(NamedTuple):
    x: int
    y: float


class Inner49(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1


def pre49(self, inp: Tuple[torch.Tensor]) -> Tuple[torch.Tensor]:
    return (inp[0] * 2,)


def post49(self, inp: Tuple[torch.Tensor], out: torch.Tensor) -> torch.Tensor:
    return out * 10


class Hooked49(torch.nn.Module):
    declared: Pt49

    def __init__(self):
        super().__init__()
        self.m = Inner49()
        self.m.register_forward_pre_hook(pre49)
        self.m.register_forward_hook(post49)
        self.declared = Pt49(1, 2.5)
        self.raw = Pt49(3, 4.5)          # (undeclared: typed Tuple[int, float])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.m(x) - 1 + self.declared.y + self.raw[1]


if __name__ == "__main__":
    torch.jit.save(torch.jit.script(Hooked49()), sys.argv[1])
'''


def _hooks_module(tmp_path):
    import importlib.util
    path = tmp_path / "hooks49.py"
    path.write_text(_HOOKS_SRC)
    spec = importlib.util.spec_from_file_location("hooks49", str(path))
    mod = importlib.util.module_from_spec(spec)
    sys.modules["hooks49"] = mod
    try:
        spec.loader.exec_module(mod)
        return mod, path
    finally:
        del sys.modules["hooks49"]


def _check_hooked(ld, lib=gpujit):
    # torch 2.13: ((1 * 2) + 1) * 10 - 1 + 2.5 + 4.5 = 36; the submodule's hooks run when it
    # is called from Python too
    assert ld(lib.ones(1)).tolist() == [36.0]
    assert ld.m(lib.ones(1)).tolist() == [30.0]
    assert type(ld.declared) is tuple and ld.declared == (1, 2.5)     # (as torch gives)
    assert type(ld.raw) is tuple and ld.raw == (3, 4.5)


def test_forward_hooks_and_namedtuple_attributes_in_pytorchs_format(tmp_path):
    mod, _ = _hooks_module(tmp_path)
    sm = gpujit.jit.script(mod.Hooked49())
    assert type(sm.raw) is tuple and type(sm.declared) is mod.Pt49
    # TorchScript's spelling of a hook's call: through its class
    code = sm.code
    assert "__torch__.hooks49.Inner49.pre49(m, (x,), )" in code
    assert "__torch__.hooks49.Inner49.post49(m, " in code
    buf = io.BytesIO()
    gpujit.jit.save(sm, buf, format="pytorch")
    import zipfile
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        text = z.read("archive/code/__torch__/hooks49.py").decode()
    assert '  __forward_pre_hooks__ = ["pre49", ]\n  __forward_hooks__ = ["post49", ]\n' in text
    assert "  declared : __torch__.hooks49.Pt49\n" in text
    assert "  raw : Tuple[int, float]\n" in text
    buf.seek(0)
    ld = gpujit.jit.load(buf)
    _check_hooked(ld)
    assert ld.code == code


def test_forward_hooks_between_torch_and_gpujit(tmp_path):
    torch = pytest.importorskip("torch")
    mod, src = _hooks_module(tmp_path)
    theirs = str(tmp_path / "t.pt")
    r = subprocess.run([sys.executable, str(src), theirs, "torch"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    ld = gpujit.jit.load(theirs)
    _check_hooked(ld)
    assert ld.code == torch.jit.load(theirs).code
    ours = str(tmp_path / "g.pt")
    gpujit.jit.save(gpujit.jit.script(mod.Hooked49()), ours)
    _check_hooked(torch.jit.load(ours), torch)


def test_default_mmap_options(tmp_path):
    import mmap
    path = str(tmp_path / "m.pt")
    gpujit.save({"w": gpujit.zeros(4)}, path)
    ser = gpujit.serialization
    assert ser.get_default_mmap_options() == mmap.MAP_PRIVATE
    with ser.set_default_mmap_options(mmap.MAP_SHARED):
        assert ser.get_default_mmap_options() == mmap.MAP_SHARED
        w = gpujit.load(path, mmap=True)["w"]
        w.fill_(7.0)                        # (shared: the file's bytes change)
        del w
    assert ser.get_default_mmap_options() == mmap.MAP_PRIVATE
    assert gpujit.load(path)["w"].tolist() == [7.0] * 4     # (no CRC-32 check, as torch)
    with pytest.raises(ValueError, match="expected mmap.MAP_PRIVATE or mmap.MAP_SHARED, "
                                         "but got 5"):
        ser.set_default_mmap_options(5)
