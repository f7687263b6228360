"""PyTorch's TorchScript language tests, ported as behaviour (session 15, helper ZO):
test/jit/test_builtins.py, test_slice.py, test_string_formatting.py, test_with.py, ...
Each scripted function is compared with the same function run in Python (gpujit eager)
or with literal values; errors by their type and the words a user relies on.

Skipped from PyTorch's files (one line each, why):
- test_builtins.test_tensor_properties: `layout` and `dtype` are ints in TorchScript
  (PyTorch skips their equality too); `grad_fn`, `output_nr`, `names`, `grad_dtype`,
  `was_wrapped_number` are not TorchScript attributes (PyTorch skips them).
- test_builtins.test_tensor_subscript_assign_device: needs CUDA (test_script_cuda.py).
- test_builtins.test_scalar_to_num_conversions's comparison with eager: eager PyTorch
  refuses a Tensor for an int/float argument (TypeError) while TorchScript converts a
  0-dim one (aten::IntImplicit); the scripted answers are checked against TorchScript's.
- test_with.test_with_record_function: ported in tests/test_jit_with_port_s25.py.
- test_typing.test_optional_conversion's torch.jit._unwrap_optional: ported in
  tests/test_jit_typing_port_s25.py.
- test_typing.test_tuple_specialization: reads graph_for's input types, which gpujit does
  not specialize to (its tuples are not profiled).
- test_typing.test_dict_invalid_annotations (Dict[str, ScriptModule]): gpujit's
  annotation errors are covered in test_script_types.py.
- test_typing.test_namedtuple_redefine / error_source_attribution: covered by
  test_script_types.py (two local NamedTuples of one name; bad annotations).
- test_exception: TorchScript wraps errors in torch.jit.Error ("operation failed in the
  TorchScript interpreter"); gpujit raises the error's own class (a jit Error too) with
  the scripted line, so those words are not checked. `torch.set_anomaly_enabled` in
  scripted code and `{**d}` are compile errors in both (only `**` is checked).
- test_enum.py: ported in tests/test_jit_enum_port.py.
"""
import collections
import warnings
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit.testing import FileCheck


_TYPE_COMMENT_NAMES = (Optional, Tuple)      # used by the `# type:` comments below


def check_script(fn, *args):
    """fn scripted gives what fn gives in Python (values, and types of non-tensors)."""
    expected = fn(*_copy(args))
    got = torch.jit.script(fn)(*_copy(args))
    _same(got, expected)
    return got


def _copy(args):
    import copy
    return tuple(a.clone() if isinstance(a, torch.Tensor) else copy.deepcopy(a) for a in args)


def _same(got, expected):
    if isinstance(expected, torch.Tensor):
        assert isinstance(got, torch.Tensor) and got.dtype == expected.dtype
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
    elif isinstance(expected, (list, tuple)):
        assert type(got) is type(expected) and len(got) == len(expected), (got, expected)
        for g, e in zip(got, expected):
            _same(g, e)
    elif isinstance(expected, dict):
        assert list(got) == list(expected)
        for k in expected:
            _same(got[k], expected[k])
    else:
        assert type(got) is type(expected) and got == expected, (got, expected)


# ====================================================================== test_builtins.py

class _HasA(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = 0


class _HasB(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.b = 1


class _HasAttrMod(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mods = torch.nn.ModuleList([_HasA(), _HasB()])

    def forward(self):
        out = torch.jit.annotate(List[int], [])
        for mod in self.mods:
            out.append(int(hasattr(mod, "a")))
            out.append(int(hasattr(mod, "b")))
            if hasattr(mod, "a"):        # the branch compiled only for modules that have it
                out.append(mod.a)
            if hasattr(mod, "b"):
                out.append(mod.b)
        return out


def test_hasattr_of_modules_in_an_unrolled_loop_refines_statically():
    m = _HasAttrMod()
    assert torch.jit.script(m)() == m() == [1, 0, 0, 0, 1, 1]


class _HasAttrName(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mod = torch.nn.Linear(1, 1)

    def forward(self, name: str):
        return hasattr(self.mod, name)


class _HasAttrTensor(torch.nn.Module):
    def forward(self, name: str):
        return hasattr(torch.rand(2, 3), name)


@pytest.mark.parametrize("cls", [_HasAttrName, _HasAttrTensor])
def test_hasattr_needs_a_constant_name(cls):
    with pytest.raises(RuntimeError, match="hasattr") as e:
        torch.jit.script(cls())
    assert "name)" in str(e.value)                      # the call is shown


def _del_name(x: List[int]) -> List[int]:
    a = x * 2
    del a
    return x


def _del_names(x: List[int]) -> List[int]:
    a, b, c = x[0], x[1], x[2]
    del a, b, c
    return x


def _del_list_items(x: List[int]) -> List[int]:
    del x[0], x[1]
    return x


def _del_dict_items(x: Dict[str, int]) -> Dict[str, int]:
    del x["hi"], x["there"]
    return x


def _del_then_assign_again(x: int) -> int:
    a = x + 1
    del a
    a = x * 3
    return a


def test_del():
    check_script(_del_name, [1, 2, 3])
    check_script(_del_names, [1, 2, 3])
    check_script(_del_list_items, [0, 1, 2])
    check_script(_del_dict_items, {"hi": 5, "there": 6, "x": 7})
    check_script(_del_then_assign_again, 4)


_USE_AFTER_DEL = """
def fn(x):
    a = x ** 2
    del a
    return a
"""


def _use_after_del_on_one_branch(x):
    a = x ** 2
    if bool(a.sum() > 0):
        del a
    return a


_DEL_UNDEFINED = """
def fn(x):
    a = x ** 2
    del b
    return a
"""


@pytest.mark.parametrize("fn, name, line_text", [
    (_USE_AFTER_DEL, "a", "return a"),
    (_use_after_del_on_one_branch, "a", "return a"),
    (_DEL_UNDEFINED, "b", "del b"),
])
def test_del_errors_say_undefined_value(fn, name, line_text):
    with pytest.raises(RuntimeError, match=f"undefined value '{name}'") as e:
        if isinstance(fn, str):        # (source text: pyflakes would flag the function)
            torch.jit.CompilationUnit().define(fn)
        else:
            torch.jit.script(fn)
    assert line_text in str(e.value)


def _check_basic(x):
    torch._check(x.sum().item() > -1000)
    return x


def _check_message(x):
    torch._check(x.sum().item() > -1000, "Tensor sum must be reasonable")
    return x


def _check_kw_message(x):
    torch._check(x.sum().item() > -1000, message="Tensor sum must be reasonable")
    return x


def _check_kw_cond(x):
    torch._check(cond=x.sum().item() > -1000)
    return x


def _check_kw_both(x):
    torch._check(cond=x.sum().item() > -1000, message="Both as kwargs")
    return x


def _check_kw_reversed(x):
    torch._check(message="Reversed order", cond=x.sum().item() > -1000)
    return x


def _check_in_loop(x):
    sizes = torch.jit.annotate(List[int], x.tolist())
    for s in sizes:
        torch._check(s > -100)
    return x


def _check_fails(x):
    torch._check(x.sum().item() > 1000, "sum too small")
    return x


def _check_fails_no_message(x):
    torch._check(x.sum().item() > 1000)
    return x


def _check_fails_lambda(x):
    torch._check(x.sum().item() > 1000, lambda: "made by a lambda")
    return x


@pytest.mark.parametrize("fn, text", [
    (_check_basic, None), (_check_message, "Tensor sum must be reasonable"),
    (_check_kw_message, "Tensor sum must be reasonable"), (_check_kw_cond, None),
    (_check_kw_both, "Both as kwargs"), (_check_kw_reversed, "Reversed order"),
    (_check_in_loop, None)])
def test_torch_check_passes(fn, text):
    t = torch.tensor([1, 2, 3])
    f = torch.jit.script(fn)
    assert f(t) is t or np.array_equal(f(t).numpy(), t.numpy())
    g = f.graph
    FileCheck().check("prim::If").check("prim::RaiseException").run(g)
    if text is not None:
        FileCheck().check(text).run(g)
    if fn is _check_in_loop:
        FileCheck().check("prim::Loop").run(g)


@pytest.mark.parametrize("fn, words", [
    (_check_fails, "sum too small"),
    (_check_fails_no_message, "Expected cond to be True, but got False"),
    (_check_fails_lambda, "made by a lambda")])
def test_torch_check_fails_with_a_runtime_error(fn, words):
    with pytest.raises(RuntimeError, match=words):
        torch.jit.script(fn)(torch.tensor([1, 2]))


def test_torch_check_eager():
    torch._check(True)
    with pytest.raises(RuntimeError, match="Expected cond to be True"):
        torch._check(False)
    with pytest.raises(RuntimeError, match="boom"):
        torch._check(False, lambda: "boom")
    with pytest.raises(TypeError, match="message must be a callable"):
        torch._check(False, "not callable")
    with pytest.raises(TypeError, match="cond must be a bool"):
        torch._check(torch.tensor(True))


def _too_many(x):
    torch._check(True, "msg", "extra")
    return x


def _bad_kw(x):
    torch._check(True, invalid_arg="msg")
    return x


def _dup_cond(x):
    torch._check(True, cond=False)
    return x


def _no_cond(x):
    torch._check(message="msg only")
    return x


def _no_args(x):
    torch._check()
    return x


def _too_many_total(x):
    torch._check(True, "msg", cond=False)
    return x


@pytest.mark.parametrize("fn, words", [
    (_too_many, r"torch._check\(\) expects 1 or 2 arguments"),
    (_bad_kw, "unexpected keyword argument 'invalid_arg'"),
    (_dup_cond, "multiple values for argument 'cond'"),
    (_no_cond, "missing required argument 'cond'"),
    (_no_args, r"torch._check\(\) expects 1 or 2 arguments"),
    (_too_many_total, r"torch._check\(\) expects 1 or 2 arguments")])
def test_torch_check_argument_errors(fn, words):
    with pytest.raises(RuntimeError, match=words):
        torch.jit.script(fn)


_PROPERTIES = ["H", "T", "data", "device", "grad", "is_cpu", "is_cuda", "is_leaf",
               "itemsize", "mH", "mT", "nbytes", "ndim", "requires_grad", "retains_grad",
               "shape"]


@pytest.mark.parametrize("name", _PROPERTIES)
def test_tensor_properties(name):
    x = torch.arange(4, dtype=torch.float).view(2, 2)
    cu = torch.jit.CompilationUnit()
    cu.define(f"def fn(x):\n    return x.{name}\n")
    got, expected = cu.fn(x), getattr(x, name)
    if isinstance(expected, torch.Tensor):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    elif name == "shape":
        assert list(got) == list(expected)
    else:
        assert got == expected


def test_tensor_layout_and_dtype_are_ints_in_scripted_code():
    cu = torch.jit.CompilationUnit()
    cu.define("def fn(x):\n    return x.layout\n")
    assert cu.fn(torch.zeros(2)) == 0


def _assign_u8_tensor_at_tensor(x):
    a = torch.zeros_like(x, dtype=torch.uint8)
    a[torch.tensor(0)] = torch.tensor(2, dtype=torch.uint8)
    return a


def _assign_int_at_int(x):
    a = torch.zeros_like(x, dtype=torch.uint8)
    a[0] = 2
    return a


def _assign_int_at_tensor(x):
    a = torch.zeros_like(x, dtype=torch.uint8)
    a[torch.tensor(0)] = 2
    return a


def _assign_tensor_at_int(x):
    a = torch.zeros_like(x, dtype=torch.uint8)
    a[0] = torch.tensor(2, dtype=torch.uint8)
    return a


def _assign_int_into_float(x):
    a = torch.zeros_like(x, dtype=torch.float32)
    a[torch.tensor(0)] = 2
    return a


@pytest.mark.parametrize("fn", [_assign_u8_tensor_at_tensor, _assign_int_at_int,
                                _assign_int_at_tensor, _assign_tensor_at_int,
                                _assign_int_into_float])
def test_tensor_subscript_assign(fn):
    check_script(fn, torch.zeros(2, dtype=torch.uint8))


def _scalar_cast(x):
    scalar = x.item()
    return int(scalar), float(scalar)


def test_tensor_item():
    FileCheck().check("(int, float) = prim::TupleConstruct").run(
        torch.jit.script(_scalar_cast).graph)
    check_script(_scalar_cast, torch.tensor(1.0))
    check_script(_scalar_cast, torch.tensor(1))


def _method_on_number():
    c = 1
    return c.add(1)


def test_method_on_number():
    with pytest.raises(RuntimeError, match="has no method 'add'"):
        torch.jit.script(_method_on_number)


def _add_int(x):
    c = 1
    x = x + c
    return x


def _tensor_to_int(x, tensor):
    return x.unsqueeze(tensor)


def _tensor_to_float(x, tensor):
    return x.addcmul(tensor, tensor, value=tensor)


def test_tensor_passed_for_a_number_is_converted_implicitly():
    assert "Implicit" not in str(torch.jit.script(_add_int).graph)
    to_int, to_float = torch.jit.script(_tensor_to_int), torch.jit.script(_tensor_to_float)
    FileCheck().check("aten::IntImplicit").check("aten::unsqueeze").run(to_int.graph)
    FileCheck().check("aten::ScalarImplicit").check("aten::addcmul").run(to_float.graph)
    x = torch.zeros(10)
    assert list(to_int(x, torch.tensor(0)).shape) == [1, 10]
    assert list(to_int(x, torch.tensor(-1)).shape) == [10, 1]
    np.testing.assert_allclose(to_float(x, torch.tensor(1.1)).numpy(),
                               np.full(10, 1.1 ** 3, np.float32), rtol=1e-6)
    np.testing.assert_allclose(to_float(x, torch.tensor(2)).numpy(), np.full(10, 8.0))


@pytest.mark.parametrize("which, t, words", [
    ("int", torch.tensor(1.1), "Cannot input a tensor of type Float as an integral argument"),
    ("int", torch.tensor(1.1, requires_grad=True),
     "Cannot input a tensor that requires grad as a scalar argument"),
    ("int", torch.tensor([2]), "Cannot input a tensor of dimension other than 0"),
    ("float", torch.tensor(1.1, requires_grad=True),
     "Cannot input a tensor that requires grad as a scalar argument"),
    ("float", torch.tensor([2]), "Cannot input a tensor of dimension other than 0")])
def test_tensor_passed_for_a_number_errors(which, t, words):
    f = torch.jit.script(_tensor_to_int if which == "int" else _tensor_to_float)
    with pytest.raises(RuntimeError, match=words):
        f(torch.zeros(10), t)


# ====================================================================== test_slice.py

def _slice_kwarg(x: List[int]):
    return x[slice(1, stop=2)]


def test_slice_keyword_arguments_are_refused():
    with pytest.raises(RuntimeError, match="Slice does not accept any keyword arguments"):
        torch.jit.script(_slice_kwarg)


def _sl_three_nones(x: List[int]):
    return x[slice(None, None, None)]


def _sl_two_nones(x: List[int]):
    return x[slice(None, None)]


def _sl_one_none(x: List[int]):
    return x[slice(None)]


def _sl_stop(x: List[int]):
    return x[slice(5)]


def _sl_stop_nones(x: List[int]):
    return x[slice(None, 5, None)]


def _sl_start_stop(x: List[int]):
    return x[slice(1, 5)]


def _sl_start_stop_none(x: List[int]):
    return x[slice(1, 5, None)]


def _sl_start_stop_step(x: List[int]):
    return x[slice(0, 6, 2)]


def _sl_negative_step(x: List[int]):
    return x[slice(None, None, -2)]


def _sl_variable(x: List[int]):
    a = slice(1)
    return x[a]


def _sl_clipped(x: List[int]):
    return x[slice(1000)]


def _sl_dynamic(x: List[int], i: int):
    return x[slice(i, i + 3)]


@pytest.mark.parametrize("fn", [_sl_three_nones, _sl_two_nones, _sl_one_none, _sl_stop,
                                _sl_stop_nones, _sl_start_stop, _sl_start_stop_none,
                                _sl_start_stop_step, _sl_negative_step, _sl_variable,
                                _sl_clipped])
def test_slice_object_of_a_list(fn):
    check_script(fn, list(range(10)))


def test_slice_object_with_variable_bounds():
    check_script(_sl_dynamic, list(range(10)), 4)


def _sl_string(x: str):
    return x[slice(None, 3, 1)]


def _sl_tensor(x: torch.Tensor):
    return x[slice(None, 3, 1)]


def _sl_tensor_multidim(x: torch.Tensor):
    return x[slice(None, 3, 1), 0]


def _sl_tensor_dots(x: torch.Tensor):
    return x[slice(None, 3, 1), ...]


def test_slice_object_of_a_str_and_tensors():
    check_script(_sl_string, "foo_bar")
    check_script(_sl_tensor, torch.arange(10.0))
    check_script(_sl_tensor_multidim, torch.arange(100.0).reshape(10, 10))
    check_script(_sl_tensor_dots, torch.arange(100.0).reshape(10, 10))


def _sl_dynamic_index(x):
    slice1 = x[0:1]
    zero = 0
    one = zero + 1
    slice2 = x[zero:one]
    return slice1 + slice2


def test_slice_dynamic_index():
    check_script(_sl_dynamic_index, torch.arange(18.0).reshape(3, 2, 3))


def _tuple_slice(a):
    b = (1, 2, 3, 4) if bool(a) else (4, 3, 2, 1)
    c = b[-4:4]
    e = c[1:-1]
    return e


def test_tuple_slicing():
    check_script(_tuple_slice, torch.tensor([1]))
    f = torch.jit.script(_tuple_slice)
    assert f(torch.tensor(1)) == (2, 3)
    assert f(torch.tensor(0)) == (3, 2)
    # the slice is a tuple of the two elements chosen (PyTorch lowers the rest away too)
    assert f.graph.outputs[0].type.annotation() == "Tuple[int, int]"
    assert 2 in {len(n.output.type.elems)
                 for n in f.graph.findAllNodes("prim::TupleConstruct")}


class _Bar(torch.nn.Module):
    def __init__(self, identifier: str):
        super().__init__()
        self.identifier = identifier

    def forward(self):
        return 0


class _ListSlicer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.test = torch.nn.ModuleList([_Bar(c) for c in "ABCDE"])

    def forward(self):
        return self.test[::-2], self.test[1:4:]


def test_module_list_slicing():
    r1, r2 = torch.jit.script(_ListSlicer())()
    assert [m.identifier for m in r1] == ["E", "C", "A"]
    assert [m.identifier for m in r2] == ["B", "C", "D"]


def _alpha_tensor(x):
    return x.add(x, alpha=x)


def test_tensor_passed_for_alpha():
    f = torch.jit.script(_alpha_tensor)
    FileCheck().check("aten::ScalarImplicit").run(f.graph)
    assert f(torch.tensor(2.0)).item() == 6.0


# ========================================================== test_string_formatting.py

def _fmt_modulo(dividend: int, divisor: int) -> int:
    return dividend % divisor


def _fmt_s(arg1: str):
    return "%s in template" % arg1


def _fmt_variable_template(arg1: str):
    return arg1 % "foo"


def _fmt_double_percent(arg1: str):
    return "%s in template %%" % arg1


def _fmt_s_int(arg1: int) -> str:
    return "%s in template" % arg1


def _fmt_d(arg1: int) -> str:
    return "%d in template" % arg1


def _fmt_i(arg1: int) -> str:
    return "%i in template" % arg1


def _fmt_e(arg1: int) -> str:
    return "%e in template" % arg1


def _fmt_big_e(arg1: int) -> str:
    return "%E in template" % arg1


def _fmt_f(arg1: float) -> str:
    return "%f in template" % arg1


def _fmt_f_int(arg1: int) -> str:
    return "%f in template" % arg1


def _fmt_c(arg1: str) -> str:
    return "%c in template" % arg1


def _fmt_c_int(arg1: int) -> str:
    return "%c in template" % arg1


def _fmt_many(arg1: str, arg2: int, arg3: float) -> str:
    return "%s %d %f in template" % (arg1, arg2, arg3)


def _fmt_subscript(arg1: List[str]) -> str:
    return "%s in template" % arg1[0]


def _fmt_tensor_and_list(x: torch.Tensor, xs: List[int]) -> str:
    return "%s and %s" % (xs, x.dim())


@pytest.mark.parametrize("fn, args", [
    (_fmt_modulo, (5, 2)), (_fmt_s, ("foo",)), (_fmt_variable_template, ("%s in template",)),
    (_fmt_double_percent, ("foo",)), (_fmt_s_int, (1,)), (_fmt_d, (1,)), (_fmt_i, (1,)),
    (_fmt_e, (1,)), (_fmt_big_e, (1,)), (_fmt_f, (1.0,)), (_fmt_f_int, (1,)),
    (_fmt_c, ("a",)), (_fmt_c_int, (97,)), (_fmt_many, ("foo", 1, 1.0)),
    (_fmt_many, ("foo", 1, 1)), (_fmt_subscript, (["foo", "bar"],)),
    (_fmt_tensor_and_list, (torch.zeros(2, 3), [1, 2]))])
def test_percent_formatting_like_python(fn, args):
    check_script(fn, *args)


def _fmt_d_str(arg1: str) -> str:
    return "%d in template" % arg1


def _fmt_e_str(arg1: str) -> str:
    return "%e in template" % arg1


def _fmt_c_long_str(arg1: str) -> str:
    return "%c in template" % arg1


def _fmt_too_few(arg1: str) -> str:
    return "%s %s in template" % arg1


_FMT_BAD = """
def bad_percent(arg1: str) -> str:
    return "%s in template %" % arg1

def too_many(arg1: str, arg2: str) -> str:
    return "%s in template" % (arg1, arg2)
"""


def _fmt_unknown(arg1: str) -> str:
    return "%a in template" % arg1


@pytest.mark.parametrize("fn, args, words, line", [
    ("bad_percent", ("foo",), "Incomplete format specifier", '"%s in template %" % arg1'),
    (_fmt_d_str, ("1",), "%d requires a number for formatting, but got String",
     '"%d in template" % arg1'),
    (_fmt_e_str, ("1",), "%e requires a number for formatting, but got String",
     '"%e in template" % arg1'),
    (_fmt_c_long_str, ("foo",), "%c requires an int or char for formatting, but got String",
     '"%c in template" % arg1'),
    (_fmt_too_few, ("foo",), "Too few arguments for format string",
     '"%s %s in template" % arg1'),
    ("too_many", ("foo", "bar"), "Too many arguments for format string",
     '"%s in template" % (arg1, arg2)'),
    (_fmt_unknown, ("foo",), "The specifier %a is not supported in TorchScript format strings",
     '"%a in template" % arg1')])
def test_percent_formatting_errors_when_run(fn, args, words, line):
    if isinstance(fn, str):            # (source text: pyflakes would flag the function)
        cu = torch.jit.CompilationUnit()
        cu.define(_FMT_BAD)
        f = getattr(cu, fn)
    else:
        f = torch.jit.script(fn)
    with pytest.raises(RuntimeError, match=words) as e:
        f(*args)
    assert line in str(e.value)


def _fmt_template_tuple(t: str, a: int, b: float):
    return t % (a, b)


def _fmt_tuple_variable(a: int, b: str):
    pair = (a, b)
    return "%d-%s" % pair


def _fmt_bad_on_a_branch_not_taken(n: int) -> str:
    if n < 0:
        return "%s %s" % n              # TorchScript compiles it; it fails only when run
    return "ok %d" % n


def test_percent_formatting_at_run_time():
    check_script(_fmt_template_tuple, "%d and %f", 3, 2.5)
    # (a precision, a width or a flag: TorchScript's specifiers take none, torch 2.13)
    with pytest.raises(RuntimeError, match="The specifier %. is not supported in "
                                           "TorchScript format strings"):
        torch.jit.script(_fmt_template_tuple)("%d and %.1f", 3, 2.5)
    check_script(_fmt_template_tuple, "%i|%e", 3, 2.5)
    check_script(_fmt_tuple_variable, 7, "x")
    f = torch.jit.script(_fmt_bad_on_a_branch_not_taken)
    assert f(3) == "ok 3"
    with pytest.raises(RuntimeError, match="Too few arguments for format string"):
        f(-1)


# ====================================================================== test_with.py

@torch.jit.script
class WithContext(object):
    """A context manager whose state is a tensor changed in place (so what scripted code
    does to it is seen outside)."""

    def __init__(self, start: int):
        self.count = torch.tensor([start], dtype=torch.double)

    def __enter__(self):
        self.count.add_(0.3)
        return self.count

    def __exit__(self, type: Any, value: Any, tb: Any):
        self.count.sub_(0.3)


def _with_basic(x):
    # type: (Tensor) -> Tensor
    c = WithContext(1)
    with c as mult:
        y = x + mult
    y *= c.count
    return y


def _with_pass(x):
    # type: (Tensor) -> Tensor
    c = WithContext(1)
    with c as _:
        pass
    x *= c.count
    return x


def _with_early_return(x, c):
    # type: (Tensor, WithContext) -> Tensor
    with c as mult:
        y = x + mult
        return y
    x = y + y
    return x


def _with_conditional_early_return(x, c):
    # type: (Tensor, WithContext) -> Tensor
    with c as mult:
        y = x + mult
        if bool(mult > 0):
            return y
    x = y + y
    return x


def _with_break(x, c, lst):
    # type: (Tensor, WithContext, List[int]) -> Tensor
    with c as mult:
        for a in lst:
            if a == 0:
                break
            x += a * mult
    return x


def _with_continue(x, c, lst):
    # type: (Tensor, WithContext, List[int]) -> Tensor
    with c as mult:
        for a in lst:
            if a == 0:
                continue
            x += a * mult
    return x


def _with_serial(x):
    # type: (Tensor) -> Tensor
    c = WithContext(1)
    with c as mult:
        y = x + mult
    with c as mult:
        y *= mult
    return y


def _with_nested(x):
    # type: (Tensor) -> Tensor
    c = WithContext(1)
    with c as m:
        with c as n:
            y = x + n
        y *= m
    return y


def _with_combined(x):
    # type: (Tensor) -> Tensor
    c = WithContext(1)
    d = WithContext(2)
    with c as m, d as n:
        y = x + (m + n)
    return y


def _with_no_as_basic(x):
    # type: (Tensor) -> Tensor
    c = WithContext(1)
    with c:
        y = x + c.count
    y *= c.count
    return y


def _with_no_as_early_return(x, c):
    # type: (Tensor, WithContext) -> Tensor
    with c:
        y = x + c.count
        return y
    x = y + y
    return x


def _with_no_as_continue(x, c, lst):
    # type: (Tensor, WithContext, List[int]) -> Tensor
    with c:
        for a in lst:
            if a == 0:
                continue
            x += a * c.count
    return x


def _with_no_as_combined(x):
    # type: (Tensor) -> Tensor
    c = WithContext(1)
    d = WithContext(2)
    with c, d:
        y = x + (c.count + d.count)
    return y


def _with_no_as_nested(x):
    # type: (Tensor) -> Tensor
    c = WithContext(1)
    with c:
        with c:
            y = x + c.count
        y *= c.count
    return y


def _run_with_context(fn, *args):
    """fn in Python and scripted, each with its own context objects (which it changes)."""
    def fresh(args):
        return [WithContext(2) if isinstance(a, WithContext) else
                a.clone() if isinstance(a, torch.Tensor) else list(a) for a in args]
    py_args, sc_args = fresh(args), fresh(args)
    expected = fn(*py_args)
    got = torch.jit.script(fn)(*sc_args)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)
    for a, b in zip(py_args, sc_args):
        if isinstance(a, WithContext):      # __exit__ ran: back to its start value
            np.testing.assert_allclose(b.count.numpy(), a.count.numpy())
            np.testing.assert_allclose(b.count.numpy(), [2.0])


_X = torch.tensor([[0.5, -1.0], [2.0, 3.0]], dtype=torch.double)
_L = [2, 0, 1, 3, 0, 2]


@pytest.mark.parametrize("fn, args", [
    (_with_basic, (_X,)), (_with_pass, (_X,)), (_with_early_return, (_X, WithContext(2))),
    (_with_conditional_early_return, (_X, WithContext(2))),
    (_with_break, (_X, WithContext(2), _L)), (_with_continue, (_X, WithContext(2), _L)),
    (_with_serial, (_X,)), (_with_nested, (_X,)), (_with_combined, (_X,)),
    (_with_no_as_basic, (_X,)), (_with_no_as_early_return, (_X, WithContext(2))),
    (_with_no_as_continue, (_X, WithContext(2), _L)), (_with_no_as_combined, (_X,)),
    (_with_no_as_nested, (_X,))])
def test_with_statements_over_a_script_class(fn, args):
    _run_with_context(fn, *args)


def _method_that_raises():
    # type: () -> Tensor
    raise Exception()


def _with_exception(x, c):
    # type: (Tensor, WithContext) -> Tensor
    with c as _:
        x += _method_that_raises()
    return x


def _with_exception_nested(x, c):
    # type: (Tensor, WithContext) -> Tensor
    with c as _:
        with c as _:
            x += _method_that_raises()
    return x


def _with_that_raises(c):
    # type: (WithContext) -> Tensor
    a = torch.tensor([1])
    with c as _:
        a += _method_that_raises()
    return a


def _with_exception_fn_call(x, c):
    # type: (Tensor, WithContext) -> Tensor
    with c as _:
        x += _with_that_raises(c)
    return x


@pytest.mark.parametrize("fn", [_with_exception, _with_exception_nested,
                                _with_exception_fn_call])
def test_with_exit_runs_when_the_body_raises(fn):
    f = torch.jit.script(fn)
    for _ in range(3):          # the profiled runs, then the optimized code
        c = WithContext(1)
        with pytest.raises(Exception):
            f(torch.zeros(2), c)
        np.testing.assert_allclose(c.count.numpy(), [1.0])


def _no_grad_add(x, y):
    # type: (Tensor, Tensor) -> Tensor
    with torch.no_grad():
        w = x + y
    return w


def _no_grad_assignment(x, y):
    # type: (Tensor, Tensor) -> Tensor
    with torch.no_grad():
        x[0] = y
    return x


class _NoGradModule(torch.nn.Module):
    @torch.jit.ignore
    def adder(self, x, y):
        # type: (Tensor, Tensor) -> Tensor
        return x + y

    def forward(self, x, y):
        # type: (Tensor, Tensor) -> Tensor
        with torch.no_grad():
            w = self.adder(x, y)
        return w


def test_with_no_grad():
    x = torch.ones(5, 5, requires_grad=True)
    y = torch.ones(5, 5) * 4
    w = torch.jit.script(_no_grad_add)(x, y)
    assert not w.requires_grad and w.grad_fn is None
    with pytest.raises(RuntimeError):
        w.backward(torch.ones(5, 5))
    w = torch.jit.script(_no_grad_assignment)(x.clone().detach().requires_grad_(),
                                              torch.randn(5))
    assert w.requires_grad and w.grad_fn is None
    assert not torch.jit.script(_NoGradModule())(x, y).requires_grad


@torch.jit.script
class _NoEnterNoExit(object):
    def __init__(self):
        self.count = 1


@torch.jit.script
class _BadEnter(object):
    def __init__(self):
        self.count = 1

    def __enter__(self, incr: int):
        self.count += incr

    def __exit__(self, type: Any, value: Any, tb: Any):
        pass


@torch.jit.script
class _BadExit(object):
    def __init__(self):
        self.count = 1

    def __enter__(self):
        self.count += 1

    def __exit__(self, type: Any, value: Any):
        pass


@torch.jit.script
class _ExitIncorrectTypes(object):
    def __init__(self):
        self.count = 1

    def __enter__(self):
        self.count += 1

    def __exit__(self, type: Any, value: int, tb: int):
        pass


def _with_no_enter_no_exit(x, c):
    # type: (Tensor, _NoEnterNoExit) -> Tensor
    with c as _:
        pass
    return x


def _with_bad_enter(x, c):
    # type: (Tensor, _BadEnter) -> Tensor
    with c as _:
        pass
    return x


def _with_bad_exit(x, c):
    # type: (Tensor, _BadExit) -> Tensor
    with c as _:
        pass
    return x


def _with_exit_incorrect_types(x, c):
    # type: (Tensor, _ExitIncorrectTypes) -> Tensor
    with c as _:
        pass
    return x


@pytest.mark.parametrize("fn, words", [
    (_with_no_enter_no_exit, "does not define __enter__ and __exit__ methods"),
    (_with_bad_enter, "__enter__ must have only one argument and one return value"),
    (_with_bad_exit, "__exit__ must have four arguments and no return value"),
    (_with_exit_incorrect_types, "argument 2 of __exit__ must have Any type")])
def test_with_errors(fn, words):
    with pytest.raises(RuntimeError, match=words) as e:
        torch.jit.script(fn)
    assert "with c as _" in str(e.value)



# ====================================================================== test_typing.py

def _in_dict(x):
    # type: (Dict[str, int]) -> bool
    return "hi" in x


def _not_in_dict(a):
    # type: (Dict[str, int]) -> bool
    if "hello" not in a:
        return False
    else:
        return True


def _dict_tensor_key(a, t):
    # type: (Dict[Tensor, int], Tensor) -> bool
    if t in a:
        return True
    else:
        return False


def test_dict_in_not_in():
    check_script(_in_dict, {"hi": 2, "bye": 3})
    check_script(_in_dict, {"bye": 3})
    check_script(_not_in_dict, {"hello": 1, "world": 2})
    check_script(_not_in_dict, {"world": 2})



def test_dict_with_tensor_keys_in():
    inp1, inp2 = torch.tensor(3), torch.tensor(5)
    d = {inp1: 1, inp2: 3}
    f = torch.jit.script(_dict_tensor_key)
    for t in (torch.tensor(4), torch.tensor(3), inp1, inp2):   # keys by identity
        assert f(d, t) == _dict_tensor_key(d, t)


@torch.jit.script
def _print_a():
    print("a")
    return 3


@torch.jit.script
def _print_b():
    print("b")
    return {3: 2, 4: 1}


def _a_in_b():
    return _print_a() in _print_b()


def test_in_evaluates_left_then_right(capsys):
    assert torch.jit.script(_a_in_b)()
    assert capsys.readouterr().out == "a\nb\n"


_ANNOTATION_MISMATCH = {
    "list_element": ("""
def fn():
    l: List[int] = [1, 2, "foo", 3]
    return l
""", "List[int]"),
    "dict_key": ("""
def fn():
    l1 = [1, 2, "foo", 3]
    l2 = ["foo", "bar", "baz", "qux"]
    d: Dict[int, str] = dict(zip(l1, l2))
    return d
""", None),
}


@pytest.mark.parametrize("name", sorted(_ANNOTATION_MISMATCH))
def test_container_annotation_mismatch_is_a_compile_error(name):
    src, words = _ANNOTATION_MISMATCH[name]
    with pytest.raises(RuntimeError) as e:
        torch.jit.CompilationUnit().define(src)
    if words:
        assert words in str(e.value)


def _tuple_io(x):
    # type: (Tuple[Tensor, Tensor]) -> Tuple[Tensor, Tensor]
    a, b = x
    return b, a


def _tuple_keyword():
    f = tuple((1, 2))  # noqa: C409
    return f


def _tuple_create_return(x):
    # type: (int) -> Tuple[Tensor, Tensor]
    a = (torch.ones(x), torch.zeros(x))
    return a


def _list_io(x):
    # type: (List[int]) -> Tuple[Tensor, List[int]]
    return torch.ones(x), x


def _nested_list(z):
    # type: (Tuple[int, List[List[int]]]) -> int
    x, y = z
    return y[0][1]


def _sum_int(x: List[int]) -> int:
    return sum(x)


def _sum_float(x: List[float]):
    return sum(x)


def _sum_bool(x: List[bool]):
    return sum(x)


def _list_unification():
    return [1, None, 2]


def _list_unification_tensors(x):
    return [torch.ones(2, 2), None, x]


def _sum_list(a):
    # type: (List[int]) -> int
    sum = 0
    for i in a:
        sum += i
    return sum


def _sum_list_literal():
    # type: () -> int
    sum = 0
    for i in [1, 2, 3, 4, 5]:
        sum += i
    return sum


def _for_in_string(x):
    # type: (str) -> str
    reverse = ""
    for c in x:
        reverse = c + reverse
    return reverse


def _for_in_list_of_strings(x):
    # type: (List[str]) -> str
    result = ""
    for sub_str in x:
        result += sub_str
    return result


def _for_in_dict(x):
    # type: (Dict[str, int]) -> int
    sum = 0
    for key in x:
        sum += x[key]
    return sum


def _dict_keys_values(x):
    # type: (Dict[str, int]) -> Tuple[str, int]
    key_str = ""
    sum = 0
    for key in x.keys():
        key_str += key
    for val in x.values():
        sum += val
    return key_str, sum


def _for_tuple_unpack(x, y):
    for i, j in [[3, 4], [5, 6], [7, 8]]:
        x += i
        y += j
    return x, y


def _nested_tuple_unpack(x, y):
    # type: (List[int], List[int]) -> int
    sum = 0
    for i, (j, k), v in zip(x, enumerate(x), y):
        sum += i + j + k + v
    return sum


def _dict_comprehension():
    return {i: chr(i + 65) for i in range(4)}


def _dict_comprehension_annotated():
    d: Dict[int, str] = {i: chr(i + 65) for i in range(4)}
    return d


def _comprehension_reads_outer_scope():
    lst = ["foo", "bar", "baz"]
    return {l: len(l) for l in lst}  # noqa: E741


def _for_over_tuple(x):
    # type: (Tuple[int, float]) -> float
    sum = 0.0
    for a in x:
        sum += float(a)
    return sum


def _for_over_tuple_of_tuples(x):
    # type: (Tuple[Tuple[int, int], Tuple[int, int]]) -> int
    sum = 0
    for a in x:
        sum += a[0]
        sum += a[1]
    return sum


def _singleton_tuple_unpack(a):
    (b,) = (a,)
    return b + 1


def _var_tuple_assign(x, y):
    # type: (Tuple[Tensor, Tensor], Tensor) -> Tensor
    (a, b), c = x, y
    return a + b + c


def _nested_tuple_assign(x, y, z):
    # type: (int, Tuple[int, Tuple[int, int]], Tuple[int, int]) -> int
    a, (b, (c, d)), (e, f) = x, y, z
    return a + b + c + d + e + f


def _subscript_tuple_assign(a, x, i):
    # type: (List[int], Tensor, int) -> Tuple[int, Tensor, int]
    a[i], (x[i], b) = 1, (2, 3)
    return a[i] + 1, x + 5, b


def _star_tuple_assign():
    a, (b, *c), *d = 1, (2, 3, 4), 5, 6       # c, d: tuples, as TorchScript's (torch 2.13)
    return a, b, list(c), list(d)


def _starred_alone(x):
    a = (x, x, x)
    *b, = a                  # TorchScript refuses it (test_starred_alone_is_refused)
    return b


def test_starred_alone_is_refused():
    # torch 2.13's words
    with pytest.raises(Exception, match="A Starred expression may only appear on the lhs "
                       "within the presence of another non-starred expression"):
        torch.jit.script(_starred_alone)


def _multiple_assign():
    a = b, c = d, f = (1, 1)
    ten = torch.tensor(1)
    ten1 = ten2 = ten.add_(1)
    x = 1
    y = 3
    x, y = y, x + y
    return a, b, c, d, f, ten, ten1, ten2, x, y


def _optional_tuple(x=None):
    # type: (Optional[Tuple[int, int]]) -> Tuple[int, int]
    if x is None:
        new_x = (1, 2)
    else:
        new_x = x
    return new_x


@pytest.mark.parametrize("fn, args", [
    (_tuple_io, ((torch.arange(3.0), torch.arange(3.0) + 5),)), (_tuple_keyword, ()),
    (_tuple_create_return, (3,)), (_list_io, ([3, 2],)),
    (_nested_list, ((1, [[1, 2], [3, 4]]),)), (_sum_int, ([1, 2, 3],)),
    (_sum_float, ([1.0, 2.0, 3.0],)), (_sum_float, ([1, 2.8, 3],)),
    (_sum_bool, ([True, False, False],)), (_sum_bool, ([False, False, False],)),
    (_list_unification, ()), (_list_unification_tensors, (torch.ones(2, 2),)),
    (_sum_list, ([1, 2, 3, 4, 5],)), (_sum_list, ([],)), (_sum_list, ([1],)),
    (_sum_list_literal, ()), (_for_in_string, ("hello",)), (_for_in_string, ("",)),
    (_for_in_list_of_strings, (["hello", " ", "world", ""],)),
    (_for_in_dict, ({"a": 1, "b": 2, "c": 3},)),
    (_dict_keys_values, ({"a": 1, "b": 2, "c": 3},)),
    (_for_tuple_unpack, (torch.tensor(3), torch.tensor(5))),
    (_nested_tuple_unpack, ([1, 3, 5], [2, 4, 6])), (_dict_comprehension, ()),
    (_dict_comprehension_annotated, ()), (_comprehension_reads_outer_scope, ()),
    (_for_over_tuple, ((1, 2.5),)), (_for_over_tuple_of_tuples, (((1, 2), (4, 7)),)),
    (_singleton_tuple_unpack, (torch.arange(3.0),)),
    (_var_tuple_assign, ((torch.ones(1, 4), torch.arange(12.0).reshape(3, 4)),
                         torch.ones(3, 4))),
    (_nested_tuple_assign, (1, (2, (3, 4)), (5, 6))),
    (_subscript_tuple_assign, ([12, 7, 9, 11], torch.tensor((3, 13, 17)), 0)),
    (_star_tuple_assign, ()), (_multiple_assign, ()),
    (_optional_tuple, ((3, 4),)), (_optional_tuple, ())])
def test_typing_programs_like_python(fn, args):
    check_script(fn, *args)


def _bool_lists(x):
    # type: (List[bool]) -> Tuple[List[bool], List[bool], List[List[bool]]]
    return x, [True, False], [[True]]


def test_bool_list_io():
    li_1, li_2, li_3 = torch.jit.script(_bool_lists)([True])
    for li in (li_1, li_2, li_3[0]):
        assert type(li[0]) is bool


_TYPING_ERRORS = {
    "tuple_two_args": ("""
def fn():
    return tuple(1, 2)
""", "takes at most 1 argument"),
    "tuple_of_list": ("""
def fn():
    return tuple([1, 2, 3])
""", "cannot statically infer the expected"),
    "iterate_int": ("""
def fn(a: int) -> int:
    sum = 0
    for i in a:
        sum += i
    return sum
""", "cannot iterate over an int"),
    "list_of_iterables": ("""
def fn(x):
    for i, j in [2, 3, 4], [5, 6, 7]:
        x += i
        x += j
    return x
""", "a for loop over a tuple needs a single name as its target"),
    "comprehension_variable_outside": ("""
def fn():
    d = {i: chr(i + 65) for i in range(4)}
    i = i + 1
""", "i"),
    "tuple_item_augmented_assign": ("""
def fn(a: Tuple[int, int]) -> Tuple[int, int]:
    a[0] += 1
    return a
""", "does not support augmented assignment"),
}


@pytest.mark.parametrize("name", sorted(_TYPING_ERRORS))
def test_typing_compile_errors(name):
    src, words = _TYPING_ERRORS[name]
    with pytest.raises(RuntimeError, match=words):
        torch.jit.CompilationUnit().define(src)


@torch.jit.script
def _opt_unify(weight, bias):
    # type: (Optional[int], Optional[int]) -> Optional[int]
    if weight is not None:
        opt = None
    else:
        if bias is not None:
            opt = 1
        else:
            opt = None
    return opt


@torch.jit.script
def _if_none_assignment(x):
    # type: (Optional[int]) -> int
    if x is None:
        x = 1
    return x + 1


@torch.jit.script
def _unify_to_optional(x):
    # type: (bool) -> Optional[int]
    if x:
        a = None
    else:
        a = 2
    return a


@torch.jit.script
def _opt_list(x):
    # type: (Optional[List[float]]) -> int
    return 2


@torch.jit.script
def _broadcast_opt_list(x):
    # type: (Optional[BroadcastingList2[float]]) -> int
    return 2


@torch.jit.script
def _opt_list_tuple_caller(x):
    # type: (Tuple[float, float]) -> int
    return _opt_list(x) + _broadcast_opt_list(x)


def test_optional_refinement_and_conversion():
    assert _opt_unify(1, None) is None and _opt_unify(None, 2) == 1
    assert _if_none_assignment(1) == 2 and _if_none_assignment(None) == 2
    assert _unify_to_optional(True) is None and _unify_to_optional(False) == 2
    assert _opt_list_tuple_caller((2.0, 3.0)) == 4


_GoogLeNetOutputs = collections.namedtuple("GoogLeNetOutputs",
                                           ["logits", "aux_logits2", "aux_logits1"])


def _namedtuple_identity(x):
    # type: (_GoogLeNetOutputs) -> _GoogLeNetOutputs
    return x


def test_namedtuple_from_collections():
    f = torch.jit.script(_namedtuple_identity)
    vals = torch.rand(3), torch.rand(4), torch.rand(5)
    out = f(_GoogLeNetOutputs(logits=vals[0], aux_logits2=vals[1], aux_logits1=vals[2]))
    assert out.logits is vals[0] or np.array_equal(out.logits.numpy(), vals[0].numpy())
    assert np.array_equal(out.aux_logits1.numpy(), vals[2].numpy())
    with pytest.raises(RuntimeError, match=r"NamedTuple\(logits, aux_logits2, aux_logits1\)"):
        f(_GoogLeNetOutputs(logits="3", aux_logits2="4", aux_logits1="5"))


class _BaseWithState(torch.nn.Module):
    state: List[int]

    def forward(self, x):
        pass


def _last_or_five(x: List[int]):
    if x:
        return x[-1]
    return 5


class _SubWithState(_BaseWithState):
    def __init__(self, v):
        super().__init__()
        self.x = v
        self.state = []

    def forward(self, x):
        return self.x + x + _last_or_five(self.state)


class _LowestWithState(_SubWithState):
    def __init__(self):
        super().__init__(123)


def test_inherited_class_annotations():
    a, b = torch.jit.script(_LowestWithState()), torch.jit.script(_LowestWithState())
    x = torch.tensor(1)
    assert a(x).item() == b(x).item() == 129


# ================================================================== test_isinstance.py

def _isinst_int(x: Any):
    assert torch.jit.isinstance(x, int)
    assert not torch.jit.isinstance(x, float)


def _isinst_float(x: Any):
    assert torch.jit.isinstance(x, float)
    assert not torch.jit.isinstance(x, int)


def _isinst_bool(x: Any):
    assert torch.jit.isinstance(x, bool)
    assert not torch.jit.isinstance(x, float)


def _isinst_list_str(x: Any):
    assert torch.jit.isinstance(x, List[str])
    assert not torch.jit.isinstance(x, List[int])
    assert not torch.jit.isinstance(x, Tuple[int])


def _isinst_list_tensor(x: Any):
    assert torch.jit.isinstance(x, List[torch.Tensor])
    assert not torch.jit.isinstance(x, Tuple[int])


def _isinst_dict(x: Any):
    assert torch.jit.isinstance(x, Dict[str, int])
    assert not torch.jit.isinstance(x, Dict[int, str])
    assert not torch.jit.isinstance(x, Dict[str, str])


def _isinst_dict_tensor(x: Any):
    assert torch.jit.isinstance(x, Dict[int, torch.Tensor])


def _isinst_tuple(x: Any):
    assert torch.jit.isinstance(x, Tuple[str, int, str])
    assert not torch.jit.isinstance(x, Tuple[int, str, str])
    assert not torch.jit.isinstance(x, Tuple[str])


def _isinst_optional(x: Any):
    assert torch.jit.isinstance(x, Optional[torch.Tensor])
    assert not torch.jit.isinstance(x, Optional[str])


def _isinst_optional_none(x: Any):
    assert torch.jit.isinstance(x, Optional[torch.Tensor])


def _isinst_list_nested(x: Any):
    assert torch.jit.isinstance(x, List[Dict[str, int]])
    assert not torch.jit.isinstance(x, List[List[str]])


def _isinst_dict_nested(x: Any):
    assert torch.jit.isinstance(x, Dict[str, Tuple[str, str, str]])
    assert not torch.jit.isinstance(x, Dict[str, Tuple[int, int, int]])


def _isinst_tuple_nested(x: Any):
    assert torch.jit.isinstance(
        x, Tuple[Dict[str, Tuple[str, str, str]], List[bool], Optional[str]])
    assert not torch.jit.isinstance(x, Dict[str, Tuple[int, int, int]])
    assert not torch.jit.isinstance(x, Tuple[str])
    assert not torch.jit.isinstance(x, Tuple[List[bool], List[str], List[int]])


def _isinst_optional_nested(x: Any):
    assert torch.jit.isinstance(x, Optional[List[str]])


def _isinst_not_list_tensor(x: Any):
    assert not torch.jit.isinstance(x, List[torch.Tensor])


def _isinst_in_if(x: Any):
    if torch.jit.isinstance(x, List[int]):
        assert True
    if torch.jit.isinstance(x, List[str]):
        assert not True


def _isinst_if_else(x: Any):
    if torch.jit.isinstance(x, Tuple[str, str, str]):
        assert True
    else:
        assert not True


def _isinst_in_while(x: Any):
    count = 0
    while torch.jit.isinstance(x, List[Dict[str, int]]) and count <= 0:
        count = count + 1
    assert count == 1


def _isinst_refinement(obj: Any):
    hit = False
    if torch.jit.isinstance(obj, List[torch.Tensor]):
        hit = not hit
        for el in obj:
            el.clamp(0, 0.5)
    if torch.jit.isinstance(obj, Dict[str, str]):
        hit = not hit
        str_cat = ""
        for val in obj.values():
            str_cat = str_cat + val
        assert "111222" == str_cat
    assert hit


_NESTED = ({"a": ("aa", "aa", "aa"), "b": ("bb", "bb", "bb")}, [True, False, True], None)


@pytest.mark.parametrize("fn, x", [
    (_isinst_int, 1), (_isinst_float, 1.0), (_isinst_bool, False),
    (_isinst_list_str, ["1", "2", "3"]),
    (_isinst_list_tensor, [torch.tensor([1.0]), torch.tensor([2.0])]),
    (_isinst_dict, {"a": 1, "b": 2}), (_isinst_dict_tensor, {2: torch.tensor([2])}),
    (_isinst_tuple, ("a", 1, "b")), (_isinst_optional, torch.ones(3, 3)),
    (_isinst_optional_none, None),
    (_isinst_list_nested, [{"a": 1, "b": 2}, {"aa": 11, "bb": 22}]),
    (_isinst_dict_nested, {"a": ("aa", "aa", "aa"), "b": ("bb", "bb", "bb")}),
    (_isinst_tuple_nested, _NESTED), (_isinst_optional_nested, ["a", "b", "c"]),
    (_isinst_list_tensor, [torch.rand(3, 3), torch.rand(4, 3)]),
    (_isinst_not_list_tensor, [1, 2, 3]), (_isinst_in_if, [1, 2, 3]),
    (_isinst_if_else, ("a", "b", "c")),
    (_isinst_in_while, [{"a": 1, "b": 2}, {"aa": 11, "bb": 22}]),
    (_isinst_refinement, [torch.rand(3, 3), torch.rand(4, 3)]),
    (_isinst_refinement, {"1": "111", "2": "222"})])
def test_jit_isinstance_of_any(fn, x):
    assert fn(x) is None                                # eager: the asserts hold
    assert torch.jit.script(fn)(x) is None


_NO_CONTAINED = {
    "List": ("List", "Attempted to use List without a contained type. "
                     r"Please add a contained type, e.g. List\[int\]"),
    "Tuple": ("Tuple", "Attempted to use Tuple without a contained type. "
                       r"Please add a contained type, e.g. Tuple\[int\]"),
    "Optional": ("Optional", "Attempted to use Optional without a contained type. "
                             r"Please add a contained type, e.g. Optional\[int\]"),
    "Dict": ("Dict", "Attempted to use Dict without contained types. "
                     r"Please add contained type, e.g. Dict\[int, int\]"),
}


@pytest.mark.parametrize("name", sorted(_NO_CONTAINED))
def test_jit_isinstance_without_contained_types(name):
    ann, words = _NO_CONTAINED[name]
    cu_src = f"def fn(x: Any):\n    assert torch.jit.isinstance(x, {ann})\n"
    with pytest.raises(RuntimeError, match=words):
        torch.jit.CompilationUnit().define(cu_src)
    with pytest.raises(RuntimeError, match=words):
        torch.jit.isinstance(["1"], getattr(__import__("typing"), ann))


# ================================================================== test_exception.py

class _ConvModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 10, kernel_size=5)

    def forward(self, x):
        return self.conv(x)


def test_op_error_message_comes_through():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) "
                                           r"input to conv2d"):
        torch.jit.script(_ConvModule())(torch.ones([123]))


def _close_match(x):
    return x.masked_fill(True)


def test_builtin_call_that_no_overload_takes():
    with pytest.raises(RuntimeError, match="no variant of 'masked_fill' accepts"):
        torch.jit.script(_close_match)


_RAISE_SRC = """
def foo(cond):
    if bool(cond):
        raise ValueError(3)
    return 1
"""


def _raise_always():
    raise RuntimeError("Hi")


def _raise_always_declared():
    # type: () -> Tensor
    raise Exception("Hi")


def _a_escapes_scope():
    if 1 == 1:
        a = 1
    else:
        if 1 == 1:
            raise Exception("Hi")
        else:
            raise Exception("Hi")
    return a


def _raise_tuple_message():
    raise RuntimeError("hello", "goodbye")


def _raise_class():
    raise RuntimeError


_BAD_RAISES = {
    "undefined": ("""
def foo(cond):
    a = 3
    if bool(cond):
        raise ArbitraryError(a, "hi")
    return a
""", "ArbitraryError"),
    "exception_as_value": ("""
def foo():
    a = Exception()
    print(a)
""", "exception message cannot be used as a value"),     # (torch 2.13's words)
    "not_an_exception": ("""
def foo():
    raise 3 + 4
""", None),
}


def test_exceptions():
    cu = torch.jit.CompilationUnit()
    cu.define(_RAISE_SRC)
    assert cu.foo(torch.tensor(0)) == 1
    with pytest.raises(ValueError, match="3"):
        cu.foo(torch.tensor(1))
    assert str(torch.jit.script(_raise_always).graph.outputs[0].type) == "NoneType"
    assert str(torch.jit.script(_raise_always_declared).graph.outputs[0].type) == "Tensor"
    with pytest.raises(Exception, match="Hi"):
        torch.jit.script(_raise_always_declared)()
    assert torch.jit.script(_a_escapes_scope)() == 1
    f, g = torch.jit.script(_raise_tuple_message), torch.jit.script(_raise_class)
    with pytest.raises(RuntimeError, match="hello, goodbye"):
        f()
    with pytest.raises(RuntimeError):
        g()


@pytest.mark.parametrize("name", sorted(_BAD_RAISES))
def test_bad_raises_are_compile_errors(name):
    src, words = _BAD_RAISES[name]
    with pytest.raises(RuntimeError) as e:
        torch.jit.CompilationUnit().define(src)
    if words:
        assert words in str(e.value)


_ASSERT_SRC = """
def foo(cond):
    assert bool(cond), "hi"
    return 0
"""


def _assert_no_return(cond):
    assert bool(cond), "hi"


def test_assertions():
    cu = torch.jit.CompilationUnit()
    cu.define(_ASSERT_SRC)
    assert cu.foo(torch.tensor(1)) == 0
    with pytest.raises(AssertionError, match="hi"):
        cu.foo(torch.tensor(0))
    f = torch.jit.script(_assert_no_return)
    f(torch.tensor(1))
    with pytest.raises(AssertionError, match="hi"):
        f(torch.tensor(0))


@torch.jit.ignore
def _python_op_raises(x):
    raise Exception("bad!")


def _calls_python_op(x):
    return _python_op_raises(x)


def test_python_op_exception():
    with pytest.raises(Exception, match="bad!"):
        torch.jit.script(_calls_python_op)(torch.tensor(4))


def _dict_expansion():
    d = {"foo": 1, "bar": 2, "baz": 3}
    return {**d}


def test_dict_expansion_is_refused():
    with pytest.raises(RuntimeError, match=r"\*\*"):
        torch.jit.script(_dict_expansion)


class _MyValueError(ValueError):
    pass


def _raise_custom():
    raise _MyValueError("test custom exception")


def test_custom_python_exception():
    f = torch.jit.script(_raise_custom)
    with pytest.raises(_MyValueError, match="test custom exception"):
        f()
    class LocalError(KeyError):
        pass

    def raise_local():
        raise LocalError("from a local class")
    g = torch.jit.script(raise_local)       # its class cannot be imported: named
    with pytest.raises(RuntimeError, match="LocalError: from a local class"):
        g()


def _raise_with_values(x, n: int):
    raise ValueError(n, x.dim())


def test_raise_message_of_several_values_and_non_strs():
    f = torch.jit.script(_raise_with_values)
    with pytest.raises(ValueError, match="3, 1"):
        f(torch.zeros(2), 3)


# ======================================================================= test_warn.py

def _warn_once():
    warnings.warn("I am warning you", stacklevel=2)


def _warn_in_loop():
    for _ in range(10):
        warnings.warn("I am warning you", stacklevel=2)


def _w1():
    warnings.warn("I am warning you", stacklevel=2)


def _w2():
    warnings.warn("I am warning you", stacklevel=2)


def _warn_via_function_in_loop():
    for _ in range(10):
        _w1()


def _warn_two_functions():
    _w1()
    _w2()


def _warn_two_functions_in_loop():
    for _ in range(10):
        _w1()
        _w2()


def _warn_from(caller: str):
    warnings.warn("I am warning you from " + caller, stacklevel=2)


def _warn_foo():
    _warn_from("foo")


def _warn_bar():
    _warn_from("bar")


def _shown(*calls):
    """The warnings Python's default filter shows (each place once per call) while the
    calls run."""
    with warnings.catch_warnings(record=True) as w:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for c in calls:
            c()
    return [f"{m.category.__name__}: {m.message}" for m in w]


@pytest.mark.parametrize("fn, count", [
    (_warn_once, 1), (_warn_in_loop, 1), (_warn_via_function_in_loop, 1),
    (_warn_two_functions, 2), (_warn_two_functions_in_loop, 2)])
def test_warn_once_per_place_per_call(fn, count):
    f = torch.jit.script(fn)
    assert _shown(f) == ["UserWarning: I am warning you"] * count


def test_warn_each_call_and_from_each_caller():
    f = torch.jit.script(_warn_once)
    assert _shown(f, f) == ["UserWarning: I am warning you"] * 2
    f = torch.jit.script(_warn_in_loop)     # the profiled runs, then the optimized code
    assert _shown(f, f, f, f) == ["UserWarning: I am warning you"] * 4
    foo, bar = torch.jit.script(_warn_foo), torch.jit.script(_warn_bar)
    assert _shown(foo, bar) == ["UserWarning: I am warning you from foo",
                                "UserWarning: I am warning you from bar"]
