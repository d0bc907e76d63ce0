"""DingTalk: the outgoing-robot callback, signing, markdown/actionCard rendering, the rate-limited robot sink."""
