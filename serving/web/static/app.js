// What-if on the claim page: re-score the edited form without saving (the only script the pages need;
// reading the queue and the claim works without it). The CSRF token travels in a header.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("edit-form");
  var button = document.getElementById("what-if-button");
  var out = document.getElementById("what-if-result");
  if (!form || !button || !out) { return; }
  var current = document.getElementById("current-risk");
  button.addEventListener("click", function () {
    var data = new FormData(form);
    out.textContent = "Re-scoring…";
    fetch(form.getAttribute("data-what-if"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": data.get("csrf_token") }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (!answer.ok) { out.textContent = "Cannot re-score: " + (answer.body.message || "error"); return; }
      var was = current ? current.getAttribute("data-risk") : "";
      var risk = Number(answer.body.risk).toFixed(4);
      out.setAttribute("data-what-if-risk", risk);
      var reasons = answer.body.reasons || [];
      var likely = reasons.length ? " Likely reason: " + reasons.slice(0, 3).map(function (r) {
        return r.family + " " + Number(r.probability).toFixed(4);
      }).join(", ") + "." : "";
      out.setAttribute("data-what-if-reason", reasons.length ? reasons[0].family : "");
      out.textContent = "With these changes the risk would be " + risk + (was ? " (now " + was + ")" : "") +
        "; " + answer.body.problems.length + " problems left." + likely + " Not saved.";
    }).catch(function () { out.textContent = "Cannot re-score: the server did not answer."; });
  });
});
