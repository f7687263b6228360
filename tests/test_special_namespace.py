"""gpujit.special (torch.special): the same ops under PyTorch's names, its own pointwise ops
(ndtr, entr, xlog1py: fusible), multigammaln; eager values against math references,
scripted calls and fusion."""
import math

import numpy as np
import pytest

import gpujit
import gpujit as torch

S = gpujit.special


def test_the_aliases_are_the_same_functions():
    assert S.expit is gpujit.sigmoid and S.gammaln is gpujit.lgamma
    assert S.psi is S.digamma is gpujit.digamma and S.polygamma is gpujit.polygamma
    for name in ("erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "logit", "logsumexp",
                 "round", "sinc", "xlogy", "softmax", "log_softmax"):
        assert getattr(S, name) is getattr(gpujit, name), name
    assert set(S.__all__) <= set(dir(S))


def test_ndtr_entr_xlog1py_values():
    x = np.array([-3.0, -0.5, 0.0, 0.5, 2.0, np.inf, -np.inf, np.nan], np.float32)
    got = S.ndtr(gpujit.from_numpy(x)).numpy()
    want = [0.5 * math.erfc(-v / math.sqrt(2)) if v == v else math.nan for v in x.tolist()]
    np.testing.assert_allclose(got, np.array(want, np.float32), rtol=2e-6, equal_nan=True)
    # torch 2.13's float32 values: (1 + erf(x / sqrt 2)) * 0.5 in float32
    np.testing.assert_array_equal(got, np.array(
        [0.0013498961925506592, 0.3085375428199768, 0.5, 0.6914624571800232,
         0.9772498607635498, 1.0, 0.0, np.nan], np.float32))
    e = S.entr(gpujit.from_numpy(x)).numpy()
    assert e.dtype == np.float32
    np.testing.assert_allclose(e[[3, 4]], [-0.5 * math.log(0.5), -2 * math.log(2)], rtol=1e-6)
    assert e[2] == 0 and e[0] == -np.inf and e[1] == -np.inf and e[6] == -np.inf
    assert e[5] == -np.inf and np.isnan(e[7])
    assert S.entr(gpujit.tensor([0, 1, 2])).dtype == gpujit.float32     # ints promote
    a = gpujit.tensor([0.0, 0.0, 2.0, 1.5])
    b = gpujit.tensor([float("nan"), 3.0, 1.0, -1.0])
    r = S.xlog1py(a, b).numpy()
    assert np.isnan(r[0]) and r[1] == 0 and r[3] == -np.inf
    np.testing.assert_allclose(r[2], 2 * math.log(2), rtol=1e-6)
    np.testing.assert_allclose(S.xlog1py(gpujit.tensor([2.0, 0.0]), 1.0).numpy(),
                               [2 * math.log(2), 0.0], rtol=1e-6)


def test_multigammaln():
    a = np.array([2.0, 3.5, 10.0])
    got = S.multigammaln(gpujit.from_numpy(a), 3).numpy()
    want = [sum(math.lgamma(v - j / 2) for j in range(3)) + 3 * 2 / 4 * math.log(math.pi)
            for v in a]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(RuntimeError, match=r"All elements must be greater than \(p-1\)/2"):
        S.multigammaln(gpujit.tensor([0.9, 3.0]), 3)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        S.multigammaln(gpujit.tensor([2.0]), 0)


def test_gradients():
    x = gpujit.tensor([0.3, 1.2, 2.5], dtype=gpujit.float64, requires_grad=True)
    (S.ndtr(x).sum() + S.entr(x).sum() + S.xlog1py(x, x).sum()).backward()
    v = np.array([0.3, 1.2, 2.5])
    want = (np.exp(-v * v / 2) / math.sqrt(2 * math.pi) - (np.log(v) + 1)
            + np.log1p(v) + v / (1 + v))
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12)


@torch.jit.script
def _special_mix(x, y):
    return torch.special.expit(x) * torch.special.ndtr(y) + \
        torch.special.gammaln(x.abs() + 1) - torch.special.entr(y.abs()) + \
        torch.special.xlog1py(x, y.abs())


def test_scripted_calls_fuse_and_agree_with_eager():
    rng = np.random.default_rng(0)
    x = gpujit.from_numpy(rng.standard_normal(64).astype(np.float32))
    y = gpujit.from_numpy(rng.standard_normal(64).astype(np.float32))
    eager = (S.expit(x) * S.ndtr(y) + S.gammaln(x.abs() + 1) - S.entr(y.abs())
             + S.xlog1py(x, y.abs()))
    for _ in range(3):
        np.testing.assert_allclose(_special_mix(x, y).numpy(), eager.numpy(), rtol=2e-5,
                                   atol=1e-6)
    g = _special_mix.graph_for(x, y)
    text = str(g)
    assert "prim::TensorExprGroup" in text
    for kind in ("aten::sigmoid", "aten::special_ndtr", "aten::lgamma", "aten::special_entr",
                 "aten::special_xlog1py"):
        assert kind in text, kind
    outside = [n.kind for n in g.nodes if n.kind.startswith("aten::")]
    assert outside == [], outside           # everything fused


@torch.jit.script
def _xlog1py_true(x, y):
    return torch.special.xlog1py(x, True) * y


def test_a_python_bool_operand_computes_in_float32_fused():
    x = gpujit.tensor([True, False, True])
    y = gpujit.ones(3)
    for _ in range(3):
        out = _xlog1py_true(x, y).numpy()
        np.testing.assert_allclose(out, [math.log(2), 0, math.log(2)], rtol=1e-7)
    assert "prim::TensorExprGroup" in str(_xlog1py_true.graph_for(x, y))


@torch.jit.script
def _special_more(x, y):
    a = torch.special.round(x) + torch.special.logsumexp(x, 0) + torch.special.softmax(x, 0)
    b = torch.special.multigammaln(y, 2) + torch.special.log_softmax(x, dim=0) + \
        torch.special.psi(y)
    return a + b + torch.special.polygamma(1, y) + torch.special.xlogy(y, 2.0)


def test_every_kind_of_special_name_scripts():
    """Aliases (round, psi), ops with a dim (softmax), Python-level multigammaln (compiled
    from its source) and polygamma (n first) in scripted code, as eager computes them."""
    x = gpujit.tensor([0.4, 1.6, -2.5])
    y = gpujit.tensor([1.5, 2.0, 3.0])
    want = (S.round(x) + S.logsumexp(x, 0) + S.softmax(x, 0) + S.multigammaln(y, 2)
            + S.log_softmax(x, dim=0) + S.psi(y) + S.polygamma(1, y) + S.xlogy(y, 2.0))
    for _ in range(2):
        np.testing.assert_allclose(_special_more(x, y).numpy(), want.numpy(), rtol=1e-6)
    # the values PyTorch 2.x gives for the same expression (computed once by hand)
    np.testing.assert_allclose(want.numpy() + (2.0 ** x).numpy(),
                               [4.4107, 10.2959, 0.6367], atol=2e-4)
