// Passkeys (WebAuthn): a form with data-passkey-register or
// data-passkey-sign-in asks the server for the options (POST to that URL),
// lets the browser create or use a passkey, puts its answer in the form's
// "credential" field and submits the form as usual (htmx or not). Without
// this script, or without WebAuthn, the form stays hidden; the other
// methods stay available.
(function () {
  "use strict";

  var supported = window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

  function fetchOptions(url, form) {
    var token = form.querySelector("input[name=csrf_token]");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" }
    }).then(function (response) {
      if (!response.ok) throw new Error("options: " + response.status);
      return response.json();
    });
  }

  function ceremony(form) {
    var register = form.getAttribute("data-passkey-register");
    if (register) {
      return fetchOptions(register, form).then(function (json) {
        return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(json) });
      });
    }
    return fetchOptions(form.getAttribute("data-passkey-sign-in"), form).then(function (json) {
      return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(json) });
    });
  }

  // The passkey forms come hidden: without JavaScript, or in a browser
  // without WebAuthn, a button that cannot work is not offered (the page
  // says why and offers the other methods); here they are shown, or else
  // what replaces them. Again for each part htmx brings in.
  var FORMS = "form[data-passkey-register], form[data-passkey-sign-in]";

  function reveal(root) {
    if (!root || !root.querySelectorAll) return;
    var selector = supported ? FORMS : "[data-passkey-unsupported]";
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.push(root);
    found.forEach(function (element) { element.hidden = false; });
  }
  reveal(document);
  document.addEventListener("htmx:load", function (event) { reveal(event.detail.elt); });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (!form.hasAttribute("data-passkey-register") && !form.hasAttribute("data-passkey-sign-in")) return;
    if (!supported || form.getAttribute("data-passkey-done") === "true") return;
    // A new passkey without its name: the server says so first, before the
    // person is asked for a fingerprint that would make a key for nothing.
    var name = form.querySelector("input[name=name]");
    if (form.hasAttribute("data-passkey-register") && name && !name.value.trim()) return;
    // Before htmx sees it: the answer goes in first.
    event.preventDefault();
    event.stopImmediatePropagation();
    var field = form.querySelector("input[name=credential]");
    ceremony(form).then(function (credential) {
      field.value = JSON.stringify(credential.toJSON());
    }, function () {
      field.value = "";
    }).then(function () {
      form.setAttribute("data-passkey-done", "true");
      form.requestSubmit();
    });
  }, true);
})();
