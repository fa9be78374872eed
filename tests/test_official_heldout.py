"""Live conformance on a held-out-like corpus of hard responses (tests/official/heldout.py).

A seeded subset (7 cases per item, 2,940 responses: think/answer layouts x answer forms x
constraint-following bodies) is scored by mathif and by the official scorer in its pinned
environment; answer parts, constraint verdicts and ``--grader reference`` correctness must all
be identical. ``benchmarks/conformance_reference.py`` runs the full measurement.
"""

from __future__ import annotations

import pytest

from tests.conftest import need_shared
from tests.official import official
from tests.official.heldout import FORMS, LAYOUTS, generate, measure


@pytest.mark.slow
def test_heldout_like_corpus_agrees_with_the_pinned_environment() -> None:
    o = official()
    import mathif

    items = list(mathif.load(need_shared("mathif")))
    cases = generate(items, per_item=7, seed=11)
    assert {case.layout for case in cases} == set(LAYOUTS)
    assert len({case.form for case in cases}) > 0.9 * len(FORMS)
    result = measure(o, cases)
    print("\n" + result.summary())
    assert result.split_same == result.cases, result.summary()
    assert result.constraint_same == result.constraint_total, result.summary()
    assert result.correct_same == result.cases, result.summary()
    assert 0.1 * result.cases < result.official_correct < 0.9 * result.cases
