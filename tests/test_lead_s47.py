"""Session 47 (lead): ATen-level loss bindings refuse a reduction name as torch 2.13's
Python parser does; torch._C._nn's ATen-argument functions."""
import inspect
from typing import List

import numpy as np
import pytest

import gpujit as torch


def _xy():
    x = torch.tensor([[0.5, 1.5, 2.0], [0.25, 3.0, 1.0]])
    y = torch.tensor([[0.2, 0.4, 0.6], [0.8, 0.1, 0.3]])
    return x, y


@pytest.mark.parametrize("call, words", [
    (lambda x, y: torch.kl_div(x, y, "mean"),
     "kl_div(): argument 'reduction' (position 3) must be int, not str"),
    (lambda x, y: torch.kl_div(x, y, reduction="sum"),
     "kl_div(): argument 'reduction' must be int, not str"),
    (lambda x, y: torch.kl_div(x, y, True),
     "kl_div(): argument 'reduction' (position 3) must be int, not bool"),
    (lambda x, y: torch.binary_cross_entropy_with_logits(x, y, None, None, "mean"),
     "binary_cross_entropy_with_logits(): argument 'reduction' (position 5) must be int, "
     "not str"),
    (lambda x, y: torch.hinge_embedding_loss(x, y, 1.0, "mean"),
     "hinge_embedding_loss(): argument 'reduction' (position 4) must be int, not str"),
    (lambda x, y: torch.margin_ranking_loss(x, y, y, 0.0, "sum"),
     "margin_ranking_loss(): argument 'reduction' (position 5) must be int, not str"),
    (lambda x, y: torch.cosine_embedding_loss(x, y, torch.tensor([1., -1.]), 0.0, "none"),
     "cosine_embedding_loss(): argument 'reduction' (position 5) must be int, not str"),
    (lambda x, y: torch.poisson_nll_loss(x, y, True, False, 1e-8, "mean"),
     "poisson_nll_loss(): argument 'reduction' (position 6) must be int, not str"),
    (lambda x, y: torch.triplet_margin_loss(x, y, x, 1.0, 2.0, 1e-6, False, "mean"),
     "triplet_margin_loss(): argument 'reduction' (position 8) must be int, not str"),
    (lambda x, y: torch.hinge_embedding_loss(x, y, 1.0, True),
     "hinge_embedding_loss(): argument 'reduction' (position 4) must be int, not bool"),
])
def test_aten_losses_refuse_reduction_names(call, words):
    x, y = _xy()
    with pytest.raises(TypeError) as e:
        call(x, y)
    assert str(e.value) == words


def test_aten_losses_take_int_reductions_and_f_takes_names():
    x, y = _xy()
    xn, yn = x.numpy().astype(np.float64), y.numpy().astype(np.float64)
    kl = yn * (np.log(yn) - xn)
    np.testing.assert_allclose(torch.kl_div(x, y, 2).item(), kl.sum(), rtol=1e-6)
    np.testing.assert_allclose(torch.kl_div(x, y).numpy(), kl, rtol=1e-6)  # (binding: 0)
    np.testing.assert_allclose(torch.nn.functional.kl_div(x, y, reduction="sum").item(),
                               kl.sum(), rtol=1e-6)
    h = torch.hinge_embedding_loss(x, torch.tensor([[1., -1., 1.], [-1., 1., -1.]]), 1.0, 0)
    np.testing.assert_allclose(h.numpy(), [[0.5, 0.0, 2.0], [0.75, 3.0, 0.0]])


def test_scripted_aten_loss_keeps_int_reduction():
    @torch.jit.script
    def f(x, y):
        return torch.hinge_embedding_loss(x, y, 1.0, 2)

    x, y = _xy()
    t = torch.tensor([[1., -1., 1.], [-1., 1., -1.]])
    assert f(x, t).item() == pytest.approx(6.25)
    assert "TypeError" not in str(f.graph)


def test_c_nn_functions_take_aten_arguments():
    x, y = _xy()
    N = torch._C._nn
    d = (x.numpy().astype(np.float64) - y.numpy()) ** 2
    assert N.mse_loss(x, y, 1).item() == pytest.approx(d.mean(), rel=1e-6)
    assert N.mse_loss(x, y, 2).item() == pytest.approx(d.sum(), rel=1e-6)
    # a reduction left out is 0 there, as torch 2.13's parser reads at::Reduction::Mean
    np.testing.assert_allclose(N.mse_loss(x, y).numpy(), d, rtol=1e-6)
    np.testing.assert_allclose(N.l1_loss(x, y, reduction=0).numpy(), np.sqrt(d), rtol=1e-6)
    np.testing.assert_allclose(N.hardtanh(x, -1.0, 1.0).numpy(), np.clip(x.numpy(), -1, 1))
    np.testing.assert_allclose(N.elu(torch.tensor([-1.0, 2.0])).numpy(),
                               [np.expm1(-1.0), 2.0], rtol=1e-6)
    v, i = N.max_pool2d_with_indices(x.reshape(1, 1, 2, 3), [2, 2])
    assert v.flatten().tolist() == [3.0] and i.flatten().tolist() == [4]


def test_c_nn_matches_torch():
    real = pytest.importorskip("torch")
    for mod in (real, torch):
        mod.manual_seed(0)
    out = []
    for mod in (real, torch):
        mod.manual_seed(0)
        x = mod.randn(2, 3, 4, 4)
        y = mod.rand(2, 3, 4, 4)
        N = mod._C._nn
        out.append([N.mse_loss(x, y, 1), N.mse_loss(x, y), N.smooth_l1_loss(x, y, 0, 1.0),
                    N.adaptive_avg_pool2d(x, [2, 2]), N.upsample_nearest2d(x, [8, 8]),
                    N.pad(x, [1, 1], "constant", 0.0), N.glu(x, 2), N.silu(x)])
    for a, b in zip(*out):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6, atol=1e-7)


def _floordiv_in_place(x: int, y: int):
    x //= y + 1
    return x


def _matmul_in_place(a, b):
    a @= b
    return a


@pytest.mark.parametrize("fn, op, hint", [
    (_floordiv_in_place, "FloorDiv", "x = x // (y + 1)"),
    (_matmul_in_place, "MatMult", "a = a @ b"),
])
def test_augmented_assignment_torchscript_lacks_hints_the_users_statement(fn, op, hint):
    with pytest.raises(torch.jit.frontend.NotSupportedError) as e:
        torch.jit.script(fn)
    text = str(e.value)
    assert f"unsupported kind of augmented assignment: {op}" in text
    assert f"Hint: write it out: {hint}" in text


# ---------------------------------------------------------------- run-time errors show
# the scripted source line (TorchScript's "Traceback of TorchScript"): frames of the
# user's file put in the traceback after the generated code that ran them


def _user_frames(e, path=__file__):
    """[(line, function)] of e's traceback entries in the file `path`, and the formatted
    traceback."""
    import traceback
    out, tb = [], e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            out.append((tb.tb_lineno, tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    return out, "".join(traceback.format_exception(e))


def _scripted_note(e):
    """The formatted traceback of e with its user-file frames after its graph frames;
    asserts the message carries no note and no frame appears twice."""
    assert not getattr(e, "__notes__", None)
    frames, text = _user_frames(e)
    assert len(frames) == len(set(frames)), frames
    return text


def _view_in_branch(y, xs: List[int]):
    if bool(y.sum() > 0):
        z = y.view(xs)
    else:
        z = y
    return z


def _calls_view(x, n: int, xs: List[int]):
    y = x * n
    return _view_in_branch(y, xs) + 1


class _Indexing(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 4)

    def forward(self, x):
        h = self.lin(x)
        return h[:, 10] * 2


@pytest.mark.parametrize("warm", [0, 3])
def test_runtime_error_note_names_the_scripted_line(warm):
    f = torch.jit.script(_calls_view)
    for _ in range(warm):       # (0: the profiling interpreter; 3: generated code)
        assert f(torch.ones(3), 2, [3]).tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(RuntimeError) as e:
        f(torch.ones(3), 2, [4])
    line = inspect.getsourcelines(_view_in_branch)[1] + 2
    call = inspect.getsourcelines(_calls_view)[1] + 2
    # (torch 2.13's interpreter report: a frame per scripted call, then the op's message)
    assert str(e.value) == (
        "The following operation failed in the TorchScript interpreter.\n"
        "Traceback of TorchScript (most recent call last):\n"
        f'  File "{__file__}", line {call}, in _calls_view\n'
        "def _calls_view(x, n: int, xs: List[int]):\n"
        "    y = x * n\n"
        "    return _view_in_branch(y, xs) + 1\n"
        "           ~~~~~~~~~~~~~~~ <--- HERE\n"
        f'  File "{__file__}", line {line}, in _view_in_branch\n'
        "def _view_in_branch(y, xs: List[int]):\n"
        "    if bool(y.sum() > 0):\n"
        "        z = y.view(xs)\n"
        "            ~~~~~~ <--- HERE\n"
        "    else:\n"
        "        z = y\n"
        "RuntimeError: shape '[4]' is invalid for input of size 3\n"), str(e.value)
    text = _scripted_note(e.value)
    frames, _ = _user_frames(e.value)
    # the inlined function's call site first, as TorchScript's inlined call stack; the
    # If around the view is no frame
    assert frames[-2:] == [(call, "_calls_view"), (line, "_view_in_branch")], frames
    assert f'File "{__file__}", line {line}, in _view_in_branch\n' \
           f"    z = y.view(xs)\n        ^^^^^^^^^^^" in text
    assert "return _view_in_branch(y, xs) + 1" in text
    # after the frame of generated code or the interpreter, before the op's own frames
    assert text.index("in _view_in_branch") < text.index("views.py")


@pytest.mark.parametrize("requires_grad", [False, True])
def test_runtime_error_note_in_a_scripted_module(requires_grad):
    m = torch.jit.script(_Indexing())
    x = torch.ones(2, 3, requires_grad=requires_grad)
    with pytest.raises(IndexError) as e:
        m(x)
    assert isinstance(e.value, RuntimeError)
    text = _scripted_note(e.value)
    assert "in forward\n    return h[:, 10] * 2" in text
    with pytest.raises(IndexError) as e2:      # (again: each frame once)
        m(x)
    _scripted_note(e2.value)


def test_no_scripted_frames_for_eager_errors_or_errors_before_the_graph_runs():
    f = torch.jit.script(_calls_view)
    with pytest.raises(RuntimeError) as e:
        f(torch.ones(3), "a", [3])          # (the call's own argument check)
    frames, _ = _user_frames(e.value)
    assert all(name.startswith("test_") for _, name in frames), frames


def test_generated_code_lines_map_to_their_nodes():
    from gpujit.runtime import script_traceback as stb
    f = torch.jit.script(_calls_view)
    for _ in range(3):
        f(torch.ones(3), 2, [3])
    spec = f._get_executable().specializations[-1]
    lines = stb._SOURCE_NODES[spec.filename]().node_lines
    src = spec.source.splitlines()
    kinds = {lines[i].kind for i in lines}
    assert "aten::view" in kinds and "aten::mul" in kinds
    for i, n in lines.items():        # every mapped line is a line of the source
        assert 1 <= i <= len(src)
    view_lines = [src[i - 1] for i, n in lines.items() if n.kind == "aten::view"]
    assert any("view" in s for s in view_lines), view_lines


class _GatesThenIndex(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 4)

    def forward(self, x, i: int):
        h = torch.tanh(self.lin(x)) * 2 + 1
        return h.sigmoid()[:, i]


@pytest.mark.parametrize("requires_grad", [False, True])
def test_runtime_error_note_after_warm_up_of_a_module_with_parameters(requires_grad):
    # (parameters that require grad: the executor's recording plan runs the nodes)
    m = torch.jit.script(_GatesThenIndex())
    x = torch.ones(2, 3, requires_grad=requires_grad)
    for _ in range(4):
        m(x, 1)
    with pytest.raises(IndexError) as e:
        m(x, 10)
    text = _scripted_note(e.value)
    assert "in forward\n    return h.sigmoid()[:, i]" in text


def _traced_add(x, y):
    z = x * 2
    return z + y


def test_runtime_error_note_of_a_traced_function_underlines_the_statement():
    t = torch.jit.trace(_traced_add, (torch.ones(2, 3), torch.ones(2, 3)))
    for _ in range(3):
        t(torch.ones(2, 3), torch.ones(2, 3))
    with pytest.raises(RuntimeError) as e:
        t(torch.ones(2, 3), torch.ones(2, 4))
    assert "must match the size of tensor b (4)" in str(e.value)
    text = _scripted_note(e.value)
    line = inspect.getsourcelines(_traced_add)[1] + 2
    assert f'File "{__file__}", line {line}, in _traced_add\n    return z + y\n' in text


def _raises_itself(n: int):
    if n > 3:
        raise ValueError("n too big: " + str(n))
    return n


def test_a_raise_in_scripted_code_is_a_frame_too():
    f = torch.jit.script(_raises_itself)
    with pytest.raises(ValueError) as e:
        f(5)
    assert 'raise ValueError' in str(e.value) and "Traceback of TorchScript" in str(e.value)
    frames, _ = _user_frames(e.value)
    line = inspect.getsourcelines(_raises_itself)[1] + 2
    assert frames[-1] == (line, "_raises_itself"), frames
