"""The share card of a verification, /r/<id>/card.png: a 1200x630 picture of the verdict
with the agency, the title and the dates, which link previews (Open Graph, Twitter) show
when a fan pastes the result's link in a reply.

Latin-script languages (en, es, pt-BR, id) are drawn with Pillow's bundled font, so a
card needs nothing installed and nothing downloaded. Korean, Japanese, Chinese and Thai
need a font with their letters: the card uses the machine's (SCRIPT_FONTS: Debian's
fonts-noto-cjk or fonts-wqy-zenhei, fonts-thai-tlwg; the Docker image installs them),
and is drawn in English where there is none."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from verifier.wording import LANGUAGE_FILES

SIZE = (1200, 630)
LATIN = ("en", "es", "pt-BR", "id")
SCRIPT_FONTS = {  # the first that exists is used
    "cjk": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    ),
    "thai": (
        "/usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf",
        "/usr/share/fonts/opentype/tlwg/Garuda.otf",
        "/usr/share/fonts/truetype/tlwg/Garuda.ttf",
    ),
}
_SCRIPT = {"ko": "cjk", "ja": "cjk", "zh-Hans": "cjk", "th": "thai"}
_COLOURS = {  # the verify page's: official green, warnings amber, fakes red
    "authentic": (10, 125, 56),
    "likely_authentic": (178, 106, 0),
    "altered": (179, 38, 30),
    "forged": (179, 38, 30),
    "invalid": (179, 38, 30),
    "unknown": (138, 90, 0),
}


def card_png(answer: dict, receipt: dict, lang: str) -> bytes:
    face = script_font(lang)
    if lang not in LATIN and face is None:
        lang = "en"  # no font for its letters here: English rather than empty boxes

    def _font(size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(face, size) if face else ImageFont.load_default(size=size)

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
    for row in _wrap(draw, message, _font(30), SIZE[0] - x - 80)[:4]:
        draw.text((x, y), row, font=_font(30), fill=(34, 34, 34))
        y += 40
    footer = f"Realmark · {receipt['issued_at'][:10]} · receipt {receipt['id'][:12]}"
    draw.text((x, SIZE[1] - 70), footer, font=_font(28), fill=(110, 110, 110))
    out = io.BytesIO()
    card.save(out, "PNG", optimize=True)
    return out.getvalue()


@cache
def script_font(lang: str) -> str | None:
    """The machine's font for a language written in other than Latin letters, if any."""
    return next((path for path in SCRIPT_FONTS.get(_SCRIPT.get(lang, ""), ()) if Path(path).is_file()), None)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Lines that fit `width`: broken at spaces, or anywhere in scripts written without them."""
    lines, line = [], ""
    for token in _tokens(text):
        if line and draw.textlength(line + token, font=font) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return [*lines, line.rstrip()] if line.strip() else lines


def _tokens(text: str) -> list[str]:
    """Words with their following space; each character of a run without spaces (CJK, Thai)."""
    out: list[str] = []
    for word in text.split(" "):
        if len(word) > 1 and not word.isascii() and any(ord(c) > 0x2E80 for c in word):
            out += list(word[:-1]) + [word[-1] + " "]
        else:
            out.append(word + " ")
    return out
