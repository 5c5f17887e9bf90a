#!/usr/bin/env bash
# The whole test suite (what CI runs): set up, lint, then pytest on both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
