/* The window tablet (评价平板): the window, its clerk and ticket, and the rating when the controller asks.
   Also the managers' /tablets page: make a pairing code, unpair. */
"use strict";
(function () {
  const table = document.getElementById("tablets");
  if (table) {
    for (const b of table.querySelectorAll("button.make-code")) {
      b.addEventListener("click", () => api(`/api/tablets/${b.dataset.device}/pairing-code`, {}).then((a) => {
        document.getElementById("pair-code").textContent = t("tablets.code_is", { device: a.device_id, code: a.code, until: hallTime(a.expires_at) });
      }).catch(() => {}));
    }
    for (const b of table.querySelectorAll("button.unpair")) {
      b.addEventListener("click", () => api(`/api/tablets/${b.dataset.device}/unpair`, {}).then((a) => {
        toast(a.message, true);
        b.closest("tr").querySelector(".paired").textContent = "0";
      }).catch(() => {}));
    }
    return;
  }
  const root = document.getElementById("tablet");
  if (!root) return;
  const N = Number(root.dataset.window);
  const services = JSON.parse(document.getElementById("tablet-services").textContent);
  const rateBox = document.getElementById("rate");
  const reasons = document.getElementById("reasons");
  const thanks = document.getElementById("thanks");
  let asked = null;
  let level = null;

  function showWindow(w) {
    const cur = w ? w.current : null;
    const text = cur ? t(cur.state === "serving" ? "tablet.serving" : "tablet.calling", { ticket: cur.code })
      : (w && w.paused ? t("tablet.paused") : t("tablet.idle"));
    document.getElementById("now-text").textContent = text;
  }

  function showDesk(desk) {
    const photo = document.getElementById("clerk-photo");
    document.getElementById("clerk-name").textContent = desk ? desk.staff_name : t("tablet.no_clerk");
    document.getElementById("clerk-no").textContent = desk ? t("tablet.staff_no", { no: desk.staff_no }) : "";
    if (desk && desk.photo) {
      photo.src = "/api/tablet/photo?s=" + encodeURIComponent(desk.staff_no);
      photo.alt = t("tablet.photo", { name: desk.staff_name });
      photo.hidden = false;
    } else {
      photo.hidden = true;
      photo.removeAttribute("src");
    }
  }

  function showAsked(a) {
    asked = a;
    level = null;
    reasons.hidden = true;
    for (const b of document.querySelectorAll("button.level, button.reason")) b.classList.remove("chosen");
    rateBox.hidden = !a;
    document.getElementById("tablet-now").hidden = Boolean(a);
    if (a) {
      thanks.hidden = true;
      document.getElementById("rate-ticket").textContent = t("tablet.rate_ticket", { ticket: a.ticket, service: a.service_name || services[a.service] || "" });
      document.getElementById("level-1").focus();
    }
  }

  async function send(reason) {
    const response = await fetch("/api/tablet/rate", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: JSON.stringify({ ticket: asked.ticket, level, reason: reason || null }),
      credentials: "same-origin",
    });
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = { ok: false, message: t("error.failed") }; }
    if (response.status === 401) { location.reload(); return; }
    if (!response.ok || answer.ok === false) { toast(answer.message || t("error.failed"), false); showAsked(null); return; }
    showAsked(null);
    thanks.hidden = false;
    setTimeout(() => { thanks.hidden = true; }, 5000);
  }

  for (const b of document.querySelectorAll("button.level")) {
    b.addEventListener("click", () => {
      if (!asked) return;
      level = Number(b.dataset.level);
      for (const o of document.querySelectorAll("button.level")) o.classList.toggle("chosen", o === b);
      if (level >= 4) { reasons.hidden = false; document.querySelector("button.reason").focus(); } else send(null);
    });
  }
  for (const b of document.querySelectorAll("button.reason")) {
    b.addEventListener("click", () => { if (asked && level >= 4) send(b.dataset.reason); });
  }

  const status = document.getElementById("live-state");
  const source = new EventSource("/api/tablet/stream");
  source.addEventListener("hello", (e) => {
    const hello = JSON.parse(e.data);
    showWindow(hello.window);
    showDesk(hello.desk);
    showAsked(hello.asked);
    status.textContent = t("live.connected");
    status.className = "live on";
  });
  source.addEventListener("change", (e) => {
    const msg = JSON.parse(e.data);
    if (msg.topic === "window/" + N) showWindow(msg.data);
    if (msg.topic === "desk/" + N) showDesk(msg.data);
  });
  source.addEventListener("evaluate", (e) => showAsked(JSON.parse(e.data)));
  source.addEventListener("evaluate_end", (e) => {
    const end = JSON.parse(e.data);
    if (asked && asked.ticket === end.ticket) showAsked(null);
  });
  window.addEventListener("pagehide", () => source.close());  /* a page kept in the back-forward cache lets go */
  source.onerror = () => { status.textContent = t("live.reconnecting"); status.className = "live off"; };
})();
