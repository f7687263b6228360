"""Behaviour ported from PyTorch's test/jit/test_hooks.py and test_hooks_modules.py:
forward pre-hooks and hooks on scripted modules and submodules, compared with eager and
literal values, and the errors for hooks whose signatures do not fit forward.

The scripted modules are saved and loaded with their hooks too.
Skipped: test_hook_compilation_hint (skipped in torch too), test_forward_tuple_input
(eager and TorchScript differ there by design: eager wraps a pre-hook's tuple result).
"""
from typing import List, Tuple

import numpy as np
import pytest

import gpujit as torch
from jit_module_checks import _roundtrip, _same, _x, check_module

nn = torch.nn


# ---------------------------------------------------------------------- test_hooks

class _InnerNoInput(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def forward(self):
        assert self.name == "inner_mod_name"


class _OuterNoInput(nn.Module):
    def __init__(self, name: str, submodule_name: str):
        super().__init__()
        self.name = name
        self.submodule = _InnerNoInput(submodule_name)

    def forward(self):
        self.submodule()


class _InnerSingle(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def foo(self, input: str):
        return input

    def forward(self, input: str):
        input = input + "_inner_mod"
        return self.foo(input)


class _OuterSingle(nn.Module):
    def __init__(self, name: str, submodule_name: str):
        super().__init__()
        self.name = name
        self.submodule = _InnerSingle(submodule_name)

    def forward(self, input: str):
        input = input + "_outermod"
        return self.submodule(input)


class _OuterDirectForward(_OuterSingle):
    def forward(self, input: str):
        input = input + "_outermod"
        return self.submodule.forward(input)


class _InnerMulti(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def forward(self, input1: List[str], input2: str):
        input1.append(self.name)
        return input1, input2 + "_"


class _OuterMulti(nn.Module):
    def __init__(self, name: str, submodule_name: str):
        super().__init__()
        self.name = name
        self.submodule = _InnerMulti(submodule_name)

    def forward(self, input1: List[str], input2: str):
        input1.append(self.name)
        return self.submodule(input1, input2)


def _no_input(where):
    m = _OuterNoInput("outer_mod_name", "inner_mod_name")
    target = m if where == "module" else m.submodule
    # (the hooks cannot close over a str: torch 2.13 refuses "python value of type 'str'
    # cannot be used as a value", as for globals)

    def pre_hook(self, input: Tuple[()]) -> None:
        assert self.name.endswith("_mod_name")

    def forward_hook(self, input: Tuple[()], output: None):
        assert self.name.endswith("_mod_name")

    target.register_forward_pre_hook(pre_hook)
    target.register_forward_hook(forward_hook)
    return m, ()


def _multi(where):
    m = _OuterMulti("outer_mod_name", "inner_mod_name")
    target = m if where == "module" else m.submodule

    def pre_hook1(self, input: Tuple[List[str], str]) -> Tuple[List[str], str]:
        return ["pre_hook_override_name"], input[1] + "_ph1"

    def pre_hook2(self, input: Tuple[List[str], str]) -> Tuple[List[str], str]:
        assert input[0][0] == "pre_hook_override_name"
        return ["pre_hook_override_name2"], input[1] + "_ph2"

    def forward_hook1(self, input: Tuple[List[str], str], output: Tuple[List[str], str]):
        assert input[0][0] == "pre_hook_override_name2"
        output2 = output[1] + "fh1"
        return output[0], output2, output2

    def forward_hook2(self, input: Tuple[List[str], str],
                      output: Tuple[List[str], str, str]):
        return output[0], output[1] + "_fh2"

    for h in (pre_hook1, pre_hook2):
        target.register_forward_pre_hook(h)
    for h in (forward_hook1, forward_hook2):
        target.register_forward_hook(h)
    return m, (["a"], "no_pre_hook")


def _single(where, repeated=False, nothing=False):
    m = _OuterSingle("outer_mod_name", "inner_mod_name")
    target = m if where == "module" else m.submodule
    # (the hooks cannot close over a str: torch 2.13 refuses "python value of type 'str'
    # cannot be used as a value", as for globals)

    def pre_hook(self, input: Tuple[str]) -> Tuple[str]:
        assert self.name.endswith("_mod_name")
        return (input[0] + "_ph",)

    def forward_hook(self, input: Tuple[str], output: str):
        assert self.name.endswith("_mod_name")
        return output + "_fh"

    def quiet_pre_hook(self, input: Tuple[str]) -> None:
        assert self.name.endswith("_mod_name")

    def quiet_hook(self, input: Tuple[str], output: str):
        assert self.name.endswith("_mod_name")

    def single_pre_hook(self, input: Tuple[str]) -> str:      # not tupled: wrapped
        return input[0] + "_single"

    def pair_hook(self, input: Tuple[str], output: str):
        return output, output + "_fh1"

    def unpair_hook(self, input: Tuple[str], output: Tuple[str, str]):
        return output[1] + "_fh2"

    if nothing:
        hooks = ([quiet_pre_hook], [quiet_hook])
    elif repeated:
        hooks = ([pre_hook, pre_hook], [forward_hook, forward_hook])
    else:
        hooks = ([pre_hook, single_pre_hook], [pair_hook, unpair_hook])
    for h in hooks[0]:
        target.register_forward_pre_hook(h)
    for h in hooks[1]:
        target.register_forward_hook(h)
    return m, ("a",)


_HOOK_CASES = {
    "no_input_module": lambda: _no_input("module"),
    "no_input_submodule": lambda: _no_input("submodule"),
    "multi_module": lambda: _multi("module"),
    "multi_submodule": lambda: _multi("submodule"),
    "single_module": lambda: _single("module"),
    "single_submodule": lambda: _single("submodule"),
    "repeated_module": lambda: _single("module", repeated=True),
    "repeated_submodule": lambda: _single("submodule", repeated=True),
    "nothing_module": lambda: _single("module", nothing=True),
    "nothing_submodule": lambda: _single("submodule", nothing=True),
}


@pytest.mark.parametrize("case", sorted(_HOOK_CASES))
def test_hooks_run_as_in_eager(case):
    m, args = _HOOK_CASES[case]()
    eager = m(*[list(a) if isinstance(a, list) else a for a in args])
    sm = torch.jit.script(m)
    _same(eager, sm(*[list(a) if isinstance(a, list) else a for a in args]))
    _same(eager, _roundtrip(sm)(*[list(a) if isinstance(a, list) else a for a in args]))


def test_hook_results_literal():
    m, _ = _single("submodule")
    sm = torch.jit.script(m)
    assert sm("a") == "a_outermod_ph_single_inner_mod_fh1_fh2"
    assert sm.submodule("x") == "x_ph_single_inner_mod_fh1_fh2"
    assert sm.submodule.forward("x") == "x_inner_mod"          # forward alone: no hooks
    loaded = _roundtrip(sm)
    assert loaded("a") == "a_outermod_ph_single_inner_mod_fh1_fh2"
    assert loaded.submodule.forward("x") == "x_inner_mod"
    m, _ = _single("module", repeated=True)
    assert torch.jit.script(m)("a") == "a_ph_ph_outermod_inner_mod_fh_fh"


def test_hooks_run_on_calls_not_on_forward():
    def pre_hook(self, input: Tuple[str]) -> Tuple[str]:
        return ("pre_hook_override_name",)

    def forward_hook(self, input: Tuple[str], output: str):
        assert input == ("pre_hook_override_name",)
        return output + "_fh"

    m = _OuterSingle("outer_mod_name", "inner_mod_name")
    m.register_forward_pre_hook(pre_hook)
    m.register_forward_hook(forward_hook)
    sm = torch.jit.script(m)
    assert sm.forward("a") == m.forward("a") == "a_outermod_inner_mod"
    assert sm("a") == m("a") == "pre_hook_override_name_outermod_inner_mod_fh"

    direct = _OuterDirectForward("outer_mod_name", "inner_mod_name")
    called = _OuterSingle("outer_mod_name", "inner_mod_name")
    for mm in (direct, called):
        mm.submodule.register_forward_pre_hook(pre_hook)
        mm.submodule.register_forward_hook(forward_hook)
    assert torch.jit.script(direct)("a") == direct("a") == "a_outermod_inner_mod"
    assert torch.jit.script(called)("a") == called("a") == \
        "pre_hook_override_name_inner_mod_fh"


def test_hook_name_collisions():
    m = _OuterSingle("outer_mod_name", "inner_mod_name")

    def foo(self, input: Tuple[str]) -> Tuple[str]:
        return ("x",)

    m.submodule.register_forward_pre_hook(foo)
    with pytest.raises(RuntimeError, match="Can't define hook: foo on class: .+ because a "
                                           "method or hook with that name already exists"):
        torch.jit.script(m)

    m = _OuterSingle("outer_mod_name", "inner_mod_name")

    def prehook(self, input: Tuple[str]) -> Tuple[str]:
        return ("first",)
    m.submodule.register_forward_pre_hook(prehook)

    def prehook(self, input: Tuple[str]) -> Tuple[str]:    # noqa: F811
        return ("second",)
    m.submodule.register_forward_pre_hook(prehook)
    with pytest.raises(RuntimeError, match="Pre-hook '.+' on .+ has at least two different "
                                           "python definitions"):
        torch.jit.script(m)


@pytest.mark.parametrize("hook, kind, match", [
    ("pre_wrong_inner", "pre", "has the wrong inner types for the input tuple argument"),
    ("pre_three_inputs", "pre", "expected to only have exactly 2 inputs but it had 3"),
    ("pre_not_tuple", "pre", "expected the input argument to be typed as a Tuple but "
                             "found type: 'int' instead"),
    ("pre_wrong_output", "pre", "returned the wrong type of: 'int'"),
    ("pre_no_annotation", "pre", "is missing a return annotation"),
    ("wrong_count", "post", r"wrong number of contained types for the input argument's "
                            r"Tuple. Received type: 'Tuple\[str, str\]'"),
    ("not_tuple", "post", "expected the input argument to be typed as a Tuple but found "
                          "type: 'str' instead"),
    ("wrong_output", "post", r"wrong type for the output argument. Received type: "
                             r"'Tuple\[str\]'. Expected type: 'str'"),
])
def test_wrong_hook_signatures(hook, kind, match):
    def pre_wrong_inner(self, input: Tuple[None]) -> Tuple[str]:
        return ("hello",)

    def pre_three_inputs(self, input: Tuple[str], input2: str) -> Tuple[str]:
        return ("hello",)

    def pre_not_tuple(self, input: int) -> Tuple[str]:
        return ("hello",)

    def pre_wrong_output(self, input: Tuple[str]) -> int:
        return 1

    def pre_no_annotation(self, input: Tuple[str]):
        return 1

    def wrong_count(self, input: Tuple[str, str], output: str):
        return output

    def not_tuple(self, input: str, output: str):
        return output

    def wrong_output(self, input: Tuple[str], output: Tuple[str]):
        return output

    fn = locals()[hook]
    m = _OuterSingle("outer_mod_name", "inner_mod_name")
    (m.register_forward_pre_hook if kind == "pre" else m.register_forward_hook)(fn)
    with pytest.raises(RuntimeError, match=match):
        torch.jit.script(m)


def test_forward_hook_output_is_checked_against_the_previous_hook():
    def correct(self, input: Tuple[str], output: str):
        return (output,)

    def wrong(self, input: Tuple[str], output: str):
        return output

    m = _OuterSingle("outer_mod_name", "inner_mod_name")
    m.register_forward_hook(correct)
    m.register_forward_hook(wrong)
    with pytest.raises(RuntimeError, match=r"Received type: 'str'. Expected type: "
                                           r"'Tuple\[str\]'"):
        torch.jit.script(m)


def test_tensor_hooks_on_a_scripted_layer():
    lin = nn.Linear(3, 2)

    def scale_input(self, input: Tuple[torch.Tensor]) -> Tuple[torch.Tensor]:
        return (input[0] * 2,)

    def add_one(self, input: Tuple[torch.Tensor], output: torch.Tensor) -> torch.Tensor:
        return output + 1

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lin

        def forward(self, x):
            return torch.relu(self.lin(x))

    lin.register_forward_pre_hook(scale_input)
    lin.register_forward_hook(add_one)
    x = _x(4, 3)
    sm = check_module(Net(), (x,))
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    ref = np.maximum(2 * x.numpy() @ w.T + b + 1, 0)
    np.testing.assert_allclose(sm(x).detach().numpy(), ref, rtol=1e-5, atol=1e-6)
