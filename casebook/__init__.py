"""The casebook: who did what to which hit, when and why; the one owner of workflow state and of accounts."""

from casebook.accounts import Analyst, AuditEntry, hash_password, verify_password
from casebook.book import Casebook, DatedOutcome, Decision, Reopened, ReviewedBy
from casebook.schema import Delivery, JobRun, Recheck, ReportBatch, Review, SavedSearch

__all__ = [
    "Analyst",
    "AuditEntry",
    "Casebook",
    "DatedOutcome",
    "Decision",
    "Delivery",
    "JobRun",
    "Recheck",
    "Reopened",
    "ReportBatch",
    "Review",
    "ReviewedBy",
    "SavedSearch",
    "hash_password",
    "verify_password",
]
