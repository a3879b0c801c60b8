// Refresh the live snapshot; show when it fails instead of a broken image. When the policy door
// refuses, show its reason and stop asking (every refused request is an audited denial).
(function () {
  "use strict";
  const image = document.getElementById("snapshot");
  const status = document.getElementById("snapshot-status");
  const every = Math.max(1, Number(image.dataset.refresh || 5)) * 1000;
  let refused = false;
  image.addEventListener("load", function () {
    status.textContent = new Date().toLocaleTimeString();
    image.dataset.loaded = String(Number(image.dataset.loaded || 0) + 1);
  });
  image.addEventListener("error", function () {
    status.textContent = image.dataset.unavailable;
    fetch(image.src, { credentials: "same-origin" }).then(function (response) {
      if (response.status !== 403) return null;
      refused = true;
      return response.json();
    }).then(function (body) {
      if (body && body.error) {
        status.textContent = (image.dataset.denied || "") + " " + body.error.message;
        status.dataset.denied = "true";
      }
    }).catch(function () { /* keep the generic message */ });
  });
  setInterval(function () {
    if (document.hidden || refused) return;  // no footage requests nobody looks at or may see
    image.src = image.dataset.src + "?t=" + Date.now();
  }, every);
})();
