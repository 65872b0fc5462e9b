"""Environments: the accounts one catalog runs against (test, sandboxes, live), named in `pricebook.toml`.

    default_environment = "test"        # optional: the environment when --env is not given

    [environments.test]
    api_key_env = "STRIPE_TEST_API_KEY"  # the environment variable that holds this account's key (required)
    live = false                         # true: a live-mode key is expected (--live implied), a test key refused
    api_base = "http://127.0.0.1:12111"  # optional: talk to this API base (the emulator, say)

    [environments.test.vars]             # optional: template variables (--vars and --var override them)
    region = "us"

The file is the `pricebook.toml` of the current directory, or of the nearest directory above it, up to the
repository's root (the directory holding `.git`): the catalog repository's root, where `make` and CI run. With
no file, or no environment chosen (no `--env` and no `default_environment`), the key comes from STRIPE_API_KEY
and a live key needs `--live`, as before. Templates get the chosen environment as `env` (`env.name`,
`env.live`). Every problem of the file is a diagnostic with its line and a rule id (`RULE_IDS`); the key itself
is never read here, only the name of the variable that holds it.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.catalog.files import CONFIG_FILE, ENV_VARIABLE, display_path, find_config
from compiler.errors import Diagnostic, InvalidConfig, Location, UsageError

#: every rule id of the file (all errors)
RULE_IDS: Mapping[str, str] = {
    "config-syntax": "the file is not valid TOML",
    "config-unknown-key": "a key pricebook does not know (at the top, or in an environment)",
    "config-type": "a value of the wrong type (a table, a string, a boolean)",
    "config-required": "an environment without `api_key_env`",
    "config-key-variable": "`api_key_env` is not an environment variable name",
    "config-api-base": "`api_base` is not an http:// or https:// URL",
    "config-var-name": "a template variable name that is not an identifier, or is `env` (pricebook's)",
    "config-default": "`default_environment` names no environment of the file",
}

_TOP_KEYS = ("default_environment", "environments")
_ENVIRONMENT_KEYS = ("api_key_env", "live", "api_base", "vars")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: how a Stripe API key starts (secret, restricted, publishable): never a variable's name
_KEY_PREFIXES = ("sk_", "rk_", "pk_")
_SYNTAX_PLACE = re.compile(r"\(at line (\d+), column (\d+)\)")
_TABLE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")


@dataclass(frozen=True)
class Environment:
    """One account the catalog runs against, as the file declares it (never its key)."""

    name: str
    api_key_env: str
    live: bool
    location: Location  # where the file declares it
    api_base: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)

    def template_value(self) -> dict[str, Any]:
        """What templates see as `env`."""
        return {"name": self.name, "live": self.live}


@dataclass(frozen=True)
class Config:
    path: Path
    environments: Mapping[str, Environment]
    default: str | None = None

    @property
    def shown(self) -> str:
        return display_path(self.path)


def load_config(path: Path) -> Config:
    """The file read and checked; InvalidConfig with every problem (each at its line) otherwise."""
    shown = display_path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidConfig(
            shown, [Diagnostic(Location(shown, 1, 1), "config-syntax", "the file is not UTF-8", "save it as UTF-8")]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        place = _SYNTAX_PLACE.search(str(exc))
        line, col = (int(place.group(1)), int(place.group(2))) if place else (1, 1)
        message = _SYNTAX_PLACE.sub("", str(exc)).strip()
        hint = "see https://toml.io for the syntax; a string needs quotes: api_key_env = \"STRIPE_API_KEY\""
        raise InvalidConfig(shown, [Diagnostic(Location(shown, line, col), "config-syntax", message, hint)]) from None
    reader = _Reader(shown, text.splitlines())
    config = reader.config(path, data)
    if reader.problems:
        raise InvalidConfig(shown, reader.problems)
    return config


def select(name: str | None, *, start: Path | None = None) -> Environment | None:
    """The environment `--env NAME` names, else the file's default one; None when neither is there."""
    path = find_config(start)
    if path is None:
        if name is None:
            return None
        raise UsageError(
            f"--env {name}: there is no {CONFIG_FILE} in {display_path(start or Path.cwd())} or above it",
            hint=f"create {CONFIG_FILE} at the catalog repository's root with [environments.{name}] and its "
            'api_key_env = "..." (see docs/environments.md of pricebook), or run pricebook from that repository',
        )
    config = load_config(path)
    chosen = name if name is not None else config.default
    if chosen is None:
        return None
    environment = config.environments.get(chosen)
    if environment is None:
        names = sorted(config.environments)
        close = difflib.get_close_matches(chosen, names, n=1)
        hint = f"did you mean --env {close[0]}? " if close else ""
        hint += f"add [environments.{chosen}] to {config.shown} to declare it"
        raise UsageError(
            f"{config.shown}: no environment {chosen!r} (it declares {', '.join(names) or 'none'})", hint=hint
        )
    return environment


class _Reader:
    """Checks the parsed file, collecting every problem at its line."""

    def __init__(self, shown: str, lines: Sequence[str]) -> None:
        self.shown = shown
        self.lines = lines
        self.problems: list[Diagnostic] = []

    def config(self, path: Path, data: Mapping[str, Any]) -> Config:
        self._unknown((), data, _TOP_KEYS)
        environments: dict[str, Environment] = {}
        tables = data.get("environments", {})
        if not isinstance(tables, dict):
            self._problem(("environments",), "config-type", "`environments` must be a table of environments",
                          "write each as a table: [environments.test]")
            tables = {}
        for name, table in tables.items():
            environment = self._environment(name, table)
            if environment is not None:
                environments[name] = environment
        default = data.get("default_environment")
        if default is not None and not isinstance(default, str):
            self._problem(("default_environment",), "config-type", "`default_environment` must be a string",
                          'write default_environment = "test"')
            default = None
        if isinstance(default, str) and default not in tables:
            names = ", ".join(sorted(tables)) or "none"
            self._problem(("default_environment",), "config-default",
                          f"`default_environment` is {default!r}, which the file does not declare (it declares "
                          f"{names})", f"declare [environments.{default}], or name one of the environments")
        return Config(path, environments, default if isinstance(default, str) and default in tables else None)

    def _environment(self, name: str, table: Any) -> Environment | None:
        where = ("environments", name)
        if not isinstance(table, dict):
            self._problem(where, "config-type", f"environment {name!r} must be a table",
                          f'write it as [environments.{name}] with api_key_env = "..."')
            return None
        before = len(self.problems)
        self._unknown(where, table, _ENVIRONMENT_KEYS)
        variable = table.get("api_key_env")
        if variable is None:
            self._problem(where, "config-required",
                          f"environment {name!r} does not say which environment variable holds its key",
                          f'add api_key_env = "STRIPE_{name.upper()}_API_KEY" (any variable name) under '
                          f"[environments.{name}]")
        elif not isinstance(variable, str):
            self._problem((*where, "api_key_env"), "config-type", "`api_key_env` must be a string",
                          'write api_key_env = "STRIPE_API_KEY"')
        elif variable.lower().startswith(_KEY_PREFIXES):
            # never echoed: it is the key itself, written where its variable's name goes
            self._problem((*where, "api_key_env"), "config-key-variable",
                          "`api_key_env` holds what looks like an API key, not the name of the variable that holds it",
                          "write the variable's name (api_key_env = \"STRIPE_API_KEY\"), and roll the key in the "
                          "Dashboard: it is in this file, and perhaps in its history")
        elif not _VARIABLE_NAME.fullmatch(variable):
            self._problem((*where, "api_key_env"), "config-key-variable",
                          f"`api_key_env` is {variable!r}, not an environment variable name",
                          "name the variable that holds the key: letters, digits and _, not starting with a digit")
        live = table.get("live", False)
        if not isinstance(live, bool):
            self._problem((*where, "live"), "config-type", "`live` must be true or false (no quotes)",
                          "write live = true for the live-mode account")
        api_base = table.get("api_base")
        if api_base is not None and not (isinstance(api_base, str) and re.match(r"https?://[^/\s]", api_base)):
            rule = "config-api-base" if isinstance(api_base, str) else "config-type"
            self._problem((*where, "api_base"), rule, f"`api_base` is {api_base!r}, not an http(s) URL",
                          'write api_base = "https://..." (or "http://127.0.0.1:12111" for the emulator)')
        variables = table.get("vars", {})
        if not isinstance(variables, dict):
            self._problem((*where, "vars"), "config-type", "`vars` must be a table of template variables",
                          f"write them under [environments.{name}.vars]")
            variables = {}
        for key in variables:
            if not _VARIABLE_NAME.fullmatch(key) or key == ENV_VARIABLE:
                why = "is pricebook's: templates get the environment as env.name and env.live" if (
                    key == ENV_VARIABLE) else "is not a valid variable name"
                self._problem((*where, "vars", key), "config-var-name", f"template variable {key!r} {why}",
                              "use a name of letters, digits and _ that does not start with a digit")
        if len(self.problems) > before:
            return None
        assert isinstance(variable, str) and isinstance(live, bool)
        return Environment(name, variable, live, self._place(where), api_base, dict(variables))

    def _unknown(self, where: tuple[str, ...], table: Mapping[str, Any], known: Sequence[str]) -> None:
        for key in table:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]}?" if close else f"the keys here are: {', '.join(known)}"
            self._problem((*where, key), "config-unknown-key", f"unknown key {key!r}", hint)

    def _problem(self, path: tuple[str, ...], rule: str, message: str, hint: str) -> None:
        self.problems.append(Diagnostic(self._place(path), rule, message, hint))

    def _place(self, path: tuple[str, ...]) -> Location:
        """The line that defines `path` (a key in a table, or a table's header), else its nearest parent's."""
        for size in range(len(path), 0, -1):
            line = self._line_of(path[: size - 1], path[size - 1])
            if line:
                return Location(self.shown, line, 1)
        return Location(self.shown, 1, 1)

    def _line_of(self, table: tuple[str, ...], key: str) -> int:
        """The 1-based line of `key = ...` inside `[table]`, or of the header `[table.key]`; 0 if not found."""
        current: tuple[str, ...] = ()
        assignment = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=")
        for number, text in enumerate(self.lines, 1):
            header = _TABLE.match(text)
            if header:
                current = tuple(part.strip().strip("\"'") for part in header.group(1).split("."))
                if current == (*table, key):
                    return number
            elif current == table and assignment.match(text):
                return number
        return 0


__all__ = ["CONFIG_FILE", "RULE_IDS", "Config", "Environment", "find_config", "load_config", "select"]
