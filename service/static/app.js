// The verify page: upload, call POST /v1/verify, say the verdict in plain words (en/ko).
// Verdict sentences come from the service's wording (GET /v1/wording), rendered here from
// the answer's verdict, reasons and message_params in the chosen language.
"use strict";

const TEXT = {
  en: {
    title: "Is it official?", intro: "Check a photo or video clip you found online against the agencies' signed originals.",
    drop: "Drop a photo or clip here", or: "or tap to choose a file", json: "Technical details (JSON)",
    api: "API for journalists and developers", trust: "Trusted agency keys",
    checking: "Checking…", failed: "Could not check this file: ",
    authentic: "Official", likely_authentic: "Probably official", altered: "Altered", forged: "Forged mark", unknown: "Not recognised", invalid: "Verification failed",
    agency: "Agency", artists: "Artists", titleLabel: "Title", published: "Published", regions: "Changed areas are outlined in red.",
    clip: "Clip", original: "original", official: "official", foreign: "not official", changed: "changed", sec: "s",
    credentials: "Content Credentials",
    c2pa: {
      Trusted: (who) => `valid, issued by ${who}`,
      Valid: () => "intact, but from a signer this service does not know (the name they give is not confirmed)",
      Invalid: () => "do not match this file (changed after signing, or forged)",
      NotChecked: () => "kept on another server; not checked",
    },
  },
  ko: {
    title: "공식 콘텐츠일까요?", intro: "온라인에서 발견한 사진이나 영상이 소속사가 서명한 공식 원본인지 확인하세요.",
    drop: "사진이나 영상을 여기에 끌어다 놓으세요", or: "또는 눌러서 파일을 선택하세요", json: "기술 정보 (JSON)",
    api: "기자·개발자용 API", trust: "신뢰하는 소속사 키",
    checking: "확인 중…", failed: "이 파일을 확인할 수 없습니다: ",
    authentic: "공식", likely_authentic: "공식일 가능성 높음", altered: "변형됨", forged: "위조된 워터마크", unknown: "확인되지 않음", invalid: "검증 실패",
    agency: "소속사", artists: "아티스트", titleLabel: "제목", published: "공개일", regions: "바뀐 부분을 빨간 상자로 표시했습니다.",
    clip: "영상", original: "원본", official: "공식", foreign: "공식 아님", changed: "변경됨", sec: "초",
    credentials: "콘텐츠 자격 증명",
    c2pa: {
      Trusted: (who) => `유효함, 발급: ${who}`,
      Valid: () => "손상되지 않았지만 이 서비스가 모르는 서명자의 서명 (표시된 이름은 확인되지 않음)",
      Invalid: () => "이 파일과 일치하지 않음 (서명 후 변경되었거나 위조됨)",
      NotChecked: () => "다른 서버에 있어 확인하지 않음",
    },
  },
};

let wording = null; // { lang: { "verdict.reason": template } }, from the service
const wordingLoaded = fetch("/v1/wording").then((r) => r.json()).then((w) => { wording = w.languages; }).catch(() => {});

let lang = (localStorage.getItem("realmark-lang") || navigator.language || "en").startsWith("ko") ? "ko" : "en";
let last = null; // { body, file } of the latest result, re-rendered on language change

const $ = (id) => document.getElementById(id);
const t = () => TEXT[lang];

function applyLanguage() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t()[el.dataset.i18n]; });
  document.querySelectorAll("nav button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
  document.title = "Realmark: " + t().title;
  if (last) render(last.body, last.file);
}

function row(label, value) {
  const dt = document.createElement("dt"); dt.textContent = label;
  const dd = document.createElement("dd"); dd.textContent = value;
  $("details").append(dt, dd);
}

function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

// The same rule as verifier/wording.py: the template of the verdict and its first
// reason, or of the verdict alone; {what} names the signed asset.
function sentence(body) {
  const table = wording && (wording[lang] || wording.en);
  if (!table) return body.message;
  const reasons = body.reasons || [];
  let template = (reasons.length && table[`${body.verdict}.${reasons[0]}`]) || table[body.verdict];
  if (!template) return body.message;
  const heard = table[`sound.${(body.message_params || {}).sound}`];
  if (heard && body.verdict === "authentic" && !heard.includes("{")) template = `${template} ${heard}`;
  const params = Object.assign({}, body.message_params, { caution: table.caution });
  if ("agency" in params) params.what = fill(table.what, params);
  return fill(template, params);
}

function seconds(x) { return `${Number(x).toFixed(1)} ${t().sec}`; }

function render(body, file) {
  const v = body.verdict;
  const box = $("result");
  box.className = v; box.dataset.verdict = v; box.hidden = false;
  $("verdict").textContent = t()[v] || v;
  $("message").textContent = sentence(body);
  $("details").replaceChildren();
  const m = body.manifest;
  if (m) {
    row(t().agency, m.agency);
    row(t().artists, m.artists.join(", "));
    row(t().titleLabel, m.title);
    row(t().published, new Date(m.published_at).toLocaleDateString(lang === "ko" ? "ko-KR" : "en-GB", { year: "numeric", month: "long", day: "numeric" }));
  }
  const c = body.credentials;  // C2PA, validated separately and shown beside the verdict; a signer's name only when trusted
  if (c) row(t().credentials, (t().c2pa[c.state] || (() => c.state))(c.issuer));
  const content = (body.evidence && body.evidence.content) || (body.evidence && body.evidence.appearance) || {};
  const list = $("ranges"); list.replaceChildren();
  (content.ranges || []).forEach((r) => {
    const li = document.createElement("li"); li.className = r.kind;
    let text = `${t().clip} ${seconds(r.clip_start)}–${seconds(r.clip_end)}: ${t()[r.kind] || r.kind}`;
    if (r.original_start !== undefined) text += ` (${t().original} ${seconds(r.original_start)}–${seconds(r.original_end)})`;
    li.textContent = text; list.append(li);
  });
  drawRegions(file, content.changed_regions || [], m);
  $("json").textContent = JSON.stringify(body, null, 2);
}

function drawRegions(file, regions, manifest) {
  const wrap = $("preview-wrap");
  wrap.hidden = true;
  if (!regions.length || !file || !file.type.startsWith("image/") || !manifest) return;
  const img = new Image();
  img.onload = () => {
    const canvas = $("preview");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    // Boxes are in the official photo's pixels; scale to this copy.
    const sx = img.naturalWidth / manifest.media.width, sy = img.naturalHeight / manifest.media.height;
    ctx.strokeStyle = "#ff1a1a"; ctx.lineWidth = Math.max(3, img.naturalWidth / 200);
    regions.forEach((r) => ctx.strokeRect(r.x * sx, r.y * sy, r.width * sx, r.height * sy));
    wrap.hidden = false;
    $("message").textContent += " " + t().regions;
  };
  img.src = URL.createObjectURL(file);
}

async function check(file) {
  if (!file) return;
  $("result").hidden = true;
  $("status").textContent = t().checking;
  const form = new FormData();
  form.append("file", file);
  try {
    const response = await fetch("/v1/verify", { method: "POST", body: form });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    await wordingLoaded;
    $("status").textContent = "";
    last = { body, file };
    render(body, file);
  } catch (err) {
    $("status").textContent = t().failed + err.message;
  }
}

const drop = $("drop");
["dragenter", "dragover"].forEach((e) => drop.addEventListener(e, (ev) => { ev.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((e) => drop.addEventListener(e, (ev) => { ev.preventDefault(); drop.classList.remove("over"); }));
drop.addEventListener("drop", (ev) => check(ev.dataTransfer.files[0]));
$("file").addEventListener("change", (ev) => check(ev.target.files[0]));
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => {
  lang = b.dataset.lang; localStorage.setItem("realmark-lang", lang); applyLanguage();
}));
applyLanguage();
