"""Tracing, scripted / traced modules and training against torch 2.13 (session 39, d39).

Finds, minimised, with torch 2.13's behaviour:

1. alpha_dropout, feature_dropout (what F.dropout1d/2d/3d call) and feature_alpha_dropout
   are ATen ops in torch: `torch.jit.trace(lambda x: F.alpha_dropout(x, 0.3, True), x)`
   records one `aten::alpha_dropout(%x, 0.3, True)` node, train or not (F.dropout2d:
   `aten::feature_dropout`, in place `aten::feature_dropout_`; F.dropout3d of a 4-D input:
   unsqueeze, feature_dropout, squeeze). gpujit traced their Python decomposition
   (empty_like, bernoulli_, add, mul_, add_, mul_, mul, add) when training and nothing at
   all when not, so an eval model's nn.AlphaDropout vanished from the traced module's code
   (torch keeps `(_2).forward(...)` and the submodule's
   `torch.alpha_dropout(argument_1, 0.20000000000000001, False)`), and torch.alpha_dropout
   was no registry op (torch.ops.aten.alpha_dropout: AttributeError). They are registry
   ops now (ATen's _dropout_impl; eager values unchanged, bit for bit torch's on the CPU;
   eager autograd keeps torch's MulBackward0 / AddBackward0 through the op's composite).
2. check_trace's "Trace had nondeterministic nodes" warning: torch 2.13 lists the random
   nodes of the traced graph itself (`traced_func.graph.nodes()`, Node::isNondeterministic),
   so a training model whose dropout is a submodule
   (`nn.Sequential(nn.Linear(5, 5), nn.Dropout(0.2))`) warns only "Output nr 1. of the
   traced function does not match..."; gpujit warned whenever a random op had run anywhere
   in the trace, listing `aten::dropout` by name. A module calling F.dropout in its own
   forward, or rand_like next to a submodule's dropout, warns in both, with the node.
3. A numbered attribute's GetAttr (a Sequential's, ModuleList's or ParameterList's entry)
   was left unnamed (a parameter's was named `%0`, a number): torch 2.13 names it `%_0`, so
   a traced Sequential prints its reads first as statements,
   `_2 = getattr(self, "2") / _1 = getattr(self, "1") / _0 = getattr(self, "0") /
   _3 = (_2).forward((_1).forward((_0).forward(input, ), ), ) / return _3`; gpujit
   inlined them (`_0 = getattr(self, "2") / _1 = (getattr(self, "1")).forward(...`).
4. torch.jit.trace_module with several methods: a submodule's calls count on across them,
   so {"forward": ..., "other": ...} where both call self.lin gives lin `forward` (from
   forward) and `forward1`, `forward2` (other's two calls: `torch.add(torch.mul(
   (lin).forward1(x, ), k), (lin).forward2(k, ))`); gpujit restarted at `forward` for
   each method (other's calls printed `(lin).forward(x, )`, `(lin).forward1(k, )`).
5. torch.jit.freeze removes aten::dropout, dropout_, feature_dropout and feature_dropout_
   with a constant train=False (torch 2.13's removeDropout), and keeps aten::alpha_dropout
   and feature_alpha_dropout (the input itself all the same): a frozen eval
   `Sequential(Conv2d, Dropout, AlphaDropout, Dropout2d, FeatureAlphaDropout, ReLU)` keeps
   [conv, alpha_dropout, feature_alpha_dropout, relu]; gpujit's list named the alpha forms
   (not ops until now) and left dropout_ / feature_dropout_ out.
   Freezing also kept `self.training` as an attribute where an in-place op took it as an
   argument and its result was written later (F.dropout1d(x.clone(), p, self.training,
   inplace=True): feature_dropout_ then squeeze_): the bool was taken for the written
   tensor's memory; torch folds it and the dropout goes.
6. A scripted method's first parameter keeps its own name in `.code`, as torch 2.13 prints
   it (`def forward(s, x: Tensor) -> Tensor:` / `sub = s.sub`); gpujit printed `self`.
7. F.dropout3d of an input other than 4-D or 5-D (deprecated, with torch's warning) is
   taken as batchless by torch 2.13 (`is_batched = inp_dim == 5`, else unsqueeze(0)): a
   2-D (4, 6) input drops whole rows, a 3-D one whole (4, 6) planes; gpujit unsqueezed only
   a 4-D input, so a 2-D one dropped single elements and a 3-D one rows. F.dropout1d/2d/3d
   now follow torch's source (unsqueeze, feature_dropout(_), squeeze).
8. torch.tensor / torch.as_tensor of Python data inside traced code: torch 2.13 records
   the data as a constant then `aten::to(c, device, dtype, False, False, None)` (and
   `aten::detach` for torch.tensor): `_0 = torch.to(CONSTANTS.c0, torch.device("cpu"), 6)` /
   `return torch.mul(x, torch.detach(_0))`. gpujit used the bare constant, so one created
   with requires_grad=True failed the trace ("Cannot insert a Tensor that requires grad as
   a constant"; torch traces it, the graph's value detached) and one returned as is warned
   a second, gpujit-only TracerWarning ("the traced function returns a Tensor the trace
   could not record").
10. A submodule's forward hooks and pre-hooks in a trace: torch 2.13 records their ops in
   the caller's graph around the `(a).forward(x, )` call (its _slow_forward holds the
   forward alone: `_0 = torch.mul((a).forward(x, ), CONSTANTS.c0)`), the submodule's method
   being its forward (`return torch.linear(x, weight, bias)`); gpujit put them inside the
   submodule's method (`out = torch.linear(x, weight, bias) / return torch.mul(out, 2)`).
9. dropout / dropout_ with p == 1 (and the new ops'): ATen's input * zeros(()), so a nan or
   inf element gives nan; gpujit's no-grad path gave 0.
"""
import warnings

import numpy as np

import gpujit as torch

nn = torch.nn
F = nn.functional


def _trace(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.trace(fn, args, **kw)


def _kinds(t):
    return [n.kind() for n in t.graph.nodes() if n.kind() != "prim::Constant"]


X4 = torch.tensor(((np.arange(120.) - 60) / 16).reshape(2, 3, 4, 5).astype(np.float32))


# ---------------------------------------------------------------------- 1. the ops in traces

def test_traced_dropout_family_records_the_aten_op_train_or_not():
    # torch 2.13's node kinds (prim::Constant left out)
    cases = [
        (lambda x, tr: F.dropout2d(x, 0.3, tr), ["aten::feature_dropout"]),
        (lambda x, tr: F.dropout1d(x[0], 0.3, tr), ["aten::select", "aten::feature_dropout"]),
        (lambda x, tr: F.dropout3d(x, 0.3, tr),
         ["aten::unsqueeze", "aten::feature_dropout", "aten::squeeze"]),
        (lambda x, tr: F.alpha_dropout(x, 0.3, tr), ["aten::alpha_dropout"]),
        (lambda x, tr: F.feature_alpha_dropout(x, 0.3, tr), ["aten::feature_alpha_dropout"]),
        (lambda x, tr: torch.alpha_dropout(x, 0.3, tr), ["aten::alpha_dropout"]),
        (lambda x, tr: torch.feature_dropout(x, 0.3, tr), ["aten::feature_dropout"]),
        (lambda x, tr: F.alpha_dropout(x.clone(), 0.3, tr, True),
         ["aten::clone", "aten::alpha_dropout_"]),
        (lambda x, tr: F.dropout2d(x.clone(), 0.3, tr, True),
         ["aten::clone", "aten::feature_dropout_"]),
    ]
    for fn, want in cases:
        for tr in (True, False):
            t = _trace(lambda x: fn(x, tr), X4, check_trace=False)
            got = [k for k in _kinds(t) if k != "prim::ListConstruct"]
            assert got == want, (want, got, tr)


def test_the_ops_are_in_the_aten_namespace():
    assert str(torch.ops.aten.alpha_dropout.default._schema) == \
        "aten::alpha_dropout(Tensor input, float p, bool train) -> Tensor"
    assert str(torch.ops.aten.feature_dropout_.default._schema) == \
        "aten::feature_dropout_(Tensor(a!) self, float p, bool train) -> Tensor(a!)"


def test_eval_alpha_dropout_stays_a_method_call():
    m = nn.Sequential(nn.Linear(5, 5), nn.AlphaDropout(0.2), nn.Dropout2d(0.3)).eval()
    t = _trace(m, X4)
    code = t.code
    assert code.count(").forward(") == 3, code        # (all three submodules called)
    assert "torch.alpha_dropout(argument_1, 0.20000000000000001, False)" in \
        getattr(t, "1").code
    assert "torch.feature_dropout(argument_1, 0.29999999999999999, False)" in \
        getattr(t, "2").code
    # not training: the input itself, eagerly and traced
    y = F.alpha_dropout(X4, 0.2, False)
    assert y is X4 and F.dropout2d(X4, 0.2, False) is X4
    np.testing.assert_array_equal(t(X4).detach().numpy(), m(X4).detach().numpy())


# ---------------------------------------------------------------------- values and gradients

X3 = torch.tensor(((np.arange(24.) - 10) / 8).reshape(2, 3, 4).astype(np.float32))
# torch 2.13, CPU, torch.manual_seed(7) before each call on X3
_AD = [-0.4720085859298706, -0.36409831047058105, -0.9106420278549194, -0.9106420278549194,
       -0.9106420278549194, -0.9106420278549194, 0.1754533350467682, 0.2833636701107025,
       -0.9106420278549194, -0.9106420278549194, 0.6070946455001831, 0.7150049805641174,
       0.8229153156280518, 0.9308255910873413, 1.0387359857559204, -0.9106420278549194,
       1.254556655883789, -0.9106420278549194, 1.4703772068023682, -0.9106420278549194,
       -0.9106420278549194, -0.9106420278549194, -0.9106420278549194, 2.0099289417266846]
_FAD = [-0.3288121819496155, -0.21801155805587769, -0.10721093416213989,
        0.0035896897315979004, 0.1143903136253357, 0.2251908779144287, 0.3359915018081665,
        0.4467921257019043] + [-0.7791939377784729] * 16
_D1 = [-2.5, -2.25, -2.0, -1.75, -1.5, -1.25, -1.0, -0.75] + [0.0] * 16


def test_values_are_torchs_eager_traced_and_scripted():
    fns = [(lambda x: F.alpha_dropout(x, 0.4, True), _AD),
           (lambda x: F.feature_alpha_dropout(x, 0.5, True), _FAD),
           (lambda x: F.dropout1d(x, 0.5, True), _D1)]
    for fn, want in fns:
        t = _trace(fn, X3, check_trace=False)
        for f in (fn, t, t):
            torch.manual_seed(7)
            np.testing.assert_array_equal(f(X3).numpy().ravel(), np.float32(want))


class _SeluNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 1)
        self.act = nn.SELU()
        self.ad = nn.AlphaDropout(0.2)
        self.d1 = nn.Dropout1d(0.3)
        self.fad = nn.FeatureAlphaDropout(0.1)

    def forward(self, x):
        return self.fad(self.d1(self.ad(self.act(self.conv(x)))))


def test_traced_and_scripted_training_follow_eager():
    torch.manual_seed(0)
    m = _SeluNet()
    x = X3.clone().requires_grad_()
    t = _trace(m, x, check_trace=False)
    s = torch.jit.script(m)
    for f in (t, s):
        for i in range(3):
            torch.manual_seed(i)
            a = f(x)
            a.sum().backward()
            g1, gw1 = x.grad.clone(), m.conv.weight.grad.clone()
            x.grad = None
            m.conv.weight.grad = None
            torch.manual_seed(i)
            b = m(x)
            b.sum().backward()
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
            np.testing.assert_allclose(g1.numpy(), x.grad.numpy(), rtol=1e-6)
            np.testing.assert_allclose(gw1.numpy(), m.conv.weight.grad.numpy(), rtol=1e-6)
            x.grad = None
            m.conv.weight.grad = None


def test_eager_grad_fn_nodes_are_torchs():
    x = X3.clone().requires_grad_()
    y = F.alpha_dropout(x, 0.4, True)
    # torch 2.13: AddBackward0 -> (MulBackward0, None); MulBackward0 -> (AccumulateGrad, None)
    assert y.grad_fn.name() == "AddBackward0"
    (mul, _), (none, _) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and none is None
    assert F.dropout1d(x, 0.4, True).grad_fn.name() == "MulBackward0"
    assert torch.alpha_dropout(x, 1.0, True).grad_fn.name() == "MulBackward0"
    assert not torch.alpha_dropout(x, 1.0, True).detach().numpy().any()
    # the derivative is the forward's noise: kept elements get a, dropped ones 0
    p = 0.4
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * p + 1) * (1 - p))
    x = torch.ones(50, 40, requires_grad=True)
    y = F.alpha_dropout(x, p, True)
    y.sum().backward()
    kept = np.isclose(y.detach().numpy(), a + 1.7580993408473766 * a * p)
    np.testing.assert_allclose(x.grad.numpy(), kept * a, rtol=1e-6)
    assert 0.3 < 1 - kept.mean() < 0.5


def test_p_one_multiplies_by_zero():
    # torch 2.13: ATen's input * zeros(()) for p == 1, so nan and inf give nan (gpujit's
    # plain dropout gave zeros)
    x = torch.tensor([1.0, float("nan"), float("inf")])
    for y in (torch.alpha_dropout(x, 1.0, True), torch.feature_dropout(x.view(1, 3), 1.0, True),
              torch.alpha_dropout_(x.clone(), 1.0, True), torch.dropout(x, 1.0, True),
              F.dropout(x, 1.0), torch.dropout_(x.clone(), 1.0, True)):
        np.testing.assert_array_equal(y.numpy().ravel(), [0.0, np.nan, np.nan])
    assert torch.alpha_dropout(torch.tensor([True, False]), 1.0, True).tolist() == [False, False]


def test_words():
    import pytest
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, "
                                         "but got 1.5"):
        F.alpha_dropout(X3, 1.5, True)
    with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1, "
                                           "but got -0.5"):
        torch.feature_dropout(X3, -0.5, True)
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions "
                                           "in the input"):
        torch.feature_alpha_dropout(torch.ones(3), 0.5, True)


# ---------------------------------------------------------------------- 2. nondeterministic


class _Own(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5, True) + 1


class _Nest(nn.Module):
    def __init__(self):
        super().__init__()
        self.o = _Own()

    def forward(self, x):
        return self.o(x) * 2


class _NestRand(_Nest):
    def forward(self, x):
        return self.o(x) * torch.rand_like(x)


def _check_warnings(m, x):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.jit.trace(m, (x,))
    return [str(e.message) for e in w if issubclass(e.category, torch.jit.TracerWarning)]


def test_nondeterministic_warning_lists_the_traced_graphs_own_nodes():
    x = torch.ones(4, 3, 5)
    for m in (nn.Sequential(nn.Linear(5, 5), nn.Dropout(0.2)), _Nest(),
              nn.Sequential(nn.Linear(5, 5), nn.AlphaDropout(0.2))):
        ws = _check_warnings(m, x)
        assert ws and all(s.startswith("Output nr 1. of the traced function does not match")
                          for s in ws), ws
    for m, node in ((_Own(), "aten::dropout(%x, "), (_NestRand(), "aten::rand_like(%x, "),
                    (lambda x: F.alpha_dropout(x, 0.5, True), "aten::alpha_dropout(%x, ")):
        ws = _check_warnings(m, x)
        assert ws[0].startswith("Trace had nondeterministic nodes. Did you forget call "
                                ".eval() on your model? Nodes:\n\t%"), ws
        assert node in ws[0].splitlines()[1]
        assert ws[1].startswith("Output nr 1.")
    # not training: nothing differs, nothing to say
    assert _check_warnings(nn.Sequential(nn.Linear(5, 5), nn.Dropout(0.2)).eval(), x) == []


# ---------------------------------------------------------------------- 3. numbered attributes

def test_traced_sequential_names_its_entries_as_torch():
    m = nn.Sequential(nn.Conv1d(3, 4, 1), nn.SELU(), nn.Tanh()).eval()
    t = _trace(m, X3)
    # torch 2.13's code, verbatim
    assert t.code == (
        "def forward(self,\n"
        "    input: Tensor) -> Tensor:\n"
        "  _2 = getattr(self, \"2\")\n"
        "  _1 = getattr(self, \"1\")\n"
        "  _0 = getattr(self, \"0\")\n"
        "  _3 = (_2).forward((_1).forward((_0).forward(input, ), ), )\n"
        "  return _3\n")
    names = [n.output.debugName() for n in t.graph.nodes() if n.kind() == "prim::GetAttr"]
    assert names == ["_2", "_1", "_0"]


class _PList(nn.Module):
    def __init__(self):
        super().__init__()
        self.ps = nn.ParameterList([nn.Parameter(torch.ones(3)), nn.Parameter(torch.ones(3))])

    def forward(self, x):
        return x * self.ps[0] + self.ps[1]


def test_parameter_list_entries_are_named_with_an_underscore():
    t = _trace(_PList(), torch.ones(2, 3))
    got = {n.s("name"): n.output.debugName() for n in t.graph.nodes()
           if n.kind() == "prim::GetAttr" and n.s("name").isdigit()}
    # torch 2.13: %_1.1 and %_0.1 (its renaming of the older `_0`, `_1`); never a number
    assert sorted(v.split(".")[0] for v in got.values()) == ["_0", "_1"], got
    np.testing.assert_array_equal(t(torch.ones(2, 3)).detach().numpy(), np.full((2, 3), 2.0))


# ---------------------------------------------------------------------- 4. trace_module


class _Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return self.lin(x).relu()

    def other(self, x, k):
        return self.lin(x) * k + self.lin(k)


def test_trace_module_counts_submodule_calls_across_methods():
    import io
    m = _Two()
    x, y = torch.ones(2, 3), torch.full((2, 3), 2.)
    tm = torch.jit.trace_module(m, {"forward": (x,), "other": (x, y)})   # (checked too)
    # torch 2.13's code, verbatim
    assert tm.other.code == (
        "def other(self,\n    x: Tensor,\n    k: Tensor) -> Tensor:\n"
        "  lin = self.lin\n"
        "  _0 = torch.add(torch.mul((lin).forward1(x, ), k), (lin).forward2(k, ))\n"
        "  return _0\n")
    assert "torch.relu((lin).forward(x, ))" in tm.code
    assert tm.lin.forward2.code == (
        "def forward2(self,\n    k: Tensor) -> Tensor:\n  bias = self.bias\n"
        "  weight = self.weight\n  return torch.linear(k, weight, bias)\n")
    want = m.other(y, x).detach().numpy()
    np.testing.assert_allclose(tm.other(y, x).detach().numpy(), want, rtol=1e-6)
    buf = io.BytesIO()
    torch.jit.save(tm, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    np.testing.assert_allclose(loaded.other(y, x).detach().numpy(), want, rtol=1e-6)
    # the other order: forward's call is the third
    tm2 = torch.jit.trace_module(m, {"other": (x, y), "forward": (x,)})
    assert "torch.relu((lin).forward2(x, ))" in tm2.code


# ---------------------------------------------------------------------- 5. freeze


def test_freeze_removes_the_dropouts_torch_removes():
    m = nn.Sequential(nn.Conv2d(3, 3, 1), nn.Dropout(0.1), nn.AlphaDropout(0.2),
                      nn.Dropout2d(0.3), nn.FeatureAlphaDropout(0.1), nn.ReLU()).eval()
    x = X4[:, :3]
    for t in (_trace(m, x), torch.jit.script(m)):
        f = torch.jit.freeze(t)
        kinds = [n.kind() for n in f.graph.nodes() if n.kind().startswith("aten::")
                 and "dropout" in n.kind()]
        assert kinds == ["aten::alpha_dropout", "aten::feature_alpha_dropout"], kinds
        np.testing.assert_array_equal(f(x).detach().numpy(), m(x).detach().numpy())

    f = torch.jit.freeze(torch.jit.script(_InplaceDrops()).eval())
    assert not [n for n in f.graph.nodes() if "dropout" in n.kind()]
    np.testing.assert_array_equal(f(X3).numpy(), 2 * X3.numpy())


class _InplaceDrops(nn.Module):
    def forward(self, x):
        return F.dropout(x.clone(), 0.5, self.training, True) + \
            F.dropout1d(x.clone(), 0.5, self.training, True)


# ---------------------------------------------------------------------- 6. self's name


class _S(nn.Module):
    def __init__(s):
        super().__init__()
        s.sub = nn.ReLU()

    def forward(s, x):
        return s.sub(x) * 2


def test_scripted_method_prints_its_own_self_name():
    sm = torch.jit.script(_S())
    # torch 2.13, verbatim
    assert sm.code == ("def forward(s,\n    x: Tensor) -> Tensor:\n  sub = s.sub\n"
                       "  return torch.mul((sub).forward(x, ), 2)\n")
    np.testing.assert_array_equal(sm(X3).numpy(), np.maximum(X3.numpy(), 0) * 2)


# ---------------------------------------------------------------------- 7. dropout3d


def test_dropout3d_takes_other_ranks_as_batchless():
    x = torch.tensor(np.arange(1, 25, dtype=np.float32).reshape(2, 3, 4))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.manual_seed(2)
        a = F.dropout3d(x, 0.5, True)
        torch.manual_seed(2)
        b = F.dropout3d(x[0], 0.5, True)
    assert [str(e.message)[:41] for e in w] == [
        "dropout3d: Received a 3-D input to dropou", "dropout3d: Received a 2-D input to dropou"]
    # torch 2.13, torch.manual_seed(2) before each call
    np.testing.assert_array_equal(a.numpy().ravel(), [0.0] * 12 + list(range(26, 50, 2)))
    np.testing.assert_array_equal(b.numpy().ravel(), [0.0] * 4 + [10., 12., 14., 16.]
                                  + [0.0] * 4)
    # whole planes / rows, whatever the draw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(5):
            y = F.dropout3d(torch.ones(6, 5), 0.5, True).numpy()
            assert ((y == 0).all(1) | (y == 2).all(1)).all()


# ---------------------------------------------------------------------- 8. torch.tensor


def test_torch_tensor_in_a_trace_is_recorded_as_torchs():
    def mul(x):
        return x * torch.tensor([1., 2., 3.])

    def mul_grad(x):
        return x * torch.tensor([1., 2., 3.], requires_grad=True)

    def as_t(x):
        return x * torch.as_tensor([1., 2., 3.])

    def ret(x):
        return torch.tensor(x.tolist())

    for fn, kinds in ((mul, ["aten::to", "aten::detach", "aten::mul"]),
                      (mul_grad, ["aten::to", "aten::detach", "aten::mul"]),
                      (as_t, ["aten::to", "aten::mul"])):
        t = _trace(fn, torch.ones(3), check_trace=False)
        assert _kinds(t) == kinds, _kinds(t)
        np.testing.assert_array_equal(t(torch.full((3,), 2.)).detach().numpy(), [2., 4., 6.])
    t = _trace(mul, torch.ones(3))
    assert t.code.splitlines()[1:] == [
        '  _0 = torch.to(CONSTANTS.c0, torch.device("cpu"), 6)',
        "  return torch.mul(x, torch.detach(_0))"]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = torch.jit.trace(ret, (torch.ones(2, 3),), check_trace=False)
    ws = [str(e.message) for e in w if issubclass(e.category, torch.jit.TracerWarning)]
    assert [s[:40] for s in ws] == ["Converting a tensor to a Python list mig",
                                    "torch.tensor results are registered as c"], ws
    assert _kinds(t) == ["aten::to", "aten::detach"]
    np.testing.assert_array_equal(t(torch.zeros(2, 3)).numpy(), np.ones((2, 3)))


# ---------------------------------------------------------------------- 10. module hooks


class _Hooked(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)
        self.b = nn.ReLU()

    def forward(self, x):
        return self.b(self.a(x))


def test_submodule_hooks_are_recorded_in_the_callers_graph():
    m = _Hooked()
    m.a.register_forward_hook(lambda mod, inp, out: out * 2)
    m.b.register_forward_pre_hook(lambda mod, inp: (inp[0] + 1,))
    m.register_forward_hook(lambda mod, inp, out: out - 1)
    x = torch.ones(2, 3)
    t = _trace(m, x)
    kinds = _kinds(t)
    assert kinds.count("prim::CallMethod") == 2 and \
        [k for k in kinds if k.startswith("aten::")] == ["aten::mul", "aten::add", "aten::sub"]
    # torch 2.13: the submodules' methods are their forwards alone
    assert t.a.code.endswith("  return torch.linear(x, weight, bias)\n"), t.a.code
    # (the pre-hook's result reaches ReLU.forward as its `input`, whose name the value
    # takes, as torch 2.13's tracer names it after the innermost Python frame's local)
    assert t.b.code.endswith("    input: Tensor) -> Tensor:\n  return torch.relu(input)\n"), \
        t.b.code
    np.testing.assert_allclose(t(x * 3).detach().numpy(), m(x * 3).detach().numpy(),
                               rtol=1e-6)
