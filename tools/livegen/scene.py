"""Clip geometry, timeline segments and motion scripts: where the product is at time t.

``demo_pose`` is the bundled demo's script; ``benchmark.py`` builds seeded scripts from the same
segment kinds for the benchmark clips.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from livegen.draw import smoothstep


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
    scale: float = 1.0  # size of the streamer, hand and live-room UI relative to the demo's 540x960
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
    cam_dx: float = 0.0  # whole-camera pan offset (px)
    cam_blur: float = 0.0  # whole-camera motion blur length (px) during the exposure
    cam_angle: float = 0.0  # its direction (deg)


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


