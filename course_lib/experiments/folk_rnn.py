"""Character-level LSTM and GRU on folk tunes in ABC notation, against n-gram baselines.

``python -m course_lib.experiments folk_rnn`` (a few CPU minutes) writes ``book/results/folk_rnn.json`` and
the weights of the chapter's main model (LSTM, seed 0) to ``book/data/folk_rnn_lstm.pt``; ``--quick`` is a
reduced run for the tests (writes nothing unless ``--out``/``--weights`` are given).

What it does, on ``book/data/folk_abc.txt`` (tunes split by tune into train / valid / test):

1. n-gram baselines (:class:`course_lib.charlm.NGram`): orders k = 0 (unigram) .. ``--kmax`` and discounts
   D in {0.75, 0.9}, each scored in bits per character on the validation tunes; the best (k, D) on
   validation is then scored on the test tunes.
2. A :class:`course_lib.charlm.CharRNN` (embedding 32, one layer, linear read-out) of each kind, the GRU's
   hidden size matched to the LSTM's parameter count, over ``--seeds``, trained by
   :func:`course_lib.charlm.train_stateful` (truncated BPTT, 32 parallel streams, windows of 64
   characters, state carried and detached, Adam, clipping at norm 1) for ``--steps`` steps; bits/char on
   validation (curve on the first 20,000 characters, final on all) and test.
3. "Are the tunes real?": samples of the main model at several temperatures, samples of the best n-gram
   and the real test tunes, judged by :func:`course_lib.abc.check_tune` (and by music21's ABC reader when
   it is installed: fraction that it reads without an exception). The model first reads the first
   training tune and a blank line, then writes tunes one after the other (state carried), cut at blank
   lines. ``--checks-only`` redoes this step
   alone from the stored weights and results file (recorded under ``checks_provenance``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from course_lib.abc import check_tune
from course_lib.charlm import (
    CharRNN,
    NGram,
    Vocab,
    bits_per_char,
    hidden_for_params,
    load_folk_abc,
    n_params,
    sample_tunes,
    stream,
    train_stateful,
)
from course_lib.experiments import DATA, write_results
from course_lib.training import one_thread

DEFAULT_WEIGHTS = DATA / "folk_rnn_lstm.pt"
TEMPERATURES = (0.5, 1.0, 1.5)


def PRIME(data) -> str:  # noqa: N802 - a constant computed from the data
    """What the model reads before it writes: the first training tune and the blank line after it."""
    return data["train"][0] + "\n"


def judge(tunes: list[str]) -> dict:
    """Fractions of ``tunes`` that parse, have all judged bars of the meter's length, end on the tonic."""
    reports = [check_tune(t) for t in tunes]
    n = len(reports)
    return {
        "n": n,
        "parse": sum(r.parses for r in reports) / n,
        "bars_in_meter": sum(r.bars_in_meter for r in reports) / n,
        "bars_ok_fraction": (sum(r.bars_ok for r in reports) / max(1, sum(r.bars_judged for r in reports))),
        "ends_on_tonic": sum(r.parses and r.ends_on_tonic for r in reports) / n,
    }


def music21_reads(tunes: list[str]) -> float | None:
    """Fraction of tunes music21's ABC reader turns into a score with notes; None without music21."""
    try:
        import warnings

        from music21 import converter
    except ImportError:
        return None
    ok = 0
    for t in tunes:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                score = converter.parse("X:1\n" + t, format="abc")
            ok += len(score.flatten().notes) > 0
        except Exception:  # noqa: BLE001 - any failure of the reader counts as "does not read"
            pass
    return ok / len(tunes)


def ngram_grid(train_text, valid_text, test_text, vocab, kmax, discounts=(0.75, 0.9)):
    rows = []
    for D in discounts:
        full = NGram(kmax, vocab, D).fit(train_text)
        for k in range(kmax + 1):
            model = NGram(k, vocab, D)
            model.counts, model._totals = full.counts[: k + 1], full._totals[: k + 1]
            rows.append({"k": k, "D": D, "valid_bpc": model.bits_per_char(valid_text)})
    best = min(rows, key=lambda r: r["valid_bpc"])
    best_model = NGram(best["k"], vocab, best["D"]).fit(train_text)
    unigram = [r for r in rows if r["k"] == 0 and r["D"] == discounts[0]][0]
    uni_model = NGram(0, vocab, discounts[0]).fit(train_text)
    return (
        rows,
        {**best, "test_bpc": best_model.bits_per_char(test_text)},
        {**unigram, "test_bpc": uni_model.bits_per_char(test_text)},
        best_model,
    )


def run_checks(model, ngram, data, vocab, samples: int) -> dict:
    """Judge the real test tunes, ``samples`` n-gram tunes and ``samples`` model tunes per temperature."""
    real = judge(data["test"])
    real["music21_reads"] = music21_reads(data["test"][:samples])
    rng = np.random.default_rng(0)
    ng_samples = [ngram.sample(rng) for _ in range(samples)]
    ng = {**judge(ng_samples), "music21_reads": music21_reads(ng_samples), "tunes": ng_samples}
    generated = {}
    with one_thread():
        for temp in TEMPERATURES:
            tunes = sample_tunes(model, vocab, samples, temperature=temp, seed=0, prime=PRIME(data))
            generated[str(temp)] = {**judge(tunes), "music21_reads": music21_reads(tunes), "tunes": tunes}
            print(
                f"T={temp}: {generated[str(temp)]['parse']:.2f} parse, "
                f"{generated[str(temp)]['bars_in_meter']:.2f} bars in meter"
            )
    return {"real_test": real, "ngram": ng, "generated": generated}


def checks_only(samples: int) -> int:
    """Redo section 3 of the docstring from the stored weights and results (no training)."""
    import json

    from course_lib.experiments import RESULTS, provenance

    path = RESULTS / "folk_rnn.json"
    payload = json.loads(path.read_text(encoding="utf-8"))
    res = payload["results"]
    data = load_folk_abc()
    vocab = Vocab(stream(data["train"] + data["valid"] + data["test"]))
    ckpt = torch.load(DEFAULT_WEIGHTS, weights_only=True)
    model = CharRNN(len(vocab), ckpt["hidden_size"], ckpt["kind"], ckpt["embed_size"])
    model.load_state_dict(ckpt["state_dict"])
    best = res["ngram_best"]
    ngram = NGram(best["k"], vocab, best["D"]).fit(stream(data["train"]))
    res["checks"] = run_checks(model, ngram, data, vocab, samples)
    res["checks_provenance"] = provenance([0])
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print("->", path)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.experiments folk_rnn", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--hidden", type=int, default=128, help="LSTM hidden size (GRU: matched parameters)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--kmax", type=int, default=8)
    parser.add_argument("--samples", type=int, default=50, help="tunes sampled per temperature")
    parser.add_argument("--quick", action="store_true", help="reduced run for the tests")
    parser.add_argument("--out", type=str, default=None, help="results file (default folk_rnn.json)")
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument(
        "--checks-only",
        action="store_true",
        help="redo only the checks of generated tunes from the stored weights and results",
    )
    args = parser.parse_args(argv)
    if args.checks_only:
        return checks_only(args.samples)
    if args.quick:
        out, weights = args.out, args.weights
    else:
        out, weights = args.out or "folk_rnn.json", args.weights or DEFAULT_WEIGHTS

    data = load_folk_abc()
    train_text, valid_text, test_text = (stream(data[s]) for s in ("train", "valid", "test"))
    if args.quick:
        valid_text, test_text = valid_text[:8000], test_text[:8000]
    vocab = Vocab(stream(data["train"] + data["valid"] + data["test"]))
    V = len(vocab)
    t0 = time.process_time()
    grid, best, unigram, best_ngram = ngram_grid(train_text, valid_text, test_text, vocab, args.kmax)
    print(
        f"n-grams: unigram valid {unigram['valid_bpc']:.3f}; best k={best['k']} D={best['D']} "
        f"valid {best['valid_bpc']:.3f} test {best['test_bpc']:.3f} bits/char "
        f"({time.process_time() - t0:.0f} s CPU)"
    )

    h_lstm = args.hidden
    target = n_params(V, h_lstm, "lstm")
    hidden = {"lstm": h_lstm, "gru": hidden_for_params(target, V, "gru")}
    runs, main_model = [], None
    with one_thread():
        for kind in ("lstm", "gru"):
            for seed in args.seeds:
                torch.manual_seed(seed)
                model = CharRNN(V, hidden[kind], kind)
                t1 = time.process_time()
                log = train_stateful(
                    model,
                    data["train"],
                    vocab,
                    steps=args.steps,
                    seed=seed,
                    valid_text=valid_text[:20000],
                    eval_every=max(1, args.steps // 6),
                    desc=f"{kind} seed {seed}",
                )
                cpu = time.process_time() - t1
                run = {
                    "kind": kind,
                    "seed": seed,
                    "hidden_size": hidden[kind],
                    "params": sum(p.numel() for p in model.parameters()),
                    "valid_bpc": bits_per_char(model, valid_text, vocab),
                    "test_bpc": bits_per_char(model, test_text, vocab),
                    "curve": {"steps": log.valid_steps, "valid_bpc_20k": log.valid_bpc},
                    "train_bpc_last100": float(np.mean(log.train_bpc[-100:])),
                    "train_cpu_s": round(cpu, 1),
                }
                runs.append(run)
                print(
                    f"{kind} h={hidden[kind]} seed {seed}: valid {run['valid_bpc']:.3f} "
                    f"test {run['test_bpc']:.3f} bits/char ({cpu:.0f} s CPU)"
                )
                if kind == "lstm" and seed == args.seeds[0]:
                    main_model = model

        checks = run_checks(main_model, best_ngram, data, vocab, args.samples)

    results = {
        "data": {s: len(data[s]) for s in ("train", "valid", "test")},
        "chars": {"train": len(train_text), "valid": len(valid_text), "test": len(test_text)},
        "vocab": "".join(vocab.chars),
        "ngram_grid": grid,
        "ngram_best": best,
        "unigram": unigram,
        "training": {
            "steps": args.steps,
            "n": 32,
            "T": 64,
            "lr": 3e-3,
            "clip_norm": 1.0,
            "embed": 32,
            "optimizer": "Adam",
        },
        "runs": runs,
        "checks": checks,
        "weights": str(weights.relative_to(DATA.parent.parent)) if weights else None,
        "cpu_s_total": round(time.process_time() - t0, 1),
    }
    if weights:
        weights.parent.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "state_dict": main_model.state_dict(),
                "vocab": "".join(vocab.chars),
                "hidden_size": h_lstm,
                "kind": "lstm",
                "embed_size": 32,
            },
            weights,
        )
    if out:
        print("->", write_results(out, results, args.seeds))
    return 0
