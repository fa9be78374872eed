"""The official MathIF scorer, assembled inside the pinned reference venv (.ci/refenv.sh).

This script runs with the reference venv's Python, never with mathif's: it loads VeRL 0.3's
``prime_math`` and lm-eval's copy of IFEval's checkers straight from their published wheels
(stub parent packages keep their heavy ``__init__`` imports out) and answers JSON lines on
stdin, one request per line, one reply per line:

    {"op": "score", "pairs": [[answer_part, gold], ...]}        -> {"results": [bool, ...]}
    {"op": "check", "cases": [[constraint_id, args, text], ...]} -> {"results": [bool, ...]}
    {"op": "split", "raws": [raw_output, ...]}                  -> {"results": [str, ...]}
    {"op": "latex", "texts": [latex, ...]}                      -> {"results": [str, ...]}
    {"op": "eval_file", "path": p, "out": q}                   -> {"n": responses scored}

A case that raises gives ``null`` in ``results`` and its message in ``errors``. ``eval_file``
scores a JSONL of items with ``output`` lists as the official pipeline does (split, the 15
checkers, ``compute_score``), for the speed benchmarks. langdetect is seeded (0), as mathif is.
"""

import contextlib
import importlib
import io
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("NLTK_DATA", os.path.join(sys.prefix, "nltk_data"))
SITE = next(p for p in sys.path if p.endswith("site-packages"))


def _stub(name):
    module = types.ModuleType(name)
    module.__path__ = [os.path.join(SITE, *name.split("."))]
    sys.modules[name] = module


for _name in ("verl", "verl.utils", "verl.utils.reward_score", "lm_eval", "lm_eval.tasks",
              "lm_eval.tasks.ifeval"):
    _stub(_name)
prime_math = importlib.import_module("verl.utils.reward_score.prime_math")
with contextlib.redirect_stdout(io.StringIO()):
    registry = importlib.import_module("lm_eval.tasks.ifeval.instructions_registry")

import langdetect  # noqa: E402
from pylatexenc.latex2text import LatexNodes2Text  # noqa: E402

langdetect.DetectorFactory.seed = 0


def split(raw):
    """SPEC section 3: plain str.split, keeping piece [1] (piece [0] for </answer>)."""
    text = raw
    if "<think>" in text:
        text = text.split("<think>")[1]
    if "</think>" in text:
        text = text.split("</think>")[1]
    if "<answer>" in text:
        text = text.split("<answer>")[1]
    if "</answer>" in text:
        text = text.split("</answer>")[0]
    return text


def check(name, args, text):
    ifeval_id = name.replace("length_constraint_checkers:", "length_constraints:")
    instruction = registry.INSTRUCTION_DICT[ifeval_id](ifeval_id)
    instruction.build_description(**{k: v for k, v in (args or {}).items() if v is not None})
    return bool(text.strip() and instruction.check_following(text))


def score(answer, gold):
    return bool(prime_math.compute_score(answer, gold)[0])


def latex(text):
    return LatexNodes2Text().latex_to_text(text)


def eval_file(path, out):
    n = 0
    with open(path, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for line in src:
            if not line.strip():
                continue
            item = json.loads(line)
            outputs = item["output"] if isinstance(item["output"], list) else [item["output"]]
            for raw in outputs:
                answer = split(raw)
                follow = [check(name, args, answer) for name, args in
                          zip(item["constraint_name"], item["constraint_args"], strict=True)]
                dst.write(json.dumps({"follow": follow, "correct": score(answer, item["answer"])})
                          + "\n")
                n += 1
    return {"n": n}


BATCH = {"score": ("pairs", score), "check": ("cases", check), "split": ("raws", split),
         "latex": ("texts", latex)}


def handle(request):
    op = request["op"]
    if op == "eval_file":
        return eval_file(request["path"], request["out"])
    field, function = BATCH[op]
    results, errors = [], {}
    for i, case in enumerate(request[field]):
        try:
            results.append(function(*case) if isinstance(case, list) else function(case))
        except Exception as exc:  # the case's own failure, recorded
            results.append(None)
            errors[str(i)] = f"{type(exc).__name__}: {exc}"
    return {"results": results, "errors": errors}


def main():
    for line in sys.stdin:
        try:
            reply = handle(json.loads(line))
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
