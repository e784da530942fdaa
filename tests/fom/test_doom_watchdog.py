"""The game watchdog: a call into a game that stops answering gets the game killed, the floor
reports why and plays on with a new game; calls that answer never trip it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import game_pid, left

from fom.engines.doom.watchdog import TIMER_POLL_S, Watchdog, bounded

TESTS = str(Path(__file__).resolve().parents[1])
"""The tests' directory, for a child process to import their helpers (processes.py)."""


@pytest.fixture
def game() -> Iterator[subprocess.Popen]:
    """A process standing in for a game."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a_call_that_stays_open_gets_the_game_killed(game: subprocess.Popen) -> None:
    dog = Watchdog(game.pid, timeout_s=0.2, poll_s=0.02)
    try:
        with dog:
            assert game.wait(timeout=10) == -signal.SIGKILL
        assert dog.verdict is not None and dog.verdict.startswith("GameHung: ")
        assert str(game.pid) in dog.verdict
    finally:
        dog.stop()


def test_calls_that_answer_never_trip_it(game: subprocess.Popen) -> None:
    dog = Watchdog(game.pid, timeout_s=0.2, poll_s=0.02)
    try:
        end = time.monotonic() + 1.0  # five timeouts' worth of short calls, and idle between
        while time.monotonic() < end:
            with dog:
                time.sleep(0.005)
        assert game.poll() is None and dog.verdict is None
    finally:
        dog.stop()
    assert not any(t.name == f"fom-doom-watchdog-{game.pid}" for t in threading.enumerate())


def test_a_bounded_block_that_overruns_gets_the_game_killed(game: subprocess.Popen) -> None:
    """bounded() watches by a process of its own: a block that holds the GIL cannot stop it."""
    with bounded(game.pid, 0.2, match="time.sleep"):
        assert game.wait(timeout=10) == -signal.SIGKILL


def test_a_bounded_block_kills_nothing_but_what_it_watched(game: subprocess.Popen) -> None:
    """The timer checks the pid is still the process it watched (a pid may be reused)."""
    with bounded(game.pid, 0.2, match="vizdoom"):
        deadline = time.monotonic() + 10
        while _timers() and time.monotonic() < deadline:  # its timer ends once it has looked
            time.sleep(0.02)
        assert _timers() == 0
    assert game.poll() is None


def test_a_bounded_block_that_ends_in_time_leaves_the_game_and_no_timer(
    game: subprocess.Popen,
) -> None:
    with bounded(game.pid, 5.0, match="time.sleep"):
        assert _timers() == 1
    assert game.poll() is None and _timers() == 0


def test_the_timer_of_a_driver_killed_outright_kills_its_game_and_ends(
    game: subprocess.Popen,
) -> None:
    """SIGKILL the process in a bounded() block: its timer does not sleep out its bound (it once
    slept up to 94 s, a search's), and the game it watched, left to nobody (the engine stops
    the game's reaper before it closes the game under such a block), is killed with it."""
    if not os.path.isdir("/proc"):
        pytest.skip("the timer looks at its driver through /proc's pids: Linux")
    code = ("import sys, time; from fom.engines.doom.watchdog import bounded\n"
            f"with bounded({game.pid}, 60.0, match='time.sleep'):\n"
            "    print('in', flush=True); time.sleep(60)\n")  # fmt: skip
    driver = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert driver.stdout is not None and driver.stdout.readline() == "in\n"
        timer = _timer_pids(driver.pid)
        assert len(timer) == 1
        driver.kill()
        driver.wait(timeout=10)
        assert game.wait(timeout=TIMER_POLL_S + 5.0) == -signal.SIGKILL
        assert left(timer, grace_s=TIMER_POLL_S + 5.0) == []
    finally:
        driver.kill()
        driver.wait(timeout=10)


def _timers() -> int:
    """How many timer shells of bounded() that this process started are alive now."""
    return len(_timer_pids(os.getpid()))


def _timer_pids(parent: int) -> list[int]:
    """The timer shells of bounded() that process ``parent`` started and that are alive now."""
    out = subprocess.run(["pgrep", "-f", "-P", str(parent), "fom-doom-timer"],
                         capture_output=True, text=True, check=False).stdout  # fmt: skip
    return [int(p) for p in out.split()]


def test_bad_timeouts_are_refused() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        Watchdog(None, timeout_s=0.0)


@pytest.mark.timeout(60, method="thread")  # a game call that hangs blocks signals too
@pytest.mark.parametrize("floor", [0, 1], ids=["in-process", "in-a-worker"])
def test_a_game_that_hangs_is_killed_and_its_floor_plays_on(floor: int) -> None:
    """SIGSTOP a floor's game mid-run: its watchdog kills it, the floor reports GameHung, closes
    its encounters and plays on in a new game; nothing waits for ever."""
    pytest.importorskip("vizdoom", reason="the doom worlds need the vizdoom package")
    if not os.path.isdir("/proc"):
        pytest.skip("the game's pid is known on Linux only")
    from fom.engines.doom.floors import FloorSet

    floors = FloorSet("defend_the_center", 3, floors=2, hang_s=1.0)
    try:
        for _ in range(5):
            floors.advance()
        hung = game_pid(floors, floor)
        os.kill(hung, signal.SIGSTOP)
        t0 = time.monotonic()
        floors.advance()
        assert time.monotonic() - t0 < 15
        (lost,) = floors.take_failures()
        assert (lost.floor, lost.error_type, lost.restarts) == (floor, "GameHung", 1)
        assert f"pid {hung}" in lost.error
        before = floors.tick
        floors.advance()
        assert floors.tick == before + 1 and game_pid(floors, floor) != hung
        assert not floors.take_failures()
        assert not left([hung])
    finally:
        floors.shutdown()


_CLOSE_A_STOPPED_GAME = """
import os, signal, time
from fom.engines.doom import DoomEngine
engine = DoomEngine("deadly_corridor", 0)
hung = engine.watchdog.pid
engine.advance()
os.kill(hung, signal.SIGSTOP)
t0 = time.monotonic()
engine.shutdown()
print(hung, time.monotonic() - t0)
"""


def test_closing_a_game_that_hangs_is_bounded() -> None:
    """A game stopped between two calls would hold close() for ever, and close() keeps the GIL,
    so no thread can help (nor pytest's timeout): the engine's shutdown kills it after CLOSE_S
    and leaves nothing behind. Run in a process of its own, so that a regression fails here."""
    pytest.importorskip("vizdoom", reason="the doom worlds need the vizdoom package")
    if not os.path.isdir("/proc"):
        pytest.skip("the game's pid is known on Linux only")
    from fom.engines.doom.watchdog import CLOSE_S

    try:
        done = subprocess.run([sys.executable, "-c", _CLOSE_A_STOPPED_GAME], capture_output=True,
                              text=True, timeout=CLOSE_S + 30, check=True)  # fmt: skip
    except subprocess.TimeoutExpired:  # (its game's reaper ends the game once it is killed)
        pytest.fail("closing a stopped game did not end")
    hung, took = done.stdout.split()
    assert float(took) < CLOSE_S + 5
    assert not left([int(hung)])


_HANG_IN_A_SEARCH = """
import os, signal, sys, time
from processes import game_pid
from fom.engines.doom.fmc_engine import FmcEnginePlanner
from fom.engines.doom.floors import FloorSet
from fom.planners import PlanProblem

floor = int(sys.argv[1])
floors = FloorSet("deadly_corridor", 2, floors=floor + 1, hang_s=1.0)
try:
    planner = FmcEnginePlanner(walkers=2, horizon=2)
    planner.bind(floors)
    bound = planner.bound_s(floors.watchdog) if floor == 0 else 1.0
    o = floors.observe().opponents[0]
    me = floors.projection(o.id)
    problem = PlanProblem(o.id, floors.tick, o.weapon, me.node, me.health, o.node, o.health,
                          0.0, 0.0)
    planner.plan(floors.level, [problem], seed=5)  # a search that ends well first
    hung = game_pid(floors, floor)
    os.kill(hung, signal.SIGSTOP)
    t0 = time.monotonic()
    (choice,) = planner.plan(floors.level, [problem], seed=5)
    took = time.monotonic() - t0
    assert (choice.move_to, choice.fire, choice.samples) == (me.node, False, 0), choice
    assert not floors.take_failures()  # not in the search: at the next tick
    reports = floors.advance()
    (lost,) = floors.take_failures()
    assert (lost.floor, lost.error_type, lost.restarts) == (floor, "GameHung", 1), lost
    if floor == 0:
        assert f"pid {hung}" in lost.error, lost.error
        assert any(r.encounter == o.id and r.done and r.reason == "closed" for r in reports)
        assert floors.watchdog.pid != hung
    floors.advance()
    assert not floors.take_failures()
finally:
    floors.shutdown()
# the bound: the search's timer (floor 0's game), or the floor's hang_s on a worker's reply
print(hung, took, bound)
"""


@pytest.mark.parametrize("floor", [0, 1], ids=["in-process", "in-a-worker"])
def test_a_game_that_hangs_in_an_fmc_engine_search_is_killed_and_its_floor_plays_on(
    floor: int,
) -> None:
    """ViZDoom's save and load keep the GIL, so the watchdog's thread cannot stop them: the
    search's own timer kills floor 0's game, a worker's floor is given up after its hang_s (its
    worker killed, once after 60 s); the TIP holds for that decision, and the next tick reports
    GameHung and restarts the floor, which closes the encounter. In a process of its own, so
    that a regression (a search held for ever) fails here."""
    pytest.importorskip("vizdoom", reason="the doom worlds need the vizdoom package")
    if not os.path.isdir("/proc"):
        pytest.skip("the game's pid is known on Linux only")
    try:
        done = subprocess.run([sys.executable, "-c", _HANG_IN_A_SEARCH, str(floor)],
                              capture_output=True, text=True, timeout=50,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                  [TESTS, os.environ.get("PYTHONPATH", "")])})  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("a search over a stopped game did not end")
    assert done.returncode == 0, done.stderr[-2000:]
    hung, took, bound = done.stdout.split()
    assert float(bound) <= float(took) < float(bound) + 5
    assert not left([int(hung)])
