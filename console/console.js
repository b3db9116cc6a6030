/* The helpline console (issue 12). Everything from the server is shown as text (textContent),
   never as HTML. Drafts of replies and notes are kept in this browser until they are sent, so a
   session that expires mid-reply loses nothing. */
(function () {
  "use strict";
  var csrf = "";
  var current = null; // the open case id
  var lines = [];     // assist mode: what the caller said
  var DRAFTS = "crs-helpline-drafts";

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function status(text) { $("status").textContent = text || ""; }
  function time(at) {
    if (!at) return "";
    var d = new Date(at * 1000);
    return d.toLocaleString("en-GB", { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" });
  }
  function age(at) {
    var minutes = Math.max(0, Math.round((Date.now() / 1000 - at) / 60));
    return minutes < 60 ? minutes + " min" : Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function drafts() { try { return JSON.parse(localStorage.getItem(DRAFTS) || "{}"); } catch (e) { return {}; } }
  function saveDraft(kind, value) {
    var all = drafts();
    if (!current) return;
    all[kind + ":" + current] = value;
    localStorage.setItem(DRAFTS, JSON.stringify(all));
  }
  function draft(kind) { return current ? drafts()[kind + ":" + current] || "" : ""; }
  function dropDraft(kind) { var all = drafts(); delete all[kind + ":" + current]; localStorage.setItem(DRAFTS, JSON.stringify(all)); }

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: {} };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    return fetch("api/" + path, options).then(function (response) {
      if (response.status === 401) {
        if (current) sessionStorage.setItem("crs-helpline-case", current);
        status("Your session has ended. Your draft is kept: log in again to send it.");
        window.location.href = "login";
        throw new Error("logged out");
      }
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
        return data;
      });
    });
  }

  // ---- queue -------------------------------------------------------------------------------
  function levelName(level) { return level === "request" ? "asked for a nurse" : level; }
  function renderQueue(cases) {
    var list = $("queue");
    clear(list);
    $("queue-count").textContent = "(" + cases.length + ")";
    cases.forEach(function (c) {
      var item = el("li");
      var button = el("button", { type: "button", class: c.level, "data-case": c.conversation_id });
      if (c.conversation_id === current) button.setAttribute("aria-current", "true");
      button.appendChild(el("span", { class: "tag " + c.level }, levelName(c.level).toUpperCase()));
      if (c.alert_at) button.appendChild(el("span", { class: "tag flag" }, "RED FLAG WHILE HELD"));
      var present = (c.summary.red_flags || []).filter(function (f) { return f.status === "present"; })
        .map(function (f) { return f.label; });
      button.appendChild(el("span", {}, (present.length ? present.join(", ") : (c.requested ? "asked to talk to a nurse" : "symptoms reported"))));
      button.appendChild(el("br"));
      button.appendChild(el("small", {}, c.channel + " · first finding " + age(c.first_finding_at) + " ago · " +
        (c.holder ? "held by " + c.holder : "not claimed") + (c.gone ? " · deleted by the person" : "")));
      button.addEventListener("click", function () { openCase(c.conversation_id); });
      item.appendChild(button);
      list.appendChild(item);
    });
    fillCaseChoice(cases);
  }
  function loadQueue() {
    return api("GET", "queue").then(function (data) { renderQueue(data.cases); return data.cases; });
  }

  // ---- one case ----------------------------------------------------------------------------
  function renderCase(c) {
    $("case-title").textContent = levelName(c.level).toUpperCase() + " · " + c.channel + " conversation";
    $("case-hint").textContent = (c.holder ? "Held by " + c.holder : "Not claimed") + " · first finding " + time(c.first_finding_at) +
      (c.gone ? " · the person deleted this conversation" : "");
    $("case-body").hidden = false;
    $("claim").disabled = !!c.holder;
    $("resolve").disabled = !!c.holder && c.holder !== $("nurse").textContent;
    var alertBox = $("case-alert");
    var during = c.summary.red_flags_during_hold || [];
    alertBox.hidden = !during.length;
    alertBox.textContent = during.length ? "Red flag while you hold this conversation (" + time(during[during.length - 1].at) +
      "): the emergency instruction was sent to the person at once." : "";
    var sbar = $("sbar");
    clear(sbar);
    [["Situation", "situation"], ["Background", "background"], ["Assessment", "assessment"], ["Recommendation", "recommendation"]]
      .forEach(function (pair) { sbar.appendChild(el("dt", {}, pair[0])); sbar.appendChild(el("dd", {}, c.summary.sbar[pair[1]])); });
    var flags = $("flags");
    clear(flags);
    c.summary.red_flags.forEach(function (f) {
      var row = el("tr");
      row.appendChild(el("th", { scope: "row" }, f.label));
      row.appendChild(el("td", { class: "st-" + f.status }, f.status.replace("_", " ")));
      row.appendChild(el("td", {}, f.words.map(function (w) { return "“" + w.text + "” (" + w.assertion + ", " + time(w.at) + ")"; }).join("; ")));
      flags.appendChild(row);
    });
    var other = $("other");
    clear(other);
    c.summary.symptoms.forEach(function (s) {
      other.appendChild(el("li", {}, s.label + ": " + s.status + (s.words.length ? " (“" + s.words[0].text + "”, " + time(s.words[0].at) + ")" : "")));
    });
    c.summary.treatments.forEach(function (t) { other.appendChild(el("li", {}, "Treatment or drug mentioned: " + t.id)); });
    c.summary.check.forEach(function (q) { other.appendChild(el("li", {}, "Yes/no check, " + q.question + ": " + q.answer)); });
    if (!other.firstChild) other.appendChild(el("li", {}, "None"));
    var given = $("given");
    clear(given);
    c.summary.given.forEach(function (g) {
      var notices = { nurse_reply: "nurse reply", request: "told about the helpline (asked for a nurse)", held: "told a nurse holds the conversation", resumed: "told the assistant is back" };
      var what = g.instruction ? g.instruction + " instruction" : (g.helpline ? notices[g.helpline] || g.helpline : (g.topic ? "answer: " + g.topic : "quotes"));
      given.appendChild(el("li", {}, time(g.at) + ": " + what + (g.quotes.length ? "; quotes " + g.quotes.join(", ") : "")));
    });
    if (!given.firstChild) given.appendChild(el("li", {}, "Nothing yet"));
    var transcript = $("transcript");
    clear(transcript);
    c.transcript.forEach(function (line) {
      var item = el("li", { class: line.flag ? "flagged" : "" });
      var who = line.who === "person" ? "Person" : (line.who === "nurse" ? "Nurse " + (line.nurse || "") : "Assistant");
      item.appendChild(el("span", { class: "who" }, who + " · " + time(line.at) + (line.level && line.level !== "none" ? " · " + line.level.toUpperCase() : "") +
        (line.flag ? " · RED FLAG WHILE HELD" : "") + ": "));
      item.appendChild(el("span", {}, line.text));
      transcript.appendChild(item);
    });
    var notes = $("notes");
    clear(notes);
    c.notes.forEach(function (n) {
      notes.appendChild(el("li", {}, n.nurse + " · " + time(n.at) + (n.kind === "triage_log" ? " · triage log" : "") + "\n" + n.text));
    });
  }
  function openCase(id) {
    current = id;
    return api("GET", "cases/" + encodeURIComponent(id)).then(function (c) {
      renderCase(c);
      $("reply").value = draft("reply");
      $("note").value = draft("note");
      Array.prototype.forEach.call(document.querySelectorAll("#queue button"), function (b) {
        if (b.getAttribute("data-case") === id) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
      });
    }).catch(function (error) { status(error.message); });
  }
  function refreshCase() { if (current) return openCase(current); }

  $("claim").addEventListener("click", function () {
    api("POST", "cases/" + encodeURIComponent(current) + "/claim").then(function () { status("You hold this conversation. The assistant is silent in it, except for red flags."); return Promise.all([refreshCase(), loadQueue()]); })
      .catch(function (error) { status(error.message); refreshCase(); });
  });
  $("resolve").addEventListener("click", function () {
    api("POST", "cases/" + encodeURIComponent(current) + "/resolve").then(function () {
      status("Resolved. The assistant has taken over again and told the person.");
      current = null; $("case-body").hidden = true; $("case-title").textContent = "No conversation open";
      return loadQueue();
    }).catch(function (error) { status(error.message); });
  });
  $("reply").addEventListener("input", function () { saveDraft("reply", $("reply").value); });
  $("note").addEventListener("input", function () { saveDraft("note", $("note").value); });
  $("reply-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("reply").value;
    if (!text.trim()) return;
    api("POST", "cases/" + encodeURIComponent(current) + "/reply", { text: text }).then(function (r) {
      $("reply").value = ""; dropDraft("reply"); status("Reply sent by " + r.channel + "."); return refreshCase();
    }).catch(function (error) { status("Not sent: " + error.message); });
  });
  $("note-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("note").value;
    if (!text.trim()) return;
    api("POST", "cases/" + encodeURIComponent(current) + "/notes", { text: text }).then(function () {
      $("note").value = ""; dropDraft("note"); status("Note added."); return refreshCase();
    }).catch(function (error) { status("Not saved: " + error.message); });
  });

  // ---- assist mode -------------------------------------------------------------------------
  function fillCaseChoice(cases) {
    var select = $("assist-case");
    var chosen = select.value;
    clear(select);
    select.appendChild(el("option", { value: "" }, "Choose a case"));
    cases.forEach(function (c) { select.appendChild(el("option", { value: c.conversation_id }, levelName(c.level) + " · " + c.channel + " · " + time(c.first_finding_at))); });
    select.value = chosen;
  }
  function renderAssist(r) {
    var list = $("caller-lines");
    clear(list);
    lines.forEach(function (line) { list.appendChild(el("li", {}, line)); });
    $("assist-level").textContent = "Level: " + r.level.toUpperCase();
    $("assist-instruction").textContent = r.instruction ? "Instruction: " + r.instruction : "";
    var rules = $("assist-rules");
    clear(rules);
    r.findings.forEach(function (f) {
      rules.appendChild(el("li", {}, f.rule + " (" + f.label + ", " + f.assertion + ", “" + f.words + "”, detector " + f.detector +
        (f.score ? " " + f.score.toFixed(2) : "") + ")"));
    });
    if (!rules.firstChild) rules.appendChild(el("li", {}, "None"));
    var checklist = $("assist-checklist");
    clear(checklist);
    r.checklist.forEach(function (item) {
      var li = el("li");
      var box = el("input", { type: "checkbox", id: "ask-" + item.id, value: item.id });
      li.appendChild(box);
      li.appendChild(el("label", { for: "ask-" + item.id, class: "inline" }, "Asked about " + item.label));
      checklist.appendChild(li);
    });
    var passages = $("assist-passages");
    clear(passages);
    r.passages.forEach(function (p) {
      var quote = el("blockquote", {}, p.text);
      quote.appendChild(el("footer", {}, p.title + " (" + p.source_id + ", passage " + p.passage_id + "), last reviewed " + p.last_reviewed +
        ", next review " + p.next_review + (p.review_overdue ? ", REVIEW OVERDUE" : "")));
      passages.appendChild(quote);
    });
  }
  function runAssist() {
    return api("POST", "assist", { lines: lines }).then(renderAssist).catch(function (error) { status(error.message); });
  }
  $("assist-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("caller").value.trim();
    if (!text) return;
    lines.push(text);
    $("caller").value = "";
    runAssist();
  });
  $("assist-clear").addEventListener("click", function () { lines = []; runAssist(); });
  $("assist-save").addEventListener("submit", function (event) {
    event.preventDefault();
    var id = $("assist-case").value;
    if (!id || !lines.length) { status("Choose a case and type what the caller says first."); return; }
    var asked = Array.prototype.map.call(document.querySelectorAll("#assist-checklist input:checked"), function (b) { return b.value; });
    api("POST", "cases/" + encodeURIComponent(id) + "/triage-log", { lines: lines, asked: asked })
      .then(function () { status("Triage log saved to the case."); }).catch(function (error) { status(error.message); });
  });
  function show(view) {
    $("queue-view").hidden = view !== "queue";
    $("assist-view").hidden = view !== "assist";
    $("show-queue").setAttribute("aria-pressed", String(view === "queue"));
    $("show-assist").setAttribute("aria-pressed", String(view === "assist"));
  }
  $("show-queue").addEventListener("click", function () { show("queue"); });
  $("show-assist").addEventListener("click", function () { show("assist"); });
  $("logout").addEventListener("click", function () {
    api("POST", "logout").then(function (r) { window.location.href = "login"; });
  });

  // ---- live updates ------------------------------------------------------------------------
  function listen() {
    var source = new EventSource("api/stream");
    source.addEventListener("queue", function (event) {
      var changed = [];
      try { changed = JSON.parse(event.data).changed || []; } catch (e) { changed = []; }
      loadQueue();
      if (current && changed.indexOf(current) >= 0) refreshCase();
    });
    source.addEventListener("expired", function () {
      source.close();
      if (current) sessionStorage.setItem("crs-helpline-case", current);
      window.location.href = "login";
    });
  }

  api("GET", "me").then(function (me) {
    csrf = me.csrf;
    $("nurse").textContent = me.nurse;
    $("hours").textContent = me.helpline_open ? "Helpline open" : "Helpline closed (opens " + me.opens + ")";
    return loadQueue();
  }).then(function () {
    var back = sessionStorage.getItem("crs-helpline-case");
    if (back) { sessionStorage.removeItem("crs-helpline-case"); openCase(back); }
    listen();
  }).catch(function (error) { status(error.message); });
})();
