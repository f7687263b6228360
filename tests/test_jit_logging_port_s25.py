"""PyTorch's test/jit/test_logging.py, ported as behaviour (session 25, helper H25):
TorchScript's statistics counters, torch.jit._logging -- `add_stat_value(key, val)` and
`time_point()` (the graph ops prim::AddStatValue / prim::TimePoint), reported to the logger
`set_logger` installs (LockingLogger: per-counter SUM or AVG), from scripted code, from a
trace (the calls are recorded into the traced graph) and eagerly.

Skipped: test_logging_levels_set (torch._C._jit_set_logging_option: the C++ JIT_LOG level
switch, a TorchScript internal gpujit has no counterpart of).
Beyond the file: the ops survive the optimizer (never dropped, merged or folded: every
call counts, each time_point reads the clock), jit.save / jit.load of scripted and traced
code, and the refusals (a non-logger for set_logger, wrong argument types).
"""
import io

import pytest

import gpujit as torch

L = torch.jit._logging


@pytest.fixture
def logger():
    lg = L.LockingLogger()
    old = L.set_logger(lg)
    try:
        yield lg
    finally:
        assert L.set_logger(old) is lg


def _roundtrip(m):
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    return torch.jit.load(buf)


# ------------------------------------------------------------------ test_bump_numeric_counter

class ModuleThatLogs(torch.jit.ScriptModule):
    @torch.jit.script_method
    def forward(self, x):
        for i in range(x.size(0)):
            x += 1.0
            torch.jit._logging.add_stat_value("foo", 1)
        if bool(x.sum() > 0.0):
            torch.jit._logging.add_stat_value("positive", 1)
        else:
            torch.jit._logging.add_stat_value("negative", 1)
        return x


def test_bump_numeric_counter(logger):
    mtl = ModuleThatLogs()
    for _ in range(5):          # profiled and optimized runs alike
        mtl(torch.rand(3, 4, 5))
    assert logger.get_counter_val("foo") == 15
    assert logger.get_counter_val("positive") == 5
    assert logger.get_counter_val("negative") == 0


# ------------------------------------------------------------------ test_trace_numeric_counter

def _logs_once(x):
    torch.jit._logging.add_stat_value("foo", 1)
    return x + 1.0


def test_trace_numeric_counter():
    traced = torch.jit.trace(_logs_once, torch.rand(3, 4))
    assert "prim::AddStatValue" in str(traced.graph)
    lg = L.LockingLogger()
    old = L.set_logger(lg)
    try:
        traced(torch.rand(3, 4))
        assert lg.get_counter_val("foo") == 1
    finally:
        L.set_logger(old)


# ------------------------------------------------------------------ test_time_measurement_*

class ModuleThatTimes(torch.jit.ScriptModule):
    def forward(self, x):             # (not a script method: runs as Python)
        tp_start = torch.jit._logging.time_point()
        for i in range(30):
            x += 1.0
        tp_end = torch.jit._logging.time_point()
        torch.jit._logging.add_stat_value("mytimer", tp_end - tp_start)
        return x


class ModuleThatTimesScripted(torch.jit.ScriptModule):
    @torch.jit.script_method
    def forward(self, x):
        tp_start = torch.jit._logging.time_point()
        for i in range(30):
            x += 1.0
        tp_end = torch.jit._logging.time_point()
        torch.jit._logging.add_stat_value("mytimer", tp_end - tp_start)
        return x


@pytest.mark.parametrize("cls", [ModuleThatTimes, ModuleThatTimesScripted])
def test_time_measurement_counter(logger, cls):
    m = cls()
    for _ in range(3):
        m(torch.rand(3, 4))
    assert logger.get_counter_val("mytimer") > 0


# ------------------------------------------------------------------ test_counter_aggregation

def _logs_three_times(x):
    for i in range(3):
        torch.jit._logging.add_stat_value("foo", 1)
    return x + 1.0


def test_counter_aggregation():
    traced = torch.jit.trace(_logs_three_times, torch.rand(3, 4))
    assert str(traced.graph).count("prim::AddStatValue") == 3
    lg = L.LockingLogger()
    lg.set_aggregation_type("foo", L.AggregationType.AVG)
    old = L.set_logger(lg)
    try:
        traced(torch.rand(3, 4))
        assert lg.get_counter_val("foo") == 1
    finally:
        L.set_logger(old)


# ------------------------------------------------------------------ beyond the file

def test_aggregation_sum_and_avg(logger):
    for v in (5, 2, 4):
        L.add_stat_value("a", v)                   # eagerly
    assert logger.get_counter_val("a") == 11
    logger.set_aggregation_type("a", L.AggregationType.AVG)
    assert logger.get_counter_val("a") == 3        # 11 // 3, C++'s integer division
    logger.set_aggregation_type("a", L.AggregationType.SUM)
    assert logger.get_counter_val("a") == 11
    assert logger.get_counter_val("never") == 0
    L.add_stat_value("neg", -7)
    L.add_stat_value("neg", 0)
    logger.set_aggregation_type("neg", L.AggregationType.AVG)
    assert logger.get_counter_val("neg") == -3     # rounded toward zero


def test_noop_logger_is_the_default_and_drops_values():
    old = L.set_logger(L.NoopLogger())
    try:
        L.add_stat_value("x", 1)                   # nothing to see, nothing raised
        assert isinstance(L.set_logger(old), L.NoopLogger)
    finally:
        L.set_logger(old)


def _logs_twice(n: int) -> int:
    torch.jit._logging.add_stat_value("k", n)
    torch.jit._logging.add_stat_value("k", n)
    a = torch.jit._logging.time_point()
    b = torch.jit._logging.time_point()
    return b - a


def test_every_call_counts_and_each_time_point_reads_the_clock(logger):
    s = torch.jit.script(_logs_twice)
    for _ in range(4):          # the same two calls are not merged nor dropped
        assert s(3) >= 0
    assert logger.get_counter_val("k") == 24
    g = str(s.graph)
    assert g.count("prim::AddStatValue") == 2 and g.count("prim::TimePoint") == 2
    assert "ops.prim.AddStatValue(" in s.code


def test_scripted_and_traced_code_save_and_load(logger):
    loaded = _roundtrip(torch.jit.script(_logs_twice))
    loaded(2)
    assert logger.get_counter_val("k") == 4
    traced = _roundtrip(torch.jit.trace(_logs_three_times, torch.rand(2)))
    before = logger.get_counter_val("foo")      # (the trace itself ran it: 3)
    traced(torch.rand(2))
    assert logger.get_counter_val("foo") == before + 3


def test_torch_ops_prim_names():
    assert L.add_stat_value is torch.ops.prim.AddStatValue
    assert L.time_point is torch.ops.prim.TimePoint
    assert isinstance(torch.ops.prim.TimePoint(), int)


def test_errors():
    with pytest.raises(TypeError, match="set_logger"):
        L.set_logger(3)
    with pytest.raises(TypeError, match="str"):
        L.LockingLogger().get_counter_val(3)
    with pytest.raises(TypeError):
        L.add_stat_value(1, 1)

    def bad(x: float):
        torch.jit._logging.add_stat_value("k", x)
        return x
    with pytest.raises(RuntimeError, match="AddStatValue takes a str key and an int value"):
        torch.jit.script(bad)
