// The agency's findings page: the token stays in this tab (sessionStorage), is sent as a
// bearer token, and reports are fetched with it and opened as files.
"use strict";

const $ = (id) => document.getElementById(id);
const auth = () => ({ Authorization: `Bearer ${sessionStorage.getItem("realmark-token") || ""}` });

async function open(url, name) {
  const response = await fetch(url, { headers: auth() });
  if (!response.ok) { $("status").textContent = (await response.json()).error; return; }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  link.click();
}

function cell(tr, text) { const td = document.createElement("td"); td.textContent = text; tr.append(td); return td; }

async function load() {
  $("status").textContent = "Loading…";
  const response = await fetch("/v1/agency/findings", { headers: auth() });
  const body = await response.json();
  if (!response.ok) { $("status").textContent = body.error; $("list").hidden = true; return; }
  $("status").textContent = "";
  $("caption").textContent = `${body.agency}: ${body.findings.length} findings` + (body.not_listed_past_rate_limit ? ` (${body.not_listed_past_rate_limit} more not listed: rate limit)` : "");
  const rows = body.findings.map((f) => {
    const tr = document.createElement("tr");
    cell(tr, f.sha256.slice(0, 16) + "…").title = f.sha256;
    cell(tr, `${f.verdict} (${f.reasons.join(", ")})`);
    cell(tr, f.title || f.manifest_id || "");
    cell(tr, String(f.count));
    cell(tr, f.last_seen);
    const td = cell(tr, "");
    for (const format of ["pdf", "html"]) {
      const b = document.createElement("button"); b.type = "button"; b.textContent = format.toUpperCase();
      b.addEventListener("click", () => open(`${f.report}?format=${format}`, `evidence-${f.sha256.slice(0, 12)}.${format}`));
      td.append(b, " ");
    }
    return tr;
  });
  document.querySelector("#findings tbody").replaceChildren(...rows);
  $("list").hidden = false;
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("realmark-token", $("token").value.trim());
  load();
});
$("csv").addEventListener("click", (ev) => { ev.preventDefault(); open("/v1/agency/findings?format=csv", "findings.csv"); });
if (sessionStorage.getItem("realmark-token")) load();
