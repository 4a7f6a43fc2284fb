"""Models of beds and scheduling, one module per part."""

from scheduling.models.appointments import Appointment, AppointmentSlot
from scheduling.models.beds import AdtEvent, BedBlock, BedCleaning, BedRequest, BedStay, Room
from scheduling.models.wards import Bed, Department, Specialty, Ward, WardAssignment, WardDailyCensus

__all__ = [
    "AdtEvent",
    "Appointment",
    "AppointmentSlot",
    "Bed",
    "BedBlock",
    "BedCleaning",
    "BedRequest",
    "BedStay",
    "Department",
    "Room",
    "Specialty",
    "Ward",
    "WardAssignment",
    "WardDailyCensus",
]
