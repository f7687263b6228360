"""PyTorch's TestTEFuserDynamic: the ported fuser tests (test_fuser_te_port_a.py,
test_fuser_te_port_b.py, test_tensorexpr_port.py) run again under the DYNAMIC strategy
([("DYNAMIC", 20)], as `dynamic_shapes = True` does upstream), plus what dynamic shapes make
interesting: after the first fused call, inputs of other sizes (same rank, no new size-1
dims) reuse the one DYNAMIC kernel and give eager's values; sizes that change which dims
broadcast, the contiguity or the dim order of the inputs make a new one; 0-size inputs run
unfused; chunk and cat groups are specialized on the sizes of the dims they cut.

The imported tests are collected here under the names test_a_*, test_b_*, test_t_*; this
module's autouse fixtures replace the static ones those modules define (same names), so
they run with DYNAMIC kernels. Upstream skips a few chunk tests under dynamic shapes
("TODO: chunk dynamic shapes"); gpujit passes them, so none is skipped here."""
import types

import numpy as np
import pytest

import gpujit as torch
from gpujit import kernels

import test_fuser_te_port_a as _port_a
import test_fuser_te_port_b as _port_b
import test_tensorexpr_port as _port_t

# Not imported: the tests that set their own fusion strategy (or turn fusion off) before
# they run anything, so this module's DYNAMIC fixture changes nothing in them: they would
# run here exactly as in their own file (propagated_mem_layout alone: ~11 s on CI).
_OWN_STRATEGY = {
    _port_a: {"test_chunk_then_cat_one_group", "test_chunk_then_cat_groups_in_the_simulator",
              "test_disabled"},
    _port_b: {"test_channels_last_dims_dynamic", "test_exhaust_specializations",
              "test_dynamic_shapes"},
    _port_t: {"test_propagated_mem_layout", "test_dynamic_shapes_broadcast_and_mismatch"},
}

for _prefix, _mod in (("a", _port_a), ("b", _port_b), ("t", _port_t)):
    for _name, _obj in list(vars(_mod).items()):
        if _name.startswith("test_") and callable(_obj) and _name not in _OWN_STRATEGY[_mod]:
            globals()[f"test_{_prefix}_{_name[5:]}"] = _obj
del _prefix, _mod, _name, _obj

DYNAMIC = [("DYNAMIC", 20)]


def _dynamic_options():
    # TensorExprTestOptions with dynamic_shapes = True: DYNAMIC kernels, single-op groups
    old = torch._C._jit_set_fusion_strategy(DYNAMIC)
    old_inline = torch._C._debug_get_fusion_group_inlining()
    old_cpu = torch._C._jit_can_fuse_on_cpu()
    torch._C._debug_set_fusion_group_inlining(False)
    torch._C._jit_override_can_fuse_on_cpu(True)
    try:
        yield
    finally:
        torch._C._jit_set_fusion_strategy(old)
        torch._C._debug_set_fusion_group_inlining(old_inline)
        torch._C._jit_override_can_fuse_on_cpu(old_cpu)


@pytest.fixture(autouse=True)
def _one_dtype_per_kind(monkeypatch):
    """The imported tests loop over one dtype of each kind here (int64, bool, float32; the
    DTYPES / INT_DTYPES / FP_DTYPES they read at run time): a DYNAMIC kernel differs from
    a STATIC one in its indexing, not in the op's code for a dtype, which
    test_fuser_te_port_a/b run in all 7 dtypes. (All 7 here compiled ~3700 kernels: the
    suite's slowest file on CI's 2 cores.)"""
    for mod in (_port_a, _port_b):
        monkeypatch.setattr(mod, "INT_DTYPES", [torch.int64, torch.bool])
        monkeypatch.setattr(mod, "FP_DTYPES", [torch.float32])
        monkeypatch.setattr(mod, "DTYPES", [torch.int64, torch.bool, torch.float32])
    # test_nnc_correctness (every fusible op on its OpInfo samples): the samples in those
    # dtypes (945 of 2516 signatures; test_fuser_te_port_b runs the others under STATIC)
    monkeypatch.setattr(_port_b, "NNC_SAMPLES", "dynamic")
    # tensor-scalar ops: a float and a (negative) int scalar, not 5 / 4 values: a scalar
    # is a constant of the kernel's code, which STATIC runs with every value in
    # test_fuser_te_port_b; the DYNAMIC kernel's indexing is the same for each value
    monkeypatch.setattr(_port_b, "TENSOR_SCALARS", [1.5, -1])
    monkeypatch.setattr(_port_b, "DIV_SCALARS", [1.5, -1])


# (the names of the imported modules' autouse fixtures: these replace them here)
_static_strategy = pytest.fixture(autouse=True)(_dynamic_options)
_te_options = pytest.fixture(autouse=True)(_dynamic_options)
_nnc_test_options = pytest.fixture(autouse=True)(_dynamic_options)


# ---------------------------------------------------------------- helpers

def labels(f):
    """The specialization labels ('DYNAMIC(*x*)', ...) of every fusion group of the compiled
    function f, over its executor's specializations (one per rank/dtype signature)."""
    out = []
    for spec in f._get_executable().specializations:
        for g in spec.groups:
            out += [s.label() for s in g.specializations]
    return out


def script(fn):
    """torch.jit.script of a fresh copy of fn (script caches the ScriptFunction of a Python
    function: each test gets its own, with specializations of its own)."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__)
    copy.__annotations__ = dict(fn.__annotations__)
    return torch.jit.script(copy)


def n_groups(graph):
    return len(graph.findAllNodes("prim::TensorExprGroup"))


def rand(*shape, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed + 7 * len(shape) + sum(shape))
    return torch.from_numpy(rng.standard_normal(shape).astype(dtype))


def same(got, want, rtol=1e-5, atol=1e-6):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w, rtol, atol)
        return
    w = np.asarray(want)
    g = got.detach().numpy()
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    if g.dtype.kind == "f":
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, w)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ---------------------------------------------------------------- one kernel, many sizes

def dyn_chain(x, y):
    return torch.sigmoid(x * y + 1.5) - y


def _chain_ref(x, y):
    return sigmoid(x * y + np.float32(1.5)) - y


@pytest.mark.parametrize("how", ["script", "trace"])
def test_new_sizes_reuse_the_dynamic_kernel(how):
    x0, y0 = rand(4, 5), rand(4, 5, seed=1)
    f = script(dyn_chain) if how == "script" else torch.jit.trace(dyn_chain, (x0, y0))
    for _ in range(2):
        same(f(x0, y0), _chain_ref(x0.numpy(), y0.numpy()))
    assert labels(f) == ["DYNAMIC(*x*)"]
    misses = kernels.cache_info().misses
    for shape in [(7, 3), (1000, 2), (2, 1000), (33, 65), (4, 5), (513, 1031)]:
        x, y = rand(*shape, seed=2), rand(*shape, seed=3)
        same(f(x, y), _chain_ref(x.numpy(), y.numpy()))
    assert labels(f) == ["DYNAMIC(*x*)"]
    assert kernels.cache_info().misses == misses      # no kernel built
    assert n_groups(torch.jit.last_executed_optimized_graph()) == 1


def dyn_rank3(x, y, z):
    return (x + y) * z - x


def test_new_sizes_rank3_broadcasting_pattern_kept():
    f = script(dyn_rank3)
    for n, m, k in [(2, 3, 4), (5, 6, 7), (3, 9, 2), (8, 8, 8)]:
        # y broadcasts over dim 0, z over dims 1 and 2: the same pattern at every size
        x, y, z = rand(n, m, k), rand(1, m, k, seed=1), rand(n, 1, 1, seed=2)
        xa, ya, za = x.numpy(), y.numpy(), z.numpy()
        same(f(x, y, z), (xa + ya) * za - xa)
    assert labels(f) == ["DYNAMIC(*x*x*)"]


def dyn_lower_rank(x, b):
    return torch.relu(x + b) * 2


def test_lower_rank_operand_new_sizes():
    f = script(dyn_lower_rank)
    for n, m in [(3, 4), (6, 9), (2, 17)]:
        x, b = rand(n, m), rand(m, seed=1)
        same(f(x, b), np.maximum(x.numpy() + b.numpy(), 0) * 2)
    assert labels(f) == ["DYNAMIC(*x*)"]


def dyn_scalar(x, a: float, k: int):
    return x * a + k


def test_scalar_arguments_new_values_and_sizes():
    f = script(dyn_scalar)
    for shape, a, k in [((3, 4), 0.5, 2), ((5, 2), -3.25, 7), ((9, 9), 1e3, -1)]:
        x = rand(*shape)
        same(f(x, a, k), x.numpy() * np.float32(a) + np.float32(k))
    assert labels(f) == ["DYNAMIC(*x*)"]


def dyn_int_ops(x, y):
    return (x * y + 3) // 2 - (x & y)


def test_integer_groups_new_sizes():
    f = script(dyn_int_ops)
    rng = np.random.default_rng(0)
    for shape in [(3, 4), (8, 5), (1000, 3)]:
        xa = rng.integers(-50, 50, shape).astype(np.int32)
        ya = rng.integers(-50, 50, shape).astype(np.int32)
        out = f(torch.from_numpy(xa), torch.from_numpy(ya))
        same(out, (xa * ya + 3) // 2 - (xa & ya))
    assert labels(f) == ["DYNAMIC(*x*)"]


def dyn_where(c, x, y):
    return torch.where(c, x * 2, y - 1)


def test_bool_condition_new_sizes():
    f = script(dyn_where)
    for shape in [(4, 4), (7, 2), (3, 11)]:
        x, y = rand(*shape), rand(*shape, seed=5)
        c = x > y
        same(f(c, x, y), np.where(c.numpy(), x.numpy() * 2, y.numpy() - 1))
    assert labels(f) == ["DYNAMIC(*x*)"]


def dyn_multi_out(x, y):
    a = x + y
    b = a * a
    return a, b, torch.tanh(b)


def test_multiple_outputs_new_sizes():
    f = script(dyn_multi_out)
    for shape in [(2, 3), (9, 4), (4, 9)]:
        x, y = rand(*shape), rand(*shape, seed=1)
        a = x.numpy() + y.numpy()
        same(f(x, y), (a, a * a, np.tanh(a * a)))
    assert labels(f) == ["DYNAMIC(*x*)"]


# ---------------------------------------------------------------- what makes a new kernel

def dyn_bcast(x, y):
    return x * y + x


def test_broadcast_change_makes_a_new_specialization():
    f = script(dyn_bcast)

    def call(xs, ys):
        x, y = rand(*xs), rand(*ys, seed=1)
        same(f(x, y), x.numpy() * y.numpy() + x.numpy())

    call((4, 5), (4, 5))
    call((6, 3), (6, 3))
    assert labels(f) == ["DYNAMIC(*x*)"]
    call((4, 5), (1, 5))                 # y's dim 0 now broadcasts
    call((8, 2), (1, 2))
    assert labels(f) == ["DYNAMIC(*x*)", "DYNAMIC(*x*)"]
    call((4, 1), (1, 5))                 # an outer product: both broadcast
    call((7, 1), (1, 3))
    assert len(labels(f)) == 3
    call((3, 3), (3, 3))                 # the first pattern again: its kernel
    assert len(labels(f)) == 3


def test_size_1_dim_that_stops_broadcasting():
    f = script(dyn_bcast)
    x, y = rand(1, 5), rand(1, 5, seed=1)
    for _ in range(2):          # (the first call profiles)
        same(f(x, y), x.numpy() * y.numpy() + x.numpy())
    assert labels(f) == ["DYNAMIC(1x*)"]
    x, y = rand(3, 5), rand(3, 5, seed=1)         # dim 0 is no longer 1: a new kernel
    same(f(x, y), x.numpy() * y.numpy() + x.numpy())
    assert labels(f) == ["DYNAMIC(1x*)", "DYNAMIC(*x*)"]


def dyn_layout(x, y):
    return x * 2 + y


@pytest.mark.parametrize("which", ["x", "y", "both"])
def test_transposed_inputs(which):
    f = script(dyn_layout)

    def make(n, m, seed, t):
        return rand(m, n, seed=seed).t() if t else rand(n, m, seed=seed)

    tx, ty = which in ("x", "both"), which in ("y", "both")
    for n, m in [(3, 4), (6, 5), (2, 9)]:
        x, y = make(n, m, 0, tx), make(n, m, 1, ty)
        out = f(x, y)
        same(out, x.numpy() * 2 + y.numpy())
        eager = x * 2 + y
        assert out.stride() == eager.stride(), (out.stride(), eager.stride())
    assert len(labels(f)) == 1
    x, y = rand(5, 7), rand(5, 7, seed=1)         # contiguous now: another kernel
    same(f(x, y), x.numpy() * 2 + y.numpy())
    assert f(x, y).is_contiguous()
    assert len(labels(f)) == 2


def test_sliced_inputs_new_sizes():
    f = script(dyn_layout)
    for n, m in [(3, 4), (5, 8), (7, 3)]:
        base = rand(n, 2 * m)
        x = base[:, ::2]                # a stride-2 dim
        y = rand(n + 2, m, seed=1)[1:-1]  # a contiguous slice at an offset
        same(f(x, y), x.numpy() * 2 + y.numpy())
    assert len(labels(f)) == 1
    for n, m in [(4, 6), (9, 2)]:
        x = rand(n, m + 3)[:, 1:-2]     # rows longer than their sizes
        y = rand(n, m, seed=1)
        same(f(x, y), x.numpy() * 2 + y.numpy())
    assert len(labels(f)) == 1    # (the same guard: not contiguous, C order)


def test_expanded_inputs_stride_0():
    f = script(dyn_layout)
    for n, m in [(3, 4), (6, 2)]:
        x = rand(1, m).expand(n, m)      # size n, stride 0
        y = rand(n, m, seed=1)
        same(f(x, y), np.broadcast_to(x.numpy(), (n, m)) * 2 + y.numpy())
    for n, m in [(3, 4), (5, 7)]:
        x = rand(n, 1).expand(n, m)
        y = rand(n, m, seed=1)
        same(f(x, y), x.numpy() * 2 + y.numpy())


def test_channels_last_inputs_new_sizes():
    f = script(dyn_layout)
    for shape in [(2, 3, 4, 5), (3, 4, 6, 2), (1, 5, 3, 3)]:
        x = rand(*shape).contiguous(memory_format=torch.channels_last)
        y = rand(*shape, seed=1).contiguous(memory_format=torch.channels_last)
        out = f(x, y)
        same(out, x.numpy() * 2 + y.numpy())
        assert out.is_contiguous(memory_format=torch.channels_last)


def test_dtype_and_rank_changes_make_new_specializations():
    # (a new dtype or rank is a new executor specialization: its first call profiles)
    f = script(dyn_layout)
    x, y = rand(3, 4), rand(3, 4, seed=1)
    xd, yd = x.double(), y.double()
    x3, y3 = rand(2, 3, 4), rand(2, 3, 4, seed=1)
    for a, b in [(x, y), (xd, yd), (x3, y3)] * 2:
        same(f(a, b), a.numpy() * 2 + b.numpy())
    assert sorted(labels(f)) == ["DYNAMIC(*x*)", "DYNAMIC(*x*)", "DYNAMIC(*x*x*)"]
    for n in (5, 8):            # new sizes: those kernels
        a, b = rand(n, 7).double(), rand(n, 7, seed=1).double()
        same(f(a, b), a.numpy() * 2 + b.numpy())
        a, b = rand(n, 2, 3), rand(n, 2, 3, seed=1)
        same(f(a, b), a.numpy() * 2 + b.numpy())
    assert len(labels(f)) == 3


# ---------------------------------------------------------------- 0-size inputs

def dyn_zero(x, y):
    return torch.tanh(x) * y + 1


@pytest.mark.parametrize("first", ["empty", "full"])
def test_zero_size_inputs(first):
    f = script(dyn_zero)
    shapes = [(0, 4), (3, 4), (3, 0), (5, 6), (0, 0)]
    if first == "full":
        shapes = shapes[1:] + shapes[:1]
    for shape in shapes + shapes:
        x, y = rand(*shape), rand(*shape, seed=1)
        same(f(x, y), np.tanh(x.numpy()) * y.numpy() + 1)
    # a 0-size call computes nothing: it runs unfused and makes no kernel
    assert labels(f) == ["DYNAMIC(*x*)"]


def test_zero_size_broadcast_against_size_1():
    f = script(dyn_zero)
    x, y = rand(0, 4), rand(1, 4, seed=1)
    same(f(x, y), np.tanh(x.numpy()) * y.numpy() + 1)
    x, y = rand(3, 4), rand(1, 4, seed=1)
    same(f(x, y), np.tanh(x.numpy()) * y.numpy() + 1)
    assert labels(f) == ["DYNAMIC(*x*)"]


# ---------------------------------------------------------------- chunk and cat groups

def dyn_chunk(x, y):
    a, b = (x + y).chunk(2, dim=1)
    return a * b + a


def _chunk_ref(x, y):
    a, b = np.split(x + y, 2, axis=1)
    return a * b + a


def test_chunk_group_cut_dim_fixed_other_dims_dynamic():
    f = script(dyn_chunk)
    for n in (4, 4, 7, 1000, 3):
        x, y = rand(n, 6), rand(n, 6, seed=1)
        same(f(x, y), _chunk_ref(x.numpy(), y.numpy()))
    assert labels(f) == ["DYNAMIC(*x6)"]
    for m in (8, 8, 10):            # the cut dim's size changes: a kernel each
        x, y = rand(5, m), rand(5, m, seed=1)
        same(f(x, y), _chunk_ref(x.numpy(), y.numpy()))
    assert labels(f) == ["DYNAMIC(*x6)", "DYNAMIC(*x8)", "DYNAMIC(*x10)"]


def test_chunk_group_uneven_sizes_run_unfused():
    f = script(dyn_chunk)
    x, y = rand(3, 4), rand(3, 4, seed=1)
    same(f(x, y), _chunk_ref(x.numpy(), y.numpy()))
    same(f(x, y), _chunk_ref(x.numpy(), y.numpy()))
    # 5 columns in 2: pieces of 3 and 2 do not broadcast, as eager raises
    x, y = rand(3, 5), rand(3, 5, seed=1)
    with pytest.raises(RuntimeError, match="must match the size"):
        f(x, y)
    assert labels(f) == ["DYNAMIC(*x4)"]


def test_chunk_group_transposed_input_new_sizes():
    f = script(dyn_chunk)
    for n in (3, 5, 9):
        x, y = rand(6, n).t(), rand(6, n, seed=1).t()
        same(f(x, y), _chunk_ref(x.numpy(), y.numpy()))
    assert len(labels(f)) == 1


def dyn_chunk3(x):
    a, b, c = x.chunk(3, dim=0)
    return a + b * c


def test_chunk_dim0_rank3_new_sizes():
    f = script(dyn_chunk3)
    for m, k in [(2, 3), (5, 4), (1, 7), (5, 1)]:
        x = rand(6, m, k)
        a, b, c = np.split(x.numpy(), 3, axis=0)
        same(f(x), a + b * c)
    # (a dim that becomes 1 broadcasts: a new kernel for each pattern)
    assert labels(f)[0] == "DYNAMIC(6x*x*)"      # (the input's cut size)
    assert len(labels(f)) == 3


def dyn_cat(x, y):
    return torch.cat([x * 2, y + 1], dim=0)


def test_cat_group_new_sizes():
    f = script(dyn_cat)
    for n, m, k in [(2, 3, 4), (2, 3, 4), (5, 1, 4), (3, 7, 9)]:
        x, y = rand(n, k), rand(m, k, seed=1)
        same(f(x, y), np.concatenate([x.numpy() * 2, y.numpy() + 1], axis=0))
    # the cat's pieces along dim 0 are cut at fixed sizes: one kernel per pair of sizes
    # (y's 1 row broadcasts nothing: a cat's input is not broadcast)
    ls = labels(f)
    assert len(ls) == 3, ls
    for m in (4, 8):                # the same cut, another width: no new kernel
        x, y = rand(3, m), rand(7, m, seed=1)
        same(f(x, y), np.concatenate([x.numpy() * 2, y.numpy() + 1], axis=0))
    assert len(labels(f)) == 3


def dyn_cat_last(x, y):
    return torch.cat([torch.relu(x), y * y], dim=-1) - 1


def test_cat_last_dim_other_dims_dynamic():
    f = script(dyn_cat_last)
    for n in (2, 2, 6, 11):
        x, y = rand(n, 3), rand(n, 5, seed=1)
        same(f(x, y), np.concatenate([np.maximum(x.numpy(), 0), y.numpy() ** 2], -1) - 1)
    assert len(labels(f)) == 1


def dyn_chunk_cat(x, y):
    a, b = x.chunk(2, dim=1)
    return torch.cat([a * y, b + y], dim=0)


def test_chunk_then_cat_new_sizes():
    f = script(dyn_chunk_cat)
    for n in (3, 3, 8, 2):
        x, y = rand(n, 8), rand(n, 4, seed=1)
        a, b = np.split(x.numpy(), 2, axis=1)
        same(f(x, y), np.concatenate([a * y.numpy(), b + y.numpy()], axis=0))
    assert len(labels(f)) == 3      # the cat cuts its result's dim 0 at n


# ---------------------------------------------------------------- strategy and budget

def dyn_budget(x, y):
    return x * y - y


def test_dynamic_budget_spent_runs_unfused_with_right_values():
    old = torch._C._jit_set_fusion_strategy([("DYNAMIC", 1)])
    try:
        f = script(dyn_budget)
        for n in (3, 3, 6):
            x, y = rand(n, 4), rand(n, 4, seed=1)
            same(f(x, y), x.numpy() * y.numpy() - y.numpy())
        x, y = rand(3, 4), rand(1, 4, seed=1)          # a new broadcast: budget spent
        with pytest.warns(UserWarning, match="made all the specializations"):
            out = f(x, y)
        same(out, x.numpy() * y.numpy() - y.numpy())
        assert labels(f) == ["DYNAMIC(*x*)"]
        x, y = rand(9, 2), rand(9, 2, seed=1)          # the kernel still serves its kind
        same(f(x, y), x.numpy() * y.numpy() - y.numpy())
    finally:
        torch._C._jit_set_fusion_strategy(old)


def test_static_then_dynamic():
    old = torch._C._jit_set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 2)])
    try:
        f = script(dyn_budget)
        for n in (3, 3, 4, 5, 6, 7, 3, 4):
            x, y = rand(n, 4), rand(n, 4, seed=1)
            same(f(x, y), x.numpy() * y.numpy() - y.numpy())
        assert labels(f) == ["STATIC(3x4)", "STATIC(4x4)", "DYNAMIC(*x*)"]
    finally:
        torch._C._jit_set_fusion_strategy(old)


# ---------------------------------------------------------------- autograd, unsqueeze

def dyn_grad(x, y):
    return torch.tanh(x) * torch.sigmoid(y)


def test_gradients_new_sizes():
    f = script(dyn_grad)
    for n, m in [(3, 4), (3, 4), (3, 4), (6, 2), (5, 7)]:
        x = rand(n, m).requires_grad_()
        y = rand(n, m, seed=1).requires_grad_()
        out = f(x, y)
        out.sum().backward()
        xa, ya = x.detach().numpy(), y.detach().numpy()
        same(out, np.tanh(xa) * sigmoid(ya))
        same(x.grad, (1 - np.tanh(xa) ** 2) * sigmoid(ya))
        same(y.grad, np.tanh(xa) * sigmoid(ya) * (1 - sigmoid(ya)))


def dyn_unsqueeze(x, y):
    return x.unsqueeze(1) * y + 1


def test_unsqueeze_group_new_sizes():
    f = script(dyn_unsqueeze)
    for n, m in [(3, 4), (3, 4), (5, 2), (8, 9)]:
        x, y = rand(n), rand(n, m, seed=1)
        same(f(x, y), x.numpy()[:, None] * y.numpy() + 1)
    assert len(labels(f)) == 1


# ---------------------------------------------------------------- chunk groups' layout

def dyn_chunk_layout(x, y):
    a, b = (x * y).chunk(2, dim=0)
    return a + b.sigmoid()


def dyn_chunk_input_layout(x, y):
    a, b = x.chunk(2, dim=1)
    return a * y + b


@pytest.mark.parametrize("strategy", ["STATIC", "DYNAMIC"])
def test_chunk_group_outputs_laid_out_as_eager(strategy):
    # eager: x * y follows x's layout (the first operand that orders the dims), and the
    # pieces of a chunk are views with its strides: a transposed x gives a transposed
    # result. The fused group ran in C order whenever a chunk cut its inputs.
    old = torch._C._jit_set_fusion_strategy([(strategy, 20)])
    try:
        f = script(dyn_chunk_layout)
        for n, m in [(2, 3), (2, 3), (2, 5), (2, 7)]:     # (the cut dim: 2n rows)
            x, y = rand(m, 2 * n).t(), rand(2 * n, m, seed=1)
            out = f(x, y)
            a, b = np.split(x.numpy() * y.numpy(), 2, axis=0)
            same(out, a + sigmoid(b))
            assert out.stride() == (1, n), out.stride()
        assert len(labels(f)) == (1 if strategy == "DYNAMIC" else 3)
        g = script(dyn_chunk_input_layout)
        for n, m, k in [(2, 3, 4), (2, 3, 4), (5, 2, 3)]:
            x = rand(k, 2 * m, n).permute(2, 1, 0)         # (n, 2m, k), dims reversed
            y = rand(n, m, k, seed=1)
            out = g(x, y)
            a, b = np.split(x.numpy(), 2, axis=1)
            same(out, a * y.numpy() + b)
            assert out.stride() == (x * 1).chunk(2, dim=1)[0].mul(y).stride() == \
                (1, n, n * m), out.stride()
    finally:
        torch._C._jit_set_fusion_strategy(old)


def dyn_grad_bcast(x, y, z):
    return torch.tanh(x * y) + z


def test_broadcast_gradients_new_sizes():
    # the gradients of broadcast operands sum over the dims they broadcast, at each size
    f = script(dyn_grad_bcast)
    for n, m in [(3, 4), (3, 4), (3, 4), (5, 4), (6, 2), (2, 9)]:
        x = rand(n, m).requires_grad_()
        y = rand(1, m, seed=1).requires_grad_()
        z = rand(m, seed=2).requires_grad_()
        out = f(x, y, z)
        out.backward(torch.ones(n, m) * 2)
        xa, ya = x.detach().numpy(), y.detach().numpy()
        t = 1 - np.tanh(xa * ya) ** 2
        same(out, np.tanh(xa * ya) + z.detach().numpy())
        same(x.grad, 2 * t * ya, rtol=1e-4)
        same(y.grad, (2 * t * xa).sum(0, keepdims=True), rtol=1e-4)
        same(z.grad, np.full(m, 2.0 * n, np.float32))
    assert labels(f) == ["DYNAMIC(*x*)"]


def dyn_rank01(x, y):
    return torch.tanh(x) * y - x


def test_rank_0_and_1_size_1_patterns():
    f = script(dyn_rank01)
    cases = [((), ()), ((5,), (5,)), ((1,), (5,)), ((7,), (1,)), ((1,), (1,)), ((3,), (3,))]
    for xs, ys in cases * 2:
        x, y = rand(*xs), rand(*ys, seed=1)
        xa, ya = x.numpy(), y.numpy()
        same(f(x, y), np.tanh(xa) * ya - xa)
    # a kernel per pattern of size-1 dims and rank (the first call of a rank profiles)
    assert sorted(labels(f)) == ["DYNAMIC()", "DYNAMIC(*)", "DYNAMIC(*)", "DYNAMIC(*)",
                                 "DYNAMIC(1)"]
