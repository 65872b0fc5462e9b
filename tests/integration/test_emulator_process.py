"""The emulator in a process of its own (`run_in_subprocess`, for benchmarks and the demo) is `pricebook emulator`
started as a program: the emulator package never imports the command line to offer one."""

from __future__ import annotations

from compiler.emulator import Knobs, run_in_subprocess


def test_the_emulator_runs_in_its_own_process_with_its_knobs_and_stops() -> None:
    with run_in_subprocess(knobs=Knobs(seed=7)) as emulator:
        assert emulator.control("GET", "health")
        created = emulator.client().v1.products.create(params={"id": "suite", "name": "Suite"})
        assert created.id == "suite"
        first = emulator.client().v1.products.create(params={"name": "Seeded"}).id
        process = emulator.process
    assert process.poll() is not None  # stopped on leaving the block
    with run_in_subprocess(knobs=Knobs(seed=7)) as again:  # the seed reached the process: the same ids
        again.client().v1.products.create(params={"id": "suite", "name": "Suite"})
        assert again.client().v1.products.create(params={"name": "Seeded"}).id == first
