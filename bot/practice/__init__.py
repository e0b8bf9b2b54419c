"""A practice: its rules (machine.py), the service that applies them (service.py), the
way into one (way_in.py) and what a process does for practices after a restart or a lost
worker (recovery.py)."""
