// Progressive enhancement of a service page: a small map of where to go. Without JavaScript (or without
// tiles) the addresses and their "see on a map" links say it all.
(function () {
  "use strict";
  var holder = document.getElementById("carte-service");
  var dataNode = document.getElementById("carte-service-donnees");
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
    L.marker([m.lat, m.lon], { title: m.name, alt: m.name }).addTo(map).bindTooltip(m.name);
    bounds.push([m.lat, m.lon]);
  });
  map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });
})();
