// The one rule for time in the browser: every time shown carries its zone.
// Holdless.zoned("2026-11-16T15:30:00+00:00", "America/New_York") -> "2026-11-16 10:30 EST"
// (the same layout as the pages' Jinja filter `zoned`, console/zoned.py; styles "full",
// "seconds", "time" -> "10:30 EST", "day" -> "Mon 16 Nov 10:30 EST"). The zone's short name
// is the browser's (Chromium says "GMT+1" where Python says "CET"). Without a zone, the time
// is shown in UTC and says so. Load it with <script src="/console/static/zoned.js">
// (url_for("console.static", filename="zoned.js")).
"use strict";
window.Holdless = window.Holdless || {};
window.Holdless.zoned = function (iso, zone, style) {
  if (!iso) return "—";
  const moment = new Date(iso);
  if (isNaN(moment)) return String(iso);
  const timeZone = zone || "UTC";
  const options = { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
                    timeZoneName: "short" };
  if (style === "seconds") options.second = "2-digit";
  if (style !== "time" && style !== "day") Object.assign(options, { year: "numeric", month: "2-digit", day: "2-digit" });
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-CA", options).formatToParts(moment)) parts[p.type] = p.value;
  const clock = parts.hour + ":" + parts.minute + (parts.second ? ":" + parts.second : "");
  let day = style === "time" || style === "day" ? "" : parts.year + "-" + parts.month + "-" + parts.day + " ";
  if (style === "day") {
    const words = {};
    for (const p of new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", month: "short", day: "2-digit" })
      .formatToParts(moment)) words[p.type] = p.value;
    day = words.weekday + " " + words.day + " " + words.month + " ";
  }
  return day + clock + " " + parts.timeZoneName;
};
// The calendar day of a moment in a zone ("2026-11-16"), to say a time without its date
// when it falls on the same day as another.
window.Holdless.zonedDay = function (iso, zone) {
  return iso ? window.Holdless.zoned(iso, zone).slice(0, 10) : "";
};
