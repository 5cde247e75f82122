"""Alerts for Qingyuan's own operators: rules over recent hits (surges, campaigns sharing a contact, near-duplicate
clusters, failed deliveries), their log, and the digest sent to the team."""
