"""TorchScript language against torch.jit.script 2.13 (session 38, helper b38): small
programs run under `import torch` and `import gpujit as torch`; torch's answers are
written out here.

Finds, minimised:

1. hash() in scripted code is c10's IValue::hash, the same in every process: an int is
   itself, a bool 1 / 0, None 0; a float libstdc++'s std::hash<double> (0 for +-0.0, else
   the 64-bit MurmurHash2 std::_Hash_bytes of its 8 bytes with seed 0xc70f6907:
   hash(1.5) == 4982507072649106663, a nan -1255316504868620486); a str the same hash of
   its UTF-8 bytes (hash("abc") == 3663726644998027833); a tuple c10::hash_combine of
   its elements' hashes from seed 0 (hash((1, 2)) == 175247769363, hash(()) == 0); a
   device type << 16 | uint8(index) (cpu 255, cpu:0 0). gpujit gave Python's hash (a
   str's differs between processes, a nan 0). An unhashable value's error names its
   static type: "unhashable type: 'List[int]'", 'Dict[str, int]',
   'Enum<__torch__.Color>' (the Enum's qualified name; an Enum member is unhashable in torch 2.13; gpujit hashed
   it); gpujit said 'list' / 'dict'. `.code` prints hash(s) as torch.hash(s) (gpujit
   printed hash(s)).

2. torch.atleast_1d / 2d / 3d of a list of Tensors, or of several Tensors (packed into
   the list by schema matching), is aten::atleast_2d.Sequence(Tensor[] tensors) ->
   Tensor[] in torch 2.13: `torch.atleast_2d(x, y)` is [x viewed 2-D, y viewed 2-D];
   gpujit refused both ("no variant of 'atleast_2d' accepts (Tensor, Tensor)").

3. A TorchScript str is a std::string of UTF-8 bytes: len("é") is 2, len("中文") 6,
   len("😀") 4; s[i], slices, `for c in s`, list(s) give bytes (a piece of a char is a
   str that is no UTF-8 text: returning it raises UnicodeDecodeError "'utf-8' codec can't
   decode byte 0xc3 in position 0: unexpected end of data", while s[0] + s[1] == "é" is
   True); ord(s[0]) of "é" is 195, ord("é") refused ("must be 1 character, found 2");
   chr(i) is the one byte char(i) (len(chr(0x4e2d)) 1, its ord 45; chr(233) returned
   raises UnicodeDecodeError); find / rfind / index / count positions, center / ljust /
   rjust / zfill widths, expandtabs count bytes ("héllo".find("l") 3, "é".zfill(4)
   "00é", "é".center(5, "*") "**é*"); upper / lower / title / capitalize / swapcase and
   isalpha / isdigit / isalnum / isupper / islower / istitle / isdecimal / isnumeric /
   isprintable are C's on each byte (ASCII letters only: "héllo".upper() "HéLLO",
   "é".isalpha() False, "²".isnumeric() False); splitlines splits at the bytes
   0x85 e2 80 a8 a9 too (its C++ set's "\u2028\u2029"), so "aé\u2028b".splitlines()
   cuts "é"; a fill char must be one byte ("aé".rjust(5, "é"): RuntimeError "TypeError:
   The fill character must be exactly one character long"). gpujit computed Python's
   code-point answers.

4. A `# type:` comment under a def whose parameters are annotated too: torch 2.13's
   get_signature reads the type line in place of the annotations, so `def f(x: int) ->
   int:` + `# type: (float) -> float` returns 3.0 for f(3) and `def f(x: int):` + `#
   type: (int) -> int` compiles; gpujit refused both ("has both a '# type:' comment and
   Python 3 annotations"). A comment with another count of types than parameters is
   torch's "Number of type annotations (2) did not match the number of function
   parameters (1)".

5. A module attribute TorchScript cannot type is refused in its words: "Module 'A' has
   no attribute 'v' (This attribute exists on the Python module, but we failed to
   convert Python type: 'list' to a TorchScript type. List trace inputs must have
   elements. Its type was inferred; try adding a type annotation for the attribute.)";
   an empty dict "Dictionary inputs must have entries", [1, "a"] "List inputs to traced
   functions must have consistent element type. Found int and str", [[]] "Could not infer
   type of list element: List trace inputs must have elements", an object "Only tensors
   and (possibly nested) tuples of tensors, lists, or dicts are supported as inputs or
   outputs of traced functions, but instead got value of type object.". gpujit said
   only "the attribute 'v' of A is a Python list, which scripted code cannot use".

6. Missing members in torch 2.13's words: `p._fields` / `p._replace(x=2)` of a NamedTuple
   "'__torch__.P' object has no attribute or method '_fields'."; `a != b` / `a > b` of a
   script class without __ne__ / __gt__ "'__torch__.K' object has no attribute or method
   '__ne__'. Did you forget to initialize an attribute in __init__()?". gpujit said "P has
   no field '_fields'" and "Tried to access nonexistent attribute or method '__ne__' of
   type 'K'".

7. An int literal past int64 is refused before any unary minus, as TorchScript's lexer
   reads it: `return -9223372036854775808` "Integral constant out of range (must fit in
   a signed 64 bit integer)" (gpujit compiled it). `r = range(3)` as a value: torch's
   "range cannot be used as a value".

8. A scripted module's tuple attribute read from Python is a new tuple per read, as
   TorchScript's toPyObject makes it: `m.tup is m.tup` is False (== still True);
   gpujit handed back the module's own tuple. A str attribute holding a piece of a char
   (`self.s = self.s[0]` of "é" in forward) read from Python raises UnicodeDecodeError
   as torch's; gpujit handed back the lone surrogate.

9. More refusals in torch 2.13's words first: a method no list / dict / tuple / str has
   "'Dict[str, int]' object has no attribute or method 'fromkeys'." (also 'Tuple[int,
   int, int]' ... 'index', 'str' ... 'frob'); `xs[0:2] = [7]` "Sliced expression not yet
   supported for subscripted assignment. File a bug if you want this"; `tuple(xs)` of a
   list "cannot statically infer the expected size of a list in this context"; a dict
   with tuple keys "Cannot create dict for key type '(int, int)', only int, float,
   complex, Tensor, device and string keys are supported".

10. A generator expression is a list comprehension in TorchScript: `return (x for x in
    range(3))` gives [0, 1, 2], `sum(x * x for x in xs)` 14 for [1, 2, 3], `any(x < 0
    for x in xs)`, `",".join(str(x) for x in xs)` '1,2,3'; gpujit refused them
    ("GeneratorExp aren't supported").

11. A name defined on one branch of an if, used after it: torch's "y is not defined in
    the false branch" (or "true branch", whichever leaves it out); one first assigned in
    a loop, or a loop's variable, used after the loop: "undefined value k".

12. str(x) of an Any is aten::str(t elem) in torch 2.13 ('1' for 1); gpujit matched the
    Any to aten::str.Tensor's Tensor and failed when it ran ("argument 'input' must be
    Tensor, not int"). An Any value fits no concrete schema type (Tensor, int, float,
    str, Scalar, ...), only a type variable, as in TorchScript's schema matching.

13. A number (a Scalar, x.item()) on one path and an int or float on another unify to
    number, as TorchScript's unifyTypes (int and float are subtypes of number): `if c:
    return x.sum().item()` / `return 1` gives 1.0 (a Union[int, float] refined by
    isinstance(x, (int, float)), `return x * 2` / `return 0`, 3.0 for 1.5); gpujit
    refused ("the return value is a number on one path and an int on another"). A bool
    does not unify with number (torch refuses too).

14. A value assigned to a variable of an enclosing block is converted to that variable's
    type, as TorchScript's setSugaredVar (tryConvertToType, implicit conversions): `y = 1`
    then `if c: y = x.sum().item()` stores aten::Int of it (2 for 2.5), `y = x.sum()`
    aten::IntImplicit (RuntimeError "Cannot input a tensor of type Float as an integral
    argument" for a float tensor; an int tensor gives its value), `y = 1.0` ... `y =
    x.sum()` FloatImplicit (2.5), `y = 0` ... `y = True` 1 (`y = 0.0`: 1.0), a `y:
    Optional[int] = None` ... `y = x.sum()` IntImplicit; in the function's own block `y =
    1; y = x.sum()` rebinds y to the Tensor. gpujit refused them all ("Variable 'y'
    previously had type int but is now being assigned to a value of type Tensor") and
    gave 2.5 for the number.

15. isinstance(x, dict) is refused by torch 2.13 ("Unknown type name 'dict'"; list and
    tuple are known, a dict is tested with Dict[K, V]); gpujit answered it.

16. An annotated Optional / Union variable assigned in the branches of an `if` leaves it
    with the type the branches' values unify to, as TorchScript's If outputs: `x:
    Optional[int] = None` then `if x is None: x = 5` makes x an int after the if (the
    false branch refines it), so `x + 1` compiles (6); `if n > 2: x = 4 else: x = 5`
    too; `x: Optional[List[int]] = None; if x is None: x = [1]` then `x.append(2)`;
    with a class `p: Optional[Pair] = None; if p is None: p = Pair(5, 6)` then `p.a`.
    When the values do not unify (an int and a float) the annotated type stays. gpujit
    kept the annotated Optional and refused (`no variant of 'add' accepts
    (Optional[int], int)`). Assigning a List[int] to a `List[Optional[int]]` variable
    is refused in torch's words, "Variable 'xs' previously had type
    List[Optional[int]] but is now being assigned to a value of type List[int]".

17. sorted(d) of a dict is refused by torch 2.13 ("Arguments for call are not valid.";
    aten::sorted takes a list: sorted(d.keys())); gpujit sorted the keys.

18. str(obj) of a script class without __str__ is refused by torch 2.13 ("'__torch__.K'
    object has no attribute or method '__str__'. Did you forget to initialize an
    attribute in __init__()?"), while f"{obj}" / "{}".format(obj) write `<__torch__.K
    object at 0x...>`; gpujit wrote that for str(obj) too.
"""
import re
from enum import Enum
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

import numpy as np
import pytest

import gpujit as torch


class _Color(Enum):
    RED = 1


def _hash_int(a: int):
    return hash(a)


def _hash_float(a: float):
    return hash(a)


def _hash_str(a: str):
    return hash(a)


def _hash_tuple(a: Tuple[int, int]):
    return hash(a)


def _hash_nested():
    return hash(((1, 2), "a", None, True, 2.5))


def _hash_empty_tuple():
    return hash(())


def _hash_devices():
    return hash(torch.device("cpu")), hash(torch.device("cpu", 0))


def _hash_list():
    return hash([1])


def _hash_dict():
    return hash({"a": 1})


def _hash_tuple_with_list():
    return hash((1, [2]))


def _hash_enum():
    return hash(_Color.RED)


@pytest.mark.parametrize("a,want", [(0, 0), (3, 3), (-1, -1), (2 ** 40, 2 ** 40),
                                    (-2 ** 63, -2 ** 63)])
def test_hash_int_is_itself(a, want):
    assert torch.jit.script(_hash_int)(a) == want


@pytest.mark.parametrize("a,want", [
    (0.0, 0), (-0.0, 0), (1.0, 8386164645967068059), (1.5, 4982507072649106663),
    (2.0, 6369015886390043782), (float("inf"), 3377428025507081056),
    (float("-inf"), 6848127736350075394), (float("nan"), -1255316504868620486),
    (-5.25e300, 4902597186522139449)])
def test_hash_float_is_std_hash_double(a, want):
    assert torch.jit.script(_hash_float)(a) == want


@pytest.mark.parametrize("a,want", [
    ("", 6142509188972423790), ("a", 4993892634952068459), ("abc", 3663726644998027833),
    ("é", -2654802552671189131),
    ("héllo wörld, a longer string", -2011523148644091232)])
def test_hash_str_is_std_hash_string(a, want):
    assert torch.jit.script(_hash_str)(a) == want


@pytest.mark.parametrize("a,want", [((0, 0), 175247769566), ((1, 2), 175247769363),
                                    ((2, 1), 175247769427)])
def test_hash_tuple_combines(a, want):
    assert torch.jit.script(_hash_tuple)(a) == want


def test_hash_nested_empty_device():
    assert torch.jit.script(_hash_nested)() == 6471305147656891779
    assert torch.jit.script(_hash_empty_tuple)() == 0
    assert torch.jit.script(_hash_devices)() == (255, 0)


@pytest.mark.parametrize("fn,name", [(_hash_list, "List[int]"),
                                     (_hash_dict, "Dict[str, int]"),
                                     (_hash_tuple_with_list, "List[int]"),
                                     (_hash_enum, "Enum<__torch__.")])
def test_hash_unhashable_names_static_type(fn, name):
    f = torch.jit.script(fn)
    with pytest.raises(RuntimeError, match=re.escape(f"unhashable type: '{name}")):
        f()


def _atleast_2d_args(x: torch.Tensor, y: torch.Tensor):
    return torch.atleast_2d(x, y)


def _atleast_1d_list(x: torch.Tensor, y: torch.Tensor):
    return torch.atleast_1d([x, y])


def _atleast_3d_shapes(x: torch.Tensor, y: torch.Tensor):
    return [t.shape for t in torch.atleast_3d((x, y))]


def _atleast_2d_grad(x: torch.Tensor, y: torch.Tensor):
    r = torch.atleast_2d(x, y)
    s = (r[0] * 2).sum() + (r[1] * 3).sum()
    return torch.autograd.grad([s], [x, y])


def test_atleast_sequence():
    r = torch.jit.script(_atleast_2d_args)(torch.zeros(1), torch.zeros(2))
    assert isinstance(r, list) and [t.shape for t in r] == [(1, 1), (1, 2)]
    r = torch.jit.script(_atleast_1d_list)(torch.tensor(1.0), torch.zeros(2))
    assert [t.shape for t in r] == [(1,), (2,)]
    assert torch.jit.script(_atleast_3d_shapes)(torch.tensor(1.0), torch.ones(2, 2)) == \
        [[1, 1, 1], [2, 2, 1]]
    x = torch.tensor(1.0, requires_grad=True)
    y = torch.ones(2, requires_grad=True)
    gx, gy = torch.jit.script(_atleast_2d_grad)(x, y)
    assert gx.shape == () and float(gx) == 2.0
    np.testing.assert_array_equal(gy.numpy(), [3.0, 3.0])


def _s_len(s: str):
    return len(s)


def _s_item(s: str, i: int):
    return s[i]


def _s_slice(s: str, a: int, b: int):
    return s[a:b]


def _s_chars(s: str) -> List[str]:
    out: List[str] = []
    for c in s:
        out.append(c)
    return out


def _s_ords(s: str) -> List[int]:
    return [ord(c) for c in s]


def _s_join_pieces(s: str):
    return s[0] + s[1], "".join([s[0], s[1]]), "{}{}".format(s[0], s[1]), \
        "%s%s" % (s[0], s[1]), s[0] + s[1] == s


def _s_dict_key(s: str) -> Dict[str, int]:
    d: Dict[str, int] = {}
    d[s[0] + s[1]] = 1
    d["é"] = 2
    return d


def _s_positions(s: str):
    return s.find("l"), s.rfind("l"), s.index("l"), s.count("l"), s[1] in s


def _s_widths(s: str):
    return s.center(5, "*"), s.ljust(4, "*"), s.zfill(4), s.rjust(3), "é\tb".expandtabs(4)


def _s_case(s: str):
    return s.upper(), s.lower(), s.title(), s.capitalize(), s.swapcase()


def _s_tests(s: str) -> List[bool]:
    return [s.isalpha(), s.isdigit(), s.isalnum(), s.isupper(), s.islower(), s.istitle(),
            s.isdecimal(), s.isnumeric(), s.isprintable()]


def _s_ord(s: str):
    return ord(s)


def _s_chr(i: int):
    return chr(i)


def _s_chr_bytes(i: int):
    c = chr(i)
    return len(c), ord(c[0]), chr(0xc3) + chr(0xa9) == "é"


def _s_splitlines(s: str):
    return s.splitlines()


def _s_rjust(s: str, fill: str):
    return s.rjust(5, fill)


def _s_split_at_piece(s: str):
    return s.split(s[1])


def _s_strip(s: str, chars: str):
    return s.strip(chars)


@pytest.mark.parametrize("s,n", [("é", 2), ("héllo", 6), ("中文", 6), ("😀", 4), ("ab", 2)])
def test_str_len_counts_utf8_bytes(s, n):
    assert torch.jit.script(_s_len)(s) == n


def test_str_index_slice_iterate_bytes():
    item = torch.jit.script(_s_item)
    assert item("héllo", 3) == "l"
    with pytest.raises(UnicodeDecodeError, match="can't decode byte 0xc3 in position 0: "
                       "unexpected end of data"):
        item("héllo", 1)
    with pytest.raises(UnicodeDecodeError, match="byte 0xa9 in position 0: invalid start"):
        item("é", -1)
    sl = torch.jit.script(_s_slice)
    assert sl("héllo", 0, 3) == "hé" and sl("abcé", -2, 5) == "é"
    with pytest.raises(UnicodeDecodeError, match="byte 0xc3 in position 1: unexpected end"):
        sl("héllo", 0, 2)
    with pytest.raises(UnicodeDecodeError):
        torch.jit.script(_s_chars)("hé")
    assert torch.jit.script(_s_chars)("ab") == ["a", "b"]
    assert torch.jit.script(_s_ords)("hé") == [104, 195, 169]


def test_str_pieces_join_back():
    assert torch.jit.script(_s_join_pieces)("é") == ("é", "é", "é", "é", True)
    assert torch.jit.script(_s_dict_key)("é") == {"é": 2}


def test_str_positions_widths_count_bytes():
    assert torch.jit.script(_s_positions)("héllo") == (3, 4, 3, 2, True)
    assert torch.jit.script(_s_widths)("é") == ("**é*", "é**", "00é", " é", "é  b")
    assert torch.jit.script(_s_widths)("ab") == ("**ab*", "ab**", "00ab", " ab", "é  b")


def test_str_case_and_tests_are_c_ascii_only():
    assert torch.jit.script(_s_case)("héllo wé") == ("HéLLO Wé", "héllo wé", "HéLlo Wé",
                                                      "Héllo wé", "HéLLO Wé")
    assert torch.jit.script(_s_case)("éa") == ("éA", "éa", "éA", "éa", "éA")
    t = torch.jit.script(_s_tests)
    assert t("é") == [False] * 8 + [False]
    assert t("É") == [False] * 9
    assert t("²") == [False] * 9
    assert t("Ab") == [True, False, True, False, False, True, False, False, True]


def test_str_ord_chr_are_bytes():
    o = torch.jit.script(_s_ord)
    with pytest.raises(RuntimeError, match="String for ord\\(\\) must be 1 character, found 2"):
        o("é")
    assert o("A") == 65
    assert torch.jit.script(_s_chr)(65) == "A"
    with pytest.raises(UnicodeDecodeError, match="byte 0xe9 in position 0: unexpected end"):
        torch.jit.script(_s_chr)(233)
    assert torch.jit.script(_s_chr_bytes)(0x4e2d) == (1, 45, True)


def test_str_splitlines_fill_split_strip_on_bytes():
    with pytest.raises(UnicodeDecodeError, match="byte 0xc3 in position 1: unexpected end"):
        torch.jit.script(_s_splitlines)("aé\u2028b")
    assert torch.jit.script(_s_splitlines)("a\nb") == ["a", "b"]
    rj = torch.jit.script(_s_rjust)
    with pytest.raises(RuntimeError, match="The fill character must be exactly one "
                       "character long"):
        rj("aé", "é")
    assert rj("aé", "*") == "**aé"
    with pytest.raises(UnicodeDecodeError, match="byte 0xa9 in position 0: invalid start"):
        torch.jit.script(_s_split_at_piece)("aébéc")
    with pytest.raises(UnicodeDecodeError, match="byte 0xc3 in position 0: unexpected end"):
        torch.jit.script(_s_strip)("é", "\xa9")


def _s_pieces_compare(s: str):
    a = s[0] + s[1]
    b = s[0]
    b += s[1]
    return a == "é", len(a), a < "z", s[0] < s[1], s[1] < "a", s[0] < s, b


def test_str_pieces_compare_as_bytes_also_when_compiled():
    f = torch.jit.script(_s_pieces_compare)
    for _ in range(12):     # (the executor's generated code too)
        assert f("é") == (True, 2, False, False, False, True, "é")


def _tc_comment_wins(x: int) -> int:
    # type: (float) -> float
    return x


def _tc_comment_and_param_annotation(x: int, y: int = 2):
    # type: (int, int) -> int
    return x + y


def _tc_count(x):
    # type: (int, int) -> int
    return x


def test_type_comment_beside_annotations_wins():
    f = torch.jit.script(_tc_comment_wins)
    r = f(3)
    assert r == 3.0 and isinstance(r, float)
    assert torch.jit.script(_tc_comment_and_param_annotation)(3) == 5
    with pytest.raises(RuntimeError, match=re.escape(
            "Number of type annotations (2) did not match the number of function "
            "parameters (1)")):
        torch.jit.script(_tc_count)


class _EmbeddingConfig:      # (the blog post's, seed 003: a plain Python object)
    pass


class _AttrHolder(torch.nn.Module):
    def __init__(self, v):
        super().__init__()
        self.v = v

    def forward(self, x):
        return self.v


@pytest.mark.parametrize("value,pytype,why", [
    ([], "list", "List trace inputs must have elements. "),
    ({}, "dict", "Dictionary inputs must have entries. "),
    ([1, "a"], "list", "List inputs to traced functions must have consistent element type. "
                       "Found int and str. "),
    ([[]], "list", "Could not infer type of list element: List trace inputs must have "
                   "elements. "),
    ([_EmbeddingConfig()], "list", "Could not infer type of list element: Only tensors "
                                   "and (possibly nested) tuples of tensors, lists, or dicts "
                                   "are supported as inputs or outputs of traced functions, "
                                   "but instead got value of type _EmbeddingConfig.. "),
    ((1, object()), "tuple", "Only tensors and (possibly nested) tuples of tensors, lists, "
                             "or dicts are supported as inputs or outputs of traced "
                             "functions, but instead got value of type object.. ")])
def test_untypable_module_attribute_in_torch_words(value, pytype, why):
    with pytest.raises(RuntimeError, match=re.escape(
            f"Module '_AttrHolder' has no attribute 'v' (This attribute exists on the Python "
            f"module, but we failed to convert Python type: '{pytype}' to a TorchScript "
            f"type. {why}Its type was inferred; try adding a type annotation for the "
            f"attribute.)")):
        torch.jit.script(_AttrHolder(value))


class _NTP(NamedTuple):
    x: int
    y: float = 2.0


@torch.jit.script
class _KOnlyEq:
    def __init__(self, a: int):
        self.a = a

    def __eq__(self, o: "_KOnlyEq") -> bool:
        return self.a == o.a


def _nt_fields():
    p = _NTP(1)
    return p._fields


def _nt_replace():
    p = _NTP(1)
    return p._replace(x=2)


def _k_ne():
    return _KOnlyEq(1) != _KOnlyEq(2)


def _k_gt():
    return _KOnlyEq(1) > _KOnlyEq(2)


@pytest.mark.parametrize("fn,words", [
    (_nt_fields, "_NTP' object has no attribute or method '_fields'."),
    (_nt_replace, "_NTP' object has no attribute or method '_replace'."),
    (_k_ne, "_KOnlyEq' object has no attribute or method '__ne__'. Did you forget to "
            "initialize an attribute in __init__()?"),
    (_k_gt, "_KOnlyEq' object has no attribute or method '__gt__'.")])
def test_missing_members_in_torch_words(fn, words):
    with pytest.raises(RuntimeError, match="'__torch__.[\\w.]*" + re.escape(words)):
        torch.jit.script(fn)


def _int_min_literal():
    return -9223372036854775808


def _int_max_literal():
    return 9223372036854775807


def _range_value():
    return range(3)


def test_int_literal_past_int64_and_range_value():
    with pytest.raises(RuntimeError, match=re.escape(
            "Integral constant out of range (must fit in a signed 64 bit integer)")):
        torch.jit.script(_int_min_literal)
    assert torch.jit.script(_int_max_literal)() == 2 ** 63 - 1
    with pytest.raises(RuntimeError, match="range cannot be used as a value"):
        torch.jit.script(_range_value)


class _TupAttr(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.tup = (1, 2)
        self.n = 3

    def forward(self, x):
        return x + self.tup[0] + self.n


def test_tuple_attribute_read_is_a_new_tuple():
    m = torch.jit.script(_TupAttr())
    assert m.tup is not m.tup and m.tup == (1, 2) and type(m.tup) is tuple
    assert float(m(torch.zeros(1))) == 4.0
    m.tup = (5, 6)
    assert m.tup == (5, 6) and float(m(torch.zeros(1))) == 8.0


def _dict_fromkeys():
    d = {"x": 1}
    return d.fromkeys(["a"])


def _tuple_index():
    t = (1, 2, 3)
    return t.index(2)


def _str_frob(s: str):
    return s.frob()


def _list_slice_assign():
    xs = [1, 2, 3]
    xs[0:2] = [7]
    return xs


def _tuple_of_list():
    return tuple([1, 2])


def _tuple_keys():
    return {(1, 2): 3}


@pytest.mark.parametrize("fn,words", [
    (_dict_fromkeys, "'Dict[str, int]' object has no attribute or method 'fromkeys'."),
    (_tuple_index, "'Tuple[int, int, int]' object has no attribute or method 'index'."),
    (_str_frob, "'str' object has no attribute or method 'frob'."),
    (_list_slice_assign, "Sliced expression not yet supported for subscripted assignment. "
                         "File a bug if you want this"),
    (_tuple_of_list, "cannot statically infer the expected size of a list in this context"),
    (_tuple_keys, "Cannot create dict for key type '(int, int)', only int, float, complex, "
                  "Tensor, device and string keys are supported")])
def test_container_refusals_in_torch_words(fn, words):
    with pytest.raises(RuntimeError, match=re.escape(words)):
        torch.jit.script(fn)


def _gen_list():
    return (x for x in range(3))


def _gen_calls(xs: List[int]):
    return sum(x * x for x in xs), any(x < 0 for x in xs), all(x < 0 for x in xs), \
        ",".join(str(x) for x in xs), sorted(-x for x in xs)


def test_generator_expression_is_a_list_comprehension():
    assert torch.jit.script(_gen_list)() == [0, 1, 2]
    assert torch.jit.script(_gen_calls)([1, -2, 3]) == (14, True, False, "1,-2,3",
                                                         [-3, -1, 2])


def _only_true_branch(x: int):
    if x == 1:
        y = 2
    return y


def _only_false_branch(x: int):
    if x == 1:
        pass
    else:
        y = 2
    return y


def _after_loop():
    for i in range(3):
        k = i
    return k


def _loop_var_after():
    for i in range(0):
        pass
    return i


@pytest.mark.parametrize("fn,words", [
    (_only_true_branch, "y is not defined in the false branch"),
    (_only_false_branch, "y is not defined in the true branch"),
    (_after_loop, "undefined value k"),
    (_loop_var_after, "undefined value i")])
def test_undefined_after_if_or_loop_in_torch_words(fn, words):
    with pytest.raises(RuntimeError, match=re.escape(words)):
        torch.jit.script(fn)


def _str_of_any(x: Any):
    return str(x)


def test_str_of_any():
    f = torch.jit.script(_str_of_any)
    assert f(1) == "1" and f("a") == "a" and f(2.5) == "2.5"


def _number_or_int(x: torch.Tensor):
    if bool(x.sum() > 0):
        return x.sum().item()
    return 1


def _union_refined_number(x: Union[int, float, str]):
    if isinstance(x, (int, float)):
        return x * 2
    return 0


def test_number_unifies_with_int_and_float():
    r = torch.jit.script(_number_or_int)(torch.ones(1))
    assert r == 1.0 and isinstance(r, float)
    r = torch.jit.script(_union_refined_number)(1.5)
    assert r == 3.0 and isinstance(r, float)


def _int_var_number(x: torch.Tensor):
    y = 1
    if bool(x.sum() > 0):
        y = x.sum().item()
    return y


def _int_var_tensor(x: torch.Tensor):
    y = 1
    if bool(x.sum() > 0):
        y = x.sum()
    return y


def _float_var_tensor(x: torch.Tensor):
    y = 1.0
    if bool(x.sum() > 0):
        y = x.sum()
    return y


def _int_var_bool(x: torch.Tensor):
    y = 0
    if bool(x.sum() > 0):
        y = True
    return y


def _float_var_bool(x: torch.Tensor):
    y = 0.0
    if bool(x.sum() > 0):
        y = True
    return y


def _optional_var_tensor(x: torch.Tensor):
    y: Optional[int] = None
    if bool(x.sum() > 0):
        y = x.sum()
    return y


def _own_block_rebind(x: torch.Tensor):
    y = 1
    y = x.sum()
    return y


def _loop_number(x: torch.Tensor):
    y = 1
    while y < 3:
        y = x.sum().item()
        break
    return y


def test_reassignment_in_inner_block_converts_to_the_variables_type():
    t = torch.tensor([2.5])
    r = torch.jit.script(_int_var_number)(t)
    assert r == 2 and type(r) is int
    with pytest.raises(RuntimeError, match="Cannot input a tensor of type Float as an "
                                           "integral argument"):
        torch.jit.script(_int_var_tensor)(t)
    assert torch.jit.script(_int_var_tensor)(torch.tensor([2, 3])) == 5
    r = torch.jit.script(_float_var_tensor)(t)
    assert r == 2.5 and type(r) is float
    r = torch.jit.script(_int_var_bool)(t)
    assert r == 1 and type(r) is int
    r = torch.jit.script(_float_var_bool)(t)
    assert r == 1.0 and type(r) is float
    assert torch.jit.script(_optional_var_tensor)(torch.tensor([4])) == 4
    r = torch.jit.script(_own_block_rebind)(t)
    assert isinstance(r, torch.Tensor) and float(r) == 2.5
    r = torch.jit.script(_loop_number)(t)
    assert r == 2 and type(r) is int


def _isinstance_dict(x: Union[Dict[str, int], int]):
    return isinstance(x, dict)


def _isinstance_dict_typed(x: Union[Dict[str, int], int]):
    return isinstance(x, Dict[str, int])


def test_isinstance_dict_is_unknown():
    with pytest.raises(RuntimeError, match="Unknown type name 'dict'"):
        torch.jit.script(_isinstance_dict)
    f = torch.jit.script(_isinstance_dict_typed)
    assert f({"a": 1}) is True and f(3) is False


def _hash_code(s: str, x: int):
    return hash(s) + hash(x)


def test_hash_prints_as_torch_hash():
    f = torch.jit.script(_hash_code)
    assert "torch.add(torch.hash(s), torch.hash(x))" in f.code


def _print_piece(s: str):
    print(s[0], s[1], "x")


def _print_whole(s: str):
    print(s, [s], s[0] + s[1])


def test_print_of_a_piece_of_a_char(capsys):
    f = torch.jit.script(_print_piece)
    with pytest.raises(RuntimeError, match=re.escape(
            "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xc3 in position 0: "
            "invalid continuation byte")):
        f("é")
    for _ in range(3):      # (the executor's generated code too)
        torch.jit.script(_print_whole)("é")
    assert capsys.readouterr().out == "é [é] é\n" * 3


def _opt_filled(n: int):
    x: Optional[int] = None
    if x is None:
        x = 5
    return x + 1


def _opt_both(n: int):
    x: Optional[int] = None
    if n > 2:
        x = 4
    else:
        x = 5
    return x + 1


def _opt_one_branch(n: int):
    x: Optional[int] = None
    if n > 2:
        x = 4
    return x


def _opt_list(n: int):
    x: Optional[List[int]] = None
    if x is None:
        x = [1]
    x.append(n)
    return x


def _opt_loop(n: int):
    x: Optional[int] = None
    for i in range(n):
        if x is None:
            x = i
        else:
            x = x + i
    return x


def _opt_tensor(n: int):
    x: Optional[torch.Tensor] = None
    if x is None:
        x = torch.ones(n)
    return x.sum()


def test_annotated_optional_assigned_in_branches_takes_the_values_type():
    assert torch.jit.script(_opt_filled)(3) == 6
    assert torch.jit.script(_opt_both)(3) == 5 and torch.jit.script(_opt_both)(1) == 6
    f = torch.jit.script(_opt_one_branch)
    assert f(3) == 4 and f(1) is None
    assert torch.jit.script(_opt_list)(2) == [1, 2]
    assert torch.jit.script(_opt_loop)(3) == 3
    assert float(torch.jit.script(_opt_tensor)(3)) == 3.0


def _list_optional_reassigned(n: int):
    xs: List[Optional[int]] = [None]
    if n > 1:
        xs = [1]
    return xs


def test_annotated_list_reassigned_in_torch_words():
    with pytest.raises(RuntimeError, match=re.escape(
            "Variable 'xs' previously had type List[Optional[int]] but is now being "
            "assigned to a value of type List[int]")):
        torch.jit.script(_list_optional_reassigned)


class _StrAttr(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.s = "é"

    def forward(self, x: int) -> str:
        if x == 1:
            self.s = self.s[0]
        return "ok"


def test_str_attribute_piece_of_a_char_read_from_python():
    m = torch.jit.script(_StrAttr())
    assert m.s == "é"
    m(0)
    assert m.s == "é"
    m(1)
    with pytest.raises(UnicodeDecodeError, match="byte 0xc3 in position 0: unexpected end"):
        m.s
    m.s = "é"       # (a whole str again, for the suite's save / load check of m)
    assert m.s == "é"


def _sorted_dict():
    d = {"b": 1, "a": 2}
    return sorted(d)


def _sorted_dict_keys():
    d = {"b": 1, "a": 2}
    return sorted(d.keys())


def test_sorted_of_a_dict_is_refused():
    with pytest.raises(RuntimeError, match=re.escape("Arguments for call are not valid.")):
        torch.jit.script(_sorted_dict)
    assert torch.jit.script(_sorted_dict_keys)() == ["a", "b"]


def _str_of_object():
    return str(_KOnlyEq(1))


def _format_of_object():
    return "{}".format(_KOnlyEq(1))


def test_str_of_object_without_dunder_str():
    with pytest.raises(RuntimeError, match=re.escape(
            "_KOnlyEq' object has no attribute or method '__str__'. Did you forget to "
            "initialize an attribute in __init__()?")):
        torch.jit.script(_str_of_object)
    assert re.fullmatch(r"<__torch__\.[\w.]*_KOnlyEq object at 0x[0-9a-f]+>",
                        torch.jit.script(_format_of_object)())
