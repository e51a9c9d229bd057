"""The evidence report of one finding: the document a legal team attaches to a takedown
request. Printable HTML and PDF, made from the same facts:
- the official asset (its signed picture, changed regions outlined) beside the copy
  (only when its submitter consented to keeping it; else its hash identifies it);
- the changed regions and time ranges; both files' SHA-256;
- the manifest and its signature check against the trust list today;
- the receipt of the first verification, and its signature check;
- how often and between when the copy was checked.

The PDF is drawn with reportlab's built-in fonts; titles in Korean, Japanese or Chinese
use its Asian CID fonts, which PDF readers supply, so no font file ships with Realmark."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from PIL import Image, ImageDraw

from realmark.errors import InvalidManifest, InvalidReceipt, StoreError
from realmark.keys import TrustList
from realmark.manifest import Manifest, parse_manifest
from realmark.manifest.signing import verify_manifest
from realmark.receipts import Receipt, check
from realmark.store import Records, Store

from .book import Finding

PREVIEW_SIDE = 900  # px: pictures in the report, long side


@dataclass(frozen=True)
class Facts:
    title: str
    rows: list[tuple[str, str]]
    official: bytes | None  # PNG: the signed picture, changed regions outlined
    copy: bytes | None  # PNG: the kept upload, or None
    notes: list[str]


def gather(finding: Finding, store: Store, trust: TrustList, receipt_record: dict | None) -> Facts:
    records = Records(store)
    manifest, manifest_check = _manifest(records, finding.manifest_id, trust)
    receipt_check, receipt = "not found", None
    if receipt_record is not None:
        try:
            receipt = Receipt.from_dict(receipt_record["receipt"])
            check(receipt, trust)
            receipt_check = f"valid: signed by this deployment's receipt key {receipt.key_id}"
        except InvalidReceipt as exc:
            receipt_check = f"NOT VALID: {exc}"
    rows = [
        ("Agency", finding.agency),
        ("Verdict", f"{finding.verdict} ({', '.join(finding.reasons)})"),
        ("Copy: SHA-256", finding.sha256),
        ("Checked", f"{finding.count} times, first {_when(finding.first_seen)}, last {_when(finding.last_seen)}"),
    ]
    if receipt_record is not None:
        rows.append(("Sentence given", receipt_record["answer"].get("message", "")))
    if manifest is not None:
        rows += [
            ("Official asset", f"“{manifest.title}” by {', '.join(manifest.artists)}"),
            ("Published", manifest.published_at),
            ("Manifest", manifest.manifest_id),
            ("Official file: SHA-256", manifest.media.sha256),
            ("Official file", f"{manifest.media.type}, {manifest.media.width}x{manifest.media.height}"),
            ("Watermark id", manifest.watermark_id),
        ]
    rows.append(("Manifest signature", manifest_check))
    for box in finding.boxes:
        where = f"x {box['x']}, y {box['y']}, {box['width']}x{box['height']} px"
        rows.append(("Changed region", f"{where} of the official picture"))
    for r in finding.ranges:
        mapped = (
            f" (original {r['original_start']:.1f}-{r['original_end']:.1f} s)"
            if r.get("original_start") is not None
            else ""
        )
        rows.append(("Changed time", f"{r['kind']}: {r['clip_start']:.1f}-{r['clip_end']:.1f} s of the copy{mapped}"))
    if receipt is not None:
        rows += [
            ("Receipt", f"{receipt.id}, issued {receipt.issued_at}"),
            ("Receipt signature", receipt_check),
            ("Trust list used", receipt.trust_list),
        ]
    official = (
        _outlined(records.published_bytes(manifest.manifest_id, manifest.media.sha256), finding.boxes)
        if (manifest is not None and manifest.media.type.startswith("image/"))
        else None
    )
    copy = None
    notes = []
    if finding.upload_key:
        try:
            copy = _preview(store.get(finding.upload_key), ())
        except StoreError:
            copy = None
    if copy is None:
        notes.append(
            "The copy itself was not kept (its submitter did not consent, or its retention ended): its SHA-256 "
            "identifies it."
        )
    title = f"Evidence report: {finding.verdict} copy of {manifest.title if manifest else finding.manifest_id}"
    return Facts(title, rows, official, copy, notes)


def _manifest(records: Records, manifest_id: str | None, trust: TrustList) -> tuple[Manifest | None, str]:
    try:
        data = records.manifest_bytes(manifest_id) if manifest_id else None
        if data is None:
            return None, "no manifest"
        manifest = parse_manifest(data)
        verify_manifest(manifest, trust.public_key_for(manifest.agency, manifest.key_id, manifest.published_at))
        return manifest, f"valid: Ed25519, key {manifest.key_id} of {manifest.agency}, on the trust list"
    except InvalidManifest as exc:
        try:
            return parse_manifest(data), f"NOT VALID: {exc}"
        except InvalidManifest:
            return None, f"NOT VALID: {exc}"


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _preview(data: bytes | None, boxes) -> bytes | None:
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))
            picture = im.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None  # a clip, or not a picture: the report states its hash
    return _draw(picture, boxes)


def _outlined(data: bytes | None, boxes) -> bytes | None:
    return _preview(data, boxes)


def _draw(picture: Image.Image, boxes) -> bytes:
    full = picture.size
    picture.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    scale = picture.size[0] / full[0]
    draw = ImageDraw.Draw(picture)
    for b in boxes:
        x, y, w, h = (round(v * scale) for v in (b["x"], b["y"], b["width"], b["height"]))
        draw.rectangle((x, y, x + w, y + h), outline=(230, 20, 20), width=max(3, picture.size[0] // 200))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def report_html(facts: Facts) -> str:
    def img(data: bytes | None, caption: str) -> str:
        if data is None:
            return ""
        src = "data:image/png;base64," + base64.b64encode(data).decode()
        text = html.escape(caption)
        return f'<figure><img src="{src}" alt="{text}"><figcaption>{text}</figcaption></figure>'

    rows = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts.rows)
    notes = "".join(f"<p>{html.escape(n)}</p>" for n in facts.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(facts.title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; color: #111; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #ddd;
overflow-wrap: anywhere; }} th {{ width: 12rem; color: #444; }}
.pictures {{ display: flex; gap: 1rem; flex-wrap: wrap; }} figure {{ flex: 1 1 20rem; margin: 0; }}
img {{ max-width: 100%; border: 1px solid #ccc; }} @media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1>{html.escape(facts.title)}</h1>
<div class="pictures">{img(facts.official, "Official (changed regions outlined in red)")}
{img(facts.copy, "The copy checked")}</div>
{notes}
<table>{rows}</table>
<p>Generated by Realmark. Check the receipt offline:
<code>realmark receipt verify receipt.json --trust trust.json</code>.</p>
</body></html>"""


def report_pdf(facts: Facts) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(facts.title)
    pdf.setAuthor("Realmark")
    width, height = A4
    margin, y = 40, A4[1] - 50

    def font_for(text: str) -> str:
        name = _cid_font(text)
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(name))
        return name

    def line(text: str, size: float = 9, bold: bool = False) -> None:
        nonlocal y
        font = font_for(text) if _cid_font(text) != "Helvetica" else ("Helvetica-Bold" if bold else "Helvetica")
        for chunk in _wrap(text, pdfmetrics.stringWidth, font, size, width - 2 * margin):
            if y < margin:
                pdf.showPage()
                y = height - 50
            pdf.setFont(font, size)
            pdf.drawString(margin, y, chunk)
            y -= size * 1.35

    line(facts.title, 14, bold=True)
    y -= 6
    pictures = [p for p in (facts.official, facts.copy) if p is not None]
    if pictures:
        box = (width - 2 * margin - 10 * (len(pictures) - 1)) / len(pictures)
        tallest = 0
        for i, data in enumerate(pictures):
            reader = ImageReader(io.BytesIO(data))
            w, h = reader.getSize()
            scale = min(box / w, 260 / h)
            pdf.drawImage(reader, margin + i * (box + 10), y - h * scale, w * scale, h * scale)
            tallest = max(tallest, h * scale)
        y -= tallest + 14
        right = " Right: the copy." if facts.copy else ""
        line("Left: the official picture, changed regions outlined in red." + right)
    for note in facts.notes:
        line(note)
    y -= 4
    for key, value in facts.rows:
        line(f"{key}: {value}")
    y -= 6
    line("Check the receipt offline: realmark receipt verify receipt.json --trust trust.json")
    pdf.save()
    return out.getvalue()


def _cid_font(text: str) -> str:
    """reportlab's Asian font for the text's script (readers supply these), else Helvetica."""
    if any("\uac00" <= c <= "\ud7a3" or "\u1100" <= c <= "\u11ff" for c in text):
        return "HYSMyeongJo-Medium"
    if any("\u3040" <= c <= "\u30ff" for c in text):
        return "HeiseiMin-W3"
    if any("\u4e00" <= c <= "\u9fff" for c in text):
        return "STSong-Light"
    return "Helvetica"


def _wrap(text: str, measure, font: str, size: float, room: float) -> list[str]:
    lines, current = [], ""
    for word in text.replace("\n", " ").split(" "):
        trial = f"{current} {word}".strip()
        if measure(trial, font, size) <= room or not current:
            current = trial
            while measure(current, font, size) > room and len(current) > 1:  # one long hash or CJK run
                cut = len(current) - 1
                while cut > 1 and measure(current[:cut], font, size) > room:
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines
