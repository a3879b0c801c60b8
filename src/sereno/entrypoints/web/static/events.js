// Live events panel: Server-Sent Events from /api/v1/events, newest first, at most 50 kept.
// The stored detections arrive rendered with the page; this script adds the live ones, shows
// whether the feed is connected, and tells the rest of the page (the wall) what happened.
(function () {
  "use strict";
  const MAX_EVENTS = 50;
  const NAMES = ["DetectionEvent", "CameraStatusChanged", "VideoQualityChanged"];
  const list = document.getElementById("events-list");
  if (!list) return;
  const config = JSON.parse(document.getElementById("events-config").textContent);
  const texts = JSON.parse(document.getElementById("events-texts").textContent);
  const empty = document.getElementById("events-empty");
  const state = document.getElementById("events-state");
  const dialog = document.getElementById("event-dialog");
  const dialogImage = document.getElementById("event-dialog-img");

  function t(key, fallback) { return texts[key] || fallback || key; }
  function objectName(name) { return texts["object." + name] || name; }
  function clock(iso) {
    const when = iso ? new Date(iso) : new Date();
    return isNaN(when.getTime()) ? "" : when.toLocaleTimeString();
  }
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // What an event says, in the console's language.
  function describe(type, data) {
    if (type === "DetectionEvent") {
      const classes = (data.classes || []).map(objectName).join(", ");
      const confidence = Math.round(Number(data.confidence || 0) * 100);
      return { kind: "detection", what: t("events.kind." + data.rule_kind, data.rule_kind),
               detail: classes + " · " + confidence + "%" };
    }
    if (type === "VideoQualityChanged") {
      const what = t("events.quality." + data.kind, data.kind);
      return { kind: data.active ? "quality" : "quality ended",
               what: data.active ? what : what + ": " + t("events.quality.ended"), detail: "" };
    }
    return { kind: "status s-" + data.status, what: t("events.status." + data.status, data.status),
             detail: String(data.reason || "").slice(0, 120) };
  }

  function build(type, data) {
    const said = describe(type, data);
    const item = element("li", "event ev-" + said.kind);
    item.dataset.type = type;
    item.dataset.cameraId = data.camera_id;
    if (data.event_id) item.dataset.eventId = data.event_id;
    if (type === "DetectionEvent" && data.snapshot_key && config.footage) {
      const url = "/api/v1/detections/" + encodeURIComponent(data.event_id) + "/snapshot.jpg";
      const thumb = element("button", "thumb");
      thumb.type = "button";
      thumb.dataset.full = url;
      thumb.setAttribute("aria-label", t("events.snapshot"));
      const image = element("img");
      image.alt = "";
      image.src = url;
      thumb.appendChild(image);
      item.appendChild(thumb);
    }
    const body = element("div", "ev-body");
    const line = element("div", "ev-line");
    const time = element("time", "", clock(data.at));
    time.dateTime = data.at || new Date().toISOString();
    const camera = element("a", "ev-camera", data.camera_id);
    camera.href = "/cameras/" + encodeURIComponent(data.camera_id);
    const name = config.names[data.camera_id];
    if (name) camera.title = name;
    line.append(time, " ", camera);
    body.append(line, element("div", "ev-what", said.what));
    if (said.detail) body.appendChild(element("div", "ev-detail muted", said.detail));
    item.appendChild(body);
    return item;
  }

  function add(type, data) {
    if (data.event_id && list.querySelector('[data-event-id="' + CSS.escape(data.event_id) + '"]')) {
      return;  // already rendered with the page
    }
    list.prepend(build(type, data));
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
    empty.hidden = true;
  }

  // The stored detections were rendered in UTC; show them in the operator's local time.
  list.querySelectorAll("time[datetime]").forEach(function (node) {
    node.textContent = clock(node.getAttribute("datetime"));
  });
  list.querySelectorAll(".event").forEach(function (node) {
    const name = config.names[node.dataset.cameraId];
    const link = node.querySelector(".ev-camera");
    if (name && link) link.title = name;
  });

  list.addEventListener("click", function (event) {
    const thumb = event.target.closest(".thumb");
    if (!thumb) return;
    dialogImage.src = thumb.dataset.full;
    dialog.showModal();
  });
  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) dialog.close();  // a click on the backdrop closes it
  });

  function setState(name) {
    state.dataset.state = name;
    state.textContent = t("events." + name);
  }

  const source = new EventSource("/api/v1/events");
  source.addEventListener("open", function () { setState("connected"); });
  source.addEventListener("error", function () {
    // The browser reconnects by itself unless the server refused us (then the stream is closed).
    setState(source.readyState === EventSource.CLOSED ? "disconnected" : "reconnecting");
  });
  NAMES.forEach(function (type) {
    source.addEventListener(type, function (message) {
      let data;
      try { data = JSON.parse(message.data); } catch (error) { return; }
      if (!data || (config.camera && data.camera_id !== config.camera)) return;
      add(type, data);
      document.dispatchEvent(new CustomEvent("sereno:event", { detail: { type: type, data: data } }));
    });
  });
  // Track boxes are not listed: they only go to the rest of the page (boxes over the wall).
  source.addEventListener("TracksUpdated", function (message) {
    let data;
    try { data = JSON.parse(message.data); } catch (error) { return; }
    if (!data || (config.camera && data.camera_id !== config.camera)) return;
    document.dispatchEvent(new CustomEvent("sereno:event",
                                           { detail: { type: "TracksUpdated", data: data } }));
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
