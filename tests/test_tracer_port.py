"""PyTorch's test/jit/test_tracer.py (TestTracer, TestMixTracingScripting) ported as
behaviour: values against NumPy or literals, what the graphs show, TracerWarnings,
check_trace / check_inputs errors, containers in and out, modules and submodules."""
import io
import warnings
from collections import namedtuple
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn as nn
import gpujit.nn.functional as F


def N(t):
    return t.detach().cpu().numpy()


def close(a, b, tol=1e-6):
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            close(x, y, tol)
        return
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            close(a[k], b[k], tol)
        return
    a = N(a) if isinstance(a, torch.Tensor) else np.asarray(a)
    b = N(b) if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def check_order(text, *parts):
    """Each part occurs in text, in this order (FileCheck's check chain)."""
    pos = 0
    for p in parts:
        i = text.find(p, pos)
        assert i >= 0, f"{p!r} not found after position {pos} in\n{text}"
        pos = i + len(p)


def tracer_warnings(fn):
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in ws if issubclass(w.category, torch.jit.TracerWarning)]


def check_trace(fn, inputs, other_inputs=None, grads=True):
    """PyTorch's checkTrace: the trace gives eager's values and gradients."""
    traced = torch.jit.trace(fn, inputs)
    for ins in [inputs] + ([other_inputs] if other_inputs is not None else []):
        close(traced(*ins), fn(*ins))
        if grads:
            xs = [x.detach().requires_grad_(True) for x in ins]
            ys = [x.detach().requires_grad_(True) for x in ins]
            a, b = traced(*xs), fn(*ys)
            a = a[0] if isinstance(a, tuple) else a
            b = b[0] if isinstance(b, tuple) else b
            a.sum().backward()
            b.sum().backward()
            for x, y in zip(xs, ys):
                if y.grad is not None:
                    close(x.grad, y.grad)
    return traced


# ---------------------------------------------------------------- basics
def test_simple_sigmoid_tanh_values_and_grads():
    x = torch.tensor([0.4], requires_grad=True)
    y = torch.tensor([0.7], requires_grad=True)
    check_trace(lambda x, y: torch.sigmoid(torch.tanh(x * (x + y))), (x, y))
    v = 1 / (1 + np.exp(-np.tanh(0.4 * 1.1)))
    close(torch.jit.trace(lambda x, y: torch.sigmoid(torch.tanh(x * (x + y))), (x, y))(x, y),
          np.array([v], np.float32), 1e-6)


def test_tensor_made_inside_trace_is_a_constant():
    class MyModule(nn.Module):
        def forward(self, x):
            return (x + 1, torch.tensor([0.0]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.jit.trace(MyModule(), torch.randn(2, 2))
    x = torch.ones(2, 2)
    a, b = tm(x)
    close(a, np.full((2, 2), 2.0, np.float32))
    close(b, np.zeros(1, np.float32))


def test_list_input_with_global_tensors():
    class MyClass(nn.Module):
        def forward(self, xs):
            return torch.cat(xs, dim=0)

    global input1, input2
    input1 = torch.ones(2, 2)
    input2 = torch.ones(2, 2)
    m2 = torch.jit.trace(MyClass(), ((input1, input2),))
    close(m2((torch.zeros(1, 2), torch.ones(2, 2))), np.r_[np.zeros((1, 2)), np.ones((2, 2))])


def test_parameter_passed_as_input():
    class M(nn.Module):
        def __init__(self, x):
            super().__init__()
            self.x = nn.Parameter(x)

        def forward(self, y):
            return self.x + y

    m = M(torch.rand(3, 4))
    r = torch.jit.trace(m, m.x)
    t2 = torch.rand(3, 4)
    close(r(t2), N(m.x) + N(t2))


def test_script_function_defined_in_traced_forward():
    class TracedInlineDecision(nn.Module):
        def forward(self, x, flag):
            @torch.jit.script
            def make_decision(flag, x):
                if flag:
                    return x
                else:
                    return torch.zeros_like(x)
            x = torch.neg(x)
            return make_decision(flag, x)

    d = TracedInlineDecision()
    t = torch.jit.trace(d, (torch.rand(3, 4), torch.tensor([True], dtype=torch.bool)),
                        check_trace=True)
    x = torch.rand(3, 4)
    close(t(x, torch.tensor([True])), -N(x))
    close(t(x, torch.tensor([False])), np.zeros((3, 4)))


def test_single_tuple_output():
    x = torch.tensor(2.)
    f2 = torch.jit.trace(lambda x: (x,), x)
    out = f2(x)
    assert isinstance(out, tuple) and len(out) == 1
    assert float(out[0]) == 2.0


def test_namedtuple_input():
    Point = namedtuple('point', ['x', 'y'])

    def f(p):
        if type(p) is tuple:
            p = Point(*p)
        return p.x + p.y

    p = Point(torch.randn(1), torch.randn(1))
    traced = torch.jit.trace(f, (p,))
    close(traced(p), f(p))
    q = Point(torch.ones(1), torch.ones(1))
    close(traced(q), [2.0])


def test_topk_with_tensor_k_follows_new_inputs():
    class M(nn.Module):
        def forward(self, x, y):
            return x.topk(y, dim=1)[1]

    mod = M()
    traced = torch.jit.trace(mod, (torch.randint(0, 10, (20, 20)), torch.tensor(17)))
    for n, k in ((9, 8), (50, 12)):
        x = torch.tensor(np.random.permutation(n * n).reshape(n, n))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = traced(x, torch.tensor(k))
        assert out.shape == (n, k)
        np.testing.assert_array_equal(N(out), np.argsort(-N(x), axis=1)[:, :k])


def test_type_as_trace_check():
    a = torch.tensor([0.4], requires_grad=True)
    b = torch.tensor([0.7], requires_grad=True)
    t = torch.jit.trace(lambda x, y: x.type_as(y), (a, b))
    out = t(torch.tensor([0.5]), torch.tensor([1], dtype=torch.int64))
    assert out.dtype is torch.int64


def test_index_by_tensor_and_constant_index_grad():
    x = torch.tensor([0.4], requires_grad=True)
    y = torch.tensor([0], dtype=torch.int64)
    t = torch.jit.trace(lambda x, y: x[y], (x, y))
    close(t(x, y), [0.4])

    def fn(x):
        return x[0]

    traced = torch.jit.trace(fn, torch.ones(1))
    for f in (fn, traced):
        out = f(x)
        g = torch.autograd.grad(out, x)[0]
        close(out, np.float32(0.4))
        close(g, [1.0])


def test_index_put_with_mask():
    mask = torch.tensor([[True, True, True], [True, False, False], [True, True, False]])

    def test_fn(ten, mask):
        ten[mask] = torch.ones(6)
        return ten

    traced = torch.jit.trace(test_fn, (torch.zeros(3, 3), mask))
    ten = torch.rand(3, 3)
    exp = N(ten).copy()
    exp[N(mask)] = 1
    close(traced(ten.clone(), mask), exp)


def test_constant_from_diag_matmul():
    def f(x):
        return x.matmul(torch.diag(torch.tensor([2., 2.])))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.jit.trace(f, (torch.randn(2, 2, requires_grad=True),))
    x = torch.ones(2, 2, requires_grad=True)
    out = t(x)
    close(out, np.full((2, 2), 2.0))
    out.sum().backward()
    close(x.grad, np.full((2, 2), 2.0))


def test_wrapped_number_no_inputs():
    def foobar():
        x = -10000.0
        return x * torch.ones(1, dtype=torch.float)

    t = torch.jit.trace(foobar, (), check_trace=True)
    out = t()
    assert out.dtype is torch.float32
    close(out, [-10000.0])


def test_inplace_transplant_graph():
    def fn(x):
        y = x.clone()
        y.add_(2)
        y.add_(3)
        return y

    t = torch.jit.trace(fn, (torch.tensor([0.], requires_grad=True),))
    g = str(t.graph)
    assert g.count("aten::clone") == 1 and g.count("aten::add_") == 2
    close(t(torch.tensor([1.0])), [6.0])


def test_force_outplace_fill_and_zero():
    x = torch.randn(10, 15)
    ft = torch.jit.trace(lambda x: torch.empty(x.shape).fill_(7), x, _force_outplace=True)
    close(ft(x), np.full((10, 15), 7.0))
    close(ft(torch.randn(2, 3)), np.full((2, 3), 7.0))
    fz = torch.jit.trace(lambda x: torch.empty(x.shape).zero_(), x, _force_outplace=True)
    close(fz(torch.randn(4, 1)), np.zeros((4, 1)))


@pytest.mark.parametrize("rg", [False, True])
def test_trace_size(rg):
    def fn(x):
        return x.view(x.shape[1] * 2, x.size(0), 2)

    x = torch.randn(5, 2, 4, requires_grad=rg)
    y = torch.randn(4, 8, 4, requires_grad=rg)
    t = torch.jit.trace(fn, x)
    assert t(y).shape == (16, 4, 2)
    close(t(y), fn(y))
    close(t(x), fn(x))


@pytest.mark.parametrize("rg", [False, True])
def test_trace_arange(rg):
    x = torch.randn(5, 3, 2, requires_grad=rg)
    y = torch.randn(8, 2, 4, requires_grad=rg)
    a = torch.jit.trace(lambda x: torch.arange(x.shape[0]), x)
    np.testing.assert_array_equal(N(a(y)), np.arange(8))
    np.testing.assert_array_equal(N(a(x)), np.arange(5))
    b = torch.jit.trace(lambda x: torch.arange(12), x)
    np.testing.assert_array_equal(N(b(y)), np.arange(12))
    c = torch.jit.trace(lambda x: torch.arange(start=x.shape[0], end=x.shape[0] + 5), x)
    np.testing.assert_array_equal(N(c(y)), np.arange(8, 13))
    np.testing.assert_array_equal(N(c(x)), np.arange(5, 10))


def test_full_keeps_dynamic_shape():
    ge = torch.jit.trace(lambda x: torch.full(x.shape, 2.), example_inputs=torch.randn(3, 4))
    assert ge(torch.randn(2, 7)).shape == (2, 7)
    close(ge(torch.randn(2, 7)), np.full((2, 7), 2.0))


def test_slice_setitem_dynamic_shape():
    def slice_setitem(x, y):
        x[:, 2] = y + 1
        return x

    x = torch.randn(3, 4)
    traced = torch.jit.trace(slice_setitem, (x, x[:, 0]))
    x = torch.randn(10, 5)
    exp = N(x).copy()
    exp[:, 2] = exp[:, 0] + 1
    close(traced(x.clone(), x[:, 0]), exp)


@pytest.mark.parametrize("rg", [False, True])
def test_trace_slice_follows_sizes(rg):
    def slc(x):
        return tuple(x[:x.size(0) - i, i:x.size(2), i:3] for i in range(4))

    def slice_select(x):
        return tuple(x[:, i:, x.size(2) - 5] for i in range(4))

    x = torch.randn(5, 6, 7, requires_grad=rg)
    y = torch.randn(7, 8, 9, requires_grad=rg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t1 = torch.jit.trace(slc, x)
        t2 = torch.jit.trace(slice_select, x)
    for f, t in ((slc, t1), (slice_select, t2)):
        close(t(y), f(y))
        close(t(x), f(x))
    yn = N(y)
    close(t1(y)[2], yn[:5, 2:9, 2:3])
    close(t2(y)[1], yn[:, 1:, 4])


def test_trace_casts_record_one_to():
    casts = [
        lambda x: x.byte(),
        lambda x: x.float(),
        lambda x: x.cpu(),
        lambda x: x.to(device='cpu'),
        lambda x: x.to(dtype=torch.int64),
        lambda x: x.to(device='cpu', dtype=torch.float),
        lambda x: x.to(x),
    ]
    for cast in casts:
        t = torch.jit.trace(cast, torch.randn(2, 2))
        assert sum(n.kind == 'aten::to' for n in t.graph.nodes()) == 1, str(t.graph)
        x = torch.randn(2, 2) * 5
        a, b = t(x), cast(x)
        assert a.dtype is b.dtype
        close(a, b)

    t = torch.jit.trace(lambda x, y: x.to(y), (torch.randn(2, 2), torch.randn(1, 8)))
    assert sum(n.kind == 'aten::to' for n in t.graph.nodes()) == 1
    out = t(torch.randn(2, 2), torch.zeros(1, 10, dtype=torch.float64))
    assert out.dtype is torch.float64


def test_trace_warn_kinds_in_order():
    def fn(x):
        int(x)
        y = x * 1
        if y:
            pass
        q = [x, x * 4]
        z = q[y]
        float(z)
        z.tolist()
        z.numpy()
        for _ in torch.ones(4, 4):
            pass
        return z + 4

    _, ws = tracer_warnings(lambda: torch.jit.trace(fn, torch.tensor([1]), check_trace=False))
    assert 'a Python integer' in ws[0]
    assert 'a Python boolean' in ws[1]
    assert 'a Python float' in ws[2]
    assert 'a Python list' in ws[3]
    assert 'a NumPy array' in ws[4]
    assert 'Iterating over' in ws[5]


def test_nested_tuple_output_graph():
    def fn(x, y):
        return x, (x * y[1], x * y[0])

    x, y = torch.randn(2, 2), (torch.ones(2, 2), torch.randn(2, 2))
    t = torch.jit.trace(fn, (x, y))
    close(t(x, y), fn(x, y))
    g = str(t.graph)
    assert g.count("prim::TupleConstruct") == 2
    lines = g.strip().splitlines()
    assert "prim::TupleConstruct" in lines[-2] and "return" in lines[-1]


def test_random_normal_follows_rng():
    traced = torch.jit.trace(lambda m, s: torch.normal(m, s),
                             (torch.zeros(2, 3), torch.ones(2, 3)), check_trace=False)
    mean, std = torch.zeros(5, 5), torch.ones(5, 5)
    torch.manual_seed(3)
    a = torch.normal(mean, std)
    torch.manual_seed(3)
    b = traced(mean, std)
    close(a, b)


@pytest.mark.parametrize("kw", [{}, {"dtype": "int"}, {"out": True}])
def test_tensor_factory_is_recorded(kw):
    kwargs = {}
    if "dtype" in kw:
        kwargs["dtype"] = torch.int32
    if "out" in kw:
        kwargs["out"] = torch.tensor([])

    def fn(x):
        return x + torch.ones(2, 3, **kwargs)

    inp = torch.ones(2, 3, dtype=kwargs.get("dtype", torch.float32))
    t = torch.jit.trace(fn, inp)
    assert "ones" in str(t.graph)
    out = t(inp)
    assert out.dtype is inp.dtype
    close(out, np.full((2, 3), 2))


def test_indexed_assignment_checktrace():
    def stuff(x, y):
        x = x.clone()
        x[0] = y
        return x

    ex = torch.rand(3, 4)
    check_trace(stuff, (ex, ex[0] + 1))


def test_output_nesting_is_kept():
    def fn(x):
        return (x * 2, (x ** 2, x + 4, (x + 2,)), x * 4)

    x = torch.randn(2, 2)
    t = torch.jit.trace(fn, (x,))
    out = t(x)
    assert isinstance(out[1][2], tuple)
    close(out, fn(x))


def test_input_tuple_flattened():
    def fn(x, t):
        y, z = t
        return x * y * z

    check_trace(fn, (torch.randn(1), (torch.randn(1), torch.randn(1))), grads=False)


def test_input_dict_empty_errors():
    with pytest.raises(RuntimeError):
        torch.jit.trace(lambda d: None, ({},))


def test_input_dict_remembers_keys():
    class TestModule(nn.Module):
        def forward(self, dict_input):
            return dict_input['x']

    m = torch.jit.trace(TestModule(), ({'x': torch.tensor(1)},))
    assert int(m({'x': torch.tensor(1)})) == 1
    assert int(m({'x': torch.tensor(2)})) == 2
    with pytest.raises(RuntimeError):
        m({'y': torch.tensor(3)})
    assert int(m({'x': torch.tensor(4), 'y': torch.tensor(3)})) == 4


def test_input_dict_insertion_order():
    class TestModule(nn.Module):
        def forward(self, d):
            return d['x'], d['y']

    m = torch.jit.trace(TestModule(), ({'x': torch.tensor(1), 'y': torch.tensor(2)},))
    a, b = m({'y': torch.tensor(4), 'x': torch.tensor(3)})
    assert (int(a), int(b)) == (3, 4)


def test_input_dict_recursive_int_keys():
    class TestModule(nn.Module):
        def forward(self, d):
            return d['x'][1]

    m = torch.jit.trace(TestModule(), ({'x': {1: torch.tensor(1)}},))
    assert int(m({'x': {1: torch.tensor(2)}})) == 2


def test_input_dict_mutation_checktrace():
    def test(d):
        d['x'].tanh_()
        return d['x']

    x = torch.rand(3, 4)
    t = torch.jit.trace(test, ({'x': x.clone(), 'y': torch.rand(3, 4)},))
    d = {'x': x.clone(), 'y': torch.rand(3, 4)}
    out = t(d)
    close(out, np.tanh(N(x)))
    close(d['x'], np.tanh(N(x)))


def test_input_dict_unify_dtypes():
    def test(d):
        return d['int'], d['float']

    ins = {'int': torch.ones((2, 2), dtype=torch.int32), 'float': torch.ones((2, 2))}
    t = torch.jit.trace(test, (ins,))
    a, b = t(ins)
    assert a.dtype is torch.int32 and b.dtype is torch.float32


def test_input_tuple_of_dicts_and_dict_of_dicts_and_lists():
    inner = {'x': {'y': torch.rand(2, 3)}}
    t = torch.jit.trace(lambda t: t[0]['x']['y'], ((inner, inner),))
    new = {'x': {'y': torch.ones(2, 3)}}
    close(t((new, new)), np.ones((2, 3)))

    ins = {'x': {'y': torch.rand(2, 3)}, 'force_unify': {'y': torch.rand(3, 2)}}
    t = torch.jit.trace(lambda d: d['x']['y'], (ins,))
    close(t(ins), ins['x']['y'])

    t = torch.jit.trace(lambda d: d['x'][0], ({'x': [torch.rand(3, 2)]},))
    close(t({'x': [torch.ones(3, 2)]}), np.ones((3, 2)))


def test_input_list_toplevel_flattened():
    ins = [torch.ones(2, 2), torch.rand(2, 2)]
    t = torch.jit.trace(lambda t1, t2: torch.add(t1, t2), ins)
    close(t(*ins), N(ins[1]) + 1)

    class Test(nn.Module):
        def forward(self, t1, t2):
            return torch.add(t1, t2)
    tm = torch.jit.trace(Test(), ins)
    close(tm(*ins), N(ins[1]) + 1)


def test_input_list_of_tuples():
    t = torch.jit.trace(lambda l: l[0][0], ([(torch.ones(2, 2),)],))
    close(t([(torch.zeros(2, 2),)]), np.zeros((2, 2)))


def test_input_dict_empty_list_errors():
    with pytest.raises(RuntimeError, match='List trace'):
        torch.jit.trace(lambda d: None, ({1: []},))


def test_input_list_mixed_type_errors():
    with pytest.raises(RuntimeError, match='consistent'):
        torch.jit.trace(lambda d: None, ([torch.rand(2, 3), (torch.ones(2), torch.ones(2))],))


def test_conv_module_trace():
    m = nn.Conv2d(16, 13, 3, bias=False)
    x = torch.ones(2, 16, 10, 8)
    t = torch.jit.trace(m, x)
    close(t(x), m(x), 1e-4)


def test_max_pool_in_graph():
    x = torch.rand(2, 3, 10, 10)
    t = torch.jit.trace(lambda x: F.max_pool2d(x, 2) + 2, (x,))
    assert "aten::max_pool2d(" in str(t.graph_for(x))
    exp = N(x).reshape(2, 3, 5, 2, 5, 2).max(axis=(3, 5)) + 2
    close(t(x), exp)


def test_nested_inplace_threshold():
    x = torch.randn(2, 2)
    t = torch.jit.trace(lambda x: F.threshold(x, 0, 0, inplace=True), (x.clone(),))
    assert "threshold_" in str(t.graph)
    y = x.clone()
    close(t(y), np.where(N(x) > 0, N(x), 0))


def test_repeated_input_and_output():
    t = torch.jit.trace(lambda a, b: a + b, (torch.randn(2, 2),) * 2)
    assert len(list(t.graph.inputs())) == 2

    def fn(a, b):
        z = a + b
        return z, z

    t = torch.jit.trace(fn, (torch.randn(2, 2), torch.randn(2, 2)))
    out = list(t.graph.outputs())[0]
    ins = list(out.node.inputs)
    assert ins[0] is ins[1]


def test_inplace_copy_into_zeros():
    def f(x):
        out = torch.zeros(x.size())
        out.copy_(x)
        return out

    x = torch.randn(4, 4, requires_grad=True)
    t = torch.jit.trace(f, (x,))
    y = torch.randn(3, 5, requires_grad=True)
    out = t(y)
    close(out, y)
    out.sum().backward()
    close(y.grad, np.ones((3, 5)))


def test_shared_param_one_input():
    class MyModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = self.a = nn.Parameter(torch.randn(2, 2))

        def forward(self, x):
            return x * self.a + self.b

    m = MyModule()
    t = torch.jit.trace(m, (torch.randn(2, 2),))
    check_order(str(t.graph), "mul", "add")
    x = torch.randn(2, 2)
    close(t(x), N(x) * N(m.a) + N(m.a))


def test_graph_executor_cases():
    def rand(*a):
        return torch.rand(*a)
    check_trace(lambda a, b: a * b + b, (rand(1), rand(1)), (rand(2, 3), rand(2, 3)))
    t = torch.jit.trace(lambda a, b: (b, a), (rand(1), rand(1)))
    a, b = rand(1), rand(1)
    close(t(a, b), (b, a))

    def foo(a):
        t = a * a
        return t * t, 4 * t
    check_trace(foo, (rand(1),))
    check_trace(lambda a, b: a * a, (rand(1), rand(1)))
    check_trace(lambda a, b: a * b / (a - 2 * b) + b, (rand(1), rand(1)))


def test_double_backward_through_trace():
    def foo(a, b):
        return a * b / (a - b) + b

    ge = torch.jit.trace(foo, (torch.rand(1), torch.rand(1)))
    a, b = torch.rand(1, requires_grad=True), torch.rand(1, requires_grad=True)
    r = ge(a, b)
    da, db = torch.autograd.grad(r + 3, [a, b], create_graph=True)
    g1 = torch.autograd.grad(da * db + db * db, [da, db])
    r2 = foo(a, b)
    da2, db2 = torch.autograd.grad(r2 + 3, [a, b], create_graph=True)
    close(da, da2)
    close(db, db2)
    g2 = torch.autograd.grad(da2 * db2 + db2 * db2, [da2, db2])
    close(g1, g2)


def test_trace_decorator_style_and_module_attrs():
    foo = torch.jit.trace(lambda a: a + a + a, torch.rand(1))
    x = torch.randn(5, 5)
    close(foo(x), 3 * N(x))


def test_traced_module_submodules_state_dict_and_casts():
    class Model(nn.Module):
        def __init__(self, num_features, num_layers):
            super().__init__()
            self.num_layers = num_layers
            layers = [[nn.Linear(num_features, num_features), nn.Sigmoid()]
                      for _ in range(num_layers)]
            self.submodule = nn.Sequential(*[m for pair in layers for m in pair])

        def forward(self, x):
            for i in range(self.num_layers):
                x = self.submodule[i](x) + x
            return x

    model = Model(5, 3)
    x = torch.randn(2, 5)
    tm = torch.jit.trace(model, x)
    repr(model)
    close(tm(x), model(x), 1e-5)
    lin = next(iter(tm.submodule._modules.values()))
    assert lin.in_features == 5          # (torch 2.13 keeps plain attributes too)
    with pytest.raises(AttributeError):
        lin.no_such_attribute
    lin.weight
    lin.weight = nn.Parameter(torch.randn(*lin.weight.shape))
    tm.double()
    out = tm(x.double())
    assert out.dtype is torch.float64
    state = {k: v.clone() for k, v in tm.state_dict().items()}
    new_state = {k: v.clone().fill_(1) for k, v in state.items()}
    out = tm(x.double())
    tm.load_state_dict(new_state)
    out_ones = tm(x.double())
    tm.load_state_dict(state)
    close(tm(x.double()), out)
    assert not np.allclose(N(out), N(out_ones))


def test_export_import_same_values_and_grads(tmp_path):
    def func(a, b):
        return a * b / (a - 2 * b) + b

    ins = [torch.tensor([0.55619788169860839844], requires_grad=True),
           torch.tensor([0.25947844982147216797], requires_grad=True)]
    ge1 = torch.jit.trace(func, ins)
    buf = io.BytesIO()
    torch.jit.save(ge1, buf)
    buf.seek(0)
    ge2 = torch.jit.load(buf)
    o1, o2 = ge1(*ins), ge2(*ins)
    g1 = torch.autograd.grad(o1, ins)
    g2 = torch.autograd.grad(o2, ins)
    assert float(o1) == float(o2)
    assert all(float(a) == float(b) for a, b in zip(g1, g2))


def test_autograd_function_inside_trace():
    class MyFn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x + 1

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    class MyFn2(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x + 1, x - 1

        @staticmethod
        def backward(ctx, ga, gb):
            return ga + gb

    fn = torch.jit.trace(lambda x: MyFn.apply(x + 2) + 3, torch.zeros(2))
    close(fn(torch.tensor([1., 2., 3.])), [7., 8., 9.])
    y = torch.randn(2, 2, requires_grad=True)
    out = fn(y)
    out.sum().backward()
    close(y.grad, np.ones((2, 2)))

    def f2(x):
        a, b = MyFn2.apply(x + 2)
        return a + b + 3
    fn2 = torch.jit.trace(f2, torch.zeros(2))
    close(fn2(torch.tensor([1., 2., 3.])), [9., 11., 13.])


def test_autograd_function_graph_node_and_multi_output():
    class Foo(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return y, x

        @staticmethod
        def backward(ctx, du, dv):
            return dv, du

    class Bar(nn.Module):
        def forward(self, x, y):
            return Foo.apply(x.relu(), y.relu())

    x = torch.rand(3, 2, dtype=torch.float64)
    y = torch.rand(1, 2, dtype=torch.float64)
    traced = torch.jit.trace(Bar(), (x, y))
    u, v = traced(x, y)
    close(u, y)
    close(v, x)


def test_detach_recorded_and_result_needs_no_grad():
    def foo(x, w):
        return torch.matmul(x, w).detach()

    def foo_(x, w):
        y = torch.matmul(x, w)
        y.detach_()
        return y

    for f, name in ((foo, "detach"), (foo_, "detach")):
        traced = torch.jit.trace(f, (torch.rand(3, 4), torch.rand(4, 5)))
        check_order(str(traced.graph), "matmul", name)
        x, w = torch.rand(3, 4), torch.rand(4, 5, requires_grad=True)
        r = traced(x, w)
        close(r, N(x) @ N(w), 1e-5)
        assert not r.requires_grad and r.grad_fn is None


def test_detach_redispatch_inside_trace():
    def foo(x, w):
        y = torch.matmul(x, w)
        assert y.requires_grad
        y = y.detach()
        assert not y.requires_grad
        return y

    def foo_(x, w):
        y = torch.matmul(x, w)
        assert y.requires_grad
        y.detach_()
        assert not y.requires_grad
        return y

    x, w = torch.rand(3, 4), torch.rand(4, 5, requires_grad=True)
    torch.jit.trace(foo, (x, w), check_trace=False)
    torch.jit.trace(foo_, (x, w), check_trace=False)


def test_slice_full_dim_follows_input():
    t = torch.jit.trace(lambda x: x[0:5, 0] + 1.0, (torch.rand(5, 4),))
    x = torch.rand(6, 3)
    close(t(x), N(x)[0:5, 0] + 1)


def test_dict_passed_to_submodule():
    class Foo(nn.Module):
        def forward(self, x):
            return {'a': x['a'] * x['b']}

    class Bar(nn.Module):
        def __init__(self):
            super().__init__()
            self.foo = Foo()

        def forward(self, a, b):
            return self.foo({'a': a, 'b': b})['a']

    x = (torch.rand(3), torch.rand(3))
    t = torch.jit.trace(Bar(), x)
    y = (torch.rand(3), torch.rand(3))
    close(t(*y), N(y[0]) * N(y[1]))


def test_dict_output_strict_and_tensor_keys():
    class StrKeys(nn.Module):
        def forward(self, a, b):
            return {'a': a, 'b': b}

    class TensorKeys(nn.Module):
        def forward(self, a, b):
            return {a: b, b: a}

    x = (torch.rand(3), torch.rand(3))
    with pytest.raises(RuntimeError, match="Encountering a dict at the output"):
        torch.jit.trace(StrKeys(), x)
    t = torch.jit.trace(StrKeys(), x, strict=False)
    close(t(*x), {'a': x[0], 'b': x[1]})
    t = torch.jit.trace(TensorKeys(), x, strict=False)
    out = t(*x)
    assert len(out) == 2
    for k, v in out.items():
        close(v, x[1] if np.array_equal(N(k), N(x[0])) else x[0])


def test_list_outputs():
    def f():
        return [torch.zeros(1), torch.zeros(5)]

    with pytest.warns(torch.jit.TracerWarning, match="cause the trace to be incorrect"):
        torch.jit.trace(f, [])
    t = torch.jit.trace(f, [], strict=False)
    out = t()
    assert isinstance(out, list) and [o.shape for o in out] == [(1,), (5,)]
    with pytest.raises(RuntimeError, match=r"Only tensors.+can be output from traced"):
        torch.jit.trace(lambda: [1, 5], [])
    with pytest.raises(RuntimeError, match=r"Only tensors.+can be output from traced"):
        torch.jit.trace(lambda: [[torch.zeros(1)], [torch.zeros(5)]], [])


def test_traced_fn_called_from_script_slice():
    foo = torch.jit.trace(lambda x: x + 1.0, (torch.rand(3, 4),))

    @torch.jit.script
    def bar(x):
        return foo(x)[0:1]

    x = torch.rand(3, 4)
    close(bar(x), (N(x) + 1)[0:1])


def test_trace_of_script_fn_with_size_and_device():
    @torch.jit.script
    def tensor_size(x: torch.Tensor) -> torch.Tensor:
        return torch.tensor([x.size()[0]])

    assert N(tensor_size(torch.rand(15))).tolist() == [15]
    t = torch.jit.trace(tensor_size, torch.rand(7))
    assert N(t(torch.rand(15))).tolist() == [15]

    @torch.jit.script
    def use_device(x):
        return torch.zeros_like(x, device=x.device)

    t = torch.jit.trace(lambda x: use_device(x), torch.rand(7))
    assert "prim::device" in str(t.inlined_graph)     # (t.graph: a prim::CallFunction)
    close(t(torch.rand(3)), np.zeros(3))


def test_trace_save_load(tmp_path):
    out = torch.jit.trace(lambda x: x + 2, (torch.ones(2, 2),))
    fname = str(tmp_path / "f.pt")
    out.save(fname)
    loaded = torch.jit.load(fname)
    x = torch.randn(2, 2)
    close(loaded(x), N(x) + 2)


def test_arange_without_inputs():
    class Test(nn.Module):
        def forward(self):
            return torch.arange(5)

    t = torch.jit.trace(Test(), ())
    np.testing.assert_array_equal(N(t()), np.arange(5))


def test_save_load_copy_and_deepcopy():
    import copy

    class Test(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3)

        def forward(self, x):
            return self.conv(x)

    m = Test()
    traced = torch.jit.trace(m, torch.rand(1, 3, 16, 16))
    buf = io.BytesIO()
    torch.jit.save(traced, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    x = torch.rand(1, 3, 8, 8)
    for c in (copy.copy(loaded), copy.deepcopy(loaded)):
        close(c(x), m(x), 1e-5)


def test_exported_methods_kept_on_traced_module():
    class Foo(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = 3

        @torch.jit.export
        def __getstate__(self):
            return (3, self.training)

        @torch.jit.export
        def __setstate__(self, state):
            self.a = state[0]
            self.training = state[1]

        def forward(self, x):
            return x + self.a

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.foo = Foo()

        def forward(self, x):
            return self.foo(x)

    traced = torch.jit.trace(Foo(), (torch.rand(3, 4),))
    # (torch checks traced._c._has_method; the scripted methods run here)
    assert traced._method('__getstate__')() == (3, True)
    traced = torch.jit.trace(Wrapper(), (torch.rand(3, 4),))
    assert traced.foo._method('__getstate__')() == (3, True)
    traced.foo._method('__setstate__')((5, False))
    assert traced.foo.a == 5 and traced.foo.training is False
    x = torch.rand(3, 4)
    close(traced(x), N(x) + 3)

    class Bar(nn.Module):
        @torch.jit.export
        def addTwo(self, x):
            return x + 2

        def forward(self, input):
            return (lambda a: a + 1)(input)

    class WrapperExports(nn.Module):
        def __init__(self):
            super().__init__()
            self.bar = Bar()

        @torch.jit.export
        def addOne(self, x):
            return x + 1

        def forward(self, x):
            return self.bar(x)

    traced = torch.jit.trace(WrapperExports(), (torch.rand(3, 4),))
    close(traced.addOne(x), N(x) + 1)
    close(traced.bar.addTwo(x), N(x) + 2)
    close(traced(x), N(x) + 1)


def test_autograd_function_in_submodule():
    class TestFunc(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            return torch.neg(input)

        @staticmethod
        def backward(ctx, grad_output):
            return torch.neg(grad_output)

    class Inner(nn.Module):
        def forward(self, x):
            return torch.relu(TestFunc.apply(x))

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.tm = Inner()

        def forward(self, x):
            return self.tm(x)

    t = torch.jit.trace(Wrapper(), (torch.rand(3, 4),))
    x = torch.randn(3, 4)
    close(t(x), np.maximum(-N(x), 0))


def test_interpolate_scale_factor_not_baked():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)

        def forward(self, x):
            y = self.conv(x)
            return F.interpolate(y, mode='bilinear', align_corners=False, scale_factor=3)

    f = M()
    g = torch.jit.trace(f, (torch.zeros(1, 1, 8, 8),))
    x = torch.rand(1, 1, 5, 5)
    out = g(x)
    assert out.shape == (1, 4, 15, 15)
    close(out, f(x), 1e-5)


def test_trace_of_script_fn_with_optional():
    @torch.jit.script
    def test(x: Optional[torch.Tensor]):
        if x is None:
            return torch.zeros(1)
        else:
            return x

    f_none = torch.jit.trace(lambda: test(None), ())
    close(f_none(), np.zeros(1))
    f_tensor = torch.jit.trace(lambda: test(torch.zeros(2)), ())
    close(f_tensor(), np.zeros(2))


def test_trace_of_script_nested_lists():
    @torch.jit.script
    def foo(x):
        return [[x + 1, x - 1], [x + 2, x - 2]]

    def bar(x):
        ls = foo(x)
        return ls[0][0], ls[1][1]

    traced = torch.jit.trace(bar, torch.rand(3, 4))
    x = torch.rand(5, 6)
    close(traced(x), bar(x))


def test_traced_fn_and_traced_module_called_from_traced_module():
    traced_fn = torch.jit.trace(lambda x: torch.neg(x), torch.rand(3, 4))

    class TM(nn.Module):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.rand(4, 5))

        def forward(self, x):
            return traced_fn(torch.mm(x, self.param))

    m = TM()
    tm = torch.jit.trace(m, torch.rand(3, 4))
    check_order(str(tm.inlined_graph), "aten::mm", "neg")   # (graph: a CallFunction)
    x = torch.rand(3, 4)
    close(tm(x), -(N(x) @ N(m.param)), 1e-5)

    class TM1(nn.Module):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.rand(5, 7))

        def forward(self, x):
            return torch.mm(x, self.param)

    class TM2(nn.Module):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.rand(4, 5))
            self.mod = torch.jit.trace(TM1(), torch.rand(3, 5))

        def forward(self, x):
            return self.mod(torch.mm(x, self.param)) + 1.0

    m2 = TM2()
    tm2 = torch.jit.trace(m2, torch.rand(3, 4))
    check_order(str(tm2.graph), "aten::mm", "aten::add")
    close(tm2(x), N(x) @ N(m2.param) @ N(m2.mod.param) + 1, 1e-5)


def test_index_put_values_from_broadcast_rhs():
    # (torch views the (1, 1, 1, 4) value down to (4,) first: a TorchScript internal;
    # the values are what count)
    def f(target, indices, rhs):
        target[indices] = rhs
        return target

    t = torch.jit.trace(f, (torch.rand(100), torch.tensor([1, 2, 3, 4]), torch.rand(1, 1, 1, 4)))
    assert "index_put_" in str(t.graph)
    out = t(torch.zeros(10), torch.tensor([0, 2, 4, 6]), torch.ones(1, 1, 1, 4))
    close(out, [1, 0, 1, 0, 1, 0, 1, 0, 0, 0])
    t = torch.jit.trace(f, (torch.rand(100), torch.tensor([1, 2, 3, 4]), torch.rand(4)))
    out = t(torch.zeros(6), torch.tensor([5, 4, 3, 2]), torch.tensor([1., 2., 3., 4.]))
    close(out, [0, 0, 4, 3, 2, 1])


def test_checker_tensor_constant_differs():
    # torch's example is `x.data`, which torch's tracer cannot follow; gpujit records it
    # (aten::detach), so that trace generalizes. A tensor made from Python values can't be
    # followed by either: the check names the constant that differs.
    t = torch.jit.trace(lambda x: x + x.data, torch.rand(3, 4),
                        check_inputs=[(torch.rand(3, 4),)])
    x = torch.rand(2, 2)
    close(t(x), 2 * N(x))
    with pytest.raises(torch.jit.TracingCheckError,
                       match='Tensor-valued Constant nodes differed in value across invocations'):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.jit.trace(lambda x: x + torch.tensor(x.tolist()), torch.rand(3, 4),
                            check_inputs=[(torch.rand(3, 4),)])


def test_checker_control_flow_and_memoization():
    def foo(x):
        for _ in range(x.size(0)):
            x = torch.neg(x)
        return x

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(torch.jit.TracingCheckError, match='Graphs differed across invocations!'):
            torch.jit.trace(foo, torch.randn(3, 4), check_inputs=[torch.randn(4, 4)])

        def bar(x):
            if not hasattr(bar, 'cache'):
                bar.cache = torch.neg(x)
            return x + bar.cache

        with pytest.raises(torch.jit.TracingCheckError, match='Graphs differed across invocations!'):
            torch.jit.trace(bar, torch.rand(3, 4), check_inputs=[(torch.rand(3, 4),)])


def test_checker_slice_lhs():
    def foo(x):
        for i in range(3):
            x[i, :] = torch.zeros(4)
        return x

    t = torch.jit.trace(foo, (torch.rand(3, 4),))
    close(t(torch.rand(3, 4)), np.zeros((3, 4)))


def test_inplace_on_view_warns_and_check_mismatch():
    def foo(x):
        x.view(-1).add_(-x.view(-1))
        return x

    _, ws = tracer_warnings(lambda: torch.jit.trace(foo, torch.rand(3, 4), check_trace=False))
    # torch 2.13 is silent here: its "live references ... might cause the trace to be
    # incorrect" warning needs _force_outplace (ensureUniqueIfOutOfPlaced; d40)
    assert not any("cause the trace to be incorrect" in w for w in ws)
    _, ws = tracer_warnings(lambda: torch.jit.trace(foo, torch.rand(3, 4), check_trace=False,
                                                    _force_outplace=True))
    assert any("cause the trace to be incorrect" in w for w in ws)
    _, ws = tracer_warnings(lambda: torch.jit.trace(foo, torch.rand(3, 4),
                                                    check_inputs=[torch.rand(5, 6)]))
    assert not any("Output nr 1." in w for w in ws)  # gpujit replays the write: no mismatch


def test_lhs_index_number_and_ellipsis():
    def foo(x):
        x[0, 1] = 4
        return x

    t = torch.jit.trace(foo, torch.rand(3, 4))
    out = t(torch.zeros(2, 2))
    close(out, [[0, 4], [0, 0]])

    def bar(y, x):
        y[...] = x
        return y

    t = torch.jit.trace(bar, (torch.rand(3, 4), torch.rand(4)))
    x = torch.rand(4)
    close(t(torch.rand(3, 4), x), np.broadcast_to(N(x), (3, 4)))


def test_checker_dropout_train_warns():
    def foo(x):
        return torch.dropout(x, p=0.5, train=True)

    _, ws = tracer_warnings(lambda: torch.jit.trace(foo, torch.rand(3, 4),
                                                    check_inputs=[torch.rand(5, 6)]))
    assert any('Output nr 1. of the traced function does not match the corresponding output '
               'of the Python function' in w for w in ws)
    assert any('Trace had nondeterministic nodes' in w for w in ws)

    x = torch.rand(3, 4)
    t = torch.jit.trace(lambda x: torch.dropout(x, p=0.5, train=False), x)
    close(t(x), x)


def test_contiguous_recorded_and_copies():
    x = torch.rand(2, 3, 4)
    t = torch.jit.trace(lambda x: x[:, :, ::2].contiguous().view(12), (x,))
    y = t(x)
    close(y, N(x)[:, :, ::2].reshape(12))
    assert not np.shares_memory(N(y), N(x))
    t = torch.jit.trace(lambda x: x.contiguous(), (x,))
    assert "aten::contiguous" in str(t.graph)


def test_bitwise_not_uint8():
    t = torch.jit.trace(lambda x: ~x, torch.zeros(3, 4, dtype=torch.uint8))
    out = t(torch.zeros(3, dtype=torch.uint8))
    assert out.dtype is torch.uint8
    np.testing.assert_array_equal(N(out), [255, 255, 255])


def test_modulelist_and_passed_submodule():
    class MySubmod(nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(x)

    class MyMod(nn.Module):
        def __init__(self):
            super().__init__()
            self.ml = nn.ModuleList([MySubmod(), MySubmod()])

        def forward(self, x):
            for mod in self.ml:
                x = mod(x)
            return x

    t = torch.jit.trace(MyMod(), (torch.rand(3, 4),))
    x = torch.randn(3, 4)
    close(t(x), np.maximum(N(x), 0))

    class Sub2(nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(x), torch.neg(x)

    class FMod(nn.Module):
        def forward(self, x, submod):
            return submod(x)

    class Mod(nn.Module):
        def __init__(self):
            super().__init__()
            self.sm = Sub2()
            self.fm = FMod()

        def forward(self, x):
            return self.fm(x, self.sm)

    t = torch.jit.trace(Mod(), (torch.rand(3, 4),))
    a, b = t(x)
    close(a, np.maximum(N(x), 0))
    close(b, -N(x))


def test_fork_wait_in_trace():
    class Sub(nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(x), torch.neg(x)

    class Mod(nn.Module):
        def __init__(self):
            super().__init__()
            self.ml = nn.ModuleList([Sub() for _ in range(2)])

        def forward(self, x):
            futs = [torch.jit._fork(self.ml[i], x) for i in range(2)]
            return torch.stack([torch.jit._wait(futs[i])[0] for i in range(2)])

    t = torch.jit.trace(Mod(), torch.rand(3, 4))
    x = torch.randn(3, 4)
    close(t(x), np.stack([np.maximum(N(x), 0)] * 2))


def test_records_variable_names():
    def foo(bar, baz):
        baz = bar + 3
        quick_brown_fox = torch.neg(baz)
        for _ in range(20):
            yeet = quick_brown_fox - 3.14
        return yeet

    g = str(torch.jit.trace(foo, (torch.rand(3, 3), torch.rand(3, 3))).graph)
    for name in ('bar', 'baz', 'quick_brown_fox'):
        assert name in g


@pytest.mark.parametrize("kind", ["post_inplace", "post_return", "post_captured",
                                  "pre_inplace", "pre_return"])
def test_forward_hooks_are_traced(kind):
    class Net(nn.Module):
        def forward(self, x):
            return x + x

    b = torch.tensor(3.0)
    hooks = {
        "post_inplace": (True, lambda m, i, o: (i[0].add_(1), o.sub_(1)) and None,
                         ("add(", "add_(", "sub_(")),
        "post_return": (True, lambda m, i, o: (i[0].add_(1), o - 3)[1], ("add(", "add_(", "sub(")),
        "post_captured": (True, lambda m, i, o: o - b, ("add(", "sub(")),
        "pre_inplace": (False, lambda m, i: i[0].add_(3) and None, ("add_(", "add(")),
        "pre_return": (False, lambda m, i: i[0] - 4, ("sub(", "add(")),
    }
    post, hook, order = hooks[kind]
    n = Net()
    (n.register_forward_hook if post else n.register_forward_pre_hook)(hook)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = torch.jit.trace(n, (torch.tensor(1.0),))
    eager_in = torch.tensor(1.0)
    eager_out = n(eager_in)
    check_order(str(module.forward.graph), *order)
    inp = torch.tensor(1.0)
    out = module(inp)
    assert float(inp) == float(eager_in)
    assert float(out) == float(eager_out)


def test_backward_hook_refused():
    class Net(nn.Module):
        def forward(self, x):
            return x + x

    n = Net()
    if not hasattr(n, "register_full_backward_hook"):
        pytest.skip("gpujit's nn.Module has no backward hooks yet")
    n.register_full_backward_hook(lambda m, gi, go: None)
    with pytest.raises(Exception, match="backward hooks assigned"):
        torch.jit.trace(n, (torch.tensor(1.0),))


def test_trace_multiple_methods_and_check_inputs():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.conv(x)

        def weighted_kernel_sum(self, weight):
            return weight * self.conv.weight

    w = torch.rand(1, 1, 3, 3)
    xin = torch.rand(1, 1, 3, 3)
    inputs = {'forward': xin, 'weighted_kernel_sum': w}
    n = Net()
    module = torch.jit.trace_module(n, inputs)
    checks = [{'forward': torch.rand(1, 1, 3, 3), 'weighted_kernel_sum': torch.rand(1, 1, 3, 3)}
              for _ in range(2)]
    module = torch.jit.trace_module(n, inputs, check_trace=True, check_inputs=checks)
    close(module.weighted_kernel_sum(w), N(w) * N(n.conv.weight))
    close(module(xin), n(xin), 1e-5)
    m2 = torch.jit.trace(n.forward, xin)
    m2 = torch.jit.trace(n.forward, xin, check_trace=True, check_inputs=[xin])
    close(m2(xin), n(xin), 1e-5)
    with pytest.raises(AttributeError, match="trace doesn't support compiling individual "
                                             "module's functions"):
        torch.jit.trace(n.weighted_kernel_sum, inputs)


def test_tensor_with_grad_as_constant_and_non_tensor_input():
    param = torch.randn(3).requires_grad_()
    with pytest.raises(RuntimeError, match="Cannot insert a Tensor that requires grad as a constant"):
        torch.jit.trace(lambda x: x + param, torch.randn(3))
    with pytest.raises(RuntimeError, match=r"Type 'Tuple\[int\]' cannot be traced"):
        torch.jit.trace(lambda x: x, (1,))


def test_none_submodule_and_conditional_property():
    class TestModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.submod = nn.Linear(3, 4)
            self.submod = None

        def forward(self, inputs):
            return inputs

    tm = torch.jit.trace(TestModule(), torch.tensor(1.))
    assert not hasattr(tm, "submod")

    class Net(nn.Module):
        def __init__(self, attr=None):
            super().__init__()
            if attr is not None:
                self._attr = attr
            self.attr_name = '_attr'

        @property
        def attr(self):
            return getattr(self, self.attr_name)

        def forward(self, x):
            return x

    t = torch.jit.trace(Net(), torch.ones(1))
    close(t(torch.ones(1)), [1.0])


def test_argument_names_captured():
    def fn(first_arg, second_arg):
        return first_arg + second_arg

    g = str(torch.jit.trace(fn, (torch.ones(1), torch.ones(1))).graph)
    lines = g.splitlines()
    assert "first_arg" in lines[0] and "second_arg" in lines[1]

    def fn2(first_arg, second_arg=1):
        return first_arg + second_arg

    g = str(torch.jit.trace(fn2, (torch.ones(1),)).graph)
    assert "first_arg" in g and "second_arg" not in g

    class TestModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, first_arg, second_arg):
            return self.conv(first_arg) + second_arg

    m = TestModule()
    ex = (torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3))
    for t in (torch.jit.trace(m.forward, ex), torch.jit.trace(m, ex)):
        check_order(str(t.graph), "first_arg", "second_arg")


# ---------------------------------------------------------------- tracing and scripting mixed
def test_trace_script_functions_with_containers():
    @torch.jit.script
    def func1(x: Tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return x[0] + x[1]

    @torch.jit.script
    def func2(x: List[torch.Tensor]) -> torch.Tensor:
        return x[0] + x[1]

    a, b = torch.randn(5), torch.randn(5)
    for f in (func1, func2):
        t = torch.jit.trace(f, ((a, b),))
        close(t((a, b)), N(a) + N(b))

    @torch.jit.script
    def func3(x: torch.Tensor, method: str = 'bilinear', align_corners: bool = True):
        hw = x.shape[2:4]
        return F.interpolate(x, hw, mode=method, align_corners=align_corners)

    inp = torch.rand(1, 3, 6, 6)
    t = torch.jit.trace(func3, (inp,))
    close(t(inp), inp, 1e-6)


def test_script_fn_returning_dict_inside_trace():
    @torch.jit.script
    def return_dict(input: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"foo": input + 1}

    class TraceModule(nn.Module):
        def forward(self, input):
            d = return_dict(input)
            return d["foo"] + d["foo"]

    x = torch.ones(1)
    tm = torch.jit.trace(TraceModule(), x)
    close(tm(x), [4.0])


def test_trace_of_script_with_control_flow():
    @torch.jit.script
    def foo(a, c):
        b = 0.0
        if bool(a == 0.0):
            b = 1.0
        return b + c

    a = torch.ones(1)
    use = torch.jit.trace(lambda b: foo(b - 1.0, a) + 1.0, torch.zeros(1))
    assert "Dynamic" not in str(use.graph)
    assert float(use(torch.ones(1))) == 3
    assert float(use(torch.zeros(1))) == 2


def test_traced_fn_called_from_script_int():
    foo = torch.jit.trace(lambda x: x + 1, torch.zeros(1, 1))

    @torch.jit.script
    def bar(x):
        y = int(foo(x))
        if 1 == 1:
            y = 7
        return y + 1

    assert bar(torch.ones(1, 1)) == 8


def test_slicing_and_indexing_follow_input():
    foo_trace = torch.jit.trace(lambda x: x[-5:-3], torch.zeros(10))
    a, b = torch.arange(0, 8), torch.arange(0, 20)
    np.testing.assert_array_equal(N(foo_trace(a)), [3, 4])
    np.testing.assert_array_equal(N(foo_trace(b)), [15, 16])
    foo_trace = torch.jit.trace(lambda x: x[-2], torch.zeros(10))
    assert int(foo_trace(a)) == 6 and int(foo_trace(b)) == 18


def test_script_module_hierarchy_kept_in_trace(tmp_path):
    class AnotherScriptMod(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.rand(1, 2, 3))

        @torch.jit.script_method
        def bar(self):
            return torch.zeros(4, 5)

    class SomeScriptMod(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.asm = AnotherScriptMod()

        @torch.jit.script_method
        def foo(self):
            return torch.zeros(3, 4)

        @torch.jit.script_method
        def bar(self):
            return torch.zeros(4, 3)

    class TraceMe(nn.Module):
        def __init__(self):
            super().__init__()
            self.ssm = SomeScriptMod()

        def forward(self, x):
            return self.ssm.bar() + x

    traced = torch.jit.trace(TraceMe(), (torch.rand(4, 3),))
    assert hasattr(traced.ssm, 'foo')
    f = str(tmp_path / "m.pt")
    torch.jit.save(traced, f)
    imported = torch.jit.load(f)
    assert hasattr(imported.ssm, 'foo') and hasattr(imported.ssm.asm, 'bar')
    assert hasattr(imported.ssm.asm, 'param')
    x = torch.rand(4, 3)
    close(imported(x), x)
    close(imported.ssm.foo(), np.zeros((3, 4)))


def test_script_module_holding_traced_modules_saves():
    class Param(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_parameter("bias", nn.Parameter(torch.empty(4, 4)))

        def forward(self, x):
            return x

    class M3(torch.jit.ScriptModule):
        def __init__(self, model):
            super().__init__()
            self.traced = torch.jit.trace(model, (torch.rand(3, 3)))

        @torch.jit.script_method
        def forward(self, x):
            return self.traced(x)

    class M2(nn.Module):
        def __init__(self, model):
            super().__init__()
            self.module = M3(model)

        def forward(self, x):
            return self.module(x)

    class M1(torch.jit.ScriptModule):
        def __init__(self, model):
            super().__init__()
            self.traced = torch.jit.trace(M2(model), (torch.rand(3, 3)))

        @torch.jit.script_method
        def forward(self, x):
            return self.traced(x)

    module = M1(Param())
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    buf.seek(0)
    x = torch.rand(3, 3)
    close(torch.jit.load(buf)(x), x)


def test_script_and_traced_calls_each_other():

    @torch.jit.script
    def sfn(x):
        return torch.neg(x)

    class TM(nn.Module):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.rand(4, 5))

        def forward(self, x):
            return sfn(torch.mm(x, self.param))

    m = TM()
    tm = torch.jit.trace(m, torch.rand(3, 4))
    x = torch.rand(3, 4)
    close(tm(x), -(N(x) @ N(m.param)), 1e-5)

    class ScriptMod(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.param_foo = nn.Parameter(torch.rand(5, 7))

        @torch.jit.script_method
        def forward(self, x):
            return torch.mm(x, self.param_foo)

    class TM2(nn.Module):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.rand(4, 5))
            self.mod = ScriptMod()

        def forward(self, x):
            return self.mod(torch.mm(x, self.param)) + 1.0

    m2 = TM2()
    tm2 = torch.jit.trace(m2, torch.rand(3, 4))
    check_order(str(tm2.graph), "aten::mm", "aten::add")
    close(tm2(x), N(x) @ N(m2.param) @ N(m2.mod.param_foo) + 1, 1e-5)

    traced_fn = torch.jit.trace(lambda x: torch.neg(x), torch.rand(3, 4))

    @torch.jit.script
    def script_fn(x):
        return traced_fn(x) + 1

    close(script_fn(x), 1 - N(x))

    class TracedMod(nn.Module):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.rand(3, 5))

        def forward(self, x):
            return torch.mm(x, self.param)

    class SM(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.rand(4, 3))
            self.tm = torch.jit.trace(TracedMod(), torch.rand(3, 3))

        @torch.jit.script_method
        def forward(self, x):
            return self.tm(torch.mm(x, self.param))

    sm = SM()
    y = torch.rand(2, 4)
    close(sm(y), N(y) @ N(sm.param) @ N(sm.tm.param), 1e-5)

    traced_fn3 = torch.jit.trace(lambda x: torch.neg(x), torch.rand(3, 3))

    class SM3(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.rand(4, 3))

        @torch.jit.script_method
        def forward(self, x):
            return traced_fn3(torch.mm(x, self.param))

    sm3 = SM3()
    close(sm3(y), -(N(y) @ N(sm3.param)), 1e-5)


def test_traced_module_not_a_submodule_called_from_script_errors():
    class TM(nn.Module):
        def forward(self, x):
            return torch.mm(x, torch.zeros(4, 3))

    tm = torch.jit.trace(TM(), torch.rand(3, 4))
    with pytest.raises(RuntimeError, match="Cannot call a ScriptModule that is not a submodule "
                                           "of the caller"):
        @torch.jit.script
        def script_fn(x):
            return tm(x) + 1


def test_script_module_calls_traced_with_two_args():
    class M(nn.Module):
        def forward(self, input, input2):
            return input + input2

    class M2(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.m = torch.jit.trace(M(), (torch.zeros(4, 3), torch.zeros(4, 3)))

        @torch.jit.script_method
        def forward(self, inp):
            return self.m(inp, inp)

    m2 = M2()
    close(m2(torch.ones(4, 3)), np.full((4, 3), 2.0))


def test_dict_of_lists_input_through_scripted_submodule():
    class testB(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 2)

        def forward(self, feature_map: Dict[str, List[torch.Tensor]]) -> torch.Tensor:
            output = []
            for i, j in feature_map.items():
                output.append(self.linear(j[0]))
            return torch.stack(output)

    class testA(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = torch.jit.script(testB())

        def forward(self, input_map: Dict[str, List[torch.Tensor]]) -> torch.Tensor:
            feature_map = {}
            for i, j in input_map.items():
                feature_map[i] = [j[0]]
            return self.b(feature_map)

    input_map = {"1": [torch.rand(2, 2), torch.rand(2, 2)], "3": [torch.rand(2, 2), torch.rand(2, 2)]}
    model = testA()
    traced = torch.jit.trace(model, input_map)
    new = {"1": [torch.rand(2, 2), torch.randn(2, 2)], "3": [torch.rand(2, 2), torch.rand(2, 2)]}
    close(traced(new), model(new), 1e-5)


def test_script_returning_dict_of_tuples_inside_trace():
    class ReturnsDict(nn.Module):
        def forward(self, id_score_list: Dict[str, Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
                    ) -> Dict[str, Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
            v = id_score_list["1000"]
            idx_keys = v[1] - 1500000
            weights = v[2]
            return {"1000": (v[0], idx_keys, weights)}

    class ChecksDict(nn.Module):
        def forward(self, input: Dict[str, Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]):
            v = input["1000"]
            return v[1] + 1

    class TestModule(nn.Module):
        def __init__(self, checks_dict, returns_dict):
            super().__init__()
            self.checks_dict = checks_dict
            self.returns_dict = returns_dict

        def forward(self, input: Dict[str, Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]):
            return self.checks_dict(self.returns_dict(input))

    input1 = {"1000": (torch.tensor([0]), torch.tensor([], dtype=torch.int64), torch.tensor([]))}
    input2 = {"1000": (torch.tensor([0]), torch.tensor([1500000, 1500004], dtype=torch.int64),
                       torch.tensor([2.0, 3.0]))}
    eager = TestModule(torch.jit.script(ChecksDict()), torch.jit.script(ReturnsDict()))
    traced = torch.jit.trace(eager, input1)
    assert N(traced(input1)).tolist() == []
    assert N(traced(input2)).tolist() == [1, 5]


def test_dict_of_tuples_output_and_bad_dict():
    class ReturnsDict(nn.Module):
        def forward(self, k, v):
            return {"imakey": (2 * k, 3 * v)}

    class ReturnsBadDict(nn.Module):
        def forward(self, k, v):
            return {"imakey": (2 * k, 1)}

    t = torch.jit.trace(ReturnsDict(), [torch.ones(1), torch.ones(1)], strict=False)
    out = t(torch.ones(1), torch.ones(1))
    assert list(out) == ["imakey"]
    close(out["imakey"], ([2.0], [3.0]))
    with pytest.raises(RuntimeError, match="cannot be understood by the tracer, only outputs "
                                           "matching"):
        torch.jit.trace(ReturnsBadDict(), [torch.ones(1), torch.ones(1)], strict=False)


def test_linear_traced_as_aten_linear():
    m = nn.Linear(20, 20)
    inp = torch.rand(20, 20)
    t = torch.jit.trace(m, (inp,))
    assert "aten::linear" in str(t.graph)
    close(t(inp), N(inp) @ N(m.weight).T + N(m.bias), 1e-5)


def test_traced_module_with_scripted_interface_submodule():
    class LeafModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.rand(19))

        def forward(self, input: torch.Tensor):
            return input + self.weight

    class LowerModuleImpl(nn.Module):
        def __init__(self):
            super().__init__()
            self.leaf = LeafModule()

        def forward(self, input: torch.Tensor) -> torch.Tensor:
            return self.leaf(input)

    @torch.jit.interface
    class LowerModuleInterface(nn.Module):
        def forward(self, input: torch.Tensor) -> torch.Tensor:
            pass

    class MiddleModule(nn.Module):
        lower: LowerModuleInterface

        def __init__(self):
            super().__init__()
            self.lower = LowerModuleImpl()

        def forward(self, input):
            return self.lower(input)

    class WrapperModule(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.middle = m

        def forward(self, input):
            return self.middle(input)

    class TopModule(nn.Module):
        def __init__(self):
            super().__init__()
            m = torch.jit.script(MiddleModule())
            self.sub1 = m
            self.sub2 = WrapperModule(m)

        def forward(self, input: torch.Tensor):
            return self.sub1(input) + self.sub2(input)

    top = TopModule()
    t = torch.jit.trace(top, torch.ones(1))
    w = N(top.sub1.lower.leaf.weight)
    close(t(torch.ones(1)), 2 * (1 + w))


def test_many_kernel_args_recurrence():
    class Recurrence(nn.Module):
        def __init__(self, seq_len):
            super().__init__()
            self.seq_len = seq_len

        def forward(self, input):
            input = input.transpose(0, 1)
            output = [input[i] * 2 for i in range(self.seq_len)]
            output = torch.cat(output, 0).view(input.size(0), *output[0].size())
            return output.transpose(0, 1)

    rec = Recurrence(130)
    x = torch.rand(2, 130, 8)
    t = torch.jit.trace(rec, (x,))
    close(t(x), 2 * N(x))


def test_variable_instantiation_in_trace():
    from gpujit.autograd import Variable

    def f(x):
        return Variable(Variable(x) + 1.0)

    t = torch.jit.trace(f, (torch.rand(3, 4),))
    x = torch.rand(5, 6)
    close(t(x), N(x) + 1)


def test_scripted_module_passed_as_interface():
    @torch.jit.interface
    class TestModuleInterface(nn.Module):
        def forward(self, first_arg: torch.Tensor, second_arg: torch.Tensor) -> torch.Tensor:
            pass

    globals()["TestModuleInterface"] = TestModuleInterface

    class TestModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, first_arg: torch.Tensor, second_arg: torch.Tensor) -> torch.Tensor:
            return self.conv(first_arg) + second_arg

    def fn_takes_interface(x: TestModuleInterface):
        ones = torch.ones(1, 1, 3, 3)
        return x.forward(ones, ones)

    m = TestModule()
    sm = torch.jit.script(m)
    ones = torch.ones(1, 1, 3, 3)
    close(torch.jit.script(fn_takes_interface)(sm), m(ones, ones), 1e-5)


@pytest.mark.cuda
def test_device_moves_recorded_for_other_devices():
    # x.cpu() of a CPU example is recorded (aten::to), so CUDA inputs come back to the CPU
    t = torch.jit.trace(lambda x: (x * 2).cpu(), torch.rand(3))
    assert sum(n.kind == "aten::to" for n in t.graph.nodes()) == 1
    x = torch.rand(3, device="cuda")
    out = t(x)
    assert out.device.type == "cpu"
    close(out, 2 * N(x))
    t = torch.jit.trace(lambda x: x.to(device="cpu") + 1, torch.rand(3))
    assert t(x).device.type == "cpu"
