"""Fusion through traced functions, as a user sees it: graph_for shows the group, results
match eager for new shapes/dtypes/strides, the strategy budget, strict_fusion around calls,
the fusion report."""
import re
import warnings

import numpy as np
import pytest

import gpujit as torch
from fusion_asserts import fast_path_kinds


def chain(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=atol)


def test_traced_chain_fuses_into_one_group_and_matches_eager():
    x, y = torch.randn(64), torch.randn(64)
    t = torch.jit.trace(chain, (x, y))
    t(x, y)
    g = str(t.graph_for(x, y))
    assert g.count("prim::TensorExprGroup_0(") == 1
    assert "with prim::TensorExprGroup_0 = graph(" in g
    for name in ("aten::tanh", "aten::sigmoid", "aten::relu", "aten::mul"):
        assert name in g.split("with prim::TensorExprGroup_0")[1]
    close(t(x, y), chain(x, y))
    report = t.fusion_report(x, y)
    assert "fused" in report and "aten::tanh" in report


def test_new_shapes_dtypes_strides_and_edge_sizes_give_eager_answers():
    t = torch.jit.trace(chain, (torch.randn(8), torch.randn(8)))
    cases = [
        (torch.randn(8), torch.randn(8)),
        (torch.randn(33), torch.randn(33)),                       # a new size
        (torch.randn(4, 5), torch.randn(5)),                      # broadcasting, new rank
        (torch.randn(5, 4).t(), torch.randn(4, 5)),               # transposed input
        (torch.randn(10)[::2], torch.randn(5)),                   # strided slice
        (torch.randn(0), torch.randn(0)),                         # 0-size
        (torch.tensor(0.3), torch.tensor(-1.2)),                  # 0-dim
        (torch.randn(6, dtype=torch.float64), torch.randn(6, dtype=torch.float64)),
        (torch.randn(6, dtype=torch.float16), torch.randn(6, dtype=torch.float16)),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x, y in cases:
            for _ in range(3):          # profiling call, then optimized calls
                got = t(x, y)
            want = chain(x, y)
            assert got.dtype is want.dtype and got.shape == want.shape
            tol = 2e-3 if x.dtype is torch.float16 else 1e-5
            close(got.float(), want.float(), rtol=tol, atol=tol)


def test_integer_and_bool_ops_fuse_with_pytorch_semantics():
    def f(a, b):
        return ((a // b) + (a % b) * 3 - (a > b).to(torch.int64)) * 2

    a = torch.tensor([7, -7, 9, -9, 5, 0])
    b = torch.tensor([2, 2, -4, -4, 5, 3])
    t = torch.jit.trace(f, (a, b))
    for _ in range(3):
        got = t(a, b)
    np.testing.assert_array_equal(got.numpy(), f(a, b).numpy())


def test_set_fusion_strategy_validates_and_returns_previous():
    prev = torch.set_fusion_strategy([("DYNAMIC", 3)])
    try:
        assert prev == [("STATIC", 2), ("DYNAMIC", 10)]
        assert torch.jit.set_fusion_strategy([("STATIC", 1)]) == [("DYNAMIC", 3)]
        with pytest.raises(ValueError):
            torch.set_fusion_strategy([("FAST", 1)])
        with pytest.raises(ValueError):
            torch.set_fusion_strategy([("STATIC", -1)])
    finally:
        torch.set_fusion_strategy(prev)


def test_static_then_dynamic_then_unfused_budget():
    prev = torch.set_fusion_strategy([("STATIC", 1), ("DYNAMIC", 1)])
    try:
        t = torch.jit.trace(chain, (torch.randn(4), torch.randn(4)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for n in (4, 4, 7, 9, 11, 4):
                x, y = torch.randn(n), torch.randn(n)
                close(t(x, y), chain(x, y))
            x2, y2 = torch.randn(3, 3), torch.randn(3, 3)   # a new rank: budget is spent
            for _ in range(3):
                close(t(x2, y2), chain(x2, y2))
        exe = t._get_executable()
        groups = [g for s in exe.specializations for g in s.groups]
        made = [sp for g in groups for sp in g.specializations]
        assert len(made) <= 2
        assert any(g.fallback_calls for g in groups)
    finally:
        torch.set_fusion_strategy(prev)


def chain_kept_strategy_a(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)


def chain_kept_strategy_b(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)


def test_a_function_keeps_its_strategy_when_it_changes_later():
    # documented: a function keeps the strategy in force when it first compiles; an
    # empty strategy set later stopped it fusing new input signatures, and a function
    # first compiled under an empty strategy fused once it was set again
    x = torch.randn(4)
    xd = x.double()
    a = torch.jit.script(chain_kept_strategy_a)
    a(x, x), a(x, x)
    prev = torch.set_fusion_strategy([])
    try:
        b = torch.jit.script(chain_kept_strategy_b)
        b(x, x), b(x, x)
        a(xd, xd), a(xd, xd)
    finally:
        torch.set_fusion_strategy(prev)
    b(xd, xd), b(xd, xd)
    assert "prim::TensorExprGroup" in str(a.graph_for(xd, xd))
    assert "prim::TensorExprGroup" not in str(b.graph_for(xd, xd))
    with pytest.raises(torch.jit.StrictFusionError, match="the fusion strategy is empty"):
        with torch.strict_fusion():
            b(xd, xd)
    close(b(xd, xd), chain_kept_strategy_b(xd, xd))


def test_strict_fusion_around_calls():
    x, y, w = torch.randn(4, 4), torch.randn(4, 4), torch.randn(4, 4)
    t = torch.jit.trace(chain, (x, y))

    def mm_then_relu(a, b):
        return torch.relu(torch.matmul(a, b) * 2 + 1)

    m = torch.jit.trace(mm_then_relu, (x, w))       # check_trace already profiled both
    xs, ws = torch.randn(4, 4, dtype=torch.float64), torch.randn(4, 4, dtype=torch.float64)
    with torch.strict_fusion():
        t(x, y)                      # fully fused: fine
        m(xs, ws)                    # a new signature: its profiling call is exempt
        with pytest.raises(torch.jit.StrictFusionError) as ei:
            m(xs, ws)
    msg = str(ei.value)
    assert "aten::matmul" in msg
    assert re.search(r"test_fusion_e2e\.py:\d+", msg)
    assert "torch.matmul(a, b)" in msg
    m(x, w)                          # outside the block: runs normally


def test_the_reason_an_op_alone_did_not_fuse_when_no_group_forms():
    # no group in the whole graph: the partitioner's reasons still reach graph_for,
    # fusion_report and strict_fusion (they said "unknown shape of input %x" and
    # "fusible, but the graph was not fused")
    x = torch.randn(4, 4)

    def lone_sin(a):
        return torch.sin(a)

    def mul_then_sum(a):
        return (a * 2).sum()

    s = torch.jit.trace(lone_sin, (x,))
    r = torch.jit.trace(mul_then_sum, (x,))
    want = "no fusible op next to it"
    assert want in str(s.fusion_report(x)) and want in str(r.fusion_report(x))
    assert "reduction" in str(r.fusion_report(x))
    for f in (s, r):
        f(x), f(x)
        with pytest.raises(torch.jit.StrictFusionError, match=want):
            with torch.strict_fusion():
                f(x)


def test_strict_fusion_catches_calls_that_run_the_whole_graph_unfused():
    # a new input signature past the executor's max_specializations runs op by op:
    # strict_fusion said nothing (and did not warn either); a call that records gradients
    # runs its groups fused (each records one backward node), so it passes
    def f(a, b):
        return (a * 2 + b).relu()

    s = torch.jit.script(f)
    x = torch.randn(3)
    xr = torch.randn(3, requires_grad=True)
    s(x, x), s(x, x)
    with torch.strict_fusion():
        s(x, x)
        out = s(xr, x)
        out.sum().backward()
        np.testing.assert_allclose(xr.grad.numpy(), np.where(
            xr.detach().numpy() * 2 + x.numpy() > 0, 2.0, 0.0))
        with torch.no_grad():
            s(xr, x), s(xr, x)
    exe = s._get_executable()
    ranks = [torch.randn(*[2] * r) for r in range(1, exe.max_specializations + 2)]
    with pytest.warns(torch.fusers.FusionWarning, match="most specializations"):
        for a in ranks:
            s(a, a), s(a, a)
    for a in ranks[:exe.max_specializations - 1]:
        with torch.strict_fusion():
            close(s(a, a), f(a, a))
    with pytest.raises(torch.jit.StrictFusionError, match="most specializations"):
        with torch.strict_fusion():
            s(ranks[-1], ranks[-1])
    close(s(ranks[-1], ranks[-1]), f(ranks[-1], ranks[-1]))


def test_eight_threads_calling_a_new_function_compile_each_kernel_once():
    import threading

    def f(x, y):
        return torch.sigmoid(x * 1.25 - y) * 3 + torch.tanh(y)

    x, y = torch.randn(257), torch.randn(257)
    t = torch.jit.trace(f, (x, y), check_trace=False)
    before = torch.kernels.cache_info()
    results, errors = [], []

    def worker():
        try:
            for _ in range(4):
                results.append(t(x, y))
        except Exception as e:          # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    want = f(x, y)
    for r in results:
        close(r, want)
    after = torch.kernels.cache_info()
    assert after.compiles + after.disk_hits - before.compiles - before.disk_hits <= 1



@pytest.mark.parametrize("how", ["script", "trace, new dtype"])
def test_eight_threads_calling_a_new_function_make_one_specialization(how):
    """Threads that meet a new function (or a new input key of one) at once: one thread
    profiles and compiles, the others wait and run its code. They each made their own
    specialization of the same key (and executable), spending the specialization budget
    and the fusion strategy's STATIC slots on duplicates."""
    import threading

    def f(x, y):
        return torch.sigmoid(x * 1.75 - y) * 3 + torch.tanh(y) * x

    x, y = torch.randn(300), torch.randn(300)
    if how == "script":
        fn = torch.jit.script(f)
    else:
        fn = torch.jit.trace(f, (x, y), check_trace=False)
        fn(x, y)
        x, y = x.double(), y.double()
    import logging
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    log = logging.getLogger("gpujit.fusers")
    log.addHandler(handler)
    level = log.level
    log.setLevel(logging.INFO)
    before = torch.kernels.cache_info()
    barrier = threading.Barrier(8)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            for _ in range(3):
                results.append(fn(x, y))
        except Exception as e:          # noqa: BLE001 - reported below
            errors.append(e)

    import sys
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)         # threads interleave often: the race shows
    try:
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    want = f(x, y)
    for r in results:
        close(r, want)
    log.removeHandler(handler)
    log.setLevel(level)
    new = [m for m in seen if "new specialization" in m]
    assert len(new) == 1 and "STATIC #1" in new[0], new
    exe = fn._executable
    keys = [s.key for s in exe.specializations]
    assert len(keys) == len(set(keys)) == (1 if how == "script" else 2), keys
    after = torch.kernels.cache_info()
    assert after.misses - before.misses == 1


def fused_for_last_graph(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)


def matmul_for_last_graph(x, y):
    return torch.matmul(x, y)


def test_last_executed_optimized_graph(monkeypatch):
    """torch.jit.last_executed_optimized_graph(): the optimized graph of the compiled
    function called last (what PyTorch's fusion tests inspect)."""
    from gpujit.jit import objects
    monkeypatch.setattr(objects, "_LAST", [None])
    # before any compiled function has run: None, as PyTorch's (it raised)
    assert torch.jit.last_executed_optimized_graph() is None
    assert torch._C._last_executed_optimized_graph() is None
    f = torch.jit.script(fused_for_last_graph)
    g = torch.jit.script(matmul_for_last_graph)
    x = torch.rand(4, 4)
    for _ in range(3):
        f(x, x)
    last = torch.jit.last_executed_optimized_graph()
    assert "prim::TensorExprGroup" in str(last) and str(last) == str(f.graph_for(x, x))
    for _ in range(2):
        g(x, x)
    last = torch.jit.last_executed_optimized_graph()
    assert "aten::matmul" in str(last) and "TensorExprGroup" not in str(last)
    assert torch._C._last_executed_optimized_graph() is last
    # a call that records gradients is the last one executed too (it kept showing the
    # previous function's graph): its fusion groups ran, recording gradients
    f(torch.rand(4, 4, requires_grad=True), x)
    last = str(torch.jit.last_executed_optimized_graph())
    assert "aten::matmul" not in last and "TensorExprGroup" in last


def chain_for_graph_for_grad(x, y):
    return (x * y + 1).relu()


def test_graph_for_of_inputs_that_require_grad():
    """graph_for(x) with x.requires_grad shows the graph such a call runs: the optimized
    graph with its fusion groups (each records one backward node, fused too), as
    TorchScript's DifferentiableGraph holds its TensorExprGroups."""
    f = torch.jit.script(chain_for_graph_for_grad)
    x, y = torch.rand(4, 4), torch.rand(4, 4)
    xr = x.clone().requires_grad_()
    for _ in range(3):
        f(x, y)
    assert "requires_grad=0" in str(f.graph_for(x, y))
    for _ in range(2):
        f(xr, y).sum().backward()
    g = f.graph_for(xr, y)
    assert "TensorExprGroup" in str(g)
    assert str(g) == str(torch.jit.last_executed_optimized_graph())
    assert "fused" in str(f.fusion_report(xr, y))
    with torch.no_grad():
        assert "TensorExprGroup" in str(f.graph_for(xr, y))


def chain_for_profiling_runs(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)


def test_graph_for_makes_the_profiling_runs_it_needs():
    # with 3 profiling runs, graph_for / fusion_report of a fresh function showed the
    # untyped graph and "unknown shape of input %x" for every op
    old = torch.jit.set_profiling_runs(3)
    try:
        f = torch.jit.script(chain_for_profiling_runs)
        x = torch.rand(4, 4)
        assert "prim::TensorExprGroup" in str(f.graph_for(x, x))
        assert f._get_executable().stats["profiling_runs"] == 3
        assert "unknown shape" not in str(f.fusion_report(x, x))
    finally:
        torch.jit.set_profiling_runs(old)


def scaled_for_graph_for(x, y, scale: float = 2.0):
    return (x * scale + y).relu()


def test_graph_for_takes_keyword_arguments_and_defaults():
    # graph_for / fusion_report dropped keyword arguments and did not fill in defaults
    # ("f() missing 1 required positional argument: 'scale'")
    f = torch.jit.script(scaled_for_graph_for)
    x = torch.rand(4)
    for g in (f.graph_for(x, x), f.graph_for(x, y=x), f.graph_for(x, x, scale=3.0)):
        assert "prim::TensorExprGroup" in str(g)
    assert "fused" in str(f.fusion_report(x, y=x))


def chain_for_cpu_switch(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)


def chain_for_legacy_switch(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)


def test_torch_C_fusion_switches():
    """The torch._C switches that TorchScript fusion code calls map onto gpujit's."""
    C = torch._C
    old_runs = C._jit_set_num_profiled_runs(2)
    try:
        assert C._jit_get_num_profiled_runs() == 2 == torch.jit.profiling_runs()
    finally:
        C._jit_set_num_profiled_runs(old_runs)
    assert C._jit_can_fuse_on_cpu() and C._jit_texpr_fuser_enabled()
    assert C._jit_set_profiling_executor(True) is True
    # the legacy executor's switch is recorded (returns the previous flag, as torch's);
    # gpujit keeps profiling and fusing
    assert C._jit_set_profiling_mode(False) is True
    assert C._jit_set_profiling_executor(False) is True
    try:
        g = torch.jit.script(chain_for_legacy_switch)
        y = torch.rand(4, 4)
        for _ in range(3):
            r = g(y, y)
        assert torch.allclose(r, chain_for_legacy_switch(y, y), rtol=1e-6, atol=1e-6)
        assert "TensorExprGroup" in str(g.graph_for(y, y))
    finally:
        assert C._jit_set_profiling_executor(True) is False
        assert C._jit_set_profiling_mode(True) is False
    x = torch.rand(4, 4)
    C._jit_override_can_fuse_on_cpu(False)
    try:
        f = torch.jit.script(chain_for_cpu_switch)
        for _ in range(3):
            f(x, x)
        assert "TensorExprGroup" not in str(f.graph_for(x, x))
        assert "fusion on cpu is off" in f.fusion_report(x, x)
    finally:
        C._jit_override_can_fuse_on_cpu(True)
    C._jit_set_texpr_fuser_enabled(False)
    try:
        assert not C._jit_texpr_fuser_enabled()
        from gpujit.runtime.fusion import fusion_enabled
        assert not fusion_enabled()
    finally:
        C._jit_set_texpr_fuser_enabled(True)
    assert C._get_graph_executor_optimize(False) is True
    try:
        assert C._get_graph_executor_optimize() is False
    finally:
        C._set_graph_executor_optimize(True)
    # the fusion strategy's torch._C spellings, and the NNC switches PyTorch's fuser tests
    # save, set and restore in setUp/tearDown (they were missing: AttributeError)
    old = C._jit_set_fusion_strategy([("STATIC", 3)])
    try:
        assert C._jit_set_fusion_strategy([("DYNAMIC", 5)]) == [("STATIC", 3)]
        assert C._jit_set_bailout_depth(4) == 5
        assert torch.jit.get_fusion_strategy() == [("STATIC", 4)]
    finally:
        torch.jit.set_fusion_strategy(old)
    assert C._jit_get_te_must_use_llvm_cpu() is True
    C._jit_set_te_must_use_llvm_cpu(False)
    assert C._jit_get_te_must_use_llvm_cpu() is False
    C._jit_set_te_must_use_llvm_cpu(True)
    assert C._jit_set_texpr_reductions_enabled(True) is False
    assert C._jit_texpr_reductions_enabled() is True
    C._jit_set_texpr_reductions_enabled(False)
    assert C._jit_texpr_dynamic_shape_enabled() is False
    assert C._jit_texpr_set_fallback_allowed(True) is False
    assert C._jit_texpr_set_fallback_allowed(False) is True


def single_isnan(x):
    return x != x


def single_rsub(x):
    return 1 - x


def single_neg(x):
    return -x


def test_fusion_group_inlining_off_keeps_single_op_groups():
    """torch._C._debug_set_fusion_group_inlining(False), which PyTorch's fuser tests set,
    keeps a group of one op (x.isnan(), 1 - x); gpujit recorded the flag and ignored it."""
    C = torch._C
    x = torch.tensor([1.0, float("nan"), -2.0])
    f = torch.jit.script(single_neg)
    for _ in range(3):
        f(x)
    assert "TensorExprGroup" not in str(f.graph_for(x))
    assert C._debug_get_fusion_group_inlining() is True
    C._debug_set_fusion_group_inlining(False)
    try:
        assert C._debug_get_fusion_group_inlining() is False
        for fn in (single_isnan, single_rsub):
            g = torch.jit.script(fn)
            for _ in range(3):
                np.testing.assert_array_equal(g(x).numpy(), fn(x).numpy())
            assert str(g.graph_for(x)).count("prim::TensorExprGroup_0(") == 1
    finally:
        C._debug_set_fusion_group_inlining(True)


def in_place_chain(x, y):
    z = x * y
    z.add_(1)
    a = z * 3
    z.mul_(2)
    z.sigmoid_()
    return a, z


def test_a_chain_of_in_place_ops_fuses_with_eager_answers():
    f = torch.jit.script(in_place_chain)
    x, y = torch.randn(4, 4), torch.randn(4, 4)
    xn, yn = x.numpy().astype(np.float64), y.numpy().astype(np.float64)
    for _ in range(3):
        a, z = f(x, y)
        np.testing.assert_allclose(a.numpy(), (xn * yn + 1) * 3, rtol=1e-5)
        np.testing.assert_allclose(z.numpy(), 1 / (1 + np.exp(-(xn * yn + 1) * 2)), rtol=1e-5)
    assert "in-place" not in f.fusion_report(x, y)
    assert str(f.graph_for(x, y)).count("prim::TensorExprGroup_0(") == 1


def test_tuple_assignments_do_not_split_a_group():
    """`x, y = a * 2, b * 3` builds and unpacks a tuple: its elements feed the next ops
    directly, so one group computes everything (as TorchScript's tuple lowering); a tuple
    that is also returned stays, with its elements from the group."""
    @torch.jit.script
    def f(a, b):
        x, y = a * 2.0, b * 3.0
        t = (x - y, a)
        return (t[0] + t[1]).sigmoid() * x, t

    a = torch.tensor(np.linspace(-1, 1, 16, dtype=np.float32))
    b = torch.tensor(np.linspace(2, 0, 16, dtype=np.float32))
    for _ in range(3):
        out, t = f(a, b)
    graph = f.graph_for(a, b)
    g = str(graph)
    # (the guard's fallback block unpacks the fallback call's tuple: not on the fast path)
    assert g.count("prim::TensorExprGroup_0(") == 1
    assert "prim::TupleUnpack" not in fast_path_kinds(graph), g
    an, bn = a.numpy(), b.numpy()
    x, y = an * 2, bn * 3
    np.testing.assert_allclose(out.numpy(), 1 / (1 + np.exp(-(x - y + an))) * x, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(t[0].numpy(), x - y, rtol=1e-5, atol=1e-6)
    assert t[1] is a or np.array_equal(t[1].numpy(), an)


def test_scripted_type_as_and_to_dtype_of_a_tensor_fuse():
    def f(x, y):
        return x.type_as(x + y) * 2

    def g(x, y):
        return (x * 2).to(y.dtype) + y
    for fn in (f, g):
        s = torch.jit.script(fn)
        for dx, dy in [(torch.float32, torch.float64)] * 3 + [(torch.int32, torch.float16)] * 3:
            x, y = torch.randn(4).to(dx), torch.randn(4).to(dy)
            got, want = s(x, y), fn(x, y)
            assert got.dtype is want.dtype
            close(got.double(), want.double(), rtol=1e-3, atol=1e-3)
        report = s.fusion_report(x, y)
        assert "aten::to" in report.split("unfused")[0] and "prim::dtype" not in report


def scaled_by_0dim(x, y):
    return torch.relu(x * 2 + y) - y


@pytest.mark.parametrize("strategy", [[("STATIC", 2)], [("DYNAMIC", 2)]])
def test_transposed_input_and_a_0dim_tensor_keep_eagers_dtype(strategy):
    """A transposed input makes the kernel run on its arguments transposed to C order; a
    0-dim tensor argument was made a (1, 1) array for it, so the kernel promoted it as a
    dimensioned tensor (uint8 with an int8 0-dim tensor: int16) and the result, labelled
    uint8, held an int16 array."""
    prev = torch.set_fusion_strategy(strategy)
    try:
        x = torch.randint(0, 10, (3, 4), dtype=torch.uint8).t()
        y = torch.tensor(3, dtype=torch.int8)
        t = torch.jit.trace(scaled_by_0dim, (x, y))
        want = scaled_by_0dim(x, y)
        for _ in range(3):
            got = t(x, y)
            assert got.dtype is want.dtype and got.numpy().dtype == want.numpy().dtype
            assert got.stride() == want.stride() == (1, 4)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    finally:
        torch.set_fusion_strategy(prev)


@pytest.mark.parametrize("strategy", [[("STATIC", 2)], [("DYNAMIC", 2)]])
@pytest.mark.parametrize("shape", [(1, 4), (4, 1), (1, 1, 4), (2, 1, 3)])
def test_size_1_dims_keep_eagers_strides(strategy, shape):
    """A dim of size 1 says nothing about the layout: (1, 4) with strides (4, 1) was taken
    for a transposed input, and the fused result came out with strides (1, 1) (or (4, 4))
    where eager's and PyTorch's are (4, 1)."""
    prev = torch.set_fusion_strategy(strategy)
    try:
        x = torch.randn(*shape)
        y = torch.tensor(0.5, dtype=torch.float64)
        t = torch.jit.trace(chain, (x, y))
        want = chain(x, y)
        for _ in range(3):
            got = t(x, y)
            assert got.stride() == want.stride()
            close(got, want)
    finally:
        torch.set_fusion_strategy(prev)


def cast_of_scaled(x, y):
    return (x * 2).to(torch.float32) - y


def plus_zero(x):
    return (x + 0) * 1


def test_a_traced_function_called_with_new_dtypes_keeps_its_casts_and_promotions():
    """`.to(torch.float32)` of a float32 tensor returned self without recording, and the
    passes rewrote `x + 0` by the example's dtype: called with int or bool tensors the
    traced function gave int results where eager and PyTorch give float32 / int64."""
    f32 = torch.ones(2, 3)
    t = torch.jit.trace(cast_of_scaled, (f32, f32))
    assert "aten::to" in str(t.graph)
    u = torch.jit.trace(plus_zero, (f32,))
    for x, y in [(torch.ones(2, 3, dtype=torch.bool), torch.ones(2, 3, dtype=torch.int32)),
                 (torch.arange(6, dtype=torch.int8).view(2, 3), torch.ones(3)),
                 (torch.zeros(0, dtype=torch.int16), torch.zeros(0, dtype=torch.int16))]:
        for _ in range(3):
            got, want = t(x, y), cast_of_scaled(x, y)
            assert got.dtype is want.dtype is torch.float32
            np.testing.assert_array_equal(got.numpy(), want.numpy())
            got, want = u(x), plus_zero(x)
            assert got.dtype is want.dtype and want.dtype is not torch.bool
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def sigmoid_of_int(x):
    return torch.sigmoid(x) * 2 + 1


def test_a_new_default_dtype_gives_fused_results_of_it():
    """A function fused for an int tensor at the default float32, then called after
    set_default_dtype(float64), returns float64 as eager and PyTorch do (it kept float32)."""
    old = torch.get_default_dtype()
    f = torch.jit.script(sigmoid_of_int)
    x = torch.arange(6, dtype=torch.int32).view(2, 3)
    try:
        for _ in range(2):
            assert f(x).dtype is torch.float32
        torch.set_default_dtype(torch.float64)
        for _ in range(3):
            got, want = f(x), sigmoid_of_int(x)
            assert got.dtype is want.dtype is torch.float64
            assert got.numpy().dtype == np.float64
            np.testing.assert_allclose(got.numpy(), want.numpy())
    finally:
        torch.set_default_dtype(old)


def type_as_then_mul(x, y):
    return x.type_as(y) * y + 1


def test_a_traced_type_as_follows_the_dtype_of_its_argument():
    """A traced `x.type_as(y)` casts to y's dtype in every call, as PyTorch's trace
    (aten::type_as) does; it recorded y's dtype at trace time as a constant."""
    t = torch.jit.trace(type_as_then_mul, (torch.ones(2, 3), torch.ones(2, 3)))
    assert "aten::type_as(%x, %y)" in str(t.graph)         # (as PyTorch records it)
    for dx, dy in [(torch.float32, torch.int32), (torch.int8, torch.float16),
                   (torch.bool, torch.uint8), (torch.float64, torch.float64)]:
        x = torch.arange(6).view(2, 3).to(dx)
        y = (torch.arange(6).view(2, 3) - 2).to(dy)
        want = type_as_then_mul(x, y)
        for _ in range(3):
            got = t(x, y)
            assert got.dtype is want.dtype and got.numpy().dtype == want.numpy().dtype
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def to_like_and_cpu(x, y):
    return x.to(y) * 2 + x.cpu()


def test_a_traced_to_of_a_tensor_or_a_device_keeps_following_the_inputs_dtypes():
    """`x.to(y)` follows y's dtype in a trace (as type_as); `x.cpu()` of a CPU tensor
    records no cast (it casts to nothing), so an int x stays int."""
    t = torch.jit.trace(to_like_and_cpu, (torch.ones(3), torch.ones(3)))
    for dx, dy in [(torch.int64, torch.int64), (torch.int32, torch.float64),
                   (torch.float32, torch.int8)]:
        x, y = torch.arange(3).to(dx), torch.ones(3).to(dy)
        want = to_like_and_cpu(x, y)
        for _ in range(3):
            got = t(x, y)
            assert got.dtype is want.dtype
            np.testing.assert_array_equal(got.numpy(), want.numpy())
