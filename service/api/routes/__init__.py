"""Route modules: one per noun."""
