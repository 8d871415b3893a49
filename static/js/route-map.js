// Progressive enhancement of the routing results: a map of the services advised, each marker numbered like the
// list. Without JavaScript (or without tiles) the numbered list, its distances and its links say it all.
(function () {
  "use strict";
  var holder = document.getElementById("carte-resultats");
  var dataNode = document.getElementById("carte-resultats-donnees");
  if (!holder || !dataNode || !window.L) {
    return;
  }
  var data = JSON.parse(dataNode.textContent);
  if (!data.markers.length) {
    return;
  }
  holder.hidden = false;
  var map = L.map(holder, { scrollWheelZoom: false });
  L.tileLayer(data.tiles.url, { maxZoom: 19, attribution: data.tiles.attribution }).addTo(map);
  var bounds = [];
  data.markers.forEach(function (m) {
    var label = m.n + ". " + m.name + (m.place ? " (" + m.place + ")" : "");
    var icon = L.divIcon({
      className: "map-number",
      html: "<span>" + m.n + "</span>",
      iconSize: [28, 28],
      iconAnchor: [14, 14],
    });
    var marker = L.marker([m.lat, m.lon], { icon: icon, title: label, alt: label, keyboard: true }).addTo(map);
    marker.bindTooltip(label);
    marker.on("click", function () {
      var card = document.getElementById("candidat-" + m.n);
      if (card) {
        card.scrollIntoView({ block: "start" });
        card.focus({ preventScroll: true });
      }
    });
    bounds.push([m.lat, m.lon]);
  });
  if (data.origin) {
    L.circleMarker([data.origin.lat, data.origin.lon], { radius: 8, color: "#000091", fillOpacity: 0.9 })
      .addTo(map)
      .bindTooltip("Lieu de la personne");
    bounds.push([data.origin.lat, data.origin.lon]);
  }
  map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 });
})();
