"""gpujit.jit.save / load: scripted and traced modules and functions round-trip through a
zip of code and arrays; a fresh process loads them without the model's classes; broken,
tampered and crafted archives give clean errors and never run Python."""
import copy
import io
import json
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile
from typing import Dict, Final, List, NamedTuple, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit.frontend.script import FrontendError
from gpujit.jit import ArchiveError

nn = torch.nn


def _np(t):
    return t.detach().numpy()


def _close(a, b):
    if isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
        return
    if isinstance(a, torch.Tensor):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-6)
    else:
        assert a == b


def roundtrip(m, **load_kwargs):
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    return torch.jit.load(buf, **load_kwargs)


# ---------------------------------------------------------------------- models

# the tutorial's modules (seed 002)
from test_script_modules import MyCell, MyDecisionGate  # noqa: E402


class MyRNNLoop(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = torch.jit.trace(MyCell(MyDecisionGate()), (torch.rand(3, 4),
                                                               torch.rand(3, 4)))

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


class WrapRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.loop = torch.jit.script(MyRNNLoop())

    def forward(self, xs):
        y, h = self.loop(xs)
        return torch.relu(y)


class Block(nn.Module):
    __constants__ = ["scale"]
    use_offset: Final[bool] = True
    names: List[str]

    def __init__(self, n):
        super().__init__()
        self.scale = 2.0
        self.n = n
        self.sizes = [1, 3, 5]
        self.pair = (1.5, 2)
        self.names = []
        self.table: Dict[str, int] = {"a": 1, "b": 2}
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        self.seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4, bias=False))
        self.register_buffer("offset", torch.ones(4))

    def helper(self, x, k: int):
        if self.use_offset:
            x = x + self.offset
        return x * k

    @torch.jit.export
    def scaled(self, x, factor: float = 3.0):
        return x * factor + self.table["b"]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        x = self.layers[-1](x)
        x = self.seq(x)
        if self.training:
            x = x * self.scale
        x = x + self.n * self.pair[0] + len(self.names)
        return self.helper(x, self.sizes[1])


def _helper(x, k: int):
    return x * k + 1


def program(x, n: int, y: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, List[torch.Tensor], int]:
    s: List[torch.Tensor] = []
    for i in range(n):
        s.append(_helper(x, i))
    if y is not None:
        x = x + y
    while n > 0:
        n -= 1
        x = x + 1
    assert n == 0, "n must reach 0"
    d: Dict[str, int] = {"k": 2}
    if "k" in d:
        x = x * d["k"]
    return x, s, n + x.size(0)


# ---------------------------------------------------------------------- round trips

def test_tutorial_modules_round_trip_scripted_and_traced():
    torch.manual_seed(0)
    x, h = torch.rand(3, 4) - 0.5, torch.rand(3, 4) - 0.5
    xs = torch.rand(10, 3, 4) - 0.5
    models = [
        (torch.jit.script(MyCell(MyDecisionGate())), (x, h)),
        (torch.jit.trace(MyCell(MyDecisionGate()), (x, h)), (x, h)),
        (torch.jit.script(MyRNNLoop()), (xs,)),
        (torch.jit.trace(WrapRNN(), (xs,)), (xs,)),
        (torch.jit.script(WrapRNN()), (xs,)),
    ]
    for m, args in models:
        loaded = roundtrip(m)
        assert isinstance(loaded, torch.jit.RecursiveScriptModule)
        assert loaded.original_name == m.original_name
        _close(loaded(*args), m(*args))
        assert [k for k, _ in loaded.named_parameters()] == \
            [k for k, _ in m.named_parameters()]
        for (_, p), (_, q) in zip(loaded.named_parameters(), m.named_parameters()):
            assert p is not q and p.requires_grad == q.requires_grad
            np.testing.assert_array_equal(_np(p), _np(q))
        loaded.graph.lint()
        # a loaded module saves and loads again
        _close(roundtrip(loaded)(*args), m(*args))


def test_loaded_module_repr_and_code_keep_the_structure():
    m = torch.jit.trace(WrapRNN(), (torch.rand(10, 3, 4),))
    loaded = roundtrip(m)
    r = repr(loaded)
    assert r.startswith("RecursiveScriptModule(\n  original_name=WrapRNN")
    for name in ("(loop)", "(cell)", "original_name=MyDecisionGate", "original_name=Linear"):
        assert name in r
    code = loaded.code
    # (torch 2.13, the tutorial's: the scripted loop's call kept, the tensor it returns
    # twice standing for the last element)
    assert "  loop = self.loop\n  _0, y, = (loop).forward(xs, )\n  return torch.relu(y)" \
        in code
    assert "for i in range(torch.size(xs, 0)):" in loaded.loop.code
    assert loaded.loop.cell.linear.weight.shape == (4, 4)


def test_module_attributes_constants_buffers_methods_and_training_flag():
    torch.manual_seed(1)
    m = Block(3)
    m.names.append("z")
    s = torch.jit.script(m)
    s.eval()
    loaded = roundtrip(s)
    assert loaded.training is False and loaded.layers[0].training is False
    x = torch.rand(2, 4)
    _close(loaded(x), s(x))
    _close(loaded.scaled(x), s.scaled(x))
    _close(loaded.scaled(x, 0.5), s.scaled(x, 0.5))
    assert loaded.n == 3 and loaded.sizes == [1, 3, 5] and loaded.pair == (1.5, 2)
    assert loaded.table == {"a": 1, "b": 2} and loaded.names == ["z"]
    assert loaded.scale == 2.0
    assert 'prim::GetAttr[name="scale"]' not in str(loaded.graph)      # still a constant
    np.testing.assert_array_equal(_np(loaded.offset), np.ones(4, np.float32))
    assert list(loaded.state_dict()) == list(s.state_dict())
    loaded.train()
    s.train()
    _close(loaded(x), s(x))
    # an attribute's type survives even when its value could not tell it (empty list)
    m2 = Block(1)
    loaded2 = roundtrip(torch.jit.script(m2))
    assert loaded2.names == []
    assert str(loaded2._type.attributes["names"]) == "str[]"
    _close(loaded2(x), m2(x))


def test_standard_layers_with_running_statistics_round_trip():
    torch.manual_seed(5)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.1),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 5), nn.LayerNorm(5),
                      nn.GELU())
    x = torch.rand(2, 3, 8, 8)
    m(x)
    m.eval()
    s = torch.jit.script(m)
    loaded = roundtrip(s)
    _close(loaded(x), s(x))
    _close(loaded[1].running_mean, m[1].running_mean)
    assert int(loaded[1].num_batches_tracked) == 1
    t = torch.jit.trace(copy.deepcopy(m), (x,))
    _close(roundtrip(t)(x), m(x))


def test_functions_round_trip_with_callees_defaults_and_control_flow():
    f = torch.jit.script(program)
    loaded = roundtrip(f)
    # (torch 2.13 saves a function as the forward of a PlaceholderModule)
    assert type(loaded).__name__ == "RecursiveScriptModule"
    assert loaded.original_name == "PlaceholderModule"
    x, y = torch.rand(3), torch.rand(3)
    _close(loaded(x, 4), f(x, 4))
    _close(loaded(x, 2, y), f(x, 2, y))
    _close(loaded(x, 2, y=y), program(x, 2, y=y))
    assert "__torch__.test_script_save_load._helper" in loaded.code

    def traced_fn(a, b):
        return torch.tanh(a * 0.5 + b) * torch.sigmoid(a - b) + torch.relu(a)
    t = torch.jit.trace(traced_fn, (x, y))
    _close(roundtrip(t)(y, x), traced_fn(y, x))


def test_tensor_constants_of_traced_code_are_saved_as_arrays():
    table = torch.tensor([1.0, -2.0, 3.0])

    def add_table(x):
        return x + table
    with pytest.warns(Warning):
        t = torch.jit.trace(add_table, (torch.rand(3),))
    assert "CONSTANTS.c0" in t.code
    loaded = roundtrip(t)
    x = torch.rand(3)
    _close(loaded(x), x + table)


def test_save_to_a_path_method_save_extra_files_and_map_location(tmp_path):
    torch.manual_seed(2)
    m = torch.jit.script(MyCell(MyDecisionGate()))
    path = tmp_path / "cell.pt"
    m.save(str(path))
    assert zipfile.is_zipfile(path)
    # PyTorch's archive format by default (torch.jit.load reads it), gpujit's on request
    names = zipfile.ZipFile(path).namelist()
    assert "cell/data.pkl" in names and "cell/code/__torch__/test_script_modules.py" in names
    m.save(str(path), format="gpujit")
    names = zipfile.ZipFile(path).namelist()
    assert "cell/manifest.json" in names and "cell/code/root.py" in names
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)
    torch.jit.save(m, path, _extra_files={"meta.txt": "hello", "cfg.json": b"{}"})
    extra = {"meta.txt": "", "cfg.json": "", "absent": ""}
    loaded = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    assert extra["meta.txt"] == b"hello" and extra["cfg.json"] == b"{}"
    assert extra["absent"] == b""          # not in the archive: empty bytes, as torch 2.x
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    _close(loaded(x, h), m(x, h))
    assert loaded.linear.weight.device == torch.device("cpu")
    f = torch.jit.script(program)
    f.save(str(tmp_path / "f.pt"))
    _close(torch.jit.load(str(tmp_path / "f.pt"))(x[0], 2), f(x[0], 2))


def test_loaded_model_trains():
    torch.manual_seed(4)
    m = roundtrip(torch.jit.script(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    x, y = torch.rand(16, 4), torch.rand(16, 1)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0]


def test_saving_something_else_is_a_type_error():
    with pytest.raises(TypeError, match="scripted or traced"):
        torch.jit.save(MyDecisionGate(), io.BytesIO())
    with pytest.raises(TypeError, match="scripted or traced"):
        torch.jit.save(lambda x: x, io.BytesIO())


# ---------------------------------------------------------------------- a fresh process

def test_a_fresh_process_loads_without_the_model_classes(tmp_path):
    torch.manual_seed(7)
    m = torch.jit.trace(WrapRNN(), (torch.rand(10, 3, 4),))
    xs = torch.rand(10, 3, 4) - 0.5
    np.save(tmp_path / "xs.npy", _np(xs))
    np.save(tmp_path / "want.npy", _np(m(xs)))
    m.save(str(tmp_path / "wrapped_rnn.zip"))
    torch.jit.save(torch.jit.script(program), str(tmp_path / "program.pt"))
    script = textwrap.dedent(f"""
        import sys, numpy as np
        import gpujit as torch
        m = torch.jit.load({str(tmp_path / 'wrapped_rnn.zip')!r})
        xs = torch.from_numpy(np.load({str(tmp_path / 'xs.npy')!r}))
        got = m(xs).detach().numpy()
        np.testing.assert_allclose(got, np.load({str(tmp_path / 'want.npy')!r}), rtol=1e-5,
                                   atol=1e-6)
        f = torch.jit.load({str(tmp_path / 'program.pt')!r})
        out = f(torch.ones(2), 2)
        assert out[2] == 2, out
        assert "WrapRNN" not in [k.split('.')[-1] for k in sys.modules]
        print(repr(m).splitlines()[1].strip())
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("original_name=WrapRNN")


# ---------------------------------------------------------------------- broken archives

def _saved(tmp_path):
    m = torch.jit.script(MyCell(MyDecisionGate()))
    path = tmp_path / "m.pt"
    m.save(str(path), format="gpujit")     # (PyTorch's format: test_torch_archive_s45.py)
    return path


def _rewrite(src, dst, change):
    """Copy a zip, passing every (name, data) through change (None drops the entry)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)


def test_truncated_and_non_zip_archives_give_clean_errors(tmp_path):
    path = _saved(tmp_path)
    data = path.read_bytes()
    for cut in (len(data) // 3, len(data) - 30, 10):
        bad = tmp_path / f"cut{cut}.pt"
        bad.write_bytes(data[:cut])
        with pytest.raises(ArchiveError, match="truncated|damaged"):
            torch.jit.load(str(bad))
    (tmp_path / "text.pt").write_text("not an archive")
    with pytest.raises(ArchiveError, match="not a gpujit archive"):
        torch.jit.load(str(tmp_path / "text.pt"))
    with pytest.raises(ValueError, match="The provided filename .*missing.pt does not exist"):
        torch.jit.load(str(tmp_path / "missing.pt"))     # torch 2.13's class and words
    with pytest.raises(ValueError, match="is a directory"):
        torch.jit.load(str(tmp_path))


def test_a_byte_flipped_in_place_is_caught(tmp_path):
    path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    i = data.index(b"torch.tanh")
    data[i] = ord("T")
    bad = tmp_path / "flipped.pt"
    bad.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="damaged|checksum"):
        torch.jit.load(str(bad))


def test_tampered_code_arrays_and_manifest_are_rejected(tmp_path):
    path = _saved(tmp_path)
    cases = {
        "code": lambda n, d: d.replace(b"torch.tanh", b"torch.relu") if n.endswith(".py")
        else d,
        "array": lambda n, d: d[:-4] + b"\0\0\0\0" if n.endswith(".npy") else d,
        "dropped": lambda n, d: None if n.endswith("0.npy") else d,
    }
    for what, change in cases.items():
        bad = tmp_path / f"{what}.pt"
        _rewrite(path, bad, change)
        with pytest.raises(ArchiveError, match="checksum|missing") as e:
            torch.jit.load(str(bad))
        assert "changed after it was written" in str(e.value) or "missing" in str(e.value)

    def version(n, d):
        return b"99" if n.endswith("/version") else d
    _rewrite(path, tmp_path / "v.pt", version)
    with pytest.raises(ArchiveError, match="format version '99'"):
        torch.jit.load(str(tmp_path / "v.pt"))

    def manifest(n, d):
        return b"{not json" if n.endswith("manifest.json") else d
    _rewrite(path, tmp_path / "j.pt", manifest)
    with pytest.raises(ArchiveError, match="not valid JSON"):
        torch.jit.load(str(tmp_path / "j.pt"))


def _forge(path, dst, code: bytes, rel="code/root.py"):
    """An archive whose code file is replaced and whose checksum table agrees (what an
    attacker would write)."""
    import hashlib

    def change(n, d):
        if n.endswith(rel):
            return code
        if n.endswith("manifest.json"):
            man = json.loads(d)
            man["sha256"][rel] = hashlib.sha256(code).hexdigest()
            return json.dumps(man).encode()
        return d
    _rewrite(path, dst, change)


def test_no_python_from_the_archive_ever_runs(tmp_path):
    path = _saved(tmp_path)
    marker = tmp_path / "pwned"
    # module-level code: refused before anything is compiled
    evil = (f"open({str(marker)!r}, 'w').write('x')\n"
            f"def forward(self, x: Tensor, h: Tensor) -> Tuple[Tensor, Tensor]:\n"
            f"  return (x, h)\n").encode()
    _forge(path, tmp_path / "e1.pt", evil)
    with pytest.raises(ArchiveError, match="may only define functions"):
        torch.jit.load(str(tmp_path / "e1.pt"))
    # a decorator or a default would run at def time: refused too
    evil2 = (f"@print\ndef forward(self, x: Tensor, h: Tensor) -> Tuple[Tensor, Tensor]:\n"
             f"  return (x, h)\n").encode()
    _forge(path, tmp_path / "e2.pt", evil2)
    with pytest.raises(ArchiveError, match="may only define functions"):
        torch.jit.load(str(tmp_path / "e2.pt"))
    # a body that would write the file if it ran as Python: it is compiled by the script
    # frontend (which rejects open()), never executed
    evil3 = (f"def forward(self, x: Tensor, h: Tensor) -> Tuple[Tensor, Tensor]:\n"
             f"  open({str(marker)!r}, 'w').write('x')\n"
             f"  return (x, h)\n").encode()
    _forge(path, tmp_path / "e3.pt", evil3)
    with pytest.raises(FrontendError) as e:
        torch.jit.load(str(tmp_path / "e3.pt"))
    assert "open" in str(e.value) and "<--- HERE" in str(e.value)
    # a default argument expression would run at def time in Python
    evil4 = (f"def forward(self, x: Tensor, h: Tensor = open({str(marker)!r}, 'w')) -> "
             f"Tuple[Tensor, Tensor]:\n  return (x, h)\n").encode()
    _forge(path, tmp_path / "e4.pt", evil4)
    with pytest.raises(ArchiveError, match="default"):
        torch.jit.load(str(tmp_path / "e4.pt"))
    assert not marker.exists()


def test_pickled_arrays_are_refused(tmp_path):
    import hashlib
    path = _saved(tmp_path)
    buf = io.BytesIO()
    np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
    evil = buf.getvalue()
    _forge(path, tmp_path / "p.pt", evil, rel="data/0.npy")
    with pytest.raises(ArchiveError, match="not a plain array"):
        torch.jit.load(str(tmp_path / "p.pt"))
    assert hashlib  # used by _forge


# ---------------------------------------------------------------------- classes and more

@torch.jit.script
class Scaler:
    def __init__(self, w: torch.Tensor, k: int):
        self.w = w
        self.k = k
        # (`self.best: Optional[Tensor] = None` is a NoneType attribute in TorchScript,
        # the annotation only hinting the value; torch.jit.annotate gives the Optional)
        self.best = torch.jit.annotate(Optional[torch.Tensor], None)

    def apply(self, x) -> torch.Tensor:
        y = x * self.w + self.k
        b = self.best
        if b is None:
            self.best = y
        else:
            self.best = torch.maximum(b, y)
        return y


class Placed(NamedTuple):
    x: torch.Tensor
    n: int = 2


class WithObjects(nn.Module):
    origin: Placed      # (declared: torch 2.13 types an undeclared NamedTuple value a Tuple)

    def __init__(self):
        super().__init__()
        self.scaler = Scaler(torch.tensor([1.0, 2.0, 3.0]), 4)
        self.origin = Placed(torch.zeros(3), 5)
        self.layers = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
        self.acts = nn.ModuleDict({"relu": nn.ReLU(), "tanh": nn.Tanh()})

    def forward(self, x, i: int, act: str) -> Placed:
        s = Scaler(x, i)
        y = s.apply(x) + self.scaler.apply(x) + self.origin.x * self.origin.n
        y = self.layers[i](y)
        with torch.jit.strict_fusion():
            z = y * 2 + 1
        return Placed(self.acts[act](z), i)


def test_classes_namedtuples_regions_and_containers_round_trip():
    m = torch.jit.script(WithObjects())
    loaded = roundtrip(m)
    x = torch.rand(3) - 0.5
    for i, act in ((0, "relu"), (2, "tanh")):
        a, b = m(x, i, act), loaded(x, i, act)
        assert type(b).__name__ == "Placed" and b._fields == ("x", "n")
        _close(b.x, a.x)
        assert b.n == a.n == i
    assert loaded.scaler.k == 4 and type(loaded.scaler).__name__ == "Scaler"
    np.testing.assert_array_equal(_np(loaded.scaler.w), [1.0, 2.0, 3.0])
    # (saved in PyTorch's format, s49: a NamedTuple attribute reads back as the tuple
    # torch 2.13's loaded module gives)
    assert loaded.origin[1] == 5 and type(loaded.origin) is tuple
    assert [n.attrs.get("name") for n in loaded.graph.walk()
            if n.kind == "prim::Enter" and n.attrs.get("name") != "with"] == ["strict_fusion"]
    # (TorchScript's spelling of a construction: the object, then its __init__ call)
    assert "s = __torch__.test_script_save_load.Scaler.__new__(" \
        "__torch__.test_script_save_load.Scaler)\n  _3 = (s).__init__(x, i, )" in loaded.code


def _uses_point(p: Placed, k: int) -> Placed:
    q = Placed(p.x * k)
    return Placed(q.x + p.x, q.n + p.n)


def test_functions_taking_and_returning_namedtuples_and_objects():
    f = torch.jit.script(_uses_point)
    loaded = roundtrip(f)
    p = Placed(torch.ones(2), 3)
    out = loaded(p, 4)
    _close(out.x, f(p, 4).x)
    assert out.n == 5
    # (torch 2.13 loads a function as the forward of a PlaceholderModule)
    # (qualified class names, as torch 2.13 prints a loaded archive's code)
    assert ("def forward(self,\n    p: __torch__.test_script_save_load.Placed,\n    k: int) "
            "-> __torch__.test_script_save_load.Placed:") in loaded.code


def test_models_that_call_python_cannot_be_saved():
    @torch.jit.ignore
    def in_python(x: torch.Tensor) -> torch.Tensor:
        return x + 1

    def calls(x):
        return in_python(x) * 2
    f = torch.jit.script(calls)
    with pytest.raises(ArchiveError, match="calls the Python function 'in_python'"):
        torch.jit.save(f, io.BytesIO())


class Tagged(nn.Module):
    def __init__(self):
        super().__init__()
        self.tags = {"a", "b"}
        self.ids = {3, 1, 2}

    def forward(self, name: str, k: int) -> bool:
        return name in self.tags and k in self.ids


def test_set_attributes_round_trip():
    loaded = roundtrip(torch.jit.script(Tagged()))
    assert loaded.tags == {"a", "b"} and loaded.ids == {1, 2, 3}
    assert loaded("a", 2) and not loaded("c", 2) and not loaded("a", 5)


def _dtype_of(x: torch.Tensor) -> torch.dtype:
    return x.dtype


def _dtype_or_none(x: Optional[torch.Tensor]) -> Optional[torch.dtype]:
    if x is None:
        return None
    return x.dtype


def _takes_dtype(x, d: Optional[torch.dtype]):
    return x if d is None else x.to(d)


def _uses_dtypes(x, m: Optional[torch.Tensor]):
    return _takes_dtype(x.to(_dtype_of(x)), _dtype_or_none(m))


def test_functions_returning_dtypes_load_back():
    """Saved code annotates a dtype `int` (TorchScript's): `-> int` / `-> Optional[int]`
    functions returning x.dtype, and an Optional dtype passed on, compile back."""
    f = torch.jit.script(_uses_dtypes)
    g = roundtrip(f)
    x = torch.ones(2)
    _close(g(x, None), f(x, None))
    _close(g(x, torch.zeros(1, dtype=torch.float64)), f(x, torch.zeros(1, dtype=torch.float64)))
    assert g(x, torch.zeros(1, dtype=torch.float64)).dtype == torch.float64


def _warns_once(x):
    if x.sum() < 0:
        warnings.warn("negative")
    return x


class _WarnA(nn.Module):
    def forward(self, x):
        return _warns_once(x)


class _WarnB(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = _WarnA()

    def forward(self, x):
        return self.a(_warns_once(x))


def test_helper_that_warns_called_from_two_modules_saves():
    """A function compiled for two modules gives the same graph (the warn's id is its call
    site's), so the model saves."""
    m = torch.jit.script(_WarnB())
    loaded = roundtrip(m)
    _close(loaded(torch.ones(2)), m(torch.ones(2)))
