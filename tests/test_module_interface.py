"""gpujit.jit.interface: TorchScript module / class interfaces, ported as behaviour from
PyTorch's test/jit/test_module_interface.py (values checked against literal formulas)."""
from typing import Any, List

import io

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn as nn
from gpujit import Tensor


class OrigModule(nn.Module):
    def one(self, inp1, inp2):
        # type: (Tensor, Tensor) -> Tensor
        return inp1 + inp2 + 1

    def two(self, input):
        # type: (Tensor) -> Tensor
        return input + 2

    def forward(self, input):
        # type: (Tensor) -> Tensor
        return input + self.one(input, input) + 1


class NewModule(nn.Module):
    def one(self, inp1, inp2):
        # type: (Tensor, Tensor) -> Tensor
        return inp1 * inp2 + 1

    def forward(self, input):
        # type: (Tensor) -> Tensor
        return self.one(input, input + 1)


@torch.jit.interface
class ModuleInterface(nn.Module):
    def one(self, inp1, inp2):
        # type: (Tensor, Tensor) -> Tensor
        pass

    def forward(self, input):
        # type: (Tensor) -> Tensor
        r"""stuff 1"""
        pass


@torch.jit.interface
class OneTwoModule(nn.Module):
    def one(self, x, y):
        # type: (Tensor, Tensor) -> Tensor
        pass

    def two(self, x):
        # type: (Tensor) -> Tensor
        pass

    def forward(self, x):
        # type: (Tensor) -> Tensor
        pass


@torch.jit.interface
class OneTwoClass(object):
    def one(self, x, y):
        # type: (Tensor, Tensor) -> Tensor
        pass

    def two(self, x):
        # type: (Tensor) -> Tensor
        pass


@torch.jit.interface
class TensorToAny(nn.Module):
    def forward(self, input: Tensor) -> Any:
        pass


class FooMod(nn.Module):
    def one(self, x, y):
        # type: (Tensor, Tensor) -> Tensor
        return x + y

    def two(self, x):
        # type: (Tensor) -> Tensor
        return 2 * x

    def forward(self, x):
        # type: (Tensor) -> Tensor
        return self.one(self.two(x), x)


class BarMod(nn.Module):
    def one(self, x, y):
        # type: (Tensor, Tensor) -> Tensor
        return x * y

    def two(self, x):
        # type: (Tensor) -> Tensor
        return 2 / x

    def forward(self, x):
        # type: (Tensor) -> Tensor
        return self.two(self.one(x, x))

    @torch.jit.export
    def forward2(self, x):
        # type: (Tensor) -> Tensor
        return self.two(self.one(x, x)) + 1


class Proxy(nn.Module):
    proxy_mod: ModuleInterface

    def __init__(self):
        super().__init__()
        self.proxy_mod = OrigModule()

    def forward(self, input):
        # type: (Tensor) -> Tensor
        return self.proxy_mod.forward(input)


class ProxyCall(Proxy):
    def forward(self, input):
        # type: (Tensor) -> Tensor
        return self.proxy_mod(input) + self.proxy_mod.one(input, input)


class ProxyWrongMethod(Proxy):
    def forward(self, input):
        # type: (Tensor) -> Tensor
        return self.proxy_mod.two(input)


class Dispatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.moddict = nn.ModuleDict({"orig": OrigModule(), "new": NewModule()})
        self.modlist = nn.ModuleList([OrigModule(), NewModule()])

    def forward(self, x, key: str, i: int):
        submod: ModuleInterface = self.moddict[key]
        other: ModuleInterface = self.modlist[i]
        return submod.forward(x) + other.one(x, x)


def use_module_interface(mod_list: List[OneTwoModule], x: torch.Tensor):
    return mod_list[0].forward(x) + mod_list[1].forward(x)


def use_class_interface(mod_list, x):
    # type: (List[OneTwoClass], Tensor) -> Tensor
    return mod_list[0].two(x) + mod_list[1].one(x, x)


def call_two(m: OneTwoModule, x: Tensor):
    return m.two(x)


def call_other_method(mod_interface, x):
    # type: (OneTwoModule, Tensor) -> Tensor
    return mod_interface.forward2(x)


def _x():
    return torch.tensor(np.random.RandomState(0).rand(3, 4).astype(np.float32) + 0.5)


def _close(a, b):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_interface_attribute_and_swap():
    x = _x()
    sm = torch.jit.script(Proxy())
    for _ in range(3):                    # profiling runs, then the optimized code
        _close(sm(x), 3 * x + 2)
    sm.proxy_mod = torch.jit.script(NewModule())
    for _ in range(3):
        _close(sm(x), x * (x + 1) + 1)
    assert "prim::CallMethod[name=\"forward\"]" in str(sm.graph)
    assert "InterfaceType<ModuleInterface>" in str(sm.graph)       # (as TorchScript)


def test_swap_with_non_scripted_module_raises():
    sm = torch.jit.script(Proxy())
    with pytest.raises(RuntimeError, match="a ScriptModule with non-scripted module"):
        sm.proxy_mod = NewModule()


def test_swap_with_incompatible_module_raises():
    class NewModuleWrong(nn.Module):
        def forward(self, input):
            # type: (int) -> int
            return input + 1

    class NotExported(nn.Module):
        def one(self, inp1, inp2):
            # type: (Tensor, Tensor) -> Tensor
            return inp1 * inp2 + 1

        def forward(self, input):
            # type: (Tensor) -> Tensor
            return input + 1

    class Exported(NotExported):
        @torch.jit.export
        def one(self, inp1, inp2):
            # type: (Tensor, Tensor) -> Tensor
            return inp1 * inp2 + 1

    sm = torch.jit.script(Proxy())
    with pytest.raises(RuntimeError, match="is not compatible with interface"):
        sm.proxy_mod = torch.jit.script(NewModuleWrong())
    # `one` is not called by forward nor exported: it was never compiled
    with pytest.raises(RuntimeError, match="is not compatible with interface"):
        sm.proxy_mod = torch.jit.script(NotExported())
    sm.proxy_mod = torch.jit.script(Exported())
    x = _x()
    _close(sm(x), x + 1)


def test_call_and_other_methods():
    x = _x()
    _close(torch.jit.script(ProxyCall())(x), 3 * x + 2 + 2 * x + 1)
    with pytest.raises(RuntimeError, match="Tried to access nonexistent attribute or method"):
        torch.jit.script(ProxyWrongMethod())


def test_module_dict_and_list_indexed_at_run_time():
    x = _x()
    d = torch.jit.script(Dispatch())
    for _ in range(3):
        _close(d(x, "orig", 1), 3 * x + 2 + x * x + 1)
        _close(d(x, "new", -2), x * (x + 1) + 1 + 2 * x + 1)
    with pytest.raises(KeyError, match="out of range"):
        d(x, "missing", 0)
    with pytest.raises(Exception, match="out of range"):
        d(x, "orig", 2)


def test_list_of_module_and_class_interfaces():
    x = _x()
    foo, bar = torch.jit.script(FooMod()), torch.jit.script(BarMod())
    f = torch.jit.script(use_module_interface)
    g = torch.jit.script(use_class_interface)
    for _ in range(3):
        _close(f([foo, bar], x), 3 * x + 2 / (x * x))
        _close(g([foo, bar], x), 2 * x + x * x)
    h = torch.jit.script(call_two)
    _close(h(bar, x), 2 / x)
    with pytest.raises(RuntimeError, match="Expected a value of type 'OneTwoModule'"):
        h(FooMod(), x)          # not scripted
    with pytest.raises(RuntimeError, match="Tried to access nonexistent attribute or method"):
        torch.jit.script(call_other_method)


def test_subtyping_any_result():
    class Impl(nn.Module):
        def forward(self, input: Any) -> Any:
            return input

    class Holder(nn.Module):
        impl: TensorToAny

        def __init__(self):
            super().__init__()
            self.impl = Impl()

        def forward(self, x):
            return self.impl(x)

    x = _x()
    _close(torch.jit.script(Holder())(x), x)


def test_inheritance_refused():
    with pytest.raises(RuntimeError, match="does not support inheritance yet. Please directly"):
        @torch.jit.interface
        class InheritMod(nn.ReLU):
            def three(self, x):
                # type: (Tensor) -> Tensor
                return 3 * x


def test_initial_module_must_implement():
    class Wrong(nn.Module):
        def forward(self, x: int) -> int:
            return x

    class Holder(nn.Module):
        impl: ModuleInterface

        def __init__(self):
            super().__init__()
            self.impl = Wrong()

        def forward(self, x):
            return self.impl(x)

    # (Wrong has no method `one`: torch 2.13 raises Python's AttributeError looking it up)
    with pytest.raises(AttributeError, match="'Wrong' object has no attribute 'one'"):
        torch.jit.script(Holder())

    class Wrong2(Wrong):
        def one(self, a: Tensor, b: Tensor) -> Tensor:
            return a

    class Holder2(Holder):
        def __init__(self):
            nn.Module.__init__(self)
            self.impl = Wrong2()

    with pytest.raises(RuntimeError, match="is not compatible with interface"):
        torch.jit.script(Holder2())


def test_save_load_keeps_interfaces():
    import io
    x = _x()
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(Proxy()), buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    _close(loaded(x), 3 * x + 2)
    loaded.proxy_mod = torch.jit.script(NewModule())      # still an interface attribute
    _close(loaded(x), x * (x + 1) + 1)
    with pytest.raises(RuntimeError, match="non-scripted module"):
        loaded.proxy_mod = NewModule()
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(Dispatch()), buf)
    buf.seek(0)
    d = torch.jit.load(buf)
    _close(d(x, "new", 0), x * (x + 1) + 1 + 2 * x + 1)
    with pytest.raises(KeyError):
        d(x, "missing", 0)


class OrigScriptModule(torch.jit.ScriptModule):
    @torch.jit.script_method
    def one(self, inp1, inp2):
        # type: (Tensor, Tensor) -> Tensor
        return inp1 + inp2 + 1

    @torch.jit.script_method
    def forward(self, input):
        # type: (Tensor) -> Tensor
        return input + self.one(input, input) + 1


class HoldsScriptModule(nn.Module):
    proxy_mod: ModuleInterface

    def __init__(self):
        super().__init__()
        self.proxy_mod = OrigScriptModule()

    def forward(self, input):
        # type: (Tensor) -> Tensor
        return self.proxy_mod.forward(input)


def test_script_method_module_as_interface_and_freeze():
    x = _x()
    m = torch.jit.script(HoldsScriptModule())
    _close(m(x), 3 * x + 2)
    m.proxy_mod = torch.jit.script(NewModule())
    _close(m(x), x * (x + 1) + 1)
    # freezing keeps the interface call (its callee is only known at run time)
    f = torch.jit.freeze(torch.jit.script(Proxy()).eval())
    _close(f(x), 3 * x + 2)
    assert 'prim::CallMethod[name="forward"]' in str(f.graph)


def test_frozen_module_with_an_interface_call_saves_and_loads():
    # freeze keeps the interface-typed submodule (its call is dispatched at run time):
    # it must stay a submodule of the frozen module, saved and loaded with it
    x = _x()
    f = torch.jit.freeze(torch.jit.script(Proxy()).eval())
    buf = io.BytesIO()
    torch.jit.save(f, buf)
    buf.seek(0)
    g = torch.jit.load(buf)
    _close(g(x), 3 * x + 2)
    g.proxy_mod = torch.jit.script(NewModule())
    _close(g(x), x * (x + 1) + 1)
