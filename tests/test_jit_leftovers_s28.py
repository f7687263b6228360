"""TorchScript leftovers (session 28): the sign of a nan that scripted str() / print /
f-strings write, C's math results (glibc's libm, as torch 2.13's build links it), ...
Expected values were checked against torch 2.13's TorchScript."""
import io
import math
import sys
from typing import List

import pytest

import gpujit as torch

INF = math.inf


def nan_strings(a: float, b: float) -> List[str]:
    x = math.log(-1.)
    y = 0. * math.inf
    z = math.sqrt(-1.)
    w = float('nan')
    v = -float('nan')
    return [str(x), str(y), str(z), str(w), str(v), f"{x}", f"{v}", "{}".format(v),
            "{} {}".format(x, w), str(a * b), str(-a * b), str(math.inf), str(-math.inf)]


def test_nan_sign_in_strings_as_torch():
    s = torch.jit.script(nan_strings)
    assert s(math.nan, 1.0) == ['nan', '-nan', '-nan', 'nan', '-nan', 'nan', '-nan', '-nan',
                                'nan nan', 'nan', '-nan', 'inf', '-inf']
    assert s(-math.nan, 1.0)[9:11] == ['-nan', 'nan']


def test_print_nan_sign(capsys):
    def f(a: float):
        print(math.log(a), math.sqrt(a), math.log10(a), math.acos(a * 3.), a * INF)
    torch.jit.script(f)(-1.0)
    assert capsys.readouterr().out == "nan -nan nan nan -inf\n"


def math_strings(a: float, b: float) -> List[str]:
    return [str(math.log(a)), str(math.log10(a)), str(math.log1p(a)), str(math.sqrt(a)),
            str(math.acos(a)), str(math.asin(a)), str(math.acosh(a)), str(math.atanh(a)),
            str(math.fmod(a, b)), str(math.pow(a, b)), str(a ** b), str(math.gamma(a)),
            str(math.lgamma(a)), str(math.log(a, b)), str(math.sin(a)),
            str(math.remainder(a, b)), str(math.atan2(a, b)), str(a % b), str(a // b)]


# (a, b) -> torch 2.13's strings
MATH_CASES = [
    ((-1., 0.5), ['nan', 'nan', '-inf', '-nan', '3.1415926535897931', '-1.5707963267948966',
                  '-nan', '-inf', '0.', '-nan', '-nan', 'nan', 'inf', 'nan',
                  '-0.8414709848078965', '0.', '-1.1071487177940904', '0.', '-2.']),
    ((-3., 0.), ['nan', 'nan', '-nan', '-nan', 'nan', 'nan', '-nan', '-nan', '-nan', '1.',
                 '1.', 'nan', 'inf', 'nan', '-0.14112000805986721', '-nan',
                 '-1.5707963267948966', '-nan', '-inf']),
    ((-INF, 2.), ['nan', 'nan', '-nan', '-nan', 'nan', 'nan', '-nan', '-nan', '-nan', 'inf',
                  'inf', 'nan', 'inf', 'nan', '-nan', '-nan', '-1.5707963267948966', '-nan',
                  '-inf']),
    ((INF, -0.5), ['inf', 'inf', 'inf', 'inf', 'nan', 'nan', 'inf', '-nan', '-nan', '0.',
                   '0.', 'inf', 'inf', 'nan', '-nan', '-nan', '1.5707963267948966', '-nan',
                   '-inf']),
    ((-math.nan, 1.), ['-nan'] * 9 + ['nan', 'nan'] + ['-nan'] * 8),   # (C's pow: +nan)
    ((math.nan, 1.), ['nan'] * 19),
]


@pytest.mark.parametrize("args,want", MATH_CASES)
def test_math_outside_the_domain_strings_as_torch(args, want):
    assert torch.jit.script(math_strings)(*args) == want


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's libm")
def test_gamma_lgamma_are_c_functions():
    def f(a: float):
        return math.gamma(a), math.lgamma(a)
    s = torch.jit.script(f)
    # glibc's tgamma / lgamma (Python's math.gamma(0.5) is 1.7724538509055159)
    assert s(0.5) == (1.772453850905516, 0.5723649429247001)
    assert s(-0.5) == (-3.5449077018110318, 1.2655121234846454)
    assert s(3.0) == (2.0, 0.6931471805599453)


# ---------------------------------------------------------------- x.type(...) is x.to(...)

def type_none(x):
    return x.type()


def type_dtype(x, d: int):
    return x.type(d, True)


def type_kw(x):
    return x.type(dtype=torch.float16, non_blocking=False)


def type_str(x):
    return x.type('torch.DoubleTensor')


def test_scripted_type_is_to():
    x = torch.ones(2)
    s = torch.jit.script(type_none)
    assert s(x) is x                       # torch.to(x): the tensor itself
    assert "torch.to(x)" in s.code
    assert torch.jit.script(type_dtype)(x, 7).dtype == torch.float64
    assert torch.jit.script(type_kw)(x).dtype == torch.float16
    # a string is a Device (TorchScript's x.to(str)), as torch 2.13
    with pytest.raises(RuntimeError, match="Invalid device string: 'torch.DoubleTensor'"):
        torch.jit.script(type_str)(x)
    assert x.type() == "torch.FloatTensor"           # (eager: its type's name)


def test_type_of_a_float_lists_to_overloads():
    def f(x):
        return x.type(1.5)
    with pytest.raises(Exception, match=r"Arguments for call are not valid(.|\n)*to\.dtype"):
        torch.jit.script(f)


@pytest.mark.parametrize("spec,match", [
    ("", "Device string must not be empty"),
    (" cpu", "Invalid device string: ' cpu'"),
    ("cuda:01", "Invalid device string: 'cuda:01'"),
    ("cpu:-2", "Invalid device string: 'cpu:-2'"),
    ("cuda:99999999999", "Could not parse device index '99999999999' in device string"),
    ("foo", "device type at start of device string: foo$"),
])
def test_device_string_errors_as_c10(spec, match):
    with pytest.raises(RuntimeError, match=match):
        torch.device(spec)


# ---------------------------------------------------------------- dtypes in .code are ints

def dtype_code(x):
    return (x.to(torch.float64), torch.zeros(3, dtype=torch.float32),
            x.sum(dtype=torch.float64), torch.promote_types(x.dtype, torch.float16))


def test_dtype_constants_print_as_scalar_type_numbers():
    s = torch.jit.script(dtype_code)
    code = s.code
    # torch 2.13's text: a ScalarType is an int in TorchScript
    for want in ("torch.to(x, 7)", "torch.zeros([3], dtype=6)", "torch.sum(x, dtype=7)",
                 "torch.promote_types(ops.prim.dtype(x), 5)"):
        assert want in code, (want, code)
    assert "torch.float" not in code
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    x = torch.ones(2)
    a, b = s(x), loaded(x)
    assert [t.dtype for t in a[:3]] == [t.dtype for t in b[:3]] == \
        [torch.float64, torch.float32, torch.float64]
    assert a[3] == b[3] == 6
