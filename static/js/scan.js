// Pickup verification (shop.stores): read the shopper's QR code with the camera where
// the browser can (BarcodeDetector, else jsQR from static/vendor on video frames); the
// code read fills the field and the look-up is sent. Without a camera or JavaScript the
// button stays hidden and staff type the code.
(() => {
  function detector() {
    if ("BarcodeDetector" in window) {
      const reader = new window.BarcodeDetector({ formats: ["qr_code"] });
      return async (video) => {
        const codes = await reader.detect(video);
        return codes.length ? codes[0].rawValue : null;
      };
    }
    if (window.jsQR) {
      const canvas = document.createElement("canvas");
      const context = canvas.getContext("2d", { willReadFrequently: true });
      return async (video) => {
        if (!video.videoWidth) return null;
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        return found ? found.data : null;
      };
    }
    return null;
  }

  function setUp() {
    const form = document.getElementById("pickup-form");
    const box = form && form.querySelector(".scan");
    if (!box || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
    const button = box.querySelector(".scan-start");
    const video = box.querySelector(".scan-video");
    const status = box.querySelector(".scan-status");
    let stream = null;
    box.hidden = false;

    function stop() {
      if (stream) stream.getTracks().forEach((track) => track.stop());
      stream = null;
      video.hidden = true;
    }

    button.addEventListener("click", async () => {
      const read = detector();
      if (!read) { status.textContent = button.dataset.unsupported; return; }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      } catch (e) {
        status.textContent = button.dataset.unsupported;
        return;
      }
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      const tick = async () => {
        if (!stream) return;
        const text = await read(video).catch(() => null);
        if (text) {
          stop();
          form.querySelector("[name=code]").value = text;
          form.requestSubmit();
          return;
        }
        setTimeout(tick, 150);
      };
      tick();
    });
  }
  // Handed over: the used code leaves the field, ready for the next shopper.
  document.addEventListener("htmx:afterSwap", (event) => {
    const field = document.querySelector("#pickup-form [name=code]");
    if (field && event.detail.target.querySelector("[data-testid=pickup-done]")) {
      field.value = "";
      field.focus();
    }
  });
  document.addEventListener("DOMContentLoaded", setUp);
})();
