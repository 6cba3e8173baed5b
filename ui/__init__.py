"""Kivy screens that show the kiosk flows, the hall display and the window terminal."""
