"""Every graph text the pass tests use, before and after, prints back exactly as it was
parsed (print -> parse -> print): the expected texts are real graphs, not typos the
printer happens to produce."""
import importlib

import pytest

from gpujit.ir import parse_ir

MODULES = ["test_passes_alias_analysis", "test_passes_constant_propagation",
           "test_passes_cse", "test_passes_dce", "test_passes_inline",
           "test_passes_loop_unroll", "test_passes_peephole", "test_passes_pipeline"]


def _graphs():
    for name in MODULES:
        for i, text in enumerate(importlib.import_module(name).GRAPHS):
            yield pytest.param(text, id=f"{name[len('test_passes_'):]}-{i}")


@pytest.mark.parametrize("text", list(_graphs()))
def test_round_trip(text):
    g = parse_ir(text)
    g.lint()
    assert str(g) == text
    again = parse_ir(str(g))
    again.lint()
    assert str(again) == text


def test_every_pass_test_module_is_covered():
    import pathlib
    here = pathlib.Path(__file__).parent
    found = {p.stem for p in here.glob("test_passes_*.py")} - {"test_passes_roundtrip"}
    assert found == set(MODULES)
