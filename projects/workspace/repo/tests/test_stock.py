from inventory.stock import low_stock, restock


def test_restock_adds_to_what_is_there() -> None:
    assert restock({"beans": 3}, "beans", 10) == {"beans": 13}


def test_restock_a_new_item() -> None:
    assert restock({}, "milk", 4) == {"milk": 4}


def test_low_stock() -> None:
    assert low_stock({"beans": 3, "milk": 12, "cups": 4}) == ["beans", "cups"]
