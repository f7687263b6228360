"""Session 30 (f30): eager training scripts seed for seed against PyTorch 2.13.

After manual_seed, gpujit's CPU generator is torch's mt19937 stream, so whole training
scripts give torch's numbers. The values hard-coded here were checked against torch 2.13;
the tests marked with importorskip("torch") run the same script under both modules.

Found here: a random fill of a tensor made by empty_like(x) follows x's layout in PyTorch
(dropout's keep mask, randn_like, multinomial's exponentials): on a transposed input (as
MultiheadAttention's batch_first output, fed to TransformerEncoderLayer's dropout1) or a
channels_last one the values are drawn in memory order.
"""
import io

import numpy as np
import pytest

import gpujit


def _np(t):
    return np.asarray(t.detach().tolist())


# ------------------------------------------------------------ random fills, layouts

def test_dropout_mask_of_transposed_input_in_memory_order():
    gpujit.manual_seed(0)
    got = gpujit.nn.functional.dropout(gpujit.ones(4, 6).t(), 0.5)
    want = [[0., 2., 2., 0.], [0., 2., 0., 0.], [2., 0., 2., 2.], [0., 2., 2., 0.],
            [0., 2., 2., 2.], [0., 2., 2., 0.]]          # torch 2.13
    np.testing.assert_array_equal(_np(got), want)
    # the same mask as the contiguous base's, transposed
    gpujit.manual_seed(0)
    base = gpujit.nn.functional.dropout(gpujit.ones(4, 6), 0.5)
    np.testing.assert_array_equal(_np(got), _np(base).T)


def test_dropout_module_and_channels_last_follow_layout():
    x = gpujit.ones(2, 3, 4, 4).to(memory_format=gpujit.channels_last)
    gpujit.manual_seed(1)
    got = gpujit.nn.Dropout(0.5)(x)
    gpujit.manual_seed(1)
    ref = gpujit.nn.functional.dropout(gpujit.ones(2, 4, 4, 3), 0.5).permute(0, 3, 1, 2)
    np.testing.assert_array_equal(_np(got), _np(ref))


def test_dropout_of_transposed_input_backward_uses_its_mask():
    gpujit.manual_seed(2)
    w = gpujit.ones(3, 5, requires_grad=True)
    y = gpujit.nn.functional.dropout(w.t() * 1.0, 0.4)
    y.sum().backward()
    np.testing.assert_array_equal(_np(w.grad), _np(y).T)


def test_randn_like_of_permuted_layout_draws_serially():
    gpujit.manual_seed(0)
    got = gpujit.randn_like(gpujit.zeros(8, 6).t())
    want = [[1.5409960746765137, 0.40334683656692505], [-0.293428897857666, 0.8380263447761536],
            [-2.1787893772125244, -0.7192575931549072], [0.5684312582015991, -0.40334352850914],
            [-1.0845223665237427, -0.5966353416442871], [-1.3985954523086548, 0.18203648924827576]]
    np.testing.assert_allclose(_np(got[:, :2]), want, rtol=1e-6, atol=1e-7)
    assert got.stride() == (1, 6)
    gpujit.manual_seed(0)
    cl = gpujit.randn_like(gpujit.zeros(2, 3, 4, 4).to(memory_format=gpujit.channels_last))
    np.testing.assert_allclose(_np(cl[0, :, 0, 0]),
                               [1.5409960746765137, -0.293428897857666, -2.1787893772125244],
                               rtol=1e-6)
    # a contiguous result still takes the vectorized fill
    gpujit.manual_seed(0)
    np.testing.assert_allclose(_np(gpujit.randn_like(gpujit.zeros(6, 8))[0, :2]),
                               [-1.1258398294448853, -1.152360200881958], rtol=1e-6)


def test_multinomial_without_replacement_of_transposed_probs():
    gpujit.manual_seed(0)
    got = gpujit.multinomial(gpujit.rand(5, 4).t(), 3)
    np.testing.assert_array_equal(_np(got), [[0, 4, 1], [0, 1, 4], [2, 3, 1], [1, 4, 3]])


def test_transformer_encoder_layer_dropout_matches_torch_values():
    nn = gpujit.nn
    gpujit.manual_seed(4)
    layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.25,
                                       batch_first=True)
    x = gpujit.randn(2, 3, 8)
    want = [[0.48764604330062866, -0.8219887614250183, 0.7905647158622742],
            [0.7454130053520203, 0.7756856679916382, -0.6803631782531738]]     # torch 2.13
    np.testing.assert_allclose(_np(layer(x)[:, :, 0]), want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ whole training scripts

def _mlp_script(torch, steps=6):
    nn = torch.nn
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 5))
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)
    x = torch.randn(64, 10)
    y = torch.randint(0, 5, (64,))
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = crit(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_mlp_label_smoothing_nesterov_losses():
    want = [1.6895513534545898, 1.6649229526519775, 1.6349292993545532, 1.6036089658737183,
            1.5734034776687622, 1.5454139709472656]        # torch 2.13
    np.testing.assert_allclose(_mlp_script(gpujit), want, rtol=1e-5)


def _transformer_script(torch):
    nn = torch.nn
    torch.manual_seed(4)
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0.1,
                                       batch_first=True)
    enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    head = nn.Linear(16, 3)
    params = list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    x = torch.randn(4, 7, 16)
    y = torch.randint(0, 3, (4,))
    causal = nn.Transformer.generate_square_subsequent_mask(7)
    pad = torch.zeros(4, 7, dtype=torch.bool)
    pad[1, 5:] = True
    losses = []
    for _ in range(4):
        opt.zero_grad()
        h = enc(x, mask=causal, src_key_padding_mask=pad)
        loss = nn.functional.cross_entropy(head(h.mean(1)), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    enc.eval()
    with torch.no_grad():
        ev = enc(x, mask=causal)
    return losses, [_np(p) for p in params], _np(ev)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_transformer_training_with_dropout_matches_torch():
    torch = pytest.importorskip("torch")
    l0, p0, e0 = _transformer_script(torch)
    l1, p1, e1 = _transformer_script(gpujit)
    np.testing.assert_allclose(l1, l0, rtol=1e-5)
    for a, b in zip(p1, p0):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(e1, e0, rtol=1e-4, atol=1e-5)


def _cnn_ckpt_script(torch):
    nn = torch.nn
    torch.manual_seed(1)

    def make():
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3), nn.Flatten(),
                             nn.Linear(8 * 4 * 4, 4))
    m = make()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    sch = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=8)
    x = torch.randn(16, 3, 8, 8)
    y = torch.randint(0, 4, (16,))
    losses = []

    def step(m, opt, sch):
        m.train()
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        sch.step()
        losses.append(loss.item())
    for _ in range(3):
        step(m, opt, sch)
    buf = io.BytesIO()
    torch.save({"model": m.state_dict(), "opt": opt.state_dict(), "sched": sch.state_dict(),
                "rng": torch.get_rng_state()}, buf)
    buf.seek(0)
    ck = torch.load(buf)
    m2 = make()
    opt2 = torch.optim.Adam(m2.parameters(), lr=1.0)
    sch2 = torch.optim.lr_scheduler.OneCycleLR(opt2, max_lr=0.05, total_steps=8)
    m2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["opt"])
    sch2.load_state_dict(ck["sched"])
    torch.set_rng_state(ck["rng"])
    for _ in range(3):
        step(m2, opt2, sch2)
    m2.eval()
    with torch.no_grad():
        ev = m2(x)
    return losses, [_np(p) for p in m2.parameters()], _np(ev), _np(m2[1].running_var)


def test_cnn_checkpoint_round_trip_matches_torch():
    torch = pytest.importorskip("torch")
    r0 = _cnn_ckpt_script(torch)
    r1 = _cnn_ckpt_script(gpujit)
    np.testing.assert_allclose(r1[0], r0[0], rtol=1e-5)
    for a, b in zip(r1[1], r0[1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(r1[2], r0[2], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(r1[3], r0[3], rtol=1e-5)


def test_rand_randn_into_transposed_out_fill_its_memory():
    gpujit.manual_seed(0)
    out = gpujit.zeros(4, 6).t()
    r = gpujit.rand(6, 4, out=out)
    assert r is out and out.stride() == (1, 6)
    gpujit.manual_seed(0)
    np.testing.assert_array_equal(_np(out), _np(gpujit.rand(4, 6)).T)
    gpujit.manual_seed(0)
    out = gpujit.zeros(8, 6).t()
    gpujit.randn(6, 8, out=out)
    np.testing.assert_allclose(_np(out[0, :2]), [1.5409960746765137, 0.40334683656692505],
                               rtol=1e-6)                 # torch 2.13: the scalar sampler


# ------------------------------------------------------------ errors a training script meets

@pytest.mark.parametrize("make, exc, msg", [
    # torch 2.13: the target's dtype checked after its shape, before the weight
    (lambda F, t: F.cross_entropy(t.randn(3, 3), t.rand(3, 2)), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    (lambda F, t: F.cross_entropy(t.randn(3, 3), t.tensor([1., 2., 0.])), RuntimeError,
     "expected target dtype to be Long or Byte, but got Float"),
    (lambda F, t: F.nll_loss(t.randn(3, 3), t.tensor([1., 2., 0.]), weight=t.ones(2)),
     RuntimeError, "expected target dtype to be Long or Byte, but got Float"),
    (lambda F, t: F.nll_loss(t.randn(2, 3, 4), t.rand(2, 5)), RuntimeError,
     r"Expected target size \[2, 4\], got \[2, 5\]"),
    (lambda F, t: F.cross_entropy(t.randn(3, 3), t.tensor([0, 1, 2], dtype=t.int32)),
     RuntimeError, "expected target dtype to be Long or Byte, but got Int"),
    (lambda F, t: F.nll_loss(t.randn(3, 3), t.tensor([0, 1]), weight=t.ones(2)), ValueError,
     r"Expected input batch_size \(3\) to match target batch_size \(2\)."),
])
def test_loss_target_errors(make, exc, msg):
    with pytest.raises(exc, match=msg):
        make(gpujit.nn.functional, gpujit)


def test_backward_of_non_scalar_message():
    x = gpujit.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        (x * 2).backward()
    assert str(e.value) == "grad can be implicitly created only for scalar outputs"


def test_mha_attn_mask_shape_messages():
    m = gpujit.nn.MultiheadAttention(4, 2)
    q = gpujit.randn(3, 1, 4)
    with pytest.raises(RuntimeError) as e:
        m(q, q, q, attn_mask=gpujit.zeros(2, 2))
    assert str(e.value) == ("The shape of the 2D attn_mask is gpujit.Size([2, 2]), but should "
                            "be (3, 3).")
    with pytest.raises(RuntimeError) as e:
        m(q, q, q, attn_mask=gpujit.zeros(2, 2, 2))
    assert str(e.value) == ("The shape of the 3D attn_mask is gpujit.Size([2, 2, 2]), but "
                            "should be (2, 3, 3).")
