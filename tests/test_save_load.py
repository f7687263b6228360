"""gpujit.save / gpujit.load: torch.save's zipfile format, both ways."""
import io
import pickle
import zipfile

import numpy as np
import pytest

import gpujit


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def _roundtrip(obj, **load_args):
    buf = io.BytesIO()
    gpujit.save(obj, buf)
    buf.seek(0)
    return gpujit.load(buf, **load_args)


def test_state_dict_roundtrip_gives_the_same_model(tmp_path):
    m = _mlp(gpujit)
    path = tmp_path / "model.pt"
    gpujit.save(m.state_dict(), path)
    m2 = _mlp(gpujit)
    m2.load_state_dict(gpujit.load(path))
    x = gpujit.rand(5, 3)
    np.testing.assert_array_equal(m2(x).detach().numpy(), m(x).detach().numpy())
    with zipfile.ZipFile(path) as z:          # torch's layout: one folder named as the file
        names = z.namelist()
    assert "model/data.pkl" in names and "model/byteorder" in names
    assert "model/data/0" in names


def test_values_dtypes_and_plain_python_objects():
    obj = {"epoch": 3, "lr": 1e-3, "name": "run", "flags": [True, None], "t": (1, 2.5),
           "s": {1, 2}, "dtype": gpujit.float16, "dev": gpujit.device("cpu"),
           "i": gpujit.tensor([1, -2, 3]), "b": gpujit.tensor([True, False]),
           "h": gpujit.tensor([0.5, 1.5], dtype=gpujit.float16),
           "u": gpujit.tensor([255], dtype=gpujit.uint8), "z": gpujit.zeros(0, 3),
           "scalar": gpujit.tensor(2.5, dtype=gpujit.float64)}
    r = _roundtrip(obj)
    for k in ("epoch", "lr", "name", "flags", "t", "s"):
        assert r[k] == obj[k]
    assert r["dtype"] is gpujit.float16 and r["dev"] == gpujit.device("cpu")
    for k in ("i", "b", "h", "u", "z", "scalar"):
        assert r[k].dtype == obj[k].dtype and r[k].shape == obj[k].shape
        np.testing.assert_array_equal(r[k].numpy(), obj[k].numpy())


def test_views_share_their_storage_after_loading():
    base = gpujit.arange(12.).reshape(3, 4)
    a, b, c = _roundtrip((base, base[1:, 1::2], base.t()))
    assert b.storage_offset() == 5 and b.stride() == (4, 2) and c.stride() == (1, 4)
    np.testing.assert_array_equal(b.numpy(), base[1:, 1::2].numpy())
    a[1, 1] = 100.0
    assert b[0, 0].item() == 100.0 and c[1, 1].item() == 100.0


def test_parameters_and_requires_grad():
    p = gpujit.nn.Parameter(gpujit.ones(2))
    q = gpujit.ones(3, requires_grad=True)
    rp, rq, rt = _roundtrip([p, q, gpujit.ones(1)])
    assert isinstance(rp, gpujit.nn.Parameter) and rp.requires_grad
    assert rq.requires_grad and rq.is_leaf and not rt.requires_grad


def test_optimizer_state_roundtrip():
    m = _mlp(gpujit)
    opt = gpujit.optim.Adam(m.parameters(), lr=0.01)
    m(gpujit.rand(4, 3)).sum().backward()
    opt.step()
    opt2 = gpujit.optim.Adam(_mlp(gpujit).parameters(), lr=0.5)
    opt2.load_state_dict(_roundtrip(opt.state_dict()))
    assert opt2.param_groups[0]["lr"] == 0.01
    s, s2 = opt.state_dict()["state"][0], opt2.state_dict()["state"][0]
    np.testing.assert_array_equal(s2["exp_avg"].numpy(), s["exp_avg"].numpy())


def test_weights_only_refuses_other_globals():
    class Thing:
        pass
    buf = io.BytesIO()
    gpujit.save({"thing": Thing.__name__, "n": np.float64(1.0)}, buf)
    buf.seek(0)
    # (torch 2.13's words: the global, and "Re-running `torch.load` with `weights_only` set
    # to `False` will likely succeed")
    with pytest.raises(pickle.UnpicklingError, match="(?s)`weights_only` set to `False`.*"
                                                     "GLOBAL numpy"):
        gpujit.load(buf)
    buf.seek(0)
    assert gpujit.load(buf, weights_only=False)["n"] == 1.0


def test_cuda_location_without_a_gpu_and_map_location():
    buf = io.BytesIO()
    gpujit.save({"w": gpujit.ones(2)}, buf)
    # rewrite the storage's location tag as a CUDA one, as a checkpoint from a GPU has
    z_in = zipfile.ZipFile(io.BytesIO(bytes(buf.getvalue())))
    pkl = z_in.read("archive/data.pkl").replace(b"X\x03\x00\x00\x00cpu",
                                                b"X\x06\x00\x00\x00cuda:0")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n in z_in.namelist():
            z.writestr(n, pkl if n.endswith("data.pkl") else z_in.read(n))
    if not gpujit.cuda.is_available():
        out.seek(0)
        with pytest.raises(RuntimeError, match="map_location=torch.device\\('cpu'\\)"):
            gpujit.load(out)
    for ml in ("cpu", gpujit.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s):
        out.seek(0)
        w = gpujit.load(out, map_location=ml)["w"]
        assert w.device == gpujit.device("cpu")
        np.testing.assert_array_equal(w.numpy(), [1.0, 1.0])


def test_not_a_zip_and_truncated_files():
    # (no zip: the legacy format's reader, whose first pickle is no magic number; s49)
    with pytest.raises(RuntimeError, match="Invalid magic number; corrupt file"):
        gpujit.load(io.BytesIO(b"\x80\x02}q\x00."))
    buf = io.BytesIO()
    gpujit.save({"w": gpujit.ones(1000)}, buf)
    z_in = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n in z_in.namelist():
            z.writestr(n, z_in.read(n)[:100] if n.endswith("data/0") else z_in.read(n))
    out.seek(0)
    with pytest.raises(RuntimeError, match="truncated"):
        gpujit.load(out)


def test_a_jit_archive_loads_through_jit_load(tmp_path):
    m = gpujit.jit.script(_mlp(gpujit))
    path = tmp_path / "scripted.pt"
    gpujit.jit.save(m, path)
    # as PyTorch 2.6+: only with weights_only=False (the default refuses the archive)
    with pytest.warns(UserWarning, match="gpujit.jit.load"), \
            pytest.raises(RuntimeError, match="weights_only=True"):
        gpujit.load(path)
    with pytest.warns(UserWarning, match="gpujit.jit.load"):
        m2 = gpujit.load(path, weights_only=False)
    x = gpujit.rand(2, 3)
    np.testing.assert_allclose(m2(x).detach().numpy(), m(x).detach().numpy())


def test_files_move_between_gpujit_and_torch(tmp_path):
    torch = pytest.importorskip("torch")
    m = _mlp(gpujit)
    base = gpujit.arange(12.).reshape(3, 4)
    path = tmp_path / "g.pt"
    gpujit.save({"sd": m.state_dict(), "views": (base, base.t()), "dt": gpujit.int32,
                 "p": gpujit.nn.Parameter(gpujit.ones(2)), "h": gpujit.ones(2).half()}, path)
    t = torch.load(path)                      # torch's default: weights_only=True
    tm = _mlp(torch)
    tm.load_state_dict(t["sd"])
    x = gpujit.rand(5, 3)
    np.testing.assert_allclose(tm(torch.from_numpy(x.numpy())).detach().numpy(),
                               m(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert t["dt"] is torch.int32 and isinstance(t["p"], torch.nn.Parameter)
    assert t["h"].dtype is torch.float16 and t["views"][1].stride() == (1, 4)
    t["views"][0][0, 1] = 9.0
    assert t["views"][1][1, 0].item() == 9.0  # torch sees one storage too

    tpath = tmp_path / "t.pt"
    torch.save({"sd": tm.state_dict(), "sl": torch.arange(10.)[2:8:2],
                "opt": torch.optim.SGD(tm.parameters(), lr=0.1).state_dict(),
                "size": torch.Size([2, 3]), "dt": torch.float64}, tpath)
    g = gpujit.load(tpath)
    m2 = _mlp(gpujit)
    m2.load_state_dict(g["sd"])
    np.testing.assert_array_equal(m2(x).detach().numpy(), m(x).detach().numpy())
    assert g["sl"].tolist() == [2.0, 4.0, 6.0] and g["sl"].stride() == (2,)
    assert g["sl"].storage_offset() == 2 and g["dt"] is gpujit.float64
    assert tuple(g["size"]) == (2, 3) and g["opt"]["param_groups"][0]["lr"] == 0.1


@pytest.mark.cuda
def test_cuda_tensors_save_and_load_on_their_device():
    x = gpujit.arange(6., device="cuda").reshape(2, 3)
    r = _roundtrip({"x": x, "t": x.t()})
    assert r["x"].device == x.device and r["t"].stride() == (1, 3)
    np.testing.assert_array_equal(r["t"].cpu().numpy(), x.t().cpu().numpy())
    c = _roundtrip({"x": x}, map_location="cpu")["x"]
    assert c.device == gpujit.device("cpu")
    np.testing.assert_array_equal(c.numpy(), x.cpu().numpy())
