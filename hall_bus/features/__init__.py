"""The controller features, one folder each; ``hall_bus.features.catalogue`` lists them."""
