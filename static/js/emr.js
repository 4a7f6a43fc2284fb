// EMR pages: the print button and the ICD-10 picker's chips. The pages work without it: the picker then
// falls back to a plain code field, and printing uses the browser's menu.
(function () {
  "use strict";

  function addChip(picker, code, title) {
    var list = picker.querySelector("[data-chips]");
    var template = picker.querySelector("template[data-chip-template]");
    if (!list || !template) {
      return;
    }
    var exists = list.querySelector('input[name="dx_code"][value="' + CSS.escape(code) + '"]');
    if (exists) {
      exists.closest(".chip").querySelector("select").focus();
      return;
    }
    var chip = template.content.firstElementChild.cloneNode(true);
    chip.querySelector('input[name="dx_code"]').value = code;
    chip.querySelector("[data-chip-code]").textContent = code;
    chip.querySelector("[data-chip-title]").textContent = title;
    chip.dataset.code = code;
    list.appendChild(chip);
    var empty = picker.querySelector("[data-chips-empty]");
    if (empty) {
      empty.hidden = true;
    }
  }

  document.addEventListener("click", function (event) {
    var printButton = event.target.closest("[data-print]");
    if (printButton) {
      window.print();
      return;
    }
    var choice = event.target.closest("[data-icd10-choice]");
    if (choice) {
      event.preventDefault();
      var picker = choice.closest("[data-icd10-picker]");
      addChip(picker, choice.dataset.code, choice.dataset.title);
      var input = picker.querySelector("[data-icd10-query]");
      var results = picker.querySelector("[data-icd10-results]");
      if (results) {
        results.innerHTML = "";
      }
      if (input) {
        input.value = "";
        input.focus();
      }
      return;
    }
    var remove = event.target.closest("[data-chip-remove]");
    if (remove) {
      event.preventDefault();
      var chip = remove.closest(".chip");
      var owner = chip.closest("[data-icd10-picker]");
      chip.remove();
      var left = owner && owner.querySelectorAll("[data-chips] .chip").length;
      var emptyNote = owner && owner.querySelector("[data-chips-empty]");
      if (emptyNote) {
        emptyNote.hidden = left > 0;
      }
    }
  });

  // Enter in the picker's search box must not submit the whole note.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("[data-icd10-query]")) {
      event.preventDefault();
      var first = event.target.closest("[data-icd10-picker]").querySelector("[data-icd10-choice]");
      if (first) {
        first.click();
      }
    }
  });
})();
