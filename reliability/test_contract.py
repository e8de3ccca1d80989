"""
The SPA contract: `contract/run.sh` generates a TypeScript client from the schema and runs a
strict program through the whole API against the production server (gunicorn,
`DJANGO_DEBUG=false`, PostgreSQL, Redis). Node.js and npm are mandatory in CI and the test is
skipped with the reason elsewhere, like the services the other reliability tests need.
"""

import shutil
import subprocess
import sys

from testing.image import ROOT
from testing.servers import manage, server_env
from testing.services import HOST, require_service

ADMIN_EMAIL = "contract-admin@example.com"
ADMIN_PASSWORD = "Contract-admin-passw0rd!"


def test_a_generated_typescript_client_runs_the_whole_api(
    module_database_url, module_redis, start_server
):
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        require_service("Node.js and npm", f"{', '.join(missing)} not on PATH")
    env = server_env(
        database_url=module_database_url,
        redis_url=module_redis.url,
        # Small enough that the program reaches the 429 in a few attempts.
        THROTTLE_LOGIN_RATE="4/min",
        DJANGO_SUPERUSER_EMAIL=ADMIN_EMAIL,
        DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
    )
    server = start_server(env)
    manage(env, "seed_superuser")

    result = subprocess.run(
        ["bash", str(ROOT / "contract" / "run.sh")],
        env={
            **env,
            "API_URL": f"http://{HOST}:{server.port}",
            "ADMIN_EMAIL": ADMIN_EMAIL,
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PYTHON": sys.executable,
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{output[-12000:]}\n--- server log ---\n{server.log()[-4000:]}"
    assert "contract: every step passed" in result.stdout
    assert "Your API description is valid" in output  # Redocly: 0 errors
