/* The card form: Stripe.js (real, or localstripe's in the default run) turns what the
   shopper types into a card id; only that id is posted to the shop. A payment that
   needs 3-D Secure comes back with its client secret, and Stripe.js asks the bank. */
(function () {
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") return;
  // Stripe.js writes its placeholders and its own messages in the page's language
  var locale = form.dataset.locale || "auto";
  var stripe = Stripe(form.dataset.key, {locale: locale});
  var card = stripe.elements({locale: locale}).create("card");
  card.mount("#card-element");
  var error = document.getElementById("card-js-error");
  var button = form.querySelector("button[type=submit]");

  function fail(message) {
    error.textContent = message || "";
    error.hidden = !message;
    button.disabled = false;
  }

  if (form.dataset.clientSecret) {
    button.disabled = true;  // Stripe.js asks the bank; the page moves on by itself
    stripe.confirmCardPayment(form.dataset.clientSecret).then(function () {
      window.location.assign(form.dataset.returnUrl);
    });
    return;
  }
  form.addEventListener("submit", function (event) {
    if (form.elements.payment_method.value) return;
    event.preventDefault();
    fail("");
    button.disabled = true;
    stripe.createToken(card).then(function (result) {
      if (result.error) return fail(result.error.message || String(result.error));
      form.elements.payment_method.value = result.token.card.id;
      form.submit();
    });
  });
})();
