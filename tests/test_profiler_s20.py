"""torch.profiler / torch.autograd.profiler on gpujit: events of eager op calls (nested ops
as children) and record_function ranges, key_averages/table, input shapes, Chrome traces,
schedules with on_trace_ready, and the profiler leaving no hook behind."""
import json
import threading

import pytest

import gpujit as torch
from gpujit.autograd import profiler as ap
from gpujit.ops import registry as _reg
from gpujit.profiler import ProfilerAction, ProfilerActivity, profile, record_function


def test_events_names_nesting_and_table():
    x = torch.randn(8, 8)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            torch.nn.functional.linear(x, x).relu().sum()
    names = [e.name for e in prof.events()]
    assert names[0] == "model_inference"
    assert {"aten::linear", "aten::relu", "aten::sum"} <= set(names)
    top = prof.events()[0]
    assert top.is_user_annotation and top.cpu_parent is None
    assert {c.name for c in top.cpu_children} >= {"aten::linear", "aten::relu", "aten::sum"}
    assert top.cpu_time_total >= sum(c.cpu_time_total for c in top.cpu_children) >= 0
    assert abs(top.self_cpu_time_total - (top.cpu_time_total - sum(
        c.cpu_time_total for c in top.cpu_children))) < 1e-6
    lin = next(e for e in prof.events() if e.name == "aten::linear")
    assert lin.input_shapes[:2] == [[8, 8], [8, 8]]
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=10)
    head = table.splitlines()[1].split()
    assert head[:2] == ["Name", "Self"] and "Calls" in head
    assert "Self CPU time total:" in table and "aten::relu" in table
    rows = [ln.split()[0] for ln in table.splitlines()[3:-3]]
    assert rows[0] == "model_inference"            # sorted by total time
    shaped = prof.key_averages(group_by_input_shape=True).table(row_limit=3)
    assert "Input Shapes" in shaped and "[[8, 8], [8, 8]" in shaped
    with pytest.raises(AttributeError):
        prof.key_averages().table(sort_by="no_such_column")
    assert _reg.dispatch_state.profiler is None        # the hook is gone


def test_key_averages_counts_and_totals():
    a = torch.ones(4)
    with ap.profile() as prof:
        for _ in range(5):
            a = a + 1
    avg = {e.key: e for e in prof.key_averages()}
    assert avg["aten::add"].count == 5
    assert avg["aten::add"].cpu_time == pytest.approx(avg["aten::add"].cpu_time_total / 5)
    total = prof.key_averages().total_average()
    assert total.key == "Total" and total.count == 5
    assert prof.self_cpu_time_total == pytest.approx(
        sum(e.self_cpu_time_total for e in prof.events()))
    assert a.tolist() == [6.0] * 4                      # the ops computed as usual


def test_backward_and_autocast_ops_are_recorded_and_results_unchanged():
    w = torch.randn(3, requires_grad=True)
    with ap.profile() as prof:
        (w * 2).sum().backward()
    assert "aten::mul" in {e.name for e in prof.events()}
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    with ap.profile() as prof:
        with torch.autocast("cpu", dtype=torch.float16):
            y = torch.mm(torch.ones(2, 2), torch.ones(2, 2))
    assert y.dtype == torch.float16
    assert "aten::mm" in {e.name for e in prof.events()}


def test_profile_errors_and_disabled():
    p = ap.profile()
    with pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        p.key_averages()
    with ap.profile(enabled=False) as q:
        torch.ones(2) + 1
    assert q.function_events is None
    with ap.profile() as r:
        torch.ones(1)
    with pytest.raises(RuntimeError, match="record_shapes=True"):
        r.key_averages(group_by_input_shape=True)


def test_record_function_decorator_and_outside_a_profile():
    @record_function("my_fn")
    def f(x):
        return x * 3

    assert f(torch.ones(1)).tolist() == [3.0]          # no profile: plain call
    with ap.profile() as prof:
        f(torch.ones(1))
        f(torch.ones(1))
    avg = {e.key: e for e in prof.key_averages()}
    assert avg["my_fn"].count == 2 and avg["aten::mul"].count == 2
    mul = next(e for e in prof.events() if e.name == "aten::mul")
    assert mul.cpu_parent is not None and mul.cpu_parent.name == "my_fn"


def test_compiled_function_timed_by_a_range():
    @torch.jit.script
    def f(x):
        return torch.relu(x * 2 + 1)

    x = torch.randn(16)
    f(x)
    f(x)
    with ap.profile() as prof:
        with record_function("scripted"):
            out = f(x)
    assert (out.numpy() >= 0).all()
    assert "scripted" in {e.name for e in prof.events()}


def test_chrome_trace(tmp_path):
    with ap.profile() as prof:
        torch.ones(3).sum()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    data = json.loads(path.read_text())
    names = {e["name"] for e in data["traceEvents"]}
    assert "aten::sum" in names
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in data["traceEvents"])


def test_schedule_actions_as_torch():
    sched = torch.profiler.schedule(skip_first=1, wait=1, warmup=1, active=2, repeat=2)
    got = [sched(i) for i in range(12)]
    A = ProfilerAction
    assert got == [A.NONE, A.NONE, A.WARMUP, A.RECORD, A.RECORD_AND_SAVE, A.NONE, A.WARMUP,
                   A.RECORD, A.RECORD_AND_SAVE, A.NONE, A.NONE, A.NONE]
    ref = pytest.importorskip("torch")
    tsched = ref.profiler.schedule(skip_first=1, wait=1, warmup=1, active=2, repeat=2)
    assert [sched(i).name for i in range(12)] == [tsched(i).name for i in range(12)]
    with pytest.raises(AssertionError):
        torch.profiler.schedule(wait=0, warmup=0, active=0)


def test_on_trace_ready_with_steps(tmp_path):
    ready = []

    def handler(p):
        ready.append((p.step_num, sorted(e.name for e in p.events()
                                         if e.name.startswith("ProfilerStep"))))
        torch.profiler.tensorboard_trace_handler(str(tmp_path), worker_name="w")(p)

    with profile(schedule=torch.profiler.schedule(wait=1, warmup=1, active=2, repeat=1),
                 on_trace_ready=handler) as prof:
        for i in range(6):
            torch.ones(2) + i
            prof.step()
    assert ready == [(4, ["ProfilerStep#2", "ProfilerStep#3"])]
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.startswith("w.") and \
        files[0].name.endswith(".pt.trace.json")


def test_threads_record_their_own_nesting():
    barrier = threading.Barrier(3)

    def work():
        barrier.wait()
        for _ in range(20):
            torch.ones(3) * 2
        barrier.wait()          # (all alive at once: three thread idents)

    with ap.profile() as prof:
        ts = [threading.Thread(target=work) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    muls = [e for e in prof.events() if e.name == "aten::mul"]
    assert len(muls) == 60
    assert len({e.thread for e in muls}) == 3
    assert all(e.cpu_parent is None for e in muls)
