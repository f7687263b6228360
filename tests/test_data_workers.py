"""DataLoader with worker processes (num_workers > 0), as torch.utils.data: in-order
batches, per-worker seeds and get_worker_info, IterableDataset streams per worker,
worker errors re-raised in the main process, dead workers, timeouts, persistent workers,
clean shutdown. Every loader has a timeout so that a broken loader fails, not hangs."""
import gc
import os
import sys
import time

import numpy as np
import pytest

import gpujit
from gpujit.utils.data import DataLoader, TensorDataset, get_worker_info
import data_worker_helpers as H

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="uses the 'fork' start method")
T = 30      # the timeout of every loader (seconds)


def _loader(ds, **kw):
    kw.setdefault("num_workers", 2)
    kw.setdefault("multiprocessing_context", "fork")
    kw.setdefault("timeout", T)
    return DataLoader(ds, **kw)


def _alive(pids):
    out = []
    for p in pids:
        try:
            os.kill(p, 0)
        except OSError:
            continue
        out.append(p)
    return out


def test_in_order_batches_match_single_process():
    ds = TensorDataset(gpujit.arange(22.).reshape(11, 2), gpujit.arange(11))
    for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True},
               {"batch_size": 4, "prefetch_factor": 1}, {"batch_size": 2, "shuffle": False}):
        ref = list(DataLoader(ds, **{k: v for k, v in kw.items() if k != "prefetch_factor"}))
        got = list(_loader(ds, **kw))
        assert len(got) == len(ref) == len(_loader(ds, **kw))
        for (a, b), (c, d) in zip(got, ref):
            np.testing.assert_array_equal(a.numpy(), c.numpy())
            np.testing.assert_array_equal(b.numpy(), d.numpy())
            assert a.dtype == c.dtype and b.dtype == d.dtype


def test_in_order_false_gives_every_batch_once():
    ds = H.SquaresDataset(9)
    got = [b[1].tolist() for b in _loader(ds, batch_size=2, in_order=False)]
    assert sorted(got) == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]


def test_batch_size_none_and_collate_fn_and_generator():
    ds = H.SquaresDataset(5)
    got = list(_loader(ds, batch_size=None))
    assert [g[1] for g in got] == [0, 1, 2, 3, 4]
    assert got[2][0].tolist() == [4.0]
    got = list(_loader(ds, batch_size=2, collate_fn=lambda b: [s[1] for s in b]))
    assert got == [[0, 1], [2, 3], [4]]
    order = [list(_loader(ds, batch_size=5, shuffle=True, collate_fn=lambda b: [s[1] for s in b],
                          generator=gpujit.Generator().manual_seed(7)))[0] for _ in range(2)]
    ref = list(DataLoader(ds, batch_size=5, shuffle=True, collate_fn=lambda b: [s[1] for s in b],
                          generator=gpujit.Generator().manual_seed(7)))[0]
    assert order[0] == order[1] == ref and sorted(ref) == [0, 1, 2, 3, 4]


def test_worker_info_and_seeds():
    assert get_worker_info() is None
    gen = gpujit.Generator().manual_seed(123)
    got = list(_loader(H.InfoDataset(), batch_size=None, generator=gen))
    base = gpujit.empty((), dtype=gpujit.int64).random_(
        generator=gpujit.Generator().manual_seed(123)).item()
    assert [g["i"] for g in got] == [0, 1, 2, 3]
    assert [g["id"] for g in got] == [0, 1, 0, 1]        # round-robin over the workers
    assert all(g["num_workers"] == 2 and g["same_ds"] for g in got)
    assert [g["seed"] for g in got] == [base, base + 1, base, base + 1]
    assert got[0]["pid"] != got[1]["pid"] and os.getpid() not in (got[0]["pid"],)
    for key in ("py", "np", "gj"):              # each worker's RNGs are seeded apart
        assert got[0][key] != got[1][key]
    # the same generator seed gives the same per-worker random streams
    again = list(_loader(H.InfoDataset(), batch_size=None,
                         generator=gpujit.Generator().manual_seed(123)))
    assert [(g["py"], g["np"], g["gj"]) for g in again] == \
        [(g["py"], g["np"], g["gj"]) for g in got]


def test_worker_init_fn():
    got = list(_loader(H.InitDataset(), batch_size=None, worker_init_fn=H.record_init))
    assert got == [0, 1, 0, 1]
    with pytest.raises(RuntimeError, match="(?s)Caught RuntimeError in DataLoader "
                                           r"worker process \d.*init of worker"):
        list(_loader(H.InitDataset(), batch_size=None, worker_init_fn=H.failing_init))


def test_iterable_dataset_per_worker_streams():
    # unsharded: every worker yields the whole stream (duplicates, as torch)
    got = [b.tolist() for b in _loader(H.RangeIterable(3), batch_size=2)]
    assert got == [[0, 1], [0, 1], [2], [2]]
    got = [b.tolist() for b in _loader(H.RangeIterable(7, shard=True), batch_size=2)]
    assert got == [[0, 2], [1, 3], [4, 6], [5]]
    got = [b.tolist() for b in _loader(H.RangeIterable(7, shard=True), batch_size=2,
                                       drop_last=True)]
    assert got == [[0, 2], [1, 3], [4, 6]]
    got = [int(b) for b in _loader(H.RangeIterable(5, shard=True), batch_size=None)]
    assert got == [0, 1, 2, 3, 4]


def test_worker_exception_reraised_with_traceback():
    with pytest.raises(ValueError) as ei:
        list(_loader(H.FailingDataset(), batch_size=1))
    msg = str(ei.value)
    assert "Caught ValueError in DataLoader worker process 1" in msg
    assert "Original Traceback (most recent call last)" in msg
    assert "cannot read sample 3" in msg and "data_worker_helpers.py" in msg
    dl = _loader(H.FailingDataset(), batch_size=1, collate_fn=lambda b: b[0])
    it = iter(dl)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="cannot read sample 3"):
        next(it)
    with pytest.raises(KeyError):       # the iterator goes on after an error, as torch's
        next(it)
    assert list(it) == [5]
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        list(_loader(H.FailingDataset(), sampler=[4], batch_size=1))


def test_killed_worker_raises():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \d \(pid \d+\) is killed by "
                                           r"signal.*exited unexpectedly"):
        list(_loader(H.KillingDataset(), batch_size=1))


def test_timeout():
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 1 seconds"):
        list(_loader(H.SlowDataset(), batch_size=1, timeout=1))
    assert time.monotonic() - t0 < 10


def test_early_break_and_del_shut_workers_down():
    it = iter(_loader(H.PidDataset(), batch_size=1))
    pids = {int(next(it)) for _ in range(2)}
    workers = [w.pid for w in it._workers]
    assert pids <= set(workers)
    del it
    gc.collect()
    deadline = time.monotonic() + 10
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    # a reaped or zombie-free worker: is_alive through multiprocessing's own records
    assert not _alive(workers) or all(
        open(f"/proc/{p}/stat").read().split()[2] == "Z" for p in _alive(workers))
    dl = _loader(H.PidDataset(), batch_size=1)
    for i, _ in enumerate(dl):
        if i == 1:
            break
    gc.collect()


def test_persistent_workers_reuse_processes():
    dl = _loader(H.PidDataset(), batch_size=2, persistent_workers=True)
    first = sorted({int(p) for b in dl for p in b})
    second = sorted({int(p) for b in dl for p in b})
    assert first == second and len(first) == 2
    # an early break in a persistent epoch does not leak into the next one
    for i, b in enumerate(dl):
        break
    assert len(list(dl)) == 3
    got = [b.tolist() for b in _loader(H.RangeIterable(4, shard=True), batch_size=2,
                                       persistent_workers=True)]
    assert got == [[0, 2], [1, 3]]
    dl = _loader(H.RangeIterable(4, shard=True), batch_size=2, persistent_workers=True)
    assert [b.tolist() for b in dl] == [b.tolist() for b in dl] == [[0, 2], [1, 3]]
    del dl


def test_pin_memory_accepted_and_argument_errors():
    ds = TensorDataset(gpujit.arange(4))
    got = list(_loader(ds, batch_size=2, pin_memory=True))
    assert [b[0].tolist() for b in got] == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="multiprocessing_context can only be used"):
        DataLoader(ds, multiprocessing_context="fork")
    with pytest.raises(ValueError, match="should specify a valid start method"):
        DataLoader(ds, num_workers=2, multiprocessing_context="nope")
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    assert DataLoader(ds, num_workers=2).prefetch_factor == 2


def _gone(pids, within=10.0):
    """Whether the processes `pids` exit (or are zombies nobody reaped yet) in time."""
    deadline = time.monotonic() + within
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(open(f"/proc/{p}/stat").read().split()[2] == "Z" for p in _alive(pids))


def test_spawn_context():
    ds = H.SquaresDataset(5)
    it = iter(DataLoader(ds, batch_size=2, num_workers=2, multiprocessing_context="spawn",
                         timeout=60))
    workers = [w.pid for w in it._workers]
    got = [next(it) for _ in range(3)]
    assert [b[1].tolist() for b in got] == [[0, 1], [2, 3], [4]]
    np.testing.assert_array_equal(got[1][0].numpy(), [[4.0], [9.0]])
    assert got[1][0].dtype == gpujit.float32
    # no spawned worker outlives its iterator (what is left is multiprocessing's
    # resource tracker, which 'spawn' starts once per process, as it does under torch)
    del it
    gc.collect()
    assert _gone(workers), f"spawned workers {_alive(workers)} outlived their iterator"


def test_workers_leave_when_the_main_process_dies():
    # a child that starts a loader's workers and dies without shutting them down
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:        # (the child: never back into pytest)
        try:
            os.close(r)
            it = iter(_loader(H.PidDataset(), batch_size=1))
            next(it)
            os.write(w, (" ".join(str(p.pid) for p in it._workers) + "\n").encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:         # (a line: the workers hold the pipe open too)
        workers = [int(p) for p in f.readline().split()]
    os.waitpid(pid, 0)
    assert len(workers) == 2
    assert _gone(workers), f"workers {_alive(workers)} outlived the process that started them"


def test_matches_torch_iterable_order():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TDL, IterableDataset as TID

    class R(TID):
        def __iter__(self):
            wi = torch.utils.data.get_worker_info()
            return iter(range(wi.id, 7, wi.num_workers))
    ref = [b.tolist() for b in TDL(R(), batch_size=2, num_workers=2,
                                   multiprocessing_context="fork", timeout=T)]
    got = [b.tolist() for b in _loader(H.RangeIterable(7, shard=True), batch_size=2)]
    assert got == ref


def test_cuda_in_forked_child_is_refused(monkeypatch):
    # what a 'fork' worker sees when the main process had used the GPU (torch's error)
    D = sys.modules["gpujit.device"]     # the module (gpujit.device is the class)
    monkeypatch.setattr(D, "_cupy", object())
    monkeypatch.setattr(D, "_forked_after_cuda", False)
    D._after_fork_in_child()
    with pytest.raises(RuntimeError, match="Cannot re-initialize CUDA in forked subprocess. "
                                           "To use CUDA with multiprocessing, you must use "
                                           "the 'spawn' start method"):
        D.require_cupy()


@pytest.mark.cuda
def test_cuda_tensors_and_workers():
    x = gpujit.arange(8.).reshape(4, 2).to("cuda")
    ds = TensorDataset(x)
    with pytest.raises(RuntimeError, match="(?s)Caught RuntimeError in DataLoader worker.*"
                                           "Cannot re-initialize CUDA in forked"):
        list(_loader(ds, batch_size=2))
    # spawn: a worker may make CUDA tensors; they arrive as CUDA tensors in the main process
    got = list(DataLoader(H.CudaSquares(3), batch_size=2, num_workers=2,
                          multiprocessing_context="spawn", timeout=120))
    assert all(b.device.type == "cuda" for b in got)
    assert [b.cpu().tolist() for b in got] == [[0.0, 1.0], [4.0]]
