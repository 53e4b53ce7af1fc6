"""Seeded recipes for benchmark clips: product, live room, geometry, motion script and sound.

``clip_recipe(dataset_seed, index)`` is a pure function: the same (seed, index) gives the same clip.
Each clip draws from the catalogue (English or Chinese packaging), picks a vertical 9:16 or a
horizontal frame, and a timeline of segments from the demo's vocabulary (swings that blur the
product, a whole-camera swing, defocus, a hand over the label, a side view), with a final
transition card in about half of the clips and no audio track in some.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from livegen.claims import draw_claims
from livegen.clip import AudioSpec
from livegen.draw import find_font, smoothstep
from livegen.overlay import ChatMessage, LiveRoomSpec
from livegen.photos import aspect, photo_product
from livegen.products import make_product
from livegen.render import ProductSpec
from livegen.scene import ClipSpec, Pose, Segment
from livegen.speech import PINYIN_VOICE

VERTICAL = (406, 720)  # 9:16, long side 720
HORIZONTAL = (720, 406)
FPS = 25

P_CHINESE = 0.4
P_VERTICAL = 0.6
P_TRANSITION = 0.5
P_NO_AUDIO = 0.15
ZH_VOICES = ("cmn", PINYIN_VOICE)  # espeak-ng's Mandarin: pinyin spelled in English (the default), or spoken

CJK_FONT = "Noto Sans CJK SC:style=Bold"
CJK_FALLBACKS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

EN_STREAMERS = ("@MiaLive", "@JennyShops", "@TomTech", "@LilyBeauty", "@ChefMarco", "@AvaDeals", "@NoahGadgets", "@ZoeDaily")
ZH_STREAMERS = ("@小雅直播间", "@阿杰好物", "@美妆小鹿", "@厨房老王", "@数码阿明", "@甜甜优选", "@晓晓生活", "@大熊推荐")
EN_USERS = ("Anna", "Leo", "Kiki", "Sam", "Yuki", "Max", "Ivy", "Ben", "Olga", "Raj", "Tess", "Dan")
ZH_USERS = ("小鱼", "阿宝", "糖糖", "大壮", "果果", "木子", "晴天", "花花", "阿飞", "米粒", "豆豆", "乐乐")
EN_CHAT = (
    "link please", "just ordered two!", "how long is shipping?", "love the packaging", "restock soon?",
    "ship to Hangzhou?", "is it on sale tomorrow?", "wow", "hello from Berlin", "bought it last week, so good",
    "can you show the back?", "what size is it?",
)
ZH_CHAT = (
    "求链接", "已下单两件！", "几天能发货？", "包装好好看", "什么时候补货？", "发顺丰吗", "明天还有优惠吗",
    "主播好美", "上次买的很好用", "能看看背面吗", "有赠品吗", "拍了拍了",
)


@dataclass(frozen=True)
class BenchMotion:
    """A seeded motion script over a timeline of segments; every segment starts and ends at the rest pose,
    so the product never jumps. Called as ``pose_at(clip, t)``."""

    cx0: float
    cy0: float
    scale: float
    swing_px: float
    swing_hz: float
    defocus_px: float
    side_yaw: float
    cam_px: float
    cam_hz: float
    ui_scale: float = 1.0

    def __call__(self, clip: ClipSpec, t: float) -> Pose:
        H = clip.height
        seg = clip.segment_at(t)
        u = seg.progress(t)
        env = math.sin(math.pi * u)
        dt = t - seg.start
        drift_x = 1.5 * math.sin(0.8 * t)
        drift_y = 1.5 * math.sin(1.1 * t + 0.4)
        rest = Pose(self.cx0 + drift_x, self.cy0 + drift_y, self.scale, shake=1.0)
        if seg.kind == "enter":
            e = 1 - (1 - u) ** 3
            x = self.cx0 - 40 * self.ui_scale * (1 - e) + drift_x * e
            y = H + 20 + (self.cy0 + drift_y * e - H - 20) * e
            return Pose(x, y, self.scale * (0.95 + 0.05 * e), -10 * (1 - e), shake=3.0)
        if seg.kind == "swing":
            ph = 2 * math.pi * self.swing_hz * dt
            return Pose(
                rest.cx + self.swing_px * env * math.sin(ph), rest.cy + 0.15 * self.swing_px * env * math.sin(2 * ph),
                self.scale, 14 * env * math.sin(ph + 0.6), shake=3.0,
            )
        if seg.kind == "defocus":
            return Pose(rest.cx, rest.cy, self.scale, defocus=self.defocus_px * math.sin(math.pi * u) ** 0.7, shake=1.0)
        if seg.kind == "occluded":
            reach = smoothstep(u / 0.22) * (1 - smoothstep((u - 0.78) / 0.22))
            return Pose(rest.cx, rest.cy, self.scale, hand=reach, shake=1.0)
        if seg.kind == "side":  # turn away, hold the side view (sharp), turn back
            a = smoothstep(u / 0.3) * (1 - smoothstep((u - 0.7) / 0.3))
            return Pose(rest.cx + 0.1 * self.side_yaw * a * self.ui_scale, rest.cy, self.scale, 3 * a, self.side_yaw * a, shake=1.5)
        if seg.kind == "camswing":  # the whole camera pans back and forth: everything smears
            ph = 2 * math.pi * self.cam_hz * dt
            dur = max(seg.end - seg.start, 1e-6)
            velocity = self.cam_px * (math.pi / dur * math.cos(math.pi * u) * math.sin(ph) + env * 2 * math.pi * self.cam_hz * math.cos(ph))
            exposure = clip.shutter / clip.fps
            return Pose(rest.cx, rest.cy, self.scale, shake=1.0, cam_dx=self.cam_px * env * math.sin(ph), cam_blur=abs(velocity) * exposure)
        return rest  # sharp, transition


@dataclass(frozen=True)
class ClipRecipe:
    """Everything that defines one benchmark clip."""

    clip_id: str
    seed: int
    language: str  # en | zh
    orientation: str  # vertical | horizontal
    product: ProductSpec
    live: LiveRoomSpec
    clip: ClipSpec
    motion: BenchMotion
    audio: AudioSpec
    font_pattern: str
    next_product: str = ""
    notes: dict = field(default_factory=dict)
    claims: tuple[dict, ...] | None = None  # livegen.claims: what the clip claims (None: made without claims)
    near_misses: tuple[dict, ...] = ()

    def font_path(self) -> Path:
        if self.language == "zh":
            return find_font(self.font_pattern, CJK_FALLBACKS)
        return find_font()

    def truth_extra(self) -> dict:
        return {
            "clip_id": self.clip_id,
            "language": self.language,
            "orientation": self.orientation,
            "has_audio": self.audio.present,
            "has_transition": self.clip.first("transition") is not None,
            "voice": self.audio.voice if self.audio.present else None,
            "noise_db": self.audio.noise_db if self.audio.present else None,
            "music_db": self.audio.music_db if self.audio.present else None,
            "layout": self.product.layout,
            "skin": self.live.skin,
            "font": Path(self.product.font).stem if self.product.font else Path(self.font_path()).stem,
            **({"claims": [dict(c) for c in self.claims]} if self.claims is not None else {}),
            **({"near_misses": [dict(c) for c in self.near_misses]} if self.near_misses else {}),
        }


def _timeline(rng: np.random.Generator, duration: float, transition: bool) -> tuple[Segment, ...]:
    """enter, a shuffled middle (at least one sharp span), and an optional transition card."""
    enter, card = 0.8, (1.0 if transition else 0.0)
    middle = duration - enter - card
    events = [("sharp", rng.uniform(1.2, 2.0), "sharp, frontal, fully visible")]
    optional = [
        ("swing", (1.0, 1.4), 0.85, "fast swing, directional motion blur of the product"),
        ("camswing", (0.6, 1.0), 0.5, "whole-camera swing: everything smears"),
        ("defocus", (0.8, 1.2), 0.5, "camera focus hunting, defocus blur"),
        ("occluded", (1.0, 1.4), 0.5, "a hand covers part of the label"),
        ("side", (1.0, 1.4), 0.5, "turned to a side view, held sharp, turned back"),
    ]
    for kind, (lo, hi), p, note in optional:
        if rng.random() < p:
            events.append((kind, rng.uniform(lo, hi), note))
    order = rng.permutation(len(events))
    events = [events[i] for i in order]
    while sum(d for _, d, _ in events) > middle and len(events) > 1:  # drop optional ones that do not fit
        events.pop(next(i for i, e in enumerate(events) if e[0] != "sharp"))
    stretch = middle / sum(d for _, d, _ in events)
    segments, t = [Segment("enter", 0.0, enter, "product rises into view, motion blur")], enter
    for i, (kind, d, note) in enumerate(events):
        end = enter + middle if i == len(events) - 1 else round(t + d * stretch, 2)
        segments.append(Segment(kind, round(t, 2), round(end, 2), note))
        t = end
    if transition:
        segments.append(Segment("transition", round(t, 2), duration, "slide to a 'next product' card"))
    return tuple(segments)


def clip_recipe(dataset_seed: int, index: int, duration: float | None = None, layouts: tuple[str, ...] = ("classic",),
                skins: tuple[str, ...] = ("classic",), photos: tuple[Path, ...] = (), claims: bool = False,
                zh_voice: str = ZH_VOICES[0]) -> ClipRecipe:
    """The recipe of clip ``index`` of the dataset made with ``dataset_seed``.

    Its package is drawn in one of the ``layouts`` families (``livegen.layouts``), or is one of the
    ``photos`` (``livegen.photos``) when any are given; its live room wears one of the ``skins``
    (``livegen.overlay.SKINS``). Each choice comes from a stream of its own, so that the rest of the clip
    is the same whichever families, photos and skins are allowed. ``claims``: put claims (or near misses)
    in about half the clips' speech and room, from a stream of their own too (``livegen.claims``).
    ``zh_voice``: the espeak-ng voice of Chinese speech (``ZH_VOICES``; the first, of every earlier benchmark,
    spells the pinyin out in English).
    """
    if zh_voice not in ZH_VOICES:
        raise ValueError(f"unknown Chinese voice {zh_voice!r}: choose from {', '.join(ZH_VOICES)}")
    rng = np.random.default_rng((dataset_seed, index, 0xBE4C))
    layout_rng = np.random.default_rng((dataset_seed, index, 0x1A70))
    skin_rng = np.random.default_rng((dataset_seed, index, 0x5C1E))
    layout = layouts[int(layout_rng.integers(len(layouts)))]
    skin = skins[int(skin_rng.integers(len(skins)))]
    photo = photos[int(layout_rng.integers(len(photos)))] if photos else None
    language = "zh" if rng.random() < P_CHINESE else "en"
    vertical = rng.random() < P_VERTICAL
    width, height = VERTICAL if vertical else HORIZONTAL
    ui_scale = min(width, height) / 540
    if duration is None:
        duration = float(rng.choice(np.arange(6.0, 10.01, 0.5)))
    transition = rng.random() < P_TRANSITION
    if vertical:
        face_w = int(rng.uniform(0.40, 0.50) * width)
        face_h = int(face_w * rng.uniform(1.1, 1.35))
        cx0, cy0 = width / 2 + rng.uniform(-0.04, 0.04) * width, height * rng.uniform(0.53, 0.58)
    else:
        face_h = int(rng.uniform(0.44, 0.54) * height)
        face_w = int(face_h / rng.uniform(1.1, 1.35))
        cx0, cy0 = width / 2 + rng.uniform(-0.15, 0.15) * width, height * rng.uniform(0.46, 0.50)
    if photo is not None:  # a photographed pack keeps its aspect and its (English) packaging
        language = "en"
        if vertical:  # photos carry small print: shown larger than a drawn pack
            face_w = int(width * 0.72)
            face_h = int(face_w / aspect(photo))
        else:
            face_h = int(height * 0.62)
            face_w = int(face_h * aspect(photo))
    product = make_product(rng, language, (face_w, face_h), layout, layout_rng)  # drawn anyway: rng stays in step
    if photo is not None:
        product = photo_product(photo, layout_rng, (face_w, face_h))
    other = make_product(rng, language, (face_w, face_h))
    other_name = other.product_name if other.product_name != product.product_name else "Mystery Box"

    users = ZH_USERS if language == "zh" else EN_USERS
    pool = ZH_CHAT if language == "zh" else EN_CHAT
    picks = rng.permutation(len(pool))[:6]
    chat = [ChatMessage(users[int(rng.integers(len(users)))], pool[int(i)]) for i in picks]
    mention = f"{other_name}还有吗？" if language == "zh" else f"is the {other_name} back?"
    chat.insert(int(rng.integers(1, len(chat))), ChatMessage(users[int(rng.integers(len(users)))], mention))
    price = product.price
    if language == "zh":
        live = LiveRoomSpec(
            streamer=ZH_STREAMERS[int(rng.integers(len(ZH_STREAMERS)))], viewers=f"{rng.uniform(0.3, 9.9):.1f}万人观看",
            price_banner=f"直播价 {price}", buy_button="抢购", chat=tuple(chat), chat_period_s=float(rng.uniform(1.0, 2.0)),
            next_title="下一个宝贝", next_subtitle=other_name, next_note="马上开始 3 … 2 … 1",
            skin=skin, follow="+关注", likes=f"{skin_rng.uniform(0.1, 9.9):.1f}万", share="分享",
        )
    else:
        live = LiveRoomSpec(
            streamer=EN_STREAMERS[int(rng.integers(len(EN_STREAMERS)))], viewers=f"{rng.uniform(0.4, 30.0):.1f}k watching",
            price_banner=f"Only {price} today", buy_button="Buy", chat=tuple(chat), chat_period_s=float(rng.uniform(1.0, 2.0)),
            next_title="NEXT PRODUCT", next_subtitle=other_name, next_note="coming up in 3 ... 2 ... 1",
            skin=skin, likes=f"{skin_rng.uniform(0.4, 99.0):.1f}k",
        )
    clip = ClipSpec(width=width, height=height, fps=FPS, duration=duration, scale=ui_scale, timeline=_timeline(rng, duration, transition))
    motion = BenchMotion(
        cx0=cx0, cy0=cy0, scale=1.0,
        swing_px=rng.uniform(0.18, 0.30) * width, swing_hz=rng.uniform(1.5, 2.2),
        defocus_px=rng.uniform(4.0, 8.0) * ui_scale, side_yaw=float(rng.choice([-1, 1]) * rng.uniform(50, 70)),
        cam_px=rng.uniform(0.06, 0.12) * width, cam_hz=rng.uniform(1.2, 2.0), ui_scale=ui_scale,
    )
    present = rng.random() >= P_NO_AUDIO
    audio = AudioSpec(
        voice=zh_voice if language == "zh" else "en-us",
        wpm=150 if language == "en" else 170,
        noise_db=float(rng.uniform(-40.0, -28.0)),
        music_db=float(rng.uniform(-34.0, -28.0)) if rng.random() < 0.5 else None,
        present=present,
    )
    recipe = ClipRecipe(
        clip_id=f"clip_{index:04d}", seed=int(rng.integers(0, 2**31 - 1)), language=language,
        orientation="vertical" if vertical else "horizontal", product=product, live=live, clip=clip, motion=motion,
        audio=audio, font_pattern=CJK_FONT if language == "zh" else "DejaVu Sans:style=Bold", next_product=other_name,
    )
    return draw_claims(recipe, dataset_seed, index) if claims else recipe
