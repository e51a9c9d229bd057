#!/usr/bin/env bash
# Every test. Installs the test extras, the invisible-watermark baseline (--no-deps: its
# declared dependencies would pull torch with CUDA; see README), and Debian's chromium +
# chromedriver for the browser test when they are missing (needs root, as in CI), and a
# CJK font: the share card's Korean test draws with it, and the page screenshots show
# Korean, Japanese and Chinese text with it.
source "$(dirname "$0")/_venv.sh"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "the browser test needs Debian's chromium and chromium-driver: sudo apt-get install chromium chromium-driver" >&2
    exit 2
  fi
fi
if ! fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null
  else
    echo "the share card test needs a CJK font: sudo apt-get install fonts-wqy-zenhei" >&2
    exit 2
  fi
fi
pip install -q -e '.[test,baseline]'
pip install -q --no-deps invisible-watermark==0.2.0
# Two processes, whole files each (a file's module fixtures are built once): the suite
# is mostly single-threaded decoding and numpy, so two cores do it in about half the time.
python -m pytest -n 2 --dist loadfile --durations=15 "$@"
