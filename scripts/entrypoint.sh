#!/usr/bin/env bash
# Container entrypoint (the Dockerfile's ENTRYPOINT; config/tests/test_entrypoint.py runs it
# as it is). Prepares the database, then replaces itself with the command it was given (the
# image's CMD: gunicorn), which so receives the container's signals directly.
#
#   DATABASE_WAIT_TIMEOUT   seconds to wait for the database before giving up (60)
#   DJANGO_MIGRATE          "false" skips migrations, when a release step applies them (true)
#   DJANGO_SUPERUSER_EMAIL / DJANGO_SUPERUSER_PASSWORD   seed that superuser when both are set
#
# Celery (`celery -A config worker|beat`) only waits for the database: the API's container
# migrates and seeds, and several worker containers must not race to do it too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$#" -eq 0 ]; then
  set -- gunicorn --config gunicorn.conf.py
fi

python manage.py wait_for_database --timeout "${DATABASE_WAIT_TIMEOUT:-60}"

prepare=true
if [ "$1" = "celery" ]; then
  prepare=false
fi

if [ "$prepare" = true ] && [ "${DJANGO_MIGRATE:-true}" != "false" ]; then
  python manage.py migrate --no-input
fi

if [ "$prepare" = true ] && [ -n "${DJANGO_SUPERUSER_EMAIL:-}" ] \
  && [ -n "${DJANGO_SUPERUSER_PASSWORD:-}" ]; then
  python manage.py seed_superuser
fi

exec "$@"
