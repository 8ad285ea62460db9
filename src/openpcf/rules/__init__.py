"""Sector calculation rules as data, the checks that apply them to a product model, the
modelling choices they prescribe, and the comparison of one product under two methodologies."""
