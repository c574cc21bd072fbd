"""`make upgrade-test`: stacks made by older commits, upgraded in place to this checkout (README.md here)."""
