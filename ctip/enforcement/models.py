"""Models of the enforcement app."""
