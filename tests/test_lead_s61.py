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


def test_linalg_functions_name_themselves_as_torch():
    """torch.linalg's functions are named linalg_<name> (their __name__ and their
    parser's errors); f61's alias renaming had turned linalg_matrix_norm() into
    matrix_norm() (torch 2.13's text below)."""
    import pytest
    import gpujit
    assert gpujit.linalg.matrix_norm.__name__ == "linalg_matrix_norm"
    assert gpujit.linalg.inv.__name__ == "linalg_inv"
    with pytest.raises(TypeError, match=r"^linalg_matrix_norm\(\) received an invalid "
                                        r"combination of arguments - got \(Tensor, str, float\)"):
        gpujit.linalg.matrix_norm(gpujit.ones(1, 3), "a", 0.5)
    with pytest.raises(TypeError, match=r"^matrix_power\(\): argument 'n' \(position 2\) must "
                                        r"be int, not str"):
        gpujit.matrix_power(gpujit.ones(2, 2), "a")


def test_traced_set_records_the_not_implemented_derivative():
    """A traced Tensor.set_ (c61's aten::set_.source_Tensor) of a tensor that requires
    grad: backward raises torch 2.13's words, no silent zero gradient."""
    import pytest
    import gpujit

    def f(x, y):
        z = x.clone()
        z.set_(y * 2)
        return z

    x = gpujit.zeros(3)
    y = gpujit.ones(3, requires_grad=True)
    t = gpujit.jit.trace(f, (x, y), check_trace=False)
    out = t(x, y)
    assert out.tolist() == [2.0, 2.0, 2.0] and out.requires_grad
    with pytest.raises(RuntimeError, match="derivative for set_ is not implemented"):
        out.sum().backward()
