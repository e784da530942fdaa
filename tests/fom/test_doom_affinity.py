"""SharedCpu: a game and the thread that drives it on one CPU while they play, and the thread
free again afterwards (Linux only; skipped elsewhere)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from fom.engines.doom.affinity import SharedCpu

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only"
)


@pytest.fixture
def other() -> Iterator[int]:
    """A process standing in for a game."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_the_game_joins_the_threads_cpu_and_the_thread_is_freed_after(other: int) -> None:
    mask = os.sched_getaffinity(0)
    with SharedCpu(other) as pair:
        (cpu,) = os.sched_getaffinity(0)
        assert os.sched_getaffinity(other) == {cpu}
    assert pair.enabled
    assert os.sched_getaffinity(0) == mask


def test_a_given_cpu_is_kept_and_an_error_in_the_block_still_frees_the_thread(
    other: int,
) -> None:
    mask = os.sched_getaffinity(0)
    cpu = max(mask)
    with pytest.raises(RuntimeError, match="boom"), SharedCpu(other, cpu):
        assert os.sched_getaffinity(0) == {cpu} == os.sched_getaffinity(other)
        raise RuntimeError("boom")
    assert os.sched_getaffinity(0) == mask


def test_a_game_that_is_gone_plays_unpinned() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    mask = os.sched_getaffinity(0)
    pair = SharedCpu(proc.pid)
    with pair:
        assert os.sched_getaffinity(0) == mask
    assert not pair.enabled
    assert os.sched_getaffinity(0) == mask
