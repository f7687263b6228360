"""gpujit from several threads and over long runs (hunt session 20).

Thread-local state follows PyTorch 2.13: grad mode and autocast are per thread;
set_fusion_strategy, the default generator (manual_seed), the default dtype and
set_num_threads are per process. Compiled functions called from several threads at once,
with different shapes and dtypes while they profile and specialize, give eager's answers
within their fusion strategy; the autograd engine runs separate graphs in separate threads.

gpujit.script's cache compiles a function once however often script() is called on it,
and forgets it with the function (tests/test_leftovers_s21.py).
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import gpujit
from gpujit.ops import registry as _reg

F16 = gpujit.float16


def _in_thread(fn):
    out, err = [], []

    def run():
        try:
            out.append(fn())
        except BaseException as e:          # pragma: no cover - re-raised below
            err.append(e)
    t = threading.Thread(target=run)
    t.start()
    t.join(60)
    assert not t.is_alive()
    if err:
        raise err[0]
    return out[0]


# ------------------------------------------------------------------ autocast, per thread
def test_an_autocast_region_casts_only_its_own_threads_ops():
    a = gpujit.ones(4, 4)
    inside, done = threading.Event(), threading.Event()

    def hold():
        with gpujit.autocast("cpu", dtype=F16):
            inside.set()
            done.wait(30)
    t = threading.Thread(target=hold)
    t.start()
    try:
        assert inside.wait(30)
        assert not gpujit.is_autocast_enabled("cpu")       # torch: False here too
        assert gpujit.mm(a, a).dtype is gpujit.float32
    finally:
        done.set()
        t.join(30)
    with gpujit.autocast("cpu", dtype=F16):
        assert gpujit.mm(a, a).dtype is F16
        assert _in_thread(lambda: (gpujit.mm(a, a).dtype, gpujit.is_autocast_enabled("cpu"))) \
            == (gpujit.float32, False)
    assert _reg.dispatch_state.autocast is None            # eager calls pay nothing again


def test_autocast_regions_of_two_threads_closing_out_of_order():
    """Each exit restores its own thread's state: before, a region closing in one thread
    restored what the other thread's region had saved, and autocast stayed on."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with gpujit.autocast("cpu", dtype=F16):
            a_in.set()
            b_in.wait(30)
        a_out.set()
        seen["a"] = gpujit.is_autocast_enabled("cpu")

    def b():
        a_in.wait(30)
        with gpujit.autocast("cpu", dtype=F16):
            b_in.set()
            a_out.wait(30)
            seen["b in"] = gpujit.is_autocast_enabled("cpu")
            x = gpujit.ones(2, 2)
            seen["b mm"] = gpujit.mm(x, x).dtype
        seen["b"] = gpujit.is_autocast_enabled("cpu")
    ts = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert seen == {"a": False, "b in": True, "b mm": F16, "b": False}
    assert not gpujit.is_autocast_enabled("cpu") and _reg.dispatch_state.autocast is None


def test_a_compiled_function_in_another_threads_region_is_not_autocast():
    @gpujit.jit.script
    def f(x, w):
        return gpujit.mm(x, w).relu()
    x, w = gpujit.randn(3, 4), gpujit.randn(4, 2)
    want = np.maximum(x.numpy() @ w.numpy(), 0)
    for _ in range(2):
        f(x, w)
    with gpujit.autocast("cpu", dtype=F16):
        assert f(x, w).dtype is F16                         # this thread's region
        r = _in_thread(lambda: f(x, w))
    assert r.dtype is gpujit.float32
    np.testing.assert_allclose(r.numpy(), want, rtol=1e-5, atol=1e-6)


def test_thread_local_and_global_state_as_pytorch():
    torch = pytest.importorskip("torch")

    def probe(mod):
        return _in_thread(lambda: (mod.is_grad_enabled(), mod.is_inference_mode_enabled(),
                                   mod.is_autocast_enabled("cpu"), mod.get_num_threads(),
                                   mod.initial_seed(), str(mod.get_default_dtype())[-7:]))
    got = {}
    for name, mod in (("torch", torch), ("gpujit", gpujit)):
        old_threads = mod.get_num_threads()
        rows = []
        with mod.no_grad():
            rows.append(probe(mod)[:2])
        with mod.inference_mode():
            rows.append(probe(mod)[:2])
        with mod.autocast("cpu", dtype=mod.float16):
            rows.append(probe(mod)[2])
        mod.set_num_threads(1)
        mod.manual_seed(1234)
        mod.set_default_dtype(mod.float64)
        try:
            rows.append(probe(mod)[3:])
        finally:
            mod.set_default_dtype(mod.float32)
            mod.set_num_threads(old_threads)
        got[name] = rows
    assert got["gpujit"] == got["torch"]


# ------------------------------------------------------------------ resources
def _chain(x, y):
    return (x * 0.5 + y).tanh() * (x - y).sigmoid() + x.relu()


def _want(x, y):
    x, y = np.asarray(x.numpy(), np.float64), np.asarray(y.numpy(), np.float64)
    return np.tanh(x * 0.5 + y) / (1 + np.exp(-(x - y))) + np.maximum(x, 0)


# ------------------------------------------------------------------ compiled calls in threads
def _run_threads(n, work):
    errors = []
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(30)
            work(i)
        except BaseException as e:          # pragma: no cover - reported below
            errors.append(e)
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not any(t.is_alive() for t in ts)
    if errors:
        raise errors[0]


@pytest.fixture
def fast_switches():
    """Switch threads as often as the interpreter allows (races show sooner)."""
    import sys
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


@pytest.mark.filterwarnings("ignore::gpujit.fusers.FusionWarning")    # (past 8 signatures)
def test_reprofiling_while_other_threads_specialize(fast_switches):
    """A specialization meeting a branch its profile never ran asks for a new profile
    (executor._mark_stale), which rebuilt the dispatcher without the executable's lock
    while another thread added a specialization: 'dictionary changed size during
    iteration' reached the user."""
    dts = [gpujit.float32, gpujit.float64, gpujit.int32]
    for _ in range(16):
        @gpujit.jit.script
        def f(x, s):
            if bool(s.sum() > 0):
                y = x * 2
            else:
                y = x + 1
            return y.relu()

        def work(i):
            for it in range(24):
                dt = dts[(i + it) % 3]
                x = gpujit.arange(-3, 3).to(dt).reshape(*([1] * ((i + it) % 2)), 6)
                flag = (it // 5 + i) % 2 == 0
                r = f(x, gpujit.tensor([1.0 if flag else -1.0]))
                want = np.maximum(x.numpy() * 2 if flag else x.numpy() + 1, 0)
                np.testing.assert_array_equal(r.numpy(), want)
                assert r.dtype is dt
        _run_threads(6, work)
        stats = f._executable.stats
        assert stats["compiles"] <= f._executable.max_specializations


# ------------------------------------------------------------------ autograd in threads
def test_backward_in_threads_into_one_leaf_sums_every_gradient(fast_switches):
    """As PyTorch's AccumulateGrad (a lock per leaf): backward calls on separate graphs in
    several threads that reach one parameter add up exactly; before, .grad updates raced
    and some were lost (1043 of 1200)."""
    w = gpujit.ones(64, requires_grad=True)
    n, per = 6, 100

    def work(i):
        for _ in range(per):
            (w * gpujit.full((64,), 1.0)).sum().backward()
    _run_threads(n, work)
    np.testing.assert_array_equal(w.grad.numpy(), np.full(64, n * per, np.float32))


def test_backward_of_one_retained_graph_from_several_threads(fast_switches):
    w = gpujit.ones(8, requires_grad=True)
    y = (w * 3).tanh().sum()
    hooks = []
    w.register_hook(lambda g: hooks.append(1))
    n, per = 4, 60

    def work(i):
        for _ in range(per):
            y.backward(retain_graph=True)
    _run_threads(n, work)
    one = 3 * (1 - np.tanh(3.0) ** 2)
    np.testing.assert_allclose(w.grad.numpy(), np.full(8, n * per * one), rtol=1e-4)
    assert len(hooks) == n * per


def test_compiled_forward_and_backward_in_threads_match_eager(fast_switches):
    sf = gpujit.jit.script(_chain)
    w = gpujit.randn(32, requires_grad=True)
    xs = [gpujit.randn(32) for _ in range(4)]
    per = 20

    def work(i):
        for _ in range(per):
            (sf(w, xs[i]) ** 2).sum().backward()
    _run_threads(4, work)
    want = None
    for x in xs:
        g, = gpujit.autograd.grad((_chain(w, x) ** 2).sum(), [w])
        want = g.numpy() * per if want is None else want + g.numpy() * per
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ default device, per thread
@pytest.mark.cuda
def test_the_default_device_is_per_thread_as_pytorchs():
    """torch.set_default_device is thread-local (its device context is a threading.local):
    a thread putting its factories on the GPU leaves the other threads' on the CPU."""
    cuda = gpujit.device("cuda", gpujit.cuda.current_device())
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def gpu_thread():
        gpujit.set_default_device("cuda")
        try:
            seen["there"] = (gpujit.get_default_device(), gpujit.zeros(2).device,
                             gpujit.tensor([1.0]).device)
            inside.set()
            done.wait(30)
        finally:
            gpujit.set_default_device(None)
    t = threading.Thread(target=gpu_thread)
    t.start()
    try:
        assert inside.wait(30)
        assert gpujit.get_default_device() == gpujit.device("cpu")
        assert gpujit.zeros(2).device == gpujit.device("cpu")
        assert gpujit.arange(3).device == gpujit.device("cpu")
        assert gpujit.tensor([1.0]).device == gpujit.device("cpu")
    finally:
        done.set()
        t.join(30)
    assert seen["there"] == (cuda, cuda, cuda)
    gpujit.set_default_device("cuda")
    try:
        assert _in_thread(lambda: gpujit.ones(1).device) == gpujit.device("cpu")
        assert gpujit.ones(1).device == cuda
    finally:
        gpujit.set_default_device(None)
