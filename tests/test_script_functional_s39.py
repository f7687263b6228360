"""Session 39 (e39): torch.jit.script applied to torch.nn.functional's functions directly.

Find: `torch.jit.script(F.relu)` raised FrontendError "gpujit has no function '_act'"
(and alike for ~40 F functions: gpujit compiled its own Python adapter's source, whose
helpers scripted code cannot see). torch 2.13 compiles F's Python-level functions into a
ScriptFunction (F.relu's graph branches on `inplace`: aten::relu_ / aten::relu) and
refuses F's C++ builtins with TypeError "<class 'builtin_function_or_method'> is a
built-in class" (F.linear, F.gelu, F.relu_, F.conv2d, ...) and F's @_overload'ed functions
with RuntimeError "Function __torch__.torch.nn.functional.interpolate cannot be directly
compiled because it is overloaded...". gpujit now decides by torch's name
(frontend/script/library_functions.py): builtins refused in torch's words, other functions
compiled as a same-signature function calling them as scripted code does.
"""
import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional

# torch 2.13: torch.jit.script(F.<name>) gives a ScriptFunction
COMPILES = """adaptive_avg_pool2d adaptive_avg_pool3d affine_grid alpha_dropout batch_norm
celu cosine_embedding_loss ctc_loss dropout dropout1d dropout2d dropout3d elu embedding
embedding_bag feature_alpha_dropout fold glu grid_sample group_norm gumbel_softmax
hardsigmoid hardswish hardtanh hinge_embedding_loss instance_norm kl_div layer_norm
leaky_relu local_response_norm log_softmax lp_pool1d lp_pool2d lp_pool3d
margin_ranking_loss max_unpool1d max_unpool2d max_unpool3d mish multi_head_attention_forward
multi_margin_loss multilabel_margin_loss multilabel_soft_margin_loss pad poisson_nll_loss
relu relu6 rms_norm rrelu selu sigmoid silu soft_margin_loss softmax softmin softsign tanh
tanhshrink threshold triplet_margin_loss unfold""".split()

# torch 2.13: TypeError "<class 'builtin_function_or_method'> is a built-in class"
BUILTINS = """adaptive_avg_pool1d avg_pool1d avg_pool2d avg_pool3d bilinear celu_
channel_shuffle conv1d conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d
conv_transpose3d cosine_similarity elu_ gelu hardshrink hardtanh_ leaky_relu_ linear
logsigmoid native_channel_shuffle one_hot pairwise_distance pdist pixel_shuffle
pixel_unshuffle prelu relu_ rrelu_ scaled_dot_product_attention selu_ softplus softshrink
threshold_""".split()


def test_python_level_functions_compile():
    bad = []
    for name in COMPILES:
        try:
            s = torch.jit.script(getattr(F, name))
        except Exception as e:          # noqa: BLE001 - collected for the message
            bad.append(f"{name}: {type(e).__name__}: {str(e).splitlines()[0]}")
            continue
        assert type(s).__name__ == "ScriptFunction", name
    assert not bad, "\n".join(bad)


def test_builtins_refused_as_torch():
    for name in BUILTINS:
        with pytest.raises(TypeError, match="is a built-in class"):
            torch.jit.script(getattr(F, name))


def test_overloaded_refused_as_torch():
    for name in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
        with pytest.raises(Exception, match="cannot be directly compiled because it is "
                                            "overloaded"):
            torch.jit.script(getattr(F, name))


X = [[-1.0, 2.0, -3.0, 0.5]]


def test_relu_inplace_branch():
    s = torch.jit.script(F.relu)
    kinds = [n.kind() for n in s.graph.nodes()]
    assert "prim::If" in kinds
    text = str(s.graph)
    assert "aten::relu_" in text and "aten::relu(" in text
    x = torch.tensor(X)
    y = s(x)
    np.testing.assert_array_equal(y.numpy(), np.maximum(np.array(X), 0))
    np.testing.assert_array_equal(x.numpy(), np.array(X))        # not in place
    s(x, True)
    np.testing.assert_array_equal(x.numpy(), np.maximum(np.array(X), 0))   # in place


def test_values():
    a = np.array(X)
    x = torch.tensor(X)
    np.testing.assert_allclose(torch.jit.script(F.leaky_relu)(x, 0.2).numpy(),
                               np.where(a > 0, a, 0.2 * a), rtol=1e-6)
    e = np.exp(a - a.max())
    np.testing.assert_allclose(torch.jit.script(F.softmax)(x, 1).numpy(),
                               e / e.sum(), rtol=1e-5)
    np.testing.assert_array_equal(torch.jit.script(F.dropout)(x, 0.5, False).numpy(), a)
    np.testing.assert_array_equal(torch.jit.script(F.hardtanh)(x, -0.5, 0.5).numpy(),
                                  np.clip(a, -0.5, 0.5))
    np.testing.assert_array_equal(torch.jit.script(F.threshold)(x, 0.1, 20.0).numpy(),
                                  np.where(a > 0.1, a, 20.0))
    np.testing.assert_allclose(torch.jit.script(F.elu)(x).numpy(),
                               np.where(a > 0, a, np.expm1(a)), rtol=1e-6)
