"""Chaos: a seeded loop of random faults over short ``fom-run`` runs, each checked as a user would.

Every round runs ``fom-run`` (as a subprocess) on the same pattern file, loading it and saving it
again, with one fault drawn at random: kill -9 at a random moment, a TIP that crashes, a full
disk for the events (/dev/full), a disk that fills (a small file-size limit), SIGINT/SIGTERM
(one to three) at a random moment of the run, or a corrupt ``--load`` file. After each round:
the pattern file is intact and loadable (the one from before the round, or a complete newer
save), the event file a gapless prefix of a valid stream (complete when the run stopped by
itself), the exit status the one the fault calls for (0, 1, 2, 130, 143, -9), and no process or
temporary file is left behind (a kill -9 in the middle of a save may leave its temp file: the
next save must remove it).

``FOM_CHAOS_ROUNDS`` (default 12: every fault twice, about 20 s) sets the number of rounds,
``FOM_CHAOS_SEED`` the seed they are drawn from; a failure names its round and the two values
that replay the rounds up to it (each round starts from the pattern file the rounds before
left; kill and signal moments are drawn from the seed, what the run has reached by then
depends on the machine's speed).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fom.config import RunConfig
from fom.errors import FomError
from fom.events import read_events
from fom.events.reader import EventStreamWarning, TruncatedStreamWarning
from fom.match import initial_store
from fom.patterns import PatternStore, load_patterns, save_patterns

ROUNDS = int(os.environ.get("FOM_CHAOS_ROUNDS", "12"))
SEED = int(os.environ.get("FOM_CHAOS_SEED", "2"))  # its 12 rounds send 2 and 3 signals
FAULTS = ("kill-9", "crashing-tip", "full-disk", "disk-fills", "signals", "corrupt-load")

HARNESS = """
import os, sys
crash = os.environ.get("FOM_CHAOS_CRASH")
if crash:  # the TIP of this encounter raises after its nth action (as tests/actors inject it)
    encounter, nth = map(int, crash.split(","))
    from actors.tip import Tip
    request = Tip.request
    async def crashing(self, topic, message, *, timeout):
        reply = await request(self, topic, message, timeout=timeout)
        if topic == "world.act" and self.name == f"tip-{encounter}":
            self.chaos_acts = getattr(self, "chaos_acts", 0) + 1
            if self.chaos_acts == nth:
                os.write(2, f"CHAOS: crashed tip-{encounter}\\n".encode())
                raise RuntimeError("chaos: injected crash")
        return reply
    Tip.request = crashing
from fom.cli import run_main
run_main(sys.argv[1:])
"""


@dataclass
class Round:
    """One round: its fault, what it ran and what came out."""

    index: int
    rng: np.random.Generator
    dir: Path
    state: Path
    fault: str = ""
    notes: list[str] = field(default_factory=list)
    status: int | None = None
    stdout: str = ""
    stderr: str = ""
    pid: int | None = None
    loaded: dict[str, Any] = field(default_factory=dict)
    """The patterns in the pattern file before the round (what --load reads)."""

    @property
    def events(self) -> Path:
        return self.dir / f"e{self.index}.jsonl"

    def args(self, ticks: int, *extra: str) -> list[str]:
        tips = int(self.rng.choice([1, 4, 16, 64]))
        seed = int(self.rng.integers(2**31))
        self.notes.append(f"--ticks {ticks} --tips {tips} --seed {seed} {' '.join(extra)}")
        return [
            "--ticks", str(ticks), "--tips", str(tips), "--seed", str(seed),
            "--planner", "graph", "--load", str(self.state), "--save", str(self.state),
            "--quiet", *extra,
        ]  # fmt: skip

    def start(
        self, args: list[str], env: dict[str, str] | None = None,
        preexec: Callable[[], None] | None = None,
    ) -> subprocess.Popen[str]:  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-c", HARNESS, *args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
            preexec_fn=preexec,
        )  # fmt: skip
        self.pid = proc.pid
        return proc

    def finish(self, proc: subprocess.Popen[str], timeout: float = 60) -> None:
        try:
            self.stdout, self.stderr = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.status = proc.returncode

    def run(self, args: list[str], **kwargs: Any) -> None:
        self.finish(self.start(args, **kwargs))


# ------------------------------------------------------------------ what a stream must be


def _stream(path: Path, *, complete: bool) -> list[dict[str, Any]]:
    """The events at ``path``: seq 0, 1, 2, ... with no gap; only the last line may be cut, and
    not even that when the run stopped by itself (``complete``: it ends with run.finished)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        events = list(read_events(path)) if path.stat().st_size else []
    kinds = [type(w.message) for w in caught if issubclass(w.category, EventStreamWarning)]
    assert kinds in ([], [TruncatedStreamWarning]), [str(w.message) for w in caught]
    assert [e.get("seq") for e in events] == list(range(len(events))), "a gap in seq"
    if events:
        assert events[0]["type"] == "run.started"
    finished = [i for i, e in enumerate(events) if e["type"] == "run.finished"]
    assert finished in ([], [len(events) - 1]), "run.finished not last, or twice"
    if complete:
        assert not kinds and finished, "the stream of a run that stopped by itself is not whole"
    return events


def _params(path: Path) -> dict[str, dict[str, float]]:
    return {sig: p.as_dict() for sig, p in load_patterns(path).all().items()}


def _check_save(r: Round, events: list[dict[str, Any]], loaded: dict[str, Any]) -> None:
    """The save holds what the run's summary shows for the patterns it played, and the loaded
    patterns it did not play (the summary lists only those played) as they were loaded."""
    played = {sig: p["params"] for sig, p in events[-1]["summary"]["patterns"].items()}
    saved = _params(r.state)
    assert {sig: saved.get(sig) for sig in played} == played
    assert {sig: v for sig, v in saved.items() if sig not in played} == {
        sig: v for sig, v in loaded.items() if sig not in played
    }


def _one_error_line(stderr: str, *needles: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fom-run: error:"), stderr
    for needle in needles:
        assert needle in lines[0], stderr


# ------------------------------------------------------------------ the faults


def kill_9(r: Round) -> set[int]:
    """kill -9 at a random moment (start-up included), with periodic saves."""
    every = int(r.rng.integers(1, 10))
    delay = float(r.rng.uniform(0.0, 2.0))
    r.notes.append(f"kill -9 after {delay:.2f} s")
    proc = r.start(r.args(1_000_000, "--events", str(r.events), "--save-every", str(every)))
    time.sleep(delay)
    proc.kill()
    r.finish(proc)
    assert r.status == -signal.SIGKILL
    if r.events.exists():
        _stream(r.events, complete=False)
    return {proc.pid}  # its temp file, if it died in the middle of a save


def crashing_tip(r: Round) -> set[int]:
    """A TIP that raises in the middle of its encounter: reported, and the run goes on."""
    encounter, nth = int(r.rng.integers(0, 4)), int(r.rng.integers(1, 3))
    r.notes.append(f"tip-{encounter} crashes after its action {nth}")
    r.run(r.args(60, "--events", str(r.events)), env={"FOM_CHAOS_CRASH": f"{encounter},{nth}"})
    assert r.status == 0, r.stderr
    events = _stream(r.events, complete=True)
    failed = [e for e in events if e["type"] == "actor.failed"]
    if "CHAOS: crashed" in r.stderr:
        assert [e["actor"] for e in failed] == [f"tip-{encounter}"]
    else:  # that encounter did not last so long
        assert failed == [] and "Traceback" not in r.stderr
    _check_save(r, events, r.loaded)
    return set()


def full_disk(r: Round) -> set[int]:
    """Events to a full disk (/dev/full): nothing is written."""
    if not os.path.exists("/dev/full"):
        return disk_fills(r)
    r.notes.append("--events /dev/full")
    r.run(r.args(400, "--events", "/dev/full"))
    return _stopped_by_the_disk(r)


def disk_fills(r: Round) -> set[int]:
    """A disk that fills as the events are written (a file-size limit): the file is cut."""
    limit = int(r.rng.integers(4096, 65536))
    r.notes.append(f"file-size limit {limit} bytes")

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r.run(r.args(2000, "--events", str(r.events)), preexec=small_disk)
    events = _stream(r.events, complete=False)
    assert not events or events[-1]["type"] != "run.finished"
    return _stopped_by_the_disk(r)


def _stopped_by_the_disk(r: Round) -> set[int]:
    assert r.status == 1, r.stderr
    _one_error_line(r.stderr, "cannot write events", "from seq")
    assert "decisions" in r.stdout  # the summary
    return set()


def signals(r: Round) -> set[int]:
    """One to three signals (SIGINT/SIGTERM, never the same twice in a row) at random moments
    of the run: a graceful stop, the second said, the third aborting."""
    first = int(r.rng.integers(2))
    kinds = [(signal.SIGINT, signal.SIGTERM)[(first + k) % 2] for k in range(3)]
    sent = kinds[: int(r.rng.integers(1, 4))]
    delay = float(r.rng.uniform(0.0, 1.0))
    gaps = [float(g) for g in r.rng.uniform(0.005, 0.1, size=len(sent))]
    r.notes.append(f"{[s.name for s in sent]} {delay:.2f} s into the run, gaps {gaps}")
    proc = r.start(r.args(1_000_000, "--events", str(r.events)))
    deadline = time.monotonic() + 30
    while not (r.events.exists() and r.events.stat().st_size):  # the run has started
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    time.sleep(delay)
    for sig, gap in zip(sent, gaps, strict=True):
        proc.send_signal(sig)
        time.sleep(gap)
    r.finish(proc)
    assert "Traceback" not in r.stderr
    if "aborted: the stop did not complete" in r.stderr:
        assert len(sent) == 3 and r.status == 128 + sent[2], r.stderr
        _stream(r.events, complete=False)
        return {proc.pid}
    assert r.status == 128 + sent[0], r.stderr
    # said when a second came before the process ended (it may have ended before)
    assert "once more to abort" not in r.stderr or len(sent) > 1, r.stderr
    events = _stream(r.events, complete=True)
    assert events[-1]["interrupted"] is True
    assert "interrupted" in r.stdout and "accuracy" in r.stdout
    _check_save(r, events, r.loaded)
    return set()


def corrupt_load(r: Round) -> set[int]:
    """A damaged copy of the pattern file given to --load: refused before anything runs, or
    (a change that still makes a valid file) loaded and played."""
    load = r.dir / f"l{r.index}.fom"
    data = bytearray(r.state.read_bytes())
    how = str(r.rng.choice(["truncate", "flip", "insert", "empty"]))
    if how == "truncate":
        data = data[: int(r.rng.integers(0, len(data)))]
    elif how == "flip":
        for at in r.rng.integers(0, len(data), size=int(r.rng.integers(1, 4))):
            data[at] ^= int(r.rng.integers(1, 256))
    elif how == "insert":
        at = int(r.rng.integers(0, len(data) + 1))
        data[at:at] = r.rng.bytes(int(r.rng.integers(1, 8)))
    else:
        data = bytearray()
    r.notes.append(f"--load a copy: {how}")
    load.write_bytes(bytes(data))
    defaults = RunConfig()
    try:
        store = initial_store(defaults.learner, defaults.merge_rate, str(load))
        loaded = {sig: p.as_dict() for sig, p in store.all().items()}
    except FomError:
        loaded = None
    before = r.state.read_bytes()
    args = r.args(30, "--events", str(r.events))
    args[args.index("--load") + 1] = str(load)
    r.run(args)
    if loaded is not None:
        assert r.status == 0, r.stderr
        _check_save(r, _stream(r.events, complete=True), loaded)
    else:
        assert r.status == 2, r.stderr
        _one_error_line(r.stderr, str(load))
        assert r.state.read_bytes() == before and not r.events.exists()  # nothing touched
    return set()


FAULT_RUNS: dict[str, Callable[[Round], set[int]]] = {
    "kill-9": kill_9,
    "crashing-tip": crashing_tip,
    "full-disk": full_disk,
    "disk-fills": disk_fills,
    "signals": signals,
    "corrupt-load": corrupt_load,
}


# ------------------------------------------------------------------ the loop


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that mention ``text`` (the round's directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if text in cmdline and "State:\tZ" not in status:
            found.append(f"{entry.name}: {cmdline}")
    return found


def _temporaries(directory: Path, state: Path) -> dict[str, int]:
    """The save's temp files in ``directory``: name -> the pid of their writer."""
    prefix = f".{state.name}."
    return {
        p.name: int(p.name[len(prefix) :].split(".")[0])
        for p in directory.iterdir()
        if p.name.startswith(prefix) and p.name.endswith(".tmp")
    }


def _schedule(rounds: int) -> list[str]:
    """The faults of the rounds: random, every fault as often as the others."""
    rng = np.random.default_rng([SEED, 0])
    order: list[str] = []
    while len(order) < rounds:
        order += [FAULTS[i] for i in rng.permutation(len(FAULTS))]
    return order[:rounds]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="looks for leftover processes in /proc")
@pytest.mark.slow
@pytest.mark.timeout(60 + 10 * ROUNDS)
def test_chaos(tmp_path: Path) -> None:
    state = tmp_path / "p.fom"
    save_patterns(PatternStore(), state)
    schedule = _schedule(ROUNDS)
    print(f"chaos: {ROUNDS} round(s) from FOM_CHAOS_SEED={SEED}")
    stale: set[int] = set()  # writers killed by earlier rounds
    for index in range(ROUNDS):
        r = Round(index, np.random.default_rng([SEED, 1, index]), tmp_path, state)
        r.fault = schedule[index]
        before = r.loaded = _params(state)
        try:
            killed = FAULT_RUNS[r.fault](r)
            after = _params(state)  # loadable: the save from before, or a newer whole one
            if r.status == 2:
                assert after == before
            assert _processes_mentioning(str(tmp_path)) == [], "a process was left behind"
            temps = _temporaries(tmp_path, state)
            ran_a_save = r.status in (0, 1, 130, 143) and not killed  # it removed dead writers'
            # temp files
            allowed = killed | (set() if ran_a_save else stale)
            assert set(temps.values()) <= allowed, f"temporary files left behind: {temps}"
            stale = set(temps.values())
            names = {p.name for p in tmp_path.iterdir()} - set(temps) - {state.name}
            assert all(n[0] in "el" for n in names), f"unexpected files: {names}"
        except AssertionError as exc:
            raise AssertionError(
                f"chaos round {index} ({r.fault}: {'; '.join(r.notes)}) failed; replay it with "
                f"FOM_CHAOS_SEED={SEED} FOM_CHAOS_ROUNDS={index + 1}\n{exc}\n"
                f"status {r.status}\nstderr:\n{r.stderr[-2000:]}"
            ) from None
        print(f"chaos round {index}: {r.fault} ({'; '.join(r.notes)}) -> status {r.status}")


def test_the_chaos_schedule_is_seeded_and_covers_every_fault() -> None:
    assert _schedule(10) == _schedule(10)
    assert sorted(_schedule(len(FAULTS))) == sorted(FAULTS)

