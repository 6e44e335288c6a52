"""Hostile submissions and inputs: each attack in DESIGN.md's threat model, contained."""
