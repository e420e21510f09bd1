"""The README's install (no extras) gives a working ``domwatch demo``.

A fresh virtual environment gets the project's wheel and, beside it, only the runtime
dependencies (``pyproject.toml``'s ``dependencies`` and theirs, never the test extras): their
installed files from this environment are linked into one directory on the new interpreter's
path. Building the wheel needs setuptools and wheel, which the test extras bring, so the test
runs offline; nothing is fetched from an index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def runtime_closure(project: str = "domwatch") -> list[metadata.Distribution]:
    """The installed distributions ``project`` needs at run time (markers evaluated, no extra)."""
    seen: dict[str, metadata.Distribution] = {}
    todo = [project]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        dist = metadata.distribution(name)
        seen[name] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return [d for n, d in seen.items() if n != project]


def _link_runtime(dists: list[metadata.Distribution], into: Path) -> None:
    into.mkdir()
    for dist in dists:
        base = Path(str(dist.locate_file("")))
        for file in dist.files or []:
            if file.parts[0] == "..":  # console scripts and data outside site-packages
                continue
            top = into / file.parts[0]
            if not top.exists():
                top.symlink_to(base / file.parts[0])


def test_install_without_extras_runs_the_demo(tmp_path: Path) -> None:
    # Build from a copy, so the worktree gets no build/ or egg-info droppings.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    quiet = {"capture_output": True, "text": True, "timeout": 300}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(tmp_path / "dist"), str(source)], **quiet,  # type: ignore[call-overload]
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("domwatch-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        **quiet,  # type: ignore[call-overload]
    )
    assert installed.returncode == 0, installed.stderr
    dists = runtime_closure()
    names = {canonicalize_name(d.metadata["Name"]) for d in dists}
    assert {"cryptography", "rich", "dnspython"} <= names and "pytest" not in names
    site = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True,
    ).strip())
    _link_runtime(dists, tmp_path / "runtime")
    (site / "runtime-deps.pth").write_text(str(tmp_path / "runtime") + "\n", encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["HOME"] = str(tmp_path)  # no cache or state of the user's
    missing = subprocess.run(
        [str(python), "-c", "import pytest"], env=env, **quiet  # type: ignore[call-overload]
    )
    assert missing.returncode != 0, "the test extras leaked into the fresh environment"
    demo = subprocess.run(
        [str(venv / "bin" / "domwatch"), "demo", "--format", "json"],
        env=env, cwd=tmp_path, **quiet,  # type: ignore[call-overload]
    )
    assert "Traceback" not in demo.stderr, demo.stderr
    assert demo.returncode == 2, demo.stderr
    report = json.loads(demo.stdout)
    assert report["summary"]["ok"] >= 1 and len(report["domains"]) >= 12
