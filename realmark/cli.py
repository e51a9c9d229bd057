"""The `realmark` command: keys, sign, verify.

Exit codes: 0 success / authentic, 1 any other verdict, 2 bad input or failure."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from realmark.errors import RealmarkError
from realmark.keys.keyring import PASSPHRASE_ENV
from realmark.settings import Settings

EXIT_BAD_INPUT = 2


def _read_input(path: str) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise RealmarkError(f"{path}: no such file")
    from realmark.media.image import MAX_FILE_BYTES

    if p.stat().st_size > MAX_FILE_BYTES:
        raise RealmarkError(f"{path}: the file is larger than the {MAX_FILE_BYTES}-byte limit")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise RealmarkError(f"{path}: cannot read ({exc.strerror})") from None


def _emit(args, payload: dict, text: str) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2) if args.json else text)


def cmd_keys_init(args, settings: Settings) -> int:
    passphrase = os.environ.get(PASSPHRASE_ENV)
    entry = settings.keyring().create(args.agency, rotate=args.rotate, passphrase=passphrase.encode() if passphrase else None)
    _emit(
        args,
        {"agency": entry.agency, "key_id": entry.key_id, "public_key": entry.public_key, "trust_list": str(settings.keyring().trust_path), "encrypted": bool(passphrase)},
        f"created signing key {entry.key_id} for {entry.agency}\ntrust list: {settings.keyring().trust_path}",
    )
    return 0


def cmd_keys_list(args, settings: Settings) -> int:
    entries = settings.trust().entries
    rows = [e.__dict__ for e in entries]
    lines = [
        f"{e.key_id}  {e.agency:<20} since {e.not_before}"
        + (f"  retired {e.not_after}" if e.not_after else "")
        + (f"  REVOKED {e.revoked_at}" if e.revoked_at else "")
        for e in entries
    ]
    _emit(args, {"keys": rows}, "\n".join(lines) or "no keys")
    return 0


def cmd_keys_revoke(args, settings: Settings) -> int:
    entry = settings.keyring().revoke(args.key_id, args.reason)
    _emit(args, entry.__dict__, f"revoked key {entry.key_id} of {entry.agency}")
    return 0


class ProgressBar:
    """A one-line progress bar on stderr, shown only on a terminal and never with --json."""

    def __init__(self, label: str, enabled: bool):
        self.label, self.enabled, self.shown = label, enabled and sys.stderr.isatty(), -1

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if self.enabled and percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\r{self.label} [{bar:<25}] {percent:3d}%")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self.shown >= 0:
            sys.stderr.write("\n")


def _is_video(head: bytes) -> bool:
    from realmark.media.video import sniff

    return sniff(head) is not None


def _head(path: str) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise RealmarkError(f"{path}: no such file")
    try:
        with open(p, "rb") as f:
            return f.read(64)
    except OSError as exc:
        raise RealmarkError(f"{path}: cannot read ({exc.strerror})") from None


def cmd_sign(args, settings: Settings) -> int:
    from signer import EncoderSettings, sign, sign_video

    video = _is_video(_head(args.photo))
    data = None if video else _read_input(args.photo)
    out = Path(args.output)
    if out.resolve() == Path(args.photo).resolve():
        raise RealmarkError("the output must not overwrite the input")
    encoder = EncoderSettings(crf=args.crf, preset=args.preset) if video else None
    # Prove the output can be written *before* anything is stored.
    try:
        fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", prefix=f".{out.name}.", suffix=".part")
        os.fchmod(fd, 0o644)  # a published file: readable like any other
    except OSError as exc:
        raise RealmarkError(f"{args.output}: cannot write there ({exc.strerror})") from None
    bar = ProgressBar("signing", not args.json)
    try:
        key = settings.keyring().signing_key(args.agency)
        if video:
            os.close(fd)
            result = sign_video(Path(args.photo), Path(tmp), title=args.title, artists=args.artist, key=key, store=settings.store(), settings=encoder, progress=bar)
        else:
            result = sign(data, title=args.title, artists=args.artist, key=key, store=settings.store())
            with os.fdopen(fd, "wb") as f:
                f.write(result.data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        bar.done()
    m = result.manifest
    _emit(
        args,
        {"manifest_id": m.manifest_id, "created": result.created, "output": str(out), "manifest": m.to_dict()},
        m.manifest_id if result.created else f"{m.manifest_id} (already signed; same manifest)",
    )
    return 0


def cmd_verify(args, settings: Settings) -> int:
    from verifier import verify, verify_video

    store = settings.store()
    if _is_video(_head(args.file)):
        bar = ProgressBar("verifying", not args.json)
        try:
            result = verify_video(Path(args.file), store=store, trust=settings.trust(), index=settings.index(store), progress=bar)
        finally:
            bar.done()
    else:
        data = _read_input(args.file)
        result = verify(data, store=store, trust=settings.trust(), index=settings.index(store))
    text = f"{result.verdict.value.upper()}: {result.message}"
    for r in result.evidence.get("content", {}).get("ranges", []):
        mapped = f" = original {r['original_start']:.1f}-{r['original_end']:.1f} s" if "original_start" in r else ""
        text += f"\n  {r['clip_start']:6.1f}-{r['clip_end']:.1f} s  {r['kind']}{mapped}"
    if result.credentials:
        failures = f" [{', '.join(result.credentials['failures'])}]" if result.credentials["failures"] else ""
        text += f"\nC2PA: {result.credentials['state']}{failures}. {result.credentials['message']}"
    _emit(args, result.to_dict(), text)
    return result.exit_code


def cmd_tokens_create(args, settings: Settings) -> int:
    from realmark.keys.keyring import check_agency
    from realmark.keys.tokens import create_token

    check_agency(args.agency)
    if settings.keyring().active_entry(args.agency) is None:
        raise RealmarkError(f"{args.agency} has no signing key here: run `realmark keys init --agency {args.agency}` first")
    token = create_token(settings.store(), args.agency)
    _emit(args, {"agency": args.agency, "token": token}, f"{token}\n(shown once: the service keeps only its hash)")
    return 0


def cmd_serve(args, settings: Settings) -> int:
    import uvicorn

    from service import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", proxy_headers=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="realmark", description="Sign and verify official photos.")
    sub = parser.add_subparsers(dest="command", required=True)

    keys = sub.add_parser("keys", help="agency signing keys").add_subparsers(dest="keys_command", required=True)
    p = keys.add_parser("init", help="create an agency's signing key (passphrase from $REALMARK_KEY_PASSPHRASE)")
    p.add_argument("--agency", required=True)
    p.add_argument("--rotate", action="store_true", help="replace the agency's current key (it stays valid for what it signed)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_keys_init)
    p = keys.add_parser("list", help="keys on the trust list")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_keys_list)
    p = keys.add_parser("revoke", help="revoke a key: everything it signed becomes invalid")
    p.add_argument("key_id")
    p.add_argument("--reason", default="")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_keys_revoke)

    tokens = sub.add_parser("tokens", help="API tokens for the signing API").add_subparsers(dest="tokens_command", required=True)
    p = tokens.add_parser("create", help="a new token that signs as AGENCY (stored hashed)")
    p.add_argument("--agency", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tokens_create)

    p = sub.add_parser("serve", help="run the HTTP service (signing API, verify API and page)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("sign", help="watermark and sign an official photo or video")
    p.add_argument("photo", metavar="FILE", help="JPEG, PNG, WebP, MP4, MOV, WebM or MKV")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--artist", action="append", required=True, help="repeat for each artist")
    p.add_argument("--agency", help="needed only when several agencies have keys here")
    p.add_argument("--crf", type=int, default=18, help="videos: x264 CRF (default 18, visually lossless)")
    p.add_argument("--preset", default="medium", help="videos: x264 preset (default medium)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("verify", help="check whether a photo or clip is official")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, Settings.from_env())
    except RealmarkError as exc:
        message = str(exc)
    except KeyboardInterrupt:
        message = "interrupted; nothing half-written was kept"
    except Exception as exc:  # a bug: still one line and exit 2, never a traceback
        message = f"unexpected {type(exc).__name__}: {exc}"
    if getattr(args, "json", False):
        print(json.dumps({"error": message}, ensure_ascii=False))
    print(f"realmark: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
