"""gpujit.autograd.profiler (torch.autograd.profiler): `profile` records, while it is
entered, one event per eager op call (`aten::add`, with its nested op calls as children)
and per `record_function` range, with wall-clock CPU times in microseconds, input shapes
(record_shapes=True) and the thread; `key_averages()` groups them by name (and input
shapes) and `table()` prints PyTorch's table; `export_chrome_trace` writes the Chrome
trace JSON.

What is recorded: ops called from Python (eager code, the autograd engine's backward ops,
the ops a traced function's recording runs). A compiled (scripted or traced) function's
optimized code calls its ops and fused kernels directly, so they are not events; a
`record_function` range around the call times it as a whole. GPU kernels are timed on the
host (CUDA activity is not recorded: there is no CUPTI here), so a CUDA op's event is its
launch, as PyTorch's CPU events are."""
from __future__ import annotations

import contextlib
import functools
import itertools
import json
import threading
import time

from ..ops import registry as _reg

__all__ = ["profile", "record_function", "FunctionEvent", "FunctionEventAvg", "EventList",
           "emit_nvtx", "emit_itt"]

_ids = itertools.count(1)
_active: list = []          # the profiles recording now (outermost first)
_lock = threading.Lock()
_local = threading.local()  # .stack: this thread's open events


def _now_us() -> float:
    return time.perf_counter_ns() / 1000.0


def _shape_of(a):
    shape = getattr(a, "shape", None)
    if shape is not None and hasattr(a, "_data"):
        return list(shape)
    if isinstance(a, (list, tuple)) and a and all(hasattr(x, "_data") for x in a):
        return [list(x.shape) for x in a]
    return []


class FunctionEvent:
    """One op call or record_function range (times in microseconds)."""

    def __init__(self, name, thread, start_us, input_shapes=None, is_user_annotation=False):
        self.id = next(_ids)
        self.name = name
        self.thread = thread
        self.start_us = start_us
        self.end_us = start_us
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.is_user_annotation = is_user_annotation
        self.cpu_children: list = []
        self.cpu_parent = None
        self.count = 1
        self.device_type = "CPU"

    key = property(lambda self: self.name)

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time="
                f"{_fmt_us(self.cpu_time_total)} start_us={self.start_us:.3f} end_us="
                f"{self.end_us:.3f} cpu_children={[c.id for c in self.cpu_children]} "
                f"thread={self.thread} input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """The events of one key (name, or name and input shapes) added up."""

    def __init__(self, key, input_shapes=None):
        self.key = key
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.is_user_annotation = False

    def add(self, ev):
        self.count += ev.count
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total
        self.is_user_annotation = ev.is_user_annotation
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time="
                f"{_fmt_us(self.self_cpu_time_total)} cpu_time={_fmt_us(self.cpu_time)} "
                f"input_shapes={self.input_shapes}>")


def _fmt_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class EventList(list):
    """A list of FunctionEvent (or FunctionEventAvg) with PyTorch's summaries."""

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        groups: dict = {}
        for ev in self:
            key = (ev.key, str(ev.input_shapes)) if group_by_input_shape else ev.key
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg(
                    ev.key, ev.input_shapes if group_by_input_shape else None)
            avg.add(ev)
        out = EventList(groups.values())
        out._with_shapes = group_by_input_shape
        return out

    def total_average(self):
        total = FunctionEventAvg("Total")
        for ev in self:
            total.add(ev)
        total.is_user_annotation = False
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(ev.self_cpu_time_total for ev in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        rows = list(self)
        if top_level_events_only:
            rows = [r for r in rows if getattr(r, "cpu_parent", None) is None]
        if sort_by is not None:
            keys = {"cpu_time_total": "cpu_time_total", "self_cpu_time_total":
                    "self_cpu_time_total", "cpu_time": "cpu_time", "count": "count"}
            if sort_by not in keys:
                raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
            rows.sort(key=lambda r: getattr(r, keys[sort_by]), reverse=True)
        rows = rows[:row_limit] if row_limit is not None and row_limit >= 0 else rows
        return _table(rows, self.self_cpu_time_total, header, max_name_column_width,
                      getattr(self, "_with_shapes", False))

    def export_chrome_trace(self, path):
        """The events as Chrome's trace-event JSON (chrome://tracing, Perfetto)."""
        events = [{"ph": "X", "cat": "user_annotation" if ev.is_user_annotation else
                   "cpu_op", "name": ev.name, "pid": 0, "tid": ev.thread, "ts": ev.start_us,
                   "dur": ev.cpu_time_total, "args": {"Input Dims": ev.input_shapes}}
                  for ev in self]
        with open(path, "w") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f)


def _table(rows, total_self, header, name_width, with_shapes):
    names = [str(r.key)[:name_width] for r in rows]
    w = max([len(n) for n in names] + [4]) + 4
    cols = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
            "# of Calls"]
    shapes = [str(r.input_shapes) for r in rows] if with_shapes else None
    sw = max([len(s) for s in shapes] + [12]) + 2 if shapes else 0
    line = "-" * w + "  " + "  ".join("-" * 12 for _ in cols) + "  " + \
        ("-" * sw + "  " if shapes else "")
    head = "Name".rjust(w) + "  " + "  ".join(c.rjust(12) for c in cols) + "  " + \
        ("Input Shapes".rjust(sw) + "  " if shapes else "")
    out = []
    if header is not None:
        out += ["=" * len(line), header]
    out += [line, head, line]
    pct = (lambda v: f"{100.0 * v / total_self:.2f}%") if total_self > 0 else \
        (lambda v: "0.00%")
    for i, r in enumerate(rows):
        cells = [pct(r.self_cpu_time_total), _fmt_us(r.self_cpu_time_total),
                 pct(r.cpu_time_total), _fmt_us(r.cpu_time_total),
                 _fmt_us(r.cpu_time_total / max(r.count, 1)), str(r.count)]
        out.append(names[i].rjust(w) + "  " + "  ".join(c.rjust(12) for c in cells) + "  " +
                   (shapes[i].rjust(sw) + "  " if shapes else ""))
    out += [line, f"Self CPU time total: {_fmt_us(total_self)}", ""]
    return "\n".join(out)


# ---------------------------------------------------------------------- recording

def _stack():
    st = getattr(_local, "stack", None)
    if st is None:
        st = _local.stack = []
    return st


def _open(name, input_shapes, user):
    ev = FunctionEvent(name, threading.get_ident(), _now_us(), input_shapes, user)
    st = _stack()
    if st:
        ev.cpu_parent = st[-1]
        st[-1].cpu_children.append(ev)
    st.append(ev)
    return ev


def _close(ev):
    ev.end_us = _now_us()
    st = _stack()
    if st and st[-1] is ev:
        st.pop()
    elif ev in st:
        st.remove(ev)
    with _lock:
        for p in _active:
            p._events.append(ev)


def _op_hook(op, args):
    """dispatch_state.profiler: an event around the op's call through the other hooks."""
    shapes = [_shape_of(a) for a in args] if any(p.record_shapes for p in _active) else None
    ev = _open(op.schema.name, shapes, False)
    try:
        s = _reg.dispatch_state
        nxt = s.transforms
        return nxt(op, args) if nxt is not None else op.eager(*args)
    finally:
        _close(ev)


def _install(p):
    with _lock:
        _active.append(p)
        _reg.dispatch_state.profiler = _op_hook
        _reg.dispatch_state.refresh()


def _uninstall(p):
    with _lock:
        if p in _active:
            _active.remove(p)
        if not _active:
            _reg.dispatch_state.profiler = None
            _reg.dispatch_state.refresh()


class profile:
    """with profile() as prof: ...; prof.key_averages().table(sort_by="cpu_time_total")."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None):
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.use_device = "cuda" if use_cuda else use_device
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self._events = []
        self.function_events = None
        self.entered = False

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._events = []
        self.function_events = None
        _install(self)
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return False
        _uninstall(self)
        self.entered = False
        self.function_events = EventList(sorted(self._events, key=lambda e: e.start_us))
        return False

    def _check_finish(self):
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def events(self):
        self._check_finish()
        return self.function_events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        self._check_finish()
        if group_by_input_shape and not self.record_shapes:
            raise RuntimeError("Can't group by input shapes without record_shapes=True")
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, sort_by=None, row_limit=100, **kwargs):
        self._check_finish()
        return self.function_events.table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def total_average(self):
        self._check_finish()
        return self.function_events.total_average()

    def export_chrome_trace(self, path):
        self._check_finish()
        self.function_events.export_chrome_trace(path)

    @property
    def self_cpu_time_total(self):
        self._check_finish()
        return self.function_events.self_cpu_time_total

    def __str__(self):
        return self.table() if self.function_events is not None else repr(self)


class record_function(contextlib.ContextDecorator):
    """A named range in the profile (a context manager or a decorator)."""

    def __init__(self, name: str, args=None):
        self.name = name
        self.args = args
        self._ev = None

    def __enter__(self):
        self._ev = _open(self.name, [], True) if _active else None
        return self

    def __exit__(self, *exc):
        if self._ev is not None:
            _close(self._ev)
            self._ev = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapper


@contextlib.contextmanager
def emit_nvtx(enabled=True, record_shapes=False):
    """torch.autograd.profiler.emit_nvtx: NVTX ranges for nsight; gpujit's ops emit none
    (a region that runs as it would without it)."""
    yield


@contextlib.contextmanager
def emit_itt(enabled=True, record_shapes=False):
    """torch.autograd.profiler.emit_itt (Intel VTune ranges): none are emitted."""
    yield
