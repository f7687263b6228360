"""What a long-lived process sees (session 58, helper b58): tracing or scripting the same
function again and again keeps nothing per call (measured over N and 2N calls), and the
names of generated code are reused once their specialization is gone."""
from __future__ import annotations

import gc
import linecache
import sys
import tracemalloc

import gpujit


def f(x, y):
    return (x * 2 + y).tanh() * y


X, Y = gpujit.randn(16), gpujit.randn(16)


def _trace_and_call():
    t = gpujit.jit.trace(f, (X, Y))
    t(X, Y)
    t(X, Y)


def _growth(step, n):
    """Bytes tracemalloc sees kept after n more steps."""
    gc.collect()
    before = tracemalloc.take_snapshot()
    for _ in range(n):
        step()
    gc.collect()
    after = tracemalloc.take_snapshot()
    # (not the test harness's own records: conftest keeps a weak reference per graph)
    skip = [tracemalloc.Filter(False, "*conftest.py"), tracemalloc.Filter(False, tracemalloc.__file__)]
    after, before = after.filter_traces(skip), before.filter_traces(skip)
    return sum(s.size_diff for s in after.compare_to(before, "filename"))


def test_tracing_in_a_loop_keeps_nothing_per_trace():
    """Each trace minted a new filename for its generated code ("<gpujit-code f_123>"),
    which tracemalloc (and so a user's leak hunt) saw kept for good: ~70 bytes a trace."""
    for _ in range(5):
        _trace_and_call()
    tracemalloc.start(1)
    try:
        _growth(_trace_and_call, 10)         # (the finalizer registry's table, once)
        a = _growth(_trace_and_call, 20)
        b = _growth(_trace_and_call, 40)
    finally:
        tracemalloc.stop()
    # (before: ~90 bytes a trace kept for good, ~5 KB after 40; now ~1.3-2.3 KB, most of
    # it tables that grow once: b - a is no measure at these counts)
    assert b < 3500, (a, b)


def test_a_retraced_function_reuses_its_specialization_names():
    names = []
    lines = len(linecache.cache)
    for _ in range(4):
        t = gpujit.jit.trace(f, (X, Y))
        t(X, Y)
        names.append([s.filename for s in t._get_executable().specializations])
        del t
        gc.collect()
    assert names[0] and all(n == names[0] for n in names), names
    assert len(linecache.cache) == lines                # each one's source forgotten


def test_live_specializations_keep_distinct_names():
    t1 = gpujit.jit.trace(f, (X, Y))
    t2 = gpujit.jit.trace(f, (X, Y))
    t1(X, Y)
    t2(X, Y)
    n1 = {s.filename for s in t1._get_executable().specializations}
    n2 = {s.filename for s in t2._get_executable().specializations}
    assert n1 and n2 and not n1 & n2
    for name in n1 | n2:
        assert linecache.getlines(name)                # a traceback can show them
    del t1
    gc.collect()
    for name in n2:
        assert linecache.getlines(name)


def test_scripting_in_a_loop_keeps_nothing_per_call():
    def step():
        s = gpujit.jit.script(f)
        for _ in range(3):
            s(X, Y)
    for _ in range(3):
        step()
    before = sys.getallocatedblocks()
    for _ in range(30):
        step()
    gc.collect()
    assert sys.getallocatedblocks() - before < 30 * 20


def test_threads_tracing_one_function_get_distinct_names():
    import threading
    kept, errors = [], []

    def work():
        try:
            for _ in range(5):
                t = gpujit.jit.trace(f, (X, Y))
                t(X, Y)
                kept.append(t)
        except Exception as e:          # pragma: no cover (reported below)
            errors.append(e)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    names = [s.filename for t in kept for s in t._get_executable().specializations]
    assert len(names) == len(set(names)) >= 20
