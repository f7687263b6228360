"""Scripted torch.nn.functional and nn modules, helper a61 (session 61): torch 2.13's
behaviour, written down.

- F.batch_norm compiles to torch's body (a prim::CallFunction of `batch_norm`): in
  training its `_verify_batch_size` raises torch's ValueError for one value per channel,
  in a scripted function and in a scripted nn.BatchNorm1d; the DifferentiableGraph region
  of a training batch_norm still takes the op before it (torch moves a region across an
  If that only raises: its check runs after the region);
- a None parameter / buffer of a scripted module is read with prim::GetAttr (NoneType),
  as torch's `bias = self.bias` in Linear(bias=False)'s code;
- scripted nn modules' graphs number their values as torch's: torch 2.13's forward
  methods have a docstring (a str constant the frontend makes and drops: one number), a
  module constant (`self.beta`) is inserted where it is read, not pooled first as a
  literal; the naming replay covers `x.long()` / `.float()` (aten::to's dtype constant).
"""
import io
import re

import numpy as np
import pytest

import gpujit as torch
from gpujit import nn

F = torch.nn.functional


def _bn_train(x, rm: torch.Tensor, rv: torch.Tensor):
    return F.batch_norm(x, rm, rv, training=True)


def test_scripted_batch_norm_is_torch_call_function():
    s = torch.jit.script(_bn_train)
    kinds = [n.kind for n in s.graph.nodes]
    assert "prim::CallFunction" in kinds and "aten::batch_norm" not in kinds
    assert "__torch__.torch.nn.functional.batch_norm" in s.code
    assert "aten::batch_norm" in str(s.inlined_graph)


def test_scripted_batch_norm_one_value_per_channel_raises_torch_value_error():
    s = torch.jit.script(_bn_train)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size \[1, 3\]"):
        s(torch.ones(1, 3), torch.zeros(3), torch.ones(3))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = s(torch.tensor(x), torch.zeros(3), torch.ones(3)).numpy()
    want = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)


def test_scripted_batch_norm_module_train_raises_eval_runs():
    m = torch.jit.script(nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        m(torch.ones(1, 3))
    assert "__torch__.torch.nn.functional.batch_norm" in m.code
    m.eval()
    out = m(torch.ones(1, 3)).detach().numpy()
    np.testing.assert_allclose(out, np.full((1, 3), 1 / np.sqrt(1 + 1e-5)), rtol=1e-6)


def test_scripted_instance_norm_one_spatial_element_raises():
    m = torch.jit.script(nn.InstanceNorm1d(3))
    with pytest.raises(ValueError, match=r"Expected more than 1 spatial element when "
                                         r"training, got input size \[2, 3, 1\]"):
        m(torch.ones(2, 3, 1))


def _short(fn):
    nm = fn.name().split("::")[-1].replace("DifferentiableGraphBackward", "DGB").replace(
        "AccumulateGrad", "A")
    subs = [_short(f) for f, _ in fn.next_functions if f is not None]
    return nm + ("(" + ", ".join(subs) + ")" if subs else "")


def _raise_between(x, w):
    y = x * 2
    if y.size(0) == 1:
        raise ValueError("one row")
    return torch.tanh(y @ w)


def test_region_moves_across_an_if_that_only_raises():
    # torch 2.13: DGB(A, A) from the 2nd call (mul, mm, tanh in one region; the check
    # after it); before, gpujit's region stopped at the If: DGB(A, MulBackward1(A))
    s = torch.jit.script(_raise_between)
    w = np.arange(9, dtype=np.float32).reshape(3, 3) / 9
    for _ in range(3):
        x = torch.ones(2, 3, requires_grad=True)
        wt = torch.tensor(w, requires_grad=True)
        out = s(x, wt)
    assert _short(out.grad_fn) == "DGB(A, A)"
    out.sum().backward()
    t = np.tanh(2 * np.ones((2, 3), np.float32) @ w)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (1 - t * t) @ w.T, rtol=1e-5)
    with pytest.raises(ValueError, match="one row"):
        s(torch.ones(1, 3, requires_grad=True), wt)


def test_training_batch_norm_region_takes_the_op_before_it():
    def f(x, w, b, rm, rv):
        return torch.tanh(F.batch_norm(x * 2, rm, rv, w, b, True)) * 2
    s = torch.jit.script(f)
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((4, 3)).astype(np.float32)
    rm, rv = torch.zeros(3), torch.ones(3)
    erm, erv = torch.zeros(3), torch.ones(3)
    for _ in range(3):
        args = [torch.tensor(xs, requires_grad=True), torch.ones(3, requires_grad=True),
                torch.zeros(3, requires_grad=True)]
        out = s(*args, rm, rv)
        want = torch.tanh(F.batch_norm(torch.tensor(xs) * 2, erm, erv, torch.ones(3),
                                       torch.zeros(3), True)) * 2
    assert _short(out.grad_fn) == "DGB(A, A, A)"
    np.testing.assert_allclose(out.detach().numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rm.numpy(), erm.numpy(), rtol=1e-6)
    np.testing.assert_allclose(rv.numpy(), erv.numpy(), rtol=1e-6)


def _text(g):
    """A graph's text without its source comments."""
    return "\n".join(re.sub(r"\s*# \S+:\d+:\d+$", "", ln) for ln in str(g).splitlines())


def test_none_parameter_is_a_none_attribute():
    lin = nn.Linear(3, 2, bias=False)
    m = torch.jit.script(lin)
    assert "  bias = self.bias\n  return torch.linear(input, weight, bias)" in m.code
    assert '%bias : NoneType = prim::GetAttr[name="bias"](%self)' in _text(m.graph)
    x = torch.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    want = x.numpy() @ lin.weight.detach().numpy().T
    np.testing.assert_allclose(m(x).detach().numpy(), want, rtol=1e-6)
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    np.testing.assert_allclose(torch.jit.load(buf)(x).detach().numpy(), want, rtol=1e-6)
    f = torch.jit.freeze(m.eval())
    np.testing.assert_allclose(f(x).detach().numpy(), want, rtol=1e-6)


def test_cross_entropy_loss_reads_its_none_weight_as_torch():
    m = torch.jit.script(nn.CrossEntropyLoss())
    assert m.code.strip() == """def forward(self,
    input: Tensor,
    target: Tensor) -> Tensor:
  _0 = __torch__.torch.nn.functional.cross_entropy
  weight = self.weight
  _1 = _0(input, target, weight, None, -100, None, "mean", 0., )
  return _1"""
    assert _text(m.graph).endswith("""
  %12 : Function = prim::Constant[name="cross_entropy"]()
  %10 : NoneType = prim::Constant()
  %9 : float = prim::Constant[value=0.]()
  %8 : str = prim::Constant[value="mean"]()
  %7 : int = prim::Constant[value=-100]()
  %weight : NoneType = prim::GetAttr[name="weight"](%self)
  %13 : Tensor = prim::CallFunction(%12, %input.1, %target.1, %weight, %10, %7, %10, %8, %9)
  return (%13)""")
    x = np.array([[1.0, 2.0, 0.5]], np.float32)
    got = float(m(torch.tensor(x), torch.tensor([1])))
    want = -(x[0, 1] - np.log(np.exp(x[0]).sum()))
    assert abs(got - want) < 1e-5


def test_module_graphs_number_values_as_torch():
    g = _text(torch.jit.script(nn.L1Loss()).graph)
    assert g.endswith("""
  %10 : Function = prim::Constant[name="l1_loss"]()
  %7 : NoneType = prim::Constant()
  %6 : str = prim::Constant[value="mean"]()
  %11 : Tensor = prim::CallFunction(%10, %input.1, %target.1, %7, %7, %6, %7)
  return (%11)"""), g
    g = _text(torch.jit.script(nn.ReLU6()).graph)
    assert """
  %7 : Function = prim::Constant[name="hardtanh"]()
  %6 : bool = prim::Constant[value=0]()
  %5 : float = prim::Constant[value=6.]()
  %4 : float = prim::Constant[value=0.]()
  %8 : Tensor = prim::CallFunction(%7, %input.1, %4, %5, %6)""" in g, g
    g = _text(torch.jit.script(nn.Softplus()).graph)
    assert g.endswith("""
  %5 : float = prim::Constant[value=20.]()
  %4 : float = prim::Constant[value=1.]()
  %6 : Tensor = aten::softplus(%input.1, %4, %5)
  return (%6)"""), g


def _to_float(x, y):
    return x.float()


def test_dtype_method_keeps_torch_names():
    g = _text(torch.jit.script(_to_float).graph)
    assert g == """graph(%x.1 : Tensor,
      %y : Tensor):
  %6 : NoneType = prim::Constant()
  %4 : bool = prim::Constant[value=0]()
  %3 : int = prim::Constant[value=6]()
  %7 : Tensor = aten::to(%x.1, %3, %4, %4, %6)
  return (%7)""", g


def test_setting_outside_constants_is_an_attribute():
    # torch.nn.KLDivLoss's __constants__ is ["reduction"]: log_target is read as torch's
    m = torch.jit.script(nn.KLDivLoss(reduction="sum", log_target=True))
    assert m.code.strip() == """def forward(self,
    input: Tensor,
    target: Tensor) -> Tensor:
  log_target = self.log_target
  _0 = __torch__.torch.nn.functional.kl_div(input, target, None, None, "sum", log_target, )
  return _0"""
    assert '%log_target : bool = prim::GetAttr[name="log_target"](%self)' in _text(m.graph)
    a = np.log(np.array([[0.2, 0.8]], np.float32))
    b = np.log(np.array([[0.5, 0.5]], np.float32))
    got = float(m(torch.tensor(a), torch.tensor(b)))
    want = (np.exp(b) * (b - a)).sum()
    assert abs(got - want) < 1e-6
    assert "zero_infinity = self.zero_infinity" in torch.jit.script(nn.CTCLoss()).code


def _contig(x):
    return x.contiguous()


def test_memory_format_default_is_torch_int_code():
    s = torch.jit.script(_contig)
    assert _text(s.graph) == """graph(%x.1 : Tensor):
  %2 : int = prim::Constant[value=0]()
  %3 : Tensor = aten::contiguous(%x.1, %2)
  return (%3)"""
    x = torch.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)).t()
    y = s(x)
    assert y.is_contiguous() and y.stride() == (2, 1)
    np.testing.assert_array_equal(y.numpy(), x.numpy())


def _fmp(x, y):
    return F.fractional_max_pool2d(x, 2, output_size=2)


def _fmp_r(x, r):
    return F.fractional_max_pool2d(x, 2, output_size=2, _random_samples=r)


def test_fractional_max_pool2d_calls_torch_body_with_broadcast_lists():
    # torch's _fractional_max_pool2d, kernel_size / output_size BroadcastingList2[int]:
    # an int 2 is [2, 2] (gpujit's helper was _fmp2_values, taking [2])
    s = torch.jit.script(_fmp)
    assert _text(s.graph) == """graph(%x.1 : Tensor,
      %y : Tensor):
  %9 : Function = prim::Constant[name="_fractional_max_pool2d"]()
  %7 : bool = prim::Constant[value=0]()
  %6 : NoneType = prim::Constant()
  %3 : int = prim::Constant[value=2]()
  %4 : int[] = prim::ListConstruct(%3, %3)
  %5 : int[] = prim::ListConstruct(%3, %3)
  %10 : Tensor = prim::CallFunction(%9, %x.1, %4, %5, %6, %7, %6)
  return (%10)"""
    assert "_0 = __torch__.torch.nn.functional._fractional_max_pool2d\n" \
        "  _1 = _0(x, [2, 2], [2, 2], None, False, None, )" in s.code
    x = torch.tensor(np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4))
    r = torch.tensor(np.full((1, 2, 2), 0.5, np.float32))
    got = torch.jit.script(_fmp_r)(x, r).numpy()
    np.testing.assert_array_equal(got, [[[[5, 7], [13, 15]], [[21, 23], [29, 31]]]])


def _gauss(x, t, v):
    return F.gaussian_nll_loss(x, t, v)


def test_losses_torch_cannot_script_raise_its_not_supported_error():
    from gpujit.frontend.script.errors import NotSupportedError
    with pytest.raises(NotSupportedError, match="Comprehension ifs are not supported yet"):
        torch.jit.script(_gauss)
    with pytest.raises(NotSupportedError, match="Comprehension ifs are not supported yet"):
        torch.jit.script(nn.GaussianNLLLoss())
    with pytest.raises(NotSupportedError, match="keyword-only arguments with defaults"):
        torch.jit.script(nn.TripletMarginWithDistanceLoss())


def _lp1(x, y):
    return F.lp_pool1d(x, 2.0, 2)


def _lp2(x):
    return F.lp_pool2d(x, 2.0, 2)


def test_lp_pool_kernel_size_types_are_torch():
    # torch 2.13: lp_pool1d's kernel_size is an int, lp_pool2d's a BroadcastingList2[int]
    s = torch.jit.script(_lp1)
    assert _text(s.graph) == """graph(%x.1 : Tensor,
      %y : Tensor):
  %7 : Function = prim::Constant[name="lp_pool1d"]()
  %6 : bool = prim::Constant[value=0]()
  %5 : NoneType = prim::Constant()
  %3 : float = prim::Constant[value=2.]()
  %4 : int = prim::Constant[value=2]()
  %8 : Tensor = prim::CallFunction(%7, %x.1, %3, %4, %5, %6)
  return (%8)"""
    assert "return _0(x, 2., 2, None, False, )" in s.code
    a = np.arange(8, dtype=np.float32).reshape(1, 2, 4)
    want = np.sqrt((a.reshape(1, 2, 2, 2) ** 2).sum(-1))
    np.testing.assert_allclose(s(torch.tensor(a), torch.tensor(a)).numpy(), want, rtol=1e-6)
    s2 = torch.jit.script(_lp2)
    assert "_0(x, 2., [2, 2], None, False, )" in s2.code
    b = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    want2 = np.sqrt((b.reshape(1, 1, 2, 2, 2, 2) ** 2).sum((3, 5)))
    np.testing.assert_allclose(s2(torch.tensor(b)).numpy(), want2, rtol=1e-6)
    # eager: a tuple kernel still works
    np.testing.assert_allclose(F.lp_pool1d(torch.tensor(a), 2.0, (2,)).numpy(), want,
                               rtol=1e-6)



def _ip_size(x):
    return F.interpolate(x, size=[8], mode="linear")


def _ip_scale(x):
    return F.interpolate(x, scale_factor=2.0)


def _mangle_of(fn):
    line = [ln for ln in torch.jit.script(fn).code.splitlines() if "interpolate" in ln][0]
    m = re.search(r"___torch_mangle_(\d+)\.interpolate", line)
    assert m is not None, line
    return int(m.group(1))


def test_overloads_are_named_in_declaration_order():
    # torch compiles every @_overload declaration of F.interpolate where it is first
    # called, in their order (size: List[int] is the 2nd, scale_factor: float the 3rd):
    # the names do not depend on which call comes first (gpujit numbered them by calls:
    # the scale_factor call first took the lower mangle)
    late = _mangle_of(_ip_scale)
    early = _mangle_of(_ip_size)
    assert late == early + 1


def _expand(x, y):
    return x.expand(2, 2, 2)


def _gt_float(x, y):
    return (x > 0).float()


def _data(x, y):
    return x.data


def test_naming_replay_covers_packed_sizes_compare_receivers_and_data():
    # torch 2.13's graphs (gpujit kept its own names, %x, where the replay stopped)
    assert _text(torch.jit.script(_expand).graph) == """graph(%x.1 : Tensor,
      %y : Tensor):
  %5 : bool = prim::Constant[value=0]()
  %3 : int = prim::Constant[value=2]()
  %4 : int[] = prim::ListConstruct(%3, %3, %3)
  %6 : Tensor = aten::expand(%x.1, %4, %5)
  return (%6)"""
    assert _text(torch.jit.script(_gt_float).graph) == """graph(%x.1 : Tensor,
      %y : Tensor):
  %8 : NoneType = prim::Constant()
  %6 : bool = prim::Constant[value=0]()
  %5 : int = prim::Constant[value=6]()
  %3 : int = prim::Constant[value=0]()
  %4 : Tensor = aten::gt(%x.1, %3)
  %9 : Tensor = aten::to(%4, %5, %6, %6, %8)
  return (%9)"""
    assert _text(torch.jit.script(_data).graph) == """graph(%x.1 : Tensor,
      %y : Tensor):
  %3 : Tensor = prim::data(%x.1)
  return (%3)"""


def _fstrings(x, n: int):
    if n < 0:
        raise ValueError(f"bad n {n} for {x.dim()}")
    s = f"n={n}"
    return x + n, s


def test_naming_replay_covers_f_strings():
    # torch's frontend makes f"..{n}.." "..{}..".format(n) (F's bodies raise so)
    s = torch.jit.script(_fstrings)
    assert _text(s.graph) == """graph(%x.1 : Tensor,
      %n.1 : int):
  %18 : int = prim::Constant[value=1]()
  %13 : str = prim::Constant[value="n={}"]()
  %11 : str = prim::Constant[value="builtins.ValueError"]()
  %6 : str = prim::Constant[value="bad n {} for {}"]()
  %3 : int = prim::Constant[value=0]()
  %4 : bool = aten::lt(%n.1, %3)
   = prim::If(%4)
    block0():
      %9 : int = aten::dim(%x.1)
      %10 : str = aten::format(%6, %n.1, %9)
       = prim::RaiseException(%10, %11)
      -> ()
    block1():
      -> ()
  %s.1 : str = aten::format(%13, %n.1)
  %19 : Tensor = aten::add(%x.1, %n.1, %18)
  %21 : (Tensor, str) = prim::TupleConstruct(%19, %s.1)
  return (%21)"""
    with pytest.raises(ValueError, match="bad n -1 for 1"):
        s(torch.ones(2), -1)
    assert s(torch.ones(2), 3)[1] == "n=3"
