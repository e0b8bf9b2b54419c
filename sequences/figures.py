"""Pose figures as data (``figures.yaml``): the angles of one jointed figure, its props and
where it rests, validated so that every picture drawn from it is a plausible human body.

A figure is a 2-D skeleton seen from one side. Every segment has the same length in every
pose (SKELETON); the data gives only each segment's direction, in degrees counter-clockwise
from the picture's +x axis, and where the hip sits. Units are about a centimetre.

Views:

* ``side``: the figure faces +x (head to the right when lying down) and its right side,
  "near", is toward the viewer; the left side, "far", is drawn lighter behind the body.
  y is the height above the mat.
* ``front``: the figure faces the viewer, so its right side ("near") is on the picture's
  left. For poses whose point is a turn, which a side view hides. y is the height.
* ``above``: looking down on the mat, the head toward +y, the figure's right ("near") to
  +x. For poses whose point is a sideways reach along the floor.

Besides the skeleton a figure says how the back bends (``spine``, the torso drawn round a
curved spine), which limbs do the work (``working``), the movements to show (``arrows``, and
``turn`` for a twist: a twist to the right, seen from the right, turns the chest toward the
viewer), and which parts rest on the mat or a prop. Which way the face looks follows from
the head's direction (a quarter turn clockwise from it), so it needs no field.

The other side of a two-sided pose is the same figure drawn mirrored, never a second one.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, model_validator
from pydantic_core import InitErrorDetails, ValidationError

# The loader imports this module only inside a function, so this is no cycle.
from sequences.loader import FIGURES_FILE_NAME, SEQUENCES_DIR, _StrictLoader
from sequences.schema import Prop, Slug, Text, _problem

FIGURES_FILE = SEQUENCES_DIR / FIGURES_FILE_NAME

View = Literal["side", "front", "above"]
Side = Literal["near", "far"]
SIDES: tuple[Side, ...] = ("near", "far")

# One body for every pose (lengths in figure units), so no picture can stretch a limb to
# make a pose fit. HEAD is the distance from the top of the neck to the head's centre.
SKELETON: dict[str, float] = {
    "head": 9.0,
    "neck": 10.0,
    "torso": 50.0,
    "upper_arm": 30.0,
    "lower_arm": 26.0,
    "hand": 9.0,
    "upper_leg": 44.0,
    "lower_leg": 42.0,
    "foot": 15.0,
}
LIMB_SEGMENTS = ("upper_arm", "lower_arm", "hand", "upper_leg", "lower_leg", "foot")
# Half the thickness of each segment as drawn; contacts rest on this, not on the bone line.
RADIUS: dict[str, float] = {
    "head": 10.5,
    "neck": 4.5,
    "torso": 10.0,
    "upper_arm": 4.6,
    "lower_arm": 4.0,
    "hand": 3.4,
    "upper_leg": 6.5,
    "lower_leg": 5.0,
    "foot": 3.6,
}
# The torso's half-depth in front of and behind the spine, from the pelvis (0) to the
# chest (1): buttocks behind the pelvis, a slimmer waist, the chest fuller in front, so
# which way the body faces shows in its shape. Its ends match RADIUS["torso"], so the
# pelvis and chest rest on the mat as their contacts say.
TORSO_PROFILE: tuple[tuple[float, float, float], ...] = (
    (0.0, 10.0, 10.0),
    (0.12, 10.0, 11.5),
    (0.5, 8.5, 8.5),
    (0.82, 11.0, 9.5),
    (1.0, 10.0, 10.0),
)
TORSO_END_RADIUS = 10.0
# Seen from the front or from above the chest is wider than it is deep, and the hips and
# shoulders are apart; seen from the side they are one point.
BROAD_TORSO_RADIUS = 14.0
HIP_HALF_WIDTH = 9.0
SHOULDER_HALF_WIDTH = 17.0
# A chest turned toward the viewer, seen from the side, shows this share of its breadth.
TURNED_SHARE = 0.7

# An arm held out to the side (fingers laced behind the head, elbows wide) points mostly
# out of a side view's picture plane, so the view sees it shortened: its upper arm and
# forearm are drawn at this share of their length (about 53° out of the plane).
WIDE_ARM_SHARE = 0.6

# Joint ranges in degrees, 0 the anatomical neutral (standing, arms down, feet flat).
# Knees and elbows only flex. The hip range includes the lower spine's share, because the
# torso is one rigid segment: in Child's Pose thigh and torso nearly meet. Ankle positive
# is pointing the foot; kneeling on the tops of the feet points it fully.
JOINT_RANGES: dict[str, tuple[float, float]] = {
    "knee": (0.0, 165.0),
    "elbow": (0.0, 150.0),
    "hip": (-35.0, 175.0),
    "shoulder": (-60.0, 190.0),
    "ankle": (-30.0, 100.0),
    "wrist": (-90.0, 95.0),
    "neck": (-60.0, 60.0),
    "head": (-45.0, 45.0),
}
# Seen from above, the view is a shadow on the floor: a kneeling leg's shin lies under its
# thigh, so the knee shows fully folded, and arms reaching overhead to one side cross the
# body's midline. These ranges widen for that view only.
JOINT_RANGES_FROM_ABOVE: dict[str, tuple[float, float]] = {
    **JOINT_RANGES,
    "knee": (0.0, 180.0),
    "hip": (-35.0, 190.0),
    "shoulder": (-60.0, 215.0),
}

# A contact rests within this of its surface; a body part sinks at most this far into one.
CONTACT_TOLERANCE = 2.0
# Standard yoga block sides (cm): a block stands on any face.
BLOCK_SIDES = (10.0, 15.0, 23.0)
STRAP_THICKNESS = 1.5
# Seen from above, the mat (61 × 183 cm) centred on the origin.
MAT_HALF_WIDTH = 30.5
MAT_HALF_LENGTH = 91.5

Angle = Annotated[StrictFloat, Field(ge=-180, le=180)]
Coordinate = Annotated[StrictFloat, Field(ge=-160, le=160)]

LIMB_POINTS = ("hip", "knee", "ankle", "toes", "shoulder", "elbow", "wrist", "fingers")
CONTACT_NAMES = (
    "head",
    "pelvis",
    "chest",
    *(f"{side}.{point}" for side in SIDES for point in LIMB_POINTS if point not in ("hip",)),
)
# The drawn radius around each contact point: what actually touches the surface.
_CONTACT_RADIUS = {
    "head": "head",
    "pelvis": "torso",
    "chest": "torso",
    "knee": "upper_leg",
    "ankle": "lower_leg",
    "toes": "foot",
    "shoulder": "upper_arm",
    "elbow": "upper_arm",
    "wrist": "lower_arm",
    "fingers": "hand",
}
ContactName = Literal[
    "head",
    "pelvis",
    "chest",
    "near.knee",
    "near.ankle",
    "near.toes",
    "near.shoulder",
    "near.elbow",
    "near.wrist",
    "near.fingers",
    "far.knee",
    "far.ankle",
    "far.toes",
    "far.shoulder",
    "far.elbow",
    "far.wrist",
    "far.fingers",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Limbs(_Frozen):
    """The directions of one side's arm and leg segments."""

    upper_arm: Angle
    lower_arm: Angle
    hand: Angle
    upper_leg: Angle
    lower_leg: Angle
    foot: Angle


class Point(_Frozen):
    x: Coordinate
    y: Coordinate


class FigureProp(_Frozen):
    """A prop as a box on the mat: centred at ``x``, ``width`` long, its top at ``height``
    (or, seen from above, at ``y`` and ``height`` long)."""

    kind: Prop
    x: Coordinate
    y: Coordinate = 0.0
    width: Annotated[StrictFloat, Field(gt=0, le=80)]
    height: Annotated[StrictFloat, Field(gt=0, le=80)]
    # A block beside the body rather than under it (either side of the front foot in a
    # lunge): the hands rest on it, while the legs pass it at another depth.
    beside: StrictBool = False

    @model_validator(mode="after")
    def _check_size(self) -> Self:
        if self.kind == "block" and not {self.width, self.height} <= set(BLOCK_SIDES):
            raise ValueError(f"a block's width and height are two of {BLOCK_SIDES} cm")
        if self.kind == "strap" and self.height > STRAP_THICKNESS:
            raise ValueError(f"a strap is at most {STRAP_THICKNESS} cm thick")
        if self.kind == "blanket" and self.height > 10:
            raise ValueError("a folded blanket is at most 10 cm thick")
        return self

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        return self.x + self.width / 2


Limb = Literal["near.arm", "near.leg", "far.arm", "far.leg"]
# Where an arrow may start: a joint, or the middle of the torso's front ("belly") or back.
ArrowPoint = Literal[ContactName, "belly", "back", "near.hip", "far.hip"]


class Arrow(_Frozen):
    """A movement drawn as an arrow beside the body: a lift, a press into the floor, or a
    reach. It starts `gap` units from the point `at`, on the side it points to (a negative
    gap starts it behind the point: under the belly, for a belly that lifts), and runs
    `length` units in `direction` (degrees, as the segments)."""

    at: ArrowPoint
    direction: Angle
    length: Annotated[StrictFloat, Field(gt=0, le=60)] = 16.0
    gap: Annotated[StrictFloat, Field(ge=-20, le=40)] = 14.0


@dataclass(frozen=True)
class Capsule:
    """One drawn segment: a thick line with round ends."""

    name: str
    side: Side | None
    start: tuple[float, float]
    end: tuple[float, float]
    radius: float


class Figure(_Frozen):
    """One pose, drawn the same way for every step that uses it."""

    id: Slug
    name: Annotated[Text, Field(max_length=60)]
    view: View
    hip: Point
    torso: Angle
    neck: Angle
    head: Angle
    near: Limbs
    far: Limbs
    # What rests on the mat or a prop, e.g. ["near.knee", "near.toes", "near.fingers"].
    contacts: list[ContactName] = Field(min_length=1)
    props: list[FigureProp] = []
    # The direction of a twist, drawn as an arrow round the chest; "both" for a pose that
    # turns one way and then the other.
    turn: Literal["right", "left", "both"] | None = None
    # Seen from the side, the arms held out to the sides (hands behind the head, elbows
    # wide and back): drawn shortened by WIDE_ARM_SHARE. Their 2-D angles are a shadow of
    # the shoulder's and elbow's, so those two joints are not range-checked.
    elbows_wide: StrictBool = False
    # The bend of the back between pelvis and chest, in degrees: positive arches it (the
    # chest lifted, the back hollow), negative rounds it (the back domed, the belly drawn
    # up). The pelvis and chest stay where `torso` puts them; only the spine between bends.
    spine: Annotated[StrictFloat, Field(ge=-60, le=45)] = 0.0
    # The limbs doing the work in this pose, drawn in the working colour at any depth.
    working: list[Limb] = []
    arrows: list[Arrow] = []

    def segment_length(self, segment: str) -> float:
        """A segment's drawn length in figure units: its skeleton length, shortened only
        for an arm held out of the picture plane."""
        length = SKELETON[segment]
        if self.elbows_wide and segment in ("upper_arm", "lower_arm"):
            return length * WIDE_ARM_SHARE
        return length

    def points(self) -> dict[str, tuple[float, float]]:
        """Every joint by name ("hip", "neck", "near.knee", ...), in figure units."""
        points: dict[str, tuple[float, float]] = {"pelvis": (self.hip.x, self.hip.y)}
        points["chest"] = _step(points["pelvis"], self.torso, SKELETON["torso"])
        points["neck"] = _step(points["chest"], self.neck, SKELETON["neck"])
        points["head"] = _step(points["neck"], self.head, SKELETON["head"])
        for side in SIDES:
            limbs: Limbs = getattr(self, side)
            hip_offset, shoulder_offset = self._girdle_offsets(side)
            hip = _shift(points["pelvis"], self.torso, hip_offset)
            shoulder = _shift(points["chest"], self.torso, shoulder_offset)
            knee = _step(hip, limbs.upper_leg, SKELETON["upper_leg"])
            ankle = _step(knee, limbs.lower_leg, SKELETON["lower_leg"])
            elbow = _step(shoulder, limbs.upper_arm, self.segment_length("upper_arm"))
            wrist = _step(elbow, limbs.lower_arm, self.segment_length("lower_arm"))
            named = {
                "hip": hip,
                "knee": knee,
                "ankle": ankle,
                "toes": _step(ankle, limbs.foot, SKELETON["foot"]),
                "shoulder": shoulder,
                "elbow": elbow,
                "wrist": wrist,
                "fingers": _step(wrist, limbs.hand, SKELETON["hand"]),
            }
            points.update({f"{side}.{name}": point for name, point in named.items()})
        middle, normal = self.spine_at(0.5)
        front, back = _profile(0.5)
        points["belly"] = (middle[0] + normal[0] * front, middle[1] + normal[1] * front)
        points["back"] = (middle[0] - normal[0] * back, middle[1] - normal[1] * back)
        return points

    def spine_at(self, t: float) -> tuple[tuple[float, float], tuple[float, float]]:
        """The point `t` of the way up the spine (0 the pelvis, 1 the chest) and the unit
        normal toward the body's front there. The spine is a quadratic curve whose ends
        turn `spine` degrees from each other."""
        pelvis = (self.hip.x, self.hip.y)
        chest = _step(pelvis, self.torso, SKELETON["torso"])
        # The front is a quarter turn clockwise from the spine's direction (the figure
        # faces +x standing), seen from the side; from the front or above it faces the
        # viewer, so the curve stays in the picture as a sideways bend.
        lift = SKELETON["torso"] / 2 * math.tan(math.radians(self.spine / 2))
        control = _step(
            ((pelvis[0] + chest[0]) / 2, (pelvis[1] + chest[1]) / 2), self.torso - 90, lift
        )
        u = 1 - t
        point = (
            u * u * pelvis[0] + 2 * u * t * control[0] + t * t * chest[0],
            u * u * pelvis[1] + 2 * u * t * control[1] + t * t * chest[1],
        )
        dx = 2 * u * (control[0] - pelvis[0]) + 2 * t * (chest[0] - control[0])
        dy = 2 * u * (control[1] - pelvis[1]) + 2 * t * (chest[1] - control[1])
        length = math.hypot(dx, dy)
        return point, (dy / length, -dx / length)

    def torso_outline(self, count: int = 24) -> list[tuple[float, float]]:
        """The torso's outline, round the curved spine: the front from pelvis to chest,
        then the back from chest to pelvis. The ends are rounded by the pelvis and chest
        discs (TORSO_END_RADIUS) drawn with it."""
        front: list[tuple[float, float]] = []
        back: list[tuple[float, float]] = []
        broad = self.view != "side"
        for n in range(count + 1):
            t = n / count
            (x, y), (nx, ny) = self.spine_at(t)
            ahead, behind = _profile(t)
            if broad:
                ahead = behind = BROAD_TORSO_RADIUS
            elif self.chest_turned and t > 0.5:
                # From the waist up the turned chest widens to its breadth.
                share = (t - 0.5) / 0.5
                ahead += (BROAD_TORSO_RADIUS - ahead) * share
                behind += (BROAD_TORSO_RADIUS - behind) * share
            front.append((x + nx * ahead, y + ny * ahead))
            back.append((x - nx * behind, y - ny * behind))
        return [*front, *reversed(back)]

    def capsules(self) -> list[Capsule]:
        """The drawn segments, back to front."""
        p = self.points()
        torso_radius = RADIUS["torso"] if self.view == "side" else BROAD_TORSO_RADIUS

        def leg(side: Side) -> list[Capsule]:
            chain = [("upper_leg", "hip", "knee"), ("lower_leg", "knee", "ankle")]
            chain.append(("foot", "ankle", "toes"))
            return [_capsule(p, name, side, a, b) for name, a, b in chain]

        def arm(side: Side) -> list[Capsule]:
            chain = [("upper_arm", "shoulder", "elbow"), ("lower_arm", "elbow", "wrist")]
            chain.append(("hand", "wrist", "fingers"))
            return [_capsule(p, name, side, a, b) for name, a, b in chain]

        body = [
            Capsule("torso", None, p["pelvis"], p["chest"], torso_radius),
            Capsule("neck", None, p["chest"], p["neck"], RADIUS["neck"]),
            Capsule("head", None, p["head"], p["head"], RADIUS["head"]),
        ]
        if self.view == "side":
            return [*leg("far"), *arm("far"), *body, *leg("near"), *arm("near")]
        # Facing the viewer or lying under them, both arms are in front of the body.
        return [*leg("far"), *leg("near"), *body, *arm("far"), *arm("near")]

    def joint_angles(self) -> dict[str, float]:
        """Each joint's angle from neutral, e.g. "near.knee": 90.0 for a right angle."""
        angles = {
            "neck": _wrap(self.neck - self.torso, -180),
            "head": _wrap(self.head - self.neck, -180),
        }
        for side in SIDES:
            limbs: Limbs = getattr(self, side)
            torso = self.torso
            seg = {name: getattr(limbs, name) for name in LIMB_SEGMENTS}
            # The two sides face each other across the body: the side on the picture's
            # left (the near one from the front, the far one from above) is measured
            # mirrored.
            if (self.view, side) in (("front", "near"), ("above", "far")):
                torso = 180 - torso
                seg = {name: 180 - angle for name, angle in seg.items()}
            angles[f"{side}.hip"] = _wrap(180 - torso + seg["upper_leg"], -90)
            angles[f"{side}.knee"] = _wrap(seg["upper_leg"] - seg["lower_leg"], -90)
            angles[f"{side}.ankle"] = _wrap(90 - (seg["foot"] - seg["lower_leg"]), -180)
            angles[f"{side}.shoulder"] = _wrap(seg["upper_arm"] - torso + 180, -90)
            angles[f"{side}.elbow"] = _wrap(seg["lower_arm"] - seg["upper_arm"], -90)
            angles[f"{side}.wrist"] = _wrap(seg["hand"] - seg["lower_arm"], -180)
        return angles

    @model_validator(mode="after")
    def _check_body(self) -> Self:
        if self.elbows_wide and self.view != "side":
            raise ValueError("elbows_wide is for a side view, where the arms leave its plane")
        problems = [*self._joint_problems(), *self._contact_problems()]
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @property
    def chest_turned(self) -> bool:
        """Seen from the side, a twist to the right turns the chest (and the face) toward
        the viewer: the shoulders show their width, the hips stay in profile."""
        return self.view == "side" and self.turn == "right"

    def _girdle_offsets(self, side: Side) -> tuple[float, float]:
        if self.chest_turned:
            # The figure's right shoulder comes round to the picture's left.
            return 0.0, (-1.0 if side == "near" else 1.0) * SHOULDER_HALF_WIDTH * TURNED_SHARE
        if self.view == "side":
            return 0.0, 0.0
        sign = -1.0 if side == "near" else 1.0  # the figure's right is on the picture's left
        if self.view == "above":
            sign = -sign  # seen from above, with the head up, the right is on the right
        return sign * HIP_HALF_WIDTH, sign * SHOULDER_HALF_WIDTH

    def _joint_problems(self) -> list[InitErrorDetails]:
        problems: list[InitErrorDetails] = []
        for joint, angle in self.joint_angles().items():
            if self.elbows_wide and joint.endswith((".shoulder", ".elbow")):
                continue
            ranges = JOINT_RANGES_FROM_ABOVE if self.view == "above" else JOINT_RANGES
            low, high = ranges[joint.rpartition(".")[2]]
            if not low - 1e-6 <= angle <= high + 1e-6:
                problems.append(
                    _problem(
                        tuple(joint.split(".")),
                        round(angle, 1),
                        "joint_out_of_range",
                        "{joint} at {angle}° is outside the human range {low}° to {high}°",
                        joint=joint,
                        angle=round(angle, 1),
                        low=low,
                        high=high,
                    )
                )
        return problems

    def _contact_problems(self) -> list[InitErrorDetails]:
        problems: list[InitErrorDetails] = []
        points = self.points()
        for i, contact in enumerate(self.contacts):
            gap = self.contact_gap(contact, points)
            if abs(gap) > CONTACT_TOLERANCE:
                problems.append(
                    _problem(
                        ("contacts", i),
                        contact,
                        "contact_not_touching",
                        "{contact} should rest on the mat or a prop but is {gap} cm off it",
                        contact=contact,
                        gap=round(gap, 1),
                    )
                )
        if self.view == "above":
            return problems
        outline_depth = max(self.sink_depth(x, y, 0.0) for x, y in self.torso_outline())
        if outline_depth > CONTACT_TOLERANCE:
            problems.append(
                _problem(
                    ("spine",),
                    round(outline_depth, 1),
                    "through_surface",
                    "the torso passes {depth} cm into the mat or a prop",
                    depth=round(outline_depth, 1),
                )
            )
        for capsule in self.capsules():
            if capsule.name == "torso":
                continue  # its outline, checked above
            depth = max(self.sink_depth(x, y, capsule.radius) for x, y in _samples(capsule))
            if depth > CONTACT_TOLERANCE:
                problems.append(
                    _problem(
                        (capsule.side or "body", capsule.name),
                        round(depth, 1),
                        "through_surface",
                        "{segment} passes {depth} cm into the mat or a prop",
                        segment=capsule.name,
                        depth=round(depth, 1),
                    )
                )
        return problems

    def contact_gap(
        self, contact: str, points: dict[str, tuple[float, float]] | None = None
    ) -> float:
        """How far a contact is from resting on the mat or on the prop under it: 0 touches.

        Seen from above everything lies on the floor, on the mat or off it, so 0.
        """
        if self.view == "above":
            return 0.0
        x, y = (points or self.points())[contact]
        radius = RADIUS[_CONTACT_RADIUS[contact.rpartition(".")[2]]]
        if contact in ("pelvis", "chest") and self.view != "side":
            radius = BROAD_TORSO_RADIUS
        tops = [0.0, *(prop.height for prop in self.props if prop.left <= x <= prop.right)]
        return min((y - radius - top for top in tops), key=abs)

    def surface_below(self, x: float) -> float:
        """The height of what the body cannot pass through at ``x``: the mat or a prop."""
        under = [p.height for p in self.props if not p.beside and p.left <= x <= p.right]
        return max([0.0, *under])

    def sink_depth(self, x: float, y: float, radius: float) -> float:
        """How far a body part of ``radius`` at (x, y) sinks into the mat or a prop."""
        return self.surface_below(x) + radius - y


class FigureBook(_Frozen):
    """The whole ``figures.yaml``."""

    figures: list[Figure] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_ids(self) -> Self:
        seen: dict[str, int] = {}
        problems: list[InitErrorDetails] = []
        for i, figure in enumerate(self.figures):
            if figure.id in seen:
                problems.append(
                    _problem(
                        ("figures", i, "id"),
                        figure.id,
                        "duplicate_figure_id",
                        "figure id '{id}' is already used by figure {other}",
                        id=figure.id,
                        other=seen[figure.id] + 1,
                    )
                )
            seen.setdefault(figure.id, i)
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self


def _profile(t: float) -> tuple[float, float]:
    """The torso's half-depth in front of and behind the spine at `t` (TORSO_PROFILE)."""
    for (t0, f0, b0), (t1, f1, b1) in itertools.pairwise(TORSO_PROFILE):
        if t <= t1:
            share = (t - t0) / (t1 - t0)
            return f0 + (f1 - f0) * share, b0 + (b1 - b0) * share
    return TORSO_PROFILE[-1][1], TORSO_PROFILE[-1][2]


def _step(start: tuple[float, float], degrees: float, length: float) -> tuple[float, float]:
    radians = math.radians(degrees)
    return start[0] + length * math.cos(radians), start[1] + length * math.sin(radians)


def _shift(point: tuple[float, float], torso: float, offset: float) -> tuple[float, float]:
    # Across the torso: a quarter turn clockwise from its direction.
    return _step(point, torso - 90, offset) if offset else point


def _capsule(
    points: dict[str, tuple[float, float]], name: str, side: Side, start: str, end: str
) -> Capsule:
    return Capsule(name, side, points[f"{side}.{start}"], points[f"{side}.{end}"], RADIUS[name])


def _samples(capsule: Capsule, count: int = 12) -> list[tuple[float, float]]:
    (x0, y0), (x1, y1) = capsule.start, capsule.end
    return [(x0 + (x1 - x0) * t / count, y0 + (y1 - y0) * t / count) for t in range(count + 1)]


def _wrap(degrees: float, low: float) -> float:
    """``degrees`` brought into [low, low + 360)."""
    return (degrees - low) % 360 + low


class FigureError(Exception):
    """A problem in the figures file, located like a class file's: figure and field."""

    def __init__(
        self, file: str, message: str, *, figure: str | None = None, field: str | None = None
    ) -> None:
        self.file = file
        self.message = " ".join(message.split())
        self.figure = figure
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [
            *([f"figure {self.figure}"] if self.figure else []),
            *([f"field '{self.field}'"] if self.field else []),
        ]
        head = f"{self.file}: {', '.join(where)}" if where else self.file
        return f"{head}: {self.message}"


def load_figures(path: Path = FIGURES_FILE) -> dict[str, Figure]:
    """Every figure by id; raise FigureError on the first problem."""
    result = check_figures(path)
    if isinstance(result, list):
        raise result[0]
    return result


def check_figures(path: Path = FIGURES_FILE) -> dict[str, Figure] | list[FigureError]:
    """The figures by id, or every problem in the file (never an empty list)."""
    name = path.name
    try:
        # The class files' loader: safe, and refuses duplicate keys.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except (OSError, UnicodeDecodeError) as exc:
        return [FigureError(name, f"cannot read file: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        return [FigureError(name, f"{line}invalid YAML: {getattr(exc, 'problem', None) or exc}")]
    try:
        book = FigureBook.model_validate(data)
    except ValidationError as exc:
        return [_located(name, data, tuple(err["loc"]), err["msg"]) for err in exc.errors()]
    return {figure.id: figure for figure in book.figures}


def _located(name: str, data: object, loc: tuple[str | int, ...], message: str) -> FigureError:
    figure: str | None = None
    if len(loc) >= 2 and loc[0] == "figures" and isinstance(loc[1], int):
        index = loc[1]
        figure = str(index + 1)
        raw = data.get("figures") if isinstance(data, dict) else None
        if isinstance(raw, list) and index < len(raw) and isinstance(raw[index], dict):
            figure_id = raw[index].get("id")
            figure = f"{index + 1} ({figure_id})" if isinstance(figure_id, str) else figure
        loc = loc[2:]
    field = ".".join(f"[{part + 1}]" if isinstance(part, int) else part for part in loc)
    return FigureError(name, message, figure=figure, field=field.replace(".[", "[") or None)
