"""Verification receipts: GET /v1/receipts/{id} (the signed receipt and the answer it was
issued for) and /r/{id}, the result page a journalist cites or a fan shares: it needs
no upload, and unfolds into the verdict where links are previewed (Open Graph and
Twitter tags, with /r/{id}/card.png, the verdict as a picture)."""

from __future__ import annotations

import html

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from verifier.wording import LANGUAGE_FILES, in_language

from ..card import card_png
from ..deps import LanguageDep, PageLanguageDep, ServicesDep
from .page import STATIC

router = APIRouter(tags=["receipts"])


async def _record(svc: ServicesDep, receipt_id: str, lang: str) -> dict:
    record = await run_in_threadpool(svc.deployment.receipts.get, receipt_id)
    if record is None:
        raise HTTPException(404, f"no receipt {receipt_id!r} here")
    return {**record, "answer": in_language(record["answer"], lang)}


@router.get(
    "/v1/receipts/{receipt_id}",
    summary="A verification receipt and the answer it was issued for",
    description="Check the receipt offline with `realmark receipt verify` and this deployment's trust.json.",
    responses={404: {}},
)
async def get_receipt(svc: ServicesDep, lang: LanguageDep, receipt_id: str):
    return await _record(svc, receipt_id, lang)


@router.get("/r/{receipt_id}", include_in_schema=False)
async def receipt_page(request: Request, svc: ServicesDep, lang: PageLanguageDep, receipt_id: str) -> HTMLResponse:
    """The verify page showing this receipt's result, with preview tags for link unfurling."""
    record = await _record(svc, receipt_id, lang)
    answer, receipt = record["answer"], record["receipt"]
    title = f"Realmark: {LANGUAGE_FILES[lang]['page'].get(answer['verdict'], answer['verdict'])}"
    tags = "\n".join(
        f'<meta property="{name}" content="{html.escape(value)}">'
        for name, value in (
            ("og:title", title),
            ("og:description", answer["message"]),
            ("og:type", "article"),
            ("og:url", svc.public_url(request, f"/r/{receipt['id']}?lang={lang}")),
            ("og:image", svc.public_url(request, f"/r/{receipt['id']}/card.png?lang={lang}")),
            ("og:image:width", "1200"),
            ("og:image:height", "630"),
            ("twitter:card", "summary_large_image"),
            ("twitter:image", svc.public_url(request, f"/r/{receipt['id']}/card.png?lang={lang}")),
            ("twitter:title", title),
            ("twitter:description", answer["message"]),
        )
    )
    page = (STATIC / "index.html").read_text("utf-8")
    page = page.replace("</head>", f"{tags}\n</head>", 1)
    page = page.replace("<body>", f'<body data-receipt="{html.escape(receipt["id"])}" data-lang="{lang}">', 1)
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.get("/r/{receipt_id}/card.png", include_in_schema=False)
async def receipt_card(svc: ServicesDep, lang: PageLanguageDep, receipt_id: str) -> Response:
    """The verdict as a picture, for link previews."""
    record = await _record(svc, receipt_id, lang)
    png = await run_in_threadpool(card_png, record["answer"], record["receipt"], lang)
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})
