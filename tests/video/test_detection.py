"""Object detectors: the shipped person model on real footage, its checksum, YOLO decoding on
small real ONNX models whose output is a known tensor, and detection inside regions."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sereno.video.detection import (
    PERSON_MODEL_PATH,
    PERSON_MODEL_SHA256,
    Detection,
    Detector,
    DetectorError,
    ModelChecksumMismatch,
    SsdDetector,
    YoloDetector,
    build_detector,
    default_person_detector,
    detect_in_regions,
    expand_region,
    parse_names,
    sha256_file,
)

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # Debian opencv-doc
# Frames checked by eye: 4-6 walkers each, well lit, none at the image border.
PERSON_FRAMES = (100, 200, 300)
needs_vtest = pytest.mark.skipif(not VTEST.exists(), reason="Debian opencv-doc not installed")


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


# --- the shipped person detector on real footage -------------------------------------------

@pytest.fixture(scope="module")
def vtest_frames() -> dict[int, npt.NDArray[np.uint8]]:
    if not VTEST.exists():
        pytest.skip("Debian opencv-doc not installed")
    frames: dict[int, npt.NDArray[np.uint8]] = {}
    with av.open(str(VTEST)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in PERSON_FRAMES:
                frames[index] = np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
            if index >= max(PERSON_FRAMES):
                break
    return frames


@pytest.fixture(scope="module")
def person_detector() -> Detector:
    return default_person_detector()


@needs_vtest
def test_person_detector_finds_the_walkers(vtest_frames: dict[int, npt.NDArray[np.uint8]],
                                           person_detector: Detector) -> None:
    assert person_detector.class_names == ("person",)
    assert person_detector.input_size == (300, 300)
    frames = [vtest_frames[i] for i in PERSON_FRAMES]
    results = person_detector.detect(frames)
    assert len(results) == len(frames)
    for frame, detections in zip(frames, results, strict=True):
        height, width = frame.shape[:2]
        confident = [d for d in detections if d.confidence > 0.5]
        assert len(confident) >= 3
        for d in detections:
            assert d.class_name == "person"
            assert d.class_id == 0
            x1, y1, x2, y2 = d.box
            assert 0 <= x1 < x2 <= width
            assert 0 <= y1 < y2 <= height
            # Pedestrians seen from a first floor: upright boxes of a plausible size.
            assert d.height > d.width
            assert 30 < d.height < height / 2
    # The man walking towards the camera on the right of frame 200 (checked by eye).
    assert any(d.box[0] < 632 < d.box[2] and d.box[1] < 320 < d.box[3] for d in results[1])


@needs_vtest
def test_batched_and_single_frames_agree(vtest_frames: dict[int, npt.NDArray[np.uint8]],
                                         person_detector: Detector) -> None:
    frame = vtest_frames[200]
    alone = person_detector.detect([frame])[0]
    batched = person_detector.detect([vtest_frames[100], frame])[1]
    assert len(alone) == len(batched)
    for a, b in zip(alone, batched, strict=True):
        assert a.confidence == pytest.approx(b.confidence, abs=1e-4)
        assert np.allclose(a.box, b.box, atol=0.5)
    assert person_detector.detect([]) == []


@needs_vtest
def test_person_detection_in_a_motion_region(vtest_frames: dict[int, npt.NDArray[np.uint8]],
                                             person_detector: Detector) -> None:
    frame = vtest_frames[200]
    whole = person_detector.detect([frame])[0]
    walker = next(d for d in whole if d.box[0] < 632 < d.box[2] and d.box[1] < 320 < d.box[3])
    x1, y1, x2, y2 = (round(v) for v in walker.box)
    found = detect_in_regions(person_detector, frame, [(x1, y1 + 20, x2, y2 - 20)])
    assert found, "the person inside the motion region was not found in its crop"
    best = max(found, key=lambda d: d.confidence)
    assert best.confidence > 0.5
    assert _iou(best.box, walker.box) > 0.6  # mapped back onto the same person in the frame
    crop = expand_region((x1, y1 + 20, x2, y2 - 20), (frame.shape[1], frame.shape[0]))
    assert crop is not None
    for d in found:  # nothing from outside the crop
        assert crop[0] <= d.box[0] and d.box[2] <= crop[2]
        assert crop[1] <= d.box[1] and d.box[3] <= crop[3]


# --- checksums -----------------------------------------------------------------------------

def test_shipped_model_matches_its_recorded_checksum() -> None:
    assert sha256_file(PERSON_MODEL_PATH) == PERSON_MODEL_SHA256
    provenance = (PERSON_MODEL_PATH.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    assert PERSON_MODEL_SHA256 in provenance
    assert (PERSON_MODEL_PATH.parent / "LICENSE-person-ssdlite.txt").read_text(
        encoding="utf-8").startswith("MIT License")


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    tampered = tmp_path / PERSON_MODEL_PATH.name
    shutil.copyfile(PERSON_MODEL_PATH, tampered)
    with tampered.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelChecksumMismatch, match="refusing to load") as caught:
        SsdDetector(tampered, sha256=PERSON_MODEL_SHA256)
    assert PERSON_MODEL_SHA256 in caught.value.message
    assert caught.value.code == "model_checksum_mismatch"


def test_a_wrong_configured_checksum_is_refused() -> None:
    config = {"kind": "ssd", "path": str(PERSON_MODEL_PATH), "sha256": "ab" * 32}
    with pytest.raises(ModelChecksumMismatch, match=f"expected {'ab' * 32}"):
        build_detector(config)


def test_bad_configs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DetectorError, match="unknown detector config keys"):
        build_detector({"kind": "ssd", "treshold": 0.3})
    with pytest.raises(DetectorError, match="kind"):
        build_detector({"kind": "rcnn", "path": "x.onnx"})
    with pytest.raises(DetectorError, match="needs the path"):
        build_detector({"kind": "yolov8"})
    with pytest.raises(DetectorError, match="confidence"):
        build_detector({"kind": "ssd", "confidence": 1.5})
    with pytest.raises(DetectorError, match="not found"):
        build_detector({"kind": "yolov8", "path": "absent.onnx"}, models_dir=tmp_path)


# --- YOLO decoding on tiny real ONNX models ------------------------------------------------

COCO3 = "{0: 'person', 1: 'bicycle', 2: 'car'}"  # how Ultralytics writes metadata names
CANDIDATES = 20  # more candidates than channels, like a real export (8400 x 84)


def _yolo_model(path: Path, prediction: npt.NDArray[np.float32], *, size: int = 320,
                batch: int | str = "batch", names: str | None = COCO3) -> Path:
    """An ONNX model with a real image input whose output is ``prediction`` for every image.

    output = prediction + 0 * sum(image): the input is consumed, the output keeps the batch size.
    """
    nodes = [
        helper.make_node("Constant", [], ["prediction"],
                         value=numpy_helper.from_array(prediction[None], "prediction")),
        helper.make_node("Constant", [], ["axes"],
                         value=numpy_helper.from_array(np.array([1, 2, 3], np.int64), "axes")),
        helper.make_node("Constant", [], ["unsqueeze"],
                         value=numpy_helper.from_array(np.array([1, 2], np.int64), "unsqueeze")),
        helper.make_node("Constant", [], ["zero"],
                         value=numpy_helper.from_array(np.array(0, np.float32), "zero")),
        helper.make_node("ReduceSum", ["images", "axes"], ["total"], keepdims=0),
        helper.make_node("Unsqueeze", ["total", "unsqueeze"], ["total3"]),
        helper.make_node("Mul", ["total3", "zero"], ["nothing"]),
        helper.make_node("Add", ["prediction", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes, "constant-yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT,
                                       [batch, *prediction.shape])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if names is not None:
        helper.set_model_props(model, {"names": names, "task": "detect"})
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def _rows(*candidates: Sequence[float], width: int) -> npt.NDArray[np.float32]:
    rows = np.zeros((CANDIDATES, width), np.float32)
    rows[:len(candidates)] = np.array(candidates, np.float32)
    return rows


# In model-input pixels of a 320x320 input, as cx, cy, w, h.
PERSON = (100.0, 140.0, 40.0, 80.0)
PERSON_AGAIN = (102.0, 142.0, 40.0, 80.0)  # the same person, a little shifted: a duplicate
EDGE = (300.0, 250.0, 60.0, 40.0)  # runs past the letterboxed frame's right edge


def _v8_prediction() -> npt.NDArray[np.float32]:
    rows = _rows((*PERSON, 0.9, 0.0, 0.0),
                 (*PERSON_AGAIN, 0.8, 0.0, 0.0),  # suppressed by the first (same class)
                 (*PERSON_AGAIN, 0.0, 0.0, 0.7),  # a car on the same spot: another class, kept
                 (*EDGE, 0.0, 0.2, 0.0),  # below the confidence threshold
                 (*EDGE, 0.0, 0.6, 0.0), width=7)
    return np.ascontiguousarray(rows.T)  # [4 + C, N]


def _v5_prediction() -> npt.NDArray[np.float32]:
    return _rows((*PERSON, 0.95, 0.95, 0.0, 0.0),  # 0.9025
                 (*PERSON_AGAIN, 0.9, 0.9, 0.0, 0.0),  # 0.81, suppressed
                 (*PERSON_AGAIN, 0.8, 0.0, 0.0, 0.9),  # car 0.72
                 (*EDGE, 0.3, 0.0, 1.0, 0.0),  # certain class, unlikely object: 0.3, dropped
                 (*EDGE, 0.75, 0.0, 0.8, 0.0), width=8)  # bicycle 0.6


def _assert_decoded(found: list[Detection], *, v5: bool) -> None:
    # Frame 640x480 into 320x320: scale 0.5, 320x240 image padded by 40 rows above.
    assert [(d.class_name, d.class_id) for d in found] == [
        ("person", 0), ("car", 2), ("bicycle", 1)]
    person, car, bicycle = found
    assert person.confidence == pytest.approx(0.9025 if v5 else 0.9, abs=1e-6)
    assert car.confidence == pytest.approx(0.72 if v5 else 0.7, abs=1e-6)
    assert bicycle.confidence == pytest.approx(0.6, abs=1e-6)
    # xyxy (80, 100, 120, 180) in the input -> ((80-0)/0.5, (100-40)/0.5, ...) in the frame
    assert person.box == pytest.approx((160.0, 120.0, 240.0, 280.0))
    assert car.box == pytest.approx((164.0, 124.0, 244.0, 284.0))
    # xyxy (270, 230, 330, 270) -> (540, 380, 660, 460), clipped to the 640-wide frame
    assert bicycle.box == pytest.approx((540.0, 380.0, 640.0, 460.0))


def test_yolov8_decoding_nms_and_letterbox(tmp_path: Path) -> None:
    model = _yolo_model(tmp_path / "v8.onnx", _v8_prediction())
    detector = YoloDetector(model, layout="yolov8", confidence=0.4)
    assert detector.class_names == ("person", "bicycle", "car")  # from the metadata
    assert detector.input_size == (320, 320)
    frame = np.zeros((480, 640, 3), np.uint8)
    _assert_decoded(detector.detect([frame])[0], v5=False)


def test_yolov5_decoding_uses_objectness(tmp_path: Path) -> None:
    model = _yolo_model(tmp_path / "v5.onnx", _v5_prediction())
    detector = YoloDetector(model, layout="yolov5", confidence=0.4)
    frame = np.zeros((480, 640, 3), np.uint8)
    _assert_decoded(detector.detect([frame])[0], v5=True)


def test_layout_is_detected_from_the_output_shape(tmp_path: Path) -> None:
    v8 = _yolo_model(tmp_path / "v8.onnx", _v8_prediction(), names=None)
    v5 = _yolo_model(tmp_path / "v5.onnx", _v5_prediction(), names=None)
    assert YoloDetector(v8).layout == "yolov8"
    assert YoloDetector(v5).layout == "yolov5"
    # Without metadata names the classes are numbered; configured names win over metadata.
    assert YoloDetector(v8).class_names == ("class0", "class1", "class2")
    named = build_detector({"kind": "yolo", "path": "v8.onnx",
                            "classes": ["pedestrian", "bike", "vehicle"]}, models_dir=tmp_path)
    assert named.class_names == ("pedestrian", "bike", "vehicle")
    with pytest.raises(DetectorError, match="3 classes but 2 class names"):
        YoloDetector(v8, class_names=["car", "truck"])


def test_each_frame_of_a_batch_is_unmapped_by_its_own_letterbox(tmp_path: Path) -> None:
    model = _yolo_model(tmp_path / "v8.onnx", _v8_prediction())  # dynamic batch
    fixed = _yolo_model(tmp_path / "v8-b1.onnx", _v8_prediction(), batch=1)
    landscape = np.zeros((480, 640, 3), np.uint8)
    portrait = np.zeros((640, 320, 3), np.uint8)  # scale 0.5, 160 wide, padded 80 left
    for path in (model, fixed):
        detector = build_detector({"kind": "yolov8", "path": str(path), "confidence": 0.4,
                                   "sha256": sha256_file(path)})
        first, second = detector.detect([landscape, portrait])
        _assert_decoded(first, v5=False)
        person = next(d for d in second if d.class_name == "person")
        # xyxy (80, 100, 120, 180) -> ((80-80)/0.5, 100/0.5, (120-80)/0.5, 180/0.5)
        assert person.box == pytest.approx((0.0, 200.0, 80.0, 360.0))
        # The bicycle maps to x 380..500, right of the 320-wide frame (in the padding): dropped.
        assert [d.class_name for d in second] == ["person", "car"]


def test_metadata_names_parse() -> None:
    assert parse_names(COCO3) == ["person", "bicycle", "car"]
    assert parse_names('["car", "truck"]') == ["car", "truck"]
    assert parse_names('{"0": "car", "1": "bus"}') == ["car", "bus"]
    with pytest.raises(DetectorError):
        parse_names("{0: 'car', 2: 'bus'}")
    with pytest.raises(DetectorError):
        parse_names("__import__('os')")


# --- detection inside regions ----------------------------------------------------------------

def test_crop_regions_map_boxes_back(tmp_path: Path) -> None:
    model = _yolo_model(tmp_path / "v8.onnx", _v8_prediction())
    detector = YoloDetector(model, confidence=0.4)
    frame = np.zeros((800, 1000, 3), np.uint8)
    region = (500, 400, 560, 460)
    crop = expand_region(region, (1000, 800))
    # 60 px grown by 15% each side is 78 px, less than the 96 px minimum: a 96 px square.
    assert crop == (482, 382, 578, 478)
    found = detect_in_regions(detector, frame, [region])
    person = next(d for d in found if d.class_name == "person")
    # The 96 px crop fills the 320 px input (scale 10/3, no padding).
    scale = 96 / 320
    assert person.box == pytest.approx((482 + 80 * scale, 382 + 100 * scale,
                                        482 + 120 * scale, 382 + 180 * scale))
    assert len(found) == 3  # the duplicate suppressed, the low score dropped


def test_regions_at_the_border_and_outside() -> None:
    assert expand_region((-50, -50, -10, -10), (640, 480)) is None
    # Near the corner the crop is shifted inside the frame, not shrunk.
    assert expand_region((600, 440, 640, 480), (640, 480)) == (544, 384, 640, 480)
    # A crop larger than the frame is the frame.
    assert expand_region((0, 0, 640, 480), (640, 480)) == (0, 0, 640, 480)


def test_large_regions_detect_the_whole_frame_and_keep_what_they_touch(tmp_path: Path) -> None:
    model = _yolo_model(tmp_path / "v8.onnx", _v8_prediction())
    detector = YoloDetector(model, confidence=0.4)
    frame = np.zeros((480, 640, 3), np.uint8)
    # Covers the left 70% of the frame: one whole-frame pass, the bicycle at x 540+ is outside.
    found = detect_in_regions(detector, frame, [(0, 0, 448, 480)])
    assert [d.class_name for d in found] == ["person", "car"]
    assert found[0].box == pytest.approx((160.0, 120.0, 240.0, 280.0))
    assert detect_in_regions(detector, frame, []) == []
