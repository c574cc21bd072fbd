"""Mail: the one package that owns queueing, templates and delivery.

The rest of auth_service only asks it to send: ``account_events`` puts a
message in the outbox inside the caller's transaction, ``outbox`` delivers
it through ``transport``, ``limits`` caps how often an address is mailed,
``link_tokens`` makes the single-use tokens the links carry.
"""
