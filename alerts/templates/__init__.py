"""HTML templates for alerts (a package so the template ships with a non-editable install)."""
