"""Environments (`pricebook.toml`): finding and reading the file, every problem of it at its line with its rule
id, choosing an environment, the key and mode it gives a connection, and the template variables it gives.
(Against the emulator, through the command: tests/integration/test_environments_emulator.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from compiler.cli import keep_environment_secrets
from compiler.cli.common import connect
from compiler.cli.environments import RULE_IDS, Environment, find_config, load_config, select
from compiler.cli.validate import command as validate
from compiler.errors import InvalidConfig, Location, UsageError, redact
from tests.cli import invoke

CONFIG = """\
default_environment = "test"

[environments.test]
api_key_env = "STRIPE_TEST_KEY"

[environments.live]
api_key_env = "STRIPE_LIVE_KEY"
live = true
api_base = "https://api.example.test"

[environments.live.vars]
region = "eu"
seats = 5
"""

TEST_KEY = "sk_test_unitTESTkey0123456789abcdef"
LIVE_KEY = "sk_live_unitLIVEkey0123456789abcdef"


def write(directory: Path, text: str = CONFIG) -> Path:
    path = directory / "pricebook.toml"
    path.write_text(dedent(text), encoding="utf-8")
    return path


# -- the file ---------------------------------------------------------------------------------------------------


def test_the_file_declares_environments_with_their_key_variable_mode_base_and_variables(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    assert config.default == "test"
    test, live = config.environments["test"], config.environments["live"]
    assert (test.api_key_env, test.live, test.api_base, dict(test.variables)) == ("STRIPE_TEST_KEY", False, None, {})
    assert (live.api_key_env, live.live, live.api_base) == ("STRIPE_LIVE_KEY", True, "https://api.example.test")
    assert dict(live.variables) == {"region": "eu", "seats": 5}
    assert (test.location.line, live.location.line) == (3, 6)  # where each is declared, for messages
    assert live.template_value() == {"name": "live", "live": True}


def test_the_repository_s_own_file_is_valid_and_names_test_and_live() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "pricebook.toml")
    assert config.default is None  # without --env, STRIPE_API_KEY and --live as ever
    assert {n: (e.api_key_env, e.live) for n, e in config.environments.items()} == {
        "test": ("STRIPE_API_KEY", False),
        "live": ("STRIPE_LIVE_API_KEY", True),
    }


#: (rule id, file, line of the problem): each way the file can be wrong
BAD: list[tuple[str, str, int]] = [
    ("config-syntax", "[environments.test]\napi_key_env = STRIPE_KEY\n", 2),
    ("config-syntax", "[environments.test]\napi_key_env = 'A'\n[environments.test]\n", 3),
    ("config-unknown-key", 'defaults = "test"\n', 1),
    ("config-unknown-key", '[environments.test]\napi_key_env = "A"\nlve = true\n', 3),
    ("config-type", 'environments = "test"\n', 1),
    ("config-type", '[environments]\ntest = "A"\n', 2),
    ("config-type", '[environments.test]\napi_key_env = "A"\nlive = "yes"\n', 3),
    ("config-type", '[environments.test]\napi_key_env = 5\n', 2),
    ("config-type", '[environments.test]\napi_key_env = "A"\nvars = [1]\n', 3),
    ("config-type", 'default_environment = 1\n[environments.test]\napi_key_env = "A"\n', 1),
    ("config-required", "[environments.test]\nlive = false\n", 1),
    ("config-key-variable", '[environments.test]\n\napi_key_env = "sk_test_123"\n', 3),
    ("config-api-base", '[environments.test]\napi_key_env = "A"\napi_base = "localhost:12111"\n', 3),
    ("config-var-name", '[environments.test]\napi_key_env = "A"\n[environments.test.vars]\nenv = "x"\n', 4),
    ("config-var-name", '[environments.test]\napi_key_env = "A"\n[environments.test.vars]\n"a-b" = "x"\n', 4),
    ("config-default", 'default_environment = "prod"\n[environments.test]\napi_key_env = "A"\n', 1),
]


@pytest.mark.parametrize(("rule", "text", "line"), BAD, ids=[f"{r}-{n}" for n, (r, _, _) in enumerate(BAD)])
def test_every_problem_of_the_file_has_its_rule_line_and_hint(rule: str, text: str, line: int, tmp_path: Path) -> None:
    with pytest.raises(InvalidConfig) as raised:
        load_config(write(tmp_path, text))
    (problem,) = raised.value.diagnostics
    assert (problem.rule, problem.location.line) == (rule, line), problem
    assert problem.location.file.endswith("pricebook.toml") and problem.message and problem.hint
    assert "pricebook.toml is not a valid environments file" in raised.value.message


def test_every_rule_id_of_the_file_has_a_case() -> None:
    assert {rule for rule, _, _ in BAD} == set(RULE_IDS)


def test_all_problems_of_the_file_are_reported_at_once(tmp_path: Path) -> None:
    text = '[environments.a]\nlive = 1\n[environments.b]\napi_key_env = "1X"\n'
    with pytest.raises(InvalidConfig) as raised:
        load_config(write(tmp_path, text))
    assert sorted(d.rule for d in raised.value.diagnostics) == ["config-key-variable", "config-required", "config-type"]


def test_the_file_is_found_here_or_above_up_to_the_repository_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "plans" / "deep").mkdir(parents=True)
    write(tmp_path)  # above the repository: never read
    assert find_config(repo / "plans" / "deep") is None
    config = write(repo)
    assert find_config(repo / "plans" / "deep") == config.resolve()
    assert find_config(repo) == config.resolve()


# -- choosing one -------------------------------------------------------------------------------------------------


def test_env_picks_an_environment_and_the_default_applies_without_it(tmp_path: Path) -> None:
    write(tmp_path)
    chosen = select("live", start=tmp_path)
    assert chosen is not None and chosen.name == "live"
    default = select(None, start=tmp_path)
    assert default is not None and default.name == "test"
    write(tmp_path, '[environments.test]\napi_key_env = "A"\n')
    assert select(None, start=tmp_path) is None  # no default: STRIPE_API_KEY, as without a file


def test_an_unknown_environment_is_refused_with_the_file_and_the_closest_name(tmp_path: Path) -> None:
    write(tmp_path)
    with pytest.raises(UsageError) as raised:
        select("lvie", start=tmp_path)
    assert "no environment 'lvie'" in raised.value.message and "live, test" in raised.value.message
    assert "pricebook.toml" in raised.value.message
    assert raised.value.hint is not None and "--env live" in raised.value.hint


def test_env_without_a_file_is_refused_with_how_to_write_one(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    with pytest.raises(UsageError) as raised:
        select("live", start=tmp_path)
    assert "no pricebook.toml" in raised.value.message
    assert raised.value.hint is not None and "[environments.live]" in raised.value.hint
    assert select(None, start=tmp_path) is None


# -- the key -----------------------------------------------------------------------------------------------------


def environment(name: str, *, live: bool, api_base: str | None = None) -> Environment:
    return Environment(name, f"KEY_OF_{name.upper()}", live, Location("pricebook.toml", 7, 1), api_base)


def test_an_environment_reads_its_key_from_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_notThisOne0000000000")
    monkeypatch.setenv("KEY_OF_STAGING", TEST_KEY)
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    connection = connect(environment("staging", live=False, api_base="http://127.0.0.1:9"), None, False)
    assert connection.api_key == TEST_KEY and connection.api_base == "http://127.0.0.1:9"
    # --api-base beats the file's, which beats STRIPE_API_BASE
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:7")
    assert connect(environment("staging", live=False), None, False).api_base == "http://127.0.0.1:7"
    assert connect(environment("staging", live=False, api_base="http://127.0.0.1:9"), "http://127.0.0.1:8",
                   False).api_base == "http://127.0.0.1:8"


def test_a_live_environment_takes_a_live_key_without_live(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEY_OF_LIVE", LIVE_KEY)
    connection = connect(environment("live", live=True), None, False)
    assert connection.livemode and connection.api_key == LIVE_KEY


@pytest.mark.parametrize(
    ("live", "key", "held", "wanted"), [(True, TEST_KEY, "test", "live"), (False, LIVE_KEY, "live", "test")]
)
def test_a_key_of_the_other_mode_is_refused_both_ways(
    live: bool, key: str, held: str, wanted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "live" if live else "test"
    monkeypatch.setenv(f"KEY_OF_{name.upper()}", key)
    with pytest.raises(UsageError) as raised:
        connect(environment(name, live=live), None, live=False)
    text = f"{raised.value.message} {raised.value.hint}"
    assert f"refusing a {held}-mode key" in text and f"declared {wanted}-mode (pricebook.toml:7:1)" in text
    assert f"KEY_OF_{name.upper()}" in text
    assert key not in text and key[8:] not in text


def test_a_missing_key_variable_names_the_variable_the_environment_and_its_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KEY_OF_LIVE", raising=False)
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)  # never a fallback for an environment
    with pytest.raises(UsageError) as raised:
        connect(environment("live", live=True), None, False)
    assert raised.value.message == (
        "KEY_OF_LIVE is not set: environment 'live' (pricebook.toml:7:1) reads its key from it"
    )
    assert raised.value.hint is not None and "export KEY_OF_LIVE=sk_live_" in raised.value.hint


def test_live_with_a_test_environment_is_a_contradiction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEY_OF_TEST", TEST_KEY)
    with pytest.raises(UsageError, match="--live contradicts environment 'test'"):
        connect(environment("test", live=False), None, True)


def test_without_an_environment_the_key_is_stripe_api_key_and_a_live_one_needs_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", LIVE_KEY)
    with pytest.raises(UsageError, match="without --live"):
        connect(None, None, False)
    assert connect(None, None, True).livemode


def test_internal_errors_are_scrubbed_of_any_key_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEY_OF_LIVE", LIVE_KEY)
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    keep_environment_secrets()
    assert redact(f"boom: {LIVE_KEY} and {TEST_KEY}") == "boom: [redacted] and [redacted]"


# -- template variables -------------------------------------------------------------------------------------------

TEMPLATE = """\
products:
  - id: suite_{{ env.name }}
    name: Suite ({{ region }}, {{ "live" if env.live else "test" }})
"""


def _catalog(tmp_path: Path) -> Path:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "suite.yaml.j2").write_text(TEMPLATE)
    write(tmp_path, CONFIG + '\n[environments.test.vars]\nregion = "us"\n')
    return plans


def _names(result_stdout: str) -> list[str]:
    return [c["params"]["name"] for c in json.loads(result_stdout)["calls"]]


def test_offline_commands_render_templates_for_the_environment_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.cli.compile import command as compile_command

    plans = _catalog(tmp_path)
    monkeypatch.chdir(tmp_path)
    for name in ("STRIPE_API_KEY", "STRIPE_TEST_KEY", "STRIPE_LIVE_KEY"):
        monkeypatch.delenv(name, raising=False)
    live = invoke(compile_command, str(plans), "--env", "live")
    assert live.exit_code == 0, live.stderr
    assert _names(live.stdout) == ["Suite (eu, live)"]
    default = invoke(compile_command, str(plans))  # default_environment = "test"
    assert _names(default.stdout) == ["Suite (us, test)"]
    overridden = invoke(compile_command, str(plans), "--env", "live", "--var", "region=ap")
    assert _names(overridden.stdout) == ["Suite (ap, live)"]
    assert invoke(validate, str(plans), "--env", "live").exit_code == 0


def test_env_is_the_environment_s_alone_when_one_is_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plans = _catalog(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = invoke(validate, str(plans), "--env", "live", "--var", "env=prod", "--format", "json")
    assert result.exit_code == 1
    (problem,) = json.loads(result.stdout)
    assert problem["rule"] == "var-option" and "would hide the environment" in problem["message"]
    vars_file = tmp_path / "vars.yaml"
    vars_file.write_text("env: prod\n")
    from_file = invoke(validate, str(plans), "--env", "live", "--vars", str(vars_file), "--format", "json")
    assert [p["rule"] for p in json.loads(from_file.stdout)] == ["vars-file"]


def test_without_an_environment_env_is_a_variable_like_any_other(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "suite.yaml.j2").write_text("products:\n  - id: suite_{{ env }}\n    name: Suite\n")
    (tmp_path / ".git").mkdir()  # no pricebook.toml here or above
    result = invoke(validate, str(plans), "--var", "env=prod")
    assert result.exit_code == 0, result.stderr


def test_a_broken_file_stops_every_command_with_its_diagnostics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = _catalog(tmp_path)
    write(tmp_path, "[environments.test]\nlive = true\n")
    monkeypatch.chdir(tmp_path)
    result = invoke(validate, str(plans))
    assert isinstance(result.exception, InvalidConfig)
    assert [d.rule for d in result.exception.diagnostics] == ["config-required"]


def test_a_key_written_where_its_variable_s_name_goes_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfig) as raised:
        load_config(write(tmp_path, f'[environments.live]\napi_key_env = "{LIVE_KEY}"\nlive = true\n'))
    (problem,) = raised.value.diagnostics
    assert problem.rule == "config-key-variable" and "roll the key" in (problem.hint or "")
    assert LIVE_KEY not in problem.format() and LIVE_KEY[8:] not in problem.format()


def test_every_command_that_reads_a_catalog_or_talks_to_stripe_takes_env() -> None:
    import click

    from compiler.cli import cli

    ctx = click.Context(cli)
    commands: dict[str, click.Command] = {}
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            commands.update({f"{name} {sub}": c for sub, c in command.commands.items()})
        else:
            commands[name] = command
    with_env = {name for name, c in commands.items() if any("--env" in p.opts for p in c.params)}
    assert with_env == set(commands) - {"schema", "emulator"}
