// Camera map: Leaflet over a configurable tile layer, falling back to a plain background.
(function () {
  "use strict";
  const element = document.getElementById("map");
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const cameras = JSON.parse(document.getElementById("camera-data").textContent);
  const map = L.map(element, { preferCanvas: false }).setView(config.center, config.zoom);

  function showOfflineNote() {
    if (element.querySelector(".map-offline")) return;
    const note = document.createElement("div");
    note.className = "map-offline";
    note.textContent = element.dataset.offlineText;
    element.appendChild(note);
  }

  if (config.tileUrl) {
    let failures = 0;
    const tiles = L.tileLayer(config.tileUrl, { attribution: config.attribution, maxZoom: 19 });
    // Tiles that cannot be reached leave the plain background; after a few failures say so.
    tiles.on("tileerror", function () { failures += 1; if (failures >= 3) showOfflineNote(); });
    tiles.addTo(map);
  } else {
    showOfflineNote();
  }

  // Each camera's field of view: a wedge from its position along its heading, as far as its
  // range, so an operator sees at a glance which camera covers which street.
  function fieldOfView(latlng, p) {
    const points = [latlng];
    const metresPerDegreeLat = 111320;
    const metresPerDegreeLng = metresPerDegreeLat * Math.cos(latlng.lat * Math.PI / 180);
    const steps = Math.max(2, Math.round(p.fov_deg / 10));
    for (let i = 0; i <= steps; i++) {
      const bearing = (p.heading_deg - p.fov_deg / 2 + (p.fov_deg * i) / steps) * Math.PI / 180;
      points.push(L.latLng(latlng.lat + (p.range_m * Math.cos(bearing)) / metresPerDegreeLat,
                           latlng.lng + (p.range_m * Math.sin(bearing)) / metresPerDegreeLng));
    }
    return L.polygon(points, { color: config.colours[p.status] || "#8b98a5", weight: 1,
                               fillOpacity: 0.15, className: "camera-fov" });
  }
  const wedges = L.layerGroup().addTo(map);

  const layer = L.geoJSON(cameras, {
    pointToLayer: function (feature, latlng) {
      const colour = config.colours[feature.properties.status] || "#8b98a5";
      return L.circleMarker(latlng, {
        radius: 8, color: "#0b0f14", weight: 2, fillColor: colour, fillOpacity: 0.95,
        className: "camera-marker status-" + feature.properties.status,
      });
    },
    onEachFeature: function (feature, marker) {
      const p = feature.properties;
      if (p.status !== "retired") wedges.addLayer(fieldOfView(marker.getLatLng(), p));
      const link = document.createElement("a");
      link.href = "/cameras/" + encodeURIComponent(p.id);
      link.textContent = p.id + " · " + p.name;
      link.dataset.testid = "popup-link";
      marker.bindPopup(link);
      marker.bindTooltip(p.id);
    },
  }).addTo(map);
  if (cameras.features.length > 0) {
    map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 15 });
  }
  element.dataset.markers = String(cameras.features.length);
})();
