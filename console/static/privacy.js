// Holdless admin: export or erase what is held about one number (/api/admin/privacy).
// Errors are shown beside the number field; results in a polite live region.
"use strict";
(function () {
  function $(id) { return document.getElementById(id); }

  function token() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function fieldError(message) {
    $("privacy-phone-error").textContent = message;
    $("privacy-phone").setAttribute("aria-invalid", message ? "true" : "false");
  }

  function path(action) {
    const number = $("privacy-phone").value.trim();
    if (!number) { fieldError(t("Enter the phone number first.")); return null; }
    fieldError("");
    return "/api/admin/privacy/numbers/" + encodeURIComponent(number) + "/" + action;
  }

  async function call(method, url) {
    const response = await fetch(url, { method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token() } });
    const body = await response.json().catch(() => ({}));
    if (response.status === 400) { fieldError(body.detail || t("Not a phone number.")); return null; }
    if (!response.ok) { $("privacy-result").textContent = body.detail || t("Refused."); return null; }
    return body;
  }

  function counts(found) {
    return Object.entries(found).map(([kind, value]) =>
      kind + " " + (Array.isArray(value) ? value.length : value)).join(", ");
  }

  async function exportNumber() {
    const url = path("export");
    if (!url) return;
    const data = await call("GET", url);
    if (!data) return;
    const link = $("privacy-download");
    link.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    link.hidden = false;
    $("privacy-result").textContent = t("Export ready: {interactions} interaction(s), {callbacks} callback(s), {texts} text(s).",
      { interactions: data.interactions.length, callbacks: data.callbacks.length, texts: data.texts.length });
  }

  async function eraseNumber() {
    const url = path("erase");
    if (!url) return;
    if (!window.confirm(t("Erase everything held about {number}? This cannot be undone.", { number: $("privacy-phone").value.trim() }))) return;
    const data = await call("POST", url);
    if (data) $("privacy-result").textContent = t("Erased: {what}.", { what: counts(data.erased) });
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("privacy-export").addEventListener("click", exportNumber);
    $("privacy-erase").addEventListener("click", eraseNumber);
  });
})();
