"""The ground-truth record of a clip: product fields, clean-frame ranges and per-frame facts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from livegen.overlay import LiveRoomSpec, avatar_initial
from livegen.render import ProductSpec, RenderedFrame
from livegen.scene import ClipSpec


def frame_ranges(frames: Sequence[RenderedFrame], ok: Callable[[RenderedFrame], bool], min_len_s: float = 0.0) -> list[list[float]]:
    """Time ranges [first, last] (s, inclusive frame times) of runs of frames where ``ok`` holds."""
    ranges, start, prev = [], None, None
    for f in frames:
        if ok(f):
            start = f.t if start is None else start
        elif start is not None:
            if prev.t - start >= min_len_s:
                ranges.append([round(start, 2), round(prev.t, 2)])
            start = None
        prev = f
    if start is not None and prev.t - start >= min_len_s:
        ranges.append([round(start, 2), round(prev.t, 2)])
    return ranges


def is_sharp_visible(f: RenderedFrame) -> bool:
    """Product face wholly in frame, unoccluded, without motion blur, in focus (any orientation)."""
    return f.in_frame > 0.999 and f.motion_blur_px < 1.5 and f.defocus_px < 0.5 and f.occluded < 0.0005


def is_best(f: RenderedFrame, max_yaw: float = 8.0, max_roll: float = 4.0) -> bool:
    """Sharp, fully visible and frontal: the frames a keyframe selector should find."""
    return is_sharp_visible(f) and abs(f.yaw) <= max_yaw and abs(f.roll) <= max_roll


def truth_record(product: ProductSpec, clip: ClipSpec, live: LiveRoomSpec, frames: Sequence[RenderedFrame], seed: int) -> dict:
    kind = {"product_type": product.product_type, "department": product.department} if product.department else {}
    return {
        "brand": product.brand,
        "product_name": product.product_name,
        "category": product.category,
        **kind,
        "key_attributes": dict(product.key_attributes),
        "price": product.price,
        "speech": product.speech,
        "speech_start": clip.speech_start,
        "best_frames": frame_ranges(frames, is_best),
        "readable_frames": frame_ranges(frames, is_sharp_visible),
        "transition_start": clip.first("transition").start if clip.first("transition") else None,
        "seed": seed,
        "video": {"width": clip.width, "height": clip.height, "fps": clip.fps, "duration": clip.duration, "frame_count": clip.frame_count},
        "overlay_text": [avatar_initial(live), live.streamer, live.viewers, "LIVE", live.price_banner, live.buy_button]
        + [f"{m.user}: {m.text}" for m in live.chat] + live.skin_text() + [sticker.text for sticker in live.stickers],
        "card_text": [live.next_title, live.next_subtitle, live.next_note],
        "segments": [{"kind": s.kind, "start": s.start, "end": s.end, "note": s.note} for s in clip.timeline],
        "frames": [
            {
                "i": f.index,
                "t": round(f.t, 2),
                "box": list(f.box) if f.box else None,
                "in_frame": round(f.in_frame, 2),
                "motion_blur_px": round(f.motion_blur_px, 1),
                "defocus_px": round(f.defocus_px, 1),
                "occluded": round(f.occluded, 3),
                "yaw": round(f.yaw, 1),
                "roll": round(f.roll, 1),
            }
            for f in frames
        ],
    }


def format_json(value: object, indent: int = 0) -> str:
    """Readable, diff-friendly JSON: nested containers spread over lines, flat lists and flat records on one line each."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    flat = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    if isinstance(value, dict):
        if not value:
            return "{}"
        if indent > 0 and all(not isinstance(v, (dict, list)) or _is_flat_list(v) for v in value.values()):
            return flat(value)  # a flat record: one line
        items = [f"{inner}{flat(k)}: {format_json(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if _is_flat_list(value) or all(_is_flat_list(v) for v in value):
            return flat(value)
        return "[\n" + ",\n".join(inner + format_json(v, indent + 1) for v in value) + "\n" + pad + "]"
    return flat(value)


def _is_flat_list(v: object) -> bool:
    return isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v)


def dump_truth(truth: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_json(truth) + "\n", encoding="utf-8")


def truth_path_for(out: Path) -> Path:
    return out.with_name(out.stem + ".truth.json")


