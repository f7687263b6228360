"""Session 42: whisper-like programs (openai/whisper's model.py, decoding.py, timing.py run
under gpujit with tiny random weights) and what they showed.

* Normalization parameters of another dtype than the input: PyTorch's rule (ATen's
  is_mixed_type / check_mixed_data_type) for layer_norm, group_norm, batch_norm and
  instance_norm: the first given parameter decides; if it has the input's dtype, each
  other must too ("expected scalar type Float but found Double"); else the run is mixed:
  float32 parameters ("mixed dtype (CPU): expect parameter to have scalar type of Float")
  and a float16 input ("mixed dtype (CPU): all inputs must share same datatype.") only.
  gpujit computed layer_norm / group_norm of any mix (Whisper(dims).double() on a float32
  input: torch raises in its LayerNorm, gpujit answered) and refused batch_norm's float16
  input with float16 weights and float32 running stats the wrong way round.

Tests compare with NumPy/hand-written values; the *_torch tests with PyTorch 2.13 when it
is importable.
"""
import itertools
import warnings

import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional


def _real_torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ normalization dtypes
PARAM_ERR = "mixed dtype \\(CPU\\): expect parameter to have scalar type of Float"
INPUT_ERR = "mixed dtype \\(CPU\\): all inputs must share same datatype."


@pytest.mark.parametrize("norm", ["layer", "group"])
def test_norm_parameter_dtypes(norm):
    def run(x, w=None, b=None):
        if norm == "layer":
            return F.layer_norm(x, (4,), w, b)
        return F.group_norm(x.reshape(2, 4, 1), 2, w, b)

    f16, f32, f64 = torch.float16, torch.float32, torch.float64
    x32 = torch.arange(8.).reshape(2, 4)
    w64, b64 = torch.ones(4, dtype=f64), torch.zeros(4, dtype=f64)
    with pytest.raises(RuntimeError, match=PARAM_ERR):
        run(x32, w64, b64)                     # (whisper's model.double() on a float input)
    with pytest.raises(RuntimeError, match=PARAM_ERR):
        run(x32, None, torch.zeros(4, dtype=f16))
    with pytest.raises(RuntimeError, match=INPUT_ERR):
        run(x32.double(), torch.ones(4), torch.zeros(4))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        run(x32, torch.ones(4), b64)
    with pytest.raises(RuntimeError, match="expected scalar type Half but found Float"):
        run(x32.half(), torch.ones(4, dtype=f16), torch.zeros(4))
    # what is allowed: the input's dtype, or float32 parameters of a float16 input
    assert run(x32.half(), torch.ones(4), torch.zeros(4)).dtype is f16
    assert run(x32.half(), torch.ones(4), None).dtype is f16
    r = run(x32.double(), w64, b64)
    assert r.dtype is f64
    xs = np.arange(8.).reshape(2, 4) if norm == "layer" else np.arange(8.).reshape(2, 2, 2)
    ref = (xs - xs.mean(-1, keepdims=True)) / np.sqrt(xs.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(r.numpy().reshape(-1), ref.reshape(-1), rtol=1e-12)
    for a, b in itertools.product((f32,), (f32, None)):
        assert run(x32, torch.ones(4, dtype=a), None if b is None else
                   torch.zeros(4, dtype=b)).dtype is f32


def test_batch_norm_parameter_dtypes():
    x16 = torch.ones(2, 4, dtype=torch.float16)
    rm, rv = torch.zeros(4), torch.ones(4)
    # float16 weights with float32 running stats: the weight decides, stats must match it
    with pytest.raises(RuntimeError, match="expected scalar type Half but found Float"):
        F.batch_norm(x16, rm, rv, torch.ones(4, dtype=torch.float16))
    assert F.batch_norm(x16, rm, rv, torch.ones(4), torch.zeros(4)).dtype is torch.float16
    with pytest.raises(RuntimeError, match=INPUT_ERR):
        F.batch_norm(torch.ones(2, 4, dtype=torch.float64), rm, rv)
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.batch_norm(torch.ones(2, 4), rm, rv, torch.ones(4), torch.zeros(4, dtype=torch.float64))


def test_norm_parameter_dtypes_match_torch():
    real = _real_torch()

    def table(mod):
        Fm = mod.nn.functional
        dts = [mod.float16, mod.float32, mod.float64, None]
        rows = []
        for xd, wd, bd in itertools.product(dts[:3], dts, dts):
            x = mod.ones(2, 4, dtype=xd)
            w = None if wd is None else mod.ones(4, dtype=wd)
            b = None if bd is None else mod.zeros(4, dtype=bd)
            for f in (lambda: Fm.layer_norm(x, (4,), w, b),
                      lambda: Fm.group_norm(x.reshape(2, 4, 1), 2, w, b),
                      lambda: Fm.batch_norm(x, mod.zeros(4), mod.ones(4), w, b),
                      lambda: Fm.batch_norm(x, None, None, w, b, training=True),
                      lambda: Fm.instance_norm(x.reshape(2, 4, 1).expand(2, 4, 3), None,
                                               None, w, b)):
                try:
                    rows.append(str(f().dtype).split(".")[-1])
                except RuntimeError as e:
                    rows.append(str(e))
        return rows

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert table(torch) == table(real)


# ------------------------------------------------------------------ a whisper-like decoder
def _whisper_like(tm):
    """Whisper's MultiHeadAttention / ResidualAttentionBlock / TextDecoder, small, written
    against the module `tm` (gpujit or torch): the kv-cache is filled by forward hooks on
    the key / value Linears (Whisper.install_kv_cache_hooks), cross-attention reads it."""
    nn, Fm = tm.nn, tm.nn.functional

    class MultiHeadAttention(nn.Module):
        def __init__(self, n_state, n_head, sdpa):
            super().__init__()
            self.n_head, self.sdpa = n_head, sdpa
            self.query = nn.Linear(n_state, n_state)
            self.key = nn.Linear(n_state, n_state, bias=False)
            self.value = nn.Linear(n_state, n_state)
            self.out = nn.Linear(n_state, n_state)

        def forward(self, x, xa=None, mask=None, kv_cache=None):
            q = self.query(x)
            if kv_cache is None or xa is None or self.key not in kv_cache:
                k = self.key(x if xa is None else xa)
                v = self.value(x if xa is None else xa)
            else:
                k, v = kv_cache[self.key], kv_cache[self.value]
            n_batch, n_ctx, n_state = q.shape
            scale = (n_state // self.n_head) ** -0.25
            q = q.view(*q.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
            k = k.view(*k.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
            v = v.view(*v.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
            if self.sdpa:
                a = Fm.scaled_dot_product_attention(q, k, v,
                                                    is_causal=mask is not None and n_ctx > 1)
                return self.out(a.permute(0, 2, 1, 3).flatten(start_dim=2))
            qk = (q * scale) @ (k * scale).transpose(-1, -2)
            if mask is not None:
                qk = qk + mask[:n_ctx, :n_ctx]
            w = Fm.softmax(qk.float(), dim=-1).to(q.dtype)
            return self.out((w @ v).permute(0, 2, 1, 3).flatten(start_dim=2))

    class Block(nn.Module):
        def __init__(self, n_state, n_head, sdpa):
            super().__init__()
            self.attn = MultiHeadAttention(n_state, n_head, sdpa)
            self.attn_ln = nn.LayerNorm(n_state)
            self.cross_attn = MultiHeadAttention(n_state, n_head, sdpa)
            self.cross_attn_ln = nn.LayerNorm(n_state)
            self.mlp = nn.Sequential(nn.Linear(n_state, 4 * n_state), nn.GELU(),
                                     nn.Linear(4 * n_state, n_state))
            self.mlp_ln = nn.LayerNorm(n_state)

        def forward(self, x, xa, mask=None, kv_cache=None):
            x = x + self.attn(self.attn_ln(x), mask=mask, kv_cache=kv_cache)
            x = x + self.cross_attn(self.cross_attn_ln(x), xa, kv_cache=kv_cache)
            return x + self.mlp(self.mlp_ln(x))

    class Decoder(nn.Module):
        def __init__(self, n_vocab=11, n_ctx=8, n_state=12, n_head=3, n_layer=2, sdpa=True):
            super().__init__()
            self.token_embedding = nn.Embedding(n_vocab, n_state)
            self.positional_embedding = nn.Parameter(tm.empty(n_ctx, n_state))
            self.blocks = nn.ModuleList([Block(n_state, n_head, sdpa) for _ in range(n_layer)])
            self.ln = nn.LayerNorm(n_state)
            mask = tm.empty(n_ctx, n_ctx).fill_(-np.inf).triu_(1)
            self.register_buffer("mask", mask, persistent=False)
            heads = tm.zeros(n_layer, n_head, dtype=tm.bool)
            heads[n_layer // 2:] = True
            self.register_buffer("alignment_heads", heads.to_sparse(), persistent=False)

        def forward(self, x, xa, kv_cache=None):
            offset = next(iter(kv_cache.values())).shape[1] if kv_cache else 0
            x = self.token_embedding(x) + self.positional_embedding[offset:offset + x.shape[-1]]
            x = x.to(xa.dtype)
            for block in self.blocks:
                x = block(x, xa, mask=self.mask, kv_cache=kv_cache)
            x = self.ln(x)
            return (x @ tm.transpose(self.token_embedding.weight.to(x.dtype), 0, 1)).float()

        def install_kv_cache_hooks(self):
            cache, hooks = {}, []

            def save_to_cache(module, _, output):
                if module not in cache or output.shape[1] > 8:
                    cache[module] = output          # first token, or cross attention
                else:
                    cache[module] = tm.cat([cache[module], output], dim=1).detach()
                return cache[module]

            def install_hooks(layer):
                if isinstance(layer, MultiHeadAttention):
                    hooks.append(layer.key.register_forward_hook(save_to_cache))
                    hooks.append(layer.value.register_forward_hook(save_to_cache))

            self.apply(install_hooks)
            return cache, hooks

    return Decoder


def _decode_steps(tm, sdpa, state=None):
    """Greedy decoding with the kv-cache hooks, 5 steps, and the full run's logits."""
    tm.manual_seed(0)
    dec = _whisper_like(tm)(sdpa=sdpa)
    for p in dec.parameters():
        if p.dim() == 2:
            tm.nn.init.normal_(p, std=0.5)
    if state is not None:
        dec.load_state_dict(state)
    xa = tm.from_numpy(np.sin(np.arange(2 * 10 * 12, dtype=np.float32) / 7).reshape(2, 10, 12))
    tokens = tm.tensor([[1, 2], [3, 4]])
    cache, hooks = dec.install_kv_cache_hooks()
    steps = []
    with tm.no_grad():
        logits = dec(tokens, xa, kv_cache=cache)
        for _ in range(5):
            steps.append(logits[:, -1].numpy().copy())
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            tokens = tm.cat([tokens, nxt], dim=-1)
            logits = dec(tokens[:, -1:], xa, kv_cache=cache)
        for h in hooks:
            h.remove()
        full = dec(tokens[:, :-1], xa).numpy()
    return dec, tokens.numpy(), np.stack(steps), full


@pytest.mark.parametrize("sdpa", [True, False])
def test_whisper_like_kv_cache_decoding(sdpa):
    dec, tokens, steps, full = _decode_steps(torch, sdpa)
    # the cached steps are the full causal run's last-position logits
    for i in range(5):
        np.testing.assert_allclose(steps[i], full[:, 1 + i], rtol=1e-4, atol=1e-5)
    assert tokens.shape == (2, 7)
    # the sparse alignment_heads buffer, as whisper.timing reads it
    assert [tuple(int(v) for v in lh) for lh in dec.alignment_heads.indices().T] == \
        [(1, 0), (1, 1), (1, 2)]
    assert dec.state_dict().keys().isdisjoint({"alignment_heads", "mask"})


@pytest.mark.parametrize("sdpa", [True, False])
def test_whisper_like_decoding_matches_torch(sdpa, tmp_path):
    real = _real_torch()
    rdec, rtokens, rsteps, rfull = _decode_steps(real, sdpa)
    real.save(rdec.state_dict(), tmp_path / "dec.pt")
    dec, tokens, steps, full = _decode_steps(torch, sdpa, torch.load(tmp_path / "dec.pt"))
    np.testing.assert_array_equal(tokens, rtokens)
    np.testing.assert_allclose(steps, rsteps, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(full, rfull, rtol=1e-5, atol=1e-5)
    assert repr(dec.alignment_heads) == repr(rdec.alignment_heads)


# ------------------------------------------------------------------ alignment heads dump
def test_set_alignment_heads_from_a_dump():
    """whisper.model.Whisper.set_alignment_heads: a base85 gzip'd bool array, reshaped to
    (layers, heads), made sparse; timing.py stacks the chosen heads' weights by its
    indices().T."""
    import base64
    import gzip
    mask = np.zeros(24, bool)
    mask[[8, 12, 14, 15, 16, 17]] = True
    dump = base64.b85encode(gzip.compress(mask.tobytes()))
    array = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool).copy()
    heads = torch.from_numpy(array).reshape(4, 6).to_sparse()
    assert heads.indices().T.tolist() == [[1, 2], [2, 0], [2, 2], [2, 3], [2, 4], [2, 5]]
    qks = [torch.full((6, 3), float(layer)) + torch.arange(6.)[:, None] for layer in range(4)]
    weights = torch.stack([qks[_l][_h] for _l, _h in heads.indices().T])
    assert weights[:, 0].tolist() == [3., 2., 4., 5., 6., 7.]


# ------------------------------------------------------------------ log-mel, real form
def _log_mel(tm, audio, filters, n_fft=400, hop=160):
    """whisper.audio.log_mel_spectrogram with the power spectrum from stft's real and
    imaginary parts (gpujit has no complex dtypes: return_complex=False)."""
    window = tm.hann_window(n_fft)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # (return_complex=False is deprecated)
        st = tm.stft(audio, n_fft, hop, window=window, return_complex=False)
    magnitudes = st[..., :-1, :].pow(2).sum(-1)
    log_spec = tm.clamp(filters @ magnitudes, min=1e-10).log10()
    log_spec = tm.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def _numpy_log_mel(a, filters, n_fft=400, hop=160):
    pad = np.pad(a.astype(np.float64), n_fft // 2, mode="reflect")
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    frames = np.stack([pad[i:i + n_fft] * win
                       for i in range(0, len(pad) - n_fft + 1, hop)], axis=-1)
    mag = np.abs(np.fft.rfft(frames, axis=0)) ** 2
    log_spec = np.log10(np.maximum(filters @ mag[:, :-1], 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def _audio_and_filters():
    rng = np.random.default_rng(0)
    t = np.arange(4000) / 16000
    audio = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.1 * rng.standard_normal(4000))
    filters = rng.uniform(0, 0.01, (20, 201))
    return audio.astype(np.float32), filters.astype(np.float32)


def test_log_mel_spectrogram_real_form():
    audio, filters = _audio_and_filters()
    got = _log_mel(torch, torch.from_numpy(audio), torch.from_numpy(filters)).numpy()
    assert got.shape == (20, 25) and got.dtype == np.float32
    np.testing.assert_allclose(got, _numpy_log_mel(audio, filters), rtol=0, atol=2e-5)


def test_log_mel_spectrogram_matches_torch():
    real = _real_torch()
    audio, filters = _audio_and_filters()
    want = _log_mel(real, real.from_numpy(audio), real.from_numpy(filters)).numpy()
    got = _log_mel(torch, torch.from_numpy(audio), torch.from_numpy(filters)).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5)
    # whisper's own form (complex stft, .abs() ** 2) gives the same numbers in torch
    st = real.stft(real.from_numpy(audio), 400, 160, window=real.hann_window(400),
                   return_complex=True)
    spec = real.clamp(real.from_numpy(filters) @ (st[..., :-1].abs() ** 2), min=1e-10).log10()
    spec = (real.maximum(spec, spec.max() - 8.0) + 4.0) / 4.0
    np.testing.assert_allclose(want, spec.numpy(), rtol=0, atol=1e-6)


# ------------------------------------------------------------------ window functions
def test_windows_follow_torchs_arithmetic():
    """PyTorch's factories: arange(m) in the dtype, .mul_(2π / (m - 1)) with the scalar
    rounded to the dtype, .cos_(), .mul_(-beta).add_(alpha); bartlett arange * 2 / (m - 1)
    and 2 - w past the middle; float16 with each step rounded to half."""
    m = 11
    k = np.arange(m, dtype=np.float16)
    arg = (k.astype(np.float32) * np.float32(np.float16(2 * np.pi / (m - 1)))).astype(np.float16)
    c = np.cos(arg.astype(np.float64)).astype(np.float16)
    want = ((c.astype(np.float32) * np.float32(-0.5)).astype(np.float16).astype(np.float32)
            + np.float32(0.5)).astype(np.float16)[:10]
    got = torch.hann_window(10, dtype=torch.float16).numpy()
    assert got.tobytes() == want.tobytes()
    w = np.arange(m, dtype=np.float32) * np.float32(2.0 / (m - 1))
    w[(m - 1) // 2 + 1:] = np.float32(2) - w[(m - 1) // 2 + 1:]
    assert torch.bartlett_window(10).numpy().tobytes() == w[:10].tobytes()
    w64 = np.arange(7, dtype=np.float64) * (2.0 / 6)
    w64[4:] = 2 - w64[4:]
    assert torch.bartlett_window(7, periodic=False, dtype=torch.float64).numpy().tolist() == \
        w64.tolist()


def test_windows_match_torch():
    real = _real_torch()
    for name in ("hann_window", "hamming_window", "blackman_window", "bartlett_window"):
        for dt in ("float16", "float32", "float64"):
            for n in (0, 1, 2, 3, 255, 400, 1024, 4096):
                for periodic in (True, False):
                    a = getattr(real, name)(n, periodic, dtype=getattr(real, dt)).numpy()
                    b = getattr(torch, name)(n, periodic, dtype=getattr(torch, dt)).numpy()
                    assert a.dtype == b.dtype and a.shape == b.shape
                    if dt == "float16" or name == "bartlett_window":
                        assert a.tobytes() == b.tobytes(), (name, dt, n, periodic)
                    else:       # (torch's vectorized cos may differ in the last place)
                        np.testing.assert_allclose(a, b, rtol=0, atol=np.finfo(a.dtype).eps)


def test_kaiser_window_as_its_kernel():
    """kaiser_window: i0(beta * sqrt(|1 - ((k - alpha) / alpha)^2|)) / i0(beta) in the
    window's dtype (float32 here: torch's kernel's opmath), alpha = (m - 1) / 2."""
    got = torch.kaiser_window(6, periodic=False, beta=0.0).numpy()
    assert got.tolist() == [1.0] * 6                  # (i0(0) / i0(0))
    w = torch.kaiser_window(5, periodic=False, beta=3.0, dtype=torch.float64).numpy()
    k = np.arange(5.)
    r = 3.0 * np.sqrt(np.abs(1 - ((k - 2.0) / 2.0) ** 2))
    np.testing.assert_allclose(w, np.i0(r) / np.i0(3.0), rtol=1e-14)
    real = pytest.importorskip("torch")
    for dt in ("float16", "float32", "float64"):
        a = real.kaiser_window(400, dtype=getattr(real, dt)).numpy()
        b = torch.kaiser_window(400, dtype=getattr(torch, dt)).numpy()
        np.testing.assert_allclose(a, b, rtol=0, atol=8 * np.finfo(a.dtype).eps)
        # (i0's last places aside, the same numbers: float32 in float64, rounded once,
        # differed in 361 of 400)
        assert (a != b).sum() <= 80


def test_signal_windows_are_torchs_compositions():
    """torch.signal.windows.hann & co. are Python compositions in PyTorch (linspace, cos,
    i0), not the aten factories: hann(M) = Σ a_i cos(i k) over k = linspace(0, (M-1)c, M)."""
    M = 9
    k = np.linspace(0, (M - 1) * 2 * np.pi / (M - 1), M)
    want = (np.array([0.5, -0.5])[:, None] * np.cos(np.arange(2.)[:, None] * k)).sum(0)
    got = torch.signal.windows.hann(M, dtype=torch.float64).numpy()
    np.testing.assert_array_equal(got, want)
    k = np.linspace(-1, 1, 5)
    assert torch.signal.windows.bartlett(5, dtype=torch.float64).numpy().tolist() == \
        (1 - np.abs(k)).tolist()
    with pytest.raises(ValueError, match="general_cosine requires non-negative window "
                                         "length, got M=-1"):
        torch.signal.windows.hann(-1)


def test_signal_windows_match_torch():
    from torch_bits import torch_runs_avx512   # (Sleef's cos: AVX2 and AVX512 differ)
    real = _real_torch()
    for name in ("hann", "hamming", "blackman", "bartlett", "kaiser", "nuttall", "cosine"):
        for dt in ("float32", "float64"):
            for M in (0, 1, 2, 7, 400, 1023):
                for sym in (True, False):
                    a = getattr(real.signal.windows, name)(M, sym=sym,
                                                           dtype=getattr(real, dt)).numpy()
                    b = getattr(torch.signal.windows, name)(M, sym=sym,
                                                            dtype=getattr(torch, dt)).numpy()
                    assert a.dtype == b.dtype and a.shape == b.shape
                    if (dt == "float64" and name in ("hann", "hamming") and
                            torch_runs_avx512(real)) or name == "bartlett":
                        assert a.tobytes() == b.tobytes(), (name, dt, M, sym)
                    else:   # (cos / i0 in the last places; kaiser's float32 i0 ~18
                        # ulp off on torch's AVX2 build)
                        np.testing.assert_allclose(a, b, rtol=0, atol=(
                            8 if torch_runs_avx512(real) else 32) * np.finfo(a.dtype).eps)
