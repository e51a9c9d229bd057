#!/usr/bin/env bash
# The main job on the embedded default store: create an agency key, sign an official
# photo, then verify the signed file, a re-encoded half-size copy, and the unsigned original
# (no watermark, so it is found by appearance only: likely_authentic).
source "$(dirname "$0")/_venv.sh"
pip install -q -e .
export REALMARK_HOME="${REALMARK_HOME:-$PWD/demo-home}"
out="$REALMARK_HOME/out"
mkdir -p "$out"

# Once: the key, and its Content Credentials certificate (also issued for a key made by
# an older version, which had none).
if ! realmark keys list | grep -q "DemoAgency" || ! ls "$REALMARK_HOME"/keys/DemoAgency/*.chain.pem >/dev/null 2>&1; then
  realmark keys init --agency DemoAgency
fi
echo "== sign examples/official.jpg"
realmark sign examples/official.jpg -o "$out/official-signed.jpg" --title "Press photo" --artist "Demo Artist"
python - "$out" <<'PY'
import sys
from PIL import Image
out = sys.argv[1]
im = Image.open(f"{out}/official-signed.jpg")
im.resize((im.width // 2, im.height // 2)).save(f"{out}/copy-half-q75.jpg", quality=75)  # what a platform does
PY
set +e
for f in "$out/official-signed.jpg" "$out/copy-half-q75.jpg" examples/official.jpg; do
  echo "== verify $f"
  realmark verify "$f"
done
echo "== JSON, as a journalist would cite it"
realmark verify --json "$out/copy-half-q75.jpg"
exit 0
