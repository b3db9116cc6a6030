/*
 * CRS information assistant: chat widget.
 *
 * Add to any page with one tag (attributes optional):
 *   <script src="https://BOT-HOST/webhooks/widget/crs-widget.js"
 *           data-server="https://BOT-HOST" data-locale="uk" data-title="CRS information"></script>
 *
 * Talks to the assistant over socket.io (websocket transport). Everything is rendered as text
 * (never as HTML) inside a shadow root, so the page's styles and the widget's do not mix.
 * Quotes are shown from the reply payload (design.md), not from the prose.
 */
(function () {
  "use strict";
  if (window.__crsWidgetLoaded) return;
  window.__crsWidgetLoaded = true;

  var script = document.currentScript || (function () {
    var all = document.getElementsByTagName("script");
    return all[all.length - 1];
  })();
  var scriptUrl = new URL(script.src, window.location.href);
  var SERVER = (script.getAttribute("data-server") || scriptUrl.origin).replace(/\/$/, "");
  var LOCALE = (script.getAttribute("data-locale") || "uk").toLowerCase() === "us" ? "us" : "uk";
  var TITLE = script.getAttribute("data-title") || "CRS information";
  var BASE = scriptUrl.href.replace(/[^/]*$/, "");
  var STORE = "crs-widget:" + SERVER;
  var EMERGENCY = { uk: { number: "999", place: "A&E" }, us: { number: "911", place: "the ER" } }[LOCALE];
  var FLUSH_MS = 350;

  var CSS = [
    ":host{all:initial;position:fixed;right:16px;bottom:16px;z-index:2147483000;font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1a1a1a}",
    "*{box-sizing:border-box}",
    "button,input,textarea{font:inherit}",
    ".launcher{display:flex;align-items:center;gap:8px;background:#0b5394;color:#fff;border:0;border-radius:28px;padding:12px 18px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)}",
    ".launcher:hover{background:#083d6e}",
    ":focus-visible{outline:3px solid #ffbf47;outline-offset:2px}",
    ".panel{display:none;flex-direction:column;width:min(380px,calc(100vw - 32px));height:min(600px,calc(100vh - 32px));background:#fff;border:1px solid #6b6b6b;border-radius:12px;box-shadow:0 4px 18px rgba(0,0,0,.3);overflow:hidden}",
    ".panel.open{display:flex}",
    "header{display:flex;flex-wrap:wrap;align-items:center;gap:6px;background:#0b5394;color:#fff;padding:8px 10px}",
    "header h2{flex:1 1 120px;min-width:0;margin:0;font-size:1rem;overflow-wrap:anywhere}",
    "header button{background:transparent;color:#fff;border:1px solid #fff;border-radius:6px;padding:4px 8px;cursor:pointer;white-space:nowrap;font-size:.9rem}",
    ".banner{display:none;background:#b10e1e;color:#fff;padding:10px 12px;font-weight:600}",
    ".banner.show{display:block}",
    ".banner a{display:inline-block;margin-top:6px;background:#fff;color:#b10e1e;padding:6px 12px;border-radius:6px;font-weight:700;text-decoration:none}",
    ".status{display:none;background:#fff4ce;color:#3d3000;padding:6px 12px;font-size:.9rem}",
    ".status.show{display:block}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f4f6f8}",
    ".msg{max-width:92%;padding:8px 10px;border-radius:10px;white-space:pre-line;overflow-wrap:anywhere}",
    ".user{align-self:flex-end;background:#0b5394;color:#fff}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #c8cdd2}",
    ".bot.emergency{background:#fde7e9;border:2px solid #b10e1e;color:#5c0009;font-weight:600}",
    ".bot.urgent{background:#fff4ce;border:2px solid #8a6d00;color:#3d3000}",
    "blockquote{margin:0;align-self:flex-start;max-width:92%;background:#fff;border-left:4px solid #0b5394;padding:8px 10px;white-space:pre-line;overflow-wrap:anywhere}",
    "blockquote footer{margin-top:6px;font-size:.85rem;color:#4a4a4a}",
    "blockquote .caveat{display:block;color:#7a3e00}",
    ".replies{display:flex;flex-wrap:wrap;gap:6px}",
    ".replies button{background:#fff;color:#0b5394;border:1px solid #0b5394;border-radius:16px;padding:4px 10px;cursor:pointer}",
    ".typing{align-self:flex-start;color:#4a4a4a;font-style:italic}",
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #c8cdd2;background:#fff}",
    "label.visually-hidden,.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "form input{flex:1;min-width:0;padding:8px;border:1px solid #6b6b6b;border-radius:6px}",
    "form button{background:#0b5394;color:#fff;border:0;border-radius:6px;padding:8px 12px;cursor:pointer}",
    ".notice{font-size:.8rem;color:#4a4a4a;padding:0 12px 6px;background:#fff}",
  ].join("\n");

  // ---- state kept in the browser: the session id and what was shown --------------------------
  function load() {
    try { return JSON.parse(window.localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  var state = load();
  state.items = Array.isArray(state.items) ? state.items.slice(-200) : [];
  function save() {
    try { window.localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* storage full or off */ }
  }

  // ---- DOM ---------------------------------------------------------------------------------
  var host = document.createElement("div");
  host.id = "crs-widget";
  var root = host.attachShadow({ mode: "open" });
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  var style = el("style");
  style.textContent = CSS;
  var launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "crs-panel" }, "Questions about CRS? Chat with us");
  var panel = el("section", { class: "panel", id: "crs-panel", role: "dialog", "aria-label": TITLE });
  var header = el("header");
  header.appendChild(el("h2", {}, TITLE));
  var restart = el("button", { type: "button", class: "restart" }, "New conversation");
  var close = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, "Close");
  header.appendChild(restart);
  header.appendChild(close);
  var banner = el("div", { class: "banner", role: "alert" });
  var status = el("div", { class: "status", role: "status" }, "You are offline. Reconnecting… Your messages will be sent when the connection is back.");
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
  var notice = el("p", { class: "notice" }, "Information, not medical advice. In an emergency call " + EMERGENCY.number + ".");
  var form = el("form", { "aria-label": "Send a message" });
  var label = el("label", { for: "crs-input", class: "visually-hidden" }, "Your message");
  var input = el("input", { id: "crs-input", type: "text", autocomplete: "off", maxlength: "2000", placeholder: "Type your question" });
  var send = el("button", { type: "submit" }, "Send");
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  [header, banner, status, log, notice, form].forEach(function (node) { panel.appendChild(node); });
  root.appendChild(style);
  root.appendChild(launcher);
  root.appendChild(panel);

  // ---- rendering (text only, never HTML) ----------------------------------------------------
  function scrollDown() { log.scrollTop = log.scrollHeight; }
  function formatDate(iso) {
    var d = new Date(iso + "T00:00:00Z");
    if (isNaN(d)) return iso;
    return d.toLocaleDateString(LOCALE === "us" ? "en-US" : "en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  }
  function renderItem(item) {
    if (item.kind === "user") {
      log.appendChild(el("div", { class: "msg user" }, item.text));
    } else if (item.kind === "text") {
      log.appendChild(el("div", { class: "msg bot" + (item.level ? " " + item.level : "") }, item.text));
    } else if (item.kind === "quote") {
      var q = el("blockquote", { "data-source": item.quote.source_id || "", "data-passage": item.quote.passage_id || "" });
      q.appendChild(el("p", { style: "margin:0" }, item.quote.text));
      var footer = el("footer", {}, "— " + item.quote.title + ", last reviewed " + formatDate(item.quote.last_reviewed));
      if (item.quote.review_overdue) {
        footer.appendChild(el("span", { class: "caveat" }, "This page was last reviewed on " + formatDate(item.quote.last_reviewed) + " and is due for review: check anything important with your treatment team."));
      }
      q.appendChild(footer);
      log.appendChild(q);
    } else if (item.kind === "replies") {
      var box = el("div", { class: "replies", role: "group", "aria-label": "Suggested replies" });
      item.replies.forEach(function (reply) {
        var button = el("button", { type: "button" }, reply.title);
        button.addEventListener("click", function () { userSays(reply.title, reply.payload); });
        box.appendChild(button);
      });
      log.appendChild(box);
    }
  }
  function show(item) {
    state.items.push(item);
    save();
    renderItem(item);
    scrollDown();
  }
  function showBanner(instruction) {
    banner.textContent = "";
    var number = (instruction && instruction.emergency_number) || EMERGENCY.number;
    banner.appendChild(el("div", {}, (instruction && instruction.text) || ("Call " + number + " now.")));
    banner.appendChild(el("a", { href: "tel:" + number.replace(/[^0-9+]/g, "") }, "Call " + number));
    banner.classList.add("show");
    state.banner = { text: (instruction && instruction.text) || "", emergency_number: number };
    save();
  }

  // ---- a turn's messages: prose is held back until its payload says how to show it ----------
  var pending = [];
  var pendingReplies = [];
  var flushTimer = null;
  var typing = null;
  function stopTyping() { if (typing) { typing.remove(); typing = null; } }
  function flushPending(level) {
    clearTimeout(flushTimer);
    pending.forEach(function (text) { show({ kind: "text", text: text, level: level || "" }); });
    pending = [];
    if (pendingReplies.length) { show({ kind: "replies", replies: pendingReplies }); pendingReplies = []; }
  }
  function onPayload(payload) {
    var triage = payload.triage || {};
    var level = triage.level === "emergency" || triage.level === "urgent" ? triage.level : "";
    var replyLevel = payload.triage_reply || (payload.instruction && payload.instruction.level) || "";
    if (payload.instruction && payload.instruction.level === "emergency") showBanner(payload.instruction);
    if (Array.isArray(payload.display) && payload.display.length) {
      clearTimeout(flushTimer);
      pending = [];
      var quotes = Array.isArray(payload.quotes) ? payload.quotes : [];
      payload.display.forEach(function (part, i) {
        if (part.type === "quote" && quotes[part.index]) {
          show({ kind: "quote", quote: quotes[part.index] });
        } else if (part.type === "text") {
          var isInstruction = i === 0 && (replyLevel === "emergency" || replyLevel === "urgent");
          show({ kind: "text", text: String(part.text), level: isInstruction ? replyLevel : "" });
        }
      });
      if (pendingReplies.length) { show({ kind: "replies", replies: pendingReplies }); pendingReplies = []; }
    } else {
      flushPending(level && replyLevel ? level : "");
    }
  }
  function onBotMessage(message) {
    stopTyping();
    if (!message || typeof message !== "object") return;
    if (typeof message.text === "string" && message.text.trim()) pending.push(message.text);
    if (Array.isArray(message.quick_replies)) {
      pendingReplies = message.quick_replies.filter(function (r) { return r && r.title; }).map(function (r) {
        return { title: String(r.title), payload: String(r.payload || r.title) };
      });
    }
    if (message.custom && typeof message.custom === "object") {
      onPayload(message.custom);
    } else {
      clearTimeout(flushTimer);
      flushTimer = setTimeout(function () { flushPending(""); }, FLUSH_MS);
    }
  }

  // ---- connection -------------------------------------------------------------------------
  var socket = null;
  var outbox = [];
  var confirmed = false;
  function connect() {
    if (socket || typeof window.io !== "function") return;
    socket = window.io(SERVER, { path: "/socket.io", transports: ["websocket"], reconnection: true, reconnectionDelayMax: 5000 });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: state.session_id || null });
    });
    socket.on("session_confirm", function (sessionId) {
      state.session_id = typeof sessionId === "string" ? sessionId : (sessionId && sessionId.session_id) || state.session_id;
      save();
      confirmed = true;
      status.classList.remove("show");
      while (outbox.length) emit(outbox.shift());
    });
    socket.on("disconnect", function () { confirmed = false; status.classList.add("show"); });
    socket.on("connect_error", function () { confirmed = false; status.classList.add("show"); });
    socket.on("bot_uttered", onBotMessage);
  }
  function emit(message) {
    socket.emit("user_uttered", { message: message, session_id: state.session_id, metadata: { locale: LOCALE } });
  }
  function userSays(text, payload) {
    text = String(text || "").trim();
    if (!text) return;
    show({ kind: "user", text: text });
    var message = payload || text;
    if (!typing) { typing = el("div", { class: "typing", "aria-hidden": "true" }, "The assistant is typing…"); log.appendChild(typing); scrollDown(); }
    if (confirmed && socket && socket.connected) emit(message); else outbox.push(message);
  }

  // ---- opening, closing, keyboard ---------------------------------------------------------
  function open() {
    panel.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.style.display = "none";
    state.open = true;
    save();
    connect();
    if (!state.items.length) {
      show({ kind: "text", text: "Hello. I can share reviewed information about cytokine release syndrome (CRS). This is information, not medical advice. In an emergency call " + EMERGENCY.number + " now." });
      show({ kind: "replies", replies: [
        { title: "What is CRS?", payload: "/ask_about_crs" },
        { title: "Symptoms", payload: "/ask_symptoms" },
        { title: "When to get help", payload: "/ask_when_to_get_help" },
        { title: "Is this an emergency?", payload: "/ask_is_emergency" },
      ] });
    }
    input.focus();
  }
  function closePanel() {
    panel.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.style.display = "";
    state.open = false;
    save();
    launcher.focus();
  }
  launcher.addEventListener("click", open);
  close.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") closePanel(); });
  restart.addEventListener("click", function () {
    state = { items: [], open: true };
    save();
    log.textContent = "";
    banner.classList.remove("show");
    banner.textContent = "";
    if (socket) { socket.emit("session_request", { session_id: null }); }
    open();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    userSays(text);
    input.focus();
  });

  function start() {
    document.body.appendChild(host);
    state.items.forEach(renderItem);
    if (state.banner) showBanner(state.banner);
    if (state.open) { open(); scrollDown(); }
  }

  // the socket.io client, from the same server as this script
  if (typeof window.io === "function") {
    start();
  } else {
    var client = document.createElement("script");
    client.src = BASE + "vendor/socket.io.min.js";
    client.onload = function () { if (state.open) connect(); };
    document.head.appendChild(client);
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
  }
})();
