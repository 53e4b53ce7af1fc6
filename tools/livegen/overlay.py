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
class Sticker:
    """A tag the room pins on the picture ("全网最低价", "Original price ¥199"); ``struck``: the part of
    ``text`` drawn struck through (an original price's amount)."""

    text: str
    struck: str = ""


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
    skin: str = "classic"  # one of SKINS: where the room puts its pieces and what else it shows
    follow: str = "+ Follow"
    likes: str = "12.4k"
    share: str = "Share"
    stickers: tuple[Sticker, ...] = ()  # claim tags (livegen.claims); none in a clip made without --claims

    def skin_text(self) -> list[str]:
        """The text the skin adds to the overlay beyond header, banner and chat."""
        return {"classic": [], "shop-card": [self.follow], "minimal": [self.likes, self.share]}[self.skin]


# Live-room skins: "classic" (banner across the bottom, chat above it), "shop-card" (a price card on the
# right, a follow button by the header, chat lower left), "minimal" (no banner: a small price pin above
# the chat and a column of like/share counters on the right, as short-video rooms draw them).
SKINS = ("classic", "shop-card", "minimal")


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
    extras: tuple[tuple[np.ndarray, tuple[int, int]], ...] = ()  # the skin's other pieces (BGRA) and where they go


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

    classic = UiAssets(
        header=pil_rgba_to_bgra(header),
        header_xy=(k(16), k(40)),
        banner=pil_rgba_to_bgra(banner),
        banner_xy=(k(20), height - bh - k(22)),
        chat=tuple(bubbles),
        chat_box=(k(16), height - bh - k(40), width - k(32), k(40)),
        next_card=next_card,
    )
    if live.skin == "classic":
        room = classic
    elif live.skin == "shop-card":
        room = _shop_card(live, classic, width, height, font_path, k)
    elif live.skin == "minimal":
        room = _minimal(live, classic, width, height, font_path, k)
    else:
        raise ValueError(f"unknown live-room skin {live.skin!r}: choose from {', '.join(SKINS)}")
    if live.stickers:
        room = _with_stickers(live, room, width, height, font_path, k)
    return room


def _pill(text: str, font: ImageFont.FreeTypeFont, pad: int, height: int, fill: tuple[int, int, int, int],
          ink: tuple[int, int, int, int] = (255, 255, 255, 255)) -> np.ndarray:
    w = int(font.getlength(text)) + 2 * pad
    img = Image.new("RGBA", (w, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, w - 1, height - 1), radius=height // 2, fill=fill)
    d.text((w / 2, height / 2), text, font=font, fill=ink, anchor="mm")
    return pil_rgba_to_bgra(img)


def _shop_card(live: LiveRoomSpec, base: UiAssets, width: int, height: int, font_path: Path, k) -> UiAssets:
    """A price card at the right edge (price over a buy button), a follow pill by the header, chat lower left."""
    cw, ch = k(170), k(118)
    card = Image.new("RGBA", (cw, ch), (0, 0, 0, 0))
    d = ImageDraw.Draw(card)
    d.rounded_rectangle((0, 0, cw - 1, ch - 1), radius=k(14), fill=(255, 255, 255, 225))
    d.text((cw / 2, k(36)), live.price_banner, font=fit_font(font_path, live.price_banner, cw - k(20), k(26)),
           fill=(230, 50, 40, 255), anchor="mm")
    d.rounded_rectangle((k(22), k(68), cw - k(22), ch - k(12)), radius=k(18), fill=(250, 90, 30, 255))
    d.text((cw / 2, (k(68) + ch - k(12)) / 2), live.buy_button, font=ImageFont.truetype(str(font_path), k(22)),
           fill=(255, 255, 255, 255), anchor="mm")
    follow = _pill(live.follow, ImageFont.truetype(str(font_path), k(18)), k(12), k(34), (250, 60, 90, 235))
    header_right = base.header_xy[0] + base.header.shape[1] + k(8)
    extras = ((follow, (min(header_right, width - follow.shape[1] - k(8)), base.header_xy[1] + k(15))),)
    return UiAssets(
        header=base.header, header_xy=base.header_xy, banner=pil_rgba_to_bgra(card),
        banner_xy=(width - cw - k(14), int(height * 0.60)), chat=base.chat,
        chat_box=(k(16), height - k(26), width - cw - k(46), k(40)), next_card=base.next_card, extras=extras,
    )


def _minimal(live: LiveRoomSpec, base: UiAssets, width: int, height: int, font_path: Path, k) -> UiAssets:
    """No banner: a small price pin above the chat, like and share counters stacked at the right edge."""
    pin = _pill(live.price_banner, fit_font(font_path, live.price_banner, width // 2, k(22)), k(14), k(40), (255, 200, 40, 240),
                ink=(90, 30, 0, 255))
    font = ImageFont.truetype(str(font_path), k(16))
    counters = []
    y = int(height * 0.46)
    for text in (live.likes, live.share):
        icon = Image.new("RGBA", (k(64), k(74)), (0, 0, 0, 0))
        d = ImageDraw.Draw(icon)
        d.ellipse((k(12), 0, k(52), k(40)), fill=(255, 255, 255, 200))
        d.text((k(32), k(58)), text, font=font, fill=(255, 255, 255, 255), anchor="mm", stroke_width=1, stroke_fill=(0, 0, 0, 160))
        counters.append((pil_rgba_to_bgra(icon), (width - k(74), y)))
        y += k(90)
    return UiAssets(
        header=base.header, header_xy=base.header_xy, banner=pin, banner_xy=(k(16), height - k(40) - k(22)),
        chat=base.chat, chat_box=(k(16), height - k(40) - k(34), width - k(120), k(40)), next_card=base.next_card,
        extras=tuple(counters),
    )


STICKER_FILL = (236, 32, 96, 240)  # a claim tag: white on a hot pink
STRUCK_FILL = (64, 64, 74, 220)  # an original price: light grey on dark grey, its amount struck through


def sticker_piece(sticker: Sticker, font_path: Path, k) -> np.ndarray:
    """One tag (BGRA) in the overlay font: a pill, its text at a size OCR reads off every skin."""
    font = ImageFont.truetype(str(font_path), k(24))
    pad, h = k(14), k(40)
    w = int(font.getlength(sticker.text)) + 2 * pad
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    struck = bool(sticker.struck) and sticker.struck in sticker.text
    fill, ink = (STRUCK_FILL, (236, 236, 240, 255)) if struck else (STICKER_FILL, (255, 255, 255, 255))
    d.rounded_rectangle((0, 0, w - 1, h - 1), radius=h // 2, fill=fill)
    d.text((pad, h / 2), sticker.text, font=font, fill=ink, anchor="lm")
    if struck:  # a thin line through the amount, as shops strike an old price
        start = sticker.text.rindex(sticker.struck)
        x0 = pad + font.getlength(sticker.text[:start])
        x1 = x0 + font.getlength(sticker.struck)
        d.line((x0, h / 2 + k(1), x1, h / 2 + k(1)), fill=ink, width=max(1, k(2)))
    return pil_rgba_to_bgra(img)


def _with_stickers(live: LiveRoomSpec, room: UiAssets, width: int, height: int, font_path: Path, k) -> UiAssets:
    """The room with its claim tags where no skin puts anything and the product does not stand at rest: a
    column under the header in a vertical frame, a row at the header's height from the right edge in a
    horizontal one (a row that would reach the header or its follow pill goes on below)."""
    pieces = [sticker_piece(s, font_path, k) for s in live.stickers]
    hx, hy = room.header_xy
    hh = room.header.shape[0]
    placed = []
    if height >= width:
        y = hy + hh + k(12)
        for piece in pieces:
            placed.append((piece, (hx, y)))
            y += piece.shape[0] + k(8)
    else:
        taken = max([hx + room.header.shape[1]] + [px + p.shape[1] for p, (px, py) in room.extras if py < hy + hh])
        right, y = width - k(16), hy + (hh - pieces[0].shape[0]) // 2
        for piece in pieces:
            if right - piece.shape[1] < taken + k(8) and placed:
                right, y = width - k(16), y + piece.shape[0] + k(8)
            placed.append((piece, (right - piece.shape[1], y)))
            right -= piece.shape[1] + k(8)
    return UiAssets(header=room.header, header_xy=room.header_xy, banner=room.banner, banner_xy=room.banner_xy, chat=room.chat,
                    chat_box=room.chat_box, next_card=room.next_card, extras=room.extras + tuple(placed))


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
    for piece, (px, py) in ui.extras:
        alpha_over(out, piece, px, py)
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


