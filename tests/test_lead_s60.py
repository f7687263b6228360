"""Session 60, lead: fixes found by the full run after the helpers' merges."""
from gpujit.ir import parse_ir
from gpujit.jit.objects import _quoted


def test_lone_surrogate_string_constant_prints_and_parses_back():
    # (a torch-written archive's str with an undecodable byte is a surrogateescape str;
    # b60's c10-style quoting printed the surrogate raw and the text could not be encoded)
    assert _quoted("a\udcc3b") == '"a\\udcc3b"'
    assert _quoted("it's\x01") == '"it\\\'s\\001"'
    text = 'graph():\n  %0 : str = prim::Constant[value="a\\udcc3b"]()\n  return (%0)\n'
    g = parse_ir(text)
    printed = str(g)
    printed.encode("utf-8")          # (raised UnicodeEncodeError)
    assert "\\udcc3" in printed
    assert str(parse_ir(printed)) == printed
    const = next(n for n in g.nodes if n.kind == "prim::Constant")
    assert const.attrs["value"] == "a\udcc3b"
