"""A mutation fuzzer of the script frontend's errors: valid scripted programs (the program
generators' functions, tests/program_fuzz_gen.py and tests/program_fuzz_gen_e.py) are
mutated into programs that are mostly wrong or outside TorchScript: annotations changed
(int -> str, Tensor -> int, List[int] -> List[str], Optional[...]), an argument of a call
swapped for one of another type, a return of another type in one branch, undefined names,
statements TorchScript does not have (global, nonlocal, del of an attribute, try / except /
finally, with open(...), lambda, yield, async def, :=, match, *args, **kwargs, set and dict
comprehensions, f-strings with format specs, nested functions, recursion), chained
comparisons of tensors, slicing with steps, calls with a wrong arity or an unknown keyword,
attributes of unknown modules.

For each mutant gpujit.jit.script must either raise a FrontendError (a RuntimeError) whose
message is not an "internal error", shows the user's file and marks a line with
`<--- HERE`, or compile; a compiled mutant is called, and where torch is installed and
torch.jit.script accepts the same text the results (or the error classes) must agree with
TorchScript's. A run never raises an AttributeError / KeyError / IndexError / TypeError /
AssertionError / RecursionError from gpujit's own code (a user's `raise` / `assert` and a
bad argument are TorchScript's errors, not crashes).

GPUJIT_SCRIPT_ERROR_FUZZ=<n> mutants (default 10), GPUJIT_SCRIPT_ERROR_FUZZ_SEED=<int> for
other mutants than the fixed ones. `python tests/test_script_errors_s31.py <seed> <n>`
prints every mutant that fails the checks."""
from __future__ import annotations

import ast
import copy
import importlib
import importlib.util
import itertools
import math
import os
import pickle
import random
import signal
import sys
import tempfile
import traceback
import warnings
from typing import List

import numpy as np
import pytest

import gpujit
import gpujit as torch
from gpujit.jit import FrontendError

sys.path.insert(0, os.path.dirname(__file__))
from program_fuzz_gen import program          # noqa: E402
from program_fuzz_gen_e import program_e      # noqa: E402

_DIR = tempfile.mkdtemp(prefix="gpujit_script_errors_s31_")
sys.path.insert(0, _DIR)
_COUNTER = itertools.count()
HEAD = ("import math\nfrom enum import Enum\n"
        "from typing import Dict, List, NamedTuple, Optional, Tuple, Union\n"
        "import {lib} as torch\n\n\n")
_HEAD_LINES = HEAD.count("\n")

_CRASH = (AttributeError, KeyError, IndexError, TypeError, AssertionError, RecursionError,
          NameError, UnboundLocalError, ValueError, ZeroDivisionError, NotImplementedError)


# ====================================================== the corpus

def base_program(seed):
    """(source of a module whose entry point is f, argument tuples builder(lib)) of a valid
    program: every other seed a non-tensor one (program_e), else a tensor one (program)."""
    r = random.Random(seed)
    if seed % 2:
        src, calls, _ = program_e(r.randrange(1 << 30))
        calls = calls[:2]
        return src, (lambda lib: [copy.deepcopy(c) for c in calls])
    src, _ = program(r.randrange(1 << 30))
    A, B = 3, 4

    def calls(lib):
        rs = np.random.RandomState(seed % (1 << 31))
        xs = [lib.tensor(rs.randn(*sh).astype(np.float32)) for sh in ((A, B), (A, B), (B,), (A, B))]
        return [(xs[0], xs[1], xs[2], xs[3], 0.5, 2), (xs[0], xs[1], xs[2], None, -1.5, 0)]
    return src, calls


# ====================================================== the mutations

def _defs(tree):
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]


def _f(tree):
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "f")


def _stmt_lists(fn):
    """Every statement list of fn (its body, if / for / while bodies), with their owner."""
    out = []
    for n in ast.walk(fn):
        for field in ("body", "orelse"):
            body = getattr(n, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                out.append(body)
    return out


def _insert(fn, r, stmts):
    """Insert the statements somewhere in fn (before a random statement)."""
    body = r.choice(_stmt_lists(fn))
    i = r.randrange(len(body))
    body[i:i] = stmts
    return True


def _params(fn):
    return [a for a in fn.args.args]


def _expr(text):
    return ast.parse(text, mode="eval").body


def _stmts(text):
    return ast.parse(text).body


_ANN_SWAPS = {
    "int": ["str", "Tensor", "List[int]", "Optional[int]", "float", "bool", "Tuple[int, int]"],
    "float": ["int", "str", "List[float]", "Optional[float]", "Tensor"],
    "bool": ["int", "str", "Optional[bool]"],
    "str": ["int", "List[str]", "Optional[str]", "Tensor"],
    "List[int]": ["List[str]", "List[float]", "int", "Tuple[int]", "Optional[List[int]]",
                  "Dict[str, int]"],
    "List[float]": ["List[int]", "List[str]", "float"],
    "List[str]": ["List[int]", "str", "Dict[str, str]"],
    "Dict[str, int]": ["Dict[int, int]", "Dict[str, str]", "List[int]"],
    "Optional[int]": ["int", "Optional[str]", "Optional[Tensor]"],
    "torch.Tensor": ["int", "float", "List[torch.Tensor]", "Optional[torch.Tensor]", "str"],
    "Optional[torch.Tensor]": ["torch.Tensor", "int", "Optional[int]"],
}


def m_param_annotation(tree, r):
    fn = _f(tree)
    ps = [a for a in _params(fn) if a.annotation is not None]
    if not ps:
        return False
    p = r.choice(ps)
    old = ast.unparse(p.annotation)
    new = r.choice(_ANN_SWAPS.get(old, ["int", "str", "List[str]"]))
    p.annotation = _expr(new)
    return True


def m_drop_annotation(tree, r):
    fn = _f(tree)
    ps = [a for a in _params(fn) if a.annotation is not None]
    if not ps:
        return False
    r.choice(ps).annotation = None
    return True


def m_return_annotation(tree, r):
    fn = _f(tree)
    fn.returns = _expr(r.choice(["int", "str", "torch.Tensor", "List[int]", "Tuple[int, str]",
                                 "Optional[float]", "Dict[str, int]", "None", "bool"]))
    return True


def _calls(fn):
    return [n for n in ast.walk(fn) if isinstance(n, ast.Call)]


_WRONG = ["'abc'", "[1.0, 2.0]", "None", "(1, 2)", "{'a': 1}", "1.5", "True", "[]", "torch.ones(2)"]


def m_wrong_arg(tree, r):
    cs = [c for c in _calls(_f(tree)) if c.args]
    if not cs:
        return False
    c = r.choice(cs)
    c.args[r.randrange(len(c.args))] = _expr(r.choice(_WRONG))
    return True


def m_arity(tree, r):
    cs = _calls(_f(tree))
    if not cs:
        return False
    c = r.choice(cs)
    k = r.randrange(3)
    if k == 0 and c.args:
        c.args.pop(r.randrange(len(c.args)))
    elif k == 1:
        c.args.append(_expr(r.choice(["1", "x" if False else "2.5", "'s'"])))
    else:
        c.keywords.append(ast.keyword(arg=r.choice(["bogus", "dim", "out", "alpha", "key"]),
                                      value=_expr(r.choice(["1", "True", "'a'"]))))
    return True


def m_branch_return(tree, r):
    fn = _f(tree)
    p = r.choice(_params(fn)).arg
    val = r.choice(["'oops'", "1", "2.5", "None", "[1]", "(1, 2)", "torch.zeros(1)"])
    return _insert(fn, r, _stmts(f"if {p} is None:\n    return {val}"
                                 if r.random() < 0.3 else
                                 f"if bool({p}):\n    return {val}"))


def _names(fn):
    return [n for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            and n.id not in ("torch", "math", "List", "Dict", "Optional", "Tuple", "Union")]


def m_undefined(tree, r):
    ns = _names(_f(tree))
    if not ns:
        return False
    r.choice(ns).id = r.choice(["undefined_name", "np", "xx", "self"])
    return True


def m_unknown_attr(tree, r):
    fn = _f(tree)
    texts = ["torch.no_such_op({p})", "math.no_such_fn({p})", "numpy.sum({p})",
             "torch.nn.functional.no_such({p})", "{p}.no_such_method()", "{p}.no_such_attr",
             "torch.linalg.no_such({p})", "os.getcwd()", "torch.jit.no_such({p})"]
    p = r.choice(_params(fn)).arg
    t = r.choice(texts).format(p=p)
    return _insert(fn, r, _stmts(f"zz = {t}"))


_UNSUPPORTED = [
    "global GG\nGG = 1",
    "def inner():\n    nonlocal {p}\n    {p} = 1\ninner()",
    "del {p}.attr",
    "del {p}",
    "try:\n    zz = {p}\nexcept Exception:\n    zz = {p}",
    "try:\n    zz = {p}\nfinally:\n    pass",
    "with open('x') as fh:\n    zz = fh.read()",
    "g = lambda v: v\nzz = g({p})",
    "yield {p}",
    "zz = (yy := {p})",
    "match {p}:\n    case 1:\n        zz = 1\n    case _:\n        zz = 2",
    "zz = print(*[{p}])",
    "zz = {{v for v in range(3)}}",
    "zz = {{v: v for v in range(3)}}",
    "zz = f'{{{p}:>10}}'",
    "zz = f'{{{p}!r}}'",
    "zz = 1 < {p} < 3",
    "zz = {p}[::2]",
    "zz = {p}[::-1]",
    "def inner(v):\n    return v\nzz = inner({p})",
    "zz = f({p})",
    "assert {p}, 'msg'",
    "zz = [v for v in range(3) if v]",
    "zz = [a for a, b in [(1, 2)]]",
    "import os",
    "from math import sqrt",
    "zz = {p} if {p} else {p}",
    "class C:\n    pass",
    "zz = {{1, 2}}",
    "zz = ...",
    "zz = 1j",
    "zz = b'x'",
    "zz: int = 'a'",
    "zz = {p}\nzz = 'str'",
    "raise ValueError('bad')",
    "raise",
    "for i in range(3):\n    pass\nelse:\n    zz = 1",
    "while False:\n    pass\nelse:\n    zz = 1",
    "zz = [*[1], 2]",
    "zz = {{**{{'a': 1}}}}",
    "zz = dict(a=1)",
    "zz = sorted([3, 1], key=abs)",
    "zz = torch.tensor([1.0])\nzz.foo = 3",
    "zz = {p}.__class__",
    "zz = type({p})",
    "zz = isinstance({p}, (int, str))",
    "zz = {p} is {p}",
    "zz = not {p}",
    "zz = {p} @ {p}",
    "zz = {p} and {p}",
    "zz = getattr({p}, 'shape')",
    "zz = hasattr({p}, 'shape')",
    "zz = {p}, *[1]",
    "zz = print({p}, sep='')",
    "zz = print({p}, file=None)",
    "a1, *a2 = [1, 2, 3]",
    "(a1, a2) = {p}",
    "a1 = a2 = {p}",
    "{p} += {p}",
    "{p}[0] = 1",
    "{p}.x = 1",
    "zz = range(3)[1]",
    "zz = list(range(3))[::0]",
    "zz = 'a' * {p}",
    "zz = [1, 2][{p}]",
    "zz = {p}.shape",
    "zz = str.upper('a')",
    "zz = int.from_bytes(b'a', 'big')",
    "zz = math.pi()",
    "zz = torch.float32(1)",
    "zz = torch.Tensor",
    "zz = len()",
    "zz = max()",
    "zz = abs({p}, {p})",
    "zz = torch.jit.annotate(List[int])",
    "zz = torch.jit.annotate(int, 'a')",
    "zz = torch.jit.annotate(Unknown, 1)",
    "zz: Foo = 1",
    "zz: List = []",
    "zz: Optional = None",
    "zz: Dict[int] = {{}}",
    "zz: Tuple[int, ...] = (1,)",
    "zz = torch.jit.isinstance({p}, List[int])",
    "zz = torch.jit.isinstance({p}, Foo)",
    "zz = isinstance({p}, Foo)",
]


def m_unsupported(tree, r):
    fn = _f(tree)
    p = r.choice(_params(fn)).arg
    text = r.choice(_UNSUPPORTED).format(p=p)
    return _insert(fn, r, _stmts(text))


def m_async(tree, r):
    fn = _f(tree)
    i = tree.body.index(fn)
    new = ast.AsyncFunctionDef(**{k: getattr(fn, k) for k in fn._fields if k != "type_comment"})
    tree.body[i] = new
    return True


def m_varargs(tree, r):
    fn = _f(tree)
    k = r.randrange(3)
    if k == 0:
        fn.args.vararg = ast.arg(arg="rest")
    elif k == 1:
        fn.args.kwarg = ast.arg(arg="kw")
    else:
        fn.args.kwonlyargs.append(ast.arg(arg="kk", annotation=_expr("int")))
        fn.args.kw_defaults.append(None)
    return True


def m_default(tree, r):
    fn = _f(tree)
    n = len(fn.args.args)
    fn.args.defaults = [_expr(r.choice(["[]", "'a'", "None", "1", "torch.ones(1)", "{}"]))]
    return n > 0


def m_subscript(tree, r):
    subs = [n for n in ast.walk(_f(tree)) if isinstance(n, ast.Subscript)
            and isinstance(n.ctx, ast.Load)]
    if not subs:
        return False
    s = r.choice(subs)
    s.slice = _expr(r.choice(["'k'", "1.5", "None", "(1, 2)", "[0, 1]", "::0", "1:2:0",
                              "..., None", "True", "-100"]).replace("::0", "0").replace(
        "1:2:0", "0")) if r.random() < 0.5 else ast.Slice(
        lower=None, upper=None, step=_expr(r.choice(["2", "-1", "0", "'a'"])))
    return True


def m_compare_chain(tree, r):
    cs = [n for n in ast.walk(_f(tree)) if isinstance(n, ast.Compare)]
    if not cs:
        return False
    c = r.choice(cs)
    c.ops.append(r.choice([ast.Lt(), ast.Eq(), ast.In(), ast.Is()]))
    c.comparators.append(copy.deepcopy(c.left))
    return True


def m_binop(tree, r):
    bs = [n for n in ast.walk(_f(tree)) if isinstance(n, ast.BinOp)]
    if not bs:
        return False
    b = r.choice(bs)
    k = r.randrange(3)
    if k == 0:
        b.op = r.choice([ast.MatMult(), ast.LShift(), ast.BitXor(), ast.Pow(), ast.Mod(),
                         ast.FloorDiv(), ast.Div()])
    elif k == 1:
        b.right = _expr(r.choice(_WRONG))
    else:
        b.left = _expr(r.choice(_WRONG))
    return True


def m_swap_helper(tree, r):
    """Call another function of the module (or f itself: recursion) somewhere."""
    defs = _defs(tree)
    d = r.choice(defs)
    fn = _f(tree)
    args = ", ".join(r.choice(["1", "'a'", "None", fn.args.args[0].arg])
                     for _ in range(r.randrange(len(d.args.args) + 2)))
    return _insert(fn, r, _stmts(f"zz = {d.name}({args})"))


MUTATIONS = [m_param_annotation, m_drop_annotation, m_return_annotation, m_wrong_arg, m_arity,
             m_branch_return, m_undefined, m_unknown_attr, m_unsupported, m_unsupported,
             m_unsupported, m_unsupported, m_async, m_varargs, m_default, m_subscript,
             m_compare_chain, m_binop, m_swap_helper]


def mutant(seed):
    """(mutated module source, mutation names, calls builder) of a seed, or None."""
    r = random.Random(seed)
    src, calls = base_program(seed)
    tree = ast.parse(src)
    names = []
    for _ in range(1 if r.random() < 0.8 else 2):
        m = r.choice(MUTATIONS)
        try:
            if m(tree, r):
                names.append(m.__name__)
        except (IndexError, ValueError, StopIteration):
            pass
    if not names:
        return None
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n", names, calls


# ====================================================== running a mutant

def load(src, lib):
    mod = f"gpujit_script_errors_s31_{os.getpid()}_{next(_COUNTER)}"
    with open(f"{_DIR}/{mod}.py", "w") as fh:
        fh.write(HEAD.format(lib=lib) + src)
    importlib.invalidate_caches()
    return importlib.import_module(mod), f"{mod}.py"


class _TimeLimit(BaseException):
    pass


def _alarm(signum, frame):
    raise _TimeLimit()


def _limited(fn, *a, seconds=5):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        return fn(*a)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _norm(v):
    if isinstance(v, float):
        return ("float", "nan" if math.isnan(v) else repr(v))
    if isinstance(v, str):
        return ("str", v.replace("-nan", "nan"))
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, [_norm(x) for x in v])
    if isinstance(v, dict):
        return ("dict", [(_norm(k), _norm(x)) for k, x in v.items()])
    if hasattr(v, "detach") and hasattr(v, "dtype"):
        a = np.asarray(v.detach().cpu().numpy() if hasattr(v, "numpy") else v)
        return ("Tensor", str(v.dtype).replace("torch.", "").replace("gpujit.", ""),
                a.shape, np.nan_to_num(a.astype(np.float64), nan=1e300).round(4).tolist())
    return (type(v).__name__, v)


def _call(fn, args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ("ok", _norm(_limited(fn, *args)))
    except _TimeLimit:
        return ("timeout",)
    except Exception as e:          # noqa: BLE001 - judged by the caller
        return ("err", e)


def check_compile_error(e, modfile):
    """The problems of a compile error (empty: a clean FrontendError)."""
    msg = str(e)
    probs = []
    if not isinstance(e, FrontendError):
        probs.append(f"not a FrontendError: {type(e).__name__}: {msg[:300]}")
        return probs
    if "internal error" in msg:
        probs.append(f"internal error: {msg[:600]}")
    if "<--- HERE" not in msg:
        probs.append(f"no <--- HERE: {msg[:600]}")
    elif modfile not in msg:
        probs.append(f"does not show the user's file: {msg[:600]}")
    return probs


def _crash(e):
    """An exception from gpujit's insides (not a user's raise / assert, not TorchScript's
    errors): its class is a Python crash class and its traceback ends in gpujit's code."""
    if not isinstance(e, _CRASH) or isinstance(e, RuntimeError) \
            or "in scripted code at" in str(e):
        return False
    tb = traceback.extract_tb(e.__traceback__)
    if not tb or "gpujit" not in tb[-1].filename or "gpujit_script_errors" in tb[-1].filename:
        return False
    # (gpujit's own `raise IndexError("Dimension out of range ...")` is PyTorch's error)
    return not (tb[-1].line or "").lstrip().startswith("raise ")


def _torch_reference(src, calls):
    try:
        import torch
    except ImportError:
        return None
    try:
        mod, _ = load(src, "torch")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn = _limited(torch.jit.script, mod.f)
    except BaseException as e:       # noqa: BLE001 - TorchScript refuses the program
        if isinstance(e, KeyboardInterrupt):
            raise
        return ("refused", f"{type(e).__name__}: {e}")
    out = []
    for a in calls(torch):
        r = _call(fn, a)
        out.append(r if r[0] != "err" else ("err", f"{type(r[1]).__name__}: {r[1]}"))
    return ("ok", out)


def torch_reference(src, calls):
    """('refused', error text) or ('ok', [results]) of torch.jit.script's function (an
    error as ('err', text)), or None without torch (or when torch's process dies: C++'s
    SIGFPE of an int `% 0`): computed in a forked child where fork exists."""
    if importlib.util.find_spec("torch") is None:
        return None
    if not hasattr(os, "fork"):
        return _torch_reference(src, calls)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            res = _torch_reference(src, calls)
            with os.fdopen(w, "wb") as fh:
                pickle.dump(res, fh)
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    try:
        return pickle.loads(data) if data else None
    except Exception:               # noqa: BLE001 - a result that did not pickle
        return None


def check_mutant(seed, with_torch=True):
    """(problems, notes, description) of the seed's mutant. Problems fail the test: a
    compile error that is not a clean FrontendError, a crash or a hang, results that differ
    from TorchScript's. Notes do not: gpujit refusing a program torch runs, one side raising
    where the other runs (TorchScript's dead code elimination drops unused in-place writes
    to locals and ops that would raise, gpujit's keeps some and drops others)."""
    m = mutant(seed)
    if m is None:
        return [], [], None
    src, names, calls = m
    desc = f"seed {seed} ({', '.join(names)}):\n{src}"
    try:
        mod, modfile = load(src, "gpujit")
    except Exception:               # noqa: BLE001 - not Python (a SyntaxError), or it fails
        return [], [], desc         # when imported
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn = _limited(gpujit.jit.script, mod.f, seconds=20)
    except _TimeLimit:
        return ["compile hangs"], [], desc
    except Exception as e:          # noqa: BLE001
        probs = check_compile_error(e, modfile)
        if probs or not with_torch:
            return probs, [], desc
        ref = torch_reference(src, calls)
        if ref is not None and ref[0] == "ok" and all(x[0] == "ok" for x in ref[1]):
            return [], [f"gpujit refuses what torch runs: {str(e).splitlines()[0]}"], desc
        return [], [], desc
    probs, notes = [], []
    got = [_call(fn, a) for a in calls(gpujit)]
    for g in got:
        if g[0] == "timeout":
            probs.append("call hangs")
        elif g[0] == "err" and _crash(g[1]):
            probs.append(f"crash in a call: {type(g[1]).__name__}: {str(g[1])[:300]}\n"
                         + "".join(traceback.format_tb(g[1].__traceback__)[-3:]))
    if probs or not with_torch:
        return probs, notes, desc
    ref = torch_reference(src, calls)
    if ref is None or ref[0] == "refused":
        return probs, notes, desc
    for g, t in zip(got, ref[1]):
        if t[0] == "timeout" or g[0] == "timeout":
            continue
        if g[0] != t[0]:
            notes.append(f"gpujit {g[0]} {g[1] if g[0] == 'ok' else repr(g[1])[:300]}, "
                         f"torch {t[0]} {t[1] if t[0] == 'ok' else t[1][:300]}")
        elif g[0] == "ok" and g[1] != t[1]:
            probs.append(f"results differ: gpujit {g[1]}, torch {t[1]}")
    return probs, notes, desc


# ====================================================== the test

_N = int(os.environ.get("GPUJIT_SCRIPT_ERROR_FUZZ", "10"))
_SEED = int(os.environ.get("GPUJIT_SCRIPT_ERROR_FUZZ_SEED", "31000"))


@pytest.mark.parametrize("k", range(_N))
def test_mutant_errors_are_clean(k):
    with_torch = importlib.util.find_spec("torch") is not None
    probs, _, desc = check_mutant(_SEED * 100003 + k, with_torch=with_torch)
    assert not probs, f"{desc}\n" + "\n".join(probs)


_SWEEP_TYPES = {"torch.Tensor": lambda: gpujit.ones(3), "int": lambda: 2, "str": lambda: "ab",
                "List[int]": lambda: [1, 2], "Optional[int]": lambda: None}


@pytest.mark.parametrize("k", range(len(_UNSUPPORTED)))
def test_statement_sweep_errors_are_clean(k):
    """Each statement of _UNSUPPORTED inserted into a small function, for parameters of a
    few types: a clean compile error, or a function whose call does not crash."""
    for t, value in _SWEEP_TYPES.items():
        body = "\n".join("    " + ln for ln in _UNSUPPORTED[k].format(p="p").splitlines())
        src = f"def f(p: {t}, q: int):\n    zz = 0\n{body}\n    return q, zz\n"
        try:
            mod, modfile = load(src, "gpujit")
        except Exception:           # noqa: BLE001 - not Python
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn = gpujit.jit.script(mod.f)
        except Exception as e:      # noqa: BLE001
            assert not check_compile_error(e, modfile), (src, check_compile_error(e, modfile))
            continue
        r = _call(fn, (value(), 3))
        assert r[0] != "timeout", src
        assert not (r[0] == "err" and _crash(r[1])), (src, r[1])


# ====================================================== what the fuzzer found (s31)
# (expected values and messages checked against torch 2.13's torch.jit.script)

def _one_element(x):
    return bool(x), int(x), float(x)


def _bool_of(x):
    return bool(x)


def _int_of(x):
    return int(x)


def test_scripted_bool_int_float_of_a_tensor_say_torchs_words():
    fb, fi = gpujit.jit.script(_bool_of), gpujit.jit.script(_int_of)
    for _ in range(2):      # (the profiling call and the optimized one; the message is
        # the op's, a note names the scripted line)
        for f, x, words in ((fb, gpujit.ones(2), "Boolean value of Tensor with more than one "
                             "value is ambiguous"),
                            (fb, gpujit.ones(0), "Boolean value of Tensor with no values is "
                             "ambiguous"),
                            (fi, gpujit.ones(2), "a Tensor with 2 elements cannot be "
                             "converted to Scalar")):
            with pytest.raises(RuntimeError) as e:
                f(x)
            # (torch 2.13's report: the scripted line's frame, then "RuntimeError: <msg>")
            assert str(e.value).startswith("The following operation failed in the "
                                           "TorchScript interpreter.\n") and \
                str(e.value).endswith(f"    return {'bool' if f is fb else 'int'}(x)\n"
                                      f"           {'~' * (4 if f is fb else 3)} <--- HERE\n"
                                      f"RuntimeError: {words}\n"), str(e.value)
    assert gpujit.jit.script(_one_element)(gpujit.tensor([2.5])) == (True, 2, 2.5)


def _slice_step(xs: List[int], s: str, k: int):
    return xs[::k], s[1::k]


def _slice_step_zero(xs: List[int]):
    return xs[::0]


def test_list_and_str_slices_with_a_zero_step_raise_torchs_error():
    f = gpujit.jit.script(_slice_step)
    assert f([1, 2, 3], "abc", 2) == ([1, 3], "b")
    assert f([1, 2, 3], "abc", -1) == ([3, 2, 1], "ba")
    for _ in range(2):
        with pytest.raises(RuntimeError, match="List slice should have non-zero step"):
            f([1, 2, 3], "abc", 0)
        with pytest.raises(RuntimeError, match="List slice should have non-zero step"):
            gpujit.jit.script(_slice_step_zero)([1, 2])


def _format_spec(xs: List[int], n: int):
    return f"{xs:>10}"


def _format_code(n: int):
    return f"{n:.2q}"


def test_a_format_spec_is_refused():
    # torch.jit.script refuses a format spec in an f-string (NotSupportedError "Don't
    # support formatting in JoinedStr"); so does gpujit since session 35
    from gpujit.jit.frontend import NotSupportedError
    for fn in (_format_spec, _format_code):
        with pytest.raises(NotSupportedError, match="Don't support formatting in JoinedStr"):
            gpujit.jit.script(fn)


def _torch_add_of_a_list(xs: List[int]):
    return torch.add(xs)


def _torch_kind_calls(xs: List[int]):
    return torch.add(xs, xs), torch.sorted(xs, False), torch.len(xs)


def test_torch_container_kind_call_with_a_wrong_arity_is_a_compile_error():
    with pytest.raises(FrontendError, match="no variant of 'add' accepts \\(List\\[int\\]\\)") as info:
        gpujit.jit.script(_torch_add_of_a_list)
    assert "return torch.add(xs)" in str(info.value) and "<--- HERE" in str(info.value)
    # (the spellings `.code` prints for container nodes still load)
    assert gpujit.jit.script(_torch_kind_calls)([2, 1]) == ([2, 1, 2, 1], [1, 2], 2)


def _tuple_at(p: int):
    return (p, p + 1)[p]


def test_a_tuple_index_out_of_range_is_torchs_error():
    f = gpujit.jit.script(_tuple_at)
    assert [f(0), f(1), f(-1)] == [0, 2, 0]
    for _ in range(2):
        with pytest.raises(RuntimeError, match="Tuple list index out of range") as info:
            f(2)
        assert isinstance(info.value, IndexError)


def _ord(s: str):
    return ord(s)


def _chr(i: int):
    return chr(i)


def _int_texts(b: bool):
    return hex(b), bin(b), oct(b)


def test_ord_chr_hex_errors_and_bools():
    with pytest.raises(RuntimeError, match="String for ord\\(\\) must be 1 character, found 2"):
        gpujit.jit.script(_ord)("ab")
    with pytest.raises(TypeError):
        gpujit.jit.script(_ord)("")
    with pytest.raises(RuntimeError, match=r"chr\(\) arg not in range\(0x110000\), found -1"):
        gpujit.jit.script(_chr)(-1)
    assert gpujit.jit.script(_int_texts)(True) == ("0x1", "0b1", "0o1")


def _split_by(s: str, sep: str):
    return s.split(sep)


def test_str_split_by_an_empty_separator_is_torchs_runtime_error():
    # (torch 2.13: RuntimeError "ValueError: empty separator"; found by the fuzzer,
    # GPUJIT_SCRIPT_ERROR_FUZZ_SEED=31002: '-3'.split(''))
    with pytest.raises(RuntimeError, match="empty separator") as info:
        gpujit.jit.script(_split_by)("a-b", "")
    assert isinstance(info.value, ValueError)
    assert gpujit.jit.script(_split_by)("a-b", "-") == ["a", "b"]


if __name__ == "__main__":
    base = int(sys.argv[1]) if len(sys.argv) > 1 else _SEED
    n = int(sys.argv[2]) if len(sys.argv) > 2 else _N
    bad = noted = 0
    for k in range(n):
        seed = base * 100003 + k
        try:
            probs, notes, desc = check_mutant(seed)
        except BaseException as e:   # noqa: BLE001
            probs, notes, desc = [f"fuzzer error {type(e).__name__}: {e}"], [], f"seed {seed}"
        bad += bool(probs)
        noted += bool(notes)
        if probs or notes:
            print("=" * 80)
            print(desc)
            print("\n".join(["PROBLEM " + p for p in probs] + ["NOTE " + p for p in notes]),
                  flush=True)
    print(f"{bad} / {n} bad, {noted} noted")
