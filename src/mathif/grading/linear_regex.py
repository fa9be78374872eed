"""A tiny regular-language matcher whose running time is linear in the text.

Python's ``re`` backtracks: a pattern whose parts can split the same text in many ways
(``[A-Za-z]+`` next to ``per``, ``\\s*`` next to ``\\s+``) can take exponential time on a
crafted string, and model text is crafted by an attacker.  Where a pattern cannot be
rewritten into one with a single way to match, it is expressed here instead, with the same
building blocks, and run as an automaton (Thompson's construction, simulated backwards with
the state sets cached, as RE2 does): one step per character whatever the pattern.

Only what the graders need is supported: character predicates, literals, sequence,
alternation, ``?``, ``*``, ``+`` and bounded repetition.  The question answered is which
suffixes of a text match the whole pattern (``pattern$``), which is what a tail such as
"a number followed by units" needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CharTest = Callable[[str], bool]


@dataclass(frozen=True)
class Node:
    """A pattern: ``kind`` is one of char, seq, alt, star; ``parts`` its sub-patterns."""

    kind: str
    parts: tuple[Node, ...] = ()
    test: CharTest | None = None


def char(test: CharTest) -> Node:
    """One character for which ``test`` holds."""
    return Node("char", test=test)


def chars(allowed: str) -> Node:
    """One character out of ``allowed``."""
    return char(allowed.__contains__)


def literal(text: str) -> Node:
    """Exactly ``text``."""
    return seq(*(char(c.__eq__) for c in text))


def seq(*parts: Node) -> Node:
    return Node("seq", parts)


def alt(*parts: Node) -> Node:
    return Node("alt", parts)


def star(part: Node) -> Node:
    return Node("star", (part,))


def plus(part: Node) -> Node:
    return seq(part, star(part))


def opt(part: Node) -> Node:
    return alt(part, seq())


def repeat(part: Node, low: int, high: int) -> Node:
    """``part{low,high}``."""
    return seq(*([part] * low), *([opt(part)] * (high - low)))


class SuffixMatcher:
    """Which suffixes of a text match ``pattern`` as a whole (``re.fullmatch`` on each)."""

    def __init__(self, pattern: Node) -> None:
        self._eps: list[list[int]] = []
        self._char: list[tuple[CharTest, int] | None] = []
        start, accept = self._build(pattern)
        self.start = start
        n = len(self._eps)
        # backwards epsilon closure: every state from which ``q`` is reachable without input
        back: list[list[int]] = [[] for _ in range(n)]
        for q, targets in enumerate(self._eps):
            for t in targets:
                back[t].append(q)
        self._reaching = [self._states_reaching(q, back) for q in range(n)]
        self._accepting = self._reaching[accept]
        self._char_states = [
            (q, edge[0], edge[1]) for q, edge in enumerate(self._char) if edge is not None
        ]
        self._class_of: dict[str, int] = {}
        self._step: dict[tuple[int, int], int] = {}

    def _new_state(self) -> int:
        self._eps.append([])
        self._char.append(None)
        return len(self._eps) - 1

    def _build(self, node: Node) -> tuple[int, int]:
        """Thompson fragment for ``node``: (entry state, exit state)."""
        if node.kind == "char":
            assert node.test is not None
            s, e = self._new_state(), self._new_state()
            self._char[s] = (node.test, e)
            return s, e
        if node.kind == "seq":
            s = e = self._new_state()
            for part in node.parts:
                ps, pe = self._build(part)
                self._eps[e].append(ps)
                e = pe
            return s, e
        if node.kind == "alt":
            s, e = self._new_state(), self._new_state()
            for part in node.parts:
                ps, pe = self._build(part)
                self._eps[s].append(ps)
                self._eps[pe].append(e)
            return s, e
        if node.kind == "star":
            s, e = self._new_state(), self._new_state()
            ps, pe = self._build(node.parts[0])
            self._eps[s] += [ps, e]
            self._eps[pe] += [ps, e]
            return s, e
        raise ValueError(f"unknown pattern kind {node.kind!r}")

    @staticmethod
    def _states_reaching(target: int, back: list[list[int]]) -> int:
        mask = 1 << target
        todo = [target]
        while todo:
            for q in back[todo.pop()]:
                if not mask >> q & 1:
                    mask |= 1 << q
                    todo.append(q)
        return mask

    def _class(self, ch: str) -> int:
        """The set of character transitions ``ch`` can take (as a bit mask of states)."""
        cls = self._class_of.get(ch)
        if cls is None:
            cls = 0
            for q, test, _ in self._char_states:
                if test(ch):
                    cls |= 1 << q
            if len(self._class_of) < 4096:
                self._class_of[ch] = cls
        return cls

    def _before(self, cls: int, after: int) -> int:
        """States from which one character of class ``cls`` leads into ``after``."""
        key = (cls, after)
        found = self._step.get(key)
        if found is not None:
            return found
        out = 0
        for q, _, nxt in self._char_states:
            if cls >> q & 1 and after >> nxt & 1:
                out |= self._reaching[q]
        if len(self._step) < 65536:
            self._step[key] = out
        return out

    def matching_suffixes(self, text: str, *, dollar: bool = False) -> list[bool]:
        """``result[i]`` says whether ``text[i:]`` matches the pattern (``len(text) + 1`` flags).

        With ``dollar``, a match may also end just before a final newline, as ``$`` allows.
        """
        n = len(text)
        out = [False] * (n + 1)
        states = self._accepting
        out[n] = bool(states >> self.start & 1)
        for i in range(n - 1, -1, -1):
            states = self._before(self._class(text[i]), states)
            if dollar and i == n - 1 and text[i] == "\n":
                states |= self._accepting
            if not states:
                break  # no state leads to a match: nothing further left can match either
            out[i] = bool(states >> self.start & 1)
        return out
