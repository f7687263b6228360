"""Modules PyTorch scripts import (session 21, second part): torch.utils.benchmark (Timer,
Measurement, Compare) and Tensor methods scripts call; each against torch where installed.

Deliberate differences (documented):
- Measurement.mean may differ from torch's in the last bit (NumPy's pairwise sum).
- Timer times Python statements only: language='c++' and collect_callgrind raise
  NotImplementedError (they need a PyTorch build).
- Compare of measurements without a description prints an empty column header (torch's
  render raises TypeError: object of type 'NoneType' has no len()).
"""
import os
import re

import numpy as np
import pytest

import gpujit


# ------------------------------------------------------------------ torch.utils.benchmark

_CASES = [("ops", "x+1", "10", 1, 3e-6, 0.01, 1), ("ops", "x*2", "10", 1, 5.5e-6, 0.2, 7),
          ("ops", "x+1", "100", 1, 1.2e-5, 0.05, 20), ("ops", "x*2", "100", 1, 9.1e-5, 0.002, 5),
          ("ops", "x+1", "10", 4, 2e-6, 0.3, 3), ("ops", "x*2", "100", 4, 4.4e-5, 0.01, 40),
          ("mm", "a@b", "big", 1, 2.2e-3, 0.05, 9)]


def _benchmark_text(bm):
    """Measurements of fixed times printed alone and in Compare tables."""
    rng = np.random.default_rng(1)
    ms = []
    for i, (label, sub, desc, threads, base, spread, n) in enumerate(_CASES):
        times = base * 100 * (1 + rng.normal(0, spread, size=n))
        spec = bm.TaskSpec(stmt=sub, setup="import torch" if i % 2 else "pass", label=label,
                           sub_label=sub, description=desc, num_threads=threads)
        ms.append(bm.Measurement(number_per_run=100, raw_times=list(times), task_spec=spec))
    out = [re.sub(r"<\S+ object at 0x[0-9a-f]+>", "<OBJ>", repr(m)) for m in ms]
    out += [(m.median, m.iqr, m.significant_figures, m.has_warnings, m.title, m.as_row_name)
            for m in ms]
    c = bm.Compare(ms)
    out.append(str(c))
    c.trim_significant_figures()
    out.append(str(c))
    c.colorize()
    out.append(str(c))
    c.colorize(rowwise=True)
    c.highlight_warnings()
    out.append(str(c))
    multi = bm.Measurement(number_per_run=10, raw_times=[1e-3, 2e-3], task_spec=bm.TaskSpec(
        stmt="a\nb", setup="x=1\ny=2", description="desc", sub_label="s"))
    out.append(re.sub(r"<\S+ object at 0x[0-9a-f]+>", "<OBJ>", repr(multi)))
    out.append([bm.select_unit(t) for t in (1e-9, 999e-9, 1e-3, 2.0)])
    out.append([bm.trim_sigfig(5.6789, 2), bm.trim_sigfig(123456, 3)])
    return out


def test_measurement_and_compare_print_as_torch():
    tbm = pytest.importorskip("torch.utils.benchmark")
    import gpujit.utils.benchmark as bm
    got, want = _benchmark_text(bm), _benchmark_text(tbm)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == w


def test_measurement_repr_shape_and_statistics():
    from gpujit.utils.benchmark import Measurement, TaskSpec
    times = [4e-6, 5e-6, 6e-6, 7e-6, 5.5e-6]
    m = Measurement(number_per_run=10, raw_times=[t * 10 for t in times],
                    task_spec=TaskSpec(stmt="x + 1", setup="pass", label="add",
                                       sub_label="small"))
    assert m.median == pytest.approx(np.quantile(times, 0.5))
    assert m.iqr == pytest.approx(np.quantile(times, 0.75) - np.quantile(times, 0.25))
    assert m.mean == pytest.approx(np.mean(times))
    lines = repr(m).splitlines()
    assert re.fullmatch(r"<gpujit\.utils\.benchmark\.common\.Measurement object at 0x[0-9a-f]+>",
                        lines[0])
    assert lines[1:5] == ["add: small", "  Median: 5.50 us", "  IQR:    1.00 us (5.00 to 6.00)",
                          "  5 measurements, 10 runs per measurement, 1 thread"]
    assert "WARNING: Interquartile range is 18.2% of the median" in lines[5]
    assert m.label == "add" and m.num_threads == 1      # the task spec's fields


def test_timer_runs_statements_with_globals_and_setup():
    from gpujit.utils import benchmark
    x = gpujit.ones(3)
    t = benchmark.Timer("y = x + z", setup="z = torch.ones(3)", globals={"x": x},
                        label="L", sub_label="S", description="D")
    m = t.timeit(20)
    assert m.number_per_run == 20 and len(m.times) == 1 and m.median > 0
    assert (m.label, m.sub_label, m.description, m.stmt, m.setup) == \
        ("L", "S", "D", "y = x + z", "z = torch.ones(3)")
    seen = []
    b = t.blocked_autorange(callback=lambda n, s: seen.append(n), min_run_time=0.02)
    assert sum(b.raw_times) >= 0.02 and seen and all(n == b.number_per_run for n in seen)
    a = benchmark.Timer("torch.ones(2)").adaptive_autorange(min_run_time=0.01,
                                                            max_run_time=0.3)
    assert len(a.times) >= 1
    out = str(benchmark.Compare([m, b]))
    assert out.startswith("[-") and "Times are in" in out
    plain = benchmark.Timer("x * 2", globals={"x": x}).timeit(5)     # no label/description
    lines = str(benchmark.Compare([plain])).splitlines()
    assert lines[0].startswith("[---") and lines[3].strip().startswith("x * 2  |")
    with pytest.raises(ValueError, match="only a `str` stmt is supported"):
        benchmark.Timer(stmt=lambda: 1)
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        benchmark.Timer("x", global_setup="int a;")
    with pytest.raises(NotImplementedError, match="See `Timer.blocked_autorange.`"):
        t.repeat()
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        benchmark.Compare([1])


# ------------------------------------------------------------------ Tensor methods

def _methods_script(lib):
    x = lib.tensor([1., -2., 0., float("nan"), -0.])
    out = {"angle": x.angle().tolist(), "angle_int": lib.tensor([1, -2]).angle().tolist(),
           "angle_dtypes": [str(lib.tensor([1, -2]).angle().dtype).split(".")[-1],
                            str(lib.angle(x.double()).dtype).split(".")[-1],
                            str(lib.tensor([True]).angle().dtype).split(".")[-1]],
           "identity": [x.conj() is x, x.conj_physical() is x, x.resolve_conj() is x,
                        x.resolve_neg() is x, x.real is x, lib.conj(x) is x,
                        lib.real(x) is x, x.conj_physical_() is x],
           "nz": [lib.tensor([[0, 1], [2, 0]]).nonzero_static(size=4).tolist(),
                  lib.tensor([0, 1, 1]).nonzero_static(size=1, fill_value=9).tolist(),
                  lib.nonzero_static(lib.tensor([0, 1, 1]), size=3).tolist(),
                  list(lib.tensor(5).nonzero_static(size=2).shape),
                  str(lib.tensor([0, 1]).nonzero_static(size=2).dtype).split(".")[-1]],
           "facts": [x.const_data_ptr() == x.data_ptr(), x.is_set_to(x), x.is_set_to(x[:]),
                     x.is_set_to(x[1:]), x.is_set_to(x.view(5, 1)), x.is_set_to(x.clone()),
                     x.is_distributed(), x.to_dense() is x,
                     str(x.to_dense(dtype=lib.float64).dtype).split(".")[-1]]}
    with pytest.warns(UserWarning, match="non-inplace resize_as is deprecated"):
        rs = lib.arange(6.).resize_as(lib.zeros(3, 2))
    out["resize_as"] = [list(rs.shape), rs.tolist()]
    m = lib.ones(2)
    r = m.module_load(lib.zeros(2))
    out["module_load"] = [m.tolist(), r.tolist(), r.requires_grad]
    y = lib.ones(2, requires_grad=True) * 2
    p = y.as_subclass(lib.nn.Parameter)
    out["as_subclass"] = [type(p).__name__, p.requires_grad, p.is_leaf, p.grad_fn is not None]
    a = lib.tensor([-1., 2.], requires_grad=True)
    a.angle().sum().backward()
    out["angle_grad"] = a.grad.tolist()
    errors = []
    for call in (lambda: x.imag, lambda: lib.imag(x),
                 lambda: lib.tensor([0, 1]).nonzero_static(size=-1),
                 lambda: lib.tensor([1]).nonzero_static(size=2.0),
                 lambda: x.is_set_to(3), lambda: x.as_subclass(int), lambda: x.reinforce(1),
                 lambda: x.lstsq(x), lambda: x.xpu(),
                 lambda: lib.arange(6.).resize_as(lib.zeros(2, 2))):
        try:
            call()
        except Exception as e:         # noqa: BLE001 (the error is the result compared)
            errors.append((type(e).__name__, str(e).split("\n")[0]))
    out["errors"] = errors
    return out


def test_tensor_methods_match_torch():
    torch = pytest.importorskip("torch")
    got, want = _methods_script(gpujit), _methods_script(torch)
    for key in want:
        if key in ("angle",):
            np.testing.assert_array_equal(got[key], want[key])
        else:
            assert got[key] == want[key], key


def test_as_subclass_keeps_autograd_and_volatile_warns():
    class Marked(gpujit.Tensor):
        pass
    x = gpujit.tensor([1., 2.], requires_grad=True)
    m = x.as_subclass(Marked)
    assert type(m) is Marked and m.requires_grad and m.data_ptr() == x.data_ptr()
    seen = []
    m.register_hook(lambda g: seen.append(g.tolist()))
    (m * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and seen == [[3.0, 3.0]]
    with pytest.warns(UserWarning, match="volatile was removed"):
        assert x.volatile is False
    with pytest.raises(RuntimeError, match="only available for CUDA tensors"):
        x.record_stream(None)


def test_complex_parts_and_nonzero_static_script_and_trace(tmp_path):
    import textwrap
    src = tmp_path / "m21_parts.py"
    src.write_text(textwrap.dedent("""
        import gpujit as torch

        def f(x):
            return x.angle() + x.conj() + torch.real(x) + x.nonzero_static(size=2).sum()
    """))
    import importlib.util
    spec = importlib.util.spec_from_file_location("m21_parts", src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    s = gpujit.jit.script(mod.f)
    text = str(s.graph)
    assert "aten::angle" in text and "aten::conj" in text and "aten::nonzero_static" in text
    x = gpujit.tensor([-1., 2.])
    np.testing.assert_allclose(s(x).numpy(), mod.f(x).numpy())
    np.testing.assert_allclose(s(x).numpy(), [np.pi - 2 + 1, 4 + 1], rtol=1e-6)
    t = gpujit.jit.trace(mod.f, x)
    np.testing.assert_allclose(t(gpujit.tensor([3., -4.])).numpy(),
                               mod.f(gpujit.tensor([3., -4.])).numpy())


# ------------------------------------------------------------------ torch.utils.dlpack

def test_dlpack_capsules_round_trip_once_as_torch():
    from gpujit.utils import dlpack
    x = gpujit.arange(3.)
    cap = dlpack.to_dlpack(x)
    y = dlpack.from_dlpack(cap)          # a legacy capsule (gpujit refused it before)
    assert y.tolist() == [0.0, 1.0, 2.0] and y.data_ptr() == x.data_ptr()
    with pytest.raises(RuntimeError, match="capsules can be consumed only once"):
        dlpack.from_dlpack(cap)
    a = np.arange(4, dtype=np.int32)
    shared, copied = gpujit.from_dlpack(a), gpujit.from_dlpack(a, copy=True)
    a[0] = 9
    assert shared.tolist() == [9, 1, 2, 3] and copied.tolist() == [0, 1, 2, 3]
    assert x.__dlpack_device__() == (dlpack.DLDeviceType.kDLCPU, 0)
    assert gpujit.to_dlpack is dlpack.to_dlpack
    torch = pytest.importorskip("torch")
    assert dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(torch.arange(2.))).tolist() == \
        [0.0, 1.0]
    assert torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(gpujit.ones(2))).tolist() == \
        [1.0, 1.0]
    assert {m.name: int(m) for m in dlpack.DLDeviceType} == \
        {m.name: int(m) for m in torch.utils.dlpack.DLDeviceType}


# ------------------------------------------------------------------ nn.utils.memory_format

def test_convert_conv_weight_memory_format():
    nn = gpujit.nn
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.ConvTranspose2d(4, 2, 2),
                                                        nn.Conv3d(2, 2, 1)), nn.Linear(2, 2))
    x = gpujit.randn(1, 3, 5, 5)
    before = m[0](x).detach().numpy()
    assert nn.utils.convert_conv2d_weight_memory_format(m, gpujit.channels_last) is m
    # torch's strides: the 2-d convolutions' weights channels-last, the 3-d one untouched
    assert m[0].weight.stride() == (27, 1, 9, 3) and m[1][0].weight.stride() == (8, 1, 4, 2)
    assert m[1][1].weight.stride() == (2, 1, 1, 1, 1)
    assert type(m[0].weight) is nn.Parameter and m[0].weight.requires_grad
    np.testing.assert_allclose(m[0](x).detach().numpy(), before, rtol=1e-5, atol=1e-6)
    from gpujit.nn.utils.memory_format import convert_conv3d_weight_memory_format
    convert_conv3d_weight_memory_format(m, gpujit.channels_last_3d)
    assert m[1][1].weight.stride() == (2, 1, 2, 2, 2)


# ------------------------------------------------------------------ geqrf / orgqr / ormqr

def _householder_script(lib):
    rng = np.random.default_rng(0)
    out = []
    for shape in [(4, 3), (2, 5, 2), (3, 3)]:
        A = lib.tensor(rng.standard_normal(shape))
        a, tau = lib.geqrf(A)
        q = lib.linalg.householder_product(a, tau)
        out += [a.numpy(), tau.numpy(), q.numpy(), lib.orgqr(a, tau).numpy(),
                A.geqrf()[0].numpy()]
        C = lib.tensor(rng.standard_normal(shape[:-2] + (shape[-2], 2)))
        D = lib.tensor(rng.standard_normal(shape[:-2] + (2, shape[-2])))
        out += [lib.ormqr(a, tau, C).numpy(), lib.ormqr(a, tau, C, transpose=True).numpy(),
                a.ormqr(tau, D, False, True).numpy()]
        ag = a.detach().clone().requires_grad_(True)
        tg = tau[..., :-1].detach().clone().requires_grad_(True)
        W = lib.tensor(rng.standard_normal(shape))
        (lib.linalg.householder_product(ag, tg) * W).sum().backward()
        out += [ag.grad.numpy(), tg.grad.numpy()]
        ag2 = a.detach().clone().requires_grad_(True)
        tg2 = tau.detach().clone().requires_grad_(True)
        C2 = C.clone().requires_grad_(True)
        (lib.ormqr(ag2, tg2, C2, transpose=True) ** 2).sum().backward()
        out += [ag2.grad.numpy(), tg2.grad.numpy(), C2.grad.numpy()]
    errors = []
    for f in (lambda: lib.geqrf(lib.ones(3)),
              lambda: lib.linalg.householder_product(lib.ones(2, 3), lib.ones(2)),
              lambda: lib.linalg.householder_product(lib.ones(3, 2), lib.ones(1, 2)),
              lambda: lib.ormqr(lib.ones(3, 2), lib.ones(2), lib.ones(4, 3)),
              lambda: lib.geqrf(lib.ones(3, 2, requires_grad=True))[0].sum().backward()):
        try:
            f()
        except Exception as e:         # noqa: BLE001 (the error is the result compared)
            errors.append((type(e).__name__, str(e)))
    return out, errors


def test_householder_ops_match_torch():
    torch = pytest.importorskip("torch")
    (got, gerr), (want, werr) = _householder_script(gpujit), _householder_script(torch)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-10, err_msg=str(i))
    assert gerr == werr


# ------------------------------------------------------------------ torch.hub downloads

def test_hub_load_state_dict_from_url_caches_and_checks_hash(tmp_path, monkeypatch, capsys):
    import hashlib
    import shutil
    import zipfile
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    assert gpujit.hub.get_dir() == str(tmp_path / "home" / "hub")
    src = tmp_path / "src"
    src.mkdir()
    gpujit.save({"w": gpujit.arange(4.), "b": gpujit.ones(2)}, str(src / "net.pth"))
    digest = hashlib.sha256((src / "net.pth").read_bytes()).hexdigest()
    shutil.copy(src / "net.pth", src / f"net-{digest[:8]}.pth")
    shutil.copy(src / "net.pth", src / "net-deadbeef.pth")
    url = (src / "net.pth").as_uri()
    sd = gpujit.hub.load_state_dict_from_url(url, progress=False)
    cache = tmp_path / "home" / "hub" / "checkpoints"
    assert sd["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and os.listdir(cache) == ["net.pth"]
    assert f'Downloading: "{url}" to {cache / "net.pth"}' in capsys.readouterr().out
    (src / "net.pth").unlink()                     # the second call reads the cache
    assert sorted(gpujit.utils.model_zoo.load_url(url)) == ["b", "w"]
    ok = gpujit.hub.load_state_dict_from_url((src / f"net-{digest[:8]}.pth").as_uri(),
                                             check_hash=True)
    assert sorted(ok) == ["b", "w"]
    with pytest.raises(RuntimeError, match='invalid hash value \\(expected "deadbeef"'):
        gpujit.hub.load_state_dict_from_url((src / "net-deadbeef.pth").as_uri(),
                                            check_hash=True)
    assert sorted(os.listdir(cache)) == ["net-" + digest[:8] + ".pth", "net.pth"]
    with zipfile.ZipFile(src / "old.zip", "w") as zf:      # the format before PyTorch 1.6
        zf.write(cache / "net.pth", "inner.pth")
    with pytest.warns(FutureWarning, match="Falling back to the old format < 1.6"):
        old = gpujit.hub.load_state_dict_from_url((src / "old.zip").as_uri())
    assert sorted(old) == ["b", "w"]
    with pytest.raises(NotImplementedError, match="hubconf.py"):
        gpujit.hub.load("pytorch/vision", "resnet18")
