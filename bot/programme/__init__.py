"""A programme over weeks: goal, stages, the pain-monitoring rules that move between them,
and the messages that follow a practice (the next-day check, the weekly summary)."""
