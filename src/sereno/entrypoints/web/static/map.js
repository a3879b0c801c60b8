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

  // --- incidents and units (ADR 0034): read from the API, units refreshed every few seconds --
  const texts = JSON.parse(document.getElementById("map-texts").textContent);
  const PRIORITY_COLOURS = { 1: "#d63384", 2: "#ff5c5c", 3: "#ffa94d", 4: "#4dabf7", 5: "#8b98a5" };
  const UNIT_COLOURS = { available: "#2ecc71", assigned: "#f1c40f", en_route: "#e67e22",
                         on_scene: "#e74c3c", out_of_service: "#7f8c8d" };
  const overlays = {};
  overlays[texts["map.cameras"] || "Cameras"] = layer;
  const incidentLayer = L.layerGroup();
  const unitLayer = L.layerGroup();
  const unitMarkers = new Map();
  if (config.incidents) {
    incidentLayer.addTo(map);
    overlays[texts["map.incidents"] || "Incidents"] = incidentLayer;
  }
  if (config.units) {
    unitLayer.addTo(map);
    overlays[texts["map.units"] || "Units"] = unitLayer;
  }
  if (config.incidents || config.units) L.control.layers(null, overlays).addTo(map);

  async function read(url) {
    const response = await fetch(url, { credentials: "same-origin",
                                        headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(response.status + " " + response.statusText);
    return response.json();
  }
  async function loadIncidents() {
    try {
      const found = await read("/api/v1/incidents?status=open&limit=500");
      incidentLayer.clearLayers();
      found.forEach(function (incident) {
        const marker = L.marker([incident.latitude, incident.longitude], {
          icon: L.divIcon({ className: "incident-marker", iconSize: [26, 18],
                            html: "<span class='prio p" + Number(incident.priority) + "'>P" +
                                  Number(incident.priority) + "</span>" }),
          title: incident.number,
        });
        const link = document.createElement("a");
        link.href = "/incidents/" + encodeURIComponent(incident.id);
        link.textContent = incident.number + " · " + incident.title + " · " +
          (texts["incidents.status." + incident.status] || incident.status);
        marker.bindPopup(link);
        incidentLayer.addLayer(marker);
      });
      element.dataset.incidents = String(found.length);
    } catch (error) { /* the next refresh tries again */ }
  }
  async function loadUnits() {
    try {
      const found = await read("/api/v1/units");
      const seen = new Set();
      found.forEach(function (unit) {
        if (unit.latitude === null || unit.longitude === null) return;
        seen.add(unit.id);
        const colour = UNIT_COLOURS[unit.status] || "#8b98a5";
        let marker = unitMarkers.get(unit.id);
        if (!marker) {
          marker = L.circleMarker([unit.latitude, unit.longitude], {
            radius: 6, color: "#ffffff", weight: 2, fillOpacity: 1, className: "unit-marker" });
          marker.bindTooltip(unit.id);
          unitMarkers.set(unit.id, marker);
          unitLayer.addLayer(marker);
        }
        marker.setLatLng([unit.latitude, unit.longitude]);  // units move: no new marker
        marker.setStyle({ fillColor: colour });
        marker.setTooltipContent(unit.id + " · " + (texts["units.status." + unit.status] ||
                                                    unit.status));
      });
      unitMarkers.forEach(function (marker, id) {
        if (!seen.has(id)) { unitLayer.removeLayer(marker); unitMarkers.delete(id); }
      });
      element.dataset.units = String(seen.size);
    } catch (error) { /* the next refresh tries again */ }
  }
  if (config.incidents) {
    loadIncidents();
    setInterval(loadIncidents, config.refresh * 6000);
  }
  if (config.units) {
    loadUnits();
    setInterval(loadUnits, config.refresh * 1000);
  }
})();
