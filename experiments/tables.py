"""Formatting for results.md: numbers, intervals, verdicts, Markdown tables and the 'paper vs
ours' claims."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from experiments.stats import Stat

__all__ = [
    "CLAIM_HEADER",
    "Claim",
    "Fmt",
    "ci",
    "claims_block",
    "f_ms",
    "f_pct",
    "f_pts",
    "f_ratio",
    "f_spct",
    "fixed",
    "table",
    "verdict",
]

Fmt = Callable[[float], str]


def f_pct(x: float) -> str:
    """A fraction as a percentage."""
    return f"{100 * x:.1f}%"


def f_spct(x: float) -> str:
    """A relative change as a signed percentage."""
    return f"{100 * x:+.1f}%"


def f_pts(x: float) -> str:
    """A difference of fractions in percentage points."""
    return f"{100 * x:+.1f} pts"


def f_ratio(x: float) -> str:
    """A ratio."""
    return f"{x:.3g}x"


def f_ms(x: float) -> str:
    """Milliseconds."""
    return f"{x:.3g} ms"


def fixed(digits: int, signed: bool = False) -> Fmt:
    """A plain number with ``digits`` decimals."""
    sign = "+" if signed else ""
    return lambda x: f"{x:{sign}.{digits}f}"


def ci(st: Stat, fmt: Fmt) -> str:
    """``mean [lo, hi]``, or n/a when nothing was measured."""
    if st.n == 0 or not math.isfinite(st.mean):
        return "n/a"
    return f"{fmt(st.mean)} [{fmt(st.lo)}, {fmt(st.hi)}]"


def verdict(paper: float, st: Stat) -> str:
    """Agreement when the paper's figure lies inside our 95% interval."""
    if st.n == 0 or not math.isfinite(st.mean):
        return "n/a"
    if st.contains(paper):
        return "agrees"
    return "disagrees: ours higher" if st.mean > paper else "disagrees: ours lower"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


@dataclass(frozen=True, slots=True)
class Claim:
    """One row of a 'paper vs ours' table: the paper's figure and ours per planner."""

    name: str
    paper_text: str
    paper: float
    fmt: Fmt
    graph: Stat
    fmc: Stat | None = None

    def row(self) -> tuple[str, ...]:
        """The table cells."""
        fmc = ("-", "-")
        if self.fmc is not None:
            fmc = (ci(self.fmc, self.fmt), verdict(self.paper, self.fmc))
        ours = ci(self.graph, self.fmt)
        return (self.name, self.paper_text, ours, verdict(self.paper, self.graph), *fmc)

    def sentence(self) -> str:
        """One plain sentence about the graph-planner figure."""
        ours = ci(self.graph, self.fmt)
        if verdict(self.paper, self.graph) == "agrees":
            return f"{self.name}: the paper's {self.paper_text} lies inside ours, {ours}."
        side = "above" if self.graph.mean > self.paper else "below"
        return f"{self.name}: ours, {ours}, is {side} the paper's {self.paper_text}."


CLAIM_HEADER = (
    "Claim",
    "Paper",
    "Ours: graph planner",
    "Verdict (graph)",
    "Ours: FMC planner",
    "Verdict (FMC)",
)


def claims_block(claims: Sequence[Claim]) -> list[str]:
    """The 'paper vs ours' table and the plain statement generated from it."""
    graph = [verdict(c.paper, c.graph) for c in claims]
    fmc = [verdict(c.paper, c.fmc) for c in claims if c.fmc is not None]
    agree = [c for c, v in zip(claims, graph, strict=True) if v == "agrees"]
    disagree = [c for c, v in zip(claims, graph, strict=True) if v.startswith("disagrees")]
    lines = [*table(CLAIM_HEADER, (c.row() for c in claims)), ""]
    lines.append(
        f"With the graph planner (the paper's own flank-biased Dijkstra), {len(agree)} of these "
        f"{len(claims)} figures {'agrees' if len(agree) == 1 else 'agree'} with the paper and "
        f"{len(disagree)} {'does' if len(disagree) == 1 else 'do'} not"
        + (
            f"; with the product's FMC planner, {fmc.count('agrees')} of {len(fmc)} "
            + ("agrees" if fmc.count("agrees") == 1 else "agree")
            if fmc
            else ""
        )
        + ". A figure agrees when the paper's value lies inside our 95% interval."
    )
    for title, group in (("Where we agree:", agree), ("Where we do not:", disagree)):
        if group:
            lines += ["", title, *(f"- {c.sentence()}" for c in group)]
    return lines
