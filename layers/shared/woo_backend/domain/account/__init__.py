"""Account API rules (the Reactive Account replacement), as plain functions over pydantic models and
WooCommerce's JSON: no AWS, no HTTP, no answer shapes (those are ``woo_backend.api.account*``). Import each
name from the module that owns it:

- ``params``: every action's parameters (request models).
- ``errors``: the account API's own errors.
- ``dates``: reading WooCommerce's GMT dates, and the format date writes send.
- ``meta``: meta as writes send it; confirming a write from WooCommerce's answer.
- ``results``: what the actions find (a page, an order with its subscriptions, priced delivery), unshaped.
- ``orders``: which subscriptions an order started, renewed, resubscribed or switched.
- ``customer``: ownership of what a request names; the ``set_user_info`` update.
- ``subscriptions``: status requests (and what a cancel leads to), changeability, the next delivery date.
- ``exchange``: the intervals and products a subscription can switch to.
- ``shipping``: the shipping zone of an address, its priced delivery methods, the shipping-line change.
- ``mail``: the customer's message to the merchant and its hourly window.
"""
