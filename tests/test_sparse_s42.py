"""Session 42: sparse COO tensors (gpujit/_sparse_coo.py), what programs that keep a sparse
mask or adjacency matrix use (openai/whisper's `alignment_heads` buffer: all_heads.to_sparse(),
read back with .indices().T; GCN's adjacency by torch.spmm / torch.sparse.mm).

Each test checks hand-written expected values (CI has no torch); the *_torch tests compare
with PyTorch 2.13 when it is importable.
"""
import pickle
import copy

import numpy as np
import pytest

import gpujit as torch

# (the once-per-process warning of an unchecked constructor: tested below)
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks are implicitly")

X = [[0., 2., 0.], [3., 0., 4.]]

REPR_S = ("tensor(indices=tensor([[0, 1, 1],\n"
          "                       [1, 0, 2]]),\n"
          "       values=tensor([2., 3., 4.]),\n"
          "       size=(2, 3), nnz=3, layout=torch.sparse_coo)")


def _real_torch():
    return pytest.importorskip("torch")


def test_to_sparse_parts():
    x = torch.tensor(X)
    s = x.to_sparse()
    assert s.is_sparse and not x.is_sparse
    assert s.layout is torch.sparse_coo and s.layout == torch.sparse_coo
    assert s.is_coalesced() and s._nnz() == 3 and s.sparse_dim() == 2 and s.dense_dim() == 0
    assert s.shape == (2, 3) and s.size() == (2, 3) and s.size(-1) == 3 and s.dim() == 2
    assert s.numel() == 6 and len(s) == 2 and s.dtype is torch.float32 and not s.is_contiguous()
    assert s.indices().tolist() == [[0, 1, 1], [1, 0, 2]]
    assert s.indices().dtype is torch.int64
    assert s.values().tolist() == [2., 3., 4.]
    assert s._indices() is s.indices() and s._values() is s.values()
    assert s.coalesce() is s and s.to_sparse() is s and s.to_sparse_coo() is s
    np.testing.assert_array_equal(s.to_dense().numpy(), np.array(X, np.float32))
    assert torch.equal(x.to_sparse_coo().to_dense(), x)
    assert repr(s) == REPR_S
    # sparse_dim < dim: the nonzero rows, each with its dense row
    r = x.to_sparse(1)
    assert r.sparse_dim() == 1 and r.dense_dim() == 1 and r._nnz() == 2
    assert r.values().tolist() == X
    assert torch.equal(r.to_dense(), x)
    # NaN is not zero, -0.0 is
    z = torch.tensor([-0.0, float("nan"), 0.0]).to_sparse()
    assert z.indices().tolist() == [[1]] and np.isnan(z.values().item())


def test_zero_dim_and_empty():
    assert repr(torch.tensor(3.).to_sparse()) == (
        "tensor(indices=tensor([], size=(0, 1)),\n       values=tensor([3.]),\n"
        "       size=(), nnz=1, layout=torch.sparse_coo)")
    z = torch.tensor(0.).to_sparse()
    assert z._nnz() == 0 and z.to_dense().item() == 0.0
    assert torch.tensor(3.).to_sparse().to_dense().item() == 3.0
    e = torch.zeros(2, 0).to_sparse()
    assert repr(e) == ("tensor(indices=tensor([], size=(2, 0)),\n"
                       "       values=tensor([], size=(0,)),\n"
                       "       size=(2, 0), nnz=0, layout=torch.sparse_coo)")
    assert e.to_dense().shape == (2, 0)


def test_sparse_coo_tensor_uncoalesced():
    u = torch.sparse_coo_tensor([[1, 0, 1], [0, 2, 0]], [1., 2., 3.], (2, 3))
    assert not u.is_coalesced() and u._nnz() == 3
    with pytest.raises(RuntimeError, match=r"^Cannot get indices on an uncoalesced tensor, "
                                           r"please call \.coalesce\(\) first$"):
        u.indices()
    with pytest.raises(RuntimeError, match="Cannot get values on an uncoalesced tensor"):
        u.values()
    assert u._indices().tolist() == [[1, 0, 1], [0, 2, 0]]
    c = u.coalesce()
    assert c.is_coalesced() and c.indices().tolist() == [[0, 1], [2, 0]]
    assert c.values().tolist() == [2., 4.]          # the duplicate (1, 0) summed
    assert u.to_dense().tolist() == [[0., 0., 2.], [4., 0., 0.]]
    # size inferred, nnz <= 1 coalesced, is_coalesced=True believed
    assert torch.sparse_coo_tensor([[1, 0, 1], [0, 2, 0]], [1., 2., 3.]).shape == (2, 3)
    assert torch.sparse_coo_tensor([[0]], [1.], (3,)).is_coalesced()
    assert torch.sparse_coo_tensor([[0, 1]], [1., 2.], (3,), is_coalesced=True).is_coalesced()
    # int32 indices become int64, values keep their dtype (or dtype=)
    i = torch.sparse_coo_tensor(torch.tensor([[0, 1]], dtype=torch.int32), [1, 2], (3,))
    assert i._indices().dtype is torch.int64 and i.dtype is torch.int64
    d = torch.sparse_coo_tensor([[0, 1]], [[1., 2.], [3., 4.]], (3, 2), dtype=torch.float64)
    assert d.dtype is torch.float64 and d.dense_dim() == 1
    assert d.to_dense().tolist() == [[1., 2.], [3., 4.], [0., 0.]]
    assert "dtype=torch.float64, layout=torch.sparse_coo" in repr(d).replace("gpujit.", "torch.")
    # coalescing sums in the values' dtype: uint8 wraps, bool is or
    w = torch.sparse_coo_tensor([[0, 0]], torch.tensor([200, 100], dtype=torch.uint8), (3,))
    assert w.coalesce().values().tolist() == [44]
    b = torch.sparse_coo_tensor([[0, 0]], [True, False], (3,))
    assert b.coalesce().values().tolist() == [True]


def test_errors_in_torchs_words():
    x = torch.tensor(X)
    with pytest.raises(RuntimeError, match=r"sparse_dim argument must be in \[0,2\] range, "
                                           r"but 3 is given"):
        x.to_sparse(3)
    with pytest.raises(RuntimeError, match="sparse_dim argument must be in >0 when"):
        x.to_sparse(0)
    with pytest.raises(RuntimeError, match="from Sparse to Sparse with sparse_dim"):
        x.to_sparse().to_sparse(1)
    with pytest.raises(RuntimeError, match="indices and values must have same nnz, but got "
                                           "nnz from indices: 2, nnz from values: 3"):
        torch.sparse_coo_tensor([[0, 1]], [1., 2., 3.], (3,))
    with pytest.raises(RuntimeError, match=r"indices must be sparse_dim x nnz, but got: \[2\]"):
        torch.sparse_coo_tensor(torch.tensor([0, 1]), torch.tensor([1., 2.]))
    with pytest.raises(RuntimeError, match="'len.size. == sparse_dim . dense_dim' is not "
                                           "satisfied: len.size. = 2, sparse_dim = 1"):
        torch.sparse_coo_tensor([[0, 1]], [1., 2.], (3, 2))
    with pytest.raises(RuntimeError, match="for dim 0, size is 3 but found index 5"):
        torch.sparse_coo_tensor([[0, 5]], [1., 2.], (3,), check_invariants=True)
    with pytest.raises(RuntimeError, match="found negative index -1 for dim 0"):
        torch.sparse_coo_tensor([[0, -1]], [1., 2.], (3,), check_invariants=True)
    with pytest.raises(RuntimeError, match="dtype argument is not supported by sparse_to_dense"):
        x.to_sparse().to_dense(torch.float64)
    with pytest.raises(RuntimeError, match="t.. expects a tensor with <= 2 sparse and 0 dense "
                                           "dimensions, but got 3 sparse"):
        torch.zeros(2, 3, 4).to_sparse().t()
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.to_sparse().size(5)
    with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy"):
        x.to_sparse().numpy()
    # (a CSC tensor since session 44: tests/test_sparse_s44.py)
    assert x.to_sparse(layout=torch.sparse_csc).layout is torch.sparse_csc
    assert x.to_sparse(layout=torch.sparse_coo)._nnz() == 3


@pytest.mark.parametrize("call, op", [
    (lambda s: s.exp(), "aten::exp"), (lambda s: s.cos(), "aten::cos"),
    (lambda s: torch.exp(s), "aten::exp"),
    (lambda s: s == s, "aten::eq.Tensor"), (lambda s: s.view(6), "aten::view"),
    (lambda s: torch.equal(s, s), "aten::equal"), (lambda s: s.cumsum(0), "aten::cumsum")])
def test_ops_without_a_sparse_kernel_raise_not_implemented(call, op):
    s = torch.tensor(X).to_sparse()
    with pytest.raises(NotImplementedError,
                       match=f"^Could not run '{op}' with arguments from the 'SparseCPU' "
                             f"backend"):
        call(s)


def test_sparse_mm_and_spmm():
    a = np.array(X, np.float32)
    b = np.arange(6., dtype=np.float32).reshape(3, 2) / 3
    s, B = torch.tensor(X).to_sparse(), torch.from_numpy(b)
    for r in (torch.sparse.mm(s, B), torch.spmm(s, B), s.mm(B), s @ B, s.matmul(B)):
        assert r.shape == (2, 2) and not r.is_sparse
        np.testing.assert_allclose(r.numpy(), a @ b, rtol=1e-6)
    np.testing.assert_allclose((s @ torch.ones(3)).numpy(), a.sum(1))
    # an uncoalesced matrix: duplicates add
    u = torch.sparse_coo_tensor([[0, 1, 0, 1], [1, 0, 1, 2]], [1., 3., 1., 4.], (2, 3))
    np.testing.assert_allclose(torch.sparse.mm(u, B).numpy(), a @ b, rtol=1e-6)
    # the dense operand's gradient
    Bg = B.clone().requires_grad_()
    torch.sparse.mm(s, Bg).sum().backward()
    np.testing.assert_allclose(Bg.grad.numpy(), a.T @ np.ones((2, 2), np.float32))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        torch.sparse.mm(s, B.double())
    with pytest.raises(RuntimeError, match="Expected dim 0 size 3, got 4"):
        torch.sparse.mm(s, torch.ones(4, 2))


def test_conversions_and_transpose():
    s = torch.tensor(X).to_sparse()
    assert s.float() is s and s.to("cpu") is s and s.cpu() is s
    d = s.double()
    assert d.is_sparse and d.dtype is torch.float64 and d.values().dtype is torch.float64
    assert d._indices() is s._indices()
    c = s.clone()
    assert c.is_coalesced() and c._values() is not s._values()
    assert torch.equal(c.to_dense(), s.to_dense())
    assert s.to(copy=True)._indices() is not s._indices()
    assert s.detach()._values().data_ptr() == s._values().data_ptr()
    t = s.t()
    assert not t.is_coalesced() and t.shape == (3, 2)
    assert t.coalesce().indices().tolist() == [[0, 1, 2], [1, 0, 1]]
    assert torch.equal(t.to_dense(), s.to_dense().t()) and torch.equal(s.T.to_dense(),
                                                                      t.to_dense())
    assert not s.t().clone().is_coalesced()
    # (sparse autograd since session 43, through the values: tests/test_sparse_s43.py)
    assert not s.requires_grad and s.requires_grad_(False) is s
    r = s.clone()
    assert r.requires_grad_() is r and r.requires_grad and r.is_leaf and not s.requires_grad
    r.requires_grad = False
    assert not r.requires_grad
    assert torch.sparse_coo_tensor([[0]], [1.], (2,), requires_grad=True).requires_grad
    assert repr(copy.deepcopy(s)) == REPR_S


def test_pickle_save_load_and_module_buffers(tmp_path):
    s = torch.tensor(X).to_sparse()
    u = torch.sparse_coo_tensor([[1, 0, 1], [0, 2, 0]], [1., 2., 3.], (2, 3))
    for r in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert repr(r) == REPR_S
    torch.save({"s": s, "u": u}, tmp_path / "sp.pt")
    d = torch.load(tmp_path / "sp.pt")
    assert repr(d["s"]) == REPR_S and d["s"].is_coalesced()
    assert not d["u"].is_coalesced() and d["u"]._values().tolist() == [1., 2., 3.]

    class Heads(torch.nn.Module):        # (whisper.model.Whisper's buffer)
        def __init__(self):
            super().__init__()
            heads = torch.zeros(4, 6, dtype=torch.bool)
            heads[4 // 2:] = True
            self.register_buffer("alignment_heads", heads.to_sparse(), persistent=False)
            self.register_buffer("weights", torch.tensor([0., 5.]).to_sparse())

    m = Heads()
    assert list(m.state_dict()) == ["weights"]
    assert [(int(layer), int(head)) for layer, head in m.alignment_heads.indices().T] == \
        [(2, h) for h in range(6)] + [(3, h) for h in range(6)]
    m.double().to("cpu")
    assert m.weights.dtype is torch.float64 and m.alignment_heads.dtype is torch.bool
    torch.save(m.state_dict(), tmp_path / "m.pt")
    m2 = Heads()
    m2.weights = torch.tensor([1., 0.]).to_sparse()
    m2.load_state_dict(torch.load(tmp_path / "m.pt"))
    assert m2.weights.dtype is torch.float32      # (copied into the float32 buffer)
    assert m2.weights.indices().tolist() == [[1]] and m2.weights.values().tolist() == [5.]


def test_script_and_trace_refuse_sparse_tensors():
    s = torch.tensor(X).to_sparse()

    def dense_of(a):
        return a * 2

    with pytest.raises(RuntimeError, match="scripted and traced functions do not take sparse"):
        torch.jit.trace(dense_of, (s,))
    with pytest.raises(RuntimeError, match="scripted and traced functions do not take sparse"):
        torch.jit.script(dense_of)(s)

    def makes(a):
        return a.to_sparse()

    with pytest.raises(RuntimeError, match="tracer does not record sparse tensors"):
        torch.jit.trace(makes, (torch.ones(2),))


def test_sparse_of_a_tensor_requiring_grad_records_it():
    # (refused before session 43; now ToSparseBackward1, as torch's)
    x = torch.ones(2, requires_grad=True)
    s = x.to_sparse()
    assert type(s.grad_fn).__name__ == "ToSparseBackward1"
    (s.to_dense() * torch.tensor([2., 3.])).sum().backward()
    assert x.grad.tolist() == [2., 3.]
    with torch.no_grad():
        assert x.to_sparse()._nnz() == 2 and not x.to_sparse().requires_grad


# ------------------------------------------------------------------ against PyTorch
EXPRS = [
    "x.to_sparse()", "x.to_sparse(1)", "torch.tensor(3.).to_sparse()", "torch.tensor(0.).to_sparse()",
    "x.to_sparse().t()", "x.to_sparse().double()", "x.to_sparse().coalesce()",
    "torch.sparse_coo_tensor([[1,0,1],[0,2,0]], [1.,2.,3.], (2,3))",
    "torch.sparse_coo_tensor([[1,0,1],[0,2,0]], [1.,2.,3.], (2,3)).coalesce()",
    "torch.sparse_coo_tensor([[1,0,1],[0,2,0]], [1.,2.,3.], (2,3)).to_dense()",
    "torch.sparse_coo_tensor([[0,1]], [[1.,2.],[3.,4.]], (3,2), dtype=torch.float64)",
    "torch.sparse_coo_tensor([[0,0]], torch.tensor([200,100],dtype=torch.uint8), (3,)).coalesce()",
    "torch.zeros(2,3,dtype=torch.bool).to_sparse()", "torch.ones(2,2,dtype=torch.float16).to_sparse()",
    "torch.sparse.mm(x.to_sparse(), torch.arange(6.).reshape(3,2))",
    "torch.spmm(x.to_sparse(), torch.arange(6.).reshape(3,2))", "x.to_sparse() @ torch.ones(3)",
    "(x.to_sparse().is_coalesced(), x.to_sparse().t().is_coalesced(), x.to_sparse()._nnz())",
    "(x.to_sparse().sparse_dim(), x.to_sparse(1).dense_dim(), tuple(x.to_sparse().shape))",
]


def test_reprs_and_values_match_torch():
    real = _real_torch()
    import warnings
    for mod in (real, torch):
        x = mod.tensor(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = [repr(eval(e, {"torch": mod, "x": x})).replace("gpujit.", "torch.")
                   for e in EXPRS]
        if mod is real:
            want = got
    assert got == want


def test_save_load_both_ways_with_torch(tmp_path):
    real = _real_torch()
    import warnings
    s = torch.tensor(X).to_sparse()
    u = torch.sparse_coo_tensor([[1, 0, 1], [0, 2, 0]], [1., 2., 3.], (2, 3))
    torch.save({"s": s, "u": u}, tmp_path / "g.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = real.load(tmp_path / "g.pt")          # (weights_only=True: torch's allowlist)
        assert repr(d["s"]) == REPR_S and not d["u"].is_coalesced()
        real.save({"s": real.tensor(X).to_sparse(),
                   "u": real.sparse_coo_tensor([[1, 0, 1], [0, 2, 0]], [1., 2., 3.], (2, 3))},
                  tmp_path / "t.pt")
    d = torch.load(tmp_path / "t.pt")
    assert repr(d["s"]) == REPR_S and not d["u"].is_coalesced()
    assert d["u"].to_dense().tolist() == [[0., 0., 2.], [4., 0., 0.]]


def test_not_implemented_words_match_torch():
    real = _real_torch()
    for mod in (real, torch):
        s = mod.tensor(X).to_sparse()
        with pytest.raises(NotImplementedError) as e:
            s.exp()
        msg = str(e.value)
        assert msg.startswith("Could not run 'aten::exp' with arguments from the 'SparseCPU' "
                              "backend. This could be because the operator doesn't exist for "
                              "this backend, or was omitted during the selective/custom build "
                              "process (if using custom build).")


# ------------------------------------------------------------------ values-only ops
def test_values_only_ops():
    s = torch.sparse_coo_tensor([[0, 1, 0], [1, 0, 1]], [1., -2., 0.5], (2, 2))
    # * and / by a number: values scaled, indices (and uncoalescedness) kept
    for r, want in ((s * 2, [2., -4., 1.]), (2 * s, [2., -4., 1.]), (s / 4, [.25, -.5, .125]),
                    (s.mul(torch.tensor(2.)), [2., -4., 1.]), (-s, [-1., 2., -.5])):
        assert r.is_sparse and not r.is_coalesced() and r._values().tolist() == want
        assert r._indices() is s._indices()
    assert (s.int() * 2.5).dtype is torch.float32 and (s.int() / 2).dtype is torch.float32
    # zero-preserving pointwise methods run on the coalesced values
    a = s.abs()
    assert a.is_coalesced() and a.indices().tolist() == [[0, 1], [1, 0]]
    assert a.values().tolist() == [1.5, 2.0] and abs(s).values().tolist() == [1.5, 2.0]
    assert s.relu().values().tolist() == [1.5, 0.0]
    assert s.isnan().dtype is torch.bool and s.sqrt()._nnz() == 2
    # sum of every element: a dense 0-dim tensor
    assert s.sum().item() == -0.5 and torch.sparse.sum(s).item() == -0.5
    assert s.int().sum().dtype is torch.int64 and s.sum(dtype=torch.float64).dtype is torch.float64
    assert s.sum(0).to_dense().tolist() == [-2.0, 1.5]    # (over dims: sparse, as torch 2.13)
    t = s.clone()
    assert t.mul_(2) is t and t._values().tolist() == [2., -4., 1.]
    assert s._values().tolist() == [1., -2., .5]
    assert s.type() == "torch.sparse.FloatTensor" and s.double().type() == \
        "torch.sparse.DoubleTensor"
    with pytest.raises(NotImplementedError, match="'aten::exp'"):
        s.exp()                                  # (exp(0) is not 0: torch has no kernel)
    for f in (lambda: s + 1, lambda: s + torch.ones(2, 2), lambda: s - 1, lambda: 1 + s,
              lambda: s.add(torch.tensor(1.)), lambda: s.sub(torch.ones(2, 2))):
        with pytest.raises(RuntimeError, match=r"^add\(sparse, dense\) is not supported. Use "
                                               r"add\(dense, sparse\) instead.$"):
            f()


def test_legacy_sparse_types_and_addmm():
    i, v = torch.tensor([[0, 1], [1, 0]]), torch.tensor([1., 2.])
    s = torch.sparse.FloatTensor(i, v, torch.Size([2, 2]))
    assert s.is_sparse and s.shape == (2, 2) and s._nnz() == 2
    assert isinstance(s, torch.sparse.FloatTensor) and not isinstance(s, torch.sparse.DoubleTensor)
    assert not isinstance(torch.ones(2), torch.sparse.FloatTensor)
    assert not isinstance(s, torch.FloatTensor) and isinstance(s.to_dense(), torch.FloatTensor)
    assert torch.sparse.FloatTensor(i, v.double()).dtype is torch.float64  # (the values')
    e = torch.sparse.FloatTensor(2, 3)
    assert e.shape == (2, 3) and e._nnz() == 0 and e.sparse_dim() == 2
    assert torch.sparse.FloatTensor().shape == (0,)
    assert repr(torch.sparse.FloatTensor) == "<class 'torch.sparse.FloatTensor'>"
    d = torch.arange(6.).reshape(2, 3)
    r = torch.sparse.addmm(torch.ones(2, 3), s, d, beta=0.5, alpha=2.)
    np.testing.assert_allclose(r.numpy(), 0.5 + 2 * np.array([[3., 4., 5.], [0., 2., 4.]]))


VALUE_EXPRS = [f"{x}.{n}()" for n in (
    "abs", "neg", "sqrt", "sin", "tanh", "asinh", "atanh", "ceil", "floor", "round", "sign",
    "sgn", "expm1", "log1p", "erf", "frac", "deg2rad", "relu", "square", "isnan", "signbit",
    "nan_to_num") for x in ("s", "c")] + [
    "s * 2", "2 * s", "s * 2.5", "s * torch.tensor(2.)", "s.int() * 2.5", "s.int() / 2",
    "s / 0", "-s", "abs(s)", "s.sum()", "s.sum(dtype=torch.float64)", "s.int().sum()",
    "s.bool().sum()", "torch.sparse.sum(s)", "s.clone().mul_(2)", "s.clone().div_(2)",
    "s.type()", "torch.sparse.FloatTensor(s._indices(), s._values().double(), (2,2))",
    "torch.sparse.FloatTensor(2, 3)", "torch.sparse.FloatTensor()",
    "torch.sparse.LongTensor(3)", "isinstance(s, torch.sparse.FloatTensor)",
    "torch.sparse.addmm(torch.ones(2,3), s, d, beta=0.5, alpha=2.)"]


def test_values_only_ops_match_torch():
    real = _real_torch()
    import warnings
    for mod in (real, torch):
        env = {"torch": mod,
               "s": mod.sparse_coo_tensor([[0, 1, 0], [1, 0, 1]], [1., -2., 0.5], (2, 2)),
               "c": mod.tensor([[0., 2.], [-3., 0.]]).to_sparse(),
               "d": mod.arange(6.).reshape(2, 3)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = [repr(eval(e, env)).replace("gpujit.", "torch.") for e in VALUE_EXPRS]
        if mod is real:
            want = got
    assert got == want


# ------------------------------------------------------------------ PyTorch's summation order
def test_summation_order_of_duplicates_and_mm():
    # coalesce / to_dense: duplicates summed in order (few entries: std::sort keeps it)
    u = torch.sparse_coo_tensor([[0, 0, 0]], [1e8, 1., -1e8], (2,))
    assert u.coalesce().values().tolist() == [0.0] and u.to_dense().tolist() == [0.0, 0.0]
    w = torch.sparse_coo_tensor([[0, 0, 0]], [1e8, -1e8, 1.], (2,))
    assert w.coalesce().values().tolist() == [1.0] and w.to_dense().tolist() == [1.0, 0.0]
    # mm: one fused multiply-add per entry into its row, in storage order
    e = 1 + 2.0 ** -12
    s = torch.sparse_coo_tensor([[0, 0], [0, 1]], [-1., e], (1, 2))
    b = torch.tensor([[1.], [e]])
    assert torch.sparse.mm(s, b).item() == 2.0 ** -11 + 2.0 ** -24    # (unfused: 2**-11)
    assert torch.sparse.mm(s.double(), b.double()).item() == 2 * 2.0 ** -12 + 2.0 ** -24


def test_coalesce_to_dense_mm_bit_exact_with_torch():
    real = _real_torch()
    import warnings
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 5, (2, 400))
    for dt in (np.float16, np.float32, np.float64):
        val = (rng.standard_normal(400) * 10).astype(dt)
        dense = rng.standard_normal((5, 3)).astype(dt)
        got = []
        for mod in (real, torch):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = mod.sparse_coo_tensor(mod.from_numpy(idx), mod.from_numpy(val), (5, 5))
                c = s.coalesce()
                got.append((c.indices().numpy(), c.values().numpy(), s.to_dense().numpy(),
                            mod.sparse.mm(s, mod.from_numpy(dense)).numpy()))
        for a, b in zip(*got):
            np.testing.assert_array_equal(a, b)
            assert a.tobytes() == b.tobytes()


@pytest.mark.cuda
def test_sparse_on_cuda_matches_the_cpu(tmp_path):
    x = torch.tensor(X)
    s = x.to_sparse()
    g = x.cuda().to_sparse()
    assert g.is_cuda and g._indices().is_cuda and g._values().is_cuda
    assert repr(g) == REPR_S.replace("size=(2, 3)", "device='cuda:0', size=(2, 3)")
    assert torch.equal(g.to_dense().cpu(), x) and s.cuda().is_cuda
    u = torch.sparse_coo_tensor([[1, 0, 1], [0, 2, 0]], [1., 2., 3.], (2, 3), device="cuda")
    c = u.coalesce()
    assert c.indices().cpu().tolist() == [[0, 1], [2, 0]] and c.values().cpu().tolist() == [2., 4.]
    b = torch.arange(6.).reshape(3, 2)
    np.testing.assert_allclose(torch.sparse.mm(g, b.cuda()).cpu().numpy(),
                               torch.sparse.mm(s, b).numpy(), rtol=1e-6)
    assert (g * 2).is_cuda and g.sum().is_cuda and g.sum().item() == 9.0
    torch.save(g, tmp_path / "g.pt")
    back = torch.load(tmp_path / "g.pt", map_location="cpu")
    assert not back.is_cuda and repr(back) == REPR_S


@pytest.fixture
def fresh_invariant_switch(monkeypatch):
    import sys
    mod = sys.modules["gpujit._sparse_coo"]
    monkeypatch.setattr(mod, "_warned", [])
    monkeypatch.setattr(mod, "INVARIANT_CHECKS", [None])
    return mod


def test_implicitly_unchecked_warning_and_the_switch(fresh_invariant_switch):
    import warnings
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.sparse_coo_tensor([[0]], [1.], (2,))              # (warns once: this line)
        torch.sparse_coo_tensor([[0]], [1.], (2,))
        torch.sparse_coo_tensor([[0]], [1.], (2,), check_invariants=False)
        torch.tensor([1.]).to_sparse()
    assert [(m.category, m.filename) for m in w] == [(UserWarning, __file__)]
    assert str(w[0].message).startswith("Sparse invariant checks are implicitly disabled. "
                                         "Memory errors (e.g. SEGFAULT) will occur")
    check = torch.sparse.check_sparse_tensor_invariants
    assert not check.is_enabled()
    with check():
        assert check.is_enabled()
        with pytest.raises(RuntimeError, match="for dim 0, size is 2 but found index 5"):
            torch.sparse_coo_tensor([[5]], [1.], (2,))
    assert not check.is_enabled()
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            torch.sparse_coo_tensor([[5]], [1.], (2,))        # (explicitly off now: silent)
        assert not w

        @check()
        def build():
            return torch.sparse_coo_tensor([[5]], [1.], (2,))
        with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
            build()
    finally:
        torch.set_warn_always(False)


def test_warn_always_repeats_it(fresh_invariant_switch):
    import warnings
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            torch.sparse_coo_tensor([[0]], [1.], (2,))
            torch.sparse.FloatTensor(torch.tensor([[0]]), torch.tensor([1.]), (2,))
    finally:
        torch.set_warn_always(False)
    assert len(w) == 2 and all(m.filename == __file__ for m in w)
