"""Synthetic typing demonstrations: one ``type`` step per episode, its text drawn from the
instruction by a template (a value, a long sentence, a path in two parts, a greeting).

For the typed-text program (`deskmimic.models.net.type_program`): its unit tests and
bench/typing_bench.py train on some values and check others never seen. The screen is
a plain frame: what to type is read from the instruction alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from deskmimic.models.actions import Action
from deskmimic.models.data.samples import Sample

_SYLLABLES = ("ka", "mi", "ra", "to", "li", "sa", "no", "ve", "du", "pe", "zo", "an", "qu",
              "ix", "bo", "el")
_ACCENTED = ("é", "ß", "ü", "ñ", "中文", "ø")
SCREEN = (1280, 800)


def _word(rng: random.Random, lo: int = 1, hi: int = 3, cap: bool = False) -> str:
    w = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(lo, hi)))
    return w.capitalize() if cap else w


def _name(rng: random.Random) -> str:
    name = _word(rng, 2, 3, cap=True)
    if rng.random() < 0.3:  # characters outside the tokenizer: copied all the same
        i = rng.randrange(1, len(name))
        name = name[:i] + rng.choice(_ACCENTED) + name[i:]
    return name


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    """Words and commas, ``lo``..``hi`` characters, no quote marks, ending in a word."""
    target = rng.randint(lo, hi)
    words = [_word(rng, cap=True)]
    while len(" ".join(words)) < target:
        words.append(_word(rng) + ("," if rng.random() < 0.1 else ""))
    text = " ".join(words)[:target].rstrip(" ,")
    return text if len(text) >= lo else text + "x" * (lo - len(text))


def _path(rng: random.Random, lo: int, hi: int) -> str:
    parts = ["/home", _word(rng)]
    while len("/".join(parts)) < rng.randint(lo, hi) - 8:
        parts.append(_word(rng) + rng.choice(("", "_", "-")) + str(rng.randrange(100)))
    return "/".join(parts)[:hi]


def _code(rng: random.Random) -> str:
    chars = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(rng.choice(chars) for _ in range(4)) + "-" + str(rng.randrange(10, 99))


# name -> (group, draw): group is the length bucket or "compose"; draw gives
# (instruction, text).
Template = tuple[str, Callable[[random.Random], tuple[str, str]]]


def _compose_path(rng: random.Random) -> tuple[str, str]:
    folder, file = _path(rng, 14, 40), f"{_word(rng, 2, 3)}_{rng.randrange(100)}.txt"
    return f"Save the file as {file} in {folder}", f"{folder}/{file}"


def _compose_mail(rng: random.Random) -> tuple[str, str]:
    user, domain = _word(rng, 2, 3), f"{_word(rng, 2, 3)}.{rng.choice(('org', 'com', 'net'))}"
    return f"Write to the user {user} at the domain {domain}", f"{user}@{domain}"


TEMPLATES: dict[str, Template] = {
    "name": ("short", lambda r: (lambda n: (f"Type {n} into the name field", n))(_name(r))),
    "code": ("short", lambda r: (lambda c: (f"Enter the code {c} and press OK", c))(_code(r))),
    "path": ("medium", lambda r: (lambda p: (f"Open the file {p} in the editor", p))(
        _path(r, 30, 78))),
    "title": ("medium", lambda r: (lambda s: (f"Set the title to '{s}' and close", s))(
        _sentence(r, 30, 80))),
    "note": ("long", lambda r: (lambda s: (f"Write the note '{s}' and save it", s))(
        _sentence(r, 100, 200))),
    "body": ("long", lambda r: (lambda s: (f"Paste {s}; then press Send", s))(
        _sentence(r, 100, 200))),
    "save_as": ("compose", _compose_path),
    "mail": ("compose", _compose_mail),
    "greet": ("compose", lambda r: (lambda n: (f"Greet {n} in the chat", f"Hello {n}, welcome!"))(
        _name(r))),
}


def typing_samples(
    per_template: int,
    *,
    seed: int = 0,
    templates: tuple[str, ...] | None = None,
    size: tuple[int, int] = (64, 64),
) -> list[Sample]:
    """``per_template`` one-step episodes of each template (all of ``TEMPLATES`` by
    default), frames of ``size`` (height, width); episode ids ``typing-<seed>-<name>-<i>``."""
    names = templates or tuple(TEMPLATES)
    unknown = sorted(set(names) - set(TEMPLATES))
    if unknown:
        raise ValueError(f"unknown typing templates {unknown}: pick from {sorted(TEMPLATES)}")
    rng = random.Random(seed)
    frame = np.full((*size, 3), 236, np.uint8)
    out = []
    for name in names:
        for i in range(per_template):
            instruction, text = TEMPLATES[name][1](rng)
            out.append(Sample(frame, Action("type", text=text), instruction, (), *SCREEN,
                              None, f"typing-{seed}-{name}-{i:04d}"))
    return out
