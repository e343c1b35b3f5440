// Holdless live board: fills the queue and agent tables from /api/board and keeps them
// current without a reload; turns a queue's row red and announces it (aria-live) when it
// passes a threshold; listens, coaches, barges and leaves through /api/board.
"use strict";
(function () {
  const POLL_MS = 1000;
  const $ = (id) => document.getElementById(id);
  const announced = new Set();
  let mine = null;

  const api = window.HoldlessApi.call;

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

  // A table's rows by key: a row is made once and after that only its cells' text changes
  // (the buttons stay put under the pointer); rows no longer listed go.
  function patchRows(body, items, key, cells, decorate, actions) {
    const old = new Map(Array.from(body.children).filter((r) => r.dataset.key).map((r) => [r.dataset.key, r]));
    const rows = items.map((item) => {
      const id = String(key(item));
      let tr = old.get(id);
      if (!tr) {
        tr = document.createElement("tr");
        tr.dataset.key = id;
      }
      const wanted = cells(item);
      if (tr.children.length !== wanted.length + (actions ? 1 : 0)) {
        tr.replaceChildren(...wanted.map(([name]) => {
          const td = document.createElement("td");
          td.dataset.cell = name;
          return td;
        }));
        if (actions) tr.append(document.createElement("td"));
      }
      wanted.forEach(([, text], n) => { if (tr.children[n].textContent !== text) tr.children[n].textContent = text; });
      decorate(tr, item);
      if (actions) actions(tr.lastElementChild, item);
      return tr;
    });
    if (rows.length !== body.children.length || rows.some((r, n) => body.children[n] !== r)) body.replaceChildren(...rows);
  }

  // Open or closed, and until when in the queue's own zone, saying which (Holdless.zoned):
  // "open until 17:00 GMT+1" today, "closed until Tue 08 Dec 09:00 GMT+1" on another day.
  function hoursText(q) {
    if (!q.until) return q.status;
    const zoned = window.Holdless;
    const today = last && zoned.zonedDay(last.at, q.time_zone) === zoned.zonedDay(q.until, q.time_zone);
    const when = zoned.zoned(q.until, q.time_zone, today ? "time" : "day");
    return q.open ? t("open until {when}", { when }) : t("closed until {when}", { when });
  }

  function queueCells(q) {
    const callbacks = q.callbacks.booked + q.callbacks.dialling;
    return [["name", q.name], ["status", hoursText(q)], ["waiting", String(q.waiting)],
      ["oldest", duration(q.oldest_wait_seconds)], ["estimate", q.estimate_text],
      ["service-level", percent(q.service_level_percent)], ["abandoned", percent(q.abandon_percent)],
      ["callbacks", String(callbacks)], ["alarms", q.alerts.length ? q.alerts.join("; ") : "none"]];
  }

  function queueState(tr, q) {
    tr.dataset.queue = q.slug;
    tr.classList.toggle("alarm", q.alerts.length > 0);
    tr.classList.toggle("closed", !q.open);
  }

  function agentCells(a, elapsed) {
    const state = a.reason ? a.state + " (" + a.reason + ")" : a.state;
    const plus = (v) => (v === null || v === undefined ? v : v + elapsed);
    return [["name", a.name], ["state", state], ["in-state", duration(plus(a.seconds_in_state))],
      ["queue", a.queue || "—"], ["caller", a.caller || "—"], ["talk", duration(plus(a.talk_seconds))],
      ["supervisors", a.supervisors.length ? a.supervisors.join(", ") : "—"]];
  }

  function modeButton(a, mode, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.dataset.mode = mode;
    button.dataset.call = String(a.interaction_id);
    button.setAttribute("aria-label", t("{action} on {agent}'s call", { action: label, agent: a.name }));
    return button;
  }

  function agentState(tr, a) { tr.dataset.agent = String(a.id); }

  function agentActions(td, a) {
    td.dataset.cell = "actions";
    const sign = a.interaction_id ? String(a.interaction_id) : "";
    if (td.dataset.sign !== sign) {
      td.dataset.sign = sign;
      td.replaceChildren(...(a.interaction_id ? [modeButton(a, "listen", t("Listen")),
        modeButton(a, "coach", t("Coach")), modeButton(a, "barge", t("Barge"))] : []));
    }
    td.querySelectorAll("button[data-mode]").forEach((button) => {
      const on = !!mine && mine.interaction_id === a.interaction_id && mine.mode === button.dataset.mode;
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
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
      $("monitoring").textContent = t("You are on no call.");
      $("leave").hidden = true;
      return;
    }
    const agent = data.agents.find((a) => a.interaction_id === mine.interaction_id);
    const someone = t("a caller");
    const whose = agent ? t("{agent}'s call with {caller}", { agent: agent.name, caller: agent.caller || someone }) : t("a call");
    const verb = { listen: t("Listening to {call}"), coach: t("Coaching on {call}"), barge: t("In {call}") }[mine.mode];
    $("monitoring").textContent = verb.replace("{call}", whose) + (mine.connected ? "." : " " + t("(your phone is ringing)."));
    $("leave").hidden = false;
  }

  let last = null, fetchedAt = 0;

  function render(data) {
    last = data;
    fetchedAt = Date.now();
    showMine(data);
    draw(0);
    $("board-at").textContent = "at " + window.Holdless.zoned(data.at, data.time_zone || $("board-at").dataset.zone, "seconds");
    announce(data.queues);
  }

  // Durations move on between updates: the agents' times are advanced here every second.
  function draw(elapsed) {
    if (!last) return;
    patchRows($("queue-rows"), last.queues, (q) => q.slug, queueCells, queueState);
    patchRows($("agent-rows"), last.agents, (a) => a.id, (a) => agentCells(a, elapsed), agentState,
      agentActions);
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
        say({ listen: t("Listening."), coach: t("Coaching."), barge: t("Barged in.") }[button.dataset.mode]);
      } else {
        await api("POST", "/api/board/leave");
        say(t("Left the call."));
      }
      await refresh();
    } catch (error) {
      say(error.message, true);
    }
  });

  // Updates: the board's server-sent events (live.js) say when something changed, and the
  // board is fetched again; the clock's own effects (times, the oldest-wait alarm) are
  // fetched every CLOCK_MS, and durations tick locally in between. Without live.js: a poll.
  const CLOCK_MS = 5000;
  let soon = null;
  function changed() { clearTimeout(soon); soon = setTimeout(refresh, 100); }
  if (window.HoldlessLive) {
    window.HoldlessLive.connect("/api/board/events", { onSync: refresh, onUpdate: changed });
    setInterval(refresh, CLOCK_MS);
    setInterval(() => draw(Math.round((Date.now() - fetchedAt) / 1000)), 1000);
  } else {
    refresh();
    setInterval(refresh, POLL_MS);
  }
})();
