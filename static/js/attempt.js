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

  // The question panel and the answered count follow the form; the server renders the same states.
  var counter = document.querySelector("[data-answered]");
  function isAnswered(box) {
    var answer = box.querySelector("input:checked:not([name=flag])");
    if (answer) { return true; }
    return Array.prototype.some.call(box.querySelectorAll("select"), function (s) { return s.value !== ""; });
  }
  function refreshPanel() {
    var answered = 0;
    Array.prototype.forEach.call(document.querySelectorAll("[data-question-link]"), function (link) {
      var box = document.getElementById(link.getAttribute("href").slice(1));
      if (!box) { return; }
      var done = isAnswered(box);
      var flag = box.querySelector("input[name=flag]");
      var flagged = !!(flag && flag.checked);
      if (done) { answered += 1; }
      link.classList.toggle("is-answered", done);
      link.classList.toggle("is-flagged", flagged);
      link.querySelector("[data-state]").textContent = done ? "beantwoord" : "open";
      link.querySelector("[data-flag]").textContent = flagged ? ", gemarkeerd" : "";
    });
    if (counter) { counter.textContent = String(answered); }
  }

  // After a case stage the page opens at the new stage (#deel-2): move the focus there too,
  // so a screen reader starts reading at the new questions rather than at the top.
  if (location.hash) {
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.classList.contains("attempt-block")) { target.focus(); }
  }

  form.addEventListener("change", function () {
    refreshPanel();
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
