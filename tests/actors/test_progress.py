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


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_one_bar_goes_to_a_terminal_unless_quiet(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from fom.progress import progress_bar, terminal_stderr

    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert terminal_stderr() is terminal and terminal_stderr(quiet=True) is None
    with progress_bar(3, "run", terminal, delay=0.0, desc="runs") as bar:
        bar.update(3)
    assert "runs" in terminal.getvalue() and "3/3" in terminal.getvalue()
    quick = _Terminal()
    with progress_bar(3, "run", quick) as bar:  # done before SHOW_AFTER_S: nothing drawn
        bar.update(3)
    assert "3/3" not in quick.getvalue()
