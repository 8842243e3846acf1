"""Models of the plan app."""
