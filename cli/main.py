"""The `realmark` command: keys, sign, verify.

Exit codes: 0 success / authentic, 1 any other verdict, 2 bad input or failure."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from realmark.deployment import Deployment
from realmark.errors import RealmarkError
from realmark.keys.keyring import check_agency
from realmark.keys.tokens import create_token
from realmark.settings import Settings
from signer import EncoderSettings, Signer
from verifier import Verification, Verifier

from .progress import ProgressBar

EXIT_BAD_INPUT = 2


def _emit(args, payload: dict, text: str) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2) if args.json else text)


def cmd_keys_init(args, deployment: Deployment) -> int:
    keyring = deployment.keyring
    entry = keyring.create(args.agency, rotate=args.rotate)
    payload = {
        "agency": entry.agency,
        "key_id": entry.key_id,
        "public_key": entry.public_key,
        "trust_list": str(keyring.trust_path),
        "encrypted": bool(keyring.passphrase),
    }
    _emit(args, payload, f"created signing key {entry.key_id} for {entry.agency}\ntrust list: {keyring.trust_path}")
    return 0


def cmd_keys_list(args, deployment: Deployment) -> int:
    entries = deployment.trust.entries
    lines = [
        f"{e.key_id}  {e.agency:<20} since {e.not_before}"
        + (f"  retired {e.not_after}" if e.not_after else "")
        + (f"  REVOKED {e.revoked_at}" if e.revoked_at else "")
        for e in entries
    ]
    _emit(args, {"keys": [e.__dict__ for e in entries]}, "\n".join(lines) or "no keys")
    return 0


def cmd_keys_revoke(args, deployment: Deployment) -> int:
    entry = deployment.keyring.revoke(args.key_id, args.reason)
    _emit(args, entry.__dict__, f"revoked key {entry.key_id} of {entry.agency}")
    return 0


def cmd_sign(args, deployment: Deployment) -> int:
    source, out = Path(args.file), Path(args.output)
    if out.resolve() == source.resolve():
        raise RealmarkError("the output must not overwrite the input")
    # Prove the output can be written *before* anything is stored.
    try:
        fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", prefix=f".{out.name}.", suffix=".part")
        os.fchmod(fd, 0o644)  # a published file: readable like any other
        os.close(fd)
    except OSError as exc:
        raise RealmarkError(f"{args.output}: cannot write there ({exc.strerror})") from None
    bar = ProgressBar("signing", not args.json)
    try:
        key = deployment.keyring.signing_key(args.agency)
        # No index here: this process ends now, and the next one's index syncs from the store.
        signer = Signer(deployment.store, key, encoder=EncoderSettings(crf=args.crf, preset=args.preset))
        result = signer.sign(source, Path(tmp), title=args.title, artists=args.artist, progress=bar)
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


def _describe(result: Verification) -> str:
    text = f"{result.verdict.value.upper()}: {result.message()}"
    for r in getattr(result.evidence.content, "ranges", None) or ():
        mapped = f" = original {r.original_start:.1f}-{r.original_end:.1f} s" if r.original_start is not None else ""
        text += f"\n  {r.clip_start:6.1f}-{r.clip_end:.1f} s  {r.kind}{mapped}"
    c = result.credentials
    if c is not None:
        failures = f" [{', '.join(c.failures)}]" if c.failures else ""
        text += f"\nC2PA: {c.state}{failures}. {c.message}"
    return text


def cmd_verify(args, deployment: Deployment) -> int:
    bar = ProgressBar("verifying", not args.json)
    try:
        result = Verifier(deployment.store, deployment.trust, deployment.index).verify(Path(args.file), progress=bar)
    finally:
        bar.done()
    _emit(args, result.to_dict(), _describe(result))
    return result.exit_code


def cmd_tokens_create(args, deployment: Deployment) -> int:
    check_agency(args.agency)
    if deployment.keyring.active_entry(args.agency) is None:
        raise RealmarkError(
            f"{args.agency} has no signing key here: run `realmark keys init --agency {args.agency}` first"
        )
    token = create_token(deployment.store, args.agency)
    _emit(args, {"agency": args.agency, "token": token}, f"{token}\n(shown once: the service keeps only its hash)")
    return 0


def cmd_serve(args, deployment: Deployment) -> int:
    import uvicorn

    from service import create_app

    uvicorn.run(create_app(deployment), host=args.host, port=args.port, log_level="info", proxy_headers=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="realmark", description="Sign and verify official photos.")
    sub = parser.add_subparsers(dest="command", required=True)

    keys = sub.add_parser("keys", help="agency signing keys").add_subparsers(dest="keys_command", required=True)
    p = keys.add_parser("init", help="create an agency's signing key (passphrase from $REALMARK_KEY_PASSPHRASE)")
    p.add_argument("--agency", required=True)
    p.add_argument(
        "--rotate", action="store_true", help="replace the agency's current key (it stays valid for what it signed)"
    )
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

    tokens = sub.add_parser("tokens", help="API tokens for the signing API").add_subparsers(
        dest="tokens_command", required=True
    )
    p = tokens.add_parser("create", help="a new token that signs as AGENCY (stored hashed)")
    p.add_argument("--agency", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tokens_create)

    p = sub.add_parser("serve", help="run the HTTP service (signing API, verify API and page)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("sign", help="watermark and sign an official photo or video")
    p.add_argument("file", metavar="FILE", help="JPEG, PNG, WebP, MP4, MOV, WebM or MKV")
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
        return args.func(args, Deployment(Settings.from_env()))
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
