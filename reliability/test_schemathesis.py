"""
Schemathesis against the live schema of the production server (gunicorn, `DJANGO_DEBUG=false`,
PostgreSQL, Redis), authenticated: generated valid and invalid requests to every operation
must get no server error, only status codes the schema names, and bodies and content types
that match it. The number of examples is bounded (SCHEMATHESIS_MAX_EXAMPLES, default 15 per
operation) and the seed fixed (SCHEMATHESIS_SEED), so CI is repeatable; raise both to dig.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testing.servers import issue_tokens, server_env

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
]
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15")
SEED = os.environ.get("SCHEMATHESIS_SEED", "1")


def schemathesis_binary():
    beside_python = Path(sys.executable).with_name("schemathesis")
    return str(beside_python) if beside_python.exists() else shutil.which("schemathesis")


@pytest.fixture(scope="module")
def server(module_database_url, module_redis, start_server):
    env = server_env(database_url=module_database_url, redis_url=module_redis.url)
    server = start_server(env)
    server.env = env
    return server


def run_schemathesis(server, token, tmp_path, *extra):
    argv = [
        schemathesis_binary(),
        "run",
        f"http://127.0.0.1:{server.port}/api/v1/schema/?format=json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", ",".join(CHECKS),
        "--max-examples", MAX_EXAMPLES,
        "--seed", SEED,
        # Stateful runs chain calls through links the schema does not declare; the
        # examples, coverage and fuzzing phases reach every operation on their own.
        "--phases", "examples,coverage,fuzzing",
        "--request-timeout", "15",
        "--no-color",
        # Signing out everywhere would leave the rest of the run unauthenticated; it is
        # tested in accounts and by the contract program.
        "--exclude-operation-id", "auth_logout_all",
        *extra,
    ]  # fmt: skip
    # Its working directory collects schemathesis' own state (.schemathesis/).
    return subprocess.run(
        argv, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )


def assert_clean(result, server):
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{output[-12000:]}\n--- server log ---\n{server.log()[-4000:]}"
    # Something was really tested: "N generated, N passed".
    assert re.search(r"\b[1-9]\d* generated, [1-9]\d* passed", output), output[-3000:]


def test_a_superuser_gets_only_documented_answers(server, tmp_path):
    (admin,) = issue_tokens(server.env, ["fuzz-admin@example.com"], superuser=True)
    assert_clean(run_schemathesis(server, admin["access"], tmp_path), server)


def test_a_regular_user_gets_only_documented_answers(server, tmp_path):
    (user,) = issue_tokens(server.env, ["fuzz-user@example.com"])
    # Deleting the account under test would leave the rest of the run unauthenticated; the
    # endpoint is fuzzed by the superuser (who may not delete itself) and tested in accounts.
    result = run_schemathesis(
        server, user["access"], tmp_path, "--exclude-operation-id", "me_delete"
    )
    assert_clean(result, server)


# What schemathesis found once, pinned: each was a 500 or an HTML page before the fix.
@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        # An ISO offset beyond PostgreSQL's ±15:59 reached the database.
        ("GET", "/api/v1/items/?created_before=2000-01-01T00:00:00%2B16:00", None, 200),
        ("GET", "/api/v1/items/export/?updated_after=2312-06-06T09:24:05%2B18:06", None, 200),
        ("GET", "/api/v1/items/deleted/?created_before=9999-12-31T23:00:00-05:00", None, 400),
        # A user created without a password.
        ("POST", "/api/v1/users/", {"email": "no-password@example.com"}, 400),
        # An unsafe method on an unknown API URL met the CSRF check (an HTML 403).
        ("DELETE", "/api/v1/items/0.5/", None, 404),
    ],
)
def test_inputs_schemathesis_found(server, method, path, body, status):
    (admin,) = issue_tokens(server.env, ["fuzz-admin@example.com"], superuser=True)
    response = server.request(method, path, body=body, token=admin["access"])
    assert response.status == status, response
    content_type = response.headers["Content-Type"]
    assert content_type.startswith("text/csv" if "export" in path else "application/json")
    if "export" in path:
        assert response.body.startswith(b"id,title,description,owner,created_at,updated_at")
