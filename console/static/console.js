// Holdless agent console: polls /api/me/current every second and drives the /api endpoints.
"use strict";
(function () {
  const POLL_MS = 1000;
  const AUTOSAVE_MS = 400;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let shownId = null;      // the interaction on screen
  let revealed = null;     // the full number, fetched once on request (audited server-side)
  let draftTimer = null;
  let draftDirty = false;

  async function api(method, path, body) {
    const options = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      options.headers["X-CSRFToken"] = csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch(path, options);
    if (response.status === 401) { window.location.assign("/sign-in?next=/console"); throw new Error("signed out"); }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || response.statusText);
    return data;
  }

  function say(text, isError) {
    $("message").textContent = text;
    $("message").className = isError ? "error" : "";
  }

  function item(text, className) {
    const li = document.createElement("li");
    li.textContent = text;
    if (className) li.className = className;
    return li;
  }

  function fill(list, items) { list.replaceChildren(...items); }

  function when(iso) { return iso ? new Date(iso).toLocaleTimeString() : "—"; }

  function minutes(seconds) {
    const s = Math.round(seconds || 0);
    return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s";
  }

  function renderCaller(i) {
    $("caller-name").textContent = i.caller.name || "Unknown caller";
    $("phase").textContent = i.phase ? "(" + i.phase + ")" : "";
    $("difficult-badge").hidden = !i.caller.difficult;
    $("caller-number").textContent = i.caller.number_hidden ? "hidden" : (revealed || i.caller.number);
    $("reveal").hidden = i.caller.number_hidden || !!revealed;
    $("account-ref").textContent = i.caller.account_ref || "—";
    $("queue").textContent = i.queue ? i.queue.name : "—";
    const choices = Object.entries(i.ivr_choices || {}).map(([k, v]) => k + ": " + v);
    $("ivr-choices").textContent = choices.length ? choices.join(", ") : "—";
    $("waited").textContent = minutes(i.waited_seconds);
    renderCallback(i.callback);
  }

  function renderCallback(cb) {
    $("callback").textContent = cb ? "callback, attempt " + cb.attempt + " of " + cb.max_attempts +
      " · reference " + cb.reference + " · " + cb.status : "—";
    const link = $("callback-recording");
    link.hidden = !(cb && cb.recording_url);
    if (cb && cb.recording_url) link.href = cb.recording_url;
  }

  function callbackLine(c) {
    const tries = c.attempts.map((a) => "#" + a.number + " " + when(a.started_at) +
      (a.agent ? " " + a.agent : "") + ": " + a.outcome);
    return "requested " + when(c.requested_at) + " · " + c.queue + " · " + c.reference + " · " +
      c.status + (tries.length ? " · " + tries.join("; ") : " · no attempt yet");
  }

  function renderLists(i) {
    const me = Number($("me").dataset.agentId);
    fill($("notes"), i.notes.filter((n) => !(n.draft && n.author_id === me)).map((n) =>
      item(n.author + " · " + when(n.updated_at) + (n.draft ? " (typing)" : "") + ": " + n.text,
           n.draft ? "draft" : "")));
    fill($("legs"), i.legs.map((l) =>
      item((l.agent || "queue") + " · " + l.kind + (l.reason ? " · " + l.reason : "") +
           " · " + when(l.started_at) + "–" + (l.ended_at ? when(l.ended_at) : "now"))));
    fill($("history"), i.history.length ? i.history.map((h) =>
      item(when(h.created_at) + " " + (h.queue || "") + " · " + (h.outcome || h.status) +
           (h.dispositions.length ? " · " + h.dispositions.join(", ") : ""))) : [item("none")]);
    const survey = i.survey || [];
    fill($("survey"), survey.length ? survey.map((a) =>
      item(a.question + ": " + a.answer + (a.agent ? " (about " + a.agent + ")" : ""))) : [item("none")]);
    const callbacks = i.callback_history || [];
    fill($("callback-history"), callbacks.length ? callbacks.map((c) => item(callbackLine(c))) : [item("none")]);
  }

  function renderForms(i) {
    const select = $("disposition");
    if (!select.options.length) {
      select.replaceChildren(...i.dispositions.map((d) => new Option(d, d)));
    }
    $("wrap-up-form").hidden = i.phase !== "wrap-up" || !!i.wrap_up;
    $("transfer-form").hidden = i.phase !== "connected";
  }

  function render(data) {
    $("state").textContent = data.state;
    $("offline-reason").textContent = data.offline_reason ? "Taken offline: " + data.offline_reason : "";
    $("end-wrap-up").hidden = data.state !== "wrap-up";
    const i = data.interaction;
    $("idle").hidden = !!i;
    $("interaction").hidden = !i;
    if (!i) { shownId = null; return; }
    if (i.id !== shownId) {
      shownId = i.id; revealed = null; draftDirty = false;
      $("note-draft").value = i.my_draft || "";
      $("draft-status").textContent = "";
    }
    renderCaller(i);
    renderLists(i);
    renderForms(i);
  }

  async function poll() {
    try {
      render(await api("GET", "/api/me/current"));
    } catch (e) {
      say(e.message, true);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  async function refreshDirectory() {
    try {
      const d = await api("GET", "/api/directory");
      const target = $("transfer-target");
      const keep = target.value;
      target.replaceChildren(
        ...d.agents.map((a) => new Option(a.name + " (" + a.state + ")", "agent:" + a.id)),
        ...d.queues.map((q) => new Option("Queue: " + q.name, "queue:" + q.slug)));
      if (keep) target.value = keep;
    } catch (e) { say(e.message, true); }
  }

  async function saveDraft() {
    if (shownId === null || !draftDirty) return;
    draftDirty = false;
    try {
      await api("PUT", "/api/interactions/" + shownId + "/notes/draft", { text: $("note-draft").value });
      $("draft-status").textContent = "Saved " + new Date().toLocaleTimeString();
    } catch (e) { draftDirty = true; say(e.message, true); }
  }

  function act(fn) {
    return async (event) => {
      if (event) event.preventDefault();
      try { await fn(); } catch (e) { say(e.message, true); }
    };
  }

  function setState(event) {
    return act(async () => {
      const r = await api("POST", "/api/me/state", { state: event.target.dataset.state });
      say("You are " + r.state + ".");
    })();
  }

  document.addEventListener("DOMContentLoaded", () => {
    ["go-available", "go-offline", "end-wrap-up"].forEach((id) => $(id).addEventListener("click", setState));
    $("note-draft").addEventListener("input", () => {
      draftDirty = true;
      $("draft-status").textContent = "Saving…";
      clearTimeout(draftTimer);
      draftTimer = setTimeout(saveDraft, AUTOSAVE_MS);
    });
    $("note-draft").addEventListener("blur", saveDraft);
    window.addEventListener("pagehide", saveDraft);
    $("reveal").addEventListener("click", act(async () => {
      const i = await api("GET", "/api/interactions/" + shownId + "?reveal=1");
      revealed = i.caller.number;
      $("caller-number").textContent = revealed;
      $("reveal").hidden = true;
    }));
    $("flag-difficult").addEventListener("click", act(async () => {
      await api("POST", "/api/interactions/" + shownId + "/flag-difficult", { difficult: true });
      say("Caller flagged as difficult.");
    }));
    $("transfer-form").addEventListener("submit", act(async () => {
      await saveDraft();
      const [kind, value] = $("transfer-target").value.split(":");
      const body = { mode: $("transfer-mode").value, reason: $("transfer-reason").value };
      if (kind === "agent") body.to_agent_id = Number(value); else body.to_queue = value;
      await api("POST", "/api/interactions/" + shownId + "/transfer", body);
      $("note-draft").value = "";  // handed over: the draft is now a note everyone sees
      say("Transfer started.");
    }));
    $("escalate").addEventListener("click", act(async () => {
      await saveDraft();
      await api("POST", "/api/interactions/" + shownId + "/escalate",
                { reason: $("transfer-reason").value || "escalation" });
      $("note-draft").value = "";
      say("Escalating to a supervisor.");
    }));
    $("wrap-up-form").addEventListener("submit", act(async () => {
      await saveDraft();
      const r = await api("POST", "/api/interactions/" + shownId + "/wrap-up",
                          { disposition: $("disposition").value, note: $("closing-note").value });
      $("closing-note").value = "";
      $("note-draft").value = "";
      say("Wrapped up. You are " + r.state + ".");
    }));
    refreshDirectory();
    setInterval(refreshDirectory, 2000);
    poll();
  });
})();
