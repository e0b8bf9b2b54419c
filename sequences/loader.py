"""Load class files (``*.yaml`` in this directory) and turn every problem into one line."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from sequences.schema import YogaClass

SEQUENCES_DIR = Path(__file__).parent
FIGURES_FILE_NAME = "figures.yaml"


class SequenceError(Exception):
    """A class file that cannot be used, located as precisely as we can.

    ``step`` is the human label of the step ("4 (half-splits-right)"), ``field`` the
    field path inside it or inside the header ("hold_seconds", "cues[6]").
    """

    def __init__(
        self,
        file: str,
        message: str,
        *,
        step_index: int | None = None,
        step_id: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file = file
        self.message = " ".join(message.split())  # callers print one line per error
        self.step_index = step_index  # 1-based, as shown to authors
        self.step_id = step_id
        self.field = field
        self.line = line
        super().__init__(str(self))

    @property
    def step(self) -> str | None:
        if self.step_index is None:
            return None
        return f"{self.step_index} ({self.step_id})" if self.step_id else str(self.step_index)

    def __str__(self) -> str:
        where: list[str] = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.step is not None:
            where.append(f"step {self.step}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        head = f"{self.file}: {', '.join(where)}" if where else self.file
        return f"{head}: {self.message}"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which PyYAML would silently overwrite."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Hashable, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_class(path: Path) -> YogaClass:
    """Load and validate one class file; raise SequenceError on the first problem."""
    result = _check_file(path)
    if isinstance(result, list):
        raise result[0]
    return result


def load_catalog(directory: Path = SEQUENCES_DIR) -> dict[str, YogaClass]:
    """All classes in ``directory`` by id, ordered by file name."""
    catalog: dict[str, YogaClass] = {}
    files: dict[str, str] = {}
    for path in _class_files(directory):
        yoga_class = load_class(path)
        if yoga_class.id in catalog:
            raise _duplicate_id(path, yoga_class.id, files[yoga_class.id])
        catalog[yoga_class.id] = yoga_class
        files[yoga_class.id] = path.name
    if not catalog:
        raise SequenceError(str(directory), "no class files (*.yaml) found")
    return catalog


def check_all(directory: Path = SEQUENCES_DIR) -> list[str]:
    """Every problem in every class file, one line each; empty when all are valid."""
    lines: list[str] = []
    files: dict[str, str] = {}
    classes: list[tuple[str, YogaClass]] = []
    paths = _class_files(directory)
    for path in paths:
        yoga_class = _check_file(path)
        if isinstance(yoga_class, list):
            lines.extend(str(err) for err in yoga_class)
            continue
        if yoga_class.id in files:
            lines.append(str(_duplicate_id(path, yoga_class.id, files[yoga_class.id])))
        files.setdefault(yoga_class.id, path.name)
        classes.append((path.name, yoga_class))
    if not paths:
        lines.append(str(SequenceError(str(directory), "no class files (*.yaml) found")))
    lines.extend(_figure_problems(directory, classes))
    return lines


def _figure_problems(directory: Path, classes: list[tuple[str, YogaClass]]) -> list[str]:
    """Problems in the figures file, and steps that name a figure it does not have."""
    from sequences.figures import FIGURES_FILE, check_figures  # it imports this module

    # A folder of classes may bring its own figures; otherwise the shipped ones apply.
    figures_file = directory / FIGURES_FILE_NAME
    figures = check_figures(figures_file if figures_file.exists() else FIGURES_FILE)
    if isinstance(figures, list):
        return [str(err) for err in figures]
    lines: list[str] = []
    for name, yoga_class in classes:
        for i, step in enumerate(yoga_class.steps):
            for field, figure in (("figure", step.figure), ("easier_figure", step.easier_figure)):
                if figure is not None and figure not in figures:
                    message = f"unknown figure '{figure}': not in {FIGURES_FILE.name}"
                    err = SequenceError(
                        name, message, step_index=i + 1, step_id=step.id, field=field
                    )
                    lines.append(str(err))
    return lines


def _class_files(directory: Path) -> list[Path]:
    # Dotfiles are editor locks and backups, never classes; figures.yaml holds pictures.
    return sorted(
        p
        for p in directory.glob("*.yaml")
        if not p.name.startswith(".") and p.name != FIGURES_FILE_NAME
    )


def _duplicate_id(path: Path, class_id: str, other_file: str) -> SequenceError:
    return SequenceError(
        path.name, f"class id '{class_id}' is already used by {other_file}", field="id"
    )


def _check_file(path: Path) -> YogaClass | list[SequenceError]:
    """The valid class, or every problem found in the file (never an empty list)."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [SequenceError(name, f"cannot read file: {exc}")]
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        return [_yaml_error(name, exc)]
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        return [SequenceError(name, f"expected a mapping at the top level, got {got}")]
    try:
        yoga_class = YogaClass.model_validate(data)
    except ValidationError as exc:
        return [_validation_error(name, data, err) for err in exc.errors()]
    if yoga_class.id != path.stem:
        msg = f"class id '{yoga_class.id}' must equal the file name '{path.stem}'"
        return [SequenceError(name, msg, field="id")]
    return yoga_class


def _yaml_error(name: str, exc: yaml.YAMLError) -> SequenceError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    line = mark.line + 1 if mark is not None else None  # PyYAML counts lines from 0
    return SequenceError(name, f"invalid YAML: {problem}", line=line)


def _validation_error(name: str, data: dict[str, Any], err: ErrorDetails) -> SequenceError:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    step_index: int | None = None
    step_id: str | None = None
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        step_index = loc[1] + 1
        step_id = _raw_step_id(data, loc[1])
        loc = loc[2:]
    return SequenceError(
        name, err["msg"], step_index=step_index, step_id=step_id, field=_field_path(loc)
    )


def _raw_step_id(data: dict[str, Any], index: int) -> str | None:
    # Read the id from the raw data: the step that failed never became a Step.
    steps = data.get("steps")
    if isinstance(steps, list) and index < len(steps) and isinstance(steps[index], dict):
        step_id = steps[index].get("id")
        if isinstance(step_id, str) and step_id:
            return step_id
    return None


def _field_path(loc: tuple[str | int, ...]) -> str | None:
    """("cues", 5) -> "cues[6]": list positions 1-based, like step numbers."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part + 1}]"
        else:
            path += f".{part}" if path else part
    return path or None
