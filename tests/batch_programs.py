"""Several test programs run in one subprocess, one after another, each as its own script.

A test that must run gpujit in a fresh process (the CUDA simulator has to be on before
numba is imported; GPUJIT_* settings read at import) paid ~1.5 s of CPU per process to
import gpujit, numba and numba's simulator before its program ran (often well under a
second of work at the simulator's tiny sizes). `run_batch` starts one process for a whole
list of programs: each program is its own file, run as `__main__` (runpy.run_path: its
functions' and classes' source is read from that file, as when it was run by itself), with
its own environment entries set around it (GPUJIT_CACHE_DIR, GPUJIT_DUMP ...: gpujit reads
them when it uses them), its stdout and stderr told apart by markers, and an exception it
raises printed and reported as that program's failure; the programs after it still run.
`reset` (Python source) runs after each program in the runner's own namespace (what
`setup` defined), e.g. to forget the kernels the program compiled and its counters.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

_BEGIN, _END = "\n<<<batch-program {}>>>\n", "\n<<<batch-end {} {}>>>\n"

_RUNNER = textwrap.dedent('''
    import gc, json, os, runpy, sys, traceback
    plan = json.load(open(sys.argv[1]))
    _ns = {}
    exec(plan["setup"], _ns)
    for name, path, env in plan["programs"]:
        for s in (sys.stdout, sys.stderr):
            s.write(%r.format(name)); s.flush()
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        ok = True
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as e:
            ok = e.code in (None, 0)
        except BaseException:
            traceback.print_exc()
            ok = False
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        exec(plan["reset"], _ns)
        gc.collect()
        for s in (sys.stdout, sys.stderr):
            s.write(%r.format(name, "ok" if ok else "FAILED")); s.flush()
''') % (_BEGIN, _END)


# `reset` forgetting what a gpujit program compiled: the kernels in memory and the counters
# (kernels.clear_cache), and its compiled functions in cache_info().specializations (as in
# a process of its own: a program's module globals outlive runpy.run_path for a while)
FORGET_KERNELS = """
from gpujit import kernels as _K
from gpujit.kernels import cache as _C
_K.clear_cache()
_C._makers.clear()
"""


def writing_program(path, data: bytes) -> str:
    """A program that writes `data` to file `path` (a test's planted cache entry between
    two programs of one batch)."""
    return f"with open({str(path)!r}, 'wb') as f:\n    f.write({bytes(data)!r})\n"


def run_batch(folder, programs, env=None, setup="", reset="", timeout=600):
    """Run programs ([(name, source, {env var: value})], each source a whole script) in one
    new Python process with environment `env` (os.environ when None). Returns
    {name: (ok, stdout, stderr)} of each program that ran (a crash of the process leaves
    the later ones out, and the test of such a program sees the process's whole output)."""
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    plan = {"setup": setup, "reset": reset, "programs": []}
    for name, source, penv in programs:
        d = os.path.join(folder, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "prog.py")       # (scripting reads a function's source file)
        with open(path, "w") as f:
            f.write(source)
        plan["programs"].append((name, path, dict(penv)))
    with open(os.path.join(folder, "plan.json"), "w") as f:
        json.dump(plan, f)
    runner = os.path.join(folder, "batch_runner.py")
    with open(runner, "w") as f:
        f.write(_RUNNER)
    r = subprocess.run([sys.executable, runner, os.path.join(folder, "plan.json")],
                       env=os.environ if env is None else env, capture_output=True, text=True,
                       timeout=timeout)
    out = {}
    for name, _, _ in programs:
        begin = _BEGIN.format(name)
        if begin not in r.stdout:
            break
        parts = []
        for text in (r.stdout, r.stderr):
            body = text.split(begin, 1)[1] if begin in text else ""
            ok_end, bad_end = _END.format(name, "ok"), _END.format(name, "FAILED")
            ok = ok_end in body
            body = body.split(ok_end if ok else bad_end, 1)[0]
            parts.append((ok, body))
        out[name] = (parts[0][0], parts[0][1], parts[1][1])
    out["_process"] = (r.returncode == 0, r.stdout, r.stderr)
    return out


def program_result(results, name):
    """(stdout, stderr) of program `name` of run_batch's results; fails the test with the
    program's output (or the process's, when it did not get to run) unless it ended well."""
    if name not in results:
        ok, out, err = results["_process"]
        raise AssertionError(f"program {name} did not run (process exit ok: {ok}):\n"
                             + out[-3000:] + err[-5000:])
    ok, out, err = results[name]
    assert ok, out[-3000:] + err[-5000:]
    return out, err
