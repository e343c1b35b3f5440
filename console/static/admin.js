// Holdless admin pages: every form/button with data-api sends JSON (with the CSRF header) to
// the /api/admin API; the board polls every second; the staffing grid saves cells as edited.
"use strict";
(function () {
  const BOARD_MS = 1000;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  async function api(method, path, body) {
    const options = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      options.headers["X-CSRFToken"] = csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch(path, options);
    if (response.status === 401) { window.location.assign("/sign-in?next=" + encodeURIComponent(location.pathname)); throw new Error("signed out"); }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) { const e = new Error(data.detail || response.statusText); e.field = data.field; throw e; }
    return data;
  }

  function say(text, isError) {
    $("message").textContent = text;
    $("message").className = isError ? "error" : "";
  }

  function fields(form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      body[el.name] = el.type === "checkbox" ? el.checked : el.value;
    }
    return body;
  }

  function markInvalid(scope, field) {
    document.querySelectorAll(".invalid").forEach((el) => el.classList.remove("invalid"));
    const el = field && scope && scope.querySelector('[name="' + field + '"], [data-field="' + field + '"]');
    if (el) el.classList.add("invalid");
  }

  async function send(source, body) {
    try {
      await api(source.dataset.method || "POST", source.dataset.api, body);
      markInvalid(null, null);
      if (source.hasAttribute("data-reload")) {
        sessionStorage.setItem("holdless-flash", "Saved.");
        window.location.reload();
      } else {
        say("Saved.");
      }
    } catch (error) {
      markInvalid(source.closest("form") || source, error.field);
      say(error.message, true);
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset.api) return;
    event.preventDefault();
    send(form, fields(form));
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-api]");
    if (button) send(button, {});
  });

  function seconds(value) {
    if (value === null || value === undefined) return "—";
    const s = Math.round(value);
    return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s";
  }

  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }

  function boardRow(q) {
    const tr = document.createElement("tr");
    tr.dataset.queue = q.slug;
    const states = Object.entries(q.agents_by_state).filter(([, n]) => n).map(([s, n]) => s + " " + n);
    const estimate = q.new_caller_estimate;
    tr.append(cell(q.name), cell(String(q.waiting)), cell(seconds(q.oldest_wait_seconds)),
      cell(seconds(estimate.seconds) + " (" + seconds(estimate.low) + "–" + seconds(estimate.high) + ")"),
      cell(String(q.callbacks.booked)), cell(String(q.callbacks.dialling)),
      cell(states.length ? states.join(", ") : "no agents"));
    return tr;
  }

  async function refreshBoard() {
    try {
      const data = await api("GET", "/api/admin/board");
      $("board-rows").replaceChildren(...data.queues.map(boardRow));
      $("board-at").textContent = "at " + new Date(data.at).toLocaleTimeString();
    } catch (error) {
      say(error.message, true);
    }
  }

  function watchStaffing(table) {
    table.addEventListener("change", async (event) => {
      const input = event.target;
      if (!input.classList.contains("plan")) return;
      try {
        await api("PUT", "/api/admin/queues/" + table.dataset.queue + "/staffing", {
          weekday: Number(input.dataset.weekday), interval_start: input.dataset.start,
          agents: input.value === "" ? 0 : input.value });
        const short = Number(input.value || 0) < Number(input.dataset.needed);
        input.closest("td").classList.toggle("gap", short);
        say("Saved.");
      } catch (error) {
        input.classList.add("invalid");
        say(error.message, true);
      }
    });
  }

  const flash = sessionStorage.getItem("holdless-flash");
  if (flash) { sessionStorage.removeItem("holdless-flash"); say(flash); }
  if ($("board-rows")) { refreshBoard(); setInterval(refreshBoard, BOARD_MS); }
  if ($("staffing")) watchStaffing($("staffing"));
})();
