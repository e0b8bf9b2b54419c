"""Class content as data: one YAML file per class, validated by pydantic models."""

from sequences.figures import FIGURES_FILE, Figure, FigureError, load_figures
from sequences.loader import SEQUENCES_DIR, SequenceError, check_all, load_catalog, load_class
from sequences.schema import Prop, Step, YogaClass

__all__ = [
    "FIGURES_FILE",
    "SEQUENCES_DIR",
    "Figure",
    "FigureError",
    "Prop",
    "SequenceError",
    "Step",
    "YogaClass",
    "check_all",
    "load_catalog",
    "load_class",
    "load_figures",
]
