// Holdless admin pages: every form/button with data-api sends JSON (with the CSRF header) to
// the /api/admin API. A refused change is shown beside the field it concerns (tied to it with
// aria-describedby) and summed up in the status line; buttons with data-confirm ask first.
// The week editor warns before a day that had hours is left closed; the staffing grid saves
// cells as edited. Words shown come from the templates (data-* attributes) where they can.
// The live board is board.js.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const status = $("message");

  const api = window.HoldlessApi.call;

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function fields(form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled) continue;
      if (el.dataset.list !== undefined) {
        body[el.name] = body[el.name] || [];
        if (el.checked) body[el.name].push(el.value);
      } else {
        body[el.name] = el.type === "checkbox" ? el.checked : el.value;
      }
    }
    return body;
  }

  function labelOf(el) {
    if (el.dataset.label) return el.dataset.label;
    const label = el.labels && el.labels[0];
    if (!label) return el.getAttribute("aria-label") || el.name;
    return (label.childNodes[0] && label.childNodes[0].nodeType === Node.TEXT_NODE
      ? label.childNodes[0].textContent : label.textContent).trim();
  }

  function clearErrors(scope) {
    const root = scope || document;
    root.querySelectorAll(".field-error").forEach((el) => el.remove());
    root.querySelectorAll("[aria-invalid]").forEach((el) => {
      el.removeAttribute("aria-invalid");
      el.classList.remove("invalid");
      const kept = (el.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && !id.startsWith("error-"));
      if (kept.length) el.setAttribute("aria-describedby", kept.join(" ")); else el.removeAttribute("aria-describedby");
    });
  }

  let errorCount = 0;
  function showError(scope, field, message) {
    const el = field && scope && scope.querySelector('[name="' + field + '"], [data-field="' + field + '"]');
    if (!el) { say(message, true); return; }
    const note = document.createElement("span");
    note.className = "field-error";
    note.id = "error-" + (++errorCount);
    note.textContent = message;
    // After the field's own label (never inside it: the label stays the field's name).
    const anchor = el.dataset.list !== undefined ? el.closest("fieldset") || el : el.closest("label") || el;
    anchor.insertAdjacentElement(anchor.tagName === "FIELDSET" ? "beforeend" : "afterend", note);
    el.setAttribute("aria-invalid", "true");
    el.classList.add("invalid");
    const ids = (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    el.setAttribute("aria-describedby", [note.id].concat(ids).join(" "));
    say((status.dataset.notSaved || t("Not saved:")) + " " + labelOf(el) + ": " + message, true);
    el.focus();
  }

  function done(source) {
    const words = source.dataset.done || (source.form && source.form.dataset.done) || status.dataset.saved || t("Saved.");
    if (source.hasAttribute("data-reload")) {
      sessionStorage.setItem("holdless-flash", words);
      window.location.reload();
    } else {
      say(words);
    }
  }

  async function send(source, body) {
    const scope = source.closest("form") || source;
    clearErrors(scope);
    try {
      await api(source.dataset.method || "POST", source.dataset.api, body);
      done(source);
    } catch (error) {
      showError(scope, error.field, error.message);
    }
  }

  // -- the week editor -------------------------------------------------------------------
  function weekInputs(form) { return Array.from(form.querySelectorAll("input[data-day]")); }

  function closedDays(form) {
    const inputs = weekInputs(form);
    return inputs.filter((el) => el.dataset.saved.trim() && !el.value.trim()).map((el) => el.dataset.day);
  }

  function sendWeek(form) {
    const days = {};
    weekInputs(form).forEach((el, i) => { days[String(i)] = el.value; });
    send(form, { days });
  }

  function submitWeek(form) {
    const warning = form.querySelector("[data-week-warning]");
    const closing = closedDays(form);
    if (closing.length) {
      warning.querySelector("[data-closed-days]").textContent = closing.join(", ");
      warning.hidden = false;
      warning.querySelector("[data-save-anyway]").focus();
      return;
    }
    sendWeek(form);
  }

  function copyWeekdays(form) {
    const inputs = weekInputs(form);
    for (let day = 1; day <= 4; day++) inputs[day].value = inputs[0].value;
    say(form.querySelector("[data-copy-weekdays]").dataset.doneWords || "Copied: not saved yet.");
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset.api) return;
    event.preventDefault();
    if (form.hasAttribute("data-week")) submitWeek(form);
    else send(form, fields(form));
  });

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    const week = target.closest("form[data-week]");
    if (week && target.hasAttribute("data-copy-weekdays")) return copyWeekdays(week);
    if (week && target.hasAttribute("data-save-anyway")) {
      week.querySelector("[data-week-warning]").hidden = true;
      return sendWeek(week);
    }
    if (week && target.hasAttribute("data-keep-editing")) {
      week.querySelector("[data-week-warning]").hidden = true;
      return weekInputs(week)[0].focus();
    }
    if (!target.dataset.api || target.type === "submit") return;
    if (target.dataset.confirm && !window.confirm(target.dataset.confirm)) return;
    send(target, target.dataset.body ? JSON.parse(target.dataset.body) : {});
  });

  document.addEventListener("change", (event) => {
    const el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit")) el.form.submit();
  });

  // -- the staffing grid -----------------------------------------------------------------
  async function saveCells(table, inputs) {
    const cells = inputs.map((input) => ({ weekday: Number(input.dataset.weekday),
      interval_start: input.dataset.start, agents: input.value === "" ? 0 : input.value }));
    clearErrors(table);
    try {
      await api("PUT", "/api/admin/queues/" + table.dataset.queue + "/staffing", cells.length === 1 ? cells[0] : { cells });
      inputs.forEach((input) => input.closest("td").classList.toggle("gap", Number(input.value || 0) < Number(input.dataset.needed)));
      say(status.dataset.saved || t("Saved."));
    } catch (error) {
      const bad = inputs.find((i) => !/^\d+$/.test(i.value.trim()) && i.value.trim() !== "") || inputs[0];
      bad.setAttribute("data-field", error.field || "agents");
      showError(bad.closest("td"), error.field || "agents", error.message);
      bad.removeAttribute("data-field");
    }
  }

  function watchStaffing(table) {
    table.addEventListener("change", (event) => {
      const input = event.target;
      if (input.classList.contains("plan")) saveCells(table, [input]);
    });
    const fill = $("fill");
    if (fill) fill.addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      const day = form.elements.weekday.value, from = form.elements.from.value, to = form.elements.to.value;
      const picked = Array.from(table.querySelectorAll("input.plan")).filter((i) =>
        (day === "all" || i.dataset.weekday === day) && i.dataset.start >= from && i.dataset.start < (to || "24:00"));
      picked.forEach((i) => { i.value = form.elements.agents.value; });
      if (picked.length) saveCells(table, picked);
    });
    const copy = $("copy-day");
    if (copy) copy.addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      const source = form.elements.source.value, into = form.elements.target.value;
      const plan = {};
      table.querySelectorAll('input.plan[data-weekday="' + source + '"]').forEach((i) => { plan[i.dataset.start] = i.value; });
      const picked = Array.from(table.querySelectorAll("input.plan")).filter((i) =>
        (into === "weekdays" ? Number(i.dataset.weekday) < 5 : i.dataset.weekday === into) && i.dataset.weekday !== source);
      picked.forEach((i) => { i.value = plan[i.dataset.start]; });
      if (picked.length) saveCells(table, picked);
    });
  }

  const flash = sessionStorage.getItem("holdless-flash");
  if (flash) { sessionStorage.removeItem("holdless-flash"); say(flash); }
  if ($("staffing")) watchStaffing($("staffing"));
})();
