// Holdless JSON API calls for every staff page: the session's cookie, the CSRF header on
// changes, a signed-out reader sent to sign in and brought back, and a refusal thrown as an
// Error carrying the server's own words (and, from the admin API, the field it concerns).
//
//   const data = await HoldlessApi.call("POST", "/api/me/state", { state: "available" });
"use strict";
(function () {
  async function call(method, path, body) {
    const options = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      options.headers["X-CSRFToken"] = document.querySelector('meta[name="csrf-token"]').content;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch(path, options);
    if (response.status === 401) {
      window.location.assign("/sign-in?next=" + encodeURIComponent(window.location.pathname));
      throw new Error("signed out");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      // The admin API names the field it refused and says why in plain words (message).
      const refusal = new Error(data.message || data.detail || response.statusText);
      refusal.field = data.field;
      throw refusal;
    }
    return data;
  }

  window.HoldlessApi = { call };
})();
