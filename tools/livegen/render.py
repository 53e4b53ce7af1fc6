"""Rendering one frame: package, studio background, hand, physical motion blur, camera effects, overlay.

Every frame is a pure function of (assets, clip, seed, index): its randomness comes from
``numpy.random.default_rng((seed, index, stream))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from livegen.draw import fit_font, pil_rgba_to_bgra, vertical_gradient
from livegen.overlay import LiveRoomSpec, UiAssets, overlay_ui, render_ui, slide_transition
from livegen.scene import ClipSpec, Pose, demo_pose, face_quad


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
    layout: str = "classic"  # the packaging layout family (livegen.layouts); classic: the drawing below
    printed_brand: str = ""  # the brand as the pack styles it ("Aurora" for AURORA); "": as ``brand``
    claim: str = ""  # claim-first: the line in the largest type
    other_name: str = ""  # bilingual: the name in the other language
    font: str = ""  # the pack's font file; "": the clip's font
    other_font: str = ""  # the other script's font (bilingual)
    product_type: str = ""  # what it is, as the pack's language says it ("Face Cream", "面霜"); "": not recorded
    department: str = ""  # its Google product taxonomy path; "": not recorded
    photo: str = ""  # a photograph used as the package face instead of a drawing (livegen.photos)


# --------------------------------------------------------------------------------------------
# Assets: package, background, hand, live-room UI
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageAsset:
    """A rendered package: BGRA image with a transparent margin and where the face lies in it."""

    image: np.ndarray  # (H, W, 4) uint8 BGRA
    face: tuple[int, int, int, int]  # x0, y0, x1, y1 of the package face inside ``image``


def accent_bands(height: int, layout: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """The rows (first, last) of a face's top and bottom accent bands.

    ``classic`` keeps the demo's fixed rows, so that its benchmark stays byte for byte as it was; the other
    families place them in proportion to the face, as their text is placed: fixed rows struck through the
    top and bottom lines of a small face (a brand, a logo, the spec), which no printed pack does.
    """
    if layout == "classic":
        return (16, 19), (height - 20, height - 17)
    top, bottom = round(height * 16 / 360), height - round(height * 20 / 360)
    return (top, top + 3), (bottom, bottom + 3)


def render_package(spec: ProductSpec, font_path: Path, margin: int = 24) -> PackageAsset:
    """Draw the front of a box (brand, product name, tagline, net content) with Pillow.

    The face is drawn at its display size so that a frontal, unscaled pose is pixel-sharp.
    A soft contact shadow lives in the margin.
    """
    fw, fh = spec.package_size
    st = spec.style
    face = Image.new("RGBA", (fw, fh), (0, 0, 0, 0))
    grad = vertical_gradient(fh, fw, st.top, st.bottom)
    body = Image.fromarray(np.clip(grad, 0, 255).astype(np.uint8), "RGB").convert("RGBA")
    mask = Image.new("L", (fw, fh), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, fw - 1, fh - 1), radius=12, fill=255)
    face.paste(body, (0, 0), mask)
    d = ImageDraw.Draw(face)
    d.rounded_rectangle((1, 1, fw - 2, fh - 2), radius=12, outline=(*st.ink, 120), width=2)
    bands = accent_bands(fh, spec.layout)
    for y0, y1 in bands:
        d.rectangle((14, y0, fw - 15, y1), fill=(*st.accent, 255))

    if spec.photo:  # a photographed pack: the picture is the face
        picture = Image.open(spec.photo).convert("RGB").resize((fw, fh), Image.LANCZOS).convert("RGBA")
        face = Image.new("RGBA", (fw, fh), (0, 0, 0, 0))
        face.paste(picture, (0, 0), mask)
        return _finish(face, mask, fw, fh, margin)
    if spec.layout != "classic":
        from livegen.layouts import DRAW, Face, PackText

        text = PackText(spec.printed_brand or spec.brand, spec.name_lines, spec.spec_text, spec.tagline, spec.claim, spec.other_name)
        main = Path(spec.font) if spec.font else font_path
        other = Path(spec.other_font) if spec.other_font else main
        DRAW[spec.layout](Face(d, fw, fh, st.ink, st.accent, main, other, bands[0][1], bands[1][0]), text)
        return _finish(face, mask, fw, fh, margin)

    k = lambda v: int(round(v * fw / 280))  # noqa: E731  # sizes are the demo's at its 280 px face width
    brand_font = fit_font(font_path, spec.brand, int(fw * 0.86), k(64))
    d.text((fw / 2, fh * 0.19), spec.brand, font=brand_font, fill=(*st.ink, 255), anchor="mm")
    d.line((fw * 0.3, fh * 0.29, fw * 0.7, fh * 0.29), fill=(*st.accent, 255), width=3)

    longest = max(spec.name_lines, key=len)
    name_font = fit_font(font_path, longest, int(fw * 0.84), k(34))
    line_h = name_font.size * 1.22
    y = fh * 0.41
    for line in spec.name_lines:
        d.text((fw / 2, y), line, font=name_font, fill=(*st.ink, 255), anchor="mm")
        y += line_h

    # a droplet mark
    cx, cy = fw / 2, fh * 0.66
    d.ellipse((cx - k(15), cy - k(8), cx + k(15), cy + k(22)), fill=(*st.accent, 230))
    d.polygon(((cx - k(13), cy), (cx, cy - k(26)), (cx + k(13), cy)), fill=(*st.accent, 230))

    if spec.tagline:
        tag_font = fit_font(font_path, spec.tagline, int(fw * 0.8), k(16))
        d.text((fw / 2, fh * 0.79), spec.tagline, font=tag_font, fill=(*st.ink, 230), anchor="mm")
    spec_font = fit_font(font_path, spec.spec_text, int(fw * 0.6), k(30))
    d.text((fw / 2, fh * 0.885), spec.spec_text, font=spec_font, fill=(*st.ink, 255), anchor="mm")
    return _finish(face, mask, fw, fh, margin)


def _finish(face: Image.Image, mask: Image.Image, fw: int, fh: int, margin: int) -> PackageAsset:
    """The gloss over the face, the contact shadow around it, as a BGRA asset."""
    W, H = fw + 2 * margin, fh + 2 * margin
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


def render_background(width: int, height: int, rng: np.random.Generator, figure_scale: float = 1.0) -> np.ndarray:
    """A soft studio: warm gradient, a ring-light glow, blurred shelves and bokeh, and a streamer silhouette (BGR uint8).

    ``figure_scale`` sizes the streamer relative to the demo's 540x960 frame.
    """
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

    k = lambda v: int(round(v * figure_scale))  # noqa: E731
    fill(lambda m, c: cv2.ellipse(m, (cx, hy + k(30)), (k(118), k(150)), 0, 0, 360, c, -1, cv2.LINE_AA), hair)
    sy = int(height * 0.50)  # shoulder line
    fill(lambda m, c: cv2.ellipse(m, (cx, sy + k(70)), (k(235), k(95)), 0, 180, 360, c, -1, cv2.LINE_AA), top)
    fill(lambda m, c: cv2.rectangle(m, (cx - k(235), sy + k(70)), (cx + k(235), height), c, -1), top)
    fill(lambda m, c: cv2.rectangle(m, (cx - k(34), hy + k(60)), (cx + k(34), hy + k(150)), c, -1), skin)
    fill(lambda m, c: cv2.ellipse(m, (cx, hy), (k(78), k(98)), 0, 0, 360, c, -1, cv2.LINE_AA), skin)
    fill(lambda m, c: cv2.ellipse(m, (cx, hy - k(62)), (k(84), k(46)), 0, 180, 360, c, -1, cv2.LINE_AA), hair)
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
        cv2.line(bgr, (int(60 * scale), int(y0 * scale)), (int(235 * scale), int((y0 + 3) * scale)), (104, 130, 180),
                 max(1, int(2 * scale)), cv2.LINE_AA)
    return np.dstack([np.clip(bgr, 0, 255), alpha * 255]).astype(np.uint8)


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
    warped = cv2.warpPerspective(
        rgba, T @ M, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0)
    )
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


def line_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A normalised anti-aliased line of ``length`` px at ``angle_deg`` (linear motion point-spread function)."""
    r = int(math.ceil(length / 2)) + 1
    dx, dy = math.cos(math.radians(angle_deg)) * length / 2, math.sin(math.radians(angle_deg)) * length / 2
    s = 8  # supersampled
    big = np.zeros(((2 * r + 1) * s, (2 * r + 1) * s), np.uint8)
    c = (r + 0.5) * s
    cv2.line(big, (int(c - dx * s), int(c - dy * s)), (int(c + dx * s), int(c + dy * s)), 255, s, cv2.LINE_AA)
    k = cv2.resize(big.astype(np.float32), (2 * r + 1, 2 * r + 1), interpolation=cv2.INTER_AREA)
    return k / max(float(k.sum()), 1e-6)


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
    camera_blur: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply what the phone camera does to the composed scene: defocus, handheld shake, vignetting, sensor noise.

    ``camera_blur`` (length px, direction deg) smears the whole picture as a fast camera swing does.

    Returns the uint8 BGR picture and the 2x3 affine of the shake (scene -> picture) so that
    annotations can follow.
    """
    img = scene
    if defocus_px > 0.5:
        img = cv2.filter2D(img, -1, disk_kernel(defocus_px), borderType=cv2.BORDER_REFLECT101)
    if camera_blur is not None and camera_blur[0] > 1.0:
        img = cv2.filter2D(img, -1, line_kernel(*camera_blur), borderType=cv2.BORDER_REFLECT101)
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
        background=render_background(clip.width, clip.height, np.random.default_rng((seed, 0xB6)), clip.scale),
        package=render_package(product, font_path),
        hand=render_hand(clip.scale),
        ui=render_ui(live, clip.width, clip.height, font_path, clip.scale),
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
    dx, dy, roll = jitter_at(t, seed, pose.shake)
    camera_blur = (pose.cam_blur, pose.cam_angle) if pose.cam_blur > 0 else None
    picture, A = camera_effects(
        scene, defocus_px=pose.defocus, shake=(dx + pose.cam_dx, dy, roll), vignette=assets.vignette, noise_sigma=1.2, rng=rng,
        camera_blur=camera_blur,
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
        index, t, frame, box, min(in_frame, 1.0), max(facts["motion_blur_px"], pose.cam_blur), facts["defocus_px"], facts["occluded"],
        pose.yaw, pose.angle,
    )


def render_frames(
    assets: SceneAssets, clip: ClipSpec, live: LiveRoomSpec, seed: int, pose_at: Callable[[ClipSpec, float], Pose] = demo_pose
) -> Iterator[RenderedFrame]:
    for i in range(clip.frame_count):
        yield render_frame(assets, clip, live, seed, i, pose_at)


