// Holdless live board: fills the queue and agent tables from /api/board and keeps them
// current without a reload; turns a queue's row red and announces it (aria-live) when it
// passes a threshold; listens, coaches, barges and leaves through /api/board.
"use strict";
(function () {
  const POLL_MS = 1000;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const announced = new Set();
  let mine = null;

  async function api(method, path, body) {
    const options = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      options.headers["X-CSRFToken"] = csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch(path, options);
    if (response.status === 401) { window.location.assign("/sign-in?next=/board"); throw new Error("signed out"); }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || response.statusText);
    return data;
  }

  function say(text, isError) {
    $("message").textContent = text;
    $("message").className = isError ? "error" : "";
  }

  function duration(value) {
    if (value === null || value === undefined) return "—";
    const s = Math.round(value);
    return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s";
  }

  function percent(value) { return value === null || value === undefined ? "—" : Math.round(value) + "%"; }

  function cell(text, name) {
    const td = document.createElement("td");
    td.textContent = text;
    if (name) td.dataset.cell = name;
    return td;
  }

  function queueRow(q) {
    const tr = document.createElement("tr");
    tr.dataset.queue = q.slug;
    tr.classList.toggle("alarm", q.alerts.length > 0);
    tr.classList.toggle("closed", !q.open);
    const callbacks = q.callbacks.booked + q.callbacks.dialling;
    tr.append(cell(q.name, "name"), cell(q.status, "status"), cell(String(q.waiting), "waiting"),
      cell(q.open ? duration(q.oldest_wait_seconds) : (q.waiting ? duration(q.oldest_wait_seconds) : "—"), "oldest"),
      cell(q.estimate_text, "estimate"), cell(percent(q.service_level_percent), "service-level"),
      cell(percent(q.abandon_percent), "abandoned"), cell(String(callbacks), "callbacks"),
      cell(q.alerts.length ? q.alerts.join("; ") : "none", "alarms"));
    return tr;
  }

  function modeButton(a, mode, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.dataset.mode = mode;
    button.dataset.call = String(a.interaction_id);
    const current = mine && mine.interaction_id === a.interaction_id && mine.mode === mode;
    button.setAttribute("aria-pressed", current ? "true" : "false");
    button.setAttribute("aria-label", label + " on " + a.name + "'s call");
    return button;
  }

  function agentRow(a) {
    const tr = document.createElement("tr");
    tr.dataset.agent = String(a.id);
    const state = a.reason ? a.state + " (" + a.reason + ")" : a.state;
    const actions = document.createElement("td");
    actions.dataset.cell = "actions";
    if (a.interaction_id) {
      actions.append(modeButton(a, "listen", "Listen"), modeButton(a, "coach", "Coach"),
        modeButton(a, "barge", "Barge"));
    }
    tr.append(cell(a.name, "name"), cell(state, "state"), cell(duration(a.seconds_in_state), "in-state"),
      cell(a.queue || "—", "queue"), cell(a.caller || "—", "caller"),
      cell(duration(a.talk_seconds), "talk"), cell(a.supervisors.length ? a.supervisors.join(", ") : "—", "supervisors"),
      actions);
    return tr;
  }

  function announce(queues) {
    const now = new Set(queues.flatMap((q) => q.alerts));
    const fresh = [...now].filter((text) => !announced.has(text));
    announced.clear();
    now.forEach((text) => announced.add(text));
    if (fresh.length) $("alarms").textContent = fresh.join(". ");
  }

  function showMine(data) {
    mine = data.me;
    if (!mine) {
      $("monitoring").textContent = "You are on no call.";
      $("leave").hidden = true;
      return;
    }
    const agent = data.agents.find((a) => a.interaction_id === mine.interaction_id);
    const whose = agent ? agent.name + "'s call with " + (agent.caller || "a caller") : "a call";
    const verb = { listen: "Listening to", coach: "Coaching on", barge: "In" }[mine.mode];
    $("monitoring").textContent = verb + " " + whose + (mine.connected ? "." : " (your phone is ringing).");
    $("leave").hidden = false;
  }

  function render(data) {
    showMine(data);
    $("queue-rows").replaceChildren(...data.queues.map(queueRow));
    $("agent-rows").replaceChildren(...data.agents.map(agentRow));
    $("board-at").textContent = "at " + window.Holdless.zoned(data.at, $("board-at").dataset.zone, "seconds");
    announce(data.queues);
  }

  async function refresh() {
    try {
      render(await api("GET", "/api/board"));
    } catch (error) {
      say(error.message, true);
    }
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-mode]");
    if (!button && event.target.id !== "leave") return;
    try {
      if (button) {
        await api("POST", "/api/board/calls/" + button.dataset.call + "/monitor", { mode: button.dataset.mode });
        say({ listen: "Listening.", coach: "Coaching.", barge: "Barged in." }[button.dataset.mode]);
      } else {
        await api("POST", "/api/board/leave");
        say("Left the call.");
      }
      await refresh();
    } catch (error) {
      say(error.message, true);
    }
  });

  // Updates: the push channel when the page has one (window.HoldlessPush: subscribe(topic,
  // fn)), else a poll every second; either way the page is never reloaded.
  refresh();
  if (window.HoldlessPush && window.HoldlessPush.subscribe) {
    window.HoldlessPush.subscribe("board", refresh);
  } else {
    setInterval(refresh, POLL_MS);
  }
})();
