// Passkeys (shop.accounts.passkey_views). A form marked data-passkey="register" (the
// account's passkeys page) or "signin" (the sign-in pages) is shown only where the
// browser has WebAuthn. Submitting it asks the shop for the options (a POST of the form,
// answered with JSON), lets the phone make or use a passkey (its fingerprint, face or
// screen lock), and posts the answer in the form's hidden "credential" field, so the
// shop's answer is an ordinary page. Without JavaScript or WebAuthn the forms stay hidden
// and the other ways in remain.
(() => {
  // WebAuthn's binary fields travel as base64url text (what py_webauthn reads and writes).
  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  };
  const toText = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  function publicKey(options) {
    options.challenge = toBytes(options.challenge);
    if (options.user) options.user.id = toBytes(options.user.id);
    for (const listed of [...(options.excludeCredentials || []), ...(options.allowCredentials || [])]) {
      listed.id = toBytes(listed.id);
    }
    return options;
  }

  function answer(credential) {
    const made = credential.response;
    const response = { clientDataJSON: toText(made.clientDataJSON) };
    if (made.attestationObject) {  // a passkey made
      response.attestationObject = toText(made.attestationObject);
      response.transports = made.getTransports ? made.getTransports() : [];
    } else {  // a passkey used
      response.authenticatorData = toText(made.authenticatorData);
      response.signature = toText(made.signature);
      if (made.userHandle) response.userHandle = toText(made.userHandle);
    }
    return JSON.stringify({
      id: credential.id, rawId: toText(credential.rawId), type: credential.type, response,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
    });
  }

  async function run(form) {
    const status = form.querySelector("[data-passkey-error]");
    const button = form.querySelector("button[type=submit]");
    const say = (text) => { status.textContent = text; status.hidden = !text; };
    say("");
    button.disabled = true;
    try {
      const body = new FormData(form);
      body.delete("credential");
      const reply = await fetch(form.dataset.options, {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRFToken": form.elements.csrf_token.value },
      });
      const options = await reply.json();
      if (!reply.ok) { say(options.error || form.dataset.failed); return; }
      const credential = form.dataset.passkey === "register"
        ? await navigator.credentials.create({ publicKey: publicKey(options) })
        : await navigator.credentials.get({ publicKey: publicKey(options) });
      form.elements.credential.value = answer(credential);
      form.submit();
    } catch (error) {  // closed by the shopper, no passkey for the shop on this phone...
      // a phone that holds one of the passkeys listed as added already refuses another
      say(error.name === "InvalidStateError" && form.dataset.exists || form.dataset.failed);
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    for (const form of document.querySelectorAll("form[data-passkey]")) {
      form.elements.credential.value = "";  // not an answer the browser kept from before
      form.hidden = false;
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        run(form);
      });
    }
    for (const note of document.querySelectorAll("[data-passkey-unsupported]")) note.hidden = true;
  });
})();
