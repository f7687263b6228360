"""The generated kernel text is written for numba's frontend, whose cost grows with every
call it types and every variable it must put in SSA form (issue 5: <= 1 s cold per fusion
group): typed literals are module globals (numba freezes them as constants), and each lane
of the vector loop has its own temporaries. Neither may change what the kernel computes:
the PTX stays the same as the text with the calls written inline."""
from __future__ import annotations

import re

import numpy as np
import pytest

import gpujit
from gpujit import kernels as K
from gpujit.kernels.emit import generate

import test_kernels
from test_kernels import traced
from test_kernels_cuda import needs_nvvm

kernel_cache_dir = test_kernels.kernel_cache_dir     # (its autouse cache fixture)


def _chain(x, y):
    return gpujit.tanh(x * 0.5 + y) * gpujit.sigmoid(x - y) + gpujit.relu(x)


def _specials(x, y):
    # constants numba must see as float32 nan / -inf / negative zero, and integer wraps
    a = gpujit.where(x > 0.25, x, float("nan")).clamp(min=float("-inf")) * -0.0
    b = (x * 100).to(gpujit.int8) + 200
    return a + y, b


def _kernel_body(text):
    return text[text.index("\ndef kernel("):]


def _unhoisted(text):
    """The text with each module constant `_K0 = _f32(0.5)` written back at its uses."""
    consts = dict(re.findall(r"(?m)^(_K\d+) = (.+)$", text))
    body = re.sub(r"\b_K\d+\b", lambda m: consts[m.group(0)], _kernel_body(text))
    return text[:text.index("\ndef kernel(")] + body


def _spec(fn, n=1000):
    x = np.linspace(-2, 2, n, dtype=np.float32)
    y = np.cos(x)
    return K.spec_for(traced(fn, x, y), (x, y), static=True)


@pytest.mark.parametrize("fn", [_chain, _specials])
@pytest.mark.parametrize("target", ["cuda", "sim", "cpu"])
def test_typed_literals_are_module_constants(fn, target):
    text = generate(_spec(fn), target).text
    body = _kernel_body(text)
    assert not re.search(r"\b_(f32|f64|u8|i8|i16|i32|i64|u64)\((-?\d|math\.|\(-math)", body), body
    consts = re.findall(r"(?m)^_K\d+ = (.+)$", text)
    assert len(consts) == len(set(consts)) > 0          # one global per distinct literal
    ns = {}
    exec(compile("import math\nimport numpy as np\n_f32, _i8, _i64 = np.float32, np.int8, "
                 "np.int64\n" + "\n".join(f"c{k} = {c}" for k, c in enumerate(consts)),
                 "<consts>", "exec"), ns)
    assert all(isinstance(ns[f"c{k}"], np.generic) for k in range(len(consts)))


def test_the_vector_loop_holds_one_copy_of_the_body_with_its_own_names():
    # numba types and lowers every call site: the body is written once, in a loop over the
    # 4 lanes (NVVM unrolls it), not once per lane; its temporaries are not the scalar
    # loop's (a variable assigned in two places costs numba an SSA rebuild)
    text = generate(_spec(_chain), "cuda").text
    loop = text[text.index("while jv < nvec:"):text.index("_st4(o0")]
    tail = text[text.index("while i < n:"):]
    assert "for lane in range(4):" in loop
    assigned = re.findall(r"(?m)^\s*(\w+)\s*=(?!=)", loop)
    assert len(assigned) == len(set(assigned)), loop
    assert not set(assigned) & set(re.findall(r"(?m)^\s*(\w+)\s*=(?!=)", tail))
    assert loop.count("_tanh_f32(") == tail.count("_tanh_f32(") == 1


@needs_nvvm
@pytest.mark.parametrize("fn", [_chain, _specials])
def test_module_constants_give_the_ptx_of_inline_calls(fn):
    from numba import cuda
    ks = generate(_spec(fn), "cuda")

    def ptx(text, name):
        ns = {"__name__": name}
        exec(compile(text, f"<{name}>", "exec"), ns)
        code, _ = cuda.compile_ptx(ns["kernel"], ks.signature, cc=(9, 0))
        return re.sub(r"_Z\w+", "ENTRY", code)    # (the mangled name has a counter)
    hoisted, inline = ptx(ks.text, "hoisted_consts"), ptx(_unhoisted(ks.text), "inline_consts")
    assert hoisted == inline


@pytest.mark.parametrize("n", [1000, 1003])
def test_the_chain_on_the_cpu_target_matches_eager(n):
    x = gpujit.from_numpy(np.linspace(-2, 2, n, dtype=np.float32))
    y = gpujit.cos(x)
    f = gpujit.jit.trace(_chain, (x, y), check_trace=False)
    want = _chain(x, y).numpy()
    for _ in range(3):
        np.testing.assert_allclose(f(x, y).numpy(), want, rtol=1e-6, atol=1e-6)


def _outputs3(x, y):
    return x * y + 1, (x - y).relu(), x > y


def _halves(x, y):
    return (x * y).half(), (x + y).to(gpujit.int8)


@needs_nvvm
@pytest.mark.parametrize("fn, loads, stores", [
    (_chain, ["f32"] * 2, ["f32"]),
    (_outputs3, ["f32"] * 2, ["f32", "f32", "u8"]),
    (_halves, ["f32"] * 2, ["u16", "u8"]),
])
def test_nvvm_unrolls_the_lane_loop_into_registers(fn, loads, stores):
    # the one copy of the body in `for lane in range(4)` must still become one 16-byte
    # (or 4 x 1/2-byte) access per array and pass, with the 4 results in registers: a
    # lane loop left rolled or results spilled to local memory would show here
    from numba import cuda
    ks = generate(_spec(fn), "cuda")
    ns = {"__name__": f"lanes_{fn.__name__}"}
    exec(compile(ks.text, f"<{ns['__name__']}>", "exec"), ns)
    ptx, _ = cuda.compile_ptx(ns["kernel"], ks.signature, cc=(9, 0))
    assert ".local" not in ptx and "local.u" not in ptx
    got_ld = sorted(re.findall(r"ld\.global\.v4\.(\w+)", ptx))
    got_st = sorted(re.findall(r"st\.global\.v4\.(\w+)", ptx))
    # (NVVM may unroll the grid-stride loop too: each access then appears k times)
    k = len(got_ld) // len(loads)
    assert k >= 1 and got_ld == sorted(loads * k) and got_st == sorted(stores * k), ptx
