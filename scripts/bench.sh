#!/usr/bin/env bash
# Benchmarks: the photo watermark's speed and its robustness table against
# invisible-watermark side by side, video signing / verification / memory, the
# appearance search, the service, the C2PA step. Tables print to stdout (README pastes them).
# The robustness table takes about 45 minutes on 2 cores; the rest about 10.
source "$(dirname "$0")/_venv.sh"
pip install -q -e '.[test,baseline,bench]'
pip install -q --no-deps invisible-watermark==0.2.0
python -m bench.watermark
echo
python -m bench.robustness
echo
python -m bench.video
echo
python -m bench.video --against-ffmpeg
echo
python -m bench.video --split
echo
python -m bench.search
echo
python -m bench.service
echo
python -m bench.credentials
