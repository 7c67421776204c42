"""Consortium admin pages: institutions, coordinators, de-identified outcomes, audit trail (the
`admin` blueprint)."""
