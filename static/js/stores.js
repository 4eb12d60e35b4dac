// Pickup stores at checkout (shop.stores): where the browser shares its position, a
// button lists the stores nearest first (an htmx swap of the store list, keeping the
// store chosen). Without it, the stores stay listed by city.
(() => {
  function setUp(root) {
    for (const button of root.querySelectorAll("button.locate[data-nearby]")) {
      if (button.dataset.ready || !navigator.geolocation || !window.htmx) continue;
      button.dataset.ready = "1";
      button.hidden = false;
      button.addEventListener("click", () => {
        navigator.geolocation.getCurrentPosition((position) => {
          const chosen = document.querySelector("input[name=store_id]:checked");
          const url = new URL(button.dataset.nearby, window.location.href);
          url.searchParams.set("lat", position.coords.latitude.toFixed(6));
          url.searchParams.set("lng", position.coords.longitude.toFixed(6));
          if (chosen) url.searchParams.set("selected", chosen.value);
          window.htmx.ajax("GET", url.pathname + url.search, { target: "#store-choices", swap: "innerHTML" });
        }, () => { button.hidden = true; }, { maximumAge: 600000, timeout: 10000 });
      });
    }
  }
  document.addEventListener("DOMContentLoaded", () => setUp(document));
  document.addEventListener("htmx:load", (event) => setUp(event.detail.elt));
})();
