/* A mandate on the phone (/m/<token>): follows this mandate's own event stream and redraws its state
   and history when it moves; the server sends the page's view (names already in the page's language). */
"use strict";
(function () {
  const root = document.getElementById("mandate-page");
  if (!root || !root.dataset.token) return;
  const status = document.getElementById("live-state");

  function show(view) {
    document.getElementById("mandate-state").textContent = view.state_name;
    document.getElementById("mandate-updated").textContent = view.updated;
    document.getElementById("mandate-promised").textContent = view.promised_date;
    document.getElementById("status-now").className = "card status-now " + view.state;
    const steps = view.steps.map((s) => {
      const li = document.createElement("li");
      li.dataset.state = s.state;
      const name = document.createElement("span");
      name.className = "step-name";
      name.textContent = s.name;
      const at = document.createElement("time");
      at.textContent = s.at;
      li.append(name, at);
      return li;
    });
    document.getElementById("steps").replaceChildren(...steps);
    root.dataset.state = view.state;
  }

  const source = new EventSource("/m/" + encodeURIComponent(root.dataset.token) + "/events");
  source.addEventListener("mandate", (e) => {
    show(JSON.parse(e.data));
    status.textContent = root.dataset.live;
    status.className = "live on";
  });
  source.onerror = () => { status.textContent = root.dataset.reconnecting; status.className = "live off"; };
  window.addEventListener("pagehide", () => source.close());
})();
