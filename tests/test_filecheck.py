"""gpujit.testing.FileCheck (torch.testing.FileCheck / torch._C.FileCheck): the checks
TorchScript tests chain over graphs and text, with PyTorch's semantics and messages
(expected strings below are PyTorch 2.13's)."""
import random

import pytest

import gpujit as torch
from gpujit.testing import FileCheck

TEXT = ("graph(%x):\n  %1 = aten::add(%x, %x)\n  %2 = aten::mul(%1, %1)\n"
        "  return (%2)\n")


def _fails(fc, text=TEXT):
    with pytest.raises(RuntimeError) as e:
        fc.run(text)
    return str(e.value)


def test_exposed_like_torch():
    assert torch._C.FileCheck is FileCheck
    assert torch.testing.FileCheck is FileCheck


def test_passing_chains():
    FileCheck().check("aten::add").check("aten::mul").check("return").run(TEXT)
    FileCheck().check_not("aten::sub").check("aten::add").check_not("aten::sub").run(TEXT)
    FileCheck().check("aten::add").check_next("aten::mul").check_same("(%1").run(TEXT)
    FileCheck().check_count("aten::", 2, exactly=True).run(TEXT)
    FileCheck().check_count("%x", 2).check("aten::mul").run(TEXT)
    FileCheck().check_dag("aten::mul").check_dag("aten::add").check("return").run(TEXT)
    FileCheck().check_regex(r"aten::[a-z]+\(%1").check_same("%1)").run(TEXT)
    FileCheck().check_count("aten::sub", 0, exactly=True).run(TEXT)


def test_check_not_found_message():
    assert _fails(FileCheck().check("aten::mul").check("aten::add")) == (
        'Expected to find "aten::add" but did not find it\nSearched string:\n'
        "graph(%x):\n  %1 = aten::add(%x, %x)\n  %2 = aten::mul(%1, %1)\n"
        "From CHECK: aten::add\n")


def test_check_not_message_highlights_the_match():
    assert _fails(FileCheck().check_not("aten::add")) == (
        'Expected to not find "aten::add" but found it\ngraph(%x):\n'
        "  %1 = aten::add(%x, %x)\n       ~~~~~~~~~ <--- HERE\n  %2 = aten::mul(%1, %1)\n"
        "  return (%2)\nFrom CHECK-NOT: aten::add\n")


def test_check_not_only_between_its_neighbours():
    FileCheck().check("aten::mul").check_not("aten::add").check("return").run(TEXT)
    msg = _fails(FileCheck().check("add").check_not("mul").check("return"))
    assert msg.startswith('Expected to not find "mul" but found it')
    assert "             ~~~ <--- HERE" in msg and msg.endswith("From CHECK-NOT: mul\n")


def test_check_count_exactly():
    msg = _fails(FileCheck().check_count("aten", 1, exactly=True))
    assert msg.startswith('Expected to not find "aten" but found it')
    assert "  %2 = aten::mul(%1, %1)\n       ~~~~ <--- HERE" in msg
    msg = _fails(FileCheck().check_count("aten", 3))
    assert msg.endswith("From CHECK-COUNT-3: aten\n")
    with pytest.raises(RuntimeError, match="Count == 0"):
        FileCheck().check_count("aten", 0)


def test_check_same_and_next():
    msg = _fails(FileCheck().check("graph").check_same("mul"))
    assert msg.startswith('Expected to not find "\\n" but found it')
    assert msg.endswith("From CHECK-SAME: mul\n")
    assert _fails(FileCheck().check_next("%2")).endswith("From CHECK-NEXT: %2\n")
    assert _fails(FileCheck().check("add").check_next("foo")).startswith(
        'Expected to find "foo" but did not find it')


def test_check_dag_group_then_not():
    msg = _fails(FileCheck().check_dag("mul").check_dag("add").check_not("return"))
    assert msg.startswith('Expected to not find "return"') and "  ~~~~~~ <--- HERE" in msg


def test_check_regex():
    assert _fails(FileCheck().check_regex("zzz")) == (
        'Expected to find regex "zzz" but did not find it\nSearched string:\n'
        "From CHECK-REGEX: zzz\n")
    # the next check starts after the text the regex matched
    FileCheck().check_regex("a+d").check_same("(%x").run(TEXT)
    with pytest.raises(RuntimeError, match="Expected to find"):
        FileCheck().check("mul").check_regex("ret").check("aten::add").run(TEXT)


def test_check_source_highlighted():
    src = "x = foo(a)\n    ~~~ <--- HERE\ny\n"
    FileCheck().check_source_highlighted("foo").run(src)
    assert _fails(FileCheck().check_source_highlighted("add")) == (
        'Expected to find "add"highlighted but it is not.\ngraph(%x):\n~~~ <--- HERE\n'
        "  %1 = aten::add(%x, %x)\n  %2 = aten::mul(%1, %1)\n")


def test_no_checks():
    with pytest.raises(RuntimeError, match="No checks have been added"):
        FileCheck().run(TEXT)


def test_directives():
    FileCheck().run("# CHECK: add\n# CHECK-NEXT: mul\n# CHECK-NOT: zz\n#CHECK-SAME: (%1",
                    TEXT)
    FileCheck().run("# CHECK-COUNT-2: aten\n# CHECK: return", TEXT)
    FileCheck().run("# CHECK-COUNT-EXACTLY-2: aten", TEXT)
    FileCheck().run("# CHECK-DAG: mul\n# CHECK-DAG: add\n# CHECK-NOT: aten\n"
                    "# CHECK: return", TEXT)
    with pytest.raises(RuntimeError, match="Expected to not find"):
        FileCheck().run("# CHECK-COUNT-EXACTLY-3: %", TEXT)
    with pytest.raises(RuntimeError) as e:
        FileCheck().run("#   CHECK-FOO: x", TEXT)
    assert str(e.value) == ("Could not parse check at:\n#   CHECK-FOO: x\n         ~ <--- HERE\n"
                            "Check for bad input.")


def test_str_lists_checks():
    fc = FileCheck().check("a").check_count("b", 2)
    assert str(fc) == "FileCheck checks:\n\tCHECK: a\n\tCHECK-COUNT-2: b\n"


def _scripted(x, y):
    z = x + y
    if bool(z.sum() > 0):
        z = z * 2
    return torch.relu(z)


def test_on_gpujit_graphs():
    f = torch.jit.script(_scripted)
    FileCheck().check("aten::add").check("prim::If").check("aten::mul") \
        .check_count("aten::relu", 1, exactly=True).run(f.graph)
    FileCheck().check_not("aten::sub").check("return").run(str(f.graph))
    with pytest.raises(RuntimeError, match='Expected to find "aten::sub"'):
        FileCheck().check("aten::sub").run(f.graph)
    FileCheck().check("def _scripted").check("torch.relu").run(f.code)


def test_same_as_torch_on_random_programs():
    tt = pytest.importorskip("torch")
    texts = [TEXT, "a b a\nb a c\n  c\nd a b\n", "foo\n bar ~~~\n  ~~~\nbar\nbaz",
             "x = foo(a)\n    ~~~ <--- HERE\ny\n"]
    words = ["a", "b", "c", "aten", "add", "mul", "%1", "\n", "graph", "return", "zz", "~",
             "bar", "(%x", "foo"]
    kinds = ["check", "check_not", "check_same", "check_next", "check_count", "check_dag",
             "check_source_highlighted"]

    def outcome(cls, prog, text):
        fc = cls()
        for k, w, n, ex in prog:
            if k == "check_count":
                fc.check_count(w, n, exactly=ex)
            else:
                getattr(fc, k)(w)
        try:
            fc.run(text)
            return "ok"
        except RuntimeError as e:
            return str(e)

    rnd = random.Random(1)
    for _ in range(400):
        prog = [(rnd.choice(kinds), rnd.choice(words), rnd.randint(1, 3), rnd.random() < .5)
                for _ in range(rnd.randint(1, 4))]
        text = rnd.choice(texts)
        assert outcome(FileCheck, prog, text) == outcome(tt.testing.FileCheck, prog, text), \
            (prog, text)
