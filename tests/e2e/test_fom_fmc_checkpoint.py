"""``fom-fmc --checkpoint``: a game stopped (by its step cap or by Ctrl-C) goes on with
``--resume`` exactly as if it had never stopped."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from fmc_cli import FMC, running, wait_for_a_step

from fom.app import play
from fom.checkpoint import AtariCheckpoint
from fom.config import FmcConfig

pytest.importorskip("ale_py")

RECIPE = {"game": "boxing", "walkers": 6, "horizon": 4, "max_samples": 12, "frameskip": 5,
          "loss_is_death": True, "seed": 11, "quiet": True}  # fmt: skip
"""A cap below walkers x horizon: the swarm shrinks, so its size is part of the state."""


def _steps(path: Path) -> list[tuple[int, int, float, int]]:
    events = map(json.loads, path.read_text().splitlines())
    return [(e["tick"], e["action"], e["score"], e["samples"]) for e in events
            if e["type"] == "atari.step"]  # fmt: skip


def test_a_resumed_game_plays_what_one_never_stopped_plays(tmp_path: Path) -> None:
    whole, first, rest = (tmp_path / f"{name}.jsonl" for name in ("whole", "first", "rest"))
    checkpoint = tmp_path / "game.ckpt"
    one = play(FmcConfig(**RECIPE, steps=40, events=str(whole)), handle_signals=False)
    play(FmcConfig(**RECIPE, steps=13, events=str(first), checkpoint=str(checkpoint),
                   checkpoint_every=5), handle_signals=False)  # fmt: skip
    saved = AtariCheckpoint.load(checkpoint)
    assert saved.step == 13 and saved.walkers < RECIPE["walkers"], "the swarm did not shrink"
    two = play(FmcConfig(**RECIPE, steps=40, events=str(rest), checkpoint=str(checkpoint),
                         resume=True), handle_signals=False)  # fmt: skip
    assert _steps(first) + _steps(rest) == _steps(whole)
    assert [e[0] for e in _steps(rest)][:1] == [13]
    assert (two.steps, two.score, two.samples) == (one.steps, one.score, one.samples) == (
        40, one.score, one.samples)  # fmt: skip
    assert one.score != 0, "nothing happened in the game: the test shows little"
    assert AtariCheckpoint.load(checkpoint).step == 40


def test_ctrl_c_saves_where_the_game_stands(tmp_path: Path) -> None:
    events, checkpoint = tmp_path / "run.jsonl", tmp_path / "game.ckpt"
    args = ["boxing", "--walkers", "6", "--horizon", "4", "--max-samples", "12", "--seed", "11",
            "--quiet", "--checkpoint", str(checkpoint), "--checkpoint-every", "1000"]  # fmt: skip
    with running(*args, "--steps", "100000", "--events", str(events)) as proc:
        wait_for_a_step(proc, events)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGINT and "Traceback" not in err, err
    assert "(interrupted)" in out and "--resume goes on from decision" in err
    played = _steps(events)
    saved = AtariCheckpoint.load(checkpoint)  # saved at the interruption, not every 1000
    assert saved.step == len(played) >= 1 and saved.score == played[-1][2]
    more = tmp_path / "more.jsonl"
    done = subprocess.run(
        [*FMC, *args, "--resume", "--steps", str(saved.step + 3),
         "--events", str(more)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [e[0] for e in _steps(more)] == [saved.step, saved.step + 1, saved.step + 2]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--resume",), "--resume goes on from a --checkpoint file"),
        (("--resume", "--checkpoint", "{tmp}/none.ckpt"), "none.ckpt does not exist"),
        (("--resume", "--checkpoint", "{tmp}/junk.ckpt"), "is not a fom-fmc checkpoint"),
        (("--resume", "--checkpoint", "{tmp}/game.ckpt", "--walkers", "8"),
         "was played with --walkers 6, not 8"),
        (("--checkpoint", "{tmp}/no/such/dir/game.ckpt"), "is not a writable directory"),
        (("--checkpoint", "{tmp}/x.jsonl", "--events", "{tmp}/x.jsonl"),
         "is also the --checkpoint file"),
        (("--checkpoint-every", "0"), "--checkpoint-every must be >= 1"),
        (("--checkpoint", "{tmp}/game.ckpt"), "exists: --resume goes on from it"),
        (("--checkpoint", "{tmp}"), "is not a file"),
    ],
)  # fmt: skip
def test_bad_checkpoint_flags_are_one_line_and_status_2(
    tmp_path: Path, extra: tuple[str, ...], needle: str
) -> None:
    (tmp_path / "junk.ckpt").write_bytes(b"\x93not a checkpoint")
    play(FmcConfig(**RECIPE, steps=1, checkpoint=str(tmp_path / "game.ckpt")), handle_signals=False)
    args = ["boxing", "--walkers", "6", "--horizon", "4", "--max-samples", "12", "--seed", "11",
            "--steps", "3", *(a.replace("{tmp}", str(tmp_path)) for a in extra)]  # fmt: skip
    proc = subprocess.run([*FMC, *args], capture_output=True, text=True, timeout=60, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert needle in lines[0]


def test_a_checkpoint_that_cannot_be_written_stops_the_game_with_one_line_and_status_1(
    tmp_path: Path,
) -> None:
    events, place = tmp_path / "run.jsonl", tmp_path / "gone"
    place.mkdir()
    args = ("boxing", "--walkers", "6", "--horizon", "4", "--max-samples", "12", "--quiet",
            "--steps", "100000", "--events", str(events), "--checkpoint", str(place / "g.ckpt"),
            "--checkpoint-every", "1")  # fmt: skip
    with running(*args) as proc:
        wait_for_a_step(proc, events)
        place.rename(tmp_path / "elsewhere")  # the next save has nowhere to go (atomically:
        # an rmtree could race a save in progress and fail on a directory not yet empty)
        _, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, err
    assert "cannot write the checkpoint" in lines[0] and "g.ckpt" in lines[0]
