"""The scheduler process: APScheduler fires due work as ordinary RQ jobs, one leader at a time."""
