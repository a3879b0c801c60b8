// The live incident board (ADR 0034). Reads the agency's open incidents from the API, keeps them
// live from /api/v1/incidents/stream (each message is the incident's present state) and polls
// the units every few seconds to show who is assigned. j/k or arrows move, Enter opens.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("incidents-config").textContent);
  const texts = JSON.parse(document.getElementById("incidents-texts").textContent);
  const body = document.getElementById("incidents-body");
  const empty = document.getElementById("incidents-empty");
  const stateNode = document.getElementById("incidents-state");
  const openNode = document.getElementById("incidents-open");
  const message = document.getElementById("incidents-message");
  const helpDialog = document.getElementById("incidents-help");
  const OPEN = { new: true, acknowledged: true, dispatched: true, en_route: true, on_scene: true };
  const STAMP = { new: "created_at", acknowledged: "acknowledged_at",
                  dispatched: "dispatched_at", en_route: "en_route_at",
                  on_scene: "on_scene_at", resolved: "resolved_at", closed: "closed_at",
                  cancelled: "cancelled_at" };

  const incidents = new Map();
  const unitsOf = new Map();  // incident id -> unit call signs
  let order = [];
  let selected = null;

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
  function when(iso) { const d = new Date(iso); return isNaN(d.getTime()) ? 0 : d.getTime(); }
  function age(iso) {
    const seconds = Math.max(0, Math.floor((Date.now() - when(iso)) / 1000));
    if (seconds < 60) return t("incidents.age.s", { n: seconds });
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return t("incidents.age.m", { n: minutes });
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return t("incidents.age.h", { h: hours, m: minutes % 60 });
    return t("incidents.age.d", { n: Math.floor(hours / 24) });
  }
  // Most urgent first (priority 1 = highest), then the oldest: it has waited longest.
  function compare(a, b) {
    return (a.priority - b.priority) || (when(a.created_at) - when(b.created_at));
  }

  function row(incident) {
    const tr = element("tr", "incident-row alert-row st-" + incident.status);
    tr.dataset.incidentId = incident.id;
    tr.dataset.status = incident.status;
    tr.setAttribute("data-testid", "incident-row");
    const prio = element("td");
    prio.appendChild(element("span", "prio p" + incident.priority,
                             t("incidents.priority", { n: incident.priority })));
    const number = element("td", "number");
    const link = element("a", "", incident.number);
    link.href = "/incidents/" + encodeURIComponent(incident.id);
    number.appendChild(link);
    const what = element("td", "what");
    what.append(element("span", "headline", incident.title));
    if (incident.type) {
      what.append(" ", element("span", "muted", (config.types || {})[incident.type] ||
                                                incident.type));
    }
    const status = element("td", "status");
    status.appendChild(element("span", "status-badge st-" + incident.status,
                               t("incidents.status." + incident.status)));
    const stamp = incident[STAMP[incident.status]] || incident.created_at;
    const since = element("td", "since", new Date(stamp).toLocaleTimeString());
    const ageCell = element("td", "age", age(incident.created_at));
    ageCell.dataset.since = incident.created_at;
    const units = element("td", "units", (unitsOf.get(incident.id) || []).join(", ") || "—");
    units.setAttribute("data-testid", "incident-units");
    tr.append(prio, number, what, status, since, ageCell, units);
    return tr;
  }

  function render() {
    order = Array.from(incidents.values()).filter(function (i) { return OPEN[i.status]; })
      .sort(compare);
    const rows = document.createDocumentFragment();
    order.forEach(function (incident) { rows.appendChild(row(incident)); });
    body.replaceChildren(rows);
    empty.hidden = order.length > 0;
    openNode.textContent = t("incidents.open_n", { n: order.length });
    if (selected && !order.some(function (i) { return i.id === selected; })) selected = null;
    if (!selected && order.length) selected = order[0].id;
    mark(false);
  }
  function mark(scroll) {
    body.querySelectorAll("tr.incident-row").forEach(function (tr) {
      const on = tr.dataset.incidentId === selected;
      tr.classList.toggle("selected", on);
      tr.setAttribute("aria-selected", String(on));
      if (on && scroll) tr.scrollIntoView({ block: "nearest" });
    });
  }
  function upsert(incident) {
    const known = incidents.get(incident.id);
    if (known && known.version > incident.version) return;  // an older message, late
    incidents.set(incident.id, incident);
    render();
  }

  async function api(url) {
    const response = await fetch(url, { credentials: "same-origin",
                                        headers: { Accept: "application/json" } });
    if (!response.ok) {
      let why = response.status + " " + response.statusText;
      try { why = ((await response.json()).error || {}).message || why; } catch (e) { /* */ }
      throw new Error(why);
    }
    return response.json();
  }
  function say(text) { message.textContent = text; message.hidden = !text; }

  async function load() {
    try {
      const found = await api("/api/v1/incidents?status=open&limit=500");
      found.forEach(function (incident) { incidents.set(incident.id, incident); });
      render();
      body.dataset.loaded = "1";
    } catch (error) { say(error.message); }
  }
  async function loadUnits() {
    if (!config.canUnits) return;
    try {
      const found = await api("/api/v1/units");
      unitsOf.clear();
      found.forEach(function (unit) {
        if (!unit.incident_id) return;
        if (!unitsOf.has(unit.incident_id)) unitsOf.set(unit.incident_id, []);
        unitsOf.get(unit.incident_id).push(unit.id);
      });
      render();
    } catch (error) { /* the next poll tries again */ }
  }

  setInterval(function () {
    body.querySelectorAll("td.age").forEach(function (cell) {
      cell.textContent = age(cell.dataset.since);
    });
  }, 1000);
  setInterval(loadUnits, config.refresh * 1000);

  function move(step) {
    if (!order.length) return;
    const at = order.findIndex(function (i) { return i.id === selected; });
    selected = order[at < 0 ? 0 : Math.min(order.length - 1, Math.max(0, at + step))].id;
    mark(true);
  }
  function typing(target) {
    return target && (target.isContentEditable ||
                      /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (helpDialog.open) return;
    const handled = {
      j: function () { move(1); }, ArrowDown: function () { move(1); },
      k: function () { move(-1); }, ArrowUp: function () { move(-1); },
      Enter: function () {
        if (selected) window.location.assign("/incidents/" + encodeURIComponent(selected));
      },
      "?": function () { helpDialog.showModal(); },
    }[event.key];
    if (!handled) return;
    if (event.key === "Enter" && event.target.closest && event.target.closest("button, a")) return;
    event.preventDefault();
    handled();
  });
  body.addEventListener("click", function (event) {
    if (event.target.closest("a")) return;
    const tr = event.target.closest("tr.incident-row");
    if (tr) window.location.assign("/incidents/" + encodeURIComponent(tr.dataset.incidentId));
  });
  document.getElementById("incidents-help-open").addEventListener("click", function () {
    helpDialog.showModal();
  });

  function setState(name) {
    stateNode.dataset.state = name;
    stateNode.textContent = t("incidents." + name);
  }
  let dropped = false;
  const source = new EventSource("/api/v1/incidents/stream");
  source.addEventListener("open", function () {
    setState("connected");
    if (dropped) load();  // what changed meanwhile is not replayed
    dropped = false;
  });
  source.addEventListener("error", function () {
    dropped = true;
    setState(source.readyState === EventSource.CLOSED ? "disconnected" : "reconnecting");
  });
  ["IncidentCreated", "IncidentChanged"].forEach(function (type) {
    source.addEventListener(type, function (event) {
      let incident;
      try { incident = JSON.parse(event.data); } catch (error) { return; }
      if (incident && incident.id) upsert(incident);
    });
  });
  window.addEventListener("pagehide", function () { source.close(); });
  load();
  loadUnits();
})();
