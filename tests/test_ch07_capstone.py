"""The capstone chapter (book/07_capstone_folk_tunes.ipynb): folk-tune data, n-grams, ABC checker, char RNN.

Rebuilding the data file needs music21 (an optional extra): without it those tests are skipped with a
message, except under CI (``CI=true``), where a missing music21 is a failure.
"""

from __future__ import annotations

import importlib.util
import math
import os

import numpy as np
import pytest
import torch

from course_lib.abc import check_tune, meter_length, normalise_tune, notes, tonic_letter
from course_lib.charlm import (
    DATA_FILE,
    CharRNN,
    NGram,
    Vocab,
    _parallel_streams,
    bits_per_char,
    hidden_for_params,
    load_folk_abc,
    n_params,
    sample_tunes,
    stream,
    train_stateful,
)
from course_lib.exercises.ch07_capstone import ngram_prob, stateful_rnn
from course_lib.experiments import DATA, read_results
from course_lib.training import one_thread

HAVE_MUSIC21 = importlib.util.find_spec("music21") is not None
needs_music21 = pytest.mark.skipif(
    not HAVE_MUSIC21 and os.environ.get("CI") != "true",
    reason="music21 is not installed (pip install music21, the 'data' extra): needed to rebuild folk_abc.txt",
)

GOOD = "M:6/8\nL:1/8\nK:G\nD | G2B d2B | c2A F2D | (3GAB c d>c B | G3 G2 :|\n"


# ----------------------------------------------------------------------------------------------- data file
def test_data_file_holds_a_split_by_tune():
    data = load_folk_abc()
    counts = {s: len(data[s]) for s in ("train", "valid", "test")}
    total = sum(counts.values())
    assert total > 2500 and DATA_FILE.stat().st_size < 1_000_000
    assert abs(counts["valid"] / total - 0.1) < 0.01 and abs(counts["test"] / total - 0.1) < 0.01
    sources = sum((data["sources"][s] for s in ("train", "valid", "test")), [])
    assert len(set(sources)) == total  # every tune once: no tune on two sides of the split
    for s in ("train", "valid", "test"):
        assert len(set(data[s])) == len(data[s])
        for tune in data[s][:200]:
            assert tune.startswith("M:") and "\nL:" in tune and "\nK:" in tune
            assert check_tune(tune).parses
    # the split rule of make_folk_abc: position in the file, modulo 10
    text = DATA_FILE.read_text(encoding="utf-8")
    splits = [rec.split(" ", 1)[0][1:] for rec in text.strip("\n").split("\n\n")]
    assert splits == [{0: "valid", 1: "test"}.get(i % 10, "train") for i in range(len(splits))]


@needs_music21
def test_rebuilding_the_first_file_gives_the_committed_tunes():
    from course_lib.experiments import make_folk_abc

    records, counts = make_folk_abc.build(limit=2)  # the first two O'Neill files
    assert counts["read"] > 80 and len(records) > 70
    stored = DATA_FILE.read_text(encoding="utf-8").strip("\n").split("\n\n")[: len(records)]
    assert make_folk_abc.format_records(records).strip("\n").split("\n\n") == stored


def test_normalise_tune_keeps_M_L_K_and_drops_the_rest():
    raw = 'T:A Test\nR:jig\nM:6/8\nK:G\n"G"~G2B !trill!d2B|{e}c2A (F2D)|\\\nG3 G2:|\n'
    assert normalise_tune(raw) == "M:6/8\nL:1/8\nK:G\nG2B d2B|c2A F2D|\nG3 G2:|\n"  # L: 1/8 written out
    assert normalise_tune("M:2/4\nK:D\nd2 e2|\n").startswith("M:2/4\nL:1/16\n")  # ABC default below 3/4
    assert normalise_tune("M:2/4\nV:1\nK:D\nd2 e2|\n") is None  # several voices
    assert normalise_tune("M:2/4\nK:D\nd2 e2|\nK:A\nA2 B2|\n") is None  # a key change in the body


# ----------------------------------------------------------------------------------------------- the checker
def test_checker_on_known_good_and_bad_tunes():
    good = check_tune(GOOD)
    assert good.parses and good.bars_in_meter and good.ends_on_tonic
    assert good.bars_judged == 3  # of 5 bars: the first (pick-up) and last of the section are not judged
    long_bar = check_tune(GOOD.replace("c2A F2D", "c2A F2DE"))
    assert long_bar.parses and not long_bar.bars_in_meter and long_bar.bars_ok == 2
    assert not check_tune(GOOD.replace("G3 G2", "A3 A2")).ends_on_tonic
    assert not check_tune(GOOD.replace("c2A", "c2A [ce")).parses  # unclosed chord
    assert not check_tune(GOOD.replace("K:G\n", "")).parses  # no key
    assert not check_tune(GOOD.replace("c2A", "c2A &")).parses  # not ABC of the subset
    assert not check_tune("M:7\nL:1/8\nK:G\nGAB|\n").parses  # bad meter
    assert meter_length("C") == 1 and meter_length("6/8") == meter_length("3/4")
    assert tonic_letter("Ador") == "A" and tonic_letter("Gm") == "G"


def test_checker_durations_and_pitches():
    # triplets: three eighths in the time of two; broken rhythm keeps the pair's total
    ok = check_tune("M:2/4\nL:1/8\nK:D\nA | (3ABc d2 | A>B c<d | d2 |]\n")
    assert not check_tune("M:2/4\nL:1/8\nK:D\nA | (3ABc d | A>B c<d | d2 |]\n").bars_in_meter
    assert ok.parses and ok.bars_judged == 2 and ok.bars_in_meter
    # (5: five notes in the time of three in a compound meter (6/8), of two in a simple one (2/4)
    assert check_tune("M:6/8\nL:1/8\nK:G\nG2A BAG | (5ABcde c3 | G6 |]\n").bars_in_meter
    assert not check_tune("M:6/8\nL:1/8\nK:G\nG2A BAG | (5ABcde c2 | G6 |]\n").bars_in_meter
    assert check_tune("M:2/4\nL:1/8\nK:G\nG2A B | (5ABcde c2 | G4 |]\n").bars_in_meter
    # (2 in 6/8: two notes in the time of three; ties join durations; chords last as their first note
    assert check_tune("M:6/8\nL:1/8\nK:G\nG2A BAG | (2AB c3 | d3- d2B | [GB]3 [Ac]2B | G6 |]\n").bars_in_meter
    # endings and repeats are section boundaries: pick-up bars around them are not judged
    endings = check_tune("M:6/8\nL:1/8\nK:G\nD | GAB c2d | efg dBG |1 ABc BAG :|2 ABc d2 |]\n")
    assert endings.parses and endings.bars_judged == 1 and endings.bars_in_meter
    ev = notes("M:C\nL:1/8\nK:D\nf2 F c' =c _B,,/2 z\n")
    assert [e[1] for e in ev] == [0.25, 0.125, 0.125, 0.125, 0.0625, 0.125]
    assert [e[2] for e in ev] == [78, 66, 85, 72, 46, None]  # K:D sharpens F and C


@needs_music21
def test_music21_reads_the_tunes_our_checker_reads():
    import warnings

    from music21 import converter

    tunes = load_folk_abc()["test"][:15]
    for tune in tunes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = converter.parse("X:1\n" + tune, format="abc")
        ours = [p for _, _, p in notes(tune) if p is not None]
        theirs = [n for n in score.flatten().notes]
        assert len(theirs) > 0
        assert abs(len(theirs) - len(ours)) <= 0.1 * len(ours), tune


# ------------------------------------------------------------------------------------------------- n-grams
@pytest.fixture(scope="module")
def small():
    data = load_folk_abc()
    text = stream(data["train"][:300])
    vocab = Vocab(stream(data["train"] + data["valid"] + data["test"]))
    return data, text, vocab


@pytest.mark.parametrize("k", [0, 1, 3, 5])
def test_ngram_probabilities_sum_to_one(small, k):
    _, text, vocab = small
    model = NGram(k, vocab, D=0.75).fit(text)
    for context in ["", "K:", "K:D\nA2", "zzzzzz", text[1000:1010]]:
        p = model.distribution(context)
        assert p.shape == (len(vocab),) and np.all(p > 0)
        assert abs(p.sum() - 1) < 1e-12
        for c in "A|\n":
            assert math.isclose(model.prob(context[-k:] if k else "", c), p[vocab.index[c]], rel_tol=1e-12)


def test_ngram_matches_the_exercise_reference_and_its_bpc(small):
    _, text, vocab = small
    model = NGram(2, vocab, D=0.6).fit(text)
    lower = model.__class__(1, vocab, D=0.6).fit(text).distribution("A")
    counts = np.zeros(len(vocab))
    for ch, n in model.counts[2]["dA"].items():
        counts[vocab.index[ch]] = n
    np.testing.assert_allclose(model.distribution("dA"), ngram_prob(counts, lower, 0.6), rtol=1e-12)
    sample = text[5000:5300]
    manual = -np.mean(
        [
            np.log2(model.distribution(text[5000 + i - 2 : 5000 + i])[vocab.index[sample[i]]])
            for i in range(len(sample))
        ]
    )
    assert math.isclose(model.bits_per_char(sample, history=text[4998:5000]), manual, rel_tol=1e-12)
    with pytest.raises(ValueError, match="D"):
        NGram(2, vocab, D=1.5).fit(text)


# ---------------------------------------------------------------------------------------------- the RNN
def test_bits_per_char_and_parallel_streams(small):
    _, text, vocab = small
    ids = vocab.encode(text[:1000])
    rows = _parallel_streams(ids, 4)
    assert rows.shape == (4, 250) and rows[1, 0] == ids[250]
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 16, "gru")
    x = torch.from_numpy(ids[None, :])
    with torch.no_grad():
        logits, _ = model(x[:, :-1])
        manual = torch.nn.functional.cross_entropy(logits[0], x[0, 1:]).item() / math.log(2)
    # one row, windows of 37: the carried state makes windowed scoring equal to one pass
    assert math.isclose(bits_per_char(model, text[:1000], vocab, n=1, T=37), manual, rel_tol=1e-5)
    assert n_params(len(vocab), 16, "gru") == sum(p.numel() for p in model.parameters())
    h = hidden_for_params(n_params(len(vocab), 128, "lstm"), len(vocab), "gru")
    assert abs(n_params(len(vocab), h, "gru") - n_params(len(vocab), 128, "lstm")) < 300


def test_training_carries_and_detaches_the_state(small):
    data, _, vocab = small
    with one_thread():
        torch.manual_seed(0)
        model = CharRNN(len(vocab), 24, "lstm")
        log = train_stateful(
            model, data["train"][:200], vocab, steps=40, n=4, T=16, lr=1e-2, seed=0, desc=None
        )
    assert len(log.train_bpc) == 40 and np.mean(log.train_bpc[-5:]) < np.mean(log.train_bpc[:5]) - 0.5


def test_training_state_is_carried_detached_and_gradients_clipped(small, monkeypatch):
    """Window j+1 starts from window j's final state (same values, no graph); the step sees clipped grads."""
    data, _, vocab = small
    seen, norms = [], []

    class Recording(CharRNN):
        def forward(self, x, state=None):
            logits, new = super().forward(x, state)
            seen.append((state, new))
            return logits, new

    real_step = torch.optim.Adam.step

    def step(self, *args, **kwargs):
        grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
        norms.append(torch.stack([torch.linalg.vector_norm(g) for g in grads]).norm().item())
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    with one_thread():
        torch.manual_seed(0)
        model = Recording(len(vocab), 12, "lstm")
        train_stateful(model, data["train"][:50], vocab, steps=6, n=3, T=8, lr=1.0, clip_norm=0.05, desc=None)
    assert seen[0][0] is None  # a pass starts from the zero state
    for (_, previous), (given, _) in zip(seen[:-1], seen[1:]):
        assert given is not None, "the state was reset instead of carried"
        for a, b in zip(given, previous):
            assert torch.equal(a, b), "carry the values"
            assert b.requires_grad and not a.requires_grad, "cut the graph (detach) between windows"
    assert len(norms) == 6 and max(norms) <= 0.05 * (1 + 1e-4), norms


def test_stateful_reference_matches_one_long_pass():
    rng = np.random.default_rng(1)
    X, H_0 = rng.normal(size=(3, 7, 4)), rng.normal(size=(3, 5))
    W_xh, W_hh, b_h = rng.normal(size=(4, 5)), rng.normal(size=(5, 5)) * 0.5, rng.normal(size=5)
    H_all, first = stateful_rnn(X, H_0, W_xh, W_hh, b_h, T=3)
    H_one, _ = stateful_rnn(X, H_0, W_xh, W_hh, b_h, T=7)
    np.testing.assert_allclose(H_all, H_one)  # carrying the state: the same forward pass
    assert first.tolist() == [0, 0, 0, 3, 3, 3, 6]


# ---------------------------------------------------------------------------------------- stored results
def test_stored_results_rnn_beats_the_best_ngram():
    payload = read_results("folk_rnn.json")
    res = payload["results"]
    assert payload["provenance"]["seeds"] and payload["provenance"]["command"]
    best = res["ngram_best"]
    assert best == {**best, **min(res["ngram_grid"], key=lambda r: r["valid_bpc"])}  # k chosen on validation
    assert res["unigram"]["valid_bpc"] > best["valid_bpc"]
    kinds = {r["kind"] for r in res["runs"]}
    assert kinds == {"lstm", "gru"} and len(res["runs"]) >= 4
    for r in res["runs"]:
        assert r["valid_bpc"] < best["valid_bpc"] and r["test_bpc"] < best["test_bpc"], r
    lstm, gru = ([r["params"] for r in res["runs"] if r["kind"] == k][0] for k in ("lstm", "gru"))
    assert abs(lstm - gru) / lstm < 0.01  # matched parameters
    # the checker's figures: generated tunes at temperature 1 beat the n-gram's on bar lengths
    checks = res["checks"]
    assert checks["real_test"]["parse"] == 1.0
    assert checks["generated"]["1.0"]["bars_in_meter"] > checks["ngram"]["bars_in_meter"]


def test_stored_weights_reproduce_the_stored_score():
    path = DATA / "folk_rnn_lstm.pt"
    assert path.stat().st_size < 2_000_000
    ckpt = torch.load(path, weights_only=True)
    data = load_folk_abc()
    vocab = Vocab(stream(data["train"] + data["valid"] + data["test"]))
    assert ckpt["vocab"] == "".join(vocab.chars)
    model = CharRNN(len(vocab), ckpt["hidden_size"], ckpt["kind"], ckpt["embed_size"])
    model.load_state_dict(ckpt["state_dict"])
    res = read_results("folk_rnn.json")["results"]
    stored = [r for r in res["runs"] if r["kind"] == "lstm"][0]
    with one_thread():
        assert abs(bits_per_char(model, stream(data["valid"]), vocab) - stored["valid_bpc"]) < 1e-3
        tunes = sample_tunes(model, vocab, 3, temperature=1.0, seed=0, prime=data["train"][0] + "\n")
        again = sample_tunes(model, vocab, 3, temperature=1.0, seed=0, prime=data["train"][0] + "\n")
    assert tunes == again  # sampling is deterministic under a fixed seed
    # The stored samples came from these weights, this prime and seed 0. Here they are reproduced exactly;
    # on another CPU a last-bit difference in the logits may flip one late draw, so what is required is a
    # long common start (another model, prime or seed would diverge within the first characters).
    ours, theirs = "\n".join(tunes), "\n".join(res["checks"]["generated"]["1.0"]["tunes"][:3])
    common = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
    assert common >= min(300, len(theirs)), (common, ours[:common + 20], theirs[:common + 20])


def test_short_rerun_of_the_experiment(tmp_path):
    from course_lib.experiments import folk_rnn

    out = tmp_path / "folk_quick.json"
    folk_rnn.main(
        ["--quick", "--steps", "30", "--kmax", "2", "--samples", "3", "--seeds", "0", "--out", str(out)]
    )
    res = read_results(out)["results"]
    assert [r["kind"] for r in res["runs"]] == ["lstm", "gru"]
    for r in res["runs"]:
        assert r["valid_bpc"] < res["unigram"]["valid_bpc"]  # 30 windows already beat character frequencies
    assert set(res["checks"]["generated"]) == {"0.5", "1.0", "1.5"}


def test_short_rerun_reproduces_the_curve_and_beats_the_best_ngram():
    """400 windows of the stored LSTM recipe (seed 0): the stored curve's point, already below the n-gram."""
    data = load_folk_abc()
    vocab = Vocab(stream(data["train"] + data["valid"] + data["test"]))
    res = read_results("folk_rnn.json")["results"]
    valid = stream(data["valid"])[:20000]
    best = res["ngram_best"]
    ngram_bpc = NGram(best["k"], vocab, best["D"]).fit(stream(data["train"])).bits_per_char(valid)
    with one_thread():
        torch.manual_seed(0)
        model = CharRNN(len(vocab), 128, "lstm")
        train_stateful(model, data["train"], vocab, steps=400, seed=0, desc=None)
        rnn_bpc = bits_per_char(model, valid, vocab)
    curves = {r["seed"]: r["curve"] for r in res["runs"] if r["kind"] == "lstm"}
    at_400 = {seed: c["valid_bpc_20k"][c["steps"].index(400)] for seed, c in curves.items()}
    # Same recipe, same seed: on this machine the same number; on another CPU the 400 Adam steps may drift
    # apart, by at most about the spread between seeds at that point (twice it, or 0.02, is allowed).
    tolerance = max(0.02, 2 * (max(at_400.values()) - min(at_400.values())))
    assert abs(rnn_bpc - at_400[0]) < tolerance, (rnn_bpc, at_400, tolerance)
    assert rnn_bpc < ngram_bpc - 0.05, (rnn_bpc, ngram_bpc)
