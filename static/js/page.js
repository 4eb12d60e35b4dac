// What every page does with JavaScript (the Content-Security-Policy allows no inline
// script, so it lives here). Without JavaScript each has a plain fallback.
//
// Share panels (shop.referrals): the phone's share sheet where the browser has the Web
// Share API, and a copy button where it has the clipboard. Panels arrive by htmx, so
// every swapped-in element is set up too. Without JavaScript the buttons stay hidden and
// the link is shown in a read-only field to copy by hand.
(() => {
  function setUp(root) {
    for (const button of root.querySelectorAll("button.share[data-share-url], button.copy[data-copy]")) {
      if (button.dataset.ready) continue;
      button.dataset.ready = "1";
      const status = button.parentElement.querySelector(".share-status");
      if (button.classList.contains("share")) {
        if (!navigator.share) continue;
        button.hidden = false;
        button.addEventListener("click", async () => {
          try { await navigator.share({ title: document.title, url: button.dataset.shareUrl }); } catch (e) { /* closed */ }
        });
      } else {
        if (!navigator.clipboard) continue;
        button.hidden = false;
        button.addEventListener("click", async () => {
          await navigator.clipboard.writeText(button.dataset.copy);
          if (status) status.textContent = button.dataset.copied;
        });
      }
    }
    for (const input of root.querySelectorAll("input.share-url")) {
      input.addEventListener("focus", () => input.select());
    }
  }
  document.addEventListener("DOMContentLoaded", () => setUp(document));
  document.addEventListener("htmx:load", (event) => setUp(event.detail.elt));
})();

// The language switch returns to the page being read: the URL htmx may have pushed since
// the page was rendered (without JavaScript, the rendered one in the form).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches && form.matches("form.langswitch") && form.elements.next) {
    form.elements.next.value = location.pathname + location.search;
  }
});

// An error answered to an htmx request (a refused character, a role or rate limit: the
// "error" block of errors/error.html, marked X-Shop-Error) is not the fragment the
// element asked for. Where that fragment would have replaced its target (outerHTML),
// the error goes inside the target instead, so the target and its id stay and the next
// request (the next keystroke in the article preview) can replace it again.
document.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail;
  if (!detail.xhr.getResponseHeader("X-Shop-Error")) return;
  const source = detail.requestConfig ? detail.requestConfig.elt : event.target;  // what asked
  const holder = source.closest("[hx-swap], [data-hx-swap]");
  const style = (holder && (holder.getAttribute("hx-swap") || holder.getAttribute("data-hx-swap")))
    || htmx.config.defaultSwapStyle;
  if (style.trim().startsWith("outerHTML")) detail.swapOverride = "innerHTML";
});

// A district picked from the address picker's search (orders/_divisions.html, swapped
// in marked data-picked) changes the province, city and district with no "change" of
// their own: the picker sends one, so what follows them (the checkout's shipping) does.
document.addEventListener("htmx:load", (event) => {
  const picker = event.detail.elt;
  if (picker.matches && picker.matches(".divisions[data-picked]")) {
    picker.dispatchEvent(new Event("change", { bubbles: true }));
  }
});
// Enter in the address picker's district search searches instead of submitting.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches
      && event.target.matches(".division-search input[type=search]")) {
    event.preventDefault();
    htmx.trigger(event.target, "search");
  }
});

// A form that comes back refused puts the cursor on its first field in error, so the
// message is seen however far down the form it is (without JavaScript the page opens at
// the top and each field carries its own message). Not when the address names a place.
(() => {
  const focusFirstError = () => {
    const bad = document.querySelector("main [aria-invalid=\"true\"]");
    if (bad && !location.hash) bad.focus();
  };
  document.addEventListener("DOMContentLoaded", focusFirstError);
})();

// The sign-in sheet (accounts/_phone_sheet.html), swapped in at the end of the page when a
// visitor who is not signed in taps an action: shown as a modal dialog (the focus moves
// into it, Escape or the close button closes it), one at a time, removed once closed.
document.addEventListener("htmx:load", (event) => {
  const sheet = event.detail.elt;
  if (!(sheet instanceof HTMLDialogElement) || !sheet.matches("dialog[data-sheet]")) return;
  for (const old of document.querySelectorAll("dialog[data-sheet]")) if (old !== sheet) old.remove();
  sheet.addEventListener("close", () => sheet.remove());
  sheet.showModal();
});

// The phone sign-in's code field (accounts/_phone_forms.html, data-autosubmit: the id of
// the note that says so) signs in as soon as its 6 digits are in, typed, pasted or filled
// in from the SMS: the note is shown and describes the field, so the change comes as
// announced (WCAG 3.2.2). The same code is not sent twice. Without JavaScript the note
// stays hidden and the button signs in.
(() => {
  function setUp(root) {
    for (const input of root.querySelectorAll("input[data-autosubmit]")) {
      const note = document.getElementById(input.dataset.autosubmit);
      if (!note || !note.hidden) continue;
      note.hidden = false;
      const described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", described ? `${described} ${note.id}` : note.id);
    }
  }
  document.addEventListener("DOMContentLoaded", () => setUp(document));
  document.addEventListener("htmx:load", (event) => setUp(event.detail.elt));
  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!input.matches || !input.matches("input[data-autosubmit]") || !input.form) return;
    const code = input.value.trim();
    if (!/^\d{6}$/.test(code) || input.dataset.sent === code) return;
    input.dataset.sent = code;
    input.form.requestSubmit();
  });
})();
