"""Issue 5 read by a stranger (session 26, helper d26): the fuser's promises tested from the
outside, as a TorchScript user meets them: only the public API (gpujit.jit.script / trace,
graph_for, set_fusion_strategy, strict_fusion, gpujit.kernels.cache_info / clear_cache,
GPUJIT_DUMP, GPUJIT_CACHE_DIR, `python -m gpujit`, the simulator in a subprocess).
References are NumPy (or eager gpujit, which the op tests hold to NumPy); the differential
tests against PyTorch are behind pytest.importorskip("torch")."""
from __future__ import annotations

import math
import re
import os
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest
from batch_programs import FORGET_KERNELS, program_result, run_batch, writing_program
from cache_seed import warm

import gpujit as torch
import gpujit


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ------------------------------------------------------------------ the user's functions
def chain(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)


def np_chain(x, y):
    return np.tanh(x * 0.5 + y) * (1 / (1 + np.exp(-(x - y)))) + np.maximum(x, 0)


def int_arith(a, b):
    a = a | 0          # a producer every op below reads: one group computes them all
    # (`| 0`: TorchScript's peephole drops `a * 1`)
    return a // b, a % b, torch.remainder(a, b), torch.fmod(a, b), \
        torch.div(a, b, rounding_mode="trunc"), a / b


def gelus(x):
    y = x * 1.0
    return torch.nn.functional.gelu(y), torch.nn.functional.gelu(y, approximate="tanh"), \
        torch.sigmoid(y)


def casts(x):
    y = x * 1.0
    return y.to(torch.int32), y.to(torch.int64), y.to(torch.int8), y.to(torch.uint8), \
        y.to(torch.int16), y.to(torch.bool)


def bool_ops(a, b):
    a = a | a
    return a & b, a | b, a ^ b, ~a, torch.logical_and(a, b), \
        a.to(torch.int32) + b.to(torch.int32), torch.where(a, b, ~b)


def int_pow(a, b):
    a = a | 0
    return a ** 2, torch.pow(a, b), a * a * a + 0


def scalars(x, s: float, k: int, flag: bool):
    return x * s + k - (x > 0).to(torch.float32) * float(flag)


def conversions(x, y):
    return (x.float() * 2 + y.to(torch.float64)).type_as(x) + 1


def half_roundtrip(x, y):
    return (x.to(torch.float16) * 2 + y.half()).float() * 3


def inplace_locals(x, y):
    z = x * 2
    z.add_(y)
    x.mul_(3)
    return torch.sigmoid(z) + x


def inplace_arg(x, y):
    y.add_(1)
    return x * y + x


def view_write(x, y):
    a = x * 2
    b = a[0]
    b.add_(1)
    return torch.sigmoid(a) + y


def input_view_write(x, y):
    v = x[:, 0]
    z = torch.tanh(x * y)
    v.mul_(2)
    return z + x


def returns_aliases(x, y):
    z = x * 2 + y
    return z, x, z


def random_middle(x):
    a = x * 2 + 1
    n = torch.rand_like(a)
    return torch.relu(a) * n + a.sigmoid()


def loopy(x, n: int):
    for i in range(n):
        if i % 2 == 0:
            x = torch.tanh(x * 0.9 + 0.1)
        else:
            x = x.sigmoid() - 0.5
    return x


def np_loopy(x, n):
    for i in range(n):
        x = np.tanh(x * 0.9 + 0.1) if i % 2 == 0 else 1 / (1 + np.exp(-x)) - 0.5
    return x


def with_matmul(x, y):
    z = torch.matmul(x, y)
    return torch.sigmoid(z * 2 + 1) * z


def strict_ok(x, y):
    with torch.jit.strict_fusion():
        z = x * y + 1
        w = torch.sigmoid(z)
    return w


def strict_bad(x, y):
    with torch.jit.strict_fusion():
        z = x * y + 1
        w = torch.matmul(z, y)
    return w


class Gate(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        g = self.lin(x)
        return torch.tanh(g + h) * torch.sigmoid(g - h)


_inner = None


def _inner_fn(x):
    return torch.relu(x) * 2


def outer(x, y):
    return _inner(x + y) - y


# ------------------------------------------------------------------ helpers
R = np.random.RandomState(26)


def f32(*shape):
    return np.asarray(R.randn(*shape)).astype(np.float32)


def groups(fn, *args):
    """How many fusion groups the optimized graph runs (the `with` subgraphs not counted)."""
    return len(re.findall(r"= prim::TensorExprGroup_\d+\(", str(fn.graph_for(*args))))


def close(a, b, tol=1e-5):
    a = a.detach().numpy() if hasattr(a, "numpy") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "numpy") else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert str(a.dtype) == str(b.dtype), (a.dtype, b.dtype)
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol,
                               atol=tol, equal_nan=True)


def run_calls(fn, args, n=3):
    """n calls (profiling, then optimized), returning the last result."""
    out = None
    for _ in range(n):
        out = fn(*args)
    return out


@pytest.fixture
def fresh_strategy():
    old = torch.jit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 10)])
    yield
    torch.jit.set_fusion_strategy(old)


# ------------------------------------------------------------------ fusion happens and is right
def test_chain_fuses_into_one_group_and_matches_numpy():
    f = torch.jit.script(chain)
    x, y = f32(4, 5), f32(4, 5)
    out = run_calls(f, (torch.from_numpy(x), torch.from_numpy(y)))
    np.testing.assert_allclose(out.numpy(), np_chain(x, y), rtol=1e-5, atol=1e-6)
    g = str(f.graph_for(torch.from_numpy(x), torch.from_numpy(y)))
    assert g.count("prim::TensorExprGroup_0") >= 1 and "prim::TypeCheck" in g
    assert "aten::tanh" in g and "aten::sigmoid" in g


LAYOUTS = {
    "same": lambda: (torch.from_numpy(f32(4, 5)), torch.from_numpy(f32(4, 5))),
    "new_shape": lambda: (torch.from_numpy(f32(3, 5)), torch.from_numpy(f32(3, 5))),
    "broadcast": lambda: (torch.from_numpy(f32(4, 1)), torch.from_numpy(f32(1, 5))),
    "zero_size": lambda: (torch.from_numpy(f32(0, 5)), torch.from_numpy(f32(0, 5))),
    "zero_dim": lambda: (torch.tensor(0.3), torch.tensor(-1.2)),
    "transposed": lambda: (torch.from_numpy(f32(5, 4)).t(), torch.from_numpy(f32(4, 5))),
    "sliced": lambda: (torch.from_numpy(f32(4, 10))[:, ::2], torch.from_numpy(f32(5))),
    "expanded": lambda: (torch.from_numpy(f32(4, 1)).expand(4, 5),
                         torch.from_numpy(f32(5, 4)).t()),
    "float64": lambda: (torch.from_numpy(f32(3, 5).astype(np.float64)),
                        torch.from_numpy(f32(3, 5))),
    "float16": lambda: (torch.from_numpy(f32(3, 5).astype(np.float16)),
                        torch.from_numpy(f32(3, 5).astype(np.float16))),
    "rank3": lambda: (torch.from_numpy(f32(2, 3, 4)), torch.from_numpy(f32(4))),
}


def test_guards_every_new_layout_gives_the_eager_answer(fresh_strategy):
    f = torch.jit.script(chain)
    for _ in range(3):
        f(*LAYOUTS["same"]())
    for name, make in LAYOUTS.items():
        for _ in range(2):
            x, y = make()
            out = f(x, y)
            ref = chain(x, y)
            tol = 2e-3 if out.dtype == torch.float16 else 1e-5
            close(out, ref, tol)


def test_int_arith_of_negative_ints_fused_matches_numpy():
    f = torch.jit.script(int_arith)
    a = np.array([-7, -7, 7, 7, -1, 0, 5, -9], np.int64)
    b = np.array([2, -2, 2, -2, 3, 5, -3, 4], np.int64)
    for dt in (np.int64, np.int32, np.int16, np.int8):
        ta, tb = torch.from_numpy(a.astype(dt)), torch.from_numpy(b.astype(dt))
        outs = run_calls(f, (ta, tb))
        refs = [np.floor_divide(a, b), np.mod(a, b), np.mod(a, b), np.fmod(a, b),
                np.trunc(a / b).astype(np.int64), (a / b)]
        for o, r in zip(outs[:5], refs[:5]):
            np.testing.assert_array_equal(o.numpy(), r.astype(dt))
        np.testing.assert_allclose(outs[5].numpy(), refs[5].astype(np.float32), rtol=1e-6)
        assert groups(f, ta, tb) == 1

def test_int_pow_fused():
    f = torch.jit.script(int_pow)
    a = np.array([-7, -3, -1, 0, 1, 3, 7, 8], np.int64)
    b = np.array([0, 1, 2, 3, 2, 1, 0, 3], np.int64)
    outs = run_calls(f, (torch.from_numpy(a), torch.from_numpy(b)))
    np.testing.assert_array_equal(outs[0].numpy(), a ** 2)
    np.testing.assert_array_equal(outs[1].numpy(), a ** b)
    np.testing.assert_array_equal(outs[2].numpy(), a * a * a)
    assert groups(f, torch.from_numpy(a), torch.from_numpy(b)) == 1
    assert outs[1].dtype == torch.int64


def _erf_gelu(x):
    return np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)])


def _tanh_gelu(x):
    x = x.astype(np.float64)
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


@pytest.mark.parametrize("dt,tol", [(np.float32, 1e-5), (np.float64, 1e-12),
                                    (np.float16, 2e-3)])
def test_gelu_both_approximations_and_sigmoid(dt, tol):
    f = torch.jit.script(gelus)
    x = np.array([-10, -3, -1.5, -0.5, 0, 0.5, 1.5, 3, 10], dt)
    g, t, s = run_calls(f, (torch.from_numpy(x),))
    assert g.dtype == t.dtype == s.dtype == torch.from_numpy(x).dtype
    np.testing.assert_allclose(g.numpy().astype(np.float64), _erf_gelu(x), rtol=tol, atol=tol)
    np.testing.assert_allclose(t.numpy().astype(np.float64), _tanh_gelu(x), rtol=tol, atol=tol)
    np.testing.assert_allclose(s.numpy().astype(np.float64),
                               1 / (1 + np.exp(-x.astype(np.float64))), rtol=tol, atol=tol)
    assert groups(f, torch.from_numpy(x)) == 1


def test_casts_of_nan_inf_and_out_of_range_match_eager():
    f = torch.jit.script(casts)
    x = np.array([np.nan, np.inf, -np.inf, 1e10, -1e10, 300.7, -300.7, 2.5, -2.5, 0.99,
                  -0.99, 255.5], np.float32)
    for dt in (np.float32, np.float64, np.float16):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = torch.from_numpy(x.astype(dt))
        fused = run_calls(f, (t,))
        eager = casts(t)
        for o, e in zip(fused, eager):
            assert o.dtype == e.dtype
            np.testing.assert_array_equal(o.numpy(), e.numpy())
        # the well-defined ones are C's truncation
        np.testing.assert_array_equal(fused[0].numpy()[7:11], [2, -2, 0, 0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_array_equal(fused[5].numpy(),
                                          x.astype(dt).astype(np.float64) != 0)
        assert groups(f, t) == 1


def test_bool_ops_fused():
    f = torch.jit.script(bool_ops)
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    outs = run_calls(f, (torch.from_numpy(a), torch.from_numpy(b)))
    refs = [a & b, a | b, a ^ b, ~a, a & b, a.astype(np.int32) + b, np.where(a, b, ~b)]
    for o, r in zip(outs, refs):
        np.testing.assert_array_equal(o.numpy(), r)
        assert str(o.numpy().dtype) == str(r.dtype)
    assert groups(f, torch.from_numpy(a), torch.from_numpy(b)) == 1


def test_python_scalar_arguments_and_new_values():
    f = torch.jit.script(scalars)
    x = f32(5)
    for s, k, flag in [(1.5, 2, True), (1.5, 2, True), (-1.0, 7, False), (0.25, -3, True)]:
        out = f(torch.from_numpy(x), s, k, flag)
        ref = x * np.float32(s) + k - (x > 0).astype(np.float32) * float(flag)
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6, atol=1e-6)


def test_type_conversions_in_groups():
    f = torch.jit.script(conversions)
    a = np.arange(-3, 3).astype(np.int64)
    b = f32(6)
    out = run_calls(f, (torch.from_numpy(a), torch.from_numpy(b)))
    assert out.dtype == torch.int64
    np.testing.assert_array_equal(out.numpy(), (a.astype(np.float32) * 2 + b.astype(np.float64)
                                                ).astype(np.int64) + 1)
    h = torch.jit.script(half_roundtrip)
    x, y = f32(7), f32(7)
    out = run_calls(h, (torch.from_numpy(x), torch.from_numpy(y)))
    ref = (x.astype(np.float16) * np.float16(2) + y.astype(np.float16)).astype(np.float32) * 3
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)
    assert groups(h, torch.from_numpy(x), torch.from_numpy(y)) == 1


# ------------------------------------------------------------------ side effects and aliasing
@pytest.mark.parametrize("fn", [inplace_locals, inplace_arg, view_write, input_view_write])
def test_inplace_ops_keep_their_order_and_effects(fn):
    f = torch.jit.script(fn)
    for shape in [(3, 4), (3, 4), (3, 4), (2, 4)]:
        x, y = f32(*shape), f32(*shape)
        xe, ye = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
        xf, yf = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
        close(f(xf, yf), fn(xe, ye))
        close(xf, xe)
        close(yf, ye)


def test_aliasing_inputs_same_tensor_and_overlapping_slices():
    f = torch.jit.script(inplace_arg)
    a, e = torch.ones(4), torch.ones(4)
    for _ in range(3):
        close(f(a, a), inplace_arg(e, e))
        close(a, e)
    a, e = torch.arange(10.), torch.arange(10.)
    for _ in range(3):
        close(f(a[:5], a[2:7]), inplace_arg(e[:5], e[2:7]))
        close(a, e)


def test_outputs_that_alias_stay_aliases():
    f = torch.jit.script(returns_aliases)
    for _ in range(3):
        x = torch.from_numpy(f32(3, 4))
        z, xx, z2 = f(x, torch.from_numpy(f32(3, 4)))
        assert xx is x or xx.data_ptr() == x.data_ptr()
        z.add_(100)
        close(z2, z)


def test_random_op_in_the_middle_is_not_fused_and_seeded():
    f = torch.jit.script(random_middle)
    x = torch.from_numpy(f32(100))
    torch.manual_seed(0)
    ref = random_middle(x)
    for _ in range(3):
        torch.manual_seed(0)
        close(f(x), ref, 1e-6)
    g = str(f.graph_for(x))
    assert "rand_like" in g
    for line in g.split("with prim::TensorExprGroup")[1:]:
        assert "rand" not in line


def test_loops_and_ifs_around_fusible_code():
    f = torch.jit.script(loopy)
    x = f32(50)
    for n in (5, 5, 5, 2, 0):
        np.testing.assert_allclose(f(torch.from_numpy(x), n).numpy(), np_loopy(x, n),
                                   rtol=1e-5, atol=1e-6)
    assert groups(f, torch.from_numpy(x), 5) == 2


def test_scripted_function_calling_scripted_function():
    global _inner
    _inner = torch.jit.script(_inner_fn)
    f = torch.jit.script(outer)
    x, y = f32(3, 3), f32(3, 3)
    out = run_calls(f, (torch.from_numpy(x), torch.from_numpy(y)))
    np.testing.assert_allclose(out.numpy(), np.maximum(x + y, 0) * 2 - y, rtol=1e-6)
    assert groups(f, torch.from_numpy(x), torch.from_numpy(y)) == 1


def test_scripted_module_forward_fuses_around_linear():
    m = Gate()
    s = torch.jit.script(m)
    x, h = torch.from_numpy(f32(3, 4)), torch.from_numpy(f32(3, 4))
    for _ in range(3):
        close(s(x, h), m(x, h))
    g = str(s.graph_for(x, h))
    assert "prim::TensorExprGroup" in g


# ------------------------------------------------------------------ autograd, no_grad, autocast
def test_backward_through_fused_groups_matches_eager():
    f = torch.jit.script(chain)
    for i in range(4):
        x, y = f32(4, 4), f32(4, 4)
        xf, yf = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
        xe, ye = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
        of, oe = f(xf, yf), chain(xe, ye)
        (of * of).sum().backward()
        (oe * oe).sum().backward()
        close(of.detach(), oe.detach())
        close(xf.grad, xe.grad)
        close(yf.grad, ye.grad)
    with torch.no_grad():
        assert not f(xf, yf).requires_grad


def test_autocast_around_a_scripted_function():
    f = torch.jit.script(with_matmul)
    x, y = torch.from_numpy(f32(4, 4)), torch.from_numpy(f32(4, 4))
    for _ in range(3):
        with torch.autocast("cpu", dtype=torch.float16):
            out = f(x, y)
            ref = with_matmul(x, y)
        assert out.dtype == ref.dtype
        close(out, ref, 1e-3)


# ------------------------------------------------------------------ strategy
def test_set_fusion_strategy_returns_previous_and_validates(fresh_strategy):
    assert torch.jit.set_fusion_strategy([("DYNAMIC", 3)]) == [("STATIC", 2), ("DYNAMIC", 10)]
    assert gpujit.set_fusion_strategy([("STATIC", 1)]) == [("DYNAMIC", 3)]
    for bad in ([("FOO", 1)], [("STATIC", -1)], [("static", 1)]):
        with pytest.raises(ValueError):
            torch.jit.set_fusion_strategy(bad)
    assert torch.jit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 10)]) == [("STATIC", 1)]


def test_strategy_budgets_are_counted_per_function(fresh_strategy):
    torch.jit.set_fusion_strategy([("STATIC", 1), ("DYNAMIC", 1)])

    def budget_fn(x, y):
        return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)
    f = torch.jit.script(budget_fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for shape in [(4,), (4,), (5,), (6,), (2, 3), (3, 3), (7,)]:
            x, y = f32(*shape), f32(*shape)
            out = f(torch.from_numpy(x), torch.from_numpy(y))
            np.testing.assert_allclose(
                out.numpy(), np.tanh(x * 0.5 + y) / (1 + np.exp(-(x - y))), rtol=1e-5,
                atol=1e-6)
    kinds = gpujit.kernels.cache_info().specializations["budget_fn"]
    assert kinds == ["STATIC(4)", "DYNAMIC(*)"], kinds


# ------------------------------------------------------------------ strict_fusion
def test_strict_fusion_in_script():
    ok = torch.jit.script(strict_ok)
    x, y = torch.from_numpy(f32(3, 3)), torch.from_numpy(f32(3, 3))
    run_calls(ok, (x, y))
    bad = torch.jit.script(strict_bad)
    with pytest.raises(Exception) as ei:
        run_calls(bad, (x, y))
    msg = str(ei.value)
    assert "aten::matmul" in msg and "w = torch.matmul(z, y)" in msg
    assert "test_issue5_outside_s26.py" in msg


def test_strict_fusion_around_python_calls():
    f = torch.jit.script(with_matmul)
    x, y = torch.from_numpy(f32(3, 3)), torch.from_numpy(f32(3, 3))
    f(x, y)
    with pytest.raises(Exception) as ei:
        with gpujit.strict_fusion():
            f(x, y)
    assert "aten::matmul" in str(ei.value)
    g = torch.jit.script(chain)
    g(x, y)
    with gpujit.strict_fusion():
        g(x, y)


# ------------------------------------------------------------------ threads
def test_eight_threads_compile_one_new_function():
    def threaded(x, y):
        return torch.sigmoid(x * 1.5 - y) * torch.tanh(y) + 0.25
    f = torch.jit.script(threaded)
    x, y = f32(1000), f32(1000)
    ref = 1 / (1 + np.exp(-(x * 1.5 - y))) * np.tanh(y) + 0.25
    res, errs = [None] * 8, []
    bar = threading.Barrier(8)

    def work(i):
        try:
            bar.wait()
            for _ in range(3):
                res[i] = f(torch.from_numpy(x), torch.from_numpy(y)).numpy()
        except Exception as e:      # pragma: no cover - reported below
            errs.append(e)
    ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errs, errs
    for r in res:
        np.testing.assert_allclose(r, ref, rtol=1e-5, atol=1e-6)
    assert gpujit.kernels.cache_info().specializations["threaded"] == ["STATIC(1000)"]


# ------------------------------------------------------------------ subprocess checks
PROG = textwrap.dedent("""
    import numpy as np
    import gpujit as torch
    def chain(x, y):
        return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)
    f = torch.jit.script(chain)
    x = torch.linspace(-3, 3, 64); y = torch.linspace(2, -1, 64)
    for _ in range(3):
        r = f(x, y)
    assert np.allclose(r.numpy(), chain(x, y).numpy(), atol=1e-6)
    i = torch.kernels.cache_info()
    print("OK", i.compiles, i.disk_hits)
""")


def _run(tmp_path, env_extra, prog=PROG):
    p = tmp_path / "prog.py"
    p.write_text(prog)
    env = dict(os.environ, **env_extra)
    env.pop("NUMBA_ENABLE_CUDASIM", None) if "NUMBA_ENABLE_CUDASIM" not in env_extra else None
    r = subprocess.run([sys.executable, str(p)], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return r.stdout


def test_corrupt_and_truncated_disk_entries_are_recompiled(tmp_path):
    cache = tmp_path / "cache"
    env = {"GPUJIT_CACHE_DIR": warm(cache)}
    assert "OK 1 0" in _run(tmp_path, env)
    entries = sorted((cache / "kernels").rglob("*.json"))
    assert entries
    # a new process, started with the entry-point cache's files cut short (its import makes
    # them again): a disk hit; then in it (the kernels and counters forgotten between its
    # programs) each entry truncated, garbage, empty: compiled again
    programs = [("DISK", PROG, {})]
    for how in ("truncate", "garbage", "empty"):
        for k, entry in enumerate(entries):
            data = entry.read_bytes()
            programs.append((f"PLANT-{how}-{k}", writing_program(entry, {
                "truncate": data[:len(data) // 2], "garbage": b"\x00\xffjunk", "empty": b""}[how]), {}))
        programs.append((how, PROG, {}))
    cut = list((cache / "entrypoints").glob("*"))
    assert cut
    for m in cut:
        m.write_bytes(m.read_bytes()[:100])
    e = dict(os.environ, **env)
    e.pop("NUMBA_ENABLE_CUDASIM", None)
    res = run_batch(tmp_path / "again", programs, env=e, reset=FORGET_KERNELS)
    assert "OK 0 1" in program_result(res, "DISK")[0]
    for name, _, _ in programs[1:]:
        out, _ = program_result(res, name)
        assert name.startswith("PLANT") or "OK 1 0" in out, name


def test_unusable_cache_dirs_still_run(tmp_path):
    # one process (each program its own GPUJIT_CACHE_DIR, read when the cache is used),
    # started with a file as its cache folder: its import, then the first program, then
    # one with a folder whose parents are missing (made)
    f = tmp_path / "a_file"
    f.write_text("x")
    deep = tmp_path / "missing" / "deep"
    e = dict(os.environ, GPUJIT_CACHE_DIR=str(f))
    e.pop("NUMBA_ENABLE_CUDASIM", None)
    res = run_batch(tmp_path / "run", [("FILE", PROG, {}),
                                       ("DEEP", PROG, {"GPUJIT_CACHE_DIR": str(deep)})],
                    env=e, reset=FORGET_KERNELS)
    assert "OK" in program_result(res, "FILE")[0]
    assert "OK 1 0" in program_result(res, "DEEP")[0]
    assert (deep / "kernels").exists()


# (GPUJIT_DUMP="fusion, Kernels" in a new process running this file's chain: the partitioned
# graph and the kernel's source with its "gpujit fused kernel" header, in
# test_issue5_audit_s22_b.py::test_kernel_cache_threads_disk_dump_and_corrupt_entries,
# which asserts what this file's copy did)


# (`python -m gpujit` showing a fusion group and its timing table: one process of it, in
# test_issue5_audit_s22_b.py::test_python_m_gpujit_shows_a_group_and_a_timing_table, which
# asserts what this file's copy did, from the repository's root, with a fresh cache)


SIM_PROG = textwrap.dedent("""
    import numpy as np, warnings
    import gpujit as torch
    def gelus(x):
        y = x * 1.0
        return (torch.nn.functional.gelu(y), torch.nn.functional.gelu(y, approximate="tanh"),
                torch.sigmoid(y))
    def int_arith(a, b):
        a = a | 0
        return a // b, a % b, torch.fmod(a, b), a / b
    def casts(x):
        y = x * 1.0
        return y.to(torch.int32), y.to(torch.uint8), y.to(torch.bool)
    def half(x, y):
        return x * y + 1, torch.tanh(x) + y, x * 0.1
    def bools(a, b):
        return a & b, a ^ b, ~a, a.to(torch.int32) + b.to(torch.int32)
    fl = np.array([-10, -3, -1.5, -0.5, 0, 0.5, 1.5, 3, 10], np.float32)
    a = np.array([-7, -7, 7, 7, -1, 0, 5, -9], np.int64)
    b = np.array([2, -2, 2, -2, 3, 5, -3, 4], np.int64)
    c = np.array([np.nan, np.inf, -np.inf, 1e10, 300.7, -2.5, 0.99, 255.5], np.float32)
    h = np.linspace(-4, 4, 9).astype(np.float16)
    p = np.array([True, False, True, False]); q = np.array([True, True, False, False])
    n = 0
    for fn, args in [(gelus, (fl,)), (gelus, (fl.astype(np.float16),)), (int_arith, (a, b)),
                     (int_arith, (a.astype(np.int32), b.astype(np.int32))), (casts, (c,)),
                     (half, (h, h[::-1].copy())), (bools, (p, q))]:
        f = torch.jit.script(fn)
        ts = [torch.from_numpy(v) for v in args]
        for _ in range(2):
            outs = f(*ts)
        assert str(f.graph_for(*ts)).count("= prim::TensorExprGroup_0(") == 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for o, e in zip(outs, fn(*ts)):
                assert o.dtype == e.dtype, (fn.__name__, o.dtype, e.dtype)
                np.testing.assert_allclose(o.numpy().astype(float), e.numpy().astype(float),
                                           rtol=1e-3, atol=1e-3, err_msg=fn.__name__)
                n += 1
    print("SIM OK", n)
""")


@pytest.mark.sim
def test_simulator_target_numerics_in_a_subprocess(tmp_path):
    out = _run(tmp_path, {"NUMBA_ENABLE_CUDASIM": "1", "GPUJIT_FUSION_TARGET": "sim",
                          "GPUJIT_CACHE_DIR": warm(tmp_path / "c")}, SIM_PROG)
    assert "SIM OK" in out


# ------------------------------------------------------------------ differential vs PyTorch
def test_differential_against_pytorch_eager():
    T = pytest.importorskip("torch")
    f = torch.jit.script(int_arith)
    a = np.array([-7, -3, -1, 0, 1, 3, 7, 8], np.int64)
    b = np.array([2, -2, 3, -3, 5, 2, -4, 3], np.int64)
    mine = run_calls(f, (torch.from_numpy(a), torch.from_numpy(b)))
    ta, tb = T.from_numpy(a), T.from_numpy(b)
    theirs = (ta // tb, ta % tb, T.remainder(ta, tb), T.fmod(ta, tb),
              T.div(ta, tb, rounding_mode="trunc"), ta / tb)
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-6)
        assert str(m.numpy().dtype) == str(t.numpy().dtype)


# ------------------------------------------------------------------ profiling runs
@pytest.fixture
def profiled_runs():
    old = gpujit._C._jit_get_num_profiled_runs()
    yield
    gpujit._C._jit_set_num_profiled_runs(old)


def test_profiled_runs_setting_counts_profiling_calls(profiled_runs):
    gpujit._C._jit_set_num_profiled_runs(3)
    assert gpujit._C._jit_get_num_profiled_runs() == 3

    def three_runs(x, y):
        return torch.sigmoid(x * y) - 1
    f = torch.jit.script(three_runs)
    x, y = torch.from_numpy(f32(4)), torch.from_numpy(f32(4))
    for _ in range(3):      # profiling calls are exempt from strict_fusion
        with gpujit.strict_fusion():
            f(x, y)
        assert "three_runs" not in gpujit.kernels.cache_info().specializations
    f(x, y)
    assert gpujit.kernels.cache_info().specializations["three_runs"] == ["STATIC(4)"]


def test_zero_profiled_runs_as_torchscript(profiled_runs, monkeypatch, capsys):
    """TorchScript accepts _jit_set_num_profiled_runs(0): the first call runs optimized
    code built without profiled types, so nothing fuses, a strict_fusion region raises at
    once (no call is a profiling call), and a path the (absent) profile never ran does not
    recompile on every call. gpujit refused 0 with ValueError."""
    assert gpujit._C._jit_set_num_profiled_runs(0) in (1, 2, 3)
    assert gpujit._C._jit_get_num_profiled_runs() == 0
    def loopy0(x, n: int):       # (a function no other test compiled)
        for i in range(n):
            if i % 2 == 0:
                x = torch.tanh(x * 0.9 + 0.1)
            else:
                x = x.sigmoid() - 0.5
        return x
    f = torch.jit.script(loopy0)
    x = f32(20)
    monkeypatch.setenv("GPUJIT_DUMP", "graph")
    for _ in range(4):
        np.testing.assert_allclose(f(torch.from_numpy(x), 3).numpy(), np_loopy(x, 3),
                                   rtol=1e-5, atol=1e-6)
    # one specialization, compiled once (the branches were not profiled: no new profile)
    assert capsys.readouterr().out.count("[gpujit] graph of loopy0") == 1
    monkeypatch.delenv("GPUJIT_DUMP")
    assert groups(f, torch.from_numpy(x), 3) == 0
    def strict_ok0(x, y):
        with torch.jit.strict_fusion():
            z = x * y + 1
            w = torch.sigmoid(z)
        return w
    bad = torch.jit.script(strict_ok0)
    a = torch.from_numpy(f32(3, 3))
    with pytest.raises(gpujit.jit.StrictFusionError, match="aten::sigmoid"):
        bad(a, a)
    def chain0(x, y):
        return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)
    g = torch.jit.script(chain0)
    with pytest.raises(gpujit.jit.StrictFusionError, match="aten::tanh"):
        with gpujit.strict_fusion():
            g(a, a)
    close(g(a, a), chain(a, a))
    with pytest.raises(ValueError):
        gpujit._C._jit_set_num_profiled_runs(-1)
