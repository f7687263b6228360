"""Strings in scripted functions: f-strings (ints, floats, strs, bools, Tensors printed as
ATen's C++ printer writes them, `[ CPUFloatType{2} ]`, as TorchScript's; TorchScript's: `{}` fields only, no spec or conversion), str(),
+ and *, indexing and slicing, len, `in`, comparisons, the str methods, str.format
(TorchScript's aten::format) and print with several arguments. Every function runs
through the reference interpreter and as a ScriptFunction (profiled, then generated code)
and gives what Python gives, or torch 2.13's answer where TorchScript differs."""
from typing import List, Tuple

import pytest

import gpujit
from gpujit import Tensor
from gpujit.frontend.script import FrontendError, compile_function
from gpujit.ir import parse_ir
from gpujit.jit.objects import ScriptFunction
from gpujit.runtime import interpret


def compiled(fn):
    g = compile_function(fn)
    g.lint()
    text = str(g)
    assert str(parse_ir(text)) == text
    return g


def check(fn, *args, want=None):
    g = compiled(fn)
    want = fn(*args) if want is None else want
    assert interpret(g, *args) == want
    sf = ScriptFunction(g, fn.__name__, fn)
    for _ in range(3):                     # profiled, then optimized runs
        assert sf(*args) == want
    return g


def fstrings(n: int, a: float, s: str, b: bool) -> str:
    return f"{n} and {a}, {s} {b} {{braces}} {n * 2}|{s}|"


def fstring_tensor(x: Tensor, n: int) -> str:
    return f"x = {x}, n = {n}"


def test_fstrings_format_as_torchscript():
    # TorchScript's frontend makes the f-string `"...{}...".format(...)`: the text
    # `{braces}` stays, floats are written as TorchScript writes them (torch 2.13)
    g = check(fstrings, 3, 2.0 / 3.0, "hi", True,
              want="3 and 0.66666666666666663, hi True {braces} 6|hi|")
    assert 'prim::Constant[value="{} and {}, {} {} {braces} {}|{}|"]' in str(g)
    assert "aten::format" in str(g)
    check(fstrings, -7, 1e10, "", False, want="-7 and 10000000000.,  False {braces} -14||")
    x = gpujit.tensor([1.0, 2.5])
    # the Tensor's str as ATen's C++ printer writes it (torch 2.13's TorchScript)
    g = check(fstring_tensor, x, 4, want="x =  1.0000\n 2.5000\n[ CPUFloatType{2} ], n = 4")
    assert "aten::str(%x)" in str(g)


def str_ops(s: str, t: str, i: int) -> Tuple[str, str, str, int, bool, bool, bool, str, str]:
    # (no `s * i`: torch 2.13 refuses str * int, tests/test_script_lang_s34.py)
    return (s + t, t + s, s[i], len(s), t in s, s < t, s == t, s[1:], str(i) + str(1.5)
            + str(True))


def test_concat_repeat_index_slice_len_in_compare_and_str():
    check(str_ops, "hello", "ell", 2)
    check(str_ops, "ab", "zz", -1)


def str_methods(s: str) -> Tuple[str, str, str, str, str, bool, bool, str, int, bool,
                                 List[str], str, List[str]]:
    parts = s.split(",")
    return (s.upper(), s.lower(), s.strip(), s.lstrip(" x"), s.rstrip(), s.startswith(" a"),
            s.endswith(","), s.replace("a", "A"), s.find("b"), s.strip().isdigit(), parts,
            "-".join(parts), s.split())


def test_str_methods_follow_python():
    g = check(str_methods, " a,b, 12 ,")
    check(str_methods, "123")
    assert "aten::split(%s" in str(g) and "aten::join" in str(g)


def formats(n: int, x: float) -> str:
    return "{} + {:.1f} = {}".format(n, x, n + x)


def test_str_format():
    # TorchScript's aten::format replaces `{}` fields only (torch 2.13: "2 + {:.1f} = 0.25",
    # the third argument unused)
    check(formats, 2, 0.25, want="2 + {:.1f} = 0.25")


def parse_numbers(s: str) -> Tuple[int, float]:
    a, b = s.split(":")
    return int(a), float(b)


def test_int_and_float_of_a_str():
    check(parse_numbers, "12:2.5")
    with pytest.raises(ValueError):
        interpret(compiled(parse_numbers), "x:1")


def printer(x: Tensor, n: int) -> int:
    print("n is", n, f"({n})", x)
    return n


def test_print_with_several_arguments(capsys):
    x = gpujit.tensor([1.0, 2.0])
    g = compiled(printer)
    interpret(g, x, 5)
    ScriptFunction(g, "printer", printer)(x, 5)
    out = capsys.readouterr().out.splitlines()
    # (the Tensor as ATen's C++ printer writes it, torch 2.13's TorchScript)
    want = ["n is 5 (5)  1", " 2", "[ CPUFloatType{2} ]"]
    assert out == want + want


def bad_fstring_spec(n: int, w: int) -> str:
    return f"{n:{w}}"


def bad_str_method(s: str) -> str:
    return s.frob()


def bad_str_arg(s: str) -> str:
    return s.upper(1)


def bad_str_plus(s: str) -> str:
    return s + 1


@pytest.mark.parametrize("fn,words", [
    (bad_fstring_spec, "Don't support formatting in JoinedStr"),     # (torch 2.13's)
    (bad_str_method, "a str has no method 'frob'"),
    (bad_str_arg, "no variant of 'upper' accepts (str, int)"),
    (bad_str_plus, "no variant of 'add' accepts (str, int)"),
])
def test_string_errors(fn, words):
    with pytest.raises(FrontendError) as e:
        compile_function(fn)
    assert words in str(e.value) and "<--- HERE" in str(e.value), str(e.value)


def index_out_of_range(s: str, i: int) -> str:
    return s[i]


def test_string_index_error_names_the_line():
    with pytest.raises(IndexError, match=r"string index out of range \(index 9") as e:
        interpret(compiled(index_out_of_range), "abc", 9)
    assert "return s[i]" in str(e.value)
