// The verify page: upload, call POST /v1/verify, say the verdict in plain words in the
// reader's language. Every word comes from the service (GET /v1/wording: one file per
// language in verifier/languages/); verdict sentences are rendered here from the answer's
// verdict, reasons and message_params, by the same rule as verifier/wording.py.
// At /r/<id> the page shows a kept receipt's result, with no upload.
"use strict";

let words = null; // GET /v1/wording: { default, names, languages: {lang: sentences}, page: {lang: words} }
const wordsLoaded = fetch("/v1/wording").then((r) => r.json()).then((w) => { words = w; }).catch(() => {});

let lang = "en";
let last = null; // { body, file } of the latest result, re-rendered on language change

const $ = (id) => document.getElementById(id);
const t = (key) => (words && ((words.page[lang] || {})[key] || words.page.en[key])) || key;

function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

// A language the service speaks for a BCP 47 tag (ko-KR -> ko, zh-CN -> zh-Hans), or null.
function spoken(tag) {
  if (!tag || !words) return null;
  const codes = Object.keys(words.names);
  const lower = tag.toLowerCase();
  return codes.find((c) => c.toLowerCase() === lower) || codes.find((c) => c.split("-")[0].toLowerCase() === lower.split("-")[0]) || null;
}

// The URL's ?lang= (a shared link opens in the sharer's language), the server's choice
// for this page, the reader's last choice, then the browser's languages.
function chooseLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  const candidates = [asked, document.body.dataset.lang, localStorage.getItem("realmark-lang"), ...(navigator.languages || [navigator.language])];
  for (const c of candidates) { const found = spoken(c); if (found) return found; }
  return "en";
}

function applyLanguage() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("lang").value = lang;
  document.title = "Realmark: " + t("title");
  if (last) render(last.body, last.file);
}

function setLanguage(code) {
  lang = code;
  localStorage.setItem("realmark-lang", lang);
  const url = new URL(location.href);
  url.searchParams.set("lang", lang);
  history.replaceState(null, "", url);
  applyLanguage();
}

function row(label, value) {
  const dt = document.createElement("dt"); dt.textContent = label;
  const dd = document.createElement("dd"); dd.textContent = value;
  $("details").append(dt, dd);
}

// The same rule as verifier/wording.py: the template of the verdict and its first
// reason, or of the verdict alone; {what} names the signed asset.
function sentence(body) {
  const table = words && (words.languages[lang] || words.languages.en);
  if (!table) return body.message;
  const reasons = body.reasons || [];
  let template = (reasons.length && table[`${body.verdict}.${reasons[0]}`]) || table[body.verdict];
  if (!template) return body.message;
  const p = body.message_params || {};
  const heard = table[`sound.${p.sound}`];
  if (heard && body.verdict === "authentic" && !heard.includes("{")) template = `${template} ${heard}`;
  const params = Object.assign({}, p, { caution: table.caution });
  if ("part" in p) params.matched = fill(table[`part.${p.part}`] || p.part, p);
  else if ("moments" in p) params.matched = fill(table["matched.moments"], p);
  if ("agency" in params) params.what = fill(table.what, params);
  return fill(template, params);
}

function seconds(x) { return `${Number(x).toFixed(1)} ${t("sec")}`; }

function date(iso, withTime) {
  const options = { year: "numeric", month: "long", day: "numeric" };
  if (withTime) Object.assign(options, { hour: "2-digit", minute: "2-digit", timeZone: "UTC", timeZoneName: "short" });
  try { return new Date(iso).toLocaleString(lang, options); } catch (e) { return iso; }
}

function render(body, file) {
  const v = body.verdict;
  const box = $("result");
  box.className = v; box.dataset.verdict = v; box.hidden = false;
  $("verdict").textContent = t(v);
  $("message").textContent = sentence(body);
  $("details").replaceChildren();
  const m = body.manifest;
  if (m) {
    row(t("agency"), m.agency);
    row(t("artists"), m.artists.join(", "));
    row(t("titleLabel"), m.title);
    row(t("published"), date(m.published_at, false));
  }
  const c = body.credentials;  // C2PA, validated separately and shown beside the verdict; a signer's name only when trusted
  if (c) row(t("credentials"), fill(t(`c2pa.${c.state}`), { who: c.issuer }));
  const content = (body.evidence && body.evidence.content) || (body.evidence && body.evidence.appearance) || {};
  const list = $("ranges"); list.replaceChildren();
  (content.ranges || []).forEach((r) => {
    const li = document.createElement("li"); li.className = r.kind;
    let text = `${t("clip")} ${seconds(r.clip_start)}–${seconds(r.clip_end)}: ${t(r.kind)}`;
    if (r.original_start !== undefined) text += ` (${t("original")} ${seconds(r.original_start)}–${seconds(r.original_end)})`;
    li.textContent = text; list.append(li);
  });
  drawRegions(file, content.changed_regions || [], m);
  showReceipt(body.receipt);
  $("json").textContent = JSON.stringify(body, null, 2);
}

function receiptUrl(receipt) {
  return `${location.origin}/r/${receipt.id}?lang=${encodeURIComponent(lang)}`;
}

function showReceipt(receipt) {
  $("receipt").hidden = !receipt;
  $("copied").textContent = "";
  if (!receipt) return;
  $("receipt-text").textContent = fill(t("receiptText"), { time: date(receipt.issued_at, true), sha256: receipt.file_sha256 });
  const link = $("receipt-link");
  link.href = receiptUrl(receipt);
  link.textContent = `/r/${receipt.id}`;
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
    $("message").textContent += " " + t("regions");
  };
  img.src = URL.createObjectURL(file);
}

async function check(file) {
  if (!file) return;
  $("result").hidden = true;
  $("status").textContent = t("checking");
  const form = new FormData();
  form.append("file", file);
  try {
    const response = await fetch("/v1/verify", { method: "POST", body: form });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    await wordsLoaded;
    $("status").textContent = "";
    last = { body, file };
    render(body, file);
  } catch (err) {
    $("status").textContent = t("failed") + err.message;
  }
}

async function showKept(id) {
  try {
    const response = await fetch(`/v1/receipts/${encodeURIComponent(id)}`);
    if (!response.ok) throw new Error(t("receiptMissing"));
    const record = await response.json();
    last = { body: Object.assign({}, record.answer, { receipt: record.receipt }), file: null };
    render(last.body, null);
  } catch (err) {
    $("status").textContent = err.message;
  }
}

const drop = $("drop");
["dragenter", "dragover"].forEach((e) => drop.addEventListener(e, (ev) => { ev.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((e) => drop.addEventListener(e, (ev) => { ev.preventDefault(); drop.classList.remove("over"); }));
drop.addEventListener("drop", (ev) => check(ev.dataTransfer.files[0]));
$("file").addEventListener("change", (ev) => check(ev.target.files[0]));
$("lang").addEventListener("change", (ev) => setLanguage(ev.target.value));
$("copy").addEventListener("click", async () => {
  if (!last || !last.body.receipt) return;
  const url = receiptUrl(last.body.receipt);
  try { await navigator.clipboard.writeText(url); } catch (e) { /* no clipboard permission: the link is shown */ }
  $("copied").textContent = t("copied");
});

wordsLoaded.then(() => {
  if (words) {
    $("lang").replaceChildren(...Object.entries(words.names).map(([code, name]) => {
      const o = document.createElement("option"); o.value = code; o.lang = code; o.textContent = name; return o;
    }));
  }
  lang = chooseLanguage();
  applyLanguage();
  if (document.body.dataset.receipt) showKept(document.body.dataset.receipt);
});
