"""How the practice tasks judge an episode, whatever toolkit draws them.

The Qt windows (`click`, `forms`) and the Tk ones (`tk_windows`) share these rules, so a
task's verdict and its wording are one thing: the learning bench groups outcomes by the
message with the names left out, and a Tk run must land in the same groups as a Qt one.
No toolkit is imported here (the Tk windows run in a process without Qt).
"""

from __future__ import annotations

from collections.abc import Mapping


def join_words(words: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def click_verdict(label: str, target: str) -> tuple[bool, str]:
    """Clicking button ``label`` when ``target`` was asked for: (success, reason)."""
    if label == target:
        return True, f"clicked {label}"
    return False, f"clicked {label} instead of {target}"


def submit_verdict(values: Mapping[str, str], target: str, text: str) -> tuple[bool, str]:
    """Submitting a form whose fields hold ``values`` (label -> text) when ``text`` was to
    be typed into ``target`` and nothing anywhere else: (success, reason)."""
    got = values[target]
    others = [label for label, value in values.items() if label != target and value]
    if others:
        return False, f"submitted text in {join_words(others)} as well"
    if got != text:
        return False, f"submitted {got!r} in {target}, expected {text!r}"
    return True, f"submitted {got!r} in {target}"


def form_targets(values: Mapping[str, str], target: str, text: str) -> list[str]:
    """What the expert acts on next: the named field until it holds the text, then Submit."""
    return ["button:Submit"] if values[target] == text else [f"field:{target}"]
