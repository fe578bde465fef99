#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite on a virtual display (Xvfb 1280x800x24).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/recorder -x`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
ruff check .
exec python -m pytest "$@"
