"""DifferentiableGraph regions and fuser passes, part 4 (helper a50, session 50).

- torch 2.13's PeepholeOptimize of `x * 1` / `x + 0` / `x - 0` (int or bool constants)
  is on (executor._PEEPHOLE_IDENTITIES): before fusion and, as torch runs it before its
  profiling run, in the profiling run too (the first call records no MulBackward0 for
  `x * 1` either); not where it would change aliasing anyone can see (a written result,
  an input returned as itself) nor a dtype (bool * 1 is int64).
- graph_for / last_executed_optimized_graph show the DifferentiableGraph regions of calls
  that record gradients by default, as torch does (GPUJIT_SHOW_REGIONS=0 turns it off);
  tests/fusion_asserts.py looks inside them as torch's assertAllFused does.
Expectations are torch 2.13's (written down here; compared with the installed torch too).
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import gpujit
from fusion_asserts import fast_path_kinds, find_fusion_groups


def _names(fn, depth=0):
    """grad_fn's structure as text (DGB: DifferentiableGraphBackward, A: AccumulateGrad)."""
    if fn is None:
        return "None"
    nm = fn.name().replace("torch::jit::(anonymous namespace)::", "").replace(
        "torch::autograd::", "").replace("DifferentiableGraphBackward", "DGB").replace(
        "AccumulateGrad", "A")
    subs = [_names(f, depth + 1) for f, _ in fn.next_functions] if depth < 20 else []
    return nm + ("(" + ", ".join(subs) + ")" if subs else "")


# ---------------------------------------------------------------- the peephole, call 1 too
def tanh_identities(x):
    return gpujit.tanh(x * 1) + 0


def chain_identities(x):
    return gpujit.relu((x * 1) + 0 - 0)


def bool_constants(x):
    return gpujit.neg(x * True) + (x + False)


def returned_identity(x):
    return (x * 1) + 0


def written_identity(x):
    y = x * 1
    y.add_(1)
    return y


def float_one_kept(x):
    return gpujit.sigmoid(x * 1.0)


# (function, torch 2.13's grad_fn on calls 1, 2 and 3)
FIRST_CALLS = {
    "tanh_identities": (tanh_identities, ["TanhBackward0(A)"] * 3),
    "chain_identities": (chain_identities, ["ReluBackward0(A)"] * 3),
    "float_one_kept": (float_one_kept, ["SigmoidBackward0(MulBackward1(A))", "DGB(A)",
                                        "DGB(A)"]),
}


def _grad_fns(torch, fn):
    s = torch.jit.script(fn)
    xa = np.linspace(-1, 1, 6, dtype=np.float32)
    out = []
    for _ in range(3):
        x = torch.tensor(xa, requires_grad=True)
        y = s(x)
        out.append((_names(y.grad_fn), y, x))
    return out


@pytest.mark.parametrize("name", sorted(FIRST_CALLS))
def test_identities_dropped_from_the_first_call_on(name):
    fn, want = FIRST_CALLS[name]
    got = _grad_fns(gpujit, fn)
    assert [g[0] for g in got] == want
    xa = np.linspace(-1, 1, 6, dtype=np.float32)
    ex = gpujit.tensor(xa, requires_grad=True)
    e = fn(ex)
    e.sum().backward()
    for _, y, x in got:
        y.sum().backward()
        np.testing.assert_array_equal(y.detach().numpy(), e.detach().numpy())
        np.testing.assert_array_equal(x.grad.numpy(), ex.grad.numpy())


@pytest.mark.parametrize("name", sorted(FIRST_CALLS))
def test_identities_first_calls_as_installed_torch(name):
    torch = pytest.importorskip("torch")
    fn, want = FIRST_CALLS[name]
    src_fn = _as_torch(torch, fn)
    assert [g[0] for g in _grad_fns(torch, src_fn)] == want


def _as_torch(torch, fn):
    """fn's source run with torch in gpujit's place (scripted from a file)."""
    import importlib.util
    import inspect
    import tempfile
    src = "import torch as gpujit\n\n\n" + inspect.getsource(fn)
    d = tempfile.mkdtemp()
    path = os.path.join(d, f"s50_{fn.__name__}.py")
    with open(path, "w") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location(f"s50_{fn.__name__}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, fn.__name__)


def test_bool_constants_are_identities_too():
    # torch 2.13 drops x * True and x + False as it drops x * 1 and x + 0 (an integral
    # Scalar): its optimized graph holds neg and add only
    s = gpujit.jit.script(bool_constants)
    for dt in (gpujit.int32, gpujit.float32):
        x = gpujit.tensor([1, -2, 3], dtype=dt)
        for _ in range(3):
            r = s(x)
        assert r.dtype is dt
        np.testing.assert_array_equal(r.numpy(), np.zeros(3))
    g = gpujit.jit.script(bool_constants)
    x = gpujit.tensor([1.0, 2.0])
    for _ in range(3):
        g(x)
    text = str(g.graph_for(x))
    assert "aten::mul" not in text and "aten::neg" in text


def test_identity_of_an_int_tensor_dropped_bool_kept():
    @gpujit.jit.script
    def f(x):
        return (x * 1) // 2

    i = gpujit.tensor([5, -7, 9], dtype=gpujit.int16)
    b = gpujit.tensor([True, False, True])
    for _ in range(3):
        ri = f(i)
        rb = f(b)
    assert ri.dtype is gpujit.int16 and ri.tolist() == [2, -4, 4]
    # (bool * 1 is int64 in eager: gpujit keeps the op, torch 2.13 would drop it)
    assert rb.dtype is gpujit.int64 and rb.tolist() == [0, 0, 0]
    assert "aten::mul" not in str(f.graph_for(i))
    assert "aten::mul" in str(f.graph_for(b))


def test_identity_kept_where_aliasing_would_change_first_call_included():
    # the profiling run (call 1) takes the same care as the optimized code: a result
    # written in place stays a copy, an input returned is a new tensor
    r = gpujit.jit.script(returned_identity)
    w = gpujit.jit.script(written_identity)
    for _ in range(3):
        x = gpujit.ones(3)
        y = r(x)
        assert y is not x and y.data_ptr() != x.data_ptr()
        z = w(x)
        np.testing.assert_array_equal(x.numpy(), np.ones(3, np.float32))
        np.testing.assert_array_equal(z.numpy(), np.full(3, 2.0, np.float32))


def test_identity_chain_returned_is_a_new_tensor():
    # (x * 1) + 0 returned: dropping both would return the input itself
    @gpujit.jit.script
    def f(x):
        y = x * 1
        return y + 0, gpujit.tanh(y)

    x = gpujit.zeros(2, requires_grad=True)
    for _ in range(3):
        a, b = f(x)
        assert a is not x and a.grad_fn is not None
    (a.sum() + b.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


# ---------------------------------------------------------------- regions shown by default
def mlp(x, w1, w2):
    return gpujit.relu(gpujit.tanh(x @ w1) * 2.0) @ w2


def mlp_no_grad(x, w1, w2):
    return mlp(x, w1, w2)


def _mlp_calls():
    rng = np.random.default_rng(0)
    args = [gpujit.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
            for s in ((4, 3), (3, 5), (5, 2))]
    s = gpujit.jit.script(mlp)
    for _ in range(3):
        s(*args)
    return s, args


def test_graph_for_shows_regions_by_default():
    s, args = _mlp_calls()
    g = s.graph_for(*args)
    kinds = [n.kind() for n in g.nodes()]
    assert kinds[:2] == ["prim::RequiresGradCheck", "prim::If"]
    text = str(g)
    assert "prim::DifferentiableGraph_0(" in text
    assert "with prim::DifferentiableGraph_0 = graph(" in text
    # (the guard passes its inputs on as they are typed, as torch prints it)
    check = next(ln for ln in text.splitlines() if "prim::RequiresGradCheck[" in ln)
    assert check.split(" = ")[0].count("Float(") == 3
    assert "types=[Tensor(requires_grad=1), Tensor(requires_grad=1)" in check
    last = str(gpujit.jit.last_executed_optimized_graph())
    assert "prim::DifferentiableGraph" in last
    # a function whose calls record no gradient: no region
    plain = [a.detach() for a in args]
    f = gpujit.jit.script(mlp_no_grad)
    for _ in range(3):
        f(*plain)
    assert "DifferentiableGraph" not in str(f.graph_for(*plain))


def test_show_regions_off():
    from gpujit.jit import region_display
    s, args = _mlp_calls()
    prev = region_display.show_regions(False)
    try:
        text = str(s.graph_for(*args))
    finally:
        region_display.show_regions(prev)
    assert "DifferentiableGraph" not in text
    assert "DifferentiableGraph" in str(s.graph_for(*args))


def test_environment_variable_turns_regions_off():
    code = ("import gpujit\n"
            "from gpujit.jit import region_display\n"
            "print(region_display.show_regions())\n")
    for val, want in (("0", "False"), ("1", "True")):
        env = dict(os.environ, GPUJIT_SHOW_REGIONS=val)
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        assert r.stdout.split()[-1] == want


def test_fusion_asserts_look_inside_regions():
    s, args = _mlp_calls()
    g = s.graph_for(*args)
    kinds = fast_path_kinds(g)
    # the region's ops on the fast path (torch's assertAllFused walks into its Subgraph)
    assert "prim::DifferentiableGraph" not in kinds
    assert "aten::matmul" in kinds
    groups = find_fusion_groups(g)
    assert len(groups) == 1
    inner = [n.kind() for n in groups[0].nodes() if n.kind() != "prim::Constant"]
    assert inner == ["aten::tanh", "aten::mul", "aten::relu"]


def test_regions_and_groups_values_and_gradients_numpy():
    s, args = _mlp_calls()
    out = s(*args)
    out.sum().backward()
    x, w1, w2 = (a.detach().numpy().astype(np.float64) for a in args)
    t = np.tanh(x @ w1)
    h = np.maximum(t * 2.0, 0)
    np.testing.assert_allclose(out.detach().numpy(), h @ w2, rtol=1e-5, atol=1e-6)
    gh = np.ones((4, 2)) @ w2.T
    gt = gh * (h > 0) * 2.0 * (1 - t * t)
    np.testing.assert_allclose(args[2].grad.numpy(), h.T @ np.ones((4, 2)), rtol=1e-5)
    np.testing.assert_allclose(args[1].grad.numpy(), x.T @ gt, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(args[0].grad.numpy(), gt @ w1.T, rtol=1e-4, atol=1e-6)
