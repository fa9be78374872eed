"""The reference grader's LaTeX-to-text step is pylatexenc 2.10's, macro for macro.

The golden outputs were produced by ``LatexNodes2Text().latex_to_text`` in the benchmark's
pinned environment (tests/official); the generated corpus is compared with it live.
"""

from __future__ import annotations

import random
from importlib.metadata import version

import pytest

from mathif.grading import reference as ref
from tests.official import official

GOLDEN = [
    (r"Final answer: $x = 211$ \quad $\blacksquare$", "Final answer: x = 211   ▪"),
    (r"\square", "□"),
    (r"\blacksquare", "▪"),
    (r"\therefore x", "∴x"),
    (r"\surd 2", "√2"),
    (r"\bullet", "∙"),
    (r"\lbrace 1 \rbrace", "{1 }"),
    (r"\item 3", "\n  * 3"),
    (r"\checkmark", ""),
    (r"\neg p", "p"),
    (r"\textsf{12}", ""),
    (r"\texttt{12}", ""),
    (r"\textup{12}", ""),
    (r"\color{red}{5}", "5"),
    (r"{\color{red} 5}", " 5"),
    (r"\vphantom{x}5", "5"),
    (r"\phantom{7}5", "75"),
    (r"\cfrac{1}{2}", "12"),
    (r"\nicefrac{1}{2}", "1/2"),
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", "[ 1; 2 ]"),
    (r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}", "[ 1 2; 3 4 ]"),
    (r"\frac{a+b}{c}", "a+b/c"),
    (r"\sqrt{x}", "√(x)"),
    (r"\sqrt[3]{8}", "√(8)"),
    (r"\BOXED{42}", "42"),
    (r"\text{Evelyn}", "Evelyn"),
    (r"\mathbf{v}", "𝐯"),
    (r"\left( 3, \frac{\pi}{2} \right)", "( 3, π/2 )"),
    (r"\infty", "∞"),
]


def test_pylatexenc_is_the_pinned_release() -> None:
    assert version("pylatexenc") == "2.10"


@pytest.mark.parametrize(("latex", "text"), GOLDEN)
def test_golden_conversions(latex: str, text: str) -> None:
    assert ref.latex_to_text(latex) == text


def test_official_wrapper_keeps_its_input_when_pylatexenc_raises() -> None:
    deep = "\\sqrt{" * 3000 + "2" + "}" * 3000
    assert ref.latex_to_plain(deep) == deep  # RecursionError inside pylatexenc, caught
    assert ref.latex_to_plain(r"\dfrac{1}{2}") == "1/2"
    assert ref.latex_to_plain(r"3\cdot 4 \times \pi") == "3*4 *pi"  # "3·4 ×π", then swaps


# --------------------------------------------------------------------------------------------
# Generated LaTeX answers
# --------------------------------------------------------------------------------------------

def _names(text: str) -> list[str]:
    return text.split()


SYMBOLS = _names(r"""
\alpha \beta \Gamma \pi \varepsilon \infty \cdot \times \div \pm \mp \le \leq \ge \neq
\approx \equiv \sim \cong \in \notin \subset \cup \cap \setminus \emptyset \varnothing \forall
\exists \partial \nabla \to \rightarrow \Rightarrow \iff \mapsto \mid \vert \langle \rangle
\lfloor \rfloor \lceil \rceil \angle \perp \parallel \prime \cdots \ldots \dots \vdots \hbar
\ell \aleph \neg \lnot \land \lor \wedge \vee \circ \bullet \star \ast \square \blacksquare
\Box \triangle \therefore \because \surd \checkmark \dagger \degree \textdegree \quad \qquad
\, \; \: \! \  \{ \} \$ \% \& \# \_ \lbrace \rbrace \lbrack \rbrack \sin \cos \tan \log \ln
\exp \lim \max \min \sup \inf \det \gcd \arcsin \cot \sec \csc \sinh \dagger \S \P \copyright
\ldots \hline \displaystyle \textstyle \limits \nolimits \left( \right) \left[ \right]
\left| \right| \left\{ \right\} \bigl( \bigr) \Big| \big[ \item \newline \\ \par \noindent
\centering \hfill \vfill \medskip \smallskip \bigskip \relax \BOXED \boxed \fbox \foo \Answer
\i \j \o \O \ss \ae \l \L \aa \AA \ldots \textbackslash \textasciitilde""")
ONE_ARG = _names(r"""
\text \textbf \textit \textrm \textsf \texttt \textup \textsc \emph \mathbf \mathrm
\mathit \mathsf \mathtt \mathcal \mathbb \mathfrak \boldsymbol \operatorname \mbox \hbox
\phantom \vphantom \hphantom \underline \overline \hat \widehat \tilde \widetilde \bar \vec \dot
\ddot \acute \grave \breve \check \sqrt \boxed \fbox \label \ref \eqref \cite \footnote \vspace
\hspace \url \verb \textcolor \color \unknownmacro \BOXED \Text""")
TWO_ARG = _names(r"""\frac \dfrac \tfrac \cfrac \nicefrac \binom \dbinom \tbinom \textcolor
\stackrel \overset \underset \href \foo""")
ENVIRONMENTS = ["pmatrix", "bmatrix", "matrix", "vmatrix", "Bmatrix", "array", "cases",
                "align", "align*", "equation", "equation*", "itemize", "enumerate", "tabular",
                "gathered", "split", "center", "unknownenv"]
PLAIN = ["1", "2", "42", "3.5", "x", "y", "a+b", "-", "+", "=", "(", ")", "[", "]", ",", ";", "/",
         "^", "_", "'", "!", "?", ":", " ", " ", "\n", "~", "&", "--", "---", "``", "''", "é",
         "½", "π", "0.25", "10^{3}", "x^2", "a_1", "%comment\n", "\\%", "|", "<", ">", "*"]


def _group(rng: random.Random, depth: int) -> str:
    return "{" + _latex(rng, depth + 1, rng.randint(0, 4)) + "}"


def _arg(rng: random.Random, depth: int) -> str:
    roll = rng.random()
    if roll < 0.75:
        return _group(rng, depth)
    if roll < 0.9:
        return rng.choice(PLAIN[:8])
    return rng.choice(SYMBOLS)


def _piece(rng: random.Random, depth: int) -> str:
    roll = rng.random()
    if depth > 2 or roll < 0.35:
        return rng.choice(PLAIN)
    if roll < 0.55:
        return rng.choice(SYMBOLS) + rng.choice(["", " ", "{}"])
    if roll < 0.68:
        name = rng.choice(ONE_ARG)
        opt = f"[{rng.choice(['3', 'red', 'n'])}]" if rng.random() < 0.15 else ""
        return name + opt + _arg(rng, depth) + ("" if rng.random() < 0.7 else _arg(rng, depth))
    if roll < 0.8:
        return rng.choice(TWO_ARG) + _arg(rng, depth) + (_arg(rng, depth)
                                                         if rng.random() < 0.9 else "")
    if roll < 0.88:
        env = rng.choice(ENVIRONMENTS)
        spec = "{cc}" if env in ("array", "tabular") else ""
        rows = [" & ".join(_latex(rng, depth + 1, rng.randint(1, 3))
                           for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 3))]
        end = f"\\end{{{env}}}" if rng.random() < 0.9 else ""
        return f"\\begin{{{env}}}{spec} " + " \\\\ ".join(rows) + f" {end}"
    if roll < 0.95:
        left, right = rng.choice([("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$"),
                                  ("$", "")])
        return left + _latex(rng, depth + 1, rng.randint(1, 4)) + right
    return _group(rng, depth) if rng.random() < 0.8 else rng.choice(["{", "}", "\\", "$"])


def _latex(rng: random.Random, depth: int, length: int) -> str:
    return "".join(_piece(rng, depth) for _ in range(length))


def generated_answers(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [_latex(rng, 0, rng.randint(1, 6)) for _ in range(n)]


def _ours(text: str) -> str | None:
    try:
        return ref.latex_to_text(text)
    except Exception:
        return None


def test_generated_answers_convert_as_in_the_pinned_environment() -> None:
    o = official()
    texts = generated_answers(6000)
    assert len(set(texts)) > 5000
    theirs = o.latex(texts)
    different = [(t, ours, official_text) for t, ours, official_text in
                 zip(texts, map(_ours, texts), theirs, strict=True) if ours != official_text]
    assert different == []


# --------------------------------------------------------------------------------------------
# The shortcut that skips the conversion for answers that certainly fail
# --------------------------------------------------------------------------------------------

PROSE_WORDS = ["the", "answer", "is", "we", "get", "so", "total", "value", "let", "think", "x",
               "y", "z", "perhaps", "not", "abc", "Wait", "E"]
PROSE_PIECES = [r"\(", r"\)", r"\[", r"\]", "$", r"\frac{1}{2}", r"\sqrt{3}", r"\pi",
                r"\textsf{ab}", r"\color{red}", r"\text{cm}", "%", "{", "}", r"\\", r"\,", r"\ ",
                "[", "]", r"\sqrt[3]{x}", r"\left(", r"\right)", "\n", r"\mathbf{v}", r"\boxed{5}",
                "~", "&", r"\'e", r"\textcolor{red}{blue} green", r"\unknown word", r"\cos", "é",
                r"\verb|x|"]


def prose_answers(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(PROSE_WORDS) if rng.random() < 0.6 else rng.choice(PROSE_PIECES)
                     for _ in range(rng.randint(1, 25))) for _ in range(n)]


def test_surely_printed_letters_are_printed() -> None:
    """A lower bound of the letters in pylatexenc's text (checked against pylatexenc itself)."""
    checked = 0
    for text in generated_answers(2500, seed=3) + prose_answers(2500, seed=4):
        letters = ref._surely_printed_letters(text)
        converted = _ours(text)
        if letters and converted is not None:
            checked += 1
            assert letters <= set(converted.lower()), text
    assert checked > 1500


def test_letters_shortcut_never_changes_a_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    golds = ["5", "x", "\\frac{1}{2}", "abc", "\\text{perhaps}", "x+y", "2\\pi", "0.5"]
    rng = random.Random(9)
    pairs = [(text, rng.choice(golds)) for text in prose_answers(3000, seed=5)]
    fired = [(t, g) for t, g in pairs if ref._letters_rule_out(t, ref.prm_normalize(g))]
    assert len(fired) > 300
    monkeypatch.setattr(ref, "_letters_rule_out", lambda given, gold_n: False)
    assert not any(ref.grade_answer(t, g, sympy_ok=True) for t, g in fired)
