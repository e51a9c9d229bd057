"""Every language the service speaks has every word: one file per language
(verifier/languages/<code>.json), each with English's keys and, in every template, the
same {names} to fill."""

from __future__ import annotations

import json
import re

import pytest

from verifier import wording

FIELD = re.compile(r"\{(\w+)\}")
SPOKEN = ("en", "ko", "ja", "zh-Hans", "es", "pt-BR", "id", "th")  # issue 16's fan languages
ENGLISH = wording.LANGUAGE_FILES["en"]


def test_the_fan_languages_are_all_there():
    assert set(wording.LANGUAGES) == set(SPOKEN) and wording.LANGUAGES[0] == "en"


@pytest.mark.parametrize("lang", SPOKEN)
@pytest.mark.parametrize("section", ["sentences", "page"])
def test_no_key_is_missing_and_every_template_fills_the_same_names(lang, section):
    words = wording.LANGUAGE_FILES[lang]
    assert isinstance(words["name"], str) and words["name"]
    missing = set(ENGLISH[section]) - set(words[section])
    extra = set(words[section]) - set(ENGLISH[section])
    assert not missing and not extra, f"{lang}: missing {sorted(missing)}, unknown {sorted(extra)}"
    for key, english in ENGLISH[section].items():
        assert set(FIELD.findall(words[section][key])) == set(FIELD.findall(english)), f"{lang} {key}"
        if lang != "en" and len(english) > 12:  # a copied English sentence is an untranslated one
            assert words[section][key] != english, f"{lang} {key} is still English"


@pytest.mark.parametrize("lang", SPOKEN)
def test_every_sentence_renders_whole_in_every_language(lang):
    params = {
        "agency": "YG",
        "title": "T",
        "artists": "A",
        "date": "2026-01-01",
        "start": "1.0",
        "end": "2.0",
        "parts": "1.0-2.0 s",
        "sound_parts": "1.0-2.0 s",
        "region": "x 0-10, y 0-10",
        "rotation": "3.0",
        "regions": 2,
        "distance": 12,
        "bits": 256,
        "wm_id": "abc",
        "detail": "d",
        "part": "square",
        "sound": "matches",
    }
    for key in wording.TEMPLATES[lang]:
        if (
            key.count(".") != 1
            and key not in ("unknown", "invalid")
            or key.split(".")[0]
            not in (
                "authentic",
                "likely_authentic",
                "altered",
                "forged",
                "unknown",
                "invalid",
            )
        ):
            continue
        verdict, _, reason = key.partition(".")
        text = wording.sentence(verdict, [reason] if reason else [], params, lang)
        assert "{" not in text and "}" not in text, f"{lang} {key}: {text}"
    clip_match = {**{k: v for k, v in params.items() if k != "part"}, "moments": 5, "samples": 6}
    text = wording.sentence("likely_authentic", ["appearance_only"], clip_match, lang)
    assert "{" not in text and "5" in text and "6" in text


def test_language_files_are_plain_json_in_utf8():
    for path in sorted(wording._FOLDER.glob("*.json")):
        assert json.loads(path.read_bytes().decode("utf-8"))["sentences"]
