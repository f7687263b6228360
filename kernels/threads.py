"""Parallel CPU launches: a kernel's index range cut into chunks run on several threads.

The threads are native (pthreads started by a small LLVM IR module, compiled and loaded
with llvmlite as the kernels are): a launch goes from Python to native code once, through
ctypes, which releases the GIL, and the caller and the workers take chunks from an atomic
counter there, so no thread needs the GIL to join in. Python threads woke too slowly for
launches of 2^16–2^20 elements (tens of µs each on a 2-core VM).

The pool keeps one launch at a time in global slots, guarded like a sequence lock: the
launch counter `gen` is odd while a launch is being written, and a worker registers in
`busy` before it reads a launch, so a writer waits for `busy` to drain and a worker that
sees an odd or an old counter backs off. Idle workers watch `gen` ~0.25 ms (4096 reads,
then a sched_yield each round, so a worker sharing a core with the caller gives it back),
then sleep on a condition variable (woken only when one sleeps). Kernels differ in their
parameters: a per-signature trampoline unpacks a launch's arguments from 8-byte slots.

`set_num_threads` / `get_num_threads` (also `gpujit.set_num_threads`, as
`torch.set_num_threads`; or GPUJIT_NUM_THREADS) choose how many threads take part; the
default is the number of CPUs this process may run on. Launches below kernels/emit.py
PARALLEL_MIN elements, launches from a second Python thread while one runs, and hosts
where the pool cannot be built run on the calling thread alone.
"""
from __future__ import annotations

import ctypes
import os
import struct
import threading

__all__ = ["get_num_threads", "set_num_threads", "run_chunks"]

_ALIGN = 64           # chunk boundaries at multiples of this many elements (cache lines)
_MIN_CHUNK = 1 << 12  # elements: smaller chunks cost more to hand out than they save
_SPIN = 6_000         # rounds (~0.25 ms: 4096 reads, then sched_yield calls) an idle
                      # worker watches for a launch before it sleeps


def _default_threads():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _env_threads(name="GPUJIT_NUM_THREADS"):
    value = os.environ.get(name, "")
    try:
        return max(0, int(value)) if value else 0
    except ValueError:
        import warnings
        warnings.warn(f"{name}={value!r} is not an int; using the CPU count")
        return 0


_threads = _env_threads() or _default_threads()
_explicit = bool(_env_threads())
_omp_threads = _env_threads("OMP_NUM_THREADS")


def get_num_threads() -> int:
    """The number of threads a CPU kernel launch may use."""
    return _threads


def torch_threads() -> int:
    """The thread count PyTorch's CPU kernels would split their work by here: set_num_threads'
    or GPUJIT_NUM_THREADS's when given, else OMP_NUM_THREADS's (PyTorch's intra-op pool reads
    it), else get_num_threads(). Sums that copy ATen's order (ops/reduction_cascade) split by
    it; kernel launches keep get_num_threads()."""
    return _threads if _explicit else (_omp_threads or _threads)


def set_num_threads(n: int) -> None:
    """Use at most n threads per CPU kernel launch (n >= 1)."""
    global _threads, _explicit
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive int, got {n!r}")
    _threads, _explicit = n, True


# ------------------------------------------------------------------ the native pool

_POOL_IR = """
@gen = internal global i64 0, align 64
@busy = internal global i64 0, align 64
@sleepers = internal global i64 0, align 64
@next = internal global i64 0, align 64
@done = internal global i64 0, align 64
@result = internal global i64 0, align 64
@joined = internal global i64 0, align 64
@slots = internal global i64 0, align 8
@tramp = internal global ptr null, align 8
@fn = internal global ptr null, align 8
@args = internal global ptr null, align 8
@n = internal global i64 0, align 8
@step = internal global i64 0, align 8
@chunks = internal global i64 0, align 8
@spin_limit = internal global i64 0, align 8
@mutex = internal global [64 x i64] zeroinitializer, align 64
@cond = internal global [64 x i64] zeroinitializer, align 64

declare i32 @pthread_create(ptr, ptr, ptr, ptr)
declare i32 @pthread_mutex_init(ptr, ptr)
declare i32 @pthread_cond_init(ptr, ptr)
declare i32 @pthread_mutex_lock(ptr)
declare i32 @pthread_mutex_unlock(ptr)
declare i32 @pthread_cond_wait(ptr, ptr)
declare i32 @pthread_cond_broadcast(ptr)
declare i32 @sched_yield()

; a launch newer than `seen` is ready: the counter moved and is even
define internal i1 @ready(i64 %g, i64 %seen) {
  %new = icmp ne i64 %g, %seen
  %odd = and i64 %g, 1
  %even = icmp eq i64 %odd, 0
  %r = and i1 %new, %even
  ret i1 %r
}

; until lo <= *p <= hi: spin, and after 4096 rounds give the CPU away each round
define internal void @spin_until(ptr %p, i64 %lo, i64 %hi) {
entry:
  br label %test
test:
  %i = phi i64 [0, %entry], [%i1, %wait], [%i1, %yield]
  %v = load atomic i64, ptr %p seq_cst, align 8
  %above = icmp sge i64 %v, %lo
  %below = icmp sle i64 %v, %hi
  %in = and i1 %above, %below
  br i1 %in, label %out, label %wait
wait:
  %i1 = add i64 %i, 1
  %long = icmp ugt i64 %i1, 4096
  br i1 %long, label %yield, label %test
yield:
  %y = call i32 @sched_yield()
  br label %test
out:
  ret void
}

; take chunks of the current launch until none is left
define internal void @work() {
entry:
  %t = load ptr, ptr @tramp
  %f = load ptr, ptr @fn
  %a = load ptr, ptr @args
  %n = load i64, ptr @n
  %step = load i64, ptr @step
  %chunks = load i64, ptr @chunks
  br label %loop
loop:
  %k = atomicrmw add ptr @next, i64 1 seq_cst
  %more = icmp slt i64 %k, %chunks
  br i1 %more, label %run, label %out
run:
  %lo = mul i64 %k, %step
  %hi0 = add i64 %lo, %step
  %over = icmp sgt i64 %hi0, %n
  %hi = select i1 %over, i64 %n, i64 %hi0
  %r = call i64 %t(ptr %f, i64 %lo, i64 %hi, ptr %a)
  %x = atomicrmw add ptr @result, i64 %r seq_cst
  %d = atomicrmw add ptr @done, i64 1 seq_cst
  br label %loop
out:
  ret void
}

; until a launch newer than `seen` is ready: spin a while (after 4096 reads giving the
; CPU away each round), then sleep
define internal void @await(i64 %seen) {
entry:
  %limit = load i64, ptr @spin_limit
  br label %spin
spin:
  %i = phi i64 [0, %entry], [%i1, %pace], [%i1, %yield]
  %g = load atomic i64, ptr @gen seq_cst, align 8
  %ok = call i1 @ready(i64 %g, i64 %seen)
  br i1 %ok, label %out, label %again
again:
  %i1 = add i64 %i, 1
  %more = icmp ult i64 %i1, %limit
  br i1 %more, label %pace, label %sleep
pace:
  %long = icmp ugt i64 %i1, 4096
  br i1 %long, label %yield, label %spin
yield:
  %y = call i32 @sched_yield()
  br label %spin
sleep:
  %l = call i32 @pthread_mutex_lock(ptr @mutex)
  %s0 = atomicrmw add ptr @sleepers, i64 1 seq_cst
  br label %check
check:
  %g2 = load atomic i64, ptr @gen seq_cst, align 8
  %ok2 = call i1 @ready(i64 %g2, i64 %seen)
  br i1 %ok2, label %woken, label %wait
wait:
  %w = call i32 @pthread_cond_wait(ptr @cond, ptr @mutex)
  br label %check
woken:
  %s1 = atomicrmw sub ptr @sleepers, i64 1 seq_cst
  %u = call i32 @pthread_mutex_unlock(ptr @mutex)
  br label %out
out:
  ret void
}

define internal ptr @worker(ptr %unused) {
entry:
  br label %top
top:
  %seen = phi i64 [0, %entry], [%seen, %leave], [%g, %finish]
  call void @await(i64 %seen)
  %b = atomicrmw add ptr @busy, i64 1 seq_cst
  %g = load atomic i64, ptr @gen seq_cst, align 8
  %ok = call i1 @ready(i64 %g, i64 %seen)
  br i1 %ok, label %join, label %leave
join:
  %slot = atomicrmw add ptr @joined, i64 1 seq_cst
  %slots = load i64, ptr @slots
  %in = icmp slt i64 %slot, %slots
  br i1 %in, label %dowork, label %finish
dowork:
  call void @work()
  br label %finish
finish:
  %b1 = atomicrmw sub ptr @busy, i64 1 seq_cst
  br label %top
leave:
  %b2 = atomicrmw sub ptr @busy, i64 1 seq_cst
  br label %top
}

define i32 @gpujit_pool_init(i64 %spin) {
  store i64 %spin, ptr @spin_limit
  %m = call i32 @pthread_mutex_init(ptr @mutex, ptr null)
  %c = call i32 @pthread_cond_init(ptr @cond, ptr null)
  %r = or i32 %m, %c
  ret i32 %r
}

define i32 @gpujit_pool_spawn() {
  %id = alloca [8 x i64], align 8
  %r = call i32 @pthread_create(ptr %id, ptr null, ptr @worker, ptr null)
  ret i32 %r
}

; one launch: tramp(fn, lo, hi, args) over chunks of `step` in [0, n), on the caller and
; on up to `slots` workers; the sum of what the chunks return
define i64 @gpujit_pool_run(ptr %t, ptr %f, ptr %a, i64 %n, i64 %step, i64 %chunks,
                            i64 %slots) {
entry:
  %g = load atomic i64, ptr @gen seq_cst, align 8
  %odd = add i64 %g, 1
  store atomic i64 %odd, ptr @gen seq_cst, align 8
  call void @spin_until(ptr @busy, i64 0, i64 0)
  store ptr %t, ptr @tramp
  store ptr %f, ptr @fn
  store ptr %a, ptr @args
  store i64 %n, ptr @n
  store i64 %step, ptr @step
  store i64 %chunks, ptr @chunks
  store i64 %slots, ptr @slots
  store atomic i64 0, ptr @next seq_cst, align 8
  store atomic i64 0, ptr @done seq_cst, align 8
  store atomic i64 0, ptr @result seq_cst, align 8
  store atomic i64 0, ptr @joined seq_cst, align 8
  %even = add i64 %g, 2
  store atomic i64 %even, ptr @gen seq_cst, align 8
  %sl = load atomic i64, ptr @sleepers seq_cst, align 8
  %any = icmp ne i64 %sl, 0
  br i1 %any, label %wake, label %run
wake:
  %l = call i32 @pthread_mutex_lock(ptr @mutex)
  %c = call i32 @pthread_cond_broadcast(ptr @cond)
  %u = call i32 @pthread_mutex_unlock(ptr @mutex)
  br label %run
run:
  call void @work()
  call void @spin_until(ptr @done, i64 %chunks, i64 9223372036854775807)
  %r = load atomic i64, ptr @result seq_cst, align 8
  ret i64 %r
}
"""

_SYMBOLS = ("pthread_create", "pthread_mutex_init", "pthread_cond_init", "pthread_mutex_lock",
            "pthread_mutex_unlock", "pthread_cond_wait", "pthread_cond_broadcast",
            "sched_yield")
_SLOT = {"ptr": "q", "i64": "q", "i8": "q", "double": "d"}


def _trampoline_ir(params):
    """tramp(fn, lo, hi, args): fn(lo, hi, *args) with args unpacked from 8-byte slots."""
    body, call = [], []
    for k, t in enumerate(params):
        body.append(f"  %p{k} = getelementptr i64, ptr %a, i64 {k}")
        if t == "i8":
            body.append(f"  %w{k} = load i64, ptr %p{k}")
            body.append(f"  %v{k} = trunc i64 %w{k} to i8")
        else:
            body.append(f"  %v{k} = load {t}, ptr %p{k}")
        call.append(f"{t} %v{k}")
    return "\n".join([
        "define i64 @gpujit_trampoline(ptr %f, i64 %lo, i64 %hi, ptr %a) {", *body,
        f"  %r = call i64 %f(i64 %lo, i64 %hi{''.join(', ' + c for c in call)})",
        "  ret i64 %r", "}", ""])


class _Pool:
    """The native pool of this process: its entry points, its workers, a trampoline per
    kernel signature."""

    def __init__(self):
        from . import native
        missing = native.resolve_symbols(_SYMBOLS)
        if missing:
            raise native.NativeLoadError(f"symbols not found in this process: {missing}")
        init, spawn, run = native.load_ir(
            _POOL_IR, {"gpujit_pool_init": (ctypes.c_int32, ctypes.c_int64),
                       "gpujit_pool_spawn": (ctypes.c_int32,),
                       "gpujit_pool_run": (ctypes.c_int64, *[ctypes.c_void_p] * 3,
                                           *[ctypes.c_int64] * 4)})
        if init(_SPIN):
            raise native.NativeLoadError("pthread_mutex_init/pthread_cond_init failed")
        self.spawn, self.run, self.workers = spawn, run, 0
        self.trampolines = {}
        self.lock = threading.Lock()     # one launch at a time

    def grow(self, workers):
        while self.workers < workers:
            if self.spawn():
                break                    # no more threads: run with the ones there are
            self.workers += 1

    def trampoline(self, params):
        """(address of the trampoline, struct packing the arguments) for params."""
        t = self.trampolines.get(params)
        if t is None:
            from . import native
            address, = native.load_ir(_trampoline_ir(params), {"gpujit_trampoline": None})
            t = self.trampolines[params] = (address,
                                            struct.Struct("<" + "".join(_SLOT[p] for p in params)))
        return t


_pool = None
_pool_error = None
_pool_lock = threading.Lock()


def _forget_pool():          # a forked child has none of the parent's threads
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _get_pool():
    global _pool, _pool_error
    if _pool is None and _pool_error is None:
        with _pool_lock:
            if _pool is None and _pool_error is None:
                try:
                    _pool = _Pool()
                except Exception as e:        # the launches run on the caller alone
                    _pool_error = e
                    import warnings
                    warnings.warn(f"gpujit: CPU kernels run on one thread, the thread "
                                  f"pool could not be built: {e}", RuntimeWarning)
    return _pool


def run_chunks(fn, n, *args):
    """fn(start, stop, *args) over [0, n) in chunks on up to get_num_threads() threads;
    the sum of what the calls return. fn is a native kernel: a ctypes function with
    `params` (its C parameter types, kernels/native.py); anything else runs serially."""
    t = min(_threads, max(1, n // _MIN_CHUNK))
    params = getattr(fn, "params", None)
    pool = _get_pool() if t > 1 and params is not None else None
    if pool is None or not pool.lock.acquire(blocking=False):
        return fn(0, n, *args)
    try:
        pool.grow(t - 1)
        cached = getattr(fn, "pooled", None)      # (pool, trampoline, packer, pointers?)
        if cached is None or cached[0] is not pool:
            tramp, pack = pool.trampoline(tuple(params[2:]))
            cached = fn.pooled = (pool, tramp, pack.pack, [p == "ptr" for p in params[2:]])
        _, tramp, pack, ptrs = cached
        slots = pack(*[id(a) if k else a for k, a in zip(ptrs, args)])
        pieces = min(8 * t, n // _MIN_CHUNK)
        step = -(-n // pieces)
        step = -(-step // _ALIGN) * _ALIGN
        return pool.run(tramp, fn.address, slots, n, step, -(-n // step), t - 1)
    finally:
        pool.lock.release()
