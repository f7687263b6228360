"""Modules PyTorch scripts import (session 21): torch.backends.* as importable submodules
with torch's checked flags, torch.utils.hooks, torch.nn.utils.prune, torch.utils.benchmark,
torch.utils._pytree and Tensor methods scripts call; each against torch where installed.

Deliberate differences (documented):
- cudnn / mkldnn / mkl / openmp / opt_einsum / mps `is_available()` are False: gpujit uses
  none of them (torch's CPU wheel reports mkldnn, mkl and openmp available).
- torch raises "mix of the legacy and new APIs" when `matmul.allow_tf32` and
  `matmul.fp32_precision` are both set; gpujit keeps one consistent state instead.
"""
import importlib
import subprocess
import sys

import numpy as np
import pytest

import gpujit


# ------------------------------------------------------------------ torch.backends

@pytest.mark.parametrize("name", ["cudnn", "cuda", "mps", "opt_einsum", "mkldnn", "mkl",
                                  "openmp", "cpu", "mha", "nnpack", "cusparselt"])
def test_backends_submodules_import(name):
    mod = importlib.import_module(f"gpujit.backends.{name}")
    assert getattr(gpujit.backends, name) is mod


def test_cudnn_flags_checked_and_restored_as_torch():
    import gpujit.backends.cudnn as cudnn
    assert cudnn.is_available() is False and cudnn.version() is None
    assert cudnn.benchmark_limit is None         # torch without cuDNN
    old = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic)
    try:
        cudnn.benchmark = True
        cudnn.deterministic = True
        assert gpujit.backends.cudnn.benchmark is True and cudnn.deterministic is True
        for flag, c_name in (("benchmark", "set_benchmark_cudnn"),
                             ("enabled", "set_enabled_cudnn"),
                             ("deterministic", "set_deterministic_cudnn")):
            with pytest.raises(RuntimeError, match=f"{c_name} expects a bool, but got int"):
                setattr(cudnn, flag, 1)
        # flags() sets every flag for the block, its defaults too (cuDNN off), then restores
        with cudnn.flags(benchmark=False):
            assert cudnn.enabled is False and cudnn.benchmark is False
        assert cudnn.enabled is True and cudnn.benchmark is True
    finally:
        cudnn.enabled, cudnn.benchmark, cudnn.deterministic = old


def test_disable_global_flags_freezes_outside_flags_context():
    code = ("import gpujit as torch\n"
            "torch.backends.disable_global_flags()\n"
            "assert torch.backends.flags_frozen()\n"
            "try:\n    torch.backends.cudnn.benchmark = True\n"
            "except RuntimeError as e:\n    print(e)\n"
            "with torch.backends.cudnn.flags(enabled=True, benchmark=True):\n"
            "    print(torch.backends.cudnn.benchmark)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "not allowed to set gpujit.backends.cudnn flags after disable_global_flags" \
        in out.stdout
    assert out.stdout.strip().endswith("True")


def test_matmul_allow_tf32_is_the_matmul_precision():
    matmul = gpujit.backends.cuda.matmul
    try:
        gpujit.set_float32_matmul_precision("high")
        assert matmul.allow_tf32 is True and matmul.fp32_precision == "tf32"
        gpujit.set_float32_matmul_precision("highest")
        assert matmul.allow_tf32 is False and matmul.fp32_precision == "ieee"
        matmul.allow_tf32 = True
        assert gpujit.get_float32_matmul_precision() == "high"
        with pytest.raises(RuntimeError, match="set_allow_tf32_cublas expects a bool"):
            matmul.allow_tf32 = 1
        with pytest.raises(RuntimeError, match="Unknown precision: xx"):
            matmul.fp32_precision = "xx"
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            matmul.foo
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            matmul.foo = 1
        matmul.allow_fp16_reduced_precision_reduction = (False,)
        assert matmul.allow_fp16_reduced_precision_reduction is False
        assert matmul.allow_fp16_reduced_precision_reduction_split_k is True
        with pytest.raises(TypeError, match="expects a bool or a tuple/list of bools"):
            matmul.allow_bf16_reduced_precision_reduction = 1
    finally:
        matmul.allow_fp16_reduced_precision_reduction = True
        gpujit.set_float32_matmul_precision("highest")


def test_sdp_switches_follow_sdpa_kernel():
    from gpujit.nn.attention import SDPBackend, sdpa_kernel
    cuda = gpujit.backends.cuda
    assert cuda.flash_sdp_enabled() and cuda.math_sdp_enabled()
    cuda.enable_flash_sdp(False)
    try:
        assert cuda.flash_sdp_enabled() is False and cuda.math_sdp_enabled() is True
    finally:
        cuda.enable_flash_sdp(True)
    assert cuda.flash_sdp_enabled()
    with sdpa_kernel(SDPBackend.MATH):
        assert not cuda.flash_sdp_enabled() and cuda.math_sdp_enabled()
    with pytest.warns(FutureWarning, match="sdp_kernel\\(\\)` is deprecated"):
        with cuda.sdp_kernel(enable_flash=False):
            assert not cuda.flash_sdp_enabled() and cuda.mem_efficient_sdp_enabled()
    assert cuda.flash_sdp_enabled()
    with pytest.raises(RuntimeError, match="expects a bool"):
        cuda.enable_math_sdp(1)


def test_opt_einsum_and_mps_as_torch_without_them():
    oe = gpujit.backends.opt_einsum
    assert oe.is_available() is False and oe.enabled is False and oe.strategy is None
    assert oe.get_opt_einsum() is None
    with pytest.raises(ValueError, match="opt_einsum is not available"):
        oe.enabled = True
    assert gpujit.backends.mps.is_available() is False
    assert gpujit.backends.mps.is_built() is False
    assert gpujit.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")
    mha = gpujit.backends.mha
    assert mha.get_fastpath_enabled() is True
    mha.set_fastpath_enabled(False)
    assert mha.get_fastpath_enabled() is False
    mha.set_fastpath_enabled(True)


def test_precision_and_deterministic_errors_as_torch():
    with pytest.warns(UserWarning, match="has no effect"):
        gpujit.set_float32_matmul_precision("bogus")
    assert gpujit.get_float32_matmul_precision() == "highest"
    with pytest.raises(TypeError, match="argument 'mode' \\(position 1\\) must be bool, "
                                        "not int"):
        gpujit.use_deterministic_algorithms(1)


# ------------------------------------------------------------------ torch.utils.hooks

def _fwd_hook(module, inputs, output):
    return None


def test_tensor_hook_handles_remove_their_own_registration():
    from gpujit.utils.hooks import RemovableHandle
    calls = []

    def hook(grad):
        calls.append(1)
    x = gpujit.ones(3, requires_grad=True)
    y = x * 2
    h1, h2 = y.register_hook(hook), y.register_hook(hook)
    assert isinstance(h1, RemovableHandle) and h1.id != h2.id
    h1.remove()
    h1.remove()            # a second remove must not take out the other registration
    assert list(y._backward_hooks) == [h2.id]       # torch's OrderedDict by handle id
    y.sum().backward()
    assert calls == [1]    # torch: 1 (gpujit removed both before)
    assert gpujit.ones(1, requires_grad=True)._backward_hooks is None


def test_every_hook_registration_returns_a_removable_handle():
    import gpujit.utils.hooks as hooks
    calls = []
    x = gpujit.ones(3, requires_grad=True)
    y = x * 2
    node = y.grad_fn
    post = node.register_hook(lambda gi, go: calls.append("post"))
    pre = node.register_prehook(lambda go: calls.append("pre"))
    acc = x.register_post_accumulate_grad_hook(lambda t: calls.append("acc"))
    lin = gpujit.nn.Linear(2, 2)
    fwd = lin.register_forward_hook(_fwd_hook)
    step = gpujit.optim.SGD(lin.parameters(), lr=0.1).register_step_pre_hook(
        lambda *a: None)
    for h in (post, pre, acc, fwd, step):
        assert isinstance(h, hooks.RemovableHandle)
    with post:                      # a context manager that removes on exit
        pass
    with acc:
        y.sum().backward()
    (x * 3).sum().backward()
    assert calls == ["pre", "acc"]
    assert gpujit.nn.module.RemovableHandle is hooks.RemovableHandle


def test_removable_handle_pickles_and_takes_extra_dicts():
    import pickle
    from collections import OrderedDict
    from gpujit.utils.hooks import RemovableHandle, unserializable_hook
    lin = gpujit.nn.Linear(2, 2)
    h = lin.register_forward_hook(_fwd_hook)
    h2 = pickle.loads(pickle.dumps(h))
    assert h2.id == h.id and RemovableHandle.next_id > h.id
    d, e1, e2 = OrderedDict(), OrderedDict(), OrderedDict()
    r = RemovableHandle(d, extra_dict=[e1, e2])
    d[r.id] = e1[r.id] = e2[r.id] = 1
    r.remove()
    assert not d and not e1 and not e2
    with pytest.raises(TypeError, match="weak reference"):
        RemovableHandle({})         # as torch: the hooks dict must be weakly referenceable
    f = unserializable_hook(lambda g: g)
    assert f.__torch_unserializable__ is True


# ------------------------------------------------------------------ torch.nn.utils.prune

def _twin_linear(lib, w, b):
    m = lib.nn.Linear(w.shape[1], w.shape[0])
    with lib.no_grad():
        m.weight.copy_(lib.tensor(w))
        m.bias.copy_(lib.tensor(b))
    return m


def _prune_script(lib):
    """One pruning session, run on gpujit and on torch: what the user reads back."""
    import importlib
    prune = importlib.import_module(lib.__name__ + ".nn.utils.prune")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    x = lib.tensor(rng.standard_normal((2, 4)).astype(np.float32))
    out = {}
    m = _twin_linear(lib, w, b)
    prune.l1_unstructured(m, "weight", amount=0.3)
    out["names"] = (sorted(k for k, _ in m.named_parameters()),
                    sorted(k for k, _ in m.named_buffers()), list(m.state_dict().keys()))
    out["l1"] = m.weight_mask.tolist()
    prune.l1_unstructured(m, "weight", amount=2)         # chained: a PruningContainer
    hook = list(m._forward_pre_hooks.values())[0]
    out["container"] = (type(hook).__name__, len(hook), hook._tensor_name)
    out["l1x2"] = m.weight_mask.tolist()
    prune.ln_structured(m, "weight", amount=1, n=2, dim=0)
    out["ln"] = m.weight_mask.tolist()
    with lib.no_grad():
        m.weight_orig.add_(1.0)             # the pre-hook recomputes weight each forward
    out["forward"] = np.round(m(x).detach().numpy(), 5).tolist()
    prune.remove(m, "weight")
    out["removed"] = (sorted(k for k, _ in m.named_parameters()), list(m.state_dict().keys()),
                      type(m.weight).__name__, prune.is_pruned(m),
                      np.round(m.weight.detach().numpy(), 5).tolist())
    c = lib.nn.Conv2d(3, 4, 3)
    with lib.no_grad():
        c.weight.copy_(lib.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32)))
    prune.ln_structured(c, "weight", amount=0.5, n=1, dim=1)
    prune.ln_structured(c, "weight", amount=1, n=float("inf"), dim=0)
    out["conv"] = c.weight_mask.sum(dim=(2, 3)).tolist()
    prune.l1_unstructured(c, "bias", amount=0.25,
                          importance_scores=lib.tensor([3., 1., 2., 4.]))
    out["bias"] = c.bias_mask.tolist()
    a = _twin_linear(lib, w[:2, :3], b[:2])
    d = _twin_linear(lib, w[1:, 2:], b[1:])
    prune.global_unstructured([(a, "weight"), (d, "weight"), (a, "bias")],
                              pruning_method=prune.L1Unstructured, amount=5)
    prune.global_unstructured([(a, "weight"), (d, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.5)
    out["global"] = (a.weight_mask.tolist(), d.weight_mask.tolist(), a.bias_mask.tolist(),
                     [type(h).__name__ for h in a._forward_pre_hooks.values()])
    cm = _twin_linear(lib, w[:, :2], b)
    prune.identity(cm, "bias")
    prune.custom_from_mask(cm, "weight", mask=lib.tensor([[0, 1], [1, 0], [1, 1]]))
    out["custom"] = (cm.weight_mask.tolist(), cm.bias_mask.tolist(), cm.weight_mask.dtype.is_floating_point)
    out["prune"] = prune.L1Unstructured(amount=2).prune(lib.tensor([3., -1., .5, 2.])).tolist()
    errors = []
    for call in (lambda: prune.l1_unstructured(_twin_linear(lib, w, b), "weight", amount=-1),
                 lambda: prune.l1_unstructured(_twin_linear(lib, w, b), "weight", amount=1.5),
                 lambda: prune.l1_unstructured(_twin_linear(lib, w, b), "weight", amount="a"),
                 lambda: prune.l1_unstructured(_twin_linear(lib, w, b), "weight", amount=13),
                 lambda: prune.ln_structured(_twin_linear(lib, w, b), "weight", 1, 2, dim=2),
                 lambda: prune.remove(_twin_linear(lib, w, b), "weight"),
                 lambda: prune.global_unstructured([(a, "weight")], prune.LnStructured,
                                                   amount=1, n=2, dim=0)):
        try:
            call()
        except Exception as e:         # noqa: BLE001 (the error is the result compared)
            errors.append((type(e).__name__,
                           str(e).replace("torch", "LIB").replace("gpujit", "LIB")))
    mm = _twin_linear(lib, w, b)
    try:
        prune.ln_structured(mm, "bias", amount=1, n=2, dim=0)
    except ValueError as e:
        errors.append(("ValueError", str(e).split(" Found")[0]))
    out["errors"] = errors
    out["restored"] = sorted(k for k, _ in mm.named_parameters())   # put back on failure
    return out


def test_prune_matches_torch():
    torch = pytest.importorskip("torch")
    got, want = _prune_script(gpujit), _prune_script(torch)
    for key in want:
        assert got[key] == want[key], key


def test_prune_state_dict_loads_into_a_pruned_twin_and_random_methods_count():
    from gpujit.nn.utils import prune
    c = gpujit.nn.Conv2d(2, 4, 3)
    prune.ln_structured(c, "weight", amount=2, n=2, dim=0)
    sd = c.state_dict()
    assert sorted(sd) == ["bias", "weight_mask", "weight_orig"]
    c2 = gpujit.nn.Conv2d(2, 4, 3)
    prune.identity(c2, "weight")
    c2.load_state_dict(sd)
    x = gpujit.randn(1, 2, 5, 5)
    np.testing.assert_array_equal(c2(x).detach().numpy(), c(x).detach().numpy())
    r = gpujit.nn.Linear(5, 4)
    prune.random_unstructured(r, "weight", amount=0.4)        # round(0.4 * 20) = 8
    assert int(r.weight_mask.sum().item()) == 12
    prune.random_structured(r, "weight", amount=2, dim=1)     # 2 whole columns more
    cols = r.weight_mask.sum(0).numpy()
    assert (cols == 0).sum() >= 2 and r.weight_mask.sum().item() <= 12
    assert np.all(r.weight.detach().numpy()[:, cols == 0] == 0)
    # the pruned weight is differentiable w.r.t. weight_orig, masked entries get no grad
    r(gpujit.randn(3, 5)).sum().backward()
    g = r.weight_orig.grad.numpy()
    assert np.all(g[r.weight_mask.numpy() == 0] == 0)


# ------------------------------------------------------------------ torch.utils._pytree

def _pytree_script(pt):
    from collections import OrderedDict, defaultdict, deque, namedtuple
    P = namedtuple("P", "a b")
    tree = {"b": [1, (2, None)], "a": P(3, {"z": 4, "y": 5}), "c": OrderedDict(x=6),
            "d": defaultdict(list, {"k": 7}), "e": deque([8, 9], maxlen=3)}
    leaves, spec = pt.tree_flatten(tree)
    out = {"leaves": leaves, "repr": repr(spec).replace("<class '", "").replace("'>", ""),
           "counts": (spec.num_leaves, spec.num_nodes, spec.num_children, spec.is_leaf()),
           "unflatten": repr(pt.tree_unflatten([None if x is None else x * 10
                                                for x in leaves], spec)),
           "small": (pt.tree_leaves([None, 1, [], ()]), repr(pt.tree_structure(1)),
                     repr(pt.tree_structure([])), pt.tree_structure([1, 2]) ==
                     pt.tree_structure([3, 4]), pt.tree_structure([1]) ==
                     pt.tree_structure((1,))),
           "map2": pt.tree_map(lambda a, b: (a, b), [1, 2], [[1, 2], {"x": 3}]),
           "map_only": pt.tree_map_only(int, lambda x: -x, [1, "a", 2.0, True]),
           "all_any": (pt.tree_all(lambda x: x > 0, [1, [2]]),
                       pt.tree_any(lambda x: x > 1, (1,)),
                       pt.tree_all_only(int, lambda x: x > 0, [1, "a"])),
           "is_leaf": pt.tree_leaves([1, [2, [3]]],
                                     is_leaf=lambda x: isinstance(x, list) and len(x) == 1),
           "paths": [(pt.keystr(k), v) for k, v in pt.tree_leaves_with_path(tree)]}
    errors = []
    for a, b in (([1, (2, 3)], [10, [20, 30]]), ({"a": 1}, {"b": 1}), ([1], [1, 2])):
        try:
            pt.tree_map(lambda x, y: x, a, b)
        except ValueError as e:
            errors.append(str(e))
    try:
        pt.tree_unflatten([1, 2], spec)
    except ValueError as e:
        errors.append(str(e).split(" (")[0])
    out["errors"] = errors
    return out


def test_pytree_matches_torch():
    torch_pt = pytest.importorskip("torch.utils._pytree")
    from gpujit.utils import _pytree
    got, want = _pytree_script(_pytree), _pytree_script(torch_pt)
    for key in want:
        assert got[key] == want[key], key


def test_pytree_registered_node_and_tensors_are_leaves():
    import gpujit.utils._pytree as pt

    class Box:
        def __init__(self, v):
            self.v = v
    pt.register_pytree_node(Box, lambda b: ([b.v], None), lambda c, ctx: Box(c[0]))
    try:
        leaves, spec = pt.tree_flatten([Box(1), Box([2, 3])])
        assert leaves == [1, 2, 3]
        assert repr(spec) == ("TreeSpec(list, None, [TreeSpec(Box, None, [*]),\n"
                              "  TreeSpec(Box, None, [TreeSpec(list, None, [*,\n"
                              "      *])])])")
        with pytest.raises(ValueError, match="already registered as pytree node"):
            pt.register_pytree_node(Box, lambda b: ([b.v], None), lambda c, ctx: Box(c[0]))
        with pytest.raises(ValueError, match="Type mismatch; expected"):
            pt.tree_map(lambda a, b: a, Box(1), [1])
    finally:
        del pt.SUPPORTED_NODES[Box]
    x = gpujit.ones(2)
    doubled = pt.tree_map(lambda t: t * 2, {"w": x, "n": (3, x)})
    assert doubled["n"][0] == 6 and doubled["w"].tolist() == [2.0, 2.0]
    assert pt.tree_leaves(x)[0] is x
    with pytest.raises(TypeError, match="Expected `treespec` to be an instance of PyTreeSpec"):
        pt.tree_unflatten([1], [1])


# ------------------------------------------------- torch.nn.modules.module's global hooks

def _global_hooks_script(lib):
    import importlib
    mm = importlib.import_module(lib.__name__ + ".nn.modules.module")
    nn = lib.nn
    log = []
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    handles = [
        mm.register_module_forward_pre_hook(lambda m, a: log.append(("pre", type(m).__name__))),
        mm.register_module_forward_hook(lambda m, a, o: log.append(("fwd", type(m).__name__))),
        seq[0].register_forward_hook(lambda m, a, o: log.append(("own", type(m).__name__))),
        mm.register_module_forward_hook(lambda m, a, k, o: log.append(("kw", sorted(k))),
                                        with_kwargs=True)]
    x = lib.ones(1, 2, requires_grad=True)
    seq(x)
    out = [list(log)]
    log.clear()
    handles += [mm.register_module_full_backward_hook(
                    lambda m, gi, go: log.append(("bw", type(m).__name__, len(gi), len(go)))),
                mm.register_module_full_backward_pre_hook(
                    lambda m, go: log.append(("bwpre", type(m).__name__)))]
    seq(x).sum().backward()
    out.append(list(log))
    log.clear()
    for h in handles:
        h.remove()
    seq(x)
    out.append(list(log))
    try:
        mm.register_module_backward_hook(lambda *a: None)
    except RuntimeError as e:
        out.append(str(e))

    class Bad(nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    b = Bad()
    h1 = mm.register_module_forward_hook(lambda m, a, o: log.append(("always", o)),
                                         always_call=True)
    h2 = b.register_forward_hook(lambda m, a, o: log.append(("always_own", o)),
                                 always_call=True)
    try:
        b(lib.ones(1))
    except ValueError:
        out.append(list(log))
    h1.remove()
    h2.remove()
    h3 = mm.register_module_forward_pre_hook(lambda m, a: (a[0] * 2,))
    out.append(nn.Identity()(lib.ones(1)).tolist())
    h3.remove()
    out.append(mm.Module is nn.Module)
    return out


def test_global_module_hooks_match_torch():
    torch = pytest.importorskip("torch")
    import gpujit.nn._module_hooks as gh
    try:
        got = _global_hooks_script(gpujit)
    finally:
        gh._global_is_full_backward_hook[0] = None
    assert got == _global_hooks_script(torch)
    assert not (gh._global_forward_hooks or gh._global_forward_pre_hooks
                or gh._global_backward_hooks or gh._global_backward_pre_hooks)


def test_global_forward_hook_runs_while_tracing_and_eagerly():
    from gpujit.nn.modules.module import register_module_forward_hook
    seen = []
    lin = gpujit.nn.Linear(2, 2)
    h = register_module_forward_hook(lambda m, a, o: seen.append(type(m).__name__))
    try:
        t = gpujit.jit.trace(lin, gpujit.ones(1, 2))
        n_traced = len(seen)
        t(gpujit.ones(1, 2))
        lin(gpujit.ones(1, 2))
    finally:
        h.remove()
    assert n_traced >= 1 and seen[-1] == "Linear"


def _set_submodule_script(lib):
    nn = lib.nn
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    m.set_submodule("1.0", nn.Tanh())
    out = [repr(m)]
    for args in (("1.5", nn.Tanh(), True), ("2.0", nn.Tanh()), ("", nn.Tanh()),
                 ("0.weight", nn.Tanh()), ("1.0", 3)):
        try:
            m.set_submodule(*args)
        except (AttributeError, ValueError) as e:
            out.append((type(e).__name__, str(e)))
    m.set_submodule("1.5", nn.Tanh())
    out.append(repr(m[1]))
    lin = nn.Linear(2, 3)
    out += [lin.to_empty(device="cpu") is lin, tuple(lin.weight.shape),
            type(lin.weight).__name__, lin.weight.requires_grad, lin.share_memory() is lin]
    return out


def test_set_submodule_to_empty_share_memory_match_torch():
    torch = pytest.importorskip("torch")
    assert _set_submodule_script(gpujit) == _set_submodule_script(torch)


def _prune_containers_script(lib):
    import importlib
    prune = importlib.import_module(lib.__name__ + ".nn.utils.prune")
    rng = np.random.default_rng(3)
    w1, b1 = rng.standard_normal((2, 3)).astype(np.float32), np.zeros(2, np.float32)
    w2, b2 = rng.standard_normal((2, 2)).astype(np.float32), np.zeros(2, np.float32)
    a, b = _twin_linear(lib, w1, b1), _twin_linear(lib, w2, b2)
    scores = {(a, "weight"): lib.tensor(np.abs(rng.standard_normal((2, 3))).astype(np.float32))}
    prune.global_unstructured([(a, "weight"), (b, "weight")], importance_scores=scores,
                              pruning_method=prune.L1Unstructured, amount=0.4)
    out = [a.weight_mask.tolist(), b.weight_mask.tolist()]
    m = _twin_linear(lib, rng.standard_normal((4, 4)).astype(np.float32), np.zeros(4, np.float32))
    prune.random_unstructured(m, "weight", amount=0.0)
    prune.l1_unstructured(m, "weight", 3)
    prune.ln_structured(m, "weight", 0.25, 1, dim=-1)       # (the default dim: the last)
    out.append(m.weight_mask.tolist())
    t = lib.tensor([[1., -3.], [0.5, 2.]])
    out.append(prune.RandomStructured(0.0).prune(t).tolist())
    out.append(prune.LnStructured(1, 2, dim=-1).prune(t).tolist())
    prune.remove(m, "weight")
    out.append((sorted(m._parameters), prune.is_pruned(m)))
    x = prune.L1Unstructured(0.5)
    x._tensor_name = "w"
    pc = prune.PruningContainer(x)
    y = prune.RandomStructured(0.5)
    y._tensor_name = "v"
    for bad in (y, 3):
        try:
            pc.add_pruning_method(bad)
        except (TypeError, ValueError) as e:
            out.append((type(e).__name__, str(e).split(" to ")[0]))
    out.append((len(pc), pc[0] is x))
    return out


def test_prune_containers_and_default_dim_match_torch():
    torch = pytest.importorskip("torch")
    assert _prune_containers_script(gpujit) == _prune_containers_script(torch)
