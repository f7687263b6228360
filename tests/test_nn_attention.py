"""Attention and transformer layers: F.scaled_dot_product_attention,
F.multi_head_attention_forward, nn.MultiheadAttention, nn.Transformer* — against torch (the
oracle) given the same inputs and state_dict; gradients, scripting, tracing, CUDA (fake)."""
import warnings

import numpy as np
import pytest

import gpujit
from gpujit import nn
import gpujit.nn.functional as F

real = pytest.importorskip("torch")
RF = real.nn.functional
RNG = np.random.default_rng(3)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def G(a, **kw):
    """gpujit tensor of a NumPy array or a torch tensor."""
    if isinstance(a, real.Tensor):
        a = a.detach().numpy().copy()
    return gpujit.tensor(a, **kw)


def R(a):
    return real.from_numpy(np.array(a))


def close(g, r, rtol=1e-5, atol=2e-6):
    if r is None:
        assert g is None
        return
    assert tuple(g.shape) == tuple(r.shape), (tuple(g.shape), tuple(r.shape))
    if isinstance(r, gpujit.Tensor):
        r = r.cpu()
    np.testing.assert_allclose(g.detach().cpu().numpy(), r.detach().numpy(), rtol=rtol,
                               atol=atol)


def load(gm, rm):
    """gm with rm's state_dict (names and order must match torch's); both in eval."""
    sd = rm.state_dict()
    assert list(gm.state_dict()) == list(sd)
    for k, v in gm.state_dict().items():
        assert tuple(v.shape) == tuple(sd[k].shape), k
    gm.load_state_dict({k: G(v) for k, v in sd.items()})
    return gm.eval(), rm.eval()


# ---------------------------------------------------------------- scaled_dot_product_attention

Q, K, V = randn(2, 3, 4, 8), randn(2, 3, 6, 8), randn(2, 3, 6, 8)
BOOL = RNG.random((4, 6)) > 0.5
BOOL[1] = False                         # a row masked everywhere: zeros, not NaN
FLOAT = randn(4, 6)


@pytest.mark.parametrize("kw", [
    {}, {"is_causal": True}, {"scale": 0.3}, {"attn_mask": BOOL}, {"attn_mask": FLOAT},
    {"attn_mask": FLOAT, "is_causal": True},      # CPU kernels apply both
    {"attn_mask": np.broadcast_to(BOOL, (2, 3, 4, 6)).copy()},
], ids=["plain", "causal", "scale", "bool", "float", "float+causal", "bool4d"])
def test_sdpa_matches_torch(kw):
    gk = {k: G(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    rk = {k: R(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    close(F.scaled_dot_product_attention(G(Q), G(K), G(V), **gk),
          RF.scaled_dot_product_attention(R(Q), R(K), R(V), **rk))


def test_sdpa_shapes_gqa_and_dtypes():
    q2, k2, v2 = randn(4, 8), randn(6, 8), randn(6, 5)
    close(F.scaled_dot_product_attention(G(q2), G(k2), G(v2)),
          RF.scaled_dot_product_attention(R(q2), R(k2), R(v2)))
    close(F.scaled_dot_product_attention(G(Q), G(K[:, :1]), G(V[:, :1]), enable_gqa=True),
          RF.scaled_dot_product_attention(R(Q), R(K[:, :1]), R(V[:, :1]), enable_gqa=True))
    out = F.scaled_dot_product_attention(G(Q).double(), G(K).double(), G(V).double(),
                                         attn_mask=G(FLOAT))
    assert out.dtype == gpujit.float64
    with pytest.raises(RuntimeError, match="query, key, and value to have the same dtype"):
        F.scaled_dot_product_attention(G(Q), G(K), G(V).double())
    with pytest.raises(RuntimeError, match="attn_mask dtype to be bool or float"):
        F.scaled_dot_product_attention(G(Q), G(K), G(V), attn_mask=G(BOOL).long())
    with pytest.raises(RuntimeError, match="query, key, and value to all be  at least 2 dim"):
        F.scaled_dot_product_attention(G(Q[0, 0, 0]), G(K[0, 0, 0]), G(V[0, 0, 0]))
    with pytest.raises(RuntimeError, match="Number of heads in key and value must divide"):
        F.scaled_dot_product_attention(G(Q), G(K[:, :2]), G(V[:, :2]), enable_gqa=True)


def test_sdpa_gradients():
    q, k, v = (G(a.astype(np.float64)[:1, :2], requires_grad=True) for a in (Q, K, V))
    mask = G(BOOL)
    assert gpujit.autograd.gradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), (q, k, v))
    assert gpujit.autograd.gradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7),
        (q, k, v))
    # against torch, a fully masked row included: its gradients are zeros, not NaN
    rq, rk, rv = (R(a).requires_grad_() for a in (Q, K, V))
    gq, gk, gv = (G(a, requires_grad=True) for a in (Q, K, V))
    RF.scaled_dot_product_attention(rq, rk, rv, attn_mask=R(BOOL)).square().sum().backward()
    F.scaled_dot_product_attention(gq, gk, gv, attn_mask=G(BOOL)).square().sum().backward()
    for g, r in ((gq, rq), (gk, rk), (gv, rv)):
        close(g.grad, r.grad, atol=1e-5)
    assert np.isfinite(gq.grad.numpy()).all()


def test_sdpa_dropout_applies_whatever_the_mode():
    q, k, v = G(Q), G(K), G(np.ones((2, 3, 6, 8), np.float32))
    gpujit.manual_seed(0)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    gpujit.manual_seed(0)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert gpujit.equal(a, b)
    # each row of weights sums to 1; dropped weights are zero, the rest scaled by 2
    plain = F.scaled_dot_product_attention(q, k, v)
    assert not gpujit.equal(a, plain)
    assert float((a - plain).abs().max()) > 0.01


def sdpa_fn(q, k, v, mask: gpujit.Tensor):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True, scale=0.5)


def test_sdpa_scripted_and_traced():
    args = (G(Q), G(K), G(V), G(FLOAT))
    ref = sdpa_fn(*args)
    close(gpujit.jit.script(sdpa_fn)(*args), ref.detach(), atol=1e-6)
    close(gpujit.jit.trace(sdpa_fn, args)(*args), ref.detach(), atol=1e-6)
    close(ref, RF.scaled_dot_product_attention(R(Q), R(K), R(V), attn_mask=R(FLOAT),
                                              is_causal=True, scale=0.5))


# ---------------------------------------------------------------- MultiheadAttention

E, H, L, S, N = 8, 2, 4, 5, 3


def mha_inputs(kdim=E, vdim=E, batch_first=False):
    shape = (lambda n, s, e: (n, s, e)) if batch_first else (lambda n, s, e: (s, n, e))
    return randn(*shape(N, L, E)), randn(*shape(N, S, kdim)), randn(*shape(N, S, vdim))


KPM = RNG.random((N, S)) > 0.6
KPM[:, 0] = False
AM = RNG.random((L, S)) > 0.7
AM[:, 1] = False

CALLS = [{}, {"need_weights": False}, {"key_padding_mask": KPM},
         {"attn_mask": AM, "average_attn_weights": False},
         {"attn_mask": AM.astype(np.float32) * -3, "key_padding_mask": KPM,
          "need_weights": False},
         {"attn_mask": np.broadcast_to(AM, (N * H, L, S)).copy()}]


@pytest.mark.parametrize("kw", [{}, {"bias": False}, {"add_bias_kv": True},
                                {"add_zero_attn": True}, {"kdim": 6, "vdim": 3},
                                {"batch_first": True}],
                         ids=["default", "nobias", "bias_kv", "zero_attn", "kvdim",
                              "batch_first"])
def test_mha_matches_torch(kw):
    real.manual_seed(0)
    gm, rm = load(nn.MultiheadAttention(E, H, **kw), real.nn.MultiheadAttention(E, H, **kw))
    q, k, v = mha_inputs(kw.get("kdim", E), kw.get("vdim", E), kw.get("batch_first", False))
    for call in CALLS:
        gc = {a: G(b) if isinstance(b, np.ndarray) else b for a, b in call.items()}
        rc = {a: R(b) if isinstance(b, np.ndarray) else b for a, b in call.items()}
        go, gw = gm(G(q), G(k), G(v), **gc)
        ro, rw = rm(R(q), R(k), R(v), **rc)
        close(go, ro)
        close(gw, rw)
    if "kdim" not in kw:                 # self-attention: one input projection
        x = G(q)
        go, gw = gm(x, x, x)
        ro, rw = rm(R(q), R(q), R(q))
        close(go, ro)
        close(gw, rw)


def test_mha_unbatched_causal_and_init():
    real.manual_seed(0)
    gm, rm = load(nn.MultiheadAttention(E, H), real.nn.MultiheadAttention(E, H))
    x = randn(L, E)
    for g, r in zip(gm(G(x), G(x), G(x)), rm(R(x), R(x), R(x))):
        close(g, r)
    mask = real.nn.Transformer.generate_square_subsequent_mask(L)
    x3 = randn(L, N, E)
    close(gm(G(x3), G(x3), G(x3), attn_mask=G(mask), is_causal=True, need_weights=False)[0],
          rm(R(x3), R(x3), R(x3), attn_mask=mask, is_causal=True, need_weights=False)[0])
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal"):
        gm(G(x3), G(x3), G(x3), is_causal=True)
    with pytest.raises(AssertionError, match=r"Expected key_padded_mask.shape\[0\] to be 3"):
        gm(G(x3), G(x3), G(x3), key_padding_mask=G(np.zeros((2, L), bool)))
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        gm(G(x3), G(x3), G(x3), attn_mask=G(np.zeros((L, L + 1), bool)))
    fresh = nn.MultiheadAttention(E, H, add_bias_kv=True)
    assert float(fresh.in_proj_bias.abs().sum()) == 0.0
    assert float(fresh.out_proj.bias.abs().sum()) == 0.0
    bound = (6 / (E + 3 * E)) ** 0.5           # xavier_uniform_ on (3E, E)
    assert float(fresh.in_proj_weight.abs().max()) <= bound
    assert isinstance(fresh.out_proj, nn.Linear)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(7, 2)


def test_mha_gradients_match_torch():
    real.manual_seed(0)
    gm, rm = load(nn.MultiheadAttention(E, H, kdim=6), real.nn.MultiheadAttention(E, H, kdim=6))
    gm.train()
    rm.train()
    q, k, v = mha_inputs(kdim=6)
    gq = G(q, requires_grad=True)
    rq = R(q).requires_grad_()
    go, gw = gm(gq, G(k), G(v), key_padding_mask=G(KPM))
    ro, rw = rm(rq, R(k), R(v), key_padding_mask=R(KPM))
    (go.square().sum() + gw.sum()).backward()
    (ro.square().sum() + rw.sum()).backward()
    close(gq.grad, rq.grad, atol=1e-5)
    gp = dict(gm.named_parameters())
    for name, p in rm.named_parameters():
        close(gp[name].grad, p.grad, atol=1e-5)


def test_multi_head_attention_forward_matches_torch():
    real.manual_seed(0)
    rm = real.nn.MultiheadAttention(E, H, add_bias_kv=True)
    w = {k: v.detach() for k, v in rm.state_dict().items()}
    q, k, v = mha_inputs()
    args = (E, H, "in_proj_weight", "in_proj_bias", "bias_k", "bias_v", False, 0.0,
            "out_proj.weight", "out_proj.bias")
    ra = [w[a] if isinstance(a, str) else a for a in args]
    ga = [G(w[a]) if isinstance(a, str) else a for a in args]
    for kw in ({"training": False}, {"training": False, "need_weights": False,
                                     "key_padding_mask": KPM}):
        ro, rw = RF.multi_head_attention_forward(
            R(q), R(k), R(v), *ra, **{a: R(b) if isinstance(b, np.ndarray) else b
                                      for a, b in kw.items()})
        go, gw = F.multi_head_attention_forward(
            G(q), G(k), G(v), *ga, **{a: G(b) if isinstance(b, np.ndarray) else b
                                      for a, b in kw.items()})
        close(go, ro)
        close(gw, rw)


class HoldsAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(E, H, batch_first=True)

    def forward(self, x, kpm: gpujit.Tensor):
        out, w = self.attn(x, x, x, key_padding_mask=kpm)
        assert w is not None
        return out + w.sum()


def test_mha_scripted_matches_eager():
    m = HoldsAttention().eval()
    x = G(randn(N, L, E))
    kpm = G(np.array([[0, 0, 0, 1], [0, 0, 0, 0], [0, 1, 0, 0]], bool))
    s = gpujit.jit.script(m)
    close(s(x, kpm), m(x, kpm).detach(), atol=1e-6)
    t = gpujit.jit.trace(m, (x, kpm))
    close(t(x, kpm), m(x, kpm).detach(), atol=1e-6)


# ---------------------------------------------------------------- Transformer layers

FF = 16
LAYER_KW = [{}, {"norm_first": True}, {"activation": "gelu"}, {"batch_first": True},
            {"bias": False}]
LAYER_IDS = ["post_norm", "norm_first", "gelu", "batch_first", "nobias"]


def seq(n, s, bf):
    return randn(n, s, E) if bf else randn(s, n, E)


@pytest.mark.parametrize("kw", LAYER_KW, ids=LAYER_IDS)
def test_encoder_and_decoder_layers_match_torch(kw):
    real.manual_seed(0)
    bf = kw.get("batch_first", False)
    x, t = seq(2, 5, bf), seq(2, 3, bf)
    kpm = np.zeros((2, 5), bool)
    kpm[1, -2:] = True
    smask = real.nn.Transformer.generate_square_subsequent_mask(5)
    tmask = real.nn.Transformer.generate_square_subsequent_mask(3)
    ge, re = load(nn.TransformerEncoderLayer(E, H, FF, **kw),
                  real.nn.TransformerEncoderLayer(E, H, FF, **kw))
    close(ge(G(x)), re(R(x)), atol=2e-6)
    close(ge(G(x), src_key_padding_mask=G(kpm)), re(R(x), src_key_padding_mask=R(kpm)),
          atol=2e-6)
    close(ge(G(x), src_mask=G(smask), is_causal=True),
          re(R(x), src_mask=smask, is_causal=True), atol=2e-6)
    gd, rd = load(nn.TransformerDecoderLayer(E, H, FF, **kw),
                  real.nn.TransformerDecoderLayer(E, H, FF, **kw))
    close(gd(G(t), G(x), tgt_mask=G(tmask), memory_key_padding_mask=G(kpm)),
          rd(R(t), R(x), tgt_mask=tmask, memory_key_padding_mask=R(kpm)), atol=2e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gs, rs = load(nn.TransformerEncoder(ge, 2, nn.LayerNorm(E)),
                      real.nn.TransformerEncoder(re, 2, real.nn.LayerNorm(E)))
        gt, rt = load(nn.Transformer(E, H, 2, 2, FF, **kw),
                      real.nn.Transformer(E, H, 2, 2, FF, **kw))
    close(gs(G(x), mask=G(smask)), rs(R(x), mask=smask), atol=2e-6)
    close(gs(G(x), src_key_padding_mask=G(kpm)), rs(R(x), src_key_padding_mask=R(kpm)),
          atol=2e-6)
    with gpujit.no_grad(), real.no_grad():      # torch's nested-tensor path in inference
        close(gs(G(x), src_key_padding_mask=G(kpm)), rs(R(x), src_key_padding_mask=R(kpm)),
              atol=2e-6)
    close(gt(G(x), G(t), tgt_mask=G(tmask)), rt(R(x), R(t), tgt_mask=tmask), atol=3e-6)
    # scripted: the same results (the activation is a function attribute)
    close(gpujit.jit.script(ge)(G(x), src_key_padding_mask=G(kpm)),
          ge(G(x), src_key_padding_mask=G(kpm)).detach(), atol=1e-6)
    close(gpujit.jit.script(gt)(G(x), G(t), tgt_mask=G(tmask)),
          gt(G(x), G(t), tgt_mask=G(tmask)).detach(), atol=1e-6)


def test_encoder_nested_fast_path_zeros_padding():
    """In eval without gradients, torch runs a batch_first encoder with a left-aligned
    padding mask on nested tensors: padded positions come out as zeros (before norm)."""
    real.manual_seed(0)
    ge, re = load(nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, FF, batch_first=True), 2),
                  real.nn.TransformerEncoder(
                      real.nn.TransformerEncoderLayer(E, H, FF, batch_first=True), 2))
    x = randn(2, 5, E)
    for rows in ([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], [[0, 1, 0, 0, 1], [0, 0, 0, 0, 0]]):
        kpm = np.array(rows, bool)
        with gpujit.no_grad(), real.no_grad():
            ref = re(R(x), src_key_padding_mask=R(kpm))
            close(ge(G(x), src_key_padding_mask=G(kpm)), ref, atol=2e-6)
            close(gpujit.jit.script(ge)(G(x), src_key_padding_mask=G(kpm)), ref, atol=2e-6)
        close(ge(G(x), src_key_padding_mask=G(kpm)), re(R(x), src_key_padding_mask=R(kpm)),
              atol=2e-6)


def test_transformer_helpers_and_errors():
    m = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(m.numpy(),
                                  real.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert m.dtype == gpujit.float32
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(E, H, activation="tanh")
    layer = nn.TransformerEncoderLayer(E, H, FF, activation=gpujit.tanh)
    x = G(randn(5, 2, E))
    close(gpujit.jit.script(layer.eval())(x), layer(x).detach(), atol=1e-6)
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but "
                                         "self.use_nested_tensor is False"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, FF), 2)
    t = nn.Transformer(E, H, 1, 1, FF)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        t(G(randn(5, 2, E)), G(randn(3, 3, E)))


def test_encoder_layer_trains():
    gpujit.manual_seed(0)
    layer = nn.TransformerEncoderLayer(E, H, FF, dropout=0.1)
    opt = gpujit.optim.SGD(layer.parameters(), lr=0.05)
    x, y = G(randn(5, 2, E)), G(randn(5, 2, E))
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = (layer(x) - y).square().mean()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    assert all(p.grad is not None for p in layer.parameters())


@pytest.mark.cuda
@pytest.mark.skipif(not gpujit.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
def test_attention_on_cuda():
    real.manual_seed(0)
    gm, rm = load(nn.TransformerEncoderLayer(E, H, FF), real.nn.TransformerEncoderLayer(E, H, FF))
    gm.cuda()
    x = randn(5, 2, E)
    kpm = np.zeros((2, 5), bool)
    kpm[0, -1] = True
    out = gm(G(x, device="cuda"), src_key_padding_mask=G(kpm, device="cuda"))
    assert out.is_cuda
    close(out, rm(R(x), src_key_padding_mask=R(kpm)), atol=2e-6)
    s = gpujit.jit.script(gm)
    close(s(G(x, device="cuda"), src_key_padding_mask=G(kpm, device="cuda")),
          out.detach(), atol=1e-6)
    q = G(Q, device="cuda")
    close(F.scaled_dot_product_attention(q, q, q, is_causal=True),
          RF.scaled_dot_product_attention(R(Q), R(Q), R(Q), is_causal=True))


def test_scripted_transformer_saves_and_loads():
    import io
    m = nn.Transformer(E, H, 1, 1, FF, batch_first=True).eval()
    s = gpujit.jit.script(m)
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    buf.seek(0)
    loaded = gpujit.jit.load(buf)
    src, tgt = G(randn(2, 5, E)), G(randn(2, 3, E))
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    close(loaded(src, tgt, tgt_mask=mask), m(src, tgt, tgt_mask=mask).detach(), atol=1e-6)
