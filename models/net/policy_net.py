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
    scroll (B, 2, N)        wheel clicks (dy, dx) as classes -scroll_max..scroll_max
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from deskmimic.models.net.text import TextEncoder
from deskmimic.models.perception.text_match import MAX_WORDS


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
        # Checkpoints from before a setting existed hash their config without it.
        for name in ("text_match", "word_select", "term_glance", "shown_only", "row_band"):
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


def _gn(c: int) -> nn.GroupNorm:
    # GroupNorm, not BatchNorm: identical in train and eval, and batch-1 inference
    # and tiny datasets do not depend on running statistics.
    return nn.GroupNorm(min(8, c // 4) or 1, c)


class FiLM(nn.Module):
    """Per-channel scale and shift from the conditioning vector; starts as the identity."""

    def __init__(self, cond_dim: int, channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.lin.weight)
        nn.init.zeros_(self.lin.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.lin(cond)[:, :, None, None].chunk(2, dim=1)
        return x * (1.0 + gamma) + beta


class SepConv(nn.Module):
    """Depthwise 3x3 + pointwise 1x1 + GN: a 3x3 receptive field at ~1/8 the cost of a full conv."""

    def __init__(self, c: int, cout: int | None = None) -> None:
        super().__init__()
        cout = cout or c
        self.dw = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
        self.pw = nn.Conv2d(c, cout, 1, bias=False)
        self.norm = _gn(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.pw(self.dw(x)))


class Stage(nn.Module):
    """Downsample (strided full conv, or the 4x4 patch stem) + GN + FiLM + ReLU + residual SepConv."""

    def __init__(
        self,
        cin: int,
        cout: int,
        cond_dim: int,
        stem_norm: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
    ) -> None:
        super().__init__()
        if stem_norm is not None:
            # 4x4 patches at stride 4: sees every pixel, cheap at full resolution. It takes
            # raw 0..255 pixels and folds the (x/255 - mean)/std normalization into its weights
            # (exact: the stem has no padding), saving two full-image passes per call.
            self.down = nn.Conv2d(cin, cout, 4, stride=4, bias=False)
            mean, std = (torch.tensor(v).view(1, cin, 1, 1) for v in stem_norm)
            self.register_buffer("in_scale", 1.0 / (255.0 * std), persistent=False)
            self.register_buffer("in_shift", mean / std, persistent=False)
        else:
            self.down = nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False)
        self.stem = stem_norm is not None
        self.norm = _gn(cout)
        self.film = FiLM(cond_dim, cout)
        self.conv = SepConv(cout)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        if self.stem:
            w = self.down.weight * self.in_scale
            h = F.conv2d(x, w, -(self.down.weight * self.in_shift).sum((1, 2, 3)), stride=4)
        else:
            h = self.down(x)
        h = F.relu(self.film(self.norm(h), cond))
        return F.relu(h + self.conv(h))


class DecoderBlock(nn.Module):
    """Upsample the coarser map, add the lateral skip, SepConv + FiLM + ReLU."""

    def __init__(self, c_coarse: int, c_skip: int, cout: int, cond_dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(c_coarse, cout, 1)
        self.lateral = nn.Conv2d(c_skip, cout, 1)
        self.conv = SepConv(cout)
        self.film = FiLM(cond_dim, cout)

    def forward(self, coarse: torch.Tensor, skip: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        # Project before upsampling: the 1x1 conv then runs on 4x fewer pixels.
        h = F.interpolate(self.proj(coarse), scale_factor=2.0, mode="nearest") + self.lateral(skip)
        return F.relu(self.film(h + self.conv(F.relu(h)), cond))


# Width in input pixels of the horizontal smear of the selected words' map: about two
# words' spacing at the usual ~0.3 downscale of a task window.
PHRASE_SMEAR = 15


def row_band(maps: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) maps -> each pixel's strongest value at or to its left on its row.

    A field or combo box sits right of its label, up to ~300 px (70 input px at the usual
    downscale) away. Only the coarse stages (stride 16-32) saw that far, so the point's
    row came from them: on held-out dialogs the click for a field named by its label
    landed 15-20 px low, between two fields (a 28 px field is 2 heatmap cells tall). The
    band gives every cell right of the label the label's row at full resolution.
    """
    return torch.cummax(maps, dim=3).values


def word_membership(spans: torch.Tensor, length: int) -> torch.Tensor:
    """(B, W, 2) character spans -> (B, W, length) bool: token l lies in word w."""
    pos = torch.arange(length, device=spans.device)
    return (pos >= spans[..., :1]) & (pos < spans[..., 1:])


def term_parts(spans: torch.Tensor) -> torch.Tensor:
    """(B, W, 2) character spans (-1: absent) -> (B, W, W) bool: term i lies inside the
    longer term j ("Abbott" inside the pair "Nadia Abbott")."""
    start, end = spans[..., 0], spans[..., 1]
    present = start >= 0
    inside = (start[:, None, :] <= start[:, :, None]) & (end[:, :, None] <= end[:, None, :])
    longer = (end - start)[:, None, :] > (end - start)[:, :, None]
    return inside & longer & present[:, None, :] & present[:, :, None]


def part_of_longer(spans: torch.Tensor) -> torch.Tensor:
    """(B, W, 2) character spans -> (B, W) bool: term w lies inside a longer term."""
    return term_parts(spans).any(-1)


GLANCE_CHANNELS = 32

# A word whose strongest match reads below this (0..1) does not show: with
# `NetConfig.shown_only` no pointer picks it. `losses.select_loss` labels only words at
# 0.5 and above, so no labelled pick is ever masked.
SHOWN_MIN = 0.25


class TermGlance(nn.Module):
    """What the screen looks like where each instruction word is written, one vector per word.

    A small conv stack of its own (receptive field 28 input px: a label and the box or tick
    beside it) pooled under each word's match map, plus how strongly the word shows at all.
    It lets `WordSelect` tell "Blue" ticked from "Blue" still to do, so "the first word
    not yet done" is a plain dot product: a large bonus for not-done minus a little per
    position (click_sequence, checkboxes, a dialog's option group). The position
    embeddings alone, with the action history, could only count clicks.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        c = GLANCE_CHANNELS
        self.conv = nn.Sequential(
            nn.Conv2d(3, 16, 4, stride=4),
            nn.ReLU(),
            nn.Conv2d(16, c, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c, c, 3, padding=2, dilation=2),
            nn.ReLU(),
        )
        self.proj = nn.Linear(c + 1, dim)
        nn.init.zeros_(self.proj.weight)  # starts as "no glance": the keys as before
        nn.init.zeros_(self.proj.bias)

    def forward(self, rgb: torch.Tensor, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """rgb (B, 3, H, W) and maps (B, MAX_WORDS, H, W), both 0..255 -> per-word vectors
        (B, MAX_WORDS, dim) and how strongly each word shows (B, MAX_WORDS) in [0, 1]."""
        f = self.conv(rgb * (1.0 / 64.0) - 2.0)  # 0..255 -> about mean 0, std 1
        m = F.avg_pool2d(maps, 4) * (1.0 / 255.0)
        # From the maps themselves: pooled, a match blob's peak depended on where it fell
        # in the 4x4 grid (a clean match read 0.5-1).
        # (via a 4x4 max pool: a plain amax over the channels-last maps took ~1.6 ms)
        strength = F.max_pool2d(maps, 4, ceil_mode=True).amax((2, 3)) * (1.0 / 255.0)
        # Squared weights: a clean match outweighs the faint similar words around it.
        wts = m * m
        wts = wts / wts.sum((2, 3), keepdim=True).clamp(min=1e-4)
        pooled = torch.einsum("bwhx,bchx->bwc", wts, f)
        return self.proj(torch.cat([pooled, strength[..., None]], -1)), strength


class WordSelect(nn.Module):
    """Which instruction word's match map each pointer (point, drag end) should look at.

    A word's key is its character features (averaged over the word) plus an embedding of
    its position among the content words; the query comes from the conditioning vector
    (instruction + action history), so "the 2nd word after one click" is easy to learn.
    A learned "none" key lets a step whose target is not a word (an empty field) pick nothing.
    """

    def __init__(self, text_dim: int, cond_dim: int, mix: bool = False) -> None:
        super().__init__()
        self.key = nn.Linear(text_dim, text_dim)
        self.pos = nn.Embedding(MAX_WORDS, text_dim)
        self.none = nn.Parameter(torch.zeros(1, 1, text_dim))
        self.query = nn.Linear(cond_dim, 2 * text_dim)
        # With glances: one attention layer among the words, so a key can depend on the
        # others' (the option group's label is the one to click while its value is not
        # shown yet). Zero output projection: starts as the keys without it.
        self.mix = nn.MultiheadAttention(text_dim, 4, batch_first=True) if mix else None
        if self.mix is not None:
            nn.init.zeros_(self.mix.out_proj.weight)
            nn.init.zeros_(self.mix.out_proj.bias)

    def forward(
        self,
        tok_feats: torch.Tensor,
        inside: torch.Tensor,
        cond: torch.Tensor,
        glance: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """tok_feats (B, L, D), inside (B, MAX_WORDS, L) (`word_membership`), glance
        (B, MAX_WORDS, D) (`TermGlance`, optional) -> logits (B, 2, MAX_WORDS + 1)."""
        b, _, d = tok_feats.shape
        count = inside.sum(-1, keepdim=True).clamp(min=1)
        feats = torch.einsum("bwl,bld->bwd", inside.to(tok_feats.dtype), tok_feats) / count
        words = self.key(feats) + self.pos.weight[None]
        if glance is not None:
            words = words + glance
        present = inside.any(-1)
        if self.mix is not None:
            # An instruction without content words would leave a query nothing to attend to.
            hide = ~present
            hide[:, 0] &= present.any(-1)
            mixed, _ = self.mix(words, words, words, key_padding_mask=hide, need_weights=False)
            words = words + mixed
        keys = torch.cat([words, self.none.expand(b, 1, d)], 1)
        valid = torch.cat([present, torch.ones_like(present[:, :1])], 1)
        logits = torch.einsum("bkd,bwd->bkw", self.query(cond).view(b, 2, d), keys) * d**-0.5
        return logits.masked_fill(~valid[:, None, :], torch.finfo(logits.dtype).min)


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
        self.string_head = nn.Linear(cfg.head_dim, cfg.num_strings)
        self.chord_head = nn.Linear(cfg.head_dim, cfg.num_chords)
        self.scroll_head = nn.Linear(cfg.head_dim, 2 * cfg.num_scroll)
        self.copy_head = nn.Linear(cfg.head_dim, 1)
        self.span_query = nn.Linear(cfg.head_dim, 2 * cfg.text_dim)
        self.span_keys = nn.Linear(cfg.text_dim, 2 * cfg.text_dim)

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
        (`text_match.word_span_array`); needed with ``word_select``, which adds
        ``select`` (B, 2, MAX_WORDS + 1) logits (with ``shown_only``, of the words that show)
        and ``word_maps`` (B, MAX_WORDS, H, W) to the outputs.
        """
        cfg = self.cfg
        tok_feats, text_vec, tok_mask = text if text is not None else self.text(tokens)
        hist = F.relu(self.history_proj(self.history(history).flatten(1)))
        cond = torch.cat([text_vec, hist], dim=1)

        x = images.permute(0, 3, 1, 2).float()  # normalized inside the stem
        extra: dict[str, torch.Tensor] = {}
        summary = [cond]
        if self.select is not None:
            if words is None:
                raise ValueError("word_select: pass words= (the instruction's word spans)")
            maps = x[:, 3:]
            inside = word_membership(words, tok_feats.shape[1])
            glance = strength = None
            if self.glance is not None:
                glance, strength = self.glance(x[:, :3], maps)
            logits = self.select(tok_feats, inside, cond, glance)
            probs = point_probs = torch.softmax(logits, -1)
            if cfg.shown_only and strength is not None:
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
            chosen = torch.einsum("bkw,bwhx->bkhx", point_probs[..., :-1], maps)
            # Smeared along the line, the words of a multi-word target ("Order Member")
            # add up where they stand together and outshine entries sharing one word.
            smear = F.avg_pool2d(
                chosen, (1, PHRASE_SMEAR), stride=1, padding=(0, PHRASE_SMEAR // 2)
            )
            parts = [x[:, :3], maps.amax(1, keepdim=True), chosen, 2.0 * smear]
            if cfg.row_band:
                parts.append(row_band(chosen))
            x = torch.cat(parts, 1)
            extra = {"select": logits, "word_maps": maps}
            summary.append(probs[..., -1])
            if strength is not None:
                # The words of a pair only count together: "Abbott" shown at "Kai Abbott"
                # says nothing of "Nadia Abbott", yet in 20 demonstrations the one showed
                # whenever the other did, and the net learnt to click on it.
                alone = strength.masked_fill(part_of_longer(words), 0.0)
                summary += [torch.einsum("bkw,bw->bk", probs[..., :-1], strength), alone]
        feats = []
        for stage in self.stages:
            x = stage(x, cond)
            feats.append(x)

        d = feats[3]
        for i in (2, 1, 0):
            d = self.decoder[i](d, feats[i], cond)
        point = self.point_head(d)

        top = feats[3]
        g = self.trunk(torch.cat([top.mean((2, 3)), top.amax((2, 3)), *summary], dim=1))
        q_start, q_end = self.span_query(g).chunk(2, dim=1)
        keys = self.span_keys(tok_feats)
        if self.span_word is not None:
            # Each token's word number; MAX_WORDS for a stop-word or space.
            with_none = torch.cat([inside, torch.ones_like(inside[:, :1])], 1)
            keys = keys + self.span_word(with_none.to(torch.uint8).argmax(1))
        k_start, k_end = keys.chunk(2, dim=2)
        scale = cfg.text_dim**-0.5
        neg = torch.finfo(tok_feats.dtype).min
        span_start = (torch.einsum("bld,bd->bl", k_start, q_start) * scale).masked_fill(
            ~tok_mask, neg
        )
        span_end = (torch.einsum("bld,bd->bl", k_end, q_end) * scale).masked_fill(~tok_mask, neg)
        return {
            "kind": self.kind_head(g),
            "heat": point[:, :2],
            "offset": torch.sigmoid(point[:, 2:]),
            "span_start": span_start,
            "span_end": span_end,
            "copy": self.copy_head(g).squeeze(1),
            "string": self.string_head(g),
            "chord": self.chord_head(g),
            "scroll": self.scroll_head(g).view(-1, 2, cfg.num_scroll),
            **extra,
        }


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
