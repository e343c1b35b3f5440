// Holdless agent console: fetches /api/me/current when the server pushes a change
// (live.js, /api/me/events) and drives the /api endpoints.
"use strict";
(function () {
  const REFRESH_MS = 150;   // updates arriving together are fetched once
  const AUTOSAVE_MS = 400;
  const Live = window.HoldlessLive;
  const $ = (id) => document.getElementById(id);
  let shownId = null;      // the interaction on screen
  let revealed = null;     // the full number, fetched once on request (audited server-side)
  let draftTimer = null;
  let draftDirty = false;
  let live = null;
  let refreshTimer = null;

  const api = window.HoldlessApi.call;

  function say(words, isError) {
    $("message").textContent = words;
    $("message").className = isError ? "error" : "";
  }

  function item(key, text, className) { return { key, text, className }; }

  function fill(list, items) { Live.patchList(list, items); }

  const text = Live.patchText;
  // Agents' states as the server names them, for the catalog (t() is given them as data).
  const STATE_WORDS = [t("available"), t("busy"), t("offered"), t("wrap-up"), t("wrap up"),
                       t("offline"), t("not-ready"), t("not ready")];

  // Every time shown says its zone: a call's in its queue's zone (the API sends time_zone
  // beside the times), through the pages' one helper (zoned.js).
  let zone = "UTC";  // the shown call's zone
  function day(iso, where) { return window.Holdless.zoned(iso, where || zone); }

  function when(iso) { return window.Holdless.zoned(iso, zone, "time"); }

  function minutes(seconds) {
    const s = Math.round(seconds || 0);
    return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s";
  }

  function renderCaller(i) {
    text($("caller-name"), i.caller.name || t("Unknown caller"));
    text($("phase"), i.phase ? "(" + i.phase + ")" : "");
    $("difficult-badge").hidden = !i.caller.difficult;
    text($("caller-number"), i.caller.number_hidden ? t("hidden") : (revealed || i.caller.number));
    text($("caller-language"), i.caller.language ? i.caller.language.name + " (" + i.caller.language.tag + ")" : "—");
    $("reveal").hidden = i.caller.number_hidden || !!revealed;
    text($("account-ref"), i.caller.account_ref || "—");
    text($("queue"), i.queue ? i.queue.name : "—");
    const choices = Object.entries(i.ivr_choices || {}).map(([k, v]) => k + ": " + v);
    text($("ivr-choices"), choices.length ? choices.join(", ") : "—");
    text($("waited"), minutes(i.waited_seconds));
    renderCallback(i.callback);
  }

  function renderCallback(cb) {
    text($("callback"), cb ? t("callback, attempt {attempt} of {attempts} · reference {reference} · {status}",
      { attempt: cb.attempt, attempts: cb.max_attempts, reference: cb.reference, status: cb.status }) : "—");
    const link = $("callback-recording");
    link.hidden = !(cb && cb.recording_url);
    if (cb && cb.recording_url) link.href = cb.recording_url;
  }

  function callbackLine(c) {
    const tries = c.attempts.map((a) => "#" + a.number + " " + day(a.started_at, c.time_zone) +
      (a.agent ? " " + a.agent : "") + ": " + a.outcome);
    return t("requested {when}", { when: day(c.requested_at, c.time_zone) }) + " · " + c.queue + " · " + c.reference + " · " +
      c.status + " · " + (tries.length ? tries.join("; ") : t("no attempt yet"));
  }

  function renderLists(i) {
    const me = Number($("me").dataset.agentId);
    fill($("notes"), i.notes.filter((n) => !(n.draft && n.author_id === me)).map((n) =>
      item("n" + n.id, n.author + " · " + when(n.updated_at) + (n.draft ? " " + t("(typing)") : "") + ": " + n.text,
           n.draft ? "draft" : "")));
    fill($("legs"), i.legs.map((l) =>
      item("l" + l.id, (l.agent || t("queue")) + " · " + (l.step || l.kind) + (l.reason ? " · " + l.reason : "") +
           " · " + when(l.started_at) + "–" + (l.ended_at ? when(l.ended_at) : t("now")))));
    fill($("history"), i.history.length ? i.history.map((h) =>
      item("h" + h.id, day(h.created_at, h.time_zone) + " · " + (h.queue || "") + " · " + (h.agent || t("no agent")) +
           " · " + (h.outcome || h.status) +
           (h.dispositions.length ? " · " + h.dispositions.join(", ") : "") +
           (h.notes && h.notes.length ? " · " + t("notes:") + " " + h.notes.map((n) => n.author + ": " + n.text).join(" | ") : ""))) :
      [item("none", t("none"))]);
    const survey = i.survey || [];
    fill($("survey"), survey.length ? survey.map((a, n) =>
      item("s" + n, a.question + ": " + a.answer + (a.agent ? " " + t("(about {agent})", { agent: a.agent }) : ""))) : [item("none", t("none"))]);
    const callbacks = i.callback_history || [];
    fill($("callback-history"), callbacks.length ? callbacks.map((c) => item("c" + c.reference, callbackLine(c))) : [item("none", t("none"))]);
  }

  function renderForms(i) {
    const select = $("disposition");
    if (!select.options.length) {  // nothing preselected: the agent chooses
      select.replaceChildren(new Option(t("Choose how it ended…"), ""),
                             ...i.dispositions.map((d) => new Option(d, d)));
      select.value = "";
    }
    $("wrap-up-form").hidden = i.phase !== "wrap-up" || !!i.wrap_up;
    $("transfer-form").hidden = i.phase !== "connected";
  }

  // My warm transfer in progress, as the server records it (/api/me/current's
  // warm_transfer): its buttons come back after a reload or in a new tab, and go when it
  // ends (settled here or elsewhere, or the colleague hung up).
  function renderWarm(data) {
    const w = data.warm_transfer;
    const on = !!w && !!data.interaction && data.interaction.phase === "connected";
    $("warm-controls").hidden = !on;
    if (!on) { text($("warm-status"), ""); return; }
    const words = { who: w.to, since: when(w.since) };
    text($("warm-status"), w.answered ?
      t("Consulting {who} since {since}; the caller is on hold.", words) :
      t("Ringing {who} since {since}; the caller is on hold.", words));
  }

  const WARM_DONE = {
    cancel: t("Transfer cancelled: you are back with the caller."),
    complete: t("Transfer completed: the caller is with your colleague."),
    "three-way": t("Three-way call: the caller, your colleague and you can all talk."),
  };

  function endWarm(action) {
    return act(async () => {
      text($("transfer-error"), "");
      try {
        await api("POST", "/api/interactions/" + shownId + "/transfer/warm", { action });
      } catch (e) { text($("transfer-error"), e.message); return; }
      $("warm-controls").hidden = true;
      say(WARM_DONE[action]);
      refresh();
    });
  }

  let wrapEnds = null;  // performance.now() when the wrap-up time runs out

  function tickWrapUp() {
    if (wrapEnds === null) { text($("wrap-up-countdown"), ""); return; }
    const left = Math.max(0, Math.ceil((wrapEnds - performance.now()) / 1000));
    text($("wrap-up-countdown"), left > 0 ? t("Wrap-up time left: {left} (then it is recorded as timed out)", { left: minutes(left) }) :
      t("Wrap-up time is over: recorded as timed out."));
  }

  function renderState(data) {
    text($("state"), data.state === "not-ready" ? t("not ready ({reason})", { reason: data.not_ready_reason }) : t(data.state));
    text($("offline-reason"), data.offline_reason ? t("Taken offline: {reason}", { reason: data.offline_reason }) : "");
    const reasons = data.not_ready_reasons || [];
    const select = $("not-ready-reason");
    const keep = select.value;
    Live.patchList(select, reasons.map((r) => ({ tag: "option", key: r, text: r })));
    for (const option of select.options) option.value = option.dataset.key;
    if (keep && reasons.includes(keep)) select.value = keep;
    wrapEnds = data.wrap_up_seconds_left == null ? null : performance.now() + data.wrap_up_seconds_left * 1000;
    tickWrapUp();
  }

  function render(data) {
    renderState(data);
    if (data.missed_offer) missedOffer(data.missed_offer);
    const i = data.interaction;
    if (i) zone = i.time_zone || (i.queue && i.queue.time_zone) || "UTC";
    $("idle").hidden = !!i;
    $("interaction").hidden = !i;
    if (!i) {
      $("warm-controls").hidden = true;
      shownId = null; follow();
      document.dispatchEvent(new CustomEvent("holdless:interaction", { detail: null }));
      return;
    }
    if (i.id !== shownId) {
      shownId = i.id; revealed = null; draftDirty = false;
      $("note-draft").value = i.my_draft || "";
      text($("draft-status"), "");
      follow();
    }
    renderCaller(i);
    renderLists(i);
    renderForms(i);
    renderWarm(data);
    document.dispatchEvent(new CustomEvent("holdless:interaction", { detail: i }));
    renderSupervision(data);
  }

  // Who supervises this call (as the admin's policy lets the agent see), and an
  // escalation waiting for a free supervisor.
  const MODE_WORDS = { listen: t("listening"), coach: t("coaching you"), barge: t("in the call") };
  const ESCALATION_WORDS = {
    waiting: t("Waiting for a free supervisor until {deadline}: the caller is on hold."),
    "timed-out": t("No supervisor was free in time: the caller is back with you."),
    reached: t("A supervisor is being connected."),
  };
  function renderSupervision(data) {
    const on = (data.supervisors || []).map((s) => s.name + " (" + (MODE_WORDS[s.mode] || s.mode) + ")");
    text($("supervisors"), on.length ? t("Supervisor on this call: {who}", { who: on.join(", ") }) : "");
    const e = data.escalation;
    const words = e ? ESCALATION_WORDS[e.status] || "" : "";
    text($("escalation"), words.split("{deadline}").join(e ? when(e.deadline) : ""));
  }

  function eventsUrl() {
    return "/api/me/events" + (shownId === null ? "" : "?interaction=" + shownId);
  }

  function follow() { if (live) live.follow(eventsUrl()); }

  async function refresh() {
    try {
      render(await api("GET", "/api/me/current"));
    } catch (e) {
      say(e.message, true);
    }
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, REFRESH_MS);
  }

  function onUpdate(topic, data) {
    if (topic === "presence") { showColleague(data); return; }
    if (topic === "missed-offer") { missedOffer(data); return; }
    refreshSoon();
  }

  let colleagues = [];
  let queues = [];

  function renderTargets() {
    const target = $("transfer-target");
    const keep = target.value;
    // who can take the call now first; the others shown, greyed, with their state
    const free = (a) => a.state === "available";
    const people = [...colleagues.filter(free), ...colleagues.filter((a) => !free(a))];
    Live.patchList(target, [
      { tag: "option", key: "", text: t("Choose who takes the call…") },
      ...people.map((a) => ({ tag: "option", key: "agent:" + a.id,
        text: a.name + " " + (free(a) ? t("(available)") : t("({state}: cannot take it now)", { state: t(a.state.replace("-", " ")) })) })),
      ...queues.map((q) => ({ tag: "option", key: "queue:" + q.slug, text: "Queue: " + q.name }))]);
    for (const option of target.options) {
      option.value = option.dataset.key;
      const person = people.find((a) => "agent:" + a.id === option.value);
      option.disabled = !!person && !free(person);
    }
    const still = Array.from(target.options).find((o) => o.value === keep && !o.disabled);
    target.value = still ? keep : "";
  }

  function showColleague(data) {
    const found = colleagues.find((a) => a.id === data.id);
    if (found) { found.state = data.state; renderTargets(); }
  }

  async function refreshDirectory() {
    try {
      const d = await api("GET", "/api/directory");
      colleagues = d.agents;
      queues = d.queues;
      renderTargets();
    } catch (e) { say(e.message, true); }
  }

  async function saveDraft() {
    if (shownId === null || !draftDirty) return;
    draftDirty = false;
    try {
      const saved = await api("PUT", "/api/interactions/" + shownId + "/notes/draft", { text: $("note-draft").value });
      text($("draft-status"), t("Saved {time}", { time: when(saved.updated_at) }));  // the server's time
    } catch (e) { draftDirty = true; say(e.message, true); }
  }

  function act(fn) {
    return async (event) => {
      if (event) event.preventDefault();
      try { await fn(); } catch (e) { say(e.message, true); }
    };
  }

  async function setState(event) {
    const body = { state: event.target.dataset.state };
    if (body.state === "not-ready") body.reason = $("not-ready-reason").value;
    text($("state-error"), "");
    try {
      const r = await api("POST", "/api/me/state", body);
      say(t("You are {state}.", { state: t(r.state.replace("-", " ")) }));
    } catch (e) { text($("state-error"), e.message); }
  }

  // A missed offer is told by a live update and kept in /api/me/current for a while: a page
  // whose stream was being reopened when the update went out (it switches streams as an
  // offer ends) learns it from the resync. Each is said once (its id).
  let missedShown = null;
  function missedOffer(data) {
    if (data.id && data.id === missedShown) return;
    missedShown = data.id;
    say(data.offline ? t("You missed an offer ({why}) and were set offline.", { why: data.why }) :
        t("You missed an offer ({why}); the caller keeps their place in line.", { why: data.why }), true);
    refreshSoon();
  }

  // What the phone (console-phone.js) needs of the page.
  window.HoldlessConsole = {
    interactionId: () => shownId,
    callerLine: () => $("caller-name").textContent + ($("queue").textContent ? " · " + $("queue").textContent : ""),
    api, say, refresh,
  };

  document.addEventListener("DOMContentLoaded", () => {
    ["go-available", "go-not-ready", "go-offline"].forEach((id) => $(id).addEventListener("click", setState));
    setInterval(tickWrapUp, 1000);
    $("note-draft").addEventListener("input", () => {
      draftDirty = true;
      text($("draft-status"), t("Saving…"));
      clearTimeout(draftTimer);
      draftTimer = setTimeout(saveDraft, AUTOSAVE_MS);
    });
    $("note-draft").addEventListener("blur", saveDraft);
    window.addEventListener("pagehide", saveDraft);
    $("reveal").addEventListener("click", act(async () => {
      const i = await api("GET", "/api/interactions/" + shownId + "?reveal=1");
      revealed = i.caller.number;
      text($("caller-number"), revealed);
      $("reveal").hidden = true;
    }));
    $("flag-difficult").addEventListener("click", act(async () => {
      await api("POST", "/api/interactions/" + shownId + "/flag-difficult", { difficult: true });
      say(t("Caller flagged as difficult."));
    }));
    $("transfer-form").addEventListener("submit", act(async () => {
      text($("transfer-error"), "");
      if (!$("transfer-target").value) { text($("transfer-error"), t("Choose who takes the call.")); return; }
      await saveDraft();
      const [kind, value] = $("transfer-target").value.split(":");
      const body = { mode: kind === "queue" ? "cold" : $("transfer-mode").value,
                     reason: $("transfer-reason").value };
      if (kind === "agent") body.to_agent_id = Number(value); else body.to_queue = value;
      try {
        await api("POST", "/api/interactions/" + shownId + "/transfer", body);
      } catch (e) { text($("transfer-error"), e.message); return; }
      $("note-draft").value = "";  // handed over: the draft is now a note everyone sees
      say(t("Transfer started."));
      if (body.mode === "warm") refresh();  // its buttons, from the server's record
    }));
    for (const button of $("warm-controls").querySelectorAll("button")) {
      button.addEventListener("click", endWarm(button.dataset.action));
    }
    $("escalate").addEventListener("click", act(async () => {
      text($("transfer-error"), "");
      await saveDraft();
      try {
        await api("POST", "/api/interactions/" + shownId + "/escalate",
                  { reason: $("transfer-reason").value || "escalation" });
      } catch (e) { text($("transfer-error"), e.message); return; }
      $("note-draft").value = "";
      say(t("Escalating to a supervisor."));
    }));
    $("wrap-up-form").addEventListener("submit", act(async () => {
      text($("wrap-up-error"), "");
      if (!$("disposition").value) { text($("wrap-up-error"), t("Choose how the call ended.")); return; }
      await saveDraft();
      let r;
      try {
        r = await api("POST", "/api/interactions/" + shownId + "/wrap-up",
                      { disposition: $("disposition").value, note: $("closing-note").value });
      } catch (e) { text($("wrap-up-error"), e.message); return; }
      $("closing-note").value = "";
      $("note-draft").value = "";
      say(t("Wrapped up. You are {state}.", { state: t(r.state) }));
    }));
    live = Live.connect(eventsUrl(), {
      onSync: () => { refresh(); refreshDirectory(); },
      onUpdate,
    });
  });
})();
