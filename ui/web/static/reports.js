/* 好差评 reports: the range, the table, a bar chart of 非常满意率 against the target, the exports; and
   below, when the hall takes appointments, appointments kept (预约履约) for the same range. */
"use strict";
(function () {
  const form = document.getElementById("report-form");
  const from = document.getElementById("from_day");
  const to = document.getElementById("to_day");
  const group = document.getElementById("group");
  const pcent = (x) => (x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%");

  function query() { return new URLSearchParams({ from_day: from.value, to_day: to.value, group: group.value }).toString(); }
  function label(row) { return row.label ? (LANG === "en" ? row.label.en : row.label.zh) : row.key; }

  function cells(name, f, th) {
    const low = f.meets_target === false;
    return [th ? el("th", { scope: "row", text: name }) : el("td", { text: name }),
      el("td", { class: "num", text: String(f.finished) }), el("td", { class: "num", text: String(f.evaluated) }),
      el("td", { class: "num", text: String(f.not_evaluated) }),
      el("td", { class: "num" + (low ? " below" : ""), text: pcent(f.very_satisfied_rate) + (low ? " ▼" : ""), title: low ? t("reports.below") : null }),
      el("td", { class: "num", text: pcent(f.not_evaluated_rate) }), el("td", { class: "num", text: String(f.bad_reviews) }),
      el("td", { class: "num channels", text: ["pad", "kiosk", "qr"].map((c) => String((f.channels || {})[c] || 0)).join(" / ") })];
  }

  function chart(report) {
    const box = document.getElementById("report-chart");
    const rows = report.rows.filter((r) => r.very_satisfied_rate !== null);
    const ns = "http://www.w3.org/2000/svg";
    const w = Math.max(320, rows.length * 46 + 60), h = 200, base = 170, top = 20;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`); svg.setAttribute("width", String(w)); svg.setAttribute("height", String(h));
    const y = (rate) => base - (base - top) * rate;
    rows.forEach((r, i) => {
      const bar = document.createElementNS(ns, "rect");
      bar.setAttribute("x", String(50 + i * 46)); bar.setAttribute("width", "30");
      bar.setAttribute("y", String(y(r.very_satisfied_rate))); bar.setAttribute("height", String(base - y(r.very_satisfied_rate)));
      bar.setAttribute("fill", r.meets_target === false ? "#b86e00" : "#0b5cad");
      const tip = document.createElementNS(ns, "title"); tip.textContent = `${label(r)} ${pcent(r.very_satisfied_rate)}`; bar.append(tip);
      const text = document.createElementNS(ns, "text");
      text.setAttribute("x", String(65 + i * 46)); text.setAttribute("y", "188"); text.setAttribute("text-anchor", "middle"); text.setAttribute("font-size", "11");
      text.textContent = label(r).slice(-5);
      svg.append(bar, text);
    });
    const line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "40"); line.setAttribute("x2", String(w)); line.setAttribute("y1", String(y(report.target))); line.setAttribute("y2", String(y(report.target)));
    line.setAttribute("stroke", "#b3261e"); line.setAttribute("stroke-dasharray", "4 3");
    const tl = document.createElementNS(ns, "text");
    tl.setAttribute("x", "2"); tl.setAttribute("y", String(y(report.target) + 4)); tl.setAttribute("font-size", "11"); tl.textContent = pcent(report.target);
    svg.append(line, tl);
    box.replaceChildren(svg);
  }

  async function show() {
    const asked = query();
    const answer = await getJSON("/api/reports?" + asked);
    if (asked !== query()) return;  // the form changed meanwhile: a newer answer comes
    if (answer.ok === false) { toast(answer.message, false); return; }
    const report = answer.report;
    const body = document.querySelector("#report tbody");
    body.replaceChildren(...report.rows.map((r) => el("tr", { "data-key": r.key }, ...cells(label(r), r, true))));
    document.querySelector("#report tfoot").replaceChildren(el("tr", { class: "totals" }, ...cells(t("reports.total"), report.totals, true)));
    document.getElementById("report-empty").hidden = report.totals.finished > 0;
    document.querySelector("figure.chart").hidden = report.totals.finished === 0;
    document.getElementById("report-target").textContent = t("reports.target", { p: pcent(report.target) });
    chart(report);
    document.getElementById("export-csv").href = "/api/reports/export.csv?" + query();
    document.getElementById("export-xlsx").href = "/api/reports/export.xlsx?" + query();
    document.getElementById("report").dataset.shown = query();  // what the table shows now
  }

  function keptCells(name, f) {
    return [el("th", { scope: "row", text: name }),
      ...["total", "booked", "checked_in", "no_show", "cancelled"].map((k) => el("td", { class: "num " + k, text: String(f[k]) })),
      el("td", { class: "num no_show_rate", text: pcent(f.no_show_rate) })];
  }

  async function showKept() {
    const table = document.getElementById("kept");
    if (!table) return;  // the hall takes no appointments
    const asked = query();
    const answer = await getJSON("/api/reports/bookings?" + asked);
    if (asked !== query()) return;
    if (answer.ok === false) { toast(answer.message, false); return; }
    const report = answer.report;
    table.querySelector("tbody").replaceChildren(...report.rows.map((r) => el("tr", { "data-key": r.key }, ...keptCells(label(r), r))));
    table.querySelector("tfoot").replaceChildren(el("tr", { class: "totals" }, ...keptCells(t("reports.total"), report.totals)));
    document.getElementById("kept-empty").hidden = report.totals.total > 0;
    document.getElementById("kept-by-day").hidden = report.group === group.value;
    document.getElementById("kept-csv").href = "/api/reports/bookings/export.csv?" + asked;
    document.getElementById("kept-xlsx").href = "/api/reports/bookings/export.xlsx?" + asked;
    table.dataset.shown = asked;
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); show(); showKept(); });
  show();
  showKept();
})();
