"""The comparison sections of results.md (deterministic figures): path exposure, the planners,
the MLP learner beside FOM, and counted operations per decision."""

from __future__ import annotations

from experiments.runs import RunRecord
from experiments.settings import LEARNER_PLANNERS, LEARNERS, PLANNERS, UNCOVERED, Settings
from experiments.stats import Group, Stat, diff, paired, paired_window, ratio, relative
from experiments.tables import ci, f_pct, f_pts, f_ratio, f_spct, fixed, table
from fom.learners.mlp import FEATURES, HIDDEN, OUTPUTS, MlpLearner

__all__ = [
    "exposure_section",
    "flops_section",
    "mlp_section",
    "planner_section",
]


def accuracy(r: RunRecord) -> float:
    """Hits over shots of the whole run."""
    return r.accuracy


def damage(r: RunRecord) -> float:
    """Damage taken per finished encounter."""
    return r.damage_per_encounter


def exposure(r: RunRecord) -> float:
    """Mean exposure per decision."""
    return r.exposure


def uncovered(r: RunRecord) -> float:
    """Fraction of decisions on uncovered nodes."""
    return r.uncovered


def flops(r: RunRecord) -> float:
    """Counted learner flops per decision."""
    return r.flops_per_decision


def encounters(r: RunRecord) -> float:
    """Finished encounters."""
    return float(r.encounters)


def word(st: Stat) -> str:
    """'higher', 'lower' or 'no different', from a 95% interval of differences."""
    return "lower" if st.hi < 0 else "higher" if st.lo > 0 else "no different"


def exposure_section(g: dict[str, Group]) -> list[str]:
    """Path exposure per learner and planner, and its change against static."""
    rows = []
    for pl in LEARNER_PLANNERS:
        base = g[f"static/{pl}"]
        for lr in LEARNERS:
            x = g[f"{lr}/{pl}"]
            mean_change = ci(paired(x, base, relative(exposure)), f_spct)
            unc_change = ci(paired(x, base, relative(uncovered)), f_spct)
            if lr == "static":
                mean_change = unc_change = "-"
            rows.append((lr, pl, ci(x.per_seed(exposure), fixed(3)),
                         ci(x.per_seed(uncovered), f_pct), mean_change, unc_change))  # fmt: skip
    product = paired(g["fom/fmc"], g["static/graph"], relative(exposure))
    product_unc = paired(g["fom/fmc"], g["static/graph"], relative(uncovered))
    header = (
        "Learner",
        "Planner",
        "Mean exposure",
        "Decisions on uncovered nodes",
        "Mean exposure vs static",
        "Uncovered decisions vs static",
    )
    return [
        "## Path exposure",
        "",
        "![exposure](exposure.png)",
        "",
        "A node's exposure is 1 - cover. Over every decision (one TIP tick, a `tip.shot` "
        "event): the mean exposure of the node the TIP stood on after its move (the fold's "
        "`exposure`), and the paper's 'fraction of steps in uncovered tiles' (nodes with "
        f"exposure > {UNCOVERED}). Changes are per seed, against the static learner with the "
        "same planner and seed.",
        "",
        *table(header, rows),
        "",
        "The product against the paper's static bot (fom learner with the FMC planner, "
        f"against the static learner with the graph planner): mean exposure "
        f"{ci(product, f_spct)}, decisions on uncovered nodes {ci(product_unc, f_spct)}.",
        "",
    ]


def planner_section(g: dict[str, Group], at: int) -> list[str]:
    """Graph, FMC and MC compared on accuracy, damage and exposure."""
    header = (
        "Planner",
        "Accuracy (run)",
        f"Accuracy after {at}",
        "Damage taken per encounter",
        "Kills per run",
        "Deaths per run",
        "Mean exposure",
        "Uncovered decisions",
        "Walker-steps per plan",
    )
    rows = []
    for pl in PLANNERS:
        x = g[f"fom/{pl}"]
        steps = ci(x.per_seed(lambda r: r.steps_per_plan), fixed(1))
        rows.append(
            (
                pl,
                ci(x.per_seed(accuracy), f_pct),
                ci(x.window_at, f_pct),
                ci(x.per_seed(damage), fixed(1)),
                ci(x.per_seed(lambda r: r.summary.kills), fixed(1)),
                ci(x.per_seed(lambda r: r.summary.deaths), fixed(2)),
                ci(x.per_seed(exposure), fixed(3)),
                ci(x.per_seed(uncovered), f_pct),
                "-" if steps == "n/a" else steps,
            )
        )
    fmc, mc, graph = g["fom/fmc"], g["fom/mc"], g["fom/graph"]
    acc, exp = paired(fmc, graph, diff(accuracy)), paired(fmc, graph, diff(exposure))
    return [
        "## Planners compared",
        "",
        "![planners](planners.png)",
        "",
        "The fom learner with each planner, same seeds. `mc` is uniform random shooting "
        "(`fom.fmc.plan_batch_mc`): the same walkers x horizon walker-step budget as FMC; its "
        "decision is the first action of the best rollout (rollouts stop when the bot dies, "
        "so it may spend a little less).",
        "",
        *table(header, rows),
        "",
        "Per-seed differences: accuracy FMC - MC "
        f"{ci(paired(fmc, mc, diff(accuracy)), f_pts)}, FMC - graph {ci(acc, f_pts)}; "
        "damage taken per encounter FMC - MC "
        f"{ci(paired(fmc, mc, diff(damage)), fixed(1, True))}, FMC - graph "
        f"{ci(paired(fmc, graph, diff(damage)), fixed(1, True))}; mean exposure FMC - MC "
        f"{ci(paired(fmc, mc, diff(exposure)), fixed(3, True))}.",
        "",
        f"In short: against the graph planner, FMC's accuracy is {word(acc)} and its exposure "
        f"{word(exp)} (95% intervals of the per-seed differences).",
        "",
    ]


def mlp_section(s: Settings, g: dict[str, Group], at: int) -> list[str]:
    """The MLP learner beside FOM: same seeds, same runs, paired per seed."""
    header = (
        "Planner",
        "Learner",
        f"Accuracy after {at}",
        "Accuracy (run)",
        "Damage taken per encounter",
        "Kills per run",
        "Deaths per run",
        "Mean exposure",
        "Flops per decision",
    )
    rows = []
    for pl in LEARNER_PLANNERS:
        for lr in ("fom", "mlp"):
            x = g[f"{lr}/{pl}"]
            rows.append((pl, lr, ci(x.window_at, f_pct), ci(x.per_seed(accuracy), f_pct),
                         ci(x.per_seed(damage), fixed(1)),
                         ci(x.per_seed(lambda r: r.summary.kills), fixed(1)),
                         ci(x.per_seed(lambda r: r.summary.deaths), fixed(2)),
                         ci(x.per_seed(exposure), fixed(3)),
                         ci(x.per_seed(flops), fixed(1))))  # fmt: skip
    diffs, plain = [], []
    for pl in LEARNER_PLANNERS:
        m, f = g[f"mlp/{pl}"], g[f"fom/{pl}"]
        after = paired_window(m, f)
        dmg = paired(m, f, diff(damage))
        diffs.append(
            f"- {pl} planner: accuracy after {at} {ci(after, f_pts)}, whole run "
            f"{ci(paired(m, f, diff(accuracy)), f_pts)}; damage taken per encounter "
            f"{ci(dmg, fixed(1, True))}; mean exposure "
            f"{ci(paired(m, f, diff(exposure)), fixed(3, True))}; flops per decision "
            f"MLP / FOM {ci(paired(m, f, ratio(flops)), f_ratio)}."
        )
        plain.append(f"with the {pl} planner its accuracy after {at} is {word(after)} and the "
                     f"damage it takes {word(dmg)}")  # fmt: skip
    return [
        "## The MLP learner beside FOM",
        "",
        "`--learner mlp` (`fom/learners/mlp.py`): per pattern a small numpy network "
        f"({len(FEATURES)} inputs: {', '.join(FEATURES)}; {HIDDEN} tanh hidden units; "
        f"{len(OUTPUTS)} outputs: {', '.join(OUTPUTS)}) whose {len(MlpLearner.param_names)} "
        "flattened weights are the pattern's parameters, merged by the ULP like FOM's two. "
        "It learns toward the "
        "FOM rule's targets, one normalised gradient step per tick, so the comparison asks "
        "what conditioning the rule on the observation (distance, healths, exposure) buys. "
        f"Same seeds and settings as above ({s.ticks} ticks, `--tips {s.tips}`); the learning "
        "curves are in the figure above.",
        "",
        *table(header, rows),
        "",
        "Per-seed differences, MLP - FOM (same planner and seed):",
        "",
        *diffs,
        "",
        f"In short: against FOM, {'; '.join(plain)} (95% intervals of the per-seed differences).",
        "",
    ]


def flops_section(s: Settings, g: dict[str, Group]) -> list[str]:
    """Counted learner operations per decision (deterministic)."""
    rows = [
        (lr, ci(g[f"{lr}/graph"].per_seed(flops), fixed(1)),
         ci(g[f"{lr}/fmc"].per_seed(flops), fixed(1)))
        for lr in LEARNERS
    ]  # fmt: skip
    return [
        "## Compute per decision: counted operations",
        "",
        "Each learner counts its floating-point operations (`compute_flops`: the FOM rule's "
        "additions and multiplications; every multiply-add of the monolithic network's and "
        "the MLP's forward and backward passes), summed by the statistics fold over "
        "`tip.finished`. Per decision = the run's total over its decisions (a decision is one "
        "TIP tick: act, plan, shoot, update). Planning is not included: it is the same for "
        f"every learner with a given planner (FMC: {s.walkers * s.horizon} walker-steps of the "
        "encounter simulator per decision). CPU times are in the timing section.",
        "",
        *table(("Learner", "Flops per decision (graph)", "Flops per decision (FMC)"), rows),
        "",
    ]
