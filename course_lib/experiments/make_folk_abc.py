"""Turn the folk tunes that ship inside ``music21`` into the chapter's small text file, once.

``python -m course_lib.experiments make_folk_abc`` writes ``book/data/folk_abc.txt``. Like ``make_jsb``
it is the only code of its chapter that imports ``music21`` (the optional ``data`` extra); the notebook
and the training script read the committed file through :func:`course_lib.charlm.load_folk_abc`.

Sources: the ABC files of ``music21/corpus/oneills1850`` (O'Neill's collection, 39 files) and
``music21/corpus/ryansMammoth`` (*Ryan's Mammoth Collection*, one file per tune), read in sorted file
order and split into tunes at each ``X:`` line (3,068 tunes in music21 10.5.1).

Choices (ours):

* each tune is normalised by :func:`course_lib.abc.normalise_tune`: only ``M:`` (meter), ``L:`` (unit
  length, ABC's default written out when missing) and ``K:`` (key) are kept, because they are what the
  checker needs to judge a tune; titles, sources, annotations, decorations, slurs and grace notes are
  dropped (they add characters without changing the notes and durations);
* tunes with several voices or parts, with fields inside the body, or that our checker
  (:func:`course_lib.abc.check_tune`) cannot read are left out, and so are exact duplicates of an earlier
  tune; so every real tune of the file *parses* by construction (the chapter says so);
* the split is by tune, fixed by position in the kept list: index % 10 == 0 -> valid, == 1 -> test,
  otherwise train (80 / 10 / 10 %), so no tune has characters on both sides.

File format: UTF-8 text, one record per tune, records separated by one blank line; each record is one
line ``%<split> <source>#<X number>`` (an ABC comment) followed by the normalised tune.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from course_lib.abc import check_tune, normalise_tune
from course_lib.experiments import DATA

DEFAULT_OUT = DATA / "folk_abc.txt"
COLLECTIONS = ("oneills1850", "ryansMammoth")


def abc_paths() -> list[Path]:
    """The ABC files of the two collections, collection by collection, sorted by file name."""
    import music21

    root = Path(music21.__file__).parent / "corpus"
    return [p for c in COLLECTIONS for p in sorted((root / c).glob("*.abc"), key=lambda p: p.name)]


def split_tunes(text: str) -> list[tuple[str, str]]:
    """``(X number, raw text)`` of every tune of an ABC file (a tune starts at a line ``X:``)."""
    tunes, current, number = [], None, None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.startswith("X:"):
            if current is not None:
                tunes.append((number, "\n".join(current)))
            number, current = line[2:].strip(), []
        elif current is not None:
            current.append(line)
    if current is not None:
        tunes.append((number, "\n".join(current)))
    return tunes


def split_of(index: int) -> str:
    """'valid', 'test' or 'train' from the position in the kept list."""
    return {0: "valid", 1: "test"}.get(index % 10, "train")


def build(limit: int | None = None) -> tuple[list[dict], dict]:
    """The kept records (dicts: split, source, abc) and counts of what was read and dropped."""
    records, seen = [], set()
    counts = {"read": 0, "left_out": 0, "unreadable": 0, "duplicates": 0}
    for path in abc_paths()[:limit]:
        text = path.read_text(encoding="latin-1")
        for number, raw in split_tunes(text):
            counts["read"] += 1
            tune = normalise_tune(raw)
            if tune is None:
                counts["left_out"] += 1
                continue
            if not check_tune(tune).parses:
                counts["unreadable"] += 1
                continue
            if tune in seen:
                counts["duplicates"] += 1
                continue
            seen.add(tune)
            records.append({"source": f"{path.parent.name}/{path.name}#{number}", "abc": tune})
    for i, r in enumerate(records):
        r["split"] = split_of(i)
    return records, counts


def format_records(records: list[dict]) -> str:
    return "\n".join(f"%{r['split']} {r['source'].replace(' ', '_')}\n{r['abc']}" for r in records)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.experiments make_folk_abc", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output text file (default: %(default)s)"
    )
    parser.add_argument("--limit", type=int, default=None, help="read only the first LIMIT files (for tests)")
    args = parser.parse_args(argv)
    records, counts = build(args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(format_records(records), encoding="utf-8")
    by_split = {s: sum(r["split"] == s for r in records) for s in ("train", "valid", "test")}
    print(
        f"{counts['read']} tunes read, {len(records)} kept {by_split}; left out {counts['left_out']}, "
        f"unreadable {counts['unreadable']}, duplicates {counts['duplicates']} -> {args.out} "
        f"({args.out.stat().st_size} bytes)"
    )
    return 0
