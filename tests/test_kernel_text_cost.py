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


def test_each_vector_lane_assigns_its_own_temporaries():
    text = generate(_spec(_chain), "cuda").text
    loop = text[text.index("while jv < nvec:"):text.index("_st4(o0")]
    assigned = re.findall(r"(?m)^\s*(\w+)\s*=(?!=)", loop)
    assert len(assigned) > 4 * 5
    assert len(assigned) == len(set(assigned)), loop


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
