"""Pydantic models for a yoga class kept as data (one YAML file per class)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

Prop = Literal["strap", "block", "blanket"]

# Ids end up in file names and Telegram callback data, so keep them short and URL-safe.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
# A class's hold times may drift from its advertised length, but not by more than this.
TOTAL_TOLERANCE = 0.15
# A short class should still be a practice, yet fit a busy day. Taste differs between
# teachers, so outside this range `yogabot sequences check` warns but the class still loads.
SHORT_MINUTES = (10, 16)

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# A cue must be readable at a glance from the mat, hence the hard length cap.
CueLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class Step(BaseModel):
    """One segment of a class: a pose (on one side, if sided) held for a while."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    pose: Annotated[Text, StringConstraints(max_length=60)]
    sanskrit: Annotated[Text, StringConstraints(max_length=60)] | None = None
    side: Annotated[Text, StringConstraints(max_length=30)] | None = None
    # Three lines at most: a cue is read in one glance between breaths, not studied.
    cues: list[CueLine] = Field(min_length=2, max_length=3)
    # Strict so that a quoted "60" or a YAML `yes` is reported rather than coerced.
    hold_seconds: StrictInt = Field(ge=10, le=600)
    easier: Annotated[Text, StringConstraints(max_length=200)]
    props: list[Prop] = []
    # Part of the class's short version. Strict like hold_seconds: a quoted "true" is a typo.
    short: StrictBool = False
    # Said first in the short class, where this pose follows another than in the full one
    # (from lying face down straight to sitting, say): how to get here from there.
    short_start: Annotated[Text, StringConstraints(max_length=200)] | None = None
    # The pose's picture, an id in figures.yaml; `mirrored` draws it for the other side.
    figure: Slug | None = None
    mirrored: StrictBool = False
    # The picture of the easier version, shown whenever the cue shows it; drawn with the
    # same `mirrored`. Without it the easier version shows the pose's own picture.
    easier_figure: Slug | None = None
    # What is spoken for this step, where the words derived from it read badly aloud
    # (sequences/spoken.py derives them otherwise).
    spoken: Annotated[Text, StringConstraints(max_length=600)] | None = None

    @property
    def title(self) -> str:
        """What the user sees, e.g. "Half Splits, right leg" or "Child's Pose"."""
        return f"{self.pose}, {self.side}" if self.side else self.pose


# How a stage runs the class; the names are the /settings values they stand for
# (bot.models.ClassLength, EasierMode, Pace), easiest first in each tuple.
StageLength = Literal["short", "full"]
StageEasier = Literal["always", "remembered", "as_asked"]
StagePace = Literal["slow", "normal", "quick"]
LENGTHS: tuple[str, ...] = ("short", "full")
EASIER: tuple[str, ...] = ("always", "remembered", "as_asked")
PACES: tuple[str, ...] = ("slow", "normal", "quick")


class Stage(BaseModel):
    """One step of a programme: how the class runs at it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    # What /plan and the report call it: "Short class, every easier option".
    title: Annotated[Text, StringConstraints(max_length=60)]
    length: StageLength
    easier: StageEasier
    pace: StagePace

    def harder_than(self, other: Stage) -> bool:
        """Harder in one way at least, and easier in none."""
        mine = (LENGTHS.index(self.length), EASIER.index(self.easier), PACES.index(self.pace))
        theirs = (LENGTHS.index(other.length), EASIER.index(other.easier), PACES.index(other.pace))
        return mine != theirs and all(a >= b for a, b in zip(mine, theirs, strict=True))


class PainRules(BaseModel):
    """The pain-monitoring model's numbers (bot/programme/rules.py cites its sources): a
    back at most `good_at_most`/10 after a class is good; up to `acceptable_at_most` it is
    acceptable; above, or `notable_rise` points up on the class, it is too much."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    good_at_most: StrictInt = Field(default=3, ge=0, le=10)
    acceptable_at_most: StrictInt = Field(default=5, ge=0, le=10)
    notable_rise: StrictInt = Field(default=3, ge=1, le=10)
    # Good practices in a row, each with no flare the next day, that move a stage up.
    good_in_a_row: StrictInt = Field(default=2, ge=1, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.good_at_most >= self.acceptable_at_most:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    _problem(
                        ("good_at_most",),
                        self.good_at_most,
                        "good_not_below_acceptable",
                        "good_at_most must be below acceptable_at_most",
                    )
                ],
            )
        return self


class Programme(BaseModel):
    """A course over weeks: the stages a class runs at, easiest first, and the rules that
    move between them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weeks: StrictInt = Field(default=12, ge=1, le=52)
    stages: list[Stage] = Field(min_length=2, max_length=8)
    rules: PainRules = PainRules()

    @model_validator(mode="after")
    def _stages_climb(self) -> Self:
        problems: list[InitErrorDetails] = []
        seen: set[str] = set()
        for i, stage in enumerate(self.stages):
            if stage.id in seen:
                problems.append(
                    _problem(
                        ("stages", i, "id"),
                        stage.id,
                        "duplicate_stage_id",
                        "stage id '{id}' is used twice",
                        id=stage.id,
                    )
                )
            seen.add(stage.id)
            if i and not stage.harder_than(self.stages[i - 1]):
                problems.append(
                    _problem(
                        ("stages", i),
                        stage.id,
                        "stage_not_harder",
                        "stage '{id}' must be harder than the one before it in one way at "
                        "least (length, easier, pace) and easier in none",
                        id=stage.id,
                    )
                )
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self


class YogaClass(BaseModel):
    """A whole class: header, safety note and its steps in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    title: Annotated[Text, StringConstraints(max_length=100)]
    teacher: Text
    source: Text | None = None
    level: Text
    total_minutes: StrictInt = Field(ge=1, le=180)
    props_needed: list[Prop]
    props_optional: list[Prop] = []
    # "Two blocks" matters when the user gathers props; 0 means the class uses none.
    block_count: StrictInt = Field(default=0, ge=0, le=4)
    safety_note: Annotated[Text, StringConstraints(max_length=500)]
    steps: list[Step] = Field(min_length=1)
    # The stages /plan runs this class at over weeks; a class without one has no plan.
    programme: Programme | None = None

    @property
    def total_hold_seconds(self) -> int:
        return sum(step.hold_seconds for step in self.steps)

    @property
    def short_steps(self) -> list[Step]:
        """The steps marked ``short: true``, in class order; empty if the class marks none."""
        return [step for step in self.steps if step.short]

    @property
    def short_hold_seconds(self) -> int:
        """The short selection's total hold; 0 when the class marks no step short."""
        return sum(step.hold_seconds for step in self.short_steps)

    def steps_for(self, length: str) -> list[Step]:
        """The steps to run for a class length, "full" or "short".

        A class that marks no step short runs in full at either length, so every class
        can be offered short.
        """
        if length == "full":
            return list(self.steps)
        if length == "short":
            return self.short_steps or list(self.steps)
        raise ValueError(f"unknown class length {length!r}: expected 'full' or 'short'")

    def short_length_warning(self) -> str | None:
        """Why the short selection's length looks off, or None (also when there is none)."""
        low, high = SHORT_MINUTES
        seconds = self.short_hold_seconds
        if not self.short_steps or low * 60 <= seconds <= high * 60:
            return None
        return f"the short class lasts {seconds / 60:.1f} min; aim for {low} to {high} min"

    def step(self, index: int) -> Step:
        """Return the step at a 0-based index.

        Negative indices are refused: a caller computing "previous step" must not wrap
        around to the end of the class silently.
        """
        if not 0 <= index < len(self.steps):
            raise IndexError(f"step index {index} out of range 0..{len(self.steps) - 1}")
        return self.steps[index]

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        problems = [*self._step_problems(), *self._short_problems(), *self._header_problems()]
        if problems:
            # A ValidationError (not a ValueError) keeps each problem's location, so the
            # loader can name the offending step and field instead of the whole class.
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    def _step_problems(self) -> list[InitErrorDetails]:
        problems: list[InitErrorDetails] = []
        declared = {*self.props_needed, *self.props_optional}
        first_index: dict[str, int] = {}
        for i, step in enumerate(self.steps):
            if step.id in first_index:
                problems.append(
                    _problem(
                        ("steps", i, "id"),
                        step.id,
                        "duplicate_step_id",
                        "step id '{id}' is already used by step {other}",
                        id=step.id,
                        other=first_index[step.id] + 1,
                    )
                )
            first_index.setdefault(step.id, i)
            if step.easier_figure is not None and step.figure is None:
                problems.append(
                    _problem(
                        ("steps", i, "easier_figure"),
                        step.easier_figure,
                        "easier_figure_without_figure",
                        "step '{id}' has an easier_figure but no figure: the easier picture "
                        "takes the place of the pose's own",
                        id=step.id,
                    )
                )
            if step.short_start is not None and not step.short:
                problems.append(
                    _problem(
                        ("steps", i, "short_start"),
                        step.short_start,
                        "short_start_outside_short_class",
                        "step '{id}' has a short_start but is not in the short class",
                        id=step.id,
                    )
                )
            for j, prop in enumerate(step.props):
                if prop not in declared:
                    problems.append(
                        _problem(
                            ("steps", i, "props", j),
                            prop,
                            "undeclared_prop",
                            "prop '{prop}' is not in props_needed or props_optional",
                            prop=prop,
                        )
                    )
        return problems

    def _short_problems(self) -> list[InitErrorDetails]:
        if not self.short_steps:
            return []
        problems: list[InitErrorDetails] = []
        # Stopping after one side of a lunge or a twist leaves the body lopsided, so the
        # sides of a pose are short together; the unmarked side is the one reported.
        first_short_side: dict[str, int] = {}
        for i, step in enumerate(self.steps):
            if step.side and step.short:
                first_short_side.setdefault(step.pose, i)
        for i, step in enumerate(self.steps):
            other = first_short_side.get(step.pose)
            if step.side and not step.short and other is not None:
                problems.append(
                    _problem(
                        ("steps", i, "short"),
                        step.short,
                        "short_splits_sides",
                        "'{pose}' is short on step {other} but not on this side: "
                        "mark every side of a pose alike",
                        pose=step.pose,
                        other=other + 1,
                    )
                )
        # Even a short class arrives gently and ends lying still.
        bookends = {0: "start with its first step", len(self.steps) - 1: "end with its last step"}
        for i, must in bookends.items():
            if not self.steps[i].short:
                problems.append(
                    _problem(
                        ("steps", i, "short"),
                        self.steps[i].short,
                        "short_bookend_missing",
                        "the short class must {must}: mark this step short: true",
                        must=must,
                    )
                )
        return problems

    def _header_problems(self) -> list[InitErrorDetails]:
        problems: list[InitErrorDetails] = []
        both = sorted(set(self.props_needed) & set(self.props_optional))
        if both:
            problems.append(
                _problem(
                    ("props_optional",),
                    both,
                    "prop_needed_and_optional",
                    "{props} listed as both needed and optional",
                    props=", ".join(both),
                )
            )
        uses_blocks = "block" in self.props_needed or "block" in self.props_optional
        if uses_blocks != (self.block_count > 0):
            problems.append(
                _problem(
                    ("block_count",),
                    self.block_count,
                    "block_count_mismatch",
                    "block_count must be at least 1 exactly when 'block' is a listed prop",
                )
            )
        target = self.total_minutes * 60
        total = self.total_hold_seconds
        if abs(total - target) > target * TOTAL_TOLERANCE:
            problems.append(
                _problem(
                    ("total_minutes",),
                    self.total_minutes,
                    "total_mismatch",
                    "steps' hold_seconds add up to {total} s ({minutes} min), more than "
                    "{pct}% away from {target} min",
                    total=total,
                    minutes=round(total / 60, 1),
                    pct=round(TOTAL_TOLERANCE * 100),
                    target=self.total_minutes,
                )
            )
        return problems


def _problem(
    loc: tuple[str | int, ...], value: object, kind: str, template: str, **ctx: object
) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(kind, template, ctx or None), loc=loc, input=value
    )
