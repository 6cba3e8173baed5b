/* The clerk's window desk: take a window, act on its current ticket, see its queues live. */
"use strict";
(function () {
  /* Scan sessions as the page shows them: per session the PDF link, then thumbnails opening each page. */
  function scanSets(list, scans) {
    for (const s of scans) {
      const thumbs = s.pages.map((url, i) => el("a", { href: url, target: "_blank", rel: "noopener", class: "scan-page" },
        el("img", { src: url, alt: t("clerk.scans.page", { n: i + 1 }), style: "height:96px;margin:2px;border:1px solid #ccc" })));
      list.append(el("div", { class: "scan-set", "data-ref": s.ref },
        s.pdf ? el("p", {}, el("a", { href: s.pdf, target: "_blank", rel: "noopener", class: "scan-pdf", text: t("clerk.scans.pdf", { ref: s.ref, n: s.pages.length }) })) : null,
        el("div", {}, ...thumbs)));
    }
  }

  /* 该办件的扫描材料: the pages a kiosk scanned for a case number the clerk types. */
  const caseForm = document.getElementById("case-scans-form");
  if (caseForm) {
    caseForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const list = document.getElementById("case-scans-list");
      const said = document.getElementById("case-scans-message");
      const caseNo = document.getElementById("case-scans-no").value.trim().toUpperCase();
      list.replaceChildren();
      said.textContent = "";
      fetch("/api/scans/case/" + encodeURIComponent(caseNo), { credentials: "same-origin" }).then((r) => r.json()).then((answer) => {
        if (!answer.ok) { said.textContent = answer.message || t("error.failed"); said.className = "message bad"; return; }
        said.className = "message";
        if (!answer.scans.length) { said.textContent = t("clerk.case_scans.none"); return; }
        scanSets(list, answer.scans);
      }).catch(() => { said.textContent = t("error.failed"); said.className = "message bad"; });
    });
  }

  const takeForm = document.getElementById("take-form");
  if (takeForm) {
    takeForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const window_ = Number(document.getElementById("take-window").value);
      api("/api/desk/take", { window: window_ }).then(() => location.reload()).catch(() => {});
    });
    return;
  }
  const desk = document.getElementById("desk");
  if (!desk) return;
  const N = Number(desk.dataset.window);
  const H = JSON.parse(document.getElementById("desk-data").textContent);
  const message = document.getElementById("desk-message");

  function say(text) { message.textContent = text || ""; }

  function act(path, body) {
    return api(path, body).then((answer) => { say(answer.message); toast(answer.message, true); }).catch((e) => { say(e && e.message); });
  }

  function hhmm(epoch) { return epoch ? hallTime(epoch) : ""; }

  function renderCurrent(state) {
    const w = state["window/" + N];
    const cur = w ? w.current : null;
    document.getElementById("current-code").textContent = cur ? cur.code : t("clerk.no_current");
    document.getElementById("current-service").textContent = cur ? t("clerk.service", { name: H.services[cur.service] || cur.service }) : "";
    const stateText = w && w.paused && !cur ? t("clerk.paused") + (w.pause_reason ? "（" + w.pause_reason + "）" : "")
      : cur ? t("clerk.state." + (cur.state === "serving" ? "serving" : "called")) : "";
    const stateBox = document.getElementById("current-state");
    stateBox.textContent = stateText;
    stateBox.className = "state " + (w && w.paused ? "paused" : (cur ? cur.state : "idle"));
    const notes = [];
    const hours = w ? w.hours : "open";  // the window's own hours now (延时/错时): appointments only, closed, finishing
    if (hours && hours !== "open") notes.push(el("li", { class: "hours hours-" + hours, text: t("clerk.hours." + hours) }));
    if (cur && cur.priority && cur.priority !== "normal") notes.push(el("li", { class: "green", text: t("clerk.green", { kind: t("clerk.priority." + cur.priority) }) }));
    if (cur && cur.appointment) notes.push(el("li", { class: "appointment", text: t("clerk.appointment", { code: cur.appointment, slot: hhmm(cur.appointment_due) }) }));
    if (cur && cur.transfers) notes.push(el("li", { text: t("clerk.transfers", { n: cur.transfers }) }));
    document.getElementById("current-notes").replaceChildren(...notes);
    const paused = Boolean(w && w.paused);
    document.getElementById("act-pause").hidden = paused;
    document.getElementById("act-resume").hidden = !paused;
    for (const id of ["act-recall", "act-start", "act-finish", "act-no_show", "act-transfer"]) document.getElementById(id).disabled = !cur;
    if (cur) {
      document.getElementById("act-start").disabled = cur.state === "serving";
      document.getElementById("act-no_show").disabled = cur.state !== "called";
    }
  }

  /* The pages a kiosk scanned for the current ticket: thumbnails opening each page, and the PDF. */
  let scansOf = null;
  function renderScans(state) {
    const w = state["window/" + N];
    const code = w && w.current ? w.current.code : "";
    if (code === scansOf) return;
    scansOf = code;
    const box = document.getElementById("desk-scans");
    const list = document.getElementById("desk-scans-list");
    list.replaceChildren();
    box.hidden = !code;
    if (!code) return;
    fetch("/api/scans/current", { credentials: "same-origin" }).then((r) => r.json()).then((answer) => {
      if (!answer.ok || answer.ticket !== scansOf) return;
      if (!answer.scans.length) { list.append(el("p", { class: "note", id: "desk-scans-none", text: t("clerk.scans.none") })); return; }
      scanSets(list, answer.scans);
    }).catch(() => {});
  }

  function renderQueues(state) {
    const w = state["window/" + N];
    const body = document.querySelector("#desk-queues tbody");
    body.replaceChildren();
    for (const d of (w && w.domains) || []) {
      const q = state["queue/" + d];
      if (!q) continue;
      body.append(el("tr", { "data-domain": d },
        el("th", { scope: "row", text: localName(q) }),
        el("td", { class: "num waiting", text: String(q.waiting) }),
        el("td", { class: "num", text: String(q.waiting_priority || 0) }),
        el("td", { class: "num", text: minutes(q.estimated_wait_min) }),
        el("td", { text: (q.next || []).join(" ") })));
    }
  }

  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => act("/api/desk/" + button.dataset.action, {}));
  }

  document.getElementById("leave").addEventListener("click", () => {
    api("/api/desk/leave", {}).then(() => location.reload()).catch(() => {});
  });

  /* Transfer: another domain, or another window whose clerk has the skill of the ticket's domain. */
  const transferDialog = document.getElementById("transfer-dialog");
  const toDomain = document.getElementById("transfer-domain");
  const toWindow = document.getElementById("transfer-window");
  toDomain.addEventListener("change", () => { if (toDomain.value) toWindow.value = ""; });
  toWindow.addEventListener("change", () => { if (toWindow.value) toDomain.value = ""; });
  document.getElementById("act-transfer").addEventListener("click", () => {
    const w = Live.state["window/" + N];
    const cur = w && w.current;
    if (!cur) return;
    const blank = () => el("option", { value: "", text: "—" });
    toDomain.replaceChildren(blank(), ...H.domains.filter((d) => d.id !== cur.domain).map((d) => el("option", { value: d.id, text: d.name })));
    const others = Object.keys(Live.state).filter((k) => k.startsWith("window/")).map((k) => Live.state[k])
      .filter((o) => o.number !== N && (!cur.domain || (o.skills || o.domains || []).includes(cur.domain)))
      .sort((a, b) => a.number - b.number);
    toWindow.replaceChildren(blank(), ...others.map((o) => el("option", { value: String(o.number), text: H.windows[String(o.number)] || o.name })));
    transferDialog.showModal();
  });
  transferDialog.addEventListener("close", () => {
    if (transferDialog.returnValue !== "ok") return;
    const body = toDomain.value ? { to_domain: toDomain.value } : (toWindow.value ? { to_window: Number(toWindow.value) } : {});
    act("/api/desk/transfer", body);
  });

  /* 打印受理回执: the case's acceptance receipt at this window's printer; the answer's sentence below. */
  const receiptForm = document.getElementById("receipt-form");
  const receiptMessage = document.getElementById("receipt-message");
  receiptForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const button = document.getElementById("receipt-print");
    button.disabled = true;  // one press, one receipt
    receiptMessage.textContent = "";
    api("/api/desk/receipt", { case_no: document.getElementById("receipt-case").value.trim() })
      .then((answer) => { receiptMessage.textContent = answer.message; receiptMessage.className = "message ok"; toast(answer.message, true); })
      .catch((answer) => { receiptMessage.textContent = (answer && answer.message) || t("error.failed"); receiptMessage.className = "message bad"; })
      .finally(() => { button.disabled = false; });
  });

  const pauseDialog = document.getElementById("pause-dialog");
  document.getElementById("act-pause").addEventListener("click", () => pauseDialog.showModal());
  pauseDialog.addEventListener("close", () => {
    if (pauseDialog.returnValue !== "ok") return;
    const chosen = pauseDialog.querySelector('input[name="pause-reason"]:checked');
    act("/api/desk/pause", { reason: chosen ? chosen.value : "" });
  });

  Live.onChange((key, data, state) => {
    if (key === null || key === "window/" + N) { renderCurrent(state); renderScans(state); }
    if (key === null || key === "window/" + N || key.startsWith("queue/")) renderQueues(state);
  });
  Live.start();
})();
