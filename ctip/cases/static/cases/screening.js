// The identification form: show only the questions that apply, as the answers change.
// Conditions are the form definition's own ({"q": id, "eq": v}, {"any": [...]}, ...), the
// same the server applies; without this script the page still works ("Save draft" reloads
// it with the right questions). No answers are stored in the browser.
(function () {
  "use strict";
  function valueOf(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    if (!inputs.length) return null;
    var first = inputs[0];
    if (first.type === "checkbox") {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; })
        .map(function (i) { return i.value; });
    }
    if (first.type === "radio") {
      var checked = Array.prototype.find.call(inputs, function (i) { return i.checked; });
      return checked ? checked.value : "";
    }
    return first.value.trim();
  }
  function empty(v) { return v === null || v === "" || (Array.isArray(v) && v.length === 0); }
  function visible(form, qid) {
    var box = form.querySelector("#q-" + qid);
    return !box || (!box.hidden && !(box.closest("fieldset.form-section") || {}).hidden);
  }
  function test(form, cond) {
    if (!cond) return true;
    if (cond.all) return cond.all.every(function (c) { return test(form, c); });
    if (cond.any) return cond.any.some(function (c) { return test(form, c); });
    if (cond.not) return !test(form, cond.not);
    var v = visible(form, cond.q) ? valueOf(form, cond.q) : null;
    if ("empty" in cond) return empty(v) === !!cond.empty;
    if (empty(v)) return false;
    if ("eq" in cond) return String(v) === String(cond.eq);
    if ("in" in cond) return cond.in.map(String).indexOf(String(v)) >= 0;
    if ("selected" in cond) return Array.isArray(v) && v.indexOf(cond.selected) >= 0;
    var n = Number(v);
    if ("lt" in cond) return /^\d+$/.test(v) && n < cond.lt;
    if ("gte" in cond) return /^\d+$/.test(v) && n >= cond.gte;
    return true;
  }
  function apply(form) {
    // In document order, so a question sees the visibility of the ones before it.
    form.querySelectorAll("[data-relevant]").forEach(function (el) {
      el.hidden = !test(form, JSON.parse(el.getAttribute("data-relevant")));
    });
  }
  function init() {
    var form = document.getElementById("screening-form");
    if (!form) return;
    apply(form);
    form.addEventListener("change", function () { apply(form); });
    form.addEventListener("input", function () { apply(form); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
