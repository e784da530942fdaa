"""A minimal PEP 517 build backend for the example plug-in: a pure-Python wheel, no dependencies.

It packs ``fom_signstep.py`` and the metadata pip and importlib.metadata read (METADATA, WHEEL,
entry_points.txt, RECORD), all taken from pyproject.toml's [project] table.
"""

from __future__ import annotations

import base64
import hashlib
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = ("fom_signstep.py",)


def _project() -> dict:
    with open(HERE / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]


def _dist_files(project: dict) -> tuple[str, dict[str, bytes]]:
    """The dist-info directory name and its files (RECORD excepted)."""
    name, version = project["name"], project["version"]
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    metadata = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        f"Summary: {project.get('description', '')}\n"
        f"Requires-Python: {project.get('requires-python', '')}\n"
    )
    wheel = "Wheel-Version: 1.0\nGenerator: signstep_build\nRoot-Is-Purelib: true\n"
    wheel += "Tag: py3-none-any\n"
    groups = project.get("entry-points", {})
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n"
        for group, eps in groups.items()
    )
    files = {"METADATA": metadata, "WHEEL": wheel, "entry_points.txt": entry_points}
    return dist_info, {f"{dist_info}/{k}": v.encode() for k, v in files.items()}


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\n"


def get_requires_for_build_wheel(config_settings: dict | None = None) -> list[str]:
    """Nothing to install before building."""
    return []


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: dict | None = None
) -> str:
    """Write the dist-info directory (without RECORD) into ``metadata_directory``."""
    dist_info, files = _dist_files(_project())
    for path, data in files.items():
        target = Path(metadata_directory) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dist_info


def build_wheel(
    wheel_directory: str,
    config_settings: dict | None = None,
    metadata_directory: str | None = None,
) -> str:
    """Build ``<name>-<version>-py3-none-any.whl`` in ``wheel_directory``; return its name."""
    project = _project()
    dist_info, files = _dist_files(project)
    files = {m: (HERE / m).read_bytes() for m in MODULES} | files
    name = f"{dist_info.removesuffix('.dist-info')}-py3-none-any.whl"
    record = "".join(_record_line(p, d) for p, d in files.items()) + f"{dist_info}/RECORD,,\n"
    with zipfile.ZipFile(Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as whl:
        for path, data in files.items():
            whl.writestr(path, data)
        whl.writestr(f"{dist_info}/RECORD", record)
    return name
