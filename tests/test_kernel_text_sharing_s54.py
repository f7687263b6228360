"""One CPU kernel text, so one compile, for the sizes and strategies it serves alike
(session 54): a one-element input of a one-element iteration space (0-dim, (1,), (1, 1))
is read flat at i (= 0), a DYNAMIC CPU kernel takes only the sizes its body reads (a flat
one: none), and a flat CPU kernel without sizes is headed "STATIC or DYNAMIC". A STATIC
(1,) group, a STATIC (4, 4) one and a DYNAMIC one of any rank are then one compile (the
fuser ports compiled each anew: ~2 of 3 of a unary op's kernels), with eager's values.
Texts are compared without compiling; one kernel is compiled."""
import numpy as np
import pytest

import gpujit as torch
from gpujit import kernels as K

from test_kernels import assert_same, reference, traced

_R = np.random.default_rng(54)
SHAPES = [(), (1,), (1, 1), (2,), (4, 4), (3, 1, 5)]


def _unary(x):
    return torch.sigmoid(x) * 2.5 - x


def _text(fn, args, static):
    g = traced(fn, *args)
    return K.generate(K.spec_for(g, args, static=static), "cpu")


def _arr(shape):
    return np.asarray(_R.standard_normal(shape), np.float32)


def test_one_text_for_every_size_rank_and_strategy():
    texts = {}
    for shape in SHAPES:
        for static in (True, False):
            ks = _text(_unary, (_arr(shape),), static)
            texts[shape, static] = ks.text
            assert ks.layout.flat and all(p.kind == "flat" for p in ks.layout.inputs)
            assert "def kernel(start, stop, a0, o0):" in ks.text
    assert len(set(texts.values())) == 1
    assert "target cpu, STATIC or DYNAMIC, flat indexing" in texts[(), True]


def test_sizes_the_body_reads_stay_parameters():
    x = _arr((5, 4)).T                          # (4, 5), strided: the index needs s1
    dyn = _text(_unary, (x,), static=False)
    assert "target cpu, DYNAMIC, strided indexing" in dyn.text
    assert "s1" in dyn.params and "q = r // s1" in dyn.text
    static = _text(_unary, (x,), static=True)
    assert "target cpu, STATIC, strided indexing" in static.text and "s1" not in static.params
    # a one-element input of a larger space stays one element, read once
    b = _text(lambda x, y: x + y, (_arr((1,)), _arr((3,))), static=True)
    assert [p.kind for p in b.layout.inputs] == ["one", "flat"]
    assert "_ld_float32(a0, 0)" in b.text


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_the_shared_kernel_compiles_once_and_gives_eagers_values(dtype):
    def fn(x):
        return x * 3 - (x > 1).to(x.dtype)
    arrays = [np.asarray(_R.integers(-4, 5, shape), dtype) for shape in SHAPES + [(7, 3)]]
    before = K.cache_info()
    kernels = []
    for k, a in enumerate(arrays):
        g = traced(fn, a)
        kern = K.build(K.spec_for(g, (a,), static=k % 2 == 0), "cpu")
        kernels.append(kern)
        for o, r in zip(kern(a), reference(g, (a,))):
            assert o.shape == a.shape
            assert_same(o, r)
    after = K.cache_info()
    # (the first may be loaded from an earlier process's disk entry; no other compiles)
    assert after.compiles - before.compiles <= 1
    assert len({id(k.compiled) for k in kernels}) == 1


def test_an_op_whose_value_depends_on_one_element_keeps_its_own_text():
    # torch's CPU float16 trunc division by a one-element divisor divides in float32
    # (tests/test_fusion_finds_s38): read flat, the divisor still counts as one element
    def fn(x, y):
        return torch.div(x, y, rounding_mode="trunc")
    one = _text(fn, (np.ones(1, np.float16), np.ones(1, np.float16)), static=True)
    two = _text(fn, (np.ones(2, np.float16), np.ones(2, np.float16)), static=True)
    assert [p.kind for p in one.layout.inputs] == ["flat", "flat"]
    assert one.text != two.text
    plain = [_text(lambda x, y: x * y, (np.ones(n, np.float16),) * 2, static=True).text
             for n in (1, 2)]
    assert plain[0] == plain[1]
