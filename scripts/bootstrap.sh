# Sourced by run.sh and test.sh with the requirements file they need:
#   source scripts/bootstrap.sh requirements.txt        # run.sh: what the API needs to run
#   source scripts/bootstrap.sh requirements-dev.txt    # test.sh: that plus the test tools
# Creates .venv with python3 (PYTHON) when missing and installs the file's pinned packages,
# again only when it (or requirements.txt, which every set includes) changes: each file keeps
# its own stamp in .venv, so running one script never makes the other reinstall.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
REQUIREMENTS="${1:?usage: source scripts/bootstrap.sh REQUIREMENTS_FILE}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating virtualenv in $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.${REQUIREMENTS%.txt}.sha256"
wanted="$(cat requirements.txt "$REQUIREMENTS" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  echo "Installing $REQUIREMENTS"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  echo "$wanted" > "$stamp"
fi

export PATH="$PWD/$VENV/bin:$PATH"
