/* The manager's live hall: queues, windows (pause, resume, reassign), open alerts. */
"use strict";
(function () {
  function domainName(id, state) {
    const q = state["queue/" + id];
    if (q) return localName(q);
    const info = state["hall/info"];
    const d = info && info.domains ? info.domains.find((x) => x.id === id) : null;
    return d ? localName(d) : id;
  }

  function renderQueues(state) {
    const body = document.querySelector("#queues tbody");
    body.replaceChildren();
    const keys = Object.keys(state).filter((k) => k.startsWith("queue/")).sort();
    for (const key of keys) {
      const q = state[key];
      body.append(el("tr", { "data-domain": q.domain },
        el("th", { scope: "row", text: localName(q) }),
        el("td", { class: "num waiting", text: String(q.waiting) }),
        el("td", { class: "num", text: String(q.waiting_priority || 0) }),
        el("td", { class: "num wait", text: minutes(q.estimated_wait_min) }),
        el("td", { class: "num", text: t("common.minutes", { n: Math.round(q.longest_wait_min || 0) }) }),
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
      const stateKey = w.paused ? "paused" : (w.current ? (w.current.state || "called") : "idle");
      const sep = LANG === "en" ? ", " : "、";
      const domains = (w.domains || []).map((d) => domainName(d, state)).join(sep);
      const pending = w.pending_domains ? t("hall.pending", { to: w.pending_domains.map((d) => domainName(d, state)).join(sep) }) : "";
      const name = windowName(w);
      const actions = el("td", { class: "actions" },
        w.paused
          ? el("button", { type: "button", class: "resume", "aria-label": t("hall.resume") + " " + name, onclick: () => api(`/api/windows/${n}/resume`).then(() => toast(t("common.done"), true)).catch(() => {}), text: t("hall.resume") })
          : el("button", { type: "button", class: "pause", "aria-label": t("hall.pause") + " " + name, onclick: () => api(`/api/windows/${n}/pause`, {}).then(() => toast(t("common.done"), true)).catch(() => {}), text: t("hall.pause") }),
        el("button", { type: "button", class: "assign", "aria-label": t("hall.assign") + " " + name, onclick: () => openAssign(n, w), text: t("hall.assign") }));
      body.append(el("tr", { "data-window": String(n), class: "state-" + stateKey },
        el("th", { scope: "row", text: name }),
        el("td", { class: "domains" }, domains, pending ? el("div", { class: "pending", text: pending }) : null),
        el("td", { class: "current", text: w.current ? w.current.code : "—" }),
        el("td", { class: "state", text: t("hall.state." + stateKey) + (w.paused && w.pause_reason ? "（" + w.pause_reason + "）" : "") }),
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
    if (key === null || key.startsWith("window/") || key.startsWith("queue/") || key.startsWith("desk/")) renderWindows(state);
    if (key === null || key.startsWith("alert/")) renderAlerts(state);
  });
  Live.start();
})();
