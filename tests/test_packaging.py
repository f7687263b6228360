"""pyproject.toml names every package, so a non-editable `pip install .` ships them all."""
import os

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_package_is_listed_in_pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        tool = tomllib.load(f)["tool"]["setuptools"]
    listed = set(tool["packages"])
    package_dir = tool["package-dir"]
    found = set()
    for name, rel in package_dir.items():
        top = os.path.join(ROOT, rel)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            if "__init__.py" in filenames:
                sub = os.path.relpath(dirpath, top)
                found.add(name if sub == "." else name + "." + sub.replace(os.sep, "."))
    assert found - listed == set(), f"packages missing from pyproject.toml: {sorted(found - listed)}"
