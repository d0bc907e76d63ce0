"""Chat: the command grammar, the pipeline, the sinks and message rendering."""
