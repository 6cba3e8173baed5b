/* The manager's live hall: queues, windows (pause, resume, reassign), open alerts; the hours of each
   window (its state's hours) and domain (hall.info: mode, hours today, appointment hours). */
"use strict";
(function () {
  function domainName(id, state) {
    const q = state["queue/" + id];
    if (q) return localName(q);
    const info = state["hall/info"];
    const d = info && info.domains ? info.domains.find((x) => x.id === id) : null;
    return d ? localName(d) : id;
  }

  function infoOf(state, kind, key) {
    const info = state["hall/info"];
    return ((info && info[kind]) || []).find((x) => (kind === "windows" ? x.number === key : x.id === key)) || null;
  }

  function hoursText(entry) {
    if (!entry || !entry.hours_today) return "";  // (an older controller says the hall's hours only)
    const walk = entry.hours_today === "closed" ? t("hall.hours.closed") : entry.hours_today;
    const appointments = entry.appointments_today ? t("hall.hours.appointments", { hours: entry.appointments_today }) : "";
    return [walk, appointments].filter(Boolean).join(LANG === "en" ? "; " : "；");
  }

  function domainHours(id, state) {
    const d = infoOf(state, "domains", id);
    const text = hoursText(d);
    return text && d.mode !== "open" ? t("hall.mode." + d.mode) + " · " + text : text;
  }

  function renderQueues(state) {
    const body = document.querySelector("#queues tbody");
    body.replaceChildren();
    const keys = Object.keys(state).filter((k) => k.startsWith("queue/")).sort();
    for (const key of keys) {
      const q = state[key];
      const d = infoOf(state, "domains", q.domain);
      body.append(el("tr", { "data-domain": q.domain, "data-mode": d && d.hours_today ? d.mode : null },
        el("th", { scope: "row", text: localName(q) }),
        el("td", { class: "num waiting", text: String(q.waiting) }),
        el("td", { class: "num", text: String(q.waiting_priority || 0) }),
        el("td", { class: "num wait", text: minutes(q.estimated_wait_min) }),
        el("td", { class: "num", text: t("common.minutes", { n: Math.round(q.longest_wait_min || 0) }) }),
        el("td", { class: "hours", text: domainHours(q.domain, state) }),
        el("td", { text: (q.windows_open || []).join(", ") || t("common.none") }),
        el("td", { text: (q.next || []).join(" ") })));
    }
  }

  function clerkOf(number, state) {
    const desk = state["desk/" + number];
    return desk && desk.staff_name ? desk.staff_name : "—";
  }

  function renderWindows(state) {
    const body = document.querySelector("#windows tbody");
    body.replaceChildren();
    const numbers = Object.keys(state).filter((k) => k.startsWith("window/")).map((k) => Number(k.slice(7))).sort(byNumber);
    for (const n of numbers) {
      const w = state["window/" + n];
      const off = w.hours === "closed" || w.hours === "appointments";  // finishing: it still serves, shown as it works
      const stateKey = w.paused ? "paused" : (w.current ? (w.current.state || "called") : (off ? w.hours : "idle"));
      const sep = LANG === "en" ? ", " : "、";
      const domains = (w.domains || []).map((d) => domainName(d, state)).join(sep);
      const pending = w.pending_domains ? t("hall.pending", { to: w.pending_domains.map((d) => domainName(d, state)).join(sep) }) : "";
      const name = windowName(w);
      const actions = el("td", { class: "actions" },
        w.paused
          ? el("button", { type: "button", class: "resume", "aria-label": t("hall.resume") + " " + name, onclick: () => api(`/api/windows/${n}/resume`).then(() => toast(t("common.done"), true)).catch(() => {}), text: t("hall.resume") })
          : el("button", { type: "button", class: "pause", "aria-label": t("hall.pause") + " " + name, onclick: () => api(`/api/windows/${n}/pause`, {}).then(() => toast(t("common.done"), true)).catch(() => {}), text: t("hall.pause") }),
        el("button", { type: "button", class: "assign", "aria-label": t("hall.assign") + " " + name, onclick: () => openAssign(n, w), text: t("hall.assign") }));
      body.append(el("tr", { "data-window": String(n), class: "state-" + stateKey + " hours-" + (w.hours || "open") },
        el("th", { scope: "row", text: name }),
        el("td", { class: "domains" }, domains, pending ? el("div", { class: "pending", text: pending }) : null),
        el("td", { class: "current", text: w.current ? w.current.code : "—" }),
        el("td", { class: "state", text: t("hall.state." + stateKey) + (w.paused && w.pause_reason ? "（" + w.pause_reason + "）" : "") }),
        el("td", { class: "hours", text: hoursText(infoOf(state, "windows", n)) }),
        el("td", { class: "clerk", text: clerkOf(n, state) }),
        actions));
    }
  }

  function renderAlerts(state) {
    const open = Object.keys(state).filter((k) => k.startsWith("alert/")).map((k) => state[k]).filter((a) => a && a.open);
    const box = document.getElementById("alerts-banner");
    const list = document.getElementById("alerts-list");
    list.replaceChildren(...open.map((a) => el("li", { class: "alert sev-" + (a.severity || "warning"), "data-alert": a.id, text: (LANG === "en" ? a.text_en : a.text) || a.id })));
    box.hidden = open.length === 0;
  }

  function openAssign(n, w) {
    const dialog = document.getElementById("assign-dialog");
    const form = document.getElementById("assign-form");
    for (const box of form.querySelectorAll('input[name="domain"]')) box.checked = (w.pending_domains || w.domains || []).includes(box.value);
    dialog.dataset.window = String(n);
    dialog.showModal();
  }

  document.getElementById("assign-dialog").addEventListener("close", (e) => {
    const dialog = e.target;
    if (dialog.returnValue !== "ok") return;
    const form = document.getElementById("assign-form");
    const domains = [...form.querySelectorAll('input[name="domain"]:checked')].map((b) => b.value);
    const reason = document.getElementById("assign-reason").value;
    api(`/api/windows/${dialog.dataset.window}/assign`, { domains, reason }).then(() => toast(t("common.done"), true)).catch(() => {});
  });

  Live.onChange((key, data, state) => {
    if (key === null || key.startsWith("queue/") || key === "hall/info") renderQueues(state);
    if (key === null || key.startsWith("window/") || key.startsWith("queue/") || key.startsWith("desk/") || key === "hall/info") renderWindows(state);
    if (key === null || key.startsWith("alert/")) renderAlerts(state);
  });
  Live.start();
})();
