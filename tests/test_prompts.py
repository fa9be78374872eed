from mathif.prompts import BOX_INSTRUCTION, build_prompt


def test_paper_template_concatenates_without_separators(dataset) -> None:
    item = next(i for i in dataset if i.n_constraints == 2)
    prompt = build_prompt(item)
    assert prompt == item.question + BOX_INSTRUCTION + " ".join(item.constraint_desc)
    assert item.question + "Let's think step by step" in prompt  # no separator at all


def test_control_template_drops_the_constraints(dataset) -> None:
    item = dataset[0]
    assert build_prompt(item, constraints=False) == item.question + BOX_INSTRUCTION
    assert "\\boxed{}." in BOX_INSTRUCTION


def test_spaced_template_is_an_explicit_option(dataset) -> None:
    item = dataset[0]
    spaced = build_prompt(item, template="spaced")
    assert spaced.startswith(item.question.strip() + "\n\n" + BOX_INSTRUCTION + "\n\n")
    assert spaced != build_prompt(item)


def test_unknown_template_is_an_error(dataset) -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown prompt template"):
        build_prompt(dataset[0], template="fancy")
