"""A scripted or traced function given a tuple, dict or list argument whose part does not
convert says what TorchScript (torch 2.13) says (session 55, b55): pybind11's casters
recurse into a tuple's elements, a dict's keys and values and the elements of a list of
anything but Tensors / ints / floats / bools, so the `Cast error details:` line names the
element ("Unable to cast 1.0 to Tensor") or counts ("Object (...) had a different number
of elements than type Tuple[Tensor, Tensor]"); a value that is not iterable given for a
tuple gets the Python error. gpujit named the whole tuple with pybind11's generic words.
Expected strings are torch 2.13's."""
from typing import Dict, List, Optional, Tuple

import pytest

import gpujit as torch


@torch.jit.script
def _pair(xs: Tuple[torch.Tensor, torch.Tensor]):
    return xs[0] + xs[1]


@torch.jit.script
def _nested(xs: Tuple[int, Tuple[float, torch.Tensor]]):
    return xs[1][1] * xs[0]


@torch.jit.script
def _opt_ints(xs: Optional[Tuple[int, int]]):
    return 1 if xs is None else xs[0]


@torch.jit.script
def _dict(xs: Dict[str, torch.Tensor]):
    return xs["a"]


@torch.jit.script
def _list_of_pairs(xs: List[Tuple[int, int]]):
    return xs[0][0]


@torch.jit.script
def _ints(xs: List[int]):
    return xs[0]


def _details(fn, value):
    with pytest.raises(RuntimeError) as info:
        fn(value)
    msg = str(info.value)
    assert msg.count("\nDeclaration: ") == 1
    return msg.split("\nDeclaration: ", 1)[1].split("\n", 1)[1]


_GENERIC = ("Unable to cast Python instance of type <class '{}'> to C++ type '?' (#define "
            "PYBIND11_DETAILED_ERROR_MESSAGES or compile in debug mode for details)")


@pytest.mark.parametrize("fn, make, details", [
    (_pair, lambda: (torch.ones(1), 1.0), "Cast error details: Unable to cast 1.0 to Tensor"),
    (_pair, lambda: [torch.ones(1), 2], "Cast error details: Unable to cast 2 to Tensor"),
    (_pair, lambda: (torch.ones(1),),
     "Cast error details: Object (tensor([1.]),) had a different number of elements than "
     "type Tuple[Tensor, Tensor]"),
    (_nested, lambda: (1, (2.0, 3.0)), "Cast error details: Unable to cast 3.0 to Tensor"),
    (_nested, lambda: (1, (2.0,)),
     "Cast error details: Object (2.0,) had a different number of elements than type "
     "Tuple[float, Tensor]"),
    (_nested, lambda: ("a", (2.0, torch.ones(1))), "Cast error details: " + _GENERIC.format("str")),
    (_opt_ints, lambda: (1, 2, 3),
     "Cast error details: Object (1, 2, 3) had a different number of elements than type "
     "Tuple[int, int]"),
    (_opt_ints, lambda: 1.0, " Python error details: TypeError: 'float' object is not iterable"),
    (_opt_ints, lambda: {1: 2},
     "Cast error details: Object {1: 2} had a different number of elements than type "
     "Tuple[int, int]"),
    (_dict, lambda: {"a": 1.0}, "Cast error details: Unable to cast 1.0 to Tensor"),
    (_dict, lambda: {1: torch.ones(1)}, "Cast error details: " + _GENERIC.format("int")),
    (_list_of_pairs, lambda: [(1, "a")], "Cast error details: " + _GENERIC.format("str")),
    (_list_of_pairs, lambda: [(1, 2, 3)],
     "Cast error details: Object (1, 2, 3) had a different number of elements than type "
     "Tuple[int, int]"),
    (_list_of_pairs, lambda: [None],
     " Python error details: TypeError: 'NoneType' object is not iterable"),
    # a list of ints is cast whole: the list is named
    (_ints, lambda: [1, "a"], "Cast error details: " + _GENERIC.format("list")),
])
def test_cast_error_details_name_the_part(fn, make, details):
    assert _details(fn, make()) == details


def test_traced_tuple_argument_counts_its_elements():
    def f(xs):
        return (xs[0] * xs[1]).relu()

    x = torch.ones(2, 2)
    t = torch.jit.trace(f, ((x, x),))
    assert _details(t, (x, x, x)).endswith("had a different number of elements than type "
                                           "Tuple[Tensor, Tensor]")
    torch.testing.assert_close(t((x, x)), x)


@pytest.mark.parametrize("value, why", [
    ([(1, "a")], _GENERIC.format("str")),
    ([(1, 2, 3)], "Object (1, 2, 3) had a different number of elements than type "
                  "Tuple[int, int]"),
    ((1, 2), "TypeError: 'int' object is not iterable"),
])
def test_module_attribute_cast_names_the_element(value, why):
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.pairs = [(1, 2)]

        def forward(self, x):
            return x + self.pairs[0][0]

    m = torch.jit.script(M())
    with pytest.raises(RuntimeError) as info:
        m.pairs = value
    assert str(info.value) == ("Could not cast attribute 'pairs' to type "
                               "List[Tuple[int, int]]: " + why)
