"""PyTorch's graph-executor tests of test/test_jit.py as behaviour: traced and scripted
functions' values, gradients (first and second order) and requires_grad across the
profiling run and the optimized runs, autodiff of scripted code (torch.autograd.grad /
backward inside script, x.grad), dropout under script in train/eval, the numerics of
Python numbers and tensor-number arithmetic under script (type promotion, division,
floor division, pow, clamp, where, chained comparisons), in-place ops and their aliasing,
and new shapes/dtypes/requires_grad after the profile. References are NumPy or literal
values (or the same function run eagerly, as PyTorch's checkScript/checkTrace do), so this
runs without torch."""
from __future__ import annotations

import itertools
import math
from typing import List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn.functional as F

_R = np.random.default_rng(3)


def _arr(*shape, dtype=np.float32):
    return _R.standard_normal(shape).astype(dtype)


def _t(a, grad=False):
    return torch.from_numpy(np.array(a)).requires_grad_(grad)


def _np(t):
    return t.detach().numpy()


def _same(a, b, rtol=1e-5, atol=1e-6):
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, rtol, atol)
        return
    if a is None or b is None:
        assert a is None and b is None
        return
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor)
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)
        return
    assert type(a) is type(b), (a, b)
    if isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b or (isinstance(a, float) and abs(a - b) <= atol + rtol * abs(b)), (a, b)


def _groups(g) -> int:
    return str(g).count("= prim::TensorExprGroup_")


def _script_src(src, name="func"):
    return getattr(torch.jit.CompilationUnit(src), name)


def _eager_src(src, name="func"):
    scope = {"torch": torch, "F": F, "List": List, "Optional": Optional, "Tuple": Tuple}
    exec(src, scope)
    return scope[name]


def check_script(fn, args, runs=3):
    """PyTorch's checkScript: the scripted function gives what the function gives in
    Python, on every run (the profiling run, then the optimized ones)."""
    expected = fn(*args)
    s = torch.jit.script(fn)
    for _ in range(runs):
        _same(s(*args), expected)
    return s


# ------------------------------------------------------------------ checkTrace (run_ge_tests)

def _all_sum(vs, drop=None):
    if drop is not None:
        vs = vs[:-drop]
    return sum(math.log(i + 2) * v.sum() for i, v in enumerate(vs) if v is not None)


def check_trace(func, inputs, trace_inputs=None, drop=None, allow_unused=False):
    """PyTorch's checkTrace: outputs, gradients and gradients of gradients of the traced
    function equal the Python function's, with and without inputs that record."""
    ge = torch.jit.trace(func, tuple(trace_inputs or inputs))

    def as_tuple(o):
        return o if isinstance(o, tuple) else (o,)

    _same(as_tuple(ge(*inputs)), as_tuple(func(*inputs)))
    for _ in range(3):      # the profiling run, then the optimized ones
        rec = [t.detach().clone().requires_grad_() for t in inputs]
        rec_ge = [t.detach().clone().requires_grad_() for t in inputs]
        out, out_ge = as_tuple(func(*rec)), as_tuple(ge(*rec_ge))
        _same(out, out_ge)
        l1, l1_ge = _all_sum(out, drop), _all_sum(out_ge, drop)
        g = torch.autograd.grad(l1, rec, create_graph=True, allow_unused=allow_unused)
        g_ge = torch.autograd.grad(l1_ge, rec_ge, create_graph=True, allow_unused=allow_unused)
        _same(g, g_ge)
        l2, l2_ge = _all_sum(g) * l1, _all_sum(g_ge) * l1_ge
        g2 = torch.autograd.grad(l2, rec, allow_unused=True)
        g2_ge = torch.autograd.grad(l2_ge, rec_ge, allow_unused=True)
        for a, b in zip(g2, g2_ge):
            if a is None and b is None:
                continue
            np.testing.assert_allclose(_np(a), _np(b), rtol=8e-4, atol=8e-4)
    return ge


def _rand(*shape):
    return _t(_R.random(shape).astype(np.float32))


def test_ge_traced_functions_values_grads_and_double_grads():
    check_trace(lambda a, b: a * b + b, [_rand(1), _rand(1)], [_rand(2, 3), _rand(2, 3)])
    check_trace(lambda a, b: (b, a), [_rand(1), _rand(1)])

    def foo(a):
        t = a * a
        return t * t, 4 * t
    check_trace(foo, [_rand(1)])
    check_trace(lambda a, b: a * a, [_rand(1), _rand(1)], allow_unused=True)
    check_trace(foo, [_rand(1)], drop=1)
    check_trace(lambda a, b: a * b / (a - 2 * b) + b, [_rand(1), _rand(1)])


def test_ge_double_backward_matches_analytic():
    def foo(a, b):
        return a * b / (a - b) + b

    ge = torch.jit.script(foo)
    av, bv = 0.7, 0.2
    for _ in range(3):
        a, b = _t([av], True), _t([bv], True)
        r = ge(a, b)
        da, db = torch.autograd.grad(r + 3, [a, b], create_graph=True)
        # d/da = -b^2/(a-b)^2 ; d/db = a^2/(a-b)^2 + 1
        np.testing.assert_allclose(_np(da), [-bv ** 2 / (av - bv) ** 2], rtol=1e-5)
        np.testing.assert_allclose(_np(db), [av ** 2 / (av - bv) ** 2 + 1], rtol=1e-5)
        g_a, g_b = torch.autograd.grad(da * db + db * db, [da, db])
        np.testing.assert_allclose(_np(g_a), _np(db.detach()), rtol=1e-6)
        np.testing.assert_allclose(_np(g_b), _np((da + 2 * db).detach()), rtol=1e-6)


def test_trace_size_with_and_without_grad():
    def fn(x):
        return x.view(x.shape[1] * 2, x.size(0), 2)

    for rg in (False, True):
        x, y = _t(_arr(5, 2, 4), rg), _t(_arr(4, 8, 4), rg)
        traced = torch.jit.trace(fn, x)
        for _ in range(2):
            _same(traced(y), fn(y))
            _same(traced(x), fn(x))
            assert traced(y).requires_grad == rg


# ------------------------------------------------------------------ requires_grad

def test_requires_grad_loop_output_follows_the_values():
    @torch.jit.script
    def test(x, y, z: int):
        for _ in range(z):
            x = y
        return x

    for _ in range(3):
        r = test(_t(1.0, True), _t(1), 10)
        assert not r.requires_grad and r.item() == 1
        r = test(_t(1.0, True), _t(2.0), 0)
        assert r.requires_grad and r.item() == 1.0


def test_tensor_requires_grad_in_script():
    @torch.jit.script
    def test(x, y, z) -> Tuple[bool, bool, bool]:
        return x.requires_grad, y.requires_grad, z.requires_grad

    x, y, z = _t([1.0, 2.0], True), _t([1.0, 2.0]), _t([3.0, 4.0], True)
    for _ in range(3):
        assert test(x, y, z) == (True, False, True)
        assert test(y, y, y) == (False, False, False)
        assert test(z, x, y) == (True, True, False)


def test_requires_grad_for_tensor_list():
    def func(input0, input1) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        var_list = [input0, input1]
        var = torch.cat(var_list)
        output = var + 1.0
        return output, var_list

    jit_f = torch.jit.script(func)
    a, b = _t([1.0, 2.0], True), _t([3.0, 4.0])
    for _ in range(3):
        out, lst = jit_f(a, b)
        assert out.requires_grad and lst[0].requires_grad and not lst[1].requires_grad
        np.testing.assert_allclose(_np(out), [2, 3, 4, 5])
        assert lst[0] is a and lst[1] is b


def test_requires_grad_changes_between_calls():
    @torch.jit.script
    def f(x, y):
        return (x * y + x).sigmoid()

    xa, ya = _arr(3, 4), _arr(3, 4)
    ref = 1 / (1 + np.exp(-(xa * ya + xa)))
    for rx, ry in [(False, False), (True, False), (False, True), (True, True), (False, False),
                   (True, False)] * 2:
        x, y = _t(xa, rx), _t(ya, ry)
        r = f(x, y)
        assert r.requires_grad == (rx or ry)
        np.testing.assert_allclose(_np(r), ref, rtol=1e-5)
        if r.requires_grad:
            r.sum().backward()
            s = ref * (1 - ref)
            if rx:
                np.testing.assert_allclose(_np(x.grad), s * (ya + 1), rtol=1e-4, atol=1e-6)
            if ry:
                np.testing.assert_allclose(_np(y.grad), s * xa, rtol=1e-4, atol=1e-6)
        else:
            assert r.grad_fn is None


def test_no_grad_in_caller_gives_results_that_do_not_record():
    @torch.jit.script
    def f(x):
        return x * 2 + 1

    x = _t([1.0, 2.0], True)
    for _ in range(3):
        with torch.no_grad():
            r = f(x)
        assert not r.requires_grad and r.tolist() == [3.0, 5.0]
        assert f(x).requires_grad


def test_prim_grad_undefined_and_defined():
    def f_grad(x):
        return x.grad

    s = torch.jit.script(f_grad)
    x = torch.ones(2)
    for _ in range(2):
        assert s(x) is None
    w = _t([1.0, 2.0], True)
    (w * w).sum().backward()
    assert s(w).tolist() == [2.0, 4.0]


def test_grad_from_script():
    def test():
        a = torch.tensor(2.5, requires_grad=True)
        b = a * 2
        return a, b

    a, b = torch.jit.script(test)()
    assert a.requires_grad and b.requires_grad and b.item() == 5.0
    b.backward()
    assert a.grad.item() == 2.0


def test_script_backward_calls():
    def tensor_backward(input):
        output = torch.relu(input)
        output = output.softmax(0)
        sum_out = output.sum()
        sum_out.backward()

    def autograd_backward(input):
        output = torch.relu(input)
        output = output.softmax(0)
        torch.autograd.backward(output.sum())

    def autograd_backward_with_grad_tensors(input):
        output = torch.relu(input)
        output = output.softmax(0)
        grad_outputs = torch.jit.annotate(List[Optional[torch.Tensor]], [torch.ones((2, 2)), ])
        torch.autograd.backward((output,), grad_outputs)

    a = _arr(2, 2)
    a[0, 0] = -1.0
    for fn in (tensor_backward, autograd_backward, autograd_backward_with_grad_tensors):
        s = torch.jit.script(fn)
        for _ in range(2):
            ref_in, in_ = _t(a, True), _t(a, True)
            fn(ref_in)
            s(in_)
            _same(in_.grad, ref_in.grad)


def test_script_autograd_grad():
    def simple_grad(x, y) -> List[Optional[torch.Tensor]]:
        z = x + 2 * y + x * y
        return torch.autograd.grad((z.sum(), ), (x, y))

    def simple_grad_with_grad_outputs(x, y) -> List[Optional[torch.Tensor]]:
        z = x + 2 * y + x * y
        grad_outputs = torch.jit.annotate(List[Optional[torch.Tensor]], [torch.ones((2, 2)), ])
        return torch.autograd.grad((z, ), (x, y), grad_outputs)

    def one_output_not_requires_grad(x, y) -> List[Optional[torch.Tensor]]:
        z = 2 * y + y
        return torch.autograd.grad((z.sum(),), (x, y), allow_unused=True)

    def retain_graph(x, y) -> List[Optional[torch.Tensor]]:
        z = x + 2 * y + x * y
        torch.autograd.grad((z.sum(), ), (x, y), retain_graph=True)
        return torch.autograd.grad((z.sum(), ), (x, y))

    xa, ya = _arr(2, 2), _arr(2, 2)
    for fn in (simple_grad, simple_grad_with_grad_outputs, retain_graph):
        s = torch.jit.script(fn)
        for _ in range(3):
            gx, gy = s(_t(xa, True), _t(ya, True))
            np.testing.assert_allclose(_np(gx), 1 + ya, rtol=1e-6)
            np.testing.assert_allclose(_np(gy), 2 + xa, rtol=1e-6)
    s = torch.jit.script(one_output_not_requires_grad)
    for _ in range(3):
        gx, gy = s(_t(xa, True), _t(ya, True))
        assert gx is None
        np.testing.assert_allclose(_np(gy), np.full((2, 2), 3.0))


def test_linear_grad_with_and_without_bias():
    def t(x, w, b: Optional[torch.Tensor]):
        return F.linear(x, w, b)

    jit_t = torch.jit.script(t)
    xa, wa, ba, ga = _arr(4, 2), _arr(3, 2), _arr(3), _arr(4, 3)
    for bias in (True, True, True, False, False, True):
        x, w = _t(xa, True), _t(wa, True)
        b = _t(ba, True) if bias else None
        o = jit_t(x, w, b)
        o.backward(_t(ga))
        np.testing.assert_allclose(_np(o), xa @ wa.T + (ba if bias else 0), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(_np(x.grad), ga @ wa, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(w.grad), ga.T @ xa, rtol=1e-5, atol=1e-6)
        if bias:
            np.testing.assert_allclose(_np(b.grad), ga.sum(0), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ dropout

def test_dropout_func_requires_grad_train_and_eval():
    def dropout_training(input):
        return F.dropout(input, 0.5, training=True)

    def dropout_eval(input):
        return F.dropout(input, 0.5, training=False)

    s, s_eval = torch.jit.script(dropout_training), torch.jit.script(dropout_eval)
    xa = np.abs(_arr(40, 40)) + 0.1
    for requires_grad in (True, False, True):
        for _ in range(3):
            x = _t(xa, requires_grad)
            r = s(x)
            assert r.requires_grad == requires_grad
            kept = _np(r) != 0
            assert 0.35 < kept.mean() < 0.65
            np.testing.assert_allclose(_np(r)[kept], 2 * xa[kept], rtol=1e-6)
            if requires_grad:
                r.sum().backward()
                np.testing.assert_allclose(_np(x.grad), 2.0 * kept)
            e = s_eval(x)
            assert e.requires_grad == requires_grad
            np.testing.assert_array_equal(_np(e), xa)


def test_dropout_module_requires_grad_train_and_eval():
    class MyModule(torch.nn.Module):
        def __init__(self, M):
            super().__init__()
            self.dropout = torch.nn.Dropout(0.5)
            self.linear = torch.nn.Linear(M, M)

        def forward(self, input):
            input = self.dropout(input)
            return self.linear(input)

    M = 30
    torch.manual_seed(0)    # (a well-conditioned weight for the solve below, whatever ran before)
    m = MyModule(M)
    scripted = torch.jit.script(m)
    wa, ba = _np(m.linear.weight), _np(m.linear.bias)
    xa = np.abs(_arr(M, M)) + 0.1
    for training in (True, False):
        scripted.train(training)
        for requires_grad in (True, False):
            for _ in range(2):
                x = _t(xa, requires_grad)
                r = scripted(x)
                assert r.requires_grad       # the linear's parameters record
                if training:
                    # the dropped input is recoverable from the output: solve for it
                    inp = np.linalg.lstsq(wa, (_np(r) - ba).T, rcond=None)[0].T
                    kept = np.abs(inp) > 1e-3
                    assert 0.3 < kept.mean() < 0.7
                    np.testing.assert_allclose(inp[kept], 2 * xa[kept], rtol=1e-3)
                else:
                    np.testing.assert_allclose(_np(r), xa @ wa.T + ba, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ numbers under script

_SCALARS = ['7', '2', '3', '-3', '3.14', '0.125', '-0.5', '2.0', '-2.0']


@pytest.mark.parametrize("op", ['+', '-', '*', '%', '<', '<=', '>', '>=', '==', '!=', '//',
                                '/', 'min', 'max'])
def test_number_math(op):
    for s1, s2 in itertools.product(_SCALARS, _SCALARS):
        body = f"{op}({s1}, {s2})" if op in ("min", "max") else f"{s1} {op} {s2}"
        src = f"def func():\n    return {body}\n"
        got, want = _script_src(src)(), _eager_src(src)()
        if op in ("min", "max") and "." in s1 + s2:
            want = float(want)      # TorchScript's min/max of an int and a float: a float
        assert type(got) is type(want) and (got == want or abs(got - want) < 1e-12), \
            (body, got, want)


def test_number_math_with_arguments():
    @torch.jit.script
    def f(a: int, b: int, c: float, d: float) -> Tuple[int, int, float, float, float, bool]:
        return a // b, a % b, c // d, c % d, a / b, a < c < b

    for a, b in itertools.product(range(-7, 8, 3), [-3, -2, 1, 4]):
        for c, d in [(3.5, 2.0), (-3.5, 2.0), (3.5, -2.0), (-0.5, 0.25)]:
            assert f(a, b, c, d) == (a // b, a % b, c // d, c % d, a / b, a < c < b)


def test_floor_div_ints():
    @torch.jit.script
    def foo(a: int, b: int) -> int:
        return a // b

    for i in range(-8, 8):
        for j in range(-8, 8):
            if j != 0:
                assert foo(i, j) == i // j
            else:
                with pytest.raises(RuntimeError, match="division by 0"):
                    foo(i, j)

    @torch.jit.script
    def mod(a: int, b: int) -> int:
        return a % b

    for _ in range(2):
        assert mod(-7, 3) == 2
        with pytest.raises(ZeroDivisionError, match="modulo by 0"):
            mod(7, 0)


def test_number_div_augassign_neg_abs():
    def div_int_future():
        return 1 / 2

    def div_float_future():
        return 3.14 / 0.125

    def augassign():
        c = 1
        c += 2
        c *= 4
        c -= 1
        c = c // 2          # (torch 2.13 refuses `c //= 2`: tests/test_script_lang_s34.py)
        c <<= 3
        c >>= 1
        c |= 1
        c ^= 2
        c &= 7
        return c

    def neg():
        return -8, -(8), -8.5, -(-3)

    def fabs():
        return abs(-3), abs(2.5), abs(-0.0)

    for fn in (div_int_future, div_float_future, augassign, neg, fabs):
        got, want = torch.jit.script(fn)(), fn()
        assert got == want and type(got) is type(want), (fn.__name__, got, want)


def test_pow_numbers_and_tensors():
    def func(a, b):
        return a ** b

    def func2(a, b, c, d):
        return c + a ** b ** d

    def func3(a: int, b: float) -> float:
        return a ** b

    def func4() -> float:
        return 2 ** -2

    def func5(x, y):
        return x.item() ** y.item()

    a, b, c, d = (_t(_R.random(1).astype(np.float32)) for _ in range(4))
    s = torch.jit.script(func)
    for _ in range(3):
        np.testing.assert_allclose(_np(s(a, b)), _np(a) ** _np(b), rtol=1e-6)
    s2 = torch.jit.script(func2)
    for _ in range(3):
        np.testing.assert_allclose(_np(s2(a, b, c, d)), _np(c) + _np(a) ** (_np(b) ** _np(d)),
                                   rtol=1e-5)
    assert torch.jit.script(func3)(4, -0.5) == 0.5
    assert torch.jit.script(func4)() == 0.25
    s5 = torch.jit.script(func5)
    vals = [2, -2, .5, .2]
    for x, y in itertools.product(vals, vals):
        if x < 0:
            continue
        got = s5(torch.tensor(x), torch.tensor(y))
        assert type(got) is float and got == pytest.approx(x ** y, rel=1e-6)


_TENSOR_OPS = ['+', '-', '*', '%', '<', '<=', '>', '>=', '==', '!=', '/', '//', '**']


@pytest.mark.parametrize("op", _TENSOR_OPS)
def test_tensor_number_math_dtypes_and_values(op):
    """PyTorch's _test_tensor_number_math: t <op> number and number <op> t give, scripted
    and fused, what they give eagerly (dtype included), for float, double and long t."""
    fl, db = _arr(5, 5), _arr(5, 5, dtype=np.float64)
    lg = _R.integers(-5, 5, (5, 5))
    lg[lg == 0] = 2
    for arr, const, swap in itertools.product((fl, db, lg), ['2', '-2', '1.4321', '-1.2'],
                                              (False, True)):
        if op == '%' and swap:
            continue
        if op == '**' and arr is lg and not swap and const == '-2':
            continue        # integers to negative integer powers are not allowed
        lhs, rhs = ('t', const) if not swap else (const, 't')
        src = f"def func(t):\n    return {lhs} {op} {rhs}\n"
        s, e = _script_src(src), _eager_src(src)
        if op == '//' and swap:
            # TorchScript compiles number // Tensor as aten::floordiv of numbers, the
            # Tensor through aten::IntImplicit/FloatImplicit: a 5x5 t fails at run time
            with pytest.raises(RuntimeError, match="dimension other than 0 as a scalar"):
                s(_t(arr))
            continue
        want = e(_t(arr))
        for _ in range(3):
            got = s(_t(arr))
            assert got.dtype == want.dtype, (src, got.dtype, want.dtype)
            np.testing.assert_allclose(_np(got).astype(np.float64),
                                       _np(want).astype(np.float64), rtol=1e-6, atol=1e-6,
                                       err_msg=src)


def test_type_promotion_under_script_and_fusion():
    @torch.jit.script
    def f(a, b, c):
        return (a + b) * c + 1, a * 2.5, b // 2, (b > 0) + 1, torch.true_divide(b, 2)

    a = _t(_arr(3, 4))
    b = _t(_R.integers(-9, 9, (3, 4)))
    c = _t(_arr(3, 4, dtype=np.float64))
    for _ in range(3):
        r1, r2, r3, r4, r5 = f(a, b, c)
        assert (r1.dtype, r2.dtype, r3.dtype, r4.dtype, r5.dtype) == \
            (torch.float64, torch.float32, torch.int64, torch.int64, torch.float32)
        np.testing.assert_allclose(_np(r1), (_np(a) + _np(b)) * _np(c) + 1, rtol=1e-6)
        np.testing.assert_array_equal(_np(r3), _np(b) // 2)
        np.testing.assert_array_equal(_np(r4), (_np(b) > 0) + 1)
        np.testing.assert_allclose(_np(r5), _np(b) / 2)


def test_int_tensor_overflow_wraps_and_python_ints_stay_exact():
    @torch.jit.script
    def f(x, n: int) -> Tuple[torch.Tensor, int]:
        return x * 4 + 1, n * 4 + 1

    x = torch.tensor([2 ** 62, -(2 ** 62), 3])
    for _ in range(3):
        t, n = f(x, 2 ** 40)
        assert t.dtype == torch.int64
        assert t.tolist() == [1, 1, 13]
        assert n == 2 ** 42 + 1
    x8 = torch.tensor([100, -100, 7], dtype=torch.int8)
    for _ in range(3):
        t, _ = f(x8, 1)
        assert t.dtype == torch.int8 and t.tolist() == [-111, 113, 29]


def test_clamp_and_where_under_script():
    def clamp_fn(x):
        return torch.clamp(x, -0.5, 0.5), x.clamp(min=0.0), x.clamp(max=0), \
            torch.clamp(x, min=-1)

    def clamp_int(x):
        return torch.clamp(x, 2, 5), x.clamp(min=1.5)

    def where_fn(x, y):
        return torch.where(x > 0.0, x, y), x.where(x > 0.0, y), torch.where(x > 0, x, 0.0)

    x = _t(_arr(4, 5))
    for fn, args in ((clamp_fn, (x,)), (clamp_int, (_t(_R.integers(-9, 9, (4, 5))),)),
                     (where_fn, (x, torch.ones(4, 5)))):
        s = check_script(fn, args)
        assert all(_groups(s.graph_for(*args)) <= 2 for _ in range(1))
    xa = _np(x)
    r = torch.jit.script(clamp_fn)(x)
    np.testing.assert_allclose(_np(r[0]), np.clip(xa, -0.5, 0.5))
    np.testing.assert_allclose(_np(r[2]), np.minimum(xa, 0))
    ri = torch.jit.script(clamp_int)(_t(np.arange(-3, 9)))
    assert ri[0].tolist() == [2, 2, 2, 2, 2, 2, 3, 4, 5, 5, 5, 5]
    assert ri[1].dtype == torch.float32 and ri[1].tolist()[:7] == [1.5] * 5 + [2.0, 3.0]


def test_chained_comparisons():
    @torch.jit.script
    def chain(a: int, b: int, c: int) -> Tuple[bool, bool, bool]:
        return a < b < c, a < b > c, a == b == c

    for a, b, c in itertools.product(range(3), repeat=3):
        assert chain(a, b, c) == (a < b < c, a < b > c, a == b == c)

    @torch.jit.script
    def chain_t(x, lo: float, hi: float):
        return lo < x.sum() < hi

    assert chain_t(torch.ones(3), 2.0, 4.0) and not chain_t(torch.ones(3), 3.5, 4.0)


# ------------------------------------------------------------------ in-place ops and aliasing

def test_inplace_ops_alias_their_input():
    @torch.jit.script
    def f(x, y):
        z = x
        z += 1
        y.mul_(2)
        w = y.add_(x)
        return z, w

    for _ in range(3):
        xa, ya = _arr(3), _arr(3)
        x, y = _t(xa), _t(ya)
        z, w = f(x, y)
        np.testing.assert_allclose(_np(x), xa + 1, rtol=1e-6)
        # (y * 2 + x after x += 1: the same float32 roundings, in the function's order;
        # `ya * 2 + xa + 1` rounds otherwise, which cancellation near 0 showed)
        np.testing.assert_allclose(_np(y), ya * 2 + (xa + 1), rtol=1e-6)
        assert z.data_ptr() == x.data_ptr() and w.data_ptr() == y.data_ptr()


def test_inplace_on_a_view_writes_through_and_reads_after():
    @torch.jit.script
    def f(x):
        a = x * 2
        v = a[0]
        v.add_(10)
        b = a.sum(0)
        a[1] = a[1] * 3
        return a, b

    xa = _arr(2, 3)
    for _ in range(3):
        a, b = f(_t(xa))
        e = xa * 2
        e[0] += 10
        eb = e.sum(0)
        e[1] *= 3
        np.testing.assert_allclose(_np(a), e, rtol=1e-6)
        np.testing.assert_allclose(_np(b), eb, rtol=1e-6)


def test_inplace_ops_keep_the_tensors_dtype():
    @torch.jit.script
    def f(x, y):
        x += 2.7
        x *= y
        return x

    x = torch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        f(x, torch.tensor([1.0, 2.0, 3.0]))
    for _ in range(3):
        xf = torch.tensor([1.0, 2.0, 3.0])
        r = f(xf, torch.tensor([2, 2, 2]))
        assert r is xf or r.data_ptr() == xf.data_ptr()
        np.testing.assert_allclose(_np(r), [7.4, 9.4, 11.4], rtol=1e-6)


def test_inplace_in_a_loop_with_fusion():
    @torch.jit.script
    def f(x, n: int):
        acc = torch.zeros_like(x)
        for i in range(n):
            acc.add_(x * i)
            acc.mul_(0.5)
        return acc

    xa = _arr(4, 4)
    for n in (3, 3, 3, 5):
        acc = np.zeros_like(xa)
        for i in range(n):
            acc = (acc + xa * i) * np.float32(0.5)
        np.testing.assert_allclose(_np(f(_t(xa), n)), acc, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ new shapes after the profile

def test_new_shapes_dtypes_ranks_after_the_profile():
    @torch.jit.script
    def f(x, y):
        return (x * y).tanh() + x

    cases = [((3, 4), (3, 4), np.float32), ((3, 4), (3, 4), np.float32), ((5, 1), (1, 6),
             np.float32), ((2, 3, 4), (4,), np.float32), ((3, 4), (3, 4), np.float64),
             ((), (), np.float32), ((0, 3), (3,), np.float32), ((3, 4), (3, 4), np.float32)]
    for sx, sy, dt in cases:
        xa, ya = _arr(*sx, dtype=dt), _arr(*sy, dtype=dt)
        r = f(_t(xa), _t(ya))
        assert r.dtype == (torch.float64 if dt == np.float64 else torch.float32)
        np.testing.assert_allclose(_np(r), np.tanh(xa * ya) + xa, rtol=1e-5, atol=1e-6)
    g = f.graph_for(_t(_arr(3, 4)), _t(_arr(3, 4)))
    assert _groups(g) == 1


def test_non_contiguous_and_broadcast_inputs_after_the_profile():
    @torch.jit.script
    def f(x, y):
        return x * y + y.sigmoid()

    xa, ya = _arr(4, 6), _arr(6, 4)
    for _ in range(2):
        f(_t(xa), _t(ya.T.copy()))
    r = f(_t(xa), _t(ya).t())
    np.testing.assert_allclose(_np(r), xa * ya.T + 1 / (1 + np.exp(-ya.T)), rtol=1e-5)
    r = f(_t(xa)[:, ::2], _t(ya).t()[:, 1::2])
    np.testing.assert_allclose(_np(r), xa[:, ::2] * ya.T[:, 1::2] +
                               1 / (1 + np.exp(-ya.T[:, 1::2])), rtol=1e-5)


def test_last_executed_optimized_graph_and_profiled_runs():
    old = torch._C._jit_set_num_profiled_runs(2)
    try:
        @torch.jit.script
        def f(x):
            return x.exp() * 2 + 1

        x = _t(_arr(8))
        for i in range(4):
            np.testing.assert_allclose(_np(f(x)), np.exp(_np(x)) * 2 + 1, rtol=1e-5)
        g = torch.jit.last_executed_optimized_graph()
        assert _groups(g) == 1
        assert _groups(f.graph_for(x)) == 1
    finally:
        torch._C._jit_set_num_profiled_runs(old)


def test_pow_of_numbers_past_the_reals_and_the_float_range():
    """TorchScript's pow on numbers is C's: nan / +-inf where math.pow raises, and 0.0 to a
    negative power a RuntimeError."""
    @torch.jit.script
    def p(a: float, b: float) -> float:
        return a ** b

    @torch.jit.script
    def pi(a: int, b: int) -> float:
        return a ** b

    assert math.isnan(p(-8.0, 1 / 3)) and math.isnan(p(-2.0, 0.5))
    assert p(10.0, 400.0) == math.inf and p(-10.0, 401.0) == -math.inf
    assert p(2.0, 0.5) == math.sqrt(2.0) and pi(2, -2) == 0.25 and pi(10, 400) == math.inf
    for f, args in ((p, (0.0, -1.0)), (pi, (0, -1))):
        with pytest.raises(RuntimeError, match="0.0 cannot be raised to a negative power"):
            f(*args)


def test_where_method_binds_the_receiver_to_self():
    def fn(x, y):
        return x.where(x > 0.0, y), x.where(y < 0, 2.5 * x)

    x, y = _t(_arr(3, 4)), _t(_arr(3, 4))
    s = check_script(fn, (x, y))
    r = s(x, y)
    xa, ya = _np(x), _np(y)
    np.testing.assert_allclose(_np(r[0]), np.where(xa > 0, xa, ya))
    np.testing.assert_allclose(_np(r[1]), np.where(ya < 0, xa, 2.5 * xa), rtol=1e-6)


def test_polygamma_method_still_binds_n_first():
    @torch.jit.script
    def f(x):
        return x.polygamma(1), torch.polygamma(2, x)

    x = _t(np.array([0.5, 1.0, 2.0], np.float32))
    a, b = f(x)
    np.testing.assert_allclose(_np(a), [4.934802, 1.644934, 0.644934], rtol=1e-5)
    np.testing.assert_allclose(_np(b), [-16.828796, -2.404114, -0.404114], rtol=1e-5)


# ------------------------------------------------------------------ autograd calls in script

def test_script_grad_create_graph_double_backward_through_a_call():
    @torch.jit.script
    def inner(x):
        y = (x * x * x).sum()
        return torch.autograd.grad([y], [x], create_graph=True)[0]

    @torch.jit.script
    def outer(x):
        g = inner(x)
        assert g is not None
        return g * 2

    for _ in range(3):
        x = _t([1.0, 2.0], True)
        r = outer(x)                          # 6 x^2
        assert r.requires_grad and r.tolist() == [6.0, 24.0]
        (gg,) = torch.autograd.grad(r.sum(), x)
        assert gg.tolist() == [12.0, 24.0]    # 12 x


def test_script_backward_accumulates_and_reads_grad_after():
    @torch.jit.script
    def step(w, x) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        before = w.grad
        loss = (w * x).sum()
        loss.backward()
        return before, w.grad

    w = _t([1.0, 2.0], True)
    for i in range(3):
        before, after = step(w, _t([3.0, 4.0]))
        assert (before is None) == (i == 0)
        assert after.tolist() == [3.0 * (i + 1), 4.0 * (i + 1)]


def test_script_requires_grad_and_tensor_requires_grad_flags():
    @torch.jit.script
    def f(x, flag: bool) -> Tuple[torch.Tensor, torch.Tensor, bool, bool]:
        y = x.detach()
        y.requires_grad_(flag)
        t = torch.tensor([1.0, 2.0], requires_grad=flag)
        return y, t, y.requires_grad, t.requires_grad

    for flag in (True, False, True):
        y, t, ry, rt = f(torch.ones(2), flag)
        assert (y.requires_grad, t.requires_grad, ry, rt) == (flag, flag, flag, flag)
        assert y.is_leaf and t.is_leaf and t.dtype == torch.float32


def test_script_autograd_in_a_module_method():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 1)

        def forward(self, x) -> List[Optional[torch.Tensor]]:
            out = self.lin(x).sum()
            return torch.autograd.grad([out], [self.lin.weight, self.lin.bias])

    m = torch.jit.script(M())
    xa = _arr(4, 3)
    for _ in range(3):
        gw, gb = m(_t(xa))
        np.testing.assert_allclose(_np(gw), xa.sum(0, keepdims=True), rtol=1e-5)
        assert gb.tolist() == [4.0]
        assert m.lin.weight.grad is None


def test_script_autograd_errors_as_eager():
    @torch.jit.script
    def f(x) -> List[Optional[torch.Tensor]]:
        y = x * 2
        return torch.autograd.grad([y.sum()], [x])

    with pytest.raises(RuntimeError, match="does not require grad"):
        f(torch.ones(2))

    @torch.jit.script
    def g(x):
        y = x * 2
        y.backward()

    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        g(_t([1.0, 2.0], True))

    def bad(x) -> List[Optional[torch.Tensor]]:
        return torch.autograd.grad([x.sum()], [x], foo=True)

    with pytest.raises(Exception, match="unexpected keyword argument 'foo'"):
        torch.jit.script(bad)


def test_script_autograd_code_round_trips():
    def f(x) -> List[Optional[torch.Tensor]]:
        x.requires_grad_(True)
        y = (x * x).sum()
        return torch.autograd.grad([y], [x], retain_graph=True, allow_unused=True)

    s = torch.jit.script(f)
    code = s.code
    assert "torch.autograd.grad(" in code and ".requires_grad_(True)" in code
    again = torch.jit.CompilationUnit(code.replace("def f(", "def g(", 1)).g
    for fn in (s, again):
        x = torch.tensor([1.0, 3.0])
        (g,) = fn(x)
        assert g.tolist() == [2.0, 6.0] and x.requires_grad


def test_native_dropout_corner_cases_match_eager():
    def t(x, p: float, train: bool):
        return torch.dropout(x, p, train)

    jit_t = torch.jit.script(t)
    xa = _arr(5)
    for train in (True, False):
        for p in (0.0, 1.0):
            for _ in range(2):
                x, x_ref = _t(xa, True), _t(xa, True)
                o, o_ref = jit_t(x, p, train), t(x_ref, p, train)
                o.sum().backward()
                o_ref.sum().backward()
                assert o.equal(o_ref) and x.grad.equal(x_ref.grad)
                if train and p == 1.0:
                    assert o.tolist() == [0.0] * 5 and x.grad.tolist() == [0.0] * 5
                else:
                    np.testing.assert_array_equal(_np(o), xa)


def test_dropout_zero_rate_of_output_and_grad():
    @torch.jit.script
    def func(x):
        return F.dropout(x)

    x = torch.ones(300, 300).requires_grad_()
    for _ in range(3):
        out = func(x)
        (g,) = torch.autograd.grad(out.sum(), x)
        zeros = (_np(out) == 0)
        assert abs(zeros.mean() - 0.5) < 0.02
        np.testing.assert_array_equal(_np(g) == 0, zeros)
        assert set(np.unique(_np(out)).tolist()) <= {0.0, 2.0}


def test_script_tensor_type_and_bool_literal():
    def foo(x, t: torch.dtype):
        return x.type(t)

    def mul_true(x):
        return torch.mul(x, True)

    scr = torch.jit.script(foo)
    x = _t(_arr(3, 4) * 4)
    for t in (torch.int8, torch.float64, torch.float32, torch.float16, torch.bool):
        r = scr(x, t)
        assert r.dtype == t
        np.testing.assert_array_equal(_np(r.float()), _np(foo(x, t).float()))
    check_script(mul_true, (x,))


def test_script_clamp_none_and_abs_and_bitwise():
    def clamp_max_none(x):
        return torch.clamp(x, min=2, max=None)

    def clamp_max(x):
        return torch.clamp(x, max=2)

    def clamp_min_none(x):
        return torch.clamp(x, min=None, max=2)

    def tensor_abs(x):
        return abs(x)

    def float_abs(x: float) -> float:
        return abs(x)

    def bitwise(x, y):
        return x & y, x ^ y, x | y

    def bool_bitwise(x: bool, y: bool) -> Tuple[bool, bool, bool]:
        return x & y, x ^ y, x | y

    r = torch.arange(0, 5)
    assert check_script(clamp_max_none, (r,))(r).tolist() == [2, 2, 2, 3, 4]
    assert check_script(clamp_max, (r,))(r).tolist() == [0, 1, 2, 2, 2]
    assert check_script(clamp_min_none, (r,))(r).tolist() == [0, 1, 2, 2, 2]
    t = torch.tensor([-5, 10, -20])
    assert check_script(tensor_abs, (t,))(t).tolist() == [5, 10, 20]
    assert torch.jit.script(float_abs)(-3.14) == 3.14
    check_script(bitwise, (torch.tensor(2), torch.tensor(3)))
    s = torch.jit.script(bool_bitwise)
    for a, b in itertools.product((True, False), repeat=2):
        assert s(a, b) == (a & b, a ^ b, a | b)


def test_logical_short_circuit_does_not_evaluate_the_right_side():
    @torch.jit.script
    def no_throw(t):
        c1 = 1
        if (False and bool(t[1])) or (True or bool(t[1])):
            c1 = 0
        return c1

    assert no_throw(torch.zeros(0)) == 0

    @torch.jit.script
    def throws(t):
        return False or bool(t[1])

    with pytest.raises(IndexError, match="index 1 is out of bounds|out of range"):
        throws(torch.zeros(0))
