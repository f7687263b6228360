"""PyTorch's TorchScript tests (test/jit/*.py, run by test/test_jit.py) not ported before,
ported as behaviour (session 26, helper C26): test_attr.py (getattr with a default),
test_aten_pow.py (int/float ** with a zero base and negative exponent), test_decorator.py
(a decorator removed by __prepare_scriptable__, names of other modules), test_copy.py
(deepcopy of a ScriptModule keeps its parameters leaves).

Not ported: test_global.py (CapturedGlobalValuesRegistry, not in torch 2.13's jit);
test_slice.py and test_string_formatting.py are in test_jit_lang_port.py already. Each compares
with Python (eager gpujit) or literal values; errors by type and TorchScript's words.
"""
from __future__ import annotations

from typing import List, NamedTuple, Tuple

import pytest

import gpujit as torch
from gpujit.testing import FileCheck


# ------------------------------------------------------------------ test_attr.py

class _A(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.init_attr_val = 1.0

    def forward(self, x):
        y = getattr(self, "init_attr_val")  # noqa: B009
        w: List[float] = [1.0]
        z = getattr(self, "missing", w)  # noqa: B009
        z.append(y)
        return z


def test_getattr_with_default():
    result = _A().forward(0.0)
    assert len(result) == 2
    m = torch.jit.script(_A())
    graph = m.graph
    FileCheck().check('prim::GetAttr[name="init_attr_val"]').run(graph)
    # the missing attribute: no GetAttr, the default value (a one-float list) instead
    FileCheck().check_not("missing").run(graph)
    FileCheck().check("float[] = prim::ListConstruct").run(graph)
    assert m(torch.zeros(1)) == [1.0, 1.0]


class _MyTuple(NamedTuple):
    x: str
    y: torch.Tensor


def _getattr_named_tuple(x: _MyTuple) -> Tuple[str, torch.Tensor, int]:
    return getattr(x, "x", "fdsa"), getattr(x, "y", torch.ones((3, 3))), getattr(x, "z", 7)


def test_getattr_named_tuple():
    inp = _MyTuple(x="test", y=torch.ones(3, 3) * 2)
    ref = _getattr_named_tuple(inp)
    res = torch.jit.script(_getattr_named_tuple)(inp)
    assert res[0] == ref[0] and res[2] == ref[2] == 7
    assert res[1].tolist() == ref[1].tolist()


def _getattr_tuple(x: Tuple[str, int]) -> int:
    return getattr(x, "x", 2)


def test_getattr_tuple():
    fn = torch.jit.script(_getattr_tuple)
    assert fn(("a", 1)) == 2


# ------------------------------------------------------------------ test_aten_pow.py

def _int_int(a: int, b: int):
    return a ** b


def _int_float(a: int, b: float):
    return a ** b


def _float_int(a: float, b: int):
    return a ** b


def _float_float(a: float, b: float):
    return a ** b


_POW_CASES = [
    (_int_int, [(2, 1), (2, 0), (2, -2), (-2, 2), (-2, 0), (-2, -2), (-2, -1), (0, 2), (0, 0)],
     (0, -2)),
    (_int_float, [(2, 2.5), (2, -2.5), (2, -0.0), (2, 0.0), (-2, 2.0), (-2, -2.0), (-2, -3.0),
                  (-2, -0.0), (-2, 0.0), (0, 2.0), (0, 0.5), (0, 0.0), (0, -0.0)], (0, -2.5)),
    (_float_int, [(2.5, 2), (2.5, -2), (2.5, 0), (-2.5, 2), (-2.5, -2), (-2.5, -3), (-2.5, 0),
                  (0.0, 2), (0.0, 0)], (0.0, -2)),
    (_float_float, [(2.5, 2.0), (2.5, -2.0), (2.5, -0.0), (2.5, 0.0), (-2.5, 2.0),
                    (-2.5, -2.0), (-2.5, -3.0), (-2.5, -0.0), (-2.5, 0.0), (0.0, 2.0),
                    (0.0, 0.0), (0.0, -0.0)], (0.0, -2.0)),
]


@pytest.mark.parametrize("fn, cases, zero_neg", _POW_CASES,
                         ids=lambda v: getattr(v, "__name__", ""))
def test_aten_pow_zero_negative_exponent(fn, cases, zero_neg):
    s = torch.jit.script(fn)
    for a, b in cases:
        got, want = s(a, b), fn(a, b)
        # TorchScript's aten::pow.int(int a, int b) -> float: int ** int is a float
        # (2 ** 1 is 2.0), PyTorch's assertEqual(2.0, 2) passes; the value is Python's
        assert got == want and type(got) is float, (fn.__name__, a, b, got, want)
    # a zero base and a negative exponent: RuntimeError (Python's ZeroDivisionError)
    with pytest.raises(RuntimeError, match="0.0 cannot be raised to a negative power"):
        s(*zero_neg)


# ------------------------------------------------------------------ test_decorator.py

def test_decorator():
    from decorator_port_helpers import my_function_a
    fx = torch.jit.script(my_function_a)
    assert my_function_a(1.0) == fx(1.0) == 7.0


# ------------------------------------------------------------------ test_copy.py

class _CopyModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear_relu_stack = torch.nn.Linear(2, 4)

    def forward(self, x):
        return x


def test_copy_parameter():
    import copy
    m = torch.jit.script(_CopyModel())
    copied_m = copy.deepcopy(m)
    pairs = list(zip(m.parameters(), copied_m.parameters()))
    assert len(pairs) == 2
    for p, copied_p in pairs:
        assert p.is_leaf == copied_p.is_leaf
        assert copied_p.requires_grad and copied_p is not p
        assert copied_p.tolist() == p.tolist()
    x = torch.ones(3)
    assert copied_m(x) is x or copied_m(x).tolist() == x.tolist()
