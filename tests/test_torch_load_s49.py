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
    assert ld(gpujit.tensor([1]))[0].dtype == gpujit.float32
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
