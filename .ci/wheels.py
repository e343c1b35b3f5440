"""CI: every dependency of `make run` and `make test` installs from a wheel (no compiler)
on Linux x86_64/aarch64 (glibc 2.28+) and macOS x86_64/arm64, for CPython 3.11-3.14.

For each Python version x platform, pip resolves the project's dependencies (runtime and
the dev extra, read from pyproject.toml) allowing wheels only (`pip install --dry-run
--only-binary=:all:`), combinations in parallel on pip's usual cache. A combination fails
when pip finds no wheel for some package (named in the table's notes), or when it has to
fall back to an older release of a package than the other platforms get for the same
Python: a plain `pip install` there would pick the newer source release and compile it.

Usage: python .ci/wheels.py [--jobs N]     (exit status 1 when any combination fails)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ["3.11", "3.12", "3.13", "3.14"]


def _manylinux(arch: str, oldest_glibc_minor: int) -> list[str]:
    """Tags a glibc 2.28 machine accepts: manylinux_2_28 down to the oldest, and aliases."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(28, oldest_glibc_minor - 1, -1)]
    return tags + [f"manylinux2014_{arch}"]  # pip adds manylinux2010/1 for x86_64 itself


# macOS tags name the oldest release: pip also accepts wheels for older ones. macOS 11 is
# the floor on Intel too: greenlet (for playwright and SQLAlchemy) has no wheel before it.
PLATFORMS: dict[str, list[str]] = {
    "linux-x86_64": _manylinux("x86_64", 5),
    "linux-aarch64": _manylinux("aarch64", 17),
    "macos-x86_64": ["macosx_11_0_x86_64", "macosx_11_0_universal2"],
    "macos-arm64": ["macosx_11_0_arm64", "macosx_11_0_universal2"],
}


@dataclass
class Outcome:
    """What pip made of one Python version on one platform."""

    python: str
    platform: str
    versions: dict[str, str] = field(default_factory=dict)
    problem: str = ""
    seconds: float = 0.0


def requirements() -> list[str]:
    """The project's runtime dependencies and its dev extra, as pyproject.toml states them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])


def resolve(python: str, platform: str, reqs: list[str]) -> Outcome:
    """Resolve `reqs` for one combination, wheels only; nothing is installed."""
    outcome = Outcome(python, platform)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wheels-") as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                   "--quiet", "--only-binary=:all:", "--python-version", python,
                   "--implementation", "cp", "--target", str(Path(tmp) / "target"),
                   "--report", str(report), "--disable-pip-version-check"]
        for tag in PLATFORMS[platform]:
            command += ["--platform", tag]
        done = subprocess.run(command + reqs, capture_output=True, text=True, cwd=tmp)
        if done.returncode == 0:
            for item in json.loads(report.read_text())["install"]:
                meta = item["metadata"]
                outcome.versions[_canonical(meta["name"])] = meta["version"]
        else:
            outcome.problem = _explain(done.stderr)
    outcome.seconds = time.monotonic() - started
    return outcome


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _explain(stderr: str) -> str:
    """The package pip could not find a wheel for, else pip's last error line."""
    missing = re.findall(r"Could not find a version that satisfies the requirement (\S+)",
                         stderr)
    unavailable = re.search(r"no matching distributions available for your environment:\n"
                            r"((?:[ \t]+\S+\n?)+)", stderr)
    if unavailable:
        missing += unavailable.group(1).split()
    if missing:
        return "no wheel: " + ", ".join(dict.fromkeys(missing))
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR")]
    lines = errors or stderr.strip().splitlines() or ["pip failed"]
    return lines[-1]


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    parts = re.split(r"[.+!-]", version)
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in parts)


def flag_fallbacks(outcomes: list[Outcome]) -> None:
    """Mark combinations that got an older release than the same Python elsewhere."""
    for python in PYTHONS:
        same = [o for o in outcomes if o.python == python and not o.problem]
        newest: dict[str, str] = {}
        for o in same:
            for name, version in o.versions.items():
                if name not in newest or _version_key(version) > _version_key(newest[name]):
                    newest[name] = version
        for o in same:
            older = [f"{name} {version} (elsewhere {newest[name]})"
                     for name, version in sorted(o.versions.items())
                     if _version_key(version) < _version_key(newest[name])]
            if older:
                o.problem = "older wheel only, newer would build from source: " + "; ".join(older)


def table(outcomes: list[Outcome]) -> str:
    """Python versions x platforms, ok/FAIL, then a note per failure."""
    by = {(o.python, o.platform): o for o in outcomes}
    width = max(len(p) for p in PLATFORMS)
    lines = ["python  " + "  ".join(p.ljust(width) for p in PLATFORMS)]
    notes = []
    for python in PYTHONS:
        cells = []
        for platform in PLATFORMS:
            o = by[(python, platform)]
            cells.append(("FAIL" if o.problem else "ok").ljust(width))
            if o.problem:
                notes.append(f"  {python} {platform}: {o.problem}")
        lines.append(python.ljust(8) + "  ".join(cells))
    return "\n".join(lines + notes)


def main() -> int:
    """Check every combination; print the table; exit 1 if any would compile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=min(8, 2 * (os.cpu_count() or 1)))
    args = parser.parse_args()
    reqs = requirements()
    started = time.monotonic()
    combos = [(py, plat) for py in PYTHONS for plat in PLATFORMS]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda c: resolve(c[0], c[1], reqs), combos))
    flag_fallbacks(outcomes)
    print(table(outcomes))
    packages = max((len(o.versions) for o in outcomes), default=0)
    print(f"wheels: {len(reqs)} requirements, up to {packages} packages per combination, "
          f"{len(combos)} combinations in {time.monotonic() - started:.1f} s")
    return 1 if any(o.problem for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
