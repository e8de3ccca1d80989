"""
Helpers the tests and `bench/` import; conftest.py files only declare fixtures with them.

- `services`: free ports, a private redis-server, a private PostgreSQL cluster, throwaway
  databases, and the rule for a missing service (skipped, but mandatory in CI).
- `image`: what the production image does, read from the Dockerfile, `.dockerignore` and
  `.env.example`, and the production environment built from them.
- `servers`: gunicorn with the production settings, `manage.py` runs, HTTP requests and
  users with tokens.
- `api`: DRF test clients.

Only `api` needs Django set up; the rest is the standard library and psycopg, so `bench/run.py`
uses it outside pytest.
"""
