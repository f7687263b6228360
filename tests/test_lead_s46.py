"""Session 46 (lead): gpujit.jit.save writes PyTorch's archive format by default (what
torch.jit.load reads), falling back to gpujit's own format for what PyTorch's cannot hold
(forward hooks, NamedTuple attributes); distinct Python functions with one qualified name
are mangled as TorchScript's compilation unit mangles them (a wrong-answer bug of the
PyTorch-format archive: both were written under one name)."""
import io
import re
import zipfile
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit import nn


def _names(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.namelist()


def _save(m, **kw):
    buf = io.BytesIO()
    torch.jit.save(m, buf, **kw)
    return buf.getvalue()


def _load(data):
    return torch.jit.load(io.BytesIO(data))


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, x):
        return torch.relu(self.lin(x)) * 2.0


def _np(t):
    return np.asarray(t.detach().numpy())


# ---------------------------------------------------------------------- the default format

def test_default_save_writes_pytorchs_format_and_loads_back():
    torch.manual_seed(0)
    m = torch.jit.script(_Net())
    data = _save(m)
    names = _names(data)
    assert "archive/data.pkl" in names and "archive/constants.pkl" in names
    assert not any(n.endswith("manifest.json") for n in names)
    assert any(n.startswith("archive/code/__torch__/") for n in names)
    x = torch.rand(4, 3)
    np.testing.assert_array_equal(_np(_load(data)(x)), _np(m(x)))
    # the same bytes as format="pytorch"; format="gpujit" is gpujit's own manifest
    assert _names(_save(m, format="pytorch")) == names
    assert "archive/manifest.json" in _names(_save(m, format="gpujit"))
    for meth in (m.save_to_buffer(), ):
        assert "archive/data.pkl" in _names(meth)
    with pytest.raises(ValueError, match="format must be 'gpujit' or 'pytorch'"):
        _save(m, format="onnx")


def test_default_save_is_read_by_pytorch():
    real = pytest.importorskip("torch")
    torch.manual_seed(1)
    m = torch.jit.trace(_Net(), torch.rand(2, 3))
    data = _save(m)
    t = real.jit.load(io.BytesIO(data))
    x = np.random.default_rng(0).random((5, 3), dtype=np.float32)
    np.testing.assert_allclose(t(real.from_numpy(x)).detach().numpy(),
                               _np(m(torch.from_numpy(x))),
                               rtol=1e-6, atol=1e-6)


class _Hooked(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return self.lin(x)


def _double(mod, inp: Tuple[torch.Tensor], out: torch.Tensor):
    return out * 2.0


class _Pt(NamedTuple):
    x: torch.Tensor
    n: int


class _HoldsPoint(nn.Module):
    p: _Pt          # (declared: torch 2.13 types an undeclared one as a plain Tuple)

    def __init__(self):
        super().__init__()
        self.p = _Pt(torch.ones(2), 3)

    def forward(self, x):
        return x * self.p.x + self.p.n


class _HoldsSet(nn.Module):
    def __init__(self):
        super().__init__()
        self.s = {1, 2}

    def forward(self, x):
        return x + len(self.s)


def test_what_pytorchs_format_cannot_hold_falls_back_to_gpujits():
    # (s49: forward hooks and NamedTuple attributes are in PyTorch's format, as torch
    # writes them: `__forward_hooks__ = ["_double", ]`, the value a tuple)
    torch.manual_seed(2)
    h = _Hooked()
    h.register_forward_hook(_double)
    m = torch.jit.script(h)
    x = torch.rand(2, 3)
    data = _save(m)
    assert "archive/data.pkl" in _names(data)
    np.testing.assert_array_equal(_np(_load(data)(x)), _np(m(x)))
    np.testing.assert_allclose(_np(_load(data)(x)), _np(h.lin(x)) * 2.0, rtol=1e-6)

    p = torch.jit.script(_HoldsPoint())
    data = _save(p)
    assert "archive/data.pkl" in _names(data)
    np.testing.assert_array_equal(_np(_load(data)(torch.ones(2))), [4.0, 4.0])
    assert type(_load(data).p) is tuple          # (as torch's loaded module gives it)

    s = torch.jit.script(_HoldsSet())
    data = _save(s)
    assert "archive/manifest.json" in _names(data)       # gpujit's format keeps a set
    np.testing.assert_array_equal(_np(_load(data)(torch.ones(1))), [3.0])
    with pytest.raises(torch.jit.ArchiveError, match="Unknown IValue type for pickling: set"):
        _save(s, format="pytorch")


def test_what_neither_format_holds_raises_gpujits_error():
    def py(x):
        return x + 1

    class CallsPython(nn.Module):
        @torch.jit.ignore
        def helper(self, x):
            return py(x)

        def forward(self, x):
            return self.helper(x)
    m = torch.jit.script(CallsPython())
    with pytest.raises(torch.jit.ArchiveError, match="helper"):
        _save(m)
    buf = io.BytesIO()
    with pytest.raises(torch.jit.ArchiveError):
        torch.jit.save(m, buf)
    assert buf.getvalue() == b""                         # nothing half-written


def test_saving_to_a_path_writes_the_whole_archive_once(tmp_path):
    m = torch.jit.script(_Net())
    path = tmp_path / "net.pt"
    torch.jit.save(m, str(path))
    assert "net/data.pkl" in zipfile.ZipFile(path).namelist()
    torch.jit.save(torch.jit.script(_HoldsSet()), str(path))   # (fallback overwrites it)
    assert "net/manifest.json" in zipfile.ZipFile(path).namelist()
    assert torch.jit.load(str(path))(torch.ones(1, 3)).shape == (1, 3)


# ---------------------------------------------------------------------- function names

def _make_norm(kind):
    if kind == 0:
        def normalize(x):
            return x / x.sum()
    else:
        def normalize(x):
            return x - x.mean()
    return normalize


norm_a, norm_b = _make_norm(0), _make_norm(1)


def both(x):
    return norm_a(x) * 10.0 + norm_b(x)


_MANGLED = r"__torch__\.test_lead_s46\.___torch_mangle_\d+\.normalize"


def test_functions_of_one_name_are_mangled_as_torchscript_and_round_trip():
    f = torch.jit.script(both)
    # first seen keeps the bare name, the other is mangled (torch: ___torch_mangle_<n>)
    assert "__torch__.test_lead_s46.normalize(x, )" in f.code
    assert re.search(_MANGLED, f.code)
    x = torch.tensor([1.0, 2.0, 5.0])
    expect = (x / x.sum()) * 10.0 + (x - x.mean())
    np.testing.assert_allclose(_np(f(x)), _np(expect), rtol=1e-6)
    for fmt in (None, "pytorch", "gpujit"):
        kw = {} if fmt is None else {"format": fmt}
        loaded = _load(_save(f, **kw))
        np.testing.assert_allclose(_np(loaded(x)), _np(expect), rtol=1e-6)
    # a loaded archive is its own compilation unit: loading it twice mangles nothing more
    data = _save(f)
    c1, c2 = _load(data).code, _load(data).code
    assert c1 == c2 and "__torch__.test_lead_s46.normalize(x, )" in c1
    assert len(re.findall(r"___torch_mangle_\d+", c1)) == 1


def test_one_function_keeps_one_name():
    def twice(x):
        return norm_a(x) + norm_a(x * 2.0)
    code = torch.jit.script(twice).code
    names = set(re.findall(r"__torch__\.test_lead_s46\.[\w.]*normalize", code))
    assert len(names) == 1
    assert names == set(re.findall(r"__torch__\.test_lead_s46\.[\w.]*normalize",
                                   torch.jit.script(both).code)) & names


def test_mangled_names_load_in_pytorch_with_the_right_functions():
    real = pytest.importorskip("torch")
    f = torch.jit.script(both)
    t = real.jit.load(io.BytesIO(_save(f)))
    x = np.array([1.0, 2.0, 5.0], dtype=np.float32)
    expect = (x / x.sum()) * 10.0 + (x - x.mean())
    np.testing.assert_allclose(t(real.from_numpy(x)).numpy(), expect, rtol=1e-6)


@torch.jit.script
class _Inner:
    def __init__(self, y):
        self.y = y


@torch.jit.script
class _Holder:
    def __init__(self, y):
        self.inner = _Inner(y)
        self.z = self.inner.y * 2.0


class _UsesHolder(nn.Module):
    def forward(self, a):
        return _Holder(a).z + 1.0


def test_a_module_loaded_from_gpujits_format_saves_in_pytorchs():
    # (its classes are `__torch__.__archive__._Inner`...: written by their qualified names,
    # the short names code prints for them elsewhere would not resolve in the archive)
    m = torch.jit.script(_UsesHolder())
    loaded = _load(_save(m, format="gpujit"))
    data = _save(loaded, format="pytorch")
    assert "archive/code/__torch__/__archive__.py" in _names(data)
    again = _load(data)
    x = torch.tensor([1.0, -2.0])
    np.testing.assert_array_equal(_np(again(x)), [3.0, -3.0])
    real = pytest.importorskip("torch")
    t = real.jit.load(io.BytesIO(data))
    np.testing.assert_array_equal(t(real.tensor([1.0, -2.0])).numpy(), [3.0, -3.0])


# ---------------------------------------------------------------------- torch.optim.Muon

def _bf16(a):
    """float32 values rounded to bfloat16 (nearest even), as float32."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32).reshape(np.shape(a))


def _ns_reference(g, steps, a=3.4445, b=-4.775, c=2.0315, eps=1e-7):
    x = _bf16(g)
    tall = g.shape[0] > g.shape[1]
    if tall:
        x = x.T
    norm = _bf16(np.float32(np.sqrt(np.sum(x.astype(np.float64) ** 2))))
    x = _bf16(x / max(norm, np.float32(eps)))
    for _ in range(steps):
        gram = _bf16(x @ x.T)
        upd = _bf16(np.float32(b) * gram + np.float32(c) * (gram @ gram))
        x = _bf16(np.float32(a) * x + upd @ x)
    return x.T if tall else x


def test_muon_newton_schulz_orthogonalizes_in_bfloat16():
    from gpujit.optim.muon import _zeropower_via_newtonschulz
    rng = np.random.default_rng(0)
    for shape in [(6, 4), (4, 6), (12, 12)]:
        g = rng.standard_normal(shape).astype(np.float32)
        out = _zeropower_via_newtonschulz(torch.from_numpy(g), (3.4445, -4.775, 2.0315), 5,
                                          1e-7)
        assert out.dtype == torch.bfloat16 and tuple(out.shape) == shape
        o = out.float().numpy()
        ref = _ns_reference(g, 5)
        # (within one bfloat16 ulp of a float32-accumulated reference)
        np.testing.assert_allclose(o, ref, rtol=2 ** -7, atol=1e-6)
        s = np.linalg.svd(o.astype(np.float64), compute_uv=False)
        assert s.min() > 0.3 and s.max() < 1.6, s        # U S' V^T, S' near 1
    with pytest.raises(ValueError, match="2D matrix"):
        _zeropower_via_newtonschulz(torch.ones(3), (1.0, 1.0, 1.0), 1, 1e-7)
    with pytest.raises(ValueError, match="less than 100"):
        _zeropower_via_newtonschulz(torch.ones(2, 2), (1.0, 1.0, 1.0), 100, 1e-7)
    with pytest.raises(ValueError, match="exactly 3"):
        _zeropower_via_newtonschulz(torch.ones(2, 2), (1.0, 1.0), 1, 1e-7)


def _muon_run(T, steps=4, shape=(6, 4), **kw):
    T.manual_seed(0)
    lin = T.nn.Linear(shape[1], shape[0], bias=False)
    opt = T.optim.Muon(lin.parameters(), lr=0.02, **kw)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, shape[1])).astype(np.float32)
    y = rng.standard_normal((8, shape[0])).astype(np.float32)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((lin(T.from_numpy(x)) - T.from_numpy(y)) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return lin.weight.detach().numpy().copy(), losses, opt


def test_muon_trains_and_checks_its_arguments():
    w, losses, opt = _muon_run(torch, steps=12)
    assert losses[-1] < losses[0]
    st = opt.state_dict()
    assert list(st["state"][0]) == ["momentum_buffer"]
    assert st["param_groups"][0]["ns_steps"] == 5 and st["param_groups"][0]["nesterov"]
    assert st["state"][0]["momentum_buffer"].dtype == torch.float32
    # one step by hand: buffer, nesterov update, NS, decoupled decay, shape-adjusted lr
    torch.manual_seed(3)
    p = torch.nn.Parameter(torch.randn(6, 4))
    p0 = p.detach().numpy().copy()
    g = np.random.default_rng(2).standard_normal((6, 4)).astype(np.float32)
    p.grad = torch.from_numpy(g.copy())
    torch.optim.Muon([p], lr=0.1, weight_decay=0.2, momentum=0.9).step()
    buf = np.float32(0.1) * g                       # lerp(0, g, 1 - 0.9)
    upd = g + np.float32(0.9) * (buf - g)           # g.lerp(buf, 0.9)
    o = _ns_reference(upd, 5)
    expect = p0 * np.float32(1 - 0.1 * 0.2) - np.float32(0.1 * np.sqrt(6 / 4)) * o
    np.testing.assert_allclose(p.detach().numpy(), expect, rtol=1e-2, atol=2e-3)
    bad = torch.nn.Parameter(torch.zeros(2, 2))
    for kw, msg in [({"lr": -1.0}, "Learning rate should be >= 0 but is: -1.0"),
                    ({"momentum": -1.0}, "momentum should be >= 0"),
                    ({"weight_decay": -1.0}, "weight decay should be >= 0"),
                    ({"adjust_lr_fn": "x"}, "Adjust learning rate function x is not")]:
        with pytest.raises(ValueError, match=msg):
            torch.optim.Muon([bad], **kw)
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters whereas we found "
                                         r"a parameter with size: gpujit.Size\(\[2\]\)"):
        torch.optim.Muon([torch.nn.Parameter(torch.zeros(2))])


@pytest.mark.parametrize("kw", [{}, {"nesterov": False}, {"adjust_lr_fn": "match_rms_adamw"},
                                {"shape": (4, 6)}, {"shape": (16, 16), "steps": 3},
                                {"weight_decay": 0.0, "momentum": 0.0}])
def test_muon_matches_torch_bit_for_bit(kw):
    real = pytest.importorskip("torch")
    if not hasattr(real.optim, "Muon"):
        pytest.skip("this torch has no optim.Muon")
    if real.backends.cpu.get_cpu_capability() != "AVX512":
        # (torch's matmuls and sums on an AVX2 CPU give other last bits)
        pytest.skip("torch's bits here are its AVX512 kernels' (this CPU runs its AVX2 code)")
    a, la, _ = _muon_run(real, **kw)
    b, lb, _ = _muon_run(torch, **kw)
    np.testing.assert_array_equal(b, a)
    assert la == lb


# ---------------------------------------------------------------------- torch.memory_format

def test_memory_formats_are_torch_memory_format_objects():
    import copy
    import pickle
    fmts = [torch.contiguous_format, torch.preserve_format, torch.channels_last,
            torch.channels_last_3d]
    assert [repr(f) for f in fmts] == ["torch.contiguous_format", "torch.preserve_format",
                                       "torch.channels_last", "torch.channels_last_3d"]
    assert [str(f) for f in fmts] == [repr(f) for f in fmts]
    for f in fmts:
        assert isinstance(f, torch.memory_format)
        assert pickle.loads(pickle.dumps(f)) is f
        assert copy.deepcopy(f) is f and copy.copy(f) is f
    assert f"{torch.channels_last}" == "torch.channels_last"
    x = torch.ones(2, 3, 4, 5).to(memory_format=torch.channels_last)
    assert x.stride() == (60, 1, 15, 3)
    assert x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last "
                                           "format"):
        torch.ones(2, 3).to(memory_format=torch.channels_last)

    def f(x):
        return x.contiguous(memory_format=torch.channels_last) * 2.0
    s = torch.jit.script(f)
    assert "memory_format=2" in s.code
    np.testing.assert_array_equal(_np(s(x)), _np(x) * 2.0)
    assert s(torch.ones(2, 3, 4, 5)).stride() == (60, 1, 15, 3)
    t = torch.jit.trace(f, torch.ones(2, 3, 4, 5))
    assert "memory_format=2" in t.code


class _Attrs(nn.Module):
    def __init__(self):
        super().__init__()
        self.dt = torch.float16
        self.dev = torch.device("cpu")
        self.d: Dict[str, torch.Tensor] = {"a": torch.ones(2)}
        self.l: List[int] = [1, 2]
        self.t: Tuple[int, float] = (1, 2.5)
        self.o: Optional[torch.Tensor] = None
        self.s = "hi"
        self.c = 1 + 2j

    def forward(self, x):
        y = x.to(self.dt).float() + self.d["a"] * self.l[1] * self.t[1]
        if self.o is not None:
            y = y + self.o
        return y.to(self.dev), self.s, self.c


def test_attribute_values_in_pytorchs_format():
    m = torch.jit.script(_Attrs())
    data = _save(m)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        pkl = z.read("archive/data.pkl")
    assert b"builtins\ncomplex" in pkl and b"__builtin__" not in pkl
    out = _load(data)(torch.ones(2))
    np.testing.assert_array_equal(_np(out[0]), [6.0, 6.0])
    assert out[1:] == ("hi", 1 + 2j)
    real = pytest.importorskip("torch")
    t = real.jit.load(io.BytesIO(data))(real.ones(2))
    np.testing.assert_array_equal(t[0].numpy(), [6.0, 6.0])
    assert t[1:] == ("hi", 1 + 2j)


class _WithGen(nn.Module):
    def __init__(self):
        super().__init__()
        self.gen = torch.Generator().manual_seed(3)

    def forward(self, x):
        return x + torch.rand(x.shape, generator=self.gen)


class _WithSet(nn.Module):
    def __init__(self):
        super().__init__()
        self.tags = {"a", "b"}

    def forward(self, x):
        return x * float(len(self.tags))


@pytest.mark.no_save_roundtrip
def test_values_pytorchs_format_has_no_spelling_for():
    g = torch.jit.script(_WithGen())
    for fmt in (None, "pytorch", "gpujit"):
        kw = {} if fmt is None else {"format": fmt}
        with pytest.raises(RuntimeError, match="Unknown IValue type for pickling: Generator"):
            _save(g, **kw)
    s = torch.jit.script(_WithSet())
    data = _save(s)                                   # (gpujit's format keeps a set)
    assert "archive/manifest.json" in _names(data)
    np.testing.assert_array_equal(_np(_load(data)(torch.ones(2))), [2.0, 2.0])
    with pytest.raises(torch.jit.ArchiveError, match="PyTorch's archive format"):
        _save(s, format="pytorch")


# ---------------------------------------------------------------------- `with obj:` in .code

@torch.jit.script
class _Scale:
    def __init__(self, k: float):
        self.k = k
        self.depth = 0

    def __enter__(self) -> float:
        self.depth += 1
        return self.k

    def __exit__(self, a: Any, b: Any, c: Any):
        self.depth -= 1


class _UsesWith(nn.Module):
    def forward(self, x):
        s = _Scale(2.0)
        with s as k:
            y = x * k
        with s:
            y = y + 1.0
        return y, s.depth


def test_with_over_an_object_prints_as_a_with_statement():
    m = torch.jit.script(_UsesWith())
    code = m.code
    assert "with s as k:" in code and "with s:" in code
    assert "__enter__" not in code and "__exit__" not in code and "prim.Enter" not in code
    x = torch.tensor([1.0, 2.0])
    for fmt in (None, "gpujit"):
        kw = {} if fmt is None else {"format": fmt}
        y, depth = _load(_save(m, **kw))(x)
        np.testing.assert_array_equal(_np(y), [3.0, 5.0])
        assert depth == 0
    real = pytest.importorskip("torch")
    y, depth = real.jit.load(io.BytesIO(_save(m)))(real.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(y.numpy(), [3.0, 5.0])
    assert depth == 0


def test_torchscripts_grad_mode_objects_load_as_no_grad_regions():
    class G(nn.Module):
        def forward(self, x):
            with torch.no_grad():
                y = x * 2.0
            with torch.enable_grad():
                z = x * 3.0
            return y, z
    m = torch.jit.script(G())
    data = _save(m)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        src = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".py"))
    assert "_0 = __torch__.torch.autograd.grad_mode.no_grad.__new__(" in src and \
        "with _0:" in src and "with _2:" in src
    loaded = _load(data)
    # gpujit's regions again (the graph's prim::Enter nodes name them); the code prints
    # them as TorchScript does, the objects made and entered
    assert _region_names(loaded.graph) == ["no_grad", "enable_grad"]
    assert "_2 = __torch__.torch.autograd.grad_mode.enable_grad.__new__(" in loaded.code
    x = torch.ones(2, requires_grad=True)
    y, z = loaded(x)
    assert not y.requires_grad and z.requires_grad
    # saved again, loaded again: still the regions (no object form creeps in)
    again = _load(_save(loaded))
    assert _region_names(again.graph) == ["no_grad", "enable_grad"]


def _region_names(g):
    return [n.attrs.get("name") for n in g.walk() if n.kind == "prim::Enter"]


def test_a_method_with_a_tensor_like_passes_the_method_while_autograd_records():
    # (a live leaf that requires grad puts the autograd layer between the entry point and
    # the handler: the method was lost there, and the handler got the function torch.add)
    import gc
    funcs = []

    class SeenLike:               # (a local type: the dispatch layer goes off with it)
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            funcs.append(func)
            return 1
    w = torch.ones(2, requires_grad=True)
    torch.ones(3) + SeenLike()
    torch.ones(3).add(SeenLike())
    torch.add(torch.ones(3), SeenLike())
    assert funcs == [torch.Tensor.add, torch.Tensor.add, torch.add]
    assert w.requires_grad
    del SeenLike
    gc.collect()


def test_an_int_reduction_for_F_losses_is_torchs_value_error():
    x, y = torch.rand(3).log(), torch.rand(3)
    with pytest.raises(ValueError, match="^1 is not a valid value for reduction$"):
        torch.nn.functional.kl_div(x, y, reduction=1)
    with pytest.raises(ValueError, match="^avg is not a valid value for reduction$"):
        torch.nn.functional.mse_loss(x, y, reduction="avg")


@torch.jit.interface
class _AddIface(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pass


class _AddOne(nn.Module):
    def forward(self, x):
        return x + 1.0


class _AddTwo(nn.Module):
    def forward(self, x):
        return x + 2.0


class _HoldsIface(nn.Module):
    impl: _AddIface

    def __init__(self):
        super().__init__()
        self.impl = _AddOne()

    def forward(self, x):
        return self.impl(x) * 2.0


def test_an_interface_typed_submodule_stays_an_interface_in_pytorchs_format():
    m = torch.jit.script(_HoldsIface())
    data = _save(m)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        src = z.read("archive/code/__torch__/test_lead_s46.py").decode()
    assert "  impl : __torch__.test_lead_s46._AddIface\n" in src
    loaded = _load(data)
    loaded.impl = torch.jit.script(_AddTwo())          # any module implementing it
    np.testing.assert_array_equal(_np(loaded(torch.ones(2))), [6.0, 6.0])
    real = pytest.importorskip("torch")
    t = real.jit.load(io.BytesIO(data))
    np.testing.assert_array_equal(t(real.ones(2)).numpy(), [4.0, 4.0])


def test_functions_of_a_compilation_unit_save_under_torch_names():
    cu = torch.jit.CompilationUnit("def twice(a):\n    return a + a\n\n"
                                   "def f(a):\n    return twice(a) * 3.0\n")
    data = _save(cu.f)
    assert all(">" not in n and "<" not in n for n in _names(data))
    np.testing.assert_array_equal(_np(_load(data)(torch.ones(2))), [6.0, 6.0])


def _tensor_facts(x: torch.Tensor) -> int:
    s = 0
    if x.is_cuda or x.is_cpu or x.is_leaf or x.is_nested or x.retains_grad:
        s += 1
    return s


def test_tensor_fact_ops_print_in_torchscripts_namespaces():
    s = torch.jit.script(_tensor_facts)
    code = s.code
    for spelled in ("ops.prim.is_cuda(x)", "ops.prim.is_cpu(x)", "torch.is_leaf(x)",
                    "ops.prim.is_nested(x)", "torch.retains_grad(x)"):
        assert spelled in code, spelled
    for fmt in (None, "gpujit"):
        kw = {} if fmt is None else {"format": fmt}
        assert _load(_save(s, **kw))(torch.ones(2)) == 1
    real = pytest.importorskip("torch")
    assert real.jit.load(io.BytesIO(_save(s)))(real.ones(2)) == 1


class _Autocasts(nn.Module):
    def forward(self, x, w):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = torch.mm(x, w)
        return y.float() + 1.0


def test_autocast_regions_in_pytorchs_format():
    m = torch.jit.script(_Autocasts())
    data = _save(m)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        src = z.read("archive/code/__torch__/test_lead_s46.py").decode()
        assert "archive/code/__torch__/torch/amp/autocast_mode.py" in z.namelist()
    assert '.__init__("cpu", 15, True, None, )' in src      # (bfloat16's ScalarType 15)
    loaded = _load(data)
    assert _region_names(loaded.graph) == ["autocast"]
    assert '_1 = (_0).__init__("cpu", 15, True, None, )\n  with _0:' in loaded.code
    rng = np.random.default_rng(0)
    x = rng.random((4, 4), dtype=np.float32)
    w = rng.random((4, 4), dtype=np.float32)
    want = _np(m(torch.from_numpy(x), torch.from_numpy(w)))
    np.testing.assert_array_equal(_np(loaded(torch.from_numpy(x), torch.from_numpy(w))), want)
    real = pytest.importorskip("torch")
    t = real.jit.load(io.BytesIO(data))
    np.testing.assert_array_equal(t(real.from_numpy(x), real.from_numpy(w)).numpy(), want)


def _strict(x: torch.Tensor):
    with torch.jit.strict_fusion():
        y = x * 2.0 + 1.0
    return y


def test_strict_fusion_regions_in_pytorchs_format():
    s = torch.jit.script(_strict)
    data = _save(s)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "archive/code/__torch__/torch/jit.py" in z.namelist()
        assert "_0 = __torch__.torch.jit.strict_fusion.__new__(" in \
            z.read("archive/code/__torch__.py").decode()
    loaded = _load(data)
    assert _region_names(loaded.graph) == ["strict_fusion"]      # gpujit's region again
    x = torch.tensor([1.0, 2.0])
    np.testing.assert_array_equal(_np(loaded(x)), [3.0, 5.0])
    real = pytest.importorskip("torch")
    t = real.jit.load(io.BytesIO(data))
    np.testing.assert_array_equal(t(real.tensor([1.0, 2.0])).numpy(), [3.0, 5.0])
