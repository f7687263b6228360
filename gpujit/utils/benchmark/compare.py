"""Compare: measurements as a table, one per label: rows by sub_label (grouped by thread
count), columns by description, in the unit of the fastest, as torch prints it."""
from __future__ import annotations

import collections
import enum
import itertools
import math
import operator

from . import common

__all__ = ["Colorize", "Compare"]

BEST = "\033[92m"
GOOD = "\033[34m"
BAD = "\033[2m\033[91m"
VERY_BAD = "\033[31m"
BOLD = "\033[1m"
TERMINATE = "\033[0m"


class Colorize(enum.Enum):
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _leading_digits(x):
    return math.ceil(math.log10(x))


class _Column:
    """One column's number format: enough integer digits for its largest entry and, when
    trimming, the decimals its least certain entry supports."""

    def __init__(self, grouped_results, time_scale, trim, highlight_warnings):
        self._grouped_results = grouped_results
        flat = list(itertools.chain.from_iterable(grouped_results))
        self._trim = trim
        self._highlight = highlight_warnings and any(r.has_warnings for r in flat if r)
        digits = [_leading_digits(r.median / time_scale) if r else None for r in flat]
        unit_digits = max(d for d in digits if d is not None)
        decimals = (min(max(m.significant_figures - d, 0) for d, m in zip(digits, flat)
                        if m is not None and d is not None) if trim else 1)
        length = unit_digits + decimals + (1 if decimals else 0)
        self._template = f"{{:>{length}.{decimals}f}}{{:>{7 if self._highlight else 0}}}"

    def get_results_for(self, group):
        return self._grouped_results[group]

    def num_to_str(self, value, estimated_sigfigs, spread):
        if value is None:
            return " " * len(self.num_to_str(1, estimated_sigfigs, None))
        if self._trim:
            value = common.trim_sigfig(value, estimated_sigfigs)
        return self._template.format(
            value, f" (! {spread * 100:.0f}%)" if self._highlight and spread is not None else "")


class _Row:
    def __init__(self, results, row_group, render_env, env_str_len, time_scale, colorize,
                 num_threads=None):
        self._results, self._row_group = results, row_group
        self._render_env, self._env_str_len = render_env, env_str_len
        self._time_scale, self._colorize = time_scale, colorize
        self._columns = ()
        self._num_threads = num_threads

    def as_column_strings(self):
        concrete = [r for r in self._results if r is not None]
        env = (f"({concrete[0].env})" if self._render_env else "").ljust(self._env_str_len + 4)
        out = ["  " + env + concrete[0].as_row_name]
        for m, col in zip(self._results, self._columns):
            if m is None:
                out.append(col.num_to_str(None, 1, None))
            else:
                out.append(col.num_to_str(m.median / self._time_scale, m.significant_figures,
                                          m.iqr / m.median if m.has_warnings else None))
        return out

    @staticmethod
    def color_segment(segment, value, best):
        if value <= best * 1.01 or value <= best + 100e-9:
            return BEST + BOLD + segment + TERMINATE * 2
        if value <= best * 1.1:
            return GOOD + BOLD + segment + TERMINATE * 2
        if value >= best * 5:
            return VERY_BAD + BOLD + segment + TERMINATE * 2
        if value >= best * 2:
            return BAD + segment + TERMINATE * 2
        return segment

    def row_separator(self, overall_width):
        return ([f"{self._num_threads} threads: ".ljust(overall_width, "-")]
                if self._num_threads is not None else [])

    def finalize_column_strings(self, column_strings, col_widths):
        best = [-1 for _ in column_strings]
        if self._colorize == Colorize.ROWWISE:
            row_min = min(r.median for r in self._results if r is not None)
            best = [row_min for _ in column_strings]
        elif self._colorize == Colorize.COLUMNWISE:
            best = [min((r.median for r in c.get_results_for(self._row_group) if r is not None),
                        default=None) for c in self._columns]
        out = [column_strings[0].ljust(col_widths[0])]
        for s, width, result, b in zip(column_strings[1:], col_widths[1:], self._results, best):
            s = s.center(width)
            if self._colorize != Colorize.NONE and result is not None and b is not None:
                s = self.color_segment(s, result.median, b)
            out.append(s)
        return out


class _Table:
    def __init__(self, results, colorize, trim, highlight_warnings):
        if len({r.label for r in results}) != 1:
            raise AssertionError("All results must share the same label")
        self.results, self._highlight = results, highlight_warnings
        self.label = results[0].label
        self.time_unit, self.time_scale = common.select_unit(min(r.median for r in results))
        self.row_keys = common.ordered_unique([self.row_fn(r) for r in results])
        self.row_keys.sort(key=operator.itemgetter(slice(2)))
        self.column_keys = common.ordered_unique([r.description for r in results])
        self.rows, self.columns = self._populate(colorize, trim)

    @staticmethod
    def row_fn(m):
        return m.num_threads, m.env, m.as_row_name

    def _populate(self, colorize, trim):
        ordered = [[None] * len(self.column_keys) for _ in self.row_keys]
        row_pos = {k: i for i, k in enumerate(self.row_keys)}
        col_pos = {k: i for i, k in enumerate(self.column_keys)}
        for r in self.results:
            ordered[row_pos[self.row_fn(r)]][col_pos[r.description]] = r
        envs = {r.env for r in self.results}
        render_env = len(envs) > 1
        env_len = max(len(e) for e in envs) if render_env else 0
        rows, by_group = [], []
        prior_threads, prior_env, group = -1, "", -1
        for (threads, env, _), row in zip(self.row_keys, ordered):
            transition = threads != prior_threads
            if transition:
                prior_threads, prior_env, group = threads, "", group + 1
                by_group.append([])
            rows.append(_Row(row, group, render_env and env != prior_env, env_len,
                             self.time_scale, colorize, threads if transition else None))
            by_group[-1].append(row)
            prior_env = env
        columns = tuple(_Column([tuple(row[i] for row in g) for g in by_group], self.time_scale,
                                trim, self._highlight) for i in range(len(self.column_keys)))
        for r in rows:
            r._columns = columns
        return tuple(rows), columns

    def render(self) -> str:
        string_rows = [[""] + [c if c is not None else "" for c in self.column_keys]]
        string_rows.extend(r.as_column_strings() for r in self.rows)
        num_cols = max(len(r) for r in string_rows)
        for sr in string_rows:
            sr.extend("" for _ in range(num_cols - len(sr)))
        widths = [max(len(j) for j in col) for col in zip(*string_rows)]
        lines = ["  |  ".join(s.center(w) for s, w in zip(string_rows[0], widths))]
        overall = len(lines[0])
        for sr, row in zip(string_rows[1:], self.rows):
            lines.extend(row.row_separator(overall))
            lines.append("  |  ".join(row.finalize_column_strings(sr, widths)))
        warn = self._highlight and any(r.has_warnings for r in self.results)
        body = "\n".join(lines)
        return (f"[{(' ' + (self.label or '') + ' ').center(overall - 2, '-')}]\n{body}\n\n"
                f"Times are in {common.unit_to_english(self.time_unit)}s ({self.time_unit}).\n"
                + ("(! XX%) Measurement has high variance, where XX is the IQR / median * "
                   "100.\n" if warn else ""))


class Compare:
    """A table (per label) of Measurements; `print()` shows it."""

    def __init__(self, results):
        self._results = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self):
        return "\n".join(self._render())

    def extend_results(self, results):
        for r in results:
            if not isinstance(r, common.Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} "
                                 f"instead.")
        self._results.extend(results)

    def trim_significant_figures(self):
        self._trim_significant_figures = True

    def colorize(self, rowwise=False):
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self):
        self._highlight_warnings = True

    def print(self):
        print(str(self))

    def _render(self):
        grouped = collections.defaultdict(list)
        for r in common.Measurement.merge(self._results):
            grouped[r.label].append(r)
        return [_Table(g, self._colorize, self._trim_significant_figures,
                       self._highlight_warnings).render() for g in grouped.values()]
