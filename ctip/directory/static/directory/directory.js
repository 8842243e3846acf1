// Progressive enhancement: a print button (the page prints without it, from the browser menu).
document.addEventListener("click", function (event) {
  var el = event.target;
  if (el.matches && el.matches("[data-print]")) {
    window.print();
  }
});
function showPrintButtons() {
  document.querySelectorAll("[data-print]").forEach(function (el) { el.hidden = false; });
}
document.addEventListener("DOMContentLoaded", showPrintButtons);
document.addEventListener("htmx:afterSwap", showPrintButtons);
