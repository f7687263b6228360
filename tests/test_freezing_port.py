"""Behaviour of torch.jit.freeze as PyTorch's test/jit/test_freezing.py checks it, ported
to gpujit: values of frozen modules, which attributes remain, and the errors users see.
Checks of internal IR after torch-only passes (mkldnn, cudnn, concat_frozen_linear) are
not ported; conv-bn / conv-add folding are checked through the values they give."""
import io
from typing import Any

import numpy as np
import pytest

import gpujit as torch

nn = torch.nn


def _script_eval(mod):
    m = torch.jit.script(mod)
    m.eval()
    return m


def _roundtrip(m):
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    return torch.jit.load(buf)


def _eq(a, b, rtol=1e-6, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()),
                               rtol=rtol, atol=atol)


# ---------------------------------------------------------------- TestFreezing

class Consts(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = 1
        self.b = 1.2
        self.c = "hello"
        self.c2 = "hi\xA1"
        self.d = [1, 1]
        self.e = [1.0, 1.1]
        self.f = ["hello", "world"]
        self.f2 = [(1, "Over \u0e55\u0e57 57")]
        self.g = ([1, 2], 3.2, "4.4", torch.tensor([5.5], requires_grad=True))
        self.h = {"layer": [torch.tensor([7.7], requires_grad=True)]}
        self.h2 = {"layer\xB1": [torch.tensor([8.8], requires_grad=True)]}
        self.t = torch.tensor([1.2, 2.4], requires_grad=True)
        self.ts = [torch.tensor([1.0, 2.0], requires_grad=True),
                   torch.tensor([3.0, 4.0], requires_grad=True)]
        self.tt = [[torch.tensor([3.3, 2.3], requires_grad=True), None]]

    def forward(self, x):
        # (torch also takes str() of the tuple, dict and lists holding tensors: gpujit's
        # scripted str() refuses those, so their elements are formatted one by one)
        tt = self.tt[0][0]
        return str(self.a) + str(self.b) + self.c + self.c2 + str(self.d) + \
            str(self.e) + str(self.f) + str(self.f2) + str(self.g[0]) + str(self.g[1]) + \
            self.g[2] + str(self.g[3]) + str(self.h["layer"][0]) + \
            str(self.h2["layer\xB1"][0]) + str(self.t) + str(self.ts[0]) + \
            str(self.ts[1]) + (str(tt) if tt is not None else "")


def test_freeze_module_folds_every_attribute_kind_and_saves():
    m = _script_eval(Consts())
    x = torch.randn(2, 2)
    want = m(x)
    f = _roundtrip(torch.jit.freeze(m))
    for name in "a b c c2 d e f f2 g h h2 t ts tt".split():
        assert not hasattr(f, name), name
    assert f(x) == want
    assert want.startswith("11.2hello")


class _Sub1(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = 11
        self.b = 2

    def forward(self, x):
        return self.a + self.b


class _Sub2(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = 12
        self.b = 2

    def forward(self, x):
        self.b = 30
        return self.a + self.b


class _WithSubs(nn.Module):
    def __init__(self):
        super().__init__()
        self.sub1 = _Sub1()
        self.sub2 = _Sub2()
        self.a = 3
        self.b = 4

    def forward(self, x):
        self.b = 20
        return self.sub1(x) + self.a + self.b + self.sub2(x)


def test_freeze_module_with_submodule_assigning_attributes():
    m = _script_eval(_WithSubs())
    x = torch.randn(2, 2)
    want = m(x)
    assert want == 13 + 3 + 20 + 42
    f = torch.jit.freeze(m)
    assert not hasattr(f, "sub1") and not hasattr(f, "a")
    assert hasattr(f, "b") and hasattr(f, "sub2")
    assert hasattr(f.sub2, "b") and not hasattr(f.sub2, "a")
    assert f(x) == want
    f.b = 0
    assert f(x) == want          # forward assigns b before reading it


class _Ones(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.ones(20, 20)
        self.b = torch.ones(20, 20)

    def forward(self, x):
        return self.a * self.b + x


class _ForkSub(nn.Module):
    def __init__(self):
        super().__init__()
        self.sub = _Ones()

    def forward(self, x):
        fut = torch.jit._fork(self.sub.forward, x)
        y_hat = self.sub(x)
        y = torch.jit._wait(fut)
        return y_hat + y


class _ForkSub2(nn.Module):
    def __init__(self):
        super().__init__()
        self.sub = _Ones()
        self.c = torch.ones(20, 20)

    def forward(self, x):
        fut = torch.jit._fork(self.sub.forward, x)
        y_hat = self.sub(x)
        y = torch.jit._wait(fut)
        return y_hat + y + self.c


class _NestedFork(nn.Module):
    def __init__(self):
        super().__init__()
        self.sub = _ForkSub2()
        self.d = 1

    def forward(self, x):
        fut = torch.jit._fork(self.sub.forward, x)
        y_hat = self.sub(x)
        y = torch.jit._wait(fut)
        self.d = 2
        return y_hat * y + self.d


def test_freeze_module_with_fork_and_nested_fork():
    x = torch.randn(20, 20)
    m = _script_eval(_ForkSub())
    f = torch.jit.freeze(m)
    assert not hasattr(f, "a") and not hasattr(f, "b")
    _eq(f(x), m(x))
    _eq(f(x), 2 * (x + 1))
    m = _script_eval(_NestedFork())
    want = m(x)
    f = torch.jit.freeze(m)
    assert not hasattr(f, "c") and hasattr(f, "d")
    _eq(f(x), want)
    _eq(f(x), (2 * (x + 1) + 1) ** 2 + 2)


@torch.jit.script
def _twice(x):
    return x * 2


class _ForkFn(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.ones(20, 20)
        self.b = torch.ones(20, 20)

    def forward(self, x):
        fut = torch.jit._fork(_twice, self.a)
        y_hat = _twice(self.b)
        y = torch.jit._wait(fut)
        return y_hat + y


class _ForkMethod(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.ones(20, 20)
        self.b = torch.ones(20, 20)

    @torch.jit.export
    def foo(self, x):
        return x * self.a

    @torch.jit.export
    def bar(self, x):
        return x * self.b

    def forward(self, x):
        fut = torch.jit._fork(self.foo, self.b)
        y_hat = self.bar(self.a)
        y = torch.jit._wait(fut)
        return y_hat + y


def test_freeze_module_with_fork_of_function_and_method():
    x = torch.randn(2, 2)
    for cls in (_ForkFn, _ForkMethod):
        m = _script_eval(cls())
        f = torch.jit.freeze(m)
        want = m(x)
        _eq(f(x), want)
        assert float(f(x).sum()) == (1600.0 if cls is _ForkFn else 800.0)


class _Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.tensor([1.1])
        self.b = torch.tensor([2.2])

    def forward(self, x):
        return self.a + self.b

    @torch.jit.export
    def modify_a(self, x):
        self.a[0] += 10
        return self.b

    @torch.jit.export
    def modify_b(self, x):
        self.b[0] += 20
        return self.a


class _SharedHolder(nn.Module):
    def __init__(self):
        super().__init__()
        self.sub = _Shared()
        self.b = torch.tensor([3.3])

    def forward(self, x):
        y = self.sub.modify_b(x)
        return y + self.b


class _SharedTop(nn.Module):
    def __init__(self):
        super().__init__()
        self.sub1 = _Shared()
        self.sub2 = _SharedHolder()
        self.a = torch.tensor([4.4])

    def forward(self, x):
        z = self.sub1.modify_a(x)
        return self.sub2(x) + z + self.a


def test_freeze_module_with_shared_class_type():
    m = _script_eval(_SharedTop())
    x = torch.randn(2, 2)
    f = torch.jit.freeze(m)
    assert hasattr(f, "sub1") and hasattr(f.sub1, "a")
    assert not hasattr(f, "a")
    assert hasattr(f, "sub2") and hasattr(f.sub2, "sub") and not hasattr(f.sub2, "b")
    assert hasattr(f.sub2.sub, "b")
    # each call writes sub1.a and sub2.sub.b (shared with the scripted module)
    want = m(x)
    np.testing.assert_allclose(want.numpy(), [1.1 + 3.3 + 2.2 + 4.4], rtol=1e-5)
    np.testing.assert_allclose(f(x).numpy(), [1.1 + 3.3 + 2.2 + 4.4], rtol=1e-5)
    np.testing.assert_allclose(m.sub1.a.numpy(), [21.1], rtol=1e-5)
    np.testing.assert_allclose(m.sub2.sub.b.numpy(), [42.2], rtol=1e-5)


class _AliasSub(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.tensor([1.1])
        self.b = torch.tensor([2.2])

    def forward(self, x):
        return self.a + self.b

    @torch.jit.export
    def modify_a(self, x):
        self.a[0] = 10
        return self.b


def test_freeze_module_with_nested_aliasing():
    shared = _AliasSub()

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = shared

        def forward(self, x):
            return self.sub.a

    class Top(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub1 = shared
            self.sub2 = Holder()

        def forward(self, x):
            z = self.sub1.modify_a(x)
            return self.sub2(x) + z

    m = _script_eval(Top())
    f = torch.jit.freeze(m)
    x = torch.randn(2, 2)
    assert hasattr(f, "sub1") and hasattr(f.sub1, "a")
    np.testing.assert_allclose(m(x).numpy(), [12.2], rtol=1e-5)
    np.testing.assert_allclose(f(x).numpy(), [12.2], rtol=1e-5)


class _PSub(nn.Module):
    def __init__(self, write=False):
        super().__init__()
        self.a = torch.tensor([1.1])
        self.b = 2.2
        self.write = write

    def forward(self, x):
        return self.a


class _PSubW(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.tensor([1.1])
        self.b = 2.2

    def forward(self, x):
        self.a[0] = 3.3
        return self.a


def test_freeze_preserving_a_submodule():
    class Top(nn.Module):
        def __init__(self, cls):
            super().__init__()
            self.sub1 = cls()
            self.sub2 = cls()

        def forward(self, x):
            return self.sub2(x) + self.sub1(x)

    x = torch.randn(2, 2)
    ms = _script_eval(Top(_PSub))
    f = torch.jit.freeze(ms, preserved_attrs=["sub1"])
    assert hasattr(f, "sub1") and hasattr(f.sub1, "a") and f.sub1.b == 2.2
    assert not hasattr(f, "sub2")
    _eq(f(x), ms(x))
    # the preserved submodule stays live: writing its tensor changes the answer
    f.sub1.a = torch.tensor([5.0])
    np.testing.assert_allclose(f(x).numpy(), [6.1], rtol=1e-6)

    ms = _script_eval(Top(_PSubW))
    f = torch.jit.freeze(ms, preserved_attrs=["sub1"])
    assert hasattr(f, "sub1") and hasattr(f.sub1, "a") and hasattr(f.sub1, "b")
    assert hasattr(f, "sub2") and hasattr(f.sub2, "a")
    _eq(f(x), ms(x))
    np.testing.assert_allclose(f(x).numpy(), [6.6], rtol=1e-6)


def test_frozen_module_drops_helper_methods():
    class Top(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = _Sub1()
            self.a = 3
            self.b = 4

        def forward(self, x):
            self.b = 20
            return self._forward(x) + self.a + self.b

        def _forward(self, x):
            return self.sub(x)

    m = _script_eval(Top())
    f = torch.jit.freeze(m)
    assert not hasattr(f, "sub") and not hasattr(f, "a") and hasattr(f, "b")
    assert f(torch.randn(2)) == 36
    with pytest.raises(AttributeError, match="_forward"):
        f._forward(torch.randn(2))


def test_freeze_module_with_inplace_mutable_list():
    class FreezeMe(torch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.a = [11, 22]

        @torch.jit.script_method
        def forward(self, x):
            for i in range(3):
                self.a.append(i)
            return self.a

    m = FreezeMe()
    m.eval()
    f = torch.jit.freeze(m)
    assert hasattr(f, "a")
    m.forward(torch.tensor([3]))
    assert f.forward(torch.tensor([5])) == [11, 22, 0, 1, 2, 0, 1, 2]


def test_frozen_list_and_dict_are_copies():
    class L(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = [1, 2]

        def forward(self, x):
            return self.a

    m = L().eval()
    m.a.append(3)
    ms = torch.jit.script(m)
    v = ms.a
    v.append(4)
    ms.a = v
    ms.eval()
    f = torch.jit.freeze(ms)
    v = ms.a
    v.append(5)
    ms.a = v
    assert not hasattr(f, "a")
    assert f(torch.tensor([5])) == [1, 2, 3, 4]

    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = {"layer": "4"}

        def forward(self, x):
            return self.a

        @torch.jit.export
        def modify_a(self, x):
            self.a["layer"] = self.a["layer"] + "1"
            return self.a

    m = D().eval()
    m.a["layer2"] = "3"
    ms = torch.jit.script(m)
    t = torch.tensor(5)
    ms.modify_a(t)
    ms.eval()
    f = torch.jit.freeze(ms)
    m.a["layer2"] += "2"
    ms.modify_a(t)
    assert not hasattr(f, "a")
    # the folded dict is the frozen module's own copy, as the list is (torch shares the
    # dict with the scripted module, so there its later write shows: "411")
    assert f(t) == {"layer": "41", "layer2": "3"}


def test_freeze_module_with_tensor_attributes_written_in_forward():
    class Tup(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = (torch.tensor([1, 2, 3, 4, 5, 6]), "hi")

        def forward(self, x):
            if (x[0] == 2.0):
                self.a[0][0] = 10
            return self.a[0].sum()

    ms = _script_eval(Tup())
    inp = torch.tensor([2.0])
    assert int(ms(inp)) == 30
    ms.a[0][0] = 1
    f = torch.jit.freeze(ms)
    assert int(f(inp)) == 30
    assert int(f(torch.tensor([1.0]))) == int(ms(torch.tensor([1.0])))

    class View(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.tensor([1, 2, 3, 4, 5, 6])

        def forward(self, x):
            x = self.a.view(2, 3)
            x[0][0] += 10
            return self.a.sum()

    ms = _script_eval(View())
    inp = torch.tensor([5])
    want = ms(inp)
    f = torch.jit.freeze(ms)
    assert hasattr(f, "a")
    f.a[0] -= 10
    assert int(f(inp)) == int(want) == 31

    class Lst(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = [torch.tensor([1, 2, 3, 4, 5, 6])]

        def forward(self, x):
            self.a[0][1] += 10
            return self.a[0].sum()

    ms = _script_eval(Lst())
    want = ms(inp)
    ms.a[0][1] -= 10
    f = torch.jit.freeze(ms)
    assert int(f(inp)) == int(want) == 31
    assert int(f(inp)) == 41


def test_freeze_module_with_aliased_tensor_attributes():
    class A1(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.tensor([1, 2, 3, 4, 5, 6])
            self.b = self.a.view(2, 3)

        def forward(self, x):
            self.b[1] += 10
            return self.a.sum()

    f = torch.jit.freeze(_script_eval(A1()))
    assert hasattr(f, "a")
    assert int(f(torch.tensor([5]))) == 51

    class A3(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.tensor([1, 2, 3, 4, 5, 6])
            self.b = [self.a, torch.tensor([10])]

        def forward(self, x):
            self.a[1] += 10
            return self.b[0].sum()

    ms = _script_eval(A3())
    inp = torch.tensor([5])
    want = int(ms(inp))
    f = torch.jit.freeze(ms)
    assert hasattr(f, "a") and hasattr(f, "b")
    assert int(f(inp)) == want + 10


def test_freeze_refuses_overlapping_attributes_it_would_have_to_write():
    class A2(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.tensor([1, 2, 3, 4, 5, 6])
            self.b = {"layer": ([self.a.view(2, 3), torch.tensor([10])], 20)}
            self.c = ([self.a.view(2, 3), torch.tensor([10])], 20)
            self.d = (self.a.view(2, 3), 20)

        def forward(self, x):
            self.d[0][0] += 10
            return self.a.sum()

    class A4(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.tensor([1, 2, 3, 4, 5, 6])
            self.b = [self.a, torch.tensor([10])]

        def forward(self, x):
            self.b[0][0] += 10
            return self.a.sum()

    a = torch.tensor([1, 2, 3, 4, 5, 6])

    class Overlap(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = [a.view(3, 2), torch.tensor([10])]
            self.c = (20, a.view(2, 3))

        def forward(self, x):
            self.b[0][0] += 10
            return self.c[1].sum()

    for cls in (A2, A4, Overlap):
        ms = _script_eval(cls())
        ms(torch.tensor([5]))
        with pytest.raises(RuntimeError, match="module contains attributes values that overlaps"):
            torch.jit.freeze(ms)


def test_freeze_module_with_aliased_list_attributes():
    class A(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = [1, 2, 3, 4, 5, 6]
            self.b = self.a
            self.c = (self.a, 10)

        def forward(self, x):
            self.b[1] += 10
            return str(self.a) + str(self.c)

    # scripting converts each attribute into the module's own (b a copy of a, as
    # TorchScript's conversion, pytorch#33034; session 36): writing b leaves a and c, which
    # freezing folds; torch 2.13 prints the unchanged a and c on every call
    f = torch.jit.freeze(_script_eval(A()))
    inp = torch.tensor([5])
    assert (hasattr(f, "a"), hasattr(f, "b"), hasattr(f, "c")) == (False, True, False)
    for _ in range(2):
        assert f(inp) == "[1, 2, 3, 4, 5, 6]([1, 2, 3, 4, 5, 6], 10)"

    class A2(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = [1, 2, 3, 4, 5, 6]
            self.b = ([11], [10])

        def forward(self, x):
            v = self.a
            self.b = (v, [12])
            v2 = self.b[1]
            v2.append(7)
            return str(v) + str(v2)

    class A3(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = [1, 2, 3, 4, 5, 6]
            self.b = ([11], [10])

        def forward(self, x):
            v = self.a
            v2 = (v, [12])
            v3 = v2[0]
            v3.append(7)
            return str(self.a)

    for cls, first in ((A2, "[1, 2, 3, 4, 5, 6][12, 7]"), (A3, "[1, 2, 3, 4, 5, 6, 7]")):
        m = cls()
        f = torch.jit.freeze(_script_eval(cls()))
        assert hasattr(f, "a")
        assert f(inp) == m(inp) == first


def test_freeze_module_returning_itself_or_a_submodule():
    class Self(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.tensor([1., 2., 3.])

        def forward(self, x):
            return self

    with pytest.raises(RuntimeError, match="attempted to freeze a module that return itself"):
        torch.jit.freeze(_script_eval(Self()))

    class Sub(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)

        def forward(self, x):
            return self.conv1

    f = torch.jit.freeze(_script_eval(Sub()))
    assert hasattr(f, "conv1")
    assert f(torch.ones(1)).weight.shape == (32, 1, 3, 3)


@torch.jit.script
class _Obj(object):
    def __init__(self, x: int, y: int):
        self.x = x
        self.y = y


def test_freeze_module_with_script_class_attribute(capsys):
    class Mod(nn.Module):
        def __init__(self):
            super().__init__()
            self.obj = _Obj(2, 3)

        def forward(self, i: int):
            print(self.obj.x + self.obj.y)
            return i

    f = torch.jit.freeze(torch.jit.script(Mod().eval()))
    assert f(4) == 4
    assert _roundtrip(f)(5) == 5
    assert capsys.readouterr().out.split() == ["5", "5"]


def test_freeze_module_without_forward():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(10, 1)

        @torch.jit.export
        def foo(self, x):
            return self.lin(x)

    ms = _script_eval(M())
    f = torch.jit.freeze(ms, preserved_attrs=["foo"])
    x = torch.ones(10)
    _eq(f.foo(x), ms.foo(x))


def test_freeze_in_training_mode_refused_and_eval_drops_everything():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, 1)
            self.dropout1 = nn.Dropout2d(0.25)
            self.fc1 = nn.Linear(4 * 3 * 3, 10)

        def forward(self, x):
            x = nn.functional.relu(self.conv1(x))
            x = nn.functional.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            return nn.functional.log_softmax(self.fc1(x), dim=1)

    model = torch.jit.script(Net())
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        torch.jit.freeze(model)
    model.eval()
    f = torch.jit.freeze(model)
    for name in ("conv1", "dropout1", "fc1"):
        assert not hasattr(f, name)
    g = _roundtrip(f)
    assert 'GetAttr[name=' not in str(g.graph)
    x = torch.rand(2, 1, 8, 8)
    _eq(g(x), model(x), rtol=1e-5)


def test_frozen_weights_do_not_require_grad():
    mod = nn.Conv2d(8, 3, 4, 2, 1)
    smod = _script_eval(mod)
    f = torch.jit.freeze(smod)
    assert mod.weight.requires_grad and smod.weight.requires_grad
    assert not hasattr(f, "weight")
    out = f(torch.ones(1, 8, 32, 32))
    assert not out.requires_grad
    _eq(out, smod(torch.ones(1, 8, 32, 32)).detach(), rtol=1e-5)


class _AB(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.tensor([1.1])
        self.b = torch.tensor([2.2])

    def forward(self, x):
        return self.a + self.b

    @torch.jit.export
    def modify_a(self, x):
        self.a[0] += 10
        return self.b


def test_freeze_with_user_preserved_attribute_and_method():
    m = _script_eval(_AB())
    f = torch.jit.freeze(m, ["a"])
    assert hasattr(f, "a") and not hasattr(f, "b")
    f = torch.jit.freeze(m, ["modify_a"])
    assert hasattr(f, "a") and not hasattr(f, "b")
    x = torch.randn(2, 2)
    _eq(f(x), m(x))
    f.modify_a(x)
    np.testing.assert_allclose(f(x).numpy(), [13.3], rtol=1e-5)

    class M2(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.tensor([1.1])
            self.b = torch.tensor([2.2])

        def forward(self, x):
            self.b += 10
            return self.a + self.b

        @torch.jit.export
        def modify_a(self, x):
            self.a[0] += 10
            return self.b + self.a

    m = _script_eval(M2())
    f = torch.jit.freeze(m, ["modify_a"])
    assert 'prim::GetAttr[name="a"]' in str(f.graph)
    assert 'prim::GetAttr[name="b"]' in str(f.modify_a.graph)
    np.testing.assert_allclose(f(x).numpy(), [13.3], rtol=1e-5)
    np.testing.assert_allclose(f.modify_a(x).numpy(), [23.3], rtol=1e-5)
    np.testing.assert_allclose(f(x).numpy(), [33.3], rtol=1e-5)


class _S(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = 1
        self.b = 2

    def forward(self):
        return self.a + self.b

    @torch.jit.export
    def method_a(self):
        return 42


def test_freeze_preserving_attributes_of_submodules_by_dotted_name():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub1 = _S()
            self.sub2 = _S()

        def forward(self):
            return self.sub1() + self.sub2()

    m = torch.jit.freeze(_script_eval(M()), preserved_attrs=["sub1.a", "sub2.a"])
    assert hasattr(m, "sub1") and hasattr(m.sub1, "a") and not hasattr(m.sub1, "b")
    assert hasattr(m, "sub2") and hasattr(m.sub2, "a") and not hasattr(m.sub2, "b")
    assert m() == 6
    m.sub1.a += 1
    assert m() == 7

    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = _S()

        def forward(self):
            return 1

    f = torch.jit.freeze(_script_eval(Unused()), preserved_attrs=["sub.a", "sub.method_a"])
    assert hasattr(f, "sub") and hasattr(f.sub, "a") and not hasattr(f.sub, "b")
    assert f.sub.method_a() == 42 and f() == 1

    class SubM(nn.Module):
        def forward(self, x):
            return self.method_a(x) + self.method_b(x)

        def method_a(self, x):
            return x * x

        def method_b(self, x):
            return x + x

    class Top(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = SubM()

        def forward(self, x):
            return self.sub(x)

    f = torch.jit.freeze(_script_eval(Top()), preserved_attrs=["sub.method_a"])
    assert hasattr(f, "sub")
    x = torch.tensor([3.0])
    assert float(f.sub.method_a(x)) == 9.0 and float(f(x)) == 15.0
    assert not hasattr(f.sub, "method_b")
    with pytest.raises(RuntimeError):
        torch.jit.freeze(_script_eval(Top()), preserved_attrs=["sub.nothing"])


def test_freeze_preserved_attribute_that_does_not_exist():
    with pytest.raises(RuntimeError, match="nothing"):
        torch.jit.freeze(_script_eval(_AB()), preserved_attrs=["nothing"])


@torch.jit.script
class _ValHolder(object):
    def __init__(self, val: int):
        self.val: int = val


def test_freeze_getattr_through_an_if():
    class Mod(nn.Module):
        def __init__(self):
            super().__init__()
            self.mod1 = _ValHolder(1)
            self.mod2 = _ValHolder(2)

        def forward(self, cond: bool):
            if cond:
                mod = self.mod1
            else:
                mod = self.mod2
            return mod.val

    f = torch.jit.freeze(torch.jit.script(Mod().eval()))
    assert f(True) == 1 and f(False) == 2


@torch.jit.interface
class _ModuleInterface(torch.nn.Module):
    def forward(self, inp: Any) -> Any:
        pass


class _Implements(torch.nn.Module):
    def forward(self, inp: Any) -> Any:
        if isinstance(inp, torch.Tensor):
            return torch.max(inp, dim=0)
        return inp


def test_freeze_module_container_indexed_at_run_time():
    """torch refuses these ("Freezing modules containing prim::ModuleContainerIndex is not
    supported"); gpujit compiles the index as a choice among the held modules, and the
    frozen module keeps the container's modules whole and answers as the scripted one."""
    class WithDict(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.d = torch.nn.ModuleDict({"module": _Implements()})

        def forward(self, x: torch.Tensor, key: str) -> Any:
            value: _ModuleInterface = self.d[key]
            return value.forward(x)

    class WithList(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l = torch.nn.ModuleList([_Implements()])

        def forward(self, x: torch.Tensor, idx: int) -> Any:
            value: _ModuleInterface = self.l[idx]
            return value.forward(x)

    x = torch.tensor([[1.0, 5.0], [3.0, 2.0]])
    for cls, key in ((WithDict, "module"), (WithList, 0)):
        m = _script_eval(cls())
        f = torch.jit.freeze(m)
        values, indices = f(x, key)
        assert values.tolist() == [3.0, 5.0] and indices.tolist() == [1, 0]


class _BoxCoder(object):
    def __init__(self, bbox_xform_clip):
        # type: (float) -> None
        self.bbox_xform_clip = bbox_xform_clip

    def decode(self, input):
        return input * self.bbox_xform_clip


def test_freeze_non_module_class_attribute():
    class MyModule(torch.nn.Module):
        __annotations__ = {'box_coder': _BoxCoder}

        def __init__(self):
            super().__init__()
            self.box_coder = _BoxCoder(50.)

        def forward(self, input):
            return self.box_coder.decode(input)

    model = MyModule().eval()
    f = torch.jit.freeze(torch.jit.script(model))
    x = torch.randn(4, 4)
    _eq(f(x), x * 50.0)
    assert "GetAttr" not in str(f.graph)


def test_freeze_tuple_output_submodule_and_call_method():
    class Sub(nn.Module):
        def forward(self, x):
            return (x + 1, x + 2)

    class Top(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = Sub()

        def forward(self, x):
            y1, y2 = self.sub(x)
            return y1 + y2

    f = torch.jit.freeze(_script_eval(Top()))
    x = torch.randn(2, 2)
    _eq(f(x), 2 * x + 3)
    text = str(f.graph)
    assert "prim::TupleConstruct" not in text and "prim::TupleUnpack" not in text

    class Mod(nn.Module):
        def __init__(self, val):
            super().__init__()
            self.param = nn.Parameter(val)

        def forward(self, x):
            return x + self.param

        @torch.jit.export
        def make_prediction(self, x):
            y = x + x
            return self.forward(y)

    p = torch.rand([2, 2])
    f = torch.jit.freeze(_script_eval(Mod(p)), preserved_attrs=["make_prediction"])
    _eq(f(x), x + p, rtol=1e-5)
    _eq(f.make_prediction(x), 2 * x + p, rtol=1e-5)


def test_freeze_twice_and_save_load():
    m = _script_eval(_WithSubs())
    f = torch.jit.freeze(m)
    g = torch.jit.freeze(f)
    x = torch.randn(2)
    assert g(x) == f(x) == m(x)
    h = _roundtrip(g)
    assert h(x) == m(x)
    assert h.b == 20


# ------------------------------------------------------- TestFrozenOptimizations

def _conv_case(conv_cls, bn_cls, use_bias, tracing):
    class ConvBN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = conv_cls(3, 32, bias=use_bias, kernel_size=3, stride=2)
            self.bn = bn_cls(32, eps=0.001)

        def forward(self, x):
            return self.bn(self.conv(x))

    mod = ConvBN()
    dims = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}[conv_cls]
    inp = torch.rand([4, 3] + [4] * dims, dtype=torch.float64)
    mod = mod.double()
    # running statistics that are not the identity
    mod.train()
    mod(torch.rand([4, 3] + [4] * dims, dtype=torch.float64))
    mod.eval()
    s = torch.jit.trace(mod, (inp,)) if tracing else torch.jit.script(mod)
    return mod, s, inp


@pytest.mark.parametrize("tracing", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_bn_folding_values(dims, use_bias, tracing):
    conv_cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
    bn_cls = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[dims]
    mod, s, inp = _conv_case(conv_cls, bn_cls, use_bias, tracing)
    f = torch.jit.freeze(s)
    assert "aten::batch_norm" not in str(f.graph)      # folded into the convolution
    # (a trace records the convolution as aten::_convolution, as PyTorch's)
    assert ("aten::_convolution" if tracing else "aten::conv%dd" % dims) in str(f.graph)
    with torch.no_grad():
        want = mod(inp)
    _eq(f(inp), want, rtol=1e-9, atol=1e-10)
    _eq(f(inp), want, rtol=1e-9, atol=1e-10)
    o = torch.jit.optimize_for_inference(s)
    _eq(o(inp), want, rtol=1e-9, atol=1e-10)


def test_conv_add_mul_folding_values():
    ops = [torch.add, torch.sub, torch.mul, torch.div]
    for op in ops:
        for add_tensor in (None, torch.rand(1, 1, dtype=torch.float64),
                           torch.rand(32, 1, 32, dtype=torch.float64),
                           torch.tensor([3]).to(torch.int)):
            for scalar in (False, True):
                class ConvOp(nn.Module):
                    __constants__ = ['use_scalar']

                    def __init__(self):
                        super().__init__()
                        self.conv = nn.Conv2d(3, 32, kernel_size=3, stride=2).double()
                        self.use_scalar = scalar
                        self.tensor = (add_tensor if add_tensor is not None
                                       else torch.rand(1, 32, 1, 1, dtype=torch.float64))
                        self.op = op

                    def forward(self, x):
                        x = self.conv(x)
                        if self.use_scalar:
                            return self.op(x, 2.)
                        else:
                            return self.op(x, self.tensor)

                mod = ConvOp().eval()
                inp = torch.rand(4, 3, 4, 4, dtype=torch.float64)
                with torch.no_grad():
                    want = mod(inp)
                for f in (torch.jit.freeze(torch.jit.script(mod)),
                          torch.jit.freeze(torch.jit.trace(mod, (inp,)))):
                    _eq(f(inp), want, rtol=1e-9, atol=1e-10)
                    assert f(inp).dtype == want.dtype
                    # folded into the convolution when the constant is per channel and
                    # of the weight's dtype (not the (32, 1, 32) broadcast, not int)
                    folds = scalar or add_tensor is None or add_tensor.shape == (1, 1)
                    if folds and (scalar or add_tensor is not None
                                  or "Double(4, 3, 4, 4" in str(f.graph)):
                        assert "aten::" + op.__name__ not in str(f.graph), op
                    elif not folds:
                        assert "aten::" + op.__name__ in str(f.graph), op


def test_freeze_without_numerics_optimization_and_dropout_removed():
    conv = nn.Conv2d(3, 32, kernel_size=3, stride=2, bias=True)
    bn = nn.BatchNorm2d(32, eps=.001)
    mod = nn.Sequential(conv, bn).eval()
    inp = torch.rand(4, 3, 4, 4)
    f = torch.jit.freeze(torch.jit.script(mod), optimize_numerics=False)
    assert "aten::batch_norm" in str(f.graph)
    with torch.no_grad():
        _eq(f(inp), mod(inp), rtol=1e-5)
    torch.jit.run_frozen_optimizations(f)
    assert "aten::batch_norm" not in str(f.graph)
    with torch.no_grad():
        _eq(f(inp), mod(inp), rtol=1e-5, atol=1e-6)
    assert "aten::batch_norm" not in str(torch.jit.freeze(torch.jit.script(mod)).graph)
    for drop, shape in ((nn.Dropout(0.5), (2,)), (nn.Dropout2d(0.5), (2, 2))):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.dropout = drop

            def forward(self, x):
                return self.dropout(x)

        ms = torch.jit.script(Net())
        f = torch.jit.freeze(ms.eval())
        x = torch.randn(*shape)
        _eq(f(x), x)
        assert "aten::dropout" not in str(f.graph)
        assert "aten::feature_dropout" not in str(f.graph)


def test_linear_with_constant_and_runtime_weight():
    class ModLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.bias = nn.Parameter(torch.rand(30))
            self.weight = nn.Parameter(torch.rand([30, 20]))

        def forward(self, x):
            return nn.functional.linear(x, self.weight, self.bias)

    class ModLinear2(nn.Module):
        def __init__(self):
            super().__init__()
            self.bias = nn.Parameter(torch.rand(30))

        def forward(self, x, weight):
            return nn.functional.linear(x, weight, self.bias)

    x = torch.rand(50, 20)
    m = ModLinear().eval()
    f = torch.jit.freeze(torch.jit.script(m))
    _eq(f(x), x @ m.weight.detach().t() + m.bias.detach(), rtol=1e-5)
    m = ModLinear2().eval()
    w = torch.rand(30, 20)
    f = torch.jit.freeze(torch.jit.script(m))
    _eq(f(x, w), x @ w.t() + m.bias.detach(), rtol=1e-5)


def test_two_linears_of_one_input_frozen():
    class ModMultLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = nn.Parameter(torch.rand([5, 5]))
            self.b1 = nn.Parameter(torch.rand([5]))
            self.w2 = nn.Parameter(torch.rand([10, 5]))
            self.b2 = nn.Parameter(torch.rand([10]))

        def forward(self, in_tensor1):
            res1 = nn.functional.linear(in_tensor1, self.w1, self.b1)
            res3 = nn.functional.linear(res1, self.w2, self.b2)
            res2 = nn.functional.linear(in_tensor1, self.w2, self.b2)
            res4 = nn.functional.linear(res1, self.w1, self.b1)
            return res2, res3, res4

    m = ModMultLinear().eval()
    x = torch.rand(50, 5)
    f = torch.jit.freeze(torch.jit.script(m))
    with torch.no_grad():
        for a, b in zip(f(x), m(x)):
            _eq(a, b, rtol=1e-5)


def test_isinstance_of_an_any_value_is_a_run_time_test():
    """`isinstance(inp, torch.Tensor)` with inp: Any was decided False when compiling (the
    Tensor branch dropped: the interface module above answered with its input)."""
    @torch.jit.script
    def f(inp: Any) -> Any:
        if isinstance(inp, torch.Tensor):
            return inp + 1
        if isinstance(inp, int):
            return inp * 10
        return inp

    assert f(torch.ones(2)).tolist() == [2.0, 2.0]
    assert f(3) == 30 and f("s") == "s"
