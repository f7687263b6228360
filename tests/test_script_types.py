"""Script frontend types: annotations (objects, text, type comments) -> IR types,
function signatures, types inferred from example inputs, and the errors for what
gpujit.script cannot type (issue 6, item 2)."""
import collections
import typing
from typing import Dict, Final, List, NamedTuple, Optional, Set, Tuple, Union

import pytest
try:
    import typing_extensions
except ImportError:            # not a dependency: only its Final spelling is tested
    typing_extensions = None

import gpujit
import gpujit as torch
from gpujit.frontend.script.errors import FrontendError
from gpujit.frontend.script.types import (annotation_type, annotation_expr_type,
                                          signature_types, types_from_examples,
                                          value_matches_type, namedtuple_type)
from gpujit.ir import types as T


class Point(NamedTuple):
    x: int
    y: float
    t: torch.Tensor


class Deferred(NamedTuple):
    names: "List[str]"
    scale: "Optional[float]"


Untyped = collections.namedtuple("Untyped", ["a", "b"])

# a stand-in for PyTorch's own classes (code ported from PyTorch may annotate with them)
FakeTorchTensor = type("Tensor", (), {"__module__": "torch"})
FakeTorchParameter = type("Parameter", (FakeTorchTensor,), {"__module__": "torch.nn"})
FakeTorchDevice = type("device", (), {"__module__": "torch"})


# ------------------------------------------------------------------ annotation objects

@pytest.mark.parametrize("ann, text, spelled", [
    (int, "int", "int"),
    (float, "float", "float"),
    (bool, "bool", "bool"),
    (str, "str", "str"),
    (None, "NoneType", "NoneType"),
    (type(None), "NoneType", "NoneType"),
    (gpujit.Tensor, "Tensor", "Tensor"),
    (gpujit.nn.Parameter, "Tensor", "Tensor"),
    (FakeTorchTensor, "Tensor", "Tensor"),
    (FakeTorchParameter, "Tensor", "Tensor"),
    (gpujit.device, "Device", "Device"),
    (FakeTorchDevice, "Device", "Device"),
    (typing.Any, "Any", "Any"),
    (List[int], "int[]", "List[int]"),
    (list[float], "float[]", "List[float]"),
    (List[List[torch.Tensor]], "Tensor[][]", "List[List[Tensor]]"),
    (Tuple[int, torch.Tensor], "(int, Tensor)", "Tuple[int, Tensor]"),
    (tuple[int, str], "(int, str)", "Tuple[int, str]"),
    (Tuple[()], "()", "Tuple[()]"),
    (tuple[()], "()", "Tuple[()]"),
    (Dict[str, int], "Dict(str, int)", "Dict[str, int]"),
    (dict[int, List[torch.Tensor]], "Dict(int, Tensor[])", "Dict[int, List[Tensor]]"),
    (Dict[torch.Tensor, float], "Dict(Tensor, float)", "Dict[Tensor, float]"),
    (Optional[int], "int?", "Optional[int]"),
    (Optional[List[torch.Tensor]], "Tensor[]?", "Optional[List[Tensor]]"),
    (Union[int, None], "int?", "Optional[int]"),
    (int | None, "int?", "Optional[int]"),
    (None | torch.Tensor, "Tensor?", "Optional[Tensor]"),
    (Union[int, str], "Union(int, str)", "Union[int, str]"),
    (int | float | str, "Union(float, int, str)", "Union[float, int, str]"),
    (Optional[Union[int, str]], "Union(int, NoneType, str)", "Union[int, NoneType, str]"),
    (Union[int, Union[str, int]], "Union(int, str)", "Union[int, str]"),
    (Final[int], "int", "int"),
] + ([(typing_extensions.Final[List[int]], "int[]", "List[int]")]
      if typing_extensions is not None else []))
def test_annotation_objects(ann, text, spelled):
    t = annotation_type(ann)
    assert str(t) == text
    assert t.annotation() == spelled


def test_ir_types_pass_through():
    assert annotation_type(T.ListType(T.INT)) == T.ListType(T.INT)


def test_union_of_one_type_is_that_type():
    assert annotation_type(Union[int]) == T.INT
    assert annotation_type(Union[None, None]) == T.NONE


def test_namedtuple_class():
    t = annotation_type(Point)
    assert isinstance(t, T.NamedTupleType)
    assert t.name == "__torch__.test_script_types.Point" and t.annotation() == "Point"
    assert str(t) == "NamedTuple(x : int, y : float, t : Tensor)"     # (as TorchScript)
    assert t.fields == ("x", "y", "t")
    assert t.elems == (T.INT, T.FLOAT, T.TENSOR)
    assert t.py_class is Point
    assert annotation_type(Point) is t                       # one type per class
    assert T.class_type("__torch__.test_script_types.Point") is t              # parsed graph text finds it
    assert annotation_type(List[Point]) == T.ListType(t)


def test_namedtuple_string_fields_and_untyped_fields():
    d = annotation_type(Deferred)
    assert d.elems == (T.ListType(T.STR), T.OptionalType(T.FLOAT))
    u = annotation_type(Untyped)
    assert u.elems == (T.TENSOR, T.TENSOR) and u.fields == ("a", "b")


def test_two_local_namedtuples_with_one_name_get_different_types():
    def make(kind):
        class Pair(NamedTuple):
            a: kind
        return Pair
    p_int, p_str = namedtuple_type(make(int)), namedtuple_type(make(str))
    assert p_int != p_str
    assert p_int.elems == (T.INT,) and p_str.elems == (T.STR,)
    assert str(p_int) != str(p_str)


# ------------------------------------------------------------------ annotation text

@pytest.mark.parametrize("text, expected", [
    ("Tensor", "Tensor"),
    ("torch.Tensor", "Tensor"),
    ("gpujit.Tensor", "Tensor"),
    ("int", "int"),
    ("None", "NoneType"),
    ("List[int]", "int[]"),
    ("list[Tuple[int, float]]", "(int, float)[]"),
    ("Tuple[()]", "()"),
    ("tuple[()]", "()"),
    ("Tuple[Tensor, Tensor]", "(Tensor, Tensor)"),
    ("Dict[str, List[Tensor]]", "Dict(str, Tensor[])"),
    ("Optional[torch.Tensor]", "Tensor?"),
    ("int | None", "int?"),
    ("Union[int, float, None]", "Union(float, int, NoneType)"),
    ("Final[int]", "int"),
    ("typing.List[int]", "int[]"),
    ("typing_extensions.Final[str]", "str"),
    ("torch.device", "Device"),
    ("Device", "Device"),                 # the spellings `.code` prints read back
    ("number", "Scalar"),
    ("NoneType", "NoneType"),
    ("List['int']", "int[]"),             # a quoted forward reference inside
])
def test_annotation_text(text, expected):
    assert str(annotation_type(text)) == expected


def test_annotation_text_uses_the_given_globals():
    assert annotation_type("Point", {"Point": Point}) == annotation_type(Point)
    assert annotation_type("Pair", {"Pair": Tuple[int, int]}) == T.TupleType((T.INT, T.INT))
    assert annotation_type("MyInt", {"MyInt": int}) == T.INT


def test_annotation_text_is_never_evaluated(tmp_path):
    marker = tmp_path / "ran"
    code = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    with pytest.raises(FrontendError):
        annotation_type(code)
    with pytest.raises(FrontendError):
        annotation_type(f"List[{code}]")
    assert not marker.exists()


def test_annotation_expr_from_ast():
    import ast
    node = ast.parse("Dict[str, Optional[int]]", mode="eval").body
    assert str(annotation_expr_type(node, {})) == "Dict(str, int?)"


# ------------------------------------------------------------------ annotation errors

@pytest.mark.parametrize("ann, words", [
    (List, ["'List' needs its element types", "List[int]"]),
    (list, ["'list' needs its element types"]),
    (Dict, ["'Dict' needs its element types"]),
    (Optional, ["'Optional' needs"]),
    (Set, ["'Set' needs its element types"]),
    (Set[List[int]], ["a Set holds ints, floats, bools or strs, not List[int]"]),
    ("Set[int, str]", ["Set takes one element type, got 2"]),
    (Tuple[int, ...], ["variable-length tuples", "Tuple[int, int]"]),
    ("Tuple[int, ...]", ["variable-length tuples"]),
    (Dict[List[int], int], ["Cannot create dict for key type 'int[]'", "string keys"]),
    (typing.Callable[[int], int], ["'Callable[...]' is not a type annotation"]),
    ("Callable[[int], int]", ["'Callable[...]' is not a type annotation"]),
    ("Foo", ["unknown type 'Foo'"]),
    ("List[Foo]", ["unknown type 'Foo'"]),
    ("torch.Tensr", ["'torch.Tensr' does not exist"]),
    ("List[int", ["not valid Python"]),
    ("3", ["3 is not a type annotation"]),
    ("f(x)", ["'f(x)' is not a type annotation"]),
    ("int[str]", ["'int' is a type and takes no [...]"]),
    (3, ["3 is not a type annotation"]),
    (collections.OrderedDict, ["class 'OrderedDict' is not a type"]),
])
def test_annotation_errors_name_the_problem(ann, words):
    with pytest.raises(FrontendError) as e:
        annotation_type(ann)
    for w in words:
        assert w in str(e.value)


def test_annotation_error_shows_the_users_line():
    from gpujit.ir import SourceRange
    sr = SourceRange("model.py", 3, 10, "    def f(x: Set[Tensor]):")
    with pytest.raises(FrontendError) as e:
        annotation_type(Set[torch.Tensor], source_range=sr)
    msg = str(e.value)
    assert 'File "model.py", line 3' in msg
    assert "def f(x: Set[Tensor]):" in msg and "<--- HERE" in msg


# ------------------------------------------------------------------ signatures

def seed_foo(x, tup):
    # type: (int, Tuple[Tensor, Tensor]) -> Tensor
    t0, t1 = tup
    return t0 + t1 + x


def seed_foo_py3(x: int, tup: Tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    t0, t1 = tup
    return t0 + t1 + x


def seed_len(len):
    # type: (int) -> torch.Tensor
    rv = torch.zeros(3, 4)
    return rv


class SeedM(torch.nn.Module):
    def forward(self, x, y, z):
        # type: (Optional[int], Optional[int], Optional[int]) -> int
        return 1


def test_seed_type_comment():
    params, ret = signature_types(seed_foo)
    assert params == [("x", T.INT), ("tup", T.TupleType((T.TENSOR, T.TENSOR)))]
    assert ret == T.TENSOR


def test_seed_python3_annotations_give_the_same_types():
    assert signature_types(seed_foo_py3) == signature_types(seed_foo)


def test_type_comment_with_module_attribute_names():
    assert signature_types(seed_len) == ([("len", T.INT)], T.TENSOR)


def test_type_comment_of_a_method_leaves_out_self():
    cls = T.ClassType("__torch__.SeedM")
    params, ret = signature_types(SeedM.forward, self_type=cls)
    opt = T.OptionalType(T.INT)
    assert params == [("self", cls), ("x", opt), ("y", opt), ("z", opt)]
    assert ret == T.INT


def test_type_comment_with_ellipsis_keeps_default_types():
    def f(a, b):
        # type: (...) -> int
        return 1
    assert signature_types(f) == ([("a", T.TENSOR), ("b", T.TENSOR)], T.INT)


def test_unannotated_parameters_are_tensors_and_return_unknown():
    def f(a, b):
        return a + b
    assert signature_types(f) == ([("a", T.TENSOR), ("b", T.TENSOR)], None)


def test_return_none_annotation_is_nonetype():
    def f(a: List[int]) -> None:
        pass
    assert signature_types(f) == ([("a", T.ListType(T.INT))], T.NONE)


def test_unannotated_defaults_give_their_types():
    def f(x, n=2, scale=0.5, flag=True, mode="sum", y=None, dims=(0, 1)):
        return x
    assert signature_types(f)[0] == [
        ("x", T.TENSOR), ("n", T.INT), ("scale", T.FLOAT), ("flag", T.BOOL),
        ("mode", T.STR), ("y", T.OptionalType(T.TENSOR)),
        ("dims", T.TupleType((T.INT, T.INT)))]


def test_string_annotations_resolve_in_globals_and_closure():
    Pair = Tuple[int, int]

    def f(p: "Pair", q: "Optional[Point]") -> "List[Tensor]":  # noqa: F821
        r: Pair = p            # the body uses Pair, so the closure holds it
        return [r, q]
    params, ret = signature_types(f)
    assert params == [("p", T.TupleType((T.INT, T.INT))),
                      ("q", T.OptionalType(annotation_type(Point)))]
    assert ret == T.ListType(T.TENSOR)


def test_signature_types_of_a_function_without_source():
    ns = {}
    exec("def g(a: int, b):\n    # type: ignore\n    return a\n", ns)
    assert signature_types(ns["g"]) == ([("a", T.INT), ("b", T.TENSOR)], None)


def test_type_comment_count_mismatch_points_at_the_comment():
    def two(a, b):
        # type: (int) -> int
        return a
    with pytest.raises(FrontendError) as e:
        signature_types(two)
    msg = str(e.value)
    assert "gives 1 parameter type but two has 2 parameters" in msg
    assert "# type: (int) -> int" in msg and "<--- HERE" in msg
    assert "test_script_types.py" in msg


def test_type_comment_and_annotations_together_the_comment_wins():
    # torch 2.13 reads the type line in place of the annotations
    # (tests/test_script_lang_s38.py)
    def both(a: float, b):
        # type: (int, int) -> int
        return a
    params, ret = signature_types(both)
    assert [(n, str(t)) for n, t in params] == [("a", "int"), ("b", "int")] and str(ret) == "int"


def test_malformed_type_comment():
    def bad(a):
        # type: int -> int
        return a
    with pytest.raises(FrontendError, match="not of the form"):
        signature_types(bad)


def test_bad_annotation_in_signature_points_at_it():
    def f(x, s: Set[List[int]]):
        return x
    with pytest.raises(FrontendError) as e:
        signature_types(f)
    msg = str(e.value)
    assert "a Set holds ints, floats, bools or strs" in msg
    lines = msg.splitlines()
    here = next(i for i, ln in enumerate(lines) if "<--- HERE" in ln)
    assert "def f(x, s: Set[List[int]]):" in lines[here - 1]
    # the marker starts under the annotation
    assert lines[here].index("~") == lines[here - 1].index("Set[List[int]]")


def test_varargs_are_an_error_naming_the_parameter():
    def f(x, *rest):
        return x
    with pytest.raises(FrontendError) as e:
        signature_types(f)
    assert "*rest" in str(e.value) and "<--- HERE" in str(e.value)


# ------------------------------------------------------------------ example inputs

def takes_many(a, b, c, d, e, f, g, h):
    return a


def test_types_from_examples():
    x = torch.ones(2)
    params, ret = types_from_examples(takes_many, [
        (x, 3, 2.5, True, "s", [1, 2], (x, [x, x]), {"k": x}),
        (torch.zeros(5, 5), 4, 1.0, False, "t", [], (x, []), {}),
    ])
    assert params == [
        ("a", T.TENSOR), ("b", T.INT), ("c", T.FLOAT), ("d", T.BOOL), ("e", T.STR),
        ("f", T.ListType(T.INT)), ("g", T.TupleType((T.TENSOR, T.ListType(T.TENSOR)))),
        ("h", T.DictType(T.STR, T.TENSOR))]
    assert ret is None


def test_examples_with_none_give_optional():
    def f(x, y):
        return x
    params, _ = types_from_examples(f, [(torch.ones(1), None), (torch.ones(1), 3)])
    assert params[1] == ("y", T.OptionalType(T.INT))


def test_examples_namedtuple_and_device():
    def f(p, d):
        return p
    p = Point(1, 2.0, torch.ones(1))
    params, _ = types_from_examples(f, [(p, gpujit.device("cpu"))])
    assert params == [("p", annotation_type(Point)), ("d", T.DEVICE)]


def test_seed_example_inputs_list():
    def forward(a):
        return a
    params, _ = types_from_examples(forward, [([10, 20, ], ), ])
    assert params == [("a", T.ListType(T.INT))]


def test_annotations_win_over_examples_and_missing_examples_keep_defaults():
    def f(a: float, b, n=2):
        return b
    params, _ = types_from_examples(f, [(1, [1.5])])
    assert params == [("a", T.FLOAT), ("b", T.ListType(T.FLOAT)), ("n", T.INT)]


def test_conflicting_examples_name_the_parameter():
    def f(x, count):
        return x
    with pytest.raises(FrontendError) as e:
        types_from_examples(f, [(torch.ones(1), 3), (torch.ones(1), 2.5)])
    msg = str(e.value)
    assert "parameter 'count' of f" in msg and "int and float" in msg
    assert "def f(x, count):" in msg and "<--- HERE" in msg


def test_mixed_list_example_names_the_parameter():
    def f(xs):
        return xs
    with pytest.raises(FrontendError, match="parameter 'xs' of f gets a list mixing int "
                                            "and str"):
        types_from_examples(f, [([1, "a"],)])


def test_only_empty_containers_is_an_error_with_a_hint():
    def f(xs):
        return xs
    with pytest.raises(FrontendError) as e:
        types_from_examples(f, [([],), ([],)])
    assert "'xs'" in str(e.value) and "xs: List[int]" in str(e.value)


def test_unsupported_example_value():
    def f(s):
        return s
    with pytest.raises(FrontendError, match="parameter 's' of f gets a set"):
        types_from_examples(f, [({1, 2},)])


def test_example_inputs_shape_errors():
    def f(a):
        return a
    with pytest.raises(FrontendError, match="has 2 arguments but f takes 1"):
        types_from_examples(f, [(1, 2)])
    with pytest.raises(FrontendError, match="list of argument tuples"):
        types_from_examples(f, torch.ones(1))


# ------------------------------------------------------------------ values vs types

@pytest.mark.parametrize("value, ann, ok", [
    ([1, 2], List[int], True),
    ([1, "a"], List[int], False),
    ([], List[int], True),
    ([True], List[int], False),
    ((1, "a"), Tuple[int, str], True),
    ((1,), Tuple[int, str], False),
    ({"a": torch.ones(1)}, Dict[str, torch.Tensor], True),
    ({"a": 1}, Dict[str, torch.Tensor], False),
    (None, Optional[int], True),
    (3, Optional[int], True),
    (3.0, Optional[int], False),
    ("s", Union[int, str], True),
    (Point(1, 2.0, torch.ones(1)), Point, True),
    ((1, 2.0, torch.ones(1)), Point, False),
    (gpujit.device("cpu"), gpujit.device, True),
])
def test_value_matches_type(value, ann, ok):
    assert value_matches_type(value, annotation_type(ann)) is ok
