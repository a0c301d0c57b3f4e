"""Account use cases: the action registry (``registry``), the service that dispatches to it and reads the
customer's own objects (``service``, built by ``bootstrap.account``), the actions (``reads``, ``writes``), and
what they need of the world outside (``ports``). Actions return WooCommerce's JSON and domain results; the edge
(``woo_backend.api.account``) shapes the answers."""
