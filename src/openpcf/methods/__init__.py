"""Characterisation: the greenhouse gases OpenPCF tracks and the GWP sets that weigh them."""
