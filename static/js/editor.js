// The article editor's product picker: "Insert" puts [[product:ID]] on a line of its own
// at the cursor of the body, then the live preview refreshes (htmx listens for input).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-embed]");
  if (!button) return;
  const body = document.querySelector("textarea[data-embed-target]");
  if (!body) return;
  const at = body.selectionStart ?? body.value.length;
  const before = body.value.slice(0, at), after = body.value.slice(at);
  const text = (before && !before.endsWith("\n\n") ? (before.endsWith("\n") ? "\n" : "\n\n") : "")
    + button.dataset.embed + "\n\n";
  body.value = before + text + after;
  body.focus();
  body.selectionStart = body.selectionEnd = at + text.length;
  body.dispatchEvent(new Event("input", { bubbles: true }));
});
