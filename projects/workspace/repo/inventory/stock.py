"""Stock levels: what arrives, and what runs low."""


def restock(levels: dict[str, int], item: str, amount: int) -> dict[str, int]:
    """The levels after `amount` more of `item` arrived."""
    updated = dict(levels)
    updated[item] = amount
    return updated


def low_stock(levels: dict[str, int], threshold: int = 5) -> list[str]:
    """The items with fewer than `threshold` left, by name."""
    return sorted(item for item, count in levels.items() if count < threshold)
