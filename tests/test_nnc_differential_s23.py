"""Fusion bugs found by comparing gpujit with TorchScript's NNC (session 23); the comparison
itself is in test_nnc_differential_s23_b.py, which lists the deliberate differences.

Bugs fixed here (tests below fail before):
- an in-place op on a fresh local that the fuser made out-of-place (`z = x * 2; z.add_(y)`)
  followed the out-of-place op's typing on calls whose types differ from the profiled ones:
  a `y` that broadcasts past `z` (z of [1, 4], y of [4, 4]) returned a [4, 4] result where
  PyTorch raises "output with shape [1, 4] doesn't match the broadcast shape [4, 4]", and a
  `y` whose dtype follows an `if` or a loop (float64 on a path the profiling run did not
  take) made z float64 where the in-place op keeps z's float32 (fused or not).
- a call that took a branch or loop body the profiling run had not seen re-profiles and
  merges both runs: a value typed differently in them (float32 and float64, [4, 4] and
  [2, 4], rank 2 and 1) had an unknown type, so the code after it ran unfused from then on
  and a `strict_fusion` region there raised, where TorchScript (whose fallback specializes
  afresh) keeps it fused. The partitioner now types such values as the latest run saw them
  (runtime/fusion.py `_type_as_last_run`; the groups' guards cover other types). The same
  made `set_profiling_runs(2)` with calls of two sizes fuse nothing at all.
- strict_fusion named the unfused `x * 2.0` `aten::mul.Tensor(Tensor self, Tensor other)`
  (the registry folds PyTorch's `.Scalar` overloads into `.Tensor`); it now prints the
  schema TorchScript prints, `aten::mul.Scalar(Tensor self, Scalar other) -> Tensor`.
"""
import re
import warnings

import numpy as np
import pytest

import gpujit

GROUP = "prim::TensorExprGroup"
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


def rnd(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def script(src, name):
    return getattr(gpujit.jit.CompilationUnit(src), name)


# ---------------------------------------------------------------- in-place ops on locals

INPLACE_SRC = '''
def grouped(x, y):
    z = x * 2.0
    z.add_(y)
    return z.sigmoid() + 1.0

def through_if(x, y, flag: bool):
    z = x * 2.0
    if flag:
        w = y.double()
    else:
        w = y * 1.0
    z.add_(w)
    return z.sigmoid() + 1.0

def through_loop(x, y, n: int):
    z = x * 2.0
    w = y * 1.0
    for i in range(n):
        w = w.double()
    z.mul_(w)
    return z.sigmoid() + 1.0

def unfused_write(x, y, flag: bool):
    z = x.cumsum(0)
    if flag:
        w = y.double()
    else:
        w = y * 1.0
    z.add_(w)
    return z.cumsum(1), (x * 2.0).sigmoid() + 1.0

def moved_reader(x, y):
    z = x.cumsum(0)
    a = z.sin()
    z.add_(y)
    return a * 2.0 + 1.0, z.cumsum(1)
'''


def eager(name, *args):
    ns = {"torch": gpujit}
    exec(INPLACE_SRC, ns)
    return ns[name](*args)


def same(got, want):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and tuple(g.shape) == tuple(w.shape), (g, w)
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)


def test_fused_inplace_refuses_a_broadcast_past_self():
    f = script(INPLACE_SRC, "grouped")
    x, y = gpujit.from_numpy(rnd(4, 4)), gpujit.from_numpy(rnd(4, 4, seed=1))
    for _ in range(3):
        same(f(x, y), eager("grouped", x, y))
    assert gpujit.jit.last_executed_optimized_graph().findAllNodes(GROUP)
    small = gpujit.from_numpy(rnd(1, 4, seed=2))
    with pytest.raises(RuntimeError, match=r"output with shape \[1, 4\] doesn't match the "
                                           r"broadcast shape \[4, 4\]"):
        f(small, y)
    with pytest.raises(RuntimeError, match="broadcast shape"):
        f(small, y)                 # (no specialization was made for it)
    col = gpujit.from_numpy(rnd(4, 1, seed=3))      # broadcasts into z: fine
    same(f(x, col), eager("grouped", x, col))
    same(f(x, y), eager("grouped", x, y))


@pytest.mark.parametrize("name, seq", [
    ("through_if", [False, False, True, True, False, True]),
    ("through_loop", [0, 0, 1, 2, 0, 1]),
    ("unfused_write", [False, False, True, True, False]),
])
def test_inplace_keeps_self_dtype_on_a_path_not_profiled(name, seq):
    f = script(INPLACE_SRC, name)
    x, y = gpujit.from_numpy(rnd(4, 4)), gpujit.from_numpy(rnd(4, 4, seed=1))
    for flag in seq:
        same(f(x, y, flag), eager(name, x, y, flag))


def test_inplace_after_a_reader_moved_into_a_later_group():
    f = script(INPLACE_SRC, "moved_reader")
    x, y = gpujit.from_numpy(rnd(4, 4)), gpujit.from_numpy(rnd(4, 4, seed=1))
    for _ in range(3):
        same(f(x, y), eager("moved_reader", x, y))
    with pytest.raises(RuntimeError, match="broadcast shape"):
        f(gpujit.from_numpy(rnd(1, 4)), y)



# random chains of in-place writes, readers and unfusible ops on a local; later calls
# bring shapes whose writes eager refuses (z of [1, 4] += y of [4, 4]) or accepts
_WRITES = ["z.add_(y)", "z.mul_(2.0)", "z.relu_()", "z = z.sin()", "z.sub_(w, alpha=0.5)",
           "u = z.cumsum(0)", "r = r + z.exp()", "z.mul_(y).add_(1.0)", "z = z.cumsum(1)",
           "z.clamp_(-0.5, 0.5)", "u = u * z"]
_SHAPES = [((4, 4),) * 3] * 3 + [((1, 4), (4, 4), (4, 4)), ((4, 4), (4, 1), (1, 4)),
                                 ((4, 1), (4, 4), (4, 4)), ((4, 4),) * 3]


@pytest.mark.parametrize("seed", range(12))
def test_inplace_write_chains_answer_as_eager(seed):
    rng = np.random.default_rng(seed)
    body = ["z = x * 1.5", "u = x * 0.0", "r = x * 0.0"] + [
        _WRITES[i] for i in rng.integers(0, len(_WRITES), rng.integers(2, 7))]
    src = "def f(x, y, w):\n" + "".join(f"    {ln}\n" for ln in body) + "    return z, u, r\n"
    f = script(src, "f")
    ns = {"torch": gpujit}
    exec(src, ns)
    for shapes in _SHAPES:
        args = [gpujit.from_numpy(rng.standard_normal(s).astype(np.float32)) for s in shapes]
        try:
            want = ns["f"](*[a.clone() for a in args])
        except RuntimeError as e:
            with pytest.raises(RuntimeError, match=re.escape(str(e).split(":")[-1].strip())):
                f(*[a.clone() for a in args])
            continue
        same(f(*[a.clone() for a in args]), want)


# ------------------------------------------- fused code after a path the profile never saw

NEW_PATH_SRC = '''
def dtype_branch(x, flag: bool):
    if flag:
        y = x.double()
    else:
        y = x * 1.0
    with torch.jit.strict_fusion():
        z = (y * 2.0).sigmoid() + 1.0
    return z

def size_branch(x, flag: bool):
    if flag:
        y = x[:2]
    else:
        y = x * 1.0
    with torch.jit.strict_fusion():
        z = (y * 2.0).sigmoid() + 1.0
    return z

def rank_branch(x, flag: bool):
    if flag:
        y = x.sum(0)
    else:
        y = x * 1.0
    with torch.jit.strict_fusion():
        z = (y * 2.0).sigmoid() + 1.0
    return z

def loop_dtype(x, n: int):
    h = x
    for i in range(n):
        h = (h * 0.5).sigmoid().double() + 1.0
    with torch.jit.strict_fusion():
        z = (h * 2.0).tanh() - 1.0
    return z

def loop_grow(x, n: int):
    h = x
    for i in range(n):
        h = torch.cat([h, x], 0)
        with torch.jit.strict_fusion():
            h = (h * 0.5).sigmoid() + 1.0
    return h
'''

NEW_PATHS = {"dtype_branch": [False, False, True, True, True, False, False],
             "size_branch": [False, False, True, True, True, False, False],
             "rank_branch": [False, False, True, True, True, False, False],
             "loop_dtype": [0, 0, 2, 2, 1, 0, 0],
             "loop_grow": [0, 0, 2, 2, 3, 0]}


@pytest.mark.parametrize("name", sorted(NEW_PATHS))
def test_code_after_a_new_path_stays_fused(name):
    # the call that takes the new path re-profiles, merging both runs (y float32 and
    # float64, [4, 4] and [2, 4]...): the strict_fusion region after it still fuses, as
    # TorchScript's does (its fallback specializes afresh)
    f = script(NEW_PATH_SRC, name)
    ns = {"torch": gpujit}
    exec(NEW_PATH_SRC, ns)
    x = gpujit.from_numpy(rnd(4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for arg in NEW_PATHS[name]:
            same(f(x, arg), ns[name](x, arg))
    report = str(f.fusion_report(x, NEW_PATHS[name][2]))
    assert "prim::TensorExprGroup" in report, report


def test_profiling_runs_of_different_sizes_still_fuse():
    # two profiling runs merge [4, 4] and [6, 6] into unknown sizes: nothing fused at all
    # (TorchScript does not fuse this either; gpujit types the groups as the latest run)
    old = gpujit.jit.set_profiling_runs(2)
    try:
        f = script("def f(x, y):\n    return (x * y + 1.0).sigmoid() * x\n", "f")
        for shape in [(4, 4), (6, 6), (6, 6), (4, 4), (2, 3)]:
            x = gpujit.from_numpy(rnd(*shape))
            same(f(x, x), (x * x + 1.0).sigmoid() * x)
        assert "prim::TensorExprGroup" in str(f.fusion_report(x, x))
    finally:
        gpujit.jit.set_profiling_runs(old)

