// Small behaviours htmx leaves to the page. No inline script anywhere (the CSP forbids it).
(function () {
  "use strict";

  // After a swap, move keyboard focus to the element the new content marks with
  // data-focus (a heading, a message), so screen-reader and keyboard users land on it.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.elt;
    if (!target || !target.querySelector) { return; }
    var focus = target.matches && target.matches("[data-focus]") ? target : target.querySelector("[data-focus]");
    if (focus) {
      // Headings and messages need tabindex to take focus; controls already can, and a
      // tabindex of -1 would take them out of the Tab order.
      if (focus.tabIndex < 0 && !focus.hasAttribute("tabindex")) { focus.setAttribute("tabindex", "-1"); }
      focus.focus();
    }
  });

  // Boosted navigation lands on the new page's main content, as a full load would.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.boosted && event.detail.requestConfig && event.detail.requestConfig.verb === "get") {
      var main = document.getElementById("main");
      if (main && !main.querySelector("[data-focus]")) { main.focus({ preventScroll: true }); }
    }
  });

  // Buttons marked data-confirm ask before their form is sent (publishing, ending a pair).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
