// Countdowns (group buys, bargains): every <time data-countdown datetime="..."> shows the
// time left as H:MM:SS (with days beyond one), ticking each second; at zero it shows its
// data-done text. The server renders the same text, so without JavaScript the page still
// says how long is left as of loading.
(() => {
  const pad = (n) => String(n).padStart(2, "0");
  // as shop.web.templating.time_left: H:MM:SS under a day, else the server's translated
  // day pattern ("{n} days {t}", "{n}天{t}") around HH:MM:SS
  function format(el, left) {
    const days = Math.floor(left / 86400), rest = left % 86400;
    const clock = `${pad(Math.floor(rest / 60) % 60)}:${pad(rest % 60)}`;
    if (!days) return `${Math.floor(rest / 3600)}:${clock}`;
    const pattern = days === 1 ? el.dataset.dayOne : el.dataset.dayOther;
    return pattern.replace("{n}", days).replace("{t}", `${pad(Math.floor(rest / 3600))}:${clock}`);
  }
  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll("time[data-countdown]")) {
      const left = Math.floor((Date.parse(el.getAttribute("datetime")) - now) / 1000);
      el.textContent = left > 0 ? format(el, left) : el.dataset.done;
    }
  }
  document.addEventListener("DOMContentLoaded", () => { tick(); setInterval(tick, 1000); });
  // a poll swaps in the stored copy of a fragment, countdown text as it was then: at once
  // the time left now, not at the next tick
  document.addEventListener("htmx:afterSettle", tick);
})();
