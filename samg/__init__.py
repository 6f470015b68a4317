"""samg: visuomotor policies that survive visual shift, through Segment-Anything masks (SAM-G)."""

__version__ = "0.1.0"
