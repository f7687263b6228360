"""Out-of-bounds index tensors raise PyTorch's errors on both devices.

NumPy raises on an out-of-bounds index array, CuPy wraps it around silently (its take and
scatter kernels; tests/fakecupy does the same now), so gpujit checks every index tensor
itself (gpujit/ops/bounds.py: one device sync per call on the GPU). For each op family:
negative indices in range work where PyTorch takes them, -n-1 and n raise (the type and
message PyTorch 2.13's CPU kernels give), in-range values equal NumPy's.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional
HERE = os.path.dirname(__file__)
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
OOB = "index {i} is out of bounds for dimension {d} with size {n}"


def L(v, dev):
    return torch.tensor(v, dtype=torch.int64, device=dev)


def A(t):
    return t.cpu().numpy()


def raises(exc, msg, f):
    with pytest.raises(exc) as e:
        f()
    assert str(e.value) == msg, str(e.value)


# ------------------------------------------------------------------ advanced indexing

@pytest.mark.parametrize("dev", DEVICES)
def test_getitem_index_tensor(dev):
    a = np.arange(12.0).reshape(3, 4)
    x = torch.tensor(a, dtype=torch.float32, device=dev)
    for idx in ([0, 2, -1, -3], [[1, -2], [0, 0]]):
        np.testing.assert_array_equal(A(x[L(idx, dev)]), a[idx])
    np.testing.assert_array_equal(A(x[:, L([-4, 3], dev)]), a[:, [-4, 3]])
    np.testing.assert_array_equal(A(x[L([2, -3], dev), L([-1, 0], dev)]), a[[2, -3], [-1, 0]])
    for bad in (3, -4):
        raises(IndexError, OOB.format(i=bad, d=0, n=3), lambda: x[L([0, bad], dev)])
    for bad in (4, -5):
        # (PyTorch names the position of the index tensor among the index tensors)
        raises(IndexError, OOB.format(i=bad, d=0, n=4), lambda: x[:, L([bad], dev)])
        raises(IndexError, OOB.format(i=bad, d=1, n=4),
               lambda: x[L([0], dev), L([bad], dev)])
    # the first offending entry is named
    raises(IndexError, OOB.format(i=5, d=0, n=3), lambda: x[L([0, 5, -9], dev)])
    raises(IndexError, OOB.format(i=-9, d=0, n=3), lambda: x[L([-9, 5], dev)])


@pytest.mark.parametrize("dev", DEVICES)
def test_getitem_mask_and_broadcast_errors(dev):
    x = torch.zeros(2, 3, 4, device=dev)
    raises(IndexError, "The shape of the mask [3, 5] at index 1 does not match the shape of "
           "the indexed tensor [2, 3, 4] at index 2",
           lambda: x[:, torch.ones(3, 5, dtype=torch.bool, device=dev)])
    raises(IndexError, "shape mismatch: indexing tensors could not be broadcast together "
           "with shapes [2], [3]", lambda: x[L([0, 1], dev), L([0, 1, 2], dev)])
    m = torch.tensor([True, False], device=dev)
    raises(IndexError, OOB.format(i=7, d=1, n=3), lambda: x[m, L([7], dev)])
    np.testing.assert_array_equal(A(x[m, L([-1], dev)]), np.zeros((1, 4)))


@pytest.mark.parametrize("dev", DEVICES)
def test_setitem_and_index_put(dev):
    for acc in (False, True):
        x = torch.zeros(4, device=dev)
        x.index_put_((L([-1, 0], dev),), torch.tensor([5.0, 6.0], device=dev),
                     accumulate=acc)
        np.testing.assert_array_equal(A(x), [6, 0, 0, 5])
        for bad in (4, -5):
            raises(IndexError, OOB.format(i=bad, d=0, n=4),
                   lambda: x.index_put_((L([bad], dev),), torch.tensor(1.0, device=dev),
                                        accumulate=acc))
        np.testing.assert_array_equal(A(x), [6, 0, 0, 5])       # nothing written
    y = torch.zeros(3, 4, device=dev)
    y[:, L([-1], dev)] = 2.0
    y[L([-3], dev), L([1], dev)] = 7.0
    want = np.zeros((3, 4))
    want[:, -1] = 2
    want[0, 1] = 7
    np.testing.assert_array_equal(A(y), want)
    raises(IndexError, OOB.format(i=3, d=0, n=3), lambda: y.__setitem__(L([3], dev), 1.0))
    raises(IndexError, OOB.format(i=-5, d=1, n=4),
           lambda: y.__setitem__((L([0], dev), L([-5], dev)), 1.0))
    raises(IndexError, OOB.format(i=9, d=1, n=4), lambda: y.index_put_(
        (torch.tensor([True, False, True], device=dev), L([1, 9], dev)),
        torch.tensor(1.0, device=dev)))
    np.testing.assert_array_equal(A(y), want)


@pytest.mark.parametrize("dev", DEVICES)
def test_size_zero_dims(dev):
    msg = "index is out of bounds for dimension with size 0"
    raises(IndexError, msg, lambda: torch.zeros(0, device=dev)[L([0], dev)])
    raises(IndexError, msg, lambda: torch.zeros(2, 0, device=dev)[:, L([-1], dev)])
    raises(IndexError, msg, lambda: torch.zeros(0, device=dev).index_put_(
        (L([0], dev),), torch.tensor(1.0, device=dev)))
    e = L([], dev)
    assert tuple(torch.zeros(2, 0, device=dev)[:, e].shape) == (2, 0)
    assert tuple(torch.zeros(0, 3, device=dev).index_put_(
        (e,), torch.tensor(1.0, device=dev)).shape) == (0, 3)
    raises(RuntimeError, OOB.format(i=0, d=0, n=0),
           lambda: torch.zeros(0, device=dev).gather(0, L([0], dev)))


# ------------------------------------------------------------------ dim-wise index ops

@pytest.mark.parametrize("dev", DEVICES)
def test_index_select(dev):
    a = np.arange(12.0).reshape(3, 4)
    x = torch.tensor(a, dtype=torch.float32, device=dev)
    np.testing.assert_array_equal(A(x.index_select(1, L([3, 0, 3], dev))), a[:, [3, 0, 3]])
    for bad in (4, -1, -5):           # (no negative indices in index_select)
        if dev == "cpu":
            # (torch 2.13's CPU kernel along a dim other than 0: its own words)
            raises(RuntimeError, f"INDICES element is out of DATA bounds, id={bad} axis_dim=4",
                   lambda: x.index_select(1, L([0, bad], dev)))
        else:
            raises(IndexError, "index out of range in self",
                   lambda: x.index_select(1, L([0, bad], dev)))
    raises(IndexError, "index out of range in self", lambda: x.index_select(0, L([3], dev)))


@pytest.mark.parametrize("dev", DEVICES)
def test_gather_and_take_along_dim(dev):
    a = np.arange(12.0).reshape(3, 4)
    x = torch.tensor(a, dtype=torch.float32, device=dev)
    i = [[3, 0], [1, 1], [0, 2]]
    np.testing.assert_array_equal(A(x.gather(1, L(i, dev))), np.take_along_axis(a, np.array(i), 1))
    np.testing.assert_array_equal(A(torch.take_along_dim(x, L(i, dev), 1)),
                                  np.take_along_axis(a, np.array(i), 1))
    for bad in (4, -1):
        raises(RuntimeError, OOB.format(i=bad, d=1, n=4),
               lambda: x.gather(1, L([[0, bad]] * 3, dev)))
        raises(RuntimeError, OOB.format(i=bad, d=1, n=4),
               lambda: torch.take_along_dim(x, L([[bad]] * 3, dev), 1))
    raises(RuntimeError, OOB.format(i=12, d=0, n=12),
           lambda: torch.take_along_dim(x, L([12], dev)))


@pytest.mark.parametrize("dev", DEVICES)
def test_scatter_family(dev):
    i = L([[3, 0]], dev)
    src = torch.tensor([[1.0, 2.0]], device=dev)
    np.testing.assert_array_equal(A(torch.zeros(2, 4, device=dev).scatter(1, i, src)),
                                  [[2, 0, 0, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(A(torch.zeros(2, 4, device=dev).scatter_add(1, i, src)),
                                  [[2, 0, 0, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(
        A(torch.zeros(2, 4, device=dev).scatter_reduce(1, i, src, "amax")),
        [[2, 0, 0, 1], [0, 0, 0, 0]])
    for bad in (4, -1):
        b = L([[0, bad]], dev)
        x = torch.zeros(2, 4, device=dev)
        msg = OOB.format(i=bad, d=1, n=4)
        raises(RuntimeError, msg, lambda: x.scatter_(1, b, src))
        raises(RuntimeError, msg, lambda: x.scatter_(1, b, 1.0))
        raises(RuntimeError, msg, lambda: x.scatter_(1, b, src, reduce="add"))
        raises(RuntimeError, msg, lambda: x.scatter_add_(1, b, src))
        raises(RuntimeError, msg, lambda: x.scatter_reduce_(1, b, src, "sum"))
        raises(RuntimeError, msg, lambda: x.scatter_reduce(1, b, src, "mean"))
        np.testing.assert_array_equal(A(x), np.zeros((2, 4)))


@pytest.mark.parametrize("dev", DEVICES)
def test_index_add_copy_fill(dev):
    src = torch.tensor([[1.0, 2.0]], device=dev)
    x = torch.zeros(2, 3, device=dev)
    x.index_add_(0, L([1], dev), src[:, :1].expand(1, 3).contiguous())
    x.index_copy_(1, L([2, 0], dev), torch.ones(2, 2, device=dev) * 5)
    x.index_fill_(1, L([-2], dev), 9.0)         # (index_fill takes negative indices)
    np.testing.assert_array_equal(A(x), [[5, 9, 5], [5, 9, 5]])
    for bad in (3, -1):
        # (torch 2.13's CPU kernel: a RuntimeError in the common words)
        raises(RuntimeError, OOB.format(i=bad, d=1, n=3),
               lambda: x.index_add_(1, L([bad], dev), torch.ones(2, 1, device=dev)))
        raises(IndexError, "index_copy_(): " + OOB.format(i=bad, d=1, n=3),
               lambda: x.index_copy_(1, L([bad], dev), torch.ones(2, 1, device=dev)))
    for bad in (3, -4):
        raises(IndexError, OOB.format(i=bad, d=1, n=3),
               lambda: x.index_fill_(1, L([bad], dev), 0.0))
        raises(IndexError, OOB.format(i=bad, d=1, n=3),
               lambda: x.index_fill(1, L([bad], dev), torch.tensor(0.0, device=dev)))
    np.testing.assert_array_equal(A(x), [[5, 9, 5], [5, 9, 5]])


@pytest.mark.parametrize("dev", DEVICES)
def test_take_and_put(dev):
    a = np.arange(6.0).reshape(2, 3)
    x = torch.tensor(a, dtype=torch.float32, device=dev)
    np.testing.assert_array_equal(A(x.take(L([-6, 5, -1], dev))), a.ravel()[[-6, 5, -1]])
    for acc in (False, True):
        y = torch.zeros(2, 3, device=dev)
        y.put_(L([-1, 0], dev), torch.tensor([4.0, 3.0], device=dev), accumulate=acc)
        np.testing.assert_array_equal(A(y), [[3, 0, 0], [0, 0, 4]])
    for bad in (6, -7):
        msg = f"out of range: tried to access index {bad} on a tensor of 6 elements."
        raises(IndexError, msg, lambda: x.take(L([bad], dev)))
        for acc in (False, True):
            raises(IndexError, msg, lambda: x.put_(L([bad], dev), torch.ones(1, device=dev),
                                                   accumulate=acc))
            raises(IndexError, msg, lambda: x.put(L([bad], dev), torch.ones(1, device=dev),
                                                  accumulate=acc))
    np.testing.assert_array_equal(A(x), a)


# ------------------------------------------------------------------ nn

@pytest.mark.parametrize("dev", DEVICES)
def test_embedding(dev):
    w = np.arange(8.0).reshape(4, 2)
    wt = torch.tensor(w, device=dev)
    np.testing.assert_array_equal(A(F.embedding(L([[3, 0]], dev), wt)), w[[[3, 0]]])
    emb = torch.nn.Embedding(4, 2).to(dev)
    for bad in (4, -1):
        raises(IndexError, "index out of range in self", lambda: F.embedding(L([bad], dev), wt))
        raises(IndexError, "index out of range in self", lambda: emb(L([[0, bad]], dev)))


@pytest.mark.parametrize("dev", DEVICES)
def test_class_index_losses(dev):
    logits = np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
    x = torch.tensor(logits, device=dev)
    got = F.nll_loss(x, L([2, 0], dev), reduction="none")
    np.testing.assert_allclose(A(got), -logits[[0, 1], [2, 0]])
    np.testing.assert_allclose(float(F.nll_loss(x, L([-100, 1], dev))), -logits[1, 1])
    for bad in (3, -1):
        raises(IndexError, f"Target {bad} is out of bounds.",
               lambda: F.nll_loss(x, L([0, bad], dev)))
        raises(IndexError, f"Target {bad} is out of bounds.",
               lambda: F.cross_entropy(x, L([bad, 0], dev)))
        raises(RuntimeError, "target out of range",
               lambda: F.multi_margin_loss(x, L([0, bad], dev)))
    raises(RuntimeError, "argument #2 'target' is out of range",
           lambda: F.multilabel_margin_loss(x, L([[3, -1, 0], [0, -1, 0]], dev)))
    # entries after the first -1 are not read
    F.multilabel_margin_loss(x, L([[1, -1, 7], [0, 2, -1]], dev))
    np.testing.assert_array_equal(A(F.one_hot(L([2, 0], dev), 3)), np.eye(3, dtype=int)[[2, 0]])
    raises(RuntimeError, "Class values must be smaller than num_classes.",
           lambda: F.one_hot(L([0, 3], dev), 3))
    raises(RuntimeError, "Class values must be non-negative.",
           lambda: F.one_hot(L([0, -1], dev), 3))


# ------------------------------------------------------------------ the check itself

@pytest.mark.cuda
def test_one_device_sync_per_checked_call(monkeypatch):
    import cupy
    from gpujit.ops import bounds
    reads = []
    orig = cupy.ndarray.get

    def get(self, *a, **k):
        reads.append(self.shape)
        return orig(self, *a, **k)
    monkeypatch.setattr(cupy.ndarray, "get", get)
    idx = [cupy.asarray(np.array(v)) for v in ([0, 3], [[1, -2]], [2])]
    bounds.check_many(cupy, [bounds.Check(i, 4, k, IndexError, negative=True)
                             for k, i in enumerate(idx)])
    assert reads == [(6,)]          # min and max of the three arrays, read at once
    reads.clear()
    with pytest.raises(RuntimeError, match="^index 4 is out of bounds for dimension 2 with "
                                           "size 4$"):
        bounds.check_many(cupy, [bounds.Check(idx[0], 4, 0),
                                 bounds.Check(cupy.asarray(np.array([[1, 0]])), 4, 1),
                                 bounds.Check(cupy.asarray(np.array([0, 4, 9])), 4, 2)])
    assert reads[0] == (6,)         # (the error path reads more: only when it fails)


def test_check_on_the_host():
    from gpujit.ops import bounds
    bounds.check(np, np.array([-4, 3]), 4, negative=True)
    bounds.check(np, np.empty(0, np.int64), 0)
    raises(RuntimeError, OOB.format(i=0, d=0, n=0), lambda: bounds.check(np, np.array([0]), 0))
    raises(RuntimeError, OOB.format(i=-1, d=1, n=4),
           lambda: bounds.check(np, np.array([[2, -1], [7, 0]]), 4, 1))
    assert bounds.extrema(np, np.array([3, -2, 5]), np.array([[1]])) == [(-2, 5), (1, 1)]


# ------------------------------------------------------------------ the fake CuPy

def _fake(code):
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "fakecupy"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().split("\n")


def test_fakecupy_wraps_out_of_bounds_index_arrays_as_cupy():
    # cupy/_core/_routines_indexing.pyx: _take_kernel_core, _create_scatter_kernel and
    # _prepare_array_indexing take indices modulo the axis size; a scalar index raises
    out = _fake("""
import numpy as np, cupy as cp
x = cp.arange(4.0)
m = cp.arange(12.0).reshape(3, 4)
print(x[cp.asarray([10, -5, 1])].get().tolist(), m[cp.asarray([3]), cp.asarray([-5])].get().tolist(),
      m[:, cp.asarray([4])].get().ravel().tolist(), x.take(cp.asarray([5])).get().tolist(),
      cp.take(x, cp.asarray([-6])).get().tolist(),
      cp.take_along_axis(m, cp.asarray([[4], [5], [6]]), 1).get().ravel().tolist())
for f in (lambda: x[10], lambda: cp.zeros((0, 3))[cp.asarray([0])],
          lambda: x.put(cp.asarray([5]), cp.asarray([1.0]), mode="raise")):
    try:
        f()
        print("accepted")
    except IndexError:
        print("IndexError")
z = cp.zeros(4)
cp.add.at(z, cp.asarray([4, 5, 0]), 1.0)
z[cp.asarray([6])] = 7.0
print(z.get().tolist())
""")
    assert out[0] == "[2.0, 3.0, 1.0] [3.0] [0.0, 4.0, 8.0] [1.0] [2.0] [0.0, 5.0, 10.0]"
    assert out[1:4] == ["IndexError"] * 3
    assert out[4] == "[2.0, 1.0, 7.0, 0.0]"


def test_fakecupy_duplicate_assignment_is_not_last_wins():
    # CuPy: which of the values written to one position lands is undefined (NumPy: the
    # last): the fake writes the first, so code relying on NumPy's order is caught
    out = _fake("""
import numpy as np, cupy as cp
y = cp.zeros(4)
y[cp.asarray([1, 1, 5])] = cp.asarray([7.0, 8.0, 9.0])
p = cp.zeros(4)
p.put(cp.asarray([2, 2]), cp.asarray([1.0, 2.0]))
w = cp.zeros((2, 3))
cp.put_along_axis(w, cp.asarray([[3, 0], [1, 1]]), cp.asarray([[1., 2.], [3., 4.]]), 1)
q = cp.zeros((2, 2))
q[cp.asarray([0, 0]), cp.asarray([1, 1])] = cp.asarray([5.0, 6.0])
print(y.get().tolist(), p.get().tolist(), w.get().tolist(), q.get().tolist())
""")
    assert out == ["[0.0, 7.0, 0.0, 0.0] [0.0, 0.0, 1.0, 0.0] [[1.0, 0.0, 0.0], "
                   "[0.0, 3.0, 0.0]] [[0.0, 5.0], [0.0, 0.0]]"]


@pytest.mark.parametrize("dev", DEVICES)
def test_searchsorted_sorter(dev):
    seq = torch.tensor([3.0, 1.0, 2.0], device=dev)
    v = torch.tensor([2.5, 0.0], device=dev)
    np.testing.assert_array_equal(A(torch.searchsorted(seq, v, sorter=L([1, 2, 0], dev))),
                                  [2, 0])
    for bad in (3, -1):
        raises(RuntimeError, "torch.searchsorted(): sorter index out of range",
               lambda: torch.searchsorted(seq, v, sorter=L([1, 2, bad], dev)))


# ------------------------------------------------------------------ repeated positions

@pytest.fixture
def deterministic():
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize("dev", DEVICES)
def test_deterministic_assignment_with_repeated_indices_writes_the_last(dev, deterministic):
    # (PyTorch: undefined by default on CUDA, the last under use_deterministic_algorithms;
    # the fake CuPy writes the first, so this fails unless gpujit orders the writes)
    v = torch.tensor([1.0, 2.0, 3.0, 4.0], device=dev)
    x = torch.zeros(3, device=dev)
    x.index_put_((L([1, 1, -2, 0], dev),), v)
    np.testing.assert_array_equal(A(x), [4, 3, 0])
    y = torch.zeros(2, 3, device=dev)
    y[L([0, 0, 1], dev), L([2, -1, 0], dev)] = torch.tensor([5.0, 6.0, 7.0], device=dev)
    y[:, L([1, 1], dev)] = torch.tensor([[8.0, 9.0]], device=dev)
    np.testing.assert_array_equal(A(y), [[0, 9, 6], [7, 9, 0]])
    s = torch.zeros(2, 3, device=dev).scatter_(1, L([[0, 0, 2], [1, 1, 1]], dev),
                                               torch.arange(6.0, device=dev).reshape(2, 3))
    np.testing.assert_array_equal(A(s), [[1, 0, 2], [0, 5, 0]])
    c = torch.zeros(3, 2, device=dev).index_copy_(0, L([2, 2], dev),
                                                  torch.tensor([[1.0, 2.0], [3.0, 4.0]],
                                                               device=dev))
    np.testing.assert_array_equal(A(c), [[0, 0], [0, 0], [3, 4]])
    p = torch.zeros(4, device=dev).put_(L([3, -1, 0], dev), v[:3])
    np.testing.assert_array_equal(A(p), [3, 0, 0, 2])


def test_assign_without_repeats_or_on_the_host():
    from gpujit.ops import bounds
    a = np.zeros(4)
    bounds.assign(np, a, np.array([1, 1]), np.array([5.0, 6.0]))
    bounds.assign(np, a, slice(2, 4), 7.0)
    np.testing.assert_array_equal(a, [0, 6, 7, 7])


@pytest.mark.cuda
def test_cpu_index_tensors_index_a_cuda_tensor():
    """As PyTorch: index tensors may be on the CPU when the indexed tensor is on a GPU
    (they move); other devices, and values on another device, are refused."""
    a = np.arange(12.0).reshape(3, 4)
    x = torch.tensor(a, dtype=torch.float32, device="cuda")
    idx = torch.tensor([2, 0, -1])
    np.testing.assert_array_equal(A(x[idx]), a[[2, 0, -1]])
    np.testing.assert_array_equal(A(x[idx, torch.tensor([1, 1, 3])]), a[[2, 0, -1], [1, 1, 3]])
    np.testing.assert_array_equal(A(x[:, torch.tensor([True, False, True, False])]),
                                  a[:, [True, False, True, False]])
    y = x.clone()
    y[torch.tensor([2, 0])] = torch.zeros(2, 4, device="cuda")
    b = a.copy()
    b[[2, 0]] = 0
    np.testing.assert_array_equal(A(y), b)
    y = x.clone()
    y.index_put_((torch.tensor([1]),), torch.tensor(7.0, device="cuda"), accumulate=True)
    b = a.copy()
    b[1] += 7
    np.testing.assert_array_equal(A(y), b)
    raises(IndexError, OOB.format(i=3, d=0, n=3), lambda: x[torch.tensor([3])])
    # a CUDA index into a CPU tensor, and values on the CPU (not 0-dim), are refused
    with pytest.raises(RuntimeError, match="indices should be either on cpu or on the same "
                                           "device as the indexed tensor"):
        torch.tensor(a)[torch.tensor([0], device="cuda")]
    with pytest.raises(RuntimeError, match="same device"):
        x.clone().index_put_((idx,), torch.zeros(3, 4))


def test_cpu_indices_in_scripted_code_follow_eager():
    """Scripted indexing with CPU tensors (the generated call) still works on the CPU."""
    def f(x, i):
        return x[i] * 2.0
    s = torch.jit.script(f)
    x = torch.arange(6.0)
    i = torch.tensor([5, 0])
    for _ in range(3):
        np.testing.assert_array_equal(A(s(x, i)), [10.0, 0.0])
