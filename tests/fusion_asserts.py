"""What the fuser test ports share: reading an optimized graph as PyTorch's tests do.

graph_for shows each fusion group as TorchScript does: a guard (prim::TypeCheck, or
prim::TensorExprDynamicGuard) feeding a prim::If whose block0 holds the
prim::TensorExprGroup and block1 the fallback call. `fast_path` is what runs when every
guard passes (the nodes PyTorch's assertAllFused looks at).

A call that records gradients shows its DifferentiableGraph regions as torch 2.13 does
(jit/region_display.py): a prim::RequiresGradCheck guarding a prim::If whose block0 holds
the prim::DifferentiableGraph node, the region's ops (fusion groups among them) in its
Subgraph. The helpers look inside those subgraphs as PyTorch's assertAllFused does."""

GROUP = "prim::TensorExprGroup"
DIFF_GRAPH = "prim::DifferentiableGraph"
GUARDS = {"prim::TypeCheck", "prim::RequiresGradCheck", "prim::TensorExprDynamicGuard"}


def is_guarded_if(n):
    return n.kind() == "prim::If" and n.inputsAt(0).node().kind() in GUARDS


def fast_path(block):
    """block's nodes (a graph's top block), each guarded prim::If replaced by the nodes of
    its block0 and each prim::DifferentiableGraph by its subgraph's (recursively)."""
    out = []
    for n in block.nodes():
        if is_guarded_if(n):
            out += fast_path(list(n.blocks())[0])
        elif n.kind() == DIFF_GRAPH:
            out += fast_path(n.g("Subgraph"))
        else:
            out.append(n)
    return out


def fast_path_kinds(graph):
    return [n.kind() for n in fast_path(graph)]


def unguarded(v):
    """The value a group input stands for: a prim::TypeCheck passes its inputs on as
    its outputs (the checked types)."""
    n = v.node()
    return n.inputsAt(v.offset) if n.kind() == "prim::TypeCheck" else v


def plan_steps(spec):
    """Every step of a specialization's recording plan, those inside If / Loop blocks
    (kinds 4 and 5) included, innermost-last order."""
    stack = list(spec.recording[4]) if spec.recording else []
    while stack:
        st = stack.pop()
        yield st
        if st[0] == 4:
            for bsteps, _ in st[4]:
                stack.extend(bsteps)
        elif st[0] == 5:
            stack.extend(st[4][0])


def region_group_runners(spec):
    """The fusion-group runners a specialization's recording plan differentiates in its
    DifferentiableGraph regions (a48: the plan's kind-10 steps)."""
    return [st[1] for st in plan_steps(spec) if st[0] == 10]


def find_fusion_groups(graph):
    """The subgraphs of the graph's fusion groups, in blocks and DifferentiableGraph
    subgraphs too (PyTorch's TestTEFuser.findFusionGroups, which torch's CPU tests call
    on graphs without regions)."""
    result = []
    for n in graph.nodes():
        if n.kind() == GROUP:
            result.append(n.g("Subgraph"))
            continue
        if n.kind() == DIFF_GRAPH:
            result += find_fusion_groups(n.g("Subgraph"))
            continue
        for block in n.blocks():
            result += find_fusion_groups(block)
    return result


# the start of a script a simulator-tier test runs in a subprocess (NUMBA_ENABLE_CUDASIM=1,
# formatted with tests=<the tests folder>): every fusion group of CPU tensors runs its CUDA
# kernel on the simulator (`built` lists the targets built), a kernel failure raises
SIM_PRELUDE = r"""
import sys, warnings
sys.path.insert(0, {tests!r})
import gpujit.runtime.fusion as RF
import gpujit.fusers.group as G
_cpu_target = RF._target
RF._target = lambda node: "sim" if _cpu_target(node) == "cpu" else _cpu_target(node)
built = []
_build = G.default_builder
def _builder(spec, target):
    built.append(target)
    return _build(spec, target)
G.default_builder = _builder
def _note_failure(self, msg):
    raise AssertionError(f"a {{self.target}} kernel failed: {{msg}}")
G.FusedGroup._note_failure = _note_failure
"""


def run_sim_leg(body, timeout=900, **fmt):
    """Run SIM_PRELUDE + body in a subprocess on the CUDA simulator (NUMBA_ENABLE_CUDASIM=1,
    formatted with tests=<the tests folder> and fmt); it must exit 0 and print "sim kernels
    built". Returns its stdout."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    code = (SIM_PRELUDE + body).format(tests=os.path.dirname(os.path.abspath(__file__)), **fmt)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-8000:]
    assert "sim kernels built" in r.stdout
    return r.stdout
