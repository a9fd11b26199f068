"""The 16 retail-shop tools, written from the tau-bench schemas' descriptions, over one `RetailDatabase`.

Each tool is a typed method of `RetailTools` whose docstring is its description (pydantic-ai reads the
``Args:`` section into the parameter descriptions). Tools never raise on a bad request: they return a
string starting with ``"Error:"`` that says what is wrong, so a model can correct itself, as tau-bench
does. Successful writes return the changed record as JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal, get_args

from aiagents.tools.retail.calculator import evaluate_arithmetic
from aiagents.tools.retail.database import RetailDatabase
from pydantic import ValidationError, validate_call

__all__ = ["CANCEL_REASONS", "READ_TOOLS", "TOOL_NAMES", "WRITE_TOOLS", "CancelReason", "RetailTools"]

CancelReason = Literal["no longer needed", "ordered by mistake"]
CANCEL_REASONS: tuple[str, ...] = get_args(CancelReason)
"""The only reasons a pending order may be cancelled for."""

READ_TOOLS: tuple[str, ...] = (
    "calculate",
    "find_user_id_by_email",
    "find_user_id_by_name_zip",
    "get_order_details",
    "get_product_details",
    "get_user_details",
    "list_all_product_types",
    "think",
    "transfer_to_human_agents",
)
"""Tools that never change the database."""
WRITE_TOOLS: tuple[str, ...] = (
    "cancel_pending_order",
    "exchange_delivered_order_items",
    "modify_pending_order_address",
    "modify_pending_order_items",
    "modify_pending_order_payment",
    "modify_user_address",
    "return_delivered_order_items",
)
"""Tools that change the database (the ones gold actions use)."""
TOOL_NAMES: tuple[str, ...] = tuple(sorted(READ_TOOLS + WRITE_TOOLS))
"""All 16 tool names, sorted."""


def _dump(record: Any) -> str:
    return json.dumps(record)


def _order_id_hint(order_id: str) -> str:
    return "" if order_id.startswith("#") else " (order ids start with '#', such as '#W0000000')"


class RetailTools:
    """The retail tools bound to one working database; `call` runs one by name (for replays)."""

    def __init__(self, db: RetailDatabase) -> None:
        self.db = db
        self._validated: dict[str, Callable[..., str]] = {}

    # ---- dispatch -------------------------------------------------------------------------------

    def functions(self) -> list[Callable[..., str]]:
        """The 16 bound tool methods, sorted by name (what the pydantic-ai toolset registers)."""
        return [getattr(self, name) for name in TOOL_NAMES]

    def call(self, name: str, arguments: dict[str, Any]) -> str:
        """Run tool ``name`` with ``arguments`` validated against its signature; errors come back as text."""
        if name not in TOOL_NAMES:
            return f"Error: unknown tool {name!r}; the tools are: {', '.join(TOOL_NAMES)}"
        fn = self._validated.get(name)
        if fn is None:
            fn = self._validated[name] = validate_call(getattr(self, name))
        try:
            return fn(**arguments)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
            return f"Error: invalid arguments for {name}: {problems}"

    # ---- helpers (return a record or an error string) --------------------------------------------

    def _pending_order(self, order_id: str, verb: str) -> dict[str, Any] | str:
        order = self.db.orders.get(order_id)
        if order is None:
            return f"Error: order {order_id} not found{_order_id_hint(order_id)}"
        if order["status"] != "pending":
            return f"Error: order {order_id} is {order['status']!r}; only a pending order can be {verb}"
        return order

    def _delivered_order(self, order_id: str, verb: str) -> dict[str, Any] | str:
        order = self.db.orders.get(order_id)
        if order is None:
            return f"Error: order {order_id} not found{_order_id_hint(order_id)}"
        if order["status"] != "delivered":
            return f"Error: order {order_id} is {order['status']!r}; only a delivered order can be {verb}"
        return order

    @staticmethod
    def _check_items_in_order(order: dict[str, Any], item_ids: list[str]) -> str | None:
        if not item_ids:
            return "Error: item_ids is empty; name at least one item of the order"
        have = Counter(item["item_id"] for item in order["items"])
        for item_id, wanted in Counter(item_ids).items():
            if wanted > have[item_id]:
                return (
                    f"Error: item {item_id} appears {wanted} time(s) in item_ids but {have[item_id]} time(s) "
                    f"in order {order['order_id']}"
                )
        return None

    def _user_payment_method(self, order: dict[str, Any], payment_method_id: str) -> dict[str, Any] | str:
        method = self.db.users[order["user_id"]]["payment_methods"].get(payment_method_id)
        if method is None:
            return f"Error: payment method {payment_method_id} not found among the user's payment methods"
        return method

    def _price_difference(
        self, order: dict[str, Any], item_ids: list[str], new_item_ids: list[str]
    ) -> tuple[float, list[dict[str, Any]]] | str:
        """New minus old total price and the new variants, after checking each swap is valid."""
        if len(item_ids) != len(new_item_ids):
            return (
                f"Error: {len(item_ids)} item_ids but {len(new_item_ids)} new_item_ids; "
                "each new item must pair with the item in the same position"
            )
        error = self._check_items_in_order(order, item_ids)
        if error:
            return error
        prices = {item["item_id"]: (item["product_id"], item["price"]) for item in order["items"]}
        diff, variants = 0.0, []
        for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
            product_id, old_price = prices[item_id]
            variant = self.db.products[product_id]["variants"].get(new_item_id)
            if variant is None:
                return f"Error: new item {new_item_id} is not a variant of {item_id}'s product {product_id}"
            if not variant["available"]:
                return f"Error: new item {new_item_id} is not available"
            diff += variant["price"] - old_price
            variants.append(variant)
        return round(diff, 2), variants

    # ---- read tools ----------------------------------------------------------------------------

    def calculate(self, expression: str) -> str:
        """Calculate the result of a mathematical expression, rounded to 2 decimals.

        Args:
            expression: The expression, such as '2 + 2': numbers, operators (+, -, *, /), parentheses, spaces.
        """
        try:
            return str(round(evaluate_arithmetic(expression), 2))
        except ValueError as e:
            return f"Error: {e}"

    def find_user_id_by_email(self, email: str) -> str:
        """Find a user id by email (case-insensitive); returns an error message if no user has it.

        Args:
            email: The email of the user, such as 'something@example.com'.
        """
        wanted = email.strip().lower()
        for user_id, user in self.db.users.items():
            if user["email"].lower() == wanted:
                return user_id
        return f"Error: no user with email {email!r}"

    def find_user_id_by_name_zip(self, first_name: str, last_name: str, zip: str) -> str:
        """Find a user id by first name, last name and zip code; returns an error message if not found.

        By default find the user by email; use this only if the user is not found by email or cannot
        remember it.

        Args:
            first_name: The first name of the customer, such as 'John'.
            last_name: The last name of the customer, such as 'Doe'.
            zip: The zip code of the customer, such as '12345'.
        """
        first, last, code = first_name.strip().lower(), last_name.strip().lower(), zip.strip()
        for user_id, user in self.db.users.items():
            name = user["name"]
            if (
                name["first_name"].lower() == first
                and name["last_name"].lower() == last
                and user["address"]["zip"] == code
            ):
                return user_id
        return f"Error: no user named {first_name} {last_name} with zip code {zip}"

    def get_order_details(self, order_id: str) -> str:
        """Get the status and details of an order (items, fulfillments, payments) as JSON.

        Args:
            order_id: The order id, such as '#W0000000'; note the '#' at the beginning.
        """
        order = self.db.orders.get(order_id)
        if order is None:
            return f"Error: order {order_id} not found{_order_id_hint(order_id)}"
        return _dump(order)

    def get_product_details(self, product_id: str) -> str:
        """Get the inventory details of a product: its variants (item ids), options, prices, availability.

        Args:
            product_id: The product id, such as '6086499569'; a product id is not an item id.
        """
        product = self.db.products.get(product_id)
        if product is None:
            return f"Error: product {product_id} not found (a product id is not an item id)"
        return _dump(product)

    def get_user_details(self, user_id: str) -> str:
        """Get the details of a user as JSON: name, address, email, payment methods and order ids.

        Args:
            user_id: The user id, such as 'sara_doe_496'.
        """
        user = self.db.users.get(user_id)
        if user is None:
            return f"Error: user {user_id} not found"
        return _dump(user)

    def list_all_product_types(self) -> str:
        """List the name and product id of every product type (50 in the store) as a JSON object.

        Each product type has several items (variants) with their own item ids and options.
        """
        names = {product["name"]: product_id for product_id, product in self.db.products.items()}
        return json.dumps(names, sort_keys=True)

    def think(self, thought: str) -> str:
        """Think about something: gets no new information and changes nothing; the thought is just logged.

        Use it when complex reasoning or some memory is needed.

        Args:
            thought: A thought to think about.
        """
        return ""

    def transfer_to_human_agents(self, summary: str) -> str:
        """Transfer the user to a human agent with a summary of the issue.

        Only transfer if the user explicitly asks for a human agent, or if the issue cannot be resolved
        with the available tools.

        Args:
            summary: A summary of the user's issue.
        """
        return "Transfer successful"

    # ---- write tools ---------------------------------------------------------------------------

    def cancel_pending_order(self, order_id: str, reason: CancelReason) -> str:
        """Cancel a pending order; processed or delivered orders cannot be cancelled.

        Explain the cancellation and get the user's explicit confirmation (yes/no) first. The order
        becomes 'cancelled' and what was paid is refunded to the original payment methods: at once to a
        gift card's balance, in 5-7 business days otherwise. Returns the order after the cancellation.

        Args:
            order_id: The order id, such as '#W0000000'; note the '#' at the beginning.
            reason: Why the order is cancelled: 'no longer needed' or 'ordered by mistake'.
        """
        if reason not in CANCEL_REASONS:
            return f"Error: invalid reason {reason!r}; it must be 'no longer needed' or 'ordered by mistake'"
        order = self._pending_order(order_id, "cancelled")
        if isinstance(order, str):
            return order
        # Refund the net amount paid with each method (payments minus earlier refunds), in payment order.
        net: dict[str, float] = {}
        for entry in order["payment_history"]:
            sign = 1 if entry["transaction_type"] == "payment" else -1
            net[entry["payment_method_id"]] = net.get(entry["payment_method_id"], 0.0) + sign * entry["amount"]
        order = self.db.orders.edit(order_id)
        user = None
        for method_id, amount in net.items():
            amount = round(amount, 2)
            if amount <= 0:
                continue
            order["payment_history"].append(
                {"transaction_type": "refund", "amount": amount, "payment_method_id": method_id}
            )
            if method_id.startswith("gift_card"):
                user = user or self.db.users.edit(order["user_id"])
                card = user["payment_methods"].get(method_id)
                if card is not None:
                    card["balance"] = round(card["balance"] + amount, 2)
        order["status"] = "cancelled"
        order["cancel_reason"] = reason
        return _dump(order)

    def exchange_delivered_order_items(
        self, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str
    ) -> str:
        """Exchange items of a delivered order for other items (variants) of the same products.

        A delivered order can be returned or exchanged only once. Explain the exchange and get the user's
        explicit confirmation (yes/no) first. The order becomes 'exchange requested'; the price difference
        is charged to or refunded to the given payment method.

        Args:
            order_id: The order id, such as '#W0000000'; note the '#' at the beginning.
            item_ids: The item ids to exchange, each such as '1008292230'; may repeat an item.
            new_item_ids: The item ids to exchange for, each of the same product as the item at its position.
            payment_method_id: The payment method paying or receiving the price difference, such as
                'gift_card_0000000' or 'credit_card_0000000' (see the user's or order's details).
        """
        order = self._delivered_order(order_id, "exchanged")
        if isinstance(order, str):
            return order
        priced = self._price_difference(order, item_ids, new_item_ids)
        if isinstance(priced, str):
            return priced
        diff, _ = priced
        method = self._user_payment_method(order, payment_method_id)
        if isinstance(method, str):
            return method
        if method["source"] == "gift_card" and method["balance"] < diff:
            return f"Error: insufficient gift card balance ({method['balance']}) to pay the price difference of {diff}"
        order = self.db.orders.edit(order_id)
        order["status"] = "exchange requested"
        order["exchange_items"] = sorted(item_ids)
        order["exchange_new_items"] = sorted(new_item_ids)
        order["exchange_payment_method_id"] = payment_method_id
        order["exchange_price_difference"] = diff
        return _dump(order)

    def modify_pending_order_address(
        self, order_id: str, address1: str, address2: str, city: str, state: str, country: str, zip: str
    ) -> str:
        """Change the shipping address of a pending order.

        Explain the change and get the user's explicit confirmation (yes/no) first. Returns the order.

        Args:
            order_id: The order id, such as '#W0000000'; note the '#' at the beginning.
            address1: The first line of the address, such as '123 Main St'.
            address2: The second line of the address, such as 'Apt 1' or ''.
            city: The city, such as 'San Francisco'.
            state: The state, such as 'CA'.
            country: The country, such as 'USA'.
            zip: The zip code, such as '12345'.
        """
        order = self._pending_order(order_id, "modified")
        if isinstance(order, str):
            return order
        order = self.db.orders.edit(order_id)
        order["address"] = {
            "address1": address1,
            "address2": address2,
            "city": city,
            "state": state,
            "country": country,
            "zip": zip,
        }
        return _dump(order)

    def modify_pending_order_items(
        self, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str
    ) -> str:
        """Swap items of a pending order for other items (variants) of the same products; only once per order.

        Explain the change and get the user's explicit confirmation (yes/no) first. The order becomes
        'pending (item modified)'; the price difference is charged to or refunded to the given payment
        method (a gift card's balance changes at once). Returns the order.

        Args:
            order_id: The order id, such as '#W0000000'; note the '#' at the beginning.
            item_ids: The item ids to modify, each such as '1008292230'; may repeat an item.
            new_item_ids: The item ids to modify to, each the same product as the item in the same position.
            payment_method_id: The payment method paying or receiving the price difference, such as
                'gift_card_0000000' or 'credit_card_0000000' (see the user's or order's details).
        """
        order = self._pending_order(order_id, "modified")
        if isinstance(order, str):
            return order
        priced = self._price_difference(order, item_ids, new_item_ids)
        if isinstance(priced, str):
            return priced
        diff, variants = priced
        method = self._user_payment_method(order, payment_method_id)
        if isinstance(method, str):
            return method
        if method["source"] == "gift_card" and method["balance"] < diff:
            balance = method["balance"]
            return f"Error: insufficient gift card balance ({balance}) to pay the new items ({diff} more)"
        order = self.db.orders.edit(order_id)
        order["payment_history"].append(
            {
                "transaction_type": "payment" if diff > 0 else "refund",
                "amount": abs(diff),
                "payment_method_id": payment_method_id,
            }
        )
        if method["source"] == "gift_card":
            card = self.db.users.edit(order["user_id"])["payment_methods"][payment_method_id]
            card["balance"] = round(card["balance"] - diff, 2)
        # Take each item from the positions not yet swapped, so a new id equal to an old one (tau-bench's
        # gold actions "exchange" an item for itself) is never swapped twice.
        free = list(range(len(order["items"])))
        for item_id, variant in zip(item_ids, variants, strict=True):
            index = next(i for i in free if order["items"][i]["item_id"] == item_id)
            free.remove(index)
            item = order["items"][index]
            item["item_id"] = variant["item_id"]
            item["price"] = variant["price"]
            item["options"] = variant["options"]
        order["status"] = "pending (item modified)"
        return _dump(order)

    def modify_pending_order_payment(self, order_id: str, payment_method_id: str) -> str:
        """Pay a pending order with another of the user's payment methods; the old one is refunded.

        Explain the change and get the user's explicit confirmation (yes/no) first. Returns the order.

        Args:
            order_id: The order id, such as '#W0000000'; note the '#' at the beginning.
            payment_method_id: The new payment method, such as 'gift_card_0000000' or
                'credit_card_0000000' (see the user's details).
        """
        order = self._pending_order(order_id, "modified")
        if isinstance(order, str):
            return order
        method = self._user_payment_method(order, payment_method_id)
        if isinstance(method, str):
            return method
        history = order["payment_history"]
        if len(history) != 1 or history[0]["transaction_type"] != "payment":
            return f"Error: order {order_id} should have exactly one payment to change its payment method"
        old_method_id, amount = history[0]["payment_method_id"], history[0]["amount"]
        if old_method_id == payment_method_id:
            return f"Error: the order is already paid with {payment_method_id}; choose a different method"
        if method["source"] == "gift_card" and method["balance"] < amount:
            return f"Error: insufficient gift card balance ({method['balance']}) to pay the order ({amount})"
        order = self.db.orders.edit(order_id)
        order["payment_history"].extend(
            [
                {"transaction_type": "payment", "amount": amount, "payment_method_id": payment_method_id},
                {"transaction_type": "refund", "amount": amount, "payment_method_id": old_method_id},
            ]
        )
        methods = self.db.users.edit(order["user_id"])["payment_methods"]
        if methods[payment_method_id]["source"] == "gift_card":
            methods[payment_method_id]["balance"] = round(methods[payment_method_id]["balance"] - amount, 2)
        old = methods.get(old_method_id)
        if old is not None and old["source"] == "gift_card":
            old["balance"] = round(old["balance"] + amount, 2)
        return _dump(order)

    def modify_user_address(
        self, user_id: str, address1: str, address2: str, city: str, state: str, country: str, zip: str
    ) -> str:
        """Change the default address of a user.

        Explain the change and get the user's explicit confirmation (yes/no) first. Returns the user.

        Args:
            user_id: The user id, such as 'sara_doe_496'.
            address1: The first line of the address, such as '123 Main St'.
            address2: The second line of the address, such as 'Apt 1' or ''.
            city: The city, such as 'San Francisco'.
            state: The state, such as 'CA'.
            country: The country, such as 'USA'.
            zip: The zip code, such as '12345'.
        """
        if user_id not in self.db.users:
            return f"Error: user {user_id} not found"
        user = self.db.users.edit(user_id)
        user["address"] = {
            "address1": address1,
            "address2": address2,
            "city": city,
            "state": state,
            "country": country,
            "zip": zip,
        }
        return _dump(user)

    def return_delivered_order_items(self, order_id: str, item_ids: list[str], payment_method_id: str) -> str:
        """Return some items of a delivered order; a delivered order can be returned or exchanged only once.

        Explain the return and get the user's explicit confirmation (yes/no) first. The order becomes
        'return requested' and the user gets an email on how and where to return the items. The refund
        goes to the original payment method or to one of the user's gift cards.

        Args:
            order_id: The order id, such as '#W0000000'; note the '#' at the beginning.
            item_ids: The item ids to return, each such as '1008292230'; may repeat an item.
            payment_method_id: The payment method receiving the refund: the order's original payment
                method or a gift card, such as 'gift_card_0000000' or 'credit_card_0000000'.
        """
        order = self._delivered_order(order_id, "returned")
        if isinstance(order, str):
            return order
        method = self._user_payment_method(order, payment_method_id)
        if isinstance(method, str):
            return method
        original = order["payment_history"][0]["payment_method_id"]
        if method["source"] != "gift_card" and payment_method_id != original:
            return (
                f"Error: the refund must go to the original payment method ({original}) or a gift card, "
                f"not {payment_method_id}"
            )
        error = self._check_items_in_order(order, item_ids)
        if error:
            return error
        order = self.db.orders.edit(order_id)
        order["status"] = "return requested"
        order["return_items"] = sorted(item_ids)
        order["return_payment_method_id"] = payment_method_id
        return _dump(order)
