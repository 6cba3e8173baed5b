"""The staff web console (docs/web.md): hall managers and clerks in a browser, a tablet at every window."""
