"""PyTorch's TorchScript language tests, second part (session 17, helper T2), ported as
behaviour: test/jit/test_scriptmod_ann.py, test_types.py, test_typing.py,
test_isinstance.py, test_slice.py, test_string_formatting.py (what
tests/test_jit_lang_port.py did not port yet). Scripted answers are compared with the
same function run in Python (gpujit eager) or with literal values.

Skipped from PyTorch's files (one line each, why):
- test_scriptmod_ann.test_annotated_empty_{list,dict,optional}* and
  test_annotated_with_jit_empty_*: TorchScript warns ("doesn't support instance-level
  annotations on empty non-base types") and forgets the type, so `self.x = x` fails to
  compile. gpujit reads the annotation of an empty list or dict (`self.x: List[int] = []`
  or `self.x = torch.jit.annotate(List[int], [])`) from __init__'s source and keeps it,
  so these modules script and run; that is what is tested here. (A None attribute is a
  NoneType one whatever its annotation, as TorchScript's: session 35.)
- test_types.test_inferred_type_error_message: torch._C.InferredType is a C++ binding.
- test_types.test_ignoring_fn_with_nonscriptable_types: needs torch.fx.
- test_types.test_unimported_type_resolution: ported in tests/test_jit_types_port_s25.py.
"""
import warnings
from collections import namedtuple
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit.testing import FileCheck


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


def check_script(fn, *args):
    """fn scripted gives what fn gives in Python (values, and types of non-tensors)."""
    expected = fn(*_copy(args))
    got = torch.jit.script(fn)(*_copy(args))
    _same(got, expected)
    return got


def check_module(m, *args):
    expected = m(*_copy(args))
    got = torch.jit.script(m)(*_copy(args))
    _same(got, expected)
    return got


def script_error(fn, match, exc=RuntimeError):
    with pytest.raises(exc, match=match):
        torch.jit.script(fn)


# ====================================================================== test_scriptmod_ann.py

class _FalsyBase(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x: int = 0

    def forward(self, x: int):
        self.x = x
        return 1


class _NonEmptyList(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x: List[int] = [1, 2, 3]

    def forward(self, x: List[int]):
        self.x = x
        return 1


class _EmptyTensor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x: torch.Tensor = torch.empty(0)

    def forward(self, x: torch.Tensor):
        self.x = x
        return self.x


class _JitAttribute(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x = torch.jit.Attribute([], List[int])

    def forward(self, x: List[int]):
        self.x = x
        return self.x


class _ClassLevelOnly(torch.nn.Module):
    x: List[int]

    def __init__(self):
        super().__init__()
        self.x = []

    def forward(self, y: List[int]):
        self.x = y
        return self.x


class _ClassAndInit(torch.nn.Module):
    x: List[int]

    def __init__(self):
        super().__init__()
        self.x: List[int] = []

    def forward(self, y: List[int]):
        self.x = y
        return self.x


class _ClassAndJitAnnotate(torch.nn.Module):
    x: List[int]

    def __init__(self):
        super().__init__()
        self.x: List[int] = torch.jit.annotate(List[int], [])

    def forward(self, y: List[int]):
        self.x = y
        return self.x


@pytest.mark.parametrize("cls, arg", [
    (_FalsyBase, 1), (_NonEmptyList, [1, 2, 3]), (_EmptyTensor, torch.ones(2, 3)),
    (_JitAttribute, [1, 2, 3]), (_ClassLevelOnly, [1, 2, 3]), (_ClassAndInit, [1, 2, 3]),
    (_ClassAndJitAnnotate, [1, 2, 3])])
def test_annotated_attributes_script_without_warnings(cls, arg):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        check_module(cls(), arg)
    assert not w, [str(x.message) for x in w]


class _EmptyList(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x: List[int] = []

    def forward(self, x: List[int]):
        self.x = x
        return len(self.x)


class _EmptyListLower(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x: list[int] = []

    def forward(self, x: list[int]):
        self.x = x
        return len(self.x)


class _EmptyDict(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x: Dict[str, int] = {}

    def forward(self, x: Dict[str, int]):
        self.x = x
        return len(self.x)


class _EmptyDictLower(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x: dict[str, int] = {}

    def forward(self, x: dict[str, int]):
        self.x = x
        return len(self.x)


class _EmptyOptional(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x: Optional[str] = None

    def forward(self, x: Optional[str]):
        self.x = x
        y = self.x          # (attributes are not refined, locals are)
        return 0 if y is None else len(y)


class _JitEmptyList(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x = torch.jit.annotate(List[int], [])

    def forward(self, x: List[int]):
        self.x = x
        return len(self.x)


class _JitEmptyListLower(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x = torch.jit.annotate(list[int], [])

    def forward(self, x: list[int]):
        self.x = x
        return len(self.x)


class _JitEmptyDict(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x = torch.jit.annotate(Dict[str, int], {})

    def forward(self, x: Dict[str, int]):
        self.x = x
        return len(self.x)


class _JitEmptyOptional(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x = torch.jit.annotate(Optional[str], None)

    def forward(self, x: Optional[str]):
        self.x = x
        y = self.x          # (attributes are not refined, locals are)
        return 0 if y is None else len(y)


class _JitImportEmptyOptional(torch.nn.Module):
    def __init__(self):
        super().__init__()
        from gpujit import jit
        self.x = jit.annotate(Optional[str], None)

    def forward(self, x: Optional[str]):
        self.x = x
        y = self.x          # (attributes are not refined, locals are)
        return 0 if y is None else len(y)


@pytest.mark.parametrize("cls, arg, want", [
    (_EmptyList, [1, 2], 2), (_EmptyListLower, [1], 1), (_EmptyDict, {"a": 1}, 1),
    (_EmptyDictLower, {}, 0),
    (_JitEmptyList, [4, 5, 6], 3), (_JitEmptyListLower, [], 0),
    (_JitEmptyDict, {"a": 1, "b": 2}, 2)])
def test_empty_attributes_keep_the_type_written_in_init(cls, arg, want):
    m = torch.jit.script(cls())
    assert m(arg) == want
    assert m.x == arg


@pytest.mark.parametrize("cls", [_EmptyOptional, _JitEmptyOptional, _JitImportEmptyOptional])
def test_an_attribute_set_to_none_is_none_whatever_the_annotation(cls):
    # a None attribute is a NoneType one, as TorchScript types it by its value (session
    # 35; torch 2.13: "Wrong type for attribute assignment. Expected NoneType but got
    # Optional[str]"), so that `if self.t is not None:` is decided when compiling
    with pytest.raises(RuntimeError, match="Wrong type for attribute assignment. Expected "
                                           "NoneType but got Optional\\[str\\]"):
        torch.jit.script(cls())


class _SetsUnknown(torch.nn.Module):
    def forward(self, x: int):
        self.y = x
        return x


def test_assigning_an_attribute_init_did_not_set():
    with pytest.raises(RuntimeError, match="Tried to set nonexistent attribute: y. Did you "
                                           "forget to initialize it in __init__"):
        torch.jit.script(_SetsUnknown())


# ====================================================================== test_types.py

def _pep585(x: torch.Tensor) -> Tuple[Tuple[torch.Tensor], Dict[str, int]]:
    xl: list[tuple[torch.Tensor]] = []
    xd: dict[str, int] = {}
    xl.append((x,))
    xd["foo"] = 1
    return xl.pop(), xd


def _device_of(m: torch.Tensor) -> torch.device:
    return m.device


def test_pep585_types_and_types_as_values():
    check_script(_pep585, torch.arange(4.).reshape(2, 2))
    d = torch.jit.script(_device_of)(torch.ones(2))
    assert d == torch.device("cpu")


_GG = namedtuple("_GG", ["f", "g"])


class _IgnoredReturnsNamedTuples(torch.nn.Module):
    @torch.jit.ignore
    def foo(self, x: torch.Tensor, z: torch.Tensor) -> Tuple[_GG, _GG]:
        return _GG(x, z), _GG(x, z)

    def forward(self, x, z):
        return self.foo(x, z)


def test_ignored_method_returning_namedtuples():
    x, z = torch.ones(2, 2), torch.zeros(2, 2)
    a, b = torch.jit.script(_IgnoredReturnsNamedTuples())(x, z)
    assert a.f is x and b.g is z


@torch.jit.ignore
def _ignored_on_dict(x: Dict[str, Optional[torch.Tensor]]):
    return len(x)


class _IgnoreWithTypes(torch.nn.Module):
    def forward(self, in_batch: Dict[str, Optional[torch.Tensor]]) -> torch.Tensor:
        self.dropout_modality(in_batch)
        _ignored_on_dict(in_batch)
        return torch.tensor(1)

    @torch.jit.ignore
    def dropout_modality(self, in_batch: Dict[str, Optional[torch.Tensor]]
                         ) -> Dict[str, Optional[torch.Tensor]]:
        return in_batch


def test_ignore_with_types():
    sm = torch.jit.script(_IgnoreWithTypes())
    FileCheck().check("dropout_modality").check("in_batch").run(str(sm.graph))
    # _ignored_on_dict has no return annotation, so its result is a Tensor: its int is
    # refused when it returns (torch 2.13 too)
    with pytest.raises(RuntimeError, match="expected value of type Tensor for return value "
                                           "but instead got value of type int"):
        sm({"a": torch.ones(1), "b": None})


class _PyCallable:
    @torch.jit.ignore
    def __call__(self, *args) -> str:
        return str(type(args[0]).__name__)


_the_callable = _PyCallable()


def _calls_python_callable(x):
    return _the_callable(x)


def test_python_callable_object():
    x = torch.ones(2)
    assert torch.jit.script(_calls_python_callable)(x) == _the_callable(x) == "Tensor"


@torch.jit.ignore
def _ignored_tensor_arg(my_arg):
    return my_arg + 10


def _passes_str_for_tensor(x):
    return _ignored_tensor_arg("2")


def test_ignored_function_argument_types_are_checked():
    script_error(_passes_str_for_tensor, "argument 'my_arg'")


def _annotate_py3():
    a: List[int] = []
    b: torch.Tensor = torch.ones(2, 2)
    c: Optional[torch.Tensor] = None
    d: Optional[torch.Tensor] = torch.ones(3, 4)
    for _ in range(10):
        a.append(4)
        c = torch.ones(2, 2)
        d = None
    return a, b, c, d


def _wrong_list_type():
    wrong: List[int] = [0.5]
    return wrong


def test_type_annotate_py3():
    check_script(_annotate_py3)
    script_error(_wrong_list_type, r"List type annotation `List\[int\]` did not match the "
                                   r"types of the given list elements")


def _optional_bare(x: torch.Tensor) -> Optional:
    return (x, x)


def _tuple_bare(x: torch.Tensor) -> Tuple:
    return (x, x)


def test_bare_optional_and_tuple_return_annotations():
    import inspect
    import textwrap
    for fn, name in ((_optional_bare, "Optional"), (_tuple_bare, "Tuple")):
        msg = f"Attempted to use {name} without a contained type"
        script_error(fn, msg)
        with pytest.raises(RuntimeError, match=msg):
            torch.jit.CompilationUnit().define(textwrap.dedent(inspect.getsource(fn)))


class _Sub(torch.nn.Module):
    def forward(self, a: int) -> int:
        return sum([a])


class _WithIgnoredAttr(torch.nn.Module):
    __jit_ignored_attributes__ = ["a", "sub"]

    def __init__(self, a: int, b: int):
        super().__init__()
        self.a = a
        self.b = b
        self.sub = _Sub()

    def forward(self) -> int:
        return self.b

    @torch.jit.ignore
    def ignored_fn(self) -> int:
        return self.sub.forward(self.a)


class _UsesIgnoredAttr(torch.nn.Module):
    __jit_ignored_attributes__ = ["a", "sub"]

    def __init__(self, a: int):
        super().__init__()
        self.a = a
        self.sub = _Sub()

    def forward(self) -> int:
        return self.sub(self.b)


def test_ignoring_module_attributes():
    sm = torch.jit.script(_WithIgnoredAttr(1, 4))
    assert sm() == 4
    assert sm.ignored_fn() == 1
    script_error(_UsesIgnoredAttr(1), "attribute was ignored during compilation")


def _str_annotated_int():
    x: str = 4
    return x


def _reannotated():
    x = 5
    if 1 == 1:
        x: Optional[int] = 7
    return x


def test_annotation_errors():
    script_error(_str_annotated_int, "annotated with type")
    script_error(_reannotated, "declare and annotate")


def test_instance_annotations_outside_init_are_refused():
    msg = "annotations on instance attributes must be declared in __init__"
    with pytest.raises(ValueError, match=msg):
        @torch.jit.script
        class BadModule:
            def __init__(self, x: int):
                self.x = x

            def set(self, val: int):
                self.x: int = val

    with pytest.raises(ValueError, match=msg):
        @torch.jit.script
        class BadModuleLoop:
            def __init__(self, x: int):
                self.x = x

            def set(self, val: int):
                for i in range(3):
                    self.x: int = val

    @torch.jit.script
    class GoodModule:
        def __init__(self, x: int):
            self.x: int = x

        def set(self, val: int):
            self.x = val

    g = GoodModule(1)
    g.set(3)
    assert g.x == 3


# ====================================================================== test_typing.py
# (most of test_typing.py is in tests/test_jit_lang_port.py; these are the rest)

def _annotation_list_mismatch():
    l: List[int] = [1, 2, "foo", 3]
    return l


def test_list_annotation_element_mismatch():
    script_error(_annotation_list_mismatch,
                 r"List type annotation `List\[int\]` did not match the types of the given "
                 r"list elements")


def _dict_of_script_modules(dictionary: Dict[str, torch.jit.ScriptModule]):
    return


def _dict_keyed_by_script_modules(dictionary: Dict[torch.jit.ScriptModule, str]):
    return


@pytest.mark.parametrize("fn", [_dict_of_script_modules, _dict_keyed_by_script_modules])
def test_dict_invalid_annotations(fn):
    # (TorchScript raises ValueError "Unknown type annotation"; gpujit a compile error
    # naming the class)
    script_error(fn, "'ScriptModule' is not a type gpujit.script can compile")


_GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])


def _namedtuple_identity(x):
    # type: (_GoogLeNetOutputs) -> _GoogLeNetOutputs
    return x


def test_namedtuple_argument_and_its_type_error():
    f = torch.jit.script(_namedtuple_identity)
    vals = torch.ones(3), torch.ones(4), torch.ones(5)
    out = f(_GoogLeNetOutputs(logits=vals[0], aux_logits2=vals[1], aux_logits1=vals[2]))
    assert out.logits is vals[0] and out.aux_logits1 is vals[2]
    with pytest.raises(RuntimeError, match=r"aka NamedTuple\(logits, aux_logits2, "
                                           r"aux_logits1\)"):
        f(_GoogLeNetOutputs(logits="3", aux_logits2="4", aux_logits1="5"))


def _opt_opt_unify(weight, bias):
    # type: (Optional[int], Optional[int]) -> Optional[int]
    if weight is not None:
        opt = None
    else:
        if bias is not None:
            opt = 1
        else:
            opt = None
    return opt


def _if_none_assignment(x):
    # type: (Optional[int]) -> int
    if x is None:
        x = 1
    return x + 1


def _unify_to_optional(x):
    # type: (bool) -> Optional[int]
    if x:
        a = None
    else:
        a = 2
    return a


@pytest.mark.parametrize("fn, args", [
    (_opt_opt_unify, (1, 2)), (_opt_opt_unify, (None, 2)), (_opt_opt_unify, (None, None)),
    (_if_none_assignment, (1,)), (_if_none_assignment, (None,)),
    (_unify_to_optional, (True,)), (_unify_to_optional, (False,))])
def test_optional_refinement_and_unification(fn, args):
    check_script(fn, *args)


def _opt_list(x):
    # type: (Optional[List[float]]) -> int
    return 2


def _broadcast_opt_list(x):
    # type: (Optional[BroadcastingList2[float]]) -> int
    return 2


def test_tuple_passed_for_an_optional_list():
    opt_list = torch.jit.script(_opt_list)
    broadcast = torch.jit.script(_broadcast_opt_list)

    def caller(x):
        # type: (Tuple[float, float]) -> int
        return opt_list(x) + broadcast(x)

    assert torch.jit.script(caller)((2.0, 3.0)) == 4


def _sum_of_an_int(a):
    # type: (int) -> int
    sum = 0
    for i in a:
        sum += i
    return sum


def test_iterating_an_int_is_a_compile_error():
    script_error(_sum_of_an_int, "'int' object is not iterable")


def _tuple_of_two_args():
    return tuple(1, 2)


def _tuple_of_a_list():
    return tuple([1, 2, 3])


def test_tuple_builtin_errors():
    script_error(_tuple_of_two_args, "1 argument")
    script_error(_tuple_of_a_list, "cannot statically infer the expected")


def test_loop_over_a_tuple_of_lists_with_two_targets_is_refused():
    # (Python itself fails: each list has three elements, not two)
    with pytest.raises(RuntimeError):
        torch.jit.CompilationUnit("""
def list_iterables(x):
    for i, j in [2, 3, 4], [5, 6, 7]:
        x += i
        x += j
    return x
""")


# ====================================================================== test_string_formatting.py
# (the rest is in tests/test_jit_lang_port.py)

def _fmt_too_many(arg1: str, arg2: str) -> str:
    template = "%s in template"
    return template % (arg1, arg2)


def test_percent_formatting_with_too_many_arguments():
    f = torch.jit.script(_fmt_too_many)
    with pytest.raises(RuntimeError, match="Too many arguments for format string"):
        f("foo", "bar")


# ====================================================================== test_slice.py / test_isinstance.py
# (all of test_slice.py and test_isinstance.py are ported in tests/test_jit_lang_port.py)
