#!/usr/bin/env bash
# Set up LoRA Studio on a fresh Linux machine and start it. Arguments go to app.py (see ./run.sh --help).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup_venv.sh app
exec .venv/bin/python app.py "$@"
