"""gpujit.jit.fork / wait / Future in Python: the call runs at once, wait() returns its
value or raises its error, as torch.jit.fork does outside scripted code."""
import typing

import numpy as np
import pytest

import gpujit as torch


def test_fork_and_wait_return_the_value():
    x = torch.rand(3)
    futs = [torch.jit.fork(torch.mul, x, k) for k in range(3)]
    assert all(f.done() for f in futs)
    outs = [torch.jit.wait(f) for f in futs]
    for k, o in enumerate(outs):
        np.testing.assert_allclose(o.numpy(), x.numpy() * k)
    assert futs[1].then(lambda f: f.wait() + 1).wait().shape == (3,)


def test_errors_surface_at_wait_and_bad_arguments_are_refused():
    def boom(x):
        raise ValueError("bad input")
    # (torch 2.13's eager fork runs the function at once: its error comes from fork;
    # scripted code keeps it for wait, tests/test_jit_async_port.py)
    with pytest.raises(ValueError, match="bad input"):
        torch.jit.fork(boom, 1)
    with pytest.raises(TypeError, match="expects a callable"):
        torch.jit.fork(3)
    with pytest.raises(TypeError, match="expects a gpujit.jit.Future"):
        torch.jit.wait(3)
    assert typing.get_origin(torch.jit.Future[torch.Tensor]) is torch.jit.Future


def _member(x, k: int):
    return torch.tanh(x * k)


def ensemble(x, n: int):
    futs: typing.List[torch.jit.Future[torch.Tensor]] = []
    for k in range(n):
        futs.append(torch.jit.fork(_member, x, k))
    out = torch.zeros_like(x)
    for f in futs:
        out = out + torch.jit.wait(f)
    return out


def test_scripted_fork_and_wait_run_the_calls():
    s = torch.jit.script(ensemble)
    x = torch.rand(4)
    np.testing.assert_allclose(s(x, 3).numpy(), ensemble(x, 3).numpy(), rtol=1e-6)
    assert "prim::CallFunction" in str(s.graph)
