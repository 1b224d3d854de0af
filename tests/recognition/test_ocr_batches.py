"""The recogniser reads lines in small chunks (bounded memory) with the readings of one batch, and
the text detector gives its arena back after large passes without changing what it finds.
Real PP-OCRv4 models (they ship inside the rapidocr wheel); lines drawn with OpenCV."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

from camfind.analysis.stages import limit_malloc_arenas
from camfind.recognition import ocr_rapid
from camfind.recognition.ocr_rapid import RapidOcrBackend

TEXTS = ["51F-598.81", "29-H1", "643.97", "30A 12345", "59-X1 234.56", "HN", "88-F1 588.12", "7", "75-H1 357.92"]


@pytest.fixture(scope="module")
def ocr() -> RapidOcrBackend:
    return RapidOcrBackend()


def _line(text: str, scale: float) -> np.ndarray:
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    img = np.full((h + base + 12, w + 12, 3), 255, np.uint8)
    cv2.putText(img, text, (6, h + 6), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 2, cv2.LINE_AA)
    return img


def test_chunked_recognition_reads_as_one_batch(ocr: RapidOcrBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [_line(t, 0.6 + 0.15 * (k % 4)) for k, t in enumerate(TEXTS * 2)]
    calls: list[int] = []
    run = RapidOcrBackend._run

    def counted(session: object, batch: np.ndarray, options: object = None) -> np.ndarray:
        calls.append(len(batch))
        return run(session, batch, options)

    monkeypatch.setattr(RapidOcrBackend, "_run", staticmethod(counted))
    monkeypatch.setattr(ocr_rapid, "REC_BATCH", 1000)
    whole = ocr.recognize(lines)
    assert calls == [len(lines)]
    calls.clear()
    monkeypatch.setattr(ocr_rapid, "REC_BATCH", 4)
    chunked = ocr.recognize(lines)
    assert len(calls) > 1 and max(calls) <= 4 and sum(calls) == len(lines)
    assert [r.text for r in chunked] == [r.text for r in whole]
    assert np.allclose([r.confidence for r in chunked], [r.confidence for r in whole], atol=1e-4)
    assert sum(r.text.replace(" ", "") == t.replace(" ", "") for r, t in zip(whole, TEXTS * 2, strict=True)) >= 12


def test_a_large_detection_pass_gives_its_memory_back_and_finds_the_same(
    ocr: RapidOcrBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = np.full((1000, 1200, 3), 200, np.uint8)
    for k, t in enumerate(TEXTS):
        scene[80 + 100 * k : 80 + 100 * k + 60, 100 : 100 + 400] = cv2.resize(_line(t, 1.2), (400, 60))
    shrunk: list[bool] = []
    run = RapidOcrBackend._run

    def noted(session: object, batch: np.ndarray, options: object = None) -> np.ndarray:
        shrunk.append(options is not None)
        return run(session, batch, options)

    monkeypatch.setattr(RapidOcrBackend, "_run", staticmethod(noted))
    large = ocr.detect(scene, max_side=1280)
    small = ocr.detect(scene, max_side=480)
    assert shrunk == [True, False]  # 1280x1088 is over SHRINK_AFTER_PX, 480x416 is not
    monkeypatch.setattr(ocr_rapid, "SHRINK_AFTER_PX", 10**9)
    assert ocr.detect(scene, max_side=1280) == large and len(large) >= len(TEXTS) - 3
    assert small


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_malloc_arenas_are_capped_on_glibc() -> None:
    assert limit_malloc_arenas() is True


def test_large_detection_passes_take_turns_while_small_ones_run_beside_them(
        ocr: RapidOcrBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Enrichment threads share the detector: passes over SHRINK_AFTER_PX run one at a time (two
    would hold two large arenas), a small pass does not wait for a large one."""
    import threading
    import time

    active = {"large": 0, "small": 0}
    seen = {"large_at_once": 0, "small_beside_large": 0}
    lock = threading.Lock()
    run = RapidOcrBackend._run

    def watched(session: object, batch: np.ndarray, options: object = None) -> np.ndarray:
        kind = "large" if batch.shape[2] * batch.shape[3] > ocr_rapid.SHRINK_AFTER_PX else "small"
        with lock:
            active[kind] += 1
            seen["large_at_once"] = max(seen["large_at_once"], active["large"])
            if kind == "small" and active["large"]:
                seen["small_beside_large"] += 1
        try:
            time.sleep(0.05 if kind == "large" else 0.0)
            return run(session, batch, options)
        finally:
            with lock:
                active[kind] -= 1

    monkeypatch.setattr(ocr, "_run", watched)
    big = np.full((900, 900, 3), 255, np.uint8)
    small = np.full((200, 300, 3), 255, np.uint8)
    for img, text in ((big, "51F-598.81"), (small, "29-H1")):
        cv2.putText(img, text, (20, img.shape[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3)
    alone = ocr.detect(big, max_side=900)

    def passes(img: np.ndarray, n: int, out: list[object]) -> None:
        for _ in range(n):
            out.append(ocr.detect(img, max_side=max(img.shape[:2])))

    got: list[list[object]] = [[], [], []]
    threads = [threading.Thread(target=passes, args=(big, 3, got[0])),
               threading.Thread(target=passes, args=(big, 3, got[1])),
               threading.Thread(target=passes, args=(small, 20, got[2]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["large_at_once"] == 1
    assert seen["small_beside_large"] > 0
    assert all(boxes == alone for boxes in got[0] + got[1]) and alone
