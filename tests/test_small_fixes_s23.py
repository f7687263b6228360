"""Small fixes of session 23.

torch.Tensor(...) is the legacy constructor of the default dtype's CPU tensor type, as in
PyTorch (it raised TypeError: old user code writes `torch.Tensor([1, 2])`,
`torch.Tensor(3, 4).uniform_()` and `class MyTensor(torch.Tensor)`). Deliberate
difference: ops on a Tensor subclass return plain Tensors (no __torch_function__)."""
import copy
import pickle

import numpy as np
import pytest

import gpujit as torch


def test_data_sizes_empty_and_size_objects():
    t = torch.Tensor([1, 2, 3])
    assert t.dtype is torch.float32 and t.tolist() == [1.0, 2.0, 3.0]
    assert torch.Tensor(2, 3).shape == (2, 3) and torch.Tensor(2, 3).dtype is torch.float32
    assert torch.Tensor().shape == (0,)
    assert torch.Tensor(torch.Size([4, 1])).shape == (4, 1)
    assert torch.Tensor(3).shape == (3,)
    np.testing.assert_array_equal(torch.Tensor(np.arange(3)).numpy(), [0, 1, 2])
    assert torch.Tensor(np.arange(3)).dtype is torch.float32


def test_a_tensor_of_that_type_is_itself_and_others_are_refused():
    x = torch.ones(2)
    assert torch.Tensor(x) is x
    with pytest.raises(TypeError, match="Double"):
        torch.Tensor(torch.ones(2, dtype=torch.float64))
    with pytest.raises(TypeError, match="data must be a sequence"):
        torch.Tensor(2.5)
    with pytest.raises(TypeError, match="invalid data type 'str'"):
        torch.Tensor("a")
    with pytest.raises(RuntimeError, match="expects device type: cpu"):
        torch.Tensor([1.0], device="cuda")


def test_follows_the_default_dtype():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert torch.Tensor([1]).dtype is torch.float64
        assert torch.Tensor(2).dtype is torch.float64
    finally:
        torch.set_default_dtype(old)


def test_uninitialized_then_filled_in_place():
    w = torch.Tensor(3, 4).uniform_(-1, 1)
    a = w.numpy()
    assert a.shape == (3, 4) and (np.abs(a) <= 1).all()
    assert isinstance(torch.Tensor(2), torch.FloatTensor)


def test_subclass_constructs_over_data():
    class MyTensor(torch.Tensor):
        pass

    m = MyTensor([1.0, 2.0])
    assert type(m) is MyTensor and isinstance(m, torch.Tensor)
    np.testing.assert_array_equal((m * 2).numpy(), [2.0, 4.0])
    assert MyTensor(2, 2).shape == (2, 2)


def test_copies_and_pickles_still_work():
    x = torch.arange(4.0)
    for y in (copy.copy(x), copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert type(y) is torch.Tensor
        np.testing.assert_array_equal(y.numpy(), x.numpy())


def test_a_trace_keeps_a_modules_plain_tensor_attribute_without_a_warning():
    # PyTorch's trace holds `self.scale` (not a buffer) as a constant silently; gpujit
    # warned at every trace. A global tensor still warns (gpujit's own, deliberate).
    import warnings

    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.tensor([3.0])

        def forward(self, x):
            return x * self.scale

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = torch.jit.trace(Scaled(), torch.ones(2))
    assert not [x for x in w if issubclass(x.category, torch.jit.TracerWarning)]
    np.testing.assert_array_equal(t(torch.ones(2)).numpy(), [3.0, 3.0])


class _TwoMethods(torch.nn.Module):
    def forward(self, x):
        return x + 1

    def other(self, x):
        return x * 2


def test_trace_module_of_another_method_has_no_forward():
    tm = torch.jit.trace_module(_TwoMethods(), {"other": torch.ones(2)})
    assert not hasattr(tm, "forward")           # as PyTorch's
    np.testing.assert_array_equal(tm.other(torch.ones(2)).numpy(), [2.0, 2.0])
    with pytest.raises(AttributeError, match="no attribute 'forward'"):
        tm(torch.ones(2))


def test_trace_module_check_inputs_must_name_every_traced_method():
    with pytest.raises(RuntimeError, match="Method 'other' is not defined."):
        torch.jit.trace_module(_TwoMethods(), {"forward": torch.ones(2),
                                               "other": torch.ones(2)},
                               check_inputs=[{"forward": torch.ones(3)}])


def test_scripted_percent_assign_writes_the_tensor_in_place_as_eager():
    # TorchScript writes `z %= y` in place too, but as fmod_ (C's sign, a TorchScript
    # quirk); gpujit's is eager's remainder_ (Python's sign). It was out of place: the
    # caller's tensor stayed unwritten.
    def f(x, y):
        z = x
        z %= y
        return z

    s = torch.jit.script(f)
    for _ in range(3):
        x = torch.tensor([-3.0, 5.0, 7.5])
        x_eager = x.clone()
        out = s(x, torch.tensor([2.0, -3.0, 2.0]))
        f(x_eager, torch.tensor([2.0, -3.0, 2.0]))
        np.testing.assert_array_equal(x.numpy(), [1.0, -1.0, 1.5])
        np.testing.assert_array_equal(x.numpy(), x_eager.numpy())
        np.testing.assert_array_equal(out.numpy(), x.numpy())


@pytest.mark.parametrize("size", [2.5, (2.0,), 3.0])
def test_interpolate_refuses_a_float_size(size):
    with pytest.raises(TypeError, match="expected size to be one of int"):
        torch.nn.functional.interpolate(torch.ones(1, 1, 4), size=size)


def test_interpolate_in_script_still_takes_int_sizes():
    def f(x, n: int):
        return torch.nn.functional.interpolate(x, size=n)

    s = torch.jit.script(f)
    assert s(torch.ones(1, 1, 4), 8).shape == (1, 1, 8)


def test_dynamic_graph_for_shows_run_time_sizes_in_the_group():
    # TorchScript's DYNAMIC group subgraph reads `Float(*, *)`; gpujit showed the profiled
    # sizes inside the group (and on its output) though the kernel reads them at run time
    from gpujit.ir import SUBGRAPH_ATTR

    def f(x, y):
        return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)

    old = torch.jit.set_fusion_strategy([("DYNAMIC", 5)])
    try:
        s = torch.jit.script(f)
        for n in (4, 6):
            x, y = torch.rand(n, 3), torch.rand(n, 3)
            s(x, y)
            s(x, y)
        g = s.graph_for(x, y)
        (group,) = [n for n in g.walk() if n.kind.startswith("prim::TensorExprGroup")]
        sub = group.attrs[SUBGRAPH_ATTR]
        assert all(str(v.type).startswith("Float(*, *") for v in sub.inputs)
        assert all(str(v.type).startswith("Float(*, *")
                   for n in sub.nodes if n.kind != "prim::Constant" for v in n.outputs)
        assert str(group.output.type).startswith("Float(*, *")
        assert "Float(*, *, strides=[*, 1]" in str(g)
        # the runtime's own subgraph keeps its types: the next graph_for is the same
        assert str(s.graph_for(x, y)) == str(g)
        np.testing.assert_allclose(s(x, y).numpy(), f(x, y).numpy(), rtol=1e-6)
    finally:
        torch.jit.set_fusion_strategy(old)
