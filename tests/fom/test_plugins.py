"""fom.plugins: names and objects found through entry points, and one-line errors for bad ones.

Plug-ins are real distributions here: a ``<name>-<version>.dist-info`` directory (METADATA and
entry_points.txt) and its modules in a temporary directory put on sys.path, which is what
``pip install --target`` leaves behind, so importlib.metadata finds them as it would any other.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from fom import plugins
from fom.cli import build_parser
from fom.config import RunConfig
from fom.engines import make_engine
from fom.errors import ConfigError
from fom.learners import MlpLearner, make_learner, new_store

Install = Callable[..., None]

_LEARNER = '''
import numpy as np
from fom.learners.base import AimDecision

class Halver:
    param_names = ("aim_offset", "flank_bias", "gain")

    @classmethod
    def initial_params(cls):
        return {"gain": 0.5}

    def __init__(self, params, rng, shared=None):
        self.start = np.array(params.values)
        self.theta = self.start.copy()
        self.compute_flops = 0

    def act(self, observation):
        return AimDecision(float(self.theta[0]), float(self.theta[1]))

    def update(self, outcome, report):
        if outcome is not None and outcome.fired:
            self.theta[0] += self.theta[2] * outcome.error

    def delta(self):
        return self.theta - self.start
'''


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """Install fake distributions into a directory on sys.path; forget them afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    modules: list[str] = []

    def _install(
        dist: str, entry_points: dict[str, dict[str, str]], sources: dict[str, str] | None = None
    ) -> None:
        info = tmp_path / f"{dist}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(
            "".join(
                f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items())
                for group, eps in entry_points.items()
            )
        )
        for module, source in (sources or {}).items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            modules.append(module)
        plugins.refresh()

    yield _install
    for module in modules:
        sys.modules.pop(module, None)
    plugins.refresh()  # caches refill lazily, after monkeypatch has restored sys.path


def test_built_ins_are_registered_and_names_are_sorted() -> None:
    learners = plugins.names(plugins.LEARNERS_GROUP)
    assert learners == tuple(sorted(learners))
    assert {"fom", "static", "monolithic", "mlp"} <= set(learners)
    assert plugins.load(plugins.LEARNERS_GROUP, "mlp") is MlpLearner
    assert plugins.names("fom.nothing-here") == ()


def test_an_unknown_name_is_one_line_listing_the_choices() -> None:
    with pytest.raises(ConfigError) as info:
        plugins.load(plugins.ENGINES_GROUP, "quake")
    names = ", ".join(plugins.names(plugins.ENGINES_GROUP))
    assert str(info.value) == f"unknown world 'quake'; choose one of {names}"
    with pytest.raises(ConfigError, match=r"no fom\.nothing-here entry points are installed"):
        plugins.require("fom.nothing-here", "x")


def test_a_plugin_learner_is_found_validated_and_used(install: Install) -> None:
    install("halver", {"fom.learners": {"halver": "halver_mod:Halver"}}, {"halver_mod": _LEARNER})
    assert "halver" in plugins.names(plugins.LEARNERS_GROUP)
    RunConfig(learner="halver").validate()
    assert "halver" in build_parser(RunConfig, "fom-run").format_help()
    store = new_store("halver", 1.0)
    assert store.initial == {"aim_offset": 0.0, "flank_bias": 0.0, "gain": 0.5}
    learner = make_learner("halver", store.get("combat/x"), np.random.default_rng(0))
    assert type(learner).__module__ == "halver_mod"


def test_names_are_cached_until_refresh(install: Install, tmp_path: Path) -> None:
    before = plugins.names(plugins.LEARNERS_GROUP)
    info = tmp_path / "late-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: late\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[fom.learners]\nlate = late_mod:Late\n")
    assert plugins.names(plugins.LEARNERS_GROUP) == before
    plugins.refresh()
    assert "late" in plugins.names(plugins.LEARNERS_GROUP)


def test_a_plugin_that_fails_to_import_is_one_line_naming_it(install: Install) -> None:
    install(
        "broken-plugin",
        {"fom.learners": {"broken": "broken_mod:Learner"}},
        {"broken_mod": 'raise RuntimeError("boom:\\n  the plug-in is broken")\n'},
    )
    with pytest.raises(ConfigError) as info:
        make_learner("broken", new_store("fom", 1.0).get("s"), np.random.default_rng(0))
    message = str(info.value)
    assert "\n" not in message
    for needle in ("'broken'", "broken_mod:Learner", "broken-plugin", "RuntimeError: boom"):
        assert needle in message
    RunConfig(learner="broken").validate()  # names are checked without importing anything


def test_a_plugin_of_the_wrong_kind_is_one_line_naming_it(install: Install) -> None:
    install(
        "wrong-kinds",
        {
            "fom.learners": {
                "number": "wrong_mod:NUMBER",
                "unnamed": "wrong_mod:Unnamed",
                "stray": "wrong_mod:Stray",
                "failing": "wrong_mod:Failing",
            },
            "fom.engines": {"number": "wrong_mod:NUMBER", "notengine": "wrong_mod:not_engine"},
        },
        {
            "wrong_mod": """
                NUMBER = 3

                class Unnamed:
                    param_names = ()

                    @classmethod
                    def initial_params(cls):
                        return {}

                class Stray(Unnamed):
                    param_names = ("a",)

                    @classmethod
                    def initial_params(cls):
                        return {"a": 1.0, "b": 2.0}

                class Failing(Stray):
                    @classmethod
                    def initial_params(cls):
                        raise RuntimeError("no\\nvalues")

                def not_engine(seed, concurrency):
                    return object()
            """
        },
    )
    params = new_store("fom", 1.0).get("s")
    rng = np.random.default_rng(0)
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: make_learner("number", params, rng), "'number' (wrong_mod:NUMBER from"),
        (lambda: make_learner("unnamed", params, rng), "needs param_names, a non-empty tuple"),
        (lambda: new_store("unnamed", 1.0), "is not a learner"),
        (lambda: new_store("stray", 1.0), "'stray': initial_params() names unknown parameters"),
        (lambda: new_store("failing", 1.0), "initial_params() failed: RuntimeError: no values"),
        (lambda: make_engine("number", 0, 1), "not a factory of engines"),
        (lambda: make_engine("notengine", 0, 1), "does not implement the Engine protocol"),
    ]
    for call, needle in cases:
        with pytest.raises(ConfigError) as info:
            call()
        assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_name_registered_twice_is_refused(install: Install) -> None:
    install("first", {"fom.learners": {"twice": "fom.learners.fom:FomLearner"}})
    install("second", {"fom.learners": {"twice": "fom.learners.static:StaticLearner"}})
    with pytest.raises(ConfigError, match="'twice' is registered more than once") as info:
        RunConfig(learner="twice").validate()
    assert "from first" in str(info.value) and "from second" in str(info.value)
