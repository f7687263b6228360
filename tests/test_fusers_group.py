"""FusedGroup: guards, the STATIC/DYNAMIC budget, the unfused fallback, GPUJIT_DUMP=recompile
and the warnings, with a fake kernel builder (no numba compile): each fake kernel checks
that the arguments it gets fit the ArgSpecs it was built for, and computes the subgraph
with the reference interpreter."""
import textwrap

import numpy as np
import pytest

import gpujit
from gpujit import dtypes as dt, fusers
from gpujit.fusers import FusedGroup, FusionBudget, FusionWarning, StrictFusionError
from gpujit.fusers.specialize import array_device
from gpujit.ir import parse_ir
from gpujit.ops.registry import wrap_array
from gpujit.runtime.interpreter import interpret

CHAIN = """
graph(%x : Float(4, strides=[1], requires_grad=0, device=cpu),
      %y : Float(4, strides=[1], requires_grad=0, device=cpu)):
  %h : float = prim::Constant[value=0.5]()
  %one : int = prim::Constant[value=1]()
  %a : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::mul(%x, %h)
  %b : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::add(%a, %y, %one)
  %t : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::tanh(%b)
  return (%t)
"""

SCALED = """
graph(%x : Float(4, strides=[1], requires_grad=0, device=cpu),
      %s : int):
  %a : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::mul(%x, %s)
  %b : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::neg(%a)
  return (%b)
"""


def chain_ref(x, y):
    return np.tanh(x * 0.5 + y)


class FakeKernel:
    def __init__(self, spec, target, log):
        self.spec, self.target, self.log = spec, target, log
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        for a, s in zip(args, self.spec.inputs):
            self.check(a, s)
        wrapped = [wrap_array(a, array_device(a)) if array_device(a) is not None else a
                   for a in args]
        out = interpret(self.spec.subgraph, *wrapped)
        outs = out if isinstance(out, tuple) else (out,)
        for o, v in zip(outs, self.spec.subgraph.outputs):
            if o.dtype is not v.type.dtype:
                self.log.violations.append(f"output dtype {o.dtype} != {v.type.dtype}")
        return tuple(o._data for o in outs)

    def check(self, a, s):
        bad = self.log.violations.append
        if s.kind == "scalar":
            if dt.from_numpy_dtype(np.asarray(a).dtype).category != s.dtype.category:
                bad(f"scalar {a!r} for {s}")
            return
        item = a.itemsize
        if a.dtype != s.dtype.np or a.ndim != s.ndim:
            bad(f"{a.dtype}/{a.ndim} for {s}")
        if s.sizes is not None and (a.shape != s.sizes
                                    or tuple(x // item for x in a.strides) != s.strides):
            bad(f"{a.shape}/{a.strides} for {s}")
        if tuple(n == 1 for n in a.shape) != s.broadcast:
            bad(f"broadcast {a.shape} for {s}")
        if s.contiguous and not a.flags.c_contiguous:
            bad(f"non-contiguous for {s}")


class FakeBuilder:
    def __init__(self, fail=None):
        self.kernels = []
        self.violations = []
        self.fail = fail

    def __call__(self, spec, target):
        if self.fail is not None:
            raise self.fail
        k = FakeKernel(spec, target, self)
        self.kernels.append(k)
        return k

    @property
    def calls(self):
        return sum(k.calls for k in self.kernels)


def make_group(text=CHAIN, strategy=(("STATIC", 2), ("DYNAMIC", 10)), builder=None,
               target="cpu", **kw):
    g = parse_ir(textwrap.dedent(text))
    (node,) = fusers.fuse(g)
    builder = builder if builder is not None else FakeBuilder()
    group = FusedGroup(node, FusionBudget(list(strategy), name="chain"), target,
                       builder=builder, **kw)
    return group, builder


def f32(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.fixture
def recompile_dump(monkeypatch):
    monkeypatch.setenv("GPUJIT_DUMP", "recompile")


def test_first_call_builds_a_static_kernel_and_later_calls_reuse_it():
    group, b = make_group()
    x, y = f32(4), f32(4, seed=1)
    for _ in range(3):
        (out,) = group(x, y)
        np.testing.assert_allclose(out, chain_ref(x, y), rtol=1e-6)
    assert len(b.kernels) == 1 and b.calls == 3 and group.fallback_calls == 0
    (s,) = group.specializations
    spec = s.spec
    assert s.kind == "STATIC" and spec.static and spec.device is gpujit.device("cpu")
    assert [a.sizes for a in spec.inputs] == [(4,), (4,)]
    assert str(spec.subgraph.outputs[0].type) == \
        "Float(4, strides=[1], requires_grad=0, device=cpu)"
    assert not b.violations


def test_budget_static_then_dynamic_then_fallback(recompile_dump, capsys):
    group, b = make_group(strategy=[("STATIC", 2), ("DYNAMIC", 2)])
    shapes = [(4,), (5,), (6,), (7,), (8, 3), (2, 2, 2), (9,)]
    kinds = []
    for i, shape in enumerate(shapes):
        x, y = f32(*shape, seed=i), f32(*shape, seed=i + 9)
        if shape == (2, 2, 2):
            with pytest.warns(FusionWarning, match="chain has made all the specializations"):
                (out,) = group(x, y)
        else:
            (out,) = group(x, y)
        np.testing.assert_allclose(out, chain_ref(x, y), rtol=1e-6)
        kinds.append([s.kind for s in group.specializations])
    # (6,) makes DYNAMIC #1, which then serves (7,) and (9,); rank 2 needs DYNAMIC #2;
    # rank 3 finds the budget spent and runs unfused
    assert kinds[-1] == ["STATIC", "STATIC", "DYNAMIC", "DYNAMIC"]
    assert [len(k) for k in kinds] == [1, 2, 3, 3, 4, 4, 4]
    assert group.fallback_calls == 1 and len(b.kernels) == 4 and not b.violations
    assert group.budget.made(group, "STATIC") == 2 and group.budget.made(group, "DYNAMIC") == 2
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "[gpujit] chain group 0: new specialization STATIC #1 for x: [4], y: [4] — first call",
        "[gpujit] chain group 0: new specialization STATIC #2 for x: [5], y: [5] — guard "
        "failed: x sizes [5] != [4]",
        "[gpujit] chain group 0: new specialization DYNAMIC #1 for x: [*], y: [*] — guard "
        "failed: x sizes [6] != [5] (STATIC budget 2 spent)",
        "[gpujit] chain group 0: new specialization DYNAMIC #2 for x: [*, *], y: [*, *] — "
        "guard failed: x rank 2 != 1",
        "[gpujit] chain group 0: specialization budget spent; new input types run unfused "
        "(set_fusion_strategy to change)",
    ]


def test_the_budget_warning_fires_once_per_function():
    budget = FusionBudget([("STATIC", 1)], name="f")
    groups = []
    for _ in range(2):
        (node,) = fusers.fuse(parse_ir(textwrap.dedent(CHAIN)))
        groups.append(FusedGroup(node, budget, "cpu", builder=FakeBuilder()))
    for g in groups:
        g(f32(4), f32(4))
    with pytest.warns(FusionWarning):
        groups[0](f32(5), f32(5))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (out,) = groups[1](f32(5), f32(5, seed=3))
        groups[0](f32(6), f32(6))
    np.testing.assert_allclose(out, chain_ref(f32(5), f32(5, seed=3)), rtol=1e-6)
    assert [g.fallback_calls for g in groups] == [2, 1]


def test_empty_strategy_runs_unfused_with_the_same_answers():
    group, b = make_group(strategy=[])
    x, y = f32(4), f32(4, seed=1)
    with pytest.warns(FusionWarning):
        (out,) = group(x, y)
    np.testing.assert_allclose(out, chain_ref(x, y), rtol=1e-6)
    assert b.kernels == [] and group.fallback_calls == 1


def test_new_dtype_gets_a_kernel_typed_for_it():
    group, b = make_group()
    x, y = f32(4), f32(4, seed=1)
    group(x, y)
    xd, yi = x.astype(np.float64), np.arange(4, dtype=np.int32)
    (out,) = group(xd, yi)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, np.tanh(xd * 0.5 + yi), rtol=1e-12)
    spec = group.specializations[1].spec
    assert [str(v.type) for v in spec.subgraph.inputs] == [
        "Double(4, strides=[1], requires_grad=0, device=cpu)",
        "Int(4, strides=[1], requires_grad=0, device=cpu)"]
    assert [a.dtype for a in spec.inputs] == [dt.float64, dt.int32]
    assert not b.violations


def test_int_inputs_promote_as_eager_does():
    group, b = make_group(strategy=[("DYNAMIC", 2)])
    xi, yi = np.arange(4, dtype=np.int64), np.arange(4, dtype=np.int64)
    (out,) = group(xi, yi)
    eager = gpujit.tanh(gpujit.from_numpy(xi) * 0.5 + gpujit.from_numpy(yi))
    assert out.dtype == np.float32 and eager.dtype is dt.float32
    np.testing.assert_allclose(out, eager.numpy(), rtol=1e-6)
    assert str(group.specializations[0].spec.subgraph.outputs[0].type) == \
        "Float(*, requires_grad=0, device=cpu)"


def test_non_contiguous_inputs_get_their_own_dynamic_kernel():
    group, b = make_group(strategy=[("DYNAMIC", 3)])
    x, y = f32(3, 5), f32(3, 5, seed=1)
    group(x, y)
    xs, ys = f32(3, 10)[:, ::2], f32(3, 10, seed=1)[:, ::2]
    (out,) = group(xs, ys)
    np.testing.assert_allclose(out, chain_ref(xs, ys), rtol=1e-6)
    a, c = group.specializations
    assert [s.contiguous for s in a.spec.inputs] == [True, True]
    assert [s.contiguous for s in c.spec.inputs] == [False, False]
    group(f32(6, 2), f32(6, 2))          # contiguous again: the first kernel serves it
    assert len(group.specializations) == 2 and a.kernel.calls == 2
    assert not b.violations


@pytest.mark.parametrize("strategy", [[("DYNAMIC", 3)], [("STATIC", 3)]])
def test_transposed_inputs_give_outputs_laid_out_as_eager(strategy):
    """Eager elementwise ops follow their inputs' memory layout (NumPy, PyTorch): the
    kernel runs on the inputs transposed back to C order (a contiguous kernel) and its
    outputs are transposed the same way, so `y.t().view(-1)` works on a fused result as
    on eager's (it raised on every optimized call)."""
    group, b = make_group(strategy=strategy)
    xt, yt = f32(5, 3).T, f32(5, 3, seed=1).T
    for _ in range(2):
        (out,) = group(xt, yt)
        np.testing.assert_allclose(out, chain_ref(xt, yt), rtol=1e-6)
        assert out.strides == chain_ref(xt, yt).strides == (4, 12)
    (s,) = group.specializations
    assert [i.contiguous for i in s.spec.inputs] == [True, True] and s.guard.perm == (1, 0)
    # the same dim order, not dense: a kernel of its own, still laid out as eager
    xs = f32(10, 3)[::2].T
    (out,) = group(xs, yt)
    np.testing.assert_allclose(out, chain_ref(xs, yt), rtol=1e-6)
    assert out.strides == (4, 12) and len(group.specializations) == 2
    # C order again: a C-ordered kernel
    (out,) = group(f32(3, 5), f32(3, 5))
    assert out.flags.c_contiguous and len(group.specializations) == 3
    assert not b.violations and group.fallback_calls == 0


def test_permuted_input_and_a_lower_rank_one_give_eager_layout():
    """A channels-last style input (N, H, W, C) from permute plus a per-channel vector
    (of lower rank): the output is laid out as eager's, the kernel runs in C order."""
    group, b = make_group(strategy=[("DYNAMIC", 3)])
    x = f32(2, 3, 4, 5).transpose(0, 2, 3, 1)
    bias = f32(3, seed=2)
    for _ in range(2):
        (out,) = group(x, bias)
        np.testing.assert_allclose(out, chain_ref(x, bias), rtol=1e-6)
        assert out.strides == chain_ref(x, bias).strides
    (s,) = group.specializations
    assert s.guard.perm == (0, 3, 1, 2) and [i.contiguous for i in s.spec.inputs] == [True, True]
    assert not b.violations and group.fallback_calls == 0


@pytest.mark.parametrize("strategy", [[("DYNAMIC", 3)], [("STATIC", 3)]])
def test_dims_of_size_1_keep_their_place_in_the_layout(strategy):
    """A dim of size 1 has no order of its own: a C-contiguous (1, 6) input gives a
    C-contiguous kernel and eager's strides (6, 1) (it ran 'transposed', giving (1, 1)),
    and in a permuted input the other dims are ordered around it."""
    group, b = make_group(strategy=strategy)
    for x in (f32(1, 6), f32(6, 1, 3).transpose(2, 1, 0), f32(3, 1, 6)):
        (out,) = group(x, x)
        np.testing.assert_allclose(out, chain_ref(x, x), rtol=1e-6)
        assert out.strides == chain_ref(x, x).strides
    assert [s.guard.perm for s in group.specializations][0] is None
    assert not b.violations and group.fallback_calls == 0


def transposed_chain(x):
    return (x * 2).sigmoid().t().view(-1)


def test_fused_outputs_of_transposed_inputs_can_be_viewed_as_eager():
    import gpujit
    f = gpujit.jit.script(transposed_chain)
    x = gpujit.rand(4, 6).t()
    want = transposed_chain(x).numpy()
    for _ in range(3):
        np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-6)


def test_static_kernels_check_strides():
    group, b = make_group()
    x = f32(4, 4)
    group(x, x)
    (out,) = group(x.T, x)
    np.testing.assert_allclose(out, chain_ref(x.T, x), rtol=1e-6)
    # (x.T first: eager lays the result out transposed, as torch's TensorIterator, so the
    # kernel runs on the arguments transposed: x.T as (4, 1), x as (1, 4))
    assert [tuple(i.strides for i in s.spec.inputs[:2]) for s in group.specializations] == [
        ((4, 1), (4, 1)), ((4, 1), (1, 4))]
    assert out.strides == (4, 16)
    assert not b.violations


def test_broadcasting_patterns_are_part_of_the_guard():
    group, b = make_group(strategy=[("DYNAMIC", 3)])
    group(f32(3, 4), f32(3, 4))
    x, y = f32(3, 4), f32(1, 4)
    (out,) = group(x, y)
    np.testing.assert_allclose(out, chain_ref(x, y), rtol=1e-6)
    assert group.specializations[1].spec.inputs[1].broadcast == (True, False)
    x, y = f32(2, 3), f32(2, 1)
    (out,) = group(x, y)
    np.testing.assert_allclose(out, chain_ref(x, y), rtol=1e-6)
    assert len(group.specializations) == 3 and not b.violations


def test_inputs_that_do_not_broadcast_raise_eagers_error():
    group, b = make_group(strategy=[("DYNAMIC", 1)])
    group(f32(3), f32(3))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # not reported as a kernel failure
        with pytest.raises(RuntimeError, match="must match the size"):
            group(f32(3), f32(4))
    assert group.kernel_failures == 0


def test_zero_size_and_zero_dim_tensors():
    group, b = make_group()
    e = np.zeros((0, 4), np.float32)
    (out,) = group(e, e)
    assert out.shape == (0, 4) and group.specializations == [] and group.fallback_calls == 1
    x0, y0 = np.array(0.25, np.float32), np.array(-1.0, np.float32)
    (out,) = group(x0, y0)
    assert out.shape == () and out.dtype == np.float32
    np.testing.assert_allclose(out, chain_ref(x0, y0), rtol=1e-6)
    (s,) = group.specializations
    assert s.spec.inputs[0].ndim == 0 and not b.violations
    x, y0 = f32(3), np.array(2.0, np.float32)          # 0-dim mixed with 1-dim
    (out,) = group(x, y0)
    np.testing.assert_allclose(out, chain_ref(x, y0), rtol=1e-6)


def test_scalar_arguments_are_typed_by_their_python_type():
    group, b = make_group(SCALED, strategy=[("DYNAMIC", 4)])
    x = f32(4)
    for s in (3, 2.5, True, 7, np.float32(1.5)):
        (out,) = group(x, s)
        np.testing.assert_allclose(out, -(x * s), rtol=1e-6)
    assert [k.spec.inputs[1].dtype for k in b.kernels] == [dt.int64, dt.float64, dt.bool,
                                                           dt.float64]
    assert [str(v.type) for v in b.kernels[1].spec.subgraph.inputs][1] == "float"
    assert len(group.specializations) == 4 and not b.violations


def test_scalar_results_follow_the_default_dtype():
    group, b = make_group(SCALED, strategy=[("DYNAMIC", 4)])
    xi = np.arange(4, dtype=np.int64)
    assert group(xi, 2.5)[0].dtype == np.float32
    prev = dt.get_default_dtype()
    dt.set_default_dtype(dt.float64)
    try:
        (out,) = group(xi, 2.5)
    finally:
        dt.set_default_dtype(prev)
    assert out.dtype == np.float64 and len(group.specializations) == 2


def test_arguments_of_the_wrong_kind_run_unfused():
    calls = []

    def fallback(*args):
        calls.append(args)
        return (np.zeros(4, np.float32),)
    group, b = make_group(fallback=fallback)
    group([1.0, 2.0, 3.0, 4.0], f32(4))
    assert len(calls) == 1 and group.specializations == []


class _FakeCupyArray:
    """Looks like a CuPy array on cuda:0 to the argument checks (no GPU here)."""
    __module__ = "cupy._core.core"

    class device:
        id = 0

    def __init__(self, a):
        self.a = a
        self.dtype, self.shape, self.size = a.dtype, a.shape, a.size


def test_mixed_devices_run_unfused_and_strict_fusion_names_them():
    seen = []
    group, b = make_group(fallback=lambda *a: seen.append(a) or (np.zeros(4, np.float32),))
    group(f32(4), _FakeCupyArray(f32(4)))
    assert len(seen) == 1 and group.specializations == []
    with fusers.strict_fusion():
        with pytest.raises(StrictFusionError, match=r"mixed devices \(cpu, cuda:0\)"):
            group(f32(4), _FakeCupyArray(f32(4)))


def test_strict_fusion_raises_when_the_budget_is_spent_but_not_for_zero_size():
    group, b = make_group(strategy=[("STATIC", 1)])
    group(f32(4), f32(4))
    with fusers.strict_fusion():
        group(f32(4), f32(4))                          # fused: fine
        e = np.zeros(0, np.float32)
        assert group(e, e)[0].shape == (0,)            # nothing to compute: fine
        with pytest.raises(StrictFusionError) as info:
            group(f32(5), f32(5))
    msg = str(info.value)
    # (x * 0.5: named by PyTorch's overload for a number operand)
    assert "aten::mul.Scalar(Tensor self, Scalar other) -> Tensor" in msg
    assert "aten::tanh(Tensor self) -> Tensor" in msg
    assert "the specialization budget is spent ([('STATIC', 1)])" in msg
    assert "in chain group 0" in msg


def test_a_kernel_that_fails_to_build_is_reported_and_not_retried():
    b = FakeBuilder(fail=RuntimeError("nvvm exploded"))
    group, _ = make_group(builder=b)
    x, y = f32(4), f32(4, seed=1)
    with pytest.warns(FusionWarning, match="building the kernel of STATIC #1 failed: "
                                           "RuntimeError: nvvm exploded"):
        (out,) = group(x, y)
    np.testing.assert_allclose(out, chain_ref(x, y), rtol=1e-6)
    (out,) = group(x, y)
    np.testing.assert_allclose(out, chain_ref(x, y), rtol=1e-6)
    assert group.fallback_calls == 2 and len(group.specializations) == 1
    assert group.budget.made(group) == 1


def test_a_kernel_that_fails_at_run_time_falls_back():
    class Broken(FakeBuilder):
        def __call__(self, spec, target):
            def kernel(*args):
                raise RuntimeError("too many resources requested for launch")
            return kernel
    group, _ = make_group(builder=Broken())
    x, y = f32(4), f32(4, seed=1)
    with pytest.warns(FusionWarning, match="too many resources"):
        (out,) = group(x, y)
    np.testing.assert_allclose(out, chain_ref(x, y), rtol=1e-6)
    (out,) = group(x, y)
    assert group.kernel_failures == 2 and group.fallback_calls == 2
    with fusers.strict_fusion():
        with pytest.raises(StrictFusionError, match="its kernel failed"):
            group(x, y)


def test_the_guard_source_reads_attributes_only():
    group, b = make_group()
    group(f32(4), f32(4))
    src = group.dispatch_source
    assert "np." not in src and "dict(" not in src and "for " not in src
    assert "d0 is _g0_0d and s0 == _g0_0s and a0.strides == _g0_0t" in src


def test_bad_target_and_arity():
    g = parse_ir(textwrap.dedent(CHAIN))
    (node,) = fusers.fuse(g)
    with pytest.raises(ValueError, match="target"):
        FusedGroup(node, FusionBudget(), "tpu")
    group = FusedGroup(node, FusionBudget(), "sim", builder=FakeBuilder())
    with pytest.raises(TypeError):
        group(f32(4))


def test_inputs_the_ops_do_not_take_raise_eagers_error_and_spend_nothing():
    group, b = make_group("""
        graph(%x : Long(4, strides=[1], requires_grad=0, device=cpu)):
          %a : Long(4, strides=[1], requires_grad=0, device=cpu) = aten::bitwise_not(%x)
          %b : Long(4, strides=[1], requires_grad=0, device=cpu) = aten::neg(%a)
          return (%b)
        """)
    (out,) = group(np.arange(4))
    np.testing.assert_array_equal(out, -~np.arange(4))
    # (eager's error, torch 2.13's words: the kernel's)
    with pytest.raises(RuntimeError, match="\"bitwise_not_cpu\" not implemented for 'Float'"):
        group(f32(4))
    assert len(group.specializations) == 1 and group.budget.made(group) == 1


def test_threads_meeting_a_new_shape_build_one_kernel():
    import threading
    import time

    class Slow(FakeBuilder):
        def __call__(self, spec, target):
            time.sleep(0.05)
            return super().__call__(spec, target)
    group, b = make_group(builder=Slow())
    x, y = f32(4), f32(4, seed=1)
    outs = []
    threads = [threading.Thread(target=lambda: outs.append(group(x, y)[0])) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(b.kernels) == 1 and len(group.specializations) == 1 and b.calls == 8
    for out in outs:
        np.testing.assert_allclose(out, chain_ref(x, y), rtol=1e-6)


@pytest.mark.cuda
def test_cuda_groups_guard_on_cupy_arrays_and_mixed_devices_fall_back():
    import cupy
    group, b = make_group(target="cuda")
    x, y = f32(4), f32(4, seed=1)
    gx, gy = cupy.asarray(x), cupy.asarray(y)
    for _ in range(2):
        (out,) = group(gx, gy)
        assert isinstance(out, cupy.ndarray)
        np.testing.assert_allclose(out.get(), chain_ref(x, y), rtol=1e-6)
    assert len(b.kernels) == 1 and b.calls == 2 and not b.violations
    y0 = np.array(0.5, np.float32)             # a 0-dim CPU tensor joins a CUDA op (eager)
    (out,) = group(gx, y0)
    np.testing.assert_allclose(cupy.asnumpy(out), chain_ref(x, y0), rtol=1e-6)
    assert group.fallback_calls == 1 and len(b.kernels) == 1
    with pytest.raises(RuntimeError, match="same device"):
        group(gx, y)                           # a 4-element CPU tensor does not
    (out,) = group(x, y)                       # all on the CPU: no CUDA kernel for them
    np.testing.assert_allclose(out, chain_ref(x, y), rtol=1e-6)


@pytest.mark.cuda
def test_cuda_static_guards_read_cupys_contiguity_flag():
    """On CuPy arrays a STATIC guard of C-contiguous inputs tests the sizes and CuPy's
    `_c_contiguous` flag (no strides tuple to build per call); a transposed input of the
    same sizes still fails it and gets its own kernel."""
    import cupy
    group, b = make_group(target="cuda")
    x, y = f32(4, 4), f32(4, 4, seed=1)
    gx, gy = cupy.asarray(x), cupy.asarray(y)
    group(gx, gy)
    assert "a0._c_contiguous" in group.dispatch_source
    assert ".strides ==" not in group.dispatch_source
    (out,) = group(gx.T, gy)
    np.testing.assert_allclose(out.get(), chain_ref(x.T, y), rtol=1e-6)
    assert len(b.kernels) == 2 and [s.kind for s in group.specializations] == ["STATIC"] * 2
    assert "a0.strides ==" in group.dispatch_source        # the transposed one's guard
    (out,) = group(gx, gy)
    np.testing.assert_allclose(out.get(), chain_ref(x, y), rtol=1e-6)
    assert len(b.kernels) == 2 and b.calls == 3 and not b.violations
