#!/usr/bin/env bash
# Set up (if needed) and run the main job on the built-in practice desktop,
# on a virtual display of its own when none is available.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec deskmimic demo "$@"
