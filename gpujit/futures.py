"""torch.futures: `Future` (gpujit.jit.Future, the same class, as torch.jit.Future is
torch.futures.Future), `collect_all` and `wait_all`."""
from __future__ import annotations

import threading

from .jit.futures import Future

__all__ = ["Future", "collect_all", "wait_all"]


def _futures(futures, who):
    try:
        futs = list(futures)
    except TypeError:
        futs = None
    if futs is None or not all(isinstance(f, Future) for f in futs):
        raise TypeError(f"{who}(): expected a sequence of Futures, got "
                        f"{type(futures).__name__}"
                        + ("" if futs is None else
                           f" holding {', '.join(sorted({type(f).__name__ for f in futs}))}"))
    return futs


def collect_all(futures):
    """A Future that completes when every Future in `futures` has: its value is the list
    of those Futures; if one failed, it fails with that one's error (the first in order
    among those that failed once all are done)."""
    futs = _futures(futures, "collect_all")
    out = Future()
    if not futs:
        out.set_result([])
        return out
    left = [len(futs)]

    def one_done(_):
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:
            for f in futs:
                if f._error is not None:
                    out.set_exception(f._error)
                    return
            out.set_result(futs)

    lock = threading.Lock()
    for f in futs:
        f.add_done_callback(one_done)
    return out


def wait_all(futures):
    """The values of all the Futures, once all are done; raises the error of one that
    failed."""
    return [f.wait() for f in collect_all(futures).wait()]
