"""The executor (gpujit.runtime): graphs from IR text run as generated code, checked
against the reference interpreter and NumPy; specialization, guards, control flow,
in-place ops, module attributes, tracebacks into generated code, GPUJIT_DUMP."""
from __future__ import annotations

import traceback

import numpy as np
import pytest

import gpujit
from gpujit.ir import parse_ir, types as T
from gpujit.runtime import Executable, interpret


def compile_ir(text, name="f", **kw):
    g = parse_ir(text)
    g.lint()
    kw.setdefault("fuse", False)       # these tests read the unfused generated code
    return g, Executable(g, name, **kw)


def as_np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def check(got, ref):
    """Same structure, same dtypes, same values (interpreter vs executor)."""
    if isinstance(ref, gpujit.Tensor):
        assert isinstance(got, gpujit.Tensor), got
        assert got.dtype is ref.dtype and tuple(got.shape) == tuple(ref.shape)
        np.testing.assert_allclose(as_np(got), as_np(ref), rtol=1e-6, atol=1e-7)
    elif isinstance(ref, (tuple, list)):
        assert type(got) is type(ref) and len(got) == len(ref)
        for a, b in zip(got, ref):
            check(a, b)
    elif isinstance(ref, dict):
        assert type(got) is dict and list(got) == list(ref)
        for k in ref:
            check(got[k], ref[k])
    else:
        assert type(got) is type(ref) and got == ref


TEN_OPS = """graph(%x : Tensor, %y : Tensor):
  %one : int = prim::Constant[value=1]()
  %half : float = prim::Constant[value=0.5]()
  %a : Tensor = aten::mul(%x, %y)
  %b : Tensor = aten::add(%a, %x, %one)
  %t : Tensor = aten::tanh(%b)
  %d : Tensor = aten::sub(%t, %y, %one)
  %e : Tensor = aten::sigmoid(%d)
  %f : Tensor = aten::mul(%e, %half)
  %r : Tensor = aten::relu(%f)
  %i : Tensor = aten::add(%r, %x, %one)
  %j : Tensor = aten::div(%i, %y)
  %k : Tensor = aten::exp(%j)
  return (%k)
"""


def test_ten_ops_match_numpy_and_the_interpreter():
    g, exe = compile_ir(TEN_OPS)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16, dtype=np.float32)
    y = rng.random(16, dtype=np.float32) + 0.5
    X, Y = gpujit.from_numpy(x), gpujit.from_numpy(y)
    first, second = exe(X, Y), exe(X, Y)          # profiling run, then generated code
    check(first, interpret(g, X, Y))
    check(second, first)
    d = np.tanh(x * y + x) - y
    want = np.exp((np.maximum(0.5 / (1 + np.exp(-d)), 0) + x) / y)
    np.testing.assert_allclose(as_np(second), want, rtol=1e-5)
    src = exe.source
    assert "_np_multiply(x, y)" in src and "_impl_tanh(_np, b)" in src and "_impl_sigmoid(_np, d)" in src
    assert ".astype(" not in src           # all float32: no cast anywhere
    assert exe.stats["compiles"] == 1 and exe.stats["profiling_runs"] == 1


def test_generated_source_for_a_small_graph():
    g, exe = compile_ir("""graph(%x : Tensor, %y : Tensor):
  %one : int = prim::Constant[value=1]()
  %a : Tensor = aten::mul(%x, %y)
  %b : Tensor = aten::add(%a, %x, %one)
  %c : Tensor = aten::neg(%b)
  return (%c, %x)
""", "small")
    x = gpujit.tensor([1.0, 2.0])
    out = exe(x, gpujit.tensor([3.0, 4.0]))
    assert exe.code_for(x, gpujit.tensor([3.0, 4.0])) == exe.source
    name = exe.specializations[0].name
    assert exe.source == f"""def {name}(x_t, y):
    x = x_t._data
    y = y._data
    try:
        a = _np_multiply(x, y)
    except ValueError as _exc:
        raise _bcast(_op_mul, _exc, x, y) from None
    try:
        b = _np_add(a, x)
    except ValueError as _exc:
        raise _bcast(_op_add, _exc, a, x) from None
    del a
    c = _np_negative(b)
    del b
    ret = _new(_T); ret._data = c if c.size else _empty_layout(c); ret._dtype = _float32; \
ret._device = _cpu; ret._vc = [0]; ret._ag = None; ret._base = None
    return ret, x_t
"""
    assert out[1] is x                     # an input returned is the same Tensor


def test_promotion_int_tensor_float_scalar_and_zero_dim():
    g, exe = compile_ir("""graph(%i : Tensor, %s : float, %z : Tensor, %w : Tensor):
  %one : int = prim::Constant[value=1]()
  %a : Tensor = aten::add(%i, %s, %one)
  %b : Tensor = aten::add(%w, %z, %one)
  %c : Tensor = aten::mul(%i, %z)
  return (%a, %b, %c)
""")
    i = gpujit.tensor([1, 2, 3])
    z = gpujit.tensor(2.5, dtype=gpujit.float64)
    w = gpujit.tensor([1.0, 2.0, 4.0])
    exe(i, 0.5, z, w)
    a, b, c = exe(i, 0.5, z, w)
    assert (a.dtype, b.dtype, c.dtype) == (gpujit.float32, gpujit.float32, gpujit.float64)
    check((a, b, c), (i + 0.5, w + z, i * z))
    src = exe.source
    assert "_np_add(i.astype(_np_float32), s)" in src     # int tensor -> float32
    assert "_np_add(w, z.astype(_np_float32))" in src     # 0-dim float64 joins float32
    assert "_np_multiply(i.astype(_np_float64), z)" in src


def test_python_int_out_of_range_wraps_as_eager():
    g, exe = compile_ir("""graph(%x : Tensor, %k : int):
  %one : int = prim::Constant[value=1]()
  %big : int = prim::Constant[value=300]()
  %a : Tensor = aten::add(%x, %big, %one)
  %b : Tensor = aten::add(%x, %k, %one)
  return (%a, %b)
""")
    x = gpujit.tensor([1, 2], dtype=gpujit.int8)
    for _ in range(2):
        check(exe(x, 1000), (x + 300, x + 1000))
    assert "except OverflowError" in exe.source


def test_broadcast_error_speaks_eager_words():
    g, exe = compile_ir("""graph(%x : Tensor, %y : Tensor):
  %a : Tensor = aten::mul(%x, %y)
  return (%a)
""")
    exe(gpujit.ones(3), gpujit.ones(3))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of "
                                           r"tensor b \(4\)"):
        exe(gpujit.ones(3), gpujit.ones(4))


IF_LOOP = """graph(%x : Tensor, %n : int):
  %zero : int = prim::Constant[value=0]()
  %true : bool = prim::Constant[value=1]()
  %c : bool = aten::gt(%n, %zero)
  %y : Tensor = prim::If(%c)
    block0():
      %a : Tensor = aten::neg(%x)
      -> (%a)
    block1():
      %two : int = prim::Constant[value=2]()
      %b : Tensor = aten::mul(%x, %two)
      -> (%b)
  %acc : Tensor, %k : int = prim::Loop(%n, %true, %y, %zero)
    block0(%i : int, %acc.1 : Tensor, %k.1 : int):
      %one : int = prim::Constant[value=1]()
      %s : Tensor = aten::add(%acc.1, %x, %one)
      %k.2 : int = aten::add(%k.1, %i)
      -> (%true, %s, %k.2)
  return (%acc, %k)
"""


def _if_loop_numpy(x, n):
    y = -x if n > 0 else 2 * x
    return y + max(n, 0) * x, sum(range(n))


def test_if_and_loop_with_carried_values():
    g, exe = compile_ir(IF_LOOP)
    x = gpujit.tensor([1.0, -2.0, 3.0])
    for n in (3, 3, 5, 0, 0, 4, -2):
        got = exe(x, n)
        check(got, interpret(g, x, n))
        want, k = _if_loop_numpy(x.numpy(), n)
        np.testing.assert_allclose(as_np(got[0]), want)
        assert got[1] == k
    src = exe.source
    assert "if c:" in src and "else:" in src and "for i in range(n):" in src
    # the else branch ran after the first profile: one re-profile, then code for both paths
    assert exe.stats["stale"] == 1 and exe.stats["compiles"] == 2
    assert "_stale()" not in src and "= _op_" not in src      # no generic fallback left


def test_while_loop_on_a_tensor_condition():
    g, exe = compile_ir("""graph(%x : Tensor, %lim : float):
  %max : int = prim::Constant[value=9223372036854775807]()
  %none : NoneType = prim::Constant()
  %two : int = prim::Constant[value=2]()
  %s0 : Tensor = aten::sum(%x, %none)
  %f0 : float = aten::Float(%s0)
  %c0 : bool = aten::lt(%f0, %lim)
  %y : Tensor = prim::Loop(%max, %c0, %x)
    block0(%i : int, %y.1 : Tensor):
      %y.2 : Tensor = aten::mul(%y.1, %two)
      %s : Tensor = aten::sum(%y.2, %none)
      %f : float = aten::Float(%s)
      %c : bool = aten::lt(%f, %lim)
      -> (%c, %y.2)
  return (%y)
""")
    x = gpujit.tensor([1.0, 2.0])
    for lim in (100.0, 100.0, 2.0, 1000.0):
        got = exe(x, lim)
        check(got, interpret(g, x, lim))
        want = x.numpy()
        while want.sum() < lim:
            want = want * 2
        np.testing.assert_allclose(as_np(got), want)
    assert "while cond:" in exe.source and "f0 < lim" in exe.source


def test_tuples_lists_and_a_value_returned_twice():
    g, exe = compile_ir("""graph(%x : Tensor, %y : Tensor):
  %zero : int = prim::Constant[value=0]()
  %false : bool = prim::Constant[value=0]()
  %l : Tensor[] = prim::ListConstruct(%x, %y)
  %c : Tensor = aten::cat(%l, %zero)
  %v : Tensor, %i : Tensor = aten::max(%c, %zero, %false)
  %n : int = aten::size(%c, %zero)
  %parts : Tensor[] = aten::chunk(%c, %n, %zero)
  %p0 : Tensor, %p1 : Tensor, %p2 : Tensor, %p3 : Tensor = prim::ListUnpack(%parts)
  %t : Tensor = aten::tanh(%p1)
  %inner : (Tensor, int) = prim::TupleConstruct(%t, %n)
  %out : ((Tensor, int), Tensor[], Tensor, Tensor) = prim::TupleConstruct(%inner, %l, %v, %v)
  return (%out, %i, %parts)
""")
    x = gpujit.tensor([[1.0, 5.0], [3.0, 2.0]])
    y = gpujit.tensor([[0.0, 1.0], [7.0, 1.0]])
    exe(x, y)
    got = exe(x, y)
    check(got, interpret(g, x, y))
    (inner, lst, v1, v2), idx, parts = got
    assert v1 is v2 and lst[0] is x and lst[1] is y
    np.testing.assert_allclose(as_np(inner[0]), np.tanh([[3.0, 2.0]]), rtol=1e-6)
    assert inner[1] == 4 and isinstance(parts, list) and len(parts) == 4


def test_inplace_op_on_an_input():
    g, exe = compile_ir("""graph(%x : Tensor, %y : Tensor):
  %one : int = prim::Constant[value=1]()
  %a : Tensor = aten::add_(%x, %y, %one)
  %b : Tensor = aten::mul(%a, %y)
  return (%a, %b)
""")
    x = gpujit.tensor([1.0, 2.0])
    y = gpujit.tensor([10.0, 20.0])
    exe(x, y)                                   # profiling run: x = [11, 22]
    a, b = exe(x, y)                            # generated code: x = [21, 42]
    assert a is x and x._version == 2
    np.testing.assert_allclose(as_np(x), [21.0, 42.0])
    np.testing.assert_allclose(as_np(b), [210.0, 840.0])
    assert "_copyto(x, a_r, casting='unsafe')" in exe.source
    # an int tensor cannot take a float result in place: eager's error, from the fallback
    with pytest.raises(RuntimeError, match="can't be cast"):
        exe(gpujit.tensor([1, 2]), gpujit.tensor([0.5, 0.5]))


def test_new_dtype_or_rank_makes_a_second_specialization():
    g, exe = compile_ir("""graph(%x : Tensor, %y : Tensor):
  %a : Tensor = aten::mul(%x, %y)
  %b : Tensor = aten::sigmoid(%a)
  return (%b)
""")
    f32 = (gpujit.tensor([1.0, 2.0]), gpujit.tensor([0.5, -1.0]))
    f64 = (gpujit.tensor([[1.0], [2.0]], dtype=gpujit.float64), gpujit.tensor([0.5, -1.0]))
    for args in (f32, f32, f64, f64, f32, f64):
        check(exe(*args), interpret(g, *args))
    assert exe.stats["compiles"] == 2 and exe.stats["profiling_runs"] == 2
    src32, src64 = exe.code_for(*f32), exe.code_for(*f64)
    assert ".astype(" not in src32
    assert "_np_multiply(x, y.astype(_np_float64))" in src64
    assert exe.graph_for(*f64).inputs[0].type.dtype is gpujit.float64


def test_past_max_specializations_the_interpreter_answers():
    g, exe = compile_ir("""graph(%x : Tensor):
  %a : Tensor = aten::exp(%x)
  return (%a)
""", max_specializations=1)
    a, b = gpujit.tensor([0.0, 1.0]), gpujit.tensor([0, 1])
    check(exe(a), gpujit.exp(a))
    with pytest.warns(gpujit.fusers.FusionWarning, match="run unfused"):   # once
        check(exe(b), gpujit.exp(b))
    check(exe(b), gpujit.exp(b))
    assert exe.stats["compiles"] == 1 and exe.stats["interpreted"] == 2


def test_traceback_shows_the_generated_line():
    g, exe = compile_ir("""graph(%x : Tensor, %y : Tensor):
  %a : Tensor = aten::matmul(%x, %y)
  %b : Tensor = aten::tanh(%a)
  return (%b)
""", "mm")
    exe(gpujit.ones(2, 3), gpujit.ones(3, 4))
    with pytest.raises(RuntimeError, match="cannot be multiplied") as info:
        exe(gpujit.ones(2, 3), gpujit.ones(5, 4))
    text = "".join(traceback.format_exception(info.value))
    name = exe.specializations[0].name
    assert f'File "<gpujit-code {name}>", line 4, in {name}' in text
    # the generated line itself, with the call it failed in (matmul's result is made
    # C-contiguous as PyTorch's, hence the wrapper)
    line = next(l for l in text.splitlines() if "_impl_matmul(_np, x, y)" in l)
    assert line.strip().startswith("a = _asarray(")


def test_gpujit_dump_prints_graph_and_code(capsys, monkeypatch):
    monkeypatch.setenv("GPUJIT_DUMP", "graph,code")
    g, exe = compile_ir("""graph(%x : Tensor):
  %a : Tensor = aten::exp(%x)
  return (%a)
""", "dumped")
    exe(gpujit.ones(2, 3))
    out = capsys.readouterr().out
    name = exe.specializations[0].name
    assert f"[gpujit] graph of {name} (optimized, profiled types):" in out
    assert "%x : Float(2, 3, strides=[3, 1], requires_grad=0, device=cpu)" in out
    assert f"[gpujit] code of {name}:\ndef {name}(x):" in out



def test_gpujit_dump_entries_ignore_spaces_and_case_and_unknown_ones_warn(capsys, monkeypatch):
    """Every layer reads GPUJIT_DUMP alike: `fusion, Kernels` prints the fusion graph and
    the kernel (the kernel layer skipped " kernels" with its space), and an entry gpujit
    does not know (a typo: "kernel") is named in a warning instead of printing nothing."""
    import warnings
    from gpujit import _dump
    monkeypatch.setenv("GPUJIT_DUMP", "fusion, Kernels")

    def f(x, y):
        return gpujit.tanh(x * 1.125 + y) * gpujit.sigmoid(y)
    x, y = gpujit.randn(16), gpujit.randn(16)
    t = gpujit.jit.trace(f, (x, y))
    for _ in range(2):
        t(x, y)
    out = capsys.readouterr().out
    assert "[gpujit] graph of " in out and "prim::TensorExprGroup_0" in out
    assert "[gpujit] kernel (cpu):" in out
    monkeypatch.setenv("GPUJIT_DUMP", "kernel,graph")
    monkeypatch.setattr(_dump, "_warned", set())
    with pytest.warns(UserWarning, match=r"GPUJIT_DUMP: unknown entry 'kernel' \(known: "
                                         r"ops, graph, code, fusion, kernels, recompile, names\)"):
        assert _dump.dump_flags() == {"kernel", "graph"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _dump.dump_flags()                    # once per entry


def test_raise_exception_names_the_class():
    g, exe = compile_ir("""graph(%x : Tensor, %n : int):
  %zero : int = prim::Constant[value=0]()
  %c : bool = aten::le(%n, %zero)
   = prim::If(%c)
    block0():
      %msg : str = prim::Constant[value="n must be positive"]()
      %cls : str = prim::Constant[value="builtins.ValueError"]()
       = prim::RaiseException(%msg, %cls)
      -> ()
    block1():
      -> ()
  %y : Tensor = aten::mul(%x, %n)
  return (%y)
""")
    x = gpujit.tensor([1.0, 2.0])
    check(exe(x, 2), x * 2)
    check(exe(x, 3), x * 3)
    for run in (exe, lambda *a: interpret(g, *a)):
        with pytest.raises(ValueError, match="n must be positive"):
            run(x, 0)
    assert "raise _exception_for('n must be positive', 'builtins.ValueError')" in exe.source


class _Scaled(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = gpujit.nn.Linear(3, 2)
        self.scale = gpujit.nn.Parameter(gpujit.tensor([2.0, 3.0]))
        self.calls = 0


_SCALED = T.register_class_type(T.ClassType("__torch__.test_executor._Scaled"))
T.register_class_type(T.ClassType("__torch__.torch.nn.modules.linear.Linear"))


def test_module_attributes_linear_and_guards():
    g, exe = compile_ir("""graph(%self : __torch__.test_executor._Scaled, %x : Tensor):
  %lin : __torch__.torch.nn.modules.linear.Linear = prim::GetAttr[name="lin"](%self)
  %w : Tensor = prim::GetAttr[name="weight"](%lin)
  %b : Tensor = prim::GetAttr[name="bias"](%lin)
  %s : Tensor = prim::GetAttr[name="scale"](%self)
  %y : Tensor = aten::linear(%x, %w, %b)
  %z : Tensor = aten::mul(%y, %s)
  return (%z, %w)
""", "forward")
    m = _Scaled()
    x = gpujit.randn(4, 3)
    exe(m, x)
    z, w = exe(m, x)
    assert w is m.lin.weight
    W, B, S = (as_np(t) for t in (m.lin.weight, m.lin.bias, m.scale))
    np.testing.assert_allclose(as_np(z), (as_np(x) @ W.T + B) * S, rtol=1e-5)
    assert "w_t = lin._parameters.get('weight', _MISSING)" in exe.source
    assert "return _deopt(self, x)" in exe.source
    # a module attribute of another dtype: the guard sends the call back, a new
    # specialization serves it, and the old one is chosen again when it fits again
    m.scale = gpujit.nn.Parameter(gpujit.tensor([2.0, 3.0], dtype=gpujit.float64))
    check(exe(m, x)[0], interpret(g, m, x)[0])
    assert exe(m, x)[0].dtype is gpujit.float64
    m.scale = gpujit.nn.Parameter(gpujit.tensor([2.0, 3.0]))
    assert exe(m, x)[0].dtype is gpujit.float32
    assert exe.stats["compiles"] == 2 and exe.stats["deopts"] == 2


def test_setattr_print_and_call_method(capsys):
    callee = parse_ir("""graph(%self : __torch__.test_executor._Scaled, %x : Tensor):
  %s : Tensor = prim::GetAttr[name="scale"](%self)
  %y : Tensor = aten::mul(%x, %s)
  return (%y)
""")
    _SCALED.methods["scaled"] = callee
    g, exe = compile_ir("""graph(%self : __torch__.test_executor._Scaled, %x : Tensor):
  %y : Tensor = prim::CallMethod[name="scaled"](%self, %x)
  %c : int = prim::GetAttr[name="calls"](%self)
  %one : int = prim::Constant[value=1]()
  %c2 : int = aten::add(%c, %one)
   = prim::SetAttr[name="calls"](%self, %c2)
   = prim::Print(%y, %c2)
  return (%y)
""", optimize=False)
    m = _Scaled()
    for k in range(1, 4):
        check(exe(m, gpujit.tensor([1.0, 1.0])), m.scale * 1.0)
        assert m.calls == k
    # (TorchScript's prim::Print writes a Tensor as ATen's C++ printer: torch 2.13's text)
    assert capsys.readouterr().out.splitlines()[-3:] == [" 2", " 3", "[ CPUFloatType{2} ] 3"]
    assert "self.calls = " in exe.source and "_call_scaled(self, x" in exe.source


def test_interpreter_is_eager_node_by_node():
    g = parse_ir("""graph(%x : Tensor, %n : int):
  %nt : Tensor = prim::NumToTensor(%n)
  %f : float = prim::Constant[value=1.5]()
  %ft : Tensor = prim::NumToTensor(%f)
  %a : Tensor = aten::mul(%x, %nt)
  %d : Dict(str, Tensor) = prim::DictConstruct(%n, %a)
  %t : (Tensor, Tensor) = prim::TupleConstruct(%a, %ft)
  %zero : int = prim::Constant[value=0]()
  %t0 : Tensor = prim::TupleIndex(%t, %zero)
  %u : Tensor = prim::unchecked_cast(%t0)
  return (%u, %ft, %d)
""")
    x = gpujit.tensor([1, 2], dtype=gpujit.int32)
    u, ft, d = interpret(g, x, 3)
    assert u.dtype is gpujit.int32 and u.tolist() == [3, 6]       # 0-dim int64 joins int32
    assert ft.dtype is gpujit.float64 and ft.item() == 1.5       # TorchScript's NumToTensor
    assert list(d) == [3] and d[3] is u
    exe = Executable(g, "nt", fuse=False)
    exe(x, 3)
    check(exe(x, 3), (u, ft, d))


@pytest.mark.cuda
def test_cuda_graph_matches_cpu():
    g, exe = compile_ir(TEN_OPS)
    x = gpujit.randn(16)
    y = gpujit.rand(16) + 0.5
    want = interpret(g, x, y)
    xc, yc = x.to("cuda"), y.to("cuda")
    exe(xc, yc)
    got = exe(xc, yc)
    assert got.device.type == "cuda" and got.dtype is gpujit.float32
    np.testing.assert_allclose(got.cpu().numpy(), as_np(want), rtol=1e-5, atol=1e-6)
    assert "_cp_multiply(x, y)" in exe.source


@pytest.mark.cuda
def test_cuda_zero_dim_cpu_operand_and_inplace():
    g, exe = compile_ir("""graph(%x : Tensor, %s : Tensor, %y : Tensor):
  %one : int = prim::Constant[value=1]()
  %a : Tensor = aten::mul(%x, %s)
  %b : Tensor = aten::add_(%y, %a, %one)
  return (%b)
""")
    x = gpujit.tensor([1.0, 2.0], device="cuda")
    s = gpujit.tensor(3.0, dtype=gpujit.float64)          # 0-dim CPU: read as a scalar
    y = gpujit.zeros(2, device="cuda")
    exe(x, s, y)
    out = exe(x, s, y)
    assert out is y and y._version == 2
    np.testing.assert_allclose(y.cpu().numpy(), [6.0, 12.0])
    assert "_cp.asarray(s)" in exe.source and "y[...] = b_r" in exe.source


# ---------------------------------------------------------------------- random graphs

_DTYPES = [gpujit.float32, gpujit.float64, gpujit.float16, gpujit.int32, gpujit.int64,
           gpujit.int8, gpujit.uint8, gpujit.bool]
_BINARY = ["mul", "add", "sub", "div", "maximum", "atan2", "lt", "remainder", "pow",
           "add_", "mul_"]
_UNARY = ["neg", "abs", "exp", "tanh", "sigmoid", "relu", "sqrt", "logical_not", "sign",
          "squeeze", "sum", "unsqueeze"]


def _random_graph(rng):
    """A random elementwise graph over tensors of mixed dtypes and ranks, Python numbers
    and constants (promotion, casts, 0-dim operands, in-place writes, ranks the profile
    cannot fix), with inputs to run it on."""
    decl, args = [], []
    for k in range(int(rng.integers(1, 4))):
        if rng.random() < 0.2:
            v = [2, -1, 0.5, True][int(rng.integers(4))]
            decl.append(f"%i{k} : {type(v).__name__}")
        else:
            shape = [(), (3,), (2, 3), (1, 3)][int(rng.integers(4))]
            dt = _DTYPES[int(rng.integers(len(_DTYPES)))]
            v = gpujit.tensor(rng.uniform(-3, 3, size=shape)).to(dt)
            decl.append(f"%i{k} : Tensor")
        args.append(v)
    lines = ["  %c1 : int = prim::Constant[value=2]()",
             "  %c2 : float = prim::Constant[value=0.5]()",
             "  %c3 : int = prim::Constant[value=300]()",
             "  %one : int = prim::Constant[value=1]()",
             "  %zero : int = prim::Constant[value=0]()",
             "  %none : NoneType = prim::Constant()"]
    names = [f"%i{k}" for k in range(len(args))]
    for n in range(int(rng.integers(1, 6))):
        a = names[int(rng.integers(len(names)))]
        pool = names + ["%c1", "%c2", "%c3"]
        b = pool[int(rng.integers(len(pool)))]
        if rng.random() < 0.5:
            op = _BINARY[int(rng.integers(len(_BINARY)))]
            extra = ", %one" if op in ("add", "sub", "add_") else ""
            lines.append(f"  %v{n} : Tensor = aten::{op}({a}, {b}{extra})")
        else:
            op = _UNARY[int(rng.integers(len(_UNARY)))]
            extra = {"sum": ", %none", "unsqueeze": ", %zero"}.get(op, "")
            lines.append(f"  %v{n} : Tensor = aten::{op}({a}{extra})")
        names.append(f"%v{n}")
    text = f"graph({', '.join(decl)}):\n" + "\n".join(lines) + f"\n  return ({names[-1]})\n"
    return text, args


def _outcome(fn, args):
    args = [a.clone() if isinstance(a, gpujit.Tensor) else a for a in args]
    try:
        return fn(*args)
    except Exception as e:          # eager's own errors must come out the same
        return type(e)


@pytest.mark.parametrize("seed", range(4))
def test_random_graphs_agree_with_the_interpreter(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        text, args = _random_graph(rng)
        exe = Executable(parse_ir(text), "rand")      # the optimized graph is the reference:
        want = _outcome(lambda *a: interpret(exe.graph, *a), args)   # DCE drops dead nodes
        for _ in range(2):                           # profiling run, then generated code
            got = _outcome(exe, args)
            if isinstance(want, type):
                assert got is want, (text, exe.source)
            elif isinstance(want, gpujit.Tensor):
                assert isinstance(got, gpujit.Tensor) and got.dtype is want.dtype, text
                assert type(got._data) is np.ndarray, text     # never a NumPy scalar
                np.testing.assert_allclose(got.double().numpy(), want.double().numpy(),
                                           rtol=1e-3, atol=1e-3, equal_nan=True,
                                           err_msg=f"{text}\n{exe.source}")
            else:
                assert type(got) is type(want) and got == want, text
