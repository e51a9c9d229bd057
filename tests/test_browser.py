"""The verify page in real headless Chromium (Debian's chromium + chromedriver), on a
phone-sized window: a fan drops a signed photo and reads "authentic", an unsigned one
"unknown"; an altered photo shows the official picture beside it with the changes
outlined; a spliced clip shows its timeline with the foreign part; a GIF of official
frames verifies; a receipt's link opens the result with no upload; the share card.
Screenshots of each land in tests/screenshots-out/ (README embeds copies)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from bench import attacks
from bench.samples import photos, videos
from bench.samples.net import free_port
from realmark.deployment import Deployment, open_store
from realmark.keys import Keyring
from realmark.settings import Settings
from service import create_app
from signer import sign

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "screenshots-out"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _serve(home: Path):
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
    return uv, thread, (f"http://127.0.0.1:{port}", settings, keyring)


@pytest.fixture
def server(tmp_path):
    uv, thread, served = _serve(tmp_path / "home")
    yield served
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def clip_server(tmp_path_factory):
    """A service with Big Buck Bunny signed (x264 veryfast), for the clip pages."""
    from signer import EncoderSettings

    home = tmp_path_factory.mktemp("browser-clip") / "home"
    uv, thread, (url, settings, keyring) = _serve(home)
    signed = home.parent / "signed.mp4"
    sign(
        videos.real(videos.BUNNY),
        signed,
        title="Teaser MV",
        artists=["Rosé"],
        key=keyring.signing_key("YG"),
        store=open_store(settings),
        encoder=EncoderSettings(preset="veryfast"),
    )
    yield url, signed
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


def _signed_photo(server, tmp_path: Path, name: str, title: str, artist: str):
    """A real photo signed by YG into the service's store: (its file, the SignResult)."""
    _, settings, keyring = server
    original = photos.encode(photos.fit(photos.real(name), 1280, 720))
    signed = sign(original, title=title, artists=[artist], key=keyring.signing_key("YG"), store=open_store(settings))
    path = tmp_path / f"{name}-signed.jpg"
    path.write_bytes(signed.data)
    return path, signed


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
    _shot(browser, "official-photo-ko")

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

    url = server[0]
    path, signed = _signed_photo(server, tmp_path, "coffee", "Teaser", "Rosé")
    _check(browser, url, path)
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
    WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "compare").is_displayed())  # the official
    _shot(browser, "receipt-page-ja")


def _shot(browser, name: str) -> None:
    """The whole result, as a phone shows it, in tests/screenshots-out/."""
    SHOTS.mkdir(exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(412, min(max(915, height + 40), 4000))
    browser.save_screenshot(str(SHOTS / f"{name}.png"))
    browser.set_window_size(412, 915)


def _red_pixels(browser, canvas_id: str) -> int:
    return browser.execute_script(
        """const c = document.getElementById(arguments[0]);
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 230 && d[i + 1] < 60 && d[i + 2] < 60) n++;
        return n;""",
        canvas_id,
    )


def test_an_altered_photo_is_shown_beside_the_official_with_the_changes_outlined(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = server[0]
    _, signed = _signed_photo(server, tmp_path, "astronaut", "Concept photo", "Jisoo")
    fake = attacks.replace_quarter(photos.decode(signed.data), photos.hd("coffee"))
    (tmp_path / "fake.jpg").write_bytes(photos.encode(fake, quality=90))
    browser.get(url)
    browser.find_element(By.ID, "keep").click()  # the fan asks to keep it as evidence
    browser.find_element(By.ID, "file").send_keys(str(tmp_path / "fake.jpg"))
    WebDriverWait(browser, 60).until(lambda b: b.find_element(By.ID, "result").is_displayed())
    # The pictures load after the verdict shows; the sentence about outlines comes with them.
    WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "compare").is_displayed())
    verdict, text = (
        browser.find_element(By.ID, "result").get_attribute("data-verdict"),
        browser.find_element(By.ID, "result").text,
    )
    assert verdict == "altered" and "Changed areas are outlined in red." in text
    assert _red_pixels(browser, "official-canvas") > 500 and _red_pixels(browser, "copy-canvas") > 500
    signals = {e.get_attribute("data-signal"): e.text for e in browser.find_elements(By.CSS_SELECTOR, "#signals dd")}
    assert signals["watermark"].startswith("found") and signals["signature"].startswith("valid")
    assert signals["content"] == "changed since it was signed" and "Content Credentials" not in signals
    kept = browser.execute_script("return JSON.parse(document.getElementById('json').textContent).receipt")
    assert kept["upload_kept_until"] and kept["verdict"] == "altered"
    _shot(browser, "altered-photo")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_an_altered_heic_copy_is_judged_and_the_official_shown_with_the_changes(server, browser, tmp_path):
    """An iPhone's HEIC photo: verified as a photo; the browser cannot draw it, so the
    official picture is shown alone, with the changed areas outlined."""
    from PIL import Image
    from pillow_heif import register_heif_opener
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    register_heif_opener()
    url = server[0]
    _, signed = _signed_photo(server, tmp_path, "coffee", "Cafe photo", "Rose")
    fake = attacks.replace_quarter(photos.decode(signed.data), photos.hd("astronaut"))
    Image.fromarray(fake).save(tmp_path / "fake.heic", quality=80)
    browser.get(url)
    browser.find_element(By.ID, "file").send_keys(str(tmp_path / "fake.heic"))
    WebDriverWait(browser, 60).until(lambda b: b.find_element(By.ID, "result").is_displayed())
    WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "compare").is_displayed())
    assert browser.find_element(By.ID, "result").get_attribute("data-verdict") == "altered"
    assert _red_pixels(browser, "official-canvas") > 500
    assert not browser.find_element(By.ID, "copy-figure").is_displayed()


def test_a_spliced_clip_shows_its_timeline_with_the_foreign_part(clip_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, signed = clip_server
    fake = tmp_path / "spliced.mp4"
    attacks.splice([(signed, 0.0, 2.0), (videos.real(videos.BIKES), 3.0, 5.0), (signed, 3.0, 5.0)], fake)
    verdict, _ = _check(browser, url, fake)
    assert verdict == "altered"
    assert browser.execute_script("return document.getElementById('verify-progress').value") > 0.5  # it moved
    bar = browser.find_element(By.ID, "bar")
    kinds = [s.get_attribute("class") for s in bar.find_elements(By.TAG_NAME, "span")]
    ranges = browser.execute_script("return JSON.parse(document.getElementById('json').textContent)")
    assert kinds == ["official", "foreign", "official"], ranges["evidence"]["content"]["ranges"]
    widths = [s.size["width"] for s in bar.find_elements(By.TAG_NAME, "span")]
    assert abs(widths[1] / sum(widths) - 2 / 6) < 0.08  # two seconds of six
    assert "original" in bar.get_attribute("aria-label") and "not official" in bar.get_attribute("aria-label")
    assert not browser.find_element(By.ID, "sound-bar").is_displayed()  # its sound is the published sound
    assert not browser.find_element(By.ID, "compare").is_displayed()  # side by side is for photos
    WebDriverWait(browser, 60).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#strip figure")) == 3)
    _shot(browser, "spliced-clip")


def test_a_gif_of_official_frames_verifies_on_the_page(clip_server, browser, tmp_path):
    from tests.test_cli_video import _animation

    url, signed = clip_server
    _animation(signed, tmp_path / "fan.gif", 1.0, 3.0, 10, 400)
    verdict, text = _check(browser, url, tmp_path / "fan.gif")
    assert verdict == "authentic" and "Teaser MV" in text
    _shot(browser, "gif")


def test_the_share_card_is_served_and_shows_the_verdict(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    url = server[0]
    path, _ = _signed_photo(server, tmp_path, "coffee", "Teaser", "Lisa")
    _check(browser, url, path)
    link = browser.find_element(By.ID, "receipt-link").get_attribute("href")
    browser.get(link)
    image = browser.find_element(By.CSS_SELECTOR, 'meta[property="og:image"]').get_attribute("content")
    browser.get(image)
    size = browser.execute_script("const i = document.images[0]; return [i.naturalWidth, i.naturalHeight];")
    assert size == [1200, 630]
    green = browser.execute_script(
        """const i = document.images[0]; const c = document.createElement("canvas"); c.width = 1200; c.height = 630;
        const x = c.getContext("2d"); x.drawImage(i, 0, 0); return Array.from(x.getImageData(10, 300, 1, 1).data);"""
    )
    assert green[:3] == [10, 125, 56]  # the verdict's colour: official
    SHOTS.mkdir(exist_ok=True)
    browser.set_window_size(1240, 700)
    browser.save_screenshot(str(SHOTS / "card.png"))
