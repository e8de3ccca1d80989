"""
The test suite's settings: the project's own, plus `core.tests.notes`, a second resource
built from `core` that runs through the same tests as `items`. Servers never load this.
"""

from .settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "core.tests.notes"]  # noqa: F405
NOTES_CACHE_TTL = ITEMS_CACHE_TTL  # noqa: F405
