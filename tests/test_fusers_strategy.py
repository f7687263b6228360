"""set_fusion_strategy / get_fusion_strategy and FusionBudget (a compiled function's copy
of the strategy, counted per fusion group)."""
import numpy as np
import pytest

from gpujit import fusers
from gpujit.fusers import FusionBudget


@pytest.fixture(autouse=True)
def _restore_strategy():
    saved = fusers.get_fusion_strategy()
    yield
    fusers.set_fusion_strategy(saved)


def test_default_strategy_is_torchscripts():
    assert fusers.get_fusion_strategy() == [("STATIC", 2), ("DYNAMIC", 10)]


def test_set_returns_the_previous_strategy():
    prev = fusers.set_fusion_strategy([("DYNAMIC", 3)])
    assert prev == [("STATIC", 2), ("DYNAMIC", 10)]
    assert fusers.set_fusion_strategy([]) == [("DYNAMIC", 3)]
    assert fusers.get_fusion_strategy() == []
    assert fusers.set_fusion_strategy((["STATIC", np.int64(1)],)) == []
    assert fusers.get_fusion_strategy() == [("STATIC", 1)]
    assert type(fusers.get_fusion_strategy()[0][1]) is int


@pytest.mark.parametrize("bad, words", [
    ([("static", 2)], "exactly \"STATIC\" or \"DYNAMIC\""),
    ([("FOO", 1)], "unknown specialization kind 'FOO'"),
    ([("STATIC", -1)], "must be >= 0"),
    ([("STATIC", 1.5)], "must be an int"),
    ([("STATIC", True)], "must be an int"),
    ([("STATIC",)], "pair"),
    ([("STATIC", 1, 2)], "pair"),
    (["STATIC"], "pair"),
    ("STATIC", "list of"),
    (None, "list of"),
    ([(2, "STATIC")], "unknown specialization kind 2"),
])
def test_bad_strategies_raise_value_error_and_change_nothing(bad, words):
    before = fusers.get_fusion_strategy()
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        fusers.set_fusion_strategy(bad)
    assert fusers.get_fusion_strategy() == before


@pytest.mark.parametrize("bad", [
    [("STATIC", -1)], [("STATIC", 1.5)], [("STATIC",)], [("STATIC", 1, 2)], ["STATIC"],
    "STATIC", None, 5, [("DYNAMIC", None)], [(2, "STATIC")]])
def test_shape_and_depth_errors_are_also_type_errors_as_in_torch(bad):
    # torch.jit.set_fusion_strategy raises TypeError for these (ValueError for a bad name)
    with pytest.raises(TypeError):
        fusers.set_fusion_strategy(bad)
    with pytest.raises(ValueError):
        fusers.set_fusion_strategy(bad)


def test_budget_walks_the_strategy_per_group():
    b = FusionBudget([("STATIC", 2), ("DYNAMIC", 1), ("STATIC", 1)], name="f")
    g1, g2 = object(), object()
    assert [b.take(g1) for _ in range(5)] == ["STATIC", "STATIC", "DYNAMIC", "STATIC", None]
    assert b.take(g2) == "STATIC"                      # each group has its own count
    assert b.made(g1) == 4 and b.made(g1, "STATIC") == 3 and b.made(g1, "DYNAMIC") == 1
    assert b.remaining(g1) == {"STATIC": 0, "DYNAMIC": 0}
    assert b.remaining(g2) == {"STATIC": 2, "DYNAMIC": 1}
    assert b.total == 4


def test_budget_copies_the_strategy_in_force_when_made():
    fusers.set_fusion_strategy([("DYNAMIC", 1)])
    b = FusionBudget()
    fusers.set_fusion_strategy([("STATIC", 5)])
    assert b.strategy == (("DYNAMIC", 1),)
    g = object()
    assert b.take(g) == "DYNAMIC" and b.take(g) is None
    assert FusionBudget().strategy == (("STATIC", 5),)


def test_empty_strategy_never_specializes():
    b = FusionBudget([])
    assert b.take(object()) is None and b.total == 0
    with pytest.raises(ValueError):
        FusionBudget([("FAST", 1)])


def _chain_for_zero_depth(x, y):
    return (x * 0.5 + y).tanh() * (x - y).sigmoid()


@pytest.mark.parametrize("strategy", [[("DYNAMIC", 0)], [("STATIC", 0), ("DYNAMIC", 0)]])
def test_strategy_of_zero_depths_turns_fusion_off(strategy):
    """`set_fusion_strategy([("DYNAMIC", 0)])` (what users write to turn fusion off;
    TorchScript's executor then runs without fusion) fuses nothing, as an empty list does:
    no groups whose every call misses its (spent) budget, no 'made all the
    specializations' warning, and strict_fusion says fusion is off."""
    import warnings
    import gpujit
    from gpujit.runtime.fusion import fusion_enabled
    fusers.set_fusion_strategy(strategy)
    assert not fusion_enabled()
    f = gpujit.jit.script(_chain_for_zero_depth)
    x, y = gpujit.rand(8), gpujit.rand(8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            out = f(x, y)
    np.testing.assert_allclose(out.numpy(), np.tanh(x.numpy() * 0.5 + y.numpy())
                               / (1 + np.exp(-(x.numpy() - y.numpy()))), rtol=1e-6)
    assert "TensorExprGroup" not in str(f.graph_for(x, y))
    with pytest.raises(gpujit.jit.StrictFusionError, match="allows no specializations"):
        with gpujit.strict_fusion():
            f(x, y)
