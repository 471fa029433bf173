"""MultiPref's five-point overall preference labels and what each one means numerically."""

from __future__ import annotations

A_CLEARLY = "A-is-clearly-better"
A_SLIGHTLY = "A-is-slightly-better"
TIE = "Tie"
B_SLIGHTLY = "B-is-slightly-better"
B_CLEARLY = "B-is-clearly-better"

OVERALL_PREFERENCES: tuple[str, ...] = (A_CLEARLY, A_SLIGHTLY, TIE, B_SLIGHTLY, B_CLEARLY)

CLEARLY = "clearly"
SLIGHTLY = "slightly"
STRENGTHS: tuple[str, ...] = (CLEARLY, SLIGHTLY)

# +1: the annotation prefers A, -1: it prefers B, 0: tie.
SIDE = {A_CLEARLY: 1, A_SLIGHTLY: 1, TIE: 0, B_SLIGHTLY: -1, B_CLEARLY: -1}
STRENGTH = {A_CLEARLY: CLEARLY, A_SLIGHTLY: SLIGHTLY, B_SLIGHTLY: SLIGHTLY, B_CLEARLY: CLEARLY}


def ordinal(label: str, slight_preference_value: float) -> float:
    """A-relative preference on [-1, 1]: +1 A clearly, +s A slightly, 0 tie, -s, -1 B clearly."""
    weight = slight_preference_value if label in (A_SLIGHTLY, B_SLIGHTLY) else 1.0
    return SIDE[label] * weight
