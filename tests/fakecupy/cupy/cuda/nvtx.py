"""Fake cupy.cuda.nvtx: the ranges and marks pushed, per thread, for tests to read."""
import threading

available = True


class _Log(threading.local):
    def __init__(self):
        self.stack, self.marks = [], []


_LOG = _Log()


def RangePush(message, id_color=-1, argb_color=None):
    if not isinstance(message, str):
        raise TypeError(f"fake cupy: RangePush takes a str message, not {type(message)}")
    _LOG.stack.append(message)


def RangePop():
    if _LOG.stack:      # (NVTX ignores an unmatched pop)
        _LOG.stack.pop()


def Mark(message, id_color=-1, argb_color=None):
    if not isinstance(message, str):
        raise TypeError(f"fake cupy: Mark takes a str message, not {type(message)}")
    _LOG.marks.append(message)
