"""``fom-run`` as a user runs it: a subprocess, its exit status, stdout, stderr and files."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import msgpack
import pytest

from fom.dashboard.replay import read_events
from fom.events.reader import TruncatedStreamWarning
from fom.patterns import PatternStore, load_patterns, save_patterns

_BESIDE = Path(sys.executable).with_name("fom-run")  # the tested interpreter's, not PATH's first
_SCRIPT = str(_BESIDE) if _BESIDE.exists() else shutil.which("fom-run")
_VIA_PYTHON = [sys.executable, "-c", "from fom.cli import run_main; run_main()"]
FOM_RUN = [_SCRIPT] if _SCRIPT else _VIA_PYTHON


def fom_run(*args: str, timeout: float = 45) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FOM_RUN, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_usage_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("fom-run: error:")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]
    assert proc.stdout == ""


# ---------------------------------------------------------------- end to end


def test_default_run_prints_the_summary() -> None:
    proc = fom_run("--ticks", "300", "--quiet")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "combat/" in out and "accuracy" in out and "latency p50" in out
    assert "p99" in out and "total" in out
    rows = [line for line in out.splitlines() if line.startswith("combat/")]
    assert len(rows) >= 2
    assert "Traceback" not in proc.stderr


def test_events_to_stdout_and_summary_to_stderr() -> None:
    proc = fom_run("--ticks", "100", "--planner", "graph", "--events", "-", "--quiet")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events, "no events on stdout"
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert events[0]["type"] == "run.started" and events[-1]["type"] == "run.finished"
    assert events[-1]["summary"]["ticks"] == 100
    assert "accuracy" in proc.stderr and "latency p50" in proc.stderr
    assert "combat/" in proc.stderr
    assert "latency p50" not in proc.stdout


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--tips", "0"], ["--tips"]),
        (["--ticks", "-1"], ["--ticks"]),
        (["--learner", "bogus"], ["--learner", "bogus"]),
        (["--events", "/nonexistent/dir/x.jsonl"], ["/nonexistent/dir/x.jsonl"]),
        (["--frobnicate"], ["--frobnicate"]),
        (["--tips", "many"], ["--tips"]),
        (["--save", "/nonexistent/dir/state.msgpack"], ["/nonexistent/dir/state.msgpack"]),
        (["--seed", "18446744073709551616"], ["--seed"]),
        (["--tick-ms", "inf"], ["--tick-ms"]),
        (["--tick-ms", "nan"], ["--tick-ms"]),
        (["--dashboard", "/nonexistent/dir/x.png"], ["/nonexistent/dir/x.png"]),
        (["--dashboard", "out.gif"], ["out.gif", ".png"]),
        (["--events", "run.msgpack"], ["run.msgpack", "--events-format msgpack"]),
        (["--events", "p.fom", "--load", "p.fom"], ["p.fom", "pattern file"]),
        (["--events", "p.fom", "--save", "p.fom"], ["p.fom", "pattern file"]),
        (["--save-every", "5"], ["--save-every", "--save"]),
        (["--request-timeout", "inf"], ["--request-timeout"]),
        (["--request-timeout", "0"], ["--request-timeout"]),
    ],
    ids=["tips-0", "ticks-neg", "learner", "events-dir", "unknown-flag", "tips-nan", "save-dir",
         "seed-2**64", "tick-ms-inf", "tick-ms-nan", "dashboard-dir", "dashboard-gif",
         "events-ext", "events-is-load", "events-is-save", "save-every-alone",
         "request-timeout-inf", "request-timeout-0"],
)
def test_bad_input_is_one_line_and_status_2(
    args: list[str], needles: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative names land here; none may be written
    (tmp_path / "p.fom").write_bytes(b"a save file")
    assert_usage_error(fom_run("--ticks", "5", "--quiet", *args), *needles)
    assert sorted(os.listdir(tmp_path)) == ["p.fom"]
    assert (tmp_path / "p.fom").read_bytes() == b"a save file"  # nothing touched


def test_version_and_python_m_fom() -> None:
    proc = fom_run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("fom-run ")
    assert proc.stdout.split()[1][0].isdigit()
    proc = subprocess.run(
        [sys.executable, "-m", "fom", "--ticks", "3", "--quiet", "--planner", "graph"],
        capture_output=True, text=True, timeout=45, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "decisions" in proc.stdout


# ---------------------------------------------------------------- save / load


def test_save_then_load_continues_learning(tmp_path: Path) -> None:
    state = tmp_path / "state.msgpack"
    first_events = tmp_path / "first.jsonl"
    proc = fom_run("--ticks", "150", "--planner", "graph", "--seed", "1", "--quiet",
                   "--events", str(first_events), "--save", str(state))
    assert proc.returncode == 0, proc.stderr
    # Atomic save: the target and the events file, no temporary file left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.jsonl", "state.msgpack"]
    raw = msgpack.unpackb(state.read_bytes(), raw=False)
    assert raw["format"] == "fom.patterns"
    saved = load_patterns(state).all()
    first = list(read_events(first_events))
    final = first[-1]["summary"]["patterns"]
    assert set(saved) == set(final) and saved
    for sig, params in saved.items():
        assert params.as_dict() == final[sig]["params"]

    second_events = tmp_path / "second.jsonl"
    proc = fom_run("--ticks", "60", "--planner", "graph", "--seed", "2", "--quiet",
                   "--events", str(second_events), "--load", str(state))
    assert proc.returncode == 0, proc.stderr
    second = list(read_events(second_events))
    assert second[0]["type"] == "run.started"
    assert second[0]["patterns"] == {sig: p.as_dict() for sig, p in saved.items()}
    # The first TIP of each pattern starts from the loaded parameters ...
    for e in second:
        if e["type"] == "tip.started" and e["signature"] in saved:
            assert e["params"] == saved[e["signature"]].as_dict()
            break
    else:
        pytest.fail("no TIP started on a loaded pattern")
    # ... and merges continue the loaded history (version and merge count go on).
    merged = [e for e in second if e["type"] == "pattern.merged" and e["signature"] in saved]
    assert merged
    for sig, params in saved.items():
        mine = [e for e in merged if e["signature"] == sig]
        if mine:
            assert mine[0]["version"] == params.version + 1
            assert mine[0]["merges"] == params.merges + 1
    after = second[-1]["summary"]["patterns"]
    assert any(after[sig]["params"] != saved[sig].as_dict() for sig in saved if sig in after)


@pytest.mark.parametrize("kind", ["missing", "corrupt", "foreign", "other-learner"])
def test_bad_load_file_fails_and_does_not_touch_the_save_target(
    tmp_path: Path, kind: str
) -> None:
    load = tmp_path / "in.msgpack"
    if kind == "corrupt":
        load.write_bytes(b"\xc1 this is not msgpack \x00\xff")
    elif kind == "foreign":
        load.write_bytes(msgpack.packb({"format": "something-else", "version": 1}))
    elif kind == "other-learner":  # a well-formed save whose patterns have other parameters
        save_patterns(PatternStore(names=("a", "b", "c")), load)
    save = tmp_path / "out.msgpack"
    save.write_bytes(b"precious")
    events = tmp_path / "events.jsonl"
    proc = fom_run("--ticks", "20", "--planner", "graph", "--quiet", "--load", str(load),
                   "--save", str(save), "--events", str(events))
    assert_usage_error(proc, str(load))
    assert save.read_bytes() == b"precious"
    assert not events.exists()
    leftovers = {p.name for p in tmp_path.iterdir()} - {"in.msgpack", "out.msgpack"}
    assert leftovers == set()


# ---------------------------------------------------------------- Ctrl-C


@pytest.mark.parametrize(
    ("signals", "status"),
    [
        ([signal.SIGINT], {130}),
        ([signal.SIGTERM], {143}),
        # Two signals pending at once: the kernel picks which is handled first (so which
        # status); the other, during the stop, is said and does not cut it short.
        ([signal.SIGTERM, signal.SIGINT], {130, 143}),
    ],
    ids=["sigint", "sigterm", "second-signal-during-the-stop"],
)
def test_a_signal_stops_gracefully(tmp_path: Path, signals: list[int], status: set[int]) -> None:
    events = tmp_path / "events.jsonl"
    state = tmp_path / "state.msgpack"
    proc = subprocess.Popen(
        [*FOM_RUN, "--ticks", "1000000", "--planner", "graph", "--events", str(events),
         "--save", str(state), "--quiet", "--tips", "1000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (events.exists() and b'"pattern.merged"' in events.read_bytes()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no merge written within 30 s"
            time.sleep(0.05)
        for sig in signals:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode in status, err
    assert "Traceback" not in err
    assert ("once more to abort" in err) == (len(signals) > 1)
    assert "interrupted" in out and "accuracy" in out
    data = events.read_bytes()
    assert data.endswith(b"\n")
    lines = data.splitlines()
    parsed = [json.loads(line) for line in lines]
    assert [e["seq"] for e in parsed] == list(range(len(parsed)))
    last = parsed[-1]
    assert last["type"] == "run.finished" and last["interrupted"] is True
    assert 0 < last["summary"]["ticks"] < 1000000
    assert sum(e["type"] == "run.finished" for e in parsed) == 1
    saved = {sig: p.as_dict() for sig, p in load_patterns(state).all().items()}
    assert saved
    assert saved == {sig: p["params"] for sig, p in last["summary"]["patterns"].items()}
    assert {p.name for p in tmp_path.iterdir()} == {"events.jsonl", "state.msgpack"}


# ---------------------------------------------------------------- nowhere to write events


def test_a_reader_that_goes_away_stops_the_run_quietly() -> None:
    """`fom-run --events - | head -n 5`: the run stops at once, no traceback, status 141."""
    proc = subprocess.Popen(
        [*FOM_RUN, "--ticks", "100000", "--events", "-", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stderr is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        proc.stdout.close()  # as `head` does
        status = proc.wait(timeout=60)
        stderr = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert all(json.loads(line)["seq"] == i for i, line in enumerate(lines))
    assert status == 141, stderr
    assert stderr == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_full_disk_for_the_events_is_one_line_status_1_and_the_save_is_written(
    tmp_path: Path,
) -> None:
    save = tmp_path / "p.fom"
    proc = fom_run("--ticks", "300", "--events", "/dev/full", "--save", str(save), "--quiet")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fom-run: error: cannot write events to")
    assert "No space left on device" in lines[0] and "from seq" in lines[0]
    assert re.search(r"from seq \d+ on \(\d+ events?, and any still buffered", lines[0])
    assert "decisions" in proc.stdout  # the summary of what was played
    assert load_patterns(save).all()  # the patterns learned so far are saved


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a POSIX file-size limit")
def test_a_disk_that_fills_mid_stream_leaves_a_clean_prefix_and_status_1(tmp_path: Path) -> None:
    """A 64 KB disk (a file-size limit): the file is cut mid-line, the run says from which seq."""
    import resource

    def small_disk() -> None:  # in the child: writes past 64 KB fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

    events, save = tmp_path / "e.jsonl", tmp_path / "p.fom"
    proc = subprocess.run(
        [*FOM_RUN, "--ticks", "5000", "--events", str(events), "--save", str(save), "--quiet"],
        capture_output=True, text=True, timeout=45, check=False, preexec_fn=small_disk,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"fom-run: error: cannot write events to {events}")
    missing_from = int(lines[0].split("from seq ")[1].split()[0])
    assert "decisions" in proc.stdout  # the summary of what was played
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recorded = list(read_events(events))
    cut = not events.read_bytes().endswith(b"\n")  # mid-line, unless the limit fell on an end
    assert [type(w.message) for w in caught] == [TruncatedStreamWarning] * cut
    assert [e["seq"] for e in recorded] == list(range(len(recorded)))
    assert 0 < len(recorded) <= missing_from
    assert load_patterns(save).all()  # the patterns learned so far are saved


def test_help_is_plain_text() -> None:
    proc = fom_run("--help")
    assert proc.returncode == 0
    assert "``" not in proc.stdout and "do not:" not in proc.stdout
    assert "--no-uvloop" in proc.stdout and "--seed" in proc.stdout


def test_save_every_keeps_what_a_killed_run_learned(tmp_path: Path) -> None:
    """kill -9 loses only the ticks since the last periodic save."""
    events, state = tmp_path / "events.jsonl", tmp_path / "p.fom"
    proc = subprocess.Popen(
        [*FOM_RUN, "--ticks", "1000000", "--planner", "graph", "--events", str(events),
         "--save", str(state), "--save-every", "5", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not state.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no periodic save within 30 s"
            time.sleep(0.05)
        first = state.stat().st_mtime_ns
        while state.stat().st_mtime_ns == first:  # a second save: learning went on
            assert time.monotonic() < deadline, "no second periodic save within 30 s"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    saved = load_patterns(state).all()
    assert saved and sum(p.merges for p in saved.values()) > 0


def test_live_with_a_display_that_cannot_be_used_is_one_line_before_the_run(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "DISPLAY": ":4242"}  # set, but no X server answers there
    env.pop("MPLBACKEND", None)
    events = tmp_path / "e.jsonl"
    proc = subprocess.run(
        [*FOM_RUN, "--live", "--ticks", "5", "--events", str(events)],
        capture_output=True, text=True, timeout=45, check=False, env=env,
    )  # fmt: skip
    assert_usage_error(proc)
    assert not events.exists()  # checked before anything started
