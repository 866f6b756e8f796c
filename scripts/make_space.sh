#!/usr/bin/env bash
# Assemble a Hugging Face Space from this checkout: scripts/make_space.sh OUT_DIR
# OUT_DIR gets the committed files (git archive) with scripts/space/README.md as its README (the Space
# metadata: sdk gradio, app_file app.py). Push OUT_DIR to a Space repository to publish it.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/make_space.sh OUT_DIR}"
mkdir -p "$out"
git archive HEAD | tar -x -C "$out"
cp scripts/space/README.md "$out/README.md"
echo "Space folder ready in $out (README.md carries the Space metadata)."
