// tandem agent console: one page, live over a WebSocket, actions over the JSON API.
"use strict";

const state = { token: sessionStorage.getItem("tandem.token"), agent: null, skills: [],
  convs: new Map(), selected: null, ws: null, retry: 0 };
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

function renderQueue() {
  const list = $("queue");
  list.replaceChildren();
  const convs = [...state.convs.values()].filter((c) => c.status === "waiting" || c.status === "assigned");
  convs.sort((a, b) => (a.status === b.status ? a.id - b.id : a.status === "assigned" ? -1 : 1));
  for (const c of convs) {
    const who = c.customer_name || (c.customer_id ? `customer ${c.customer_id}` : "unidentified customer");
    const li = el("li", { class: `${c.status}${state.selected === c.id ? " selected" : ""}`, "data-id": String(c.id) },
      el("div", {}, el("b", {}, who), " ", c.priority > 0 ? el("span", { class: "prio" }, `P${c.priority}`) : "",
        " ", c.unread ? el("span", { class: "badge" }, String(c.unread)) : ""),
      el("div", { class: "meta" }, `${c.topic} · ${c.status === "waiting" ? `waiting ${waited(c)}` : `with ${c.agent}`}` +
        (c.mode !== "chat" ? ` · ${c.mode}` : "")),
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

function renderProfile(p) {
  const box = $("profile");
  box.replaceChildren();
  if (!p || p.status !== "ok") {
    box.append(el("p", { class: p && p.status === "unavailable" ? "warning" : "muted" },
      (p && p.message) || "Customer not identified."));
    return;
  }
  const dl = el("dl", { class: "profile" });
  const add = (key, value) => {
    if (value && typeof value === "object" && !Array.isArray(value) && "value" in value) {
      const src = value.source || value.provenance || value.sources;
      dl.append(el("dt", {}, key), el("dd", {}, String(Array.isArray(value.value) ? value.value.join(", ") : value.value ?? "—"),
        src ? el("div", { class: "prov" }, `from ${typeof src === "string" ? src : JSON.stringify(src)}`) : ""));
    } else if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) add(`${key} · ${k}`, v);
    } else {
      dl.append(el("dt", {}, key), el("dd", {}, Array.isArray(value) ? value.map((v) => typeof v === "object" ? JSON.stringify(v) : v).join(", ") : String(value ?? "—")));
    }
  };
  for (const [k, v] of Object.entries(p.summary || {})) add(k, v);
  box.append(dl);
}

async function select(id) {
  state.selected = id;
  renderQueue();
  $("action-error").textContent = "";
  try {
    const d = await api("GET", `/api/conversations/${id}`);
    if (state.selected !== id) return;
    state.convs.set(id, d.conversation);
    $("detail-placeholder").hidden = true;
    $("detail-body").hidden = false;
    const c = d.conversation;
    $("d-title").textContent = c.customer_name || (c.customer_id ? `Customer ${c.customer_id}` : "Unidentified customer");
    $("d-status").textContent = `${c.topic} · ${c.status}${c.agent ? ` (${c.agent})` : ""} · ${c.mode}`;
    $("d-reason").textContent = d.reason;
    $("d-warning").hidden = !d.transcript_warning;
    $("d-warning").textContent = d.transcript_warning || "";
    $("transcript").replaceChildren(...d.transcript.map(line));
    $("transcript").scrollTop = $("transcript").scrollHeight;
    $("notes").replaceChildren(...d.notes.map((n) => el("li", { class: n.kind }, `${n.author ? n.author + ": " : ""}${n.text}`)));
    renderProfile(d.profile);
    updateButtons();
  } catch (e) { $("action-error").textContent = e.message; }
}

function updateButtons() {
  const c = state.convs.get(state.selected);
  const mine = c && c.status === "assigned" && c.agent === state.agent;
  $("accept").disabled = !(c && c.status === "waiting");
  for (const id of ["send", "transfer", "handback", "close"]) $(id).disabled = !mine;
}

async function act(fn) {
  $("action-error").textContent = "";
  try { await fn(); } catch (e) { $("action-error").textContent = e.message; }
}

function onEvent(msg) {
  if (msg.type === "snapshot") {
    state.convs = new Map(msg.conversations.map((c) => [c.id, c]));
  } else if (msg.type === "conversation") {
    state.convs.set(msg.conversation.id, msg.conversation);
    if (msg.conversation.id === state.selected) {
      $("d-status").textContent = `${msg.conversation.topic} · ${msg.conversation.status}` +
        `${msg.conversation.agent ? ` (${msg.conversation.agent})` : ""} · ${msg.conversation.mode}`;
      updateButtons();
    }
  } else if (msg.type === "message") {
    const m = msg.message;
    if (msg.conversation_id === state.selected) {
      if (m.kind === "note" || m.kind === "system") $("notes").append(el("li", { class: m.kind }, `${m.author ? m.author + ": " : ""}${m.text}`));
      else { $("transcript").append(line(m)); $("transcript").scrollTop = $("transcript").scrollHeight; }
    } else if (m.kind === "customer" && state.convs.has(msg.conversation_id)) {
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
  ws.onclose = (ev) => {
    $("link-state").textContent = "reconnecting…";
    if (ev.code === 4401 || !state.token) return;
    const delay = Math.min(10000, 500 * 2 ** state.retry++);
    setTimeout(() => state.token && connect(), delay);
  };
}
setInterval(() => { if (state.ws && state.ws.readyState === 1) state.ws.send("ping"); renderQueue(); }, 20000);

function start(agent, skills) {
  state.agent = agent; state.skills = skills;
  $("login").hidden = true; $("console").hidden = false;
  $("me").textContent = agent; $("skills").textContent = skills.join(", ");
  connect();
}

function logout() {
  sessionStorage.removeItem("tandem.token"); sessionStorage.removeItem("tandem.agent");
  state.token = null; if (state.ws) state.ws.close();
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
  if (r) await select(r.conversation.id); else $("action-error").textContent = "Nobody is waiting in your queues.";
}));
$("accept").addEventListener("click", () => act(async () => { await api("POST", `/api/conversations/${state.selected}/accept`); await select(state.selected); }));
$("reply-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  act(async () => {
    const text = $("reply-text").value.trim();
    if (!text) return;
    await api("POST", `/api/conversations/${state.selected}/reply`, { text });
    $("reply-text").value = "";
  });
});
$("add-note").addEventListener("click", () => act(async () => {
  const text = $("reply-text").value.trim();
  if (!text) return;
  await api("POST", `/api/conversations/${state.selected}/note`, { text });
  $("reply-text").value = "";
}));
$("transfer").addEventListener("click", () => act(async () => {
  await api("POST", `/api/conversations/${state.selected}/transfer`, { topic: $("transfer-topic").value });
}));
$("handback").addEventListener("click", () => act(async () => { await api("POST", `/api/conversations/${state.selected}/handback`); }));
$("close").addEventListener("click", () => act(async () => {
  await api("POST", `/api/conversations/${state.selected}/close`, { disposition: $("disposition").value });
}));

const saved = sessionStorage.getItem("tandem.agent");
if (state.token && saved) { const [a, s] = JSON.parse(saved); start(a, s); }
