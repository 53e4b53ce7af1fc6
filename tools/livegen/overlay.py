"""The live-room UI composited after the camera (always sharp): header, chat, price banner, next card.

Its text is a distractor for OCR: it never names the product on show (the next card may name another).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from livegen.draw import alpha_over, fit_font, pil_rgba_to_bgra, smoothstep, vertical_gradient


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


def render_ui(live: LiveRoomSpec, width: int, height: int, font_path: Path, scale: float = 1.0) -> UiAssets:
    """Draw the overlay pieces once: streamer header, price banner, chat bubbles, next-product card.

    ``scale`` sizes the pieces relative to the demo's 540x960 frame.
    """
    k = lambda v: int(round(v * scale))  # noqa: E731
    f = lambda size: ImageFont.truetype(str(font_path), k(size))  # noqa: E731
    # header: avatar, name, LIVE badge, viewers
    hw, hh = k(300), k(64)
    header = Image.new("RGBA", (hw, hh), (0, 0, 0, 0))
    d = ImageDraw.Draw(header)
    d.rounded_rectangle((0, 0, hw - 1, hh - 1), radius=hh // 2, fill=(20, 16, 28, 150))
    d.ellipse((k(6), k(6), hh - k(6), hh - k(6)), fill=(236, 120, 160, 255))
    d.text((hh / 2, hh / 2), avatar_initial(live), font=f(26), fill=(255, 255, 255, 255), anchor="mm")
    name_font = fit_font(font_path, live.streamer, hw - hh - k(80), k(22))
    d.text((hh + k(6), k(17)), live.streamer, font=name_font, fill=(255, 255, 255, 255), anchor="lm")
    d.text((hh + k(6), k(44)), live.viewers, font=f(14), fill=(230, 230, 235, 255), anchor="lm")
    bx = hw - k(70)
    d.rounded_rectangle((bx, k(18), bx + k(56), k(46)), radius=k(6), fill=(235, 40, 70, 255))
    d.text((bx + k(28), k(32)), "LIVE", font=f(16), fill=(255, 255, 255, 255), anchor="mm")

    # price banner with a buy button
    bw, bh = width - k(40), k(64)
    banner = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
    d = ImageDraw.Draw(banner)
    d.rounded_rectangle((0, 0, bw - 1, bh - 1), radius=k(16), fill=(240, 76, 48, 235))
    price_font = fit_font(font_path, live.price_banner, bw - k(150), k(32))
    d.text((k(22), bh / 2), live.price_banner, font=price_font, fill=(255, 255, 255, 255), anchor="lm")
    d.rounded_rectangle((bw - k(112), k(11), bw - k(12), bh - k(12)), radius=k(20), fill=(255, 214, 64, 255))
    d.text((bw - k(62), bh / 2), live.buy_button, font=f(22), fill=(120, 30, 10, 255), anchor="mm")

    # chat bubbles
    bubbles = []
    for msg in live.chat:
        name_font, text_font = f(18), f(18)
        name = f"{msg.user}: "
        w = int(name_font.getlength(name) + text_font.getlength(msg.text)) + k(24)
        img = Image.new("RGBA", (w, k(34)), (0, 0, 0, 0))
        d = ImageDraw.Draw(img)
        d.rounded_rectangle((0, 0, w - 1, k(34) - 1), radius=k(16), fill=(10, 10, 16, 120))
        d.text((k(12), k(17)), name, font=name_font, fill=(255, 220, 120, 255), anchor="lm")
        d.text((k(12) + name_font.getlength(name), k(17)), msg.text, font=text_font, fill=(255, 255, 255, 255), anchor="lm")
        bubbles.append(pil_rgba_to_bgra(img))

    # next-product card (full frame)
    card = vertical_gradient(height, width, (70, 30, 60), (150, 60, 120))  # BGR
    card_img = Image.fromarray(np.clip(card[..., ::-1], 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(card_img)
    d.text((width / 2, height * 0.40), live.next_title, font=fit_font(font_path, live.next_title, width - k(80), k(52)),
           fill=(255, 255, 255), anchor="mm")
    d.text((width / 2, height * 0.48), live.next_subtitle, font=fit_font(font_path, live.next_subtitle, width - k(100), k(36)),
           fill=(255, 214, 64), anchor="mm")
    d.text((width / 2, height * 0.54), live.next_note, font=f(20), fill=(235, 225, 240), anchor="mm")
    next_card = np.asarray(card_img)[..., ::-1].copy()

    return UiAssets(
        header=pil_rgba_to_bgra(header),
        header_xy=(k(16), k(40)),
        banner=pil_rgba_to_bgra(banner),
        banner_xy=(k(20), height - bh - k(22)),
        chat=tuple(bubbles),
        chat_box=(k(16), height - bh - k(40), width - k(32), k(40)),
        next_card=next_card,
    )


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


