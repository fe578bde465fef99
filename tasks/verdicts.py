"""How the practice tasks judge an episode, whatever toolkit draws them.

The Qt windows (`click`, `forms`, `lists`) and the Tk ones (`tk_windows`, `tk_lists`)
share these rules, so a task's verdict and its wording are one thing: the learning bench
groups outcomes by the message with the names left out, and a Tk run must land in the
same groups as a Qt one. `SequenceRules` and `TickRules` hold a whole kind's rules (its
verdicts, what comes next, its state fields), mixed into the window of either toolkit.
No toolkit is imported here (the Tk windows run in a process without Qt).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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


def sequence_verdict(label: str, sequence: list[str], progress: int) -> tuple[bool, str] | None:
    """Clicking button ``label`` when the first ``progress`` of ``sequence`` are clicked:
    (success, reason) when that ends the task, ``None`` while more are to click."""
    expected = sequence[progress]
    if label != expected:
        return False, f"clicked {label} when {expected} was next"
    if progress + 1 == len(sequence):
        return True, "clicked " + ", ".join(sequence) + " in order"
    return None


def tick_verdict(label: str, targets: list[str]) -> str | None:
    """Ticking box ``label``: the reason it fails the task at once, or ``None``."""
    return None if label in targets else f"ticked {label}, which was not asked for"


def ticks_submit_verdict(checked: list[str], targets: list[str]) -> tuple[bool, str]:
    """Submitting with boxes ``checked`` ticked when ``targets`` were asked for."""
    missing = [t for t in targets if t not in checked]
    if missing:
        return False, f"submitted without {join_words(missing)} ticked"
    return True, f"submitted {join_words(checked)}"


def pick_verdict(entry: str, target: str) -> tuple[bool, str]:
    """Picking ``entry`` from a list or a drop-down when ``target`` was asked for."""
    if entry == target:
        return True, f"picked {entry}"
    return False, f"picked {entry} instead of {target}"



class SequenceRules:
    """Click 2-4 buttons in order, for a task window of any toolkit (mixed in before its
    base class): it has ``sequence`` and ``progress``, its ``succeed`` and ``fail``, and
    `mark_clicked` shows a clicked button done."""

    sequence: list[str]
    progress: int

    def mark_clicked(self, label: str) -> None:
        raise NotImplementedError

    def clicked(self, label: str) -> None:
        """Button ``label`` was clicked: go on, or end the task."""
        verdict = sequence_verdict(label, self.sequence, self.progress)
        if verdict is not None and not verdict[0]:
            self.fail(verdict[1])  # type: ignore[attr-defined]
            return
        self.mark_clicked(label)
        self.progress += 1
        if verdict is not None:
            self.succeed(verdict[1])  # type: ignore[attr-defined]

    def next_targets(self) -> list[str]:
        done = self.progress >= len(self.sequence)
        return [] if done else [f"button:{self.sequence[self.progress]}"]

    def extra_state(self) -> dict[str, Any]:
        return {"sequence": list(self.sequence), "progress": self.progress}


class TickRules:
    """Tick exactly the named boxes, then Submit, for a task window of any toolkit (mixed
    in before its base class): it has ``targets``, its ``succeed`` and ``fail``, and
    `checked` says which boxes are ticked."""

    targets: list[str]

    def checked(self) -> list[str]:
        raise NotImplementedError

    def toggled(self, label: str, on: bool) -> None:
        """Box ``label`` was ticked (``on``) or cleared: a wrong tick ends the task."""
        wrong = tick_verdict(label, self.targets) if on else None
        if wrong:
            self.fail(wrong)  # type: ignore[attr-defined]

    def submitted(self) -> None:
        ok, reason = ticks_submit_verdict(self.checked(), self.targets)
        (self.succeed if ok else self.fail)(reason)  # type: ignore[attr-defined]

    def next_targets(self) -> list[str]:
        checked = self.checked()
        return [f"checkbox:{t}" for t in self.targets if t not in checked] or ["button:Submit"]

    def extra_state(self) -> dict[str, Any]:
        return {"targets": list(self.targets), "checked": self.checked()}
