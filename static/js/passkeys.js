// Passkeys (WebAuthn): asks the browser to create or use a passkey, puts its answer (JSON) in the
// form's hidden "credential" field and sends the form. The server checks everything.
(function () {
  "use strict";

  function supported() {
    return (
      window.PublicKeyCredential &&
      typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
      typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function"
    );
  }

  function showProblem(form, message) {
    var problem = form.querySelector(".passkey-problem");
    problem.textContent = message;
    problem.hidden = false;
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    if (!supported()) {
      form.hidden = true;
      var note = document.getElementById(form.dataset.unsupported);
      if (note) note.hidden = false;
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var options = JSON.parse(document.getElementById(form.dataset.options).textContent);
      var ceremony =
        form.dataset.passkey === "register"
          ? navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
          : navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      ceremony.then(
        function (credential) {
          form.elements.credential.value = JSON.stringify(credential.toJSON());
          form.submit();
        },
        function () {
          showProblem(form, "Het lukte niet met je passkey (afgebroken of niet gevonden). Probeer het opnieuw.");
        }
      );
    });
  });
})();
