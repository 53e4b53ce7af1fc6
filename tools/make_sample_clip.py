"""Generate the bundled synthetic livestream demo clip and its ground truth.

    python tools/make_sample_clip.py --out samples/demo.mp4 [--seed 7]

writes a vertical 540x960, 25 fps, 10 s H.264/AAC clip of a streamer showing a product package,
plus ``samples/demo.truth.json`` (the product record, the speech, the time ranges where the product
is sharp, frontal and fully visible, the transition start and per-frame annotations). The clip
exercises frame scoring (paper §3.3): motion-blurred swings, camera defocus, a hand over the label,
a sharp-but-turned segment, an always-sharp live-room overlay (distractor text for OCR) and a final
slide to a "next product" card, so that the last frame (the paper's baseline) is a poor pick.

Output is a pure function of the seed: every frame draws its randomness from its own
``numpy.random.default_rng((seed, frame_index, stream))`` and the encoder runs bit-exact. The pieces
(``ProductSpec``, ``render_package``, ``render_background``, ``camera_effects``, ``overlay_ui``,
``synthesize_speech``, ``encode``) are small and hold no global state, so a bigger benchmark generator
can reuse them with other products, fonts, layouts and motion scripts.

Needs ffmpeg (libx264, aac), espeak-ng and a bold TTF (Debian: ``fonts-dejavu-core``).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# --------------------------------------------------------------------------------------------
# Specs (plain values)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageStyle:
    """Colours (RGB) of a package front: gradient top/bottom, text ink, accent lines."""

    top: tuple[int, int, int] = (236, 246, 252)
    bottom: tuple[int, int, int] = (178, 214, 238)
    ink: tuple[int, int, int] = (22, 38, 84)
    accent: tuple[int, int, int] = (214, 150, 92)


@dataclass(frozen=True)
class ProductSpec:
    """What a product is (the truth record) and how its package front reads.

    ``name_lines`` is how ``product_name`` is broken over lines on the pack; ``spec_text`` the
    net-content line; ``tagline`` a small extra line. ``price`` is the truth value as shown in
    the live room, ``speech`` what the streamer says.
    """

    brand: str
    product_name: str
    category: str
    key_attributes: dict[str, str]
    price: str
    speech: str
    name_lines: tuple[str, ...]
    spec_text: str
    tagline: str = ""
    style: PackageStyle = PackageStyle()
    package_size: tuple[int, int] = (280, 360)  # face width, height in pixels at scale 1


@dataclass(frozen=True)
class ChatMessage:
    user: str
    text: str


@dataclass(frozen=True)
class LiveRoomSpec:
    """The live-room UI drawn over the camera picture (always sharp; OCR distractor text)."""

    streamer: str = "@MiaLive"
    viewers: str = "8.6k watching"
    price_banner: str = "Only ¥129 today"
    buy_button: str = "Buy"
    chat: tuple[ChatMessage, ...] = (
        ChatMessage("Anna", "does it work for dry skin?"),
        ChatMessage("Leo", "just ordered two!"),
        ChatMessage("Kiki", "link please"),
        ChatMessage("Sam", "love the packaging"),
        ChatMessage("Yuki", "is it fragrance free?"),
        ChatMessage("Max", "ship to Hangzhou?"),
        ChatMessage("Ivy", "restock soon?"),
    )
    chat_period_s: float = 1.5  # a new comment every so often
    next_title: str = "NEXT PRODUCT"
    next_subtitle: str = "Velvet Lip Tint"
    next_note: str = "coming up in 3 ... 2 ... 1"


@dataclass(frozen=True)
class Segment:
    """A span of the clip with one kind of camera/product behaviour."""

    kind: str  # enter | swing | settle | sharp | defocus | occluded | turn | angled | transition
    start: float
    end: float
    note: str = ""

    def progress(self, t: float) -> float:
        return min(max((t - self.start) / (self.end - self.start), 0.0), 1.0)


@dataclass(frozen=True)
class ClipSpec:
    """Geometry, timing and the motion script of one clip."""

    width: int = 540
    height: int = 960
    fps: int = 25
    duration: float = 10.0
    shutter: float = 0.5  # exposure as a fraction of the frame interval (drives motion blur)
    speech_start: float = 0.5
    timeline: tuple[Segment, ...] = (
        Segment("enter", 0.0, 1.0, "product rises into view, partly out of frame, motion blur"),
        Segment("swing", 1.0, 2.4, "fast left-right swing, strong directional motion blur"),
        Segment("settle", 2.4, 2.8, "swing dies down, residual blur"),
        Segment("sharp", 2.8, 4.8, "sharp, frontal, fully visible"),
        Segment("defocus", 4.8, 6.0, "camera focus hunting, defocus blur"),
        Segment("occluded", 6.0, 7.4, "a hand covers part of the label"),
        Segment("turn", 7.4, 8.2, "product turned away while swinging, motion blur"),
        Segment("angled", 8.2, 9.0, "sharp but turned away (not frontal)"),
        Segment("transition", 9.0, 10.0, "slide to a 'next product' card"),
    )

    @property
    def frame_count(self) -> int:
        return int(round(self.duration * self.fps))

    def segment_at(self, t: float) -> Segment:
        """The segment covering ``t``; times before the first or after the last clamp to it."""
        for seg in self.timeline:
            if t < seg.end:
                return seg
        return self.timeline[-1]

    def first(self, kind: str) -> Segment | None:
        return next((s for s in self.timeline if s.kind == kind), None)


DEMO_PRODUCT = ProductSpec(
    brand="AURORA",
    product_name="Hydra Glow Face Cream",
    category="skincare",
    key_attributes={"volume": "50 ml", "skin_type": "all skin types"},
    price="¥129",
    speech=(
        "Hi everyone! Today I'm showing you the Aurora Hydra Glow Face Cream, "
        "fifty milliliters, only one hundred twenty nine yuan."
    ),
    name_lines=("Hydra Glow", "Face Cream"),
    spec_text="50 ml",
    tagline="FOR ALL SKIN TYPES",
)


# --------------------------------------------------------------------------------------------
# Fonts and small drawing helpers
# --------------------------------------------------------------------------------------------

_FONT_FALLBACKS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/Library/Fonts/DejaVuSans-Bold.ttf",
)


def find_font(pattern: str = "DejaVu Sans:style=Bold", fallbacks: Sequence[str] = _FONT_FALLBACKS) -> Path:
    """Locate a TTF by fontconfig pattern (``fc-match``), else by known paths.

    Raises FileNotFoundError naming the Debian package when nothing is found.
    """
    if shutil.which("fc-match"):
        res = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True)
        path = Path(res.stdout.strip())
        wanted = pattern.split(":")[0].replace(" ", "").lower()
        if res.returncode == 0 and path.is_file() and wanted in path.name.lower().replace(" ", ""):
            return path
    for candidate in fallbacks:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(f"no font for {pattern!r}: install it (apt-get install -y fonts-dejavu-core)")


def fit_font(font_path: Path, text: str, max_width: int, size: int, min_size: int = 8) -> ImageFont.FreeTypeFont:
    """The largest font not above ``size`` whose rendering of ``text`` fits in ``max_width``."""
    while size > min_size:
        font = ImageFont.truetype(str(font_path), size)
        if font.getlength(text) <= max_width:
            return font
        size -= 1
    return ImageFont.truetype(str(font_path), min_size)


def vertical_gradient(h: int, w: int, top: Sequence[int], bottom: Sequence[int]) -> np.ndarray:
    """(h, w, 3) float32 gradient from ``top`` to ``bottom`` (same channel order as given)."""
    a = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    top_ = np.asarray(top, np.float32)[None, None, :]
    bottom_ = np.asarray(bottom, np.float32)[None, None, :]
    return np.broadcast_to(top_ * (1 - a) + bottom_ * a, (h, w, 3)).copy()


def alpha_over(dst: np.ndarray, rgba: np.ndarray, x: int, y: int) -> None:
    """Composite a straight-alpha BGRA image onto ``dst`` (uint8 or float32 BGR) in place, top-left at (x, y)."""
    h, w = rgba.shape[:2]
    H, W = dst.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x0 >= x1 or y0 >= y1:
        return
    src = rgba[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    a = src[..., 3:4] / 255.0
    region = dst[y0:y1, x0:x1].astype(np.float32)
    out = src[..., :3] * a + region * (1.0 - a)
    dst[y0:y1, x0:x1] = np.clip(out + 0.5, 0, 255).astype(dst.dtype) if dst.dtype == np.uint8 else out


def pil_rgba_to_bgra(img: Image.Image) -> np.ndarray:
    arr = np.asarray(img.convert("RGBA"))
    return arr[..., [2, 1, 0, 3]].copy()


def smoothstep(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


# --------------------------------------------------------------------------------------------
# Assets: package, background, hand, live-room UI
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageAsset:
    """A rendered package: BGRA image with a transparent margin and where the face lies in it."""

    image: np.ndarray  # (H, W, 4) uint8 BGRA
    face: tuple[int, int, int, int]  # x0, y0, x1, y1 of the package face inside ``image``


def render_package(spec: ProductSpec, font_path: Path, margin: int = 24) -> PackageAsset:
    """Draw the front of a box (brand, product name, tagline, net content) with Pillow.

    The face is drawn at its display size so that a frontal, unscaled pose is pixel-sharp.
    A soft contact shadow lives in the margin.
    """
    fw, fh = spec.package_size
    st = spec.style
    W, H = fw + 2 * margin, fh + 2 * margin
    face = Image.new("RGBA", (fw, fh), (0, 0, 0, 0))
    grad = vertical_gradient(fh, fw, st.top, st.bottom)
    body = Image.fromarray(np.clip(grad, 0, 255).astype(np.uint8), "RGB").convert("RGBA")
    mask = Image.new("L", (fw, fh), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, fw - 1, fh - 1), radius=12, fill=255)
    face.paste(body, (0, 0), mask)
    d = ImageDraw.Draw(face)
    d.rounded_rectangle((1, 1, fw - 2, fh - 2), radius=12, outline=(*st.ink, 120), width=2)
    # accent bands top and bottom
    d.rectangle((14, 16, fw - 15, 19), fill=(*st.accent, 255))
    d.rectangle((14, fh - 20, fw - 15, fh - 17), fill=(*st.accent, 255))

    brand_font = fit_font(font_path, spec.brand, int(fw * 0.86), 64)
    d.text((fw / 2, fh * 0.19), spec.brand, font=brand_font, fill=(*st.ink, 255), anchor="mm")
    d.line((fw * 0.3, fh * 0.29, fw * 0.7, fh * 0.29), fill=(*st.accent, 255), width=3)

    longest = max(spec.name_lines, key=len)
    name_font = fit_font(font_path, longest, int(fw * 0.84), 34)
    line_h = name_font.size * 1.22
    y = fh * 0.41
    for line in spec.name_lines:
        d.text((fw / 2, y), line, font=name_font, fill=(*st.ink, 255), anchor="mm")
        y += line_h

    # a droplet mark
    cx, cy = fw / 2, fh * 0.66
    d.ellipse((cx - 15, cy - 8, cx + 15, cy + 22), fill=(*st.accent, 230))
    d.polygon(((cx - 13, cy), (cx, cy - 26), (cx + 13, cy)), fill=(*st.accent, 230))

    if spec.tagline:
        tag_font = fit_font(font_path, spec.tagline, int(fw * 0.8), 16)
        d.text((fw / 2, fh * 0.79), spec.tagline, font=tag_font, fill=(*st.ink, 230), anchor="mm")
    spec_font = fit_font(font_path, spec.spec_text, int(fw * 0.6), 30)
    d.text((fw / 2, fh * 0.885), spec.spec_text, font=spec_font, fill=(*st.ink, 255), anchor="mm")

    # faint gloss stripe
    gloss = Image.new("RGBA", (fw, fh), (0, 0, 0, 0))
    ImageDraw.Draw(gloss).polygon(((fw * 0.62, 0), (fw * 0.80, 0), (fw * 0.30, fh), (fw * 0.12, fh)), fill=(255, 255, 255, 22))
    gloss.putalpha(Image.fromarray(np.minimum(np.asarray(gloss.getchannel("A")), np.asarray(mask))))
    face = Image.alpha_composite(face, gloss)

    canvas = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    shadow = Image.new("L", (W, H), 0)
    ImageDraw.Draw(shadow).rounded_rectangle((margin + 4, margin + 8, margin + fw + 4, margin + fh + 8), radius=14, fill=110)
    shadow = shadow.filter(ImageFilter.GaussianBlur(8))
    canvas.putalpha(shadow)
    canvas = Image.alpha_composite(canvas, _place(face, (W, H), (margin, margin)))
    return PackageAsset(pil_rgba_to_bgra(canvas), (margin, margin, margin + fw, margin + fh))


def _place(img: Image.Image, size: tuple[int, int], at: tuple[int, int]) -> Image.Image:
    out = Image.new("RGBA", size, (0, 0, 0, 0))
    out.paste(img, at)
    return out


def render_background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A soft studio: warm gradient, a ring-light glow, blurred shelves and bokeh, and a streamer silhouette (BGR uint8)."""
    img = vertical_gradient(height, width, (92, 58, 74), (176, 140, 196))  # BGR
    # shelves with blurry goods on them
    for sy in (int(height * 0.30), int(height * 0.55)):
        cv2.rectangle(img, (0, sy), (width, sy + 10), (70, 90, 120), -1)
        x = int(rng.integers(5, 40))
        while x < width - 30:
            w, h = int(rng.integers(25, 60)), int(rng.integers(40, 110))
            color = tuple(float(v) for v in rng.integers(80, 240, 3))
            cv2.rectangle(img, (x, sy - h), (x + w, sy), color, -1)
            x += w + int(rng.integers(8, 30))
    for _ in range(14):  # bokeh
        c = (int(rng.integers(0, width)), int(rng.integers(0, int(height * 0.7))))
        r = int(rng.integers(12, 45))
        layer = img.copy()
        cv2.circle(layer, c, r, tuple(float(v) for v in rng.integers(170, 255, 3)), -1, cv2.LINE_AA)
        img = cv2.addWeighted(layer, 0.35, img, 0.65, 0)
    glow_c = (int(width * 0.85), int(height * 0.12))
    glow = np.zeros((height, width), np.float32)
    cv2.circle(glow, glow_c, int(width * 0.35), 1.0, -1, cv2.LINE_AA)
    glow = cv2.GaussianBlur(glow, (0, 0), 40)[..., None]
    img = img * (1 - 0.35 * glow) + 250 * 0.35 * glow
    img = cv2.GaussianBlur(img, (0, 0), 5)  # studio depth of field

    # streamer silhouette: hair, face, neck, torso (mildly soft)
    layer = np.zeros((height, width, 4), np.float32)
    cx = width // 2 + int(rng.integers(-12, 13))
    hy = int(height * 0.25)
    skin, hair, top = (150, 180, 226), (30, 28, 40), (200, 214, 232)

    def fill(draw: Callable[[np.ndarray, tuple[float, ...]], None], color: tuple[int, int, int]) -> None:
        m = np.zeros((height, width), np.float32)
        draw(m, (1.0,))
        layer[..., :3] = layer[..., :3] * (1 - m[..., None]) + np.asarray(color, np.float32) * m[..., None]
        layer[..., 3] = np.maximum(layer[..., 3], m)

    fill(lambda m, c: cv2.ellipse(m, (cx, hy + 30), (118, 150), 0, 0, 360, c, -1, cv2.LINE_AA), hair)
    sy = int(height * 0.50)  # shoulder line
    fill(lambda m, c: cv2.ellipse(m, (cx, sy + 70), (235, 95), 0, 180, 360, c, -1, cv2.LINE_AA), top)
    fill(lambda m, c: cv2.rectangle(m, (cx - 235, sy + 70), (cx + 235, height), c, -1), top)
    fill(lambda m, c: cv2.rectangle(m, (cx - 34, hy + 60), (cx + 34, hy + 150), c, -1), skin)
    fill(lambda m, c: cv2.ellipse(m, (cx, hy), (78, 98), 0, 0, 360, c, -1, cv2.LINE_AA), skin)
    fill(lambda m, c: cv2.ellipse(m, (cx, hy - 62), (84, 46), 0, 180, 360, c, -1, cv2.LINE_AA), hair)
    layer = cv2.GaussianBlur(layer, (0, 0), 1.2)
    a = layer[..., 3:4]
    img = img * (1 - a) + layer[..., :3] * a
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def render_hand(scale: float = 1.0) -> np.ndarray:
    """A hand-and-forearm BGRA shape reaching in from the right (fingers pointing left)."""
    s = 2  # supersample for smooth edges
    W, H = int(480 * scale), int(230 * scale)
    m = np.zeros((H * s, W * s), np.uint8)
    u = scale * s

    def P(x: float, y: float) -> tuple[int, int]:
        return int(x * u), int(y * u)

    cv2.line(m, P(300, 125), P(480, 160), 255, int(110 * u), cv2.LINE_AA)  # forearm
    cv2.ellipse(m, P(250, 120), P(74, 64), -8, 0, 360, 255, -1, cv2.LINE_AA)  # palm
    for y0, length in ((72, 170), (102, 185), (132, 176), (160, 150)):  # fingers
        cv2.line(m, P(240, y0), P(240 - length, y0 + 6), 255, int(27 * u), cv2.LINE_AA)
        cv2.circle(m, P(240 - length, y0 + 6), int(13 * u), 255, -1, cv2.LINE_AA)
    cv2.line(m, P(225, 58), P(160, 30), 255, int(29 * u), cv2.LINE_AA)  # thumb
    cv2.circle(m, P(160, 30), int(14 * u), 255, -1, cv2.LINE_AA)
    m = cv2.resize(m, (W, H), interpolation=cv2.INTER_AREA)
    alpha = m.astype(np.float32) / 255.0
    inner = cv2.GaussianBlur(alpha, (0, 0), 6 * scale)
    skin = np.array([128, 160, 214], np.float32)  # BGR
    shade = 0.72 + 0.28 * np.clip(inner * 1.6, 0, 1)
    bgr = skin[None, None, :] * shade[..., None]
    # knuckle creases so the fingers read as fingers
    for y0 in (87, 117, 146):
        cv2.line(bgr, (int(60 * scale), int(y0 * scale)), (int(235 * scale), int((y0 + 3) * scale)), (104, 130, 180), max(1, int(2 * scale)), cv2.LINE_AA)
    return np.dstack([np.clip(bgr, 0, 255), alpha * 255]).astype(np.uint8)


@dataclass(frozen=True)
class UiAssets:
    """Pre-rendered live-room pieces (BGRA) and where they go."""

    header: np.ndarray
    header_xy: tuple[int, int]
    banner: np.ndarray
    banner_xy: tuple[int, int]
    chat: tuple[np.ndarray, ...]
    chat_box: tuple[int, int, int, int]  # x, y_bottom, width, line pitch
    next_card: np.ndarray  # BGR full frame


def avatar_initial(live: LiveRoomSpec) -> str:
    return live.streamer.lstrip("@")[:1].upper()


def render_ui(live: LiveRoomSpec, width: int, height: int, font_path: Path) -> UiAssets:
    """Draw the overlay pieces once: streamer header, price banner, chat bubbles, next-product card."""
    f = lambda size: ImageFont.truetype(str(font_path), size)  # noqa: E731
    # header: avatar, name, LIVE badge, viewers
    hw, hh = 300, 64
    header = Image.new("RGBA", (hw, hh), (0, 0, 0, 0))
    d = ImageDraw.Draw(header)
    d.rounded_rectangle((0, 0, hw - 1, hh - 1), radius=hh // 2, fill=(20, 16, 28, 150))
    d.ellipse((6, 6, hh - 6, hh - 6), fill=(236, 120, 160, 255))
    d.text((hh / 2, hh / 2), avatar_initial(live), font=f(26), fill=(255, 255, 255, 255), anchor="mm")
    d.text((hh + 6, 17), live.streamer, font=f(22), fill=(255, 255, 255, 255), anchor="lm")
    d.text((hh + 6, 44), live.viewers, font=f(14), fill=(230, 230, 235, 255), anchor="lm")
    bx = hw - 70
    d.rounded_rectangle((bx, 18, bx + 56, 46), radius=6, fill=(235, 40, 70, 255))
    d.text((bx + 28, 32), "LIVE", font=f(16), fill=(255, 255, 255, 255), anchor="mm")

    # price banner with a buy button
    bw, bh = width - 40, 64
    banner = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
    d = ImageDraw.Draw(banner)
    d.rounded_rectangle((0, 0, bw - 1, bh - 1), radius=16, fill=(240, 76, 48, 235))
    d.text((22, bh / 2), live.price_banner, font=fit_font(font_path, live.price_banner, bw - 150, 32), fill=(255, 255, 255, 255), anchor="lm")
    d.rounded_rectangle((bw - 112, 11, bw - 12, bh - 12), radius=20, fill=(255, 214, 64, 255))
    d.text((bw - 62, bh / 2), live.buy_button, font=f(22), fill=(120, 30, 10, 255), anchor="mm")

    # chat bubbles
    bubbles = []
    for msg in live.chat:
        name_font, text_font = f(18), f(18)
        name = f"{msg.user}: "
        w = int(name_font.getlength(name) + text_font.getlength(msg.text)) + 24
        img = Image.new("RGBA", (w, 34), (0, 0, 0, 0))
        d = ImageDraw.Draw(img)
        d.rounded_rectangle((0, 0, w - 1, 33), radius=16, fill=(10, 10, 16, 120))
        d.text((12, 17), name, font=name_font, fill=(255, 220, 120, 255), anchor="lm")
        d.text((12 + name_font.getlength(name), 17), msg.text, font=text_font, fill=(255, 255, 255, 255), anchor="lm")
        bubbles.append(pil_rgba_to_bgra(img))

    # next-product card (full frame)
    card = vertical_gradient(height, width, (70, 30, 60), (150, 60, 120))  # BGR
    card_img = Image.fromarray(np.clip(card[..., ::-1], 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(card_img)
    d.text((width / 2, height * 0.40), live.next_title, font=fit_font(font_path, live.next_title, width - 80, 52), fill=(255, 255, 255), anchor="mm")
    d.text((width / 2, height * 0.48), live.next_subtitle, font=fit_font(font_path, live.next_subtitle, width - 100, 36), fill=(255, 214, 64), anchor="mm")
    d.text((width / 2, height * 0.54), live.next_note, font=f(20), fill=(235, 225, 240), anchor="mm")
    next_card = np.asarray(card_img)[..., ::-1].copy()

    return UiAssets(
        header=pil_rgba_to_bgra(header),
        header_xy=(16, 40),
        banner=pil_rgba_to_bgra(banner),
        banner_xy=(20, height - bh - 22),
        chat=tuple(bubbles),
        chat_box=(16, height - bh - 40, width - 32, 40),
        next_card=next_card,
    )


# --------------------------------------------------------------------------------------------
# Motion script: where the product (and the occluding hand) are at time t
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pose:
    """One instant of a motion script: the package pose on screen and what the camera does.

    Centre (px), scale, in-plane ``angle`` and ``yaw`` (deg, 0 = frontal); ``hand`` is the
    occluding hand's reach in [0, 1]; ``defocus`` the camera's defocus radius (px); ``shake`` the
    handheld jitter amplitude (px).
    """

    cx: float
    cy: float
    scale: float = 1.0
    angle: float = 0.0
    yaw: float = 0.0
    hand: float = 0.0
    defocus: float = 0.0
    shake: float = 3.0


def demo_pose(clip: ClipSpec, t: float) -> Pose:
    """The scripted motion of the demo clip (see ``ClipSpec.timeline``)."""
    W, H = clip.width, clip.height
    cx0, cy0 = W / 2, H * 0.555
    seg = clip.segment_at(t)
    u = seg.progress(t)
    drift_x = 1.5 * math.sin(0.8 * t)
    drift_y = 1.5 * math.sin(1.1 * t + 0.4)
    if seg.kind == "enter":
        e = 1 - (1 - u) ** 3
        return Pose(cx0 - 40 * (1 - e), H + 20 + (cy0 - H - 20) * e, 0.95 + 0.05 * e, -10 * (1 - e))
    if seg.kind == "swing":
        env = math.sin(math.pi * u)
        ph = 2 * math.pi * 1.8 * (t - seg.start)
        return Pose(cx0 + 150 * env * math.sin(ph), cy0 + 22 * env * math.sin(2 * ph), 1.0, 14 * env * math.sin(ph + 0.6))
    if seg.kind == "settle":
        d = (1 - u) ** 3 * math.sin(2 * math.pi * 1.5 * u)
        return Pose(cx0 + 12 * d + drift_x * u, cy0 + drift_y * u, 1.0, 1.5 * d)
    if seg.kind in ("sharp", "defocus", "occluded"):
        pose = Pose(cx0 + drift_x, cy0 + drift_y, shake=1.0)
        if seg.kind == "defocus":
            return dataclasses.replace(pose, defocus=7.0 * math.sin(math.pi * u) ** 0.7)
        if seg.kind == "occluded":
            reach = smoothstep(u / 0.22) * (1 - smoothstep((u - 0.78) / 0.22))
            return dataclasses.replace(pose, hand=reach)
        return pose
    # turn, angled, transition: the product turns away (yaw) while swinging, then holds
    base_end = Pose(cx0 + 22, cy0 - 6, 0.97, 6.0, 38.0)
    if seg.kind == "turn":
        s = smoothstep(u)
        env = math.sin(math.pi * u)
        ph = 2 * math.pi * 2.2 * (t - seg.start)
        return Pose(
            cx0 + drift_x + (base_end.cx - cx0) * s + 110 * env * math.sin(ph),
            cy0 + (base_end.cy - cy0) * s + 15 * env * math.sin(2 * ph),
            1.0 + (base_end.scale - 1.0) * s,
            base_end.angle * s + 10 * env * math.sin(ph + 0.8),
            base_end.yaw * s,
        )
    return dataclasses.replace(base_end, cx=base_end.cx + drift_x, cy=base_end.cy + drift_y)


def face_quad(pose: Pose, face_w: int, face_h: int, focal: float = 900.0) -> np.ndarray:
    """Screen corners (4, 2) of the package face for ``pose`` (TL, TR, BR, BL): yaw with perspective, then roll."""
    hw, hh = face_w / 2, face_h / 2
    yaw, roll = math.radians(pose.yaw), math.radians(pose.angle)
    pts = []
    for x, y in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)):
        xr, z = x * math.cos(yaw), x * math.sin(yaw)
        k = focal / (focal + z)
        xp, yp = xr * k, y * k
        xq = xp * math.cos(roll) - yp * math.sin(roll)
        yq = xp * math.sin(roll) + yp * math.cos(roll)
        pts.append((pose.cx + pose.scale * xq, pose.cy + pose.scale * yq))
    return np.asarray(pts, np.float32)


# --------------------------------------------------------------------------------------------
# Scene composition and camera effects
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SceneAssets:
    background: np.ndarray  # BGR uint8
    package: PackageAsset
    hand: np.ndarray  # BGRA
    ui: UiAssets
    vignette: np.ndarray  # (H, W, 1) float32 multiplier


def _package_homography(asset: PackageAsset, quad: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = asset.face
    src = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    return cv2.getPerspectiveTransform(src, quad)


def _warp_over(dst: np.ndarray, rgba: np.ndarray, M: np.ndarray, roi: tuple[int, int, int, int], offset: tuple[float, float]) -> np.ndarray:
    """Warp a BGRA layer by homography ``M`` (source -> screen) into ``dst`` (float32 ROI at ``offset``); returns the layer alpha."""
    x0, y0, x1, y1 = roi
    T = np.array([[1, 0, -offset[0]], [0, 1, -offset[1]], [0, 0, 1]], np.float64)
    warped = cv2.warpPerspective(rgba, T @ M, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    a = warped[..., 3:4].astype(np.float32) / 255.0
    dst *= 1 - a
    dst += warped[..., :3].astype(np.float32) * a
    return a[..., 0]


def _hand_matrix(hand: np.ndarray, quad: np.ndarray, reach: float) -> np.ndarray:
    """Place the hand so that at full reach its fingers cover the right ~55% of the package face."""
    hh, hw = hand.shape[:2]
    tip = int(np.argmax(hand[..., 3].max(axis=0) > 0))  # leftmost hand column
    right = float(quad[:, 0].max())
    cy = float(quad[:, 1].mean()) - 30
    face_w = right - float(quad[:, 0].min())
    x_full = right - 0.55 * face_w - tip  # fingertips reach 55% into the face
    x = x_full + (1 - reach) * (hw - tip + 0.1 * face_w)
    return np.array([[1, 0, x], [0, 1, cy - hh / 2], [0, 0, 1]], np.float64)


def compose_scene(assets: SceneAssets, clip: ClipSpec, t: float, pose_at: Callable[[ClipSpec, float], Pose]) -> tuple[np.ndarray, dict]:
    """Composite the product (and hand) over the background, integrating over the shutter.

    Motion blur is physical: the scene is rendered at sub-times within the exposure and averaged,
    so a fast swing smears the product (and its edges with the background) along its path.
    Returns the float32 BGR scene and facts about the frame (face quad, blur length, occlusion).
    """
    bg = assets.background
    H, W = bg.shape[:2]
    fw = assets.package.face[2] - assets.package.face[0]
    fh = assets.package.face[3] - assets.package.face[1]
    exposure = clip.shutter / clip.fps
    pose = pose_at(clip, t)
    quad = face_quad(pose, fw, fh)
    p0, p1 = pose_at(clip, t - exposure / 2), pose_at(clip, t + exposure / 2)
    blur_px = float(np.linalg.norm(face_quad(p1, fw, fh) - face_quad(p0, fw, fh), axis=1).max())
    hand_px = abs(p1.hand - p0.hand) * assets.hand.shape[1]  # the hand moving in or out smears too
    n = int(min(max(math.ceil(blur_px / 1.2), math.ceil(hand_px / 2.5), 1), 40))
    times = [t] if n == 1 else [t - exposure / 2 + exposure * (i + 0.5) / n for i in range(n)]

    poses = [pose_at(clip, s) for s in times]
    pkg_h, pkg_w = assets.package.image.shape[:2]
    mats, corners = [], []
    for p in poses:
        q = face_quad(p, fw, fh)
        M = _package_homography(assets.package, q)
        mats.append(M)
        c = cv2.perspectiveTransform(np.float32([[[0, 0], [pkg_w, 0], [pkg_w, pkg_h], [0, pkg_h]]]), M)[0]
        corners.append(c)
        if p.hand > 0:
            Mh = _hand_matrix(assets.hand, q, p.hand)
            hh, hw = assets.hand.shape[:2]
            corners.append(cv2.perspectiveTransform(np.float32([[[0, 0], [hw, 0], [hw, hh], [0, hh]]]), Mh)[0])
    allc = np.concatenate(corners)
    x0, y0 = int(max(math.floor(allc[:, 0].min()) - 2, 0)), int(max(math.floor(allc[:, 1].min()) - 2, 0))
    x1, y1 = int(min(math.ceil(allc[:, 0].max()) + 2, W)), int(min(math.ceil(allc[:, 1].max()) + 2, H))
    scene = bg.astype(np.float32)
    occluded = 0.0
    if x0 < x1 and y0 < y1:
        acc = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
        base = scene[y0:y1, x0:x1]
        still = all(np.array_equal(M, mats[0]) for M in mats)  # only the hand moves: draw the package once
        if still:
            _warp_over(base, assets.package.image, mats[0], (x0, y0, x1, y1), (x0, y0))
        for p, M in zip(poses, mats):
            layer = base.copy()
            if not still:
                _warp_over(layer, assets.package.image, M, (x0, y0, x1, y1), (x0, y0))
            if p.hand > 0:
                q = face_quad(p, fw, fh)
                ha = _warp_over(layer, assets.hand, _hand_matrix(assets.hand, q, p.hand), (x0, y0, x1, y1), (x0, y0))
                if p is poses[len(poses) // 2]:
                    face_mask = np.zeros(ha.shape, np.uint8)
                    cv2.fillConvexPoly(face_mask, np.round(q - [x0, y0]).astype(np.int32), 1)
                    area = face_mask.sum()
                    occluded = float((ha * face_mask).sum() / area) if area else 0.0
            acc += layer
        scene[y0:y1, x0:x1] = acc / len(poses)
    facts = {"quad": quad, "pose": pose, "motion_blur_px": blur_px, "defocus_px": pose.defocus, "occluded": occluded}
    return scene, facts


def disk_kernel(radius: float) -> np.ndarray:
    """A normalised anti-aliased disk (defocus point-spread function)."""
    r = int(math.ceil(radius)) + 1
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    k = np.clip(radius + 0.5 - np.hypot(xx, yy), 0, 1)
    return k / k.sum()


def jitter_at(t: float, seed: int, amplitude: float) -> tuple[float, float, float]:
    """Handheld camera shake (dx, dy px, roll deg): smooth sum of sines with seed-dependent phases."""
    ph = np.random.default_rng((seed, 0x7177)).uniform(0, 2 * math.pi, 6)
    dx = amplitude * (0.6 * math.sin(2.1 * t + ph[0]) + 0.4 * math.sin(5.3 * t + ph[1]))
    dy = amplitude * (0.6 * math.sin(1.7 * t + ph[2]) + 0.4 * math.sin(4.6 * t + ph[3]))
    roll = 0.12 * amplitude * (0.7 * math.sin(1.3 * t + ph[4]) + 0.3 * math.sin(3.9 * t + ph[5]))
    return dx, dy, roll


def camera_effects(
    scene: np.ndarray,
    *,
    defocus_px: float,
    shake: tuple[float, float, float],
    vignette: np.ndarray,
    noise_sigma: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply what the phone camera does to the composed scene: defocus, handheld shake, vignetting, sensor noise.

    Returns the uint8 BGR picture and the 2x3 affine of the shake (scene -> picture) so that
    annotations can follow.
    """
    img = scene
    if defocus_px > 0.5:
        img = cv2.filter2D(img, -1, disk_kernel(defocus_px), borderType=cv2.BORDER_REFLECT101)
    H, W = img.shape[:2]
    dx, dy, roll = shake
    A = cv2.getRotationMatrix2D((W / 2, H / 2), roll, 1.0)
    A[:, 2] += (dx, dy)
    img = cv2.warpAffine(img, A, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
    img = img * vignette
    if noise_sigma > 0:
        img = img + rng.normal(0.0, noise_sigma, img.shape[:2])[..., None].astype(np.float32)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), A


def make_vignette(width: int, height: int, strength: float = 0.22) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.hypot((xx - width / 2) / (width / 2), (yy - height / 2) / (height / 2)) / math.sqrt(2)
    return (1 - strength * r**2)[..., None].astype(np.float32)


def slide_transition(picture: np.ndarray, card: np.ndarray, progress: float) -> tuple[np.ndarray, int]:
    """Push the camera picture out to the left while ``card`` slides in from the right; returns the frame and the picture's x shift."""
    if progress <= 0:
        return picture, 0
    W = picture.shape[1]
    shift = int(round(smoothstep(progress) * W))
    out = np.empty_like(picture)
    out[:, : W - shift] = picture[:, shift:]
    out[:, W - shift :] = card[:, : shift]
    return out, -shift


def overlay_ui(frame: np.ndarray, ui: UiAssets, t: float, period: float) -> np.ndarray:
    """Draw the live-room UI (header, scrolling chat, price banner) at integer positions: always sharp."""
    out = frame.copy()
    alpha_over(out, ui.header, *ui.header_xy)
    x, y_bottom, _, pitch = ui.chat_box
    shown = int(t // period) + 1  # messages posted so far (one at t=0)
    newest_age = t - (shown - 1) * period
    lift = int(round(pitch * (1 - smoothstep(newest_age / 0.3))))  # newest slides up into place
    for k in range(3):
        i = shown - 1 - k
        if i < 0:
            break
        bubble = ui.chat[i % len(ui.chat)]
        y = y_bottom - (k + 1) * pitch + lift
        alpha_over(out, bubble, x, y)
    alpha_over(out, ui.banner, *ui.banner_xy)
    return out


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedFrame:
    index: int
    t: float
    image: np.ndarray = field(repr=False)  # BGR uint8, final (what gets encoded)
    box: tuple[int, int, int, int] | None  # visible product face, x1 y1 x2 y2, clipped to the frame
    in_frame: float  # fraction of the face area inside the frame
    motion_blur_px: float  # longest path of a face corner during the exposure
    defocus_px: float  # defocus disk radius
    occluded: float  # fraction of the face covered by the hand
    yaw: float  # degrees, 0 = frontal
    roll: float  # degrees, in-plane


def build_assets(product: ProductSpec, live: LiveRoomSpec, clip: ClipSpec, seed: int, font_path: Path) -> SceneAssets:
    return SceneAssets(
        background=render_background(clip.width, clip.height, np.random.default_rng((seed, 0xB6))),
        package=render_package(product, font_path),
        hand=render_hand(),
        ui=render_ui(live, clip.width, clip.height, font_path),
        vignette=make_vignette(clip.width, clip.height),
    )


def render_frame(
    assets: SceneAssets,
    clip: ClipSpec,
    live: LiveRoomSpec,
    seed: int,
    index: int,
    pose_at: Callable[[ClipSpec, float], Pose] = demo_pose,
) -> RenderedFrame:
    """Render frame ``index``: a pure function of (assets, clip, seed, index)."""
    t = index / clip.fps
    scene, facts = compose_scene(assets, clip, t, pose_at)
    pose = facts["pose"]
    rng = np.random.default_rng((seed, index, 0x901))
    picture, A = camera_effects(
        scene, defocus_px=pose.defocus, shake=jitter_at(t, seed, pose.shake), vignette=assets.vignette, noise_sigma=1.2, rng=rng
    )
    transition = clip.first("transition")
    progress = transition.progress(t) / 0.6 if transition else 0.0  # slide over 60% of it, then hold the card
    picture, shift = slide_transition(picture, assets.ui.next_card, min(progress, 1.0))
    frame = overlay_ui(picture, assets.ui, t, live.chat_period_s)

    quad = (cv2.transform(facts["quad"][None], A)[0] + [shift, 0]).astype(np.float32)
    x1, y1 = np.floor(quad.min(axis=0)).astype(int)
    x2, y2 = np.ceil(quad.max(axis=0)).astype(int)
    x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, clip.width), min(y2, clip.height)
    box = (int(x1), int(y1), int(x2), int(y2)) if x2 - x1 >= 8 and y2 - y1 >= 8 else None
    frame_rect = np.float32([[0, 0], [clip.width, 0], [clip.width, clip.height], [0, clip.height]])
    inside, _ = cv2.intersectConvexConvex(quad, frame_rect)
    in_frame = float(inside) / max(float(cv2.contourArea(quad)), 1e-6)
    return RenderedFrame(
        index, t, frame, box, min(in_frame, 1.0), facts["motion_blur_px"], facts["defocus_px"], facts["occluded"], pose.yaw, pose.angle
    )


def render_frames(
    assets: SceneAssets, clip: ClipSpec, live: LiveRoomSpec, seed: int, pose_at: Callable[[ClipSpec, float], Pose] = demo_pose
) -> Iterator[RenderedFrame]:
    for i in range(clip.frame_count):
        yield render_frame(assets, clip, live, seed, i, pose_at)


# --------------------------------------------------------------------------------------------
# Audio and encoding
# --------------------------------------------------------------------------------------------


def synthesize_speech(text: str, *, voice: str = "en-us", wpm: int = 150, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Speak ``text`` with espeak-ng; returns mono float32 samples in [-1, 1] and the sample rate.

    When ``max_seconds`` is given and the speech is longer, it is re-spoken faster to fit.
    """
    if not shutil.which("espeak-ng"):
        raise FileNotFoundError("espeak-ng not found: apt-get install -y espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        for _ in range(4):
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-a", "140", "-w", str(wav), text], check=True, capture_output=True)
            samples, rate = read_wav(wav)
            if max_seconds is None or len(samples) / rate <= max_seconds:
                break
            wpm = int(math.ceil(wpm * (len(samples) / rate) / max_seconds)) + 2
    return samples, rate


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2, "expected 16-bit PCM"
        data = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1)
        return data, w.getframerate()


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def mix_audio(speech: np.ndarray, rate: int, *, start: float, duration: float, seed: int, noise_db: float = -42.0) -> np.ndarray:
    """Place speech at ``start`` s in a ``duration`` s track over quiet seeded room noise (low-passed)."""
    n = int(round(duration * rate))
    out = np.zeros(n, np.float32)
    s0 = int(round(start * rate))
    seg = speech[: max(n - s0, 0)]
    peak = float(np.abs(seg).max()) if seg.size else 0.0
    if peak > 0:
        out[s0 : s0 + seg.size] = seg * (0.7 / peak)
    rng = np.random.default_rng((seed, 0xA0D10))
    white = rng.normal(0, 1, n).astype(np.float32)
    room = cv2.GaussianBlur(white[None, :], (0, 0), sigmaX=3.0)[0]  # soft low-pass "room tone"
    room *= 10 ** (noise_db / 20) / (float(np.sqrt(np.mean(room**2))) + 1e-9)
    return np.clip(out + room, -1.0, 1.0)


def encode(
    frames: Iterable[np.ndarray],
    audio: np.ndarray,
    rate: int,
    out: Path,
    *,
    width: int,
    height: int,
    fps: int,
    crf: int = 27,
    maxrate_kbps: int = 1000,
) -> None:
    """Pipe BGR frames (rawvideo) to ffmpeg with a WAV track: H.264 yuv420p + AAC mono, faststart, bit-exact."""
    if not shutil.which("ffmpeg"):
        raise FileNotFoundError("ffmpeg not found: apt-get install -y ffmpeg")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "audio.wav"
        write_wav(wav, audio, rate)
        errlog = Path(tmp) / "ffmpeg.log"
        cmd = [
            "ffmpeg", "-y", "-hide_banner", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "pipe:0",
            "-i", str(wav),
            "-map", "0:v:0", "-map", "1:a:0",
            "-c:v", "libx264", "-preset", "medium", "-crf", str(crf), "-maxrate", f"{maxrate_kbps}k", "-bufsize", f"{2 * maxrate_kbps}k",
            "-pix_fmt", "yuv420p", "-g", str(2 * fps), "-threads", "2",
            "-c:a", "aac", "-b:a", "64k", "-ac", "1",
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-movflags", "+faststart", str(out),
        ]  # fmt: skip
        with open(errlog, "wb") as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=err)
            try:
                assert proc.stdin is not None
                for img in frames:
                    if img.shape != (height, width, 3) or img.dtype != np.uint8:
                        raise ValueError(f"frame of shape {img.shape} {img.dtype}, expected ({height}, {width}, 3) uint8")
                    proc.stdin.write(np.ascontiguousarray(img).tobytes())
            except BrokenPipeError:
                pass
            finally:
                if proc.stdin:
                    proc.stdin.close()
                rc = proc.wait()
        if rc != 0:
            raise RuntimeError(f"ffmpeg failed ({rc}) writing {out}: {errlog.read_text(errors='replace').strip()}")


# --------------------------------------------------------------------------------------------
# The whole clip
# --------------------------------------------------------------------------------------------


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
    return {
        "brand": product.brand,
        "product_name": product.product_name,
        "category": product.category,
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
        + [f"{m.user}: {m.text}" for m in live.chat],
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


def make_clip(
    out: Path,
    seed: int = 7,
    *,
    product: ProductSpec = DEMO_PRODUCT,
    live: LiveRoomSpec = LiveRoomSpec(),
    clip: ClipSpec = ClipSpec(),
    pose_at: Callable[[ClipSpec, float], Pose] = demo_pose,
    truth_out: Path | None = None,
    font_path: Path | None = None,
) -> dict:
    """Render, speak and encode one clip; write its truth JSON; return the truth record."""
    font_path = font_path or find_font()
    assets = build_assets(product, live, clip, seed, font_path)
    speech, rate = synthesize_speech(product.speech, max_seconds=clip.duration - clip.speech_start - 0.3)
    audio = mix_audio(speech, rate, start=clip.speech_start, duration=clip.duration, seed=seed)
    rendered: list[RenderedFrame] = []

    def images() -> Iterator[np.ndarray]:
        for f in render_frames(assets, clip, live, seed, pose_at):
            rendered.append(dataclasses.replace(f, image=np.empty(0, np.uint8)))  # keep facts, drop pixels
            yield f.image

    encode(images(), audio, rate, out, width=clip.width, height=clip.height, fps=clip.fps)
    truth = truth_record(product, clip, live, rendered, seed)
    dump_truth(truth, truth_out or truth_path_for(out))
    return truth


def frame_digest(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("samples/demo.mp4"), help="output .mp4 (default samples/demo.mp4)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7); same seed, same clip")
    ap.add_argument("--truth", type=Path, default=None, help="truth JSON path (default: <out stem>.truth.json beside the clip)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        truth = make_clip(args.out, args.seed, truth_out=args.truth)
    except (FileNotFoundError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"make_sample_clip: {exc}", file=sys.stderr)
        return 1
    size = args.out.stat().st_size
    print(
        f"wrote {args.out} ({size / 1e6:.2f} MB) and {args.truth or truth_path_for(args.out)} "
        f"in {time.perf_counter() - t0:.1f} s; best frames {truth['best_frames']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
