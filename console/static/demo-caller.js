// The test caller page (demo only): a phone in the page on the stand-in's network
// (simulator/browser_phones.py). It dials the line, shows and speaks (speechSynthesis)
// every <Say> the call hears, sends keys, and answers a callback when it rings.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let base = "";
  let device = null;
  let after = 0;
  let call = null;

  async function post(path, body) {
    const response = await fetch(base + path, { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.message || response.statusText);
    return data;
  }

  function hear(text) {
    const li = document.createElement("li");
    li.textContent = text;
    $("heard").appendChild(li);
    if ($("speak").checked && window.speechSynthesis) {
      window.speechSynthesis.speak(new SpeechSynthesisUtterance(text));
    }
  }

  function handle(event) {
    if (event.type === "heard" && event.verb === "say") hear(event.text);
    else if (event.type === "heard" && event.verb === "enqueue") hear("(waiting in line, music plays)");
    else if (event.type === "incoming") { call = event.call; $("ringing").hidden = false; }
    else if (event.type === "accept") { $("ringing").hidden = true; $("caller-hangup").hidden = false; }
    else if (event.type === "cancel") { $("ringing").hidden = true; hear("(missed call)"); }
    else if (event.type === "disconnect") { hear("(call ended)"); $("caller-hangup").hidden = true; call = null; }
  }

  async function listen() {
    for (;;) {
      const response = await fetch(base + "/phone/events?device=" + device + "&after=" + after);
      if (!response.ok) { $("caller-error").textContent = "The phone network cannot be reached."; return; }
      for (const event of (await response.json()).events) { after = event.n; handle(event); }
    }
  }

  async function ensurePhone() {
    if (device) return;
    const number = $("my-number").value.trim();
    if (!/^\+[1-9][0-9]{6,14}$/.test(number)) throw new Error("Enter your number as +1 212 555 0199, without spaces.");
    device = (await post("/phone/caller", { number })).device;
    $("my-number").readOnly = true;
    listen();
  }

  function act(fn) {
    return async () => {
      $("caller-error").textContent = "";
      try { await fn(); } catch (e) { $("caller-error").textContent = e.message; }
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    base = document.body.dataset.phoneUrl;
    $("dial").addEventListener("click", act(async () => {
      await ensurePhone();
      call = (await post("/phone/dial", { device, to: document.body.dataset.line })).call;
      $("caller-hangup").hidden = false;
    }));
    $("caller-answer").addEventListener("click", act(() => post("/phone/calls/" + call + "/accept", { device })));
    $("caller-hangup").addEventListener("click", act(() => post("/phone/calls/" + call + "/hangup", { device })));
    for (const key of document.querySelectorAll("#caller-keypad .key")) {
      key.addEventListener("click", act(() => call && post("/phone/calls/" + call + "/digits",
                                                          { device, value: key.dataset.key })));
    }
  });
})();
