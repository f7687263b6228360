"""TorchScript fidelity leftovers (session 19), with literal expected values (no torch).

1. gpujit.jit.save of a model using two different script classes, NamedTuples or enums with
   the same short name (from different modules): each gets a name of its own in the
   archive (`Pair`, `Pair_1`), the code calls and annotates with it, the loaded model runs
   and saves again identically.
2. The text of floats (and of containers) in scripted code is TorchScript's: str(0.1) is
   `0.10000000000000001`, str(1.0) `1.`, str(["a"]) `[a]` (values from torch 2.13).
3. Scripted ints are int64: + - * << unary - abs and // wrap around as TorchScript's do
   (2**62 * 4 is 0); int() of a str out of int64's range raises (TorchScript: stoll).
   (-2**63 // -1 crashes TorchScript's process with SIGFPE; gpujit wraps it to -2**63.
   A shift count out of [0, 64) is undefined in C++; TorchScript's x86-64 / AArch64
   shift takes it modulo 64, as gpujit's (session 36): 1 << 64 is 1.)
"""
import enum
import importlib
import io
import sys
import textwrap
from typing import Dict, List, NamedTuple, Optional

import numpy as np
import pytest

import gpujit as torch
from test_save_name_clash_s18 import _entries, _save   # (archive bytes, entry by entry)


# ---------------------------------------------------------------- 1. class name clashes
def _make_a():
    class Pair:
        def __init__(self, a: torch.Tensor):
            self.a = a

        def get(self) -> torch.Tensor:
            return self.a + 1

    class Pt(NamedTuple):
        x: torch.Tensor

    class Color(enum.Enum):
        RED = 1
        GREEN = 2
    return Pair, Pt, Color


def _make_b():
    class Pair:
        def __init__(self, a: torch.Tensor):
            self.b = a * 2

        def get(self) -> torch.Tensor:
            return self.b

    class Pt(NamedTuple):
        y: float

    class Color(enum.Enum):
        RED = 5
        BLUE = 7
    return Pair, Pt, Color


PairA, PtA, ColorA = _make_a()
PairB, PtB, ColorB = _make_b()


class Pair_1:                  # a real class with the name a renamed one would take
    def __init__(self, a: torch.Tensor):
        self.c = a - 1

    def get(self) -> torch.Tensor:
        return self.c


def _roundtrip(m):
    data = _save(m)
    loaded = torch.jit.load(io.BytesIO(data))
    assert _entries(_save(loaded)) == _entries(data)
    return loaded, data


def _t(a):
    return torch.tensor(np.asarray(a, dtype=np.float32))


X = np.array([1.0, 2.0, 5.0], dtype=np.float32)


class UsesBoth(torch.nn.Module):
    def forward(self, x):
        p = PairA(x)
        q = PairB(x)
        s = PtA(x)
        t = PtB(2.0)
        lst: List[PairB] = [q]
        # (the named tuples go through lists: a field read of a visible construct,
        # `PtA(x).x`, is read through at script time, as TorchScript's LowerSimpleTuples)
        ss: List[PtA] = [s]
        ts: List[PtB] = [t]
        return p.get() + lst[0].get() + ss[0].x * ts[0].y


def test_two_classes_same_name_save_load():
    m = torch.jit.script(UsesBoth())
    expected = (X + 1) + X * 2 + X * 2.0
    np.testing.assert_allclose(m(_t(X)).numpy(), expected)
    loaded, data = _roundtrip(m)
    np.testing.assert_allclose(loaded(_t(X)).numpy(), expected)
    names = set(_entries(data))
    assert {"archive/code/__class__.Pair.py", "archive/code/__class__.Pair_1.py"} <= names
    code = loaded.code
    assert "Pair.__new__(Pair)" in code and "Pair_1.__new__(Pair_1)" in code   # (torch 2.13's construction)
    assert "Pt(x" in code and "Pt_1(2." in code


class HoldsThem(torch.nn.Module):
    opt: Optional[PtB]
    pa: PtA         # (declared: torch 2.13 types an undeclared NamedTuple value a Tuple)

    def __init__(self):
        super().__init__()
        self.pa = PtA(torch.ones(2))
        self.opt = PtB(3.0)

    def forward(self, x, c: ColorA, d: ColorB) -> torch.Tensor:
        out = x + self.pa.x
        if c == ColorA.GREEN:
            out = out * 10
        if d == ColorB.BLUE:
            out = out - 1
        o = self.opt
        if o is not None:
            out = out * o.y
        return out


def test_attributes_and_enums_same_name():
    m = torch.jit.script(HoldsThem())
    x = np.array([1.0, -2.0], dtype=np.float32)
    loaded, data = _roundtrip(m)
    for c, d, want in [(ColorA.GREEN, ColorB.BLUE, ((x + 1) * 10 - 1) * 3),
                       (ColorA.RED, ColorB.RED, (x + 1) * 3)]:
        np.testing.assert_allclose(m(_t(x), c, d).numpy(), want)
        # the loaded model's enums are the live classes (found by qualified name)
        np.testing.assert_allclose(loaded(_t(x), c, d).numpy(), want)
    text = _entries(data)["archive/code/root.py"].decode()
    sig = text[:text.index(":\n") + 1]      # (one parameter to a line)
    assert "c: Color," in sig and "d: Color_1)" in sig


def test_renamed_class_does_not_take_a_real_classes_name():
    class Three(torch.nn.Module):
        def forward(self, x):
            return PairA(x).get() + PairB(x).get() + Pair_1(x).get()
    m = torch.jit.script(Three())
    expected = (X + 1) + X * 2 + (X - 1)
    loaded, data = _roundtrip(m)
    np.testing.assert_allclose(loaded(_t(X)).numpy(), expected)
    classes = sorted(n for n in _entries(data) if "__class__" in n)
    assert len(classes) == 3


def test_classes_same_name_from_two_modules(tmp_path, monkeypatch):
    for mod, body in [("s19_mod_a", "self.v = x + 1.0"), ("s19_mod_b", "self.v = x * 4.0")]:
        (tmp_path / f"{mod}.py").write_text(textwrap.dedent(f"""
            import gpujit as torch

            class Box:
                def __init__(self, x: torch.Tensor):
                    {body}

                def value(self) -> torch.Tensor:
                    return self.v
            """))
    monkeypatch.syspath_prepend(str(tmp_path))
    a = importlib.import_module("s19_mod_a")
    b = importlib.import_module("s19_mod_b")
    try:
        def f(x):
            return a.Box(x).value() - b.Box(x).value()
        sf = torch.jit.script(f)
        loaded, data = _roundtrip(sf)
        np.testing.assert_allclose(loaded(_t(X)).numpy(), (X + 1) - X * 4)
    finally:
        sys.modules.pop("s19_mod_a", None)
        sys.modules.pop("s19_mod_b", None)


def test_no_clash_keeps_short_names():
    class One(torch.nn.Module):
        def forward(self, x):
            return PairA(x).get()
    data = _save(torch.jit.script(One()))
    names = _entries(data)
    assert "archive/code/__class__.Pair.py" in names
    assert not any("Pair_1" in n for n in names)


# ---------------------------------------------------------------- 2. float text
FLOAT_TEXT = [
    (1.0, "1."), (0.1, "0.10000000000000001"), (1e20, "1e+20"),
    (1 / 3, "0.33333333333333331"), (float("inf"), "inf"), (float("-inf"), "-inf"),
    (-0.0, "0."), (float("nan"), "nan"), (2.5e-7, "2.4999999999999999e-07"),
    (123456789.0, "123456789."), (1e16, "10000000000000000."), (-5.0, "-5."),
    (9.2e18, "9200000000000000000."), (9.3e18, "9.3e+18"), (2.0 ** 63, "9.2233720368547758e+18"),
    (-2.0 ** 63, "-9223372036854775808."), (0.0001, "0.0001"),
    (1e-5, "1.0000000000000001e-05"), (5e-324, "4.9406564584124654e-324"),
    (3.14159265358979, "3.14159265358979"), (-1.5, "-1.5"), (1e300, "1.0000000000000001e+300"),
]


@torch.jit.script
def _texts(x: float) -> List[str]:
    return [str(x), f"{x}", "{}".format(x), "%s" % x, str([x, 1.5]), str((x, 2)),
            str({"a": x})]


@pytest.mark.parametrize("v,text", FLOAT_TEXT)
def test_float_text(v, text):
    assert _texts(v) == [text, text, text, text, f"[{text}, 1.5]", f"({text}, 2)",
                         f"{{a: {text}}}"]


class _Pt(NamedTuple):
    a: float
    b: str


@torch.jit.script
def _container_texts(x: float) -> List[str]:
    e: List[int] = []
    d: Dict[str, List[float]] = {"k": [x]}
    return [str(["a", "b"]), str((1, "b", x)), str(True), str([True, False]), str(e),
            str(d), str([[x], [2.0]]), str((x,)), str(_Pt(x, "s")), "%s %d" % ("q", 3),
            "%f" % x, "{} {}".format("a", [x]), str({1: "z"}), str([1, 2]), str(["it's"])]


def test_container_text():
    assert _container_texts(0.1) == [
        "[a, b]", "(1, b, 0.10000000000000001)", "True", "[True, False]", "[]",
        "{k: [0.10000000000000001]}", "[[0.10000000000000001], [2.]]",
        "(0.10000000000000001,)", "(0.10000000000000001, s)", "q 3", "0.100000",
        "a [0.10000000000000001]", "{1: z}", "[1, 2]", "[it's]"]
    # (a format spec, f"{x:.3f}", is refused as TorchScript refuses it: session 35,
    # tests/test_script_lang_s35.py)


def test_print_text(capsys):
    @torch.jit.script
    def show(x: float, n: int):
        print("a", ["b"], x, {"k": x}, True, None, n, (x,))

    show(0.1, 3)
    show(2.0, -1)
    assert capsys.readouterr().out.splitlines() == [
        "a [b] 0.10000000000000001 {k: 0.10000000000000001} True None 3 (0.10000000000000001,)",
        "a [b] 2. {k: 2.} True None -1 (2.,)"]


# ---------------------------------------------------------------- 3. int64 arithmetic
M = 2 ** 63


def _mul(a: int, b: int) -> int:
    return a * b


def _add(a: int, b: int) -> int:
    return a + b


def _sub(a: int, b: int) -> int:
    return a - b


def _fdiv(a: int, b: int) -> int:
    return a // b


def _shl(a: int, b: int) -> int:
    return a << b


def _neg(a: int) -> int:
    return -a


def _abs(a: int) -> int:
    return abs(a)


def _chain(a: int, b: int) -> int:      # wraps at the chain's end only (same values)
    return (a * b + 7) * b - a


INT_CASES = [
    (_mul, (2 ** 62, 4), 0), (_mul, (2 ** 62, 3), -(2 ** 62)), (_mul, (-M, -1), -M),
    (_add, (M - 1, 1), -M), (_sub, (-M, 1), M - 1), (_fdiv, (-M, -1), -M),
    (_shl, (1, 63), -M), (_shl, (3, 62), -(2 ** 62)), (_shl, (1, 64), 1),
    (_neg, (-M,), -M), (_abs, (-M,), -M), (_mul, (3, 5), 15), (_fdiv, (-7, 2), -4),
    (_chain, (2 ** 40, 2 ** 30), ((((2 ** 70 + 7) * 2 ** 30 - 2 ** 40) + M) % 2 ** 64) - M),
]


@pytest.mark.parametrize("fn,args,want", INT_CASES, ids=lambda c: getattr(c, "__name__", None))
def test_int64_wraps(fn, args, want):
    sf = torch.jit.script(fn)
    for _ in range(3):           # profiled, then the generated code
        assert sf(*args) == want
    from gpujit.runtime.interpreter import interpret
    assert interpret(sf.graph, *args) == want


def test_int64_loop_wraps():
    @torch.jit.script
    def powmod_like(n: int) -> int:
        acc = 1
        for i in range(n):
            acc = acc * 1000003 + i
        return acc

    def ref(n):
        acc = 1
        for i in range(n):
            acc = (acc * 1000003 + i + M) % 2 ** 64 - M
        return acc
    for _ in range(3):
        assert powmod_like(50) == ref(50)


def test_int_of_str_out_of_int64_range():
    @torch.jit.script
    def to_int(s: str) -> int:
        return int(s)

    assert to_int("9223372036854775807") == M - 1
    assert to_int("-9223372036854775808") == -M
    for s in ["9" * 20, "-9223372036854775809"]:
        with pytest.raises(RuntimeError, match="stoll"):
            to_int(s)
