"""Word lists the practice tasks draw labels and text from, split into train / held-out.

Every list is cut in two by a stable hash of each word (about one word in five is
held out). Seeds below :data:`HELDOUT_SEED_START` draw only from the train part,
seeds at or above it only from the held-out part, so a policy evaluated on held-out
seeds is asked for labels and text it never saw in training demonstrations.
"""

from __future__ import annotations

import random
import zlib

HELDOUT_SEED_START = 1_000_000
"""Seeds >= this value use the held-out vocabulary."""

_HELDOUT_EVERY = 5

# Short capitalized words: button labels, checkbox labels, drag items and targets.
_LABELS = """
Save Open Close Print Share Export Import Upload Download Delete Archive Rename Copy Paste
Undo Redo Refresh Reload Search Filter Sort Merge Split Send Reply Forward Publish Preview
Submit Cancel Apply Reset Confirm Continue Finish Start Stop Pause Resume Skip Retry Accept
Decline Approve Reject Join Leave Follow Mute Pin Star Flag Tag Lock Unlock Hide Show Zoom
Crop Rotate Resize Scan Sync Backup Restore Install Update Launch Connect Attach Detach Insert
Append Clear Select Invert Group Ungroup Align Center Expand Collapse Browse Compare Review
Audit Verify Invite Assign Schedule Notify Remind Bookmark Subscribe Mark Move Duplicate Convert
Encrypt Compress Extract Validate Deploy Compile Debug Profile Measure Record Stream Capture
Anchor Apple Arrow Aspen Atlas Badge Bamboo Basil Beacon Birch Blossom Breeze Brook Cactus
Camel Canyon Cedar Cherry Cinder Clover Cobalt Comet Coral Cotton Crane Crystal Cypress Daisy
Delta Denim Dune Eagle Ember Falcon Fern Fig Flint Fossil Galaxy Garnet Ginger Glacier Granite
Harbor Hazel Heron Hickory Honey Indigo Iris Ivory Jade Jasmine Juniper Kestrel Kiwi Lagoon
Lark Laurel Lemon Lilac Lime Linen Lotus Magnet Mango Maple Marble Meadow Mercury Mint Mist
Monsoon Mosaic Nectar Nickel Nova Oak Oasis Ocean Olive Onyx Opal Orbit Orchid Otter Panda
Papaya Pebble Pepper Pine Pixel Plum Polar Poppy Prism Puffin Quartz Quill Radish Raven Reef
Ripple River Robin Ruby Saffron Sage Salmon Sapphire Satin Scarlet Sequoia Shadow Sierra Silver
Slate Sorrel Sparrow Spruce Summit Sunset Swan Tango Thistle Thunder Tidal Timber Topaz Tulip
Tundra Velvet Violet Walnut Willow Winter Zephyr Zinc Acorn Almond Amber Aurora Avocado Banjo
Barley Bison Blaze Bolt Bramble Bronze Buckle Button Cabin Candle Canvas Carrot Castle Cello
Chalk Cider Cliff Cloud Cocoa Copper Cricket Crown Cumin Dahlia Dingo Dolphin Dove Drum Echo
Elm Fable Feather Ferry Fjord Flame Fox Frost Gecko Geyser Glow Goose Grape Gravel Gull Hammer
Harp Hawk Heath Hive Husky Igloo Island Jasper Jelly Kayak Kettle Koala Ladder Lantern Lava
Leaf Lily Llama Lynx Mallow Meteor Moss Moth Nutmeg Oboe Orange Owl Oyster Paddle Parrot Peach
Pearl Pelican Pillow Planet Pony Pumpkin Quail Quince Rocket Rose Saddle Sail Sand Seal Shell
Spark Spice Spoon Squid Stone Storm Sugar Sun Tiger Toffee Torch Trout Turnip Valley Vanilla
Wave Whale Wheat Wind Wolf Yarrow Yak Zebra
"""

# Lowercase words for text the expert types ("orchid lantern").
_TEXT_WORDS = """
amber ancient arctic autumn azure bold brave bright brisk calm candid clever cosmic cozy crimson
curly dapper dawn distant dusty eager early electric emerald fancy fierce fluffy foggy frosty
gentle giant gilded golden grand happy hidden hollow humble icy jolly keen lively lofty lucky
lunar magic mellow merry misty modern mossy noble nimble northern odd olive orchid pale plucky
polished proud quiet rapid rosy royal rustic sandy secret shiny silent silky simple sleepy
smooth snowy solar spicy spring stormy sturdy sunny swift tidy tiny velvet vivid wandering warm
wild windy wise witty young zesty acorn anchor apple badger basket beacon biscuit blanket bottle
breeze bucket cabin candle canoe carpet castle cedar cherry cinnamon cloud clover comet cookie
copper cottage crayon cricket crystal dolphin dragon drum eagle ember falcon feather fern forest
fountain garden garnet glacier harbor hedgehog helmet hickory island jacket jelly kettle kitten
ladder lantern lemon lighthouse lizard magnet mango maple marble meadow mitten moon mountain
muffin nectar nutmeg oak ocean orbit otter owl paddle panda parrot peach pebble pepper pickle
pillow pine planet pocket pony puddle pumpkin quartz quill rabbit radish raven ribbon river
robin rocket saddle sailor sparrow spoon squirrel star stone sunflower teapot thimble thistle
tiger timber tortoise tulip turnip umbrella valley violin walnut whistle willow window wizard
yarn zebra
"""

# Form field labels.
_FIELDS = """
Name Nickname Username Email Phone Mobile City Town Country Region State Street Address Company
Employer Department Team Title Role Position Project Account Reference Invoice Order Ticket
Subject Topic Summary Comment Note Remark Message Keyword Tag Label Category Genre Brand Model
Product Item Color Size Material Flavor Pet Hobby Sport Language School Course Teacher Mentor
Manager Contact Partner Sponsor Client Customer Supplier Vendor Carrier Destination Origin
Venue Event Theme Slogan Motto Password Alias Codename Website Domain Server Folder Filename
Device Host Building Floor Room Desk Locker Vehicle Plate Route Station Airport Hotel Restaurant
Dish Drink Book Author Album Artist Song Movie Director Actor Character Planet Star Mission
Ship Crew Captain Guild Club League Season Award Prize Recipe Ingredient Garden Plant Tree Bird
"""

# People for long lists.
_FIRST_NAMES = """
Ada Alan Alba Alma Amir Ana Anders Anika Arjun Aria Arlo Astrid Aurelio Ayla Bea Bela Benedikt
Bianca Boris Bruno Caio Camila Carmen Cecil Celine Chiara Chloe Cleo Cyrus Dalia Dario Darius
Daya Delia Dmitri Dora Edgar Edith Elif Elio Elsa Emil Enzo Esme Ezra Farah Felix Fiona Flora
Frida Gaspar Gemma Gideon Gil Greta Gus Hana Hector Helga Hiro Hugo Ida Igor Ilse Imani Ines
Ingrid Isaac Ivan Jada Jalen Jana Jasper Joao Jonas Jude Juno Kai Kalani Kamal Karin Kenji
Kira Klaus Lara Lars Leila Lena Leon Lia Lionel Lola Luca Lucia Luis Luna Maia Malik Mara Marco
Mateo Maya Mei Milo Mira Moses Nadia Naomi Nico Nils Nina Noor Nora Olaf Olga Omar Oona Oren
Oscar Otto Pablo Paula Pia Priya Quinn Rafael Rania Ravi Rhea Rina Rosa Rumi Ruth Saanvi Sami
Sana Sasha Selma Sergio Silas Sofia Stellan Suki Sven Tara Teo Thea Tobias Uma Usha Valter Vera
Vida Viktor Wanda Wren Xavi Yara Yusuf Zara Zeno Zoe
"""

_LAST_NAMES = """
Abbott Acosta Adler Alvarez Andersen Aoki Arnaud Baker Banerjee Barros Becker Bell Bianchi
Bishop Blanco Bloom Brandt Brennan Byrne Calder Campos Carver Castro Chen Costa Dahl Dias Doyle
Duarte Dubois Eklund Engel Esposito Farrow Fischer Flores Foster Fuentes Gallo Garcia Gill
Grant Greco Gupta Haas Hale Hansen Hart Hayes Hoffman Holm Horvat Hughes Ibarra Iyer Jansen
Jensen Jovanovic Kane Kaur Keller Kim Klein Kowalski Kraus Lang Larsen Lee Lindqvist Lopes
Lund Maddox Marin Meyer Mendes Mills Molina Moreau Murphy Nagy Nakamura Navarro Nguyen Nilsson
Novak Okafor Olsen Ortega Osei Park Patel Pereira Petrov Popescu Quinn Ramos Reyes Richter Rossi
Russo Sato Schmidt Serrano Silva Singh Sousa Stone Suzuki Takahashi Tan Torres Tran Vance Varga
Vogel Wagner Walsh Weber Wolff Yamamoto Young Zhang Ziegler
"""

# Menu titles and menu actions for the workflow task ("Tools > New Contact...").
_MENU_TITLES = """
File Edit View Insert Format Tools Table Window Help Project Build Run Data Records Library
Account Team Admin Reports Archive Media Network Contacts Calendar Inbox Orders Stock Assets
Billing Support Settings Plugins Labs Studio
"""

_MENU_VERBS = """
New Add Create Edit Register Enroll Book Open Import Plan Log Draft File Submit Request Order
Schedule Invite Configure Define
"""

_MENU_NOUNS = """
Contact Customer Supplier Project Meeting Ticket Invoice Order Shipment Account Profile
Device Booking Event Task Campaign Course Member Vendor Report Note Asset Room Trip Claim
Payment Recipe Article Release Policy Lead Survey Volunteer Donation Reservation Warranty
"""

# Option values chosen with radio buttons or a combo box in the workflow dialog.
_OPTION_SETS = {
    "Priority": "Low Normal High Urgent Critical Minor Major Trivial",
    "Size": "Tiny Small Medium Large Huge Compact Regular Jumbo",
    "Speed": "Slow Steady Quick Rapid Instant Gradual Brisk Leisurely",
    "Plan": "Free Basic Standard Premium Team Business Enterprise Starter",
    "Mode": "Manual Automatic Hybrid Scheduled Silent Verbose Strict Relaxed",
    "Level": "Beginner Novice Intermediate Advanced Expert Master Junior Senior",
    "Visibility": "Private Public Shared Hidden Internal Restricted Unlisted Open",
    "Tier": "Bronze Silver Gold Platinum Diamond Copper Iron Titanium",
}


def _words(text: str) -> tuple[str, ...]:
    out: list[str] = []
    seen: set[str] = set()
    for w in text.split():
        if w not in seen:
            seen.add(w)
            out.append(w)
    return tuple(out)


def is_heldout_word(word: str) -> bool:
    """Whether ``word`` belongs to the held-out part of its list (stable across runs)."""
    return zlib.crc32(word.lower().encode()) % _HELDOUT_EVERY == 0


def is_heldout_seed(seed: int) -> bool:
    """Whether ``seed`` draws from the held-out vocabulary."""
    return seed >= HELDOUT_SEED_START


def _split(words: tuple[str, ...], heldout: bool) -> tuple[str, ...]:
    return tuple(w for w in words if is_heldout_word(w) == heldout)


LABELS = _words(_LABELS)
TEXT_WORDS = _words(_TEXT_WORDS)
FIELDS = _words(_FIELDS)
FIRST_NAMES = _words(_FIRST_NAMES)
LAST_NAMES = _words(_LAST_NAMES)
MENU_TITLES = _words(_MENU_TITLES)
MENU_VERBS = _words(_MENU_VERBS)
MENU_NOUNS = _words(_MENU_NOUNS)
OPTION_SETS = {k: _words(v) for k, v in _OPTION_SETS.items()}

LISTS: dict[str, tuple[str, ...]] = {
    "labels": LABELS,
    "text": TEXT_WORDS,
    "fields": FIELDS,
    "first_names": FIRST_NAMES,
    "last_names": LAST_NAMES,
    "menu_titles": MENU_TITLES,
    "menu_verbs": MENU_VERBS,
    "menu_nouns": MENU_NOUNS,
}


class Vocab:
    """Draws words for one seed from the train or the held-out part of each list.

    Args:
        rng: the task's seeded random generator.
        heldout: draw from the held-out part (True) or the train part (False).
    """

    def __init__(self, rng: random.Random, heldout: bool) -> None:
        self.rng = rng
        self.heldout = heldout

    def pool(self, kind: str) -> tuple[str, ...]:
        """The words of list ``kind`` (a key of :data:`LISTS`) in this split."""
        return _split(LISTS[kind], self.heldout)

    def sample(self, kind: str, k: int, exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """``k`` distinct words of list ``kind``, none in ``exclude`` (case-insensitive)."""
        lowered = {e.lower() for e in exclude}
        pool = [w for w in self.pool(kind) if w.lower() not in lowered]
        return self.rng.sample(pool, k)

    def phrase(self, words: int = 2) -> str:
        """A lowercase phrase of distinct text words, e.g. ``'orchid lantern'``."""
        return " ".join(self.sample("text", words))

    def people(self, k: int) -> list[str]:
        """``k`` distinct "First Last" names."""
        out: set[str] = set()
        firsts, lasts = self.pool("first_names"), self.pool("last_names")
        while len(out) < k:
            out.add(f"{self.rng.choice(firsts)} {self.rng.choice(lasts)}")
        return sorted(out)

    def options(self, k: int) -> tuple[str, str, list[str]]:
        """An option group, the value to ask for (from this split) and ``k`` values in all.

        Returns:
            ``(group, target, values)``; ``values`` holds ``target`` and ``k - 1`` other
            values of the group, shuffled. Only the asked-for value must be split: the
            groups are too small to hold out whole.
        """
        name = self.rng.choice(sorted(OPTION_SETS))
        target = self.rng.choice([v for v in OPTION_SETS[name] if is_heldout_word(v) == self.heldout])
        others = self.rng.sample([v for v in OPTION_SETS[name] if v != target], k - 1)
        values = [target, *others]
        self.rng.shuffle(values)
        return name, target, values
