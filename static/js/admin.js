// What the backoffice's pages do with JavaScript besides page.js (templates/admin/base.html
// loads it; no shopper page carries it).

// Pickers (templates/_macros/picker.html): a match chosen from the search results moves to
// the current choice (one choice: it replaces the one there; several: it is added), and
// the search box empties, so submitting the form saves the choice rather than searching.
// Enter in a search box searches instead of submitting. Without JavaScript the matches
// come back with the form after a submit, and are chosen there.
document.addEventListener("change", (event) => {
  const input = event.target;
  const results = input.closest && input.closest(".pick-results");
  if (!results || !input.checked) return;
  const pick = results.closest(".pick");
  const current = pick.querySelector("[data-pick-current]");
  const option = input.closest("[data-pick-option]");
  for (const empty of current.querySelectorAll("[data-pick-empty]")) empty.remove();
  if (input.type === "radio") {
    for (const old of current.querySelectorAll("[data-pick-option]")) old.remove();
    current.prepend(option);
    results.replaceChildren();
  } else {
    const same = [...current.querySelectorAll("input")].some((i) => i.value === input.value);
    if (same) option.remove(); else current.append(option);
  }
  const box = pick.querySelector("input[type=search]");
  if (box) box.value = "";
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches
      && event.target.matches(".pick input[type=search]")) {
    event.preventDefault();
    htmx.trigger(event.target, "search");
  }
});
