"""Generate the `listing-from-photo` eval suite: small drawn "photos" with known content, and the dataset.

Each image is a simple drawing of the item (shapes) with a price tag written into the pixels (what a vision
model can read) and the same facts in the PNG's `Description` text chunk (what the offline baseline reads:
it cannot see pixels). The expected output is the product name (the title must contain it), the category
and the price.

    python evals/suites/make_listing_photos.py        # rewrites images/ and listing-from-photo.yaml
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, PngImagePlugin

HERE = Path(__file__).parent
IMAGES = HERE / "images"
DATASET = HERE / "listing-from-photo.yaml"
SIZE = (160, 120)
INK = (40, 40, 40)

Draw = Callable[[ImageDraw.ImageDraw], None]


def _bike(d: ImageDraw.ImageDraw) -> None:
    d.ellipse((20, 50, 60, 90), outline=INK, width=3)
    d.ellipse((95, 50, 135, 90), outline=INK, width=3)
    d.line((40, 70, 70, 45, 115, 70, 85, 70, 70, 45), fill=(200, 30, 30), width=3)
    d.line((70, 45, 65, 35, 80, 35), fill=INK, width=3)


def _headphones(d: ImageDraw.ImageDraw) -> None:
    d.arc((45, 20, 115, 90), 180, 360, fill=INK, width=5)
    d.rounded_rectangle((38, 55, 56, 90), 5, fill=(30, 30, 30))
    d.rounded_rectangle((104, 55, 122, 90), 5, fill=(30, 30, 30))


def _chair(d: ImageDraw.ImageDraw) -> None:
    brown = (120, 70, 30)
    d.rectangle((60, 20, 66, 95), fill=brown)
    d.rectangle((60, 60, 105, 66), fill=brown)
    d.rectangle((99, 60, 105, 95), fill=brown)
    d.rectangle((60, 20, 95, 28), fill=brown)


def _jacket(d: ImageDraw.ImageDraw) -> None:
    d.polygon([(55, 25), (105, 25), (125, 50), (115, 55), (105, 45), (105, 95), (55, 95), (55, 45), (45, 55),
               (35, 50)], fill=(30, 60, 140))  # fmt: skip
    d.line((80, 25, 80, 95), fill=(200, 200, 200), width=2)


def _books(d: ImageDraw.ImageDraw) -> None:
    for i, colour in enumerate([(150, 30, 30), (30, 110, 50), (40, 60, 150), (170, 130, 20), (90, 40, 120)]):
        d.rectangle((35 + i * 18, 25, 50 + i * 18, 95), fill=colour, outline=INK)


def _train(d: ImageDraw.ImageDraw) -> None:
    d.rectangle((30, 50, 80, 80), fill=(200, 40, 40))
    d.rectangle((80, 35, 120, 80), fill=(40, 120, 200))
    d.rectangle((40, 35, 50, 50), fill=INK)
    for x in (40, 65, 95, 112):
        d.ellipse((x - 8, 75, x + 8, 91), fill=INK)


def _mower(d: ImageDraw.ImageDraw) -> None:
    d.rounded_rectangle((40, 55, 110, 85), 8, fill=(40, 140, 60))
    d.line((105, 58, 135, 25), fill=INK, width=4)
    d.ellipse((40, 78, 58, 96), fill=INK)
    d.ellipse((92, 78, 110, 96), fill=INK)


def _lamp(d: ImageDraw.ImageDraw) -> None:
    d.polygon([(60, 25), (100, 25), (112, 50), (48, 50)], fill=(230, 200, 60))
    d.line((80, 50, 80, 88), fill=INK, width=4)
    d.rectangle((62, 88, 98, 95), fill=INK)


def _table(d: ImageDraw.ImageDraw) -> None:
    brown = (140, 90, 40)
    d.rectangle((25, 45, 135, 55), fill=brown)
    d.rectangle((32, 55, 40, 95), fill=brown)
    d.rectangle((120, 55, 128, 95), fill=brown)


def _phone(d: ImageDraw.ImageDraw) -> None:
    d.rounded_rectangle((60, 15, 100, 95), 6, fill=(20, 20, 20))
    d.rectangle((64, 22, 96, 85), fill=(90, 140, 200))
    d.line((66, 30, 94, 70), fill=(240, 240, 240), width=1)  # the crack


@dataclass(frozen=True)
class Item:
    case: str
    product: str
    """What the title must contain."""
    category: str
    price: int
    description: str
    """Embedded as the PNG `Description` (the seller's caption)."""
    draw: Draw


ITEMS = [
    Item("road-bike", "Road bike", "bikes", 350, "Road bike, 54 cm aluminium frame, like new. 350 EUR", _bike),
    Item("headphones", "Sony headphones", "electronics", 120,
         "Sony headphones, noise cancelling, electronics in very good shape, 120 EUR", _headphones),
    Item("oak-chair", "Oak chair", "furniture", 40, "Oak chair for the dining room, furniture, solid wood, 40 EUR",
         _chair),
    Item("winter-jacket", "Winter jacket", "clothing", 85, "Winter jacket, men's size L, worn twice. 85 EUR",
         _jacket),
    Item("book-box", "Harry Potter books", "books", 45, "Harry Potter books box set, 7 books, 45 EUR", _books),
    Item("toy-train", "Wooden toy train", "toys", 20, "Wooden toy train for kids, toys in good condition, 20 EUR",
         _train),
    Item("lawn-mower", "Electric lawn mower", "garden", 60, "Electric lawn mower, 32 cm, works fine, 60 EUR",
         _mower),
    Item("desk-lamp", "Desk lamp", "furniture", 15, "Desk lamp, yellow shade, working bulb, 15 EUR", _lamp),
    Item("dining-table", "Dining table", "furniture", 120, "Dining table in solid oak, 180x90 cm, 120 EUR", _table),
    Item("cracked-phone", "iPhone 11", "electronics", 40, "iPhone 11 64GB, screen cracked, for parts, 40 EUR",
         _phone),
]  # fmt: skip


def draw(item: Item) -> Image.Image:
    image = Image.new("RGB", SIZE, (245, 242, 235))
    d = ImageDraw.Draw(image)
    item.draw(d)
    d.rectangle((0, SIZE[1] - 18, SIZE[0], SIZE[1]), fill=(255, 255, 255))
    d.text((4, SIZE[1] - 15), f"{item.product} - {item.price} EUR", fill=INK)  # the price tag, in pixels
    return image


def write_image(item: Item, folder: Path = IMAGES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", item.description)
    path = folder / f"{item.case}.png"
    draw(item).save(path, format="PNG", pnginfo=info, optimize=True)
    return path


def dataset() -> dict[str, object]:
    return {
        "name": "listing-from-photo",
        "media": ["photo"],
        "cases": [
            {
                "name": item.case,
                "inputs": {"photo": f"images/{item.case}.png"},
                "expected_output": {"title": item.product, "category": item.category, "price": item.price},
                "tags": [item.category],
            }
            for item in ITEMS
        ],
    }


def main() -> None:
    for item in ITEMS:
        write_image(item)
    header = "# Generated by make_listing_photos.py (images/ too): edit the script, not this file.\n"
    DATASET.write_text(header + yaml.safe_dump(dataset(), sort_keys=False, allow_unicode=True, width=110))
    print(f"wrote {len(ITEMS)} images to {IMAGES} and {DATASET}")


if __name__ == "__main__":
    main()
