"""Account API rules (the Reactive Account replacement), as plain functions over pydantic models and
WooCommerce's JSON: no AWS, no HTTP. Import each name from the module that owns it:

- ``params``: every action's parameters (request models).
- ``errors``: the account API's own errors.
- ``dates``: WooCommerce's GMT dates as UNIX timestamps, and the formats writes send.
- ``meta``: meta as answers show it and writes send it; confirming a write from WooCommerce's answer.
- ``shape``: the shape of every answer (orders, subscriptions, the customer).
- ``customer``: ownership of what a request names; the ``set_user_info`` update.
- ``subscriptions``: status requests (and what a cancel leads to), changeability, the next delivery date.
- ``exchange``: the intervals and products a subscription can switch to.
- ``shipping``: the shipping zone of an address, its priced delivery methods, the shipping-line change.
- ``mail``: the customer's message to the merchant and its hourly window.
"""
