// An import's page follows its progress: every 2 seconds, the state part of the page is fetched again and
// replaced, until the import is finished. Without JavaScript, the "Actualiser" link does the same by hand.
(function () {
  "use strict";
  var state = document.getElementById("import-etat");
  if (!state || state.getAttribute("data-import-finished") === "oui" || !window.fetch || !window.DOMParser) {
    return;
  }
  function poll() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("import-etat");
        if (!fresh) {
          return;
        }
        state.innerHTML = fresh.innerHTML;
        if (fresh.getAttribute("data-import-finished") === "oui") {
          state.setAttribute("data-import-finished", "oui");
          var heading = state.querySelector("h2");
          if (heading) {  // the report is there: read it from its title
            heading.setAttribute("tabindex", "-1");
            heading.focus();
          }
          return;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 2000);
})();
