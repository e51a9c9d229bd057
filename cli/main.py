"""The `realmark` command: keys, sign, verify.

Exit codes: 0 success / authentic, 1 any other verdict, 2 bad input or failure."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from realmark.deployment import Deployment
from realmark.errors import BadInput, InvalidReceipt, RealmarkError
from realmark.files import atomic_write
from realmark.keys import TrustList
from realmark.keys.keyring import check_agency
from realmark.keys.tokens import create_token
from realmark.media import sha256_file
from realmark.receipts import Receipt, check
from realmark.settings import Settings, cores
from signer import EncoderSettings, ProcessPool, Signer
from verifier import Verification, Verifier
from verifier.wording import DEFAULT_LANGUAGE, LANGUAGES

from . import batch
from .output import sign_to
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
    encoder = EncoderSettings(crf=args.crf, preset=args.preset)
    if args.out_dir is not None:
        return _sign_batch(args, deployment, encoder)
    if len(args.files) != 1 or Path(args.files[0]).is_dir() or args.output is None or args.metadata:
        raise RealmarkError("one file signs with -o OUTPUT; several files or a folder with --out-dir DIR")
    if args.title is None or not args.artist:
        raise RealmarkError("signing needs --title and --artist")
    bar = ProgressBar("signing", not args.json)
    try:
        key = deployment.keyring.signing_key(args.agency)
        # No index here: this process ends now, and the next one's index syncs from the store.
        # A long clip is signed in segments across the machine's cores.
        settings = deployment.settings
        pool = ProcessPool(settings.sign_processes, settings.segment_seconds)
        signer = Signer(deployment.store, key, encoder=encoder, segments=pool)
        result = sign_to(signer, Path(args.files[0]), Path(args.output), args.title, args.artist, bar)
    finally:
        bar.done()
    m = result.manifest
    _emit(
        args,
        {"manifest_id": m.manifest_id, "created": result.created, "output": args.output, "manifest": m.to_dict()},
        m.manifest_id if result.created else f"{m.manifest_id} (already signed; same manifest)",
    )
    return 0


def _sign_batch(args, deployment: Deployment, encoder: EncoderSettings) -> int:
    """Many files or folders into --out-dir (cli/batch.py): one line per file, exit 2 if
    any failed."""
    if args.output is not None:
        raise RealmarkError("give -o for one file, or --out-dir for a batch, not both")
    todo = batch.items(args.files, args.title, args.artist, args.metadata)
    deployment.keyring.signing_key(args.agency)  # no key, or several agencies: say so before starting
    bar = ProgressBar(f"signing {len(todo)} files", not args.json)
    try:
        if deployment.settings.broker_url:  # distributed mode: the workers sign
            if encoder != EncoderSettings() or args.jobs:
                raise RealmarkError(
                    "with REALMARK_BROKER_URL the workers sign: --crf, --preset and --jobs do not apply"
                )
            failed = batch.run_on_workers(
                todo,
                Path(args.out_dir),
                deployment=deployment,
                agency=args.agency,
                progress=bar,
                emit=batch.print_line(args.json),
            )
        else:
            failed = batch.run(
                todo,
                Path(args.out_dir),
                settings=deployment.settings,
                agency=args.agency,
                encoder=encoder,
                jobs=args.jobs or cores(),
                progress=bar,
                emit=batch.print_line(args.json),
            )
    finally:
        bar.done()
    if failed:
        print(f"realmark: {failed} of {len(todo)} files were not signed", file=sys.stderr)
    return EXIT_BAD_INPUT if failed else 0


def _describe(result: Verification, lang: str) -> str:
    text = f"{result.verdict.value.upper()}: {result.message(lang)}"
    for r in getattr(result.evidence.content, "ranges", None) or ():
        mapped = f" = original {r.original_start:.1f}-{r.original_end:.1f} s" if r.original_start is not None else ""
        text += f"\n  {r.clip_start:6.1f}-{r.clip_end:.1f} s  {r.kind}{mapped}"
    c = result.credentials
    if c is not None:
        failures = f" [{', '.join(c.failures)}]" if c.failures else ""
        text += f"\nC2PA: {c.state}{failures}. {c.message}"
    return text


def cmd_verify(args, deployment: Deployment) -> int:
    if args.lang not in LANGUAGES:
        raise BadInput(f"unknown language {args.lang!r}: one of {', '.join(LANGUAGES)}")
    path = Path(args.file)
    if args.receipt:  # the key first: making it changes the trust list's version
        deployment.receipts.key()
        trust_version = deployment.trust.version
    bar = ProgressBar("verifying", not args.json)
    try:
        result = Verifier(deployment.store, deployment.trust, deployment.index).verify(path, progress=bar)
    finally:
        bar.done()
    answer = result.to_dict(args.lang)
    text = _describe(result, args.lang)
    if args.receipt:
        receipt = deployment.receipts.issue(answer, sha256_file(path), path.stat().st_size, trust_version)
        answer["receipt"] = receipt.to_dict()
        atomic_write(Path(args.receipt), json.dumps(receipt.to_dict(), indent=2).encode() + b"\n")
        text += f"\nReceipt {receipt.id} ({receipt.issued_at}) written to {args.receipt}"
    _emit(args, answer, text)
    return result.exit_code


def cmd_receipt_verify(args, deployment: Deployment) -> int:
    """Check a receipt offline: exit 0 when a receipt key of the trust list signed it as it
    is, 1 when not, 2 when the file is no receipt at all."""
    receipt = _read_receipt(Path(args.file))
    trust = TrustList.load(Path(args.trust)) if args.trust else deployment.trust.snapshot()
    try:
        check(receipt, trust)
    except InvalidReceipt as exc:
        _emit(args, {"valid": False, "reason": exc.reason, "error": str(exc)}, f"NOT VALID: {exc}")
        return 1
    same_list = receipt.trust_list == trust.version
    payload = {"valid": True, "receipt": receipt.to_dict(), "same_trust_list": same_list}
    text = (
        f"VALID: receipt {receipt.id}, issued {receipt.issued_at}: file sha256:{receipt.file_sha256} was "
        f"{receipt.verdict} ({', '.join(receipt.reasons) or 'no reasons'})"
        + (f", manifest {receipt.manifest_id} of {receipt.agency}" if receipt.manifest_id else "")
        + (
            "; checked against the trust list it names"
            if same_list
            else "; the trust list given is not the one it names (later or other; the key is on it)"
        )
    )
    _emit(args, payload, text)
    return 0


def _read_receipt(path: Path) -> Receipt:
    """A receipt from a file holding it alone, a verify answer, or GET /v1/receipts/{id}'s body."""
    try:
        obj = json.loads(path.read_bytes())
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadInput(f"{path} is not JSON") from None
    if isinstance(obj, dict) and isinstance(obj.get("receipt"), dict):
        obj = obj["receipt"]
    try:
        return Receipt.from_dict(obj)
    except InvalidReceipt as exc:
        raise BadInput(f"{path}: {exc}") from None


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


def cmd_worker(args, deployment: Deployment) -> int:
    """Run signing jobs until SIGINT or SIGTERM; a running job finishes first (or, past
    a timeout, is handed to another worker)."""
    import logging
    import signal
    import threading

    from service.jobs import JobEngine

    # What this worker signed, one line each (Dramatiq's own messages stay at warnings).
    logging.basicConfig(level=logging.WARNING, format="realmark worker: %(message)s", stream=sys.stderr)
    logging.getLogger("service.jobs").setLevel(logging.INFO)

    if args.threads < 1:
        raise RealmarkError("--threads must be at least 1")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    engine = JobEngine(deployment, args.threads)
    engine.run_worker()
    where = deployment.settings.broker_url or "the embedded broker in " + str(deployment.settings.home)
    print(f"realmark worker: {args.threads} thread(s), jobs from {where}", file=sys.stderr, flush=True)
    stop.wait()
    engine.close()
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
    p = sub.add_parser("worker", help="run video signing jobs (from $REALMARK_BROKER_URL, or the embedded broker)")
    p.add_argument("--threads", type=int, default=1, help="jobs at once (default 1: x264 already uses every core)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("sign", help="watermark and sign official photos and videos")
    p.add_argument("files", nargs="+", metavar="FILE", help="JPEG, PNG, WebP, MP4, MOV, WebM or MKV; or a folder")
    p.add_argument("-o", "--output", help="the signed file (one input)")
    p.add_argument("--out-dir", help="sign a batch: each input to its name (or path in its folder) here")
    p.add_argument("--title", help="the title (of every file in a batch)")
    p.add_argument("--artist", action="append", help="repeat for each artist")
    p.add_argument(
        "--metadata", help="a batch's details per file: CSV (file,title,artist; artists split by ;) or JSON lines"
    )
    p.add_argument("--jobs", type=int, default=0, help="a batch's worker processes (default: one per core)")
    p.add_argument("--agency", help="needed only when several agencies have keys here")
    p.add_argument("--crf", type=int, default=18, help="videos: x264 CRF (default 18, visually lossless)")
    p.add_argument("--preset", default="medium", help="videos: x264 preset (default medium)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("verify", help="check whether a photo or clip is official")
    p.add_argument("file")
    p.add_argument("--receipt", metavar="OUT", help="write a signed receipt of this check (kept here too, as /r/<id>)")
    p.add_argument("--lang", default=DEFAULT_LANGUAGE, help=f"the sentence's language: {', '.join(LANGUAGES)}")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)

    receipts = sub.add_parser("receipt", help="verification receipts").add_subparsers(
        dest="receipt_command", required=True
    )
    p = receipts.add_parser("verify", help="check a receipt's signature offline (exit 0 valid, 1 not)")
    p.add_argument("file", help="the receipt JSON (alone, in a verify answer, or from GET /v1/receipts/{id})")
    p.add_argument("--trust", help="the issuing deployment's trust.json (default: this one's)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_receipt_verify)
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
