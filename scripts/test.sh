#!/usr/bin/env bash
# Run the whole test suite (embedded defaults unless DATABASE_URL / REDIS_URL are set).
source "$(dirname "$0")/bootstrap.sh" requirements-dev.txt

exec python -m pytest "$@"
