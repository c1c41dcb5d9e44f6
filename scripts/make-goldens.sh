#!/usr/bin/env bash
# Regenerates the golden files that pin StepForge's PyTorch subset to real PyTorch.
# Needs Debian's python3-torch (installed here when missing); the test suite itself needs no Python.
#   scripts/make-goldens.sh [UPSTREAM_DIR]     (default: ../shared/pcl-lite/benchmark beside the repo)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if ! "$PY" -c 'import torch, yaml' 2>/dev/null; then
  echo "installing Debian's python3-torch (once; it is large)..." >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch python3-yaml
fi
UPSTREAM="${1:-../shared/pcl-lite/benchmark}"
exec "$PY" scripts/make_goldens.py --upstream "$UPSTREAM" --project benchmark --out tests/StepForge.Tests/Tensors/Goldens
