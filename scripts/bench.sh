#!/usr/bin/env bash
# Benchmarks: the photo watermark against invisible-watermark side by side, then video
# signing / verification / memory. Tables print to stdout (README pastes them).
source "$(dirname "$0")/_venv.sh"
pip install -q -e '.[test,baseline]'
pip install -q --no-deps invisible-watermark==0.2.0
python -m bench.watermark
echo
python -m bench.video
echo
python -m bench.service
