"""The sentences verdicts are told in, in every language the service speaks.

Decisions are made elsewhere (decide.py); this module only puts them into words. A
sentence is chosen by the verdict and its headline reason (the first one): the template
`<verdict>.<reason>`, or `<verdict>` when that reason has no sentence of its own. Its
`{names}` are filled from `params()`, plain values taken from the manifest and the
evidence; `{what}` is itself a template naming the signed asset. The verify page renders
the same templates (served at GET /v1/wording) with the same params from the JSON answer,
so a sentence reads the same from the API and on the page, in every language.

The words live in one file per language, languages/<code>.json; params carry values,
never words, so every language can say them its own way."""

from __future__ import annotations

import json
import re
from pathlib import Path

from realmark.fingerprint import BITS

from .evidence import ClipContent, ExactContent, PhotoContent, PhotoMatch

DEFAULT_LANGUAGE = "en"
_FIELD = re.compile(r"\{(\w+)\}")

_FOLDER = Path(__file__).resolve().parent / "languages"


def _load() -> dict[str, dict]:
    """Every language's file: {"name": its own name for it, "sentences": verdict
    templates, "page": the verify page's words}. English first: it is the fallback."""
    files = sorted(_FOLDER.glob("*.json"), key=lambda p: (p.stem != DEFAULT_LANGUAGE, p.stem))
    return {p.stem: json.loads(p.read_text("utf-8")) for p in files}


LANGUAGE_FILES = _load()
TEMPLATES: dict[str, dict[str, str]] = {lang: f["sentences"] for lang, f in LANGUAGE_FILES.items()}
LANGUAGES = tuple(TEMPLATES)


def _fill(template: str, params: dict) -> str:
    return _FIELD.sub(lambda m: str(params.get(m.group(1), m.group(0))), template)


def sentence(verdict: str, reasons: list[str], params: dict, lang: str = DEFAULT_LANGUAGE) -> str:
    """The sentence for a verdict and its reasons (headline first), in lang."""
    table = TEMPLATES.get(lang, TEMPLATES[DEFAULT_LANGUAGE])
    key = f"{verdict}.{reasons[0]}" if reasons else verdict
    template = table.get(key) or table[verdict]
    filled = {**params, "caution": table["caution"]}
    if "part" in params:  # which of a photo's fingerprints matched, in words
        filled["matched"] = _fill(table.get(f"part.{params['part']}", params["part"]), params)
    elif "moments" in params:
        filled["matched"] = _fill(table["matched.moments"], params)
    heard = table.get(f"sound.{params.get('sound')}")
    if heard and verdict == "authentic" and "{" not in heard:
        template = f"{template} {heard}"
    if "agency" in params:
        filled["what"] = _fill(table["what"], params)
    return _fill(template, filled)


def best_language(accept_language: str) -> str:
    """The language to answer an Accept-Language header in ("ko-KR,ko;q=0.9,en;q=0.8"):
    the most preferred one spoken here, matched on its primary tag (zh-CN, zh-SG and zh
    read zh-Hans; pt-PT reads pt-BR), else English."""
    choices = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        if tag and q > 0:
            choices.append((-q, i, tag.strip().lower()))
    for _, _, tag in sorted(choices):
        exact = next((lang for lang in LANGUAGES if lang.lower() == tag), None)
        primary = next((lang for lang in LANGUAGES if lang.split("-")[0].lower() == tag.split("-")[0]), None)
        if exact or primary:
            return exact or primary
    return DEFAULT_LANGUAGE


def in_language(answer: dict, lang: str) -> dict:
    """A verify answer (its JSON object) told in lang: only the sentence differs, re-made
    from the verdict, the reasons and the params the answer carries."""
    message = sentence(answer["verdict"], answer["reasons"], answer["message_params"], lang)
    return {**answer, "message": message, "language": lang}


def _seconds(x: float) -> str:
    # An offset known to a quarter frame can put the original's first moment a hair
    # before zero; its timeline starts at 0.0, and "-0.0" reads as an error.
    return f"{max(0.0, x):.1f}"


def params(v) -> dict:
    """The plain values a verification's sentence names (a Verification; see result.py)."""
    out: dict = {"bits": BITS}
    m = v.manifest
    if m is not None:
        out.update(agency=m.agency, title=m.title, artists=", ".join(m.artists), date=m.published_at[:10])
    e = v.evidence
    if e.watermark.id is not None:
        out["wm_id"] = e.watermark.id
    if e.signature is not None and e.signature.reason:
        out["detail"] = e.signature.reason
    ranges = (e.content.ranges or ()) if isinstance(e.content, (ClipContent, ExactContent)) else ()
    official = [r for r in ranges if r.kind == "official" and r.original_start is not None]
    if official:
        out.update(start=_seconds(official[0].original_start), end=_seconds(official[-1].original_end))
    suspect = [r for r in ranges if r.kind in ("foreign", "changed")]
    if suspect:
        out["parts"] = ", ".join(f"{_seconds(r.clip_start)}-{_seconds(r.clip_end)} s" for r in suspect)
    elif ranges and not official:
        out["parts"] = f"{_seconds(ranges[0].clip_start)}-{_seconds(ranges[-1].clip_end)} s"
    if e.sound is not None:
        out["sound"] = str(e.sound.status)
        changed = [r for r in e.sound.ranges if r.kind == "changed"]
        out["sound_parts"] = ", ".join(f"{_seconds(r.clip_start)}-{_seconds(r.clip_end)} s" for r in changed)
        heard = [r for r in e.sound.ranges if r.kind == "official"]
        if heard and not official:
            out.update(start=_seconds(heard[0].original_start), end=_seconds(heard[-1].original_end))
    regions = e.content.changed_regions if isinstance(e.content, PhotoContent) else None
    match = e.appearance.match if e.appearance is not None else None
    if match is not None:
        if isinstance(match, PhotoMatch):
            out.update(part=match.matched, distance=match.distance)
            if match.at_s is not None:
                out["at"] = f"{match.at_s:.2f}"
            regions = match.changed_regions
        else:
            start, end = _seconds(match.original_start), _seconds(match.original_end)
            out.update(start=start, end=end, distance=match.median_distance)
            out.update(moments=match.moments_matched, samples=e.appearance.samples)
    if regions:
        out["regions"] = len(regions)
    placement = e.watermark.placement
    if placement is not None:
        left, top, right, bottom = placement.box
        out["region"] = f"x {left}-{right}, y {top}-{bottom}"
        out["rotation"] = f"{placement.rotation:.1f}"
    return out
