"""Account use cases: the action registry (``registry``), the service that dispatches to it and reads the
customer's own objects (``service``, which the handler imports), and the actions (``reads``, ``writes``)."""
