/* The ticket on the phone (/t/<token>): follows this ticket's own event stream and shows people ahead,
   the estimated wait, 请到 N 号窗口 when called, and after the service the 好差评 form (channel qr). */
"use strict";
(function () {
  const root = document.getElementById("phone");
  if (!root) return;
  const base = "/t/" + encodeURIComponent(root.dataset.token);
  const form = document.getElementById("rate");
  const reasons = document.getElementById("reasons");
  const message = document.getElementById("message");

  function say(text, ok) {
    message.textContent = text;
    message.className = "message " + (ok ? "ok" : "bad");
    message.hidden = !text;
  }

  function show(view) {
    root.dataset.state = view.state;
    document.getElementById("ticket-code").textContent = view.code;
    document.getElementById("ticket-service").textContent = view.service;
    for (const id of ["waiting", "called", "serving", "no-show", "finished"]) {
      document.getElementById(id).hidden = id.replace("-", "_") !== view.state;
    }
    if (view.state === "waiting") {
      document.getElementById("ahead").textContent = t("phone.ahead_n", { n: view.waiting_ahead });
      document.getElementById("wait").textContent = view.estimated_wait_min === null
        ? t("phone.wait_unknown") : t("phone.wait_n", { n: Math.round(view.estimated_wait_min) });
    }
    document.getElementById("called-text").textContent = t("phone.called", { n: view.window });
    document.getElementById("serving-text").textContent = t("phone.serving", { n: view.window });
    const rated = document.getElementById("rated");
    const ev = view.evaluation;
    if (view.state === "finished" && ev) {
      if (ev.status === "rated") {
        form.hidden = true;
        rated.textContent = t("phone.rated", { level: S.levels[ev.level] || ev.level }) + (ev.channel === "pad" ? t("phone.rated_pad") : "");
        rated.hidden = false;
      } else {
        form.hidden = !ev.rateable;
        rated.textContent = ev.rateable ? "" : t("phone.not_rateable");
        rated.hidden = ev.rateable;
      }
    } else {
      form.hidden = true;
      rated.hidden = true;
    }
  }

  form.addEventListener("change", () => {
    const level = form.querySelector("input[name=level]:checked");
    reasons.hidden = !(level && Number(level.value) >= 4);
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const level = form.querySelector("input[name=level]:checked");
    if (!level) { say(t("phone.choose_level"), false); return; }
    const reason = form.querySelector("input[name=reason]:checked");
    const body = { level: Number(level.value), reason: Number(level.value) >= 4 && reason ? reason.value : null };
    const button = document.getElementById("rate-submit");
    button.disabled = true;
    try {
      const response = await fetch(base + "/rate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      let answer = {};
      try { answer = await response.json(); } catch (err) { answer = {}; }
      if (!response.ok || answer.ok === false) {
        if (answer.ticket) show(answer.ticket);  // rated meanwhile elsewhere: show that rating, not the form
        say(answer.message || t("error.ticket_link"), false);
      } else {
        say(answer.message, true);
        if (answer.ticket) show(answer.ticket);
      }
    } finally {
      button.disabled = false;
    }
  });

  show(JSON.parse(document.getElementById("phone-view").textContent));

  const status = document.getElementById("live-state");
  const source = new EventSource(base + "/events");
  source.addEventListener("ticket", (e) => {
    show(JSON.parse(e.data));
    status.textContent = t("phone.live");
    status.className = "live on";
  });
  source.onerror = () => { status.textContent = t("phone.reconnecting"); status.className = "live off"; };
  window.addEventListener("pagehide", () => source.close());
})();
