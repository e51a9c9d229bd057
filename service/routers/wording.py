"""GET /v1/wording: every language's words: the sentence templates verdicts are told in,
and the verify page's own (the page renders answers with them; see verifier/wording.py)."""

from __future__ import annotations

from fastapi import APIRouter

from verifier import wording

router = APIRouter(prefix="/v1", tags=["verify"])


@router.get("/wording", summary="Sentence templates for verdicts and the page's words, by language")
def templates():
    return {
        "default": wording.DEFAULT_LANGUAGE,
        "languages": wording.TEMPLATES,
        "names": {lang: f["name"] for lang, f in wording.LANGUAGE_FILES.items()},
        "page": {lang: f["page"] for lang, f in wording.LANGUAGE_FILES.items()},
    }
