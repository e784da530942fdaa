"""The console summary of a run: per pattern, totals, latency and throughput (a top layer,
like fps.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fom.learners.trigger import TRIGGER_PARAMS, rests

if TYPE_CHECKING:  # only the summary record's shape is used here
    from fom.events import RunSummary

__all__ = ["MAX_PARAM_COLUMNS", "events_error_message", "format_summary", "workers_line"]

MAX_PARAM_COLUMNS = 6
"""Patterns with more parameters than this (a network's weights) are summarised, not listed."""


def format_summary(s: RunSummary, *, interrupted: bool = False) -> str:
    """A plain-text table of a RunSummary."""
    lines = []
    if interrupted:
        lines.append("run interrupted: summary of what was played")
    patterns = s.patterns
    names = sorted({n for p in patterns.values() for n in p.params} - set(TRIGGER_PARAMS))
    counted = [set(TRIGGER_PARAMS) <= set(p.params) for p in patterns.values()]
    trigger = bool(counted) and all(counted)
    hidden = len(names) if len(names) > MAX_PARAM_COLUMNS else 0
    if hidden:  # e.g. the mlp learner's weights: a table of them says nothing at a glance
        names = []
    head = (
        f"{'pattern':18} {'encounters':>10} {'kills':>6} {'shots':>7} {'hits':>7} "
        f"{'accuracy':>8} {'dmg dealt':>10}"
    )
    head += "".join(f" {n:>11}" for n in names) + (f" {'rests':>5}" if trigger else "")
    lines.append(head)
    lines.append("-" * len(head))
    for sig, p in patterns.items():
        row = (
            f"{sig:18} {p.encounters:10d} {p.kills:6d} {p.shots:7d} {p.hits:7d} "
            f"{p.accuracy:8.1%} {p.damage_dealt:10.0f}"
        )
        row += "".join(f" {p.params.get(n, float('nan')):11.4f}" for n in names)
        if trigger:  # the trigger rule's verdict on its shot counts, not the counts
            row += f" {'yes' if rests(*(p.params[n] for n in TRIGGER_PARAMS)) else 'no':>5}"
        lines.append(row)
    lines.append("-" * len(head))
    lines.append(
        f"{'total':18} {s.encounters:10d} {s.kills:6d} {s.shots:7d} {s.hits:7d} "
        f"{s.accuracy:8.1%} {s.damage_dealt:10.0f}"
    )
    if hidden:
        shown = f"{hidden} parameters per pattern" + (" and the shot counts" if trigger else "")
        lines.append(f"({shown}, not shown: --save writes them)")
    lat = s.latency_ms
    if s.episodes:  # a real game's episodes (ViZDoom)
        lines.append(
            f"episodes {s.episodes}   died in {s.episode_deaths}   "
            f"mean episode reward {s.episode_reward:.1f}"
        )
    lines += [
        "",
        f"ticks {s.ticks}   kills {s.kills}   deaths {s.deaths}   timeouts {s.timeouts}   "
        f"mean exposure {s.exposure:.3f}",
        f"damage dealt {s.damage_dealt:.0f}   damage taken {s.damage_taken:.0f}",
        f"TIPs: most active at once {s.max_active_tips}   unfinished {s.unfinished}   "
        f"failed {s.failed_tips}",
        f"decisions {s.decisions}   {s.decisions_per_s:,.0f}/s   "
        f"latency p50 {lat.p50:.3f} ms   p99 {lat.p99:.3f} ms   wall {s.wall_s:.2f} s",
    ]
    return "\n".join(lines)


def events_error_message(
    path: str | None, error: OSError, first_lost: int | None, total: int | None = None
) -> str:
    """One line saying why the event stream stopped, from where it is incomplete and, given the
    run's ``total`` number of events, how many it lacks."""
    count = (
        f"{total - first_lost} event{'s' if total - first_lost != 1 else ''}, "
        if total is not None and first_lost is not None
        else ""
    )
    return (
        f"cannot write events to {path}: {error.strerror or error}; the run stopped, and the "
        f"stream lacks every event from seq {first_lost} on ({count}and any still buffered "
        "before it)"
    )


def workers_line(result: Any) -> str:
    """One line on a run over NATS: its workers, what was lost and re-planned, events sent."""
    w = result.workers
    lost = sorted(w.lost_workers)
    text = f"workers: {len(w.seen)} took part, {len(lost)} lost"
    text += f" ({', '.join(lost)})" if lost else ""
    if w.steps:  # the encounters lived on the workers
        text += f"; encounter steps: {w.steps}, encounters failed with a worker: "
        text += f"{w.failed_encounters}; "
    else:
        text += f"; plan batches: {w.batches} on workers, "
        text += f"{w.local_batches} in the driver, {w.resent} sent again; "
    text += f"events on NATS: {result.events_bridged}"
    if result.events_not_bridged:
        text += f", {result.events_not_bridged} refused by NATS"
    return text
