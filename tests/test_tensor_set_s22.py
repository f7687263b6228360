"""Tensor.set_ and torch.utils.swap_tensors, as PyTorch 2.13's (values and messages
checked against torch). Deliberate differences: set_ onto more of a storage than it holds
raises (PyTorch grows a resizable storage; gpujit's arrays cannot grow); set_ on a tensor
with a recorded graph raises (PyTorch leaves a grad_fn that fails in backward);
swap_tensors does not refuse tensors that weak references point to (gpujit's autograd
holds some itself)."""
import numpy as np
import pytest

import gpujit as torch


def test_set_to_a_tensor_views_its_memory():
    x = torch.ones(3)
    y = torch.arange(6.).view(2, 3)
    assert x.set_(y) is x
    assert x.shape == (2, 3) and x.stride() == (3, 1) and x.data_ptr() == y.data_ptr()
    assert (x._version, y._version) == (1, 0)
    x.add_(1)
    np.testing.assert_array_equal(y.numpy(), np.arange(1., 7.).reshape(2, 3))
    x = torch.ones(3)
    x.set_(torch.zeros(4)[::2])
    assert x.stride() == (2,) and x.shape == (2,)


def test_set_without_source_empties():
    z = torch.ones(3)
    z.set_()
    assert z.shape == (0,) and z._version == 1 and z.dtype == torch.float32


def test_set_to_a_storage():
    y = torch.arange(6.).view(2, 3)
    w = torch.empty(0)
    w.set_(y.untyped_storage(), 1, (2, 2), (1, 2))
    np.testing.assert_array_equal(w.numpy(), [[1., 3.], [2., 4.]])
    assert w.stride() == (1, 2)
    w = torch.empty(0)
    w.set_(y.untyped_storage())
    np.testing.assert_array_equal(w.numpy(), np.arange(6.))
    w = torch.empty(0)
    w.set_(y[1].untyped_storage(), 0, (6,))      # the whole allocation, not the view
    np.testing.assert_array_equal(w.numpy(), np.arange(6.))
    w.fill_(7)
    assert float(y.sum()) == 42.0
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 24"):
        torch.empty(0).set_(y.untyped_storage(), 2, (5,))


def test_set_errors():
    with pytest.raises(RuntimeError, match="Could not set tensor of type double to a tensor "
                                           "of type float"):
        torch.ones(3).set_(torch.ones(2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        torch.ones(3, requires_grad=True).set_(torch.ones(3))
    with pytest.raises(TypeError, match="set_"):
        torch.ones(3).set_([1, 2])
    with torch.no_grad():
        leaf = torch.ones(3, requires_grad=True)
        leaf.set_(torch.zeros(3))
    assert leaf.requires_grad and leaf.sum().item() == 0.0


def test_swap_tensors():
    a, b = torch.ones(2), torch.zeros(3, dtype=torch.int64)
    torch.utils.swap_tensors(a, b)
    assert a.tolist() == [0, 0, 0] and a.dtype == torch.int64 and b.tolist() == [1., 1.]
    p, q = torch.nn.Parameter(torch.ones(2)), torch.zeros(2)
    torch.utils.swap_tensors(p, q)
    assert type(p) is torch.Tensor and type(q) is torch.nn.Parameter and q.requires_grad
    assert not p.requires_grad


def test_swap_tensors_keeps_the_graph():
    w = torch.ones(3, requires_grad=True)
    u, v = w * 2, torch.zeros(3)
    torch.utils.swap_tensors(u, v)
    assert u.grad_fn is None and v.grad_fn is not None
    grads = []
    v.register_hook(grads.append)       # the node's output is the object now called v
    (v * 3).sum().backward()
    assert w.grad.tolist() == [6., 6., 6.] and grads[0].tolist() == [3., 3., 3.]


def test_set_matches_torch():
    real = pytest.importorskip("torch")
    for mod in (real, torch):
        y = mod.arange(12.).view(3, 4)
        w = mod.empty(0)
        w.set_(y.untyped_storage(), 2, (2, 3), (4, 1))
        assert w.tolist() == [[2., 3., 4.], [6., 7., 8.]]


@pytest.fixture
def future_flags():
    yield torch.__future__
    torch.__future__.set_overwrite_module_params_on_conversion(False)
    torch.__future__.set_swap_module_params_on_conversion(False)


@pytest.mark.parametrize("mode, same_object, old_dtype, load_version", [
    ("none", True, torch.float64, 2), ("overwrite", False, torch.float32, 1),
    ("swap", True, torch.float64, 1)])
def test_future_module_conversion_switches(future_flags, mode, same_object, old_dtype,
                                           load_version):
    """torch.__future__'s switches as PyTorch's: .data set (default), new Parameters
    (overwrite: an optimizer's old one keeps its dtype) or swap_tensors (swap)."""
    assert not future_flags.get_overwrite_module_params_on_conversion()
    assert not future_flags.get_swap_module_params_on_conversion()
    future_flags.set_overwrite_module_params_on_conversion(mode == "overwrite")
    future_flags.set_swap_module_params_on_conversion(mode == "swap")
    m = torch.nn.Linear(2, 3)
    w = m.weight
    m.weight.grad = torch.ones(3, 2)
    m.double()
    assert (m.weight is w) == same_object and w.dtype == old_dtype
    assert type(m.weight) is torch.nn.Parameter and m.weight.requires_grad
    assert m.weight.dtype == torch.float64 and m.weight.grad.dtype == torch.float64
    sd = {k: v.clone() + 1 for k, v in m.state_dict().items()}
    w = m.weight
    m.load_state_dict(sd)
    assert m.weight is w and m.weight.requires_grad
    np.testing.assert_array_equal(m.weight.detach().numpy(), sd["weight"].numpy())
    assert m.weight._version == load_version


def test_float_of_a_tensor_requiring_grad_warns_once():
    """PyTorch 2.13 warns (once per process) for float() of a tensor that requires grad;
    item() and int() do not warn."""
    import sys
    import warnings
    tmod = sys.modules["gpujit.tensor"]      # (gpujit.tensor is also torch.tensor)
    saved = list(tmod._FLOAT_WARNED)
    tmod._FLOAT_WARNED.clear()
    try:
        t = torch.ones(1, requires_grad=True)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            assert t.item() == 1.0 and int(t) == 1
            assert float(t) == 1.0 and float(t) == 1.0
            assert float(torch.ones(1)) == 1.0
        msgs = [str(w.message) for w in rec]
        assert len(msgs) == 1 and msgs[0].startswith("Converting a tensor with "
                                                     "requires_grad=True to a scalar")
        assert rec[0].filename == __file__
    finally:
        tmod._FLOAT_WARNED[:] = saved or tmod._FLOAT_WARNED


def test_set_to_a_tensor_with_an_offset_counts_from_its_first_element():
    y = torch.arange(6.)
    w = torch.empty(0)
    w.set_(y[2:], 1, (2,))         # (as PyTorch's: the source's offset plus 1)
    assert w.tolist() == [3., 4.]
    w.set_(y, 1, (2,))
    assert w.tolist() == [1., 2.]
