"""x.is_cuda / x.is_sparse ... are TorchScript's prim:: ops (prim::is_cuda), gpujit's
registry's aten:: ones (c59): graphs print and n.kind() name them as torch 2.13 does, and
a graph text written with torch's spelling parses and runs."""
import gpujit as torch


def test_scripted_graph_prints_prim_is_cuda():
    def f(x):
        return x.is_cuda, x.is_sparse, x.is_cpu
    g = torch.jit.script(f).graph
    text = str(g)
    assert "prim::is_cuda(%x" in text and "prim::is_sparse(" in text and \
        "prim::is_cpu(" in text and "aten::is_" not in text
    kinds = [n.kind() for n in g.nodes()]
    assert kinds[:3] == ["prim::is_cuda", "prim::is_sparse", "prim::is_cpu"]
    assert torch.jit.script(f)(torch.ones(2)) == (False, False, True)


def test_parsed_prim_is_cuda_runs():
    g = torch._C.parse_ir("""graph(%x : Tensor):
  %a : bool = prim::is_cuda(%x)
  %b : bool = prim::is_cpu(%x)
  return (%a, %b)""")
    assert "prim::is_cuda(%x)" in str(g)
    f = torch._C._create_function_from_graph("f", g)
    assert f(torch.ones(2)) == (False, True)


def test_if_drops_a_chain_operand_known_not_to_decide():
    # torch 2.13: `if a and True:` tests a alone; a value (`b = a and True`) keeps the If
    def f(x, a: bool):
        if a and True:
            x = x + 1
        if a or False:
            x = x + 2
        b = a and True
        return x, b
    s = torch.jit.script(f)
    assert s.code == """def f(x: Tensor,
    a: bool) -> Tuple[Tensor, bool]:
  if a:
    x0 = torch.add(x, 1)
  else:
    x0 = x
  if a:
    x1 = torch.add(x0, 2)
  else:
    x1 = x0
  if a:
    b = True
  else:
    b = False
  return (x1, b)
"""
    assert s(torch.zeros(1), True)[0].item() == 3 and s(torch.zeros(1), False)[0].item() == 0


def test_tensor_attribute_prims_named_as_torch():
    # x.layout is TorchScript's prim::layout (not a folded 0); the attribute prims carry
    # no source range, and the values keep torch 2.13's names and numbers
    def f(x):
        a = x.is_cuda
        b = x.layout
        c = x.requires_grad
        d = float(x.size(0))
        return a, b, c, d, x.is_sparse
    s = torch.jit.script(f)
    assert "\n".join(ln.split(" # ")[0] for ln in str(s.graph).splitlines()) == """\
graph(%x.1 : Tensor):
  %8 : int = prim::Constant[value=0]()
  %a.1 : bool = prim::is_cuda(%x.1)
  %b.1 : int = prim::layout(%x.1)
  %c.1 : bool = prim::requires_grad(%x.1)
  %9 : int = aten::size(%x.1, %8)
  %d.1 : float = aten::Float(%9)
  %17 : bool = prim::is_sparse(%x.1)
  %18 : (bool, int, bool, float, bool) = prim::TupleConstruct(%a.1, %b.1, %c.1, %d.1, %17)
  return (%18)"""
    assert s(torch.ones(2)) == (False, 0, False, 2.0, False)

    def g(x):
        return x.layout
    sg = torch.jit.script(g)
    assert sg.code == "def g(x: Tensor) -> int:\n  return ops.prim.layout(x)\n"
    import io
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(g), buf)
    buf.seek(0)
    assert torch.jit.load(buf)(torch.ones(2)) == 0
