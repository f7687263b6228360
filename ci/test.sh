#!/usr/bin/env bash
# CI: a fresh virtual environment, the README's test install, the whole test suite.
# Fails when any test fails and when pytest collects nothing (its exit status 5).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
# Python caches bytecode (an image that sets PYTHONDONTWRITEBYTECODE=1 made every test
# process compile gpujit's ~550 modules and pytest rewrite the ~500 test files again: 46 s
# of collection per worker instead of 12, ~1.4 s more per subprocess the tests start)
unset PYTHONDONTWRITEBYTECODE
python3 -m venv "$tmp/venv"
. "$tmp/venv/bin/activate"
python -m pip install -q -e ".[test]"
rc=0
python -m pytest -q || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "ci/test.sh: pytest collected no tests" >&2
fi
exit "$rc"
