// Progressive enhancement of the directory search: a Leaflet map of the results, and "around me".
// Without JavaScript (or without tiles) the result list is complete on its own.
(function () {
  "use strict";
  var holder = document.getElementById("carte");
  var dataNode = document.getElementById("carte-donnees");
  if (holder && dataNode && window.L) {
    var data = JSON.parse(dataNode.textContent);
    if (data.markers.length) {
      holder.hidden = false;
      var map = L.map(holder, { scrollWheelZoom: false });
      L.tileLayer(data.tiles.url, { maxZoom: 19, attribution: data.tiles.attribution }).addTo(map);
      var bounds = [];
      data.markers.forEach(function (m) {
        var link = document.createElement("a");
        link.href = m.url;
        link.textContent = m.name;
        var popup = document.createElement("div");
        popup.appendChild(link);
        popup.appendChild(document.createElement("br"));
        popup.appendChild(document.createTextNode(m.structure));
        L.marker([m.lat, m.lon], { title: m.name, alt: m.name }).addTo(map).bindPopup(popup);
        bounds.push([m.lat, m.lon]);
      });
      if (data.origin) {
        L.circleMarker([data.origin.lat, data.origin.lon], { radius: 8, color: "#000091", fillOpacity: 0.6 })
          .addTo(map).bindTooltip("Point de départ");
        bounds.push([data.origin.lat, data.origin.lon]);
      }
      map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });
    }
  }
  var around = document.getElementById("autour-de-moi");
  if (around && navigator.geolocation) {
    around.hidden = false;
    around.addEventListener("click", function () {
      around.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        var form = around.form;
        form.elements.lat.value = position.coords.latitude.toFixed(3); // about 100 m: enough to sort by distance
        form.elements.lon.value = position.coords.longitude.toFixed(3);
        form.elements.pres_de.value = "";
        form.elements.adresse.value = "";
        form.elements.adresse_affichee.value = ""; // a new place: the one kept from the last search goes
        form.elements.origine.value = "";
        form.elements.precision.value = "";
        form.submit();
      }, function () {
        around.disabled = false;
        around.textContent = "Position indisponible";
      });
    });
  }
})();
