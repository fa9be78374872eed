#!/usr/bin/env bash
# A throwaway venv with verl, for tests/test_verl_integration.py: mathif's reward loaded by
# verl's own code (custom_reward_function.path) and run through its reward managers.
# verl 0.9.1 requires transformers<5.11 while mathif's test extra pins >=5.16.1, so verl cannot
# be installed next to the test environment; this venv sees the system packages (torch, ...)
# and gets verl's own transformers on top. Nothing of it enters the project.
# Usage: bash .ci/verlenv.sh [DEST]   (default .ci/cache/verlenv; tests look at $MATHIF_VERLENV)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/cache/verlenv}
py=${PYTHON:-python3.11}
command -v "$py" >/dev/null 2>&1 || py=python
if [ -x "$dest/bin/python" ] && "$dest/bin/python" -c "import verl" 2>/dev/null; then
    exit 0
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$py" -m venv --system-site-packages "$dest"
"$dest/bin/python" -m pip install -q "verl==0.9.1"
