"""Training loops against torch 2.13 (helper b62, session 62).

bfloat16 parameters under torch.optim: gpujit's optimizers update flat float32 arrays,
which for a bfloat16 parameter are the carrier of bfloat16 values (ops/bfloat16_support.py)
and must stay bfloat16-exact. Before s62 an optimizer step wrote float32 values into them
(a parameter 0.2216796875 stepped by SGD became 0.22124024, no bfloat16 number), and its
momentum / exp_avg buffers were never rounded. torch's single-tensor updates round after
each in-place op (AdamW's p.mul_(1 - lr * wd) that rounds back to p loses the decay),
fused=True computes in float32 and rounds the results once. Expected values are torch
2.13's (CPU), written down here.
"""
import numpy as np
import pytest

import gpujit

P = [[0.5, -0.25, 0.3, 1.7], [2.0, -1.1, 0.01, 0.75]]
G = [[0.3, 0.7, -0.2, 0.011], [1.3, -0.01, 0.5, 0.2]]

# (optimizer, p after 3 steps, q after 3 steps, {state name: p's state}) from torch 2.13
TORCH = {
    "sgd": (lambda ps: gpujit.optim.SGD(ps, lr=0.125),
            [[0.2734375, -0.7734375, 0.453125, 1.6953125],
             [1.03125, -1.1015625, -0.365234375, 0.6015625]], [0.0771484375], {}),
    "sgd_momentum": (
        lambda ps: gpujit.optim.SGD(ps, lr=0.125, momentum=0.5),
        [[0.208984375, -0.92578125, 0.49609375, 1.6953125],
         [0.7421875, -1.09375, -0.474609375, 0.55859375]], [0.02490234375],
        {"momentum_buffer": [[1.28125, 2.96875, -0.8515625, 0.046630859375],
                             [5.5, -0.04248046875, 2.125, 0.8515625]]}),
    "adam": (
        lambda ps: gpujit.optim.Adam(ps, lr=0.01),
        [[0.470703125, -0.279296875, 0.330078125, 1.6796875],
         [1.9765625, -1.078125, -0.019287109375, 0.72265625]], [0.1708984375],
        {"exp_avg": [[0.1689453125, 0.392578125, -0.1123046875, 0.00616455078125],
                     [0.7265625, -0.005615234375, 0.28125, 0.1123046875]],
         "exp_avg_sq": [[0.0012664794921875, 0.0068359375, 0.000560760498046875,
                         1.691281795501709e-06],
                        [0.0235595703125, 1.4007091522216797e-06, 0.0034942626953125,
                         0.000560760498046875]]}),
    # the decay p * 0.999 rounds back to p in bfloat16: the same values as Adam's
    "adamw": (
        lambda ps: gpujit.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
        [[0.470703125, -0.279296875, 0.330078125, 1.6796875],
         [1.9765625, -1.078125, -0.019287109375, 0.72265625]], [0.1708984375], {}),
    "adagrad": (
        lambda ps: gpujit.optim.Adagrad(ps, lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1,
                                        eps=1e-3),
        [[0.38671875, -0.376953125, 0.400390625, 1.6953125],
         [1.8671875, -1.09375, -0.11376953125, 0.65234375]], [0.10986328125], {}),
    "adamax_maximize": (
        lambda ps: gpujit.optim.Adamax(ps, lr=0.05, eps=1e-3, maximize=True),
        [[0.625, -0.1279296875, 0.1796875, 1.8203125], [2.109375, -1.21875, 0.1328125, 0.875]],
        [0.34765625], {}),
    "nadam_decoupled": (
        lambda ps: gpujit.optim.NAdam(ps, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
        [[0.47265625, -0.27734375, 0.328125, 1.6796875],
         [1.9765625, -1.078125, -0.019775390625, 0.72265625]], [0.1748046875], {}),
    "adadelta": (
        lambda ps: gpujit.optim.Adadelta(ps, lr=1.0, eps=1e-3),
        [[0.134765625, -0.62890625, 0.65234375, 1.640625],
         [1.6171875, -1.0390625, -0.365234375, 0.3984375]], [-0.09228515625], {}),
    # fused: float32 arithmetic rounded once, so the decay shows (2.0 -> 1.96875)
    "adamw_fused": (
        lambda ps: gpujit.optim.AdamW(ps, lr=0.01, weight_decay=0.1, fused=True),
        [[0.470703125, -0.279296875, 0.330078125, 1.6796875],
         [1.96875, -1.078125, -0.019287109375, 0.71484375]], [0.1708984375], {}),
}


# float16 (NumPy's float16 arrays): the same steps rounded as torch's ops round them (each
# in float32, rounded once; before s62 NumPy's float16 ufuncs rounded every product and
# sum: Adam's weights were off by up to 0.09 after 10 steps of an MLP)
TORCH16 = {
    "adam": (lambda ps: gpujit.optim.Adam(ps, lr=0.01, eps=1e-3),
             [[0.470947265625, -0.279052734375, 0.3291015625, 1.673828125],
              [1.970703125, -1.0732421875, -0.0191802978515625, 0.720703125]], [0.169921875]),
    "adamw": (lambda ps: gpujit.optim.AdamW(ps, lr=0.01, weight_decay=0.1, eps=1e-3),
              [[0.469482421875, -0.2783203125, 0.328369140625, 1.66796875],
               [1.96484375, -1.0703125, -0.0191802978515625, 0.71826171875]],
              [0.1693115234375]),
    "adamw_fused": (
        lambda ps: gpujit.optim.AdamW(ps, lr=0.01, weight_decay=0.1, fused=True),
        [[0.46923828125, -0.2783203125, 0.328369140625, 1.6650390625],
         [1.96484375, -1.0673828125, -0.01922607421875, 0.71875]], [0.16943359375]),
    "rmsprop": (lambda ps: gpujit.optim.RMSprop(ps, lr=0.01, eps=1e-3),
                [[0.2352294921875, -0.517578125, 0.56201171875, 1.51953125],
                 [1.7314453125, -0.9248046875, -0.256591796875, 0.488037109375]],
                [-0.0235443115234375]),
    "rmsprop_centered": (
        lambda ps: gpujit.optim.RMSprop(ps, lr=0.01, eps=1e-3, centered=True, momentum=0.5),
        [[0.1156005859375, -0.63916015625, 0.6806640625, 1.4462890625],
         [1.609375, -0.85546875, -0.377685546875, 0.36962890625]], [-0.1337890625]),
    "adagrad": (
        lambda ps: gpujit.optim.Adagrad(ps, lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1,
                                        eps=1e-3),
        [[0.3876953125, -0.3779296875, 0.39892578125, 1.689453125],
         [1.8681640625, -1.08984375, -0.11346435546875, 0.65087890625]], [0.11029052734375]),
    "adamax_maximize": (
        lambda ps: gpujit.optim.Adamax(ps, lr=0.05, eps=1e-3, maximize=True),
        [[0.62255859375, -0.1275634765625, 0.177734375, 1.8154296875],
         [2.125, -1.21484375, 0.1324462890625, 0.87255859375]], [0.349609375]),
    "sgd_nesterov": (
        lambda ps: gpujit.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True),
        [[0.029052734375, -1.23828125, 0.5634765625, 1.5498046875],
         [-0.02734375, -0.99853515625, -0.70947265625, 0.4033203125]], [-0.07684326171875]),
}


@pytest.mark.parametrize("name", sorted(TORCH16))
def test_float16_parameters_step_as_torch(name):
    make, want_p, want_q = TORCH16[name]
    p, q, _ = _three_steps(make, gpujit.float16)
    assert p.dtype == gpujit.float16
    np.testing.assert_array_equal(p.detach().float().numpy(), np.array(want_p, np.float32))
    np.testing.assert_array_equal(q.detach().float().numpy(), np.array(want_q, np.float32))


def test_bfloat16_rprop_as_torch():
    # etaplus 1.2 multiplies as bfloat16's 1.203125 and the first step sizes are
    # full_like(p, lr) in bfloat16, as torch's; the sign flips at step 3 halve them
    bf = gpujit.bfloat16
    p = gpujit.nn.Parameter(gpujit.tensor(P).to(bf))
    q = gpujit.nn.Parameter(gpujit.tensor([0.2]).to(bf))
    opt = gpujit.optim.Rprop([p, q], lr=0.01)
    for i in range(4):
        p.grad = gpujit.tensor(G).to(bf) * (i + 1) * (-1) ** (i // 2)
        q.grad = gpujit.tensor([0.33]).to(bf)
        opt.step()
    np.testing.assert_array_equal(p.detach().float().numpy(), np.array(
        [[0.484375, -0.265625, 0.31640625, 1.6875],
         [1.984375, -1.0859375, -0.006011962890625, 0.734375]], np.float32))
    np.testing.assert_array_equal(q.detach().float().numpy(), [0.146484375])
    np.testing.assert_array_equal(opt.state[p]["step_size"].float().numpy(),
                                  np.full((2, 4), 0.006011962890625, np.float32))


@pytest.mark.parametrize("dtype, want_p, want_q", [
    ("float16", [[0.468505859375, -0.32373046875, 0.321533203125, 1.7001953125],
                 [1.8642578125, -1.099609375, -0.042755126953125, 0.728515625]],
     [0.182861328125]),
    ("bfloat16", [[0.46875, -0.3203125, 0.322265625, 1.703125],
                  [1.8671875, -1.1015625, -0.042724609375, 0.7265625]], [0.185546875]),
])
def test_reduced_radam_as_torch(dtype, want_p, want_q):
    # 7 steps: the unrectified update (steps 1-5) and the rectified one, torch's bits
    dt = getattr(gpujit, dtype)
    p = gpujit.nn.Parameter(gpujit.tensor(P).to(dt))
    q = gpujit.nn.Parameter(gpujit.tensor([0.2]).to(dt))
    opt = gpujit.optim.RAdam([p, q], lr=0.01, eps=1e-3)
    for i in range(7):
        p.grad = gpujit.tensor(G).to(dt) * (i + 1)
        q.grad = gpujit.tensor([0.33]).to(dt)
        opt.step()
    np.testing.assert_array_equal(p.detach().float().numpy(), np.array(want_p, np.float32))
    np.testing.assert_array_equal(q.detach().float().numpy(), np.array(want_q, np.float32))


def _bf16_exact(a):
    a = np.ascontiguousarray(a, dtype=np.float32)
    return bool(np.all((a.view(np.uint32) & 0xFFFF) == 0))


def _three_steps(make, bf=gpujit.bfloat16):
    p = gpujit.nn.Parameter(gpujit.tensor(P).to(bf))
    q = gpujit.nn.Parameter(gpujit.tensor([0.2]).to(bf))
    opt = make([p, q])
    for i in range(3):
        p.grad = gpujit.tensor(G).to(bf) * (i + 1)
        q.grad = gpujit.tensor([0.33]).to(bf)
        opt.step()
    return p, q, opt


@pytest.mark.parametrize("name", sorted(TORCH))
def test_bfloat16_parameters_step_as_torch(name):
    make, want_p, want_q, want_state = TORCH[name]
    p, q, opt = _three_steps(make)
    assert p.dtype == gpujit.bfloat16
    got = p.detach().float().numpy()
    assert _bf16_exact(got)
    np.testing.assert_array_equal(got, np.array(want_p, np.float32))
    np.testing.assert_array_equal(q.detach().float().numpy(), np.array(want_q, np.float32))
    for k, v in want_state.items():
        s = opt.state[p][k]
        assert s.dtype == gpujit.bfloat16
        np.testing.assert_array_equal(s.float().numpy(), np.array(v, np.float32))


@pytest.mark.parametrize("make", [
    lambda ps: gpujit.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    lambda ps: gpujit.optim.Adagrad(ps, lr=0.05),
    lambda ps: gpujit.optim.NAdam(ps, lr=0.01),
    lambda ps: gpujit.optim.Adamax(ps, lr=0.01),
    lambda ps: gpujit.optim.SGD(ps, lr=0.1, momentum=0.9, foreach=False),
], ids=["rmsprop", "adagrad", "nadam", "adamax", "sgd_loop"])
def test_bfloat16_parameters_and_state_stay_bfloat16(make):
    # every optimizer: the parameter and its state tensors hold bfloat16 numbers, close
    # to the same steps in float32
    p, q, opt = _three_steps(make)
    for t in [p, q] + [v for v in opt.state[p].values() if v.dim() > 0]:
        assert t.dtype == gpujit.bfloat16
        assert _bf16_exact(t.detach().float().numpy())
    p32 = gpujit.nn.Parameter(gpujit.tensor(P))
    q32 = gpujit.nn.Parameter(gpujit.tensor([0.2]))
    opt32 = make([p32, q32])
    for i in range(3):
        p32.grad = gpujit.tensor(G).to(gpujit.bfloat16).float() * (i + 1)
        q32.grad = gpujit.tensor([0.33]).to(gpujit.bfloat16).float()
        opt32.step()
    np.testing.assert_allclose(p.detach().float().numpy(), p32.detach().numpy(),
                               rtol=2e-2, atol=2e-2)


def test_bfloat16_mlp_trains_as_torch_with_adam():
    # a bfloat16 MLP trained 6 steps with Adam: losses and weights are torch's bit for bit
    # (sizes that are multiples of 32 elements: ATen's vectorized kernels throughout)
    nn, F = gpujit.nn, gpujit.nn.functional
    bf = gpujit.bfloat16
    rs = np.random.RandomState(0)
    w1 = (rs.randn(32, 32) * 0.2).astype(np.float32)
    b1 = (rs.randn(32) * 0.1).astype(np.float32)
    w2 = (rs.randn(32, 32) * 0.2).astype(np.float32)
    net = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 32, bias=False))
    with gpujit.no_grad():
        net[0].weight.copy_(gpujit.tensor(w1))
        net[0].bias.copy_(gpujit.tensor(b1))
        net[2].weight.copy_(gpujit.tensor(w2))
    net = net.to(bf)
    opt = gpujit.optim.AdamW(net.parameters(), lr=0.01, weight_decay=0.1)
    x = gpujit.tensor(rs.randn(4, 32).astype(np.float32)).to(bf)
    y = gpujit.tensor(rs.randint(0, 32, 4))
    losses = []
    for _ in range(6):
        opt.zero_grad()
        loss = F.cross_entropy(net(x).float(), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    for p in net.parameters():
        assert _bf16_exact(p.detach().float().numpy())
    np.testing.assert_allclose(losses, LOSSES_ADAMW, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(net[0].bias.detach().float().numpy()[:8],
                                  np.array(BIAS_ADAMW, np.float32))


LOSSES_ADAMW = [4.105690002441406, 3.372770071029663, 2.696841239929199, 2.095167875289917,
                1.5930202007293701, 1.18720281124115]
BIAS_ADAMW = [0.11572265625, -0.061279296875, -0.162109375, -0.048828125, 0.1708984375,
              -0.10498046875, -0.021728515625, 0.06689453125]


def test_bfloat16_clip_grad_norm_as_torch():
    # the total norm is a bfloat16 number (float32 before s62: 65.4517 where torch says
    # 65.5) and the clipped grads stay bfloat16 numbers, torch's bit for bit
    rs = np.random.RandomState(0)
    gs = [gpujit.tensor(rs.randn(*s).astype(np.float32)).to(gpujit.bfloat16)
          for s in [(8, 8), (8,), (3,)]]
    ps = [gpujit.nn.Parameter(gpujit.zeros_like(g)) for g in gs]
    for p, g in zip(ps, gs):
        p.grad = g.clone()
    tn = gpujit.nn.utils.clip_grad_norm_(ps, 0.1)
    assert tn.dtype == gpujit.bfloat16 and float(tn) == 8.9375
    np.testing.assert_array_equal(ps[1].grad.float().numpy(), np.array(
        [0.001983642578125, -0.004486083984375, -0.0181884765625, 0.005157470703125,
         -0.0101318359375, 0.000579833984375, 0.0081787109375, 0.00144195556640625],
        np.float32))
    np.testing.assert_array_equal(ps[2].grad.float().numpy(), np.array(
        [0.01275634765625, -0.0137939453125, 0.004486083984375], np.float32))
    for p, g in zip(ps, gs):
        p.grad = g.clone()
    tn = gpujit.nn.utils.clip_grad_norm_(ps, 1.0, norm_type="inf")
    assert float(tn) == 2.546875
    np.testing.assert_array_equal(ps[2].grad.float().numpy(),
                                  np.array([0.447265625, -0.484375, 0.158203125], np.float32))


def test_bfloat16_clip_grad_value_as_torch():
    # the clipped elements are bfloat16's 0.1 (0.10009765625), as torch's clamp_ stores them
    g = gpujit.tensor([0.3, -0.7, 0.05, 0.1]).to(gpujit.bfloat16)
    p = gpujit.nn.Parameter(gpujit.zeros_like(g))
    p.grad = g
    gpujit.nn.utils.clip_grad_value_([p], 0.1)
    np.testing.assert_array_equal(p.grad.float().numpy(), np.array(
        [0.10009765625, -0.10009765625, 0.050048828125, 0.10009765625], np.float32))
