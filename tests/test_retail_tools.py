"""The 16 retail tools and the copy-on-write database, on a tiny hand-built shop (numbers checked by hand)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiagents.tools.retail import TOOL_NAMES, RetailData, RetailTools
from aiagents.tools.retail.calculator import evaluate_arithmetic


def _address(zip_code: str) -> dict[str, str]:
    return {
        "address1": "1 Main St",
        "address2": "",
        "city": "Springfield",
        "country": "USA",
        "state": "IL",
        "zip": zip_code,
    }


def _item(item_id: str, product: str, name: str, price: float, color: str) -> dict[str, Any]:
    return {"name": name, "product_id": product, "item_id": item_id, "price": price, "options": {"color": color}}


SHIRT_BLUE = _item("i1", "p1", "T-Shirt", 10.0, "blue")
SHIRT_RED = _item("i2", "p1", "T-Shirt", 12.5, "red")
MUG_WHITE = _item("m1", "p2", "Mug", 5.0, "white")


def _order(order_id: str, user: str, status: str, items: list[dict[str, Any]], method: str) -> dict[str, Any]:
    total = round(sum(item["price"] for item in items), 2)
    return {
        "order_id": order_id,
        "user_id": user,
        "address": _address("10001"),
        "items": [dict(item, options=dict(item["options"])) for item in items],
        "fulfillments": [],
        "status": status,
        "payment_history": [{"transaction_type": "payment", "amount": total, "payment_method_id": method}],
    }


def shop() -> RetailData:
    """Two users, two products (one variant unavailable), seven orders."""
    products = {
        "p1": {
            "name": "T-Shirt",
            "product_id": "p1",
            "variants": {
                "i1": {"item_id": "i1", "options": {"color": "blue"}, "available": True, "price": 10.0},
                "i2": {"item_id": "i2", "options": {"color": "red"}, "available": True, "price": 12.5},
                "i3": {"item_id": "i3", "options": {"color": "green"}, "available": False, "price": 9.0},
            },
        },
        "p2": {
            "name": "Mug",
            "product_id": "p2",
            "variants": {
                "m1": {"item_id": "m1", "options": {"color": "white"}, "available": True, "price": 5.0},
                "m2": {"item_id": "m2", "options": {"color": "black"}, "available": True, "price": 7.25},
            },
        },
    }
    users = {
        "ann_1": {
            "name": {"first_name": "Ann", "last_name": "Lee"},
            "address": _address("10001"),
            "email": "ann@example.com",
            "payment_methods": {
                "credit_card_1": {"source": "credit_card", "brand": "visa", "last_four": "1111", "id": "credit_card_1"},
                "gift_card_1": {"source": "gift_card", "balance": 20, "id": "gift_card_1"},
                "paypal_1": {"source": "paypal", "id": "paypal_1"},
            },
            "orders": ["#W1", "#W2", "#W3", "#W4", "#W6"],
        },
        "bob_2": {
            "name": {"first_name": "Bob", "last_name": "Roy"},
            "address": _address("20002"),
            "email": "bob@example.com",
            "payment_methods": {
                "gift_card_2": {"source": "gift_card", "balance": 2.0, "id": "gift_card_2"},
                "paypal_2": {"source": "paypal", "id": "paypal_2"},
            },
            "orders": ["#W5", "#W7"],
        },
    }
    orders = {
        "#W1": _order("#W1", "ann_1", "pending", [SHIRT_BLUE, MUG_WHITE], "credit_card_1"),
        "#W2": _order("#W2", "ann_1", "delivered", [SHIRT_BLUE, SHIRT_BLUE, MUG_WHITE], "credit_card_1"),
        "#W3": _order("#W3", "ann_1", "processed", [MUG_WHITE], "paypal_1"),
        "#W4": _order("#W4", "ann_1", "pending", [SHIRT_BLUE, MUG_WHITE], "gift_card_1"),
        "#W5": _order("#W5", "bob_2", "pending", [MUG_WHITE], "paypal_2"),
        "#W6": _order("#W6", "ann_1", "pending", [SHIRT_BLUE, SHIRT_BLUE, SHIRT_RED], "paypal_1"),
        "#W7": _order("#W7", "bob_2", "delivered", [MUG_WHITE], "gift_card_2"),
    }
    return RetailData.from_tables({"users": users, "orders": orders, "products": products})


@pytest.fixture
def data() -> RetailData:
    return shop()


@pytest.fixture
def tools(data: RetailData) -> RetailTools:
    return RetailTools(data.fresh())


def _unchanged(tools: RetailTools, data: RetailData) -> bool:
    return tools.db.state_hash() == data.state_hash()


# ---- database ------------------------------------------------------------------------------------


def test_fresh_copies_are_independent_and_the_base_is_never_mutated(data: RetailData) -> None:
    before = data.state_hash()
    first, second = data.fresh(), data.fresh()
    first.orders.edit("#W1")["status"] = "cancelled"
    assert first.orders["#W1"]["status"] == "cancelled"
    assert second.orders["#W1"]["status"] == "pending"
    assert data.tables["orders"]["#W1"]["status"] == "pending"
    assert data.state_hash() == before == second.state_hash() != first.state_hash()
    assert first.differences(second) == ["orders/#W1"]
    assert first.to_dict()["orders"]["#W1"]["status"] == "cancelled"


def test_state_hash_depends_on_content_not_on_edit_history(data: RetailData) -> None:
    db = data.fresh()
    db.users.edit("bob_2")  # copied, not changed
    assert db.state_hash() == data.state_hash()
    assert db.differences(data.fresh()) == []
    card = db.users.edit("bob_2")["payment_methods"]["gift_card_2"]
    card["balance"] = 3.0
    changed = db.state_hash()
    card["balance"] = 2.0
    assert changed != db.state_hash() == data.state_hash()


def test_from_tables_names_a_missing_table() -> None:
    from aiagents.tools.retail import RetailDataError

    with pytest.raises(RetailDataError, match=r"missing table\(s\) \['products'\]"):
        RetailData.from_tables({"users": {}, "orders": {}}, source="mem")


# ---- read tools ------------------------------------------------------------------------------------


def test_calculate_rounds_to_two_decimals_and_refuses_non_arithmetic(tools: RetailTools) -> None:
    assert tools.calculate("(10 + 2.5) * 2") == "25.0"
    assert tools.calculate("2 / 3") == "0.67"
    assert tools.calculate("-4 + 1") == "-3.0"
    assert tools.calculate("1 / 0") == "Error: division by zero"
    assert tools.calculate("__import__('os')").startswith("Error: invalid characters")
    assert tools.calculate("2 ** 3").startswith("Error: only numbers")
    assert tools.calculate("(1 + ").startswith("Error: not a well-formed")
    assert evaluate_arithmetic("1093.34 - 100") == pytest.approx(993.34)


def test_find_user_by_email_is_case_insensitive(tools: RetailTools) -> None:
    assert tools.find_user_id_by_email("ANN@Example.com") == "ann_1"
    assert tools.find_user_id_by_email("nobody@example.com").startswith("Error:")


def test_find_user_by_name_and_zip(tools: RetailTools) -> None:
    assert tools.find_user_id_by_name_zip("ann", "LEE", "10001") == "ann_1"
    assert tools.find_user_id_by_name_zip("Ann", "Lee", "20002").startswith("Error:")


def test_get_details_return_the_records_as_json(tools: RetailTools, data: RetailData) -> None:
    assert json.loads(tools.get_order_details("#W3")) == data.tables["orders"]["#W3"]
    assert json.loads(tools.get_user_details("bob_2"))["orders"] == ["#W5", "#W7"]
    assert set(json.loads(tools.get_product_details("p1"))["variants"]) == {"i1", "i2", "i3"}
    assert "start with '#'" in tools.get_order_details("W3")
    assert tools.get_user_details("nobody").startswith("Error:")
    assert tools.get_product_details("i1").startswith("Error: product i1 not found")


def test_list_product_types_think_and_transfer(tools: RetailTools, data: RetailData) -> None:
    assert json.loads(tools.list_all_product_types()) == {"Mug": "p2", "T-Shirt": "p1"}
    assert tools.think("the user wants a refund") == ""
    assert tools.transfer_to_human_agents("wants a manager") == "Transfer successful"
    assert _unchanged(tools, data)


# ---- cancel ------------------------------------------------------------------------------------------


def test_cancel_refunds_a_card_payment_without_touching_balances(tools: RetailTools, data: RetailData) -> None:
    order = json.loads(tools.cancel_pending_order("#W1", "no longer needed"))
    assert order["status"] == "cancelled" and order["cancel_reason"] == "no longer needed"
    assert order["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": 15.0,
        "payment_method_id": "credit_card_1",
    }
    assert tools.db.users["ann_1"] == data.tables["users"]["ann_1"]
    assert tools.db.differences(data.fresh()) == ["orders/#W1"]


def test_cancel_refunds_a_gift_card_at_once(tools: RetailTools) -> None:
    tools.cancel_pending_order("#W4", "ordered by mistake")
    assert tools.db.users["ann_1"]["payment_methods"]["gift_card_1"]["balance"] == 35.0  # 20 + 15


def test_cancel_refuses_delivered_orders_and_other_reasons(tools: RetailTools, data: RetailData) -> None:
    assert "only a pending order can be cancelled" in tools.cancel_pending_order("#W2", "no longer needed")
    assert tools.cancel_pending_order("#W1", "changed my mind").startswith("Error: invalid reason")  # type: ignore[arg-type]
    assert tools.call("cancel_pending_order", {"order_id": "#W1", "reason": "changed my mind"}).startswith(
        "Error: invalid arguments for cancel_pending_order: reason"
    )
    assert tools.cancel_pending_order("#W9", "no longer needed").startswith("Error: order #W9 not found")
    assert _unchanged(tools, data)


def test_cancel_after_a_payment_change_refunds_only_the_new_method(tools: RetailTools) -> None:
    tools.modify_pending_order_payment("#W1", "gift_card_1")  # gift card 20 -> 5, card refunded 15
    order = json.loads(tools.cancel_pending_order("#W1", "no longer needed"))
    refunds = [p for p in order["payment_history"] if p["transaction_type"] == "refund"]
    assert refunds == [
        {"transaction_type": "refund", "amount": 15.0, "payment_method_id": "credit_card_1"},
        {"transaction_type": "refund", "amount": 15.0, "payment_method_id": "gift_card_1"},
    ]
    assert tools.db.users["ann_1"]["payment_methods"]["gift_card_1"]["balance"] == 20.0


# ---- pending order modifications ---------------------------------------------------------------------


def test_modify_items_charges_the_gift_card_and_swaps_the_variant(tools: RetailTools) -> None:
    order = json.loads(tools.modify_pending_order_items("#W1", ["i1"], ["i2"], "gift_card_1"))
    assert order["status"] == "pending (item modified)"
    assert order["items"][0] == {**SHIRT_RED, "options": {"color": "red"}}
    assert order["payment_history"][-1] == {
        "transaction_type": "payment",
        "amount": 2.5,
        "payment_method_id": "gift_card_1",
    }
    assert tools.db.users["ann_1"]["payment_methods"]["gift_card_1"]["balance"] == 17.5
    # Only once per order.
    assert "only a pending order can be modified" in tools.modify_pending_order_items(
        "#W1", ["m1"], ["m2"], "gift_card_1"
    )


def test_modify_items_refunds_a_cheaper_variant_and_handles_duplicates(tools: RetailTools) -> None:
    # W6 holds i1, i1, i2: swap both blue shirts for red (+5.0) and the red one for blue (-2.5) = +2.5.
    order = json.loads(tools.modify_pending_order_items("#W6", ["i1", "i2", "i1"], ["i2", "i1", "i2"], "paypal_1"))
    assert [item["item_id"] for item in order["items"]] == ["i2", "i2", "i1"]
    assert order["payment_history"][-1]["amount"] == 2.5
    other = RetailTools(tools.db.data.fresh())
    order = json.loads(other.modify_pending_order_items("#W6", ["i2"], ["i1"], "paypal_1"))
    assert order["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": 2.5,
        "payment_method_id": "paypal_1",
    }


def test_modify_items_keeps_an_item_swapped_for_itself(tools: RetailTools) -> None:
    # tau-bench's gold actions sometimes "swap" an item for itself; it stays, priced unchanged.
    order = json.loads(tools.modify_pending_order_items("#W1", ["i1", "m1"], ["i1", "m2"], "credit_card_1"))
    assert [item["item_id"] for item in order["items"]] == ["i1", "m2"]
    assert order["payment_history"][-1]["amount"] == 2.25


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("#W1", ["i1"], ["i3"], "gift_card_1"), "Error: new item i3 is not available"),
        (("#W1", ["i1"], ["m2"], "gift_card_1"), "Error: new item m2 is not a variant of i1's product p1"),
        (("#W1", ["i1", "i1"], ["i2", "i2"], "gift_card_1"), "Error: item i1 appears 2 time(s)"),
        (("#W1", ["i1"], ["i2", "m2"], "gift_card_1"), "Error: 1 item_ids but 2 new_item_ids"),
        (("#W1", ["i1"], ["i2"], "gift_card_2"), "Error: payment method gift_card_2 not found"),
        (("#W5", ["m1"], ["m2"], "gift_card_2"), "Error: insufficient gift card balance (2.0)"),
        (("#W3", ["m1"], ["m2"], "paypal_1"), "Error: order #W3 is 'processed'"),
    ],
)
def test_modify_items_errors(tools: RetailTools, data: RetailData, args: tuple[Any, ...], message: str) -> None:
    assert tools.modify_pending_order_items(*args).startswith(message)
    assert _unchanged(tools, data)


def test_modify_address_and_payment(tools: RetailTools, data: RetailData) -> None:
    order = json.loads(tools.modify_pending_order_address("#W1", "9 Elm St", "Apt 2", "Austin", "TX", "USA", "73301"))
    assert order["address"] == {
        "address1": "9 Elm St",
        "address2": "Apt 2",
        "city": "Austin",
        "state": "TX",
        "country": "USA",
        "zip": "73301",
    }
    assert tools.modify_pending_order_address("#W3", "x", "", "y", "z", "USA", "1").startswith("Error:")

    order = json.loads(tools.modify_pending_order_payment("#W1", "gift_card_1"))
    assert order["payment_history"][1:] == [
        {"transaction_type": "payment", "amount": 15.0, "payment_method_id": "gift_card_1"},
        {"transaction_type": "refund", "amount": 15.0, "payment_method_id": "credit_card_1"},
    ]
    assert tools.db.users["ann_1"]["payment_methods"]["gift_card_1"]["balance"] == 5.0


def test_modify_payment_refunds_an_old_gift_card_and_refuses_bad_requests(tools: RetailTools, data: RetailData) -> None:
    assert "already paid with credit_card_1" in tools.modify_pending_order_payment("#W1", "credit_card_1")
    assert "insufficient gift card balance (2.0)" in tools.modify_pending_order_payment("#W5", "gift_card_2")
    assert "not found among the user's payment methods" in tools.modify_pending_order_payment("#W1", "gift_card_2")
    assert _unchanged(tools, data)
    tools.modify_pending_order_payment("#W4", "paypal_1")  # paid 15 by gift card: refunded at once
    assert tools.db.users["ann_1"]["payment_methods"]["gift_card_1"]["balance"] == 35.0
    assert "exactly one payment" in tools.modify_pending_order_payment("#W4", "credit_card_1")


def test_modify_user_address(tools: RetailTools) -> None:
    user = json.loads(tools.modify_user_address("bob_2", "5 Oak Rd", "", "Reno", "NV", "USA", "89501"))
    assert user["address"]["city"] == "Reno" and tools.db.users["bob_2"]["address"]["zip"] == "89501"
    assert tools.modify_user_address("nobody", "a", "", "b", "c", "USA", "1").startswith("Error: user nobody")


# ---- delivered orders ----------------------------------------------------------------------------


def test_return_delivered_items(tools: RetailTools) -> None:
    order = json.loads(tools.return_delivered_order_items("#W2", ["m1", "i1"], "gift_card_1"))
    assert order["status"] == "return requested"
    assert order["return_items"] == ["i1", "m1"]
    assert order["return_payment_method_id"] == "gift_card_1"
    assert tools.db.users["ann_1"]["payment_methods"]["gift_card_1"]["balance"] == 20  # refunded later
    assert "only a delivered order can be returned" in tools.return_delivered_order_items(
        "#W2", ["i1"], "credit_card_1"
    )


def test_return_errors(tools: RetailTools, data: RetailData) -> None:
    assert "original payment method (credit_card_1) or a gift card" in tools.return_delivered_order_items(
        "#W2", ["i1"], "paypal_1"
    )
    assert "only a delivered order" in tools.return_delivered_order_items("#W1", ["i1"], "credit_card_1")
    assert "item i2 appears 1 time(s)" in tools.return_delivered_order_items("#W2", ["i2"], "credit_card_1")
    assert _unchanged(tools, data)


def test_exchange_delivered_items_records_the_price_difference(tools: RetailTools) -> None:
    order = json.loads(tools.exchange_delivered_order_items("#W2", ["i1", "i1"], ["i2", "i2"], "gift_card_1"))
    assert order["status"] == "exchange requested"
    assert order["exchange_items"] == ["i1", "i1"] and order["exchange_new_items"] == ["i2", "i2"]
    assert order["exchange_price_difference"] == 5.0
    assert order["exchange_payment_method_id"] == "gift_card_1"
    assert tools.db.users["ann_1"]["payment_methods"]["gift_card_1"]["balance"] == 20
    assert "only a delivered order can be exchanged" in tools.exchange_delivered_order_items(
        "#W2", ["m1"], ["m2"], "gift_card_1"
    )


def test_exchange_errors(tools: RetailTools, data: RetailData) -> None:
    assert "insufficient gift card balance (2.0) to pay the price difference of 2.25" in (
        tools.exchange_delivered_order_items("#W7", ["m1"], ["m2"], "gift_card_2")
    )
    assert "only a delivered order" in tools.exchange_delivered_order_items("#W1", ["i1"], ["i2"], "paypal_1")
    assert "not available" in tools.exchange_delivered_order_items("#W2", ["i1"], ["i3"], "paypal_1")
    assert _unchanged(tools, data)


def test_call_dispatches_by_name_and_reports_unknown_tools(tools: RetailTools) -> None:
    assert len(TOOL_NAMES) == 16
    assert tools.call("find_user_id_by_email", {"email": "bob@example.com"}) == "bob_2"
    assert tools.call("refund_everything", {}).startswith("Error: unknown tool 'refund_everything'")
    assert "email: Missing required argument" in tools.call("find_user_id_by_email", {})
