"""Session 50 (d50): TorchScript's language, part 4, checked against torch 2.13.

- `with torch.no_grad():` / enable_grad / autocast / record_function / strict_fusion in
  `.graph` and `.code` as torch prints them (the context manager's object made,
  __init__-ed, entered: prim::CreateObject / prim::CallMethod / prim::Enter(%obj) /
  prim::Exit(%obj); `_0 = __torch__...no_grad.__new__(...)`, `with _0:`), saved archives
  with that code loading back as regions (gpujit's and PyTorch's formats);
- an op that fails inside scripted code (x[10], a matmul's shape mismatch, a view of a
  wrong size inside an inlined function) raises torch's "The following operation failed
  in the TorchScript interpreter." text, a frame per scripted call, "RuntimeError: <msg>".

Expected texts were computed with torch 2.13 (the tests compare with torch itself where
it is importable)."""

import io
from typing import Optional
import zipfile

import numpy as np
import pytest

import gpujit
import gpujit as torch

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="needs torch")

_NG = "__torch__.torch.autograd.grad_mode.no_grad"
_AC = "__torch__.torch.amp.autocast_mode.autocast"


# ---------------------------------------------------------------- with regions
def grad_regions(x):
    with torch.no_grad():
        y = x * 2
    with torch.no_grad():
        y = y * 2
    z = y + 1
    return z


def autocasts(x):
    with torch.autocast("cpu"):
        y = x * 2
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=False):
        y = y + 1
    with torch.cpu.amp.autocast():
        y = y + 1
    return y


def profiled(x, name: str):
    with torch.autograd.profiler.record_function("foo"):
        with torch.autograd.profiler.record_function(name):
            y = x * 2
    return y


# torch.jit.script(grad_regions).code under torch 2.13
_GRAD_CODE = f"""def grad_regions(x: Tensor) -> Tensor:
  _0 = {_NG}.__new__({_NG})
  _1 = (_0).__init__()
  with _0:
    y = torch.mul(x, 2)
  _2 = {_NG}.__new__({_NG})
  _3 = (_2).__init__()
  with _2:
    y0 = torch.mul(y, 2)
  return torch.add(y0, 1)
"""

# torch.jit.script(autocasts).code under torch 2.13 (the arguments as written: dtype None)
_CPU_AMP = "__torch__.torch.cpu.amp.autocast_mode.autocast"
_AUTOCAST_CODE = f"""def autocasts(x: Tensor) -> Tensor:
  _0 = {_AC}.__new__({_AC})
  _1 = (_0).__init__("cpu", None, True, None, )
  with _0:
    y = torch.mul(x, 2)
  _2 = {_AC}.__new__({_AC})
  _3 = (_2).__init__("cpu", 15, False, None, )
  with _2:
    y0 = torch.add(y, 1)
  _4 = {_CPU_AMP}.__new__({_CPU_AMP})
  _5 = (_4).__init__(True, 15, True, )
  with _4:
    y1 = torch.add(y0, 1)
  return y1
"""

_RF = "__torch__.torch.autograd.profiler.record_function"
_PROFILED_CODE = f"""def profiled(x: Tensor,
    name: str) -> Tensor:
  _0 = {_RF}.__new__({_RF})
  _1 = (_0).__init__("foo", None, )
  with _0:
    _2 = {_RF}.__new__({_RF})
    _3 = (_2).__init__(name, None, )
    with _2:
      y = torch.mul(x, 2)
  return y
"""


def _regions(g):
    return [n.attrs.get("name") for n in g.walk() if n.kind == "prim::Enter"]


@pytest.mark.parametrize("fn, code", [(grad_regions, _GRAD_CODE),
                                      (autocasts, _AUTOCAST_CODE),
                                      (profiled, _PROFILED_CODE)],
                         ids=["no_grad", "autocast", "record_function"])
def test_region_code_is_torchs(fn, code):
    s = torch.jit.script(fn)
    assert s.code == code, s.code


def test_region_graph_shows_the_object():
    g = str(torch.jit.script(grad_regions).graph)
    line = grad_regions.__code__.co_firstlineno
    lines = [t.strip() for t in g.splitlines()]
    objs = [t.split()[0] for t in lines if f"{_NG} = prim::CreateObject()" in t]
    assert len(objs) == 2 and objs[0] != objs[1], g
    for k, obj in enumerate(objs):
        i = lines.index(f"{obj} : {_NG} = prim::CreateObject() # {__file__}:{line + 1 + 2 * k}:9")
        assert lines[i + 1].endswith(f'NoneType = prim::CallMethod[name="__init__"]({obj}) '
                                     f"# {__file__}:{line + 1 + 2 * k}:9"), g
        assert lines[i + 2].endswith(f"NoneType = prim::Enter({obj})"), g
        assert sum(t.endswith(f"Tensor = prim::Exit({obj})") for t in lines) == 1, g
    # autocast: __init__ takes the (constant) arguments as written; __enter__ gives the object
    g = str(torch.jit.script(autocasts).graph)
    assert f"{_AC} = prim::Enter(" in g
    first = g[g.index('prim::Constant[value="cpu"]'):g.index("prim::CreateObject")]
    assert "NoneType = prim::Constant()" in first and "bool = prim::Constant[value=1]()" in first


def test_region_code_saves_and_loads_as_regions():
    for fn, x in ((grad_regions, torch.ones(2, requires_grad=True)),
                  (autocasts, torch.ones(2))):
        s = torch.jit.script(fn)
        for fmt in ("pytorch", "gpujit"):
            buf = io.BytesIO()
            torch.jit.save(s, buf, format=fmt)
            buf.seek(0)
            loaded = torch.jit.load(buf)
            assert _regions(loaded.graph) == _regions(s.graph)
            body = s.code.split(") -> Tensor:\n", 1)[1]     # (loaded: a module's forward)
            assert loaded.code.split(") -> Tensor:\n", 1)[1] == body
            want = fn(x)
            got = loaded(x)
            np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy())
            assert got.requires_grad is want.requires_grad and got.dtype is want.dtype


def test_pytorch_archive_has_the_region_classes():
    s = torch.jit.script(autocasts)
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        names = z.namelist()
        cls = z.read([n for n in names if n.endswith("cpu/amp/autocast_mode.py")][0]).decode()
    assert any(n.endswith("code/__torch__/torch/amp/autocast_mode.py") for n in names)
    # (torch 2.13's class of torch.cpu.amp.autocast, as torch.jit.save writes it)
    assert "    dtype: int=15,\n" in cls and '    self.device = "cpu"\n' in cls


@needs_torch
def test_torch_loads_gpujits_archive_and_gpujit_loads_torchs():
    s = torch.jit.script(autocasts)
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    t = _torch.jit.load(io.BytesIO(buf.getvalue()))
    x = np.ones(2, np.float32)
    assert t.code.split(") -> Tensor:\n", 1)[1] == _AUTOCAST_CODE.split(") -> Tensor:\n", 1)[1]
    np.testing.assert_allclose(t(_torch.from_numpy(x)).numpy(), s(torch.from_numpy(x)).numpy())
    # torch's own archive of such a module: gpujit's regions again
    m = _torch.jit.script(_Autocasts())
    tb = io.BytesIO()
    _torch.jit.save(m, tb)
    loaded = torch.jit.load(io.BytesIO(tb.getvalue()))
    assert _regions(loaded.graph) == ["autocast", "autocast"]
    np.testing.assert_allclose(loaded(torch.from_numpy(x)).numpy(), [4.0, 4.0])


if _torch is not None:
    class _Autocasts(_torch.nn.Module):
        def forward(self, x):
            with _torch.autocast("cpu"):
                y = x * 2
            with _torch.cpu.amp.autocast():
                y = y + 2
            return y


# ---------------------------------------------------------------- op failures
_HEAD = ("The following operation failed in the TorchScript interpreter.\n"
         "Traceback of TorchScript (most recent call last):\n")


def index_past_end(x):
    return x[10]


def mm_mismatch(a, b):
    c = a + 1
    return torch.mm(c, b)


def inner_view(y, n: int):
    z = y.view(n)
    return z


def calls_inner(x):
    return inner_view(x, 7) + 1


def _at(fn, k):
    return fn.__code__.co_firstlineno + k


def _expected():
    f = __file__
    return {
        index_past_end: (
            f'  File "{f}", line {_at(index_past_end, 1)}, in index_past_end\n'
            "def index_past_end(x):\n"
            "    return x[10]\n"
            "           ~~~~~ <--- HERE\n"
            "RuntimeError: select(): index 10 out of range for tensor of size [3] at "
            "dimension 0\n"),
        mm_mismatch: (
            f'  File "{f}", line {_at(mm_mismatch, 2)}, in mm_mismatch\n'
            "def mm_mismatch(a, b):\n"
            "    c = a + 1\n"
            "    return torch.mm(c, b)\n"
            "           ~~~~~~~~ <--- HERE\n"
            "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)\n"),
        calls_inner: (
            f'  File "{f}", line {_at(calls_inner, 1)}, in calls_inner\n'
            "def calls_inner(x):\n"
            "    return inner_view(x, 7) + 1\n"
            "           ~~~~~~~~~~ <--- HERE\n"
            f'  File "{f}", line {_at(inner_view, 1)}, in inner_view\n'
            "def inner_view(y, n: int):\n"
            "    z = y.view(n)\n"
            "        ~~~~~~ <--- HERE\n"
            "    return z\n"
            "RuntimeError: shape '[7]' is invalid for input of size 3\n"),
    }


_ARGS = {index_past_end: lambda: (torch.ones(3),),
         mm_mismatch: lambda: (torch.ones(2, 3), torch.ones(2, 3)),
         calls_inner: lambda: (torch.ones(3),)}


@pytest.mark.parametrize("fn", [index_past_end, mm_mismatch, calls_inner],
                         ids=lambda f: f.__name__)
def test_op_failure_is_torchscripts_interpreter_error(fn):
    s = torch.jit.script(fn)
    for _ in range(2):              # profiled and optimized runs alike
        with pytest.raises(RuntimeError) as e:
            s(*_ARGS[fn]())
        assert str(e.value) == _HEAD + _expected()[fn], str(e.value)
    if fn is index_past_end:        # (eager's class too: `except IndexError` catches it)
        assert isinstance(e.value, IndexError)


@needs_torch
@pytest.mark.parametrize("fn", [index_past_end, mm_mismatch, calls_inner],
                         ids=lambda f: f.__name__)
def test_op_failure_text_matches_torch(fn):
    globals()["torch"] = _torch
    try:
        s = _torch.jit.script(fn)
        args = [_torch.from_numpy(a.numpy()) if isinstance(a, gpujit.Tensor) else a
                for a in _ARGS[fn]()]
        with pytest.raises(RuntimeError) as e:
            s(*args)
    finally:
        globals()["torch"] = gpujit
    assert str(e.value) == _HEAD + _expected()[fn]


class _Lin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 4)

    def forward(self, x):
        return self.lin(x)


def test_op_failure_in_a_submodule_names_both_frames():
    m = torch.jit.script(_Lin())
    with pytest.raises(RuntimeError) as e:
        m(torch.ones(2, 5))
    msg = str(e.value)
    assert msg.startswith(_HEAD + f'  File "{__file__}", line ') and \
        "        return self.lin(x)\n               ~~~~~~~~ <--- HERE\n" in msg, msg
    assert "        return F.linear(input, self.weight, self.bias)\n" \
           "               ~~~~~~~~ <--- HERE\n" in msg, msg
    assert msg.endswith("RuntimeError: mat1 and mat2 shapes cannot be multiplied "
                        "(2x5 and 3x4)\n"), msg


def test_raise_and_assert_keep_their_own_report():
    @torch.jit.script
    def f(x: int):
        assert x > 0, "positive"
        return x
    with pytest.raises(AssertionError) as e:
        f(-1)
    msg = str(e.value)
    assert msg.startswith(_HEAD) and msg.count(_HEAD) == 1
    assert msg.endswith("AssertionError: positive\n"), msg


# ---------------------------------------------------------------- compile errors
def _branch_types(x, c: bool):
    if c:
        y = x
    else:
        y = 1
    z = 3
    return y + z


def _one_branch(x, c: bool):
    if c:
        y = 1
    else:
        x = x + 2
    return y


def _returns_differ(x: int):
    if x > 0:
        return 1
    else:
        return "a"


def _optional_method(x: Optional[torch.Tensor]):
    return x.sum()


def _range_of_float(x: float):
    return [i for i in range(x)]


def _iterate_int(x):
    for i in 5:
        pass
    return x


def _set_attr_of_int(x: int):
    x.y = 3
    return x


def _compile_error(fn):
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(fn)
    return str(e.value)


def _frame(fn, k, text, col, width):
    """gpujit's frame of fn's line k (after the def): the line, `width` characters from
    `col` underlined."""
    line = fn.__code__.co_firstlineno + k
    return (f'  File "{__file__}", line {line}, in {fn.__name__}\n        {text}\n'
            f"        {' ' * col}{'~' * width} <--- HERE")


def test_branch_type_mismatch_has_torchs_words_and_the_use():
    msg = _compile_error(_branch_types)
    # torch 2.13: "Type mismatch: y is set to type Tensor (inferred) in the true branch and
    # type int in the false branch:", the if's frame, "and was used here:", the use's frame
    assert msg.startswith("Type mismatch: y is set to type Tensor (inferred) in the true "
                          "branch and type int in the false branch: "), msg
    assert _frame(_branch_types, 4, "y = 1", 0, 5) + "\n" in msg, msg
    assert "\nand was used here:\n" + _frame(_branch_types, 6, "return y + z", 7, 1) in msg, msg
    assert msg.index("y = 1\n") < msg.index("and was used here:")


def test_undefined_on_one_branch_shows_where_it_was_used():
    msg = _compile_error(_one_branch)
    assert msg.startswith("y is not defined in the false branch: "), msg
    assert _frame(_one_branch, 2, "y = 1", 0, 5) in msg, msg
    assert "\nand was used here:\n" + _frame(_one_branch, 5, "return y", 7, 1) in msg, msg


def test_return_types_differ_at_the_later_return():
    msg = _compile_error(_returns_differ)
    # torch 2.13's words, at the second return statement
    assert msg.startswith("Previous return statement returned a value of type int but this "
                          "return statement returns a value of type str: "), msg
    assert _frame(_returns_differ, 4, 'return "a"', 0, 10) in msg, msg


@pytest.mark.parametrize("fn, words", [
    (_optional_method, "'Optional[Tensor]' object has no attribute or method 'sum'.: "),
    (_range_of_float, "all inputs of range must be ints, found float in argument 0"),
    (_iterate_int, "'int' object is not iterable: "),
    (_set_attr_of_int, "Tried to set an attribute: y on a non-class: int: "),
], ids=lambda v: getattr(v, "__name__", "words"))
def test_compile_errors_start_with_torchs_words(fn, words):
    # (the words torch 2.13's str(exception) starts with, after its leading newline)
    msg = _compile_error(fn)
    assert msg.startswith(words), msg
    assert "<--- HERE" in msg




def _helper(a: int, b: int = 2) -> int:
    return a + b


def _missing_arg(x: int):
    return _helper(b=x)


def _too_many(x: int):
    return _helper(x, 1, 2)


def _unknown_kw(x: int):
    return _helper(x, 1, c=3)


def _twice(x: int):
    return _helper(x, a=3)


@pytest.mark.parametrize("fn, why", [
    (_missing_arg, "Argument a not provided."),
    (_too_many, "Expected at most 2 arguments but found 3 positional arguments."),
    (_unknown_kw, "Keyword argument c unknown."),
    (_twice, "Keyword argument a specified twice."),
], ids=lambda v: getattr(v, "__name__", "why"))
def test_call_of_a_scripted_function_with_wrong_arguments(fn, why):
    # torch 2.13: the callee's schema, then why (its words), at the call
    msg = _compile_error(fn)
    assert msg.startswith(f"_helper(int a, int b=2) -> int:\n{why}: "), msg
    assert f"return {ast_line(fn)}" in msg and "<--- HERE" in msg


def ast_line(fn):
    import inspect
    return inspect.getsource(fn).splitlines()[1].strip()[len("return "):]


@needs_torch
@pytest.mark.parametrize("fn", [_branch_types, _one_branch, _returns_differ,
                                _optional_method, _range_of_float, _iterate_int,
                                _set_attr_of_int, _missing_arg, _too_many, _unknown_kw,
                                _twice], ids=lambda f: f.__name__)
def test_compile_error_words_are_torchs(fn):
    globals()["torch"] = _torch
    try:
        with pytest.raises(RuntimeError) as e:
            _torch.jit.script(fn)
    finally:
        globals()["torch"] = gpujit
    lines = str(e.value).strip().splitlines()
    # (torch's first line; a call's schema line and why)
    words = "\n".join(lines[:2] if lines[0].endswith(") -> int:") else lines[:1]).rstrip(":")
    assert _compile_error(fn).startswith(words)


@torch.jit.ignore
def _python_side(x: int) -> int:
    return _python_inner(x)


def _python_inner(x: int) -> int:
    raise ValueError("nope")


def _calls_python(x: int):
    return _python_side(x) + 1


def _run(s):
    return s(1)


def test_python_function_failure_names_its_class_and_the_python_stack():
    s = torch.jit.script(_calls_python)
    with pytest.raises(RuntimeError) as e:
        _run(s)
    f = __file__
    at = lambda fn, k: fn.__code__.co_firstlineno + k        # noqa: E731
    # torch 2.13's text: "RuntimeError: ValueError: nope", then the Python stack ("At:")
    # innermost first, through the caller's frames
    want = (_HEAD + f'  File "{f}", line {at(_calls_python, 1)}, in _calls_python\n'
            "def _calls_python(x: int):\n"
            "    return _python_side(x) + 1\n"
            "           ~~~~~~~~~~~~ <--- HERE\n"
            "RuntimeError: ValueError: nope\n\nAt:\n"
            f"  {f}({at(_python_inner, 1)}): _python_inner\n"
            f"  {f}({at(_python_side, 2)}): _python_side\n"     # (the decorator's line first)
            f"  {f}({at(_run, 1)}): _run\n")
    msg = str(e.value)
    assert msg.startswith(want), msg
    assert "): test_python_function_failure_names_its_class_and_the_python_stack\n" in msg
    assert msg.endswith("\n\n") and isinstance(e.value, ValueError)


class _NoAttr(torch.nn.Module):
    def forward(self, x):
        return self.missing + x


class _NoMethod(torch.nn.Module):
    def forward(self, x):
        return self.helper(x)


@pytest.mark.parametrize("cls, name", [(_NoAttr, "missing"), (_NoMethod, "helper")],
                         ids=["attribute", "method"])
def test_module_without_the_attribute_in_torchs_words(cls, name):
    # torch 2.13: "Module '_NoAttr' has no attribute 'missing' :" (its space before ':')
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(cls())
    assert str(e.value).startswith(f"Module '{cls.__name__}' has no attribute '{name}' : "), \
        str(e.value)


def _no_grad_as(x):
    with torch.no_grad() as g:
        y = x * 2
    return y, g is None


def test_with_no_grad_as_binds_none():
    # torch 2.13: no_grad's __enter__ returns None, what `as g` binds
    s = torch.jit.script(_no_grad_as)
    x = torch.ones(2, requires_grad=True)
    for _ in range(2):
        y, none = s(x)
        assert none is True and not y.requires_grad
        np.testing.assert_allclose(y.numpy(), [2.0, 2.0])


def _traced_mm(x, y):
    z = x * 2
    return z.mm(y)


def test_traced_op_failure_lists_the_traced_call():
    # torch 2.13: a traced function's report lists the stack recorded when tracing,
    # `file(line): function` (its innermost entry first, which gpujit keeps)
    t = torch.jit.trace(_traced_mm, (torch.ones(2, 3), torch.ones(3, 2)))
    with pytest.raises(RuntimeError) as e:
        t(torch.ones(2, 3), torch.ones(2, 3))
    assert str(e.value) == (_HEAD + f"{__file__}({_at(_traced_mm, 2)}): _traced_mm\n"
                            "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 "
                            "and 2x3)\n"), str(e.value)


class _Indexes(torch.nn.Module):
    def forward(self, x):
        return x[10]


def test_loaded_archive_op_failure_shows_the_serialized_code():
    # torch 2.13: "Traceback of TorchScript, serialized code", the archive's code file
    # (then its original code from the debug info, which gpujit's archives do not keep)
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(_Indexes()), buf)
    buf.seek(0)
    m = torch.jit.load(buf)
    with pytest.raises(RuntimeError) as e:
        m(torch.ones(3))
    msg = str(e.value)
    assert msg.startswith("The following operation failed in the TorchScript interpreter.\n"
                          "Traceback of TorchScript, serialized code (most recent call "
                          'last):\n  File "code/__torch__/test_script_lang_s50.py", line '), msg
    assert "    return torch.select(x, 0, 10)\n           ~~~~~~~~~~~~ <--- HERE\n" in msg
    assert msg.endswith("RuntimeError: select(): index 10 out of range for tensor of size "
                        "[3] at dimension 0\n"), msg
