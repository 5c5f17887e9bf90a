#!/usr/bin/env bash
# Set up everything Schoolplein needs on a fresh Debian machine with Python 3.11:
# system packages (nginx, Chromium, exiftool, Apache, rsync, node, npm) via apt when missing, a .venv
# with the Python dependencies and Lighthouse (npm ci in tools/lighthouse). Safe to run again: it
# only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v exiftool >/dev/null 2>&1 || need_apt+=(libimage-exiftool-perl)
[ -x /usr/sbin/apache2 ] || need_apt+=(apache2-bin)
command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)  # runs the CloudFront Function in tests
command -v npm >/dev/null 2>&1 || need_apt+=(npm)  # installs Lighthouse (tools/lighthouse)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)  # checks the postvak's units
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "Installeren met apt-get: ${need_apt[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    # Installing must not start nginx on port 80: a policy-rc.d stops services from starting.
    added_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        added_policy=1
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        "${need_apt[@]}" >/dev/null
    [ -z "$added_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
    [ -x .venv/bin/python ] || "$PY" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".[test]"
    rm -f .venv/.installed-*
    touch "$stamp"
fi

# Lighthouse for tests/site/test_lighthouse.py, exactly as locked (it drives /usr/bin/chromium and
# downloads no browser of its own).
lh_stamp=tools/lighthouse/node_modules/.installed-$(sha256sum tools/lighthouse/package-lock.json | cut -c1-16)
if [ ! -f "$lh_stamp" ]; then
    npm ci --prefix tools/lighthouse --no-audit --no-fund --loglevel=error >/dev/null
    touch "$lh_stamp"
fi
