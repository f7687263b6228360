"""Graph fidelity with torch 2.13 (session 46): the ops the Python operators record
(x & y is aten::__and__, x <<= y aten::__ilshift__ ...), in traced and scripted graphs, their
code, fusion and archives. Expected text and values are pinned here (CI has no torch);
where torch is importable the same programs are compared with it."""
import io
import zipfile

import numpy as np
import pytest

import gpujit


def _kinds(graph):
    return [n.kind() for n in graph.nodes()
            if n.kind() not in ("prim::Constant", "prim::TupleConstruct", "prim::ListConstruct")]


def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- bitwise / shift operators

def _operators(x, y):
    return x & y, x | y, x ^ y, x << y, x >> y


def _operators_scalar(x):
    return x & 3, x | 2, x ^ 1, x << 2, x >> 1


def _reflected(x):
    return 3 & x, 2 | x, 1 ^ x, 2 << x, 64 >> x


def _augmented(x, y):
    x = x.clone()
    x &= y
    x |= y
    x ^= y
    x <<= y
    x >>= y
    x &= 1
    x |= 2
    return x


def _np_augmented(x, y):
    return ((((((x & y) | y) ^ y) << y) >> y) & 1) | 2


OPERATOR_KINDS = ["aten::__and__", "aten::__or__", "aten::__xor__", "aten::__lshift__",
                  "aten::__rshift__"]
TRACED = [
    (_operators, 2, OPERATOR_KINDS),
    (_operators_scalar, 1, OPERATOR_KINDS),
    # (torch 2.13's Tensor.__rand__ ... record the bitwise op, its __rlshift__ the
    # bitwise_left_shift(Scalar, Tensor) overload)
    (_reflected, 1, ["aten::bitwise_and", "aten::bitwise_or", "aten::bitwise_xor",
                     "aten::bitwise_left_shift", "aten::bitwise_right_shift"]),
    (_augmented, 2, ["aten::clone", "aten::__iand__", "aten::__ior__", "aten::__ixor__",
                     "aten::__ilshift__", "aten::__irshift__", "aten::__iand__",
                     "aten::__ior__"]),
]


def _args(torch, n):
    a = [torch.tensor([1, 2, 3, 12]), torch.tensor([1, 0, 2, 3])]
    return a[:n]


@pytest.mark.parametrize("fn, n, kinds", TRACED, ids=lambda v: getattr(v, "__name__", ""))
def test_traced_operators_record_torchs_ops(fn, n, kinds):
    args = _args(gpujit, n)
    tr = gpujit.jit.trace(fn, tuple(args))
    assert _kinds(tr.graph) == kinds
    arrays = [a.numpy().copy() for a in args]
    want = fn(*arrays) if fn is not _augmented else _np_augmented(*arrays)
    got = tr(*args)
    for g, w in zip(got if isinstance(got, tuple) else (got,),
                    want if isinstance(want, tuple) else (want,)):
        np.testing.assert_array_equal(g.numpy(), w)


@pytest.mark.parametrize("fn, n, kinds", TRACED, ids=lambda v: getattr(v, "__name__", ""))
def test_traced_operators_as_torch(fn, n, kinds):
    torch = _torch()
    assert _kinds(torch.jit.trace(fn, tuple(_args(torch, n))).graph) == kinds


def _scripted(x, y, n: int):
    a = x & y
    b = x | n
    c = x ^ y
    d = x << y
    e = x >> 1
    x <<= 2
    x >>= y
    x &= y
    x |= n
    x ^= 1
    return a, b, c, d, e, x, n & 3, n << 1


SCRIPTED_CODE = """\
def _scripted(x: Tensor,
    y: Tensor,
    n: int) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, int, int]:
  a = torch.__and__(x, y)
  b = torch.__or__(x, n)
  c = torch.__xor__(x, y)
  d = torch.__lshift__(x, y)
  e = torch.__rshift__(x, 1)
  x0 = torch.__ilshift__(x, 2)
  x1 = torch.__irshift__(x0, y)
  x2 = torch.bitwise_and(x1, y)
  x3 = torch.bitwise_or(x2, n)
  x4 = torch.bitwise_xor(x3, 1)
  _0 = (a, b, c, d, e, x4, torch.__and__(n, 3), torch.__lshift__(n, 1))
  return _0
"""
# (TorchScript's `x &= y`, `x |= y`, `x ^= y` of a Tensor are bitwise_and / or / xor, a
# new Tensor; `x <<= y`, `x >>= y` its in-place __ilshift__ / __irshift__)
SCRIPTED_KINDS = ["aten::__and__", "aten::__or__", "aten::__xor__", "aten::__lshift__",
                  "aten::__rshift__", "aten::__ilshift__", "aten::__irshift__",
                  "aten::bitwise_and", "aten::bitwise_or", "aten::bitwise_xor",
                  "aten::__and__", "aten::__lshift__"]


def _check_scripted_values(s, torchlike):
    x, y = torchlike.tensor([1, 2, 3, 12]), torchlike.tensor([1, 0, 2, 3])
    got = s(x.clone(), y, 6)
    xn, yn = x.numpy(), y.numpy()
    xi = ((xn << 2) >> yn)
    want = (xn & yn, xn | 6, xn ^ yn, xn << yn, xn >> 1, ((xi & yn) | 6) ^ 1, 6 & 3, 12)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy() if hasattr(g, "numpy") else g, w)


def test_scripted_operators_code_and_values():
    s = gpujit.jit.script(_scripted)
    assert s.code == SCRIPTED_CODE
    assert _kinds(s.graph) == SCRIPTED_KINDS
    for _ in range(3):                  # profiling, then optimized calls
        _check_scripted_values(s, gpujit)


def test_scripted_operators_as_torch():
    torch = _torch()
    s = torch.jit.script(_scripted)
    assert s.code == SCRIPTED_CODE
    assert _kinds(s.graph) == SCRIPTED_KINDS


def _fusible(x, y):
    a = (x & y) | 3
    b = (a ^ y) << 1
    c = b >> y
    return c + a


def test_operators_fuse_and_equal_eager():
    s = gpujit.jit.script(_fusible)
    x = gpujit.tensor([1, 2, 3, 7, -9, 1 << 40])
    y = gpujit.tensor([1, 0, 2, 3, 5, 4])
    want = _fusible(x.numpy(), y.numpy())
    for _ in range(3):
        np.testing.assert_array_equal(s(x, y).numpy(), want)
    g = gpujit.jit.last_executed_optimized_graph()
    groups = [n for n in g.nodes() if n.kind() == "prim::If"]
    inner = [m.kind() for n in groups for b in n.blocks() for m in b.nodes()]
    assert "prim::TensorExprGroup" in " ".join(inner), str(g)
    assert "aten::__and__" in str(g) and "aten::__lshift__" in str(g)
    # the unfused (eager) path computes the same
    with gpujit.jit.fuser("none"):
        np.testing.assert_array_equal(gpujit.jit.script(_fusible)(x, y).numpy(), want)


def test_operator_methods_as_torch():
    x, f = gpujit.tensor([1, 2, 3]), gpujit.tensor([1., 2.])
    assert gpujit.Tensor.__and__.__name__ == "__and__"
    assert gpujit.Tensor.__iand__.__name__ == "__iand__"
    assert x.__and__("a") is NotImplemented
    assert (x.__and__(other=x)).tolist() == [1, 2, 3]
    with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for 'Float'"):
        f & f
    with pytest.raises(NotImplementedError, match="\"lshift_cpu\" not implemented for 'Float'"):
        f.__ilshift__(1)
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired "
                                           "output type Bool"):
        gpujit.tensor([True]).__iand__(gpujit.tensor([1]))
    assert not hasattr(gpujit, "__and__")       # (torch has no torch.__and__ function)
    assert gpujit.ops.aten.__and__.Tensor(x, x).tolist() == [1, 2, 3]
    assert gpujit.ops.aten.__lshift__.Scalar(x, 1).tolist() == [2, 4, 6]


def _saved_code(buf):
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".py"))


def _archive(fmt):
    s = gpujit.jit.script(_scripted)
    buf = io.BytesIO()
    gpujit.jit.save(s, buf, **({"format": fmt} if fmt else {}))
    return buf


@pytest.mark.parametrize("fmt", [None, "pytorch"])
def test_operators_save_and_load(fmt):
    buf = _archive(fmt)
    if fmt == "pytorch":
        code = _saved_code(buf)
        assert "torch.__and__(x, y)" in code and "torch.__ilshift__(x, 2)" in code
    buf.seek(0)
    m = gpujit.jit.load(buf)
    assert _kinds(m.graph)[-len(SCRIPTED_KINDS):] == SCRIPTED_KINDS
    _check_scripted_values(m, gpujit)


def test_torch_reads_gpujit_archive_and_gpujit_reads_torchs():
    torch = _torch()
    buf = _archive("pytorch")
    buf.seek(0)
    m = torch.jit.load(buf)
    _check_scripted_values(m, torch)
    buf = io.BytesIO()
    torch.jit.save(torch.jit.trace(_augmented, tuple(_args(torch, 2))), buf)
    buf.seek(0)
    g = gpujit.jit.load(buf)
    x, y = _args(gpujit, 2)
    assert "aten::__iand__" in str(g.graph) and "aten::__ilshift__" in str(g.graph)
    np.testing.assert_array_equal(g(x, y).numpy(), _np_augmented(x.numpy(), y.numpy()))


# ---------------------------------------------------------------- torch.<loss>'s reduction default

# torch 2.13's Python bindings read a schema's `int reduction=Mean` as 0: torch.kl_div(x, y)
# ... are unreduced in eager code (and a trace records 0), the mean in scripted code (the
# schema's default); F.<loss> keeps its own 'mean'
_X = [[0.2, -0.5, 1.0], [0.3, 0.1, -0.7]]
_Y = [[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]


def _loss_calls(torch):
    x, y = torch.tensor(_X), torch.tensor(_Y)
    t = torch.tensor([[1., 0., 1.], [0., 1., 1.]])
    s, a, ym = torch.tensor([1., -1.]), torch.tensor([0.5, -0.2]), torch.tensor([1., -1., 1.])
    return {
        "kl_div": (lambda r=None: torch.kl_div(x, y) if r is None else torch.kl_div(x, y, r)),
        "bce_with_logits": (lambda r=None: torch.binary_cross_entropy_with_logits(x, t) if r is None
                            else torch.binary_cross_entropy_with_logits(x, t, None, None, r)),
        "hinge": (lambda r=None: torch.hinge_embedding_loss(x, ym) if r is None
                  else torch.hinge_embedding_loss(x, ym, 1.0, r)),
        "margin_ranking": (lambda r=None: torch.margin_ranking_loss(a, s, s) if r is None
                           else torch.margin_ranking_loss(a, s, s, 0.0, r)),
        "cosine_embedding": (lambda r=None: torch.cosine_embedding_loss(x, y, s) if r is None
                             else torch.cosine_embedding_loss(x, y, s, 0.0, r)),
        "triplet_margin": (lambda r=None: torch.triplet_margin_loss(x, y, t) if r is None
                           else torch.triplet_margin_loss(x, y, t, 1.0, 2.0, 1e-6, False, r)),
    }


def _np_losses():
    x, y = np.array(_X), np.array(_Y)
    t = np.array([[1., 0., 1.], [0., 1., 1.]])
    s, a, ym = np.array([1., -1.]), np.array([0.5, -0.2]), np.array([1., -1., 1.])
    cos = (x * y).sum(1) / np.sqrt((x * x).sum(1) * (y * y).sum(1))

    def dist(u, v):
        return np.sqrt(((u - v + 1e-6) ** 2).sum(1))
    return {
        "kl_div": y * (np.log(y) - x),
        "bce_with_logits": (1 - t) * x + np.log1p(np.exp(-x)),
        "hinge": np.where(ym == 1, x, np.maximum(0, 1 - x)),
        "margin_ranking": np.maximum(0, -s * (a - s)),
        "cosine_embedding": np.where(s == 1, 1 - cos, np.maximum(0, cos)),
        "triplet_margin": np.maximum(dist(x, y) - dist(x, t) + 1.0, 0),
    }


@pytest.mark.parametrize("name", sorted(_np_losses()))
def test_torch_level_losses_are_unreduced_by_default(name):
    call, want = _loss_calls(gpujit)[name], _np_losses()[name]
    np.testing.assert_allclose(call().numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(call(0).numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(call(1)), want.mean(), rtol=1e-5)
    np.testing.assert_allclose(float(call(2)), want.sum(), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(_np_losses()))
def test_torch_level_losses_as_torch(name):
    torch = _torch()
    for r in (None, 0, 1, 2):
        w = _loss_calls(torch)[name](*(() if r is None else (r,)))
        g = _loss_calls(gpujit)[name](*(() if r is None else (r,)))
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)


def _scripted_losses(x, y):
    return torch_.kl_div(x, y), torch_.hinge_embedding_loss(x, y), \
        torch_.binary_cross_entropy_with_logits(x, y)


torch_ = gpujit          # (the module _scripted_losses calls; torch's in the torch test)


def test_scripted_torch_level_losses_take_the_mean():
    x, y = gpujit.tensor(_X), gpujit.tensor(_Y)
    s = gpujit.jit.script(_scripted_losses)
    eager = _scripted_losses(x, y)
    for got, e in zip(s(x, y), eager):
        assert got.dim() == 0
        np.testing.assert_allclose(float(got), e.numpy().mean(), rtol=1e-5)
    assert [n.kind() for n in s.graph.nodes() if n.kind().startswith("aten::")][0] == \
        "aten::kl_div"
    kl = next(n for n in s.graph.nodes() if n.kind() == "aten::kl_div")
    assert kl.inputsAt(2).toIValue() == 1            # (the schema's Mean)
    # a trace records the binding's 0, as torch's
    tr = gpujit.jit.trace(lambda x, y: gpujit.kl_div(x, y), (x, y))
    kl = next(n for n in tr.graph.nodes() if n.kind() == "aten::kl_div")
    assert kl.inputsAt(2).toIValue() == 0 and kl.inputsAt(2).type().kind() == "IntType"


def test_scripted_torch_level_losses_as_torch():
    global torch_
    torch = _torch()
    torch_ = torch
    try:
        s = torch.jit.script(_scripted_losses)
        x, y = torch.tensor(_X), torch.tensor(_Y)
        assert all(r.dim() == 0 for r in s(x, y))
    finally:
        torch_ = gpujit


# ---------------------------------------------------------------- __torch_function__ of methods

def _seen_type():
    """A tensor-like type: records the func its __torch_function__ receives. Made per test
    and collected after it (a live tensor-like type keeps gpujit's dispatch layer on, which
    tests of that layer elsewhere check is off)."""
    class _Seen:
        funcs = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.funcs.append((func, kwargs or {}))
            return 1
    return _Seen


@pytest.fixture
def _Seen():
    import gc
    yield _seen_type()
    gc.collect()


@pytest.mark.parametrize("expr, name", [
    ("c + p", "add"), ("c * p", "mul"), ("c & p", "__and__"), ("c < p", "lt"),
    ("c.add(p, alpha=2)", "add"), ("c.clamp(p)", "clamp")])
def test_a_tensor_method_with_a_tensor_like_passes_the_method(expr, name, _Seen):
    """x + p, x.add(p) of a plain Tensor x and a tensor-like p: the handler receives
    Tensor.add, as PyTorch's TensorBase.add (gpujit passed the function torch.add)."""
    _Seen.funcs = []
    eval(expr, {"c": gpujit.ones(3), "p": _Seen()})
    assert _Seen.funcs[-1][0] is getattr(gpujit.Tensor, name)
    _Seen.funcs = []
    gpujit.add(gpujit.ones(3), _Seen())
    assert _Seen.funcs[-1][0] is gpujit.add


@pytest.mark.parametrize("expr, name", [("c + p", "add"), ("c.add(p, alpha=2)", "add")])
def test_a_tensor_method_with_a_tensor_like_as_torch(expr, name, _Seen):
    torch = _torch()
    _Seen.funcs = []
    eval(expr, {"c": torch.ones(3), "p": _Seen()})
    assert _Seen.funcs[-1][0] is getattr(torch.Tensor, name)


def test_fx_tensor_left_operand_is_a_call_method():
    class M(gpujit.nn.Module):
        def forward(self, x):
            c = gpujit.ones(3)
            return c + x, gpujit.add(c, x)

    gm = gpujit.fx.symbolic_trace(M())
    ops = [(n.op, n.target) for n in gm.graph.nodes if n.op.startswith("call")]
    assert ops == [("call_method", "add"), ("call_function", gpujit.add)]
    assert "add = _tensor_constant0.add(x)" in gm.code
    x = gpujit.tensor([1., 2., 3.])
    assert [t.tolist() for t in gm(x)] == [[2., 3., 4.], [2., 3., 4.]]


def test_fx_tensor_left_operand_as_torch():
    torch = _torch()

    class M(torch.nn.Module):
        def forward(self, x):
            c = torch.ones(3)
            return c + x, torch.add(c, x)

    gm = torch.fx.symbolic_trace(M())
    ops = [(n.op, n.target) for n in gm.graph.nodes if n.op.startswith("call")]
    assert ops == [("call_method", "add"), ("call_function", torch.add)]
    assert "add = _tensor_constant0.add(x)" in gm.code


# ---------------------------------------------------------------- F signature defaults

# torch 2.13's defaults, as inspect.signature shows them (an int where torch writes one:
# `margin: float = 0`, `dilation: BroadcastingList2[int] = 1`)
F_DEFAULTS = {
    "margin_ranking_loss": {"margin": 0}, "cosine_embedding_loss": {"margin": 0},
    "gumbel_softmax": {"tau": 1}, "embedding_bag": {"norm_type": 2},
    "unfold": {"dilation": 1, "padding": 0, "stride": 1},
    "fold": {"dilation": 1, "padding": 0, "stride": 1},
    "max_unpool1d": {"padding": 0}, "max_unpool2d": {"padding": 0},
    "max_unpool3d": {"padding": 0},
}


def _defaults(fn):
    import inspect
    return {n: p.default for n, p in inspect.signature(fn).parameters.items()
            if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("name", sorted(F_DEFAULTS))
def test_functional_defaults_as_torch(name):
    got = _defaults(getattr(gpujit.nn.functional, name))
    for k, v in F_DEFAULTS[name].items():
        assert got[k] == v and type(got[k]) is type(v), (k, got[k])


@pytest.mark.parametrize("name", sorted(F_DEFAULTS))
def test_functional_defaults_equal_torchs(name):
    torch = _torch()
    want = _defaults(getattr(torch.nn.functional, name))
    got = _defaults(getattr(gpujit.nn.functional, name))
    assert {k: (v, type(v)) for k, v in got.items()} == \
        {k: (v, type(v)) for k, v in want.items()}


class _FoldUnfold(gpujit.nn.Module):
    def forward(self, x):
        u = gpujit.nn.functional.unfold(x, 2)
        p, i = gpujit.nn.functional.max_pool1d(x[0], 2, return_indices=True)
        return gpujit.nn.functional.fold(u, [4, 4], 2), \
            gpujit.nn.functional.max_unpool1d(p, i, 2)


def test_scripted_broadcasting_defaults_and_numbers():
    """A broadcasting list parameter's one-number default, and a number passed for it,
    are n copies of it in scripted calls (F.unfold(x, 2): [2, 2], dilation [1, 1]), as
    TorchScript's; the eager and scripted results agree."""
    m = _FoldUnfold()
    s = gpujit.jit.script(m)
    x = gpujit.arange(32.).reshape(1, 2, 4, 4)
    for a, b in zip(s(x), m(x)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    unfold = next(n for n in s.graph.nodes() if n.kind() == "prim::CallFunction")
    consts = [v.node() for v in list(unfold.inputs())[2:]]   # (after the function, x)
    assert [c.kind() for c in consts][0] == "prim::ListConstruct"
    assert len(list(consts[0].inputs())) == 2                  # kernel_size [2, 2]
    # (the defaults too: torch 2.13's `prim::ListConstruct(%1, %1)` of the number)
    assert [c.kind() for c in consts[1:]] == ["prim::ListConstruct"] * 3
    assert [[i.toIValue() for i in c.inputs()] for c in consts[1:]] == [[1, 1], [0, 0],
                                                                      [1, 1]]


def test_torch_loads_scripted_fold_unfold():
    torch = _torch()
    s = gpujit.jit.script(_FoldUnfold())
    buf = io.BytesIO()
    gpujit.jit.save(s, buf, format="pytorch")
    buf.seek(0)
    t = torch.jit.load(buf)            # (kernel_size was saved as [2]: im2col's error)
    x = gpujit.arange(32.).reshape(1, 2, 4, 4)
    for a, b in zip(t(torch.arange(32.).reshape(1, 2, 4, 4)), s(x)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
