"""Running a hall in production: backups and restore of its stores, and the controller's monitoring
endpoint (Prometheus metrics and ``/healthz``). See docs/deploy.md."""
