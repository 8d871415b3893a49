// Signature pads for the mandates (templates/pages/mandates/sign.html): one canvas per signer, drawn with a
// finger, a pen or a mouse (pointer events); "Effacer" clears it; on submit each drawing goes into its hidden
// field as a PNG data URL. Without JavaScript the form stays hidden and the page offers the paper way.
(function () {
  "use strict";

  function setUpPad(pad) {
    var canvas = pad.querySelector("canvas");
    var field = pad.querySelector("input[type=hidden]");
    var state = pad.querySelector(".signature-state");
    var clear = pad.querySelector("[data-signature-clear]");
    var context = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    var last = null;
    var kept = null;
    var changed = false;

    context.lineWidth = 3;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#161616";

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - box.left) * (canvas.width / box.width),
        y: (event.clientY - box.top) * (canvas.height / box.height),
      };
    }

    function say(text) {
      if (state) state.textContent = text;
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== undefined && event.button > 0) return;
      event.preventDefault();
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
      context.beginPath();
      context.arc(last.x, last.y, context.lineWidth / 2, 0, Math.PI * 2);
      context.fillStyle = context.strokeStyle;
      context.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      event.preventDefault();
      var next = point(event);
      context.beginPath();
      context.moveTo(last.x, last.y);
      context.lineTo(next.x, next.y);
      context.stroke();
      last = next;
      changed = true;
      if (!drawn) {
        drawn = true;
        pad.classList.remove("field-error");
      }
    });
    function stop(event) {
      if (!drawing) return;
      drawing = false;
      if (canvas.releasePointerCapture && event.pointerId !== undefined) {
        try { canvas.releasePointerCapture(event.pointerId); } catch (ignored) { /* already released */ }
      }
      if (drawn) say("Signature dessinée.");
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    canvas.addEventListener("pointerleave", stop);

    // A signature already accepted when the form came back with another error: drawn again in its frame.
    if (/^data:image\/(png|jpeg);base64,/.test(field.value)) {
      kept = new Image();
      kept.onload = function () {
        context.drawImage(kept, 0, 0, canvas.width, canvas.height);
      };
      kept.src = field.value;
      drawn = true;
    }

    clear.addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      changed = true;
      field.value = "";
      say("Le cadre est vide.");
    });

    return function exportDrawing() {
      if (!drawn) field.value = "";
      else if (!kept || changed) field.value = canvas.toDataURL("image/png");  // a kept one goes back as it came
    };
  }

  function setUpForm(form) {
    var exporters = [];
    form.querySelectorAll("[data-signature-pad]").forEach(function (pad) {
      exporters.push(setUpPad(pad));
    });
    form.addEventListener("submit", function () {
      exporters.forEach(function (exportDrawing) { exportDrawing(); });
    });
    form.hidden = false;
    var notice = document.getElementById("sans-javascript");
    if (notice) notice.hidden = true;
  }

  function start() {
    document.querySelectorAll("[data-signature-form]").forEach(setUpForm);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
