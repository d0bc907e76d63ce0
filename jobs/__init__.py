"""RQ jobs: module-level functions taking plain data; each is safe to run again."""
