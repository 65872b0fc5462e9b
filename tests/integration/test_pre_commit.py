"""pricebook as a pre-commit hook of another repository: a scratch git repository with a catalog and a
`.pre-commit-config.yaml` that names this repository's hook (`.pre-commit-hooks.yaml`), run by the pinned
pre-commit as a user's commit runs it.

The hook repository is a local git repository made from this tree (its package and hook manifest, committed), so
nothing is fetched from a git host; pre-commit installs the hook into its own virtualenv with pip, which takes the
dependencies from the package index within the versions of requirements.lock (`PIP_CONSTRAINT`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import REPO
from tests.installs import clean_env, lock_constraints

#: what the hook's install needs from this tree
SOURCES = ("compiler", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")

PRODUCTS = """\
products:
  - id: suite
    name: Suite
"""
PRICES = """\
prices:
  - lookup_key: suite_monthly
    product: suite
    currency: usd
    unit_amount: 1000
    recurring: {interval: month}
"""


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=_git_env())
    assert done.returncode == 0, f"git {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip()


def _git_env() -> dict[str, str]:
    env = clean_env()
    for role in ("AUTHOR", "COMMITTER"):
        env.update({f"GIT_{role}_NAME": "t", f"GIT_{role}_EMAIL": "t@example.com"})
    env.update(GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    return env


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository holding this tree's package and hook manifest; (its path, its commit)."""
    root = tmp_path_factory.mktemp("hooks") / "pricebook"
    root.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, root / name)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--message", "pricebook")
    return root, git(root, "rev-parse", "HEAD")


def pre_commit(repository: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = _git_env()
    env.update(PRE_COMMIT_HOME=str(home), PIP_CONSTRAINT=str(lock_constraints(home.parent / "constraints.txt")))
    command = [sys.executable, "-m", "pre_commit", *args]
    return subprocess.run(command, cwd=repository, capture_output=True, text=True, timeout=900, env=env)


def test_the_hook_checks_the_whole_catalog_of_another_repository(
    hook_repository: tuple[Path, str], tmp_path: Path
) -> None:
    hooks, commit = hook_repository
    billing = tmp_path / "billing"
    (billing / "plans").mkdir(parents=True)
    git(billing, "init", "--quiet", "--initial-branch=main")
    (billing / "plans" / "products.yaml").write_text(PRODUCTS, encoding="utf-8")
    (billing / "plans" / "prices.yaml").write_text(PRICES, encoding="utf-8")
    (billing / "README.md").write_text("not part of the catalog\n", encoding="utf-8")
    (billing / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {commit}\n    hooks:\n      - id: pricebook-validate\n",
        encoding="utf-8",
    )
    git(billing, "add", "--all")
    home = tmp_path / "pre-commit-home"

    done = pre_commit(billing, home, "run", "--all-files")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pricebook validate" in done.stdout and "Passed" in done.stdout

    # one file changes: the product the other file's price names is renamed. Only products.yaml is staged, yet
    # the hook reports the price in prices.yaml, which now names a product the catalog no longer has.
    git(billing, "commit", "--quiet", "--message", "catalog")
    (billing / "plans" / "products.yaml").write_text(PRODUCTS.replace("id: suite", "id: suite_2"), encoding="utf-8")
    git(billing, "add", "plans/products.yaml")
    failed = pre_commit(billing, home, "run")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "plans/prices.yaml:3:14: error[unknown-product]" in failed.stdout, failed.stdout

    # a change outside the catalog does not run the hook
    git(billing, "checkout", "--quiet", "--", ".")
    git(billing, "reset", "--quiet", "--hard")
    (billing / "README.md").write_text("still not part of the catalog\n", encoding="utf-8")
    git(billing, "add", "README.md")
    skipped = pre_commit(billing, home, "run")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "(no files to check)Skipped" in skipped.stdout, skipped.stdout
