/* Devices and alerts: every device's health from the bus, the alerts with acknowledge; live. */
"use strict";
(function () {
  const devices = {};  // id -> row data from /api/devices, updated by the live feed
  const alerts = {};   // id -> alert

  function clock(at) {
    if (!at) return t("dev.never");
    return hallTime(at, true);
  }

  function online(dev) {
    if (dev.online === true) return t("dev.yes_online");
    if (dev.online === false) return t("dev.no_online");
    return t("dev.unknown");
  }

  function health(dev) {
    const st = dev.state;
    if (!st || !st.state) return t("dev.unknown");
    const words = [t("dev.state." + st.state)];
    const flags = ["paper_out", "cover_open", "paper_near_end"].filter((f) => st[f] && !(f === "paper_near_end" && st.paper_out));
    for (const flag of flags) words.push(t("dev.flag." + flag));
    if (!flags.length && st.detail && st.state !== "ready") words.push(st.detail);
    return words.join("，");
  }

  function renderDevices() {
    const body = document.querySelector("#devices tbody");
    body.replaceChildren(...Object.values(devices).map((dev) => el("tr", { "data-device": dev.id, class: "state-" + ((dev.state && dev.state.state) || "unknown") },
      el("th", { scope: "row", text: dev.id }),
      el("td", { text: t("dev.kind." + dev.kind) }),
      el("td", { text: LANG === "en" ? dev.where_en : dev.where }),
      el("td", { class: "online", text: online(dev) }),
      el("td", { class: "health", text: health(dev) }),
      el("td", { class: "seen", text: clock(dev.heard_at) }))));
  }

  function ack(a) {
    api(`/api/alerts/${a.id}/ack`).then((answer) => { alerts[a.id] = answer.alert; renderAlerts(); toast(t("common.done"), true); }).catch(() => {});
  }

  function renderAlerts() {
    const rank = (a) => (a.severity === "critical" ? 0 : 1);
    const list = Object.values(alerts).sort((x, y) => (y.open - x.open) || (rank(x) - rank(y)) || (y.opened_at - x.opened_at));
    const body = document.querySelector("#alerts tbody");
    body.replaceChildren(...list.map((a) => el("tr", { "data-alert": String(a.id), class: (a.open ? "open " : "closed ") + "sev-" + a.severity },
      el("td", { class: "level", text: t("dev.alert." + a.severity) }),
      el("th", { scope: "row", class: "text", text: LANG === "en" ? a.text_en : a.text }),
      el("td", { text: clock(a.opened_at) }),
      el("td", { class: "status", text: t(a.open ? "dev.alert.open" : "dev.alert.closed") + (a.acknowledged_by ? "，" + t("dev.alert.acked", { who: a.acknowledged_by }) : "") }),
      el("td", { class: "actions" }, a.open && !a.acknowledged_by
        ? el("button", { type: "button", class: "ack", "aria-label": t("dev.alert.ack") + "：" + (LANG === "en" ? a.text_en : a.text), onclick: () => ack(a), text: t("dev.alert.ack") })
        : null))));
    document.getElementById("no-alerts").hidden = list.length > 0;
  }

  Live.onChange((key, data) => {
    if (key === null) return;
    const [kind, id] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
    if (kind === "alert" && data) { alerts[data.id] = data; renderAlerts(); return; }
    const dev = devices[id];
    if (!dev) return;
    if (kind === "device" && data) { dev.state = data; dev.heard_at = Date.now() / 1000; }
    else if (kind === "device-availability" && data && "online" in data) { dev.online = data.online; dev.heard_at = Date.now() / 1000; }
    else return;
    renderDevices();
  });

  getJSON("/api/devices").then((answer) => {
    for (const dev of answer.devices) devices[dev.id] = dev;
    for (const a of answer.alerts) alerts[a.id] = a;
    renderDevices();
    renderAlerts();
    Live.start();
  });
  /* the live feed holds one of the browser's six connections to the console: give it back on leaving */
  window.addEventListener("pagehide", () => { if (Live.source) Live.source.close(); });
})();
