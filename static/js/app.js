// Small behaviour shared by every page. Pages work without it: the navigation then stays open.
(function () {
  "use strict";

  function setOpen(button, nav, open) {
    nav.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-nav-toggle]");
    var nav = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!button || !nav) {
      return;
    }
    button.addEventListener("click", function () {
      setOpen(button, nav, !nav.classList.contains("open"));
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("open")) {
        setOpen(button, nav, false);
        button.focus();
      }
    });
  });
})();
