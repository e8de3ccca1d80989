from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_installed_apps_migrations_match_its_models():
    # Run with the test settings, so the test-only notes app is checked too; CI checks the
    # project's apps with the production settings.
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())
