"""Findings, kept in the broker's server (service/jobs): one record per agency and file
hash, so one viral fake uploaded ten thousand times is one finding with a count.

- `realmark:finding:<agency>:<sha256>`: a hash: the finding (JSON, as first seen),
  `count`, `first_seen`, `last_seen`;
- `realmark:findings:<agency>`: the agency's findings, by when each was last seen;
- new findings are rate-limited per agency (FINDINGS_PER_MINUTE): past it, a flood of
  distinct fakes is counted in `realmark:findings-dropped:<agency>`, not listed one by one.
  A sighting of a known finding is always counted.

A finding holds the first receipt's id, the verdict and reasons, the changed boxes and
ranges, hashes, and the kept upload's store key only when its submitter consented:
never the upload itself, never who sent it. Findings are kept until an operator removes
them: they are evidence."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis

from realmark.errors import JobsUnavailable

log = logging.getLogger(__name__)
# New findings an agency's feed takes a minute: a legal team reads findings, and an
# attacker sending distinct fakes must not bury the viral one.
FINDINGS_PER_MINUTE = 120
FINDING_VERDICTS = ("altered", "forged")

_RECORD = """
local now, record, limit, member = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'count', 1)
  redis.call('HSET', KEYS[1], 'last_seen', now)
  redis.call('ZADD', KEYS[2], now, member)
  return 1
end
local n = redis.call('INCR', KEYS[3])
if n == 1 then redis.call('EXPIRE', KEYS[3], 120) end
if n > limit then
  redis.call('INCR', KEYS[4])
  return 0
end
redis.call('HSET', KEYS[1], 'record', record, 'count', 1, 'first_seen', now, 'last_seen', now)
redis.call('ZADD', KEYS[2], now, member)
return 2
"""


@dataclass(frozen=True)
class Finding:
    agency: str
    sha256: str  # the copy's
    verdict: str
    reasons: tuple[str, ...]
    manifest_id: str | None
    title: str | None
    receipt_id: str  # the first receipt: its record holds the whole answer
    boxes: tuple[dict, ...]  # changed regions, in the official picture's pixels
    ranges: tuple[dict, ...]  # a clip's foreign, changed and sound-changed stretches
    upload_key: str | None = None  # the kept upload, only with its submitter's consent
    count: int = 1
    first_seen: float = 0.0
    last_seen: float = 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["reasons"], out["boxes"], out["ranges"] = list(self.reasons), list(self.boxes), list(self.ranges)
        return out


def finding_of(answer: dict, receipt: dict, upload_key: str | None = None) -> Finding | None:
    """The finding a verify answer makes, or None: every `altered` or `forged` answer about
    an agency's asset, and every `likely_authentic` copy with changed regions."""
    manifest = answer.get("manifest") or {}
    evidence = answer.get("evidence") or {}
    content = evidence.get("content") or {}
    appearance = evidence.get("appearance") or {}  # its match's fields, when it found one
    boxes = content.get("changed_regions") or appearance.get("changed_regions") or []
    verdict = answer["verdict"]
    if not manifest.get("agency") or not (verdict in FINDING_VERDICTS or (verdict == "likely_authentic" and boxes)):
        return None
    ranges = [dict(r) for r in content.get("ranges") or [] if r.get("kind") in ("foreign", "changed")]
    sound = evidence.get("sound") or {}
    ranges += [{**r, "kind": "sound_changed"} for r in sound.get("ranges") or [] if r.get("kind") == "changed"]
    return Finding(
        agency=manifest["agency"],
        sha256=receipt["file_sha256"],
        verdict=verdict,
        reasons=tuple(answer["reasons"]),
        manifest_id=manifest.get("manifest_id"),
        title=manifest.get("title"),
        receipt_id=receipt["id"],
        boxes=tuple(boxes),
        ranges=tuple(ranges),
        upload_key=upload_key,
    )


class FindingBook:
    """`client` gives the broker server's connection (the embedded one is started on
    first use); every failure to reach it is JobsUnavailable."""

    def __init__(self, client: Callable[[], redis.Redis], per_minute: int = FINDINGS_PER_MINUTE):
        self._client, self.per_minute = client, per_minute
        self._script = None

    def _call(self, fn):
        try:
            return fn(self._client())
        except redis.RedisError as exc:
            raise JobsUnavailable(f"the findings store (the job broker) cannot be reached ({exc})") from None

    def record(self, finding: Finding, now: float | None = None) -> bool:
        """Count this sighting; False when it was a new finding past the rate limit."""
        now = time.time() if now is None else now
        keys = (
            _key(finding.agency, finding.sha256),
            _index(finding.agency),
            f"realmark:findings-rate:{finding.agency}:{int(now // 60)}",
            _dropped(finding.agency),
        )
        record = json.dumps(finding.to_dict(), ensure_ascii=False)

        def run(r: redis.Redis):
            if self._script is None:
                self._script = r.register_script(_RECORD)
            return self._script(keys=keys, args=(repr(now), record, self.per_minute, finding.sha256), client=r)

        return self._call(run) != 0

    def list(self, agency: str, limit: int = 1000) -> list[Finding]:
        """The agency's findings, the most recently seen first."""

        def run(r: redis.Redis):
            members = r.zrevrange(_index(agency), 0, limit - 1)
            pipe = r.pipeline()
            for member in members:
                pipe.hgetall(_key(agency, member.decode()))
            return pipe.execute()

        return [f for f in (_parse(raw) for raw in self._call(run)) if f is not None]

    def get(self, agency: str, sha256: str) -> Finding | None:
        return _parse(self._call(lambda r: r.hgetall(_key(agency, sha256))))

    def dropped(self, agency: str) -> int:
        """New findings not listed since the feed began, past the rate limit."""
        return int(self._call(lambda r: r.get(_dropped(agency))) or 0)


def _key(agency: str, sha256: str) -> str:
    return f"realmark:finding:{agency}:{sha256}"


def _index(agency: str) -> str:
    return f"realmark:findings:{agency}"


def _dropped(agency: str) -> str:
    return f"realmark:findings-dropped:{agency}"


def _parse(raw: dict) -> Finding | None:
    if not raw:
        return None
    obj = json.loads(raw[b"record"])
    return Finding(
        **{
            **obj,
            "reasons": tuple(obj["reasons"]),
            "boxes": tuple(obj["boxes"]),
            "ranges": tuple(obj["ranges"]),
            "count": int(raw[b"count"]),
            "first_seen": float(raw[b"first_seen"]),
            "last_seen": float(raw[b"last_seen"]),
        }
    )
