"""The paper's claims, measured on our own system: the experiment behind docs/results.md.

    python -m experiments [--quick] [--out DIR] [--seeds N] [--jobs N]
    python scripts/experiment.py ...          (the same, kept for the README's command)

Modules: ``settings`` (what a run depends on), ``runs`` (the learner x planner matrix on the
real system, its events folded by ``fom.events.MatchStats``), ``measure`` (learner CPU time
in the synchronous driver, the latency sweep), ``stats`` (means, intervals, paired
differences), ``plots``, ``report`` (results.md) and ``main``. This package sits above the
composition (``fom.app``) in the layers import-linter checks.
"""
