"""pyserial URL handlers of HallKit (``serial.protocol_handler_packages``): ``sim://``."""
