"""Problems as GitHub Actions workflow commands: `::error file=plans/a.yaml,line=3,col=5,title=...::message`, which
the runner turns into annotations on the pull request's files.

GitHub shows at most 10 error and 10 warning annotations per step, and 50 per job: past that it drops the rest
without a word. So past 9 of a kind, one more annotation of that kind says how many were left out and of which
rules, and the log of the step lists every problem (between `::stop-commands::`, so that no text taken from a
catalog file can be read as a command).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath

from compiler.errors import Diagnostic, Severity, sort_diagnostics

#: annotations of one kind (error, warning) that GitHub shows for one step
ANNOTATIONS_PER_STEP = 10


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped, as the runner unescapes them."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: what `escape_data` escapes, and `:` and `,` (they end a value)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(name: str, properties: Mapping[str, str | int], message: str) -> str:
    """`::name key=value,key=value::message`, every part escaped."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def repository_path(file: str, root: Path, cwd: Path) -> str:
    """A diagnostic's file as GitHub names files: relative to the repository's root, with `/`. A file outside
    the root is left as it was given."""
    path = Path(file) if Path(file).is_absolute() else cwd / file
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        return file
    return PurePosixPath(*relative.parts).as_posix() if relative.parts else "."


def _annotation(diagnostic: Diagnostic, place: Callable[[str], str]) -> str:
    location = diagnostic.location
    properties: dict[str, str | int] = {"file": place(location.file)}
    if location.line > 0:
        properties["line"] = location.line
        if location.col > 0:
            properties["col"] = location.col
    properties["title"] = f"pricebook: {diagnostic.rule}"
    message = diagnostic.message + (f"\nhint: {diagnostic.hint}" if diagnostic.hint else "")
    return workflow_command(diagnostic.severity.value, properties, message)


def _left_out(severity: Severity, left: Sequence[Diagnostic]) -> str:
    """The one annotation that stands for the problems of a kind GitHub would not show."""
    kind = severity.value
    by_rule = Counter(d.rule for d in left)
    rules = ", ".join(f"{rule} ×{count}" if count > 1 else rule for rule, count in by_rule.most_common())
    title = f"pricebook: {len(left)} more {kind}{'' if len(left) == 1 else 's'}"
    message = (
        f"{len(left)} more {kind}{'' if len(left) == 1 else 's'} than GitHub shows as annotations ({rules}): "
        "the log of this step lists every problem"
    )
    return workflow_command(kind, {"title": title}, message)


def render_github(
    diagnostics: Iterable[Diagnostic],
    summary: str,
    *,
    place: Callable[[str], str] = str,
    limit: int = ANNOTATIONS_PER_STEP,
    token: str | None = None,
) -> str:
    """The workflow commands for these problems, at most `limit` annotations of each kind; when some are left
    out, every problem again as plain text; then `summary`. `place` maps a diagnostic's file to the path GitHub
    knows it by; `token` ends the `::stop-commands::` stretch (a random one when None)."""
    ordered = sort_diagnostics(diagnostics)
    lines: list[str] = []
    left_out = False
    for severity in (Severity.ERROR, Severity.WARNING):
        found = [d for d in ordered if d.severity is severity]
        shown = found if len(found) <= limit else found[: limit - 1]
        lines += [_annotation(d, place) for d in shown]
        if len(shown) < len(found):
            lines.append(_left_out(severity, found[len(shown) :]))
            left_out = True
    if left_out:
        token = token or secrets.token_hex(16)
        lines += [f"::group::Every problem ({len(ordered)})", f"::stop-commands::{token}"]
        lines += [d.format() for d in ordered]
        lines += [f"::{token}::", "::endgroup::"]
    lines.append(summary)
    return "\n".join(lines) + "\n"
