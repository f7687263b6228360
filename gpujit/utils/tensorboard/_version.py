"""A version string compared with a release tuple, without the `packaging` package."""
import re


def older_than(version: str, release: tuple) -> bool:
    """Whether `version` ("2.21.0", "1.15.0a20190806", "2.0.0rc1") is before `release`
    ((1, 15)); a pre-release of a release counts as before it."""
    m = re.match(r"\s*v?(\d+(?:\.\d+)*)(.*)", str(version))
    if m is None:
        return True
    nums = tuple(int(p) for p in m.group(1).split("."))
    width = max(len(nums), len(release))
    nums += (0,) * (width - len(nums))
    want = tuple(release) + (0,) * (width - len(release))
    if nums != want:
        return nums < want
    return bool(re.match(r"[.-]?(a|b|c|rc|alpha|beta|pre|preview|dev)", m.group(2)))
