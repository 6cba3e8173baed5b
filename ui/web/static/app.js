/* HallKit staff console: the shared part of every page (strings, CSRF-carrying API calls, the live feed). */
"use strict";
const LANG = document.body.dataset.lang || "zh";
const HALL_TZ = document.body.dataset.tz || undefined;  // times are the hall's, whatever the browser's zone

/* An epoch time as the hall's clock shows it: "09:30", or with the date "2026/11/25 09:30". */
function hallTime(epoch, withDate) {
  const opts = { timeZone: HALL_TZ, hour12: false, hour: "2-digit", minute: "2-digit" };
  if (withDate) Object.assign(opts, { year: "numeric", month: "2-digit", day: "2-digit" });
  return new Intl.DateTimeFormat(LANG === "en" ? "en-GB" : "zh-CN", opts).format(new Date(epoch * 1000));
}
const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

/* (t() and el() come from dom.js, loaded first) */

function toast(message, ok) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = ok ? "ok" : "bad";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

/* A state change: JSON with the session's CSRF token; the answer's sentence is shown on failure. */
async function api(path, body, method) {
  const response = await fetch(path, {
    method: method || "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  let answer = {};
  try { answer = await response.json(); } catch (e) { answer = { ok: false, message: t("error.failed") }; }
  if (response.status === 401) { window.location = "/login?why=expired&next=" + encodeURIComponent(location.pathname); }
  if (!response.ok || answer.ok === false) { toast(answer.message || t("error.failed"), false); throw answer; }
  return answer;
}

async function getJSON(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  if (response.status === 401) { window.location = "/login?why=expired&next=" + encodeURIComponent(location.pathname); }
  return response.json();
}

/* The live hall: the latest of every state, and the pages' renderers called on each change. */
const Live = {
  state: {},
  renderers: [],
  onChange(fn) { this.renderers.push(fn); },
  apply(key, data) {
    if (!key.startsWith("event/")) this.state[key] = data;
    for (const fn of this.renderers) fn(key, data, this.state);
  },
  start() {
    const status = document.getElementById("live-state");
    const source = new EventSource("/api/stream");
    source.addEventListener("hello", (e) => {
      this.state = JSON.parse(e.data).live;
      for (const fn of this.renderers) fn(null, null, this.state);
      if (status) { status.textContent = t("live.connected"); status.className = "live on"; }
    });
    source.addEventListener("change", (e) => {
      const msg = JSON.parse(e.data);
      this.apply(msg.topic, msg.data);
    });
    source.onerror = () => { if (status) { status.textContent = t("live.reconnecting"); status.className = "live off"; } };
    window.addEventListener("pagehide", () => source.close());  // a browser holds few connections per host
    this.source = source;
  },
};

/* hall.toml names windows in Chinese (1号窗口); in English a window is "Window 1". */
function windowName(w) { return LANG === "en" ? `Window ${w.number}` : (w.name || `${w.number}号窗口`); }
function localName(item) { return LANG === "en" && item && item.name_en ? item.name_en : (item ? item.name : ""); }
function minutes(n) { return n === null || n === undefined ? t("hall.no_estimate") : t("common.minutes", { n: Math.round(n) }); }
function byNumber(a, b) { return a - b; }
