"""Fake cupy.cuda.memory: OutOfMemoryError, the current allocator (set_allocator /
get_allocator / alloc), called with each new array's size as CuPy's array creation calls
it. The default allocator is the default pool's malloc, which raises OutOfMemoryError past
the pool's limit (MemoryPool.set_limit). The fake's arrays keep their NumPy buffers: the
MemoryPointer an allocator returns is bookkeeping."""


class OutOfMemoryError(MemoryError):
    def __init__(self, size, total, limit=0):
        self._size, self._total, self._limit = size, total, limit
        if limit == 0:
            msg = f"Out of memory allocating {size:,} bytes"
            if total != -1:
                msg += f" (allocated so far: {total:,} bytes)."
        else:
            msg = (f"Out of memory allocating {size:,} bytes (allocated so far: {total:,} "
                   f"bytes, limit set to: {limit:,} bytes).")
        super().__init__(msg)

    def __reduce__(self):
        return (type(self), (self._size, self._total, self._limit))


_current_allocator = None       # None: the default pool's malloc


def set_allocator(allocator=None):
    global _current_allocator
    if allocator is None:       # (CuPy: the raw cudaMalloc allocator; the fake's pool)
        from .. import _POOL
        allocator = _POOL.malloc
    _current_allocator = allocator


def get_allocator():
    if _current_allocator is None:
        from .. import _POOL
        return _POOL.malloc
    return _current_allocator


def alloc(size):
    return get_allocator()(size)


def _allocated(nbytes):
    """A new array of nbytes was made (and counted in the pool's used bytes): call the
    current allocator, as CuPy's array creation does."""
    alloc(nbytes)
