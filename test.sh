#!/usr/bin/env bash
# Set up everything the tests need on a fresh Linux machine, then run the whole suite.
# Arguments go to pytest (e.g. ./test.sh tests/foundation -x).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup_venv.sh dev

# The browser tests drive Debian's chromium through Playwright (never `playwright install`); the
# reverse-proxy tests run a real nginx in front of the app.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/nginx ]; then
  echo "Installing Debian's chromium and nginx for the browser and proxy tests ..."
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q chromium nginx
fi

exec .venv/bin/python -m pytest "$@"
