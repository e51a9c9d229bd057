from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

from cli import main


@contextlib.contextmanager
def realmark_home(home: Path):
    """REALMARK_HOME set to `home` for a module-scoped fixture (monkeypatch is per test)."""
    old = os.environ.get("REALMARK_HOME")
    os.environ["REALMARK_HOME"] = str(home)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("REALMARK_HOME")
        else:
            os.environ["REALMARK_HOME"] = old


class CLI:
    """Runs `realmark ...` in-process against one REALMARK_HOME; returns (exit, stdout, stderr)."""

    def __init__(self, home: Path, capsys, monkeypatch):
        self.home = home
        self._capsys = capsys
        monkeypatch.setenv("REALMARK_HOME", str(home))
        monkeypatch.delenv("REALMARK_KEY_PASSPHRASE", raising=False)

    def __call__(self, *argv: str):
        self._capsys.readouterr()
        code = main([str(a) for a in argv])
        out = self._capsys.readouterr()
        return code, out.out, out.err

    def json(self, *argv: str):
        code, out, err = self(*argv, "--json")
        return code, json.loads(out)

    def stored_files(self) -> dict[str, bytes]:
        root = self.home / "store"
        return (
            {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
            if root.exists()
            else {}
        )


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch) -> CLI:
    return CLI(tmp_path / "home", capsys, monkeypatch)


@pytest.fixture
def agency_cli(cli) -> CLI:
    """A CLI whose home holds a signing key for the agency "YG"."""
    code, _, err = cli("keys", "init", "--agency", "YG")
    assert code == 0, err
    return cli


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """A real S3 server (SeaweedFS `weed mini`) on loopback for the whole test session."""
    from tests.seaweed import SeaweedFS

    server = SeaweedFS(tmp_path_factory.mktemp("seaweed")).start()
    yield server
    server.stop()


def signed_photos(home: Path, work: Path, names, size=(1200, 800), agency: str = "YG") -> dict:
    """Real photos (bench.samples.photos) signed through the CLI under a fresh key in
    `home`, as PNG masters of `size`: name -> the published picture, RGB."""
    import numpy as np
    from PIL import Image

    from bench.samples import photos

    out = {}
    with realmark_home(home):
        assert main(["keys", "init", "--agency", agency]) == 0
        for name in names:
            src = work / f"{name}.png"
            Image.fromarray(photos.fit(photos.real(name), *size)).save(src)
            signed = work / f"{name}-signed.png"
            assert main(["sign", str(src), "-o", str(signed), "--title", name, "--artist", "A"]) == 0
            out[name] = np.asarray(Image.open(signed).convert("RGB"))
    return out


def racing_clip(work: Path) -> Path:
    """Fast camera footage (bikes racing past, 960x540, 5 s at 30 fps from 25 by repeating
    frames), as a studio master (CRF 16): one frame is 30-120 fingerprint bits from the next."""
    from bench import attacks
    from bench.samples import photos, videos

    frames = [photos.fit(rgb, 960, 540) for _, rgb in attacks._video_frames(videos.real(videos.BIKES), 0, 5)]
    src = work / "racing.mp4"
    attacks.write_clip([frames[min(len(frames) - 1, int(k * 25 / 30))] for k in range(150)], src, 30, crf=16)
    return src
