"""Generate the synthetic livestream benchmark: clips with ground truth, a manifest and COCO boxes.

    python tools/make_benchmark.py --out bench/ --clips 100 --seed 0 [--workers 2] [--coco-images]

writes ``DIR/clips/clip_NNNN.mp4`` (H.264/AAC, vertical 406x720 or horizontal 720x406, 6-10 s, 25 fps)
with ``clip_NNNN.truth.json`` beside each (product record, per-frame boxes and facts, clean-frame
ranges), ``DIR/manifest.json`` (one row per clip) and ``DIR/coco/annotations.json`` (COCO product boxes
of every ``--coco-stride``-th frame; ``--coco-images`` also writes those frames as JPEGs under
``DIR/coco/frames/``). Clip i is a pure function of (seed, i): the same command writes the same bytes.

Needs ffmpeg, espeak-ng and fonts-dejavu-core + fonts-noto-cjk (``tools/install.sh`` installs them).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/: the shared renderer, livegen

import cv2  # noqa: E402
from livegen.benchmark import ZH_VOICES, clip_recipe  # noqa: E402
from livegen.clip import make_clip  # noqa: E402
from livegen.coco import coco_document, frame_file  # noqa: E402
from livegen.layouts import expand  # noqa: E402
from livegen.overlay import SKINS  # noqa: E402
from livegen.photos import available  # noqa: E402
from livegen.render import RenderedFrame  # noqa: E402
from livegen.truth import format_json  # noqa: E402

MANIFEST_SCHEMA = "liveguard.benchmark/1"


def make_one(out: Path, seed: int, index: int, duration: float | None, coco_stride: int, coco_images: bool,
             layouts: tuple[str, ...] = ("classic",), skins: tuple[str, ...] = ("classic",), photos: tuple[Path, ...] = (),
             claims: bool = False, zh_voice: str = ZH_VOICES[0]) -> dict:
    """Render clip ``index`` into ``out/clips``; returns its truth record and the seconds it took."""
    cv2.setNumThreads(1)  # one clip per core
    started = time.perf_counter()
    recipe = clip_recipe(seed, index, duration, layouts, skins, photos, claims, zh_voice)
    video = out / "clips" / f"{recipe.clip_id}.mp4"

    def save(frame: RenderedFrame) -> None:
        if coco_images and frame.index % coco_stride == 0:
            path = out / "coco" / frame_file(recipe.clip_id, frame.index)
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), frame.image, [cv2.IMWRITE_JPEG_QUALITY, 92])

    truth = make_clip(
        video, recipe.seed, product=recipe.product, live=recipe.live, clip=recipe.clip, pose_at=recipe.motion,
        font_path=recipe.font_path(), audio_spec=recipe.audio, extra_truth=recipe.truth_extra(), on_frame=save,
    )
    return {"truth": truth, "seconds": time.perf_counter() - started}


def _job(args: tuple) -> dict:
    return make_one(*args)


def manifest_row(truth: dict, out: Path) -> dict:
    cid = truth["clip_id"]
    return {
        "id": cid,
        "video": f"clips/{cid}.mp4",
        "truth": f"clips/{cid}.truth.json",
        "brand": truth["brand"],
        "product_name": truth["product_name"],
        "category": truth["category"],
        "price": truth["price"],
        "language": truth["language"],
        "orientation": truth["orientation"],
        "duration": truth["video"]["duration"],
        "has_audio": truth["has_audio"],
        "has_transition": truth["has_transition"],
        "segments": [s["kind"] for s in truth["segments"]],
        "layout": truth["layout"],
        "skin": truth.get("skin", "classic"),
        **({"claims": len(truth["claims"]), "claim_families": sorted({c["family"] for c in truth["claims"]})} if "claims" in truth else {}),
    }


def make_benchmark(
    out: Path, clips: int, seed: int, *, workers: int = 2, duration: float | None = None, coco_stride: int = 5,
    coco_images: bool = False, layouts: tuple[str, ...] = ("classic",), skins: tuple[str, ...] = ("classic",),
    photos: tuple[Path, ...] = (), claims: bool = False, zh_voice: str = ZH_VOICES[0], indices: tuple[int, ...] = (), log=print,
) -> dict:
    """Generate the dataset (or only its clips ``indices``, each the same bytes as in the whole); returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    chosen = indices or tuple(range(clips))
    clips = len(chosen)
    jobs = [(out, seed, i, duration, coco_stride, coco_images, layouts, skins, photos, claims, zh_voice) for i in chosen]
    started = time.perf_counter()
    results: list[dict] = []
    if workers > 1 and clips > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for done, res in enumerate(pool.imap(_job, jobs), 1):
                results.append(res)
                log(f"[{done}/{clips}] {res['truth']['clip_id']} {res['seconds']:.1f} s")
    else:
        for done, job in enumerate(jobs, 1):
            results.append(_job(job))
            log(f"[{done}/{clips}] {results[-1]['truth']['clip_id']} {results[-1]['seconds']:.1f} s")
    truths = [r["truth"] for r in results]
    coco = coco_document(((t["clip_id"], f"clips/{t['clip_id']}.mp4", t) for t in truths), coco_stride)
    (out / "coco").mkdir(exist_ok=True)
    (out / "coco" / "annotations.json").write_text(json.dumps(coco, ensure_ascii=False) + "\n", encoding="utf-8")
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "seed": seed,
        "clips": [manifest_row(t, out) for t in truths],
        "coco": {"annotations": "coco/annotations.json", "stride": coco_stride, "images_written": coco_images},
        "generator": "tools/make_benchmark.py",
        "command": f"python tools/make_benchmark.py --out {out} --clips {clips} --seed {seed}"
        + (f" --duration {duration}" if duration else "") + (f" --layouts {','.join(layouts)}" if layouts != ("classic",) else "")
        + (f" --skins {','.join(skins)}" if skins != ("classic",) else "") + (f" --photos {photos[0].parent}" if photos else "")
        + (" --claims" if claims else "") + (f" --zh-voice {zh_voice}" if zh_voice != ZH_VOICES[0] else "")
        + (f" --indices {','.join(map(str, indices))}" if indices else ""),
        **({"claims": True} if claims else {}),
        **({"zh_voice": zh_voice} if zh_voice != ZH_VOICES[0] else {}),
        "layouts": list(layouts),
        "skins": list(skins),
        "photos": [p.name for p in photos],
        "generation_seconds": round(time.perf_counter() - started, 1),
        "workers": workers,
    }
    (out / "manifest.json").write_text(format_json(manifest) + "\n", encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="dataset folder (created)")
    ap.add_argument("--clips", type=int, default=100, help="number of clips (default 100)")
    ap.add_argument("--seed", type=int, default=0, help="dataset seed (default 0); same seed, same clips")
    ap.add_argument("--workers", type=int, default=2, help="clips rendered in parallel (default 2)")
    ap.add_argument("--duration", type=float, default=None, help="force every clip to this many seconds (default: 6-10 s by seed)")
    ap.add_argument("--coco-stride", type=int, default=5, help="annotate every Nth frame (default 5: 5 per second)")
    ap.add_argument("--coco-images", action="store_true", help="also write the annotated frames as JPEGs under DIR/coco/frames")
    ap.add_argument("--layouts", default="classic", help="packaging layout families to draw from (livegen/layouts.py): classic "
                    "(default, the one family of earlier benchmarks), tuned, held-out, all, or NAME,NAME...")
    ap.add_argument("--skins", default="classic", help=f"live-room skins to draw from: classic (default), all, or NAME,NAME... "
                    f"({', '.join(SKINS)})")
    ap.add_argument("--photos", type=Path, default=None, help="a folder with catalogued product photos (livegen/photos.py, "
                    "e.g. opencv-doc's examples/data): every clip shows one of them instead of a drawn pack")
    ap.add_argument("--indices", metavar="LIST", help="render only these clips of the dataset (3,7,10-12), each the same bytes "
                    "as in the whole: clips of a rare kind, found from their recipes")
    ap.add_argument("--claims", action="store_true", help="put claims that false-advertising rules forbid into about half the "
                    "clips' speech and live room, near misses into some others, with their truth (livegen/claims.py, issue 15)")
    ap.add_argument("--zh-voice", choices=ZH_VOICES, default=ZH_VOICES[0], help=f"espeak-ng voice of Chinese speech: {ZH_VOICES[0]} "
                    f"(default, of every earlier benchmark: it spells the pinyin out in English) or {ZH_VOICES[1]} (Mandarin)")
    args = ap.parse_args(argv)
    try:
        indices = _indices(args.indices) if args.indices else ()
        layouts = expand(args.layouts)
        skins = SKINS if args.skins == "all" else tuple(n.strip() for n in args.skins.split(",") if n.strip())
        if not skins or set(skins) - set(SKINS):
            raise ValueError(f"--skins {args.skins!r}: choose from {', '.join(SKINS)} or all")
        photos = tuple(available(args.photos)) if args.photos else ()
    except (ValueError, FileNotFoundError) as exc:
        ap.error(str(exc))
    if args.duration is not None and not 4.0 <= args.duration <= 20.0:
        ap.error("--duration must be between 4 and 20 s")
    try:
        manifest = make_benchmark(
            args.out, args.clips, args.seed, workers=args.workers, duration=args.duration, coco_stride=args.coco_stride,
            coco_images=args.coco_images, layouts=layouts, skins=skins, photos=photos, claims=args.claims, zh_voice=args.zh_voice,
            indices=indices,
            log=lambda m: print(m, file=sys.stderr),
        )
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"make_benchmark: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(manifest['clips'])} clips to {args.out} in {manifest['generation_seconds']} s", file=sys.stderr)
    return 0


def _indices(text: str) -> tuple[int, ...]:
    """'3,7,10-12' -> (3, 7, 10, 11, 12)."""
    out: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ValueError(f"--indices {text!r}: comma-separated clip indexes or ranges, e.g. 3,7,10-12")
        out += range(int(low), int(high or low) + 1)
    return tuple(dict.fromkeys(out))


if __name__ == "__main__":
    sys.exit(main())
