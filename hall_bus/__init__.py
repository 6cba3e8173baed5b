"""The MQTT hall bus: message contracts, topic layout, client, brokers and the hall controller."""
