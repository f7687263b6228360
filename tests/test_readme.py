"""The README opens with the two commands a new user types: one runs the demo, one the tests.
CI (ci/test.sh) installs with the same pip line as the test command."""
import pathlib
import re
import shlex

ROOT = pathlib.Path(__file__).resolve().parent.parent


def first_code_block(text):
    m = re.search(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)
    assert m, "README.md has no code block"
    return m.group(1)


def commands():
    block = first_code_block((ROOT / "README.md").read_text(encoding="utf-8"))
    return [line for line in block.splitlines() if line.strip() and
            not line.lstrip().startswith("#")]


def steps(command):
    return [shlex.split(part) for part in command.split("&&")]


def test_first_code_block_is_exactly_two_commands():
    cmds = commands()
    assert len(cmds) == 2, cmds
    demo, tests = cmds
    assert ["python", "-m", "gpujit"] in steps(demo)
    assert any(s[:3] == ["python", "-m", "pytest"] or s[:1] == ["pytest"]
               for s in steps(tests))


def test_both_commands_start_from_a_fresh_venv_and_install_the_checkout():
    for cmd in commands():
        s = steps(cmd)
        assert s[0][:3] == ["python", "-m", "venv"]
        assert any(step[:3] == ["pip", "install", "-e"] for step in s)


def test_the_first_code_block_comes_right_after_the_title():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    before = text[:text.index("```")]
    paragraphs = [p for p in before.split("\n\n") if p.strip()]
    assert paragraphs[0].startswith("# ") and len(paragraphs) == 2


def test_ci_installs_with_the_readme_test_command():
    readme_install = next(step for step in steps(commands()[1]) if step[:2] == ["pip", "install"])
    ci = (ROOT / "ci" / "test.sh").read_text(encoding="utf-8")
    ci_install = [shlex.split(line) for line in ci.splitlines() if "pip install" in line]
    assert len(ci_install) == 1
    args = [a for a in ci_install[0][ci_install[0].index("install") + 1:] if a != "-q"]
    assert args == readme_install[2:]
    assert "python -m pytest" in ci
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("bash ci/test.sh")
