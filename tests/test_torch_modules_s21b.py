"""Modules PyTorch scripts import (session 21, second part): torch.utils.benchmark (Timer,
Measurement, Compare) and Tensor methods scripts call; each against torch where installed.

Deliberate differences (documented):
- Measurement.mean may differ from torch's in the last bit (NumPy's pairwise sum).
- Timer times Python statements only: language='c++' and collect_callgrind raise
  NotImplementedError (they need a PyTorch build).
"""
import re

import numpy as np
import pytest

import gpujit


# ------------------------------------------------------------------ torch.utils.benchmark

_CASES = [("ops", "x+1", "10", 1, 3e-6, 0.01, 1), ("ops", "x*2", "10", 1, 5.5e-6, 0.2, 7),
          ("ops", "x+1", "100", 1, 1.2e-5, 0.05, 20), ("ops", "x*2", "100", 1, 9.1e-5, 0.002, 5),
          ("ops", "x+1", "10", 4, 2e-6, 0.3, 3), ("ops", "x*2", "100", 4, 4.4e-5, 0.01, 40),
          ("mm", "a@b", "big", 1, 2.2e-3, 0.05, 9)]


def _benchmark_text(bm):
    """Measurements of fixed times printed alone and in Compare tables."""
    rng = np.random.default_rng(1)
    ms = []
    for i, (label, sub, desc, threads, base, spread, n) in enumerate(_CASES):
        times = base * 100 * (1 + rng.normal(0, spread, size=n))
        spec = bm.TaskSpec(stmt=sub, setup="import torch" if i % 2 else "pass", label=label,
                           sub_label=sub, description=desc, num_threads=threads)
        ms.append(bm.Measurement(number_per_run=100, raw_times=list(times), task_spec=spec))
    out = [re.sub(r"<\S+ object at 0x[0-9a-f]+>", "<OBJ>", repr(m)) for m in ms]
    out += [(m.median, m.iqr, m.significant_figures, m.has_warnings, m.title, m.as_row_name)
            for m in ms]
    c = bm.Compare(ms)
    out.append(str(c))
    c.trim_significant_figures()
    out.append(str(c))
    c.colorize()
    out.append(str(c))
    c.colorize(rowwise=True)
    c.highlight_warnings()
    out.append(str(c))
    multi = bm.Measurement(number_per_run=10, raw_times=[1e-3, 2e-3], task_spec=bm.TaskSpec(
        stmt="a\nb", setup="x=1\ny=2", description="desc", sub_label="s"))
    out.append(re.sub(r"<\S+ object at 0x[0-9a-f]+>", "<OBJ>", repr(multi)))
    out.append([bm.select_unit(t) for t in (1e-9, 999e-9, 1e-3, 2.0)])
    out.append([bm.trim_sigfig(5.6789, 2), bm.trim_sigfig(123456, 3)])
    return out


def test_measurement_and_compare_print_as_torch():
    tbm = pytest.importorskip("torch.utils.benchmark")
    import gpujit.utils.benchmark as bm
    got, want = _benchmark_text(bm), _benchmark_text(tbm)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == w


def test_measurement_repr_shape_and_statistics():
    from gpujit.utils.benchmark import Measurement, TaskSpec
    times = [4e-6, 5e-6, 6e-6, 7e-6, 5.5e-6]
    m = Measurement(number_per_run=10, raw_times=[t * 10 for t in times],
                    task_spec=TaskSpec(stmt="x + 1", setup="pass", label="add",
                                       sub_label="small"))
    assert m.median == pytest.approx(np.quantile(times, 0.5))
    assert m.iqr == pytest.approx(np.quantile(times, 0.75) - np.quantile(times, 0.25))
    assert m.mean == pytest.approx(np.mean(times))
    lines = repr(m).splitlines()
    assert re.fullmatch(r"<gpujit\.utils\.benchmark\.common\.Measurement object at 0x[0-9a-f]+>",
                        lines[0])
    assert lines[1:5] == ["add: small", "  Median: 5.50 us", "  IQR:    1.00 us (5.00 to 6.00)",
                          "  5 measurements, 10 runs per measurement, 1 thread"]
    assert "WARNING: Interquartile range is 18.2% of the median" in lines[5]
    assert m.label == "add" and m.num_threads == 1      # the task spec's fields


def test_timer_runs_statements_with_globals_and_setup():
    from gpujit.utils import benchmark
    x = gpujit.ones(3)
    t = benchmark.Timer("y = x + z", setup="z = torch.ones(3)", globals={"x": x},
                        label="L", sub_label="S", description="D")
    m = t.timeit(20)
    assert m.number_per_run == 20 and len(m.times) == 1 and m.median > 0
    assert (m.label, m.sub_label, m.description, m.stmt, m.setup) == \
        ("L", "S", "D", "y = x + z", "z = torch.ones(3)")
    seen = []
    b = t.blocked_autorange(callback=lambda n, s: seen.append(n), min_run_time=0.02)
    assert sum(b.raw_times) >= 0.02 and seen and all(n == b.number_per_run for n in seen)
    a = benchmark.Timer("torch.ones(2)").adaptive_autorange(min_run_time=0.01,
                                                            max_run_time=0.3)
    assert len(a.times) >= 1
    out = benchmark.Compare([m, b])
    assert "[" in str(out) and "Times are in" in str(out)
    with pytest.raises(ValueError, match="only a `str` stmt is supported"):
        benchmark.Timer(stmt=lambda: 1)
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        benchmark.Timer("x", global_setup="int a;")
    with pytest.raises(NotImplementedError, match="See `Timer.blocked_autorange.`"):
        t.repeat()
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        benchmark.Compare([1])
