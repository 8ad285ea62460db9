"""Use cases: calculate a product, and the other things a user asks of OpenPCF."""
