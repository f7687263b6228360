"""gpujit.nn.functional behaviour the OpInfos do not cover: running statistics, dropout
statistics, PyTorch's Python-level argument handling, compositions, and that convolution
is vectorized."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F
from gpujit.testing import assert_close

rng = np.random.default_rng(7)


def T(a):
    return gpujit.from_numpy(np.ascontiguousarray(a))


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------- batch norm

def test_batch_norm_training_updates_running_stats_in_place():
    x = randn(8, 3, 4, 5)
    rm, rv = T(np.full(3, 0.5, np.float32)), T(np.full(3, 2.0, np.float32))
    rm_arr, rv_arr = rm._data, rv._data
    out = F.batch_norm(T(x), rm, rv, training=True, momentum=0.2)
    mean = x.astype(np.float64).mean(axis=(0, 2, 3))
    unbiased = x.astype(np.float64).var(axis=(0, 2, 3), ddof=1)
    assert rm._data is rm_arr and rv._data is rv_arr          # updated in place
    assert_close(rm, (0.8 * 0.5 + 0.2 * mean).astype(np.float32), rtol=1e-5, atol=1e-6)
    assert_close(rv, (0.8 * 2.0 + 0.2 * unbiased).astype(np.float32), rtol=1e-5, atol=1e-6)
    # (torch 2.13: ATen's kernel writes them without a version bump)
    assert rm._version == 0 and rv._version == 0
    # the output is normalized with the batch's biased variance
    biased = x.astype(np.float64).var(axis=(0, 2, 3))
    expected = (x - mean[None, :, None, None]) / np.sqrt(biased[None, :, None, None] + 1e-5)
    assert_close(out, expected.astype(np.float32), rtol=1e-4, atol=1e-5)


def test_batch_norm_eval_uses_running_stats_and_leaves_them():
    x = randn(4, 3)
    rm, rv = randn(3), np.abs(randn(3)) + 0.5
    rm_t, rv_t = T(rm.copy()), T(rv.copy())
    w, b = randn(3), randn(3)
    out = F.batch_norm(T(x), rm_t, rv_t, T(w), T(b), training=False, eps=1e-3)
    assert_close(out, ((x - rm) / np.sqrt(rv + 1e-3) * w + b).astype(np.float32),
                 rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(rm_t.numpy(), rm)
    np.testing.assert_array_equal(rv_t.numpy(), rv)


def test_batch_norm_training_without_running_stats_and_single_value_error():
    x = randn(5, 2)
    out = F.batch_norm(T(x), None, None, training=True)
    assert_close(out, ((x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)).astype(np.float32),
                 rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when "
                                         "training, got input size"):
        F.batch_norm(T(randn(1, 3)), None, None, training=True)


def test_scripted_batch_norm_leaves_out_optional_tensors():
    """A wrapper's None default for the schema's required `Tensor?` argument is passed as
    None: F.batch_norm(x, rm, rv, training=True) scripted left weight/bias out and failed
    with "missing argument 'weight'"."""
    @gpujit.jit.script
    def f(a, rm, rv):
        return F.batch_norm(a, rm, rv, training=True)

    x = randn(4, 3, 5)
    rm, rv = T(np.zeros(3, np.float32)), T(np.ones(3, np.float32))
    erm, erv = T(np.zeros(3, np.float32)), T(np.ones(3, np.float32))
    assert_close(f(T(x), rm, rv), F.batch_norm(T(x), erm, erv, training=True))
    assert_close(rv, erv)
    # (torch's body: a CallFunction, the op in the inlined graph)
    assert "prim::CallFunction" in str(f.graph)
    assert "aten::batch_norm" in str(f.inlined_graph)


def test_batch_norm_running_var_of_single_value_per_channel_is_nan():
    # aten::batch_norm itself (F.batch_norm refuses): 0/0 unbiased variance, as PyTorch
    rv = T(np.ones(2, np.float32))
    gpujit.batch_norm(T(randn(1, 2, 1)), None, None, T(np.zeros(2, np.float32)), rv, True,
                      0.1, 1e-5, True)
    assert np.isnan(rv.numpy()).all()


# ---------------------------------------------------------------------- dropout

def test_dropout_statistics():
    gpujit.manual_seed(0)
    x = T(np.ones((200, 100), np.float32))
    for p in (0.1, 0.5, 0.8):
        y = F.dropout(x, p).numpy()
        kept = y != 0
        assert abs((1 - kept.mean()) - p) < 0.02
        np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6, atol=1e-6)
        assert abs(y.mean() - 1) < 0.05                       # unbiased in expectation
    np.testing.assert_array_equal(x.numpy(), 1)              # input untouched


def test_dropout_eval_is_identity_and_masks_differ_between_calls():
    x = T(randn(10, 10))
    assert F.dropout(x, 0.5, training=False) is x
    a, b = F.dropout(x, 0.5).numpy(), F.dropout(x, 0.5).numpy()
    assert ((a == 0) != (b == 0)).any()
    assert not F.dropout(x, 1.0).numpy().any()
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x.numpy())


def test_dropout_seeded_is_reproducible():
    x = T(np.ones((50, 50), np.float32))
    gpujit.manual_seed(123)
    a = F.dropout(x, 0.3).numpy()
    gpujit.manual_seed(123)
    np.testing.assert_array_equal(F.dropout(x, 0.3).numpy(), a)


def test_dropout_inplace_and_errors():
    x = T(np.ones((40, 40), np.float32))
    arr = x._data
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and x._data is arr and x._version == 1
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, "
                                         "but got -0.1"):
        F.dropout(x, -0.1)


# ---------------------------------------------------------------------- cross entropy

def test_cross_entropy_equals_log_softmax_plus_nll_loss():
    x, t = T(randn(6, 5)), T(rng.integers(0, 5, 6))
    w = T(np.abs(randn(5)) + 0.1)
    for kw in ({}, {"weight": w}, {"reduction": "sum"}, {"reduction": "none"},
               {"ignore_index": 2}):
        assert_close(F.cross_entropy(x, t, **kw), F.nll_loss(F.log_softmax(x, 1), t, **kw),
                     rtol=1e-5, atol=1e-6)
    x4, t4 = T(randn(2, 3, 4, 5)), T(rng.integers(0, 3, (2, 4, 5)))
    assert_close(F.cross_entropy(x4, t4), F.nll_loss(F.log_softmax(x4, 1), t4),
                 rtol=1e-5, atol=1e-6)


def test_cross_entropy_probability_targets_match_one_hot_indices():
    x, t = T(randn(4, 3)), rng.integers(0, 3, 4)
    probs = T(np.eye(3, dtype=np.float32)[t])
    assert_close(F.cross_entropy(x, probs), F.cross_entropy(x, T(t)), rtol=1e-5, atol=1e-6)
    assert_close(F.cross_entropy(x, probs, label_smoothing=0.2),
                 F.cross_entropy(x, T(t), label_smoothing=0.2), rtol=1e-5, atol=1e-6)


def test_cross_entropy_stable_for_large_logits():
    x = T(np.array([[1000.0, 0.0, -1000.0]], np.float32))
    assert_close(F.cross_entropy(x, T(np.array([0]))), np.float32(0.0), atol=1e-6, rtol=0)
    assert_close(F.cross_entropy(x, T(np.array([1]))), np.float32(1000.0))


def test_loss_reduction_arguments():
    a, b = T(randn(3, 4)), T(randn(3, 4))
    full = F.mse_loss(a, b, reduction="none").numpy()
    assert_close(F.mse_loss(a, b), np.float32(full.mean()), rtol=1e-6, atol=1e-7)
    assert_close(F.mse_loss(a, b, reduction="sum"), np.float32(full.sum()), rtol=1e-6, atol=1e-6)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        s = F.mse_loss(a, b, size_average=False)
    assert_close(s, np.float32(full.sum()), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="batch is not a valid value for reduction"):
        F.l1_loss(a, b, reduction="batch")
    with pytest.warns(UserWarning, match="Using a target size"):
        F.mse_loss(a, T(randn(4)))


def test_kl_div_batchmean_and_bce_shape_checks():
    lp = T(np.log(np.full((4, 5), 0.2, np.float32)))
    q = np.abs(randn(4, 5)) + 0.1
    q /= q.sum(1, keepdims=True)
    total = (q * (np.log(q) - np.log(0.2))).sum()
    assert_close(F.kl_div(lp, T(q), reduction="batchmean"), np.float32(total / 4), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="that is different to the input size"):
        F.binary_cross_entropy(T(np.full((2, 3), 0.5, np.float32)),
                               T(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match=r"Target size \(.*\) must be the same as input size"):
        F.binary_cross_entropy_with_logits(T(randn(2, 3)), T(randn(3)))


def test_bce_with_logits_is_stable_and_matches_bce_of_sigmoid():
    x = T(np.array([-200.0, -3.0, 0.0, 2.5, 200.0], np.float32))
    t = T(np.array([1.0, 0.0, 0.5, 1.0, 0.0], np.float32))
    out = F.binary_cross_entropy_with_logits(x, t, reduction="none").numpy()
    assert np.isfinite(out).all()
    assert_close(out[[0, 4]], np.array([200.0, 200.0], np.float32))
    sig = 1 / (1 + np.exp(-x.numpy()[1:4].astype(np.float64)))
    ref = F.binary_cross_entropy(T(sig.astype(np.float32)), T(t.numpy()[1:4]),
                                 reduction="none")
    assert_close(T(out[1:4]), ref, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- adapters

def test_max_pool2d_return_indices_and_default_stride():
    x = T(randn(1, 2, 6, 6))
    v = F.max_pool2d(x, 2)
    v2, idx = F.max_pool2d(x, 2, return_indices=True)
    assert tuple(v.shape) == (1, 2, 3, 3) and idx.dtype is gpujit.int64
    assert_close(v, v2)
    flat = x.numpy().reshape(1, 2, 36)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(1, 2, 9), 2),
                                  v.numpy().reshape(1, 2, 9))


def test_embedding_padding_idx_and_max_norm():
    w = T(randn(6, 3) * 5)
    idx = T(np.array([[0, 2], [2, 5]]))
    out = F.embedding(idx, w, padding_idx=-1, max_norm=1.0)
    norms = np.linalg.norm(w.numpy(), axis=1)
    assert (norms[[0, 2, 5]] <= 1.0 + 1e-5).all()               # renormalized in place
    assert_close(out, w.numpy()[idx.numpy()])
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(idx, w, padding_idx=6)


def test_normalize():
    x = randn(3, 4)
    x[1] = 0
    out = F.normalize(T(x), dim=1)
    expected = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    assert_close(out, expected, rtol=1e-5, atol=1e-6)
    out1 = F.normalize(T(x), p=1.0, dim=0)
    assert_close(out1, x / np.maximum(np.abs(x).sum(0, keepdims=True), 1e-12), rtol=1e-5,
                 atol=1e-6)


def test_pad_same_and_conv_padding_overloads_dispatch():
    x, w = T(randn(1, 2, 5, 5)), T(randn(3, 2, 3, 3))
    assert tuple(F.conv2d(x, w, padding="same").shape) == (1, 3, 5, 5)
    assert tuple(F.conv2d(x, w, None, 1, "valid").shape) == (1, 3, 3, 3)
    assert_close(F.conv2d(x, w, padding="same"), F.conv2d(x, w, padding=1), rtol=1e-5,
                 atol=1e-5)
    assert_close(F.conv2d(x, w, padding=1), F.conv2d(F.pad(x, (1, 1, 1, 1)), w), rtol=1e-5,
                 atol=1e-5)
    assert tuple(gpujit.conv1d(T(randn(2, 4, 7)), T(randn(5, 4, 2)), padding="same").shape) \
        == (2, 5, 7)


def test_one_hot_and_cosine_similarity_bindings():
    oh = F.one_hot(T(np.array([0, 2])))
    assert oh.dtype is gpujit.int64 and oh.tolist() == [[1, 0, 0], [0, 0, 1]]
    a, b = T(randn(3, 4)), T(randn(3, 4))
    assert_close(gpujit.cosine_similarity(a, b), F.cosine_similarity(a, b))


# ---------------------------------------------------------------------- speed sanity

def test_conv2d_is_vectorized():
    # 8x16x32x32 input, 32x16x3x3 weight: vectorized im2col + matmul finishes in well
    # under a second (a Python loop over the 8*32*32*32 outputs would take minutes)
    x, w, b = T(randn(8, 16, 32, 32)), T(randn(32, 16, 3, 3)), T(randn(32))
    out = F.conv2d(x, w, b, padding=1)
    out2 = F.conv2d(x, w, b, stride=2)
    assert tuple(out.shape) == (8, 32, 32, 32) and tuple(out2.shape) == (8, 32, 15, 15)
    # spot check one output position against the definition
    xp = np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = (xp[3, :, 10:13, 20:23] * w.numpy()[7]).sum() + b.numpy()[7]
    assert abs(out.numpy()[3, 7, 10, 20] - ref) < 1e-3


@pytest.mark.parametrize("shape, dim", [((3,), 0), ((2, 3), 1), ((2, 3, 4), 0),
                                        ((2, 3, 4, 5), 1)])
def test_softmax_without_dim_picks_pytorchs_dim_and_warns(shape, dim):
    import warnings
    x = gpujit.rand(*shape)
    for name in ("softmax", "log_softmax", "softmin"):
        fn = getattr(F, name)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            got = fn(x)
        want = fn(x, dim)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
        assert [str(m.message) for m in w] == [
            f"Implicit dimension choice for {name} has been deprecated. Change the call to "
            f"include dim=X as an argument."]
        assert w[0].filename == __file__         # points at the caller, as PyTorch's


def _implicit_softmax(x):
    return F.softmax(x) * 2 + F.log_softmax(x, -1)


def test_scripted_softmax_without_dim_fuses_around_and_warns_each_call():
    import warnings
    s = gpujit.jit.script(_implicit_softmax)
    x = gpujit.rand(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _implicit_softmax(x)
    for _ in range(3):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            got = s(x)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
        assert len(w) == 1 and "Implicit dimension choice for softmax" in str(w[0].message)
