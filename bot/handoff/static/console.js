// tandem agent console: one page, live over a WebSocket, actions over the JSON API.
"use strict";

const state = { token: sessionStorage.getItem("tandem.token"), agent: null, skills: [],
  convs: new Map(), selected: null, ws: null, retry: 0, drafts: new Map(), loading: false, reloadAgain: false,
  busy: false };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method, headers: { "Content-Type": "application/json", ...(state.token ? { Authorization: `Bearer ${state.token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401 && path !== "/api/login") { logout(); throw new Error("session expired, log in again"); }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || `HTTP ${res.status}`);
  return data;
}

function waited(conv) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(conv.created_at)) / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

// Rasa's input channel names, as an agent says them
const CHANNELS = { socketio: "web chat", rest: "REST API", twilio: "SMS", facebook: "Messenger", slack: "Slack",
  telegram: "Telegram", callback: "callback API" };
const channelName = (c) => (c.channel ? CHANNELS[c.channel] || c.channel : "unknown channel");

function customerLabel(c) {
  // the service names identified customers from their profile (the side pane's name, also when
  // they opted out of personalisation: that concerns what the bot says, not what agents see)
  if (c.customer_name) return c.customer_name;
  return c.customer_id ? "Identified customer (profile unavailable)" : `Unidentified, ${channelName(c)}`;
}

function renderQueue() {
  const list = $("queue");
  list.replaceChildren();
  const convs = [...state.convs.values()].filter((c) => c.status === "waiting" || c.status === "assigned");
  convs.sort((a, b) => (a.status === b.status ? a.id - b.id : a.status === "assigned" ? -1 : 1));
  for (const c of convs) {
    const who = customerLabel(c);
    const li = el("li", { class: `${c.status}${state.selected === c.id ? " selected" : ""}`, "data-id": String(c.id) },
      el("div", {}, el("b", {}, who), " ", c.priority > 0 ? el("span", { class: "prio" }, `P${c.priority}`) : "",
        " ", c.unread ? el("span", { class: "badge" }, String(c.unread)) : ""),
      el("div", { class: "meta" }, `${channelName(c)} · ${c.topic} · ` +
        `${c.status === "waiting" ? `waiting ${waited(c)}` : `with ${c.agent}`}` + (c.mode !== "chat" ? ` · ${c.mode}` : "")),
      c.first_message ? el("div", { class: "first-words" }, `“${c.first_message}”`) : "",
      el("div", { class: "meta" }, c.reason));
    li.addEventListener("click", () => select(c.id));
    list.append(li);
  }
  $("queue-empty").hidden = convs.length > 0;
}

function line(m) {
  const who = m.kind === "customer" ? "Customer" : m.kind === "agent" ? `Agent ${m.author || ""}` : "Bot";
  return el("li", { class: m.kind }, el("span", { class: "who" }, who), m.text);
}

const PROFILE_SECTIONS = ["identity", "contact", "account", "open_items", "recent_categories", "segments", "flags",
  "suppressions", "consent"];

function label(key) { return key.replace(/_/g, " "); }

function plain(value) {
  if (Array.isArray(value)) return value.map(plain).join(", ");
  if (value && typeof value === "object") return Object.entries(value).map(([k, v]) => `${label(k)} ${plain(v)}`).join(" · ");
  return String(value ?? "—");
}

// Where a value comes from: the profile's provenance is keyed by field ("account.created",
// "emails", "address", "orders"); the most specific key on the value's path wins.
function provenanceOf(prov, path) {
  for (let i = path.length; i > 0; i--) { const p = prov[path.slice(0, i).join(".")]; if (p) return p; }
  for (let i = path.length - 1; i >= 0; i--) if (prov[path[i]]) return prov[path[i]];
  return null;
}

function provenanceLine(p) {
  if (!p || !p.system) return "";
  const parts = [`from ${p.system}`, p.record_id, p.updated_at && `updated ${p.updated_at}`].filter(Boolean);
  const stale = p.stale === "yes";
  return el("div", { class: stale ? "prov stale" : "prov" }, parts.join(" · ") + (stale ? " · may be out of date" : ""));
}

function renderProfile(p) {
  const box = $("profile");
  box.replaceChildren();
  if (!p || p.status !== "ok") {
    box.append(el("p", { class: p && p.status === "unavailable" ? "warning" : "muted" },
      (p && p.message) || "Customer not identified."));
    return;
  }
  const summary = p.summary || {};
  const prov = summary.provenance || {};
  const empty = (v) => v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0) ||
    (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0);
  const keys = [...PROFILE_SECTIONS.filter((k) => k in summary),
    ...Object.keys(summary).filter((k) => k !== "provenance" && !PROFILE_SECTIONS.includes(k))];
  for (const section of keys) {
    const value = summary[section];
    if (empty(value)) continue;
    const dl = el("dl", { class: "profile" });
    const entries = value && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [[null, value]];
    for (const [key, v] of entries) {
      if (empty(v)) continue;
      const path = key === null ? [section] : [section, key];
      if (key !== null) dl.append(el("dt", {}, label(key)));
      const items = Array.isArray(v) && v.some((x) => x && typeof x === "object") ? v : [v];
      for (const item of items) {
        const src = item && typeof item === "object" && !Array.isArray(item) && item.source ? { system: item.source } : null;
        dl.append(el("dd", {}, plain(item), provenanceLine(src || provenanceOf(prov, path))));
      }
    }
    box.append(el("h4", {}, label(section)), dl);
  }
}

function showDetail(d) {
  const c = d.conversation;
  const fresh = $("detail-body").dataset.id !== String(c.id);
  $("detail-body").dataset.id = String(c.id);
  $("detail-placeholder").hidden = true;
  $("detail-body").hidden = false;
  $("d-title").textContent = customerLabel(c);
  showStatus(c);
  $("d-reason").textContent = d.reason;
  $("d-warning").hidden = !d.transcript_warning;
  $("d-warning").textContent = d.transcript_warning || "";
  const t = $("transcript");
  const atBottom = fresh || t.scrollTop + t.clientHeight >= t.scrollHeight - 24;
  t.replaceChildren(...d.transcript.map(line));
  if (atBottom) t.scrollTop = t.scrollHeight;
  $("notes").replaceChildren(...d.notes.map((n) => el("li", { class: n.kind }, `${n.author ? n.author + ": " : ""}${n.text}`)));
  renderProfile(d.profile);
  updateButtons();
}

function showStatus(c) {
  $("d-status").textContent = `${c.topic} · ${c.status}${c.agent ? ` (${c.agent})` : ""} · ${c.mode}`;
}

// The transcript has one source of truth, the server's detail (Rasa's tracker): live events only
// say that the selected conversation changed, and it is reloaded. Appending them instead showed
// lines twice when an event arrived just after a reload that already held it (e.g. the greeting
// right after Accept). Bursts coalesce into one reload after the one in flight.
async function loadSelected() {
  if (state.loading) { state.reloadAgain = true; return; }
  state.loading = true;
  try {
    do {
      state.reloadAgain = false;
      const id = state.selected;
      if (id === null) break;
      try {
        const d = await api("GET", `/api/conversations/${id}`);
        if (state.selected !== id) continue;
        state.convs.set(id, { ...(state.convs.get(id) || {}), ...d.conversation });
        showDetail(d);
      } catch (e) {
        if (state.selected === id) $("action-error").textContent = e.message;
      }
    } while (state.reloadAgain);
  } finally { state.loading = false; }
}

async function select(id) {
  if (state.selected !== id) {
    if (state.selected !== null) state.drafts.set(state.selected, $("reply-text").value);
    $("reply-text").value = state.drafts.get(id) || "";
    $("action-error").textContent = "";
  }
  state.selected = id;
  renderQueue();
  updateButtons();
  await loadSelected();
}

// The conversation on screen (while another one loads, actions still apply to what the agent sees).
function shown() {
  const id = $("detail-body").dataset.id;
  return id ? Number(id) : null;
}

function updateButtons() {
  const c = state.convs.get(shown());
  const mine = c && c.status === "assigned" && c.agent === state.agent;
  $("accept").disabled = state.busy || !(c && c.status === "waiting");
  for (const id of ["send", "transfer", "handback", "close"]) $(id).disabled = state.busy || !mine;
  $("add-note").disabled = state.busy || !c;
}

// One action at a time: the buttons stay disabled until the server answered (no double sends).
async function act(fn) {
  $("action-error").textContent = "";
  state.busy = true;
  updateButtons();
  try { await fn(); } catch (e) { $("action-error").textContent = e.message; } finally {
    state.busy = false;
    updateButtons();
  }
}

function onEvent(msg) {
  if (msg.type === "snapshot") {
    state.convs = new Map(msg.conversations.map((c) => [c.id, c]));
    if (state.selected !== null) loadSelected();  // (re)connected: catch up on what was missed
  } else if (msg.type === "conversation") {
    state.convs.set(msg.conversation.id, msg.conversation);
    if (msg.conversation.id === shown()) { showStatus(msg.conversation); updateButtons(); }
    if (msg.conversation.id === state.selected) loadSelected();
  } else if (msg.type === "withdrawn") {  // taken by another agent: no longer ours to see
    state.convs.delete(msg.conversation_id);
    if (msg.conversation_id === state.selected) {
      state.selected = null;
      $("detail-body").hidden = true; delete $("detail-body").dataset.id; $("detail-placeholder").hidden = false;
    }
  } else if (msg.type === "resync") {  // the service missed updates from the others: catch up
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send("snapshot");
  } else if (msg.type === "message") {
    if (msg.conversation_id === state.selected) loadSelected();
    else if (msg.message.kind === "customer" && state.convs.has(msg.conversation_id)) {
      state.convs.get(msg.conversation_id).unread += 1;
    }
  }
  renderQueue();
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(state.token)}`);
  state.ws = ws;
  ws.onopen = () => { state.retry = 0; $("link-state").textContent = "live"; };
  ws.onmessage = (ev) => { if (ev.data !== "pong") onEvent(JSON.parse(ev.data)); };
  ws.onclose = () => {
    if (state.ws !== ws || !state.token) return;
    $("link-state").textContent = "reconnecting…";
    const delay = Math.min(10000, 500 * 2 ** state.retry++);
    setTimeout(async () => {
      if (state.ws !== ws || !state.token) return;
      // a refused WebSocket handshake does not say why: ask the API, which logs out on 401
      try { await api("GET", "/api/queue"); } catch (e) { if (!state.token) return; }
      connect();
    }, delay);
  };
}
setInterval(() => { if (state.ws && state.ws.readyState === 1) state.ws.send("ping"); }, 20000);
setInterval(() => { if (state.token) renderQueue(); }, 5000);  // waiting times

function start(agent, skills) {
  state.agent = agent; state.skills = skills;
  $("login").hidden = true; $("console").hidden = false;
  $("me").textContent = agent; $("skills").textContent = skills.join(", ");
  connect();
}

function logout() {
  // the server revokes the session: the token is refused from now on, wherever it was copied
  if (state.token) {
    fetch("/api/logout", { method: "POST", headers: { Authorization: `Bearer ${state.token}` } }).catch(() => {});
  }
  sessionStorage.removeItem("tandem.token"); sessionStorage.removeItem("tandem.agent");
  const ws = state.ws;
  Object.assign(state, { token: null, agent: null, ws: null, selected: null, convs: new Map(), drafts: new Map() });
  if (ws) ws.close();
  $("detail-body").hidden = true; delete $("detail-body").dataset.id; $("detail-placeholder").hidden = false;
  $("reply-text").value = ""; $("action-error").textContent = ""; $("link-state").textContent = "connecting…";
  renderQueue();
  $("console").hidden = true; $("login").hidden = false;
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  api("POST", "/api/login", { name: $("login-name").value, password: $("login-password").value })
    .then((r) => {
      state.token = r.token;
      sessionStorage.setItem("tandem.token", r.token);
      sessionStorage.setItem("tandem.agent", JSON.stringify([r.agent, r.skills]));
      $("login-error").textContent = "";
      start(r.agent, r.skills);
    })
    .catch((e) => { $("login-error").textContent = e.message; });
});
$("logout").addEventListener("click", logout);
$("next").addEventListener("click", () => act(async () => {
  const r = await api("POST", "/api/queue/next");
  if (r) { state.convs.set(r.conversation.id, r.conversation); await select(r.conversation.id); } else $("action-error").textContent = "Nobody is waiting in your queues.";
}));
$("accept").addEventListener("click", () => act(async () => {
  const id = shown();
  const r = await api("POST", `/api/conversations/${id}/accept`);
  state.convs.set(id, r.conversation);
  await select(id);
}));
// The customer's widget shows "typing" while the agent types: sent on the console's socket at
// most every 2 s while typing, and "stopped" after 4 s without a key or when the text is sent.
const typing = { id: null, sentAt: 0, idle: null };
function sendTyping(id, on) {
  if (!state.ws || state.ws.readyState !== 1 || id === null) return;
  state.ws.send(JSON.stringify({ type: "typing", conversation_id: id, typing: on }));
}
function stopTyping() {
  clearTimeout(typing.idle);
  if (typing.id !== null) sendTyping(typing.id, false);
  typing.id = null; typing.sentAt = 0;
}
$("reply-text").addEventListener("input", () => {
  const id = shown();
  const c = state.convs.get(id);
  if (!c || c.status !== "assigned" || c.agent !== state.agent) return;
  if (typing.id !== id) { stopTyping(); typing.id = id; }
  const now = Date.now();
  if (now - typing.sentAt > 2000) { typing.sentAt = now; sendTyping(id, true); }
  clearTimeout(typing.idle);
  typing.idle = setTimeout(stopTyping, 4000);
});
$("reply-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  act(async () => {
    const text = $("reply-text").value.trim();
    if (!text) return;
    stopTyping();
    await api("POST", `/api/conversations/${shown()}/reply`, { text });
    $("reply-text").value = "";
  });
});
$("add-note").addEventListener("click", () => act(async () => {
  const text = $("reply-text").value.trim();
  if (!text) return;
  await api("POST", `/api/conversations/${shown()}/note`, { text });
  $("reply-text").value = "";
}));
$("transfer").addEventListener("click", () => act(async () => {
  await api("POST", `/api/conversations/${shown()}/transfer`, { topic: $("transfer-topic").value });
}));
$("handback").addEventListener("click", () => act(async () => { await api("POST", `/api/conversations/${shown()}/handback`); }));
$("close").addEventListener("click", () => act(async () => {
  await api("POST", `/api/conversations/${shown()}/close`, { disposition: $("disposition").value });
}));

const saved = sessionStorage.getItem("tandem.agent");
if (state.token && saved) { const [a, s] = JSON.parse(saved); start(a, s); }
