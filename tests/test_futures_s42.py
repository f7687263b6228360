"""torch.futures as gpujit.futures (session 42): a Future the user makes starts pending and
is completed by set_result / set_exception (from another thread too); wait() blocks until
then; then() / add_done_callback() run when it completes; collect_all / wait_all. The
answers and errors of torch 2.13 where it has them (compared when torch is installed)."""
import sys
import threading
import time

import pytest

import gpujit
from gpujit import futures as F


def _later(fut, value, delay=0.05):
    t = threading.Thread(target=lambda: (time.sleep(delay), fut.set_result(value)))
    t.start()
    return t


def test_the_same_class_everywhere():
    assert F.Future is gpujit.jit.Future is gpujit.Future
    assert F.__all__ == ["Future", "collect_all", "wait_all"]
    assert F.Future[int] is not None                 # (a Generic, for annotations)


def test_pending_then_completed_from_another_thread():
    f = F.Future()
    assert not f.done()
    t = _later(f, 21)
    assert f.wait() == 21                            # blocks until the thread sets it
    t.join()
    assert f.done() and f.value() == 21 and f.wait() == 21


def test_then_and_done_callbacks_run_on_completion_in_order():
    f = F.Future()
    seen = []
    g = f.then(lambda fut: fut.value() * 2)
    f.add_done_callback(lambda fut: seen.append(("cb", fut.value())))
    h = g.then(lambda fut: fut.wait() + 1)
    assert not g.done() and not h.done() and seen == []
    f.set_result(21)
    assert g.wait() == 42 and h.wait() == 43 and seen == [("cb", 21)]
    # on a done Future, a callback runs at once
    f.add_done_callback(lambda fut: seen.append("now"))
    assert seen[-1] == "now"
    assert f.then(lambda fut: "x").wait() == "x"


def test_errors():
    f = F.Future()
    f.set_result(1)
    with pytest.raises(RuntimeError, match="Attempting to mark a completed Future as complete "
                                           "again. Note that a Future can only be marked "
                                           "completed once."):
        f.set_result(2)
    with pytest.raises(RuntimeError, match="complete again"):
        f.set_exception(ValueError())
    e = F.Future()
    e.set_exception(ValueError("boom"))
    assert e.done()
    for get in (e.wait, e.value):
        with pytest.raises(ValueError, match="boom"):
            get()
    assert e.then(lambda fut: 1).wait() == 1         # (the callback did not read the value)
    with pytest.raises(RuntimeError, match="Got the following error when running the callback: "
                                           "ValueError: boom"):
        e.then(lambda fut: fut.value()).wait()
    with pytest.raises(AssertionError, match=r"3 is of type <class 'int'>, not an Exception."):
        F.Future().set_exception(3)
    h = F.Future()
    k = h.then(lambda fut: 1 / 0)
    h.set_result(1)
    with pytest.raises(RuntimeError, match="ZeroDivisionError: division by zero"):
        k.wait()
    with pytest.raises(RuntimeError, match="not completed"):
        F.Future().value()
    with pytest.raises(TypeError):
        F.Future().then(3)
    with pytest.raises(ValueError, match="Expected devices to have indices, got cpu"):
        F.Future(devices=["cpu"])


def test_a_failing_done_callback_is_reported_and_dropped(capfd):
    h = F.Future()
    h.add_done_callback(lambda fut: 1 / 0)
    after = []
    h.add_done_callback(lambda fut: after.append(fut.value()))
    h.set_result(5)                                  # (does not raise)
    assert after == [5]
    assert "Got the following error when running the callback: ZeroDivisionError" in \
        capfd.readouterr().err


def test_collect_all_and_wait_all():
    a, b = F.Future(), F.Future()
    c = F.collect_all([a, b])
    assert not c.done()
    ta, tb = _later(a, 1, 0.05), _later(b, 2, 0.02)
    got = c.wait()
    assert got == [a, b] or [x.value() for x in got] == [1, 2]
    assert [x.value() for x in got] == [1, 2]
    ta.join(), tb.join()
    assert F.wait_all([a, b]) == [1, 2]
    assert F.wait_all([]) == [] and F.collect_all([]).wait() == []
    x, y = F.Future(), F.Future()
    x.set_exception(KeyError("k"))
    y.set_result(5)
    with pytest.raises(KeyError, match="k"):
        F.wait_all([y, x])
    with pytest.raises(KeyError):
        F.collect_all([y, x]).wait()
    # fork's futures too
    assert F.wait_all([gpujit.jit.fork(lambda: 2), gpujit.jit.fork(lambda v: v * 3, 4)]) == [2, 12]
    for bad in ([1], 3):
        with pytest.raises(TypeError):
            F.collect_all(bad)
        with pytest.raises(TypeError):
            F.wait_all(bad)


def test_many_threads_complete_many_futures():
    futs = [F.Future() for _ in range(32)]
    threads = [threading.Thread(target=f.set_result, args=(i,)) for i, f in enumerate(futs)]
    total = F.collect_all(futs).then(lambda c: sum(f.value() for f in c.value()))
    for t in threads:
        t.start()
    assert total.wait() == sum(range(32))
    for t in threads:
        t.join()


def test_scripted_wait_of_a_user_future():
    @gpujit.jit.script
    def f(fut: gpujit.jit.Future[gpujit.Tensor]) -> gpujit.Tensor:
        return gpujit.jit.wait(fut) * 2

    u = F.Future()
    u.set_result(gpujit.ones(2))
    assert f(u).tolist() == [2.0, 2.0]


def test_against_torch():
    torch = pytest.importorskip("torch")

    def run(m):
        out = []
        f = m.futures.Future()
        g = f.then(lambda fut: fut.value() + 1)
        out.append((f.done(), g.done()))
        f.set_result(1)
        out.append((f.done(), f.wait(), g.wait()))
        try:
            f.set_result(2)
        except RuntimeError as e:
            out.append(str(e))
        e = m.futures.Future()
        e.set_exception(ValueError("v"))
        out.append(e.then(lambda fut: 7).wait())
        try:
            e.then(lambda fut: fut.wait()).wait()
        except RuntimeError as err:
            out.append(str(err).split("\n")[0])
        out.append(m.futures.wait_all([f, g]))
        out.append(isinstance(f, m.jit.Future))
        return out

    assert run(gpujit) == run(torch)
    assert sys.modules["gpujit.futures"] is F
