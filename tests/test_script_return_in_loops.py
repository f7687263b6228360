"""`return` inside loops of scripted code (issue 6, "`return` anywhere"): each function is
compiled, its graph lints and round-trips through text, and the reference interpreter, the
generated executor (gpujit.script) and plain Python agree on several inputs. The conftest
also saves and loads every scripted function (its `.code` compiles back)."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

import gpujit
import gpujit as torch
from gpujit.frontend.script import FrontendError, compile_function
from gpujit.ir import parse_ir
from gpujit.runtime import interpret


def _same(got, want):
    if isinstance(want, gpujit.Tensor):
        assert isinstance(got, gpujit.Tensor), got
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(),
                                   rtol=1e-6, atol=1e-6)
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            _same(g, w)
    else:
        assert type(got) is type(want) and got == want, (got, want)


def _copy(a):
    if isinstance(a, gpujit.Tensor):
        return a.clone()
    return list(a) if isinstance(a, list) else dict(a) if isinstance(a, dict) else a


def check(fn, *arg_lists):
    """fn compiled; for each argument tuple, interpreter == executor == Python."""
    g = compile_function(fn)
    g.lint()
    text = str(g)
    assert str(parse_ir(text)) == text
    sf = gpujit.script(fn)
    for args in arg_lists:
        want = fn(*[_copy(a) for a in args])
        _same(interpret(g, *[_copy(a) for a in args]), want)
        _same(sf(*[_copy(a) for a in args]), want)
    return g


def loop_nodes(g):
    return [n for n in g.walk() if n.kind == "prim::Loop"]


# ------------------------------------------------------------------ for over lists / range

def first_above(xs: List[int], k: int) -> int:
    for x in xs:
        if x > k:
            return x
    return -1


def test_first_match_search_over_a_list():
    g = check(first_above, ([1, 5, 9], 4), ([1, 2], 4), ([], 0), ([7], 7), ([8], 7))
    # the loop carries the returned flag and the value; the rest runs under `if returned`
    # (and, a for loop that can exit early, its own iteration count: TorchScript's
    # CanonicalizeModifiedLoops makes it a while loop, torch 2.13's [bool, int, int])
    (loop,) = loop_nodes(g)
    assert [v.type.annotation() for v in loop.outputs] == ["bool", "int", "int"]
    assert loop.inputs[-2].node.kind == "prim::Uninitialized"
    last = g.outputs[0].node
    assert last.kind == "prim::If" and last.inputs[0] is loop.outputs[0]


def index_of(xs: List[int], v: int) -> int:
    for i in range(len(xs)):
        if xs[i] == v:
            return i
    return -1


def stepped(n: int) -> int:
    for i in range(n, 0, -3):
        if i % 5 == 0:
            return i
    return 0


def from_start(a: int, b: int) -> int:
    for i in range(a, b):
        if i * i > 50:
            return i
    return b


def test_for_over_range_forms():
    check(index_of, ([3, 4, 5], 5), ([3, 4, 5], 3), ([3], 9))
    check(stepped, (20,), (13,), (4,), (0,))
    check(from_start, (0, 20), (3, 5), (9, 2))


def unconditional(n: int) -> int:
    for i in range(n):
        return i + 10
    return -1


def test_return_at_the_end_of_the_body_leaves_on_the_first_trip():
    check(unconditional, (3,), (0,))


def carried_total(xs: List[int], limit: int) -> int:
    total = 0
    for x in xs:
        total += x
        if total > limit:
            return total
        total = total * 2
    return -total


def test_statements_after_the_return_point_run_only_when_it_did_not_return():
    check(carried_total, ([1, 2, 3], 5), ([1, 2, 3], 100), ([9], 3), ([], 0))


def after_loop(xs: List[int]) -> List[int]:
    out: List[int] = []
    for x in xs:
        if x < 0:
            return out
        out.append(x * 2)
    out.append(100)
    return out


def test_code_after_the_loop_runs_only_when_the_loop_did_not_return():
    check(after_loop, ([1, 2],), ([1, -1, 3],), ([],))


# ------------------------------------------------------------------ while

def isqrt_up(n: int) -> int:
    i = 0
    while i < 1000:
        i += 1
        if i * i >= n:
            return i
    return -1


def collatz_steps(n: int, cap: int) -> int:
    steps = 0
    while n != 1:
        if steps >= cap:
            return -steps
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


def test_while_with_counters():
    check(isqrt_up, (0,), (10,), (16,), (10 ** 7,))
    check(collatz_steps, (6, 100), (27, 20), (1, 5))


# ------------------------------------------------------------------ break / continue mixed in

def mixed(xs: List[int]) -> int:
    seen = 0
    for x in xs:
        if x == 0:
            continue
        if x < 0:
            break
        seen += 1
        if x > 100:
            return x
    return seen


def test_break_and_continue_mixed_with_return():
    check(mixed, ([0, 1, 2, 0],), ([1, -1, 500],), ([0, 3, 200, -1],), ([],))


def in_else(xs: List[int], k: int) -> int:
    n = 0
    for x in xs:
        if x < k:
            n += 1
        else:
            if x == k:
                return -1
            break
    return n


def test_return_in_an_else_branch_next_to_break():
    check(in_else, ([1, 2, 5], 3), ([1, 3, 5], 3), ([1, 2], 3))


# ------------------------------------------------------------------ nested loops

def find_pair(xs: List[int], target: int) -> Tuple[int, int]:
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            if xs[i] + xs[j] == target:
                return i, j
    return -1, -1


def inner_exits(rows: List[List[int]]) -> int:
    count = 0
    for row in rows:
        for v in row:
            if v < 0:
                break
            if v == 0:
                continue
            if v > 9:
                return count * 1000 + v
            count += 1
        count += 100
    return count


def three_deep(n: int) -> int:
    for a in range(n):
        for b in range(n):
            c = 0
            while c < n:
                if a * 100 + b * 10 + c == 123:
                    return a + b + c
                c += 1
    return -1


def test_nested_loops():
    check(find_pair, ([1, 4, 6, 3], 9), ([1, 2], 10), ([5, 5], 10))
    check(inner_exits, ([[1, 2], [3, -1, 50], [4, 11]],), ([[0, 0], [1]],), ([],))
    check(three_deep, (4,), (2,))


def loop_in_if(xs: List[int], search: bool) -> int:
    if search:
        for x in xs:
            if x % 7 == 0:
                return x
    return len(xs)


def test_a_loop_that_returns_inside_an_if():
    check(loop_in_if, ([1, 14, 21], True), ([1, 14, 21], False), ([1], True))


# ------------------------------------------------------------------ return types

def maybe_find(xs: List[int], k: int) -> Optional[int]:
    for x in xs:
        if x == k:
            return x * 10
    return None


def none_inside(xs: List[int]) -> Optional[int]:
    for x in xs:
        if x < 0:
            return None
    return len(xs)


def bare_return(xs: List[int]):
    for x in xs:
        if x < 0:
            return
    xs.append(0)


def tuple_and_tensor(x: torch.Tensor, ks: List[float]) -> Tuple[int, torch.Tensor]:
    for i in range(len(ks)):
        y = x * ks[i]
        if float(y.sum()) > 10.0:
            return i, y
    return -1, x


def test_returns_of_optional_none_and_tuples():
    g = check(maybe_find, ([1, 2, 3], 2), ([1, 2, 3], 7))
    assert g.outputs[0].type.annotation() == "Optional[int]"
    g = check(none_inside, ([1, 2],), ([1, -2],))
    assert g.outputs[0].type.annotation() == "Optional[int]"
    check(bare_return, ([1, 2],), ([1, -2],))
    x = torch.tensor([1.0, 2.0, 3.0])
    check(tuple_and_tensor, (x, [0.5, 1.0, 2.0]), (x, [0.1]))


# ------------------------------------------------------------------ tensors, dicts, tuples

def first_positive_row(x: torch.Tensor) -> torch.Tensor:
    for row in x:
        if bool((row > 0).all()):
            return row
    return torch.zeros(x.size(1))


def key_for(d: Dict[str, int], v: int) -> str:
    for k in d:
        if d[k] == v:
            return k
    return ""


def over_tuple(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    for t in (a, b, c):
        if float(t.sum()) > 5.0:
            return t * 2
        a = a + t
    return a


def over_tuple_value(p: Tuple[int, str, float]) -> str:
    n = 0
    for v in p:
        n += 1
        if n == 2:
            return "second"
    return "none"


def test_loops_over_tensors_dict_keys_and_tuples():
    x = torch.tensor([[1.0, -2.0], [3.0, 4.0], [5.0, 6.0]])
    check(first_positive_row, (x,), (-x,))
    check(key_for, ({"a": 1, "b": 2}, 2), ({"a": 1}, 5))
    one, two = torch.ones(2), torch.full((2,), 3.0)
    check(over_tuple, (one, two, one), (one, one, one), (one, one, two))
    check(over_tuple_value, ((1, "x", 2.0),))


def unrolled_break(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    for t in (a, b):
        if float(t.sum()) > 0:
            break
    return a


def test_break_in_an_unrolled_loop_is_a_clean_error():
    with pytest.raises(FrontendError) as e:
        compile_function(unrolled_break)
    msg = str(e.value)
    assert "`break` is not supported in a loop over a tuple" in msg, msg
    assert "<--- HERE" in msg and "break" in msg.split("<--- HERE")[0].splitlines()[-2]


# ------------------------------------------------------------------ modules

class Stack(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = gpujit.nn.ModuleList([gpujit.nn.Linear(2, 2), gpujit.nn.Linear(2, 2)])
        self.limit = 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
            if float(x.abs().sum()) > 100.0:
                return x * 0
        for i in range(self.limit):
            if i == 1:
                return x + i
            x = x * 2
        return x


def test_return_inside_loops_of_a_scripted_module_method():
    m = Stack()
    sm = gpujit.script(m)
    x = torch.tensor([[1.0, 2.0]])
    _same(sm(x), m(x))
    big = torch.tensor([[1000.0, 2000.0]])
    _same(sm(big), m(big))
    assert "prim::Loop" in str(sm.graph)


# ------------------------------------------------------------------ errors

def mixed_types(xs: List[int], x: torch.Tensor):
    for v in xs:
        if v > 0:
            return x
    return 0


def declared_wrong(xs: List[int]) -> int:
    for v in xs:
        if v > 0:
            return "big"
    return 0


def falls_off(xs: List[int]) -> int:
    for v in xs:
        if v > 0:
            return v


def test_errors_name_the_users_line():
    with pytest.raises(FrontendError) as e:
        compile_function(mixed_types)
    msg = str(e.value)
    assert "the return value is a Tensor on one path and an int on another" in msg, msg
    assert "<--- HERE" in msg and "mixed_types" in msg
    with pytest.raises(FrontendError) as e:
        compile_function(declared_wrong)
    msg = str(e.value)
    assert "'declared_wrong' is declared to return an int but returns a str" in msg, msg
    assert 'return "big"' in msg and "<--- HERE" in msg
    with pytest.raises(FrontendError) as e:
        compile_function(falls_off)
    assert "falls off its end (returns None)" in str(e.value)


def test_the_printed_code_compiles_back_to_the_same_results():
    sf = gpujit.script(find_pair)
    code = sf.code
    # (the returned flag and value are unnamed, as TorchScript's: `_2 = False`, s48)
    assert "_2 = False" in code and "uninitialized(" in code, code
    import io
    buf = io.BytesIO()
    gpujit.jit.save(sf, buf)
    buf.seek(0)
    back = gpujit.jit.load(buf)
    for args in (([1, 4, 6, 3], 9), ([1, 2], 10)):
        assert back(*args) == find_pair(*args)


# ------------------------------------------------------------------ corner cases

def retyped_on_the_return_path(xs: List[int]) -> str:
    y = 0
    for x in xs:
        if x > 3:
            y = "big"          # the loop stops here: y's new type is never carried
            return y
        y += x
    return str(y)


def unreachable_return(xs: List[int]) -> int:
    for x in xs:
        if x < 0:
            continue
        raise ValueError("no non-negative values, please")
        return x
    return 0


def tuple_loop_in_a_loop(n: int, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    for i in range(n):
        for t in (a, b):
            if float(t.sum()) > i:
                return t + i
    return a


def test_corner_cases():
    check(retyped_on_the_return_path, ([1, 2],), ([1, 5],))
    g = check(unreachable_return, ([-1, -2],))
    # no path returns: the (always False) flag is dead, and goes when the function is
    # compiled, as in TorchScript's scripted graph (which carries no flag either)
    (loop,) = loop_nodes(g)
    assert [v.type.annotation() for v in loop.outputs] == ["int"]    # (its count, as torch)
    with pytest.raises(ValueError, match="no non-negative"):
        gpujit.script(unreachable_return)([1])
    a, b = torch.ones(2), torch.full((2,), 3.0)
    check(tuple_loop_in_a_loop, (3, a, b), (0, a, b), (9, a, b))


def endless(n: int) -> int:
    i = 0
    while True:
        i += 3
        if i > n:
            return i


def test_while_true_that_only_returns_must_return_after_it_too():
    # torch 2.13 does not special-case `while True:`: the path past the loop falls off
    # the function's end ("does not return along all paths"), though only a return ends
    # the loop (gpujit accepted it before session 42)
    with pytest.raises(RuntimeError, match="^Function was not annotated as having type "
                                           "None, but does not return along all paths"):
        gpujit.script(endless)
    g = check(endless_then_return, (0,), (10,))
    (loop,) = loop_nodes(g)
    # torch 2.13's order (its CanonicalizeOutputs: by first use): the exit flag, the
    # returned value, i
    assert [v.type.annotation() for v in loop.outputs] == ["bool", "int", "int"]


def endless_then_return(n: int) -> int:
    i = 0
    while True:
        i += 3
        if i > n:
            return i
    return -1


def inside_with(xs: List[int]) -> int:
    with gpujit.strict_fusion():
        for x in xs:
            if x:
                return x
    return 0


def test_return_in_a_loop_inside_with():
    g = compile_function(inside_with)
    assert interpret(g, [0, 3, 4]) == 3 and interpret(g, [0, 0]) == 0


def constant_trips(xs: List[int], v: int) -> int:
    for i in range(3):              # a constant trip count: the optimizer may unroll it
        if xs[i] == v:
            return i
    return -1


def test_a_loop_with_a_constant_trip_count():
    check(constant_trips, ([4, 5, 6], 6), ([4, 5, 6], 4), ([4, 5, 6], 0))


def refined_after_return(xs: List[Optional[int]]) -> int:
    total = 0
    for x in xs:
        if x is None:
            return -1
        total += x               # x is an int here: the None path returned
    return total


def test_a_return_in_a_loop_refines_what_follows():
    check(refined_after_return, ([1, 2, 3],), ([1, None, 3],), ([],))
