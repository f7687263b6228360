"""gpujit.kernels: generated kernels compute what eager gpujit computes.

The reference is the unfused subgraph run by gpujit.runtime.interpret (eager ops). Kernels
are built for the CPU target here (tests/test_kernels_sim.py runs the CUDA code generator
under numba's simulator). numba compiles are slow, so each test builds few kernels: the
registry sweep puts every fusible op of one dtype into one kernel, and the cache directory
is one temporary directory per test session, shared by the kernel test files.
"""
from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import gpujit
from gpujit import dtypes as dt
from gpujit import kernels as K
from gpujit.ir import Graph, TensorType, Value, FLOAT, INT, BOOL
from gpujit.ops import registry
from gpujit.fusers.partition import unwrap_number_constants
from gpujit.runtime.interpreter import interpret

TOL = {dt.float16: (1e-2, 1e-3), dt.float32: (1e-5, 1e-6), dt.float64: (1e-12, 1e-14)}


@functools.lru_cache(None)
def session_cache_dir():
    """One kernel cache directory per test process (shared by the kernel test files),
    seeded with the session's entry-point and numba-helper caches (tests/cache_seed.py).
    A subprocess of test_fake_gpu's session uses the folder it was given (KERNEL_CACHE_ENV):
    the numba helpers compiled here are then shared with the tier's next subprocesses."""
    from cache_seed import KERNEL_CACHE_ENV, warm
    from test_fake_gpu import take_helpers
    given = os.environ.get(KERNEL_CACHE_ENV)
    if given and os.path.isdir(given):
        return given
    # (with the helpers the GPU and simulator tiers' subprocesses compiled: warm() copies
    # the session folder's only, and the sweeps' special functions cost ~20 s cold)
    folder = tempfile.mkdtemp(prefix="gpujit-kernel-tests-")
    # (removed when this process exits: one was left in /tmp per test process)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return take_helpers(warm(folder))


@pytest.fixture(scope="module", autouse=True)
def kernel_cache_dir():
    saved = os.environ.get("GPUJIT_CACHE_DIR")
    os.environ["GPUJIT_CACHE_DIR"] = session_cache_dir()
    yield session_cache_dir()
    if saved is None:
        os.environ.pop("GPUJIT_CACHE_DIR", None)
    else:
        os.environ["GPUJIT_CACHE_DIR"] = saved


# --------------------------------------------------------------------------------------
# helpers (also imported by the simulator tier's subprocess)

def wrap(a):
    return gpujit.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a


def reference(graph, args):
    """The subgraph's outputs, unfused (eager ops through the reference interpreter)."""
    with np.errstate(all="ignore"):
        r = interpret(graph, *[wrap(a) for a in args])
    r = r if isinstance(r, tuple) else (r,)
    return [x.numpy() for x in r]


def assert_same(got, want, where=""):
    assert got.shape == want.shape, f"{where}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{where}: dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind == "f":
        rtol, atol = TOL[dt.from_numpy_dtype(want.dtype)]
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol,
                                   atol=atol, equal_nan=True, err_msg=where)
    else:
        np.testing.assert_array_equal(got, want, err_msg=where)


def run_and_compare(graph, args, target="cpu", static=True):
    kernel = K.build(K.spec_for(graph, args, static=static), target)
    outs = kernel(*args)
    refs = reference(graph, args)
    assert len(outs) == len(refs)
    for j, (o, r) in enumerate(zip(outs, refs)):
        assert o.flags.c_contiguous
        assert_same(o, r, f"output {j}\n{kernel.source}")
    return kernel


def traced(fn, *examples):
    """The graph of fn traced on example arrays, its tuple result as separate outputs."""
    t = gpujit.jit.trace(fn, tuple(gpujit.from_numpy(np.array(a)) for a in examples),
                         check_trace=False)
    g = t.graph
    # (a traced number is a 0-dim tensor constant, as torch's wrapped number; the fuser
    # gives the ops that take a number that number before fusing: the same here)
    unwrap_number_constants(g)
    out = g.outputs[0]
    if out.node.kind == "prim::TupleConstruct":
        node, vals = out.node, list(out.node.inputs)
        g.block.erase_output(0)
        node.destroy()
        for v in vals:
            g.register_output(v)
    g.lint()
    return g


def add_node(g, op, inputs, example_result):
    n = g.insert(g.create(op.schema.name, inputs, output_types=[TensorType.of(example_result)]))
    n.op = op
    return n.output


# ---------------------------------------------------------------- the registry sweep

SCALAR_ARGS = {"min": -0.5, "max": 0.5, "threshold": 0.25, "value": 2, "weight": 0.3,
               # (the ReLU family's backward ops)
               "min_val": -0.5, "max_val": 0.5, "lambd": 0.3, "beta": 1.5, "alpha": 1.3,
               "scale": 0.8, "input_scale": 0.7, "lower": 0.1, "upper": 0.3}
VARIANTS = {"rounding_mode": (None, "trunc", "floor"), "approximate": ("none", "tanh"),
            "decimals": (1, -1), "equal_nan": (False, True), "eps": (None, 0.1),
            "negative_slope": (0.01, 0.2), "nan": (None, 1.5), "is_result": (False, True),
            "self_is_result": (False, True), "training": (False, True)}


def fusible_ops():
    return sorted((o for o in registry.OPS.values() if o.scalar and o.inplace_of is None),
                  key=lambda o: o.name)


def op_calls(op):
    """Argument lists of op for the sweep: "x"/"y"/"z" (tensors of the swept dtype), "m"
    (a bool mask), "c0" (a 0-dim tensor) or ("const", value), one per schema argument."""
    variants = [{}]
    for a in op.schema.arguments:
        if a.name in VARIANTS and not a.type.is_tensor:
            variants = [dict(v, **{a.name: val}) for v in variants for val in VARIANTS[a.name]]
    if op.name == "aten::to.dtype":
        variants = [{"dtype": d} for d in dt.ALL]
    calls = []
    for var in variants:
        args, tensors = [], iter(("x", "y", "z"))
        for a in op.schema.arguments:
            if a.name in var:
                args.append(("const", var[a.name]))
            elif a.type.base == "Tensor":
                if a.name in ("condition", "mask"):
                    args.append("m")
                elif op.name == "aten::masked_fill.Tensor" and a.name == "value":
                    args.append("c0")
                else:
                    args.append(next(tensors))
            elif a.name in SCALAR_ARGS and (not a.has_default or a.type.optional):
                args.append(("const", SCALAR_ARGS[a.name]))
            elif a.has_default:
                args.append(("const", a.default))
            else:
                raise AssertionError(f"{op.name}: the sweep has no value for {a.name}")
        calls.append(args)
    return calls


def sweep_values(dtype, shape=(4, 5), seed=0):
    rng = np.random.default_rng(seed)

    def arr(nonzero):
        if dtype is dt.bool:
            return np.ones(shape, bool) if nonzero else rng.random(shape) < 0.5
        if dtype.category == dt.INTEGRAL:
            a = rng.integers(0 if dtype is dt.uint8 else -9, 10, shape).astype(dtype.np)
            if nonzero:
                a[a == 0] = 3          # integer division by zero raises (tested apart)
            return a
        return (rng.standard_normal(shape) * 2).astype(dtype.np)

    x, y, z = arr(False), arr(True), arr(True)
    if dtype.category == dt.FLOATING:
        x.reshape(-1)[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 0.5]
        y.reshape(-1)[:2] = [0.0, -0.0]
    return {"x": x, "y": y, "z": z, "m": rng.random(shape) < 0.5,
            "c0": np.asarray(x.reshape(-1)[7])}


@functools.lru_cache(None)
def sweep_graph(dtype_name, op_names=None, shape=(4, 5)):
    """(graph, args, labels): every fusible op (or those named) applied to inputs of one
    dtype, each an output of one group (ops that reject the dtype are left out, as eager
    rejects them)."""
    dtype = dt.to_dtype(dtype_name)
    vals = sweep_values(dtype, shape)
    names = ["x", "y", "z", "m", "c0"]
    g = Graph()
    ins = {n: g.add_input(n, TensorType.of(gpujit.from_numpy(vals[n]))) for n in names}
    tens = {n: gpujit.from_numpy(vals[n]) for n in names}
    labels = []
    for op in fusible_ops():
        if op_names is not None and op.name not in op_names:
            continue
        for args in op_calls(op):
            try:
                with np.errstate(all="ignore"):
                    r = op.eager(*[tens[a] if isinstance(a, str) else a[1] for a in args])
            except Exception:
                continue          # the op does not take this dtype
            vs = [ins[a] if isinstance(a, str) else g.insert_constant(a[1]) for a in args]
            g.register_output(add_node(g, op, vs, r))
            shown = ", ".join(a if isinstance(a, str) else repr(a[1]) for a in args)
            labels.append(f"{op.name}({shown})")
    return g, [vals[n] for n in names], labels


SWEEP_DTYPES = [d.name for d in dt.ALL]


def vector_sweeps(dtype_name, target="cuda", shape=(3, 7), per=8):
    """Every fusible op in groups small enough for the CUDA kernels' vector loop (21
    elements: 5 vectors and a tail of 1): [(graph, args, labels)], each group's kernel
    checked to have the loop (a group too long for it is halved)."""
    from gpujit.kernels.emit import generate
    out, names = [], [op.name for op in fusible_ops()]
    todo = [tuple(names[i:i + per]) for i in range(0, len(names), per)]
    while todo:
        chunk = todo.pop()
        g, args, labels = sweep_graph(dtype_name, chunk, shape)
        if not labels:
            continue
        if "vec" in generate(K.spec_for(g, args, static=True), target).params:
            out.append((g, args, labels))
        elif len(chunk) > 1:
            todo += [chunk[:len(chunk) // 2], chunk[len(chunk) // 2:]]
        else:
            raise AssertionError(f"{chunk[0]} alone is too long for the vector loop")
    return out


def misaligned(a):
    """A copy of array a whose data starts 1 element past a 16-byte boundary."""
    if a.ndim == 0:
        return a
    buf = np.empty(a.size + 16, a.dtype)
    start = next(k for k in range(1, 17) if (buf.ctypes.data + k * a.itemsize) % 16)
    out = buf[start:start + a.size].reshape(a.shape)
    out[...] = a
    return out


def build_sweep(names, target="cpu"):
    for name in names:
        g, args, _ = sweep_graph(name)
        K.build(K.spec_for(g, args, static=True), target)


@pytest.fixture(scope="module")
def sweep_kernels():
    """Compile the sweep kernels (one per dtype) into the shared disk cache. (A subprocess
    built half of them on the other core: on CI both cores run a test worker, and it
    imported gpujit and compiled the special functions' numba helpers again, ~20 s of CPU
    cold, to save none.)"""
    build_sweep(SWEEP_DTYPES)
    from test_fake_gpu import give_helpers
    give_helpers(session_cache_dir())   # (the special functions' helpers, for later files)
    return True


@pytest.mark.parametrize("dtype_name", SWEEP_DTYPES)
def test_every_fusible_op_matches_eager(sweep_kernels, dtype_name):
    g, args, labels = sweep_graph(dtype_name)
    kernel = K.build(K.spec_for(g, args, static=True), "cpu")
    outs = kernel(*args)
    refs = reference(g, args)
    bad = []
    for label, o, r in zip(labels, outs, refs):
        try:
            assert_same(o, r, label)
        except AssertionError as e:
            bad.append(f"{label}: {str(e).strip().splitlines()[-3:]}")
    assert not bad, "\n".join(bad)


def test_the_sweep_covers_every_fusible_op():
    seen = {label.split("(")[0] for name in SWEEP_DTYPES for label in sweep_graph(name)[2]}
    missing = sorted(o.name for o in fusible_ops() if o.name not in seen)
    assert not missing, f"ops never fused by the sweep: {missing}"


# ------------------------------------------------------------------ layouts

def _pair(x, y):
    a = x * 2 + y
    return a.sigmoid(), x - 1, gpujit.where(x > y, x, y * 0.5)


_R = np.random.default_rng(1)
_A = _R.standard_normal((4, 5)).astype(np.float32)
_B = _R.standard_normal((5, 4)).astype(np.float32)
LAYOUTS = {
    "contiguous": (_A, _A + 1),
    "row broadcast": (_A, _A[:1]),
    "column broadcast": (_A, _A[:, :1]),
    "lower rank": (_A, _A[0]),
    "transposed": (_B.T, _A),
    "sliced": (_R.standard_normal((8, 10)).astype(np.float32)[::2, 1::2], _A),
    "negative strides": (_A[::-1, ::-1], _A),
    "0-dim": (_A, np.asarray(np.float32(3))),
    "both 0-dim": (np.asarray(np.float32(2)), np.asarray(np.float32(-3))),
    "0-size": (np.zeros((0, 5), np.float32), np.zeros((0, 5), np.float32)),
    "outer product": (_A[:, :1], _A[:1, :]),
    "read-only stride 0": (np.broadcast_to(_A[:1], (4, 5)), _A),
}


# DYNAMIC kernels are parallel loops, slower to compile: the cases that differ in kind
_DYNAMIC_CASES = ("contiguous", "column broadcast", "lower rank", "sliced", "negative strides",
                  "0-dim", "outer product", "read-only stride 0")


@pytest.mark.parametrize("static,case",
                         [(True, c) for c in LAYOUTS] + [(False, c) for c in _DYNAMIC_CASES],
                         ids=[f"STATIC-{c}" for c in LAYOUTS] + [f"DYNAMIC-{c}"
                                                                 for c in _DYNAMIC_CASES])
def test_layouts(case, static):
    x, y = LAYOUTS[case]
    k = run_and_compare(traced(_pair, x, y), (x, y), static=static)
    flat = case in ("contiguous", "0-dim", "both 0-dim", "0-size")
    assert k.layout.flat == flat


def test_a_dynamic_kernel_serves_other_sizes_of_its_pattern():
    g = traced(_pair, _A, _A[:1])
    k = K.build(K.spec_for(g, (_A, _A[:1]), static=False), "cpu")
    x = _R.standard_normal((7, 3)).astype(np.float32)
    spec = K.spec_for(g, (x, x[:1]), static=False)
    assert K.build(spec, "cpu") is k            # same pattern: the same kernel
    for o, r in zip(k(x, x[:1]), reference(g, (x, x[:1]))):
        assert_same(o, r)
    with pytest.raises(K.ShapeMismatch, match="do not broadcast at dimension 1"):
        k(x, _A[:1])


def test_static_kernels_bake_sizes_and_strides_in():
    x, y = LAYOUTS["transposed"]
    k = K.build(K.spec_for(traced(_pair, x, y), (x, y), static=True), "cpu")
    # (row by row since session 36: the outer index once per row of the last dim, the
    # last one i minus the row's start, so that LLVM vectorizes the row's loop)
    assert "q = r // 5" in k.source and "i1 = i - base" in k.source
    assert "x0 = _ld_float32(a0, i0 + i1 * 4)" in k.source
    assert "n = 20" in k.launcher_source
    d = K.build(K.spec_for(traced(_pair, x, y), (x, y), static=False), "cpu")
    assert "q = r // s1" in d.source and "st0_0" in d.source


# ------------------------------------------------------------------ scalars, dtypes, errors

def _scalar_graph():
    """y = (x * a + b) ; z = where(x > a, x, b), with a: float, b: int, f: bool inputs."""
    g = Graph()
    x = g.add_input("x", TensorType.of(gpujit.from_numpy(_A)))
    a, b, f = g.add_input("a", FLOAT), g.add_input("b", INT), g.add_input("f", BOOL)
    t = gpujit.from_numpy(_A)
    mul, add = registry.OPS["aten::mul.Tensor"], registry.OPS["aten::add.Tensor"]
    gt, where = registry.OPS["aten::gt.Tensor"], registry.OPS["aten::where.self"]
    iso = registry.OPS["aten::isclose"]
    one = g.insert_constant(1)
    v1 = add_node(g, mul, [x, a], t)
    v2 = add_node(g, add, [v1, b, one], t)
    v3 = add_node(g, gt, [x, a], t > 0)
    v4 = add_node(g, where, [v3, x, b], t)
    rt, at = g.insert_constant(1e-5), g.insert_constant(1e-8)
    v5 = add_node(g, iso, [x, v4, rt, at, f], t > 0)
    for v in (v2, v4, v5):
        g.register_output(v)
    return g


@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_python_numbers_are_kernel_arguments(static):
    g = _scalar_graph()
    k = run_and_compare(g, (_A, 0.25, 3, True), static=static)
    for args in ((_A, -1.5, -2, False), (_A, np.float32(0.5), np.int64(7), np.bool_(True))):
        for o, r in zip(k(*args), reference(g, args)):
            assert_same(o, r)


@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_integer_division_by_zero_raises_as_eager(static):
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    y = np.array([[1, 2, 0], [3, 1, 2]], np.int32)
    g = traced(lambda a, b: (a // b) * 2 + a % b, x, np.ones_like(y))
    k = K.build(K.spec_for(g, (x, y), static=static), "cpu")
    assert "return zd" in k.source                  # each chunk counts its zero divisors
    with pytest.raises(ZeroDivisionError) as e:
        k(x, y)
    with pytest.raises(type(e.value)):
        gpujit.from_numpy(x) // gpujit.from_numpy(y)
    assert_same(k(x, y + (y == 0))[0], reference(g, (x, y + (y == 0)))[0])
    if not static:                                  # in a parallel launch: the last chunk
        big_x = np.arange(1 << 17, dtype=np.int32).reshape(2, -1)
        big_y = np.ones_like(big_x)
        big_y[1, -1] = 0
        with pytest.raises(ZeroDivisionError):
            k(big_x, big_y)


def test_mixed_dtypes_promote_as_eager():
    h = _R.standard_normal((3, 4)).astype(np.float16)
    i = _R.integers(-5, 5, (3, 4)).astype(np.int8)
    d = np.asarray(2.5)                     # a 0-dim float64 tensor does not widen
    g = traced(lambda a, b, c: ((a * b + c).exp(), (b * c).to(gpujit.int16), a + b), h, i, d)
    run_and_compare(g, (h, i, d), static=False)


def test_the_chain_and_gelu_in_parallel_kernels():
    x = _R.standard_normal(1 << 17).astype(np.float32) * 3
    y = _R.standard_normal(1 << 17).astype(np.float32)
    fns = (lambda a, b: (a * 0.5 + b).tanh() * (a - b).sigmoid() + a.relu(),
           lambda a, b: gpujit.nn.functional.gelu(a, approximate="tanh") + b)
    for fn in fns:
        for static in (True, False):
            k = run_and_compare(traced(fn, x, y), (x, y), static=static)
            assert "_par(_kern, n," in k.launcher_source
        if K.cpu_math.NUMPY_SIMD_TANH:             # NumPy's vector tanh, not libm: its
            # own loop on chunks (kernels/emit.py's staged loops) where NumPy exports it
            assert ("_npl_tanh_f32(" if "_tanh_f32" in K.prims.NUMPY_LOOPS
                    else "_vtanh_f32") in k.source
        x64, y64 = x.astype(np.float64), y.astype(np.float64)
        k = run_and_compare(traced(fn, x64, y64), (x64, y64), static=False)
        assert "math.exp" in k.source or "_tanh_f64" in k.source


def test_unfusible_nodes_are_refused():
    g = traced(lambda x, y: (x @ y).relu(), _A, _B)
    with pytest.raises(K.KernelBuildError, match="aten::matmul has no scalar expression"):
        K.build(K.spec_for(g, (_A, _B), static=True), "cpu")


def test_dump_prints_the_generated_source(monkeypatch, capsys):
    monkeypatch.setenv("GPUJIT_DUMP", "kernels")
    x = _R.standard_normal((3, 7)).astype(np.float32)
    g = traced(lambda a: (a * 3).sin() - 1, x)
    k = K.build(K.spec_for(g, (x,), static=True), "cpu")
    out = capsys.readouterr().out
    assert "[gpujit] kernel (cpu)" in out and k.source in out
    assert "def kernel(start, stop, a0, o0):" in k.source


# ------------------------------------------------------------------ random graphs

_UNARY = ["aten::neg", "aten::abs", "aten::exp", "aten::tanh", "aten::sigmoid", "aten::relu",
          "aten::sin", "aten::sqrt", "aten::floor", "aten::logical_not"]
_BINARY = ["aten::add.Tensor", "aten::sub.Tensor", "aten::mul.Tensor", "aten::maximum",
           "aten::minimum", "aten::gt.Tensor", "aten::eq.Tensor", "aten::remainder.Tensor",
           "aten::bitwise_and.Tensor"]
_DTYPES = list(dt.ALL)
# values that C arithmetic, libm and the conversions treat specially
_SPECIAL_FLOATS = [np.nan, np.inf, -np.inf, -0.0, 0.0, 0.5, 1e-30, 7e4, -3.0]
_SPECIAL_INTS = ["min", "max", 0, -1, 1]


def _array(draw, dtype, shape, layout):
    full = shape if layout == "contiguous" or not shape else (
        tuple(reversed(shape)) if layout == "transposed" else tuple(2 * s for s in shape))
    n = int(np.prod(full))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    special = n > 0 and draw(st.booleans())
    if dtype is dt.bool:
        a = rng.random(n) < 0.5
    elif dtype.category == dt.INTEGRAL:
        a = rng.integers(1, 9, n) * rng.choice([-1, 1], n)
        if special:
            info = np.iinfo(dtype.np)
            a[rng.random(n) < 0.3] = int({"min": info.min, "max": info.max}.get(
                v := rng.choice(_SPECIAL_INTS), v))
        a = a.astype(np.int64).astype(dtype.np)
    else:
        a = rng.standard_normal(n) * 2
        if special:
            pick = rng.random(n) < 0.3
            a[pick] = rng.choice(_SPECIAL_FLOATS, int(pick.sum()))
    with np.errstate(over="ignore"):
        a = a.astype(dtype.np).reshape(full)
    if layout == "transposed":
        return a.T
    if layout == "sliced" and shape:
        return a[tuple(slice(None, None, 2) for _ in shape)]
    return a


@st.composite
def elementwise_graphs(draw):
    rank = draw(st.integers(0, 3))
    base = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    args, values = [], []
    g = Graph()
    for k in range(draw(st.integers(1, 3))):
        dtype = draw(st.sampled_from(_DTYPES))
        shape = tuple(1 if draw(st.booleans()) and draw(st.booleans()) else s for s in base)
        shape = shape[draw(st.integers(0, len(shape))):] if draw(st.booleans()) else shape
        layout = draw(st.sampled_from(["contiguous", "transposed", "sliced"]))
        a = _array(draw, dtype, shape, layout)
        args.append(a)
        values.append((g.add_input(f"t{k}", TensorType.of(gpujit.from_numpy(np.array(a)))),
                       gpujit.from_numpy(np.array(a))))
    if draw(st.booleans()):
        s = draw(st.sampled_from([0.5, -2.0, 3, True]))
        args.append(s)
        values.append((g.add_input("s", {float: FLOAT, int: INT, bool: BOOL}[type(s)]), s))
    mask = None
    nodes = 0
    for _ in range(draw(st.integers(2, 6))):
        kind = draw(st.sampled_from(["unary", "binary", "any"]))
        if kind == "any":                  # any fusible op of the registry, as the sweep
            op = draw(st.sampled_from(fusible_ops()))
            call = draw(st.sampled_from(op_calls(op)))
            if "m" in call and mask is None:
                m = _array(draw, dt.bool, base, "contiguous")
                args.append(m)
                mask = (g.add_input("m", TensorType.of(gpujit.from_numpy(np.array(m)))),
                        gpujit.from_numpy(np.array(m)))
            picks = [mask if a == "m" else draw(st.sampled_from(values))
                     if isinstance(a, str) else (a[1], a[1]) for a in call]
        elif kind == "unary":
            op = registry.OPS[draw(st.sampled_from(_UNARY))]
            picks = [draw(st.sampled_from(values))]
        else:
            op = registry.OPS[draw(st.sampled_from(_BINARY))]
            picks = [draw(st.sampled_from(values)), draw(st.sampled_from(values))]
        if kind != "any" and not isinstance(picks[0][1], gpujit.Tensor):
            picks.reverse()
        if not isinstance(picks[0][1], gpujit.Tensor):
            continue
        extra = [1] if kind != "any" and op.name in ("aten::add.Tensor",
                                                     "aten::sub.Tensor") else []
        try:
            with np.errstate(all="ignore"):
                r = op.eager(*[p[1] for p in picks], *extra)
        except Exception:
            continue                       # not defined for these dtypes (as eager)
        if not isinstance(r, gpujit.Tensor):
            continue
        ins = [p[0] if isinstance(p[0], Value) else g.insert_constant(p[0]) for p in picks]
        ins += [g.insert_constant(e) for e in extra]
        values.append((add_node(g, op, ins, r), r))
        nodes += 1
    if nodes == 0:
        return None
    outs = [values[-1][0]] + ([values[-2][0]] if draw(st.booleans()) and
                              isinstance(values[-2][1], gpujit.Tensor) and
                              values[-2][0].node.kind.startswith("aten") else [])
    for v in dict.fromkeys(outs):
        g.register_output(v)
    return g, args, draw(st.booleans())


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(elementwise_graphs())
def test_random_elementwise_graphs_match_eager(case):
    if case is None:
        return
    g, args, static = case
    g.lint()
    run_and_compare(g, args, static=static)
