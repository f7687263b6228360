"""torch.utils.benchmark: Timer (timeit / blocked_autorange / adaptive_autorange), the
Measurement it returns (median, mean, IQR, printed as torch's) and Compare, the table of
many measurements. Python statements only (no C++ timing, no Callgrind)."""
from .common import Measurement, TaskSpec, select_unit, trim_sigfig, unit_to_english  # noqa: F401
from .compare import Colorize, Compare  # noqa: F401
from .timer import Language, Timer, timer  # noqa: F401

__all__ = ["Timer", "timer", "Language", "Measurement", "TaskSpec", "Compare", "Colorize",
           "select_unit", "trim_sigfig", "unit_to_english"]
