// The pack's progress page: reload every two seconds while the build runs (without JavaScript, a link does it).
(function () {
  "use strict";
  var progress = document.getElementById("pack-progress");
  if (!progress) { return; }
  window.setTimeout(function () { window.location.reload(); }, 2000);
}());
