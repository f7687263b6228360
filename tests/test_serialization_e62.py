"""Session 62 (e): bare storages through gpujit.save / gpujit.load and torch.save's bytes,
channels_last tensors' storages, map_location='meta', deepcopy keeping views' sharing.
Expected values are torch 2.13's (written down; torch is not imported)."""
import copy
import io

import numpy as np
import pytest

import gpujit

pytestmark = pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")


def _round(obj, **kw):
    b = io.BytesIO()
    gpujit.save(obj, b, **kw)
    b.seek(0)
    return gpujit.load(b)


def _pickle_of(data):
    import zipfile
    z = zipfile.ZipFile(io.BytesIO(data))
    return z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))


# torch.save(torch.arange(4, dtype=torch.int16).untyped_storage(), b)'s data.pkl (torch 2.13)
_TORCH_UNTYPED_PKL = (b"\x80\x02(X\x07\x00\x00\x00storageq\x00ctorch.storage\nUntypedStorage\n"
                      b"q\x01X\x01\x00\x00\x000q\x02X\x03\x00\x00\x00cpuq\x03K\x08tq\x04Q.")


def _torch_file(pkl, storages):
    """A zip as torch.save writes it: data.pkl, then data/<key> records."""
    from gpujit.serialization.pickled import write_records
    b = io.BytesIO()
    recs = [("data.pkl", pkl), (".format_version", b"1"), (".storage_alignment", b"64"),
            ("byteorder", b"little")]
    recs += [(f"data/{k}", v) for k, v in storages.items()] + [("version", b"3\n")]
    write_records(b, "archive", recs)
    b.seek(0)
    return b


def test_torch_written_untyped_storage_loads_as_uint8_typed_storage():
    raw = np.arange(4, dtype="<i2").tobytes()
    s = gpujit.load(_torch_file(_TORCH_UNTYPED_PKL, {"0": raw}))
    assert isinstance(s, gpujit.TypedStorage)
    assert s.dtype is gpujit.uint8 and s.size() == 8
    assert s.tolist() == [0, 0, 1, 0, 2, 0, 3, 0]


def test_untyped_storage_written_as_torch_writes_it():
    x = gpujit.arange(4, dtype=gpujit.int16)
    b = io.BytesIO()
    gpujit.save(x.untyped_storage(), b)
    pkl = _pickle_of(b.getvalue())
    assert b"torch.storage\nUntypedStorage\n" in pkl and b"gpujit" not in pkl
    b.seek(0)
    s = gpujit.load(b)          # (weights_only default: a storage is allowed)
    assert s.dtype is gpujit.uint8 and s.tolist() == [0, 0, 1, 0, 2, 0, 3, 0]


@pytest.mark.parametrize("legacy", [False, True])
def test_typed_storages_round_trip(legacy):
    kw = {"_use_new_zipfile_serialization": not legacy}
    s = _round(gpujit.arange(4.).storage(), **kw)
    assert s.dtype is gpujit.float32 and s.tolist() == [0.0, 1.0, 2.0, 3.0]
    s = _round(gpujit.arange(3.).bfloat16().storage(), **kw)
    assert s.dtype is gpujit.bfloat16 and s.tolist() == [0.0, 1.0, 2.0]
    s = _round(gpujit.TypedStorage([1, 2, 3], dtype=gpujit.int32), **kw)
    assert s.dtype is gpujit.int32 and s.tolist() == [1, 2, 3]
    s = _round(gpujit.FloatStorage([1, 2]), **kw)
    assert s.dtype is gpujit.float32 and s.tolist() == [1.0, 2.0]
    # a storage slice: its own bytes
    s = _round(gpujit.arange(4, dtype=gpujit.uint8).untyped_storage()[1:3], **kw)
    assert s.tolist() == [1, 2]
    # a typed storage of a view: the whole storage (torch's: [0, 1, 2, 3])
    assert _round(gpujit.arange(4.)[1:].storage(), **kw).tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("legacy", [False, True])
def test_storage_saved_beside_its_tensors_keeps_sharing(legacy):
    kw = {"_use_new_zipfile_serialization": not legacy}
    x = gpujit.arange(4.)
    s, v = _round([x.storage(), x[1:]], **kw)
    s[2] = 50.0
    assert v.tolist() == [1.0, 50.0, 3.0]
    x = gpujit.arange(4, dtype=gpujit.uint8)
    r = _round({"s": x.untyped_storage(), "t": x}, **kw)
    r["s"][2] = 50
    assert r["t"].tolist() == [0, 1, 50, 3]


def test_bare_storage_file_holds_one_record_with_its_tensor():
    x = gpujit.arange(4.)
    b = io.BytesIO()
    gpujit.save({"s": x.storage(), "t": x}, b)
    import zipfile
    names = zipfile.ZipFile(io.BytesIO(b.getvalue())).namelist()
    assert sorted(n for n in names if "/data/" in n) == ["archive/data/0"]


def test_channels_last_tensor_saved_with_its_storage_layout():
    x = gpujit.arange(24.).reshape(1, 2, 3, 4).to(memory_format=gpujit.channels_last)
    b = io.BytesIO()
    gpujit.save({"a": x, "b": x[:, 1]}, b)
    b.seek(0)
    r = gpujit.load(b)
    assert r["a"].stride() == (24, 1, 8, 2) and r["b"].stride() == (24, 8, 2)
    assert r["b"].storage_offset() == 1
    np.testing.assert_array_equal(r["a"].numpy(), np.arange(24.).reshape(1, 2, 3, 4))
    r["a"][0, 1, 0, 0] = -1.0
    assert r["b"][0, 0, 0].item() == -1.0
    import zipfile
    z = zipfile.ZipFile(io.BytesIO(b.getvalue()))
    data = np.frombuffer(z.read("archive/data/0"), "<f4")
    # channels_last memory order: (n, h, w, c)
    np.testing.assert_array_equal(data, np.arange(24.).reshape(1, 2, 3, 4)
                                  .transpose(0, 2, 3, 1).reshape(-1))


def test_as_strided_of_channels_last_views_its_memory():
    x = gpujit.arange(24.).reshape(1, 2, 3, 4).to(memory_format=gpujit.channels_last)
    y = x.as_strided((2,), (1,), 1)
    y[0] = 100.0                # torch: element 1 of the memory is x[0, 0, 0, 1] ... 12
    assert x.flatten().tolist()[12] == 100.0


def test_map_location_meta():
    x = gpujit.arange(6.).view(2, 3).t()
    b = io.BytesIO()
    gpujit.save({"a": x, "p": gpujit.nn.Parameter(gpujit.ones(2))}, b)
    for ml in ("meta", {"cpu": "meta"}, gpujit.device("meta")):
        b.seek(0)
        r = gpujit.load(b, map_location=ml)
        assert r["a"].device.type == "meta" and r["a"].shape == (3, 2)
        assert r["a"].stride() == (1, 3)
        assert isinstance(r["p"], gpujit.nn.Parameter) and r["p"].is_meta


def test_deepcopy_keeps_views_sharing():
    x = gpujit.arange(6.).view(2, 3)
    d = copy.deepcopy({"a": x, "b": x.t()})
    d["a"][0, 1] = 9.0
    assert d["b"].tolist() == [[0.0, 3.0], [9.0, 4.0], [2.0, 5.0]]
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    y = gpujit.arange(6.)
    a, v = copy.deepcopy([y, y[2:]])
    assert v.storage_offset() == 2          # (torch 2.13: 2)
    a[3] = 9.0
    assert v.tolist() == [2.0, 9.0, 4.0, 5.0]
    bf = gpujit.arange(6.).bfloat16()
    a, v = copy.deepcopy([bf, bf[2:]])
    a[3] = 9.0
    assert v.tolist() == [2.0, 9.0, 4.0, 5.0] and v.dtype is gpujit.bfloat16


def test_deepcopy_of_parameters_and_alone():
    w = gpujit.nn.Parameter(gpujit.arange(6.))
    p, q = copy.deepcopy([w, w])
    assert p is q and isinstance(p, gpujit.nn.Parameter) and p.requires_grad
    t = gpujit.arange(3., requires_grad=True)
    c = copy.deepcopy(t)
    assert c.requires_grad and c.is_leaf and c.grad_fn is None
    c.detach()[0] = 5.0
    assert t.tolist() == [0.0, 1.0, 2.0]
    assert copy.deepcopy(gpujit.zeros(0, 3)).shape == (0, 3)


def test_save_into_a_missing_folder_names_it(tmp_path):
    with pytest.raises(RuntimeError, match=r"Parent directory .*nope does not exist\."):
        gpujit.save({"x": gpujit.ones(1)}, tmp_path / "nope" / "a.pt")


def test_storage_of_a_channels_last_tensor():
    # (was "ValueError: ndarray is not contiguous"; torch 2.13's values: memory order)
    x = gpujit.arange(24.).reshape(1, 2, 3, 4).to(memory_format=gpujit.channels_last)
    assert x.untyped_storage().nbytes() == 96
    assert x.storage().tolist()[:6] == [0.0, 12.0, 1.0, 13.0, 2.0, 14.0]
    x.storage()[1] = 100.0
    assert x[0, :, 0, 0].tolist() == [0.0, 100.0]
    s = _round({"s": x.untyped_storage()})["s"]
    assert s.size() == 96
    np.testing.assert_array_equal(np.frombuffer(bytes(s.tolist()), "<f4")[:3], [0, 100, 1])


def test_deepcopy_of_a_non_leaf_is_refused():
    x = gpujit.arange(3.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Only Tensors created explicitly by the user "
                                           r"\(graph leaves\) support the deepcopy protocol"):
        copy.deepcopy({"y": x * 2})
    with gpujit.no_grad():
        assert copy.deepcopy(x * 2).tolist() == [0.0, 2.0, 4.0]
    assert copy.deepcopy(x.detach()[1:]).tolist() == [1.0, 2.0]
