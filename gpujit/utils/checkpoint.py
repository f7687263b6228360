"""Activation checkpointing (torch.utils.checkpoint): the forward keeps none of what its
backward needs; the first backward read recomputes the checkpointed function (with the RNG
state it first ran with) and takes the saved tensors from that run. Built on
autograd.graph.saved_tensors_hooks, as PyTorch's use_reentrant=False variant.
use_reentrant=True is PyTorch's CheckpointFunction: an autograd.Function whose forward runs
the function under no_grad and whose backward recomputes it with grad enabled and runs a
nested backward through it (so only the tensor inputs' gradients flow out of it; with no
input requiring grad, the output does not require grad either)."""
from __future__ import annotations

import contextlib
import warnings

from ..autograd import grad_mode
from ..autograd.graph import saved_tensors_hooks
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "check_backward_validity", "detach_variable", "get_device_states",
           "set_device_states", "noop_context_fn", "set_checkpoint_early_stop",
           "set_checkpoint_debug_enabled", "DefaultDeviceType"]


class CheckpointError(RuntimeError):
    pass


class _StopRecomputationError(Exception):
    """Raised inside a recomputation once it has saved every tensor the forward saved
    (early stop): the rest of the checkpointed function does not run again."""


_enable_checkpoint_early_stop = None
_checkpoint_debug_enabled = None


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):
    """Within the block, non-reentrant checkpoints stop their recomputation as soon as it
    has recomputed every saved tensor (True, the default) or run the whole function
    again (False)."""
    global _enable_checkpoint_early_stop
    prev = _enable_checkpoint_early_stop
    _enable_checkpoint_early_stop = enable
    try:
        yield
    finally:
        _enable_checkpoint_early_stop = prev


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Whether checkpoint's `debug` is on within the block (None: each call's own)."""
    global _checkpoint_debug_enabled
    prev = _checkpoint_debug_enabled
    _checkpoint_debug_enabled = enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = prev


class DefaultDeviceType:
    """The device type whose RNG state checkpoint saves besides the CPU's: the current
    accelerator's ("cuda"), else "cpu", until set_device_type sets one."""
    _default_device_type = None

    @staticmethod
    def set_device_type(device: str = "cuda"):
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type() -> str:
        if not DefaultDeviceType._default_device_type:
            from .. import accelerator
            acc = accelerator.current_accelerator(True)
            DefaultDeviceType._default_device_type = acc.type if acc else "cpu"
        return DefaultDeviceType._default_device_type


def detach_variable(inputs):
    """The tuple with each tensor detached, keeping its requires_grad."""
    if isinstance(inputs, tuple):
        out = []
        for inp in inputs:
            if not isinstance(inp, Tensor):
                out.append(inp)
                continue
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            out.append(x)
        return tuple(out)
    raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                       + type(inputs).__name__)


def check_backward_validity(inputs) -> None:
    """Warn when no tensor of inputs requires grad (the checkpoint's gradients are None)."""
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)


def get_device_states(*args):
    """([device indices], [RNG states]) of the CUDA devices of the tensor args."""
    from ..ops import random as _random
    devices = sorted({a.device.index or 0 for a in args
                      if isinstance(a, Tensor) and a.device.type == "cuda"})
    return devices, [_random.cuda_get_rng_state(f"cuda:{d}") for d in devices]


def set_device_states(devices, states, *, device_type=None) -> None:
    """Restore the RNG states get_device_states returned."""
    from ..ops import random as _random
    for d, s in zip(devices, states):
        _random.cuda_set_rng_state(s, f"cuda:{d}")


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def _rng_states(args):
    """The CPU generator's state and those of the CUDA devices of the tensor args."""
    from ..ops import random as _random
    devices = sorted({a.device.index or 0 for a in args
                      if isinstance(a, Tensor) and a.device.type == "cuda"})
    cuda_states = [(d, _random.cuda_get_rng_state(f"cuda:{d}")) for d in devices]
    return _random.get_rng_state(), cuda_states


def _set_rng_states(states):
    from ..ops import random as _random
    cpu, cuda_states = states
    _random.set_rng_state(cpu)
    for d, s in cuda_states:
        _random.cuda_set_rng_state(s, f"cuda:{d}")


_debug_tip_msg = """
Tip: To see a more detailed error message, either pass `debug=True` to
`torch.utils.checkpoint.checkpoint(...)` or wrap the code block
with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to
enable checkpoint\u2011debug mode globally.

If this error occurs under torch.compile with automatic_dynamic_shapes enabled,
it may be because the recomputation selected a different compiled graph than the
forward pass (e.g., a dynamic graph instead of the original static graph).
To fix this, either:
  - Use torch._dynamo.mark_dynamic() to explicitly mark varying dimensions as
    dynamic upfront, avoiding the static-to-dynamic transition.
  - Call torch._C._dynamo.eval_frame._set_lru_cache(False) to disable LRU cache
    reordering, which can change which graph is checked first between forward
    and recompute.
See https://github.com/pytorch/pytorch/issues/166926 for more details and
workaround examples.
"""


class _Frame:
    """One checkpointed call: the metadata of what its forward saved, and the values of
    the recomputation once a backward asked for one."""
    __slots__ = ("fn", "args", "kwargs", "rng", "metas", "recomputed", "check",
                 "context_fn", "grad_enabled", "early_stop")

    def pack(self, t):
        self.metas.append((tuple(t._data.shape), t._dtype, t._device))
        return len(self.metas) - 1

    def unpack(self, i):
        if self.recomputed is None:
            self._recompute()
        try:
            return self.recomputed[i]
        except IndexError:
            raise CheckpointError(
                f"torch.utils.checkpoint: Recomputed values for the following tensors have "
                f"different metadata than during the forward pass: the forward saved "
                f"{len(self.metas)} tensors, the recomputation {len(self.recomputed)}") \
                from None

    def _recompute(self):
        got = []

        n_saved = len(self.metas)

        def pack(t):
            got.append(t)
            if self.early_stop and len(got) == n_saved:
                raise _StopRecomputationError()
            return len(got) - 1

        cur = _rng_states(self.args) if self.rng is not None else None
        try:
            if self.rng is not None:
                _set_rng_states(self.rng)
            _, recompute_ctx = self.context_fn()
            with grad_mode.set_grad_enabled(True), saved_tensors_hooks(pack, got.__getitem__), \
                    recompute_ctx:
                self.fn(*self.args, **self.kwargs)
        except _StopRecomputationError:
            pass
        finally:
            if cur is not None:
                _set_rng_states(cur)
        if self.check:
            from ..tensor import Size

            def meta(m):
                return (f"{{'shape': {Size(m[0])!r}, 'dtype': {m[1]!r}, 'device': "
                        f"{m[2]!r}}}")
            mismatched = ""
            for i, (m, t) in enumerate(zip(self.metas, got)):
                now = (tuple(t._data.shape), t._dtype, t._device)
                if now != m:
                    mismatched += (f"tensor at position {i}:\nsaved metadata: {meta(m)}\n"
                                   f"recomputed metadata: {meta(now)}\n")
            if mismatched:
                raise CheckpointError(
                    "torch.utils.checkpoint: Recomputed values for the following tensors "
                    "have different metadata than during the forward pass.\n"
                    f"{mismatched}.\n{_debug_tip_msg}")
            if len(got) < len(self.metas):
                raise CheckpointError(
                    f"torch.utils.checkpoint: A different number of tensors was saved during "
                    f"the original forward and recomputation.\nNumber of tensors saved during "
                    f"forward: {len(self.metas)}\nNumber of tensors saved during "
                    f"recomputation: {len(got)}.\n{_debug_tip_msg}")
        self.recomputed = got
        self.fn = self.args = self.kwargs = None      # the recomputation is done


def _autocast_state(device_type):
    """(device_type, enabled, dtype, cache_enabled) of autocast now (PyTorch's
    _get_autocast_kwargs), to run the recomputation under."""
    import gpujit as _g
    return (device_type, _g.is_autocast_enabled(device_type),
            _g.get_autocast_dtype(device_type), _g.is_autocast_cache_enabled())


def _autocast_ctx(state):
    from ..amp import autocast
    device_type, enabled, dtype, cache = state
    return autocast(device_type, enabled=enabled, dtype=dtype, cache_enabled=cache)


def _make_checkpoint_function():
    from ..autograd import Function, backward as _backward
    from ..autograd.engine import is_checkpoint_valid

    class CheckpointFunction(Function):
        """PyTorch's reentrant checkpoint (torch.utils.checkpoint.CheckpointFunction)."""

        @staticmethod
        def forward(ctx, run_function, preserve_rng_state, *args):
            if not any(a.requires_grad for a in args if isinstance(a, Tensor)):
                warnings.warn("None of the inputs have requires_grad=True. Gradients will "
                              "be None")
            ctx.run_function = run_function
            ctx.preserve_rng_state = preserve_rng_state
            dev = next((a.device.type for a in args if isinstance(a, Tensor)
                        and a.device.type != "cpu"), "cuda")
            ctx.autocast = [_autocast_state(dev)] + ([_autocast_state("cpu")]
                                                     if dev != "cpu" else [])
            ctx.rng = _rng_states(args) if preserve_rng_state else None
            ctx.inputs, ctx.tensor_indices, tensors = [], [], []
            for i, a in enumerate(args):
                if isinstance(a, Tensor):
                    tensors.append(a)
                    ctx.tensor_indices.append(i)
                    ctx.inputs.append(None)
                else:
                    ctx.inputs.append(a)
            ctx.save_for_backward(*tensors)
            with grad_mode.no_grad():
                return run_function(*args)

        @staticmethod
        def backward(ctx, *grads):
            if not is_checkpoint_valid():
                raise RuntimeError(
                    "When use_reentrant=True, torch.utils.checkpoint is incompatible with "
                    ".grad() or passing an `inputs` parameter to .backward(). To resolve "
                    "this error, you can either set use_reentrant=False, or call .backward() "
                    "without passing the `inputs` argument.")
            inputs = list(ctx.inputs)
            for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
                inputs[i] = t
            cur = _rng_states(inputs) if ctx.rng is not None else None
            try:
                if ctx.rng is not None:
                    _set_rng_states(ctx.rng)
                detached = []
                for a in inputs:
                    if isinstance(a, Tensor):
                        d = a.detach()
                        d.requires_grad = a.requires_grad
                        a = d
                    detached.append(a)
                with contextlib.ExitStack() as stack:
                    stack.enter_context(grad_mode.enable_grad())
                    for state in ctx.autocast:
                        stack.enter_context(_autocast_ctx(state))
                    outputs = ctx.run_function(*detached)
            finally:
                if cur is not None:
                    _set_rng_states(cur)
            if isinstance(outputs, Tensor):
                outputs = (outputs,)
            with_grad = [(o, g) for o, g in zip(outputs, grads)
                         if isinstance(o, Tensor) and o.requires_grad]
            if not with_grad:
                raise RuntimeError("none of output has requires_grad=True, this checkpoint() "
                                   "is not necessary")
            _backward([o for o, _ in with_grad], [g for _, g in with_grad])
            return (None, None) + tuple(a.grad if isinstance(a, Tensor) else None
                                        for a in detached)

    return CheckpointFunction


CheckpointFunction = _make_checkpoint_function()
_CHECKPOINT_FUNCTION = [CheckpointFunction]


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, **kwargs):
    """function(*args, **kwargs), keeping no intermediate values for backward: the backward
    recomputes them."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed "
            "explicitly. Starting in PyTorch 2.9, calling checkpoint without use_reentrant "
            "will raise an exception. use_reentrant=False is recommended, but if you need to "
            "preserve the current default behavior, you can pass use_reentrant=True. Refer "
            "to docs for more details on the differences between the two variants.",
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant and (context_fn is not noop_context_fn or debug is not False):
        raise ValueError("Passing `context_fn` or `debug` is only supported when "
                         "use_reentrant=False.")
    if use_reentrant:
        if not _CHECKPOINT_FUNCTION:
            _CHECKPOINT_FUNCTION.append(_make_checkpoint_function())
        return _CHECKPOINT_FUNCTION[0].apply(function, preserve, *args)
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    frame = _Frame()
    frame.fn, frame.args, frame.kwargs = function, args, kwargs
    frame.rng = _rng_states(args) if preserve else None
    frame.metas, frame.recomputed = [], None
    frame.check = determinism_check == "default"
    frame.early_stop = (True if _enable_checkpoint_early_stop is None
                        else _enable_checkpoint_early_stop)
    frame.context_fn = context_fn
    forward_ctx, _ = context_fn()
    with saved_tensors_hooks(frame.pack, frame.unpack), forward_ctx:
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """A Sequential (or list of modules) run in `segments` checkpointed chunks (the last
    chunk runs normally)."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter "
            "should be passed explicitly. In version 2.9 we will raise an exception if "
            "use_reentrant is not passed. use_reentrant=False is recommended, but if you "
            "need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between "
            "the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
