"""The README's snippets and the names it states, checked so the README cannot rot silently.

- Every ```python block that starts with an `import` is a program: it runs in a fresh
  process (from a file, so `torch.jit.script` reads its source) and, when a ```text block
  follows it, prints exactly that text. The README says the program prints the same under
  `import torch`: checked with torch 2.13 where it is installed. A block that uses CUDA
  runs only where a GPU is present.
- The "Adding an op" block is a declaration: it is registered (renamed, in a fresh process)
  and its entry points, in-place variant and scalar expression are checked.
- `python -m gpujit --help` has the options the README lists; the Python version the
  README names is pyproject's requires-python; the pip extras it names exist; every
  GPUJIT_* variable the code reads is in the README and the README names no other; the
  GPUJIT_DUMP entries are the ones gpujit knows; every repository path in backticks exists;
  every `gpujit.x.y` / `torch.x.y` name resolves (except those the README calls missing).
(tests/test_readme.py checks the two set-up commands.)"""
import importlib
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

# names the README writes in backticks that are not meant to exist (it says so)
ABSENT = set()


def blocks():
    """[(lang, code, line)] of the README's fenced blocks, in order."""
    out = []
    for m in re.finditer(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", README, re.M | re.S):
        out.append((m.group(1).strip(), m.group(2), README.count("\n", 0, m.start()) + 1))
    return out


def programs():
    """[(code, expected stdout or None, line)]: python blocks that start with an import."""
    bl = blocks()
    progs = []
    for i, (lang, code, line) in enumerate(bl):
        first = code.lstrip().split("\n", 1)[0]
        if lang != "python" or not first.startswith(("import ", "from ")):
            continue
        expected = None
        if i + 1 < len(bl) and bl[i + 1][0] == "text":
            between = README[README.index(code) + len(code):].split("```text", 1)[0]
            if between.strip("`\n \t") == "":
                expected = bl[i + 1][1]
        progs.append((code, expected, line))
    return progs


def _env():
    env = dict(os.environ)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def _run(code, tmp_path, name="snippet.py"):
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=180, cwd=tmp_path, env=_env())


def _lines(text):
    return [ln.rstrip() for ln in text.rstrip().splitlines()]


def _uses_cuda(code):
    return re.search(r"""["']cuda|\.cuda\(""", code) is not None


def test_the_readme_has_a_program_with_its_output():
    progs = programs()
    assert progs, "no runnable python block in README.md"
    assert any(expected is not None for _, expected, _ in progs)


@pytest.mark.parametrize("code,expected,line", programs(),
                         ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_program_runs_and_prints_its_text(code, expected, line, tmp_path):
    if _uses_cuda(code):
        import gpujit
        if not gpujit.cuda.is_available():
            pytest.skip("README block needs a GPU")
    r = _run(code, tmp_path)
    assert r.returncode == 0, f"README.md:{line}: the block failed:\n{r.stderr}"
    if expected is not None:
        assert _lines(r.stdout) == _lines(expected), f"README.md:{line}:\n{r.stdout}"


@pytest.mark.parametrize("code,expected,line", programs(),
                         ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_program_prints_the_same_under_torch(code, expected, line, tmp_path):
    if "import gpujit as torch" not in code or expected is None or _uses_cuda(code):
        pytest.skip("not a program the README runs under torch")
    pytest.importorskip("torch")
    r = _run(code.replace("import gpujit as torch", "import torch"), tmp_path, "with_torch.py")
    assert r.returncode == 0, r.stderr
    assert _lines(r.stdout) == _lines(expected)


def _section(title):
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert m, f"README.md has no section {title!r}"
    return m.group(1)


def test_adding_an_op_block_registers_as_it_says(tmp_path):
    sec = _section("Adding an op")
    m = re.search(r"```python\n(.*?)```", sec, re.S)
    assert m, "the 'Adding an op' section lost its example"
    decl = m.group(1)
    assert "aten::sigmoid(" in decl and "def sigmoid(" in decl
    # the same declaration under a new name (aten::sigmoid is registered already)
    renamed = decl.replace("aten::sigmoid(", "aten::readme_sigmoid(").replace(
        "def sigmoid(", "def readme_sigmoid(")
    prog = ("import numpy as np\nimport gpujit\nfrom gpujit.ops.registry import op, get\n"
            + renamed +
            "\nx = gpujit.tensor([-1.0, 0.0, 2.0])\n"
            "got = gpujit.ops.aten.readme_sigmoid(x)\n"
            "assert np.allclose(got.numpy(), 1 / (1 + np.exp(-x.numpy())))\n"
            "assert got.dtype == gpujit.float32\n"
            "i = gpujit.tensor([0, 1])\n"
            "assert gpujit.ops.aten.readme_sigmoid(i).dtype == gpujit.float32  # promote\n"
            "d = get('aten::readme_sigmoid')\n"
            "assert 'pointwise' in d.tags and d.scalar == '1 / (1 + exp(-{self}))'\n"
            "assert d.inplace_variant is not None\n"
            "assert 'aten::readme_sigmoid' in gpujit.get_ops()\n"
            "print('ok')\n")
    r = _run(prog, tmp_path, "add_op.py")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    # and the op it shows is the registry's sigmoid, with the same schema and scalar rule
    src = (ROOT / "gpujit" / "ops" / "pointwise_math.py").read_text(encoding="utf-8")
    assert '@op("aten::sigmoid(Tensor self) -> Tensor"' in src
    assert 'scalar="1 / (1 + exp(-{self}))"' in src


def test_demo_help_lists_the_options_the_readme_names(capsys):
    # (the demo's argument parser in this process: `python -m gpujit --help` itself runs
    # in test_issue5_user_s28.py)
    from gpujit.__main__ import parse_args
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--help"])
    assert exit_.value.code == 0
    helptext = capsys.readouterr().out
    assert helptext.startswith("usage: python -m gpujit")
    m = re.search(r"`--only ([a-z|]+)`", README)
    assert m, "README no longer names --only's choices"
    assert "{" + m.group(1).replace("|", ",") + "}" in helptext
    assert "`--device cpu|cuda|cuda:N`" in README and "--device DEVICE" in helptext
    assert "cpu, cuda or cuda:N" in helptext
    assert "`--version`" in README and "--version" in helptext


def test_python_version_agrees_with_requires_python():
    m = re.search(r"Python (3\.\d+) or newer", README)
    assert m, "README no longer says which Python it needs"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    req = re.search(r'^requires-python = ">=(3\.\d+)"', pyproject, re.M)
    assert req and req.group(1) == m.group(1)
    assert f'"Programming Language :: Python :: {m.group(1)}"' in pyproject


def test_pip_extras_named_in_the_readme_exist():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extras = set(re.findall(r"^(\w+) = \[", pyproject.split("[project.optional-dependencies]")[1]
                            .split("\n[")[0], re.M))
    named = set(re.findall(r'"(?:\.|gpujit)\[(\w+)\]"', README))
    assert named and named <= extras, named - extras


def _code_env_vars():
    found = set()
    for sub in ("gpujit", "fusers", "kernels"):
        for p in (ROOT / sub).rglob("*.py"):
            found.update(re.findall(r"GPUJIT_[A-Z0-9_]*[A-Z0-9]", p.read_text(encoding="utf-8")))
    return found


def test_every_environment_variable_is_documented_and_exists():
    in_readme = set(re.findall(r"GPUJIT_[A-Z0-9_]*[A-Z0-9]", README))
    in_code = _code_env_vars()
    assert in_code - in_readme == set(), "read by gpujit, missing from README.md"
    assert in_readme - in_code == set(), "named in README.md, read nowhere"


def test_dump_entries_are_the_ones_gpujit_knows():
    from gpujit._dump import DUMP_FLAGS
    sec = _section("Seeing what gpujit generates")
    listed = set()
    for item in re.findall(r"^- ((?:`\w+`(?:, )?)+):", sec, re.M):
        listed.update(re.findall(r"`(\w+)`", item))
    assert listed == set(DUMP_FLAGS)


def test_repository_paths_in_backticks_exist():
    missing = []
    for p in set(re.findall(r"`((?:gpujit|fusers|kernels|tests|benchmarks|examples|ci)/"
                            r"[^`\s:]*)`", README)):
        p = re.sub(r"<[^>]*>", "*", p)       # benchmarks/results/eager-<device>.json
        if not (list(ROOT.glob(p)) if "*" in p else (ROOT / p).exists()):
            missing.append(p)
    assert not missing, missing
    # file names given after a folder (`gpujit/ops/reduction_extra.py`, `reduction_quantile.py`)
    names = set(re.findall(r"`([a-z_0-9]+\.py)`", README))
    have = {p.name for sub in ("gpujit", "fusers", "kernels", "tests", "benchmarks", "examples")
            for p in (ROOT / sub).rglob("*.py")}
    assert names <= have, names - have


_OPTIONAL_PACKAGES = {"tensorboard"}


def test_api_names_resolve():
    import gpujit
    bad = []
    for name in sorted(set(re.findall(r"\b(?:gpujit|torch)(?:\.[A-Za-z_]\w*)+", README))):
        if name in ABSENT:
            continue
        obj, parts = gpujit, name.split(".")[1:]
        for i, part in enumerate(parts):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                try:
                    obj = importlib.import_module("gpujit." + ".".join(parts[:i + 1]))
                except ImportError as e:
                    # (a module that needs an optional package this machine lacks, as
                    # torch's does: gpujit.utils.tensorboard without tensorboard)
                    if getattr(e, "name", None) not in _OPTIONAL_PACKAGES:
                        bad.append(name)
                    break
    assert not bad, bad


def test_absent_names_are_absent():
    import gpujit
    for name in ABSENT:
        assert not hasattr(gpujit, name.split(".", 1)[1]), f"{name} exists now: README says not"
