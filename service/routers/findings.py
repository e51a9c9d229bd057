"""Findings for agencies: GET /v1/agency/findings (JSON or CSV), each finding's evidence
report (HTML or PDF), and /agency, the page a legal team reads them on. Only the
agency's own token opens them (403 for anyone else)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response

from ..deps import FindingsAgencyDep, ServicesDep
from ..findings import report_html, report_pdf
from ..findings.report import gather
from .page import STATIC

router = APIRouter(tags=["findings"])
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CSV_COLUMNS = (
    "sha256",
    "verdict",
    "reasons",
    "count",
    "first_seen",
    "last_seen",
    "manifest_id",
    "title",
    "receipt_id",
    "boxes",
    "ranges",
    "upload_kept",
    "report",
)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get(
    "/v1/agency/findings",
    summary="Altered and forged copies of this agency's assets that the public checked",
    description="One finding per copy (by SHA-256), with how often it was checked. `format=csv` for a spreadsheet.",
    responses={403: {}, 503: {}},
)
async def list_findings(
    request: Request, svc: ServicesDep, agency: FindingsAgencyDep, format: Literal["json", "csv"] = "json"
):
    findings = await run_in_threadpool(svc.findings.list, agency)
    dropped = await run_in_threadpool(svc.findings.dropped, agency)
    rows = []
    for f in findings:
        row = f.to_dict() | {"first_seen": _iso(f.first_seen), "last_seen": _iso(f.last_seen)}
        row["report"] = svc.public_url(request, f"/v1/agency/findings/{f.sha256}/report")
        row["upload_kept"] = row.pop("upload_key") is not None
        rows.append(row)
    if format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, _CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                row
                | {
                    "reasons": " ".join(row["reasons"]),
                    "boxes": json.dumps(row["boxes"]),
                    "ranges": json.dumps(row["ranges"]),
                }
            )
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="findings-{agency}.csv"'},
        )
    return {"agency": agency, "findings": rows, "not_listed_past_rate_limit": dropped}


@router.get(
    "/v1/agency/findings/{sha256}/report",
    summary="A finding's evidence report, printable HTML or PDF",
    responses={403: {}, 404: {}},
)
async def finding_report(
    svc: ServicesDep, agency: FindingsAgencyDep, sha256: str, format: Literal["html", "pdf"] = "pdf"
):
    if not _SHA256.fullmatch(sha256):
        raise HTTPException(404, "no such finding")
    finding = await run_in_threadpool(svc.findings.get, agency, sha256)
    if finding is None:
        raise HTTPException(404, "no such finding")
    d = svc.deployment
    record = await run_in_threadpool(d.receipts.get, finding.receipt_id)
    facts = await run_in_threadpool(gather, finding, d.store, d.trust.snapshot(), record)
    name = f"realmark-evidence-{sha256[:12]}"
    if format == "html":
        return HTMLResponse(report_html(facts))
    pdf = await run_in_threadpool(report_pdf, facts)
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}.pdf"'}
    )


@router.get("/agency", include_in_schema=False)
def findings_page():
    return FileResponse(STATIC / "agency.html", media_type="text/html", headers={"Cache-Control": "no-cache"})
