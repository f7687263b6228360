"""Session 38 lead finds (checked against torch 2.13; no torch import here).

* float() of a tensor that requires grad warns only with grad mode on, as PyTorch's
  THPVariable_float_scalar (`with torch.no_grad(): float(x)` is silent; so is LBFGS.step,
  which runs under no_grad: pytorch/examples' time_sequence_prediction warned in gpujit).
* The sparse API (pytorch/examples' gcn calls torch.spmm on a dense adjacency matrix):
  torch.spmm / torch.sparse.mm / torch.sparse.addmm of dense operands are mm / addmm;
  torch.sparse_coo & co. exist as layouts (`x.layout == torch.sparse_coo` False) and a
  factory given one refuses it (gpujit's sparse tensors are COO and 2-D CSR, made by to_sparse;
  torch makes a sparse tensor)
  instead of returning a dense tensor; what would make a sparse tensor raises saying so;
  the accessors of a sparse tensor's parts raise PyTorch's errors for a strided tensor.
"""
import pickle
import sys
import warnings

import numpy as np
import pytest

import gpujit as torch

_tensor_mod = sys.modules["gpujit.tensor"]      # (gpujit.tensor is torch.tensor)

FLOAT_WARNING = "Converting a tensor with requires_grad=True to a scalar"


@pytest.fixture
def fresh_float_warning(monkeypatch):
    monkeypatch.setattr(_tensor_mod, "_FLOAT_WARNED", [])


def test_float_of_a_grad_tensor_under_no_grad_does_not_warn(fresh_float_warning):
    x = torch.ones(1, requires_grad=True) * 2
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with torch.no_grad():
            assert float(x) == 2.0
        with torch.inference_mode():
            assert float(x) == 2.0
    assert not [m for m in w if FLOAT_WARNING in str(m.message)]
    with pytest.warns(UserWarning, match=FLOAT_WARNING):
        assert float(x) == 2.0           # (grad mode on: the once-per-process warning)


def test_lbfgs_step_does_not_warn(fresh_float_warning):
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 1).double()
    x = torch.rand(8, 3, dtype=torch.float64)
    y = torch.rand(8, 1, dtype=torch.float64)
    opt = torch.optim.LBFGS(lin.parameters(), lr=0.8)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(lin(x), y)
        loss.backward()
        return loss

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        first = opt.step(closure)
        second = opt.step(closure)
    assert not [m for m in w if FLOAT_WARNING in str(m.message)]
    assert second.item() < first.item()


def test_spmm_and_sparse_mm_of_dense_operands():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    b = np.arange(12.0, dtype=np.float32).reshape(3, 4) / 7
    c = np.ones((2, 4), np.float32)
    A, B, C = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
    np.testing.assert_allclose(torch.spmm(A, B).numpy(), a @ b, rtol=1e-6)
    np.testing.assert_allclose(torch.sparse.mm(A, B).numpy(), a @ b, rtol=1e-6)
    np.testing.assert_allclose(torch.sparse.addmm(C, A, B, beta=0.5, alpha=2.0).numpy(),
                               0.5 * c + 2 * (a @ b), rtol=1e-6)
    Ag = A.clone().requires_grad_()
    r = torch.spmm(Ag, B)
    assert r.grad_fn.name() == "MmBackward0"         # (torch 2.13's)
    r.sum().backward()
    np.testing.assert_allclose(Ag.grad.numpy(), np.ones((2, 4)) @ b.T, rtol=1e-6)
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        torch.spmm(torch.ones(3), B)


def test_sparse_layouts_exist_and_factories_refuse_them():
    x = torch.ones(2, 2)
    assert x.layout is torch.strided and x.layout != torch.sparse_coo
    assert repr(torch.sparse_csr) == "torch.sparse_csr"
    for lay in (torch.sparse_coo, torch.sparse_csr, torch.sparse_csc, torch.sparse_bsr,
                torch.sparse_bsc, torch.strided):
        assert pickle.loads(pickle.dumps(lay)) is lay
    # (zeros / empty / zeros_like with a sparse layout make empty sparse tensors since
    # session 43, full / ones torch's error: tests/test_sparse_s43.py)
    for make in (lambda: torch.ones(2, 2, layout=torch.sparse_csr),
                 lambda: torch.arange(3, layout=torch.sparse_coo),
                 lambda: torch.eye(2, layout=torch.sparse_coo),
                 lambda: torch.rand(2, layout=torch.sparse_coo),
                 lambda: torch.empty_strided((2,), (1,), layout=torch.sparse_coo)):
        with pytest.raises(RuntimeError, match="gpujit's sparse tensors are COO and 2-D CSR"):
            make()
    assert torch.zeros(2, layout=torch.strided).layout is torch.strided


def test_what_would_be_sparse_is_refused_in_words():
    # (x.to_sparse() / to_sparse_coo() / torch.sparse_coo_tensor make sparse COO tensors
    # since session 42: tests/test_sparse_s42.py)
    x = torch.ones(2, 2)
    # (and x.to_sparse_csr() / torch.sparse_csr_tensor 2-D CSR ones since session 43:
    # tests/test_sparse_s43.py; CSC / BSR / BSC ones since session 44: test_sparse_s44.py)
    for call in (lambda: torch.sparse.sum(x),):
        with pytest.raises(RuntimeError, match="gpujit's sparse tensors are COO and 2-D CSR"):
            call()
    # (torch.smm / hspmm of a sparse matrix compute since session 44: tests/test_sparse_s44.py;
    # of a dense one, torch's errors)
    with pytest.raises(RuntimeError, match=r"tensor.sspaddmm\(...\) can only be called on "
                                           "sparse tensors"):
        torch.smm(x, x)
    with pytest.raises(NotImplementedError, match="Could not run 'aten::hspmm' with arguments "
                                                  "from the 'CPU' backend"):
        torch.hspmm(x, x)


def test_sparse_part_accessors_raise_torchs_errors_for_strided_tensors():
    x = torch.ones(2, 3)
    assert x.sparse_dim() == 0 and x.dense_dim() == 2 and x.to_dense() is x
    words = {"indices": "indices expected sparse coordinate tensor layout but got Strided",
             "coalesce": "coalesce expected sparse coordinate tensor layout but got Strided",
             "is_coalesced": "is_coalesced expected sparse coordinate tensor layout",
             "values": "values expected sparse tensor layout but got Strided",
             "crow_indices": "crow_indices expected sparse row compressed tensor layout",
             "col_indices": "col_indices expected sparse row compressed tensor layout",
             "ccol_indices": "ccol_indices expected sparse column compressed tensor layout",
             "row_indices": "row_indices expected sparse column compressed tensor layout"}
    for name, msg in words.items():
        with pytest.raises(RuntimeError, match=msg):
            getattr(x, name)()
    with pytest.raises(NotImplementedError, match="aten::_values"):
        x._values()


class _DropNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(torch.relu(self.lin(x))) + torch.nn.functional.dropout(x, 0.5, True)


def test_traced_training_dropout_draws_a_new_mask_each_call():
    """A trace of a module in training records aten::dropout(x, 0.5, True), as TorchScript's
    tracer: each call draws its own mask (the merged tree's recording composite drew one
    mask while tracing and baked it in as a constant, with a TracerWarning)."""
    torch.manual_seed(0)
    m = _DropNet()
    x = torch.rand(8, 4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = torch.jit.trace(m, (x,), check_trace=False)
    assert not [m_ for m_ in w if issubclass(m_.category, torch.jit.TracerWarning)]
    kinds = [n.kind() for n in t.graph.nodes()]
    assert "aten::dropout" in kinds and "aten::mul" not in kinds
    assert "(drop).forward(" in t.code
    masks = {tuple((t(x) == 0).flatten().tolist()) for _ in range(4)}
    assert len(masks) > 1
    t(x).sum().backward()
    assert m.lin.weight.grad.abs().sum() > 0


class _Causal(torch.nn.Module):
    def __init__(self):
        super().__init__()
        layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
        self.enc = torch.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)

    def forward(self, x, mask):
        return self.enc(x, mask=mask)


def test_library_code_raises_no_tracer_warnings():
    """torch.jit ignores TracerWarnings raised inside torch's Python library
    (TracerWarning.ignore_lib_warnings): nn.TransformerEncoder's causal-mask check,
    bool((mask == causal).all()), warns in no trace of torch 2.13's; gpujit warned at the
    user's line (pytorch/examples' word_language_model TransformerModel). The user's own
    conversions still warn."""
    torch.manual_seed(0)
    m = _Causal().eval()
    mask = torch.log(torch.tril(torch.ones(5, 5)))
    x = torch.rand(5, 2, 8)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.jit.trace(m, (x, mask), check_trace=False)
    assert not [m_ for m_ in w if issubclass(m_.category, torch.jit.TracerWarning)]

    def user(x):
        return x * 2 if bool(x.sum() > 0) else x

    with pytest.warns(torch.jit.TracerWarning, match="Python boolean"):
        torch.jit.trace(user, (torch.ones(2),), check_trace=False)


def test_gpujits_own_constant_warning_is_kept_inside_library_code():
    """The constant warning is gpujit's own (PyTorch has no such words): library code that
    records a constant (a gpujit bug, as dropout's composite once was) still warns; a
    conversion in library code (PyTorch's words) does not."""
    import gpujit.nn.functional as F
    ns = {"torch": torch, "_CONST": torch.ones(2)}
    # (functions whose code lives in gpujit/nn/functional.py, as library code's does)
    exec(compile("def made_here(x):\n    return x + _CONST\n"
                 "def converts(x):\n    return x * 2 if bool(x.sum() > 0) else x\n",
                 F.__file__, "exec"), ns)
    with pytest.warns(torch.jit.TracerWarning, match="did not produce"):
        torch.jit.trace(ns["made_here"], (torch.ones(2),), check_trace=False)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.jit.trace(ns["converts"], (torch.ones(2),), check_trace=False)
    assert not [m_ for m_ in w if issubclass(m_.category, torch.jit.TracerWarning)]
