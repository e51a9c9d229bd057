"""The sentences verdicts are told in, in every language the service speaks.

Decisions are made elsewhere (decide.py); this module only puts them into words. A
sentence is chosen by the verdict and its headline reason (the first one): the template
`<verdict>.<reason>`, or `<verdict>` when that reason has no sentence of its own. Its
`{names}` are filled from `params()`, plain values taken from the manifest and the
evidence; `{what}` is itself a template naming the signed asset. The verify page renders
the same templates (served at GET /v1/wording) with the same params from the JSON answer,
so a sentence reads the same from the API and on the page, in either language."""

from __future__ import annotations

import re

from realmark.fingerprint import BITS

from .evidence import ClipContent, ExactContent, PhotoContent, PhotoMatch

DEFAULT_LANGUAGE = "en"
_FIELD = re.compile(r"\{(\w+)\}")

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "what": "{agency}'s “{title}” ({artists}, published {date})",
        "caution": "Matched by appearance only, not by watermark: treat it with less confidence.",
        "authentic.published_file": "This is the official file of {what}.",
        "authentic.reencoded": "This is a re-encoded or resized copy of {what}; the picture is unchanged.",
        "authentic.filtered": (
            "This is a copy of {what} with a colour filter over the whole picture (a tint, grey, a vignette or a "
            "tone curve); what it shows is unchanged."
        ),
        "authentic.official_footage": "This is official footage from {what}: seconds {start} to {end} of the original.",
        "sound.matches": "Its sound is the published sound.",
        "sound.muted": "It has no sound, though the original has: only its pictures are checked.",
        "sound.not_compared": "Only the pictures are checked, not the sound.",
        "altered.sound_changed": (
            "This uses official footage from {what}, but its sound at {sound_parts} is not the published sound "
            "(another voice, cut or added words, music laid under it, or sound out of step with the pictures)."
        ),
        "altered.sound_only": (
            "This sound comes from {what} (seconds {start} to {end}), but at {sound_parts} it is not the published "
            "sound: another voice, cut or added words, or music laid under it."
        ),
        "likely_authentic.sound_only": (
            "This sound is seconds {start} to {end} of {what}, found by how it sounds: a sound file carries no "
            "watermark, so treat it with less confidence."
        ),
        "altered.cropped": (
            "This is cropped or re-framed from {what}: the mark is official, but the picture around or beyond it "
            "cannot be confirmed unchanged."
        ),
        "altered.embedded": (
            "This shows {what} inside a larger picture (a screenshot, a collage, a caption bar or a border): the "
            "official picture sits at {region}; what is around it is not the agency's."
        ),
        "altered.letterboxed": (
            "This is official footage from {what}, letterboxed into another frame: the official pictures sit at "
            "{region}; what is around them is not the agency's."
        ),
        "altered.picture_in_picture": (
            "This clip shows official footage from {what} in a window at {region}; the rest of the frame is not "
            "the agency's."
        ),
        "altered.rotated": (
            "This is a rotated copy of {what} (turned by {rotation}°): the mark is official, but the picture has "
            "been edited."
        ),
        "altered.stretched": (
            "This is a stretched or skewed copy of {what}: the mark is official, but the picture has been edited."
        ),
        "altered.regions_changed": (
            "This carries the official mark of {what}, but the picture has been changed since it was published "
            "(changed regions: {regions})."
        ),
        "altered.picture_changed": (
            "This carries the official mark of {what}, but the picture has been changed since it was published."
        ),
        "altered.content_not_comparable": (
            "This carries the official mark of {what}, but its content cannot be compared, so it is not confirmed."
        ),
        "altered.foreign_footage": "Parts of this clip are official footage from {what}, but {parts} is not.",
        "altered.pictures_changed": (
            "This carries the official mark of {what}, but the pictures at {parts} do not match what was published."
        ),
        "altered.order_changed": (
            "This clip re-edits official footage from {what}: its parts come from different places in the original."
        ),
        "altered.photo_mark_on_clip": (
            "This clip carries the official mark of a photo, {what}: official pictures do not move."
        ),
        "forged.mark_copied": (
            "This is not official: the mark of {agency} has been copied onto a picture that is not theirs. It is "
            "neither {what} nor an edit of it."
        ),
        "altered.appearance_only": (
            "No official watermark was found, but this looks like {what} with changed regions ({regions}). {caution}"
        ),
        "likely_authentic.appearance_only": (
            "No official watermark was found, but this looks like {what}: {matched}, {distance} of {bits} "
            "fingerprint bits apart. {caution}"
        ),
        "unknown": (
            "No official watermark was found. This does not prove it is fake: it may be unofficial, "
            "or edited so heavily that the mark is gone."
        ),
        "unknown.sound_unknown": (
            "This sound does not come from any official clip this verifier knows. This does not prove it is fake: "
            "it may be unofficial, or changed so much that it cannot be traced."
        ),
        "unknown.mark_without_record": (
            "A Realmark watermark ({wm_id}) was found, but this verifier knows no manifest for it, "
            "so it cannot say who published it."
        ),
        "invalid": "The official-looking mark leads to a record that fails verification: {detail}.",
    },
    "ko": {
        "what": "{agency}의 “{title}” ({artists}, {date} 공개)",
        "caution": "워터마크가 아니라 겉모습만으로 찾은 결과이므로 주의해서 받아들이세요.",
        "authentic.published_file": "{what}의 공식 파일입니다.",
        "authentic.reencoded": "{what}을(를) 다시 인코딩하거나 크기를 바꾼 사본입니다. 그림은 바뀌지 않았습니다.",
        "authentic.filtered": (
            "{what}에 사진 전체 색 필터(색조, 흑백, 비네트, 톤 커브)를 씌운 사본입니다. 보여 주는 내용은 바뀌지 "
            "않았습니다."
        ),
        "authentic.official_footage": "{what}의 공식 영상입니다: 원본의 {start}초부터 {end}초까지입니다.",
        "sound.matches": "소리도 공개된 소리와 같습니다.",
        "sound.muted": "원본에는 소리가 있지만 이 영상에는 없어서 화면만 확인했습니다.",
        "sound.not_compared": "소리는 확인하지 않고 화면만 확인했습니다.",
        "altered.sound_changed": (
            "{what}의 공식 영상을 쓰고 있지만, {sound_parts} 구간의 소리는 공개된 소리가 아닙니다 "
            "(다른 목소리, 잘라 내거나 덧붙인 말, 깔린 음악, 또는 화면과 어긋난 소리)."
        ),
        "altered.sound_only": (
            "이 소리는 {what}의 {start}초부터 {end}초까지에서 나왔지만, {sound_parts} 구간은 공개된 소리가 아닙니다: "
            "다른 목소리, 잘라 내거나 덧붙인 말, 또는 깔린 음악입니다."
        ),
        "likely_authentic.sound_only": (
            "이 소리는 {what}의 {start}초부터 {end}초까지입니다. 소리 파일에는 워터마크가 없어 소리의 특징으로 "
            "찾았으므로 주의해서 받아들이세요."
        ),
        "altered.cropped": (
            "{what}에서 잘라 내거나 화면 비율을 바꾼 것입니다. 워터마크는 공식이지만, 그 바깥의 그림은 바뀌지 않았는지 "
            "확인할 수 없습니다."
        ),
        "altered.embedded": (
            "{what}을(를) 더 큰 그림(화면 캡처, 콜라주, 자막 띠, 테두리) 안에 넣은 것입니다. 공식 사진은 {region}에 "
            "있으며, 그 주변은 소속사의 것이 아닙니다."
        ),
        "altered.letterboxed": (
            "{what}의 공식 영상을 다른 화면 안에 레터박스로 넣은 것입니다. 공식 영상은 {region}에 있으며, 그 주변은 "
            "소속사의 것이 아닙니다."
        ),
        "altered.picture_in_picture": (
            "이 클립은 {what}의 공식 영상을 {region}의 작은 창에 보여 줍니다. 화면의 나머지는 소속사의 것이 아닙니다."
        ),
        "altered.rotated": (
            "{what}을(를) {rotation}° 회전한 사본입니다. 워터마크는 공식이지만, 그림이 편집되었습니다."
        ),
        "altered.stretched": ("{what}을(를) 늘이거나 기울인 사본입니다. 워터마크는 공식이지만, 그림이 편집되었습니다."),
        "altered.regions_changed": (
            "{what}의 공식 워터마크가 있지만, 공개된 뒤 그림이 바뀌었습니다 (바뀐 부분: {regions}곳)."
        ),
        "altered.picture_changed": "{what}의 공식 워터마크가 있지만, 공개된 뒤 그림이 바뀌었습니다.",
        "altered.content_not_comparable": "{what}의 공식 워터마크가 있지만, 내용을 비교할 수 없어 확인되지 않았습니다.",
        "altered.foreign_footage": "이 영상의 일부는 {what}의 공식 영상이지만, {parts} 구간은 아닙니다.",
        "altered.pictures_changed": "{what}의 공식 워터마크가 있지만, {parts} 구간의 화면이 공개된 것과 다릅니다.",
        "altered.order_changed": "{what}의 공식 영상을 다시 편집한 것입니다: 원본의 여러 곳에서 가져온 부분들입니다.",
        "altered.photo_mark_on_clip": (
            "이 영상에는 사진 {what}의 공식 워터마크가 있습니다: 공식 사진은 움직이지 않습니다."
        ),
        "forged.mark_copied": (
            "공식이 아닙니다: {agency}의 워터마크를 그 소속사의 것이 아닌 그림에 복사해 넣었습니다. {what}도, 그것을 "
            "편집한 것도 아닙니다."
        ),
        "altered.appearance_only": (
            "공식 워터마크는 찾지 못했지만, 바뀐 부분({regions}곳)이 있는 {what}처럼 보입니다. {caution}"
        ),
        "likely_authentic.appearance_only": (
            "공식 워터마크는 찾지 못했지만 {what}와(과) 모습이 일치합니다 (지문 {bits}비트 중 {distance}비트 "
            "차이). {caution}"
        ),
        "unknown": (
            "공식 워터마크를 찾지 못했습니다. 가짜라는 뜻은 아닙니다. 비공식 콘텐츠이거나 워터마크가 지워질 만큼 "
            "편집되었을 수 있습니다."
        ),
        "unknown.sound_unknown": (
            "이 소리는 이 검증 서비스가 아는 어떤 공식 영상에서도 나오지 않았습니다. 가짜라는 뜻은 아닙니다. 비공식 "
            "콘텐츠이거나 추적할 수 없을 만큼 바뀌었을 수 있습니다."
        ),
        "unknown.mark_without_record": (
            "Realmark 워터마크({wm_id})를 찾았지만, 이 검증 서비스에는 그 기록이 없어 누가 공개했는지 알 수 없습니다."
        ),
        "invalid": "공식처럼 보이는 워터마크가 가리키는 기록이 검증을 통과하지 못했습니다: {detail}.",
    },
}
LANGUAGES = tuple(TEMPLATES)


def _fill(template: str, params: dict) -> str:
    return _FIELD.sub(lambda m: str(params.get(m.group(1), m.group(0))), template)


def sentence(verdict: str, reasons: list[str], params: dict, lang: str = DEFAULT_LANGUAGE) -> str:
    """The sentence for a verdict and its reasons (headline first), in lang."""
    table = TEMPLATES.get(lang, TEMPLATES[DEFAULT_LANGUAGE])
    key = f"{verdict}.{reasons[0]}" if reasons else verdict
    template = table.get(key) or table[verdict]
    filled = {**params, "caution": table["caution"]}
    heard = table.get(f"sound.{params.get('sound')}")
    if heard and verdict == "authentic" and "{" not in heard:
        template = f"{template} {heard}"
    if "agency" in params:
        filled["what"] = _fill(table["what"], params)
    return _fill(template, filled)


def _seconds(x: float) -> str:
    # An offset known to a quarter frame can put the original's first moment a hair
    # before zero; its timeline starts at 0.0, and "-0.0" reads as an error.
    return f"{max(0.0, x):.1f}"


def params(v) -> dict:
    """The plain values a verification's sentence names (a Verification; see result.py)."""
    out: dict = {"bits": BITS}
    m = v.manifest
    if m is not None:
        out.update(agency=m.agency, title=m.title, artists=", ".join(m.artists), date=m.published_at[:10])
    e = v.evidence
    if e.watermark.id is not None:
        out["wm_id"] = e.watermark.id
    if e.signature is not None and e.signature.reason:
        out["detail"] = e.signature.reason
    ranges = (e.content.ranges or ()) if isinstance(e.content, (ClipContent, ExactContent)) else ()
    official = [r for r in ranges if r.kind == "official" and r.original_start is not None]
    if official:
        out.update(start=_seconds(official[0].original_start), end=_seconds(official[-1].original_end))
    suspect = [r for r in ranges if r.kind in ("foreign", "changed")]
    if suspect:
        out["parts"] = ", ".join(f"{_seconds(r.clip_start)}-{_seconds(r.clip_end)} s" for r in suspect)
    elif ranges and not official:
        out["parts"] = f"{_seconds(ranges[0].clip_start)}-{_seconds(ranges[-1].clip_end)} s"
    if e.sound is not None:
        out["sound"] = str(e.sound.status)
        changed = [r for r in e.sound.ranges if r.kind == "changed"]
        out["sound_parts"] = ", ".join(f"{_seconds(r.clip_start)}-{_seconds(r.clip_end)} s" for r in changed)
        heard = [r for r in e.sound.ranges if r.kind == "official"]
        if heard and not official:
            out.update(start=_seconds(heard[0].original_start), end=_seconds(heard[-1].original_end))
    regions = e.content.changed_regions if isinstance(e.content, PhotoContent) else None
    match = e.appearance.match if e.appearance is not None else None
    if match is not None:
        if isinstance(match, PhotoMatch):
            out.update(matched=match.matched, distance=match.distance)
            regions = match.changed_regions
        else:
            start, end = _seconds(match.original_start), _seconds(match.original_end)
            out.update(start=start, end=end, distance=match.median_distance)
            out["matched"] = (
                f"seconds {start} to {end} of it, at {match.moments_matched} of {e.appearance.samples} sampled moments"
            )
    if regions:
        out["regions"] = len(regions)
    placement = e.watermark.placement
    if placement is not None:
        left, top, right, bottom = placement.box
        out["region"] = f"x {left}-{right}, y {top}-{bottom}"
        out["rotation"] = f"{placement.rotation:.1f}"
    return out
