"""A progress bar for long generations: completed/total, output tokens per second, ETA.

Long runs are resumed: the bar starts at what the store already holds, so the rate and the
ETA describe this session's work only.
"""

from __future__ import annotations

import time
from typing import Any

from mathif.generation.protocol import Completion


class Progress:
    """Counts completions as the store receives them; silent when ``enabled`` is false."""

    def __init__(self, total: int, *, done: int = 0, enabled: bool = True,
                 desc: str = "generating") -> None:
        self.total = total
        self.done = done
        self.new = 0
        self.errors = 0
        self.tokens = 0
        self.started = time.monotonic()
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=done, desc=desc, unit="resp",
                             dynamic_ncols=True, smoothing=0.05)

    def update(self, completion: Completion) -> None:
        self.new += 1
        self.tokens += completion.completion_tokens or 0
        if not completion.ok:
            self.errors += 1
        if self._bar is not None:
            self._bar.set_postfix_str(self.postfix(), refresh=False)
            self._bar.update(1)

    @property
    def tokens_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.tokens / elapsed if elapsed > 0 else 0.0

    def postfix(self) -> str:
        text = f"{self.tokens_per_second:,.1f} tok/s"
        if self.errors:
            text += f", {self.errors} errors"
        return text

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
