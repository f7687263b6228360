"""PyTorch's test/jit/test_generator.py, ported as behaviour (session 25, helper H25):
`torch.Generator` objects in scripted code -- made with `torch.Generator()`, seeded and
read with `g.manual_seed(n)` / `g.seed()` / `g.initial_seed()` (TorchScript's
aten::Generator, aten::manual_seed.generator, aten::seed, aten::initial_seed), passed as a
`torch.Generator` argument and given to random ops' `generator=`; scripted and eager
draws agree, on every call (profiled, then optimized), and through jit.save / jit.load.

test_trace is an expectedFailure in PyTorch: its tracer records the generator object as
a graph constant, so the traced function draws on from that one object rather than
re-seeding a new one each call. gpujit's tracer records it the same way (it used to fail
with "Generator values have no IR type"); test_trace_records_the_generator_as_a_constant
checks that, and that the saved code re-creates it at its seed as PyTorch's does.
Beyond the file: several generators in one function, an Optional[Generator] argument,
a Generator passed to another scripted function, the refusals (an int for a Generator
argument, a method a Generator does not have), and the ops kept by the optimizer.
"""
import io
import math
from typing import Optional

import numpy as np
import pytest

import gpujit as torch
from gpujit.nn import init


def _eq(a, b):
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _roundtrip(m):
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    return torch.jit.load(buf)


# ------------------------------------------------------------------ test_script

def _seeded_inside():
    generator = torch.Generator()
    generator.seed()
    generator.manual_seed(2023)
    generator.initial_seed()
    tensor = torch.empty(2, 2)
    tensor.normal_(-1.0, 1.0, generator=generator)
    return tensor


def test_script():
    script_f = torch.jit.script(_seeded_inside)
    for _ in range(3):          # the generator is made and seeded again on each call
        torch.manual_seed(1)
        eager = _seeded_inside()
        torch.manual_seed(2)    # (the default generator's seed does not matter)
        _eq(eager, script_f())
    _eq(_seeded_inside(), _roundtrip(script_f)())


# ------------------------------------------------------------------ test_default_generator

def _seeds_default():
    torch.manual_seed(2023)
    tensor = torch.empty(2, 2)
    tensor.normal_(-1.0, 1.0)
    return tensor


def test_default_generator():
    torch.manual_seed(1)
    eager = _seeds_default()
    torch.manual_seed(2)
    script_f = torch.jit.script(_seeds_default)
    _eq(eager, script_f())
    _eq(eager, script_f())


# ------------------------------------------------------------------ test_generator_arg

def _draws_from(generator: torch.Generator):
    tensor = torch.empty(2, 2)
    tensor.normal_(-1.0, 1.0, generator=generator)
    return tensor


def test_generator_arg():
    script_f = torch.jit.script(_draws_from)
    for i in range(3):
        g = torch.Generator()
        g.manual_seed(2023 + i)
        torch.manual_seed(1 + i)
        eager = _draws_from(g)
        g = torch.Generator()
        g.manual_seed(2023 + i)
        torch.manual_seed(1 + i)
        _eq(eager, script_f(g))
    g = torch.Generator()                  # a generator argument advances as it draws
    g.manual_seed(5)
    first, second = script_f(g), script_f(g)
    assert not np.array_equal(first.numpy(), second.numpy())


# ------------------------------------------------------------------ test_save_load

class _InitsWithGenerators(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.foo = torch.nn.Linear(2, 2, bias=False)
        self.bar = torch.nn.Linear(2, 2, bias=False)
        self.reset_parameters()

    def reset_linear(self, module, generator):
        init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)

    def reset_parameters(self):
        generator = torch.Generator()
        generator.manual_seed(1)
        self.reset_linear(self.foo, generator)
        generator = torch.Generator()
        generator.manual_seed(2)
        self.reset_linear(self.bar, generator)

    def forward(self, x):
        x = self.foo(x)
        x = self.bar(x)
        generator = torch.Generator()
        generator.manual_seed(3)
        r = torch.empty_like(x)
        r.normal_(0.0, 1.0, generator=generator)
        return x, r


def test_save_load():
    eager = _InitsWithGenerators()
    loaded = _roundtrip(torch.jit.script(_InitsWithGenerators()))
    _eq(eager.foo.weight, loaded.foo.weight)
    _eq(eager.bar.weight, loaded.bar.weight)
    for _ in range(3):          # the generator is seeded on every forward
        x = torch.ones(2, 2)
        out1, r1 = eager(x)
        out2, r2 = loaded(x)
        _eq(out1, out2)
        _eq(r1, r2)
    assert "torch.Generator(" in loaded.forward.code


# ------------------------------------------------------------------ test_trace

def _traced_body():
    generator = torch.Generator()
    generator.manual_seed(2023)
    tensor = torch.empty(2, 2)
    tensor.uniform_(0, 1, generator=generator)
    return tensor


def test_trace_records_the_generator_as_a_constant():
    traced = torch.jit.trace(_traced_body, (), check_trace=False)
    text = str(traced.graph)
    assert 'Generator = prim::Constant[value=torch.Generator(device="cpu", seed=2023)]' \
        in text, text
    # the one recorded generator draws on: each call continues its stream (what makes
    # PyTorch's test_trace an expectedFailure)
    g = torch.Generator()
    g.manual_seed(2023)
    stream = torch.empty(3, 2, 2).uniform_(0, 1, generator=g)
    for i in range(1, 3):
        _eq(traced(), stream[i])
    # saved code makes a new generator at its seed, as TorchScript writes it back
    loaded = _roundtrip(traced)
    assert 'torch.Generator(device="cpu", seed=2023)' in loaded.code
    _eq(loaded(), stream[0])
    _eq(loaded(), stream[0])


# ------------------------------------------------------------------ beyond the file

def _two_generators():
    a = torch.Generator()
    b = torch.Generator()
    a.manual_seed(5)
    b.manual_seed(5)
    x = torch.rand(3, generator=a)
    y = torch.rand(3, generator=b)
    z = torch.rand(3, generator=a)
    return x, y, z


def test_each_generator_call_makes_a_new_one():
    s = torch.jit.script(_two_generators)
    for _ in range(3):          # never merged (CSE) nor folded into one constant
        x, y, z = s()
        _eq(x, y)
        assert not np.array_equal(x.numpy(), z.numpy())
    ex, ey, ez = _two_generators()
    x, y, z = s()
    _eq(ex, x)
    _eq(ez, z)


def _chained(n: int):
    g = torch.Generator(device="cpu").manual_seed(n)
    return torch.randn(2, generator=g), g.initial_seed()


def test_manual_seed_returns_the_generator():
    s = torch.jit.script(_chained)
    want, seed = _chained(7)
    got, got_seed = s(7)
    _eq(want, got)
    assert got_seed == seed == 7


def test_generator_seed_keyword():
    # TorchScript's aten::Generator takes seed= (eager torch.Generator does not)
    def f(n: int):
        g = torch.Generator(seed=n)
        return g.initial_seed()
    assert torch.jit.script(f)(11) == 11


def _optional_generator(g: Optional[torch.Generator] = None):
    return torch.rand(2, generator=g)


def test_optional_generator_argument():
    s = torch.jit.script(_optional_generator)
    assert tuple(s().shape) == (2,) and tuple(s(None).shape) == (2,)
    g1 = torch.Generator()
    g1.manual_seed(1)
    g2 = torch.Generator()
    g2.manual_seed(1)
    _eq(s(g1), _optional_generator(g2))


def _seed_of(g: torch.Generator) -> int:
    return g.initial_seed()


def test_generator_passed_to_another_scripted_function():
    def outer(n: int) -> int:
        g = torch.Generator()
        g.manual_seed(n)
        return _seed_of(g)
    assert torch.jit.script(outer)(42) == 42


def test_reseeding_with_seed_is_kept():
    def f():
        g = torch.Generator()
        g.manual_seed(3)
        g.seed()                 # result unused: still runs (a new random seed)
        return g.initial_seed() != 3
    s = torch.jit.script(f)
    assert s() and s() and s()
    assert "aten::seed" in str(s.graph)


def test_wrong_argument_type_for_a_generator():
    s = torch.jit.script(_seed_of)
    with pytest.raises(RuntimeError, match="Expected a value of type 'Generator' for "
                                           "argument 'g' but instead found type 'int'"):
        s(3)


def test_generator_has_no_such_method():
    def f():
        g = torch.Generator()
        return g.get_foo()
    with pytest.raises(RuntimeError, match="Generator has no method 'get_foo'"):
        torch.jit.script(f)


class _HoldsAGenerator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gen = torch.Generator()
        self.gen.manual_seed(4)

    def forward(self, x):
        return x + torch.rand(x.shape, generator=self.gen)


@pytest.mark.no_save_roundtrip      # (a Generator attribute cannot be saved, nor in PyTorch)
def test_generator_module_attribute():
    # TorchScript types a Generator attribute as Generator; scripted code draws from it
    m = torch.jit.script(_HoldsAGenerator())
    assert "generator=gen" in m.code
    g = torch.Generator()
    g.manual_seed(4)
    for _ in range(3):          # the attribute's stream goes on from call to call
        _eq(m(torch.zeros(2)), torch.rand(2, generator=g))
    with pytest.raises(Exception, match="Generator"):
        torch.jit.save(m, io.BytesIO())
