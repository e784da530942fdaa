"""The progress bar follows the ticks it is sent, through tqdm."""

from __future__ import annotations

import io

from actors import Runtime
from actors.channels import TickEvent
from actors.progress import Progress
from bus import Bus


async def test_the_bar_counts_ticks_and_closes_with_the_run() -> None:
    stream = io.StringIO()
    async with Runtime(Bus()) as rt:
        ref = rt.spawn(Progress(5, "tick", stream, delay=0.0), name="progress",
                       topics=("event.world.tick",))  # fmt: skip
        for tick in range(5):
            await rt.bus.publish("event.world.tick", TickEvent(tick, 0, 100.0, 1, 1))
        await rt.settle()
        await rt.stop(ref)
    text = stream.getvalue()
    assert "5/5" in text and "tick" in text
    assert "6/5" not in text


def test_no_bar_unless_stderr_is_a_terminal(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a file or a pipe, not a terminal
    assert Progress.for_stderr(100, "tick") is None
