#!/usr/bin/env bash
# Benchmarks: python -m bench.watermark, Realmark vs invisible-watermark side by side.
source "$(dirname "$0")/_venv.sh"
pip install -q -e '.[test,baseline]'
pip install -q --no-deps invisible-watermark==0.2.0
python -m bench.watermark "$@"
