"""The five PNGs of results.md, drawn on headless matplotlib Figures (Agg canvas, no pyplot)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from experiments.measure import ComputeRecord, LatencyRow
from experiments.runs import RunRecord
from experiments.settings import (
    COLORS,
    LEARNER_PLANNERS,
    LEARNERS,
    PAPER,
    PAPER_LEARNERS,
    PLANNERS,
    UNCOVERED,
    Settings,
)
from experiments.stats import Group, Stat, curve_ci, mean_ci, paired, relative

__all__ = ["PNGS", "plot_all"]


def _figure(width: float, height: float) -> Any:
    """A headless matplotlib Figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_curves(groups: dict[str, Group], s: Settings, path: Path) -> None:
    """Accuracy learning curves (moving window) per learner, one panel per planner."""
    fig = _figure(12, 4.6)
    axes = fig.subplots(1, len(LEARNER_PLANNERS), sharey=True)
    at = min(x.at for x in groups.values())  # the report's 'after N encounters'
    for ax, planner in zip(axes, LEARNER_PLANNERS, strict=True):
        for learner in LEARNERS:
            g = groups[f"{learner}/{planner}"]
            x = np.arange(1, g.k + 1)
            mean, lo, hi = curve_ci(g.curve)
            ax.plot(x, mean, color=COLORS[learner], lw=2, label=f"{learner} (ours)")
            lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
            ax.fill_between(x, lo, hi, color=COLORS[learner], alpha=0.2, lw=0)
        for learner in PAPER_LEARNERS:
            err = PAPER["fom_accuracy_pm"] if learner == "fom" else None
            ax.errorbar(
                [PAPER["encounters"]],
                [PAPER[f"{learner}_accuracy"]],
                yerr=err,
                fmt="*",
                ms=14,
                capsize=5,
                color=COLORS[learner],
                mec="black",
                mew=0.8,
                label=f"{learner} (paper)",
            )
        ax.axvline(at, color="black", lw=0.8, ls=":")
        ax.set_title(f"{planner} planner — {s.world} world, {len(g.runs)} seeds, 95% bands")
        ax.set_xlabel("encounter (in order of completion)")
        ax.grid(alpha=0.3)
        ax.set_ylim(0.0, 1.0)
        ax.set_xlim(0, max(g.k, int(PAPER["encounters"])) + 5)
    axes[0].set_ylabel(f"accuracy over the last {s.window} encounters")
    axes[0].legend(loc="lower right", fontsize=8, ncol=2)
    fig.savefig(path)


def _bars(
    ax: Any,
    labels: Sequence[str],
    stats: Sequence[Stat],
    colors: Sequence[str],
    scale: float,
    log: bool = False,
) -> None:
    """Bars of means with 95% error bars, the value written above each (log: zeros as 0)."""
    x = np.arange(len(labels))
    means = np.array([st.mean for st in stats]) * scale
    err = np.array([[st.mean - st.lo, st.hi - st.mean] for st in stats]).T * scale
    err = np.maximum(err, 0.0)
    ax.bar(x, means, yerr=err, color=colors, capsize=5, alpha=0.85)
    ax.set_xticks(x, labels, fontsize=8)
    top = float(np.nanmax(means + err[1])) if len(means) else 1.0
    for xi, m, e in zip(x, means, err[1], strict=True):
        text = f"{m:.3g}" if m > 0 else "0"
        y = max(m + e, 1.0) * 1.3 if log else m + e + 0.02 * top
        ax.text(xi, y, text, ha="center", va="bottom", fontsize=8)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(0.5, top * 20)
    else:
        ax.set_ylim(0, top * 1.18)
    ax.grid(axis="y", alpha=0.3)


def _exposure(r: RunRecord) -> float:
    return r.exposure


def _uncovered(r: RunRecord) -> float:
    return r.uncovered


def plot_exposure(groups: dict[str, Group], path: Path) -> None:
    """Mean exposure and uncovered fraction per learner and planner; change vs static."""
    fig = _figure(14, 4.4)
    axes = fig.subplots(1, 3)
    keys = [f"{lr}/{pl}" for pl in LEARNER_PLANNERS for lr in LEARNERS]
    labels = [k.replace("/", "\n") for k in keys]
    colors = [COLORS[k.split("/")[0]] for k in keys]
    _bars(axes[0], labels, [groups[k].per_seed(_exposure) for k in keys], colors, 1)
    axes[0].set_title("mean exposure (1 - cover) per decision")
    _bars(axes[1], labels, [groups[k].per_seed(_uncovered) for k in keys], colors, 1)
    axes[1].set_title(f"fraction of decisions on uncovered nodes (exposure > {UNCOVERED})")
    learners = [lr for lr in LEARNERS if lr != "static"]
    names = [f"{lr}\n{pl}" for pl in LEARNER_PLANNERS for lr in learners]
    changes = [
        paired(groups[f"{lr}/{pl}"], groups[f"static/{pl}"], relative(_uncovered))
        for pl in LEARNER_PLANNERS
        for lr in learners
    ]
    x = np.arange(len(names))
    means = np.array([c.mean for c in changes]) * 100
    err = np.array([[c.mean - c.lo, c.hi - c.mean] for c in changes]).T * 100
    axes[2].bar(x, means, yerr=err, capsize=5, color=[COLORS[n.split()[0]] for n in names])
    for xi, m, lo, hi in zip(x, means, err[0], err[1], strict=True):
        y, va = (m + hi + 1.0, "bottom") if m >= 0 else (m - lo - 1.0, "top")
        axes[2].text(xi, y, f"{m:+.1f}%", ha="center", va=va, fontsize=8)
    axes[2].margins(y=0.12)
    axes[2].axhline(
        PAPER["exposure_change"] * 100, color="black", ls="--", lw=1, label="paper: -27%"
    )
    axes[2].axhline(0, color="black", lw=0.6)
    axes[2].set_xticks(x, names, fontsize=8)
    axes[2].set_ylabel("% change vs static (same planner)")
    axes[2].set_title("uncovered-decision fraction, change vs static")
    axes[2].legend(fontsize=8)
    axes[2].grid(axis="y", alpha=0.3)
    fig.savefig(path)


def plot_planners(groups: dict[str, Group], s: Settings, path: Path) -> None:
    """Graph, FMC and MC (fom learner): accuracy, damage taken per encounter, exposure."""
    fig = _figure(12, 4.0)
    axes = fig.subplots(1, 3)
    gs = [groups[f"fom/{p}"] for p in PLANNERS]
    colors = [COLORS[p] for p in PLANNERS]
    _bars(axes[0], PLANNERS, [g.per_seed(lambda r: r.accuracy) for g in gs], colors, 100)
    axes[0].set_title("accuracy over the run (%)")
    _bars(axes[1], PLANNERS, [g.per_seed(lambda r: r.damage_per_encounter) for g in gs], colors, 1)
    axes[1].set_title("damage taken per encounter")
    _bars(axes[2], PLANNERS, [g.per_seed(_exposure) for g in gs], colors, 1)
    axes[2].set_title("mean exposure per decision")
    fig.suptitle(
        f"planners compared (fom learner, {s.world} world; MC at FMC's walker-step budget)"
    )
    fig.savefig(path)


def plot_compute(compute: list[ComputeRecord], groups: dict[str, Group], path: Path) -> None:
    """Learner CPU per decision (sync driver), whole-system CPU per decision, flops."""
    fig = _figure(13, 4.0)
    axes = fig.subplots(1, 3)
    colors = [COLORS[lr] for lr in LEARNERS]
    learner_cpu = [
        mean_ci(c.us_per_decision for c in compute if c.learner == lr) for lr in LEARNERS
    ]
    _bars(axes[0], LEARNERS, learner_cpu, colors, 1)
    axes[0].set_title("learner act+update: CPU µs per decision\n(sync driver, fom.simulate)")
    system = [
        groups[f"{lr}/graph"].per_seed(lambda r: r.cpu_s / r.decisions * 1e6) for lr in LEARNERS
    ]
    _bars(axes[1], LEARNERS, system, colors, 1)
    axes[1].set_title("whole system: CPU µs per decision\n(fom.app.run, graph planner)")
    flops = [groups[f"{lr}/graph"].per_seed(lambda r: r.flops_per_decision) for lr in LEARNERS]
    _bars(axes[2], LEARNERS, flops, colors, 1, log=True)
    axes[2].set_title("learner flops per decision (counted)\nlog scale; static = 0")
    fig.savefig(path)


def plot_latency(latency: dict[str, list[LatencyRow]], path: Path) -> None:
    """p50 and p99 decision latency against concurrent TIPs, per planner (log-log)."""
    fig = _figure(8.5, 5.0)
    ax = fig.subplots()
    for planner, rows in latency.items():
        x = [r.tips for r in rows]
        color = COLORS[planner]
        ax.plot(x, [r.p50_ms for r in rows], "o-", color=color, label=f"{planner} p50")
        ax.plot(x, [r.p99_ms for r in rows], "s--", color=color, alpha=0.7,
                label=f"{planner} p99")  # fmt: skip
    ax.plot(
        [1, PAPER["latency_tips_max"]],
        [PAPER["latency_p50_ms"]] * 2,
        "k:",
        lw=2,
        label="paper: p50 1.6 ms, up to 64 TIPs",
    )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("concurrent TIPs (enhanced world)")
    ax.set_ylabel("decision latency (ms): observation to action")
    ax.set_title("decision latency vs concurrent TIPs")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.savefig(path)


PNGS: tuple[str, ...] = (
    "learning_curves.png",
    "exposure.png",
    "planners.png",
    "compute.png",
    "latency.png",
)


def plot_all(
    groups: dict[str, Group],
    compute: list[ComputeRecord],
    latency: dict[str, list[LatencyRow]],
    s: Settings,
    out: Path,
) -> None:
    """Write every PNG of ``PNGS`` into ``out``."""
    plot_curves(groups, s, out / "learning_curves.png")
    plot_exposure(groups, out / "exposure.png")
    plot_planners(groups, s, out / "planners.png")
    plot_compute(compute, groups, out / "compute.png")
    plot_latency(latency, out / "latency.png")
