"""Fusion group -> kernel module source.

One body (the scalar code of every node, kernels/scalar_codegen.py) inside a loop over the
output's flat index `i`, wrapped per target:

- cpu: a numba `@cfunc` over the ndarray objects' data pointers with
  `i = start; while i < stop: ...; i += 1` (not `for i in range(...)`: numba lowers a
  range iterator (its count, a zero-step check raising ValueError) in ~40% of a small
  kernel's lowering time; the vector loop LLVM makes of either is the same): the
  launcher cuts [0, n) into chunks and runs them on
  threads (kernels/threads.py); the compiled code is loaded and called without numba
  (kernels/native.py);
- cuda / sim: a plain function with a grid-stride loop
  `i = cuda.grid(1); while i < n: ...; i += cuda.gridsize(1)`, compiled to PTX (cuda) or
  by the simulator's `cuda.jit` (sim). When every input read is flat (or one element) and
  every output is written whole, a vector loop comes first: 4 elements per thread and
  array in one 16-byte access (`_ld4`/`_st4`), taken when the launcher finds every such
  array 16-byte aligned (the `vec` argument), the scalar loop doing the rest.

Staged CPU loops. Where the body calls a function NumPy computes with its own vector code
(tanh, float32 sin / cos, NumPy's SVML functions: prims.NUMPY_LOOPS), the CPU loop runs in
stages over chunks of prims.STAGE_CHUNK elements: each call's argument goes into a stack
buffer, one call of NumPy's inner loop per call site computes the chunk (eager's bits by
construction, at NumPy's speed: the per-element versions gather their tables), and the
next stage reads the results (`_staged_loop`).

Index arithmetic. Every tensor argument arrives as a 1-D array (a pointer on the CPU); the
kernel reads element `i` of inputs that are C-contiguous with the output's shape ("flat"),
element 0 of single-element inputs (loaded once, before the loop), and for any other input
("strided") the offset `sum(i_d * stride_d) + shift` from the multi-index of `i` over the
dims that do not broadcast (a broadcast dim has stride 0 and is left out; the shift makes
offsets of negative strides start at the input's lowest address, where the launcher points
the 1-D array; a CPU kernel counts from the data pointer instead, negative offsets
allowed). STATIC kernels bake sizes, strides and shifts in as literals; DYNAMIC kernels
take them as int64 arguments. When no input is strided and every output has the full
shape, the loop is the flat fast path: no division at all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from gpujit import dtypes as _dt
from gpujit.ir import TensorType

from . import chunks, prims
from .scalar_codegen import E, ScalarCodegen
from .spec import KernelBuildError, Layout

__all__ = ["KernelSource", "generate"]

_NB = {_dt.bool: "boolean", _dt.uint8: "uint8", _dt.int8: "int8", _dt.int16: "int16",
       _dt.int32: "int32", _dt.int64: "int64", _dt.float16: "float16",
       _dt.float32: "float32", _dt.float64: "float64"}
_NP_NAME = {"boolean": "np.bool_", "uint8": "np.uint8", "int8": "np.int8", "int16": "np.int16",
            "int32": "np.int32", "int64": "np.int64", "float16": "np.float16",
            "float32": "np.float32", "float64": "np.float64"}
_WEAK = {_dt.float64: "float", _dt.int64: "int", _dt.bool: "bool"}
# elements; smaller CPU launches run on the calling thread. ATen's grain size
# (at::internal::GRAIN_SIZE): torch's CPU pointwise kernels run serially below it too,
# and a 2^14-element launch (~5 us of work) lost more to handing half to a worker than it saved
PARALLEL_MIN = 1 << 15


@dataclass
class KernelSource:
    text: str             # the whole module
    target: str
    layout: Layout
    params: list          # kernel parameter names, in order
    signature: str        # numba signature of the kernel
    zero_division: bool   # the CPU kernel returns a count of integer zero divisors (the
                          # simulated one flags them in its `zdv` parameter)


class ModuleText(str):
    """A kernel module's text that also says how it was put together: `prelude`, the
    (key, text) pieces its prelude joins (prims.prelude_parts), and `body_at`, where the
    text after them (constants, the kernel) starts. kernels/targets.compile_cpu defines
    the pieces once per process; a plain str is compiled whole."""
    prelude = ()
    body_at = 0


def storage_type(dt, target):
    """numba element type of an array of dtype dt (CPU float16 travels as uint16)."""
    if dt is _dt.float16 and target == "cpu":
        return "uint16"
    return _NB[dt]


def _analyse(graph, inputs, piece_of):
    """Live nodes (chunks, which only say where pieces are, excluded), for each graph output
    the set of tensor inputs (logical: pieces count after the group inputs) it depends on,
    and the group inputs read whole."""
    if len(graph.inputs) != len(inputs):
        raise KernelBuildError(f"the subgraph takes {len(graph.inputs)} inputs but the spec "
                               f"has {len(inputs)}")
    deps = {}
    for k, (v, s) in enumerate(zip(graph.inputs, inputs)):
        deps[v] = frozenset([k]) if s.kind == "tensor" else frozenset()
    for node in graph.nodes:
        if node.blocks:
            raise KernelBuildError(f"{node.kind} with blocks cannot be fused")
        if node.kind in (chunks.KIND, chunks.CAT_VIEW):
            for o in node.outputs:
                m = piece_of.get(o)
                deps[o] = frozenset([len(inputs) + m]) if m is not None else frozenset()
            continue
        d = frozenset().union(*(deps[v] for v in node.inputs))
        for o in node.outputs:
            deps[o] = d
    live, work, whole = set(), list(graph.outputs), set()
    while work:
        v = work.pop()
        if v in piece_of:
            continue
        if v in graph.inputs:
            whole.add(graph.inputs.index(v))
            continue
        n = v.node
        if n.kind == "prim::Param" or n in live:
            continue
        if n.kind not in ("prim::Constant", chunks.CAT) and (n.op is None or not n.op.scalar):
            raise KernelBuildError(f"{n.kind} has no scalar expression and cannot be fused")
        live.add(n)
        work.extend(n.inputs)
    return [n for n in graph.nodes if n in live], [deps[v] for v in graph.outputs], whole


def _expanded(layout, inputs, k):
    """Whether tensor input k (not one element) has a stride of 0 in every dim of size
    > 1: False for a flat one, from the strides of a STATIC one, the code of that test on
    a DYNAMIC strided one's stride arguments (_strided_offset's names)."""
    plan = layout.inputs[k]
    if plan.kind != "strided" or plan.piece is not None:
        return False
    if layout.static:
        s = inputs[k]
        return all(st == 0 for n, st in zip(s.sizes, s.strides) if n != 1)
    return " and ".join(f"st{k}_{d} == 0" for d in layout.dims if not plan.bcast[d]) or True


def _output_dtype(v):
    t = v.type
    if not isinstance(t, TensorType) or t.dtype is None:
        raise KernelBuildError(f"the subgraph output %{v.debug_name} is not a tensor of "
                               f"known dtype ({t})")
    return t.dtype


def generate(spec, target: str) -> KernelSource:
    """The kernel module for `spec` (a KernelSpec) on `target` ("cpu", "cuda" or "sim")."""
    if target not in prims.TARGETS:
        raise ValueError(f"kernel target must be one of {prims.TARGETS}, not {target!r}")
    inputs = tuple(spec.inputs)
    graph, pieces, piece_of, branches = chunks.distribute(spec.subgraph, inputs)
    nodes, out_deps, whole = _analyse(graph, inputs, piece_of)
    bases = frozenset(p.source for p in pieces)
    if bases & whole:
        raise KernelBuildError("a group input read both whole and in chunks")
    out_dtypes = [_output_dtype(v) for v in graph.outputs]
    layout = Layout(inputs, out_deps, out_dtypes, spec.static, pieces, bases)
    cg = ScalarCodegen()

    values, ranks = {}, {}
    for k, (v, s) in enumerate(zip(graph.inputs, inputs)):
        if s.kind == "tensor":
            values[v] = E(f"x{k}", s.dtype)
            ranks[v] = s.ndim
        else:
            if s.dtype not in _WEAK:
                raise KernelBuildError(f"a scalar argument must be int64, float64 or bool, "
                                       f"not {s.dtype}")
            values[v] = E(f"p{k}", _WEAK[s.dtype])
    for v, m in piece_of.items():
        values[v] = E(f"x{len(inputs) + m}", pieces[m].spec.dtype)
        ranks[v] = pieces[m].spec.ndim
    # which values read one element (ScalarCodegen.one_element): a single-element input, a
    # STATIC one whose strides are 0 wherever its size is not 1 (expanded), a DYNAMIC
    # strided one when its stride arguments are (tested at run time); a node's result
    # when all its tensor operands have one element (eager gives it one element too;
    # an expanded operand gives a full, fresh result)
    unit = {}
    for k, v in enumerate(graph.inputs):
        if inputs[k].kind == "tensor":
            plan = layout.inputs[k]     # (a one-element space reads its inputs flat)
            unit[v] = plan.kind == "one" or plan.kind == "flat" and all(plan.bcast)
            cg.one_element[v] = unit[v] or _expanded(layout, inputs, k)
    for v, m in piece_of.items():
        unit[v] = cg.one_element[v] = layout.inputs[len(inputs) + m].kind == "one"
    in_branch = {n for bl in branches.values() for br in bl for n in br.nodes}
    local, local_params = set(), []
    for j, node in enumerate(nodes):
        if node in in_branch:
            continue            # computed in its cat's branch
        if node.kind == chunks.CAT:
            ranks[node.output] = len(node.output.type.sizes)
            values[node.output] = _concat(
                node, branches[node], f"v{j}", cg, values, ranks, layout, inputs, target,
                local, local_params)
            continue
        if node.kind == "prim::Constant":
            val = node.attrs.get("value")
            if hasattr(val, "shape"):
                raise KernelBuildError("tensor constants cannot be fused")
            values[node.output] = E.constant(val)
            continue
        if len(node.outputs) != 1:
            raise KernelBuildError(f"{node.kind} has {len(node.outputs)} outputs")
        if not node.kind.startswith("aten::"):
            raise KernelBuildError(f"{node.kind} cannot be fused")
        tin = [ranks[v] for v in node.inputs if v in ranks]
        values[node.output] = cg.node(node, values, ranks, f"v{j}")
        ranks[node.output] = max(tin, default=0)
        unit[node.output] = cg.one_element[node.output] = all(
            unit.get(v, False) for v in node.inputs if v in ranks)
    stores = []
    for j, (v, dt) in enumerate(zip(graph.outputs, out_dtypes)):
        e = values[v]
        if e.known:
            raise KernelBuildError("a fusion group output must be computed from its inputs")
        code = cg.as_type(e, dt)
        if dt is _dt.float16:
            code = f"{cg.use('_st16')}({code})"
        stores.append(code)
    text = "\n".join(cg.lines + stores)
    used = {k for k, s in enumerate(inputs + tuple(p.spec for p in pieces))
            if s.kind == "tensor" and re.search(rf"\bx{k}\b", text)}
    for k in used:
        if layout.inputs[k].dtype is _dt.float16:
            cg.use("_ld16")
    return _assemble(spec, target, layout, cg, used, stores, local, local_params)


def _concat(node, branches, name, cg, values, ranks, layout, inputs, target, local,
            local_params):
    """The code of a cat's result: `if i_d < 4: <branch 0> elif ...: ... else: ...`, each
    branch loading its own pieces and computing its own nodes (kernels/chunks.py), so an
    element reads only the input it comes from. Returns its E."""
    out_dt = _output_dtype(node.output)
    rank = ranks[node.output]
    dim = node.attrs["dim"] % rank
    d = dim + (layout.rank - rank)
    blocks = []
    for b, br in enumerate(branches):
        if br.size == 0:
            continue
        saved, cg.lines = cg.lines, []
        for m in br.local:
            k = len(inputs) + m
            plan = layout.inputs[k]
            if plan.kind == "one":
                off, params = _one_offset(layout, inputs, plan, k, target)
            else:
                off, params = _strided_offset(layout, inputs, plan, k, target)
            local.add(k)
            local_params += [p for p in params if p not in local_params]
            cg.lines.append(_load(target, cg, plan, k, off))
        for i, n in enumerate(br.nodes):
            if n.kind != chunks.CAT_VIEW:
                values[n.output] = cg.node(n, values, ranks, f"{name}b{b}_{i}")
                ranks[n.output] = max((ranks[v] for v in n.inputs if v in ranks), default=0)
        cg.lines.append(f"{name} = {cg.as_type(values[node.inputs[b]], out_dt)}")
        cg.types[name] = out_dt
        blocks.append((br.start + br.size, cg.lines))
        cg.lines = saved
    if len(blocks) > 1 and d not in layout.dims:
        raise KernelBuildError("a cat whose dim the kernel does not walk")
    if len(blocks) == 1:
        cg.lines.extend(blocks[0][1])
    else:
        parts = []
        for x, (end, lines) in enumerate(blocks):
            head = ("else:" if x == len(blocks) - 1 else
                    f"{'if' if x == 0 else 'elif'} i{d} < {end}:")
            parts.append(head + "\n" + "\n".join("    " + ln.replace("\n", "\n    ")
                                                  for ln in lines))
        cg.lines.append("\n".join(parts))
    return E(name, out_dt)


# --------------------------------------------------------------------------------------

def _sizes_expr(layout):
    """Per iteration dim: its size as code (a literal when STATIC)."""
    if layout.static:
        return {d: str(layout.sizes[d]) for d in layout.dims}
    return {d: f"s{d}" for d in layout.dims}


def _product(terms):
    terms = [t for t in terms if t != "1"]
    return " * ".join(terms) if terms else "1"


def _origin(plan, strides):
    """A piece's first element, in elements from its group input's element 0 (0 for a
    group input itself)."""
    if plan.piece is None:
        return 0
    return sum(a * st for a, st in zip(plan.piece.starts, strides))


def _static_shift(spec_in):
    """Elements from the lowest address an array's negative strides reach to its element 0
    (where the CUDA/simulator launcher points the 1-D array)."""
    return -sum((n - 1) * st for n, st in zip(spec_in.sizes, spec_in.strides) if st < 0)


def _strided_offset(layout, inputs, plan, k, target):
    """sum(i_d * stride_d) + shift for strided input k, and its DYNAMIC parameters. On the
    CPU offsets count from the data pointer (negative ones too): no shift. A piece of a
    group input (plan.piece) reads that input's memory, from its first element."""
    R, nd = layout.rank, plan.ndim
    terms, params = [], []
    if layout.static:
        base = inputs[plan.source if plan.piece is not None else k]
        strides = base.strides
        for d in layout.dims:
            if plan.bcast[d]:
                continue
            st = strides[d - (R - nd)]
            if st == 1:
                terms.append(f"i{d}")
            elif st != 0:
                terms.append(f"i{d} * {st}")
        const = _origin(plan, strides) + (_static_shift(base) if target != "cpu" else 0)
        if const:
            terms.append(str(const))
    else:
        for d in layout.dims:
            if not plan.bcast[d]:
                terms.append(f"i{d} * st{k}_{d}")
                params.append(f"st{k}_{d}")
        if target != "cpu" or plan.piece is not None:
            terms.append(f"sh{k}")
            params.append(f"sh{k}")
    return (" + ".join(terms) if terms else "0"), params


def _one_offset(layout, inputs, plan, k, target):
    """Where the single element of a one-element input is: 0 for a group input (the
    launcher passes its address), a piece's first element in its input's memory."""
    if plan.piece is None:
        return "0", []
    if not layout.static:
        return f"sh{k}", [f"sh{k}"]
    base = inputs[plan.source]
    return str(_origin(plan, base.strides)
               + (_static_shift(base) if target != "cpu" else 0)), []


def _load(target, cg, plan, k, off):
    """x{k} = element `off` of input k (of the group input a piece is read from)."""
    ld = "_ld16" if plan.dtype is _dt.float16 else ""
    src = plan.source if plan.piece is not None else k
    if target == "cpu":
        elem = f"{cg.use('_ld_' + storage_type(plan.dtype, target))}(a{src}, {off})"
    else:
        elem = f"a{src}[{off}]"
    return f"x{k} = {ld}({elem})" if ld else f"x{k} = {elem}"


def _store(target, cg, dt, j, off, code):
    if target == "cpu":
        return f"{cg.use('_st_' + storage_type(dt, target))}(o{j}, {off}, {code})"
    return f"o{j}[{off}] = {code}"


VECTOR_MAX_LINES = 48   # longer bodies: compute-bound, and NVVM would unroll 4 copies of them


def _vectorizable(target, layout, cg, stores):
    """Whether the CUDA/simulator kernel gets a vector loop: every input read is flat or
    a single element, every output is written whole, the body does not use the index and
    is short (the vector loop holds four copies of it, plus the scalar loop's)."""
    if target == "cpu" or not layout.flat or not layout.dims:
        return False
    if len(cg.lines) + len(stores) > VECTOR_MAX_LINES:
        return False
    if any(o.kind != "full" for o in layout.outputs):
        return False
    return not re.search(r"\bi\b", "\n".join(cg.lines + stores))


def _vector_loop(layout, cg, used, stores, out_types):
    """The loop over whole vectors of 4 elements (`_ld4`/`_st4`: one 16-byte access per
    float32 array): each thread loads its 4 elements of every flat input as a tuple, runs
    the body in a `for lane in range(4)` loop that writes each output's 4 results into a
    local array, and stores them; the remaining n % 4 elements are left to the scalar loop
    that follows (i starts after the vectors). The body is written once, not once per lane:
    numba types and lowers each call site, NVVM unrolls the constant trip count and keeps
    the local arrays in registers (the same PTX as 4 copies, ~30% less compile time)."""
    flat = [k for k in sorted(used) if layout.inputs[k].kind == "flat"]
    out = ["nvec = n - n % 4", "jv = i * 4"]
    out += [f"rv{j} = cuda.local.array(4, {_NP_NAME[t]})" for j, t in enumerate(out_types)]
    out.append("while jv < nvec:")
    out += [f"    xv{k} = {cg.use('_ld4')}(a{k}, jv)" for k in flat]
    out.append("    for lane in range(4):")
    for k in flat:
        elem = f"xv{k}[lane]"
        if layout.inputs[k].dtype is _dt.float16:
            elem = f"{cg.use('_ld16')}({elem})"
        out.append(f"        x{k}_v = {elem}")
    # the loop's names differ from the scalar loop's: numba rebuilds SSA form for a
    # variable assigned in more than one place (~20% of a chain's compile)
    names = {name for ln in cg.lines for name in _ASSIGNED.findall(ln)}
    names |= {f"x{k}" for k in flat}
    rx = re.compile(r"\b(" + "|".join(sorted(names)) + r")\b")

    def own(text):
        return rx.sub(r"\1_v", text)
    out += ["        " + own(ln).replace("\n", "\n        ") for ln in cg.lines]
    out += [f"        rv{j}[lane] = {own(code)}" for j, code in enumerate(stores)]
    for j in range(len(stores)):
        out.append(f"    {cg.use('_st4')}(o{j}, jv, {', '.join(f'rv{j}[{l}]' for l in range(4))})")
    out += ["    jv += step * 4", "i = nvec + i"]
    return out


# a statement's target names (also in the nested lines of an if/else statement)
_ASSIGNED = re.compile(r"(?m)^\s*([A-Za-z_]\w*)\s*=(?!=)")
# a typed literal as scalar_codegen.literal writes it: `_f32(0.5)`, `_i64(-3)`, ...
_LITERAL = re.compile(r"\b(_f32|_f64|_u8|_i8|_i16|_i32|_i64|_u64)\("
                      r"(-?\d[\d.]*(?:e[+-]?\d+)?|math\.nan|math\.inf|\(-math\.inf\))\)")


def _hoist_constants(code):
    """(code, definitions): each typed literal `_f32(0.5)` of the kernel becomes a module
    global `_K0 = _f32(0.5)`. numba freezes a global NumPy scalar as a constant of its
    dtype (the same value and type as the call, the same PTX), without typing and lowering
    one call per occurrence: ~15% of a group's cold compile."""
    names = {}

    def name(m):
        return names.setdefault(m.group(0), f"_K{len(names)}")
    code = _LITERAL.sub(name, code)
    return code, "".join(f"{n} = {lit}\n" for lit, n in names.items())


# ---------------------------------------------------------------- staged CPU loops

STAGE_MAX_BUFFERS = 64      # stack buffers of prims.STAGE_CHUNK 8-byte slots (256 KiB)
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")
_SIZE_PARAM = re.compile(r"s\d+")       # a DYNAMIC kernel's size of iteration dim d


def _args(text):
    """The top-level comma-separated parts of a call's argument text."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch in "(["
        depth -= ch in ")]"
        cur += ch
    return out + [cur.strip()]


def _take_calls(stmt, pattern, calls):
    """stmt with each call of a NumPy-loop primitive replaced by a name `nl<K>` (inner
    calls first); `calls` gets (primitive, argument texts) per K."""
    while True:
        for m in pattern.finditer(stmt):
            depth, j = 1, m.end()
            while depth:
                depth += (stmt[j] == "(") - (stmt[j] == ")")
                j += 1
            inner = stmt[m.end():j - 1]
            if not pattern.search(inner):
                stmt = stmt[:m.start()] + f"nl{len(calls)}" + stmt[j:]
                calls.append((m.group(1), _args(inner)))
                break
        else:
            return stmt


def _spill_type(ty):
    """The numba type a variable of E.ty `ty` has (float16 values are held in float32)."""
    if ty is None:
        return None
    if isinstance(ty, str):
        return {"float": "float64", "int": "int64", "bool": "boolean"}.get(ty)
    return "float32" if ty is _dt.float16 else _NB.get(ty)


def _staged_loop(fixed, stmts, cg, rows=None):
    """The loop over elements [start, stop) of a CPU kernel whose statements call functions
    that NumPy computes with its own vector loops (prims.NUMPY_LOOPS), in stages: the
    elements go in chunks of prims.STAGE_CHUNK; per chunk, stage 0 runs the statements
    that need no such result and stores each call's argument into a stack buffer; one call
    of NumPy's loop per function call site computes the results in the buffer; stage 1
    reads them back and runs the statements that need them (and stores the arguments of
    calls that need those), and so on. Values a later stage reads are spilled to buffers
    of their own; `fixed` lines (the index arithmetic and input loads) are computed again
    in each stage. A strided layout's `rows` (the lines that start a row of the last dim at
    element r, ending at `end`) run in each stage within the chunk, so that chunks span
    short rows. Returns (lines, buffer names) or None (no such call, one inside a
    statement of several lines, a spilled variable of unknown type, too many buffers)."""
    loops = prims.NUMPY_LOOPS
    if not loops:
        return None
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, loops)) + r")\(")
    calls, body, first = [], [], []
    for st in stmts:
        first.append(len(calls))
        new = _take_calls(st, pattern, calls)
        if new != st and "\n" in st:
            return None
        body.append(new)
    if not calls or sum(len(c[1]) + 1 for c in calls) > STAGE_MAX_BUFFERS:
        return None             # (too many buffers before any spill: not staged)
    stage, call_stage, st_stage = {}, [], []

    def at(text):
        return max((stage[n] for n in _NAME.findall(text) if n in stage), default=0)
    for j, st in enumerate(body):
        for k in range(first[j], first[j + 1] if j + 1 < len(body) else len(calls)):
            call_stage.append(max(at(a) for a in calls[k][1]))
            stage[f"nl{k}"] = call_stage[k] + 1
        st_stage.append(at(st))
        for n in _ASSIGNED.findall(st):
            stage[n] = st_stage[j]
    # a statement whose values only later stages read moves to the first of them (what
    # would be spilled is computed there from the reloaded inputs)
    # (who reads each name, found once: a scan per statement made long kernels quadratic)
    st_readers, call_readers = {}, {}
    for m, b in enumerate(body):
        for n in set(_NAME.findall(b)):
            st_readers.setdefault(n, []).append(m)
    for k, c in enumerate(calls):
        for n in {n for a in c[1] for n in _NAME.findall(a)}:
            call_readers.setdefault(n, []).append(k)
    for j in reversed(range(len(body))):
        mine = set(_ASSIGNED.findall(body[j]))
        uses = [st_stage[m] for n in mine for m in st_readers.get(n, ()) if m > j]
        uses += [call_stage[k] for n in mine for k in call_readers.get(n, ())]
        if mine and uses and min(uses) > st_stage[j]:
            st_stage[j] = min(uses)
            for n in mine:
                stage[n] = st_stage[j]
    last = max(st_stage + [c + 1 for c in call_stage])
    # per stage: the statements, the call arguments, what it reads from earlier stages
    texts = {s: [b for b, t in zip(body, st_stage) if t == s] for s in range(last + 1)}
    reads, spills = {s: set() for s in range(last + 1)}, set()
    for s in range(last + 1):
        code = texts[s] + [a for k, c in enumerate(calls) if call_stage[k] == s for a in c[1]]
        for n in {n for t in code for n in _NAME.findall(t)
                  if stage.get(n, s) < s or (n.startswith("nl") and n in stage)}:
            reads[s].add(n)
            if not n.startswith("nl"):
                spills.add(n)
    types = {n: _spill_type(cg.types.get(n)) for n in spills}
    nbuf = len(spills) + sum(len(c[1]) + 1 for c in calls)
    if None in types.values() or nbuf > STAGE_MAX_BUFFERS:
        return None
    buffers = [f"sp_{n}" for n in sorted(spills)]
    fixed_names = {n for ln in fixed for n in _ASSIGNED.findall(ln)} | {"i"}
    # (not min(): numba compiles its overload of min, ~0.4 s, in each process)
    ch = prims.STAGE_CHUNK
    out = ["ck = start", "while ck < stop:", f"    ce = ck + {ch} if stop - ck > {ch} else stop"]
    if rows is not None:
        rows = [re.sub(r"\bmin\(stop,", "min(ce,", ln) for ln in rows]
        fixed_names |= {n for ln in rows for n in _ASSIGNED.findall(ln)} | {"r"}
    for s in range(last + 1):
        loop = ["i = ck", "while i < ce:"]
        if rows is not None:
            loop = ["r = ck", "while r < ce:"] + ["    " + ln for ln in rows] + [
                "    i = r", "    while i < end:"]
        inner = []
        for n in sorted(reads[s]):
            if n.startswith("nl"):
                k = int(n[2:])
                ty = loops[calls[k][0]][2]
                inner.append(f"{n} = {cg.use('_ld_' + ty)}(bk{k}_0, i - ck)")
            else:
                inner.append(f"{n} = {cg.use('_ld_' + types[n])}(sp_{n}, i - ck)")
        inner += texts[s]
        after = []
        for k, (prim, args) in enumerate(calls):
            if call_stage[k] != s:
                continue
            fn, arity, ty = loops[prim]
            ins = []
            for a, arg in enumerate(args):
                if arg in spills and types[arg] == ty:      # (read where it is spilled)
                    ins.append(f"sp_{arg}")
                    continue
                inner.append(f"{cg.use('_st_' + ty)}(bk{k}_{a}, i - ck, {arg})")
                ins.append(f"bk{k}_{a}")
            if f"bk{k}_0" not in ins:
                ins.append(f"bk{k}_0")              # (the result's buffer)
            buffers += [b for b in ins if b.startswith("bk")]
            after.append(f"{cg.use(fn)}({', '.join(ins[:arity])}, bk{k}_0, ce - ck)")
        for n in sorted(spills):
            if stage[n] == s:
                inner.append(f"{cg.use('_st_' + types[n])}(sp_{n}, i - ck, {n})")
        # the fixed lines this stage needs (each costs numba's frontend even when unused)
        need = {n for ln in inner for n in _NAME.findall(ln)}
        mine = []
        for ln in reversed(fixed):
            if set(_ASSIGNED.findall(ln)) & need:
                mine.insert(0, ln)
                need |= set(_NAME.findall(ln))
        inner = mine + inner
        ind = "        " if rows is not None else "    "
        text = "\n".join(loop + [ind + ln.replace("\n", "\n" + ind) for ln in inner]
                         + [ind + "i += 1"] + (["    r = end"] if rows is not None else [])
                         + after)
        if s:       # (a stage's own names: numba rebuilds SSA form for names assigned twice)
            own = fixed_names | reads[s]
            text = re.sub(r"\b(" + "|".join(sorted(own)) + r")\b", rf"\1_s{s}", text)
        out += ["    " + ln for ln in text.split("\n")]
    out.append("    ck = ce")
    cg.use("_stackbuf")
    for prim in {c[0] for c in calls}:
        if not any(re.search(rf"\b{prim}\(", t) for t in body):
            cg.prims.discard(prim)
    return out, buffers


def _assemble(spec, target, layout, cg, used, stores, local=frozenset(), local_params=()):
    inputs = spec.inputs
    size = _sizes_expr(layout)
    params, sig = [], []        # sig: ("in" | "out" | "num", numba type name)
    if target == "cpu":         # the chunk of the index range this call computes
        params += ["start", "stop"]
        sig += [("num", "int64")] * 2
    for k, (s, plan) in enumerate(zip(inputs, layout.inputs)):
        if s.kind == "scalar":
            params.append(f"p{k}")
            sig.append(("num", _NB[s.dtype]))
        else:
            params.append(f"a{k}")
            sig.append(("in", storage_type(s.dtype, target)))
    for j, o in enumerate(layout.outputs):
        params.append(f"o{j}")
        sig.append(("out", storage_type(o.dtype, target)))
    vector = _vectorizable(target, layout, cg, stores)
    if target != "cpu":
        params.append("n")
        sig.append(("num", "int64"))
    if target == "sim" and cg.zero_division:
        # the simulator runs groups of CPU tensors, which raise on an integer division by
        # zero as eager's CPU ops do: the kernel flags one in zdv[0] (CUDA's does not)
        params.append("zdv")
        sig.append(("flag", "int64"))
    if vector:                  # 1 when every vector-accessed array is 16-byte aligned
        params.append("vec")
        sig.append(("num", "int64"))
    extra = []
    if not layout.static:
        extra += [f"s{d}" for d in layout.dims]

    pre, index, loads = [], [], []
    arrays = {layout.inputs[k].source if layout.inputs[k].piece is not None else k
              for k in used}
    if target == "cpu":         # the ndarray objects' data pointers
        pre += [f"{p} = {cg.use('_data')}({p})" for p in params
                if p[0] in "ao" and p[1:].isdigit() and (p[0] == "o" or int(p[1:]) in arrays)]
    extra += list(local_params)         # (the loads in cat branches: emitted there)
    for k in sorted(used - set(local)):
        plan = layout.inputs[k]
        if plan.kind == "one":
            off, p = _one_offset(layout, inputs, plan, k, target)
            extra += p
            pre.append(_load(target, cg, plan, k, off))
        elif plan.kind == "flat":
            loads.append(_load(target, cg, plan, k, "i"))
        else:
            off, p = _strided_offset(layout, inputs, plan, k, target)
            extra += p
            loads.append(_load(target, cg, plan, k, off))
    rows = None     # (cpu, strided, 2+ dims: lines that start each row of the last dim)
    if not layout.flat and layout.dims:
        # the multi-index of i, last dim first (fresh names: numba's parfor pass rejects
        # reassigning a copy of the loop index)
        dims = list(layout.dims)
        if target == "cpu" and len(dims) > 1:
            # row by row: the outer dims' indices once per run of the last dim, and in
            # the run the last index is i minus the row's first i, so that every load
            # and store is affine in i and LLVM vectorizes the loop (the exp / tanh of
            # cpu_math too), where a % and a // per element kept it scalar (an LSTM
            # cell's chunked gates: ~40 ns per element)
            last = dims[-1]
            rows = [f"q = r // {size[last]}", f"base = q * {size[last]}",
                    f"end = min(stop, base + {size[last]})"]
            q = "q"
            for x, d in enumerate(reversed(dims[1:-1])):
                rows.append(f"i{d} = {q} % {size[d]}")
                rows.append(f"q{x} = {q} // {size[d]}")
                q = f"q{x}"
            rows.append(f"i{dims[0]} = {q}")
            index.append(f"i{last} = i - base")
        else:
            q = "i"
            for x, d in enumerate(reversed(dims[1:])):
                index.append(f"i{d} = {q} % {size[d]}")
                index.append(f"q{x} = {q} // {size[d]}")
                q = f"q{x}"
            index.append(f"i{dims[0]} = {q}")
    writes = []
    for j, (o, code) in enumerate(zip(layout.outputs, stores)):
        if o.kind == "full":
            writes.append(_store(target, cg, o.dtype, j, "i", code))
        elif o.kind == "one":
            writes.append(f"if i == 0:\n    {_store(target, cg, o.dtype, j, '0', code)}")
        else:
            cond = " and ".join(f"i{d} == 0" for d in layout.dims if o.bcast[d])
            kept = [d for d in layout.dims if not o.bcast[d]]
            terms = []
            for x, d in enumerate(kept):
                stride = _product([size[d2] for d2 in kept[x + 1:]])
                terms.append(f"i{d}" if stride == "1" else f"i{d} * ({stride})")
            off = " + ".join(terms) or "0"
            writes.append(f"if {cond}:\n    {_store(target, cg, o.dtype, j, off, code)}")
    inner = index + loads + cg.lines + writes
    if target == "cpu" and not layout.static:
        # a size the body never reads (a flat kernel's: it walks [start, stop)) is no
        # parameter, so that the kernel is the same text for every rank and for STATIC
        used_text = "\n".join(list(pre) + list(cg.hoisted) + inner + (rows or []))
        extra = [p for p in extra
                 if not _SIZE_PARAM.fullmatch(p) or re.search(rf"\b{p}\b", used_text)]
    params += extra
    sig += [("num", "int64")] * len(extra)
    lines = []
    if target == "cpu":
        # a C function over pointers (kernels/native.py), one chunk [start, stop) per call;
        # it returns the number of integer zero divisors it met
        signature = "int64(" + ", ".join(t if k == "num" else "voidptr" for k, t in sig) + ")"
        cpu_sig = "_nbt.int64(" + ", ".join(
            f"_nbt.{t}" if k == "num" else "_nbt.voidptr" for k, t in sig) + ")"
        lines.append(f"@cfunc({cpu_sig}, error_model='numpy')")
    else:
        signature = f"void({', '.join(t if k == 'num' else f'{t}[::1]' for k, t in sig)})"
    lines.append(f"def kernel({', '.join(params)}):")
    body = list(pre) + list(cg.hoisted)
    staged = None
    if target == "cpu":
        staged = _staged_loop(index + loads, cg.lines + writes, cg, rows)
    if staged is not None:
        body += [f"{b} = {cg.use('_stackbuf')}()" for b in staged[1]]
    if cg.zero_division:
        body.append("zd = 0")
    if staged is not None:
        body += staged[0]
    elif rows is not None:
        body.append("r = start")
        body.append("while r < stop:")
        body += ["    " + ln for ln in rows]
        body += ["    i = r", "    while i < end:"]
    elif target == "cpu":
        body += ["i = start", "while i < stop:"]
    else:
        body += ["i = cuda.grid(1)", "step = cuda.gridsize(1)"]
        if vector:
            types = [storage_type(o.dtype, target) for o in layout.outputs]
            body += ["if vec:"] + ["    " + ln.replace("\n", "\n    ")
                                   for ln in _vector_loop(layout, cg, used, stores, types)]
        body.append("while i < n:")
    ind = "        " if rows is not None else "    "
    if staged is None:
        body += [ind + ln.replace("\n", "\n" + ind) for ln in inner]
        if target == "cpu":
            body.append(ind + "i += 1")
    if rows is not None and staged is None:
        body.append("    r = end")
    if target == "cpu":
        body.append("return zd" if cg.zero_division else "return 0")
    else:
        body.append("    i += step")
        if "zdv" in params:
            body.append("if zd:\n    zdv[0] = 1")
    lines += ["    " + ln.replace("\n", "\n    ") for ln in body]
    mode = "STATIC" if layout.static else "DYNAMIC"
    if target == "cpu" and layout.flat and not any(_SIZE_PARAM.fullmatch(p) for p in params):
        mode = "STATIC or DYNAMIC"      # (no size in it: one text, one compile, for both)
    head = (f"# gpujit fused kernel: target {target}, {mode}, "
            f"{'flat' if layout.flat else 'strided'} indexing; generated, do not edit\n")
    code, consts = _hoist_constants("\n".join(lines))
    parts = prims.prelude_parts(target, cg.prims)
    pre = head + "\n".join(t for _, t in parts) + "\n"
    text = ModuleText(pre + consts + "\n" + code + "\n")
    text.prelude, text.body_at = tuple(parts), len(pre)
    return KernelSource(text, target, layout, params, signature,
                        cg.zero_division and target in ("cpu", "sim"))
