"""fengkong (风控): big-data risk control and lending for lenders embedded in a lifestyle-services ecosystem.

The map of the packages and their import arrows is ``ARCHITECTURE.md``; ``tests/unit/test_architecture.py``
enforces the arrows.
"""

__version__ = "0.1.0"
