"""Random scripted programs (tests/program_fuzz_gen.py, as tests/test_program_fuzz_s20.py
runs them on the CPU against PyTorch) with their tensor inputs on CUDA: gpujit eager and
gpujit.jit.script (over a sequence of calls crossing guards and fusion strategies:
profiling, optimized, new shapes, non-contiguous, expanded and other-dtype inputs, an
Optional given or None; every third call on cuda:1, not the current device; the same
scripted function called on the CPU in between) against the same program's gpujit eager
answers on the CPU (test_program_fuzz_s20 holds those to PyTorch's). Values, dtypes,
shapes, devices of every output (on the inputs' device, the data a CuPy array of that
device: no silent host copy), the inputs the program wrote in place, which outputs alias
which inputs, every output again after all calls (output recycling must not reuse a
buffer still held), a gradient subset (the gradients on the inputs' device too), and
gpujit.testing.assert_consistent on some scripted programs.

The fuzz tests are the CUDA tier: skipped without CuPy and a GPU; `bash ci/fake_gpu.sh
tests/test_program_fuzz_cuda_s21.py` runs it against tests/fakecupy (fused kernels
emulated thread by thread from their text, so the sizes here stay small).

Where the CUDA run may differ from the CPU run, the checks let it:
- the scripted graph drops a dead op that would raise (as test_program_fuzz_s20);
- integer and bool results may differ by one in 2% of their elements (a transcendental
  an ulp apart between the kernel's libdevice/math and NumPy flips a cast or comparison);
- floats are compared at 1e-4 (float16 1e-2), as the CPU fuzz test does.

GPUJIT_PROGRAM_FUZZ_CUDA=<n> programs (default 16), GPUJIT_PROGRAM_FUZZ_SEED=<int> for
other programs than the fixed ones."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import gpujit
from program_fuzz_gen import program
from test_program_fuzz_s20 import STRATEGIES, _run, calls_for, inputs, load, same

cuda = pytest.mark.cuda


class _Cuda:
    """A `lib` for test_program_fuzz_s20.inputs whose tensors land on a CUDA device."""
    float16, float32, float64 = gpujit.float16, gpujit.float32, gpujit.float64

    def __init__(self, index=0):
        self.device = f"cuda:{index}"

    def from_numpy(self, a):
        return gpujit.from_numpy(a).to(self.device)


def _devices():
    """The CUDA devices a call's inputs may live on: the current one, and another (not
    current: every launch and allocation must go to the inputs' device)."""
    return [_Cuda(0)] + ([_Cuda(1)] if gpujit.cuda.device_count() > 1 else [])


def _small(call, cap=7):
    """A call with its sizes capped (emulated kernels run thread by thread)."""
    return (min(call[0], cap), min(call[1], cap)) + tuple(call[2:])


def _flat(outs):
    if isinstance(outs, (tuple, list)):
        for o in outs:
            yield from _flat(o)
    else:
        yield outs


def on_cuda(outs, what, device="cuda:0"):
    """Every tensor in outs is a tensor of that CUDA device over a CuPy array of it."""
    import cupy
    for o in _flat(outs):
        if isinstance(o, gpujit.Tensor):
            assert str(o.device) == device, f"{what}: an output on {o.device}, not {device}"
            assert isinstance(o._data, cupy.ndarray), \
                f"{what}: a cuda tensor over {type(o._data).__name__}"
            assert o._data.device.id == int(device[5:]), \
                f"{what}: a {device} tensor over memory of cuda:{o._data.device.id}"
            if o.grad is not None:
                on_cuda(o.grad, what + " (grad)", device)


def to_cpu(outs):
    if isinstance(outs, tuple):
        return tuple(to_cpu(o) for o in outs)
    if isinstance(outs, list):
        return [to_cpu(o) for o in outs]
    return outs.cpu() if isinstance(outs, gpujit.Tensor) else outs


def _shares(a, b):
    if not isinstance(a, gpujit.Tensor) or not isinstance(b, gpujit.Tensor):
        return False
    if a.device.type == "cuda":
        import cupy
        return bool(cupy.shares_memory(a._data, b._data))
    return bool(np.shares_memory(a._data, b._data))


def aliasing(outs, args):
    outs = outs if isinstance(outs, tuple) else (outs,)
    return [[_shares(o, a) for a in args[:4]] for o in outs]


def check_cuda(src, calls, *, strategy=None, consistent=False, traceable=False):
    """Run src on CPU (gpujit eager) and on CUDA (gpujit eager and scripted, and traced
    where traceable); raise AssertionError naming the first difference."""
    g_fn = load(src, "gpujit")
    prev = gpujit.jit.set_fusion_strategy(strategy) if strategy else None
    try:
        try:
            g_script = gpujit.jit.script(g_fn)
        except Exception:           # not TorchScript: a generator slip
            return "skip"
        ran = 0
        kept = []           # every output stays alive: a recycled buffer must not be one
        devs = _devices()
        for k, call in enumerate(calls):
            dev = devs[k % 3 == 2 and len(devs) - 1]
            what = f"\n{src}\ncall {k}: {call} on {dev.device}"
            c_args = inputs(call, gpujit)
            want, err = _run(g_fn, c_args)
            if k % 4 == 3:      # the scripted function called on the CPU in between
                got, gerr = _run(g_script, inputs(call, gpujit))
                if gerr is None and err is None:
                    same(got, want, f"cpu script{what}")
            raised = False
            for label, fn in (("eager", g_fn), ("script", g_script)):
                d_args = inputs(call, dev)
                got, gerr = _run(fn, d_args)
                if err is not None:
                    assert gerr is not None or (label == "script" and raised), \
                        f"cuda {label}: the CPU run raised {err!r}, cuda did not{what}"
                    raised = gerr is not None
                    continue
                if gerr is not None:
                    raise AssertionError(f"cuda {label}: raised {gerr!r}{what}") from gerr
                on_cuda(got, f"cuda {label}{what}", dev.device)
                on_cuda(d_args, f"cuda {label} (inputs){what}", dev.device)
                same(to_cpu(got), want, f"cuda {label}{what}")
                same(to_cpu(d_args), c_args, f"cuda {label} (inputs after the call){what}")
                assert aliasing(got, d_args) == aliasing(want, c_args), \
                    f"cuda {label}: outputs alias other inputs than on the CPU{what}"
                kept.append((got, d_args, want, c_args, f"cuda {label} (kept){what}"))
            ran += err is None
        for got, d_args, want, c_args, what in kept:
            same(to_cpu(got), want, what)
            same(to_cpu(d_args), c_args, what + " (inputs)")
        if consistent and ran:
            _consistent(g_script, calls[0])
        if traceable:
            _check_trace(src, g_fn, calls[0])
        return ran
    finally:
        if prev is not None:
            gpujit.jit.set_fusion_strategy(prev)


def _check_trace(src, g_fn, call):
    """gpujit.jit.trace of the program on CUDA inputs, called three times (profiling and
    optimized runs), against the CPU eager run."""
    want, err = _run(g_fn, inputs(call, gpujit))
    if err is not None:
        return
    fixed = inputs(call, _Cuda())
    extra = fixed[4:]

    def wrapped(*ts):
        return g_fn(ts[0], ts[1], ts[2], ts[3] if len(ts) == 4 else None, *extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = gpujit.jit.trace(wrapped, tuple(_tensors(fixed)), check_trace=False)
    for k in range(3):
        c_args, d_args = inputs(call, gpujit), inputs(call, _Cuda())
        want, _ = _run(g_fn, c_args)
        got, gerr = _run(traced, _tensors(d_args))
        what = f"cuda trace {k}\n{src}\ncall {call}"
        if gerr is not None:
            raise AssertionError(f"{what}: raised {gerr!r}") from gerr
        on_cuda(got, what)
        same(to_cpu(got), want, what)
        same(to_cpu(d_args), c_args, what + " (inputs after the call)")


def _tensors(args):
    return args[:3] + ([args[3]] if args[3] is not None else [])


def _consistent(g_script, call):
    args = inputs(call, gpujit)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        gpujit.testing.assert_consistent(g_script, *args, rtol=1e-4, atol=1e-4)


def _grads(fn, call, lib):
    """(loss, gradients of the inputs) of the sum of fn's floating outputs; (None, error)
    where it raises, (None, None) where nothing is differentiable."""
    args = inputs(call, lib)
    leaves = [a.detach().clone().requires_grad_(True) if a is not None else None
              for a in args[:4]]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            outs = fn(*leaves, *args[4:])
            outs = outs if isinstance(outs, tuple) else (outs,)
            parts = [o.double().sum() for o in outs if o.is_floating_point() and o.requires_grad]
            if not parts:
                return None, None
            loss = parts[0]
            for p in parts[1:]:
                loss = loss + p
            loss.backward()
        except Exception as e:     # noqa: BLE001 - compared with the CPU run's error
            return None, e
    return loss, [None if a is None else a.grad for a in leaves]


def check_grads_cuda(src, calls, strategy=None):
    g_fn = load(src, "gpujit")
    prev = gpujit.jit.set_fusion_strategy(strategy) if strategy else None
    try:
        g_script = gpujit.jit.script(g_fn)
        for k, call in enumerate(calls):
            if call[2] != "float32":
                continue
            want, werr = _grads(g_fn, call, gpujit)
            for label, fn in (("eager", g_fn), ("script", g_script)):
                dev = _devices()[k % len(_devices())]
                got, gerr = _grads(fn, call, dev)
                what = f"cuda grad {label}\n{src}\ncall {k}: {call}"
                if want is None:
                    if werr is not None and label == "eager":
                        assert gerr is not None, f"CPU raised {werr!r}, cuda did not{what}"
                    continue
                assert got is not None, f"cuda: {gerr!r}{what}"
                on_cuda(got, what, dev.device)
                on_cuda([g for g in gerr if g is not None], what, dev.device)
                tol = 5e-3 if "half" in src or "float16" in src else None
                same(to_cpu(got), want, what + " (loss)", tol)
                same(to_cpu(gerr), werr, what + " (gradients)", tol)
    finally:
        if prev is not None:
            gpujit.jit.set_fusion_strategy(prev)


_N = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_CUDA", "16"))
_SEED = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SEED", "0"))


@cuda
@pytest.mark.parametrize("chunk", range(2))
def test_random_programs_on_cuda_match_the_cpu(chunk):
    for k in range(chunk, _N, 2):
        seed = _SEED * 100003 + 210000 + k
        src, traceable = program(seed, max_stmts=7)
        calls = [_small(c) for c in calls_for(seed)[:8]]
        check_cuda(src, calls, strategy=STRATEGIES[k % len(STRATEGIES)], consistent=k % 3 == 0,
                   traceable=traceable)


@cuda
def test_random_programs_gradients_on_cuda_match_the_cpu():
    for k in range(max(_N // 3, 1)):
        seed = _SEED * 100003 + 260000 + k
        src, _ = program(seed, max_stmts=6)
        calls = [_small(c, 5) for c in calls_for(seed)[:5]]
        check_grads_cuda(src, calls, strategy=STRATEGIES[k % len(STRATEGIES)])


# ------------------------------------------------------------------ found by the above

_DEVICES = ["cpu", pytest.param("cuda", marks=cuda)]
_SELF_READS = {"mul_": lambda y: y.mul_(y), "addcmul_": lambda y: y.addcmul_(y, y),
               "div_": lambda y: y.div_(y), "pow_": lambda y: y.pow_(y),
               "atan2_": lambda y: y.atan2_(y)}


@pytest.mark.parametrize("dev", _DEVICES)
@pytest.mark.parametrize("op", sorted(_SELF_READS))
def test_an_in_place_op_that_reads_its_own_target_fails_backward_as_pytorch(op, dev):
    # (seed 5038, gradients) v = x.mean(0, keepdim=True); v.mul_(v): the derivative's
    # `other` is v itself, saved after the write at its new version, so backward read the
    # written value and gave a wrong gradient without a word (x.mean's: m + m*m for 2m;
    # the scripted graph, fused, gave the right one). PyTorch saves it before the write
    # and raises at backward.
    x = gpujit.tensor([1.0, 2.0, 3.0], device=dev, requires_grad=True)
    y = x * 1
    _SELF_READS[op](y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("dev", _DEVICES)
def test_an_in_place_op_whose_derivative_does_not_read_its_target_still_answers(dev):
    for op, want in (("add_", 2.0), ("lerp_", 1.0)):
        x = gpujit.tensor([1.0, 2.0, 3.0], device=dev, requires_grad=True)
        y = x * 1
        y.add_(y) if op == "add_" else y.lerp_(y, 0.5)
        (y * 1).sum().backward()
        assert x.grad.tolist() == [want] * 3 and x.grad.device.type == dev, op


def _copy_itself(x, y):
    x.copy_(x)
    y.copy_(y[:])
    return x * 2 + y


@pytest.mark.parametrize("dev", _DEVICES)
def test_copy_of_a_tensor_into_itself_writes_nothing_even_expanded(dev):
    # (seeds 2082, 2149) x1.copy_(x1) with x1 expanded (stride 0) on CUDA raised "more than
    # one element of the written-to tensor refers to a single memory location"; ATen's
    # copy_ returns first for the same data (is_same / is_same_data), on every device (the
    # CPU run got through only because NumPy's copyto skips a copy onto itself)
    f = gpujit.jit.script(_copy_itself)
    for fn in (_copy_itself, f, f, f):
        x = gpujit.ones(1, 3, device=dev).expand(2, 3)
        y = gpujit.arange(3.0, device=dev).expand(2, 3)
        r = fn(x, y)
        assert r.tolist() == [[2.0, 3.0, 4.0]] * 2 and r.device.type == dev
        assert x._version == 1 and y._version == 1        # (PyTorch counts the write)
    with pytest.raises(RuntimeError, match="more than one element of the written-to"):
        gpujit.ones(1, 3, device=dev).expand(2, 3).copy_(gpujit.ones(2, 3, device=dev))


def _write_after_a_view(x1, o, n: int):
    v1 = gpujit.where(o > 0, o, x1)
    v4 = x1 * 1.0
    for _i in range(n + 1):
        v4[:, 0].add_(v1[:, 0])
    v1.tanh_()
    return v1 * v4


@pytest.mark.parametrize("dev", _DEVICES)
def test_an_in_place_op_on_a_fused_transposed_output_with_live_views_records(dev):
    # (seed 5154, gradients) the fused v1 of transposed inputs is a transposed view of the
    # kernel's buffer; v1[:, 0] (recorded views, still held by the loop's frame) refer to
    # that buffer too, so v1.tanh_() took v1 for an unrecorded view of another tensor and
    # raised "an in-place operation writes into a view while gradients are recorded"
    f = gpujit.jit.script(_write_after_a_view)
    rng = np.random.default_rng(0)
    for k in range(5):
        a, b = rng.standard_normal((2, 3, 3)).astype(np.float32)
        grads = []
        for fn in (_write_after_a_view, f):
            x1, o = (gpujit.from_numpy(t.copy()).to(dev) for t in (a, b))
            if k >= 3:          # the transposed layout, after the profiled contiguous one
                x1, o = x1.t(), o.t()
            x1.requires_grad_(True)
            o.requires_grad_(True)
            fn(x1, o, 2).sum().backward()
            grads.append([x1.grad.cpu().numpy(), o.grad.cpu().numpy()])
        np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-5, atol=1e-6)
    y = gpujit.ones(3, 3, device=dev).t() * 1     # (a fused output of one op is no group)
    with gpujit.no_grad():
        z = y[0]                                  # an unrecorded view: still refused
    w = gpujit.ones(3, device=dev, requires_grad=True)
    with pytest.raises(RuntimeError, match="did not record the view"):
        z.mul_(w)


@cuda
def test_the_storage_of_a_cuda_tensor_and_of_a_recycled_output_view():
    # (the fake CuPy's allocations had no `size`, which CuPy's Memory has: a CUDA
    # tensor's untyped_storage() failed there only)
    f = gpujit.jit.script(_scaled)
    x = gpujit.ones(4, device="cuda")
    for _ in range(4):
        f(x)
    kept = []
    for k in range(4):
        t = f(x + k)
        kept.append((t.untyped_storage(), t[1:].untyped_storage(), t.view(gpujit.int32)))
        del t
    for k, (s, s1, v) in enumerate(kept):
        assert s.nbytes() == 16 and s1.nbytes() == 16 and s.data_ptr() == s1.data_ptr()
        assert v.view(gpujit.float32).tolist() == [2.0 * k + 3.0] * 4    # not recycled


def _scaled(x):
    return x * 2 + 1
