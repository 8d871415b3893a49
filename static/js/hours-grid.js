// The opening-hours grid (network.opening_grid): a button copies Monday's ranges and weeks to Tuesday to Friday.
// Without JavaScript the button stays hidden and every day is typed in.
(function () {
  "use strict";
  var WORKING_DAYS = ["tu", "we", "th", "fr"];
  function fields(grid, day) {
    var names = ["1_from", "1_to", "2_from", "2_to", "weeks"];
    return names.map(function (suffix) {
      return grid.querySelector('[name="hours_' + day + "_" + suffix + '"]');
    });
  }
  document.querySelectorAll("button.hours-copy").forEach(function (button) {
    var grid = button.closest(".hours-grid");
    if (!grid || button.dataset.ready) {
      return;
    }
    button.dataset.ready = "1";
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = fields(grid, button.dataset.copyFrom);
      WORKING_DAYS.forEach(function (day) {
        fields(grid, day).forEach(function (target, index) {
          if (target && source[index]) {
            target.value = source[index].value;
          }
        });
      });
      var status = grid.querySelector(".hours-copy-status");
      if (!status) {
        status = document.createElement("p");
        status.className = "hours-copy-status hint";
        status.setAttribute("role", "status");
        button.insertAdjacentElement("afterend", status);
      }
      status.textContent = "Les horaires du lundi sont recopiés du mardi au vendredi.";
    });
  });
})();
