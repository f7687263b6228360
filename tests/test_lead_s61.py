"""Lead, session 61: fixes made while merging the helpers' branches."""
import textwrap

from gpujit.ir import parse_ir
from gpujit.passes.cse import eliminate_common_subexpressions


def _cse(text):
    g = parse_ir(textwrap.dedent(text).lstrip("\n"))
    eliminate_common_subexpressions(g)
    g.lint()
    return str(g)


def test_cse_merges_attribute_reads_that_are_not_returned():
    """c61 keeps two nodes apart whose results are both returned (TorchScript's 'no new
    aliasing among graph outputs'); a module attribute read is a wildcard value, but only
    a returned value counts: `self.l(self.d(relu(self.l(x))))` reads l's weight once (its
    DifferentiableGraph takes 3 inputs, as torch's), where the first version of the rule
    kept both reads."""
    out = _cse("""
        graph(%m : __torch__.M,
              %x : Tensor):
          %w : Tensor = prim::GetAttr[name="weight"](%m)
          %a : Tensor = aten::mul(%x, %w)
          %w.1 : Tensor = prim::GetAttr[name="weight"](%m)
          %b : Tensor = aten::mul(%a, %w.1)
          return (%b)
        """)
    assert out.count('prim::GetAttr[name="weight"]') == 1, out
    assert "aten::mul(%a, %w)" in out, out


def test_cse_keeps_two_returned_results_apart():
    out = _cse("""
        graph(%m : __torch__.M,
              %x : Tensor):
          %a : Tensor = aten::tanh(%x)
          %b : Tensor = aten::tanh(%x)
          %w : Tensor = prim::GetAttr[name="weight"](%m)
          %w.1 : Tensor = prim::GetAttr[name="weight"](%m)
          return (%a, %b, %w, %w.1)
        """)
    assert out.count("aten::tanh") == 2 and out.count("prim::GetAttr") == 2, out
