/* Tidal windows: the live load, the proposals (accept / reject) and the mode. */
"use strict";
(function () {
  function domainName(id, state) {
    const q = state["queue/" + id];
    return q ? localName(q) : id;
  }

  function renderProposals(state) {
    const p = state["state/tidal/proposals"];
    const body = document.querySelector("#proposals tbody");
    body.replaceChildren();
    const pending = p ? p.pending || [] : [];
    document.getElementById("no-proposals").hidden = pending.length > 0;
    document.getElementById("proposals").hidden = pending.length === 0;
    for (const item of pending) {
      const sep = LANG === "en" ? ", " : "、";
      const from = (item.from_domains || []).map((d) => domainName(d, state)).join(sep);
      const to = (item.to_domains || []).map((d) => domainName(d, state)).join(sep);
      const m = item.metrics || {};
      const expect = m.wait_before_min !== undefined ? `${minutes(m.wait_before_min)} → ${minutes(m.wait_after_min)}` : "";
      body.append(el("tr", { "data-proposal": item.id },
        el("th", { scope: "row", text: windowName({ number: item.window, name: item.window_name }) }),
        el("td", { text: `${from} → ${to}` }),
        el("td", { text: LANG === "en" ? item.reason_en : item.reason }),
        el("td", { text: expect }),
        el("td", { class: "actions" },
          el("button", { type: "button", class: "accept primary", onclick: () => api(`/api/tidal/proposals/${item.id}/accept`).then(() => toast(t("common.done"), true)).catch(() => {}), text: t("tidal.accept") }),
          el("button", { type: "button", class: "reject", onclick: () => api(`/api/tidal/proposals/${item.id}/reject`).then(() => toast(t("common.done"), true)).catch(() => {}), text: t("tidal.reject") }))));
    }
    const mode = (state["state/tidal/load"] || p || {}).mode;
    for (const radio of document.querySelectorAll('#tidal-mode input')) radio.checked = radio.value === mode;
  }

  function renderLoad(state) {
    const load = state["state/tidal/load"];
    const body = document.querySelector("#load tbody");
    body.replaceChildren();
    if (!load) return;
    for (const d of load.domains || []) {
      const util = d.utilisation === null || d.utilisation === undefined ? "—" : Math.min(100, Math.round(d.utilisation * 100)) + "%";
      body.append(el("tr", { "data-domain": d.domain },
        el("th", { scope: "row", text: localName(d) }),
        el("td", { class: "num", text: String(d.waiting) }),
        el("td", { class: "num", text: minutes(d.expected_wait_min) }),
        el("td", { class: "num", text: util }),
        el("td", { text: (d.windows || []).join(", ") || t("common.none") })));
    }
  }

  for (const radio of document.querySelectorAll('#tidal-mode input')) {
    radio.addEventListener("change", () => api("/api/tidal/mode", { mode: radio.value }).then(() => toast(t("common.done"), true)).catch(() => {}));
  }
  Live.onChange((key, data, state) => {
    if (key === null || key.startsWith("state/tidal/") || key.startsWith("queue/")) { renderProposals(state); renderLoad(state); }
  });
  Live.start();
})();
