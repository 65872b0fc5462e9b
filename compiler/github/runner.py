"""What a GitHub Actions step gets from the runner (environment variables naming the event, the repository and
the run; the event's payload in a file) and hands back (step outputs and the job summary, appended to files the
runner names). Read once, from the environment, into a value.
"""

from __future__ import annotations

import json
import re
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


#: what the runner's variables hold: `owner/name`, a commit's full id (SHA-1, or SHA-256 in such a repository)
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_IN_A_JOB = "run it as a step of a GitHub Actions job, where the runner sets it (see docs/github-actions.md)"


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "")
    return Path(value) if value else None


def _append(path: Path, variable: str, text: str) -> None:
    """Append to a file the runner names in `variable`; a file that cannot be written is the runner's error."""
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise GitHubError(
            f"cannot write to {path}, the file {variable} names: {exc.strerror or exc}",
            hint=f"{variable} names a file of the runner's: {_IN_A_JOB}",
            rule="ci-file-unwritable",
        ) from None


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
        event: Any = {}
        event_path = _path(env, "GITHUB_EVENT_PATH")
        if event_path is not None:
            try:
                event = json.loads(event_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise event_error(f"cannot read the event payload {event_path} (GITHUB_EVENT_PATH): {exc}") from None
            if not isinstance(event, Mapping):
                raise event_error(f"the event payload {event_path} (GITHUB_EVENT_PATH) is not a JSON object")
        return cls(
            event_name=env.get("GITHUB_EVENT_NAME", ""),
            event=event,
            repository=env.get("GITHUB_REPOSITORY", ""),
            sha=env.get("GITHUB_SHA", ""),
            ref_name=env.get("GITHUB_REF_NAME", ""),
            api_url=(env.get("GITHUB_API_URL") or cls.api_url).rstrip("/"),
            server_url=(env.get("GITHUB_SERVER_URL") or cls.server_url).rstrip("/"),
            run_id=env.get("GITHUB_RUN_ID", ""),
            run_attempt=env.get("GITHUB_RUN_ATTEMPT", ""),
            summary_file=_path(env, "GITHUB_STEP_SUMMARY"),
            # a token pasted into a secret often ends in a line break; it is no part of the token
            token=env.get("GITHUB_TOKEN", "").strip(),
        )

    def require_repository(self) -> str:
        """GITHUB_REPOSITORY, `owner/name`: what every request of the API names."""
        return _required("GITHUB_REPOSITORY", self.repository, _REPOSITORY, "owner/name")

    def require_sha(self) -> str:
        """GITHUB_SHA, the commit the workflow runs on."""
        return _required("GITHUB_SHA", self.sha, _SHA, "a commit's full id")

    def require_token(self) -> str:
        """GITHUB_TOKEN, the token the requests of the API carry (the action's github-token input)."""
        if not self.token or any(c.isspace() or not c.isprintable() for c in self.token):
            problem = "is empty" if not self.token else "holds spaces or line breaks, so it is not a token"
            raise GitHubError(
                f"this step needs a GitHub token, and GITHUB_TOKEN {problem}",
                hint="the action passes its github-token input, whose default is the job's github.token: leave it "
                "out, or check that the secret you give it is set (a secret that does not exist is empty)",
                rule="ci-no-github-token",
            )
        return self.token

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
        try:
            used = self.summary_file.stat().st_size if self.summary_file.exists() else 0
        except OSError:
            used = 0  # the append below says what is wrong with the file
        _append(self.summary_file, "GITHUB_STEP_SUMMARY", fit(markdown, SUMMARY_LIMIT - used))


def _required(variable: str, value: str, form: re.Pattern[str], shown: str) -> str:
    if not value:
        raise GitHubError(
            f"this step needs {variable}, which the runner sets in every workflow run, and it is empty",
            hint=_IN_A_JOB,
            rule="ci-runner-environment",
        )
    if not form.fullmatch(value):
        raise GitHubError(
            f"{variable} is {value!r}, not {shown}",
            hint=f"leave {variable} as the runner sets it: {_IN_A_JOB}",
            rule="ci-runner-environment",
        )
    return value


def event_error(message: str) -> GitHubError:
    """The event's payload (GITHUB_EVENT_PATH) is not what the runner writes."""
    return GitHubError(
        message,
        hint="the runner writes the event's payload to GITHUB_EVENT_PATH: run the step in a GitHub Actions job; "
        "to try it elsewhere, point GITHUB_EVENT_PATH at a JSON file shaped like the event's payload",
        rule="ci-event-invalid",
    )


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
        _append(self.file, "GITHUB_OUTPUT", f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

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
