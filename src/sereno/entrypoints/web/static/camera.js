// Refresh the live snapshot; show when it fails instead of a broken image.
(function () {
  "use strict";
  const image = document.getElementById("snapshot");
  const status = document.getElementById("snapshot-status");
  const every = Math.max(1, Number(image.dataset.refresh || 5)) * 1000;
  image.addEventListener("load", function () {
    status.textContent = new Date().toLocaleTimeString();
    image.dataset.loaded = String(Number(image.dataset.loaded || 0) + 1);
  });
  image.addEventListener("error", function () { status.textContent = image.dataset.unavailable; });
  setInterval(function () {
    if (document.hidden) return;  // no footage requests for a tab nobody looks at
    image.src = image.dataset.src + "?t=" + Date.now();
  }, every);
})();
