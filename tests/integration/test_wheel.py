"""pricebook used from a repository of one's own: the wheel built from this tree, installed with pip into a fresh
venv outside the repository, runs validate, compile, plan and apply on a catalog in another directory against the
emulator that the same installation serves (started and stopped here, on 127.0.0.1 only).

Nothing of this repository is on the path there: the commands run from the catalog's directory with the venv's
own `pricebook`, so a module or data file the wheel leaves out fails here. Dependencies are resolved by pip as a
user's install would, within the versions of requirements.lock."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli import REPO
from tests.installs import clean_env, lock_constraints

#: what goes into the build: the package and what pyproject.toml names (a copy, so the build leaves no build/
#: or *.egg-info behind in the repository, nor ships a stale file from an earlier build there)
SOURCES = ("compiler", "pyproject.toml", "README.md")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path  # the fresh venv's bin/


def _run(args: list[str | Path], env: dict[str, str] | None = None) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    dist = root / "dist"
    # the build backend is the one the lock installed into this venv: no download, no isolation
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", dist, source])
    (wheel,) = dist.glob("pricebook-*.whl")

    venv = root / "venv"
    _run([sys.executable, "-m", "venv", venv])
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    constraints = lock_constraints(root / "constraints.txt")
    _run([bin_dir / "python", "-m", "pip", "install", "--quiet", "-c", constraints, wheel], env=clean_env())
    return Installed(wheel, bin_dir)


@pytest.fixture
def served(installed: Installed, tmp_path: Path) -> Iterator[str]:
    """The installed `pricebook emulator` on a free loopback port; its URL. Stopped when the test ends."""
    process = subprocess.Popen(
        [installed.bin / "pricebook", "emulator", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert found, first
        yield found.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_the_wheel_holds_the_package_and_its_data(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert {
        "compiler/cli/__init__.py",
        "compiler/data/catalog.schema.json",
        "compiler/data/changeset.schema.json",  # what `apply --plan` checks a saved plan against
        "compiler/py.typed",
    } <= names
    assert any(n.startswith("compiler/render/templates/") and n.endswith(".j2") for n in names)
    assert not any(n.startswith("tests/") or n.startswith("scripts/") for n in names)


def test_an_installed_pricebook_runs_a_catalog_of_another_repository(
    installed: Installed, served: str, tmp_path: Path
) -> None:
    repository = tmp_path / "billing"
    shutil.copytree(REPO / "plans", repository / "catalog")
    env = clean_env(STRIPE_API_KEY="sk_test_wheelTEST0123456789abcdef", STRIPE_API_BASE=served)

    def pricebook(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        command = [str(installed.bin / "pricebook"), *args]
        done = subprocess.run(command, cwd=repository, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == code, f"pricebook {' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return done

    where = pricebook("--version").stdout
    assert re.fullmatch(r"pricebook \S+ \(Stripe API version \S+\)\n", where), where
    probe = [str(installed.bin / "python"), "-c", "import compiler; print(compiler.__file__)"]
    located = subprocess.run(probe, cwd=repository, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert Path(located.stdout.strip()).is_relative_to(installed.bin.parent)  # the venv's copy, not this tree

    pricebook("schema", "--out", "schemas/catalog.schema.json")
    assert (repository / "schemas" / "catalog.schema.json").read_bytes() == (
        REPO / "schemas" / "catalog.schema.json"
    ).read_bytes()
    assert "6 files valid" in pricebook("validate", "catalog").stderr
    assert "curl https://api.stripe.com/v1/products" in pricebook("compile", "catalog", "--format", "curl").stdout
    assert "productivity_suite" in pricebook("plan", "catalog", "--detailed-exitcode", code=2).stdout
    pricebook("apply", "catalog", "--auto-approve")
    pricebook("plan", "catalog", "--detailed-exitcode", code=0)
