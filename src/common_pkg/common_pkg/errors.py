"""One error type for every bad input the platform can meet: located, and in Korean and English."""

from __future__ import annotations


class LocatedError(Exception):
    """An input problem a person must fix, with where it is and what is wrong, in both languages.

    `location` reads like a compiler's: ``plating_01.yaml:14:5: stations[2].marker_id``.
    """

    def __init__(self, location: str, en: str, ko: str):
        self.location = location
        self.en = en
        self.ko = ko
        super().__init__(self.bilingual())

    def __reduce__(self):  # picklable (the grader's worker sends its result back) with all three
        return (type(self), (self.location, self.en, self.ko))

    def bilingual(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        return f"{prefix}{self.en} / {self.ko}"


class ProfileError(LocatedError):
    """A robot profile under config/robots is missing a value or has a wrong one."""


class WorldError(LocatedError):
    """The world part of a scenario (floor, walls, obstacles, stations, zones) is wrong."""
