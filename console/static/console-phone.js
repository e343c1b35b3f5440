// The console's phone panel: offers with the caller's context (Accept, Reject, a ringing
// sound, the page's title, an announcement), then Mute, Hold (the conference's hold, through
// the app), keypad, Hang up and a timer. A phone that fails takes the agent offline with the
// reason shown (/api/me/phone-failed): never left available without audio.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const Console = () => window.HoldlessConsole;
  const title = document.title;
  let phone = null;
  let offer = null;
  let held = false;
  let muted = false;
  let callStarted = null;
  let ringer = null;

  async function token() {
    const response = await fetch("/api/voice-token", { credentials: "same-origin" });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) { const e = new Error(data.detail || response.statusText); e.status = response.status; throw e; }
    return data;
  }

  function status(text) { $("phone-status").textContent = text; }
  function announce(text) { $("phone-announce").textContent = text; }
  function problem(text) { $("phone-error").textContent = text; }

  function ring(on) {  // a ringing tone made in the page (Web Audio): no file to fetch
    if (!on) { if (ringer) { ringer.stop(); ringer = null; } document.title = title; return; }
    document.title = t("Incoming call") + " · " + title;
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 440;
      gain.gain.value = 0.05;
      tone.connect(gain).connect(audio.destination);
      tone.start();
      const pulse = setInterval(() => { gain.gain.value = gain.gain.value ? 0 : 0.05; }, 1000);
      ringer = { stop() { clearInterval(pulse); tone.stop(); audio.close(); } };
    } catch (e) { ringer = null; }
  }

  function show(state) {
    $("offer").hidden = state !== "offer";
    $("in-call").hidden = state !== "call";
  }

  function tick() {
    if (callStarted === null) return;
    const s = Math.floor((Date.now() - callStarted) / 1000);
    $("call-timer").textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  async function failed(reason) {
    ring(false);
    show("");
    status(t("Your phone is not working: {reason}", { reason }));
    problem(t("Your phone is not working: {reason}. You were set offline.", { reason }));
    try { await Console().api("POST", "/api/me/phone-failed", { reason }); Console().refresh(); }
    catch (e) { problem(e.message); }
  }

  const handlers = {
    ready(identity) { status(t("Phone ready ({identity}).", { identity })); },
    offer(call) {
      offer = call;
      show("offer");
      Console().refresh();
      const who = Console().callerLine();
      $("offer-text").textContent = t("Incoming call: {who}", { who });
      announce(t("Incoming call: {who}. Accept or Reject.", { who }));
      ring(true);
    },
    accepted() {
      ring(false);
      show("call");
      held = muted = false;
      callStarted = Date.now();
      $("phone-mute").setAttribute("aria-pressed", "false");
      $("phone-hold").setAttribute("aria-pressed", "false");
      $("keys-sent").textContent = "";
      announce(t("Call connected."));
      status(t("On a call."));
    },
    ended(why) {
      ring(false);
      show("");
      offer = null;
      callStarted = null;
      status(why === "reject" ? t("You rejected the call.") : why === "cancel" ? t("The call was withdrawn.") : t("Call ended."));
      announce(why === "reject" ? t("Call rejected.") : t("Call ended."));
      Console().refresh();
    },
    failed,
    renewed() { status(t("Phone ready (access renewed).")); },
  };

  async function startPhone() {
    let info;
    try { info = await token(); } catch (e) {
      status(e.status === 409 ? t("You take calls on your phone number.") :
        t("The browser phone is not available: {reason}", { reason: e.message }));
      return;
    }
    phone = window.HoldlessPhone.start(info, token, handlers);
  }

  async function toggleHold() {
    problem("");
    const id = Console().interactionId();
    try {
      await Console().api("POST", "/api/interactions/" + id + "/hold", { hold: !held });
      held = !held;
      $("phone-hold").setAttribute("aria-pressed", String(held));
      $("phone-hold").textContent = held ? t("Resume") : t("Hold");
      status(held ? t("The caller is on hold.") : t("On a call."));
    } catch (e) { problem(e.message); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("phone-accept").addEventListener("click", () => phone && phone.accept());
    $("phone-reject").addEventListener("click", () => phone && phone.reject());
    $("phone-hangup").addEventListener("click", () => phone && phone.hangUp());
    $("phone-mute").addEventListener("click", () => {
      muted = !muted;
      phone.mute(muted);
      $("phone-mute").setAttribute("aria-pressed", String(muted));
      $("phone-mute").textContent = muted ? t("Unmute") : t("Mute");
    });
    $("phone-hold").addEventListener("click", toggleHold);
    for (const key of document.querySelectorAll("#keypad .key")) {
      key.addEventListener("click", () => {
        phone.digits(key.dataset.key);
        $("keys-sent").textContent += key.dataset.key;
      });
    }
    setInterval(tick, 1000);
    startPhone();
  });
})();
