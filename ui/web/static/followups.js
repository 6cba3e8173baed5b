/* 差评 follow-up: the list with its deadlines and overdue marks, and each step of the workflow. */
"use strict";
(function () {
  const stateBox = document.getElementById("fstate");
  const overdueBox = document.getElementById("foverdue");
  const dialog = document.getElementById("step-dialog");
  const pcent = (x) => (x === null || x === undefined ? "—" : (x * 100).toFixed(0) + "%");
  const NEXT = { open: ["assign", "note", "visit"], visited: ["assign", "note", "rectify"], rectified: ["assign", "note", "close"], appealed: ["note", "close"], closed: ["note"] };

  function openStep(f, action) {
    dialog.dataset.id = String(f.id);
    dialog.dataset.action = action;
    document.getElementById("step-h").textContent = `${t("followups." + action)} · ${f.ticket}`;
    for (const part of dialog.querySelectorAll("[data-for]")) part.hidden = part.dataset.for !== action;
    document.getElementById("step-note").value = "";
    document.getElementById("step-note").required = action === "note" || action === "rectify";
    dialog.showModal();
  }

  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "ok") return;
    const body = { action: dialog.dataset.action, note: document.getElementById("step-note").value };
    if (body.action === "assign") body.assignee = document.getElementById("step-assignee").value;
    if (body.action === "visit") body.result = document.getElementById("step-result").value;
    api(`/api/followups/${dialog.dataset.id}`, body).then(() => { toast(t("common.done"), true); load(); }).catch(() => {});
  });

  async function load() {
    const q = new URLSearchParams({ state: stateBox.value, overdue: overdueBox.checked ? "true" : "false" });
    const answer = await getJSON("/api/followups?" + q);
    if (answer.ok === false) { toast(answer.message, false); return; }
    const body = document.querySelector("#followups tbody");
    body.replaceChildren(...answer.followups.map((f) => {
      const overdue = (f.overdue || []).length > 0;
      const history = el("ul", { class: "history" }, ...(f.history || []).map((h) => el("li", { text: `${hallTime(h.at, true)} ${h.actor} ${t("followups." + h.action)}${h.note ? "：" + h.note : ""}` })));
      return el("tr", { "data-followup": String(f.id), class: overdue ? "overdue" : "" },
        el("th", { scope: "row" }, f.ticket, f.real_name ? el("span", { class: "tag", text: t("followups.real_name") }) : null),
        el("td", { class: "state", text: t("followups.state." + f.state) + (overdue ? " · " + t("followups.overdue") : "") }),
        el("td", { text: f.assignee_name || f.assignee || "—" }),
        el("td", { text: f.visit_due }), el("td", { text: f.rectify_due }),
        el("td", {}, history),
        el("td", { class: "actions" }, ...(NEXT[f.state] || []).map((a) => el("button", { type: "button", class: "step-" + a, onclick: () => openStep(f, a), text: t("followups." + a) }))));
    }));
    document.getElementById("followups-none").hidden = answer.followups.length > 0;
    document.getElementById("followups").hidden = answer.followups.length === 0;
    const s = answer.summary;
    document.getElementById("followup-summary").textContent = s ? t("followups.summary", { total: s.total, open: s.open, overdue: s.overdue, rate: pcent(s.real_name_closed_rate) }) : "";
  }

  stateBox.addEventListener("change", load);
  overdueBox.addEventListener("change", load);
  load();
})();
