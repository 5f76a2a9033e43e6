"""record package."""
