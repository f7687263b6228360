"""Scripted `list(a_tuple)`, comprehensions over a tuple, and zip()/enumerate() of tuples:
TorchScript accepts them when the tuple's elements share one type (results checked against
torch 2.13 when written); a tuple that mixes types gets an error naming the construct."""
from typing import List, Optional, Tuple, Union

import pytest

import gpujit as torch
from gpujit import Tensor
from gpujit.frontend.script import FrontendError


def ints(t: Tuple[int, int, int]):
    a = list(t)
    a.append(10)                            # a new list: the tuple is unchanged
    return a, [x * 2 for x in t], [x for x in t if x > 1], [x + y for x, y in zip(t, t)]


def tensors(t: Tuple[Tensor, Tensor]) -> Tensor:
    xs: List[Tensor] = list(t)
    xs.append(t[0] * 3.0)
    return torch.cat([x + 1.0 for x in xs] + [v * float(i) for i, v in enumerate(t)])


def nested(t: Tuple[Tuple[int, int], Tuple[int, int]]):
    return [list(p) for p in t], list(()), {v: v * 2 for v in t[0]}, list((1, 2, 3))


def test_list_and_comprehensions_of_tuples():
    s = torch.jit.script(ints)
    assert s((1, 2, 3)) == ([1, 2, 3, 10], [2, 4, 6], [2, 3], [2, 4, 6]) == ints((1, 2, 3))
    st = torch.jit.script(tensors)
    x, y = torch.tensor([1.0, 2.0]), torch.tensor([5.0])
    for _ in range(3):                      # profiled, then generated code
        assert st((x, y)).tolist() == [2.0, 3.0, 6.0, 4.0, 7.0, 0.0, 0.0, 5.0]
    assert tensors((x, y)).tolist() == st((x, y)).tolist()
    sn = torch.jit.script(nested)
    assert sn(((1, 2), (3, 4))) == ([[1, 2], [3, 4]], [], {1: 2, 2: 4}, [1, 2, 3])


def mixed_list(t: Tuple[int, float]):
    return list(t)


def mixed_comp(t: Tuple[int, str]):
    return [x for x in t]


@pytest.mark.parametrize("fn,what,line", [
    (mixed_list, "list() of a tuple needs elements of one type; a Tuple[int, float] mixes "
                 "an int and a float", "return list(t)"),
    # (s47: the comprehension is unrolled over the tuple, as TorchScript's; the list it
    # makes is what holds one type, torch 2.13: "... unified to Union[int, str]")
    (mixed_comp, "a list holds one type; this comprehension makes an int and a str",
     "[x for x in t]"),
])
def test_a_tuple_of_mixed_types_is_a_clear_error(fn, what, line):
    with pytest.raises(FrontendError) as e:
        torch.jit.script(fn)
    assert what in str(e.value) and line in str(e.value)


def loop_over_mixed(t: Tuple[int, float]) -> float:
    s = 0.0
    for v in t:                             # a for statement still unrolls any tuple
        s += v
    return s


def test_for_statement_over_a_mixed_tuple_still_unrolls():
    assert torch.jit.script(loop_over_mixed)((1, 2.5)) == 3.5


def _opt_list(s: Optional[List[int]]) -> int:
    return 0 if s is None else sum(s)


def _list(s: List[int]) -> int:
    return len(s)


def _union(s: Union[int, List[int]]) -> int:
    return 1


def test_a_tuple_passed_for_a_list_parameter_becomes_a_list():
    """TorchScript converts a tuple argument of a List[int] / Optional[List[int]] parameter
    (it does not for a Union: that stays an error)."""
    def f(x: int):
        return _opt_list((1, x)) + _list((x, 2, 3))
    assert torch.jit.script(f)(5) == 9

    def g(x: int):
        return _union((x, 2))
    with pytest.raises(FrontendError, match="Tuple"):
        torch.jit.script(g)


def test_tuple_concatenation():
    """`t + (x,)` makes a new tuple, also of a module's tuple attribute (view(self.k + (-1,)))."""
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.k = (2, 2)

        def forward(self, x):
            t = (1, 2.5) + (x,) + ()
            return x.view(self.k + (-1,)), t

    m = torch.jit.script(M())
    x = torch.rand(16)
    v, t = m(x)
    assert v.shape == (2, 2, 4) and t[:2] == (1, 2.5) and t[2] is x


def test_pair_single_of_module_attributes():
    """_pair(self.k) / _single(self.s) of non-constant values are lists, as TorchScript's
    aten::_pair (they raised 'can only be called with constant arguments')."""
    from gpujit.nn.modules.utils import _pair, _single
    import gpujit.nn.functional as F

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.k = 2
            self.s = (1,)

        def forward(self, x):
            return F.avg_pool2d(x, _pair(self.k), _pair(1)), _single(self.s)

    y, s = torch.jit.script(M())(torch.rand(1, 1, 4, 4))
    assert y.shape == (1, 1, 3, 3) and s == [1]
