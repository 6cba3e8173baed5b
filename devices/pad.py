"""The evaluation pad (评价器) of a window as a device."""

from __future__ import annotations

from devices.factory import register_kind
from devices.halldev import HallFrameDeviceBase
from drivers.pad import Evaluation, PadDriver


class EvaluationPad(HallFrameDeviceBase):
    kind = "pad"
    driver_class = PadDriver

    def show_info(self, window: int, staff_no: str, staff_name: str) -> None:
        self.call("show_info", window, staff_no, staff_name)

    def request_evaluation(self, ticket: str, timeout_s: int = 60) -> None:
        self.call("request_evaluation", ticket, timeout_s)

    def poll(self, wait_s: float = 0.0) -> list[Evaluation]:
        events: list[Evaluation] = self.listen("poll", wait_s)
        return events


register_kind("pad", EvaluationPad)
