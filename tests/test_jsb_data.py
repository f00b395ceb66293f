"""The committed Bach chorale piano rolls (book/data/jsb_chorales.npz) and the script that made them.

The file is read with NumPy only. Rebuilding chorales needs music21 (an optional extra): without it those
tests are skipped with a message, except under CI (``CI=true``), where a missing music21 is a failure.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from course_lib.jsb import JSB_PATH, SPLITS, load_jsb, nll_per_step, pad_batch

HAVE_MUSIC21 = importlib.util.find_spec("music21") is not None
needs_music21 = pytest.mark.skipif(
    not HAVE_MUSIC21 and os.environ.get("CI") != "true",
    reason="music21 is not installed (pip install music21, the 'data' extra): needed to rebuild chorales",
)


def test_file_holds_a_documented_split():
    data = load_jsb()
    counts = {s: len(data[s]) for s in SPLITS}
    total = sum(counts.values())
    assert total > 350  # of the 433 files under music21/corpus/bach, the MusicXML SATB chorales, deduplicated
    assert abs(counts["test"] / total - 0.2) < 0.01 and abs(counts["valid"] / total - 0.2) < 0.01
    names = sum((data["names"][s] for s in SPLITS), [])
    assert len(set(names)) == total
    for s in SPLITS:
        for roll in data[s]:
            assert roll.shape[1] == 88 and roll.shape[0] >= 2 and roll.dtype == np.float32
            assert roll.max() == 1.0 and roll.sum(1).max() <= 4  # four voices: at most four keys at a time
    with np.load(JSB_PATH) as f:  # the split rule of make_jsb: position in the name-sorted list, modulo 5
        split = f["split"]
        assert list(f["names"]) == sorted(f["names"])
    np.testing.assert_array_equal(split, [{0: 2, 1: 1}.get(i % 5, 0) for i in range(len(split))])


def test_pad_batch_and_nll():
    rolls = [np.eye(88, dtype=np.float32)[[60, 62, 64]], np.eye(88, dtype=np.float32)[[40, 41]]]
    X, Y, mask = pad_batch(rolls)
    assert X.shape == Y.shape == (2, 2, 88) and mask.tolist() == [[1, 1], [1, 0]]
    np.testing.assert_array_equal(Y[0, 0], rolls[0][1])
    p = np.full(Y.shape, 0.5)
    assert np.isclose(nll_per_step(p, Y, mask), 88 * np.log(2))  # 88 fair coins per step
    assert nll_per_step(np.where(Y > 0, 0.9, 0.1), Y, mask) < nll_per_step(p, Y, mask)


@needs_music21
def test_rebuilding_the_first_chorales_gives_the_committed_rolls(tmp_path):
    from course_lib.experiments import make_jsb

    rolls, names, split = make_jsb.build(limit=6)
    with np.load(JSB_PATH) as f:
        stored_names = list(f["names"][: len(names)])
        lengths = f["lengths"][: len(names)]
        stored = np.unpackbits(f["roll"][: int(lengths.sum())], axis=1)[:, :88].astype(bool)
        stored_split = f["split"][: len(names)]
    assert names == stored_names
    np.testing.assert_array_equal([r.shape[0] for r in rolls], lengths)
    np.testing.assert_array_equal(np.concatenate(rolls), stored)
    np.testing.assert_array_equal(split, stored_split)
    out = tmp_path / "few.npz"
    assert make_jsb.main(["--limit", "3", "--out", str(out)]) == 0
    few = load_jsb(out)
    assert sum(len(few[s]) for s in SPLITS) == 3
