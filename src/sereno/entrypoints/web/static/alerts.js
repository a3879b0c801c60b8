// The live alert queue (ADR 0028). The page opens with the agency's alerts; Server-Sent Events
// from /api/v1/alerts/stream add new ones and update changed ones in place (each message is the
// alert's present state). Keyboard first: j/k or arrows move, Enter opens the detail, a/e/d/c
// act, ? shows the shortcuts. New Severe/Extreme alerts chime (Web Audio, no file), unless muted.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("alerts-config").textContent);
  const texts = JSON.parse(document.getElementById("alerts-texts").textContent);
  const page = document.getElementById("alerts-page");
  const body = document.getElementById("alerts-body");
  const empty = document.getElementById("alerts-empty");
  const stateNode = document.getElementById("alerts-state");
  const activeNode = document.getElementById("alerts-active");
  const message = document.getElementById("alerts-message");
  const detail = document.getElementById("alert-detail");
  const detailBody = document.getElementById("alert-detail-body");
  const detailNone = document.getElementById("alert-detail-none");
  const dismissDialog = document.getElementById("dismiss-dialog");
  const dismissForm = document.getElementById("dismiss-form");
  const helpDialog = document.getElementById("alerts-help");
  const muteButton = document.getElementById("alerts-mute");
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const MAX_ALERTS = 500;  // the queue keeps this many; the oldest resolved ones go first
  const FRESH_MS = 8000;
  const RANK = { Extreme: 4, Severe: 3, Moderate: 2, Minor: 1, Unknown: 0 };
  const ICON = { Extreme: "‼", Severe: "▲", Moderate: "◆", Minor: "●", Unknown: "○" };
  const ACTIVE = { open: true, acknowledged: true };
  const MUTE_KEY = "sereno.alerts.muted";

  const alerts = new Map();  // id -> the alert as the API shapes it
  const fresh = new Map();   // id -> when it arrived live (highlighted for a while)
  let order = [];
  let selected = null;
  let opened = null;  // the alert whose detail is shown

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
    if (seconds < 60) return t("alerts.age.s", { n: seconds });
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return t("alerts.age.m", { n: minutes });
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return t("alerts.age.h", { h: hours, m: minutes % 60 });
    return t("alerts.age.d", { n: Math.floor(hours / 24) });
  }

  // Active first, then the most severe, then the newest.
  function compare(a, b) {
    const active = (ACTIVE[a.status] ? 0 : 1) - (ACTIVE[b.status] ? 0 : 1);
    if (active) return active;
    const rank = (RANK[b.severity] || 0) - (RANK[a.severity] || 0);
    if (rank) return rank;
    return when(b.raised_at) - when(a.raised_at);
  }

  // --- the queue ---------------------------------------------------------------------------
  function row(alert) {
    const tr = element("tr", "alert-row sev-" + alert.severity + " st-" + alert.status);
    tr.dataset.alertId = alert.id;
    tr.dataset.status = alert.status;
    tr.dataset.severity = alert.severity;
    tr.dataset.testid = "alert-" + alert.id;
    tr.setAttribute("data-testid", "alert-row");
    tr.tabIndex = -1;
    if (fresh.has(alert.id)) tr.classList.add("fresh");
    const severity = element("td", "sev");
    const badge = element("span", "sev-badge");
    badge.append(element("span", "sev-icon", ICON[alert.severity] || "○"),
                 " " + t("alerts.severity." + alert.severity));
    severity.appendChild(badge);
    const what = element("td", "what");
    what.append(element("span", "headline", alert.headline));
    if (alert.event && alert.event !== alert.headline) {
      what.append(element("span", "alert-event muted", alert.event));
    }
    const status = element("td", "status");
    status.appendChild(element("span", "status-badge st-" + alert.status,
                               t("alerts.status." + alert.status)));
    const camera = element("td", "camera");
    (alert.cameras || []).forEach(function (id, i) {
      if (i) camera.append(", ");
      const link = element("a", "", id);
      link.href = "/cameras/" + encodeURIComponent(id);
      link.tabIndex = -1;
      camera.appendChild(link);
    });
    if (!(alert.cameras || []).length) camera.textContent = "—";
    const count = element("td", "num count", alert.count > 1 ? "×" + alert.count : "");
    const ageCell = element("td", "age", age(alert.raised_at));
    ageCell.dataset.since = alert.raised_at;
    const assigned = element("td", "assigned", alert.assigned_to || "—");
    const origin = element("td", "origin");
    if (alert.origin_agency) {
      origin.appendChild(element("span", "origin-badge", t("alerts.from",
                                                           { agency: alert.origin_agency })));
    } else {
      origin.appendChild(element("span", "muted", t("alerts.own")));
    }
    if (alert.redacted) {
      origin.append(" ", element("span", "redacted-badge", t("alerts.redacted")));
    }
    tr.append(severity, what, status, camera, count, ageCell, assigned, origin);
    tr.setAttribute("aria-selected", String(alert.id === selected));
    return tr;
  }

  let pending = false;
  function render() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      order = Array.from(alerts.values()).sort(compare);
      const rows = document.createDocumentFragment();
      order.forEach(function (alert) { rows.appendChild(row(alert)); });
      body.replaceChildren(rows);
      empty.hidden = order.length > 0;
      const active = order.filter(function (a) { return ACTIVE[a.status]; }).length;
      activeNode.textContent = t("alerts.active_n", { n: active });
      if (selected && !alerts.has(selected)) selected = null;
      markSelected(false);
    });
  }

  function upsert(alert, live) {
    const known = alerts.get(alert.id);
    if (known && known.version > alert.version) return known;  // an older message, late
    alerts.set(alert.id, alert);
    if (live && !known) {
      fresh.set(alert.id, Date.now());
      setTimeout(function () { fresh.delete(alert.id); render(); }, FRESH_MS);
    }
    if (alerts.size > MAX_ALERTS) trim();
    render();
    if (opened === alert.id) showDetail(alert, null);
    return alert;
  }

  function trim() {
    const oldest = Array.from(alerts.values()).sort(compare).reverse();
    for (const alert of oldest) {
      if (alerts.size <= MAX_ALERTS) break;
      if (alert.id !== selected && alert.id !== opened) alerts.delete(alert.id);
    }
  }

  function markSelected(scroll) {
    body.querySelectorAll("tr.alert-row").forEach(function (tr) {
      const on = tr.dataset.alertId === selected;
      tr.classList.toggle("selected", on);
      tr.setAttribute("aria-selected", String(on));
      if (on && scroll) tr.scrollIntoView({ block: "nearest" });
    });
  }

  function select(id, scroll) {
    selected = id;
    markSelected(scroll !== false);
  }

  function move(step) {
    if (!order.length) return;
    const at = order.findIndex(function (a) { return a.id === selected; });
    const next = at < 0 ? 0 : Math.min(order.length - 1, Math.max(0, at + step));
    select(order[next].id);
  }

  // The age column ticks every second.
  setInterval(function () {
    body.querySelectorAll("td.age").forEach(function (cell) {
      cell.textContent = age(cell.dataset.since);
    });
    if (opened && alerts.has(opened)) {
      const field = detail.querySelector("[data-field='age']");
      if (field) field.textContent = age(alerts.get(opened).raised_at);
    }
  }, 1000);

  // --- talking to the API ------------------------------------------------------------------
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
    try {
      const problem = (await response.json()).error || {};
      why = problem.message || why;
    } catch (error) { /* not JSON: keep the status line */ }
    throw new Error(why);
  }

  function say(text, failed) {
    message.textContent = text;
    message.classList.toggle("failed", Boolean(failed));
    message.hidden = false;
  }

  async function act(action, note) {
    const alert = selected && alerts.get(selected);
    if (!alert || !config.canHandle) return;
    const name = t("alerts.action." + action);
    try {
      const changed = await api("POST", "/api/v1/alerts/" + encodeURIComponent(alert.id) + "/" +
                                action, note ? { note: note } : null);
      upsert(changed, false);
      say(t("alerts.done", { status: t("alerts.status." + changed.status),
                             headline: changed.headline }), false);
      if (opened === changed.id) openDetail(changed.id);  // the timeline grew
    } catch (error) {
      say(t("alerts.failed", { action: name.toLowerCase(), why: error.message }), true);
    }
  }

  async function resync() {
    try {
      const fresh = await api("GET", "/api/v1/alerts?limit=200");
      fresh.forEach(function (alert) { upsert(alert, false); });
    } catch (error) { /* the stream's own state says we are offline */ }
  }

  // --- the detail panel --------------------------------------------------------------------
  function field(list, label, value, name) {
    if (value === null || value === undefined || value === "") return;
    const dd = element("dd", "", value);
    if (name) dd.dataset.field = name;
    list.append(element("dt", "", label), dd);
  }

  function showDetail(alert, timeline) {
    detail.dataset.alertId = alert.id;
    detail.dataset.status = alert.status;
    detailNone.hidden = true;
    detailBody.hidden = false;
    const badge = detailBody.querySelector(".detail-headline .sev-badge");
    badge.className = "sev-badge sev-" + alert.severity;
    badge.textContent = (ICON[alert.severity] || "○") + " " + t("alerts.severity." + alert.severity);
    detailBody.querySelector(".detail-headline .headline").textContent = alert.headline;
    const fields = detailBody.querySelector(".detail-fields");
    fields.replaceChildren();
    field(fields, texts["alerts.col.status"], t("alerts.status." + alert.status), "status");
    field(fields, texts["alerts.description"], alert.description, "description");
    field(fields, texts["alerts.col.camera"], (alert.cameras || []).join(", "), "cameras");
    field(fields, texts["alerts.col.count"], alert.count > 1 ? "×" + alert.count : "1", "count");
    field(fields, texts["alerts.raised_at"], new Date(alert.raised_at).toLocaleString(), "raised");
    field(fields, texts["alerts.col.age"], age(alert.raised_at), "age");
    field(fields, texts["alerts.raised_by"], alert.raised_by, "raised_by");
    field(fields, texts["alerts.col.assigned"], alert.assigned_to, "assigned");
    if (alert.escalation_level) field(fields, texts["alerts.level"], alert.escalation_level, "level");
    if (alert.origin_agency) {
      field(fields, texts["alerts.col.origin"], t("alerts.from", { agency: alert.origin_agency }) +
            (alert.redacted ? " · " + texts["alerts.redacted"] : ""), "origin");
    }
    detailBody.querySelectorAll(".detail-actions button").forEach(function (button) {
      const action = button.dataset.action;
      const open = alert.status === "open", active = Boolean(ACTIVE[alert.status]);
      button.disabled = action === "acknowledge" ? !open : !active;
    });
    media(alert);
    if (timeline) showTimeline(timeline);
  }

  function media(alert) {
    const box = detailBody.querySelector(".detail-media");
    const withheld = box.querySelector(".withheld");
    const snapshot = box.querySelector(".snapshot");
    const image = snapshot.querySelector("img");
    const clip = box.querySelector(".clip");
    const video = clip.querySelector("video");
    const refused = box.querySelector(".media-refused");
    const base = "/api/v1/alerts/" + encodeURIComponent(alert.id);
    withheld.hidden = !alert.media_withheld;
    const wantSnapshot = alert.has_snapshot && !alert.media_withheld && config.canFootage;
    const wantClip = alert.has_clip && !alert.media_withheld && config.canFootage;
    // Each fetch of the media is an audited access: ask again only when the alert changed.
    const key = alert.id + ":" + alert.version;
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    refused.hidden = true;
    snapshot.hidden = !wantSnapshot;
    if (wantSnapshot) {
      image.onerror = function () { snapshot.hidden = true; refused.hidden = false; };
      image.src = base + "/snapshot.jpg?v=" + alert.version;
    } else {
      image.removeAttribute("src");
    }
    clip.hidden = !wantClip;
    if (wantClip) {
      if (video.dataset.src !== base) { video.src = base + "/clip.mp4"; video.dataset.src = base; }
    } else {
      video.removeAttribute("src");
      delete video.dataset.src;
      video.load();
    }
  }

  function showTimeline(timeline) {
    const list = detailBody.querySelector(".timeline");
    list.replaceChildren();
    timeline.slice().reverse().forEach(function (action) {
      const item = element("li", "tl-" + action.kind);
      const time = element("time", "", new Date(action.at).toLocaleTimeString());
      time.dateTime = action.at;
      item.append(time, " ", element("strong", "", t("alerts.kind." + action.kind)), " · ",
                  element("span", "muted", action.by));
      if (action.note) item.appendChild(element("div", "note", action.note));
      list.appendChild(item);
    });
  }

  async function openDetail(id) {
    const alert = alerts.get(id);
    if (!alert) return;
    opened = id;
    showDetail(alert, []);
    try {
      const full = await api("GET", "/api/v1/alerts/" + encodeURIComponent(id));
      if (opened !== id) return;
      const timeline = full.timeline || [];
      delete full.timeline;
      upsert(full, false);
      showTimeline(timeline);
    } catch (error) {
      say(error.message, true);
    }
  }

  function closeDetail() {
    opened = null;
    detail.dataset.alertId = "";
    detailBody.hidden = true;
    detailNone.hidden = false;
    const video = detailBody.querySelector("video");
    video.pause();
  }

  // --- dismissing asks why -------------------------------------------------------------------
  function askDismiss() {
    const alert = selected && alerts.get(selected);
    if (!alert || !config.canHandle || !ACTIVE[alert.status]) return;
    dismissForm.reset();
    dismissForm.querySelector(".form-error").hidden = true;
    dismissForm.querySelector(".dismiss-which").textContent = alert.headline;
    dismissDialog.dataset.alertId = alert.id;
    dismissDialog.showModal();
    dismissForm.elements.reason.focus();
  }
  dismissForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const reason = dismissForm.elements.reason.value.trim();
    if (!reason) {
      dismissForm.querySelector(".form-error").hidden = false;
      dismissForm.elements.reason.focus();
      return;
    }
    dismissDialog.close();
    select(dismissDialog.dataset.alertId, false);
    act("dismiss", reason);
  });
  dismissForm.querySelector("[data-close]").addEventListener("click", function () {
    dismissDialog.close();
  });

  // --- keyboard and buttons ------------------------------------------------------------------
  function typing(target) {
    return target && (target.isContentEditable ||
                      /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  document.addEventListener("keydown", function (event) {
    arm();
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (dismissDialog.open || helpDialog.open) return;  // the dialogs handle their own keys
    const key = event.key;
    const handled = {
      j: function () { move(1); }, ArrowDown: function () { move(1); },
      k: function () { move(-1); }, ArrowUp: function () { move(-1); },
      Enter: function () { if (selected) openDetail(selected); },
      a: function () { act("acknowledge"); }, e: function () { act("escalate"); },
      d: askDismiss, c: function () { act("close"); },
      "?": function () { helpDialog.showModal(); },
      Escape: closeDetail,
    }[key];
    if (!handled) return;
    if (key === "Enter" && event.target.closest && event.target.closest("button, a")) return;
    event.preventDefault();
    handled();
  });

  body.addEventListener("click", function (event) {
    if (event.target.closest("a")) return;
    const tr = event.target.closest("tr.alert-row");
    if (!tr) return;
    select(tr.dataset.alertId, false);
    openDetail(tr.dataset.alertId);
  });
  detail.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-action]");
    if (!button || !opened) return;
    select(opened, false);
    if (button.dataset.action === "dismiss") askDismiss();
    else act(button.dataset.action);
  });
  // One click turns the opened alert into an incident (ADR 0034) and opens its page.
  const incidentButton = document.getElementById("alert-incident");
  if (incidentButton) {
    incidentButton.addEventListener("click", async function () {
      if (!opened) return;
      incidentButton.disabled = true;
      try {
        const made = await api("POST", "/api/v1/incidents/from-alert", { alert_id: opened });
        window.location.assign("/incidents/" + encodeURIComponent(made.id));
      } catch (error) {
        say(t("incidents.create_failed", { why: error.message }), true);
        incidentButton.disabled = false;
      }
    });
  }
  document.getElementById("alerts-help-open").addEventListener("click", function () {
    helpDialog.showModal();
  });

  // --- sound: Web Audio, armed by the first user gesture (browsers' autoplay rules) -----------
  let audio = null;
  let muted = false;
  try { muted = localStorage.getItem(MUTE_KEY) === "1"; } catch (error) { /* private mode */ }

  function arm() {
    if (audio || !(window.AudioContext || window.webkitAudioContext)) return;
    const Context = window.AudioContext || window.webkitAudioContext;
    audio = new Context();
    audio.resume().finally(function () { page.dataset.audio = audio.state; });
  }
  document.addEventListener("pointerdown", arm);

  function paintMute() {
    muteButton.setAttribute("aria-pressed", String(muted));
    muteButton.querySelector(".icon").textContent = muted ? "∅" : "♪";
    muteButton.querySelector(".label").textContent = t(muted ? "alerts.sound_off"
                                                             : "alerts.sound_on");
  }
  muteButton.addEventListener("click", function () {
    muted = !muted;
    try { localStorage.setItem(MUTE_KEY, muted ? "1" : "0"); } catch (error) { /* private */ }
    paintMute();
  });
  paintMute();

  // Two (Severe) or three (Extreme) short rising tones; nothing to download.
  function chime(severity) {
    if (muted) return;
    page.dataset.chimes = String(Number(page.dataset.chimes || 0) + 1);
    if (!audio || audio.state !== "running") return;  // not armed yet: counted, not heard
    const beeps = severity === "Extreme" ? 3 : 2;
    const start = audio.currentTime + 0.02;
    for (let i = 0; i < beeps; i++) {
      const at = start + i * 0.22;
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.type = "sine";
      tone.frequency.setValueAtTime(i % 2 ? 1180 : 880, at);
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
      tone.connect(gain).connect(audio.destination);
      tone.start(at);
      tone.stop(at + 0.2);
    }
    page.dataset.heard = String(Number(page.dataset.heard || 0) + 1);
  }

  // --- live ---------------------------------------------------------------------------------
  function setState(name) {
    stateNode.dataset.state = name;
    stateNode.textContent = t("alerts." + name);
  }
  let dropped = false;
  const source = new EventSource("/api/v1/alerts/stream");
  source.addEventListener("open", function () {
    setState("connected");
    if (dropped) resync();  // what changed while we were away is not replayed
    dropped = false;
  });
  source.addEventListener("error", function () {
    dropped = true;
    setState(source.readyState === EventSource.CLOSED ? "disconnected" : "reconnecting");
  });
  ["AlertRaised", "AlertChanged"].forEach(function (type) {
    source.addEventListener(type, function (event) {
      let alert;
      try { alert = JSON.parse(event.data); } catch (error) { return; }
      if (!alert || !alert.id) return;
      const isNew = !alerts.has(alert.id);
      upsert(alert, true);
      if (type === "AlertRaised" && isNew && config.loud.indexOf(alert.severity) >= 0) {
        chime(alert.severity);
      }
    });
  });
  window.addEventListener("pagehide", function () { source.close(); });

  config.alerts.forEach(function (alert) { alerts.set(alert.id, alert); });
  if (config.alerts.length) selected = Array.from(alerts.values()).sort(compare)[0].id;
  render();
})();
