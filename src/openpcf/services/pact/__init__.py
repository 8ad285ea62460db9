"""The PACT host's use cases: access tokens, footprint queries, events, outbox, peers, pulls."""
