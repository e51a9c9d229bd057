"""The share card of a verification, /r/<id>/card.png: a 1200x630 picture of the verdict
with the agency, the title and the dates, which link previews (Open Graph, Twitter) show
when a fan pastes the result's link in a reply.

Drawn with Pillow's bundled font (no system fonts needed, nothing downloaded). It covers
Latin scripts only, so the card's words are English unless the page's language is
written in Latin letters (es, pt-BR, id); a title in another script is drawn as given
where the font has its letters."""

from __future__ import annotations

import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from verifier.wording import LANGUAGE_FILES

SIZE = (1200, 630)
LATIN = ("en", "es", "pt-BR", "id")
_COLOURS = {  # the verify page's: official green, warnings amber, fakes red
    "authentic": (10, 125, 56),
    "likely_authentic": (178, 106, 0),
    "altered": (179, 38, 30),
    "forged": (179, 38, 30),
    "invalid": (179, 38, 30),
    "unknown": (138, 90, 0),
}


def card_png(answer: dict, receipt: dict, lang: str) -> bytes:
    lang = lang if lang in LATIN else "en"
    words = LANGUAGE_FILES[lang]["page"]
    colour = _COLOURS.get(answer["verdict"], (90, 90, 90))
    card = Image.new("RGB", SIZE, (250, 250, 250))
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, 36, SIZE[1]), fill=colour)
    x = 80
    draw.text((x, 60), words.get(answer["verdict"], answer["verdict"]).upper(), font=_font(96), fill=colour)
    manifest = answer.get("manifest") or {}
    y = 190
    if manifest:
        draw.text((x, y), f"{manifest['agency']} · {manifest['title']}", font=_font(48), fill=(17, 17, 17))
        y += 66
        line = f"{', '.join(manifest.get('artists', []))} · {manifest.get('published_at', '')[:10]}"
        draw.text((x, y), line, font=_font(34), fill=(85, 85, 85))
        y += 60
    message = answer["message"] if lang == answer.get("language", "en") else ""
    for row in textwrap.wrap(message, 58)[:4]:
        draw.text((x, y), row, font=_font(30), fill=(34, 34, 34))
        y += 40
    footer = f"Realmark · {receipt['issued_at'][:10]} · receipt {receipt['id'][:12]}"
    draw.text((x, SIZE[1] - 70), footer, font=_font(28), fill=(110, 110, 110))
    out = io.BytesIO()
    card.save(out, "PNG", optimize=True)
    return out.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)
