"""Redis-held state shared by the web process and the workers: locks, recorded images, approvals."""
