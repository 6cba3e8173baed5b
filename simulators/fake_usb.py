"""A pure-Python pyusb backend (``usb.backend.IBackend``) that stands in for a USB receipt printer.

``usb.core.find(idVendor=..., backend=FakeUsbBackend(sim))`` finds one device with one printer-class
interface (class 7) and two bulk endpoints; bulk OUT bytes go to the printer simulator, bulk IN
reads return its replies (DLE EOT status bytes). pyusb, python-escpos and our driver run unmodified
on top of it: only the backend, the part that would talk to libusb, is replaced.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import usb.backend
import usb.core

from simulators.base import SimulatedDevice

EP_OUT, EP_IN = 0x01, 0x82
MAX_PACKET = 64


def _desc(**fields: Any) -> SimpleNamespace:
    return SimpleNamespace(extra_descriptors=[], **fields)


class FakeUsbBackend(usb.backend.IBackend):  # type: ignore[misc]  # pyusb has no type information
    def __init__(self, device: SimulatedDevice, vid: int = 0x0416, pid: int = 0x5011) -> None:
        self.sim = device
        self.vid, self.pid = vid, pid
        self.replies = bytearray()
        self.cond = threading.Condition()
        self.unplugged = False
        self.handle = object()

    # ----------------------------------------------------------------- descriptors
    def enumerate_devices(self) -> Any:
        return [] if self.unplugged else [self.handle]

    def get_device_descriptor(self, dev: Any) -> Any:
        return _desc(
            bLength=18,
            bDescriptorType=1,
            bcdUSB=0x0200,
            bDeviceClass=0,
            bDeviceSubClass=0,
            bDeviceProtocol=0,
            bMaxPacketSize0=64,
            idVendor=self.vid,
            idProduct=self.pid,
            bcdDevice=0x0100,
            iManufacturer=0,
            iProduct=0,
            iSerialNumber=0,
            bNumConfigurations=1,
            address=5,
            bus=1,
            port_number=1,
            port_numbers=(1,),
            speed=3,
        )

    def get_configuration_descriptor(self, dev: Any, config: Any) -> Any:
        if config != 0:
            raise IndexError(config)
        return _desc(
            bLength=9,
            bDescriptorType=2,
            wTotalLength=32,
            bNumInterfaces=1,
            bConfigurationValue=1,
            iConfiguration=0,
            bmAttributes=0xC0,
            bMaxPower=50,
        )

    def get_interface_descriptor(self, dev: Any, intf: Any, alt: Any, config: Any) -> Any:
        if intf != 0 or alt != 0:
            raise IndexError(intf)
        return _desc(
            bLength=9,
            bDescriptorType=4,
            bInterfaceNumber=0,
            bAlternateSetting=0,
            bNumEndpoints=2,
            bInterfaceClass=7,
            bInterfaceSubClass=1,
            bInterfaceProtocol=2,
            iInterface=0,
        )

    def get_endpoint_descriptor(self, dev: Any, ep: Any, intf: Any, alt: Any, config: Any) -> Any:
        if ep not in (0, 1):
            raise IndexError(ep)
        return _desc(
            bLength=7,
            bDescriptorType=5,
            bEndpointAddress=(EP_OUT, EP_IN)[ep],
            bmAttributes=2,
            wMaxPacketSize=MAX_PACKET,
            bInterval=0,
            bRefresh=0,
            bSynchAddress=0,
        )

    # ----------------------------------------------------------------- device handle
    def open_device(self, dev: Any) -> Any:
        self._check()
        return self.handle

    def close_device(self, dev_handle: Any) -> Any:
        pass

    def set_configuration(self, dev_handle: Any, config_value: Any) -> Any:
        self._check()

    def get_configuration(self, dev_handle: Any) -> Any:
        return 1

    def claim_interface(self, dev_handle: Any, intf: Any) -> Any:
        self._check()

    def release_interface(self, dev_handle: Any, intf: Any) -> Any:
        pass

    def is_kernel_driver_active(self, dev_handle: Any, intf: Any) -> Any:
        return False

    def reset_device(self, dev_handle: Any) -> Any:
        pass

    def clear_halt(self, dev_handle: Any, ep: Any) -> Any:
        pass

    # ----------------------------------------------------------------- transfers
    def _check(self) -> None:
        if self.unplugged:
            raise usb.core.USBError("No such device (it may have been disconnected)", errno=19)

    def bulk_write(self, dev_handle: Any, ep: Any, intf: Any, data: Any, timeout: Any) -> Any:
        self._check()
        chunk = bytes(data)
        replies = self.sim.feed(chunk)
        with self.cond:
            for r in replies:
                for _, part in self.sim.outgoing(r):
                    self.replies += part
            self.cond.notify_all()
        return len(chunk)

    def bulk_read(self, dev_handle: Any, ep: Any, intf: Any, buff: Any, timeout: Any) -> Any:
        self._check()
        with self.cond:
            if not self.replies and not self.cond.wait_for(lambda: bool(self.replies), (timeout or 1000) / 1000):
                raise usb.core.USBTimeoutError("Operation timed out", errno=110)
            n = min(len(buff), len(self.replies))
            for i in range(n):
                buff[i] = self.replies[i]
            del self.replies[:n]
            return n

    def ctrl_transfer(
        self, dev_handle: Any, bmRequestType: Any, bRequest: Any, wValue: Any, wIndex: Any, data: Any, timeout: Any
    ) -> Any:
        """Printer-class requests: GET_DEVICE_ID (IEEE 1284 ID string) and GET_PORT_STATUS (paper
        empty, selected, not error), from the simulator's state; other requests succeed empty."""
        self._check()
        if not bmRequestType & 0x80:  # host to device
            return len(data) if data is not None and not isinstance(data, int) else 0
        reply = b""
        if bmRequestType == 0xA1 and bRequest == 0:  # GET_DEVICE_ID
            model = getattr(self.sim, "model", "SIM-80")
            ident = f"MFG:HallKit;CMD:ESC/POS;MDL:{model};CLS:PRINTER;".encode("ascii", "replace")
            reply = len(ident + b"..").to_bytes(2, "big") + ident
        elif bmRequestType == 0xA1 and bRequest == 1:  # GET_PORT_STATUS
            paper_out = getattr(self.sim, "paper", "ok") == "out"
            fault = not getattr(self.sim, "can_print", True)
            reply = bytes([(0x20 if paper_out else 0) | 0x10 | (0 if fault else 0x08)])
        n = min(len(reply), len(data))
        for i in range(n):  # data is pyusb's array.array buffer
            data[i] = reply[i]
        return n
