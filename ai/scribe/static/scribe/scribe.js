// The scribe's pages: recording in the browser (MediaRecorder) into the upload form's file input, a size check
// before upload, and the link between a suggested field and its highlighted source in the transcript.
// Everything works without it: upload a file, and the highlights stay visible.
(function () {
  "use strict";

  // ---------- recording ----------
  function setupRecorder(form) {
    var box = form.querySelector("[data-recorder]");
    var input = form.querySelector("[data-audio-input]");
    if (!box || !input || !window.MediaRecorder || !navigator.mediaDevices || !window.DataTransfer) {
      return; // the fieldset stays hidden; uploading a file still works
    }
    box.hidden = false;
    var start = box.querySelector("[data-record-start]");
    var stop = box.querySelector("[data-record-stop]");
    var timer = box.querySelector("[data-record-timer]");
    var status = box.querySelector("[data-record-status]");
    var preview = box.querySelector("[data-record-preview]");
    var source = form.querySelector("[data-source]");
    var recorder = null;
    var chunks = [];
    var began = 0;
    var ticking = null;

    function tick() {
      var seconds = Math.floor((Date.now() - began) / 1000);
      timer.textContent = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
    }

    start.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        chunks = [];
        recorder = new MediaRecorder(stream);
        recorder.addEventListener("dataavailable", function (event) {
          if (event.data && event.data.size) {
            chunks.push(event.data);
          }
        });
        recorder.addEventListener("stop", function () {
          stream.getTracks().forEach(function (track) { track.stop(); });
          var type = recorder.mimeType || "audio/webm";
          var extension = type.indexOf("ogg") >= 0 ? "ogg" : type.indexOf("mp4") >= 0 ? "m4a" : "webm";
          var file = new File(chunks, "recording." + extension, { type: type });
          var transfer = new DataTransfer();
          transfer.items.add(file);
          input.files = transfer.files;
          source.value = "recording";
          preview.src = URL.createObjectURL(file);
          preview.hidden = false;
          status.textContent = status.dataset.readyText;
        });
        recorder.start(1000);
        began = Date.now();
        ticking = window.setInterval(tick, 500);
        box.classList.add("recording");
        status.textContent = status.dataset.recordingText;
        start.disabled = true;
        stop.disabled = false;
      }).catch(function () {
        status.textContent = status.dataset.deniedText;
      });
    });

    stop.addEventListener("click", function () {
      if (recorder && recorder.state !== "inactive") {
        recorder.stop();
      }
      window.clearInterval(ticking);
      box.classList.remove("recording");
      start.disabled = false;
      stop.disabled = true;
    });

    input.addEventListener("change", function () {
      source.value = "upload"; // a file chosen by hand replaces a recording
    });
  }

  function setupSizeCheck(form) {
    var input = form.querySelector("[data-audio-input]");
    var error = form.querySelector("[data-client-error]");
    var limit = parseInt(form.dataset.maxBytes || "0", 10);
    form.addEventListener("submit", function (event) {
      var file = input && input.files && input.files[0];
      if (file && limit && file.size > limit) {
        event.preventDefault();
        error.textContent = form.dataset.tooLarge;
        error.hidden = false;
      }
    });
  }

  document.querySelectorAll("[data-scribe-form]").forEach(function (form) {
    setupRecorder(form);
    setupSizeCheck(form);
  });

  // ---------- suggestion <-> source span ----------
  function marksOf(id) {
    return document.querySelectorAll('.dialogue mark[data-s~="' + CSS.escape(id) + '"]');
  }

  function highlight(card, on) {
    if (!card) {
      return;
    }
    card.classList.toggle("active", on);
    marksOf(card.dataset.suggestion).forEach(function (mark) { mark.classList.toggle("active", on); });
  }

  ["mouseover", "focusin"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var card = event.target.closest && event.target.closest("[data-suggestion]");
      if (card) {
        document.querySelectorAll(".suggestion.active").forEach(function (other) {
          if (other !== card) {
            highlight(other, false);
          }
        });
        highlight(card, true);
      }
    });
  });

  document.addEventListener("click", function (event) {
    var mark = event.target.closest && event.target.closest(".dialogue mark[data-s]");
    if (!mark) {
      return;
    }
    var card = document.getElementById("s-" + mark.dataset.s.split(" ")[0]);
    if (card) {
      card.scrollIntoView({ behavior: "smooth", block: "center" });
      card.focus({ preventScroll: true });
    }
  });

  // A card swapped in by htmx keeps its highlight.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var card = event.detail.target && document.getElementById(event.detail.target.id);
    if (card && card.dataset.suggestion) {
      highlight(card, true);
    }
  });
})();
