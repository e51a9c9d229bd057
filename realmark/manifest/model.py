"""Manifest v1: the fields, their rules, and a strict parser.

The parser fails closed: an unknown field, a missing field or a value of the wrong shape
makes the manifest invalid. Documented field by field in README ("Manifest v1")."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from realmark.errors import InvalidManifest
from realmark.fingerprint import CROP_VARIANTS
from realmark.fingerprint.audio import ALG as SOUND_ALG
from realmark.fingerprint.audio import SAMPLE_RATE as SOUND_SAMPLE_RATE
from realmark.fingerprint.audio import STORED_HOP as SOUND_HOP
from realmark.fingerprint.audio import SoundPrint
from realmark.fingerprint.grid import REGION_BYTES
from realmark.watermark.presence import blocks_of as presence_blocks

from .canonical import canonical_json

FORMAT = "realmark.manifest/1"
MAX_MANIFEST_BYTES = 32 * 1024 * 1024  # a 4-hour video: fingerprints ~4 MB, regions ~8 MB, sound ~7.5 MB

_ID = re.compile(r"rm-[a-z2-7]{24}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_WM_ID = re.compile(r"[0-9a-f]{12}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_GRID = re.compile(r"[A-Za-z0-9_-]{1366}")  # base64url of 32 x 32 bytes, unpadded
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
# One search instead of a check per character: a photo's block maps are thousands of
# characters, and the per-character test took a millisecond of every verification.
_CONTROL = re.compile(r"[\x00-\x1f]")
AGENCY = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/x-matroska")
MEDIA_TYPES = PHOTO_TYPES + VIDEO_TYPES
TIMELINE_INTERVAL_MS = 250  # a fingerprint every quarter second of a video
TIMELINE_STEP_S = TIMELINE_INTERVAL_MS / 1000  # the same, in seconds
TIMELINE_MAX = 4 * 3600 * 1000 // TIMELINE_INTERVAL_MS + 1
# A C2PA manifest label: urn:c2pa:<uuid>, optionally :<claim generator>[:<version>].
C2PA_LABEL = re.compile(
    r"urn:c2pa:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:[A-Za-z0-9._-]{0,64}){0,2}"
)
_RATE = re.compile(r"[1-9][0-9]{0,6}/[1-9][0-9]{0,6}")
SOUND_MAX_CHARS = (4 * 3600 * SOUND_SAMPLE_RATE // SOUND_HOP + 1) * 9 * 4 // 3 + 8  # 4 hours of print, base64


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class MediaInfo:
    type: str
    width: int
    height: int
    sha256: str
    # Videos only:
    duration_ms: int | None = None
    frame_rate: str | None = None  # exact rational, e.g. "30000/1001"
    frames: int | None = None
    rotation: int | None = None  # display rotation in degrees (0, 90, 180, 270)

    @property
    def is_video(self) -> bool:
        return self.type in VIDEO_TYPES

    def to_dict(self) -> dict:
        out = {"type": self.type, "width": self.width, "height": self.height, "sha256": self.sha256}
        if self.is_video:
            out.update(
                duration_ms=self.duration_ms, frame_rate=self.frame_rate, frames=self.frames, rotation=self.rotation
            )
        return out


@dataclass(frozen=True)
class Manifest:
    manifest_id: str
    agency: str
    key_id: str
    title: str
    artists: tuple[str, ...]
    published_at: str
    media: MediaInfo
    fingerprint_alg: str
    fingerprint_hash: str
    fingerprint_quality: int
    fingerprint_grid: str | None  # photos: base64url of the 32x32 luma grid (1024 bytes)
    watermark_codec: str
    watermark_version: int
    watermark_id: str
    timeline: tuple[str, ...] | None = None  # videos: fingerprint hex of the frame every TIMELINE_INTERVAL_MS
    timeline_regions: str | None = None  # videos: base64url of each position's grid.regions (144 bytes each)
    fingerprint_variants: dict[str, str] = field(default_factory=dict)  # photos: crop window name -> fingerprint hex
    colourfulness: int | None = None  # photos: realmark.fingerprint.grid.colourfulness of the published picture
    watermark_presence: str | None = None  # photos: the published picture's realmark.watermark.presence map
    fingerprint_detail: str | None = None  # photos: its detail map (realmark.watermark.presence.Detail)
    sound: str | None = None  # videos with sound: realmark.fingerprint.audio.SoundPrint.encode()
    c2pa_label: str | None = None  # the Content Credentials embedded in the published file
    c2pa_sha256: str | None = None  # SHA-256 of that C2PA manifest store (the stored sidecar)
    signature: str = ""  # base64url Ed25519 signature; empty while unsigned

    def payload(self) -> dict:
        """The signed content: everything but the signature, as plain JSON values."""
        out = {
            "format": FORMAT,
            "manifest_id": self.manifest_id,
            "agency": self.agency,
            "key_id": self.key_id,
            "title": self.title,
            "artists": list(self.artists),
            "published_at": self.published_at,
            "media": self.media.to_dict(),
            "fingerprint": {
                "alg": self.fingerprint_alg,
                "hash": self.fingerprint_hash,
                "quality": self.fingerprint_quality,
                **({"grid": self.fingerprint_grid} if not self.media.is_video else {}),
                **({"variants": dict(self.fingerprint_variants)} if self.fingerprint_variants else {}),
                **({"colourfulness": self.colourfulness} if self.colourfulness is not None else {}),
                **({"detail": self.fingerprint_detail} if self.fingerprint_detail is not None else {}),
            },
            "watermark": {
                "codec": self.watermark_codec,
                "version": self.watermark_version,
                "id": self.watermark_id,
                **({"presence": self.watermark_presence} if self.watermark_presence is not None else {}),
            },
        }
        if self.media.is_video:
            out["timeline"] = {"interval_ms": TIMELINE_INTERVAL_MS, "fingerprints": list(self.timeline or ())}
            if self.timeline_regions is not None:
                out["timeline"]["regions"] = self.timeline_regions
        if self.sound is not None:
            out["sound"] = {"alg": SOUND_ALG, "rate": SOUND_SAMPLE_RATE, "hop": SOUND_HOP, "frames": self.sound}
        if self.c2pa_label:
            out["c2pa"] = {"manifest": self.c2pa_label, "sha256": self.c2pa_sha256}
        return out

    def to_dict(self) -> dict:
        return {**self.payload(), "signature": {"alg": "Ed25519", "value": self.signature}}

    def to_json(self) -> bytes:
        """Stored form: canonical JSON, so that any changed byte is detectable."""
        return canonical_json(self.to_dict())


def _keys(obj) -> set:
    return set(obj.keys()) if isinstance(obj, dict) else set()


def _fields(obj, names: set[str], where: str) -> dict:
    if not isinstance(obj, dict):
        raise InvalidManifest(f"{where} is not an object")
    missing = names - obj.keys()
    extra = obj.keys() - names
    if missing:
        raise InvalidManifest(f"{where} lacks field(s): {', '.join(sorted(missing))}")
    if extra:
        raise InvalidManifest(f"{where} has unknown field(s): {', '.join(sorted(extra))}")
    return obj


def _block_map(obj: dict, key: str, where: str, media: dict) -> str:
    """A photo's per-block map (realmark.watermark.presence): base64url, one byte a block."""
    rows, cols = presence_blocks(
        _int(media["width"], "media.width", 1, 1_000_000), _int(media["height"], "media.height", 1, 1_000_000)
    )
    chars = -(-rows * cols * 4 // 3)
    value = _text(obj[key], where, chars, _B64URL)
    if len(value) != chars:
        raise InvalidManifest(f"{where} must hold {rows}x{cols} blocks")
    return value


def _text(value, where: str, limit: int = 500, pattern: re.Pattern | None = None) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidManifest(f"{where} must be a non-empty string of at most {limit} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise InvalidManifest(f"{where} is malformed")
    if _CONTROL.search(value):
        raise InvalidManifest(f"{where} holds control characters")
    return value


def _int(value, where: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidManifest(f"{where} must be an integer from {low} to {high}")
    return value


def parse_manifest(data: bytes) -> Manifest:
    """Parse and schema-check stored manifest bytes; raises InvalidManifest."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidManifest("manifest is too large")
    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=lambda c: None)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidManifest(f"manifest is not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise InvalidManifest("manifest is not an object")
    media_type = obj.get("media", {}).get("type") if isinstance(obj.get("media"), dict) else None
    video = media_type in VIDEO_TYPES
    top_fields = {
        "format",
        "manifest_id",
        "agency",
        "key_id",
        "title",
        "artists",
        "published_at",
        "media",
        "fingerprint",
        "watermark",
        "signature",
    }
    optional_top = {"c2pa"} | ({"sound"} if video else set())
    top = _fields(obj, top_fields | ({"timeline"} if video else set()) | (optional_top & obj.keys()), "manifest")
    try:
        canonical = canonical_json(obj)
    except ValueError as exc:
        raise InvalidManifest(f"manifest holds a value JSON cannot carry exactly ({exc})") from None
    if canonical != data:
        raise InvalidManifest("manifest bytes are not in canonical form (edited after signing?)")
    if top["format"] != FORMAT:
        raise InvalidManifest(f"unsupported manifest format {top['format']!r}")
    artists = top["artists"]
    if not isinstance(artists, list) or not 1 <= len(artists) <= 50:
        raise InvalidManifest("artists must be a list of 1 to 50 names")
    published_at = _text(top["published_at"], "published_at", 20, _TIME)
    try:
        parse_time(published_at)
    except ValueError:
        raise InvalidManifest("published_at is not a valid UTC time") from None
    video_fields = {"duration_ms", "frame_rate", "frames", "rotation"}
    media = _fields(top["media"], {"type", "width", "height", "sha256"} | (video_fields if video else set()), "media")
    if media["type"] not in MEDIA_TYPES:
        raise InvalidManifest("media.type is not a supported media type")
    timeline = timeline_regions = None
    if video:
        tl_obj = top["timeline"]
        optional_tl = {"regions"} & (tl_obj.keys() if isinstance(tl_obj, dict) else set())
        tl = _fields(tl_obj, {"interval_ms", "fingerprints"} | optional_tl, "timeline")
        if tl["interval_ms"] != TIMELINE_INTERVAL_MS:
            raise InvalidManifest(f"timeline.interval_ms must be {TIMELINE_INTERVAL_MS}")
        if not isinstance(tl["fingerprints"], list) or not 1 <= len(tl["fingerprints"]) <= TIMELINE_MAX:
            raise InvalidManifest(f"timeline.fingerprints must be a list of 1 to {TIMELINE_MAX} hashes")
        timeline = tuple(_text(h, "timeline fingerprint", 64, _HEX64) for h in tl["fingerprints"])
        if "regions" in tl:
            expected = len(timeline) * REGION_BYTES
            chars = -(-expected * 4 // 3)
            timeline_regions = _text(tl["regions"], "timeline.regions", chars, _B64URL)
            if len(timeline_regions) != chars:
                raise InvalidManifest(f"timeline.regions must hold {REGION_BYTES} bytes per position")
        if media["rotation"] not in (0, 90, 180, 270):
            raise InvalidManifest("media.rotation must be 0, 90, 180 or 270")
    fp_obj = top["fingerprint"]
    optional = {"variants", "colourfulness", "detail"} & (
        fp_obj.keys() if not video and isinstance(fp_obj, dict) else set()
    )
    fp = _fields(fp_obj, {"alg", "hash", "quality"} | (set() if video else {"grid"}) | optional, "fingerprint")
    variants = {}
    if "variants" in optional:
        if (
            not isinstance(fp["variants"], dict)
            or not 1 <= len(fp["variants"]) <= len(CROP_VARIANTS)
            or not fp["variants"].keys() <= CROP_VARIANTS.keys()
        ):
            raise InvalidManifest(f"fingerprint.variants must map some of {sorted(CROP_VARIANTS)} to hashes")
        variants = {name: _text(h, f"fingerprint.variants.{name}", 64, _HEX64) for name, h in fp["variants"].items()}
    c2pa_label = c2pa_sha256 = None
    if "c2pa" in top:
        credentials = _fields(top["c2pa"], {"manifest", "sha256"}, "c2pa")
        c2pa_label = _text(credentials["manifest"], "c2pa.manifest", 150, C2PA_LABEL)
        c2pa_sha256 = _text(credentials["sha256"], "c2pa.sha256", 64, _HEX64)
    sound = None
    if "sound" in top:
        heard = _fields(top["sound"], {"alg", "rate", "hop", "frames"}, "sound")
        if (heard["alg"], heard["rate"], heard["hop"]) != (SOUND_ALG, SOUND_SAMPLE_RATE, SOUND_HOP):
            raise InvalidManifest(f"sound must be {SOUND_ALG} at {SOUND_SAMPLE_RATE} Hz, a frame every {SOUND_HOP}")
        sound = _text(heard["frames"], "sound.frames", SOUND_MAX_CHARS, _B64URL)
        try:
            SoundPrint.decode(sound)
        except ValueError as exc:
            raise InvalidManifest(f"sound.frames is malformed ({exc})") from None
    wm_obj = top["watermark"]
    wm = _fields(wm_obj, {"codec", "version", "id"} | ({"presence"} & _keys(wm_obj)), "watermark")
    if "presence" in wm and video:
        raise InvalidManifest("watermark.presence is for photos")
    presence = _block_map(wm, "presence", "watermark.presence", media) if "presence" in wm else None
    detail = _block_map(fp, "detail", "fingerprint.detail", media) if "detail" in fp else None
    sig = _fields(top["signature"], {"alg", "value"}, "signature")
    if sig["alg"] != "Ed25519":
        raise InvalidManifest("signature.alg must be Ed25519")
    return Manifest(
        manifest_id=_text(top["manifest_id"], "manifest_id", 27, _ID),
        agency=_text(top["agency"], "agency", 64, AGENCY),
        key_id=_text(top["key_id"], "key_id", 16, _KEY_ID),
        title=_text(top["title"], "title"),
        artists=tuple(_text(a, "artist", 200) for a in artists),
        published_at=published_at,
        media=MediaInfo(
            type=media["type"],
            width=_int(media["width"], "media.width", 1, 1_000_000),
            height=_int(media["height"], "media.height", 1, 1_000_000),
            sha256=_text(media["sha256"], "media.sha256", 64, _HEX64),
            duration_ms=_int(media["duration_ms"], "media.duration_ms", 1, 4 * 3600 * 1000) if video else None,
            frame_rate=_text(media["frame_rate"], "media.frame_rate", 15, _RATE) if video else None,
            frames=_int(media["frames"], "media.frames", 1, 10_000_000) if video else None,
            rotation=media["rotation"] if video else None,
        ),
        fingerprint_alg=_text(fp["alg"], "fingerprint.alg", 40),
        fingerprint_hash=_text(fp["hash"], "fingerprint.hash", 64, _HEX64),
        fingerprint_quality=_int(fp["quality"], "fingerprint.quality", 0, 100),
        fingerprint_grid=None if video else _text(fp["grid"], "fingerprint.grid", 1366, _GRID),
        watermark_codec=_text(wm["codec"], "watermark.codec", 40),
        watermark_version=_int(wm["version"], "watermark.version", 1, 1000),
        watermark_id=_text(wm["id"], "watermark.id", 12, _WM_ID),
        timeline=timeline,
        timeline_regions=timeline_regions,
        sound=sound,
        fingerprint_variants=variants,
        watermark_presence=presence,
        fingerprint_detail=detail,
        colourfulness=_int(fp["colourfulness"], "fingerprint.colourfulness", 0, 255) if "colourfulness" in fp else None,
        c2pa_label=c2pa_label,
        c2pa_sha256=c2pa_sha256,
        signature=_text(sig["value"], "signature.value", 100, _B64URL),
    )
