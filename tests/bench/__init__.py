from __future__ import annotations


def exit_on(failures: list[str]) -> None:
    """Print each missed target and exit 1 if there is one, so `make bench` fails on a miss."""
    for failure in failures:
        print(f"FAILED: {failure}")
    if failures:
        raise SystemExit(1)
