"""Pose figures and their pictures: one plausible body, drawn the same way every time."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image, ImageChops, ImageColor, ImageOps
from pydantic import ValidationError

from bot.pictures import (
    ACCENT,
    FAR,
    HAIR,
    HEIGHT,
    MAX_SCALE,
    SKIN,
    STRAP,
    WIDTH,
    WORK,
    frame,
    layout,
    picture_path,
    render,
    to_pixels,
)
from bot.pose_pictures import FigurePictures
from bot.uploads import Picture
from sequences import SEQUENCES_DIR, Figure, FigureError, check_all, load_class, load_figures
from sequences.figures import (
    CONTACT_TOLERANCE,
    JOINT_RANGES,
    JOINT_RANGES_FROM_ABOVE,
    RADIUS,
    SIDES,
    SKELETON,
    FigureBook,
    check_figures,
)

FIGURES = load_figures()
SEED = load_class(SEQUENCES_DIR / "back-strengthening-part-1.yaml")
BONES = [
    ("pelvis", "chest", "torso"),
    ("chest", "neck", "neck"),
    ("neck", "head", "head"),
    *(
        (f"{side}.{start}", f"{side}.{end}", segment)
        for side in SIDES
        for start, end, segment in (
            ("hip", "knee", "upper_leg"),
            ("knee", "ankle", "lower_leg"),
            ("ankle", "toes", "foot"),
            ("shoulder", "elbow", "upper_arm"),
            ("elbow", "wrist", "lower_arm"),
            ("wrist", "fingers", "hand"),
        )
    ),
]


_PART_SEGMENT = {
    "head": "head",
    "knee": "upper_leg",
    "ankle": "lower_leg",
    "toes": "foot",
    "shoulder": "upper_arm",
    "elbow": "upper_arm",
    "wrist": "lower_arm",
    "fingers": "hand",
}


def _rgb_pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    """An RGB picture's pixels, row by row (Pillow types them loosely)."""
    return list(image.get_flattened_data())  # type: ignore[arg-type]


def png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def every_figure(*, seen_from_the_side: bool = False) -> pytest.MarkDecorator:
    """Every figure; with `seen_from_the_side`, those with a mat line to rest on (a figure
    seen from above lies on the floor as a whole, so contact and depth say nothing)."""
    chosen = {
        figure_id: figure
        for figure_id, figure in FIGURES.items()
        if not seen_from_the_side or figure.view != "above"
    }
    return pytest.mark.parametrize("figure", chosen.values(), ids=list(chosen))


def figure_data(figure_id: str) -> dict[str, Any]:
    return FIGURES[figure_id].model_dump(mode="json")


# --- the body -------------------------------------------------------------------------


@every_figure()
def test_limbs_keep_their_length_in_every_pose(figure: Figure) -> None:
    joints = layout(figure)
    scale = frame(figure).scale
    for start, end, segment in BONES:
        assert math.dist(joints[start], joints[end]) == pytest.approx(
            figure.segment_length(segment) * scale, abs=1e-6
        ), (figure.id, segment)
        # Only an arm held out of a side view's plane is drawn shortened.
        if figure.segment_length(segment) != SKELETON[segment]:
            assert figure.elbows_wide and segment in ("upper_arm", "lower_arm")


@every_figure()
def test_joints_stay_in_a_human_range(figure: Figure) -> None:
    for joint, angle in figure.joint_angles().items():
        if figure.elbows_wide and joint.endswith((".shoulder", ".elbow")):
            continue  # the side view sees only the shadow of an arm held out sideways
        ranges = JOINT_RANGES_FROM_ABOVE if figure.view == "above" else JOINT_RANGES
        low, high = ranges[joint.rpartition(".")[2]]
        assert low - 1e-6 <= angle <= high + 1e-6, (figure.id, joint, angle)


def test_seen_from_above_each_arm_is_measured_from_its_own_side() -> None:
    """Head up, the right arm out to the right and the left arm out to the left are the
    same 90° at the shoulder; crossing the body is the other way for each."""
    data = figure_data("side-childs-pose")
    data.update(torso=90.0, neck=90.0, head=90.0)
    legs = {"upper_leg": -90.0, "lower_leg": -90.0, "foot": -90.0}
    data["near"].update(upper_arm=0.0, lower_arm=0.0, hand=0.0, **legs)
    data["far"].update(upper_arm=180.0, lower_arm=180.0, hand=180.0, **legs)
    angles = Figure.model_validate(data).joint_angles()
    assert angles["near.shoulder"] == pytest.approx(90.0)
    assert angles["far.shoulder"] == pytest.approx(90.0)


def test_elbows_wide_shortens_only_the_arms_and_only_from_the_side() -> None:
    chair = FIGURES["chair"]
    assert chair.elbows_wide
    assert chair.segment_length("upper_arm") < SKELETON["upper_arm"]
    assert chair.segment_length("upper_leg") == SKELETON["upper_leg"]
    data = figure_data("side-childs-pose")
    data["elbows_wide"] = True
    with pytest.raises(ValueError, match="elbows_wide is for a side view"):
        Figure.model_validate(data)


def test_knees_and_elbows_bend_one_way_only() -> None:
    assert JOINT_RANGES["knee"][0] == 0 and JOINT_RANGES["elbow"][0] == 0
    data = figure_data("hero-pose")
    # The near knee folded the wrong way: the shin forward of the thigh.
    data["near"]["lower_leg"] = 30.0
    with pytest.raises(ValueError, match=r"near\.knee at .* outside the human range"):
        Figure.model_validate(data)


@every_figure()
def test_head_sits_on_the_neck(figure: Figure) -> None:
    joints = layout(figure)
    assert math.dist(joints["neck"], joints["head"]) < RADIUS["head"] * frame(figure).scale


@every_figure(seen_from_the_side=True)
def test_named_contacts_rest_on_the_mat_or_a_prop(figure: Figure) -> None:
    joints = layout(figure)
    scale = frame(figure).scale
    # A few pixels, as the brief of a contact: the point rests on its surface.
    contact_pixels = CONTACT_TOLERANCE * scale
    for contact in figure.contacts:
        x, y = joints[contact]
        part = contact.rpartition(".")[2]
        radius = RADIUS["torso" if part in ("pelvis", "chest") else _PART_SEGMENT[part]] * scale
        # Measured on the picture: the part's lowest edge against the mat or a prop's top.
        surfaces = [to_pixels(figure, (0.0, 0.0))[1]]
        for prop in figure.props:
            left, top = to_pixels(figure, (prop.left, prop.height))
            right, _ = to_pixels(figure, (prop.right, 0.0))
            if left <= x <= right:
                surfaces.append(top)
        gap = min(abs(surface - (y + radius)) for surface in surfaces)
        assert gap <= contact_pixels + 1e-6, (figure.id, contact, gap)


@every_figure(seen_from_the_side=True)
def test_nothing_passes_below_the_mat_or_through_a_prop(figure: Figure) -> None:
    for capsule in figure.capsules():
        (x0, y0), (x1, y1) = capsule.start, capsule.end
        for t in (n / 20 for n in range(21)):
            x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
            assert figure.sink_depth(x, y, capsule.radius) <= CONTACT_TOLERANCE, (
                figure.id,
                capsule.side,
                capsule.name,
            )
            assert y - capsule.radius >= -CONTACT_TOLERANCE, (figure.id, capsule.name)


@every_figure()
def test_figure_fits_the_picture(figure: Figure) -> None:
    scale = frame(figure).scale
    assert scale <= MAX_SCALE
    for capsule in figure.capsules():
        for point in (capsule.start, capsule.end):
            x, y = to_pixels(figure, point)
            r = capsule.radius * scale
            assert r <= x <= WIDTH - r and r <= y <= HEIGHT - r, (figure.id, capsule.name)


def test_contact_off_its_surface_is_located() -> None:
    data = {"figures": [figure_data("childs-pose")]}
    data["figures"][0]["hip"]["y"] = 40.0
    with pytest.raises(ValueError, match=r"head should rest on the mat or a prop"):
        FigureBook.model_validate(data)


def test_broken_figures_file_names_figure_and_field(tmp_path: Path) -> None:
    data = {"figures": [figure_data("childs-pose"), figure_data("sphinx")]}
    data["figures"][1]["near"]["knee"] = 10.0  # no such segment
    data["figures"][1]["torso"] = 200.0
    data["figures"][0]["props"] = [{"kind": "bolster", "x": 0.0, "width": 10.0, "height": 5.0}]
    path = tmp_path / "figures.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")

    errors = check_figures(path)

    assert isinstance(errors, list)
    lines = sorted(str(err) for err in errors)
    assert all(isinstance(err, FigureError) for err in errors)
    assert any(
        line.startswith("figures.yaml: figure 1 (childs-pose), field 'props[1].kind': ")
        and "'strap', 'block' or 'blanket'" in line
        for line in lines
    )
    assert any(
        line.startswith("figures.yaml: figure 2 (sphinx), field 'near.knee': Extra inputs")
        for line in lines
    )
    assert any(
        line.startswith("figures.yaml: figure 2 (sphinx), field 'torso': ") and "180" in line
        for line in lines
    )


def test_block_must_have_block_sides() -> None:
    data = figure_data("down-dog-blocks")
    data["props"][0]["height"] = 12.0
    with pytest.raises(ValueError, match="a block's width and height"):
        Figure.model_validate(data)


# --- the class refers to figures -----------------------------------------------------


def test_every_seed_step_has_a_known_figure() -> None:
    for step in SEED.steps:
        assert step.figure in FIGURES, step.id


def test_every_seed_pose_has_an_easier_figure_that_differs() -> None:
    """The easier version of each pose is drawn too, as `<figure>-easier`, and is not the
    usual drawing again under another name."""
    for step in SEED.steps:
        assert step.figure is not None, step.id
        easier = FIGURES.get(f"{step.figure}-easier")
        assert easier is not None, step.id
        usual = figure_data(step.figure)
        assert {**easier.model_dump(mode="json"), "id": usual["id"], "name": usual["name"]} != usual


def test_sides_of_a_pose_share_a_figure_mirrored() -> None:
    by_id = {step.id: step for step in SEED.steps}
    pairs = [i.removesuffix("-right") for i in by_id if i.endswith("-right")]
    assert len(pairs) == 5
    for base in pairs:
        right, left = by_id[f"{base}-right"], by_id[f"{base}-left"]
        assert right.figure == left.figure, base
        assert (right.mirrored, left.mirrored) == (False, True), base
    assert not any(step.mirrored for step in SEED.steps if not step.side)


def test_unknown_figure_is_reported_by_the_check(tmp_path: Path) -> None:
    data = yaml.safe_load((SEQUENCES_DIR / f"{SEED.id}.yaml").read_text(encoding="utf-8"))
    data["steps"][8]["figure"] = "flying-pigeon"
    (tmp_path / f"{SEED.id}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")

    assert check_all(tmp_path) == [
        f"{SEED.id}.yaml: step 9 (locust-strap), field 'figure': "
        "unknown figure 'flying-pigeon': not in figures.yaml"
    ]


def test_unknown_easier_figure_is_reported_by_the_check(tmp_path: Path) -> None:
    data = yaml.safe_load((SEQUENCES_DIR / f"{SEED.id}.yaml").read_text(encoding="utf-8"))
    data["steps"][0]["easier_figure"] = "side-childs-pose"  # known: no problem
    data["steps"][8]["easier_figure"] = "flying-pigeon"
    (tmp_path / f"{SEED.id}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")

    assert check_all(tmp_path) == [
        f"{SEED.id}.yaml: step 9 (locust-strap), field 'easier_figure': "
        "unknown figure 'flying-pigeon': not in figures.yaml"
    ]


def test_a_broken_figures_file_fails_the_check(tmp_path: Path) -> None:
    (tmp_path / f"{SEED.id}.yaml").write_text(
        (SEQUENCES_DIR / f"{SEED.id}.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "figures.yaml").write_text("figures: []\n", encoding="utf-8")

    lines = check_all(tmp_path)

    assert len(lines) == 1
    assert lines[0].startswith("figures.yaml: field 'figures': ")


def test_mirrored_must_be_a_real_boolean() -> None:
    step = SEED.steps[3].model_dump()
    step["mirrored"] = "yes"
    with pytest.raises(ValueError, match="valid boolean"):
        type(SEED.steps[3]).model_validate(step)


# --- the pictures --------------------------------------------------------------------


@every_figure()
def test_render_is_a_deterministic_png_of_the_right_size(figure: Figure) -> None:
    first = render(figure)
    assert first == render(figure)
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert png(first).size == (WIDTH, HEIGHT)


@every_figure()
def test_mirrored_picture_is_the_mirror_image(figure: Figure) -> None:
    plain, mirrored = png(render(figure)), png(render(figure, mirrored=True))
    assert ImageChops.difference(ImageOps.mirror(plain), mirrored).getbbox() is None
    assert plain.tobytes() != mirrored.tobytes()


def test_picture_draws_the_body_in_the_accent_green() -> None:
    image = png(render(FIGURES["half-forward-fold"]))
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 16) or []}
    assert (0x3F, 0x7A, 0x57) in colours
    assert image.getpixel((2, 2)) == (0xFB, 0xF9, 0xF3)  # off-white background


def test_cache_writes_once_and_reuses_the_file(tmp_path: Path) -> None:
    figure = FIGURES["low-lunge"]
    path = picture_path(figure, False, tmp_path / "pictures")
    assert path.read_bytes() == render(figure)
    path.write_bytes(b"kept")  # a second call must not draw again

    assert picture_path(figure, False, tmp_path / "pictures") == path
    assert path.read_bytes() == b"kept"
    other = picture_path(figure, True, tmp_path / "pictures")
    assert other != path
    assert other.read_bytes() == render(figure, mirrored=True)
    assert sorted(p.name for p in (tmp_path / "pictures").iterdir()) == sorted(
        [path.name, other.name]
    )


def test_the_easier_version_shows_its_own_figure_on_the_same_side(tmp_path: Path) -> None:
    step = SEED.steps[0].model_copy(
        update={"figure": "low-lunge", "mirrored": True, "easier_figure": None}
    )
    with_easier = step.model_copy(update={"easier_figure": "half-splits"})
    unknown = step.model_copy(update={"easier_figure": "flying-pigeon"})
    pictures = FigurePictures(FIGURES, tmp_path)

    usual = pictures.for_step(with_easier)
    easier = pictures.for_step(with_easier, easier=True)

    assert usual == picture_for(FIGURES["low-lunge"], mirrored=True, cache=tmp_path)
    assert easier == picture_for(FIGURES["half-splits"], mirrored=True, cache=tmp_path)
    # No easier figure of its own (or one the figures file lacks): the usual picture.
    assert pictures.for_step(step, easier=True) == usual
    assert pictures.for_step(unknown, easier=True) == usual
    # No figure at all: no picture in either version.
    bare = step.model_copy(update={"figure": None})
    assert pictures.for_step(bare) is None and pictures.for_step(bare, easier=True) is None


def test_prepare_draws_both_versions_of_every_step(tmp_path: Path) -> None:
    steps = [
        SEED.steps[0].model_copy(update={"figure": "low-lunge", "easier_figure": "half-splits"}),
        SEED.steps[1].model_copy(update={"figure": "sphinx", "easier_figure": None}),
    ]
    yoga_class = SEED.model_copy(update={"steps": steps})

    FigurePictures(FIGURES, tmp_path).prepare([yoga_class])

    drawn = sorted(p.name for p in tmp_path.iterdir())
    expected = [
        picture_path(FIGURES[f], False, tmp_path).name
        for f in ("low-lunge", "half-splits", "sphinx")
    ]
    assert drawn == sorted(expected)


def picture_for(figure: Figure, *, mirrored: bool, cache: Path) -> Picture:
    path = picture_path(figure, mirrored, cache)
    return Picture(key=path.stem, path=path)


def test_cache_key_follows_the_figure(tmp_path: Path) -> None:
    figure = FIGURES["chair"]
    moved = Figure.model_validate({**figure_data("chair"), "name": "Chair, renamed"})
    assert picture_path(figure, False, tmp_path) != picture_path(moved, False, tmp_path)
    assert len(picture_path(figure, False, tmp_path).stem) == 64


# --- version two: a face, a shaped torso, the work in one colour ----------------------

FACE_DOWN = (
    "childs-pose",
    "belly-lift-strap",
    "half-locust",
    "locust-opposite-arm-leg",
    "locust-strap",
    "makarasana",
    "sphinx",
    "cobra-leg-lift",
)


def _centroid(image: Image.Image, colour: str) -> tuple[float, float, int]:
    target = ImageColor.getrgb(colour)
    pixels = [
        (x, y)
        for y in range(image.height)
        for x in range(image.width)
        if image.getpixel((x, y)) == target
    ]
    if not pixels:
        return 0.0, 0.0, 0
    return (
        sum(x for x, _ in pixels) / len(pixels),
        sum(y for _, y in pixels) / len(pixels),
        len(pixels),
    )


@pytest.mark.parametrize("figure_id", FACE_DOWN)
def test_a_body_lying_on_its_front_faces_the_mat(figure_id: str) -> None:
    # The face is a quarter turn clockwise from the head's axis: pointing down means the
    # figure lies face down, which a plain disc could not tell from face up.
    assert math.sin(math.radians(FIGURES[figure_id].head - 90)) < -0.3


def test_the_hair_is_on_the_side_away_from_the_face() -> None:
    face_down, face_up = FIGURES["belly-lift-strap"], FIGURES["final-rest"]
    for figure, hair_above in ((face_down, True), (face_up, False)):
        image = png(render(figure))
        _, head_y = layout(figure)["head"]
        _, hair_y, count = _centroid(image, HAIR)
        assert count > 50, figure.id
        assert (hair_y < head_y) is hair_above, figure.id


def test_working_limbs_and_arrows_are_drawn_in_the_working_colour() -> None:
    working = FIGURES["half-locust"]
    assert working.working == ["near.leg"]
    *_, count = _centroid(png(render(working)), WORK)
    assert count > 1000
    resting = FIGURES["hero-pose"]
    assert not resting.working and not resting.arrows and resting.turn is None
    *_, none = _centroid(png(render(resting)), WORK)
    assert none == 0


def test_a_far_working_limb_is_drawn_as_strongly_as_a_near_one() -> None:
    # The lifted leg on the far side: once drawn palest, the least visible thing there.
    data = figure_data("half-locust")
    far_lift = {
        **data,
        "near": data["far"],
        "far": data["near"],
        "contacts": [c.replace("far.", "near.") for c in data["contacts"]],
        "arrows": [],
    }
    working = Figure.model_validate({**far_lift, "working": ["far.leg"]})
    resting = Figure.model_validate({**far_lift, "working": []})
    x, y = layout(working)["far.knee"]
    assert png(render(working)).getpixel((round(x), round(y))) == ImageColor.getrgb(WORK)
    assert png(render(resting)).getpixel((round(x), round(y))) == ImageColor.getrgb(FAR)


def test_the_strap_shows_as_a_band_at_the_chats_width() -> None:
    image = png(render(FIGURES["belly-lift-strap"])).resize((320, 200), Image.Resampling.LANCZOS)
    target = ImageColor.getrgb(STRAP)
    pixels = _rgb_pixels(image)
    near = [
        (n % image.width, n // image.width)
        for n, pixel in enumerate(pixels)
        if sum(abs(a - b) for a, b in zip(pixel, target, strict=True)) < 60
    ]
    xs, ys = [x for x, _ in near], [y for _, y in near]
    assert max(xs) - min(xs) >= 12
    assert max(ys) - min(ys) >= 2


def test_seen_from_above_the_body_lies_along_the_picture() -> None:
    figure = FIGURES["side-childs-pose"]
    joints = layout(figure)
    head_x, _ = joints["head"]
    pelvis_x, _ = joints["pelvis"]
    assert head_x - pelvis_x > 0.25 * WIDTH  # head to the right, as a body lying down


@pytest.mark.parametrize("spine", [-40.0, -10.0, 12.0, 30.0])
def test_the_spine_bends_toward_the_front_when_arched(spine: float) -> None:
    figure = Figure.model_validate({**figure_data("hero-pose"), "spine": spine})
    (x, y), _ = figure.spine_at(0.5)
    # Sitting tall, the front is +x: an arched back moves the middle of the spine forward.
    chord_x = figure.hip.x
    expected = SKELETON["torso"] / 4 * math.tan(math.radians(spine / 2))
    assert x - chord_x == pytest.approx(expected, abs=1e-6)
    assert y == pytest.approx(figure.hip.y + SKELETON["torso"] / 2, abs=1e-6)


def test_a_torso_bent_into_the_mat_is_refused() -> None:
    data = {**figure_data("belly-lift-strap"), "spine": 30.0}
    with pytest.raises(ValidationError, match="torso passes"):
        Figure.model_validate(data)


def test_a_twist_to_the_right_turns_the_chest_to_the_viewer() -> None:
    turned, both_ways = layout(FIGURES["seated-twist"]), layout(FIGURES["seated-twist-both-ways"])
    # Seen from the right, the right shoulder comes round to the picture's left.
    assert turned["far.shoulder"][0] - turned["near.shoulder"][0] > 20
    assert both_ways["near.shoulder"] == both_ways["far.shoulder"]  # still in profile
    assert turned["near.hip"] == turned["far.hip"]  # the hips stay square to the side


def test_a_belly_that_lifts_has_its_arrow_rising_from_under_it() -> None:
    figure = FIGURES["belly-lift-strap"]
    [arrow] = figure.arrows
    assert (arrow.at, arrow.direction) == ("belly", 90.0) and arrow.gap < 0
    x, y = figure.points()["belly"]
    # Just above the belly's underside: the arrow, drawn over the body (its thin shaft
    # softened a little by the scaling down).
    px, py = to_pixels(figure, (x, y + 2.0))
    resting = Figure.model_validate({**figure_data("belly-lift-strap"), "arrows": []})
    drawn = png(render(figure)).getpixel((round(px), round(py)))
    assert isinstance(drawn, tuple)
    assert max(abs(a - b) for a, b in zip(drawn, ImageColor.getrgb(WORK), strict=True)) <= 8
    assert png(render(resting)).getpixel((round(px), round(py))) == ImageColor.getrgb(ACCENT)


def test_every_seed_step_shows_its_easier_figure() -> None:
    for step in SEED.steps:
        assert step.easier_figure == f"{step.figure}-easier", step.id
        assert step.easier_figure in FIGURES


@every_figure(seen_from_the_side=True)
def test_the_face_shows_at_the_chats_width(figure: Figure) -> None:
    # At 320 px, the bubble's width, some face must still show beside the hair: which way
    # the body faces is read from it. (Seen from above, a head resting face down is hair.)
    small = png(render(figure)).resize((320, 200), Image.Resampling.LANCZOS)
    skin = ImageColor.getrgb(SKIN)
    pixels = _rgb_pixels(small)
    face = sum(
        1 for pixel in pixels if sum(abs(a - b) for a, b in zip(pixel, skin, strict=True)) < 40
    )
    assert face >= 12, (figure.id, face)


def test_an_arrow_starts_at_a_named_point_of_the_body() -> None:
    data = figure_data("half-locust")
    ok = {**data, "arrows": [{"at": "belly", "direction": 90.0}]}
    assert Figure.model_validate(ok).arrows[0].at == "belly"
    with pytest.raises(ValidationError, match="arrows"):
        Figure.model_validate({**data, "arrows": [{"at": "nose", "direction": 90.0}]})
