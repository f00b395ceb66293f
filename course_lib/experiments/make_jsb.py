"""Turn the Bach chorales that ship inside ``music21`` into a small piano-roll file, once.

``python -m course_lib.experiments make_jsb`` writes ``book/data/jsb_chorales.npz``. It is the only code of
the course that imports ``music21`` (an optional extra: ``pip install music21`` or the ``data`` extra of
pyproject.toml); everything else reads the committed ``.npz`` through :mod:`course_lib.jsb`.

What the file holds (the choices are ours; the JSB set of Boulanger-Lewandowski et al. (2012) used by
Chung et al. (2014) was made from other files, so it is a cousin of that data set, not a copy):

* every chorale of ``music21.corpus.getComposer("bach")`` stored as MusicXML (``.mxl``/``.xml``) that has
  exactly four vocal parts named Soprano, Alto, Tenor and Bass (instrumental doublings are left out);
* a piano roll sampled once per quarter note (beat): at step ``k`` a pitch is on when a note of one of the
  four voices sounds at offset ``k`` quarter notes (ties merged, so a held note stays on); 88 keys, MIDI
  21 (A0) to 108 (C8);
* chorales whose roll equals an earlier one exactly are dropped (the corpus holds a few duplicates);
* the split is fixed by position in the list sorted by file name: index % 5 == 0 -> test,
  index % 5 == 1 -> valid, otherwise train (60 / 20 / 20 %, close to the 229 / 76 / 77 of the original set).

Arrays of the file: ``roll`` (total steps, 11) uint8, ``np.packbits`` of the (total steps, 88) boolean roll
along the keys; ``lengths`` (chorales,) steps per chorale; ``names`` (chorales,) file names; ``split``
(chorales,) 0 train / 1 valid / 2 test; ``lowest_midi`` = 21.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from course_lib.experiments import DATA

N_KEYS, LOWEST_MIDI = 88, 21
VOICES = ("soprano", "alto", "tenor", "bass")
DEFAULT_OUT = DATA / "jsb_chorales.npz"


def chorale_paths() -> list[Path]:
    """The MusicXML Bach chorales of the music21 corpus, sorted by file name."""
    from music21 import corpus

    paths = [Path(p) for p in corpus.getComposer("bach") if Path(p).suffix in (".mxl", ".xml")]
    return sorted(paths, key=lambda p: p.name)


def _voice_parts(score):
    """The four vocal parts (Soprano, Alto, Tenor, Bass), or None when the score lacks one of them."""
    found = {}
    for part in score.parts:
        name = (part.partName or part.id or "").strip().lower()
        for voice in VOICES:
            if name.startswith(voice) and voice not in found:
                found[voice] = part
    return [found[v] for v in VOICES] if len(found) == 4 else None


def piano_roll(path) -> np.ndarray | None:
    """The (T, 88) boolean roll of one chorale, one row per quarter note; None if it has no SATB parts."""
    from music21 import converter

    score = converter.parse(str(path))
    parts = _voice_parts(score)
    if parts is None:
        return None
    T = int(np.ceil(float(score.highestTime)))
    roll = np.zeros((T, N_KEYS), dtype=bool)
    for part in parts:
        for note in part.stripTies().flatten().notes:
            start, end = float(note.offset), float(note.offset + note.quarterLength)
            steps = np.arange(
                int(np.ceil(start)), int(np.ceil(end))
            )  # integer offsets k with start <= k < end
            steps = steps[steps < T]
            for pitch in note.pitches:
                key = int(pitch.midi) - LOWEST_MIDI
                if not 0 <= key < N_KEYS:
                    raise ValueError(f"{Path(path).name}: pitch {pitch} outside the 88 keys")
                roll[steps, key] = True
    return roll


def split_of(index: int) -> int:
    """0 train, 1 valid, 2 test, from the position in the name-sorted list of kept chorales."""
    return {0: 2, 1: 1}.get(index % 5, 0)


def build(limit: int | None = None):
    """Rolls, names and split codes of the kept chorales (the first ``limit`` files only, if given)."""
    rolls, names, seen = [], [], set()
    for path in chorale_paths()[:limit]:
        roll = piano_roll(path)
        if roll is None or roll.shape[0] < 2:
            continue
        digest = (roll.shape, np.packbits(roll).tobytes())
        if digest in seen:
            continue
        seen.add(digest)
        rolls.append(roll)
        names.append(path.name)
    split = np.array([split_of(i) for i in range(len(rolls))], dtype=np.int8)
    return rolls, names, split


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.experiments make_jsb", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .npz (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=None, help="read only the first LIMIT files (for tests)")
    args = parser.parse_args(argv)
    rolls, names, split = build(args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        roll=np.packbits(np.concatenate(rolls), axis=1),
        lengths=np.array([r.shape[0] for r in rolls], dtype=np.int32),
        names=np.array(names),
        split=split,
        lowest_midi=np.int32(LOWEST_MIDI),
    )
    counts = np.bincount(split, minlength=3)
    print(
        f"{len(rolls)} chorales (train {counts[0]}, valid {counts[1]}, test {counts[2]}), "
        f"{sum(r.shape[0] for r in rolls)} steps -> {args.out}"
    )
    return 0
