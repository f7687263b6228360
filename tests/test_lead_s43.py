"""Lead's fixes of session 43, compared with torch 2.13 when it is installed."""
import pytest

import gpujit


def _where_program(torch):
    calls = []

    class L(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(func)
            return super().__torch_function__(func, types, args, kwargs or {})

    x = torch.tensor([[-1.0, 2.0], [3.0, -4.0]]).as_subclass(L)
    pos, neg = x > 0, x < 0
    del calls[:]
    r = torch.where(pos, x, 0.0)
    r2 = torch.where(neg, 5.0, x)
    r3 = x.where(pos, torch.zeros(2))
    funcs = [f is torch.where or f is torch.Tensor.where for f in calls]
    return [type(r).__name__, r.tolist(), r2.tolist(), r3.tolist(), all(funcs), len(calls)]


def test_where_on_a_subclass_with_torch_function():
    # torch.where(cond, sub, 0.0): the override got Tensor.where's parameters
    # (self, condition, y) for where's function (condition, self, other) and failed
    got = _where_program(gpujit)
    assert got[:4] == ["L", [[0.0, 2.0], [3.0, 0.0]], [[5.0, 2.0], [3.0, 5.0]],
                       [[0.0, 2.0], [3.0, 0.0]]]
    assert got[4]


def test_where_on_a_subclass_matches_torch():
    torch = pytest.importorskip("torch")
    want = _where_program(torch)
    got = _where_program(gpujit)
    assert got[:5] == want[:5]
