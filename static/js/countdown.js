// Countdowns (group buys, bargains): every <time data-countdown datetime="..."> shows the
// time left as H:MM:SS, ticking each second; at zero it shows its data-done text. The
// server renders the same text, so without JavaScript the page still says how long is
// left as of loading.
(() => {
  const pad = (n) => String(n).padStart(2, "0");
  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll("time[data-countdown]")) {
      const left = Math.floor((Date.parse(el.getAttribute("datetime")) - now) / 1000);
      el.textContent = left > 0
        ? `${Math.floor(left / 3600)}:${pad(Math.floor(left / 60) % 60)}:${pad(left % 60)}`
        : el.dataset.done;
    }
  }
  document.addEventListener("DOMContentLoaded", () => { tick(); setInterval(tick, 1000); });
  // a poll swaps in the stored copy of a fragment, countdown text as it was then: at once
  // the time left now, not at the next tick
  document.addEventListener("htmx:afterSettle", tick);
})();
