"""Suite-wide settings.

Under CI (`CI=true`, as `.ci/run` is called) Hypothesis runs derandomized: the same examples every run, so a
landing can't fail on an input no one has seen. Local runs keep exploring new inputs; one that fails there is
printed with its reproduction blob.

pricebook keeps where it found the account's page boundaries in a cache directory (`stripe.boundaries`): the
suite keeps none, so that what a test reads never depends on what an earlier test (or run) left behind; the
tests of that cache give it a directory of their own.
"""

from __future__ import annotations

import os

from hypothesis import settings

from compiler.stripe.boundaries import CACHE_DIR_VARIABLE

os.environ[CACHE_DIR_VARIABLE] = ""

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
