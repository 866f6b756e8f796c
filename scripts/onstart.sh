#!/usr/bin/env bash
# One command on a fresh VastAI or RunPod instance (a CUDA image with Python 3.11+ and git):
#   bash <(curl -fsSL <raw URL of this file>)      or, from a clone:  scripts/onstart.sh
# Installs the app and the trainer, then starts the app where the provider's port mapping reaches it,
# with a login (the credentials are printed in the instance log). Environment knobs:
#   LORA_STUDIO_DIR   where to clone (default /workspace/lora-studio; /workspace is the persistent volume)
#   LORA_STUDIO_REPO  git URL to clone when not run from a clone
#   PORT              port to serve (default 7860; RunPod exposes it as https://<pod>-<port>.proxy.runpod.net)
#   LORA_STUDIO_AUTH  user:password (default: a generated password, printed below)
#   LORA_STUDIO_SHARE=1  also open a Gradio share link (for providers without an open port)
#   GRADIO_ROOT_PATH  URL prefix when the provider's proxy serves the app under a sub-path, e.g. /lora
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -f "$here/../app.py" ]; then
  app_dir="$(cd "$here/.." && pwd)"
else
  app_dir="${LORA_STUDIO_DIR:-/workspace/lora-studio}"
  if [ ! -d "$app_dir/.git" ]; then
    git clone "${LORA_STUDIO_REPO:?set LORA_STUDIO_REPO to the LoRA Studio git URL}" "$app_dir"
  fi
fi
cd "$app_dir"

export LORA_STUDIO_HOME="${LORA_STUDIO_HOME:-/workspace/lora-studio-data}"
export GRADIO_TEMP_DIR="${GRADIO_TEMP_DIR:-$LORA_STUDIO_HOME/.gradio-tmp}"
mkdir -p "$LORA_STUDIO_HOME" "$GRADIO_TEMP_DIR"

scripts/setup_venv.sh app
# Rented GPU images ship a CUDA torch: reuse it in the trainer venv instead of downloading another.
if python3 -c "import torch" >/dev/null 2>&1; then
  .venv/bin/python -m trainer.install --system-site-packages
else
  .venv/bin/python -m trainer.install
fi

args=(--host 0.0.0.0 --port "${PORT:-7860}")
[ "${LORA_STUDIO_SHARE:-}" = 1 ] && args+=(--share)
echo "Starting LoRA Studio on port ${PORT:-7860} (workspace $LORA_STUDIO_HOME)"
exec ./run.sh "${args[@]}"
