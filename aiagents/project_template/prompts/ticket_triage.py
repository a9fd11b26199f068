"""The output model of `ticket-triage.md` (its front matter names it as `ticket_triage:TicketTriage`)."""

from typing import Literal

from pydantic import BaseModel, Field


class TicketTriage(BaseModel):
    """Where a support message goes and how fast."""

    queue: Literal["billing", "shipping", "account", "other"] = Field(description="The team that handles it.")
    urgent: bool = Field(description="True when the customer is blocked now or was charged wrongly.")
    order_number: int | None = Field(default=None, description="The order the message is about, if any.")
