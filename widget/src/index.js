// tandem's chat widget. Embed with one script tag; configure (optionally) before it loads:
//
//   <script>window.TandemChat = { socketUrl: "https://bot.example.com", title: "Help" };</script>
//   <script src="https://help.example.com/widget/tandem-widget.js" defer></script>
//
// It talks to Rasa's socket.io channel (bot/channels/socketio.py) with the socket.io-client
// package, and to the handoff service's customer endpoints for what it missed while away.
// After loading, window.TandemChat is the widget's API: open(), close(), toggle().
import { io } from "socket.io-client";
import { clock, el, richText } from "./render.js";
import { styles } from "./styles.js";

const DEFAULTS = {
  socketUrl: null, // Rasa's base URL; default: the page's origin
  socketPath: "/socket.io",
  serviceUrl: null, // the handoff service (history, status, rating); default: where this script came from
  title: "Chat with us",
  subtitle: "We usually answer at once",
  colors: {},
  open: false, // start open
  storage: "local", // "local" | "session" | "none": where the session survives a reload
  identityToken: null, // string, or a function returning a string or a Promise of one (signed by the host site)
  greeting: null, // optional first line shown in an empty conversation (not sent)
};
const COLORS = { primary: "#1f4fb8", onPrimary: "#ffffff", customer: "#1f4fb8", onCustomer: "#ffffff", focus: "#f5a623" };
const STATUS_POLL_MS = 10000;
const TYPING_TIMEOUT_MS = 30000;
const AGENT_TYPING_TIMEOUT_MS = 6000; // the console repeats "typing" every 2 s while the agent types

const scriptUrl = document.currentScript && document.currentScript.src;

function memoryStorage() {
  const data = new Map();
  return { getItem: (k) => (data.has(k) ? data.get(k) : null), setItem: (k, v) => data.set(k, String(v)), removeItem: (k) => data.delete(k) };
}

function pickStorage(kind) {
  try {
    if (kind === "local") return window.localStorage;
    if (kind === "session") return window.sessionStorage;
  } catch {
    // storage blocked (privacy settings): the session lasts as long as the page
  }
  return memoryStorage();
}

function ordinal(n) {
  const s = ["th", "st", "nd", "rd"], v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}

class Widget {
  constructor(config) {
    this.config = { ...DEFAULTS, ...config, colors: { ...COLORS, ...(config.colors || {}) } };
    const origin = window.location.origin;
    this.socketUrl = (this.config.socketUrl || origin).replace(/\/$/, "");
    this.serviceUrl = (this.config.serviceUrl || (scriptUrl ? new URL(scriptUrl).origin : origin)).replace(/\/$/, "");
    this.storage = pickStorage(this.config.storage);
    this.key = `tandem-chat:${this.socketUrl}`;
    this.state = this.load();
    this.seen = new Set(); // bot lines shown, by timestamp and text (live and fetched lines overlap)
    this.confirmed = false;
    this.agent = null;
    this.identityToken = null;
    this.statusTimer = null;
    this.typingTimer = null;
    this.build();
    this.connect();
    if (this.config.open || this.state.open) this.open(false);
  }

  // -- persistence ------------------------------------------------------------------------------

  load() {
    const blank = { sessionId: null, sessionToken: null, lastTs: 0, unread: 0, open: false, outbox: [] };
    try {
      return { ...blank, ...(JSON.parse(this.storage.getItem(this.key)) || {}) };
    } catch {
      return blank;
    }
  }

  save() {
    try {
      this.storage.setItem(this.key, JSON.stringify(this.state));
    } catch {
      // full or blocked storage: keep going in memory
    }
  }

  // -- the DOM ----------------------------------------------------------------------------------

  build() {
    const host = el("div", { id: "tandem-chat" });
    const shadow = host.attachShadow({ mode: "open" });
    shadow.append(el("style", {}, styles(this.config.colors)));
    this.badge = el("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    this.launcher = el("button", {
      class: "launcher", type: "button", "aria-label": "Open chat", "aria-expanded": "false",
      "aria-controls": "tandem-panel", onclick: () => this.toggle(),
    }, "Chat", this.badge);
    this.statusLine = el("span", { class: "status" }, this.config.subtitle);
    this.queueLine = el("div", { class: "queue", hidden: true, role: "status" });
    this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
    this.typing = el("div", { class: "typing", hidden: true },
      el("span", { class: "dots", "aria-hidden": "true" }, el("span"), el("span"), el("span")),
      this.typingLabel = el("span", { class: "sr-only" }, "Typing"));
    this.input = el("textarea", { id: "tandem-message", rows: "1", maxlength: "2000", autocomplete: "off" });
    const form = el("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); this.submit(); } },
      el("label", { for: "tandem-message", class: "sr-only" }, "Message"),
      this.input,
      el("button", { class: "send", type: "submit" }, "Send"));
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submit(); }
    });
    this.panel = el("section", { id: "tandem-panel", class: "panel", hidden: true, role: "dialog", "aria-label": this.config.title },
      el("div", { class: "header" },
        el("h2", {}, this.config.title),
        this.statusLine,
        el("button", { class: "close", type: "button", "aria-label": "Close chat", onclick: () => this.close() }, "×")),
      this.queueLine, this.log, this.typing, form);
    this.panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); this.close(); } });
    shadow.append(el("div", { class: "root" }, this.panel, this.launcher));
    (document.body || document.documentElement).append(host);
    this.host = host;
    this.renderBadge();
  }

  open(focus = true) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", "Close chat window");
    this.state.open = true;
    this.state.unread = 0;
    this.save();
    this.renderBadge();
    this.scroll();
    if (focus) this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", "Open chat");
    this.state.open = false;
    this.save();
    this.launcher.focus();
  }

  toggle() {
    if (this.panel.hidden) this.open(); else this.close();
  }

  renderBadge() {
    const n = this.state.unread;
    this.badge.hidden = !n;
    this.badge.textContent = n > 9 ? "9+" : String(n);
    this.launcher.setAttribute("aria-label", this.panel.hidden ? (n ? `Open chat, ${n} unread` : "Open chat") : "Close chat window");
  }

  scroll() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  line(kind, text, { ts = Date.now() / 1000, who = null, pending = false } = {}) {
    const item = el("div", { class: `msg ${kind}${pending ? " pending" : ""}` });
    if (who) item.append(el("span", { class: "who" }, who));
    item.append(richText(text));
    item.append(el("time", { datetime: new Date(ts * 1000).toISOString() }, clock(ts)));
    this.log.append(item);
    this.scroll();
    return item;
  }

  system(text) {
    this.log.append(el("div", { class: "system" }, text));
    this.scroll();
  }

  replies(buttons) {
    const box = el("div", { class: "replies", role: "group", "aria-label": "Suggested replies" });
    for (const b of buttons) {
      const title = String(b.title ?? b.payload ?? "");
      const payload = String(b.payload ?? title);
      box.append(el("button", { class: "reply", type: "button", onclick: () => { box.remove(); this.send(payload, title); } }, title));
    }
    this.log.append(box);
    this.scroll();
  }

  showTyping(on, timeoutMs = TYPING_TIMEOUT_MS, who = null) {
    clearTimeout(this.typingTimer);
    this.typing.hidden = !on;
    this.typingLabel.textContent = who ? `${title(who)} is typing` : "Typing";
    if (on) this.typingTimer = setTimeout(() => { this.typing.hidden = true; }, timeoutMs);
  }

  // -- the connection ---------------------------------------------------------------------------

  async token() {
    const source = this.config.identityToken;
    try {
      const value = typeof source === "function" ? await source() : source;
      this.identityToken = typeof value === "string" && value ? value : null;
    } catch {
      this.identityToken = null; // no identity: served as an anonymous visitor
    }
    return this.identityToken;
  }

  connect() {
    this.socket = io(this.socketUrl, {
      path: this.config.socketPath,
      transports: ["websocket"],
      // called on every (re)connection, so a short-lived identity token is fetched fresh
      auth: (cb) => { this.token().then((t) => cb(t ? { identity_token: t } : {})); },
    });
    this.socket.on("connect", () => {
      this.confirmed = false;
      this.statusLine.textContent = this.config.subtitle;
      this.socket.emit("session_request", { session_id: this.state.sessionId, session_token: this.state.sessionToken });
    });
    this.socket.on("disconnect", () => {
      this.confirmed = false;
      this.statusLine.textContent = "Reconnecting…";
    });
    this.socket.on("connect_error", () => { this.statusLine.textContent = "Reconnecting…"; });
    this.socket.on("session_token", (data) => {
      if (data && data.session_id && data.token) {
        this.pendingToken = data;
      }
    });
    this.socket.on("session_confirm", (sessionId) => this.confirm(String(sessionId)));
    this.socket.on("session_refused", () => {
      // not ours (another signed-in customer's, or from before a sign-out): start afresh
      this.state = { ...this.state, sessionId: null, sessionToken: null, lastTs: 0, outbox: [] };
      this.seen.clear();
      this.log.replaceChildren();
      this.save();
      this.socket.emit("session_request", {});
    });
    this.socket.on("bot_uttered", (msg) => this.receive(msg || {}));
    // the agent typing in the console (bot/channels/socketio.py emits it to this conversation only)
    this.socket.on("typing", (d) => this.showTyping(!!(d && d.typing), AGENT_TYPING_TIMEOUT_MS, d && d.agent));
  }

  async confirm(sessionId) {
    const fresh = this.state.sessionId !== sessionId;
    if (this.pendingToken && this.pendingToken.session_id === sessionId) this.state.sessionToken = this.pendingToken.token;
    this.state.sessionId = sessionId;
    this.save();
    if (fresh || !this.synced) {
      this.log.replaceChildren();
      this.seen.clear();
      await this.sync(true);
      if (!this.log.childElementCount && this.config.greeting) this.system(this.config.greeting);
    } else {
      await this.sync(false);
    }
    this.confirmed = true;
    this.flush();
    this.refreshStatus();
  }

  async api(path, options = {}) {
    const response = await fetch(`${this.serviceUrl}${path}`, {
      ...options,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${this.state.sessionToken}`, ...(options.headers || {}) },
    });
    if (!response.ok) throw new Error(`${response.status}`);
    return response.json();
  }

  /** Show what the server has that this page has not: everything after a reload, bot lines since the last one seen after a drop. */
  async sync(full) {
    if (!this.state.sessionToken) return;
    const since = full ? 0 : this.state.lastTs;
    let data;
    try {
      const q = new URLSearchParams({ session_id: this.state.sessionId, since: String(since) });
      data = await this.api(`/widget/api/messages?${q}`);
    } catch {
      return; // the next reconnection tries again
    }
    this.synced = true;
    const arrived = new Set();
    for (const m of data.messages || []) {
      if (m.kind === "customer") {
        if (m.client_id) arrived.add(m.client_id);
        if (full) this.line("customer", m.text, { ts: m.timestamp });
      } else {
        this.receive(m, { quiet: full });
      }
    }
    // what the server already holds is not sent again; the rest is shown as pending and resent
    this.state.outbox = this.state.outbox.filter((m) => !arrived.has(m.id));
    this.save();
    if (full) for (const m of this.state.outbox) this.line("customer", m.display, { ts: m.ts, pending: true });
    if (data.conversation) this.showConversation(data.conversation);
  }

  receive(msg, { quiet = false } = {}) {
    const ts = Number(msg.timestamp) || Date.now() / 1000;
    const text = String(msg.text ?? "");
    const key = `${ts}|${text}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.state.lastTs = Math.max(this.state.lastTs || 0, ts);
    this.showTyping(false);
    if (msg.agent && msg.agent !== this.agent) {
      this.agent = msg.agent;
      this.system(`${title(msg.agent)} joined the conversation`);
    }
    if (text) this.line(msg.agent ? "agent" : "bot", text, { ts, who: msg.agent ? title(msg.agent) : null });
    const buttons = msg.quick_replies || msg.buttons;
    if (Array.isArray(buttons) && buttons.length) this.replies(buttons);
    if (msg.handed_back) {
      if (this.agent) this.system(`${title(this.agent)} left the conversation`);
      this.agent = null;
      if (!quiet) this.awaitFinish(10);
    }
    if (!quiet) {
      // the bot may just have queued the customer for an agent: show the position soon
      clearTimeout(this.refreshSoon);
      this.refreshSoon = setTimeout(() => this.refreshStatus(), 700);
    }
    if (!quiet && this.panel.hidden) {
      this.state.unread += 1;
      this.renderBadge();
    }
    this.save();
  }

  // -- sending ----------------------------------------------------------------------------------

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.send(text, text);
    this.input.focus();
  }

  send(payload, display) {
    const ts = Date.now() / 1000;
    const item = { id: `${ts.toFixed(3)}-${Math.random().toString(36).slice(2, 10)}`, payload, display, ts };
    this.state.outbox.push(item);
    this.save();
    this.line("customer", display, { ts });
    this.showTyping(true);
    if (this.confirmed) this.emit(item);
  }

  emit(item) {
    const customData = { client_id: item.id };
    if (this.identityToken) customData.identity_token = this.identityToken;
    if (item.display !== item.payload) customData.display = item.display;
    this.socket.timeout(20000).emit(
      "user_uttered",
      { message: item.payload, session_id: this.state.sessionId, customData },
      (err, ack) => {
        if (err || !ack || !ack.ok) return; // kept in the outbox: sent again on the next connection
        this.showTyping(false); // the server acknowledges once the bot has answered (or is paused for an agent)
        this.state.outbox = this.state.outbox.filter((m) => m.id !== item.id);
        this.save();
      });
  }

  flush() {
    for (const item of this.state.outbox) this.emit(item);
  }

  // -- the handoff: queue position, agent, rating -----------------------------------------------

  async refreshStatus() {
    clearTimeout(this.statusTimer);
    if (!this.state.sessionToken) return;
    try {
      const q = new URLSearchParams({ session_id: this.state.sessionId });
      const data = await this.api(`/widget/api/status?${q}`);
      this.showConversation(data.conversation);
    } catch {
      // shown again at the next change
    }
  }

  /** After an agent leaves, the service records how (closed or handed back) just after telling the customer. */
  async awaitFinish(tries) {
    for (let i = 0; i < tries; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 700));
      try {
        const q = new URLSearchParams({ session_id: this.state.sessionId });
        const conv = (await this.api(`/widget/api/status?${q}`)).conversation;
        if (!conv || conv.status !== "assigned") { this.showConversation(conv); return; }
      } catch {
        // try again
      }
    }
  }

  showConversation(conv) {
    clearTimeout(this.statusTimer);
    if (conv && conv.status === "waiting" && conv.position) {
      const wait = conv.wait ? `; estimated wait ${conv.wait}` : "";
      this.queueLine.textContent = `You are now ${ordinal(conv.position)} in the queue${wait}.`;
      this.queueLine.hidden = false;
      this.statusTimer = setTimeout(() => this.refreshStatus(), STATUS_POLL_MS);
    } else {
      this.queueLine.hidden = true;
    }
    if (conv && conv.status === "assigned" && conv.agent) this.agent = conv.agent;
    if (conv && conv.status === "closed" && conv.rating_due && !this.ratingShown) this.askRating(conv.id);
  }

  askRating(conversationId) {
    this.ratingShown = true;
    let chosen = 0;
    const stars = [1, 2, 3, 4, 5].map((n) => el("button", {
      class: "star", type: "button", "aria-pressed": "false", "aria-label": `${n} out of 5`,
      onclick: () => { chosen = n; for (const s of stars) s.setAttribute("aria-pressed", String(Number(s.dataset.n) === n)); },
      "data-n": n,
    }, String(n)));
    const comment = el("textarea", { id: "tandem-rating-comment", maxlength: "1000" });
    const error = el("div", { role: "alert" });
    const box = el("form", { class: "rating", "aria-label": "Rate this conversation" });
    box.append(el("fieldset", {},
      el("legend", {}, "How did we do? (1 = poor, 5 = great)"),
      el("div", { class: "stars" }, ...stars)),
    el("label", { for: "tandem-rating-comment" }, "Comment (optional)"), comment,
    el("button", { class: "send", type: "submit" }, "Send rating"), error);
    box.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!chosen) { error.textContent = "Please choose a rating from 1 to 5."; return; }
      try {
        await this.api("/widget/api/rating", {
          method: "POST",
          body: JSON.stringify({ session_id: this.state.sessionId, conversation_id: conversationId, rating: chosen, comment: comment.value }),
        });
        box.remove();
        this.system(`Thank you for rating this conversation ${chosen} out of 5.`);
      } catch {
        error.textContent = "Your rating could not be sent. Please try again.";
      }
    });
    this.log.append(box);
    this.scroll();
  }
}

function title(name) {
  const s = String(name);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function start() {
  const given = window.TandemChat;
  if (given && given.__widget) return; // loaded twice: keep the first
  const config = given && typeof given === "object" ? given : {};
  const widget = new Widget(config);
  window.TandemChat = {
    __widget: widget,
    open: () => widget.open(),
    close: () => widget.close(),
    toggle: () => widget.toggle(),
  };
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
