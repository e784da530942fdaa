"""Sections a script writes into a hand-kept or generated report: the block between a begin and
an end marker, replaced in place (or appended), so a rerun rewrites its own figures only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["sections", "splice"]

_SECTION = re.compile(r"<!-- (?P<name>[\w-]+):begin -->.*?<!-- (?P=name):end -->", re.S)


def splice(path: Path, section: Sequence[str]) -> None:
    """Replace the block of ``path`` between the section's first and last lines (its begin and
    end markers, such as ``<!-- planners:begin -->``), or append the section."""
    begin, end = section[0], section[-1]
    text = path.read_text() if path.exists() else ""
    block = "\n".join(section)
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def sections(path: Path) -> dict[str, list[str]]:
    """The marked sections of ``path`` by name (none if it does not exist), each as ``splice``
    takes it: so a script that rewrites the file can put back the sections others wrote."""
    text = path.read_text() if path.exists() else ""
    return {m["name"]: m.group(0).split("\n") for m in _SECTION.finditer(text)}
