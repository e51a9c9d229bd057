#!/usr/bin/env bash
# Every test. Installs the test extras and the invisible-watermark baseline (--no-deps:
# its declared dependencies would pull torch with CUDA; see README).
source "$(dirname "$0")/_venv.sh"
pip install -q -e '.[test,baseline]'
pip install -q --no-deps invisible-watermark==0.2.0
python -m pytest "$@"
