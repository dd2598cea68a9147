"""Imports every command module so that each registers its command on :data:`fengkong.cli.main.app`."""

from fengkong.cli import (
    apr,  # noqa: F401
    audit,  # noqa: F401
    bureau,  # noqa: F401
    chain,  # noqa: F401
    db,  # noqa: F401
    decisions,  # noqa: F401
    demo,  # noqa: F401
    features,  # noqa: F401
    fraud,  # noqa: F401
    ingest,  # noqa: F401
    lines,  # noqa: F401
    models,  # noqa: F401
    prepay,  # noqa: F401
    privacy,  # noqa: F401
    scam,  # noqa: F401
    schedule,  # noqa: F401
    scorecard,  # noqa: F401
    serve,  # noqa: F401
    simulate,  # noqa: F401
    trade,  # noqa: F401
)
