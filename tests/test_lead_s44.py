"""Session 44 (lead): scripted F.hardtanh's bounds check, torch.functional,
torch.torch_version / TorchVersion, torch.quasirandom.SobolEngine, storages."""
import pytest

import gpujit
import gpujit as torch
from gpujit.torch_version import TorchVersion, _Version, InvalidVersion

F = torch.nn.functional


# ------------------------------------------------------------------ F.hardtanh in scripts

def _hardtanh_vars(x, lo: float, hi: float):
    return F.hardtanh(x, lo, hi)


def _hardtanh_consts(x):
    return F.hardtanh(x, 2.0, 1.0)


def _hardtanh_kw(x, hi: float):
    return F.hardtanh(x, max_val=hi)


def test_scripted_hardtanh_checks_its_bounds_as_torch():
    x = torch.tensor([-3.0, 0.5, 3.0])
    s = torch.jit.script(_hardtanh_vars)
    assert s(x, -1.0, 1.0).tolist() == [-1.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        s(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        torch.jit.script(_hardtanh_consts)(x)
    k = torch.jit.script(_hardtanh_kw)
    assert k(x, 2.0).tolist() == [-1.0, 0.5, 2.0]
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        k(x, -2.0)        # (default min_val -1 > -2)
    # (F.hardtanh's own check, in the body torch 2.13 compiles: the graph calls it)
    assert "RaiseException" in str(s.inlined_graph)


def test_scripted_hardtanh_modules_keep_constant_bounds_without_a_check():
    m = torch.jit.script(torch.nn.Sequential(torch.nn.ReLU6(), torch.nn.Hardtanh(-2.0, 2.0)))
    x = torch.tensor([-3.0, 0.5, 7.0])
    assert m(x).tolist() == [0.0, 0.5, 2.0]
    assert "RaiseException" not in str(m.graph_for(x))


# ------------------------------------------------------------------ torch.functional

def test_torch_functional_module_holds_the_top_level_functions():
    import gpujit.functional as TF
    from gpujit.functional import einsum, split
    assert split is torch.split and einsum is torch.einsum
    for name in ("atleast_1d", "broadcast_tensors", "cdist", "norm", "meshgrid", "stft",
                 "tensordot", "unique", "unravel_index", "svd_lowrank"):
        assert getattr(TF, name) is getattr(torch, name)
    assert gpujit.functional is TF
    with pytest.raises(AttributeError):
        TF.not_a_function


# ------------------------------------------------------------------ TorchVersion

def test_version_is_a_torch_version_comparing_as_versions():
    v = torch.__version__
    # (session 45: the PyTorch API version gpujit follows, gpujit's own as the local label)
    assert isinstance(v, TorchVersion) and isinstance(v, str) and v == "2.13.0+gpujit.0.1.0"
    assert v >= "2.0" and v >= "2.13" and v < "2.14" and v > (2, 12) and v <= (2, 13, 1)
    assert torch.version.__version__ is v and torch.version.gpujit_version == "0.1.0"
    t = TorchVersion("2.13.0+cpu")
    assert t < "2.14" and t > (2, 13) and t != "2.13.0" and t > "2.9"   # not string order
    assert not t == (2, 13, 0)
    assert TorchVersion("1.10") > "1.9"
    # not a version: string comparison, as torch
    assert TorchVersion("parrot") < "q" and not TorchVersion("1.0") > "xyz"
    assert hash(t) == hash("2.13.0+cpu")
    assert {t: 1}["2.13.0+cpu"] == 1


_VERSIONS = ["1.0", "1.0.0", "1!0.5", "1.0a1", "1.0a2", "1.0b1", "1.0rc1", "1.0c2", "1.0.dev0",
             "1.0a1.dev3", "1.0.post1", "1.0-1", "1.0.post1.dev2", "1.0+local", "1.0+local.7",
             "1.0+local.abc", "1.0+5", "2.0.0a0+gitabc", "0.9.99", "1.10", "1.9", "1.0alpha3",
             "1.0preview2", "v1.0", "1.0.0.0.1"]


def test_version_order_is_pep440():
    expect_sorted = ["0.9.99", "1.0.dev0", "1.0a1.dev3", "1.0a1", "1.0a2", "1.0alpha3",
                     "1.0b1", "1.0rc1", "1.0c2", "1.0preview2"]
    keys = [_Version(s) for s in expect_sorted]
    assert keys == sorted(keys)
    assert _Version("1.0") == _Version("1.0.0") == _Version("v1.0")
    assert _Version("1.0") < _Version("1.0+local") < _Version("1.0.post1.dev2") \
        < _Version("1.0.post1") == _Version("1.0-1") < _Version("1.0.0.0.1") < _Version("1!0.5")
    assert _Version("1.0+local.7") > _Version("1.0+local.abc")    # numbers beat strings
    with pytest.raises(InvalidVersion):
        _Version("parrot")


def test_version_order_equals_torch_packaging():
    torch_ = pytest.importorskip("torch")
    from torch._vendor.packaging.version import Version as TV
    for a in _VERSIONS:
        for b in _VERSIONS:
            assert (_Version(a) < _Version(b)) == (TV(a) < TV(b)), (a, b)
            assert (_Version(a) == _Version(b)) == (TV(a) == TV(b)), (a, b)
            assert (TorchVersion(a) >= b) == (torch_.torch_version.TorchVersion(a) >= b)


# ------------------------------------------------------------------ SobolEngine

def test_sobol_unscrambled_points_and_state_machine():
    from gpujit.quasirandom import SobolEngine
    e = SobolEngine(3)
    assert repr(e) == "SobolEngine(dimension=3)"
    assert e.draw(4).tolist() == [[0, 0, 0], [0.5, 0.5, 0.5], [0.75, 0.25, 0.25],
                                  [0.25, 0.75, 0.75]]
    e.reset()
    first = e.draw(1)
    assert first.dtype is torch.float32 and first.shape == (1, 3)
    rest = e.draw(7, dtype=torch.float64)
    assert rest.dtype is torch.float64
    e.reset().fast_forward(1)
    assert torch.equal(e.draw(7, dtype=torch.float64), rest)
    e.reset()
    out = torch.empty(0)
    assert e.draw(2, out=out) is out and out.shape == (2, 3)
    with pytest.raises(ValueError, match="power of 2"):
        e.draw_base2(2)
    assert e.reset().draw_base2(3).shape == (8, 3)
    with pytest.raises(ValueError, match=r"\[1, 21201\]"):
        SobolEngine(21202)
    with pytest.raises(ValueError, match=r"\[1, 21201\]"):
        SobolEngine(0)


def test_sobol_last_dimensions_of_the_table():
    e = torch.quasirandom.SobolEngine(21201)
    x = e.draw(8, dtype=torch.float64)
    assert x[:, -3:].tolist() == [[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.25, 0.75, 0.75],
                                  [0.75, 0.25, 0.25], [0.375, 0.875, 0.625],
                                  [0.875, 0.375, 0.125], [0.125, 0.125, 0.375],
                                  [0.625, 0.625, 0.875]]
    assert x.sum().item() == 74203.5


def test_sobol_scrambled_with_a_seed_equals_torch_values():
    e = torch.quasirandom.SobolEngine(5, scramble=True, seed=0)
    assert repr(e) == "SobolEngine(dimension=5, scramble=True, seed=0)"
    got = e.draw(3, dtype=torch.float64).tolist()
    want = [[0.47510719299316406, 0.592523992061615, 0.4944792091846466,
             0.3138517439365387, 0.9560918211936951],
            [0.5856140609830618, 0.4016727777197957, 0.9352009184658527,
             0.8119487203657627, 0.00011735036969184875],
            [0.9311017263680696, 0.7998992595821619, 0.19228631909936666,
             0.1789475902915001, 0.3696403866633773]]
    assert got == want


def test_sobol_equals_torch_everywhere():
    torch_ = pytest.importorskip("torch")
    from gpujit.quasirandom import _initial_state
    s = torch_.zeros(21201, 30, dtype=torch_.long)
    torch_._sobol_engine_initialize_state_(s, 21201)
    assert (_initial_state(21201) == s.numpy()).all()
    for dim, scramble, seed in ((1, False, None), (7, True, 3), (300, True, 11)):
        a = torch_.quasirandom.SobolEngine(dim, scramble=scramble, seed=seed)
        b = torch.quasirandom.SobolEngine(dim, scramble=scramble, seed=seed)
        for step in (lambda e, m: e.draw(1), lambda e, m: e.draw(3, dtype=m.float64),
                     lambda e, m: e.draw_base2(2), lambda e, m: e.fast_forward(6).draw(3),
                     lambda e, m: e.reset().draw(9)):
            x, y = step(a, torch_), step(b, torch)
            assert x.tolist() == y.tolist()
        assert a.sobolstate.tolist() == b.sobolstate.tolist()
        assert a.shift.tolist() == b.shift.tolist()


# ------------------------------------------------------------------ torch.cond / while_loop

def test_cond_runs_the_branch_taken_with_torchs_checks():
    x = torch.tensor([-1.0, 0.0, 1.0])
    assert torch.cond(x.sum() >= 0, lambda x: x * 2, lambda x: x - 1, (x,)).tolist() == \
        [-2.0, 0.0, 2.0]
    assert torch.cond(torch.tensor([0]), lambda x: x + 1, lambda x: -x, [x]).tolist() == \
        [1.0, -0.0, -1.0]
    assert torch.cond(True, lambda: torch.ones(2), lambda: torch.zeros(2)).tolist() == [1, 1]
    assert torch.cond(0, lambda: 1, lambda: 2) == 2
    with pytest.raises(RuntimeError, match="single-element tensor, but got tensor"):
        torch.cond(torch.ones(2) > 0, lambda x: x, lambda x: x, (x,))
    with pytest.raises(RuntimeError, match="Expected pred to be bool or tensor, but got a"):
        torch.cond("a", lambda x: x, lambda x: x, (x,))
    with pytest.raises(RuntimeError, match="Expect both branches to be callable"):
        torch.cond(torch.tensor(True), 3, lambda x: x, (x,))
    with pytest.raises(RuntimeError, match="only consists of tensor leaves"):
        torch.cond(torch.tensor(True), lambda x, n: x, lambda x, n: x, (x, 3))
    with pytest.raises(RuntimeError, match="do not support aliasing"):
        torch.cond(torch.tensor(True), lambda x: x[1:], lambda x: x, (x,))


def test_while_loop_carries_values_as_torch():
    i, y = torch.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2),
                            (torch.tensor(0), torch.ones(2)))
    assert i.item() == 3 and y.tolist() == [8.0, 8.0]
    out = torch.while_loop(lambda i, x: i < 0, lambda i, x: (i + 1, x), (torch.tensor(0), x := torch.ones(1)))
    assert isinstance(out, tuple) and out[1] is x
    n, z = torch.while_loop(lambda i, x: 2 * i < x.shape[0], lambda i, x: (i + 1, x + i),
                            (0, torch.ones(4)))
    assert n == 2 and z.tolist() == [2.0] * 4
    lst = torch.while_loop(lambda i, x: i < 2, lambda i, x: [i + 1, x + 1], [torch.tensor(0), torch.zeros(1)])
    assert isinstance(lst, list) and lst[1].tolist() == [2.0]
    with pytest.raises(RuntimeError, match="tensor or int leaves"):
        torch.while_loop(lambda i: i < 3, lambda i: (i + 1,), (1.5,))
    with pytest.raises(RuntimeError, match="callable"):
        torch.while_loop(1, lambda i: i, (1,))


# ------------------------------------------------------------------ storages

def test_storages_view_their_tensor_memory():
    import warnings
    x = torch.arange(4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = x.storage()
    st[0] = 9
    assert x.tolist() == [9.0, 1.0, 2.0, 3.0]
    assert (st.size(), st.nbytes(), st.element_size(), st.dtype) == (4, 16, 4, torch.float32)
    assert st.tolist() == list(st) == [9.0, 1.0, 2.0, 3.0] and st[-1] == 3.0
    assert x.storage_type() is torch.FloatStorage and x.storage_type().dtype is torch.float32
    st.fill_(2)
    assert x.tolist() == [2.0] * 4
    c = st.clone()
    c[0] = 5
    assert st[0] == 2.0 and c[0] == 5.0
    u = x.untyped_storage()
    assert len(u) == 16 and u[3] == 64 and u.tolist()[:4] == [0, 0, 0, 64]
    u[3] = 0
    assert x[0].item() == 0.0
    part = torch.arange(8, dtype=torch.uint8).untyped_storage()[2:6]
    assert part.tolist() == [2, 3, 4, 5] and part.nbytes() == 4
    assert torch.tensor([], dtype=torch.uint8).set_(part, 1, (2,)).tolist() == [3, 4]
    with pytest.raises(RuntimeError, match="slices are only supported"):
        st[0:1]
    with pytest.raises(IndexError):
        st[4]
    with pytest.raises(RuntimeError, match="resize_ of a tensor's storage"):
        u.resize_(0)


def test_storage_constructors_and_legacy_classes():
    s = torch.FloatStorage([1, 2, 3])
    assert type(s) is torch.TypedStorage and s.tolist() == [1.0, 2.0, 3.0]
    assert s.type() == "torch.FloatStorage" and s[1] == 2.0
    assert isinstance(s, torch.FloatStorage) and not isinstance(s, torch.LongStorage)
    assert isinstance(s, torch.TypedStorage) and not isinstance(s, torch.UntypedStorage)
    assert torch.is_storage(s) and torch.is_storage(torch.UntypedStorage(1))
    assert torch.FloatStorage(3).size() == 3
    for cls, dt in ((torch.DoubleStorage, torch.float64), (torch.HalfStorage, torch.float16),
                    (torch.LongStorage, torch.int64), (torch.IntStorage, torch.int32),
                    (torch.ShortStorage, torch.int16), (torch.CharStorage, torch.int8),
                    (torch.ByteStorage, torch.uint8), (torch.BoolStorage, torch.bool)):
        assert cls(2).dtype is dt and cls.dtype is dt
    assert torch.TypedStorage(2).dtype is torch.get_default_dtype()
    assert torch.TypedStorage([1, 2], dtype=torch.int64).tolist() == [1, 2]
    w = torch.TypedStorage(wrap_storage=torch.UntypedStorage(8), dtype=torch.int32)
    assert w.size() == 2 and w.tolist() == [0, 0]
    assert torch.LongStorage([1, 2]).bool().tolist() == [True, True]
    assert torch.BoolStorage([True, False]).long().tolist() == [1, 0]
    assert str(torch.FloatStorage([1.5, 2])) == (
        " 1.5\n 2.0\n[torch.storage.TypedStorage(dtype=torch.float32, device=cpu) of size 2]")
    assert str(torch.UntypedStorage(0)) == \
        " \n[torch.storage.UntypedStorage(device=cpu) of size 0]"
    t = torch.tensor([], dtype=torch.float32).set_(s)
    assert t.tolist() == [1.0, 2.0, 3.0]
    s[0] = 7
    assert t[0].item() == 7.0
    r = torch.UntypedStorage(2)
    r[1] = 3
    assert r.resize_(4).tolist() == [0, 3, 0, 0]
    import gpujit.storage as storage_mod
    assert storage_mod.TypedStorage is torch.TypedStorage


def test_storage_behaviour_equals_torch():
    torch_ = pytest.importorskip("torch")
    import warnings

    def probe(m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = m.arange(6.0).reshape(2, 3)
            st = x.t().storage()
        return (st.size(), st.tolist(), str(m.LongStorage([3, -1])),
                m.IntStorage([5]).type(), x.storage_type().__name__,
                m.tensor([], dtype=m.int64).set_(m.LongStorage([1, 2, 3]), 1, (2,)).tolist())
    assert probe(torch_) == probe(torch)


# ------------------------------------------------------------------ linear_cross_entropy

def _lce_numpy(X, W, B, T, CW, reduction, ignore=-100):
    import numpy as np
    logits = X.astype(np.float64) @ W.T.astype(np.float64) + B
    lse = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    keep = T != ignore
    t = np.where(keep, T, 0)
    cw = np.ones(W.shape[0]) if CW is None else CW.astype(np.float64)
    coef = np.where(keep, cw[t], 0.0)
    rows = coef * (lse - logits[np.arange(len(T)), t])
    return {"mean": rows.sum() / coef.sum(), "sum": rows.sum(), "none": rows}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("chunk", [None, 5])
def test_linear_cross_entropy_chunked_equals_reference(reduction, chunk):
    import numpy as np
    rng = np.random.default_rng(1)
    N, D, C = 23, 6, 40
    X = rng.standard_normal((N, D)).astype(np.float32)
    W = (rng.standard_normal((C, D)) * 0.3).astype(np.float32)
    B = (rng.standard_normal(C) * 0.1).astype(np.float32)
    T = rng.integers(0, C, N)
    T[2] = -100
    CW = (rng.random(C) + 0.5).astype(np.float32)
    opts = None if chunk is None else torch.nn.LinearCrossEntropyOptions(
        batch_chunk_size=chunk, chunking_method=None)
    grads = []
    for options in (None, opts or torch.nn.LinearCrossEntropyOptions()):
        x = torch.tensor(X, requires_grad=True)
        w = torch.tensor(W, requires_grad=True)
        b = torch.tensor(B, requires_grad=True)
        loss = F.linear_cross_entropy(x, w, torch.tensor(T), linear_bias=b,
                                      weight=torch.tensor(CW), reduction=reduction,
                                      options=options)
        np.testing.assert_allclose(loss.detach().numpy(),
                                   _lce_numpy(X, W, B, T, CW, reduction), rtol=2e-5)
        (loss.sum() if reduction == "none" else loss).backward()
        grads.append([t.grad.numpy() for t in (x, w, b)])
    for ref, got in zip(*grads):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6)
    assert grads[0][0][2].tolist() == [0.0] * D      # (the ignored row)


def test_linear_cross_entropy_checks_and_module():
    import warnings
    x, w, t = torch.randn(4, 3), torch.randn(5, 3), torch.tensor([0, 1, 2, 3])
    with pytest.raises(RuntimeError, match="dimensionality 1 or 2, got 3"):
        F.linear_cross_entropy(x[None], w, t)
    with pytest.raises(RuntimeError, match=r"in_features\), got 3 and 2"):
        F.linear_cross_entropy(x, w[:, :2], t)
    with pytest.raises(RuntimeError, match=r"expected linear_bias shape \(5,\), got \(2,\)"):
        F.linear_cross_entropy(x, w, t, linear_bias=torch.zeros(2))
    with pytest.raises(ValueError, match="invalid acc_policy"):
        torch.nn.LinearCrossEntropyOptions(acc_policy="x")
    with pytest.raises(ValueError, match="invalid chunking_method"):
        torch.nn.LinearCrossEntropyOptions(chunking_method="foo")
    with pytest.raises(ValueError, match="give different chunk sizes"):
        F.linear_cross_entropy(x, w, t, options=torch.nn.LinearCrossEntropyOptions(
            batch_chunk_size=3, chunking_method="aspect_ratio"))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        F.linear_cross_entropy(x, w, t, label_smoothing=0.1,
                               options=torch.nn.LinearCrossEntropyOptions())
    assert "``options`` ignored" in str(rec[0].message)
    xg = torch.randn(4, 3, requires_grad=True)
    loss = F.linear_cross_entropy(xg, w, t, options=torch.nn.LinearCrossEntropyOptions())
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="allow_retain_graph=True"):
        loss.backward()
    loss = F.linear_cross_entropy(xg, w, t, options=torch.nn.LinearCrossEntropyOptions(
        allow_retain_graph=True))
    loss.backward(retain_graph=True)
    loss.backward()
    m = torch.nn.LinearCrossEntropyLoss(3, 5, bias=True, out_features=(2,))
    assert m.linear.weight.shape == (10, 3)
    y = m(torch.randn(4, 3), torch.randint(0, 5, (4, 2)))
    assert y.shape == () and y.requires_grad
    assert torch.nn.LinearCrossEntropyOptions()._chunk_rows(
        1000, 64, 5000, torch.float32, torch.device("cpu")) == 8


def test_linear_cross_entropy_equals_torch():
    torch_ = pytest.importorskip("torch")
    import numpy as np
    rng = np.random.default_rng(2)
    X = rng.standard_normal((9, 4)).astype(np.float32)
    W = rng.standard_normal((7, 4)).astype(np.float32)
    T = rng.integers(0, 7, 9)
    for options in (None, "chunked"):
        vals = []
        for m in (torch_, torch):
            x = m.tensor(X, requires_grad=True)
            o = None if options is None else m.nn.LinearCrossEntropyOptions(
                batch_chunk_size=2, chunking_method=None)
            loss = m.nn.functional.linear_cross_entropy(x, m.tensor(W), m.tensor(T), options=o)
            loss.backward()
            vals.append((loss.item(), x.grad.numpy().copy()))
        assert abs(vals[0][0] - vals[1][0]) < 1e-5
        np.testing.assert_allclose(vals[1][1], vals[0][1], rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------ Tensor.grad_dtype

def test_grad_dtype_casts_accumulated_gradients_as_torch():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert x.grad_dtype is torch.float32
    x.grad_dtype = torch.float16
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.dtype is torch.float16 and x.grad.tolist() == [5.0, 5.0]
    x.grad = None
    x.grad_dtype = None
    assert x.grad_dtype is None
    (x.double() * 2).sum().backward()
    assert x.grad.dtype is torch.float32        # (ToCopyBackward casts back)
    y = x * 2
    with pytest.raises(RuntimeError, match="only be accessed on leaf tensors"):
        y.grad_dtype
    with pytest.raises(RuntimeError, match="only be set on leaf tensors"):
        y.grad_dtype = torch.float16
    with pytest.raises(RuntimeError, match="must be a torch.dtype or None"):
        x.grad_dtype = 3
    assert torch.ones(2).grad_dtype is torch.float32
    x2 = torch.ones(2, requires_grad=True)
    x2.grad_dtype = torch.float64
    with pytest.raises(RuntimeError, match="with grad_dtype 'Double'"):
        x2.grad = torch.ones(2)
    x2.grad = torch.ones(2, dtype=torch.float64)
    x3 = torch.ones(2, requires_grad=True)
    x3.grad_dtype = None
    x3.grad = torch.ones(2, dtype=torch.float64)
    assert x3.grad.dtype is torch.float64
    w = torch.nn.Parameter(torch.ones(3))
    w.grad_dtype = torch.float64
    (w * w).sum().backward()
    assert w.grad.dtype is torch.float64 and w.grad.tolist() == [2.0] * 3


def test_top_level_aliases():
    assert torch.GradScaler is torch.amp.GradScaler
    assert torch.Storage is torch.FloatStorage


# ------------------------------------------------------------------ segment_reduce

def test_segment_reduce_values_gradients_and_errors():
    d = torch.tensor([1., 2., 3., 4., 5., 6.])
    L = torch.tensor([2, 0, 3, 1])
    want = {"sum": [3, 0, 12, 6], "max": [2, -float("inf"), 5, 6], "min": [1, float("inf"), 3, 6],
            "prod": [2, 1, 60, 6]}
    for red, w in want.items():
        assert torch.segment_reduce(d, red, lengths=L).tolist() == w
    m = torch.segment_reduce(d, "mean", lengths=L).tolist()
    assert m[0] == 1.5 and m[1] != m[1] and m[2:] == [4.0, 6.0]
    assert torch.segment_reduce(d, "mean", lengths=L, initial=10.).tolist()[:2] == [6.5, 10.0]
    assert torch.segment_reduce(d, "max", lengths=L, initial=10.).tolist() == [10.0] * 4
    assert torch.segment_reduce(d, "sum", offsets=torch.tensor([1, 3, 4])).tolist() == [5, 4]
    assert torch.segment_reduce(torch.arange(12.).reshape(2, 6), "sum",
                                lengths=torch.tensor([[2, 4], [3, 3]]), axis=1).tolist() == \
        [[1.0, 14.0], [21.0, 30.0]]
    x = torch.tensor([3., 3., 1., 0., 2., 5.], requires_grad=True)
    grads = {"max": [0.5, 0.5, 0, 0, 2, 4], "min": [0, 0, 1, 2, 0, 4],
             "prod": [3, 3, 9, 4, 0, 4], "sum": [1, 1, 1, 2, 2, 4]}
    for red, g in grads.items():
        x.grad = None
        y = torch.segment_reduce(x, red, lengths=torch.tensor([3, 2, 0, 1]))
        (y * torch.tensor([1., 2., 3., 4.])).sum().backward()
        assert x.grad.tolist() == g and y.grad_fn.name() == "SegmentReduceBackward0"
    with pytest.raises(RuntimeError, match="sum to data.size"):
        torch.segment_reduce(d, "sum", lengths=torch.tensor([2, 2]))
    with pytest.raises(RuntimeError, match="reduce argument must be either"):
        torch.segment_reduce(d, "foo", lengths=torch.tensor([6]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        torch.segment_reduce(torch.tensor([1, 2]), "sum", lengths=torch.tensor([2]))
    with pytest.raises(RuntimeError, match="axis to be the last dimension of lengths"):
        torch.segment_reduce(torch.ones(2, 3), "sum", lengths=torch.tensor([1, 2]), axis=1)


def _segment_script(x, lengths):
    return torch.segment_reduce(x, "max", lengths=lengths, initial=0.5)


def test_segment_reduce_scripted_as_torch():
    s = torch.jit.script(_segment_script)
    assert s(torch.tensor([1., 2., 3.]), torch.tensor([2, 1])).tolist() == [2.0, 3.0]
    assert 'torch.segment_reduce(x, "max", lengths=lengths, indices=None, offsets=None, ' \
           'axis=0, unsafe=False, initial=0.5)' in s.code


def test_from_file_reads_and_maps_as_torch(tmp_path):
    import numpy as np
    import os
    path = str(tmp_path / "f.bin")
    np.arange(10, dtype=np.float32).tofile(path)
    assert torch.from_file(path, size=4).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert torch.from_file(path, size=1, dtype=torch.int64).tolist() == [4575657221408423936]
    t = torch.from_file(path, shared=True, size=10)
    t[0] = 100.0
    assert np.fromfile(path, dtype=np.float32)[0] == 100.0
    (t * 2).sum()      # (ops on a mapped tensor)
    del t
    t2 = torch.from_file(path, shared=False, size=10)
    t2[1] = 7.0
    assert np.fromfile(path, dtype=np.float32)[1] == 1.0
    with pytest.raises(RuntimeError, match="is smaller than the required mapping size <80>"):
        torch.from_file(path, size=20)
    with pytest.raises(RuntimeError, match="unable to open file"):
        torch.from_file(str(tmp_path / "nope.bin"), size=2)
    assert torch.from_file(path).shape == (0,)
    new = str(tmp_path / "new.bin")
    assert torch.from_file(new, shared=True, size=4).tolist() == [0.0] * 4
    assert os.path.getsize(new) == 16
    assert torch.from_file(path, size=2, requires_grad=True).requires_grad


def test_complex_storages():
    import warnings
    x = torch.tensor([1 + 2j, 3j])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = x.storage()
    assert x.storage_type() is torch.ComplexFloatStorage and s.type() == "torch.ComplexFloatStorage"
    assert s[0] == 1 + 2j and s.tolist() == [1 + 2j, 3j]
    assert torch.ComplexDoubleStorage([1j]).dtype is torch.complex128
