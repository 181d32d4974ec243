// Autosave for an open quiz attempt. Without JavaScript the "Tussentijds opslaan" button does the same.
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form) { return; }
  var status = document.getElementById("autosave-status");
  var revision = form.querySelector("input[name=revision]");
  var timer = null;
  var pending = null;
  var blocked = false;

  function say(text) { if (status) { status.textContent = text; } }

  function save() {
    timer = null;
    if (blocked) { return Promise.resolve(); }
    var data = new FormData(form);
    data.set("action", "save");
    data.delete("confirm_incomplete");
    pending = fetch(form.dataset.autosaveUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.ok) {
          revision.value = body.revision;
          say("Opgeslagen om " + body.saved_at + ".");
        } else {
          blocked = true;
          say(body.error || "Opslaan is niet gelukt. Laad de pagina opnieuw.");
        }
      });
    }).catch(function () {
      say("Opslaan is niet gelukt (geen verbinding). Je antwoorden blijven op deze pagina staan; probeer het zo opnieuw.");
    }).then(function () { pending = null; });
    return pending;
  }

  form.addEventListener("change", function () {
    if (timer) { clearTimeout(timer); }
    say("Wijzigingen worden bewaard…");
    timer = setTimeout(save, 700);
  });

  // Submitting while an autosave is on its way would carry an old revision: wait for it first.
  // An autosave that is only scheduled is dropped: this submission carries the same answers.
  // (Resubmitting at once would run during this submit event, where requestSubmit is ignored.)
  form.addEventListener("submit", function (event) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!pending) { return; }
    event.preventDefault();
    var submitter = event.submitter;
    pending.then(function () {
      if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
    });
  });
})();
