"""Seeds, sampling settings and chat messages: the values every backend is given."""

from __future__ import annotations

import pytest

from mathif.generation import Request, Sampling, build_messages, derive_seed
from mathif.generation.protocol import Completion
from mathif.prompts import build_prompt


def test_derived_seeds_are_stable_and_distinct() -> None:
    seeds = {derive_seed(0, f"gsm8k_single:{i}", s) for i in range(50) for s in range(4)}
    assert len(seeds) == 200
    assert derive_seed(0, "aime_single:3", 1) == derive_seed(0, "aime_single:3", 1)
    assert derive_seed(0, "aime_single:3", 1) != derive_seed(1, "aime_single:3", 1)
    assert all(0 <= s < 2**31 for s in seeds if s is not None)
    assert derive_seed(None, "aime_single:3", 1) is None


def test_derived_seed_is_pinned() -> None:
    # A changed derivation would silently change every seeded run: pin one value.
    assert derive_seed(0, "gsm8k_single:0", 0) == 54462866
    assert derive_seed(42, "aime_triple:19", 3) == 306064255


@pytest.mark.parametrize(
    "kwargs",
    [{"temperature": -0.1}, {"top_p": 0.0}, {"top_p": 1.5}, {"max_tokens": 0}],
)
def test_sampling_rejects_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Sampling(**kwargs)


def test_paper_defaults() -> None:
    assert Sampling().to_dict() == {"temperature": 1.0, "top_p": 0.95, "max_tokens": 16384}


def test_messages_are_the_paper_prompt_without_system(dataset) -> None:
    item = dataset.items[0]
    (user,) = build_messages(item)
    assert user.role == "user" and user.content == build_prompt(item)
    control = build_messages(item, constraints=False)
    assert control[0].content == build_prompt(item, constraints=False)
    system, user2 = build_messages(item, system_prompt="Be brief.")
    assert system.to_dict() == {"role": "system", "content": "Be brief."}
    assert user2 == user


def test_ids_and_failures() -> None:
    request = Request(key="k:1", sample=2, messages=(), phase="control", seed=7)
    assert request.id == ("control", "k:1", 2)
    failed = Completion.failed(request, "boom")
    assert failed.id == request.id and not failed.ok and failed.text == "" and failed.seed == 7
