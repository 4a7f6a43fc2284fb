// Bed board: send the version of the board on screen with each poll, so an unchanged board costs the
// server one query and the page nothing (204); and do not replace the board under a user's hands.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;

  function version() {
    var live = board.querySelector(".board-live");
    return live ? live.getAttribute("data-version") : "";
  }

  function busy() {
    var active = document.activeElement;
    var typing = active && board.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
    return typing || board.querySelector("details[open]") !== null;
  }

  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt === board && version()) {
      event.detail.headers["If-None-Match"] = '"' + version() + '"';
    }
  });

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    // Only the poll waits; the actions inside the board are what the user asked for.
    if (event.detail.elt === board && busy()) event.preventDefault();
  });

  // One bed menu open at a time; Escape or a click elsewhere closes it.
  board.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.open || !opened.classList.contains("bed-menu")) return;
    board.querySelectorAll("details.bed-menu[open]").forEach(function (other) {
      if (other !== opened) other.open = false;
    });
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    board.querySelectorAll("details.bed-menu[open]").forEach(function (menu) { menu.open = false; });
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("details.bed-menu")) return;
    board.querySelectorAll("details.bed-menu[open]").forEach(function (menu) { menu.open = false; });
  });
})();
