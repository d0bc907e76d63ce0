"""Slack: the bolt app behind POST /slack/events, Block Kit rendering, and the Web API sink."""
