"""One Signer and one Verifier for every source: a path, bytes or a binary stream, photo
or clip; the same answer whichever it is, and clear errors for what cannot be read."""

from __future__ import annotations

import io

import pytest

from bench.samples import photos, videos
from realmark.errors import BadInput, UnsupportedMedia
from realmark.index import FingerprintIndex
from realmark.keys import Keyring
from realmark.media.source import open_source
from realmark.store import LocalStore
from signer import Signer
from verifier import Verifier


class Trickle(io.RawIOBase):
    """A stream that returns at most 1000 bytes per read, as sockets and pipes may."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size if size >= 0 else 1000, 1000))


@pytest.fixture
def parts(tmp_path):
    keyring = Keyring(tmp_path / "home")
    keyring.create("YG")
    store, index = LocalStore(tmp_path / "store"), FingerprintIndex()
    return Signer(store, keyring.signing_key("YG"), index), Verifier(store, keyring.trust_file(), index), index


def test_a_photo_as_path_bytes_or_stream_gets_one_answer(parts, tmp_path):
    signer, verifier, index = parts
    original = photos.encode(photos.hd("coffee"))
    result = signer.sign(io.BytesIO(original), title="Teaser", artists=["Yuna"])
    assert result.created and result.manifest.manifest_id in index  # the Signer keeps the index current
    path = tmp_path / "signed.jpg"
    path.write_bytes(result.data)
    answers = [verifier.verify(s).to_dict() for s in (path, str(path), result.data, Trickle(result.data))]
    assert all(a == answers[0] for a in answers) and answers[0]["verdict"] == "authentic"
    # Found by appearance through the index the Signer filled: the unmarked original.
    assert verifier.verify(original).reasons[0].value == "appearance_only"


def test_a_clip_given_as_bytes_is_spooled_and_removed(parts):
    signer, verifier, _ = parts
    source = videos.real(videos.BUNNY)
    with open_source(source.read_bytes()) as opened:
        assert opened.media.is_video and opened.path.exists()
        spooled = opened.path
    assert not spooled.parent.exists()  # the private folder is gone with the file
    with pytest.raises(BadInput, match="output"):
        signer.sign(source, title="MV", artists=["IVE"])


@pytest.mark.parametrize(
    "source, error, words",
    [
        (b"", BadInput, "empty"),
        (b"BM" + b"\0" * 100, UnsupportedMedia, "not a supported"),  # a BMP
        (io.BytesIO(b""), BadInput, "empty"),
        ("/no/such/folder/photo.jpg", BadInput, "photo.jpg: no such file"),
        (12345, BadInput, "path, bytes or a binary stream"),
    ],
)
def test_unreadable_sources_are_refused_clearly(parts, source, error, words):
    _, verifier, _ = parts
    with pytest.raises(error, match=words):
        verifier.verify(source)


def test_messages_name_the_file_never_its_folder(parts, tmp_path):
    _, verifier, _ = parts
    empty = tmp_path / "secret-folder" / "upload"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    with pytest.raises(BadInput) as caught:
        verifier.verify(empty)
    assert "secret-folder" not in str(caught.value) and "upload" in str(caught.value)
