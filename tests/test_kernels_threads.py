"""Parallel CPU launches on gpujit's native thread pool (kernels/threads.py).

The pool is checked with a native function of its own that records, per element, how
often it was visited and by which thread (pthread_self), and with real fused kernels."""
from __future__ import annotations

import ctypes
import os
import threading

import numpy as np
import pytest

import gpujit
from gpujit import kernels as K
from gpujit.kernels import native, threads

from test_kernels import _R, traced, reference, assert_same

# rec(lo, hi, counts, owners, started): counts[i] += 1 and owners[i] = pthread_self() for
# i in [lo, hi); where started[1] is set, the chunk at 0 first waits (a bounded while)
# until another chunk has started, so a launch that can use several threads shows it;
# returns hi - lo
_REC_IR = f"""
declare i64 @pthread_self()
declare i32 @sched_yield()

define internal ptr @data(ptr %obj) {{
  %p = getelementptr i8, ptr %obj, i64 {native.DATA_OFFSET}
  %d = load ptr, ptr %p
  ret ptr %d
}}

define i64 @rec(i64 %lo, i64 %hi, ptr %c, ptr %o, ptr %s) {{
entry:
  %counts = call ptr @data(ptr %c)
  %owners = call ptr @data(ptr %o)
  %started = call ptr @data(ptr %s)
  %me = call i64 @pthread_self()
  %n0 = atomicrmw add ptr %started, i64 1 seq_cst
  %fp = getelementptr i64, ptr %started, i64 1
  %flag = load i64, ptr %fp
  %asked = icmp ne i64 %flag, 0
  %at0 = icmp eq i64 %lo, 0
  %first = and i1 %at0, %asked
  br i1 %first, label %wait, label %loop
wait:
  %w = phi i64 [0, %entry], [%w1, %waiting]
  %seen = load atomic i64, ptr %started seq_cst, align 8
  %others = icmp sge i64 %seen, 2
  %late = icmp ugt i64 %w, 20000000
  %stop = or i1 %others, %late
  br i1 %stop, label %loop, label %waiting
waiting:
  %w1 = add i64 %w, 1
  %y = call i32 @sched_yield()
  br label %wait
loop:
  %i = phi i64 [%lo, %entry], [%lo, %wait], [%i1, %body]
  %more = icmp slt i64 %i, %hi
  br i1 %more, label %body, label %out
body:
  %cp = getelementptr i64, ptr %counts, i64 %i
  %x = atomicrmw add ptr %cp, i64 1 seq_cst
  %op = getelementptr i64, ptr %owners, i64 %i
  store i64 %me, ptr %op
  %i1 = add i64 %i, 1
  br label %loop
out:
  %r = sub i64 %hi, %lo
  ret i64 %r
}}
"""


@pytest.fixture(scope="module")
def rec():
    native.resolve_symbols(["pthread_self", "sched_yield"])
    address, = native.load_ir(_REC_IR, {"rec": None})
    return native.kernel_function(("i64", "i64", "ptr", "ptr", "ptr"), address)


@pytest.fixture
def num_threads():
    old = threads.get_num_threads()
    yield threads.set_num_threads
    threads.set_num_threads(old)


def _record(rec, n, wait=False):
    counts, owners = np.zeros(n, np.int64), np.zeros(n, np.int64)
    started = np.array([0, wait], np.int64)
    total = threads.run_chunks(rec, n, counts, owners, started)
    return total, counts, owners


def _caller():
    self_ = ctypes.CDLL(None).pthread_self
    self_.restype = ctypes.c_uint64
    return self_()


def test_a_launch_covers_its_range_once_on_several_threads(rec, num_threads):
    num_threads(3)
    assert threads._get_pool() is not None, threads._pool_error     # (else: serial)
    n = (1 << 17) + 37                       # the last chunk is short
    total, counts, owners = _record(rec, n, wait=True)
    assert total == n                        # the chunks' results are summed
    assert (counts == 1).all()               # no gap, no overlap
    assert len(set(owners.tolist())) >= 2
    num_threads(1)
    total, counts, owners = _record(rec, n)
    assert total == n and (counts == 1).all() and set(owners.tolist()) == {_caller()}


def test_many_launches_in_a_row_and_from_several_python_threads(rec, num_threads):
    """Back-to-back launches reuse the pool's slots (a worker late for one launch must not
    run chunks of the next); launches from other Python threads while one runs go serial."""
    num_threads(2)
    for n in [1 << 13, 1 << 14, 3 << 12, 1 << 16, 12345] * 20:
        total, counts, _ = _record(rec, n)
        assert total == n and (counts == 1).all(), n
    errors = []

    def launches():
        try:
            for n in [1 << 15, 1 << 16, 40000] * 10:
                total, counts, _ = _record(rec, n)
                assert total == n and (counts == 1).all()
        except Exception as e:                 # pragma: no cover - reported below
            errors.append(e)
    ts = [threading.Thread(target=launches) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in ts)


def test_python_functions_run_serially_on_the_caller(num_threads):
    num_threads(4)
    calls = []
    assert threads.run_chunks(lambda lo, hi, k: calls.append((lo, hi)) or k * (hi - lo),
                              1 << 18, 3) == 3 << 18
    assert calls == [(0, 1 << 18)]


def test_fused_kernels_in_parallel_launches_match_eager(num_threads):
    x = _R.standard_normal((3, 1 << 15)).astype(np.float32)
    y = _R.standard_normal((1, 1 << 15)).astype(np.float32)
    g = traced(lambda a, b: (a * 0.5 + b).tanh() * (a - b).sigmoid() + a.relu(), x, y)
    for static in (True, False):
        k = K.build(K.spec_for(g, (x, y), static=static), "cpu")
        assert "_par(_kern, n," in k.launcher_source
        for t in (1, 2, 5):
            num_threads(t)
            assert_same(k(x, y)[0], reference(g, (x, y))[0], f"{t} threads")
    x2 = x[:2]                                # the DYNAMIC kernel serves a new size
    assert_same(k(x2, y)[0], reference(g, (x2, y))[0], "a new size")


def test_a_forked_child_starts_a_pool_of_its_own(rec, num_threads):
    """The parent's worker threads do not exist in a forked child."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    num_threads(2)
    _record(rec, 1 << 16)                    # the parent's pool is running
    pid = os.fork()
    if pid == 0:                             # the child: a launch must finish, correctly
        code = 1
        try:
            total, counts, _ = _record(rec, 1 << 16)
            code = 0 if total == 1 << 16 and (counts == 1).all() else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_the_thread_count_is_public_and_checked(num_threads):
    num_threads(3)
    assert gpujit.get_num_threads() == 3
    with pytest.raises(ValueError, match="positive int"):
        gpujit.set_num_threads(0)                   # the public name, as torch's
    with pytest.raises(ValueError, match="positive int"):
        gpujit.set_num_threads(True)


def test_native_helpers_are_kept_in_the_disk_cache(tmp_path, monkeypatch):
    """The pool's and the trampolines' object code is compiled once per host: a new
    process loads it (a corrupt entry is compiled again)."""
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    ir = "define i64 @twice(i64 %x) {\n  %r = add i64 %x, %x\n  ret i64 %r\n}\n"
    sig = {"twice": (ctypes.c_int64, ctypes.c_int64)}
    assert native.load_ir(ir, sig)[0](21) == 42
    entry, = tmp_path.glob("kernels/cpu/native-*.json")
    real = native._emit
    monkeypatch.setattr(native, "_emit", lambda ir: pytest.fail("compiled again"))
    assert native.load_ir(ir, sig)[0](5) == 10           # from the disk
    entry.write_bytes(entry.read_bytes()[:-9])
    monkeypatch.setattr(native, "_emit", real)
    assert native.load_ir(ir, sig)[0](4) == 8
