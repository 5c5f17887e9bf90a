#!/usr/bin/env bash
# One command for a newcomer: set up, build the demo school, serve it on
# http://127.0.0.1:8000 behind the same per-section basic auth as production.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/invoke demo "$@"
