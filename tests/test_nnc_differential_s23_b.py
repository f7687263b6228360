"""Fusion decisions against TorchScript's real NNC (session 23): the same user programs
(activations, normalisation maths, losses, gating, masks, casts, scalar arguments,
broadcasting, chunk/cat, in-place ops on locals, control flow, modules) scripted by
PyTorch 2.13 (NNC on the CPU: `_jit_override_can_fuse_on_cpu`, `_jit_set_texpr_fuser_enabled`,
`_jit_set_te_must_use_llvm_cpu(False)`, as this CPU build has no LLVM) and by gpujit, run
for the profiling calls, then compared: the ops left outside fusion groups (gpujit may fuse
more, never less), strict_fusion's verdict, the specializations a fusion strategy makes,
and the answers (eager PyTorch as the reference). The torch tests skip without torch.

Bugs it found are fixed and tested in test_nnc_differential_s23.py (helpers from there).

Deliberate differences (gpujit fuses more, or reports more, than NNC):
- gpujit fuses in-place ops on locals, `remainder`/`floor_divide`/`fmod` of ints, `bitwise_not`,
  `maximum`/`minimum`, `clamp_min`/`clamp_max`, `clamp` with tensor bounds, `pow` with a
  tensor exponent and `2.0 ** x`, `square`, `exp2`, `sign`/`sgn`/`signbit`/`copysign`,
  `hypot`/`fmax`/`fmin`, `xlogy`, `asinh`, `erf`/`erfc` next to other ops, `isinf`/`isfinite`/
  `nan_to_num`, `log_sigmoid`, `softshrink`, `celu`/`selu`, `masked_fill`, `addcdiv`,
  `rsub`, `alpha_dropout(train=False)`, the logical ops and float16 chains, which NNC leaves
  unfused (so strict_fusion regions of them pass in gpujit and fail in TorchScript).
- NNC fuses `matmul`/`mm` on the CPU with static shapes; gpujit fuses pointwise ops only, so
  `with strict_fusion(): (x @ y).relu()` raises in gpujit.
- Size queries (`x.size(0)`), scalar arithmetic (`float(n)`, `int(flag)`) and control flow
  whose branches fuse inside a strict_fusion region are bookkeeping in gpujit, not unfused
  work; TorchScript reports them (control flow as blank lines).
- A strict_fusion region in a branch the profiling runs did not take is checked when a call
  takes it (TorchScript reports it unfused from the second call on).
- Past its specialization budget a group inside strict_fusion raises (TorchScript runs the
  fallback unfused without a word).
- A DYNAMIC kernel does not tie equal sizes to one symbol: the kernel made for (6, 6)
  serves (6, 2) too, so gpujit makes fewer specializations than TorchScript; a new shape
  under a known input signature specializes on its first call (TorchScript's fallback
  profiles once more first).
- Values whose profiled runs saw different sizes or dtypes (two profiling runs, or a
  re-profile after a new branch) fuse, typed as the latest run saw them; TorchScript leaves
  merged shapes unfused.
- TorchScript's NNC without LLVM (its IR interpreter) answered `log1p(|x|) + expm1(x) *
  floor(x) + round(x) - trunc(x) + frac(x)` off by 1.0 at x = -2.325 against its own eager
  result; gpujit answers as eager does (the answers here are compared with eager PyTorch).
- `set_fusion_strategy([("STATIC", True)])` is refused (TorchScript reads True as 1); bad
  strategies raise FusionStrategyError, both a ValueError and a TypeError.
"""
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import gpujit
from gpujit.jit import StrictFusionError
from test_nnc_differential_s23 import GROUP, NEW_PATH_SRC, NEW_PATHS, rnd

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


# ---------------------------------------------------------------- against TorchScript's NNC

@pytest.fixture
def nnc():
    """torch with NNC fusing on the CPU (restored afterwards)."""
    torch = pytest.importorskip("torch")
    C = torch._C
    old = (C._jit_can_fuse_on_cpu(), C._jit_texpr_fuser_enabled(),
           C._jit_get_te_must_use_llvm_cpu())
    old_exec = C._jit_set_profiling_executor(True)
    old_opt = C._get_graph_executor_optimize(True)
    C._jit_override_can_fuse_on_cpu(True)
    C._jit_set_texpr_fuser_enabled(True)
    C._jit_set_te_must_use_llvm_cpu(False)      # (this CPU build has no LLVM)
    try:
        yield torch
    finally:
        C._jit_override_can_fuse_on_cpu(old[0])
        C._jit_set_texpr_fuser_enabled(old[1])
        C._jit_set_te_must_use_llvm_cpu(old[2])
        C._jit_set_profiling_executor(old_exec)
        C._get_graph_executor_optimize(old_opt)


# TorchScript's spellings of the ops gpujit names otherwise
_SAME_OP = {"aten::__and__": "aten::bitwise_and", "aten::__or__": "aten::bitwise_or",
            "aten::__xor__": "aten::bitwise_xor", "aten::__lshift__": "aten::bitwise_left_shift",
            "aten::__rshift__": "aten::bitwise_right_shift", "aten::type_as": "aten::to"}
_GUARDS = ("prim::TypeCheck", "prim::TensorExprDynamicGuard", "prim::RequiresGradCheck")
_NOT_WORK = {"prim::Constant", "prim::ListConstruct", "prim::TupleConstruct",
             "prim::TupleUnpack", "prim::ListUnpack", "prim::If", "prim::Loop",
             "prim::CallFunction", GROUP, "prim::Enter", "prim::Exit", "aten::size",
             "prim::unchecked_cast", "prim::CreateObject", *_GUARDS}


def unfused_ops(block):
    """The kinds of the ops a call runs outside fusion groups when every guard passes."""
    out = set()
    for n in block.nodes():
        if n.kind() == "prim::If" and n.inputsAt(0).node().kind() in _GUARDS:
            out |= unfused_ops(list(n.blocks())[0])
            continue
        for b in n.blocks():
            out |= unfused_ops(b)
        if n.kind() == "prim::DifferentiableGraph":
            out |= unfused_ops(n.g("Subgraph"))
        elif n.kind() not in _NOT_WORK:
            out.add(_SAME_OP.get(n.kind(), n.kind()))
    return out


def run_both(torch, src, name, args, calls=3):
    """(torch's unfused ops, gpujit's, torch's eager answer, gpujit's answer)."""
    found = {}
    for lib in (torch, gpujit):
        f = getattr(lib.jit.CompilationUnit(src), name)
        targs = [lib.from_numpy(a.copy()) if isinstance(a, np.ndarray) else a for a in args]
        for _ in range(calls):
            out = f(*targs)
        found[lib] = (unfused_ops(lib.jit.last_executed_optimized_graph()), out)
    ns = {"torch": torch}
    exec(src, ns)
    want = ns[name](*[torch.from_numpy(a.copy()) if isinstance(a, np.ndarray) else a
                      for a in args])
    return found[torch][0], found[gpujit][0], want, found[gpujit][1]


def same_as_torch(got, want):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        assert tuple(g.shape) == tuple(w.shape)
        if w.dtype.is_floating_point:
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(g.numpy(), w.numpy())


X, Y = rnd(4, 5), rnd(4, 5, seed=1)
U = np.random.default_rng(2).uniform(0.05, 0.95, (4, 5)).astype(np.float32)
INTS = np.random.default_rng(3).integers(-5, 6, (4, 5))
BOOLS = np.random.default_rng(4).integers(0, 2, (4, 5)).astype(bool)

# programs NNC fuses entirely (or but for what gpujit leaves out too)
PROGRAMS = {
    "gelu_erf": ("x * 0.5 * (1.0 + torch.erf(x / 1.41421356))", "x", (X,)),
    "silu_gate": ("torch.tanh(x) * torch.sigmoid(y) + torch.relu(x - y)", "x, y", (X, Y)),
    "mish": ("x * torch.tanh(torch.nn.functional.softplus(x))", "x", (X,)),
    "activations": ("torch.nn.functional.hardsigmoid(x) + torch.nn.functional.hardswish(x)"
                    " + torch.nn.functional.hardtanh(x, -0.5, 0.5)"
                    " + torch.nn.functional.leaky_relu(x, 0.1) + torch.nn.functional.elu(x)",
                    "x", (X,)),
    "clamp_args": ("torch.clamp(x * 3.0, lo, hi).abs()", "x, lo: float, hi: float",
                   (X, -0.5, 0.7)),
    "norm_maths": ("(x - m) * torch.rsqrt(v + 1e-5) * w + b", "x, m, v, w, b",
                   (rnd(4, 3, 5), rnd(3, 1), np.abs(rnd(3, 1)), rnd(3, 1), rnd(3, 1))),
    "masks": ("torch.where((x > 0.5) & (y < 0.0), x, y * 2.0)", "x, y", (X, Y)),
    "mask_cast": ("((x != y) | (x >= 1.0)).float() * x", "x, y", (X, Y)),
    "casts": ("(x * 10.0).to(torch.int32).to(torch.float32) / 10.0", "x", (X,)),
    "type_as": ("(x + 1.0).type_as(y) * y", "x, y", (X, Y.astype(np.float64))),
    "scalars": ("x * a + n - x / a", "x, a: float, n: int", (X, 1.5, 3)),
    "broadcast": ("torch.sigmoid(x + b) * b + r.exp()", "x, b, r", (X, rnd(5), rnd(4, 1))),
    "cat": ("torch.cat([x.sin(), y.cos()], 1) * 2.0", "x, y", (X, Y)),
    "huber": ("torch.where((a - b).abs() < 1.0, 0.5 * (a - b) * (a - b), (a - b).abs() - 0.5)",
              "a, b", (X, Y)),
    "bce": ("-(t * torch.log(p) + (1.0 - t) * torch.log(1.0 - p))", "p, t", (U, U[::-1].copy())),
    "ints": ("(a * b + 3) - (a + 2) * b", "a, b", (INTS, INTS[::-1].copy())),
    "bools": ("(a & b) | a", "a, b", (BOOLS, BOOLS[::-1].copy())),
    "lerp_addcmul": ("torch.lerp(x, y, 0.3) + torch.addcmul(x, y, x, value=0.5)", "x, y", (X, Y)),
    "unsqueeze": ("torch.sigmoid(a.unsqueeze(1) - b.unsqueeze(0))", "a, b", (rnd(4), rnd(5))),
    "promote": ("x * i + i", "x, i", (X, INTS)),
    "where_scalars": ("torch.where(x > 0.0, 1.0, -1.0) * x", "x", (X,)),
    "trig": ("torch.sin(x) * torch.cos(x) + torch.tan(x) + torch.atan(x)"
             " + torch.atan2(x, x + 1.0)", "x", (X,)),
    "min_max": ("torch.max(x, y) - torch.min(x, y)", "x, y", (X, Y)),
    "sub_alpha": ("torch.sub(x, y, alpha=2.0) + torch.add(x, y, alpha=3)", "x, y", (X, Y)),
    "dim0": ("x * s + s", "x, s", (X, np.array(2.5, np.float32))),
    "float64": ("torch.sigmoid(x) * x.exp()", "x", (X.astype(np.float64),)),
    "batch_norm": ("torch.nn.functional.batch_norm(x, m, v, w, b, False).relu() * 2.0",
                   "x, m, v, w, b", (rnd(2, 3, 4), rnd(3), np.abs(rnd(3)), rnd(3), rnd(3))),
}


def program(expr, params):
    return f"def f({params}):\n    return {expr}\n"


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_fuses_what_nnc_fuses(nnc, name):
    expr, params, args = PROGRAMS[name]
    t_unfused, g_unfused, want, got = run_both(nnc, program(expr, params), "f", args)
    assert g_unfused <= t_unfused, (t_unfused, g_unfused)
    same_as_torch(got, want)


CHUNK_SRC = '''
def f(g, cx):
    i, f, c, o = g.chunk(4, 1)
    cy = torch.sigmoid(f) * cx + torch.sigmoid(i) * torch.tanh(c)
    return torch.sigmoid(o) * torch.tanh(cy), cy
'''

CONTROL_SRC = '''
def f(x, flag: bool, n: int):
    y = (x * 2.0).sigmoid() + 1.0
    if flag:
        y = (y * x).tanh() - 1.0
    for i in range(n):
        y = y * 0.5 + x.sin()
    return (y * 0.5).relu() + 0.1
'''


def test_chunk_and_control_flow_fuse_as_nnc(nnc):
    t_unfused, g_unfused, want, got = run_both(nnc, CHUNK_SRC, "f", (rnd(3, 16), rnd(3, 4)))
    assert not t_unfused and not g_unfused
    same_as_torch(got, want)
    for flag, n in ((True, 2), (False, 0)):
        t_unfused, g_unfused, want, got = run_both(nnc, CONTROL_SRC, "f", (X, flag, n))
        assert g_unfused <= t_unfused, (t_unfused, g_unfused)
        same_as_torch(got, want)



# strict_fusion: (body of the region, params, args, TorchScript's verdict, gpujit's verdict)
STRICT = {
    "pointwise": ("z = torch.sigmoid(x * y) + 1.0", "x, y", (X, Y), True, True),
    "scalar_arg": ("z = (x * a).tanh() + a", "x, a: float", (X, 0.7), True, True),
    "where": ("z = torch.where(x > y, x * 2.0, y.exp())", "x, y", (X, Y), True, True),
    "unsqueeze": ("z = torch.sigmoid(x.unsqueeze(1) - y.unsqueeze(0))", "x, y",
                  (rnd(4), rnd(5)), True, True),
    "cast": ("z = (x * 10.0).to(torch.int32).float() / 10.0", "x", (X,), True, True),
    "cat": ("z = torch.cat([x.sin(), y.cos()], 1) * 2.0", "x, y", (X, Y), True, True),
    "to_float64": ("z = (x * 2.0).to(torch.float64) + 1.0", "x", (X,), True, True),
    "reduction": ("z = (x * y).sum()", "x, y", (X, Y), False, False),
    "single_op": ("z = x.sin()", "x", (X,), False, False),
    "view": ("z = (x.view(-1) * y.view(-1)).sigmoid()", "x, y", (X, Y), False, False),
    "transpose": ("z = (x.t() + y).relu() * 2.0", "x, y", (rnd(5, 4), Y), False, False),
    "clone": ("z = (x * 2.0).clone() + 1.0", "x", (X,), False, False),
    "softmax": ("z = torch.softmax(x, 1) * 2.0", "x", (X,), False, False),
    "zeros_like": ("z = x * 2.0 + torch.zeros_like(x)", "x", (X,), False, False),
    # deliberate: gpujit fuses in-place ops on locals and int remainder; NNC fuses matmul
    "inplace": ("z = x * y\n        z.add_(1.0)\n        z = z.sigmoid()", "x, y", (X, Y),
                False, True),
    "int_remainder": ("z = (a * b + 3) % 7", "a, b", (INTS, INTS), False, True),
    "matmul": ("z = (x @ y).relu()", "x, y", (rnd(4, 5), rnd(5, 3)), True, False),
}


def strict_program(body, params):
    return (f"def f({params}):\n    with torch.jit.strict_fusion():\n        {body}\n"
            f"    return z\n")


def compile_unit(lib, src):
    torch = lib         # (what `torch` means in src: TorchScript resolves it in this frame)
    return torch.jit.CompilationUnit(src)


def accepts(lib, src, args):
    f = compile_unit(lib, src).f
    targs = [lib.from_numpy(a.copy()) if isinstance(a, np.ndarray) else a for a in args]
    try:
        for _ in range(3):
            f(*targs)
    except RuntimeError as e:
        assert "unfused" in str(e) or "multiple fusions" in str(e), e
        return False
    return True


@pytest.mark.parametrize("name", sorted(STRICT))
def test_strict_fusion_verdict(nnc, name):
    body, params, args, torch_ok, gpujit_ok = STRICT[name]
    src = strict_program(body, params)
    assert accepts(nnc, src, args) is torch_ok          # (the reference still says so)
    if gpujit_ok:
        assert accepts(gpujit, src, args)
        return
    f = compile_unit(gpujit, src).f
    targs = [gpujit.from_numpy(a.copy()) for a in args]
    with pytest.raises(StrictFusionError) as e:
        for _ in range(2):
            f(*targs)
    # each unfused node: its kind and the user's line
    assert re.search(r"aten::\w+.*\S+:3 +" + re.escape(body.split("\n")[0]), str(e.value)), \
        str(e.value)
    if torch_ok:
        return
    # the same unfused nodes, each named by the schema TorchScript prints (`x * 2.0`:
    # aten::mul.Scalar, though gpujit's registry folds it into mul.Tensor)
    f = compile_unit(nnc, src).f
    with pytest.raises(RuntimeError) as t:
        for _ in range(2):
            f(*[nnc.from_numpy(a.copy()) for a in args])
    want = {ln.strip() for ln in str(t.value).splitlines() if ln.startswith("\taten::")}
    got = {re.split(r"\s{2,}", ln.strip())[0] for ln in str(e.value).splitlines()
           if ln.startswith("  aten::")}
    assert got == want, (got, want)


# the specializations a fusion strategy makes over a sequence of calls: TorchScript's
# (from its executor's log of each optimized graph: a TypeCheck guard is STATIC, a
# TensorExprDynamicGuard DYNAMIC) and gpujit's (kernels.cache_info)
CALLS = [((4, 4), "float32", False), ((4, 4), "float64", False), ((4, 4), "float32", True),
         ((6, 6), "float32", False), ((6, 2), "float32", False), ((1, 4), "float32", False),
         ((7, 3), "float32", False), ((4, 4), "float32", False)]
STRATEGIES = [[("STATIC", 2), ("DYNAMIC", 2)], [("DYNAMIC", 1), ("STATIC", 1)],
              [("STATIC", 1)], [("STATIC", 0), ("DYNAMIC", 1)]]
STRATEGY_SRC = "def f(x, y):\n    return (x * y + 1.0).sigmoid()\n"

_TORCH_SEQUENCE = '''
import sys, numpy as np, torch
C = torch._C
C._jit_override_can_fuse_on_cpu(True); C._jit_set_texpr_fuser_enabled(True)
C._jit_set_te_must_use_llvm_cpu(False)
for strategy in {strategies!r}:
    torch.jit.set_fusion_strategy(strategy)
    f = torch.jit.CompilationUnit({src!r}).f
    print("STRATEGY", file=sys.stderr, flush=True)
    for shape, dtype, t in {calls!r}:
        a = torch.from_numpy(np.ones(shape[::-1] if t else shape, dtype))
        a = a.t() if t else a
        for _ in range(2):
            f(a, a)
'''


def gpujit_kinds(strategy, k):
    old = gpujit.set_fusion_strategy(strategy)
    name = f"nnc_s23_strategy_{k}"     # (cache_info lists the live functions by name)
    try:
        f = getattr(gpujit.jit.CompilationUnit(STRATEGY_SRC.replace("f(", name + "(")), name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for shape, dtype, t in CALLS:
                a = gpujit.from_numpy(np.ones(shape[::-1] if t else shape, dtype))
                a = a.t() if t else a
                for _ in range(2):
                    got = f(a, a)
                np.testing.assert_allclose(got.numpy(), 1 / (1 + np.exp(-2.0)), rtol=1e-6)
        specs = gpujit.kernels.cache_info().specializations[name]
        return sorted(s.split("(")[0] for s in specs)
    finally:
        gpujit.set_fusion_strategy(old)


def test_fusion_strategy_specializations(nnc):
    env = dict(os.environ, PYTORCH_JIT_LOG_LEVEL="profiling_graph_executor_impl")
    code = _TORCH_SEQUENCE.format(strategies=STRATEGIES, src=STRATEGY_SRC, calls=CALLS)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    torch_kinds, graph = [], None
    for line in r.stderr.splitlines():
        if line.startswith("STRATEGY"):
            torch_kinds.append([])
        elif "Optimized Graph:" in line:
            graph = torch_kinds[-1]
        elif "Profiled Graph:" in line or "NoOpt Graph:" in line:
            graph = None
        elif graph is not None and "prim::TypeCheck" in line:
            graph.append("STATIC")
        elif graph is not None and "prim::TensorExprDynamicGuard" in line:
            graph.append("DYNAMIC")
    assert len(torch_kinds) == len(STRATEGIES)
    for k, (strategy, kinds) in enumerate(zip(STRATEGIES, torch_kinds)):
        assert gpujit_kinds(strategy, k) == sorted(kinds), strategy


@pytest.mark.parametrize("name", ["dtype_branch", "size_branch", "rank_branch", "loop_dtype"])
def test_new_path_strict_verdict_as_torchscript(nnc, name):
    x = rnd(4, 4)
    for lib in (nnc, gpujit):
        f = getattr(compile_unit(lib, NEW_PATH_SRC), name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for arg in NEW_PATHS[name]:
                f(lib.from_numpy(x.copy()), arg)        # (no strict_fusion error)
