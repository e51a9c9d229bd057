"""Verification receipts: signed by the deployment's receipt key (published in trust.json),
kept in the store, served at /v1/receipts/{id} and /r/{id}, checked offline by
`realmark receipt verify`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from bench.samples import photos
from realmark.deployment import Deployment, open_store
from realmark.errors import InvalidReceipt
from realmark.keys import Keyring, TrustList
from realmark.keys.tokens import create_token
from realmark.receipts import Receipt, check
from realmark.settings import Settings
from service import create_app
from verifier.wording import best_language


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("receipts") / "home"
    Keyring(home).create("YG")
    settings = Settings(home=home, verify_per_minute=0)
    token = create_token(open_store(settings), "YG")
    with TestClient(create_app(Deployment(settings))) as client:
        original = photos.encode(photos.fit(photos.real("astronaut"), 1280, 720))
        signed = client.post(
            "/v1/sign",
            files={"file": ("a.jpg", original, "image/jpeg")},
            data={"title": "Concept photo", "artist": ["Jisoo"]},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        published = client.get(signed["download"]).content
        yield client, settings, published


def _verify(client, data: bytes, **params):
    return client.post("/v1/verify", files={"file": ("x.jpg", data, "image/jpeg")}, params=params)


def test_every_answer_carries_a_receipt_that_the_published_trust_list_checks(service):
    client, _, published = service
    answer = _verify(client, published).json()
    receipt = Receipt.from_dict(answer["receipt"])
    trust = TrustList.from_json(client.get("/.well-known/realmark/trust.json").content)
    check(receipt, trust)
    assert receipt.file_sha256 == hashlib.sha256(published).hexdigest() and receipt.file_bytes == len(published)
    assert (receipt.verdict, list(receipt.reasons)) == (answer["verdict"], answer["reasons"])
    assert receipt.manifest_id == answer["manifest"]["manifest_id"] and receipt.agency == "YG"
    assert receipt.trust_list == trust.version and re.fullmatch(r"[0-9a-f]{32}", receipt.id)
    unknown = Receipt.from_dict(_verify(client, photos.encode(photos.hd("coffee"))).json()["receipt"])
    check(unknown, trust)
    assert (unknown.verdict, unknown.manifest_id, unknown.agency) == ("unknown", None, None)


@pytest.mark.parametrize(
    "change",
    [
        {"verdict": "altered"},
        {"reasons": ("reencoded",)},
        {"file_sha256": "0" * 64},
        {"file_bytes": 1},
        {"issued_at": "2020-01-01T00:00:00Z"},
        {"manifest_id": None},
        {"agency": "Cube"},
        {"trust_list": "sha256:" + "0" * 64},
        {"id": "f" * 32},
    ],
)
def test_any_change_to_a_receipt_breaks_its_signature(service, change):
    client, _, published = service
    receipt = Receipt.from_dict(_verify(client, published).json()["receipt"])
    trust = TrustList.from_json(client.get("/.well-known/realmark/trust.json").content)
    with pytest.raises(InvalidReceipt) as failed:
        check(dataclasses.replace(receipt, **change), trust)
    assert failed.value.reason == InvalidReceipt.SIGNATURE


def test_a_receipt_fails_closed_on_a_trust_list_without_its_key(service, tmp_path):
    client, _, published = service
    receipt = Receipt.from_dict(_verify(client, published).json()["receipt"])
    Keyring(tmp_path / "other").create("YG")
    other = TrustList.load(tmp_path / "other" / "trust.json")
    with pytest.raises(InvalidReceipt) as failed:
        check(receipt, other)
    assert failed.value.reason == InvalidReceipt.KEY_UNKNOWN
    for bad in ({}, {**receipt.to_dict(), "extra": 1}, {**receipt.to_dict(), "file_bytes": "1"}, []):
        with pytest.raises(InvalidReceipt):
            Receipt.from_dict(bad)


def test_receipts_are_kept_without_the_upload_and_served_by_id(service):
    client, settings, published = service
    answer = _verify(client, published).json()
    receipt_id = answer["receipt"]["id"]
    kept = client.get(f"/v1/receipts/{receipt_id}")
    assert kept.status_code == 200
    assert kept.json()["receipt"] == answer["receipt"]
    assert kept.json()["answer"] == {k: v for k, v in answer.items() if k != "receipt"}
    stored = open_store(settings).get(f"receipts/{receipt_id[:2]}/{receipt_id}.json")
    assert len(stored) < 20_000 and published[1000:1064] not in stored  # hashes, never the upload
    korean = client.get(f"/v1/receipts/{receipt_id}", params={"lang": "ko"}).json()["answer"]
    assert korean["language"] == "ko" and "공식 파일" in korean["message"]
    for missing in ("0" * 32, "nope", "..%2f..%2ftrust.json"):
        assert client.get(f"/v1/receipts/{missing}").status_code == 404
    assert _verify(client, published, lang="xx").status_code == 400


def test_the_receipt_page_needs_no_upload_and_unfolds_in_the_sharers_language(service):
    client, _, published = service
    answer = _verify(client, published, lang="ko").json()
    assert answer["language"] == "ko" and "공식 파일" in answer["message"]
    receipt_id = answer["receipt"]["id"]
    page = client.get(f"/r/{receipt_id}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'data-receipt="{receipt_id}"' in page.text
    assert 'property="og:description" content="This is the official file of YG' in page.text
    assert 'name="twitter:card"' in page.text or 'property="twitter:card"' in page.text
    shared = client.get(f"/r/{receipt_id}?lang=ko", headers={"Accept-Language": "en"})
    assert "공식 파일" in shared.text and 'data-lang="ko"' in shared.text
    browser = client.get(f"/r/{receipt_id}", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    assert "공식 파일" in browser.text
    assert client.get("/r/" + "0" * 32).status_code == 404


def test_cli_receipt_is_written_and_checked_offline(agency_cli, tmp_path):
    cli = agency_cli
    src, signed = tmp_path / "a.jpg", tmp_path / "signed.jpg"
    src.write_bytes(photos.encode(photos.fit(photos.real("coffee"), 1280, 720)))
    assert cli("sign", src, "-o", signed, "--title", "T", "--artist", "A")[0] == 0
    code, answer = cli.json("verify", signed, "--receipt", tmp_path / "r.json")
    assert code == 0 and answer["receipt"] == json.loads((tmp_path / "r.json").read_text())
    code, out, _ = cli("receipt", "verify", tmp_path / "r.json")
    assert code == 0 and out.startswith("VALID") and "authentic" in out
    # Offline, against the published file, and as GET /v1/receipts/{id} or a verify answer gives it.
    trust = cli.home / "trust.json"
    (tmp_path / "answer.json").write_text(json.dumps(answer))
    assert cli("receipt", "verify", tmp_path / "answer.json", "--trust", trust)[0] == 0
    forged = {**answer["receipt"], "verdict": "altered"}
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    code, result = cli.json("receipt", "verify", tmp_path / "forged.json", "--trust", trust)
    assert code == 1 and result == {"valid": False, "reason": "receipt_signature_invalid", "error": result["error"]}
    Keyring(tmp_path / "elsewhere").create("Cube")
    code, out, _ = cli("receipt", "verify", tmp_path / "r.json", "--trust", tmp_path / "elsewhere" / "trust.json")
    assert code == 1 and "not on this trust list" in out
    assert cli("receipt", "verify", src)[0] == 2  # not a receipt at all
    assert cli("verify", signed, "--lang", "xx")[0] == 2


@pytest.mark.parametrize(
    "header, lang",
    [
        ("ko-KR,ko;q=0.9,en;q=0.8", "ko"),
        ("ja", "ja"),
        ("zh-CN,zh;q=0.9", "zh-Hans"),
        ("pt-PT", "pt-BR"),
        ("fr-FR,th;q=0.5", "th"),
        ("fr, de", "en"),
        ("en;q=0.1, id;q=0.9", "id"),
        ("", "en"),
        ("ko;q=0", "en"),
    ],
)
def test_the_page_language_follows_accept_language(header, lang):
    assert best_language(header) == lang


def test_the_share_card_is_a_picture_of_the_verdict(service):
    import io

    from PIL import Image

    client, _, published = service
    for data, colour in ((published, (10, 125, 56)), (photos.encode(photos.hd("coffee")), (138, 90, 0))):
        receipt_id = _verify(client, data).json()["receipt"]["id"]
        page = client.get(f"/r/{receipt_id}").text
        assert f'property="og:image" content="http://testserver/r/{receipt_id}/card.png?lang=en"' in page
        card = client.get(f"/r/{receipt_id}/card.png", params={"lang": "ko"})
        assert card.status_code == 200 and card.headers["content-type"] == "image/png"
        picture = Image.open(io.BytesIO(card.content)).convert("RGB")
        assert picture.size == (1200, 630) and picture.getpixel((10, 300)) == colour  # the verdict's colour
        words = np.asarray(picture)[40:170, 80:900]  # the verdict word, drawn in it
        assert (np.abs(words.astype(int) - colour).sum(axis=2) < 30).mean() > 0.02
    assert client.get("/r/" + "0" * 32 + "/card.png").status_code == 404


def test_the_share_card_speaks_korean_where_the_machine_has_a_font_and_english_where_not(service, monkeypatch):
    from service import card

    client, _, published = service
    record = client.get(f"/v1/receipts/{_verify(client, published).json()['receipt']['id']}", params={"lang": "ko"})
    answer, receipt = record.json()["answer"], record.json()["receipt"]
    assert card.script_font("ko"), "scripts/test.sh installs fonts-wqy-zenhei"
    assert card.card_png(answer, receipt, "ko") != card.card_png(answer, receipt, "en")
    monkeypatch.setattr(card, "SCRIPT_FONTS", {})
    card.script_font.cache_clear()
    try:  # no font for Korean letters: the card is drawn in English rather than in empty boxes
        assert card.card_png(answer, receipt, "ko") == card.card_png(answer, receipt, "en")
    finally:
        card.script_font.cache_clear()
