#!/usr/bin/env bash
# Create (or refresh) .venv with LoRA Studio's dependencies. Usage: scripts/setup_venv.sh [app|dev]
# Re-installs only when a requirements file changed, so a second ./run.sh or ./test.sh starts at once.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-app}"
req=requirements.txt
[ "$what" = dev ] && req=requirements-dev.txt

python=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    python="$candidate"; break
  fi
done
if [ -z "$python" ]; then
  echo "LoRA Studio needs Python 3.11 or newer (python3.11 or python3 on PATH)." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $python ..."
  "$python" -m venv .venv || {
    echo "Could not create a virtual environment. On Debian/Ubuntu: apt-get install python3-venv" >&2
    exit 1
  }
fi

stamp=".venv/.lora-studio-$what"
digest=$(cat requirements.txt "$req" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo "Installing $req into .venv ..."
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$req"
  # onnxruntime and onnxruntime-gpu share one import name: keep only the one requirements.txt chose.
  wanted=$(.venv/bin/python - <<'PY'
import platform, sys
print("onnxruntime-gpu" if sys.platform == "linux" and platform.machine() == "x86_64" else "onnxruntime")
PY
)
  other=onnxruntime; [ "$wanted" = onnxruntime ] && other=onnxruntime-gpu
  if .venv/bin/python -m pip show "$other" >/dev/null 2>&1; then
    .venv/bin/python -m pip uninstall --quiet -y "$other"
    .venv/bin/python -m pip install --quiet --force-reinstall --no-deps "$(grep -E "^$wanted==" requirements.txt | cut -d' ' -f1)"
  fi
  echo "$digest" > "$stamp"
fi
