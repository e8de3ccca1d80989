#!/usr/bin/env bash
# Run the API on http://$HOST:$PORT (127.0.0.1:8000) with the embedded defaults (SQLite, an
# in-process cache), after installing the runtime requirements only.
source "$(dirname "$0")/bootstrap.sh" requirements.txt

export DJANGO_SUPERUSER_EMAIL="${DJANGO_SUPERUSER_EMAIL:-admin@example.com}"
export DJANGO_SUPERUSER_PASSWORD="${DJANGO_SUPERUSER_PASSWORD:-admin}"

python manage.py migrate --no-input
python manage.py seed_superuser
echo "Superuser: $DJANGO_SUPERUSER_EMAIL (password from DJANGO_SUPERUSER_PASSWORD, 'admin' by default)"
# One process: the in-process cache is exact only within it (use REDIS_URL to scale out).
exec python manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
