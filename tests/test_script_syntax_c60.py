"""Scripted-code constructs found by session 60's syntax hunt (helper c60): an @ignore'd
function's result is converted to its declared return type, or refused with TorchScript's
error (gpujit returned a str for an `-> int` function); an augmented assignment to a list
slice is refused (gpujit changed a copy and lost the update); `f(**d)` is TorchScript's
NotSupportedError. Expected values and messages are torch 2.13's."""
from typing import Dict, List, Optional, Tuple, Union

import pytest

import gpujit as torch
from gpujit.jit.frontend import NotSupportedError


@torch.jit.ignore
def _to_str(a: int) -> int:
    return str(a)


@torch.jit.ignore
def _int_for_float(a: int) -> float:
    return a


@torch.jit.ignore
def _unannotated(a: int):
    return a


@torch.jit.ignore
def _short_tuple(a: int) -> Tuple[int, int]:
    return (a,)


@torch.jit.ignore
def _float_for_union(a: int) -> Union[int, str]:
    return 1.5


@torch.jit.ignore
def _floats_for_ints(a: int) -> List[int]:
    return [1.5]


@torch.jit.ignore
def _opt(a: int) -> Optional[int]:
    return None if a < 0 else a


@torch.jit.ignore
def _dict_of_ints(a: int) -> Dict[str, float]:
    return {"a": a}


def _calls_to_str(x: int):
    return _to_str(x)


def _calls_int_for_float(x: int):
    return _int_for_float(x)


def _calls_unannotated(x: int):
    _unannotated(x)          # (the result unused: it is converted all the same)
    return 1


def _calls_short_tuple(x: int):
    return _short_tuple(x)


def _calls_float_for_union(x: int):
    return _float_for_union(x)


def _calls_floats_for_ints(x: int):
    return _floats_for_ints(x)


def _calls_opt_and_dict(x: int):
    return _opt(x), _dict_of_ints(x)


def test_an_ignored_functions_result_of_another_type_is_torchscripts_error():
    f = torch.jit.script(_calls_to_str)
    with pytest.raises(RuntimeError) as e:
        f(1)
    msg = str(e.value)
    assert "RuntimeError:  expected value of type int for return value but instead got " \
           "value of type str.\nValue: '1'\nCast error details: Unable to cast Python " \
           "instance of type <class 'str'> to C++ type '?'" in msg
    assert "return _to_str(x)" in msg and "<--- HERE" in msg
    assert "\nAt:\n" not in msg          # (TorchScript's own error: no Python stack)


@pytest.mark.parametrize("fn, words", [
    (_calls_unannotated, "expected value of type Tensor for return value but instead got "
                         "value of type int.\nValue: 1\nCast error details: Unable to cast 1 "
                         "to Tensor"),
    (_calls_short_tuple, "expected value of type (int, int) for return value but instead got "
                         "value of type tuple.\nValue: (1,)\nCast error details: Object (1,) "
                         "had a different number of elements than type Tuple[int, int]"),
    (_calls_float_for_union, "expected value of type Union(int, str) for return value but "
                             "instead got value of type float.\nValue: 1.5\nCast error "
                             "details: Expected a member of Union[int, str] but instead "
                             "found type float"),
    (_calls_floats_for_ints, "expected value of type int[] for return value but instead got "
                             "value of type list.\nValue: [1.5]"),
])
def test_ignored_results_that_do_not_convert(fn, words):
    f = torch.jit.script(fn)
    with pytest.raises(RuntimeError) as e:
        f(1)
    assert words in str(e.value)


def test_an_ignored_functions_result_is_converted_to_its_type():
    # an int for `-> float` is a float, as TorchScript converts it
    r = torch.jit.script(_calls_int_for_float)(1)
    assert r == 1.0 and type(r) is float
    f = torch.jit.script(_calls_opt_and_dict)
    assert f(-1) == (None, {"a": -1.0})
    o, d = f(3)
    assert o == 3 and type(d["a"]) is float


class _IgnoredMethod(torch.nn.Module):
    @torch.jit.ignore
    def g(self, x: int) -> int:
        return str(x)

    def forward(self, x: int):
        return self.g(x)


def test_an_ignored_methods_result_is_checked_too():
    m = torch.jit.script(_IgnoredMethod())
    with pytest.raises(RuntimeError, match="expected value of type int for return value"):
        m(1)


def _slice_aug_add(a: List[int]):
    a[0:2] += [5]
    return a


def _slice_aug_mul(a: List[int]):
    a[1:] *= 2
    return a


class _SliceAugAttr(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.xs = [1, 2, 3]

    def forward(self, x: int):
        self.xs[:1] += [x]
        return self.xs


@pytest.mark.parametrize("fn", [_slice_aug_add, _slice_aug_mul, _SliceAugAttr])
def test_augmented_assignment_to_a_list_slice_is_refused(fn):
    # (the slice is a new list: gpujit changed it and returned the list unchanged;
    # TorchScript refuses the slice expression)
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(fn() if fn is _SliceAugAttr else fn)
    msg = str(e.value)
    assert "augmented assignment to a list slice is not supported" in msg
    assert "<--- HERE" in msg and ("+= [" in msg or "*= 2" in msg)


def _tensor_slice_aug(a: torch.Tensor):
    a[0:1] += 1          # (a Tensor's slice is a view: changed in place)
    return a


def test_augmented_assignment_to_a_tensor_slice_still_works():
    out = torch.jit.script(_tensor_slice_aug)(torch.zeros(3))
    assert out.tolist() == [1.0, 0.0, 0.0]


def _g(a: int, b: int):
    return a + b


def _kwargs_call(x: Dict[str, int]):
    return _g(**x)


def test_keyword_argument_expansion_is_not_supported_error():
    with pytest.raises(NotSupportedError) as e:
        torch.jit.script(_kwargs_call)
    msg = str(e.value)
    assert "keyword-arg expansion is not supported" in msg
    assert "return _g(**x)" in msg and "<--- HERE" in msg


class _LambdaAttr(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.act = lambda t: t + 1

    def forward(self, x: torch.Tensor):
        return self.act(x)


_global_lambda = lambda t: t + 1     # noqa: E731


def _calls_global_lambda(x: torch.Tensor):
    return _global_lambda(x)


@pytest.mark.parametrize("make, line", [
    (lambda: _LambdaAttr(), "return self.act(x)"),
    (lambda: _calls_global_lambda, "return _global_lambda(x)"),
])
def test_a_lambda_called_from_scripted_code_shows_the_call(make, line):
    # (the lambda has no def to point into: the error named only its file and line)
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(make())
    msg = str(e.value)
    assert msg.startswith("Expected a single top-level function: ")
    assert line in msg and "<--- HERE" in msg


def _sorted_dict(d: Dict[str, int]):
    return sorted(d)


def test_sorted_of_a_dict_message():
    with pytest.raises(RuntimeError, match=r"^Arguments for call are not valid\. sorted\(\) "
                                           r"takes a list, not a Dict\[str, int\]"):
        torch.jit.script(_sorted_dict)


def _ragged_inner(a: List[List[int]]):
    return torch.tensor(a)


def _ragged_outer(a: List[List[int]]):
    return _ragged_inner(a) + 1


def test_a_ragged_list_to_tensor_is_reported_as_torchscripts_op_failure():
    # (the compiler's check of the rows raised "msg\n  in scripted code at f.py:3: ...":
    # torch 2.13 reports aten::tensor's failure, a frame per call, each line marked)
    f = torch.jit.script(_ragged_outer)
    for _ in range(3):              # (profiled runs and the compiled code alike)
        with pytest.raises(RuntimeError) as e:
            f([[1, 2], [3]])
        msg = str(e.value)
        assert msg.startswith("The following operation failed in the TorchScript "
                              "interpreter.\nTraceback of TorchScript (most recent call "
                              "last):\n"), msg
        assert msg.index("in _ragged_outer") < msg.index("in _ragged_inner"), msg
        assert "return _ragged_inner(a) + 1" in msg and "return torch.tensor(a)" in msg
        assert msg.endswith("\nRuntimeError: Expected sequence of length 2 at dim 1 "
                            "(got 1)\n"), msg


def _record_function_as_unused(x: torch.Tensor):
    with torch.autograd.profiler.record_function("label") as rf:
        y = x * 2
    return y


def _record_function_as_read(x: torch.Tensor):
    with torch.autograd.profiler.record_function("label") as rf:
        y = x * 2
    print(rf)
    return y


def test_record_function_as_a_name_nothing_reads_compiles():
    # (torch 2.13 binds the record_function object; gpujit has a region, no object: an
    # `as rf` nothing reads is bound all the same, one that is read stays refused)
    f = torch.jit.script(_record_function_as_unused)
    assert f(torch.ones(2)).tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match=r"binds the profiler range") as e:
        torch.jit.script(_record_function_as_read)
    assert "<--- HERE" in str(e.value)


class _Counter:
    def __init__(self):
        self.n = 1
        self.seen: List[int] = [1]

    def add(self, k: int) -> int:
        return self.n + k


@torch.jit.script
def _uses_counter(c: _Counter) -> int:
    return c.add(5)


def test_script_of_a_plain_class_instance_is_a_scripted_copy():
    # (torch 2.13 compiles the class and returns a copy, a RecursiveScriptClass; gpujit
    # refused: "compiles Python functions; got _Counter")
    c = _Counter()
    s = torch.jit.script(c)
    assert s.n == 1 and s.add(2) == 3 and _uses_counter(s) == 6 == _uses_counter(c)
    s.n = 10
    s.seen.append(3)
    assert s.add(1) == 11 and c.n == 1 and c.seen == [1]


class _Later:
    def __init__(self):
        self.a = 1


def test_script_of_an_instance_checks_its_attributes():
    q = _Later()
    q.a = "s"
    with pytest.raises(RuntimeError, match=r"^Could not cast attribute 'a' to type int: "
                                           r"Unable to cast Python instance of type "
                                           r"<class 'str'>"):
        torch.jit.script(q)
