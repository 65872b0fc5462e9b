"""`make actionlint`: pricebook's GitHub Action (`action.yml`) and the example workflows of
`docs/github-actions.md`, checked with actionlint, which runs shellcheck on every `run:` script.

actionlint checks workflows, not an action's own file. So in a scratch repository:
- the examples, with `uses: your-org/pricebook@...` turned into `uses: ./` and action.yml at the root: actionlint
  checks each `with:` against the action's inputs;
- the action's steps as the job of a workflow whose `workflow_dispatch` inputs are the action's inputs:
  actionlint checks their expressions (`inputs.NAME` must be an input), the actions they use and, through
  shellcheck, their scripts.
The action's outputs must name a step it has (`steps.ID.outputs`).

    python -m scripts.lint_actions [ACTIONLINT [SHELLCHECK]]   (default: the ones beside this Python)
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
ACTION = REPO / "action.yml"
DOC = REPO / "docs" / "github-actions.md"
#: how the examples name pricebook's action
THIS_ACTION = re.compile(r"your-org/pricebook@\S+")

_BLOCK = re.compile(r"^```yaml\n(# (\.github/workflows/[\w.-]+\.ya?ml)\n.*?)^```$", re.MULTILINE | re.DOTALL)
_STEP_OUTPUT = re.compile(r"\bsteps\.([A-Za-z0-9_-]+)\.outputs\b")


def example_workflows(markdown: str) -> dict[str, str]:
    """The workflow files a page shows: each ```yaml block whose first line names its path."""
    return {found.group(2): found.group(1) for found in _BLOCK.finditer(markdown)}


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _steps(action: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    runs = action.get("runs") or {}
    steps = runs.get("steps") if isinstance(runs, Mapping) else None
    return [step for step in steps or [] if isinstance(step, Mapping)]


def action_outputs(action_text: str) -> Iterator[str]:
    """The action's outputs that name no step of it."""
    action = yaml.safe_load(action_text)
    step_ids = {str(step["id"]) for step in _steps(action) if "id" in step}
    for name, output in (action.get("outputs") or {}).items():
        for step in _STEP_OUTPUT.findall(str(output.get("value", "")) if isinstance(output, Mapping) else ""):
            if step not in step_ids:
                yield f"action.yml: output `{name}` reads `steps.{step}.outputs`, and the action has no such step"


#: where the action's steps are linted as a workflow's job
STEPS_WORKFLOW = ".github/workflows/pricebook-action-steps.yml"


def action_as_workflow(action_text: str) -> str:
    """A workflow whose one job is the action's steps, its `workflow_dispatch` inputs the action's inputs."""
    action = yaml.safe_load(action_text)
    inputs = {name: {"type": "string", "required": False} for name in action.get("inputs") or {}}
    job = {"runs-on": "ubuntu-latest", "steps": _steps(action)}
    on = {"workflow_dispatch": {"inputs": inputs}}
    workflow = {"name": "the steps of action.yml", "on": on, "jobs": {"action": job}}
    return yaml.dump(workflow, Dumper=_Dumper, sort_keys=False)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the steps' scripts) as literal blocks, so actionlint's findings read like the action."""


def _string(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_Dumper.add_representer(str, _string)


def actionlint_examples(workflows: Mapping[str, str], action_text: str, actionlint: str, shellcheck: str) -> str:
    """actionlint's findings on the workflows, run in a scratch repository that holds the action at its root."""
    with tempfile.TemporaryDirectory(prefix="pricebook-actionlint-") as scratch:
        root = Path(scratch)
        (root / ".git").mkdir()  # what actionlint takes for a repository's root, where `uses: ./` points
        (root / "action.yml").write_text(action_text, encoding="utf-8")
        for path, text in workflows.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(THIS_ACTION.sub("./", text), encoding="utf-8")
        command = [actionlint, f"-shellcheck={shellcheck}", "-pyflakes=", *workflows]
        done = subprocess.run(command, cwd=root, capture_output=True, text=True)
        return "" if done.returncode == 0 else (done.stdout + done.stderr or f"actionlint exited {done.returncode}")


def lint(action_text: str, markdown: str, actionlint: str, shellcheck: str) -> list[str]:
    """Every finding, or [] when the action and the examples are clean."""
    workflows = example_workflows(markdown)
    findings = [] if workflows else ["docs/github-actions.md: no example workflow found"]
    findings += action_outputs(action_text)
    everything = {**workflows, STEPS_WORKFLOW: action_as_workflow(action_text)}
    linted = actionlint_examples(everything, action_text, actionlint, shellcheck)
    return findings + ([linted] if linted else [])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    actionlint = args[0] if args else _bin("actionlint")
    shellcheck = args[1] if len(args) > 1 else _bin("shellcheck")
    findings = lint(ACTION.read_text(encoding="utf-8"), DOC.read_text(encoding="utf-8"), actionlint, shellcheck)
    for finding in findings:
        print(finding.rstrip(), file=sys.stderr)
    if not findings:
        count = len(example_workflows(DOC.read_text(encoding="utf-8")))
        print(f"action.yml and {count} example workflows: actionlint and shellcheck found nothing")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
