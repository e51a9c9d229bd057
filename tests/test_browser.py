"""The verify page in real headless Chromium (Debian's chromium + chromedriver): a fan
drops a signed photo and reads "authentic"; an unsigned one reads "unknown"."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from bench.samples import photos
from bench.samples.net import free_port
from realmark.deployment import Deployment, open_store
from realmark.keys import Keyring
from realmark.settings import Settings
from service import create_app
from signer import sign

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def server(tmp_path):
    home = tmp_path / "home"
    keyring = Keyring(home)
    keyring.create("YG")
    settings = Settings(home=home, verify_per_minute=0)
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(create_app(Deployment(settings)), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "the service did not start"
    yield f"http://127.0.0.1:{port}", settings, keyring
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), (
        "install Debian's chromium and chromium-driver (scripts/test.sh does)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=412,915",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _check(browser, url: str, path: Path) -> tuple[str, str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    browser.find_element(By.ID, "file").send_keys(str(path))
    WebDriverWait(browser, 60).until(EC.visibility_of_element_located((By.ID, "result")))
    return browser.find_element(By.ID, "result").get_attribute("data-verdict"), browser.find_element(
        By.ID, "result"
    ).text


def _language(browser, code: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "lang")).select_by_value(code)


def test_fan_checks_a_signed_and_an_unsigned_photo(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    url, settings, keyring = server
    original = photos.encode(photos.fit(photos.real("astronaut"), 1280, 720))
    signed = sign(
        original, title="Comeback teaser", artists=["Lisa"], key=keyring.signing_key("YG"), store=open_store(settings)
    )
    (tmp_path / "signed.jpg").write_bytes(signed.data)
    (tmp_path / "unsigned.jpg").write_bytes(original)

    verdict, text = _check(browser, url, tmp_path / "signed.jpg")
    assert verdict == "authentic"
    assert "Official" in text and "YG" in text and "Lisa" in text and "Comeback teaser" in text
    assert "Content Credentials" in text and "valid, issued by YG" in text  # C2PA, beside the verdict

    _language(browser, "ko")
    korean = browser.find_element(By.ID, "result").text
    assert "공식" in korean and "소속사" in korean and "유효함, 발급: YG" in korean

    verdict, text = _check(browser, url, tmp_path / "unsigned.jpg")
    assert verdict == "unknown"
    assert "가짜라는 뜻은 아닙니다" in text  # the page remembered Korean; "not proof of a fake"
    _language(browser, "en")
    assert "does not prove" in browser.find_element(By.ID, "result").text
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )  # fits a phone


def test_a_receipt_link_opens_the_result_without_an_upload_in_the_sharers_language(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    url, settings, keyring = server
    original = photos.encode(photos.fit(photos.real("coffee"), 1280, 720))
    signed = sign(original, title="Teaser", artists=["Rosé"], key=keyring.signing_key("YG"), store=open_store(settings))
    (tmp_path / "signed.jpg").write_bytes(signed.data)
    _check(browser, url, tmp_path / "signed.jpg")
    _language(browser, "ja")
    assert "公式ファイル" in browser.find_element(By.ID, "result").text
    link = browser.find_element(By.ID, "receipt-link").get_attribute("href")
    assert "/r/" in link and link.endswith("?lang=ja")
    browser.get("about:blank")
    browser.get(link)  # a new visit: no upload, only the link
    WebDriverWait(browser, 30).until(EC.visibility_of_element_located((By.ID, "result")))
    result = browser.find_element(By.ID, "result")
    assert result.get_attribute("data-verdict") == "authentic"
    assert "公式ファイル" in result.text and "Teaser" in result.text and signed.manifest.media.sha256 in result.text
    assert browser.execute_script("return document.documentElement.lang") == "ja"
    assert browser.find_element(By.CSS_SELECTOR, 'meta[property="og:description"]').get_attribute("content")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
