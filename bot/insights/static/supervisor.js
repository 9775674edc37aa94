// Supervisor view: the insights API rendered as a table, four plots, a CSV download and the inbox.
"use strict";
const state = { token: sessionStorage.getItem("tandem.token") };
const $ = (id) => document.getElementById(id);

function showError(message) { const e = $("error"); e.textContent = message; e.hidden = !message; }

async function api(path, options = {}) {
  const r = await fetch(path, { ...options, headers: { "Content-Type": "application/json",
    Authorization: `Bearer ${state.token}`, ...(options.headers || {}) } });
  if (r.status === 401) { logout(); throw new Error("log in again"); }
  if (!r.ok) { let m = r.statusText; try { m = (await r.json()).message; } catch (_) { /* not JSON */ } throw new Error(m); }
  return r;
}

function logout() { state.token = null; sessionStorage.removeItem("tandem.token"); $("view").hidden = true; $("login").hidden = false; }

function query() {
  const p = new URLSearchParams();
  for (const [k, v] of new FormData($("filters"))) if (v) p.set(k, v);
  return p.toString();
}

const pct = (x) => (x === null ? "–" : `${(x * 100).toFixed(1)}%`);
const secs = (x) => (x === null ? "–" : x < 120 ? `${Math.round(x)} s` : `${(x / 60).toFixed(1)} min`);
const pairs = (o) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(", ") || "–";

function renderTable(r) {
  const rows = [
    ["Conversations", r.conversations],
    ["Contained (no person)", `${r.contained} (${pct(r.containment_rate)})`],
    ["Reached a person", `${r.handed_off_conversations} (${pct(r.handoff_rate)}), ${r.handoffs} handoffs`],
    ["Asked by the customer / decided by the policy", `${r.explicit_requests} / ${r.policy_decided}`],
    ["Handoffs by reason", pairs(r.handoffs_by_reason)],
    ["Handoffs by topic", pairs(r.handoffs_by_topic)],
    ["NLU fallback rate", `${pct(r.fallback_rate)} of ${r.user_turns} turns`],
    ["Out-of-scope rate", pct(r.out_of_scope_rate)],
    ["Intents before a handoff", pairs(r.intents_before_handoff)],
    ["Queue wait p50 / p90", `${secs(r.wait_p50_s)} / ${secs(r.wait_p90_s)}`],
    ["Abandoned before an agent", `${r.abandoned} (${pct(r.abandonment_rate)})`],
    ["First reply / handle time (mean)", `${secs(r.first_reply_avg_s)} / ${secs(r.handle_avg_s)}`],
    ["Handed back to the bot", r.handed_back],
    ["Ratings", `${r.ratings.rated} rated (${pct(r.ratings.share_rated)}), average ${r.ratings.average ?? "–"}`],
    ["Rating distribution", pairs(r.ratings.distribution)],
    ["Requests started", pairs(r.requests_by_type)],
    ["Follow-ups sent", r.followups_sent],
  ];
  const table = $("table");
  table.replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th"); th.textContent = k;
    const td = document.createElement("td"); td.textContent = String(v);
    tr.append(th, td); return tr;
  }));
}

async function loadPlots(q) {
  for (const name of ["daily_containment", "handoffs_by_reason", "wait_distribution", "ratings"]) {
    const r = await api(`/api/insights/plots/${name}.png?${q}`);
    const img = $(`plot-${name}`);
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(await r.blob());
  }
}

async function loadInbox() {
  const data = await (await api("/api/insights/inbox")).json();
  const box = $("groups");
  box.replaceChildren();
  const head = document.createElement("p"); head.className = "muted";
  head.textContent = `${data.messages} messages in ${data.groups.length} groups`;
  box.append(head);
  for (const g of data.groups.slice(0, 30)) {
    const div = document.createElement("div"); div.className = "group";
    const title = document.createElement("strong"); title.textContent = `[${g.size}] ${g.representative.text}`;
    const ul = document.createElement("ul");
    for (const e of g.entries.slice(0, 8)) {
      const li = document.createElement("li");
      const conf = e.confidence === null ? "–" : e.confidence.toFixed(2);
      li.textContent = `${e.text} — ${e.kind}, predicted ${e.intent || "–"} (${conf})`;
      ul.append(li);
    }
    const intent = document.createElement("input"); intent.placeholder = "intent";
    const buttons = [["intent", "Label as intent"], ["out_of_scope", "Out of scope"], ["ignore", "Ignore"]].map(([kind, text]) => {
      const b = document.createElement("button"); b.textContent = text;
      b.onclick = async () => {
        try {
          await api("/api/insights/inbox/label", { method: "POST",
            body: JSON.stringify({ ids: g.entries.map((e) => e.id), kind, intent: intent.value || null }) });
          showError(""); await loadInbox();
        } catch (err) { showError(err.message); }
      };
      return b;
    });
    div.append(title, ul, intent, ...buttons);
    box.append(div);
  }
}

async function refresh() {
  try {
    const q = query();
    const r = await (await api(`/api/insights/report?${q}`)).json();
    $("view").hidden = false; $("login").hidden = true; showError("");
    renderTable(r);
    await loadPlots(q);
    await loadInbox();
  } catch (err) { showError(err.message); }
}

$("login").onsubmit = async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const r = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: f.get("name"), password: f.get("password") }) });
  const body = await r.json();
  if (!r.ok) { showError(body.message); return; }
  state.token = body.token; sessionStorage.setItem("tandem.token", body.token);
  $("who").textContent = body.agent;
  await refresh();
};

$("filters").onsubmit = (ev) => { ev.preventDefault(); refresh(); };
$("csv").onclick = async () => {
  try {
    const blob = await (await api(`/api/insights/report.csv?${query()}`)).blob();
    const a = document.createElement("a"); a.href = URL.createObjectURL(blob); a.download = "tandem-insights.csv";
    document.body.append(a); a.click(); a.remove();
  } catch (err) { showError(err.message); }
};

if (state.token) refresh(); else $("login").hidden = false;
