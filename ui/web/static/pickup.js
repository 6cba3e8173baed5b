/* 24-hour pickup: items in the lockers, overdue, return to window, compartments back in service.
   Reloaded from /api/pickup on every pickup event of the live feed. */
"use strict";
(function () {
  function when(at) {
    return at ? hallTime(at, true) : "—";
  }
  function where(c) { return c.position ? `${c.no}（${c.position}）` : c.no; }
  function what(item) { return [...new Set([item.item_name, item.service_name].filter(Boolean))].join(" · ") || "—"; }

  function returnButton(item) {
    if (item.state !== "deposited") return null;
    return el("button", { type: "button", class: "return", "aria-label": t("pickup.return") + " " + (item.case_no || item.case_no_masked), onclick: () => openReturn(item), text: t("pickup.return") });
  }

  function render(answer) {
    const items = answer.items || [];
    document.querySelector("#items tbody").replaceChildren(...items.map((item) => el("tr", { "data-item": String(item.item_id), class: "state-" + item.state },
      el("th", { scope: "row", text: item.case_no || item.case_no_masked }),
      el("td", { text: what(item) }),
      el("td", { text: where(item.compartment) }),
      el("td", { class: "state", text: t("pickup.state." + item.state) + (item.error ? "（" + item.error + "）" : "") }),
      el("td", { text: when(item.deposited_at) }),
      el("td", { class: "actions" }, returnButton(item)))));
    document.getElementById("no-items").hidden = items.length > 0;
    document.getElementById("items").hidden = items.length === 0;

    const over = (answer.overdue && answer.overdue.items) || [];
    document.getElementById("overdue-note").textContent = t("pickup.overdue_note", { days: answer.overdue ? answer.overdue.days : "" });
    document.querySelector("#overdue tbody").replaceChildren(...over.map((item) => el("tr", { "data-item": String(item.item_id) },
      el("th", { scope: "row", text: item.case_no || item.case_no_masked }),
      el("td", { text: what(item) }),
      el("td", { text: where(item.compartment) }),
      el("td", { text: when(item.deposited_at) }),
      el("td", { class: "actions" }, returnButton(item)))));
    document.getElementById("no-overdue").hidden = over.length > 0;
    document.getElementById("overdue").hidden = over.length === 0;

    const faults = answer.faults || [];
    document.querySelector("#faults tbody").replaceChildren(...faults.map((f) => el("tr", { "data-compartment": f.compartment },
      el("th", { scope: "row", text: f.compartment }),
      el("td", { text: f.reason }),
      el("td", { text: when(f.at) }),
      el("td", { class: "actions" }, el("button", { type: "button", class: "clear", "aria-label": t("pickup.clear") + " " + f.compartment, onclick: () => clearFault(f.compartment), text: t("pickup.clear") })))));
    document.getElementById("no-faults").hidden = faults.length > 0;
    document.getElementById("faults").hidden = faults.length === 0;
    const free = answer.free || {};
    document.getElementById("free").textContent = t("pickup.free_sizes", { S: free.S || 0, M: free.M || 0, L: free.L || 0 });
  }

  function load() { return getJSON("/api/pickup").then((answer) => { if (answer.ok) render(answer); else toast(answer.message, false); }); }

  function openReturn(item) {
    const dialog = document.getElementById("return-dialog");
    dialog.dataset.item = String(item.item_id);
    document.getElementById("return-what").textContent = `${item.case_no || item.case_no_masked} · ${where(item.compartment)}`;
    document.getElementById("return-reason").value = "";
    dialog.showModal();
  }

  document.getElementById("return-dialog").addEventListener("close", (e) => {
    const dialog = e.target;
    if (dialog.returnValue !== "ok") return;
    const reason = document.getElementById("return-reason").value;
    api(`/api/pickup/${dialog.dataset.item}/return`, { reason }).then(() => { toast(t("pickup.returning"), true); load(); }).catch(() => {});
  });

  function clearFault(compartment) {
    api(`/api/pickup/faults/${encodeURIComponent(compartment)}/clear`).then(() => { toast(t("common.done"), true); load(); }).catch(() => {});
  }

  Live.onChange((key) => { if (key === "event/pickup") load(); });
  load().then(() => Live.start());
  /* the live feed holds one of the browser's six connections to the console: give it back on leaving */
  window.addEventListener("pagehide", () => { if (Live.source) Live.source.close(); });
})();
