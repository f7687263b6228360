"""Scripted code reads a complex tensor's .imag as TorchScript does (aten::imag): it was
'Tensor' object has no attribute or method 'imag' while .real compiled. Gradients through
it match eager's (values fixed from torch 2.13)."""
import numpy as np
import pytest

import gpujit

X = np.array([[1 + 2j, -0.5 + 1j]], np.complex64)
W = np.array([0.5 - 1j, 1 + 1j], np.complex64)


def test_imag_compiles_to_aten_imag():
    @gpujit.jit.script
    def g(o):
        return o.imag, o.real
    assert "aten::imag(%o" in str(g.graph)
    im, re = g(gpujit.tensor(np.array([1 + 2j, 3 - 4j], np.complex64)))
    np.testing.assert_array_equal(im.numpy(), [2, -4])
    np.testing.assert_array_equal(re.numpy(), [1, 3])
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with "
                                           "non-complex dtypes"):
        g(gpujit.tensor([1.0, 2.0]))


def test_imag_gradient_over_calls():
    @gpujit.jit.script
    def f(x, w):
        o = gpujit.tanh(x * w)
        return o.real.sum() + o.imag.sum() * 2
    for _ in range(3):          # the profiling runs, then the optimized graph
        w = gpujit.tensor(W).requires_grad_()
        loss = f(gpujit.tensor(X), w)
        loss.backward()
        np.testing.assert_allclose(loss.item(), 0.2008901983499527, rtol=1e-6)
        np.testing.assert_allclose(w.grad.numpy(), [0.1330 + 0.0j, -0.1280 - 0.4536j],
                                   atol=1e-4)
