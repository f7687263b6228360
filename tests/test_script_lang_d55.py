"""Session 55 (d55): TorchScript language variants a user writes next, under
`import gpujit as torch`.

- a comprehension's `if` narrows like an if statement's test: `[x for x in xs if x is
  not None]` of a List[Optional[int]] is a List[int] (gpujit's comprehension ifs go
  beyond TorchScript, which refuses them; the filter used to leave x Optional, so the
  element and the later ifs could not use it).

Expected values are what Python gives for the same code."""

from typing import Dict, List, Optional, Tuple, Union

import numpy as np

import gpujit as torch


def test_comprehension_if_narrows_optional():
    @torch.jit.script
    def f(xs: List[Optional[int]]) -> List[int]:
        return [x * 2 for x in xs if x is not None if x > 1]

    @torch.jit.script
    def g(xs: List[Optional[int]]) -> List[int]:
        return [x for x in xs if x is not None]

    assert f([1, None, 2, 5]) == [4, 10]
    assert g([1, None, 2]) == [1, 2]


def test_comprehension_if_narrows_dict_and_union_and_tuple_targets():
    @torch.jit.script
    def d(m: Dict[str, Optional[torch.Tensor]]) -> Dict[str, torch.Tensor]:
        return {k: v + 1 for k, v in m.items() if v is not None}

    @torch.jit.script
    def u(xs: List[Union[int, str]]) -> List[str]:
        return [x + "!" for x in xs if isinstance(x, str)]

    @torch.jit.script
    def t(xs: List[Tuple[str, Optional[int]]]) -> List[int]:
        return [v for k, v in xs if v is not None and k != "b"]

    out = d({"a": torch.ones(2), "b": None})
    assert list(out) == ["a"]
    np.testing.assert_allclose(out["a"].numpy(), [2.0, 2.0])
    assert u([1, "a", 2, "b"]) == ["a!", "b!"]
    assert t([("a", 1), ("b", 2), ("c", None)]) == [1]
