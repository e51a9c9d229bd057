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

// An offset known to a quarter frame can put the original's first moment a hair before
// zero: "-0.0" reads as an error (as in verifier/wording.py).
function seconds(x) { return `${Math.max(0, Number(x)).toFixed(1)} ${t("sec")}`; }

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
  showSignals(body);
  showPictures(file, content.changed_regions || [], m);
  showTimeline(body, file);
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

const COLOURS = { official: "#0a7d38", foreign: "#b3261e", changed: "#e8710a", sound_changed: "#7b1fa2" };

// The per-signal breakdown: each thing checked, and what it said.
function showSignals(body) {
  const list = $("signals"); list.replaceChildren();
  const add = (key, value) => {
    const dt = document.createElement("dt"); dt.textContent = t(`sig.${key}`);
    const dd = document.createElement("dd"); dd.textContent = value; dd.dataset.signal = key;
    list.append(dt, dd);
  };
  const e = body.evidence || {};
  const mark = e.watermark || {};
  // found is null for the published file itself: known by its hash, its mark is not read.
  add("watermark", mark.found === null ? `${t("st.exact")} (${mark.id})` : mark.found ? fill(t("st.found"), { id: mark.id }) : t("st.notFound"));
  if (e.signature) add("signature", e.signature.valid ? t("st.valid") : fill(t("st.invalid"), { reason: e.signature.reason || "" }));
  const c = e.content;
  if (c) {
    let said = t("st.none");
    if (c.exact_match) said = t("st.exact");
    else if (c.ranges) {
      const length = (kind) => c.ranges.filter((r) => (kind === "official") === (r.kind === "official")).reduce((sum, r) => sum + r.clip_end - r.clip_start, 0);
      said = fill(t("st.parts"), { official: length("official").toFixed(1), other: length("other").toFixed(1) });
    } else if (c.changed_regions) said = c.changed_regions.length ? t("st.changed") : t("st.unchanged");
    add("content", said);
  }
  if (e.sound) add("sound", t(`st.heard.${e.sound.status}`) === `st.heard.${e.sound.status}` ? t("st.heard.other") : t(`st.heard.${e.sound.status}`));
  if (body.credentials) add("credentials", fill(t(`c2pa.${body.credentials.state}`), { who: body.credentials.issuer }));
  if (e.appearance && e.appearance.searched) add("appearance", e.appearance.manifest_id ? t("st.looks") : t("st.looksNot"));
}

function outline(canvas, picture, boxes, sx, sy) {
  canvas.width = picture.naturalWidth || picture.videoWidth; canvas.height = picture.naturalHeight || picture.videoHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(picture, 0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#ff1a1a"; ctx.lineWidth = Math.max(3, canvas.width / 200);
  boxes.forEach((r) => ctx.strokeRect(r.x * sx, r.y * sy, r.width * sx, r.height * sy));
}

function loaded(src) {
  return new Promise((resolve, reject) => { const img = new Image(); img.onload = () => resolve(img); img.onerror = reject; img.src = src; });
}

// A photo: the official picture beside this copy, the changed regions outlined on both
// (boxes are in the official's pixels, scaled to each). On a receipt's page there is no
// copy: the official alone.
async function showPictures(file, regions, manifest) {
  const pair = $("compare");
  pair.hidden = true;
  if (!manifest || !manifest.media.type.startsWith("image/")) return;
  const copy = file && file.type.startsWith("image/") && !file.type.includes("gif") ? file : null;
  try {
    const official = await loaded(`/v1/files/${manifest.manifest_id}`);
    outline($("official-canvas"), official, regions, official.naturalWidth / manifest.media.width, official.naturalHeight / manifest.media.height);
    // A copy this browser cannot draw (HEIC, outside Safari) leaves the official alone.
    const mine = copy ? await loaded(URL.createObjectURL(copy)).catch(() => null) : null;
    $("copy-figure").hidden = !mine;
    if (mine) {
      outline($("copy-canvas"), mine, regions, mine.naturalWidth / manifest.media.width, mine.naturalHeight / manifest.media.height);
    }
    pair.hidden = false;
    if (regions.length) $("message").textContent = sentence(last.body) + " " + t("regions");
  } catch (err) { /* the official file is not kept here: the sentence and details stand */ }
}

function span(kind, seconds, total, label) {
  const s = document.createElement("span");
  s.className = kind; s.style.flexGrow = String(Math.max(seconds, 0.001) / total);
  s.title = label; s.setAttribute("aria-label", label);
  return s;
}

// A clip: a bar of its parts coloured by where they come from, with the original's
// seconds, the sound's own bar, and a strip of key moments (official above, this copy below).
function showTimeline(body, file) {
  const section = $("timeline");
  const content = (body.evidence && body.evidence.content) || {};
  const ranges = content.ranges || [];
  section.hidden = !ranges.length;
  if (!ranges.length) return;
  const total = Math.max(...ranges.map((r) => r.clip_end));
  const label = (r) => `${seconds(r.clip_start)}–${seconds(r.clip_end)}: ${t(r.kind)}` + (r.original_start !== undefined && r.original_start !== null ? ` (${t("original")} ${seconds(r.original_start)}–${seconds(r.original_end)})` : "");
  const bar = $("bar");
  bar.replaceChildren(...ranges.map((r) => span(r.kind, r.clip_end - r.clip_start, total, label(r))));
  bar.setAttribute("role", "img");
  bar.setAttribute("aria-label", ranges.map(label).join("; "));
  const sound = (body.evidence.sound || {}).ranges || [];
  const soundBar = $("sound-bar");
  soundBar.hidden = !sound.some((r) => r.kind === "changed");
  soundBar.replaceChildren(...sound.map((r) => span(r.kind === "changed" ? "sound_changed" : "official", r.clip_end - r.clip_start, total, label(r))));
  const kinds = new Set(ranges.map((r) => r.kind));
  if (!soundBar.hidden) kinds.add("sound_changed");
  $("legend").replaceChildren(...[...kinds].map((k) => {
    const li = document.createElement("li"); li.style.setProperty("--swatch", COLOURS[k] || "#999");
    li.textContent = k === "sound_changed" ? t("soundChangedKind") : t(k); return li;
  }));
  keyframes(ranges, body.manifest, file);
}

function frameAt(video, time) {
  return new Promise((resolve) => {
    const done = () => { video.removeEventListener("seeked", done); resolve(); };
    video.addEventListener("seeked", done);
    video.currentTime = Math.max(0, time);
    setTimeout(done, 4000);  // a file the browser cannot seek: draw what is there
  });
}

async function videoOf(src) {
  const video = document.createElement("video");
  video.muted = true; video.preload = "auto"; video.src = src;
  await new Promise((resolve, reject) => { video.onloadeddata = resolve; video.onerror = reject; setTimeout(reject, 8000); });
  return video;
}

async function keyframes(ranges, manifest, file) {
  const strip = $("strip"); strip.replaceChildren();
  $("strip-caption").hidden = true;
  const moments = ranges.slice(0, 8).map((r) => ({ kind: r.kind, clip: (r.clip_start + r.clip_end) / 2, original: r.original_start !== undefined && r.original_start !== null ? (r.original_start + r.original_end) / 2 : null }));
  let official = null, copy = null;
  try { if (manifest && manifest.media.type.startsWith("video/")) official = await videoOf(`/v1/files/${manifest.manifest_id}`); } catch (e) { official = null; }
  try { if (file && file.type.startsWith("video/")) copy = await videoOf(URL.createObjectURL(file)); } catch (e) { copy = null; }
  if (!official && !copy) return;
  for (const m of moments) {
    const figure = document.createElement("figure");
    for (const [video, time] of [[official, m.original], [copy, m.clip]].filter(([v]) => v)) {
      const canvas = document.createElement("canvas");
      canvas.width = 160; canvas.height = 90;
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ddd"; ctx.fillRect(0, 0, 160, 90);
      if (video && time !== null) { await frameAt(video, time); ctx.drawImage(video, 0, 0, 160, 90); }
      ctx.fillStyle = COLOURS[m.kind] || "#999"; ctx.fillRect(0, 84, 160, 6);
      figure.append(canvas);
    }
    const caption = document.createElement("figcaption"); caption.textContent = `${seconds(m.clip)}: ${t(m.kind)}`;
    figure.append(caption); strip.append(figure);
  }
  $("strip-caption").hidden = false;
}

// POST with progress both ways (fetch cannot report an upload's): the upload bar moves
// as the file goes, then the verification bar with the service's progress lines
// (application/x-ndjson: {"progress": f} ..., then the answer or {"error"}).
function send(file) {
  return new Promise((resolve, reject) => {
    const form = new FormData(); form.append("file", file);
    if ($("keep").checked) form.append("keep_upload", "true");  // only when the submitter asks
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/verify");
    xhr.setRequestHeader("Accept", "application/x-ndjson");
    let seen = 0;
    const lines = () => {
      const text = xhr.responseText, out = [];
      let end;
      while ((end = text.indexOf("\n", seen)) >= 0) { out.push(text.slice(seen, end)); seen = end + 1; }
      return out.filter((l) => l.trim()).map((l) => JSON.parse(l));
    };
    let answer = null;
    const take = () => lines().forEach((line) => {
      if (line.progress !== undefined && Object.keys(line).length === 1) $("verify-progress").value = line.progress;
      else answer = line;
    });
    xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) $("upload-progress").value = ev.loaded / ev.total; };
    xhr.upload.onload = () => { $("upload-progress").value = 1; $("verify-progress").removeAttribute("value"); $("verify-progress").hidden = false; };
    xhr.onprogress = take;
    xhr.onload = () => {
      if (xhr.status < 200 || xhr.status >= 300) {
        let error = String(xhr.status);
        try { error = JSON.parse(xhr.responseText).error || error; } catch (e) { /* not JSON */ }
        resolve({ ok: false, body: { error } });
        return;
      }
      take();
      if (answer === null) answer = { error: "no answer" };
      resolve({ ok: !answer.error, body: answer });
    };
    xhr.onerror = () => reject(new Error("network error"));
    xhr.send(form);
  });
}

async function check(file) {
  if (!file) return;
  $("result").hidden = true;
  $("status").textContent = t("checking");
  $("upload-progress").value = 0; $("verify-progress").hidden = true; $("progress").hidden = false;
  try {
    const response = await send(file);
    if (!response.ok) throw new Error(response.body.error || String(response.status));
    await wordsLoaded;
    $("status").textContent = "";
    last = { body: response.body, file };
    render(response.body, file);
  } catch (err) {
    $("status").textContent = t("failed") + err.message;
  } finally {
    $("progress").hidden = true;
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
