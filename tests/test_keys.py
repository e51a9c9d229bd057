from __future__ import annotations

import stat

import pytest

from bench.samples import photos
from realmark.errors import BadInput, KeyProblem
from realmark.keys import Keyring


def test_init_creates_private_key_readable_by_owner_only(cli):
    code, body = cli.json("keys", "init", "--agency", "HYBE")
    assert code == 0
    key_file = cli.home / "keys" / "HYBE" / f"{body['key_id']}.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert b"PRIVATE KEY" in key_file.read_bytes()
    trust = (cli.home / "trust.json").read_text()
    assert body["key_id"] in trust and "PRIVATE" not in trust


def test_second_init_without_rotate_is_refused(cli):
    assert cli("keys", "init", "--agency", "HYBE")[0] == 0
    code, _, err = cli("keys", "init", "--agency", "HYBE")
    assert code == 2 and "--rotate" in err


@pytest.mark.parametrize("name", ["", "../etc", "a/b", ".hidden", "x" * 65])
def test_agency_names_cannot_escape_the_key_folder(tmp_path, name):
    with pytest.raises(BadInput):
        Keyring(tmp_path).create(name)
    assert not (tmp_path / "keys").exists() or not any((tmp_path / "keys").iterdir())


def test_passphrase_protected_key(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("REALMARK_KEY_PASSPHRASE", "correct horse")
    code, body = cli.json("keys", "init", "--agency", "Cube")
    assert code == 0 and body["encrypted"] is True
    pem = (cli.home / "keys" / "Cube" / f"{body['key_id']}.pem").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert b"ENCRYPTED PRIVATE KEY" in (cli.home / "ca" / "root-key.pem").read_bytes()  # the C2PA root too
    src = tmp_path / "p.jpg"
    src.write_bytes(photos.encode(photos.fit(photos.real("coffee"), 640, 480)))

    monkeypatch.delenv("REALMARK_KEY_PASSPHRASE")
    code, _, err = cli("sign", src, "-o", tmp_path / "o.jpg", "--title", "t", "--artist", "a")
    assert code == 2 and "REALMARK_KEY_PASSPHRASE" in err
    monkeypatch.setenv("REALMARK_KEY_PASSPHRASE", "wrong")
    code, _, err = cli("sign", src, "-o", tmp_path / "o.jpg", "--title", "t", "--artist", "a")
    assert code == 2 and "wrong passphrase" in err
    assert cli.stored_files() == {}
    monkeypatch.setenv("REALMARK_KEY_PASSPHRASE", "correct horse")
    assert cli("sign", src, "-o", tmp_path / "o.jpg", "--title", "t", "--artist", "a")[0] == 0
    # Rotating with a passphrase that cannot unlock the root leaves no new key behind.
    keys_before, trust_before = sorted((cli.home / "keys" / "Cube").iterdir()), (cli.home / "trust.json").read_bytes()
    monkeypatch.setenv("REALMARK_KEY_PASSPHRASE", "wrong")
    code, _, err = cli("keys", "init", "--agency", "Cube", "--rotate")
    assert code == 2 and "root key" in err
    assert (
        sorted((cli.home / "keys" / "Cube").iterdir()) == keys_before
        and (cli.home / "trust.json").read_bytes() == trust_before
    )


def test_revoking_unknown_key_is_an_error(cli):
    code, _, err = cli("keys", "revoke", "0123456789abcdef")
    assert code == 2 and "no key" in err


def test_keys_list_shows_rotation_and_revocation(cli):
    first = cli.json("keys", "init", "--agency", "YG")[1]["key_id"]
    second = cli.json("keys", "init", "--agency", "YG", "--rotate")[1]["key_id"]
    cli("keys", "revoke", first, "--reason", "test")
    keys = {k["key_id"]: k for k in cli.json("keys", "list")[1]["keys"]}
    assert keys[first]["not_after"] and keys[first]["revoked_at"] and keys[first]["revocation_reason"] == "test"
    assert keys[second]["not_after"] is None and keys[second]["revoked_at"] is None


def test_signing_key_for_unknown_agency(tmp_path):
    Keyring(tmp_path).create("YG")
    with pytest.raises(KeyProblem):
        Keyring(tmp_path).signing_key("Cube")


def test_a_followed_trust_list_sees_a_revocation_at_once(tmp_path):
    keyring = Keyring(tmp_path)
    entry = keyring.create("YG")
    followed = keyring.trust_file()
    assert followed.find(entry.key_id).revoked_at is None
    before = followed.snapshot()
    keyring.revoke(entry.key_id, "test")  # another process would do the same: the file changes
    assert followed.find(entry.key_id).revoked_at is not None
    assert before.find(entry.key_id).revoked_at is None  # a snapshot stays as it was taken
    with pytest.raises(TypeError):
        followed.add(entry)  # edits go through the Keyring, under its lock
