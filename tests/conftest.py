import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.cuda` tests skip on machines without CuPy and an NVIDIA GPU."""
    import gpujit
    if gpujit.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and an NVIDIA GPU (pip install "
                                   "\"gpujit[cuda12]\"); none was found")
    for item in items:
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(skip)
