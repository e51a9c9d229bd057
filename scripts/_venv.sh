# Sourced by the other scripts: a project-local virtualenv in .venv, made once.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv || {
    echo "could not create a virtualenv; on Debian: apt-get install python3-venv" >&2
    exit 2
  }
  .venv/bin/python -m pip install -q --upgrade pip
fi
export PATH="$PWD/.venv/bin:$PATH"
