"""Shared code of the woo-backend Lambda functions.

Layout: ``settings`` (configuration read at cold start), ``observability`` (logger with secret masking,
metrics), ``api`` (the HTTP resolver every function uses and its error shape), ``http``
(the retrying upstream base client), ``woocommerce`` and ``topomer`` (upstream clients), ``auth``
(signatures and keys), ``store`` (DynamoDB adapters) and ``domain`` (pure rules, no AWS or HTTP).
"""
