"""What a GitHub Actions step gets from the runner (environment variables naming the event, the repository and
the run; the event's payload in a file) and hands back (step outputs and the job summary, appended to files the
runner names). Read once, from the environment, into a value.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.errors import GitHubError

#: bytes the job summary of one step may hold: GitHub refuses a bigger one and shows an error instead
SUMMARY_LIMIT = 1024 * 1024
#: what ends a summary that had to be cut
SUMMARY_CUT = "\n\n*The rest does not fit in a job summary (GitHub takes 1 MiB a step); the step's log has it.*\n"


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "")
    return Path(value) if value else None


@dataclass(frozen=True)
class Runner:
    """The runner's side of a step. A variable the runner always sets but that is missing here reads as empty;
    what a step cannot do without, it asks for with `require`."""

    event_name: str = ""
    #: the webhook payload of the event that started the workflow (`GITHUB_EVENT_PATH`)
    event: Mapping[str, Any] = field(default_factory=dict)
    repository: str = ""  # owner/name
    sha: str = ""
    ref_name: str = ""
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    run_id: str = ""
    run_attempt: str = ""
    summary_file: Path | None = None
    token: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Runner:
        event: Mapping[str, Any] = {}
        event_path = _path(env, "GITHUB_EVENT_PATH")
        if event_path is not None:
            try:
                event = json.loads(event_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise GitHubError(f"cannot read the event payload {event_path}: {exc}") from None
        return cls(
            event_name=env.get("GITHUB_EVENT_NAME", ""),
            event=event if isinstance(event, Mapping) else {},
            repository=env.get("GITHUB_REPOSITORY", ""),
            sha=env.get("GITHUB_SHA", ""),
            ref_name=env.get("GITHUB_REF_NAME", ""),
            api_url=(env.get("GITHUB_API_URL") or cls.api_url).rstrip("/"),
            server_url=(env.get("GITHUB_SERVER_URL") or cls.server_url).rstrip("/"),
            run_id=env.get("GITHUB_RUN_ID", ""),
            run_attempt=env.get("GITHUB_RUN_ATTEMPT", ""),
            summary_file=_path(env, "GITHUB_STEP_SUMMARY"),
            token=env.get("GITHUB_TOKEN", ""),
        )

    def require(self, what: str, value: str) -> str:
        if not value:
            raise GitHubError(
                f"this step needs {what}, which the runner sets in a workflow run",
                hint="run it as a step of a GitHub Actions job (see docs/github-actions.md); for GITHUB_TOKEN, "
                "pass the action's github-token input",
            )
        return value

    @property
    def run_url(self) -> str:
        """The page of this workflow run (its job summaries are there), or "" outside one."""
        if not (self.repository and self.run_id):
            return ""
        url = f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return f"{url}/attempts/{self.run_attempt}" if self.run_attempt else url

    @property
    def pull_request_number(self) -> int | None:
        """The pull request of a `pull_request` (or `pull_request_target`) event."""
        pull = self.event.get("pull_request")
        number = pull.get("number") if isinstance(pull, Mapping) else None
        return number if isinstance(number, int) and not isinstance(number, bool) else None

    def add_summary(self, markdown: str) -> None:
        """Append to this step's job summary, cut at a line to stay within what GitHub takes."""
        if self.summary_file is None:
            return
        used = self.summary_file.stat().st_size if self.summary_file.exists() else 0
        with self.summary_file.open("a", encoding="utf-8") as out:
            out.write(fit(markdown, SUMMARY_LIMIT - used))


@dataclass
class StepOutputs:
    """A step's outputs (`steps.<id>.outputs.<name>`), appended to the file the runner names (`GITHUB_OUTPUT`;
    nowhere outside a run), and the names set so far: a step that stops early sets the others with `set_unset`,
    so that a workflow reading an output always finds it. Read from the environment apart from the `Runner`, so
    that the outputs are set even when the rest of the runner's environment cannot be read."""

    file: Path | None = None
    names: set[str] = field(default_factory=set)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StepOutputs:
        return cls(_path(env, "GITHUB_OUTPUT"))

    def set(self, name: str, value: str) -> None:
        """One output, in the runner's multi-line form with a fresh delimiter."""
        self.names.add(name)
        if self.file is None:
            return
        delimiter = f"pricebook_{secrets.token_hex(16)}"
        with self.file.open("a", encoding="utf-8") as out:
            out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def set_unset(self, values: Mapping[str, str]) -> None:
        """The outputs of `values` that are not set yet."""
        for name, value in values.items():
            if name not in self.names:
                self.set(name, value)


def fit(markdown: str, budget: int) -> str:
    """`markdown` if it takes at most `budget` bytes in UTF-8, else its first lines and a note that fit."""
    data = markdown.encode("utf-8")
    if len(data) <= budget:
        return markdown
    room = budget - len(SUMMARY_CUT.encode("utf-8"))
    if room <= 0:
        return ""
    head = data[:room].decode("utf-8", errors="ignore")
    cut = head.rfind("\n")
    return (head[:cut] if cut > 0 else "") + SUMMARY_CUT
