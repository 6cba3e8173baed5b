"""Kivy screens that show the kiosk flows, the hall display and the staff and manager consoles."""
