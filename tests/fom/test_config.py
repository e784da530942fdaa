"""RunConfig: defaults, validation (one clear line per bad value), derived values, flags."""

from __future__ import annotations

import dataclasses

import pytest

from fom import plugins
from fom.cli import build_parser, parse
from fom.config import EVENT_FORMATS, PLUGIN_FIELDS, RunConfig
from fom.errors import ConfigError, FomError


def test_defaults_are_valid_and_match_the_design() -> None:
    c = RunConfig()
    assert c.validate() is c
    assert (c.ticks, c.tips, c.seed) == (300, 4, 0)
    assert (c.world, c.learner, c.planner) == ("enhanced", "fom", "fmc")
    assert c.events is None and c.events_format == "jsonl"
    assert c.save is None and c.load is None and not c.live and not c.quiet and c.uvloop


def test_the_built_in_choices_are_registered_entry_points() -> None:
    assert {"dummy", "enhanced"} <= set(plugins.names(plugins.ENGINES_GROUP))
    assert {"fmc", "mc", "graph"} <= set(plugins.names(plugins.PLANNERS_GROUP))
    assert {"fom", "static", "monolithic", "mlp"} <= set(plugins.names(plugins.LEARNERS_GROUP))
    assert set(EVENT_FORMATS) == {"jsonl", "msgpack"}
    assert set(PLUGIN_FIELDS) == {"world", "learner", "planner"}


@pytest.mark.parametrize("field", ["world", "learner", "planner"])
def test_a_plugin_name_is_validated_against_its_group(field: str) -> None:
    group = PLUGIN_FIELDS[field]
    for name in plugins.names(group):
        RunConfig(**{field: name}).validate()
    with pytest.raises(ConfigError) as info:
        RunConfig(**{field: "nope"}).validate()
    message = str(info.value)
    assert message == f"unknown {field} 'nope'; choose one of {', '.join(plugins.names(group))}"


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"ticks": -1}, "--ticks"),
        ({"tips": 0}, "--tips"),
        ({"tips": -3}, "--tips"),
        ({"seed": -1}, "--seed"),
        ({"world": "doom:nowhere"}, "world"),
        ({"world": "dummy:x"}, "world"),
        ({"learner": "bogus"}, "learner"),
        ({"planner": "astar"}, "planner"),
        ({"walkers": 1}, "--walkers"),
        ({"horizon": 0}, "--horizon"),
        ({"alpha": 0.0}, "--alpha"),
        ({"alpha": -0.5}, "--alpha"),
        ({"alpha": 11.0}, "--alpha"),
        ({"events_format": "xml"}, "events format"),
        ({"tick_ms": -1.0}, "--tick-ms"),
        ({"request_timeout": 0.0}, "--request-timeout"),
    ],
)
def test_bad_values_raise_one_clear_line(fields: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig(**fields).validate()
    message = str(info.value)
    assert needle in message and "\n" not in message
    assert isinstance(info.value, FomError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "fields",
    [{"ticks": 0}, {"tips": 1}, {"walkers": 2}, {"horizon": 1}, {"alpha": 10.0},
     {"alpha": 1e-9}, {"tick_ms": 0.0}, {"world": "dummy"}, {"learner": "monolithic"},
     {"learner": "mlp"},
     {"planner": "graph"}, {"events_format": "msgpack"}],
)
def test_boundary_values_are_accepted(fields: dict) -> None:
    RunConfig(**fields).validate()


def test_merge_rate_defaults_to_one_over_tips() -> None:
    assert RunConfig(tips=1).merge_rate == 1.0
    assert RunConfig(tips=8).merge_rate == pytest.approx(1 / 8)
    assert RunConfig(tips=8, alpha=0.3).merge_rate == 0.3


def test_pace() -> None:
    assert RunConfig().pace_s == 0.0
    assert RunConfig(live=True).pace_s == 0.25
    assert RunConfig(live=True, tick_ms=0.0).pace_s == 0.0
    assert RunConfig(tick_ms=40.0).pace_s == pytest.approx(0.04)


def test_public_is_plain_values_and_leaves_out_extra() -> None:
    c = RunConfig(ticks=7, events="-", extra={"k": "v"})
    pub = c.public()
    assert pub["ticks"] == 7 and pub["events"] == "-" and pub["alpha"] is None
    assert "extra" not in pub
    assert all(v is None or isinstance(v, str | int | float | bool) for v in pub.values())
    assert set(pub) == {f.name for f in dataclasses.fields(c)} - {"extra"}


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunConfig().ticks = 5  # type: ignore[misc]


def test_every_documented_flag_parses_into_the_config() -> None:
    argv = [
        "--ticks", "12", "--tips", "3", "--seed", "9", "--world", "dummy", "--learner", "static",
        "--planner", "graph", "--walkers", "5", "--horizon", "4", "--events", "-",
        "--events-format", "msgpack", "--save", "s.bin", "--load", "l.bin",
        "--dashboard", "d.png", "--live", "--no-uvloop", "--quiet", "--alpha", "0.5",
    ]
    c = parse(RunConfig, "fom-run", argv)
    assert c == RunConfig(
        ticks=12, tips=3, seed=9, world="dummy", learner="static", planner="graph", walkers=5,
        horizon=4, events="-", events_format="msgpack", save="s.bin", load="l.bin",
        dashboard="d.png", live=True, uvloop=False, quiet=True, alpha=0.5,
    )
    assert parse(RunConfig, "fom-run", []) == RunConfig()


def test_help_describes_the_flags() -> None:
    text = build_parser(RunConfig, "fom-run").format_help()
    for flag in ("--ticks", "--tips", "--learner", "--planner", "--events", "--save", "--load"):
        assert flag in text
    assert "--request-timeout" in text and "--extra" not in text


def test_help_lists_the_registered_choices() -> None:
    text = " ".join(build_parser(RunConfig, "fom-run").format_help().split())
    for field, group in PLUGIN_FIELDS.items():
        assert f"--{field} {{{','.join(plugins.names(group))}}}" in text


def test_a_name_nobody_registered_is_a_one_line_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        parse(RunConfig, "fom-run", ["--learner", "bogus"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--learner" in err and "'bogus'" in err and "mlp" in err
