"""FusedGroup: the runtime object one prim::TensorExprGroup node becomes.

    group = FusedGroup(node, budget, "cuda")      # "cpu" | "cuda" | "sim"
    outs = group.call(x, y, 2.5)                  # raw arrays and Python numbers, in the
                                                  # subgraph's input order -> output arrays

A call runs the first specialization whose guard accepts the arguments (guards.py). When
none does, the group makes a new one if the function's FusionBudget allows (STATIC first,
then DYNAMIC, as TorchScript): it retypes the subgraph for the arguments, builds a kernel
(`gpujit.kernels.build`, or the `builder` given) and regenerates its dispatcher. Otherwise
it runs the fallback: the subgraph, unfused, through the reference interpreter on wrapped
tensors, which computes exactly what eager gpujit computes. So a new shape, dtype, stride
pattern or device never gives a wrong answer, only a slower one.

Nothing is silent: GPUJIT_DUMP=recompile prints (and the `gpujit.fusers` logger records)
each new specialization with the guard that failed, a kernel that failed to build or run,
and a spent budget; a `FusionWarning` fires once per function when it starts running
unfused because its budget is spent. Inside `strict_fusion` an unfused run raises
StrictFusionError instead (0-size inputs excepted: there is nothing to compute).
"""
from __future__ import annotations

import itertools
import math
import logging
import os
import sys
import threading
import warnings

import numpy as np

from .. import dtypes as _dt
from .._dump import dumping as _dumping
from .._gc import gc_paused
from ..ir import types as T
from ..ops.overlap import own_layout
from .chunks import to_fused_concats
from .functionalize import inplace_on_copies
from .fusibility import CONSTANT_CHUNK, FUSED_CONCAT, node_device
from .guards import ArgGuard, Guard, build_dispatcher, display_name, stride_order
from .kernel_api import (EmptySpace, KernelSpec, LauncherBusy, ShapeMismatch, cut_dims,
                         default_builder, register_maker)
from .parts import PartsRunner, parts_of, space_parts
from .specialize import (arg_specs, retype, unfit_reason, array_device, ZERO_SIZE,
                         scalar_checks, number_fits,
                         layout_perm, in_layout, permute_cuts, space_problem,
                         output_relayouts, relaid_out, size1_strides, restrided)
from .strategy import FusionBudget, STATIC
from .strict import StrictFusionError, strict_fusion_active, strict_where
from .subgraph import subgraph_of
from .views import has_unsqueeze, lower_unsqueezes, expand_args, eager_args, view_ranks

__all__ = ["FusedGroup", "Specialization", "FusionWarning", "TARGETS"]

TARGETS = ("cpu", "cuda", "sim")
log = logging.getLogger("gpujit.fusers")


class FusionWarning(UserWarning):
    """A compiled function runs (part of) its work unfused."""


def _user_stacklevel() -> int:
    """The stacklevel of the first frame outside gpujit (and its generated code), so a
    warning points at the user's line."""
    import gpujit
    roots = (os.path.dirname(os.path.abspath(gpujit.__file__)),
             os.path.dirname(os.path.abspath(__file__)))
    f, level = sys._getframe(2), 2
    while f is not None:
        name = f.f_code.co_filename
        if not (name.startswith(roots) or name.startswith("<gpujit")):
            return level
        f, level = f.f_back, level + 1
    return 2


def _warn(msg):
    warnings.warn(msg, FusionWarning, stacklevel=_user_stacklevel())


def _dump(msg):
    """Log, and print when GPUJIT_DUMP has `recompile`."""
    log.info(msg)
    if _dumping("recompile"):
        print(f"[gpujit] {msg}")
        sys.stdout.flush()


def _permuted(launch, perm, kinds, out_ranks):
    """launch run on the tensor arguments transposed by perm, its outputs transposed back;
    an output of lower rank than perm (one computed from lower-rank arguments only: in
    layout they got leading 1-dims) loses those 1-dims again; a 0-dim output (computed
    from 0-dim tensors and numbers only: in_layout keeps them 0-dim) is one already."""
    inv = tuple(sorted(range(len(perm)), key=perm.__getitem__))
    tensors = [j for j, k in enumerate(kinds) if k == "tensor"]
    drop = tuple((0,) * (len(perm) - r) for r in out_ranks)

    def call(*args):
        args = list(args)
        for j in tensors:
            args[j] = in_layout(args[j], perm)
        # (each a transposed view of the launcher's buffer: the value's own memory)
        return tuple(o if o.ndim == 0 else
                     own_layout(o.transpose(inv)[d] if d else o.transpose(inv))
                     for o, d in zip(launch(*args), drop))
    return call


def _output_ranks(sub, args, kinds):
    """Each output's rank for these arguments: the highest rank among the tensor
    arguments it is computed from (its ops broadcast them)."""
    deps = {v: {k} for k, v in enumerate(sub.inputs)}
    for n in sub.nodes:
        d = set()
        for v in n.inputs:
            d |= deps.get(v, set())
        for o in n.outputs:
            deps[o] = d
    return [max((args[k].ndim for k in deps.get(v, ()) if kinds[k] == "tensor"), default=0)
            for v in sub.outputs]


# the most elements a simulated ("sim") launch handles: each simulated element costs
# ~16 us of Python, so larger calls of a simulated group run its CPU kernel instead
SIM_MAX_ELEMENTS = 1 << 14


def _small_on_sim(launch, build_cpu, kinds):
    """launch (a simulated kernel's) for calls whose iteration space (bounded by the
    largest size of each dim among the tensors, aligned right) has at most
    SIM_MAX_ELEMENTS elements; larger calls run the same spec's CPU kernel (built on first
    need)."""
    tensors = [j for j, k in enumerate(kinds) if k == "tensor"]
    cpu = []

    def call(*args):
        shapes = [args[j].shape for j in tensors]
        rank = max(map(len, shapes), default=0)
        n = math.prod(max((s[len(s) - rank + d] for s in shapes if len(s) - rank + d >= 0),
                          default=1) for d in range(rank))
        if n <= SIM_MAX_ELEMENTS:
            return launch(*args)
        if not cpu:
            k = build_cpu()
            cpu.append(getattr(k, "launch", k))
        return cpu[0](*args)
    return call


def _relaid(launch, fixes):
    """launch, the outputs `fixes` names ((index, dim order) pairs) copied into the dim
    order eager code lays them out in (specialize.output_relayouts)."""
    def call(*args):
        outs = list(launch(*args))
        for i, p in fixes:
            outs[i] = own_layout(relaid_out(outs[i], p))
        return tuple(outs)
    return call


def _size1_restrided(launch, sub, kinds, outer=None, derived=None):
    """launch, its outputs given eager's strides in their dims of size 1 (views:
    specialize.size1_strides), found per layout of the arguments and remembered with
    whether any output needs them (generated code: the look-up costs ~0.5-1 us a call).
    With `derived` (the group's unsqueeze plan), launch takes the group's arguments
    (kinds `outer`) and sub reads them with the views eager's unsqueeze makes."""
    def fix(outs, want):
        outs = list(outs)
        for i, w in enumerate(want):
            if w is not None:
                o = outs[i]
                r = restrided(o, w) if o.ndim == len(w) else o
                if r is not o:
                    outs[i] = own_layout(r)
        return tuple(outs)

    seen = {}

    def find(key, args, outs):
        # (the kernel lays its outputs out by the arguments' layout alone: when none
        # needs new strides for this one, later calls skip the check)
        want = size1_strides(sub, args if derived is None else eager_args(args, derived),
                             kinds)
        if want is not None:
            want = [w if w is not None and o.ndim == len(w) and restrided(o, w) is not o
                    else None for o, w in zip(outs, want)]
            if not any(w is not None for w in want):
                want = None
        if len(seen) >= 256:
            seen.clear()
        seen[key] = want
        return want
    kinds_in = kinds if outer is None else outer
    params = ", ".join(f"a{j}" for j in range(len(kinds_in)))
    key = " ".join(f"a{j}.shape, a{j}.strides," for j, k in enumerate(kinds_in)
                   if k == "tensor")
    src = (f"def call({params}):\n"
           f"    outs = launch({params})\n"
           f"    key = ({key})\n"
           f"    want = seen.get(key, _NONE)\n"
           f"    if want is _NONE:\n"
           f"        want = find(key, ({params},), outs)\n"
           f"    return outs if want is None else fix(outs, want)\n")
    ns = dict(launch=launch, seen=seen, find=find, fix=fix, _NONE=_NONE)
    exec(compile(src, "<gpujit size-1 strides>", "exec"), ns)
    return ns["call"]


_NONE = object()


def _with_views(launch, derived):
    """launch run on the arguments followed by the views its unsqueezes read."""
    def call(*args):
        return launch(*expand_args(args, derived))
    return call


class Specialization:
    """One kernel of a group: its kind and number, guard, KernelSpec and the callable the
    dispatcher runs (the kernel, or the fallback when building it failed)."""

    def __init__(self, kind, number, guard, spec, kernel, fn, names, shown=None):
        self.kind, self.number, self.guard = kind, number, guard
        self.spec, self.kernel, self.fn = spec, kernel, fn
        self.failures = 0           # calls whose kernel raised (noted once)
        self._names = names
        # what label() describes: the guard's arguments, or (a group whose unsqueezes
        # moved onto its inputs) ArgGuards of the views the kernel reads
        self._shown = shown

    def __str__(self):
        parts = []
        for name, g in zip(self._names, self.guard.args):
            if g.kind == "scalar":
                parts.append(f"{name}: {g.pytype.__name__}")
            elif g.shape is not None:
                parts.append(f"{name}: {list(g.shape)}")
            else:
                fixed = dict(g.fixed)     # (the sizes of chunked dims)
                dims = ('1' if b else str(fixed.get(d, '*')) for d, b in enumerate(g.broadcast))
                parts.append(f"{name}: [{', '.join(dims)}]")
        return ", ".join(parts)

    def __repr__(self):
        return f"<Specialization {self.kind} #{self.number} ({self})>"

    def label(self) -> str:
        """'STATIC(16x1024)', 'DYNAMIC(*x*)' ('*' a size read at run time, '1' a
        broadcast dim; dims aligned right, as broadcasting does), '... unfused' when its
        kernel could not be built."""
        tensors = [g for g in self._shown or self.guard.args if g.kind != "scalar"]
        ndim = max((g.ndim for g in tensors), default=0)
        dims = []
        for k in range(ndim):           # k-th dim from the right
            sizes = set()
            for g in tensors:
                d = g.ndim - 1 - k
                if d < 0:
                    continue
                if g.shape is not None:
                    size = g.shape[d]
                else:
                    size = dict(g.fixed).get(d, 1 if g.broadcast[d] else "*")
                sizes.add(size)
            real = sizes - {1}
            dims.append(str(next(iter(real)) if len(real) == 1 else "*" if real else 1))
        text = f"{self.kind}({'x'.join(reversed(dims))})"
        return text if self.kernel is not None else text + " unfused"


_serials = itertools.count()


def _array_type(target):
    if target == "cuda":
        import cupy
        return cupy.ndarray
    return np.ndarray


def _contiguity(array_type):
    """How the generated guard reads C-contiguity: CuPy keeps it as an attribute."""
    if array_type is not np.ndarray and hasattr(array_type, "_c_contiguous"):
        return "{}._c_contiguous"
    return "{}.flags.c_contiguous"


def _device_id(target):
    """cuda:N to check per call, only when the machine has several GPUs."""
    if target != "cuda":
        return None
    import cupy
    if cupy.cuda.runtime.getDeviceCount() < 2:
        return None
    return cupy.cuda.runtime.getDevice()


class FusedGroup:
    """See the module docstring. `builder(KernelSpec, target) -> kernel` defaults to
    gpujit.kernels.build; `fallback(*args) -> tuple of arrays` to the interpreter; `strict`
    marks a group inside a scripted strict_fusion region."""

    def __init__(self, node, budget=None, target="cpu", *, builder=None, fallback=None,
                 name=None, strict=False):
        if target not in TARGETS:
            raise ValueError(f"FusedGroup target must be one of {TARGETS}, got {target!r}")
        self.node = node
        sub = subgraph_of(node)
        if any(n.kind == "aten::cat" for n in sub.nodes):
            # (the group's cats as the kernels read them: NNC's subgraph text holds
            # ListConstruct + aten::cat, fusers/chunks.cats_as_aten)
            sub = sub.copy()
            to_fused_concats(sub)
        self.subgraph = sub
        self.budget = budget if budget is not None else FusionBudget()
        self.target = target
        self.builder = builder if builder is not None else default_builder
        self.name = name or f"{self.budget.name} group {self.budget.register()}"
        self.strict = strict
        self.device = node_device(node)
        self.kinds = tuple("tensor" if isinstance(v.type, T.TensorType) else "scalar"
                           for v in self.subgraph.inputs)
        self.arg_names = tuple(display_name(v) for v in node.inputs)
        self.specializations: list = []
        self.fallback_calls = 0
        self.kernel_failures = 0
        self._fallback = fallback if fallback is not None else self._interpret
        # (its in-place ops made out-of-place run in place on copies: eager's answer)
        self._fallback_graph = inplace_on_copies(self.subgraph)
        self._array_type = _array_type(target)
        self._contiguity = _contiguity(self._array_type)
        self._device_id = _device_id(target)
        self._spent_noted = False
        self._space_noted = False
        self._plan_failure_noted = False
        self._no_space: dict = {}   # argument sizes/dtypes -> why no kernel computes them
        # independent parts (fusers/parts.py): run as groups of their own for sizes that
        # make no one iteration space
        self._parts = parts_of(self.subgraph)
        self._split = None
        self._spaces: dict = {}     # space_parts' parts -> their PartsRunner
        self.split_calls = 0
        self._cuts = any(n.kind in (CONSTANT_CHUNK, FUSED_CONCAT) for n in self.subgraph.nodes)
        # unsqueezes: the kernel reads views of inputs (fusers/views.py), planned once
        self._derived = self._ksub = self._view_problem = None
        if has_unsqueeze(self.subgraph):
            try:
                self._ksub, self._derived = lower_unsqueezes(self.subgraph)
                self._ranks = view_ranks(self.subgraph)
            except Exception as e:
                self._view_problem = f"no kernel computes its unsqueezes ({e})"
        self._lock = threading.Lock()
        self.serial = next(_serials)
        self._rebuild()
        register_maker(self)        # kernels.cache_info() lists its specializations

    def specialization_summary(self):
        """(the compiled function's budget, standing for the function; its name; this
        group's number in the function or None; [labels])."""
        return (self.budget, self.budget.name, getattr(self, "budget_key", None),
                [s.label() for s in self.specializations])

    # ------------------------------------------------------------------ calling
    def __call__(self, *args):
        return self.call(*args)

    def _rebuild(self):
        fname = "group_" + "".join(c if c.isalnum() else "_" for c in self.name)
        self.call, self.dispatch_source = build_dispatcher(
            fname, self.kinds, self.specializations, self._array_type, self._miss,
            self._kernel_failed, self._contiguity, self._device_id)

    def _miss(self, *args):
        """No guard accepted args (or they are not arrays of the target's type)."""
        # one thread decides and builds; the others then find it. The collector stays
        # paused until the lock is released: a finalizer it runs may call this function
        with gc_paused(), self._lock:
            try:
                action, detail = self._decide(args)
            except Exception as e:      # a fault of the fuser's planning, not the inputs'
                action, detail = "failed", e
        if action == "failed":      # answer from the unfused run (which raises the user's
            out = self._fallback(*args)     # error when the inputs are at fault), say so
            if not self._plan_failure_noted:
                self._plan_failure_noted = True
                self._note_failure(f"planning a kernel failed: {type(detail).__name__}: "
                                   f"{detail}; running unfused")
            if self.strict or strict_fusion_active():
                self._unfused(args, f"planning its kernel failed ({type(detail).__name__}: "
                                    f"{detail})")
            self.fallback_calls += 1
            return out
        if action == "run":
            return self._run(detail, args)
        if action == "spent":
            return self._spent(args)
        if action == "split":       # its parts' sizes make no one space: one kernel each
            return self._run_split(args, detail)
        if action == "spaces":      # an uneven chunk's pieces: one kernel per result shape
            return self._run_spaces(args, *detail)
        if action == "checked":     # eager raises PyTorch's overflow error (not a fusion
            return self._unfused(args, detail, exempt=True)     # problem: strict too)
        if action == "space":       # no kernel computes these sizes: unfused, no budget
            if not self._space_noted:
                self._space_noted = True
                _dump(f"{self.name}: {detail}; inputs of such sizes run unfused")
            return self._unfused(args, detail)
        if action == "untyped":     # the ops do not take these types: eager raises why
            out = self._fallback(*args)
            _dump(f"{self.name}: could not type its ops for these inputs ({detail}); "
                  f"running unfused")
            if self.strict or strict_fusion_active():
                self._unfused(args, f"its ops do not take these inputs ({detail})")
            self.fallback_calls += 1
            return out
        return self._unfused(args, detail, exempt=detail == ZERO_SIZE)

    def _decide(self, args):
        why = unfit_reason(args, self.kinds, self.arg_names, self._array_type)
        if why is not None:
            return "unfused", why
        for i, s in enumerate(self.specializations):   # made by another thread, or equal
            if s.guard.mismatch(args, self.arg_names, self._array_type, False) is None:
                why = s.guard.range_mismatch(args, self.arg_names)
                return ("run", i) if why is None else ("checked", why)  # (not identical
                                                                         # dtypes)
        dev = array_device(next(a for a, k in zip(args, self.kinds) if k == "tensor"))
        sub0, kinds, xargs = self.subgraph, self.kinds, args
        if self._view_problem is not None:
            return "space", self._view_problem
        if self._derived is not None:
            for k, r in self._ranks.items():
                if args[k].ndim != r:
                    return "space", (f"its unsqueezes were planned for inputs of rank "
                                     f"{r}, got {args[k].ndim}")
            sub0 = self._ksub
            keep, derived = self._derived
            kinds = tuple(self.kinds[k] for k in keep) + ("tensor",) * len(derived)
            xargs = expand_args(args, self._derived)
        cuts = typed = None
        if self._cuts or self._parts is not None:
            # sizes whose pieces or parts do not make one iteration space: remembered by
            # the sizes and dtypes that decide it (a retype each call: 223 -> 43 us, CPU)
            no_space = "space" if self._parts is None else "split"
            sig = tuple((a.shape, a.dtype) if k == "tensor" else type(a)
                        for a, k in zip(args, self.kinds))
            known = self._no_space.get(sig)
            if known is not None:
                return known
            try:
                typed = retype(self.subgraph, args, dev, True)
            except Exception as e:
                return "untyped", e
            why = space_problem(typed)
            if why is not None:
                parts = None
                if self._parts is None and self._derived is None and any(
                        n.kind == CONSTANT_CHUNK for n in typed.nodes):
                    parts = space_parts(typed, space_problem)
                known = (no_space, why) if parts is None else ("spaces", (parts, why))
                if len(self._no_space) < 64:
                    self._no_space[sig] = known
                return known
            if self._cuts:
                cuts = cut_dims(typed)
        kind = self.budget.next_kind(self)
        if kind is None:
            return "spent", None
        static = kind == STATIC
        # the kernel runs on the arguments in the dim order of their memory layout, so that
        # its outputs are laid out as eager's (transposed inputs: transposed outputs); the
        # dims chunks and cats cut are renumbered for that order
        perm = layout_perm(xargs, kinds, cuts, sub0)
        base = sub0
        if perm is not None and self._cuts:
            base = permute_cuts(self.subgraph, args, self.kinds, perm)
            if base is None:
                perm, base = None, self.subgraph
        kargs = xargs if perm is None else [
            in_layout(a, perm) if k == "tensor" else a for a, k in zip(xargs, kinds)]
        if typed is not None and static and base is self.subgraph and kargs is args:
            sub = typed             # (the same retype as above: no second copy)
        else:
            try:
                sub = retype(base, kargs, dev, static)
            except Exception as e:
                return "untyped", e
        # a scalar an op range-checks, out of range: eager's call raises PyTorch's error
        checks = scalar_checks(sub, kinds)
        if self._derived is not None:   # (kernel argument i is the group's keep[i])
            checks = {self._derived[0][i]: c for i, c in checks.items()}
        for j, c in checks.items():
            if not number_fits(c, args[j]):
                return "checked", (f"{self.arg_names[j]} = {args[j]} is out of the range "
                                   f"its op takes")
        self.budget.take(self)
        # a DYNAMIC kernel with chunks or cats is specialized on the sizes of the dims they cut
        fixed = {} if static else cut_dims(sub)
        arg_guards = []
        # (with unsqueezes the kernel's arguments are not the group's: see views.py)
        gargs = kargs if self._derived is None else [
            in_layout(a, perm) if perm is not None and k == "tensor" else a
            for a, k in zip(args, self.kinds)]
        for j, (a, ka, k) in enumerate(zip(args, gargs, self.kinds)):
            cuts = fixed.get(j, ())
            if perm is not None and cuts:       # the kernel's dims -> the argument's
                pad = len(perm) - a.ndim
                cuts = {perm[d] - pad for d in cuts if perm[d] >= pad}
            g = ArgGuard.of(a, static, k == "tensor", cuts)
            g.checks = checks.get(j, ())
            if k == "tensor" and g.contiguous is not None:
                g.contiguous = bool(ka.flags.c_contiguous)
                if not g.contiguous and a.ndim >= 2:
                    g.order = stride_order(a)
            arg_guards.append(g)
        guard = Guard(arg_guards, static, _dt._default_float, self._device_id, perm)
        spec = KernelSpec(sub, arg_specs(kargs, kinds, static, fixed), dev, static)
        number = self.budget.made(self, kind)
        why = self._why_new(args, kind)
        try:
            kernel = self.builder(spec, self.target)
        except Exception as e:
            kernel = None
            self._note_failure(f"building the kernel of {kind} #{number} failed: "
                               f"{type(e).__name__}: {e}")
        # the guard checks what the kernel assumes: call its launcher without the re-check
        fn = getattr(kernel, "launch", kernel) if kernel is not None else self._failed_build
        if self.target == "sim" and kernel is not None:
            fn = _small_on_sim(fn, lambda: self.builder(spec, "cpu"), kinds)
        if perm is not None and kernel is not None:
            fn = _permuted(fn, perm, kinds, _output_ranks(sub0, xargs, kinds))
        fixes = output_relayouts(sub0, xargs, kinds, perm) if kernel is not None else []
        if fixes:
            fn = _relaid(fn, fixes)
        # (size1_strides reads the strides of the views' size-1 dims: eager's, not the
        # kernel's cheaper views' 0)
        size1 = kernel is not None and size1_strides(
            sub0, xargs if self._derived is None else eager_args(args, self._derived),
            kinds) is not None
        # (an output has a dim of size 1: the guard keeps that so for every call)
        if size1 and self._derived is None:
            fn = _size1_restrided(fn, sub0, kinds)
        if self._derived is not None and kernel is not None:
            fn = _with_views(fn, self._derived)
            if size1:
                fn = _size1_restrided(fn, sub0, kinds, self.kinds, self._derived)
        shown = None if self._derived is None else [
            ArgGuard.of(a, static, k == "tensor") for a, k in zip(xargs, kinds)]
        s = Specialization(kind, number, guard, spec, kernel, fn, self.arg_names, shown)
        self.specializations.append(s)
        self._rebuild()
        _dump(f"{self.name}: new specialization {kind} #{number} for {s} — {why}")
        return "run", len(self.specializations) - 1

    def _run(self, i, args):
        try:
            return self.specializations[i].fn(*args)
        except Exception as e:
            return self._kernel_failed(i, e, args)

    def _why_new(self, args, kind):
        if not self.specializations:
            return "first call"
        last = self.specializations[-1]
        why = last.guard.mismatch(args, self.arg_names, self._array_type)
        why = f"guard failed: {why}"
        if kind != last.kind:
            spent = [(k, d) for k, d in self.budget.strategy if k == last.kind]
            depth = sum(d for _, d in spent)
            why += f" ({last.kind} budget {depth} spent)"
        return why

    # ------------------------------------------------------------------ unfused runs
    def _failed_build(self, *args):
        return self._unfused(args, "its kernel could not be built")

    def _kernel_failed(self, i, exc, args):
        """A kernel raised. When the unfused run raises too, the inputs were at fault
        (shapes that do not broadcast...): that error is the user's. Otherwise the kernel
        failed on good inputs: say so, and answer from the unfused run."""
        s = self.specializations[i]
        if s.kernel is None or isinstance(exc, StrictFusionError):
            raise exc                       # raised by the fallback itself
        if isinstance(exc, LauncherBusy):   # a call from inside its own launch (a
            return self._unfused(args, str(exc))    # finalizer...): no fault of the kernel
        if isinstance(exc, EmptySpace):     # (0-size inputs: as _decide's ZERO_SIZE)
            return self._unfused(args, ZERO_SIZE, exempt=True)
        if isinstance(exc, ShapeMismatch) and self._parts is not None:
            return self._run_split(args, str(exc))  # (DYNAMIC: parts whose sizes now
                                                    # make no one space; a user's error
                                                    # is raised by the part it is in)
        out = self._fallback(*args)
        self.kernel_failures += 1
        s.failures += 1
        if s.failures == 1:
            self._note_failure(f"the kernel of {s.kind} #{s.number} failed: "
                               f"{type(exc).__name__}: {exc}; running unfused")
        if self.strict or strict_fusion_active():
            self._unfused(args, f"its kernel failed ({type(exc).__name__}: {exc})")
        self.fallback_calls += 1
        return out

    def _run_split(self, args, why):
        """Run the group's independent parts as groups of their own (made on first need)."""
        split = self._split
        if split is None:
            with self._lock:
                if self._split is None:
                    self._split = PartsRunner(self, self._parts)
                    _dump(f"{self.name}: {why}; its {len(self._parts)} independent parts "
                          f"run as groups of their own for such sizes")
                split = self._split
        self.split_calls += 1
        return split.run(args)

    def _run_spaces(self, args, parts, why):
        """Run the parts of the group that space_parts found for these sizes (the pieces of
        an uneven chunk) as groups of their own (made on first need, per set of parts)."""
        key = tuple((tuple(k), tuple(o)) for k, o in parts)
        runner = self._spaces.get(key)
        if runner is None:
            with self._lock:
                runner = self._spaces.get(key)
                if runner is None:
                    runner = self._spaces[key] = PartsRunner(self, parts, "space")
                    _dump(f"{self.name}: {why}; its results of each shape run as a group "
                          f"of their own ({len(parts)}) for such sizes")
        self.split_calls += 1
        return runner.run(args)

    def _note_failure(self, msg):
        _dump(f"{self.name}: {msg}")
        _warn(f"gpujit: {self.name}: {msg}")

    def _spent(self, args):
        reason = f"the specialization budget is spent ({list(self.budget.strategy)})"
        if self.strict or strict_fusion_active():
            return self._unfused(args, reason)          # raises: no need to warn as well
        if not self._spent_noted:
            self._spent_noted = True
            _dump(f"{self.name}: specialization budget spent; new input types run unfused "
                  f"(set_fusion_strategy to change)")
        if not self.budget.warned:
            self.budget.warned = True
            _warn(f"gpujit: {self.budget.name} has made all the specializations its fusion "
                  f"strategy {list(self.budget.strategy)} allows; inputs of new types run "
                  f"unfused from now on (gpujit.set_fusion_strategy to change)")
        return self._unfused(args, reason)

    def _unfused(self, args, reason, exempt=False):
        if not exempt and (self.strict or strict_fusion_active()):
            nodes = [n for n in self.subgraph.nodes if n.kind != "prim::Constant"]
            raise StrictFusionError(nodes, where=strict_where(self.strict, self.name),
                                    reasons={n: reason for n in nodes})
        self.fallback_calls += 1
        return self._fallback(*args)

    def _interpret(self, *args):
        from ..ops.registry import wrap_array
        from ..runtime.interpreter import interpret
        wrapped = []
        for a, kind in zip(args, self.kinds):
            dev = array_device(a) if kind == "tensor" else None
            if dev is None:
                wrapped.append(a)
                continue
            t = wrap_array(a, dev)
            if not a.size and a.ndim and not any(a.strides):
                # an empty array with NumPy's all-zero strides is the array of a
                # from_numpy tensor (every other empty Tensor's array has PyTorch's
                # strides): its ops lay results out from those, as eagerly
                t._data, t._zero_strides = a, True
            wrapped.append(t)
        out = interpret(self._fallback_graph, *wrapped)
        outs = out if len(self.subgraph.outputs) > 1 else (out,)
        return tuple(o._data for o in outs)

    def __repr__(self):
        return (f"<FusedGroup {self.name} ({self.target}): {len(self.specializations)} "
                f"specialization(s), {self.fallback_calls} unfused call(s)>")
