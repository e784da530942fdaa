"""``fom-run`` and its stop signals at the moments a user may send them: during the stop (a third
aborts, saying so), before the run starts, and after it stopped (while the summary prints).

The subprocess is ``fom-run`` itself with one function patched to mark (or provoke) the moment:
a ULP whose stop lasts, a summary that is interrupted while it is formatted.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fom.patterns import PatternStore, load_patterns, save_patterns

SLOW_STOP = """
import asyncio, os, sys
import actors.propagator as ulp
async def slow_stop(self):  # the stop is in progress for as long as the test needs
    os.write(2, b"TEST: the ULP is stopping\\n")
    await asyncio.sleep(30)
ulp.Propagator.on_stop = slow_stop
from fom.cli import run_main
run_main(sys.argv[1:])
"""

SIGNAL_AT = """
import os, signal, sys
sig = getattr(signal, sys.argv[2])
sent = []
def send(*args, **kwargs):  # once: the patched function may be called more than once
    if not sent:
        sent.append(os.kill(os.getpid(), sig))
    return wrapped(*args, **kwargs)
if sys.argv[1] == "summary":  # a late signal: the run has stopped, its summary is printing
    import fom.app as target
    wrapped, target.format_summary = target.format_summary, send
elif sys.argv[1] == "handlers-removed":  # the run's handlers have just been taken down
    from actors.runtime import Runtime as target
    remove = target.remove_signal_handlers
    def wrapped(*args):
        return None
    def removing(self):
        remove(self)
        send()
    target.remove_signal_handlers = removing
else:  # "validate": before the run starts
    from fom.config import RunConfig as target
    wrapped, target.validate = target.validate, lambda self: send(self)
from fom.cli import run_main
run_main(sys.argv[3:])
"""


def _lines(stream: object) -> queue.Queue[str]:
    """The lines of a pipe, read by a thread (so the test can wait for one with a timeout)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue[str], needle: str, seen: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {needle!r} on stderr within {timeout} s: {seen}"
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        seen.append(line)
        if needle in line:
            return


def test_a_third_signal_aborts_the_stop_and_says_so(tmp_path: Path) -> None:
    state = tmp_path / "p.fom"
    save_patterns(PatternStore(), state)
    before = state.read_bytes()
    events = tmp_path / "e.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_STOP, "--ticks", "1000000", "--planner", "graph",
         "--events", str(events), "--save", str(state), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: list[str] = []
    try:
        err = _lines(proc.stderr)
        deadline = time.monotonic() + 30
        while not (events.exists() and b'"world.tick"' in events.read_bytes()):
            assert proc.poll() is None and time.monotonic() < deadline, "the run did not start"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _wait_for(err, "the ULP is stopping", seen, 30)
        proc.send_signal(signal.SIGTERM)
        _wait_for(err, "once more to abort", seen, 10)
        aborted_at = time.monotonic()
        proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=10)
        assert time.monotonic() - aborted_at < 10  # at once, not after the 30 s stop
        time.sleep(0.2)  # the pump drains what is left of stderr
        while not err.empty():
            seen.append(err.get())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = "".join(seen)
    assert status == 128 + signal.SIGINT, stderr
    assert "aborted: the stop did not complete" in stderr
    assert "Traceback" not in stderr
    assert state.read_bytes() == before  # the save never started: the last one is intact


@pytest.mark.parametrize(
    ("moment", "sig"),
    [
        ("summary", "SIGINT"),
        ("summary", "SIGTERM"),
        ("handlers-removed", "SIGINT"),
    ],
)
def test_a_signal_after_the_run_stopped_is_noted_not_a_traceback(
    tmp_path: Path, moment: str, sig: str
) -> None:
    state, events = tmp_path / "p.fom", tmp_path / "e.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", SIGNAL_AT, moment, sig, "--ticks", "40", "--planner", "graph",
         "--events", str(events), "--save", str(state), "--quiet"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr
    assert proc.returncode == 128 + getattr(signal, sig), proc.stderr
    assert "accuracy" in proc.stdout and "latency p50" in proc.stdout  # the summary, whole
    parsed = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["seq"] for e in parsed] == list(range(len(parsed)))
    assert parsed[-1]["type"] == "run.finished" and parsed[-1]["interrupted"] is False
    assert parsed[-1]["summary"]["ticks"] == 40  # the run had completed
    assert load_patterns(state).all()


def test_a_signal_before_the_run_starts_stops_it_as_it_starts(tmp_path: Path) -> None:
    state, events = tmp_path / "p.fom", tmp_path / "e.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", SIGNAL_AT, "validate", "SIGTERM", "--ticks", "1000000",
         "--planner", "graph", "--events", str(events), "--save", str(state), "--quiet"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 143, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "interrupted" in proc.stdout
    parsed = [json.loads(line) for line in events.read_text().splitlines()]
    assert parsed[-1]["type"] == "run.finished" and parsed[-1]["interrupted"] is True
    assert parsed[-1]["summary"]["ticks"] < 1000000
    assert os.path.exists(state)


def test_fom_fmc_stops_on_a_signal_with_its_result_and_status_143(tmp_path: Path) -> None:
    pytest.importorskip("ale_py", reason="fom-fmc plays through ale-py")
    events = tmp_path / "e.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from fom.cli import fmc_main; fmc_main()", "pong", "--steps",
         "100000", "--walkers", "4", "--horizon", "2", "--events", str(events)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (events.exists() and b'"atari.step"' in events.read_bytes()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no step within 60 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "pong: score" in out
    parsed = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["seq"] for e in parsed] == list(range(len(parsed)))
