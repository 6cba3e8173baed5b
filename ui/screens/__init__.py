"""One folder per screen: ``ui/screens/<name>/<name>.py`` beside ``<name>.kv`` (see ui/registry.py)."""
