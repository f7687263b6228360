"""User programs of session 48 (f48): realistic scripts (char-RNN, VAE, U-Net block, GCN,
decoder with a kv-cache, policy gradient, beam search ...) run with gpujit and, where torch
is importable, compared with torch 2.13. Expected values are also pinned by hand / NumPy so
that the tests run without torch (CI has none)."""
import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
import gpujit.nn.functional as F


def _torch():
    return pytest.importorskip("torch")


# ------------------------------------------------- U-Net up block: pad then cat, traced

def _pad_cat(lib):
    F_ = lib.nn.functional

    def up_merge(x1, x2):
        dx = x2.size(3) - x1.size(3)
        x1 = F_.pad(x1, [dx // 2, dx - dx // 2])
        return lib.cat([x2, x1], dim=1)
    return lib.jit.trace(up_merge, (lib.ones(1, 1, 3, 3), lib.ones(1, 2, 3, 5)))


def test_trace_names_the_tensors_of_a_list_argument_after_their_locals():
    # torch's tracer names a value after the local holding it when an op uses it, the
    # tensors of a Tensor[] too: the padded x1 is %x1 (the argument it reassigns %x1.1)
    tr = _pad_cat(gpujit)
    g = str(tr.graph)
    assert "= aten::pad(%x1.1," in g
    assert "prim::ListConstruct(%x2, %x1)" in g
    assert tr.code.splitlines()[-2:] == ["  x10 = torch.pad(x1, [_2, int(_3)])",
                                         "  return torch.cat([x2, x10], 1)"]
    out = tr(gpujit.ones(1, 1, 3, 2), gpujit.zeros(1, 2, 3, 4))
    assert out.shape == (1, 3, 3, 4)
    assert out[0, 2].tolist() == [[0.0, 1.0, 1.0, 0.0]] * 3


def test_trace_list_argument_names_match_torch():
    torch = _torch()
    assert _pad_cat(gpujit).code == _pad_cat(torch).code


# ------------------------------- losses traced: `int reduction=Mean` is a default of 1

def _losses(lib):
    F_ = lib.nn.functional

    def losses(a, t):
        return F_.cross_entropy(a, t) + F_.nll_loss(a, t) + F_.cross_entropy(a, t,
                                                                            reduction="sum")
    return lib.jit.trace(losses, (lib.arange(12.).reshape(3, 4) / 7, lib.tensor([0, 1, 3])))


def test_traced_code_leaves_a_mean_reduction_out():
    # the schemas' `int reduction=Mean` is at::Reduction::Mean (1): TorchScript's printer
    # leaves the trailing default out (gpujit printed `cross_entropy_loss(a, t, None, 1)`)
    tr = _losses(gpujit)
    code = tr.code
    assert "torch.cross_entropy_loss(a, t)" in code
    assert "torch.nll_loss_nd(a, t)" in code
    assert "torch.cross_entropy_loss(a, t, None, 2)" in code
    a = np.arange(12.).reshape(3, 4) / 7
    ls = a - np.log(np.exp(a).sum(1, keepdims=True))
    picked = -ls[[0, 1, 2], [0, 1, 3]]
    nll = -a[[0, 1, 2], [0, 1, 3]]
    assert abs(tr(gpujit.tensor(a, dtype=gpujit.float32), gpujit.tensor([0, 1, 3])).item()
               - (picked.mean() + nll.mean() + picked.sum())) < 1e-5


def test_traced_losses_code_matches_torch():
    torch = _torch()
    assert _losses(gpujit).code == _losses(torch).code


# ----------------------- autocast on the CPU: norm layers keep float32 parameters

def _bf16_bits(t):
    return t.float().numpy().view(np.int32).tolist()


def test_bfloat16_input_with_float_norm_parameters_stays_bfloat16():
    # ATen's CPU layer_norm / group_norm / batch_norm run a bfloat16 input with float32
    # parameters as a "mixed type" call: computed in float, rounded once to bfloat16
    # (gpujit gave float32: nn.LayerNorm after a Linear under autocast changed dtype)
    x = gpujit.linspace(-2, 2, 16).reshape(2, 8)
    w, b = gpujit.linspace(0.5, 1.5, 8), gpujit.linspace(-0.1, 0.1, 8)
    xb = x.to(gpujit.bfloat16)
    y = F.layer_norm(xb, (8,), w, b)
    assert y.dtype is gpujit.bfloat16
    a = xb.float().numpy().astype(np.float64)
    ref = (a - a.mean(1, keepdims=True)) / np.sqrt(a.var(1, keepdims=True) + 1e-5) \
        * w.numpy() + b.numpy()
    np.testing.assert_allclose(y.float().numpy(), ref, rtol=2 ** -8, atol=1e-3)
    assert F.group_norm(xb.reshape(2, 4, 2), 2, w[:4], b[:4]).dtype is gpujit.bfloat16
    rm, rv = gpujit.zeros(8), gpujit.ones(8)
    z = F.batch_norm(xb, rm, rv, w, b, training=True)
    assert z.dtype is gpujit.bfloat16 and rm.dtype is gpujit.float32
    np.testing.assert_allclose(rm.numpy(), 0.1 * xb.float().numpy().mean(0), rtol=1e-6)
    # autocast: Linear gives bfloat16, the LayerNorm after it keeps it
    m = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8))
    with gpujit.autocast("cpu", dtype=gpujit.bfloat16):
        assert m(gpujit.ones(2, 4)).dtype is gpujit.bfloat16
    # ATen's checks: a float input with bfloat16 parameters, parameters of two dtypes
    with pytest.raises(RuntimeError, match=r"^mixed dtype \(CPU\): expect parameter to have "
                                           r"scalar type of Float$"):
        F.layer_norm(x, (8,), w.bfloat16(), b.bfloat16())
    with pytest.raises(RuntimeError, match="^expected scalar type BFloat16 but found Float$"):
        F.layer_norm(xb, (8,), w.bfloat16(), b)
    with pytest.raises(RuntimeError, match=r"^mixed dtype \(CPU\): expect parameter"):
        F.batch_norm(xb, rm.bfloat16(), rv.bfloat16(), w, b)


def test_bfloat16_mixed_norms_match_torch():
    torch = _torch()
    for lib in (gpujit, torch):
        x = lib.linspace(-2, 2, 16).reshape(2, 8).to(lib.bfloat16)
        w, b = lib.linspace(0.5, 1.5, 8), lib.linspace(-0.1, 0.1, 8)
        outs = [lib.nn.functional.layer_norm(x, (8,), w, b),
                lib.nn.functional.layer_norm(x, (8,), w),
                lib.nn.functional.group_norm(x.reshape(2, 4, 2), 2, w[:4], b[:4]),
                lib.nn.functional.batch_norm(x, w * 0, w, w, b),
                lib.nn.functional.batch_norm(x, w * 0, w + 0, w, b, training=True)]
        got = [(str(o.dtype).split(".")[1], _bf16_bits(o)) for o in outs]
        if lib is gpujit:
            mine = got
    assert mine == got


# --------------------- RMSNorm of a half-precision input with a float32 weight (LLaMA-style)

def _rms_cases(lib):
    x = lib.linspace(-2, 2, 16).reshape(2, 8)
    w = lib.linspace(0.5, 1.5, 8)
    return [(x.to(lib.bfloat16), w), (x.to(lib.float16), w), (x.to(lib.bfloat16), w.double()),
            (x.to(lib.float16), w.bfloat16()), (x, w.double())]


def test_rms_norm_multiplies_a_weight_of_another_dtype_before_rounding():
    # ATen's composite path (a weight of another dtype) keeps x * rsqrt(mean(x^2) + eps)
    # in float and multiplies the weight before rounding once to the input's dtype
    # (gpujit rounded x * rsqrt first: -0.90234375 where torch gives -0.90625)
    gpujit.set_warn_always(True)
    try:
        for x, w in _rms_cases(gpujit):
            with pytest.warns(UserWarning) as rec:
                y = F.rms_norm(x, (8,), w)
            assert y.dtype is x.dtype
            a = x.double().numpy()
            ref = a / np.sqrt((a * a).mean(1, keepdims=True) + np.finfo(np.float32).eps) \
                * w.double().numpy()
            if x.dtype is gpujit.float32:
                np.testing.assert_allclose(y.numpy(), ref, rtol=1e-6)
                continue
            want = gpujit.tensor(ref, dtype=gpujit.float64).to(x.dtype)
            assert np.array_equal(y.double().numpy(), want.double().numpy()), (x.dtype, w.dtype)
        assert str(rec[0].message) == (
            "Mismatch dtype between input and weight: input dtype = float, weight dtype = "
            "double, Cannot dispatch to fused implementation.")
        with pytest.warns(UserWarning, match="input dtype = c10::BFloat16, weight dtype = "
                                             "float,"):
            F.rms_norm(gpujit.ones(2, 8, dtype=gpujit.bfloat16), (8,), gpujit.ones(8))
    finally:
        gpujit.set_warn_always(False)
    x = gpujit.linspace(-2, 2, 16).reshape(2, 8).bfloat16()
    assert F.rms_norm(x, (8,), gpujit.linspace(0.5, 1.5, 8))[0, 1].item() == -0.90625


def test_rms_norm_mixed_dtypes_match_torch():
    torch = _torch()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for (x, w), (tx, tw) in zip(_rms_cases(gpujit), _rms_cases(torch)):
            y, ty = F.rms_norm(x, (8,), w), torch.nn.functional.rms_norm(tx, (8,), tw)
            assert str(y.dtype) == str(ty.dtype).replace("torch", "gpujit")
            assert y.double().numpy().tolist() == ty.double().numpy().tolist()


# ---------------- a scripted beam search: `beams = []` in the loop body takes beams' type

def _beam_search_source():
    return '''
from typing import List, Tuple
import {lib} as torch


def beam_search(logits: torch.Tensor, beam: int, eos: int) -> List[Tuple[float, List[int]]]:
    beams: List[Tuple[float, List[int]]] = [(0.0, [0])]
    finished: List[Tuple[float, List[int]]] = []
    for t in range(logits.size(0)):
        lp = torch.log_softmax(logits[t], dim=-1)
        cand: List[Tuple[float, int, int]] = []
        for b in range(len(beams)):
            top_v, top_i = lp.topk(beam)
            for k in range(beam):
                cand.append((beams[b][0] + float(top_v[k].item()), b, int(top_i[k].item())))
        cand.sort(reverse=True)
        old = beams
        beams = []
        for score, b, tok in cand[:beam]:
            seq = old[b][1] + [tok]
            if tok == eos:
                finished.append((score, seq))
            else:
                beams.append((score, seq))
        if len(beams) == 0:
            break
    for sb in beams:
        finished.append(sb)
    return finished
'''


def _beam_search(lib, tmp_path):
    import importlib.util
    path = tmp_path / f"beam_{lib.__name__}.py"
    path.write_text(_beam_search_source().replace("{lib}", lib.__name__))
    spec = importlib.util.spec_from_file_location(f"beam_{lib.__name__}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return lib.jit.script(mod.beam_search)


_LOGITS = [[0.1, 2.0, 0.3, 1.5], [1.0, 0.2, 3.0, 0.1], [0.6, 0.4, 0.3, 2.5]]


def _beam_reference(beam, eos):
    lp = np.log(np.exp(np.array(_LOGITS, np.float32)) /
                np.exp(np.array(_LOGITS, np.float32)).sum(1, keepdims=True))
    beams, finished = [(0.0, [0])], []
    for row in lp:
        top = np.argsort(-row)[:beam]
        cand = sorted(((s + float(row[k]), b, int(k)) for b, (s, _) in enumerate(beams)
                       for k in top), reverse=True)[:beam]
        old, beams = beams, []
        for s, b, k in cand:
            (finished if k == eos else beams).append((s, old[b][1] + [k]))
        if not beams:
            break
    return [(round(s, 4), q) for s, q in finished + beams]


def test_scripted_beam_search_reassigns_an_empty_list_in_its_loop(tmp_path):
    # TorchScript types `beams = []` in a loop body from the loop-carried beams (a List of
    # tuples); gpujit typed it List[Tensor] and refused the program ("previously had type")
    bs = _beam_search(gpujit, tmp_path)
    got = bs(gpujit.tensor(_LOGITS), 2, 3)
    assert [(round(s, 4), q) for s, q in got] == _beam_reference(2, 3)
    assert "beams1 = annotate(List[Tuple[float, List[int]]], [])" in bs.code


def test_scripted_beam_search_matches_torch(tmp_path):
    torch = _torch()
    got = _beam_search(gpujit, tmp_path)(gpujit.tensor(_LOGITS), 2, 3)
    want = _beam_search(torch, tmp_path)(torch.tensor(_LOGITS), 2, 3)
    assert [(round(s, 5), q) for s, q in got] == [(round(s, 5), q) for s, q in want]


# --------------- a scripted classifier counting its predictions: self.counts[i] += 1

class _Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("counts", gpujit.zeros(4, dtype=gpujit.long))

    def forward(self, pred: gpujit.Tensor) -> gpujit.Tensor:
        for i in range(pred.size(0)):
            self.counts[pred[i]] += 1
            self.counts[0] += 1
        return self.counts


def test_augmented_assignment_to_an_attribute_element_writes_through_the_view():
    # TorchScript: `torch.add_(torch.select(counts, 0, 0), 1)` alone (the select is a view
    # of the buffer); gpujit read self.counts again for the target and, not seeing one
    # tensor, copied the sum back (`counts0 = self.counts; torch.copy_(...)`)
    m = gpujit.jit.script(_Counter())
    assert m(gpujit.tensor([1, 3, 3])).tolist() == [3, 1, 0, 2]
    code = m.code
    assert "torch.add_(torch.select(counts0, 0, 0), 1)" in code
    assert "copy_" not in code.split("counts0 = self.counts")[1]
    assert code.count("copy_") == 0 or "index_put_" in code


def test_augmented_assignment_to_an_attribute_element_matches_torch():
    torch = _torch()

    class Counter(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("counts", torch.zeros(4, dtype=torch.long))

        def forward(self, pred: torch.Tensor) -> torch.Tensor:
            for i in range(pred.size(0)):
                self.counts[pred[i]] += 1
                self.counts[0] += 1
            return self.counts

    assert gpujit.jit.script(_Counter()).code == torch.jit.script(Counter()).code


# ---------------------------- an ensemble forking its members, traced (check_trace on)

def _ensemble(lib):
    class Member(lib.nn.Module):
        def __init__(self, k: float):
            super().__init__()
            self.k = k
            self.lin = lib.nn.Linear(3, 2)

        def forward(self, x):
            return lib.tanh(self.lin(x) * self.k)

    class Ensemble(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.members = lib.nn.ModuleList([Member(float(i + 1)) for i in range(3)])

        def forward(self, x):
            futs = [lib.jit.fork(m, x) for m in self.members]
            return lib.stack([lib.jit.wait(f) for f in futs]).mean(0)

    e = Ensemble()
    with lib.no_grad():
        for i, p in enumerate(e.parameters()):
            p.copy_(lib.cos(lib.arange(p.numel()).float() + i).reshape(p.shape) * 0.5)
    return e


def test_traced_fork_passes_the_trace_check():
    # the check retraces under no_grad: the forks' Future[Float(2, 2, requires_grad=1)]
    # types kept their shapes when the graphs were compared without shapes, so gpujit
    # raised "Graphs differed across invocations" (torch compares Future[Tensor])
    e = _ensemble(gpujit)
    x = gpujit.tensor([[1.0, -1.0, 0.5], [0.2, 0.3, -0.7]])
    tr = gpujit.jit.trace(e, (x,))
    xs = x.numpy().astype(np.float64)
    want = np.mean([np.tanh((xs @ m.lin.weight.detach().numpy().T + m.lin.bias.detach().numpy())
                            * m.k) for m in e.members], axis=0)
    np.testing.assert_allclose(tr(x).detach().numpy(), want, rtol=1e-5, atol=1e-6)
    assert str(tr.graph).count("prim::fork()") == 3


def test_traced_fork_matches_torch():
    torch = _torch()
    x = [[1.0, -1.0, 0.5], [0.2, 0.3, -0.7]]
    got = gpujit.jit.trace(_ensemble(gpujit), (gpujit.tensor(x),))(gpujit.tensor(x))
    want = torch.jit.trace(_ensemble(torch), (torch.tensor(x),))(torch.tensor(x))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)


# ------------------- custom autograd.Functions inside a traced model keep their backward

def _custom_fn_net(lib):
    class ClampGrad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, lo: float, hi: float):
            ctx.save_for_backward(x)
            ctx.lo, ctx.hi = lo, hi
            return x.clamp(lo, hi)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ((x >= ctx.lo) & (x <= ctx.hi)), None, None

    class ScaleGrad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, s):
            ctx.s = s
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            return g * ctx.s, None

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 3)

        def forward(self, x):
            h = ClampGrad.apply(self.lin(x), -0.5, 0.5)
            return ScaleGrad.apply(h, 2.0).sum(-1)

    net = Net()
    with lib.no_grad():
        net.lin.weight.copy_(lib.tensor([[1., 0., -1.], [0.5, 0.5, 0.5], [-1., 2., 0.]]))
        net.lin.bias.zero_()
    return net


_X = [[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]]


def _traced_grads(lib):
    net = _custom_fn_net(lib)
    tr = lib.jit.trace(net, (lib.tensor(_X),))
    y = tr(lib.tensor(_X))
    y.sum().backward()
    return y, net.lin.weight.grad, tr


def test_trace_records_a_custom_function_as_one_python_call():
    # torch's trace holds one PythonOp per Function.apply (^ScaleGrad(2.0)(%x)), which runs
    # the Function at run time: its backward gives the gradient. gpujit recorded the ops
    # its forward ran (view_as, clamp) and differentiated those: the gradient of the
    # traced model was half (ScaleGrad's 2 lost) and clamp's derivative replaced ClampGrad's
    y, grad, tr = _traced_grads(gpujit)
    h = np.array(_X) @ np.array([[1., 0., -1.], [0.5, 0.5, 0.5], [-1., 2., 0.]]).T
    np.testing.assert_allclose(y.detach().numpy(), np.clip(h, -0.5, 0.5).sum(-1), rtol=1e-6)
    inside = (h >= -0.5) & (h <= 0.5)
    np.testing.assert_allclose(grad.numpy(), (2 * inside).T @ np.array(_X), rtol=1e-6)
    g = str(tr.graph)
    assert 'prim::PythonOp[name="ClampGrad"]' in g and 'prim::PythonOp[name="ScaleGrad"]' in g
    assert "aten::clamp" not in g and "aten::view_as" not in g


def test_trace_of_custom_functions_matches_torch_gradients():
    torch = _torch()
    y, grad, _ = _traced_grads(gpujit)
    ty, tgrad, _ = _traced_grads(torch)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(grad.numpy(), tgrad.numpy(), rtol=1e-6)


# ---------------- a transformer encoder with a causal float mask and a bool padding mask

def _mismatch_warning(lib):
    import warnings
    layer = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    enc = lib.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
    x = lib.ones(2, 5, 8)
    pad = lib.tensor([[False, False, False, True, True], [False] * 5])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        enc(x, mask=lib.nn.Transformer.generate_square_subsequent_mask(5),
            src_key_padding_mask=pad)
    w = [r for r in rec if "mismatched" in str(r.message)]
    return str(w[0].message), w[0].filename.replace("\\", "/").split("/")[-3:]


def test_canonical_mask_warns_at_its_callers_line():
    # F._canonical_mask's warning is PyTorch's stacklevel=2: it names the line of the module
    # that called it (nn/modules/transformer.py), not the line of the warn in functional
    msg, where = _mismatch_warning(gpujit)
    assert msg == ("Support for mismatched src_key_padding_mask and mask is deprecated. Use "
                   "same type for both instead.")
    assert where[-3:] == ["nn", "modules", "transformer.py"]


def test_canonical_mask_warning_matches_torch():
    torch = _torch()
    assert _mismatch_warning(gpujit) == _mismatch_warning(torch)


# ------------------ example_kwarg_inputs holding a number: torch's kwargs words

_KW_VALUES = [2.0, 3, "a", [1, 2], None, True]


def _kwarg_trace_errors(lib):
    class Head(lib.nn.Module):
        def forward(self, x, scale=None):
            return x

    out = []
    for v in _KW_VALUES:
        with pytest.raises(RuntimeError) as e:
            lib.jit.trace(Head(), example_kwarg_inputs={"x": lib.ones(2), "scale": v},
                          strict=False)
        out.append(str(e.value))
    return out


def test_trace_with_kwarg_inputs_refuses_a_number_in_torchs_words():
    # gpujit said "Type 'Tuple[Tensor, float]' cannot be traced ..." (the words of a
    # positional example), torch 2.13 names the first leaf that is no tensor
    head = "Only tensors or (possibly nested) dict or tuples of tensors can be inputs to " \
           "traced functions. Got "
    assert _kwarg_trace_errors(gpujit) == [
        head + t for t in ("float", "int", "str", "int", "NoneType", "bool")]
    with pytest.raises(RuntimeError, match=r"^Type 'Tuple\[Tensor, float\]' cannot be traced"):
        gpujit.jit.trace(lambda x, s: x, (gpujit.ones(2), 2.0))


def test_trace_kwarg_input_errors_match_torch():
    torch = _torch()
    assert _kwarg_trace_errors(gpujit) == _kwarg_trace_errors(torch)


# ---------------- set_printoptions(sci_mode=False) on values that would print scientific

def _printed(lib):
    out = []
    try:
        for sci in (False, True):
            lib.set_printoptions(precision=2, sci_mode=sci)
            out += [repr(lib.tensor([1e-5, 123.456, 1e5])), repr(lib.tensor([1e-5, 1.5])),
                    repr(lib.tensor([1.0, 2.0, 1e9]))]
    finally:
        lib.set_printoptions(profile="default")
    return [s.replace("torch", "gpujit") for s in out]


def test_forced_sci_mode_measures_the_width_of_the_forced_format():
    # PyTorch's _Formatter applies set_printoptions(sci_mode=) before measuring the widths;
    # gpujit measured the scientific strings and padded the fixed ones to them
    assert _printed(gpujit) == [
        "tensor([     0.00,    123.46, 100000.00])", "tensor([0.00, 1.50])",
        "tensor([         1.,          2., 1000000000.])",
        "tensor([1.00e-05, 1.23e+02, 1.00e+05])", "tensor([1.00e-05, 1.50e+00])",
        "tensor([1.00e+00, 2.00e+00, 1.00e+09])"]


def test_forced_sci_mode_printing_matches_torch():
    torch = _torch()
    assert _printed(gpujit) == _printed(torch)


# ---------------------------------- a lambda scripted, or as a scripted module's hook

class _Plain(nn.Module):
    def forward(self, x):
        return x


def test_a_lambda_is_refused_in_torchs_words_also_as_a_hook():
    # gpujit: "gpujit.script cannot compile a lambda" / a hook's annotation complaint
    fn = lambda x: x + 1  # noqa: E731
    line = fn.__code__.co_firstlineno
    with pytest.raises(RuntimeError, match=f"^Expected a single top-level function: "
                                           f".*test_user_programs_s48.py:{line}"):
        gpujit.jit.script(fn)
    m = _Plain()
    m.register_forward_pre_hook(lambda mod, i: i)
    with pytest.raises(RuntimeError, match="^Expected a single top-level function: .*"
                                           "test_user_programs_s48.py:[0-9]+"):
        gpujit.jit.script(m)


def test_a_scripted_lambda_error_matches_torch():
    torch = _torch()
    fn = lambda x: x + 1  # noqa: E731
    msgs = []
    for lib in (gpujit, torch):
        with pytest.raises(RuntimeError) as e:
            lib.jit.script(fn)
        msgs.append(str(e.value).splitlines()[0])
    assert msgs[0] == msgs[1]


# --------------- a checkpoint holding a config object: weights_only and its allowlist

class _Config:
    def __init__(self, n):
        self.n = n


def test_weights_only_load_allowlists_globals_as_torch():
    # torch.serialization.add_safe_globals / safe_globals (torch 2.6+) were missing, and
    # the refusal had gpujit's own words
    import io
    import pickle
    buf = io.BytesIO()
    gpujit.save({"cfg": _Config(3), "w": gpujit.ones(2)}, buf)
    data = buf.getvalue()
    path = f"{__name__}._Config"
    with pytest.raises(pickle.UnpicklingError) as e:
        gpujit.load(io.BytesIO(data))
    msg = str(e.value)
    assert msg.startswith("Weights only load failed. This file can still be loaded")
    assert f"Unsupported global: GLOBAL {path} was not an allowed global by default. " \
           f"Please use `torch.serialization.add_safe_globals([{path}])`" in msg
    with gpujit.serialization.safe_globals([_Config]):
        assert gpujit.load(io.BytesIO(data))["cfg"].n == 3
    assert gpujit.serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        gpujit.load(io.BytesIO(data))
    gpujit.serialization.add_safe_globals([(_Config, path)])
    try:
        assert gpujit.load(io.BytesIO(data))["w"].tolist() == [1.0, 1.0]
    finally:
        gpujit.serialization.clear_safe_globals()


def test_weights_only_refusal_matches_torch():
    torch = _torch()
    import io
    msgs = []
    for lib in (gpujit, torch):
        buf = io.BytesIO()
        lib.save({"cfg": _Config(3)}, buf)
        buf.seek(0)
        with pytest.raises(Exception) as e:
            lib.load(buf)
        msgs.append((type(e.value).__name__, str(e.value)))
    assert msgs[0] == msgs[1]


# ----------------------------------- an old-style byte mask: ATen's deprecation warning

def _byte_mask_run(lib):
    import warnings
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        x = lib.arange(6.).reshape(2, 3)
        m = lib.tensor([[1, 0, 1], [0, 1, 0]], dtype=lib.uint8)
        picked = x[m]
        put = x.index_put((m,), lib.tensor([7., 8., 9.]))
    # (torch's text ends with "(Triggered internally at <ATen file>)")
    return picked.tolist(), put.tolist(), [
        (r.category.__name__, str(r.message).split(" (Triggered internally")[0], r.lineno)
        for r in rec]


def test_indexing_with_a_byte_mask_warns_as_aten():
    picked, put, warned = _byte_mask_run(gpujit)
    assert picked == [0.0, 2.0, 4.0]
    assert put == [[7.0, 1.0, 8.0], [3.0, 9.0, 5.0]]
    assert [w[:2] for w in warned] == [("UserWarning", "indexing with dtype torch.uint8 is now "
                                        "deprecated, please use a dtype torch.bool instead.")] * 2


def test_byte_mask_warning_matches_torch():
    torch = _torch()
    assert _byte_mask_run(gpujit) == _byte_mask_run(torch)


# ------------------------------------------- recurrent layers given a 4-D input

def _rnn_dim_errors(lib):
    out = []
    for m in (lib.nn.RNN(4, 3), lib.nn.GRU(4, 3), lib.nn.LSTM(4, 3)):
        with pytest.raises(ValueError) as e:
            m(lib.ones(2, 3, 4, 1))
        out.append(str(e.value))
    return out


def test_recurrent_layers_refuse_a_4d_input_in_torchs_words():
    # torch 2.13 words GRU's and LSTM's "got 4D instead", RNN's "got 4D tensor instead";
    # gpujit's GRU said "tensor" too
    assert _rnn_dim_errors(gpujit) == [
        "RNN: Expected input to be 2D or 3D, got 4D tensor instead",
        "GRU: Expected input to be 2D or 3D, got 4D instead",
        "LSTM: Expected input to be 2D or 3D, got 4D instead"]
    sg = gpujit.jit.script(nn.GRU(4, 3))
    with pytest.raises(ValueError, match="\nbuiltins.ValueError: GRU: Expected input to be "
                                         "2D or 3D, got 4D instead\n$"):
        sg(gpujit.ones(2, 3, 4, 1))


def test_recurrent_dim_errors_match_torch():
    torch = _torch()
    assert _rnn_dim_errors(gpujit) == _rnn_dim_errors(torch)
