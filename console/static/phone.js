// The console's phone: one small interface, two implementations.
//
//   const phone = HoldlessPhone.start(info, renewToken, on)
//     info: /api/voice-token's answer ({token, identity, phone: "twilio" | "stand-in", stand_in_url})
//     renewToken(): a promise of a fresh /api/voice-token answer
//     on.ready(identity), on.offer({id, from}), on.accepted(), on.ended(why),
//     on.failed(reason), on.renewed()
//   phone.accept(), phone.reject(), phone.hangUp(), phone.mute(on), phone.digits(keys)
//
// "twilio": Twilio's Voice JavaScript SDK 2.x (served by the app from npm's install). The
// events used are the documented ones: Device events registered, error, incoming,
// tokenWillExpire (https://twilio.github.io/twilio-voice.js/enums/Device.EventName.html;
// tokenWillExpire: .../functions/Device.tokenWillExpireEvent.html, answered with
// device.updateToken) and Call events accept, disconnect, cancel, reject with the methods
// accept, reject, disconnect, mute, sendDigits
// (https://www.twilio.com/docs/voice/sdks/javascript/twiliocall).
// "stand-in": the local stand-in's phone network (simulator/browser_phones.py), the same
// events over plain HTTP, so a console under `make run` takes calls with no Twilio account.
"use strict";
(function () {
  function twilioPhone(info, renewToken, on) {
    if (!window.Twilio || !window.Twilio.Device) {
      on.failed(t("Twilio's Voice SDK is not installed on this server (npm ci)"));
      return null;
    }
    const device = new window.Twilio.Device(info.token, { closeProtection: true });
    let call = null;
    device.on("registered", () => on.ready(info.identity));
    device.on("error", (error) => on.failed((error && error.message) || t("device error")));
    device.on("tokenWillExpire", async () => {
      try {
        const next = await renewToken();
        device.updateToken(next.token);
        on.renewed();
      } catch (e) { on.failed(t("the phone's token could not be renewed: {reason}", { reason: e.message })); }
    });
    device.on("incoming", (incoming) => {
      call = incoming;
      const over = (why) => () => { if (call === incoming) call = null; on.ended(why); };
      incoming.on("accept", () => on.accepted());
      incoming.on("disconnect", over("disconnect"));
      incoming.on("cancel", over("cancel"));
      incoming.on("reject", over("reject"));
      incoming.on("error", (error) => on.failed((error && error.message) || t("call error")));
      const params = incoming.parameters || {};
      on.offer({ id: params.CallSid, from: params.From });
    });
    device.register();
    return {
      accept() { if (call) call.accept(); },
      reject() { if (call) call.reject(); },
      hangUp() { if (call) call.disconnect(); },
      mute(muted) { if (call) call.mute(muted); },
      digits(keys) { if (call) call.sendDigits(keys); },
    };
  }

  function standInPhone(info, renewToken, on) {
    const base = info.stand_in_url;
    let device = null;
    let after = 0;
    let callId = null;

    async function post(path, body) {
      const response = await fetch(base + path, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.message || response.statusText);
      return data;
    }

    async function renew() {
      try {
        const next = await renewToken();
        await post("/phone/token", { device, token: next.token });
        on.renewed();
      } catch (e) { on.failed(t("the phone's token could not be renewed: {reason}", { reason: e.message })); }
    }

    function handle(event) {
      if (event.type === "registered") on.ready(event.identity);
      else if (event.type === "incoming") { callId = event.call; on.offer({ id: event.call, from: event.from }); }
      else if (event.type === "accept") on.accepted();
      else if (["disconnect", "cancel", "reject"].includes(event.type)) {
        if (callId === event.call) callId = null;
        on.ended(event.type);
      } else if (event.type === "tokenWillExpire") renew();
      else if (event.type === "error") on.failed(event.message);
    }

    async function listen() {
      for (;;) {
        let response;
        try {
          response = await fetch(base + "/phone/events?device=" + device + "&after=" + after);
        } catch (e) { on.failed(t("the phone network cannot be reached")); return; }
        if (!response.ok) { on.failed(t("the phone lost its registration")); return; }
        const data = await response.json();
        for (const event of data.events) { after = event.n; handle(event); }
      }
    }

    (async () => {
      try {
        device = (await post("/phone/register", { token: info.token })).device;
      } catch (e) { on.failed(t("the phone could not register: {reason}", { reason: e.message })); return; }
      listen();
    })();

    const act = (action, value) => callId && post("/phone/calls/" + callId + "/" + action,
                                                  { device, value: value || "" })
      .catch((e) => on.failed(e.message));
    return {
      accept() { act("accept"); },
      reject() { act("reject"); },
      hangUp() { act("hangup"); },
      mute(muted) { act("mute", muted ? "true" : "false"); },
      digits(keys) { act("digits", keys); },
    };
  }

  function start(info, renewToken, on) {
    return info.phone === "stand-in" ? standInPhone(info, renewToken, on)
                                     : twilioPhone(info, renewToken, on);
  }

  window.HoldlessPhone = { start };
})();
