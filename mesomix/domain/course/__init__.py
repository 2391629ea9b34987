"""Courses of treatment, pure: a schedule of sessions and the limits that count across them.

A course is a series of sessions a few weeks apart for one indication (hair: weekly, then
spreading out; face and cellulite: 2–4 weeks apart). `schedule` says when each session falls
due and whether a booked date keeps its minimum gap; `limits` says whether one more session of
a substance keeps the limits a label sets across sessions (how many, how far apart, how much in
all or in a rolling period), naming the sessions counted. No I/O: the services hand in the
patient's history as it is read in one transaction.
"""

from mesomix.domain.course.care import Indication, Zone
from mesomix.domain.course.limits import CourseLimit, GivenSession, check_course
from mesomix.domain.course.schedule import (
    Block,
    CourseError,
    Gap,
    Schedule,
    Step,
    add_months,
)
from mesomix.domain.course.sessions import SessionLine, Standing, standing

__all__ = [
    "Block",
    "CourseError",
    "CourseLimit",
    "Gap",
    "GivenSession",
    "Indication",
    "Schedule",
    "SessionLine",
    "Standing",
    "Step",
    "Zone",
    "add_months",
    "check_course",
    "standing",
]
