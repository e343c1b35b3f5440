// Holdless live updates for any page: one server-sent event stream (webhooks/push.py) and
// helpers that change only what differs, so text a person is reading or selecting stays.
//
//   const live = HoldlessLive.connect(url, { onSync, onUpdate });
//   onSync():              fetch the whole state (on open, on reconnect, on "resync")
//   onUpdate(topic, data): one update, e.g. ("presence", {id: 7, state: "available"})
//   live.follow(newUrl):   switch streams (e.g. another interaction on screen)
//   HoldlessLive.patchText(element, text); HoldlessLive.patchList(list, items)
"use strict";
(function () {
  const RETRY_MS = 3000;  // after a refused stream (503: the server is serving its most pages)

  function connect(url, handlers) {
    let source = null;
    let current = url;
    let retry = null;

    function open() {
      clearTimeout(retry);
      if (source) source.close();
      source = new EventSource(current, { withCredentials: true });
      source.addEventListener("open", () => handlers.onSync());
      source.addEventListener("message", (event) => {
        let update;
        try { update = JSON.parse(event.data); } catch (e) { return; }
        if (update.topic === "resync") handlers.onSync();
        else handlers.onUpdate(update.topic, update.data || {});
      });
      source.addEventListener("error", () => {
        // The browser reconnects a dropped stream itself; a refused one stays closed.
        if (source.readyState === EventSource.CLOSED) {
          retry = setTimeout(open, RETRY_MS + Math.random() * RETRY_MS);
        }
      });
    }

    open();
    return {
      follow(next) { if (next !== current) { current = next; open(); } },
      close() { clearTimeout(retry); if (source) source.close(); },
    };
  }

  function patchText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }

  // items: [{key, text, className}] in order. A row whose key and text are unchanged is
  // left exactly as it is (a selection inside it survives); others are patched or added.
  function patchList(list, items) {
    const byKey = new Map();
    for (const child of Array.from(list.children)) byKey.set(child.dataset.key, child);
    let previous = null;
    for (const item of items) {
      const key = String(item.key);
      let row = byKey.get(key);
      byKey.delete(key);
      if (!row) {
        row = document.createElement(item.tag || "li");
        row.dataset.key = key;
      }
      patchText(row, item.text);
      const className = item.className || "";
      if (row.className !== className) row.className = className;
      const wanted = previous ? previous.nextElementSibling : list.firstElementChild;
      if (wanted !== row) list.insertBefore(row, wanted);
      previous = row;
    }
    for (const gone of byKey.values()) gone.remove();
  }

  window.HoldlessLive = { connect, patchText, patchList };
})();
