"""`scripted_module._c`, torch 2.13's torch._C.ScriptModule of a RecursiveScriptModule
(a60; it raised AttributeError): the methods (_has_method, _get_method, _method_names,
calls through it), the attributes (hasattr / getattr / setattr, a submodule's own _c, a
missing one in torch's words), _type() and qualified_name, as torch 2.13 answers."""
import re

import numpy as np
import pytest

import gpujit as torch


class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 2)
        self.k = 3

    def forward(self, x):
        return self.lin(x) * self.k

    @torch.jit.export
    def other(self, x):
        return x + 1


def test_methods_through_c():
    m = torch.jit.script(M())
    c = m._c
    assert type(c).__name__ == "ScriptModule" and isinstance(c, torch._C.ScriptModule)
    assert c._has_method("forward") and c._has_method("other") and not c._has_method("nope")
    assert c._method_names() == ["forward", "other"]
    meth = c._get_method("forward")
    assert type(meth).__name__ == "ScriptMethod" and meth.name == "forward"
    assert meth.graph is m.forward.graph
    assert c._get_method("other")(torch.ones(2)).tolist() == [2.0, 2.0]
    np.testing.assert_allclose(c.forward(torch.ones(2)).detach().numpy(),
                               m(torch.ones(2)).detach().numpy())
    with pytest.raises(RuntimeError, match="Method 'nope' is not defined."):
        c._get_method("nope")


def test_attributes_through_c():
    m = torch.jit.script(M())
    c = m._c
    assert c.hasattr("k") and c.hasattr("lin") and c.hasattr("training")
    assert not c.hasattr("zz") and not c.hasattr("forward")
    assert m.lin._c.hasattr("in_features") and m.lin._c.getattr("in_features") == 2
    assert m.lin._c.hasattr("weight") and m.lin._c.hasattr("bias")
    assert c.getattr("k") == 3 and c.getattr("training") is True
    sub = c.getattr("lin")
    assert type(sub).__name__ == "ScriptModule" and sub == m.lin._c
    assert sub.getattr("weight") is m.lin.weight
    c.setattr("k", 5)
    assert c.getattr("k") == 5 and m.k == 5
    with pytest.raises(AttributeError, match=r"^__torch__\.\S*M \(of Python compilation unit "
                                             r"at: 0x[0-9a-f]+\) does not have a field with "
                                             r"name 'nope'$"):
        c.getattr("nope")


def test_type_and_names_through_c(tmp_path):
    m = torch.jit.script(M())
    c = m._c
    assert c._type().name() == "M"
    assert str(c._type()) == c.qualified_name
    assert re.fullmatch(r"__torch__\.test_script_module_c_a60\.(___torch_mangle_\d+\.)?M",
                        c.qualified_name)
    c.save(str(tmp_path / "m.pt"))          # (torch's takes a file name)
    loaded = torch.jit.load(str(tmp_path / "m.pt"))
    assert loaded._c._has_method("other")


def test_traced_module_c():
    t = torch.jit.trace(torch.nn.Linear(2, 2), torch.ones(2))
    assert t._c._method_names() == ["forward"]
    assert "aten::linear" in str(t._c._get_method("forward").graph)
    assert t._c.hasattr("weight") and t._c._type().name() == "Linear"
