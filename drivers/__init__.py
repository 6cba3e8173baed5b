"""Wire protocols: framers and codecs that turn bytes into frames, and transports opened from URLs."""
