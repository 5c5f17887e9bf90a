#!/usr/bin/env bash
# The whole test suite (what CI runs): set up, lint, then pytest on both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest -n 2 --dist loadfile --ignore=tests/site/test_lighthouse.py "$@"
# Lighthouse weighs how long a page keeps the CPU busy: it runs after the rest, on a quiet machine.
exec .venv/bin/python -m pytest -q tests/site/test_lighthouse.py
