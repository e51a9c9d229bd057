"""`realmark sign` on a folder or many files (issue 15's batch signing): signed in
parallel worker processes, one JSON line per file, a failing file reported while the
batch goes on, and a second run that signs nothing again."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from bench import attacks
from bench.samples import photos, videos


@pytest.fixture
def release(tmp_path):
    """A release folder: three photos (one in a subfolder), a short clip, a damaged JPEG,
    and files that are not the agency's media (a hidden file, notes)."""
    folder = tmp_path / "release"
    (folder / "teaser").mkdir(parents=True)
    for name, where in (("astronaut", "a.png"), ("coffee", "b.jpg"), ("chelsea", "teaser/c.png")):
        Image.fromarray(photos.fit(photos.real(name), 640, 480)).save(folder / where)
    frames = [photos.fit(rgb, 480, 270) for _, rgb in attacks._video_frames(videos.real(videos.BUNNY), 0, 1)]
    attacks.write_clip(frames, folder / "teaser" / "clip.mp4", 25, crf=20)
    (folder / "broken.jpg").write_bytes((folder / "b.jpg").read_bytes()[:300])
    (folder / ".DS_Store").write_bytes(b"\0" * 64)
    (folder / "notes.txt").write_text("captions for the release")
    return folder


def _lines(out: str) -> dict[str, dict]:
    return {json.loads(line)["file"].rsplit("release/", 1)[1]: json.loads(line) for line in out.splitlines()}


def test_a_folder_is_signed_in_parallel_a_failure_reported_and_a_rerun_signs_nothing_again(agency_cli, release):
    out_dir = release.parent / "signed"
    argv = ("sign", release, "--out-dir", out_dir, "--title", "Comeback", "--artist", "IVE", "--jobs", "2", "--json")
    code, out, err = agency_cli(*argv)
    assert code == 2 and "1 of 5 files were not signed" in err
    lines = _lines(out)
    assert sorted(lines) == ["a.png", "b.jpg", "broken.jpg", "teaser/c.png", "teaser/clip.mp4"]
    assert not lines["broken.jpg"]["ok"] and "damaged" in lines["broken.jpg"]["error"]
    signed = {name: line for name, line in lines.items() if line["ok"]}
    assert all(line["created"] for line in signed.values())
    assert len({line["manifest_id"] for line in signed.values()}) == 4
    assert sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()) == [
        "a.png",
        "b.jpg",
        "teaser/c.png",
        "teaser/clip.mp4",
    ]
    for name in ("b.jpg", "teaser/clip.mp4"):
        code, body = agency_cli.json("verify", out_dir / name)
        assert (code, body["verdict"], body["manifest"]["title"]) == (0, "authentic", "Comeback")
        assert body["manifest"]["manifest_id"] == signed[name]["manifest_id"]

    published = {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    stored = agency_cli.stored_files()
    code, out, _ = agency_cli(*argv)  # after an interruption, the same command again
    again = _lines(out)
    assert code == 2
    for name, line in signed.items():
        assert (again[name]["manifest_id"], again[name]["created"]) == (line["manifest_id"], False)
    assert {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()} == published
    assert agency_cli.stored_files() == stored


def test_per_file_details_come_from_a_metadata_file(agency_cli, release, tmp_path):
    (release / "broken.jpg").unlink()
    (release / "teaser" / "clip.mp4").unlink()
    sheet = tmp_path / "release.csv"
    sheet.write_text(
        "file,title,artist\na.png,Concept photo 1,IVE\nb.jpg,Concept photo 2,Wonyoung;Yujin\nteaser/c.png,Teaser,IVE\n"
    )
    code, out, err = agency_cli("sign", release, "--out-dir", tmp_path / "out", "--metadata", sheet, "--json")
    assert code == 0, err
    titles = {}
    for name in ("a.png", "b.jpg", "teaser/c.png"):
        _, body = agency_cli.json("verify", tmp_path / "out" / name)
        titles[name] = (body["manifest"]["title"], body["manifest"]["artists"])
    assert titles == {
        "a.png": ("Concept photo 1", ["IVE"]),
        "b.jpg": ("Concept photo 2", ["Wonyoung", "Yujin"]),
        "teaser/c.png": ("Teaser", ["IVE"]),
    }

    lines = tmp_path / "more.jsonl"
    lines.write_text(json.dumps({"file": "a.png", "title": "Concept photo 1", "artists": ["IVE"]}) + "\n")
    code, _, err = agency_cli("sign", release, "--out-dir", tmp_path / "out2", "--metadata", lines)
    assert code == 2 and "the metadata file has no row for b.jpg" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--title", "T", "--artist", "A"), "several files or a folder with --out-dir"),
        (("--out-dir", "{out}"), "needs --title and --artist for all its files, or --metadata"),
        (("--out-dir", "{out}", "--title", "T", "--artist", "A", "--metadata", "x.csv"), "not both"),
    ],
    ids=["folder_without_out_dir", "no_details", "details_twice"],
)
def test_a_batch_that_cannot_start_stores_nothing(agency_cli, release, tmp_path, argv, message):
    argv = [a.format(out=tmp_path / "out") for a in argv]
    code, _, err = agency_cli("sign", release, *argv)
    assert code == 2 and message in err
    assert agency_cli.stored_files() == {}
    assert not (tmp_path / "out").exists()


def test_an_interrupted_batch_leaves_nothing_half_written_and_resumes(agency_cli, release, tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) after the first file:
    the workers stop, no partial output stays, and the same command finishes the rest."""
    import os
    import signal
    import subprocess
    import sys

    for n in range(6):  # more files than workers, so some are still to do
        Image.fromarray(photos.fit(photos.real("rocket"), 900 + 40 * n, 700)).save(release / f"more{n}.png")
    (release / "broken.jpg").unlink()
    out_dir = tmp_path / "out"
    argv = [sys.executable, "-m", "cli", "sign", str(release), "--out-dir", str(out_dir)]
    argv += ["--title", "T", "--artist", "A", "--jobs", "2", "--json"]
    env = {**os.environ, "REALMARK_HOME": str(agency_cli.home)}
    run = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    first = json.loads(run.stdout.readline())
    os.killpg(run.pid, signal.SIGINT)
    rest, err = run.communicate(timeout=120)
    assert run.returncode == 2 and b"interrupted" in err and b"Traceback" not in err
    done = [first] + [json.loads(line) for line in rest.splitlines() if b'"file"' in line]
    assert 1 <= len(done) < 10 and all(line["ok"] for line in done)
    on_disk = {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()}
    reported = {line["output"].split("/out/", 1)[1] for line in done}
    assert not any(name.endswith(".part") or "/." in f"/{name}" for name in on_disk)  # nothing partial
    # Every reported file is in place; a worker (of 2) may have put its finished file in
    # place as the interrupt came, before the batch reported it: whole, never part.
    assert reported <= on_disk and len(on_disk - reported) <= 2
    for name in on_disk - reported:
        Image.open(out_dir / name).load()  # decodes whole: a truncated file would raise

    code, out, _ = agency_cli("sign", release, "--out-dir", out_dir, "--title", "T", "--artist", "A", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 10
    # Reported files come back as signed before; so may the one or two a worker had stored
    # when the interrupt came, whose output was discarded: stored, never signed twice.
    assert len(done) <= sum(not line["created"] for line in lines) <= len(done) + 2
    manifests = [k for k in agency_cli.stored_files() if k.startswith("manifests/")]
    assert len(manifests) == 10  # one record per file, photos and the clip alike


STOPPED_INSIDE_A_CALLBACK = """
import ctypes, sys, time
from pathlib import Path
from cli import batch
from cli.output import partial_files

batch.stop_on_terminate()  # as a batch worker starts (batch._start)
partial = Path(sys.argv[1])
partial.write_bytes(b"half a photo")
partial_files.add(partial)

def compare(a, b):  # C calls back into Python, as c2pa does for every read and write
    print("in the callback", flush=True)
    time.sleep(3)  # the stop comes here
    return 0

compare_c = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(compare)
pair = (ctypes.c_int * 2)(2, 1)
ctypes.CDLL(None).qsort(pair, 2, ctypes.sizeof(ctypes.c_int), compare_c)
print("went on", flush=True)
while True:  # waiting for the next file, as a pool worker does
    time.sleep(0.1)
"""


def test_a_worker_whose_stop_is_dropped_inside_a_c_callback_still_ends_and_removes_its_partial_file(tmp_path):
    """c2pa reads and writes through ctypes callbacks, and an exit raised inside one is
    printed and dropped: the worker went on, and the interrupted batch waited for it
    forever. It must end anyway, within its grace, its half-written file removed."""
    import signal
    import subprocess
    import sys
    import time

    from cli.batch import STOP_GRACE_S

    partial = tmp_path / ".photo.jpg.x.part"
    argv = [sys.executable, "-c", STOPPED_INSIDE_A_CALLBACK, str(partial)]
    worker = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert worker.stdout.readline() == b"in the callback\n"
    worker.send_signal(signal.SIGTERM)
    started = time.monotonic()
    try:
        out, err = worker.communicate(timeout=STOP_GRACE_S + 30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        pytest.fail("the stopped worker went on running")
    assert b"went on" in out  # the exit was dropped, as in c2pa
    assert b"Traceback" not in err  # and not shown: the worker ends all the same
    assert worker.returncode == 1 and time.monotonic() - started < STOP_GRACE_S + 10
    assert not partial.exists()
