"""Product models: the YAML files users write, their parameters, and their compilation."""
