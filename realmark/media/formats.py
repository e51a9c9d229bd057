"""What a file is, from its first bytes: the one media detection every entry uses.

Uploads are hostile until proven otherwise, so the content decides, never the name or
the declared type. `detect` reads the magic bytes once and returns a `Media` value: photo
or video, MIME type, container, and whether C2PA manifests can be embedded in it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from realmark.errors import UnsupportedMedia

HEAD_BYTES = 64  # enough for every signature below
SUPPORTED = (
    "a photo (JPEG, PNG, WebP), a video (MP4, MOV, WebM, Matroska) or, to verify, a GIF, AVIF or HEIC photo or "
    "sound (M4A, MP3, AAC, WAV, Ogg, FLAC)"
)


class Kind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    SOUND = "sound"  # verified only (traced to a signed clip's sound); never signed


@dataclass(frozen=True)
class Media:
    kind: Kind
    mime: str
    container: str  # "jpeg", "png", "webp", "gif", "mp4", "mov", "webm", "mkv", "m4a", "mp3", "aac", "wav", ...
    carries_c2pa: bool  # c2pa-rs can embed Content Credentials in it (not Matroska)

    @property
    def is_video(self) -> bool:
        return self.kind is Kind.VIDEO

    @property
    def from_file(self) -> bool:
        """Decoded by FFmpeg from a file on disk (clips and sound), not from bytes in memory."""
        return self.kind is not Kind.PHOTO


FORMATS = {
    m.container: m
    for m in (
        Media(Kind.PHOTO, "image/jpeg", "jpeg", True),
        Media(Kind.PHOTO, "image/png", "png", True),
        Media(Kind.PHOTO, "image/webp", "webp", True),
        # Verified only: a still GIF as a photo, an animated one (or WebP, or AVIF) as a clip
        # (media.animation). AVIF is what many sites serve a browser that asks for it, so a
        # picture saved from the web is often one; HEIC is what an iPhone's camera writes (a
        # photo of a screen). Both are ISO-BMFF files like MP4, told apart by their brands.
        Media(Kind.PHOTO, "image/gif", "gif", False),
        Media(Kind.PHOTO, "image/avif", "avif", False),
        Media(Kind.PHOTO, "image/heic", "heif", False),
        Media(Kind.VIDEO, "video/mp4", "mp4", True),
        Media(Kind.VIDEO, "video/quicktime", "mov", True),
        Media(Kind.VIDEO, "video/webm", "webm", False),
        Media(Kind.VIDEO, "video/x-matroska", "mkv", False),
        Media(Kind.SOUND, "audio/mp4", "m4a", False),
        Media(Kind.SOUND, "audio/mpeg", "mp3", False),
        Media(Kind.SOUND, "audio/aac", "aac", False),
        Media(Kind.SOUND, "audio/wav", "wav", False),
        Media(Kind.SOUND, "audio/ogg", "ogg", False),
        Media(Kind.SOUND, "audio/flac", "flac", False),
    )
}
BY_MIME = {m.mime: m for m in FORMATS.values()}


def _container(head: bytes) -> str | None:
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        if head[8:12] in (b"M4A ", b"M4B "):
            return "m4a"
        still = _still_image(head)
        if still is not None:
            return still or None  # an image in a codec not read here: not a clip either
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "mov"  # QuickTime files from before the ftyp box
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm" if b"webm" in head[:HEAD_BYTES] else "mkv"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:3] == b"ID3":
        return "mp3"  # an ID3 tag, then MPEG audio frames
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "aac"  # an ADTS frame header (MPEG-4 or -2 AAC)
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "mp3"  # an MPEG audio frame header (layer I-III)
    return None


# HEIF's brands (ISO/IEC 23008-12): HEVC-coded stills and sequences, and the generic
# image brands, which need a compatible brand to say which codec.
_AVIF_BRANDS = (b"avif", b"avis")
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs")
_GENERIC_IMAGE_BRANDS = (b"mif1", b"msf1", b"mif2")


def _still_image(head: bytes) -> str | None:
    """What an ISO-BMFF file holds, if a still image: "avif" or "heif" (by its major
    brand, or, for a generic image brand, its compatible brands); "" for a generic image
    whose codec none of them names (JPEG in HEIF, or brands past HEAD_BYTES: not read);
    None for a clip or sound."""
    size = int.from_bytes(head[:4], "big")
    end = len(head) if size < 16 else min(size, len(head))  # 0: to the end of the file; 1: a 64-bit size
    major = head[8:12]
    compatible = [head[k : k + 4] for k in range(16, end - 3, 4)]
    for brand in [major] + (compatible if major in _GENERIC_IMAGE_BRANDS else []):
        if brand in _AVIF_BRANDS:
            return "avif"
        if brand in _HEIF_BRANDS:
            return "heif"
    return "" if major in _GENERIC_IMAGE_BRANDS else None


def detect(head: bytes) -> Media:
    """The media a file's first HEAD_BYTES bytes announce; UnsupportedMedia otherwise."""
    container = _container(bytes(head[:HEAD_BYTES]))
    if container is None:
        raise UnsupportedMedia(f"not a supported photo or video: expected {SUPPORTED}")
    return FORMATS[container]
