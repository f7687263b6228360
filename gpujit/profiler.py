"""gpujit.profiler (torch.profiler): `profile` with activities, a `schedule` (wait, warmup,
active, repeat), `on_trace_ready` (e.g. `tensorboard_trace_handler(dir)`), `step()` and
start()/stop(), over gpujit.autograd.profiler's recording of eager op calls and
`record_function` ranges (what is and is not recorded: see that module). With a schedule,
each step while recording is a `ProfilerStep#<n>` range, as PyTorch's."""
from __future__ import annotations

import enum
import os
import socket
import time
import warnings

from .autograd import profiler as _ap
from .autograd.profiler import record_function  # noqa: F401  (torch.profiler.record_function)

__all__ = ["profile", "record_function", "schedule", "ProfilerAction", "ProfilerActivity",
           "tensorboard_trace_handler", "supported_activities"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5

    def __repr__(self):
        return f"<ProfilerActivity.{self.name}: {self.value}>"


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    """The activities gpujit records: CPU (a CUDA op is recorded as its host-side call)."""
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """torch.profiler.schedule: step -> ProfilerAction (skip_first steps, then cycles of
    wait, warmup and active steps, the last active step of a cycle RECORD_AND_SAVE;
    repeat=0: cycles without end)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:             # (the first cycle without its wait)
            step += wait
        cycle = wait + warmup + active
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        mod = step % cycle
        if mod < wait:
            return ProfilerAction.NONE
        if mod < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return schedule_fn


def _default_schedule(_step):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False):
    """An on_trace_ready that writes each trace as `<worker>.<ms>.pt.trace.json[.gz]` in
    dir_name (what TensorBoard's profiler plugin reads)."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{name}.{time.time_ns() // 1_000_000}.pt.trace.json")
        prof.export_chrome_trace(path)
        if use_gzip:
            import gzip
            import shutil
            with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.remove(path)
    return handler


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class profile:
    """with torch.profiler.profile(activities=[ProfilerActivity.CPU], schedule=...,
    on_trace_ready=..., record_shapes=True) as prof: ... prof.step() ..."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False, experimental_config=None,
                 execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None):
        self.activities = set(activities) if activities else supported_activities()
        self.schedule = schedule or _default_schedule
        self.record_steps = schedule is not None       # (ProfilerStep#<n> ranges)
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.step_num = 0
        self.current_action = self.schedule(0)
        self.profiler = None            # the recording autograd profile, or the last one
        self._recording = False
        self._step_range = None

    # ------------------------------------------------------------------ control
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self._enter_action(self.current_action)

    def stop(self):
        self._close_step_range()
        if self._recording:
            self._stop_recording()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)

    def step(self):
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._close_step_range()
        if prev == ProfilerAction.RECORD_AND_SAVE and self._recording:
            self._stop_recording()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        elif prev in _RECORDING and self.current_action not in _RECORDING and self._recording:
            self._stop_recording()
        self._enter_action(self.current_action)

    def _enter_action(self, action):
        if action in _RECORDING:
            if not self._recording:
                self.profiler = _ap.profile(record_shapes=self.record_shapes)
                self.profiler.__enter__()
                self._recording = True
            if self.record_steps:
                self._step_range = _ap.record_function(f"ProfilerStep#{self.step_num}")
                self._step_range.__enter__()

    def _close_step_range(self):
        if self._step_range is not None:
            self._step_range.__exit__(None, None, None)
            self._step_range = None

    def _stop_recording(self):
        self.profiler.__exit__(None, None, None)
        self._recording = False

    # ------------------------------------------------------------------ results
    def _finished(self):
        if self.profiler is None or self.profiler.function_events is None:
            raise AssertionError("the profiler has recorded nothing yet (no finished "
                                 "recording step)")
        return self.profiler

    def events(self):
        return self._finished().events()

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        return self._finished().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path):
        return self._finished().export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        raise RuntimeError("export_stacks needs with_stack=True stacks, which gpujit's "
                           "profiler does not record")
