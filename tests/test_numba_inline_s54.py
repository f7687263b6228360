"""numba's IR inlining (inline="always") under gpujit's patch of its block copies
(ops/numba_helpers._shared_memo_inline_copy, session 54): the callee's copied blocks share
one scope, as the callee's own blocks do, and the inlined code computes what the Python
functions compute."""
import math

import numba
import numpy as np
import pytest

from gpujit.ops import numba_helpers


def _branchy(x, k):
    # several blocks and variables: each block of the copy referred to the whole scope
    s = 0.0
    if x > 1.0:
        s = math.sqrt(x) * k
    elif x < -1.0:
        s = -x + k
    else:
        for i in range(k):
            s += x * i
    t = s * 0.5
    return t if t == t else -1.0


_branchy_inline = numba.njit(_branchy, inline="always")


def _caller(xs, k):
    out = np.empty_like(xs)
    for j in range(xs.shape[0]):
        out[j] = _branchy_inline(xs[j], k) + _branchy_inline(-xs[j], k + 1)
    return out


def test_inlined_blocks_share_one_scope_and_compute_the_same(monkeypatch):
    if not numba_helpers.fast_intrinsic_typing():
        pytest.skip("another numba's internals: gpujit leaves numba as it is")
    from numba.core import inline_closurecall as icc
    assert hasattr(icc.InlineWorker.inline_ir, "__wrapped__")
    scopes = []
    numbas = icc._get_all_scopes

    def recording(blocks):
        scopes.append(len({id(b.scope) for b in blocks.values()}))
        return numbas(blocks)
    monkeypatch.setattr(icc, "_get_all_scopes", recording)
    f = numba.njit(_caller)             # (numba's own: not cached, so compiled here)
    xs = np.array([-3.0, -1.0, -0.5, 0.0, 0.25, 1.0, 2.0, 9.0, np.nan])
    got = f(xs, 3)
    want = np.array([_branchy(x, 3) + _branchy(-x, 4) for x in xs])
    np.testing.assert_array_equal(got, want)
    assert scopes == [1, 1], scopes     # two call sites, each copy with one scope


def test_deepcopy_outside_inlining_is_numbas():
    numba_helpers.fast_intrinsic_typing()
    import copy
    from numba.core import inline_closurecall as icc
    from numba.core import ir
    loc = ir.Loc("f.py", 1)
    scope = ir.Scope(None, loc)
    a, b = ir.Block(scope, loc), ir.Block(scope, loc)
    # (no inline_ir running: a memo of its own per call, as copy.deepcopy)
    assert icc.copy.deepcopy(a).scope is not icc.copy.deepcopy(b).scope
    assert icc.copy.copy is copy.copy


def test_target_config_values_are_numbas():
    # (ops/numba_helpers._fast_config_values: the dict from the defaults and the set values)
    if not numba_helpers.fast_intrinsic_typing():
        pytest.skip("another numba's internals: gpujit leaves numba as it is")
    from numba.core import targetconfig as tc
    from numba.core.compiler import Flags
    numbas = tc.TargetConfig.values.__wrapped__

    class Config(tc.TargetConfig):
        a = tc.Option(type=bool, default=False, doc="a")
        b = tc.Option(type=int, default=3, doc="b")

    class Custom(Config):
        pass
    Custom.b = property(lambda self: 7)         # (not the metaclass's getter: numba's loop)

    f = Flags()
    f.nrt, f.error_model = True, "numpy"
    c = Config()
    c.b = 5
    foreign = Config()
    foreign._values.update(f._values)           # (another config's options copied in)
    for obj in (Flags(), f, Flags(f), c, Config(), Custom(), foreign):
        assert list(obj.values().items()) == list(numbas(obj).items())
    assert Custom().values() == {"a": False, "b": 7}
    assert f == Flags(f) and hash(f) == hash(Flags(f)) and f != Flags()
