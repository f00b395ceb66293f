"""A small reader and checker for the subset of ABC notation the folk-tune chapter uses.

ABC writes a tune as text: header fields (``M:`` meter, ``L:`` unit note length, ``K:`` key) and a body
of notes (``A``-``G``, ``a``-``g``, ``z`` for a rest, ``^``/``_``/``=`` accidentals, ``'``/``,`` octaves,
a length multiplier such as ``2``, ``/2``, ``3/2``), chords ``[ceg]``, tuplets ``(3``, broken rhythm
``>``/``<``, ties ``-`` and bar lines (``|``, ``||``, ``|:``, ``:|``, ``::``, ``|]``, endings ``[1``/``|1``).
The data file of the chapter (made by ``course_lib.experiments.make_folk_abc``) is normalised to this
subset: :func:`normalise_tune` drops titles, annotations, decorations, slurs and grace notes.

:func:`check_tune` answers the chapter's three questions about a tune (generated or real):

* does it **parse** (the header has valid ``M:``, ``L:``, ``K:`` fields and every character of the body is
  part of a token of the subset, with brackets balanced)?
* do its **bars have the length the meter says**? Durations are summed in whole notes (a note of length
  ``2`` with ``L:1/8`` lasts 1/4); every bar that is not the first or last of a section (sections end at
  ``||``, ``|]``, ``:|``, ``|:``, ``::`` or an ending ``[1``) must last exactly ``M:`` (``C`` = 4/4,
  ``C|`` = 2/2). First and last bars of a section may be pick-ups, so they are not judged.
* does it **end on the tonic** of ``K:`` (the letter of the last note equals the key's letter)?
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

__all__ = [
    "AbcReport",
    "check_tune",
    "normalise_tune",
    "parse_header",
    "tonic_letter",
    "meter_length",
    "notes",
]

_METER_RE = re.compile(r"^(\d+)/(\d+)$")
_KEY_RE = re.compile(
    r"^([A-Ga-g])([#b]?)(m|min|maj|major|minor|mix|mixolydian|dor|dorian|phr|lyd|loc|ion|aeo)?$",
    re.IGNORECASE,
)
_NOTE_RE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-gzx])([',]*)(\d*)(/*)(\d*)")
_BAR_RE = re.compile(r"(:*\|+\]?:*|:*\[\|:*|::+|\|?\[?[12](?:,[12])*)")


def meter_length(meter: str) -> Fraction:
    """A bar's length in whole notes: ``"6/8"`` -> 3/4, ``"C"`` -> 1, ``"C|"`` -> 1; ValueError otherwise."""
    meter = meter.strip()
    if meter == "C":
        return Fraction(1)
    if meter == "C|":
        return Fraction(1)
    m = _METER_RE.match(meter)
    if not m or int(m.group(1)) == 0 or int(m.group(2)) == 0:
        raise ValueError(f"meter: expected 'C', 'C|' or 'p/q' with positive integers, got {meter!r}")
    return Fraction(int(m.group(1)), int(m.group(2)))


def tonic_letter(key: str) -> str:
    """The tonic's letter of a ``K:`` value in upper case: ``"Gm"`` -> ``"G"``, ``"Ador"`` -> ``"A"``."""
    m = _KEY_RE.match(key.strip().replace(" ", ""))
    if not m:
        raise ValueError(
            f"key: expected a tonic A-G with optional #/b and mode (e.g. 'G', 'Ador'), got {key!r}"
        )
    return m.group(1).upper()


def parse_header(text: str):
    """Split a normalised tune into ``(fields, body)``: fields ``{"M": .., "L": .., "K": ..}``, body lines.

    The header is every leading line of the form ``X:value``; it ends at the ``K:`` line (ABC's rule).
    """
    fields, body = {}, []
    lines = text.strip("\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if len(line) >= 2 and line[1] == ":" and line[0].isalpha() and line[0].isupper():
            fields[line[0]] = line[2:].strip()
            i += 1
            if line[0] == "K":
                break
        else:
            break
    body = lines[i:]
    return fields, body


@dataclass
class AbcReport:
    """What :func:`check_tune` found. ``bars_ok``/``bars_judged`` count the judged (interior) bars."""

    parses: bool
    error: str = ""
    bars_judged: int = 0
    bars_ok: int = 0
    ends_on_tonic: bool = False
    n_notes: int = 0
    pitches: list = field(default_factory=list)  # (start in whole notes, duration, MIDI pitch or None)

    @property
    def bars_in_meter(self) -> bool:
        """All judged bars have the meter's length (and there is at least one judged bar)."""
        return self.parses and self.bars_judged > 0 and self.bars_ok == self.bars_judged


_BASE = {"C": 60, "D": 62, "E": 64, "F": 65, "G": 67, "A": 69, "B": 71}
_SHARP_ORDER, _FLAT_ORDER = "FCGDAEB", "BEADGCF"
_MODE_SHIFT = {
    "": 0,
    "maj": 0,
    "major": 0,
    "ion": 0,
    "m": -3,
    "min": -3,
    "minor": -3,
    "aeo": -3,
    "mix": -1,
    "mixolydian": -1,
    "dor": -2,
    "dorian": -2,
    "phr": -4,
    "lyd": 1,
    "loc": -5,
}
_MAJOR_SHARPS = {
    "C": 0,
    "G": 1,
    "D": 2,
    "A": 3,
    "E": 4,
    "B": 5,
    "F#": 6,
    "C#": 7,
    "F": -1,
    "Bb": -2,
    "Eb": -3,
    "Ab": -4,
    "Db": -5,
    "Gb": -6,
    "Cb": -7,
    # tonics that only occur with a mode (e.g. K:G#m has the sharps of B major)
    "G#": 8,
    "D#": 9,
    "A#": 10,
    "E#": 11,
    "Fb": -8,
}


def _key_signature(key: str) -> dict[str, int]:
    """Letter -> semitone shift of the key signature (e.g. K:G -> {"F": +1})."""
    m = _KEY_RE.match(key.strip().replace(" ", ""))
    tonic = m.group(1).upper() + m.group(2)
    mode = (m.group(3) or "").lower()
    # position on the circle of fifths of the tonic as a major key, shifted by the mode
    if tonic not in _MAJOR_SHARPS:
        return {}
    sharps = _MAJOR_SHARPS[tonic] + _MODE_SHIFT.get(mode, 0)
    sig = {}
    if sharps > 0:
        for letter in _SHARP_ORDER[: min(sharps, 7)]:
            sig[letter] = 1
    elif sharps < 0:
        for letter in _FLAT_ORDER[: min(-sharps, 7)]:
            sig[letter] = -1
    return sig


def check_tune(text: str) -> AbcReport:
    """Parse one tune of the subset and judge its bars and its last note (see the module docstring)."""
    fields, body_lines = parse_header(text)
    for name in ("M", "L", "K"):
        if name not in fields:
            return AbcReport(False, f"missing header field {name}:")
    try:
        bar = meter_length(fields["M"])
        unit = meter_length(fields["L"]) if fields["L"] not in ("C", "C|") else None
        if unit is None:
            raise ValueError("L: must be a fraction")
        tonic = tonic_letter(fields["K"])
    except ValueError as err:
        return AbcReport(False, str(err))
    signature = _key_signature(fields["K"])
    m_num = _METER_RE.match(fields["M"].strip())
    compound = bool(m_num) and int(m_num.group(1)) % 3 == 0 and int(m_num.group(1)) > 3
    body = " ".join(body_lines)
    if not body.strip():
        return AbcReport(False, "empty body")

    # events: ("note", duration, midi|None, letter) or ("bar", symbol)
    events, i, n = [], 0, len(body)
    tuplet_left, tuplet_factor = 0, Fraction(1)
    broken = None  # factor to apply to the next note after > or <
    while i < n:
        ch = body[i]
        if ch in " \t-":
            i += 1
            continue
        if ch == "(":
            m = re.match(r"\((\d)", body[i:])
            if not m or int(m.group(1)) < 2:
                return AbcReport(False, f"'(' not followed by a tuplet number at column {i}")
            p = int(m.group(1))
            # ABC 2.1: (2 = 2 in the time of 3, (3 = 3 in 2, (4 = 4 in 3, (6 = 6 in 2, (8 = 8 in 3;
            # (5, (7, (9 = in the time of 3 in a compound meter (6/8, 9/8, 12/8), else of 2
            q = {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}.get(p, 3 if compound else 2)
            tuplet_left, tuplet_factor = p, Fraction(q, p)
            i += 2
            continue
        if ch in "<>":
            j = i
            while j < n and body[j] == ch:
                j += 1
            k = j - i
            prev = next((e for e in reversed(events) if e[0] == "note"), None)
            if prev is None or events[-1][0] != "note":
                return AbcReport(False, f"broken rhythm '{ch}' not after a note at column {i}")
            long_f = Fraction(2 ** (k + 1) - 1, 2**k)
            short_f = Fraction(1, 2**k)
            first, second = (long_f, short_f) if ch == ">" else (short_f, long_f)
            e = events[-1]
            events[-1] = ("note", e[1] * first, e[2], e[3])
            broken = second
            i = j
            continue
        if ch == "[" and i + 1 < n and body[i + 1] not in "12|":
            # chord: notes inside sound together; its duration is the first note's
            j = body.find("]", i)
            if j < 0:
                return AbcReport(False, f"unclosed chord '[' at column {i}")
            inner = body[i + 1 : j]
            chord = list(_NOTE_RE.finditer(inner))
            if not chord or "".join(c.group(0) for c in chord) != inner.replace(" ", ""):
                return AbcReport(False, f"bad chord [{inner}] at column {i}")
            first = chord[0]
            dur = _duration(first, unit)
            if dur is None:
                return AbcReport(False, f"bad length in chord at column {i}")
            mids = [_midi(c, signature) for c in chord]
            i = j + 1
            m2 = re.match(r"(\d*)(/*)(\d*)", body[i:])
            mult = _length_factor(m2.group(1), m2.group(2), m2.group(3))
            i += len(m2.group(0))
            dur = dur * mult
            dur, tuplet_left, broken = _apply(dur, tuplet_left, tuplet_factor, broken)
            events.append(
                (
                    "note",
                    dur,
                    max(m for m in mids if m is not None) if any(mids) else None,
                    first.group(2).upper(),
                )
            )
            continue
        m = _BAR_RE.match(body, i)
        if m and m.group(0) and (ch in "|:[" or (ch in "12" and events and events[-1][0] == "bar")):
            events.append(("bar", m.group(0)))
            i = m.end()
            continue
        m = _NOTE_RE.match(body, i)
        if m:
            dur = _duration(m, unit)
            if dur is None:
                return AbcReport(False, f"bad note length {m.group(0)!r} at column {i}")
            dur, tuplet_left, broken = _apply(dur, tuplet_left, tuplet_factor, broken)
            letter = m.group(2).upper() if m.group(2) not in "zx" else None
            events.append(("note", dur, _midi(m, signature), letter))
            i = m.end()
            continue
        return AbcReport(False, f"unexpected character {ch!r} at column {i}")
    if broken is not None:
        return AbcReport(False, "broken rhythm at the end of the tune")

    notes_ = [e for e in events if e[0] == "note"]
    if not notes_:
        return AbcReport(False, "no notes")
    # bars and sections
    sections, current, bars = [], [], []
    acc = Fraction(0)
    had_note = False
    for e in events:
        if e[0] == "note":
            acc += e[1]
            had_note = True
        else:
            if had_note:
                current.append(acc)
            acc, had_note = Fraction(0), False
            if e[1] != "|":  # ||, |], |:, :|, ::, endings: a section boundary
                if current:
                    sections.append(current)
                current = []
    if had_note:
        current.append(acc)
    if current:
        sections.append(current)
    for sec in sections:
        bars.extend(sec[1:-1])
    judged = len(bars)
    ok = sum(1 for b in bars if b == bar)
    last_letter = next((e[3] for e in reversed(notes_) if e[3] is not None), None)
    # the piano roll: start times
    pitches, t = [], Fraction(0)
    for e in notes_:
        pitches.append((float(t), float(e[1]), e[2]))
        t += e[1]
    return AbcReport(True, "", judged, ok, last_letter == tonic, len(notes_), pitches)


def _length_factor(num: str, slashes: str, den: str) -> Fraction | None:
    a = int(num) if num else 1
    if not slashes:
        return Fraction(a) if not den else None
    b = int(den) if den else 2 ** len(slashes)
    if b == 0 or a == 0:
        return None
    return Fraction(a, b)


def _duration(m: re.Match, unit: Fraction) -> Fraction | None:
    factor = _length_factor(m.group(4), m.group(5), m.group(6))
    if factor is None or factor == 0:
        return None
    return unit * factor


def _apply(dur, tuplet_left, tuplet_factor, broken):
    if tuplet_left > 0:
        dur = dur * tuplet_factor
        tuplet_left -= 1
    if broken is not None:
        dur, broken = dur * broken, None
    return dur, tuplet_left, broken


def _midi(m: re.Match, signature: dict[str, int]) -> int | None:
    letter = m.group(2)
    if letter in "zx":
        return None
    pitch = _BASE[letter.upper()] + (12 if letter.islower() else 0)
    pitch += 12 * m.group(3).count("'") - 12 * m.group(3).count(",")
    acc = m.group(1)
    if acc:
        pitch += {"^": 1, "^^": 2, "_": -1, "__": -2, "=": 0}[acc]
    else:
        pitch += signature.get(letter.upper(), 0)
    return pitch


def notes(text: str) -> list[tuple[float, float, int | None]]:
    """(start, duration, MIDI pitch or None for a rest) of every note of a tune that parses, in whole notes.

    Accidentals apply to their note only (ABC says to the rest of the bar; good enough for a picture).
    """
    report = check_tune(text)
    if not report.parses:
        raise ValueError(f"text: the tune does not parse ({report.error})")
    return report.pitches


# ---------------------------------------------------------------------------------------------------------
# Normalisation of the corpus (used once by make_folk_abc)
# ---------------------------------------------------------------------------------------------------------
KEPT_FIELDS = ("M", "L", "K")


def default_unit(meter: str) -> str:
    """ABC's default ``L:`` when a tune has none: 1/16 if the meter is below 3/4, else 1/8."""
    return "1/16" if meter_length(meter) < Fraction(3, 4) else "1/8"


def normalise_tune(raw: str) -> str | None:
    """The chapter's form of one raw ABC tune, or None when it is left out.

    Kept: ``M:``, ``L:`` (ABC's default written out when missing) and ``K:``, then the body. Dropped:
    every other header field (``X:`` number, ``T:`` title, ``R:`` rhythm, ``B:``/``N:``/``Z:`` source
    notes), comments ``%``, annotations and chord symbols in quotes, decorations (``!trill!``, ``~``,
    ``.``, ``H L M O P S T u v``), slurs ``( )`` (tuplets ``(3`` stay), grace notes ``{...}``, line
    continuations ``\\``. Left out: tunes with several voices or parts (``V:``/``P:``), with fields inside
    the body (changes of meter or key, lyrics), or without ``M:``/``K:``.
    """
    lines = [ln.split("%", 1)[0].rstrip() for ln in raw.strip().split("\n")]
    fields, body, in_body = {}, [], False
    for ln in lines:
        if not in_body:
            if len(ln) >= 2 and ln[1] == ":" and ln[0].isalpha():
                name = ln[0]
                if name in ("V", "P"):
                    return None
                fields.setdefault(name, ln[2:].strip())
                if name == "K":
                    in_body = True
            continue
        if not ln.strip():
            continue
        if len(ln) >= 2 and ln[1] == ":" and ln[0].isalpha():
            return None
        body.append(ln)
    if "M" not in fields or "K" not in fields or not body:
        return None
    meter = fields["M"].replace(" ", "")
    try:
        meter_length(meter)
        tonic_letter(fields["K"])
    except ValueError:
        return None
    unit = fields.get("L", "").replace(" ", "") or default_unit(meter)
    key = fields["K"].replace(" ", "")
    out = []
    for ln in body:
        if re.search(r"\[[A-Za-z]:", ln):
            return None
        ln = re.sub(r'"[^"]*"', "", ln)
        ln = re.sub(r"![^!]*!", "", ln)
        ln = re.sub(r"\+[^+]*\+", "", ln)
        ln = re.sub(r"\{[^}]*\}", "", ln)
        ln = re.sub(r"\((?!\d)", "", ln)
        ln = ln.replace(")", "").replace("\\", "")
        ln = re.sub(r"[~.HLMOPSTuvJR]", "", ln)
        ln = re.sub(r"\s+", " ", ln).strip()
        if ln:
            out.append(ln)
    if not out:
        return None
    return f"M:{meter}\nL:{unit}\nK:{key}\n" + "\n".join(out) + "\n"
