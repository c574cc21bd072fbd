"""Second factors: one module per way to prove who you are beyond a password.

Each factor keeps the same small set of parts: its settings, its enrolment
step, its login step and its storage. Recovery codes are a factor of their
own. Nothing here imports the route modules above it.
"""
