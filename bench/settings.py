"""The production settings, with the bench's diagnostic endpoint in the URLs (`bench.urls`)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
