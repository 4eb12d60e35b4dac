// The share button of article pages: the phone's share sheet where the browser has the
// Web Share API, otherwise the link is copied. Without JavaScript the button stays hidden.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.share[data-share-url]")) {
    const url = button.dataset.shareUrl;
    const status = button.parentElement.querySelector(".share-status");
    if (!navigator.share && !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      if (navigator.share) {
        try { await navigator.share({ title: button.dataset.shareTitle, url }); } catch (e) { /* closed */ }
        return;
      }
      await navigator.clipboard.writeText(url);
      if (status) status.textContent = button.dataset.copied;
    });
  }
});
