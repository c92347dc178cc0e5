"""What the generated shops sell and who buys: the products each merchant's catalog is drawn
from, the return reasons, the customers' names, and the merchant and customer as the story
(story.py) knows them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from returns_app.services import merchants as merchant_service

# (prefix, name, lowest, highest unit price in öre)
PRODUCTS = (
    ("TEE", "Organic T-shirt", 14900, 29900),
    ("JEANS", "Straight jeans", 59900, 119900),
    ("JKT", "Rain jacket", 99900, 249900),
    ("SOCK", "Wool socks", 6900, 14900),
    ("UW", "Cotton briefs, 3-pack", 12900, 19900),
    ("LAMP", "Table lamp", 49900, 149900),
    ("CUSH", "Linen cushion cover", 19900, 34900),
    ("MTM", "Made-to-measure curtain", 149900, 399900),
    ("HP", "Wireless headphones", 79900, 299900),
    ("KB", "Mechanical keyboard", 89900, 199900),
    ("SW", "Office software licence", 49900, 129900),
    ("GC", "Gift card", 20000, 100000),
)
REASONS = ("changed_mind", "too_small", "too_large", "not_as_described", "damaged",
           "wrong_item", "arrived_late")
FIRST_NAMES = ("Anna", "Erik", "Maja", "Lars", "Sofia", "Per", "Elin", "Oskar", "Karin",
               "Johan", "Emma", "Nils", "Sara", "Olof", "Ida", "Anders", "Linnea", "Gustav")
LAST_NAMES = ("Svensson", "Lind", "Ek", "Holm", "Nyberg", "Sandberg", "Strand", "Lund",
              "Berg", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson")


@dataclass
class Merchant:
    id: int
    slug: str
    instructions: dict  # services.merchants.instructions_by_id
    catalog: list[tuple[str, str, int, str | None]] = field(default_factory=list)


@dataclass
class Customer:
    id: int
    email: str
    name: str
    language: str
    bank_json: str | None  # linked bank account, as the provider destination
    bank_masked: str | None


def make_catalog(rng: random.Random, merchant: Merchant) -> None:
    for prefix, name, low, high in PRODUCTS:
        for variant in range(5):
            sku = f"{prefix}-{variant + 1:02d}"
            price = rng.randrange(low // 100, high // 100 + 1) * 100
            reason = merchant_service.non_returnable_reason(merchant.instructions, sku)
            merchant.catalog.append((sku, f"{name} {variant + 1}", price, reason))
