"""Class content as data: one YAML file per class, validated by pydantic models."""

from sequences.loader import SEQUENCES_DIR, SequenceError, check_all, load_catalog, load_class
from sequences.schema import Prop, Step, YogaClass

__all__ = [
    "SEQUENCES_DIR",
    "Prop",
    "SequenceError",
    "Step",
    "YogaClass",
    "check_all",
    "load_catalog",
    "load_class",
]
