// Holdless console: the conversation recording of the interaction on screen. The console
// (console.js) announces each interaction it shows with a "holdless:interaction" event;
// this shows whether it is recorded, lets the agent pause and resume a running recording
// (POST /api/interactions/{id}/recording), and lists finished recordings for roles allowed
// to hear them, played through the app (never Twilio's link).
"use strict";
(function () {
  const RUNNING = ["in-progress", "paused", "requested"];
  let shown = null;

  function $(id) { return document.getElementById(id); }

  function token() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function running(i) {
    return (i.recordings || []).filter((r) => RUNNING.includes(r.status)).pop() || null;
  }

  function statusText(i, live) {
    if (live && live.status === "paused") return t("Recording paused.");
    if (live) return t("Recording.");
    if (i.recording_policy === "record") return t("Will be recorded once connected.");
    if (i.recording_policy === "do-not-record") return t("The caller declined recording.");
    return "";
  }

  function listItem(r) {
    const item = document.createElement("li");
    item.dataset.key = String(r.id);
    const label = "Recording " + r.id + (r.duration_seconds ? " (" + r.duration_seconds + " s)" : "");
    if (r.media) {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = r.media;
      audio.setAttribute("aria-label", label);
      item.append(label + " ", audio);
    } else {
      item.textContent = label + ": " + r.status;
    }
    return item;
  }

  function show(i) {
    shown = i;
    const section = $("recording");
    if (!i || !(i.recording_policy || (i.recordings || []).length)) { section.hidden = true; return; }
    section.hidden = false;
    const live = running(i);
    const toggle = $("recording-toggle");
    toggle.hidden = !live || live.status === "requested";
    toggle.textContent = live && live.status === "paused" ? t("Resume recording") : t("Pause recording");
    const words = statusText(i, live);
    if ($("recording-status").textContent !== words) $("recording-status").textContent = words;
    const done = (i.recordings || []).filter((r) => !RUNNING.includes(r.status));
    const keys = done.map((r) => String(r.id)).join(",");
    const list = $("recordings");
    if (list.dataset.keys !== keys) { list.dataset.keys = keys; list.replaceChildren(...done.map(listItem)); }
  }

  async function toggle() {
    if (!shown) return;
    const live = running(shown);
    const action = live && live.status === "paused" ? "resume" : "pause";
    const response = await fetch("/api/interactions/" + shown.id + "/recording", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token() },
      body: JSON.stringify({ action }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { $("recording-status").textContent = body.detail || t("Could not change the recording."); return; }
    live.status = body.status;
    show(shown);
  }

  document.addEventListener("holdless:interaction", (event) => show(event.detail));
  document.addEventListener("DOMContentLoaded", () => $("recording-toggle").addEventListener("click", toggle));
})();
