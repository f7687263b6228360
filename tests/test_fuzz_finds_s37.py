"""Scripted programs' run-time values (helper a37, session 37), checked against
torch.jit.script 2.13 (x86-64); the expected values and words are torch's, written out.

1. TorchScript's DCE drops a list write nothing can see, by its AliasDb: a new list's
   (`ys = list(xs)`, `xs + xs`, `[1, 2]` extended by `+= xs`) `del ys[3]` / `append` with
   ys unused after it goes, so a failing `del` never raises (torch returns 1; gpujit raised
   IndexError: its alias analysis took list(xs) / xs + xs / extend's result for a part of
   the argument xs, a graph input). And a list's `+=` is aten::add_.t, whose schema
   `(t[](a!) self, t[] b) -> t[]` has no alias annotation on its return: TorchScript's
   AliasDb takes the name's new value for a new list, so a later `del xs[0]` or
   `xs.append(2)` that nothing reads is dropped even on the caller's list
   (`xs += list(xs + xs); del xs[0]; if v or True: raise RuntimeError("oops")` with
   xs = [] raises "oops": GPUJIT_PROGRAM_FUZZ_SEED=36051, test_program_fuzz_s24b k=91,
   gpujit raised IndexError; `ys = xs; xs += [1]; xs.append(2); return len(ys)` is 2).
   `xs *= 2` (aten::mul_.t, `-> t[](a!)`) and a direct `del xs[0]` of the argument stay.
2. A scripted module's list / dict / script-class object attribute read from Python is a
   new value per read (TorchScript's toPyObject of the module's IValue): `m.xs.append(2)`,
   `m.d["b"] = 2`, `m.p.x = 5` (also through `p = m.p`) change nothing the module sees
   (`m(0)` stays 3 where gpujit gave 9), `m.xs is m.xs` is False; assigning from Python
   converts (`m.xs = ys; ys.append(5)` leaves m.xs alone). What scripted code stores
   stays an alias (`ys = [7]; self.o = ys; ys.append(8)` gives self.o [7, 8]), and its
   own writes (`self.xs.append(...)`) are seen by the next read. A dict or tuple that does
   not convert names the key / element that fails: `m.d = {1: 2}` for a Dict[str, int]
   says "Python instance of type <class 'int'>", `m.tup = (3, "a")` "<class 'str'>".
3. A list a scripted method stores (`ys = [7]; self.o = ys; ys.append(8)`) is the
   attribute: torch's self.o is [7, 8]; gpujit's optimized runs stored a copy (the
   generated code's box of a list of ints made a new list) and kept [7].
4. Scripted modules of one concrete type share one ClassType and its methods, as
   TorchScript's: `net.blocks[0].helper(5)` runs when only blocks[1].helper was compiled
   (forward calls it); gpujit raised AttributeError. `a.forward.graph is b.forward.graph`
   for two scripted Blocks (their int attribute differs, not their type).
5. (test_program_fuzz_s22's gradient check, GPUJIT_PROGRAM_FUZZ_SEED=37004, seed
   37004*100003+250003, a 0-d x2) the backward of sigmoid / tanh of a 0-d float32 or
   float64 tensor raised TypeError "return arrays must be of ArrayType": their raw NumPy
   formulas write `out=` into a ufunc's result, a NumPy scalar for 0-d arrays. torch:
   `torch.sigmoid(torch.tensor(0.7, requires_grad=True))` backward gives 0.2217.
6. (test_program_fuzz_s23, GPUJIT_PROGRAM_FUZZ_SEED=37005) an in-place op on an expanded
   view of a leaf that requires grad (`v1.expand(2, -1).addcmul_(t, t)`): torch's
   autograd check runs before the kernel's, "a view of a leaf Variable that requires grad
   is being used in an in-place operation."; gpujit said "more than one element of the
   written-to tensor refers to a single memory location" (still the words without grad).
7. (mode 8, GPUJIT_PROGRAM_FUZZ_SEED=37001, seed 3703911019: `x -= (-9223372036854775807 -
   b)` makes x 2.0**63, then `math.ceil(x)`) math.floor / math.ceil of exactly 2.0**63:
   c10's range check compares with (double)INT64_MAX, which rounds to 2**63, and lets it
   through; torch gives -9223372036854775808 (floor) and -9223372036854775807 (ceil: floor's
   int plus 1); gpujit raised "Cannot convert float 9223372036854775808.000000 to
   integer" (still the error past 2**63, 9223372036854777856.0).
8. (mode 8, GPUJIT_PROGRAM_FUZZ_SEED=37002, seed 3704011021) `self.a = a` inside a loop
   that holds a `return` (the loop carries every variable, `self` too): gpujit refused it,
   "a M is not a module known here"; torch runs it (`while v9 < 5: v9 += 1; a += 1; if
   True: self.a = a; return a` gives 2, then 3, and m.a 3).
9. (mode 8, GPUJIT_PROGRAM_FUZZ_SEED=37033, seed 3707111121) TorchScript decides `v or True`
   (True) and `v and False` (False) at compile time, as `True` itself, and compiles only
   the taken branch: `b if (v5 or True) else s` of an int b and a str s is b, `if v5 or
   True: y = b` / `else: y = s` gives y an int; v5 still runs first (a call in it that
   raises raises). gpujit refused ("the two values of a conditional expression have
   different types"). `v or False` / `True and v` stay undecided: torch refuses the int /
   str pair there, "if-expression's true branch has type int but false branch has type
   str" (now gpujit's words too).
10. (mode 8, GPUJIT_PROGRAM_FUZZ_SEED=37047, seed 3708511141) a raise that becomes
   unconditional only by constant propagation (`assert "abc".strip() == "abc" + "a,b"`)
   leaves the code after it in TorchScript's graph (its exit transform only cuts after
   raises known when compiling), so an earlier `v1 = [v2 * 2.0 for v2 in fs][-1]` whose
   value only that code reads still runs and raises "list index out of range" (fs = []),
   before `xs.append(1)`; gpujit's DCE cut the code after every raise and dropped v1,
   raising the assert (and appending). Raises known when compiling (`raise`, `if v or
   True: raise`) still end the code there, in the frontend.

The last test runs mode 8 of the program fuzzer (tests/program_fuzz_gen_m.py: mode 5's
programs as a scripted module's forward over its attributes) against torch.jit.script
(skipped without torch): GPUJIT_PROGRAM_FUZZ_M=<n> programs (default 2),
GPUJIT_PROGRAM_FUZZ_SEED=<int> for others. Mode 5's known differences (the docstring of
tests/test_program_fuzz_s24b.py) show here too: `v7 = (-0.0 * x)` next to a 0.0 constant
is 0.0 in TorchScript (its ConstantPooling merges -0.0 into 0.0), -0.0 in gpujit
(GPUJIT_PROGRAM_FUZZ_SEED=37026, seed 3706411117).
"""
import math
import os
from typing import Dict, List, Optional

import pytest

import gpujit as torch


# ---------------------------------------------------------------- 1. DCE of list writes

def _iadd_then_del(xs: List[int], v: bool) -> List[int]:
    xs += list(xs + xs)
    del xs[0]
    if v or True:
        raise RuntimeError("oops")
    return xs


def _iadd_then_append(xs: List[int]) -> int:
    ys = xs
    xs += [1]
    xs.append(2)
    return len(ys)


def _iadd_then_append_returned(xs: List[int]) -> List[int]:
    ys = xs
    xs += [1]
    xs.append(2)
    return ys


def _iadd_then_del_unused(xs: List[int]) -> int:
    xs += [1]
    del xs[7]
    return 1


def _copy_then_del(xs: List[int]) -> int:
    ys = list(xs)
    del ys[3]
    return 1


def _literal_extended_then_del(xs: List[int]) -> int:
    ys = [1, 2]
    ys += xs
    del ys[7]
    return 1


def _sum_then_append_del(xs: List[int]) -> int:
    ys = xs + xs
    ys.append(1)
    del ys[7]
    return 1


def _del_of_the_argument(xs: List[int], v: bool) -> List[int]:
    del xs[0]
    if v or True:
        raise RuntimeError("oops")
    return xs


def _imul_then_del(xs: List[int]) -> int:
    xs *= 2
    del xs[7]
    return 1


def _pop_of_the_argument(xs: List[int], v: bool) -> int:
    xs.pop(0)
    if v or True:
        raise RuntimeError("oops")
    return 1


def _local_del_then_raise(xs: List[int], v: bool) -> List[int]:
    ys = list(xs)
    del ys[0]
    if v or True:
        raise RuntimeError("oops")
    return xs


def _nested_copy_element_written(xs: List[List[int]]) -> int:
    ys = list(xs)
    ys[0].append(5)          # (an element of the caller's list: stays)
    return 0


def test_dead_writes_to_a_list_torch_takes_for_new_are_dropped():
    for fn in (_iadd_then_del, _local_del_then_raise):
        f = torch.jit.script(fn)
        for _ in range(2):          # (the profiling run and an optimized one)
            with pytest.raises(torch.jit.Error, match="oops"):
                f([], True)
    for fn in (_iadd_then_del_unused, _copy_then_del, _literal_extended_then_del,
               _sum_then_append_del):
        f = torch.jit.script(fn)
        assert f([5]) == 1 and f([5]) == 1
    f = torch.jit.script(_iadd_then_append)
    assert f([5]) == 2 and f([5]) == 2
    f = torch.jit.script(_iadd_then_append_returned)
    assert f([5]) == [5, 1] and f([5]) == [5, 1]
    assert "aten::pop" not in str(torch.jit.script(_copy_then_del).graph)


def test_writes_to_the_argument_or_its_elements_stay():
    for fn in (_del_of_the_argument, _pop_of_the_argument):
        f = torch.jit.script(fn)
        with pytest.raises(RuntimeError) as e:
            f([], True)
        assert not isinstance(e.value, torch.jit.Error)
    f = torch.jit.script(_imul_then_del)
    with pytest.raises(RuntimeError, match="out of range"):
        f([5])
    xs = [[1], [2]]
    f = torch.jit.script(_nested_copy_element_written)
    assert f(xs) == 0
    assert "aten::append" in str(f.graph)


# ---------------------------------------------------------------- 2. attributes from Python

@torch.jit.script
class _P(object):
    def __init__(self, x: int):
        self.x = x
        self.ys: List[int] = [x]


class _Attrs(torch.nn.Module):
    o: Optional[List[int]]

    def __init__(self):
        super().__init__()
        self.xs: List[int] = [1]
        self.d: Dict[str, int] = {"a": 1}
        self.p = _P(1)
        self.n = 3
        self.t = torch.ones(2)
        self.tup = (1, 2)
        self.o = None

    def forward(self, x: int) -> int:
        return self.p.x + len(self.xs) + len(self.d) + x

    @torch.jit.export
    def grow(self) -> int:
        self.xs.append(len(self.xs))
        self.p.x += 1
        self.p.ys.append(self.p.x)
        ys = [7]
        self.o = ys
        ys.append(8)
        return len(self.xs)


def test_attributes_read_from_python_are_copies():
    m = torch.jit.script(_Attrs())
    assert m.xs == [1] and m.d == {"a": 1} and m.p.x == 1 and type(m.p).__name__ == "_P"
    assert m.xs is not m.xs and m.d is not m.d and m.p is not m.p
    assert m.t is m.t
    m.xs.append(2)
    m.d["b"] = 2
    m.p.x = 5
    p = m.p
    p.x = 7
    assert (m.xs, m.d, m.p.x) == ([1], {"a": 1}, 1)
    assert m(0) == 3 and m(0) == 3
    m.xs = [1, 2, 3]
    assert m.xs == [1, 2, 3] and m(0) == 5
    ys = [4]
    m.xs = ys
    ys.append(5)
    assert m.xs == [4] and m(0) == 3
    m.p = _P(10)
    assert m.p.x == 10 and m(0) == 12


def test_what_scripted_code_writes_is_seen_by_the_next_read():
    m = torch.jit.script(_Attrs())
    for k in range(3):                 # (profiling and optimized runs)
        assert m.grow() == k + 2
    assert m.xs == [1, 1, 2, 3] and m.p.x == 4 and m.p.ys == [1, 2, 3, 4]
    assert m.o == [7, 8]
    assert m(0) == 4 + 4 + 1


def test_attribute_assignment_that_does_not_convert_names_the_failing_part():
    m = torch.jit.script(_Attrs())
    with pytest.raises(RuntimeError, match="Could not cast attribute 'd' to type Dict\\[str, "
                                           "int\\]: Unable to cast Python instance of type "
                                           "<class 'int'>"):
        m.d = {1: 2}
    with pytest.raises(RuntimeError, match="Could not cast attribute 'tup' to type Tuple\\[int, "
                                           "int\\]: Unable to cast Python instance of type "
                                           "<class 'str'>"):
        m.tup = (3, "a")
    with pytest.raises(RuntimeError, match="Could not cast attribute 'xs' to type List\\[int\\]: "
                                           "Unable to cast Python instance of type "
                                           "<class 'list'>"):
        m.xs = ["a"]
    m.tup = (3, 4)
    assert m.tup == (3, 4) and m.xs == [1]


def test_a_saved_and_loaded_module_reads_copies_too():
    import io
    m = torch.jit.script(_Attrs())
    m.grow()
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    m2 = torch.jit.load(buf)
    m2.xs.append(100)
    assert m2.xs == [1, 1] and m2.grow() == 3 and m2.xs == [1, 1, 2]
    f = torch.jit.freeze(torch.jit.script(_Attrs()).eval(), preserved_attrs=["grow"])
    assert f.grow() == 2 and f.grow() == 3


# ---------------------------------------------------------------- 4. one type, its methods

class _Block(torch.nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k
        self.lin = torch.nn.Linear(4, 4)

    def helper(self, x: int, y: int = 10) -> int:
        return x + self.k + y

    def forward(self, x):
        return self.lin(x) * self.k


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = torch.nn.ModuleList([_Block(1), _Block(2)])

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x + self.blocks[1].helper(3)


def test_modules_of_one_type_share_their_compiled_methods():
    n = torch.jit.script(_Net())
    assert n.blocks[0].helper(5) == 16 and n.blocks[1].helper(5, 0) == 7
    assert hasattr(n.blocks[0], "helper")
    a, b = torch.jit.script(_Block(1)), torch.jit.script(_Block(2))
    assert a.forward.graph is b.forward.graph
    x = torch.ones(1, 4)
    assert torch.allclose(b(x), b.lin(x) * 2) and torch.allclose(a(x), a.lin(x))
    c = torch.jit.script(_Block(3.5))        # (a float k: another type)
    assert c.forward.graph is not a.forward.graph
    assert torch.allclose(c(x), c.lin(x) * 3.5)


# ---------------------------------------------------------------- 5. 0-d backward

@pytest.mark.parametrize("name", ["sigmoid", "tanh", "exp", "sqrt", "rsqrt", "reciprocal",
                                  "sin", "log", "erf"])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_backward_of_a_0d_input(name, dt):
    import numpy as np
    x = torch.tensor(0.7, dtype=getattr(torch, dt), requires_grad=True)
    getattr(torch, name)(x).double().sum().backward()
    eps = 1e-6
    f = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "rsqrt": lambda v: v ** -0.5,
         "reciprocal": lambda v: 1 / v,
         "erf": lambda v: np.vectorize(__import__("math").erf)(v)}.get(name) or \
        getattr(np, name)
    want = (f(0.7 + eps) - f(0.7 - eps)) / (2 * eps)
    assert x.grad.shape == () and x.grad.dtype == x.dtype
    assert abs(float(x.grad) - want) < 1e-4


# ---------------------------------------------------------------- 6. leaf view before overlap

@pytest.mark.parametrize("op", ["addcmul_", "add_", "mul_", "zero_", "index_put_"])
def test_an_expanded_view_of_a_leaf_says_leaf_view_first(op):
    v1 = torch.ones(3, requires_grad=True)
    t = torch.ones(2, 3)
    args = {"addcmul_": (t, t), "add_": (t,), "mul_": (2,), "zero_": (),
            "index_put_": ([torch.tensor([0])], torch.tensor(2.5))}[op]
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad "
                                           "is being used in an in-place operation"):
        getattr(v1.expand(2, -1), op)(*args)
    if op in ("zero_", "index_put_"):
        return          # (torch writes these into an expanded tensor without grad)
    with torch.no_grad():
        with pytest.raises(RuntimeError, match="more than one element of the written-to"):
            getattr(v1.expand(2, -1), op)(*args)


# ---------------------------------------------------------------- 7. floor / ceil of 2**63

def _floor(x: float) -> int:
    return math.floor(x)


def _ceil(x: float) -> int:
    return math.ceil(x)


def test_floor_and_ceil_of_two_to_the_63():
    f, c = torch.jit.script(_floor), torch.jit.script(_ceil)
    assert f(2.0 ** 63) == -9223372036854775808 and c(2.0 ** 63) == -9223372036854775807
    assert f(-2.0 ** 63) == c(-2.0 ** 63) == -9223372036854775808
    assert f(9.2233720368547748e18) == c(9.2233720368547748e18) == 9223372036854774784
    for fn in (f, c):
        with pytest.raises(RuntimeError, match="Cannot convert float "
                                               "9223372036854777856.000000 to integer"):
            fn(9223372036854777856.0)


# ---------------------------------------------------------------- 8. self carried by a loop

class _ReturnInLoop(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = 1

    def forward(self) -> int:
        a = self.a
        v9 = 0
        while v9 < 5:
            v9 += 1
            a += 1
            if True:
                self.a = a
                return a
        return 0


class _ReturnInFor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = 1
        self.xs: List[int] = [0]

    def forward(self) -> int:
        a = self.a
        for i in range(3):
            a += 1
            if a > 2:
                self.a = a
                self.xs.append(a + i)
                return a
        return 0


def test_a_module_attribute_set_in_a_loop_that_returns():
    m = torch.jit.script(_ReturnInLoop())
    assert (m(), m(), m.a) == (2, 3, 3)
    n = torch.jit.script(_ReturnInFor())
    assert (n(), n(), n(), n.a, n.xs) == (3, 4, 5, 5, [0, 4, 4, 5])


# ---------------------------------------------------------------- 9. `v or True` is True

def _boom(x: int) -> bool:
    if x > 0:
        raise ValueError("boom")
    return True


def _or_true(b: int, s: str, v5: bool) -> str:
    return str(b if (v5 or True) else s)


def _and_false(b: int, s: str, v5: bool) -> str:
    return str(b if not (v5 and False) else s) + str(b if (v5 and False) else s)


def _or_true_statement(b: int, s: str, v5: bool) -> str:
    if v5 or True or v5:
        y = b
    else:
        y = s
    return str(y)


def _prefix_runs(b: int, s: str, v5: bool) -> str:
    return str(b if (_boom(b) or True) else s)


def _or_false(b: int, s: str, v5: bool) -> str:
    return str(b if (v5 or False) else s)


def test_or_true_and_and_false_are_decided_when_compiling():
    assert torch.jit.script(_or_true)(3, "x", False) == "3"
    assert torch.jit.script(_and_false)(3, "x", True) == "3x"
    assert torch.jit.script(_or_true_statement)(3, "x", False) == "3"
    f = torch.jit.script(_prefix_runs)
    assert f(0, "x", False) == "0"
    with pytest.raises(Exception, match="boom"):
        f(3, "x", False)
    with pytest.raises(Exception, match="if-expression's true branch has type int but "
                                        "false branch has type str"):
        torch.jit.script(_or_false)


# ---------------------------------------------------------------- 10. a folded assert

def _folded_assert(fs: List[float], xs: List[int]) -> List[str]:
    tr: List[str] = []
    v1 = [v2 * 2.0 for v2 in fs][-1]
    tr.append(str(v1))
    xs.append(1)
    v3 = "abc"
    assert (v3.strip() == (v3 + "a,b"))
    return tr


def _raise_known_when_compiling(s: str, v: int) -> List[str]:
    tr: List[str] = []
    tr.append(str(float(s)))
    if v or True:
        raise RuntimeError("oops")
    return tr


def test_a_raise_folded_later_keeps_the_code_before_it_alive():
    f = torch.jit.script(_folded_assert)
    for _ in range(3):
        with pytest.raises(RuntimeError, match="out of range"):
            f([], [5])
    with pytest.raises(torch.jit.Error):
        f([1.0], [5])
    g = torch.jit.script(_raise_known_when_compiling)
    with pytest.raises(torch.jit.Error, match="oops"):
        g("ab c", 1)          # (float("ab c") is dead: the raise ends the code)
    assert "aten::Float" not in str(g.graph)


# ---------------------------------------------------------------- mode 8 itself

_N_M = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_M", "2"))
_SEED_M = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SEED", "0"))
_CALLS_M = 3


def _module_runs(src, args, lib, load_module, run_one):
    """Results of _CALLS_M forward calls of the scripted M(*args) (each: the call's result
    and the attributes Python reads after it), or "refused" where scripting fails."""
    import copy
    mod = load_module(src, lib)
    try:
        m = lib.jit.script(mod.M(*copy.deepcopy(args)))
    except Exception:               # noqa: BLE001 - not TorchScript: skipped
        return "refused"
    out = []
    for _ in range(_CALLS_M):
        r = run_one(m.forward, ())
        out.append((r[0], r[1] if r[0] == "ok" else (r[1][0], r[3]),
                    _attrs_of(m)))
    return out


def _attrs_of(m):
    from test_program_fuzz_s24b import norm
    return norm([getattr(m, n) for n in ("a", "b", "x", "s", "xs", "fs", "ss", "d", "o")])


def test_random_module_programs_match_torchscript():
    pytest.importorskip("torch")
    import importlib
    import itertools
    import pickle
    import signal
    import sys
    import tempfile
    import warnings
    import gpujit
    import test_program_fuzz_s24b as e
    from program_fuzz_gen_m import program_m
    tmp = tempfile.mkdtemp(prefix="gpujit_program_fuzz_m_")
    sys.path.insert(0, tmp)
    counter = itertools.count()

    def load_module(src, lib):
        name = f"gpujit_program_fuzz_m_{next(counter)}"
        with open(f"{tmp}/{name}.py", "w") as fh:
            fh.write(e._HEAD.format(lib=lib.__name__) + src)
        return importlib.import_module(name)

    refused = 0
    for k in range(_N_M):
        seed = (_SEED_M * 100003 + 3700000 + k) if _SEED_M else 3700000 + k
        src, calls, _ = program_m(seed)
        for args in calls[:2]:
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(r)
                    signal.alarm(e._LIMIT_S)
                    import torch as _torch
                    res = _module_runs(src, args, _torch, load_module, e.run)
                    with os.fdopen(w, "wb") as fh:
                        pickle.dump(res, fh)
                finally:
                    os._exit(0)
            os.close(w)
            with os.fdopen(r, "rb") as fh:
                data = fh.read()
            os.waitpid(pid, 0)
            want = pickle.loads(data) if data else None
            if want is None or want == "refused":
                refused += 1
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = _module_runs(src, args, gpujit, load_module, e.run_limited)
            where = f"\nseed {seed}, args {args!r}\n{src}"
            assert got != "refused", f"gpujit refused the module{where}"
            for i, (g, w_) in enumerate(zip(got, want)):
                if w_[0] == "ok":
                    assert g == w_, f"call {i}: gpujit {g}\ntorch {w_}{where}"
                else:
                    assert g[0] == "err", f"call {i}: gpujit {g}, torch raised {w_}{where}"
                    assert g[2] == w_[2], f"call {i}: attributes after the error: {g[2]} " \
                                          f"torch {w_[2]}{where}"
    print(f"mode 8: {_N_M} programs, {refused} calls skipped (torch refused or died)")
