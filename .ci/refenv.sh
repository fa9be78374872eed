#!/usr/bin/env bash
# Build the benchmark's pinned reference environment (SPEC §6) in a throwaway venv, for the
# conformance tests and the benchmarks that compare mathif with the official scorer:
# VeRL 0.3's prime_math on sympy 1.13.1 + antlr4 4.9.3 (no parse_latex), pylatexenc 2.10,
# nltk 3.9.1, langdetect 1.0.9, and IFEval's checkers as lm-eval 0.4.8 ships them.
# Everything comes from the packages' published wheels; nothing of it enters the project.
# Usage: bash .ci/refenv.sh [DEST]   (default .ci/cache/refenv; tests look at $MATHIF_REFENV)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/cache/refenv}
py=${PYTHON:-python3.11}
command -v "$py" >/dev/null 2>&1 || py=python
if [ -x "$dest/bin/python" ] && "$dest/bin/python" -c "import sympy, pylatexenc, nltk, langdetect, verl" 2>/dev/null \
   && [ -f "$dest/nltk_data/tokenizers/punkt_tab/english/ortho_context.tab" ]; then
    exit 0
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$py" -m venv "$dest"
"$dest/bin/python" -m pip install -q "sympy==1.13.1" "mpmath==1.3.0" "antlr4-python3-runtime==4.9.3" \
    "pylatexenc==2.10" "nltk==3.9.1" "langdetect==1.0.9" "immutabledict==4.2.1" "packaging"
# The two packages whose code is the reference; their own dependencies (torch, ray, ...) are not
# needed by prime_math or the IFEval checkers, which tests/official/scorer.py loads directly.
"$dest/bin/python" -m pip install -q --no-deps "verl==0.3.0.post1" "lm-eval==0.4.8"
# NLTK's English punkt tables (word_tokenize), fetched by .ci/fetch_punkt.py.
python "$here/fetch_punkt.py"
mkdir -p "$dest/nltk_data/tokenizers"
cp -r "$here/cache/nltk_data/tokenizers/punkt_tab" "$dest/nltk_data/tokenizers/"
