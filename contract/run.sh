#!/usr/bin/env bash
# The API contract, end to end: dump the schema, lint it (Redocly's recommended rules),
# generate its TypeScript types, compile the program strictly, prove it uses no cast, `any`,
# non-null assertion or compiler directive, and run it against the server at API_URL.
#
#   API_URL=http://127.0.0.1:8000 ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=admin contract/run.sh
#
# The schema is dumped with PYTHON (default: the project's .venv) and the environment given;
# `reliability/test_contract.py` starts a production server and runs this script against it.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-../.venv/bin/python}"
step() { printf '\n--- %s\n' "$*"; }

step "npm ci (from package-lock.json)"
npm ci --prefer-offline --no-audit --no-fund

step "Schema"
mkdir -p build
"$PYTHON" ../manage.py spectacular --validate --fail-on-warn --file build/schema.yaml
npx --no-install redocly lint build/schema.yaml

step "Types"
npx --no-install openapi-typescript build/schema.yaml --output build/schema.d.ts

step "Compile and lint the program"
npx --no-install tsc --strict --noEmit -p .
node lint.mjs src
npx --no-install tsc -p .

step "Run against ${API_URL:?API_URL is the server to run against}"
node build/dist/main.js
