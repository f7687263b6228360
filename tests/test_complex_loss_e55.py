"""F.l1_loss of complex tensors, as torch's composite |input - target| (real) reduced:
it raised 'mean(): could not infer output dtype ... Got: ComplexFloat' with gradients and
'"l1_loss" not implemented for 'ComplexFloat'' without. Values from torch 2.13."""
import numpy as np
import pytest

import gpujit

A = np.array([1 + 2j, 3 - 1j], np.complex64)
B = np.array([0.5j, 1], np.complex64)
GRAD_SUM = [0.5547002 + 0.8320503j, 0.8944272 - 0.4472136j]


@pytest.mark.parametrize("red,value", [("mean", 2.0194218), ("sum", 4.0388436),
                                       ("none", [1.8027756, 2.236068])])
@pytest.mark.parametrize("grad", [False, True])
def test_l1_loss_complex(red, value, grad):
    a = gpujit.tensor(A).requires_grad_(grad)
    out = gpujit.nn.functional.l1_loss(a, gpujit.tensor(B), reduction=red)
    assert out.dtype == gpujit.float32
    np.testing.assert_allclose(out.detach().numpy(), value, rtol=1e-6)
    if grad:
        out.sum().backward()
        scale = 0.5 if red == "mean" else 1.0
        np.testing.assert_allclose(a.grad.numpy(), np.array(GRAD_SUM) * scale, rtol=1e-6)


def test_l1_loss_complex_scripted_over_calls():
    @gpujit.jit.script
    def f(a, b):
        return gpujit.nn.functional.l1_loss(a, b)
    for _ in range(3):
        a = gpujit.tensor(A).requires_grad_()
        out = f(a, gpujit.tensor(B))
        out.backward()
        np.testing.assert_allclose(out.item(), 2.0194218, rtol=1e-6)
        np.testing.assert_allclose(a.grad.numpy(), np.array(GRAD_SUM) * 0.5, rtol=1e-6)
    # a real target promotes to complex: |a - t|
    np.testing.assert_allclose(
        gpujit.nn.functional.l1_loss(gpujit.tensor(A), gpujit.tensor([1.0, 2.0]),
                                     reduction="none").numpy(), [2.0, np.sqrt(2)], rtol=1e-6)
