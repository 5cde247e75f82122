"""HTML templates for takedown reports (a package so the template ships with a non-editable install)."""
