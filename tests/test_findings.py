"""Findings for agencies, through HTTP with the embedded broker (a real Valkey): altered
and forged copies of an agency's asset that the public checked, one per file with its
count, shown only to that agency, with an evidence report (HTML, PDF)."""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib
from datetime import date, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from bench import attacks
from bench.samples import photos
from realmark.deployment import Deployment, open_store
from realmark.keys import Keyring
from realmark.keys.tokens import create_token
from realmark.settings import Settings
from service import create_app
from service.findings import Finding, FindingBook, evidence


@pytest.fixture(scope="module")
def agency(tmp_path_factory):
    home = tmp_path_factory.mktemp("findings") / "home"
    for name in ("YG", "Cube"):
        Keyring(home).create(name)
    settings = Settings(home=home, verify_per_minute=0)
    store = open_store(settings)
    tokens = {name: create_token(store, name) for name in ("YG", "Cube")}
    with TestClient(create_app(Deployment(settings))) as client:
        original = photos.encode(photos.fit(photos.real("astronaut"), 1280, 720), quality=92)
        signed = client.post(
            "/v1/sign",
            files={"file": ("a.jpg", original, "image/jpeg")},
            data={"title": "Comeback teaser", "artist": ["Lisa"]},
            headers={"Authorization": f"Bearer {tokens['YG']}"},
        ).json()
        published = client.get(signed["download"]).content
        yield client, settings, tokens, published


def _fake(published: bytes, seed: int) -> bytes:
    """A face-sized patch of another photo pasted into the official one, re-saved."""
    rgb = photos.decode(published).copy()
    other = photos.fit(photos.real("coffee"), 1280, 720)
    y, x = 150 + 40 * seed, 500 + 30 * seed
    rgb[y : y + 200, x : x + 160] = other[y : y + 200, x : x + 160]
    return photos.encode(rgb, quality=90)


def _verify(client, data: bytes, **form):
    return client.post("/v1/verify", files={"file": ("x.jpg", data, "image/jpeg")}, data=form)


def _findings(client, token=None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/v1/agency/findings", headers=headers, params=params)


def test_a_viral_fake_checked_50_times_is_one_finding_with_count_50(agency):
    client, _, tokens, published = agency
    fake = _fake(published, 0)
    answers = [_verify(client, fake).json() for _ in range(50)]
    assert {a["verdict"] for a in answers} == {"altered"}
    assert _verify(client, published).json()["verdict"] == "authentic"  # official: no finding
    assert _verify(client, photos.encode(photos.hd("coffee"))).json()["verdict"] == "unknown"  # not theirs
    listed = _findings(client, tokens["YG"]).json()
    (finding,) = [f for f in listed["findings"] if f["sha256"] == answers[0]["receipt"]["file_sha256"]]
    assert finding["count"] == 50 and finding["verdict"] == "altered" and finding["title"] == "Comeback teaser"
    assert finding["receipt_id"] == answers[0]["receipt"]["id"] and finding["boxes"]
    box = finding["boxes"][0]  # overlaps the pasted patch (official pixels: 1280x720)
    assert box["x"] < 660 and box["x"] + box["width"] > 500 and box["y"] < 350 and box["y"] + box["height"] > 150
    assert all(f["verdict"] in ("altered", "forged", "likely_authentic") for f in listed["findings"])
    rows = list(csv.DictReader(io.StringIO(_findings(client, tokens["YG"], format="csv").text)))
    assert [r["count"] for r in rows if r["sha256"] == finding["sha256"]] == ["50"]


def test_findings_are_shown_only_to_the_owning_agency(agency):
    client, _, tokens, published = agency
    _verify(client, _fake(published, 1))
    assert _findings(client, tokens["YG"]).json()["findings"]
    assert _findings(client, tokens["Cube"]).json()["findings"] == []  # its own: none
    assert _findings(client, tokens["Cube"], agency="YG").status_code == 403
    assert _findings(client).status_code == 403
    assert _findings(client, "not-a-token").status_code == 403
    sha = _findings(client, tokens["YG"]).json()["findings"][0]["sha256"]
    report = f"/v1/agency/findings/{sha}/report"
    assert client.get(report, headers={"Authorization": f"Bearer {tokens['Cube']}"}).status_code == 404
    assert client.get(report).status_code == 403
    assert client.get("/agency").status_code == 200


def _pdf_text(pdf: bytes) -> str:
    """The text drawn in a reportlab PDF (its streams are ASCII85, then Flate)."""
    text = b""
    for stream in re.findall(rb"stream\r?\n(.*?)~>\s*endstream", pdf, re.S):
        try:
            text += zlib.decompress(base64.a85decode(stream))
        except (ValueError, zlib.error):
            continue  # an image
    return text.decode("latin-1")


def test_the_evidence_report_names_the_asset_and_the_copy_and_checks_both_signatures(agency):
    client, _, tokens, published = agency
    fake = _fake(published, 2)
    receipt = _verify(client, fake).json()["receipt"]
    auth = {"Authorization": f"Bearer {tokens['YG']}"}
    url = f"/v1/agency/findings/{receipt['file_sha256']}/report"
    page = client.get(url, params={"format": "html"}, headers=auth)
    assert page.status_code == 200 and "Comeback teaser" in page.text and receipt["file_sha256"] in page.text
    assert "Manifest signature</th><td>valid" in page.text and "Receipt signature</th><td>valid" in page.text
    assert page.text.count("<img") == 1 and "was not kept" in page.text  # no consent: the official only
    pdf = client.get(url, headers=auth)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = _pdf_text(pdf.content)
    assert "Comeback teaser" in text and receipt["file_sha256"][:40] in text and receipt["id"] in text


def test_an_upload_is_kept_as_evidence_only_when_asked_and_only_for_its_time(agency):
    client, settings, tokens, published = agency
    store = open_store(settings)
    fake = _fake(published, 3)
    answer = _verify(client, fake, keep_upload="true").json()
    until = answer["receipt"]["upload_kept_until"]
    assert until == (date.today() + timedelta(days=settings.evidence_days)).isoformat()
    assert store.get(f"evidence/{until}/{answer['receipt']['file_sha256']}") == fake
    page = client.get(
        f"/v1/agency/findings/{answer['receipt']['file_sha256']}/report",
        params={"format": "html"},
        headers={"Authorization": f"Bearer {tokens['YG']}"},
    )
    assert page.text.count("<img") == 2  # the official and the copy, side by side
    unkept = _verify(client, _fake(published, 4)).json()["receipt"]
    assert unkept["upload_kept_until"] is None
    assert not [k for k in store.list("evidence/") if unkept["file_sha256"] in k]
    assert evidence.prune(store, date.fromisoformat(until)) == 0  # kept through its last day
    assert evidence.prune(store, date.fromisoformat(until) + timedelta(days=1)) >= 1
    assert not list(store.list("evidence/"))


def test_new_findings_past_the_rate_limit_are_counted_not_listed(agency):
    client = agency[0]
    book = FindingBook(client.app.state.services.jobs.server, per_minute=3)  # the app's own Valkey
    now = 1_800_000_000.0
    made = [
        Finding("Rate", f"{i:064x}", "altered", ("regions_changed",), None, None, f"{i:032x}", (), ()) for i in range(5)
    ]
    assert [book.record(f, now + i) for i, f in enumerate(made)] == [True, True, True, False, False]
    assert book.record(made[0], now + 9)  # a known finding is always counted
    assert book.record(made[4], now + 61)  # a new minute: room again
    listed = {f.sha256: f.count for f in book.list("Rate")}
    assert listed == {made[0].sha256: 2, made[1].sha256: 1, made[2].sha256: 1, made[4].sha256: 1}
    assert book.dropped("Rate") == 2
    assert next(iter(book.list("Rate"))).sha256 == made[4].sha256  # the most recently seen first


def test_photo_fakes_stay_findings_after_a_screenshot_of_the_fake(agency):
    client, _, tokens, published = agency
    shot = photos.encode(attacks.post_screenshot(photos.decode(_fake(published, 0)), np.random.default_rng(3)))
    verdict = _verify(client, shot).json()["verdict"]
    assert verdict in ("altered", "unknown")  # a screenshot of a fake is never official


def test_a_report_in_korean_or_japanese_uses_the_readers_asian_fonts():
    from service.findings.report import Facts, report_pdf

    rows = [("Sentence given", "これは公式ではありません")]
    facts = Facts("Evidence report: altered copy of 컴백 티저", rows, None, None, [])
    pdf = report_pdf(facts)
    assert pdf.startswith(b"%PDF") and b"HYSMyeongJo-Medium" in pdf and b"HeiseiMin-W3" in pdf
