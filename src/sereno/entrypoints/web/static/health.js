// Stream health of the camera, from /api/v1/cameras/{id}/health every 5 s.
(function () {
  "use strict";
  const panel = document.getElementById("stream-health");
  if (!panel) return;
  const note = panel.querySelector("[data-field='note']");
  function show(field, value) {
    const node = panel.querySelector("dd[data-field='" + field + "']");
    if (node) node.textContent = value === null || value === undefined || value === "" ? "—"
                                                                                        : value;
  }
  function refresh() {
    if (document.hidden) return;
    fetch(panel.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        const s = body.stream;
        panel.dataset.reported = s ? "yes" : "no";
        note.textContent = s ? "" : note.dataset.none;
        if (!s) return;
        show("online", s.online ? note.dataset.yes : note.dataset.no);
        show("fps", s.fps.toFixed(1));
        show("bitrate_kbps", Math.round(s.bitrate_kbps) + " kbit/s");
        show("resolution", s.width && s.height ? s.width + "×" + s.height + " " + s.codec : "");
        show("last_frame_age_s", s.last_frame_age_s === null ? "" : s.last_frame_age_s.toFixed(1) + " s");
        show("decode_errors", String(s.decode_errors));
        show("reconnects", String(s.reconnects));
        show("last_error", s.last_error);
      })
      .catch(function () { /* the next round will try again */ });
  }
  refresh();
  setInterval(refresh, 5000);
})();
