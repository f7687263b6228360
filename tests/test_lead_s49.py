"""Session 49, lead: small PyTorch names and fixes found while merging."""
import numpy as np

import gpujit as torch


def test_fork_wait_and_parse_ir_at_the_top_level():
    # torch exports torch._C's fork / wait / parse_ir at the top level (torch.fork is torch.jit.fork)
    fut = torch.fork(lambda x: x + 1, torch.ones(2))
    assert isinstance(fut, torch.Future)
    np.testing.assert_array_equal(torch.wait(fut).numpy(), [2.0, 2.0])
    g = torch.parse_ir("graph(%a : Tensor):\n  %b : Tensor = aten::relu(%a)\n  return (%b)\n")
    assert "aten::relu" in str(g)
    assert torch.parse_ir is torch._C.parse_ir


def test_mps_and_xpu_namespaces_are_torch_without_those_devices():
    # values and words of torch 2.13's CPU build on Linux
    import pytest
    assert torch.mps.is_available() is False and torch.mps.device_count() == 0
    assert torch.mps.manual_seed(0) is None
    with pytest.raises(RuntimeError, match=r"Cannot execute deviceSynchronize\(\) without MPS backend"):
        torch.mps.synchronize()
    with pytest.raises(RuntimeError, match="getDefaultGenerator"):
        torch.mps.get_rng_state()
    assert torch.xpu.is_available() is False and torch.xpu.device_count() == 0
    assert torch.xpu.manual_seed_all(0) is None and torch.xpu.seed() is None
    assert torch.xpu.memory_allocated() == 0 and dict(torch.xpu.memory_stats()) == {}
    assert torch.xpu.get_arch_list() == [] and torch.xpu.is_bf16_supported() is False
    for call in (torch.xpu.synchronize, torch.xpu.current_device, torch.xpu.get_device_name):
        with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
            call()
    device = "mps" if torch.mps.is_available() else "xpu" if torch.xpu.is_available() else "cpu"
    assert torch.ones(2, device=device).device == torch.device("cpu")


def test_collate_is_torch_2x_dispatch_on_collate_fn_map():
    # torch.utils.data._utils.collate: collate(batch, collate_fn_map=...), the default map's
    # types, and extending a copy of it with a user type (PyTorch's documented recipe)
    import collections
    import copy as _copy
    from gpujit.utils.data._utils.collate import (collate, default_collate_fn_map,
                                                   default_convert, collate_tensor_fn)
    from gpujit.utils.data import default_collate

    class Point:
        def __init__(self, x):
            self.x = x

    def collate_point(batch, *, collate_fn_map=None):
        return torch.tensor([p.x for p in batch])

    fmap = _copy.copy(default_collate_fn_map)
    fmap[Point] = collate_point
    out = collate([{"p": Point(1), "t": torch.ones(2)}, {"p": Point(2), "t": torch.zeros(2)}],
                  collate_fn_map=fmap)
    np.testing.assert_array_equal(out["p"].numpy(), [1, 2])
    assert out["t"].shape == (2, 2)
    import pytest
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([Point(1), Point(2)])
    # the default map's rules
    assert default_collate([1.5, 2.0]).dtype == torch.float64
    assert default_collate([True, False]).dtype == torch.bool
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([np.float32(1), np.float32(2)]).dtype == torch.float32
    nt = collections.namedtuple("nt", "a b")
    r = default_collate([nt(1, 2.0), nt(3, 4.0)])
    assert type(r) is nt and r.a.tolist() == [1, 3]
    assert collate_tensor_fn([torch.ones(3), torch.ones(3)]).shape == (2, 3)
    assert isinstance(default_convert(np.ones(2)), torch.Tensor)
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])
    from gpujit.utils.data._utils.worker import get_worker_info
    assert get_worker_info() is None


def test_pytorch_module_paths_users_import_from():
    import warnings
    from gpujit.nn.modules.normalization import RMSNorm, LocalResponseNorm  # noqa: F401
    from gpujit.nn.modules.loss import HuberLoss, NLLLoss2d  # noqa: F401
    from gpujit.nn.modules.conv import LazyConv2d  # noqa: F401
    from gpujit.nn.modules.linear import LazyLinear  # noqa: F401
    from gpujit.nn.modules.activation import Softmax2d  # noqa: F401
    from gpujit.jit._script import RecursiveScriptModule
    from gpujit.jit._trace import TracedModule
    from gpujit._jit_internal import Optional, List, is_scripting  # noqa: F401
    assert RMSNorm is torch.nn.RMSNorm and HuberLoss is torch.nn.HuberLoss
    assert isinstance(torch.jit.script(torch.nn.Linear(2, 2)), RecursiveScriptModule)
    assert isinstance(torch.jit.trace(torch.nn.Linear(2, 2), torch.ones(1, 2)), TracedModule)
    assert is_scripting() is False
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        c = torch.nn.Container(a=torch.nn.Linear(2, 2))
    assert w[0].category is FutureWarning and "nn.Container` is deprecated" in str(w[0].message)
    assert list(dict(c.named_children())) == ["a"]


def test_consume_prefix_in_state_dict_if_present():
    from gpujit.nn.modules.utils import consume_prefix_in_state_dict_if_present
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    wrapped = torch.nn.Module()
    wrapped.module = model           # as DataParallel / DistributedDataParallel name it
    sd = wrapped.state_dict()
    assert list(sd) == ["module.0.weight", "module.0.bias"]
    consume_prefix_in_state_dict_if_present(sd, "module.")
    assert list(sd) == ["0.weight", "0.bias"]
    assert sorted(sd._metadata) == ["", "0"]
    model.load_state_dict(sd)


def test_more_pytorch_module_paths():
    from gpujit.optim.adamw import AdamW
    from gpujit.optim.nadam import NAdam
    from gpujit.optim.radam import RAdam
    from gpujit.optim.adadelta import Adadelta
    from gpujit.optim.rprop import Rprop
    from gpujit.optim.optimizer import ParamsT  # noqa: F401
    from gpujit.autograd.variable import Variable
    from gpujit._tensor import Tensor
    from gpujit.jit._serialization import save, load  # noqa: F401
    from gpujit.jit._freeze import freeze
    from gpujit.jit._fuser import fuser, set_fusion_strategy  # noqa: F401
    from gpujit.nn.modules.module import _addindent  # noqa: F401
    assert (AdamW, NAdam, RAdam, Adadelta, Rprop) == (torch.optim.AdamW, torch.optim.NAdam,
                                                      torch.optim.RAdam, torch.optim.Adadelta,
                                                      torch.optim.Rprop)
    assert Variable is torch.autograd.Variable and Tensor is torch.Tensor
    assert freeze is torch.jit.freeze


class _Pt(__import__("typing").NamedTuple):
    x: float
    y: float


class _HoldsPt(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.p = _Pt(1.0, 2.0)

    def forward(self, t):
        return t * self.p.x


class _DeclaresPt(_HoldsPt):
    p: _Pt


def test_undeclared_namedtuple_attribute_hints_the_class_annotation():
    # TorchScript (2.13) types an undeclared NamedTuple attribute as a plain Tuple; gpujit
    # refuses `self.p.x` as torch does, with a hint to declare it
    import pytest
    with pytest.raises(Exception, match="has no attribute or method 'x'") as info:
        torch.jit.script(_HoldsPt())
    assert "declare it in the class body" in str(info.value)
    m = torch.jit.script(_DeclaresPt())
    assert m(torch.ones(1)).tolist() == [1.0]
