"""Keyboard and gamepad teleop behind a safety mux (filled by a later issue)."""
