"""Process plumbing shared by every Dockyard process: config, Redis, audit, metrics, logs."""
