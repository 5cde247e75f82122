"""What Qingyuan sends out: takedown reports to platform partners (`alerts.takedown`: build, render, evidence
bundle, delivery, the report workflow) and alerts to its own operators (`alerts.monitoring`: surge, campaign and
near-duplicate rules, delivery failures, and their digest)."""
