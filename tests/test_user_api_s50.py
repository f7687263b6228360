"""Session 50, h50: what PyTorch programs import and call, part 2 (torch.testing as a
package, torch.utils.checkpoint's helpers, torch.utils.hooks.BackwardHook, torch._utils,
torch.serialization's names, F._in_projection_packed, torch.nn.attention.bias, ...).
Expected values and message texts are torch 2.13's (CPU build) unless computed here."""
import warnings

import numpy as np

import pytest

import gpujit as torch


# ---- torch.testing is a package: _comparison / _creation --------------------------------

def test_testing_is_a_package_with_comparison_and_creation():
    from gpujit.testing._comparison import (assert_close, not_close_error_metas, ErrorMeta,
                                            default_tolerances, get_tolerances)
    from gpujit.testing._creation import make_tensor
    assert assert_close is torch.testing.assert_close
    assert make_tensor is torch.testing.make_tensor
    assert not_close_error_metas(torch.ones(2), torch.ones(2)) == []
    metas = not_close_error_metas([torch.ones(2)], [torch.zeros(2)])
    assert len(metas) == 1 and isinstance(metas[0], ErrorMeta)
    assert metas[0].type is AssertionError and metas[0].id == (0,)
    err = metas[0].to_error()
    assert isinstance(err, AssertionError)
    assert str(err).startswith("Tensor-likes are not close!")
    assert str(err).endswith("The failure occurred for item [0]")
    assert metas[0].to_error("mine").args == ("mine",)
    assert default_tolerances(torch.ones(2), torch.ones(2, dtype=torch.float16)) == (1e-3, 1e-5)
    assert default_tolerances(torch.float32) == (1.3e-6, 1e-5)
    assert get_tolerances(torch.float64, rtol=None, atol=None) == (1e-7, 1e-7)
    assert get_tolerances(torch.float64, rtol=0.5, atol=0.0) == (0.5, 0.0)
    with pytest.raises(ErrorMeta):
        get_tolerances(torch.float64, rtol=0.5, atol=None)


def test_assert_close_options_and_messages_as_torch():
    # torch 2.13's texts
    with pytest.raises(AssertionError, match=r"^The values for attribute 'stride\(\)' do not "
                       r"match: \(1, 3\) != \(2, 1\)\.$"):
        torch.testing.assert_close(torch.ones(2, 3).t(), torch.ones(3, 2), check_stride=True)
    torch.testing.assert_close(torch.ones(2, 3).t(), torch.ones(3, 2))
    p = torch.nn.Parameter(torch.ones(2))
    torch.testing.assert_close(p, torch.ones(2))
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs of type"):
        torch.testing.assert_close(p, torch.ones(2), allow_subclasses=False)
    torch.testing.assert_close(torch.ones(2).to_sparse(), torch.ones(2), check_layout=False)
    with pytest.raises(AssertionError, match="attribute 'layout' do not match"):
        torch.testing.assert_close(torch.ones(2).to_sparse(), torch.ones(2))
    with pytest.raises(AssertionError) as info:
        torch.testing.assert_close({"a": torch.ones(2)}, {"b": torch.ones(2)})
    assert str(info.value) == ("The keys of the mappings do not match:\nMissing keys in the "
                               "actual mapping: ['b']\nAdditional keys in the actual mapping: "
                               "['a']")


def test_assert_allclose_is_torchs_deprecated_one():
    with pytest.warns(FutureWarning, match=r"`torch.testing.assert_allclose\(\)` is deprecated "
                      r"since 1.12"):
        torch.testing.assert_allclose(torch.ones(2), [1.0, 1.00005])   # float32: rtol 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AssertionError) as info:
            torch.testing.assert_allclose([1., 2.], [1., 2.001])
    assert "(up to 0.0001 allowed)" in str(info.value)
    assert "Mismatched elements: 1 / 2 (50.0%)" in str(info.value)


# ---- torch._utils -------------------------------------------------------------------------

def test_torch_utils_helpers():
    from gpujit._utils import (_flatten_dense_tensors, _unflatten_dense_tensors,
                               _get_device_index, _import_dotted_name, _take_tensors,
                               _rebuild_tensor_v2, _rebuild_parameter, classproperty,
                               ExceptionWrapper)
    assert torch._utils._rebuild_tensor_v2 is _rebuild_tensor_v2
    assert callable(_rebuild_parameter)
    ts = [torch.ones(2, 3), torch.arange(4.).view(2, 2), torch.zeros(0)]
    flat = _flatten_dense_tensors(ts)
    assert flat.tolist() == [1.0] * 6 + [0.0, 1.0, 2.0, 3.0]
    back = _unflatten_dense_tensors(flat, ts)
    assert [tuple(t.shape) for t in back] == [(2, 3), (2, 2), (0,)]
    assert back[1].tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert _get_device_index("cuda:1") == 1 and _get_device_index(3) == 3
    assert _get_device_index(torch.device("cpu"), allow_cpu=True) == -1
    with pytest.raises(ValueError, match="Expected a non cpu device, but got: cpu"):
        _get_device_index("cpu")
    with pytest.raises(ValueError, match="Expected a torch.device with a specified index or "
                       "an integer, but got:cuda"):
        _get_device_index("cuda")
    assert _import_dotted_name("gpujit.nn.Linear") is torch.nn.Linear
    # torch 2.13: chunks of one type up to 80 bytes -> [2, 1, 1]
    chunks = list(_take_tensors([torch.ones(10), torch.ones(10), torch.ones(3, dtype=torch.int64),
                                 torch.ones(10)], 80))
    assert [len(c) for c in chunks] == [2, 1, 1]

    class A:
        @classproperty
        def name(cls):
            return cls.__name__
    assert A.name == "A" and A().name == "A"
    try:
        raise KeyError("k")
    except KeyError:
        w = ExceptionWrapper(where="in here")
    with pytest.raises(KeyError, match="Caught KeyError in here"):
        w.reraise()


# ---- torch.serialization's names ----------------------------------------------------------

def test_serialization_locations_skip_data_and_endianness(tmp_path):
    import io
    S = torch.serialization
    assert S.location_tag(torch.ones(2).untyped_storage()) == "cpu"
    assert S.DEFAULT_PROTOCOL == 2 and issubclass(S.SourceChangeWarning, Warning)
    assert S.get_default_load_endianness() is None
    assert str(S.StorageType("FloatStorage")) == "StorageType(dtype=gpujit.float32)"
    assert S.normalize_storage_type(torch.FloatStorage) is torch.FloatStorage
    s = torch.ones(2).untyped_storage()
    assert S.default_restore_location(s, "cpu") is s
    with pytest.raises(RuntimeError, match=r"don't know how to restore data location of "
                       r"torch.storage.UntypedStorage \(tagged with xla:0\)"):
        S.default_restore_location(s, "xla:0")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA "
                           "device but torch.cuda.is_available\\(\\) is False"):
            S.default_restore_location(s, "cuda:0")
    # skip_data: the file holds the storages' space; loading under it reads no bytes
    b = io.BytesIO()
    with S.skip_data():
        torch.save({"w": torch.arange(6.).view(2, 3), "h": torch.ones(3, dtype=torch.bfloat16)}, b)
    b.seek(0)
    sd = torch.load(b)
    assert sd["w"].tolist() == [[0.0] * 3] * 2 and sd["h"].dtype == torch.bfloat16
    with pytest.raises(RuntimeError, match="Cannot use skip_data=True with "
                       "_use_new_zipfile_serialization=False"):
        with S.skip_data():
            torch.save(torch.ones(2), io.BytesIO(), _use_new_zipfile_serialization=False)
    # a file without a byteorder record: set_default_load_endianness's fallback
    b = io.BytesIO()
    torch.save(torch.arange(3, dtype=torch.int32), b, _disable_byteorder_record=True)
    try:
        S.set_default_load_endianness(S.LoadEndianness.BIG)
        b.seek(0)
        assert torch.load(b).tolist() == [0, 1 << 24, 2 << 24]
        S.set_default_load_endianness(S.LoadEndianness.LITTLE)
        b.seek(0)
        assert torch.load(b).tolist() == [0, 1, 2]
        with pytest.raises(TypeError, match="Invalid argument type in function "
                           "set_default_load_endianness"):
            S.set_default_load_endianness("big")
    finally:
        S.set_default_load_endianness(None)
    # register_package: a deserializer of higher priority sees each storage first
    seen = []

    def deserialize(obj, location):
        seen.append(location)
        return None
    S.register_package(5, lambda obj: None, deserialize)
    try:
        b.seek(0)
        assert torch.load(b).tolist() == [0, 1, 2] and seen == ["cpu"]
    finally:
        from gpujit.serialization import pickled
        pickled._package_registry[:] = [e for e in pickled._package_registry
                                        if e[2] is not deserialize]
    assert S.check_module_version_greater_or_equal(np, (1, 0))
    with S.mkdtemp() as d:
        assert (tmp_path.parent / d).exists()


# ---- F._in_projection_packed / F._in_projection ---------------------------------------------

def test_in_projection_packed_and_in_projection():
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2, 6)).astype(np.float32)
    y = rng.standard_normal((5, 2, 6)).astype(np.float32)
    z = rng.standard_normal((5, 2, 6)).astype(np.float32)
    w = rng.standard_normal((18, 6)).astype(np.float32)
    b = rng.standard_normal(18).astype(np.float32)
    tx, ty, tz, tw, tb = map(torch.tensor, (x, y, z, w, b))
    for args, ref in (((tx, tx, tx), (x, x, x)), ((tx, ty, ty), (x, y, y)),
                      ((tx, ty, tz), (x, y, z))):
        out = F._in_projection_packed(*args, tw, tb)
        assert len(out) == 3
        for i, (o, r) in enumerate(zip(out, ref)):
            np.testing.assert_allclose(o.numpy(), r @ w[6 * i:6 * i + 6].T + b[6 * i:6 * i + 6],
                                       rtol=1e-5, atol=1e-5)
            assert o.is_contiguous()
    q, k, v = F._in_projection(tx, ty[..., :3], tz[..., :4], tw[:6], tw[6:12, :3],
                               tw[12:, :4], tb[:6], None, tb[12:])
    np.testing.assert_allclose(k.numpy(), y[..., :3] @ w[6:12, :3].T, rtol=1e-5, atol=1e-5)
    with pytest.raises(AssertionError, match=r"expecting query weights shape of \(6, 6\), but "
                       r"got gpujit.Size\(\[6, 5\]\)"):
        F._in_projection(tx, tx, tx, tw[:6, :5], tw[:6], tw[:6])
    with pytest.raises(AssertionError, match=r"expecting query bias shape of \(6,\)"):
        F._in_projection(tx, tx, tx, tw[:6], tw[:6], tw[:6], tb[:5])


# ---- torch.nn.attention.bias ------------------------------------------------------------

def test_causal_bias_masks_in_sdpa():
    from gpujit.nn.attention.bias import (causal_lower_right, causal_upper_left, CausalBias,
                                          CausalVariant)
    F = torch.nn.functional
    rng = np.random.default_rng(1)
    q, k, v = (torch.tensor(rng.standard_normal(s).astype(np.float32))
               for s in ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)))
    ul, lr = causal_upper_left(3, 5), causal_lower_right(3, 5)
    assert isinstance(ul, CausalBias) and isinstance(ul, torch.Tensor)
    assert ul.variant is CausalVariant.UPPER_LEFT and (lr.seq_len_q, lr.seq_len_kv) == (3, 5)
    assert ul._materialize().tolist() == np.tril(np.ones((3, 5), bool)).tolist()
    assert lr._materialize().tolist() == np.tril(np.ones((3, 5), bool), 2).tolist()
    assert repr(lr) == repr(lr._materialize())
    for m in (ul, lr):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
        ref = F.scaled_dot_product_attention(q, k, v, attn_mask=m._materialize())
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
    # upper-left is is_causal=True's mask
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=ul).numpy(),
                               F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy(),
                               rtol=1e-6, atol=1e-6)
    with pytest.warns(UserWarning, match="Lower right causal bias will produce NaNs"):
        causal_lower_right(5, 3)
    with pytest.raises(ValueError, match="CausalBias should not be used with causal=True"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=lr, is_causal=True)
    with pytest.raises(AssertionError, match="causal_upper_left only supports 2D tensors"):
        causal_upper_left(3)
    with pytest.raises(AssertionError, match="variant must be a CausalVariant, got int"):
        CausalBias(1, 2, 3)
    qq = q.detach().requires_grad_()
    F.scaled_dot_product_attention(qq, k, v, attn_mask=lr).sum().backward()
    assert qq.grad is not None and qq.grad.shape == q.shape


# ---- torch.utils.checkpoint ---------------------------------------------------------------

def test_checkpoint_recompute_counts_early_stop_and_helpers():
    from gpujit.utils import checkpoint as C
    calls = {"n": 0, "tail": 0}

    def f(x, w):
        calls["n"] += 1
        z = (x * w).sin().exp()
        calls["tail"] += 1
        return z.sum() + 0

    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = torch.tensor([1.5, 0.25, -0.5], requires_grad=True)
    xs, ws = x.detach().numpy(), w.detach().numpy()
    expected = np.exp(np.sin(xs * ws)) * np.cos(xs * ws) * ws
    # torch 2.13: reentrant runs f whole twice; non-reentrant stops the recomputation once
    # every saved tensor is back (early stop: the tail does not run again) unless turned off
    for reentrant, counts in ((True, (2, 2)), (False, (2, 1))):
        calls.update(n=0, tail=0)
        x.grad = None
        C.checkpoint(f, x, w, use_reentrant=reentrant).backward()
        assert (calls["n"], calls["tail"]) == counts
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5)
    calls.update(n=0, tail=0)
    with C.set_checkpoint_early_stop(False):
        out = C.checkpoint(f, x, w, use_reentrant=False)
    out.backward()
    assert (calls["n"], calls["tail"]) == (2, 2)
    # checkpoint_sequential over 4 layers in 2 segments: forward hooks fire 4 times, then
    # the backward recomputes the first segment (reentrant: 2 more; non-reentrant: 1 more,
    # the second layer stopping early before its hook)
    seq = torch.nn.Sequential(*[torch.nn.Linear(4, 4) for _ in range(4)])
    n = [0]
    for layer in seq:
        layer.register_forward_hook(lambda *a: n.__setitem__(0, n[0] + 1))
    inp = torch.ones(2, 4, requires_grad=True)
    for reentrant, total in ((True, 6), (False, 5)):
        n[0] = 0
        C.checkpoint_sequential(seq, 2, inp, use_reentrant=reentrant).sum().backward()
        assert n[0] == total
    d = C.detach_variable((x, 1, w.detach()))
    assert [getattr(t, "requires_grad", None) for t in d] == [True, None, False] and d[0] is not x
    with pytest.raises(RuntimeError, match="Only tuple of tensors is supported. Got "
                       "Unsupported input type: list"):
        C.detach_variable([x])
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        C.check_backward_validity((torch.ones(2), 3))
    assert C.get_device_states(x, w) == ([], [])
    assert C.DefaultDeviceType.get_device_type() == ("cuda" if torch.cuda.is_available()
                                                     else "cpu")
    from gpujit.utils.checkpoint import CheckpointFunction
    out = CheckpointFunction.apply(f, True, x, w)
    assert type(out.grad_fn).__name__ == "CheckpointFunctionBackward"


# ---- torch.utils.hooks.BackwardHook -------------------------------------------------------

def test_backward_hook_class_used_directly():
    from gpujit.utils.hooks import BackwardHook, BackwardHookFunction
    assert BackwardHookFunction.__name__ == "BackwardHookFunction"
    lin = torch.nn.Linear(3, 2)
    seen = []

    def full(m, gi, go):
        seen.append(("full", [tuple(g.shape) for g in gi], [tuple(g.shape) for g in go]))

    def pre(m, go):
        seen.append(("pre", [tuple(g.shape) for g in go]))
        return (go[0] * 2,)

    bh = BackwardHook(lin, [full], [pre])
    x = torch.ones(4, 3, requires_grad=True)
    out = bh.setup_output_hook(lin(*bh.setup_input_hook((x,))))
    assert type(out.grad_fn).__name__ == "BackwardHookFunctionBackward"    # torch 2.13's
    out.sum().backward()
    assert seen == [("pre", [(4, 2)]), ("full", [(4, 3)], [(4, 2)])]
    w = lin.weight.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.tile(2 * w.sum(0), (4, 1)), rtol=1e-6)


# ---- torch.utils._python_dispatch ---------------------------------------------------------

def test_dispatch_mode_stack():
    from gpujit.utils._python_dispatch import (TorchDispatchMode, _get_current_dispatch_mode,
                                               _get_current_dispatch_mode_stack,
                                               _disable_current_modes,
                                               is_in_torch_dispatch_mode)

    class Plain(TorchDispatchMode):
        pass

    class Logging(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    assert _get_current_dispatch_mode() is None and not is_in_torch_dispatch_mode()
    with Plain() as a:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with Logging() as b:
                assert _get_current_dispatch_mode() is b
                assert _get_current_dispatch_mode_stack() == [a, b]
                assert (torch.ones(2) + 1).tolist() == [2.0, 2.0]
                with _disable_current_modes():
                    assert _get_current_dispatch_mode() is None
                assert is_in_torch_dispatch_mode()
        # gpujit's words: no dispatcher below autograd, said once
        assert len(w) == 1 and "__torch_dispatch__ is not called" in str(w[0].message)
        assert _get_current_dispatch_mode() is a
    assert _get_current_dispatch_mode() is None


# ---- torch.nn.attention.flex_attention (torch 2.13's eager, unfused path) -----------------

def _np_attention(q, k, v, scale, keep, mod=None):
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mod is not None:
        s = mod(s)
    s = np.where(keep, s, -np.inf)
    mx = s.max(-1, keepdims=True)
    p = np.exp(s - np.where(np.isfinite(mx), mx, 0))
    den = p.sum(-1, keepdims=True)
    p = np.where(den > 0, p / np.where(den > 0, den, 1), 0)
    lse = np.where(den[..., 0] > 0, np.log(np.where(den[..., 0] > 0, den[..., 0], 1))
                   + np.where(np.isfinite(mx[..., 0]), mx[..., 0], 0), -np.inf)
    return p @ v, lse


def test_flex_attention_score_mod_block_mask_gqa_and_lse():
    from gpujit.nn.attention import flex_attention as FA
    rng = np.random.default_rng(0)
    qn, kn, vn = (rng.standard_normal((2, 2, 8, 4)).astype(np.float32) for _ in range(3))
    q, k, v = map(torch.tensor, (qn, kn, vn))
    scale = 0.5
    causal_keep = np.tril(np.ones((8, 8), bool))

    def causal(b, h, q_idx, kv_idx):
        return q_idx >= kv_idx

    def rel(score, b, h, q_idx, kv_idx):
        return score + (q_idx - kv_idx)

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        FA._WARNINGS_SHOWN.discard("flex_attention_performance")
        out = FA.flex_attention(q, k, v, score_mod=rel, scale=scale)
        FA.flex_attention(q, k, v)
    assert [str(x.message).split(" - ")[0] for x in w] == [
        "flex_attention called without torch.compile()"]        # once, torch's words
    idx = np.arange(8)
    ref, _ = _np_attention(qn, kn, vn, scale, True, lambda s: s + (idx[:, None] - idx[None]))
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)
    bm = FA.create_block_mask(causal, None, None, 8, 8, device="cpu")
    out, aux = FA.flex_attention(q, k, v, block_mask=bm, scale=scale,
                                 return_aux=FA.AuxRequest(lse=True))
    ref, lse = _np_attention(qn, kn, vn, scale, causal_keep)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(aux.lse.numpy(), lse, rtol=1e-5, atol=1e-5)
    assert aux.max_scores is None
    # a document mask indexing a captured tensor; a mask that keeps nothing (zeros, -inf)
    doc = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
    dn = doc.numpy()
    dm = FA.create_block_mask(lambda b, h, qi, ki: doc[qi] == doc[ki], None, None, 8, 8,
                              device="cpu")
    ref, _ = _np_attention(qn, kn, vn, 0.5, dn[:, None] == dn[None])
    np.testing.assert_allclose(FA.flex_attention(q, k, v, block_mask=dm).numpy(), ref,
                               rtol=1e-5, atol=1e-5)
    empty = FA.create_block_mask(lambda b, h, qi, ki: qi < 0, None, None, 8, 8, device="cpu")
    o, aux = FA.flex_attention(q, k, v, block_mask=empty, return_aux=FA.AuxRequest(lse=True))
    assert o.abs().sum().item() == 0 and bool(torch.isneginf(aux.lse).all())
    # GQA: each kv head serves Hq / Hkv query heads; score_mod sees the query head
    kg, vg = kn[:, :1], vn[:, :1]
    o = FA.flex_attention(q, torch.tensor(kg), torch.tensor(vg), enable_gqa=True,
                          score_mod=lambda s, b, h, qi, ki: s * (h + 1))
    for hh in range(2):
        ref, _ = _np_attention(qn[:, hh:hh + 1], kg, vg, 0.5 * (hh + 1), True)
        np.testing.assert_allclose(o[:, hh:hh + 1].numpy(), ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="Try setting enable_gqa=True for GQA"):
        FA.flex_attention(q, torch.tensor(kg), torch.tensor(vg))
    with pytest.raises(ValueError, match=r"block_mask was created for block_mask.shape=\(1, 1, "
                       r"16, 16\) but got q_len=8 and kv_len=8"):
        FA.flex_attention(q, k, v, block_mask=FA.create_block_mask(causal, None, None, 16, 16,
                                                                   device="cpu"))
    with pytest.warns(FutureWarning, match="return_lse is deprecated"):
        FA._WARNINGS_SHOWN.discard("deprecated_return_lse")
        FA.flex_attention(q, k, v, return_lse=True)
    # torch 2.13's CPU refusals
    with pytest.raises(NotImplementedError, match="FlexAttention does not support backward on "
                       "CPU"):
        FA.flex_attention(q.clone().requires_grad_(), k, v)
    with pytest.raises(NotImplementedError, match="Returning max scores is not supported on "
                       "CPU/MPS."):
        FA.flex_attention(q, k, v, return_aux=FA.AuxRequest(max_scores=True))


def test_block_mask_tables_and_printing():
    from gpujit.nn.attention.flex_attention import (create_block_mask, create_mask, and_masks,
                                                    or_masks, noop_mask)

    def causal(b, h, q_idx, kv_idx):
        return q_idx >= kv_idx

    # torch 2.13's tables and text for this mask
    bm = create_block_mask(causal, 2, 1, 256, 384, device="cpu")
    assert bm.shape == (2, 1, 256, 384) and bm.BLOCK_SIZE == (128, 128)
    assert bm.sparsity() == 50.0
    assert bm.kv_num_blocks.tolist() == [[[1, 1]], [[1, 1]]]
    assert bm.kv_indices.tolist() == [[[[0, 1, 2], [1, 0, 2]]]] * 2
    assert bm.full_kv_num_blocks.tolist() == [[[0, 1]], [[0, 1]]]
    assert bm.q_num_blocks.tolist() == [[[1, 1, 0]], [[1, 1, 0]]]
    assert bm.to_dense().tolist() == [[[[1, 0, 0], [1, 1, 0]]]] * 2
    assert str(bm) == ("BlockMask(shape=(2, 1, 256, 384), sparsity=50.00%, \n(0, 0)\n██    \n"
                       "████  \n\n(1, 0)\n██    \n████\n)")
    assert repr(bm).startswith("BlockMask(\n    kv_num_blocks=gpujit.Size([2, 1, 2]),\n")
    assert repr(bm).endswith("    sparsity=50.00%,\n    mask_mod=causal\n)")
    small = create_block_mask(causal, None, None, 8, 8, device="cpu")
    assert small.sparsity() == -25500.0          # (one 128 x 128 block over 64 entries)
    m = create_mask(causal, 1, 1, 4, 4, device="cpu")
    assert m.dtype == torch.bool and m[0, 0].tolist() == np.tril(np.ones((4, 4), bool)).tolist()
    t = torch.tensor
    both = and_masks(causal, lambda b, h, q, kv: kv >= 1)
    either = or_masks(causal, lambda b, h, q, kv: kv >= 3)
    assert both(t(0), t(0), t(2), t(1)).item() and not both(t(0), t(0), t(2), t(0)).item()
    assert either(t(0), t(0), t(2), t(3)).item() and noop_mask(t(0), t(0), t(0), t(1)).item()
    with pytest.raises(RuntimeError, match="All inputs should be callable mask_mods"):
        and_masks(causal, 1)


# ---- torch.jit._recursive / torch.jit.frontend.get_jit_def ---------------------------------

def _scripted_g(x):
    y = x + 1
    return y


class _Stubbed(torch.nn.Module):
    def forward(self, x):
        return self.helper(x)

    def helper(self, x):
        return x * 2

    @torch.jit.export
    def other(self, x):
        return x + 1

    def extra(self, x):
        return x - 1


def test_get_jit_def_and_recursive_stubs():
    from gpujit.jit.frontend import get_jit_def
    from gpujit.jit import _recursive as r
    d = get_jit_def(_scripted_g, "_scripted_g")
    assert d.name().name == "_scripted_g"
    text = str(d.range())
    # torch 2.13's SourceRange text
    assert text.startswith('SourceRange at:\n  File "') and text.endswith(
        "def _scripted_g(x):\n~~~~~~~~~~~~~~~~~~~\n    y = x + 1\n    ~~~~~~~~~\n"
        "    return y\n    ~~~~~~~~ <--- HERE\n")
    stubs = r.infer_methods_to_compile(_Stubbed())
    assert [s.def_.name().name for s in stubs] == ["forward", "other"]
    assert stubs[0]._fields == ("resolution_callback", "def_", "original_method")
    assert stubs[0].resolution_callback("torch") is torch
    assert [s.def_.name().name for s in r.make_stubs_from_exported_methods(_Stubbed())] == \
        ["other"]
    sm = r.create_script_module(_Stubbed(), r.infer_methods_to_compile)
    assert sm(torch.ones(2)).tolist() == [2.0, 2.0] and sm.other(torch.ones(1)).tolist() == [2.0]
    with pytest.raises(RuntimeError, match="Method 'extra' is not defined."):
        r.create_script_module(_Stubbed(), lambda m: [r.make_stub_from_method(m, "extra")])
    assert "_forward_hooks" in r.ignored_attributes


# ---- torch.utils.data.datapipes -----------------------------------------------------------

def _times10(x):
    return x * 10


def test_datapipes_chains_shuffle_seeds_and_dataloader():
    from gpujit.utils.data import DataLoader, IterDataPipe, functional_datapipe, IterableDataset
    from gpujit.utils.data.datapipes.iter import IterableWrapper as W
    from gpujit.utils.data.datapipes.map import SequenceWrapper
    from gpujit.utils.data.datapipes.datapipe import DataChunk
    from gpujit.utils.data.graph_settings import apply_sharding
    with pytest.warns(UserWarning, match="Lambda function is not supported by pickle"):
        dp = W(range(10)).map(lambda x: x * 2).filter(lambda x: x % 3 == 0)
    assert list(dp) == [0, 6, 12, 18] and isinstance(dp, IterableDataset)
    with pytest.raises(TypeError, match="FilterIterDataPipe"):
        len(dp)
    batches = list(W(range(5)).batch(2))
    assert batches == [[0, 1], [2, 3], [4]] and type(batches[0]) is DataChunk
    assert len(W(range(10)).map(_times10).batch(3)) == 4
    assert list(W([(1, 2), (3, 4)]).map(_times10, input_col=1, output_col=-1)) == \
        [(1, 2, 20), (3, 4, 40)]
    assert list(W([{"a": 1}]).map(_times10, input_col="a", output_col="b")) == [{"a": 1, "b": 10}]
    assert [t.tolist() for t in W(range(4)).batch(2).collate()] == [[0, 1], [2, 3]]
    assert list(W([[[1, 2]], [[3]]]).unbatch(unbatch_level=2)) == [1, 2, 3]
    assert list(W(range(5)).mux(W("ab"))) == [0, "a", 1, "b"]
    assert len(W(range(3)).zip(W(range(5)))) == 3 and len(W(range(3)).concat(W(range(5)))) == 8
    with pytest.raises(AssertionError, match="Batch size is required to be larger than 0!"):
        W(range(3)).batch(0)
    m = SequenceWrapper([1, 2, 3]).map(_times10)
    assert m[0] == 10 and len(m) == 3 and list(m) == [10, 20, 30]
    assert SequenceWrapper(range(3)).concat(SequenceWrapper(range(2)))[4] == 1
    # torch 2.13's orders: each iteration's seed drawn from the default generator
    torch.manual_seed(0)
    dp = W(range(10)).shuffle().batch(3)
    assert list(dp) == [[3, 5, 0], [1, 9, 6], [2, 7, 4], [8]]
    assert list(dp) == [[3, 4, 9], [2, 6, 5], [8, 0, 7], [1]]
    torch.manual_seed(0)
    assert list(SequenceWrapper(range(6)).shuffle()) == [4, 5, 3, 0, 2, 1]
    torch.manual_seed(0)
    assert list(W(range(6)).shuffle(buffer_size=3)) == [0, 1, 3, 5, 2, 4]
    assert list(W(range(6)).shuffle().set_seed(1)) == [1, 5, 0, 3, 2, 4]
    assert list(W(range(4)).shuffle().set_shuffle(False)) == [0, 1, 2, 3]
    sf = W(range(10)).sharding_filter()
    apply_sharding(sf, 3, 1)
    assert list(sf) == [1, 4, 7] and len(sf) == 3
    # DataLoader: shuffle=True / None / False set the Shufflers; their seed is shared
    torch.manual_seed(0)
    assert [t.tolist() for t in DataLoader(W(range(6)).shuffle(), batch_size=2, shuffle=True)] \
        == [[4, 0], [3, 5], [2, 1]]
    assert [t.tolist() for t in DataLoader(W(range(6)).shuffle(), batch_size=2)] == \
        [[3, 4], [0, 2], [5, 1]]
    assert [t.tolist() for t in DataLoader(W(range(6)).shuffle(), batch_size=2,
                                           shuffle=False)] == [[0, 1], [2, 3], [4, 5]]

    @functional_datapipe("double_s50")
    class Double(IterDataPipe):
        def __init__(self, dp):
            self.dp = dp

        def __iter__(self):
            for x in self.dp:
                yield 2 * x
    assert list(W(range(3)).double_s50()) == [0, 2, 4]
    with pytest.raises(AttributeError, match="object has no attribute 'nothere"):
        W(range(3)).nothere


def test_datapipe_dataloader_workers_share_seed_and_shard():
    from gpujit.utils.data import DataLoader
    from gpujit.utils.data.datapipes.iter import IterableWrapper as W
    torch.manual_seed(3)
    out = list(DataLoader(W(range(8)).shuffle().sharding_filter().map(_times10),
                          batch_size=None, num_workers=2))
    assert [int(v) for v in out] == [10, 0, 70, 50, 20, 60, 40, 30]       # torch 2.13's


# ---- assert_close of integers, torch.backends.cuda's preferred libraries -----------------

def test_integer_relative_difference_and_preferred_libraries():
    # torch 2.13: an integer tensor's relative difference is divided in float32
    with pytest.raises(AssertionError, match=r"Greatest relative difference: 0.3333333432674408 "
                       r"at index \(1,\)"):
        torch.testing.assert_close(torch.tensor([1, 2]), torch.tensor([1, 3]))
    with pytest.raises(AssertionError, match=r"Relative difference: 0.6666666666666666$"):
        torch.testing.assert_close(torch.tensor(1), torch.tensor(3))
    b = torch.backends.cuda
    lib = b.preferred_linalg_library()
    assert repr(lib) == "<_LinalgBackend.Default: 0>" and str(lib) == "_LinalgBackend.Default"
    assert lib is torch._C._LinalgBackend.Default and int(lib) == 0
    assert repr(b.preferred_blas_library()) == "<_BlasBackend.Cublas: 1>"
    with pytest.raises(RuntimeError, match="Cannot set preferred backend to MAGMA"):
        b.preferred_linalg_library("magma")
    with pytest.raises(RuntimeError, match="Unknown input value type."):
        b.preferred_linalg_library(3)
    with pytest.raises(RuntimeError, match="Unknown input value. Choose from: default, "
                       "cusolver, magma."):
        b.preferred_linalg_library("x")
    assert b.preferred_linalg_library("default") is lib


def test_checkpoint_recomputation_mismatch_message():
    from gpujit.utils.checkpoint import checkpoint, CheckpointError
    x = torch.ones(3, requires_grad=True)
    state = {"n": 0}

    def g(a):
        state["n"] += 1
        return (a.repeat(state["n"]) * 2).sin().sum()

    out = checkpoint(g, x, use_reentrant=False)
    with pytest.raises(CheckpointError) as info:
        out.backward()
    text = str(info.value)
    # torch 2.13's text (its Size / dtype named gpujit's)
    assert text.startswith(
        "torch.utils.checkpoint: Recomputed values for the following tensors have different "
        "metadata than during the forward pass.\ntensor at position 0:\nsaved metadata: "
        "{'shape': gpujit.Size([3]), 'dtype': gpujit.float32, 'device': device(type='cpu')}\n"
        "recomputed metadata: {'shape': gpujit.Size([6]), 'dtype': gpujit.float32, 'device': "
        "device(type='cpu')}\n.\n\nTip: To see a more detailed error message, either pass "
        "`debug=True` to\n")
    assert text.endswith("See https://github.com/pytorch/pytorch/issues/166926 for more "
                         "details and\nworkaround examples.\n")


# ---- torch.utils.weak / torch.utils._contextlib / module registration hooks ---------------

def test_weak_tensor_key_dictionary_and_context_decorators():
    import gc
    from gpujit.utils.weak import WeakTensorKeyDictionary, TensorWeakRef
    from gpujit.utils._contextlib import (_DecoratorContextManager,
                                          _NoParamDecoratorContextManager, context_decorator)
    d = WeakTensorKeyDictionary()
    a, b = torch.ones(2), torch.ones(2)
    d[a], d[b] = 1, 2
    assert (len(d), d[a], d[b], a in d, torch.ones(2) in d) == (2, 1, 2, True, False)
    del a
    gc.collect()
    assert len(d) == 1 and list(d.values()) == [2] and TensorWeakRef(b)() is b
    log = []

    class Mode(_DecoratorContextManager):
        def __enter__(self):
            log.append("in")

        def __exit__(self, *exc):
            log.append("out")

    @Mode()
    def gen():
        log.append(1)
        yield 1
        log.append(2)
        yield 2
    assert list(gen()) == [1, 2]
    assert log == ["in", 1, "out", "in", 2, "out", "in", "out"]     # torch 2.13's order

    class NoParam(_NoParamDecoratorContextManager):
        def __enter__(self):
            log.append("np")

        def __exit__(self, *exc):
            pass

    @NoParam
    def h():
        return 5
    assert h() == 5 and log[-1] == "np"
    with pytest.raises(AssertionError, match="is both callable and also a valid context "
                       "manager"):
        context_decorator(Mode(), h)


def test_module_registration_hooks():
    from gpujit.nn.modules.module import (register_module_buffer_registration_hook,
                                          register_module_module_registration_hook,
                                          register_module_parameter_registration_hook,
                                          _IncompatibleKeys)
    assert _IncompatibleKeys is torch.nn.modules.module._IncompatibleKeys
    log = []
    handles = [register_module_buffer_registration_hook(lambda m, n, b: log.append(("buf", n))),
               register_module_module_registration_hook(lambda m, n, s: log.append(("mod", n))),
               register_module_parameter_registration_hook(lambda m, n, p: log.append(("par", n)))]
    try:
        torch.nn.Sequential(torch.nn.Linear(2, 2))
        m = torch.nn.Module()
        m.x = torch.nn.Parameter(torch.ones(1))
        m.register_buffer("b", torch.ones(1))
        m.b = torch.zeros(1)
        m.register_parameter("n", None)
        m.register_buffer("nb", None)
        # torch 2.13's calls: no parameter hook for None, a buffer hook for None and for
        # assigning an existing buffer
        assert log == [("par", "weight"), ("par", "bias"), ("mod", "0"), ("par", "x"),
                       ("buf", "b"), ("buf", "b"), ("buf", "nb")]
        h = register_module_parameter_registration_hook(
            lambda m, n, p: torch.nn.Parameter(p * 2))
        m2 = torch.nn.Module()
        m2.w = torch.nn.Parameter(torch.ones(1))
        h.remove()
        assert m2.w.tolist() == [2.0] and isinstance(m2.w, torch.nn.Parameter)
    finally:
        for h in handles:
            h.remove()
    n = len(log)
    torch.nn.Linear(1, 1)
    assert len(log) == n


def test_deterministic_mode_fills_uninitialized_memory():
    det = torch.utils.deterministic
    assert det.fill_uninitialized_memory is True
    torch.use_deterministic_algorithms(True)
    try:
        # torch 2.13's fills
        assert np.isnan(torch.empty(3).numpy()).all()
        assert torch.empty(2, dtype=torch.int64).tolist() == [2 ** 63 - 1] * 2
        assert torch.empty(2, dtype=torch.uint8).tolist() == [255, 255]
        assert torch.empty(2, dtype=torch.bool).tolist() == [True, True]
        assert np.isnan(torch.empty_like(torch.ones(2)).numpy()).all()
        assert np.isnan(torch.ones(2).new_empty(2).numpy()).all()
        assert np.isnan(torch.empty_strided((2, 2), (1, 2)).numpy()).all()
        assert np.isnan(torch.empty(2, dtype=torch.bfloat16).float().numpy()).all()
        det.fill_uninitialized_memory = False
        assert det.fill_uninitialized_memory is False
    finally:
        det.fill_uninitialized_memory = True
        torch.use_deterministic_algorithms(False)


def test_sdpa_kernel_backends_on_cpu():
    from gpujit.nn.attention import sdpa_kernel, SDPBackend
    F = torch.nn.functional
    q = torch.ones(1, 2, 4, 8)
    assert str(SDPBackend.FLASH_ATTENTION) == "SDPBackend.FLASH_ATTENTION"
    assert f"{SDPBackend.MATH}" == "SDPBackend.MATH"
    assert repr(SDPBackend.MATH) == "<SDPBackend.MATH: 0>"
    # torch 2.13's CPU build: the math and flash kernels run, the others do not
    for ok in (SDPBackend.FLASH_ATTENTION, SDPBackend.MATH,
               [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]):
        with sdpa_kernel(ok):
            assert F.scaled_dot_product_attention(q, q, q).shape == (1, 2, 4, 8)
    for bad in (SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION):
        with sdpa_kernel(bad):
            with pytest.raises(RuntimeError, match="No viable backend for "
                               "scaled_dot_product_attention was found. This is likely due "
                               "to turning off both the math kernel and the fused kernels."):
                F.scaled_dot_product_attention(q, q, q)

    @torch.jit.script
    def attend(x):
        return F.scaled_dot_product_attention(x, x, x)
    assert attend(q).shape == (1, 2, 4, 8)


def test_inplace_function_is_a_function_with_a_flag():
    from gpujit.autograd.function import InplaceFunction

    class Double(InplaceFunction):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = torch.ones(2, requires_grad=True)
    y = Double.apply(x)
    assert type(y.grad_fn).__name__ == "DoubleBackward"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert InplaceFunction(True).inplace is True and InplaceFunction().inplace is False


def test_frontend_get_default_args():
    from gpujit.jit.frontend import get_default_args

    def f(x, y=2, *, z="a"):
        return x

    assert get_default_args(f) == {"y": 2, "z": "a"} and get_default_args(None) == {}


def test_backends_quantized_engine():
    q = torch.backends.quantized
    assert q.engine == "x86" and q.supported_engines == ["qnnpack", "onednn", "x86", "fbgemm"]
    try:
        q.engine = "qnnpack"
        assert q.engine == "qnnpack"
        with pytest.raises(RuntimeError, match="foo is not a valid value for quantized engine"):
            q.engine = "foo"
        with pytest.raises(RuntimeError, match="quantized engine NoQEngine is not supported"):
            q.engine = "none"
        with pytest.raises(RuntimeError, match="Assignment not supported"):
            q.supported_engines = []
    finally:
        q.engine = "x86"
