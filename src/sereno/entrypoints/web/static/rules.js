// Camera rules: drawn over the live picture (SVG, image fractions 0..1), and — for those who may
// change the camera — a form to draw and save a new rule, and delete buttons.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const config = JSON.parse(document.getElementById("rules-config").textContent);
  const texts = JSON.parse(document.getElementById("rules-texts").textContent);
  const overlay = document.getElementById("rule-overlay");
  const list = document.getElementById("rule-list");
  const none = document.getElementById("rules-none");
  const form = document.getElementById("rule-form");
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const base = "/api/v1/cameras/" + encodeURIComponent(config.camera) + "/rules";
  let rules = config.rules.slice();
  const draft = { points: [], closed: false };

  function t(key, values) {
    let text = texts[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.replace("{" + name + "}", values[name]); });
    return text;
  }
  function svg(tag, attributes, className) {
    const node = document.createElementNS(SVG, tag);
    Object.keys(attributes).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (className) node.setAttribute("class", className);
    return node;
  }
  function pointsAttr(points) {
    return points.map(function (p) { return p[0] + "," + p[1]; }).join(" ");
  }

  // The overlay stretches 0..1 over the picture, so sizes that must look the same on both axes
  // (labels, arrows, vertex dots) are computed from the picture's pixel size.
  function size() {
    const box = overlay.getBoundingClientRect();
    return { w: Math.max(box.width, 1), h: Math.max(box.height, 1) };
  }
  function label(text, x, y, className, dx, dy) {
    const px = size();
    const at = (x + (dx || 0) / px.w) + " " + (y + (dy || 0) / px.h);
    const node = svg("text", { transform: "translate(" + at + ") scale(" + 1 / px.w + " " + 1 / px.h + ")",
                               "font-size": 13 }, className);
    node.textContent = text;
    return node;
  }
  function dot(p, className) {
    const px = size();
    return svg("ellipse", { cx: p[0], cy: p[1], rx: 4 / px.w, ry: 4 / px.h }, className);
  }
  // A line rule's direction: arrows across the line at its middle, pointing to the side objects
  // must cross to ("right" is right of A→B as seen in the picture, y growing downwards).
  function arrows(rule, group) {
    const px = size();
    const a = [rule.points[0][0] * px.w, rule.points[0][1] * px.h];
    const b = [rule.points[1][0] * px.w, rule.points[1][1] * px.h];
    const length = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
    const right = [-(b[1] - a[1]) / length, (b[0] - a[0]) / length];
    const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    const reach = 28;
    const heads = rule.direction === "left_to_right" ? [1]
      : rule.direction === "right_to_left" ? [-1] : [1, -1];
    const toFraction = function (p) { return [p[0] / px.w, p[1] / px.h]; };
    const tail = heads.length === 2 ? mid : [mid[0] - right[0] * heads[0] * reach, mid[1] - right[1] * heads[0] * reach];
    heads.forEach(function (sign) {
      const tip = [mid[0] + right[0] * sign * reach, mid[1] + right[1] * sign * reach];
      const back = [tip[0] - right[0] * sign * 10, tip[1] - right[1] * sign * 10];
      const side = [-right[1] * 6, right[0] * 6];
      const from = toFraction(tail), to = toFraction(tip);
      group.appendChild(svg("line", { x1: from[0], y1: from[1], x2: to[0], y2: to[1] }, "arrow"));
      group.appendChild(svg("polygon", { points: pointsAttr([
        toFraction(tip), toFraction([back[0] + side[0], back[1] + side[1]]),
        toFraction([back[0] - side[0], back[1] - side[1]])]) }, "arrow-head"));
    });
  }

  function draw() {
    while (overlay.firstChild) overlay.removeChild(overlay.firstChild);
    rules.forEach(function (rule) {
      const group = svg("g", { "data-rule-id": rule.id }, "rule k-" + rule.kind + (rule.enabled ? "" : " off"));
      if (rule.kind === "line") {
        const a = rule.points[0], b = rule.points[1];
        group.appendChild(svg("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, "shape"));
        arrows(rule, group);
        group.appendChild(label("A", a[0], a[1], "end-label", -4, 16));
        group.appendChild(label("B", b[0], b[1], "end-label", -4, 16));
      } else {
        group.appendChild(svg("polygon", { points: pointsAttr(rule.points) }, "shape"));
      }
      const first = rule.points[0];
      group.appendChild(label(rule.name, Math.min(first[0], 0.8), Math.max(first[1], 0.05), "name-label", 0, -6));
      overlay.appendChild(group);
    });
    if (draft.points.length) {
      const group = svg("g", {}, "draft");
      const closed = draft.closed || (kind() === "line" && draft.points.length === 2);
      group.appendChild(svg(closed && kind() !== "line" ? "polygon" : "polyline",
                            { points: pointsAttr(draft.points) }, "shape"));
      draft.points.forEach(function (p) { group.appendChild(dot(p, "vertex")); });
      overlay.appendChild(group);
    }
    overlay.dataset.rules = String(rules.length);
  }

  function describe(rule) {
    const parts = [t("rules.kind." + rule.kind),
                   rule.classes.map(function (c) { return texts["object." + c] || c; }).join(", ")];
    if (rule.kind === "line") parts.push(t("rules.direction." + rule.direction));
    if (rule.kind === "loiter") parts.push(Math.round(rule.dwell_s) + " s");
    if (rule.kind === "crowd") parts.push("≥ " + rule.min_count);
    if (!rule.enabled) parts.push(t("rules.disabled"));
    return parts.join(" · ");
  }

  function renderList() {
    while (list.firstChild) list.removeChild(list.firstChild);
    rules.forEach(function (rule) {
      const item = document.createElement("li");
      item.dataset.ruleId = rule.id;
      item.className = "k-" + rule.kind + (rule.enabled ? "" : " off");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.setAttribute("aria-hidden", "true");
      const text = document.createElement("span");
      text.className = "rule-text";
      const name = document.createElement("strong");
      name.className = "rule-name";
      name.textContent = rule.name;
      const detail = document.createElement("span");
      detail.className = "muted";
      detail.textContent = " " + describe(rule);
      text.append(name, detail);
      item.append(swatch, text);
      if (config.editable) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "danger rule-delete";
        remove.dataset.ruleId = rule.id;
        remove.dataset.name = rule.name;
        remove.textContent = t("rules.delete");
        item.appendChild(remove);
      }
      list.appendChild(item);
    });
    none.hidden = rules.length > 0;
  }

  // Redraw whenever the picture changes size (first load, window resize): see size().
  new ResizeObserver(function () { draw(); }).observe(overlay);
  draw();

  // Hovering a rule in the list highlights its shape.
  list.addEventListener("mouseover", function (event) {
    const item = event.target.closest("[data-rule-id]");
    overlay.querySelectorAll(".rule").forEach(function (group) {
      group.classList.toggle("hl", !!item && group.dataset.ruleId === item.dataset.ruleId);
    });
  });
  list.addEventListener("mouseleave", function () {
    overlay.querySelectorAll(".rule.hl").forEach(function (group) { group.classList.remove("hl"); });
  });

  if (!config.editable || !form) return;

  // --- the editor ----------------------------------------------------------------------------
  const errorBox = document.getElementById("rule-error");
  const okBox = document.getElementById("rule-ok");
  const help = document.getElementById("rule-help");
  const closeButton = document.getElementById("rule-close");
  function kind() { return form.elements.kind.value; }

  function showError(prefix, message) {
    okBox.hidden = true;
    errorBox.textContent = prefix + " " + message;
    errorBox.hidden = false;
  }
  function clearMessages() { errorBox.hidden = true; okBox.hidden = true; }

  function refreshForm() {
    const current = kind();
    form.querySelectorAll("[data-kinds]").forEach(function (field) {
      field.hidden = field.dataset.kinds.split(" ").indexOf(current) < 0;
    });
    const line = current === "line";
    closeButton.hidden = line;
    closeButton.disabled = draft.closed || draft.points.length < 3;
    help.textContent = t(line ? "rules.draw_line" : "rules.draw_polygon") + " " +
      t("rules.points", { n: draft.points.length });
    draw();
  }

  function restart() {
    draft.points = [];
    draft.closed = false;
    refreshForm();
  }

  overlay.addEventListener("click", function (event) {
    const box = overlay.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    const point = [Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000];
    if (kind() === "line") {
      if (draft.points.length >= 2) draft.points = [];  // a third click starts a new line
      draft.points.push(point);
    } else {
      if (draft.closed) { draft.points = []; draft.closed = false; }
      draft.points.push(point);
    }
    clearMessages();
    refreshForm();
  });
  closeButton.addEventListener("click", function () {
    if (draft.points.length >= 3) draft.closed = true;
    refreshForm();
  });
  document.getElementById("rule-undo").addEventListener("click", function () {
    draft.points.pop();
    draft.closed = false;
    refreshForm();
  });
  document.getElementById("rule-restart").addEventListener("click", restart);
  let drawingLine = kind() === "line";
  form.elements.kind.addEventListener("change", function () {
    // A line and a polygon are not drawn alike: switching between them starts over.
    if ((kind() === "line") !== drawingLine) {
      drawingLine = kind() === "line";
      restart();
    } else {
      refreshForm();
    }
  });

  function number(name) {
    const raw = form.elements[name].value.trim();
    const value = Number(raw);
    return raw !== "" && isFinite(value) ? value : raw;  // let the API say what is wrong
  }

  async function request(method, url, body) {
    const response = await fetch(url, {
      method: method, credentials: "same-origin",
      headers: Object.assign({ "X-CSRF-Token": csrfMeta ? csrfMeta.content : "",
                               Accept: "application/json" },
                             body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.ok) return response.status === 204 ? null : response.json();
    let message = response.status + " " + response.statusText;
    try {
      const problem = (await response.json()).error || {};
      message = problem.message || message;
      if (Array.isArray(problem.details) && problem.details.length) {
        message += " (" + problem.details.map(function (d) {
          return (d.field ? d.field + ": " : "") + (d.problem || "");
        }).join("; ") + ")";
      }
    } catch (error) { /* not JSON: keep the status line */ }
    throw new Error(message);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    clearMessages();
    const current = kind();
    const ready = current === "line" ? draft.points.length === 2 : draft.closed;
    if (!ready) {
      showError(t("rules.not_saved"), t("rules.need_points"));
      return;
    }
    const body = {
      kind: current, points: draft.points,
      classes: form.elements.classes.value.split(",").map(function (c) { return c.trim(); })
        .filter(function (c) { return c; }),
      cooldown_s: number("cooldown_s"),
    };
    const name = form.elements.name.value.trim();
    if (name) body.name = name;
    if (current === "line") body.direction = form.elements.direction.value;
    if (current === "loiter") body.dwell_s = number("dwell_s");
    if (current === "crowd") body.min_count = number("min_count");
    const save = form.querySelector('[type="submit"]');
    save.disabled = true;
    try {
      const rule = await request("POST", base, body);
      rules.push(rule);
      renderList();
      form.elements.name.value = "";
      restart();
      okBox.textContent = t("rules.saved");
      okBox.hidden = false;
    } catch (error) {
      showError(t("rules.not_saved"), error.message);
    } finally {
      save.disabled = false;
    }
  });

  list.addEventListener("click", async function (event) {
    const button = event.target.closest(".rule-delete");
    if (!button) return;
    if (!window.confirm(t("rules.confirm_delete", { name: button.dataset.name }))) return;
    clearMessages();
    button.disabled = true;
    try {
      await request("DELETE", base + "/" + encodeURIComponent(button.dataset.ruleId));
      rules = rules.filter(function (rule) { return rule.id !== button.dataset.ruleId; });
      renderList();
      draw();
    } catch (error) {
      button.disabled = false;
      showError(t("rules.not_deleted"), error.message);
    }
  });

  refreshForm();
})();
