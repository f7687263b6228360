"""What gpujit compiles dies with the user's last reference, at one collection (s54: three
caches in a row kept scripted functions alive -- a cyclic helper of the torch-names replay,
gpujit.script's weak-keyed table whose values reached their keys, a parsed-tree cache keyed
by the function): scripted and traced functions, with and without gradients, scripted and
traced modules, a saved and loaded module, and the kernels they made."""
from __future__ import annotations

import gc
import io
import weakref

import pytest

import gpujit
from gpujit.kernels import cache as kcache


def _script():
    def life_chain(x, y):
        return gpujit.tanh(x * 0.3 + y) * gpujit.sigmoid(x - y)
    sf = gpujit.jit.script(life_chain)
    for _ in range(3):
        sf(gpujit.rand(5), gpujit.rand(5))
    return {"function": life_chain, "scripted": sf}


def _script_grad():
    def life_chain_grad(x, y):
        return gpujit.tanh(x * 0.3 + y) * gpujit.sigmoid(x - y)
    sf = gpujit.jit.script(life_chain_grad)
    x = gpujit.rand(5, requires_grad=True)
    for _ in range(3):
        sf(x, gpujit.rand(5)).sum().backward()
    return {"function": life_chain_grad, "scripted": sf, "input": x}


def _trace():
    def life_traced(x, y):
        return gpujit.tanh(x * 0.3 + y) * gpujit.sigmoid(x - y)
    tf = gpujit.jit.trace(life_traced, (gpujit.rand(5), gpujit.rand(5)))
    for _ in range(3):
        tf(gpujit.rand(5), gpujit.rand(5))
    return {"function": life_traced, "traced": tf}


class _Block(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = gpujit.nn.Linear(4, 4)

    def forward(self, x):
        return gpujit.relu(self.lin(x)) * 0.5 + x


def _script_module():
    m = _Block()
    sm = gpujit.jit.script(m)
    for _ in range(3):
        sm(gpujit.rand(2, 4))
    return {"module": m, "scripted": sm}


def _save_load():
    sm = gpujit.jit.script(_Block())
    buf = io.BytesIO()
    gpujit.jit.save(sm, buf)
    buf.seek(0)
    lm = gpujit.jit.load(buf)
    for _ in range(3):
        lm(gpujit.rand(2, 4))
    return {"scripted": sm, "loaded": lm}


def _trace_module():
    m = gpujit.nn.Sequential(gpujit.nn.Linear(4, 4), gpujit.nn.Tanh())
    tm = gpujit.jit.trace(m, gpujit.rand(2, 4))
    for _ in range(3):
        tm(gpujit.rand(2, 4))
    return {"module": m, "traced": tm}


@pytest.mark.no_save_roundtrip          # (the conftest's own save/load would hold them)
@pytest.mark.parametrize("make", [_script, _script_grad, _trace, _script_module, _save_load,
                                  _trace_module], ids=lambda f: f.__name__.strip("_"))
def test_compiled_objects_die_at_one_collection(make):
    old = gpujit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 2)])
    try:
        gc.collect()
        makers_before = {id(m) for m in kcache._makers}
        objs = make()
        made = [weakref.ref(m) for m in kcache._makers if id(m) not in makers_before]
        refs = {k: weakref.ref(v) for k, v in objs.items()}
        del objs
        gc.collect()
        assert [k for k, r in refs.items() if r() is not None] == []
        # (a backward's fusion group too: autodiff kept its traced backward graphs in a table
        # weakly keyed by the function's FusionBudget, emptied only during the collection
        # that freed the budget, so the group went at the collection after)
        assert [r() for r in made if r() is not None] == []
    finally:
        gpujit.set_fusion_strategy(old)
