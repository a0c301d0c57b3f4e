"""The local runtime of ``make run``: embedded DynamoDB, upstream simulators and the HTTP API."""
