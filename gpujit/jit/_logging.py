"""torch.jit._logging: TorchScript's statistics counters. `add_stat_value(key, val)` adds
val to the counter `key` of the current logger, `time_point()` reads a monotonic clock in
nanoseconds; they are the graph ops prim::AddStatValue / prim::TimePoint
(torch.ops.prim.AddStatValue), so eager, scripted and traced calls all report to the logger
`set_logger` installed (a NoopLogger by default)."""
from __future__ import annotations

import enum
import threading
import time

__all__ = ["AggregationType", "LockingLogger", "NoopLogger", "add_stat_value", "set_logger",
           "time_point"]


class AggregationType(enum.Enum):
    """How LockingLogger.get_counter_val combines a counter's values."""
    SUM = 0
    AVG = 1


class LoggerBase:
    """A logger: receives every AddStatValue."""

    def add_stat_value(self, key, val):
        raise NotImplementedError


class NoopLogger(LoggerBase):
    """The default logger: drops every value."""

    def add_stat_value(self, key, val):
        pass


class LockingLogger(LoggerBase):
    """Keeps, per counter, the sum and count of its values (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._raw = {}           # key -> [sum, count]
        self._agg = {}           # key -> AggregationType

    def add_stat_value(self, key, val):
        with self._lock:
            c = self._raw.setdefault(key, [0, 0])
            c[0] += val
            c[1] += 1

    def get_counter_val(self, name):
        """The counter's sum (SUM, the default) or sum / count rounded toward zero (AVG,
        C++'s integer division); 0 when nothing was added to it."""
        _check_str(name, "get_counter_val")
        with self._lock:
            c = self._raw.get(name)
            if c is None:
                return 0
            if self._agg.get(name, AggregationType.SUM) is AggregationType.AVG:
                q = abs(c[0]) // c[1]
                return q if c[0] >= 0 else -q
            return c[0]

    def set_aggregation_type(self, stat_name, type):
        _check_str(stat_name, "set_aggregation_type")
        if not isinstance(type, AggregationType):
            raise TypeError(f"set_aggregation_type(): expected an AggregationType, got "
                            f"{type.__class__.__name__}")
        with self._lock:
            self._agg[stat_name] = type


def _check_str(v, where):
    if not isinstance(v, str):
        raise TypeError(f"{where}(): expected a str counter name, got {type(v).__name__}")


_current = [NoopLogger()]
_current_lock = threading.Lock()


def set_logger(logger):
    """Make `logger` the one AddStatValue reports to; returns the previous one."""
    if not isinstance(logger, LoggerBase):
        raise TypeError(f"set_logger(): expected a logger (NoopLogger, LockingLogger), got "
                        f"{type(logger).__name__}")
    with _current_lock:
        old, _current[0] = _current[0], logger
    return old


def _add_stat_value(key, val):
    """prim::AddStatValue(str key, int val) -> () (eager and compiled code call this)."""
    _check_str(key, "AddStatValue")
    if isinstance(val, bool) or not isinstance(val, int):
        raise TypeError(f"AddStatValue(): expected an int value, got {type(val).__name__}")
    _current[0].add_stat_value(key, val)


def _time_point():
    """prim::TimePoint() -> int: a monotonic clock, in nanoseconds."""
    return time.perf_counter_ns()


from ..ops.namespace import namespace as _namespace  # noqa: E402

add_stat_value = _namespace("prim").AddStatValue      # torch.ops.prim.AddStatValue
time_point = _namespace("prim").TimePoint             # torch.ops.prim.TimePoint
