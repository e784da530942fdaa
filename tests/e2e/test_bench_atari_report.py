"""``scripts/bench_atari.py --report --write``: the table of where checkpointed games stand,
written into results.md, keeps the rows of games it did not report (a finished game whose
checkpoint is gone keeps what it measured)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("ale_py")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_atari.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_atari", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_write_replaces_its_games_rows_and_keeps_the_others(tmp_path: Path) -> None:
    bench = _bench()
    games = tmp_path / "games"
    row = bench.episode("boxing", steps=3, processes=1, seed=0, checkpoint_dir=str(games))
    assert row["steps"] == 3 and (games / "boxing-seed0.ckpt").exists()
    results = tmp_path / "results.md"
    pong = "| pong | 21 | n/a | 21 | 955 | 2,110 (10,550) | game over | 32 walkers | 534 | 929 |"
    qbert = "| qbert | 35,750 | 2,728 | 100,175 | 2,609 | 21,600 (108,000) | limit | 136 | 1 | 2 |"
    old_boxing = "| boxing | 100 | 77 | 1 | 75 | 1 (5) | game over | 8 walkers | 1 | 1 |"
    results.write_text("# Results\n\n" + "\n".join(
        [bench.BEGIN, "old text", "", "| game |", "|---|", qbert, old_boxing, pong, bench.END]
    ) + "\n\nafter\n")  # fmt: skip
    bench.main(["--report", "--games", "boxing", "--checkpoint-dir", str(games),
                "--write", str(results)])  # fmt: skip
    text = results.read_text()
    assert text.startswith("# Results\n") and text.endswith("after\n")
    lines = text.split(bench.BEGIN)[1].split(bench.END)[0].splitlines()
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| game")]
    assert [r.split("|")[1].strip() for r in rows] == ["boxing", "pong", "qbert"]
    assert rows[1:] == [pong, qbert] and old_boxing not in text
    assert "| 3 (" in rows[0] and "**stopped** at 3 decisions" in rows[0]
    assert "kept from the write before" in text
    bench.main(["--report", "--games", "boxing", "--checkpoint-dir", str(games),
                "--write", str(tmp_path / "new.md")])  # fmt: skip
    assert "kept from" not in (tmp_path / "new.md").read_text()  # nothing was kept
