"""The analyst console (FastAPI): search, review queue, evidence, report batching; see webui.app."""
