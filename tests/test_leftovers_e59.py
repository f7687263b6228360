"""Session 59 (helper e): leftovers of the bad-input round, compared with torch 2.13."""
import numpy as np
import pytest

import gpujit as torch
import gpujit.nn.functional as F


_FACTORIES = {
    "ones": lambda p: torch.ones(2, pin_memory=p),
    "zeros": lambda p: torch.zeros(2, pin_memory=p),
    "empty": lambda p: torch.empty(2, pin_memory=p),
    "full": lambda p: torch.full((2,), 1.0, pin_memory=p),
    "rand": lambda p: torch.rand(2, pin_memory=p),
    "randn": lambda p: torch.randn(2, pin_memory=p),
    "randint": lambda p: torch.randint(3, (2,), pin_memory=p),
    "randperm": lambda p: torch.randperm(3, pin_memory=p),
    "arange": lambda p: torch.arange(3, pin_memory=p),
    "linspace": lambda p: torch.linspace(0, 1, 3, pin_memory=p),
    "logspace": lambda p: torch.logspace(0, 1, 3, pin_memory=p),
    "eye": lambda p: torch.eye(2, pin_memory=p),
    "empty_strided": lambda p: torch.empty_strided((2,), (1,), pin_memory=p),
    "hann_window": lambda p: torch.hann_window(3, pin_memory=p),
    "rand_like": lambda p: torch.rand_like(torch.ones(2), pin_memory=p),
    "randint_like": lambda p: torch.randint_like(torch.ones(2), 3, pin_memory=p),
    "ones_like": lambda p: torch.ones_like(torch.ones(2), pin_memory=p),
}


@pytest.mark.parametrize("name", sorted(_FACTORIES))
def test_pin_memory_must_be_bool(name):
    make = _FACTORIES[name]
    assert make(False).shape == make(None).shape     # (bool? : None is the default)
    for bad in ("a", 1):
        with pytest.raises(TypeError, match="pin_memory"):
            make(bad)


def test_pin_memory_not_none_where_schema_says_bool():
    # torch.tensor / sparse constructors / nested_tensor take `bool pin_memory`, None refused
    makers = [lambda p: torch.tensor([1.0], pin_memory=p),
              lambda p: torch.sparse_coo_tensor([[0]], [1.0], (2,), pin_memory=p),
              lambda p: torch.sparse_csr_tensor([0, 1], [0], [1.0], (1, 2), pin_memory=p),
              lambda p: torch.nested.nested_tensor([torch.ones(2)], pin_memory=p)]
    for make in makers:
        make(False)
        for bad in ("a", None, 0):
            with pytest.raises(TypeError, match="pin_memory"):
                make(bad)


def test_pin_memory_checked_before_rng_draw():
    torch.manual_seed(0)
    with pytest.raises(TypeError):
        torch.rand(3, pin_memory="a")
    a = torch.rand(3)
    torch.manual_seed(0)
    np.testing.assert_array_equal(a.numpy(), torch.rand(3).numpy())
