"""The installed package says what it is and who makes it (``pip show fom``)."""

from __future__ import annotations

import importlib.metadata


def test_pip_show_names_the_authors() -> None:
    meta = importlib.metadata.metadata("fom")
    assert meta["Author"] and meta["Summary"] and meta["License"]
