"""GET /v1/wording: the sentence templates verdicts are told in, per language (the
verify page renders answers with them; see verifier/wording.py)."""

from __future__ import annotations

from fastapi import APIRouter

from verifier import wording

router = APIRouter(prefix="/v1", tags=["verify"])


@router.get("/wording", summary="Sentence templates for verdicts, by language and by verdict.reason")
def templates():
    return {"default": wording.DEFAULT_LANGUAGE, "languages": wording.TEMPLATES}
