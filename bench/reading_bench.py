"""Screen-reading benchmark (issue 20, item 4): does the reader find words however they are drawn?

    .venv/bin/python bench/reading_bench.py [--quick] [--out FILE] [--toolkits qt,tk,gtk,web]
                                            [--seed 0]

Draws windows of our own with words from a vocabulary (2-3 letter labels, UI words, long
words, numbers, non-ASCII, two-word labels) in Qt (PySide6 widgets), Tk, GTK 3 (system
python3 + gi) and a web page in Chromium, in ten fonts (DejaVu, Liberation, Nimbus, URW,
Noto), 9-40 px, regular and bold, at 1x and 2x, in five colour schemes (dark on light,
light on dark, grey buttons, coloured and pastel backgrounds); see bench/_reading_scenes.py.
X windows are drawn on a private Xvfb (`virtual_display`) and captured with the project's
capture backend. Prints one JSON object on stdout (progress on stderr):

- ``recall``: placed words found on their element's box (`find_term` over
  `rows(read_frame(frame))`), overall with a 95 % Wilson interval and by toolkit, font,
  size (logical px), scheme, scale, weight, element kind, word class and frame size;
- ``instruction_recall``: "Click <word>" lights the word's box (>= 200/255) in its
  per-term map at the policy's input size (160x256); ``offtarget_rate``: the map is also
  lit outside the box;
- ``false_positives``: words NOT on the frame matched at or above the map threshold
  (``painted``: score >= find.LOW, a map value > 0; ``lit``: >= 200/255), for unrelated
  words (short ones separately: matches inside longer words) and one-letter variants of
  placed words (``near_miss``: the fuzzy tolerance's price);
- ``timing``: seconds per frame, p50/p95 by physical frame size, for a from-scratch
  read (`ScreenReader().read`, which is `read_frame`; detection and recognition apart)
  and for `ScreenReader.read` of the same frame with one status line added
  (``incremental``); ``incremental_vs_fresh``: on the small frames (full run), whether
  that incremental read gives the texts a fresh read of the changed frame gives, and the
  largest box difference in pixels;
- ``misses``: every word not found, with what the reader read on its box;
  ``instruction_misses``: every word whose map was not lit, with why (its term was cut up
  by the instruction parser, or the match scored below the lit value: what was read);
  ``instruction_offtarget``: every map lit outside its word's box, with what is written there.

``--quick``: three frames per toolkit up to 800x600 (45-60 s on 2 busy cores); the
full run, ten frames per toolkit up to 1280x800 (940 words), takes 2.5-6.5 minutes. A toolkit that is not
installed is reported under ``unavailable`` and skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _reading_scenes as scenes  # noqa: E402
from _reading_measure import LIT_SCORE, measure  # noqa: E402
from _reading_render import RENDERERS, RenderUnavailable  # noqa: E402

from deskmimic.models.perception import find, ocr_engine  # noqa: E402
from deskmimic.recorder.virtual_display import virtual_display  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def wilson(k: int, n: int, z: float = 1.96) -> list[float]:
    """95 % Wilson score interval of k successes in n."""
    if n == 0:
        return [0.0, 1.0]
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    r = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [round(c - r, 4), round(c + r, 4)]


def size_bucket(px: int) -> str:
    return "9-11px" if px <= 11 else "12-15px" if px <= 15 else "16-22px" if px <= 22 else "24-40px"


def frame_bucket(hw: list[int]) -> str:
    h, w = hw
    return "<=400x300" if w <= 400 and h <= 300 else "<=800x600" if w <= 800 and h <= 600 else "1280x800"


def word_class(text: str) -> str:
    for name, words in (("short", scenes.SHORT), ("number", scenes.NUMBERS),
                        ("non_ascii", scenes.NON_ASCII), ("pair", scenes.PAIRS),
                        ("long", scenes.LONG)):
        if text in words:
            return name
    return "medium"


def _rate(rows: list[dict], key: str) -> dict:
    k = sum(bool(r[key]) for r in rows)
    return {"rate": round(k / len(rows), 4) if rows else None, "n": len(rows)}


def _by(rows: list[dict], dims: list[str], key: str) -> dict:
    out: dict = {}
    for dim in dims:
        groups: dict = defaultdict(list)
        for r in rows:
            groups[str(r[dim])].append(r)
        out[f"by_{dim}"] = {g: _rate(v, key) for g, v in sorted(groups.items())}
    return out


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))], 3)


def _timing(frames: list[dict]) -> dict:
    out: dict = {}
    for name, key in (("read_frame", "read_s"), ("incremental", "incremental_s")):
        groups: dict = defaultdict(list)
        for f in frames:
            groups[f["frame"]].append(f)
        out[name] = {
            b: {"n": len(v), "p50_s": _pct([f[key] for f in v], 0.5),
                "p95_s": _pct([f[key] for f in v], 0.95),
                **({"detect_p50_s": _pct([f["detect_s"] for f in v], 0.5),
                    "recognize_p50_s": _pct([f["recognize_s"] for f in v], 0.5),
                    "lines_mean": round(statistics.mean(f["lines"] for f in v), 1)}
                   if key == "read_s" else {})}
            for b, v in sorted(groups.items())}
    return out


def summarize(frames: list[dict]) -> dict:
    """The JSON's figures from the per-frame results (see the module doc)."""
    words, insts, dis = [], [], []
    for f in frames:
        for wd in f["words"]:
            if not wd["visible"]:
                continue
            row = {**f["scene"], **wd, "class": word_class(wd["text"])}
            words.append(row)
            if "instruction" in wd:
                insts.append({**row, "lit": wd["instruction"]["lit"],
                              "offtarget": wd["instruction"]["offtarget"]})
        for d in f["distractors"]:
            dis.append(d)
    dims = ["toolkit", "font", "size", "scheme", "scale", "weight", "kind", "class", "frame"]
    found = sum(r["found"] for r in words)
    lit = sum(r["lit"] for r in insts)
    fp: dict = {}
    for name, sel in (("unrelated_long", lambda d: d["kind"] == "unrelated" and not d["short"]),
                      ("unrelated_short", lambda d: d["kind"] == "unrelated" and d["short"]),
                      ("near_miss", lambda d: d["kind"] == "near_miss")):
        group = [d for d in dis if sel(d)]
        fp[name] = {"n": len(group), **{f"{t}_rate": round(sum(d[t] for d in group) / len(group), 4)
                                        if group else None for t in ("painted", "lit")},
                    "examples": [[d["word"], d["score"]] for d in group if d["painted"]][:12]}
    inc = [f for f in frames if "incremental_same_texts" in f]
    return {
        "recall": {"rate": round(found / len(words), 4) if words else None, "n": len(words),
                   "ci95": wilson(found, len(words)), **_by(words, dims, "found")},
        "instruction_recall": {
            "rate": round(lit / len(insts), 4) if insts else None, "n": len(insts),
            "ci95": wilson(lit, len(insts)),
            "offtarget_rate": _rate(insts, "offtarget")["rate"],
            **_by(insts, ["toolkit", "size", "scale", "class"], "lit")},
        "false_positives": fp,
        "timing": _timing(frames),
        "incremental_found_rate": _rate(frames, "incremental_found")["rate"],
        "incremental_vs_fresh": {
            "same_texts": _rate(inc, "incremental_same_texts"),
            "max_box_diff_px": max((f["incremental_box_diff_px"] for f in inc), default=None)},
        "not_visible": sum(not wd["visible"] for f in frames for wd in f["words"]),
        "misses": [{k: r[k] for k in ("toolkit", "kind", "font", "px", "weight", "scheme",
                                      "scale", "text", "read")} for r in words if not r["found"]],
        "instruction_misses": [
            {k: r[k] for k in ("toolkit", "font", "px", "scale", "text")}
            | {"why": r["instruction"]["why"] or f"match score {r['score']}",
               "read": r.get("read", [])}
            for r in insts if not r["lit"]],
        "instruction_offtarget": [
            {k: r[k] for k in ("toolkit", "font", "px", "scale", "text")}
            | {"lit_on": r["instruction"]["offtarget_read"]} for r in insts if r["offtarget"]],
    }


def _save_misses(folder: Path, i: int, rgb, truth: list[dict], res: dict) -> None:
    """Each missed word's element, cut out (with a margin) as a PNG to look at."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for j, (tr, wd) in enumerate(zip(truth, res["words"], strict=True)):
        if wd.get("found", True) or not tr.get("box"):
            continue
        x0, y0, x1, y1 = tr["box"]
        crop = rgb[max(0, y0 - 8) : y1 + 8, max(0, x0 - 8) : x1 + 8]
        name = f"{i:02d}_{j:02d}_{res['scene']['toolkit']}_{res['scene']['px']}px.png"
        Image.fromarray(crop).save(folder / name)


def reader_version() -> dict:
    """The commit and a hash of the reader's sources as they are now: the lead edits them
    between commits, and a figure must name the code it measured."""
    import hashlib
    import subprocess

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for f in sorted((root / "models" / "perception").glob("*.py")):
        digest.update(f.name.encode() + f.read_bytes())
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                          capture_output=True, text=True).stdout.strip()
    return {"commit": head or None, "perception_sources_sha256": digest.hexdigest()[:12]}


def run(args: argparse.Namespace) -> dict:
    plan = [s for s in scenes.plan(args.quick, args.seed) if s["toolkit"] in args.toolkits]
    rng = random.Random(args.seed)
    frames, unavailable = [], {}
    t0 = time.monotonic()
    with virtual_display(width=1280, height=800, force=True):
        for i, scene in enumerate(plan):
            if scene["toolkit"] in unavailable:
                continue
            try:
                rgb, truth = RENDERERS[scene["toolkit"]](scene)
            except RenderUnavailable as exc:
                unavailable[scene["toolkit"]] = str(exc)
                log(f"  {scene['toolkit']}: unavailable: {exc}")
                continue
            res = measure(scene, rgb, truth, rng, scenes.DISTRACTORS,
                          check_incremental=not args.quick and rgb.shape[1] <= 400)
            res["scene"] = {"toolkit": scene["toolkit"], "font": scene["font"],
                            "px": scene["px"], "size": size_bucket(scene["px"]),
                            "scheme": scene["scheme"], "scale": scene["scale"],
                            "weight": "bold" if scene["bold"] else "regular",
                            "frame": frame_bucket(res["frame_hw"])}
            res["frame"] = res["scene"]["frame"]
            frames.append(res)
            if args.misses_dir:
                _save_misses(args.misses_dir, i, rgb, truth, res)
            ok = sum(w.get("found", False) for w in res["words"])
            log(f"[{i + 1}/{len(plan)}] {scene['toolkit']} {scene['font']} {scene['px']}px "
                f"x{scene['scale']} {scene['scheme']}: {ok}/{len(res['words'])} found, "
                f"read {res['read_s']:.2f}s, incremental {res['incremental_s']:.2f}s")
    return {
        "bench": "reading", "mode": "quick" if args.quick else "full", "seed": args.seed,
        "engine": ocr_engine.ENGINE, "reader": reader_version(),
        "thresholds": {"find_low": find.LOW, "lit_value": 200, "lit_score": round(LIT_SCORE, 4)},
        "host": {"cpus": os.cpu_count(), "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
        "frames": len(frames), "unavailable": unavailable,
        **summarize(frames),
        "elapsed_s": round(time.monotonic() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--quick", action="store_true", help="three small frames per toolkit")
    ap.add_argument("--out", type=Path, help="also write the JSON to this file")
    ap.add_argument("--toolkits", default="qt,tk,gtk,web",
                    help="comma-separated subset of qt,tk,gtk,web (default: all)")
    ap.add_argument("--seed", type=int, default=0, help="word choice and distractors")
    ap.add_argument("--misses-dir", type=Path,
                    help="write each missed word's element as a PNG crop here")
    args = ap.parse_args(argv)
    args.toolkits = [t for t in args.toolkits.split(",") if t]
    bad = set(args.toolkits) - set(RENDERERS)
    if bad:
        ap.error(f"unknown toolkits: {sorted(bad)}")
    result = run(args)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
