#!/usr/bin/env bash
# The CPU build of torch, explicitly: on Linux a plain `pip install torch` gives the CUDA build
# (about 3 GB of NVIDIA wheels) that no test needs. PyTorch's CPU wheel index first; where that
# index cannot be reached (offline machines, mirrors), the plain pin from the configured index,
# so that CI keeps working there.
set -euo pipefail
TORCH_PIN="${TORCH_PIN:-torch==2.13.0}"
CPU_INDEX="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
if python -m pip install --index-url "$CPU_INDEX" --timeout 15 --retries 1 "$TORCH_PIN"; then
    exit 0
fi
echo "PyTorch's CPU wheel index ($CPU_INDEX) could not be used: installing $TORCH_PIN from" \
     "the configured index instead" >&2
python -m pip install "$TORCH_PIN"
