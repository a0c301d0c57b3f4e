"""How request models declare amounts, totals, percentages and credit counts: the JSON type pydantic lets
through (a string, or a JSON integer where the README documents one) and the pattern and bounds the OpenAPI
document shows.

They are shown here, not enforced: the domain's one parser (``domain/money.py``) reads the value and refuses
anything else with the field's own code (``invalid_amount``, ``invalid_cart_total``, ``invalid_percentage``),
naming the field, rather than pydantic's ``validation_error``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt, StrictStr

from woo_backend.domain.credits import MAX_CREDITS
from woo_backend.domain.money import AMOUNT_PATTERN, COUNT_PATTERN
from woo_backend.domain.promo import MAX_CART_TOTAL, MAX_PERCENTAGE

DecimalString = Annotated[StrictStr, Field(json_schema_extra={"pattern": f"^{AMOUNT_PATTERN}$", "examples": ["12.50"]})]
WholeTotal = Annotated[StrictInt, Field(json_schema_extra={"minimum": 0, "maximum": int(MAX_CART_TOTAL)})]
WholePercentage = Annotated[StrictInt, Field(json_schema_extra={"minimum": 1, "maximum": int(MAX_PERCENTAGE)})]
# Credits: a positive whole number, as a JSON integer or its ASCII digits, or exactly "max" (Dotix's string).
CreditCount = Annotated[StrictInt, Field(json_schema_extra={"minimum": 1, "maximum": MAX_CREDITS})]
CreditCountString = Annotated[StrictStr, Field(json_schema_extra={"pattern": f"^({COUNT_PATTERN}|max)$"})]
