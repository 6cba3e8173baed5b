"""Device layer: device objects with health state over the drivers, capability profiles, hall config."""
