"""Limits, holds and exposure per party and household, in SQL; behaviour-triggered changes; early warnings."""
