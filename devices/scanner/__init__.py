"""The document camera (高拍仪): detection, perspective correction, auto-capture, sessions, decoding."""
