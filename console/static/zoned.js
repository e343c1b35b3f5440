// The one rule for time in the browser: every time shown carries its zone.
// Holdless.zoned("2026-11-16T15:30:00+00:00", "America/New_York") -> "2026-11-16 10:30 EST"
// (the same words as the pages' Jinja filter `zoned`, console/zoned.py). Without a zone, the
// time is shown in UTC and says so. Load it with <script src="/console/static/zoned.js"> (url_for("console.static", filename="zoned.js")).
"use strict";
window.Holdless = window.Holdless || {};
window.Holdless.zoned = function (iso, zone, style) {
  if (!iso) return "—";
  const moment = new Date(iso);
  if (isNaN(moment)) return String(iso);
  const options = { timeZone: zone || "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
                    timeZoneName: "short" };
  if (style === "seconds") options.second = "2-digit";
  if (style !== "time") Object.assign(options, { year: "numeric", month: "2-digit", day: "2-digit" });
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-CA", options).formatToParts(moment)) parts[p.type] = p.value;
  const clock = parts.hour + ":" + parts.minute + (parts.second ? ":" + parts.second : "");
  const day = style === "time" ? "" : parts.year + "-" + parts.month + "-" + parts.day + " ";
  return day + clock + " " + parts.timeZoneName;
};
