"""Takedown reports for platform partners: batches built from confirmed hits, rendered in every registered report
format (formats.py), bundled with evidence, delivered through the outbox, and the workflow that ties them to the
casebook (workflow.py)."""
