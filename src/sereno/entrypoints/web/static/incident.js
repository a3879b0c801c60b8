// An incident's page (ADR 0034): its file, timeline and notes, linked alerts, the lifecycle
// buttons its present status allows (each sends the version seen: a 409 reloads it), the
// cameras that see its place (nearest first; "put on the wall", recording links) and the
// dispatch panel (recommended units by ETA, "Despachar", the units sent and their reports).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("incident-config").textContent);
  const texts = JSON.parse(document.getElementById("incident-texts").textContent);
  const page = document.getElementById("incident-page");
  const message = document.getElementById("incident-message");
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const base = "/api/v1/incidents/" + encodeURIComponent(config.id);
  const STAMPS = ["created_at", "acknowledged_at", "dispatched_at", "en_route_at",
                  "on_scene_at", "resolved_at", "closed_at", "cancelled_at"];
  const OPEN = { new: true, acknowledged: true, dispatched: true, en_route: true, on_scene: true };
  const WALL_LAYOUTS = [1, 4, 9, 16];
  let incident = null;

  function t(key, values) {
    let text = texts[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function stamp(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }
  function say(text, failed) {
    message.textContent = text;
    message.classList.toggle("failed", Boolean(failed));
    message.hidden = !text;
  }

  class ApiError extends Error {
    constructor(status, text) { super(text); this.status = status; }
  }
  async function api(method, url, payload) {
    const response = await fetch(url, {
      method: method, credentials: "same-origin",
      headers: Object.assign({ "X-CSRF-Token": csrfMeta ? csrfMeta.content : "",
                               Accept: "application/json" },
                             payload ? { "Content-Type": "application/json" } : {}),
      body: payload ? JSON.stringify(payload) : undefined,
    });
    if (response.ok) return response.json();
    let why = response.status + " " + response.statusText;
    try { why = ((await response.json()).error || {}).message || why; } catch (e) { /* */ }
    throw new ApiError(response.status, why);
  }

  // --- the incident's file -----------------------------------------------------------------
  function field(list, label, value, name) {
    if (value === null || value === undefined || value === "") return;
    const dd = element("dd", "", value);
    if (name) dd.dataset.field = name;
    list.append(element("dt", "", label), dd);
  }
  function show(found) {
    incident = found;
    page.dataset.status = found.status;
    page.dataset.version = String(found.version);
    const prio = document.querySelector("[data-testid='incident-priority']");
    prio.className = "prio p" + found.priority;
    prio.textContent = t("incidents.priority", { n: found.priority });
    document.querySelector("[data-testid='incident-title']").textContent = found.title;
    const status = document.querySelector("[data-testid='incident-status']");
    status.className = "status-badge st-" + found.status;
    status.textContent = t("incidents.status." + found.status);
    const fields = document.getElementById("incident-fields");
    fields.replaceChildren();
    field(fields, texts["incidents.type"], config.typeName || found.type, "type");
    field(fields, texts["incidents.col.priority"], String(found.priority), "priority");
    field(fields, texts["incidents.source"],
          texts["incidents.source." + found.source] || found.source, "source");
    field(fields, texts["incidents.description"], found.description, "description");
    field(fields, texts["incidents.address"], found.address, "address");
    field(fields, texts["incidents.place"],
          found.latitude.toFixed(5) + ", " + found.longitude.toFixed(5), "place");
    field(fields, texts["incidents.created_by"], found.created_by, "created_by");
    const stamps = document.getElementById("stamps");
    stamps.replaceChildren();
    STAMPS.forEach(function (name) {
      if (name === "cancelled_at" && !found[name]) return;
      const dd = element("dd", "", stamp(found[name]));
      dd.dataset.field = name;
      if (found[name]) dd.dataset.at = found[name];
      stamps.append(element("dt", "", t("incidents.stamp." + name)), dd);
    });
    lifecycle(found);
    if (found.timeline) timeline(found.timeline);
    if (found.alerts) linkedAlerts(found.alerts);
    document.getElementById("note-form").hidden = !config.canWrite;
  }

  function lifecycle(found) {
    const box = document.getElementById("lifecycle");
    box.replaceChildren();
    const allowed = config.transitions[found.status] || [];
    document.getElementById("read-only").hidden = config.canWrite || !allowed.length;
    if (!config.canWrite) return;
    allowed.forEach(function (to) {
      const button = element("button", to === "cancelled" ? "danger" : "",
                             t("incidents.to." + to));
      button.type = "button";
      button.dataset.to = to;
      button.setAttribute("data-testid", "to-" + to);
      if (to === "dispatched" || to === "acknowledged" && found.status !== "new") {
        button.className = "secondary";
      }
      box.appendChild(button);
    });
  }

  function timeline(events) {
    const list = document.getElementById("timeline");
    list.replaceChildren();
    events.slice().reverse().forEach(function (event) {
      const item = element("li", "tl-" + event.kind);
      const time = element("time", "", new Date(event.at).toLocaleTimeString());
      time.dateTime = event.at;
      let what = t("incidents.kind." + event.kind);
      if (event.to_status) what += " → " + t("incidents.status." + event.to_status);
      if (event.kind === "unit_assigned" || event.kind === "unit_status") {
        const unit = event.detail && (event.detail.unit_id || event.detail.unit);
        if (unit) what += " · " + unit;
        if (event.detail && event.detail.status) {
          what += " " + t("incidents.dispatch." + event.detail.status);
        }
      }
      item.append(time, " ", element("strong", "", what), " · ",
                  element("span", "muted", event.by));
      if (event.note) item.appendChild(element("div", "note", event.note));
      list.appendChild(item);
    });
  }

  function linkedAlerts(alerts) {
    const list = document.getElementById("linked-alerts");
    list.replaceChildren();
    document.getElementById("no-alerts").hidden = alerts.length > 0;
    alerts.forEach(function (alert) {
      const item = element("li");
      item.setAttribute("data-testid", "linked-alert");
      item.dataset.alertId = alert.id;
      const link = element("a", "", alert.id.slice(0, 8));
      link.href = "/alerts#" + encodeURIComponent(alert.id);
      item.appendChild(link);
      list.appendChild(item);
      // Reading an alert is an audited access: once per page, not on every reload.
      if (!alertReads.has(alert.id)) alertReads.set(alert.id, api("GET", alert.href));
      alertReads.get(alert.id).then(function (full) {
        item.append(" ", element("span", "headline", full.headline),
                    " ", element("span", "muted", (full.cameras || []).join(", ")));
      }).catch(function () { /* refused or gone: the id stays */ });
    });
  }
  const alertReads = new Map();  // alert id -> the promise of its JSON

  async function load() {
    try {
      show(await api("GET", base));
    } catch (error) {
      say(t("incidents.failed", { why: error.message }), true);
    }
  }

  // --- acting ------------------------------------------------------------------------------
  async function transition(to, note) {
    if (!incident) return;
    const payload = { to: to, version: incident.version };
    if (note) payload.note = note;
    try {
      const changed = await api("POST", base + "/transition", payload);
      say(t("incidents.done", { status: t("incidents.status." + changed.status),
                                number: changed.number }), false);
      await load();
    } catch (error) {
      if (error.status === 409) {
        await load();  // someone changed it since: show what it is now
        say(t("incidents.changed") + " (" + error.message + ")", true);
      } else {
        say(t("incidents.failed", { why: error.message }), true);
      }
    }
  }
  const reasonDialog = document.getElementById("reason-dialog");
  const reasonForm = document.getElementById("reason-form");
  document.getElementById("lifecycle").addEventListener("click", function (event) {
    const button = event.target.closest("button[data-to]");
    if (!button) return;
    if (button.dataset.to === "cancelled") {
      reasonForm.reset();
      reasonDialog.showModal();
      return;
    }
    transition(button.dataset.to);
  });
  reasonForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const reason = reasonForm.elements.reason.value.trim();
    if (!reason) return;
    reasonDialog.close();
    transition("cancelled", reason);
  });
  reasonForm.querySelector("[data-close]").addEventListener("click", function () {
    reasonDialog.close();
  });

  document.getElementById("note-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const box = document.getElementById("note-text");
    const text = box.value.trim();
    if (!text) return;
    try {
      await api("POST", base + "/notes", { text: text });
      box.value = "";
      await load();
    } catch (error) {
      say(t("incidents.failed", { why: error.message }), true);
    }
  });

  // --- cameras around ----------------------------------------------------------------------
  function wallStore() { return "sereno.wall.v1." + config.user; }
  function onWall(cameraId) {
    try {
      const saved = JSON.parse(localStorage.getItem(wallStore()) || "{}");
      return Array.isArray(saved.tiles) && saved.tiles.indexOf(cameraId) >= 0;
    } catch (error) { return false; }
  }
  // The wall keeps its layout and tiles in this browser (static/wall.js): the camera goes into
  // the first free tile, growing the layout if it is full, else it replaces the last tile.
  function putOnWall(cameraId) {
    let saved = {};
    try { saved = JSON.parse(localStorage.getItem(wallStore()) || "{}"); } catch (e) { /* */ }
    let layout = WALL_LAYOUTS.indexOf(saved.layout) >= 0 ? saved.layout : 4;
    const tiles = Array.from({ length: 16 }, function (_, i) {
      return (Array.isArray(saved.tiles) && saved.tiles[i]) || null;
    });
    if (tiles.indexOf(cameraId) < 0) {
      let free = tiles.slice(0, layout).indexOf(null);
      if (free < 0 && layout < 16) {
        free = layout;
        layout = WALL_LAYOUTS[WALL_LAYOUTS.indexOf(layout) + 1];
      }
      tiles[free < 0 ? layout - 1 : free] = cameraId;
    }
    try {
      localStorage.setItem(wallStore(), JSON.stringify({ layout: layout, tiles: tiles }));
    } catch (error) { /* private mode */ }
  }
  async function cameras() {
    const list = document.getElementById("cameras");
    try {
      const found = await api("GET", base + "/cameras?radius_m=100");
      list.replaceChildren();
      document.getElementById("no-cameras").hidden = found.length > 0;
      found.forEach(function (camera) {
        const item = element("li");
        item.setAttribute("data-testid", "incident-camera");
        item.dataset.cameraId = camera.id;
        const link = element("a", "", camera.id + " · " + camera.name);
        link.href = "/cameras/" + encodeURIComponent(camera.id);
        item.append(link, element("span", "muted",
                                  t("incidents.distance", { m: Math.round(camera.distance_m) })));
        if (config.canFootage) {
          const wall = element("button", "secondary",
                               onWall(camera.id) ? t("incidents.on_wall") : t("incidents.to_wall"));
          wall.type = "button";
          wall.setAttribute("data-testid", "to-wall");
          wall.addEventListener("click", function () {
            putOnWall(camera.id);
            wall.textContent = t("incidents.on_wall");
            const go = element("a", "", "→ /wall");
            go.href = "/wall";
            if (!item.querySelector("a[href='/wall']")) item.appendChild(go);
          });
          const recording = element("a", "", t("incidents.recording"));
          recording.href = camera.recording;
          recording.target = "_blank";
          recording.rel = "noopener";
          item.append(wall, recording);
        }
        list.appendChild(item);
      });
    } catch (error) {
      list.replaceChildren(element("li", "muted", error.message));
    }
  }

  // --- dispatch ----------------------------------------------------------------------------
  function minutes(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return t("incidents.eta", { m: Math.floor(s / 60), s: s % 60 });
  }
  async function recommendations() {
    const rows = document.getElementById("recommendations");
    if (!config.canDispatch || !incident || !OPEN[incident.status]) {
      rows.replaceChildren();
      document.getElementById("no-units").hidden = true;
      return;
    }
    try {
      const found = await api("GET", base + "/recommendations");
      rows.replaceChildren();
      document.getElementById("no-units").hidden = found.units.length > 0;
      found.units.forEach(function (unit) {
        const tr = element("tr", "recommendation");
        tr.dataset.unitId = unit.unit_id;
        tr.setAttribute("data-testid", "recommendation");
        const go = element("button", "", t("incidents.dispatch_unit"));
        go.type = "button";
        go.setAttribute("data-testid", "dispatch-unit");
        go.addEventListener("click", function () { dispatchUnit(unit.unit_id, go); });
        const act = element("td");
        act.appendChild(go);
        tr.append(element("td", "", unit.unit_id), element("td", "muted", texts["units.kind." + unit.kind] || unit.kind),
                  element("td", "num eta", minutes(unit.eta_s)),
                  element("td", "num", t("incidents.km",
                                         { km: (unit.distance_m / 1000).toFixed(1) })),
                  act);
        rows.appendChild(tr);
      });
    } catch (error) {
      rows.replaceChildren(element("tr", "muted", error.message));
    }
  }
  async function dispatchUnit(unitId, button) {
    button.disabled = true;
    try {
      await api("POST", base + "/dispatches", { units: [unitId] });
      say(t("incidents.dispatched_ok", { unit: unitId }), false);
    } catch (error) {
      // 409: another dispatcher got the unit first, or it is no longer available.
      say(t("incidents.conflict_unit", { unit: unitId, why: error.message }), true);
    }
    await refresh();
  }
  let reported = null;  // the dispatches' statuses last seen
  async function dispatches() {
    try {
      const found = await api("GET", base + "/dispatches");
      const now = found.map(function (d) { return d.id + ":" + d.status; }).join(",");
      // A unit's report may move the incident (en route, on scene): read it again.
      if (reported !== null && now !== reported) load();
      reported = now;
      const list = document.getElementById("dispatches");
      list.replaceChildren();
      document.getElementById("no-dispatches").hidden = found.length > 0;
      found.forEach(function (made) {
        const item = element("li");
        item.setAttribute("data-testid", "dispatch");
        item.dataset.unitId = made.unit_id;
        item.dataset.status = made.status;
        item.append(element("strong", "", made.unit_id),
                    element("span", "status-badge st-" + made.status,
                            t("incidents.dispatch." + made.status)),
                    element("span", "muted", stamp(made.on_scene_at || made.en_route_at ||
                                                   made.acknowledged_at || made.assigned_at)));
        if (made.eta_s !== null && made.eta_s !== undefined) {
          item.append(element("span", "muted", minutes(made.eta_s)));
        }
        list.appendChild(item);
      });
    } catch (error) { /* the next poll tries again */ }
  }

  async function refresh() {
    await load();
    await Promise.all([recommendations(), dispatches()]);
  }

  // --- live: this incident's changes from the board's stream, the units by polling ----------
  const source = new EventSource("/api/v1/incidents/stream");
  ["IncidentCreated", "IncidentChanged"].forEach(function (type) {
    source.addEventListener(type, function (event) {
      let changed;
      try { changed = JSON.parse(event.data); } catch (error) { return; }
      if (changed && changed.id === config.id &&
          (!incident || changed.version > incident.version)) {
        refresh();
      }
    });
  });
  window.addEventListener("pagehide", function () { source.close(); });
  // Only the units' reports are polled: the recommendations are re-read when the incident
  // changes, so a "Despachar" button does not move under the dispatcher's pointer.
  setInterval(dispatches, config.refresh * 1000);

  refresh().then(function () { page.dataset.loaded = "1"; });
  cameras();
})();
