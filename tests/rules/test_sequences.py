"""The class files, their schema and the loader's error reporting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.models import ClassLength
from sequences import (
    SEQUENCES_DIR,
    SequenceError,
    Step,
    YogaClass,
    check_all,
    load_catalog,
    load_class,
)
from sequences import loader as loader_module
from tests.harness.factories import make_class

SEED_ID = "back-strengthening-part-1"
SEED_FILE = SEQUENCES_DIR / f"{SEED_ID}.yaml"


@pytest.fixture(scope="module")
def seed() -> YogaClass:
    return load_class(SEED_FILE)


def seed_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    return data


def write_class(directory: Path, data: dict[str, Any], stem: str | None = None) -> Path:
    path = directory / f"{stem or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def small_class(class_id: str) -> dict[str, Any]:
    """A minimal valid class, unrelated to the seed."""
    step = {
        "id": "easy-breathing",
        "pose": "Easy Seat",
        "sanskrit": "Sukhasana",
        "cues": ["Sit tall.", "Inhale, lengthen. Exhale, soften."],
        "hold_seconds": 60,
        "easier": "Sit on a folded blanket.",
        "props": ["blanket"],
    }
    return {
        "id": class_id,
        "title": "Two Minutes of Breath",
        "teacher": "Someone Else",
        "level": "gentle",
        "total_minutes": 2,
        "props_needed": [],
        "props_optional": ["blanket"],
        "safety_note": "Stop if anything hurts.",
        "steps": [step, {**step, "id": "easy-breathing-2"}],
    }


# --- the seed class -----------------------------------------------------------------


def test_seed_header(seed: YogaClass) -> None:
    assert seed.id == SEED_ID
    assert seed.title == "Back Strengthening – Part 1"
    assert seed.teacher == "Olivia Barry"
    assert seed.total_minutes == 30
    assert set(seed.props_needed) == {"strap", "block"}
    assert seed.block_count == 2
    assert seed.props_optional == ["blanket"]
    assert "not medical advice" in seed.safety_note


def test_seed_has_20_to_25_steps_with_unique_ids(seed: YogaClass) -> None:
    ids = [step.id for step in seed.steps]
    assert 20 <= len(ids) <= 25
    assert len(set(ids)) == len(ids)


def test_seed_lasts_27_to_33_minutes(seed: YogaClass) -> None:
    assert 27 * 60 <= seed.total_hold_seconds <= 33 * 60
    assert seed.total_hold_seconds == sum(step.hold_seconds for step in seed.steps)


def test_seed_cues_are_short_and_2_to_3_per_step(seed: YogaClass) -> None:
    for step in seed.steps:
        assert 2 <= len(step.cues) <= 3, step.id
        assert all(0 < len(cue) <= 120 for cue in step.cues), step.id
        assert step.easier, step.id


def test_seed_does_both_sides(seed: YogaClass) -> None:
    ids = [step.id for step in seed.steps]
    sided = [i for i in ids if i.endswith(("-right", "-left"))]
    assert sided, "the seed class has sided poses"
    for step_id in sided:
        base, _, side = step_id.rpartition("-")
        twin = f"{base}-{'left' if side == 'right' else 'right'}"
        assert twin in ids, f"{step_id} has no {twin}"
    # The class always starts a pair on the right.
    for step_id in (i for i in sided if i.endswith("-right")):
        assert ids.index(step_id) < ids.index(step_id.removesuffix("-right") + "-left")


def test_seed_short_selection_keeps_class_order_and_both_ends(seed: YogaClass) -> None:
    short = seed.short_steps
    assert short == [step for step in seed.steps if step.short]
    positions = [seed.steps.index(step) for step in short]
    assert positions == sorted(positions)
    assert short[0] is seed.steps[0]
    assert short[0].pose == "Child's Pose"
    assert short[-1] is seed.steps[-1]
    assert short[-1].pose == "Final Rest"


def test_seed_short_selection_keeps_both_sides_together(seed: YogaClass) -> None:
    sided_poses = {step.pose for step in seed.steps if step.side}
    for pose in sided_poses:
        marks = {step.short for step in seed.steps if step.pose == pose and step.side}
        assert len(marks) == 1, pose
    assert {"Low Lunge", "Seated Twist"} <= {step.pose for step in seed.short_steps}


def test_seed_short_selection_lasts_12_to_15_minutes(seed: YogaClass) -> None:
    assert 12 * 60 <= seed.short_hold_seconds <= 15 * 60
    assert seed.short_hold_seconds == sum(step.hold_seconds for step in seed.short_steps)
    assert seed.short_length_warning() is None


def test_seed_short_selection_strengthens_and_mobilises(seed: YogaClass) -> None:
    ids = {step.id for step in seed.short_steps}
    assert {"belly-lift-strap", "locust-alternating-legs", "sphinx-heels-together"} <= ids
    assert {"low-lunge-right", "seated-twist-right", "side-childs-pose-right"} <= ids


def test_steps_for_each_length(seed: YogaClass) -> None:
    assert seed.steps_for("full") == seed.steps
    assert seed.steps_for("short") == seed.short_steps
    assert len(seed.short_steps) < len(seed.steps)


@pytest.mark.parametrize("length", list(ClassLength))
def test_steps_for_accepts_every_class_length(seed: YogaClass, length: ClassLength) -> None:
    assert seed.steps_for(length) == seed.steps_for(length.value)


def test_class_without_short_steps_runs_in_full_when_short() -> None:
    tiny = make_class()
    assert tiny.short_steps == []
    assert tiny.short_hold_seconds == 0
    assert tiny.steps_for("short") == tiny.steps == tiny.steps_for("full")
    assert tiny.short_length_warning() is None


def test_steps_for_returns_a_copy(seed: YogaClass) -> None:
    seed.steps_for("full").clear()
    seed.steps_for("short").clear()
    assert len(seed.steps) == 25


def test_a_bridge_only_belongs_to_a_step_of_the_short_class() -> None:
    data = seed_data()
    data["steps"][2]["short_start"] = "Come up to sitting."
    assert not data["steps"][2].get("short")
    with pytest.raises(ValueError, match="has a short_start but is not in the short class"):
        YogaClass.model_validate(data)


def test_steps_for_refuses_an_unknown_length(seed: YogaClass) -> None:
    with pytest.raises(ValueError, match="unknown class length 'long'"):
        seed.steps_for("long")


def test_short_selection_of_odd_length_is_only_a_warning() -> None:
    data = seed_data()
    for step in data["steps"][1:-1]:
        step["short"] = False
        step.pop("short_start", None)  # only a step of the short class may have one
    only_ends = YogaClass.model_validate(data)
    assert only_ends.short_hold_seconds == 160
    assert only_ends.short_length_warning() == (
        "the short class lasts 2.7 min; aim for 10 to 16 min"
    )


def test_seed_uses_props_it_declares(seed: YogaClass) -> None:
    used = {prop for step in seed.steps for prop in step.props}
    assert used == {"strap", "block", "blanket"}


def test_step_title_adds_the_side(seed: YogaClass) -> None:
    half_splits = next(s for s in seed.steps if s.id == "half-splits-right")
    assert half_splits.title == "Half Splits, right leg"
    assert seed.steps[0].title == "Child's Pose"


def test_step_lookup_is_zero_based_and_bounded(seed: YogaClass) -> None:
    assert seed.step(0) is seed.steps[0]
    assert seed.step(len(seed.steps) - 1) is seed.steps[-1]
    for index in (-1, len(seed.steps)):
        with pytest.raises(IndexError):
            seed.step(index)


def test_models_are_frozen(seed: YogaClass) -> None:
    with pytest.raises(ValueError, match="frozen"):
        seed.steps[0].hold_seconds = 1  # type: ignore[misc]
    assert isinstance(seed.steps[0], Step)


def test_default_catalog_holds_the_seed() -> None:
    catalog = load_catalog()
    assert SEED_ID in catalog
    assert catalog[SEED_ID] == load_class(SEED_FILE)


def test_check_all_passes_on_the_shipped_classes() -> None:
    assert check_all() == []


# --- broken files -------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set_step(index: int, key: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["steps"][index][key] = value

    return mutate


def _del_step_key(index: int, key: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del data["steps"][index][key]

    return mutate


def _easier_figure_without_figure(data: dict[str, Any]) -> None:
    del data["steps"][0]["figure"]
    data["steps"][0]["easier_figure"] = "side-childs-pose"


def _drop_optional_blanket(data: dict[str, Any]) -> None:
    data["props_optional"] = []


def _double_length(data: dict[str, Any]) -> None:
    data["total_minutes"] = 60


BROKEN = {
    # name: (mutation, step label, field, message fragment)
    "hold too short": (
        _set_step(2, "hold_seconds", 5),
        "3 (half-splits-right)",
        "hold_seconds",
        "greater than or equal to 10",
    ),
    "hold as text": (
        _set_step(2, "hold_seconds", "60"),
        "3 (half-splits-right)",
        "hold_seconds",
        "valid integer",
    ),
    "missing field": (
        _del_step_key(1, "easier"),
        "2 (low-lunge-right)",
        "easier",
        "Field required",
    ),
    "unknown prop": (
        _set_step(5, "props", ["strap", "bolster"]),
        "6 (belly-lift-strap)",
        "props[2]",
        "'strap', 'block' or 'blanket'",
    ),
    "prop not declared by the class": (
        _drop_optional_blanket,
        "1 (childs-pose)",
        "props[1]",
        "'blanket' is not in props_needed or props_optional",
    ),
    "duplicate step id": (
        _set_step(3, "id", "half-splits-right"),
        "4 (half-splits-right)",
        "id",
        "already used by step 3",
    ),
    "four cue lines": (
        _set_step(0, "cues", [f"Breathe {n}." for n in range(4)]),
        "1 (childs-pose)",
        "cues",
        "at most 3 items",
    ),
    "short as text": (
        _set_step(0, "short", "true"),
        "1 (childs-pose)",
        "short",
        "valid boolean",
    ),
    "short selection splits a pair": (
        _set_step(3, "short", False),
        "4 (low-lunge-left)",
        "short",
        "'Low Lunge' is short on step 2 but not on this side",
    ),
    "only one side of a pair marked short": (
        _set_step(2, "short", True),
        "5 (half-splits-left)",
        "short",
        "'Half Splits' is short on step 3 but not on this side",
    ),
    "short selection drops one of three sides": (
        _set_step(15, "short", False),
        "16 (seated-twist-other-grip)",
        "short",
        "'Seated Twist' is short on step 14 but not on this side",
    ),
    "short selection without the first step": (
        _set_step(0, "short", False),
        "1 (childs-pose)",
        "short",
        "the short class must start with its first step",
    ),
    "short selection without the last step": (
        _set_step(24, "short", False),
        "25 (final-rest)",
        "short",
        "the short class must end with its last step",
    ),
    "cue too long": (
        _set_step(2, "cues", ["Short.", "x" * 121]),
        "3 (half-splits-right)",
        "cues[2]",
        "at most 120 characters",
    ),
    "easier figure without a figure": (
        _easier_figure_without_figure,
        "1 (childs-pose)",
        "easier_figure",
        "has an easier_figure but no figure",
    ),
    "easier figure not an id": (
        _set_step(0, "easier_figure", "Side Child's Pose"),
        "1 (childs-pose)",
        "easier_figure",
        "should match pattern",
    ),
    "bad step id": (
        _set_step(0, "id", "Child's Pose"),
        "1 (Child's Pose)",
        "id",
        "should match pattern",
    ),
    "unknown step key": (
        _set_step(0, "colour", "blue"),
        "1 (childs-pose)",
        "colour",
        "Extra inputs are not permitted",
    ),
    "total far from the advertised length": (
        _double_length,
        None,
        "total_minutes",
        "more than 15% away from 60 min",
    ),
}


@pytest.mark.parametrize("case", BROKEN.keys())
def test_broken_file_names_file_step_and_field(tmp_path: Path, case: str) -> None:
    mutate, step, field, fragment = BROKEN[case]
    data = seed_data()
    mutate(data)
    path = write_class(tmp_path, data)

    with pytest.raises(SequenceError) as info:
        load_class(path)

    err = info.value
    message = str(err)
    assert (err.file, err.step, err.field) == (path.name, step, field)
    where = f"step {step}, field '{field}'" if step else f"field '{field}'"
    assert message.startswith(f"{path.name}: {where}: ")
    assert fragment in message
    assert "\n" not in message


def test_short_problems_are_reported_once_each(tmp_path: Path) -> None:
    data = seed_data()
    data["steps"][3]["short"] = False  # low-lunge-left
    data["steps"][-1]["short"] = False  # final-rest
    write_class(tmp_path, data)

    lines = check_all(tmp_path)

    assert len(lines) == 2
    assert "step 4 (low-lunge-left), field 'short'" in lines[0]
    assert "step 25 (final-rest), field 'short'" in lines[1]


def test_error_line_format_is_exact(tmp_path: Path) -> None:
    data = seed_data()
    data["steps"][2]["hold_seconds"] = 5
    path = write_class(tmp_path, data)

    with pytest.raises(SequenceError) as info:
        load_class(path)

    assert str(info.value) == (
        "back-strengthening-part-1.yaml: step 3 (half-splits-right), field 'hold_seconds': "
        "Input should be greater than or equal to 10"
    )


def test_missing_header_field_names_no_step(tmp_path: Path) -> None:
    data = seed_data()
    del data["title"]
    path = write_class(tmp_path, data)

    with pytest.raises(SequenceError) as info:
        load_class(path)

    assert (info.value.step, info.value.field) == (None, "title")
    assert str(info.value) == f"{path.name}: field 'title': Field required"


def test_step_that_is_not_a_mapping_is_located(tmp_path: Path) -> None:
    data = seed_data()
    data["steps"][2] = "half splits"
    path = write_class(tmp_path, data)

    with pytest.raises(SequenceError) as info:
        load_class(path)

    assert (info.value.step, info.value.field) == ("3", None)


def test_yaml_syntax_error_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\ntitle: Broken\nsteps:\n  - id: a\n   pose: [unclosed\n")

    with pytest.raises(SequenceError) as info:
        load_class(path)

    assert info.value.line == 5
    assert str(info.value).startswith("broken.yaml: line 5: invalid YAML: ")


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    # PyYAML would silently keep the second value; an author would never notice.
    path = tmp_path / "twice.yaml"
    path.write_text("id: twice\ntitle: One\ntitle: Two\n")

    with pytest.raises(SequenceError, match=r"^twice\.yaml: line 3: .*duplicate key 'title'"):
        load_class(path)


@pytest.mark.parametrize(
    ("text", "got"), [("- a\n- b\n", "a list"), ("", "an empty file"), ("just text\n", "a str")]
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)

    with pytest.raises(SequenceError) as info:
        load_class(path)

    assert str(info.value) == f"odd.yaml: expected a mapping at the top level, got {got}"


def test_class_id_must_match_file_name(tmp_path: Path) -> None:
    path = write_class(tmp_path, seed_data(), stem="renamed")

    with pytest.raises(SequenceError) as info:
        load_class(path)

    assert info.value.field == "id"
    assert "must equal the file name 'renamed'" in str(info.value)


# --- catalog and check_all ----------------------------------------------------------


def test_second_class_is_picked_up_without_code_change(tmp_path: Path) -> None:
    write_class(tmp_path, seed_data())
    write_class(tmp_path, small_class("a-short-breath"))

    catalog = load_catalog(tmp_path)

    assert list(catalog) == ["a-short-breath", SEED_ID]  # file-name order
    assert catalog["a-short-breath"].steps[1].id == "easy-breathing-2"
    assert check_all(tmp_path) == []


def test_catalog_stops_at_a_broken_file(tmp_path: Path) -> None:
    write_class(tmp_path, seed_data())
    broken = small_class("a-broken")
    broken["steps"][0]["hold_seconds"] = 0
    write_class(tmp_path, broken)

    with pytest.raises(SequenceError) as info:
        load_catalog(tmp_path)

    assert info.value.file == "a-broken.yaml"
    assert info.value.step == "1 (easy-breathing)"


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SequenceError, match="no class files"):
        load_catalog(tmp_path)
    assert len(check_all(tmp_path)) == 1


def test_duplicate_class_ids_across_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The id-equals-stem rule normally prevents this; the catalog must not rely on it.
    write_class(tmp_path, small_class("a-one"))
    write_class(tmp_path, small_class("b-two"))
    same = YogaClass.model_validate(small_class("a-one"))
    monkeypatch.setattr(loader_module, "load_class", lambda path: same)

    with pytest.raises(SequenceError) as info:
        load_catalog(tmp_path)

    assert (
        str(info.value) == "b-two.yaml: field 'id': class id 'a-one' is already used by a-one.yaml"
    )


def test_check_all_reports_every_broken_file(tmp_path: Path) -> None:
    write_class(tmp_path, seed_data())
    (tmp_path / "bad-yaml.yaml").write_text("id: [\n")
    missing = small_class("missing-field")
    del missing["steps"][1]["easier"]
    write_class(tmp_path, missing)
    two_problems = small_class("two-problems")
    two_problems["steps"][0]["hold_seconds"] = 5
    two_problems["steps"][1]["props"] = ["bolster"]
    write_class(tmp_path, two_problems)

    lines = check_all(tmp_path)

    assert [line.split(":")[0] for line in lines] == [
        "bad-yaml.yaml",
        "missing-field.yaml",
        "two-problems.yaml",
        "two-problems.yaml",
    ]
    assert "step 2 (easy-breathing-2), field 'easier'" in lines[1]
    assert "step 1 (easy-breathing), field 'hold_seconds'" in lines[2]
    assert "step 2 (easy-breathing-2), field 'props[1]'" in lines[3]
    assert not any(SEED_ID in line for line in lines)
