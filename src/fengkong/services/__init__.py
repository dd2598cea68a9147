"""Use cases (ingest_events, decide_application, close_business_day, ...) and the demo loop."""
