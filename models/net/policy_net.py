"""The behavior-cloning network: a FiLM-conditioned fully-convolutional CNN with heatmap heads.

Input: the downscaled captured area (uint8 RGB, cursor drawn in; with ``text_match`` a 4th
channel marks where the instruction's words are written), the instruction's
character tokens and the ids of the previous action kinds. The instruction and history
form a conditioning vector that modulates every conv stage (FiLM), so *where* the
heatmap peaks depends on what the instruction names.

Outputs (a dict of tensors):
    kind (B, K)             action-kind logits
    heat (B, 2, h, w)       point / drag-end heatmap logits, one cell = ``heatmap_stride`` input px
    offset (B, 4, h, w)     sub-cell position of the point / end in [0, 1) (x, y, x2, y2)
    span_start, span_end (B, L)  pointer logits over instruction characters (-inf on padding)
    copy (B,)               logit: type a copied span (vs. a string seen in training)
    string (B, S), chord (B, C)  classes over typed strings / hotkey chords seen in training
    With ``type_program`` the text heads are instead (`ProgramHead`): prog_op (B, K, ops),
    prog_start, prog_end (B, K, L): typed text as up to K copied spans and literals.
    scroll (B, 2, N)        wheel clicks (dy, dx) as classes -scroll_max..scroll_max
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from deskmimic.models.net.blocks import DecoderBlock, Stage
from deskmimic.models.net.text import TextEncoder
from deskmimic.models.net.type_program import ProgramHead
from deskmimic.models.net.word_select import (
    PHRASE_SMEAR,
    SHOWN_MIN,
    TermGlance,
    WordSelect,
    part_of_longer,
    row_band,
    word_membership,
)
from deskmimic.models.perception.terms import MAX_WORDS


@dataclass(frozen=True)
class NetConfig:
    """Architecture hyper-parameters; stored in every checkpoint's config.json."""

    input_height: int = 160
    input_width: int = 256
    channels: tuple[int, ...] = (32, 48, 64, 96)  # encoder stages at strides 4, 8, 16, 32
    decoder_channels: tuple[int, ...] = (32, 32, 48)  # decoder at strides 4, 8, 16
    text_dim: int = 64
    history_dim: int = 32
    head_dim: int = 128
    vocab_size: int = 97
    max_text_len: int = 96
    num_kinds: int = 9
    num_strings: int = 1
    num_chords: int = 1
    num_scroll: int = 21
    history_len: int = 4
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.25, 0.25, 0.25)
    # A 4th input channel: where the instruction's words are written (`text_match`).
    text_match: bool = False
    # With text_match: one map per instruction word comes in, and the net picks the word
    # each pointer (point, drag end) needs (`WordSelect`).
    word_select: bool = False
    # With word_select: each word's key also says what the screen looks like where the
    # word is written (`TermGlance`): ticked or not, greyed out, shown at all; and the
    # keys see each other (`WordSelect.mix`).
    term_glance: bool = False
    # With term_glance: the pointers pick only among words that show on the screen
    # (`SHOWN_MIN`), or "none".
    shown_only: bool = False
    # With word_select: the picked words' maps also carried to their right along the line
    # (`row_band`), so a field or combo box far right of its label gets the label's row at
    # full heatmap resolution.
    row_band: bool = False
    # Typed text as a program of up to this many pieces, copied spans and literals
    # (`ProgramHead`); 0: one copied span or one string seen in training.
    type_program: int = 0
    num_literals: int = 0  # the program's literal vocabulary

    def __post_init__(self) -> None:
        if self.input_height % 32 or self.input_width % 32:
            raise ValueError(
                f"input size {self.input_height}x{self.input_width}: both must be multiples of 32"
            )
        if self.word_select and not self.text_match:
            raise ValueError("word_select needs text_match (it selects among the match maps)")
        if self.term_glance and not self.word_select:
            raise ValueError(
                "term_glance needs word_select (it describes the words it picks among)"
            )
        if self.shown_only and not self.term_glance:
            raise ValueError("shown_only needs term_glance (it reads how strongly words show)")
        if self.row_band and not self.word_select:
            raise ValueError("row_band needs word_select (it carries the picked words' maps)")
        if self.type_program < 0 or self.num_literals < 0:
            raise ValueError(
                f"type_program {self.type_program}, num_literals {self.num_literals}: "
                "must not be negative"
            )
        if len(self.channels) != 4 or len(self.decoder_channels) != 3:
            raise ValueError("channels needs 4 entries (strides 4..32), decoder_channels 3 (4..16)")

    @property
    def in_channels(self) -> int:
        """Channels of the images the net takes: RGB, then the match map(s)."""
        if self.word_select:
            return 3 + MAX_WORDS
        return 4 if self.text_match else 3

    @property
    def stem_channels(self) -> int:
        """Channels the first conv sees: RGB + all words' map + the point's and the end's words,
        plain and smeared along the line (`PHRASE_SMEAR`), and with ``row_band`` carried to
        their right."""
        if self.word_select:
            return 10 if self.row_band else 8
        return self.in_channels

    @property
    def heatmap_stride(self) -> int:
        """Input pixels per heatmap cell (sub-cell position comes from the offset head)."""
        return 4

    @property
    def heatmap_size(self) -> tuple[int, int]:
        return self.input_height // self.heatmap_stride, self.input_width // self.heatmap_stride

    def to_dict(self) -> dict:
        d = asdict(self)
        # Part of checkpoint format 1 (what 0.1.0 writes), not a shim: a flag that is off is
        # left out, and the identity hash covers this dict, so writing it would refuse every
        # 0.1.0 checkpoint (tests/models/test_checkpoint_format.py pins the hash).
        for name in ("text_match", "word_select", "term_glance", "shown_only", "row_band",
                     "type_program", "num_literals"):
            if not d[name]:
                del d[name]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: dict) -> NetConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown network settings {unknown}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class PolicyNet(nn.Module):
    """See the module docstring for inputs and outputs."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.text = TextEncoder(cfg.vocab_size, cfg.text_dim)
        self.history = nn.Embedding(cfg.num_kinds + 1, 8)
        self.history_proj = nn.Linear(8 * cfg.history_len, cfg.history_dim)
        cond = cfg.text_dim + cfg.history_dim
        ch, dec = cfg.channels, cfg.decoder_channels
        # The match channel (0..255 = no match..clean match) enters at mean 0, std 0.5.
        extra = cfg.stem_channels - 3
        norm = (tuple(cfg.mean) + (0.0,) * extra, tuple(cfg.std) + (0.5,) * extra)
        self.stages = nn.ModuleList(
            Stage(cfg.stem_channels if i == 0 else ch[i - 1], ch[i], cond, norm if i == 0 else None)
            for i in range(4)
        )
        self.select = (
            WordSelect(cfg.text_dim, cond, mix=cfg.term_glance) if cfg.word_select else None
        )
        self.glance = TermGlance(cfg.text_dim) if cfg.term_glance else None
        # With word spans at hand, the copy pointer also gets each character's word number:
        # "the 2nd value" is then plain to see (both values follow "to '").
        self.span_word = nn.Embedding(MAX_WORDS + 1, 2 * cfg.text_dim) if cfg.word_select else None
        # Top-down decoder from stride 32 to the stride-4 heatmap; level i = stride 4 * 2**i.
        self.decoder = nn.ModuleList(
            DecoderBlock(ch[3] if i == 2 else dec[i + 1], ch[i], dec[i], cond) for i in range(3)
        )
        self.point_head = nn.Conv2d(dec[0], 6, 1)  # 2 heat + 4 offset channels
        # With word selection the heads also see how much each pointer picked "none":
        # nothing left to point at is what "done" looks like in a sequence of clicks.
        # With the glance, also how strongly the picked words show, and each term on its
        # own (a pair's words only as the pair): a list entry's full name ("Nadia Abbott")
        # shown or not decides scroll vs click, while the point's pick may be a word of a
        # similar entry.
        g = 2 * ch[3] + cond + (2 if cfg.word_select else 0)
        g += 2 + MAX_WORDS if cfg.term_glance else 0
        self.trunk = nn.Sequential(
            nn.Linear(g, cfg.head_dim), nn.ReLU(), nn.Linear(cfg.head_dim, cfg.head_dim), nn.ReLU()
        )
        self.kind_head = nn.Linear(cfg.head_dim, cfg.num_kinds)
        # Created in this order so that a seed initialises the one-span net as before.
        one_span = not cfg.type_program
        if one_span:
            self.string_head = nn.Linear(cfg.head_dim, cfg.num_strings)
        self.chord_head = nn.Linear(cfg.head_dim, cfg.num_chords)
        self.scroll_head = nn.Linear(cfg.head_dim, 2 * cfg.num_scroll)
        self.program = None
        if one_span:
            self.copy_head = nn.Linear(cfg.head_dim, 1)
            self.span_query = nn.Linear(cfg.head_dim, 2 * cfg.text_dim)
            self.span_keys = nn.Linear(cfg.text_dim, 2 * cfg.text_dim)
        else:
            self.program = ProgramHead(
                cfg.head_dim, cfg.text_dim, cfg.type_program, cfg.num_literals
            )

    def encode_text(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """tokens (B, L) -> (token features, pooled vector, mask); cacheable per instruction."""
        return self.text(tokens)

    def forward(
        self,
        images: torch.Tensor,
        tokens: torch.Tensor,
        history: torch.Tensor,
        text: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
        words: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """images uint8 (B, H, W, C) (C = ``cfg.in_channels``); tokens int64 (B, L); history int64 (B, history_len).

        ``text`` is `encode_text(tokens)` when the caller cached it (same instruction).
        ``words`` (B, MAX_WORDS, 2): the content words' character spans
        (`terms.word_span_array`); needed with ``word_select``, which adds
        ``select`` (B, 2, MAX_WORDS + 1) logits (with ``shown_only``, of the words that show)
        and ``word_maps`` (B, MAX_WORDS, H, W) to the outputs.
        """
        cfg = self.cfg
        tok_feats, text_vec, tok_mask = text if text is not None else self.text(tokens)
        cond = self._condition(text_vec, history)

        x = images.permute(0, 3, 1, 2).float()  # normalized inside the stem
        extra: dict[str, torch.Tensor] = {}
        summary = [cond]
        inside = None
        if self.select is not None:
            if words is None:
                raise ValueError("word_select: pass words= (the instruction's word spans)")
            inside = word_membership(words, tok_feats.shape[1])
            x, extra, picked = self._select_words(x, tok_feats, inside, words, cond)
            summary += picked
        feats = self._encode(x, cond)
        point = self._decode(feats, cond)

        top = feats[3]
        g = self.trunk(torch.cat([top.mean((2, 3)), top.amax((2, 3)), *summary], dim=1))
        return {
            "kind": self.kind_head(g),
            "heat": point[:, :2],
            "offset": torch.sigmoid(point[:, 2:]),
            **self._text_heads(g, tok_feats, tok_mask, inside),
            "chord": self.chord_head(g),
            "scroll": self.scroll_head(g).view(-1, 2, cfg.num_scroll),
            **extra,
        }

    def _condition(self, text_vec: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        """The conditioning vector every FiLM reads: the instruction's pooled vector and the
        action history's."""
        hist = F.relu(self.history_proj(self.history(history).flatten(1)))
        return torch.cat([text_vec, hist], dim=1)

    def _select_words(
        self,
        x: torch.Tensor,
        tok_feats: torch.Tensor,
        inside: torch.Tensor,
        words: torch.Tensor,
        cond: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], list[torch.Tensor]]:
        """With ``word_select``: x (B, 3 + MAX_WORDS, H, W) -> the stem's input (`_stem_input`),
        the ``select`` and ``word_maps`` outputs, and what the heads' summary adds (how much
        each pointer picked "none"; with the glance, how strongly the picks and each term show)."""
        maps = x[:, 3:]
        glance = strength = None
        if self.glance is not None:
            glance, strength = self.glance(x[:, :3], maps)
        assert self.select is not None
        logits = self.select(tok_feats, inside, cond, glance)
        probs = point_probs = torch.softmax(logits, -1)
        if self.cfg.shown_only and strength is not None:
            # Where to point is among the words on the screen: the heatmap's pick and
            # its loss leave out words that do not show. Unmasked, the workflow's
            # option step learnt to like its group's label by name (the label was the
            # pick at every combo box, the value not yet shown, so the loss pushed the
            # value down there), and on held-out values clicked beside visible radio
            # buttons. The heads' summary keeps the unmasked pick: scroll_find's heads
            # read "the full name is picked and does not show" as scroll.
            hidden = torch.cat(
                [strength < SHOWN_MIN, torch.zeros_like(strength[:, :1], dtype=torch.bool)], 1
            )
            logits = logits.masked_fill(hidden[:, None, :], torch.finfo(logits.dtype).min)
            point_probs = torch.softmax(logits, -1)
        x = self._stem_input(x[:, :3], maps, point_probs)
        summary = [probs[..., -1]]
        if strength is not None:
            # The words of a pair only count together: "Abbott" shown at "Kai Abbott"
            # says nothing of "Nadia Abbott", yet in 20 demonstrations the one showed
            # whenever the other did, and the net learnt to click on it.
            alone = strength.masked_fill(part_of_longer(words), 0.0)
            summary += [torch.einsum("bkw,bw->bk", probs[..., :-1], strength), alone]
        return x, {"select": logits, "word_maps": maps}, summary

    def _stem_input(
        self, rgb: torch.Tensor, maps: torch.Tensor, point_probs: torch.Tensor
    ) -> torch.Tensor:
        """RGB, all words' map, and the point's and the end's picked words (plain, smeared
        along the line, and with ``row_band`` carried to their right): ``cfg.stem_channels``."""
        chosen = torch.einsum("bkw,bwhx->bkhx", point_probs[..., :-1], maps)
        # Smeared along the line, the words of a multi-word target ("Order Member")
        # add up where they stand together and outshine entries sharing one word.
        smear = F.avg_pool2d(chosen, (1, PHRASE_SMEAR), stride=1, padding=(0, PHRASE_SMEAR // 2))
        parts = [rgb, maps.amax(1, keepdim=True), chosen, 2.0 * smear]
        if self.cfg.row_band:
            parts.append(row_band(chosen))
        return torch.cat(parts, 1)

    def _encode(self, x: torch.Tensor, cond: torch.Tensor) -> list[torch.Tensor]:
        """The encoder's feature maps at strides 4, 8, 16, 32."""
        feats = []
        for stage in self.stages:
            x = stage(x, cond)
            feats.append(x)
        return feats

    def _decode(self, feats: list[torch.Tensor], cond: torch.Tensor) -> torch.Tensor:
        """Top-down from stride 32 to the stride-4 point map: 2 heat + 4 offset channels."""
        d = feats[3]
        for i in (2, 1, 0):
            d = self.decoder[i](d, feats[i], cond)
        return self.point_head(d)

    def _text_heads(
        self,
        g: torch.Tensor,
        tok_feats: torch.Tensor,
        tok_mask: torch.Tensor,
        inside: torch.Tensor | None,
    ) -> dict[str, torch.Tensor]:
        """What to type: the program's slots, or one span / string (`_span_logits`)."""
        if self.program is not None:
            return self.program(g, tok_feats, tok_mask, self._word_keys(inside))
        span_start, span_end = self._span_logits(g, tok_feats, tok_mask, inside)
        return {
            "span_start": span_start,
            "span_end": span_end,
            "copy": self.copy_head(g).squeeze(1),
            "string": self.string_head(g),
        }

    def _word_keys(self, inside: torch.Tensor | None) -> torch.Tensor | None:
        """(B, L, 2 * text_dim): each token's word number as a key term, with word spans at
        hand; MAX_WORDS for a stop-word or space."""
        if self.span_word is None or inside is None:
            return None
        with_none = torch.cat([inside, torch.ones_like(inside[:, :1])], 1)
        return self.span_word(with_none.to(torch.uint8).argmax(1))

    def _span_logits(
        self,
        g: torch.Tensor,
        tok_feats: torch.Tensor,
        tok_mask: torch.Tensor,
        inside: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The copy pointer's start and end logits over the instruction's characters (B, L),
        -inf (the dtype's min) on padding."""
        q_start, q_end = self.span_query(g).chunk(2, dim=1)
        keys = self.span_keys(tok_feats)
        word_keys = self._word_keys(inside)
        if word_keys is not None:
            keys = keys + word_keys
        k_start, k_end = keys.chunk(2, dim=2)
        scale = self.cfg.text_dim**-0.5
        neg = torch.finfo(tok_feats.dtype).min
        span_start = (torch.einsum("bld,bd->bl", k_start, q_start) * scale).masked_fill(
            ~tok_mask, neg
        )
        span_end = (torch.einsum("bld,bd->bl", k_end, q_end) * scale).masked_fill(~tok_mask, neg)
        return span_start, span_end
