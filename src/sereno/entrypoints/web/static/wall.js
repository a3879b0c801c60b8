// Video wall: 1, 4, 9 or 16 tiles, each playing a camera's MJPEG stream. Cameras are placed by
// drag and drop or by selecting one (click / Enter) and then a tile; the layout and the
// placement are remembered in this browser, per user.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("wall-config").textContent);
  const texts = JSON.parse(document.getElementById("wall-texts").textContent);
  const wall = document.getElementById("wall");
  const list = document.getElementById("wall-list");
  const selectedNote = document.getElementById("wall-selected");
  const template = document.getElementById("tile-template");
  const MAX_TILES = Math.max.apply(null, config.layouts);
  const STORE = "sereno.wall.v1." + config.user;
  const DRAG_TYPE = "application/x-sereno-camera";
  const FIRST_FRAME_S = 15;  // the server gives up on a silent camera after 10 s
  const cameras = {};
  config.cameras.forEach(function (camera) { cameras[camera.id] = camera; });

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE) || "{}");
      const layout = config.layouts.indexOf(saved.layout) >= 0 ? saved.layout : 4;
      // A camera no longer visible to this user is dropped, not shown as an error.
      const tiles = Array.isArray(saved.tiles) ? saved.tiles : [];
      return { layout: layout, tiles: Array.from({ length: MAX_TILES }, function (_, i) {
        return cameras[tiles[i]] ? tiles[i] : null;
      }) };
    } catch (error) {
      return { layout: 4, tiles: new Array(MAX_TILES).fill(null) };
    }
  }
  const state = load();
  function save() {
    try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (error) { /* private mode */ }
  }

  // --- tiles -------------------------------------------------------------------------------
  const tiles = [];
  for (let i = 0; i < MAX_TILES; i++) {
    const tile = template.content.firstElementChild.cloneNode(true);
    tile.dataset.index = String(i);
    tile.dataset.cameraId = "";
    tile.dataset.testid = "tile-" + i;
    tile.setAttribute("aria-label", (texts["wall.tile"] || "{n}").replace("{n}", i + 1));
    tiles.push({ node: tile, cameraId: null, mode: null, url: null, timer: null, watchdog: null });
    wall.appendChild(tile);
  }

  // A fresh <img> per connection attempt: replacing the element is what reliably closes the
  // previous MJPEG connection (browsers allow only six per server).
  function freshImage(entry) {
    const old = entry.node.querySelector(".tile-img");
    const image = document.createElement("img");
    image.className = "tile-img";
    image.alt = entry.cameraId || "";
    old.removeAttribute("src");
    old.replaceWith(image);
    return image;
  }

  function stopFeed(entry) {
    clearTimeout(entry.timer);
    clearTimeout(entry.watchdog);
    entry.timer = entry.watchdog = null;
    entry.url = null;
    freshImage(entry);
    entry.node.classList.remove("live", "nosignal", "snap");
    delete entry.node.dataset.loaded;
    delete entry.node.dataset.attempts;
  }

  function noSignal(entry) {
    clearTimeout(entry.watchdog);
    entry.node.classList.remove("live");
    entry.node.classList.add("nosignal");
    freshImage(entry);  // drop a stalled connection now, not when the retry starts
    later(entry, config.retry);
  }

  function startFeed(entry, stream) {
    const id = encodeURIComponent(entry.cameraId);
    entry.url = stream ? "/api/v1/cameras/" + id + "/live.mjpeg"
                       : "/api/v1/cameras/" + id + "/snapshot.jpg";
    entry.node.classList.toggle("snap", !stream);
    connect(entry);
  }

  function connect(entry) {
    const url = entry.url;
    const stream = !entry.node.classList.contains("snap");
    const image = freshImage(entry);
    entry.node.dataset.attempts = String(Number(entry.node.dataset.attempts || 0) + 1);
    image.addEventListener("load", function () {
      if (entry.url !== url) return;
      clearTimeout(entry.watchdog);
      entry.node.classList.remove("nosignal");
      entry.node.classList.add("live");
      entry.node.dataset.loaded = String(Number(entry.node.dataset.loaded || 0) + 1);
      if (!stream) later(entry, config.refresh);  // snapshots: fetch the next one
    });
    image.addEventListener("error", function () { if (entry.url === url) noSignal(entry); });
    // An MJPEG response that ends without a frame (the camera is unreachable) fires neither
    // load nor error: give up after a while and show it.
    clearTimeout(entry.watchdog);
    entry.watchdog = setTimeout(function () {
      if (entry.url === url && !entry.node.classList.contains("live")) noSignal(entry);
    }, FIRST_FRAME_S * 1000);
    image.src = url + "?t=" + Date.now();  // a new request even for the same camera
  }

  function later(entry, seconds) {
    clearTimeout(entry.timer);
    const url = entry.url;
    entry.timer = setTimeout(function () {
      if (entry.url !== url) return;  // the tile changed meanwhile
      if (document.hidden && entry.node.classList.contains("snap")) {
        later(entry, seconds);  // no footage requests for a tab nobody looks at
        return;
      }
      if (entry.node.classList.contains("snap") && entry.node.classList.contains("live")) {
        // The next snapshot into the same image, so the last one stays until it arrives.
        entry.node.querySelector(".tile-img").src = url + "?t=" + Date.now();
        return;
      }
      connect(entry);
    }, seconds * 1000);
  }

  // Show the state: which tiles are visible, what each plays, and how (stream or snapshots).
  function render() {
    wall.className = "wall l" + state.layout;
    wall.dataset.layout = String(state.layout);
    document.querySelectorAll(".layout-btn").forEach(function (button) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.layout) === state.layout));
    });
    let streams = 0;
    tiles.forEach(function (entry, i) {
      const wanted = i < state.layout ? state.tiles[i] : null;
      const stream = wanted !== null && streams < config.streams;
      if (wanted !== null && stream) streams += 1;
      const mode = wanted === null ? null : (stream ? "stream" : "snap");
      if (entry.cameraId === wanted && entry.mode === mode) return;
      stopFeed(entry);
      entry.cameraId = wanted;
      entry.mode = mode;
      const node = entry.node;
      node.classList.toggle("empty", wanted === null);
      node.dataset.cameraId = wanted || "";
      node.draggable = wanted !== null;
      node.querySelector(".tile-title").textContent =
        wanted ? wanted + " · " + cameras[wanted].name : "";
      paintStatus(entry);
      if (wanted !== null) startFeed(entry, stream);
    });
  }

  function paintStatus(entry) {
    const dot = entry.node.querySelector(".tile-bar .dot");
    const camera = entry.cameraId && cameras[entry.cameraId];
    dot.className = "dot" + (camera ? " s-" + camera.status : "");
    dot.title = camera ? (texts["status." + camera.status] || camera.status) : "";
  }

  function assign(index, cameraId) {
    if (!cameras[cameraId] || index < 0 || index >= state.layout) return;
    state.tiles[index] = cameraId;
    save();
    render();
  }
  function clearTile(index) {
    state.tiles[index] = null;
    save();
    render();
  }

  // --- selecting a camera (mouse or keyboard), then a tile ---------------------------------
  let selected = null;
  function select(cameraId) {
    selected = selected === cameraId ? null : cameraId;
    if (list) {
      document.querySelectorAll(".wall-camera").forEach(function (item) {
        const on = item.dataset.cameraId === selected;
        item.classList.toggle("selected", on);
        item.setAttribute("aria-pressed", String(on));
      });
    }
    wall.classList.toggle("picking", selected !== null);
    selectedNote.textContent = selected
      ? (texts["wall.selected"] || "{id}").replace("{id}", selected) : "";
  }

  // The camera list and, above it, the cameras of the joint operations active now (ADR 0033).
  document.querySelectorAll(".wall-list").forEach(function (list) {
    list.addEventListener("click", function (event) {
      const item = event.target.closest(".wall-camera");
      if (item) select(item.dataset.cameraId);
    });
    list.addEventListener("keydown", function (event) {
      const item = event.target.closest(".wall-camera");
      if (item && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        select(item.dataset.cameraId);
      }
    });
    list.addEventListener("dragstart", function (event) {
      const item = event.target.closest(".wall-camera");
      if (!item) return;
      event.dataTransfer.setData(DRAG_TYPE, item.dataset.cameraId);
      event.dataTransfer.setData("text/plain", item.dataset.cameraId);
      event.dataTransfer.effectAllowed = "copy";
    });
  });

  function tileOf(event) {
    const node = event.target.closest(".tile");
    return node ? Number(node.dataset.index) : -1;
  }

  wall.addEventListener("click", function (event) {
    const index = tileOf(event);
    if (index < 0) return;
    if (event.target.closest(".tile-clear")) {
      clearTile(index);
      return;
    }
    if (selected) {
      assign(index, selected);
      select(null);
    }
  });
  wall.addEventListener("keydown", function (event) {
    if (event.target.closest(".tile-clear")) return;  // the button handles its own Enter
    const index = tileOf(event);
    if (index < 0) return;
    if ((event.key === "Enter" || event.key === " ") && selected) {
      event.preventDefault();
      assign(index, selected);
      select(null);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      clearTile(index);
    } else if (event.key === "Escape") {
      select(null);
    }
  });

  // Drag and drop: from the list onto a tile, or from one tile onto another (they swap).
  wall.addEventListener("dragstart", function (event) {
    const index = tileOf(event);
    if (index < 0 || !state.tiles[index]) return;
    event.dataTransfer.setData(DRAG_TYPE, state.tiles[index]);
    event.dataTransfer.setData("application/x-sereno-tile", String(index));
    event.dataTransfer.effectAllowed = "move";
  });
  wall.addEventListener("dragover", function (event) {
    const index = tileOf(event);
    if (index < 0 || !event.dataTransfer.types.includes(DRAG_TYPE)) return;
    event.preventDefault();
    tiles[index].node.classList.add("over");
  });
  wall.addEventListener("dragleave", function (event) {
    const index = tileOf(event);
    if (index >= 0 && !tiles[index].node.contains(event.relatedTarget)) {
      tiles[index].node.classList.remove("over");
    }
  });
  wall.addEventListener("drop", function (event) {
    const index = tileOf(event);
    if (index < 0) return;
    event.preventDefault();
    tiles[index].node.classList.remove("over");
    const cameraId = event.dataTransfer.getData(DRAG_TYPE);
    const from = event.dataTransfer.getData("application/x-sereno-tile");
    if (from !== "" && Number(from) !== index) {
      state.tiles[Number(from)] = state.tiles[index];  // swap the two tiles
    }
    assign(index, cameraId);
  });

  document.querySelectorAll(".layout-btn").forEach(function (button) {
    button.addEventListener("click", function () {
      state.layout = Number(button.dataset.layout);
      save();
      render();
    });
  });

  // Camera status from the live feed: repaint the dots, and retry a dark tile at once when its
  // camera comes back online.
  document.addEventListener("sereno:event", function (event) {
    if (event.detail.type !== "CameraStatusChanged") return;
    const data = event.detail.data;
    const camera = cameras[data.camera_id];
    if (!camera) return;
    camera.status = data.status;
    const item = list && list.querySelector('[data-camera-id="' + CSS.escape(data.camera_id) + '"] .dot');
    if (item) {
      item.className = "dot s-" + data.status;
      item.title = texts["status." + data.status] || data.status;
    }
    tiles.forEach(function (entry) {
      if (entry.cameraId !== data.camera_id) return;
      paintStatus(entry);
      // The stream of a camera that went offline may stall without an error: show it, and
      // retry at once when the camera is back.
      if (data.status === "offline" && entry.url) noSignal(entry);
      if (data.status === "online" && entry.node.classList.contains("nosignal")) later(entry, 0);
    });
  });
  window.addEventListener("pagehide", function () { tiles.forEach(stopFeed); });

  render();
  // --- boxes over live tiles ------------------------------------------------------------------
  // The workers' tracker publishes normalised boxes (TracksUpdated); draw them over the part of
  // the tile the picture really occupies (object-fit: contain letterboxes it), and let them
  // fade when no update comes.
  const SVG = "http://www.w3.org/2000/svg";
  function overlayOf(entry) {
    let svg = entry.node.querySelector("svg.tile-boxes");
    if (!svg) {
      svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("class", "tile-boxes");
      svg.setAttribute("viewBox", "0 0 1 1");
      svg.setAttribute("preserveAspectRatio", "none");
      entry.node.appendChild(svg);
    }
    const image = entry.node.querySelector(".tile-img");
    const box = entry.node.getBoundingClientRect();
    const ratio = image && image.naturalWidth ? image.naturalWidth / image.naturalHeight : 4 / 3;
    let width = box.width, height = box.width / ratio;
    if (height > box.height) { height = box.height; width = box.height * ratio; }
    svg.style.left = ((box.width - width) / 2) + "px";
    svg.style.top = ((box.height - height) / 2) + "px";
    svg.style.width = width + "px";
    svg.style.height = height + "px";
    return svg;
  }
  document.addEventListener("sereno:event", function (event) {
    if (event.detail.type !== "TracksUpdated") return;
    const data = event.detail.data;
    tiles.forEach(function (entry) {
      if (entry.cameraId !== data.camera_id || !entry.node.classList.contains("live")) return;
      const svg = overlayOf(entry);
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      (data.tracks || []).forEach(function (track) {
        const rect = document.createElementNS(SVG, "rect");
        rect.setAttribute("x", track[2]);
        rect.setAttribute("y", track[3]);
        rect.setAttribute("width", Math.max(0, track[4] - track[2]));
        rect.setAttribute("height", Math.max(0, track[5] - track[3]));
        rect.setAttribute("class", "track track-" + track[1]);
        rect.setAttribute("vector-effect", "non-scaling-stroke");
        svg.appendChild(rect);
      });
      svg.dataset.tracks = String((data.tracks || []).length);
      clearTimeout(entry.boxesTimer);
      entry.boxesTimer = setTimeout(function () {
        while (svg.firstChild) svg.removeChild(svg.firstChild);
      }, 2000);
    });
  });
})();
