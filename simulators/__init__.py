"""Device simulators speaking the devices' real wire protocols, and the hall traffic simulator."""
