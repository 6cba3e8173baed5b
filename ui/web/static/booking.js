/* Booking an appointment on the phone (/book): service, day, slot with free places, phone number;
   then the code and its QR, and cancelling. Every refusal is shown as the server's sentence. */
"use strict";
(function () {
  const SERVICES = JSON.parse(document.getElementById("book-services").textContent);
  const $ = (id) => document.getElementById(id);
  const state = { service: null, date: null, slot: null, done: null };

  function say(box, text, ok) {
    box.textContent = text;
    box.className = "message " + (ok ? "ok" : "bad");
    box.hidden = !text;
  }

  async function post(path, body) {
    let answer;
    try {
      const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin" });
      answer = await response.json();
    } catch (e) {
      answer = { ok: false, message: t("book.offline") };
    }
    if (answer.ok === false && !answer.message) answer.message = t("book.offline");
    return answer;
  }

  function renderDays() {
    const service = SERVICES.find((s) => s.id === state.service);
    const days = service ? service.days : [];
    if (!days.some((d) => d.date === state.date)) state.date = days.length ? days[0].date : null;
    $("days").replaceChildren(...days.map((d) => el("button", {
      type: "button", "data-date": d.date, "aria-pressed": String(d.date === state.date), text: d.label,
      onclick: () => { state.date = d.date; renderDays(); loadSlots(); },
    })));
  }

  function slotButton(s) {
    const why = !s.open ? t("book.closed") : s.free <= 0 ? t("book.full") : t("book.free_n", { n: s.free });
    const badge = s.kind !== "regular" ? el("span", { class: "badge", text: t("book.kind." + s.kind) }) : null;
    return el("button", {
      type: "button", "data-start": String(s.start), "aria-pressed": String(state.slot === s.start),
      disabled: !s.open || s.free <= 0,
      onclick: () => { state.slot = s.start; for (const b of $("slots").children) b.setAttribute("aria-pressed", String(b.dataset.start === String(s.start))); say($("book-error"), ""); },
    }, el("span", { class: "when", text: s.label }), badge, el("small", { text: why }));
  }

  async function loadSlots() {
    state.slot = null;
    $("slots").replaceChildren();
    delete $("slots").dataset.loaded;
    $("no-slots").hidden = true;
    if (!state.service || !state.date) { $("no-slots").hidden = false; return; }
    const q = new URLSearchParams({ service: state.service, date: state.date });
    let answer;
    try { answer = await (await fetch("/api/book/slots?" + q, { credentials: "same-origin" })).json(); } catch (e) { answer = { ok: false, message: t("book.offline") }; }
    if (!answer.ok) { say($("book-error"), answer.message || t("book.offline")); return; }
    if (q.get("date") !== state.date || q.get("service") !== state.service) return;  // another day was chosen meanwhile
    $("slots").replaceChildren(...answer.slots.map(slotButton));
    $("slots").dataset.loaded = state.service + "/" + state.date;
    $("no-slots").hidden = answer.slots.length > 0;
  }

  function showDone(answer) {
    state.done = answer;
    $("done-code").textContent = answer.code;
    $("done-qr").src = answer.qr;
    $("done-qr").alt = t("book.qr_alt", { code: answer.code });
    $("done-service").textContent = answer.service_name;
    $("done-when").textContent = answer.when + (answer.kind !== "regular" ? "（" + t("book.kind." + answer.kind) + "）" : "");
    $("done-phone").textContent = answer.phone_masked;
    $("done-token").textContent = answer.cancel_token;
    $("done-message").hidden = true;
    $("cancel-this").hidden = false;
    $("book-form").hidden = true;
    $("done").hidden = false;
    $("done").scrollIntoView();
  }

  $("service").addEventListener("change", () => { state.service = $("service").value; renderDays(); loadSlots(); });

  $("book-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (state.slot === null) { say($("book-error"), t("book.choose_slot")); return; }
    $("book-submit").disabled = true;
    const answer = await post("/api/book", { service: state.service, slot_start: state.slot, phone: $("phone").value });
    $("book-submit").disabled = false;
    if (answer.ok) { say($("book-error"), ""); showDone(answer); }
    else { say($("book-error"), answer.message); loadSlots(); }
  });

  $("cancel-this").addEventListener("click", async () => {
    const answer = await post("/api/book/cancel", { code: state.done.code, cancel_token: state.done.cancel_token });
    say($("done-message"), answer.ok ? t("book.cancelled") : answer.message, answer.ok);
    if (answer.ok) $("cancel-this").hidden = true;
  });

  $("another").addEventListener("click", () => {
    $("done").hidden = true;
    $("book-form").hidden = false;
    loadSlots();
  });

  $("cancel-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const answer = await post("/api/book/cancel", { code: $("cancel-code").value, phone_last4: $("cancel-last4").value });
    say($("cancel-message"), answer.ok ? t("book.cancelled") : answer.message, answer.ok);
  });

  state.service = SERVICES.length ? SERVICES[0].id : null;
  renderDays();
  loadSlots();
})();
