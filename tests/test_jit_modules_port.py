"""Behaviour ported from PyTorch's test/jit/test_recursive_script.py (recursive scripting
of nn.Module), test_type_sharing.py (what a user sees: each scripted instance keeps its
own attributes, constants, submodules and function attributes) and test_attr.py. Each
scripted module is compared with the same module run eagerly (and with literal values /
NumPy), and saved + loaded once (jit_module_checks.check_module). Containers:
test_jit_module_containers_port.py; hooks: test_jit_hooks_port.py.

Skipped from test_recursive_script.py:
- test_script_after_eval / test_dir parts reading ``sm._c``: C++ module internals.
- test_module_name / test_script_basic: FileCheck on internal graph naming
  (``_tmp_donotuse_dont_inline_everything``) only.
- test_repeated_error_stack / test_error_stack_class / test_error_stack_annotation:
  exact wording of TorchScript's "is being compiled" call stack; ported as "the error
  names the function that failed" where gpujit says it its own way.
- test_prepare_scriptable_cycle: a ``__dict__``-planted reference cycle, no user program.
- test_attributes: the __getstate__/__setstate__ TorchScript class attribute (SFoo).
Skipped from test_type_sharing.py: the comparisons of ``m._c._type()`` themselves (an
internal) and test_type_sharing_disabled (torch.jit._recursive internals).
"""
import types
import typing
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from jit_module_checks import _roundtrip, _same, _x, check_module

nn = torch.nn


# ---------------------------------------------------------------------- test_recursive_script

def test_inferred_none_attribute():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.x = None

        def forward(self):
            assert self.x is None
            return 1

    assert check_module(M(), ()) is not None


@pytest.mark.parametrize("which", ["script", "python"])
def test_function_attribute(which):
    def add(x):
        return x + x

    def sub(x):
        return x - x

    class M(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return self.fn(x)

    x = _x(2, 2)
    if which == "script":
        for fn in (add, sub):
            sm = check_module(M(torch.jit.script(fn)), (x,))
            _same(sm(x), fn(x))
    else:
        sm = check_module(M(torch.sigmoid), (x,))
        np.testing.assert_allclose(sm(x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-5)


def test_failed_function_compilation_names_the_missing_name(tmp_path, monkeypatch):
    (tmp_path / "zn_missing_name.py").write_text("def fn(x):\n    return i_dont_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from zn_missing_name import fn

    class M(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return self.fn(x)

    with pytest.raises(RuntimeError, match="i_dont_exist"):
        torch.jit.script(M(fn))


def test_module_without_super_init_is_refused():
    class M(nn.Module):
        def __init__(self):
            self.x = 2

        def forward(self):
            pass

    with pytest.raises(RuntimeError, match="has not been initialized"):
        torch.jit.script(M())


def test_script_after_eval_keeps_the_training_flag_of_its_time():
    class M(nn.Module):
        def forward(self):
            if self.training:
                return 2
            else:
                return 0

    m = M()
    sm1 = torch.jit.script(m)
    m.eval()
    sm2 = torch.jit.script(m)
    assert m.training is False
    assert sm1.training is True and sm1() == 2
    assert sm2.training is False and sm2() == 0
    sm1.eval()
    assert sm1() == 0


def test_final_constants_every_spelling():
    finals = [torch.jit.Final, typing.Final]
    try:
        import typing_extensions            # (not a dependency: CI may lack it)
        finals.append(typing_extensions.Final)
    except ImportError:
        pass
    for final in finals:
        class M(nn.Module):
            x: final[int]

            def __init__(self):
                super().__init__()
                self.x = 2

            def forward(self, t):
                return t + self.x

        x = _x(2, 2)
        sm = check_module(M(), (x,))
        np.testing.assert_allclose(sm(x).numpy(), x.numpy() + 2, rtol=1e-6)


def test_ignored_class_cannot_be_instantiated():
    @torch.jit.ignore
    class MyScriptClass:
        def unscriptable(self):
            return "a" + 200

    class TestModule(nn.Module):
        def forward(self, x):
            return MyScriptClass()

    with pytest.raises(RuntimeError, match="Cannot instantiate class.*MyScriptClass|"
                       "MyScriptClass.*[Cc]annot instantiate"):
        torch.jit.script(TestModule())


def test_method_calls_another_method():
    class M(nn.Module):
        def test(self, x):
            return x

        def forward(self, z):
            y = self.test(z)
            return z + 20 + y

    x = _x(2, 2)
    sm = check_module(M(), (x,))
    np.testing.assert_allclose(sm(x).numpy(), 2 * x.numpy() + 20, rtol=1e-6)
    assert "test" in dir(sm)


class _Sub(nn.Module):
    def forward(self, x):
        return x


class _Reprs(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(10, 10, 3)
        self.lin = nn.Linear(10, 10)
        self.sub = _Sub()

    def forward(self, x):
        return self.lin(x) + self.sub(x)


def test_module_repr_and_original_name():
    m = torch.jit.script(_Reprs())
    text = str(m)
    pos = [text.find(w) for w in ("_Reprs", "Conv2d", "Linear", "_Sub")]
    assert all(p >= 0 for p in pos) and pos == sorted(pos), text
    assert m.original_name == "_Reprs"
    assert m.sub.original_name == "_Sub"


def test_dir_of_scripted_module_covers_the_eager_one():
    def check(mod):
        ignore = {"training", "__delitem__", "__setitem__", "clear", "items", "keys",
                  "pop", "update", "values"}
        scripted = set(dir(torch.jit.script(mod)))
        missing = [a for a in dir(mod) if a not in ignore and a not in scripted]
        assert not missing, missing

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(10, 10, 3)
            self.lin = nn.Linear(10, 10)

        def forward(self, x):
            return self.lin(x) + self.conv(x)

    check(M())
    # containers: torch's dir() of a scripted Sequential also lists Sequential's eager
    # methods (__add__, append, ...) that the scripted module does not have (hasattr is
    # False there); what a user relies on is the submodules and the compiled methods
    conv, lin = nn.Conv2d(10, 10, 3), nn.Linear(10, 10)
    seq = torch.jit.script(nn.Sequential(conv, lin))
    assert "forward" in dir(seq) and hasattr(seq, "0")
    md = torch.jit.script(nn.ModuleDict(OrderedDict([("conv", conv), ("linear", lin)])))
    assert {"conv", "linear", "keys", "items", "values"} <= set(dir(md))


def test_python_class_used_in_forward_is_compiled():
    def other_fn(a: int, b: torch.Tensor) -> torch.Tensor:
        return a * b

    class B:
        def __init__(self, x):
            self.x = 2

        def helper(self, a):
            return self.x + a + other_fn(self.x, a)

    class N(nn.Module):
        def forward(self, x):
            b = B(x)
            return b.helper(x)

    x = _x(2, 2)
    sm = check_module(N(), (x,))
    np.testing.assert_allclose(sm(x).numpy(), 2 + 3 * x.numpy(), rtol=1e-6)


def _d(x: int) -> int:
    return x + 10


def _c(x):
    return _d("hello") + _d(x)


def _b(x):
    return _c(x)


def test_error_stack_names_the_bad_call_and_its_callers():
    def a(x):
        return _b(x)

    with pytest.raises(RuntimeError) as ei:
        torch.jit.script(a)
    msg = str(ei.value)
    assert "int" in msg and "_c" in msg, msg
    # a second try gives the same message (nothing left over from the first)
    with pytest.raises(RuntimeError) as ei2:
        torch.jit.script(a)
    assert str(ei2.value) == msg


def test_error_stack_from_a_submodule():
    class Submodule(nn.Module):
        def forward(self, x):
            return _b(x)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.submodule = Submodule()

        def some_method(self, y):
            return y + self.submodule(y)

        def forward(self, x):
            return self.some_method(x)

    with pytest.raises(RuntimeError) as ei:
        torch.jit.script(M())
    msg = str(ei.value)
    assert "int" in msg and "_c" in msg, msg


def test_python_function_called_from_script_function():
    def a_python_fn(a, b, c):
        return a + b + c

    @torch.jit.script
    def a_script_fn(d, e, f):
        return a_python_fn(d, e, f)

    t = torch.ones(2, 2)
    np.testing.assert_array_equal(a_script_fn(t, t, t).numpy(), np.full((2, 2), 3.0))


class _Other(nn.Module):
    __constants__ = ["x"]

    def __init__(self, x):
        super().__init__()
        self.x = x
        self.param = nn.Parameter(torch.ones(2, 2))

    def some_unscriptable_method(self):
        a = 2
        a = [2]
        return a

    @torch.jit.export
    def some_entry_point(self, y):
        return y + 20

    def forward(self, t):
        return t + self.x + self.param


def test_unused_unscriptable_method_and_exported_entry_point():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.other = _Other(200)

        def forward(self, t):
            return self.other(t) * 2

    x = torch.ones(2, 2)
    sm = check_module(M(), (x,))
    np.testing.assert_array_equal(sm(x).detach().numpy(), np.full((2, 2), 404.0))
    np.testing.assert_array_equal(sm.other.some_entry_point(x).numpy(), np.full((2, 2), 21.0))
    assert "some_unscriptable_method" not in sm.other._script_methods


def test_iterable_modules_nested_sequential_and_module_list():
    class Inner(nn.Module):
        def forward(self, x):
            return x + 10

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.sequential = nn.Sequential(Inner(), Inner(), nn.Sequential(Inner(), Inner()))
            self.module_list = nn.ModuleList([Inner(), Inner()])

        def forward(self, x):
            for mod in self.module_list:
                x += mod(x)
            x += self.sequential(x)
            return x

    x = _x(5, 5)
    sm = check_module(M(), (x,))
    ref = x.numpy().copy()
    for _ in range(2):
        ref = ref + (ref + 10)
    ref = ref + (ref + 40)
    np.testing.assert_allclose(sm(x.clone()).numpy(), ref, rtol=1e-5)


class _SeluButRelu(nn.SELU):
    def __prepare_scriptable__(self):
        return nn.ReLU()


def test_prepare_scriptable_replaces_the_module():
    t = -torch.ones(5, 5)
    m = _SeluButRelu()
    sm = torch.jit.script(m)
    np.testing.assert_array_equal(sm(t).numpy(), np.zeros((5, 5)))
    assert (m(t).numpy() < -1).all()


def test_prepare_scriptable_inside_containers():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            shared = _SeluButRelu()
            self.sequential = nn.Sequential(
                _SeluButRelu(), _SeluButRelu(),
                nn.Sequential(_SeluButRelu(), shared, _SeluButRelu()), shared)
            self.module_list = nn.ModuleList([_SeluButRelu(), shared, _SeluButRelu()])

        def forward(self, x):
            for mod in self.module_list:
                x += mod(x)
            x += self.sequential(x)
            return x

    t = -torch.ones(5, 5)
    m = M()
    eager = m(t.clone())
    sm = torch.jit.script(m)
    out = sm(t.clone())
    # relu of a negative input is 0 everywhere: the scripted result stays -1
    np.testing.assert_array_equal(out.numpy(), -np.ones((5, 5)))
    assert not np.allclose(eager.numpy(), out.numpy())


def test_prepare_scriptable_escape_hatch_for_a_callable_object():
    class NonJitable:
        def __call__(self, int1, int2, *args):
            total = int1 + int2
            for arg in args:
                total += arg
            return total

    obj = NonJitable()
    assert obj(1, 2, 3, 4) == 10
    with pytest.raises(RuntimeError, match="variable number of arguments"):
        torch.jit.script(obj)

    def escape_hatch(int1: int, int2: int) -> int:
        return int1 + int2

    class WithHatch(NonJitable):
        def __prepare_scriptable__(self):
            return escape_hatch

    jit_obj = torch.jit.script(WithHatch())
    assert jit_obj(1, 2) == 3
    with pytest.raises(RuntimeError,
                       match=r"expected at most 2 argument\(s\) but received 4 argument\(s\)"):
        jit_obj(1, 2, 3, 4)
    # (torch 2.13 fills int1 positionally first, then finds int2 missing)
    with pytest.raises(RuntimeError, match="missing value for argument 'int2'"):
        jit_obj(1, int1=2)

    def with_default(int1: int, int2: int = 0) -> int:
        return int1 + int2

    with pytest.raises(RuntimeError, match="specified both as positional and keyword"):
        torch.jit.script(with_default)(1, int1=2)
    with pytest.raises(RuntimeError, match="missing value for argument 'int2'"):
        jit_obj(1)


@torch.jit.script
class _Inner2:
    def __init__(self) -> None:
        self.b = "a string"


@torch.jit.script
class _Foo:
    def __init__(self) -> None:
        self.a = 4
        self.inner = _Inner2()


def test_attribute_types_are_inferred():
    class M(nn.Module):
        my_empty_list: List[int]
        my_empty_dict: Dict[str, int]
        my_none: Optional[int]
        my_object: _Foo

        def forward(self, x):
            return (self.my_dict, self.my_float, self.my_int, self.my_bool,
                    self.my_tuple, self.my_list, self.my_int_list, self.my_bool_list,
                    self.my_float_list, self.my_str_list, self.my_empty_list,
                    self.my_empty_dict, self.my_none, self.my_object.a,
                    self.my_object.inner.b)

    values = dict(my_dict={"I": "am", "a test": "test"}, my_float=2.3, my_int=99,
                  my_bool=False, my_tuple=(1, 2, 3, 4), my_list=[(1, 2), (3, 4)],
                  my_int_list=[1, 2, 3, 4], my_bool_list=[True, True, False, True],
                  my_float_list=[1.0, 2.0, 3.0, 4.0], my_str_list=["hello", "bye"],
                  my_empty_list=[], my_empty_dict={}, my_none=None, my_object=_Foo())
    m = M()
    for k, v in values.items():
        setattr(m, k, v)
    sm = check_module(m, (_x(5, 5),), save=False)
    out = sm(_x(5, 5))
    assert out[:13] == tuple(v for k, v in values.items() if k != "my_object")
    assert out[13:] == (4, "a string")


def test_function_attribute_in_submodule():
    class N(nn.Module):
        def __init__(self, norm):
            super().__init__()
            self.activation = torch.nn.functional.relu
            self.norm = norm

        def forward(self, src):
            return self.norm(src)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = N(nn.ReLU())

        def forward(self, x):
            return self.encoder(x)

    x = _x(5, 5)
    sm = check_module(M(), (x,))
    np.testing.assert_array_equal(sm(x).numpy(), np.maximum(x.numpy(), 0))


def test_traced_module_inside_a_module_list():
    class Dummy(nn.Module):
        def forward(self, x):
            return x

    class Model(nn.Module):
        def __init__(self, dummies):
            super().__init__()
            self._dummies = dummies

        def forward(self, x):
            out = []
            for dummy in self._dummies:
                out.append(dummy(x))
            return out

    dummy = torch.jit.trace(Dummy(), torch.randn(1, 2))
    check_module(Model(nn.ModuleList([dummy])), (torch.rand(5, 5),))


def test_loaded_script_module_as_a_submodule():
    class Dummy(nn.Module):
        def forward(self, x):
            return x

    dummy = _roundtrip(torch.jit.script(Dummy()))

    class ContainsLoaded(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = dummy

        def forward(self, input):
            return self.encoder(input)

    check_module(ContainsLoaded(), (torch.rand(2, 3),))


def test_optional_submodule_none_or_present():
    class Dummy(nn.Module):
        def __init__(self):
            super().__init__()
            self.foo = nn.Linear(2, 2)

        def forward(self, x):
            if self.foo is not None:
                return self.foo(x)
            return x

    mod = Dummy()
    x = torch.rand(2, 2)
    check_module(mod, (x,))
    mod.foo = None
    sm = check_module(mod, (x,))
    _same(sm(x), x)


def test_instance_override_of_an_ignored_method():
    class M(nn.Module):
        @torch.jit.ignore
        def i_am_ignored(self):
            return "old"

        def forward(self, x):
            return x

    m = M()

    @torch.jit.ignore
    def i_am_ignored(self):
        return "new"

    m.i_am_ignored = types.MethodType(i_am_ignored, m)
    assert m.i_am_ignored() == "new"
    assert torch.jit.script(m).i_am_ignored() == "new"


# ---------------------------------------------------------------------- test_type_sharing
# (torch compares `m._c._type()`; what a user sees is that each scripted instance keeps
# its own attributes, constants, submodules and function attributes)

def test_instances_with_different_constants_and_attributes():
    class M(nn.Module):
        __constants__ = ["const"]

        def __init__(self, attr, const):
            super().__init__()
            self.attr = attr
            self.const = const

        def forward(self):
            return self.attr * self.const

    attr = torch.rand(2, 3)
    m1, m2, m3 = (torch.jit.script(M(attr * k, c)) for k, c in ((1, 1), (2, 1), (1, 2)))
    for m, ref in ((m1, attr.numpy()), (m2, 2 * attr.numpy()), (m3, 2 * attr.numpy())):
        np.testing.assert_allclose(m().numpy(), ref, rtol=1e-6)
    assert m1.const == 1 and m3.const == 2


def test_linear_instances_and_submodules_of_different_sizes():
    a, c = torch.jit.script(nn.Linear(5, 5)), torch.jit.script(nn.Linear(10, 10))
    assert tuple(a(torch.rand(2, 5)).shape) == (2, 5)
    assert tuple(c(torch.rand(2, 10)).shape) == (2, 10)

    class M(nn.Module):
        def __init__(self, in1, out1, in2, out2):
            super().__init__()
            self.submod1 = nn.Linear(in1, out1)
            self.submod2 = nn.Linear(in2, out2)
            self.foo = torch.ones(in1, in1)

        def forward(self, x):
            return self.submod2(self.submod1(x))

    for sizes, x in (((1, 1, 1, 2), torch.rand(3, 1)), ((2, 3, 3, 4), torch.rand(3, 2))):
        m = M(*sizes)
        check_module(m, (x,))
    a, b = M(1, 1, 1, 2), M(1, 1, 1, 2)
    a.foo, b.foo = torch.ones(2, 2), torch.rand(2, 2)     # values differ, types do not
    sa, sb = torch.jit.script(a), torch.jit.script(b)
    _same(sa.foo, a.foo)
    _same(sb.foo, b.foo)


def test_parameter_or_plain_tensor_attribute():
    class M(nn.Module):
        def __init__(self, foo):
            super().__init__()
            self.foo = foo

        def forward(self, x):
            return x + self.foo

    x = torch.ones(2, 2)
    p = torch.jit.script(M(nn.Parameter(torch.ones(2, 2))))
    a = torch.jit.script(M(torch.ones(2, 2)))
    assert p(x).requires_grad and not a(x).requires_grad
    assert [n for n, _ in p.named_parameters()] == ["foo"]
    assert list(a.named_parameters()) == []
    np.testing.assert_array_equal(a(x).numpy(), p(x).detach().numpy())


def test_same_structure_different_classes():
    class A(nn.Module):
        __constants__ = ["const"]

        def __init__(self):
            super().__init__()
            self.const = 5

        def forward(self, x):
            return x * self.const

    class B(A):
        def forward(self, x):
            return x + self.const

    x = torch.ones(2)
    np.testing.assert_array_equal(torch.jit.script(A())(x).numpy(), [5.0, 5.0])
    np.testing.assert_array_equal(torch.jit.script(B())(x).numpy(), [6.0, 6.0])
    assert torch.jit.script(A()).original_name == "A"
    assert torch.jit.script(B()).original_name == "B"


def test_python_attribute_assigned_before_or_after_scripting():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.foo = torch.ones(2)

        def forward(self, x):
            return x + self.foo

    a = torch.jit.script(M())
    a.new_attr = "foo bar baz"
    assert a.new_attr == "foo bar baz"
    _same(a(torch.ones(2)), torch.full((2,), 2.0))
    m = M()
    m.new_attr = "foo bar baz"
    assert torch.jit.script(m).new_attr == "foo bar baz"


def test_attribute_of_an_unscriptable_python_type_is_refused():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.foo = object

        def forward(self):
            return self.foo

    with pytest.raises(RuntimeError, match="foo"):
        torch.jit.script(M())


@pytest.mark.parametrize("kind", ["script", "python", "builtin"])
def test_function_attributes_differ_per_instance(kind):
    class M(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return self.fn(x, x)

    def add(x, y):
        return x + y

    def sub(x, y):
        return x - y

    fns = {"script": (torch.jit.script(add), torch.jit.script(sub)), "python": (add, sub),
           "builtin": (torch.add, torch.sub)}[kind]
    x = _x(3)
    m1, m2, m3 = (torch.jit.script(M(f)) for f in (fns[0], fns[1], fns[0]))
    np.testing.assert_allclose(m1(x).numpy(), 2 * x.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(m2(x).numpy(), np.zeros(3))
    np.testing.assert_allclose(m3(x).numpy(), 2 * x.numpy(), rtol=1e-6)


def test_traced_instances_keep_their_own_trace():
    class M(nn.Module):
        def forward(self, x, y):
            if x.sum() > y.sum():
                return x
            else:
                return y

    with pytest.warns(Warning):
        a = torch.jit.trace(M(), (torch.zeros(1, 1), torch.ones(1, 1)))
    with pytest.warns(Warning):
        b = torch.jit.trace(M(), (torch.ones(1, 1), torch.zeros(1, 1)))
    z, o = torch.zeros(1, 1), torch.ones(1, 1) * 3
    assert a(z, o).item() == 3 and a(o, z).item() == 0      # always returns y
    assert b(z, o).item() == 0 and b(o, z).item() == 3      # always returns x

    class Traced(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            else:
                return x + x

    class Holder(nn.Module):
        def __init__(self, example):
            super().__init__()
            self.traced = torch.jit.trace(Traced(), example)

        def forward(self, x):
            return self.traced(x)

    with pytest.warns(Warning):
        pos = torch.jit.script(Holder((torch.ones(1),)))
    with pytest.warns(Warning):
        neg = torch.jit.script(Holder((torch.zeros(1),)))
    assert pos(torch.full((1,), 2.0)).item() == 2 and neg(torch.full((1,), 2.0)).item() == 4


def test_loaded_modules_wrapped_and_scripted_again():
    class AB(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = 1
            self.b = 1

        def forward(self):
            return self.a + self.b

    class A(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = 1

        def forward(self):
            return self.a

    class Wrapper(nn.Module):
        def __init__(self, sub):
            super().__init__()
            self.sub = sub

        def forward(self):
            return self.sub()

    assert torch.jit.script(Wrapper(_roundtrip(torch.jit.script(AB()))))() == 2
    assert torch.jit.script(Wrapper(_roundtrip(torch.jit.script(A()))))() == 1


def test_module_dicts_with_different_keys():
    class Foo(nn.Module):
        def __init__(self, s):
            super().__init__()
            self.dict = nn.ModuleDict(s)

        def forward(self, x):
            names = torch.jit.annotate(List[str], [])
            for k in self.dict:
                names.append(k)
            return names

    assert torch.jit.script(Foo({"foo": _Sub()}))(_x(1)) == ["foo"]
    assert torch.jit.script(Foo({"bar": _Sub()}))(_x(1)) == ["bar"]


# ---------------------------------------------------------------------- test_attr

def test_getattr_of_a_module_with_a_default():
    class A(nn.Module):
        def __init__(self):
            super().__init__()
            self.init_attr_val = 1.0

        def forward(self, x: float):
            y = getattr(self, "init_attr_val")  # noqa: B009
            w: List[float] = [x]
            z = getattr(self, "missing", w)
            z.append(y)
            return z

    sm = check_module(A(), (0.5,))
    assert sm(0.5) == [0.5, 1.0]
    text = str(sm.graph)
    assert 'prim::GetAttr[name="init_attr_val"]' in text and "missing" not in text


class _MyTuple(typing.NamedTuple):
    x: str
    y: torch.Tensor


def test_getattr_of_tuples_with_defaults():
    def fn(x: _MyTuple) -> Tuple[str, torch.Tensor, int]:
        return getattr(x, "x", "fdsa"), getattr(x, "y", torch.ones((3, 3))), \
            getattr(x, "z", 7)

    inp = _MyTuple(x="test", y=torch.ones(3, 3) * 2)
    _same(torch.jit.script(fn)(inp), fn(inp))

    def plain(x: Tuple[str, int]) -> int:
        return getattr(x, "x", 2)

    assert torch.jit.script(plain)(("a", 1)) == 2


def test_script_module_define_in_init_per_instance():
    class A(torch.jit.ScriptModule):
        def __init__(self, val):
            super().__init__()
            self.define(f"""
            def forward(self) -> int:
                return {val}
            """)

    one, two = A(1), A(2)
    assert one() == 1 and two() == 2

    class B(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.k = 3
            self.define("""
            def helper(self, x: int) -> int:
                return x * self.k

            def forward(self, x: int) -> int:
                return self.helper(x) + 1
            """)

    b = B()
    assert b(2) == 7 and b.helper(2) == 6
    assert _roundtrip(b)(2) == 7
