"""LaTeX to plain text, the way the official grader's normaliser sees it.

The official reference pipeline turns LaTeX answers into text with pylatexenc's
``LatexNodes2Text`` before handing them to sympy, and its verdicts depend on the exact
text that comes out (``\\frac{a+b}{c}`` becomes ``a+b/c``; ``\\cot x`` becomes ``x``;
unknown macros vanish but keep their braced arguments, which is why ``\\BOXED{42}`` reads
as ``42``).  Depending on pylatexenc would add a dependency for one function, so this
module reproduces its observable behaviour on the macros math answers use.  It is a
single left-to-right pass, linear in the input, and never evaluates anything.
"""

from __future__ import annotations

# Macros that print a fixed text (no arguments are consumed).
_SYMBOLS: dict[str, str] = {
    # Greek
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ϵ",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "vartheta": "ϑ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "omicron": "ο",
    "pi": "π",
    "varpi": "ϖ",
    "rho": "ρ",
    "varrho": "ϱ",
    "sigma": "σ",
    "varsigma": "ς",
    "tau": "τ",
    "upsilon": "υ",
    "phi": "ϕ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Upsilon": "Υ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    # operators and relations
    "infty": "∞",
    "cup": "∪",
    "cap": "∩",
    "cdot": "·",
    "times": "×",
    "div": "÷",
    "pm": "±",
    "mp": "∓",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "neq": "≠",
    "approx": "≈",
    "equiv": "≡",
    "sim": "∼",
    "simeq": "≃",
    "cong": "≅",
    "propto": "∝",
    "in": "∈",
    "notin": "∉",
    "subset": "⊂",
    "subseteq": "⊆",
    "supset": "⊃",
    "supseteq": "⊇",
    "setminus": "∖",
    "emptyset": "∅",
    "varnothing": "∅",
    "forall": "∀",
    "exists": "∃",
    "circ": "∘",
    "ast": "∗",
    "star": "⋆",
    "oplus": "⊕",
    "otimes": "⊗",
    "odot": "⊙",
    "partial": "∂",
    "nabla": "∇",
    "int": "∫",
    "sum": "∑",
    "prod": "∏",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "Rightarrow": "⇒",
    "Leftarrow": "⇐",
    "leftrightarrow": "↔",
    "Leftrightarrow": "⇔",
    "mapsto": "↦",
    "mid": "|",
    "vert": "|",
    "lvert": "|",
    "rvert": "|",
    "langle": "⟨",
    "rangle": "⟩",
    "lfloor": "⌊",
    "rfloor": "⌋",
    "lceil": "⌈",
    "rceil": "⌉",
    "angle": "∠",
    "perp": "⊥",
    "parallel": "∥",
    "prime": "'",
    "cdots": "⋯",
    "ldots": "…",
    "dots": "…",
    "vdots": "⋮",
    "ddots": "⋱",
    "hbar": "ħ",
    "ell": "ℓ",
    "aleph": "ℵ",
    "neg": "¬",
    "land": "∧",
    "lor": "∨",
    "wedge": "∧",
    "vee": "∨",
    "textdegree": "°",
    "degree": "°",
    "checkmark": "✓",
    "dagger": "†",
    # named functions pylatexenc prints by name
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "arcsin": "arcsin",
    "arccos": "arccos",
    "arctan": "arctan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "ln": "ln",
    "log": "log",
    "exp": "exp",
    "lim": "lim",
    "max": "max",
    "min": "min",
    "sup": "sup",
    "inf": "inf",
    "liminf": "lim inf",
    "limsup": "lim sup",
    # spacing
    "quad": "  ",
    "qquad": "   ",
}
# Macros whose (single) braced argument is dropped together with the macro.
_DROP_WITH_ARG = frozenset(
    {"mbox", "hbox", "label", "ref", "eqref", "cite", "vspace", "hspace", "phantom"}
)
# Accents: argument followed by a combining character.
_ACCENTS: dict[str, str] = {
    "dot": "\u0307",
    "ddot": "\u0308",
    "hat": "\u0302",
    "widehat": "\u0302",
    "vec": "\u20d7",
    "tilde": "\u0303",
    "widetilde": "\u0303",
    "bar": "\u0304",
    "acute": "\u0301",
    "grave": "\u0300",
    "breve": "\u0306",
    "check": "\u030c",
}
# Single-character macros (``\,`` ``\{`` ...).
_CHAR_MACROS: dict[str, str] = {
    ",": " ",
    ";": " ",
    ":": " ",
    " ": " ",
    "!": "",
    "{": "{",
    "}": "}",
    "%": "%",
    "$": "$",
    "&": "&",
    "#": "#",
    "_": "_",
    "\\": "\n",
    "|": "",
    "/": "",
    "-": "",
}


class _Reader:
    """Cursor over the source with the three node kinds pylatexenc distinguishes."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.i = 0

    def at_end(self) -> bool:
        return self.i >= len(self.src)

    def skip_spaces(self) -> None:
        while self.i < len(self.src) and self.src[self.i] in " \t\n\r":
            self.i += 1

    def read_group(self) -> str:
        """Text of the group starting at ``{`` (cursor on it); balanced, linear."""
        depth = 0
        start = self.i + 1
        j = self.i
        n = len(self.src)
        while j < n:
            c = self.src[j]
            if c == "\\":
                j += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    self.i = j + 1
                    return self.src[start:j]
            j += 1
        self.i = n
        return self.src[start:]

    def read_arg(self) -> str | None:
        """One macro argument: a braced group, a macro, or a single character."""
        self.skip_spaces()
        if self.at_end():
            return None
        c = self.src[self.i]
        if c == "{":
            return self.read_group()
        if c == "}":
            return None
        if c == "\\":
            j = self.i + 1
            while j < len(self.src) and self.src[j].isalpha():
                j += 1
            if j == self.i + 1:
                j += 1
            out = self.src[self.i : j]
            self.i = j
            return out
        self.i += 1
        return c

    def read_optional(self) -> str | None:
        self.skip_spaces()
        if self.i < len(self.src) and self.src[self.i] == "[":
            end = self.src.find("]", self.i)
            if end != -1:
                out = self.src[self.i + 1 : end]
                self.i = end + 1
                return out
        return None


def latex_to_text(src: str) -> str:
    """Plain-text rendering of ``src`` with pylatexenc's conventions."""
    return _convert(src, 0)


_MAX_DEPTH = 50


def _convert(src: str, depth: int) -> str:
    if depth > _MAX_DEPTH:
        return ""
    r = _Reader(src)
    out: list[str] = []
    n = len(src)
    while r.i < n:
        c = src[r.i]
        if c == "\\":
            j = r.i + 1
            while j < n and src[j].isalpha():
                j += 1
            if j == r.i + 1:
                ch = src[j] if j < n else ""
                r.i = j + 1
                out.append(_CHAR_MACROS.get(ch, ""))
                continue
            name = src[r.i + 1 : j]
            r.i = j
            r.skip_spaces()
            out.append(_macro(name, r, depth))
        elif c == "{":
            out.append(_convert(r.read_group(), depth + 1))
        elif c == "}" or c == "$":
            r.i += 1
        elif c == "~":
            out.append("\xa0")
            r.i += 1
        elif c == "%":
            nl = src.find("\n", r.i)
            r.i = n if nl == -1 else nl + 1
        else:
            # plain run of characters
            j = r.i
            while j < n and src[j] not in "\\{}$~%":
                j += 1
            out.append(src[r.i : j])
            r.i = j
    return "".join(out)


def _macro(name: str, r: _Reader, depth: int) -> str:
    if name == "frac" or name == "cfrac":
        num = r.read_arg()
        den = r.read_arg()
        if num is None or den is None:
            return ""
        return _convert(num, depth + 1) + "/" + _convert(den, depth + 1)
    if name == "sqrt":
        r.read_optional()
        arg = r.read_arg()
        return "√(" + ("" if arg is None else _convert(arg, depth + 1)) + ")"
    if name in ("begin", "end"):
        env = r.read_arg() or ""
        if env in ("pmatrix", "bmatrix", "matrix", "vmatrix", "array"):
            return "[" if name == "begin" else "]"
        return ""
    if name in _DROP_WITH_ARG:
        r.read_arg()
        return ""
    if name in _ACCENTS:
        arg = r.read_arg()
        return ("" if arg is None else _convert(arg, depth + 1)) + _ACCENTS[name]
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    # Unknown or formatting macro (\text, \mathrm, \boxed, \left, \BOXED ...): it vanishes,
    # and any braced groups after it are ordinary groups.
    return ""
