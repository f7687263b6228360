"""torch.cuda's memory statistics and OutOfMemoryError, on CuPy's default memory pool.

"Allocated" is what live arrays hold in the pool (used bytes), "reserved" what the pool
holds from the driver (total bytes). When gpujit first finds a GPU it wraps CuPy's current
allocator (cupy.cuda.set_allocator): a CuPy OutOfMemoryError becomes
torch.cuda.OutOfMemoryError (still a CuPy OutOfMemoryError too, for CuPy's own fallbacks)
and, once a program has asked for a peak (max_memory_allocated/reserved,
reset_peak_memory_stats, memory_stats, memory_summary), each allocation updates the
device's peaks: peaks count from that first call, not from the start of the process as
PyTorch's (reading the pool's counters costs O(live arrays) per allocation in CuPy
releases before the atomic counters, so programs that never ask pay nothing for them).
A kernel launch that recycles its outputs allocates nothing, so the fused per-call path is
untouched. The other
counters of torch's caching allocator (segments, allocation counts, oversize blocks) have
no CuPy counterpart and are not reported.
"""
from __future__ import annotations

import collections
import warnings

from ..device import cupy_or_none, ON_CUDA_INIT

__all__ = ["OutOfMemoryError", "memory_allocated", "memory_reserved", "max_memory_allocated",
           "max_memory_reserved", "reset_peak_memory_stats", "reset_max_memory_allocated",
           "reset_max_memory_cached", "reset_accumulated_memory_stats", "memory_stats",
           "memory_summary", "mem_get_info", "empty_cache", "memory_cached",
           "max_memory_cached", "set_per_process_memory_fraction",
           "get_per_process_memory_fraction"]


class OutOfMemoryError(RuntimeError):
    """CUDA out of memory (torch.cuda.OutOfMemoryError, torch.OutOfMemoryError)."""


_peaks: dict = {}           # device index -> [allocated peak, reserved peak]
_oom_classes: dict = {}     # CuPy's OutOfMemoryError class -> our subclass of both


def _fmt(n) -> str:
    """A byte count as torch's OOM message writes it."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.2f} {unit}"
    return f"{int(n)} bytes"


def _oom_error(cp, err, size):
    """torch's OutOfMemoryError (also CuPy's class) for CuPy's `err` allocating size."""
    cls = _oom_classes.get(type(err))
    if cls is None:
        cls = _oom_classes[type(err)] = type(
            "OutOfMemoryError", (OutOfMemoryError, type(err)),
            {"__module__": __name__, "__init__": RuntimeError.__init__,
             "__reduce__": RuntimeError.__reduce__})
    dev = cp.cuda.runtime.getDevice()
    pool = cp.get_default_memory_pool()
    used, held = int(pool.used_bytes()), int(pool.total_bytes())
    try:
        free, total = cp.cuda.Device(dev).mem_info
        cap = f"GPU {dev} has a total capacity of {_fmt(total)} of which {_fmt(free)} is free. "
    except Exception:   # (the driver may not answer now)
        cap = ""
    return cls(f"CUDA out of memory. Tried to allocate {_fmt(size)}. {cap}Of the allocated "
               f"memory {_fmt(used)} is allocated by gpujit (CuPy's memory pool), and "
               f"{_fmt(held - used)} is reserved but unallocated. (CuPy: {err})")


def _install(cp):
    """Wrap CuPy's current allocator: peaks per device, torch's OutOfMemoryError."""
    if not hasattr(cp.cuda, "get_allocator"):     # (a stand-in without CuPy's allocators)
        return
    inner = cp.cuda.get_allocator()
    pool = cp.get_default_memory_pool()
    used, held, get_device = pool.used_bytes, pool.total_bytes, cp.cuda.runtime.getDevice
    cupy_oom = cp.cuda.memory.OutOfMemoryError

    def malloc(size):
        try:
            mem = inner(size)
        except cupy_oom as e:
            raise _oom_error(cp, e, size) from e
        if not _tracking[0]:
            return mem
        pk = _peaks.get(get_device())
        if pk is None:
            pk = _peaks.setdefault(get_device(), [0, 0])
        u = used()
        if u > pk[0]:
            pk[0] = u
        u = held()
        if u > pk[1]:
            pk[1] = u
        return mem

    malloc.gpujit_wraps = inner
    cp.cuda.set_allocator(malloc)


ON_CUDA_INIT.append(_install)


def _pool_bytes(device):
    """(used, total) bytes of the device's pool, or None without a GPU."""
    cp = cupy_or_none()
    if cp is None:
        return None
    from . import _index
    with cp.cuda.Device(_index(device)):
        pool = cp.get_default_memory_pool()
        return int(pool.used_bytes()), int(pool.total_bytes())


_tracking = [False]      # has a peak been asked for (the allocator then updates peaks)?


def _peak(device):
    """[allocated, reserved] peaks of the device, at least the current amounts."""
    _tracking[0] = True
    cur = _pool_bytes(device)
    if cur is None:
        return None, [0, 0]
    from . import _index
    cp = cupy_or_none()
    pk = _peaks.setdefault(_index(device), [0, 0])
    pk[0], pk[1] = max(pk[0], cur[0]), max(pk[1], cur[1])
    return cp, pk


def memory_allocated(device=None) -> int:
    """Bytes held by live arrays in CuPy's memory pool (0 without a GPU)."""
    cur = _pool_bytes(device)
    return 0 if cur is None else cur[0]


def memory_reserved(device=None) -> int:
    """Bytes CuPy's memory pool holds from the driver, used or cached (0 without a GPU)."""
    cur = _pool_bytes(device)
    return 0 if cur is None else cur[1]


def max_memory_allocated(device=None) -> int:
    """The peak of memory_allocated since the start or reset_peak_memory_stats."""
    return _peak(device)[1][0]


def max_memory_reserved(device=None) -> int:
    """The peak of memory_reserved since the start or reset_peak_memory_stats."""
    return _peak(device)[1][1]


def reset_peak_memory_stats(device=None) -> None:
    """Start the peaks again from the current amounts (a no-op without a GPU)."""
    _tracking[0] = True
    cur = _pool_bytes(device)
    if cur is not None:
        from . import _index
        _peaks[_index(device)] = list(cur)


def reset_max_memory_allocated(device=None) -> None:
    warnings.warn("torch.cuda.reset_max_memory_allocated now calls "
                  "torch.cuda.reset_peak_memory_stats, which resets /all/ peak memory stats.",
                  FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def reset_max_memory_cached(device=None) -> None:
    warnings.warn("torch.cuda.reset_max_memory_cached now calls "
                  "torch.cuda.reset_peak_memory_stats, which resets /all/ peak memory stats.",
                  FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def reset_accumulated_memory_stats(device=None) -> None:
    """No accumulated counters are kept (see the module's docstring): a no-op."""


def memory_cached(device=None) -> int:
    warnings.warn("torch.cuda.memory_cached has been renamed to torch.cuda.memory_reserved",
                  FutureWarning, stacklevel=2)
    return memory_reserved(device)


def max_memory_cached(device=None) -> int:
    warnings.warn("torch.cuda.max_memory_cached has been renamed to "
                  "torch.cuda.max_memory_reserved", FutureWarning, stacklevel=2)
    return max_memory_reserved(device)


_POOLS = ("all", "large_pool", "small_pool")


def memory_stats(device=None) -> collections.OrderedDict:
    """torch's keys for the amounts CuPy's pool knows: "allocated_bytes.<pool>.current/peak",
    "reserved_bytes.<pool>.current/peak", "active_bytes.*" (= allocated) and
    "inactive_split_bytes.*" (reserved but unused); every pool is reported as "all" (CuPy
    does not split small and large blocks into pools of their own). Empty without a GPU,
    as torch's."""
    cur = _pool_bytes(device)
    if cur is None:
        return collections.OrderedDict()
    _, pk = _peak(device)
    stats = {}
    for name, now, peak in (("allocated_bytes", cur[0], pk[0]),
                            ("active_bytes", cur[0], pk[0]),
                            ("reserved_bytes", cur[1], pk[1]),
                            ("inactive_split_bytes", cur[1] - cur[0], pk[1])):
        for pool in _POOLS:                 # (all of it counted as "large")
            small = pool == "small_pool"
            stats[f"{name}.{pool}.current"] = 0 if small else now
            stats[f"{name}.{pool}.peak"] = 0 if small else peak
    return collections.OrderedDict(sorted(stats.items()))


def memory_summary(device=None, abbreviated=False) -> str:
    """A table of memory_stats as torch.cuda.memory_summary prints its rows."""
    from . import _index
    stats = memory_stats(device)
    dev = _index(device) if cupy_or_none() is not None else 0
    rule = "|" + "=" * 75 + "|"
    lines = [rule, f"|{' PyTorch CUDA memory summary, device ID ' + str(dev):<75}|",
             f"|{' (gpujit on CuPy: its default memory pool; no per-pool split)':<75}|",
             rule, "|        Metric         | Cur Usage  | Peak Usage |",
             "|" + "-" * 75 + "|"]
    for key, title in (("allocated_bytes", "Allocated memory"), ("active_bytes", "Active memory"),
                       ("reserved_bytes", "GPU reserved memory"),
                       ("inactive_split_bytes", "Non-releasable memory")):
        cur = stats.get(f"{key}.all.current", 0)
        peak = stats.get(f"{key}.all.peak", 0)
        lines.append(f"| {title:<22}| {_fmt(cur):>10} | {_fmt(peak):>10} |")
    lines.append(rule)
    return "\n".join(lines) + "\n"


def mem_get_info(device=None) -> tuple:
    """(free, total) bytes of the device, as the driver reports them."""
    from . import _index
    from ..device import require_cupy
    cp = require_cupy("gpujit.cuda.mem_get_info")
    free, total = cp.cuda.Device(_index(device)).mem_info
    return int(free), int(total)


def empty_cache() -> None:
    """Return the unused blocks of CuPy's memory pools to the driver."""
    cp = cupy_or_none()
    if cp is not None:
        cp.get_default_memory_pool().free_all_blocks()
        cp.get_default_pinned_memory_pool().free_all_blocks()


def set_per_process_memory_fraction(fraction, device=None) -> None:
    """Limit the device's pool to `fraction` of its memory (CuPy's MemoryPool.set_limit);
    past it an allocation raises OutOfMemoryError."""
    from . import _index
    from ..device import require_cupy
    cp = require_cupy("gpujit.cuda.set_per_process_memory_fraction")
    idx = _index(device)
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    if not 0 <= fraction <= 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    with cp.cuda.Device(idx):
        cp.get_default_memory_pool().set_limit(fraction=fraction)
    _fractions[idx] = fraction


_fractions: dict = {}


def get_per_process_memory_fraction(device=None) -> float:
    from . import _index
    from ..device import require_cupy
    require_cupy("gpujit.cuda.get_per_process_memory_fraction")
    return _fractions.get(_index(device), 1.0)
