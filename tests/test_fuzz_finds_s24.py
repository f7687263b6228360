"""Finds of session 24's program fuzz hunt (helper b24), each with its minimised program."""
from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_python(programs):
    """Run programs ({name: code}) in one fresh interpreter, in order (tests/batch_programs:
    each its own script; an unresolved symbol kills the process in LLVM's linker, and the
    programs after it then do not run): {name: (stdout, stderr)}, a program that did not
    end well failing the test with its output."""
    from batch_programs import program_result, run_batch
    import tempfile
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([_ROOT, env.get("PYTHONPATH", "")])
    with tempfile.TemporaryDirectory() as folder:
        res = run_batch(folder, [(name, textwrap.dedent(code), {})
                                 for name, code in programs.items()], env=env, timeout=300)
    return {name: (lambda n: lambda: program_result(res, n))(name) for name in programs}


# both tests' programs in one fresh interpreter (those selected in this session): the
# objects loaded by gpujit's own loader first (its first use of LLVM there), then numba's
# linker (llvmlite initialised by gpujit's kernels before it, as the test needs)
@pytest.fixture(scope="module")
def half_conversions(request):
    names = {item.name for item in request.session.items
             if getattr(item, "module", None) is request.module}
    return _run_python({name: code for test, name, code in [
        ("test_llvm_half_conversions_resolve_in_loaded_objects", "LOADED", _LOADED),
        ("test_numba_code_with_a_double_to_half_conversion_links", "NUMBA", _NUMBA)]
        if test in names})


_VALUES = [1 / 3, -2.0 / 3, 65519.99, 1e-7, 3e-8, 1e30, -0.0, 0.1, 2049.0, 1 + 2 ** -11]

_LOADED = f"""
        import ctypes
        from kernels import native
        ir = '''
        define i16 @s24_d2h(double %x) {{
          %h = fptrunc double %x to half
          %b = bitcast half %h to i16
          ret i16 %b
        }}
        define double @s24_h2d(i16 %x) {{
          %h = bitcast i16 %x to half
          %d = fpext half %h to double
          ret double %d
        }}
        '''
        d2h, h2d = native.load_ir(ir, {{"s24_d2h": (ctypes.c_uint16, ctypes.c_double),
                                        "s24_h2d": (ctypes.c_double, ctypes.c_uint16)}})
        print([d2h(v) for v in {_VALUES!r}])
        print([h2d(b) for b in (0x3555, 0x7bff, 0x0001, 0xfc00)])
    """

_NUMBA = f"""
        from kernels import native
        native.abi_key()
        from numba import cfunc, types as nbt
        from numba.extending import intrinsic
        from llvmlite import ir as llir

        @intrinsic
        def d2h(typingctx, x):
            def codegen(context, builder, signature, args):
                h = builder.fptrunc(args[0], llir.HalfType())
                return builder.bitcast(h, llir.IntType(16))
            return nbt.uint16(nbt.float64), codegen

        @cfunc("uint16(float64)")
        def k(x):
            return d2h(x)
        print([k.ctypes(v) for v in {_VALUES!r}])
    """


def test_llvm_half_conversions_resolve_in_loaded_objects(half_conversions):
    # LLVM lowers `fptrunc double to half` to a call of libgcc's __truncdfhf2 (x86 has no
    # instruction for it); the symbol is not among the process's global ones: the linker
    # aborted the process ("LLVM ERROR: Symbol not found: __truncdfhf2", or a crash)
    out, _ = half_conversions["LOADED"]()
    got, back = (eval(line, {"inf": np.inf}) for line in out.split("\n")[:2])
    want = np.array(_VALUES, np.float64).astype(np.float16).view(np.uint16).tolist()
    assert got == want
    assert back == np.array([0x3555, 0x7bff, 0x0001, 0xfc00], np.uint16).view(
        np.float16).astype(np.float64).tolist()


def test_numba_code_with_a_double_to_half_conversion_links(half_conversions):
    # the same in numba's own linker (a CPU kernel's cold compile), once gpujit's kernels
    # have initialised llvmlite
    pytest.importorskip("numba")
    out, _ = half_conversions["NUMBA"]()
    want = np.array(_VALUES, np.float64).astype(np.float16).view(np.uint16).tolist()
    assert eval(out.split("\n")[0]) == want


# ------------------------------------------------------------------ detach_ of a saved input

import gpujit  # noqa: E402


def _sig(x):
    return 1 / (1 + np.exp(-x))


def test_a_saved_input_detached_in_place_raises_at_backward():
    # (mode 3, seed 24010) v1 = sigmoid(x2); v3 = x2 * v1; v1.detach_(): mul kept v1 as
    # its input, whose grad_fn detach_() cut; PyTorch's backward refuses it
    x = gpujit.tensor(np.array([0.5, -1.0], np.float32), requires_grad=True)
    v1 = gpujit.sigmoid(x)
    v3 = x * v1
    v1.detach_()
    with pytest.raises(RuntimeError, match="detached in-place"):
        v3.sum().backward()


def test_a_saved_output_or_leaf_detached_in_place_keeps_its_backward():
    # the node's own output (sigmoid and exp keep their results) and a leaf are no error
    xv = np.array([0.5, -1.0], np.float32)
    x = gpujit.tensor(xv, requires_grad=True)
    v1 = gpujit.sigmoid(x)
    v3 = v1 * 2.0 + v1.exp()
    v1.detach_()
    v3.sum().backward()
    s = _sig(xv.astype(np.float64))
    np.testing.assert_allclose(x.grad.numpy(), (2 + np.exp(s)) * s * (1 - s), rtol=1e-5)
    w = gpujit.tensor(xv)
    y = gpujit.tensor(xv, requires_grad=True)
    (y * w).sum().backward()
    w.detach_()
    np.testing.assert_allclose(y.grad.numpy(), xv)


def test_a_detached_saved_input_of_an_in_place_op():
    # self of an in-place op is its output (not checked), its other operand is an input
    xv = np.array([0.5, -1.0], np.float32)
    x = gpujit.tensor(xv, requires_grad=True)
    a = x * 1.5
    b = x.exp()
    a.mul_(b)                 # MulBackward0 keeps b (an input with a grad_fn)
    b.detach_()
    with pytest.raises(RuntimeError, match="detached in-place"):
        a.sum().backward()
