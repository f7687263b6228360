"""Session 55 (d55): TorchScript language variants a user writes next, under
`import gpujit as torch`.

- a comprehension's `if` narrows like an if statement's test: `[x for x in xs if x is
  not None]` of a List[Optional[int]] is a List[int] (gpujit's comprehension ifs go
  beyond TorchScript, which refuses them; the filter used to leave x Optional, so the
  element and the later ifs could not use it);
- an element of a tuple of modules is that module: `for layer in self.layers[:-1]:
  x = layer(x)` (a ModuleList slice is a tuple of its modules), `for m in (self.a,
  self.b)`, `a, b = self.layers[1:]`, zip / enumerate / comprehensions over slices
  (torch 2.13 refuses those calls: "object has no attribute or method '__call__'", a
  pain point of the blog seed; gpujit said "a ReLU is not a module known here");
- an empty literal stored into a typed place takes that place's type: `d[k] = []` of a
  Dict[str, List[int]], `xs[i] = {}`, `d[k] = set()`, `self.cache = []` of a List[int]
  attribute (as `xs.append([])` / `d.setdefault(k, [])` already did; TorchScript types
  the literal List[Tensor] / Dict[str, Tensor] and refuses the store: "cannot store a
  List[Tensor] in a container of a List[int]"); so on a script class's attributes and
  a module attribute's items (`self.items = []`, `self.groups[k] = []`);
- sets (gpujit's, beyond TorchScript) compare as Python's: `s == t`, `!=`, `<=` / `<`
  (subset), `>=` / `>`; `s.issubset(t)`, `issuperset`, `isdisjoint`, `s.pop()`, and
  min / max / sum of a set (each was "no variant of 'eq' accepts (Set[int], Set[int])"
  or "a set has no method ..."); they print and load back from a saved module;
- `self.tokenizer is None` / `is not None` of a module attribute holding a Python object of
  no TorchScript type compiles to a constant (never None), as torch 2.13's (gpujit
  refused: "Module 'M' has no attribute 'tokenizer' (... failed to convert Python type
  ...)"); any other use of it is still refused;
- a ModuleList / ModuleDict indexed with a variable (gpujit's, beyond TorchScript: a
  blog pain point) gives its chosen module's methods and attributes too:
  `self.blocks[key].scale(m=2.0)`, `self.layers[i].out_features` (gpujit: "can only be
  called directly");
- a module class called in scripted code (`torch.nn.ReLU(x)`, `Block()(x)`) says torch
  2.13's "Cannot instantiate class 'ReLU' in a script function" and why (gpujit said
  "gpujit has no function 'ReLU'" / "calling 'Block' is not supported yet");
- `sorted(xs, key=...)`, `max(xs, key=len)`, `xs.sort(key=f)` say that scripted code takes
  no key function and how to order by a key (gpujit's hint said "pass the arguments by
  position", which Python refuses for key);
- `==` / `<` ... of values TorchScript does not compare (a Tuple[int, str], a Dict, a
  List[List[int]], an Optional[int]) is refused with torch's "Arguments for call are not
  valid" and one reason and hint, not a listing of the ~20 overloads of eq.

Expected values are what Python gives for the same code."""

from typing import Dict, List, Optional, Set, Tuple, Union

import io

import numpy as np

import gpujit as torch


def test_comprehension_if_narrows_optional():
    @torch.jit.script
    def f(xs: List[Optional[int]]) -> List[int]:
        return [x * 2 for x in xs if x is not None if x > 1]

    @torch.jit.script
    def g(xs: List[Optional[int]]) -> List[int]:
        return [x for x in xs if x is not None]

    assert f([1, None, 2, 5]) == [4, 10]
    assert g([1, None, 2]) == [1, 2]


def test_comprehension_if_narrows_dict_and_union_and_tuple_targets():
    @torch.jit.script
    def d(m: Dict[str, Optional[torch.Tensor]]) -> Dict[str, torch.Tensor]:
        return {k: v + 1 for k, v in m.items() if v is not None}

    @torch.jit.script
    def u(xs: List[Union[int, str]]) -> List[str]:
        return [x + "!" for x in xs if isinstance(x, str)]

    @torch.jit.script
    def t(xs: List[Tuple[str, Optional[int]]]) -> List[int]:
        return [v for k, v in xs if v is not None and k != "b"]

    out = d({"a": torch.ones(2), "b": None})
    assert list(out) == ["a"]
    np.testing.assert_allclose(out["a"].numpy(), [2.0, 2.0])
    assert u([1, "a", 2, "b"]) == ["a!", "b!"]
    assert t([("a", 1), ("b", 2), ("c", None)]) == [1]


def _np(t):
    return t.detach().numpy()


class _Layers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ls = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.Sigmoid()])
        self.a = torch.nn.ReLU()
        self.b = torch.nn.Tanh()

    def forward(self, x):
        y = x
        for layer in self.ls[:-1]:            # relu, tanh
            y = layer(y)
        for m in (self.b, self.a):            # tanh, relu
            y = m(y)
        p, q = self.ls[1:]
        z = p(x) + q(x) + self.ls[::-1][0](x)
        for u, v in zip(self.ls[:-1], self.ls[1:]):
            z = z + v(u(x))
        outs = [l(x) * i for i, l in enumerate(self.ls[1:])]
        return y, z, outs


def test_module_slices_and_tuples_of_modules_call_their_modules():
    x = np.array([-1.0, 0.5, 2.0], dtype=np.float32)
    y, z, outs = torch.jit.script(_Layers())(torch.tensor(x))
    sig = 1 / (1 + np.exp(-x))
    relu = np.maximum(x, 0)
    want_y = np.maximum(np.tanh(np.tanh(relu)), 0)
    want_z = np.tanh(x) + 2 * sig + np.tanh(relu) + 1 / (1 + np.exp(-np.tanh(x)))
    np.testing.assert_allclose(_np(y), want_y, rtol=1e-5)
    np.testing.assert_allclose(_np(z), want_z, rtol=1e-5)
    np.testing.assert_allclose(_np(outs[0]), 0 * np.tanh(x), atol=1e-6)
    np.testing.assert_allclose(_np(outs[1]), sig, rtol=1e-5)


def test_linear_stack_slice_matches_eager():
    class MLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList([torch.nn.Linear(3, 3) for _ in range(3)])

        def forward(self, x):
            for layer in self.layers[:-1]:
                x = torch.relu(layer(x))
            return self.layers[-1](x)

    torch.manual_seed(0)
    m = MLP()
    x = torch.randn(2, 3)
    np.testing.assert_allclose(_np(torch.jit.script(m)(x)), _np(m(x)), rtol=1e-5, atol=1e-6)


def test_empty_literal_stored_into_typed_item_or_attribute():
    @torch.jit.script
    def group(xs: List[str]) -> Dict[str, List[int]]:
        d: Dict[str, List[int]] = {}
        for i, x in enumerate(xs):
            if x not in d:
                d[x] = []
            d[x].append(i)
        return d

    @torch.jit.script
    def nested(xs: List[str]) -> Tuple[Dict[str, Dict[str, int]], List[List[int]]]:
        d: Dict[str, Dict[str, int]] = {}
        for x in xs:
            d[x] = dict()
            d[x][x] = 1
        out: List[List[int]] = [[1], [2]]
        out[0] = []
        return d, out

    @torch.jit.script
    def sets(xs: List[str]) -> Dict[str, List[int]]:
        d: Dict[str, Set[int]] = {}
        for i, x in enumerate(xs):
            if x not in d:
                d[x] = set()
            d[x].add(i % 2)
        return {k: sorted(v) for k, v in d.items()}

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cache: List[int] = [1]
            self.seen: Dict[str, int] = {"a": 1}

        def forward(self, x):
            self.cache = []
            self.cache.append(2)
            self.seen = {}
            self.seen["b"] = 3
            return x

    assert group(["a", "b", "a"]) == {"a": [0, 2], "b": [1]}
    assert nested(["a", "b"]) == ({"a": {"a": 1}, "b": {"b": 1}}, [[], [2]])
    assert sets(["a", "b", "a", "a"]) == {"a": [0, 1], "b": [1]}
    m = torch.jit.script(M())
    m(torch.ones(1))
    assert m.cache == [2] and m.seen == {"b": 3}


def _set_ops(xs: List[int], ys: List[int]) -> Tuple[bool, bool, bool, bool, bool, bool]:
    a = set(xs)
    b = set(ys)
    return a == b, a != b, a <= b, a < b, a >= b, a > b


def _set_methods(xs: List[int], ys: List[int]) -> Tuple[bool, bool, bool, int, int, int]:
    a = set(xs)
    b = set(ys)
    return a.issubset(b), a.issuperset(ys), a.isdisjoint(b), min(a), max(b), sum(a)


class _SetModule(torch.nn.Module):
    def forward(self, xs: List[int], ys: List[int]) -> Tuple[bool, bool, bool, int, int]:
        a = set(xs)
        b = set(ys)
        c = set(xs)
        v = c.pop()
        return a < b, a.issuperset(b), a == b, v, len(c)


def test_set_comparisons_and_methods_as_python():
    f = torch.jit.script(_set_ops)
    g = torch.jit.script(_set_methods)
    for xs, ys in (([1, 2], [2, 1, 1]), ([1], [1, 2]), ([3, 4], [1]), ([1, 2], [2, 3])):
        assert f(xs, ys) == _set_ops(xs, ys), (xs, ys)
        assert g(xs, ys) == _set_methods(xs, ys), (xs, ys)


def test_set_module_saves_and_loads():
    m = torch.jit.script(_SetModule())
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    for mod in (m, loaded):
        assert mod([1], [1, 2]) == (True, False, False, 1, 0)
        assert mod([5, 6], [5, 6]) == (False, True, True, mod([5, 6], [5, 6])[3], 1)
    try:
        m([], [1])
    except Exception as e:          # (Python's KeyError: pop from an empty set)
        assert "pop" in str(e)
    else:
        raise AssertionError("set.pop() of an empty set did not raise")


class _Tokenizer:                  # a Python object scripted code cannot hold
    pass


class _WithPythonObject(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = _Tokenizer()

    def forward(self, x):
        assert self.tok is not None
        has = self.tok is None
        if None is not self.tok:
            x = x + 1
        return x + int(has)


class _UsesPythonObject(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = _Tokenizer()

    def forward(self, x):
        if self.tok is not None:
            return x + len(self.tok)
        return x


def test_python_object_attribute_is_never_none():
    m = torch.jit.script(_WithPythonObject())
    np.testing.assert_allclose(m(torch.zeros(2)).numpy(), [1.0, 1.0])
    try:
        torch.jit.script(_UsesPythonObject())
    except Exception as e:
        assert "tok" in str(e) and "_Tokenizer" in str(e)
    else:
        raise AssertionError("using a Python object attribute compiled")


class _Att(torch.nn.Module):
    def __init__(self, k: float):
        super().__init__()
        self.k = k
        self.lin = torch.nn.Linear(2, int(k) + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.k

    @torch.jit.export
    def scale(self, m: float = 1.0) -> float:
        return self.k * m


class _Picks(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.d = torch.nn.ModuleDict({"a": _Att(1.0), "b": _Att(2.0)})
        self.l = torch.nn.ModuleList([_Att(3.0), _Att(4.0)])

    def forward(self, x, n: str, i: int):
        y = x * self.d[n].scale() + self.l[i].scale(m=10.0) + self.d[n].k + self.l[i].forward(x)
        return y, self.l[i].lin.out_features + self.d[n].lin.out_features


def test_variable_index_reads_the_chosen_modules_methods_and_attributes():
    m = torch.jit.script(_Picks())
    y, n = m(torch.ones(1), "b", 1)
    np.testing.assert_allclose(y.numpy(), [2.0 + 40.0 + 2.0 + 4.0])
    assert n == 5 + 3
    y, n = m(torch.ones(1), "a", -2)
    np.testing.assert_allclose(y.numpy(), [1.0 + 30.0 + 1.0 + 3.0])
    assert n == 4 + 2
    try:
        m(torch.ones(1), "zz", 0)
    except KeyError as e:
        assert "zz" in str(e) or "'a', 'b'" in str(e)
    else:
        raise AssertionError("a missing key did not raise")


class _Block(torch.nn.Module):
    def forward(self, x):
        return x + 1


def _makes_relu(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.ReLU(x)


def _makes_block(x: torch.Tensor) -> torch.Tensor:
    return _Block()(x)


def test_module_class_called_in_scripted_code_is_refused_clearly():
    for fn, name in ((_makes_relu, "ReLU"), (_makes_block, "_Block")):
        try:
            torch.jit.script(fn)
        except Exception as e:
            msg = str(e)
            assert f"Cannot instantiate class '{name}' in a script function" in msg, msg
            assert "__init__" in msg and "HERE" in msg
        else:
            raise AssertionError(f"{name}(...) compiled")


def _sorted_by_value(d: Dict[str, int]) -> List[str]:
    return [k for k, _ in sorted(d.items(), key=lambda kv: kv[1])]


def _longest(xs: List[str]) -> str:
    return max(xs, key=len)


def _sort_key(xs: List[int]) -> List[int]:
    xs.sort(key=abs)
    return xs


def test_key_functions_are_refused_with_a_way_around():
    for fn, what in ((_sorted_by_value, "sorted()"), (_longest, "max()"),
                     (_sort_key, "list.sort()")):
        try:
            torch.jit.script(fn)
        except Exception as e:
            msg = str(e)
            assert f"{what} takes no key= function" in msg, msg
            assert "by position" not in msg and "led by the key" in msg, msg
        else:
            raise AssertionError(f"{fn.__name__} compiled")


def _cmp_tuple(a: Tuple[int, str], b: Tuple[int, str]) -> bool:
    return a == b


def _cmp_dict(a: Dict[str, int], b: Dict[str, int]) -> bool:
    return a != b


def _cmp_opt(a: Optional[int], b: int) -> bool:
    return a < b


def _cmp_int_tuple(a: Tuple[int, int]) -> Tuple[bool, bool]:
    return a == (1, 2), [[1]] == [[1]] if False else a != (1, 2)


def test_uncomparable_values_are_refused_with_one_reason():
    for fn, words in ((_cmp_tuple, ("`==` does not compare Tuple[int, str]", "a[0] == b[0]")),
                      (_cmp_dict, ("`!=` does not compare Dict[str, int]", "for each key")),
                      (_cmp_opt, ("`<` of an Optional[int]: it may be None",
                                  "x is not None and x < y"))):
        try:
            torch.jit.script(fn)
        except Exception as e:
            msg = str(e)
            assert msg.startswith("Arguments for call are not valid: no variant of "), msg
            for w in words:
                assert w in msg, msg
            assert "eq.int_list" not in msg and len(msg.splitlines()) < 8, msg
        else:
            raise AssertionError(f"{fn.__name__} compiled")
    assert torch.jit.script(_cmp_int_tuple)((1, 2)) == (True, False)  # (torch's int_list)


@torch.jit.script
class _Registry:
    def __init__(self):
        self.d: Dict[str, List[int]] = {}
        self.items: List[int] = [7]

    def add(self, k: str, v: int):
        if k not in self.d:
            self.d[k] = []
        self.d[k].append(v)

    def reset(self):
        self.items = []


class _Groups(torch.nn.Module):
    groups: Dict[str, List[int]]

    def __init__(self):
        super().__init__()
        self.groups = {}

    def forward(self, k: str, v: int) -> int:
        if k not in self.groups:
            self.groups[k] = []
        self.groups[k].append(v)
        return len(self.groups[k])


def _use_registry() -> Tuple[int, int]:
    r = _Registry()
    r.add("a", 1)
    r.add("a", 2)
    r.reset()
    return len(r.d["a"]), len(r.items)


def test_empty_literal_stored_into_object_and_module_attribute_items():
    assert torch.jit.script(_use_registry)() == (2, 0)
    m = torch.jit.script(_Groups())
    assert [m("a", 1), m("a", 2), m("b", 3)] == [1, 2, 1]
    assert m.groups == {"a": [1, 2], "b": [3]}
