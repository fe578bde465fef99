"""The learnable action space: vocabularies seen in training and Action -> numeric targets.

Points are normalized to [0, 1) of the captured area (pixel centres:
``u = (x + 0.5) / width``) so the same checkpoint serves any frame size.
Class index 0 of the string and chord vocabularies is reserved for "unknown".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from deskmimic.models.actions import ACTION_KINDS, Action, kind_index
from deskmimic.models.net.text import CharTokenizer, find_text, is_whole_words
from deskmimic.models.net.type_program import (
    IGNORE,
    decompose,
    literal_vocabulary,
    program_targets,
)

UNKNOWN = "<unk>"


@dataclass(frozen=True)
class ActionSpace:
    """Kinds plus the typed strings and hotkey chords a checkpoint can produce.

    Attributes:
        kinds: action-kind vocabulary (logit order).
        strings: typed strings seen in training (class i + 1; 0 = unknown).
        chords: hotkey chords seen in training (class i + 1; 0 = unknown).
        scroll_max: wheel clicks are classified in [-scroll_max, scroll_max] per axis.
        history_len: how many previous action kinds the policy sees.
        whole_word_spans: every value copied from an instruction in training was whole
            words, so a copied span never starts or ends inside a word (`word_edges`).
        program_slots: typed text is a program of up to this many pieces, copies and
            literals (`deskmimic.models.net.type_program`); 0: one copied span or one
            string seen in training (checkpoints from before the program).
        literals: the program's literal vocabulary (op class ``OP_LITERAL + i``).
    """

    kinds: tuple[str, ...] = ACTION_KINDS
    strings: tuple[str, ...] = ()
    chords: tuple[tuple[str, ...], ...] = ()
    scroll_max: int = 10
    history_len: int = 4
    whole_word_spans: bool = False
    program_slots: int = 0
    literals: tuple[str, ...] = ()
    _string_index: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _chord_index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._string_index.update({s: i + 1 for i, s in enumerate(self.strings)})
        self._chord_index.update({c: i + 1 for i, c in enumerate(self.chords)})

    @property
    def num_kinds(self) -> int:
        return len(self.kinds)

    @property
    def num_strings(self) -> int:
        return len(self.strings) + 1

    @property
    def num_chords(self) -> int:
        return len(self.chords) + 1

    @property
    def num_scroll(self) -> int:
        return 2 * self.scroll_max + 1

    @property
    def history_start(self) -> int:
        """History token meaning "no previous action" (episode start)."""
        return len(self.kinds)

    @classmethod
    def build(
        cls,
        actions: Iterable[Action],
        *,
        instructions: Iterable[str] | None = None,
        scroll_max: int = 10,
        history_len: int = 4,
        keep_strings: bool = True,
        program_slots: int = 0,
    ) -> ActionSpace:
        """Vocabularies from training targets, most frequent first (ties alphabetical).

        ``keep_strings`` False leaves the typed strings out (the checkpoint's config.json
        would hold them verbatim: what a person typed while recording, a password too);
        the policy then types only what it copies from the instruction.

        ``instructions`` (one per action) lets it learn `whole_word_spans`: true when at
        least one typed value was copied from its instruction and every copied one was
        whole words. Without them it stays false (spans may cut words, as before).

        ``program_slots`` > 0 (with ``instructions``): typed text as a program over the
        instruction, its literals learnt here (`literal_vocabulary`; with ``keep_strings``
        False only the joints of texts that also copy).
        """
        strings: Counter[str] = Counter()
        chords: Counter[tuple[str, ...]] = Counter()
        copies = cuts = 0
        typed: list[tuple[str, str]] = []
        if instructions is None:
            pairs: Iterable[tuple[Action, str | None]] = ((a, None) for a in actions)
        else:
            pairs = zip(actions, instructions, strict=True)
        for a, instruction in pairs:
            if a.kind == "type" and a.text:
                strings[a.text] += 1
                if instruction is not None:
                    typed.append((instruction, a.text))
                if not instruction:
                    continue
                if program_slots:  # each copied piece of the program counts
                    spans = [p.span for p in decompose(instruction, a.text) or () if p.span]
                else:
                    span = find_text(instruction, a.text)
                    spans = [span] if span is not None else []
                copies += len(spans)
                cuts += sum(not is_whole_words(instruction, *sp) for sp in spans)
            elif a.kind == "hotkey" and a.keys:
                chords[tuple(a.keys)] += 1
        order = lambda c: sorted(c, key=lambda k: (-c[k], k))  # noqa: E731
        return cls(
            strings=tuple(order(strings)) if keep_strings else (),
            chords=tuple(order(chords)),
            scroll_max=scroll_max,
            history_len=history_len,
            whole_word_spans=copies > 0 and cuts == 0,
            program_slots=program_slots,
            literals=literal_vocabulary(typed, keep_strings) if program_slots else (),
        )

    def can_type(self, instruction: str, text: str, max_len: int) -> bool:
        """Whether this space can express typing ``text`` under ``instruction``: a program
        of copies and known literals, a copied span within ``max_len``, or a known string."""
        if self.program_slots:
            targets = program_targets(instruction, text, self.literals, self.program_slots, max_len)
            return bool((targets[:, 0] != IGNORE).any())
        span = find_text(instruction, text)
        return (span is not None and span[1] < max_len) or self.string_class(text) > 0

    def string_class(self, text: str | None) -> int:
        return self._string_index.get(text, 0)

    def chord_class(self, keys: tuple[str, ...]) -> int:
        return self._chord_index.get(tuple(keys), 0)

    def string_of(self, cls_index: int) -> str | None:
        return self.strings[cls_index - 1] if 0 < cls_index <= len(self.strings) else None

    def chord_of(self, cls_index: int) -> tuple[str, ...] | None:
        return self.chords[cls_index - 1] if 0 < cls_index <= len(self.chords) else None

    def scroll_class(self, clicks: int) -> int:
        return int(np.clip(clicks, -self.scroll_max, self.scroll_max)) + self.scroll_max

    def history_tokens(self, previous_kinds: list[str]) -> np.ndarray:
        """The last ``history_len`` kinds as ids, oldest first, left-padded with the start token.

        A kind added to the vocabulary after this space was trained (``hover``) is left
        out: in the demonstrations it learned from, that input was no step at all.
        """
        known = [k for k in previous_kinds if k in self.kinds or k not in ACTION_KINDS]
        ids = [kind_index(k, self.kinds) for k in known[-self.history_len :]]
        pad = [self.history_start] * (self.history_len - len(ids))
        return np.asarray(pad + ids, dtype=np.int64)

    def encode(
        self,
        action: Action,
        instruction: str,
        tokenizer: CharTokenizer,
        width: int,
        height: int,
        box: tuple[float, float, float, float] | None = None,
    ) -> dict[str, np.ndarray]:
        """Numeric training targets for one demonstrated action.

        Args:
            action: the demonstrated step, captured-area pixels.
            instruction: the episode's instruction (for the copy span of ``type``).
            tokenizer: the tokenizer whose positions the span refers to.
            width, height: captured-area size in pixels.
            box: the target element (x0, y0, x1, y1) in captured-area pixels, for metrics.
        """
        t = {
            "kind": np.int64(kind_index(action.kind, self.kinds)),
            "point": np.full(2, -1.0, np.float32),
            "end": np.full(2, -1.0, np.float32),
            "span": np.full(2, IGNORE, np.int64),
            "copy": np.float32(-1.0),
            "string": np.int64(IGNORE),
            "chord": np.int64(IGNORE),
            "scroll": np.full(2, IGNORE, np.int64),
            "box": np.full(4, -1.0, np.float32),
            "prog": np.full((self.program_slots, 3), IGNORE, np.int64),
        }
        if action.x is not None and action.y is not None:
            t["point"] = np.array([(action.x + 0.5) / width, (action.y + 0.5) / height], np.float32)
        if action.kind == "drag":
            t["end"] = np.array([(action.x2 + 0.5) / width, (action.y2 + 0.5) / height], np.float32)
        if action.kind == "type":
            span = tokenizer.find_span(instruction, action.text or "")
            t["copy"] = np.float32(1.0 if span else 0.0)
            if span:
                t["span"] = np.array(span, np.int64)
            t["string"] = np.int64(self.string_class(action.text))
            if self.program_slots:
                t["prog"] = program_targets(
                    instruction, action.text, self.literals, self.program_slots,
                    tokenizer.max_len,
                )
        if action.kind == "hotkey":
            t["chord"] = np.int64(self.chord_class(action.keys))
        if action.kind == "scroll":
            t["scroll"] = np.array(
                [self.scroll_class(action.dy), self.scroll_class(action.dx)], np.int64
            )
        if box is not None:
            x0, y0, x1, y1 = box
            t["box"] = np.array([x0 / width, y0 / height, x1 / width, y1 / height], np.float32)
        return t

    def to_config(self) -> dict:
        cfg = {
            "kinds": list(self.kinds),
            "strings": list(self.strings),
            "chords": [list(c) for c in self.chords],
            "scroll_max": self.scroll_max,
            "history_len": self.history_len,
        }
        # Only when set: the checkpoint's identity hash covers this dict, and runs saved
        # before the field existed must still load.
        if self.whole_word_spans:
            cfg["whole_word_spans"] = True
        if self.program_slots:
            cfg["program_slots"] = self.program_slots
            cfg["literals"] = list(self.literals)
        return cfg

    @classmethod
    def from_config(cls, cfg: dict) -> ActionSpace:
        return cls(
            kinds=tuple(cfg["kinds"]),
            strings=tuple(cfg["strings"]),
            chords=tuple(tuple(c) for c in cfg["chords"]),
            scroll_max=int(cfg["scroll_max"]),
            history_len=int(cfg["history_len"]),
            # Runs saved before the field existed copied any span.
            whole_word_spans=bool(cfg.get("whole_word_spans", False)),
            # Runs saved before the program typed one span or one string.
            program_slots=int(cfg.get("program_slots", 0)),
            literals=tuple(cfg.get("literals", ())),
        )
