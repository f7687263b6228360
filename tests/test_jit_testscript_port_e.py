"""PyTorch's class TestScript (test/test_jit.py), its tests of the scripted language,
ported as behaviour (session 17, helper T3), fifth part: calls against annotations
(unpacking counts, missing and extra arguments in TorchScript's words), casts, Optional
isinstance, shifts, and save/load of ScriptModules (defined methods, dtypes, blocks,
parameters that are views of one another), a trace of a script returning nested lists,
F.embedding's max_norm in script, @ignore and save. The skip list is in
test_jit_testscript_port_d.py; helpers in test_jit_testscript_port.py.
"""
from typing import List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit import nn
from test_jit_testscript_port import _script_error, check_script

_TYPE_COMMENT_NAMES = (List, Optional, Tuple)   # used by `# type:` comments below


# ------------------------------------------------------------------ annotations and calls

def _three(x, y):
    # type: (Tensor, Tensor) -> Tuple[Tensor, Tensor, Tensor]
    return x, x * 2, x * 3


def _py3_three(x: torch.Tensor, y: torch.Tensor, z) -> Tuple[torch.Tensor, torch.Tensor,
                                                                torch.Tensor]:
    return (x, y + z, z)


def test_type_annotations_of_called_functions():
    def script_fn(x):
        x, y, z, w = _three(x, x)

    msg = _script_error(script_fn)
    assert "need 4 values to unpack but found only 3" in msg, msg

    def script_fn2(x):
        x, y = _three(x, x)

    msg = _script_error(script_fn2)
    assert "too many values to unpack: need 2 but found 3" in msg, msg

    def fn_unpack(x):
        y, z, w = _three(x, x)
        return y

    def fn_index(x):
        q = _three(x, x)
        return q[0]

    def fn_string(str, strpair):
        # type: (str, Tuple[str, str]) -> Tuple[str, int, str, str]
        str1, str2 = strpair
        return str, 2, str1, str2

    x = torch.ones(2, 2)
    check_script(fn_unpack, x)
    check_script(fn_index, x)
    assert check_script(fn_string, "1", ("3", "4")) == ("1", 2, "3", "4")


def test_type_annotation_py3_of_called_function():
    def bad_fn(x):
        x, y = _py3_three((x, x), x, x)
        return y

    msg = _script_error(bad_fn)
    assert "Expected a value of type 'Tensor' for argument 'x' but instead found type " \
        "'Tuple[Tensor, Tensor]'" in msg, msg

    def good_fn(x):
        y, z, w = _py3_three(x, x, x)
        return y, z, w

    check_script(good_fn, torch.ones(2, 2))


def _fn_varargs(x, *args):
    return args[0] if args else x


def test_type_annotations_varargs_are_refused():
    def fn1(x, y, z):
        return _fn_varargs(x)

    with pytest.raises(Exception) as e:
        torch.jit.script(fn1)
    assert "Compiled functions can't take variable number of arguments" in str(e.value)


class _BaseModule(torch.jit.ScriptModule):
    def foo(self, x):
        # type: (Tensor) -> Tensor
        return x + 1

    def bar(self, x, y):
        # type: (Tensor, Tensor) -> Tuple[Tensor, Tensor]
        return x + y, y

    def baz(self, x, y):
        return x


def test_type_annotation_module_method_calls():
    class ModuleTooMany(_BaseModule):
        @torch.jit.script_method
        def method(self, x):
            return self.foo(x, x)

    class ModuleTooFew(_BaseModule):
        @torch.jit.script_method
        def method(self, x):
            return self.bar(x)

    class ModuleTooManyAssign(_BaseModule):
        @torch.jit.script_method
        def method(self, x):
            y, z, w = self.bar(x, x)
            return x

    class ModuleDefault(_BaseModule):
        @torch.jit.script_method
        def method(self, x):
            return self.baz(x)

    for cls, words in ((ModuleTooMany, "Expected at most 2 arguments but found 3"),
                       (ModuleTooFew, "Argument y not provided"),
                       (ModuleTooManyAssign, "need 3 values to unpack but found only 2"),
                       (ModuleDefault, "Argument y not provided")):
        with pytest.raises(RuntimeError) as e:
            cls()
        assert words in str(e.value), (cls.__name__, str(e.value))


def test_script_define_order_and_recursion():
    class M(torch.jit.ScriptModule):
        @torch.jit.script_method
        def call_foo(self, input):
            return self.foo(input)

        @torch.jit.script_method
        def foo(self, input):
            return input + 1

    assert M().call_foo(torch.ones((), dtype=torch.int64)).item() == 2

    class R(torch.jit.ScriptModule):
        @torch.jit.script_method
        def call_foo(self, input):
            return self.foo(input)

        @torch.jit.script_method
        def foo(self, input):
            self.call_foo(input)

    with pytest.raises(RuntimeError) as e:
        R()
    assert "is called recursively" in str(e.value), str(e.value)


def test_wrong_method_call_inputs():
    class SomeModule(torch.jit.ScriptModule):
        @torch.jit.script_method
        def foo(self, x, y):
            return x

        @torch.jit.script_method
        def forward(self, x, y):
            return self.foo(x)

    with pytest.raises(RuntimeError) as e:
        SomeModule()
    assert "Argument y not provided" in str(e.value), str(e.value)


def test_indexing_a_number_and_annotation_mismatches():
    def test_wrong_type():
        a = 8
        return a[0]

    msg = _script_error(test_wrong_type)
    assert "'int' object is not subscriptable" in msg, msg

    def return_tup(x):
        # type: (Tensor) -> Tuple[Tuple[Tensor, Tensor], Tensor]
        return x, x  # noqa: T484

    msg = _script_error(return_tup)
    assert "but is actually of type Tuple[Tensor, Tensor]" in msg, msg

    def tuple_arg(x):
        # type: (Tuple[Tensor, Tensor]) -> Tensor
        return x + 1  # noqa: T484

    msg = _script_error(tuple_arg)
    assert "Arguments for call are not valid" in msg, msg

    def close_match(x):
        return x.masked_fill(True)

    msg = _script_error(close_match)
    assert "Arguments for call are not valid" in msg, msg


@pytest.mark.parametrize("cast_type", ['byte', 'char', 'double', 'float', 'int', 'long',
                                       'short'])
def test_method_casts_script(cast_type):
    cu = torch.jit.CompilationUnit(f"def cast_to(x):\n    return x.{cast_type}()\n")
    x = torch.rand(3, 4, 5) * 128
    got, want = cu.cast_to(x), getattr(x, cast_type)()
    assert got.dtype == want.dtype and got.tolist() == want.tolist()


def test_backend_cudnn_enabled_compiles():
    @torch.jit.script
    def fn(x):
        if torch.backends.cudnn.enabled:
            x = x + 2
        else:
            x = x + 3
        return x

    assert fn(torch.zeros(1)).item() == (2. if torch.backends.cudnn.enabled else 3.)


def test_pyop_exception_message():
    class Foo(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 10, kernel_size=5)

        @torch.jit.script_method
        def forward(self, x):
            return self.conv(x)

    with pytest.raises(RuntimeError) as e:
        Foo()(torch.ones([123]))
    assert "Expected 3D (unbatched) or 4D (batched) input to conv2d" in str(e.value)


def test_isinstance_of_optional():
    @torch.jit.script
    def opt_func(x):
        # type: (Optional[int]) -> bool
        return isinstance(x, int)

    assert opt_func(1) is True and opt_func(None) is False


def test_shift_operators():
    def fn(x, y):
        return x << y, 1 << 3, x >> 1, 37 >> 2

    got = check_script(fn, torch.tensor(4), torch.tensor(2))
    assert got[0].item() == 16 and got[1] == 8 and got[2].item() == 2 and got[3] == 9


def _python_list_op(lst):
    # type: (List[Tensor]) -> Tensor
    return lst[0]


def test_list_python_op():
    def fn(lst):
        # type: (List[Tensor]) -> Tensor
        return _python_list_op(lst)

    check_script(fn, [torch.ones(2) + 2, torch.ones(2)])


# ------------------------------------------------------------------ save / load, tracing

def _round_trip(m):
    import io
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    return torch.jit.load(buf)


def test_script_module_export_submodule_and_defined_methods():
    class M1(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(2))

        @torch.jit.script_method
        def forward(self, thing):
            return self.weight + thing

    class M2(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.sub = M1()
            self.weight = nn.Parameter(torch.randn(2, 3))
            self.bias = nn.Parameter(torch.randn(2))
            self.define("""
                def hi(self, a):
                    return self.weight.mm(a)
                """)

        @torch.jit.script_method
        def doit(self, input):
            return self.weight.mm(input)

        @torch.jit.script_method
        def doit3(self, input):
            return input + torch.ones([1], dtype=torch.double)

        @torch.jit.script_method
        def forward(self, input):
            return self.doit(input) + self.bias + self.hi(input)

    m = M2()
    mi = _round_trip(m)
    x = torch.randn(3, 2)
    for name in ("doit", "hi", "doit3", "forward"):
        a, b = getattr(m, name)(x), getattr(mi, name)(x)
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
    assert mi.doit3(x).dtype == torch.float64


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_script_module_export_tensor_type(dtype):
    class M(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(torch.zeros((5, 5), dtype=getattr(torch, dtype))
                                      .random_())

        @torch.jit.script_method
        def foo(self):
            return self.param

    m = M()
    mi = _round_trip(m)
    assert mi.foo().dtype == m.foo().dtype == getattr(torch, dtype)
    assert mi.foo().tolist() == m.foo().tolist()


def test_script_module_export_blocks():
    class M(torch.jit.ScriptModule):
        def __init__(self, n, m):
            super().__init__()
            self.weight = nn.Parameter(torch.rand(n, m))

        @torch.jit.script_method
        def forward(self, input):
            if bool(input.sum() > 0):
                output = self.weight.mv(input)
            else:
                output = self.weight + input
            return output

    m = M(20, 20)
    mi = _round_trip(m)
    for t in (torch.rand(20), -torch.rand(20)):
        np.testing.assert_allclose(m(t).detach().numpy(), mi(t).detach().numpy(), rtol=1e-6)


class _SharedStorage(torch.jit.ScriptModule):
    def __init__(self):
        super().__init__()
        self.param1 = nn.Parameter(torch.rand(5, 5))
        self.param2 = nn.Parameter(self.param1[3])
        self.param3 = nn.Parameter(torch.rand(5, 5))
        self.param4 = nn.Parameter(torch.rand(11, 5)[1:6])

    @torch.jit.script_method
    def foo(self):
        return self.param1 + self.param2 + self.param3 + self.param4


def test_script_module_export_shared_storage_values():
    m = _SharedStorage()
    mi = _round_trip(m)
    np.testing.assert_allclose(m.foo().detach().numpy(), mi.foo().detach().numpy(),
                               rtol=1e-6)


def test_script_module_export_shared_storage_stays_shared():
    mi = _round_trip(_SharedStorage())
    with torch.no_grad():
        mi.param1[3].fill_(7.0)
    assert mi.param2.tolist() == [7.0] * 5          # one storage, as PyTorch's archive
    assert mi.param3[0, 0].item() != 7.0
    mi2 = _round_trip(mi)                            # and again after a second save
    with torch.no_grad():
        mi2.param2.fill_(3.0)
    assert mi2.param1[3].tolist() == [3.0] * 5


def test_trace_of_a_script_returning_nested_lists():
    @torch.jit.script
    def foo(x):
        return [[x + 1, x - 1], [x + 2, x - 2]]

    def bar(x):
        list_stuff = foo(x)
        return list_stuff[0][0], list_stuff[1][1]

    traced = torch.jit.trace(bar, torch.rand(3, 4))
    x = torch.rand(5, 6)
    for a, b in zip(bar(x), traced(x)):
        assert a.tolist() == b.tolist()


def test_embedding_max_norm_renorms_in_script_as_in_eager():
    # (PyTorch's test expects this of both; PyTorch 2.13's TorchScript leaves the matrix
    # as it was, its eager code renorms: gpujit does what eager does in both)
    F = nn.functional

    def embedding_norm(input, embedding_matrix, max_norm):
        # type: (Tensor, Tensor, float) -> None
        F.embedding(input, embedding_matrix, max_norm=max_norm)

    scripted = torch.jit.script(embedding_norm)
    for fn in (embedding_norm, scripted):
        input = torch.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])
        embedding_matrix = torch.randn(10, 3)
        var = torch.randn(10, 3, requires_grad=True)
        output = var * embedding_matrix
        fn(input, embedding_matrix, 0.01)
        norms = embedding_matrix.norm(dim=1)
        assert all(abs(norms[k].item() - 0.01) < 1e-4 for k in (1, 2, 3, 4, 5, 9))
        # the renorm wrote the matrix in place: the product's backward needs its old value
        with pytest.raises(RuntimeError, match="modified"):
            output.sum().backward()


def test_ignored_method_runs_and_is_refused_by_save():
    class M(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.register_buffer('some_state', torch.zeros(1))

        @torch.jit.script_method
        def forward(self, x):
            self.ignored_code(x)
            return x

        @torch.jit.ignore
        def ignored_code(self, x):
            self.some_state = torch.tensor((100,))

    m = M()
    m(torch.ones(1))
    assert m.some_state.tolist() == [100]
    import io
    with pytest.raises(RuntimeError) as e:
        torch.jit.save(m, io.BytesIO())
    assert "ignored_code" in str(e.value), str(e.value)
