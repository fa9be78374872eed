"""A tiny random-weight chat model, built on the spot with no download.

Why it exists: the generation pipeline (chat template, backends, run store, scoring) must be
testable on any machine, offline, in seconds. Random weights give nonsense answers, which is
fine: what is checked is the plumbing. The tokenizer is trained here with ``tokenizers`` and
its chat template behaves like a reasoning model's (Qwen3 style): the generation prompt opens
``<think>`` unless ``enable_thinking=False`` is passed, so outputs carry ``</think>`` the way
real reasoning models' do.

``python -m mathif.generation.tiny DIR`` writes such a model folder; then
``mathif eval --model DIR --limit 4 --max-tokens 16`` checks an installation end to end.
Needs the ``hf`` extra (transformers, torch, tokenizers).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
THINK_TOKENS = ("<think>", "</think>")

# Jinja chat template: no default system prompt, think tags as in Qwen3's template.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n"
    "{% else %}<think>\n{% endif %}"
    "{% endif %}"
)

# Training text: enough English, math and markup for a few hundred BPE merges. The byte-level
# alphabet makes every input encodable whatever the corpus.
_CORPUS = (
    "Let's think step by step and output the final answer within \\boxed{}. "
    "The answer is 42. First, we compute the sum of the numbers. Then we divide by two. "
    "Your response should contain at least 3 sentences. Answer with less than 200 words. "
    "Wrap your entire response with double quotation marks. Do not include any commas. "
    "Your entire response should be in English, and in all capital letters. "
    "Highlight at least 2 sections in your answer with markdown, i.e. *highlighted section*. "
    "Finish your response with this exact phrase: Is there anything else I can help with? "
    "x^2 + y^2 = z^2, \\frac{1}{2}, \\sqrt{3}, 3.14, 1000, 2024, AIME, GSM8K, MATH500. "
    "* bullet one\n* bullet two\nSECTION 1\nSECTION 2\n"
)


def _train_tokenizer(vocab_size: int):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([_CORPUS] * 4, trainer=trainer)
    return tokenizer


def build_tiny_model(
    path: str | os.PathLike[str],
    *,
    vocab_size: int = 384,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 2,
    head_dim: int = 32,
    seed: int = 0,
    think_bias: float = 0.0,
) -> Path:
    """Write a random-weight Llama-architecture chat model and its tokenizer to ``path``.

    ``head_dim`` defaults to 32 because vLLM's CPU attention kernels need at least that.
    ``think_bias`` > 0 makes the model end its reasoning often, whatever the prompt (tests of
    the probes, which need ``</think>``): every input embedding gets a shared component along
    one direction, which the residual stream carries to the last layer, and the output row of
    ``</think>`` points along it with length ``think_bias`` (1.7: about 5 ``</think>`` per
    hundred tokens).
    The result loads with ``AutoModelForCausalLM``/``AutoTokenizer``, vLLM and
    ``transformers serve``; building it takes about a second.
    """
    import torch
    from transformers import (
        GenerationConfig,
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
    )

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    raw = _train_tokenizer(vocab_size)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    # Think tags are ordinary added tokens (as in Qwen3): decoding keeps them in the text.
    tokenizer.add_tokens(list(THINK_TOKENS), special_tokens=False)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.model_max_length = 4096
    tokenizer.save_pretrained(out)

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        head_dim=head_dim,
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        # An untied, larger output layer gives peaked but varied random logits: outputs
        # that change with the seed and contain every kind of token, think tags included.
        model.lm_head.weight.normal_(0.0, 0.5)
        if think_bias:
            _favour_think_end(model, tokenizer, think_bias)
    # Sampling by default, as real chat models ship it: servers that start from the model's
    # generation config (``transformers serve``) then honour temperature, top_p and seed.
    model.generation_config = GenerationConfig(
        do_sample=True, temperature=1.0, top_p=1.0, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    model.float().save_pretrained(out)
    return out


def _favour_think_end(model, tokenizer, scale: float) -> None:  # type: ignore[no-untyped-def]
    """A shared embedding component along ``u`` and the ``</think>`` output row ``scale * u``
    (see :func:`build_tiny_model`)."""
    import torch

    generator = torch.Generator().manual_seed(1)
    u = torch.randn(model.config.hidden_size, generator=generator)
    u /= u.norm()
    model.model.embed_tokens.weight += 0.3 * u
    row = tokenizer.convert_tokens_to_ids(THINK_TOKENS[1])
    model.lm_head.weight[row] = scale * u


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mathif.generation.tiny DIR", file=sys.stderr)
        return 2
    print(build_tiny_model(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
