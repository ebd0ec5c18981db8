"""Calibration against hub data: ABC-SMC (pyabc) on the hub's published panel."""

from bt_sim.calibration.config import CalibrationError, load_calibration
from bt_sim.calibration.hubdata import HubDataError, load_hub_data

__all__ = ["CalibrationError", "HubDataError", "load_calibration", "load_hub_data"]
